package share

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/twmb/franz-go/pkg/kgo"
)

// partHeader marks the records of a value written in several parts:
// "i/n/sum", part i of n, sum the xxhash of the whole value (hex). Part 0
// is keyed like the value and written last; part i > 0 is keyed
// key + "\x00" + i.
const partHeader = "ew-part"

// maxParts bounds how many records one item may take; an item larger than
// maxParts × the record budget is omitted (counted, named in the head).
const maxParts = 64

// maxOmittedNames bounds the item keys a head lists as omitted per path.
const maxOmittedNames = 20

// headValue is the value of a document's head record: the document with
// its split members replaced by placeholders, and what it should hold. A
// record written before documents were split (no items) reads the same.
type headValue struct {
	Kind        string              `json:"kind"`
	Replica     string              `json:"replica"`
	PublishedAt time.Time           `json:"published_at"`
	Doc         json.RawMessage     `json:"doc"`
	Items       map[string]int      `json:"items,omitempty"`   // items per split path in this version
	Omitted     map[string][]string `json:"omitted,omitempty"` // keys of items left out (too large even in parts), at most 20 per path
}

// recKey is a parsed record key.
type recKey struct {
	kind, replica string
	path, item    string // empty for a head
	part          int    // > 0 for the continuation parts of a value
}

func headKey(kind, replica string) string { return kind + "/" + replica }

// itemRecordKey is the record key of an item. The item key is escaped
// ("%" as "%25", NUL as "%00") so that NUL only ever separates a part
// number (an item key such as "type\x00version" stays one key).
func itemRecordKey(kind, replica, path, key string) string {
	return kind + "/" + replica + "/" + path + "/" + keyEscaper.Replace(key)
}

var (
	keyEscaper   = strings.NewReplacer("%", "%25", "\x00", "%00")
	keyUnescaper = strings.NewReplacer("%25", "%", "%00", "\x00")
)

func partKey(base string, i int) string {
	if i == 0 {
		return base
	}
	return base + "\x00" + strconv.Itoa(i)
}

// parseKey reads "kind/replica[/path/item][\x00part]".
func parseKey(k string) (recKey, bool) {
	var rk recKey
	if i := strings.LastIndexByte(k, 0); i >= 0 {
		n, err := strconv.Atoi(k[i+1:])
		if err != nil || n <= 0 {
			return rk, false
		}
		rk.part, k = n, k[:i]
	}
	parts := strings.SplitN(k, "/", 4)
	switch len(parts) {
	case 2:
		rk.kind, rk.replica = parts[0], parts[1]
	case 4:
		rk.kind, rk.replica, rk.path, rk.item = parts[0], parts[1], parts[2], keyUnescaper.Replace(parts[3])
	default:
		return rk, false
	}
	return rk, rk.kind != "" && rk.replica != ""
}

// partInfo is what partHeader says; n == 0 for a value in one record.
type partInfo struct {
	i, n int
	sum  uint64
}

func readPart(r *kgo.Record) partInfo {
	for _, h := range r.Headers {
		if h.Key != partHeader {
			continue
		}
		var p partInfo
		if _, err := fmt.Sscanf(string(h.Value), "%d/%d/%x", &p.i, &p.n, &p.sum); err == nil && p.n > 1 && p.i >= 0 && p.i < p.n {
			return p
		}
	}
	return partInfo{}
}

// encodeValue cuts val into records of at most budget bytes under key
// base: one record, or n parts written last-to-first so that part 0 (the
// one a reader acts on) comes last. nil when it needs more than maxParts.
func encodeValue(topic, base string, val []byte, budget int) []*kgo.Record {
	if len(val) <= budget {
		return []*kgo.Record{{Topic: topic, Key: []byte(base), Value: val}}
	}
	n := (len(val) + budget - 1) / budget
	if n > maxParts {
		return nil
	}
	sum := xxhash.Sum64(val)
	recs := make([]*kgo.Record, 0, n)
	for i := n - 1; i >= 0; i-- {
		chunk := val[i*budget : min((i+1)*budget, len(val))]
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(partKey(base, i)), Value: chunk,
			Headers: []kgo.RecordHeader{{Key: partHeader, Value: fmt.Appendf(nil, "%d/%d/%016x", i, n, sum)}}})
	}
	return recs
}

// tombstones deletes parts [from, to) of base (part 0 is base itself).
func tombstones(topic, base string, from, to int) []*kgo.Record {
	var recs []*kgo.Record
	for i := from; i < to; i++ {
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(partKey(base, i))})
	}
	return recs
}
