package audit

import (
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/policy"

	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"
)

// seedValues returns the corpus events plus hostile shapes as fuzz seeds.
func seedValues(f *testing.F) {
	for _, p := range policy.BuiltinProfiles() {
		data, err := os.ReadFile(filepath.Join("testdata", "corpus", p+".ndjson"))
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			f.Add([]byte(line)) // bare events and kcat record objects alike: any JSON is a seed
		}
	}
	for _, s := range []string{"", "{", "}", "[]", "null", `{"a":}`, `{"a":1,}`, `{"a":"\u12"}`, `{"a":-}`, `{"a":1e}`, "{\"\xff\":1}",
		`{"meta":{"trace_context":{"trace_id":1}},"data":[]}`, `{"data":{"a":[{"b":[1,"x",null,true]}]}}`, strings.Repeat("[", 70)} {
		f.Add([]byte(s))
	}
	f.Add(huleEvent(nil))
	f.Add(awEvent(nil))
}

// maxNesting is the deepest object/array nesting of a valid JSON text.
func maxNesting(b []byte) int {
	depth, best, inStr, esc := 0, 0, false, false
	for _, c := range b {
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			depth++
			best = max(best, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return best
}

// FuzzCheck: for any value, under both profiles, Check does not panic (the
// recover safety net is never reached), reports violations sorted by rule
// id, and agrees with encoding/json: envelope.invalid_json is reported
// exactly when the value is not a valid, UTF-8, at most 64-deep JSON object;
// a nil value is a tombstone with no violations.
func FuzzCheck(f *testing.F) {
	seedValues(f)
	engines := []*Engine{newTestEngine(f, "huleedu"), newTestEngine(f, "authorworks")}
	f.Fuzz(func(t *testing.T, value []byte) {
		wantInvalid := !json.Valid(value) || !utf8.Valid(value) || maxNesting(value) > maxDepth ||
			value[firstNonWS(value)] != '{'
		for _, e := range engines {
			res := e.Check(&event.Record{Topic: "content", Key: []byte("k"), Value: value})
			if value == nil {
				if !res.Tombstone || len(res.Violations) > 0 {
					t.Fatalf("nil value is a tombstone: %+v", res)
				}
				continue
			}
			ids := ruleIDs(res)
			if !sort.StringsAreSorted(ids) {
				t.Fatalf("violations not sorted: %v", ids)
			}
			_, invalid := findViolation(res, "envelope.invalid_json")
			for _, v := range res.Violations {
				if strings.Contains(v.Message, "internal error") {
					t.Fatalf("panic recovered: %+v", v)
				}
			}
			if invalid != wantInvalid {
				t.Fatalf("%s: invalid_json=%v, encoding/json says invalid=%v for %q (%+v)", e.Profile().Name, invalid, wantInvalid, value, res.Violations)
			}
		}
	})
}

// FuzzUnescape: for every valid JSON string, the scanner's decoder agrees
// with encoding/json.
func FuzzUnescape(f *testing.F) {
	for _, s := range []string{`"a"`, `"\n\t\\\""`, `"\u00e9\ud83d\ude00"`, `"\ud800"`, `"\udc00\ud800x"`, `"é"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, quoted []byte) {
		var want string
		quoted = []byte(strings.TrimSpace(string(quoted)))
		if json.Unmarshal(quoted, &want) != nil || !utf8.Valid(quoted) {
			return
		}
		got := string(appendUnescaped(nil, quoted[1:len(quoted)-1]))
		if got != want {
			t.Fatalf("unescape %q = %q, encoding/json %q", quoted, got, want)
		}
	})
}

// FuzzPolicyEngine: any YAML yields a profile or an error, never a panic,
// an error always names the file, and the engine takes every profile the
// policy package compiles.
func FuzzPolicyEngine(f *testing.F) {
	for _, n := range policy.BuiltinProfiles() {
		data, _ := policy.BuiltinPolicy(n)
		f.Add(data)
	}
	files, _ := filepath.Glob(filepath.Join("..", "policy", "testdata", "policies", "*.yaml"))
	for _, file := range files {
		data, _ := os.ReadFile(file)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := policy.ParsePolicy("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if _, err := NewEngine(Options{Profile: p}); err != nil {
			t.Fatalf("policy loaded but engine refused it: %v", err)
		}
	})
}

// firstNonWS is the index of the first non-whitespace byte (0 when none).
func firstNonWS(b []byte) int {
	for i, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return i
		}
	}
	return 0
}
