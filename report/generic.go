package report

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/rootaudit/rootaudit/query"
)

// Generic adapts the result of any statement (ad-hoc SQL or a named query)
// to a Report.
//
// JSON: {"columns": [names], "rows": [{column: value, …}]}, each row an
// object whose keys follow the column order. A name that repeats an
// earlier column's gets the suffix _2, _3, … (in "columns" too) so no value
// is lost. Times are RFC 3339 in UTC, lists are arrays, structs and MAPs
// objects, BLOBs base64, DECIMAL and HUGEINT numbers, NULL null.
//
// Table, CSV and Markdown: one cell per value. NULL is empty, times are RFC
// 3339 UTC, lists, structs and MAPs are compact JSON (["a","b"],
// {"k":1}), BLOBs \x followed by hex. The renderers then neutralise each
// cell for their medium as for every report.
type Generic struct {
	// Name is the title (Markdown heading, table caption).
	Name   string
	Result *query.Result
	// MaxCell, when positive, shortens longer cells of the flat form to
	// that many characters, ending in "…" (the terminal table sets it; a
	// JSON column would otherwise make the table unreadable).
	MaxCell int
}

var _ Report = Generic{}

// Title implements Report.
func (g Generic) Title() string { return g.Name }

// GenericDoc is the JSON document of a Generic report.
type GenericDoc struct {
	Columns []string     `json:"columns"`
	Rows    []GenericRow `json:"rows"`
}

// GenericRow is one row of a GenericDoc: its keys and values in column
// order.
type GenericRow struct {
	Keys   []string
	Values []any
}

// MarshalJSON implements json.Marshaler: an object with the keys in order.
func (r GenericRow) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range r.Keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(r.Values[i])
		if err != nil {
			// A value encoding/json refuses (none expected after
			// query's mapping) is written as its text.
			vb, _ = json.Marshal(fmt.Sprint(r.Values[i]))
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Doc implements Report.
func (g Generic) Doc() any {
	keys := uniqueColumns(g.Result.Columns)
	doc := GenericDoc{Columns: keys, Rows: make([]GenericRow, 0, len(g.Result.Rows))}
	for _, row := range g.Result.Rows {
		doc.Rows = append(doc.Rows, GenericRow{Keys: keys, Values: row})
	}
	return doc
}

// uniqueColumns renames repeated column names name_2, name_3, …, skipping
// suffixes another column already has.
func uniqueColumns(cols []string) []string {
	taken := map[string]bool{}
	for _, c := range cols {
		taken[c] = true
	}
	seen := map[string]bool{}
	out := make([]string, len(cols))
	for i, c := range cols {
		if !seen[c] {
			seen[c] = true
			out[i] = c
			continue
		}
		for n := 2; ; n++ {
			k := c + "_" + strconv.Itoa(n)
			if !taken[k] && !seen[k] {
				seen[k] = true
				out[i] = k
				break
			}
		}
	}
	return out
}

// Header implements Report: the column names as DuckDB gives them.
func (g Generic) Header() []string { return append([]string(nil), g.Result.Columns...) }

// Rows implements Report.
func (g Generic) Rows() [][]string {
	out := make([][]string, 0, len(g.Result.Rows))
	for _, row := range g.Result.Rows {
		cells := make([]string, len(row))
		for i, v := range row {
			cells[i] = truncateCell(Cell(v), g.MaxCell)
		}
		out = append(out, cells)
	}
	return out
}

// Cell is the flat text of a value of a query.Result (see Generic).
func Cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case json.Number:
		return x.String()
	case *big.Int:
		return x.String()
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return `\x` + hex.EncodeToString(x)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func truncateCell(s string, max int) string {
	if max <= 0 || len(s) <= max {
		return s
	}
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return string(r[:max-1]) + "…"
}

// NamedQueries is the list of named queries (`rootaudit sql --list`).
type NamedQueries struct{ Queries []query.NamedQuery }

var _ Report = NamedQueries{}

// Title implements Report.
func (NamedQueries) Title() string {
	return "Named queries: rootaudit sql NAME [--param NAME=VALUE …]"
}

// Doc implements Report: {"queries": [{name, description, params: [{name,
// type, default, description}]}]}, default null for a required parameter.
func (n NamedQueries) Doc() any {
	return struct {
		Queries []query.NamedQuery `json:"queries"`
	}{n.Queries}
}

// Header implements Report.
func (NamedQueries) Header() []string { return []string{"NAME", "PARAMETERS", "DESCRIPTION"} }

// Rows implements Report. Each parameter is NAME TYPE = DEFAULT, or NAME
// TYPE required.
func (n NamedQueries) Rows() [][]string {
	out := make([][]string, 0, len(n.Queries))
	for _, q := range n.Queries {
		ps := make([]string, 0, len(q.Params))
		for _, p := range q.Params {
			d := "required"
			if p.Default != nil {
				d = "= " + *p.Default
			}
			ps = append(ps, p.Name+" "+p.Type+" "+d)
		}
		out = append(out, []string{q.Name, strings.Join(ps, "; "), q.Description})
	}
	return out
}
