package lag_test

import (
	"testing"

	"github.com/eventwatch/eventwatch/internal/lag"
)

// TestTopologyLeavesOutOwnGroups: the discovery view of a snapshot lists
// each group's topics, without the groups named as eventwatch's own.
func TestTopologyLeavesOutOwnGroups(t *testing.T) {
	snap := &lag.Snapshot{
		Topics: []lag.TopicInfo{{Topic: "content", Partitions: 3}},
		Groups: []lag.GroupLag{{Group: "eventwatch"}, {Group: "search", Topics: []lag.TopicLag{{Topic: "content"}}}},
	}
	cl := snap.Topology("eventwatch")
	if len(cl.Groups) != 1 || cl.Groups[0].Group != "search" || len(cl.Groups[0].Topics) != 1 || len(cl.Topics) != 1 {
		t.Fatalf("topology = %+v", cl)
	}
	if (*lag.Snapshot)(nil).Topology() != nil {
		t.Fatal("a nil snapshot has a topology")
	}
}
