package metrics

// Consumption per type and version and consumer idempotency (owned by
// internal/readers).
var (
	ConsumerRedeliveredInputs = define(Spec{Name: "eventwatch_consumer_redelivered_inputs_total", Kind: Counter, Area: "readers",
		Help:   "Inputs delivered to a consumer group more than once (a producer duplicate, or a rewind of the group's committed offset) whose downstream reaction was seen in a closed chain, by group, input event type and outcome (duplicate_effects: the group's service emitted more events than one delivery gives — not idempotent; single_effect: it did not).",
		Labels: []string{"group", "event_type", "outcome"}})
)
