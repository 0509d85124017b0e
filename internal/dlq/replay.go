package dlq

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/metrics"
	"github.com/eventwatch/eventwatch/internal/store"
)

// Replay headers added to every original a replay sends.
const (
	HeaderReplayID = "eventwatch-replay-id" // the replay's id
	HeaderReplayOf = "eventwatch-replay-of" // the dead letter it came from: topic/partition@offset
	HeaderReplayBy = "eventwatch-replay-by" // who asked
	HeaderReplayAt = "eventwatch-replay-at" // when the replay was requested (RFC 3339, UTC)
)

// ErrReplayOff is returned when dlq.replay.enabled is false.
var ErrReplayOff = errors.New("replay is off (dlq.replay.enabled: false)")

// Replayer sends the originals of selected dead letters back, each once:
// a replay claims its dead letters in the store (store.ReplayStore) before
// sending, marks them sent after the broker acknowledged them, and a
// replay interrupted between the two (a crash, kill -9) is resumed by the
// next process, which first looks in the target partitions (from their end
// offsets when the replay started) for originals it already sent.
type Replayer struct {
	cfg      ReplayConfig
	opts     []kgo.Opt
	st       store.ReplayStore
	auditor  Auditor
	prefixes func(topic string) []string
	log      *slog.Logger
	owner    string

	replayed *prometheus.CounterVec
	results  *prometheus.CounterVec

	mu       sync.Mutex
	running  map[string]bool
	ctx      context.Context // the Run context, for replays started by requests
	nextLook time.Time       // when a look for stale replays can find one (Run)
	lookNow  bool            // a replay of this process ended during a look: the next tick looks
}

// NewReplayer builds the replayer. prefixes gives the extra error-header
// prefixes of a dead-letter topic's profile.
func NewReplayer(cfg ReplayConfig, opts []kgo.Opt, st store.ReplayStore, auditor Auditor, prefixes func(string) []string,
	reg prometheus.Registerer, log *slog.Logger) *Replayer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if prefixes == nil {
		prefixes = func(string) []string { return nil }
	}
	if reg == nil {
		reg = prometheus.NewRegistry() // metrics nobody scrapes
	}
	host, _ := os.Hostname()
	return &Replayer{cfg: cfg, opts: opts, st: st, auditor: auditor, prefixes: prefixes, log: log.With("component", "dlq"),
		owner: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), randomID(4)), running: map[string]bool{},
		replayed: metrics.DLQReplayedRecords.NewCounterVec(reg), results: metrics.DLQReplays.NewCounterVec(reg)}
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Started is the answer to a replay request: the audit-log entry and, for
// a dry run, what would be sent.
type Started struct {
	Replay store.Replay `json:"replay"`         // the audit-log entry
	Items  []PlanItem   `json:"items"`          // the selected dead letters (a dry run's whole answer)
	Note   string       `json:"note,omitempty"` // e.g. how many were skipped as already replayed
}

// Start validates and plans req, records it, and (unless a dry run) starts
// sending in the background. A refused request (*BadRequestError) sends
// nothing and claims nothing.
func (r *Replayer) Start(ctx context.Context, req Request) (Started, error) {
	if !r.cfg.Enabled {
		return Started{}, ErrReplayOff
	}
	if err := req.Validate(); err != nil {
		r.results.WithLabelValues("refused").Inc()
		return Started{}, err
	}
	sel, err := r.plan(ctx, &req)
	if err != nil {
		if bad := (*BadRequestError)(nil); errors.As(err, &bad) {
			r.results.WithLabelValues("refused").Inc()
		}
		return Started{}, err
	}
	rp := r.newReplay(&req)
	if req.DryRun {
		return r.dryRun(ctx, rp, req.Topic, sel)
	}
	marks, err := r.marks(ctx, sel)
	if err != nil {
		return Started{}, err
	}
	rp.Marks = marks
	claimed, err := r.st.CreateReplay(ctx, rp, itemsOf(req.Topic, sel), req.Force)
	if err != nil {
		return Started{}, fmt.Errorf("record replay: %w", err)
	}
	rp.Planned, rp.Skipped = int64(len(claimed)), int64(len(sel)-len(claimed))
	r.launch(rp.ID)
	return Started{Replay: rp, Items: planItems(sel, claimed), Note: skippedNote(rp.Skipped)}, nil
}

func skippedNote(n int64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d selected dead letters were already replayed and are skipped (force to send them again)", n)
}

func (r *Replayer) newReplay(req *Request) store.Replay {
	sel, _ := json.Marshal(req)
	now := time.Now().UTC().Truncate(time.Millisecond)
	id := now.Format("20060102T150405Z") + "-" + randomID(4)
	return store.Replay{ID: id, Created: now, Updated: now, RequestedBy: req.RequestedBy, Selection: string(sel),
		State: store.ReplayRunning, Owner: r.owner, Marks: "{}"}
}

// dryRun records the request in the audit log and lists what would be
// sent, marking what earlier replays already sent.
func (r *Replayer) dryRun(ctx context.Context, rp store.Replay, topic string, sel []selected) (Started, error) {
	rp.State = store.ReplayDryRun
	items := make([]PlanItem, 0, len(sel))
	for _, s := range sel {
		it := s.item
		if done, err := r.st.ReplayedItems(ctx, topic, it.Partition, it.Offset); err == nil && len(done) > 0 {
			it.Replayed = true
		}
		items = append(items, it)
	}
	if _, err := r.st.CreateReplay(ctx, rp, nil, false); err != nil {
		return Started{}, fmt.Errorf("record dry run: %w", err)
	}
	rp.Planned = int64(len(items))
	r.results.WithLabelValues("dry_run").Inc()
	return Started{Replay: rp, Items: items, Note: "dry run: nothing was sent"}, nil
}

func itemsOf(topic string, sel []selected) []store.ReplayItem {
	out := make([]store.ReplayItem, 0, len(sel))
	for _, s := range sel {
		out = append(out, store.ReplayItem{Topic: topic, Partition: s.item.Partition, Offset: s.item.Offset, Target: s.orig.Topic})
	}
	return out
}

func planItems(sel []selected, claimed []store.ReplayItem) []PlanItem {
	got := map[[2]int64]bool{}
	for _, c := range claimed {
		got[[2]int64{int64(c.Partition), c.Offset}] = true
	}
	out := make([]PlanItem, 0, len(sel))
	for _, s := range sel {
		it := s.item
		it.Replayed = !got[[2]int64{int64(it.Partition), it.Offset}]
		out = append(out, it)
	}
	return out
}

// plan reads the selection with a fresh group-less client.
func (r *Replayer) plan(ctx context.Context, req *Request) ([]selected, error) {
	cl, err := kgo.NewClient(append(slices.Clone(r.opts), kgo.FetchIsolationLevel(kgo.ReadCommitted()))...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	p := &planner{cl: cl, adm: kadm.NewClient(cl), auditor: r.auditor, prefixes: r.prefixes, max: r.cfg.MaxRecords}
	return p.plan(ctx, req)
}

// marks are the end offsets of the target topics now, as JSON: where a
// resumed replay looks for what it already sent.
func (r *Replayer) marks(ctx context.Context, sel []selected) (string, error) {
	topics := map[string]bool{}
	for _, s := range sel {
		topics[s.orig.Topic] = true
	}
	m := map[string]map[int32]int64{}
	if len(topics) > 0 {
		cl, err := kgo.NewClient(r.opts...)
		if err != nil {
			return "", fmt.Errorf("kafka client: %w", err)
		}
		defer cl.Close()
		names := make([]string, 0, len(topics))
		for t := range topics {
			names = append(names, t)
		}
		ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, names...)
		if err != nil {
			return "", fmt.Errorf("list offsets of the target topics: %w", err)
		}
		ends.Each(func(o kadm.ListedOffset) {
			if m[o.Topic] == nil {
				m[o.Topic] = map[int32]int64{}
			}
			m[o.Topic][o.Partition] = o.Offset
		})
	}
	b, err := json.Marshal(m)
	return string(b), err
}
