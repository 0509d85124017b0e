package catalog

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"sort"
)

// Key roles: what the record key of a type's events is.
const (
	KeyNone          = "none"           // records carry no key
	KeyEventID       = "event_id"       // the key is the event id
	KeyCorrelationID = "correlation_id" // the key is the correlation id
	KeyOpaque        = "opaque"         // a key that matches no envelope or data field
)

// KeyState counts, over the sampled events of a type, how often the record
// key matched each candidate role: "none", "event_id", "correlation_id" or
// "data.<member>" (a top-level string member of data). Only matches are
// counted, never the key.
type KeyState struct {
	Sampled int64            `json:"sampled"`         // events whose key was examined
	Roles   map[string]int64 `json:"roles,omitempty"` // candidate role -> events whose key matched it
}

// maxKeyCandidates bounds the data members compared with the key.
const maxKeyCandidates = 64

func (k *KeyState) observe(key []byte, res *event.Result, data any) {
	k.Sampled++
	if k.Roles == nil {
		k.Roles = map[string]int64{}
	}
	if key == nil {
		k.Roles[KeyNone]++
		return
	}
	ks := string(key)
	if res.EventID != "" && ks == res.EventID {
		k.Roles[KeyEventID]++
	}
	if res.CorrelationID != "" && ks == res.CorrelationID {
		k.Roles[KeyCorrelationID]++
	}
	m, _ := data.(map[string]any)
	n := 0
	for name, v := range m {
		if n++; n > maxKeyCandidates {
			break
		}
		if s, ok := v.(string); ok && s == ks {
			role := "data." + name
			if _, known := k.Roles[role]; known || len(k.Roles) < maxKeyCandidates {
				k.Roles[role]++
			}
		}
	}
}

// Role is the key role every sampled event agrees on: a data member first
// (the resource id the standards ask to partition by), then the event id,
// the correlation id, "none"; KeyOpaque when no candidate matched every
// event, and "" before any sample.
func (k *KeyState) Role() string {
	if k.Sampled == 0 {
		return ""
	}
	var data []string
	for r, n := range k.Roles {
		if n == k.Sampled && len(r) > 5 && r[:5] == "data." {
			data = append(data, r)
		}
	}
	if len(data) > 0 {
		sort.Strings(data)
		return data[0]
	}
	for _, r := range []string{KeyEventID, KeyCorrelationID, KeyNone} {
		if k.Roles[r] == k.Sampled {
			return r
		}
	}
	return KeyOpaque
}

// merge adds o's counts into k.
func (k *KeyState) merge(o KeyState) {
	k.Sampled += o.Sampled
	for r, n := range o.Roles {
		if k.Roles == nil {
			k.Roles = map[string]int64{}
		}
		k.Roles[r] += n
	}
}
