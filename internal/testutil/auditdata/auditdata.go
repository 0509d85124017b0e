// Package auditdata is a synthetic data set of audited records for the
// report, ledger and API tests, with what a report over it must say
// computed straight from the observations (the ground truth those tests
// compare with).
package auditdata

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/eventwatch/eventwatch/internal/event"
)

// Observation is one audited record of a synthetic data set.
type Observation struct {
	Rec event.Record // the record as read
	Res event.Result // what the audit engine found
}

var (
	services = []string{"orders", "billing", "shipping", ""}
	rules    = []struct {
		rule string
		sev  event.Severity
	}{
		{"envelope.missing_field", event.SeverityError},
		{"naming.event_type", event.SeverityError},
		{"trace.missing_context", event.SeverityWarning},
		{"key.missing", event.SeverityWarning},
	}
)

// Dataset generates n audited records from seed: services, topics, event
// types and violations vary; roughly a third of the records break rules.
func Dataset(seed uint64, n int, at time.Time) []Observation {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]Observation, n)
	for i := range out {
		svc := services[r.IntN(len(services))]
		topic := fmt.Sprintf("%s.events", svc)
		if svc == "" {
			topic = "legacy.events"
		}
		o := Observation{
			Rec: event.Record{Topic: topic, Partition: int32(r.IntN(3)), Offset: int64(i), Timestamp: at.Add(time.Duration(i) * time.Second),
				Value: []byte(`{"secret":"PAYLOAD-MARKER-7f3a"}`)},
			Res: event.Result{Source: svc, EventType: fmt.Sprintf("%s.thing.happened.v%d", svc, 1+r.IntN(2)), EventID: fmt.Sprintf("evt-%d", i)},
		}
		for _, rule := range rules {
			if r.IntN(6) == 0 {
				o.Res.Violations = append(o.Res.Violations, event.Violation{Rule: rule.rule, Severity: rule.sev, Message: "field data.x breaks " + rule.rule, Field: "data.x"})
			}
		}
		out[i] = o
	}
	return out
}

// Expected is, straight from the observations, what the report must
// say: the /metrics definitions (checked, compliant = no error-severity
// violation, violations per rule) per topic, per service and per rule.
type Expected struct {
	Checked, Compliant, Violations int64
	Topic                          map[string][2]int64 // checked, compliant
	Service                        map[string][2]int64 // checked, compliant; "unknown" for no source
	Rule                           map[string]int64    // violations per rule
}

// Expect computes Expected straight from the observations.
func Expect(obs []Observation) Expected {
	e := Expected{Topic: map[string][2]int64{}, Service: map[string][2]int64{}, Rule: map[string]int64{}}
	for _, o := range obs {
		ok := int64(1)
		for _, v := range o.Res.Violations {
			e.Rule[v.Rule]++
			e.Violations++
			if v.Severity == event.SeverityError {
				ok = 0
			}
		}
		svc := o.Res.Source
		if svc == "" {
			svc = "unknown"
		}
		e.Checked++
		e.Compliant += ok
		e.Topic[o.Rec.Topic] = [2]int64{e.Topic[o.Rec.Topic][0] + 1, e.Topic[o.Rec.Topic][1] + ok}
		e.Service[svc] = [2]int64{e.Service[svc][0] + 1, e.Service[svc][1] + ok}
	}
	return e
}
