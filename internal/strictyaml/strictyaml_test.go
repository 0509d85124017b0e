package strictyaml

import (
	"errors"
	"testing"
	"time"
)

type doc struct {
	Name   string            `yaml:"name"`
	Wait   time.Duration     `yaml:"wait"`
	Items  []item            `yaml:"items"`
	Labels map[string]string `yaml:"labels"`
	Skip   string            `yaml:"-"`
}

type item struct {
	N int `yaml:"n"`
}

func TestDecodeErrorsNamePathAndLine(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"name: a\nnom: b\n", "nom: unknown field (line 2)"},
		{"wait: 10\n", `wait: cannot parse "10" as a duration (use a unit, e.g. 30s or 5m) (line 1)`},
		{"items:\n  - n: 1\n  - n: x\n", `items[1].n: cannot parse "x" as an integer (line 3)`},
		{"items: {n: 1}\n", "items: expected a list, got a mapping (line 1)"},
		{"labels: [a]\n", "labels: expected a mapping, got a list (line 1)"},
		{"skip: x\n", "skip: unknown field (line 1)"},
		{"[", "parse yaml: yaml: line 1: did not find expected node content"},
	} {
		var d doc
		err := Decode([]byte(tt.in), &d)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Decode(%q) = %v, want %q", tt.in, err, tt.want)
		}
	}
}

func TestDecodeOverDefaults(t *testing.T) {
	d := doc{Name: "default", Wait: time.Second}
	if err := Decode([]byte("wait: 5s\nitems: [{n: 2}]\n"), &d); err != nil {
		t.Fatal(err)
	}
	if d.Name != "default" || d.Wait != 5*time.Second || len(d.Items) != 1 || d.Items[0].N != 2 {
		t.Fatalf("decoded %+v", d)
	}
	if err := Decode([]byte("# only a comment\n"), &d); !errors.Is(err, ErrEmpty) {
		t.Fatalf("empty document: %v", err)
	}
}

func TestAtFindsLines(t *testing.T) {
	root, err := Parse([]byte("name: a\nlabels:\n  naming.topic: x\nitems:\n  - n: 1\n  - n: 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{
		"name": 1, "labels.naming.topic": 3, "items[1].n": 6, "items[1]": 6, "items[5].n": 4, "wait": 0,
	} {
		if got := LineOf(root, path); got != want {
			t.Errorf("LineOf(%q) = %d, want %d", path, got, want)
		}
	}
	if got := At(root, "name", "is wrong").Error(); got != "name: is wrong (line 1)" {
		t.Errorf("At = %q", got)
	}
	if got := At(root, "wait", "must be positive").Error(); got != "wait: must be positive" {
		t.Errorf("At without a line = %q", got)
	}
}

// TestDecodeReportsEveryProblem: one run names every wrong key, in
// document order, and still decodes the rest over the defaults.
func TestDecodeReportsEveryProblem(t *testing.T) {
	d := doc{Name: "default", Wait: time.Second}
	root, err := DecodeAll([]byte("nom: b\nwait: 10\nitems:\n  - n: 1\n  - n: x\n  - n: 3\nlabels: {a: b}\nname: kept\n"), &d)
	want := "nom: unknown field (line 1)\n" +
		`wait: cannot parse "10" as a duration (use a unit, e.g. 30s or 5m) (line 2)` + "\n" +
		`items[1].n: cannot parse "x" as an integer (line 5)`
	var all *Errors
	if err == nil || err.Error() != want || !errors.As(err, &all) || len(all.List) != 3 {
		t.Fatalf("DecodeAll = %v, want\n%s", err, want)
	}
	var first *Error
	if !errors.As(err, &first) || first.Path != "nom" {
		t.Errorf("errors.As finds %+v, want the first problem", first)
	}
	if d.Name != "kept" || d.Wait != time.Second || len(d.Items) != 3 || d.Items[1].N != 0 || d.Items[2].N != 3 || d.Labels["a"] != "b" {
		t.Errorf("the rest was not decoded over the defaults: %+v", d)
	}
	if root == nil || LineOf(root, "name") != 8 {
		t.Errorf("document lines lost: %v", root)
	}
}

// TestDecodeNodeNamesPathUnderPrefix: a section decoded on its own reports
// its keys under the path it is given, every problem, with lines.
func TestDecodeNodeNamesPathUnderPrefix(t *testing.T) {
	root, err := Parse([]byte("a: 1\nrules:\n  size:\n    max: x\n    maxx: 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Size struct {
			Max int `yaml:"max"`
		} `yaml:"size"`
	}
	err = DecodeNode(root.Content[0].Content[3], "rules", &out)
	want := "rules.size.max: cannot parse \"x\" as an integer (line 4)\nrules.size.maxx: unknown field (line 5)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	if err := DecodeNode(nil, "rules", &out); err != nil {
		t.Fatalf("nil node: %v", err)
	}
}
