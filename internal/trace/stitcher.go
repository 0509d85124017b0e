package trace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/metrics"
)

// Stitcher rebuilds event chains from audited records. Observe only queues;
// one goroutine (Run) owns every chain, so stitching needs no locks. Create
// it with New.
type Stitcher struct {
	cfg       Config
	log       *slog.Logger
	in        chan *event
	now       func() time.Time
	seq       uint64
	chains    *chains
	services  *labelSet
	pathways  *labelSet
	m         *metricSet
	flows     *flows
	exp       *exporter // nil when OTLP export is off
	running   atomic.Bool
	merged    func() Report   // estate-wide report for /api/v1/flows; nil: this stitcher's own
	causation func(Causation) // OnCausation; nil: off

	openTotal *int                        // open chains, local or over every routed partition
	route     *router                     // nil: stitch locally
	parts     map[int32]*part             // routed: the partitions this replica owns
	markers   []marker                    // routed: closed chains to mark once durable
	released  atomic.Uint64               // routed: closed-chain count known durable (Published)
	publish   func(context.Context) error // routed: makes the counts durable (PublishWith)
}

// metricSet holds the stitcher's vectors, created once on the injected registry.
type metricSet struct {
	hop, pathway                    *prometheus.HistogramVec
	propEvents, propCorr, propTrace *prometheus.CounterVec
	broken, dropped, closed         *prometheus.CounterVec
	open, routed                    *prometheus.GaugeVec
	spansExported, spansDropped     *prometheus.CounterVec
}

func newMetricSet(reg prometheus.Registerer) *metricSet {
	m := &metricSet{
		hop: metrics.HopLatency.NewHistogramVec(reg), pathway: metrics.PathwayLatency.NewHistogramVec(reg),
		propEvents: metrics.PropagationEvents.NewCounterVec(reg), propCorr: metrics.PropagationCorrelation.NewCounterVec(reg),
		propTrace: metrics.PropagationTraceContext.NewCounterVec(reg), broken: metrics.BrokenChains.NewCounterVec(reg),
		dropped: metrics.TraceDropped.NewCounterVec(reg), closed: metrics.TraceChainsClosed.NewCounterVec(reg),
		open: metrics.TraceOpenChains.NewGaugeVec(reg), routed: metrics.TraceRoutingPartitions.NewGaugeVec(reg), spansExported: metrics.OTLPSpansExported.NewCounterVec(reg),
		spansDropped: metrics.OTLPSpansDropped.NewCounterVec(reg),
	}
	for _, r := range []string{dropQueueFull, dropMaxChains, dropChainFull, dropNoContext, dropDuplicate, dropRouteFull, dropRouteError, dropBadMessage} {
		m.dropped.WithLabelValues(r)
	}
	for _, r := range []string{spanDropQueueFull, spanDropExportError, spanDropShutdown} {
		m.spansDropped.WithLabelValues(r)
	}
	m.spansExported.WithLabelValues()
	m.closed.WithLabelValues()
	m.open.WithLabelValues().Set(0)
	m.routed.WithLabelValues().Set(0)
	return m
}

// New validates cfg (after applying defaults), registers the trace metrics on
// reg and, when OTLP export is on, creates the exporter client (it connects
// lazily; an unreachable collector costs dropped spans, not an error here).
func New(cfg Config, reg prometheus.Registerer, log *slog.Logger) (*Stitcher, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validate trace config: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Stitcher{
		cfg: cfg, log: log.With("component", "trace"),
		in: make(chan *event, cfg.QueueSize), now: time.Now,
		openTotal: new(int),
		services:  newLabelSet(cfg.MaxServices), pathways: newLabelSet(cfg.MaxPathways),
		m: newMetricSet(reg), flows: newFlows(cfg.BrokenChains),
	}
	s.chains = newChains(cfg.MaxOpenChains, cfg.MaxChainEvents, s.openTotal)
	if cfg.OTLP.Enabled {
		exp, err := newExporter(cfg.OTLP, s.m, s.log)
		if err != nil {
			return nil, err
		}
		s.exp = exp
	}
	return s, nil
}

// Observe queues what the stitcher needs of one audited record (references,
// envelope fields and the resolved trace context, never the payload). It
// never blocks: when the queue is full the event is dropped and counted
// (eventwatch_trace_dropped_total{reason="queue_full"}). Safe for concurrent use.
func (s *Stitcher) Observe(rec *audit.Record, res *audit.Result) {
	if rec == nil || res == nil {
		return
	}
	e := newEvent(rec, res)
	e.Observed = s.now()
	select {
	case s.in <- e:
	default:
		s.m.dropped.WithLabelValues(dropQueueFull).Inc()
	}
}

// newEvent copies what the stitcher keeps of a record and its result.
func newEvent(rec *audit.Record, res *audit.Result) *event {
	return &event{
		Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset,
		EventID: res.EventID, EventType: res.EventType, Service: res.Source,
		Correlation: res.CorrelationID, Ctx: Resolve(res), Key: recordKey(rec.Key),
		EventTime: res.EventTime, RecordTime: rec.Timestamp, Size: res.Size, msg: -1,
	}
}

// maxKeyBytes bounds the record key kept for messaging.kafka.message.key.
const maxKeyBytes = 256

// recordKey is the record key as text, at most maxKeyBytes; empty when the
// key is absent or not valid UTF-8 (a binary key is not an attribute value).
func recordKey(k []byte) string {
	if len(k) > maxKeyBytes {
		k = k[:maxKeyBytes]
	}
	if !utf8.Valid(k) {
		return ""
	}
	return string(k)
}

// Run stitches queued events and closes chains whose window passed until ctx
// ends; then it closes every open chain (so their hops still count), flushes
// the span queue to the OTLP endpoint within the export timeout, and returns
// nil. It returns an error only when called a second time.
func (s *Stitcher) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("run trace stitcher: already running")
	}
	if s.exp != nil {
		go s.exp.run()
	}
	s.log.Info("trace stitcher running", "window", s.cfg.Window, "max_open_chains", s.cfg.MaxOpenChains,
		"otlp", s.cfg.OTLP.Enabled, "otlp_protocol", s.cfg.OTLP.Protocol, "routed", s.route != nil)
	if s.route != nil {
		return s.runRouted(ctx)
	}
	tick := time.NewTicker(sweepInterval(s.cfg.Window))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			s.shutdown()
			return nil
		case e := <-s.in:
			s.ingest(e, s.now())
		case <-tick.C:
			s.sweep(s.now())
		}
	}
}

// sweepInterval checks for expired chains often enough that a chain closes
// within a tenth of its window, at most once a second and at least every 10ms.
func sweepInterval(window time.Duration) time.Duration {
	return min(max(window/10, 10*time.Millisecond), time.Second)
}

// shutdown stitches what is still queued, closes every chain and flushes
// the exporter.
func (s *Stitcher) shutdown() {
	for drained := false; !drained; {
		select {
		case e := <-s.in:
			s.ingest(e, s.now())
		default:
			drained = true
		}
	}
	for _, c := range s.chains.all() {
		s.close(c)
	}
	s.updateOpen()
	s.shutdownExporter()
}

// shutdownExporter flushes the span queue within twice the export timeout.
func (s *Stitcher) shutdownExporter() {
	if s.exp != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*s.cfg.OTLP.Timeout)
		defer cancel()
		s.exp.shutdown(ctx)
	}
}

// Flows reports pathways, hops, propagation health and the worst broken
// chains that this stitcher saw.
func (s *Stitcher) Flows() Report {
	return s.flows.report(s.now())
}

// FlowsDoc returns a copy of this stitcher's aggregates, to publish to the
// other replicas (see MergeFlows).
func (s *Stitcher) FlowsDoc() FlowsDoc { return s.flows.snapshot() }

// ServeMerged makes GET /api/v1/flows answer with report (the estate-wide
// merge of every replica's FlowsDoc) instead of this stitcher's own.
// Call it before serving.
func (s *Stitcher) ServeMerged(report func() Report) { s.merged = report }

// ingest counts propagation, stitches e into its chain and exports its span.
func (s *Stitcher) ingest(e *event, now time.Time) {
	s.seq++
	e.seq = s.seq
	if e.Service == "" {
		e.Service = unknownService
	}
	e.Service = s.services.value(e.Service)
	s.countPropagation(e)
	c, reason := s.chains.add(e, now)
	if reason != "" {
		s.m.dropped.WithLabelValues(reason).Inc()
	}
	if reason == dropDuplicate || e.Ctx.Origin == OriginNone {
		return
	}
	s.exportSpan(e, c, reason == "")
	s.updateOpen()
}

func (s *Stitcher) countPropagation(e *event) {
	s.m.propEvents.WithLabelValues(e.Service).Inc()
	corr, traced := e.Correlation != "", e.Ctx.Real()
	if corr {
		s.m.propCorr.WithLabelValues(e.Service).Inc()
	}
	if traced {
		s.m.propTrace.WithLabelValues(e.Service).Inc()
	}
	s.flows.observeEvent(e.Service, corr, traced)
}

// exportSpan emits e's span. An event without its own trace joins its
// chain's first real trace, else its correlation-derived trace.
func (s *Stitcher) exportSpan(e *event, c *chain, stitched bool) {
	if s.exp == nil {
		return
	}
	traceID := e.Ctx.TraceID
	var up *event
	if stitched {
		up = c.upstream(e)
		if !e.Ctx.Real() && len(c.traces) > 0 {
			traceID = c.traces[0]
		}
	}
	e.spanTrace, e.span = s.exp.export(e, traceID, up)
}

// sweep closes every chain whose last event arrived a window before now.
func (s *Stitcher) sweep(now time.Time) {
	for _, c := range s.chains.expire(now.Add(-s.cfg.Window)) {
		s.close(c)
	}
	s.updateOpen()
}

func (s *Stitcher) updateOpen() {
	n := *s.openTotal
	s.m.open.WithLabelValues().Set(float64(n))
	s.flows.setOpen(n)
}

// close analyses a chain and records its hops, flows and breaks.
func (s *Stitcher) close(c *chain) {
	a := analyse(c)
	s.m.closed.WithLabelValues().Inc()
	labels := make([]string, len(a.Paths))
	for i, p := range a.Paths {
		labels[i] = s.pathways.value(p.Pathway())
		s.m.pathway.WithLabelValues(labels[i]).Observe(p.Latency.Seconds())
	}
	for _, h := range a.Hops {
		s.m.hop.WithLabelValues(h.From.Service, h.To.Service).Observe(h.Latency.Seconds())
	}
	var broken *BrokenChain
	if len(a.Breaks) > 0 {
		broken = s.brokenChain(c, a, s.now())
		s.countBreaks(a.Breaks)
	}
	s.flows.observeChain(a, labels, broken)
	s.emitCausation(c, a)
}

// countBreaks counts a closed chain once per (service, reason) it broke by.
func (s *Stitcher) countBreaks(breaks []brk) {
	seen := map[brk]bool{}
	for _, b := range breaks {
		k := brk{Service: b.Service, Reason: b.Reason}
		if !seen[k] {
			seen[k] = true
			s.m.broken.WithLabelValues(b.Service, b.Reason).Inc()
		}
	}
}

// brokenChain describes a broken chain with references to its records.
func (s *Stitcher) brokenChain(c *chain, a analysis, at time.Time) *BrokenChain {
	b := &BrokenChain{ClosedAt: at, TraceID: a.Trace.String()}
	if len(c.correlations) > 0 {
		b.CorrelationID = c.correlations[0]
	}
	for _, p := range a.Paths {
		b.Pathways = append(b.Pathways, p.Pathway())
	}
	for _, x := range a.Breaks {
		b.Breaks = append(b.Breaks, Break(x))
	}
	for i, e := range a.Events {
		ref := eventRef(e)
		ref.Upstream = a.Up[i]
		b.Events = append(b.Events, ref)
	}
	return b
}

func eventRef(e *event) EventRef {
	r := EventRef{Topic: e.Topic, Partition: e.Partition, Offset: e.Offset, EventID: e.EventID,
		EventType: e.EventType, Service: e.Service, CorrelationID: e.Correlation, Context: e.Ctx.Origin,
		EventTime: e.EventTime, RecordTime: e.RecordTime}
	if e.Ctx.TraceID != (oteltrace.TraceID{}) {
		r.TraceID = e.Ctx.TraceID.String()
	}
	return r
}
