package sample

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
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
	addr := net.JoinHostPort(meta.Host, strconv.Itoa(int(meta.Port)))
	k := topicPart{topic, partition}
	if cur, ok := h.s.leaders.Load(k); !ok || cur.(string) != addr {
		h.s.leaders.Store(k, addr)
	}
}

// FetchedFrom returns the broker (host:port) the sampler last fetched the
// partition's records from — its leader — and whether it fetched any.
// Safe for concurrent use.
func (s *Sampler) FetchedFrom(topic string, partition int32) (string, bool) {
	v, ok := s.leaders.Load(topicPart{topic, partition})
	if !ok {
		return "", false
	}
	return v.(string), true
}
