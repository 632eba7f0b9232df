package query

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var makeV1 = flag.Bool("makev1", false, "rewrite testdata/schema_v1.duckdb")

// TestMakeV1Fixture writes the committed schema-version-1 database: only
// migration 001 applied, one root event. It runs only with -makev1; the
// file it made is what TestMigrateFromV1 opens.
func TestMakeV1Fixture(t *testing.T) {
	if !*makeV1 {
		t.Skip("run with -makev1 to rewrite the fixture")
	}
	ctx := context.Background()
	path := filepath.Join("testdata", "schema_v1.duckdb")
	os.MkdirAll("testdata", 0o755)
	os.Remove(path)
	db, err := open(ctx, path, false)
	if err != nil {
		t.Fatal(err)
	}
	m := migrations()[0]
	if _, err := db.Exec(m.sql); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations VALUES (1, ?, now())`, m.name); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO events (event_id, event_time, event_source, event_name, recipient_account_id, identity_type, source_kind, source_file, raw)
		VALUES ('v1-event', TIMESTAMP '2026-01-05 10:00:00', 'iam.amazonaws.com', 'ListUsers', '111122223333', 'Root', 'trail', 'x.json.gz', '{}')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CHECKPOINT`); err != nil {
		t.Fatal(err)
	}
	db.Close()
}
