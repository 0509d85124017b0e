package metrics

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

var (
	nameRE  = regexp.MustCompile(`^eventwatch_[a-z][a-z0-9_]*[a-z0-9]$`)
	labelRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

	// unitSuffixes are the base units a measured quantity may carry.
	unitSuffixes = []string{"_seconds", "_bytes", "_records", "_ratio", "_messages", "_partitions", "_hops", "_spans"}
	// measuredWords mark a name as a measured quantity that needs a unit.
	measuredWords = []string{"latency", "duration", "lag", "age", "size", "retention", "timestamp", "depth", "delay"}
	// nonBaseUnits are units Prometheus conventions replace by base units.
	nonBaseUnits = []string{"_milliseconds", "_ms", "_microseconds", "_minutes", "_hours", "_days", "_kilobytes", "_megabytes", "_percent"}
	// reservedLabels are produced by Prometheus itself.
	reservedLabels = map[string]bool{"le": true, "quantile": true, "job": true, "instance": true}
	// unboundedLabels would create a series per event, record or request.
	unboundedLabels = map[string]bool{"id": true, "key": true, "offset": true, "timestamp": true, "message": true, "error": true, "value": true, "uuid": true}
)

// Check reports every way s breaks the catalogue's naming rules: the
// eventwatch_ prefix, _total on counters only, a base unit on measured
// quantities, help text, a known area, and bounded, non-reserved labels
// (never an id such as event_id, correlation_id or trace_id).
func Check(s Spec) error {
	var errs []error
	errs = append(errs, checkName(s)...)
	errs = append(errs, checkLabels(s)...)
	if strings.TrimSpace(s.Help) == "" {
		errs = append(errs, errors.New("help text is empty"))
	}
	if s.Area == "" {
		errs = append(errs, errors.New("area is empty"))
	}
	if s.Kind != Counter && s.Kind != Gauge && s.Kind != Histogram {
		errs = append(errs, fmt.Errorf("unknown kind %q", s.Kind))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("metric %s: %w", s.Name, err)
	}
	return nil
}

func checkName(s Spec) []error {
	var errs []error
	if !nameRE.MatchString(s.Name) || strings.Contains(s.Name, "__") {
		errs = append(errs, errors.New("name must be eventwatch_ followed by lower_snake_case"))
	}
	total := strings.HasSuffix(s.Name, "_total")
	if s.Kind == Counter && !total {
		errs = append(errs, errors.New("counter name must end in _total"))
	}
	if s.Kind != Counter && total {
		errs = append(errs, fmt.Errorf("_total is for counters only, not a %s", s.Kind))
	}
	base := strings.TrimSuffix(s.Name, "_total")
	for _, u := range nonBaseUnits {
		if strings.HasSuffix(base, u) || strings.Contains(base, u+"_") {
			errs = append(errs, fmt.Errorf("unit %s is not a base unit (use _seconds, _bytes, _ratio)", u))
		}
	}
	if needsUnit(base) && !hasUnit(base) {
		errs = append(errs, fmt.Errorf("a measured quantity needs a unit suffix, one of %v", unitSuffixes))
	}
	if s.Kind == Histogram && !hasUnit(base) {
		errs = append(errs, fmt.Errorf("histogram name needs a unit suffix, one of %v", unitSuffixes))
	}
	return errs
}

func checkLabels(s Spec) []error {
	var errs []error
	seen := map[string]bool{}
	for _, l := range s.Labels {
		switch {
		case !labelRE.MatchString(l):
			errs = append(errs, fmt.Errorf("label %q is not lower_snake_case", l))
		case reservedLabels[l]:
			errs = append(errs, fmt.Errorf("label %q is reserved by Prometheus", l))
		case unboundedLabels[l] || strings.HasSuffix(l, "_id"):
			errs = append(errs, fmt.Errorf("label %q is unbounded (one series per event or record)", l))
		case seen[l]:
			errs = append(errs, fmt.Errorf("label %q is repeated", l))
		}
		seen[l] = true
	}
	return errs
}

func needsUnit(name string) bool {
	for _, w := range measuredWords {
		if strings.Contains(name, "_"+w) {
			return true
		}
	}
	return false
}

func hasUnit(name string) bool {
	for _, u := range unitSuffixes {
		if strings.HasSuffix(name, u) {
			return true
		}
	}
	return false
}
