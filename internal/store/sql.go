package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// sqlStore implements Store on database/sql for both drivers; queries are
// written with ? placeholders and rebound to $n for PostgreSQL.
type sqlStore struct {
	db               *sql.DB // writes (SQLite: the one writer connection)
	rdb              *sql.DB // reads: SQLite has its own read connections, so a read never queues behind a flush; PostgreSQL shares db
	driver           string
	schema           string        // PostgreSQL schema of the tables ("": the search_path)
	maxExamples      int           // examples kept per (rule, service, topic)
	exampleRetention time.Duration // examples older than this are pruned

	migrateMu sync.Mutex  // serialises ensureSchema
	migrated  atomic.Bool // schema is current
}

func (s *sqlStore) Driver() string { return s.driver }

func (s *sqlStore) Close() error {
	err := s.db.Close()
	if s.rdb != s.db {
		err = errors.Join(err, s.rdb.Close())
	}
	return err
}

// queryer is what reads run on: the read pool or one read transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// rebind turns ? placeholders into $1, $2, ... for PostgreSQL.
func rebind(driver, q string) string {
	if driver != DriverPostgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// upsert is a multi-row INSERT ... ON CONFLICT: head, then one tuple per
// row, then tail. A flush writes hundreds to thousands of rows (the lag
// breach rows are three per consumer group); one statement per row cost
// a parse each (modernc's SQLite prepares on every exec).
type upsert struct {
	head, tuple, tail string
}

var (
	upsertRecord = upsert{`INSERT INTO record_hours (hour, service, topic, event_type, checked, compliant) VALUES `,
		`(?, ?, ?, ?, ?, ?)`,
		` ON CONFLICT (hour, service, topic, event_type) DO UPDATE SET
		checked = record_hours.checked + excluded.checked,
		compliant = record_hours.compliant + excluded.compliant`}
	upsertViolation = upsert{`INSERT INTO violation_hours (hour, service, topic, event_type, rule, severity, profile, violations) VALUES `,
		`(?, ?, ?, ?, ?, ?, ?, ?)`,
		` ON CONFLICT (hour, service, topic, event_type, rule, severity, profile) DO UPDATE SET
		violations = violation_hours.violations + excluded.violations`}
	upsertCluster = upsert{`INSERT INTO cluster_hours (hour, kind, name, value, total) VALUES `,
		`(?, ?, ?, ?, ?)`,
		` ON CONFLICT (hour, kind, name) DO UPDATE SET
		value = cluster_hours.value + excluded.value,
		total = cluster_hours.total + excluded.total`}
)

// upsertChunk is how many rows one multi-row statement carries (at most
// 8 parameters a row: 800, far below SQLite's 32766 and PostgreSQL's 65535).
const upsertChunk = 100

// query is the statement for n rows.
func (u upsert) query(n int) string {
	var b strings.Builder
	b.WriteString(u.head)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(u.tuple)
	}
	b.WriteString(u.tail)
	return b.String()
}

// upsertEach writes n rows (args(i) the values of row i, whose keys are
// distinct: PostgreSQL refuses a statement that updates one row twice)
// in statements of upsertChunk rows.
func (s *sqlStore) upsertEach(ctx context.Context, tx *sql.Tx, what string, u upsert, n int, args func(i int) []any) error {
	full := ""
	for lo := 0; lo < n; lo += upsertChunk {
		hi := min(lo+upsertChunk, n)
		q := full
		if hi-lo < upsertChunk || q == "" {
			q = rebind(s.driver, u.query(hi-lo))
		}
		if hi-lo == upsertChunk {
			full = q
		}
		vals := make([]any, 0, (hi-lo)*8)
		for i := lo; i < hi; i++ {
			vals = append(vals, args(i)...)
		}
		if _, err := tx.ExecContext(ctx, q, vals...); err != nil {
			return fmt.Errorf("write %s: %w", what, err)
		}
	}
	return nil
}

// Write moves b's positions and merges b's aggregates into the stored rows
// in one transaction; a position conflict rolls back all of it.
func (s *sqlStore) Write(ctx context.Context, b *Batch) error {
	if err := s.ensureSchema(ctx); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin write: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	steps := []func(context.Context, *sql.Tx, *Batch) error{s.writeAdvances, s.writeIDs, s.writeRecords, s.writeViolations, s.writeExamples, s.writeCluster}
	for _, step := range steps {
		if err := step(ctx, tx, b); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit write: %w", err)
	}
	return nil
}

// execEach prepares q once and runs it with args(i) for i in [0, n).
func (s *sqlStore) execEach(ctx context.Context, tx *sql.Tx, what, q string, n int, args func(i int) []any) error {
	if n == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, rebind(s.driver, q))
	if err != nil {
		return fmt.Errorf("prepare %s: %w", what, err)
	}
	defer stmt.Close()
	for i := range n {
		if _, err := stmt.ExecContext(ctx, args(i)...); err != nil {
			return fmt.Errorf("write %s: %w", what, err)
		}
	}
	return nil
}

func (s *sqlStore) writeRecords(ctx context.Context, tx *sql.Tx, b *Batch) error {
	return s.upsertEach(ctx, tx, "record aggregates", upsertRecord, len(b.Records), func(i int) []any {
		r := b.Records[i]
		return []any{hourKey(r.Hour), r.Service, r.Topic, r.EventType, r.Checked, r.Compliant}
	})
}

func (s *sqlStore) writeViolations(ctx context.Context, tx *sql.Tx, b *Batch) error {
	return s.upsertEach(ctx, tx, "violation aggregates", upsertViolation, len(b.Violations), func(i int) []any {
		v := b.Violations[i]
		return []any{hourKey(v.Hour), v.Service, v.Topic, v.EventType, v.Rule, v.Severity, v.Profile, v.Violations}
	})
}

func (s *sqlStore) writeCluster(ctx context.Context, tx *sql.Tx, b *Batch) error {
	return s.upsertEach(ctx, tx, "cluster samples", upsertCluster, len(b.Cluster), func(i int) []any {
		c := b.Cluster[i]
		return []any{hourKey(c.Hour), c.Kind, c.Name, c.Value, c.Total}
	})
}

func hourKey(t time.Time) int64 { return HourOf(t).Unix() }

func fromHour(h int64) time.Time { return time.Unix(h, 0).UTC() }

// where builds the hour-range (and service) filter of w.
func where(w Window, withService bool) (string, []any) {
	q := ` WHERE hour >= ? AND hour < ?`
	args := []any{w.From.Unix(), w.To.Unix()}
	if withService && w.Service != "" {
		q += ` AND service = ?`
		args = append(args, w.Service)
	}
	return q, args
}

// ReadTimeout bounds every read of the store: a store that is locked
// against readers or does not answer fails the read (and the API answers
// 503) within it, instead of queueing the request.
const ReadTimeout = 5 * time.Second

// query runs q on the read pool and calls scan for every row.
func (s *sqlStore) query(ctx context.Context, what, q string, args []any, scan func(*sql.Rows) error) error {
	ctx, cancel := context.WithTimeout(ctx, ReadTimeout)
	defer cancel()
	if err := s.ensureSchema(ctx); err != nil {
		return err
	}
	return s.queryOn(ctx, s.rdb, what, q, args, scan)
}

// queryOn runs q on qr and calls scan for every row.
func (s *sqlStore) queryOn(ctx context.Context, qr queryer, what, q string, args []any, scan func(*sql.Rows) error) error {
	rows, err := qr.QueryContext(ctx, rebind(s.driver, q), args...)
	if err != nil {
		return fmt.Errorf("query %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("read %s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	return nil
}

// Records returns record counts in w.
func (s *sqlStore) Records(ctx context.Context, w Window) ([]RecordAgg, error) {
	if err := s.ensureSchema(ctx); err != nil {
		return nil, err
	}
	return s.records(ctx, s.rdb, w)
}

func (s *sqlStore) records(ctx context.Context, qr queryer, w Window) ([]RecordAgg, error) {
	cond, args := where(w, true)
	var out []RecordAgg
	err := s.queryOn(ctx, qr, "record aggregates", `SELECT hour, service, topic, event_type, checked, compliant FROM record_hours`+cond+
		` ORDER BY hour, service, topic, event_type`, args, func(r *sql.Rows) error {
		var a RecordAgg
		var h int64
		err := r.Scan(&h, &a.Service, &a.Topic, &a.EventType, &a.Checked, &a.Compliant)
		a.Hour = fromHour(h)
		out = append(out, a)
		return err
	})
	return out, err
}

// Violations returns violation counts in w.
func (s *sqlStore) Violations(ctx context.Context, w Window) ([]ViolationAgg, error) {
	if err := s.ensureSchema(ctx); err != nil {
		return nil, err
	}
	return s.violations(ctx, s.rdb, w)
}

func (s *sqlStore) violations(ctx context.Context, qr queryer, w Window) ([]ViolationAgg, error) {
	cond, args := where(w, true)
	var out []ViolationAgg
	err := s.queryOn(ctx, qr, "violation aggregates", `SELECT hour, service, topic, event_type, rule, severity, profile, violations FROM violation_hours`+cond+
		` ORDER BY hour, service, topic, event_type, rule, profile`, args, func(r *sql.Rows) error {
		var a ViolationAgg
		var h int64
		err := r.Scan(&h, &a.Service, &a.Topic, &a.EventType, &a.Rule, &a.Severity, &a.Profile, &a.Violations)
		a.Hour = fromHour(h)
		out = append(out, a)
		return err
	})
	return out, err
}

// Cluster returns cluster samples in w.
func (s *sqlStore) Cluster(ctx context.Context, w Window) ([]ClusterAgg, error) {
	if err := s.ensureSchema(ctx); err != nil {
		return nil, err
	}
	return s.cluster(ctx, s.rdb, w)
}

func (s *sqlStore) cluster(ctx context.Context, qr queryer, w Window) ([]ClusterAgg, error) {
	cond, args := where(w, false)
	var out []ClusterAgg
	err := s.queryOn(ctx, qr, "cluster samples", `SELECT hour, kind, name, value, total FROM cluster_hours`+cond+
		` ORDER BY hour, kind, name`, args, func(r *sql.Rows) error {
		var c ClusterAgg
		var h int64
		err := r.Scan(&h, &c.Kind, &c.Name, &c.Value, &c.Total)
		c.Hour = fromHour(h)
		out = append(out, c)
		return err
	})
	return out, err
}

// Hours returns the records checked per stored hour, oldest first.
func (s *sqlStore) Hours(ctx context.Context) ([]HourTotal, error) {
	var out []HourTotal
	err := s.query(ctx, "hours", `SELECT hour, SUM(checked) FROM record_hours GROUP BY hour ORDER BY hour`, nil, func(r *sql.Rows) error {
		var t HourTotal
		var h int64
		err := r.Scan(&h, &t.Checked)
		t.Hour = fromHour(h)
		out = append(out, t)
		return err
	})
	return out, err
}

// Names returns the distinct services and topics of the stored records.
func (s *sqlStore) Names(ctx context.Context) (Names, error) {
	var n Names
	for _, c := range []struct {
		col string
		out *[]string
	}{{"service", &n.Services}, {"topic", &n.Topics}} {
		err := s.query(ctx, c.col+" names", `SELECT DISTINCT `+c.col+` FROM record_hours ORDER BY `+c.col, nil, func(r *sql.Rows) error {
			var v string
			err := r.Scan(&v)
			*c.out = append(*c.out, v)
			return err
		})
		if err != nil {
			return Names{}, err
		}
	}
	return n, nil
}

// Prune deletes rows of hours before before.
func (s *sqlStore) Prune(ctx context.Context, before time.Time) (int64, error) {
	if err := s.ensureSchema(ctx); err != nil {
		return 0, err
	}
	var n int64
	for _, table := range []string{"record_hours", "violation_hours", "cluster_hours"} {
		res, err := s.db.ExecContext(ctx, rebind(s.driver, `DELETE FROM `+table+` WHERE hour < ?`), before.Unix())
		if err != nil {
			return n, fmt.Errorf("prune %s: %w", table, err)
		}
		k, _ := res.RowsAffected()
		n += k
	}
	cut := time.Now().Add(-s.exampleRetention)
	if before.After(cut) {
		cut = before
	}
	res, err := s.db.ExecContext(ctx, rebind(s.driver, `DELETE FROM violation_examples WHERE observed_ms < ?`), cut.UnixMilli())
	if err != nil {
		return n, fmt.Errorf("prune violation_examples: %w", err)
	}
	k, _ := res.RowsAffected()
	return n + k, nil
}
