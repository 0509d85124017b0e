//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/dlq"
	"github.com/eventwatch/eventwatch/internal/testutil/realkafka"
)

// TestPoisonPillRealKafka: a consumer (a real franz-go group member) that
// cannot process one record keeps owning the partition and never commits
// past it while records wait; the daemon's group API then names that
// offset, its event id, its producer and the rules it breaks.
func TestPoisonPillRealKafka(t *testing.T) {
	b := realkafka.Start(t)
	ctx := dmContext(t, 4*time.Minute)
	const topic, group = "content.book", "search-indexer"
	rkCreateTopic(ctx, t, b, topic, 1)
	cl := b.Client(t)
	var recs []*kgo.Record
	for i := range 8 {
		v := fmt.Sprintf(`{"meta":{"id":"0b6f3a52-4c1e-4b8e-9a7d-%012d","type":"content.book.published","version":"1.0","timestamp":"2026-03-01T12:00:00Z","correlation_id":"c","source":"content-service","trace_context":{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331"}},"data":{"book_id":"b-%d"}}`, i, i)
		if i == 4 {
			v = `{"meta":{"id":"not-a-uuid","type":"content.book.published","version":1,"timestamp":"2026-03-01T12:00:00Z","source":"content-service"},"data":{"book_id":"b-4"}}`
		}
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(fmt.Sprintf("b-%d", i)), Value: []byte(v)})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	stopConsumer := pillConsumer(ctx, t, b, topic, group)
	defer stopConsumer()

	dir := t.TempDir()
	bin := dmBinary(ctx, t, dir)
	p := dmStartProc(ctx, t, bin, b.Addr(), filepath.Join(dir, "a"), 10*time.Second, "audit:\n  profile: authorworks\n")
	// lag.interval is 2s in dmStartProc; stop_after 1m by default, data is older
	p.d.waitReady(t)
	var got struct {
		Pills []dlq.Pill `json:"poison_pills"`
	}
	dmEventually(t, "the group API names the poison pill", 3*time.Minute, func() bool {
		code, body := p.d.get(t, "/api/v1/groups/"+group)
		got.Pills = nil
		return code == http.StatusOK && json.Unmarshal([]byte(body), &got) == nil && len(got.Pills) == 1
	})
	pill := got.Pills[0]
	if pill.Offset != 4 || pill.EventID != "not-a-uuid" || pill.Service != "content-service" ||
		!slices.Contains(pill.Rules, "envelope.invalid_uuid") || !slices.Contains(pill.Rules, "envelope.wrong_type") {
		t.Errorf("pill = %+v; want offset 4, event not-a-uuid by content-service breaking envelope.invalid_uuid and envelope.wrong_type", pill)
	}
}

// pillConsumer is a group member that processes records until it meets
// the one it cannot (meta.id not a UUID), commits up to it and keeps
// polling without ever getting past it.
func pillConsumer(ctx context.Context, t *testing.T, b *realkafka.Broker, topic, group string) func() {
	t.Helper()
	cl := b.Client(t, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		stuck := false
		for cctx.Err() == nil {
			fs := cl.PollFetches(cctx)
			for _, r := range fs.Records() {
				if stuck {
					break
				}
				var v struct {
					Meta struct {
						ID string `json:"id"`
					} `json:"meta"`
				}
				if json.Unmarshal(r.Value, &v) != nil || len(v.Meta.ID) != 36 {
					off := map[string]map[int32]kgo.EpochOffset{topic: {r.Partition: {Epoch: -1, Offset: r.Offset}}}
					cl.CommitOffsetsSync(cctx, off, nil)
					stuck = true
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}
