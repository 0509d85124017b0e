package audit

import "strconv"

var ruleInvalidJSON = recordRule{
	info: RuleInfo{ID: "envelope.invalid_json", Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "the value is not a JSON object (binary, truncated, array, scalar, invalid UTF-8, nesting deeper than 64)",
		Standard: "HuleEdu 030 §3.1, §4.2 (EventEnvelope serialized to JSON); AuthorWorks: Event Schema"},
	check: checkInvalidJSON,
	on:    onInvalid,
}

func checkInvalidJSON(c *evalCtx) {
	if c.valid {
		return
	}
	c.report(rInvalidJSON, "", "value is not a JSON object: "+c.s.err+" (at byte "+strconv.Itoa(c.s.errPos)+")")
}
