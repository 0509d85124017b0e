package lag_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
)

const benchServerEnv = "EVENTWATCH_LAG_BENCH_SERVER"

// TestBenchKfakeServer is not a test: BenchmarkIssueShape runs the test
// binary again with this test selected and benchServerEnv set, so the kfake
// cluster and its 500,000 commits live in another process and the
// benchmark's RSS is the collector's alone. It prints "ADDRS a,b,c" once
// the estate is built and serves until its standard input closes.
func TestBenchKfakeServer(t *testing.T) {
	if os.Getenv(benchServerEnv) == "" {
		t.Skip("helper process for BenchmarkIssueShape")
	}
	c := kfaketest.Cluster(t)
	cl := kfaketest.Client(t, c, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := issueShape.build(ctx, cl); err != nil {
		t.Fatal(err)
	}
	kfaketest.ServeForParent(c)
}

// BenchmarkIssueShape measures one collection cycle and one scrape on the
// estate of issue 9 (3 brokers, 200 topics × 50 partitions, 500 member-less
// groups × 20 topics = 500,000 group partitions), checks every group's lag,
// and reports the cycle and scrape times and the process's peak RSS (the
// kfake cluster runs in a child process). Run it with
//
//	go test -run '^$' -bench IssueShape -benchtime 5x ./internal/lag/
func BenchmarkIssueShape(b *testing.B) { benchIssueShape(b, lag.GranularityTopic) }

// BenchmarkIssueShapePartitions is BenchmarkIssueShape with granularity
// partition: 1,000,000 more series per scrape and partition detail in every
// snapshot.
func BenchmarkIssueShapePartitions(b *testing.B) { benchIssueShape(b, lag.GranularityPartition) }

func benchIssueShape(b *testing.B, granularity string) {
	addrs, serverPID := kfaketest.StartChild(b, benchServerEnv, "-test.run=^TestBenchKfakeServer$", "-test.bench=^$", "-test.timeout=30m")
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.Close)
	reg := prometheus.NewRegistry()
	c, err := lag.New(lag.Config{Interval: time.Minute, Granularity: granularity}, kadm.NewClient(cl), lag.Expectations{}, reg, benchLogger())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	runtime.GC()
	resetPeakRSS()
	first := time.Now()
	if err := c.CollectOnce(ctx); err != nil { // first cycle also seeds the offset tables
		b.Fatal(err)
	}
	firstCycle := time.Since(first)
	var cycle, scrape time.Duration
	cpu0, server0 := cpuTime(os.Getpid()), cpuTime(serverPID)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if err := c.CollectOnce(ctx); err != nil {
			b.Fatal(err)
		}
		cycle += time.Since(start)
		start = time.Now()
		mfs, err := reg.Gather()
		if err != nil || len(mfs) == 0 {
			b.Fatalf("gather: %d families, %v", len(mfs), err)
		}
		scrape += time.Since(start)
	}
	b.StopTimer()
	cpu, server := cpuTime(os.Getpid())-cpu0, cpuTime(serverPID)-server0
	if err := issueShape.verify(c.Snapshot()); err != nil {
		b.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(cycle.Seconds()/float64(b.N), "cycle-s")
	b.ReportMetric(scrape.Seconds()/float64(b.N), "scrape-s")
	b.ReportMetric(float64(procStatusKB("VmHWM"))/1024, "peak-rss-MB")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-inuse-MB")
	b.ReportMetric(firstCycle.Seconds(), "first-cycle-s")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/cycle")
	b.ReportMetric(server.Seconds()/float64(b.N), "kfake-cpu-s/cycle")
}

// benchLogger logs the cycle phases to stderr with -v, else nothing.
func benchLogger() *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// cpuTime is the user plus system CPU time a process has used so far, read
// from /proc/PID/stat (0 when unavailable).
func cpuTime(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ is 100 on Linux
}

// resetPeakRSS resets the kernel's VmHWM for this process (Linux).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// procStatusKB reads a kB field of /proc/self/status, 0 when unavailable.
func procStatusKB(field string) int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
