package daemon

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/eventwatch/eventwatch/internal/testutil/httpget"
)

// TestHTTPTimeouts: a client that sends half a request and stalls is cut
// off by the read timeouts, while the SSE stream outlives the server's
// write timeout; a week outside the supported years is a 400.
func TestHTTPTimeouts(t *testing.T) {
	_, cfg := kfakeConfig(t, kfake.SeedTopics(1, "huleedu.dev.timeouts.batch"))
	cfg.HTTP.ReadHeaderTimeout, cfg.HTTP.ReadTimeout = time.Second, time.Second
	cfg.HTTP.WriteTimeout, cfg.HTTP.IdleTimeout = time.Second, time.Second
	in := start(t, cfg, Options{})
	in.waitOK(t, "/readyz")
	addr := strings.TrimPrefix(in.url, "http://")

	slow, err := (&net.Dialer{}).DialContext(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if _, err := io.WriteString(slow, "GET /healthz HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	began := time.Now()
	_, err = io.ReadAll(slow) // the server closes (possibly after a 408)
	if took := time.Since(began); err != nil || took > 5*time.Second {
		t.Fatalf("stalled request: closed after %s (%v), want about the 1s read timeout", took, err)
	}

	stream, err := (&net.Dialer{}).DialContext(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	if _, err := io.WriteString(stream, "GET /api/v1/violations/stream HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(stream)
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %v %v", resp, err)
	}
	_ = stream.SetReadDeadline(time.Now().Add(3 * time.Second)) // three write timeouts
	buf := make([]byte, 4096)
	for {
		_, err := resp.Body.Read(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break // still open when the client gave up: the write timeout did not cut it
		}
		if err != nil {
			t.Fatalf("stream cut after the write timeout: %v", err)
		}
	}

	code, body := httpget.Get(t, in.url+"/api/v1/reports/weekly?week=9999-W52")
	if code != http.StatusBadRequest || !strings.Contains(body, "year must be between") {
		t.Fatalf("week 9999-W52: %d %q, want 400", code, body)
	}
}
