package policy

import (
	"reflect"

	"github.com/eventwatch/eventwatch/internal/event"

	"embed"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/eventwatch/eventwatch/internal/strictyaml"
)

//go:embed profiles/*.yaml
var builtinFS embed.FS

// BuiltinProfiles returns the names of the built-in profiles.
func BuiltinProfiles() []string { return []string{"authorworks", "huleedu"} }

// BuiltinPolicy returns the YAML source of a built-in profile (what
// `eventwatch generate policies` writes to examples/policies/NAME.yaml).
func BuiltinPolicy(name string) ([]byte, error) {
	data, err := builtinFS.ReadFile("profiles/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("builtin policy: unknown profile %q (built-in: %s)", name, strings.Join(BuiltinProfiles(), ", "))
	}
	return data, nil
}

// LoadProfile returns a built-in profile by name: "huleedu" (standard 000,
// HuleEdu EDA standards) or "authorworks" (standard 002, AuthorWorks event
// communication standard). The built-ins are policies written in the same
// YAML language LoadPolicy reads (see examples/policies/).
func LoadProfile(name string) (*Profile, error) {
	data, err := builtinFS.ReadFile("profiles/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("load profile: unknown profile %q (built-in: %s)", name, strings.Join(BuiltinProfiles(), ", "))
	}
	return ParsePolicy(name+".yaml", data)
}

// LoadPolicy reads a custom YAML policy file. Decoding is strict: an
// unknown key, a wrong type or an invalid value is an error that names the
// file and the field path, e.g. "policy.yaml: rules.size.max_bytes: must be > 0".
func LoadPolicy(file string) (*Profile, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	return ParsePolicy(filepath.Base(file), data)
}

// Load returns the custom policy in file when file is set, else the
// built-in profile name: the one choice every caller with a
// `profile` / `policy` pair makes.
func Load(name, file string) (*Profile, error) {
	if file != "" {
		return LoadPolicy(file)
	}
	return LoadProfile(name)
}

// LoadSection is Load for the `profile` / `policy` pair of the config
// section at path (e.g. "audit", "websocket.targets[0]"): an error names
// the key that failed, path.policy or path.profile.
func LoadSection(path, name, file string) (*Profile, error) {
	p, err := Load(name, file)
	switch {
	case err == nil:
		return p, nil
	case file != "":
		return nil, fmt.Errorf("%s.policy: %w", path, err)
	default:
		return nil, fmt.Errorf("%s.profile: %w", path, err)
	}
}

// ParsePolicy compiles a YAML policy; name is used in error messages.
func ParsePolicy(name string, data []byte) (*Profile, error) {
	var doc policyDoc
	if err := decodePolicy(data, &doc); err != nil {
		if errors.Is(err, strictyaml.ErrEmpty) {
			return nil, fmt.Errorf("%s: policy is empty", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p, err := compilePolicy(&doc)
	if err != nil {
		var fe *fieldError
		if errors.As(err, &fe) { // the same format as a decoding error: path, problem, line
			root, _ := strictyaml.Parse(data)
			err = strictyaml.At(root, fe.path, fe.msg)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return p, nil
}

// policyDoc is the YAML policy language (docs/rules-engine.md).
type policyDoc struct {
	Name        string            `yaml:"name"`
	Description string            `yaml:"description"`
	Standard    string            `yaml:"standard"`
	Envelope    envelopeDoc       `yaml:"envelope"`
	Rules       rulesNode         `yaml:"rules"` // decoded through the settings registry (settings.go)
	Severities  map[string]string `yaml:"severities"`
	Cluster     ClusterPolicy     `yaml:"cluster"`
	Topics      []topicOverride   `yaml:"topics"`
	Waivers     []Waiver          `yaml:"waivers"`
	// RuleSettings are the settings rules declare in their own files
	// (Setting); see settings.go.
	RuleSettings ruleSettings `yaml:"rule_settings"`
	// WebSocket is what the WebSocket prober checks (profile_websocket.go).
	WebSocket WebSocketPolicy `yaml:"websocket"`

	ruleValues map[string]reflect.Value // rules: as decoded, by setting path (rules.go)
}

type envelopeDoc struct {
	Strict bool                `yaml:"strict"` // unknown fields in envelope objects are envelope.unknown_field
	Fields map[string]fieldDoc `yaml:"fields"` // role -> field
	Allow  []string            `yaml:"allow"`  // extra field paths allowed when strict
}

type fieldDoc struct {
	Path     string `yaml:"path"`     // dotted JSON path, e.g. meta.id
	Required bool   `yaml:"required"` // absent or null is envelope.missing_field
	Nullable bool   `yaml:"nullable"` // null is accepted (and treated as absent)
	Type     string `yaml:"type"`     // string, number, integer, boolean, object, array, any
	Format   string `yaml:"format"`   // uuid, uuid_v4, rfc3339_utc, traceparent_id, or empty
}

// topicOverride changes severities or the size limit on matching topics.
type topicOverride struct {
	Match      string            `yaml:"match"`      // topic glob
	Severities map[string]string `yaml:"severities"` // rule id -> error|warning|off
	MaxBytes   int               `yaml:"max_bytes"`  // size limit on these topics (0 = profile default)
	// RuleSettings override rule_settings on these topics.
	RuleSettings ruleSettings `yaml:"rule_settings"`
}

// fieldError is a validation error naming a policy field path.
type fieldError struct {
	path string
	msg  string
}

// Error renders "field.path: problem".
func (e *fieldError) Error() string { return e.path + ": " + e.msg }

func ferr(p, format string, args ...any) error {
	return &fieldError{path: p, msg: fmt.Sprintf(format, args...)}
}

func compilePolicy(doc *policyDoc) (*Profile, error) {
	if strings.TrimSpace(doc.Name) == "" {
		return nil, ferr("name", "is required")
	}
	p := &Profile{Name: doc.Name, Description: doc.Description, Standard: doc.Standard, Cluster: doc.Cluster}
	steps := []func(*policyDoc, *Profile) error{
		compileEnvelope, compileRules, compileSeverities, compileTopics, compileRuleSettings, compileCluster, compileWaivers, compileWebSocket,
	}
	for _, step := range steps {
		if err := step(doc, p); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func parseSeverity(field, s string) (event.Severity, error) {
	switch s {
	case "error", "warning":
		return event.Severity(s), nil
	case "off":
		return "", nil
	}
	return "", ferr(field, "must be error, warning or off (got %q)", s)
}

func compileSeverities(doc *policyDoc, p *Profile) error {
	p.severities = make(map[string]event.Severity, len(event.Rules()))
	for _, r := range event.Rules() {
		p.severities[r.ID] = r.Severity
	}
	for _, id := range sortedKeys(doc.Severities) {
		field := "severities." + id
		if _, ok := event.LookupRule(id); !ok {
			return ferr(field, "unknown rule id")
		}
		sev, err := parseSeverity(field, doc.Severities[id])
		if err != nil {
			return err
		}
		p.severities[id] = sev
	}
	return nil
}

func compileTopics(doc *policyDoc, p *Profile) error {
	for i, t := range doc.Topics {
		base := fmt.Sprintf("topics[%d]", i)
		if t.Match == "" {
			return ferr(base+".match", "is required")
		}
		if _, err := path.Match(t.Match, ""); err != nil {
			return ferr(base+".match", "invalid glob %q", t.Match)
		}
		if t.MaxBytes < 0 {
			return ferr(base+".max_bytes", "must be >= 0")
		}
		for _, id := range sortedKeys(t.Severities) {
			field := base + ".severities." + id
			if _, ok := event.LookupRule(id); !ok {
				return ferr(field, "unknown rule id")
			}
			if _, err := parseSeverity(field, t.Severities[id]); err != nil {
				return err
			}
		}
	}
	p.topics = doc.Topics
	return nil
}

func compileCluster(doc *policyDoc, p *Profile) error {
	c := doc.Cluster
	ints := []struct {
		name string
		v    int64
	}{{"min_replication_factor", int64(c.MinReplicationFactor)}, {"min_brokers", int64(c.MinBrokers)},
		{"default_retention", int64(c.DefaultRetention)}, {"min_retention", int64(c.MinRetention)}, {"dlq_retention", int64(c.DLQRetention)}}
	for _, f := range ints {
		if f.v < 0 {
			return ferr("cluster."+f.name, "must be >= 0")
		}
	}
	for i, g := range c.DLQTopicPatterns {
		if _, err := path.Match(g, ""); err != nil || g == "" {
			return ferr(fmt.Sprintf("cluster.dlq_topic_patterns[%d]", i), "invalid glob %q", g)
		}
	}
	return nil
}

func compileWaivers(doc *policyDoc, p *Profile) error {
	for i, w := range doc.Waivers {
		base := fmt.Sprintf("waivers[%d]", i)
		if w.Topic == "" {
			return ferr(base+".topic", "is required")
		}
		if _, err := path.Match(w.Topic, ""); err != nil {
			return ferr(base+".topic", "invalid glob %q", w.Topic)
		}
		if _, ok := event.LookupRule(w.Rule); !ok {
			return ferr(base+".rule", "unknown rule id %q", w.Rule)
		}
		if strings.TrimSpace(w.Reason) == "" {
			return ferr(base+".reason", "is required")
		}
		day, err := time.Parse(time.DateOnly, w.Until)
		if err != nil {
			return ferr(base+".expires", "must be a date YYYY-MM-DD (got %q)", w.Until)
		}
		w.Expires = day.AddDate(0, 0, 1)
		p.Waivers = append(p.Waivers, w)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
