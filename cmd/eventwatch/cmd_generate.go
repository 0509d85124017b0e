package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/eventwatch/eventwatch/internal/alerts"
	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/dashboards"
	"github.com/eventwatch/eventwatch/internal/metrics"
	"github.com/eventwatch/eventwatch/internal/policy"
)

const generateUsage = `usage: eventwatch generate dashboards|alerts|docs|chart|all|list [flags]

Writes, under --out:
  dashboards  dashboards/*.json (Grafana, generated with the Foundation SDK)
  alerts      alerts/eventwatch.rules.yaml and alerts/alertmanager.example.yml
  docs        docs/metrics.md, docs/rules.md and docs/dashboards.md
  policies    examples/policies/<profile>.yaml, the built-in profiles'
              policy source (internal/policy/profiles/*.yaml)
  chart       deploy/helm/eventwatch/files/mixin: the rules (JSON) and
              dashboards with placeholder tokens for the selector, the
              deployment labels and the cluster label, which the Helm chart
              fills from its monitoring.* values
  all         all of the above (what 'make generate' runs with --out .)
  list        prints the generated paths (files or whole folders) relative
              to the repository root, one a line, and writes nothing
              (what 'make check-generated' compares)

Output is deterministic: the same flags always write the same bytes.

flags:
`

// generateFlags are the parsed flags of `eventwatch generate`.
type generateFlags struct {
	out        string
	alerts     alerts.Options
	dashboards dashboards.Options
}

func cmdGenerate(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && args[0] == "list" {
		for _, p := range generatedPaths() {
			fmt.Fprintln(stdout, p)
		}
		return 0
	}
	if len(args) == 0 || !knownGenerateStep(args[0]) {
		fs, _ := newGenerateFlags(stderr)
		fs.Usage()
		return exitCode(len(args) == 0 || (args[0] != "-h" && args[0] != "--help"))
	}
	fs, g := newGenerateFlags(stderr)
	if err := fs.Parse(args[1:]); err != nil {
		return exitCode(!errors.Is(err, flag.ErrHelp))
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "eventwatch generate: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	g.dashboards.Params = g.alerts.Params
	g.dashboards.ComplianceObjective = g.alerts.ComplianceObjective
	if err := g.alerts.Validate(); err != nil {
		fmt.Fprintf(stderr, "eventwatch generate: %v\n", err)
		return 2
	}
	paths, err := generate(args[0], g)
	for _, p := range paths {
		fmt.Fprintln(stdout, p)
	}
	if err != nil {
		fmt.Fprintf(stderr, "eventwatch generate: %v\n", err)
		return 1
	}
	return 0
}

func newGenerateFlags(stderr io.Writer) (*flag.FlagSet, *generateFlags) {
	g := &generateFlags{alerts: alerts.DefaultOptions(), dashboards: dashboards.DefaultOptions()}
	fs := flag.NewFlagSet("eventwatch generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, generateUsage); fs.PrintDefaults() }
	a := &g.alerts
	fs.StringVar(&g.out, "out", ".", "directory to write dashboards/, alerts/ and docs/ under")
	fs.StringVar(&a.Selector, "selector", a.Selector, "PromQL label matchers (no braces) selecting eventwatch's series and scrape targets, e.g. 'job=\"eventwatch\",namespace=\"monitoring\"'")
	fs.Func("job", "shorthand for --selector 'job=\"JOB\"'", func(s string) error {
		a.Selector = fmt.Sprintf("job=%q", s)
		return nil
	})
	fs.Func("deployment-labels", "comma-separated labels that tell eventwatch deployments apart; every aggregation keeps them, inhibitions require them equal (default \""+
		strings.Join(a.DeploymentLabels, ",")+"\")", func(s string) error {
		a.DeploymentLabels = splitLabels(s)
		return nil
	})
	fs.StringVar(&a.ClusterLabel, "cluster-label", a.ClusterLabel, "label the dashboards' cluster variable offers")
	fs.StringVar(&a.RunbookBase, "runbook-base", a.RunbookBase, "URL of docs/runbooks.md that runbook_url annotations point into")
	alerts.RegisterFlags(fs, a) // every threshold of internal/alerts/thresholds.go
	fs.DurationVar(&a.EvaluationInterval, "evaluation-interval", 0, "rule group interval (0: Prometheus' global evaluation_interval)")
	fs.Func("for", "override every alert's 'for' duration (e.g. 0s for tests and demos)", func(s string) error {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("parse duration: %w", err)
		}
		a.ForOverride = &d
		return nil
	})
	return fs, g
}

// generateStep is one artefact family of `eventwatch generate`: the paths
// (relative to the repository root; a folder stands for all it holds) it
// owns and how it writes them under --out. This table is the one list of
// generated paths: the Makefile's check-generated reads it through
// `eventwatch generate list`.
type generateStep struct {
	name  string
	paths []string
	run   func(g *generateFlags) ([]string, error)
}

// docFiles are the generated files under docs/.
var docFiles = []struct {
	name  string
	write func(w io.Writer, o dashboards.Options) error
}{
	{"metrics.md", func(w io.Writer, _ dashboards.Options) error { return metrics.WriteMarkdown(w) }},
	{"rules.md", func(w io.Writer, _ dashboards.Options) error { return audit.WriteRulesMarkdown(w) }},
	{"dashboards.md", dashboards.WriteMarkdown},
	{"alert-thresholds.md", func(w io.Writer, _ dashboards.Options) error { return alerts.WriteThresholdsMarkdown(w) }},
}

func generateSteps() []generateStep {
	var docPaths []string
	for _, d := range docFiles {
		docPaths = append(docPaths, "docs/"+d.name)
	}
	return []generateStep{
		{"dashboards", []string{"dashboards"}, func(g *generateFlags) ([]string, error) {
			return dashboards.Write(filepath.Join(g.out, "dashboards"), g.dashboards)
		}},
		{"alerts", []string{"alerts"}, func(g *generateFlags) ([]string, error) {
			return alerts.Write(filepath.Join(g.out, "alerts"), g.alerts)
		}},
		{"docs", docPaths, func(g *generateFlags) ([]string, error) {
			return writeDocs(filepath.Join(g.out, "docs"), g.dashboards)
		}},
		{"chart", []string{chartMixinDir}, func(g *generateFlags) ([]string, error) { return writeChartMixin(g.out, g) }},
		{"policies", policyPaths(), func(g *generateFlags) ([]string, error) { return writePolicies(g.out) }},
	}
}

// generatedPaths lists every generated path, relative to the repository root.
func generatedPaths() []string {
	var paths []string
	for _, s := range generateSteps() {
		paths = append(paths, s.paths...)
	}
	return paths
}

func knownGenerateStep(name string) bool {
	if name == "all" {
		return true
	}
	for _, s := range generateSteps() {
		if s.name == name {
			return true
		}
	}
	return false
}

// splitLabels splits a comma-separated label list, dropping blanks.
func splitLabels(s string) []string {
	var out []string
	for _, l := range strings.Split(s, ",") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// generate writes the artefacts of what under g.out and returns the paths
// written, even when a later step fails.
func generate(what string, g *generateFlags) ([]string, error) {
	var paths []string
	for _, s := range generateSteps() {
		if what != "all" && what != s.name {
			continue
		}
		p, err := s.run(g)
		paths = append(paths, p...)
		if err != nil {
			return paths, err
		}
	}
	return paths, nil
}

func writeDocs(dir string, o dashboards.Options) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create docs dir: %w", err)
	}
	var paths []string
	for _, d := range docFiles {
		var buf bytes.Buffer
		if err := d.write(&buf, o); err != nil {
			return paths, fmt.Errorf("render %s: %w", d.name, err)
		}
		p := filepath.Join(dir, d.name)
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			return paths, fmt.Errorf("write %s: %w", d.name, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// policyPaths are the example policies generated from the built-in
// profiles; examples/policies/custom.yaml is written by hand.
func policyPaths() []string {
	var paths []string
	for _, name := range policy.BuiltinProfiles() {
		paths = append(paths, "examples/policies/"+name+".yaml")
	}
	return paths
}

// writePolicies writes each built-in profile's policy source under
// out/examples/policies, so the examples are the profiles byte for byte.
func writePolicies(out string) ([]string, error) {
	dir := filepath.Join(out, "examples", "policies")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create policies dir: %w", err)
	}
	var paths []string
	for _, name := range policy.BuiltinProfiles() {
		data, err := policy.BuiltinPolicy(name)
		if err != nil {
			return paths, fmt.Errorf("policy %s: %w", name, err)
		}
		p := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return paths, fmt.Errorf("write %s: %w", p, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}
