//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/testutil/bins"
	"github.com/eventwatch/eventwatch/internal/testutil/realkafka"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// TestAsyncAPIDemoDocumentValidates runs the demo, writes its estate with
// `eventwatch catalog discover` (YAML and JSON), has the official AsyncAPI
// CLI validate both, and runs the demo again with the discovered document
// as its catalog: it loads, and `catalog diff` compares it with the
// traffic (exit 0 or 1, never a usage error).
func TestAsyncAPIDemoDocumentValidates(t *testing.T) {
	cli := aaCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := dmBinary(ctx, t, dir)
	demo := rpStartDemo(ctx, t, bin, filepath.Join(dir, "data"))
	base := "http://" + demo.addr
	aaWaitDocument(ctx, t, base, func(doc aaDoc) error {
		if len(doc.Components.Messages) < 5 || len(doc.receives()) == 0 {
			return fmt.Errorf("%d messages, %d receive operations", len(doc.Components.Messages), len(doc.receives()))
		}
		return nil
	})
	yml, jsn := filepath.Join(dir, "demo.yaml"), filepath.Join(dir, "demo.json")
	for _, out := range []string{yml, jsn} {
		if o, err := exec.CommandContext(ctx, bin, "catalog", "discover", "--url", base, "--out", out).CombinedOutput(); err != nil {
			t.Fatalf("catalog discover --out %s: %v\n%s", out, err, o)
		}
		cli.validate(ctx, t, out)
	}
	demo.kill(t)

	again := &rpDemo{addr: freeAddr(t), out: &syncLog{}}
	again.cmd = exec.CommandContext(ctx, bin, "demo", "--http-addr", again.addr, "--kafka-addr", freeAddr(t),
		"--data-dir", filepath.Join(dir, "data2"), "--catalog", yml)
	again.cmd.Stdout, again.cmd.Stderr = again.out, again.out
	if err := again.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer again.kill(t)
	aaWaitDocument(ctx, t, "http://"+again.addr, func(doc aaDoc) error {
		if len(doc.Components.Messages) < 5 {
			return fmt.Errorf("%d messages", len(doc.Components.Messages))
		}
		return nil
	})
	// exit 1 with nothing on stdout is "the instance could not answer"
	// (its stderr says why): asked again until the context ends
	var out []byte
	var stderr bytes.Buffer
	for {
		stderr.Reset()
		cmd := exec.CommandContext(ctx, bin, "catalog", "diff", "--catalog", yml, "--url", "http://"+again.addr, "--format", "json")
		cmd.Stderr = &stderr
		var err error
		out, err = cmd.Output()
		var exit *exec.ExitError
		if err != nil && (!errors.As(err, &exit) || exit.ExitCode() != 1) {
			t.Fatalf("catalog diff: %v\n%s\nstderr: %s\n%s", err, out, stderr.Bytes(), again.out.tail(4<<10))
		}
		if len(bytes.TrimSpace(out)) > 0 || ctx.Err() != nil {
			break
		}
		t.Logf("catalog diff: the instance did not answer (%s); asking again", bytes.TrimSpace(stderr.Bytes()))
		<-time.After(time.Second)
	}
	var res struct {
		Count int `json:"count"`
	}
	if json.Unmarshal(out, &res) != nil {
		t.Fatalf("catalog diff output is not JSON: %s\nstderr: %s", out, stderr.Bytes())
	}
	t.Logf("catalog diff of the discovered catalog against a second demo run: %d differences", res.Count)
}

// TestAsyncAPIRealBrokerDocumentValidates discovers an estate on a real
// Kafka broker (topic configuration and a committing consumer group from
// the admin API) and has the AsyncAPI CLI validate the document; the CLI
// rejects a broken copy of it, so validation can fail.
func TestAsyncAPIRealBrokerDocumentValidates(t *testing.T) {
	cli := aaCLI(t)
	b := realkafka.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := dmBinary(ctx, t, dir)
	cl := b.Client(t)
	adm := kadm.NewClient(cl)
	topic := "huleedu.e2e.asyncapi.batch"
	dmCreateTopic(ctx, t, adm, topic)
	var recs []*kgo.Record
	for i := range 30 {
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(fmt.Sprintf("b-%d", i)), Value: dmEvent(i, dmGoodType)})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	group := "e2e-asyncapi-reader"
	reader, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	for n := 0; n < len(recs); {
		n += reader.PollFetches(ctx).NumRecords()
	}
	if err := reader.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	d := dmStart(t, dmConfig(t, b.Addr(), filepath.Join(dir, "data")))
	d.waitReady(t)
	aaWaitDocument(ctx, t, d.url, func(doc aaDoc) error {
		ch := doc.Channels[topic]
		if ch == nil || ch["bindings"] == nil || doc.Operations["receive."+group+"."+topic] == nil {
			return fmt.Errorf("channel %v, operations %v", ch, doc.Operations)
		}
		return nil
	})
	file := filepath.Join(dir, "real.yaml")
	if o, err := exec.CommandContext(ctx, bin, "catalog", "discover", "--url", d.url, "--out", file).CombinedOutput(); err != nil {
		t.Fatalf("catalog discover: %v\n%s", err, o)
	}
	body, _ := os.ReadFile(file)
	for _, want := range []string{"retention.ms:", "cleanup.policy:", "partitions: 3", "replicas: 1", "x-eventwatch-consumer-group: " + group, "x-eventwatch-key-role: data.batch_id"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the document lacks %q", want)
		}
	}
	cli.validate(ctx, t, file)
	broken := filepath.Join(dir, "broken.yaml")
	if err := os.WriteFile(broken, []byte(strings.Replace(string(body), "action: receive", "action: listen", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := cli.run(ctx, "validate", broken); err == nil {
		t.Fatalf("asyncapi validate accepted a document with action: listen\n%s", out)
	}
}

// aaDoc is the part of a discovered document the tests look at.
type aaDoc struct {
	Channels   map[string]map[string]any `json:"channels"`
	Operations map[string]map[string]any `json:"operations"`
	Components struct {
		Messages map[string]map[string]any `json:"messages"`
	} `json:"components"`
}

func (d aaDoc) receives() []string {
	var out []string
	for id, op := range d.Operations {
		if op["action"] == "receive" {
			out = append(out, id)
		}
	}
	return out
}

// aaWaitDocument polls GET /api/v1/catalog/asyncapi?format=json until ok
// accepts it.
func aaWaitDocument(ctx context.Context, t *testing.T, base string, ok func(aaDoc) error) {
	t.Helper()
	wait.Check(ctx, t, "the discovered document", func() error {
		body, _, err := rpGet(ctx, base+"/api/v1/catalog/asyncapi?format=json")
		if err != nil {
			return err
		}
		var doc aaDoc
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			return err
		}
		return ok(doc)
	})
}

// aaCLIRunner runs the pinned AsyncAPI CLI (e2e/asyncapi) with its own
// home directory, analytics disabled.
type aaCLIRunner struct {
	bin, home string
}

// aaCLI installs e2e/asyncapi's locked dependencies when missing (.ci/run
// does it ahead) and disables the CLI's usage analytics.
func aaCLI(t *testing.T) *aaCLIRunner {
	t.Helper()
	bins.Require(t, "apt-get install -y nodejs npm", "node", "npm")
	dir, err := filepath.Abs("asyncapi")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "node_modules", ".bin", "asyncapi")
	if _, err := os.Stat(bin); err != nil {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	r := &aaCLIRunner{bin: bin, home: t.TempDir()}
	if out, err := r.run(context.Background(), "config", "analytics", "--disable"); err != nil {
		t.Fatalf("asyncapi config analytics --disable: %v\n%s", err, out)
	}
	return r
}

func (r *aaCLIRunner) run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, r.bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+r.home, "NO_COLOR=1", "CI=true")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// validate fails the test unless `asyncapi validate file` exits 0.
func (r *aaCLIRunner) validate(ctx context.Context, t *testing.T, file string) {
	t.Helper()
	out, err := r.run(ctx, "validate", file)
	if err != nil {
		t.Fatalf("asyncapi validate %s: %v\n%s", filepath.Base(file), err, out)
	}
	t.Logf("asyncapi validate %s: %s", filepath.Base(file), strings.TrimSpace(out))
}
