package bins

import "testing"

func TestStrict(t *testing.T) {
	cases := []struct {
		ci, require string
		want        bool
	}{
		{"", "", false},
		{"false", "", false},
		{"0", "", false},
		{"true", "", true},
		{"1", "", true},
		{"yes", "", true},
		{"", "1", true},
		{"false", "1", true},
		{"", "0", false},
	}
	for _, c := range cases {
		t.Setenv("CI", c.ci)
		t.Setenv("REQUIRE_TOOLS", c.require)
		if got := Strict(); got != c.want {
			t.Errorf("CI=%q REQUIRE_TOOLS=%q: Strict() = %v, want %v", c.ci, c.require, got, c.want)
		}
	}
}

// recorder is a testing.TB that records Skip and Fatal instead of stopping.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Skip(...any)           { r.skipped = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
func (r *recorder) Skipf(string, ...any)  { r.skipped = true }
func (r *recorder) Fatal(...any)          { r.failed = true }

func TestMissingToolSkipsLocallyFailsStrict(t *testing.T) {
	const absent = "eventwatch-no-such-program-xyz"
	t.Setenv("CI", "")
	t.Setenv("REQUIRE_TOOLS", "")
	r := &recorder{TB: t}
	Require(r, "nothing", absent)
	if !r.skipped || r.failed {
		t.Fatalf("local: skipped=%v failed=%v, want a skip", r.skipped, r.failed)
	}
	t.Setenv("REQUIRE_TOOLS", "1")
	r = &recorder{TB: t}
	Require(r, "nothing", absent)
	if r.skipped || !r.failed {
		t.Fatalf("REQUIRE_TOOLS=1: skipped=%v failed=%v, want a failure", r.skipped, r.failed)
	}
}

func TestRequireFindsProgram(t *testing.T) {
	if p := Require(t, "coreutils", "eventwatch-no-such-program-xyz", "sh"); p == "" {
		t.Fatal("sh not found")
	}
}
