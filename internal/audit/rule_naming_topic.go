package audit

var ruleTopic = recordRule{
	info: RuleInfo{ID: "naming.topic", Severity: SeverityWarning, Scope: ScopeRecord,
		Summary:  "the topic name does not match the profile's topic pattern",
		Standard: "HuleEdu 030 §4.1 (<project_namespace>.<environment>.<domain_or_service>.<event_type_group_or_entity>); AuthorWorks: Kafka Configuration (topics named according to service and event type)"},
	check: checkTopic,
	on:    onAll,
}

func checkTopic(c *evalCtx) {
	if c.ts.topicOK {
		return
	}
	c.reportf(rTopic, "", "topic %q does not match the pattern %s", c.rec.Topic, c.e.p.topic)
}
