package ledger

import (
	"time"

	"github.com/eventwatch/eventwatch/internal/store"
)

// DefaultLagHold is how long the periodic flush holds a consumer group's
// lag rows in memory before writing them (WithLagHold).
//
// A lag row is a delta: each flush adds the window's breach, ERR, at-risk
// and observed seconds of every watched group to the group's hourly rows
// (store.KindLagBreach, KindLagErr, KindLagAtRisk). At estate size that is
// three upserts per group every flush interval (1,500 every 10 s at 500
// groups) whose values are almost always the same. Holding them adds the
// same seconds to the same hourly rows, in fewer statements: a graceful
// stop (Run's final flush), Flush, the end of the hour, a held observed
// time of DefaultLagHold and a sample without the group (it is gone, or
// this replica stopped leading the lag collector) each write them. What a crash costs
// (docs/reports.md, "Lag rows held in memory"): the held seconds of each
// group, at most DefaultLagHold plus one flush interval, instead of at
// most one flush interval.
const DefaultLagHold = time.Minute

// WithLagHold sets how long the periodic flush holds each consumer
// group's lag rows (DefaultLagHold); 0 writes them at every flush.
func WithLagHold(d time.Duration) Option {
	return func(l *Ledger) { l.lagHold = d }
}

// lagKey is one group's hourly lag rows.
type lagKey struct {
	hour  int64
	group string
}

// heldLag is what a group's lag rows add, not yet written (seconds).
type heldLag struct {
	breach, err, atRisk, observed float64
	sample                        uint64 // the last sample that added to it (l.samples)
}

// holdLag adds b to the group's held lag rows of hour (flushMu held).
func (l *Ledger) holdLag(hour int64, group string, b LagBreach) {
	if l.held == nil {
		l.held = map[lagKey]*heldLag{}
	}
	k := lagKey{hour, group}
	h := l.held[k]
	if h == nil {
		h = &heldLag{}
		l.held[k] = h
	}
	h.breach += b.Breach.Seconds()
	h.err += b.Err.Seconds()
	h.atRisk += b.AtRisk.Seconds()
	h.observed += b.Observed.Seconds()
	h.sample = l.samples
}

// releaseLag hands add the held lag rows that are due (all of them when
// all is set): those of an hour before hour, those that hold at least
// l.lagHold of observed time, and those the last sample did not add to
// (flushMu held). A group's observed time goes with its lag_breach row,
// which is always written; its lag_err and lag_at_risk rows (no total:
// the report takes the observed time from lag_breach) only when they add
// seconds: a healthy group writes one row a minute instead of three, a
// stopped one two.
func (l *Ledger) releaseLag(hour int64, all bool, add func(hour int64, kind, name string, v, total float64)) {
	limit := l.lagHold.Seconds()
	for k, h := range l.held {
		if !all && k.hour >= hour && h.observed < limit && h.sample == l.samples {
			continue
		}
		add(k.hour, store.KindLagBreach, k.group, h.breach, h.observed)
		if h.err > 0 {
			add(k.hour, store.KindLagErr, k.group, h.err, 0)
		}
		if h.atRisk > 0 {
			add(k.hour, store.KindLagAtRisk, k.group, h.atRisk, 0)
		}
		delete(l.held, k)
	}
}
