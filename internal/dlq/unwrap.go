package dlq

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/eventwatch/eventwatch/internal/event"
)

// Original is the record a dead letter stands for, ready to be produced
// again: the original value (unwrapped), key and headers, and the topic it
// came from.
type Original struct {
	Topic   string         // the original topic ("" when the letter does not say)
	Key     []byte         // the original key (the dead letter's key, or the wrapper's original_key)
	Value   []byte         // the original value: the wrapped original (an object as written, a string decoded), or the letter's value as is
	Headers []event.Header // the original headers: the wrapper's original_headers, else the letter's headers without error context
}

// ErrNoOriginal is returned by Unwrap for a dead letter that carries no
// original eventwatch can take out (a wrapper without original_event, a
// value that is not JSON and no error headers, a tombstone).
var ErrNoOriginal = errors.New("dead letter carries no original record")

// Unwrap takes the original record out of dead letter rec, read as l.
// errorPrefixes are extra header prefixes that are error context (the
// profile's rules.dlq.error_header_prefixes); kafka_dlt- and
// __connect.errors. always are.
func Unwrap(rec *event.Record, l *Letter, errorPrefixes []string) (Original, error) {
	if !l.HasOriginal || rec.Value == nil {
		return Original{}, fmt.Errorf("%s/%d@%d: %w", rec.Topic, rec.Partition, rec.Offset, ErrNoOriginal)
	}
	o := Original{Topic: l.OriginalTopic, Key: rec.Key, Value: rec.Value}
	prefixes := append([]string{springPrefix, connectPrefix}, errorPrefixes...)
	if l.Format != FormatWrapped {
		o.Headers = withoutPrefixes(rec.Headers, prefixes)
		return o, nil
	}
	return unwrapJSON(rec, o, prefixes)
}

// unwrapJSON takes the original out of a JSON wrapper, with the wrapper's
// original_key and original_headers (an object of strings) when present.
func unwrapJSON(rec *event.Record, o Original, prefixes []string) (Original, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(rec.Value, &top); err != nil {
		return Original{}, fmt.Errorf("%s/%d@%d: %w", rec.Topic, rec.Partition, rec.Offset, ErrNoOriginal)
	}
	raw, _ := first(top, originalFields)
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) > 0 && raw[0] == '{':
		o.Value = bytes.Clone(raw)
	case len(raw) > 0 && raw[0] == '"':
		o.Value = []byte(str(raw))
	default:
		return Original{}, fmt.Errorf("%s/%d@%d: %w", rec.Topic, rec.Partition, rec.Offset, ErrNoOriginal)
	}
	if k, ok := top["original_key"]; ok {
		if s := str(k); s != "" {
			o.Key = []byte(s)
		}
	}
	o.Headers = withoutPrefixes(rec.Headers, prefixes)
	if h, ok := top["original_headers"]; ok {
		var m map[string]string
		if json.Unmarshal(h, &m) == nil {
			o.Headers = headersOf(m)
		}
	}
	return o, nil
}

func withoutPrefixes(hs []event.Header, prefixes []string) []event.Header {
	var out []event.Header
	for _, h := range hs {
		if !anyPrefix(h.Key, prefixes) {
			out = append(out, event.Header{Key: h.Key, Value: bytes.Clone(h.Value)})
		}
	}
	return out
}

func anyPrefix(key string, prefixes []string) bool {
	for _, p := range prefixes {
		if p != "" && strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// headersOf turns a wrapper's original_headers object into headers,
// sorted by key (a JSON object has no order).
func headersOf(m map[string]string) []event.Header {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]event.Header, 0, len(keys))
	for _, k := range keys {
		out = append(out, event.Header{Key: k, Value: []byte(m[k])})
	}
	return out
}
