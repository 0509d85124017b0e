package dlq

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/httpjson"
	"github.com/eventwatch/eventwatch/internal/nearest"
	"github.com/eventwatch/eventwatch/internal/store"
)

// API serves the dead-letter endpoints:
//
//	GET  /api/v1/dlq                                     triage of every dead-letter topic (?team= ?service= ?error_class= ?since=)
//	GET  /api/v1/dlq/{topic}                             triage of one (404 when eventwatch reads no such dead-letter topic)
//	GET  /api/v1/dlq/{topic}/records/{partition}/{offset} one dead letter (payload: admin credential and dlq.show_payload only)
//	POST /api/v1/dlq/replays                             start a replay (admin credential; 403 with the read token or when replay is off)
//	GET  /api/v1/dlq/replays[/{id}]                      the replay audit log
type API struct {
	Triage    *Triage                                            // the triage reader (nil: triage off)
	Replayer  *Replayer                                          // the replayer (nil: no store)
	Store     store.ReplayStore                                  // replay bookkeeping (nil: no store)
	KafkaOpts []kgo.Opt                                          // client options for reading one dead letter
	Auditor   Auditor                                            // audits a shown dead letter
	Prefixes  func(topic string) []string                        // extra error-header prefixes of a topic's profile
	Services  func(team, service string) (map[string]bool, bool) // the services ?team= and ?service= select (false: no filter)
	// CheckNames refuses a ?team= or ?service= eventwatch does not know
	// (nil: not checked); its error becomes the 404 body UnknownBody gives.
	CheckNames  func(ctx context.Context, team, service string) error
	UnknownBody func(err error) (any, bool)
	AdminToken  string // the admin bearer token ("" : nothing admin-only is allowed)
	ShowPayload bool   // dlq.show_payload
}

// Routes adds the read endpoints to mux (behind the read token) — the POST
// goes through AdminHandler.
func (a *API) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/dlq", a.handleList)
	mux.HandleFunc("GET /api/v1/dlq/replays", a.handleReplays)
	mux.HandleFunc("GET /api/v1/dlq/replays/{id}", a.handleReplay)
	mux.HandleFunc("GET /api/v1/dlq/{topic}", a.handleTopic)
	mux.HandleFunc("GET /api/v1/dlq/{topic}/records/{partition}/{offset}", a.handleShow)
	mux.HandleFunc("POST /api/v1/dlq/replays", a.handleStart)
}

func (a *API) handleList(w http.ResponseWriter, r *http.Request) {
	f, err := a.filter(r)
	if err != nil {
		a.filterError(w, err)
		return
	}
	httpjson.WriteUnescaped(w, http.StatusOK, map[string]any{"topics": a.snapshot(f)})
}

func (a *API) snapshot(f Filter) []TopicCauses {
	if a.Triage == nil {
		return []TopicCauses{}
	}
	return a.Triage.Snapshot(f)
}

func (a *API) handleTopic(w http.ResponseWriter, r *http.Request) {
	f, err := a.filter(r)
	if err != nil {
		a.filterError(w, err)
		return
	}
	f.Topic = r.PathValue("topic")
	ts := a.snapshot(Filter{Topic: f.Topic})
	if len(ts) == 0 {
		httpjson.WriteUnescaped(w, http.StatusNotFound, a.unknownTopic(f.Topic))
		return
	}
	out := a.snapshot(f)
	if len(out) == 0 {
		out = []TopicCauses{{Topic: f.Topic, Causes: []CauseView{}}}
	}
	httpjson.WriteUnescaped(w, http.StatusOK, out[0])
}

// unknownTopic is the 404 body for a topic eventwatch triages no dead
// letters of: the message with the nearest dead-letter topics it does
// triage, so a typo is not mistaken for "no dead letters".
func (a *API) unknownTopic(topic string) any {
	var known []string
	for _, t := range a.snapshot(Filter{}) {
		known = append(known, t.Topic)
	}
	var u *nearest.Unknown
	if !errors.As(nearest.Check("dead-letter topic", topic, known), &u) { // cannot happen: topic is not among known
		u = &nearest.Unknown{Kind: "dead-letter topic", Name: topic, Total: len(known)}
	}
	return struct {
		Error string `json:"error"`
		*nearest.Unknown
	}{Error: u.Error() + " (eventwatch triages the topics lag.dlq_patterns and the profiles name, once a dead letter arrived)", Unknown: u}
}

// filterError answers a filter that cannot be applied: 404 with the
// nearest known names for an unknown team or service, else 400.
func (a *API) filterError(w http.ResponseWriter, err error) {
	if a.UnknownBody != nil {
		if body, ok := a.UnknownBody(err); ok {
			httpjson.WriteUnescaped(w, http.StatusNotFound, body)
			return
		}
	}
	http.Error(w, err.Error(), http.StatusBadRequest)
}

// filter reads ?team= ?service= ?error_class= ?since= (RFC 3339 or a duration back from now).
func (a *API) filter(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	f := Filter{ErrorClass: q.Get("error_class")}
	if s := q.Get("since"); s != "" {
		t, err := parseSince(s)
		if err != nil {
			return f, errors.New("since: " + err.Error())
		}
		f.From = t
	}
	if a.CheckNames != nil {
		if err := a.CheckNames(r.Context(), q.Get("team"), q.Get("service")); err != nil {
			return f, err
		}
	}
	if a.Services != nil {
		if svcs, ok := a.Services(q.Get("team"), q.Get("service")); ok {
			f.Services = svcs
		}
	}
	return f, nil
}

func parseSince(s string) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return time.Now().Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errors.New("want an RFC 3339 time or a duration such as 24h, got " + s)
	}
	return t, nil
}

func (a *API) handleShow(w http.ResponseWriter, r *http.Request) {
	topic := r.PathValue("topic")
	p, err1 := strconv.ParseInt(r.PathValue("partition"), 10, 32)
	o, err2 := strconv.ParseInt(r.PathValue("offset"), 10, 64)
	if err1 != nil || err2 != nil || p < 0 || o < 0 {
		http.Error(w, "want /api/v1/dlq/{topic}/records/{partition}/{offset} with numbers", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	rec, err := FetchOne(ctx, a.KafkaOpts, topic, int32(p), o)
	if err != nil {
		code := http.StatusBadGateway
		if errors.Is(err, ErrNotFound) {
			code = http.StatusNotFound
		}
		http.Error(w, err.Error(), code)
		return
	}
	res := a.Auditor.Check(rec)
	payload, why := a.payloadAccess(r)
	s := Show(rec, &res, payload, why, a.Prefixes(topic))
	if a.Store != nil {
		if items, err := a.Store.ReplayedItems(ctx, topic, int32(p), o); err == nil {
			for _, it := range items {
				s.Replayed = append(s.Replayed, ReplayMark{ReplayID: it.ReplayID, Target: it.Target, State: it.State, At: it.Updated})
			}
		}
	}
	httpjson.WriteUnescaped(w, http.StatusOK, s)
}

// payloadAccess says whether r may see payload bytes, and why not.
func (a *API) payloadAccess(r *http.Request) (bool, string) {
	switch {
	case !a.ShowPayload:
		return false, "off (dlq.show_payload: false)"
	case !a.isAdmin(r):
		return false, "needs the admin credential (dlq.replay.admin_token_file)"
	}
	return true, "shown"
}

func (a *API) isAdmin(r *http.Request) bool {
	got, ok := Bearer(r.Header.Get("Authorization"))
	return ok && a.AdminToken != "" && subtle.ConstantTimeCompare([]byte(got), []byte(a.AdminToken)) == 1
}

// Bearer returns the token of an "Authorization: Bearer <token>" header.
func Bearer(h string) (string, bool) {
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", false
	}
	return strings.TrimSpace(h[len(prefix):]), true
}

// handleStart answers POST /api/v1/dlq/replays: 401 without a credential,
// 403 with one that is not the admin credential or when replay is off, 400
// for a refused selection (nothing sent), 202 when sending started, 200
// for a dry run.
func (a *API) handleStart(w http.ResponseWriter, r *http.Request) {
	if _, ok := Bearer(r.Header.Get("Authorization")); !ok && a.AdminToken != "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="eventwatch"`)
		http.Error(w, "replay needs the admin credential", http.StatusUnauthorized)
		return
	}
	if a.Replayer == nil || !a.Replayer.cfg.Enabled || a.AdminToken == "" {
		http.Error(w, ErrReplayOff.Error(), http.StatusForbidden)
		return
	}
	if !a.isAdmin(r) {
		http.Error(w, "replay needs the admin credential; this token may only read", http.StatusForbidden)
		return
	}
	var req Request
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		http.Error(w, "replay refused, nothing sent: malformed request: "+err.Error(), http.StatusBadRequest)
		return
	}
	st, err := a.Replayer.Start(r.Context(), req)
	var bad *BadRequestError
	switch {
	case errors.As(err, &bad):
		http.Error(w, err.Error(), http.StatusBadRequest)
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadGateway)
	case req.DryRun:
		httpjson.WriteUnescaped(w, http.StatusOK, st)
	default:
		httpjson.WriteUnescaped(w, http.StatusAccepted, st)
	}
}

func (a *API) handleReplays(w http.ResponseWriter, r *http.Request) {
	if a.Store == nil {
		httpjson.WriteUnescaped(w, http.StatusOK, map[string]any{"replays": []store.Replay{}})
		return
	}
	limit := 100
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			http.Error(w, "limit: want a number from 1 to 1000, got "+s, http.StatusBadRequest)
			return
		}
		limit = n
	}
	rps, err := a.Store.Replays(r.Context(), r.URL.Query().Get("state"), limit)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	if rps == nil {
		rps = []store.Replay{}
	}
	httpjson.WriteUnescaped(w, http.StatusOK, map[string]any{"replays": rps})
}

func (a *API) handleReplay(w http.ResponseWriter, r *http.Request) {
	if a.Store == nil {
		http.Error(w, "no such replay", http.StatusNotFound)
		return
	}
	rp, err := a.Store.Replay(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNoReplay):
		http.Error(w, err.Error(), http.StatusNotFound)
	case err != nil:
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	default:
		httpjson.WriteUnescaped(w, http.StatusOK, rp)
	}
}
