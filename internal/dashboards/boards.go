package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/eventwatch/eventwatch/internal/metrics"
	"github.com/eventwatch/eventwatch/internal/mixin"
)

// Options are the generation-time settings of the dashboards.
type Options struct {
	mixin.Params                // selector (variable queries) and cluster label of the variables
	ComplianceObjective float64 // compliance ratio drawn as the green threshold (default 0.95)
}

// DefaultOptions returns the options `eventwatch generate` uses without flags.
func DefaultOptions() Options {
	return Options{Params: mixin.Defaults(), ComplianceObjective: 0.95}
}

// Boards returns every dashboard definition, in file-name order.
func Boards(o Options) []Board {
	return []Board{compliance(o), flows(), health(o), lagDLQ()}
}

// Write renders every board to dir/<uid>.json (creating dir), with a
// trailing newline, and returns the paths written.
func Write(dir string, o Options) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create dashboards dir: %w", err)
	}
	var paths []string
	for _, b := range Boards(o) {
		data, err := Render(b)
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, b.FileName())
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return nil, fmt.Errorf("write dashboard %s: %w", b.UID, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// Render returns b as indented Grafana dashboard JSON.
func Render(b Board) ([]byte, error) {
	d, err := Build(b)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("encode dashboard %s: %w", b.UID, err)
	}
	return buf.Bytes(), nil
}

// Label matchers bound to the template variables.
const (
	byTopic   = `topic=~"$topic"`
	bySource  = `source_service=~"$service"`
	byGroup   = `group=~"$group"`
	byService = `service=~"$service"`
)

// sel renders s's series selector with matchers.
func sel(s metrics.Spec, matchers ...string) string {
	return series(s, "", matchers...)
}

// series renders the selector of one of a histogram's series (_bucket,
// _count, _sum).
func series(s metrics.Spec, suffix string, matchers ...string) string {
	if len(matchers) == 0 {
		return s.Name + suffix
	}
	return s.Name + suffix + "{" + strings.Join(matchers, ",") + "}"
}

// sumRate is `sum by (by) (rate(selector[window]))`; by may be empty.
func sumRate(by, selector, window string) string {
	return sumOf(by, "rate("+selector+"["+window+"])")
}

// sumIncrease is `sum by (by) (increase(selector[window]))`.
func sumIncrease(by, selector, window string) string {
	return sumOf(by, "increase("+selector+"["+window+"])")
}

func sumOf(by, inner string) string {
	if by == "" {
		return "sum(" + inner + ")"
	}
	return "sum by (" + by + ") (" + inner + ")"
}

// quantile is a histogram quantile of s over window, by the given labels.
func quantile(q string, s metrics.Spec, by, window string, matchers ...string) string {
	return "histogram_quantile(" + q + ", " + sumRate(by+", le", series(s, "_bucket", matchers...), window) + ")"
}

func topicVar() Variable {
	return Variable{Name: "topic", Spec: metrics.RecordsChecked, Label: "topic", Help: "audited Kafka topics"}
}

func ratioSteps(objective float64) []Step {
	return []Step{{Color: "red"}, {Value: objective - 0.05, Color: "orange"}, {Value: objective, Color: "green"}}
}

func countSteps(warn float64) []Step {
	return []Step{{Color: "green"}, {Value: warn, Color: "red"}}
}
