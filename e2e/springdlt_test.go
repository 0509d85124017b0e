//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/policy"
	"github.com/eventwatch/eventwatch/internal/testutil/bins"
	"github.com/eventwatch/eventwatch/internal/testutil/enginetest"
	"github.com/eventwatch/eventwatch/internal/testutil/metricstest"
	"github.com/eventwatch/eventwatch/internal/testutil/realkafka"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
	"github.com/eventwatch/eventwatch/internal/trace"
)

const springOriginal = `{"event_id":"3f1c2a9e-8a51-4d3b-9a53-1d2f0b7c6e11","event_type":"huleedu.essaylifecycle.essay.spellcheck_requested.v1",` +
	`"event_timestamp":"2026-01-05T10:00:00Z","source_service":"essay_lifecycle_service","correlation_id":"9b0e7d1c-2f4a-4c2e-8d6b-5a4f3e2d1c0b",` +
	`"data":{"entity_ref":{"entity_id":"e-1","entity_type":"essay"},"text_storage_id":"s-1"}}`

// TestSpringDeadLetterRecords dead-letters a HuleEdu event with
// spring-kafka's own DeadLetterPublishingRecoverer (e2e/spring-dlt, from
// Maven Central) against the real broker, reads the record back and
// audits it: the huleedu profile (no wrapper required) takes the
// kafka_dlt-exception-* headers as the error context; authorworks (wrapper
// required) still flags it; without the headers huleedu flags it too. The
// trace stitcher takes the real copy (on the .dlq topic, and renamed to
// Spring's default .DLT) for what it is: noted on its original, counted as
// a dead letter, neither stitched nor dropped as a duplicate (issue 23).
func TestSpringDeadLetterRecords(t *testing.T) {
	mvn := bins.Require(t, "apt-get install maven", "mvn")
	javac := bins.Require(t, "apt-get install openjdk-17-jdk-headless", "javac")
	java := bins.Require(t, "apt-get install openjdk-17-jre-headless", "java")
	b := realkafka.Start(t)
	ctx := rkTestContext(t, 4*time.Minute)
	const source, dlt = "huleedu.dev.essaylifecycle.essay", "huleedu.dev.essaylifecycle.essay.dlq"
	rkCreateTopic(ctx, t, b, dlt, 1)

	cp := springClasspath(ctx, t, mvn, javac)
	cmd := exec.CommandContext(ctx, java, "-cp", cp, "eventwatch.e2e.DeadLetter", b.Addr(), source, dlt)
	cmd.Stdin = strings.NewReader(springOriginal)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("DeadLetterPublishingRecoverer: %v\n%s", err, out)
	}

	rec := readOne(ctx, t, b, dlt)
	keys := make([]string, len(rec.Headers))
	for i, h := range rec.Headers {
		keys[i] = h.Key
	}
	t.Logf("headers Spring wrote: %v", keys)
	for _, want := range []string{"kafka_dlt-exception-fqcn", "kafka_dlt-exception-message", "kafka_dlt-original-topic"} {
		if !contains(keys, want) {
			t.Errorf("no %s header among %v", want, keys)
		}
	}
	if string(rec.Value) != springOriginal {
		t.Errorf("the dead-letter value is not the original as is: %s", rec.Value)
	}

	if v, ok := dlqViolation(t, "huleedu", rec); ok {
		t.Errorf("huleedu flags a Spring dead-letter record: %+v", v)
	}
	aw := *rec
	aw.Topic = "essays.deadletter" // an AuthorWorks dead-letter topic name
	if v, ok := dlqViolation(t, "authorworks", &aw); !ok || !strings.Contains(v.Message, "does not wrap") {
		t.Errorf("authorworks requires a wrapper and should flag it: %+v %v", v, ok)
	}
	bare := *rec
	bare.Headers = nil
	if _, ok := dlqViolation(t, "huleedu", &bare); !ok {
		t.Error("huleedu accepts a dead-letter record without error headers")
	}
	renamed := *rec
	renamed.Topic = source + ".DLT" // Spring's default suffix, in no profile's patterns: the headers tell
	for _, copied := range []*event.Record{rec, &renamed} {
		checkCopyNotStitched(t, &event.Record{Topic: source, Partition: 0, Offset: 41, Key: []byte("essay-42"),
			Value: []byte(springOriginal), Timestamp: rec.Timestamp.Add(-time.Second)}, copied)
	}
}

// checkCopyNotStitched stitches the original and Spring's dead-letter
// copy of it (issue 23): one chain of one event, the copy noted on it and
// counted as a dead letter, not dropped as a duplicate nor stitched.
func checkCopyNotStitched(t *testing.T, original, copied *event.Record) {
	t.Helper()
	eng := enginetest.Engine(t, "huleedu", audit.Options{})
	reg := prometheus.NewRegistry()
	s, err := trace.New(trace.Config{Window: time.Second}, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("stitcher: %v", err)
		}
	}()
	for _, r := range []*event.Record{original, copied} {
		res := eng.Check(r)
		if res.DeadLetter != (r == copied) {
			t.Fatalf("%s: audit says dead letter %t", r.Topic, res.DeadLetter)
		}
		s.Observe(r, &res)
	}
	wait.Within(t, 30*time.Second, "the chain closes", func() bool { return s.Flows().ClosedChains == 1 })
	f := s.Flows()
	if len(f.RecentChains) != 1 || len(f.RecentChains[0].Events) != 1 || f.DeadLetters != 1 {
		t.Fatalf("%s: flows %+v; want one chain of the original alone and one dead letter", copied.Topic, f)
	}
	e := f.RecentChains[0].Events[0]
	if e.Topic != original.Topic || e.DeadLetter == nil || e.DeadLetter.Topic != copied.Topic || e.DeadLetter.Offset != copied.Offset {
		t.Errorf("%s: the original %+v, want its copy noted", copied.Topic, e)
	}
	if v := metricstest.Value(t, reg, "eventwatch_trace_dropped_total", map[string]string{"reason": "duplicate"}); v != 0 {
		t.Errorf("%s: the copy was dropped as a duplicate", copied.Topic)
	}
}

// springClasspath resolves e2e/spring-dlt's dependencies (from the local
// Maven repository that .ci/run filled, else Maven Central) and compiles
// the program; it returns the java classpath.
func springClasspath(ctx context.Context, t *testing.T, mvn, javac string) string {
	t.Helper()
	dir := t.TempDir()
	cpFile := filepath.Join(dir, "cp.txt")
	pom, _ := filepath.Abs(filepath.Join("spring-dlt", "pom.xml"))
	out, err := exec.CommandContext(ctx, mvn, "-B", "-q", "-f", pom, "dependency:build-classpath", "-Dmdep.outputFile="+cpFile).CombinedOutput()
	if err != nil {
		t.Fatalf("mvn dependency:build-classpath: %v\n%s", err, out)
	}
	deps, err := os.ReadFile(cpFile)
	if err != nil {
		t.Fatal(err)
	}
	classes := filepath.Join(dir, "classes")
	srcs, _ := filepath.Glob(filepath.Join(filepath.Dir(pom), "src", "main", "java", "eventwatch", "e2e", "*.java"))
	args := append([]string{"-cp", string(deps), "-d", classes}, srcs...)
	if out, err := exec.CommandContext(ctx, javac, args...).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	return classes + string(os.PathListSeparator) + strings.TrimSpace(string(deps))
}

// readOne reads the first record of topic as the audit engine sees it.
func readOne(ctx context.Context, t *testing.T, b *realkafka.Broker, topic string) *event.Record {
	t.Helper()
	cl := b.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	for {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("no record on %s: %v", topic, err)
		}
		if rs := fs.Records(); len(rs) > 0 {
			r := rs[0]
			rec := &event.Record{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: bytes.Clone(r.Value), Timestamp: r.Timestamp}
			for _, h := range r.Headers {
				rec.Headers = append(rec.Headers, event.Header{Key: h.Key, Value: h.Value})
			}
			return rec
		}
	}
}

func dlqViolation(t *testing.T, profile string, rec *event.Record) (event.Violation, bool) {
	t.Helper()
	res := enginetest.Engine(t, profile, audit.Options{}).Check(rec)
	for _, v := range res.Violations {
		if v.Rule == "dlq.missing_error_context" {
			return v, true
		}
	}
	return event.Violation{}, false
}

// TestSpringDefaultDeadLetterTopics lets spring-kafka name the dead-letter
// topic itself (DeadLetterPublishingRecoverer without a destination
// resolver) and report the @RetryableTopic default suffix: both names are
// dead-letter topics under eventwatch's default patterns (lag.dlq_patterns
// and the huleedu profile), with the source topic as their base name.
func TestSpringDefaultDeadLetterTopics(t *testing.T) {
	mvn := bins.Require(t, "apt-get install maven", "mvn")
	javac := bins.Require(t, "apt-get install openjdk-17-jdk-headless", "javac")
	java := bins.Require(t, "apt-get install openjdk-17-jre-headless", "java")
	b := realkafka.Start(t)
	ctx := rkTestContext(t, 4*time.Minute)
	const source = "orders"
	springDLT := source + ".DLT" // what the test expects Spring to pick; the read below proves it
	rkCreateTopic(ctx, t, b, source, 1)
	rkCreateTopic(ctx, t, b, springDLT, 1)

	cp := springClasspath(ctx, t, mvn, javac)
	cmd := exec.CommandContext(ctx, java, "-cp", cp, "eventwatch.e2e.DeadLetter", b.Addr(), source, "-")
	cmd.Stdin = strings.NewReader(springOriginal)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("DeadLetterPublishingRecoverer: %v\n%s", err, out)
	}
	if rec := readOne(ctx, t, b, springDLT); string(rec.Value) != springOriginal {
		t.Fatalf("Spring's default dead-letter topic %s holds %q", springDLT, rec.Value)
	}
	_, suffix, ok := strings.Cut(string(out), "retryable-topic dlt suffix: ")
	if !ok {
		t.Fatalf("no @RetryableTopic suffix printed:\n%s", out)
	}
	suffix, _, _ = strings.Cut(suffix, "\n")
	retryDLT := source + strings.TrimSpace(suffix)

	var lc lag.Config
	lc.SetDefaults()
	huleedu, err := policy.LoadProfile("huleedu")
	if err != nil {
		t.Fatal(err)
	}
	for _, topic := range []string{springDLT, retryDLT} {
		if base, ok := lc.DLQBase(topic); !ok || base != source {
			t.Errorf("lag.dlq_patterns defaults: DLQBase(%q) = %q, %t; want %q", topic, base, ok, source)
		}
		if !huleedu.IsDLQTopic(topic) || huleedu.DLQBase(topic) != source {
			t.Errorf("huleedu profile: %q is not a dead-letter topic of %q", topic, source)
		}
	}
}
