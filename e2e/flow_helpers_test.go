//go:build e2e

package e2e

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/sample"
	"github.com/eventwatch/eventwatch/internal/testutil/enginetest"
	"github.com/eventwatch/eventwatch/internal/testutil/realkafka"
	"github.com/eventwatch/eventwatch/internal/trace"
)

// The helpers the flow tests (trace_test.go: one traced kafkajs flow;
// estate_test.go: a whole estate of relays) share: topics, eventwatch's
// sampler feeding a stitcher, and the Node relays.

// flowCreateTopic creates topic with parts partitions (replication 1).
func flowCreateTopic(ctx context.Context, t *testing.T, b *realkafka.Broker, topic string, parts int32) {
	t.Helper()
	resp, err := kadm.NewClient(b.Client(t)).CreateTopics(ctx, parts, 1, nil, topic)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// flowRunSampler runs eventwatch's real sampler and audit engine (huleedu
// profile) with the stitcher st as its sink, until the test ends. wire, if
// not nil, sees the sampler before it runs.
func flowRunSampler(ctx context.Context, t *testing.T, cfg sample.Config, base []kgo.Opt, st *trace.Stitcher, reg *prometheus.Registry,
	log *slog.Logger, wire func(*sample.Sampler)) {
	t.Helper()
	engine := enginetest.Engine(t, "huleedu", audit.Options{Logger: log})
	cfg.SetDefaults()
	sm, err := sample.New(cfg, base, engine, []event.Sink{st}, reg, log)
	if err != nil {
		t.Fatalf("sample.New: %v", err)
	}
	if wire != nil {
		wire(sm)
	}
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, run := range []func(context.Context) error{sm.Run, st.Run} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(runCtx); err != nil {
				t.Errorf("run: %v", err)
			}
		}()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// flowStartRelay starts `node --require ./tracing.js relay.js` in dir with
// env added to the environment, and stops it (SIGTERM, which flushes its
// spans) when the test ends; its output is logged if the test failed.
func flowStartRelay(ctx context.Context, t *testing.T, dir, service string, env []string) *trSafeBuffer {
	t.Helper()
	cmd := exec.CommandContext(ctx, "node", "--require", "./tracing.js", "relay.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out := &trSafeBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 15 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start relay %s: %v", service, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("relay %s output:\n%s", service, out.String())
		}
	})
	return out
}
