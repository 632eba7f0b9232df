// Package report renders query results for people and programs: terminal
// tables, CSV, JSON and Markdown. Every value that came from a log record is
// attacker-influenced, so each renderer neutralises it for its medium
// (control characters for terminals, formula prefixes for spreadsheets).
package report

import (
	"fmt"
	"io"
	"strings"
)

// Report is something every format can render: a JSON document, and the
// same content as a flat table for table, CSV and Markdown.
type Report interface {
	// Title names the report (Markdown heading, table caption).
	Title() string
	// Doc is the value encoded for --format json.
	Doc() any
	// Header and Rows are the flat form. Cells are plain text.
	Header() []string
	Rows() [][]string
}

// Renderer writes a Report in one format.
type Renderer interface {
	Render(w io.Writer, r Report) error
}

// Formats are the values --format accepts.
var Formats = []string{"table", "csv", "json", "markdown"}

// For returns the renderer for a --format value.
func For(format string) (Renderer, error) {
	switch strings.ToLower(format) {
	case "table", "":
		return &Table{}, nil
	case "csv":
		return &CSV{}, nil
	case "json":
		return &JSON{}, nil
	case "markdown", "md":
		return &Markdown{}, nil
	}
	return nil, fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}
