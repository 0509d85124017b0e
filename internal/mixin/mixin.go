// Package mixin holds the parameters that shape eventwatch's generated
// alert rules and dashboards like a monitoring mixin: a selector that picks
// eventwatch's series out of everything a Prometheus scrapes, and the
// labels that tell one eventwatch deployment (one Kafka cluster) from
// another.
//
// Every generated expression selects eventwatch's metrics with Selector,
// and every aggregation keeps DeploymentLabels, so two deployments scraped
// by one Prometheus (or merged in Thanos or Mimir) never add up: one leader
// per deployment, topics of the same name in two clusters apart, and
// inhibitions that only reach alerts of the same deployment. Labels absent
// from the series (a plain Prometheus has no cluster label; a per-cluster
// Prometheus adds it as an external label when it sends alerts) aggregate
// as empty, so the defaults are right for a single plain scrape too.
//
// The Helm chart renders its rules and dashboards from a copy generated
// with Placeholders, replacing the three placeholder tokens with its
// values; Fill does the same replacement in Go, so the two cannot differ.
package mixin

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Params are the mixin parameters.
type Params struct {
	// Selector is the PromQL label matchers, without braces, that select
	// eventwatch's series and its scrape targets, e.g. `job="eventwatch"`.
	Selector string
	// DeploymentLabels are the labels that tell deployments apart; every
	// aggregation keeps them and the example inhibitions require them equal.
	DeploymentLabels []string
	// ClusterLabel is the label the dashboards' cluster variable offers.
	ClusterLabel string
}

// Placeholder tokens of the chart's template copies.
const (
	SelectorToken = "__EW_SELECTOR__"
	LabelsToken   = "__EW_LABELS__"
	ClusterToken  = "__EW_CLUSTER__"
)

// Defaults are right for a plain Prometheus scrape job named eventwatch,
// for the Helm chart's ServiceMonitor when the release is named
// eventwatch, and for Thanos/Mimir setups that add a cluster label.
func Defaults() Params {
	return Params{Selector: `job="eventwatch"`, DeploymentLabels: []string{"cluster", "namespace", "job"}, ClusterLabel: "cluster"}
}

// Placeholders returns the parameters of the chart's template copies.
func Placeholders() Params {
	return Params{Selector: SelectorToken, DeploymentLabels: []string{LabelsToken}, ClusterLabel: ClusterToken}
}

var (
	labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	selectorRE  = regexp.MustCompile(`^\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"\s*(,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"\s*)*,?\s*$`)
)

// Validate reports a selector that is not a list of label matchers, and
// label names that are not Prometheus label names. The placeholder
// parameters are valid.
func (p Params) Validate() error {
	if p.isPlaceholders() {
		return nil
	}
	var errs []error
	if !selectorRE.MatchString(p.Selector) {
		errs = append(errs, fmt.Errorf(`selector %q is not a list of label matchers such as job="eventwatch",namespace="monitoring"`, p.Selector))
	}
	if len(p.DeploymentLabels) == 0 {
		errs = append(errs, errors.New("deployment labels must name at least one label (e.g. job)"))
	}
	for _, l := range append(slicesClone(p.DeploymentLabels), p.ClusterLabel) {
		if !labelNameRE.MatchString(l) {
			errs = append(errs, fmt.Errorf("%q is not a Prometheus label name", l))
		}
	}
	return errors.Join(errs...)
}

func (p Params) isPlaceholders() bool {
	return p.Selector == SelectorToken && len(p.DeploymentLabels) == 1 && p.DeploymentLabels[0] == LabelsToken &&
		p.ClusterLabel == ClusterToken
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// Sel is metric{Selector, matchers...}.
func (p Params) Sel(metric string, matchers ...string) string {
	ms := append([]string{strings.TrimRight(strings.TrimSpace(p.Selector), ",")}, matchers...)
	return metric + "{" + strings.Join(ms, ", ") + "}"
}

// By is the deployment labels followed by extra, comma-separated, for a
// `by (...)` or `on (...)` clause.
func (p Params) By(extra ...string) string {
	return strings.Join(append(slicesClone(p.DeploymentLabels), extra...), ", ")
}

// Fill replaces the placeholder tokens in text generated with Placeholders
// by p's values; escape is applied to the selector first (JSON string
// escaping for JSON files, identity otherwise).
func (p Params) Fill(text string, escape func(string) string) string {
	return strings.NewReplacer(
		SelectorToken, escape(strings.TrimRight(strings.TrimSpace(p.Selector), ",")),
		LabelsToken, strings.Join(p.DeploymentLabels, ", "),
		ClusterToken, p.ClusterLabel,
	).Replace(text)
}
