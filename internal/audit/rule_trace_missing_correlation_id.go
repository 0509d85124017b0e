package audit

import "github.com/eventwatch/eventwatch/internal/event"

var ruleMissingCorrelation = recordRule{
	info:  event.Rule(event.RuleTraceMissingCorrelationID),
	check: checkMissingCorrelation,
}

func checkMissingCorrelation(c *evalCtx) {
	f := &c.e.fields[roleCorrelation]
	if !f.defined || c.res.CorrelationID != "" {
		return
	}
	c.report(rMissingCorrelation, f.path, "no correlation id: "+f.path+" is "+absentWord(c.s.fields[roleCorrelation].kind))
}

func absentWord(k byte) string {
	switch k {
	case kindAbsent:
		return "missing"
	case kindNull:
		return "null"
	case kindString:
		return "empty"
	}
	return "not a string"
}
