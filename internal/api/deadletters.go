package api

import (
	"time"

	"github.com/eventwatch/eventwatch/internal/report"
)

// WithDeadLetters adds "Dead letters by cause" (causes counted within the
// report's week, from causes) and, for the week in progress, "Poison
// pills" (from pills) to reports; a service or team report keeps the dead
// letters its services own and the pills of its groups or its services'
// records. Either function may be nil.
func WithDeadLetters(causes func(from, to time.Time) []report.DeadLetterCause, pills func() []report.PoisonPill) APIOption {
	return func(a *API) { a.deadLetters, a.pills = causes, pills }
}

// addDeadLetters fills the two sections of rep for the scope.
func (a *API) addDeadLetters(rep *report.Weekly, service, team string) {
	in := a.inScope(service, team)
	if a.deadLetters != nil {
		for _, c := range a.deadLetters(rep.From, rep.To) {
			if in(c.Service) {
				rep.DeadLetters = append(rep.DeadLetters, c)
			}
		}
	}
	if a.pills != nil && rep.InProgress {
		for _, p := range a.pills() {
			if in(p.Service) || in(p.Group) {
				rep.PoisonPills = append(rep.PoisonPills, p)
			}
		}
	}
}

// inScope reports whether a service (or a group named after one) belongs
// to the report's scope: every one for the whole estate.
func (a *API) inScope(service, team string) func(string) bool {
	owners := a.owners.Load()
	return func(s string) bool {
		switch {
		case service != "" && s != service:
			return false
		case team != "":
			return owners.TeamOf(s) == team
		}
		return true
	}
}
