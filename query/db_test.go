package query

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/rootaudit/rootaudit/ingest"
)

func openTemp(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "t.duckdb"), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func gzBytes(data string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	io.WriteString(w, data)
	w.Close()
	return b.Bytes()
}

// fileResult decodes an in-memory log file into a FileResult, as a worker
// would.
func fileResult(t testing.TB, name, doc string) ingest.FileResult {
	t.Helper()
	data := gzBytes(doc)
	ref := ingest.FileRef{Source: name, Key: ingest.ParseKey(name), Size: int64(len(data)), ETag: "e1",
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
	res := ingest.NewWorker(ingest.Options{}).Process(context.Background(), ref)
	if res.Status != ingest.StatusOK {
		t.Fatalf("%s: %s %s", name, res.Status, res.Reason)
	}
	return res
}

func rootRecord(id, acct, ts, name string) string {
	return fmt.Sprintf(`{"eventID":%q,"eventTime":%q,"eventSource":"iam.amazonaws.com","eventName":%q,"awsRegion":"us-east-1","recipientAccountId":%q,"userIdentity":{"type":"Root","accountId":%q,"accessKeyId":"ASIAX"},"sourceIPAddress":"198.51.100.7"}`, id, ts, name, acct, acct)
}

func load(t testing.TB, db *DB, results ...ingest.FileResult) {
	t.Helper()
	l, err := NewLoader(context.Background(), db, RunInfo{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if err := l.Add(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Finish(context.Background(), RunTotals{Status: "ok"}); err != nil {
		t.Fatal(err)
	}
}

const (
	fileA = "AWSLogs/o-abc123def4/111122223333/CloudTrail/us-east-1/2026/01/05/a.json.gz"
	fileB = "AWSLogs/o-abc123def4/111122223333/CloudTrail/us-east-1/2026/01/06/b.json.gz"
)

// TestDedupIndependentOfOrder loads the same duplicated record from two
// files in both orders and in separate batches: one row, always the copy of
// the smaller source name.
func TestDedupIndependentOfOrder(t *testing.T) {
	rec := rootRecord("dup-1", "111122223333", "2026-01-05T10:00:00Z", "ListUsers")
	a := fileResult(t, fileA, `{"Records":[`+rec+`]}`)
	b := fileResult(t, fileB, `{"Records":[`+rec+`,`+rec+`]}`)
	for name, order := range map[string][][]ingest.FileResult{
		"a then b, one batch": {{a, b}},
		"b then a, one batch": {{b, a}},
		"b then a, two runs":  {{b}, {a}},
		"a then b, two runs":  {{a}, {b}},
	} {
		t.Run(name, func(t *testing.T) {
			db := openTemp(t)
			for _, batch := range order {
				load(t, db, batch...)
			}
			var n int
			var src string
			if err := db.QueryRow(`SELECT count(*), min(source_file) FROM events`).Scan(&n, &src); err != nil {
				t.Fatal(err)
			}
			if n != 1 || src != fileA {
				t.Fatalf("events: %d rows from %s, want 1 from %s", n, src, fileA)
			}
		})
	}
}

func TestCheckpointSkipsAndRetriesFailed(t *testing.T) {
	db := openTemp(t)
	ok := fileResult(t, fileA, `{"Records":[]}`)
	failed := ingest.FileResult{Ref: ingest.FileRef{Source: fileB, Key: ingest.ParseKey(fileB), ETag: "e1"}, Status: ingest.StatusFailed, Reason: "truncated"}
	load(t, db, ok, failed)
	l, err := NewLoader(context.Background(), db, RunInfo{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Finish(context.Background(), RunTotals{Status: "ok"})
	if !l.Done(ok.Ref) {
		t.Error("ingested file not done")
	}
	changed := ok.Ref
	changed.ETag = "e2"
	if l.Done(changed) {
		t.Error("file with a new ETag counted as done")
	}
	if l.Done(failed.Ref) {
		t.Error("failed file counted as done: it would never be retried")
	}
}

func TestSchemaVersions(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v.duckdb")
	db, err := Open(ctx, path, false)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := db.SchemaVersion(ctx)
	if v != LatestSchema() {
		t.Fatalf("new database at version %d, want %d", v, LatestSchema())
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations VALUES (999, 'future', now())`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(ctx, path, true); !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("newer schema: err = %v, want ErrNewerSchema", err)
	}
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "missing.duckdb"), true); !errors.Is(err, ErrNoDatabase) {
		t.Fatalf("missing database: err = %v, want ErrNoDatabase", err)
	}
}

// TestMigrateFromV1 opens a database written by schema version 1 (committed
// under testdata, with one root event) and checks it is migrated forward
// with its data intact and the v2 views working.
func TestMigrateFromV1(t *testing.T) {
	src := filepath.Join("testdata", "schema_v1.duckdb")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatalf("fixture %s: %v (regenerate with go test ./query -run TestMakeV1Fixture -v -makev1)", src, err)
	}
	path := filepath.Join(t.TempDir(), "v1.duckdb")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := Open(context.Background(), path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, _ := db.SchemaVersion(context.Background())
	if v != LatestSchema() {
		t.Fatalf("migrated to %d, want %d", v, LatestSchema())
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM root_activity`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("root_activity after migration: %d rows, err %v", n, err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM session_actions`).Scan(&n); err != nil {
		t.Fatalf("v2 view after migration: %v", err)
	}
}

func TestReadOnlyRefusesWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ro.duckdb")
	db, err := Open(ctx, path, false)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	ro, err := Open(ctx, path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Exec(`DELETE FROM events`); err == nil {
		t.Fatal("read-only database accepted a write")
	}
	if _, err := NewLoader(ctx, ro, RunInfo{}); err == nil {
		t.Fatal("loader on a read-only database")
	}
}

func TestInventoryAccountFilterIsAParameter(t *testing.T) {
	db := openTemp(t)
	load(t, db, fileResult(t, fileA, `{"Records":[`+rootRecord("e1", "111122223333", "2026-01-05T10:00:00Z", "ListUsers")+`]}`))
	w := Window{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}
	inv, err := db.Inventory(context.Background(), Filter{Window: w, Accounts: []string{"1' OR '1'='1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Accounts) != 0 {
		t.Fatalf("injection in the account filter matched %d accounts", len(inv.Accounts))
	}
	inv, err = db.Inventory(context.Background(), Filter{Window: w}, nil)
	if err != nil || len(inv.Accounts) != 1 || inv.Accounts[0].ConsoleCalls != 1 || inv.Accounts[0].Verdict != VerdictRootUsed {
		t.Fatalf("inventory: %+v, %v", inv, err)
	}
}

// TestWriterRowGroups checks that a writer appends in row groups of
// writerRowGroup rows, not DuckDB's 122,880: the size bounds the memory
// each checkpoint of an ingest takes (openWriter).
func TestWriterRowGroups(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	for _, q := range []string{
		`CREATE TABLE rg (i BIGINT, s VARCHAR)`,
		fmt.Sprintf(`INSERT INTO rg SELECT range, 'row ' || range FROM range(%d)`, 2*writerRowGroup+100),
		`CHECKPOINT`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var groups, rows int64
	if err := db.QueryRowContext(ctx, `SELECT count(DISTINCT row_group_id), max(count) FROM pragma_storage_info('rg')`).Scan(&groups, &rows); err != nil {
		t.Fatal(err)
	}
	if groups != 3 || rows > writerRowGroup {
		t.Fatalf("%d rows stored in %d row groups of up to %d rows; want 3 groups of at most %d", 2*writerRowGroup+100, groups, rows, writerRowGroup)
	}
	var name string
	if err := db.QueryRowContext(ctx, `SELECT current_database()`).Scan(&name); err != nil || name != writerCatalog {
		t.Fatalf("current_database() = %q, %v; want %q", name, err, writerCatalog)
	}
}

// TestOpenRefusesOtherFiles checks that a file that is not a DuckDB
// database is named as such, whether opened for writing (attached to an
// in-memory instance) or for reading, and is left as it was.
func TestOpenRefusesOtherFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.duckdb")
	content := bytes.Repeat([]byte("not a database\n"), 1000)
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, readOnly := range []bool{false, true} {
		db, err := Open(context.Background(), path, readOnly)
		if err == nil {
			db.Close()
			t.Fatalf("read-only %v: opened a text file as a database", readOnly)
		}
		if !strings.Contains(err.Error(), "not a rootaudit (DuckDB) database") {
			t.Errorf("read-only %v: error %q does not say the file is not a database", readOnly, err)
		}
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, content) {
		t.Fatal("the file was changed")
	}
}

// TestOpenRefusesQuestionMark: a '?' in the path starts DuckDB's settings
// in a read-only open, so a database written there could not be read back.
// Both modes refuse it, and nothing is created.
func TestOpenRefusesQuestionMark(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a?b.duckdb")
	for _, readOnly := range []bool{false, true} {
		db, err := Open(context.Background(), path, readOnly)
		if err == nil {
			db.Close()
			t.Fatalf("read-only %v: opened %s", readOnly, path)
		}
		if !errors.Is(err, ErrBadPath) {
			t.Errorf("read-only %v: error %q does not name the '?'", readOnly, err)
		}
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("%s was created (stat: %v)", path, err)
	}
}
