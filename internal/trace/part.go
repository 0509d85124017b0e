package trace

import (
	"encoding/json"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// redirect says that the chain of a key lives under another key now.
type redirect struct {
	to   string
	last time.Time // last message that used or set it; it expires a window later
}

// part is the stitching state of one partition of the routing topic. Its
// state is a function of the partition's messages in offset order (and of
// their timestamps), so a new owner that re-reads the partition rebuilds
// the same open chains and redirects as the old owner had.
//
// A part has three phases, by offset: before boundary (the position the
// previous owner committed) its messages were already handled there, so
// they rebuild state without side effects (no message sent, no span
// exported); from boundary on they are this replica's. Until end (the high
// watermark when the partition was assigned) a chain that closes is held
// rather than counted, because the previous owner may have counted it: its
// marker (msgClosed), written once the previous owner's counts were
// durable, drops it; at end the chains still held are counted.
type part struct {
	id        int32
	chains    *chains
	redirects map[string]*redirect
	boundary  int64
	end       int64
	next      int64 // next offset to process
	caughtUp  bool
	held      map[int64]*chain // closed before end, by first offset
	spans     *spanIndex       // spans of the traces whose key is here, for the join
}

func newPart(id int32, boundary, end int64, cs *chains, spans *spanIndex) *part {
	return &part{id: id, chains: cs, redirects: map[string]*redirect{}, boundary: boundary, end: end,
		next: -1, caughtUp: end <= 0, held: map[int64]*chain{}, spans: spans}
}

// follow returns where key's chain lives now, refreshing the redirect, or
// "" when the key is not redirected (or its redirect expired at ts).
func (p *part) follow(key string, ts time.Time, window time.Duration) string {
	r := p.redirects[key]
	if r == nil {
		return ""
	}
	if ts.Sub(r.last) > window {
		delete(p.redirects, key)
		return ""
	}
	if ts.After(r.last) {
		r.last = ts
	}
	return r.to
}

// expireRedirects forgets redirects unused since deadline.
func (p *part) expireRedirects(deadline time.Time) {
	for k, r := range p.redirects {
		if r.last.Before(deadline) {
			delete(p.redirects, k)
		}
	}
}

// handleRecord applies one routing-topic record to its partition's state.
func (s *Stitcher) handleRecord(p *part, r *kgo.Record) {
	if r.Offset < p.next {
		return // a re-fetch after a retry; already applied
	}
	p.next = r.Offset + 1
	var m wireMsg
	if err := json.Unmarshal(r.Value, &m); err != nil {
		s.m.dropped.WithLabelValues(dropBadMessage).Inc()
	} else {
		s.apply(p, &m, r.Offset, r.Timestamp, r.Offset >= p.boundary)
	}
	if !p.caughtUp && p.next >= p.end {
		s.catchUp(p)
	}
}

func (s *Stitcher) apply(p *part, m *wireMsg, off int64, ts time.Time, live bool) {
	switch m.Type {
	case msgObserve:
		if m.Event != nil {
			e := fromWire(m.Event)
			e.msg = off
			s.observeAt(p, m.Key, e, ts, live)
		}
	case msgLink:
		s.link(p, m.Key, m.To, ts, live)
	case msgClosed:
		s.marked(p, m.First)
	case msgSpans:
		s.spansAt(p, m, ts, live)
	default:
		s.m.dropped.WithLabelValues(dropBadMessage).Inc()
	}
}

// observeAt stitches an event routed to key: it follows a redirect, else
// joins (or opens) the chain here, moves the chain when a smaller key of it
// lives in another partition, and tells the partitions of its other keys
// where it lives.
func (s *Stitcher) observeAt(p *part, key string, e *seenEvent, ts time.Time, live bool) {
	if to := p.follow(key, ts, s.cfg.Window); to != "" {
		s.sendEvent(to, e, live)
		return
	}
	s.expirePart(p, ts.Add(-s.cfg.Window))
	if e.DeadLetter {
		p.chains.noteDeadLetter(e)
		if live && !e.exported {
			s.countDeadLetter() // once: a note its chain's move brings along was counted where it arrived
		}
		return
	}
	s.seq++
	e.seq = s.seq
	e.Service = s.services.value(defaultService(e.Service))
	c, reason := p.chains.add(e, ts)
	if reason != "" && live {
		s.m.dropped.WithLabelValues(reason).Inc()
	}
	s.trimPart(p, c)
	if live {
		s.countLate(e)
	}
	if c == nil || reason == dropDuplicate {
		return
	}
	home, targets := s.homeOf(p, c, ts)
	if other := p.chains.byKey(home); other != nil && other != c && partitionOf(home, s.route.parts) == p.id {
		p.chains.merge(other, c) // a redirect joined c to a chain of this partition
		c = other
	}
	for _, r := range targets {
		if r != home && !c.linked[r] {
			c.linked[r] = true
			s.send(wireMsg{Type: msgLink, Key: r, To: home}, live)
		}
	}
	if partitionOf(home, s.route.parts) != p.id {
		s.move(p, c, home, ts, live)
		return
	}
	if !e.exported {
		if live {
			s.exportSpan(e, c, reason == "", p.spans)
		}
		e.exported = true
	}
	for _, k := range chainKeys(c) {
		if k != home && !c.linked[k] && partitionOf(k, s.route.parts) != p.id {
			c.linked[k] = true
			s.send(wireMsg{Type: msgLink, Key: k, To: home}, live)
		}
	}
}

// homeOf is where chain c belongs: the smallest of its keys and of the
// keys its keys are redirected to here (a link may have arrived before the
// event that joins the two). The redirects of c's keys are dropped when c
// stays here (it holds those keys now); targets are the keys they pointed
// at, which must be told to join home.
func (s *Stitcher) homeOf(p *part, c *chain, ts time.Time) (string, []string) {
	keys := chainKeys(c)
	home := minKey(keys)
	var targets []string
	for _, k := range keys {
		if r := p.follow(k, ts, s.cfg.Window); r != "" {
			targets = append(targets, r)
			home = min(home, r)
		}
	}
	if partitionOf(home, s.route.parts) == p.id {
		for _, k := range keys {
			delete(p.redirects, k)
		}
	}
	return home, targets
}

// link applies "key belongs with to" (to < key).
func (s *Stitcher) link(p *part, key, to string, ts time.Time, live bool) {
	if cur := p.follow(key, ts, s.cfg.Window); cur != "" {
		switch {
		case cur == to:
		case to < cur:
			p.redirects[key] = &redirect{to: to, last: ts}
			s.send(wireMsg{Type: msgLink, Key: cur, To: to}, live)
		default:
			s.send(wireMsg{Type: msgLink, Key: to, To: cur}, live)
		}
		return
	}
	if c := p.chains.byKey(key); c != nil {
		home := minKey(chainKeys(c))
		switch {
		case home == to:
		case home < to:
			s.send(wireMsg{Type: msgLink, Key: to, To: home}, live)
		default:
			s.move(p, c, to, ts, live)
		}
		return
	}
	p.redirects[key] = &redirect{to: to, last: ts}
	s.forwardSpans(p, key, to, live)
}

// move sends every event of c to the partition of key to, redirects c's
// keys of this partition there, and forgets c here (uncounted).
func (s *Stitcher) move(p *part, c *chain, to string, ts time.Time, live bool) {
	for _, k := range chainKeys(c) {
		if partitionOf(k, s.route.parts) == p.id {
			p.redirects[k] = &redirect{to: to, last: ts}
			s.forwardSpans(p, k, to, live)
		}
	}
	for _, e := range c.events {
		s.sendEvent(to, e, live)
	}
	for _, d := range c.movedDeadLetters() {
		s.sendEvent(to, d, live)
	}
	p.chains.remove(c)
	s.updateOpen()
}

// marked drops the chain a previous owner closed and counted (it stays
// remembered for late events, as what the previous owner counted).
func (s *Stitcher) marked(p *part, first int64) {
	if c, ok := p.held[first]; ok {
		delete(p.held, first)
		p.spans.edgesFor(c)
		c.counted = countedOf(analyse(c))
		p.chains.closed.remember(c)
		return
	}
	if c := p.chains.byFirst[first]; c != nil && !p.caughtUp {
		p.chains.remove(c)
		s.updateOpen()
	}
}

// catchUp ends the hand-over of p: the held chains nobody marked are
// counted now, and expired chains close by the clock from now on.
func (s *Stitcher) catchUp(p *part) {
	p.caughtUp = true
	for _, c := range p.held {
		s.closeRouted(p, c)
	}
	p.held = map[int64]*chain{}
	s.log.Info("partition caught up", "partition", p.id, "open_chains", p.chains.open(), "redirects", len(p.redirects))
}

// expirePart closes every chain of p whose last message is older than deadline.
func (s *Stitcher) expirePart(p *part, deadline time.Time) {
	p.chains.closed.expire(deadline.Add(-s.cfg.LateWindow))
	for _, c := range p.chains.expire(deadline) {
		if !p.caughtUp {
			p.held[c.first] = c
			continue
		}
		s.closeRouted(p, c)
	}
	s.trimPart(p, nil)
	s.updateOpen()
}

// closeRouted analyses and counts c, remembers it for late events and
// queues its marker.
func (s *Stitcher) closeRouted(p *part, c *chain) { s.closeRoutedIn(p, c, p.chains.closed) }

// closeRoutedIn is closeRouted remembering c in closed (nil: not at all).
func (s *Stitcher) closeRoutedIn(p *part, c *chain, closed *closedSet) {
	s.close(c, p.spans, closed)
	s.markers = append(s.markers, marker{part: p.id, first: c.first, seq: s.flows.closedCount()})
}

// sendEvent routes e to key's partition.
func (s *Stitcher) sendEvent(key string, e *seenEvent, live bool) {
	s.send(wireMsg{Type: msgObserve, Key: key, Event: toWire(e)}, live)
}

// send produces m to its key's partition (live only: before the boundary
// the previous owner already did).
func (s *Stitcher) send(m wireMsg, live bool) {
	if !live {
		return
	}
	s.route.send(m, partitionOf(m.Key, s.route.parts))
}

func defaultService(s string) string {
	if s == "" {
		return unknownService
	}
	return s
}

// spansAt holds the spans of one trace routed to key, or sends them on
// where the key's chain lives.
func (s *Stitcher) spansAt(p *part, m *wireMsg, ts time.Time, live bool) {
	id, ok := parseHexTraceID(m.Trace)
	if !ok {
		s.m.dropped.WithLabelValues(dropBadMessage).Inc()
		return
	}
	if to := p.follow(m.Key, ts, s.cfg.Window); to != "" {
		s.send(wireMsg{Type: msgSpans, Key: to, Trace: m.Trace, Spans: m.Spans}, live)
		return
	}
	spans := fromWireSpans(m.Spans)
	if live {
		s.holdSpans(p.spans, id, spans, ts)
		return
	}
	p.spans.add(id, spans, ts)
}

// forwardSpans sends the spans held for a trace key on to the key its
// chain lives under now (the previous owner did, before the boundary).
func (s *Stitcher) forwardSpans(p *part, key, to string, live bool) {
	id, ok := keyTrace(key)
	if !keyIsTrace(key) || !ok {
		return
	}
	if spans := p.spans.take(id); len(spans) > 0 {
		s.send(wireMsg{Type: msgSpans, Key: to, Trace: id.String(), Spans: toWireSpans(spans)}, live)
	}
}
