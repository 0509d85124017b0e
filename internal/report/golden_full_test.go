package report

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// fullReport is fixedReport with every optional section filled as a
// running instance fills it (catalog drift, flows, dead letters, poison
// pills, who reads what) and a note, so that the golden files hold every
// section of the report.
func fullReport(t *testing.T) *Weekly {
	t.Helper()
	r := fixedReport(t)
	at := time.Date(2026, 11, 18, 9, 30, 0, 0, time.UTC)
	part := int32(1)
	r.Notes = []Note{{Kind: "beyond_end", At: at, Topic: "orders.events", Partition: &part, Partitions: 1, From: 900, To: 12, Records: 0,
		Message: "orders.events/1: the stored position 900 was beyond the partition's end; reading resumed at 12"}}
	r.CatalogDrift = []CatalogDifference{{Kind: "seen_not_declared", Type: "orders.thing.happened", Version: "1.0",
		Message: "orders.thing.happened 1.0 is in traffic (from orders) but not declared"}}
	r.Flows = &Flows{Exact: 16, Inferred: 20, Ambiguous: 4, Roots: 4, LateEvents: 4, AmbiguousFlows: 1,
		Pathways:      []FlowPathway{{Pathway: "orders>billing", Flows: 8, Exact: 6, Inferred: 2, P50Second: 1.5, MaxSecond: 10.07}},
		AmbiguousHops: []AmbiguousHop{{From: "orders", To: "billing", Count: 4}}}
	r.DeadLetters = []DeadLetterCause{{Topic: "orders.dlq", ErrorClass: "java.lang.IllegalStateException: bad | amount", OriginalTopic: "orders.events",
		ConsumerGroup: "billing-consumer", EventType: "orders.thing.happened", Service: "orders", Count: 3, FirstSeen: at, LastSeen: at.Add(time.Hour),
		Trend: "up", Sample: "orders.dlq/0@7 evt-7"}, {Topic: "orders.dlq", ErrorClass: "=cmd|' /C calc'!A0", Service: "orders", Count: 1,
		FirstSeen: at, LastSeen: at, Trend: "same"}}
	r.PoisonPills = []PoisonPill{{Group: "billing-consumer", Topic: "orders.events", Partition: 1, Offset: 12, EventID: "evt-12",
		EventType: "orders.thing.happened", Service: "orders", Rules: []string{"envelope.missing_field"}, Since: at},
		{Group: "billing-consumer", Topic: "orders.events", Partition: 0, Offset: 4, Service: "orders", Since: at}}
	r.Consumers = &Consumers{
		Types: []TypeReaders{{Type: "orders.thing.happened", Version: "1.0", Producers: []LastSeen{{Name: "orders", Last: at}},
			Readers: []LastSeen{{Name: "billing-consumer", Last: at, Behind: 3}}, Verdict: "v1.0 cannot be retired: it is the newest version"},
			{Type: "legacy.thing.happened", Version: "1.0", Producers: []LastSeen{{Name: "legacy", Last: at}}, Verdict: "v1.0 cannot be retired: it is read"}},
		Idempotency: []IdempotencyRow{{Group: "billing-consumer", Type: "orders.thing.happened", Verdict: "not_idempotent", Redelivered: 2, Duplicated: 1,
			Example: "group billing-consumer is not idempotent for orders.thing.happened"}},
	}
	for _, s := range reportSections {
		if f := weeklyField(t, r, s.Key); f.IsZero() {
			fillSample(f, s.Key) // a section without data above: sample values, so that its golden shows it
		}
	}
	return r
}

// fillSample fills v with deterministic sample values: label for
// strings (with the field path), 1 for numbers, true, one element per
// slice and map, a fixed time.
func fillSample(v reflect.Value, label string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(label)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillSample(v.Elem(), label)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fillSample(v.Index(0), label)
	case reflect.Map:
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fillSample(k, label)
		fillSample(e, label)
		v.Set(reflect.MakeMap(v.Type()))
		v.SetMapIndex(k, e)
	case reflect.Struct:
		fillStruct(v, label)
	}
}

// fillStruct fills a struct's exported fields (fillSample), a time.Time
// with a fixed instant.
func fillStruct(v reflect.Value, label string) {
	if v.Type() == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(time.Date(2026, 11, 18, 9, 30, 0, 0, time.UTC)))
		return
	}
	for i := range v.NumField() {
		if v.Type().Field(i).IsExported() {
			fillSample(v.Field(i), label+"."+v.Type().Field(i).Name)
		}
	}
}

// TestGoldenFullRenderings compares the four renderings of the report
// with every section (fullReport) with testdata/golden/weekly_full.*
// (go test ./internal/report -run Golden -update rewrites them).
func TestGoldenFullRenderings(t *testing.T) {
	r := fullReport(t)
	for _, f := range Formats {
		var b bytes.Buffer
		if err := f.Render(&b, r); err != nil {
			t.Fatalf("render %s: %v", f.Name, err)
		}
		compareGolden(t, filepath.Join("testdata", "golden", "weekly_full."+f.Name), b.Bytes())
	}
}

// compareGolden compares got with the golden file at path, or rewrites
// it with -update.
func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		mustWrite(t, path, string(got))
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update): %v", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs (run go test ./internal/report -run Golden -update and review the diff)\n--- got\n%s", path, got)
	}
}
