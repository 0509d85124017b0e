package catalog

import "github.com/eventwatch/eventwatch/internal/topology"

// Cluster is what discovery needs from the lag collector: every topic's
// layout and configuration, and which topics each consumer group has
// committed offsets on (internal/topology; the lag collector's
// Snapshot.Topology builds it).
type Cluster = topology.Cluster

// GroupTopics is a consumer group and the topics it reads.
type GroupTopics = topology.GroupTopics
