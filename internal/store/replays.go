package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Replay states.
const (
	ReplayRunning = "running" // claimed dead letters are being sent
	ReplayDone    = "done"    // every claimed dead letter was sent
	ReplayFailed  = "failed"  // stopped on an error (Error says which); pending ones stay claimed and a new replay with force can take them
	ReplayDryRun  = "dry_run" // listed what it would send; sent nothing
)

// Replay is one entry of the replay audit log (GET /api/v1/dlq/replays).
type Replay struct {
	ID          string    `json:"id"`           // replay id
	Created     time.Time `json:"created"`      // when it was requested
	Updated     time.Time `json:"updated"`      // last progress
	RequestedBy string    `json:"requested_by"` // who asked (the requester's name given with the admin credential)
	Selection   string    `json:"selection"`    // the selection, as JSON
	State       string    `json:"state"`        // running, done, failed or dry_run
	Planned     int64     `json:"planned"`      // dead letters claimed for sending
	Sent        int64     `json:"sent"`         // dead letters whose original was sent
	Skipped     int64     `json:"skipped"`      // selected but already replayed by an earlier replay (not forced)
	Marks       string    `json:"-"`            // target partitions' end offsets when the replay started (JSON), where a resume looks for what was sent
	Error       string    `json:"error,omitempty"`
	Owner       string    `json:"-"` // the process running it
}

// ReplayItem is one dead letter claimed by a replay.
type ReplayItem struct {
	Topic     string // dead-letter topic
	Partition int32  // its partition
	Offset    int64  // its offset
	Target    string // topic the original goes to
	State     string // pending or sent
	ReplayID  string // the replay that claimed it
	Updated   time.Time
}

// Item states.
const (
	ItemPending = "pending"
	ItemSent    = "sent"
)

// ErrFenced is returned when a replay is no longer owned by the caller
// (another process took it over): the caller must stop sending.
var ErrFenced = errors.New("replay taken over by another process")

// ReplayStore keeps the replay audit log and the per-dead-letter
// bookkeeping that makes a replay send each dead letter once. Both store
// drivers implement it.
type ReplayStore interface {
	// CreateReplay records rp and claims items for it in one transaction: a
	// dead letter no replay claimed yet becomes pending for rp; one that an
	// earlier replay sent is taken again only when force is set; one
	// pending for another replay is never taken. It returns the items
	// claimed; rp.Planned and rp.Skipped are stored accordingly.
	CreateReplay(ctx context.Context, rp Replay, items []ReplayItem, force bool) ([]ReplayItem, error)
	// PendingItems returns the items of replay id still pending.
	PendingItems(ctx context.Context, id string) ([]ReplayItem, error)
	// MarkSent moves items of replay id from pending to sent and counts them,
	// only while owner owns the replay (else ErrFenced, nothing written).
	MarkSent(ctx context.Context, id, owner string, items []ReplayItem) error
	// FinishReplay sets a running replay's final state, only while owner
	// owns it.
	FinishReplay(ctx context.Context, id, owner, state, errText string) error
	// TakeOver makes owner the owner of running replay id when it already
	// is, or when the replay made no progress since staleBefore. It
	// reports whether owner now owns it.
	TakeOver(ctx context.Context, id, owner string, staleBefore time.Time) (bool, error)
	// Replays returns the newest replays first, at most limit.
	Replays(ctx context.Context, state string, limit int) ([]Replay, error)
	// Replay returns one replay (ErrNoReplay when unknown).
	Replay(ctx context.Context, id string) (Replay, error)
	// ReplayedItems returns the bookkeeping of one dead letter (at most one item).
	ReplayedItems(ctx context.Context, topic string, partition int32, offset int64) ([]ReplayItem, error)
}

// ErrNoReplay is returned for an unknown replay id.
var ErrNoReplay = errors.New("no such replay")

const replayCols = `id, created_ms, updated_ms, requested_by, selection, state, planned, sent, skipped, marks, error, owner`

// CreateReplay implements ReplayStore.
func (s *sqlStore) CreateReplay(ctx context.Context, rp Replay, items []ReplayItem, force bool) ([]ReplayItem, error) {
	if err := s.ensureSchema(ctx); err != nil {
		return nil, err
	}
	var claimed []ReplayItem
	err := s.inTx(ctx, "create replay", func(tx *sql.Tx) error {
		claimed = claimed[:0]
		now := time.Now().UnixMilli()
		for _, it := range items {
			ok, err := s.claim(ctx, tx, rp.ID, it, force, now)
			if err != nil {
				return err
			}
			if ok {
				it.State, it.ReplayID = ItemPending, rp.ID
				claimed = append(claimed, it)
			}
		}
		rp.Planned, rp.Skipped = int64(len(claimed)), int64(len(items)-len(claimed))
		_, err := tx.ExecContext(ctx, rebind(s.driver, `INSERT INTO dlq_replays (`+replayCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			rp.ID, rp.Created.UnixMilli(), now, rp.RequestedBy, rp.Selection, rp.State, rp.Planned, rp.Sent, rp.Skipped, rp.Marks, rp.Error, rp.Owner)
		if err != nil {
			return fmt.Errorf("insert replay %s: %w", rp.ID, err)
		}
		return nil
	})
	return claimed, err
}

// claim takes one dead letter for replay id: a new row, or (force) a row
// an earlier replay finished sending. A pending row of another replay is
// never taken.
func (s *sqlStore) claim(ctx context.Context, tx *sql.Tx, id string, it ReplayItem, force bool, now int64) (bool, error) {
	res, err := tx.ExecContext(ctx, rebind(s.driver, `INSERT INTO dlq_replayed (dlq_topic, part, record_offset, replay_id, state, target_topic, updated_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`), it.Topic, it.Partition, it.Offset, id, ItemPending, it.Target, now)
	if n, err := affected(res, err); err != nil || n == 1 || !force {
		return n == 1, wrapClaim(it, err)
	}
	res, err = tx.ExecContext(ctx, rebind(s.driver, `UPDATE dlq_replayed SET replay_id = ?, state = ?, target_topic = ?, updated_ms = ?
		WHERE dlq_topic = ? AND part = ? AND record_offset = ? AND state = ?`), id, ItemPending, it.Target, now, it.Topic, it.Partition, it.Offset, ItemSent)
	n, err := affected(res, err)
	return n == 1, wrapClaim(it, err)
}

func wrapClaim(it ReplayItem, err error) error {
	if err != nil {
		return fmt.Errorf("claim %s/%d@%d: %w", it.Topic, it.Partition, it.Offset, err)
	}
	return nil
}

func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// inTx runs fn in a transaction and commits it.
func (s *sqlStore) inTx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", what, err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	return nil
}

// PendingItems implements ReplayStore.
func (s *sqlStore) PendingItems(ctx context.Context, id string) ([]ReplayItem, error) {
	return s.items(ctx, `WHERE replay_id = ? AND state = ? ORDER BY dlq_topic, part, record_offset`, id, ItemPending)
}

// ReplayedItems implements ReplayStore.
func (s *sqlStore) ReplayedItems(ctx context.Context, topic string, partition int32, offset int64) ([]ReplayItem, error) {
	return s.items(ctx, `WHERE dlq_topic = ? AND part = ? AND record_offset = ?`, topic, partition, offset)
}

func (s *sqlStore) items(ctx context.Context, where string, args ...any) ([]ReplayItem, error) {
	var out []ReplayItem
	err := s.query(ctx, "replayed dead letters", `SELECT dlq_topic, part, record_offset, replay_id, state, target_topic, updated_ms FROM dlq_replayed `+where,
		args, func(r *sql.Rows) error {
			var it ReplayItem
			var ms int64
			err := r.Scan(&it.Topic, &it.Partition, &it.Offset, &it.ReplayID, &it.State, &it.Target, &ms)
			it.Updated = time.UnixMilli(ms).UTC()
			out = append(out, it)
			return err
		})
	return out, err
}

// MarkSent implements ReplayStore.
func (s *sqlStore) MarkSent(ctx context.Context, id, owner string, items []ReplayItem) error {
	if err := s.ensureSchema(ctx); err != nil {
		return err
	}
	return s.inTx(ctx, "mark replayed", func(tx *sql.Tx) error {
		now := time.Now().UnixMilli()
		var moved int64
		for _, it := range items {
			res, err := tx.ExecContext(ctx, rebind(s.driver, `UPDATE dlq_replayed SET state = ?, updated_ms = ?
				WHERE dlq_topic = ? AND part = ? AND record_offset = ? AND replay_id = ? AND state = ?`),
				ItemSent, now, it.Topic, it.Partition, it.Offset, id, ItemPending)
			n, err := affected(res, err)
			if err != nil {
				return fmt.Errorf("mark %s/%d@%d sent: %w", it.Topic, it.Partition, it.Offset, err)
			}
			moved += n
		}
		return s.bumpReplay(ctx, tx, id, owner, moved, now)
	})
}

// bumpReplay adds moved to a running replay's sent count while owner owns it.
func (s *sqlStore) bumpReplay(ctx context.Context, tx *sql.Tx, id, owner string, moved, now int64) error {
	res, err := tx.ExecContext(ctx, rebind(s.driver, `UPDATE dlq_replays SET sent = sent + ?, updated_ms = ? WHERE id = ? AND owner = ? AND state = ?`),
		moved, now, id, owner, ReplayRunning)
	n, err := affected(res, err)
	if err != nil {
		return fmt.Errorf("count replay %s: %w", id, err)
	}
	if n != 1 {
		return fmt.Errorf("replay %s: %w", id, ErrFenced)
	}
	return nil
}

// FinishReplay implements ReplayStore.
func (s *sqlStore) FinishReplay(ctx context.Context, id, owner, state, errText string) error {
	if err := s.ensureSchema(ctx); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, rebind(s.driver, `UPDATE dlq_replays SET state = ?, error = ?, updated_ms = ? WHERE id = ? AND owner = ? AND state = ?`),
		state, errText, time.Now().UnixMilli(), id, owner, ReplayRunning)
	n, err := affected(res, err)
	if err != nil {
		return fmt.Errorf("finish replay %s: %w", id, err)
	}
	if n != 1 {
		return fmt.Errorf("finish replay %s: %w", id, ErrFenced)
	}
	return nil
}

// TakeOver implements ReplayStore.
func (s *sqlStore) TakeOver(ctx context.Context, id, owner string, staleBefore time.Time) (bool, error) {
	if err := s.ensureSchema(ctx); err != nil {
		return false, err
	}
	res, err := s.db.ExecContext(ctx, rebind(s.driver, `UPDATE dlq_replays SET owner = ?, updated_ms = ?
		WHERE id = ? AND state = ? AND (owner = ? OR updated_ms < ?)`),
		owner, time.Now().UnixMilli(), id, ReplayRunning, owner, staleBefore.UnixMilli())
	n, err := affected(res, err)
	if err != nil {
		return false, fmt.Errorf("take over replay %s: %w", id, err)
	}
	return n == 1, nil
}

// Replays implements ReplayStore.
func (s *sqlStore) Replays(ctx context.Context, state string, limit int) ([]Replay, error) {
	q, args := `SELECT `+replayCols+` FROM dlq_replays`, []any{}
	if state != "" {
		q, args = q+` WHERE state = ?`, append(args, state)
	}
	q += ` ORDER BY created_ms DESC, id DESC LIMIT ?`
	var out []Replay
	err := s.query(ctx, "replays", q, append(args, limit), func(r *sql.Rows) error {
		rp, err := scanReplay(r)
		out = append(out, rp)
		return err
	})
	return out, err
}

// Replay implements ReplayStore.
func (s *sqlStore) Replay(ctx context.Context, id string) (Replay, error) {
	var out []Replay
	err := s.query(ctx, "replay", `SELECT `+replayCols+` FROM dlq_replays WHERE id = ?`, []any{id}, func(r *sql.Rows) error {
		rp, err := scanReplay(r)
		out = append(out, rp)
		return err
	})
	if err != nil {
		return Replay{}, err
	}
	if len(out) == 0 {
		return Replay{}, fmt.Errorf("replay %s: %w", id, ErrNoReplay)
	}
	return out[0], nil
}

func scanReplay(r *sql.Rows) (Replay, error) {
	var rp Replay
	var created, updated int64
	err := r.Scan(&rp.ID, &created, &updated, &rp.RequestedBy, &rp.Selection, &rp.State, &rp.Planned, &rp.Sent, &rp.Skipped, &rp.Marks, &rp.Error, &rp.Owner)
	rp.Created, rp.Updated = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return rp, err
}
