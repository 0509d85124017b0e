package audit

import "github.com/eventwatch/eventwatch/internal/event"

var ruleMissingField = recordRule{
	info:  event.Rule(event.RuleEnvelopeMissingField),
	check: checkMissingField,
}

// blank reports whether a string value's raw content is empty or only
// spaces and tabs: a required field holding it is not populated.
func blank(raw []byte) bool {
	for _, b := range raw {
		if b != ' ' && b != '\t' {
			return false
		}
	}
	return true
}

func checkMissingField(c *evalCtx) {
	for r := range numRoles {
		f := &c.e.fields[r]
		if !f.defined || !f.required {
			continue
		}
		switch c.s.fields[r].kind {
		case kindAbsent:
			c.report(rMissingField, f.path, "required field "+f.path+" is missing")
		case kindNull:
			c.report(rMissingField, f.path, "required field "+f.path+" is null")
		case kindString:
			if blank(c.raw(r)) {
				c.report(rMissingField, f.path, "required field "+f.path+" is an empty string")
			}
		}
	}
}
