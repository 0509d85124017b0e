package lag_test

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/lag"
)

// TestFactsStayWhileOnlyTimePasses: once a stopped group's status has
// settled and its window is full, the cycles that follow change its
// figures (time lag, waiting time, time to loss, breach seconds, the
// duration in its why sentence) but not its facts, so the share path
// publishes nothing for it; the template of the first such cycle,
// rendered at a later cycle's time, is that cycle's page JSON. A commit
// changes the facts at once. (Every lag test also checks the templates
// of every snapshot: templatecheck_test.go.)
func TestFactsStayWhileOnlyTimePasses(t *testing.T) {
	f := newFixture(t, map[string]int32{"orders": 2, "audit": 1})
	cfg := testConfig()
	cfg.LagObjective = 1
	cfg.StatusWindow = 4
	c, _ := f.virtualCollector(cfg, lag.Expectations{}, 15*time.Second)
	f.produce("orders", 0, 10)
	f.produce("orders", 1, 10)
	f.produce("audit", 0, 3)
	f.commit("stopped", map[string]map[int32]int64{"orders": {0: 2, 1: 5}, "audit": {0: 1}})
	var settled lag.GroupLag
	var tpl []byte
	for i := range 40 {
		if err := c.CollectOnce(f.ctx()); err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		snap := c.Snapshot()
		g, _ := snap.Group("stopped")
		if i < 30 { // stop_after (5m by default) and the window have passed by then
			settled = g
			var err error
			if tpl, err = lag.AppendGroupTemplate(nil, &g); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if g.Cause != lag.StatusStop || !g.LagSeconds.Known() || g.LagSeconds <= settled.LagSeconds ||
			g.BreachSeconds <= settled.BreachSeconds || g.Why == settled.Why {
			t.Fatalf("cycle %d: %s, lag %v s (was %v), breach %v s (was %v), why %q (was %q): want a stopped group whose figures grow",
				i, g.Cause, g.LagSeconds, settled.LagSeconds, g.BreachSeconds, settled.BreachSeconds, g.Why, settled.Why)
		}
		if !lag.SameFacts(&settled, &g) {
			t.Fatalf("cycle %d: only time passed, but the group's facts changed:\nwas %+v\nnow %+v", i, settled, g)
		}
		want, err := lag.AppendPageGroup(nil, &g)
		if err != nil {
			t.Fatal(err)
		}
		got, err := lag.RenderGroupTemplate(nil, tpl, snap.Time)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("cycle %d: the settled template rendered now (%v):\n got %s\nwant %s", i, err, got, want)
		}
		if math.Abs(float64(g.Topics[0].TimeToLoss-settled.Topics[0].TimeToLoss)) < 1 && g.Topics[0].TimeToLoss.Known() {
			t.Errorf("cycle %d: time to loss %v did not shrink from %v", i, g.Topics[0].TimeToLoss, settled.Topics[0].TimeToLoss)
		}
	}
	f.commit("stopped", map[string]map[int32]int64{"orders": {0: 3, 1: 5}, "audit": {0: 1}})
	if err := c.CollectOnce(f.ctx()); err != nil {
		t.Fatal(err)
	}
	if g, _ := c.Snapshot().Group("stopped"); lag.SameFacts(&settled, &g) {
		t.Fatalf("a commit left the group's facts the same: %+v", g)
	}
}

// TestRenderPage: the shared page (every group as its template) renders
// to the page the leader serves, byte for byte; a page an older leader
// shared (groups as page JSON) renders as it is; a broken template is an
// error, not a wrong page.
func TestRenderPage(t *testing.T) {
	f := newFixture(t, map[string]int32{"orders": 2})
	c, _ := f.virtualCollector(testConfig(), lag.Expectations{}, 15*time.Second)
	f.clock.base = time.Now()
	f.produce("orders", 0, 10)
	f.produce("orders", 1, 4)
	f.commit("stopped", map[string]map[int32]int64{"orders": {0: 2, 1: 1}})
	f.commit("caughtup", map[string]map[int32]int64{"orders": {0: 10, 1: 4}})
	for range 25 {
		if err := c.CollectOnce(f.ctx()); err != nil {
			t.Fatal(err)
		}
	}
	snap := c.Snapshot()
	want, err := json.Marshal(lag.PageOf(snap))
	if err != nil {
		t.Fatal(err)
	}
	page, err := lag.TemplatePageOf(snap)
	if err != nil {
		t.Fatal(err)
	}
	shared, err := json.Marshal(page)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(shared, want) || !bytes.Contains(want, []byte(`"status_cause":"STOP"`)) {
		t.Fatalf("want a page with a stopped group, shared as templates:\n%s", shared)
	}
	for name, in := range map[string][]byte{"templates": shared, "an older leader's page": want} {
		got, err := lag.RenderPage(in)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: rendered (%v)\n%s\nwant\n%s", name, err, got, want)
		}
	}
	broken := bytes.Replace(shared, []byte(`"holes":[[`), []byte(`"holes":[[9,`), 1)
	if _, err := lag.RenderPage(broken); err == nil {
		t.Error("a template with a malformed hole rendered without an error")
	}
}
