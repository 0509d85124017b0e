package daemon

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/config"
	"github.com/eventwatch/eventwatch/internal/lag"
	synth "github.com/eventwatch/eventwatch/internal/testutil/estate"
	"github.com/eventwatch/eventwatch/internal/testutil/httpget"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/procstat"
)

// Environment of the estate benchmarks.
const (
	benchKfakeEnv     = "EVENTWATCH_DAEMON_BENCH_KFAKE"      // child: build this shape on kfake and serve it
	benchFollowerEnv  = "EVENTWATCH_DAEMON_BENCH_FOLLOWER"   // child: run a follower daemon against these brokers
	benchCollectorEnv = "EVENTWATCH_DAEMON_BENCH_COLLECTOR"  // child: run the lag collector alone against these brokers
	benchShapeEnv     = "EVENTWATCH_BENCH_SHAPE"             // 10k, 20k or 50k
	benchSeedsEnv     = "EVENTWATCH_BENCH_SEEDS"             // the follower child's brokers
	sideBySideEnv     = "EVENTWATCH_SIDE_BY_SIDE"            // shape of BenchmarkDaemonSideBySide; unset: skipped
	intervalsEnv      = "EVENTWATCH_SIDE_BY_SIDE_INTERVALS"  // lag intervals measured per mode (default 4)
	roundsEnv         = "EVENTWATCH_SIDE_BY_SIDE_ROUNDS"     // daemon modes: consecutive windows of the intervals, each logged (default 1)
	settleEnv         = "EVENTWATCH_SIDE_BY_SIDE_SETTLE"     // lag intervals each mode runs before it is measured (default 0); the status window's 10 make it steady state
	collectorsEnv     = "EVENTWATCH_SIDE_BY_SIDE_COLLECTORS" // "together": collectors alone beside the daemon, each its own process started at another moment (default 1); the baseline is their mean
	traceEnv          = "EVENTWATCH_SIDE_BY_SIDE_TRACE"      // write an execution trace of the first 30 s of the window of the daemon and each collector alone to <this>-daemon.trace, <this>-collector<N>.trace
	modesEnv          = "EVENTWATCH_SIDE_BY_SIDE_MODES"      // comma-separated subset of the modes (default all)
	windowProfileEnv  = "EVENTWATCH_SIDE_BY_SIDE_PROFILE"    // write a CPU profile of each mode's measured window to <this>-<mode>.prof, its heap before and after it to <this>-<mode>-heap0.prof and -heap.prof
	memTraceEnv       = "EVENTWATCH_SIDE_BY_SIDE_MEMTRACE"   // print each mode's RSS, live heap and heap goal every second (where a peak comes from)
)

// TestBenchKfakeChild is not a test: the estate benchmarks run the test
// binary again with it selected, so the kfake cluster and its commits live
// in another process.
func TestBenchKfakeChild(t *testing.T) {
	if os.Getenv(benchKfakeEnv) == "" {
		t.Skip("helper process of the estate benchmarks")
	}
	name := os.Getenv(benchShapeEnv)
	shape, ok := synth.Named(name)
	if !ok {
		t.Fatalf("unknown shape %q", name)
	}
	c := kfaketest.Cluster(t)
	cl := kfaketest.Client(t, c, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	if err := shape.Build(ctx, cl); err != nil {
		t.Fatal(err)
	}
	kfaketest.ServeForParent(c)
}

// TestBenchFollowerChild is not a test: BenchmarkDaemonSideBySide runs a
// follower daemon (default configuration) in this child process, so its
// CPU and memory are measured apart from the leader's.
func TestBenchFollowerChild(t *testing.T) {
	if os.Getenv(benchFollowerEnv) == "" {
		t.Skip("helper process of BenchmarkDaemonSideBySide")
	}
	seeds := os.Getenv(benchSeedsEnv)
	cfg := benchDaemonConfig(t.TempDir(), strings.Split(seeds, ","), os.Getenv("EVENTWATCH_BENCH_SUFFIX"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, Options{Listener: ln, LogOutput: io.Discard}) }()
	fmt.Printf("ADDRS http://%s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	cancel()
	if err := <-done; err != nil {
		t.Log(err)
	}
}

// TestBenchCollectorChild is not a test: the "together" mode of
// BenchmarkDaemonSideBySide runs the lag collector alone in this child
// process, at the same time as the daemon, so both are measured over the
// same window of the same machine.
func TestBenchCollectorChild(t *testing.T) {
	if os.Getenv(benchCollectorEnv) == "" {
		t.Skip("helper process of BenchmarkDaemonSideBySide")
	}
	c, stop := startCollector(t, strings.Split(os.Getenv(benchSeedsEnv), ","))
	defer stop()
	deadline := time.Now().Add(10 * time.Minute)
	for c.Snapshot() == nil && time.Now().Before(deadline) {
		<-time.After(200 * time.Millisecond)
	}
	// its profiles, for the window the parent measures (its first cycle is done)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: pprofHandler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	fmt.Printf("ADDRS http://%s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// benchDaemonConfig is the daemon's default configuration against seeds;
// suffix names this run's sampler and leader groups and state topic, so
// runs on one cluster do not inherit each other's state.
func benchDaemonConfig(dir string, seeds []string, suffix string) *config.Config {
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.Kafka.Brokers = seeds
	cfg.Log.Level = "error"
	if suffix != "" {
		cfg.Sample.GroupID += "-" + suffix
		cfg.Leader.Group += "-" + suffix
		cfg.Leader.Topic += "_" + suffix
		cfg.Share.Topic += "_" + suffix
		cfg.Trace.Routing.Group += "-" + suffix
		cfg.Trace.Routing.Topic += "_" + suffix
	}
	if os.Getenv("EVENTWATCH_BENCH_SHARE_OFF") != "" {
		cfg.Share.Interval, cfg.Share.StaleAfter = time.Hour, 2*time.Hour
	}
	if os.Getenv("EVENTWATCH_BENCH_PPROF") != "" { // scripts/bench/rig.sh: profiles of a running daemon
		cfg.HTTP.Pprof = true
	}
	_ = cfg.Validate()
	return cfg
}

// sideBySide is one mode's figures over the measured intervals.
type sideBySide struct {
	cpuPerInterval, followerCPU float64 // CPU-seconds per lag interval
	peakRSS, followerRSS        float64 // MiB
	bytesPerInterval            float64 // shared groups bytes (before compression) per interval
	recordsPerInterval          float64
	followerBehind              time.Duration // largest gap between the leader's page and the follower's seen after the window
	equal                       bool
	gc                          gcFigures // this process's garbage collection over the window (not kminion's)
	// the "together" mode: the lag collector alone in another process over
	// the same window
	collectorCPU, collectorRSS float64 // the mean of the collectors alone
	// the "together" mode: peak RSS over the measured window only (every
	// process's peak mark reset at its start), steady state without the
	// warm-up and settling of each
	windowRSS, collectorWindowRSS float64
	collectorSpread               float64 // the largest collector alone's CPU ÷ the smallest's ($EVENTWATCH_SIDE_BY_SIDE_COLLECTORS > 1)
	ratioMin, ratioMax            float64 // of the rounds' CPU ratios ($EVENTWATCH_SIDE_BY_SIDE_ROUNDS > 1)
}

// collectorsAlone is $EVENTWATCH_SIDE_BY_SIDE_COLLECTORS: how many collectors
// alone the "together" mode runs beside the daemon (default 1).
func collectorsAlone() int {
	if n, err := strconv.Atoi(os.Getenv(collectorsEnv)); err == nil && n > 0 {
		return n
	}
	return 1
}

// switches is the children's context switches so far, summed.
func switches(pids []int) int64 {
	var n int64
	for _, pid := range pids {
		n += procstat.ContextSwitches(pid)
	}
	return n
}

// childrenCPU is each child's CPU time so far.
func childrenCPU(pids []int) []time.Duration {
	out := make([]time.Duration, len(pids))
	for i, pid := range pids {
		out[i] = procstat.CPU(pid)
	}
	return out
}

// perInterval is each child's CPU-seconds per interval since was.
func perInterval(now, was []time.Duration, intervals int) []float64 {
	out := make([]float64, len(now))
	for i := range now {
		out[i] = (now[i] - was[i]).Seconds() / float64(intervals)
	}
	return out
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func fmtFloats(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(x, 'f', 3, 64)
	}
	return strings.Join(parts, ", ")
}

// rounds is $EVENTWATCH_SIDE_BY_SIDE_ROUNDS: how many consecutive windows
// of the intervals the daemon modes measure (default 1).
func rounds() int {
	if n, err := strconv.Atoi(os.Getenv(roundsEnv)); err == nil && n > 0 {
		return n
	}
	return 1
}

// gcFigures is what the Go runtime says its garbage collector did over a
// window, per lag interval (runtime/metrics): the CPU it used (background
// marking, assists, idle marking and pauses), its cycles and the bytes
// allocated. It tells the daemon's own garbage from the collector's.
type gcFigures struct {
	cpu, cycles, allocMB float64
}

var gcMetrics = []string{"/cpu/classes/gc/total:cpu-seconds", "/gc/cycles/total:gc-cycles", "/gc/heap/allocs:bytes"}

// gcWindow starts counting; the returned function gives the figures since,
// per interval.
func gcWindow(intervals int) func() gcFigures {
	read := func() []float64 {
		s := make([]metrics.Sample, len(gcMetrics))
		for i, n := range gcMetrics {
			s[i].Name = n
		}
		metrics.Read(s)
		out := make([]float64, len(s))
		for i := range s {
			switch s[i].Value.Kind() {
			case metrics.KindFloat64:
				out[i] = s[i].Value.Float64()
			case metrics.KindUint64:
				out[i] = float64(s[i].Value.Uint64())
			}
		}
		return out
	}
	v0 := read()
	return func() gcFigures {
		v := read()
		n := float64(intervals)
		return gcFigures{cpu: (v[0] - v0[0]) / n, cycles: (v[1] - v0[1]) / n, allocMB: (v[2] - v0[2]) / n / (1 << 20)}
	}
}

// BenchmarkDaemonSideBySide measures, on one kfake estate (the shape in
// $EVENTWATCH_SIDE_BY_SIDE: 10k, 20k or 50k), the whole process's CPU per
// lag interval and peak RSS of: the lag collector alone; the daemon with
// its default configuration, leading, with a follower daemon in a child
// process (whose CPU and RSS are reported too); and the same daemon with
// sharing off (share.interval 1h); and "together": the collector alone in
// a child process and the daemon with its follower at the same time,
// measured over the same window, so the ratio of the two is not moved by
// how fast the machine was in two different windows (a mode alone moves
// by up to 20 % between runs of the same code on a shared 2-core VM). It
// also checks the follower's /api/v1/groups against the leader's after
// the window. Run with
//
//	EVENTWATCH_SIDE_BY_SIDE=10k go test -run '^$' -bench DaemonSideBySide -benchtime 1x -timeout 60m ./internal/daemon/
func BenchmarkDaemonSideBySide(b *testing.B) {
	name := os.Getenv(sideBySideEnv)
	if name == "" {
		b.Skip("set " + sideBySideEnv + "=10k|20k|50k to run (minutes per mode)")
	}
	if _, ok := synth.Named(name); !ok {
		b.Fatalf("unknown shape %q", name)
	}
	intervals := 4
	if n, err := strconv.Atoi(os.Getenv(intervalsEnv)); err == nil && n > 0 {
		intervals = n
	}
	b.Setenv(benchShapeEnv, name)
	addrs, _ := kfaketest.StartChild(b, benchKfakeEnv, "-test.run=^TestBenchKfakeChild$", "-test.bench=^$", "-test.timeout=60m")
	for _, mode := range sideBySideModes() {
		b.Run(mode, func(b *testing.B) {
			var f sideBySide
			for range b.N {
				switch mode {
				case "collector":
					f = collectorAlone(b, addrs, intervals)
				case "kminion":
					f = kminionAlone(b, addrs, intervals, config.Default().Lag.Interval)
				default:
					f = daemonWithFollower(b, addrs, intervals, mode)
				}
			}
			reportSideBySide(b, f, mode)
		})
	}
}

// sideBySideModes are the modes $EVENTWATCH_SIDE_BY_SIDE_MODES selects
// (all when unset), so one mode can be profiled alone; "kminion" only
// when $EVENTWATCH_KMINION names its binary.
func sideBySideModes() []string {
	all := []string{"collector", "daemon", "daemon-share-off", "together"}
	if os.Getenv(kminionEnv) != "" {
		all = append(all, "kminion")
	}
	v := os.Getenv(modesEnv)
	if v == "" {
		return all
	}
	var out []string
	for _, m := range strings.Split(v, ",") {
		if slices.Contains(all, strings.TrimSpace(m)) {
			out = append(out, strings.TrimSpace(m))
		}
	}
	return out
}

func reportSideBySide(b *testing.B, f sideBySide, mode string) {
	b.ReportMetric(f.cpuPerInterval, "cpu-s/interval")
	b.ReportMetric(f.peakRSS, "peak-rss-MB")
	if mode != "kminion" {
		b.ReportMetric(f.gc.cpu, "gc-cpu-s/interval")
		b.ReportMetric(f.gc.cycles, "gc-cycles/interval")
		b.ReportMetric(f.gc.allocMB, "alloc-MB/interval")
	}
	if mode == "collector" || mode == "kminion" {
		return
	}
	b.ReportMetric(f.followerCPU, "follower-cpu-s/interval")
	b.ReportMetric(f.followerRSS, "follower-peak-rss-MB")
	b.ReportMetric(f.bytesPerInterval, "shared-B/interval")
	b.ReportMetric(f.recordsPerInterval, "shared-records/interval")
	if mode == "together" {
		b.ReportMetric(f.collectorCPU, "collector-cpu-s/interval")
		b.ReportMetric(f.collectorRSS, "collector-peak-rss-MB")
		b.ReportMetric(f.cpuPerInterval/f.collectorCPU, "cpu-ratio")
		b.ReportMetric(f.peakRSS/f.collectorRSS, "rss-ratio")
		b.ReportMetric(f.windowRSS, "window-peak-rss-MB")
		b.ReportMetric(f.collectorWindowRSS, "collector-window-peak-rss-MB")
		b.ReportMetric(f.windowRSS/f.collectorWindowRSS, "window-rss-ratio")
		if f.collectorSpread > 0 && collectorsAlone() > 1 {
			b.ReportMetric(f.collectorSpread, "collector-spread")
		}
		if f.ratioMax > 0 {
			b.ReportMetric(f.ratioMin, "cpu-ratio-min")
			b.ReportMetric(f.ratioMax, "cpu-ratio-max")
		}
	}
	if mode != "daemon-share-off" {
		b.ReportMetric(f.followerBehind.Seconds(), "follower-behind-s")
		if !f.equal {
			b.Errorf("the follower's /api/v1/groups never equalled the leader's after the window")
		}
	}
}

// collectorAlone runs the lag collector (default configuration, exact time
// lag on, the daemon's Kafka client options) for the window after its
// first cycle.
func collectorAlone(b *testing.B, addrs []string, intervals int) sideBySide {
	freshPeak()
	memTrace(b, "collector")
	c, stop := startCollector(b, addrs)
	defer stop()
	waitFor(b, 10*time.Minute, func() bool { return c.Snapshot() != nil })
	interval := config.Default().Lag.Interval
	settle(interval)
	stopProfile := profileWindow(b, "collector")
	cpu0, gc := procstat.SelfCPU(), gcWindow(intervals)
	<-time.After(time.Duration(intervals) * interval)
	f := sideBySide{cpuPerInterval: (procstat.SelfCPU() - cpu0).Seconds() / float64(intervals), peakRSS: procstat.PeakRSSMB(0), gc: gc()}
	stopProfile() // after the figures: writing the profiles forces a collection
	return f
}

// startCollector starts the lag collector as the daemon runs it (default
// configuration, exact time lag read through the client, the daemon's
// Kafka client options: seeds, client id, no KIP-714 pushes), without the
// rest of the daemon; stop ends it.
func startCollector(tb testing.TB, addrs []string) (*lag.Collector, func()) {
	kc := config.Default().Kafka
	kc.Brokers = addrs
	opts, err := kc.Opts()
	if err != nil {
		tb.Fatal(err)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	var cfg lag.Config
	cfg.SetDefaults()
	c, err := lag.New(cfg, cl, lag.Expectations{}, prometheus.NewRegistry(), slog.New(slog.DiscardHandler),
		lag.WithRecordClient(cl))
	if err != nil {
		cl.Close()
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	return c, func() {
		cancel()
		if err := <-done; err != nil {
			tb.Log(err)
		}
		cl.Close()
	}
}

// settle waits $EVENTWATCH_SIDE_BY_SIDE_SETTLE lag intervals: until the
// status window is full, every group's why sentence ("over the last N
// cycles") and completeness change each cycle, so its facts do and the
// share path republishes it; from then on an idle estate changes nothing.
func settle(interval time.Duration) {
	if n, err := strconv.Atoi(os.Getenv(settleEnv)); err == nil && n > 0 {
		<-time.After(time.Duration(n) * interval)
	}
}

// daemonWithFollower runs a leading daemon in this process and a follower
// in a child, both with the default configuration.
func daemonWithFollower(b *testing.B, addrs []string, intervals int, mode string) sideBySide {
	suffix := fmt.Sprintf("%s-%d", mode, time.Now().UnixNano())
	if mode == "daemon-share-off" {
		b.Setenv("EVENTWATCH_BENCH_SHARE_OFF", "1")
	}
	b.Setenv("EVENTWATCH_BENCH_SUFFIX", suffix)
	b.Setenv(benchSeedsEnv, strings.Join(addrs, ","))
	cfg := benchDaemonConfig(b.TempDir(), addrs, suffix)
	var cpids []int
	var curls []string
	startCollectors := func(n int) {
		for range n {
			urls, pid := kfaketest.StartChild(b, benchCollectorEnv, "-test.run=^TestBenchCollectorChild$", "-test.bench=^$", "-test.timeout=60m")
			cpids, curls = append(cpids, pid), append(curls, urls[0])
		}
	}
	if mode == "together" {
		// the collector alone, in its own process, started first: its
		// warm-up (every partition's exact time lag) overlaps the daemon's
		startCollectors(1)
	}
	freshPeak()
	memTrace(b, mode)
	leader := startBench(b, cfg)
	waitFor(b, 10*time.Minute, func() bool {
		_, body := httpget.Get(b, leader.url+"/readyz")
		return strings.Contains(body, "leader: true")
	})
	urls, fpid := kfaketest.StartChild(b, benchFollowerEnv, "-test.run=^TestBenchFollowerChild$", "-test.bench=^$", "-test.timeout=60m")
	follower := urls[0]
	ready := func() bool {
		if mode == "daemon-share-off" {
			code, _ := httpget.Get(b, leader.url+"/api/v1/groups")
			return code == 200
		}
		code, _ := httpget.Get(b, follower+"/api/v1/groups")
		return code == 200
	}
	waitFor(b, 10*time.Minute, ready)
	if mode == "together" {
		// more collectors alone, started seconds after the first: each
		// runs its cycles at another moment of the interval, so their
		// spread is what the same work costs at different moments of
		// this machine, and their mean is the baseline
		startCollectors(collectorsAlone() - 1)
	}
	settle(cfg.Lag.Interval)
	bytes0 := metric(b, leader.url, "eventwatch_share_published_bytes_total", `kind="groups"`)
	recs0 := metric(b, leader.url, "eventwatch_share_published_records_total", `kind="groups"`)
	stop := profileWindow(b, mode)
	window := time.Duration(intervals*rounds()) * cfg.Lag.Interval
	childProfiles := profileChildren(b, mode, curls, window)
	traced := traceWindow(b, curls)
	// each process's peak since its start, then the marks reset: the
	// window's own peaks are read at its end
	startPeak, cstartPeak := procstat.PeakRSSMB(0), make([]float64, len(cpids))
	if mode == "together" {
		procstat.ResetPeakRSS(0)
		for i, pid := range cpids {
			cstartPeak[i] = procstat.PeakRSSMB(pid)
			procstat.ResetPeakRSS(pid)
		}
	}
	cpu0, fcpu0, gc := procstat.SelfCPU(), procstat.CPU(fpid), gcWindow(intervals*rounds())
	ccpu0 := childrenCPU(cpids)
	// rounds: consecutive windows, each reported on its own (the spread
	// within one run), the figures over all of them
	var ratios []float64
	for r := range rounds() {
		rcpu, rccpu := procstat.SelfCPU(), childrenCPU(cpids)
		rsw, rcsw := procstat.ContextSwitches(0), switches(cpids)
		if r > 0 {
			rotateCPUProfile(b, mode, r)
		}
		<-time.After(time.Duration(intervals) * cfg.Lag.Interval)
		if rounds() > 1 {
			d := (procstat.SelfCPU() - rcpu).Seconds() / float64(intervals)
			line := fmt.Sprintf("round %d: daemon %.3f CPU-s, %d context switches per interval", r+1, d, (procstat.ContextSwitches(0)-rsw)/int64(intervals))
			if len(cpids) > 0 {
				line += fmt.Sprintf(" (collectors alone %d)", (switches(cpids)-rcsw)/int64(intervals*len(cpids)))
			}
			if len(cpids) > 0 {
				cs := perInterval(childrenCPU(cpids), rccpu, intervals)
				c := mean(cs)
				ratios = append(ratios, d/c)
				line += fmt.Sprintf(", collector alone %.3f, ratio %.2f", c, d/c)
				if len(cs) > 1 {
					line += fmt.Sprintf(" (collectors %s)", fmtFloats(cs))
				}
			}
			b.Log(line)
		}
	}
	n := float64(intervals * rounds())
	f := sideBySide{
		gc:             gc(),
		cpuPerInterval: (procstat.SelfCPU() - cpu0).Seconds() / n,
		followerCPU:    (procstat.CPU(fpid) - fcpu0).Seconds() / n,
		peakRSS:        max(startPeak, procstat.PeakRSSMB(0)), followerRSS: procstat.PeakRSSMB(fpid),
		windowRSS: procstat.PeakRSSMB(0),
	}
	if len(cpids) > 0 {
		cs := perInterval(childrenCPU(cpids), ccpu0, intervals*rounds())
		f.collectorCPU = mean(cs)
		f.collectorSpread = slices.Max(cs) / slices.Min(cs)
		for i, pid := range cpids {
			f.collectorRSS += max(cstartPeak[i], procstat.PeakRSSMB(pid)) / float64(len(cpids))
			f.collectorWindowRSS += procstat.PeakRSSMB(pid) / float64(len(cpids))
		}
		if len(cs) > 1 {
			b.Logf("collectors alone over the window: %s CPU-s per interval", fmtFloats(cs))
		}
	}
	if len(ratios) > 0 {
		f.ratioMin, f.ratioMax = slices.Min(ratios), slices.Max(ratios)
	}
	stop() // after the figures: writing the profiles forces a collection
	childProfiles()
	traced()
	f.bytesPerInterval = (metric(b, leader.url, "eventwatch_share_published_bytes_total", `kind="groups"`) - bytes0) / n
	f.recordsPerInterval = (metric(b, leader.url, "eventwatch_share_published_records_total", `kind="groups"`) - recs0) / n
	if mode != "daemon-share-off" {
		f.followerBehind, f.equal = followerGap(b, leader.url, follower, 2*cfg.Lag.Interval)
	}
	if n := metric(b, leader.url, "eventwatch_share_publish_errors_total"); n > 0 {
		b.Errorf("%v share publish errors on the leader", n)
	}
	return f
}

// freshPeak returns the previous mode's freed heap to the system and
// resets this process's peak RSS, so a mode's peak is its own.
func freshPeak() {
	runtime.GC()
	debug.FreeOSMemory()
	procstat.ResetPeakRSS(0)
}

// memTrace prints, when $EVENTWATCH_SIDE_BY_SIDE_MEMTRACE is set, this
// process's RSS, peak RSS, live heap (as of the last collection), heap
// goal and goroutines every second until b's mode ends: when a mode's
// peak happens and what it is made of.
func memTrace(b *testing.B, mode string) {
	if os.Getenv(memTraceEnv) == "" {
		return
	}
	done := make(chan struct{})
	b.Cleanup(func() { close(done) })
	start := time.Now()
	go func() {
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/heap/goal:bytes"}, {Name: "/memory/classes/heap/released:bytes"}, {Name: "/memory/classes/total:bytes"}}
		tickUntil(done, time.Second, func() {
			metrics.Read(s)
			mb := func(i int) float64 { return float64(s[i].Value.Uint64()) / (1 << 20) }
			fmt.Fprintf(os.Stderr, "memtrace %s %5.0fs rss %4.0f peak %4.0f live %4.0f goal %4.0f mapped-released %4.0f goroutines %d\n", mode,
				time.Since(start).Seconds(), procstat.RSSMB(0), procstat.PeakRSSMB(0), mb(0), mb(1), mb(3)-mb(2), runtime.NumGoroutine())
		})
	}()
}

// profileWindow starts a CPU profile of the measured window when
// $EVENTWATCH_SIDE_BY_SIDE_PROFILE names a file prefix; the returned
// function stops it.
func profileWindow(b *testing.B, mode string) func() {
	prefix := os.Getenv(windowProfileEnv)
	if prefix == "" {
		return func() {}
	}
	f, err := os.Create(prefix + "-" + mode + ".prof")
	if err != nil {
		b.Fatal(err)
	}
	cpuProfileFile = f
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	// the heap at the window's start: `go tool pprof -sample_index=alloc_space
	// -base <mode>-heap0.prof <mode>-heap.prof` is what the window allocated
	writeHeapProfile(b, prefix+"-"+mode+"-heap0.prof")
	stopPeak := watchPeakHeap(b, prefix+"-"+mode+"-peakheap.prof")
	return func() {
		pprof.StopCPUProfile()
		_ = cpuProfileFile.Close()
		cpuProfileFile = nil
		stopPeak()
		writeHeapProfile(b, prefix+"-"+mode+"-heap.prof")
	}
}

// rotateCPUProfile, when $EVENTWATCH_SIDE_BY_SIDE_PROFILE is set, ends
// the CPU profile of the previous round and starts round r's
// (<prefix>-<mode>-round<r+1>.prof; the first round's is <mode>.prof): a
// round whose CPU stood out can be set beside the others (`go tool pprof
// -base`), and all of them read together for the window.
func rotateCPUProfile(b *testing.B, mode string, r int) {
	prefix := os.Getenv(windowProfileEnv)
	if prefix == "" {
		return
	}
	pprof.StopCPUProfile()
	if cpuProfileFile != nil {
		_ = cpuProfileFile.Close()
	}
	f, err := os.Create(fmt.Sprintf("%s-%s-round%d.prof", prefix, mode, r+1))
	if err != nil {
		b.Fatal(err)
	}
	cpuProfileFile = f
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
}

// cpuProfileFile is the file the CPU profile in progress is written to.
var cpuProfileFile *os.File

// profileChildren takes, when $EVENTWATCH_SIDE_BY_SIDE_PROFILE is set, a
// CPU profile of each collector alone over the window (from its pprof
// endpoint) and writes it to <this>-<mode>-collector<N>.prof: the same
// window as the daemon's profile; the returned function waits for them
// and then takes each one's heap profile (<...>-collector<N>-heap.prof,
// to set beside the daemon's <mode>-heap.prof).
func profileChildren(b *testing.B, mode string, urls []string, window time.Duration) func() {
	prefix := os.Getenv(windowProfileEnv)
	if prefix == "" || len(urls) == 0 {
		return func() {}
	}
	done := make(chan struct{}, len(urls))
	for i, u := range urls {
		go func() {
			defer func() { done <- struct{}{} }()
			if err := fetchToFile(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", u, int(window.Seconds())),
				fmt.Sprintf("%s-%s-collector%d.prof", prefix, mode, i+1), window+time.Minute); err != nil {
				b.Logf("profile of collector %d: %v", i+1, err)
			}
		}()
	}
	return func() {
		for range urls {
			<-done
		}
		for i, u := range urls {
			if err := fetchToFile(u+"/debug/pprof/heap?gc=1", fmt.Sprintf("%s-%s-collector%d-heap.prof", prefix, mode, i+1), time.Minute); err != nil {
				b.Logf("heap profile of collector %d: %v", i+1, err)
			}
		}
	}
}

// fetchToFile writes the body of GET url (a child's profile or trace) to
// path.
func fetchToFile(url, path string, timeout time.Duration) error {
	resp, err := (&http.Client{Timeout: timeout}).Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(path, raw, 0o644)
}

// traceWindow writes, when $EVENTWATCH_SIDE_BY_SIDE_TRACE is set, an
// execution trace of the first 30 s of the window of this process to
// <this>-daemon.trace and of each collector alone (from its pprof
// endpoint) to <this>-collector<N>.trace: every wake-up and what caused
// it (go tool trace); the returned function waits for them.
func traceWindow(b *testing.B, urls []string) func() {
	prefix := os.Getenv(traceEnv)
	if prefix == "" {
		return func() {}
	}
	const d = 30 * time.Second
	done := make(chan struct{}, len(urls)+1)
	go func() {
		defer func() { done <- struct{}{} }()
		f, err := os.Create(prefix + "-daemon.trace")
		if err != nil {
			b.Log(err)
			return
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			b.Log(err)
			return
		}
		<-time.After(d)
		trace.Stop()
	}()
	for i, u := range urls {
		go func() {
			defer func() { done <- struct{}{} }()
			if err := fetchToFile(fmt.Sprintf("%s/debug/pprof/trace?seconds=%d", u, int(d.Seconds())),
				fmt.Sprintf("%s-collector%d.trace", prefix, i+1), d+time.Minute); err != nil {
				b.Logf("trace of collector %d: %v", i+1, err)
			}
		}()
	}
	return func() {
		for range len(urls) + 1 {
			<-done
		}
	}
}

// watchPeakHeap keeps the heap profile of the moment the live heap (as of
// the last collection) was largest in the window, and writes it to path
// when the returned function is called: what a peak is made of.
func watchPeakHeap(b *testing.B, path string) func() {
	done, finished := make(chan struct{}), make(chan struct{})
	var peak bytes.Buffer
	go func() {
		defer close(finished)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var most uint64
		tickUntil(done, 200*time.Millisecond, func() {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > most {
				most = v
				peak.Reset()
				_ = pprof.Lookup("heap").WriteTo(&peak, 0)
			}
		})
	}()
	return func() {
		close(done)
		<-finished
		if err := os.WriteFile(path, peak.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// writeHeapProfile writes the live heap (after a collection) to path, so
// a mode's memory can be read beside its CPU.
func writeHeapProfile(b *testing.B, path string) {
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}

// followerGap compares the pages for window: the largest difference
// between the leader's page time and the follower's, and whether they
// were ever byte-equal.
func followerGap(b *testing.B, leader, follower string, window time.Duration) (time.Duration, bool) {
	var gap time.Duration
	equal := false
	deadline := time.Now().Add(window)
	for time.Now().Before(deadline) {
		_, lb := httpget.Get(b, leader+"/api/v1/groups")
		_, fb := httpget.Get(b, follower+"/api/v1/groups")
		if lb == fb {
			equal = true
		}
		gap = max(gap, pageTime(lb).Sub(pageTime(fb)))
		<-time.After(time.Second)
	}
	return gap, equal
}

func pageTime(body string) time.Time {
	// "time" is the page's first member: read it without decoding the rest.
	_, rest, _ := strings.Cut(body, `"time": "`)
	ts, _, _ := strings.Cut(rest, `"`)
	t, _ := time.Parse(time.RFC3339Nano, ts)
	return t
}

// benchInstance is a daemon run by a benchmark.
type benchInstance struct{ url string }

func startBench(b *testing.B, cfg *config.Config) benchInstance {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, Options{Listener: ln, LogOutput: io.Discard}) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Log(err)
		}
	})
	return benchInstance{url: "http://" + ln.Addr().String()}
}

// waitFor polls cond every 200ms until it holds or d passes (then fails).
func waitFor(b *testing.B, d time.Duration, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("condition not met within %s", d)
		}
		<-time.After(200 * time.Millisecond)
	}
}

// tickUntil calls fn every d until done is closed.
func tickUntil(done <-chan struct{}, d time.Duration, fn func()) {
	tick := time.NewTicker(d)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		fn()
	}
}
