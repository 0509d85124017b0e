package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/eventwatch/eventwatch/internal/alerts"
	"github.com/eventwatch/eventwatch/internal/dashboards"
	"github.com/eventwatch/eventwatch/internal/mixin"
)

// chartMixinDir is where the Helm chart reads its rule and dashboard
// templates: generated with the mixin placeholder tokens, which the chart
// replaces with its monitoring.* values (templates/_mixin.tpl).
const chartMixinDir = "deploy/helm/eventwatch/files/mixin"

// writeChartMixin writes the chart's templates under out: the rules as
// JSON and every dashboard, both with the placeholder parameters and the
// thresholds of g.
func writeChartMixin(out string, g *generateFlags) ([]string, error) {
	dir := filepath.Join(out, filepath.FromSlash(chartMixinDir))
	a := g.alerts
	a.Params = mixin.Placeholders()
	rules, err := alerts.RenderJSON(a)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create chart mixin dir: %w", err)
	}
	rulesPath := filepath.Join(dir, "eventwatch.rules.json")
	if err := os.WriteFile(rulesPath, rules, 0o644); err != nil {
		return nil, fmt.Errorf("write chart rules: %w", err)
	}
	d := g.dashboards
	d.Params = mixin.Placeholders()
	paths, err := dashboards.Write(filepath.Join(dir, "dashboards"), d)
	return append([]string{rulesPath}, paths...), err
}
