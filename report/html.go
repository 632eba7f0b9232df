package report

import (
	"embed"
	"fmt"
	"html/template"
	"io"
)

//go:embed templates/evidence.html.tmpl
var templateFS embed.FS

// The page is one html/template: contextual autoescaping escapes every
// value for where it lands (text, attribute, the <title> of an SVG shape),
// so a log value such as `"><img src=x onerror=…>` stays text. The page
// carries a Content-Security-Policy that forbids scripts and every
// network fetch (default-src 'none'; only inline styles and data: images),
// and uses neither.
var evidenceTemplate = template.Must(template.New("evidence.html.tmpl").Funcs(template.FuncMap{
	"inc": func(i int) int { return i + 1 },
	"n":   n,
}).ParseFS(templateFS, "templates/evidence.html.tmpl"))

// htmlPage is the data of the template.
type htmlPage struct {
	*packView
	ActivityChart svgChart
	SessionsChart svgChart
	CoverageChart svgChart
}

// PackCSP is the Content-Security-Policy of index.html, written as a meta
// element by the template.
const PackCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

// writeHTML writes index.html.
func writeHTML(w io.Writer, p *Pack, v *packView) error {
	names := map[string]string{}
	for _, a := range v.Accounts {
		names[a.ID] = a.Name
	}
	page := htmlPage{packView: v,
		ActivityChart: activityChart(p.Ev, names),
		SessionsChart: sessionsChart(v),
		CoverageChart: coverageChart(p.Ev, names),
	}
	cleanStrings(&page.ActivityChart)
	cleanStrings(&page.SessionsChart)
	cleanStrings(&page.CoverageChart)
	if err := evidenceTemplate.Execute(w, page); err != nil {
		return fmt.Errorf("render %s: %w", PackIndex, err)
	}
	return nil
}
