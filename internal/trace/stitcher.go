package trace

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/eventwatch/eventwatch/internal/metrics"
)

// Stitcher rebuilds event chains from audited records. Observe only queues;
// one goroutine (Run) owns every chain, so stitching needs no locks. Create
// it with New.
type Stitcher struct {
	cfg       Config
	log       *slog.Logger
	in        chan *seenEvent
	now       func() time.Time
	seq       uint64
	chains    *chains
	services  *labelSet
	pathways  *labelSet
	m         *metricSet
	flows     *flows
	exp       *exporter // nil when OTLP export is off
	running   atomic.Bool
	merged    func() Report                                      // estate-wide report for /api/v1/flows; nil: this stitcher's own
	spansIn   chan spanBatch                                     // spans for the join (ObserveSpans)
	spanIdx   *spanIndex                                         // local stitching: the spans held for the join
	spanBase  []kgo.Opt                                          // client options of the span reader; nil: no topic is read
	leaderOf  func(topic string, partition int32) (string, bool) // SetLeaderLookup; nil: server.address is the first bootstrap broker
	causation func(Causation)                                    // OnCausation; nil: off

	openTotal   *int                        // open chains, local or over every routed partition
	closedTotal *int                        // closed chains remembered for late events, over every partition
	mem         *stateBudget                // estimated bytes of open and remembered chains, over every partition
	route       *router                     // nil: stitch locally
	parts       map[int32]*part             // routed: the partitions this replica owns
	markers     []marker                    // routed: closed chains to mark once durable
	released    atomic.Uint64               // routed: closed-chain count known durable (Published)
	publish     func(context.Context) error // routed: makes the counts durable (PublishWith)
	sweeps      atomic.Int64                // sweeps run (tests: an idle stitcher does not wake)
}

// metricSet holds the stitcher's vectors, created once on the injected registry.
type metricSet struct {
	hop, pathway                    *prometheus.HistogramVec
	propEvents, propCorr, propTrace *prometheus.CounterVec
	broken, dropped, closed         *prometheus.CounterVec
	open, routed, state, remembered *prometheus.GaugeVec
	evicted                         *prometheus.CounterVec
	spansExported, spansDropped     *prometheus.CounterVec
	causation, late, spans          *prometheus.CounterVec
	deadLetters                     *prometheus.CounterVec
}

func newMetricSet(reg prometheus.Registerer) *metricSet {
	m := &metricSet{
		hop: metrics.HopLatency.NewHistogramVec(reg), pathway: metrics.PathwayLatency.NewHistogramVec(reg),
		propEvents: metrics.PropagationEvents.NewCounterVec(reg), propCorr: metrics.PropagationCorrelation.NewCounterVec(reg),
		propTrace: metrics.PropagationTraceContext.NewCounterVec(reg), broken: metrics.BrokenChains.NewCounterVec(reg),
		dropped: metrics.TraceDropped.NewCounterVec(reg), closed: metrics.TraceChainsClosed.NewCounterVec(reg),
		open: metrics.TraceOpenChains.NewGaugeVec(reg), routed: metrics.TraceRoutingPartitions.NewGaugeVec(reg), spansExported: metrics.OTLPSpansExported.NewCounterVec(reg),
		spansDropped: metrics.OTLPSpansDropped.NewCounterVec(reg),
		causation:    metrics.TraceCausation.NewCounterVec(reg), late: metrics.TraceLateEvents.NewCounterVec(reg),
		spans: metrics.TraceSpans.NewCounterVec(reg), deadLetters: metrics.TraceDeadLetters.NewCounterVec(reg),
		state: metrics.TraceStateBytes.NewGaugeVec(reg), remembered: metrics.TraceRememberedChains.NewGaugeVec(reg),
		evicted: metrics.TraceEvictedChains.NewCounterVec(reg),
	}
	for _, st := range []string{stateOpen, stateClosed} {
		m.state.WithLabelValues(st).Set(0)
		m.evicted.WithLabelValues(st)
	}
	m.remembered.WithLabelValues().Set(0)
	for _, c := range []Cause{CauseExact, CauseInferred, CauseAmbiguous, CauseRoot} {
		m.causation.WithLabelValues(string(c))
	}
	for _, o := range []string{spanReceived, spanEdge, spanBadMessage, spanDropped, spanUnresolved} {
		m.spans.WithLabelValues(o)
	}
	m.late.WithLabelValues()
	m.deadLetters.WithLabelValues()
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
	cfg.LateWindow = cfg.lateWindow()
	if log == nil {
		log = slog.Default()
	}
	s := &Stitcher{
		cfg: cfg, log: log.With("component", "trace"),
		in: make(chan *seenEvent, cfg.QueueSize), now: time.Now,
		openTotal: new(int), closedTotal: new(int), mem: &stateBudget{max: cfg.MaxStateBytes},
		services: newLabelSet(cfg.MaxServices), pathways: newLabelSet(cfg.MaxPathways),
		m: newMetricSet(reg), flows: newFlows(cfg.BrokenChains, cfg.RecentChains),
	}
	s.chains = s.newChainSet()
	s.spansIn = make(chan spanBatch, cfg.Spans.QueueSize)
	s.spanIdx = s.newSpanIndex()
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
func (s *Stitcher) Observe(rec *event.Record, res *event.Result) {
	if rec == nil || res == nil {
		return
	}
	e := newEvent(rec, res)
	e.DeadLetter = res.DeadLetter
	e.Observed = s.now()
	if s.leaderOf != nil {
		if addr, ok := s.leaderOf(rec.Topic, rec.Partition); ok {
			e.Leader = addr
		}
	}
	select {
	case s.in <- e:
	default:
		s.m.dropped.WithLabelValues(dropQueueFull).Inc()
	}
}

// newEvent copies what the stitcher keeps of a record and its result.
func newEvent(rec *event.Record, res *event.Result) *seenEvent {
	return &seenEvent{
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
	s.log.Info("trace stitcher running", "window", s.cfg.Window, "max_open_chains", s.cfg.MaxOpenChains, "max_state_bytes", s.cfg.MaxStateBytes,
		"otlp", s.cfg.OTLP.Enabled, "otlp_protocol", s.cfg.OTLP.Protocol, "routed", s.route != nil)
	if s.spanBase != nil {
		r := &spanReader{cfg: s.cfg.Spans, wait: fetchWait(s.cfg.Window), base: s.spanBase, log: s.log, s: s}
		readCtx, stopRead := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); r.run(readCtx) }()
		defer func() { stopRead(); <-done }()
	}
	if s.route != nil {
		return s.runRouted(ctx)
	}
	sw := newSweeper(sweepInterval(s.cfg.Window))
	defer sw.stop()
	for {
		select {
		case <-ctx.Done():
			s.shutdown()
			return nil
		case e := <-s.in:
			s.ingest(e, s.now())
			sw.wake()
		case sb := <-s.spansIn:
			s.holdSpans(s.spanIdx, sb.trace, sb.spans, s.now())
			sw.wake()
		case <-sw.c():
			sw.swept(s.sweep(s.now()))
		}
	}
}

// newChainSet is an empty set of chains under the shared open-chain bound,
// remembering closed chains for trace.late_window when that is on.
func (s *Stitcher) newChainSet() *chains {
	cs := newChains(s.cfg.MaxOpenChains, s.cfg.MaxChainEvents, s.openTotal)
	cs.mem = s.mem
	if s.cfg.LateWindow > 0 {
		cs.closed = newClosedSet(s.cfg.MaxOpenChains, s.closedTotal, s.mem)
	}
	return cs
}

// SetLeaderLookup tells the stitcher which broker each partition's records
// were fetched from (sample.Sampler.FetchedFrom), for the server.address
// of eventwatch's spans. Call it before Run.
func (s *Stitcher) SetLeaderLookup(fn func(topic string, partition int32) (string, bool)) {
	s.leaderOf = fn
}

// EnableSpanTopic makes Run read trace.spans.topic (base: the client
// options). Call it before Run; the daemon does when trace.spans.enabled.
func (s *Stitcher) EnableSpanTopic(base []kgo.Opt) { s.spanBase = base }

// newSpanIndex is an empty span index with the configured bounds, holding
// spans for the window and the late window.
func (s *Stitcher) newSpanIndex() *spanIndex {
	return newSpanIndex(s.cfg.Spans.MaxSpans, s.cfg.Spans.MaxTraceSpans, s.cfg.Window+max(s.cfg.LateWindow, 0))
}

// holdSpans puts spans of one trace into idx, counting what it could not hold.
func (s *Stitcher) holdSpans(idx *spanIndex, id oteltrace.TraceID, spans []spanRec, now time.Time) {
	dropped := idx.add(id, spans, now)
	s.m.spans.WithLabelValues(spanReceived).Add(float64(len(spans) - dropped))
	if dropped > 0 {
		s.m.spans.WithLabelValues(spanDropped).Add(float64(dropped))
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
		s.close(c, s.spanIdx, nil)
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
func (s *Stitcher) ingest(e *seenEvent, now time.Time) {
	s.seq++
	e.seq = s.seq
	if e.Service == "" {
		e.Service = unknownService
	}
	if e.DeadLetter {
		s.chains.noteDeadLetter(e)
		s.countDeadLetter()
		return
	}
	e.Service = s.services.value(e.Service)
	s.countPropagation(e)
	c, reason := s.chains.add(e, now)
	if reason != "" {
		s.m.dropped.WithLabelValues(reason).Inc()
	}
	s.trimLocal(c)
	s.countLate(e)
	if reason == dropDuplicate || e.Ctx.Origin == OriginNone {
		return
	}
	s.exportSpan(e, c, reason == "", s.spanIdx)
	s.updateOpen()
}

// countLate counts an event that reopened its closed chain.
func (s *Stitcher) countLate(e *seenEvent) {
	if e.late {
		s.m.late.WithLabelValues().Inc()
		s.flows.late()
	}
}

func (s *Stitcher) countPropagation(e *seenEvent) {
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
func (s *Stitcher) exportSpan(e *seenEvent, c *chain, stitched bool, idx *spanIndex) {
	if s.exp == nil {
		return
	}
	traceID := e.Ctx.TraceID
	var up *seenEvent
	if stitched {
		idx.edgesFor(c)
		up = c.upstream(e)
		if !e.Ctx.Real() && len(c.traces) > 0 {
			traceID = c.traces[0]
		}
	}
	e.spanTrace, e.span = s.exp.export(e, traceID, up)
}

// sweep closes every chain whose last event arrived a window before now. It
// reports whether nothing is left for a later sweep to close or forget.
func (s *Stitcher) sweep(now time.Time) (idle bool) {
	s.sweeps.Add(1)
	for _, c := range s.chains.expire(now.Add(-s.cfg.Window)) {
		s.close(c, s.spanIdx, s.chains.closed)
	}
	s.chains.closed.expire(now.Add(-s.cfg.Window - s.cfg.LateWindow))
	s.trimLocal(nil)
	s.updateOpen()
	return s.chains.empty()
}

// updateOpen sets the gauges of the chain state.
func (s *Stitcher) updateOpen() {
	n := *s.openTotal
	s.m.open.WithLabelValues().Set(float64(n))
	s.m.remembered.WithLabelValues().Set(float64(*s.closedTotal))
	s.m.state.WithLabelValues(stateOpen).Set(float64(s.mem.open))
	s.m.state.WithLabelValues(stateClosed).Set(float64(s.mem.closed))
	s.flows.setOpen(n)
}

// close analyses a chain and records its hops, flows, causation and
// breaks — for a chain a late event reopened, what changed since it was
// counted — and remembers it for late events (trace.late_window).
func (s *Stitcher) close(c *chain, idx *spanIndex, closed *closedSet) {
	idx.edgesFor(c)
	s.countEdges(c)
	a := analyse(c)
	now := countedOf(a)
	prev := c.counted
	d := diff(prev, now)
	first := prev == nil
	c.counted = now
	if first {
		s.m.closed.WithLabelValues().Inc()
	}
	for _, p := range d.addPaths {
		s.m.pathway.WithLabelValues(s.pathways.value(p.Pathway())).Observe(p.Latency.Seconds())
	}
	for _, h := range d.addHops {
		s.m.hop.WithLabelValues(h.From.Service, h.To.Service).Observe(h.Latency.Seconds())
	}
	for i, e := range a.Events {
		if _, seen := prev.howOf(e); !seen {
			s.m.causation.WithLabelValues(string(a.How[i])).Inc()
		}
	}
	if len(a.Breaks) > 0 && first {
		s.countBreaks(a.Breaks)
	}
	label := func(p path) string { return s.pathways.value(p.Pathway()) }
	s.flows.observeChain(d, label, s.chainView(c, a, s.now()), len(a.Breaks) > 0, first)
	if first {
		s.emitCausation(c, a) // once per chain: what a late event adds is not handed on again
	}
	closed.remember(c)
}

// countEdges counts, when spans are read, the send spans of c whose cause
// the spans told and those they did not.
func (s *Stitcher) countEdges(c *chain) {
	if !s.cfg.Spans.On() {
		return
	}
	for _, e := range c.events {
		if sp, ok := sendSpan(e); ok {
			if _, ok := c.edges[sp]; ok {
				s.m.spans.WithLabelValues(spanEdge).Inc()
			} else {
				s.m.spans.WithLabelValues(spanUnresolved).Inc()
			}
		}
	}
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

// chainView describes a closed chain with references to its records and
// how each one's upstream was found.
func (s *Stitcher) chainView(c *chain, a analysis, at time.Time) BrokenChain {
	b := BrokenChain{ClosedAt: at, TraceID: a.Trace.String(), Pathways: []string{}, Breaks: []Break{}}
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
		ref.Upstream, ref.Causation, ref.Candidates = a.Up[i], a.How[i], a.Cands[i]
		ref.DeadLetter = c.deadLetterOf(e.EventID)
		b.Events = append(b.Events, ref)
	}
	return b
}

func eventRef(e *seenEvent) EventRef {
	r := EventRef{Topic: e.Topic, Partition: e.Partition, Offset: e.Offset, EventID: e.EventID,
		EventType: e.EventType, Service: e.Service, CorrelationID: e.Correlation, Context: e.Ctx.Origin,
		EventTime: e.EventTime, RecordTime: e.RecordTime}
	if e.Ctx.TraceID != (oteltrace.TraceID{}) {
		r.TraceID = e.Ctx.TraceID.String()
	}
	return r
}
