package websocket

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// maxKeptViolations bounds the violations one Result lists (all are
// counted in ViolationsByRule and the metrics).
const maxKeptViolations = 100

// notForWebSocket are record rules that mean nothing without a topic or a
// key; their violations are dropped from WebSocket messages.
var notForWebSocket = map[string]bool{"naming.topic": true, "key.missing": true, "dlq.missing_error_context": true}

// probeRun is one probe of one target in progress.
type probeRun struct {
	t      *target
	window time.Duration // the listen window of this probe
	path   string
	red    *redactor
	now    func() time.Time
	mu     sync.Mutex // guards res and beats while the session runs
	res    *Result
	beats  []beat
	errs   int // error-severity violations found
}

// probe runs one probe of t: the path check, the authenticated connection
// held for the listen window (messages audited, heartbeats measured, one
// ping), and meanwhile the connections that must be refused. It never
// takes longer than t.deadline.
func (t *target) probe(ctx context.Context) *Result { return t.probeFor(ctx, t.mod.Listen) }

// probeFor is probe with a listen window of its own (a first look is
// shorter than the module's).
func (t *target) probeFor(ctx context.Context, listen time.Duration) *Result {
	ctx, cancel := context.WithTimeout(ctx, t.deadline())
	defer cancel()
	r := &probeRun{t: t, now: t.now, window: listen, res: &Result{Started: t.now(), ListenSec: listen.Seconds(), ViolationsByRule: map[string]int{},
		Heartbeat: Heartbeat{Verdict: HeartbeatNotJudged, Detail: "no authenticated connection was held"}}}
	t.setCurrent(r)
	r.run(ctx)
	t.setCurrent(nil)
	r.res.Duration = t.now().Sub(r.res.Started).Seconds()
	r.res.Compliant = r.res.Success && !r.hasError()
	return r.res
}

func (r *probeRun) run(ctx context.Context) {
	u, _ := url.Parse(r.t.cfg.URL) // validated at load
	r.path = u.Path
	token, expired, err := r.t.tokens()
	if err != nil {
		r.red = newRedactor()
		r.fail(nil, err.Error())
		return
	}
	variants := invalidTokens(token, expired, r.now())
	secrets := []string{token, expired}
	for _, v := range variants {
		secrets = append(secrets, v.Token)
	}
	r.red = newRedactor(secrets...)
	r.checkEndpoint()
	d, err := newDialer(r.t.cfg.URL, r.t.mod, r.red)
	if err != nil {
		r.fail(nil, err.Error())
		return
	}
	conn, status, err := d.dial(ctx, token, r.onPing)
	if err != nil {
		r.fail(failedAttempt(status, err), "connection with the token: "+err.Error())
		return
	}
	r.mu.Lock()
	r.res.Auth.Token = &Attempt{Outcome: OutcomeAccepted}
	r.mu.Unlock()
	s := r.listen(ctx, conn)
	r.checkAuth(ctx, d, variants)
	ended, early := s.wait(ctx)
	r.finishListen(s.opened, ended, early)
}

// fail ends the probe before the listen window: why, and the attempt with
// the token when it was made.
func (r *probeRun) fail(tokenAttempt *Attempt, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if tokenAttempt != nil {
		r.res.Auth.Token = tokenAttempt
	}
	r.res.Error = why
}

// failedAttempt describes the refused or failed connection with the token.
func failedAttempt(status int, err error) *Attempt {
	if status != 0 && status != http.StatusSwitchingProtocols {
		return &Attempt{Outcome: OutcomeRefused, HTTPStatus: status, Reason: err.Error()}
	}
	return &Attempt{Outcome: OutcomeError, Reason: err.Error()}
}

// checkEndpoint compares the URL's path with the profile's pattern.
func (r *probeRun) checkEndpoint() {
	w := &r.t.profile.WebSocket
	ok := w.MatchEndpoint(r.path, r.t.cfg.Service)
	r.mu.Lock()
	r.res.Endpoint = Endpoint{Path: r.path, Pattern: w.Endpoint, OK: ok}
	r.mu.Unlock()
	if !ok {
		want := strings.ReplaceAll(w.Endpoint, "{service}", r.t.cfg.Service)
		r.report(event.RuleWebSocketEndpointPath, fmt.Sprintf("endpoint path %s does not match %s (for service %s: %s)", r.path, w.Endpoint, r.t.cfg.Service, want), "")
	}
}

// checkAuth connects without a token and with each invalid token; each
// must be refused.
func (r *probeRun) checkAuth(ctx context.Context, d *dialer, variants []variant) {
	a := d.attempt(ctx, "")
	r.mu.Lock()
	r.res.Auth.NoToken = &a
	r.mu.Unlock()
	r.t.m.closed("no_token", a)
	if a.Outcome == OutcomeAccepted {
		r.report(event.RuleWebSocketAuthMissing, "a connection without a token was accepted ("+a.Reason+"); it must be refused with HTTP 401/403 or closed with 1008", "")
	}
	var accepted []string
	for _, v := range variants {
		a := d.attempt(ctx, v.Token)
		a.Variant, a.Note = v.Name, v.Note
		r.mu.Lock()
		r.res.Auth.Invalid = append(r.res.Auth.Invalid, a)
		r.mu.Unlock()
		r.t.m.closed("invalid_token", a)
		if a.Outcome == OutcomeAccepted {
			accepted = append(accepted, v.Name+" ("+v.Note+")")
		}
	}
	if len(accepted) > 0 {
		r.report(event.RuleWebSocketAuthInvalidAccepted, "connections with invalid tokens were accepted: "+strings.Join(accepted, ", "), "")
	}
}

// finishListen records how the authenticated connection ended and judges
// the heartbeat.
func (r *probeRun) finishListen(opened, ended time.Time, early error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := r.res
	switch {
	case early == nil:
		res.Success = true
		res.Close = &Close{By: "eventwatch", Code: int(websocket.StatusNormalClosure), Reason: "eventwatch probe done"}
	case errors.Is(early, websocket.ErrMessageTooBig):
		res.Error = fmt.Sprintf("a message was larger than max_message_bytes (%d): connection closed with 1009", r.t.mod.MaxMessageBytes)
		res.Close = &Close{By: "eventwatch", Code: int(websocket.StatusMessageTooBig), Reason: "message too big"}
		r.reportLocked("size.event_too_large", res.Error, "")
	case websocket.CloseStatus(early) != -1 || !errors.Is(early, context.DeadlineExceeded):
		c := &Close{By: "server", Code: closeCode(early), Reason: r.red.clean(closeReason(early))}
		res.Close = c
		res.Error = fmt.Sprintf("the server ended the authenticated connection after %s (code %d %q)", round(ended.Sub(opened)), c.Code, c.Reason)
		r.t.m.serverClose("token", c.Code)
	default:
		res.Error = r.red.clean(early.Error())
	}
	r.judgeHeartbeat(opened, ended)
}

// judgeHeartbeat measures the heartbeats against the profile (r.mu held).
func (r *probeRun) judgeHeartbeat(opened, ended time.Time) {
	w := &r.t.profile.WebSocket
	hb := &r.res.Heartbeat
	times := make([]time.Time, 0, len(r.beats))
	last := map[string]time.Time{}
	for _, b := range r.beats {
		times = append(times, b.at)
		if b.kind == beatPing {
			hb.Pings++
		} else {
			hb.Messages++
		}
		if prev, ok := last[b.kind]; ok {
			r.t.m.heartbeat(b.kind, b.at.Sub(prev))
		}
		last[b.kind] = b.at
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	judgeHeartbeat(hb, times, opened, ended, w.HeartbeatInterval, w.HeartbeatTolerance)
	switch hb.Verdict {
	case HeartbeatLate:
		r.reportLocked(event.RuleWebSocketHeartbeatLate, hb.Detail, "")
	case HeartbeatMissing:
		r.reportLocked(event.RuleWebSocketHeartbeatMissing, hb.Detail, "")
	}
	if hb.PingAnswered != nil {
		r.t.m.pingAnswered(*hb.PingAnswered)
	}
}

// audit checks one message with the target's engine (r.mu held).
func (r *probeRun) audit(data []byte, now time.Time) {
	res := r.t.engine.Check(&event.Record{Topic: r.path, Value: data, Timestamp: now})
	m := &r.res.Messages
	m.Audited++
	compliant := true
	for _, v := range res.Violations {
		if notForWebSocket[v.Rule] {
			continue
		}
		if v.Severity == event.SeverityError {
			compliant = false
		}
		r.add(Violation{Rule: v.Rule, Severity: v.Severity, Message: r.red.clean(v.Message), Field: v.Field, Transport: Transport},
			r.red.clean(res.EventType), r.red.clean(res.EventID))
	}
	if compliant {
		m.Compliant++
	}
	r.t.m.audited(compliant)
}

// report records a websocket.* finding when the profile applies the rule
// on this path (severity, waivers).
func (r *probeRun) report(rule, msg, field string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reportLocked(rule, msg, field)
}

func (r *probeRun) reportLocked(rule, msg, field string) {
	sev, ok := r.t.profile.Applies(rule, r.path, r.now())
	if !ok {
		return
	}
	r.add(Violation{Rule: rule, Severity: sev, Message: r.red.clean(msg), Field: field, Transport: Transport}, "", "")
}

// add keeps v (r.mu held), counts it and hands it on; eventType and
// eventID name the message it was found in, if any.
func (r *probeRun) add(v Violation, eventType, eventID string) {
	r.res.ViolationsByRule[v.Rule]++
	if v.Severity == event.SeverityError {
		r.errs++
	}
	if len(r.res.Violations) < maxKeptViolations {
		r.res.Violations = append(r.res.Violations, v)
	}
	r.t.m.violation(v.Rule, v.Severity)
	if r.t.counter != nil {
		r.t.counter.CountViolation(Transport, r.path, r.t.cfg.Service, v.Rule, v.Severity)
	}
	if r.t.onFind != nil {
		r.t.onFind(Finding{Violation: v, Target: r.t.name, Service: r.t.cfg.Service, Path: r.path, Profile: r.t.profile.Name,
			EventType: eventType, EventID: eventID, Observed: r.now()})
	}
	r.t.log.Debug("websocket violation", "rule", v.Rule, "severity", v.Severity, "transport", Transport, "message", v.Message)
}

func (r *probeRun) hasError() bool { return r.errs > 0 }
