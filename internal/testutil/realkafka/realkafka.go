// Package realkafka runs a real Apache Kafka broker for the e2e suite: one
// JVM in KRaft combined mode (broker and controller in the same process) on
// 127.0.0.1, assembled from the Maven Central jars that
// scripts/kafka/fetch.sh copies into a cache folder. No Docker, no tarball.
//
// The model: Start picks free loopback ports, writes server.properties and a
// log4j2 config (and, with WithTLS, a fresh CA and server certificate) into
// a fresh folder, runs kafka.tools.StorageTool format (adding SCRAM users
// when asked), then kafka.Kafka, and waits until a franz-go Metadata request
// lists the broker and a controller (at most StartTimeout, 120 s). The
// listeners are PLAINTEXT (Addr, always; also inter-broker), SASL_PLAINTEXT
// with SCRAM users (SASLAddr), SSL with TLS (TLSAddr) and SASL_SSL with both
// (SASLTLSAddr). The broker is stopped when the test ends (SIGTERM, then
// SIGKILL after StopTimeout). Stop and Restart let a test take the broker
// away and bring it back on the same ports with the same data, which is what
// outage tests need.
//
// Partial failure: if java or the jars are missing the test is skipped
// locally and fails in CI (CI=true), with the command that installs them. If
// the broker fails to format, exits early or is not ready in time, the test
// fails with the tail of the broker's log. When a test using the broker
// failed, its folder (server.properties, data, kafka.log) is kept and its
// path and log tail are printed; otherwise it is removed.
package realkafka

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventwatch/eventwatch/internal/testutil/bins"
)

// Version is the Apache Kafka version scripts/kafka/pom.xml assembles.
const Version = "4.1.2"

// ClusterID is the fixed KRaft cluster id every test broker is formatted with.
const ClusterID = "ZXZlbnR3YXRjaC1lMmUtMQ"

const (
	// StartTimeout bounds the wait from starting the JVM until the broker
	// answers Metadata. An idle 2-core machine needs about 5 s; a machine
	// shared by many builds has needed 56 s. EVENTWATCH_KAFKA_START_TIMEOUT
	// (a Go duration) overrides it.
	StartTimeout = 120 * time.Second
	// StopTimeout is how long Stop waits after SIGTERM before SIGKILL.
	StopTimeout = 20 * time.Second
	// FetchCommand is what a developer runs to get the jars.
	FetchCommand = "scripts/kafka/fetch.sh"
	// JavaHint is how to install a JVM on Debian.
	JavaHint     = "apt-get install -y openjdk-17-jre-headless"
	logTailLines = 60
)

// Broker is one running (or stopped) single-node Kafka cluster.
type Broker struct {
	t       testing.TB
	cfg     config
	libs    string
	dir     string // everything of this broker: properties, data, log
	port    int    // PLAINTEXT listener
	sasl    int    // SASL_PLAINTEXT listener, 0 without SCRAM users
	ssl     int    // SSL listener, 0 without TLS
	saslSSL int    // SASL_SSL listener, 0 without both
	ctrl    int    // CONTROLLER listener
	mu      sync.Mutex
	proc    *exec.Cmd
	exited  chan struct{} // closed when proc has exited
	runErr  error         // proc's exit error, valid once exited is closed
	logf    *os.File
}

// Start formats and starts a broker, waits until it is ready and registers
// its shutdown with t.Cleanup.
func Start(t testing.TB, opts ...Option) *Broker {
	t.Helper()
	b := &Broker{t: t, cfg: newConfig(opts)}
	b.libs = requireLibs(t)
	bins.Require(t, JavaHint, "java")
	b.prepare()
	t.Cleanup(b.cleanup)
	b.format()
	b.start()
	return b
}

// Addr is the PLAINTEXT bootstrap address, host:port on 127.0.0.1.
func (b *Broker) Addr() string { return fmt.Sprintf("127.0.0.1:%d", b.port) }

// SASLAddr is the SASL_PLAINTEXT (SCRAM) bootstrap address; empty unless
// WithSCRAMUser was given.
func (b *Broker) SASLAddr() string { return addr(b.sasl) }

// Dir is the broker's folder: server.properties, log4j2.properties,
// data/ and kafka.log.
func (b *Broker) Dir() string { return b.dir }

// Client returns a franz-go client seeded with Addr, closed when the test ends.
func (b *Broker) Client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Addr())}, opts...)...)
	if err != nil {
		t.Fatalf("new kafka client for %s: %v", b.Addr(), err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// Stop shuts the broker down (SIGTERM, SIGKILL after StopTimeout). Stopping
// a stopped broker does nothing.
func (b *Broker) Stop() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopLocked()
}

// Kill stops the broker with SIGKILL, as a crash would: no controlled
// shutdown, no flush. Restart brings it back with the same data.
func (b *Broker) Kill() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.proc == nil {
		return
	}
	_ = b.proc.Process.Kill()
	<-b.exited
	_ = b.logf.Close()
	b.proc, b.logf = nil, nil
}

// Restart stops the broker if it runs and starts it again on the same ports
// with the same data, then waits until it is ready. Like Start it fails the
// test on error, so call it from the test's goroutine.
func (b *Broker) Restart() {
	b.t.Helper()
	b.Stop()
	b.start()
}

// LogTail returns the last n lines of the broker's log.
func (b *Broker) LogTail(n int) string {
	data, err := os.ReadFile(b.logPath())
	if err != nil {
		return fmt.Sprintf("(read %s: %v)", b.logPath(), err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (b *Broker) logPath() string   { return filepath.Join(b.dir, "kafka.log") }
func (b *Broker) propsPath() string { return filepath.Join(b.dir, "server.properties") }

// prepare creates the folder, picks the ports and writes the config files.
func (b *Broker) prepare() {
	t := b.t
	dir, err := os.MkdirTemp("", "eventwatch-kafka-")
	if err != nil {
		t.Fatalf("create broker folder: %v", err)
	}
	b.dir = dir
	ports, err := freePorts(5)
	if err != nil {
		t.Fatalf("pick broker ports: %v", err)
	}
	b.port, b.ctrl = ports[0], ports[1]
	scram := len(b.cfg.users) > 0
	if scram {
		b.sasl = ports[2]
	}
	if b.cfg.tls {
		b.ssl = ports[3]
		if scram {
			b.saslSSL = ports[4]
		}
		if err := writeTLSFiles(dir); err != nil {
			t.Fatalf("make broker certificates: %v", err)
		}
	}
	if err := os.WriteFile(b.propsPath(), []byte(b.serverProperties()), 0o600); err != nil {
		t.Fatalf("write server.properties: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "log4j2.properties"), []byte(log4jConfig), 0o600); err != nil {
		t.Fatalf("write log4j2.properties: %v", err)
	}
}

// java builds a JVM command running class with args, output appended to w.
func (b *Broker) java(class string, args ...string) *exec.Cmd {
	all := append([]string{}, jvmFlags...)
	all = append(all, "-Dlog4j2.configurationFile="+filepath.Join(b.dir, "log4j2.properties"),
		"-cp", filepath.Join(b.libs, "*"), class)
	cmd := exec.Command("java", append(all, args...)...)
	cmd.Dir = b.dir
	cmd.SysProcAttr = sysProcAttr()
	return cmd
}

// format runs StorageTool format once, adding the SCRAM users.
func (b *Broker) format() {
	t := b.t
	t.Helper()
	args := []string{"format", "-t", ClusterID, "-c", b.propsPath(), "--ignore-formatted"}
	for _, u := range b.cfg.users {
		args = append(args, "--add-scram", u.formatArg())
	}
	cmd := b.java("kafka.tools.StorageTool", args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("format kafka storage in %s: %v\n%s", b.dir, err, tail(string(out), logTailLines))
	}
}

// start launches kafka.Kafka and waits for readiness.
func (b *Broker) start() {
	t := b.t
	t.Helper()
	b.mu.Lock()
	if err := b.launchLocked(); err != nil {
		b.mu.Unlock()
		t.Fatalf("start kafka: %v", err)
	}
	exited := b.exited
	b.mu.Unlock()
	began := time.Now()
	if err := b.waitReady(exited); err != nil {
		t.Fatalf("kafka broker on %s not ready: %v\n--- kafka.log tail (%s) ---\n%s",
			b.Addr(), err, b.logPath(), b.LogTail(logTailLines))
	}
	t.Logf("kafka %s ready on %s after %s (folder %s)", Version, b.Addr(), time.Since(began).Round(time.Millisecond), b.dir)
}

func (b *Broker) launchLocked() error {
	if b.proc != nil {
		return errors.New("broker already running")
	}
	logf, err := os.OpenFile(b.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open kafka.log: %w", err)
	}
	cmd := b.java("kafka.Kafka", b.propsPath())
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return fmt.Errorf("run java kafka.Kafka: %w", err)
	}
	b.proc, b.logf, b.exited = cmd, logf, make(chan struct{})
	go func(exited chan struct{}) {
		b.runErr = cmd.Wait()
		close(exited)
	}(b.exited)
	return nil
}

// waitReady polls Metadata until the broker lists itself and a controller.
func (b *Broker) waitReady(exited <-chan struct{}) error {
	limit := startTimeout()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.RetryTimeout(time.Second))
	if err != nil {
		return fmt.Errorf("new readiness client: %w", err)
	}
	defer cl.Close()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		last := probe(ctx, cl)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("after %s: %w", limit, last)
		case <-exited:
			if b.runErr == nil {
				return errors.New("java exited early with status 0")
			}
			return fmt.Errorf("java exited early: %w", b.runErr)
		case <-tick.C:
		}
	}
}

// probe asks one Metadata request with a short deadline.
func probe(ctx context.Context, cl *kgo.Client) error {
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	resp, err := kmsg.NewPtrMetadataRequest().RequestWith(pctx, cl)
	if err != nil {
		return fmt.Errorf("metadata request: %w", err)
	}
	if len(resp.Brokers) == 0 || resp.ControllerID < 0 {
		return fmt.Errorf("metadata lists %d brokers, controller %d", len(resp.Brokers), resp.ControllerID)
	}
	return nil
}

func (b *Broker) stopLocked() {
	if b.proc == nil {
		return
	}
	_ = b.proc.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(StopTimeout):
		b.t.Logf("kafka did not stop within %s of SIGTERM; killing it", StopTimeout)
		_ = b.proc.Process.Kill()
		<-b.exited
	}
	_ = b.logf.Close()
	b.proc, b.logf = nil, nil
}

// cleanup stops the broker and removes its folder unless the test failed.
func (b *Broker) cleanup() {
	b.Stop()
	if b.t.Failed() {
		b.t.Logf("kafka broker folder kept: %s\n--- kafka.log tail ---\n%s", b.dir, b.LogTail(logTailLines))
		return
	}
	_ = os.RemoveAll(b.dir)
}

// startTimeout is StartTimeout or EVENTWATCH_KAFKA_START_TIMEOUT.
func startTimeout() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("EVENTWATCH_KAFKA_START_TIMEOUT")); err == nil && d > 0 {
		return d
	}
	return StartTimeout
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// jvmFlags keep the broker small on a 2-core machine.
var jvmFlags = []string{
	"-Xms64m", "-Xmx512m", "-XX:+UseSerialGC",
	"-Djava.awt.headless=true",
}

// log4jConfig writes warnings and the server's start/stop lines to stdout,
// which Start sends to kafka.log.
const log4jConfig = `status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.raft.name = kafka.server.KafkaRaftServer
logger.raft.level = INFO
logger.auth.name = org.apache.kafka.common.network.Selector
logger.auth.level = INFO
`
