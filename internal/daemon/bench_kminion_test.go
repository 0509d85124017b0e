package daemon

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/testutil/procstat"
)

// kminionEnv names a kminion binary; when it is set,
// BenchmarkDaemonSideBySide also measures kminion on the same estate (mode
// "kminion"). v2.3.5 builds from its repository with this machine's Go:
//
//	git clone https://github.com/redpanda-data/kminion && cd kminion && git checkout v2.3.5 && go build -o /tmp/kminion .
const kminionEnv = "EVENTWATCH_KMINION"

// kminionConfig is kminion's configuration for the estate: consumer group
// lag from the admin API and topic figures, both at topic granularity as
// eventwatch's default, log dirs on (eventwatch reports topic sizes too),
// no end-to-end probe.
const kminionConfig = `logger:
  level: warn
kafka:
  brokers: [%s]
minion:
  consumerGroups:
    enabled: true
    scrapeMode: adminApi
    granularity: topic
  topics:
    enabled: true
    granularity: topic
  logDirs:
    enabled: true
  endToEnd:
    enabled: false
exporter:
  host: 127.0.0.1
  port: %d
`

// kminionAlone runs kminion against the estate and scrapes its /metrics
// once per lag interval, as a Prometheus with that scrape interval would
// (kminion asks Kafka on every scrape). Its CPU is the kminion process's,
// its peak RSS the process's since it started.
func kminionAlone(b *testing.B, addrs []string, intervals int, interval time.Duration) sideBySide {
	bin := os.Getenv(kminionEnv)
	port := freePort(b)
	cfg := filepath.Join(b.TempDir(), "kminion.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, kminionConfig, strings.Join(addrs, ", "), port), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "CONFIG_FILEPATH="+cfg)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatalf("start kminion: %v", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	waitFor(b, 10*time.Minute, func() bool {
		body, err := scrape(url)
		return err == nil && strings.Contains(body, "kminion_kafka_consumer_group_topic_lag")
	})
	pid := cmd.Process.Pid
	cpu0 := procstat.CPU(pid)
	next := time.Now()
	for range intervals {
		next = next.Add(interval)
		<-time.After(time.Until(next))
		if _, err := scrape(url); err != nil {
			b.Fatalf("scrape kminion: %v", err)
		}
	}
	return sideBySide{cpuPerInterval: (procstat.CPU(pid) - cpu0).Seconds() / float64(intervals), peakRSS: procstat.PeakRSSMB(pid)}
}

// scrape reads a whole /metrics answer (no deadline shorter than a
// minute: kminion answers a scrape at estate size in seconds).
func scrape(url string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d", resp.StatusCode)
	}
	return string(body), err
}

// freePort returns a loopback port nobody listens on right now.
func freePort(b *testing.B) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
