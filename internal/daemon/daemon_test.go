package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/config"
	"github.com/eventwatch/eventwatch/internal/testutil/httpget"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

const goodHuleedu = `{"event_id":"3f1c2a9e-8a51-4d3b-9a53-1d2f0b7c6e11","event_type":"huleedu.batchorchestration.batch.pipelines_configured.v1","event_timestamp":"2026-01-05T10:00:00Z","source_service":"batch_orchestrator_service","correlation_id":"9b0e7d1c-2f4a-4c2e-8d6b-5a4f3e2d1c0b","data":{"batch_id":"b-1"}}`

// TestRunEndToEnd: records with known violations become metric counts,
// /readyz turns 200, the only replica leads and serves lag, and a cancelled
// context shuts everything down cleanly.
func TestRunEndToEnd(t *testing.T) {
	topic := "huleedu.dev.batchorchestration.batch"
	c, cfg := kfakeConfig(t, kfake.SeedTopics(3, topic))
	cl := kfaketest.Client(t, c)
	in := start(t, cfg, Options{Version: "test"})

	in.waitOK(t, "/readyz")
	if code, _ := httpget.Get(t, in.url+"/healthz"); code != 200 {
		t.Fatalf("healthz = %d", code)
	}
	ctx := context.Background()
	recs := []*kgo.Record{
		{Topic: topic, Value: []byte(goodHuleedu)},
		{Topic: topic, Value: []byte("\x00\x01junk")},
		{Topic: topic, Value: []byte(`{"event_type":"huleedu.batchorchestration.batch.configure_pipelines.v1"}`)},
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	wait.Within(t, 30*time.Second, "3 records checked", func() bool {
		return metric(t, in.url, "eventwatch_records_checked_total", `topic="`+topic+`"`) == 3
	})
	if got := metric(t, in.url, "eventwatch_violations_total", `rule="envelope.invalid_json"`); got != 1 {
		t.Errorf("envelope.invalid_json = %v, want 1", got)
	}
	if got := metric(t, in.url, "eventwatch_violations_total", `rule="naming.action_tense"`); got != 1 {
		t.Errorf("naming.action_tense = %v, want 1", got)
	}
	if got := metric(t, in.url, "eventwatch_records_compliant_total", `topic="`+topic+`"`); got != 1 {
		t.Errorf("compliant = %v, want 1", got)
	}
	wait.Within(t, 30*time.Second, "leadership and lag API", func() bool {
		code, _ := httpget.Get(t, in.url+"/api/v1/groups")
		return metric(t, in.url, "eventwatch_leader") == 1 && code == 200
	})
	for _, name := range []string{"eventwatch_build_info", "eventwatch_kafka_up", "go_goroutines", "process_resident_memory_bytes", "eventwatch_config_last_reload_successful"} {
		if _, body := httpget.Get(t, in.url+"/metrics"); !strings.Contains(body, "\n"+name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if err := in.stop(t); err != nil {
		t.Fatalf("Run returned %v on shutdown", err)
	}
}

// TestReadyzWhileKafkaUnreachable: no broker behind the address means 503
// with the reason, kafka_up 0, and still a clean shutdown.
func TestReadyzWhileKafkaUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := testConfig(t, []string{addr})
	cfg.Kafka.ProbeTimeout = time.Second
	cfg.Kafka.DialTimeout = time.Second
	in := start(t, cfg, Options{})
	var body string
	wait.Within(t, 30*time.Second, "a probe result", func() bool {
		var code int
		code, body = httpget.Get(t, in.url+"/readyz")
		return code == http.StatusServiceUnavailable && !strings.Contains(body, "not probed yet")
	})
	if !strings.HasPrefix(body, "not ready: kafka: ") {
		t.Fatalf("readyz body = %q", body)
	}
	if got := metric(t, in.url, "eventwatch_kafka_up"); got != 0 {
		t.Fatalf("kafka_up = %v", got)
	}
	if code, body := httpget.Get(t, in.url+"/api/v1/groups"); code != http.StatusServiceUnavailable ||
		!strings.Contains(body, "Kafka is unreachable") || strings.Contains(body, "lead") {
		t.Fatalf("/api/v1/groups with Kafka down = %d %q, want 503 saying Kafka is unreachable", code, body)
	}
	if code, _ := httpget.Get(t, in.url+"/api/v1/flows"); code != http.StatusOK {
		t.Fatalf("/api/v1/flows with Kafka down = %d, want this replica's flows", code)
	}
	if code, _ := httpget.Get(t, in.url+"/healthz"); code != 200 {
		t.Fatalf("healthz = %d while kafka is down", code)
	}
	if err := in.stop(t); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// TestWrongPassword: bad SASL credentials keep the daemon up and not ready,
// with a reason that names the credentials.
func TestWrongPassword(t *testing.T) {
	_, cfg := kfakeConfig(t, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "watcher", "right"))
	cfg.Kafka.SASL.Mechanism = "SCRAM-SHA-256"
	cfg.Kafka.SASL.Username = "watcher"
	cfg.Kafka.SASL.Password = "wrong"
	in := start(t, cfg, Options{})
	var body string
	wait.Within(t, 30*time.Second, "a probe result", func() bool {
		_, body = httpget.Get(t, in.url+"/readyz")
		return strings.Contains(body, "kafka: ") && !strings.Contains(body, "not probed yet")
	})
	if !strings.Contains(body, "credentials") && !strings.Contains(body, "authentication") {
		t.Fatalf("readyz body = %q, want a credentials reason", body)
	}
	if code, _ := httpget.Get(t, in.url+"/healthz"); code != 200 {
		t.Fatalf("healthz = %d", code)
	}
}

// TestReload: SIGHUP (a value on Reload) with a broken file keeps running
// and sets the reload metric to 0; a fixed file sets it back to 1.
func TestReload(t *testing.T) {
	c := kfaketest.Cluster(t)
	file := filepath.Join(t.TempDir(), "eventwatch.yaml")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	good := "kafka:\n  brokers: [" + strings.Join(c.ListenAddrs(), ", ") + "]\ndata_dir: " + t.TempDir() + "\n"
	write(good)
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	reload := make(chan struct{})
	in := start(t, cfg, Options{ConfigPath: file, Reload: reload})
	in.waitOK(t, "/healthz")
	write(good + "audit:\n  profile: acme\n")
	reload <- struct{}{}
	wait.Within(t, 30*time.Second, "reload failure metric", func() bool {
		return metric(t, in.url, "eventwatch_config_last_reload_successful") == 0
	})
	write(good + "audit:\n  profile: authorworks\n")
	reload <- struct{}{}
	wait.Within(t, 30*time.Second, "reload success metric", func() bool {
		return metric(t, in.url, "eventwatch_config_last_reload_successful") == 1
	})
}

// TestTwoReplicasOneExportsLag: two daemons on one cluster split the
// sampling, exactly one leads and exports the consumer group series, and
// when it stops the other takes over.
func TestTwoReplicasOneExportsLag(t *testing.T) {
	topic := "huleedu.dev.replicas.batch"
	c := kfaketest.Cluster(t, kfake.SeedTopics(4, topic))
	cl := kfaketest.Client(t, c)
	var offs kadm.Offsets // a user's group: eventwatch's own groups are not reported
	offs.AddOffset(topic, 0, 0, -1)
	if err := kadm.NewClient(cl).CommitAllOffsets(context.Background(), "billing", offs); err != nil {
		t.Fatal(err)
	}
	a := start(t, testConfig(t, c.ListenAddrs()), Options{})
	b := start(t, testConfig(t, c.ListenAddrs()), Options{})
	exportsLag := func(in *instance) bool {
		_, body := httpget.Get(t, in.url+"/metrics")
		return strings.Contains(body, "eventwatch_consumergroup_status{")
	}
	wait.Within(t, 60*time.Second, "one leader exporting lag", func() bool {
		return metric(t, a.url, "eventwatch_leader")+metric(t, b.url, "eventwatch_leader") == 1 && (exportsLag(a) || exportsLag(b))
	})
	leader, follower := a, b
	if metric(t, b.url, "eventwatch_leader") == 1 {
		leader, follower = b, a
	}
	if exportsLag(follower) {
		t.Fatal("the follower exports consumer group series too")
	}
	groups := func(in *instance) (int, []string) {
		code, body := httpget.Get(t, in.url+"/api/v1/groups")
		var page struct {
			Groups []struct {
				Group string `json:"group"`
			} `json:"groups"`
		}
		_ = json.Unmarshal([]byte(body), &page)
		var names []string
		for _, g := range page.Groups {
			names = append(names, g.Group)
		}
		return code, names
	}
	wait.Within(t, 60*time.Second, "the follower answers /api/v1/groups with the leader's groups", func() bool {
		lc, lg := groups(leader)
		fc, fg := groups(follower)
		return lc == http.StatusOK && fc == http.StatusOK && len(lg) > 0 && slices.Equal(lg, fg)
	})
	var recs []*kgo.Record
	for range 20 {
		recs = append(recs, &kgo.Record{Topic: topic, Value: []byte(goodHuleedu)})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	sel := `topic="` + topic + `"`
	wait.Within(t, 60*time.Second, "20 records checked across replicas", func() bool {
		return metric(t, a.url, "eventwatch_records_checked_total", sel)+metric(t, b.url, "eventwatch_records_checked_total", sel) == 20
	})
	if err := leader.stop(t); err != nil {
		t.Fatalf("stop leader: %v", err)
	}
	wait.Within(t, 60*time.Second, "hand-over", func() bool {
		return metric(t, follower.url, "eventwatch_leader") == 1 && exportsLag(follower)
	})
}

// TestReportGetsClusterNumbers: the leader's DLQ growth reaches the weekly
// report through the daemon's cluster source.
func TestReportGetsClusterNumbers(t *testing.T) {
	dlq := "orders.deadletter"
	c := kfaketest.Cluster(t, kfake.SeedTopics(1, dlq))
	cl := kfaketest.Client(t, c)
	in := start(t, testConfig(t, c.ListenAddrs()), Options{})
	wait.Within(t, 60*time.Second, "the leader's DLQ snapshot", func() bool {
		_, body := httpget.Get(t, in.url+"/metrics")
		return strings.Contains(body, `eventwatch_dlq_depth_records{`)
	})
	y, w := time.Now().UTC().ISOWeek()
	url := fmt.Sprintf("%s/api/v1/reports/weekly?week=%d-W%02d&format=json", in.url, y, w)
	produced := 0
	var growth int64
	wait.Within(t, 60*time.Second, "DLQ growth in the weekly report", func() bool {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: dlq, Value: []byte(`{"error":"x"}`)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		produced++
		_, body := httpget.Get(t, url)
		var rep struct {
			DLQ []struct {
				Topic  string `json:"topic"`
				Growth int64  `json:"growth"`
			} `json:"dlq"`
		}
		if json.Unmarshal([]byte(body), &rep) != nil {
			return false
		}
		for _, d := range rep.DLQ {
			if d.Topic == dlq {
				growth = d.Growth
			}
		}
		return growth > 0
	})
	if growth > int64(produced) {
		t.Fatalf("report says %s grew by %d, but only %d records were produced", dlq, growth, produced)
	}
}

// TestTwoReplicasShareFlows: chains whose events two replicas sample
// between them are stitched once (routed by chain) and both replicas
// answer /api/v1/flows with the same estate-wide report.
func TestTwoReplicasShareFlows(t *testing.T) {
	topics := []string{"huleedu.dev.flows.batch", "huleedu.dev.flows.essay"}
	c := kfaketest.Cluster(t, kfake.SeedTopics(4, topics...))
	cl := kfaketest.Client(t, c)
	cfgFor := func() *config.Config {
		cfg := testConfig(t, c.ListenAddrs())
		cfg.Trace.Window = 2 * time.Second
		cfg.Trace.Routing.Partitions = 4
		cfg.Share.Interval = 200 * time.Millisecond
		cfg.Share.StaleAfter = 5 * time.Second
		return cfg
	}
	a, b := start(t, cfgFor(), Options{}), start(t, cfgFor(), Options{})
	wait.Within(t, 60*time.Second, "both replicas sample and stitch", func() bool {
		return metric(t, a.url, "eventwatch_sampler_assigned_partitions") > 0 && metric(t, b.url, "eventwatch_sampler_assigned_partitions") > 0 &&
			metric(t, a.url, "eventwatch_trace_routing_partitions")+metric(t, b.url, "eventwatch_trace_routing_partitions") == 4
	})
	const chains = 12
	var recs []*kgo.Record
	for i := range chains {
		corr := fmt.Sprintf("9b0e7d1c-2f4a-4c2e-8d6b-%012d", i)
		for hop, svc := range []string{"batch_orchestrator_service", "essay_lifecycle_service"} {
			v := fmt.Sprintf(`{"event_id":"3f1c2a9e-8a51-4d3b-9a53-%06d%06d","event_type":"huleedu.batchorchestration.batch.pipelines_configured.v1","event_timestamp":"%s","source_service":%q,"correlation_id":%q,"data":{}}`,
				i, hop, time.Now().UTC().Add(time.Duration(hop)*time.Second).Format(time.RFC3339), svc, corr)
			recs = append(recs, &kgo.Record{Topic: topics[hop], Key: []byte(fmt.Sprintf("k%d-%d", i, hop)), Value: []byte(v)})
		}
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	flows := func(in *instance) (uint64, map[string]uint64) {
		_, body := httpget.Get(t, in.url+"/api/v1/flows")
		var r struct {
			Closed   uint64 `json:"closed_chains"`
			Pathways []struct {
				Pathway string `json:"pathway"`
				Count   uint64 `json:"count"`
			} `json:"pathways"`
		}
		_ = json.Unmarshal([]byte(body), &r)
		m := map[string]uint64{}
		for _, p := range r.Pathways {
			m[p.Pathway] = p.Count
		}
		return r.Closed, m
	}
	want := map[string]uint64{"batch_orchestrator_service>essay_lifecycle_service": chains}
	wait.Within(t, 60*time.Second, "both replicas report every chain once", func() bool {
		ca, pa := flows(a)
		cb, pb := flows(b)
		return ca == chains && cb == chains && fmt.Sprint(pa) == fmt.Sprint(want) && fmt.Sprint(pb) == fmt.Sprint(want)
	})
	if sa, sb := metric(t, a.url, "eventwatch_trace_chains_closed_total"), metric(t, b.url, "eventwatch_trace_chains_closed_total"); sa+sb != chains {
		t.Errorf("chains closed across replicas = %v + %v, want %d in all", sa, sb, chains)
	}
}

// TestOwnTopicsNeverSampled: with topics_exclude emptied, eventwatch's own
// routing, state and leader topics are still not sampled.
func TestOwnTopicsNeverSampled(t *testing.T) {
	c, cfg := kfakeConfig(t, kfake.SeedTopics(1, "huleedu.dev.own.batch"))
	cfg.Sample.TopicsExclude = []string{}
	in := start(t, cfg, Options{})
	wait.Within(t, 60*time.Second, "the routing topic exists and the user topic is sampled", func() bool {
		return metric(t, in.url, "eventwatch_trace_routing_partitions") > 0 && metric(t, in.url, "eventwatch_sampler_assigned_partitions") > 0
	})
	// Once all of eventwatch's own topics exist, a user topic created after
	// them being sampled shows that the sampler re-listed the topics since.
	own := []string{cfg.Trace.Routing.Topic, cfg.Share.Topic, cfg.Leader.Topic}
	cl := kfaketest.Client(t, c)
	adm := kadm.NewClient(cl)
	wait.Within(t, 60*time.Second, fmt.Sprintf("eventwatch's own topics %v to exist", own), func() bool {
		td, err := adm.ListTopics(context.Background(), own...)
		return err == nil && len(td.Names()) == len(own)
	})
	const later = "huleedu.dev.own.later"
	if _, err := adm.CreateTopic(context.Background(), 1, 1, nil, later); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: later, Value: []byte(goodHuleedu)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	wait.Within(t, 60*time.Second, "the topic created after eventwatch's own ones to be sampled", func() bool {
		return metric(t, in.url, "eventwatch_records_checked_total", `topic="`+later+`"`) == 1
	})
	_, body := httpget.Get(t, in.url+"/metrics")
	for _, topic := range own {
		if strings.Contains(body, `topic="`+topic+`"`) {
			t.Errorf("eventwatch samples its own topic %s", topic)
		}
	}
	if n := metric(t, in.url, "eventwatch_sampler_assigned_partitions"); n != 2 {
		t.Errorf("assigned partitions = %v, want only the user topics' 2", n)
	}
}
