package catalog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Load reads an event catalog: a directory in the audit format (one entry
// per file, internal/audit) or an AsyncAPI 2.x or 3.0 document (YAML or
// JSON). Either way the result drives the catalog.* rules the same.
func Load(path string) (*Catalog, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load catalog: %w", err)
	}
	if fi.IsDir() {
		return LoadDir(path)
	}
	entries, err := LoadAsyncAPI(path)
	if err != nil {
		return nil, err
	}
	cat, err := New(entries)
	if err != nil {
		return nil, fmt.Errorf("load catalog %s: %w", filepath.Base(path), err)
	}
	return cat, nil
}

// LoadAsyncAPI reads an AsyncAPI document file as catalog entries; $refs
// into the document and into local files next to it are resolved.
func LoadAsyncAPI(path string) ([]Entry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load catalog: %w", err)
	}
	entries, err := parseAsyncAPI(data, filepath.Base(path), filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("load catalog %s: %w", filepath.Base(path), err)
	}
	return entries, nil
}

// ParseAsyncAPI reads an AsyncAPI 2.x or 3.0 document (YAML or JSON) as
// catalog entries: each message is an event type and version with the
// schema of its data; send operations (2.x: subscribe) give its producer,
// receive operations (2.x: publish) its expected consumer groups. Only
// references inside the document are resolved. Errors name the document
// path, e.g. "components.messages.BookPublished.payload: must be an object".
func ParseAsyncAPI(data []byte) ([]Entry, error) {
	return parseAsyncAPI(data, "document", "")
}

func parseAsyncAPI(data []byte, name, dir string) ([]Entry, error) {
	return parseDocumentEntries(data, name, dir, false)
}

func parseDocumentEntries(data []byte, name, dir string, unversioned bool) ([]Entry, error) {
	root, err := parseDocument(name, data)
	if err != nil {
		return nil, err
	}
	m, ok := root.(map[string]any)
	if !ok {
		return nil, errors.New("document: must be an object (an AsyncAPI document)")
	}
	p := &parser{r: &refs{dir: dir, docs: map[string]any{"": root}}, root: m, msgs: map[string]*msgInfo{}, chans: map[string]*chanInfo{}, unversioned: unversioned}
	ver, _ := m["asyncapi"].(string)
	switch {
	case strings.HasPrefix(ver, "3."):
		err = p.v3()
	case strings.HasPrefix(ver, "2."):
		err = p.v2()
	default:
		err = &PathError{"asyncapi", fmt.Errorf("version %q is not supported (2.x or 3.0)", ver)}
	}
	if err != nil {
		return nil, err
	}
	if err := p.components(); err != nil {
		return nil, err
	}
	return p.entries()
}

// parser gathers messages, their topics, producers and consumers.
type parser struct {
	r     *refs
	root  map[string]any
	msgs  map[string]*msgInfo // by canonical location
	order []string            // canonical locations, in discovery order
	chans map[string]*chanInfo
	// unversioned keeps the messages of types seen without a version
	// (SeenEntries); a catalog leaves them out.
	unversioned bool
}

// msgInfo is one message and what the operations say about it.
type msgInfo struct {
	path       string // document path of the definition, for errors
	schemaPath string // document path of its data schema
	obj        map[string]any
	loc        string
	topics     []string
	producers  []string
	consumers  []string
}

// chanInfo is one channel: its topic and messages.
type chanInfo struct {
	topic string
	msgs  []*msgInfo
}

// message registers the message v (at location at, document path path)
// as carried on topic ("" for none).
func (p *parser) message(v any, at, path, topic string) (*msgInfo, error) {
	obj, loc, err := p.r.follow(v, at)
	if err != nil {
		return nil, pathErr(path, err)
	}
	mi := p.msgs[loc]
	if mi == nil {
		mi = &msgInfo{path: docPath(loc, path), obj: obj, loc: loc}
		p.msgs[loc] = mi
		p.order = append(p.order, loc)
	}
	if topic != "" {
		mi.topics = appendUnique(mi.topics, topic)
	}
	return mi, nil
}

// components registers the messages under components.messages that no
// channel carries.
func (p *parser) components() error {
	comps, _ := p.root["components"].(map[string]any)
	msgs, _ := comps["messages"].(map[string]any)
	for _, k := range sortedKeys(msgs) {
		if _, err := p.message(msgs[k], "#/components/messages/"+escapePtr(k), "components.messages."+k, ""); err != nil {
			return err
		}
	}
	return nil
}

// docPath is the dotted document path of a canonical location in the main
// document, or fallback for one in another file.
func docPath(loc, fallback string) string {
	file, ptr, _ := strings.Cut(loc, "#")
	if file != "" || ptr == "" {
		return fallback
	}
	parts := strings.Split(ptr[1:], "/")
	for i, s := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return strings.Join(parts, ".")
}

func escapePtr(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// kafkaTopic is the topic a channel names: its Kafka binding's topic, else
// fallback.
func (p *parser) kafkaTopic(ch map[string]any, at, fallback string) string {
	b, err := p.binding(ch, at)
	if err == nil {
		if t, ok := b["topic"].(string); ok && t != "" {
			return t
		}
	}
	return fallback
}

// binding returns the Kafka binding of an object with bindings (nil when
// it has none).
func (p *parser) binding(obj map[string]any, at string) (map[string]any, error) {
	bs, ok := obj["bindings"]
	if !ok {
		return nil, nil
	}
	bm, _, err := p.r.follow(bs, at+"/bindings")
	if err != nil {
		return nil, err
	}
	k, ok := bm["kafka"]
	if !ok {
		return nil, nil
	}
	km, _, err := p.r.follow(k, at+"/bindings/kafka")
	return km, err
}

// service is the producing service an operation names: x-eventwatch-service,
// else the values of its Kafka binding's clientId schema.
func (p *parser) service(op map[string]any, at string) []string {
	if s, ok := op["x-eventwatch-service"].(string); ok && s != "" {
		return []string{s}
	}
	return p.bindingValues(op, at, "clientId")
}

// groups are the consumer groups an operation names:
// x-eventwatch-consumer-group, else the values of its Kafka binding's
// groupId schema, else its x-eventwatch-service.
func (p *parser) groups(op map[string]any, at string) []string {
	if s, ok := op["x-eventwatch-consumer-group"].(string); ok && s != "" {
		return []string{s}
	}
	if g := p.bindingValues(op, at, "groupId"); len(g) > 0 {
		return g
	}
	if s, ok := op["x-eventwatch-service"].(string); ok && s != "" {
		return []string{s}
	}
	return nil
}

// bindingValues are the const or enum strings of a Kafka operation
// binding's schema member (clientId, groupId).
func (p *parser) bindingValues(op map[string]any, at, member string) []string {
	b, err := p.binding(op, at)
	if err != nil || b == nil {
		return nil
	}
	s, _, err := p.r.follow(b[member], at+"/bindings/kafka/"+member)
	if err != nil {
		return nil
	}
	return constStrings(s)
}

// constStrings are the strings a schema allows by const or enum.
func constStrings(s map[string]any) []string {
	if c, ok := s["const"].(string); ok {
		return []string{c}
	}
	var out []string
	list, _ := s["enum"].([]any)
	for _, v := range list {
		if str, ok := v.(string); ok {
			out = append(out, str)
		}
	}
	return out
}

func (p *parser) produce(mi *msgInfo, services []string) {
	for _, s := range services {
		mi.producers = appendUnique(mi.producers, s)
	}
}

func (p *parser) consume(mi *msgInfo, groups []string) {
	for _, g := range groups {
		mi.consumers = appendUnique(mi.consumers, g)
	}
}

// sortedMsgs returns the messages in discovery order.
func (p *parser) sortedMsgs() []*msgInfo {
	out := make([]*msgInfo, 0, len(p.order))
	for _, loc := range p.order {
		out = append(out, p.msgs[loc])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}
