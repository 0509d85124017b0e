package main

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/policy"
)

// ruleRow is one rule as `eventwatch rules --format json` prints it.
type ruleRow struct {
	event.RuleInfo
	ProfileSeverity string `json:"profile_severity"` // severity in the chosen profile, or "off"
}

// cmdRules prints the rule catalogue (text, json or markdown), with each
// rule's severity in the chosen profile or policy.
func cmdRules(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rules", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "text", "output format: text, json or markdown")
	profile := fs.String("profile", "huleedu", "built-in profile whose severities to show")
	policyFile := fs.String("policy", "", "custom YAML policy whose severities to show, instead of --profile")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *format == "markdown" {
		if err := audit.WriteRulesMarkdown(stdout); err != nil {
			fmt.Fprintf(stderr, "eventwatch rules: %v\n", err)
			return 1
		}
		return 0
	}
	p, err := policy.Load(*profile, *policyFile)
	if err != nil {
		fmt.Fprintf(stderr, "eventwatch rules: %v\n", err)
		return 2
	}
	rows := ruleRows(p)
	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rows)
	case "text":
		err = writeRulesText(stdout, p.Name, rows)
	default:
		fmt.Fprintf(stderr, "eventwatch rules: --format must be text, json or markdown, not %q\n", *format)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "eventwatch rules: %v\n", err)
		return 1
	}
	return 0
}

func ruleRows(p *policy.Profile) []ruleRow {
	var rows []ruleRow
	for _, r := range event.Rules() {
		sev := "off"
		if s, ok := p.RuleSeverity(r.ID, ""); ok {
			sev = string(s)
		}
		rows = append(rows, ruleRow{RuleInfo: r, ProfileSeverity: sev})
	}
	return rows
}

func writeRulesText(w io.Writer, profile string, rows []ruleRow) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "RULE\tSCOPE\t%s\tSUMMARY\n", profile)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Scope, r.ProfileSeverity, r.Summary)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write rules: %w", err)
	}
	return nil
}
