package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

var (
	_ Renderer = (*Table)(nil)
	_ Renderer = (*CSV)(nil)
	_ Renderer = (*JSON)(nil)
	_ Renderer = (*Markdown)(nil)
)

// Table renders an aligned terminal table.
type Table struct{}

// Render implements Renderer.
func (*Table) Render(w io.Writer, r Report) error {
	rows := r.Rows()
	if _, err := fmt.Fprintln(w, Terminal(r.Title())); err != nil {
		return fmt.Errorf("render table: %w", err)
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleLight)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	)
	t.Header(sanitizeAll(r.Header()))
	for _, row := range rows {
		if err := t.Append(sanitizeAll(row)); err != nil {
			return fmt.Errorf("render table: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("render table: %w", err)
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "(no rows)")
		return err
	}
	return nil
}

func sanitizeAll(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = Terminal(c)
	}
	return out
}

// CSV renders RFC 4180 CSV with a header row; cells are neutralised against
// formula injection.
type CSV struct{}

// Render implements Renderer.
func (*CSV) Render(w io.Writer, r Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(r.Header()); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	for _, row := range r.Rows() {
		cells := make([]string, len(row))
		for i, c := range row {
			cells[i] = Spreadsheet(c)
		}
		if err := cw.Write(cells); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	return cw.Error()
}

// JSON renders the report's document, indented, with HTML-safe escaping of
// <, > and & so the output can be embedded in a page.
type JSON struct{}

// Render implements Renderer.
func (*JSON) Render(w io.Writer, r Report) error {
	if jw, ok := r.(jsonWriter); ok {
		if err := jw.WriteJSON(w); err != nil {
			return fmt.Errorf("write json: %w", err)
		}
		return nil
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r.Doc()); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// Markdown renders a heading and a GitHub-flavoured table.
type Markdown struct{}

// Render implements Renderer.
func (*Markdown) Render(w io.Writer, r Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n", markdownCell(r.Title()))
	h := r.Header()
	b.WriteString("|")
	for _, c := range h {
		b.WriteString(" " + markdownCell(c) + " |")
	}
	b.WriteString("\n|")
	for range h {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, row := range r.Rows() {
		b.WriteString("|")
		for _, c := range row {
			b.WriteString(" " + markdownCell(c) + " |")
		}
		b.WriteString("\n")
	}
	if len(r.Rows()) == 0 {
		b.WriteString("\n_No rows._\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
