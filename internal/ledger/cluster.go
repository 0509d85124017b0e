package ledger

import (
	"time"

	"github.com/eventwatch/eventwatch/internal/store"
)

// LagBreach is how long a consumer group spent above its lag objective.
type LagBreach struct {
	Breach   time.Duration // time with lag above the objective
	Err      time.Duration // time the group's lag status (internal/lag, Burrow's rules) was ERR
	Observed time.Duration // time the group was observed at all
	Lost     int64         // records deleted by retention before the group read them, in the window
	AtRisk   time.Duration // time retention was about to delete a record the group had not read (time to loss under lag.RiskHorizon)
}

// Coverage counts event hops and how many carried trace context onward.
type Coverage struct {
	Hops       int64 // hops (consumed event followed by a produced one) seen
	Propagated int64 // of those, hops that kept the trace context
}

// ClusterSource gives the report the numbers that do not come from audited
// records. Each method returns the amount for the window [from, to) only
// (a delta, not a running total); the ledger asks for consecutive
// windows, once per flush, and stores the answers in hourly rows. A replica
// that does not run the singleton collectors returns empty maps. Methods
// must be cheap and must not call Kafka (read a snapshot).
type ClusterSource interface {
	// DLQGrowth returns records added per dead-letter topic.
	DLQGrowth(from, to time.Time) map[string]int64
	// LagBreach returns lag-objective breach time per consumer group.
	LagBreach(from, to time.Time) map[string]LagBreach
	// Propagation returns trace propagation per producing service.
	Propagation(from, to time.Time) map[string]Coverage
}

// sampleCluster asks the source for the window since the last sample and
// buffers the answers; the groups' lag rows are held (laghold.go) and
// buffered when due, every one of them when all is set. Called with
// flushMu held.
func (l *Ledger) sampleCluster(all bool) {
	now := l.now()
	from := l.lastSample
	l.lastSample = now
	l.samples++
	hour := store.HourOf(now.Add(-time.Nanosecond)).Unix()
	var rows []clusterRow
	addAt := func(h int64, kind, name string, v, total float64) {
		rows = append(rows, clusterRow{clusterKey{h, kind, clip(name)}, clusterVal{v, total}})
	}
	add := func(kind, name string, v, total float64) { addAt(hour, kind, name, v, total) }
	if l.cluster != nil && now.After(from) {
		l.sampleSource(from, now, hour, add)
	}
	l.releaseLag(hour, all || l.lagHold <= 0, addAt)
	l.bufferCluster(rows)
}

// sampleSource asks the source for [from, now) and adds the rows of hour;
// the groups' lag rows are held (flushMu held).
func (l *Ledger) sampleSource(from, now time.Time, hour int64, add func(kind, name string, v, total float64)) {
	for topic, n := range l.cluster.DLQGrowth(from, now) {
		add(store.KindDLQGrowth, topic, float64(n), 0)
	}
	for group, b := range l.cluster.LagBreach(from, now) {
		l.holdLag(hour, group, b)
		if b.Lost > 0 {
			add(store.KindLagLost, group, float64(b.Lost), 0)
		}
	}
	for svc, c := range l.cluster.Propagation(from, now) {
		add(store.KindPropagation, svc, float64(c.Propagated), float64(c.Hops))
	}
	webSocketRows(l.cluster, from, now, add)
}

// clusterRow is one cluster row to buffer.
type clusterRow struct {
	k clusterKey
	v clusterVal
}

// bufferCluster adds cluster rows to the unpositioned buffer, counting
// those that do not fit.
func (l *Ledger) bufferCluster(rows []clusterRow) {
	dropped := 0
	l.mu.Lock()
	before := l.pending.size()
	for _, r := range rows {
		if !l.pending.addCluster(r.k, r.v, l.cfg.BufferLimit) {
			dropped++
		}
	}
	l.rows += l.pending.size() - before
	l.mu.Unlock()
	if dropped > 0 {
		l.m.dropped.Add(float64(dropped))
	}
}

// WebSocketTarget is what one WebSocket target's probes added since the
// previous call (deltas).
type WebSocketTarget struct {
	Service, Target   string
	Probes, Failures  int64 // probes ended, of which failed
	NonCompliant      int64 // probes that failed or found an error-severity violation
	Messages          int64 // messages audited
	MessagesCompliant int64 // of which without an error-severity violation
	Violations        []WebSocketRule
}

// WebSocketRule is the violations of one rule found on a target.
type WebSocketRule struct {
	Rule, Severity string
	Count          int64
}

// WebSocketSource is a ClusterSource that also reports WebSocket probe
// results; the ledger stores them as the store.KindWS* cluster rows, so the
// weekly report has each endpoint's week.
type WebSocketSource interface {
	// WebSockets returns what each target's probes added in [from, to).
	WebSockets(from, to time.Time) []WebSocketTarget
}

// webSocketRows turns the source's WebSocket deltas into cluster rows.
func webSocketRows(src ClusterSource, from, to time.Time, add func(kind, name string, v, total float64)) {
	ws, ok := src.(WebSocketSource)
	if !ok {
		return
	}
	for _, t := range ws.WebSockets(from, to) {
		name := store.WebSocketName(t.Service, t.Target)
		if t.Probes > 0 {
			add(store.KindWSProbes, name, float64(t.Failures), float64(t.Probes))
			add(store.KindWSNonCompliant, name, float64(t.NonCompliant), float64(t.Probes))
		}
		if t.Messages > 0 {
			add(store.KindWSMessages, name, float64(t.MessagesCompliant), float64(t.Messages))
		}
		for _, v := range t.Violations {
			add(store.KindWSViolations, store.WebSocketName(t.Service, t.Target, v.Rule, v.Severity), float64(v.Count), 0)
		}
	}
}
