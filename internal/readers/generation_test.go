package readers

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestGenerationFollowsDocument: the tracker's generation moves with every
// change of its Document — an indexed event, a join, a judged chain, an
// import of another replica's positions, a resume — and stays while the
// Document stays the same.
func TestGenerationFollowsDocument(t *testing.T) {
	tr, err := New(Config{}, nil, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	other := NewIndex(nil)
	feed(other, "u", 1, 4, "b.happened", "1", "s", t0)
	pos, _ := other.ExportPositions()
	var resumeFrom ReplicaDoc
	{
		before, _ := New(Config{}, nil, prometheus.NewRegistry())
		feed(before.Index, "v", 0, 0, "c.happened", "1", "s", t0)
		resumeFrom = before.Document(false, true)
	}
	doc := func() string {
		raw, err := json.Marshal(tr.Document(true, true))
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	changes := []struct {
		name   string
		change func()
	}{
		{"an indexed event", func() { feed(tr.Index, "t", 0, 3, "a.happened", "1", "s", t0) }},
		{"a join", func() { tr.Index.Join(t0.Add(time.Minute), []Commit{{"g", "t", 0, 9}}) }},
		{"a judged chain", func() { tr.ObserveChain(relayChain("x", 1, 2)) }},
		{"imported positions", func() { tr.Index.ImportPositions(pos) }},
		{"a resume", func() { tr.Resume(resumeFrom) }},
	}
	gen, was := tr.Generation(), doc()
	for _, c := range changes {
		c.change()
		now := doc()
		if now == was {
			t.Fatalf("%s: the document did not change", c.name)
		}
		if g := tr.Generation(); g == gen {
			t.Errorf("%s changed the document but not the generation", c.name)
		} else {
			gen = g
		}
		if doc() != now || tr.Generation() != gen {
			t.Errorf("after %s: reading the document changed it or the generation", c.name)
		}
		was = now
	}
}
