package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
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
