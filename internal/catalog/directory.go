package catalog

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/eventwatch/eventwatch/internal/strictyaml"
)

// Entry is one registered event type (standard 002, Event Types
// Registry): name and version, the JSON Schema of its data, the producing
// service, the expected consumers, a description and a sample event.
type Entry struct {
	Type     string `yaml:"type" json:"type"`         // event type, e.g. "user.account.created"
	Version  string `yaml:"version" json:"version"`   // event version, e.g. "1.0" or "1"
	Producer string `yaml:"producer" json:"producer"` // source service that must produce it
	// Producers are every service the catalog registers as a producer of
	// the type, Producer first; an AsyncAPI document may name several (one
	// send operation each). Empty means Producer alone.
	Producers   []string `yaml:"-" json:"producers,omitempty"`
	Consumers   []string `yaml:"consumers" json:"consumers"`     // expected consumer group ids
	Topic       string   `yaml:"topic" json:"topic,omitempty"`   // topic it is published to, when fixed
	Description string   `yaml:"description" json:"description"` // what the event means
	Schema      any      `yaml:"schema" json:"schema"`           // JSON Schema of the data field
	Sample      any      `yaml:"sample" json:"sample,omitempty"` // a sample event (full envelope)
	File        string   `yaml:"-" json:"file,omitempty"`        // file the entry was read from
}

// Catalog is a loaded event catalog with every schema compiled once. It is
// immutable and safe for concurrent use.
type Catalog struct {
	entries []Entry
	byKey   map[string]*catalogItem // type + "@" + normalized version
	byType  map[string][]*catalogItem
}

type catalogItem struct {
	entry  *Entry
	schema *jsonschema.Schema
}

// LoadDir reads every *.yaml, *.yml and *.json file under dir (one
// entry per file), compiles each schema and validates each sample's data
// against it. Any bad entry fails the whole load with an error naming the
// file and field.
func LoadDir(dir string) (*Catalog, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yaml", ".yml", ".json":
			if !d.IsDir() {
				files = append(files, p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load catalog: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("load catalog: no entries (*.yaml, *.yml, *.json) under %s", dir)
	}
	sort.Strings(files)
	entries := make([]Entry, 0, len(files))
	for _, f := range files {
		e, err := readCatalogEntry(f)
		if err != nil {
			return nil, fmt.Errorf("load catalog: %w", err)
		}
		entries = append(entries, e)
	}
	return New(entries)
}

func readCatalogEntry(file string) (Entry, error) {
	var e Entry
	data, err := os.ReadFile(file)
	if err != nil {
		return e, fmt.Errorf("read entry: %w", err)
	}
	if err := strictyaml.Decode(data, &e); err != nil {
		return e, fmt.Errorf("%s: %w", filepath.Base(file), err)
	}
	e.File = file
	return e, nil
}

// New builds a catalog from entries, compiling their schemas.
func New(entries []Entry) (*Catalog, error) {
	c := &Catalog{byKey: make(map[string]*catalogItem), byType: make(map[string][]*catalogItem)}
	c.entries = append(c.entries, entries...)
	for i := range c.entries {
		e := &c.entries[i]
		name := e.File
		if name == "" {
			name = fmt.Sprintf("entry %d", i)
		}
		it, err := compileEntry(e)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(name), err)
		}
		key := e.Type + "@" + event.NormalizeVersion(e.Version)
		if prev, dup := c.byKey[key]; dup {
			return nil, fmt.Errorf("%s: type %s version %s is already registered in %s", filepath.Base(name), e.Type, e.Version, filepath.Base(prev.entry.File))
		}
		c.byKey[key] = it
		c.byType[e.Type] = append(c.byType[e.Type], it)
	}
	return c, nil
}

func compileEntry(e *Entry) (*catalogItem, error) {
	switch {
	case e.Type == "":
		return nil, fieldErr("type", "is required")
	case e.Version == "":
		return nil, fieldErr("version", "is required")
	case e.Producer == "":
		return nil, fieldErr("producer", "is required")
	case e.Schema == nil:
		return nil, fieldErr("schema", "is required")
	}
	sch, err := compileSchema(e.Type+"@"+e.Version, e.Schema)
	if err != nil {
		return nil, fieldErr("schema", "%v", err)
	}
	it := &catalogItem{entry: e, schema: sch}
	if err := it.validateSample(); err != nil {
		return nil, err
	}
	return it, nil
}

func compileSchema(name string, schema any) (*jsonschema.Schema, error) {
	raw, err := json.Marshal(normalizeYAML(schema))
	if err != nil {
		return nil, fmt.Errorf("encode schema: %w", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("decode schema: %w", err)
	}
	url := "mem:///catalog/" + strings.NewReplacer("/", "_", " ", "_").Replace(name) + ".json"
	comp := jsonschema.NewCompiler()
	if err := comp.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("add schema: %w", err)
	}
	sch, err := comp.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile schema: %w", err)
	}
	return sch, nil
}

// normalizeYAML converts yaml.v3 values (map[string]any with int values)
// into the shapes encoding/json writes.
func normalizeYAML(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = normalizeYAML(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = normalizeYAML(x)
		}
		return out
	}
	return v
}

func (it *catalogItem) validateSample() error {
	if it.entry.Sample == nil {
		return nil
	}
	m, ok := normalizeYAML(it.entry.Sample).(map[string]any)
	if !ok {
		return fieldErr("sample", "must be an event object")
	}
	data, ok := m["data"]
	if !ok {
		return fieldErr("sample", "has no data field")
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return fieldErr("sample.data", "%v", err)
	}
	if msg := it.validate(raw); msg != "" {
		return fieldErr("sample.data", "does not match the schema: %s", msg)
	}
	return nil
}

// validate checks a data value (raw JSON) against the entry's schema and
// returns "" when valid, else the first problem with its location.
func (it *catalogItem) validate(data []byte) string {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return "data is not valid JSON: " + err.Error()
	}
	err = it.schema.Validate(v)
	if err == nil {
		return ""
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	return describeValidation(ve)
}

var schemaPrinter = message.NewPrinter(language.English)

func describeValidation(ve *jsonschema.ValidationError) string {
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	loc := "data"
	for _, tok := range ve.InstanceLocation {
		loc += "." + tok
	}
	return loc + ": " + kindText(ve.ErrorKind)
}

// kindText describes a schema error without the offending value: the
// message lands in metrics-adjacent logs, reports and stored examples, which
// never hold payload values.
func kindText(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Pattern:
		return "value does not match pattern " + strconv.Quote(k.Want)
	case *kind.Format:
		return "value is not a valid " + k.Want
	}
	return k.LocalizedString(schemaPrinter)
}

// Entries returns a copy of the catalog entries, sorted by type and version.
func (c *Catalog) Entries() []Entry {
	out := append([]Entry(nil), c.entries...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].Version < out[j].Version
	})
	return out
}

// Lookup returns the entry of an event type and version ("v1", "1" and
// "1.0" are the same version). With an empty version it returns the entry
// when the type has exactly one.
func (c *Catalog) Lookup(eventType, version string) (Entry, bool) {
	it := c.item(eventType, version)
	if it == nil {
		return Entry{}, false
	}
	return *it.entry, true
}

func (c *Catalog) item(eventType, version string) *catalogItem {
	if version == "" {
		if its := c.byType[eventType]; len(its) == 1 {
			return its[0]
		}
		return nil
	}
	return c.byKey[eventType+"@"+event.NormalizeVersion(version)]
}

// ProducedBy reports whether service is a registered producer of the entry.
func (e *Entry) ProducedBy(service string) bool {
	if service == e.Producer {
		return true
	}
	for _, p := range e.Producers {
		if p == service {
			return true
		}
	}
	return false
}

// AllProducers returns the entry's registered producers, Producer first.
func (e *Entry) AllProducers() []string {
	out := []string{e.Producer}
	for _, p := range e.Producers {
		if p != e.Producer {
			out = append(out, p)
		}
	}
	return out
}

// HasType reports whether any version of an event type is registered.
func (c *Catalog) HasType(eventType string) bool { return c != nil && len(c.byType[eventType]) > 0 }

// fieldErr is an error naming the entry field at fault.
func fieldErr(field, format string, args ...any) error {
	return fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...))
}

// HasTypeVersion reports whether an event type and version is registered
// (with an empty version: whether the type has exactly one version).
func (c *Catalog) HasTypeVersion(eventType, version string) bool {
	return c != nil && c.item(eventType, version) != nil
}

// ProducedBy reports whether service is a registered producer of an event
// type and version, and whether that type and version is registered.
func (c *Catalog) ProducedBy(eventType, version, service string) (produced, registered bool) {
	if c == nil {
		return false, false
	}
	it := c.item(eventType, version)
	if it == nil {
		return false, false
	}
	return it.entry.ProducedBy(service), true
}

// Producers returns the registered producers of an event type and version,
// the main producer first (nil when it is not registered).
func (c *Catalog) Producers(eventType, version string) []string {
	if it := c.itemOrNil(eventType, version); it != nil {
		return it.entry.AllProducers()
	}
	return nil
}

// Validate checks data against the schema of an event type and version: a
// description of the first failure ("" when data is valid), the registered
// version's spelling, and whether the type and version is registered.
func (c *Catalog) Validate(eventType, version string, data []byte) (msg, registeredVersion string, registered bool) {
	it := c.itemOrNil(eventType, version)
	if it == nil {
		return "", "", false
	}
	return it.validate(data), it.entry.Version, true
}

func (c *Catalog) itemOrNil(eventType, version string) *catalogItem {
	if c == nil {
		return nil
	}
	return c.item(eventType, version)
}

// SampleJSON is the entry's sample event as JSON (nil when it has none).
func (e *Entry) SampleJSON() ([]byte, error) {
	if e.Sample == nil {
		return nil, nil
	}
	b, err := json.Marshal(normalizeYAML(e.Sample))
	if err != nil {
		return nil, fmt.Errorf("sample of %s: %w", e.Type, err)
	}
	return b, nil
}
