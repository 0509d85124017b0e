package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/readers"
	"github.com/eventwatch/eventwatch/internal/testutil/httpget"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// TestTypesEstateWide: two replicas split a topic whose partitions 0-1
// carry version 1 of a type and 2-3 version 2. Group "all" commits past
// every partition, "v1-only" past partitions 0 and 1. Whichever replica
// samples a partition, the leader's join finds the readers (the
// follower's positions reach it through the shared state), and both
// replicas answer /api/v1/types with the same readers.
func TestTypesEstateWide(t *testing.T) {
	const topic = "huleedu.dev.readers.batch"
	c := kfaketest.Cluster(t, kfake.SeedTopics(4, topic))
	cl := kfaketest.Client(t, c, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	cfgA, cfgB := testConfig(t, c.ListenAddrs()), testConfig(t, c.ListenAddrs())
	cfgA.Share.Interval, cfgB.Share.Interval = time.Second, time.Second
	a := start(t, cfgA, Options{})
	b := start(t, cfgB, Options{})
	v2 := strings.ReplaceAll(goodHuleedu, "pipelines_configured.v1", "pipelines_configured.v2")
	var recs []*kgo.Record
	for i := range 40 {
		p, value := int32(i%4), goodHuleedu
		if p >= 2 {
			value = v2
		}
		value = strings.Replace(value, "1d2f0b7c6e11", fmt.Sprintf("%012d", i), 1) // distinct event ids
		recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: []byte(value)})
	}
	ctx := context.Background()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	commit := func(group string, parts ...int32) {
		os := kadm.Offsets{}
		for _, p := range parts {
			os.Add(kadm.Offset{Topic: topic, Partition: p, At: 10, LeaderEpoch: -1})
		}
		if err := adm.CommitAllOffsets(ctx, group, os); err != nil {
			t.Fatalf("commit %s: %v", group, err)
		}
	}
	commit("all", 0, 1, 2, 3)
	commit("v1-only", 0, 1)
	v1, v2t := "huleedu.batchorchestration.batch.pipelines_configured.v1", "huleedu.batchorchestration.batch.pipelines_configured.v2"
	want := map[string][]string{v1: {"all", "v1-only"}, v2t: {"all"}}
	var last string
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last /api/v1/types: %s", last)
		}
	})
	for _, in := range []*instance{a, b} {
		wait.Within(t, 90*time.Second, "the readers on "+in.url, func() bool {
			code, body := httpget.Get(t, in.url+"/api/v1/types")
			last = body
			var e readers.Estate
			if code != 200 || json.Unmarshal([]byte(body), &e) != nil {
				return false
			}
			for typ, groups := range want {
				tv, ok := e.Find(typ, typ[len(typ)-1:])
				if !ok || tv.Events != 20 || !slices.Equal(readerGroups(tv.Readers), groups) {
					return false
				}
			}
			v1v, _ := e.Find(v1, "1")
			return !v1v.Retirement.Retirable && strings.Contains(v1v.Retirement.Verdict, "v1-only reads it")
		})
	}
	// v1-only moves back on partition 0: a rewind, and 5 of its v1 events unread again.
	os := kadm.Offsets{}
	os.Add(kadm.Offset{Topic: topic, Partition: 0, At: 5, LeaderEpoch: -1})
	if err := adm.CommitAllOffsets(ctx, "v1-only", os); err != nil {
		t.Fatal(err)
	}
	wait.Within(t, 90*time.Second, "the rewind of v1-only", func() bool {
		_, body := httpget.Get(t, a.url+"/api/v1/types?type="+v1)
		last = body
		var e readers.Estate
		if json.Unmarshal([]byte(body), &e) != nil || len(e.Types) != 1 {
			return false
		}
		behind := map[string]int64{}
		for _, r := range e.Types[0].Readers {
			behind[r.Group] = r.BehindEvents
		}
		return slices.ContainsFunc(e.Rewinds, func(r readers.Rewind) bool {
			return r.Group == "v1-only" && r.Partition == 0 && r.From == 10 && r.To == 5
		}) && behind["v1-only"] == 5 && behind["all"] == 0
	})
}

func readerGroups(rs []readers.Reader) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Group
	}
	return out
}
