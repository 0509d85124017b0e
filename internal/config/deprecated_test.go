package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeprecatedReportsTokenKeys: reports.token, reports.token_file and
// reports.protect_metrics still work, moved to the http section, and each
// move is noted for the daemon's warning.
func TestDeprecatedReportsTokenKeys(t *testing.T) {
	tok := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tok, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Parse([]byte("reports:\n  token_file: " + tok + "\n  protect_metrics: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.TokenFile != tok || !c.HTTP.ProtectMetrics || c.Reports.TokenFile != "" || c.Reports.ProtectMetrics {
		t.Fatalf("not moved: http=%+v reports=%+v", c.HTTP, c.Reports)
	}
	if got, err := c.HTTP.BearerToken(); got != "s3cret" || err != nil {
		t.Fatalf("BearerToken = %q, %v", got, err)
	}
	want := []string{
		"reports.token_file is deprecated: use http.token_file (the value was applied there)",
		"reports.protect_metrics is deprecated: use http.protect_metrics (the value was applied there)",
	}
	if strings.Join(c.Deprecations, "\n") != strings.Join(want, "\n") {
		t.Fatalf("Deprecations = %q, want %q", c.Deprecations, want)
	}
	if notes, err := c.MigrateDeprecated(); notes != nil || err != nil {
		t.Fatalf("second MigrateDeprecated = %v, %v; want nothing", notes, err)
	}
	c, err = Parse([]byte("reports:\n  token: abc\n"))
	if err != nil || c.HTTP.Token != "abc" || len(c.Deprecations) != 1 {
		t.Fatalf("reports.token: %+v %v %v", c.HTTP, c.Deprecations, err)
	}
}

func TestHTTPToken(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		doc, want string
	}{
		{"http:\n  token: x\n  token_file: " + empty + "\n", "http.token_file: set either token or token_file, not both"},
		{"http:\n  token_file: " + empty + "\n", "http.token_file: bearer token: token file " + empty + " is empty"},
	} {
		_, err := Parse([]byte(tt.doc))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want %q", tt.doc, err, tt.want)
		}
	}
	c, err := Parse([]byte("http:\n  token: t0ken\n  protect_metrics: true\n"))
	if err != nil || len(c.Deprecations) != 0 {
		t.Fatalf("http.token: %v %v", err, c.Deprecations)
	}
}
