package metrics

// Ownership: which team owns which service (the service → team map).
var (
	// ServiceTeam is an info metric (always 1) that the generated alert
	// rules join on `service` to put the owning team on symptom alerts.
	ServiceTeam = define(Spec{Name: "eventwatch_service_team_info", Kind: Gauge, Area: "audit",
		Help:   "Always 1; one series per service of the ownership map, labelled with the team that owns it.",
		Labels: []string{"service", "team"}})
)
