package lag_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/procstat"
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

// BenchmarkIssueShape measures collection cycles and full HTTP scrapes of
// /metrics on the estate of issue 9 (3 brokers, 200 topics × 50
// partitions, 500 member-less groups × 20 topics = 500,000 group
// partitions), checks every group's lag, and reports CPU seconds
// (getrusage, so a loaded machine does not inflate them) per cycle and per
// scrape, plain text and gzip, the bytes of each scrape and the process's
// peak RSS (the kfake cluster runs in a child process). Run it with
//
//	go test -run '^$' -bench IssueShape -benchtime 3x ./internal/lag/
//
// The OldPath benchmarks run the same loop with /metrics served as before
// issue 14 (a prometheus.Collector building one const metric per series,
// encoded by promhttp); they come last, so their memory never precedes a
// new-path run in the same process.
func BenchmarkIssueShape(b *testing.B) { benchIssueShape(b, lag.GranularityTopic, false) }

// BenchmarkIssueShapePartitions is BenchmarkIssueShape with granularity
// partition: 1,000,000 more series per scrape and partition detail in every
// snapshot.
func BenchmarkIssueShapePartitions(b *testing.B) { benchIssueShape(b, lag.GranularityPartition, false) }

// BenchmarkIssueShapeOldPath is BenchmarkIssueShape through the old path.
func BenchmarkIssueShapeOldPath(b *testing.B) { benchIssueShape(b, lag.GranularityTopic, true) }

// BenchmarkIssueShapePartitionsOldPath is BenchmarkIssueShapePartitions
// through the old path.
func BenchmarkIssueShapePartitionsOldPath(b *testing.B) {
	benchIssueShape(b, lag.GranularityPartition, true)
}

func benchIssueShape(b *testing.B, granularity string, oldPath bool) {
	addrs, serverPID := kfaketest.StartChild(b, benchServerEnv, "-test.run=^TestBenchKfakeServer$", "-test.bench=^$", "-test.timeout=30m")
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.Close)
	reg := prometheus.NewRegistry()
	var opts []lag.Option
	if os.Getenv("EVENTWATCH_LAG_BENCH_ESTIMATED") == "" {
		opts = append(opts, lag.WithRecordClient(cl)) // exact time lag (issue 21)
	}
	c, err := lag.New(lag.Config{Interval: time.Minute, Granularity: granularity}, cl, lag.Expectations{}, reg, benchLogger(), opts...)
	if err != nil {
		b.Fatal(err)
	}
	h := lag.MetricsHandler(reg, func() *lag.Collector { return c }, nil)
	if oldPath {
		old := prometheus.NewRegistry()
		old.MustRegister(legacyCollector{snap: c.Snapshot, partitions: granularity == lag.GranularityPartition})
		h = promhttp.HandlerFor(old, promhttp.HandlerOpts{})
	}
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	ctx := context.Background()
	runtime.GC()
	debug.FreeOSMemory() // what an earlier benchmark in this process left behind
	procstat.ResetPeakRSS(0)
	first := time.Now()
	if err := c.CollectOnce(ctx); err != nil { // first cycle also seeds the offset tables
		b.Fatal(err)
	}
	firstCycle := time.Since(first)
	fill := procstat.SelfCPU()
	fills := 0
	for ; fills < 300 && exactRatio(c.Snapshot()) < 1 && os.Getenv("EVENTWATCH_LAG_BENCH_ESTIMATED") == ""; fills++ {
		if err := c.CollectOnce(ctx); err != nil { // fill the time-lag cache: 2,000 partitions a cycle
			b.Fatal(err)
		}
	}
	fillCPU := procstat.SelfCPU() - fill
	var m benchFigures
	server0 := procstat.CPU(serverPID)
	b.ResetTimer()
	for range b.N {
		t0 := procstat.SelfCPU()
		if err := c.CollectOnce(ctx); err != nil {
			b.Fatal(err)
		}
		t1 := procstat.SelfCPU()
		m.textBytes = scrapeOnce(b, srv.URL, false)
		t2 := procstat.SelfCPU()
		m.gzBytes = scrapeOnce(b, srv.URL, true)
		t3 := procstat.SelfCPU()
		m.cycle, m.text, m.gz = m.cycle+t1-t0, m.text+t2-t1, m.gz+t3-t2
	}
	b.StopTimer()
	server := procstat.CPU(serverPID) - server0
	if err := issueShape.verify(c.Snapshot()); err != nil {
		b.Fatal(err)
	}
	n := float64(b.N)
	b.ReportMetric(m.cycle.Seconds()/n, "cycle-cpu-s")
	b.ReportMetric(m.text.Seconds()/n, "scrape-text-cpu-s")
	b.ReportMetric(m.gz.Seconds()/n, "scrape-gzip-cpu-s")
	b.ReportMetric(float64(m.textBytes)/(1<<20), "text-MB")
	b.ReportMetric(float64(m.gzBytes)/(1<<20), "gzip-MB")
	b.ReportMetric(procstat.PeakRSSMB(0), "peak-rss-MB")
	b.ReportMetric(firstCycle.Seconds(), "first-cycle-s")
	b.ReportMetric(server.Seconds()/n, "kfake-cpu-s/cycle")
	b.ReportMetric(float64(fills), "fill-cycles")
	b.ReportMetric(fillCPU.Seconds()/max(float64(fills), 1), "fill-cpu-s/cycle")
	b.ReportMetric(exactRatio(c.Snapshot()), "exact-ratio")
}

// exactRatio is the share of lagging group partitions whose time lag is
// exact in snap.
func exactRatio(snap *lag.Snapshot) float64 {
	var exact, all int
	for _, g := range snap.Groups {
		for _, t := range g.Topics {
			exact += t.ExactPartitions
			all += t.ExactPartitions + t.EstimatedPartitions
		}
	}
	if all == 0 {
		return 1
	}
	return float64(exact) / float64(all)
}

// benchFigures are CPU times and sizes summed over the timed iterations.
type benchFigures struct {
	cycle, text, gz    time.Duration
	textBytes, gzBytes int64
}

// scrapeOnce GETs /metrics, plain or asking for gzip (received as sent,
// not decompressed), and returns the bytes received.
func scrapeOnce(b *testing.B, url string, gz bool) int64 {
	req, err := http.NewRequest(http.MethodGet, url+"/metrics", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || (gz && resp.Header.Get("Content-Encoding") != "gzip") {
		b.Fatalf("scrape: %d bytes, status %d, encoding %q: %v", n, resp.StatusCode, resp.Header.Get("Content-Encoding"), err)
	}
	return n
}

// benchLogger logs the cycle phases to stderr with -v, else nothing.
func benchLogger() *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
