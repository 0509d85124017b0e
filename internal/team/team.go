// Package team maps services to the teams that own them, so that reports,
// the violations API and alerts can be scoped to, and name, an owner.
//
// The map comes from two places. The event catalog names every type's
// producer (a service) and expected consumers (consumer groups, named after
// the consuming service): each of them is a service. The `teams:` section
// of the configuration assigns services to teams and may claim extra topics
// and consumer groups by glob. A service no team claims is its own team
// (its team has the service's name), so `?team=` always means something.
//
// Ownership of the other report dimensions follows from the services:
// a team owns the topics its services produce to (seen in audited records
// or fixed in the catalog) and the topics matching its globs; the consumer
// groups named after its services and those matching its group globs; and
// a dead-letter topic whose base name (without .deadletter, .dlq, -dlq or
// .DLQ) is one of its topics, a prefix of one, or one of its services.
package team

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
)

// Team is one entry of the `teams:` section.
type Team struct {
	Name     string   `yaml:"name"`     // team name, e.g. "content"; also the label value of eventwatch_service_team_info
	Services []string `yaml:"services"` // services (producers and consumers) the team owns
	Topics   []string `yaml:"topics"`   // extra topics it owns, as globs (path.Match), e.g. "content.*"
	Groups   []string `yaml:"groups"`   // extra consumer groups it owns, as globs
}

// Validate checks the `teams:` section: names present and unique, every
// service in at most one team, globs that compile. Messages name the entry,
// for example "teams[1].services[0]: service user-service already belongs
// to team content".
func Validate(teams []Team) error {
	var errs []error
	names := map[string]bool{}
	owner := map[string]string{}
	for i, t := range teams {
		at := fmt.Sprintf("teams[%d]", i)
		switch {
		case strings.TrimSpace(t.Name) == "":
			errs = append(errs, fmt.Errorf("%s.name: required", at))
		case names[t.Name]:
			errs = append(errs, fmt.Errorf("%s.name: team %s is defined twice", at, t.Name))
		}
		names[t.Name] = true
		for j, s := range t.Services {
			if prev, ok := owner[s]; ok {
				errs = append(errs, fmt.Errorf("%s.services[%d]: service %s already belongs to team %s", at, j, s, prev))
			}
			owner[s] = t.Name
		}
		errs = append(errs, globErrors(at+".topics", t.Topics)...)
		errs = append(errs, globErrors(at+".groups", t.Groups)...)
	}
	return errors.Join(errs...)
}

func globErrors(at string, globs []string) []error {
	var errs []error
	for i, g := range globs {
		if _, err := path.Match(g, ""); err != nil {
			errs = append(errs, fmt.Errorf("%s[%d]: invalid glob %q", at, i, g))
		}
	}
	return errs
}

// Producer is what the catalog says about one event type: who produces it
// and to which topic, and which groups consume it.
type Producer struct {
	Service   string   // producing service
	Topic     string   // topic, when the catalog fixes it
	Consumers []string // expected consumer groups
}

// Map is the service → team map with the topics and groups each team
// claims. It is immutable and safe for concurrent use; a nil *Map knows no
// teams (every service is its own).
type Map struct {
	teamOf   map[string]string // service -> team
	teams    map[string]*Team  // team -> its entry (nil for one-service teams)
	produces map[string]string // catalog topic -> producing service
}

// New builds the map from the `teams:` section (already validated) and the
// catalog's producers and consumers.
func New(teams []Team, catalog []Producer) *Map {
	m := &Map{teamOf: map[string]string{}, teams: map[string]*Team{}, produces: map[string]string{}}
	for i := range teams {
		t := &teams[i]
		m.teams[t.Name] = t
		for _, s := range t.Services {
			m.teamOf[s] = t.Name
		}
	}
	for _, p := range catalog {
		m.known(p.Service)
		for _, c := range p.Consumers {
			m.known(c)
		}
		if p.Topic != "" && p.Service != "" {
			m.produces[p.Topic] = p.Service
		}
	}
	return m
}

// known adds s as its own team unless a team claims it.
func (m *Map) known(s string) {
	if _, ok := m.teamOf[s]; !ok && s != "" {
		m.teamOf[s] = s
	}
}

// TeamOf returns the team owning service s: the configured one, else s.
func (m *Map) TeamOf(s string) string {
	if m != nil {
		if t, ok := m.teamOf[s]; ok {
			return t
		}
	}
	return s
}

// Pairs returns every known (service, team), sorted by service: the series
// of eventwatch_service_team_info.
func (m *Map) Pairs() [][2]string {
	if m == nil {
		return nil
	}
	out := make([][2]string, 0, len(m.teamOf))
	for s, t := range m.teamOf {
		out = append(out, [2]string{s, t})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// KnownServices returns every service the map names (the teams' and the
// catalog's), sorted.
func (m *Map) KnownServices() []string {
	if m == nil {
		return nil
	}
	out := make([]string, 0, len(m.teamOf))
	for s := range m.teamOf {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Teams returns every team name, sorted: the configured teams, and each
// service of the map or of extra (say, services seen in records) that no
// team claims, as its own team.
func (m *Map) Teams(extra []string) []string {
	set := map[string]bool{}
	if m != nil {
		for t := range m.teams {
			set[t] = true
		}
		for _, t := range m.teamOf {
			set[t] = true
		}
	}
	for _, s := range extra {
		if t := m.TeamOf(s); t != "" {
			set[t] = true
		}
	}
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Services returns the services of team t (a service no team claims is the
// only service of its own team), sorted.
func (m *Map) Services(t string) []string {
	out := []string{}
	if m != nil {
		for s, team := range m.teamOf {
			if team == t {
				out = append(out, s)
			}
		}
	}
	if len(out) == 0 && (m == nil || m.teams[t] == nil) {
		out = append(out, t) // an unknown name is a service of its own team
	}
	sort.Strings(out)
	return out
}

// Scope is what one team (or one service) owns, for filtering a report.
type Scope struct {
	Name     string          // team or service the scope is for
	services map[string]bool // its services
	topics   map[string]bool // topics its services produce to
	entry    *Team           // the team's entry (globs), nil for a service scope
}

// ForTeam returns the scope of team t; produced maps topics seen in records
// to their producing services (the catalog's fixed topics are added).
func (m *Map) ForTeam(t string, produced map[string][]string) *Scope {
	sc := &Scope{Name: t, services: map[string]bool{}}
	for _, s := range m.Services(t) {
		sc.services[s] = true
	}
	if m != nil {
		sc.entry = m.teams[t]
	}
	sc.topics = m.topicsOf(sc.services, produced)
	return sc
}

// ForService returns the scope of one service (no team globs).
func (m *Map) ForService(s string, produced map[string][]string) *Scope {
	sc := &Scope{Name: s, services: map[string]bool{s: true}}
	sc.topics = m.topicsOf(sc.services, produced)
	return sc
}

func (m *Map) topicsOf(services map[string]bool, produced map[string][]string) map[string]bool {
	out := map[string]bool{}
	for topic, svcs := range produced {
		for _, s := range svcs {
			if services[s] {
				out[topic] = true
			}
		}
	}
	if m != nil {
		for topic, s := range m.produces {
			if services[s] {
				out[topic] = true
			}
		}
	}
	return out
}

// ServiceList returns the scope's services, sorted.
func (sc *Scope) ServiceList() []string {
	out := make([]string, 0, len(sc.services))
	for s := range sc.services {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// OwnsService reports whether s is one of the scope's services.
func (sc *Scope) OwnsService(s string) bool { return sc.services[s] }

// OwnsTopic reports whether the scope owns topic.
func (sc *Scope) OwnsTopic(topic string) bool {
	return sc.topics[topic] || (sc.entry != nil && matchAny(sc.entry.Topics, topic))
}

// OwnsGroup reports whether the scope owns consumer group g: a group named
// after one of its services, or matching its group globs.
func (sc *Scope) OwnsGroup(g string) bool {
	return sc.services[g] || (sc.entry != nil && matchAny(sc.entry.Groups, g))
}

// dlqSuffixes are the dead-letter naming conventions of both standards.
var dlqSuffixes = []string{".deadletter", ".dlq", "-dlq", ".DLQ", "-deadletter", ".dlt", "-dlt", ".DLT"}

// OwnsDLQ reports whether the scope owns dead-letter topic t.
func (sc *Scope) OwnsDLQ(t string) bool {
	if sc.OwnsTopic(t) {
		return true
	}
	base := t
	for _, suf := range dlqSuffixes {
		if b, ok := strings.CutSuffix(t, suf); ok {
			base = b
			break
		}
	}
	if base == t {
		return false
	}
	if sc.services[base] || sc.OwnsTopic(base) {
		return true
	}
	for topic := range sc.topics {
		if strings.HasPrefix(topic, base+".") {
			return true
		}
	}
	return false
}

func matchAny(globs []string, s string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, s); ok {
			return true
		}
	}
	return false
}
