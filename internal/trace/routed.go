package trace

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// flushTimeout bounds the flush of markers on revocation and shutdown.
const flushTimeout = 10 * time.Second

// marker is a msgClosed record waiting until the counts of its chain are
// durable (see Published).
type marker struct {
	part  int32
	first int64
	seq   uint64 // the stitcher's closed-chain count once the chain was counted
}

// EnableRouting makes Run route every observation through
// trace.routing.topic, so that each chain is stitched by the one replica
// that owns its key's partition (see the package documentation). base are
// the client options (seeds, SASL, TLS). Call it before Run.
func (s *Stitcher) EnableRouting(base []kgo.Opt) {
	cfg := s.cfg.Routing
	cfg.Replay, cfg.Retention = cfg.replay(s.cfg.Window), cfg.retention(s.cfg.Window)
	s.route = newRouter(cfg, fetchWait(s.cfg.Window), base, s.log, func(reason string) { s.m.dropped.WithLabelValues(reason).Inc() })
	s.parts = map[int32]*part{}
}

// PublishWith sets how the stitcher makes its counts durable before it
// marks chains closed on the routing topic: fn publishes the FlowsDoc
// (and calls Published). It is called when partitions are revoked and on
// shutdown. Without it, chains are marked as soon as they are counted.
func (s *Stitcher) PublishWith(fn func(ctx context.Context) error) { s.publish = fn }

// Published tells the stitcher that a FlowsDoc whose Closed was closed is
// durable (published to the other replicas): the chains it counts may be
// marked closed, so a later owner of their partition does not count them
// again. Safe for concurrent use.
func (s *Stitcher) Published(closed uint64) {
	for {
		cur := s.released.Load()
		if closed <= cur || s.released.CompareAndSwap(cur, closed) {
			return
		}
	}
}

// runRouted is Run with routing on.
func (s *Stitcher) runRouted(ctx context.Context) error {
	if err := s.route.start(ctx); err != nil {
		s.shutdownExporter()
		return nil //nolint:nilerr // start fails only when ctx ends
	}
	pollCtx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()
	go s.route.poll(pollCtx)
	sw := newSweeper(sweepInterval(s.cfg.Window))
	defer sw.stop()
	for {
		select {
		case <-ctx.Done():
			stopPoll()
			s.shutdownRouted()
			return nil
		case e := <-s.in:
			s.routeEvent(e)
			sw.wake()
		case sb := <-s.spansIn:
			key := traceKey(sb.trace)
			s.route.send(wireMsg{Type: msgSpans, Key: key, Trace: sb.trace.String(), Spans: toWireSpans(sb.spans)}, partitionOf(key, s.route.parts))
			sw.wake()
		case m := <-s.route.msgs:
			s.handleRouter(m)
			sw.wake()
		case <-sw.c():
			sw.swept(s.sweepRouted(s.now()))
		}
	}
}

// routeEvent counts e's propagation (here, on the replica that sampled it)
// and sends it to the partition of its chain's key.
func (s *Stitcher) routeEvent(e *seenEvent) {
	raw := e.Service
	e.Service = s.services.value(defaultService(raw))
	if !e.DeadLetter {
		s.countPropagation(e) // a dead-letter copy is not its original's producer's event
	}
	e.Service = raw
	keys := eventKeys(e)
	switch {
	case len(keys) == 0 && e.DeadLetter:
		s.countDeadLetter() // no chain to note it on
		return
	case len(keys) == 0:
		s.m.dropped.WithLabelValues(dropNoContext).Inc()
		return
	}
	key := minKey(keys)
	s.route.send(wireMsg{Type: msgObserve, Key: key, Event: toWire(e)}, partitionOf(key, s.route.parts))
}

func (s *Stitcher) handleRouter(m routerMsg) {
	switch {
	case m.assign != nil:
		for id, a := range m.assign {
			if old := s.parts[id]; old != nil {
				s.dropPart(old)
			}
			s.parts[id] = newPart(id, a.boundary, a.end, s.newChainSet(), s.newSpanIndex())
			s.log.Info("stitching partition", "partition", id, "replay_from_boundary", a.boundary, "end", a.end)
		}
	case m.records != nil:
		for _, r := range m.records {
			if p := s.parts[r.Partition]; p != nil && r.Topic == s.cfg.Routing.Topic {
				s.handleRecord(p, r)
			}
		}
	case m.revoke != nil:
		m.done <- s.revoke(m.revoke, m.lost)
	}
	s.m.routed.WithLabelValues().Set(float64(len(s.parts)))
}

// revoke makes the counts durable and marks the closed chains, then forgets
// the partitions and returns where each stopped.
func (s *Stitcher) revoke(ids []int32, lost bool) map[int32]int64 {
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	s.flushRouted(ctx)
	next := map[int32]int64{}
	for _, id := range ids {
		p := s.parts[id]
		if p == nil {
			continue
		}
		next[id] = p.position()
		s.dropPart(p)
		delete(s.parts, id)
	}
	s.log.Info("partitions revoked", "partitions", ids, "lost", lost)
	return next
}

// position is where the next owner's side effects start.
func (p *part) position() int64 { return max(p.next, p.boundary) }

// dropPart forgets a partition's open chains (its next owner rebuilds them).
func (s *Stitcher) dropPart(p *part) {
	p.chains.all()
	p.chains.closed.expire(time.Unix(1<<62, 0)) // and the closed ones it remembered
	s.updateOpen()
}

// sweepRouted closes chains by the clock, marks what is durable, and
// commits the positions. It reports whether the partitions are idle: every
// one caught up, with no chain held, no redirect, no marker to send and its
// position committed — nothing a later sweep could change until a message
// arrives.
func (s *Stitcher) sweepRouted(now time.Time) (idle bool) {
	s.sweeps.Add(1)
	deadline := now.Add(-s.cfg.Window)
	next := map[int32]int64{}
	idle = true
	for id, p := range s.parts {
		if !p.caughtUp {
			idle = false
			continue
		}
		s.expirePart(p, deadline)
		p.expireRedirects(deadline)
		if p.next >= 0 {
			next[id] = p.position()
		}
		idle = idle && p.chains.empty() && len(p.redirects) == 0
	}
	s.sendMarkers()
	settled := s.route.commit(next)
	return idle && settled && len(s.markers) == 0
}

// sendMarkers produces the markers whose chains are durable.
func (s *Stitcher) sendMarkers() {
	if len(s.markers) == 0 {
		return
	}
	released := s.released.Load()
	kept := s.markers[:0]
	for _, m := range s.markers {
		if s.publish != nil && m.seq > released {
			kept = append(kept, m)
			continue
		}
		s.route.send(wireMsg{Type: msgClosed, Key: "closed", First: m.first}, m.part)
	}
	clear(s.markers[len(kept):])
	s.markers = kept
}

// flushRouted publishes the counts, then produces every marker and waits.
func (s *Stitcher) flushRouted(ctx context.Context) {
	if s.publish != nil && len(s.markers) > 0 {
		if err := s.publish(ctx); err != nil {
			s.log.Warn("publish flows before marking closed chains", "err", err, "markers", len(s.markers))
		}
	}
	s.sendMarkers()
	if err := s.route.cl.Flush(ctx); err != nil {
		s.log.Warn("flush routing producer", "err", err)
	}
}

// shutdownRouted routes what is still queued, makes the counts durable,
// commits the positions and leaves the group. Open chains are not closed:
// the partitions' next owner (or this replica after a restart) rebuilds
// them from the topic.
func (s *Stitcher) shutdownRouted() {
	for drained := false; !drained; {
		select {
		case e := <-s.in:
			s.routeEvent(e)
		default:
			drained = true
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	s.flushRouted(ctx)
	next := map[int32]int64{}
	for id, p := range s.parts {
		if p.next >= 0 {
			next[id] = p.position()
		}
	}
	s.route.commitSync(ctx, s.route.cl, next)
	s.route.close()
	for _, p := range s.parts {
		s.dropPart(p)
	}
	s.m.routed.WithLabelValues().Set(0)
	s.shutdownExporter()
}
