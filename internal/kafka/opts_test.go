package kafka

import (
	"github.com/eventwatch/eventwatch/internal/testutil/tier"

	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
)

func probeWith(t *testing.T, cfg Config, extra ...kgo.Opt) (int, error) {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	opts, err := cfg.Opts()
	if err != nil {
		t.Fatalf("opts: %v", err)
	}
	cl, err := kgo.NewClient(append(append(opts, kgo.RetryTimeout(2*time.Second)), extra...)...)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return cfg.Probe(ctx, cl)
}

func TestSASL(t *testing.T) {
	for _, mech := range []string{MechanismPlain, MechanismScramSHA256, MechanismScramSHA512} {
		t.Run(mech, func(t *testing.T) {
			c := kfaketest.Cluster(t, kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser(mech, "watcher", "s3cret"))
			var cfg Config
			cfg.SetDefaults()
			cfg.Brokers = c.ListenAddrs()
			cfg.SASL = SASLConfig{Mechanism: mech, Username: "watcher", Password: "${EW_KAFKA_TEST_PW}"}

			t.Setenv("EW_KAFKA_TEST_PW", "s3cret")
			if n, err := probeWith(t, cfg); err != nil || n != 1 {
				t.Fatalf("right password: brokers %d, err %v", n, err)
			}
			t.Setenv("EW_KAFKA_TEST_PW", "wrong")
			// kfake drops the connection on a failed exchange where a
			// real broker answers SASL_AUTHENTICATION_FAILED (ErrAuth, in
			// the e2e suite); both must name the credentials.
			_, err := probeWith(t, cfg)
			if err == nil || (!errors.Is(err, ErrAuth) && !strings.Contains(err.Error(), "wrong credentials")) {
				t.Fatalf("wrong password: err = %v, want an authentication error", err)
			}
		})
	}
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t)
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	c := kfaketest.Cluster(t, kfake.NumBrokers(1), kfake.TLS(&tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}))
	var cfg Config
	cfg.SetDefaults()
	cfg.Brokers = c.ListenAddrs()

	cfg.TLS = TLSConfig{Enabled: true, CAFile: caFile}
	if _, err := probeWith(t, cfg); err != nil {
		t.Fatalf("with CA: %v", err)
	}
	cfg.TLS = TLSConfig{Enabled: true, InsecureSkipVerify: true}
	if _, err := probeWith(t, cfg); err != nil {
		t.Fatalf("insecure skip verify: %v", err)
	}
	cfg.TLS = TLSConfig{Enabled: true}
	if _, err := probeWith(t, cfg); err == nil {
		t.Fatal("system roots accepted a self-signed broker certificate")
	}
}

func TestOptsErrors(t *testing.T) {
	var cfg Config
	cfg.SetDefaults()
	cfg.TLS = TLSConfig{Enabled: true, CAFile: filepath.Join(t.TempDir(), "missing.pem")}
	if _, err := cfg.Opts(); err == nil {
		t.Fatal("missing ca_file accepted")
	}
	cfg.TLS = TLSConfig{}
	cfg.SASL = SASLConfig{Mechanism: MechanismPlain, Username: "u", Password: "${EW_KAFKA_UNSET_VAR}"}
	_, err := cfg.Opts()
	if err == nil || err.Error() != "kafka.sasl.password: environment variable EW_KAFKA_UNSET_VAR is not set" {
		t.Fatalf("unset env: %v", err)
	}
}

func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kfake"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

// TestPasswordFileRotation: the password file is re-read on every
// connection, so fixing it recovers without rebuilding the client.
func TestPasswordFileRotation(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser(MechanismScramSHA512, "watcher", "new-pw"))
	file := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(file, []byte("old-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var cfg Config
	cfg.SetDefaults()
	cfg.Brokers = c.ListenAddrs()
	cfg.SASL = SASLConfig{Mechanism: MechanismScramSHA512, Username: "watcher", PasswordFile: file}
	opts, err := cfg.Opts()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(opts, kgo.RetryTimeout(time.Second))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	probe := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := cfg.Probe(ctx, cl)
		return err
	}
	if err := probe(); err == nil {
		t.Fatal("the old password was accepted")
	}
	if err := os.WriteFile(file, []byte("new-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := probe(); err != nil {
		t.Fatalf("after rotating the file: %v", err)
	}
}

// TestProbeSilentBrokerIsReadTimeout: a listener that accepts the TCP
// connection but never answers is described as a read timeout, not as a
// failure to dial; a port nobody listens on still is one.
func TestProbeSilentBrokerIsReadTimeout(t *testing.T) {
	t.Parallel() // own cluster or listener, no environment
	tier.Slow(t, "waits out a read timeout")
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	var cfg Config
	cfg.SetDefaults()
	cfg.Brokers = []string{ln.Addr().String()}
	cfg.DialTimeout = time.Second
	// The read deadline of a request is the client's request timeout
	// overhead (franz-go's default, 10 s, in production); 500 ms here, so
	// the test does not wait out the default.
	_, err = probeWith(t, cfg, kgo.RequestTimeoutOverhead(500*time.Millisecond))
	if err == nil || !strings.Contains(err.Error(), "read timeout") || !strings.Contains(err.Error(), "accepted the TCP connection") {
		t.Fatalf("silent broker: err = %v, want a read timeout", err)
	}
}

// TestProbeAsksForNoTopics: a probe is a Metadata request for the brokers
// only. A nil topic list would ask for every topic (every partition's
// replicas, megabytes at estate size, every probe interval).
func TestProbeAsksForNoTopics(t *testing.T) {
	t.Parallel()
	c := kfaketest.Cluster(t, kfake.NumBrokers(1), kfake.SeedTopics(8, "orders", "payments"))
	var mu sync.Mutex
	var asked []kmsg.MetadataRequest
	c.ControlKey(int16(kmsg.Metadata), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		mu.Lock()
		asked = append(asked, *req.(*kmsg.MetadataRequest))
		mu.Unlock()
		return nil, nil, false
	})
	var cfg Config
	cfg.SetDefaults()
	cfg.Brokers = c.ListenAddrs()
	n, err := probeWith(t, cfg)
	if err != nil || n != 1 {
		t.Fatalf("probe: %d brokers, %v", n, err)
	}
	mu.Lock()
	defer mu.Unlock()
	var probes int
	for _, r := range asked {
		if r.Topics == nil {
			t.Errorf("a Metadata request asked for every topic (nil topic list)")
		}
		if len(r.Topics) == 0 {
			probes++
		}
	}
	if probes == 0 {
		t.Fatalf("no Metadata request for the brokers only among %d", len(asked))
	}
}
