package lag_test

import (
	"compress/gzip"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
)

// fixture is a kfake cluster with a producer, an admin client and a ledger
// of what the test produced, deleted and committed, from which expected lag
// is computed.
type fixture struct {
	t        *testing.T
	cluster  *kfake.Cluster
	cl       *kgo.Client
	adm      *kadm.Client
	produced map[string]map[int32]int64 // end offsets
	starts   map[string]map[int32]int64 // start offsets after DeleteRecords
	commits  map[string]map[string]map[int32]int64
	// clock, when set, is the virtual time of the collector's cycles
	// (virtualCollector): records are produced with timestamps on it.
	clock *virtualClock
}

// virtualClock gives collection cycles a virtual time: the k-th cycle
// starts at base + k*step; records produced after it are stamped one
// second later.
type virtualClock struct {
	base time.Time
	step time.Duration
	k    int
}

func (v *virtualClock) cycle() time.Time {
	v.k++
	return v.base.Add(time.Duration(v.k) * v.step)
}

// now is the virtual time records are produced at.
func (v *virtualClock) now() time.Time {
	return v.base.Add(time.Duration(v.k)*v.step + time.Second)
}

func newFixture(t *testing.T, topics map[string]int32, opts ...kfake.Opt) *fixture {
	t.Helper()
	c := kfaketest.Cluster(t, opts...)
	cl := kfaketest.Client(t, c, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	f := &fixture{t: t, cluster: c, cl: cl, adm: kadm.NewClient(cl),
		produced: map[string]map[int32]int64{}, starts: map[string]map[int32]int64{},
		commits: map[string]map[string]map[int32]int64{}}
	for _, name := range slices.Sorted(maps.Keys(topics)) {
		f.createTopic(name, topics[name], nil)
	}
	return f
}

func (f *fixture) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	f.t.Cleanup(cancel)
	return ctx
}

func (f *fixture) createTopic(name string, parts int32, configs map[string]*string) {
	f.t.Helper()
	resp, err := f.adm.CreateTopic(f.ctx(), parts, 1, configs, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		f.t.Fatalf("create topic %s: %v", name, err)
	}
	f.produced[name] = map[int32]int64{}
	for p := range parts {
		f.produced[name][p] = 0
	}
}

// produce appends n records to one partition.
func (f *fixture) produce(topic string, p int32, n int) {
	f.t.Helper()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: topic, Partition: p, Value: fmt.Appendf(nil, `{"n":%d}`, i)}
		if f.clock != nil {
			recs[i].Timestamp = f.clock.now()
		}
	}
	if err := f.cl.ProduceSync(f.ctx(), recs...).FirstErr(); err != nil {
		f.t.Fatalf("produce %s/%d: %v", topic, p, err)
	}
	f.produced[topic][p] += int64(n)
}

// commit commits offsets for a group with no members.
func (f *fixture) commit(group string, offs map[string]map[int32]int64) {
	f.t.Helper()
	var os kadm.Offsets
	for topic, ps := range offs {
		for p, at := range ps {
			os.AddOffset(topic, p, at, -1)
			if f.commits[group] == nil {
				f.commits[group] = map[string]map[int32]int64{}
			}
			if f.commits[group][topic] == nil {
				f.commits[group][topic] = map[int32]int64{}
			}
			f.commits[group][topic][p] = at
		}
	}
	if err := f.adm.CommitAllOffsets(f.ctx(), group, os); err != nil {
		f.t.Fatalf("commit %s: %v", group, err)
	}
}

// deleteBefore deletes the records of a partition below offset at.
func (f *fixture) deleteBefore(topic string, p int32, at int64) {
	f.t.Helper()
	var os kadm.Offsets
	os.AddOffset(topic, p, at, -1)
	resp, err := f.adm.DeleteRecords(f.ctx(), os)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		f.t.Fatalf("delete records %s/%d: %v", topic, p, err)
	}
	if f.starts[topic] == nil {
		f.starts[topic] = map[int32]int64{}
	}
	f.starts[topic][p] = at
}

// wantLag is the expected lag of group on topic from the ledger.
func (f *fixture) wantLag(group, topic string) (total int64, parts map[int32]int64) {
	parts = map[int32]int64{}
	for p, committed := range f.commits[group][topic] {
		end, start := f.produced[topic][p], f.starts[topic][p]
		l := end - max(committed, start)
		parts[p] = max(l, 0)
		total += parts[p]
	}
	return total, parts
}

// collector builds a lag collector on a fresh registry, and returns it with
// a gatherer of what /metrics serves for it (MetricsHandler: the registry
// and the snapshot exposition).
func (f *fixture) collector(cfg lag.Config, exp lag.Expectations) (*lag.Collector, prometheus.Gatherer) {
	f.t.Helper()
	reg := prometheus.NewRegistry()
	c, err := lag.New(cfg, f.cl, exp, reg, slog.New(slog.DiscardHandler), lag.WithRecordClient(f.cl))
	if err != nil {
		f.t.Fatalf("new collector: %v", err)
	}
	return c, scraper{lag.MetricsHandler(reg, func() *lag.Collector { return c }, nil)}
}

// virtualCollector is collector with cycles step apart in virtual time
// (the k-th CollectOnce starts k*step after now), and the fixture's
// records stamped on the same clock, so that statuses that take minutes
// are tested in milliseconds, without sleeping.
func (f *fixture) virtualCollector(cfg lag.Config, exp lag.Expectations, step time.Duration) (*lag.Collector, prometheus.Gatherer) {
	f.t.Helper()
	f.clock = &virtualClock{base: time.Now().Add(-time.Hour), step: step}
	c, g := f.collector(cfg, exp)
	lag.SetClock(c, f.clock.cycle)
	return c, g
}

// scraper gathers by scraping a /metrics handler and parsing the text.
type scraper struct{ h http.Handler }

// Gather scrapes the handler (with gzip) and parses what it served.
func (s scraper) Gather() ([]*dto.MetricFamily, error) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	s.h.ServeHTTP(rec, req)
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		return nil, fmt.Errorf("scrape: %w", err)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	byName, err := parser.TextToMetricFamilies(zr)
	if err != nil {
		return nil, fmt.Errorf("parse scrape: %w", err)
	}
	out := make([]*dto.MetricFamily, 0, len(byName))
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		mf := byName[name]
		slices.SortFunc(mf.Metric, func(a, b *dto.Metric) int { return strings.Compare(labelKey(a), labelKey(b)) })
		out = append(out, mf)
	}
	return out, nil
}

// labelKey orders series as a registry does, by label values.
func labelKey(m *dto.Metric) string {
	var b strings.Builder
	for _, lp := range m.GetLabel() {
		b.WriteString(lp.GetValue())
		b.WriteByte(0)
	}
	return b.String()
}

// countSeries counts the series of the family name that g gathers.
func countSeries(t *testing.T, g prometheus.Gatherer, name string) int {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return len(mf.GetMetric())
		}
	}
	return 0
}

func testConfig() lag.Config {
	return lag.Config{Interval: time.Second, StatusWindow: 3}
}
