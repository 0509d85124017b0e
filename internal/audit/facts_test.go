package audit

import (
	"testing"

	"github.com/eventwatch/eventwatch/internal/event"
)

func TestTopLevelFields(t *testing.T) {
	for in, want := range map[string]int{
		`{}`:                                  0,
		` { } `:                               0,
		`{"a":1}`:                             1,
		`{"a":1,"b":"x,y","c":{"d":1,"e":2}}`: 3,
		`{"a":[1,2,3],"b":"q\"uo,te"}`:        2,
		`{"a,b":{"c":[{"d":1},{"e":2}]}}`:     1,
	} {
		if got := topLevelFields([]byte(in)); got != want {
			t.Errorf("topLevelFields(%s) = %d, want %d", in, got, want)
		}
	}
}

// TestDataFactsAfterScan reads the facts the way a rule's check does: after
// the engine's scan of a real HuleEdu envelope (data at the profile's path).
func TestDataFactsAfterScan(t *testing.T) {
	e := newTestEngine(t, "huleedu")
	for value, want := range map[string]DataFacts{
		`{"event_id":"x","data":{"a":1,"b":{"c":2},"d":[1,2]}}`: {Present: true, Object: true, Fields: 3},
		`{"event_id":"x","data":"text"}`:                        {Present: true},
		`{"event_id":"x"}`:                                      {},
	} {
		st := &checkState{}
		c := &st.c
		*c = evalCtx{e: e, rec: &event.Record{Value: []byte(value)}, res: &st.res, ts: e.topicSettingsFor(""), s: &st.s, memo: &st.memo}
		c.scan()
		if got := c.dataFacts(); got != want {
			t.Errorf("%s: dataFacts = %+v, want %+v", value, got, want)
		}
	}
}
