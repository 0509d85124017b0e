package ledger

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/auditdata"
	"github.com/eventwatch/eventwatch/internal/testutil/storetest"
)

func newTestAggregator(t testing.TB, st store.Store, cfg store.Config, c *storetest.Clock, opts ...Option) (*Ledger, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.SetDefaults()
	a := New(st, cfg, reg, nil, opts...)
	if c != nil {
		a.now = c.Now
		a.lastSample = c.Now()
	}
	return a, reg
}

// observation, dataset and expect: the shared synthetic data set
// (internal/testutil/auditdata).
type observation = auditdata.Observation

var (
	dataset = auditdata.Dataset
	expect  = auditdata.Expect
)

func observeAll(a *Ledger, obs []observation) {
	for i := range obs {
		a.Observe(&obs[i].Rec, &obs[i].Res)
	}
}

func TestClip(t *testing.T) {
	long := strings.Repeat("é", 150) // 300 bytes
	tests := []struct{ in, want string }{
		{"", "unknown"},
		{"orders", "orders"},
		{"a\x00b", "ab"},
		{"bad\xffutf8", "bad\uFFFDutf8"},
		{long, strings.Repeat("é", 100)},
	}
	for _, tt := range tests {
		if got := clip(tt.in); got != tt.want || !utf8.ValidString(got) || len(got) > maxLabel {
			t.Errorf("clip(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestClipText: messages keep up to maxMessage bytes, valid UTF-8 without
// NUL bytes, cut on a rune boundary and marked with an ellipsis when cut.
func TestClipText(t *testing.T) {
	long := strings.Repeat("é", 300) // 600 bytes
	tests := []struct{ in, want string }{
		{"", "unknown"},
		{"field data.x is missing", "field data.x is missing"},
		{"a\x00b", "ab"},
		{strings.Repeat("x", 300) + "\xff", strings.Repeat("x", 300) + "\uFFFD"},
		{"x" + long, "x" + strings.Repeat("é", 249) + "…"},
		{strings.Repeat("y", 501), strings.Repeat("y", 500) + "…"},
	}
	for _, tt := range tests {
		if got := clipText(tt.in); got != tt.want || !utf8.ValidString(got) || len(got) > maxMessage+len("…") {
			t.Errorf("clipText(%.20q…) = %.30q… (%d bytes), want %.30q… (%d bytes)", tt.in, got, len(got), tt.want, len(tt.want))
		}
	}
}

// mon17 is the Monday of ISO week 2026-W47.
var mon17 = time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
