package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/eventwatch/eventwatch/internal/metrics"
	"github.com/eventwatch/eventwatch/internal/testutil/bins"
)

var metricNameRE = regexp.MustCompile(`eventwatch_[a-z0-9_]+`)

func TestBoardsHaveStableUniqueIDs(t *testing.T) {
	uids := map[string]bool{}
	for _, b := range Boards(DefaultOptions()) {
		if uids[b.UID] {
			t.Errorf("board uid %s repeated", b.UID)
		}
		uids[b.UID] = true
		ids := map[uint32]string{}
		for _, r := range b.Rows {
			claim(t, b, ids, r.ID, "row "+r.Title)
			for _, p := range r.Panels {
				claim(t, b, ids, p.ID, p.Title)
				checkPanel(t, b, p)
			}
		}
	}
}

func claim(t *testing.T, b Board, ids map[uint32]string, id uint32, what string) {
	t.Helper()
	if id == 0 {
		t.Errorf("%s: %q has no id", b.UID, what)
	}
	if prev, dup := ids[id]; dup {
		t.Errorf("%s: id %d used by %q and %q", b.UID, id, prev, what)
	}
	ids[id] = what
}

func checkPanel(t *testing.T, b Board, p Panel) {
	t.Helper()
	if len(p.Queries) == 0 || p.Title == "" || p.Description == "" {
		t.Errorf("%s panel %d: needs a title, a description and at least one query", b.UID, p.ID)
	}
	if w, _ := p.size(); w > gridWidth {
		t.Errorf("%s panel %d: width %d exceeds the grid", b.UID, p.ID, w)
	}
	if (p.Kind == Table || p.Kind == BarGauge) && !allInstant(p) {
		t.Errorf("%s panel %d: %s panels must use instant queries", b.UID, p.ID, p.Kind)
	}
}

func allInstant(p Panel) bool {
	for _, q := range p.Queries {
		if !q.Instant {
			return false
		}
	}
	return true
}

func TestQueriesReferenceCataloguedMetrics(t *testing.T) {
	known := map[string]bool{}
	for _, s := range metrics.All() {
		known[s.Name] = true
		if s.Kind == metrics.Histogram {
			for _, suf := range []string{"_bucket", "_count", "_sum"} {
				known[s.Name+suf] = true
			}
		}
	}
	for _, b := range Boards(DefaultOptions()) {
		b.EachQuery(func(p Panel, ref string, q Query) {
			names := metricNameRE.FindAllString(q.Expr, -1)
			if len(names) == 0 && !strings.HasPrefix(Expand(q.Expr, "", ""), "sum(up{") {
				t.Errorf("%s panel %d %s: expression names no eventwatch metric: %s", b.UID, p.ID, ref, q.Expr)
			}
			for _, n := range names {
				if !known[n] {
					t.Errorf("%s panel %d %s: %s is not in the metrics catalogue", b.UID, p.ID, ref, n)
				}
			}
			for _, v := range []string{"$topic", "$group", "$service"} {
				if strings.Contains(q.Expr, v) && !hasVariable(b, v[1:]) {
					t.Errorf("%s panel %d: uses %s but the board has no such variable", b.UID, p.ID, v)
				}
			}
		})
	}
}

func hasVariable(b Board, name string) bool {
	for _, v := range b.Variables {
		if v.Name == name {
			return true
		}
	}
	return false
}

// TestQueriesParseWithPromtool embeds every panel query, with the template
// variables expanded, in a throwaway rule file and has promtool parse it.
func TestQueriesParseWithPromtool(t *testing.T) {
	promtool := bins.Require(t, "apt-get install prometheus", "promtool")
	var rules bytes.Buffer
	rules.WriteString("groups:\n")
	n := 0
	for _, b := range Boards(DefaultOptions()) {
		fmt.Fprintf(&rules, "  - name: %s\n    rules:\n", b.UID)
		b.EachQuery(func(p Panel, ref string, q Query) {
			n++
			expr, _ := json.Marshal(Expand(q.Expr, "5m", "1h"))
			fmt.Fprintf(&rules, "      - record: eventwatch_dashboard_check_%d\n        expr: %s\n        labels: {panel: %q}\n",
				n, expr, fmt.Sprintf("%s/%d/%s", b.UID, p.ID, ref))
		})
	}
	for _, v := range allVariables() {
		n++
		fmt.Fprintf(&rules, "  - name: variable-%d\n    rules:\n      - record: eventwatch_dashboard_check_%d\n        expr: %s\n", n, n, v.Spec.Name)
	}
	path := filepath.Join(t.TempDir(), "panels.rules.yaml")
	if err := os.WriteFile(path, rules.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s\nrules:\n%s", err, out, rules.String())
	}
	if !strings.Contains(string(out), fmt.Sprintf("%d rules found", n)) {
		t.Fatalf("promtool did not check all %d expressions:\n%s", n, out)
	}
}

func allVariables() []Variable {
	var out []Variable
	for _, b := range Boards(DefaultOptions()) {
		out = append(out, b.Variables...)
	}
	return out
}

func TestRenderIsDeterministicAndRoundTrips(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for _, b := range Boards(DefaultOptions()) {
		first, err := Render(b)
		if err != nil {
			t.Fatal(err)
		}
		second, err := Render(b)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("%s: two renders differ", b.UID)
		}
		var d dashboard.Dashboard
		if err := d.UnmarshalJSONStrict(first); err != nil {
			t.Fatalf("%s: rendered JSON does not load back strictly: %v", b.UID, err)
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("%s: rendered dashboard is invalid: %v", b.UID, err)
		}
		checkRendered(t, b, d)
	}
}

func checkRendered(t *testing.T, b Board, d dashboard.Dashboard) {
	t.Helper()
	want := 0
	for _, r := range b.Rows {
		want += 1 + len(r.Panels)
	}
	if len(d.Panels) != want {
		t.Errorf("%s: %d panels rendered, want %d", b.UID, len(d.Panels), want)
	}
	if d.Uid == nil || *d.Uid != b.UID {
		t.Errorf("%s: uid not rendered", b.UID)
	}
	if got := len(d.Templating.List); got != 1+len(b.Variables) {
		t.Errorf("%s: %d template variables rendered, want datasource + %d", b.UID, got, len(b.Variables))
	}
}

// TestCommittedDashboardsAreFresh compares dashboards/*.json with a fresh
// render: the committed files are what users import.
func TestCommittedDashboardsAreFresh(t *testing.T) {
	for _, b := range Boards(DefaultOptions()) {
		want, err := Render(b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("..", "..", "dashboards", b.FileName()))
		if err != nil {
			t.Fatalf("read committed dashboard: %v (run 'make generate')", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("dashboards/%s is stale: run 'make generate'", b.FileName())
		}
	}
}

func TestLayoutWrapsAtGridWidth(t *testing.T) {
	y := uint32(3)
	got := layout([]Panel{{Width: 12}, {Width: 12, Height: 5}, {Width: 6}}, &y)
	want := []dashboard.GridPos{{X: 0, Y: 3, W: 12, H: 8}, {X: 12, Y: 3, W: 12, H: 5}, {X: 0, Y: 11, W: 6, H: 8}}
	for i := range want {
		if got[i].pos != want[i] {
			t.Errorf("panel %d at %+v, want %+v", i, got[i].pos, want[i])
		}
	}
	if y != 19 {
		t.Errorf("next y = %d, want 19", y)
	}
}

func TestRefIDs(t *testing.T) {
	for i, want := range map[int]string{0: "A", 1: "B", 25: "Z", 26: "AA", 27: "AB", 51: "AZ", 52: "BA"} {
		if got := RefID(i); got != want {
			t.Errorf("RefID(%d) = %s, want %s", i, got, want)
		}
	}
}

func TestExpand(t *testing.T) {
	got := Expand(`sum(rate(x{topic=~"$topic",group=~"$group"}[$__rate_interval])) / sum(increase(x[$__range]))`, "2m", "1h")
	want := `sum(rate(x{topic=~".*",group=~".*"}[2m])) / sum(increase(x[1h]))`
	if got != want {
		t.Fatalf("Expand = %s\nwant %s", got, want)
	}
}

func TestWriteMarkdownListsEveryPanel(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	doc := buf.String()
	for _, b := range Boards(DefaultOptions()) {
		if !strings.Contains(doc, "## "+b.Title+"\n") {
			t.Errorf("no section for %s", b.UID)
		}
		b.EachQuery(func(p Panel, ref string, q Query) {
			if !strings.Contains(doc, fmt.Sprintf("| %d | %s | %s |", p.ID, p.Title, p.Kind)) {
				t.Errorf("%s panel %d missing", b.UID, p.ID)
			}
			if !strings.Contains(doc, ref+": `"+mdCell(q.Expr)+"`") {
				t.Errorf("%s panel %d query %s missing", b.UID, p.ID, ref)
			}
		})
	}
}
