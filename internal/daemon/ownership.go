package daemon

import (
	"github.com/eventwatch/eventwatch/internal/catalog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/metrics"
	"github.com/eventwatch/eventwatch/internal/team"
)

// ownership builds the service → team map from the teams section and the
// catalog the router loaded.
func ownership(teams []team.Team, cat *catalog.Catalog) *team.Map {
	var prods []team.Producer
	if cat != nil {
		for _, e := range cat.Entries() {
			for _, svc := range e.AllProducers() { // an AsyncAPI catalog may name several
				prods = append(prods, team.Producer{Service: svc, Topic: e.Topic, Consumers: e.Consumers})
			}
		}
	}
	return team.New(teams, prods)
}

// ownershipGauge exports eventwatch_service_team_info from the current map.
type ownershipGauge struct{ vec *prometheus.GaugeVec }

func newOwnershipGauge(reg prometheus.Registerer) *ownershipGauge {
	return &ownershipGauge{vec: metrics.ServiceTeam.NewGaugeVec(reg)}
}

// set replaces every series with the pairs of m.
func (g *ownershipGauge) set(m *team.Map) {
	g.vec.Reset()
	for _, p := range m.Pairs() {
		g.vec.WithLabelValues(p[0], p[1]).Set(1)
	}
}

// applyOwnership rebuilds the map (start and reload) and hands it to the
// gauge and the report API.
func (d *daemon) applyOwnership(teams []team.Team, r *router) {
	m := ownership(teams, r.catalog)
	d.teams.Store(m)
	d.owners.set(m)
	if d.reports != nil {
		d.reports.SetOwnership(m)
	}
}
