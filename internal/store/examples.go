package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

const (
	insertExample = `INSERT INTO violation_examples (rule, service, topic, record_partition, record_offset,
		hour, observed_ms, event_time_ms, event_type, event_id, severity, profile, message, field_path, schema_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (rule, service, topic, record_partition, record_offset) DO NOTHING`
	// trimExamples keeps the newest maxExamples of one (rule, service, topic).
	trimExamples = `DELETE FROM violation_examples WHERE rule = ? AND service = ? AND topic = ?
		AND (record_partition, record_offset) NOT IN (
			SELECT record_partition, record_offset FROM violation_examples WHERE rule = ? AND service = ? AND topic = ?
			ORDER BY observed_ms DESC, record_partition DESC, record_offset DESC LIMIT ?)`
	exampleColumns = `rule, service, topic, record_partition, record_offset, observed_ms, event_time_ms,
		event_type, event_id, severity, profile, message, field_path, schema_id`
	exampleOrder = ` ORDER BY observed_ms DESC, rule DESC, service DESC, topic DESC, record_partition DESC, record_offset DESC`
)

type exampleKey struct{ rule, service, topic string }

// writeExamples inserts b's examples (in key order, so that replicas lock
// rows in the same order) and trims each key they touched to the newest
// maxExamples.
func (s *sqlStore) writeExamples(ctx context.Context, tx *sql.Tx, b *Batch) error {
	ex := slices.Clone(b.Examples)
	slices.SortFunc(ex, func(x, y Example) int {
		return cmp.Or(cmp.Compare(x.Rule, y.Rule), cmp.Compare(x.Service, y.Service), cmp.Compare(x.Topic, y.Topic),
			cmp.Compare(x.Partition, y.Partition), cmp.Compare(x.Offset, y.Offset))
	})
	err := s.execEach(ctx, tx, "examples", insertExample, len(ex), func(i int) []any {
		e := ex[i]
		return []any{e.Rule, e.Service, e.Topic, e.Partition, e.Offset, hourKey(e.Observed), e.Observed.UnixMilli(),
			e.Time.UnixMilli(), e.EventType, e.EventID, e.Severity, e.Profile, e.Message, e.Field,
			sql.NullInt32{Int32: e.SchemaID, Valid: e.SchemaID != 0}}
	})
	if err != nil {
		return err
	}
	var keys []exampleKey
	for _, e := range ex {
		k := exampleKey{e.Rule, e.Service, e.Topic}
		if len(keys) == 0 || keys[len(keys)-1] != k {
			keys = append(keys, k)
		}
	}
	return s.execEach(ctx, tx, "example trim", trimExamples, len(keys), func(i int) []any {
		k := keys[i]
		return []any{k.rule, k.service, k.topic, k.rule, k.service, k.topic, s.maxExamples}
	})
}

func scanExample(r *sql.Rows) (Example, error) {
	var e Example
	var obs, ms int64
	var schema sql.NullInt32
	err := r.Scan(&e.Rule, &e.Service, &e.Topic, &e.Partition, &e.Offset, &obs, &ms,
		&e.EventType, &e.EventID, &e.Severity, &e.Profile, &e.Message, &e.Field, &schema)
	e.Observed, e.Time = time.UnixMilli(obs).UTC(), time.UnixMilli(ms).UTC()
	e.SchemaID = schema.Int32 // 0 when NULL
	e.Hour = HourOf(e.Observed)
	return e, err
}

// Examples returns the examples observed in w, newest first.
func (s *sqlStore) Examples(ctx context.Context, w Window) ([]Example, error) {
	if err := s.ensureSchema(ctx); err != nil {
		return nil, err
	}
	return s.examples(ctx, s.rdb, w)
}

func (s *sqlStore) examples(ctx context.Context, qr queryer, w Window) ([]Example, error) {
	cond, args := where(w, true)
	var out []Example
	err := s.queryOn(ctx, qr, "examples", `SELECT `+exampleColumns+` FROM violation_examples`+cond+exampleOrder, args, func(r *sql.Rows) error {
		e, err := scanExample(r)
		out = append(out, e)
		return err
	})
	return out, err
}

// cursor is the position of the last example of a page.
type cursor struct {
	Observed  int64  `json:"o"`
	Rule      string `json:"r"`
	Service   string `json:"s"`
	Topic     string `json:"t"`
	Partition int32  `json:"p"`
	Offset    int64  `json:"f"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c) //nolint:errchkjson // a struct of strings and ints always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

// ErrBadCursor is returned by FindExamples for a cursor it did not issue.
var ErrBadCursor = errors.New("invalid cursor")

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil {
		return c, ErrBadCursor
	}
	return c, nil
}

// FindExamples returns one page of examples matching q, newest first.
func (s *sqlStore) FindExamples(ctx context.Context, q ExampleQuery) (ExamplePage, error) {
	page := ExamplePage{Examples: []Example{}}
	if q.Services != nil && len(q.Services) == 0 {
		return page, nil // a team without services owns no examples
	}
	cond, args, err := exampleFilter(q)
	if err != nil {
		return page, err
	}
	limit := min(max(q.Limit, 1), 1000)
	err = s.query(ctx, "examples", `SELECT `+exampleColumns+` FROM violation_examples`+cond+exampleOrder+` LIMIT ?`,
		append(args, limit+1), func(r *sql.Rows) error {
			e, err := scanExample(r)
			page.Examples = append(page.Examples, e)
			return err
		})
	if err != nil {
		return ExamplePage{Examples: []Example{}}, err
	}
	if len(page.Examples) > limit {
		page.Examples = page.Examples[:limit]
		l := page.Examples[limit-1]
		page.Next = cursor{l.Observed.UnixMilli(), l.Rule, l.Service, l.Topic, l.Partition, l.Offset}.encode()
	}
	return page, nil
}

func exampleFilter(q ExampleQuery) (string, []any, error) {
	var conds []string
	var args []any
	add := func(c string, a ...any) { conds = append(conds, c); args = append(args, a...) }
	if q.Rule != "" {
		add("rule = ?", q.Rule)
	}
	if len(q.Services) > 0 {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(q.Services)), ", ")
		svcs := make([]any, len(q.Services))
		for i, v := range q.Services {
			svcs[i] = v
		}
		add("service IN ("+marks+")", svcs...)
	}
	if q.Topic != "" {
		add("topic = ?", q.Topic)
	}
	if !q.Since.IsZero() {
		add("observed_ms >= ?", q.Since.UnixMilli())
	}
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor)
		if err != nil {
			return "", nil, fmt.Errorf("find examples: %w", err)
		}
		add("(observed_ms, rule, service, topic, record_partition, record_offset) < (?, ?, ?, ?, ?, ?)",
			c.Observed, c.Rule, c.Service, c.Topic, c.Partition, c.Offset)
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}
