package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/kafka"
	"github.com/eventwatch/eventwatch/internal/metrics"
)

// readiness probes the cluster in the background and remembers the answer
// for /readyz and eventwatch_kafka_up. A probe never runs on a request.
type readiness struct {
	cfg  kafka.Config
	base []kgo.Opt
	log  *slog.Logger
	up   prometheus.Gauge
	rdy  prometheus.Gauge

	mu       sync.Mutex
	err      error
	failedAt time.Time // when the current failure was first seen
	brokers  int
	probed   bool
}

// maxFailingBackoff bounds the wait between probes while the cluster does
// not answer, so /readyz turns ready within seconds of its return.
const maxFailingBackoff = 2 * time.Second

func newReadiness(cfg kafka.Config, base []kgo.Opt, reg prometheus.Registerer, log *slog.Logger) *readiness {
	r := &readiness{
		cfg:  cfg,
		base: base,
		log:  log.With("component", "readiness"),
		up:   metrics.KafkaUp.NewGaugeVec(reg).WithLabelValues(),
		rdy:  metrics.Ready.NewGaugeVec(reg).WithLabelValues(),
		err:  fmt.Errorf("kafka: not probed yet"),
	}
	return r
}

// status returns whether the daemon is ready and, when not, why.
func (r *readiness) status() (bool, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return false, r.err.Error()
	}
	return true, fmt.Sprintf("kafka: %d brokers", r.brokers)
}

// failingSince is when the current probe failure began (zero when none).
func (r *readiness) failingSince() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		return time.Time{}
	}
	return r.failedAt
}

// run probes until ctx is done: every probe_interval while the cluster
// answers, with a doubling backoff from 1s (capped at probe_interval) while
// it does not.
func (r *readiness) run(ctx context.Context) error {
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, r.base...), kgo.RetryTimeout(r.cfg.ProbeTimeout))...)
	if err != nil {
		return fmt.Errorf("create probe client: %w", err)
	}
	defer cl.Close()
	backoff := time.Second
	for {
		wait := r.cfg.ProbeEvery
		if r.probe(ctx, cl) {
			backoff = time.Second
		} else {
			limit := min(r.cfg.ProbeEvery, maxFailingBackoff)
			wait, backoff = min(backoff, limit), min(2*backoff, limit)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// probe runs one probe and records its result; it reports success.
func (r *readiness) probe(ctx context.Context, cl *kgo.Client) bool {
	pctx, cancel := context.WithTimeout(ctx, r.cfg.ProbeTimeout)
	defer cancel()
	n, err := r.cfg.Probe(pctx, cl)
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		err = fmt.Errorf("kafka: %w", err)
	}
	r.set(n, err)
	return err == nil
}

func (r *readiness) set(brokers int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := !r.probed || (err == nil) != (r.err == nil)
	if err != nil && (changed || r.failedAt.IsZero()) {
		r.failedAt = time.Now()
	}
	r.probed = true
	r.err, r.brokers = err, brokers
	v := 0.0
	if err == nil {
		v = 1
	}
	r.up.Set(v)
	r.rdy.Set(v)
	switch {
	case err != nil && changed:
		r.log.Error("kafka unreachable; not ready", "err", err)
	case err != nil:
		r.log.Debug("kafka still unreachable", "err", err)
	case changed:
		r.log.Info("kafka reachable; ready", "brokers", brokers)
	}
}
