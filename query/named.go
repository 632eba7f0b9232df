package query

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// Named queries are the embedded files named/NAME.sql. Each starts with a
// header of comment lines that NamedQueries parses:
//
//	-- name: root-signins-without-mfa
//	-- description: Successful root console sign-ins that did not use MFA.
//	-- param: since TIMESTAMP default 365 days ago -- start of the window (inclusive)
//	-- param: key VARCHAR required -- the access key ID
//
// A param line gives the parameter's name, its DuckDB type, either
// "default VALUE" or "required", and after " -- " what it means. The
// query refers to it as the DuckDB named parameter $name; values are always
// bound, never written into the SQL text. Any other comment line of the
// header is documentation for people.

//go:embed named/*.sql
var namedFS embed.FS

// ErrUnknownQuery means RunNamed was asked for a name no named query has.
var ErrUnknownQuery = errors.New("unknown named query")

// ErrBadParam means a named-query parameter is unknown, missing or not a
// valid value of its type.
var ErrBadParam = errors.New("bad parameter")

// ErrReadOnly means a statement tried to change a database opened
// read-only (or a setting of a connection prepared with PrepareAdHoc).
var ErrReadOnly = errors.New("the database is opened read-only; pass --write to modify it")

// ErrExternalAccess means a statement tried to read or write a file, load
// an extension or reach the network on a connection where PrepareAdHoc
// turned DuckDB's external access off.
var ErrExternalAccess = errors.New("ad-hoc SQL may not read or write files, load extensions or reach the network; pass --write to allow it, or use `rootaudit export` to write files")

// NamedQuery is one query shipped with rootaudit.
type NamedQuery struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Params      []Param `json:"params"`
	// SQL is the whole file, header included.
	SQL string `json:"-"`
}

// Param is one parameter of a named query.
type Param struct {
	Name string `json:"name"`
	// Type is the DuckDB type the value is checked against: VARCHAR,
	// TIMESTAMP, DATE, INTEGER, BIGINT, DOUBLE or BOOLEAN.
	Type string `json:"type"`
	// Default is the value used when the caller gives none, as written in
	// the header (NULL for SQL NULL); nil when the parameter is required.
	Default     *string `json:"default"`
	Description string  `json:"description"`
}

// Required reports whether the parameter has no default.
func (p Param) Required() bool { return p.Default == nil }

// Result is the outcome of one statement: column names, the DuckDB type of
// each column, and rows of plain Go values (see RunSQL for the mapping).
type Result struct {
	Columns []string
	Types   []string
	Rows    [][]any
}

// NamedQueries returns every named query, sorted by name. The files are
// embedded at build time, so a malformed header is a build defect: it
// panics (and the package tests catch it).
func NamedQueries() []NamedQuery {
	return append([]NamedQuery(nil), namedQueries()...)
}

var namedQueries = sync.OnceValue(func() []NamedQuery {
	ents, err := fs.ReadDir(namedFS, "named")
	if err != nil {
		panic(err)
	}
	var list []NamedQuery
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		b, err := namedFS.ReadFile("named/" + e.Name())
		if err != nil {
			panic(err)
		}
		q, err := parseNamed(strings.TrimSuffix(e.Name(), ".sql"), string(b))
		if err != nil {
			panic(fmt.Sprintf("embedded named query %s: %v", e.Name(), err))
		}
		list = append(list, q)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return list
})

// LookupNamed returns the named query called name.
func LookupNamed(name string) (NamedQuery, bool) {
	for _, q := range namedQueries() {
		if q.Name == name {
			return q, true
		}
	}
	return NamedQuery{}, false
}

var (
	namedNameRE  = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	paramNameRE  = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	paramTypes   = map[string]bool{"VARCHAR": true, "TIMESTAMP": true, "DATE": true, "INTEGER": true, "BIGINT": true, "DOUBLE": true, "BOOLEAN": true}
	headerLineRE = regexp.MustCompile(`^--\s*(name|description|param):\s*(.*?)\s*$`)
)

// parseNamed reads the header of the file base.sql.
func parseNamed(base, src string) (NamedQuery, error) {
	q := NamedQuery{SQL: src, Params: []Param{}}
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "--") {
			break // end of the header
		}
		m := headerLineRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		switch m[1] {
		case "name":
			q.Name = m[2]
		case "description":
			q.Description = m[2]
		case "param":
			p, err := parseParamLine(m[2])
			if err != nil {
				return q, err
			}
			for _, o := range q.Params {
				if o.Name == p.Name {
					return q, fmt.Errorf("parameter %q declared twice", p.Name)
				}
			}
			q.Params = append(q.Params, p)
		}
	}
	switch {
	case q.Name != base:
		return q, fmt.Errorf("header name %q differs from the file name %q", q.Name, base)
	case !namedNameRE.MatchString(q.Name):
		return q, fmt.Errorf("name %q is not lower-case words joined by hyphens", q.Name)
	case q.Description == "":
		return q, errors.New("no -- description: line")
	}
	return q, nil
}

// parseParamLine reads "NAME TYPE (default VALUE | required) [-- TEXT]".
func parseParamLine(s string) (Param, error) {
	var p Param
	spec, doc, _ := strings.Cut(s, " -- ")
	p.Description = strings.TrimSpace(doc)
	f := strings.Fields(spec)
	if len(f) < 3 {
		return p, fmt.Errorf("param %q: want NAME TYPE (default VALUE | required) [-- description]", s)
	}
	p.Name, p.Type = f[0], strings.ToUpper(f[1])
	if !paramNameRE.MatchString(p.Name) {
		return p, fmt.Errorf("param %q: bad name", p.Name)
	}
	if !paramTypes[p.Type] {
		return p, fmt.Errorf("param %s: unsupported type %s", p.Name, f[1])
	}
	switch strings.ToLower(f[2]) {
	case "required":
		if len(f) != 3 {
			return p, fmt.Errorf("param %s: text after required (put the description after \" -- \")", p.Name)
		}
	case "default":
		d := strings.Join(f[3:], " ")
		if d == "" {
			return p, fmt.Errorf("param %s: default without a value (write '' for an empty string)", p.Name)
		}
		p.Default = &d
		if _, err := bindParam(p, d, time.Now()); err != nil {
			return p, fmt.Errorf("param %s: default: %w", p.Name, err)
		}
	default:
		return p, fmt.Errorf("param %s: want default VALUE or required after the type, not %q", p.Name, f[2])
	}
	return p, nil
}

// RunNamed runs the named query name with params (parameter name → value
// as typed by a user). Parameters not given take their default; an unknown
// name, a missing required parameter or a value that is not of the
// parameter's type is an ErrBadParam. Values are bound as DuckDB named
// parameters: TIMESTAMP and DATE values are bound as UTC text that the query
// casts, so the result never depends on the machine's time zone.
func (db *DB) RunNamed(ctx context.Context, name string, params map[string]string) (*Result, error) {
	q, ok := LookupNamed(name)
	if !ok {
		return nil, fmt.Errorf("%w %q (see `rootaudit sql --list`)", ErrUnknownQuery, name)
	}
	args, err := q.Bind(params, time.Now())
	if err != nil {
		return nil, err
	}
	res, err := db.run(ctx, q.SQL, args...)
	if err != nil {
		return nil, fmt.Errorf("named query %s: %w", name, err)
	}
	return res, nil
}

// Bind checks params against the query's header and returns them, with
// defaults filled in, as named arguments. now anchors relative times such
// as "365 days ago".
func (q NamedQuery) Bind(params map[string]string, now time.Time) ([]any, error) {
	known := map[string]bool{}
	for _, p := range q.Params {
		known[p.Name] = true
	}
	var unknown []string
	for k := range params {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		names := make([]string, 0, len(q.Params))
		for _, p := range q.Params {
			names = append(names, p.Name)
		}
		want := "it takes none"
		if len(names) > 0 {
			want = "it takes " + strings.Join(names, ", ")
		}
		return nil, fmt.Errorf("%w: %s has no parameter %s; %s", ErrBadParam, q.Name, strings.Join(unknown, ", "), want)
	}
	args := make([]any, 0, len(q.Params))
	for _, p := range q.Params {
		v, given := params[p.Name]
		if !given {
			if p.Default == nil {
				return nil, fmt.Errorf("%w: %s needs --param %s=VALUE (%s: %s)", ErrBadParam, q.Name, p.Name, p.Type, p.Description)
			}
			v = *p.Default
		}
		bv, err := bindParam(p, v, now)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %s=%q: %v", ErrBadParam, q.Name, p.Name, v, err)
		}
		args = append(args, sql.Named(p.Name, bv))
	}
	return args, nil
}

// bindParam converts a textual value to the Go value bound for p. A header
// default of NULL binds SQL NULL; a VARCHAR written in single quotes loses
// them (a pair of quotes alone is the empty string).
func bindParam(p Param, v string, now time.Time) (any, error) {
	if p.Default != nil && v == *p.Default && v == "NULL" {
		return nil, nil
	}
	switch p.Type {
	case "VARCHAR":
		if p.Default != nil && v == *p.Default && len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
			return strings.ReplaceAll(v[1:len(v)-1], "''", "'"), nil
		}
		return v, nil
	case "TIMESTAMP":
		t, err := ParseTimeParam(v, now)
		if err != nil {
			return nil, err
		}
		return t.Format("2006-01-02 15:04:05.999999"), nil
	case "DATE":
		t, err := ParseTimeParam(v, now)
		if err != nil {
			return nil, err
		}
		return t.Format("2006-01-02"), nil
	case "INTEGER", "BIGINT":
		bits := 64
		if p.Type == "INTEGER" {
			bits = 32
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, bits)
		if err != nil {
			return nil, fmt.Errorf("not an %s", p.Type)
		}
		return n, nil
	case "DOUBLE":
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, errors.New("not a finite number")
		}
		return f, nil
	case "BOOLEAN":
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return nil, errors.New("not true or false")
		}
		return b, nil
	}
	return nil, fmt.Errorf("unsupported type %s", p.Type)
}

var agoRE = regexp.MustCompile(`^(\d+)\s*(d|h|m|s|days?|hours?|minutes?|seconds?)(\s+ago)?$`)

// ParseTimeParam reads a TIMESTAMP or DATE parameter value: "now", an RFC
// 3339 date (2026-01-31, UTC midnight) or time (2026-01-31T12:00:00Z, any
// offset), a time without offset (2026-01-31 12:00:00, taken as UTC), or a
// span back from now ("365 days ago", "365d", "12h", "90 minutes ago").
func ParseTimeParam(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "now") {
		return now.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02", time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if m := agoRE.FindStringSubmatch(strings.ToLower(s)); m != nil {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err == nil && n <= 100*366 {
			unit := map[byte]time.Duration{'d': 24 * time.Hour, 'h': time.Hour, 'm': time.Minute, 's': time.Second}[m[2][0]]
			return now.Add(-time.Duration(n) * unit).UTC(), nil
		}
	}
	return time.Time{}, errors.New(`not a time: want "now", a date (2026-01-31), a time (2026-01-31T12:00:00Z) or a span back such as "365 days ago"`)
}

// PrepareAdHoc readies db for statements typed by an operator. It pins the
// pool to one connection, so temporary tables and variables last from one
// statement to the next, and sets the time zone to UTC, so TIMESTAMP WITH
// TIME ZONE values and now() agree with the UTC columns. When sandbox is
// true it also turns off DuckDB's external access (COPY, ATTACH, INSTALL,
// LOAD, read_csv/read_json/read_parquet/glob on any path or URL) and locks
// the configuration so no statement can turn it back on. Both settings are
// global to the DuckDB instance behind db and last until it is closed.
func (db *DB) PrepareAdHoc(ctx context.Context, sandbox bool) error {
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	stmts := []string{adhocUTCSQL}
	if sandbox {
		stmts = append(stmts, adhocSandboxSQL...)
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("prepare %s for ad-hoc SQL: %s: %w", db.Path, s, err)
		}
	}
	return nil
}

// The settings of PrepareAdHoc, in order: the configuration lock comes last.
const adhocUTCSQL = `SET GLOBAL TimeZone = 'UTC'`

var adhocSandboxSQL = []string{
	`SET GLOBAL enable_external_access = false`,
	`SET GLOBAL lock_configuration = true`,
}

// RunSQL runs one statement and returns its result. Values are plain Go
// values: nil (NULL), bool, int64, uint64, float64 (NaN and infinities as
// the strings "NaN", "Infinity", "-Infinity"), string, time.Time in UTC
// (TIMESTAMP, TIMESTAMPTZ), []byte (BLOB), *big.Int (HUGEINT),
// json.Number (DECIMAL), []any (LIST, ARRAY), map[string]any (STRUCT, JSON
// objects) and duckdb.OrderedMap (MAP). DATE, TIME, UUID and INTERVAL
// values are strings in DuckDB's own notation. A refused write is an
// ErrReadOnly, a refused file or network access an ErrExternalAccess.
func (db *DB) RunSQL(ctx context.Context, stmt string) (*Result, error) {
	return db.run(ctx, stmt)
}

func (db *DB) run(ctx context.Context, stmt string, args ...any) (*Result, error) {
	rows, err := db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, classifySQLError(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, classifySQLError(err)
	}
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, classifySQLError(err)
	}
	res := &Result{Columns: cols, Types: make([]string, len(cols)), Rows: [][]any{}}
	for i, ct := range cts {
		res.Types[i] = ct.DatabaseTypeName()
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("read result: %w", err)
		}
		for i, v := range vals {
			vals[i] = plainValue(v, res.Types[i])
		}
		res.Rows = append(res.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, classifySQLError(err)
	}
	return res, nil
}

// classifySQLError turns DuckDB's refusals into ErrReadOnly and
// ErrExternalAccess, keeping DuckDB's words for the detail.
func classifySQLError(err error) error {
	msg := err.Error()
	detail := strings.TrimSpace(strings.SplitN(msg, "\n", 2)[0])
	switch {
	case strings.Contains(msg, "read-only mode"):
		return fmt.Errorf("%w (DuckDB: %s)", ErrReadOnly, detail)
	case strings.Contains(msg, "the configuration has been locked"):
		return fmt.Errorf("%w (settings are locked; DuckDB: %s)", ErrReadOnly, detail)
	case strings.Contains(msg, "Permission Error"),
		strings.Contains(msg, "disabled by configuration"),
		strings.Contains(msg, "disabled through configuration"):
		return fmt.Errorf("%w (DuckDB: %s)", ErrExternalAccess, detail)
	}
	return err
}

// plainValue maps a value scanned from DuckDB to the plain Go values listed
// at RunSQL. dbType is the column's type name, which tells a DATE from a
// TIMESTAMP and a UUID from a BLOB at the top level.
func plainValue(v any, dbType string) any {
	switch dbType {
	case "DATE":
		if t, ok := v.(time.Time); ok {
			return t.UTC().Format("2006-01-02")
		}
	case "TIME":
		if t, ok := v.(time.Time); ok {
			return t.UTC().Format("15:04:05.999999")
		}
	case "TIMETZ", "TIME WITH TIME ZONE":
		if t, ok := v.(time.Time); ok {
			return t.Format("15:04:05.999999Z07:00")
		}
	case "UUID":
		if b, ok := v.([]byte); ok && len(b) == 16 {
			u := duckdb.UUID(b)
			return u.String()
		}
	}
	return plainNested(v)
}

func plainNested(v any) any {
	switch x := v.(type) {
	case nil, bool, string, int64, uint64, []byte, json.Number, *big.Int:
		return x
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case uint8:
		return uint64(x)
	case uint16:
		return uint64(x)
	case uint32:
		return uint64(x)
	case uint:
		return uint64(x)
	case float32:
		return plainFloat(float64(x))
	case float64:
		return plainFloat(x)
	case time.Time:
		return x.UTC()
	case duckdb.Decimal:
		if x.Value == nil {
			return nil
		}
		return json.Number(x.String())
	case duckdb.Interval:
		return formatInterval(x)
	case duckdb.UUID:
		return x.String()
	case *duckdb.UUID:
		if x == nil {
			return nil
		}
		return x.String()
	case duckdb.Union:
		return plainNested(x.Value)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainNested(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plainNested(e)
		}
		return out
	case duckdb.OrderedMap:
		var out duckdb.OrderedMap
		keys, vals := x.Keys(), x.Values()
		for i := range keys {
			out.Set(plainNested(keys[i]), plainNested(vals[i]))
		}
		return out
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

func plainFloat(f float64) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return f
}

// formatInterval writes an INTERVAL the way DuckDB prints it:
// "1 year 2 months 3 days 04:05:06.5".
func formatInterval(iv duckdb.Interval) string {
	var parts []string
	plural := func(n int64, unit string) {
		if n == 0 {
			return
		}
		s := strconv.FormatInt(n, 10) + " " + unit
		if n != 1 && n != -1 {
			s += "s"
		}
		parts = append(parts, s)
	}
	plural(int64(iv.Months)/12, "year")
	plural(int64(iv.Months)%12, "month")
	plural(int64(iv.Days), "day")
	if iv.Micros != 0 || len(parts) == 0 {
		us := iv.Micros
		sign := ""
		if us < 0 {
			sign, us = "-", -us
		}
		h, m, s, frac := us/3_600_000_000, us/60_000_000%60, us/1_000_000%60, us%1_000_000
		t := fmt.Sprintf("%s%02d:%02d:%02d", sign, h, m, s)
		if frac != 0 {
			t += strings.TrimRight(fmt.Sprintf(".%06d", frac), "0")
		}
		parts = append(parts, t)
	}
	return strings.Join(parts, " ")
}

// SplitStatements splits src at every semicolon that ends a statement:
// one outside string literals ('…', E'…' with backslash escapes, $$…$$ and
// $tag$…$tag$), quoted identifiers ("…") and comments (-- to end of line,
// /* … */ nested). The pieces are exact substrings, so joining them with
// ";" gives src back; a piece may be blank (see BlankStatement). An
// unterminated literal or comment runs to the end of src.
func SplitStatements(src string) []string {
	var out []string
	start := 0
	for i := 0; i < len(src); {
		switch c := src[i]; {
		case c == ';':
			out = append(out, src[start:i])
			i++
			start = i
		case c == '\'':
			escapes := i > 0 && (src[i-1] == 'e' || src[i-1] == 'E') && (i < 2 || !identByte(src[i-2]))
			i = skipQuoted(src, i+1, '\'', escapes)
		case c == '"':
			i = skipQuoted(src, i+1, '"', false)
		case c == '-' && i+1 < len(src) && src[i+1] == '-':
			if j := strings.IndexByte(src[i:], '\n'); j >= 0 {
				i += j + 1
			} else {
				i = len(src)
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			i = skipBlockComment(src, i+2)
		case c == '$':
			if tag, ok := dollarTag(src, i); ok {
				if j := strings.Index(src[i+len(tag):], tag); j >= 0 {
					i += len(tag) + j + len(tag)
				} else {
					i = len(src)
				}
			} else {
				i++
			}
		default:
			i++
		}
	}
	return append(out, src[start:])
}

// BlankStatement reports whether s holds only white space and comments.
func BlankStatement(s string) bool { return TrimLeadingComments(s) == "" }

// TrimLeadingComments returns s from its first character that is neither
// white space nor part of a comment; "" when there is none (an unterminated
// block comment runs to the end).
func TrimLeadingComments(s string) string {
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return ""
			}
			i += j + 1
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			i = skipBlockComment(s, i+2)
		default:
			return s[i:]
		}
	}
	return ""
}

// skipQuoted returns the index just past the closing quote q of a literal
// whose body starts at i. A doubled quote is an escaped quote; with
// backslash escapes, so is \q.
func skipQuoted(s string, i int, q byte, backslash bool) int {
	for i < len(s) {
		switch {
		case backslash && s[i] == '\\':
			i += 2
		case s[i] == q && i+1 < len(s) && s[i+1] == q:
			i += 2
		case s[i] == q:
			return i + 1
		default:
			i++
		}
	}
	return len(s)
}

// skipBlockComment returns the index just past the */ that closes a
// (possibly nested) block comment whose body starts at i.
func skipBlockComment(s string, i int) int {
	depth := 1
	for i < len(s) {
		switch {
		case s[i] == '/' && i+1 < len(s) && s[i+1] == '*':
			depth++
			i += 2
		case s[i] == '*' && i+1 < len(s) && s[i+1] == '/':
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return len(s)
}

// dollarTag returns the opening delimiter of a dollar-quoted literal at
// s[i] ($$ or $tag$, tag an identifier), if there is one. $1 and $name
// (parameters) are not delimiters.
func dollarTag(s string, i int) (string, bool) {
	j := i + 1
	if j < len(s) && s[j] != '$' {
		c := s[j]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80) {
			return "", false
		}
		for j < len(s) && identByte(s[j]) {
			j++
		}
	}
	if j < len(s) && s[j] == '$' {
		return s[i : j+1], true
	}
	return "", false
}

func identByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}
