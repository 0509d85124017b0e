package realkafka

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
)

// TestTLSFiles: the server chain verifies against ca.pem for 127.0.0.1 and
// localhost, and server.pem starts with a PKCS#8 key as Kafka's PEM
// keystore wants.
func TestTLSFiles(t *testing.T) {
	dir := t.TempDir()
	if err := writeTLSFiles(dir); err != nil {
		t.Fatal(err)
	}
	server, err := os.ReadFile(filepath.Join(dir, "server.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if blk, _ := pem.Decode(server); blk == nil || blk.Type != "PRIVATE KEY" {
		t.Fatalf("server.pem does not start with a PKCS#8 PRIVATE KEY block")
	}
	pair, err := tls.X509KeyPair(server, server)
	if err != nil {
		t.Fatalf("server.pem is not a key pair: %v", err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.pem holds no certificate")
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"127.0.0.1", "localhost"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: host}); err != nil {
			t.Errorf("server certificate does not verify for %s: %v", host, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: x509.NewCertPool(), DNSName: "127.0.0.1"}); err == nil {
		t.Error("server certificate verifies without the CA")
	}
}
