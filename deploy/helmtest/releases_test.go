package helmtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/bins"
)

// releaseUID is the uid the chart gives generated board base in release
// (templates/_mixin.tpl: base-<8 hex of sha256(namespace/release)>).
func releaseUID(base, release, ns string) string {
	sum := sha256.Sum256([]byte(ns + "/" + release))
	return base + "-" + hex.EncodeToString(sum[:])[:8]
}

// releaseBoard is a generated board as the chart renders it for release:
// its uid and title made unique to the release.
func releaseBoard(text, base, release, ns string) string {
	text = strings.Replace(text, fmt.Sprintf("%q: %q", "uid", base), fmt.Sprintf("%q: %q", "uid", releaseUID(base, release, ns)), 1)
	return strings.Replace(text, `"title": "eventwatch / `, `"title": "eventwatch `+ns+"/"+release+" / ", 1)
}

// TestTwoReleasesNeverCollide renders two releases into one namespace:
// their Kafka groups and topics, dashboard uids, titles and ConfigMap keys
// are disjoint.
func TestTwoReleasesNeverCollide(t *testing.T) {
	helm := requireHelm(t)
	a, b := renderRelease(t, helm, "team-a"), renderRelease(t, helm, "team-b")
	na, nb := kafkaNames(t, a), kafkaNames(t, b)
	for _, n := range na {
		if slices.Contains(nb, n) {
			t.Errorf("both releases use the Kafka name %q", n)
		}
	}
	if len(na) != 6 {
		t.Errorf("release team-a names %v, want six groups and topics", na)
	}
	ua, ub := boardIdentity(t, a), boardIdentity(t, b)
	for _, id := range ua {
		if slices.Contains(ub, id) {
			t.Errorf("both releases have a dashboard with %s", id)
		}
	}
}

// kafkaNames are the groups and topics of a rendered config.yaml.
func kafkaNames(t *testing.T, docs []string) []string {
	t.Helper()
	var cfg struct {
		Sample struct {
			GroupID string `yaml:"group_id"`
		} `yaml:"sample"`
		Leader struct{ Group, Topic string } `yaml:"leader"`
		Share  struct{ Topic string }        `yaml:"share"`
		Trace  struct {
			Routing struct{ Group, Topic string } `yaml:"routing"`
		} `yaml:"trace"`
	}
	for _, o := range find(t, docs, "ConfigMap") {
		if raw, ok := o.Data["config.yaml"]; ok {
			if err := yaml.Unmarshal([]byte(raw), &cfg); err != nil {
				t.Fatal(err)
			}
		}
	}
	var out []string
	for _, n := range []string{cfg.Sample.GroupID, cfg.Leader.Group, cfg.Leader.Topic, cfg.Share.Topic, cfg.Trace.Routing.Group, cfg.Trace.Routing.Topic} {
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// boardIdentity is every uid, title and ConfigMap key of the dashboards.
func boardIdentity(t *testing.T, docs []string) []string {
	t.Helper()
	var out []string
	for key, text := range rawBoards(t, docs) {
		var b struct{ UID, Title string }
		if err := yaml.Unmarshal([]byte(text), &b); err != nil {
			t.Fatal(err)
		}
		out = append(out, "key "+key, "uid "+b.UID, "title "+b.Title)
	}
	return out
}

// TestTwoReleasesRulesLoadTogether loads the two releases' rendered rule
// sets into promtool with the series of both deployments: loaded alone,
// a release's rules write only series of its own job; loaded together,
// every recorded series exists once per release (no rule of one release
// copies the other's series, so Prometheus sees no duplicate or
// out-of-order samples).
func TestTwoReleasesRulesLoadTogether(t *testing.T) {
	helm := requireHelm(t)
	promtool := bins.Require(t, "apt-get install -y prometheus", "promtool")
	dir := t.TempDir()
	releases := []string{"team-a", "team-b"}
	var records []string
	for _, r := range releases {
		docs := renderRelease(t, helm, r)
		job, ns := scrapeLabels(t, docs)
		checkRecordingSelectors(t, docs, map[string]string{"job": job, "namespace": ns})
		spec, recs := ruleSpec(t, docs)
		records = recs
		writeFile(t, filepath.Join(dir, r+".rules.yaml"), spec)
	}
	for _, loaded := range [][]string{{"team-a"}, {"team-b"}, releases} {
		test := rulesTest(loaded, releases, records)
		path := filepath.Join(dir, strings.Join(loaded, "+")+"_test.yaml")
		writeFile(t, path, test)
		if out, err := runCmd(promtool, "test", "rules", path); err != nil {
			t.Errorf("promtool test rules with %v loaded: %v\n%s", loaded, err, out)
		}
	}
}

// checkRecordingSelectors: every selector of every recording rule, the
// recorded series it reads included, selects the release's job and
// namespace — a recording that read another recording without them would
// copy the other release's series into its own group, and two rule groups
// writing one series make Prometheus drop samples as out of order.
func checkRecordingSelectors(t *testing.T, docs []string, want map[string]string) {
	t.Helper()
	var pr struct {
		Spec struct {
			Groups []struct {
				Rules []struct{ Record, Expr string } `yaml:"rules"`
			} `yaml:"groups"`
		} `yaml:"spec"`
	}
	decodeKind(t, docs, "PrometheusRule", &pr)
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			if r.Record == "" {
				continue
			}
			node, err := parser.ParseExpr(r.Expr)
			if err != nil {
				t.Fatalf("%s: %v", r.Record, err)
			}
			for _, sel := range parser.ExtractSelectors(node) {
				checkEqualMatchers(t, r.Record, metricName(sel), sel, want)
			}
		}
	}
}

// ruleSpec is the rendered PrometheusRule's spec as a rule file, and the
// names of its recording rules.
func ruleSpec(t *testing.T, docs []string) ([]byte, []string) {
	t.Helper()
	var pr struct {
		Spec struct {
			Groups []struct {
				Rules []struct{ Record string } `yaml:"rules"`
			} `yaml:"groups"`
		} `yaml:"spec"`
	}
	var raw struct {
		Spec yaml.Node `yaml:"spec"`
	}
	decodeKind(t, docs, "PrometheusRule", &pr)
	decodeKind(t, docs, "PrometheusRule", &raw)
	var recs []string
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				recs = append(recs, r.Record)
			}
		}
	}
	out, err := yaml.Marshal(&raw.Spec)
	if err != nil {
		t.Fatal(err)
	}
	return out, recs
}

// rulesTest is a promtool test: both deployments' series (one service
// owned by a team, with error violations on a topic); for each recording
// rule, the count of its series per job is 1 for each loaded release and
// absent for the others.
func rulesTest(loaded, all, records []string) []byte {
	var in, exp strings.Builder
	for i, r := range all {
		sel := fmt.Sprintf(`job="%s-eventwatch",namespace="%s"`, r, namespace)
		fmt.Fprintf(&in, "      - series: 'eventwatch_service_team_info{%s,instance=\"p%d:9779\",service=\"svc\",team=\"team%d\"}'\n        values: '1x60'\n", sel, i, i)
		fmt.Fprintf(&in, "      - series: 'eventwatch_violations_total{%s,instance=\"p%d:9779\",rule=\"key.missing\",source_service=\"svc\",topic=\"orders\",severity=\"error\"}'\n        values: '0+5x60'\n", sel, i)
	}
	for _, rec := range records {
		fmt.Fprintf(&exp, "      - expr: count by (job) (%s)\n        eval_time: 30m\n        exp_samples:\n", rec)
		for _, r := range loaded {
			fmt.Fprintf(&exp, "          - labels: '{job=\"%s-eventwatch\"}'\n            value: 1\n", r)
		}
	}
	files := make([]string, len(loaded))
	for i, r := range loaded {
		files[i] = r + ".rules.yaml"
	}
	return fmt.Appendf(nil, "rule_files: [%s]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n%s    promql_expr_test:\n%s",
		strings.Join(files, ", "), in.String(), exp.String())
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestTwoReleasesOwnStoreSchemas: two releases given the same PostgreSQL
// secret (one database) render different store.schema values, each a
// valid identifier the daemon accepts; the release named eventwatch keeps
// the default (public); an explicit store.postgres.schema wins.
func TestTwoReleasesOwnStoreSchemas(t *testing.T) {
	helm := requireHelm(t)
	pg := []string{"store.postgres.existingSecret=pg", "replicaCount=2"}
	a, b := storeSchema(t, renderRelease(t, helm, "team-a", pg...)), storeSchema(t, renderRelease(t, helm, "team-b", pg...))
	if a == "" || b == "" || a == b {
		t.Errorf("store schemas %q and %q: want two different ones", a, b)
	}
	for _, s := range []string{a, b} {
		cfg := store.Config{DSN: "postgres://db/ew", Schema: s}
		cfg.SetDefaults()
		if err := cfg.Validate(); err != nil {
			t.Errorf("schema %q: %v", s, err)
		}
	}
	if s := storeSchema(t, renderRelease(t, helm, "eventwatch", pg...)); s != "" {
		t.Errorf("release eventwatch: schema %q, want the default (none)", s)
	}
	if s := storeSchema(t, renderRelease(t, helm, "team-a", append(pg, "store.postgres.schema=reports_a")...)); s != "reports_a" {
		t.Errorf("explicit schema rendered as %q", s)
	}
}

// storeSchema is store.schema of a rendered config.yaml.
func storeSchema(t *testing.T, docs []string) string {
	t.Helper()
	var cfg struct {
		Store struct{ Schema string } `yaml:"store"`
	}
	for _, o := range find(t, docs, "ConfigMap") {
		if raw, ok := o.Data["config.yaml"]; ok {
			if err := yaml.Unmarshal([]byte(raw), &cfg); err != nil {
				t.Fatal(err)
			}
		}
	}
	return cfg.Store.Schema
}
