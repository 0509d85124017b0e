package trace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventwatch/eventwatch/internal/kafka"
)

// Reasons of eventwatch_trace_dropped_total that routing adds.
const (
	dropRouteFull  = "route_full"  // the producer buffer to the routing topic is full
	dropRouteError = "route_error" // the routing topic refused or could not take a message
	dropBadMessage = "bad_message" // a routing-topic record that is not eventwatch's
)

// maxFetchWait bounds how long the broker holds a fetch of the routing
// topic (or of trace.spans.topic) while none of its partitions has new
// records. A record produced meanwhile answers the fetch at once; the
// wait sets how often an idle replica asks each broker (a quarter of a
// second woke every replica a dozen times a second for nothing; 5 s was
// still 36 idle fetches a minute on three brokers).
const maxFetchWait = 15 * time.Second

// minFetchWait is the fetch wait of the shortest windows.
const minFetchWait = 250 * time.Millisecond

// fetchWait is the fetch wait for trace.window: a twentieth of the window,
// within [minFetchWait, maxFetchWait] (15 s at the default window of 5
// minutes). franz-go starts fetching a partition assigned in a cooperative
// rebalance only once its broker answered the fetch in flight, so a new
// owner's replay may start up to a wait late: a small part of the window,
// in which the chains it rebuilds stay open.
func fetchWait(window time.Duration) time.Duration {
	return min(max(window/20, minFetchWait), maxFetchWait)
}

// routerMsg is what the router hands the stitcher's loop, in order: a
// partition assignment, fetched records, or a revocation to acknowledge
// with the next offset of every revoked partition.
type routerMsg struct {
	assign  map[int32]assignment
	records []*kgo.Record
	revoke  []int32
	lost    bool
	done    chan map[int32]int64
}

// assignment is where a newly assigned partition's replay starts having
// side effects (the committed position) and where it ends (the high
// watermark when it was assigned).
type assignment struct{ boundary, end int64 }

// router is the Kafka side of routed stitching: a producer of observations
// (partitioned by chain key, see partitionOf) and a member of the routing
// group, whose assigned partitions this replica stitches.
type router struct {
	cfg     RoutingConfig
	wait    time.Duration // fetch wait (fetchWait)
	base    []kgo.Opt
	log     *slog.Logger
	parts   int32 // partitions of the topic
	cl      *kgo.Client
	msgs    chan routerMsg
	closing atomic.Bool
	closed  chan struct{}
	onErr   func(reason string)

	commitMu  sync.Mutex
	committed map[int32]int64 // the group's committed offset of each owned partition, as far as this replica knows
	sending   map[int32]int64 // offsets of a commit in flight (not yet answered), by partition
}

func newRouter(cfg RoutingConfig, wait time.Duration, base []kgo.Opt, log *slog.Logger, onErr func(string)) *router {
	return &router{cfg: cfg, wait: wait, base: base, log: log, msgs: make(chan routerMsg, 4), closed: make(chan struct{}), onErr: onErr,
		committed: map[int32]int64{}, sending: map[int32]int64{}}
}

// start creates the topic (retrying until ctx ends) and the group client.
func (r *router) start(ctx context.Context) error {
	n, err := kafka.EnsureTopic(ctx, r.base, kafka.Topic{Name: r.cfg.Topic, Partitions: int32(r.cfg.Partitions),
		ReplicationFactor: int16(r.cfg.ReplicationFactor),
		Configs:           map[string]*string{"retention.ms": ptr(fmt.Sprint(r.cfg.Retention.Milliseconds())), "cleanup.policy": ptr("delete")}}, r.log)
	if err != nil {
		return err
	}
	r.parts = n
	opts := append(slices.Clone(r.base),
		kgo.ConsumerGroup(r.cfg.Group), kgo.ConsumeTopics(r.cfg.Topic), kgo.DisableAutoCommit(),
		kgo.SessionTimeout(r.cfg.SessionTimeout), kgo.HeartbeatInterval(r.cfg.SessionTimeout/3), // at most a third of the session (Kafka's rule)
		kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(5*time.Millisecond),
		kgo.MaxBufferedRecords(100000), kgo.FetchMaxWait(r.wait),
		kgo.AdjustFetchOffsetsFn(r.adjust),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, p map[string][]int32) {
			r.revoked(ctx, cl, p[r.cfg.Topic], false)
		}),
		kgo.OnPartitionsLost(func(ctx context.Context, cl *kgo.Client, p map[string][]int32) {
			r.revoked(ctx, cl, p[r.cfg.Topic], true)
		}),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("create routing client: %w", err)
	}
	r.cl = cl
	r.log.Info("routing observations", "topic", r.cfg.Topic, "partitions", n, "group", r.cfg.Group)
	return nil
}

// poll hands fetched records to the stitcher's loop until ctx ends.
func (r *router) poll(ctx context.Context) {
	for ctx.Err() == nil {
		fs := r.cl.PollRecords(ctx, 10000)
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, kgo.ErrClientClosed) {
				r.log.Warn("read routing topic", "topic", t, "partition", p, "err", err)
			}
		})
		recs := fs.Records()
		if len(recs) == 0 {
			continue
		}
		select {
		case r.msgs <- routerMsg{records: recs}:
		case <-ctx.Done():
		}
	}
}

// adjust starts every newly assigned partition trace.routing.replay back,
// so the new owner rebuilds the open chains, and tells the loop where the
// previous owner stopped (the committed offset) and where the log ends.
func (r *router) adjust(ctx context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	parts := offsets[r.cfg.Topic]
	if len(parts) == 0 {
		return offsets, nil
	}
	starts, ends, err := r.listBounds(ctx)
	asg := map[int32]assignment{}
	r.commitMu.Lock()
	for p, o := range parts {
		r.committed[p] = o.EpochOffset().Offset
	}
	r.commitMu.Unlock()
	for p, o := range parts {
		committed := o.EpochOffset().Offset
		end, ok := ends[p]
		if err != nil || !ok {
			r.log.Warn("list routing partition bounds; open chains of the previous owner are not rebuilt", "partition", p, "err", err)
			asg[p] = assignment{boundary: max(committed, 0), end: 0}
			continue
		}
		start := min(starts[p], end)
		boundary := start // never committed: nobody handled it (observations sent before the group formed), so this replica does
		if committed >= 0 {
			boundary = min(max(committed, start), end)
		}
		parts[p] = kgo.NewOffset().At(start).WithEpoch(-1)
		asg[p] = assignment{boundary: boundary, end: end}
	}
	select {
	case r.msgs <- routerMsg{assign: asg}:
	case <-ctx.Done():
	case <-r.closed:
	}
	return offsets, nil
}

// listBounds lists, per partition, the first offset written within the
// replay horizon and the high watermark.
func (r *router) listBounds(ctx context.Context) (map[int32]int64, map[int32]int64, error) {
	lctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	adm := kadm.NewClient(r.cl)
	after, err := adm.ListOffsetsAfterMilli(lctx, time.Now().Add(-r.cfg.Replay).UnixMilli(), r.cfg.Topic)
	if err != nil {
		return nil, nil, fmt.Errorf("list offsets after the replay horizon: %w", err)
	}
	end, err := adm.ListEndOffsets(lctx, r.cfg.Topic)
	if err != nil {
		return nil, nil, fmt.Errorf("list end offsets: %w", err)
	}
	starts, ends := map[int32]int64{}, map[int32]int64{}
	after.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			starts[o.Partition] = o.Offset
		}
	})
	end.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			ends[o.Partition] = o.Offset
		}
	})
	return starts, ends, nil
}

// revoked has the loop flush and forget the partitions, then commits where
// it stopped, so the next owner knows which messages it handled.
func (r *router) revoked(ctx context.Context, cl *kgo.Client, parts []int32, lost bool) {
	if len(parts) == 0 || r.closing.Load() {
		return
	}
	defer r.forgetCommitted(parts)
	done := make(chan map[int32]int64, 1)
	select {
	case r.msgs <- routerMsg{revoke: parts, lost: lost, done: done}:
	case <-ctx.Done():
		return
	case <-r.closed:
		return
	}
	var next map[int32]int64
	select {
	case next = <-done:
	case <-ctx.Done():
		return
	}
	if !lost {
		r.commitSync(ctx, cl, next)
	}
}

// commit records the next offsets to process, in the background. A
// partition whose position is already committed, or on its way in a
// commit not answered yet, is left out: the sweep runs every second, and
// an idle partition's position is committed once. It reports whether
// every position in next was already committed and no commit is in
// flight.
func (r *router) commit(next map[int32]int64) (settled bool) {
	r.commitMu.Lock()
	for p, o := range next {
		if c, ok := r.committed[p]; ok && c == o {
			delete(next, p)
		} else if s, ok := r.sending[p]; ok && s == o {
			delete(next, p)
		} else {
			r.sending[p] = o
		}
	}
	settled = len(r.sending) == 0 // every position committed, none in flight
	r.commitMu.Unlock()
	if len(next) == 0 {
		return settled
	}
	r.cl.CommitOffsets(context.Background(), r.offsets(next), func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				r.log.Debug("commit routing offsets", "err", err)
			}
		}
		r.noteCommitted(resp, next)
	})
	return settled
}

// noteCommitted remembers the offsets of next the broker accepted (resp
// nil: none) and that their commit is answered: what it did not accept is
// committed again by the next sweep.
func (r *router) noteCommitted(resp *kmsg.OffsetCommitResponse, next map[int32]int64) {
	r.commitMu.Lock()
	defer r.commitMu.Unlock()
	for p, o := range next {
		if s, ok := r.sending[p]; ok && s == o {
			delete(r.sending, p)
		}
	}
	if resp == nil {
		return
	}
	for _, t := range resp.Topics {
		if t.Topic != r.cfg.Topic {
			continue
		}
		for _, p := range t.Partitions {
			if o, ok := next[p.Partition]; ok && p.ErrorCode == 0 {
				r.committed[p.Partition] = o
			}
		}
	}
}

// forgetCommitted drops what this replica knew of the committed offsets of
// parts (revoked: their next owner commits them).
func (r *router) forgetCommitted(parts []int32) {
	r.commitMu.Lock()
	defer r.commitMu.Unlock()
	for _, p := range parts {
		delete(r.committed, p)
		delete(r.sending, p)
	}
}

func (r *router) commitSync(ctx context.Context, cl *kgo.Client, next map[int32]int64) {
	if len(next) == 0 {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cl.CommitOffsetsSync(cctx, r.offsets(next), func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			r.log.Warn("commit routing offsets on revoke", "err", err)
		}
	})
}

func (r *router) offsets(next map[int32]int64) map[string]map[int32]kgo.EpochOffset {
	out := map[int32]kgo.EpochOffset{}
	for p, o := range next {
		out[p] = kgo.EpochOffset{Epoch: -1, Offset: o}
	}
	return map[string]map[int32]kgo.EpochOffset{r.cfg.Topic: out}
}

// send produces m to partition p without blocking; a full buffer or a
// failed produce drops it (counted).
func (r *router) send(m wireMsg, p int32) {
	val, err := json.Marshal(m)
	if err != nil {
		r.onErr(dropBadMessage)
		return
	}
	rec := &kgo.Record{Topic: r.cfg.Topic, Partition: p, Key: []byte(m.Key), Value: val}
	r.cl.TryProduce(context.Background(), rec, func(_ *kgo.Record, err error) {
		switch {
		case err == nil:
		case errors.Is(err, kgo.ErrMaxBuffered):
			r.onErr(dropRouteFull)
		case !errors.Is(err, kgo.ErrClientClosed):
			r.onErr(dropRouteError)
		}
	})
}

// close leaves the group (without the revoke hand-shake: the loop has
// already flushed) and closes the client.
func (r *router) close() {
	if r.closing.Swap(true) {
		return
	}
	close(r.closed)
	if r.cl != nil {
		r.cl.Close()
	}
}

func ptr[T any](v T) *T { return &v }
