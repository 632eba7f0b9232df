package report

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/rootaudit/rootaudit/query"
)

// Charts are drawn server-side as inline SVG: the page needs no script. A
// chart is geometry plus text; the template writes it with html/template,
// so every label (account names, task policies) is escaped like any other
// value.

type svgChart struct {
	ID      string
	Width   int
	Height  int
	Label   string // aria-label
	Rects   []svgRect
	Lines   []svgLine
	Texts   []svgText
	Legend  []svgLegend
	Caption string
	Empty   string // shown instead of the chart when there is nothing to draw
}

type svgRect struct {
	X, Y, W, H string
	Class      string
	Title      string
}

type svgLine struct {
	X1, Y1, X2, Y2 string
	Class          string
}

type svgText struct {
	X, Y   string
	Anchor string
	Class  string
	Text   string
}

type svgLegend struct {
	Class, Label string
}

const (
	chartWidth  = 960
	chartLeft   = 190 // room for account labels
	chartRight  = 40
	chartPlot   = chartWidth - chartLeft - chartRight
	chartRowH   = 34
	chartAxisH  = 28
	chartTitleY = 14
)

func f2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// buckets returns the starts of the UTC buckets overlapping w, as DuckDB's
// date_trunc computes them (weeks start on Monday).
func buckets(w query.Window, unit string) []time.Time {
	s := w.Since.UTC()
	var b time.Time
	switch unit {
	case "month":
		b = time.Date(s.Year(), s.Month(), 1, 0, 0, 0, 0, time.UTC)
	case "week":
		b = time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, time.UTC)
		b = b.AddDate(0, 0, -((int(b.Weekday()) + 6) % 7))
	default:
		b = time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, time.UTC)
	}
	var out []time.Time
	for ; b.Before(w.Until); b = next(b, unit) {
		out = append(out, b)
	}
	return out
}

func next(t time.Time, unit string) time.Time {
	switch unit {
	case "month":
		return t.AddDate(0, 1, 0)
	case "week":
		return t.AddDate(0, 0, 7)
	}
	return t.AddDate(0, 0, 1)
}

// monthTicks adds month labels along the bottom axis of a time chart whose
// x runs over [from, to).
func monthTicks(c *svgChart, from, to time.Time, y float64, x func(time.Time) float64) {
	m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	if m.Before(from) {
		m = m.AddDate(0, 1, 0)
	}
	months := 0
	for t := m; t.Before(to); t = t.AddDate(0, 1, 0) {
		months++
	}
	step := 1
	if months > 18 {
		step = 3
	}
	for i := 0; m.Before(to); m, i = m.AddDate(0, 1, 0), i+1 {
		if i%step != 0 {
			continue
		}
		xx := x(m)
		c.Lines = append(c.Lines, svgLine{f2(xx), f2(y - 4), f2(xx), f2(y), "tick"})
		label := m.Format("Jan")
		if m.Month() == time.January || i == 0 {
			label = m.Format("Jan 2006")
		}
		c.Texts = append(c.Texts, svgText{f2(xx + 2), f2(y + 12), "start", "axis", label})
	}
}

// activityClasses are the stacked series of the activity chart, bottom up.
var activityClasses = []struct{ key, class, label string }{
	{"sign-in", "c-signin", "sign-in"},
	{"console", "c-console", "console call"},
	{"long-term-key", "c-key", "root access-key call"},
	{"failed", "c-failed", "failed sign-in (attempt)"},
}

// activityChart draws human root activity over time: one row per account
// with any, bars per bucket stacked by class, one scale for all rows.
func activityChart(ev *query.Evidence, names map[string]string) svgChart {
	c := svgChart{ID: "chart-activity", Width: chartWidth, Label: "Human root activity over time per account"}
	for _, a := range activityClasses {
		c.Legend = append(c.Legend, svgLegend{a.class, a.label})
	}
	bs := buckets(ev.Window, ev.ActivityBucket)
	idx := map[time.Time]int{}
	for i, b := range bs {
		idx[b] = i
	}
	type cell map[string]int64
	rows := map[string][]cell{}
	var accts []string
	for _, a := range ev.Activity {
		r := rows[a.AccountID]
		if r == nil {
			r = make([]cell, len(bs))
			rows[a.AccountID] = r
			accts = append(accts, a.AccountID)
		}
		i, ok := idx[a.Bucket]
		if !ok {
			continue
		}
		if r[i] == nil {
			r[i] = cell{}
		}
		r[i][a.Class] += a.Events
		r[i]["failed"] += a.FailedSignins
	}
	sort.Strings(accts)
	c.Caption = fmt.Sprintf("Human root events per %s (UTC) and account, stacked by class; one scale for all rows. Accounts without human root activity in the period are not drawn.", ev.ActivityBucket)
	if len(accts) == 0 {
		c.Empty = "No human root activity in the period."
		return c
	}
	var max int64
	for _, r := range rows {
		for _, x := range r {
			var s int64
			for _, v := range x {
				s += v
			}
			if s > max {
				max = s
			}
		}
	}
	top := 22.0
	c.Height = int(top) + len(accts)*chartRowH + chartAxisH
	c.Texts = append(c.Texts, svgText{f2(chartWidth - chartRight + 4), f2(top + 8), "start", "axis", "max " + strconv.FormatInt(max, 10)})
	bw := float64(chartPlot) / float64(len(bs))
	from, to := bs[0], next(bs[len(bs)-1], ev.ActivityBucket)
	span := to.Sub(from).Seconds()
	x := func(t time.Time) float64 { return chartLeft + float64(chartPlot)*t.Sub(from).Seconds()/span }
	for ri, id := range accts {
		y0 := top + float64(ri)*chartRowH
		base := y0 + chartRowH - 6
		h := float64(chartRowH - 10)
		label := id
		if n := names[id]; n != "" {
			label += " " + n
		}
		c.Texts = append(c.Texts, svgText{f2(chartLeft - 6), f2(base - 4), "end", "label", clipRunes(label, 30)})
		c.Lines = append(c.Lines, svgLine{f2(chartLeft), f2(base), f2(chartLeft + chartPlot), f2(base), "base"})
		for bi, x := range rows[id] {
			if x == nil {
				continue
			}
			y := base
			tip := fmt.Sprintf("%s, %s of %s:", label, ev.ActivityBucket, bs[bi].Format("2006-01-02"))
			for _, cl := range activityClasses {
				v := x[cl.key]
				if v == 0 {
					continue
				}
				hh := h * float64(v) / float64(max)
				if hh < 1.5 {
					hh = 1.5
				}
				y -= hh
				c.Rects = append(c.Rects, svgRect{f2(chartLeft + float64(bi)*bw + 0.5), f2(y), f2(maxf(bw-1, 1)), f2(hh), cl.class,
					fmt.Sprintf("%s %d %s", tip, v, cl.label)})
			}
		}
	}
	monthTicks(&c, from, to, float64(c.Height-chartAxisH)+6, x)
	return c
}

// taskClasses gives each task policy a colour class, in a fixed order.
var taskClasses = []string{"t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7"}

// sessionsChart draws privileged sessions per month, stacked by task
// policy, refused calls on top.
func sessionsChart(v *packView) svgChart {
	c := svgChart{ID: "chart-sessions", Width: chartWidth, Label: "Privileged sessions per month by task"}
	c.Caption = "AssumeRoot sessions issued per UTC month, stacked by task policy; refused AssumeRoot calls on top."
	classOf := map[string]string{}
	for i, t := range v.TaskPolicies {
		cl := taskClasses[i%len(taskClasses)]
		classOf[t] = cl
		c.Legend = append(c.Legend, svgLegend{cl, t})
	}
	c.Legend = append(c.Legend, svgLegend{"c-refused", "refused call"})
	var max int64
	for _, m := range v.SessionMonths {
		if m.Total > max {
			max = m.Total
		}
	}
	if len(v.SessionMonths) == 0 || max == 0 {
		c.Empty = "No AssumeRoot call in the period."
		return c
	}
	plotH := 160.0
	top := 16.0
	c.Height = int(top+plotH) + chartAxisH
	base := top + plotH
	left := 60.0
	plot := float64(chartWidth) - left - chartRight
	bw := plot / float64(len(v.SessionMonths))
	// y axis: ticks at whole numbers.
	step := int64(1)
	for max/step > 5 {
		step *= 2
	}
	for t := int64(0); t <= max; t += step {
		y := base - plotH*float64(t)/float64(max)
		c.Lines = append(c.Lines, svgLine{f2(left), f2(y), f2(left + plot), f2(y), "grid"})
		c.Texts = append(c.Texts, svgText{f2(left - 6), f2(y + 4), "end", "axis", strconv.FormatInt(t, 10)})
	}
	for i, m := range v.SessionMonths {
		x := left + float64(i)*bw
		y := base
		stack := func(n int64, class, what string) {
			if n == 0 {
				return
			}
			hh := plotH * float64(n) / float64(max)
			y -= hh
			c.Rects = append(c.Rects, svgRect{f2(x + bw*0.15), f2(y), f2(bw * 0.7), f2(hh), class, fmt.Sprintf("%s: %d %s", m.Month, n, what)})
		}
		for _, t := range v.TaskPolicies {
			stack(m.ByTask[t], classOf[t], t)
		}
		stack(m.Failed, "c-refused", "refused")
		if m.Total > 0 {
			c.Texts = append(c.Texts, svgText{f2(x + bw/2), f2(y - 3), "middle", "value", strconv.FormatInt(m.Total, 10)})
		}
		label := m.Month[5:]
		if i == 0 || label == "01" {
			label = m.Month
		}
		c.Texts = append(c.Texts, svgText{f2(x + bw/2), f2(base + 14), "middle", "axis", monthLabel(label)})
	}
	c.Lines = append(c.Lines, svgLine{f2(left), f2(base), f2(left + plot), f2(base), "base"})
	return c
}

func monthLabel(s string) string {
	if len(s) == 2 {
		if t, err := time.Parse("01", s); err == nil {
			return t.Format("Jan")
		}
	}
	if t, err := time.Parse("2006-01", s); err == nil {
		return t.Format("Jan 2006")
	}
	return s
}

// coverageChart draws the log coverage heatmap: one row per account, one
// column per UTC day; consecutive days in the same state share one
// rectangle.
func coverageChart(ev *query.Evidence, names map[string]string) svgChart {
	c := svgChart{ID: "chart-coverage", Width: chartWidth, Label: "Log coverage heatmap, accounts by days"}
	c.Legend = []svgLegend{{"cov-full", "log files in every region of the account"}, {"cov-partial", "log files in some regions"},
		{"cov-none", "no log file (gap)"}, {"cov-problem", "failed file, integrity failure or digest chain gap"}}
	c.Caption = "One row per account, one column per UTC delivery day. Regions are those in which the account has log files; accounts with none are a full gap."
	days := ev.Coverage.Days
	if len(days) == 0 {
		c.Empty = "The period has no day."
		return c
	}
	byAcct := ev.Coverage.AccountDays()
	top := 8.0
	rowH := 16.0
	c.Height = int(top+rowH*float64(len(ev.Accounts))) + chartAxisH
	cw := float64(chartPlot) / float64(len(days))
	for ri, a := range ev.Accounts {
		y := top + float64(ri)*rowH
		label := a.AccountID
		if n := names[a.AccountID]; n != "" {
			label += " " + n
		}
		c.Texts = append(c.Texts, svgText{f2(chartLeft - 6), f2(y + rowH - 4), "end", "label", clipRunes(label, 30)})
		ads := byAcct[a.AccountID]
		state := func(i int) (string, string) {
			if ads == nil {
				return "cov-none", "no log file (the account has no log file)"
			}
			d := ads[i]
			switch {
			case d.FailedFiles+d.IntegrityFailures+d.DigestChainGaps+d.DigestFailures > 0:
				return "cov-problem", fmt.Sprintf("%d failed files, %d integrity failures, %d digest chain gaps, %d digest failures",
					d.FailedFiles, d.IntegrityFailures, d.DigestChainGaps, d.DigestFailures)
			case d.RegionsWithFiles == 0:
				return "cov-none", fmt.Sprintf("no log file (0 of %d regions)", d.Regions)
			case d.RegionsWithFiles < d.Regions:
				return "cov-partial", fmt.Sprintf("log files in %d of %d regions", d.RegionsWithFiles, d.Regions)
			}
			return "cov-full", fmt.Sprintf("log files in all %d regions", d.Regions)
		}
		start := 0
		cls, tip := state(0)
		for i := 1; i <= len(days); i++ {
			var ncls, ntip string
			if i < len(days) {
				ncls, ntip = state(i)
				if ncls == cls && ntip == tip {
					continue
				}
			}
			r := query.DayRange{First: days[start], Last: days[i-1]}
			c.Rects = append(c.Rects, svgRect{f2(chartLeft + float64(start)*cw), f2(y + 1), f2(float64(i-start) * cw), f2(rowH - 2), cls,
				fmt.Sprintf("%s, %s: %s", label, r.String(), tip)})
			start, cls, tip = i, ncls, ntip
		}
	}
	from, to := days[0], days[len(days)-1].AddDate(0, 0, 1)
	span := to.Sub(from).Seconds()
	monthTicks(&c, from, to, float64(c.Height-chartAxisH)+6, func(t time.Time) float64 {
		return chartLeft + float64(chartPlot)*t.Sub(from).Seconds()/span
	})
	return c
}

func maxf(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

// clipRunes shortens s to n runes with an ellipsis.
func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
