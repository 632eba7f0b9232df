package report

import (
	"strconv"

	"github.com/rootaudit/rootaudit/query"
)

// Integrity adapts the log-integrity summary to a Report. Its flat form
// lists the summary lines, then every failure.
type Integrity struct{ I *query.Integrity }

var _ Report = Integrity{}

// Title implements Report.
func (i Integrity) Title() string {
	return "Log-file integrity (CloudTrail digest validation): " + strconv.Itoa(len(i.I.Failures)) + " failure(s)"
}

// Doc implements Report.
func (i Integrity) Doc() any { return i.I }

// Header implements Report.
func (i Integrity) Header() []string {
	return []string{"kind", "status", "files", "events", "source", "detail"}
}

// Rows implements Report.
func (i Integrity) Rows() [][]string {
	var out [][]string
	for _, c := range i.I.Summary {
		out = append(out, []string{c.Kind, c.Status, strconv.FormatInt(c.Files, 10), strconv.FormatInt(c.Events, 10), "", ""})
	}
	for _, f := range i.I.Failures {
		out = append(out, []string{f.Kind, f.Status, "", "", f.Source, f.Detail})
	}
	return out
}
