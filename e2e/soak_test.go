//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/testutil/realkafka"
)

// TestDaemonSoak runs `eventwatch run` (a separate process, so its
// resident memory is its own) against the real broker under a steady load
// of EVENTWATCH_SOAK_RATE records a second (default 500; every record
// audited: budget_per_partition is lifted; every record with its own event
// and correlation id) for EVENTWATCH_SOAK (a Go duration: 1m for a quick
// run, 1h for the planning figures in docs/operations.md; skipped when
// unset; EVENTWATCH_SOAK_DEFAULTS=1 keeps the default trace and duplicate
// settings). It records RSS, Go heap, goroutines, records checked and the
// trace state every 5 s (the test log, and a CSV at EVENTWATCH_SOAK_OUT
// when set, with heap profiles beside it at each quarter), and checks that
// goroutines and resident memory stay flat once the bounded state
// (duplicate-id window, trace window and its byte budget) has filled: the
// medians of the last third against those of the second third.
func TestDaemonSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("EVENTWATCH_SOAK"))
	if err != nil || d <= 0 {
		t.Skip("set EVENTWATCH_SOAK=1m (or 1h) to run the soak test")
	}
	rate := 500
	if v, err := strconv.Atoi(os.Getenv("EVENTWATCH_SOAK_RATE")); err == nil && v > 0 {
		rate = v
	}
	b := realkafka.Start(t)
	ctx := dmContext(t, d+5*time.Minute)
	dir := t.TempDir()
	topic := "huleedu.soak.batchorchestration.batch"
	dmCreateTopic(ctx, t, kadm.NewClient(b.Client(t)), topic)
	extra := soakConfig(d, os.Getenv("EVENTWATCH_SOAK_DEFAULTS") != "")
	p := dmStartProc(ctx, t, dmBinary(ctx, t, dir), b.Addr(), filepath.Join(dir, "soak"), 10*time.Second, extra)
	p.d.waitReady(t)
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	go dmLoad(loadCtx, b.Client(t), topic, rate)
	base, last := dmSoakSample(t, p, topic, d)
	if last[0] > base[0]+20 {
		t.Errorf("goroutines grew from %.0f to %.0f (medians of the second and last thirds)", base[0], last[0])
	}
	if limit := base[1]*1.25 + 32<<20; last[1] > limit {
		t.Errorf("resident memory grew from %.1f MiB to %.1f MiB (medians of the second and last thirds)", base[1]/(1<<20), last[1]/(1<<20))
	}
}

// soakConfig is the soak's configuration: every record audited, profiles
// served, and (unless defaults) the duplicate and trace windows at a fifth
// of the run with the chain count lifted, so that the byte budget
// (trace.max_state_bytes, default 64 MiB) is what bounds the trace state;
// with defaults the trace and duplicate settings are the daemon's own.
func soakConfig(d time.Duration, defaults bool) string {
	cfg := "sample:\n  budget_per_partition: 1000000\nhttp:\n  pprof: true\n"
	if !defaults {
		cfg += fmt.Sprintf("audit:\n  duplicate_window: %s\ntrace:\n  window: %s\n  max_open_chains: 1000000\n", d/5, d/5)
	}
	return cfg
}

// soakColumns are the CSV columns dmSoakSample writes.
const soakColumns = "seconds,goroutines,rss_mib,heap_inuse_mib,checked,rate_per_s,trace_open_chains,trace_closed_chains,trace_state_mib,trace_evicted,trace_dropped_max_chains"

// dmSoakSample samples the daemon every 5 s for d and returns the median
// goroutines and resident bytes of the second third of the run and of the
// last third (medians: one sample taken during a flush or a GC cycle is
// no trend).
func dmSoakSample(t *testing.T, p *dmProc, topic string, d time.Duration) (base, last [2]float64) {
	var mid, end [2][]float64
	out, path := dmSoakOut(t)
	start := time.Now()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	var prevChecked float64
	quarter := 1
	for time.Since(start) < d {
		<-tick.C
		cur := [2]float64{p.d.metric(t, "go_goroutines"), p.d.metric(t, "process_resident_memory_bytes")}
		heap := p.d.metric(t, "go_memstats_heap_inuse_bytes")
		checked := p.d.metric(t, "eventwatch_records_checked_total", `topic="`+topic+`"`)
		open := p.d.metric(t, "eventwatch_trace_open_chains")
		closed := p.d.metric(t, "eventwatch_trace_remembered_chains")
		state := p.d.metric(t, "eventwatch_trace_state_bytes")
		evicted := p.d.metric(t, "eventwatch_trace_evicted_chains_total")
		dropped := p.d.metric(t, "eventwatch_trace_dropped_total", `reason="max_chains"`)
		secs := time.Since(start).Seconds()
		row := fmt.Sprintf("%.0f,%.0f,%.1f,%.1f,%.0f,%.0f,%.0f,%.0f,%.1f,%.0f,%.0f", secs, cur[0], cur[1]/(1<<20), heap/(1<<20), checked,
			(checked-prevChecked)/5, open, closed, state/(1<<20), evicted, dropped)
		prevChecked = checked
		t.Logf("soak %s", row)
		if out != nil {
			fmt.Fprintln(out, row)
		}
		if path != "" && time.Since(start) >= time.Duration(quarter)*d/4 {
			dmSaveHeap(t, p, fmt.Sprintf("%s.heap-%ds.pb.gz", path, int(secs)))
			quarter++
		}
		switch el := time.Since(start); {
		case el >= 2*d/3:
			end[0], end[1] = append(end[0], cur[0]), append(end[1], cur[1])
		case el >= d/3:
			mid[0], mid[1] = append(mid[0], cur[0]), append(mid[1], cur[1])
		}
	}
	for i := range 2 {
		base[i], last[i] = median(mid[i]), median(end[i])
	}
	return base, last
}

// median is the middle value of xs (0 when empty).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// dmSoakOut creates the CSV at EVENTWATCH_SOAK_OUT (nil when unset).
func dmSoakOut(t *testing.T) (*os.File, string) {
	path := os.Getenv("EVENTWATCH_SOAK_OUT")
	if path == "" {
		return nil, ""
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	fmt.Fprintln(f, soakColumns)
	t.Logf("soak: writing %s (and heap profiles beside it)", path)
	return f, path
}

// dmSaveHeap writes the daemon's heap profile (go tool pprof reads it).
func dmSaveHeap(t *testing.T, p *dmProc, path string) {
	resp, err := http.Get(p.d.url + "/debug/pprof/heap") //nolint:gosec,noctx // test URL
	if err != nil {
		t.Logf("soak: heap profile: %v", err)
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Logf("soak: heap profile: %d %v", resp.StatusCode, err)
		return
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Logf("soak: heap profile: %v", err)
	}
}

// dmLoad produces about rate records a second until ctx is done.
func dmLoad(ctx context.Context, cl *kgo.Client, topic string, rate int) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	n := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for range max(rate/10, 1) {
			cl.Produce(ctx, &kgo.Record{Topic: topic, Value: dmSoakEvent(n)}, nil)
			n++
		}
	}
}

// dmSoakEvent is a compliant event with its own event and correlation id.
func dmSoakEvent(i int) []byte {
	return []byte(fmt.Sprintf(`{"event_id":"3f1c2a9e-8a51-4d3b-9a53-%012d","event_type":%q,"event_timestamp":"%s","source_service":"batch_orchestrator_service","correlation_id":"9b0e7d1c-2f4a-4c2e-8d6b-%012d","data":{"batch_id":"b-%d"}}`,
		i, dmGoodType, time.Now().UTC().Format(time.RFC3339), i, i))
}
