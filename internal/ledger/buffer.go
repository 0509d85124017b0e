package ledger

import (
	"cmp"
	"math"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventwatch/eventwatch/internal/store"
)

// maxLabel bounds the length of dimension strings taken from records, so a
// hostile event type cannot grow rows without limit.
const maxLabel = 200

type recKey struct {
	hour                      int64
	service, topic, eventType string
}

type violKey struct {
	rec                     recKey
	rule, severity, profile string
}

// exKey is the key examples are kept by: the most recent few per (rule,
// service, topic).
type exKey struct{ rule, service, topic string }

type counts struct{ checked, compliant int64 }

type clusterKey struct {
	hour       int64
	kind, name string
}

type clusterVal struct{ value, total float64 }

// buffer holds aggregates not yet written to the store. Its size is the
// number of rows it would write. Its maps are made on first use: the
// ledger holds a buffer per partition the sampler reads (10,000 at estate
// size), most of them empty between batches.
type buffer struct {
	records    map[recKey]*counts
	violations map[violKey]int64
	examples   map[exKey][]store.Example
	nExamples  int
	cluster    map[clusterKey]*clusterVal
	ids        []idEntry // event ids of the buffered records, for duplicate.event_id beyond one process (ids.go)
}

func newBuffer() *buffer { return &buffer{} }

// size counts aggregate rows, and remembered event ids at idsPerRow ids
// per row.
func (b *buffer) size() int {
	return len(b.records) + len(b.violations) + b.nExamples + len(b.cluster) + (len(b.ids)+idsPerRow-1)/idsPerRow
}

// addID holds one record's event id; false when the buffer is full.
func (b *buffer) addID(e idEntry, limit int) bool {
	if len(b.ids)%idsPerRow == 0 && b.size() >= limit {
		return false
	}
	b.ids = append(b.ids, e)
	return true
}

// addRecord adds to a record row; false when the row is new and the buffer
// is full.
func (b *buffer) addRecord(k recKey, c counts, limit int) bool {
	if r, ok := b.records[k]; ok {
		r.checked += c.checked
		r.compliant += c.compliant
		return true
	}
	if b.size() >= limit {
		return false
	}
	if b.records == nil {
		b.records = map[recKey]*counts{}
	}
	b.records[k] = &counts{c.checked, c.compliant}
	return true
}

func (b *buffer) addViolation(k violKey, n int64, limit int) bool {
	if _, ok := b.violations[k]; !ok && b.size() >= limit {
		return false
	}
	if b.violations == nil {
		b.violations = map[violKey]int64{}
	}
	b.violations[k] += n
	return true
}

// addExample keeps e among the newest maxEx examples of its key, pushing
// out the oldest (whatever order examples arrive in, so merging a failed
// flush back keeps the newest); false only when a new row does not fit.
func (b *buffer) addExample(k exKey, e store.Example, maxEx, limit int) bool {
	es := b.examples[k]
	if len(es) >= maxEx {
		oldest := 0
		for i := range es {
			if es[i].Observed.Before(es[oldest].Observed) {
				oldest = i
			}
		}
		if !e.Observed.Before(es[oldest].Observed) {
			es[oldest] = e
		}
		return true
	}
	if b.size() >= limit {
		return false
	}
	if b.examples == nil {
		b.examples = map[exKey][]store.Example{}
	}
	b.examples[k] = append(es, e)
	b.nExamples++
	return true
}

func (b *buffer) addCluster(k clusterKey, v clusterVal, limit int) bool {
	if c, ok := b.cluster[k]; ok {
		c.value += v.value
		c.total += v.total
		return true
	}
	if b.size() >= limit {
		return false
	}
	if b.cluster == nil {
		b.cluster = map[clusterKey]*clusterVal{}
	}
	b.cluster[k] = &clusterVal{v.value, v.total}
	return true
}

// mergeInto adds every row of b to dst and returns how many rows did not fit.
func (b *buffer) mergeInto(dst *buffer, maxEx, limit int) (dropped int) {
	for k, c := range b.records {
		if !dst.addRecord(k, *c, limit) {
			dropped++
		}
	}
	for k, n := range b.violations {
		if !dst.addViolation(k, n, limit) {
			dropped++
		}
	}
	for k, v := range b.cluster {
		if !dst.addCluster(k, *v, limit) {
			dropped++
		}
	}
	for k, es := range b.examples {
		for _, e := range es {
			if !dst.addExample(k, e, maxEx, limit) {
				dropped++
			}
		}
	}
	if limit == math.MaxInt {
		dst.ids = append(dst.ids, b.ids...)
		return dropped
	}
	for _, e := range b.ids {
		if !dst.addID(e, limit) {
			dropped++
		}
	}
	return dropped
}

// batch converts b to the store's representation, rows sorted by key so
// that replicas flushing into one PostgreSQL lock rows in the same order
// (no deadlocks between concurrent upserts).
func (b *buffer) batch() *store.Batch {
	out := b.unsortedBatch()
	sort.Slice(out.Records, func(i, j int) bool { return recLess(out.Records[i], out.Records[j]) })
	sort.Slice(out.Violations, func(i, j int) bool { return violLess(out.Violations[i], out.Violations[j]) })
	sort.Slice(out.Cluster, func(i, j int) bool {
		x, y := out.Cluster[i], out.Cluster[j]
		return cmp.Or(x.Hour.Compare(y.Hour), cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Name, y.Name)) < 0
	})
	return out
}

func recLess(x, y store.RecordAgg) bool {
	return cmp.Or(x.Hour.Compare(y.Hour), cmp.Compare(x.Service, y.Service), cmp.Compare(x.Topic, y.Topic), cmp.Compare(x.EventType, y.EventType)) < 0
}

func violLess(x, y store.ViolationAgg) bool {
	return cmp.Or(x.Hour.Compare(y.Hour), cmp.Compare(x.Service, y.Service), cmp.Compare(x.Topic, y.Topic),
		cmp.Compare(x.EventType, y.EventType), cmp.Compare(x.Rule, y.Rule), cmp.Compare(x.Severity, y.Severity), cmp.Compare(x.Profile, y.Profile)) < 0
}

func (b *buffer) unsortedBatch() *store.Batch {
	out := &store.Batch{}
	for k, c := range b.records {
		out.Records = append(out.Records, store.RecordAgg{Hour: hourTime(k.hour), Service: k.service, Topic: k.topic,
			EventType: k.eventType, Checked: c.checked, Compliant: c.compliant})
	}
	for k, n := range b.violations {
		out.Violations = append(out.Violations, store.ViolationAgg{Hour: hourTime(k.rec.hour), Service: k.rec.service,
			Topic: k.rec.topic, EventType: k.rec.eventType, Rule: k.rule, Severity: k.severity, Profile: k.profile, Violations: n})
	}
	for _, es := range b.examples {
		out.Examples = append(out.Examples, es...)
	}
	for k, v := range b.cluster {
		out.Cluster = append(out.Cluster, store.ClusterAgg{Hour: hourTime(k.hour), Kind: k.kind, Name: k.name, Value: v.value, Total: v.total})
	}
	return out
}

func hourTime(h int64) time.Time { return time.Unix(h, 0).UTC() }

// clip makes a dimension string taken from a record safe to store: valid
// UTF-8 without NUL bytes (PostgreSQL text rejects both), at most maxLabel
// bytes, cut on a rune boundary; the empty value becomes "unknown".
func clip(s string) string {
	if s == "" {
		return "unknown"
	}
	if len(s) <= maxLabel && utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s // the common case, without copying
	}
	s, _ = storable(s, maxLabel)
	return s
}

// storable is s as valid UTF-8 without NUL bytes, cut on a rune boundary
// to at most limit bytes; cut says whether it was cut.
func storable(s string, limit int) (_ string, cut bool) {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= limit {
		return s, false
	}
	n := limit
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}
