//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/eventwatch/eventwatch/internal/testutil/realkafka"
)

// TestRealKafkaSCRAM checks SASL/SCRAM-SHA-256 against a real broker whose
// user was created at format time: the right password produces and reads
// back, a wrong password or an unknown user fails with
// SASL_AUTHENTICATION_FAILED, and a client speaking no SASL to the SASL
// listener gets no answer.
func TestRealKafkaSCRAM(t *testing.T) {
	const user, password = "eventwatch", "s3cret-pa55"
	b := realkafka.Start(t, realkafka.WithSCRAMUser("SCRAM-SHA-256", user, password))
	ctx := rkTestContext(t, 2*time.Minute)

	t.Run("right password", func(t *testing.T) {
		cl := scramClient(t, b, user, password)
		rkCreateTopic(ctx, t, b, "secured", 1)
		rec := &kgo.Record{Topic: "secured", Value: []byte("over SCRAM")}
		if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
			t.Fatalf("produce over SCRAM-SHA-256: %v", err)
		}
		reader := scramClient(t, b, user, password, kgo.ConsumeTopics("secured"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		fs := reader.PollFetches(ctx)
		if err := fs.Err0(); err != nil || fs.NumRecords() != 1 || string(fs.Records()[0].Value) != "over SCRAM" {
			t.Fatalf("consume over SCRAM-SHA-256: err=%v records=%d", err, fs.NumRecords())
		}
	})

	for _, tc := range []struct{ name, user, password string }{
		{"wrong password", user, "not-the-password"},
		{"unknown user", "mallory", password},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := scramClient(t, b, tc.user, tc.password)
			err := metadataErr(ctx, cl)
			if !errors.Is(err, kerr.SaslAuthenticationFailed) {
				t.Fatalf("metadata with %s: err = %v, want SASL_AUTHENTICATION_FAILED", tc.name, err)
			}
			if !strings.Contains(err.Error(), "SCRAM-SHA-256") {
				t.Errorf("error %q does not name the mechanism", err)
			}
			t.Logf("%s: %v", tc.name, err)
		})
	}

	t.Run("plaintext client on SASL listener", func(t *testing.T) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(b.SASLAddr()), kgo.RequestRetries(0),
			kgo.RetryTimeout(time.Second), kgo.DialTimeout(3*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		if err := metadataErr(ctx, cl); err == nil {
			t.Fatal("metadata without SASL on the SASL listener succeeded")
		}
	})
}

func scramClient(t *testing.T, b *realkafka.Broker, user, password string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	all := append([]kgo.Opt{kgo.SeedBrokers(b.SASLAddr()),
		kgo.SASL(scram.Auth{User: user, Pass: password}.AsSha256Mechanism()),
		kgo.RequestRetries(0), kgo.RetryTimeout(2 * time.Second)}, opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		t.Fatalf("new SCRAM client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func metadataErr(ctx context.Context, cl *kgo.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	_, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
	return err
}

// TestRealKafkaTLS checks TLS against a real broker: a client trusting the
// broker's CA produces over SSL and authenticates with SCRAM over SASL_SSL;
// a client without the CA fails the handshake with an unknown-authority
// error; a wrong password over SASL_SSL is refused like over plaintext.
func TestRealKafkaTLS(t *testing.T) {
	const user, password = "eventwatch", "tls-pa55"
	b := realkafka.Start(t, realkafka.WithTLS(), realkafka.WithSCRAMUser("SCRAM-SHA-256", user, password))
	ctx := rkTestContext(t, 2*time.Minute)
	rkCreateTopic(ctx, t, b, "over-tls", 1)

	t.Run("trusted CA", func(t *testing.T) {
		cl := tlsClient(t, b.TLSAddr(), b.TLSConfig())
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "over-tls", Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatalf("produce over SSL: %v", err)
		}
	})
	t.Run("unknown CA", func(t *testing.T) {
		cl := tlsClient(t, b.TLSAddr(), &tls.Config{MinVersion: tls.VersionTLS12})
		err := metadataErr(ctx, cl)
		var unknown x509.UnknownAuthorityError
		if !errors.As(err, &unknown) {
			t.Fatalf("metadata without the CA: err = %v, want x509.UnknownAuthorityError", err)
		}
	})
	t.Run("SCRAM over TLS", func(t *testing.T) {
		cl := tlsClient(t, b.SASLTLSAddr(), b.TLSConfig(), kgo.SASL(scram.Auth{User: user, Pass: password}.AsSha256Mechanism()))
		if err := metadataErr(ctx, cl); err != nil {
			t.Fatalf("metadata with SCRAM over SASL_SSL: %v", err)
		}
		bad := tlsClient(t, b.SASLTLSAddr(), b.TLSConfig(), kgo.SASL(scram.Auth{User: user, Pass: "wrong"}.AsSha256Mechanism()))
		if err := metadataErr(ctx, bad); !errors.Is(err, kerr.SaslAuthenticationFailed) {
			t.Fatalf("wrong password over SASL_SSL: err = %v, want SASL_AUTHENTICATION_FAILED", err)
		}
	})
}

func tlsClient(t *testing.T, addr string, cfg *tls.Config, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	all := append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.DialTLSConfig(cfg),
		kgo.RequestRetries(0), kgo.RetryTimeout(2 * time.Second)}, opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		t.Fatalf("new TLS client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}
