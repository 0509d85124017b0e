package audit

import (
	"fmt"
	"strings"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/policy"
)

// writeVersionNotes documents, per profile, where an event's version is
// read from and so whether naming.version_mismatch can fire at all: it
// needs both a version in the type name (rules.naming.type_version) and a
// version field (envelope.fields.version).
func writeVersionNotes(b *strings.Builder, profiles []*policy.Profile) {
	b.WriteString("\n## Event versions per profile\n\n")
	b.WriteString("`naming.version_mismatch` compares two places an event can state its version: the type name\n")
	b.WriteString("(the first group of `rules.naming.type_version`, e.g. `2` from `...created.v2`) and the version\n")
	b.WriteString("field (`envelope.fields.version`). It applies only to a profile that has both, and fires only\n")
	b.WriteString("on an event that carries both and where they differ (`2`, `v2`, `2.0` and `2.0.0` are the same\n")
	b.WriteString("version). With one of the two, there is nothing to disagree with and the rule is off.\n\n")
	b.WriteString("| profile | version in the type name | version field | `naming.version_mismatch` |\n|---|---|---|---|\n")
	for _, p := range profiles {
		typeVer, field := "none", "none"
		if tv := p.TypeVersionPattern(); tv != nil {
			typeVer = "`" + tv.String() + "`"
		}
		if f := p.Field(policy.RoleVersion); f.Defined() {
			field = "`" + f.Path + "`"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", p.Name, typeVer, field, versionRuleText(p))
	}
	b.WriteString("\nauthorworks (Event Versioning: the version is in `meta.version`; types are\n")
	b.WriteString("`service.resource.action`): an event whose type also names a version, such as\n")
	b.WriteString("`user.account.created.v2` with `meta.version` `\"1.0\"`, breaks it (besides `naming.event_type`).\n")
	b.WriteString("huleedu (030 §3.3: the version is part of `event_type` and the EventEnvelope has no version\n")
	b.WriteString("field): off; a custom policy that maps a version field, e.g.\n")
	b.WriteString("`envelope.fields.version: {path: schema_version}`, turns it on.\n")
}

// versionRuleText says whether naming.version_mismatch runs in p and why.
func versionRuleText(p *policy.Profile) string {
	sev, on := p.RuleSeverity(event.RuleNamingVersionMismatch, "")
	hasBoth := p.TypeVersionPattern() != nil && p.Field(policy.RoleVersion).Defined()
	switch {
	case on && hasBoth:
		return string(sev) + ": applies when an event carries both"
	case on:
		return string(sev) + " in the table, but it cannot fire: the profile lacks one of the two"
	}
	return "off"
}
