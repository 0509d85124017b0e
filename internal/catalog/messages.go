package catalog

import (
	"slices"
	"sort"
	"strconv"
	"strings"
)

// message is the components.messages entry of one (type, version).
func (b *builder) message(t *TypeState, id string) map[string]any {
	m := map[string]any{
		"name":        t.Type,
		"title":       t.Type + " " + t.Version,
		"summary":     b.summary(t),
		"contentType": "application/json",
		"payload":     b.payload(t, id),
		"examples": []any{map[string]any{"name": "redacted",
			"summary": "The shape of an observed event with every value replaced by a placeholder of its type.",
			"payload": t.Value.Example()}},
		"x-eventwatch-type":               t.Type,
		"x-eventwatch-version":            t.Version,
		"x-eventwatch-data-path":          b.dataPath(t),
		"x-eventwatch-checked":            t.Checked,
		"x-eventwatch-compliant":          t.Compliant,
		"x-eventwatch-compliance-percent": percent(t.Compliant, t.Checked),
		"x-eventwatch-sampled":            t.Sampled,
		"x-eventwatch-first-seen":         stamp(t.FirstSeen),
		"x-eventwatch-last-seen":          stamp(t.LastSeen),
		"x-eventwatch-producers":          sortedKeys(t.Producers),
	}
	if role := t.Keys.Role(); role != "" {
		m["x-eventwatch-key-role"] = role
	}
	if ids := schemaIDs(t.SchemaIDs); len(ids) > 0 {
		m["x-eventwatch-schema-ids"] = ids
	}
	m["bindings"] = map[string]any{"kafka": b.messageBinding(t)}
	if p := b.e.CorrelationPath; p != "" && t.Value.Lookup(p) != nil {
		m["correlationId"] = map[string]any{"location": "$message.payload#/" + strings.ReplaceAll(p, ".", "/")}
	}
	return m
}

func (b *builder) summary(t *TypeState) string {
	return strconv.FormatInt(t.Checked, 10) + " events checked, " +
		strconv.FormatFloat(percent(t.Compliant, t.Checked), 'f', -1, 64) + "% compliant"
}

// dataPath is where a type's data sits: its profile's data field, else the
// estate's.
func (b *builder) dataPath(t *TypeState) string {
	if t.DataPath != "" {
		return t.DataPath
	}
	return b.e.DataPath
}

// payload is the schema of the whole event with the data member pointing
// at the data schema in components.schemas.
func (b *builder) payload(t *TypeState, id string) map[string]any {
	env := t.Value.Schema()
	dp := b.dataPath(t)
	if dp == "" || t.Value.Lookup(dp) == nil {
		return env
	}
	node := env
	parts := splitPath(dp)
	for i, part := range parts {
		props, _ := node["properties"].(map[string]any)
		child, _ := props[part].(map[string]any)
		if child == nil {
			return env
		}
		if i == len(parts)-1 {
			props[part] = ref("#/components/schemas/" + id + ".data")
			break
		}
		node = child
	}
	return env
}

// messageBinding is the Kafka message binding: the key's schema (a string
// when every sampled event had a key) and, for values framed for the
// Confluent Schema Registry, where the schema id is.
func (b *builder) messageBinding(t *TypeState) map[string]any {
	kb := map[string]any{"bindingVersion": kafkaBindingVersion}
	switch role := t.Keys.Role(); role {
	case "", KeyNone:
	default:
		key := map[string]any{"type": "string", "description": keyDescription(role)}
		kb["key"] = key
	}
	if len(t.SchemaIDs) > 0 {
		kb["schemaIdLocation"] = "payload"
		kb["schemaIdPayloadEncoding"] = "confluent"
	}
	return kb
}

func keyDescription(role string) string {
	switch role {
	case KeyEventID:
		return "The record key is the event id."
	case KeyCorrelationID:
		return "The record key is the correlation id."
	case KeyOpaque:
		return "The record key matches no envelope or data field."
	}
	return "The record key is " + role + " (the resource the event is about)."
}

func schemaIDs(m map[string]int64) []int64 {
	var out []int64
	for k := range m {
		if id, err := strconv.ParseInt(k, 10, 64); err == nil {
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// sendOperations adds one send operation per (producing service, channel)
// with the messages that service produces there.
func (b *builder) sendOperations() {
	type sendKey struct{ service, topic string }
	sends := map[sendKey][]string{}
	for i := range b.e.State.Types {
		t := &b.e.State.Types[i]
		id := b.msgID[typeKey{t.Type, t.Version}]
		for svc := range t.Producers {
			for topic := range t.Topics {
				k := sendKey{svc, topic}
				sends[k] = append(sends[k], id)
			}
		}
	}
	keys := make([]sendKey, 0, len(sends))
	for k := range sends {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].service < keys[j].service || keys[i].service == keys[j].service && keys[i].topic < keys[j].topic
	})
	for _, k := range keys {
		ids, c := sends[k], b.channels[k.topic]
		sort.Strings(ids)
		op := b.operation("send", c, ids)
		op["summary"] = k.service + " publishes to " + k.topic
		op["x-eventwatch-service"] = k.service
		b.doc.Operations[b.unique(sanitizeID("send."+k.service+"."+c.id))] = op
	}
}

// receiveOperations adds one receive operation per consumer group that
// has committed offsets on a channel's topic (from the lag collector).
func (b *builder) receiveOperations() {
	if b.e.Cluster == nil {
		return
	}
	for _, g := range b.e.Cluster.Groups {
		for _, topic := range g.Topics {
			c := b.channels[topic]
			if c == nil {
				continue
			}
			op := b.operation("receive", c, b.readBy(g.Group, c.messages))
			op["summary"] = "consumer group " + g.Group + " reads " + topic
			op["x-eventwatch-consumer-group"] = g.Group
			op["bindings"] = map[string]any{"kafka": map[string]any{"bindingVersion": kafkaBindingVersion,
				"groupId": map[string]any{"type": "string", "enum": []string{g.Group}}}}
			b.doc.Operations[b.unique(sanitizeID("receive."+g.Group+"."+c.id))] = op
		}
	}
}

// readBy narrows a channel's messages to those group read (Estate.Readers);
// all of them when what it read is not known.
func (b *builder) readBy(group string, ids []string) []string {
	if b.e.Readers == nil {
		return ids
	}
	var out []string
	for _, id := range ids {
		k := b.msgKey[id]
		if slices.Contains(b.e.Readers[ReadKey{k.typ, k.version}], group) {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return ids
	}
	return out
}

func (b *builder) operation(action string, c *channelInfo, ids []string) map[string]any {
	op := map[string]any{"action": action, "channel": ref("#/channels/" + c.id)}
	msgs := make([]any, 0, len(ids))
	for _, id := range ids {
		msgs = append(msgs, ref("#/channels/"+c.id+"/messages/"+id))
	}
	op["messages"] = msgs
	return op
}
