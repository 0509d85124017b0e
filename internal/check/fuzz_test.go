package check

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventwatch/eventwatch/internal/policy"
)

// FuzzParseInputLine: any NDJSON line parses without panic, and a line that
// is not a record wrapper is passed through unchanged as the value.
func FuzzParseInputLine(f *testing.F) {
	for _, p := range policy.BuiltinProfiles() {
		data, err := os.ReadFile(filepath.Join("..", "audit", "testdata", "corpus", p+".ndjson"))
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			f.Add([]byte(line))
		}
	}
	f.Add([]byte(`{"topic":"t","partition":0,"offset":1,"key":"k","headers":["a","b"],"payload":"{}"}`))
	f.Add([]byte(`{"topic":"t","offset":1,"headers":{"a":null},"value":null,"timestamp":"x"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		rec, wrapped := ParseInputLine(line)
		if !wrapped && string(rec.Value) != string(line) {
			t.Fatalf("bare line altered: %q -> %q", line, rec.Value)
		}
	})
}
