package daemon

import (
	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/dlq"
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
	}
	rs, _ := d.store.(store.ReplayStore)
	if rs != nil {
		d.replayer = dlq.NewReplayer(cfg.Replay, d.base, rs, d.auditor, d.dlqPrefixes, d.reg, d.root)
	}
	d.dlqAPI = &dlq.API{Triage: d.triage, Replayer: d.replayer, Store: rs, KafkaOpts: d.base, Auditor: d.auditor,
		Prefixes: d.dlqPrefixes, Services: d.scopeServices, AdminToken: admin, ShowPayload: cfg.ShowPayload}
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
func (d *daemon) profileOf(topic string) *audit.Profile {
	r := d.auditor.cur.Load()
	for _, rt := range r.routes {
		if rt.re.MatchString(topic) {
			return rt.eng.Profile()
		}
	}
	return r.def.Profile()
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
