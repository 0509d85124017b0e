package audit

import (
	"fmt"
	"testing"
)

func TestRuleDrift(t *testing.T) {
	learnN := 5
	data := func(i int) string {
		opt := ""
		if i%2 == 0 {
			opt = `,"note":"n"`
		}
		return fmt.Sprintf(`{"entity_ref":{"entity_id":"e%d","entity_type":"essay"},"language":"en","text_storage_id":"s3://x/%d","words":%d%s,"tags":["a"]}`, i, i, i, opt)
	}
	cases := []struct {
		name string
		data string
		typ  string
		want []string // drift fields
	}{
		{"same shape", data(100), "", nil},
		{"optional field absent", `{"entity_ref":{"entity_id":"e","entity_type":"essay"},"language":"en","text_storage_id":"s","words":1,"tags":[]}`, "", nil},
		{"additive field", `{"entity_ref":{"entity_id":"e","entity_type":"essay"},"language":"en","text_storage_id":"s","words":1,"tags":["a"],"new":true}`, "", nil},
		{"removed field", `{"entity_ref":{"entity_id":"e","entity_type":"essay"},"text_storage_id":"s","words":1,"tags":["a"]}`, "", []string{"data.language"}},
		{"removed object reports the parent only", `{"language":"en","text_storage_id":"s","words":1,"tags":["a"]}`, "", []string{"data.entity_ref"}},
		{"changed type", `{"entity_ref":{"entity_id":"e","entity_type":"essay"},"language":"en","text_storage_id":"s","words":"1","tags":["a"]}`, "", []string{"data.words"}},
		{"changed array element type", `{"entity_ref":{"entity_id":"e","entity_type":"essay"},"language":"en","text_storage_id":"s","words":1,"tags":[1]}`, "", []string{"data.tags[]"}},
		{"null is not a type change", `{"entity_ref":{"entity_id":"e","entity_type":"essay"},"language":null,"text_storage_id":"s","words":1,"tags":["a"]}`, "", nil},
		{"new version learns anew", `{"text_storage_id":"s"}`, "huleedu.essaylifecycle.essay.spellcheck_requested.v2", nil},
	}
	e := newTestEngine(t, "huleedu", func(o *Options) { o.DriftLearnEvents = learnN })
	for i := 0; i < learnN; i++ {
		r := hule(map[string]string{"data": data(i)})
		if _, ok := findViolation(e.Check(&r), "drift.breaking_change"); ok {
			t.Fatalf("drift reported while learning (event %d)", i)
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := map[string]string{"data": tc.data}
			if tc.typ != "" {
				o["event_type"] = `"` + tc.typ + `"`
			}
			r := hule(o)
			var got []string
			for _, v := range e.Check(&r).Violations {
				if v.Rule == "drift.breaking_change" {
					got = append(got, v.Field)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("drift fields = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDriftBoundedTypes(t *testing.T) {
	e := newTestEngine(t, "huleedu", func(o *Options) { o.DriftMaxTypes = 3; o.DriftLearnEvents = 1 })
	for i := 0; i < 10; i++ {
		r := hule(map[string]string{"event_type": fmt.Sprintf(`"huleedu.a.b.t%d_created.v1"`, i)})
		e.Check(&r)
	}
	if n := len(e.drift.shapes); n != 3 {
		t.Fatalf("tracked shapes = %d, want 3", n)
	}
}
