package dlq

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/event"
)

// ErrNotFound is returned when a topic, partition or offset does not exist
// (or the record at the offset was deleted or compacted away).
var ErrNotFound = errors.New("not found")

// Shown is one dead letter as `eventwatch dlq show` prints it: where it
// is, what it says about its original and its error, how the original
// audits, and (admin credential and dlq.show_payload only) its bytes.
type Shown struct {
	Letter     Letter            `json:"letter"`                 // identity, origin and cause
	Headers    []ShownHeader     `json:"headers"`                // every header: key and size; values only with payload access
	Violations []event.Violation `json:"violations"`             // the audit result of the dead letter under its topic's profile
	Profile    string            `json:"profile"`                // the profile that judged it
	KeyBytes   int               `json:"key_bytes"`              // size of the key
	ValueBytes int               `json:"value_bytes"`            // size of the value
	Key        *string           `json:"key,omitempty"`          // the key (payload access only)
	Value      *string           `json:"value,omitempty"`        // the value (payload access only)
	Payload    string            `json:"payload"`                // "shown", or why not: "needs the admin credential", "off (dlq.show_payload)"
	Replayed   []ReplayMark      `json:"replayed,omitempty"`     // replays that sent this dead letter's original
	ReadAt     time.Time         `json:"read_at"`                // when eventwatch read it
	Unwrapped  string            `json:"unwrap_error,omitempty"` // why the original cannot be replayed, when it cannot
}

// ShownHeader is one header of a shown dead letter.
type ShownHeader struct {
	Key   string  `json:"key"`             // header key
	Bytes int     `json:"bytes"`           // value size
	Value *string `json:"value,omitempty"` // value (payload access only)
}

// ReplayMark says that a replay sent a dead letter's original.
type ReplayMark struct {
	ReplayID string    `json:"replay_id"` // the replay
	Target   string    `json:"target"`    // where the original went
	State    string    `json:"state"`     // pending or sent
	At       time.Time `json:"at"`        // when
}

// FetchOne reads the record at topic/partition@offset with a group-less
// client built from opts.
func FetchOne(ctx context.Context, opts []kgo.Opt, topic string, partition int32, offset int64) (*event.Record, error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	start, end, err := bounds(ctx, kadm.NewClient(cl), topic, partition)
	if err != nil {
		return nil, err
	}
	if offset < start || offset >= end {
		return nil, fmt.Errorf("%s/%d@%d: %w (the partition holds offsets %d to %d)", topic, partition, offset, ErrNotFound, start, end-1)
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: {partition: kgo.NewOffset().At(offset)}})
	for {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read %s/%d@%d: %w", topic, partition, offset, err)
		}
		for _, r := range fs.Records() {
			if r.Offset == offset {
				return toAudit(r), nil
			}
			if r.Offset > offset {
				return nil, fmt.Errorf("%s/%d@%d: %w (compacted away or a transaction marker)", topic, partition, offset, ErrNotFound)
			}
		}
	}
}

// bounds returns a partition's log-start and end offsets.
func bounds(ctx context.Context, adm *kadm.Client, topic string, partition int32) (int64, int64, error) {
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return 0, 0, fmt.Errorf("list offsets of %s: %w", topic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, 0, fmt.Errorf("list offsets of %s: %w", topic, err)
	}
	s, ok := starts.Lookup(topic, partition)
	e, ok2 := ends.Lookup(topic, partition)
	if !ok || !ok2 || s.Err != nil || e.Err != nil {
		return 0, 0, fmt.Errorf("%s/%d: %w (no such topic or partition)", topic, partition, ErrNotFound)
	}
	return s.Offset, e.Offset, nil
}

// Show describes rec. payload says whether key, value and header values
// may be included (admin credential and dlq.show_payload); why is the
// reason when they may not.
func Show(rec *event.Record, res *event.Result, payload bool, why string, errorPrefixes []string) Shown {
	l := Read(rec, res)
	s := Shown{Letter: l, Violations: slices.Clone(res.Violations), Profile: res.Profile, KeyBytes: len(rec.Key),
		ValueBytes: len(rec.Value), Payload: why, ReadAt: time.Now().UTC()}
	if s.Violations == nil {
		s.Violations = []event.Violation{}
	}
	if payload {
		s.Payload = "shown"
		k, v := string(rec.Key), string(rec.Value)
		s.Key, s.Value = &k, &v
	}
	for _, h := range rec.Headers {
		sh := ShownHeader{Key: h.Key, Bytes: len(h.Value)}
		if payload {
			v := string(h.Value)
			sh.Value = &v
		}
		s.Headers = append(s.Headers, sh)
	}
	if _, err := Unwrap(rec, &l, errorPrefixes); err != nil {
		s.Unwrapped = err.Error()
	}
	return s
}
