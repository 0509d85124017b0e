package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/eventwatch/eventwatch/internal/secret"
)

// Opts returns the client options every eventwatch client starts from:
// seeds, client id, dial timeout, KIP-714 client metrics, SASL and TLS. It
// resolves the password (environment or file) and reads the TLS files now.
func (c *Config) Opts() ([]kgo.Opt, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.ClientID(c.ClientID),
		kgo.DialTimeout(c.DialTimeout),
	}
	if !c.ClientMetrics {
		opts = append(opts, kgo.DisableClientMetrics())
	}
	tlsCfg, err := c.TLS.build()
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	if tlsCfg != nil {
		opts = append(opts, kgo.DialTLSConfig(tlsCfg))
	}
	mech, err := c.SASL.mechanism()
	if err != nil {
		return nil, err
	}
	if mech != nil {
		opts = append(opts, kgo.SASL(mech))
	}
	return opts, nil
}

// mechanism builds the SASL mechanism. The password is resolved now (so a
// missing variable or file fails start-up) and again on every
// authentication, so a rotated password file or variable takes effect on
// the next connection without a restart.
func (s *SASLConfig) mechanism() (sasl.Mechanism, error) {
	if s.Mechanism == "" {
		return nil, nil
	}
	if _, err := s.password(); err != nil {
		return nil, err
	}
	switch s.Mechanism {
	case MechanismPlain:
		return plain.Plain(func(context.Context) (plain.Auth, error) {
			pw, err := s.password()
			return plain.Auth{User: s.Username, Pass: pw}, err
		}), nil
	case MechanismScramSHA256, MechanismScramSHA512:
		fn := func(context.Context) (scram.Auth, error) {
			pw, err := s.password()
			return scram.Auth{User: s.Username, Pass: pw}, err
		}
		if s.Mechanism == MechanismScramSHA256 {
			return scram.Sha256(fn), nil
		}
		return scram.Sha512(fn), nil
	}
	return nil, fmt.Errorf("kafka.sasl.mechanism: unknown %q", s.Mechanism)
}

func (s *SASLConfig) password() (string, error) {
	return secret.Resolve("kafka.sasl.password", s.Password, s.PasswordFile)
}

func (t *TLSConfig) build() (*tls.Config, error) {
	if !t.Enabled {
		return nil, nil
	}
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // opt-in, documented as testing only
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file: no PEM certificate in %s", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" {
		pair, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load cert_file/key_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// ErrAuth marks a probe failure caused by SASL authentication: retrying with
// the same credentials will not help, but the daemon keeps probing, and the
// password is re-read on every connection, so fixing the password file (or
// variable) recovers without a restart.
var ErrAuth = errors.New("kafka authentication failed")

// Probe asks the cluster for its brokers (a Metadata request with no
// topics) through cl, a client built from c.Opts, and returns how many
// brokers the cluster has, or an error that says why not: authentication,
// TLS, or reachability.
func (c *Config) Probe(ctx context.Context, cl *kgo.Client) (int, error) {
	req := kmsg.NewPtrMetadataRequest()
	// An empty, non-nil topic list asks for the brokers only: a nil list
	// means every topic, a response of every partition's replicas that
	// costs both sides (megabytes a probe at 50,000 partitions).
	req.Topics = []kmsg.MetadataRequestTopic{}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return 0, c.classify(err)
	}
	if len(resp.Brokers) == 0 {
		return 0, errors.New("metadata: cluster reported no brokers")
	}
	return len(resp.Brokers), nil
}

func (c *Config) classify(err error) error {
	var ke *kerr.Error
	if errors.As(err, &ke) && (ke.Code == kerr.SaslAuthenticationFailed.Code || ke.Code == kerr.IllegalSaslState.Code || ke.Code == kerr.UnsupportedSaslMechanism.Code) {
		return fmt.Errorf("%w: %w", ErrAuth, err)
	}
	if c.SASL.Mechanism != "" && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
		// Some brokers (and kfake) drop the connection on a failed SASL
		// exchange instead of answering SASL_AUTHENTICATION_FAILED.
		return fmt.Errorf("broker closed the connection (with SASL %s this usually means wrong credentials: check kafka.sasl.username and the password): %w", c.SASL.Mechanism, err)
	}
	var netErr net.Error
	var tlsErr *tls.CertificateVerificationError
	switch {
	case errors.As(err, &tlsErr):
		return fmt.Errorf("tls handshake with broker: %w", err)
	case errors.As(err, &netErr) && netErr.Timeout():
		if addr := c.acceptingSeed(); addr != "" {
			return fmt.Errorf("read timeout: broker %s accepted the TCP connection but did not answer the first Kafka request (a hung broker, a proxy, or a TLS listener spoken to in plaintext?): %w", addr, err)
		}
		return fmt.Errorf("reach brokers: %w", err)
	case errors.As(err, &netErr), errors.Is(err, kgo.ErrClientClosed):
		return fmt.Errorf("reach brokers: %w", err)
	}
	return fmt.Errorf("request metadata: %w", err)
}

// acceptingSeed returns the first seed broker that accepts a TCP
// connection right now, or "" when none does: a timeout against a broker
// that accepts connections is a read timeout, not a failure to dial.
func (c *Config) acceptingSeed() string {
	d := net.Dialer{Timeout: time.Second}
	for _, addr := range c.Brokers {
		conn, err := d.DialContext(context.Background(), "tcp", addr)
		if err == nil {
			_ = conn.Close()
			return addr
		}
	}
	return ""
}
