package api

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/eventwatch/eventwatch/internal/nearest"
	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/team"
)

// namesTTL is how long the known names read from the store are trusted
// before a request reads them again; a name not among them is looked up
// again at once when the cached set is older than namesRecheck.
const (
	namesTTL     = 30 * time.Second
	namesRecheck = time.Second
	maxLiveNames = 10000 // services and topics remembered from the live stream
)

// filters are the name filters of one request; empty means "any".
type filters struct {
	rule, service, team, topic string
}

// knownNames are the names filters may use: the services and topics with
// stored records, those of violations published since the store was read,
// the ownership map's services and teams, and the rule catalogue.
type knownNames struct {
	services, topics, teams, rules []string
	read                           time.Time
}

// names caches the known names and remembers the live stream's.
type names struct {
	mu       sync.Mutex
	cur      *knownNames
	services sync.Map // service names of published examples -> struct{}
	topics   sync.Map // topics of published examples -> struct{}
	nLive    int      // entries in services and topics, at most maxLiveNames
}

// remember adds the services and topics of published examples, so a name
// seen moments ago is known before the next flush reaches the store. The
// common case (a name already remembered) takes no lock and allocates
// nothing.
func (n *names) remember(exs []store.Example) {
	for i := range exs {
		n.add(&n.services, exs[i].Service)
		n.add(&n.topics, exs[i].Topic)
	}
}

func (n *names) add(m *sync.Map, name string) {
	if _, ok := m.Load(name); ok {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.nLive < maxLiveNames {
		if _, loaded := m.LoadOrStore(name, struct{}{}); !loaded {
			n.nLive++
			n.cur = nil // the next check reads the names again, this one included
		}
	}
}

func keys(m *sync.Map) []string {
	var out []string
	m.Range(func(k, _ any) bool {
		out = append(out, k.(string))
		return true
	})
	return out
}

// known returns the known names, reading the store when the cache is older
// than maxAge.
func (a *API) known(ctx context.Context, maxAge time.Duration) (*knownNames, error) {
	a.names.mu.Lock()
	cur := a.names.cur
	a.names.mu.Unlock()
	if cur != nil && a.now().Sub(cur.read) < maxAge {
		return cur, nil
	}
	stored, err := a.store.Names(ctx)
	if err != nil {
		return nil, fmt.Errorf("read known names: %w", err)
	}
	k := a.buildKnown(stored, a.ownership())
	a.names.mu.Lock()
	a.names.cur = k
	a.names.mu.Unlock()
	return k, nil
}

func (a *API) buildKnown(stored store.Names, m *team.Map) *knownNames {
	services := uniq(slices.Concat(stored.Services, m.KnownServices(), keys(&a.names.services)))
	topics := uniq(slices.Concat(stored.Topics, keys(&a.names.topics)))
	k := &knownNames{services: services, topics: topics, teams: m.Teams(services), read: a.now()}
	for _, r := range event.Rules() {
		k.rules = append(k.rules, r.ID)
	}
	return k
}

func uniq(s []string) []string {
	sort.Strings(s)
	return slices.Compact(s)
}

// check returns a *nearest.Unknown for the first filter naming something
// eventwatch does not know, or an error reading the store. A miss is
// checked once more against freshly read names, so a service that appeared
// since the cache was filled is not refused.
func (a *API) check(ctx context.Context, f filters) error {
	k, err := a.known(ctx, namesTTL)
	if err != nil {
		return err
	}
	err = k.check(f, a.ownership())
	if err == nil || a.now().Sub(k.read) < namesRecheck {
		return err
	}
	if k, err = a.known(ctx, namesRecheck); err != nil {
		return err
	}
	return k.check(f, a.ownership())
}

func (k *knownNames) check(f filters, m *team.Map) error {
	for _, c := range []struct {
		kind, name string
		known      []string
	}{{"rule", f.rule, k.rules}, {"team", f.team, k.teams}, {"service", f.service, k.services}, {"topic", f.topic, k.topics}} {
		if err := nearest.Check(c.kind, c.name, c.known); err != nil {
			return err
		}
	}
	if f.team != "" && f.service != "" {
		if svcs := m.Services(f.team); !slices.Contains(svcs, f.service) {
			return &notOfTeam{service: f.service, team: f.team, services: svcs}
		}
	}
	return nil
}

// notOfTeam is ?team=T&service=S with a service T does not own.
type notOfTeam struct {
	service, team string
	services      []string
}

func (e *notOfTeam) Error() string {
	return fmt.Sprintf("service %q is not one of team %s's services (%s)", e.service, e.team, strings.Join(e.services, ", "))
}

// CheckNames checks a ?team= and ?service= filter of another API (dead
// letters, WebSocket endpoints) against the same known names: nil, or an
// error whose text names the nearest known ones (UnknownBody gives its
// 404 body).
func (a *API) CheckNames(ctx context.Context, teamName, service string) error {
	return a.check(ctx, filters{team: teamName, service: service})
}

// UnknownBody is the JSON body of a 404 for err (from CheckNames): the
// message, what was unknown and the nearest known names; ok is false when
// err is not about an unknown name (say, the store could not be read).
func UnknownBody(err error) (body any, ok bool) {
	if !isUnknown(err) {
		return nil, false
	}
	b := struct {
		Error string `json:"error"`
		*nearest.Unknown
	}{Error: err.Error()}
	errors.As(err, &b.Unknown)
	return b, true
}

// isUnknown reports whether err is a filter naming something unknown.
func isUnknown(err error) bool {
	var u *nearest.Unknown
	var n *notOfTeam
	return errors.As(err, &u) || errors.As(err, &n)
}

// writeUnknown answers 404 with a JSON body: the message, and for an
// unknown name what it was and the nearest known names.
func writeUnknown(w http.ResponseWriter, err error) {
	body := struct {
		Error string `json:"error"`
		*nearest.Unknown
	}{Error: err.Error()}
	errors.As(err, &body.Unknown)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	_ = json.NewEncoder(w).Encode(body)
}
