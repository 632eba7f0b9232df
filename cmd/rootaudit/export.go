package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rootaudit/rootaudit/query"
)

type exportOptions struct {
	format string
	out    string
	tables []string
	views  []string
}

func newExportCommand(g *globalOptions) *cobra.Command {
	o := &exportOptions{}
	c := &cobra.Command{
		Use:   "export --out DIR [flags]",
		Short: "Write tables and views to Parquet, CSV or JSON-lines files",
		Long: `Writes every table and view of the database (docs/schema.md), or those named
with --table and --view, to DIR/NAME.parquet, DIR/NAME.csv (with a header
row) or DIR/NAME.jsonl (one JSON object per line), with DuckDB's own writers
(COPY … TO). Existing files of those names are replaced; each file is written
under a temporary name and renamed when complete. A manifest line per file
(path, rows, bytes) goes to stderr. The database is opened read-only.`,
		Example: `  rootaudit export --out ./export
  rootaudit export --format csv --out ./export --view human_root_activity --table events`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExport(cmd.Context(), g, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.format, "format", "parquet", "parquet, csv or jsonl")
	f.StringVar(&o.out, "out", "", "directory to write the files to (created if missing)")
	f.StringSliceVar(&o.tables, "table", nil, "only these tables (repeatable, comma-separated)")
	f.StringSliceVar(&o.views, "view", nil, "only these views (repeatable, comma-separated)")
	return c
}

func runExport(ctx context.Context, g *globalOptions, o *exportOptions) error {
	format := strings.ToLower(o.format)
	known := false
	for _, f := range query.ExportFormats {
		known = known || f == format
	}
	if !known {
		return usageError{fmt.Errorf("--format %q: want one of %s", o.format, strings.Join(query.ExportFormats, ", "))}
	}
	if o.out == "" {
		return usageError{errors.New("--out DIR is required")}
	}
	db, err := query.Open(ctx, g.db, true)
	if err != nil {
		return err
	}
	defer db.Close()
	all, err := db.ExportObjects(ctx)
	if err != nil {
		return err
	}
	objs, err := query.PickExportObjects(all, splitList(o.tables), splitList(o.views))
	if err != nil {
		return usageError{err}
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("export: create %s: %w", o.out, err)
	}
	var rows, bytes int64
	for _, obj := range objs {
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := db.Export(ctx, obj, o.out, format)
		if err != nil {
			return err
		}
		rows += f.Rows
		bytes += f.Bytes
		fmt.Fprintf(g.stderr, "manifest %s %s rows=%d bytes=%d path=%s\n", obj.Kind, obj.Name, f.Rows, f.Bytes, f.Path)
	}
	v, err := db.DuckDBVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stderr, "exported %d file(s), %d rows, %d bytes to %s (DuckDB %s)\n", len(objs), rows, bytes, o.out, v)
	return nil
}
