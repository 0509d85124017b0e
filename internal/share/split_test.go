package share

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

var testSplits = []Split{
	{Path: "page.groups", Key: []string{"group"}},
	{Path: "page.violations", Key: []string{"rule", "resource"}},
	{Path: "hops"},
}

// roundTrip splits doc and assembles it again from the items, as a reader
// holding exactly those items would.
func roundTrip(t testing.TB, doc []byte, splits []Split) ([]byte, map[string][]item) {
	t.Helper()
	tree := newPathTree(splits)
	head, items, err := splitDoc(doc, tree)
	if err != nil {
		t.Fatalf("split %s: %v", doc, err)
	}
	out, err := assembleDoc(head, tree, func(path string) []item { return items[path] })
	if err != nil {
		t.Fatalf("assemble %s: %v", head, err)
	}
	return out, items
}

func TestSplitAssembleIsIdentity(t *testing.T) {
	for _, doc := range []string{
		`{"page":{"time":"t","groups":[{"group":"a","lag":1},{"group":"b","lag":2}],"violations":[{"rule":"r","resource":"x"},{"rule":"r","resource":"y"}]},"hops":{"a\u001fb":{"n":1},"c":{"n":2}}}`,
		`{"page":{"groups":[],"violations":null},"hops":{}}`,
		`{"page":null}`,
		`{"other":[1,2,3]}`,
		`{"page":{"groups":[{"group":"b"},{"group":"a"}]}}`, // unsorted: keyed by position
		`{"page":{"groups":[{"nogroup":1},{"group":"a"}]}}`, // missing key member
		`{"page":{"groups":[{"group":"a"},{"group":"a"}]}}`, // duplicate keys
		`{"page":{"groups":[1,"x",null]},"hops":[1]}`,       // not objects; an array where an object was expected
		`{"hops":{"\u003cb\u003e":1,"é":2}}`,                // escaped and non-ASCII names
		`{"page":{"groups":"text"},"hops":3}`,               // scalars stay in the head
	} {
		got, _ := roundTrip(t, []byte(doc), testSplits)
		if !bytes.Equal(got, []byte(doc)) {
			t.Errorf("round trip\n got %s\nwant %s", got, doc)
		}
	}
}

func TestSplitKeysItems(t *testing.T) {
	doc := `{"page":{"groups":[{"group":"a","lag":1},{"group":"b/c","lag":2}],"violations":[{"rule":"r","resource":"x"}]},"hops":{"h":{"n":1}}}`
	_, items := roundTrip(t, []byte(doc), testSplits)
	var keys []string
	for _, p := range []string{"page.groups", "page.violations", "hops"} {
		for _, it := range items[p] {
			keys = append(keys, p+"="+it.key)
		}
	}
	want := "page.groups=a page.groups=b/c page.violations=r\x1fx hops=h"
	if got := strings.Join(keys, " "); got != want {
		t.Errorf("keys %q, want %q", got, want)
	}
	if string(items["page.groups"][1].raw) != `{"group":"b/c","lag":2}` {
		t.Errorf("item raw = %s", items["page.groups"][1].raw)
	}
}

func TestKindValidate(t *testing.T) {
	for _, k := range []Kind{
		{Name: ""}, {Name: "a/b"},
		{Name: "k", Splits: []Split{{Path: "a/b"}}},
		{Name: "k", Splits: []Split{{Path: "a"}, {Path: "a"}}},
		{Name: "k", Splits: []Split{{Path: "a"}, {Path: "a.b"}}},
	} {
		if k.validate() == nil {
			t.Errorf("%+v validated", k)
		}
	}
	if err := (Kind{Name: "groups", Splits: testSplits}).validate(); err != nil {
		t.Error(err)
	}
}

func TestParseKey(t *testing.T) {
	for key, want := range map[string]recKey{
		"groups/r1":                    {kind: "groups", replica: "r1"},
		"groups/r1/page.groups/a/b":    {kind: "groups", replica: "r1", path: "page.groups", item: "a/b"},
		"groups/r1/page.groups/a\x003": {kind: "groups", replica: "r1", path: "page.groups", item: "a", part: 3},
		"groups/r1\x002":               {kind: "groups", replica: "r1", part: 2},
	} {
		got, ok := parseKey(key)
		if !ok || got != want {
			t.Errorf("parseKey(%q) = %+v %t, want %+v", key, got, ok, want)
		}
	}
	if k := itemRecordKey("readers", "r1", "readers", "t\x00v%00"); k != "readers/r1/readers/t%00v%2500" {
		t.Errorf("itemRecordKey escapes to %q", k)
	}
	for _, bad := range []string{"", "groups", "groups/", "a/b/c", "groups/r1\x00x", "groups/r1\x000"} {
		if _, ok := parseKey(bad); ok {
			t.Errorf("parseKey(%q) accepted", bad)
		}
	}
}

// FuzzSplitAssemble: for any JSON document, splitting and assembling
// gives back the compact encoding byte for byte, and never panics on
// anything else.
func FuzzSplitAssemble(f *testing.F) {
	for _, s := range []string{
		`{"page":{"groups":[{"group":"a"}]},"hops":{"x":1}}`, `{}`, `[]`, `null`, `{"page":{"groups":[{"group":1},{"group":1}]}}`,
		`{"page":{"violations":[{"rule":"a","resource":"b"},{"rule":"a","resource":"c"}]}}`, `{"hops":{"a":1,"a":2}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var v any
		if json.Unmarshal(in, &v) != nil {
			tree := newPathTree(testSplits)
			_, _, _ = splitDoc(in, tree) // must not panic
			_, _ = assembleDoc(in, tree, func(string) []item { return []item{{key: "k", raw: []byte("1")}} })
			return
		}
		if _, ok := v.(map[string]any); !ok {
			return
		}
		doc := mustMarshal(v) // as a publisher's json.Marshal writes it
		if got, _ := roundTrip(t, doc, testSplits); !bytes.Equal(got, doc) {
			t.Fatalf("round trip changed the document:\n in %s\nout %s", doc, got)
		}
	})
}

func mustMarshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
