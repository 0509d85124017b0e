package realkafka

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/eventwatch/eventwatch/internal/testutil/bins"
)

// Option changes how Start configures the broker.
type Option func(*config)

// SCRAMUser is a SCRAM credential created at format time.
type SCRAMUser struct {
	Mechanism string // "SCRAM-SHA-256" or "SCRAM-SHA-512"
	Name      string // user name; no ',', '=' or ']'
	Password  string // password; no ',', '=' or ']'
}

func (u SCRAMUser) formatArg() string {
	return fmt.Sprintf("%s=[name=%s,password=%s]", u.Mechanism, u.Name, u.Password)
}

type config struct {
	users []SCRAMUser
	tls   bool
	props map[string]string
}

func newConfig(opts []Option) config {
	c := config{props: map[string]string{}}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithSCRAMUser adds a SCRAM user at format time and opens a SASL_PLAINTEXT
// listener (SASLAddr) with that user's mechanism enabled. PLAINTEXT stays
// the inter-broker listener and stays open on Addr.
func WithSCRAMUser(mechanism, name, password string) Option {
	return func(c *config) {
		c.users = append(c.users, SCRAMUser{Mechanism: mechanism, Name: name, Password: password})
	}
}

// WithProperty sets (or overrides) one server.properties key.
func WithProperty(key, value string) Option {
	return func(c *config) { c.props[key] = value }
}

// serverProperties renders server.properties: KRaft combined mode, static
// voters, internal topics with replication factor 1.
func (b *Broker) serverProperties() string {
	p := map[string]string{
		"process.roles":                                    "broker,controller",
		"node.id":                                          "1",
		"controller.quorum.voters":                         fmt.Sprintf("1@127.0.0.1:%d", b.ctrl),
		"controller.listener.names":                        "CONTROLLER",
		"inter.broker.listener.name":                       "PLAINTEXT",
		"log.dirs":                                         filepath.Join(b.dir, "data"),
		"num.partitions":                                   "1",
		"offsets.topic.replication.factor":                 "1",
		"offsets.topic.num.partitions":                     "4",
		"transaction.state.log.replication.factor":         "1",
		"transaction.state.log.min.isr":                    "1",
		"transaction.state.log.num.partitions":             "4",
		"share.coordinator.state.topic.replication.factor": "1",
		"share.coordinator.state.topic.min.isr":            "1",
		"group.initial.rebalance.delay.ms":                 "0",
		// Must be more than 1 MiB per cleaner thread; the default takes 128 MiB of heap.
		"log.cleaner.dedupe.buffer.size": "2097152",
		"auto.create.topics.enable":      "true",
	}
	b.listeners(p)
	for k, v := range b.cfg.props {
		p[k] = v
	}
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&sb, "%s=%s\n", k, p[k])
	}
	return sb.String()
}

// listeners sets the listener keys, with a SASL_PLAINTEXT listener when
// SCRAM users are configured.
func (b *Broker) listeners(p map[string]string) {
	listeners := fmt.Sprintf("PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d", b.port, b.ctrl)
	advertised := fmt.Sprintf("PLAINTEXT://127.0.0.1:%d", b.port)
	protoMap := "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
	for _, l := range []struct {
		name string
		port int
	}{{"SASL_PLAINTEXT", b.sasl}, {"SSL", b.ssl}, {"SASL_SSL", b.saslSSL}} {
		if l.port == 0 {
			continue
		}
		listeners += fmt.Sprintf(",%s://127.0.0.1:%d", l.name, l.port)
		advertised += fmt.Sprintf(",%s://127.0.0.1:%d", l.name, l.port)
		protoMap += fmt.Sprintf(",%s:%s", l.name, l.name)
		if strings.HasPrefix(l.name, "SASL_") {
			b.scramListener(p, strings.ToLower(l.name))
		}
	}
	if b.ssl != 0 {
		p["ssl.keystore.type"] = "PEM"
		p["ssl.keystore.location"] = filepath.Join(b.dir, "server.pem")
	}
	p["listeners"], p["advertised.listeners"], p["listener.security.protocol.map"] = listeners, advertised, protoMap
}

// scramListener enables the SCRAM mechanisms on one SASL listener; each
// needs a JAAS entry or the broker refuses to start.
func (b *Broker) scramListener(p map[string]string, listener string) {
	mechs := b.cfg.mechanisms()
	p["sasl.enabled.mechanisms"] = strings.Join(mechs, ",")
	for _, m := range mechs {
		key := "listener.name." + listener + "." + strings.ToLower(m) + ".sasl.jaas.config"
		p[key] = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
	}
}

func (c config) mechanisms() []string {
	seen := map[string]bool{}
	var out []string
	for _, u := range c.users {
		if !seen[u.Mechanism] {
			seen[u.Mechanism] = true
			out = append(out, u.Mechanism)
		}
	}
	return out
}

// freePorts reserves n distinct loopback ports by listening on port 0, then
// releases them for the broker.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("listen on a loopback port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// LibsDir is where the broker jars are expected: $EVENTWATCH_KAFKA_LIBS, or
// .cache/kafka-<Version>/libs under the module root (found from the working
// directory upwards).
func LibsDir() (string, error) {
	if d := os.Getenv("EVENTWATCH_KAFKA_LIBS"); d != "" {
		return d, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".cache", "kafka-"+Version, "libs"), nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("get working directory: %w", err)
	}
	for {
		if isEventwatchModule(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of github.com/eventwatch/eventwatch above the working directory")
		}
		dir = parent
	}
}

func isEventwatchModule(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	return sc.Scan() && strings.TrimSpace(sc.Text()) == "module github.com/eventwatch/eventwatch"
}

// requireLibs returns the jar folder, skipping the test locally (failing it
// in strict mode, see bins.Strict) when the jars are not there.
func requireLibs(t testing.TB) string {
	t.Helper()
	dir, err := LibsDir()
	if err != nil {
		t.Fatalf("find kafka jars: %v", err)
	}
	jar := filepath.Join(dir, "kafka_2.13-"+Version+".jar")
	if _, err := os.Stat(jar); err == nil {
		return dir
	}
	msg := fmt.Sprintf("kafka %s jars not found (%s missing); run %s (needs mvn) or set EVENTWATCH_KAFKA_LIBS", Version, jar, FetchCommand)
	bins.Missing(t, msg)
	return ""
}
