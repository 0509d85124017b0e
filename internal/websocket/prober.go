package websocket

import (
	"github.com/eventwatch/eventwatch/internal/catalog"
	"github.com/eventwatch/eventwatch/internal/event"

	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/policy"
	"github.com/eventwatch/eventwatch/internal/secret"
)

// Options are the inputs of New besides the configuration.
type Options struct {
	Registry        prometheus.Registerer // receives the eventwatch_websocket_* metrics (required)
	Logger          *slog.Logger          // default slog.Default()
	Catalog         *catalog.Catalog      // the event catalog messages are checked against (catalog.* rules); optional
	DuplicateWindow time.Duration         // duplicate.event_id window of each target's engine (default the engine's)
	Now             func() time.Time      // default time.Now
	// OnFinding, when set, receives every violation as it is found (the
	// daemon feeds the live violation stream with it). It must not block.
	OnFinding func(Finding)
	// Violations, when set, counts every violation in the estate-wide
	// eventwatch_violations_total with transport "websocket" (the daemon
	// passes its recordmetrics.Counters), beside the prober's own
	// eventwatch_websocket_violations_total.
	Violations ViolationCounter
}

// ViolationCounter counts a violation found on a transport other than
// Kafka under its rule id; topic is the endpoint path, service the target's
// service (recordmetrics.Counters.CountViolation).
type ViolationCounter interface {
	CountViolation(transport, topic, service, rule string, sev event.Severity)
}

// Finding is one violation with where it was found.
type Finding struct {
	Violation
	Target    string    // the target label
	Service   string    // the target's service
	Path      string    // the endpoint path
	Profile   string    // the profile that judged it
	EventType string    // the message's event type, for a message violation
	EventID   string    // the message's event id, when readable
	Observed  time.Time // when it was found
}

// Prober probes every configured WebSocket target on its interval. Create
// it with New, run it with Run; Snapshot and Routes read its state.
type Prober struct {
	cfg     Config
	targets []*target
	log     *slog.Logger
}

// target is one configured endpoint with its compiled profile, its own
// audit engine (so its duplicate window and drift are its own) and its
// last result.
type target struct {
	path     string // the target's key, e.g. websocket.targets[0]
	cfg      Target
	name     string
	mod      Module
	interval time.Duration
	profile  *policy.Profile
	engine   *audit.Engine
	m        *targetMetrics
	log      *slog.Logger
	now      func() time.Time
	onFind   func(Finding)
	counter  ViolationCounter

	mu      sync.Mutex
	last    *Result
	running time.Time // start of the probe in progress; zero when idle
	current *probeRun // the probe in progress, once it started; nil when idle
	totals  Totals
}

// Totals are a target's counts since eventwatch started.
type Totals struct {
	Probes            int64             `json:"probes"`                  // probes completed
	Failures          int64             `json:"failures"`                // of which failed
	NonCompliant      int64             `json:"non_compliant"`           // of which failed or found an error-severity violation
	MessagesAudited   int64             `json:"messages_audited"`        // messages audited
	MessagesCompliant int64             `json:"messages_compliant"`      // of which without an error-severity violation
	ViolationsByRule  map[string]int64  `json:"violations_by_rule"`      // violations by rule id
	RuleSeverity      map[string]string `json:"rule_severity,omitempty"` // the severity each rule had when last found
}

// New compiles every target's profile and engine and checks that its
// token can be read; a problem is an error naming the target's key.
func New(cfg Config, opts Options) (*Prober, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	p := &Prober{cfg: cfg, log: opts.Logger.With("component", "websocket")}
	if len(cfg.Targets) == 0 {
		return p, nil
	}
	vec := newVectors(opts.Registry)
	for i, tc := range cfg.Targets {
		t, err := newTarget(fmt.Sprintf("websocket.targets[%d]", i), cfg, tc, opts, vec, p.log)
		if err != nil {
			return nil, err
		}
		p.targets = append(p.targets, t)
	}
	return p, nil
}

func newTarget(path string, cfg Config, tc Target, opts Options, vec *vectors, log *slog.Logger) (*target, error) {
	mod, ok := cfg.Module(tc.Module)
	if !ok {
		return nil, fmt.Errorf("%s.module: unknown module %q", path, tc.Module)
	}
	prof, err := loadProfile(path, tc.Profile, tc.Policy)
	if err != nil {
		return nil, err
	}
	eng, err := audit.NewEngine(audit.Options{Profile: prof, Catalog: opts.Catalog, DuplicateWindow: opts.DuplicateWindow,
		Logger: log, Now: opts.Now})
	if err != nil {
		return nil, fmt.Errorf("%s: compile engine: %w", path, err)
	}
	if _, err := newDialer(tc.URL, mod, newRedactor()); err != nil {
		return nil, fmt.Errorf("%s.module: %w", path, err)
	}
	name := tc.LabelName()
	t := &target{path: path, cfg: tc, name: name, mod: mod, interval: tc.interval(cfg.Interval), profile: prof, engine: eng,
		m: vec.forTarget(name, tc.Service), log: log.With("target", name, "service", tc.Service), now: opts.Now, onFind: opts.OnFinding, counter: opts.Violations,
		totals: Totals{ViolationsByRule: map[string]int64{}, RuleSeverity: map[string]string{}}}
	if _, _, err := t.tokens(); err != nil {
		return nil, err
	}
	return t, nil
}

// loadProfile is the target's policy file, else its built-in profile
// (authorworks when none is named: the standard with a WebSocket clause).
func loadProfile(path, profile, policyFile string) (*policy.Profile, error) {
	if profile == "" {
		profile = "authorworks"
	}
	return policy.LoadSection(path, profile, policyFile)
}

// tokens reads the target's JWT and optional expired JWT (each probe reads
// them again, so a rotated token file is picked up). Errors name the key,
// never the value.
func (t *target) tokens() (string, string, error) {
	tok, err := secret.Resolve(t.path+".token", t.cfg.Token, t.cfg.TokenFile)
	if err != nil {
		return "", "", err
	}
	if tok == "" {
		return "", "", fmt.Errorf("%s.token: empty", t.path)
	}
	exp, err := secret.Resolve(t.path+".expired_token", t.cfg.ExpiredToken, t.cfg.ExpiredTokenFile)
	if err != nil {
		return "", "", err
	}
	return tok, exp, nil
}

// deadline bounds one probe: the listen window, the authenticated dial and
// every refused-connection attempt, plus closing.
func (t *target) deadline() time.Duration {
	per := t.mod.ConnectTimeout + t.mod.AuthWait + time.Second
	return t.mod.Listen + t.mod.ConnectTimeout + 6*per + 10*time.Second
}

// Run probes every target until ctx is done: at once with a short listen
// window (the module's first_listen, so the endpoint, authentication and
// message findings show within seconds of start), then right after with
// the full window, then each on its own interval (the next probe starts an
// interval after the previous one started, or at once when it took
// longer).
func (p *Prober) Run(ctx context.Context) error {
	if len(p.targets) == 0 {
		return nil
	}
	p.log.Info("probing WebSocket endpoints", "targets", len(p.targets))
	g, gctx := errgroup.WithContext(ctx)
	for _, t := range p.targets {
		g.Go(func() error { t.loop(gctx); return nil })
	}
	return g.Wait()
}

func (t *target) loop(ctx context.Context) {
	if t.mod.FirstListen > 0 && t.mod.FirstListen < t.mod.Listen {
		t.probeOnce(ctx, t.mod.FirstListen) // a first look: results within seconds of start
	}
	for {
		start := time.Now()
		t.probeOnce(ctx, t.mod.Listen)
		wait := t.interval - time.Since(start)
		if wait < 0 {
			wait = 0
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// probeOnce runs one probe with a listen window and publishes its result.
func (t *target) probeOnce(ctx context.Context, listen time.Duration) {
	t.mu.Lock()
	t.running = t.now()
	t.mu.Unlock()
	res := t.probeFor(ctx, listen)
	if ctx.Err() != nil { // shutting down: a cut-short probe says nothing
		return
	}
	t.m.probed(res)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.running, t.last = time.Time{}, res
	t.totals.Probes++
	if !res.Success {
		t.totals.Failures++
	}
	if !res.Compliant {
		t.totals.NonCompliant++
	}
	t.totals.MessagesAudited += int64(res.Messages.Audited)
	t.totals.MessagesCompliant += int64(res.Messages.Compliant)
	for r, n := range res.ViolationsByRule {
		t.totals.ViolationsByRule[r] += int64(n)
	}
	for _, v := range res.Violations {
		t.totals.RuleSeverity[v.Rule] = string(v.Severity)
	}
	t.log.Info("websocket probe", "success", res.Success, "compliant", res.Compliant, "error", res.Error,
		"duration_seconds", res.Duration, "messages", res.Messages.Received, "heartbeat", res.Heartbeat.Verdict,
		"violations", len(res.ViolationsByRule))
}
