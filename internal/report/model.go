package report

import "time"

// Weekly is one weekly compliance report. Every percentage has its sample
// size beside it; compliance is compliant / checked, the same definition as
// eventwatch_records_compliant_total / eventwatch_records_checked_total.
type Weekly struct {
	Week         string           `json:"week"`                    // ISO week, e.g. 2026-W47
	From         time.Time        `json:"from"`                    // week start in the report's time zone
	To           time.Time        `json:"to"`                      // week end (exclusive)
	TimeZone     string           `json:"time_zone"`               // IANA zone the week is cut in
	Service      string           `json:"service,omitempty"`       // service filter, when one was asked for
	Team         string           `json:"team,omitempty"`          // team filter, when one was asked for
	TeamServices []string         `json:"team_services,omitempty"` // the team's services
	InProgress   bool             `json:"in_progress"`             // the week has not ended: numbers are week to date
	GeneratedAt  time.Time        `json:"generated_at"`            // when the report was built
	Summary      Summary          `json:"summary"`                 // headline numbers
	Services     []ServiceSection `json:"services"`                // one section per producing service, worst compliance first
	Topics       []Compliance     `json:"topics"`                  // compliance per topic, all services
	Rules        []RuleTrend      `json:"rules"`                   // violations by rule with the previous week's count
	NewRules     []RuleTrend      `json:"new_rules"`               // rules broken this week and not the week before
	TopOffenders []Offender       `json:"top_offenders"`           // (service, topic, event type, rule) with most violations
	DLQ          []DLQGrowth      `json:"dlq"`                     // dead-letter topic growth
	Lag          []LagRow         `json:"lag"`                     // lag-objective breach time per consumer group
	Propagation  []CoverageRow    `json:"propagation"`             // trace propagation coverage per service
	Daily        []DayPoint       `json:"daily"`                   // compliance per day of the week
	Trend        []WeekPoint      `json:"trend"`                   // the last weeks up to this one, oldest first
	Comparison   Comparison       `json:"comparison"`              // what every "previous week" number covers
	// CatalogDrift is how the declared event catalog and the observed
	// estate differ now (the week in progress of a whole-estate report,
	// when a catalog is configured; docs/catalog.md).
	CatalogDrift []CatalogDifference `json:"catalog_drift,omitempty"`
	// WebSockets are the probed WebSocket endpoints of the report's scope
	// with their week (stored probe results), and for the week in progress
	// the prober's view now (last probe, heartbeat).
	WebSockets []WebSocketEndpoint `json:"websockets,omitempty"`
	// Flows is the flow map now: pathways exact or inferred, causation and
	// ambiguous hops (the week in progress of a whole-estate report;
	// docs/tracing.md).
	Flows *Flows `json:"flows,omitempty"`
	// Consumers is who reads which type and version, retirement verdicts
	// and consumer idempotency now (the week in progress of a
	// whole-estate report; docs/readers.md).
	Consumers *Consumers `json:"consumers,omitempty"`
	// DeadLetters are the dead letters of the report's scope by cause,
	// counted by record time within the week ("Dead letters by cause";
	// reports served by a running instance).
	DeadLetters []DeadLetterCause `json:"dead_letters_by_cause,omitempty"`
	// PoisonPills are the records blocking STALL partitions of the scope's
	// groups now (the week in progress only).
	PoisonPills []PoisonPill `json:"poison_pills,omitempty"`
	// Notes lists ranges eventwatch skipped or read again instead of
	// counting them in order this week (history before the first start,
	// stored positions that did not match the log); whole-estate reports
	// only.
	Notes []Note `json:"notes,omitempty"`
}

// Comparison is the span of the previous week that every "previous"
// number of a report (summary, services, rules, new rules, charts) covers:
// the whole previous week for a week that has ended, and the same elapsed
// span of it (to the next whole hour) for a week in progress, so that week
// to date is never compared with a whole week.
type Comparison struct {
	Week     string    `json:"week"`      // the previous ISO week
	From     time.Time `json:"from"`      // start of the compared span (the previous week's start)
	To       time.Time `json:"to"`        // end of the compared span (exclusive)
	SameSpan bool      `json:"same_span"` // true while the week is in progress: only the same elapsed span is compared
}

// Label names the compared span in column headers and legends.
func (c Comparison) Label() string {
	if c.SameSpan {
		return "previous week, same span"
	}
	return "previous week"
}

// Sentence says, for a reader, what the report compares with.
func (c Comparison) Sentence() string {
	if !c.SameSpan {
		return "Compared with the whole previous week (" + c.Week + ")."
	}
	return "Compared with the same span of the previous week: " + c.From.Format("Mon 2 Jan 15:04") + " to " +
		c.To.Format("Mon 2 Jan 15:04") + " (" + c.Week + "), not the whole week."
}

// WeekPoint is one week of the multi-week trend.
type WeekPoint struct {
	Week          string           `json:"week"`           // ISO week
	Checked       int64            `json:"checked"`        // records audited
	Compliant     int64            `json:"compliant"`      // compliant records
	CompliancePct *float64         `json:"compliance_pct"` // null without data
	Violations    map[string]int64 `json:"violations"`     // violations by rule id
	DLQGrowth     int64            `json:"dlq_growth"`     // records added to dead-letter topics
	LagBreachPct  *float64         `json:"lag_breach_pct"` // share of observed group time above the objective; null without samples
	InProgress    bool             `json:"in_progress"`    // the week has not ended: its numbers are week to date
}

// Summary holds the headline numbers of a report.
type Summary struct {
	Checked           int64    `json:"checked"`             // records audited
	Compliant         int64    `json:"compliant"`           // records without an error-severity violation
	CompliancePct     *float64 `json:"compliance_pct"`      // 100 * compliant / checked; null without data (never 0 %)
	PrevCompliancePct *float64 `json:"prev_compliance_pct"` // the same for the compared span of the previous week (Comparison); null without data
	Violations        int64    `json:"violations"`          // violations of every rule
	PrevViolations    int64    `json:"prev_violations"`     // the same for the compared span of the previous week
	Services          int      `json:"services"`            // producing services seen
	Topics            int      `json:"topics"`              // topics seen
	NewRules          int      `json:"new_rules"`           // rules broken this week, not in the compared span of the previous one
	DLQGrowth         int64    `json:"dlq_growth"`          // records added to dead-letter topics
	LagBreachSeconds  float64  `json:"lag_breach_seconds"`  // summed breach time over consumer groups
	LostRecords       int64    `json:"lost_records"`        // records deleted by retention before a consumer group read them, over groups
	LossRiskSeconds   float64  `json:"loss_risk_seconds"`   // summed time consumer groups were less than an hour from losing records
	PropagationPct    *float64 `json:"propagation_pct"`     // events that carried trace context; null without events
	TracedEvents      int64    `json:"traced_events"`       // events the stitcher saw, behind PropagationPct
}

// Compliance is the compliance of one service, topic or event type.
type Compliance struct {
	Name          string  `json:"name"`           // service, topic or event type
	Checked       int64   `json:"checked"`        // sample size
	Compliant     int64   `json:"compliant"`      // compliant records
	CompliancePct float64 `json:"compliance_pct"` // 100 * compliant / checked
	Violations    int64   `json:"violations"`     // violations of every rule
}

// ServiceSection is the part of the report a service team reads.
type ServiceSection struct {
	Compliance
	Team              string       `json:"team"`                // owning team (the service itself when no team claims it)
	PrevCompliancePct *float64     `json:"prev_compliance_pct"` // previous week; null without data
	Topics            []Compliance `json:"topics"`              // per topic
	EventTypes        []Compliance `json:"event_types"`         // per event type
	Rules             []RuleTrend  `json:"rules"`               // violations by rule with trend
	NewRules          []RuleTrend  `json:"new_rules"`           // rules new this week
	Offenders         []Offender   `json:"offenders"`           // worst (topic, event type, rule) with references
	Daily             []DayPoint   `json:"daily"`               // compliance per day
}

// Trend values of RuleTrend.Trend.
const (
	TrendNew  = "new"  // broken this week, not the week before
	TrendUp   = "up"   // more violations than the week before
	TrendDown = "down" // fewer
	TrendSame = "same" // as many
	TrendGone = "gone" // broken the week before, not this week
)

// RuleTrend counts one rule's violations under one profile this week and
// the week before, with what the rule means and recent examples.
type RuleTrend struct {
	Rule     string    `json:"rule"`     // rule id
	Profile  string    `json:"profile"`  // profile that judged it ("" for rows stored before profiles were)
	Severity string    `json:"severity"` // error or warning
	Summary  string    `json:"summary"`  // one-line meaning of the rule
	DocURL   string    `json:"doc_url"`  // the rule's entry in docs/rules.md
	Count    int64     `json:"count"`    // violations this week
	Previous int64     `json:"previous"` // violations in the compared span of the week before (Weekly.Comparison)
	Change   int64     `json:"change"`   // Count - Previous
	Trend    string    `json:"trend"`    // new, up, down, same or gone
	Examples []Example `json:"examples"` // most recent violations of the rule (and profile)
}

// Example is one recent violation: its reason and where the record is,
// never what it contained.
type Example struct {
	Service   string    `json:"service"`             // producing service
	Topic     string    `json:"topic"`               // topic
	Partition int32     `json:"partition"`           // partition
	Offset    int64     `json:"offset"`              // offset
	EventType string    `json:"event_type"`          // event type
	EventID   string    `json:"event_id,omitempty"`  // envelope event id, when readable
	SchemaID  int32     `json:"schema_id,omitempty"` // Confluent Schema Registry schema id of a framed value; 0 when not framed
	Time      time.Time `json:"time"`                // record timestamp
	Observed  time.Time `json:"observed"`            // when eventwatch audited it
	Message   string    `json:"message"`             // why it broke the rule
	Field     string    `json:"field,omitempty"`     // JSON path of the offending field
}

// Offender is a (service, topic, event type, rule) with its violation count
// and references to offending records.
type Offender struct {
	Service    string    `json:"service"`    // producing service
	Topic      string    `json:"topic"`      // topic
	EventType  string    `json:"event_type"` // event type
	Rule       string    `json:"rule"`       // rule id
	Profile    string    `json:"profile"`    // profile that judged it
	Severity   string    `json:"severity"`   // error or warning
	Violations int64     `json:"violations"` // violations this week
	Examples   []Example `json:"examples"`   // recent offending records with the reason
}

// DLQGrowth is how many records a dead-letter topic gained in the week.
type DLQGrowth struct {
	Topic  string `json:"topic"`  // dead-letter topic
	Growth int64  `json:"growth"` // records added
}

// LagRow is a consumer group's time above its lag objective and in lag
// status ERR.
type LagRow struct {
	Group           string  `json:"group"`              // consumer group
	BreachSeconds   float64 `json:"breach_seconds"`     // time above the objective
	ObservedSeconds float64 `json:"observed_seconds"`   // time observed
	BreachPct       float64 `json:"breach_pct"`         // 100 * breach / observed
	ErrSeconds      float64 `json:"status_err_seconds"` // time the group's lag status was ERR (the status of /api/v1/groups)
	ErrPct          float64 `json:"status_err_pct"`     // 100 * status_err / observed
	LostRecords     int64   `json:"lost_records"`       // records deleted by retention before the group read them
	AtRiskSeconds   float64 `json:"loss_risk_seconds"`  // time retention was less than an hour from deleting a record the group had not read
}

// CoverageRow is one service's trace propagation coverage.
type CoverageRow struct {
	Service    string  `json:"service"`    // producing service
	Events     int64   `json:"events"`     // events the stitcher saw from the service
	Propagated int64   `json:"propagated"` // of those, events that carried trace context
	Pct        float64 `json:"pct"`        // 100 * propagated / events
}

// DayPoint is one day's compliance.
type DayPoint struct {
	Day           string   `json:"day"`            // date in the report's time zone, 2006-01-02
	Checked       int64    `json:"checked"`        // records audited that day
	Compliant     int64    `json:"compliant"`      // compliant records
	CompliancePct *float64 `json:"compliance_pct"` // 100 * compliant / checked; null without data
}

// WeekInfo describes one week the store holds data for.
type WeekInfo struct {
	Week     string    `json:"week"`     // ISO week
	From     time.Time `json:"from"`     // start in the report's time zone
	To       time.Time `json:"to"`       // end (exclusive)
	Checked  int64     `json:"checked"`  // records audited in the week
	Complete bool      `json:"complete"` // the week has ended
}

// HasPrevious reports whether the store held data for the week before, so
// that comparisons with it mean something.
func (r *Weekly) HasPrevious() bool {
	return r.Summary.PrevCompliancePct != nil || r.Summary.PrevViolations > 0
}

// HasData reports whether any record was checked in the report's week.
func (r *Weekly) HasData() bool { return r.Summary.Checked > 0 }

// Scope names what the report is limited to: "team T", "service S" or "".
func (r *Weekly) Scope() string {
	switch {
	case r.Team != "":
		return "team " + r.Team
	case r.Service != "":
		return "service " + r.Service
	}
	return ""
}
