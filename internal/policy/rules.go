package policy

import (
	"errors"
	"fmt"
	"path"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/strictyaml"
)

// The rules: section of a policy has no Go struct of its own: its keys are
// the settings with a fixed place (event.Setting.Path) that the record
// rules declare in their catalogue entries. decodePolicy builds the type
// the section decodes into from that registry, so a setting added there is
// read, checked and documented without a change here.

// rulesNode keeps the rules: section as written until decodePolicy decodes
// it against the registry (strictyaml leaves a yaml.Unmarshaler alone).
type rulesNode struct{ node *yaml.Node }

// UnmarshalYAML keeps the node.
func (r *rulesNode) UnmarshalYAML(n *yaml.Node) error {
	r.node = n
	return nil
}

// Blob is rules.blob: what size.blob_field takes for a blob carried in an
// event.
type Blob struct {
	MaxTextBytes    int      // a string longer than this is free text carried in the event (0: off)
	MinBase64Bytes  int      // a base64-alphabet string at least this long is an encoded blob (0: off)
	MinDataURIBytes int      // a data: URI at least this long is an inline blob (0: off)
	IgnorePaths     []string // field path globs never flagged
}

// Timestamp is rules.timestamp: how far from the reference time
// envelope.invalid_timestamp lets an event time be (0: unchecked).
type Timestamp struct {
	MaxFuture time.Duration // how far past the reference time an event time may be
	MaxAge    time.Duration // how far before the reference time an event time may be
}

// DLQ is rules.dlq: where a dead-letter record keeps the original event and
// its error context (dlq.missing_error_context), defaults filled in.
type DLQ struct {
	OriginalFields      []string // fields that may hold the wrapped original event
	ErrorFields         []string // fields that may hold the error context
	ErrorHeaderPrefixes []string // header key prefixes accepted as error context
	// RequireWrapper (default true) demands the original event inside a
	// wrapper object. When false, a record whose error context is in headers
	// (Spring Kafka kafka_dlt-exception-*, Kafka Connect __connect.errors.*)
	// may carry the original value as is.
	RequireWrapper bool
}

// MustWrap reports whether dead-letter records must wrap the original.
func (d *DLQ) MustWrap() bool { return d.RequireWrapper }

// ErrorHeader reports whether rec carries a header starting with one of the
// error-context prefixes.
func (d *DLQ) ErrorHeader(rec *event.Record) bool {
	for _, h := range rec.Headers {
		for _, p := range d.ErrorHeaderPrefixes {
			if strings.HasPrefix(h.Key, p) {
				return true
			}
		}
	}
	return false
}

// RuleSetting is one entry of the settings registry: a setting and the
// rule that declares (and reads) it.
type RuleSetting struct {
	Rule string // rule id
	event.Setting
}

// Settings returns every rule setting of the registry (the record rules'
// catalogue entries), rule by rule in id order: the ones with a fixed
// place under rules: and the rule_settings ones.
func Settings() []RuleSetting {
	var out []RuleSetting
	for _, r := range event.RecordRules() {
		for _, s := range r.Settings {
			out = append(out, RuleSetting{Rule: r.ID, Setting: s})
		}
	}
	return out
}

// fixedSettings are the settings under rules:, in registry order.
func fixedSettings() []RuleSetting {
	var out []RuleSetting
	for _, s := range Settings() {
		if s.Path != "" {
			out = append(out, s)
		}
	}
	return out
}

// goType is the Go type a setting of kind k decodes into (a pointer or a
// nil slice/map when the policy leaves it out).
func goType(k event.SettingKind) reflect.Type {
	switch k {
	case event.SettingIntMap:
		return reflect.TypeFor[map[string]int]()
	case event.SettingDuration:
		return reflect.TypeFor[*time.Duration]()
	case event.SettingRegexp, event.SettingGroupRE:
		return reflect.TypeFor[*string]()
	case event.SettingGlobs, event.SettingStrings:
		return reflect.TypeFor[[]string]()
	case event.SettingBool:
		return reflect.TypeFor[*bool]()
	}
	return reflect.TypeFor[*int]() // SettingInt, SettingIndex
}

// rulesType is the struct rules: decodes into: a field per section
// (rules.<section>), in it a field per setting; index maps a setting's
// path to its section and field.
func rulesType(set []RuleSetting) (reflect.Type, map[string][2]int) {
	var sections []string
	keys := map[string][]reflect.StructField{}
	index := map[string][2]int{}
	for _, s := range set {
		sec, key, _ := strings.Cut(strings.TrimPrefix(s.Path, "rules."), ".")
		if _, ok := keys[sec]; !ok {
			sections = append(sections, sec)
		}
		index[s.Path] = [2]int{slices.Index(sections, sec), len(keys[sec])}
		keys[sec] = append(keys[sec], reflect.StructField{Name: fmt.Sprintf("F%d", len(keys[sec])), Type: goType(s.Kind),
			Tag: reflect.StructTag(fmt.Sprintf(`yaml:%q`, key))})
	}
	fields := make([]reflect.StructField, len(sections))
	for i, sec := range sections {
		fields[i] = reflect.StructField{Name: fmt.Sprintf("S%d", i), Type: reflect.StructOf(keys[sec]), Tag: reflect.StructTag(fmt.Sprintf(`yaml:%q`, sec))}
	}
	return reflect.StructOf(fields), index
}

// decodePolicy decodes a policy strictly: the document against policyDoc,
// then rules: against the registry; the problems of both, in line order.
func decodePolicy(data []byte, doc *policyDoc) error {
	_, err := strictyaml.DecodeAll(data, doc)
	var errs strictyaml.Errors
	if err != nil {
		var list *strictyaml.Errors
		if !errors.As(err, &list) {
			return err // empty or not YAML
		}
		errs.List = append(errs.List, list.List...)
	}
	set := fixedSettings()
	t, index := rulesType(set)
	v := reflect.New(t)
	if err := strictyaml.DecodeNode(doc.Rules.node, "rules", v.Interface()); err != nil {
		var list *strictyaml.Errors
		if errors.As(err, &list) {
			errs.List = append(errs.List, list.List...)
		}
	}
	if len(errs.List) > 0 {
		sort.SliceStable(errs.List, func(i, j int) bool { return errs.List[i].Line < errs.List[j].Line })
		return &errs
	}
	doc.ruleValues = map[string]reflect.Value{}
	for _, s := range set {
		at := index[s.Path]
		doc.ruleValues[s.Path] = v.Elem().Field(at[0]).Field(at[1])
	}
	return nil
}

// compileRules checks every setting under rules: against its kind, fills
// the defaults and keeps the values (Profile.values, read through the
// Profile's accessors).
func compileRules(doc *policyDoc, p *Profile) error {
	p.values = map[string]any{}
	for _, s := range fixedSettings() {
		v, err := settingValue(doc, s)
		if err != nil {
			return err
		}
		p.values[s.Path] = v
	}
	p.fillRuleViews()
	return nil
}

// settingValue is the checked value of s: as written, else its default.
func settingValue(doc *policyDoc, s RuleSetting) (any, error) {
	written := doc.ruleValues[s.Path]
	if !written.IsValid() {
		written = reflect.Zero(goType(s.Kind))
	}
	set := !written.IsZero()
	if set && (written.Kind() == reflect.Slice || written.Kind() == reflect.Map) && written.Len() == 0 {
		set = false // an empty list is the default, as no list
	}
	if !set && s.Default != "" {
		d := reflect.New(goType(s.Kind))
		if err := yaml.Unmarshal([]byte(s.Default), d.Interface()); err != nil {
			return nil, ferr(s.Path, "bad default %q in the registry: %v", s.Default, err)
		}
		written, set = d.Elem(), true
	}
	switch s.Kind {
	case event.SettingIntMap:
		m, _ := written.Interface().(map[string]int)
		for _, k := range sortedKeys(m) {
			if m[k] < s.Min {
				return nil, ferr(s.Path+"."+k, "%s", minMsg(s.Min))
			}
		}
		return m, nil
	case event.SettingDuration:
		return durationValue(s, written, set)
	case event.SettingRegexp, event.SettingGroupRE:
		return regexpValue(s, written, set)
	case event.SettingGlobs, event.SettingStrings:
		return listValue(s, written, set)
	case event.SettingBool:
		return set && *written.Interface().(*bool), nil
	case event.SettingIndex:
		if !set {
			return (*int)(nil), nil
		}
		return written.Interface().(*int), nil
	}
	return intValue(doc, s, written, set)
}

func minMsg(min int) string {
	if min == 1 {
		return "must be > 0"
	}
	return fmt.Sprintf("must be >= %d", min)
}

func intValue(doc *policyDoc, s RuleSetting, written reflect.Value, set bool) (int, error) {
	n := 0
	if set {
		n = *written.Interface().(*int)
	}
	if s.Required && n == 0 {
		if doc.Severities[s.Rule] == "off" {
			return 0, nil
		}
		return 0, ferr(s.Path, "%s", minMsg(s.Min))
	}
	if n < s.Min {
		return 0, ferr(s.Path, "%s", minMsg(s.Min))
	}
	return n, nil
}

func durationValue(s RuleSetting, written reflect.Value, set bool) (time.Duration, error) {
	if !set {
		return 0, nil
	}
	d := *written.Interface().(*time.Duration)
	if d < 0 {
		return 0, ferr(s.Path, "must be >= 0")
	}
	return d, nil
}

func regexpValue(s RuleSetting, written reflect.Value, set bool) (*regexp.Regexp, error) {
	if !set || *written.Interface().(*string) == "" {
		return nil, nil
	}
	re, err := regexp.Compile(*written.Interface().(*string))
	if err != nil {
		return nil, ferr(s.Path, "invalid regular expression: %v", err)
	}
	if s.Kind == event.SettingGroupRE && re.NumSubexp() != 1 {
		return nil, ferr(s.Path, "must have exactly one capturing group")
	}
	return re, nil
}

func listValue(s RuleSetting, written reflect.Value, set bool) ([]string, error) {
	if !set {
		return nil, nil
	}
	list := written.Interface().([]string)
	if s.Kind == event.SettingGlobs {
		for i, g := range list {
			if _, err := path.Match(g, ""); err != nil {
				return nil, ferr(fmt.Sprintf("%s[%d]", s.Path, i), "invalid glob %q", g)
			}
		}
	}
	return list, nil
}

// fillRuleViews sets the typed views of the rules: values the engine
// reads (Blob, Timestamp, DLQ, the naming patterns, the size limits).
func (p *Profile) fillRuleViews() {
	for path, set := range ruleViews {
		if v, ok := p.values[path]; ok {
			set(p, v)
		}
	}
}

// ruleViews maps each setting under rules: to the Profile field the
// engine reads it from (TestEveryRulesSettingHasAView names a setting the
// registry has and this table lacks).
var ruleViews = map[string]func(p *Profile, v any){
	"rules.naming.event_type":   func(p *Profile, v any) { p.eventType, _ = v.(*regexp.Regexp) },
	"rules.naming.topic":        func(p *Profile, v any) { p.topic, _ = v.(*regexp.Regexp) },
	"rules.naming.type_version": func(p *Profile, v any) { p.typeVer, _ = v.(*regexp.Regexp) },
	"rules.naming.action_segment": func(p *Profile, v any) {
		if seg, _ := v.(*int); seg != nil {
			p.actionSeg, p.hasAction = *seg, true
		}
	},
	"rules.size.max_bytes":            func(p *Profile, v any) { p.maxBytes, _ = v.(int) },
	"rules.size.per_type":             func(p *Profile, v any) { p.perType, _ = v.(map[string]int) },
	"rules.blob.max_text_bytes":       func(p *Profile, v any) { p.blob.MaxTextBytes, _ = v.(int) },
	"rules.blob.min_base64_bytes":     func(p *Profile, v any) { p.blob.MinBase64Bytes, _ = v.(int) },
	"rules.blob.min_data_uri_bytes":   func(p *Profile, v any) { p.blob.MinDataURIBytes, _ = v.(int) },
	"rules.blob.ignore_paths":         func(p *Profile, v any) { p.blob.IgnorePaths, _ = v.([]string) },
	"rules.timestamp.max_future":      func(p *Profile, v any) { p.ts.MaxFuture, _ = v.(time.Duration) },
	"rules.timestamp.max_age":         func(p *Profile, v any) { p.ts.MaxAge, _ = v.(time.Duration) },
	"rules.dlq.original_fields":       func(p *Profile, v any) { p.dlq.OriginalFields, _ = v.([]string) },
	"rules.dlq.error_fields":          func(p *Profile, v any) { p.dlq.ErrorFields, _ = v.([]string) },
	"rules.dlq.error_header_prefixes": func(p *Profile, v any) { p.dlq.ErrorHeaderPrefixes, _ = v.([]string) },
	"rules.dlq.require_wrapper":       func(p *Profile, v any) { p.dlq.RequireWrapper, _ = v.(bool) },
}
