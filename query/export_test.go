package query

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The tables and views of docs/schema.md.
var (
	schemaTables = []string{"denial_codes", "events", "ingested_files", "runs", "schema_migrations", "task_policies"}
	schemaViews  = []string{"assume_root_calls", "credential_events", "human_root_activity", "org_switches", "root_activity", "session_actions"}
)

func TestExportObjects(t *testing.T) {
	db, err := Open(context.Background(), plantedDB(t), true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	objs, err := db.ExportObjects(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var tables, views []string
	for _, o := range objs {
		if o.Kind == "view" {
			views = append(views, o.Name)
		} else {
			tables = append(tables, o.Name)
		}
	}
	// Later schema versions may add objects; the documented ones are there.
	for _, c := range []struct {
		kind      string
		got, want []string
	}{{"table", tables, schemaTables}, {"view", views, schemaViews}} {
		have := map[string]bool{}
		for _, n := range c.got {
			have[n] = true
		}
		for _, n := range c.want {
			if !have[n] {
				t.Errorf("%s %s is not listed (got %v)", c.kind, n, c.got)
			}
		}
	}

	picked, err := PickExportObjects(objs, []string{"events"}, []string{"root_activity", "root_activity"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []ExportObject{{"events", "table"}, {"root_activity", "view"}}; !reflect.DeepEqual(picked, want) {
		t.Fatalf("picked %v, want %v", picked, want)
	}
	for _, c := range []struct{ tables, views []string }{
		{[]string{"nope"}, nil},
		{[]string{"root_activity"}, nil}, // a view given as a table
		{nil, []string{"events"}},        // a table given as a view
		{[]string{`events"; DROP TABLE events; --`}, nil},
	} {
		if _, err := PickExportObjects(objs, c.tables, c.views); !errors.Is(err, ErrUnknownObject) {
			t.Errorf("tables %v views %v: %v, want ErrUnknownObject", c.tables, c.views, err)
		}
	}
}

// TestExportRoundTrip exports every table and view in every format and
// reads each file back with DuckDB's readers: same row counts.
func TestExportRoundTrip(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, plantedDB(t), true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	objs, err := db.ExportObjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A directory whose name needs quoting in SQL.
	dir := filepath.Join(t.TempDir(), "it's an \"export\"")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	readers := map[string]string{"parquet": "read_parquet", "csv": "read_csv", "jsonl": "read_json"}
	for _, format := range ExportFormats {
		for _, obj := range objs {
			f, err := db.Export(ctx, obj, dir, format)
			if err != nil {
				t.Fatal(err)
			}
			var want int64
			if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdentifier(obj.Name)).Scan(&want); err != nil {
				t.Fatal(err)
			}
			if f.Rows != want {
				t.Errorf("%s %s: COPY reported %d rows, the %s has %d", format, obj.Name, f.Rows, obj.Kind, want)
			}
			st, err := os.Stat(f.Path)
			if err != nil || st.Size() != f.Bytes || (f.Bytes == 0 && (want > 0 || format == "parquet")) {
				t.Fatalf("%s: stat %v, size %d, reported %d", f.Path, err, st.Size(), f.Bytes)
			}
			if _, err := os.Stat(f.Path + exportTempSuffix); !os.IsNotExist(err) {
				t.Errorf("%s: temporary file left behind", f.Path)
			}
			if want == 0 {
				continue // an empty CSV or JSON file has nothing to read back
			}
			var got int64
			if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+readers[format]+"(?)", f.Path).Scan(&got); err != nil {
				t.Fatalf("read back %s: %v", f.Path, err)
			}
			if got != want {
				t.Errorf("%s: read back %d rows, want %d", f.Path, got, want)
			}
		}
	}
	// Parquet keeps the column types: the events file has the table's
	// columns, event_time a timestamp.
	var typ string
	err = db.QueryRowContext(ctx, "SELECT typeof(event_time) FROM read_parquet(?) LIMIT 1", filepath.Join(dir, "events.parquet")).Scan(&typ)
	if err != nil || typ != "TIMESTAMP" {
		t.Fatalf("event_time read back as %q (%v)", typ, err)
	}
	if _, err := db.Export(ctx, objs[0], dir, "xml"); err == nil {
		t.Fatal("export to xml succeeded")
	}
}

// TestExportCSVNestedAsJSON: list and struct columns (credential_audits'
// access keys, MFA devices, what is present) reach a CSV file as JSON text.
// DuckDB's own text form, [{'access_key_id': AKIA…, …}], was what CSV held
// before, and cannot be parsed back reliably (found by black-box QA).
func TestExportCSVNestedAsJSON(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	for _, q := range []string{
		`INSERT INTO audit_runs (audit_run_id, started_at, status) VALUES (1, TIMESTAMP '2026-11-01 00:00:00', 'ok')`,
		`INSERT INTO credential_audits (audit_run_id, account_id, checked_at, assume_status, access_keys, mfa_devices, signing_certificates, state, present)
		 VALUES (1, '111122223333', TIMESTAMP '2026-11-01 00:00:00', 'ok',
		         [{'access_key_id': 'AKIAOLD1', 'status': 'Active', 'created_at': TIMESTAMP '2020-01-02 03:04:05'}],
		         [], [], 'root-credentials-present', ['access-key', 'password, with a comma'])`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	f, err := db.Export(ctx, ExportObject{Name: "credential_audits", Kind: "table"}, t.TempDir(), "csv")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("csv: %d records, %v\n%s", len(recs), err, b)
	}
	cell := map[string]string{}
	for i, h := range recs[0] {
		cell[h] = recs[1][i]
	}
	var keys []struct {
		ID string `json:"access_key_id"`
	}
	var present []string
	if err := json.Unmarshal([]byte(cell["access_keys"]), &keys); err != nil || len(keys) != 1 || keys[0].ID != "AKIAOLD1" {
		t.Errorf("access_keys cell %q: %v", cell["access_keys"], err)
	}
	if err := json.Unmarshal([]byte(cell["present"]), &present); err != nil || len(present) != 2 || present[1] != "password, with a comma" {
		t.Errorf("present cell %q: %v", cell["present"], err)
	}
	if cell["state"] != "root-credentials-present" {
		t.Errorf("state cell %q", cell["state"])
	}
}
