package realkafka

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// WithTLS opens an SSL listener (TLSAddr) with a server certificate for
// 127.0.0.1 and localhost signed by a CA made for this broker (CAFile,
// TLSConfig); with SCRAM users it also opens a SASL_SSL listener
// (SASLTLSAddr). Kafka reads the key and chain as a PEM keystore.
func WithTLS() Option {
	return func(c *config) { c.tls = true }
}

// TLSAddr is the SSL bootstrap address; empty without WithTLS.
func (b *Broker) TLSAddr() string { return addr(b.ssl) }

// SASLTLSAddr is the SASL_SSL (SCRAM over TLS) bootstrap address; empty
// unless both WithTLS and WithSCRAMUser were given.
func (b *Broker) SASLTLSAddr() string { return addr(b.saslSSL) }

// CAFile is the PEM file of the CA that signed the broker's certificate;
// empty without WithTLS.
func (b *Broker) CAFile() string {
	if !b.cfg.tls {
		return ""
	}
	return filepath.Join(b.dir, "ca.pem")
}

// TLSConfig returns a client TLS config trusting the broker's CA.
func (b *Broker) TLSConfig() *tls.Config {
	b.t.Helper()
	pemCA, err := os.ReadFile(b.CAFile())
	if err != nil {
		b.t.Fatalf("read broker CA: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemCA)
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

func addr(port int) string {
	if port == 0 {
		return ""
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// writeTLSFiles makes the CA and the server certificate: ca.pem, and
// server.pem holding the PKCS#8 key followed by the certificate chain.
func writeTLSFiles(dir string) error {
	caKey, caCert, caDER, err := newCA()
	if err != nil {
		return err
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate server key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("sign server certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(srvKey)
	if err != nil {
		return fmt.Errorf("encode server key: %w", err)
	}
	server := append(pemBlock("PRIVATE KEY", keyDER), pemBlock("CERTIFICATE", srvDER)...)
	server = append(server, pemBlock("CERTIFICATE", caDER)...)
	if err := os.WriteFile(filepath.Join(dir, "server.pem"), server, 0o600); err != nil {
		return fmt.Errorf("write server.pem: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), pemBlock("CERTIFICATE", caDER), 0o600); err != nil {
		return fmt.Errorf("write ca.pem: %w", err)
	}
	return nil
}

func newCA() (*ecdsa.PrivateKey, *x509.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("generate CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "eventwatch e2e CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("self-sign CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("parse CA: %w", err)
	}
	return key, cert, der, nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
