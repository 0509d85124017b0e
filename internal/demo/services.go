package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Topics of the simulated estate. The huleedu ones follow
// <project>.<environment>.<domain>.<entity>; the authorworks ones are
// named by service and resource; the last two break both conventions.
const (
	TopicBatch  = "huleedu.dev.batchorchestration.batch"
	TopicEssay  = "huleedu.dev.essaylifecycle.essay"
	TopicSpell  = "huleedu.dev.spellchecker.essay"
	TopicUser   = "user.account"
	TopicBook   = "content.book"
	TopicDLQ    = "content.deadletter"
	TopicLegacy = "LegacyEvents"
	TopicTmp    = "tmp_Import-Queue"
)

// Consumer groups of the simulated services.
const (
	GroupLifecycle    = "essay_lifecycle_service"
	GroupSpellchecker = "spell_checker_service"
	GroupSlow         = "result_aggregator_service" // consumes slower than the essay topic grows
	GroupStopped      = "notification_service"      // consumes the book topic briefly, then stops
)

// Event types of the correlated HuleEdu flow.
const (
	TypePipelinesConfigured = "huleedu.batchorchestration.batch.pipelines_configured.v1"
	TypeSpellcheckRequested = "huleedu.essaylifecycle.essay.spellcheck_requested.v1"
	TypeSpellcheckCompleted = "huleedu.spellchecker.essay.spellcheck_completed.v1"
)

// sim is the simulated estate: one producer client shared by the
// producing services, and the seeds for the consumers.
type sim struct {
	seeds []string
	seed  int64
	prod  *kgo.Client
	log   *slog.Logger
	dead  int // dead letters written, to rotate their causes
}

// every calls fn every d until ctx is done.
func every(ctx context.Context, d time.Duration, fn func()) error {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			fn()
		}
	}
}

// pause waits d or until ctx is done.
func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (s *sim) produce(ctx context.Context, r *kgo.Record) {
	s.prod.Produce(ctx, r, func(r *kgo.Record, err error) {
		if err != nil && ctx.Err() == nil {
			s.log.Debug("demo produce failed", "topic", r.Topic, "err", err)
		}
	})
}

func header(k, v string) kgo.RecordHeader { return kgo.RecordHeader{Key: k, Value: []byte(v)} }

// orchestrator starts a new correlated flow every 400ms: a batch whose
// pipelines were configured, with a fresh correlation id and trace.
func (s *sim) orchestrator(ctx context.Context) error {
	g := newIDs(s.seed, 1)
	return every(ctx, 400*time.Millisecond, func() {
		batch := "batch-" + g.hexID(4)
		ev := hulEvent(g, TypePipelinesConfigured, "batch_orchestrator_service", g.uuid(),
			map[string]any{"batch_id": batch, "pipelines": []string{"spellcheck", "nlp"}, "essay_count": 1 + g.rng.IntN(30)})
		s.produce(ctx, &kgo.Record{Topic: TopicBatch, Key: []byte(batch), Value: mustJSON(ev),
			Headers: []kgo.RecordHeader{header("traceparent", traceparent(g.hexID(16), g.hexID(8)))}})
	})
}

// hop is one relaying service: it consumes from its group, and for each
// record of the type it handles publishes the next event after a latency,
// with the same correlation id and a child span of the upstream trace.
type hop struct {
	group, from, to   string
	inType, outType   string
	source            string
	minLat, maxLat    time.Duration
	dropCorrelationOf int            // every n-th event loses its correlation id (a broken chain); 0 never
	data              func(*ids) any // the published event's data
}

// spellcheckRequested is the data of a spellcheck_requested event.
func spellcheckRequested(g *ids) any {
	id := "essay-" + g.hexID(4)
	return map[string]any{"entity_ref": map[string]any{"entity_id": id, "entity_type": "essay"}, "language": "en", "text_storage_id": "s3://essays/" + id + "/original.txt"}
}

// spellcheckCompleted is the data of a spellcheck_completed event.
func spellcheckCompleted(g *ids) any {
	id := "essay-" + g.hexID(4)
	return map[string]any{"entity_ref": map[string]any{"entity_id": id, "entity_type": "essay"}, "status": "completed",
		"corrections": g.rng.IntN(20), "corrected_text_storage_id": "s3://essays/" + id + "/corrected.txt"}
}

func (s *sim) relay(ctx context.Context, h hop, stream uint64) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.seeds...), kgo.ConsumerGroup(h.group), kgo.ConsumeTopics(h.from),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return fmt.Errorf("create %s consumer: %w", h.group, err)
	}
	defer cl.Close()
	g := newIDs(s.seed, stream)
	n := 0
	seen := newSeenIDs(relaySeenIDs)
	for ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			var in hulEnvelope
			if json.Unmarshal(r.Value, &in) != nil || in.EventType != h.inType || !seen.first(in.EventID) {
				return // not its type, or a duplicate it already handled: idempotent
			}
			n++
			corr := in.CorrelationID // propagate if received, generate for a new chain (standard 000 §3.1)
			if corr == "" || (h.dropCorrelationOf > 0 && n%h.dropCorrelationOf == 0) {
				corr = g.uuid()
			}
			traceID := g.hexID(16)
			for _, hd := range r.Headers {
				if hd.Key == "traceparent" {
					if id := parseTraceparent(string(hd.Value)); id != "" {
						traceID = id
					}
				}
			}
			pause(ctx, g.between(h.minLat, h.maxLat))
			out := hulEvent(g, h.outType, h.source, corr, h.data(g))
			s.produce(ctx, &kgo.Record{Topic: h.to, Key: r.Key, Value: mustJSON(out),
				Headers: []kgo.RecordHeader{header("traceparent", traceparent(traceID, g.hexID(8)))}})
		})
	}
	return nil
}

// relaySeenIDs bounds the event ids a relay remembers to deduplicate.
const relaySeenIDs = 4096

// seenIDs is a bounded set of event ids, the oldest forgotten first: how
// the demo's well-behaved relays stay idempotent when the legacy
// importer sends an event twice (HuleEdu: consumers MUST be idempotent).
type seenIDs struct {
	ids   map[string]struct{}
	order []string
	max   int
}

func newSeenIDs(n int) *seenIDs { return &seenIDs{ids: map[string]struct{}{}, max: n} }

// first reports whether id is seen for the first time, and remembers it.
// An empty id is never a duplicate.
func (s *seenIDs) first(id string) bool {
	if id == "" {
		return true
	}
	if _, ok := s.ids[id]; ok {
		return false
	}
	if len(s.order) >= s.max {
		delete(s.ids, s.order[0])
		s.order = s.order[1:]
	}
	s.ids[id] = struct{}{}
	s.order = append(s.order, id)
	return true
}

// authorworks runs the user and content services: thin meta+data events
// keyed by resource id, and a content service that dead-letters every
// fourth book: mostly wrapped with error context (three causes worth
// triaging), one in four left unwrapped.
func (s *sim) authorworks(ctx context.Context) error {
	g := newIDs(s.seed, 4)
	n := 0
	return every(ctx, 350*time.Millisecond, func() {
		n++
		if n%2 == 0 {
			user := "user-" + g.hexID(4)
			ev := awNew(g, "user.account.created", "user-service", map[string]any{"user_id": user, "email_verified": n%4 == 0, "plan": "free"})
			s.produce(ctx, &kgo.Record{Topic: TopicUser, Key: []byte(user), Value: mustJSON(ev)})
			return
		}
		book := "book-" + g.hexID(4)
		ev := awNew(g, "content.book.published", "content-service", map[string]any{"book_id": book, "title": "The Quiet Shore", "author_id": "au-" + g.hexID(2), "manuscript_ref": "s3://books/" + book})
		s.produce(ctx, &kgo.Record{Topic: TopicBook, Key: []byte(book), Value: mustJSON(ev)})
		if n%8 == 1 {
			s.deadLetter(ctx, book, ev, n%32 != 9) // three wrapped dead letters to one left unwrapped
		}
	})
}

func (s *sim) deadLetter(ctx context.Context, key string, ev awEvent, wrapped bool) {
	value := mustJSON(ev) // unwrapped: the original event copied as is
	if wrapped {
		value = mustJSON(map[string]any{
			"original_event": ev,
			"original_topic": TopicBook,
			"error":          s.deadLetterCause(key),
		})
	}
	s.produce(ctx, &kgo.Record{Topic: TopicDLQ, Key: []byte(key), Value: value,
		Headers: []kgo.RecordHeader{header("content-type", "application/json")}})
}

// deadLetterCauses are the failures the demo's consumers dead-letter
// books for: triage groups them into three error classes (the ids and
// numbers in the messages vary).
var deadLetterCauses = []struct{ class, consumer, format string }{
	{"SchemaValidationError", "search-indexer", "schema validation failed: data.isbn missing for %s"},
	{"TimeoutError", "catalog-projector", "timeout after %d ms calling cover-service"},
	{"UniqueViolation", "catalog-projector", "duplicate key value violates unique constraint %q"},
}

// deadLetterCause is the error context of one dead letter, rotating over
// deadLetterCauses.
func (s *sim) deadLetterCause(key string) map[string]any {
	s.dead++
	c := deadLetterCauses[s.dead%len(deadLetterCauses)]
	var msg string
	switch c.class {
	case "TimeoutError":
		msg = fmt.Sprintf(c.format, 2000+s.dead%7*500)
	case "UniqueViolation":
		msg = fmt.Sprintf(c.format, "books_pkey")
	default:
		msg = fmt.Sprintf(c.format, key)
	}
	return map[string]any{"type": c.class, "message": msg, "consumer": c.consumer, "attempts": 3,
		"failed_at": time.Now().UTC().Format(time.RFC3339)}
}
