package share

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Defaults applied by SetDefaults.
const (
	DefaultTopic      = "__eventwatch_state"
	DefaultInterval   = 5 * time.Second
	DefaultStaleAfter = 30 * time.Second
)

// Config is the `share:` section: where replicas exchange their state
// documents.
type Config struct {
	Topic             string        `yaml:"topic"`              // compacted topic of state documents, one partition, created when missing
	ReplicaID         string        `yaml:"replica_id"`         // this replica's name in the documents; default $EVENTWATCH_INSTANCE_ID, else hostname plus a random suffix
	Interval          time.Duration `yaml:"interval"`           // how often provided documents are published
	StaleAfter        time.Duration `yaml:"stale_after"`        // a document older than this is marked stale (its replica stopped or cannot reach Kafka)
	ReplicationFactor int           `yaml:"replication_factor"` // of the topic when eventwatch creates it; -1 uses the broker default
}

// SetDefaults fills every zero field with its default.
func (c *Config) SetDefaults() {
	if c.Topic == "" {
		c.Topic = DefaultTopic
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.StaleAfter == 0 {
		c.StaleAfter = DefaultStaleAfter
	}
	if c.ReplicationFactor == 0 {
		c.ReplicationFactor = -1
	}
}

// Validate reports every invalid field with its path under `share`.
func (c *Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.Topic) == "" {
		errs = append(errs, errors.New("share.topic: required"))
	}
	if strings.Contains(c.ReplicaID, "/") {
		errs = append(errs, fmt.Errorf("share.replica_id: %q must not contain '/'", c.ReplicaID))
	}
	if c.Interval < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("share.interval: must be at least 100ms, got %s", c.Interval))
	}
	if c.StaleAfter <= c.Interval {
		errs = append(errs, fmt.Errorf("share.stale_after: must be longer than share.interval (%s), got %s", c.Interval, c.StaleAfter))
	}
	if c.ReplicationFactor == 0 || c.ReplicationFactor < -1 || c.ReplicationFactor > 32767 {
		errs = append(errs, fmt.Errorf("share.replication_factor: must be -1 (broker default) or 1..32767, got %d", c.ReplicationFactor))
	}
	return errors.Join(errs...)
}

// InstanceIDEnv names the variable replica_id defaults to (the same one
// that names the sampler's static group member: the pod name in a
// StatefulSet).
const InstanceIDEnv = "EVENTWATCH_INSTANCE_ID"

// replicaID is the configured id, else $EVENTWATCH_INSTANCE_ID, else the
// hostname with a random suffix (two processes on one host must not share
// a name).
func (c *Config) replicaID() string {
	if c.ReplicaID != "" {
		return c.ReplicaID
	}
	if id := strings.TrimSpace(os.Getenv(InstanceIDEnv)); id != "" && id != "none" && !strings.Contains(id, "/") {
		return id
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "eventwatch"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return strings.ReplaceAll(host, "/", "_") + "-" + hex.EncodeToString(b[:])
}
