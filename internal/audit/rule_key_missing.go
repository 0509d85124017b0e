package audit

var ruleKeyMissing = recordRule{
	info: RuleInfo{ID: "key.missing", Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "the record has no key where the profile requires partitioning by resource id",
		Standard: "AuthorWorks: Kafka Configuration (partitioning based on resource ID), Delivery Guarantees (ordering per partition key)"},
	check: checkKeyMissing,
	on:    onEnvelope | onInvalid,
}

// checkKeyMissing needs the Kafka record: a bare event (empty Topic, as
// `eventwatch check` reads plain NDJSON events) has no key to judge.
func checkKeyMissing(c *evalCtx) {
	if c.rec.Topic == "" || len(c.rec.Key) > 0 {
		return
	}
	c.reportf(rKeyMissing, "", "record on topic %q has no key; partition by the resource id", c.rec.Topic)
}
