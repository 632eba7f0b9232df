package query

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ExportFormats are the formats Export writes, with DuckDB's COPY options
// and the file extension of each. jsonl is DuckDB's FORMAT json, which
// writes one JSON object per line.
var ExportFormats = []string{"parquet", "csv", "jsonl"}

var exportOptions = map[string]struct{ options, ext string }{
	"parquet": {"FORMAT parquet", "parquet"},
	"csv":     {"FORMAT csv, HEADER true", "csv"},
	"jsonl":   {"FORMAT json", "jsonl"},
}

// The SQL of Export. The object name and the file path cannot be bound
// parameters of COPY: the name comes only from exportObjectsSQL and is
// quoted as an identifier, the path is quoted as a string literal.
const (
	exportObjectsSQL = `SELECT table_name, CASE table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END AS kind
FROM information_schema.tables
WHERE table_catalog = current_database() AND table_schema = 'main' AND table_type IN ('BASE TABLE', 'VIEW')
ORDER BY table_type = 'VIEW', table_name`
	exportCopySQL = `COPY (SELECT *%s FROM %s) TO %s (%s)`
	// The columns of a table or view whose values are lists, structs or
	// maps: CSV gets them as JSON text (DuckDB's own text form of a list of
	// structs, [{'a': x}], cannot be parsed back reliably).
	exportNestedSQL = `SELECT column_name FROM information_schema.columns
WHERE table_catalog = current_database() AND table_schema = 'main' AND table_name = ?
  AND (data_type LIKE '%[]' OR data_type LIKE 'STRUCT%' OR data_type LIKE 'MAP%' OR data_type LIKE 'UNION%')
ORDER BY ordinal_position`
	duckDBVersionSQL = `SELECT library_version FROM pragma_version()`
	exportTempSuffix = ".partial"
)

// ExportObject is a table or view of the database.
type ExportObject struct {
	Name string
	Kind string // "table" or "view"
}

// ExportedFile is one file Export wrote.
type ExportedFile struct {
	Object ExportObject
	Path   string
	Rows   int64
	Bytes  int64
}

// ExportObjects lists the tables and then the views of the database, each
// sorted by name.
func (db *DB) ExportObjects(ctx context.Context) ([]ExportObject, error) {
	rows, err := db.QueryContext(ctx, exportObjectsSQL)
	if err != nil {
		return nil, fmt.Errorf("list tables and views of %s: %w", db.Path, err)
	}
	defer rows.Close()
	var out []ExportObject
	for rows.Next() {
		var o ExportObject
		if err := rows.Scan(&o.Name, &o.Kind); err != nil {
			return nil, fmt.Errorf("list tables and views of %s: %w", db.Path, err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables and views of %s: %w", db.Path, err)
	}
	return out, nil
}

// ExportPath is the file Export writes obj to in dir.
func ExportPath(dir string, obj ExportObject, format string) string {
	return filepath.Join(dir, obj.Name+"."+exportOptions[format].ext)
}

// Export writes every row of obj to ExportPath(dir, obj, format) with
// DuckDB's own writer (COPY … TO), replacing the file if it exists. obj
// must come from ExportObjects. The file is written under a temporary name
// and renamed when complete, so a failed export leaves no partial file.
// The connection must allow external access (no PrepareAdHoc sandbox).
func (db *DB) Export(ctx context.Context, obj ExportObject, dir, format string) (ExportedFile, error) {
	opt, ok := exportOptions[format]
	if !ok {
		return ExportedFile{}, fmt.Errorf("export %s: unknown format %q (want one of %s)", obj.Name, format, strings.Join(ExportFormats, ", "))
	}
	if obj.Name == "" || strings.ContainsRune(obj.Name, 0) {
		return ExportedFile{}, fmt.Errorf("export: bad object name %q", obj.Name)
	}
	final := ExportPath(dir, obj, format)
	abs, err := filepath.Abs(final)
	if err != nil {
		return ExportedFile{}, fmt.Errorf("export %s to %s: %w", obj.Name, final, err)
	}
	if strings.ContainsRune(abs, 0) {
		return ExportedFile{}, fmt.Errorf("export %s: path %q contains a NUL byte", obj.Name, abs)
	}
	tmp := abs + exportTempSuffix
	replace := ""
	if format == "csv" {
		if replace, err = db.nestedAsJSON(ctx, obj.Name); err != nil {
			return ExportedFile{}, fmt.Errorf("export %s %s: %w", obj.Kind, obj.Name, err)
		}
	}
	stmt := fmt.Sprintf(exportCopySQL, replace, quoteIdentifier(obj.Name), quoteLiteral(tmp), opt.options)
	f := ExportedFile{Object: obj, Path: final}
	if err := db.QueryRowContext(ctx, stmt).Scan(&f.Rows); err != nil {
		os.Remove(tmp)
		return f, fmt.Errorf("export %s %s to %s: %w", obj.Kind, obj.Name, final, err)
	}
	if err := os.Rename(tmp, abs); err != nil {
		os.Remove(tmp)
		return f, fmt.Errorf("export %s %s: %w", obj.Kind, obj.Name, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return f, fmt.Errorf("export %s %s: %w", obj.Kind, obj.Name, err)
	}
	f.Bytes = st.Size()
	return f, nil
}

// nestedAsJSON returns the REPLACE clause that turns name's list, struct
// and map columns into JSON text, or "" when it has none.
func (db *DB) nestedAsJSON(ctx context.Context, name string) (string, error) {
	rows, err := db.QueryContext(ctx, exportNestedSQL, name)
	if err != nil {
		return "", fmt.Errorf("read column types: %w", err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return "", fmt.Errorf("read column types: %w", err)
		}
		q := quoteIdentifier(c)
		cols = append(cols, "CAST(to_json("+q+") AS VARCHAR) AS "+q)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("read column types: %w", err)
	}
	if len(cols) == 0 {
		return "", nil
	}
	return " REPLACE (" + strings.Join(cols, ", ") + ")", nil
}

// DuckDBVersion returns the version of the DuckDB library rootaudit is
// linked with (v1.5.6, …): the DuckDB CLI of that version opens the file.
func (db *DB) DuckDBVersion(ctx context.Context) (string, error) {
	var v string
	if err := db.QueryRowContext(ctx, duckDBVersionSQL).Scan(&v); err != nil {
		return "", fmt.Errorf("read DuckDB version: %w", err)
	}
	return v, nil
}

// ErrUnknownObject means a name given as a table or view is not one of
// the database.
var ErrUnknownObject = errors.New("no such table or view")

// PickExportObjects returns the objects of all named in tables (which must
// be tables) and views (which must be views), in that order without
// repeats; all of them when both are empty.
func PickExportObjects(all []ExportObject, tables, views []string) ([]ExportObject, error) {
	if len(tables) == 0 && len(views) == 0 {
		return all, nil
	}
	byName := map[string]ExportObject{}
	var names []string
	for _, o := range all {
		byName[o.Name] = o
		names = append(names, o.Name)
	}
	var out []ExportObject
	seen := map[string]bool{}
	for _, want := range []struct {
		kind  string
		names []string
	}{{"table", tables}, {"view", views}} {
		for _, n := range want.names {
			o, ok := byName[n]
			switch {
			case !ok:
				return nil, fmt.Errorf("%w %q (have %s)", ErrUnknownObject, n, strings.Join(names, ", "))
			case o.Kind != want.kind:
				return nil, fmt.Errorf("%w: %q is a %s, not a %s (use --%s)", ErrUnknownObject, n, o.Kind, want.kind, o.Kind)
			case !seen[n]:
				seen[n] = true
				out = append(out, o)
			}
		}
	}
	return out, nil
}

// quoteIdentifier quotes a DuckDB identifier: "name", with " doubled.
func quoteIdentifier(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// quoteLiteral quotes a DuckDB string literal: 'text', with ' doubled
// (DuckDB's standard strings have no backslash escapes).
func quoteLiteral(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }
