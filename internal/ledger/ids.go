package ledger

import (
	"context"
	"math"
	"time"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/store"
)

// idsPerRow is how many remembered event ids weigh one aggregate row
// against store.buffer_limit: an id held in memory takes about 80 bytes,
// an aggregate row several hundred.
const idsPerRow = 8

// maxIDMetas bounds the interned dimensions of remembered ids; the table
// starts afresh when full (entries keep what they point to).
const maxIDMetas = 4096

// idEntry is one audited record's event id, held with its partition's
// aggregates until they are stored: enough to count it as a
// duplicate.event_id violation when the store finds its id remembered from
// another location.
type idEntry struct {
	hash, loc uint64
	at        int64 // record time, Unix ms (the window is kept on it)
	observed  int64 // when audited, Unix ns
	offset    int64
	partition int32
	compliant bool // the record had no error-severity violation when audited
	meta      *idMeta
	eventID   string
	tsMillis  int64 // the record's Kafka timestamp, Unix ms (0 when none)
}

// idMeta are the dimensions a found duplicate is counted under, interned.
type idMeta struct {
	rec                      recKey
	severity, profile, field string
}

// WithDuplicateIDs makes the ledger judge duplicate.event_id beyond one
// process: every audited record's event id (Result.IDCheck) that the
// engine's in-process window did not flag is remembered in the store, in
// the flush transaction that counts the record, for window; one remembered
// from another location within the window turns the record into a
// duplicate.event_id violation in the same transaction. found (optional)
// is told about each such violation after its flush committed (the daemon
// counts them in eventwatch_violations_total). A window of 0 turns it off.
func WithDuplicateIDs(window time.Duration, found func([]store.Example)) Option {
	return func(l *Ledger) { l.idWindow, l.foundDups = window, found }
}

// idOf returns the id entry of an audited record (its meta is set under
// l.mu); false when the ledger does not remember ids or the record needs
// no check (the rule did not apply, or the in-process window already
// counted it).
func (l *Ledger) idOf(rec *event.Record, res *event.Result, now time.Time) (idEntry, bool) {
	ic := &res.IDCheck
	if l.idWindow <= 0 || ic.Hash == 0 || ic.Flagged || ic.Loc == 0 {
		return idEntry{}, false
	}
	e := idEntry{hash: ic.Hash, loc: ic.Loc, at: ic.At.UnixMilli(), observed: now.UnixNano(), offset: rec.Offset,
		partition: rec.Partition, compliant: res.Compliant(), eventID: clipID(res.EventID)}
	if !rec.Timestamp.IsZero() {
		e.tsMillis = rec.Timestamp.UnixMilli()
	}
	return e, true
}

// internMeta returns the one *idMeta equal to m; l.mu held.
func (l *Ledger) internMeta(m idMeta) *idMeta {
	if p := l.metas[m]; p != nil {
		return p
	}
	if len(l.metas) >= maxIDMetas || l.metas == nil {
		l.metas = make(map[idMeta]*idMeta)
	}
	p := &m
	l.metas[m] = p
	return p
}

// attachIDs hands b's ids to the store: Write remembers them and calls
// back with the duplicates, which are counted into all (the buffer b was
// built from) and b rebuilt from it, in the flush transaction. The
// examples of the duplicates are kept in *found for after the commit.
func (l *Ledger) attachIDs(b *store.Batch, all *buffer, found *[]store.Example) {
	if l.idWindow <= 0 || len(all.ids) == 0 {
		return
	}
	ids := all.ids
	b.IDs = make([]store.EventID, len(ids))
	for i, e := range ids {
		b.IDs[i] = store.EventID{Hash: e.hash, Loc: e.loc, At: time.UnixMilli(e.at)}
	}
	b.IDWindow, b.IDsStored = l.idWindow, l.now()
	maxEx := l.cfg.MaxExamples
	b.Duplicates = func(b *store.Batch, dups []int) {
		*found = (*found)[:0]
		for _, i := range dups {
			*found = append(*found, l.countDuplicate(all, &ids[i], maxEx))
		}
		nb := all.batch()
		b.Records, b.Violations, b.Examples = nb.Records, nb.Violations, nb.Examples
	}
}

// countDuplicate counts e as a duplicate.event_id violation in dst (and
// its record as non-compliant when the rule's severity is error and it was
// compliant) and returns its example.
func (l *Ledger) countDuplicate(dst *buffer, e *idEntry, maxEx int) store.Example {
	m := e.meta
	ex := store.Example{Hour: hourTime(m.rec.hour), Observed: time.Unix(0, e.observed).UTC(), Service: m.rec.service,
		Topic: m.rec.topic, EventType: m.rec.eventType, Partition: e.partition, Offset: e.offset, EventID: e.eventID,
		Rule: event.RuleDuplicateEventID, Severity: m.severity, Profile: m.profile, Field: m.field,
		Message: clipText(event.DuplicateMessage(e.eventID, m.field, l.idWindow))}
	if e.tsMillis != 0 {
		ex.Time = time.UnixMilli(e.tsMillis).UTC()
	}
	if r := dst.records[m.rec]; r != nil && e.compliant && m.severity == string(event.SeverityError) {
		r.compliant--
	}
	dst.addViolation(violKey{rec: m.rec, rule: ex.Rule, severity: ex.Severity, profile: ex.Profile}, 1, math.MaxInt)
	dst.addExample(exKey{rule: ex.Rule, service: ex.Service, topic: ex.Topic}, ex, maxEx, math.MaxInt)
	return ex
}

// afterIDs, after a committed flush, reports the duplicates it found and
// expires ids older than the window, at most twice as many as it stored
// (at least store.ExpireBatch), so expiry keeps pace with any id rate.
func (l *Ledger) afterIDs(ctx context.Context, b *store.Batch, found []store.Example) {
	if len(found) > 0 {
		if l.foundDups != nil {
			l.foundDups(found)
		}
		if l.examples != nil {
			l.examples(found)
		}
		l.log.Info("duplicate event ids found in the store (first copies read before a restart or by another replica)", "duplicates", len(found))
	}
	if l.idWindow <= 0 {
		return
	}
	var n int64
	if l.expiry.due(l.now(), b) {
		n = l.expireIDs(ctx, 2*len(b.IDs))
	}
	l.countIDs(ctx, int64(b.IDsNew)-n)
}

// expireIDs deletes at most limit (at least store.ExpireBatch) ids older
// than the window and returns how many it deleted; l.flushMu held.
func (l *Ledger) expireIDs(ctx context.Context, limit int) int64 {
	now := l.now()
	n, err := l.store.ExpireIDs(ctx, now.Add(-l.idWindow), limit)
	l.expiry = idExpiry{at: now, complete: err == nil && n < int64(max(limit, store.ExpireBatch))}
	if err != nil {
		l.log.Warn("expire remembered event ids", "err", err)
	}
	if n > 0 {
		l.m.expired.Add(float64(n))
		l.log.Debug("expired remembered event ids", "ids", n)
	}
	return n
}

// idExpireIdle is how often remembered ids are expired while flushes
// write nothing.
const idExpireIdle = time.Minute

// idExpiry is when ids were last expired and whether that pass deleted
// every id expired by then (fewer than its limit, no error).
type idExpiry struct {
	at       time.Time
	complete bool
}

// due reports whether a flush that wrote b expires ids: one that wrote
// something does (the store connection is open anyway), and so does the
// next flush after a pass that left some behind or failed. A flush that
// wrote nothing (an idle estate: every 10 s) does only once idExpireIdle
// passed since the last pass: it would open a store connection for a
// DELETE that finds at most the ids that aged past the window since.
// Duplicates are judged by the stored times, not by whether an expired
// row is still there, so no judgement depends on when a row is deleted.
func (e idExpiry) due(now time.Time, b *store.Batch) bool {
	return b.Len() > 0 || len(b.Advances) > 0 || !e.complete || now.Sub(e.at) >= idExpireIdle
}

// idRecount is how often the remembered ids are counted exactly (a full
// scan of table event_ids); between counts the gauge is kept from what
// each flush stored and expired.
const idRecount = time.Hour

// idCount is the ledger's view of how many ids the store remembers.
type idCount struct {
	n       int64
	counted time.Time // when n was last counted exactly; zero: never
}

// countIDs moves the remembered-ids gauge by delta, or counts the table
// exactly at the first flush and every idRecount; l.flushMu held.
func (l *Ledger) countIDs(ctx context.Context, delta int64) {
	c, now := &l.idCount, l.now()
	if c.counted.IsZero() || now.Sub(c.counted) >= idRecount {
		n, err := l.store.RememberedIDs(ctx)
		if err == nil {
			c.n, c.counted = n, now
			l.m.ids.Set(float64(n))
			return
		}
		l.log.Warn("count remembered event ids", "err", err)
	}
	c.n = max(0, c.n+delta)
	l.m.ids.Set(float64(c.n))
}
