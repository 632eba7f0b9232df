package query

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/rootaudit/rootaudit/ingest"
)

// TestFailedCommitLeavesNothing checks the batch transaction: checkpoint
// rows are appended straight into ingested_files inside it, so when the
// commit fails (here: a record that is not valid JSON reaches the events
// table's JSON column) none of the batch's files may be recorded as done,
// and the next batch must work.
func TestFailedCommitLeavesNothing(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "l.duckdb"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l, err := NewLoader(ctx, db, RunInfo{Command: "test"})
	if err != nil {
		t.Fatal(err)
	}
	file := func(name, id, raw string) ingest.FileResult {
		p := "/t/AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/05/111122223333_CloudTrail_us-east-1_20260105T0000Z_" + name + ".json.gz"
		return ingest.FileResult{
			Ref:    ingest.FileRef{Source: p, Key: ingest.ParseKey(p), Size: 10, ETag: "e"},
			Status: ingest.StatusOK, Records: 1,
			Events: []ingest.Event{{EventID: id, EventTime: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), IdentityType: "Root", Raw: []byte(raw)}},
		}
	}
	if err := l.Add(ctx, file("a", "e1", `{"eventID":"e1"}`)); err != nil {
		t.Fatal(err)
	}
	if err := l.Add(ctx, file("b", "e2", `{"eventID":`)); err != nil {
		t.Fatal(err)
	}
	if err := l.Commit(ctx); err == nil {
		t.Fatal("commit of a record that is not JSON succeeded")
	}
	count := func(table string) int {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if f, e := count("ingested_files"), count("events"); f != 0 || e != 0 {
		t.Fatalf("after a failed commit: %d files and %d events stored, want none", f, e)
	}
	if err := l.Add(ctx, file("a", "e1", `{"eventID":"e1"}`)); err != nil {
		t.Fatal(err)
	}
	if err := l.Finish(ctx, RunTotals{Status: "ok"}); err != nil {
		t.Fatal(err)
	}
	if f, e := count("ingested_files"), count("events"); f != 1 || e != 1 {
		t.Fatalf("after the next batch: %d files and %d events, want 1 and 1", f, e)
	}
}
