package audit

import "github.com/eventwatch/eventwatch/internal/event"

var ruleDrift = recordRule{
	info:  event.Rule(event.RuleDriftBreakingChange),
	check: checkDrift,
}

func checkDrift(c *evalCtx) {
	if c.verdct == nil || c.s.fields[roleData].kind != kindObject {
		return
	}
	key := hashString(hashByte(c.verdct.hash, 0), event.NormalizeVersion(c.res.Version))
	sh := c.shapeFor(key)
	if sh == nil {
		return
	}
	if sh.learning() {
		entries, paths := c.s.shapeWithPaths(c.raw(roleData))
		sh.learnFrom(entries, paths, c.e.drift.learn)
		return
	}
	f := sh.frozen.Load()
	if f.isClean(c.s.fp) {
		return
	}
	problems := f.judge(c.s.collectShape(c.raw(roleData)))
	if len(problems) == 0 {
		f.markClean(c.s.fp)
	}
	base := c.e.fields[roleData].path
	for i, p := range problems {
		if i == 4 {
			break
		}
		field := base + "." + p.path
		if p.removed {
			c.reportf(rDrift, field, "%s %s: field %s is missing, but every earlier event of this version had it (removing a field needs a new version)",
				clip(c.res.EventType), c.res.Version, field)
			continue
		}
		c.reportf(rDrift, field, "%s %s: field %s is a %s, earlier events had %s (changing a type needs a new version)",
			clip(c.res.EventType), c.res.Version, field, kindNames[p.now], kindsWords(p.was))
	}
}

// shapeFor is driftTracker.shapeFor through the pooled state's memo of the
// last (type, version) key: shapes are never removed, so a remembered
// pointer stays valid, and the tracker's lock and map are skipped for runs
// of one type.
func (c *evalCtx) shapeFor(key uint64) *typeShape {
	m := c.memo
	if m != nil && m.shape != nil && m.shapeKey == key {
		return m.shape
	}
	sh := c.e.drift.shapeFor(key)
	if m != nil && sh != nil {
		m.shapeKey, m.shape = key, sh
	}
	return sh
}
