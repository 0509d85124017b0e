package audit

import (
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/policy"

	"sort"
	"strings"
	"testing"
	"time"
)

// testNow is the fixed reference time of engine tests.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newTestEngine builds an engine for a built-in profile with a fixed clock.
func newTestEngine(t testing.TB, profile string, mod ...func(*Options)) *Engine {
	t.Helper()
	p, err := policy.LoadProfile(profile)
	if err != nil {
		t.Fatalf("policy.LoadProfile(%q): %v", profile, err)
	}
	opts := Options{Profile: p, Now: func() time.Time { return testNow }}
	for _, m := range mod {
		m(&opts)
	}
	e, err := NewEngine(opts)
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	return e
}

// ruleIDs lists the rule ids of a result's violations, sorted.
func ruleIDs(res event.Result) []string {
	out := make([]string, 0, len(res.Violations))
	for _, v := range res.Violations {
		out = append(out, v.Rule)
	}
	sort.Strings(out)
	return out
}

// findViolation returns the first violation of rule.
func findViolation(res event.Result, rule string) (event.Violation, bool) {
	for _, v := range res.Violations {
		if v.Rule == rule {
			return v, true
		}
	}
	return event.Violation{}, false
}

// huleEvent is a compliant HuleEdu event with fields replaced by the
// given JSON fragments ("key": value), or removed when the value is "-".
func huleEvent(overrides map[string]string) []byte {
	fields := []string{"event_id", "event_type", "event_timestamp", "source_service", "correlation_id", "data"}
	vals := map[string]string{
		"event_id":        `"3f2b7c1e-9a4d-4e8b-b1c2-5d6e7f8a9b0c"`,
		"event_type":      `"huleedu.essaylifecycle.essay.spellcheck_requested.v1"`,
		"event_timestamp": `"2026-03-01T11:59:00.123456+00:00"`,
		"source_service":  `"essay_lifecycle_service"`,
		"correlation_id":  `"8c1d2e3f-4a5b-4c6d-9e7f-8a9b0c1d2e3f"`,
		"data":            `{"entity_ref":{"entity_id":"essay-42","entity_type":"essay"},"language":"en","text_storage_id":"s3://essays/42/original.txt"}`,
	}
	return buildEvent(fields, vals, overrides)
}

// awEvent is a compliant AuthorWorks event with meta fields overridable as
// "meta.x" and top-level fields as "x".
func awEvent(overrides map[string]string) []byte {
	metaFields := []string{"id", "type", "version", "timestamp", "correlation_id", "source", "trace_context"}
	meta := map[string]string{
		"id":             `"6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"`,
		"type":           `"content.book.published"`,
		"version":        `"1.0"`,
		"timestamp":      `"2026-03-01T11:59:00.000Z"`,
		"correlation_id": `"req-7f3a9c"`,
		"source":         `"content-service"`,
		"trace_context":  `{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}`,
	}
	mo := map[string]string{}
	top := map[string]string{}
	for k, v := range overrides {
		if rest, ok := strings.CutPrefix(k, "meta."); ok {
			mo[rest] = v
		} else {
			top[k] = v
		}
	}
	vals := map[string]string{
		"meta": string(buildEvent(metaFields, meta, mo)),
		"data": `{"book_id":"bk-1001","title":"The Quiet Shore","author_id":"au-77"}`,
	}
	return buildEvent([]string{"meta", "data"}, vals, top)
}

func buildEvent(order []string, vals, overrides map[string]string) []byte {
	var b strings.Builder
	b.WriteByte('{')
	n := 0
	emit := func(k, v string) {
		if v == "-" {
			return
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		b.WriteString(`"` + k + `":` + v)
	}
	for _, k := range order {
		v := vals[k]
		if o, ok := overrides[k]; ok {
			v = o
		}
		emit(k, v)
	}
	extra := make([]string, 0)
	for k := range overrides {
		if _, known := vals[k]; !known {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		emit(k, overrides[k])
	}
	b.WriteByte('}')
	return []byte(b.String())
}

// ruleCase is one row of a per-rule table test.
type ruleCase struct {
	name    string
	profile string
	rec     event.Record
	fires   bool   // the rule under test reports a violation
	field   string // expected event.Violation.Field when it fires
	msg     string // substring of the expected message when it fires
}

// runRuleCases checks each case for the presence (or absence) of rule.
func runRuleCases(t *testing.T, rule string, cases []ruleCase, mod ...func(*Options)) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEngine(t, tc.profile, mod...)
			rec := tc.rec
			res := e.Check(&rec)
			v, ok := findViolation(res, rule)
			if ok != tc.fires {
				t.Fatalf("%s fired=%v, want %v; violations: %+v", rule, ok, tc.fires, res.Violations)
			}
			if !ok {
				return
			}
			if v.Field != tc.field {
				t.Errorf("field = %q, want %q", v.Field, tc.field)
			}
			if !strings.Contains(v.Message, tc.msg) {
				t.Errorf("message %q does not contain %q", v.Message, tc.msg)
			}
		})
	}
}

// hule and aw build records on the profiles' canonical topics.
func hule(o map[string]string) event.Record {
	return event.Record{Topic: "huleedu.dev.essaylifecycle.essay", Key: []byte("essay-42"), Value: huleEvent(o)}
}

func aw(o map[string]string) event.Record {
	return event.Record{Topic: "content", Key: []byte("bk-1001"), Value: awEvent(o)}
}
