package daemon

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// TestSlowStreamClientDoesNotSlowSampling connects one stream client that
// reads and one that never reads (with a tiny receive buffer), produces
// many violating records, and checks that the stuck client is dropped and
// counted, the reading client still gets events, the daemon stops promptly
// with a client connected, and every record is checked.
func TestSlowStreamClientDoesNotSlowSampling(t *testing.T) {
	const topic, n = "huleedu.dev.stream.batch", 20000
	c, cfg := kfakeConfig(t, kfake.SeedTopics(3, topic))
	cl := kfaketest.Client(t, c)
	cfg.Sample.BudgetPerPartition = 1e6 // audit every record
	in := start(t, cfg, Options{})
	in.waitOK(t, "/readyz")

	stuck := stuckStreamClient(t, strings.TrimPrefix(in.url, "http://"))
	defer stuck.Close()
	live := readingStreamClient(t, strings.TrimPrefix(in.url, "http://"))
	defer live.Close()
	wait.Within(t, 10*time.Second, "two stream clients", func() bool {
		return metric(t, in.url, "eventwatch_violation_stream_clients") == 2
	})

	recs := make([]*kgo.Record, n)
	for i := range recs {
		// no event_id, a bad type name: several violations per record
		recs[i] = &kgo.Record{Topic: topic, Value: []byte(fmt.Sprintf(`{"event_type":"Bad%d","source_service":"s","data":{}}`, i%7))}
	}
	start := time.Now()
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	wait.Within(t, 60*time.Second, "all records checked", func() bool {
		return metric(t, in.url, "eventwatch_records_checked_total") >= n
	})
	t.Logf("%d records checked in %s with a stuck stream client", n, time.Since(start))
	wait.Within(t, 30*time.Second, "the stuck client dropped", func() bool {
		return metric(t, in.url, "eventwatch_violation_stream_dropped_clients_total") >= 1
	})
	if got := live.events(); got == 0 {
		t.Error("the reading client got no violation events")
	}
	stopped := time.Now()
	if err := in.stop(t); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(stopped); d > 15*time.Second {
		t.Errorf("shutdown took %s with a stream client connected", d)
	}
}

// stuckStreamClient opens the stream with a 4 KiB receive buffer and never
// reads from it.
func stuckStreamClient(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /api/v1/violations/stream HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	return conn
}

type streamReader struct {
	net.Conn
	n chan int
}

func (s *streamReader) events() int {
	s.Conn.Close()
	return <-s.n
}

// readingStreamClient opens the stream and counts "event: violation"
// lines until closed.
func readingStreamClient(t *testing.T, addr string) *streamReader {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /api/v1/violations/stream?rule=envelope.missing_field HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	s := &streamReader{Conn: conn, n: make(chan int, 1)}
	go func() {
		count := 0
		sc := bufio.NewScanner(conn)
		for sc.Scan() {
			if sc.Text() == "event: violation" {
				count++
			}
		}
		s.n <- count
	}()
	return s
}
