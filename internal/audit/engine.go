package audit

import (
	"reflect"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/policy"

	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures an Engine.
type Options struct {
	Profile *policy.Profile // required: the standard to enforce
	Catalog Catalog         // optional: enables the catalog.* rules (internal/catalog's *Catalog)

	// DuplicateWindow is how long an event id is remembered for
	// duplicate.event_id (default 10m). DuplicateMaxIDs bounds the ids kept
	// (default 1<<18; 20 bytes per slot — hash, location, time — at half
	// load: 40 bytes per id, 10 MiB); when full, the
	// older half is forgotten early.
	DuplicateWindow time.Duration
	DuplicateMaxIDs int

	// DriftLearnEvents is how many events of a (type, version) the engine
	// learns from before it judges drift (default 20). DriftMaxTypes bounds
	// the learned shapes (default 10000); types beyond it are not judged.
	DriftLearnEvents int
	DriftMaxTypes    int

	// Now returns the reference time for timestamps without a record
	// timestamp, waiver expiry and duplicate windows (default time.Now).
	Now func() time.Time

	// Logger receives engine diagnostics (default slog.Default()).
	Logger *slog.Logger

	// DLQService names the service owning a dead-letter record that names
	// none itself (no wrapped original with a source, no own envelope
	// source). It gets the topic's base name under the profile's DLQ naming
	// ("content" for content.deadletter under "*.deadletter") and may map
	// it to a known service (the daemon asks which service produces to
	// "content.*"). Default: the base name when it is a plain name (no
	// dot), else "" (a base like "orders.v1" is a topic, not a service).
	DLQService func(base string) string
}

// setDefaults fills zero options with their defaults.
func (o *Options) setDefaults() {
	if o.DuplicateWindow == 0 {
		o.DuplicateWindow = 10 * time.Minute
	}
	if o.DuplicateMaxIDs == 0 {
		o.DuplicateMaxIDs = 1 << 18
	}
	if o.DriftLearnEvents == 0 {
		o.DriftLearnEvents = 20
	}
	if o.DriftMaxTypes == 0 {
		o.DriftMaxTypes = 10000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.DLQService == nil {
		o.DLQService = DLQBaseService
	}
}

// DLQBaseService is the default Options.DLQService: base when it is a
// plain service name (no dot), else "".
func DLQBaseService(base string) string {
	if strings.Contains(base, ".") {
		return ""
	}
	return base
}

// dlqService is the fallback owner of a record on dead-letter topic
// topic: the service its name gives (service.deadletter), through
// Options.DLQService; "" when the naming gives none.
func (e *Engine) dlqService(topic string) string {
	base := e.p.DLQBase(topic)
	if base == "" {
		return ""
	}
	return e.opts.DLQService(base)
}

// validate rejects unusable options.
func (o *Options) validate() error {
	switch {
	case o.Profile == nil:
		return fmt.Errorf("options: Profile is required")
	case o.DuplicateWindow < 0:
		return fmt.Errorf("options: DuplicateWindow must be >= 0")
	case o.DuplicateMaxIDs < 2:
		return fmt.Errorf("options: DuplicateMaxIDs must be >= 2")
	case o.DriftLearnEvents < 1 || o.DriftMaxTypes < 1:
		return fmt.Errorf("options: drift settings must be >= 1")
	}
	return nil
}

// Engine audits records against one profile. It is safe for concurrent use
// by many goroutines; its only shared state (duplicate window, drift
// shapes, per-topic and per-type caches) is bounded and locked internally.
type Engine struct {
	opts    Options
	p       *policy.Profile
	cat     Catalog
	log     *slog.Logger
	blobMin int
	dlqRoot *pathNode
	// the profile compiled for the scanner and the rules
	fields [numRoles]fieldRule
	root   *pathNode
	blob   policy.Blob
	ts     policy.Timestamp
	dlq    policy.DLQ
	topics *boundedCache[*topicSettings]
	types  *boundedCache[*typeVerdict]
	dups   *dupWindow
	idSeed uint64 // seeds the stored id hash with the profile's name (ids are judged per profile, as in memory)
	drift  *driftTracker
	states sync.Pool
	strs   *boundedCache[string]
}

// NewEngine compiles an engine for opts.Profile.
func NewEngine(opts Options) (*Engine, error) {
	opts.setDefaults()
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("new engine: %w", err)
	}
	if isNilCatalog(opts.Catalog) {
		opts.Catalog = nil // a nil *catalog.Catalog in the interface means no catalog
	}
	e := &Engine{opts: opts, p: opts.Profile, cat: opts.Catalog,
		log:    opts.Logger.With("component", "audit"),
		topics: newBoundedCache[*topicSettings](4096),
		types:  newBoundedCache[*typeVerdict](4096),
		strs:   newBoundedCache[string](4096),
		dups:   newDupWindow(opts.DuplicateWindow, opts.DuplicateMaxIDs),
		idSeed: hashBytes(fnvOffset, []byte("eventwatch id\x00"+opts.Profile.Name)),
		drift:  newDriftTracker(opts.DriftLearnEvents, opts.DriftMaxTypes),
	}
	e.fields, e.root = compileEnvelope(opts.Profile)
	e.blob, e.ts, e.dlq = opts.Profile.Blob(), opts.Profile.Timestamp(), opts.Profile.DLQ()
	e.blobMin = blobMinimum(&e.blob)
	e.dlqRoot = dlqTrie(&e.dlq)
	e.states.New = func() any { return new(checkState) }
	return e, nil
}

// Profile returns the engine's profile.
func (e *Engine) Profile() *policy.Profile { return e.p }

// Check audits one record. It never panics and never retains rec. A nil
// Value is a tombstone: Result.Tombstone is set and no rule runs (deleting a
// key on a compacted topic is not an envelope violation).
func (e *Engine) Check(rec *event.Record) event.Result {
	if rec.Value == nil {
		return event.Result{Tombstone: true, Profile: e.p.Name}
	}
	st := e.states.Get().(*checkState)
	res := e.run(st, rec)
	st.release()
	e.states.Put(st)
	return res
}

// checkState is the pooled per-Check working memory.
type checkState struct {
	s    scanner
	c    evalCtx
	res  event.Result
	memo internMemo
}

// internMemo remembers, per pooled state, the last event type and the
// last interned strings with their raw bytes: consecutive events mostly
// repeat them, and comparing bytes is cheaper than a map lookup. It holds
// only copies and engine-owned values, never the record.
type internMemo struct {
	typ      []byte
	verdict  *typeVerdict
	raw      [numRoles][]byte
	str      [numRoles]string
	shapeKey uint64     // drift key of shape
	shape    *typeShape // the drift tracker's shape of shapeKey
}

// release drops every reference to the audited record.
func (st *checkState) release() {
	st.c = evalCtx{}
	st.res = event.Result{}
	st.s.buf = nil
}

// run evaluates every enabled rule; a panic becomes an
// envelope.invalid_json violation so one bad record never stops a
// partition.
func (e *Engine) run(st *checkState, rec *event.Record) (res event.Result) {
	defer func() {
		if r := recover(); r != nil {
			res = e.recovered(rec, r)
		}
	}()
	st.res = event.Result{Size: len(rec.Value), Profile: e.p.Name}
	if tp, ok := rec.Header("traceparent"); ok {
		st.res.Traceparent = event.ParseTraceparent(tp) // the one parse of the header: sinks read it from the event.Result
	}
	c := &st.c
	*c = evalCtx{e: e, rec: rec, res: &st.res, ts: e.topicSettingsFor(rec.Topic), s: &st.s, memo: &st.memo}
	c.scan()
	st.res.DeadLetter = c.ts.dlq || event.HasDeadLetterHeaders(rec)
	for _, check := range c.ts.checks[classIndex(c.class())] {
		check(c)
	}
	sortViolations(st.res.Violations)
	return st.res
}

func (e *Engine) recovered(rec *event.Record, r any) event.Result {
	e.log.Error("audit panic recovered", "topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset, "panic", fmt.Sprint(r))
	return event.Result{Size: len(rec.Value), Profile: e.p.Name, Violations: []event.Violation{{Rule: "envelope.invalid_json", Severity: event.SeverityError,
		Message: "value could not be audited (internal error, see logs)"}}}
}

func sortViolations(v []event.Violation) {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j].Rule < v[j-1].Rule; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}

// topicSettings is the per-topic resolution of a profile.
type topicSettings struct {
	ids      [numRecordRules]string         // rule ids by index
	sev      [numRecordRules]event.Severity // "" = off
	waivers  [numRecordRules][]policy.Waiver
	maxBytes int
	settings [numRecordRules][]int // each rule's declared settings, resolved for the topic
	topicOK  bool
	dlq      bool
	// checks are the enabled rules' checks for each record class (see
	// classIndex), in registry order.
	checks [3][]func(*evalCtx)
}

// classIndex maps a record class bit to its index in topicSettings.checks.
func classIndex(class uint8) int {
	switch class {
	case onInvalid:
		return 1
	case onDLQ:
		return 2
	}
	return 0
}

func (e *Engine) topicSettingsFor(topic string) *topicSettings {
	if ts, ok := e.topics.get(topic); ok {
		return ts
	}
	ts := e.resolveTopic(topic)
	e.topics.put(topic, ts)
	return ts
}

func (e *Engine) resolveTopic(topic string) *topicSettings {
	p := e.p
	ts := &topicSettings{dlq: topic != "" && p.IsDLQTopic(topic)}
	re := p.TopicPattern()
	ts.topicOK = topic == "" || re == nil || re.MatchString(topic)
	for i, r := range recordRules {
		ts.ids[i] = r.info.ID
		if sev, ok := p.RuleSeverity(r.info.ID, topic); ok {
			ts.sev[i] = sev
		}
	}
	for i, r := range recordRules {
		on := r.on
		if on == 0 {
			on = onEnvelope
		}
		for k, class := range [3]uint8{onEnvelope, onInvalid, onDLQ} {
			if ts.sev[i] != "" && on&class != 0 {
				ts.checks[k] = append(ts.checks[k], r.check)
			}
		}
	}
	for _, w := range p.Waivers {
		i := recordRuleIndex(w.Rule)
		if i >= 0 && matchGlob(w.Topic, topic) {
			ts.waivers[i] = append(ts.waivers[i], w)
		}
	}
	e.resolveSettings(ts, topic)
	ts.maxBytes = p.TopicMaxBytes(topic)
	return ts
}

// boundedCache is a concurrency-safe string-keyed cache that stops
// inserting at max entries (lookups of uncached keys then recompute). Reads
// are lock-free (an atomic pointer to an immutable map); inserts copy the
// map, which is cheap because they are rare and bounded.
type boundedCache[V any] struct {
	mu  sync.Mutex
	m   atomic.Pointer[map[string]V]
	max int
}

func newBoundedCache[V any](max int) *boundedCache[V] {
	c := &boundedCache[V]{max: max}
	m := make(map[string]V)
	c.m.Store(&m)
	return c
}

func (c *boundedCache[V]) get(k string) (V, bool) {
	v, ok := (*c.m.Load())[k]
	return v, ok
}

func (c *boundedCache[V]) getBytes(k []byte) (V, bool) {
	v, ok := (*c.m.Load())[string(k)]
	return v, ok
}

func (c *boundedCache[V]) put(k string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := *c.m.Load()
	if _, ok := old[k]; ok || len(old) >= c.max {
		return
	}
	m := make(map[string]V, len(old)+1)
	for ok, ov := range old {
		m[ok] = ov
	}
	m[k] = v
	c.m.Store(&m)
}

// isNilCatalog reports whether c is nil or an interface holding a nil
// pointer (checked once, when the engine is built).
func isNilCatalog(c Catalog) bool {
	if c == nil {
		return true
	}
	v := reflect.ValueOf(c)
	return v.Kind() == reflect.Pointer && v.IsNil()
}
