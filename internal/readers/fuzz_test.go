package readers

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzImportPositions: whatever another replica's shared document holds
// (it comes from a Kafka topic), importing it and joining never panics
// and never makes a group read a type it has no committed offset for.
func FuzzImportPositions(f *testing.F) {
	f.Add([]byte(`[{"t":"orders","p":0,"x":[{"type":"a","v":"1","s":[[0,5,6,100,160]]}]}]`), int64(3))
	f.Add([]byte(`[{"t":"orders","p":0,"x":[{"type":"a","v":"1","s":[[-5,4294967295,0,4294967295,0],[9,0,1,0,0]]}]}]`), int64(-1))
	f.Add([]byte(`[{"t":"","p":-1,"x":[{"type":"","v":"","s":[[1,1,1,1,1],[1,1,1,1,1],[1,1,1,1,1],[1,1,1,1,1]]}]}]`), int64(1<<62))
	f.Fuzz(func(t *testing.T, doc []byte, commit int64) {
		var parts []PartitionPositions
		if json.Unmarshal(doc, &parts) != nil {
			return
		}
		x := NewIndex(nil)
		x.ImportPositions(parts)
		now := time.Unix(1_800_000_000, 0)
		x.Join(now, []Commit{{"g", "orders", 0, commit}})
		x.Join(now.Add(time.Second), []Commit{{"g", "orders", 0, commit / 2}})
		for k, rs := range x.Readers() {
			for _, r := range rs {
				if r.Group != "g" || r.BehindEvents < 0 {
					t.Fatalf("%v: reader %+v", k, r)
				}
			}
		}
		_ = Build(x.Stats(), x.Readers(), nil, now, time.Hour)
	})
}
