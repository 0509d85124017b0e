package dlq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/store"
)

// maxBatch bounds the originals sent between two bookkeeping writes.
const maxBatch = 100

// Run resumes running replays whose process stopped (no progress for
// dlq.replay.resume_after) until ctx is done; replays started by requests
// run under ctx too. It looks every resume_after/3, but only when a look
// can find a replay to take over (lookDue): not while every running
// replay it saw made progress within resume_after, nor, when it saw none,
// within resume_after of that look (a replay another process starts
// later is stale resume_after after its start at the earliest).
func (r *Replayer) Run(ctx context.Context) error {
	r.mu.Lock()
	r.ctx = ctx
	r.mu.Unlock()
	tick := time.NewTicker(r.cfg.ResumeAfter / 3)
	defer tick.Stop()
	for {
		r.poll(ctx, time.Now())
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// maxResumeLook is how many running replays one look reads.
const maxResumeLook = 100

// poll takes over the stale running replays when a look is due at now.
func (r *Replayer) poll(ctx context.Context, now time.Time) {
	r.mu.Lock()
	due := !now.Before(r.nextLook)
	r.mu.Unlock()
	if !due {
		return
	}
	next := r.resume(ctx, now)
	r.mu.Lock()
	if !r.lookNow { // a replay of this process ended meanwhile: look at the next tick
		r.nextLook = next
	}
	r.lookNow = false
	r.mu.Unlock()
}

// resume takes over every stale running replay, looking at now, and
// returns when the next look can find one: resume_after (and a
// millisecond) after the last progress of the earliest running replay it
// left to its owner, or resume_after after now when it saw none; at once
// when it could not look or saw as many as it reads.
func (r *Replayer) resume(ctx context.Context, now time.Time) time.Time {
	rps, err := r.st.Replays(ctx, store.ReplayRunning, maxResumeLook)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("list running replays", "err", err)
		}
		return now
	}
	next := now.Add(r.cfg.ResumeAfter)
	if len(rps) >= maxResumeLook {
		next = now
	}
	for _, rp := range rps {
		if r.isRunning(rp.ID) {
			continue // this process's own: it looks again when the replay ends (launch)
		}
		ok, err := r.st.TakeOver(ctx, rp.ID, r.owner, now.Add(-r.cfg.ResumeAfter))
		if err != nil || !ok {
			if err != nil {
				next = now
			} else if stale := rp.Updated.Add(r.cfg.ResumeAfter + time.Millisecond); stale.Before(next) { // the store compares milliseconds, strictly
				next = stale
			}
			continue
		}
		r.log.Info("resuming replay", "replay", rp.ID, "previous_owner", rp.Owner, "sent", rp.Sent, "planned", rp.Planned)
		r.launch(rp.ID)
	}
	return next
}

func (r *Replayer) isRunning(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.running[id]
}

// launch runs replay id in the background under the Run context.
func (r *Replayer) launch(id string) {
	r.mu.Lock()
	ctx := r.ctx
	if ctx == nil || r.running[id] {
		r.mu.Unlock()
		return // not running yet: Run's first resume picks it up
	}
	r.running[id] = true
	r.mu.Unlock()
	go func() {
		defer func() {
			r.mu.Lock()
			delete(r.running, id)
			r.nextLook, r.lookNow = time.Time{}, true // it may have left its row running (a failed finish): look at the next tick
			r.mu.Unlock()
		}()
		r.execute(ctx, id)
	}()
}

// execute sends what replay id has pending, then finishes it. A heartbeat
// keeps the replay owned; losing it stops the sending.
func (r *Replayer) execute(ctx context.Context, id string) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go r.heartbeat(ctx, cancel, id)
	err := r.send(ctx, id)
	switch {
	case ctx.Err() != nil || errors.Is(err, store.ErrFenced):
		r.log.Info("replay interrupted; the next start resumes it", "replay", id, "err", err)
		return
	case err != nil:
		r.log.Error("replay failed", "replay", id, "err", err)
		_ = r.st.FinishReplay(context.WithoutCancel(ctx), id, r.owner, store.ReplayFailed, err.Error())
		r.results.WithLabelValues("failed").Inc()
		return
	}
	if err := r.st.FinishReplay(ctx, id, r.owner, store.ReplayDone, ""); err == nil {
		r.results.WithLabelValues("done").Inc()
		r.log.Info("replay done", "replay", id)
	}
}

func (r *Replayer) heartbeat(ctx context.Context, cancel context.CancelFunc, id string) {
	tick := time.NewTicker(r.cfg.ResumeAfter / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if ok, err := r.st.TakeOver(ctx, id, r.owner, time.Time{}); err == nil && !ok {
			cancel()
			return
		}
	}
}

// send reconciles what an earlier attempt already sent, then sends the
// rest in rate-limited batches, marking each batch sent.
func (r *Replayer) send(ctx context.Context, id string) error {
	rp, err := r.st.Replay(ctx, id)
	if err != nil {
		return err
	}
	pending, err := r.st.PendingItems(ctx, id)
	if err != nil || len(pending) == 0 {
		return err
	}
	var req Request
	_ = json.Unmarshal([]byte(rp.Selection), &req)
	cl, err := kgo.NewClient(append(slices.Clone(r.opts), kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	if pending, err = r.reconcile(ctx, cl, rp, pending); err != nil || len(pending) == 0 {
		return err
	}
	recs, err := r.originals(ctx, cl, &req, pending)
	if err != nil {
		return err
	}
	return r.produce(ctx, cl, rp, pending, recs)
}

// reconcile marks sent the pending items whose original is already in a
// target partition (sent before a crash, not yet marked), and returns the
// rest.
func (r *Replayer) reconcile(ctx context.Context, cl *kgo.Client, rp store.Replay, pending []store.ReplayItem) ([]store.ReplayItem, error) {
	var marks map[string]map[int32]int64
	if err := json.Unmarshal([]byte(rp.Marks), &marks); err != nil {
		return nil, fmt.Errorf("replay %s: marks: %w", rp.ID, err)
	}
	found := map[string]bool{}
	for topic, parts := range marks {
		if err := r.scanTarget(ctx, cl, topic, parts, rp.ID, found); err != nil {
			return nil, err
		}
	}
	var done, rest []store.ReplayItem
	for _, it := range pending {
		if found[coordinates(it.Topic, it.Partition, it.Offset)] {
			done = append(done, it)
		} else {
			rest = append(rest, it)
		}
	}
	if len(done) > 0 {
		r.log.Info("replay: found originals sent before an interruption", "replay", rp.ID, "records", len(done))
		if err := r.st.MarkSent(ctx, rp.ID, r.owner, done); err != nil {
			return nil, err
		}
	}
	return rest, nil
}

// scanTarget reads a target topic from the marks to its end and notes the
// dead letters replay id already sent there.
func (r *Replayer) scanTarget(ctx context.Context, cl *kgo.Client, topic string, parts map[int32]int64, id string, found map[string]bool) error {
	p := &planner{cl: cl}
	ends, err := endsOf(ctx, cl, topic)
	if err != nil {
		return err
	}
	var ranges []partRange
	for part, from := range parts {
		ranges = append(ranges, partRange{partition: part, from: from, to: ends[part]})
	}
	return p.read(ctx, topic, ranges, func(rec *event.Record) error {
		if v, ok := rec.Header(HeaderReplayID); ok && string(v) == id {
			if of, ok := rec.Header(HeaderReplayOf); ok {
				found[string(of)] = true
			}
		}
		return nil
	})
}

// originals reads the pending dead letters again and unwraps them, keyed
// by coordinates.
func (r *Replayer) originals(ctx context.Context, cl *kgo.Client, req *Request, pending []store.ReplayItem) (map[string]Original, error) {
	byPart := map[int32]partRange{}
	want := map[string]store.ReplayItem{}
	for _, it := range pending {
		pr, ok := byPart[it.Partition]
		if !ok {
			pr = partRange{partition: it.Partition, from: it.Offset, to: it.Offset + 1}
		}
		pr.from, pr.to = min(pr.from, it.Offset), max(pr.to, it.Offset+1)
		byPart[it.Partition] = pr
		want[coordinates(it.Topic, it.Partition, it.Offset)] = it
	}
	ranges := make([]partRange, 0, len(byPart))
	for _, pr := range byPart {
		ranges = append(ranges, pr)
	}
	out := map[string]Original{}
	p := &planner{cl: cl}
	err := p.read(ctx, pending[0].Topic, ranges, func(rec *event.Record) error {
		c := coordinates(rec.Topic, rec.Partition, rec.Offset)
		it, ok := want[c]
		if !ok {
			return nil
		}
		res := r.auditor.Check(rec)
		l := Read(rec, &res)
		o, err := Unwrap(rec, &l, r.prefixes(rec.Topic))
		if err != nil {
			return err
		}
		o.Topic = it.Target
		out[c] = cloneOriginal(o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for c := range want {
		if _, ok := out[c]; !ok {
			return nil, fmt.Errorf("dead letter %s is gone from the topic (retention?)", c)
		}
	}
	return out, nil
}

// cloneOriginal copies the original's buffers out of the fetch.
func cloneOriginal(o Original) Original {
	o.Key, o.Value = slices.Clone(o.Key), slices.Clone(o.Value)
	o.Headers = slices.Clone(o.Headers)
	return o
}

// produce sends the originals in batches paced to dlq.replay.rate, marking
// each batch sent once the broker acknowledged it.
func (r *Replayer) produce(ctx context.Context, cl *kgo.Client, rp store.Replay, pending []store.ReplayItem, recs map[string]Original) error {
	batch := min(r.cfg.Rate, maxBatch)
	start := time.Now()
	for i := 0; i < len(pending); i += batch {
		part := pending[i:min(i+batch, len(pending))]
		out := make([]*kgo.Record, 0, len(part))
		for _, it := range part {
			out = append(out, replayRecord(rp, it, recs[coordinates(it.Topic, it.Partition, it.Offset)]))
		}
		if err := cl.ProduceSync(ctx, out...).FirstErr(); err != nil {
			return fmt.Errorf("send originals: %w", err)
		}
		if err := r.st.MarkSent(ctx, rp.ID, r.owner, part); err != nil {
			return err
		}
		for _, it := range part {
			r.replayed.WithLabelValues(it.Topic, it.Target).Inc()
		}
		if err := pace(ctx, start, i+len(part), r.cfg.Rate); err != nil {
			return err
		}
	}
	return nil
}

// pace waits until sent records at rate per second are due.
func pace(ctx context.Context, start time.Time, sent, rate int) error {
	due := start.Add(time.Duration(sent) * time.Second / time.Duration(rate))
	wait := time.Until(due)
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// replayRecord is the record a replay sends for item: the original's key,
// value and headers, plus the replay headers.
func replayRecord(rp store.Replay, it store.ReplayItem, o Original) *kgo.Record {
	rec := &kgo.Record{Topic: it.Target, Key: o.Key, Value: o.Value}
	for _, h := range o.Headers {
		rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	rec.Headers = append(rec.Headers,
		kgo.RecordHeader{Key: HeaderReplayID, Value: []byte(rp.ID)},
		kgo.RecordHeader{Key: HeaderReplayOf, Value: []byte(coordinates(it.Topic, it.Partition, it.Offset))},
		kgo.RecordHeader{Key: HeaderReplayBy, Value: []byte(rp.RequestedBy)},
		kgo.RecordHeader{Key: HeaderReplayAt, Value: []byte(rp.Created.UTC().Format(time.RFC3339))})
	return rec
}

// coordinates is topic/partition@offset.
func coordinates(topic string, partition int32, offset int64) string {
	return topic + "/" + strconv.Itoa(int(partition)) + "@" + strconv.FormatInt(offset, 10)
}

// ParseCoordinates reads topic/partition@offset.
func ParseCoordinates(s string) (string, int32, int64, error) {
	at := strings.LastIndexByte(s, '@')
	slash := strings.LastIndexByte(s[:max(at, 0)], '/')
	if at < 0 || slash < 0 {
		return "", 0, 0, fmt.Errorf("want topic/partition@offset, got %q", s)
	}
	p, err1 := strconv.ParseInt(s[slash+1:at], 10, 32)
	o, err2 := strconv.ParseInt(s[at+1:], 10, 64)
	if err1 != nil || err2 != nil || p < 0 || o < 0 || slash == 0 {
		return "", 0, 0, fmt.Errorf("want topic/partition@offset, got %q", s)
	}
	return s[:slash], int32(p), o, nil
}

func endsOf(ctx context.Context, cl *kgo.Client, topic string) (map[int32]int64, error) {
	ends, err := newAdm(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("list offsets of %s: %w", topic, err)
	}
	out := map[int32]int64{}
	for p, o := range ends[topic] {
		out[p] = o.Offset
	}
	return out, nil
}

func newAdm(cl *kgo.Client) *kadm.Client { return kadm.NewClient(cl) }
