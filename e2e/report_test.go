//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/report"
	"github.com/eventwatch/eventwatch/internal/testutil/bins"

	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// TestReportDemo runs the demo and checks the weekly report end to end: all
// four formats, numbers that agree with /metrics over the same window, the
// HTML page in headless Chromium (screenshot kept in
// EVENTWATCH_ARTIFACT_DIR when set), the `eventwatch report` command, and
// that a kill -9 and restart keep everything the store held.
func TestReportDemo(t *testing.T) {
	chromium := bins.Require(t, "apt-get install chromium", "chromium", "chromium-browser", "google-chrome")
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := rpBuild(ctx, t, dir)
	data := filepath.Join(dir, "demo-data")
	demo := rpStartDemo(ctx, t, bin, data)
	week := report.WeekOf(time.Now(), time.UTC).String()
	base := "http://" + demo.addr

	wait.Check(ctx, t, "a flushed report with data", func() error {
		r, err := rpReport(ctx, base, week)
		if err == nil && (r.Summary.Checked == 0 || len(r.Services) == 0 || len(r.Rules) == 0) {
			err = fmt.Errorf("report still empty: %+v", r.Summary)
		}
		return err
	})
	rpCheckAgreesWithMetrics(ctx, t, base, week)
	rpCheckFormats(ctx, t, base, week)
	rpCheckCommand(ctx, t, bin, base, week)
	rpCheckChromium(ctx, t, chromium, base, week)

	before, err := rpReport(ctx, base, week)
	if err != nil {
		t.Fatal(err)
	}
	demo.kill(t) // SIGKILL: no final flush
	demo = rpStartDemo(ctx, t, bin, data)
	after, err := rpReport(ctx, "http://"+demo.addr, week)
	if err != nil {
		t.Fatal(err)
	}
	if after.Summary.Checked < before.Summary.Checked || after.Summary.Violations < before.Summary.Violations {
		t.Fatalf("after kill -9 and restart the report shows %d checked / %d violations, before %d / %d",
			after.Summary.Checked, after.Summary.Violations, before.Summary.Checked, before.Summary.Violations)
	}
}

// rpCheckAgreesWithMetrics brackets a report between two scrapes: every
// record in a report was counted on /metrics first, and every record counted
// before two completed flushes is in the report.
func rpCheckAgreesWithMetrics(ctx context.Context, t *testing.T, base, week string) {
	t.Helper()
	m1 := rpScrape(ctx, t, base)
	flushes := m1.sum("eventwatch_store_flushes_total", `result="ok"`)
	wait.Check(ctx, t, "two more flushes", func() error {
		if n := rpScrape(ctx, t, base).sum("eventwatch_store_flushes_total", `result="ok"`); n < flushes+2 {
			return fmt.Errorf("%v ok flushes, waiting for %v", n, flushes+2)
		}
		return nil
	})
	r, err := rpReport(ctx, base, week)
	if err != nil {
		t.Fatal(err)
	}
	m2 := rpScrape(ctx, t, base)
	for _, tp := range r.Topics {
		sel := fmt.Sprintf(`topic=%q`, tp.Name)
		for name, got := range map[string]int64{"eventwatch_records_checked_total": tp.Checked, "eventwatch_records_compliant_total": tp.Compliant} {
			lo, hi := m1.sum(name, sel), m2.sum(name, sel)
			if float64(got) < lo || float64(got) > hi {
				t.Errorf("topic %s: report %s = %d, /metrics went from %v to %v", tp.Name, name, got, lo, hi)
			}
		}
	}
	byRule := map[string]int64{} // the report lists a rule once per profile; /metrics has no profile label
	for _, rt := range r.Rules {
		byRule[rt.Rule] += rt.Count
	}
	for rule, n := range byRule {
		sel := fmt.Sprintf(`rule=%q`, rule)
		if lo, hi := m1.sum("eventwatch_violations_total", sel), m2.sum("eventwatch_violations_total", sel); float64(n) < lo || float64(n) > hi {
			t.Errorf("rule %s: report %d, /metrics went from %v to %v", rule, n, lo, hi)
		}
	}
}

func rpCheckFormats(ctx context.Context, t *testing.T, base, week string) {
	t.Helper()
	for _, f := range report.Formats {
		format, ct := f.Name, f.ContentType
		body, h, err := rpGet(ctx, base+"/api/v1/reports/weekly?week="+week+"&format="+format)
		if err != nil || h.Get("Content-Type") != ct {
			t.Fatalf("%s: %v (content type %q)", format, err, h.Get("Content-Type"))
		}
		var ok bool
		switch format {
		case "md":
			ok = strings.Contains(body, "# Event compliance report "+week)
		case "csv":
			rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
			ok = err == nil && len(rows) > 3 && rows[1][1] == "summary"
		case "html":
			ok = strings.Contains(body, `id="summary-checked"`)
		case "json":
			ok = json.Valid([]byte(body))
		}
		if !ok {
			t.Errorf("%s report looks wrong:\n%.2000s", format, body)
		}
	}
	if body, _, err := rpGet(ctx, base+"/api/v1/reports"); err != nil || !strings.Contains(body, `"week":"`+week+`"`) {
		t.Errorf("weeks list: %v\n%s", err, body)
	}
	if _, _, err := rpGet(ctx, base+"/api/v1/reports/weekly?week=2025-W53"); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("2025-W53 must be a 400, got %v", err)
	}
}

func rpCheckCommand(ctx context.Context, t *testing.T, bin, base, week string) {
	t.Helper()
	out, err := exec.CommandContext(ctx, bin, "report", "--url", base, "--week", week, "--format", "md").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "## Summary") {
		t.Errorf("eventwatch report: %v\n%s", err, out)
	}
}

func rpCheckChromium(ctx context.Context, t *testing.T, bin, base, week string) {
	t.Helper()
	url := base + "/api/v1/reports/weekly?format=html&week=" + week
	r, err := rpReport(ctx, base, week)
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("EVENTWATCH_ARTIFACT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	png := filepath.Join(dir, "demo-report.png")
	flags := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--no-first-run", "--disable-quic", "--hide-scrollbars", "--user-data-dir=" + t.TempDir()}
	dom, err := exec.CommandContext(ctx, bin, append(flags, "--dump-dom", url)...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	// The page is built from the store at request time; numbers may have
	// grown between the JSON and the HTML request, so check the structure
	// and a number that cannot shrink.
	for _, want := range []string{`id="summary-checked"`, "Compliance by service", "<svg"} {
		if !strings.Contains(string(dom), want) {
			t.Errorf("rendered DOM lacks %q", want)
		}
	}
	if m := regexp.MustCompile(`id="summary-checked">(\d+)<`).FindSubmatch(dom); m == nil || rpAtoi(string(m[1])) < r.Summary.Checked {
		t.Errorf("DOM checked count %q, JSON said %d before", m, r.Summary.Checked)
	}
	if out, err := exec.CommandContext(ctx, bin, append(flags, "--window-size=1100,2600", "--screenshot="+png, url)...).CombinedOutput(); err != nil {
		t.Fatalf("chromium --screenshot: %v\n%s", err, out)
	}
	if st, err := os.Stat(png); err != nil || st.Size() < 10000 {
		t.Fatalf("screenshot %s: %v", png, err)
	}
	t.Logf("report screenshot: %s", png)
}

func rpAtoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// rpMetrics is a parsed /metrics page: series line → value.
type rpMetrics map[string]float64

// sum adds the series of name whose labels contain sel.
func (m rpMetrics) sum(name, sel string) float64 {
	var s float64
	for series, v := range m {
		if (strings.HasPrefix(series, name+"{") || series == name) && strings.Contains(series, sel) {
			s += v
		}
	}
	return s
}

func rpScrape(ctx context.Context, t *testing.T, base string) rpMetrics {
	t.Helper()
	body, _, err := rpGet(ctx, base+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m := rpMetrics{}
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if line == "" || line[0] == '#' || i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			m[line[:i]] = v
		}
	}
	return m
}

func rpReport(ctx context.Context, base, week string) (*report.Weekly, error) {
	body, _, err := rpGet(ctx, base+"/api/v1/reports/weekly?format=json&week="+week)
	if err != nil {
		return nil, err
	}
	var r report.Weekly
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return nil, fmt.Errorf("decode report: %w", err)
	}
	return &r, nil
}

func rpGet(ctx context.Context, url string) (string, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), resp.Header, fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	return string(b), resp.Header, nil
}

func rpBuild(ctx context.Context, t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "eventwatch")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/eventwatch/eventwatch/cmd/eventwatch").CombinedOutput()
	if err != nil {
		t.Fatalf("build eventwatch: %v\n%s", err, out)
	}
	return bin
}

// rpDemo is a running `eventwatch demo`.
type rpDemo struct {
	addr string
	cmd  *exec.Cmd
	out  *syncLog
}

func rpStartDemo(ctx context.Context, t *testing.T, bin, data string) *rpDemo {
	t.Helper()
	d := &rpDemo{addr: freeAddr(t), out: &syncLog{}}
	d.cmd = exec.CommandContext(ctx, bin, "demo", "--http-addr", d.addr, "--kafka-addr", freeAddr(t), "--data-dir", data)
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	d.cmd.Cancel = func() error { return d.cmd.Process.Signal(syscall.SIGTERM) }
	d.cmd.WaitDelay = 10 * time.Second
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start demo: %v", err)
	}
	t.Cleanup(func() {
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		_ = d.cmd.Wait()
		if t.Failed() {
			t.Logf("--- demo output (last 8 KiB) ---\n%s", d.out.tail(8<<10))
		}
	})
	wait.Check(ctx, t, "demo /api/v1/reports", func() error {
		_, _, err := rpGet(ctx, "http://"+d.addr+"/api/v1/reports")
		return err
	})
	return d
}

func (d *rpDemo) kill(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill -9 demo: %v", err)
	}
	_ = d.cmd.Wait()
}
