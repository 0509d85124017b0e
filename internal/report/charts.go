package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// seriesColours are the Okabe-Ito colours for rule series, in order; the
// last one is "other rules".
var seriesColours = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#9A9A9A"}

// Geometry of the column charts (trend and per-week).
const (
	plotLeft   = 60.0
	plotTop    = 30.0
	plotHeight = 150.0
)

func colX(i, n int) (x, w float64) {
	step := (chartWidth - plotLeft - 10) / float64(max(n, 1))
	return plotLeft + float64(i)*step + step*0.15, step * 0.7
}

// trendChart draws weekly compliance as a line on a 0–100 % scale; a week
// without data has no point and says so.
func trendChart(title string, ws []WeekPoint) chart {
	c := chart{Title: title, Width: chartWidth, Height: int(plotTop + plotHeight + 40)}
	for _, p := range []float64{0, 50, 90, 100} {
		y := plotTop + plotHeight - plotHeight*p/100
		c.Grid = append(c.Grid, gridLine{X1: plotLeft, Y1: y, X2: chartWidth, Y2: y, Label: fmt.Sprintf("%.0f %%", p), LX: plotLeft - 6, LY: y + 4, Align: "end"})
	}
	var pts []string
	for i, w := range ws {
		x, cw := colX(i, len(ws))
		mid := x + cw/2
		c.Labels = append(c.Labels, text{X: mid, Y: plotTop + plotHeight + 18, Text: w.Week[5:], Align: "middle"})
		if w.CompliancePct == nil {
			c.Labels = append(c.Labels, text{X: mid, Y: plotTop + plotHeight - 6, Text: "no data", Align: "middle"})
			continue
		}
		v := *w.CompliancePct
		y := plotTop + plotHeight - plotHeight*v/100
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", mid, y))
		c.Marks = append(c.Marks, mark{X: mid, Y: y, Fill: complianceColour(v), Label: f1(v) + " %",
			Tip: fmt.Sprintf("%s: %s %% of %d checked", w.Week, f1(v), w.Checked)})
	}
	if len(pts) > 1 {
		c.Lines = append(c.Lines, polyline{Points: strings.Join(pts, " "), Stroke: colourCurrent})
	}
	return c
}

// topRules returns the rules with most violations over ws, at most n.
func topRules(ws []WeekPoint, n int) []string {
	tot := map[string]int64{}
	for _, w := range ws {
		for r, v := range w.Violations {
			tot[r] += v
		}
	}
	rules := make([]string, 0, len(tot))
	for r := range tot {
		rules = append(rules, r)
	}
	slices.SortFunc(rules, func(a, b string) int { return cmp.Or(cmp.Compare(tot[b], tot[a]), cmp.Compare(a, b)) })
	return rules[:min(n, len(rules))]
}

// violationsTrendChart stacks each week's violations by rule (the top
// rules, the rest as "other rules").
func violationsTrendChart(title string, ws []WeekPoint) chart {
	const maxSeries = 6
	rules := topRules(ws, maxSeries)
	c := chart{Title: title, Width: chartWidth, Height: int(plotTop + plotHeight + 40 + 18*float64((len(rules)+2)/2))}
	var top int64 = 1
	for _, w := range ws {
		var s int64
		for _, v := range w.Violations {
			s += v
		}
		top = max(top, s)
	}
	for _, p := range []float64{0, 0.5, 1} {
		y := plotTop + plotHeight - plotHeight*p
		c.Grid = append(c.Grid, gridLine{X1: plotLeft, Y1: y, X2: chartWidth, Y2: y, Label: i64(int64(p * float64(top))), LX: plotLeft - 6, LY: y + 4, Align: "end"})
	}
	for i, w := range ws {
		x, cw := colX(i, len(ws))
		c.Labels = append(c.Labels, text{X: x + cw/2, Y: plotTop + plotHeight + 18, Text: w.Week[5:], Align: "middle"})
		c.Bars = append(c.Bars, stack(w, rules, x, cw, top)...)
	}
	names := append(slices.Clone(rules), "other rules")
	for j, r := range names {
		c.Legend = append(c.Legend, legend{X: plotLeft + float64(j%2)*330, Y: plotTop + plotHeight + 30 + float64(j/2)*18,
			Fill: seriesColours[min(j, len(seriesColours)-1)], Label: r})
	}
	return c
}

// stack is one week's column, a segment per rule.
func stack(w WeekPoint, rules []string, x, cw float64, top int64) []bar {
	var out []bar
	y := plotTop + plotHeight
	var other int64
	for r, v := range w.Violations {
		if !slices.Contains(rules, r) {
			other += v
		}
	}
	vals := make([]int64, 0, len(rules)+1)
	for _, r := range rules {
		vals = append(vals, w.Violations[r])
	}
	vals = append(vals, other)
	for j, v := range vals {
		if v == 0 {
			continue
		}
		h := plotHeight * float64(v) / float64(top)
		y -= h
		name := "other rules"
		if j < len(rules) {
			name = rules[j]
		}
		out = append(out, bar{X: x, Y: y, W: cw, H: h, Fill: seriesColours[min(j, len(seriesColours)-1)],
			Tip: fmt.Sprintf("%s, %s: %d", w.Week, name, v), VX: x + cw/2, VY: y})
	}
	return out
}

// lagChart draws the share of observed time each group spent above the
// lag objective.
func lagChart(title string, rows []LagRow) chart {
	cs := make([]Compliance, len(rows))
	for i, r := range rows {
		cs[i] = Compliance{Name: r.Group, CompliancePct: r.BreachPct}
	}
	c := pctBars(title, cs, func(float64) string { return colourBad })
	for i := range c.Bars {
		c.Bars[i].Tip = fmt.Sprintf("%s: above the objective %s of %s observed", rows[i].Group, durationText(rows[i].BreachSeconds), durationText(rows[i].ObservedSeconds))
	}
	return c
}

// dlqChart draws records added per dead-letter topic.
func dlqChart(title string, rows []DLQGrowth) chart {
	c := chart{Title: title, Width: chartWidth, Height: 30 + rowHeight*len(rows)}
	var top int64 = 1
	for _, r := range rows {
		top = max(top, r.Growth)
	}
	for i, r := range rows {
		y := 22 + float64(i*rowHeight)
		w := barArea * float64(r.Growth) / float64(top)
		c.Labels = append(c.Labels, text{X: labelWidth - 8, Y: y + 14, Text: shorten(r.Topic, 34), Align: "end"})
		c.Bars = append(c.Bars, bar{X: labelWidth, Y: y, W: w, H: rowHeight - 8, Fill: colourWarn, Value: i64(r.Growth),
			VX: labelWidth + w + 6, VY: y + 14, Tip: fmt.Sprintf("%s: %d records added", r.Topic, r.Growth)})
	}
	return c
}

// pctBars draws horizontal bars on a 0–100 % scale.
func pctBars(title string, rows []Compliance, colour func(float64) string) chart {
	c := complianceChart(title, rows)
	for i := range c.Bars {
		c.Bars[i].Fill = colour(rows[i].CompliancePct)
	}
	return c
}
