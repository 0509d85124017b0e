package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Snapshot is everything a report reads for one window, read in one
// transaction: its numbers come from the same flushes, whatever commits
// meanwhile.
type Snapshot struct {
	Records    []RecordAgg    // record counts
	Violations []ViolationAgg // violation counts
	Examples   []Example      // offender references
	Cluster    []ClusterAgg   // cluster samples
	Notes      []PositionNote // ranges skipped or read again rather than counted in order (w.Service ignored)
}

// Snapshot reads w in one read-only transaction: REPEATABLE READ on
// PostgreSQL (one snapshot for every statement), a deferred read
// transaction on SQLite (WAL gives it the database as of its first read).
func (s *sqlStore) Snapshot(ctx context.Context, w Window) (Snapshot, error) {
	var snap Snapshot
	ctx, cancel := context.WithTimeout(ctx, ReadTimeout)
	defer cancel()
	if err := s.ensureSchema(ctx); err != nil {
		return snap, err
	}
	opts := &sql.TxOptions{ReadOnly: true}
	if s.driver == DriverPostgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := s.rdb.BeginTx(ctx, opts)
	if err != nil {
		return snap, fmt.Errorf("begin read: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if snap.Records, err = s.records(ctx, tx, w); err != nil {
		return snap, err
	}
	if snap.Violations, err = s.violations(ctx, tx, w); err != nil {
		return snap, err
	}
	if snap.Examples, err = s.examples(ctx, tx, w); err != nil {
		return snap, err
	}
	if snap.Cluster, err = s.cluster(ctx, tx, w); err != nil {
		return snap, err
	}
	if snap.Notes, err = s.notes(ctx, tx, w); err != nil {
		return snap, err
	}
	return snap, tx.Commit()
}
