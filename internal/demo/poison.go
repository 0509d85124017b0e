package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The demo's poison pill (docs/dlq.md, "Poison pills"): profile-projector
// reads user.account with three members, one partition each, and projects
// every account into a read model. account-migration, a one-off import
// job, writes one malformed account event (its data is a string, its id not
// a UUID) shortly after the start; the member that owns that partition
// cannot project it, retries it for ever and never commits past it, while
// the other two members carry on. After lag.stop_after the partition is
// STALL and eventwatch names the record at the committed offset, the rules
// it breaks and who produced it.
const (
	GroupProjector     = "profile-projector" // the consumer group the pill blocks
	PillProducer       = "account-migration" // the service that writes the pill
	projectorMembers   = 3                   // one per partition of user.account
	pillAfter          = 5 * time.Second     // when the pill is written (after the group settled)
	projectorRetryWait = 2 * time.Second     // how often the stuck member retries the pill
)

// errNotProjectable is why the projector cannot handle a record.
var errNotProjectable = errors.New("cannot project the account")

// projectAccount is the projector's handling of one user.account record:
// it needs a meta+data event whose data is an object with a user_id.
func projectAccount(value []byte) error {
	var ev struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(value, &ev); err != nil {
		return fmt.Errorf("%w: %w", errNotProjectable, err)
	}
	var data struct {
		UserID string `json:"user_id"`
	}
	if err := json.Unmarshal(ev.Data, &data); err != nil || data.UserID == "" {
		return fmt.Errorf("%w: data is not an account object with a user_id", errNotProjectable)
	}
	return nil
}

// poisonPill is the malformed account event: a string where data must be
// an object, an id that is not a UUID (envelope.wrong_type,
// envelope.invalid_uuid under the authorworks profile).
func poisonPill(g *ids) *kgo.Record {
	ev := awNew(g, "user.account.created", PillProducer, "user 42 imported from the old CRM")
	ev.Meta.ID = "acct-0042"
	return &kgo.Record{Topic: TopicUser, Key: []byte("user-0042"), Value: mustJSON(ev)}
}

// poisonPillOnce writes the pill once, pillAfter after the start (not
// at all when the demo stops first). If the write fails the demo
// goes on without its pill (logged like every demo record).
func (s *sim) poisonPillOnce(ctx context.Context) error {
	pause(ctx, pillAfter)
	if ctx.Err() == nil {
		s.produce(ctx, poisonPill(newIDs(s.seed, 42)))
	}
	return nil
}

// projector is one member of profile-projector. A record it cannot
// project blocks its partition: it commits up to that record, not past it,
// and retries it every projectorRetryWait, while it keeps the partition.
type projector struct {
	s       *sim
	cl      *kgo.Client
	mu      sync.Mutex
	blocked map[int32]int64 // partition -> offset of the record it cannot project
	warned  map[int32]int64 // partition -> offset already logged
}

func (s *sim) projectorMember(ctx context.Context) error {
	p := &projector{s: s, blocked: map[int32]int64{}, warned: map[int32]int64{}}
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.seeds...), kgo.ConsumerGroup(GroupProjector), kgo.ConsumeTopics(TopicUser),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.AutoCommitMarks(), kgo.AutoCommitInterval(2*time.Second),
		kgo.OnPartitionsRevoked(p.forget), kgo.OnPartitionsLost(p.forget))
	if err != nil {
		return fmt.Errorf("create %s consumer: %w", GroupProjector, err)
	}
	defer cl.Close()
	p.cl = cl
	retry := time.NewTicker(projectorRetryWait)
	defer retry.Stop()
	for ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, projectorRetryWait)
		fs := cl.PollFetches(pctx)
		cancel()
		fs.EachPartition(p.handle)
		select {
		case <-retry.C:
			p.retry()
		default:
		}
	}
	return nil
}

// handle projects a fetched partition's records in order, up to the first
// it cannot project.
func (p *projector) handle(fp kgo.FetchTopicPartition) {
	if fp.Topic != TopicUser || p.isBlocked(fp.Partition) {
		return
	}
	for _, r := range fp.Records {
		if err := projectAccount(r.Value); err != nil {
			p.block(r, err)
			return
		}
		p.cl.MarkCommitRecords(r)
	}
}

func (p *projector) isBlocked(part int32) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.blocked[part]
	return ok
}

// block stops the partition at r: nothing after it is fetched or marked.
func (p *projector) block(r *kgo.Record, err error) {
	p.mu.Lock()
	p.blocked[r.Partition] = r.Offset
	off, again := p.warned[r.Partition]
	again = again && off == r.Offset
	p.warned[r.Partition] = r.Offset
	p.mu.Unlock()
	p.cl.PauseFetchPartitions(map[string][]int32{TopicUser: {r.Partition}})
	if !again {
		p.s.log.Warn("demo: profile-projector cannot project a record and retries it", "topic", r.Topic, "partition", r.Partition,
			"offset", r.Offset, "err", err)
	}
}

// retry fetches every blocked record again (and fails on it again).
func (p *projector) retry() {
	p.mu.Lock()
	seek := map[string]map[int32]kgo.EpochOffset{}
	var parts []int32
	for part, off := range p.blocked {
		if seek[TopicUser] == nil {
			seek[TopicUser] = map[int32]kgo.EpochOffset{}
		}
		seek[TopicUser][part] = kgo.EpochOffset{Epoch: -1, Offset: off}
		parts = append(parts, part)
		delete(p.blocked, part)
	}
	p.mu.Unlock()
	if len(parts) == 0 {
		return
	}
	p.cl.SetOffsets(seek)
	p.cl.ResumeFetchPartitions(map[string][]int32{TopicUser: parts})
}

// forget drops the blocks of partitions the member no longer owns (whoever
// gets them next starts at the committed offset: the same record).
func (p *projector) forget(_ context.Context, cl *kgo.Client, lost map[string][]int32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, part := range lost[TopicUser] {
		delete(p.blocked, part)
	}
	cl.ResumeFetchPartitions(map[string][]int32{TopicUser: lost[TopicUser]})
}

// startPoisonPill launches the projector's members and the pill's writer.
func (s *sim) startPoisonPill(ctx context.Context, goFn func(func() error)) {
	for range projectorMembers {
		goFn(func() error { return s.projectorMember(ctx) })
	}
	goFn(func() error { return s.poisonPillOnce(ctx) })
}
