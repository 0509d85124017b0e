package audit

import (
	"strings"

	"github.com/eventwatch/eventwatch/internal/policy"
)

// typeVerdict is the cached naming analysis of one event type string.
type typeVerdict struct {
	name        string // the event type itself (interned)
	hash        uint64 // hash of name, the first half of the drift key
	patternOK   bool   // matches the profile's event type pattern (true when none)
	action      string // the action segment ("" when the type has too few segments)
	tenseOK     bool   // the action is past tense
	typeVersion string // version captured from the type name, "" when none
}

func (e *Engine) typeVerdictFor(eventType string) *typeVerdict {
	if v, ok := e.types.get(eventType); ok {
		return v
	}
	v := analyzeType(e.p, eventType)
	e.types.put(eventType, v)
	return v
}

func analyzeType(p *policy.Profile, t string) *typeVerdict {
	re := p.EventTypePattern()
	v := &typeVerdict{name: t, hash: hashString(fnvOffset, t), patternOK: re == nil || re.MatchString(t)}
	if tv := p.TypeVersionPattern(); tv != nil {
		if m := tv.FindStringSubmatch(t); m != nil {
			v.typeVersion = m[1]
		}
	}
	if i, ok := p.ActionSegment(); ok {
		segs := strings.Split(t, ".")
		if i < 0 {
			i += len(segs)
		}
		if i >= 0 && i < len(segs) {
			v.action = segs[i]
			v.tenseOK = IsPastTense(v.action)
		}
	}
	return v
}
