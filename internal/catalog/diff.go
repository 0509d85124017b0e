package catalog

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"errors"
	"fmt"
	"sort"
	"strings"
)

// Kinds of catalog drift.
const (
	DiffNotSeen         = "declared_not_seen"       // a declared type and version no traffic carried
	DiffNotDeclared     = "seen_not_declared"       // traffic carried a type and version the catalog lacks
	DiffProducer        = "producer"                // a producer seen but not declared, or declared but not seen
	DiffConsumer        = "consumer"                // an expected consumer group not reading the topic, or a group reading it undeclared
	DiffRequiredMissing = "schema.required_missing" // the catalog requires a data field some traffic lacks
	DiffTypeMismatch    = "schema.type_mismatch"    // traffic carries a data field with a type the catalog does not allow
	DiffUndeclaredField = "schema.undeclared_field" // traffic carries a data field the catalog's schema does not list
)

// Difference is one way a declared catalog and the observed estate differ.
type Difference struct {
	Kind    string `json:"kind"`           // one of the Diff* kinds
	Type    string `json:"type"`           // event type
	Version string `json:"version"`        // event version
	Path    string `json:"path,omitempty"` // data path, for schema differences (e.g. "data.book_id")
	Message string `json:"message"`        // one sentence for people
}

// Diff compares declared catalog entries with the entries of a discovered
// document (ParseAsyncAPI of Discover's output) and lists the differences,
// sorted by type, version, kind and path. Versions compare normalized
// ("1" is "1.0").
func Diff(declared, seen []Entry) []Difference {
	seenBy := map[string]*Entry{}
	for i := range seen {
		seenBy[entryKey(&seen[i])] = &seen[i]
	}
	var out []Difference
	matched := map[string]bool{}
	for i := range declared {
		d := &declared[i]
		s := seenBy[entryKey(d)]
		if s == nil {
			out = append(out, diffOf(DiffNotSeen, d, "", "%s %s is declared but no traffic carried it", d.Type, versionText(d.Version)))
			continue
		}
		matched[entryKey(d)] = true
		out = append(out, diffServices(d, s)...)
		out = append(out, diffSchema(d, asMap(d.Schema), asMap(s.Schema), "data")...)
	}
	for i := range seen {
		s := &seen[i]
		switch {
		case matched[entryKey(s)]:
		case s.Version == "":
			out = append(out, diffOf(DiffNotDeclared, s, "", "%s is in traffic without a version (from %s); a catalog registers versioned types only",
				s.Type, strings.Join(s.AllProducers(), ", ")))
		default:
			out = append(out, diffOf(DiffNotDeclared, s, "", "%s %s is in traffic (from %s) but not declared", s.Type, s.Version, strings.Join(s.AllProducers(), ", ")))
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Path < b.Path
	})
	return out
}

// versionText is a version as messages show it.
func versionText(v string) string {
	if v == "" {
		return "(no version)"
	}
	return v
}

func entryKey(e *Entry) string { return e.Type + "@" + event.NormalizeVersion(e.Version) }

func diffOf(kind string, e *Entry, path, format string, args ...any) Difference {
	return Difference{Kind: kind, Type: e.Type, Version: e.Version, Path: path, Message: fmt.Sprintf(format, args...)}
}

// diffServices compares producers and consumer groups.
func diffServices(d, s *Entry) []Difference {
	var out []Difference
	for _, p := range s.AllProducers() {
		if !d.ProducedBy(p) {
			out = append(out, diffOf(DiffProducer, d, "", "%s %s is produced by %s, which the catalog does not register (it registers %s)",
				d.Type, versionText(d.Version), p, strings.Join(d.AllProducers(), ", ")))
		}
	}
	for _, p := range d.AllProducers() {
		if !s.ProducedBy(p) {
			out = append(out, diffOf(DiffProducer, d, "", "%s %s: registered producer %s was not seen producing it", d.Type, versionText(d.Version), p))
		}
	}
	seen := toSet(s.Consumers)
	for _, c := range d.Consumers {
		if !seen[c] {
			out = append(out, diffOf(DiffConsumer, d, "", "%s %s: expected consumer group %s is not reading topic %s", d.Type, versionText(d.Version), c, topicOf(d, s)))
		}
	}
	declared := toSet(d.Consumers)
	for _, c := range s.Consumers {
		if !declared[c] {
			out = append(out, diffOf(DiffConsumer, d, "", "%s %s: consumer group %s reads topic %s but is not an expected consumer", d.Type, versionText(d.Version), c, topicOf(d, s)))
		}
	}
	return out
}

func topicOf(d, s *Entry) string {
	if s.Topic != "" {
		return s.Topic
	}
	if d.Topic != "" {
		return d.Topic
	}
	return "(unknown)"
}

func toSet(s []string) map[string]bool {
	m := make(map[string]bool, len(s))
	for _, v := range s {
		m[v] = true
	}
	return m
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// diffSchema compares a declared schema with the inferred one at path:
// required members traffic lacks, types traffic breaks, members traffic
// carries that the declared schema does not list; then the members and
// items both describe.
func diffSchema(e *Entry, decl, inf map[string]any, path string) []Difference {
	if decl == nil || inf == nil {
		return nil
	}
	var out []Difference
	if bad := typeMismatch(schemaTypes(decl), schemaTypes(inf)); bad != "" {
		return []Difference{diffOf(DiffTypeMismatch, e, path, "%s %s: %s is %s in traffic but the catalog declares %s",
			e.Type, versionText(e.Version), path, bad, strings.Join(schemaTypes(decl), " or "))}
	}
	dprops, iprops := asMap(decl["properties"]), asMap(inf["properties"])
	ireq := toSet(stringList(inf["required"]))
	for _, r := range stringList(decl["required"]) {
		if !ireq[r] {
			how := "some events lack it"
			if iprops[r] == nil {
				how = "no event carried it"
			}
			out = append(out, diffOf(DiffRequiredMissing, e, path+"."+r, "%s %s: the catalog requires %s.%s but %s", e.Type, versionText(e.Version), path, r, how))
		}
	}
	for _, k := range sortedKeys(iprops) {
		if dprops == nil && decl["additionalProperties"] != false {
			break // the declared schema does not list members
		}
		if dprops[k] == nil {
			out = append(out, diffOf(DiffUndeclaredField, e, path+"."+k, "%s %s: traffic carries %s.%s, which the catalog's schema does not declare", e.Type, versionText(e.Version), path, k))
			continue
		}
		out = append(out, diffSchema(e, asMap(dprops[k]), asMap(iprops[k]), path+"."+k)...)
	}
	if di, ii := asMap(decl["items"]), asMap(inf["items"]); di != nil && ii != nil {
		out = append(out, diffSchema(e, di, ii, path+"[]")...)
	}
	return out
}

// schemaTypes lists a schema's "type" (one string or a list).
func schemaTypes(s map[string]any) []string {
	switch t := s["type"].(type) {
	case string:
		return []string{t}
	case []any:
		return stringList(t)
	case []string:
		return t
	}
	return nil
}

// typeMismatch returns the inferred type the declared types do not allow
// ("" when all are allowed, or either side declares no type); an integer
// is a number.
func typeMismatch(decl, inf []string) string {
	if len(decl) == 0 || len(inf) == 0 {
		return ""
	}
	allowed := toSet(decl)
	for _, t := range inf {
		switch {
		case allowed[t], t == "integer" && allowed["number"]:
			continue
		}
		return t
	}
	return ""
}

func stringList(v any) []string {
	switch t := v.(type) {
	case []string:
		return t
	case []any:
		out := make([]string, 0, len(t))
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// SeenEntries reads a discovered document (JSON or YAML) as the entries of
// the observed estate, types seen without a version included (Version "");
// a document without messages (no traffic yet) has none.
func SeenEntries(doc []byte) ([]Entry, error) {
	entries, err := parseDocumentEntries(doc, "document", "", true)
	if errors.Is(err, ErrNoMessages) {
		return nil, nil
	}
	return entries, err
}
