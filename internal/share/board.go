package share

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
)

// publishTimeout bounds one Publish when the caller's context has no deadline.
const publishTimeout = 10 * time.Second

// Entry is the latest document of one (kind, replica) pair.
type Entry struct {
	Kind        string          `json:"kind"`         // what the document is
	Replica     string          `json:"replica"`      // who published it
	PublishedAt time.Time       `json:"published_at"` // publisher's clock
	Doc         json.RawMessage `json:"doc"`          // the document, its items in place
	Stale       bool            `json:"stale"`        // older than stale_after when Entries was called
	Self        bool            `json:"self"`         // published by this replica
	Incomplete  int             `json:"incomplete"`   // items its head counts that the topic did not hold
}

// Provider returns the document to publish now; ok false skips this round.
type Provider func() (doc any, ok bool)

// declared is a Kind with its split tree.
type declared struct {
	Kind
	tree *pathNode
}

// Board publishes this replica's documents and holds every replica's
// latest ones. Create it with New and start it with Run.
type Board struct {
	cfg  Config
	id   string
	base []kgo.Opt
	log  *slog.Logger
	now  func() time.Time

	cl      *kgo.Client                // reads the topic
	prod    atomic.Pointer[kgo.Client] // writes it, batches bounded by the topic's limit
	limit   atomic.Int64               // the topic's max.message.bytes
	ensured chan struct{}              // closed once the topic exists and prod is set
	synced  atomic.Bool
	// ownFrom is the topic's end when Run started: this replica's records
	// from there on are this process's own publications.
	ownFrom atomic.Int64
	boardMetrics

	mu        sync.RWMutex
	docs      map[string]map[string]*docState // kind -> replica -> document
	kinds     map[string]*declared
	providers map[string]Provider

	pubMu sync.Mutex           // one publication at a time
	pub   map[string]*pubState // kind -> what this replica has on the topic
}

// New validates cfg (after defaults) and returns a board that uses the base
// client options (seeds, SASL, TLS). It does not touch the network.
func New(cfg Config, base []kgo.Opt, reg prometheus.Registerer, log *slog.Logger) (*Board, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validate share config: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	b := &Board{cfg: cfg, id: cfg.replicaID(), base: base, log: log.With("component", "share"), now: time.Now,
		ensured: make(chan struct{}), boardMetrics: newBoardMetrics(reg), docs: map[string]map[string]*docState{},
		kinds: map[string]*declared{}, providers: map[string]Provider{}, pub: map[string]*pubState{}}
	b.limit.Store(defaultMaxMessageBytes)
	b.ownFrom.Store(math.MaxInt64) // until the topic's end is known, nothing is this process's
	// the broker answers a fetch as soon as a record arrives, so the
	// fetch wait only spaces the polls of a quiet topic: 15 s rather than
	// franz-go's 5 s, each replica's idle fetches a third as often. A
	// fetch takes at most fetchBytes (and always one whole batch).
	opts := append(slices.Clone(base), kgo.ConsumeTopics(cfg.Topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(quietFetchWait), kgo.FetchMaxBytes(fetchBytes), kgo.FetchMaxPartitionBytes(fetchBytes))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("create share client: %w", err)
	}
	b.cl = cl
	return b, nil
}

// quietFetchWait is how long the broker holds the board's fetch while no
// record arrives.
const quietFetchWait = 15 * time.Second

// fetchBytes and maxBatchBytes bound what one fetch of the board holds
// decompressed: a fetch of at most 256 KiB compressed, or one batch of at
// most 512 KiB before compression. Unbounded (franz-go's 50 MB fetches
// of batches as large as the topic allows), the leader's reading back of
// a document whose items all changed (8 MB at 10k partitions, every cycle
// while its status window fills) held the whole of it decompressed at
// once, and the garbage collector's heap goal doubled that in RSS.
const (
	fetchBytes    = 256 << 10
	maxBatchBytes = 512 << 10
)

// Declare registers how documents of k.Name are cut into records. Call it
// before Run, once per kind; a kind that is never declared is shared as
// one record per document.
func (b *Board) Declare(k Kind) error {
	if err := k.validate(); err != nil {
		return err
	}
	b.mu.Lock()
	b.kinds[k.Name] = &declared{Kind: k, tree: newPathTree(slices.Clone(k.Splits))}
	b.mu.Unlock()
	return nil
}

func (b *Board) kind(name string) *declared {
	b.mu.RLock()
	k := b.kinds[name]
	b.mu.RUnlock()
	if k == nil {
		return &declared{Kind: Kind{Name: name}, tree: &pathNode{}}
	}
	return k
}

// ReplicaID is this replica's name in the documents it publishes.
func (b *Board) ReplicaID() string { return b.id }

// Synced reports whether the board has read the topic up to where it ended
// when Run started: from then on Entries holds every replica's documents.
func (b *Board) Synced() bool { return b.synced.Load() }

// Provide registers fn to be called every share.interval (and once at
// start); its document is published as kind. A later Provide for the same
// kind replaces fn.
func (b *Board) Provide(kind string, fn Provider) {
	b.mu.Lock()
	b.providers[kind] = fn
	b.mu.Unlock()
}

// Acknowledger is a document that wants to know when it is durable: the
// board calls Published once the broker acknowledged it.
type Acknowledger interface{ Published() }

// Publish writes doc (marshalled to JSON) as this replica's document of
// kind and waits for the broker's acknowledgement, at most ctx's deadline
// or 10s: only the items that changed since the last publication, then the
// head (see the package doc). Readers, this board included, see it once
// they have read it back from the topic. A doc that implements
// Acknowledger hears when it is durable.
func (b *Board) Publish(ctx context.Context, kind string, doc any) error {
	if err := b.publish(ctx, kind, doc); err != nil {
		return err
	}
	if a, ok := doc.(Acknowledger); ok {
		a.Published()
	}
	return nil
}

// Delete publishes tombstones for every record of this replica's document
// of kind, so every board forgets it.
func (b *Board) Delete(ctx context.Context, kind string) error {
	return b.deleteOwn(ctx, kind)
}

// Entries returns the latest document of every replica for kind, sorted by
// replica, each marked stale when older than share.stale_after (not the
// documents of a SelfServed kind this process published).
func (b *Board) Entries(kind string) []Entry {
	now := b.now()
	tree := b.kind(kind).tree
	b.mu.Lock()
	out := make([]Entry, 0, len(b.docs[kind]))
	for replica, s := range b.docs[kind] {
		if s.head == nil || s.bodiless {
			continue
		}
		out = append(out, Entry{Kind: kind, Replica: replica, PublishedAt: s.head.PublishedAt, Doc: s.assembled(tree),
			Stale: now.Sub(s.head.PublishedAt) > b.cfg.StaleAfter, Self: replica == b.id, Incomplete: s.incomplete})
	}
	b.mu.Unlock()
	slices.SortFunc(out, func(x, y Entry) int { return strings.Compare(x.Replica, y.Replica) })
	return out
}

// Newest returns the most recently published document of kind, by any
// replica, and whether there is one.
func (b *Board) Newest(kind string) (Entry, bool) {
	var best Entry
	found := false
	for _, e := range b.Entries(kind) {
		if !found || e.PublishedAt.After(best.PublishedAt) {
			best, found = e, true
		}
	}
	return best, found
}

// ViewAge is how old the newest document of kind this board holds is
// (by its publisher's clock); false when it holds none.
func (b *Board) ViewAge(kind string) (time.Duration, bool) {
	var newest time.Time
	b.mu.RLock()
	for _, s := range b.docs[kind] {
		if s.head != nil && s.head.PublishedAt.After(newest) {
			newest = s.head.PublishedAt
		}
	}
	b.mu.RUnlock()
	if newest.IsZero() {
		return 0, false
	}
	return max(b.now().Sub(newest), 0), true
}

// Retire stops this replica's heartbeat for kind without deleting the
// document: it grows stale, and the next publisher of a Single kind
// removes it. A later Publish of kind starts again from the topic.
func (b *Board) Retire(kind string) {
	b.pubMu.Lock()
	delete(b.pub, kind)
	b.pubMu.Unlock()
}
