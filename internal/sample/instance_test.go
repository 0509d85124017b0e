package sample

import (
	"os"
	"strings"
	"testing"
)

// TestDeriveInstanceID: the derived static membership id is stable for one
// host and data directory, differs between data directories, names the
// host and fits Kafka's limit.
func TestDeriveInstanceID(t *testing.T) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		t.Skip("no host name")
	}
	a, again, other := DeriveInstanceID("data"), DeriveInstanceID("data"), DeriveInstanceID("/srv/eventwatch-2")
	if a == "" || a != again {
		t.Fatalf("derived ids %q and %q, want one stable id", a, again)
	}
	if a == other {
		t.Errorf("two data directories share the id %q", a)
	}
	if !strings.HasPrefix(a, "eventwatch-"+host+"-") || len(a) > 249 {
		t.Errorf("derived id %q, want eventwatch-%s-<hash>, at most 249 characters", a, host)
	}
}
