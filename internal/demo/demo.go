// Package demo is `eventwatch demo`: the real daemon (the same code path as
// `eventwatch run`) against an embedded three-broker kfake cluster that
// simulated services fill with traffic following both house standards and
// breaking them in known ways:
//
//   - a correlated HuleEdu flow: the batch orchestrator publishes
//     pipelines_configured, the essay lifecycle service consumes it and
//     publishes spellcheck_requested, the spellchecker publishes
//     spellcheck_completed — each hop with latency, the same correlation id
//     and a W3C traceparent child span (every 25th hop loses its correlation);
//   - AuthorWorks user and content services (meta+data events keyed by
//     resource id) and a content.deadletter topic that grows, some records
//     wrapped with error context and some not;
//   - a legacy importer breaking rules on purpose (bad and imperative type
//     names, fat events, base64 blobs, missing fields, non-UTC timestamps,
//     junk bytes, non-UUID ids, duplicates, badly named topics, missing keys);
//   - a consumer group slower than its topic (lag grows) and one that stops
//     after ten seconds.
//
// The daemon audits with the huleedu profile and, through an audit
// override, the AuthorWorks topics (user.*, content.*) with the authorworks
// profile. The cluster is in memory and gone when the demo stops; the
// report store lives in the data directory.
package demo

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/eventwatch/eventwatch/internal/config"
	"github.com/eventwatch/eventwatch/internal/daemon"
	"github.com/eventwatch/eventwatch/internal/team"
)

// Options configure the demo.
type Options struct {
	KafkaAddr string    // listen address of the first broker (the others take random ports); default 127.0.0.1:9092
	HTTPAddr  string    // daemon HTTP address; default :9779
	DataDir   string    // report store directory; a temporary directory (removed on exit) when empty
	Seed      int64     // seed of the simulated traffic
	Profile   string    // default profile: huleedu (default; authorworks topics by override) or authorworks (huleedu topics by override)
	Catalog   string    // event catalog (a directory or an AsyncAPI document) instead of the demo's own, e.g. one discovered from an earlier demo
	Version   string    // eventwatch version
	Stdout    io.Writer // where the URLs are printed
	LogOutput io.Writer // daemon and demo logs; os.Stderr when nil
	// OnServing, when set, is called with the daemon's HTTP address and the
	// Kafka bootstrap address once the daemon serves.
	OnServing func(httpAddr, kafkaAddr string)
}

// Run runs the demo until ctx is done.
func Run(ctx context.Context, o Options) error {
	o.defaults()
	dataDir, cleanup, err := dataDir(o.DataDir)
	if err != nil {
		return err
	}
	defer cleanup()
	cluster, err := startCluster(o.KafkaAddr)
	if err != nil {
		return err
	}
	defer cluster.Close()
	seeds := cluster.ListenAddrs()
	if err := createTopics(ctx, seeds); err != nil {
		return err
	}
	cfg, err := daemonConfig(dataDir, seeds, o.Profile)
	if err != nil {
		return err
	}
	cfg.Audit.Catalog = o.Catalog
	if o.Catalog == "" {
		if cfg.Audit.Catalog, err = writeCatalog(dataDir); err != nil {
			return err
		}
	}
	wsCtx, stopWS := context.WithCancel(ctx)
	defer stopWS()
	wss, err := startWebSockets(wsCtx, o.Seed, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	if cfg.WebSocket, err = wss.config(dataDir); err != nil {
		return err
	}
	if err := cfg.WebSocket.Validate(); err != nil {
		return fmt.Errorf("demo configuration: %w", err)
	}
	return runAll(ctx, o, cfg, seeds, dataDir)
}

func (o *Options) defaults() {
	if o.KafkaAddr == "" {
		o.KafkaAddr = "127.0.0.1:9092"
	}
	if o.HTTPAddr == "" {
		o.HTTPAddr = config.DefaultHTTPAddr
	}
	if o.Profile == "" {
		o.Profile = "huleedu"
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.LogOutput == nil {
		o.LogOutput = os.Stderr
	}
}

func dataDir(dir string) (string, func(), error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return "", nil, fmt.Errorf("create data dir: %w", err)
		}
		return dir, func() {}, nil
	}
	tmp, err := os.MkdirTemp("", "eventwatch-demo-")
	if err != nil {
		return "", nil, fmt.Errorf("create temporary data dir: %w", err)
	}
	return tmp, func() { _ = os.RemoveAll(tmp) }, nil
}

//go:embed catalog/*.yaml
var catalogFS embed.FS

// writeCatalog copies the demo's event catalog (the flow's and the
// AuthorWorks types, their producers, expected consumers and schemas) into
// dataDir/catalog, where audit.catalog points.
func writeCatalog(dataDir string) (string, error) {
	dir := filepath.Join(dataDir, "catalog")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("create catalog dir: %w", err)
	}
	entries, err := catalogFS.ReadDir("catalog")
	if err != nil {
		return "", fmt.Errorf("read embedded catalog: %w", err)
	}
	for _, e := range entries {
		b, err := catalogFS.ReadFile("catalog/" + e.Name())
		if err != nil {
			return "", fmt.Errorf("read embedded catalog: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o600); err != nil {
			return "", fmt.Errorf("write catalog: %w", err)
		}
	}
	return dir, nil
}

// startCluster starts three kfake brokers, the first on addr.
func startCluster(addr string) (*kfake.Cluster, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("kafka address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("kafka address %q: bad port: %w", addr, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	c, err := kfake.NewCluster(
		kfake.NumBrokers(3),
		kfake.Ports(port, 0, 0),
		kfake.ListenFn(func(network, a string) (net.Listener, error) {
			_, p, _ := net.SplitHostPort(a)
			return (&net.ListenConfig{}).Listen(context.Background(), network, net.JoinHostPort(host, p))
		}),
		kfake.ClusterID("eventwatch-demo"),
	)
	if err != nil {
		return nil, fmt.Errorf("start embedded kafka on %s: %w", addr, err)
	}
	return c, nil
}

// topicSpec is one demo topic: partitions, replication factor and
// retention, some of them breaking the AuthorWorks cluster rules.
type topicSpec struct {
	name      string
	rf        int16
	retention time.Duration
}

var topics = []topicSpec{
	{TopicBatch, 1, 7 * 24 * time.Hour},
	{TopicEssay, 1, 7 * 24 * time.Hour},
	{TopicSpell, 1, 7 * 24 * time.Hour},
	{TopicUser, 3, 7 * 24 * time.Hour},
	{TopicBook, 2, 7 * 24 * time.Hour},   // topic.replication_factor: 2 < 3
	{TopicDLQ, 3, 24 * time.Hour},        // dlq.retention: 1 day < 30 days
	{TopicLegacy, 1, 7 * 24 * time.Hour}, // naming.topic
	{TopicTmp, 1, time.Hour},             // naming.topic, topic.retention
	{TopicInvoice, 3, 7 * 24 * time.Hour},
	{TopicPayment, 3, 7 * 24 * time.Hour},
}

func createTopics(ctx context.Context, seeds []string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		return fmt.Errorf("create admin client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for _, t := range topics {
		ms := strconv.FormatInt(t.retention.Milliseconds(), 10)
		if _, err := adm.CreateTopic(ctx, 3, t.rf, map[string]*string{"retention.ms": &ms}, t.name); err != nil {
			return fmt.Errorf("create topic %s: %w", t.name, err)
		}
	}
	return nil
}

// daemonConfig is the configuration `eventwatch run` would load for the
// demo, with intervals short enough to show results within seconds. The
// default profile audits every topic the other profile's override does not
// claim, and sets the cluster rules (replication, retention, DLQs).
func daemonConfig(dataDir string, seeds []string, profile string) (*config.Config, error) {
	cfg := config.Default()
	cfg.DataDir = dataDir
	cfg.Kafka.Brokers = seeds
	cfg.Kafka.ProbeEvery = 5 * time.Second
	cfg.Audit.Profile = profile
	switch profile {
	case "huleedu":
		cfg.Audit.Overrides = []config.AuditOverride{{Topics: []string{`(user|content|subscription|billing)\..*`}, Profile: "authorworks"}}
	case "authorworks":
		cfg.Audit.Overrides = []config.AuditOverride{{Topics: []string{`huleedu\..*`}, Profile: "huleedu"}}
	default:
		return nil, fmt.Errorf("demo profile %q: want huleedu or authorworks", profile)
	}
	cfg.Sample.StartFrom = "earliest"
	cfg.Sample.MetadataRefresh = 5 * time.Second
	cfg.Lag.Interval = 5 * time.Second
	cfg.Lag.StopAfter = 20 * time.Second // the stopped group STOP and the poison pill's partition STALL within half a minute, not after the default minute
	cfg.Lag.LagObjective = 10
	cfg.Trace.Window = 20 * time.Second
	cfg.Readers.RetirementWindow = time.Minute // billing.invoice.issued 1.0 becomes retirable within two minutes
	cfg.Store.FlushInterval = 5 * time.Second  // examples and report numbers within seconds
	cfg.Log.Format = "text"
	cfg.Teams = demoTeams
	if err := demoReplay(cfg); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("demo configuration: %w", err)
	}
	return cfg, nil
}

// demoTeams owns the simulated services: the AuthorWorks content team,
// the HuleEdu essay pipeline and the legacy importer's team.
var demoTeams = []team.Team{
	{Name: "content", Services: []string{"content-service", "user-service", "notification_service", "search-indexer", WSServiceFaulty, GroupProjector}},
	{Name: "essays", Services: []string{"batch_orchestrator_service", "essay_lifecycle_service", "spell_checker_service", "result_aggregator_service"}},
	{Name: "imports", Services: []string{"legacy_importer", PillProducer}},
}

func runAll(ctx context.Context, o Options, cfg *config.Config, seeds []string, dataDir string) error {
	log := slog.New(slog.NewTextHandler(o.LogOutput, nil)).With("component", "demo")
	prod, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ProducerLinger(20*time.Millisecond))
	if err != nil {
		return fmt.Errorf("create demo producer: %w", err)
	}
	defer prod.Close()
	s := &sim{seeds: seeds, seed: o.Seed, prod: prod, log: log}
	g, gctx := errgroup.WithContext(ctx)
	s.start(gctx, g)
	g.Go(func() error {
		return daemon.Run(gctx, cfg, daemon.Options{
			HTTPAddr:  o.HTTPAddr,
			Version:   o.Version,
			LogOutput: o.LogOutput,
			OnServing: func(addr string) {
				printURLs(o.Stdout, cfg, addr, seeds[0], dataDir)
				if o.OnServing != nil {
					o.OnServing(addr, seeds[0])
				}
			},
		})
	})
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// start launches every simulated service in g.
func (s *sim) start(ctx context.Context, g *errgroup.Group) {
	g.Go(func() error { return s.orchestrator(ctx) })
	g.Go(func() error {
		return s.relay(ctx, hop{group: GroupLifecycle, from: TopicBatch, to: TopicEssay, inType: TypePipelinesConfigured,
			outType: TypeSpellcheckRequested, source: "essay_lifecycle_service", minLat: 20 * time.Millisecond, maxLat: 80 * time.Millisecond, dropCorrelationOf: 25, data: spellcheckRequested}, 10)
	})
	g.Go(func() error {
		return s.relay(ctx, hop{group: GroupSpellchecker, from: TopicEssay, to: TopicSpell, inType: TypeSpellcheckRequested,
			outType: TypeSpellcheckCompleted, source: "spell_checker_service", minLat: 100 * time.Millisecond, maxLat: 300 * time.Millisecond, data: spellcheckCompleted}, 11)
	})
	g.Go(func() error { return s.authorworks(ctx) })
	g.Go(func() error { return s.faulty(ctx) })
	g.Go(func() error { return s.slowConsumer(ctx) })
	g.Go(func() error { return s.stoppedConsumer(ctx) })
	s.startInvoices(ctx, g.Go)
	s.startPoisonPill(ctx, g.Go)
}

func printURLs(w io.Writer, cfg *config.Config, httpAddr, kafkaAddr, dataDir string) {
	base := "http://" + browsable(httpAddr)
	o := cfg.Audit.Overrides[0]
	fmt.Fprintf(w, `
eventwatch demo: the daemon against an embedded 3-broker Kafka cluster with simulated services.
Profile %[4]s; topics %[5]s audited with %[6]s.

  Kafka bootstrap  %[2]s    (kcat -b %[2]s -L)
  Metrics          %[1]s/metrics
  Readiness        %[1]s/readyz
  Consumer groups  %[1]s/api/v1/groups
  Flows            %[1]s/api/v1/flows
  Weekly report    %[1]s/api/v1/reports/weekly?format=html   (this week to date, with examples)
  One team         %[1]s/api/v1/reports/weekly?format=html&team=content
  Violations       %[1]s/api/v1/violations?limit=20
  Who reads what   %[1]s/api/v1/types   (eventwatch catalog versions --url %[1]s --type billing.invoice.issued)
  WebSockets       %[1]s/api/v1/websockets   (two simulated WebSocket services, a 10 s first look at start, then 100 s probes every 2m)
  Live tail        eventwatch tail --url %[1]s
  Dead letters     %[1]s/api/v1/dlq   (eventwatch dlq list --url %[1]s)
  Poison pill      %[1]s/api/v1/groups/profile-projector   (a malformed record blocks a partition: named under poison_pills about a minute after start)
  Replay (admin)   eventwatch dlq replay --url %[1]s --token-file %[7]s --topic content.deadletter \
                     --error-class 'SchemaValidationError: schema validation failed: data.isbn missing for <id>' --dry-run
  Data directory   %[3]s

Violations and lag show on /metrics within 30 seconds; billing.invoice.issued 1.0
becomes retirable about 90 seconds after start, and payment-relay is reported
not idempotent (consumer.not_idempotent) once its first duplicate's chain closes. Ctrl-C stops.
`, base, kafkaAddr, dataDir, cfg.Audit.Profile, o.Topics[0], o.Profile, cfg.DLQ.Replay.AdminTokenFile)
}

// browsable turns a listen address into one a browser can open.
func browsable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// demoReplay turns dead-letter replay on for the demo with a fresh admin
// token in the data directory (admin-token), and lets the admin see
// payloads in `eventwatch dlq show`.
func demoReplay(cfg *config.Config) error {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("demo admin token: %w", err)
	}
	path := filepath.Join(cfg.DataDir, "admin-token")
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("demo admin token: %w", err)
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(b)+"\n"), 0o600); err != nil {
		return fmt.Errorf("demo admin token: %w", err)
	}
	cfg.DLQ.Replay.Enabled, cfg.DLQ.Replay.AdminTokenFile, cfg.DLQ.ShowPayload = true, path, true
	cfg.DLQ.Triage.Refresh = 5 * time.Second
	return nil
}
