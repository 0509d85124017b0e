package dlq

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/event"
)

// Request is a replay request (POST /api/v1/dlq/replays, `eventwatch dlq
// replay`): which dead letters of one topic, where their originals go, and
// whether to send at all.
type Request struct {
	Topic       string        `json:"topic"`                 // dead-letter topic (required)
	ErrorClass  string        `json:"error_class,omitempty"` // only dead letters of this error class (as GET /api/v1/dlq names it)
	EventType   string        `json:"event_type,omitempty"`  // only originals of this event type
	Since       *time.Time    `json:"since,omitempty"`       // only dead letters with a record timestamp at or after
	Until       *time.Time    `json:"until,omitempty"`       // and before
	Offsets     []OffsetRange `json:"offsets,omitempty"`     // only these offset ranges (inclusive); none means every partition, whole
	To          string        `json:"to_topic,omitempty"`    // send every original here instead of its original topic
	DryRun      bool          `json:"dry_run"`               // list what would be sent; send and claim nothing
	Force       bool          `json:"force"`                 // send again dead letters an earlier replay already sent
	RequestedBy string        `json:"requested_by"`          // who asks (carried in the eventwatch-replay-by header and the audit log)
}

// OffsetRange is an inclusive range of offsets of one partition.
type OffsetRange struct {
	Partition int32 `json:"partition"` // partition of the dead-letter topic
	From      int64 `json:"from"`      // first offset
	To        int64 `json:"to"`        // last offset (inclusive)
}

// BadRequestError is a replay request eventwatch refuses before sending
// anything: a malformed selection, an unknown topic, or selected dead
// letters without an original or a destination.
type BadRequestError struct{ Problems []string }

func (e *BadRequestError) Error() string {
	return "replay refused, nothing sent: " + strings.Join(e.Problems, "; ")
}

func badRequest(format string, args ...any) error {
	return &BadRequestError{Problems: []string{fmt.Sprintf(format, args...)}}
}

// Validate checks the selection's shape (no Kafka call).
func (r *Request) Validate() error {
	var p []string
	if strings.TrimSpace(r.Topic) == "" {
		p = append(p, "topic: required")
	}
	for i, o := range r.Offsets {
		if o.Partition < 0 || o.From < 0 || o.To < o.From {
			p = append(p, fmt.Sprintf("offsets[%d]: want partition >= 0 and 0 <= from <= to, got %d:%d-%d", i, o.Partition, o.From, o.To))
		}
	}
	if r.Since != nil && r.Until != nil && !r.Until.After(*r.Since) {
		p = append(p, "until: must be after since")
	}
	if strings.TrimSpace(r.RequestedBy) == "" {
		p = append(p, "requested_by: required (who asks; carried in the replay headers)")
	}
	if len(p) > 0 {
		return &BadRequestError{Problems: p}
	}
	return nil
}

// PlanItem is one dead letter a replay selects.
type PlanItem struct {
	Partition  int32  `json:"partition"`          // partition of the dead letter
	Offset     int64  `json:"offset"`             // its offset
	EventID    string `json:"event_id,omitempty"` // the original's event id
	EventType  string `json:"event_type,omitempty"`
	ErrorClass string `json:"error_class"` // its cause
	Target     string `json:"target"`      // topic the original goes to
	Replayed   bool   `json:"already_replayed,omitempty"`
}

// partRange is the offsets [from, to) to read from one partition.
type partRange struct {
	partition int32
	from, to  int64
}

// planner reads a selection from Kafka.
type planner struct {
	cl       *kgo.Client
	adm      *kadm.Client
	auditor  Auditor
	prefixes func(topic string) []string
	max      int
}

// selected is a dead letter a selection matched, with its original.
type selected struct {
	item PlanItem
	orig Original
}

// plan reads the dead letters req selects and unwraps their originals. Any
// selected dead letter without an original or destination, an unknown
// topic or partition, or more than max records refuses the whole request.
func (p *planner) plan(ctx context.Context, req *Request) ([]selected, error) {
	ranges, err := p.ranges(ctx, req)
	if err != nil {
		return nil, err
	}
	var out []selected
	var problems []string
	err = p.read(ctx, req.Topic, ranges, func(rec *event.Record) error {
		res := p.auditor.Check(rec)
		l := Read(rec, &res)
		if !matches(req, &l) {
			return nil
		}
		if len(out)+len(problems) >= p.max {
			return badRequest("the selection holds more than %d dead letters (dlq.replay.max_records); narrow it", p.max)
		}
		s, problem := p.unwrap(rec, &l, req)
		if problem != "" {
			problems = append(problems, problem)
			return nil
		}
		out = append(out, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, &BadRequestError{Problems: problems}
	}
	return out, p.checkTargets(ctx, out)
}

func matches(req *Request, l *Letter) bool {
	switch {
	case req.ErrorClass != "" && l.ErrorClass != req.ErrorClass:
		return false
	case req.EventType != "" && l.EventType != req.EventType:
		return false
	case req.Since != nil && l.Time.Before(*req.Since):
		return false
	case req.Until != nil && !l.Time.Before(*req.Until):
		return false
	}
	return true
}

func (p *planner) unwrap(rec *event.Record, l *Letter, req *Request) (selected, string) {
	o, err := Unwrap(rec, l, p.prefixes(rec.Topic))
	if err != nil {
		return selected{}, err.Error()
	}
	target := o.Topic
	if req.To != "" {
		target = req.To
	}
	if target == "" {
		return selected{}, fmt.Sprintf("%s/%d@%d: the dead letter does not name its original topic; pass to_topic", rec.Topic, rec.Partition, rec.Offset)
	}
	o.Topic = target
	return selected{item: PlanItem{Partition: rec.Partition, Offset: rec.Offset, EventID: l.EventID, EventType: l.EventType,
		ErrorClass: l.ErrorClass, Target: target}, orig: o}, ""
}

// ranges turns the request into the offset ranges to read, clipped to each
// partition's log; an unknown topic or partition refuses the request.
func (p *planner) ranges(ctx context.Context, req *Request) ([]partRange, error) {
	starts, err := p.adm.ListStartOffsets(ctx, req.Topic)
	if err != nil {
		return nil, fmt.Errorf("list offsets of %s: %w", req.Topic, err)
	}
	ends, err := p.adm.ListEndOffsets(ctx, req.Topic)
	if err != nil {
		return nil, fmt.Errorf("list offsets of %s: %w", req.Topic, err)
	}
	if err := topicErr(ends, req.Topic); err != nil {
		return nil, err
	}
	var out []partRange
	for _, o := range ends[req.Topic] {
		s, _ := starts.Lookup(req.Topic, o.Partition)
		out = append(out, partRange{partition: o.Partition, from: s.Offset, to: o.Offset})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].partition < out[j].partition })
	if len(req.Offsets) == 0 {
		return out, nil
	}
	return clip(req, out)
}

func topicErr(ends kadm.ListedOffsets, topic string) error {
	ps, ok := ends[topic]
	if !ok || len(ps) == 0 {
		return badRequest("unknown topic %q", topic)
	}
	for _, o := range ps {
		if errors.Is(o.Err, kerrUnknownTopic) {
			return badRequest("unknown topic %q", topic)
		}
		if o.Err != nil {
			return fmt.Errorf("list offsets of %s/%d: %w", topic, o.Partition, o.Err)
		}
	}
	return nil
}

// clip intersects the requested offset ranges with the partitions' logs.
func clip(req *Request, logs []partRange) ([]partRange, error) {
	byPart := map[int32]partRange{}
	for _, l := range logs {
		byPart[l.partition] = l
	}
	var out []partRange
	for i, o := range req.Offsets {
		l, ok := byPart[o.Partition]
		if !ok {
			return nil, badRequest("offsets[%d]: %s has no partition %d", i, req.Topic, o.Partition)
		}
		from, to := max(o.From, l.from), min(o.To+1, l.to)
		if from < to {
			out = append(out, partRange{partition: o.Partition, from: from, to: to})
		}
	}
	return out, nil
}

// checkTargets refuses originals bound for topics that do not exist.
func (p *planner) checkTargets(ctx context.Context, sel []selected) error {
	targets := map[string]bool{}
	for _, s := range sel {
		targets[s.orig.Topic] = true
	}
	if len(targets) == 0 {
		return nil
	}
	names := make([]string, 0, len(targets))
	for t := range targets {
		names = append(names, t)
	}
	sort.Strings(names)
	ends, err := p.adm.ListEndOffsets(ctx, names...)
	if err != nil {
		return fmt.Errorf("list offsets of the target topics: %w", err)
	}
	var problems []string
	for _, t := range names {
		if topicErr(ends, t) != nil {
			problems = append(problems, fmt.Sprintf("target topic %q does not exist", t))
		}
	}
	if len(problems) > 0 {
		return &BadRequestError{Problems: problems}
	}
	return nil
}

// read consumes ranges of topic with a group-less consumer and calls fn for
// every record until each range is read (read_committed: aborted records
// are never replayed). A partition whose range ends in records it cannot
// return (transaction markers, compacted away) is done when three polls in
// a row bring nothing from it.
func (p *planner) read(ctx context.Context, topic string, ranges []partRange, fn func(*event.Record) error) error {
	want := map[int32]kgo.Offset{}
	left := map[int32]int64{}
	for _, r := range ranges {
		if r.from < r.to {
			want[r.partition] = kgo.NewOffset().At(r.from)
			left[r.partition] = r.to
		}
	}
	if len(want) == 0 {
		return nil
	}
	p.cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: want})
	defer p.cl.PurgeTopicsFromConsuming(topic)
	quiet := 0
	for len(left) > 0 && quiet < 3 {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fs := p.cl.PollFetches(pctx)
		cancel()
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("read %s: %w", topic, err)
		}
		n, err := each(fs, left, fn)
		if err != nil {
			return err
		}
		if quiet++; n > 0 {
			quiet = 0
		}
	}
	return nil
}

// each hands fn the records of fs below their partition's end and drops
// partitions read to their end from left; it returns how many records it
// saw.
func each(fs kgo.Fetches, left map[int32]int64, fn func(*event.Record) error) (int, error) {
	var err error
	n := 0
	fs.EachRecord(func(r *kgo.Record) {
		end, ok := left[r.Partition]
		if !ok || err != nil {
			return
		}
		n++
		if r.Offset < end {
			err = fn(toAudit(r))
		}
		if r.Offset+1 >= end {
			delete(left, r.Partition)
		}
	})
	return n, err
}

// kerrUnknownTopic is the broker's answer for a topic that does not exist.
var kerrUnknownTopic = kerr.UnknownTopicOrPartition
