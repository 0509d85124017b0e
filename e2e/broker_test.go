//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventwatch/eventwatch/internal/testutil/realkafka"
)

// TestRealKafkaRoundTrip produces keyed records with headers to a
// 3-partition topic and reads every one back, exactly as sent.
func TestRealKafkaRoundTrip(t *testing.T) {
	b := realkafka.Start(t)
	ctx := rkTestContext(t, 2*time.Minute)
	const topic, n = "roundtrip", 300
	rkCreateTopic(ctx, t, b, topic, 3)
	sent := rkProduceNumbered(ctx, t, b.Client(t), topic, n)

	cl := b.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := map[string]string{}
	partitions := map[int32]bool{}
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records before %v", len(got), n, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			got[string(r.Key)] = string(r.Value)
			partitions[r.Partition] = true
			if len(r.Headers) != 1 || r.Headers[0].Key != "traceparent" {
				t.Errorf("record %s headers = %v, want one traceparent", r.Key, r.Headers)
			}
		})
	}
	for k, v := range sent {
		if got[k] != v {
			t.Fatalf("record %s: got value %q, want %q", k, got[k], v)
		}
	}
	if len(partitions) != 3 {
		t.Errorf("records landed in %d partitions, want 3", len(partitions))
	}
}

// TestRealKafkaKIP848Group runs a next-gen (group.protocol=consumer) group
// and records how Kafka 4.1 describes it: DescribeGroups answers
// GROUP_ID_NOT_FOUND, ConsumerGroupDescribe works, ListGroups says type
// "consumer".
func TestRealKafkaKIP848Group(t *testing.T) {
	b := realkafka.Start(t)
	ctx := rkTestContext(t, 2*time.Minute)
	const topic, group, n = "kip848", "next-gen", 50
	rkCreateTopic(ctx, t, b, topic, 2)
	rkProduceNumbered(ctx, t, b.Client(t), topic, n)

	cl := b.Client(t, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ServerSideBalancer(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit())
	rkConsumeAndCommit(ctx, t, cl, n)
	adm := kadm.NewClient(b.Client(t))

	described, err := adm.DescribeConsumerGroups(ctx, group)
	if err != nil {
		t.Fatalf("describe consumer groups: %v", err)
	}
	g := described[group]
	if g.Err != nil || len(g.Members) != 1 || g.State != "Stable" {
		t.Fatalf("ConsumerGroupDescribe %s: err=%v state=%q members=%d, want Stable with 1 member", group, g.Err, g.State, len(g.Members))
	}
	if got := g.AssignedPartitions().Sorted(); len(got) != 1 || len(got[0].Partitions) != 2 {
		t.Errorf("assigned partitions = %v, want both partitions of %s", got, topic)
	}
	t.Logf("ConsumerGroupDescribe: state=%s epoch=%d assignor=%s", g.State, g.Epoch, g.AssignorName)

	code, msg := rkDescribeClassic(ctx, t, b.Client(t), group)
	if !errors.Is(kerr.ErrorForCode(code), kerr.GroupIDNotFound) {
		t.Fatalf("DescribeGroups on a KIP-848 group: error %v (%q), want GROUP_ID_NOT_FOUND", kerr.ErrorForCode(code), msg)
	}
	t.Logf("DescribeGroups on a KIP-848 group: %v, message %q", kerr.ErrorForCode(code), msg)

	if typ := rkListedGroupType(ctx, t, b.Client(t), group); typ != "consumer" {
		t.Errorf("ListGroups type of %s = %q, want consumer", group, typ)
	}
	rkAssertCommitted(ctx, t, adm, group, topic, n)
}

// TestRealKafkaClassicGroup runs a classic (JoinGroup/SyncGroup) group and
// checks that DescribeGroups describes it.
func TestRealKafkaClassicGroup(t *testing.T) {
	b := realkafka.Start(t)
	ctx := rkTestContext(t, 2*time.Minute)
	const topic, group, n = "classic", "old-school", 40
	rkCreateTopic(ctx, t, b, topic, 2)
	rkProduceNumbered(ctx, t, b.Client(t), topic, n)

	cl := b.Client(t, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	rkConsumeAndCommit(ctx, t, cl, n)
	adm := kadm.NewClient(b.Client(t))

	described, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		t.Fatalf("describe groups: %v", err)
	}
	g := described[group]
	if g.Err != nil || g.State != "Stable" || g.ProtocolType != "consumer" || len(g.Members) != 1 {
		t.Fatalf("DescribeGroups %s: err=%v state=%q protocolType=%q members=%d", group, g.Err, g.State, g.ProtocolType, len(g.Members))
	}
	if typ := rkListedGroupType(ctx, t, b.Client(t), group); typ != "classic" {
		t.Errorf("ListGroups type of %s = %q, want classic", group, typ)
	}
	rkAssertCommitted(ctx, t, adm, group, topic, n)
}

// TestRealKafkaRestart stops the broker, checks that it is really gone, and
// restarts it on the same port with its data intact.
func TestRealKafkaRestart(t *testing.T) {
	b := realkafka.Start(t)
	ctx := rkTestContext(t, 3*time.Minute)
	const topic, n = "survivor", 20
	rkCreateTopic(ctx, t, b, topic, 1)
	rkProduceNumbered(ctx, t, b.Client(t), topic, n)
	addr := b.Addr()

	b.Stop()
	probe := b.Client(t, kgo.RetryTimeout(time.Second))
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	_, err := kmsg.NewPtrMetadataRequest().RequestWith(pctx, probe)
	cancel()
	if err == nil {
		t.Fatal("metadata request succeeded while the broker was stopped")
	}

	b.Restart()
	if b.Addr() != addr {
		t.Fatalf("address changed over restart: %s -> %s", addr, b.Addr())
	}
	offsets, err := kadm.NewClient(b.Client(t)).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("list end offsets after restart: %v", err)
	}
	if o, _ := offsets.Lookup(topic, 0); o.Offset != n {
		t.Fatalf("end offset after restart = %d (err %v), want %d", o.Offset, o.Err, n)
	}
}

func rkTestContext(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func rkCreateTopic(ctx context.Context, t *testing.T, b *realkafka.Broker, topic string, partitions int32) {
	t.Helper()
	resp, err := kadm.NewClient(b.Client(t)).CreateTopic(ctx, partitions, 1, nil, topic)
	if err != nil || resp.Err != nil {
		t.Fatalf("create topic %s: %v %v", topic, err, resp.Err)
	}
}

// rkProduceNumbered produces n records key-i/value-i and returns them.
func rkProduceNumbered(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, n int) map[string]string {
	t.Helper()
	sent := make(map[string]string, n)
	recs := make([]*kgo.Record, 0, n)
	for i := range n {
		k, v := "key-"+strconv.Itoa(i), fmt.Sprintf(`{"n":%d}`, i)
		sent[k] = v
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(k), Value: []byte(v),
			Headers: []kgo.RecordHeader{{Key: "traceparent", Value: []byte("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")}}})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce %d records to %s: %v", n, topic, err)
	}
	return sent
}

// rkConsumeAndCommit polls until n records arrived, then commits them.
func rkConsumeAndCommit(ctx context.Context, t *testing.T, cl *kgo.Client, n int) {
	t.Helper()
	seen := 0
	for seen < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("group consumed %d of %d records before %v", seen, n, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Logf("fetch %s/%d: %v", topic, p, err) })
		seen += fs.NumRecords()
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("commit offsets: %v", err)
	}
}

// rkDescribeClassic sends a raw DescribeGroups and returns the group's error
// code and message.
func rkDescribeClassic(ctx context.Context, t *testing.T, cl *kgo.Client, group string) (int16, string) {
	t.Helper()
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Groups = []string{group}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil || len(resp.Groups) != 1 {
		t.Fatalf("describe groups %s: %v (%d groups)", group, err, len(resp.Groups))
	}
	g := resp.Groups[0]
	msg := ""
	if g.ErrorMessage != nil {
		msg = *g.ErrorMessage
	}
	return g.ErrorCode, msg
}

// rkListedGroupType returns the GroupType ListGroups (v5+) reports.
func rkListedGroupType(ctx context.Context, t *testing.T, cl *kgo.Client, group string) string {
	t.Helper()
	resp, err := kmsg.NewPtrListGroupsRequest().RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("list groups: %v", err)
	}
	for _, g := range resp.Groups {
		if g.Group == group {
			return g.GroupType
		}
	}
	t.Fatalf("group %s not listed", group)
	return ""
}

// rkAssertCommitted checks the group's committed offsets sum to n on topic.
func rkAssertCommitted(ctx context.Context, t *testing.T, adm *kadm.Client, group, topic string, n int) {
	t.Helper()
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("fetch offsets of %s: %v", group, err)
	}
	var sum int64
	var parts []int32
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic {
			sum += o.At
			parts = append(parts, o.Partition)
		}
	})
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	if sum != int64(n) {
		t.Fatalf("group %s committed %d records over partitions %v, want %d", group, sum, parts, n)
	}
}
