package audit

import (
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/policy"

	"bytes"
	"encoding/json"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// benchEvent is a compliant ~1 KiB event of a profile; its event id's last
// 12 hex digits sit at idAt so each iteration can make the id unique.
func benchEvent(profile string) (value []byte, idAt int) {
	notes := `,"notes":{"reviewer":"teacher-17","rubric":"argumentative-essay-v3","tags":["grade-9","term-2","class-b","draft"],` +
		`"scores":{"structure":4,"grammar":3,"vocabulary":4,"argument":5},"flags":{"late":false,"resubmission":true},` +
		`"comment":"Clear thesis; the second paragraph needs evidence. Check the spelling of 'necessary' and 'separate'. Good use of transitions."}`
	var v []byte
	switch profile {
	case "huleedu":
		v = huleEvent(map[string]string{"data": `{"entity_ref":{"entity_id":"essay-42","entity_type":"essay","parent_id":"batch-2026-03-01-a"},` +
			`"language":"en","text_storage_id":"s3://huleedu-essays/2026/03/01/batch-a/essay-42/original.txt",` +
			`"system_metadata":{"processing_stage":"spellcheck","started_at":"2026-03-01T11:58:59.120000+00:00","attempt":1,` +
			`"origin":"essay_lifecycle_service","queue":"huleedu.dev.essaylifecycle.essay"}` + notes + `}`})
	default:
		v = awEvent(map[string]string{"data": `{"book_id":"bk-1001","title":"The Quiet Shore","author_id":"au-77","isbn":"978-3-16-148410-0",` +
			`"manuscript_ref":"s3://authorworks-manuscripts/au-77/bk-1001/v12/manuscript.docx","pages":412,"language":"en",` +
			`"categories":["fiction","literary","coastal"],"editions":[{"format":"hardcover","price_cents":2899},{"format":"ebook","price_cents":1299}]` + notes + `}`})
	}
	id := []byte("5d6e7f8a9b0c")
	if profile != "huleedu" {
		id = []byte("0a1b2c3d4e5f")
	}
	return v, bytes.Index(v, id)
}

// setID writes n as 12 hex digits into the event id.
func setID(v []byte, at int, n int) {
	const hex = "0123456789abcdef"
	for i := 11; i >= 0; i-- {
		v[at+i] = hex[n&15]
		n >>= 4
	}
}

// BenchmarkCheck measures the audit path (scan, envelope, every record rule
// of the profile except catalog.*, drift and duplicates included) on ~1 KiB
// events with a fresh event id each iteration.
func BenchmarkCheck(b *testing.B) {
	for _, profile := range policy.BuiltinProfiles() {
		b.Run(profile, func(b *testing.B) {
			e := newTestEngine(b, profile)
			v, at := benchEvent(profile)
			rec := event.Record{Topic: map[string]string{"huleedu": "huleedu.dev.essaylifecycle.essay", "authorworks": "content"}[profile],
				Key: []byte("k"), Value: v, Timestamp: testNow}
			if res := e.Check(&rec); len(res.Violations) != 0 {
				b.Fatalf("benchmark event is not compliant: %+v", res.Violations)
			}
			benchLoop(b, len(v), func(i int) {
				setID(v, at, i)
				e.Check(&rec)
			})
		})
	}
}

// BenchmarkCheckParallel is BenchmarkCheck from GOMAXPROCS goroutines on
// one shared engine.
func BenchmarkCheckParallel(b *testing.B) {
	e := newTestEngine(b, "huleedu")
	tmpl, at := benchEvent("huleedu")
	b.SetBytes(int64(len(tmpl)))
	b.ReportAllocs()
	var seq int64
	var mu = make(chan struct{}, 1)
	b.RunParallel(func(pb *testing.PB) {
		v := append([]byte(nil), tmpl...)
		mu <- struct{}{}
		seq++
		base := int(seq) << 32
		<-mu
		rec := event.Record{Topic: "huleedu.dev.essaylifecycle.essay", Value: v, Timestamp: testNow}
		for i := 0; pb.Next(); i++ {
			setID(v, at, base+i)
			e.Check(&rec)
		}
	})
}

// BenchmarkCheckWithCatalog adds catalog lookups and JSON Schema
// validation of data (catalog.schema decodes data generically).
func BenchmarkCheckWithCatalog(b *testing.B) {
	e := newTestEngine(b, "authorworks", withCatalog(exampleCatalog(b, "authorworks")))
	v, at := benchEvent("authorworks")
	rec := event.Record{Topic: "content", Key: []byte("k"), Value: v, Timestamp: testNow}
	benchLoop(b, len(v), func(i int) {
		setID(v, at, i)
		e.Check(&rec)
	})
}

// envelopeSchemas are the profiles' envelopes as JSON Schemas: the
// generic-validator baseline for the envelope checks the scanner makes
// (the engine checks more: naming, tense, blobs, drift, duplicates).
var envelopeSchemas = map[string]string{
	"huleedu": `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["event_id", "event_type", "event_timestamp", "source_service", "data"],
  "properties": {
    "event_id": {"type": "string", "format": "uuid"},
    "event_type": {"type": "string", "pattern": "^huleedu\\.[a-z][a-z0-9_]*\\.[a-z][a-z0-9_]*\\.[a-z][a-z0-9_]*\\.v[0-9]+$"},
    "event_timestamp": {"type": "string", "format": "date-time"},
    "source_service": {"type": "string", "minLength": 1},
    "correlation_id": {"type": ["string", "null"], "format": "uuid"},
    "data": {"type": "object"}
  }
}`,
	"authorworks": `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["meta", "data"],
  "additionalProperties": false,
  "properties": {
    "meta": {
      "type": "object",
      "required": ["id", "type", "version", "timestamp", "correlation_id", "source", "trace_context"],
      "additionalProperties": false,
      "properties": {
        "id": {"type": "string", "pattern": "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"},
        "type": {"type": "string", "pattern": "^[a-z][a-z0-9_]*\\.[a-z][a-z0-9_]*\\.[a-z][a-z0-9_]*$"},
        "version": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"},
        "correlation_id": {"type": "string", "minLength": 1},
        "source": {"type": "string", "minLength": 1},
        "trace_context": {
          "type": "object",
          "required": ["trace_id", "span_id"],
          "additionalProperties": false,
          "properties": {"trace_id": {"type": "string", "minLength": 1}, "span_id": {"type": "string", "minLength": 1}}
        }
      }
    },
    "data": {"type": "object"}
  }
}`,
}

// BenchmarkBaselineJSONSchema decodes the same events generically
// (jsonschema.UnmarshalJSON, i.e. encoding/json with UseNumber) and
// validates them with santhosh-tekuri/jsonschema against the profile's
// envelope schema, format assertions on.
func BenchmarkBaselineJSONSchema(b *testing.B) {
	for _, profile := range policy.BuiltinProfiles() {
		b.Run(profile, func(b *testing.B) {
			sch := compileBaseline(b, envelopeSchemas[profile])
			v, at := benchEvent(profile)
			benchLoop(b, len(v), func(i int) {
				setID(v, at, i)
				inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(v))
				if err != nil {
					b.Fatal(err)
				}
				if err := sch.Validate(inst); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

func compileBaseline(b *testing.B, schema string) *jsonschema.Schema {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(schema))
	if err != nil {
		b.Fatal(err)
	}
	if err := c.AddResource("mem:///envelope.json", doc); err != nil {
		b.Fatal(err)
	}
	sch, err := c.Compile("mem:///envelope.json")
	if err != nil {
		b.Fatal(err)
	}
	return sch
}

// BenchmarkScan is the scanner alone validating the same event (grammar
// and UTF-8, no envelope): the floor under BenchmarkCheck.
func BenchmarkScan(b *testing.B) {
	v, _ := benchEvent("huleedu")
	var s scanner
	benchLoop(b, len(v), func(int) {
		s.reset(v, nil, 0)
		if !s.document(nil) {
			b.Fatal(s.err)
		}
	})
}

// BenchmarkCalibrateJSONValid runs encoding/json.Valid on the same event:
// a machine-speed reference for comparing runs on different hardware.
func BenchmarkCalibrateJSONValid(b *testing.B) {
	v, _ := benchEvent("huleedu")
	benchLoop(b, len(v), func(int) {
		if !json.Valid(v) {
			b.Fatal("invalid")
		}
	})
}

// benchLoop runs fn b.N times and reports events/s and MB/s twice: by wall
// clock (events/s; MB/s from SetBytes) and by the process CPU time the
// loop consumed (cpu-events/s, cpu-MB/s), which is the per-core figure and
// stays meaningful on a machine shared with other work.
func benchLoop(b *testing.B, size int, fn func(i int)) {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), processCPU()
	for i := 0; i < b.N; i++ {
		fn(i)
	}
	cpu := processCPU() - cpu0
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "cpu-events/s")
		b.ReportMetric(float64(b.N)*float64(size)/cpu.Seconds()/1e6, "cpu-MB/s")
	}
}

// processCPU is the user+system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestBenchEventSize(t *testing.T) {
	for _, p := range policy.BuiltinProfiles() {
		v, at := benchEvent(p)
		if len(v) < 900 || len(v) > 1200 || at < 0 {
			t.Errorf("%s bench event is %d bytes (id at %d), want ~1 KiB", p, len(v), at)
		}
	}
}

// BenchmarkRatioVsBaseline alternates batches of Check (200 events) and of
// the generic baseline (20 events) on one locked OS thread and charges each
// batch the thread's CPU time, so both sides see the same machine load;
// it reports both throughputs and their ratio ("x-baseline"). The
// "-stateless" variant turns drift and duplicate detection off. GC work the
// baseline's allocations cause on other threads is not charged to it, so
// the ratio is conservative.
func BenchmarkRatioVsBaseline(b *testing.B) {
	for _, name := range []string{"authorworks", "huleedu", "huleedu-stateless"} {
		profile := strings.TrimSuffix(name, "-stateless")
		b.Run(name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			e := newTestEngine(b, profile)
			if name != profile {
				e = statelessEngine(b, profile)
			}
			sch := compileBaseline(b, envelopeSchemas[profile])
			v, at := benchEvent(profile)
			rec := event.Record{Topic: map[string]string{"huleedu": "huleedu.dev.essaylifecycle.essay", "authorworks": "content"}[profile],
				Key: []byte("k"), Value: v, Timestamp: testNow}
			var ours, base time.Duration
			n := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := threadCPU()
				for k := 0; k < 200; k++ {
					n++
					setID(v, at, n)
					e.Check(&rec)
				}
				t1 := threadCPU()
				for k := 0; k < 20; k++ {
					n++
					setID(v, at, n)
					inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(v))
					if err != nil || sch.Validate(inst) != nil {
						b.Fatal("baseline rejected the event")
					}
				}
				ours, base = ours+t1-t0, base+threadCPU()-t1
			}
			oursMBs := float64(b.N) * 200 * float64(len(v)) / ours.Seconds() / 1e6
			baseMBs := float64(b.N) * 20 * float64(len(v)) / base.Seconds() / 1e6
			b.ReportMetric(oursMBs, "check-cpu-MB/s")
			b.ReportMetric(baseMBs, "baseline-cpu-MB/s")
			b.ReportMetric(oursMBs/baseMBs, "x-baseline")
		})
	}
}

// statelessEngine is the profile with drift.breaking_change and
// duplicate.event_id off: the checks a schema validator could make.
func statelessEngine(b *testing.B, profile string) *Engine {
	data, err := policy.BuiltinPolicy(profile)
	if err != nil {
		b.Fatal(err)
	}
	y := strings.Replace(string(data), "severities:\n", "severities:\n  drift.breaking_change: \"off\"\n  duplicate.event_id: \"off\"\n", 1)
	p, err := policy.ParsePolicy(profile+".yaml", []byte(y))
	if err != nil {
		b.Fatal(err)
	}
	e, err := NewEngine(Options{Profile: p, Now: func() time.Time { return testNow }})
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// threadCPU is the CPU time of the calling OS thread (RUSAGE_THREAD).
func threadCPU() time.Duration {
	const rusageThread = 1
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
