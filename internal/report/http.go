package report

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"
)

// Routes registers the report API on mux:
//
//	GET /api/v1/reports          weeks with data (JSON)
//	GET /api/v1/reports/weekly   ?week=2026-W47 (default: the last complete week)
//	                             &service=S (optional) &format=json|csv|md|html (default json)
//	                             &tz=Europe/Oslo (optional; default the configured time zone)
//	GET /api/v1/violations       ?rule=&service=&team=&topic=&since=&limit=&cursor= violation
//	                             examples, newest first, paged (JSON)
//	GET /api/v1/violations/stream the same filters, live, as Server-Sent Events
//
// Bad parameters get 400 with a message naming the parameter. Wrap the mux
// (or these paths) with RequireToken to protect them.
func (a *Aggregator) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/reports", a.handleWeeks)
	mux.HandleFunc("GET /api/v1/reports/weekly", a.handleWeekly)
	mux.HandleFunc("GET /api/v1/violations", a.handleViolations)
	mux.HandleFunc("GET /api/v1/violations/stream", a.handleStream)
}

func (a *Aggregator) location(r *http.Request) (*time.Location, error) {
	tz := r.URL.Query().Get("tz")
	if tz == "" {
		return a.rcfg.Location(), nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, errBadParam("tz", "unknown time zone "+tz)
	}
	return loc, nil
}

type paramError struct{ msg string }

func (e paramError) Error() string { return e.msg }

func errBadParam(name, msg string) error { return paramError{"bad parameter " + name + ": " + msg} }

func (a *Aggregator) handleWeeks(w http.ResponseWriter, r *http.Request) {
	loc, err := a.location(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	weeks, err := Weeks(r.Context(), a.store, loc, a.now())
	if err != nil {
		a.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(struct {
		TimeZone string     `json:"time_zone"`
		Default  string     `json:"default_week"`
		Weeks    []WeekInfo `json:"weeks"`
	}{loc.String(), LastComplete(a.now(), loc).String(), weeks})
}

// weeklyParams are the validated query parameters of a weekly report.
type weeklyParams struct {
	week    Week
	service string
	format  string
	loc     *time.Location
}

func (a *Aggregator) parseWeekly(r *http.Request) (weeklyParams, error) {
	q := r.URL.Query()
	p := weeklyParams{service: q.Get("service"), format: q.Get("format")}
	var err error
	if p.loc, err = a.location(r); err != nil {
		return p, err
	}
	if p.format == "" {
		p.format = "json"
	}
	if _, ok := Formats[p.format]; !ok {
		return p, errBadParam("format", "unknown format "+p.format+": want json, csv, md or html")
	}
	p.week = LastComplete(a.now(), p.loc)
	if s := q.Get("week"); s != "" {
		if p.week, err = ParseWeek(s); err != nil {
			return p, errBadParam("week", err.Error())
		}
	}
	return p, nil
}

func (a *Aggregator) handleWeekly(w http.ResponseWriter, r *http.Request) {
	p, err := a.parseWeekly(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rep, err := Build(r.Context(), a.store, p.week, p.service, p.loc, a.now())
	if err != nil {
		a.fail(w, err)
		return
	}
	var buf bytes.Buffer
	if err := Render(&buf, rep, p.format); err != nil {
		a.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", Formats[p.format])
	if p.format == "csv" {
		w.Header().Set("Content-Disposition", `attachment; filename="eventwatch-`+rep.Week+`.csv"`)
	}
	_, _ = w.Write(buf.Bytes())
}

// fail answers 503: the store could not be read (it may be down).
func (a *Aggregator) fail(w http.ResponseWriter, err error) {
	a.log.Warn("report request failed", "err", err)
	http.Error(w, "report store unavailable: "+err.Error(), http.StatusServiceUnavailable)
}
