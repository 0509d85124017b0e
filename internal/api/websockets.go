package api

import "github.com/eventwatch/eventwatch/internal/report"

// WithWebSockets adds the WebSocket section to reports of the week in
// progress, from ws (called per report); a service or team report keeps
// that scope's endpoints.
func WithWebSockets(ws func() []report.WebSocketEndpoint) APIOption {
	return func(a *API) { a.websockets = ws }
}

// webSocketsFor returns the endpoints a report for service and team shows
// (both empty: every endpoint).
func (a *API) webSocketsFor(service, team string) []report.WebSocketEndpoint {
	if a.websockets == nil {
		return nil
	}
	all := a.websockets()
	owners := a.owners.Load()
	var out []report.WebSocketEndpoint
	for _, e := range all {
		if service != "" && e.Service != service {
			continue
		}
		if team != "" && (owners == nil || owners.TeamOf(e.Service) != team) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// WithFlows adds the flow map (pathways exact or inferred, causation,
// ambiguous hops) to whole-estate reports of the week in progress, from
// flows (called per report; nil: no section).
func WithFlows(flows func() *report.Flows) APIOption {
	return func(a *API) { a.flows = flows }
}
