package daemon

import (
	"sync"
	"time"

	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/ledger"
	"github.com/eventwatch/eventwatch/internal/websocket"
)

// clusterSource feeds the ledger the numbers that do not come
// from audited records: DLQ growth and lag-objective breach time from the
// lag collector's snapshot (leader only, so the store counts them once) and
// trace propagation from this replica's stitcher, and the WebSocket
// prober's results (leader only; websocket.go). Each call returns the
// change since the previous call; counters are remembered here.
type clusterSource struct {
	d *daemon

	mu       sync.Mutex
	dlqSeen  map[string]int64 // DLQ topic -> records ever written, at the last call
	lostSeen map[string]int64 // consumer group -> records lost to retention, at the last call
	propSeen map[string]ledger.Coverage
	wsSeen   map[string]websocket.Totals // WebSocket target -> its totals at the last call (nil: no baseline yet)
}

// DLQGrowth returns records added per dead-letter topic since the last call.
func (c *clusterSource) DLQGrowth(_, _ time.Time) map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.d.term.Load()
	if t == nil {
		c.dlqSeen = nil // a new term starts a new baseline
		return nil
	}
	snap := t.lag.Snapshot()
	if snap == nil {
		return nil
	}
	out := map[string]int64{}
	next := map[string]int64{}
	for _, q := range snap.DLQs {
		next[q.Topic] = q.Records
		if prev, ok := c.dlqSeen[q.Topic]; ok && q.Records > prev {
			out[q.Topic] = q.Records - prev
		}
	}
	c.dlqSeen = next
	return out
}

// LagBreach attributes the window to each watched group as observed, and
// as breached when the group's time lag is above the objective now.
func (c *clusterSource) LagBreach(from, to time.Time) map[string]ledger.LagBreach {
	t := c.d.term.Load()
	if t == nil {
		c.mu.Lock()
		c.lostSeen = nil // a new term counts from its own start
		c.mu.Unlock()
		return nil
	}
	snap := t.lag.Snapshot()
	if snap == nil || !to.After(from) {
		return nil
	}
	win := to.Sub(from)
	out := make(map[string]ledger.LagBreach, len(snap.Groups))
	c.mu.Lock()
	defer c.mu.Unlock()
	lost := make(map[string]int64, len(snap.Groups))
	for _, g := range snap.Groups {
		b := ledger.LagBreach{Observed: win}
		if g.LagSeconds.Known() && float64(g.LagSeconds) > snap.Objective {
			b.Breach = win
		}
		if g.Status == lag.StatusErr {
			b.Err = win
		}
		if g.TimeToLoss.Known() && float64(g.TimeToLoss) < lag.RiskHorizon.Seconds() {
			b.AtRisk = win
		}
		lost[g.Group] = g.LostRecords
		if prev, ok := c.lostSeen[g.Group]; ok && g.LostRecords > prev {
			b.Lost = g.LostRecords - prev
		} else if !ok && g.LostRecords > 0 && c.lostSeen != nil {
			b.Lost = g.LostRecords // a group first seen with loss (counted by this term since it started)
		}
		out[g.Group] = b
	}
	c.lostSeen = lost
	return out
}

// Propagation returns, per service, the events the stitcher saw since the
// last call and how many carried trace context.
func (c *clusterSource) Propagation(_, _ time.Time) map[string]ledger.Coverage {
	rep := c.d.stitcher.Flows()
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]ledger.Coverage{}
	next := make(map[string]ledger.Coverage, len(rep.Propagation))
	for _, p := range rep.Propagation {
		cur := ledger.Coverage{Hops: int64(p.Events), Propagated: int64(p.WithTraceContext)}
		next[p.Service] = cur
		prev := c.propSeen[p.Service]
		if d := (ledger.Coverage{Hops: cur.Hops - prev.Hops, Propagated: cur.Propagated - prev.Propagated}); d.Hops > 0 {
			out[p.Service] = d
		}
	}
	c.propSeen = next
	return out
}
