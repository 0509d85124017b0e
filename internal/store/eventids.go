package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// EventID is one audited record's event id, remembered in table event_ids
// so that duplicate.event_id holds across restarts and replicas. Only
// hashes are stored, never the id itself.
type EventID struct {
	Hash uint64    // 64-bit hash of the event id (with the profile that judged it); never 0
	Loc  uint64    // hash of where the record was read (topic, partition, offset)
	At   time.Time // the record's time: copies further apart than the window are not duplicates
}

// idChunk is how many distinct ids one upsert statement carries (4
// parameters each): on PostgreSQL many, to save round trips; on SQLite
// few, because the pure-Go driver matches every argument to every
// parameter when it binds (quadratic in the parameters of a statement).
func (s *sqlStore) idChunk() int {
	if s.driver == DriverPostgres {
		return 500
	}
	return 32
}

// ExpireBatch is the least number of expired ids ExpireIDs deletes per
// call when asked for fewer.
const ExpireBatch = 10_000

// idOwner is the stored row of one id after the upsert: where its first
// copy was read and when.
type idOwner struct{ loc, seen int64 }

// writeIDs remembers b.IDs inside tx and, when some are duplicates (their
// id is stored from another location, within b.IDWindow of their record
// time and of when it was stored), hands their indexes to b.Duplicates
// before the aggregates are written.
//
// Each distinct id is one row of an INSERT ... ON CONFLICT DO UPDATE ...
// RETURNING: a new id is inserted, a stored one older than the window is
// replaced, any other stored row is left as it is; the statement returns the
// row as it stands, so its location says whether this copy owns the id
// (first read, or the same record read again) or is a duplicate. Ids are
// sent sorted, so replicas flushing into one PostgreSQL lock rows in the
// same order; the unique key makes exactly one of two concurrent writers of
// an id the owner (the other waits for its commit and then sees its row).
func (s *sqlStore) writeIDs(ctx context.Context, tx *sql.Tx, b *Batch) error {
	b.IDsNew = 0
	if len(b.IDs) == 0 {
		return nil
	}
	stored := b.IDsStored
	if stored.IsZero() {
		stored = time.Now()
	}
	reps := idRepresentatives(b.IDs)
	owners := make(map[int64]idOwner, len(reps))
	tail, n := s.upsertIDs(b.IDWindow), s.idChunk()
	var full *sql.Stmt // the statement of a full chunk, prepared once
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	for start := 0; start < len(reps); start += n {
		chunk := reps[start:min(start+n, len(reps))]
		q := upsertIDsSQL(len(chunk), tail)
		var qr queryer = tx
		if len(chunk) == n && len(reps) > n {
			if full == nil {
				var err error
				if full, err = tx.PrepareContext(ctx, rebind(s.driver, q)); err != nil {
					return fmt.Errorf("prepare event id upsert: %w", err)
				}
			}
			qr = stmtQueryer{full}
		}
		if err := s.upsertIDChunk(ctx, qr, q, chunk, stored, owners); err != nil {
			return err
		}
	}
	b.IDsNew = countOwned(reps, owners)
	dups := judgeIDs(b.IDs, owners, b.IDWindow)
	if len(dups) > 0 && b.Duplicates != nil {
		b.Duplicates(b, dups)
	}
	return nil
}

// idRepresentatives returns the first entry of every distinct hash,
// sorted by hash.
func idRepresentatives(ids []EventID) []EventID {
	idx := make([]int, len(ids))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(x, y int) int { return cmpHash(ids[x].Hash, ids[y].Hash) })
	out := make([]EventID, 0, len(ids))
	for _, i := range idx {
		if n := len(out); n == 0 || out[n-1].Hash != ids[i].Hash {
			out = append(out, ids[i])
		}
	}
	return out
}

// cmpHash orders hashes as the database orders their stored (signed)
// values, so lock order follows the index.
func cmpHash(x, y uint64) int {
	a, b := int64(x), int64(y)
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// countOwned returns how many of reps the store now holds as their first
// copy (the row stands with their location and record time).
func countOwned(reps []EventID, owners map[int64]idOwner) int {
	n := 0
	for _, id := range reps {
		if o, ok := owners[int64(id.Hash)]; ok && o.loc == int64(id.Loc) && o.seen == id.At.UnixMilli() {
			n++
		}
	}
	return n
}

// judgeIDs returns the indexes of the ids that are duplicates of their
// stored owner: read at another location within window of it.
func judgeIDs(ids []EventID, owners map[int64]idOwner, window time.Duration) []int {
	var dups []int
	w := window.Milliseconds()
	for i, id := range ids {
		o, ok := owners[int64(id.Hash)]
		if !ok || o.loc == int64(id.Loc) {
			continue
		}
		if d := id.At.UnixMilli() - o.seen; d <= w && d >= -w {
			dups = append(dups, i)
		}
	}
	return dups
}

// upsertIDs is the conflict clause of the upsert (its VALUES list is
// built per chunk by upsertIDChunk); the window is a literal.
func (s *sqlStore) upsertIDs(window time.Duration) string {
	w := strconv.FormatInt(window.Milliseconds(), 10)
	stale := `(event_ids.seen_ms < excluded.seen_ms - ` + w + ` OR event_ids.stored_ms < excluded.stored_ms - ` + w + `)`
	pick := func(col string) string {
		return col + ` = CASE WHEN ` + stale + ` THEN excluded.` + col + ` ELSE event_ids.` + col + ` END`
	}
	return ` ON CONFLICT (id) DO UPDATE SET ` + pick("loc") + `, ` + pick("seen_ms") + `, ` + pick("stored_ms") +
		` RETURNING id, loc, seen_ms`
}

// upsertIDsSQL is the upsert of n ids.
func upsertIDsSQL(n int, tail string) string {
	var sb strings.Builder
	sb.WriteString(`INSERT INTO event_ids (id, loc, seen_ms, stored_ms) VALUES `)
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("(?, ?, ?, ?)")
	}
	sb.WriteString(tail)
	return sb.String()
}

// stmtQueryer runs a prepared statement as a queryer (its query text is
// ignored).
type stmtQueryer struct{ st *sql.Stmt }

func (q stmtQueryer) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return q.st.QueryContext(ctx, args...)
}

// upsertIDChunk runs the upsert q of chunk on qr and records each id's
// owner.
func (s *sqlStore) upsertIDChunk(ctx context.Context, qr queryer, q string, chunk []EventID, stored time.Time, owners map[int64]idOwner) error {
	args := make([]any, 0, 4*len(chunk))
	for _, id := range chunk {
		args = append(args, int64(id.Hash), int64(id.Loc), id.At.UnixMilli(), stored.UnixMilli())
	}
	rows, err := qr.QueryContext(ctx, rebind(s.driver, q), args...)
	if err != nil {
		return fmt.Errorf("remember event ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var o idOwner
		if err := rows.Scan(&id, &o.loc, &o.seen); err != nil {
			return fmt.Errorf("read remembered event ids: %w", err)
		}
		owners[id] = o
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read remembered event ids: %w", err)
	}
	return nil
}

// ExpireIDs deletes at most limit (at least ExpireBatch) remembered event
// ids stored before before, and returns how many went. On PostgreSQL rows
// another writer holds are skipped (SKIP LOCKED), so expiry never waits
// for, or deadlocks with, a flush.
func (s *sqlStore) ExpireIDs(ctx context.Context, before time.Time, limit int) (int64, error) {
	if err := s.ensureSchema(ctx); err != nil {
		return 0, err
	}
	q := `DELETE FROM event_ids WHERE id IN (SELECT id FROM event_ids WHERE stored_ms < ? LIMIT ?)`
	if s.driver == DriverPostgres {
		q = `DELETE FROM event_ids WHERE id IN (SELECT id FROM event_ids WHERE stored_ms < ? LIMIT ? FOR UPDATE SKIP LOCKED)`
	}
	res, err := s.db.ExecContext(ctx, rebind(s.driver, q), before.UnixMilli(), max(limit, ExpireBatch))
	if err != nil {
		return 0, fmt.Errorf("expire event ids: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("expire event ids: %w", err)
	}
	return n, nil
}

// RememberedIDs returns how many event ids the store remembers.
func (s *sqlStore) RememberedIDs(ctx context.Context) (int64, error) {
	var n int64
	err := s.query(ctx, "remembered event ids", `SELECT COUNT(*) FROM event_ids`, nil, func(r *sql.Rows) error { return r.Scan(&n) })
	return n, err
}
