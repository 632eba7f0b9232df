package report

import (
	"bytes"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/rootaudit/rootaudit/query"
)

func genericSample() Generic {
	var m duckdb.OrderedMap
	m.Set("z", int64(1))
	m.Set("a", int64(2))
	return Generic{Name: "[1] SELECT …", Result: &query.Result{
		Columns: []string{"id", "at", "n", "id", "list", "struct", "map", "blob", "dec", "huge", "null", "evil"},
		Types:   []string{"VARCHAR", "TIMESTAMP", "BIGINT", "VARCHAR", "VARCHAR[]", "STRUCT", "MAP", "BLOB", "DECIMAL(4,1)", "HUGEINT", "INTEGER", "VARCHAR"},
		Rows: [][]any{{
			"a", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), int64(-7), "b",
			[]any{"x", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, map[string]any{"k": "v<"}, m,
			[]byte{0x01, 0xff}, json.Number("12.5"), big.NewInt(12345678901234), nil, "=HYPERLINK(\"x\")\x1b[31m",
		}},
	}}
}

func TestGenericJSON(t *testing.T) {
	var b bytes.Buffer
	if err := (&JSON{}).Render(&b, genericSample()); err != nil {
		t.Fatal(err)
	}
	// Keys in column order, the repeated column renamed, times RFC 3339 UTC.
	want := `{
  "columns": [
    "id",
    "at",
    "n",
    "id_2",
    "list",
    "struct",
    "map",
    "blob",
    "dec",
    "huge",
    "null",
    "evil"
  ],
  "rows": [
    {
      "id": "a",
      "at": "2026-01-02T03:04:05Z",
      "n": -7,
      "id_2": "b",
      "list": [
        "x",
        "2026-01-01T00:00:00Z"
      ],
      "struct": {
        "k": "v\u003c"
      },
      "map": {
        "z": 1,
        "a": 2
      },
      "blob": "Af8=",
      "dec": 12.5,
      "huge": 12345678901234,
      "null": null,
      "evil": "=HYPERLINK(\"x\")\u001b[31m"
    }
  ]
}
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
	// An empty result is an empty array, not null.
	b.Reset()
	if err := (&JSON{}).Render(&b, Generic{Result: &query.Result{Columns: []string{"x"}, Rows: [][]any{}}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"rows": []`) {
		t.Fatalf("empty result: %s", b.String())
	}
}

func TestGenericFlat(t *testing.T) {
	g := genericSample()
	if h := strings.Join(g.Header(), ","); h != "id,at,n,id,list,struct,map,blob,dec,huge,null,evil" {
		t.Fatalf("header %s", h)
	}
	want := []string{"a", "2026-01-02T03:04:05Z", "-7", "b", `["x","2026-01-01T00:00:00Z"]`, `{"k":"v<"}`, `{"z":1,"a":2}`,
		`\x01ff`, "12.5", "12345678901234", "", "=HYPERLINK(\"x\")\x1b[31m"}
	if got := g.Rows()[0]; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("cells\n got %q\nwant %q", got, want)
	}

	var b bytes.Buffer
	if err := (&CSV{}).Render(&b, g); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `'-7`) || !strings.Contains(b.String(), `'=HYPERLINK`) {
		t.Fatalf("csv cells not neutralised:\n%s", b.String())
	}
	b.Reset()
	if err := (&Table{}).Render(&b, g); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "\x1b") {
		t.Fatalf("table passes an escape sequence:\n%q", b.String())
	}

	g.MaxCell = 5
	if got := g.Rows()[0][4]; got != `["x"…` {
		t.Fatalf("truncated cell %q", got)
	}
}

func TestNamedQueriesReport(t *testing.T) {
	r := NamedQueries{Queries: query.NamedQueries()}
	rows := r.Rows()
	if len(rows) < 10 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, row := range rows {
		if row[0] == "events-by-access-key" && !strings.Contains(row[1], "key VARCHAR required") {
			t.Fatalf("parameters cell %q", row[1])
		}
	}
	var b bytes.Buffer
	if err := (&JSON{}).Render(&b, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Queries []struct {
			Name   string
			Params []struct {
				Name    string
				Default *string
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil || len(doc.Queries) != len(rows) {
		t.Fatalf("json: %v, %d queries", err, len(doc.Queries))
	}
}
