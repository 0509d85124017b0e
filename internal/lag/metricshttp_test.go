package lag_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/testutil/bins"
)

// scrape GETs /metrics from h, with gzip or not, and returns the headers
// and the (decompressed) body.
func scrape(t *testing.T, h http.Handler, gz bool) (http.Header, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", rec.Code)
	}
	body := rec.Body.Bytes()
	if gz {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return rec.Header(), body
}

// TestMetricsHandlerCachedExposition scrapes a partition-granularity
// collector (plain text streamed from the snapshot, gzip from the bytes
// cached at the cycle) next to a registry: both encodings carry the same
// text, every family once, and promtool accepts it.
func TestMetricsHandlerCachedExposition(t *testing.T) {
	f := newFixture(t, map[string]int32{"orders": 3})
	f.produce("orders", 0, 4)
	f.produce("orders", 2, 7)
	f.commit("billing", map[string]map[int32]int64{"orders": {0: 1, 1: 0, 2: 7}})
	f.commit(`we"ird\group`, map[string]map[int32]int64{"orders": {0: 4}})
	cfg := testConfig()
	cfg.Granularity = lag.GranularityPartition
	reg := prometheus.NewRegistry()
	c, err := lag.New(cfg, f.cl, lag.Expectations{}, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	other := prometheus.NewGauge(prometheus.GaugeOpts{Name: "eventwatch_other_thing", Help: "Another component's metric."})
	reg.MustRegister(other)
	dup := prometheus.NewGauge(prometheus.GaugeOpts{Name: "eventwatch_cluster_brokers", Help: "A second brokers gauge."})
	if err := reg.Register(dup); err == nil {
		t.Fatal("registering a snapshot family's name again succeeded: it would appear twice on /metrics")
	}
	h := lag.MetricsHandler(reg, func() *lag.Collector { return c }, nil)

	_, before := scrape(t, h, false)
	if !strings.Contains(string(before), "eventwatch_lag_snapshot_age_seconds +Inf") || strings.Contains(string(before), "consumergroup") {
		t.Fatalf("before the first cycle /metrics must say there is no snapshot and show no lag:\n%s", before)
	}
	for range 2 {
		if err := c.CollectOnce(f.ctx()); err != nil {
			t.Fatal(err)
		}
	}
	hdr, plain := scrape(t, h, false)
	zhdr, unzipped := scrape(t, h, true)
	if hdr.Get("Content-Type") != "text/plain; version=0.0.4; charset=utf-8" || hdr.Get("Content-Encoding") != "" || zhdr.Get("Content-Encoding") != "gzip" {
		t.Fatalf("headers plain %v gzip %v", hdr, zhdr)
	}
	age := regexp.MustCompile(`(?m)^eventwatch_lag_snapshot_age_seconds .*$`) // changes between scrapes
	if !bytes.Equal(age.ReplaceAll(plain, nil), age.ReplaceAll(unzipped, nil)) {
		t.Fatalf("plain and gzip scrapes differ:\n%s\n---\n%s", plain, unzipped)
	}
	for _, want := range []string{
		`eventwatch_consumergroup_partition_lag_records{group="billing",partition="0",topic="orders"} 3`,
		`eventwatch_consumergroup_partition_lag_records{group="billing",partition="2",topic="orders"} 0`,
		`eventwatch_consumergroup_lag_records{group="we\"ird\\group",topic="orders"} 0`,
		"eventwatch_other_thing 0",
	} {
		if !strings.Contains(string(plain), want+"\n") {
			t.Errorf("scrape lacks %s", want)
		}
	}
	types := regexp.MustCompile(`(?m)^# TYPE (\S+) `).FindAllStringSubmatch(string(plain), -1)
	seen := map[string]bool{}
	for _, m := range types {
		if seen[m[1]] {
			t.Errorf("family %s appears twice", m[1])
		}
		seen[m[1]] = true
	}
	if len(seen) < 12 {
		t.Fatalf("%d families, want the registry's and the snapshot's:\n%s", len(seen), plain)
	}
	promtoolCheck(t, plain)
}

// promtoolCheck runs `promtool check metrics` on an exposition.
func promtoolCheck(t *testing.T, exposition []byte) {
	t.Helper()
	promtool := bins.Require(t, "apt-get install prometheus", "promtool")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestMetricsHandlerTopicGranularity checks the default granularity's
// cached plain bytes with promtool, and a handler without a collector (a
// replica that does not lead): the registry alone.
func TestMetricsHandlerTopicGranularity(t *testing.T) {
	_, c, g := estate(t)
	_, plain := scrape(t, g.(scraper).h, false)
	if !strings.Contains(string(plain), `eventwatch_consumergroup_lag_records{group="indexer",topic="content.events"} 3`) {
		t.Fatalf("scrape:\n%s", plain)
	}
	promtoolCheck(t, plain)
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "eventwatch_other_thing", Help: "h."}))
	_, alone := scrape(t, lag.MetricsHandler(reg, func() *lag.Collector { return nil }, nil), true)
	if string(alone) != "# HELP eventwatch_other_thing h.\n# TYPE eventwatch_other_thing gauge\neventwatch_other_thing 0\n" {
		t.Fatalf("registry alone = %q", alone)
	}
	_ = c
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"": false, "gzip": true, "deflate, gzip;q=1.0, *;q=0.5": true, "GZIP": true,
		"gzip;q=0": false, "identity": false, "x-gzip": false, "br, gzip ; q=0.8": true,
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Accept-Encoding", header)
		lag.MetricsHandler(prometheus.NewRegistry(), func() *lag.Collector { return nil }, nil).ServeHTTP(rec, req)
		if got := rec.Header().Get("Content-Encoding") == "gzip"; got != want {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", header, got, want)
		}
	}
}

// TestScrapeDuringCycle holds a cycle inside its OffsetFetch and scrapes
// meanwhile: the scrape answers at once from the previous snapshot's
// encoded bytes, without waiting for the cycle.
func TestScrapeDuringCycle(t *testing.T) {
	f := newFixture(t, map[string]int32{"orders": 1})
	f.produce("orders", 0, 6)
	f.commit("g", map[string]map[int32]int64{"orders": {0: 2}})
	c, g := f.collector(testConfig(), lag.Expectations{})
	if err := c.CollectOnce(f.ctx()); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	held := make(chan struct{}, 1)
	f.cluster.ControlKey(kmsg.OffsetFetch.Int16(), func(kmsg.Request) (kmsg.Response, error, bool) {
		f.cluster.KeepControl()
		select {
		case held <- struct{}{}:
		default:
		}
		<-release
		return nil, nil, false
	})
	done := make(chan error, 1)
	go func() { done <- c.CollectOnce(f.ctx()) }()
	<-held
	start := time.Now()
	if n := countSeries(t, g, "eventwatch_consumergroup_lag_records"); n != 1 {
		t.Fatalf("%d lag series while a cycle runs, want the previous snapshot's 1", n)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("scrape during a cycle took %v", d)
	}
	select {
	case err := <-done:
		t.Fatalf("the cycle finished (%v) before it was released: the test did not hold it", err)
	default:
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
