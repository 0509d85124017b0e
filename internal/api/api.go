package api

import (
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/report"
	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/team"
)

// API serves reports and violation examples from the store (Routes). It
// reads the store only; the live violation stream is fed by Publish (the
// ledger calls it for every audited record with violations). It knows
// nothing of positions or flushes.
type API struct {
	store store.Store
	rcfg  report.Config
	drift func() []report.CatalogDifference
	reads func() *report.Consumers // WithConsumers
	flows func() *report.Flows     // WithFlows
	// websockets is the WebSocket prober's view (WithWebSockets).
	websockets func() []report.WebSocketEndpoint
	// deadLetters and pills feed "Dead letters by cause" and "Poison
	// pills" (WithDeadLetters).
	deadLetters func(from, to time.Time) []report.DeadLetterCause
	pills       func() []report.PoisonPill
	log         *slog.Logger
	now         func() time.Time
	live        *live                    // stream subscriptions (GET /api/v1/violations/stream)
	owners      atomic.Pointer[team.Map] // service -> team, for ?team= scopes
	names       names                    // the names filters may use (names.go)
}

// APIOption configures an API.
type APIOption func(*API)

// WithCatalogDrift adds the catalog-drift section to the whole-estate
// report of the week in progress, from drift (called per report).
func WithCatalogDrift(drift func() []report.CatalogDifference) APIOption {
	return func(a *API) { a.drift = drift }
}

// WithConsumers adds the who-reads-what section (readers, retirement,
// idempotency) to the whole-estate report of the week in progress, from
// reads (called per report; nil: no section).
func WithConsumers(reads func() *report.Consumers) APIOption {
	return func(a *API) { a.reads = reads }
}

// WithReportConfig sets the report settings (time zone, rules doc URL).
func WithReportConfig(c report.Config) APIOption {
	return func(a *API) { a.rcfg = c }
}

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) APIOption {
	return func(a *API) { a.now = now }
}

// NewAPI returns the report API on st; its stream metrics are registered
// on reg.
func NewAPI(st store.Store, reg prometheus.Registerer, log *slog.Logger, opts ...APIOption) *API {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &API{store: st, log: log.With("component", "report"), now: time.Now, live: newLive(reg)}
	for _, o := range opts {
		o(a)
	}
	a.rcfg.SetDefaults()
	return a
}

// Publish offers audited violation examples to the live stream's
// subscribers; it never blocks (ledger.WithExamples takes it).
func (a *API) Publish(exs []store.Example) {
	a.names.remember(exs)
	a.live.publish(exs)
}

// Close ends every stream subscription (shutdown), so streams let the HTTP
// server stop.
func (a *API) Close() { a.live.close() }
