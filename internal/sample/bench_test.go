package sample

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/policy"
	"github.com/eventwatch/eventwatch/internal/recordmetrics"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
)

// noopAuditor returns an empty result: it isolates the consumer's cost.
type noopAuditor struct{}

func (noopAuditor) Check(r *event.Record) event.Result { return event.Result{Size: len(r.Value)} }

// doneSink counts audited records.
type doneSink struct{ n atomic.Int64 }

func (d *doneSink) Observe(*event.Record, *event.Result) { d.n.Add(1) }

// waitAccounted waits until every one of n records is audited or dropped,
// and returns the peak live heap (bytes after a GC) seen meanwhile.
func waitAccounted(b *testing.B, s *Sampler, sink *doneSink, n int64) uint64 {
	b.Helper()
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var peak uint64
	dropped := s.m.dropped.WithLabelValues(DropQueueFull)
	deadline := time.After(10 * time.Minute)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for sink.n.Load()+int64(promtest.ToFloat64(dropped)) < n {
		select {
		case <-deadline:
			b.Fatalf("accounted for %d of %d records in 10 minutes", sink.n.Load(), n)
		case <-tick.C:
			metrics.Read(live)
			peak = max(peak, live[0].Value.Uint64())
		}
	}
	return peak
}

// benchTopic is the topic the benchmark cluster is seeded with.
const benchTopic = "huleedu.bench.essaylifecycle.essay"

// kfakeServerEnv makes the test binary serve a kfake cluster instead of
// running tests (see TestMain): the benchmark runs its broker in a child
// process so the RSS and CPU it reports are the sampler's own.
const kfakeServerEnv = "EVENTWATCH_SAMPLE_KFAKE_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(kfakeServerEnv) == "1" {
		os.Exit(serveKfake())
	}
	os.Exit(m.Run())
}

// serveKfake runs a 3-broker kfake cluster for the parent benchmark and
// stops when the parent closes stdin.
func serveKfake() int {
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(6, benchTopic))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	kfaketest.ServeForParent(c)
	return 0
}

// benchCluster starts the kfake child process and returns its seeds.
func benchCluster(b *testing.B) []string {
	b.Helper()
	addrs, _ := kfaketest.StartChild(b, kfakeServerEnv, "-test.run=^$")
	return addrs
}

// BenchmarkSampler measures end to end sampled and audited records per
// second: b.N HuleEdu events (lz4 batches, 6 partitions) are produced to a
// kfake cluster running in a child process, then a sampler starting at the earliest offset
// with an unlimited budget reads and counts all of them and audits as many
// as its workers keep up with (the rest are dropped, queue_full). The timer
// covers the group join, fetch, decompression, audit, metrics and sinks and
// stops when every record is audited or dropped. records/s is records read
// and counted per second, audited/s records through the engine and sinks.
// peak-rss-MB is the benchmark process (sampler, engine, test binary; the
// broker is in the child); rss-growth-MB is that peak above the resident
// size just before the sampler started; live-heap-growth-MB is the peak
// live heap (measured after each GC) above the live heap before it started.
// records/cpu-s divides by the CPU time of this process only.
func BenchmarkSampler(b *testing.B) {
	p, err := policy.LoadProfile("huleedu")
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		mk   func() Auditor
	}{
		{"audit=huleedu", func() Auditor {
			e, err := audit.NewEngine(audit.Options{Profile: p, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			return e
		}},
		{"audit=none", func() Auditor { return noopAuditor{} }},
	} {
		b.Run(bc.name, func(b *testing.B) { benchSampler(b, bc.mk()) })
	}
}

func benchSampler(b *testing.B, a Auditor) {
	seeds := benchCluster(b)
	bytesIn := produceBench(b, seeds, benchTopic, b.N)
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS()
	baseRSS := procStatusKB("VmRSS")
	baseLive := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(baseLive)

	cfg := testConfig()
	cfg.StartFrom = StartEarliest
	cfg.BudgetPerPartition = 1e9
	cfg.Workers = runtime.GOMAXPROCS(0)
	sink := &doneSink{}
	reg := prometheus.NewRegistry()
	counts := recordmetrics.NewCounters(reg, cfg.MaxSourceServices) // the daemon's first sink: the audit metrics
	s, err := New(cfg, []kgo.Opt{kgo.SeedBrokers(seeds...)}, a, []event.Sink{counts, sink},
		reg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	peakLive := waitAccounted(b, s, sink, int64(b.N))
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(sink.n.Load())/elapsed.Seconds(), "audited/s")
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "records/cpu-s")
	b.ReportMetric(float64(sink.n.Load())/cpu.Seconds(), "audited/cpu-s")
	b.ReportMetric(float64(bytesIn)/elapsed.Seconds()/(1<<20), "MB/s")
	b.ReportMetric(float64(procStatusKB("VmHWM"))/1024, "peak-rss-MB")
	b.ReportMetric(float64(procStatusKB("VmHWM")-baseRSS)/1024, "rss-growth-MB")
	b.ReportMetric(goMemoryMB(), "go-total-MB")
	b.ReportMetric((float64(peakLive)-float64(baseLive[0].Value.Uint64()))/(1<<20), "live-heap-growth-MB")
}

// produceBench writes n distinct HuleEdu events and returns their bytes.
// The producer is closed before returning, so its buffers are garbage.
func produceBench(b *testing.B, seeds []string, topic string, n int) int64 {
	b.Helper()
	pr, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ProducerBatchCompression(kgo.Lz4Compression()),
		kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	defer pr.Close()
	ctx := context.Background()
	var total int64
	var failed atomic.Value
	for i := range n {
		v := huleEvent(true)
		total += int64(len(v))
		pr.Produce(ctx, &kgo.Record{Topic: topic, Key: []byte(fmt.Sprintf("essay-%d", i%5000)), Value: v},
			func(_ *kgo.Record, err error) {
				if err != nil {
					failed.Store(err)
				}
			})
	}
	if err := pr.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	return total
}

// cpuTime is the CPU time (user + system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// goMemoryMB is the Go runtime's total mapped memory (runtime/metrics).
func goMemoryMB() float64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	return float64(s[0].Value.Uint64()) / (1 << 20)
}

// resetPeakRSS resets the kernel's VmHWM for this process (Linux).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// procStatusKB reads a kB field of /proc/self/status, 0 when unavailable.
func procStatusKB(field string) int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
