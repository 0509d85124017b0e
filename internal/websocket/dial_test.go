package websocket

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHandshakeTimeoutIsTheConnectTimeout: a server that accepts the
// connection and never answers the upgrade. The transport's
// response-header timeout is the same connect_timeout as the dial's own
// timer, and on a busy machine either may fire first; here the transport's
// fires first for sure. Either way the probe reports the connect timeout,
// not the transport's wording.
func TestHandshakeTimeoutIsTheConnectTimeout(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // silent: read nothing, answer nothing
		}
	}()
	mod := Module{ConnectTimeout: time.Minute, MaxMessageBytes: 1 << 20}
	d, err := newDialer("ws://"+ln.Addr().String()+"/ws", mod, newRedactor())
	if err != nil {
		t.Fatal(err)
	}
	d.client.Transport.(*http.Transport).ResponseHeaderTimeout = 100 * time.Millisecond // the transport's timer wins
	_, _, err = d.dial(context.Background(), "", nil)
	if err == nil || !strings.Contains(err.Error(), "connect_timeout") {
		t.Fatalf("dial of a silent server: %v, want the connect timeout", err)
	}
}
