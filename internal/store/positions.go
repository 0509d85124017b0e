package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Position is how far the records of one partition are counted in the
// store: every record before Offset, and none from Offset on.
type Position struct {
	Group     string // the sampler's consumer group
	Topic     string // topic
	Partition int32  // partition
	Offset    int64  // the next offset to count
}

// Advance moves one partition's position from From to To. From is where
// the writer believes the position is (-1 when it does not know). Write
// applies an Advance only when the stored position equals From, or when
// the partition has no stored position yet (its first range, or a group
// upgraded from Kafka-only commits) — optimistic fencing, so a stale
// writer, a retried commit that was in fact applied, or two replicas
// reading the same partition can never count a record twice.
type Advance struct {
	Group     string // the sampler's consumer group
	Topic     string // topic
	Partition int32  // partition
	From      int64  // the position the aggregates start at; -1 when none is stored
	To        int64  // the position after the aggregates
}

// ConflictError is returned by Write when some Advance does not start at
// the stored position. Nothing of the batch was written. Actual holds, for
// every conflicting partition, the position actually stored (Offset -1
// when none is).
type ConflictError struct {
	Actual []Position // the stored positions of the conflicting partitions
}

func (e *ConflictError) Error() string {
	parts := make([]string, 0, len(e.Actual))
	for _, p := range e.Actual {
		parts = append(parts, fmt.Sprintf("%s/%d at %d", p.Topic, p.Partition, p.Offset))
	}
	return "stored positions moved: " + strings.Join(parts, ", ")
}

// IsConflict reports whether err is (or wraps) a *ConflictError and
// returns it.
func IsConflict(err error) (*ConflictError, bool) {
	var c *ConflictError
	ok := errors.As(err, &c)
	return c, ok
}

const (
	moveP = `UPDATE positions SET next_offset = ? WHERE group_id = ? AND topic = ? AND part = ? AND next_offset = ?`
	newP  = `INSERT INTO positions (group_id, topic, part, next_offset) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`
	readP = `SELECT next_offset FROM positions WHERE group_id = ? AND topic = ? AND part = ?`
)

// writeAdvances moves every position of b inside tx, in a stable order (so
// concurrent writers lock rows alike), and returns a *ConflictError naming
// every partition whose stored position is not the Advance's From.
func (s *sqlStore) writeAdvances(ctx context.Context, tx *sql.Tx, b *Batch) error {
	adv := append([]Advance(nil), b.Advances...)
	sort.Slice(adv, func(i, j int) bool {
		x, y := adv[i], adv[j]
		if x.Group != y.Group {
			return x.Group < y.Group
		}
		if x.Topic != y.Topic {
			return x.Topic < y.Topic
		}
		return x.Partition < y.Partition
	})
	var conflict ConflictError
	for _, a := range adv {
		ok, err := s.advance(ctx, tx, a)
		if err != nil {
			return err
		}
		if !ok {
			actual, err := s.readPosition(ctx, tx, a)
			if err != nil {
				return err
			}
			conflict.Actual = append(conflict.Actual, actual)
		}
	}
	if len(conflict.Actual) > 0 {
		return &conflict
	}
	return nil
}

// advance applies one Advance and reports whether the stored position was
// where it starts, or none was stored.
func (s *sqlStore) advance(ctx context.Context, tx *sql.Tx, a Advance) (bool, error) {
	if a.From >= 0 {
		ok, err := s.execOne(ctx, tx, a, moveP, a.To, a.Group, a.Topic, a.Partition, a.From)
		if ok || err != nil {
			return ok, err
		}
	}
	return s.execOne(ctx, tx, a, newP, a.Group, a.Topic, a.Partition, a.To)
}

// execOne runs q and reports whether it changed exactly one row.
func (s *sqlStore) execOne(ctx context.Context, tx *sql.Tx, a Advance, q string, args ...any) (bool, error) {
	res, err := tx.ExecContext(ctx, rebind(s.driver, q), args...)
	if err != nil {
		return false, fmt.Errorf("move position of %s/%d: %w", a.Topic, a.Partition, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("move position of %s/%d: %w", a.Topic, a.Partition, err)
	}
	return n == 1, nil
}

func (s *sqlStore) readPosition(ctx context.Context, tx *sql.Tx, a Advance) (Position, error) {
	p := Position{Group: a.Group, Topic: a.Topic, Partition: a.Partition, Offset: -1}
	err := tx.QueryRowContext(ctx, rebind(s.driver, readP), a.Group, a.Topic, a.Partition).Scan(&p.Offset)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("read position of %s/%d: %w", a.Topic, a.Partition, err)
	}
	return p, nil
}

// Positions returns the stored positions of group's partitions.
func (s *sqlStore) Positions(ctx context.Context, group string) ([]Position, error) {
	var out []Position
	err := s.query(ctx, "positions", `SELECT topic, part, next_offset FROM positions WHERE group_id = ? ORDER BY topic, part`,
		[]any{group}, func(r *sql.Rows) error {
			p := Position{Group: group}
			err := r.Scan(&p.Topic, &p.Partition, &p.Offset)
			out = append(out, p)
			return err
		})
	return out, err
}

// Kinds of PositionNote.
const (
	// NoteHistorySkipped: at the group's first start, start_from placed
	// the partition at To; the records in [From, To) were produced before
	// eventwatch watched and are not audited.
	NoteHistorySkipped = "history_skipped"
	// NoteBeyondEnd: the stored position From was beyond the partition's
	// end (the topic was deleted and recreated, or the cluster replaced);
	// the position was reset to To.
	NoteBeyondEnd = "position_beyond_end"
	// NoteBelowStart: the stored position From was below the partition's
	// log start (retention deleted records before they were read); the
	// position was reset to To.
	NoteBelowStart = "position_below_start"
)

// PositionNote records a range of one partition that was skipped or read
// again rather than counted in order, and why.
type PositionNote struct {
	Group     string    `json:"-"`         // the sampler's consumer group
	Topic     string    `json:"topic"`     // topic
	Partition int32     `json:"partition"` // partition
	Kind      string    `json:"kind"`      // one of the Note* constants
	From      int64     `json:"from"`      // the position before (the log start for NoteHistorySkipped)
	To        int64     `json:"to"`        // the position after
	Records   int64     `json:"records"`   // records in the partition that will never be audited because of it (0 when none)
	At        time.Time `json:"at"`        // when eventwatch noticed
}

const (
	insertNote = `INSERT INTO position_notes (group_id, topic, part, kind, observed_ms, hour, from_offset, to_offset, records)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	insertWatch = `INSERT INTO watch_starts (group_id, started_ms) VALUES (?, ?) ON CONFLICT DO NOTHING`
	insertStart = `INSERT INTO start_positions (group_id, topic, part, start_offset) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`
	resetP      = `UPDATE positions SET next_offset = ? WHERE group_id = ? AND topic = ? AND part = ? AND next_offset = ?`
)

// WatchStart is a sampler group's first start: when, and where
// sample.start_from placed every partition watched then.
type WatchStart struct {
	At        time.Time  // zero when the group never started
	Positions []Position // the first position of every partition watched at the first start
}

// Watching returns group's first start (zero At when it never started).
func (s *sqlStore) Watching(ctx context.Context, group string) (WatchStart, error) {
	var w WatchStart
	err := s.query(ctx, "watch start", `SELECT started_ms FROM watch_starts WHERE group_id = ?`, []any{group}, func(r *sql.Rows) error {
		var ms int64
		err := r.Scan(&ms)
		w.At = time.UnixMilli(ms).UTC()
		return err
	})
	if err != nil || w.At.IsZero() {
		return w, err
	}
	err = s.query(ctx, "start positions", `SELECT topic, part, start_offset FROM start_positions WHERE group_id = ? ORDER BY topic, part`,
		[]any{group}, func(r *sql.Rows) error {
			p := Position{Group: group}
			err := r.Scan(&p.Topic, &p.Partition, &p.Offset)
			w.Positions = append(w.Positions, p)
			return err
		})
	return w, err
}

// StartWatch records group's first start at at, with where start_from
// placed every watched partition and the history that skipped, in one
// transaction; false (and nothing written) when the group already started
// (another replica came first).
func (s *sqlStore) StartWatch(ctx context.Context, group string, at time.Time, ps []Position, notes []PositionNote) (bool, error) {
	first := false
	err := s.positionTx(ctx, "start watching", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, rebind(s.driver, insertWatch), group, at.UnixMilli())
		if err != nil {
			return fmt.Errorf("record watch start: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil
		}
		first = true
		err = s.execEach(ctx, tx, "start positions", insertStart, len(ps), func(i int) []any {
			return []any{group, ps[i].Topic, ps[i].Partition, ps[i].Offset}
		})
		if err != nil {
			return err
		}
		return s.insertNotes(ctx, tx, notes)
	})
	return first, err
}

// InitPositions stores the positions of partitions seen for the first time;
// a partition that has one already keeps it.
func (s *sqlStore) InitPositions(ctx context.Context, ps []Position) error {
	return s.positionTx(ctx, "store first positions", func(tx *sql.Tx) error { return s.insertPositions(ctx, tx, ps) })
}

// ResetPosition moves one partition's position from n.From to n.To and
// records n, in one transaction; false when the stored position is not
// n.From (someone else moved it first).
func (s *sqlStore) ResetPosition(ctx context.Context, n PositionNote) (bool, error) {
	moved := false
	err := s.positionTx(ctx, "reset position", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, rebind(s.driver, resetP), n.To, n.Group, n.Topic, n.Partition, n.From)
		if err != nil {
			return fmt.Errorf("reset position of %s/%d: %w", n.Topic, n.Partition, err)
		}
		if k, _ := res.RowsAffected(); k != 1 {
			return nil
		}
		moved = true
		return s.insertNotes(ctx, tx, []PositionNote{n})
	})
	return moved, err
}

func (s *sqlStore) insertPositions(ctx context.Context, tx *sql.Tx, ps []Position) error {
	return s.execEach(ctx, tx, "first positions", newP, len(ps), func(i int) []any {
		p := ps[i]
		return []any{p.Group, p.Topic, p.Partition, p.Offset}
	})
}

func (s *sqlStore) insertNotes(ctx context.Context, tx *sql.Tx, notes []PositionNote) error {
	return s.execEach(ctx, tx, "position notes", insertNote, len(notes), func(i int) []any {
		n := notes[i]
		return []any{n.Group, n.Topic, n.Partition, n.Kind, n.At.UnixMilli(), hourKey(n.At), n.From, n.To, n.Records}
	})
}

// notes reads the position notes of w's hours (every group), oldest first.
func (s *sqlStore) notes(ctx context.Context, qr queryer, w Window) ([]PositionNote, error) {
	var out []PositionNote
	err := s.queryOn(ctx, qr, "position notes", `SELECT group_id, topic, part, kind, observed_ms, from_offset, to_offset, records
		FROM position_notes WHERE hour >= ? AND hour < ? ORDER BY observed_ms, topic, part`, []any{w.From.Unix(), w.To.Unix()},
		func(r *sql.Rows) error {
			var n PositionNote
			var ms int64
			err := r.Scan(&n.Group, &n.Topic, &n.Partition, &n.Kind, &ms, &n.From, &n.To, &n.Records)
			n.At = time.UnixMilli(ms).UTC()
			out = append(out, n)
			return err
		})
	return out, err
}

// positionTx runs f in one write transaction (schema ensured first).
func (s *sqlStore) positionTx(ctx context.Context, what string, f func(*sql.Tx) error) error {
	if err := s.ensureSchema(ctx); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin %s: %w", what, err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit %s: %w", what, err)
	}
	return nil
}
