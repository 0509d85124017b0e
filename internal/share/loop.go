package share

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/kafka"
)

// defaultMaxMessageBytes is Kafka's default max.message.bytes, assumed
// until the topic's own value is read.
const defaultMaxMessageBytes = 1048588

// Record budget bounds: a record is at most a quarter of the topic's
// max.message.bytes, and never more than maxRecordBudget.
const (
	maxRecordBudget = 256 << 10
	minRecordBudget = 256
)

// Run creates the topic when missing, then reads it from the start and
// publishes the provided documents every share.interval, until ctx is done.
// It returns nil when ctx ends; Kafka errors are retried.
func (b *Board) Run(ctx context.Context) error {
	defer b.cl.Close()
	if _, err := kafka.EnsureTopic(ctx, b.base, kafka.Topic{Name: b.cfg.Topic, Partitions: 1,
		ReplicationFactor: int16(b.cfg.ReplicationFactor), Configs: map[string]*string{"cleanup.policy": ptr("compact")}}, b.log); err != nil {
		return nil //nolint:nilerr // EnsureTopic fails only when ctx ends
	}
	b.readLimit(ctx)
	if err := b.newProducer(); err != nil {
		return err
	}
	defer func() { b.prod.Load().Close() }()
	close(b.ensured)
	b.log.Info("sharing state", "topic", b.cfg.Topic, "replica", b.id, "interval", b.cfg.Interval,
		"max_message_bytes", b.limit.Load(), "record_budget", b.recordBudget())
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.publishLoop(ctx)
	}()
	b.consume(ctx)
	<-done
	return nil
}

// newProducer (re)creates the writing client with batches no larger than
// the topic's limit (and maxBatchBytes), compressed with snappy, one request in flight: a
// publication is a few MB every lag interval, and each request in flight
// kept MBs of pooled buffers in the publisher's heap. Snappy keeps no
// state between batches; zstd (even at its fastest level, with
// franz-go's 64 KiB window) kept an encoder of about 3 MB alive in the
// leader's heap for the few hundred bytes a quiet estate publishes per
// interval, which the garbage collector's heap goal doubled in RSS.
func (b *Board) newProducer() error {
	opts := append(slices.Clone(b.base), kgo.ProducerLinger(0), kgo.RecordRetries(3), kgo.MaxProduceRequestsInflightPerBroker(1),
		kgo.ProducerBatchCompression(kgo.SnappyCompression(), kgo.NoCompression()),
		kgo.ProducerBatchMaxBytes(int32(min(b.limit.Load(), maxBatchBytes))))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	if old := b.prod.Swap(cl); old != nil {
		go old.Close()
	}
	return nil
}

// readLimit reads the topic's max.message.bytes (the broker default when
// the topic does not set it); the previous value stays on failure.
func (b *Board) readLimit(ctx context.Context) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rcs, err := kadm.NewClient(b.cl).DescribeTopicConfigs(dctx, b.cfg.Topic)
	if err == nil {
		var rc kadm.ResourceConfig
		if rc, err = rcs.On(b.cfg.Topic, nil); err == nil {
			err = rc.Err
		}
		for _, c := range rc.Configs {
			if c.Key == "max.message.bytes" && c.Value != nil {
				if n, perr := strconv.ParseInt(*c.Value, 10, 64); perr == nil && n > 0 {
					b.limit.Store(n)
				}
			}
		}
	}
	if err != nil && ctx.Err() == nil {
		b.log.Warn("read the shared state topic's max.message.bytes; assuming the last known value", "err", err, "max_message_bytes", b.limit.Load())
	}
	b.limitGauge.Set(float64(b.limit.Load()))
}

// refreshLimit reads the limit again after the broker refused a record as
// too large, and rebuilds the producer when it changed.
func (b *Board) refreshLimit(ctx context.Context) {
	before := b.limit.Load()
	b.readLimit(ctx)
	if after := b.limit.Load(); after != before {
		b.log.Warn("shared state topic's max.message.bytes changed; records are cut to the new limit", "from", before, "to", after)
		if err := b.newProducer(); err != nil {
			b.log.Warn("recreate the share producer", "err", err)
		}
	}
}

// recordBudget is the most bytes one record value may have: a quarter of
// the topic's max.message.bytes, at most 256 KiB.
func (b *Board) recordBudget() int {
	return int(min(max(b.limit.Load()/4, minRecordBudget), maxRecordBudget))
}

// consume reads every document until ctx is done.
func (b *Board) consume(ctx context.Context) {
	end := b.endOffset(ctx)
	b.ownFrom.Store(end)
	if end <= 0 {
		b.synced.Store(true)
	}
	for ctx.Err() == nil {
		fs := b.cl.PollFetches(ctx)
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.Canceled) {
				b.log.Warn("read shared state", "err", err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			b.apply(r)
			if r.Offset+1 >= end {
				b.synced.Store(true)
			}
		})
		if !fs.Empty() {
			b.updateGauges() // the gauges say what /readyz and the view say, not one interval late
		}
	}
}

// apply takes one record: an item (staged until its document's next
// head), a head (the staged items take effect), or a tombstone.
func (b *Board) apply(r *kgo.Record) {
	rk, ok := parseKey(string(r.Key))
	if !ok {
		return
	}
	bodiless := rk.replica == b.id && r.Offset >= b.ownFrom.Load() && b.kind(rk.kind).SelfServed
	b.mu.Lock()
	defer b.mu.Unlock()
	byReplica := b.docs[rk.kind]
	if byReplica == nil {
		byReplica = map[string]*docState{}
		b.docs[rk.kind] = byReplica
	}
	s := byReplica[rk.replica]
	if rk.path == "" && rk.part == 0 && r.Value == nil { // the document's tombstone
		delete(byReplica, rk.replica)
		return
	}
	if s == nil {
		s = newDocState()
		byReplica[rk.replica] = s
	}
	if rk.path != "" || rk.part > 0 {
		s.stage(rk, r, bodiless)
		return
	}
	b.applyHead(s, rk, r, bodiless)
}

func (b *Board) applyHead(s *docState, rk recKey, r *kgo.Record, bodiless bool) {
	val, whole := s.joinParts(headKey(rk.kind, rk.replica), r.Value, readPart(r))
	h, ok := decodeHead(val, rk)
	if !whole || !ok {
		b.log.Warn("ignore malformed state document", "key", string(r.Key), "offset", r.Offset)
		return
	}
	s.applyHead(h, bodiless)
	if s.incomplete > 0 {
		b.log.Warn("shared document incomplete: items its head counts are not on the topic",
			"kind", rk.kind, "replica", rk.replica, "missing", s.incomplete)
	}
}

// endOffset lists where the topic ends now, retrying until it succeeds or
// ctx ends (then 0).
func (b *Board) endOffset(ctx context.Context) int64 {
	wait := 500 * time.Millisecond
	for ctx.Err() == nil {
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		ends, err := kafka.EndOffsets(lctx, b.cl, b.cfg.Topic) // not kadm: it would keep every topic's metadata in the board's client
		cancel()
		if o, ok := ends[0]; err == nil && ok {
			return o
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*time.Second)
	}
	return 0
}

// publishLoop publishes every provided kind at once and then every
// interval, writes the heads of quiet documents again when their
// heartbeat is due, and refreshes the gauges.
func (b *Board) publishLoop(ctx context.Context) {
	t := time.NewTicker(b.cfg.Interval)
	defer t.Stop()
	for {
		if b.synced.Load() {
			b.publishProvided(ctx)
			b.beat(ctx)
		}
		b.updateGauges()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (b *Board) publishProvided(ctx context.Context) {
	b.mu.RLock()
	kinds := make(map[string]Provider, len(b.providers))
	for k, fn := range b.providers {
		kinds[k] = fn
	}
	b.mu.RUnlock()
	for kind, fn := range kinds {
		doc, ok := fn()
		if !ok {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, b.cfg.Interval+publishTimeout)
		if err := b.Publish(pctx, kind, doc); err != nil && ctx.Err() == nil {
			b.log.Warn("publish state document", "kind", kind, "err", err)
		}
		cancel()
	}
}

// beat writes the head of every document of this replica again whose
// last head is older than the heartbeat (nothing in it changed), so that
// readers see it is alive. When one is due, every head older than half
// the heartbeat is written with it, in one request: within a few beats
// the kinds of a quiet replica beat together, one produce (and one fetch
// on every replica) per heartbeat rather than one per kind, and no head
// is written more often than twice per heartbeat.
func (b *Board) beat(ctx context.Context) {
	b.pubMu.Lock()
	defer b.pubMu.Unlock()
	now := b.now()
	due := false
	for _, st := range b.pub {
		due = due || (st.head != nil && now.Sub(st.headAt) >= b.heartbeat())
	}
	if !due {
		return
	}
	type beating struct {
		st *pubState
		hv headValue
	}
	var batch []kindRecords
	var heads []beating
	budget := b.recordBudget()
	for kind, st := range b.pub {
		if st.head == nil || now.Sub(st.headAt) < b.heartbeat()/2 {
			continue
		}
		hv := headValue{Kind: kind, Replica: b.id, PublishedAt: now.UTC(), Doc: st.head, Items: st.counts, Omitted: st.omitted}
		recs, err := b.headRecords(kind, st, hv, budget)
		if err != nil {
			b.log.Warn("publish state heartbeat", "kind", kind, "err", err)
			continue
		}
		batch, heads = append(batch, kindRecords{kind, recs}), append(heads, beating{st, hv})
	}
	if len(batch) == 0 {
		return
	}
	pctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	if err := b.produceKinds(pctx, batch); err != nil {
		if ctx.Err() == nil {
			b.log.Warn("publish state heartbeat", "err", err)
		}
		return
	}
	for i, h := range heads {
		h.st.wrote(h.hv, len(batch[i].recs))
		if b.kind(batch[i].kind).Single {
			b.deleteStale(ctx, batch[i].kind) // as a publication of the kind does
		}
	}
}

func ptr[T any](v T) *T { return &v }
