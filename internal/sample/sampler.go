package sample

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/ledger"
)

// leaveTimeout bounds the final commit and group leave on shutdown.
const leaveTimeout = 10 * time.Second

// Auditor audits one record. *audit.Engine satisfies it. Check is called
// from several goroutines at once and must not retain the record.
type Auditor interface {
	Check(rec *event.Record) event.Result
}

// Sampler is the passive sampling consumer. Create it with New, run it with
// Run; Status may be called at any time from any goroutine.
type Sampler struct {
	cfg     Config
	base    []kgo.Opt // connection options, for the start-offset snapshot
	opts    []kgo.Opt // base plus the consumer-group options
	auditor Auditor
	sinks   []event.Sink
	leaders leaderBook // the broker each partition was last fetched from (FetchedFrom)
	m       *samplerMetrics
	log     *slog.Logger
	now     func() time.Time
	created time.Time // when New was called: start_from latest samples what is produced after it

	queues      []chan *job // one per worker; a partition's records all go to one, in order
	queuedBytes atomic.Int64
	running     atomic.Bool
	stop        chan struct{}              // closed when polling stopped: workers drain their queue and exit
	client      atomic.Pointer[kgo.Client] // the sampling client while Run polls with it (Client)
	clientSet   chan struct{}              // closed once Run created the sampling client or returned without one
	clientOnce  sync.Once
	workersDone chan struct{} // closed when every worker exited

	ledger    ledger.Accounts // exactly-once accounting; nil: commit polled batches (at least once)
	times     RecordTimes     // takes note of every fetched record (WithRecordTimes); nil: none
	assigned  atomic.Value    // map[string][]int32 of the assigned partitions, for commits
	posMu     sync.Mutex      // guards stored, committed, moved and rewinds
	stored    map[string]map[int32]int64
	committed map[string]map[int32]int64
	// moved holds every partition whose stored position may differ from
	// its committed one (stored since it was last committed), so a commit
	// looks at what moved, not at every assigned partition (10,000 twice a
	// commit interval on an idle estate of that size)
	moved    map[topicPart]struct{}
	rewinds  map[string]map[int32]int64
	waker    pollWaker                     // a rewind ends the poll in progress
	resets   map[string]map[int32][3]int64 // positions found not to match the log while reading: {position, log start, end}
	adm      *admin                        // lists log start and end offsets (first start, assignments); nil without a ledger
	admIdle  time.Duration                 // how long adm stays open unused (adminIdle)
	watching atomic.Bool                   // the ledger's group has started watching: unpositioned partitions are new and start at the log start
	firsts   endOffsets                    // where start_from placed each partition watched at the group's first start; set before the group client exists

	mu    sync.Mutex // orders batch processing and marking against revokes
	parts partitions

	startEnds endOffsets // end offsets at start, for start_from latest; set before the group client exists

	status      statusBox
	topics      topicList   // the latest listing of the cluster's topics (watchTopics)
	topicSource TopicSource // another component's listing (WithTopicSource); nil: the sampler lists the topics itself
}

// New builds a sampler. base holds the connection options built by the
// daemon (seeds, client id, SASL, TLS); the sampler adds its consumer-group
// options. cfg is validated here. The sampler's own metrics are registered
// on reg; sinks receive every audited record with its result, in order (the
// daemon puts the audit counters, recordmetrics.Counters, first).
func New(cfg Config, base []kgo.Opt, auditor Auditor, sinks []event.Sink, reg prometheus.Registerer, log *slog.Logger, opts ...Option) (*Sampler, error) {
	if auditor == nil {
		return nil, errors.New("new sampler: auditor is required")
	}
	if reg == nil {
		return nil, errors.New("new sampler: registerer is required")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new sampler: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Sampler{
		cfg:     cfg,
		auditor: auditor,
		sinks:   append([]event.Sink(nil), sinks...),
		m:       newSamplerMetrics(reg),
		log:     log.With("component", "sample"),
		now:     time.Now,
		created: time.Now(),
		admIdle: adminIdle,
		parts:   partitions{},
		stop:    make(chan struct{}),

		clientSet: make(chan struct{}),

		workersDone: make(chan struct{}),
		stored:      map[string]map[int32]int64{},
		committed:   map[string]map[int32]int64{},
		moved:       map[topicPart]struct{}{},
		rewinds:     map[string]map[int32]int64{},
		resets:      map[string]map[int32][3]int64{},
	}
	for _, o := range opts {
		o(s)
	}
	perWorker := max(1, (cfg.MaxQueue+cfg.Workers-1)/cfg.Workers)
	for range cfg.Workers {
		s.queues = append(s.queues, make(chan *job, perWorker))
	}
	s.status.s.Generation = -1
	own := []kgo.Opt{kgo.WithLogger(kgoLogger{s.log}), kgo.WithHooks(connectHook{s})}
	s.base = append(own, base...)
	s.opts = append(cfg.clientOpts(s.base, s.ledger != nil),
		kgo.OnPartitionsAssigned(s.onAssigned),
		kgo.OnPartitionsRevoked(s.onRevoked),
		kgo.OnPartitionsLost(s.onLost),
		kgo.AutoCommitCallback(s.onAutoCommit),
	)
	switch {
	case s.ledger != nil:
		s.opts = append(s.opts, kgo.AdjustFetchOffsetsFn(s.adjustOffsets))
	case cfg.StartFrom == StartLatest:
		s.opts = append(s.opts, kgo.AdjustFetchOffsetsFn(s.adjustStart))
	}
	return s, nil
}

// Run joins the group and samples until ctx is done. With start_from
// latest it first lists where partitions the group never committed start
// (retrying while Kafka is unreachable). On the way out it
// stops polling, lets the workers finish the queued audits, commits the
// progress and leaves the group (within 10s), so a restart resumes where
// this run stopped. Run returns an error only when the client cannot be
// created; Kafka being unreachable is retried and shown by Status.
func (s *Sampler) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("run sampler: Run may be called only once")
	}
	defer s.clientOnce.Do(func() { close(s.clientSet) }) // returned before creating it
	if s.ledger != nil {
		s.adm = newAdmin(s.base, s.admIdle)
		defer s.adm.close()
		_, release, err := s.adm.acquire() // fails only on bad client options: before anything started
		if err != nil {
			return err
		}
		s.watching.Store(s.beginWatching(ctx))
		release()
		if ctx.Err() != nil {
			s.status.stopped()
			return nil
		}
	}
	if s.cfg.StartFrom == StartLatest && !s.watching.Load() {
		ends, ok := s.snapshotEnds(ctx)
		if !ok {
			s.status.stopped()
			return nil // ctx done before Kafka answered: nothing to leave
		}
		s.startEnds = ends
	}
	cl, err := kgo.NewClient(s.opts...)
	if err != nil {
		return fmt.Errorf("create sampling client: %w", err)
	}
	s.client.Store(cl)
	s.clientOnce.Do(func() { close(s.clientSet) })
	s.log.Info("sampler started", "group", s.cfg.GroupID, "workers", s.cfg.Workers,
		"budget_per_partition", s.cfg.BudgetPerPartition)
	var wg sync.WaitGroup
	for _, q := range s.queues {
		wg.Go(func() { s.work(q) })
	}
	wg.Go(func() { s.watchTopics(ctx, cl) })
	s.pollLoop(ctx, cl)
	close(s.stop)
	wg.Wait()
	close(s.workersDone)
	s.client.Store(nil)
	s.leave(cl)
	s.status.stopped()
	s.log.Info("sampler stopped", "group", s.cfg.GroupID)
	return nil
}

// Client returns the sampling client once Run has created it, waiting at
// most wait (and until ctx is done) for Run to get that far; nil when it did
// not in time, returned without one, or has stopped polling. Another
// component may send its own requests on it — the leader's lag collector
// does, so the process keeps one client, one set of connections and one
// cache of every partition's metadata (franz-go caches each Metadata answer
// per client: ≈ 20 MB at 50,000 partitions) — but must not close it, nor
// consume with it; requests in flight when the sampler stops fail as the
// client closes. Its hooks are the sampler's: a failed broker connection
// of such a request counts in eventwatch_sampler_errors_total{op="connect"}.
func (s *Sampler) Client(ctx context.Context, wait time.Duration) *kgo.Client {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-s.clientSet:
	case <-t.C:
	case <-ctx.Done():
	}
	return s.client.Load()
}

func (s *Sampler) pollLoop(ctx context.Context, cl *kgo.Client) {
	var lastTopics, lastCommit, lastEnds time.Time
	for {
		select {
		case <-ctx.Done():
			return
		default:
		}
		paused := false
		if s.ledger != nil {
			s.mu.Lock()
			s.applyRewinds(cl)
			s.applyResets(ctx, cl)
			s.mu.Unlock()
			if paused = s.applyPause(cl); paused && s.now().Sub(lastEnds) >= pausedLagEvery {
				lastEnds = s.now()
				s.refreshLag(ctx)
			}
			if now := s.now(); now.Sub(lastCommit) >= s.cfg.CommitInterval {
				lastCommit = now
				s.commitStored(cl)
			}
		}
		pctx, cancel := context.WithTimeout(ctx, s.pollWaitFor(paused))
		s.waker.arm(cancel)
		fetches := cl.PollRecords(pctx, s.cfg.MaxPollRecords)
		s.waker.disarm()
		cancel()
		if fetches.IsClientClosed() {
			return
		}
		s.noteErrors(cl, fetches)
		s.process(cl, fetches)
		now := s.now()
		s.status.polled(now, fetches.NumRecords() > 0)
		s.m.queued.Set(float64(s.queuedRecords()))
		if now.Sub(lastTopics) >= time.Second {
			lastTopics = now
			s.refreshTopics(cl)
		}
	}
}

// process counts, samples and queues one poll's records, then marks them
// for commit. It holds s.mu so a revoke sees either none or all of it.
func (s *Sampler) process(cl *kgo.Client, fetches kgo.Fetches) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	touched := map[string]struct{}{}
	wait := &queueWait{max: s.cfg.MaxQueueWait}
	defer wait.stop()
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		st := s.parts.get(p.Topic, p.Partition)
		if st == nil || (p.Err != nil && len(p.Records) == 0) {
			return
		}
		s.processPartition(st, &p, now, wait)
		if n := len(p.Records); n > 0 && s.ledger == nil {
			cl.MarkCommitRecords(p.Records[n-1])
		}
		touched[p.Topic] = struct{}{}
	})
	for topic := range touched {
		s.m.lag.WithLabelValues(topic).Set(float64(s.parts.topicLag(topic)))
	}
}

// processPartition counts, samples and queues one partition's records of a
// poll. A record below what this assignment already read (a rewind by the
// client, or the group's Kafka commit behind the stored position) is not
// audited again. With a ledger, the range read is then queued behind the
// records (Advance), so the ledger closes it only once all were delivered.
func (s *Sampler) processPartition(st *partState, p *kgo.FetchTopicPartition, now time.Time, wait *queueWait) {
	if s.noteMismatch(p.Topic, p.Partition, st, &p.FetchPartition) {
		return
	}
	if s.times != nil {
		s.times.NoteRecords(p.Topic, p.Partition, p.Records)
	}
	var observed, skipped, dropped int64
	from, last := st.pos, int64(-1)
	for _, r := range p.Records {
		if r.Offset < max(st.next, st.pos) {
			continue
		}
		if from < 0 {
			from = r.Offset
		}
		last = r.Offset
		observed += st.observe(r.Offset)
		switch {
		case !st.take(now, s.cfg.BudgetPerPartition):
			skipped++
		case !s.enqueue(r, st, wait):
			dropped++
		}
	}
	if s.ledger != nil && last >= 0 {
		s.enqueueAdvance(st, p.Topic, p.Partition, from, last+1)
	}
	if p.HighWatermark >= 0 {
		st.hwm = p.HighWatermark
	}
	tm := s.m.topic(p.Topic)
	tm.observed.Add(float64(observed))
	if skipped > 0 {
		tm.skipped.Add(float64(skipped))
	}
	if dropped > 0 {
		s.m.dropped.WithLabelValues(DropQueueFull).Add(float64(dropped))
	}
}

// noteErrors records poll errors in metrics and status. A batch too large
// to decompress is skipped so the partition never stalls.
func (s *Sampler) noteErrors(cl *kgo.Client, fetches kgo.Fetches) {
	recreated := map[string]struct{}{}
	defer func() { s.readdRecreated(cl, recreated) }()
	fetches.EachError(func(topic string, partition int32, err error) {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return
		}
		if tooLarge, ok := errors.AsType[*kgo.ErrDecompressTooLarge](err); ok {
			s.skipBatch(cl, tooLarge)
			return
		}
		if errors.Is(err, kerr.UnknownTopicID) && topic != "" {
			recreated[topic] = struct{}{}
		}
		s.m.errors.WithLabelValues("poll").Inc()
		if !s.status.failed(s.now(), err) {
			return
		}
		if errors.Is(err, kerr.FencedInstanceID) {
			s.log.Warn("another process in the group uses this replica's instance id and fenced it out: give each process its own sample.instance_id (the derived default is the same for two processes on one host sharing a data directory)",
				"group", s.cfg.GroupID, "instance_id", s.cfg.instanceID(), "err", err)
			return
		}
		s.log.Warn("poll failed", "topic", topic, "partition", partition, "err", err)
	})
}

// skipBatch moves a partition past a batch that decompresses beyond the
// bound, counting its records as observed and dropped.
func (s *Sampler) skipBatch(cl *kgo.Client, e *kgo.ErrDecompressTooLarge) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.parts.get(e.Topic, e.Partition)
	if st == nil {
		return
	}
	n := max(e.NextOffset-max(e.Offset, st.next), 0)
	st.next = max(st.next, e.NextOffset)
	if s.ledger != nil && e.NextOffset > st.pos {
		from := st.pos
		if from < 0 {
			from = e.Offset
		}
		s.enqueueAdvance(st, e.Topic, e.Partition, from, e.NextOffset)
	}
	s.m.topic(e.Topic).observed.Add(float64(n))
	s.m.dropped.WithLabelValues(DropDecompressTooBig).Add(float64(n))
	next := map[string]map[int32]kgo.EpochOffset{e.Topic: {e.Partition: {Epoch: e.Epoch, Offset: e.NextOffset}}}
	cl.SetOffsets(next)
	cl.MarkCommitOffsets(next)
	s.log.Warn("skipped a batch too large to decompress", "topic", e.Topic, "partition", e.Partition,
		"offset", e.Offset, "next_offset", e.NextOffset, "limit_bytes", s.cfg.MaxDecompressBytes)
}

func (s *Sampler) refreshTopics(cl *kgo.Client) {
	n := len(cl.GetConsumeTopics())
	_, gen := cl.GroupMetadata()
	s.m.topics.Set(float64(n))
	s.status.topics(n, gen)
}

// leave commits the marked progress and leaves the group: leaving revokes
// every partition, and onRevoked commits. franz-go keeps a static member in
// the group on leave (so a restart gets its partitions back); unless
// stay_on_shutdown, a clean shutdown then leaves by instance id too, so a
// replica stopped for good (scale-down, rollout) hands its partitions over
// at once instead of after the session timeout. A kill -9 sends nothing:
// the restarted process, with the same id, takes its partitions back.
func (s *Sampler) leave(cl *kgo.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), leaveTimeout)
	defer cancel()
	if err := cl.LeaveGroupContext(ctx); err != nil {
		s.log.Warn("leave group", "group", s.cfg.GroupID, "err", err)
	}
	if id := s.cfg.instanceID(); id != "" && !s.cfg.StayOnShutdown {
		s.leaveStatic(ctx, cl, id)
	}
	cl.Close()
}

// leaveStatic removes the static member id from the group.
func (s *Sampler) leaveStatic(ctx context.Context, cl *kgo.Client, id string) {
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Group = s.cfg.GroupID
	m := kmsg.NewLeaveGroupRequestMember()
	m.InstanceID = &id
	m.Reason = kmsg.StringPtr("eventwatch shutting down: hand the partitions over now")
	req.Members = append(req.Members, m)
	resp, err := req.RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
		for _, mr := range resp.Members {
			if err == nil {
				err = kerr.ErrorForCode(mr.ErrorCode)
			}
		}
	}
	if err != nil {
		s.log.Warn("leave group as static member", "group", s.cfg.GroupID, "instance_id", id, "err", err)
		return
	}
	s.log.Info("left the group as static member", "group", s.cfg.GroupID, "instance_id", id)
}
