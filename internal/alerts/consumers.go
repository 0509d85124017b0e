package alerts

import (
	"fmt"

	"github.com/eventwatch/eventwatch/internal/metrics"
)

// consumerRules are the alerts on consumer-group health, one per thing
// that can happen (docs/lag.md, "Status from evidence"): stopped (nobody
// owns partitions with data waiting), stalled (a live member does not get
// past a record), falling behind (consuming slower than producers write),
// and records lost or about to be lost to retention. Each names the
// group, the topic, the worst partition and how long its data has waited.
func consumerRules(o Options) []Rule {
	waiting := func(status string) string {
		return withTeam(o, fmt.Sprintf("max by (%s) (%s) > 0", o.By("group", "topic", "partition"),
			o.Sel(metrics.GroupWaitingSeconds.Name, `status="`+status+`"`)), "group", TeamByGroup)
	}
	return []Rule{
		{
			Alert: "EventwatchConsumerGroupStopped", Expr: waiting("STOP"), For: "2m", Labels: symptom("critical"),
			Annotations: Annotations{
				Summary: "Consumer group {{ $labels.group }} stopped consuming {{ $labels.topic }}",
				Description: "No member of consumer group {{ $labels.group }} owns partition {{ $labels.partition }} of " +
					"{{ $labels.topic }}, and its oldest waiting record has waited {{ $value | humanizeDuration }} without the " +
					"committed offset moving (longer than lag.stop_after): nobody is consuming it.",
			},
		},
		{
			Alert: "EventwatchConsumerGroupStalled", Expr: waiting("STALL"), For: "2m", Labels: symptom("critical"),
			Annotations: Annotations{
				Summary: "Consumer group {{ $labels.group }} is stuck on {{ $labels.topic }}",
				Description: "A live member of consumer group {{ $labels.group }} owns partition {{ $labels.partition }} of " +
					"{{ $labels.topic }}, but its committed offset has not moved for {{ $value | humanizeDuration }} while data " +
					"waits, and the member advances no other partition either: a hung consumer or a record it cannot process.",
				BlockingRecord: blockingRecord(o),
			},
		},
		{
			Alert: "EventwatchConsumerGroupFallingBehind", Expr: waiting("WARN"), For: "15m", Labels: symptom("warning"),
			Annotations: Annotations{
				Summary: "Consumer group {{ $labels.group }} is falling behind on {{ $labels.topic }}",
				Description: "Consumer group {{ $labels.group }} is consuming {{ $labels.topic }} but more slowly than " +
					"producers write to it: its lag grows. The oldest waiting record (partition {{ $labels.partition }}) is " +
					"{{ $value | humanizeDuration }} old. It is alive and committing: this is not a stop.",
			},
		},
		{
			Alert: "EventwatchConsumerGroupDataLoss",
			Expr: withTeam(o, fmt.Sprintf("sum by (%s) (increase(%s[%s])) > 0", o.By("group", "topic"),
				o.Sel(metrics.GroupLostRecords.Name), duration(o.DataLossWindow)), "group", TeamByGroup),
			Labels: symptom("critical"),
			Annotations: Annotations{
				Summary: "Consumer group {{ $labels.group }} lost records of {{ $labels.topic }} to retention",
				Description: "{{ $value | printf \"%.0f\" }} records of {{ $labels.topic }} were deleted (retention or " +
					"DeleteRecords) before consumer group {{ $labels.group }} read them, in the last " + duration(o.DataLossWindow) +
					": its committed offset fell below the log-start offset.",
			},
		},
		{
			Alert: "EventwatchConsumerGroupDataLossImminent",
			Expr: withTeam(o, fmt.Sprintf("min by (%s) (%s) < %g", o.By("group", "topic"),
				o.Sel(metrics.GroupTimeToLoss.Name), o.TimeToLossThreshold.Seconds()), "group", TeamByGroup),
			For:    "5m",
			Labels: symptom("warning"),
			Annotations: Annotations{
				Summary: "Consumer group {{ $labels.group }} is about to lose records of {{ $labels.topic }}",
				Description: "Retention may delete the oldest record consumer group {{ $labels.group }} has not read on " +
					"{{ $labels.topic }} in {{ $value | humanizeDuration }} (less than " + duration(o.TimeToLossThreshold) + ").",
			},
		},
	}
}

// blockingRecord is the annotation template naming the poison pill of the
// alert's partition: the offset, producer and failing rules of the record
// at its committed offset (GET /api/v1/groups/{group} has the event id and
// the reasons; docs/dlq.md#poison-pills). The rules are named in
// alphabetical order.
func blockingRecord(o Options) string {
	at := `group="%s",topic="%s",partition="%s"`
	pill, rules := o.Sel(metrics.PoisonPillOffset.Name, at), o.Sel(metrics.PoisonPillRule.Name, at)
	args := " $labels.group $labels.topic $labels.partition | query }}"
	sorted := " $labels.group $labels.topic $labels.partition | query | sortByLabel \"rule\" }}" // a query's order is not defined
	return "{{ with printf `" + pill + "`" + args +
		"{{ range . }}offset {{ .Value }}, produced by {{ .Labels.source_service }}, breaks:{{ end }}" +
		"{{ with printf `" + rules + "`" + sorted + "{{ range . }} {{ .Labels.rule }}{{ end }}{{ else }} no rule (look at the consumer){{ end }}" +
		"{{ else }}not read yet (eventwatch reads the record at the committed offset after the next lag cycle){{ end }}"
}
