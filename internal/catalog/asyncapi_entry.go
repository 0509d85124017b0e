package catalog

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Where a hand-written payload usually keeps the event type and version;
// the x-eventwatch-type and x-eventwatch-version extensions take
// precedence.
var (
	typePaths    = []string{"event_type", "type", "meta.type", "meta.event_type"}
	versionPaths = []string{"event_version", "version", "meta.version", "meta.event_version"}
	typeVersion  = regexp.MustCompile(`\.v(\d+)$`)
)

// ErrNoMessages is the error of a document without any message: it
// declares no event type, so it is no catalog.
var ErrNoMessages = errors.New("document: no messages (channels.*.messages or components.messages)")

// errUnversioned marks a message discovery wrote for a type seen without
// any version (x-eventwatch-version: ""): no catalog entry, since a
// registered type has a version, but an observed type all the same.
var errUnversioned = errors.New("seen without a version")

// entries turns every message into a catalog entry and checks each one as
// the directory loader does (schema compiles, sample validates), naming
// the message's path on a problem.
func (p *parser) entries() (out []Entry, err error) {
	if len(p.msgs) == 0 {
		return nil, ErrNoMessages
	}
	defer func() {
		if len(out) == 0 && err == nil {
			err = ErrNoMessages
		}
	}()
	for _, mi := range p.sortedMsgs() {
		e, err := p.entry(mi)
		if err != nil {
			return nil, err
		}
		if e.Version == "" {
			if p.unversioned {
				out = append(out, e)
			}
			continue
		}
		if _, err := New([]Entry{e}); err != nil {
			return nil, entryError(mi, err)
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Type+"@"+out[i].Version < out[j].Type+"@"+out[j].Version })
	return out, nil
}

// entryError names the document path of a problem the catalog found in
// an entry: the data schema, the example, or the message.
func entryError(mi *msgInfo, err error) error {
	if inner := errors.Unwrap(err); inner != nil {
		err = inner
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "schema: "):
		return &PathError{mi.schemaPath, errors.New(strings.TrimPrefix(msg, "schema: "))}
	case strings.HasPrefix(msg, "sample"):
		_, rest, _ := strings.Cut(msg, ": ")
		return &PathError{mi.path + ".examples[0].payload", errors.New(rest)}
	}
	return &PathError{mi.path, err}
}

func (p *parser) entry(mi *msgInfo) (Entry, error) {
	m := mi.obj
	payload, payloadLoc, err := p.payload(mi)
	if err != nil {
		return Entry{}, err
	}
	e := Entry{File: mi.path, Description: firstString(m, "description", "summary", "title")}
	e.Type = firstString(m, "x-eventwatch-type")
	if e.Type == "" {
		e.Type = p.payloadConst(payload, payloadLoc, typePaths)
	}
	if e.Type == "" {
		e.Type = firstString(m, "name")
	}
	if e.Type == "" {
		return e, &PathError{mi.path, errors.New("no event type (x-eventwatch-type, a const type in the payload, or name)")}
	}
	if e.Version, err = p.version(mi, payload, payloadLoc, e.Type); err != nil && !errors.Is(err, errUnversioned) {
		return e, err
	}
	if e.Producers, err = producers(mi); err != nil {
		return e, err
	}
	e.Producer = e.Producers[0]
	e.Consumers = append([]string(nil), mi.consumers...)
	sort.Strings(e.Consumers)
	if len(mi.topics) == 1 {
		e.Topic = mi.topics[0]
	}
	if e.Schema, err = p.dataSchema(mi, payload, payloadLoc); err != nil {
		return e, err
	}
	e.Sample = p.sample(mi)
	return e, nil
}

func firstString(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := m[k].(string); ok && strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

func (p *parser) version(mi *msgInfo, payload map[string]any, loc, typ string) (string, error) {
	switch v := mi.obj["x-eventwatch-version"].(type) {
	case string:
		if v != "" {
			return v, nil
		}
		return "", errUnversioned
	case int, float64:
		return fmt.Sprint(v), nil
	case nil:
	default:
		return "", &PathError{mi.path + ".x-eventwatch-version", errors.New("must be a string")}
	}
	if v := p.payloadConst(payload, loc, versionPaths); v != "" {
		return v, nil
	}
	if m := typeVersion.FindStringSubmatch(typ); m != nil {
		return m[1], nil
	}
	return "", &PathError{mi.path, errors.New("no event version (x-eventwatch-version, a const version in the payload, or a type name ending in .vN)")}
}

// producers are the services the document registers as producers of a
// message: x-eventwatch-producer, else the services of its send
// operations, sorted.
func producers(mi *msgInfo) ([]string, error) {
	if s := firstString(mi.obj, "x-eventwatch-producer"); s != "" {
		return []string{s}, nil
	}
	if len(mi.producers) == 0 {
		return nil, &PathError{mi.path, errors.New("no producer (a send operation with x-eventwatch-service or a Kafka clientId, or x-eventwatch-producer)")}
	}
	ps := append([]string(nil), mi.producers...)
	sort.Strings(ps)
	return ps, nil
}

// payload returns the message's payload schema (unwrapping a 3.0 multi
// format schema) and its location.
func (p *parser) payload(mi *msgInfo) (map[string]any, string, error) {
	path := mi.path + ".payload"
	if mi.obj["payload"] == nil {
		return nil, "", &PathError{path, errors.New("is required")}
	}
	s, loc, err := p.r.follow(mi.obj["payload"], mi.loc+"/payload")
	if err != nil {
		return nil, "", pathErr(path, err)
	}
	if f, ok := s["schemaFormat"].(string); ok {
		lf := strings.ToLower(f)
		if !strings.Contains(lf, "schema+json") && !strings.Contains(lf, "schema+yaml") && !strings.Contains(lf, "asyncapi") {
			return nil, "", &PathError{path + ".schemaFormat", fmt.Errorf("%q is not supported (JSON Schema or the AsyncAPI schema only)", f)}
		}
		if s, loc, err = p.r.follow(s["schema"], loc+"/schema"); err != nil {
			return nil, "", pathErr(path+".schema", err)
		}
	}
	return s, loc, nil
}

// member returns the schema of the member at a dotted path of an object
// schema (following $refs and looking into allOf), or nil.
func (p *parser) member(s map[string]any, loc, path string) (map[string]any, string) {
	if path == "" {
		return s, loc
	}
	for _, part := range splitPath(path) {
		if s, loc = p.property(s, loc, part, 0); s == nil {
			return nil, ""
		}
	}
	return s, loc
}

// property finds member name in s's properties or in those of its allOf
// schemas.
func (p *parser) property(s map[string]any, loc, name string, depth int) (map[string]any, string) {
	if props, ok := s["properties"].(map[string]any); ok && props[name] != nil {
		next, nloc, err := p.r.follow(props[name], loc+"/properties/"+escapePtr(name))
		if err == nil {
			return next, nloc
		}
	}
	all, _ := s["allOf"].([]any)
	if depth >= maxRefHops {
		return nil, ""
	}
	for i, sub := range all {
		m, mloc, err := p.r.follow(sub, fmt.Sprintf("%s/allOf/%d", loc, i))
		if err != nil {
			continue
		}
		if found, floc := p.property(m, mloc, name, depth+1); found != nil {
			return found, floc
		}
	}
	return nil, ""
}

// payloadConst is the single string the payload allows at the first of
// paths that has one (const or a one-value enum, also inside allOf).
func (p *parser) payloadConst(payload map[string]any, loc string, paths []string) string {
	for _, path := range paths {
		if v := p.findConst(payload, loc, splitPath(path), 0); v != "" {
			return v
		}
	}
	return ""
}

func (p *parser) findConst(s map[string]any, loc string, parts []string, depth int) string {
	if depth > maxRefHops {
		return ""
	}
	if len(parts) == 0 {
		if v := constStrings(s); len(v) == 1 {
			return v[0]
		}
	} else if props, ok := s["properties"].(map[string]any); ok && props[parts[0]] != nil {
		if next, nloc, err := p.r.follow(props[parts[0]], loc+"/properties/"+escapePtr(parts[0])); err == nil {
			if v := p.findConst(next, nloc, parts[1:], depth+1); v != "" {
				return v
			}
		}
	}
	all, _ := s["allOf"].([]any)
	for i, sub := range all {
		if m, mloc, err := p.r.follow(sub, fmt.Sprintf("%s/allOf/%d", loc, i)); err == nil {
			if v := p.findConst(m, mloc, parts, depth+1); v != "" {
				return v
			}
		}
	}
	return ""
}

// dataPath is where the message's data sits in the payload:
// x-eventwatch-data-path, else "data" when the payload has such a member,
// else the payload is the data.
func (p *parser) dataPath(mi *msgInfo, payload map[string]any, loc string) (string, error) {
	if v, ok := mi.obj["x-eventwatch-data-path"]; ok {
		s, isStr := v.(string)
		if !isStr {
			return "", &PathError{mi.path + ".x-eventwatch-data-path", errors.New("must be a string")}
		}
		return s, nil
	}
	if s, _ := p.member(payload, loc, "data"); s != nil {
		return "data", nil
	}
	return "", nil
}

func (p *parser) dataSchema(mi *msgInfo, payload map[string]any, loc string) (any, error) {
	dp, err := p.dataPath(mi, payload, loc)
	if err != nil {
		return nil, err
	}
	s, sloc := p.member(payload, loc, dp)
	path := mi.path + ".payload"
	if dp != "" {
		path += ".properties." + strings.ReplaceAll(dp, ".", ".properties.")
	}
	mi.schemaPath = path
	if s == nil {
		return nil, &PathError{path, errors.New("no schema at the data path " + dp)}
	}
	p.r.stack = append(p.r.stack[:0], sloc) // the data schema itself may be a $ref target
	v, err := p.r.inline(s, sloc, path)
	p.r.stack = p.r.stack[:0]
	if err != nil {
		return nil, err
	}
	schema := v.(map[string]any)
	if _, ok := schema["$schema"]; !ok {
		schema["$schema"] = "http://json-schema.org/draft-07/schema#" // the AsyncAPI schema's base
	}
	return schema, nil
}

// sample is the payload of the message's first example when it is a full
// event with a data member (what the directory format's sample is).
func (p *parser) sample(mi *msgInfo) any {
	list, _ := mi.obj["examples"].([]any)
	if len(list) == 0 {
		return nil
	}
	ex, _, err := p.r.follow(list[0], mi.loc+"/examples/0")
	if err != nil {
		return nil
	}
	pl, err := p.r.inline(ex["payload"], mi.loc+"/examples/0/payload", mi.path+".examples[0].payload")
	if err != nil {
		return nil
	}
	if m, ok := pl.(map[string]any); ok && m["data"] != nil {
		return m
	}
	return nil
}
