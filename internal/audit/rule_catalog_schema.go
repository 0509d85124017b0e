package audit

var ruleSchema = recordRule{
	info: RuleInfo{ID: "catalog.schema", Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "the data does not validate against the catalog's JSON Schema for that type and version",
		Standard: "HuleEdu 030 §3.2, §5.3 (typed data, schema validation); AuthorWorks: Producer Responsibilities 5, Consumer Responsibilities 1"},
	check: checkSchema,
}

func checkSchema(c *evalCtx) {
	if c.e.cat == nil || c.res.EventType == "" || c.s.fields[roleData].kind != kindObject {
		return
	}
	it := c.e.cat.item(c.res.EventType, c.res.Version)
	if it == nil {
		return
	}
	if msg := it.validate(c.raw(roleData)); msg != "" {
		c.reportf(rSchema, c.e.p.fields[roleData].path, "%s %s does not match the catalog schema: %s",
			clip(c.res.EventType), it.entry.Version, msg)
	}
}
