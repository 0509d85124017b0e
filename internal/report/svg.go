package report

import "fmt"

// Colours from the Okabe-Ito palette, distinguishable with the common colour
// vision deficiencies; every bar also carries its number as text.
const (
	colourGood    = "#009E73" // bluish green: compliance >= 99 %
	colourWarn    = "#E69F00" // orange: >= 90 %
	colourBad     = "#D55E00" // vermillion: below 90 %
	colourCurrent = "#0072B2" // blue: this week
	colourPrev    = "#9A9A9A" // grey: previous week
)

// chart is the geometry of one inline SVG bar chart; the template draws it.
type chart struct {
	Title  string // accessible title (<title>, aria-label)
	Width  int    // viewBox width
	Height int    // viewBox height
	Bars   []bar  // bars in drawing order
	Labels []text // category labels
	Legend []legend
	Grid   []gridLine
	Lines  []polyline // line series (trend charts)
	Marks  []mark     // points on the lines, with their value
}

type polyline struct {
	Points string // SVG points attribute
	Stroke string
}

type mark struct {
	X, Y  float64
	Fill  string
	Label string // value printed above the point
	Tip   string
}

type bar struct {
	X, Y, W, H float64
	Fill       string
	Value      string  // number printed at the end of the bar
	VX, VY     float64 // value position
	Tip        string  // <title> of the bar
}

type text struct {
	X, Y  float64
	Text  string
	Align string // SVG text-anchor
}

type legend struct {
	X, Y  float64
	Fill  string
	Label string
}

type gridLine struct {
	X1, Y1, X2, Y2 float64
	Label          string  // scale value
	LX, LY         float64 // label position
	Align          string  // label text-anchor
}

const (
	chartWidth = 720
	labelWidth = 230
	barArea    = chartWidth - labelWidth - 70
	rowHeight  = 26
)

func complianceColour(pct float64) string {
	switch {
	case pct >= 99:
		return colourGood
	case pct >= 90:
		return colourWarn
	}
	return colourBad
}

// complianceChart draws horizontal compliance bars on a 0–100 % scale.
func complianceChart(title string, rows []Compliance) chart {
	c := chart{Title: title, Width: chartWidth, Height: 30 + rowHeight*len(rows)}
	for _, p := range []float64{0, 50, 90, 100} {
		x := labelWidth + barArea*p/100
		c.Grid = append(c.Grid, gridLine{X1: x, Y1: 14, X2: x, Y2: float64(c.Height), Label: fmt.Sprintf("%.0f %%", p), LX: x, LY: 11, Align: "middle"})
	}
	for i, r := range rows {
		y := 22 + float64(i*rowHeight)
		w := barArea * r.CompliancePct / 100
		c.Labels = append(c.Labels, text{X: labelWidth - 8, Y: y + 14, Text: shorten(r.Name, 34), Align: "end"})
		c.Bars = append(c.Bars, bar{X: labelWidth, Y: y, W: w, H: rowHeight - 8, Fill: complianceColour(r.CompliancePct),
			Value: f1(r.CompliancePct) + " %", VX: labelWidth + w + 6, VY: y + 14,
			Tip: fmt.Sprintf("%s: %s %% of %d checked", r.Name, f1(r.CompliancePct), r.Checked)})
	}
	return c
}

// rulesChart draws violations per rule, beside the compared span of the
// previous week's (legend prevLabel) unless prevLabel is empty; a rule seen
// with two severities is labelled with each.
func rulesChart(title string, rules []RuleTrend, prevLabel string) chart {
	withPrev := prevLabel != ""
	if len(rules) > 12 {
		rules = rules[:12]
	}
	series := 1
	if withPrev {
		series = 2
	}
	c := chart{Title: title, Width: chartWidth, Height: 34 + series*rowHeight*len(rules)}
	c.Legend = []legend{{X: labelWidth, Y: 4, Fill: colourCurrent, Label: "this week"}}
	if withPrev {
		c.Legend = append(c.Legend, legend{X: labelWidth + 120, Y: 4, Fill: colourPrev, Label: prevLabel})
	}
	var top int64 = 1
	seen := map[string]int{}
	for _, r := range rules {
		top = max(top, r.Count, r.Previous)
		seen[r.Rule]++
	}
	for i, r := range rules {
		y := 26 + float64(series*i*rowHeight)
		label := shorten(r.Rule, 34)
		if seen[r.Rule] > 1 {
			label = shorten(r.Rule, 24) + " (" + r.Severity + ")"
		}
		c.Labels = append(c.Labels, text{X: labelWidth - 8, Y: y + 14 + float64(series-1)*10, Text: label, Align: "end"})
		for j, v := range []int64{r.Count, r.Previous}[:series] {
			w := barArea * float64(v) / float64(top)
			by := y + float64(j)*(rowHeight-4)
			fill := []string{colourCurrent, colourPrev}[j]
			c.Bars = append(c.Bars, bar{X: labelWidth, Y: by, W: w, H: rowHeight - 8, Fill: fill, Value: i64(v),
				VX: labelWidth + w + 6, VY: by + 13, Tip: fmt.Sprintf("%s (%s): %d", r.Rule, r.Severity, v)})
		}
	}
	return c
}

// dailyChart draws compliance per day as columns.
func dailyChart(title string, days []DayPoint) chart {
	const h, top, colW = 150.0, 20.0, 80.0
	c := chart{Title: title, Width: chartWidth, Height: int(h + 50)}
	for _, p := range []float64{0, 50, 100} {
		y := top + h - h*p/100
		c.Grid = append(c.Grid, gridLine{X1: 60, Y1: y, X2: chartWidth, Y2: y, Label: fmt.Sprintf("%.0f %%", p), LX: 54, LY: y + 4, Align: "end"})
	}
	for i, d := range days {
		x := 70 + float64(i)*(colW+10)
		if d.CompliancePct == nil {
			c.Labels = append(c.Labels, text{X: x + colW/2, Y: top + h - 4, Text: "no data", Align: "middle"})
		} else {
			v := *d.CompliancePct
			bh := h * v / 100
			c.Bars = append(c.Bars, bar{X: x, Y: top + h - bh, W: colW, H: bh, Fill: complianceColour(v),
				Value: f1(v) + " %", VX: x + colW/2, VY: top + h - bh - 4,
				Tip: fmt.Sprintf("%s: %s %% of %d checked", d.Day, f1(v), d.Checked)})
		}
		c.Labels = append(c.Labels, text{X: x + colW/2, Y: top + h + 18, Text: d.Day[5:], Align: "middle"})
	}
	return c
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
