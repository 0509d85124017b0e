package catalog

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestMergeEqualsOneLearner: traffic split by partition over three
// replicas, each learner's state shared as JSON and merged, gives the
// state one learner of all the traffic has, and the same document.
func TestMergeEqualsOneLearner(t *testing.T) {
	recs := fixedTraffic()
	whole, p := learnTraffic(t, recs, nil)
	var docs []ReplicaDoc
	for part := range int32(3) {
		var mine []*event.Record
		for _, r := range recs {
			if r.Partition == part {
				mine = append(mine, r)
			}
		}
		l, _ := learnTraffic(t, mine, nil)
		doc := ReplicaDoc{State: l.State()}
		if part == 1 {
			doc.Cluster, doc.ClusterAt = fixedCluster(), testNow
		}
		raw, err := json.Marshal(doc.Bounded())
		if err != nil {
			t.Fatal(err)
		}
		var back ReplicaDoc
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, back)
	}
	merged, cl := MergeReplicas(docs...)
	want := whole.State()
	if !reflect.DeepEqual(merged, want) {
		a, _ := json.MarshalIndent(merged, "", " ")
		b, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("merged state differs:\n%s\nwant\n%s", a, b)
	}
	got, _ := Discover(&Estate{State: merged, Cluster: cl, Profile: p.Name, DataPath: "data", CorrelationPath: "meta.correlation_id", Generated: testNow}).YAML()
	exp, _ := Discover(estateOf(whole, p, fixedCluster())).YAML()
	if string(got) != string(exp) {
		t.Error("the merged estate's document differs from the single learner's")
	}
}

// TestMergeNewestCluster: the most recently collected cluster view wins.
func TestMergeNewestCluster(t *testing.T) {
	old := &Cluster{Groups: []GroupTopics{{Group: "old"}}}
	cur := &Cluster{Groups: []GroupTopics{{Group: "new"}}}
	_, cl := MergeReplicas(ReplicaDoc{Cluster: cur, ClusterAt: testNow}, ReplicaDoc{Cluster: old, ClusterAt: testNow.Add(-time.Minute)}, ReplicaDoc{})
	if cl != cur {
		t.Fatalf("cluster = %+v", cl)
	}
}

// TestBoundedDropsShapes: a document over the size bound keeps every
// type's counts but drops the shapes of the least-seen types first.
func TestBoundedDropsShapes(t *testing.T) {
	var st State
	for i := range 400 {
		s := &Shape{}
		l := newLearner(s)
		m := map[string]any{}
		for j := range 100 {
			m["field_with_a_long_name_"+string(rune('a'+j%26))+string(rune('a'+j/26))] = "x"
		}
		l.add(s, m, 0)
		st.Types = append(st.Types, TypeState{Type: "t" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Version: "1", Checked: int64(i + 1), Value: s})
	}
	d := ReplicaDoc{State: st}.Bounded()
	raw, _ := json.Marshal(d)
	if len(raw) > maxSharedBytes {
		t.Fatalf("bounded document is %d bytes", len(raw))
	}
	if len(d.State.Types) != 400 || d.State.Types[399].Value == nil || d.State.Types[0].Value != nil {
		t.Fatal("the most-seen types should keep their shapes, the least-seen lose them, and every type stays")
	}
	if st.Types[0].Value == nil {
		t.Fatal("Bounded modified its input")
	}
}

// TestClusterWithoutOwnGroups: eventwatch's own groups are no consumers.
func TestClusterWithoutOwnGroups(t *testing.T) {
	all := &Cluster{Groups: []GroupTopics{{Group: "eventwatch"}, {Group: "search-service"}, {Group: "eventwatch-leader"}}}
	cl := all.Without("eventwatch", "eventwatch-leader")
	if len(cl.Groups) != 1 || cl.Groups[0].Group != "search-service" {
		t.Fatalf("groups = %+v", cl.Groups)
	}
}
