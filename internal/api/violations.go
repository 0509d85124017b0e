package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/team"
)

// SetOwnership replaces the service → team map reports and the violations
// API scope by (at start and on reload).
func (a *API) SetOwnership(m *team.Map) { a.owners.Store(m) }

func (a *API) ownership() *team.Map { return a.owners.Load() }

// violationParams are the validated filters of the violations API.
type violationParams struct {
	rule, topic, service, team string
	services                   []string // nil: every service
	since                      time.Time
	limit                      int
	cursor                     string
}

// parseViolations reads ?rule=&service=&team=&topic=&since=&limit=&cursor=.
// since is an RFC 3339 time or a duration back from now (15m, 24h).
func (a *API) parseViolations(r *http.Request) (violationParams, error) {
	q := r.URL.Query()
	p := violationParams{rule: q.Get("rule"), topic: q.Get("topic"), service: q.Get("service"), team: q.Get("team"),
		cursor: q.Get("cursor"), limit: 100}
	if s := q.Get("since"); s != "" {
		t, err := parseSince(s, a.now())
		if err != nil {
			return p, errBadParam("since", err.Error())
		}
		p.since = t
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return p, errBadParam("limit", "want a number from 1 to 1000, got "+s)
		}
		p.limit = n
	}
	if err := a.check(r.Context(), filters{rule: p.rule, service: p.service, team: p.team, topic: p.topic}); err != nil {
		return p, err
	}
	p.services = scopeServices(a.ownership(), p.service, p.team)
	return p, nil
}

// scopeServices is the service filter of ?service= and ?team= (both: the
// service when the team owns it, else none).
func scopeServices(m *team.Map, service, teamName string) []string {
	switch {
	case teamName == "" && service == "":
		return nil
	case teamName == "":
		return []string{service}
	}
	svcs := m.ForTeam(teamName, nil).ServiceList()
	if service == "" {
		return svcs
	}
	for _, s := range svcs {
		if s == service {
			return []string{s}
		}
	}
	return []string{}
}

func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want an RFC 3339 time or a duration such as 1h, got %s", s)
	}
	return t, nil
}

func (p violationParams) filter() Filter {
	f := Filter{Rule: p.rule, Topic: p.topic}
	if p.services != nil {
		f.Services = map[string]bool{}
		for _, s := range p.services {
			f.Services[s] = true
		}
	}
	return f
}

// handleViolations answers GET /api/v1/violations: stored examples, newest
// first, one page per request (next_cursor continues).
func (a *API) handleViolations(w http.ResponseWriter, r *http.Request) {
	p, err := a.parseViolations(r)
	if err != nil {
		a.answerError(w, err)
		return
	}
	page, err := a.store.FindExamples(r.Context(), store.ExampleQuery{Rule: p.rule, Services: p.services, Topic: p.topic,
		Since: p.since, Limit: p.limit, Cursor: p.cursor})
	if errors.Is(err, store.ErrBadCursor) {
		http.Error(w, errBadParam("cursor", "not a cursor this API issued").Error(), http.StatusBadRequest)
		return
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	m := a.ownership()
	for i := range page.Examples {
		page.Examples[i].Team = m.TeamOf(page.Examples[i].Service)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(page)
}

// streamHeartbeat is how often an idle stream gets a comment line, so
// proxies and clients see it alive.
const streamHeartbeat = 15 * time.Second

// handleStream answers GET /api/v1/violations/stream with Server-Sent
// Events: one "violation" event per example as it is audited. A client
// that falls behind by more than its buffer gets a "dropped" event and is
// disconnected; the sampler never waits for it.
func (a *API) handleStream(w http.ResponseWriter, r *http.Request) {
	p, err := a.parseViolations(r)
	if err != nil {
		a.answerError(w, err)
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's WriteTimeout; unsupported writers have none
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	sub := a.Subscribe(p.filter())
	defer a.Unsubscribe(sub)
	fmt.Fprint(w, "retry: 3000\n: eventwatch violations\n\n")
	if rc.Flush() != nil {
		return
	}
	a.pump(w, rc, r, sub)
}

// pump writes sub's examples to the client until it leaves or is dropped.
func (a *API) pump(w http.ResponseWriter, rc *http.ResponseController, r *http.Request, sub *Subscription) {
	tick := time.NewTicker(streamHeartbeat)
	defer tick.Stop()
	m := a.ownership()
	for {
		select {
		case <-r.Context().Done():
			return
		case e := <-sub.C:
			e.Team = m.TeamOf(e.Service)
			b, _ := json.Marshal(e) //nolint:errchkjson // strings, numbers and times always marshal
			fmt.Fprintf(w, "event: violation\nid: %d\ndata: %s\n\n", e.Observed.UnixMilli(), b)
		case <-sub.Gone:
			fmt.Fprint(w, "event: dropped\ndata: {\"reason\":\"the client read slower than violations arrived, or the server is stopping\"}\n\n")
			_ = rc.Flush()
			return
		case <-tick.C:
			fmt.Fprint(w, ": keepalive\n\n")
		}
		if rc.Flush() != nil {
			return
		}
	}
}
