package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/eventwatch/eventwatch/internal/report"
	"github.com/eventwatch/eventwatch/internal/store"
)

// Routes registers the report API on mux:
//
//	GET /api/v1/reports          weeks with data (JSON)
//	GET /api/v1/reports/weekly   ?week=2026-W47 (default: the current week when it has
//	                             data, else the latest week with data)
//	                             &service=S (optional) &team=T (optional) &format=json|csv|md|html (default json)
//	                             &tz=Europe/Oslo (optional; default the configured time zone)
//	GET /api/v1/violations       ?rule=&service=&team=&topic=&since=&limit=&cursor= violation
//	                             examples, newest first, paged (JSON)
//	GET /api/v1/violations/stream the same filters, live, as Server-Sent Events
//
// Bad parameters get 400 with a message naming the parameter. A rule,
// service, team or topic filter naming something eventwatch does not know
// (not in the rule catalogue, no stored record, no ownership entry) gets
// 404 with a JSON body {"error", "kind", "name", "nearest", "known",
// "known_total"}, so a typo never reads as "no violations". Wrap the mux
// (or these paths) with RequireToken to protect them.
func (a *API) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/reports", a.handleWeeks)
	mux.HandleFunc("GET /api/v1/reports/weekly", a.handleWeekly)
	mux.HandleFunc("GET /api/v1/violations", a.handleViolations)
	mux.HandleFunc("GET /api/v1/violations/stream", a.handleStream)
}

func (a *API) location(r *http.Request) (*time.Location, error) {
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

func (a *API) handleWeeks(w http.ResponseWriter, r *http.Request) {
	loc, err := a.location(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	weeks, err := report.Weeks(r.Context(), a.store, loc, a.now())
	if err != nil {
		a.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(struct {
		TimeZone string            `json:"time_zone"`
		Default  string            `json:"default_week"`
		Weeks    []report.WeekInfo `json:"weeks"`
	}{loc.String(), report.DefaultWeek(weeks, a.now(), loc).String(), weeks})
}

// weeklyParams are the validated query parameters of a weekly report.
type weeklyParams struct {
	week    report.Week
	service string
	team    string
	format  string
	loc     *time.Location
}

func (a *API) parseWeekly(r *http.Request) (weeklyParams, error) {
	q := r.URL.Query()
	p := weeklyParams{service: q.Get("service"), team: q.Get("team"), format: q.Get("format")}
	var err error
	if p.loc, err = a.location(r); err != nil {
		return p, err
	}
	if p.format == "" {
		p.format = "json"
	}
	if _, ok := report.LookupFormat(p.format); !ok {
		return p, errBadParam("format", "unknown format "+p.format+": want "+report.FormatNames())
	}
	if err := a.check(r.Context(), filters{service: p.service, team: p.team}); err != nil {
		return p, err
	}
	if s := q.Get("week"); s != "" {
		if p.week, err = report.ParseWeek(s); err != nil {
			return p, errBadParam("week", err.Error())
		}
		return p, nil
	}
	weeks, err := report.Weeks(r.Context(), a.store, p.loc, a.now())
	if err != nil {
		return p, err
	}
	p.week = report.DefaultWeek(weeks, a.now(), p.loc)
	return p, nil
}

func (a *API) handleWeekly(w http.ResponseWriter, r *http.Request) {
	p, err := a.parseWeekly(r)
	if err != nil {
		a.answerError(w, err)
		return
	}
	rep, err := report.BuildFor(r.Context(), a.store, report.Request{Week: p.week, Service: p.service, Team: p.team, Loc: p.loc, Now: a.now(),
		Owners: a.ownership(), DocBase: a.rcfg.RulesDocURL})
	if err != nil {
		a.fail(w, err)
		return
	}
	if a.drift != nil && rep.InProgress && p.service == "" && p.team == "" {
		rep.CatalogDrift = a.drift()
	}
	if rep.InProgress {
		rep.WebSockets = report.MergeLiveWebSockets(rep.WebSockets, a.webSocketsFor(p.service, p.team))
	}
	if a.flows != nil && rep.InProgress && p.service == "" && p.team == "" {
		rep.Flows = a.flows()
	}
	a.addDeadLetters(rep, p.service, p.team)
	if a.reads != nil && rep.InProgress && p.service == "" && p.team == "" {
		rep.Consumers = a.reads()
	}
	var buf bytes.Buffer
	if err := report.Render(&buf, rep, p.format); err != nil {
		a.fail(w, err)
		return
	}
	f, _ := report.LookupFormat(p.format)
	w.Header().Set("Content-Type", f.ContentType)
	if p.format == "csv" {
		w.Header().Set("Content-Disposition", `attachment; filename="eventwatch-`+rep.Week+`.csv"`)
	}
	_, _ = w.Write(buf.Bytes())
}

// answerError answers a request that cannot be served: 400 for a bad
// parameter, 404 for a filter naming something unknown (with the nearest
// known names), else 503 (the store could not be read).
func (a *API) answerError(w http.ResponseWriter, err error) {
	var pe paramError
	switch {
	case errors.As(err, &pe):
		http.Error(w, err.Error(), http.StatusBadRequest)
	case isUnknown(err):
		writeUnknown(w, err)
	default:
		a.fail(w, err)
	}
}

// fail answers 503 with Retry-After: the store could not be read within
// the read deadline (store.ReadTimeout) — down, or locked by another
// process — and the request is not queued behind it.
func (a *API) fail(w http.ResponseWriter, err error) {
	a.log.Warn("report request failed", "err", err)
	w.Header().Set("Retry-After", strconv.Itoa(int(store.RetryAfter.Seconds())))
	msg := "report store unavailable (retry later): "
	if store.IsLocked(err) {
		msg = "report store is locked by another process (retry later): "
	}
	http.Error(w, msg+err.Error(), http.StatusServiceUnavailable)
}
