package websocket

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"sort"
	"time"

	"github.com/eventwatch/eventwatch/internal/nearest"
)

// Status is one target as GET /api/v1/websockets shows it.
type Status struct {
	Target       string     `json:"target"`                  // the target label
	URL          string     `json:"url"`                     // the endpoint (as configured; the token is never part of it)
	Service      string     `json:"service"`                 // the owning service
	Profile      string     `json:"profile"`                 // the profile it is checked with
	Module       string     `json:"module"`                  // the module it is probed with
	IntervalSec  float64    `json:"interval_seconds"`        // time between probes
	ProbingSince *time.Time `json:"probing_since,omitempty"` // start of the probe in progress
	Last         *Result    `json:"last_probe"`              // the last completed probe; null before the first
	// InProgress is what the probe in progress found so far (the endpoint
	// check, the connection attempts done, messages audited and violations
	// found); success, compliance and the heartbeat are judged when it
	// ends. The first probe of a target starts when eventwatch starts, so
	// its findings show here long before its listen window is over.
	InProgress      *Result `json:"probe_in_progress,omitempty"`
	Totals          Totals  `json:"totals"`                     // counts since eventwatch started
	EndpointPattern string  `json:"endpoint_pattern,omitempty"` // the profile's endpoint pattern
}

// Snapshot returns every target's status, sorted by service then target.
func (p *Prober) Snapshot() []Status {
	out := make([]Status, 0, len(p.targets))
	for _, t := range p.targets {
		out = append(out, t.status())
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].Target < out[j].Target
	})
	return out
}

func (t *target) status() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	module := t.cfg.Module
	if module == "" {
		module = DefaultModule
	}
	s := Status{Target: t.name, URL: t.cfg.URL, Service: t.cfg.Service, Profile: t.profile.Name, Module: module,
		IntervalSec: t.interval.Seconds(), Last: t.last, EndpointPattern: t.profile.WebSocket.Endpoint,
		Totals: t.totals.clone()}
	if !t.running.IsZero() {
		r := t.running
		s.ProbingSince = &r
	}
	if t.current != nil {
		s.InProgress = t.current.partial(t.now())
	}
	return s
}

func (t Totals) clone() Totals {
	t.ViolationsByRule, t.RuleSeverity = maps.Clone(t.ViolationsByRule), maps.Clone(t.RuleSeverity)
	return t
}

// Routes registers GET /api/v1/websockets (?service= filters) on mux; a
// service no target names is 404 with the nearest target services.
func (p *Prober) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/websockets", p.serve)
}

func (p *Prober) serve(w http.ResponseWriter, r *http.Request) {
	svc := r.URL.Query().Get("service")
	targets := []Status{}
	var known []string
	for _, s := range p.Snapshot() {
		known = append(known, s.Service)
		if svc == "" || s.Service == svc {
			targets = append(targets, s)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if err := nearest.Check("service", svc, known); err != nil { // a typo is not "no endpoints"
		var u *nearest.Unknown
		errors.As(err, &u)
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(struct {
			Error string `json:"error"`
			*nearest.Unknown
		}{err.Error() + " (among the services of websocket.targets)", u})
		return
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(struct {
		Targets []Status `json:"targets"`
	}{targets})
}
