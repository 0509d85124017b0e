package daemon

import (
	"bufio"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/eventwatch/eventwatch/internal/config"
	"github.com/eventwatch/eventwatch/internal/testutil/httpget"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// instance is one daemon running in the test process.
type instance struct {
	url    string
	cancel context.CancelFunc
	done   chan error
}

// testConfig returns a configuration for a daemon against seeds with fast
// intervals and its state in a temporary directory.
func testConfig(t *testing.T, seeds []string) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Kafka.Brokers = seeds
	cfg.Kafka.ProbeEvery = time.Second
	cfg.Sample.StartFrom = "earliest"
	cfg.Sample.MetadataRefresh = time.Second
	cfg.Sample.CommitInterval = 500 * time.Millisecond
	cfg.Lag.Interval = time.Second
	cfg.Leader.SessionTimeout = 6 * time.Second
	cfg.Store.FlushInterval = 500 * time.Millisecond
	cfg.Log.Level = "warn"
	return cfg
}

// kfakeConfig starts an in-process cluster built with opts (ended with the
// test) and returns it with testConfig for a daemon against it.
func kfakeConfig(t *testing.T, opts ...kfake.Opt) (*kfake.Cluster, *config.Config) {
	t.Helper()
	c := kfaketest.Cluster(t, opts...)
	return c, testConfig(t, c.ListenAddrs())
}

// start runs the daemon on a random port until the test ends.
func start(t *testing.T, cfg *config.Config, opts Options) *instance {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts.Listener = ln
	if opts.LogOutput == nil {
		opts.LogOutput = testWriter{t}
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{url: "http://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { in.done <- Run(ctx, cfg, opts) }()
	t.Cleanup(func() { _ = in.stop(t) })
	return in
}

// waitOK waits until the daemon answers path (e.g. "/readyz") with 200.
func (in *instance) waitOK(t *testing.T, path string) {
	t.Helper()
	wait.Within(t, 30*time.Second, path+" 200", func() bool { code, _ := httpget.Get(t, in.url+path); return code == 200 })
}

// stop cancels the daemon and returns Run's error (once).
func (in *instance) stop(t *testing.T) error {
	t.Helper()
	in.cancel()
	select {
	case err, ok := <-in.done:
		if ok {
			close(in.done)
			return err
		}
		return nil
	case <-time.After(60 * time.Second):
		t.Fatal("daemon did not stop within 60s")
		return nil
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// metric returns the sum of the samples of name whose label set contains
// every label in match (e.g. `rule="key.missing"`).
func metric(t testing.TB, base, name string, match ...string) float64 {
	t.Helper()
	_, body := httpget.Get(t, base+"/metrics")
	return sumMetric(body, name, match...)
}

func sumMetric(body, name string, match ...string) float64 {
	var sum float64
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, m := range match {
			ok = ok && strings.Contains(line, m)
		}
		if !ok {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}
