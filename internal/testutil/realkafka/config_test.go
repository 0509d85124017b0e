package realkafka

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestVersionMatchesPOM(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	pom, err := os.ReadFile(filepath.Join(root, "scripts", "kafka", "pom.xml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<kafka.version>([^<]+)</kafka.version>`).FindSubmatch(pom)
	if m == nil {
		t.Fatal("pom.xml has no <kafka.version>")
	}
	if got := string(m[1]); got != Version {
		t.Fatalf("scripts/kafka/pom.xml assembles kafka %s but realkafka.Version is %s", got, Version)
	}
}

func TestServerProperties(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		want []string
		not  []string
	}{
		{
			name: "plaintext",
			want: []string{
				"process.roles=broker,controller",
				"controller.quorum.voters=1@127.0.0.1:9093",
				"listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093",
				"advertised.listeners=PLAINTEXT://127.0.0.1:9092",
				"offsets.topic.replication.factor=1",
				"group.initial.rebalance.delay.ms=0",
				"log.dirs=/x/data",
			},
			not: []string{"sasl.enabled.mechanisms"},
		},
		{
			name: "scram and override",
			opts: []Option{
				WithSCRAMUser("SCRAM-SHA-256", "alice", "a"),
				WithSCRAMUser("SCRAM-SHA-512", "bob", "b"),
				WithSCRAMUser("SCRAM-SHA-256", "carol", "c"),
				WithProperty("num.partitions", "6"),
			},
			want: []string{
				"listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093,SASL_PLAINTEXT://127.0.0.1:9094",
				"listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT",
				"sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512",
				"listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;",
				"num.partitions=6",
			},
		},
		{
			name: "tls and scram",
			opts: []Option{WithTLS(), WithSCRAMUser("SCRAM-SHA-256", "alice", "a")},
			want: []string{
				"listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093,SASL_PLAINTEXT://127.0.0.1:9094,SSL://127.0.0.1:9095,SASL_SSL://127.0.0.1:9096",
				"listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL",
				"ssl.keystore.type=PEM",
				"ssl.keystore.location=/x/server.pem",
				"listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;",
				"listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &Broker{cfg: newConfig(tc.opts), dir: "/x", port: 9092, ctrl: 9093}
			if len(b.cfg.users) > 0 {
				b.sasl = 9094
			}
			if b.cfg.tls {
				b.ssl = 9095
				if b.sasl != 0 {
					b.saslSSL = 9096
				}
			}
			got := b.serverProperties()
			lines := strings.Split(got, "\n")
			for _, w := range tc.want {
				if !contains(lines, w) {
					t.Errorf("server.properties lacks %q:\n%s", w, got)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("server.properties has %q:\n%s", n, got)
				}
			}
		})
	}
}

func TestSCRAMFormatArg(t *testing.T) {
	u := SCRAMUser{Mechanism: "SCRAM-SHA-256", Name: "alice", Password: "s3cret"}
	if got, want := u.formatArg(), "SCRAM-SHA-256=[name=alice,password=s3cret]"; got != want {
		t.Fatalf("formatArg = %q, want %q", got, want)
	}
}

func TestFreePortsDistinct(t *testing.T) {
	ports, err := freePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p <= 0 || seen[p] {
			t.Fatalf("ports %v not distinct and positive", ports)
		}
		seen[p] = true
	}
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}
