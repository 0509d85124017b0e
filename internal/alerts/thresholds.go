package alerts

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/eventwatch/eventwatch/internal/mixin"
)

// thresholdKind is how a threshold is parsed, validated and printed.
type thresholdKind int

const (
	kindRatio       thresholdKind = iota // a share in (0, 1]
	kindNonNegative                      // a count, 0 or more
	kindDuration                         // a positive duration
)

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

// Threshold is one generation-time threshold or window of the alerts: the
// one place its `generate` flag, default, validation, help and docs line
// come from. Adding a threshold is one line in thresholds plus the field of
// Options (above) it sets.
type Threshold struct {
	Flag  string // `eventwatch generate` flag, e.g. "compliance-objective"
	Name  string // what errors call it, e.g. "compliance objective"
	Help  string // one line for the flag and docs/alert-thresholds.md
	kind  thresholdKind
	ratio func(*Options) *float64       // the field, for ratios and counts
	dur   func(*Options) *time.Duration // the field, for durations
	def   float64                       // default of a ratio or count
	defD  time.Duration                 // default of a duration
}

// thresholds lists every threshold in the order of the docs and --help.
var thresholds = []Threshold{
	{Flag: "compliance-objective", Name: "compliance objective", Help: "minimum share of compliant records per topic (0..1)",
		kind: kindRatio, def: 0.95, ratio: func(o *Options) *float64 { return &o.ComplianceObjective }},
	{Flag: "compliance-window", Name: "compliance window", Help: "window of the compliance ratio",
		kind: kindDuration, defD: time.Hour, dur: func(o *Options) *time.Duration { return &o.ComplianceWindow }},
	{Flag: "compliance-drop", Name: "compliance drop", Help: "fall of the compliance ratio (0..1) versus --compliance-drop-lookback ago that alerts",
		kind: kindRatio, def: 0.1, ratio: func(o *Options) *float64 { return &o.ComplianceDrop }},
	{Flag: "compliance-drop-lookback", Name: "compliance drop lookback", Help: "how far back compliance is compared",
		kind: kindDuration, defD: 24 * time.Hour, dur: func(o *Options) *time.Duration { return &o.ComplianceDropLookback }},
	{Flag: "new-violation-lookback", Name: "new-violation lookback", Help: "a (service, rule) pair unseen this long is new",
		kind: kindDuration, defD: 24 * time.Hour, dur: func(o *Options) *time.Duration { return &o.NewViolationLookback }},
	{Flag: "dlq-growth-window", Name: "DLQ growth window", Help: "window in which new dead letters are counted",
		kind: kindDuration, defD: 10 * time.Minute, dur: func(o *Options) *time.Duration { return &o.DLQGrowthWindow }},
	{Flag: "dlq-growth-threshold", Name: "DLQ growth threshold", Help: "dead letters per window above which a DLQ is growing",
		kind: kindNonNegative, def: 0, ratio: func(o *Options) *float64 { return &o.DLQGrowthThreshold }},
	{Flag: "dlq-drain-window", Name: "DLQ drain window", Help: "a DLQ holding records this long without shrinking is not drained",
		kind: kindDuration, defD: 24 * time.Hour, dur: func(o *Options) *time.Duration { return &o.DLQDrainWindow }},
	{Flag: "coverage-objective", Name: "coverage objective", Help: "minimum share of a service's events carrying correlation id / trace context (0..1)",
		kind: kindRatio, def: 0.99, ratio: func(o *Options) *float64 { return &o.CoverageObjective }},
	{Flag: "coverage-window", Name: "coverage window", Help: "window of the propagation coverage ratio",
		kind: kindDuration, defD: time.Hour, dur: func(o *Options) *time.Duration { return &o.CoverageWindow }},
	{Flag: "data-loss-window", Name: "data loss window", Help: "window in which records lost to retention are counted",
		kind: kindDuration, defD: 10 * time.Minute, dur: func(o *Options) *time.Duration { return &o.DataLossWindow }},
	{Flag: "time-to-loss-threshold", Name: "time to loss threshold", Help: "alert when retention deletes a group's oldest unread record sooner than this",
		kind: kindDuration, defD: time.Hour, dur: func(o *Options) *time.Duration { return &o.TimeToLossThreshold }},
	{Flag: "collector-stale-after", Name: "collector stale-after", Help: "a collector without success this long is stale",
		kind: kindDuration, defD: 10 * time.Minute, dur: func(o *Options) *time.Duration { return &o.CollectorStaleAfter }},
	{Flag: "store-stale-after", Name: "store stale-after", Help: "no report-store flush this long is stale",
		kind: kindDuration, defD: 15 * time.Minute, dur: func(o *Options) *time.Duration { return &o.StoreStaleAfter }},
	{Flag: "shared-view-stale-after", Name: "shared view stale-after", Help: "a replica whose newest shared document is older than this answers from a stale view",
		kind: kindDuration, defD: 2 * time.Minute, dur: func(o *Options) *time.Duration { return &o.SharedViewStaleAfter }},
}

// Thresholds returns the threshold table (a copy).
func Thresholds() []Threshold { return append([]Threshold(nil), thresholds...) }

// Default is the threshold's default as its flag would print it.
func (t Threshold) Default() string {
	if t.kind == kindDuration {
		return duration(t.defD)
	}
	return strconv.FormatFloat(t.def, 'g', -1, 64)
}

// setDefaults writes every threshold's default into o.
func setDefaults(o *Options) {
	for _, t := range thresholds {
		if t.kind == kindDuration {
			*t.dur(o) = t.defD
		} else {
			*t.ratio(o) = t.def
		}
	}
}

// validateThresholds returns one error per threshold out of range, naming it.
func validateThresholds(o *Options) []error {
	var errs []error
	for _, t := range thresholds {
		switch t.kind {
		case kindRatio:
			if v := *t.ratio(o); v <= 0 || v > 1 {
				errs = append(errs, fmt.Errorf("%s must be in (0, 1], got %g", t.Name, v))
			}
		case kindNonNegative:
			if v := *t.ratio(o); v < 0 {
				errs = append(errs, fmt.Errorf("%s must not be negative, got %g", t.Name, v))
			}
		case kindDuration:
			if d := *t.dur(o); d <= 0 {
				errs = append(errs, fmt.Errorf("%s must be positive, got %s", t.Name, d))
			}
		}
	}
	return errs
}

// RegisterFlags defines one `generate` flag per threshold on fs, writing
// into o (whose current values are the flags' defaults).
func RegisterFlags(fs *flag.FlagSet, o *Options) {
	for _, t := range thresholds {
		if t.kind == kindDuration {
			fs.DurationVar(t.dur(o), t.Flag, *t.dur(o), t.Help)
		} else {
			fs.Float64Var(t.ratio(o), t.Flag, *t.ratio(o), t.Help)
		}
	}
}

// WriteThresholdsMarkdown writes docs/alert-thresholds.md: every threshold
// with its flag, default and meaning.
func WriteThresholdsMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# Alert thresholds\n\n")
	b.WriteString("Generated by `eventwatch generate docs` from `internal/alerts/thresholds.go` (do not edit by hand).\n")
	b.WriteString("Each threshold is a flag of `eventwatch generate alerts|all`;\n")
	b.WriteString("the committed `alerts/` files use the defaults. Runbooks: [runbooks.md](runbooks.md).\n\n")
	b.WriteString("| flag | default | meaning |\n|---|---|---|\n")
	for _, t := range thresholds {
		fmt.Fprintf(&b, "| `--%s` | %s | %s |\n", t.Flag, t.Default(), strings.ReplaceAll(t.Help, "|", `\|`))
	}
	b.WriteString("\nOther flags: `--runbook-base`, `--evaluation-interval`, `--for` (every alert's `for`, e.g. `0s` in tests);\n")
	b.WriteString("mixin parameters `--selector` (`--job X` is shorthand for `--selector 'job=\"X\"'`), `--deployment-labels`,\n")
	b.WriteString("`--cluster-label`. The consumer-lag alerts have no threshold flag: they compare with the exported\n")
	b.WriteString("`lag.lag_objective_seconds` and the statuses of the lag collector.\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write thresholds markdown: %w", err)
	}
	return nil
}
