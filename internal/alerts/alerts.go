// Package alerts generates eventwatch's Prometheus alerting rules and an
// example Alertmanager configuration from Go structs; alerts/*.yaml is its
// output and is never edited by hand.
//
// Every rule's expression names its metrics through metrics.Spec, so a
// renamed metric breaks the build. Thresholds, windows and the `for`
// durations come from Options, which `eventwatch generate alerts` fills
// from flags; DefaultOptions is what the committed files use. Each alert
// carries a severity, a category (symptom: the Kafka estate is unhealthy;
// eventwatch: the monitor itself is blind or failing), a summary, a
// description with the measured value and the threshold, and a runbook_url
// into docs/runbooks.md. A recording group comes first in the file: it
// keeps one series per violated (rule, service) pair so that a day-long
// lookback does not scan every violation series. The example Alertmanager configuration routes by
// severity and owning service, and inhibits symptom alerts while eventwatch
// itself is down, because then they describe stale data.
package alerts

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/eventwatch/eventwatch/internal/mixin"
)

// Categories of alerts; the Alertmanager example inhibits CategorySymptom
// while a CategorySelf alert that blinds eventwatch fires.
const (
	CategorySymptom = "symptom"    // the watched Kafka estate breaks the standard or falls behind
	CategorySelf    = "eventwatch" // eventwatch itself is down, blind or failing
)

// RulesFile is the name of the generated rule file under alerts/.
const RulesFile = "eventwatch.rules.yaml"

// Options are the generation-time thresholds and windows.
type Options struct {
	mixin.Params                          // selector and deployment labels every expression uses
	RunbookBase            string         // URL of docs/runbooks.md; alerts link to RunbookBase#<alert>
	ComplianceObjective    float64        // minimum share of compliant records per topic (0..1)
	ComplianceWindow       time.Duration  // window the compliance ratio is computed over
	ComplianceDrop         float64        // fall of the compliance ratio (0..1) versus ComplianceDropLookback ago that alerts
	ComplianceDropLookback time.Duration  // how far back the compliance ratio is compared
	NewViolationLookback   time.Duration  // a (service, rule) pair unseen for this long is "new"
	DLQGrowthWindow        time.Duration  // window in which new dead-letter records are counted
	DLQGrowthThreshold     float64        // dead-letter records per window above which the DLQ is "growing"
	DLQDrainWindow         time.Duration  // a DLQ that held records and never shrank for this long is "not drained"
	CoverageObjective      float64        // minimum share of a service's events carrying correlation id / trace context
	CoverageWindow         time.Duration  // window the coverage ratio is computed over
	DataLossWindow         time.Duration  // window in which records lost to retention are counted
	TimeToLossThreshold    time.Duration  // a group whose oldest unread record is deleted sooner than this is about to lose data
	CollectorStaleAfter    time.Duration  // a collector without a successful cycle for this long is stale
	StoreStaleAfter        time.Duration  // no flush reaching the report store for this long is stale
	SharedViewStaleAfter   time.Duration  // a replica whose newest shared document is older than this answers from a stale view
	EvaluationInterval     time.Duration  // rule group interval; 0 uses Prometheus' global evaluation_interval
	ForOverride            *time.Duration // when set, every alert's `for` is this (tests and demos)
}

// DefaultOptions returns the thresholds of the committed alerts/ files
// (the defaults of the threshold table, thresholds.go).
func DefaultOptions() Options {
	o := Options{
		Params:      mixin.Defaults(),
		RunbookBase: "https://github.com/eventwatch/eventwatch/blob/main/docs/runbooks.md",
	}
	setDefaults(&o)
	return o
}

// Validate reports every option out of range, naming the option.
func (o Options) Validate() error {
	errs := validateThresholds(&o)
	if err := o.Params.Validate(); err != nil {
		errs = append(errs, err)
	}
	if o.EvaluationInterval < 0 || (o.ForOverride != nil && *o.ForOverride < 0) {
		errs = append(errs, errors.New("evaluation interval and for must not be negative"))
	}
	return errors.Join(errs...)
}

// Group is one Prometheus rule group.
type Group struct {
	Name     string `yaml:"name"`
	Interval string `yaml:"interval,omitempty"`
	Rules    []Rule `yaml:"rules"`
}

// RecordingGroup is a Prometheus rule group of recording rules.
type RecordingGroup struct {
	Name     string      `yaml:"name"`
	Interval string      `yaml:"interval,omitempty"`
	Rules    []Recording `yaml:"rules"`
}

// Recording is one recording rule.
type Recording struct {
	Record string `yaml:"record"`
	Expr   string `yaml:"expr"`
}

// Rule is one alerting rule.
type Rule struct {
	Alert       string      `yaml:"alert"`
	Expr        string      `yaml:"expr"`
	For         string      `yaml:"for,omitempty"`
	Labels      Labels      `yaml:"labels"`
	Annotations Annotations `yaml:"annotations"`
}

// Labels are the labels every eventwatch alert carries.
type Labels struct {
	Severity string `yaml:"severity"` // critical, warning or info
	Category string `yaml:"category"` // CategorySymptom or CategorySelf
	// Propagation tells the two EventwatchPropagationCoverageLow rules
	// apart: correlation_id or trace_context.
	Propagation string `yaml:"propagation,omitempty"`
}

// Annotations are the annotations every eventwatch alert carries.
type Annotations struct {
	Summary     string `yaml:"summary"`
	Description string `yaml:"description"`
	RunbookURL  string `yaml:"runbook_url"`
	// BlockingRecord names the records blocking a group's STALL partitions
	// (the poison pills: offset, producer, failing rules), queried from
	// eventwatch_consumer_poison_pill_* when the alert fires.
	BlockingRecord string `yaml:"blocking_record,omitempty"`
}

// Groups returns every rule group for o.
func Groups(o Options) []Group {
	groups := []Group{
		{Name: "eventwatch-compliance", Rules: complianceRules(o)},
		{Name: "eventwatch-lag", Rules: lagRules(o)},
		{Name: "eventwatch-dlq", Rules: dlqRules(o)},
		{Name: "eventwatch-flows", Rules: flowRules(o)},
		{Name: "eventwatch-self", Rules: selfRules(o)},
		{Name: "eventwatch-store", Rules: storeRules(o)},
		{Name: "eventwatch-sampling", Rules: samplingRules(o)},
		{Name: "eventwatch-websocket", Rules: webSocketRules(o)},
	}
	for i := range groups {
		if o.EvaluationInterval > 0 {
			groups[i].Interval = duration(o.EvaluationInterval)
		}
		for j := range groups[i].Rules {
			r := &groups[i].Rules[j]
			if o.ForOverride != nil {
				r.For = duration(*o.ForOverride)
			}
			r.Annotations.RunbookURL = o.RunbookBase + "#" + Anchor(r.Alert)
		}
	}
	return groups
}

// AlertNames returns the distinct alert names of o's rules, in file order.
func AlertNames(o Options) []string {
	var names []string
	seen := map[string]bool{}
	for _, g := range Groups(o) {
		for _, r := range g.Rules {
			if !seen[r.Alert] {
				seen[r.Alert] = true
				names = append(names, r.Alert)
			}
		}
	}
	return names
}

// Anchor is the docs/runbooks.md heading anchor of an alert.
func Anchor(alert string) string { return strings.ToLower(alert) }

// Render returns the Prometheus rule file for o.
func Render(o Options) ([]byte, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("render alert rules: %w", err)
	}
	var buf bytes.Buffer
	buf.WriteString("# Generated by `eventwatch generate alerts`; do not edit. Runbooks: docs/runbooks.md\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	rec := RecordingGroup{Name: "eventwatch-recording", Rules: recordings(o)}
	if o.EvaluationInterval > 0 {
		rec.Interval = duration(o.EvaluationInterval)
	}
	groups := []any{rec}
	for _, g := range Groups(o) {
		groups = append(groups, g)
	}
	if err := enc.Encode(struct {
		Groups []any `yaml:"groups"`
	}{groups}); err != nil {
		return nil, fmt.Errorf("encode alert rules: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode alert rules: %w", err)
	}
	return buf.Bytes(), nil
}

// Write renders the rule file and the example Alertmanager configuration
// into dir (creating it) and returns the paths written.
func Write(dir string, o Options) ([]string, error) {
	rules, err := Render(o)
	if err != nil {
		return nil, err
	}
	am, err := RenderAlertmanager(ExampleReceivers(), o.DeploymentLabels)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create alerts dir: %w", err)
	}
	files := []struct {
		name string
		data []byte
	}{{RulesFile, rules}, {AlertmanagerFile, am}}
	var paths []string
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", f.name, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// duration formats d the way Prometheus writes durations (5m, 1h30m, 1d).
func duration(d time.Duration) string { return model.Duration(d).String() }

// percentPoints formats a ratio difference as percentage points.
func percentPoints(r float64) string {
	return strings.TrimSuffix(percent(r), "%") + " percentage points"
}

// percent formats a ratio as a percentage for descriptions.
func percent(r float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", r*100), "0"), ".") + "%"
}
