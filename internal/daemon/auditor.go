package daemon

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"fmt"
	"log/slog"
	"regexp"
	"sync/atomic"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/catalog"
	"github.com/eventwatch/eventwatch/internal/config"
	"github.com/eventwatch/eventwatch/internal/policy"
)

// route sends the topics matching re to eng.
type route struct {
	re  *regexp.Regexp
	eng *audit.Engine
}

// router audits each record with the engine of the first override whose
// topics match, else with the default engine. It implements sample.Auditor.
type router struct {
	def     *audit.Engine
	routes  []route
	catalog *catalog.Catalog // nil without audit.catalog
}

// Check audits rec with the engine its topic routes to.
func (r *router) Check(rec *event.Record) event.Result {
	for _, rt := range r.routes {
		if rt.re.MatchString(rec.Topic) {
			return rt.eng.Check(rec)
		}
	}
	return r.def.Check(rec)
}

// swappable is a router that a reload can replace while the sampler's
// workers call Check.
type swappable struct{ cur atomic.Pointer[router] }

// Check audits rec with the current router.
func (s *swappable) Check(rec *event.Record) event.Result { return s.cur.Load().Check(rec) }

// buildRouter loads the profiles, policies and catalog the audit section
// names and compiles one engine per distinct profile. owner names the
// service behind a dead-letter topic's base name when a dead letter names
// none (audit.Options.DLQService); nil keeps the engine's default.
func buildRouter(a config.AuditConfig, log *slog.Logger, owner func(string) string) (*router, error) {
	var cat *catalog.Catalog
	if a.Catalog != "" {
		c, err := catalog.Load(a.Catalog)
		if err != nil {
			return nil, fmt.Errorf("audit.catalog: %w", err)
		}
		cat = c
	}
	def, err := newEngine("audit", a.Profile, a.Policy, cat, a, log, owner)
	if err != nil {
		return nil, err
	}
	r := &router{def: def, catalog: cat}
	for i, o := range a.Overrides {
		path := fmt.Sprintf("audit.overrides[%d]", i)
		eng, err := newEngine(path, o.Profile, o.Policy, cat, a, log, owner)
		if err != nil {
			return nil, err
		}
		for j, expr := range o.Topics {
			re, err := regexp.Compile(`^(?:` + expr + `)$`)
			if err != nil {
				return nil, fmt.Errorf("%s.topics[%d]: %w", path, j, err)
			}
			r.routes = append(r.routes, route{re: re, eng: eng})
		}
	}
	return r, nil
}

func newEngine(path, profile, policyFile string, cat *catalog.Catalog, a config.AuditConfig, log *slog.Logger, owner func(string) string) (*audit.Engine, error) {
	p, err := policy.LoadSection(path, profile, policyFile)
	if err != nil {
		return nil, err
	}
	eng, err := audit.NewEngine(audit.Options{Profile: p, Catalog: cat, DuplicateWindow: a.DuplicateWindow, Logger: log, DLQService: owner})
	if err != nil {
		return nil, fmt.Errorf("%s: compile engine: %w", path, err)
	}
	return eng, nil
}

// dlqOwner is the daemon's audit.Options.DLQService: the service the
// sampler last saw producing to the base topic or to base.* (content-service
// for content.deadletter, which produces content.book), else the base name
// when it is a plain service name.
func (d *daemon) dlqOwner(base string) string {
	if c := d.counters; c != nil {
		if s := c.TopicService(base); s != "" {
			return s
		}
	}
	return audit.DLQBaseService(base)
}
