package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/eventwatch/eventwatch/internal/topology"
)

// AsyncAPIVersion is the AsyncAPI version of discovered documents.
const AsyncAPIVersion = "3.0.0"

// kafkaBindingVersion is the version of the Kafka bindings written.
const kafkaBindingVersion = "0.5.0"

// Document is an AsyncAPI 3.0 document. Its top-level members are kept in
// the order the specification lists them; everything below is plain maps
// (encoded with sorted keys, so output is deterministic).
type Document struct {
	AsyncAPI           string         `yaml:"asyncapi" json:"asyncapi"`
	Info               map[string]any `yaml:"info" json:"info"`
	DefaultContentType string         `yaml:"defaultContentType" json:"defaultContentType"`
	Channels           map[string]any `yaml:"channels" json:"channels"`
	Operations         map[string]any `yaml:"operations" json:"operations"`
	Components         map[string]any `yaml:"components" json:"components"`
}

// YAML encodes the document as YAML.
func (d *Document) YAML() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("encode asyncapi yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode asyncapi yaml: %w", err)
	}
	return buf.Bytes(), nil
}

// JSON encodes the document as indented JSON.
func (d *Document) JSON() ([]byte, error) {
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode asyncapi json: %w", err)
	}
	return append(out, '\n'), nil
}

// Estate is what discovery describes: the learned traffic and, when the
// lag collector has run, the cluster's topics and consumer groups.
type Estate struct {
	State   State    // learned traffic, merged across replicas
	Cluster *Cluster // nil when no lag collection cycle is known
	// Profile names the standard the events follow; DataPath and
	// CorrelationPath are the profile's data and correlation-id fields.
	Profile         string
	DataPath        string
	CorrelationPath string
	Generated       time.Time // when the document is built
	Version         string    // eventwatch version, for info
	// Readers names, per type and version, the consumer groups whose
	// committed offsets passed one of its events (internal/readers); nil
	// when not known. A group's receive operation then lists only the
	// messages it reads, not every message of the channel.
	Readers map[ReadKey][]string
}

// ReadKey is an event type and version in Estate.Readers.
type ReadKey struct{ Type, Version string }

// builder holds the ids assigned while a document is built.
type builder struct {
	e        *Estate
	doc      *Document
	msgID    map[typeKey]string
	msgKey   map[string]typeKey // message id -> type and version
	used     map[string]bool
	channels map[string]*channelInfo // by topic
}

type channelInfo struct {
	id       string
	topic    string
	messages []string // message ids, sorted
	records  *TopicState
	config   *topology.Topic
}

// Discover builds the AsyncAPI 3.0 document of an estate: a channel per
// topic with its Kafka binding, a message per (type, version) with the
// inferred schemas, a send operation per producing service and a receive
// operation per consumer group, and compliance facts as x-eventwatch-*
// extensions.
func Discover(e *Estate) *Document {
	b := &builder{e: e, msgID: map[typeKey]string{}, msgKey: map[string]typeKey{}, used: map[string]bool{}, channels: map[string]*channelInfo{}}
	b.doc = &Document{AsyncAPI: AsyncAPIVersion, Info: b.info(), DefaultContentType: "application/json",
		Channels: map[string]any{}, Operations: map[string]any{}}
	messages, schemas := map[string]any{}, map[string]any{}
	b.addTopics()
	for i := range e.State.Types {
		t := &e.State.Types[i]
		id := b.messageID(t)
		messages[id] = b.message(t, id)
		schemas[id+".data"] = t.Value.Lookup(b.dataPath(t)).Schema()
		for topic := range t.Topics {
			b.channels[topic].messages = append(b.channels[topic].messages, id)
		}
	}
	for _, c := range b.channels {
		sort.Strings(c.messages)
		b.doc.Channels[c.id] = b.channelDoc(c)
	}
	b.sendOperations()
	b.receiveOperations()
	b.doc.Components = map[string]any{"messages": messages, "schemas": schemas}
	return b.doc
}

func (b *builder) info() map[string]any {
	info := map[string]any{
		"title":   "Observed event estate",
		"version": b.e.Generated.UTC().Format("2006.01.02-150405"),
		"description": "The event estate as eventwatch observed it: the topics, event types and versions, " +
			"producing services and consumer groups seen in live traffic, with data schemas inferred from the events " +
			"(required = present in every sampled event). Compliance facts are x-eventwatch-* extensions; no payload value is included.",
		"x-eventwatch-generated-at": b.e.Generated.UTC().Format(time.RFC3339),
	}
	if b.e.Profile != "" {
		info["x-eventwatch-profile"] = b.e.Profile
	}
	if b.e.Version != "" {
		info["x-eventwatch-version"] = b.e.Version
	}
	return info
}

// addTopics creates a channel for every topic seen in traffic or listed
// by the cluster (internal ones excepted), in name order so ids are
// stable, with its record counts and configuration.
func (b *builder) addTopics() {
	set := map[string]bool{}
	for _, t := range b.e.State.Types {
		for topic := range t.Topics {
			set[topic] = true
		}
	}
	for _, t := range b.e.State.Topics {
		set[t.Topic] = true
	}
	if cl := b.e.Cluster; cl != nil {
		for _, t := range cl.Topics {
			if !strings.HasPrefix(t.Topic, "__") {
				set[t.Topic] = true
			}
		}
	}
	for _, topic := range sortedKeys(set) {
		b.channels[topic] = &channelInfo{id: b.unique(sanitizeID(topic)), topic: topic}
	}
	if cl := b.e.Cluster; cl != nil {
		for i := range cl.Topics {
			if c := b.channels[cl.Topics[i].Topic]; c != nil {
				c.config = &cl.Topics[i]
			}
		}
	}
	for i := range b.e.State.Topics {
		b.channels[b.e.State.Topics[i].Topic].records = &b.e.State.Topics[i]
	}
}

// messageID is the component key of a (type, version): "<type>.v<version>"
// unless the type name already ends in its version.
func (b *builder) messageID(t *TypeState) string {
	id := t.Type
	if v := strings.TrimPrefix(t.Version, "v"); v != "" && !strings.HasSuffix(id, ".v"+v) {
		id += ".v" + v
	}
	id = b.unique(sanitizeID(id))
	b.msgID[typeKey{t.Type, t.Version}] = id
	b.msgKey[id] = typeKey{t.Type, t.Version}
	return id
}

func (b *builder) unique(id string) string {
	base := id
	for n := 2; b.used[id]; n++ {
		id = base + "-" + strconv.Itoa(n)
	}
	b.used[id] = true
	return id
}

// sanitizeID maps a name onto the characters AsyncAPI allows in component
// keys ([A-Za-z0-9._-]).
func sanitizeID(s string) string {
	out := []byte(s)
	for i, c := range out {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			out[i] = '_'
		}
	}
	if len(out) == 0 {
		return "_"
	}
	return string(out)
}

func (b *builder) channelDoc(c *channelInfo) map[string]any {
	ch := map[string]any{"address": c.topic}
	msgs := map[string]any{}
	for _, id := range c.messages {
		msgs[id] = ref("#/components/messages/" + id)
	}
	ch["messages"] = msgs
	if c.config != nil {
		ch["bindings"] = map[string]any{"kafka": kafkaChannelBinding(c.config)}
	}
	if c.records != nil {
		ch["x-eventwatch-records"] = c.records.Records
		ch["x-eventwatch-first-seen"] = stamp(c.records.FirstSeen)
		ch["x-eventwatch-last-seen"] = stamp(c.records.LastSeen)
	}
	return ch
}

// kafkaChannelBinding is the Kafka channel binding of a topic: what the
// admin API said about its partitions, replicas and configuration.
func kafkaChannelBinding(t *topology.Topic) map[string]any {
	kb := map[string]any{"bindingVersion": kafkaBindingVersion, "topic": t.Topic}
	if t.Partitions > 0 {
		kb["partitions"] = t.Partitions
	}
	if t.Replicas > 0 {
		kb["replicas"] = t.Replicas
	}
	cfg := map[string]any{}
	if t.RetentionMS != 0 {
		cfg["retention.ms"] = t.RetentionMS
	}
	if pol := cleanupPolicies(t.CleanupPolicy); len(pol) > 0 {
		cfg["cleanup.policy"] = pol
	}
	if len(cfg) > 0 {
		kb["topicConfiguration"] = cfg
	}
	return kb
}

func cleanupPolicies(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "compact" || p == "delete" {
			out = append(out, p)
		}
	}
	return out
}

func ref(to string) map[string]any { return map[string]any{"$ref": to} }

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// percent is 100*n/d rounded to two decimals (100 when d is 0).
func percent(n, d int64) float64 {
	if d == 0 {
		return 100
	}
	return math.Round(10000*float64(n)/float64(d)) / 100
}
