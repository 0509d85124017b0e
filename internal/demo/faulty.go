package demo

import (
	"context"
	"encoding/base64"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// fault is one way the legacy importer breaks the standards; the comment
// names the rule it trips.
type fault func(g *ids) *kgo.Record

// faults, in the order the faulty producer cycles through them.
var faults = []fault{
	// naming.event_type: not <project>.<domain>.<entity>.<action>.v<n>
	func(g *ids) *kgo.Record {
		return legacy(TopicBatch, hulEvent(g, "BatchCreated", "legacy_importer", g.uuid(), map[string]any{"batch_id": "b"}))
	},
	// naming.action_tense: an imperative action
	func(g *ids) *kgo.Record {
		return legacy(TopicBatch, hulEvent(g, "huleedu.batchorchestration.batch.configure_pipelines.v1", "legacy_importer", g.uuid(), map[string]any{"batch_id": "b"}))
	},
	// size.event_too_large and size.blob_field: a full essay text in the event
	func(g *ids) *kgo.Record {
		text := strings.Repeat("The essay argues that thin events keep services decoupled. ", 700)
		return legacy(TopicEssay, hulEvent(g, "huleedu.essaylifecycle.essay.text_uploaded.v1", "legacy_importer", g.uuid(), map[string]any{"essay_id": "e", "text": text}))
	},
	// size.blob_field: a base64 attachment instead of a storage reference
	func(g *ids) *kgo.Record {
		blob := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\x89PNG\r\n\x1a\n-binary-", 60)))
		return legacy(TopicEssay, hulEvent(g, "huleedu.essaylifecycle.essay.attachment_added.v1", "legacy_importer", g.uuid(), map[string]any{"essay_id": "e", "attachment": blob}))
	},
	// envelope.missing_field: no event_id, no source_service
	func(g *ids) *kgo.Record {
		return &kgo.Record{Topic: TopicBatch, Value: mustJSON(map[string]any{
			"event_type": TypePipelinesConfigured, "event_timestamp": time.Now().UTC().Format(time.RFC3339), "data": map[string]any{"batch_id": "b"},
		})}
	},
	// envelope.invalid_timestamp: a local time with an offset, not UTC
	func(g *ids) *kgo.Record {
		ev := hulEvent(g, TypePipelinesConfigured, "legacy_importer", g.uuid(), map[string]any{"batch_id": "b"})
		ev.EventTimestamp = time.Now().In(time.FixedZone("CEST", 2*3600)).Format(time.RFC3339)
		return legacy(TopicBatch, ev)
	},
	// envelope.invalid_json: junk bytes
	func(g *ids) *kgo.Record {
		return &kgo.Record{Topic: TopicBatch, Value: []byte{0xde, 0xad, 0xbe, 0xef, '{', '"', 0xff, 0x00}}
	},
	// envelope.invalid_uuid: an event id that is not a UUID
	func(g *ids) *kgo.Record {
		ev := hulEvent(g, TypePipelinesConfigured, "legacy_importer", g.uuid(), map[string]any{"batch_id": "b"})
		ev.EventID = "evt-" + g.hexID(3)
		return legacy(TopicBatch, ev)
	},
	// naming.topic: a topic outside the naming scheme
	func(g *ids) *kgo.Record {
		return legacy(TopicLegacy, hulEvent(g, "huleedu.legacy.batch.imported.v1", "legacy_importer", g.uuid(), map[string]any{"batch_id": "b"}))
	},
	// naming.topic again, on the second badly named topic
	func(g *ids) *kgo.Record {
		return legacy(TopicTmp, hulEvent(g, "huleedu.legacy.essay.imported.v1", "legacy_importer", g.uuid(), map[string]any{"essay_id": "e"}))
	},
	// authorworks key.missing and trace.missing_correlation_id: no key, no correlation
	func(g *ids) *kgo.Record {
		ev := awNew(g, "user.account.created", "user-service", map[string]any{"user_id": "u"})
		ev.Meta.CorrelationID = ""
		return &kgo.Record{Topic: TopicUser, Value: mustJSON(ev)}
	},
}

func legacy(topic string, ev hulEnvelope) *kgo.Record {
	return &kgo.Record{Topic: topic, Key: []byte(ev.EventID), Value: mustJSON(ev)}
}

// faulty is the legacy importer: every 250ms one record from the fault
// list, and every tenth record sent twice with the same event id
// (duplicate.event_id).
func (s *sim) faulty(ctx context.Context) error {
	g := newIDs(s.seed, 3)
	n := 0
	return every(ctx, 250*time.Millisecond, func() {
		r := faults[n%len(faults)](g)
		n++
		s.produce(ctx, r)
		if n%10 == 0 && r.Topic == TopicBatch {
			dup := *r
			s.produce(ctx, &dup)
		}
	})
}

// slowConsumer reads the essay topic one record per second, while the
// topic grows faster: its lag grows for as long as the demo runs.
func (s *sim) slowConsumer(ctx context.Context) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.seeds...), kgo.ConsumerGroup(GroupSlow), kgo.ConsumeTopics(TopicEssay),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.AutoCommitInterval(time.Second))
	if err != nil {
		return err
	}
	defer cl.Close()
	for ctx.Err() == nil {
		cl.PollRecords(ctx, 1)
		pause(ctx, time.Second)
	}
	return nil
}

// stoppedConsumer reads the book topic for its first 10 seconds, commits
// and leaves: a group whose committed offsets stand still while the topic
// grows.
func (s *sim) stoppedConsumer(ctx context.Context) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.seeds...), kgo.ConsumerGroup(GroupStopped), kgo.ConsumeTopics(TopicBook),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return err
	}
	defer cl.Close()
	runCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for runCtx.Err() == nil {
		cl.PollFetches(runCtx)
	}
	if ctx.Err() == nil {
		cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
		defer ccancel()
		_ = cl.CommitUncommittedOffsets(cctx)
		s.log.Info("demo: consumer group stopped", "group", GroupStopped)
	}
	return nil
}
