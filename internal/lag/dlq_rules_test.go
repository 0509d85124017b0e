package lag_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/eventwatch/eventwatch/internal/lag"
)

var update = flag.Bool("update", false, "rewrite golden files")

const day = 24 * time.Hour

// estate builds the cluster the DLQ, rules, golden and HTTP tests share:
// two services, one with a dead-letter topic fed during the test, a topic
// with a short retention, an indexer that consumes and a fulfilment group
// the catalog expects but that never consumed.
func estate(t *testing.T) (*fixture, *lag.Collector, prometheus.Gatherer) {
	f := newFixture(t, nil)
	f.createTopic("content.events", 2, map[string]*string{"retention.ms": kadm.StringPtr("86400000")})
	f.createTopic("content.deadletter", 1, map[string]*string{"retention.ms": kadm.StringPtr("604800000")})
	f.createTopic("orders.placed", 1, map[string]*string{"retention.ms": kadm.StringPtr("604800000")})
	exp := lag.Expectations{
		MinReplicationFactor: 1, MinRetention: 7 * day, MinBrokers: 4, DLQRetention: 30 * day,
		ExpectedConsumers: map[string][]string{"content.events": {"indexer"}, "orders.placed": {"fulfilment"}},
		ProducingServices: func() []string { return []string{"content", "orders"} },
	}
	c, reg := f.virtualCollector(testConfig(), exp, time.Minute) // cycles a minute apart: the stopped indexer is STOP
	f.produce("content.events", 0, 8)
	f.produce("content.events", 1, 2)
	f.produce("orders.placed", 0, 5)
	f.produce("content.deadletter", 0, 3)
	f.commit("indexer", map[string]map[int32]int64{"content.events": {0: 5, 1: 2}})
	if err := c.CollectOnce(f.ctx()); err != nil {
		t.Fatalf("first cycle: %v", err)
	}
	f.produce("content.deadletter", 0, 2) // the DLQ grows between cycles
	f.deleteBefore("content.deadletter", 0, 1)
	if err := c.CollectOnce(f.ctx()); err != nil {
		t.Fatalf("second cycle: %v", err)
	}
	return f, c, reg
}

func TestDLQAndClusterRules(t *testing.T) {
	_, c, _ := estate(t)
	snap := c.Snapshot()
	want := []lag.DLQ{{Topic: "content.deadletter", SourceService: "content", DepthRecords: 4, Records: 5,
		NewRecords: 2, RetentionSeconds: 7 * 86400}}
	if len(snap.DLQs) != 1 || snap.DLQs[0] != want[0] {
		t.Fatalf("DLQs = %+v\nwant %+v", snap.DLQs, want)
	}
	var got []string
	for _, v := range snap.Violations {
		got = append(got, v.Rule+" "+v.Resource+" "+v.Severity)
	}
	wantRules := []string{
		"catalog.no_consumer fulfilment@orders.placed warning",
		"cluster.min_brokers cluster error",
		"dlq.missing orders warning",
		"dlq.retention content.deadletter warning",
		"topic.retention content.events warning",
	}
	if strings.Join(got, "\n") != strings.Join(wantRules, "\n") {
		t.Fatalf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantRules, "\n"))
	}
}

// TestExpositionGolden compares the collector's exposition (minus time-
// dependent series) with testdata/estate.golden.prom; -update rewrites it.
func TestExpositionGolden(t *testing.T) {
	_, _, reg := estate(t)
	names := []string{
		"eventwatch_consumergroup_lag_records", "eventwatch_consumergroup_status", "eventwatch_consumergroup_members",
		"eventwatch_consumergroup_info", "eventwatch_consumergroup_lag_objective_seconds", "eventwatch_dlq_depth_records",
		"eventwatch_dlq_records_total", "eventwatch_dlq_new_records", "eventwatch_dlq_retention_seconds",
		"eventwatch_cluster_brokers", "eventwatch_cluster_rule_violations", "eventwatch_collector_success",
	}
	golden := filepath.Join("testdata", "estate.golden.prom")
	if *update {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		for _, mf := range mfs {
			for _, n := range names {
				if mf.GetName() == n {
					writeFamily(t, &buf, mf)
				}
			}
		}
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if err := testutil.GatherAndCompare(reg, bytes.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
}

func TestGroupsAPI(t *testing.T) {
	f, c, _ := estate(t)
	mux := http.NewServeMux()
	c.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	var page struct {
		Groups []map[string]any `json:"groups"`
		DLQs   []lag.DLQ        `json:"dlqs"`
	}
	getJSON(t, srv.URL+"/api/v1/groups", http.StatusOK, &page)
	if len(page.Groups) != 1 || page.Groups[0]["group"] != "indexer" || page.Groups[0]["why"] == "" {
		t.Fatalf("groups = %+v", page.Groups)
	}
	if page.Groups[0]["status"] != "ERR" || page.Groups[0]["status_cause"] != "STOP" || page.Groups[0]["members"] != 0.0 || len(page.DLQs) != 1 {
		t.Fatalf("groups page = %+v", page)
	}
	var g struct {
		LagRecords int64 `json:"lag_records"`
		Topics     []struct {
			Partitions []struct {
				Partition  int32    `json:"partition"`
				LagRecords int64    `json:"lag_records"`
				LagSeconds *float64 `json:"lag_seconds"`
				Source     string   `json:"lag_seconds_source"`
				Status     string   `json:"status"`
				Reason     string   `json:"reason"`
				TimeToLoss *float64 `json:"time_to_loss_seconds"`
			} `json:"partitions"`
		} `json:"topics"`
	}
	getJSON(t, srv.URL+"/api/v1/groups/indexer", http.StatusOK, &g)
	want, parts := f.wantLag("indexer", "content.events")
	if g.LagRecords != want || len(g.Topics) != 1 || len(g.Topics[0].Partitions) != len(parts) {
		t.Fatalf("indexer = %+v, want lag %d over %d partitions", g, want, len(parts))
	}
	for _, p := range g.Topics[0].Partitions {
		if p.LagRecords != parts[p.Partition] || p.LagSeconds == nil || (p.LagRecords == 0) != (*p.LagSeconds == 0) {
			t.Errorf("partition %+v, want lag %d and a time lag that is 0 exactly when caught up", p, parts[p.Partition])
		}
		// the records were stamped 1 s after the virtual start; the
		// second cycle starts 120 s after it: exact time lag 119 s
		if p.LagRecords > 0 && (p.Source != "exact" || *p.LagSeconds != 119 || p.Status != "STOP" || p.Reason != "stopped" ||
			p.TimeToLoss == nil || *p.TimeToLoss != 86400-119) {
			t.Errorf("partition %+v, want exact time lag 119 s, STOP (stopped), time to loss 86281 s", p)
		}
	}
	var unknown struct {
		Error   string   `json:"error"`
		Kind    string   `json:"kind"`
		Nearest []string `json:"nearest"`
		Known   []string `json:"known"`
	}
	getJSON(t, srv.URL+"/api/v1/groups/indexr", http.StatusNotFound, &unknown)
	if unknown.Kind != "group" || strings.Join(unknown.Nearest, ",") != "indexer" || !strings.HasPrefix(unknown.Error, `unknown group "indexr"; did you mean indexer?`) {
		t.Errorf("a typo of a watched group: %+v", unknown)
	}
	getJSON(t, srv.URL+"/api/v1/groups/nobody", http.StatusNotFound, &unknown)
	if strings.Join(unknown.Known, ",") != "indexer" || !strings.HasPrefix(unknown.Error, `unknown group "nobody"; known groups: indexer`) {
		t.Errorf("an unknown group: %+v", unknown)
	}
}

func getJSON(t *testing.T, url string, code int, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != code || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s: %s %s, want %d JSON", url, resp.Status, resp.Header.Get("Content-Type"), code)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("decode %s: %v", url, err)
	}
}

// TestDLQSourceTopic maps a per-topic DLQ back to its topic and service.
func TestDLQSourceTopic(t *testing.T) {
	f := newFixture(t, map[string]int32{"orders.placed": 1, "orders.placed.dlq": 1, "billing-dlq": 1})
	f.produce("orders.placed.dlq", 0, 2)
	for _, tt := range []struct {
		name    string
		exp     lag.Expectations
		service string
	}{
		{"first segment", lag.Expectations{}, "orders"},
		{"catalog", lag.Expectations{ServiceOfTopic: func(topic string) string {
			if topic == "orders.placed" {
				return "checkout"
			}
			return "" // billing-dlq keeps its base name
		}}, "checkout"},
	} {
		c, _ := f.collector(testConfig(), tt.exp)
		if err := c.CollectOnce(f.ctx()); err != nil {
			t.Fatal(err)
		}
		want := []lag.DLQ{
			{Topic: "billing-dlq", SourceService: "billing"},
			{Topic: "orders.placed.dlq", SourceService: tt.service, SourceTopic: "orders.placed", DepthRecords: 2, Records: 2},
		}
		got := slices.Clone(c.Snapshot().DLQs) // snapshots are immutable
		for i := range got {
			got[i].RetentionSeconds = 0 // kfake's default, not under test
		}
		if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("%s: DLQs = %+v\nwant %+v", tt.name, got, want)
		}
	}
}
