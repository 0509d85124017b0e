package lag

import (
	"bytes"
	"fmt"
	"sync"
)

// Every lag test checks, on every snapshot any collector publishes, the
// promise the share path rests on (template.go): a group's template
// rendered at the snapshot's time is its page JSON byte for byte, and a
// group whose facts did not change since the previous snapshot renders
// from the previous template exactly as it does now.
func init() { checkSnapshot = checkTemplates }

var previous sync.Map // *Collector -> map[string]prevGroup

type prevGroup struct {
	g   GroupLag
	tpl []byte
}

func checkTemplates(c *Collector, s *Snapshot) {
	next := map[string]prevGroup{}
	var prev map[string]prevGroup
	if p, ok := previous.Load(c); ok {
		prev = p.(map[string]prevGroup)
	}
	for i := range s.Groups {
		g := &s.Groups[i]
		want, err := AppendPageGroup(nil, g)
		if err != nil {
			continue // json.Marshal refuses it too (an infinity)
		}
		tpl, err := AppendGroupTemplate(nil, g)
		if err != nil {
			panic(fmt.Sprintf("group %s: template: %v", g.Group, err))
		}
		got, err := RenderGroupTemplate(nil, tpl, s.Time)
		if err != nil || !bytes.Equal(got, want) {
			panic(fmt.Sprintf("group %s: template rendered at its own time differs (%v):\n got %s\nwant %s", g.Group, err, got, want))
		}
		if p, ok := prev[g.Group]; ok && SameFacts(&p.g, g) {
			got, err := RenderGroupTemplate(nil, p.tpl, s.Time)
			if err != nil || !bytes.Equal(got, want) {
				panic(fmt.Sprintf("group %s: same facts, but the previous template rendered now differs (%v):\n got %s\nwant %s", g.Group, err, got, want))
			}
		}
		next[g.Group] = prevGroup{g: *g, tpl: tpl}
	}
	previous.Store(c, next)
}
