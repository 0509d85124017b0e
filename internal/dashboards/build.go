package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// gridWidth is Grafana's dashboard width in columns.
const gridWidth = 24

// datasourceVar is the name of every board's Prometheus datasource variable.
const datasourceVar = "datasource"

// Build renders b with the Grafana Foundation SDK.
func Build(b Board) (dashboard.Dashboard, error) {
	db := dashboard.NewDashboardBuilder(b.Title).
		Uid(b.UID).
		Description(b.Description).
		Tags(append([]string{"eventwatch"}, b.Tags...)).
		Refresh("30s").
		Time("now-6h", "now").
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Readonly().
		WithVariable(datasourceVariable())
	for _, v := range b.Variables {
		db.WithVariable(queryVariable(v))
	}
	var y uint32
	for _, r := range b.Rows {
		db.WithRow(dashboard.NewRowBuilder(r.Title).Id(r.ID).GridPos(dashboard.GridPos{H: 1, W: gridWidth, Y: y}))
		y++
		for _, pp := range layout(r.Panels, &y) {
			db.WithPanel(panelBuilder(pp.panel, pp.pos))
		}
	}
	d, err := db.Build()
	if err != nil {
		return dashboard.Dashboard{}, fmt.Errorf("build board %s: %w", b.UID, err)
	}
	return d, nil
}

type placed struct {
	panel Panel
	pos   dashboard.GridPos
}

// layout places panels left to right from *y, wrapping at the grid width,
// and advances *y past the last line.
func layout(panels []Panel, y *uint32) []placed {
	out := make([]placed, 0, len(panels))
	var x, lineHeight uint32
	for _, p := range panels {
		w, h := p.size()
		if x+w > gridWidth {
			*y += lineHeight
			x, lineHeight = 0, 0
		}
		out = append(out, placed{p, dashboard.GridPos{X: x, Y: *y, W: w, H: h}})
		x += w
		lineHeight = max(lineHeight, h)
	}
	*y += lineHeight
	return out
}

func datasourceRef() common.DataSourceRef {
	return common.DataSourceRef{Type: ptr("prometheus"), Uid: ptr("${" + datasourceVar + "}")}
}

func datasourceVariable() *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder(datasourceVar).
		Label("Data source").
		Type("prometheus")
}

func queryVariable(v Variable) *dashboard.QueryVariableBuilder {
	q := v.query()
	title := v.Title
	if title == "" {
		title = v.Name
	}
	b := dashboard.NewQueryVariableBuilder(v.Name).
		Label(title).
		Description("Filter by " + v.Help + ".").
		Datasource(datasourceRef()).
		Query(dashboard.StringOrMap{String: ptr(q)}).
		Definition(q).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc)
	if v.Single {
		return b.Multi(false).IncludeAll(false)
	}
	all := v.AllValue
	if all == "" {
		all = ".*"
	}
	return b.Multi(true).
		IncludeAll(true).
		AllValue(all).
		Current(dashboard.VariableOption{
			Selected: ptr(true),
			Text:     dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}},
			Value:    dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
		})
}

// commonPanel is the part of the SDK's per-visualisation panel builders
// that every eventwatch panel sets.
type commonPanel[B any] interface {
	cog.Builder[dashboard.Panel]
	Id(uint32) B
	Title(string) B
	Description(string) B
	Datasource(common.DataSourceRef) B
	GridPos(dashboard.GridPos) B
	Unit(string) B
	WithTarget(cog.Builder[variants.Dataquery]) B
	Thresholds(cog.Builder[dashboard.ThresholdsConfig]) B
	Mappings([]dashboard.ValueMapping) B
	Min(float64) B
	Max(float64) B
}

func applyCommon[B commonPanel[B]](b B, p Panel, pos dashboard.GridPos) B {
	b.Id(p.ID).Title(p.Title).Description(p.Description).Datasource(datasourceRef()).GridPos(pos).
		Thresholds(thresholds(p.Thresholds))
	if p.Unit != "" {
		b.Unit(p.Unit)
	}
	if p.Min != nil {
		b.Min(*p.Min)
	}
	if p.Max != nil {
		b.Max(*p.Max)
	}
	if len(p.Mappings) > 0 {
		b.Mappings(valueMappings(p.Mappings))
	}
	for i, q := range p.Queries {
		b.WithTarget(target(q, RefID(i), p.Kind))
	}
	return b
}

func panelBuilder(p Panel, pos dashboard.GridPos) cog.Builder[dashboard.Panel] {
	lastValue := common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})
	switch p.Kind {
	case Stat:
		return applyCommon(stat.NewPanelBuilder(), p, pos).
			ReduceOptions(lastValue).
			ColorMode(common.BigValueColorModeBackground).
			GraphMode(common.BigValueGraphModeArea)
	case Table:
		return applyCommon(table.NewPanelBuilder(), p, pos).
			WithTransformation(dashboard.DataTransformerConfig{Id: "organize",
				Options: map[string]any{"excludeByName": map[string]bool{"Time": true}}})
	case BarGauge:
		return applyCommon(bargauge.NewPanelBuilder(), p, pos).
			ReduceOptions(lastValue).
			DisplayMode(common.BarGaugeDisplayModeGradient).
			Orientation(common.VizOrientationHorizontal)
	default:
		return applyCommon(timeseries.NewPanelBuilder(), p, pos).
			FillOpacity(10).
			Legend(common.NewVizLegendOptionsBuilder().
				DisplayMode(common.LegendDisplayModeTable).
				Placement(common.LegendPlacementBottom).
				Calcs([]string{"lastNotNull", "max"}).
				ShowLegend(true))
	}
}

func target(q Query, refID string, k Kind) *prometheus.DataqueryBuilder {
	t := prometheus.NewDataqueryBuilder().
		Expr(q.Expr).
		RefId(refID).
		Datasource(datasourceRef()).
		EditorMode(prometheus.QueryEditorModeCode)
	if q.Legend != "" {
		t.LegendFormat(q.Legend)
	}
	if q.Instant {
		t.Instant()
	} else {
		t.Range()
	}
	if k == Table {
		t.Format(prometheus.PromQueryFormatTable)
	}
	return t
}

func thresholds(steps []Step) *dashboard.ThresholdsConfigBuilder {
	if len(steps) == 0 {
		steps = []Step{{Color: "green"}}
	}
	out := make([]dashboard.Threshold, len(steps))
	for i, s := range steps {
		out[i] = dashboard.Threshold{Color: s.Color}
		if i > 0 {
			out[i].Value = ptr(s.Value)
		}
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(out)
}

func valueMappings(ms []Mapped) []dashboard.ValueMapping {
	opts := make(map[string]dashboard.ValueMappingResult, len(ms))
	for i, m := range ms {
		opts[m.Value] = dashboard.ValueMappingResult{Text: ptr(m.Text), Color: ptr(m.Color), Index: ptr(int32(i))}
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: opts}}}
}
