package alerts

import (
	"fmt"

	"github.com/eventwatch/eventwatch/internal/metrics"
)

// newViolationHold is how long a newly seen (service, rule) pair keeps
// EventwatchNewRuleViolation firing before it counts as known.
const newViolationHold = "15m"

// ViolationPairs is the recorded series with one sample per (rule,
// source_service) pair currently violated: EventwatchNewRuleViolation looks
// a day back over these few series instead of every violation series.
const ViolationPairs = "eventwatch:violations_rule_service:present"

// recordings are the recording rules the alerts build on.
func recordings() []Recording {
	return []Recording{{
		Record: ViolationPairs,
		Expr:   fmt.Sprintf("group by (rule, source_service) (%s)", metrics.Violations.Name),
	}}
}

func symptom(severity string) Labels { return Labels{Severity: severity, Category: CategorySymptom} }
func self(severity string) Labels    { return Labels{Severity: severity, Category: CategorySelf} }

// ratioOf is `(sum by (by) (rate(num[w])) or denominator*0) / denominator`:
// a topic or service with no numerator series at all (0% compliant, no
// correlation id ever) still yields 0 instead of nothing.
func ratioOf(num, den metrics.Spec, by, window string) string {
	n := fmt.Sprintf("sum by (%s) (rate(%s[%s]))", by, num.Name, window)
	d := fmt.Sprintf("sum by (%s) (rate(%s[%s]))", by, den.Name, window)
	return fmt.Sprintf("(%s or %s * 0) / %s", n, d, d)
}

// offsetRatio is ratioOf evaluated lookback ago.
func offsetRatio(num, den metrics.Spec, by, window, lookback string) string {
	n := fmt.Sprintf("sum by (%s) (rate(%s[%s] offset %s))", by, num.Name, window, lookback)
	d := fmt.Sprintf("sum by (%s) (rate(%s[%s] offset %s))", by, den.Name, window, lookback)
	return fmt.Sprintf("(%s or %s * 0) / %s", n, d, d)
}

func complianceRules(o Options) []Rule {
	w := duration(o.ComplianceWindow)
	return []Rule{
		{
			Alert:  "EventwatchComplianceBelowObjective",
			Expr:   fmt.Sprintf("%s < %g", ratioOf(metrics.RecordsCompliant, metrics.RecordsChecked, "topic", w), o.ComplianceObjective),
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
			Expr: fmt.Sprintf("%s\n< %s - %g",
				ratioOf(metrics.RecordsCompliant, metrics.RecordsChecked, "topic", w),
				offsetRatio(metrics.RecordsCompliant, metrics.RecordsChecked, "topic", w, duration(o.ComplianceDropLookback)),
				o.ComplianceDrop),
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
			Expr: fmt.Sprintf("%[1]s\n"+
				"unless max_over_time(%[1]s[%[2]s] offset %[3]s)\n"+
				"and on () count(%[4]s offset %[2]s) > 0",
				ViolationPairs, duration(o.NewViolationLookback), newViolationHold, metrics.BuildInfo.Name),
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
	return []Rule{
		{
			Alert:  "EventwatchConsumerLagAboveObjective",
			Expr:   fmt.Sprintf("max by (group, topic) (%s) > %g", metrics.GroupLagSeconds.Name, o.LagObjective.Seconds()),
			For:    "10m",
			Labels: symptom("warning"),
			Annotations: Annotations{
				Summary: "Consumer group {{ $labels.group }} is behind on {{ $labels.topic }}",
				Description: "Consumer group {{ $labels.group }} is {{ $value | humanizeDuration }} behind on topic " +
					"{{ $labels.topic }}; the objective is " + duration(o.LagObjective) + ".",
			},
		},
		{
			Alert:  "EventwatchConsumerGroupStopped",
			Expr:   fmt.Sprintf(`max by (group, status) (%s{status=~"STOP|STALL"}) == 1`, metrics.GroupStatus.Name),
			For:    "5m",
			Labels: symptom("critical"),
			Annotations: Annotations{
				Summary: "Consumer group {{ $labels.group }} is in status {{ $labels.status }}",
				Description: "Consumer group {{ $labels.group }} has not moved its committed offsets while it has lag " +
					"(status {{ $labels.status }}: STOP = no member owns the partitions, STALL = members own them but do not progress).",
			},
		},
	}
}

func dlqRules(o Options) []Rule {
	gw, dw := duration(o.DLQGrowthWindow), duration(o.DLQDrainWindow)
	depth := metrics.DLQDepth.Name
	return []Rule{
		{
			Alert: "EventwatchDLQGrowing",
			Expr: fmt.Sprintf("sum by (topic, source_service) (increase(%s[%s])) > %g",
				metrics.DLQRecords.Name, gw, o.DLQGrowthThreshold),
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
			Expr: fmt.Sprintf("max by (topic, source_service) (%[1]s) >= max by (topic, source_service) (max_over_time(%[1]s[%[2]s]))\n"+
				"and max by (topic, source_service) (min_over_time(%[1]s[%[2]s])) > 0\n"+
				"and max by (topic, source_service) (%[1]s offset %[2]s) > 0", depth, dw),
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
			Alert:  "EventwatchPropagationCoverageLow",
			Expr:   fmt.Sprintf("%s < %g", ratioOf(num, metrics.PropagationEvents, "service", w), o.CoverageObjective),
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
	up := fmt.Sprintf(`up{job=%q}`, o.Job)
	stale := duration(o.CollectorStaleAfter)
	return []Rule{
		{Alert: "EventwatchDown", Expr: up + " == 0", For: "2m", Labels: self("critical"),
			Annotations: Annotations{Summary: "eventwatch {{ $labels.instance }} is down",
				Description: "Prometheus has failed to scrape eventwatch at {{ $labels.instance }} (job " + o.Job +
					") for 2m; dashboards and symptom alerts from it are stale."}},
		{Alert: "EventwatchTargetMissing", Expr: "absent(" + up + ")", For: "5m", Labels: self("critical"),
			Annotations: Annotations{Summary: "No eventwatch target is scraped",
				Description: "Prometheus has had no target in job " + o.Job + " for 5m; nothing watches the Kafka estate."}},
		{Alert: "EventwatchKafkaUnreachable", Expr: metrics.KafkaUp.Name + " == 0", For: "5m", Labels: self("critical"),
			Annotations: Annotations{Summary: "eventwatch {{ $labels.instance }} cannot reach Kafka",
				Description: "eventwatch at {{ $labels.instance }} has failed its Kafka readiness probe for 5m; " +
					"it samples nothing and its lag figures are frozen."}},
		{Alert: "EventwatchCollectorFailing", Expr: metrics.CollectorSuccess.Name + " == 0", For: "10m", Labels: self("warning"),
			Annotations: Annotations{Summary: "eventwatch collector {{ $labels.collector }} is failing",
				Description: "The {{ $labels.collector }} collector on {{ $labels.instance }} has not completed a cycle " +
					"without error for 10m; the metrics it feeds are partial or stale."}},
		{Alert: "EventwatchCollectorStale",
			Expr:   fmt.Sprintf("time() - %s > %g", metrics.CollectorLastSuccess.Name, o.CollectorStaleAfter.Seconds()),
			Labels: self("warning"),
			Annotations: Annotations{Summary: "eventwatch collector {{ $labels.collector }} has not succeeded recently",
				Description: "The {{ $labels.collector }} collector on {{ $labels.instance }} last succeeded " +
					"{{ $value | humanizeDuration }} ago (limit " + stale + ")."}},
		{Alert: "EventwatchLeadershipBroken", Expr: fmt.Sprintf("sum(%s) != 1", metrics.Leader.Name), For: "5m",
			Labels: self("warning"),
			Annotations: Annotations{Summary: "eventwatch has {{ $value }} leaders instead of one",
				Description: "{{ $value }} eventwatch replicas lead the singleton work (lag, topic config and DLQ " +
					"collection) for 5m; with none those metrics stop, with several they are collected twice."}},
	}
}

func storeRules(o Options) []Rule {
	return []Rule{
		{Alert: "EventwatchReportStoreStale",
			Expr:   fmt.Sprintf("time() - max(%s) > %g", metrics.StoreLastFlushSuccess.Name, o.StoreStaleAfter.Seconds()),
			Labels: self("warning"),
			Annotations: Annotations{Summary: "eventwatch cannot write to its report store",
				Description: "No aggregate has reached the report store for {{ $value | humanizeDuration }} (limit " +
					duration(o.StoreStaleAfter) + "); reports miss the recent traffic and the in-memory buffer is filling."}},
		{Alert: "EventwatchReportStoreDropping",
			Expr:   fmt.Sprintf("sum(increase(%s[10m])) > 0", metrics.StoreDropped.Name),
			Labels: self("warning"),
			Annotations: Annotations{Summary: "eventwatch is dropping report data",
				Description: "{{ $value | printf \"%.0f\" }} report aggregates were dropped in the last 10m because the " +
					"store was unavailable and the buffer was full; weekly reports undercount."}},
	}
}
