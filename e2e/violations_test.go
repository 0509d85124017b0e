//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/report"
	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/browser"

	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// TestViolationsDemo runs `eventwatch demo` and follows a violation from
// the traffic to the people who must fix it: every rule the demo breaks
// has examples (with the reason) on /api/v1/violations and on the SSE
// stream within seconds, `eventwatch tail` prints them, the default report
// opens on this week with examples and does not scroll horizontally at
// 1400 or 800 px (screenshots kept in EVENTWATCH_ARTIFACT_DIR), a team's
// report holds only that team's topics, groups and DLQs, and the examples
// survive a kill -9 and restart.
func TestViolationsDemo(t *testing.T) {
	chromium := browser.Find(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := rpBuild(ctx, t, dir)
	data := filepath.Join(dir, "demo-data")
	demo := rpStartDemo(ctx, t, bin, data)
	base := "http://" + demo.addr
	sse := vlFollow(ctx, t, base+"/api/v1/violations/stream")
	tail := vlTail(ctx, bin, base)

	rules := vlBrokenRules(ctx, t, base)
	vlCheckExamples(ctx, t, base, rules)
	vlCheckStream(ctx, t, sse, rules)
	vlCheckTail(t, tail)
	vlCheckDefaultReport(ctx, t, base)
	vlCheckTeams(ctx, t, base)
	vlCheckBrowser(t, chromium, base)

	before := vlExamples(ctx, t, base+"/api/v1/violations?limit=1000")
	demo.kill(t)
	demo = rpStartDemo(ctx, t, bin, data)
	after := vlExamples(ctx, t, "http://"+demo.addr+"/api/v1/violations?limit=1000")
	kept := 0
	for k := range before {
		if after[k] {
			kept++
		}
	}
	if kept == 0 {
		t.Errorf("no example survived the restart (%d before, %d after)", len(before), len(after))
	}
	t.Logf("%d of %d examples read back after kill -9 and restart", kept, len(before))
}

// vlBrokenRules waits until the demo has broken the rules it is built to
// break and returns every record rule /metrics counts violations of.
func vlBrokenRules(ctx context.Context, t *testing.T, base string) []string {
	t.Helper()
	want := []string{"envelope.invalid_json", "envelope.missing_field", "naming.action_tense", "naming.event_type", "size.blob_field",
		"size.event_too_large", "duplicate.event_id", "envelope.invalid_timestamp", "catalog.unregistered_type", "dlq.missing_error_context"}
	var rules []string
	wait.Check(ctx, t, "the demo's violations on /metrics", func() error {
		m := rpScrape(ctx, t, base)
		seen := map[string]bool{}
		for series, v := range m {
			// Kafka records' violations: WebSocket findings (transport
			// "websocket") have their examples on /api/v1/websockets.
			if v > 0 && strings.HasPrefix(series, "eventwatch_violations_total{") && vlLabel(series, "transport") == "kafka" {
				seen[vlLabel(series, "rule")] = true
			}
		}
		for _, r := range want {
			if !seen[r] {
				return fmt.Errorf("no %s yet (have %v)", r, seen)
			}
		}
		rules = rules[:0]
		for r := range seen {
			rules = append(rules, r)
		}
		return nil
	})
	sort.Strings(rules)
	t.Logf("rules the demo breaks: %v", rules)
	return rules
}

func vlLabel(series, name string) string {
	_, rest, ok := strings.Cut(series, name+`="`)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

// vlCheckExamples: every broken rule has stored examples with a message
// and a location, filtered by ?rule=.
func vlCheckExamples(ctx context.Context, t *testing.T, base string, rules []string) {
	t.Helper()
	for _, rule := range rules {
		wait.Check(ctx, t, "examples of "+rule, func() error {
			body, _, err := rpGet(ctx, base+"/api/v1/violations?limit=5&rule="+rule)
			if err != nil {
				return err
			}
			var p store.ExamplePage
			if err := json.Unmarshal([]byte(body), &p); err != nil {
				return err
			}
			if len(p.Examples) == 0 {
				return fmt.Errorf("no examples of %s", rule)
			}
			for _, e := range p.Examples {
				if e.Rule != rule || e.Message == "" || e.Topic == "" || e.Profile == "" || e.Observed.IsZero() {
					return fmt.Errorf("incomplete example %+v", e)
				}
			}
			return nil
		})
	}
}

// vlStream collects the rules seen on an SSE connection.
type vlStream struct {
	mu    sync.Mutex
	rules map[string]time.Time
}

func (s *vlStream) seen(rule string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.rules[rule]
	return ok
}

func vlFollow(ctx context.Context, t *testing.T, url string) *vlStream {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %v %v", err, resp)
	}
	s := &vlStream{rules: map[string]time.Time{}}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			var e store.Example
			if !ok || json.Unmarshal([]byte(data), &e) != nil || e.Rule == "" {
				continue
			}
			s.mu.Lock()
			if _, ok := s.rules[e.Rule]; !ok {
				s.rules[e.Rule] = time.Now()
			}
			s.mu.Unlock()
		}
	}()
	return s
}

func vlCheckStream(ctx context.Context, t *testing.T, s *vlStream, rules []string) {
	t.Helper()
	for _, rule := range rules {
		wait.Check(ctx, t, rule+" on the SSE stream", func() error {
			if !s.seen(rule) {
				return fmt.Errorf("not seen")
			}
			return nil
		})
	}
}

type vlTailRun struct {
	done   chan struct{}
	out    strings.Builder
	stderr strings.Builder
	err    error
}

// vlTail runs `eventwatch tail --max 8` against the demo.
func vlTail(ctx context.Context, bin, base string) *vlTailRun {
	r := &vlTailRun{done: make(chan struct{})}
	cmd := exec.CommandContext(ctx, bin, "tail", "--url", base, "--max", "8")
	cmd.Stdout, cmd.Stderr = &r.out, &r.stderr
	go func() {
		r.err = cmd.Run()
		close(r.done)
	}()
	return r
}

func vlCheckTail(t *testing.T, r *vlTailRun) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(60 * time.Second):
		t.Fatal("eventwatch tail printed fewer than 8 violations in 60s")
	}
	lines := strings.Split(strings.TrimSpace(r.out.String()), "\n")
	if r.err != nil || len(lines) != 8 {
		t.Fatalf("eventwatch tail: %v, %d lines:\n%s\nstderr: %s", r.err, len(lines), r.out.String(), r.stderr.String())
	}
	for _, l := range lines {
		if !strings.Contains(l, "@") || !strings.Contains(l, ": ") || !(strings.Contains(l, " error ") || strings.Contains(l, " warning ")) {
			t.Errorf("tail line without location, severity or reason: %q", l)
		}
	}
	t.Logf("eventwatch tail:\n%s", r.out.String())
}

// vlCheckDefaultReport: the report without ?week= is this week, in
// progress, with data and examples under its rules.
func vlCheckDefaultReport(ctx context.Context, t *testing.T, base string) {
	t.Helper()
	body, _, err := rpGet(ctx, base+"/api/v1/reports/weekly")
	if err != nil {
		t.Fatal(err)
	}
	var r report.Weekly
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	if r.Week != report.WeekOf(time.Now(), time.UTC).String() || !r.InProgress || r.Summary.CompliancePct == nil || len(r.Trend) != 8 {
		t.Fatalf("default report: week %s, in progress %v, compliance %v, %d trend weeks", r.Week, r.InProgress, r.Summary.CompliancePct, len(r.Trend))
	}
	seen := map[string]bool{}
	for _, rt := range r.Rules {
		if seen[rt.Rule+"/"+rt.Profile] {
			t.Errorf("rule %s listed twice for profile %q", rt.Rule, rt.Profile)
		}
		seen[rt.Rule+"/"+rt.Profile] = true
		if rt.Count > 0 && (len(rt.Examples) == 0 || rt.Summary == "" || !strings.Contains(rt.DocURL, "rules.md#")) {
			t.Errorf("rule %+v lacks examples, summary or docs link", rt)
		}
	}
}

// vlCheckTeams: a team's report holds only its topics, groups and DLQs.
func vlCheckTeams(ctx context.Context, t *testing.T, base string) {
	t.Helper()
	own := map[string]func(string) bool{
		"content": func(s string) bool { return strings.HasPrefix(s, "content") || strings.HasPrefix(s, "user") },
		"essays":  func(s string) bool { return strings.HasPrefix(s, "huleedu.dev.") && !strings.Contains(s, "legacy") },
	}
	groups := map[string][]string{"content": {"notification_service", "profile-projector"}, // profile-projector reads user.account (the poison pill)
		"essays": {"essay_lifecycle_service", "spell_checker_service", "result_aggregator_service"}}
	for team, owns := range own {
		body, _, err := rpGet(ctx, base+"/api/v1/reports/weekly?format=json&team="+team)
		if err != nil {
			t.Fatal(err)
		}
		var r report.Weekly
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatal(err)
		}
		if len(r.Topics) == 0 {
			t.Errorf("team %s: no topics", team)
		}
		for _, tp := range r.Topics {
			if !owns(tp.Name) {
				t.Errorf("team %s report has topic %s", team, tp.Name)
			}
		}
		for _, d := range r.DLQ {
			if !owns(d.Topic) {
				t.Errorf("team %s report has DLQ %s", team, d.Topic)
			}
		}
		for _, l := range r.Lag {
			if !contains(groups[team], l.Group) {
				t.Errorf("team %s report has group %s", team, l.Group)
			}
		}
		for _, rt := range r.Rules {
			for _, e := range rt.Examples {
				if !owns(e.Topic) {
					t.Errorf("team %s report has an example on %s", team, e.Topic)
				}
			}
		}
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// vlCheckBrowser takes screenshots of the default report at 1400, 1024
// and 800 px and checks, with the demo's real names and messages, that it
// uses the whole width, scrolls at none, breaks no word in a table cell and
// lets nothing overflow (browser.CheckLayout).
func vlCheckBrowser(t *testing.T, bin, base string) {
	t.Helper()
	url := base + "/api/v1/reports/weekly?format=html"
	dir := os.Getenv("EVENTWATCH_ARTIFACT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	for _, w := range []int{1400, 1024, 800} {
		png := filepath.Join(dir, fmt.Sprintf("demo-report-%d.png", w))
		browser.Screenshot(t, bin, url, w, 3000, png)
		t.Logf("screenshot: %s", png)
	}
	browser.CheckLayout(t, bin, url, 1400, 1024, 800)
	browser.CheckLayout(t, bin, url+"&team=content", 800)
}

// vlExamples reads one page of examples as a set of locations.
func vlExamples(ctx context.Context, t *testing.T, url string) map[string]bool {
	t.Helper()
	body, _, err := rpGet(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	var p store.ExamplePage
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, e := range p.Examples {
		out[fmt.Sprint(e.Rule, e.Service, e.Topic, e.Partition, e.Offset, e.Observed.UnixMilli())] = true
	}
	return out
}
