package sample

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// kgoLogger routes franz-go's warnings and errors to slog.
type kgoLogger struct{ log *slog.Logger }

func (l kgoLogger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

func (l kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	lvl := slog.LevelInfo
	switch level {
	case kgo.LogLevelError:
		lvl = slog.LevelError
	case kgo.LogLevelWarn:
		lvl = slog.LevelWarn
	case kgo.LogLevelDebug:
		lvl = slog.LevelDebug
	}
	l.log.Log(context.Background(), lvl, msg, keyvals...)
}

// connectHook reports failed broker connections (dial, TLS, SASL) to the
// sampler: franz-go retries them silently, so without the hook a wrong
// password or an unreachable broker would never show in Status.
type connectHook struct{ s *Sampler }

// OnBrokerConnect implements kgo.HookBrokerConnect.
func (h connectHook) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if err == nil || errors.Is(err, context.Canceled) { // canceled: the client is closing
		return
	}
	h.s.m.errors.WithLabelValues("connect").Inc()
	err = fmt.Errorf("connect to broker %s: %w", net.JoinHostPort(meta.Host, strconv.Itoa(int(meta.Port))), err)
	if h.s.status.failed(h.s.now(), err) {
		h.s.log.Warn("broker connection failed", "err", err)
	}
}

// OnFetchBatchRead implements kgo.HookFetchBatchRead: it remembers which
// broker each partition's records were fetched from (its leader), for the
// server.address of eventwatch's spans.
func (h connectHook) OnFetchBatchRead(meta kgo.BrokerMetadata, topic string, partition int32, _ kgo.FetchBatchMetrics) {
	h.s.leaders.note(meta, topicPart{topic, partition})
}

// FetchedFrom returns the broker (host:port) the sampler last fetched the
// partition's records from — its leader — and whether it fetched any.
// Safe for concurrent use.
func (s *Sampler) FetchedFrom(topic string, partition int32) (string, bool) {
	return s.leaders.of(topicPart{topic, partition})
}

// leaderBook remembers the broker each partition's records were last
// fetched from: a node id per partition, an address per broker. A
// sync.Map of addresses cost ≈ 130 bytes and two allocations per
// partition (≈ 6.5 MB at 50,000 partitions); this is ≈ 40 bytes, and a
// batch from the same leader as the last allocates nothing.
type leaderBook struct {
	mu    sync.RWMutex
	node  map[topicPart]int32
	addrs map[int32]brokerAddr
}

type brokerAddr struct {
	host string
	port int32
	addr string // host:port
}

func (b *leaderBook) note(meta kgo.BrokerMetadata, k topicPart) {
	b.mu.RLock()
	n, known := b.node[k]
	a, listed := b.addrs[meta.NodeID]
	b.mu.RUnlock()
	same := listed && a.host == meta.Host && a.port == meta.Port
	if known && n == meta.NodeID && same {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.node == nil {
		b.node, b.addrs = map[topicPart]int32{}, map[int32]brokerAddr{}
	}
	if !same {
		b.addrs[meta.NodeID] = brokerAddr{meta.Host, meta.Port, net.JoinHostPort(meta.Host, strconv.Itoa(int(meta.Port)))}
	}
	b.node[k] = meta.NodeID
}

func (b *leaderBook) of(k topicPart) (string, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	n, ok := b.node[k]
	if !ok {
		return "", false
	}
	return b.addrs[n].addr, true
}
