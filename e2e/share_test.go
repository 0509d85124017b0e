//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/config"
	"github.com/eventwatch/eventwatch/internal/report"
	"github.com/eventwatch/eventwatch/internal/testutil/pgtest"
	"github.com/eventwatch/eventwatch/internal/testutil/realkafka"
)

// shLimit is the max.message.bytes of the shared state topic in
// TestShareSmallMessageLimit: records are cut to a quarter of it.
const shLimit = 4096

// TestShareSmallMessageLimit: a leader and a follower on a real broker
// whose shared state topic takes records of at most 4 KiB. Groups whose
// page entry is larger than a record are written in parts and arrive
// whole; one group too large even in 64 parts is left out — counted on
// the leader (eventwatch_share_omitted_items_total), missing on the
// follower (eventwatch_share_view_missing_items, /readyz) — and every
// other group on the follower equals the leader's; no publication fails
// and no record on the topic is above the limit.
func TestShareSmallMessageLimit(t *testing.T) {
	b := realkafka.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	adm := kadm.NewClient(b.Client(t))
	const stateTopic = "__ew_state_small"
	mustCreate(ctx, t, adm, 1, map[string]*string{"cleanup.policy": ptrTo("compact"), "max.message.bytes": ptrTo(fmt.Sprint(shLimit))}, stateTopic)
	topics := shTopics(ctx, t, adm, 700)
	shCommit(ctx, t, adm, "e2e-share-small-a", topics[:3])   // fits one record
	shCommit(ctx, t, adm, "e2e-share-medium-b", topics[:40]) // several parts
	shCommit(ctx, t, adm, "e2e-share-huge-c", topics)        // more than 64 parts: left out

	leader := dmStart(t, shConfig(t, b.Addr(), stateTopic, "leader"))
	leader.waitMetric(t, "eventwatch_leader", 1)
	follower := dmStart(t, shConfig(t, b.Addr(), stateTopic, "follower"))
	follower.waitReady(t)

	var lg, fg map[string]string
	defer func() {
		if t.Failed() {
			t.Logf("leader groups %d, follower groups %d; follower readyz: %s", len(lg), len(fg), func() string { _, b := follower.get(t, "/readyz"); return b }())
			for k := range lg {
				t.Logf("leader %s: %d bytes, follower %d bytes", k, len(lg[k]), len(fg[k]))
			}
		}
	}()
	dmEventually(t, "the follower holds every group but the huge one, as the leader has them", 90*time.Second, func() bool {
		lg, fg = shGroups(t, leader), shGroups(t, follower)
		if len(lg) != 3 || len(fg) != 2 || fg["e2e-share-huge-c"] != "" {
			return false
		}
		return fg["e2e-share-small-a"] == lg["e2e-share-small-a"] && fg["e2e-share-medium-b"] == lg["e2e-share-medium-b"]
	})
	if n := leader.metric(t, "eventwatch_share_omitted_items_total", `kind="groups"`); n < 1 {
		t.Errorf("omitted items on the leader = %v, want the huge group counted", n)
	}
	if n := leader.metric(t, "eventwatch_share_split_items_total", `kind="groups"`); n < 1 {
		t.Errorf("split items on the leader = %v, want the medium group written in parts", n)
	}
	if n := follower.metric(t, "eventwatch_share_view_missing_items", `kind="groups"`); n != 1 {
		t.Errorf("missing items on the follower = %v, want 1", n)
	}
	if _, body := follower.get(t, "/readyz"); !strings.Contains(body, "1 items missing") {
		t.Errorf("follower /readyz does not name the missing item: %s", body)
	}
	for _, d := range []*dmDaemon{leader, follower} {
		if n := d.metric(t, "eventwatch_share_publish_errors_total"); n != 0 {
			t.Errorf("%s: %v publish errors", d.url, n)
		}
	}
	shCheckRecordSizes(ctx, t, b, stateTopic)
}

func shConfig(t *testing.T, broker, stateTopic, replica string) *config.Config {
	cfg := dmConfig(t, broker, t.TempDir())
	cfg.Sample.TopicsInclude = []string{"nothing-sampled"}
	cfg.Lag.GroupsInclude = []string{"e2e-share-.*"}
	cfg.Share.Topic, cfg.Share.ReplicaID, cfg.Share.Interval = stateTopic, replica, 500*time.Millisecond
	cfg.Leader.Group, cfg.Leader.Topic = "ew-share-small-leader", "__ew_share_small_leader"
	cfg.Sample.GroupID = "ew-share-small"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// shTopics creates n one-partition topics with long names (so a group's
// page entry grows by ~200 bytes per topic) and one record each.
func shTopics(ctx context.Context, t *testing.T, adm *kadm.Client, n int) []string {
	t.Helper()
	topics := make([]string, n)
	for i := range topics {
		topics[i] = fmt.Sprintf("e2e-share.a-topic-name-long-enough-to-weigh-on-the-page-%04d", i)
	}
	mustCreate(ctx, t, adm, 1, nil, topics...)
	return topics
}

// shCommit commits group at offset 0 of every topic (lag 0, nothing
// produced).
func shCommit(ctx context.Context, t *testing.T, adm *kadm.Client, group string, topics []string) {
	t.Helper()
	var os kadm.Offsets
	for _, tp := range topics {
		os.AddOffset(tp, 0, 0, -1)
	}
	if err := adm.CommitAllOffsets(ctx, group, os); err != nil {
		t.Fatal(err)
	}
}

func mustCreate(ctx context.Context, t *testing.T, adm *kadm.Client, parts int32, configs map[string]*string, topics ...string) {
	t.Helper()
	res, err := adm.CreateTopics(ctx, parts, 1, configs, topics...)
	if err == nil {
		err = res.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
}

func ptrTo[T any](v T) *T { return &v }

// shGroups is each group's entry of d's /api/v1/groups (raw JSON).
func shGroups(t *testing.T, d *dmDaemon) map[string]string {
	code, body := d.get(t, "/api/v1/groups")
	if code != 200 {
		return nil
	}
	var p struct {
		Groups []json.RawMessage `json:"groups"`
	}
	if json.Unmarshal([]byte(body), &p) != nil {
		return nil
	}
	out := map[string]string{}
	for _, g := range p.Groups {
		var id struct {
			Group string `json:"group"`
		}
		_ = json.Unmarshal(g, &id)
		out[id.Group] = string(g)
	}
	return out
}

// shCheckRecordSizes reads the whole state topic: no record value is
// above a quarter of its max.message.bytes.
func shCheckRecordSizes(ctx context.Context, t *testing.T, b *realkafka.Broker, topic string) {
	t.Helper()
	cl := b.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup(topic, 0)
	largest, n := 0, int64(0)
	for n < end.Offset && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { n++; largest = max(largest, len(r.Value)) })
	}
	if largest > shLimit/4 {
		t.Errorf("largest record value %d bytes, above the budget %d", largest, shLimit/4)
	}
	t.Logf("%s: %d records, largest value %d bytes", topic, n, largest)
}

// relNames are the Kafka names the chart derives for a release whose
// full name is f (deploy/helm/eventwatch/templates/_helpers.tpl).
func relNames(cfg *config.Config, f string) {
	cfg.Sample.GroupID = f
	cfg.Leader.Group, cfg.Leader.Topic = f+"-leader", "__"+f+"_leader"
	cfg.Trace.Routing.Group, cfg.Trace.Routing.Topic = f+"-trace", "__"+f+"_hops"
	cfg.Share.Topic = "__" + f + "_state"
}

// TestTwoReleasesOneBroker: two daemons named as the chart names releases
// team-a and team-b, against one real broker and one real PostgreSQL
// database (each in the schema the chart derives for it), both watching
// one topic and team-b a second one too: each leads its own election,
// samples every partition in its own group, counts exactly its own
// records in its own report (in one schema, team-a's report would hold
// team-b's second topic too) and shares its own groups view.
func TestTwoReleasesOneBroker(t *testing.T) {
	b := realkafka.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	adm := kadm.NewClient(b.Client(t))
	const topic, records = "huleedu.e2e.releases.v1", 60
	const onlyB, recordsB = "huleedu.e2e.releasesb.v1", 25
	mustCreate(ctx, t, adm, 4, nil, topic, onlyB)
	var recs []*kgo.Record
	for i := range records + recordsB {
		ev := fmt.Sprintf(`{"event_id":%q,"event_type":"huleedu.e2e.release.created.v1","event_timestamp":%q,"source_service":"rel_service","correlation_id":%q,"data":{}}`,
			uuid.NewString(), time.Now().UTC().Format(time.RFC3339Nano), uuid.NewString())
		to := topic
		if i >= records {
			to = onlyB
		}
		recs = append(recs, &kgo.Record{Topic: to, Key: []byte(fmt.Sprint(i)), Value: []byte(ev)})
	}
	if err := b.Client(t).ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var ds []*dmDaemon
	dsn := pgtest.DSN(t)
	include := map[string][]string{"team-a": {`huleedu\.e2e\.releases\..*`}, "team-b": {`huleedu\.e2e\.releases\..*`, `huleedu\.e2e\.releasesb\..*`}}
	for _, rel := range []string{"team-a", "team-b"} {
		cfg := dmConfig(t, b.Addr(), t.TempDir())
		relNames(cfg, rel+"-eventwatch")
		cfg.Store.DSN, cfg.Store.Schema = dsn, strings.ReplaceAll(rel, "-", "_")+"_eventwatch" // as the chart derives it
		cfg.Sample.TopicsInclude = include[rel]
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, dmStart(t, cfg))
	}
	week := report.WeekOf(time.Now(), time.UTC).String()
	want := []int64{records, records + recordsB}
	for i, d := range ds {
		d.waitMetric(t, "eventwatch_leader", 1)
		d.waitMetric(t, "eventwatch_records_checked_total", float64(want[i]))
	}
	for i := len(ds) - 1; i >= 0; i-- { // team-b's rows are stored before team-a's report is judged
		d := ds[i]
		var checked int64
		dmEventually(t, fmt.Sprintf("release %d's weekly report counts its %d records", i, want[i]), 90*time.Second, func() bool {
			_, body := d.get(t, "/api/v1/reports/weekly?format=json&week="+week)
			var r struct {
				Summary struct{ Checked int64 } `json:"summary"`
			}
			if json.Unmarshal([]byte(body), &r) != nil {
				return false
			}
			checked = r.Summary.Checked
			return checked >= want[i]
		})
		if checked != want[i] {
			t.Errorf("release %d's report counts %d records, want exactly its own %d", i, checked, want[i])
		}
	}
	groups, err := adm.ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"team-a-eventwatch", "team-b-eventwatch", "team-a-eventwatch-leader", "team-b-eventwatch-leader"} {
		if _, ok := groups[g]; !ok {
			t.Errorf("group %s does not exist: %v", g, groups.Groups())
		}
	}
}
