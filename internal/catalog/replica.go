package catalog

import (
	"encoding/json"
	"sort"
	"time"
)

// maxSharedBytes keeps a replica's shared document well under Kafka's
// default 1 MiB record limit: beyond it the shapes of the least-seen
// types are left out (their counts stay).
const maxSharedBytes = 768 << 10

// ReplicaDoc is what one replica shares about the estate: what it learned
// from its partitions and, on the leader, the cluster view.
type ReplicaDoc struct {
	State     State     `json:"state"`
	Cluster   *Cluster  `json:"cluster,omitempty"`    // only the lag collector's leader has one
	ClusterAt time.Time `json:"cluster_at,omitempty"` // when Cluster was collected
}

// Bounded returns d, with the shapes of the least-seen types dropped
// until its JSON encoding fits maxSharedBytes.
func (d ReplicaDoc) Bounded() ReplicaDoc {
	raw, err := json.Marshal(d)
	if err != nil || len(raw) <= maxSharedBytes {
		return d
	}
	types := append([]TypeState(nil), d.State.Types...)
	order := make([]int, len(types))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return types[order[a]].Checked < types[order[b]].Checked })
	d.State.Types = types
	size := len(raw)
	for _, i := range order {
		if size <= maxSharedBytes {
			break
		}
		if shape, err := json.Marshal(types[i].Value); err == nil {
			size -= len(shape)
		}
		types[i].Value = nil
	}
	return d
}

// MergeReplicas is the estate of several replicas' documents: their states
// merged (Merge) and the most recently collected cluster view.
func MergeReplicas(docs ...ReplicaDoc) (State, *Cluster) {
	states := make([]State, 0, len(docs))
	var cl *Cluster
	var at time.Time
	for _, d := range docs {
		states = append(states, d.State)
		if d.Cluster != nil && (cl == nil || d.ClusterAt.After(at)) {
			cl, at = d.Cluster, d.ClusterAt
		}
	}
	return Merge(states...), cl
}
