package catalog

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Change is one difference between the schema a type and version is
// observed with and a proposed schema, judged from a reader's side the way
// the drift rules judge traffic: a member removed or given another type is
// breaking (drift.breaking_change), a new member is additive.
type Change struct {
	Breaking bool   `json:"breaking"`
	Path     string `json:"path"`    // data path, e.g. "data.isbn"
	Message  string `json:"message"` // one sentence
}

// Impact compares the proposed data schema of a type and version with the
// observed one (both catalog entries: Schema is the data's JSON Schema)
// and lists the changes, breaking first, then by path.
func Impact(proposed, observed *Entry) []Change {
	var out []Change
	for _, d := range diffSchema(proposed, asMap(proposed.Schema), asMap(observed.Schema), "data") {
		switch d.Kind {
		case DiffTypeMismatch:
			out = append(out, Change{Breaking: true, Path: d.Path, Message: d.Path + " changes type: " + d.Message})
		case DiffUndeclaredField:
			out = append(out, Change{Breaking: true, Path: d.Path, Message: d.Path + " is removed: every reader receives it today"})
		case DiffRequiredMissing:
			out = append(out, Change{Path: d.Path, Message: d.Path + " becomes required: " + d.Message})
		}
	}
	seen := map[string]bool{}
	for _, c := range out {
		seen[c.Path] = true
	}
	for _, c := range added(asMap(proposed.Schema), asMap(observed.Schema), "data") {
		if !seen[c.Path] {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Breaking != out[j].Breaking {
			return out[i].Breaking
		}
		return out[i].Path < out[j].Path
	})
	return out
}

// added lists the members the proposed schema has and traffic never
// carried: additive for readers.
func added(prop, obs map[string]any, path string) []Change {
	if prop == nil || obs == nil {
		return nil
	}
	var out []Change
	pprops, oprops := asMap(prop["properties"]), asMap(obs["properties"])
	for _, k := range sortedKeys(pprops) {
		if oprops[k] == nil {
			out = append(out, Change{Path: path + "." + k, Message: path + "." + k + " is new (additive)"})
			continue
		}
		out = append(out, added(asMap(pprops[k]), asMap(oprops[k]), path+"."+k)...)
	}
	if pi, oi := asMap(prop["items"]), asMap(obs["items"]); pi != nil && oi != nil {
		out = append(out, added(pi, oi, path+"[]")...)
	}
	return out
}

// LoadProposed reads a proposed schema for typ and version from path: an
// AsyncAPI document (its message for the type and version, or its only
// message), or a JSON Schema file (YAML or JSON) of the event's data — or
// of the whole event, whose "data" member is then taken.
func LoadProposed(path, typ, version string) (*Entry, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	doc, err := parseDocument(filepath.Base(path), raw)
	if err != nil {
		return nil, err
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: a schema must be an object", filepath.Base(path))
	}
	if _, isAsyncAPI := m["asyncapi"]; isAsyncAPI {
		return proposedFromAsyncAPI(path, typ, version)
	}
	schema := m
	if props := asMap(m["properties"]); props != nil && asMap(props["data"]) != nil && (props["event_type"] != nil || props["event_id"] != nil || props["meta"] != nil) {
		schema = asMap(props["data"])
	}
	return &Entry{Type: typ, Version: version, Schema: schema, File: path}, nil
}

func proposedFromAsyncAPI(path, typ, version string) (*Entry, error) {
	entries, err := LoadAsyncAPI(path)
	if err != nil {
		return nil, err
	}
	for i := range entries {
		if entries[i].Type == typ && event.NormalizeVersion(entries[i].Version) == event.NormalizeVersion(version) {
			return &entries[i], nil
		}
	}
	if len(entries) == 1 {
		e := entries[0]
		e.Type, e.Version = typ, version
		return &e, nil
	}
	return nil, errors.New(filepath.Base(path) + ": no message for " + typ + " " + versionText(version))
}

// FindEntry returns the entry of typ and version (normalized) in entries.
func FindEntry(entries []Entry, typ, version string) (*Entry, bool) {
	for i := range entries {
		if entries[i].Type == typ && event.NormalizeVersion(entries[i].Version) == event.NormalizeVersion(version) {
			return &entries[i], true
		}
	}
	return nil, false
}
