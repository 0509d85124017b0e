package alerts

import (
	"fmt"

	"github.com/eventwatch/eventwatch/internal/metrics"
)

// newViolationHold is how long a newly seen (service, rule) pair keeps
// EventwatchNewRuleViolation firing before it counts as known.
const newViolationHold = "15m"

// Recorded series the alerts build on.
const (
	// ViolationPairs has one sample per (deployment, rule, source_service)
	// currently violated: EventwatchNewRuleViolation looks a day back over
	// these few series instead of every violation series.
	ViolationPairs = "eventwatch:violations_rule_service:present"
	// TeamByService is eventwatch_service_team_info per deployment: the
	// owning team of each service.
	TeamByService = "eventwatch:team_by_service:info"
	// TeamBySourceService is TeamByService keyed by source_service.
	TeamBySourceService = "eventwatch:team_by_source_service:info"
	// TeamByGroup is TeamByService keyed by consumer group, for groups
	// named after the service that consumes (group.id = service name).
	TeamByGroup = "eventwatch:team_by_group:info"
	// TeamByTopic has one series per (topic, team) whose services broke an
	// error-severity rule on the topic within the compliance window: the
	// teams that own a topic's compliance problem.
	TeamByTopic = "eventwatch:team_by_topic:info"
)

// recordings are the recording rules the alerts build on, in evaluation
// order (later rules read earlier ones of the same evaluation).
func recordings(o Options) []Recording {
	// Every recording reads only eventwatch's own series through the
	// selector, never another recording: two releases' rule sets in one
	// Prometheus then write disjoint series (a recording that read an
	// unselected recorded series would copy the other release's too).
	team := fmt.Sprintf("max by (%s) (%s)", o.By("service", "team"), o.Sel(metrics.ServiceTeam.Name))
	teamAs := func(label string) string {
		return fmt.Sprintf(`label_replace(%s, "%s", "$1", "service", "(.*)")`, team, label)
	}
	return []Recording{
		{Record: ViolationPairs,
			Expr: fmt.Sprintf("group by (%s) (%s)", o.By("rule", "source_service"), o.Sel(metrics.Violations.Name))},
		{Record: TeamByService, Expr: team},
		{Record: TeamBySourceService, Expr: teamAs("source_service")},
		{Record: TeamByGroup, Expr: teamAs("group")},
		{Record: TeamByTopic, Expr: fmt.Sprintf(
			"group by (%s) (\n  (sum by (%s) (increase(%s[%s])) > 0)\n  * on (%s) group_left (team) %s\n)",
			o.By("topic", "team"), o.By("topic", "source_service"),
			o.Sel(metrics.Violations.Name, `severity="error"`), duration(o.ComplianceWindow),
			o.By("source_service"), teamAs("source_service"))},
	}
}

// withTeam adds the owning team to the series of expr, joined on key
// through the recorded table; series whose key has no owner pass through
// without a team label.
func withTeam(o Options, expr, key, table string) string {
	on := o.By(key)
	return fmt.Sprintf("(%[1]s)\n* on (%[2]s) group_left (team) %[3]s\nor\n(%[1]s)\nunless on (%[2]s) %[3]s", expr, on, table)
}

// withTopicTeams is withTeam for per-topic series: a topic owned by
// several teams yields one series per team.
func withTopicTeams(o Options, expr string) string {
	on := o.By("topic")
	return fmt.Sprintf("(%[1]s)\n* on (%[2]s) group_right () %[3]s\nor\n(%[1]s)\nunless on (%[2]s) %[3]s", expr, on, TeamByTopic)
}

func symptom(severity string) Labels { return Labels{Severity: severity, Category: CategorySymptom} }
func self(severity string) Labels    { return Labels{Severity: severity, Category: CategorySelf} }

// ratioOf is `(sum by (by) (rate(num[w])) or denominator*0) / denominator`,
// by the deployment labels plus by: a topic or service with no numerator
// series at all (0% compliant, no correlation id ever) still yields 0
// instead of nothing.
func ratioOf(o Options, num, den metrics.Spec, by, window, offset string) string {
	if offset != "" {
		offset = " offset " + offset
	}
	n := fmt.Sprintf("sum by (%s) (rate(%s[%s]%s))", o.By(by), o.Sel(num.Name), window, offset)
	d := fmt.Sprintf("sum by (%s) (rate(%s[%s]%s))", o.By(by), o.Sel(den.Name), window, offset)
	return fmt.Sprintf("(%s or %s * 0) / %s", n, d, d)
}

func complianceRules(o Options) []Rule {
	w := duration(o.ComplianceWindow)
	ratio := ratioOf(o, metrics.RecordsCompliant, metrics.RecordsChecked, "topic", w, "")
	return []Rule{
		{
			Alert:  "EventwatchComplianceBelowObjective",
			Expr:   withTopicTeams(o, fmt.Sprintf("%s < %g", ratio, o.ComplianceObjective)),
			For:    "15m",
			Labels: symptom("warning"),
			Annotations: Annotations{
				Summary: "Compliance on topic {{ $labels.topic }} is below the objective",
				Description: "Only {{ $value | humanizePercentage }} of the records audited on topic {{ $labels.topic }} in the last " +
					w + " broke no error-severity rule; the objective is " + percent(o.ComplianceObjective) + ".",
			},
		},
		{
			Alert: "EventwatchComplianceDropped",
			Expr: withTopicTeams(o, fmt.Sprintf("%s\n< %s - %g", ratio,
				ratioOf(o, metrics.RecordsCompliant, metrics.RecordsChecked, "topic", w, duration(o.ComplianceDropLookback)),
				o.ComplianceDrop)),
			For:    "15m",
			Labels: symptom("warning"),
			Annotations: Annotations{
				Summary: "Compliance on topic {{ $labels.topic }} dropped",
				Description: "Compliance on topic {{ $labels.topic }} over the last " + w + " is {{ $value | humanizePercentage }}, " +
					"more than " + percentPoints(o.ComplianceDrop) + " below the same hour " + duration(o.ComplianceDropLookback) + " earlier.",
			},
		},
		{
			Alert: "EventwatchNewRuleViolation",
			Expr: withTeam(o, fmt.Sprintf("%[1]s\n"+
				"unless max_over_time(%[1]s[%[2]s] offset %[3]s)\n"+
				"and on (%[5]s) count by (%[5]s) (%[4]s offset %[2]s) > 0",
				ViolationPairs, duration(o.NewViolationLookback), newViolationHold, o.Sel(metrics.BuildInfo.Name), o.By()),
				"source_service", TeamBySourceService),
			Labels: symptom("warning"),
			Annotations: Annotations{
				Summary: "{{ $labels.source_service }} started breaking rule {{ $labels.rule }}",
				Description: "Service {{ $labels.source_service }} produced events breaking rule {{ $labels.rule }}, " +
					"which it had not broken in the " + duration(o.NewViolationLookback) + " before.",
			},
		},
	}
}

func lagRules(o Options) []Rule {
	return append([]Rule{
		{
			Alert: "EventwatchConsumerLagAboveObjective",
			Expr: withTeam(o, fmt.Sprintf("max by (%s) (%s)\n> on (%s) group_left () max by (%[3]s) (%s)",
				o.By("group", "topic"), o.Sel(metrics.GroupLagSeconds.Name), o.By(), o.Sel(metrics.LagObjective.Name)),
				"group", TeamByGroup),
			For:    "10m",
			Labels: symptom("warning"),
			Annotations: Annotations{
				Summary: "Consumer group {{ $labels.group }} is behind on {{ $labels.topic }}",
				Description: "Consumer group {{ $labels.group }} is {{ $value | humanizeDuration }} behind on topic " +
					"{{ $labels.topic }}, above the deployment's lag objective (lag.lag_objective_seconds, exported as " +
					metrics.LagObjective.Name + ").",
			},
		},
	}, consumerRules(o)...)
}

func dlqRules(o Options) []Rule {
	gw, dw := duration(o.DLQGrowthWindow), duration(o.DLQDrainWindow)
	depth, by := o.Sel(metrics.DLQDepth.Name), o.By("topic", "source_service")
	return []Rule{
		{
			Alert: "EventwatchDLQGrowing",
			Expr: withTeam(o, fmt.Sprintf("sum by (%s) (increase(%s[%s])) > %g",
				by, o.Sel(metrics.DLQRecords.Name), gw, o.DLQGrowthThreshold), "source_service", TeamBySourceService),
			For:    "5m",
			Labels: symptom("warning"),
			Annotations: Annotations{
				Summary: "Dead-letter topic {{ $labels.topic }} is growing",
				Description: "{{ $value | printf \"%.0f\" }} records were dead-lettered to {{ $labels.topic }} " +
					"(service {{ $labels.source_service }}) in the last " + gw + ".",
			},
		},
		{
			Alert: "EventwatchDLQNotDrained",
			Expr: withTeam(o, fmt.Sprintf("max by (%[3]s) (%[1]s) >= max by (%[3]s) (max_over_time(%[1]s[%[2]s]))\n"+
				"and max by (%[3]s) (min_over_time(%[1]s[%[2]s])) > 0\n"+
				"and max by (%[3]s) (%[1]s offset %[2]s) > 0", depth, dw, by), "source_service", TeamBySourceService),
			Labels: symptom("warning"),
			Annotations: Annotations{
				Summary: "Dead-letter topic {{ $labels.topic }} is not being drained",
				Description: "Dead-letter topic {{ $labels.topic }} (service {{ $labels.source_service }}) has held records " +
					"for " + dw + " without shrinking; it now holds {{ $value | humanize }} records.",
			},
		},
	}
}

func flowRules(o Options) []Rule {
	w := duration(o.CoverageWindow)
	rule := func(num metrics.Spec, what, kind string) Rule {
		return Rule{
			Alert: "EventwatchPropagationCoverageLow",
			Expr: withTeam(o, fmt.Sprintf("%s < %g", ratioOf(o, num, metrics.PropagationEvents, "service", w, ""), o.CoverageObjective),
				"service", TeamByService),
			For:    "15m",
			Labels: Labels{Severity: "warning", Category: CategorySymptom, Propagation: kind},
			Annotations: Annotations{
				Summary: "{{ $labels.service }} does not propagate the " + what,
				Description: "Only {{ $value | humanizePercentage }} of the events of service {{ $labels.service }} in the last " +
					w + " carried a " + what + "; the objective is " + percent(o.CoverageObjective) + ".",
			},
		}
	}
	return []Rule{
		rule(metrics.PropagationCorrelation, "correlation id", "correlation_id"),
		rule(metrics.PropagationTraceContext, "trace context", "trace_context"),
	}
}

func selfRules(o Options) []Rule {
	up := o.Sel("up")
	stale := duration(o.CollectorStaleAfter)
	return []Rule{
		{Alert: "EventwatchDown", Expr: up + " == 0", For: "2m", Labels: self("critical"),
			Annotations: Annotations{Summary: "eventwatch {{ $labels.instance }} is down",
				Description: "Prometheus has failed to scrape eventwatch at {{ $labels.instance }} (job {{ $labels.job }}) " +
					"for 2m; dashboards and symptom alerts from it are stale."}},
		{Alert: "EventwatchTargetMissing", Expr: targetMissing(o, up), For: "5m", Labels: self("critical"),
			Annotations: Annotations{Summary: "No eventwatch target is scraped",
				Description: "Prometheus has had no target matching " + o.Selector + " (of the deployment the alert's labels name, " +
					"when it had targets in the last day) for 5m; nothing watches that Kafka cluster."}},
		{Alert: "EventwatchKafkaUnreachable", Expr: o.Sel(metrics.KafkaUp.Name) + " == 0", For: "5m", Labels: self("critical"),
			Annotations: Annotations{Summary: "eventwatch {{ $labels.instance }} cannot reach Kafka",
				Description: "eventwatch at {{ $labels.instance }} has failed its Kafka readiness probe for 5m; " +
					"it samples nothing and its lag figures are frozen."}},
		{Alert: "EventwatchCollectorFailing", Expr: o.Sel(metrics.CollectorSuccess.Name) + " == 0", For: "10m", Labels: self("warning"),
			Annotations: Annotations{Summary: "eventwatch collector {{ $labels.collector }} is failing",
				Description: "The {{ $labels.collector }} collector on {{ $labels.instance }} has not completed a cycle " +
					"without error for 10m; the metrics it feeds are partial or stale."}},
		{Alert: "EventwatchCollectorStale",
			Expr:   fmt.Sprintf("time() - %s > %g", o.Sel(metrics.CollectorLastSuccess.Name), o.CollectorStaleAfter.Seconds()),
			Labels: self("warning"),
			Annotations: Annotations{Summary: "eventwatch collector {{ $labels.collector }} has not succeeded recently",
				Description: "The {{ $labels.collector }} collector on {{ $labels.instance }} last succeeded " +
					"{{ $value | humanizeDuration }} ago (limit " + stale + ")."}},
		{Alert: "EventwatchSharedViewStale",
			Expr: fmt.Sprintf("max by (%s) (%s) > %g", o.By("instance", "kind"), o.Sel(metrics.ShareViewAge.Name),
				o.SharedViewStaleAfter.Seconds()),
			For: "5m", Labels: self("warning"),
			Annotations: Annotations{Summary: "eventwatch replica {{ $labels.instance }} answers from a stale {{ $labels.kind }} view",
				Description: "The newest shared {{ $labels.kind }} document {{ $labels.instance }} holds is {{ $value | humanizeDuration }} old " +
					"(limit " + duration(o.SharedViewStaleAfter) + "): its estate-wide answers (/api/v1/groups on a follower) lag the leader."}},
		{Alert: "EventwatchLeadershipBroken", Expr: fmt.Sprintf("sum by (%s) (%s) != 1", o.By(), o.Sel(metrics.Leader.Name)), For: "5m",
			Labels: self("warning"),
			Annotations: Annotations{Summary: "An eventwatch deployment has {{ $value }} leaders instead of one",
				Description: "{{ $value }} replicas of one eventwatch deployment (the alert's labels name it) lead the singleton " +
					"work (lag, topic config and DLQ collection) for 5m; with none those metrics stop, with several they are collected twice."}},
	}
}

// targetMissing fires per deployment that had targets in the last day and
// has none now (one cluster's eventwatch gone while others are scraped),
// and, when no deployment had any target in that day, once for the whole
// selector (absent).
func targetMissing(o Options, up string) string {
	seen := fmt.Sprintf("group by (%s) (max_over_time(%s[1d]))", o.By(), up)
	return fmt.Sprintf("(%s unless on (%s) group by (%[2]s) (%s))\nor\n(absent(%[3]s) unless on () %[1]s)", seen, o.By(), up)
}

func storeRules(o Options) []Rule {
	return []Rule{
		{Alert: "EventwatchReportStoreStale",
			Expr:   fmt.Sprintf("time() - max by (%s) (%s) > %g", o.By(), o.Sel(metrics.StoreLastFlushSuccess.Name), o.StoreStaleAfter.Seconds()),
			Labels: self("warning"),
			Annotations: Annotations{Summary: "eventwatch cannot write to its report store",
				Description: "No aggregate has reached the report store for {{ $value | humanizeDuration }} (limit " +
					duration(o.StoreStaleAfter) + "); reports miss the recent traffic and the in-memory buffer is filling."}},
		{Alert: "EventwatchReportStoreDropping",
			Expr:   fmt.Sprintf("sum by (%s) (increase(%s[10m])) > 0", o.By(), o.Sel(metrics.StoreDropped.Name)),
			Labels: self("warning"),
			Annotations: Annotations{Summary: "eventwatch is dropping report data",
				Description: "{{ $value | printf \"%.0f\" }} report aggregates were dropped in the last 10m because the " +
					"store was unavailable and the buffer was full; weekly reports undercount."}},
	}
}
