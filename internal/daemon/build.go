package daemon

import (
	"github.com/eventwatch/eventwatch/internal/recordmetrics"

	"github.com/eventwatch/eventwatch/internal/event"

	"context"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/api"
	"github.com/eventwatch/eventwatch/internal/catalog"
	"github.com/eventwatch/eventwatch/internal/config"
	"github.com/eventwatch/eventwatch/internal/dlq"
	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/leader"
	"github.com/eventwatch/eventwatch/internal/ledger"
	"github.com/eventwatch/eventwatch/internal/metrics"
	"github.com/eventwatch/eventwatch/internal/policy"
	"github.com/eventwatch/eventwatch/internal/readers"
	"github.com/eventwatch/eventwatch/internal/sample"
	"github.com/eventwatch/eventwatch/internal/secret"
	"github.com/eventwatch/eventwatch/internal/share"
	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/team"
	"github.com/eventwatch/eventwatch/internal/trace"
	"github.com/eventwatch/eventwatch/internal/websocket"
)

// daemon holds the built components of one Run.
type daemon struct {
	cfg   *config.Config
	opts  Options
	root  *slog.Logger // no component attribute; components add their own
	log   *slog.Logger // component=daemon
	level *slog.LevelVar
	reg   *prometheus.Registry
	base  []kgo.Opt

	auditor        *swappable
	counters       *recordmetrics.Counters // the audit metrics sink; also knows which services produce where
	sampler        *sample.Sampler
	seenTimes      *lag.SeenTimes // record timestamps the sampler read, for the leader's exact time lag
	stitcher       *trace.Stitcher
	store          store.Store
	ledger         *ledger.Ledger   // exactly-once accounting of the audited records into the store
	reports        *api.API         // the report and violations API (internal/api)
	learner        *catalog.Learner // what the AsyncAPI discovery describes
	readers        *readers.Tracker // who reads which type and version; consumer idempotency
	readersResumed sync.Once        // the readers resumed from this replica's earlier document
	readersStarted time.Time
	readersShared  readersShared // what this replica's readers document on the topic was made of
	estates        *estateShare  // the learned estate, shared with the other replicas
	elector        *leader.Elector
	board          *share.Board         // state shared with the other replicas
	groupsSeen     groupsCache          // the last groups document decoded from the board
	renderedGroups renderedGroups       // the leader's groups items of its last shared page, reused while a group's view stays the same
	term           atomic.Pointer[term] // the singleton work of the current leadership term
	ready          *readiness
	token          string
	owners         *ownershipGauge   // eventwatch_service_team_info
	ws             *websocket.Prober // WebSocket endpoints (websocket.targets)
	teams          atomic.Pointer[team.Map]

	triage     *dlq.Triage   // dead letters by cause (nil when dlq.triage.enabled is false)
	replayer   *dlq.Replayer // governed replay (nil without a replay store)
	dlqAPI     *dlq.API      // /api/v1/dlq...
	adminToken string        // dlq.replay admin credential

	reloadOK prometheus.Gauge
}

func newDaemon(ctx context.Context, cfg *config.Config, opts Options) (*daemon, error) {
	d := &daemon{cfg: cfg, opts: opts, level: new(slog.LevelVar), auditor: &swappable{}}
	d.root = newLogger(cfg.Log, opts.LogOutput, d.level)
	d.log = d.root.With("component", "daemon")
	if _, err := cfg.MigrateDeprecated(); err != nil { // a config built in code may still set the old keys
		return nil, err
	}
	for _, note := range cfg.Deprecations {
		d.log.Warn("deprecated configuration key", "detail", note)
	}
	d.reg = newRegistry(opts.Registry, opts.Version)
	d.reloadOK = metrics.ConfigReloadSuccess.NewGaugeVec(d.reg).WithLabelValues()
	d.reloadOK.Set(1)
	if err := d.build(ctx); err != nil {
		if d.store != nil {
			_ = d.store.Close()
		}
		return nil, err
	}
	return d, nil
}

func (d *daemon) build(ctx context.Context) error {
	if err := Check(d.cfg); err != nil {
		return err
	}
	steps := []func(context.Context) error{d.buildKafka, d.buildAudit, d.buildStore, d.buildComponents}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (d *daemon) buildKafka(context.Context) error {
	base, err := d.cfg.Kafka.Opts()
	if err != nil {
		return fmt.Errorf("kafka options: %w", err)
	}
	d.base = append(base, d.opts.KafkaOpts...)
	d.ready = newReadiness(d.cfg.Kafka, d.base, d.reg, d.root)
	return nil
}

func (d *daemon) buildAudit(context.Context) error {
	r, err := buildRouter(d.cfg.Audit, d.root, d.dlqOwner)
	if err != nil {
		return err
	}
	d.auditor.cur.Store(r)
	return nil
}

func (d *daemon) buildStore(ctx context.Context) error {
	if err := os.MkdirAll(d.cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("data_dir: create: %w", err)
	}
	scfg := d.cfg.Store
	dsn, err := resolveDSN(scfg.DSN)
	if err != nil {
		return err
	}
	scfg.DSN = dsn
	st, err := store.Open(ctx, scfg, d.cfg.DataDir, d.root)
	if err != nil {
		return fmt.Errorf("open report store %s: %w", store.Redact(dsn), err)
	}
	d.store = st
	tok, err := d.cfg.HTTP.BearerToken()
	if err != nil {
		return fmt.Errorf("http.token_file: %w", err)
	}
	d.token = tok
	return nil
}

func (d *daemon) buildComponents(context.Context) error {
	var err error
	d.board, err = share.New(d.cfg.Share, d.base, d.reg, d.root)
	if err != nil {
		return fmt.Errorf("share: %w", err)
	}
	tcfg := d.cfg.Trace
	tcfg.OTLP.ServiceVersion, tcfg.OTLP.InstanceID = d.opts.Version, d.board.ReplicaID()
	tcfg.OTLP.ConsumerGroup, tcfg.OTLP.Brokers, tcfg.OTLP.ClientID = d.cfg.Sample.GroupID, d.cfg.Kafka.Brokers, d.cfg.Kafka.ClientID
	d.stitcher, err = trace.New(tcfg, d.reg, d.root)
	if err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	d.reports = api.NewAPI(d.store, d.reg, d.root, api.WithReportConfig(d.cfg.Reports), api.WithCatalogDrift(d.catalogDrift), api.WithDeadLetters(d.reportDeadLetters, d.reportPoisonPills),
		api.WithWebSockets(d.webSockets), api.WithConsumers(d.consumersSection), api.WithFlows(d.flowsSection))
	d.ledger = ledger.New(d.store, d.cfg.Store, d.reg, d.root, ledger.WithClusterSource(&clusterSource{d: d}),
		ledger.WithGroup(d.cfg.Sample.GroupID), ledger.WithExamples(d.reports.Publish),
		ledger.WithDuplicateIDs(d.storedDuplicateWindow(), d.countFoundDuplicates))
	d.owners = newOwnershipGauge(d.reg)
	d.applyOwnership(d.cfg.Teams, d.auditor.cur.Load())
	d.learner = catalog.NewLearner(d.auditor.cur.Load().def.Profile().FieldPath(policy.FieldData), d.isDLQTopic)
	d.learner.SetDataPaths(dataPaths(d.auditor.cur.Load()))
	d.counters = recordmetrics.NewCounters(d.reg, d.cfg.Sample.MaxSourceServices)
	if err := d.buildReaders(); err != nil {
		return fmt.Errorf("readers: %w", err)
	}
	sinks := []event.Sink{d.counters, d.stitcher, d.ledger, d.learner, d.readers}
	d.seenTimes = lag.NewSeenTimes()
	d.sampler, err = sample.New(d.sampleConfig(), d.base, d.auditor, sinks, d.reg, d.root, sample.WithLedger(d.ledger),
		sample.WithRecordTimes(d.seenTimes), sample.WithTopicSource(d.listedTopics))
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	d.ledger.SetListener(d.sampler)
	d.elector = leader.New(d.cfg.Leader, d.base, d.reg, d.root)
	if err := d.shareState(); err != nil {
		return err
	}
	if err := d.buildDLQ(); err != nil {
		return err
	}
	return d.buildWebSocket()
}

// storedDuplicateWindow is how long the ledger remembers event ids in the
// report store: audit.duplicate_window, or 0 (not at all: duplicate.event_id
// stays in-process) when audit.duplicate_store is false.
func (d *daemon) storedDuplicateWindow() time.Duration {
	if !d.cfg.Audit.DuplicateStore {
		return 0
	}
	return d.cfg.Audit.DuplicateWindow
}

// countFoundDuplicates counts the duplicate.event_id violations the ledger
// found in the store (after their flush committed) in
// eventwatch_violations_total, like the ones the engine finds.
func (d *daemon) countFoundDuplicates(exs []store.Example) {
	for _, ex := range exs {
		service := ex.Service
		if service == recordmetrics.ServiceUnknown {
			service = ""
		}
		d.counters.AddViolation(ex.Topic, service, event.Violation{Rule: ex.Rule, Severity: event.Severity(ex.Severity)})
	}
}

// buildWebSocket compiles the WebSocket prober; its messages are checked
// against the audit section's catalog like Kafka records, and its findings
// are counted in eventwatch_violations_total with transport "websocket".
func (d *daemon) buildWebSocket() error {
	ws, err := websocket.New(d.cfg.WebSocket, websocket.Options{Registry: d.reg, Logger: d.root,
		Catalog: d.auditor.cur.Load().catalog, DuplicateWindow: d.cfg.Audit.DuplicateWindow, OnFinding: d.publishFinding,
		Violations: d.counters})
	if err != nil {
		return err
	}
	d.ws = ws
	return nil
}

// sampleConfig is the sample section with eventwatch's own topics always
// excluded, whatever topics_exclude says: sampling the routing topic would
// route observations of observations for ever.
func (d *daemon) sampleConfig() sample.Config {
	c := d.cfg.Sample
	if strings.TrimSpace(c.InstanceID) == "" {
		c.InstanceID = sample.DeriveInstanceID(d.cfg.DataDir)
	}
	c.TopicsExclude = slices.Clone(c.TopicsExclude)
	own := []string{d.cfg.Trace.Routing.Topic, d.cfg.Share.Topic, d.cfg.Leader.Topic}
	if d.cfg.Trace.Spans.Enabled {
		own = append(own, d.cfg.Trace.Spans.Topic) // spans are read for causation, not audited as events
	}
	for _, topic := range own {
		if topic != "" {
			c.TopicsExclude = append(c.TopicsExclude, regexp.QuoteMeta(topic))
		}
	}
	return c
}

// resolveDSN expands a store.dsn of the form ${ENV_VAR}.
func resolveDSN(dsn string) (string, error) {
	return secret.Resolve("store.dsn", dsn, "")
}
