package lag

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/eventwatch/eventwatch/internal/httpjson"
	"github.com/eventwatch/eventwatch/internal/nearest"
)

// Routes registers the groups API on mux:
//
//	GET /api/v1/groups          every watched group: status, why, lag, lag seconds, members, per-topic lag
//	GET /api/v1/groups/{group}  one group, with per-partition lag and status
//
// Both answer 503 before the first collection cycle; an unknown group is 404.
func (c *Collector) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/groups", c.serveGroups)
	mux.HandleFunc("GET /api/v1/groups/{group}", c.serveGroup)
}

// groupsPage is the body of GET /api/v1/groups; G is GroupLag, or a
// group's template as JSON in the page the leader shares (TemplatePageOf).
type groupsPage[G any] struct {
	Time        time.Time   `json:"time"`
	Success     bool        `json:"success"`
	LastSuccess time.Time   `json:"last_success"`
	Errors      []string    `json:"errors,omitempty"`
	Objective   float64     `json:"lag_objective_seconds"`
	Window      int         `json:"status_window"`
	Groups      []G         `json:"groups"`
	DLQs        []DLQ       `json:"dlqs"`
	Violations  []Violation `json:"violations"`
}

func (c *Collector) serveGroups(w http.ResponseWriter, _ *http.Request) {
	s := c.Snapshot()
	if s == nil {
		httpjson.Write(w, http.StatusServiceUnavailable, apiError{"no collection cycle has completed yet"})
		return
	}
	httpjson.Write(w, http.StatusOK, PageOf(s))
}

// PageOf is the body of GET /api/v1/groups for snapshot s (the value the
// leader shares with the other replicas, which render it as is).
func PageOf(s *Snapshot) any {
	page := groupsPage[GroupLag]{Time: s.Time, Success: s.Success, LastSuccess: s.LastSuccess, Errors: s.Errors,
		Objective: s.Objective, Window: s.Window, DLQs: s.DLQs, Violations: s.Violations,
		Groups: make([]GroupLag, len(s.Groups))}
	for i, g := range s.Groups {
		page.Groups[i] = PageGroup(g)
	}
	return page
}

// PageGroup is g as the groups page (PageOf) lists it: its topics without
// per-partition rows.
func PageGroup(g GroupLag) GroupLag {
	g.Topics = withoutPartitions(g.Topics)
	return g
}

func withoutPartitions(ts []TopicLag) []TopicLag {
	if !slices.ContainsFunc(ts, func(t TopicLag) bool { return t.Partitions != nil }) {
		return ts // topic granularity: nothing to strip, nothing to copy
	}
	out := make([]TopicLag, len(ts))
	for i, t := range ts {
		t.Partitions = nil
		out[i] = t
	}
	return out
}

func (c *Collector) serveGroup(w http.ResponseWriter, r *http.Request) {
	s := c.Snapshot()
	if s == nil {
		httpjson.Write(w, http.StatusServiceUnavailable, apiError{"no collection cycle has completed yet"})
		return
	}
	name := r.PathValue("group")
	g, ok := c.GroupDetail(name)
	if !ok {
		known := make([]string, len(s.Groups))
		for i, g := range s.Groups {
			known[i] = g.Group
		}
		httpjson.Write(w, http.StatusNotFound, UnknownGroup(name, known))
		return
	}
	httpjson.Write(w, http.StatusOK, g)
}

type apiError struct {
	Error string `json:"error"`
}

// UnknownGroupError is the 404 body of /api/v1/groups/{group} for a group
// that is not watched: the message and the nearest watched groups.
type UnknownGroupError struct {
	Error string `json:"error"`
	*nearest.Unknown
}

// UnknownGroup returns the 404 body for group name among the watched
// groups known.
func UnknownGroup(name string, known []string) UnknownGroupError {
	err := nearest.Check("group", name, known)
	var u *nearest.Unknown
	if !errors.As(err, &u) { // cannot happen: name is not among known
		u = &nearest.Unknown{Kind: "group", Name: name, Total: len(known)}
	}
	return UnknownGroupError{Error: u.Error() + " (a group eventwatch does not watch, see lag.groups, is unknown too)", Unknown: u}
}
