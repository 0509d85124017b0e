package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Topic describes one of eventwatch's own topics.
type Topic struct {
	Name              string             // topic name
	Partitions        int32              // partitions when created
	ReplicationFactor int16              // -1: the broker default
	Configs           map[string]*string // topic configs when created (cleanup.policy, retention.ms, ...)
}

// EnsureTopic creates t unless it exists, retrying with backoff (1s to 30s)
// while the cluster is unreachable or refuses, and returns the partition
// count the topic has (which may differ from t.Partitions when it existed
// before). It returns an error only when ctx ends first.
func EnsureTopic(ctx context.Context, base []kgo.Opt, t Topic, log *slog.Logger) (int32, error) {
	wait := time.Second
	for {
		n, err := ensureOnce(ctx, base, t)
		if err == nil {
			return n, nil
		}
		log.Warn("ensure topic", "topic", t.Name, "err", err, "retry_in", wait)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return 0, fmt.Errorf("ensure topic %s: %w", t.Name, ctx.Err())
		case <-timer.C:
		}
		wait = min(2*wait, 30*time.Second)
	}
}

func ensureOnce(ctx context.Context, base []kgo.Opt, t Topic) (int32, error) {
	cl, err := kgo.NewClient(base...)
	if err != nil {
		return 0, fmt.Errorf("create admin client: %w", err)
	}
	defer cl.Close()
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	adm := kadm.NewClient(cl)
	resp, cerr := adm.CreateTopic(cctx, t.Partitions, t.ReplicationFactor, t.Configs, t.Name)
	if errors.Is(cerr, kerr.TopicAlreadyExists) || errors.Is(resp.Err, kerr.TopicAlreadyExists) {
		cerr = nil
	}
	// A topic created by an administrator is used even where eventwatch may
	// not create topics (CreateTopics refused).
	md, err := adm.ListTopics(cctx, t.Name)
	if err != nil {
		return 0, errors.Join(cerr, fmt.Errorf("describe topic %s: %w", t.Name, err))
	}
	if d, ok := md[t.Name]; cerr != nil && (!ok || d.Err != nil || len(d.Partitions) == 0) {
		return 0, fmt.Errorf("create topic %s: %w", t.Name, cerr)
	}
	d, ok := md[t.Name]
	switch {
	case !ok || len(d.Partitions) == 0 && d.Err == nil:
		return 0, fmt.Errorf("describe topic %s: not found yet", t.Name)
	case d.Err != nil:
		return 0, fmt.Errorf("describe topic %s: %w", t.Name, d.Err)
	}
	return int32(len(d.Partitions)), nil
}
