package daemon

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/testutil/httpget"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// TestAPIToken: with http.token set, /api/* needs the bearer token while
// /metrics, /healthz and /readyz stay open.
func TestAPIToken(t *testing.T) {
	_, cfg := kfakeConfig(t)
	cfg.HTTP.Token = "t0ken"
	in := start(t, cfg, Options{})
	in.waitOK(t, "/healthz")
	for _, p := range []string{"/api/v1/flows", "/api/v1/reports", "/api/v1/groups", "/api/v1/violations", "/api/v1/violations/stream"} {
		if code, _ := httpget.Get(t, in.url+p); code != http.StatusUnauthorized {
			t.Errorf("%s without token = %d, want 401", p, code)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, in.url+"/api/v1/flows", nil)
	req.Header.Set("Authorization", "Bearer t0ken")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/api/v1/flows with token = %d", resp.StatusCode)
	}
	if code, _ := httpget.Get(t, in.url+"/metrics"); code != 200 {
		t.Errorf("/metrics = %d, want open", code)
	}
	if code, _ := httpget.Get(t, in.url+"/debug/pprof/heap"); code != http.StatusNotFound {
		t.Errorf("/debug/pprof/heap without http.pprof = %d, want 404", code)
	}
}

// TestPprof: with http.pprof the runtime profiles are served at
// /debug/pprof/, behind the token like /api/*.
func TestPprof(t *testing.T) {
	_, cfg := kfakeConfig(t)
	cfg.HTTP.Token = "t0ken"
	cfg.HTTP.Pprof = true
	in := start(t, cfg, Options{})
	in.waitOK(t, "/healthz")
	if code, _ := httpget.Get(t, in.url+"/debug/pprof/heap"); code != http.StatusUnauthorized {
		t.Errorf("/debug/pprof/heap without token = %d, want 401", code)
	}
	req, _ := http.NewRequest(http.MethodGet, in.url+"/debug/pprof/heap", nil)
	req.Header.Set("Authorization", "Bearer t0ken")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || len(body) < 2 || body[0] != 0x1f || body[1] != 0x8b {
		t.Errorf("/debug/pprof/heap with token = %d, %d bytes, want a gzipped profile", resp.StatusCode, len(body))
	}
}

// TestHTTPS: with http.tls_cert_file and tls_key_file the server speaks
// TLS only.
func TestHTTPS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeSelfSigned(t, certFile, keyFile)
	_, cfg := kfakeConfig(t)
	cfg.HTTP.TLSCertFile, cfg.HTTP.TLSKeyFile = certFile, keyFile
	in := start(t, cfg, Options{})
	httpsURL := strings.Replace(in.url, "http://", "https://", 1)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}}} //nolint:gosec // self-signed test cert
	wait.Within(t, 30*time.Second, "HTTPS healthz", func() bool {
		resp, err := client.Get(httpsURL + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if code, _ := httpget.Get(t, in.url+"/healthz"); code == 200 {
		t.Fatal("plain HTTP answered 200 on a TLS server")
	}
}

func writeSelfSigned(t *testing.T, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "eventwatch"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
}
