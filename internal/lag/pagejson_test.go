package lag

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// pageGroupCases are groups with every field set and unset, strings
// encoding/json escapes, unknown and extreme numbers.
func pageGroupCases() []GroupLag {
	full := GroupLag{Group: "orders-consumer", Protocol: "classic", State: "Stable", Members: 3, Status: StatusErr, Cause: StatusStall,
		Why: "partition 4 of orders stalled for 5m0s", LagRecords: 1234, LagSeconds: 61.0004, BreachSeconds: 1800.25, AllowedLag: 10,
		MaxLag: &MaxLag{Topic: "orders", PartitionLag: PartitionLag{Partition: 4, Committed: 10, End: 20, LagRecords: 10, LagKnown: true,
			LagSeconds: 12.5, Status: StatusStall, Reason: "stalled", WaitingSeconds: 300, TimeToLoss: Seconds(math.NaN()),
			LastCommit: time.Date(2026, 12, 6, 9, 0, 0, 123, time.UTC)}},
		Complete: true, CompleteFraction: 0.75, UnknownPartitions: 2, DrainSeconds: Seconds(math.NaN()), LostRecords: 7, TimeToLoss: 3599.9996,
		Topics: []TopicLag{
			{Topic: "orders", LagRecords: 1234, LagSeconds: 61, Status: StatusStall, Committed: 12, UnknownPartitions: 1, LagSecondsSource: "exact",
				ExactPartitions: 3, EstimatedPartitions: 1, ConsumeRate: 10.5, ProduceRate: Rate(math.NaN()), DrainSeconds: Seconds(math.NaN()),
				LostRecords: 7, TimeToLoss: 3600, Findings: []StatusFinding{{Status: StatusStall, Reason: "stalled", Partitions: 1, Partition: 4, Committed: 10, Waiting: 300}},
				Partitions: []PartitionLag{{Partition: 4}}},
			{Topic: "payments", Status: StatusOK, ConsumeRate: 0, ProduceRate: 0, DrainSeconds: 0, TimeToLoss: Seconds(math.NaN())},
		},
		Error: "describe groups: <timeout> & \"retry\"", Stale: true}
	empty := GroupLag{LagSeconds: Seconds(math.NaN()), DrainSeconds: Seconds(math.NaN()), TimeToLoss: Seconds(math.NaN())}
	escaped := full
	escaped.Group, escaped.Why = "grüppe\u2028\x01\tname", "bad \xff utf-8 \\ </script>"
	escaped.Topics = []TopicLag{{Topic: "t<1>", LagSecondsSource: "estimated", Status: Status(99), Findings: []StatusFinding{{Reason: "é"}}}}
	tiny := full
	tiny.BreachSeconds, tiny.CompleteFraction, tiny.LagSeconds = 1e-7, 3e21, -0.0004
	tiny.MaxLag = nil
	return []GroupLag{full, empty, escaped, tiny}
}

// TestAppendPageGroupIsJSONMarshal: the writer's JSON of a group is
// json.Marshal(PageGroup(g)) byte for byte (a follower's page is the
// leader's only if it is), and so are its errors.
func TestAppendPageGroupIsJSONMarshal(t *testing.T) {
	for i, g := range pageGroupCases() {
		want, werr := json.Marshal(PageGroup(g))
		got, err := AppendPageGroup(nil, &g)
		if (err != nil) != (werr != nil) || werr == nil && !bytes.Equal(got, want) {
			t.Errorf("case %d:\n got %s (%v)\nwant %s (%v)", i, got, err, want, werr)
		}
	}
	inf := GroupLag{LagSeconds: Seconds(math.Inf(1))}
	if _, err := AppendPageGroup(nil, &inf); err == nil {
		t.Error("an infinite time lag was written; json.Marshal refuses it")
	}
}

// FuzzAppendPageGroup: for any strings, numbers and flags, the writer's
// JSON equals json.Marshal's, or both fail.
func FuzzAppendPageGroup(f *testing.F) {
	f.Add("orders", "Stable", "exact", "stalled", 61.5, 0.75, int64(12), 3, true, uint8(2))
	f.Add("<&>\u2028", "\xff", "", "é", math.NaN(), 1e-9, int64(-1), 0, false, uint8(9))
	f.Add("", "", "estimated", "", math.Inf(1), 2e21, int64(math.MaxInt64), -5, true, uint8(0))
	f.Fuzz(func(t *testing.T, name, state, source, reason string, secs, frac float64, n int64, parts int, flag bool, status uint8) {
		g := GroupLag{Group: name, State: state, Why: reason, Members: parts, Status: Status(status), LagRecords: n,
			LagSeconds: Seconds(secs), BreachSeconds: frac, CompleteFraction: secs, Complete: flag, Stale: flag, Error: reason,
			DrainSeconds: Seconds(frac), TimeToLoss: Seconds(-secs)}
		if flag {
			g.MaxLag = &MaxLag{Topic: name, PartitionLag: PartitionLag{LagSeconds: Seconds(secs), Reason: reason}}
		}
		for i := range parts % 4 {
			g.Topics = append(g.Topics, TopicLag{Topic: source + name, LagSecondsSource: source, Status: Status(status) + Status(i),
				LagSeconds: Seconds(frac), ConsumeRate: Rate(secs), UnknownPartitions: i, LostRecords: n,
				Findings: []StatusFinding{{Reason: reason, Waiting: Seconds(secs)}}, Partitions: []PartitionLag{{Partition: int32(i)}}})
		}
		want, werr := json.Marshal(PageGroup(g))
		got, err := AppendPageGroup(nil, &g)
		if (err != nil) != (werr != nil) || werr == nil && !bytes.Equal(got, want) {
			t.Fatalf("\n got %s (%v)\nwant %s (%v)", got, err, want, werr)
		}
	})
}

// BenchmarkPageGroupJSON renders a group on 20 topics (the estate
// benchmarks' shape) with AppendPageGroup and with json.Marshal.
func BenchmarkPageGroupJSON(b *testing.B) {
	g := pageGroupCases()[0]
	g.Error, g.Stale = "", false
	topic := g.Topics[0]
	g.Topics = nil
	for range 20 {
		g.Topics = append(g.Topics, topic)
	}
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for range b.N {
			buf, _ = AppendPageGroup(buf[:0], &g)
		}
		b.SetBytes(int64(len(buf)))
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		var js []byte
		for range b.N {
			js, _ = json.Marshal(PageGroup(g))
		}
		b.SetBytes(int64(len(js)))
	})
}

// TestAppendPageGroupKnowsEveryField: a group with every field of
// GroupLag, TopicLag and StatusFinding set (by reflection, so a field
// added later is set too, omitempty or not) is written as json.Marshal
// writes it: a new field the writer does not know fails here, not on a
// follower whose page would then differ from the leader's.
func TestAppendPageGroupKnowsEveryField(t *testing.T) {
	var g GroupLag
	fillNonZero(t, reflect.ValueOf(&g).Elem(), 1)
	want, err := json.Marshal(PageGroup(g))
	if err != nil {
		t.Fatal(err)
	}
	got, err := AppendPageGroup(nil, &g)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("every field set:\n got %s (%v)\nwant %s", got, err, want)
	}
}

// fillNonZero sets every field reachable from v to a non-zero value
// derived from n.
func fillNonZero(t *testing.T, v reflect.Value, n int) {
	t.Helper()
	if v.Type() == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(time.Date(2026, 12, 6, 12, 0, n, 0, time.UTC)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("s" + strconv.Itoa(n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(n%3 + 1))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(n%3 + 1))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(n) + 0.5)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillNonZero(t, v.Elem(), n+1)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fillNonZero(t, v.Index(i), n+i+1)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillNonZero(t, v.Field(i), n+i)
			}
		}
	default:
		t.Fatalf("fillNonZero: no value for a %s (%s): teach the test and AppendPageGroup", v.Kind(), v.Type())
	}
}
