package sample

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/testutil/enginetest"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
)

// huleEvent is a HuleEdu-compliant event (standard 000); withID false drops
// event_id.
func huleEvent(withID bool) []byte {
	id := ""
	if withID {
		id = fmt.Sprintf(`"event_id":%q,`, uuid.NewString())
	}
	return fmt.Appendf(nil, `{%s"event_type":"huleedu.essaylifecycle.essay.spellcheck_requested.v1",`+
		`"event_timestamp":%q,"source_service":"essay_lifecycle_service","correlation_id":%q,`+
		`"data":{"entity_ref":{"entity_id":"essay-42","entity_type":"essay"},"language":"en","text_storage_id":"s3://essays/42/original.txt"}}`,
		id, time.Now().UTC().Format(time.RFC3339Nano), uuid.NewString())
}

// The sampler with the real audit engine and the huleedu profile: compliant
// events count as compliant, broken ones as violations with their rule and
// source service.
func TestSamplerWithHuleEduEngine(t *testing.T) {
	const topic = "huleedu.dev.essaylifecycle.essay"
	eng := enginetest.Engine(t, "huleedu", audit.Options{})
	c := kfaketest.Cluster(t, kfake.SeedTopics(2, topic))
	h := newHarness(t, c, testConfig(), eng).start()
	h.waitAssigned(2) // start_from latest: what is produced from now on is sampled

	pr := kfaketest.Client(t, c)
	var recs []*kgo.Record
	for range 10 {
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte("essay-42"), Value: huleEvent(true)})
	}
	for range 4 {
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte("essay-43"), Value: huleEvent(false)})
	}
	for range 3 {
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte("essay-44"), Value: []byte{0x1f, 0x8b, 0x08}})
	}
	produce(t, pr, recs...)

	labels := map[string]string{"topic": topic}
	h.waitValue("eventwatch_records_checked_total", labels, 17)
	h.stop()
	if got := h.value("eventwatch_records_compliant_total", labels); got != 10 {
		t.Errorf("compliant = %v, want 10", got)
	}
	missing := map[string]string{"rule": "envelope.missing_field", "source_service": "essay_lifecycle_service", "severity": "error"}
	if got := h.value("eventwatch_violations_total", missing); got != 4 {
		t.Errorf("violations%v = %v, want 4", missing, got)
	}
	junk := map[string]string{"rule": "envelope.invalid_json", "source_service": ServiceUnknown}
	if got := h.value("eventwatch_violations_total", junk); got != 3 {
		t.Errorf("violations%v = %v, want 3", junk, got)
	}
}

// The bad-input matrix through the real engine: every record is audited
// (none dropped by a panic), the partition never stalls, and the compliant
// record after the junk is counted compliant.
func TestSamplerBadInputWithEngine(t *testing.T) {
	const topic = "huleedu.dev.essaylifecycle.essay"
	eng := enginetest.Engine(t, "huleedu", audit.Options{})
	c := kfaketest.Cluster(t, kfake.SeedTopics(1, topic),
		kfake.BrokerConfigs(map[string]string{"message.max.bytes": fmt.Sprint(16 << 20)}))
	h := newHarness(t, c, testConfig(), eng).start()
	h.waitAssigned(1) // start_from latest: what is produced from now on is sampled

	good := huleEvent(true)
	bad := [][]byte{
		nil,                                  // tombstone
		{0x00, 0x01, 0xff, 0xfe},             // binary
		good[:len(good)/2],                   // truncated JSON
		[]byte(strings.Repeat("[", 100_000)), // 100k-deep nesting
		append(append([]byte(`{"event_id":"`), 0xff, 0xfe), `"}`...),    // invalid UTF-8
		[]byte(`{"event_id":"a","event_id":"b","event_type":"x"}`),      // duplicate keys
		[]byte(`{"event_id":1e400,"n":123456789012345678901234567890}`), // huge numbers
		[]byte(`{"data":"` + strings.Repeat("QUJD", (10<<20)/4) + `"}`), // 10 MB
	}
	pr := kfaketest.Client(t, c, kgo.ProducerBatchMaxBytes(16<<20), kgo.MaxBufferedBytes(64<<20))
	for _, v := range bad {
		produce(t, pr, &kgo.Record{Topic: topic, Key: []byte("essay-1"), Value: v})
	}
	produce(t, pr, &kgo.Record{Topic: topic, Key: []byte("essay-1"), Value: good})

	labels := map[string]string{"topic": topic}
	n := float64(len(bad) + 1)
	h.waitValue("eventwatch_records_checked_total", labels, n)
	if got := h.value("eventwatch_records_observed_total", labels); got != n {
		t.Errorf("observed = %v, want %v", got, n)
	}
	if got := h.value("eventwatch_sampler_dropped_records_total", nil); got != 0 {
		t.Errorf("dropped = %v, want 0", got)
	}
	// The tombstone and the good event are compliant; every other record
	// breaks at least one error rule.
	if got := h.value("eventwatch_records_compliant_total", labels); got != 2 {
		t.Errorf("compliant = %v, want 2", got)
	}
}
