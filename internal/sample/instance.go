package sample

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
)

// DeriveInstanceID is the static membership id of a replica without
// sample.instance_id or $EVENTWATCH_INSTANCE_ID: "eventwatch-<host>-<hash>"
// where hash is the first 8 hex digits of the SHA-256 of the absolute data
// directory. It is stable across restarts of the same process on the same
// host (so a restart gets its partitions back at once, like the chart's
// pods), and differs between two processes on one host with their own data
// directories. Two processes sharing a host name and a data directory share
// the id: the broker fences one of them, which the sampler reports at WARN
// (set sample.instance_id per process, or "none"). "" when the host name is
// unknown.
func DeriveInstanceID(dataDir string) string {
	host, err := os.Hostname()
	host = strings.TrimSpace(host)
	if err != nil || host == "" {
		return ""
	}
	if abs, err := filepath.Abs(dataDir); err == nil {
		dataDir = abs
	}
	sum := sha256.Sum256([]byte(dataDir))
	id := "eventwatch-" + host + "-" + hex.EncodeToString(sum[:4])
	if len(id) > 249 {
		id = id[len(id)-249:]
	}
	return id
}
