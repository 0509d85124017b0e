package catalog

import "fmt"

// v3 reads an AsyncAPI 3.0 document's channels and operations.
func (p *parser) v3() error {
	chans, err := p.section("channels")
	if err != nil {
		return err
	}
	for _, k := range sortedKeys(chans) {
		if err := p.channel3(chans[k], k); err != nil {
			return err
		}
	}
	ops, err := p.section("operations")
	if err != nil {
		return err
	}
	for _, k := range sortedKeys(ops) {
		if err := p.operation3(ops[k], k); err != nil {
			return err
		}
	}
	return nil
}

// section returns a top-level map member (nil when absent).
func (p *parser) section(name string) (map[string]any, error) {
	v, ok := p.root[name]
	if !ok || v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &PathError{name, fmt.Errorf("must be an object")}
	}
	return m, nil
}

func (p *parser) channel3(v any, key string) error {
	path := "channels." + key
	ch, loc, err := p.r.follow(v, "#/channels/"+escapePtr(key))
	if err != nil {
		return pathErr(path, err)
	}
	topic := key
	if a, ok := ch["address"].(string); ok && a != "" {
		topic = a
	}
	ci := &chanInfo{topic: p.kafkaTopic(ch, loc, topic)}
	p.chans[loc] = ci
	msgs, ok := ch["messages"].(map[string]any)
	if !ok && ch["messages"] != nil {
		return &PathError{path + ".messages", fmt.Errorf("must be an object")}
	}
	for _, mk := range sortedKeys(msgs) {
		mi, err := p.message(msgs[mk], loc+"/messages/"+escapePtr(mk), path+".messages."+mk, ci.topic)
		if err != nil {
			return err
		}
		ci.msgs = append(ci.msgs, mi)
	}
	return nil
}

func (p *parser) operation3(v any, key string) error {
	path := "operations." + key
	op, loc, err := p.r.follow(v, "#/operations/"+escapePtr(key))
	if err != nil {
		return pathErr(path, err)
	}
	action, _ := op["action"].(string)
	if action != "send" && action != "receive" {
		return &PathError{path + ".action", fmt.Errorf("must be send or receive, not %q", action)}
	}
	_, chLoc, err := p.r.follow(op["channel"], loc+"/channel")
	if err != nil {
		return pathErr(path+".channel", err)
	}
	ci := p.chans[chLoc]
	if ci == nil {
		return &PathError{path + ".channel", fmt.Errorf("does not refer to a channel of channels")}
	}
	msgs, err := p.operationMessages(op, loc, path, ci)
	if err != nil {
		return err
	}
	for _, mi := range msgs {
		if action == "send" {
			p.produce(mi, p.service(op, loc))
		} else {
			p.consume(mi, p.groups(op, loc))
		}
	}
	return nil
}

// operationMessages are the messages a 3.0 operation lists, or all of its
// channel's when it lists none.
func (p *parser) operationMessages(op map[string]any, loc, path string, ci *chanInfo) ([]*msgInfo, error) {
	list, ok := op["messages"].([]any)
	if !ok {
		if op["messages"] != nil {
			return nil, &PathError{path + ".messages", fmt.Errorf("must be a list")}
		}
		return ci.msgs, nil
	}
	out := make([]*msgInfo, 0, len(list))
	for i, m := range list {
		mi, err := p.message(m, fmt.Sprintf("%s/messages/%d", loc, i), fmt.Sprintf("%s.messages[%d]", path, i), ci.topic)
		if err != nil {
			return nil, err
		}
		out = append(out, mi)
	}
	return out, nil
}

// v2 reads an AsyncAPI 2.x document's channels: per the 2.x
// specification, a channel's subscribe operation is what the application
// sends (its producers) and publish what it receives (its consumers).
func (p *parser) v2() error {
	chans, err := p.section("channels")
	if err != nil {
		return err
	}
	for _, k := range sortedKeys(chans) {
		path := "channels." + k
		ch, loc, err := p.r.follow(chans[k], "#/channels/"+escapePtr(k))
		if err != nil {
			return pathErr(path, err)
		}
		topic := p.kafkaTopic(ch, loc, k)
		for _, action := range []string{"subscribe", "publish"} {
			if ch[action] == nil {
				continue
			}
			if err := p.operation2(ch[action], loc+"/"+action, path+"."+action, action, topic); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *parser) operation2(v any, at, path, action, topic string) error {
	op, loc, err := p.r.follow(v, at)
	if err != nil {
		return pathErr(path, err)
	}
	if op["message"] == nil {
		return &PathError{path + ".message", fmt.Errorf("is required")}
	}
	msg, mloc, err := p.r.follow(op["message"], loc+"/message")
	if err != nil {
		return pathErr(path+".message", err)
	}
	refs := []any{op["message"]}
	ats, paths := []string{loc + "/message"}, []string{path + ".message"}
	if one, ok := msg["oneOf"].([]any); ok {
		refs, ats, paths = one, nil, nil
		for i := range one {
			ats = append(ats, fmt.Sprintf("%s/oneOf/%d", mloc, i))
			paths = append(paths, fmt.Sprintf("%s.message.oneOf[%d]", path, i))
		}
	}
	for i, r := range refs {
		mi, err := p.message(r, ats[i], paths[i], topic)
		if err != nil {
			return err
		}
		if action == "subscribe" {
			p.produce(mi, p.service(op, loc))
		} else {
			p.consume(mi, p.groups(op, loc))
		}
	}
	return nil
}
