package catalog

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"bytes"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"
)

// Bounds of a Learner: event types (type, version) and topics tracked, and
// the distinct topics, producers and schema ids remembered per type. What
// is beyond a bound is not described (and counted in Overflow).
const (
	maxTypes       = 2000
	maxTopics      = 10000
	maxPerTypeSets = 32
	maxValueBytes  = 1 << 20
)

// Sampling: the shape of the first learnFirst events of a type is learned
// from each of them, then one in learnEvery, so the cost on the audit path
// is a map lookup and a few atomic adds for almost every record.
const (
	learnFirst = 64
	learnEvery = 64
)

// Learner is an event.Sink that learns, per event type and version, what
// the estate's traffic looks like: how many events were checked and how
// many complied, when the type was first and last seen, its topics,
// producing services and Confluent schema ids, the role of the record key,
// and the shape of the event (Shape) from a sample of events. It keeps
// counts and shapes only, never a payload value, and its memory is bounded
// (maxTypes, maxTopics, maxPerTypeSets, and the Shape bounds).
//
// It is safe for concurrent use by the sampler's workers.
type Learner struct {
	dataPath string
	paths    atomic.Pointer[map[string]string] // profile name -> data path (SetDataPaths)
	isDLQ    func(topic string) bool
	mu       sync.RWMutex
	types    map[typeKey]*typeStats
	topics   map[string]*topicStats
	overflow atomic.Int64
	gen      atomic.Uint64 // counts the observations that changed the state (Generation)
}

type typeKey struct{ typ, version string }

// typeStats is the learning state of one (type, version).
type typeStats struct {
	checked, compliant atomic.Int64
	first, last        atomic.Int64 // unix nanoseconds; 0 before the first event

	mu        sync.Mutex
	sampled   int64
	topics    map[string]int64
	producers map[string]int64
	schemaIDs map[int32]int64
	keys      KeyState
	dataPath  string // data field of the profile that audited the first sample
	value     Shape
	learner   *learner
}

type topicStats struct {
	records     atomic.Int64
	first, last atomic.Int64
	dlq         bool // a dead-letter topic (isDLQ, asked once)
}

// NewLearner returns a learner for events whose data sits at dataPath (the
// profile's data field, e.g. "data"; policy.Profile.FieldPath). Records of
// the topics isDLQ reports (nil: none) are counted for their topic only:
// a dead-letter record wraps an event, it is not one of its type.
func NewLearner(dataPath string, isDLQ func(topic string) bool) *Learner {
	if isDLQ == nil {
		isDLQ = func(string) bool { return false }
	}
	return &Learner{dataPath: dataPath, isDLQ: isDLQ, types: map[typeKey]*typeStats{}, topics: map[string]*topicStats{}}
}

// Observe counts one audited record and, for a sample, learns its shape.
// It never retains rec or res.
func (l *Learner) Observe(rec *event.Record, res *event.Result) {
	if res.Tombstone {
		return
	}
	if l.observe(rec, res) {
		l.gen.Add(1) // after the change: a State taken after Generation read this one holds it
	}
}

// Generation changes whenever what State returns may have changed: an
// unchanged generation, read before a State, means an unchanged State
// (the AsyncAPI share publishes nothing then).
func (l *Learner) Generation() uint64 { return l.gen.Load() }

// observe is Observe; false when it changed nothing (a record of a topic
// beyond the bound that names no type or is a dead letter).
func (l *Learner) observe(rec *event.Record, res *event.Result) bool {
	at := rec.Timestamp
	if at.IsZero() {
		at = time.Now()
	}
	ns := at.UnixNano()
	ts := l.topic(rec.Topic)
	dlq := false
	if ts != nil {
		ts.records.Add(1)
		seen(&ts.first, &ts.last, ns)
		dlq = ts.dlq
	} else {
		dlq = l.isDLQ(rec.Topic)
	}
	if res.EventType == "" || dlq || res.DeadLetter {
		return ts != nil // a dead-letter copy is its original's event, not one produced where it lies
	}
	t := l.typ(typeKey{res.EventType, res.Version})
	if t == nil {
		l.overflow.Add(1)
		return true
	}
	n := t.checked.Add(1)
	if res.Compliant() {
		t.compliant.Add(1)
	}
	seen(&t.first, &t.last, ns)
	t.observe(rec, res, n <= learnFirst || n%learnEvery == 0, l)
	return true
}

// SetDataPaths names the data field of each profile (by event.Result.Profile)
// when the audited topics follow different profiles; a profile not named
// uses the path NewLearner was given. Safe to call while observing.
func (l *Learner) SetDataPaths(byProfile map[string]string) {
	m := make(map[string]string, len(byProfile))
	for k, v := range byProfile {
		m[k] = v
	}
	l.paths.Store(&m)
}

// dataPathOf is the data field of the profile that audited res.
func (l *Learner) dataPathOf(res *event.Result) string {
	if m := l.paths.Load(); m != nil {
		if p, ok := (*m)[res.Profile]; ok {
			return p
		}
	}
	return l.dataPath
}

// seen widens [first, last] to include ns.
func seen(first, last *atomic.Int64, ns int64) {
	for {
		f := first.Load()
		if (f != 0 && f <= ns) || first.CompareAndSwap(f, ns) {
			break
		}
	}
	for {
		v := last.Load()
		if v >= ns || last.CompareAndSwap(v, ns) {
			break
		}
	}
}

func (l *Learner) topic(name string) *topicStats {
	l.mu.RLock()
	ts := l.topics[name]
	l.mu.RUnlock()
	if ts != nil {
		return ts
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if ts = l.topics[name]; ts == nil && len(l.topics) < maxTopics {
		ts = &topicStats{dlq: l.isDLQ(name)}
		l.topics[name] = ts
	}
	return ts
}

func (l *Learner) typ(k typeKey) *typeStats {
	l.mu.RLock()
	t := l.types[k]
	l.mu.RUnlock()
	if t != nil {
		return t
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if t = l.types[k]; t == nil && len(l.types) < maxTypes {
		t = &typeStats{topics: map[string]int64{}, producers: map[string]int64{}, schemaIDs: map[int32]int64{}}
		l.types[k] = t
	}
	return t
}

// observe counts the record's topic, producer and schema id and, when
// learn, folds its value into the shape and its key into the key roles.
func (t *typeStats) observe(rec *event.Record, res *event.Result, learn bool, l *Learner) {
	var v any
	var dataPath string
	if learn {
		v = decodeValue(rec.Value, res.SchemaID != 0)
		dataPath = l.dataPathOf(res)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	countIn(t.topics, rec.Topic)
	if res.Source != "" {
		countIn(t.producers, res.Source)
	}
	if res.SchemaID != 0 && (len(t.schemaIDs) < maxPerTypeSets || t.schemaIDs[res.SchemaID] > 0) {
		t.schemaIDs[res.SchemaID]++
	}
	if v == nil {
		return
	}
	t.sampled++
	if t.dataPath == "" {
		t.dataPath = dataPath
	}
	if t.learner == nil {
		t.learner = newLearner(&t.value)
	}
	t.learner.add(&t.value, v, 0)
	t.keys.observe(rec.Key, res, lookupValue(v, dataPath))
}

func countIn(m map[string]int64, k string) {
	if _, ok := m[k]; ok || len(m) < maxPerTypeSets {
		m[k]++
	}
}

// decodeValue decodes an event value (after its Confluent frame) for
// learning; nil when it is not a JSON object or too large to sample.
func decodeValue(b []byte, framed bool) any {
	if framed && len(b) > 5 {
		b = b[5:]
	}
	if len(b) > maxValueBytes {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil || v == nil {
		return nil
	}
	return v
}

// lookupValue returns the value at a dotted member path of a decoded value.
func lookupValue(v any, path string) any {
	if path == "" {
		return v
	}
	for _, part := range splitPath(path) {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[part]
	}
	return v
}
