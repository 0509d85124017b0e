package demo

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// TestDemoShowsViolationsAndLag starts the demo in-process on random ports
// and checks that within 30 seconds /metrics shows violations of several
// rules and a growing lag for the slow consumer group.
func TestDemoShowsViolationsAndLag(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan [2]string, 1)
	done := make(chan error, 1)
	var out strings.Builder
	go func() {
		done <- Run(ctx, Options{
			KafkaAddr: "127.0.0.1:0",
			HTTPAddr:  "127.0.0.1:0",
			Seed:      7,
			Stdout:    &out,
			LogOutput: io.Discard,
			OnServing: func(httpAddr, kafkaAddr string) { served <- [2]string{httpAddr, kafkaAddr} },
		})
	}()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("demo returned %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Error("demo did not stop within 60s")
		}
	}()
	var base, kafkaAddr string
	select {
	case addr := <-served:
		base, kafkaAddr = "http://"+addr[0], addr[1]
	case err := <-done:
		t.Fatalf("demo stopped before serving: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not serve within 30s")
	}

	wantRules := []string{"envelope.invalid_json", "envelope.missing_field", "naming.action_tense", "naming.event_type",
		"size.blob_field", "envelope.invalid_timestamp", "catalog.unregistered_type", "dlq.missing_error_context"}
	var rules map[string]float64
	var lag float64
	wait.Describe(t, 30*time.Second, func() string {
		return fmt.Sprintf("violations of at least %v and lag of %s > 0; have violations %v, lag %v", wantRules, GroupSlow, rules, lag)
	}, func() bool {
		body := scrape(t, base+"/metrics")
		rules = violationsByRule(body)
		lag = sample(body, "eventwatch_consumergroup_lag_records", `group="`+GroupSlow+`"`)
		return hasAll(rules, wantRules) && lag > 0
	})
	checkSlowIsWarn(t, base)
	checkSlowWhy(t, base)
	checkSampledTimes(t, base)
	if dlq := sample(scrape(t, base+"/metrics"), "eventwatch_dlq_depth_records", `topic="`+TopicDLQ+`"`); dlq <= 0 {
		t.Errorf("%s depth = %v, want > 0", TopicDLQ, dlq)
	}
	checkDLQMissing(t, base)
	checkWebSockets(t, base)
	checkDeadLetters(t, base)
	checkIdempotency(t, base)
	checkPoisonPill(t, base, kafkaAddr)
	if code := status(t, base+"/readyz"); code != 200 {
		t.Errorf("/readyz = %d", code)
	}
	for _, want := range []string{"/metrics", "/api/v1/groups", "/api/v1/flows", "/api/v1/reports/weekly?format=html", "kcat -b 127.0.0.1:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("printed URLs lack %q:\n%s", want, out.String())
		}
	}
}

// checkDLQMissing: dlq.missing names the services the sampler saw producing
// without a dead-letter topic (the huleedu ones), not topic prefixes, and not
// content-service, whose content.deadletter exists.
func checkDLQMissing(t *testing.T, base string) {
	t.Helper()
	const missing = `eventwatch_cluster_rule_violations{resource="%s",rule="dlq.missing"`
	var body string
	wait.Within(t, 30*time.Second, "dlq.missing for essay_lifecycle_service (it has no dead-letter topic)", func() bool {
		body = scrape(t, base+"/metrics")
		return strings.Contains(body, fmt.Sprintf(missing, "essay_lifecycle_service"))
	})
	for _, svc := range []string{"huleedu", "content-service", "content"} {
		if strings.Contains(body, fmt.Sprintf(missing, svc)) {
			t.Errorf("dlq.missing flags %q, which is a topic prefix or has content.deadletter", svc)
		}
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url) //nolint:gosec,noctx // test URL
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url) //nolint:gosec,noctx // test URL
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// violationsByRule sums eventwatch_violations_total per rule label.
func violationsByRule(body string) map[string]float64 {
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "eventwatch_violations_total{") {
			continue
		}
		_, rest, _ := strings.Cut(line, `rule="`)
		rule, _, _ := strings.Cut(rest, `"`)
		out[rule] += value(line)
	}
	return out
}

func sample(body, name, match string) float64 {
	var sum float64
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, name+"{") && strings.Contains(line, match) {
			sum += value(line)
		}
	}
	return sum
}

func value(line string) float64 {
	f := strings.Fields(line)
	v, _ := strconv.ParseFloat(f[len(f)-1], 64)
	return v
}

func hasAll(got map[string]float64, want []string) bool {
	for _, r := range want {
		if got[r] <= 0 {
			return false
		}
	}
	return true
}

// checkDeadLetters: the demo's dead letters triage into the three wrapped
// causes, owned by content-service (the wrapped original's source), and
// the unwrapped ones are content-service's too (their own envelope), not
// "unknown".
func checkDeadLetters(t *testing.T, base string) {
	t.Helper()
	want := []string{"SchemaValidationError: schema validation failed: data.isbn missing for <id>",
		"TimeoutError: timeout after <n> ms calling cover-service", "UniqueViolation: duplicate key value violates unique constraint <value>"}
	var body string
	wait.Describe(t, 30*time.Second, func() string {
		return fmt.Sprintf("GET /api/v1/dlq to have %v and unwrapped dead letters; have:\n%s", want, body)
	}, func() bool {
		body = scrape(t, base+"/api/v1/dlq")
		return hasAllStrings(body, want) && strings.Contains(body, `"error_class": "(none)"`)
	})
	if strings.Contains(body, `"service": "unknown"`) {
		t.Errorf("GET /api/v1/dlq has an unknown owner:\n%s", body)
	}
}

func hasAllStrings(body string, want []string) bool {
	for _, w := range want {
		if !strings.Contains(body, `"error_class": "`+w+`"`) {
			return false
		}
	}
	return true
}

// checkSlowIsWarn: the slow consumer (it reads and commits, slower than
// its topic grows) becomes WARN, and is never ERR (STALL or STOP) on the
// way: it pages nobody as stopped (issue 21).
func checkSlowIsWarn(t *testing.T, base string) {
	t.Helper()
	status := func(body, s string) float64 {
		return sample(body, "eventwatch_consumergroup_status", `group="`+GroupSlow+`",status="`+s+`"`)
	}
	wait.Within(t, 90*time.Second, GroupSlow+" WARN", func() bool {
		body := scrape(t, base+"/metrics")
		if status(body, "ERR") == 1 || status(body, "STALL") == 1 || status(body, "STOP") == 1 {
			t.Fatalf("%s is ERR/STALL/STOP: a slow consumer paged as stopped", GroupSlow)
		}
		return status(body, "WARN") == 1
	})
}

// checkSampledTimes: the daemon hands the sampler's record timestamps to
// the leader's lag collector (issue 21): the demo's relays, a few records
// behind, get exact time lag from records the sampler read, with no Fetch.
func checkSampledTimes(t *testing.T, base string) {
	t.Helper()
	wait.Within(t, 60*time.Second, "time-lag stamps taken from the sampler's records", func() bool {
		return sample(scrape(t, base+"/metrics"), "eventwatch_time_lag_records_total", `source="sampled"`) > 0
	})
}
