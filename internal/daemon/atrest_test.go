package daemon

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"runtime/trace"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventwatch/eventwatch/internal/testutil/httpget"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
)

// atRestEnv runs TestRequestsAtRest; atRestTraceEnv names a file for an
// execution trace of its counted minute.
const (
	atRestEnv      = "EVENTWATCH_AT_REST"
	atRestTraceEnv = "EVENTWATCH_AT_REST_TRACE"
)

// TestRequestsAtRest is not a test but a count: with $EVENTWATCH_AT_REST
// set it runs a daemon with the default configuration against an
// in-process kfake cluster with no topics of its own, lets it settle for a
// minute, then counts every Kafka request it sends in the next minute, by
// kind (fetches with their wait and topic, produce requests, heartbeats by
// group), and what the share board published meanwhile. What an idle
// daemon asks Kafka for, and how often, is most of what it costs at rest
// (docs/performance/lag.md, "requests at rest"). With
// $EVENTWATCH_AT_REST_TRACE naming a file, it also writes an execution
// trace of the counted minute there: every goroutine's wake-up and run,
// the daemon's and the in-process broker's (its goroutines start in kfake).
func TestRequestsAtRest(t *testing.T) {
	if os.Getenv(atRestEnv) == "" {
		t.Skip("a count, not a test: set " + atRestEnv + "=1")
	}
	c := kfaketest.Cluster(t)
	var mu sync.Mutex
	counts := map[string]int{}
	counting := false
	for k := range int16(kmsg.MaxKey + 1) {
		c.ControlKey(k, func(req kmsg.Request) (kmsg.Response, error, bool) {
			c.KeepControl()
			mu.Lock()
			if counting {
				counts[requestName(req)]++
			}
			mu.Unlock()
			return nil, nil, false
		})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, benchDaemonConfig(t.TempDir(), c.ListenAddrs(), ""), Options{Listener: ln, LogOutput: io.Discard})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	url := "http://" + ln.Addr().String()
	<-time.After(time.Minute)
	before := sharePublished(t, url)
	mu.Lock()
	counting = true
	mu.Unlock()
	stopTrace := startTrace(t, os.Getenv(atRestTraceEnv))
	<-time.After(time.Minute)
	stopTrace()
	mu.Lock()
	counting = false
	total := 0
	for _, name := range slices.SortedFunc(maps.Keys(counts), func(a, b string) int { return counts[b] - counts[a] }) {
		t.Logf("%5d a minute  %s", counts[name], name)
		total += counts[name]
	}
	mu.Unlock()
	t.Logf("%5d a minute  in all", total)
	after := sharePublished(t, url)
	for _, kind := range slices.Sorted(maps.Keys(after)) {
		t.Logf("share: %s published %v records in the minute", kind, after[kind]-before[kind])
	}
}

// startTrace starts an execution trace into file (nothing when file is
// empty); the returned function stops it.
func startTrace(t *testing.T, file string) func() {
	if file == "" {
		return func() {}
	}
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := trace.Start(f); err != nil {
		t.Fatal(err)
	}
	return func() {
		trace.Stop()
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	}
}

// requestName is a request's kind, with what tells apart its sources:
// a fetch's wait, topics and session, a produce's topics, a heartbeat's
// group.
func requestName(req kmsg.Request) string {
	name := kmsg.NameForKey(req.Key())
	switch r := req.(type) {
	case *kmsg.FetchRequest:
		name += fmt.Sprintf(" wait=%dms topics=%d", r.MaxWaitMillis, len(r.Topics))
		if len(r.Topics) > 0 {
			name += fmt.Sprintf(" (first: %q, %d partitions)", r.Topics[0].Topic, len(r.Topics[0].Partitions))
		} else {
			name += " (an incremental fetch of an unchanged session)"
		}
	case *kmsg.ProduceRequest:
		for _, tp := range r.Topics {
			name += " " + tp.Topic
		}
	case *kmsg.HeartbeatRequest:
		name += " " + r.Group
	case *kmsg.MetadataRequest:
		name += fmt.Sprintf(" topics=%d", len(r.Topics))
	}
	return name
}

// sharePublished is eventwatch_share_published_records_total by kind.
func sharePublished(t *testing.T, url string) map[string]float64 {
	t.Helper()
	_, body := httpget.Get(t, url+"/metrics")
	out := map[string]float64{}
	for _, line := range strings.Split(body, "\n") {
		var kind string
		var v float64
		if strings.HasPrefix(line, "eventwatch_share_published_records_total{") {
			if _, err := fmt.Sscanf(strings.ReplaceAll(line, `"`, " "), "eventwatch_share_published_records_total{kind= %s } %g", &kind, &v); err == nil {
				out[kind] = v
			}
		}
	}
	return out
}
