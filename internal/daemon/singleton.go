package daemon

import (
	"github.com/eventwatch/eventwatch/internal/catalog"

	"github.com/eventwatch/eventwatch/internal/recordmetrics"

	"github.com/eventwatch/eventwatch/internal/event"

	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/dlq"
	"github.com/eventwatch/eventwatch/internal/lag"
)

// term is the singleton work of one leadership term: a lag collector with
// its own registry and routes, dropped as a whole when the term ends so a
// replica that stops leading stops exporting the cluster-wide series.
type term struct {
	shared atomic.Int64 // the last lag cycle whose groups document is on the topic
	reg    *prometheus.Registry
	mux    *http.ServeMux
	lag    *lag.Collector
	poison *dlq.Poison // the records blocking STALL partitions
	// the lag collector's clients (termClients): admin requests, record fetches
	admin, records *kgo.Client
}

// leadWork runs the singleton work for one term; the elector calls it when
// this replica becomes the leader and cancels ctx when it stops being one.
func (d *daemon) leadWork(ctx context.Context) error {
	cl, records, release, err := d.termClients(ctx)
	if err != nil {
		return err
	}
	defer release()
	t := &term{reg: prometheus.NewRegistry(), mux: http.NewServeMux(), admin: cl, records: records}
	t.lag, err = lag.New(d.cfg.Lag, cl, d.expectations(), t.reg, d.root, lag.WithRecordClient(records),
		lag.WithSampledTimes(d.seenTimes))
	if err != nil {
		return fmt.Errorf("create lag collector: %w", err)
	}
	lagMux := http.NewServeMux()
	t.lag.Routes(lagMux)
	t.poison = dlq.NewPoison(d.base, d.auditor, t.reg)
	t.mux = withPoison(lagMux, t.poison)
	d.term.Store(t)
	defer d.term.Store(nil)
	defer d.board.Retire(kindGroups) // no heartbeat for a page this replica no longer makes
	jctx, stop := context.WithCancel(ctx)
	joined := make(chan struct{}, 2)
	go func() {
		defer func() { joined <- struct{}{} }()
		d.joinLoop(jctx, t.lag)
	}()
	go func() {
		defer func() { joined <- struct{}{} }()
		d.poisonLoop(jctx, t.lag, t.poison)
	}()
	defer func() { stop(); <-joined; <-joined }()
	return t.lag.Run(ctx)
}

// termClients are the Kafka clients of a term's lag collector. Its admin
// requests go on the sampler's client, once the sampler has one (waiting
// up to one lag interval for it at start), so a leader keeps one client
// with the metadata of every partition — franz-go caches each Metadata
// answer per client (≈ 20 MB at 50,000 partitions) — and one set of
// connections for them. Its record fetches (exact time lag) go on a client
// of the term's own: franz-go sends every Fetch on one connection per
// broker, where the sampler's fetch waits up to sample.fetch_max_wait for
// records, so a lookup sent there would wait behind it; that client only
// sends requests to known leaders and caches no topic. Without the
// sampler's client both are the term's own, as one. release closes what
// the term opened.
func (d *daemon) termClients(ctx context.Context) (admin, records *kgo.Client, release func(), err error) {
	own, err := kgo.NewClient(d.base...)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("create admin client: %w", err)
	}
	if cl := d.sampler.Client(ctx, d.cfg.Lag.Interval); cl != nil {
		d.log.Debug("lag collector sends its admin requests on the sampling client")
		return cl, own, own.Close, nil
	}
	d.log.Debug("lag collector uses a client of its own: the sampler has none")
	return own, own, own.Close, nil
}

// listedTopics is the topic listing of this term's lag collector, when
// this replica leads and its last cycle is younger than maxAge: the
// sampler's topic source (sample.WithTopicSource), so the leader asks
// Kafka for every partition's metadata once per lag cycle, not once more
// for the sampler.
func (d *daemon) listedTopics(maxAge time.Duration) (map[string]int, time.Time, bool) {
	t := d.term.Load()
	if t == nil {
		return nil, time.Time{}, false
	}
	l, ok := t.lag.Listed(maxAge)
	if !ok {
		return nil, time.Time{}, false
	}
	return l.Partitions, l.At, true
}

// expectations turns the default profile's cluster policy and the catalog's
// expected consumers into the lag collector's cluster rules.
func (d *daemon) expectations() lag.Expectations {
	r := d.auditor.cur.Load()
	p := r.def.Profile()
	exp := lag.Expectations{
		MinReplicationFactor: p.Cluster.MinReplicationFactor,
		MinRetention:         p.Cluster.MinRetention,
		MinBrokers:           p.Cluster.MinBrokers,
		DLQRetention:         p.Cluster.DLQRetention,
		Severity:             map[string]string{},
	}
	for _, rule := range event.ClusterRules() {
		if sev, ok := p.RuleSeverity(rule.ID, ""); ok {
			exp.Severity[rule.ID] = string(sev)
		} else {
			exp.Severity[rule.ID] = "off"
		}
	}
	exp.ExpectedConsumers = expectedConsumers(r.catalog)
	exp.ProducingServices = d.producingServices
	exp.ServiceOfTopic = d.counters.TopicService
	exp.SamplerGroup = d.cfg.Sample.GroupID
	exp.OwnGroups = []string{d.cfg.Sample.GroupID, d.cfg.Leader.Group, d.cfg.Trace.Routing.Group}
	exp.SampledTopic = d.sampler.WantTopic
	exp.NotIdempotent = d.notIdempotent
	return exp
}

// producingServices are the source services this replica's audits have seen
// (dlq.missing checks each has a dead-letter topic); the placeholder labels
// for a missing or over-the-bound service are not services.
func (d *daemon) producingServices() []string {
	all := d.counters.SourceServices()
	out := all[:0:0]
	for _, s := range all {
		if s != recordmetrics.ServiceUnknown && s != recordmetrics.ServiceOther {
			out = append(out, s)
		}
	}
	return out
}

func expectedConsumers(cat *catalog.Catalog) map[string][]string {
	if cat == nil {
		return nil
	}
	out := map[string][]string{}
	for _, e := range cat.Entries() {
		if e.Topic != "" && len(e.Consumers) > 0 {
			out[e.Topic] = append(out[e.Topic], e.Consumers...)
		}
	}
	return out
}

// gatherers is the /metrics source: the daemon's registry plus the current
// term's, when this replica leads.
func (d *daemon) gatherers() prometheus.Gatherer {
	return prometheus.Gatherers{d.reg, prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		if t := d.term.Load(); t != nil {
			return t.reg.Gather()
		}
		return nil, nil
	})}
}
