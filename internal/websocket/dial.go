package websocket

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/coder/websocket"
)

// dialer opens the connections of one target's probe.
type dialer struct {
	url    string
	mod    Module
	client *http.Client
	red    *redactor
}

func newDialer(rawURL string, mod Module, red *redactor) (*dialer, error) {
	tc, err := mod.tlsConfig()
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{TLSClientConfig: tc, Proxy: nil, DisableKeepAlives: true, ForceAttemptHTTP2: false,
		TLSHandshakeTimeout: mod.ConnectTimeout, ResponseHeaderTimeout: mod.ConnectTimeout}
	client := &http.Client{Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &dialer{url: rawURL, mod: mod, client: client, red: red}, nil
}

// dial performs one upgrade with token (none when empty) within the
// module's connect_timeout. The connection outlives the timeout: ctx (the
// probe's) bounds it. onPing, when set, sees every ping frame. A refused
// upgrade returns the HTTP status the server answered with (0 when none).
func (d *dialer) dial(ctx context.Context, token string, onPing func()) (*websocket.Conn, int, error) {
	u, h, err := d.request(token)
	if err != nil {
		return nil, 0, err
	}
	dctx, cancel := context.WithCancel(ctx)
	timer := time.AfterFunc(d.mod.ConnectTimeout, cancel)
	opts := &websocket.DialOptions{HTTPClient: d.client, HTTPHeader: h}
	if onPing != nil {
		opts.OnPingReceived = func(context.Context, []byte) bool { onPing(); return true }
	}
	conn, resp, err := websocket.Dial(dctx, u, opts)
	status := 0
	if resp != nil {
		status = resp.StatusCode
		if resp.Body != nil { // at most 1 KiB of a refused upgrade's body is left
			_ = resp.Body.Close()
		}
	}
	stopped := timer.Stop()
	if err != nil {
		cancel()
		// The transport's own TLS and response-header timeouts are the same
		// connect_timeout, and either timer may fire first on a busy
		// machine: a timeout of the handshake is the connect timeout.
		if ctx.Err() == nil && (!stopped || isTimeout(err)) {
			return nil, status, fmt.Errorf("no WebSocket upgrade within connect_timeout %s", d.mod.ConnectTimeout)
		}
		return nil, status, errors.New(d.red.clean(err.Error()))
	}
	if !stopped {
		_ = conn.CloseNow()
		cancel()
		return nil, 0, fmt.Errorf("no WebSocket upgrade within connect_timeout %s", d.mod.ConnectTimeout)
	}
	context.AfterFunc(ctx, cancel) // release dctx with the probe
	conn.SetReadLimit(d.mod.MaxMessageBytes)
	return conn, status, nil
}

// request returns the URL and headers of an upgrade carrying token.
func (d *dialer) request(token string) (string, http.Header, error) {
	h := http.Header{"User-Agent": {"eventwatch-websocket-prober"}}
	if token == "" {
		return d.url, h, nil
	}
	if d.mod.TokenIn == TokenInQuery {
		u, err := url.Parse(d.url)
		if err != nil {
			return "", nil, fmt.Errorf("parse url: %w", err)
		}
		q := u.Query()
		q.Set(d.mod.TokenParam, token)
		u.RawQuery = q.Encode()
		return u.String(), h, nil
	}
	h.Set("Authorization", "Bearer "+token)
	return d.url, h, nil
}

// isTimeout reports whether err (as the dial wraps it) is a network
// timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
