package daemon

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/eventwatch/eventwatch/internal/api"
	"github.com/eventwatch/eventwatch/internal/dlq"
	"github.com/eventwatch/eventwatch/internal/policy"
	"github.com/eventwatch/eventwatch/internal/report"
	"github.com/eventwatch/eventwatch/internal/store"
)

// buildDLQ builds the dead-letter triage reader, the replayer and their
// API (internal/dlq).
func (d *daemon) buildDLQ() error {
	cfg := d.cfg.DLQ
	admin, err := cfg.Replay.Token()
	if err != nil {
		return err
	}
	d.adminToken = admin
	if cfg.Triage.Enabled {
		d.triage = dlq.NewTriage(cfg.Triage, d.base, d.isAnyDLQ, d.auditor, d.reg, d.root)
		d.triage.TopicsFrom(d.sampler.TopicNames) // the sampler lists every topic already
	}
	rs, _ := d.store.(store.ReplayStore)
	if rs != nil {
		d.replayer = dlq.NewReplayer(cfg.Replay, d.base, rs, d.auditor, d.dlqPrefixes, d.reg, d.root)
	}
	d.dlqAPI = &dlq.API{Triage: d.triage, Replayer: d.replayer, Store: rs, KafkaOpts: d.base, Auditor: d.auditor,
		Prefixes: d.dlqPrefixes, Services: d.scopeServices, AdminToken: admin, ShowPayload: cfg.ShowPayload,
		CheckNames: d.checkNames, UnknownBody: api.UnknownBody}
	return nil
}

// isAnyDLQ: a dead-letter topic under the topic's profile or lag.dlq_patterns.
func (d *daemon) isAnyDLQ(topic string) bool {
	if _, ok := d.cfg.Lag.DLQBase(topic); ok {
		return true
	}
	return d.isDLQTopic(topic)
}

// dlqPrefixes are the error-header prefixes of topic's profile.
func (d *daemon) dlqPrefixes(topic string) []string {
	return d.profileOf(topic).DLQErrorHeaderPrefixes()
}

// profileOf is the profile topic is audited with.
func (d *daemon) profileOf(topic string) *policy.Profile {
	r := d.auditor.cur.Load()
	for _, rt := range r.routes {
		if rt.re.MatchString(topic) {
			return rt.eng.Profile()
		}
	}
	return r.def.Profile()
}

// checkNames refuses a ?team= or ?service= nobody knows, against the
// report API's known names (read at call time: the API may be built later).
func (d *daemon) checkNames(ctx context.Context, teamName, service string) error {
	if d.reports == nil {
		return nil
	}
	return d.reports.CheckNames(ctx, teamName, service)
}

// scopeServices is the service filter of ?team= and ?service=.
func (d *daemon) scopeServices(teamName, service string) (map[string]bool, bool) {
	if teamName == "" && service == "" {
		return nil, false
	}
	out := map[string]bool{}
	if teamName == "" {
		out[service] = true
		return out, true
	}
	for _, s := range d.teams.Load().ForTeam(teamName, nil).ServiceList() {
		if service == "" || s == service {
			out[s] = true
		}
	}
	return out, true
}

// reportDeadLetters is the report's "Dead letters by cause": the triage's
// causes counted within [from, to).
func (d *daemon) reportDeadLetters(from, to time.Time) []report.DeadLetterCause {
	if d.triage == nil {
		return nil
	}
	var out []report.DeadLetterCause
	for _, tc := range d.triage.Snapshot(dlq.Filter{From: from, To: to}) {
		for _, c := range tc.Causes {
			rc := report.DeadLetterCause{Topic: tc.Topic, ErrorClass: c.ErrorClass, OriginalTopic: c.OriginalTopic,
				ConsumerGroup: c.ConsumerGroup, EventType: c.EventType, Service: c.Service, Count: c.Count,
				FirstSeen: c.FirstSeen, LastSeen: c.LastSeen, Trend: c.Trend}
			if len(c.Samples) > 0 {
				s := c.Samples[0]
				rc.Sample = strings.TrimSpace(fmt.Sprintf("%s/%d@%d %s", tc.Topic, s.Partition, s.Offset, s.EventID))
			}
			out = append(out, rc)
		}
	}
	return out
}

// reportPoisonPills is the report's "Poison pills": the leader's own, else
// those in the leader's shared group details.
func (d *daemon) reportPoisonPills() []report.PoisonPill {
	var pills []dlq.Pill
	if t := d.term.Load(); t != nil && t.poison != nil {
		pills = t.poison.All()
	} else if _, doc, ok := d.leaderGroups(); ok {
		pills = doc.Poison
	}
	out := make([]report.PoisonPill, 0, len(pills))
	for _, p := range pills {
		out = append(out, report.PoisonPill{Group: p.Group, Topic: p.Topic, Partition: p.Partition, Offset: p.Offset,
			EventID: p.EventID, EventType: p.EventType, Service: p.Service, Rules: p.Rules, Since: p.Since})
	}
	return out
}
