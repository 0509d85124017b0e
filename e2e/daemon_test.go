//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/config"
	"github.com/eventwatch/eventwatch/internal/daemon"
	"github.com/eventwatch/eventwatch/internal/testutil/realkafka"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// dmCompliant is a HuleEdu event that breaks no error rule; dmEvent makes
// distinct ones.
func dmEvent(i int, eventType string) []byte {
	return []byte(fmt.Sprintf(`{"event_id":"3f1c2a9e-8a51-4d3b-9a53-%012d","event_type":%q,"event_timestamp":"%s","source_service":"batch_orchestrator_service","correlation_id":"9b0e7d1c-2f4a-4c2e-8d6b-5a4f3e2d1c0b","data":{"batch_id":"b-%d"}}`,
		i, eventType, time.Now().UTC().Format(time.RFC3339), i))
}

const (
	dmGoodType = "huleedu.batchorchestration.batch.pipelines_configured.v1"
	dmBadTense = "huleedu.batchorchestration.batch.configure_pipelines.v1"
)

// TestDaemonRealKafka runs `eventwatch run` in-process against a real
// broker: known violations become exact metric counts, a topic created
// after start is sampled, a restart loses no record produced while the
// daemon was down, and of two replicas exactly one leads and the other
// takes over when it stops.
func TestDaemonRealKafka(t *testing.T) {
	b := realkafka.Start(t)
	ctx := dmContext(t, 8*time.Minute)
	cl := b.Client(t)
	adm := kadm.NewClient(cl)
	dataDir := t.TempDir()

	t.Run("violations become metric counts", func(t *testing.T) {
		topic := "huleedu.e2e.batchorchestration.batch"
		dmCreateTopic(ctx, t, adm, topic)
		d := dmStart(t, dmConfig(t, b.Addr(), dataDir))
		d.waitReady(t)
		var recs []*kgo.Record
		for i := range 5 {
			recs = append(recs, &kgo.Record{Topic: topic, Value: dmEvent(i, dmGoodType)})
		}
		for i := range 3 {
			recs = append(recs, &kgo.Record{Topic: topic, Value: []byte{0xff, 0x00, byte(i)}})
		}
		for i := range 2 {
			recs = append(recs, &kgo.Record{Topic: topic, Value: dmEvent(100+i, dmBadTense)})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
		d.waitMetric(t, "eventwatch_records_checked_total", 10, `topic="`+topic+`"`)
		for rule, want := range map[string]float64{"envelope.invalid_json": 3, "naming.action_tense": 2} {
			if got := d.metric(t, "eventwatch_violations_total", `rule="`+rule+`"`, `topic="`+topic+`"`); got != want {
				t.Errorf("%s = %v, want %v", rule, got, want)
			}
		}
		if got := d.metric(t, "eventwatch_records_compliant_total", `topic="`+topic+`"`); got != 5 {
			t.Errorf("compliant = %v, want 5", got)
		}

		late := "huleedu.e2e.essaylifecycle.essay"
		dmCreateTopic(ctx, t, adm, late)
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: late, Value: dmEvent(200, dmGoodType)}, &kgo.Record{Topic: late, Value: []byte("junk")}).FirstErr(); err != nil {
			t.Fatalf("produce to late topic: %v", err)
		}
		d.waitMetric(t, "eventwatch_records_checked_total", 2, `topic="`+late+`"`)
		if err := d.stop(t); err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	})

	t.Run("restart loses no window", func(t *testing.T) {
		topic := "huleedu.e2e.spellchecker.essay"
		dmCreateTopic(ctx, t, adm, topic)
		// start_from earliest: a restart that ignored the committed
		// progress would count the first 7 records again, one that skipped
		// to the end would miss the 11 produced while the daemon was down.
		cfg := dmConfig(t, b.Addr(), dataDir)
		d := dmStart(t, cfg)
		d.waitReady(t)
		dmProduce(ctx, t, cl, topic, 0, 7)
		d.waitMetric(t, "eventwatch_records_checked_total", 7, `topic="`+topic+`"`)
		if err := d.stop(t); err != nil {
			t.Fatalf("shutdown: %v", err)
		}
		dmProduce(ctx, t, cl, topic, 7, 11) // while the daemon is down
		d2 := dmStart(t, cfg)
		d2.waitReady(t)
		d2.waitMetric(t, "eventwatch_records_checked_total", 11, `topic="`+topic+`"`)
		dmProduce(ctx, t, cl, topic, 18, 2)
		d2.waitMetric(t, "eventwatch_records_checked_total", 13, `topic="`+topic+`"`)
		if err := d2.stop(t); err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	})

	t.Run("two replicas, one leader, hand-over", func(t *testing.T) {
		topic := "huleedu.e2e.replicas.batch"
		dmCreateTopic(ctx, t, adm, topic)
		a := dmStart(t, dmConfig(t, b.Addr(), t.TempDir()))
		c := dmStart(t, dmConfig(t, b.Addr(), t.TempDir()))
		a.waitReady(t)
		c.waitReady(t)
		dmEventually(t, "exactly one leader", 90*time.Second, func() bool {
			return a.metric(t, "eventwatch_leader")+c.metric(t, "eventwatch_leader") == 1
		})
		dmProduce(ctx, t, cl, topic, 0, 30)
		dmEventually(t, "30 records checked across replicas", 90*time.Second, func() bool {
			return a.metric(t, "eventwatch_records_checked_total", `topic="`+topic+`"`)+c.metric(t, "eventwatch_records_checked_total", `topic="`+topic+`"`) == 30
		})
		leader, follower := a, c
		if c.metric(t, "eventwatch_leader") == 1 {
			leader, follower = c, a
		}
		if follower.metric(t, "eventwatch_consumergroup_lag_records") != 0 || strings.Contains(follower.scrape(t), "eventwatch_consumergroup_status{") {
			t.Error("the follower exports consumer group series: they would be double counted")
		}
		if err := leader.stop(t); err != nil {
			t.Fatalf("stop leader: %v", err)
		}
		dmEventually(t, "hand-over to the other replica", 90*time.Second, func() bool {
			return follower.metric(t, "eventwatch_leader") == 1
		})
		dmEventually(t, "lag series from the new leader", 90*time.Second, func() bool {
			return strings.Contains(follower.scrape(t), "eventwatch_consumergroup_status{")
		})
	})

	t.Run("broker outage: readyz tells the truth, collection resumes", func(t *testing.T) {
		topic := "huleedu.e2e.outage.batch"
		dmCreateTopic(ctx, t, adm, topic)
		d := dmStart(t, dmConfig(t, b.Addr(), t.TempDir()))
		d.waitReady(t)
		dmProduce(ctx, t, cl, topic, 0, 4)
		d.waitMetric(t, "eventwatch_records_checked_total", 4, `topic="`+topic+`"`)
		// Progress read but not yet committed when the broker goes away is
		// read again afterwards (at-least-once, at most commit_interval):
		// wait for the commit so the count after the outage is exact.
		dmEventually(t, "the sampler's progress committed", 60*time.Second, func() bool {
			return dmCommitted(ctx, adm, "eventwatch", topic) == 4
		})
		b.Stop()
		var body string
		dmEventually(t, "readyz 503 while the broker is down", 90*time.Second, func() bool {
			var code int
			code, body = d.get(t, "/readyz")
			return code == http.StatusServiceUnavailable
		})
		t.Logf("readyz during the outage: %s", strings.TrimSpace(body))
		if got := d.metric(t, "eventwatch_kafka_up"); got != 0 {
			t.Errorf("kafka_up = %v during the outage", got)
		}
		if code, _ := d.get(t, "/healthz"); code != 200 {
			t.Errorf("healthz = %d during the outage", code)
		}
		b.Restart()
		d.waitReady(t)
		dmProduce(ctx, t, b.Client(t), topic, 4, 6)
		d.waitMetric(t, "eventwatch_records_checked_total", 10, `topic="`+topic+`"`)
		if err := d.stop(t); err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	})
}

// TestDaemonRealKafkaLeaderKilled runs two `eventwatch run` processes, kills
// the leader with SIGKILL (no LeaveGroup), and checks that the other takes
// over the singleton work once the coordinator expires the dead member, and
// that the lag series come from one replica only before and after.
func TestDaemonRealKafkaLeaderKilled(t *testing.T) {
	b, ctx, dir, bin := dmRealKafka(t, 5*time.Minute)
	const session = 6 * time.Second
	procs := []*dmProc{dmStartProc(ctx, t, bin, b.Addr(), filepath.Join(dir, "a"), session, ""), dmStartProc(ctx, t, bin, b.Addr(), filepath.Join(dir, "b"), session, "")}
	for _, p := range procs {
		p.d.waitReady(t)
	}
	leaders := func() []*dmProc {
		var out []*dmProc
		for _, p := range procs {
			if p.alive && p.d.metric(t, "eventwatch_leader") == 1 {
				out = append(out, p)
			}
		}
		return out
	}
	dmEventually(t, "exactly one leader", 90*time.Second, func() bool { return len(leaders()) == 1 })
	leader := leaders()[0]
	follower := procs[0]
	if leader == procs[0] {
		follower = procs[1]
	}
	dmEventually(t, "lag series on the leader", 60*time.Second, func() bool {
		return strings.Contains(leader.d.scrape(t), "eventwatch_consumergroup_status{")
	})
	if strings.Contains(follower.d.scrape(t), "eventwatch_consumergroup_status{") {
		t.Fatal("the follower exports lag series too")
	}
	killed := time.Now()
	leader.kill(t)
	dmEventually(t, "the follower takes over", 10*session, func() bool {
		return follower.d.metric(t, "eventwatch_leader") == 1
	})
	t.Logf("hand-over %.1fs after SIGKILL (session timeout %s)", time.Since(killed).Seconds(), session)
	dmEventually(t, "lag series on the new leader", 60*time.Second, func() bool {
		return strings.Contains(follower.d.scrape(t), "eventwatch_consumergroup_status{")
	})
}

// dmBinary returns $EVENTWATCH_BIN or builds eventwatch into dir.
func dmBinary(ctx context.Context, t *testing.T, dir string) string {
	t.Helper()
	if bin := os.Getenv("EVENTWATCH_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(dir, "eventwatch")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/eventwatch/eventwatch/cmd/eventwatch").CombinedOutput(); err != nil {
		t.Fatalf("build eventwatch: %v\n%s", err, out)
	}
	return bin
}

// dmProc is one `eventwatch run` process.
type dmProc struct {
	cmd   *exec.Cmd
	d     *dmDaemon
	alive bool
	log   *strings.Builder
}

// dmRunProc starts `eventwatch run --config cfgFile --http-addr addr`; the
// process gets SIGTERM on cleanup, and its output (the last 8 KiB) is logged
// under name when the test failed.
func dmRunProc(ctx context.Context, t *testing.T, bin, name, cfgFile, addr string) *dmProc {
	t.Helper()
	p := &dmProc{d: &dmDaemon{url: "http://" + addr}, alive: true, log: &strings.Builder{}}
	p.cmd = exec.CommandContext(ctx, bin, "run", "--config", cfgFile, "--http-addr", addr)
	w := &dmSyncWriter{b: p.log}
	p.cmd.Stdout, p.cmd.Stderr = w, w
	p.cmd.Cancel = func() error { return p.cmd.Process.Signal(syscall.SIGTERM) }
	p.cmd.WaitDelay = 30 * time.Second
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start eventwatch run: %v", err)
	}
	t.Cleanup(func() {
		if p.alive {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			_ = p.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("--- %s output (last 8 KiB) ---\n%s", name, tailString(p.log.String(), 8<<10))
		}
	})
	return p
}

// dmStartProc starts `eventwatch run` with a config for broker, plus the
// YAML in extra (whole top-level sections).
func dmStartProc(ctx context.Context, t *testing.T, bin, broker, dir string, session time.Duration, extra string) *dmProc {
	t.Helper()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cfgFile := filepath.Join(dir, "eventwatch.yaml")
	cfg := fmt.Sprintf("data_dir: %s\nkafka:\n  brokers: [%q]\n  probe_interval: 2s\nlag:\n  interval: 2s\n  sampling_stall_after: 10s\n  show_own_groups: true\nleader:\n  session_timeout: %s\nlog:\n  format: text\n", filepath.Join(dir, "data"), broker, session) + extra
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return dmRunProc(ctx, t, bin, dir, cfgFile, addr)
}

func (p *dmProc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill -9: %v", err)
	}
	_ = p.cmd.Wait()
	p.alive = false
}

type dmSyncWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *dmSyncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// TestDaemonRealKafkaWrongPassword: a wrong SCRAM password keeps the daemon
// up and not ready, with the authentication failure as the reason.
func TestDaemonRealKafkaWrongPassword(t *testing.T) {
	b := realkafka.Start(t, realkafka.WithSCRAMUser("SCRAM-SHA-512", "eventwatch", "right-pw"))
	cfg := dmConfig(t, b.SASLAddr(), t.TempDir())
	cfg.Kafka.SASL.Mechanism, cfg.Kafka.SASL.Username, cfg.Kafka.SASL.Password = "SCRAM-SHA-512", "eventwatch", "${EW_E2E_KAFKA_PW}"
	t.Setenv("EW_E2E_KAFKA_PW", "wrong-pw")
	d := dmStart(t, cfg)
	var body string
	dmEventually(t, "an authentication failure on /readyz", 60*time.Second, func() bool {
		var code int
		code, body = d.get(t, "/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "authentication failed")
	})
	if code, _ := d.get(t, "/healthz"); code != 200 {
		t.Fatalf("healthz = %d", code)
	}

	t.Setenv("EW_E2E_KAFKA_PW", "right-pw")
	ok := dmStart(t, cfg)
	ok.waitReady(t)
}

func dmConfig(t *testing.T, addr, dataDir string) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = dataDir
	cfg.Kafka.Brokers = []string{addr}
	cfg.Kafka.ProbeEvery = 2 * time.Second
	cfg.Sample.StartFrom = "earliest"
	cfg.Sample.MetadataRefresh = 2 * time.Second
	cfg.Sample.CommitInterval = time.Second
	cfg.Lag.Interval = 2 * time.Second
	cfg.Lag.ShowOwnGroups = true // the lag series these tests follow across hand-overs are of eventwatch's own group (the estate has no other)
	cfg.Leader.SessionTimeout = 10 * time.Second
	cfg.Store.FlushInterval = time.Second
	cfg.Log.Level = "warn"
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

type dmDaemon struct {
	url    string
	cancel context.CancelFunc
	done   chan error
	err    error
}

func dmStart(t *testing.T, cfg *config.Config) *dmDaemon {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &dmDaemon{url: "http://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() {
		d.done <- daemon.Run(ctx, cfg, daemon.Options{Listener: ln, Version: "e2e", LogOutput: dmLog{t}})
	}()
	t.Cleanup(func() { _ = d.stop(t) })
	return d
}

// stop cancels the daemon and returns Run's error; later calls return the
// same.
func (d *dmDaemon) stop(t *testing.T) error {
	t.Helper()
	d.cancel()
	if d.done == nil {
		return d.err
	}
	select {
	case d.err = <-d.done:
	case <-time.After(60 * time.Second):
		d.err = fmt.Errorf("daemon did not stop within 60s")
	}
	d.done = nil
	return d.err
}

type dmLog struct{ t *testing.T }

func (l dmLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (d *dmDaemon) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(d.url + path) //nolint:gosec,noctx // test URL
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (d *dmDaemon) scrape(t *testing.T) string {
	t.Helper()
	_, body := d.get(t, "/metrics")
	return body
}

// metric sums the samples of name whose labels contain every match.
func (d *dmDaemon) metric(t *testing.T, name string, match ...string) float64 {
	t.Helper()
	var sum float64
	sc := bufio.NewScanner(strings.NewReader(d.scrape(t)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		all := true
		for _, m := range match {
			all = all && strings.Contains(line, m)
		}
		if f := strings.Fields(line); all {
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
		}
	}
	return sum
}

func (d *dmDaemon) waitReady(t *testing.T) {
	t.Helper()
	dmEventually(t, "readyz 200", 90*time.Second, func() bool { code, _ := d.get(t, "/readyz"); return code == 200 })
}

func (d *dmDaemon) waitMetric(t *testing.T, name string, want float64, match ...string) {
	t.Helper()
	var got float64
	dmEventually(t, fmt.Sprintf("%s%v = %v", name, match, want), 90*time.Second, func() bool {
		got = d.metric(t, name, match...)
		return got >= want
	})
	if got != want {
		t.Fatalf("%s%v = %v, want exactly %v", name, match, got, want)
	}
}

// dmEventually polls cond every 200ms (each poll is a request to a
// process) until it holds, failing the test after within.
func dmEventually(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	wait.WithinEvery(t, within, 200*time.Millisecond, what, cond)
}

// dmRealKafka starts a real broker with opts, a context that ends after d
// and a temporary directory holding the eventwatch binary: the start of
// every test that runs `eventwatch run` processes against the broker.
func dmRealKafka(t *testing.T, d time.Duration, opts ...realkafka.Option) (b *realkafka.Broker, ctx context.Context, dir, bin string) {
	t.Helper()
	b = realkafka.Start(t, opts...)
	ctx = dmContext(t, d)
	dir = t.TempDir()
	return b, ctx, dir, dmBinary(ctx, t, dir)
}

func dmContext(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// dmCreateTopic creates topic with 3 partitions.
func dmCreateTopic(ctx context.Context, t *testing.T, adm *kadm.Client, topic string) {
	t.Helper()
	dmCreateTopicN(ctx, t, adm, topic, 3)
}

// dmCreateTopicN creates topic with n partitions.
func dmCreateTopicN(ctx context.Context, t *testing.T, adm *kadm.Client, topic string, n int32) {
	t.Helper()
	if _, err := adm.CreateTopic(ctx, n, 1, nil, topic); err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// dmCommitted sums the committed offsets of group on topic (-1 on error).
func dmCommitted(ctx context.Context, adm *kadm.Client, group, topic string) int64 {
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return -1
	}
	var sum int64
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil {
			sum += o.At
		}
	})
	return sum
}

// dmProduce writes n compliant events numbered from first.
func dmProduce(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, first, n int) {
	t.Helper()
	recs := make([]*kgo.Record, 0, n)
	for i := range n {
		recs = append(recs, &kgo.Record{Topic: topic, Value: dmEvent(first+i, dmGoodType)})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}
