package sample

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// adminIdle is how long the sampler's admin client stays open unused. It
// lists log start and end offsets at the group's first start, when
// partitions are assigned, on a position reset and every pausedLagEvery
// while fetching is paused: bursts, far apart once the group settled.
const adminIdle = 30 * time.Second

// errAdminClosed is returned by acquire once the sampler stopped.
var errAdminClosed = errors.New("sampler admin client closed")

// admin is the sampler's own connection for listing offsets, apart from
// its group client, opened when needed and closed once unused for idle. A
// client kept for life keeps the metadata of every partition it ever
// listed in its cache (megabytes at 10,000 partitions: franz-go evicts a
// cached topic only when a later metadata request is answered), while the
// sampler needs it a few times an hour.
type admin struct {
	opts []kgo.Opt
	idle time.Duration

	mu     sync.Mutex
	cl     *kgo.Client
	users  int
	gen    int // bumped by every acquire: an idle timer of an older generation does nothing
	closed bool
}

func newAdmin(opts []kgo.Opt, idle time.Duration) *admin {
	return &admin{opts: opts, idle: idle}
}

// acquire returns the admin client, opening it when needed; call release
// once done with it.
func (a *admin) acquire() (*kadm.Client, func(), error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, nil, errAdminClosed
	}
	if a.cl == nil {
		cl, err := kgo.NewClient(a.opts...)
		if err != nil {
			return nil, nil, fmt.Errorf("create admin client: %w", err)
		}
		a.cl = cl
	}
	a.users++
	a.gen++
	var once sync.Once
	return kadm.NewClient(a.cl), func() { once.Do(a.release) }, nil
}

// release ends one use; the last one arms the idle timer.
func (a *admin) release() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.users--
	if a.users > 0 || a.cl == nil {
		return
	}
	gen := a.gen
	time.AfterFunc(a.idle, func() { a.closeIdle(gen) })
}

// closeIdle closes the client when nobody acquired it since generation gen.
func (a *admin) closeIdle(gen int) {
	a.mu.Lock()
	cl := a.cl
	if a.users > 0 || a.gen != gen || cl == nil {
		a.mu.Unlock()
		return
	}
	a.cl = nil
	a.mu.Unlock()
	cl.Close()
}

// isOpen reports whether a client is open now.
func (a *admin) isOpen() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cl != nil
}

// close closes the client for good; uses still running keep theirs until
// they release it (their requests then fail as the client is closed).
func (a *admin) close() {
	a.mu.Lock()
	cl := a.cl
	a.cl, a.closed = nil, true
	a.mu.Unlock()
	if cl != nil {
		cl.Close()
	}
}
