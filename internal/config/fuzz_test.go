package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: whatever the bytes, Parse never panics, and it returns either
// an error or a configuration that validates (a bad file is always a clear
// error, never a half-valid config). Seeds: the reference config and every
// invalid-*.yaml test file.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/invalid-*.yaml")
	seeds = append(seeds, filepath.Join("..", "..", "docs", "reference-config.yaml"))
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("kafka:\n  brokers: [\"127.0.0.1:9092\"]\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			if c != nil {
				t.Fatalf("Parse returned both a config and the error %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a config that does not validate: %v", err)
		}
	})
}
