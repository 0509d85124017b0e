package metrics

import (
	"bytes"
	"strings"
	"testing"
)

func TestCatalogueFollowsConventions(t *testing.T) {
	if len(All()) == 0 {
		t.Fatal("catalogue is empty")
	}
	for _, s := range All() {
		if err := Check(s); err != nil {
			t.Error(err)
		}
	}
}

func TestCheckRejects(t *testing.T) {
	ok := Spec{Name: "eventwatch_x_seconds", Kind: Gauge, Help: "h.", Area: "self"}
	tests := []struct {
		name   string
		mutate func(*Spec)
		want   string
	}{
		{"counter without _total", func(s *Spec) { s.Kind = Counter; s.Name = "eventwatch_things" }, "must end in _total"},
		{"gauge with _total", func(s *Spec) { s.Name = "eventwatch_things_total" }, "counters only"},
		{"missing prefix", func(s *Spec) { s.Name = "things_seconds" }, "eventwatch_"},
		{"camel case", func(s *Spec) { s.Name = "eventwatch_hopLatency_seconds" }, "lower_snake_case"},
		{"no help", func(s *Spec) { s.Help = " " }, "help text"},
		{"no area", func(s *Spec) { s.Area = "" }, "area"},
		{"latency without unit", func(s *Spec) { s.Name = "eventwatch_hop_latency" }, "unit suffix"},
		{"milliseconds", func(s *Spec) { s.Name = "eventwatch_hop_latency_milliseconds" }, "base unit"},
		{"histogram without unit", func(s *Spec) { s.Kind = Histogram; s.Name = "eventwatch_chain_length" }, "histogram"},
		{"event id label", func(s *Spec) { s.Labels = []string{"topic", "event_id"} }, "unbounded"},
		{"correlation id label", func(s *Spec) { s.Labels = []string{"correlation_id"} }, "unbounded"},
		{"trace id label", func(s *Spec) { s.Labels = []string{"trace_id"} }, "unbounded"},
		{"key label", func(s *Spec) { s.Labels = []string{"key"} }, "unbounded"},
		{"reserved label", func(s *Spec) { s.Labels = []string{"le"} }, "reserved"},
		{"repeated label", func(s *Spec) { s.Labels = []string{"topic", "topic"} }, "repeated"},
		{"unknown kind", func(s *Spec) { s.Kind = "summary" }, "unknown kind"},
	}
	if err := Check(ok); err != nil {
		t.Fatalf("baseline spec rejected: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.mutate(&s)
			err := Check(s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check(%+v) = %v, want an error containing %q", s, err, tt.want)
			}
		})
	}
}

func TestWriteMarkdownListsEveryMetric(t *testing.T) {
	var a, b bytes.Buffer
	if err := WriteMarkdown(&a); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("WriteMarkdown is not deterministic")
	}
	doc := a.String()
	for _, s := range All() {
		row := "| `" + s.Name + "` | " + string(s.Kind) + " | " + labelList(s.Labels) + " | "
		if !strings.Contains(doc, row) {
			t.Errorf("docs/metrics.md has no row starting %q", row)
		}
		if !strings.Contains(doc, cell(s.Help)) {
			t.Errorf("docs/metrics.md lacks the help of %s", s.Name)
		}
	}
	for _, a := range areasInOrder() {
		if !strings.Contains(doc, "](#"+anchor(a.title)+")") || !strings.Contains(doc, "## "+a.title+"\n") {
			t.Errorf("area %q has no section or table-of-contents entry", a.key)
		}
	}
}

func TestCellEscapesPipes(t *testing.T) {
	if got := cell("a|b\nc"); got != `a\|b c` {
		t.Fatalf("cell = %q", got)
	}
}
