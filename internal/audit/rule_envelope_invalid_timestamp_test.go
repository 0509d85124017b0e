package audit

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"testing"
	"time"
)

func TestRuleInvalidTimestamp(t *testing.T) {
	recAt := func(ts string, recTime time.Time) event.Record {
		r := hule(map[string]string{"event_timestamp": ts})
		r.Timestamp = recTime
		return r
	}
	runRuleCases(t, "envelope.invalid_timestamp", []ruleCase{
		{name: "utc offset", profile: "huleedu", rec: hule(nil)},
		{name: "zulu", profile: "huleedu", rec: hule(map[string]string{"event_timestamp": `"2026-03-01T11:00:00Z"`})},
		{name: "naive", profile: "huleedu", rec: hule(map[string]string{"event_timestamp": `"2026-03-01T11:00:00.123456"`}),
			fires: true, field: "event_timestamp", msg: "has no UTC offset"},
		{name: "not utc", profile: "huleedu", rec: hule(map[string]string{"event_timestamp": `"2026-03-01T11:00:00+02:00"`}),
			fires: true, field: "event_timestamp", msg: "is not in UTC"},
		{name: "garbage", profile: "authorworks", rec: aw(map[string]string{"meta.timestamp": `"yesterday"`}),
			fires: true, field: "meta.timestamp", msg: `"yesterday", which is not an RFC 3339 timestamp`},
		{name: "far future", profile: "huleedu", rec: hule(map[string]string{"event_timestamp": `"2027-03-01T11:00:00Z"`}),
			fires: true, field: "event_timestamp", msg: "in the future"},
		{name: "far past", profile: "huleedu", rec: hule(map[string]string{"event_timestamp": `"1970-01-01T00:00:00Z"`}),
			fires: true, field: "event_timestamp", msg: "in the past"},
		{name: "judged against the record timestamp", profile: "huleedu",
			rec: recAt(`"2030-01-01T00:00:00Z"`, time.Date(2030, 1, 1, 0, 0, 5, 0, time.UTC))},
	})
}
