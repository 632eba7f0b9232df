package query

import (
	"context"
	"strconv"
	"strings"
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
	db := openTemp(t)
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

// TestLoaderLoadsOnlyTheWindow: a run with a window holds the checkpoints
// of the days it can list, not of the whole database (a daily run against
// a year of an organization's trail must not load tens of millions), and
// still recognises, and replaces rather than duplicates, a file outside
// those days that it is given anyway (a file named on the command line).
func TestLoaderLoadsOnlyTheWindow(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	day0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	file := func(d int, etag string) ingest.FileResult {
		day := day0.AddDate(0, 0, d)
		p := "/t/AWSLogs/111122223333/CloudTrail/us-east-1/" + day.Format("2006/01/02") + "/111122223333_CloudTrail_us-east-1_" + day.Format("20060102") + "T0000Z_x.json.gz"
		return ingest.FileResult{Ref: ingest.FileRef{Source: p, Key: ingest.ParseKey(p), Size: 10, ETag: etag}, Status: ingest.StatusOK, Records: 1}
	}
	l, err := NewLoader(ctx, db, RunInfo{Command: "all"})
	if err != nil {
		t.Fatal(err)
	}
	for d := 0; d < 60; d++ {
		if err := l.Add(ctx, file(d, "e1")); err != nil {
			t.Fatal(err)
		}
	}
	// The run's own files are not remembered: a first run over a year of
	// an organization's trail would hold tens of millions.
	if n := len(l.stored.entries); n != 0 {
		t.Errorf("the loader holds %d entries after a first run of 60 new files", n)
	}
	if err := l.Finish(ctx, RunTotals{Status: "ok"}); err != nil {
		t.Fatal(err)
	}

	// A window of days 30–31: those days and a few on each side are loaded.
	l, err = NewLoader(ctx, db, RunInfo{Command: "window", Since: day0.AddDate(0, 0, 30), Until: day0.AddDate(0, 0, 32)})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(l.stored.entries); n < 2 || n > 10 {
		t.Errorf("%d checkpoints loaded for a 2-day window of 60 days", n)
	}
	for _, d := range []int{0, 31, 59} {
		if !l.Done(file(d, "e1").Ref) {
			t.Errorf("day %d: an unchanged file is not done", d)
		}
		if l.Done(file(d, "e2").Ref) {
			t.Errorf("day %d: a changed file is done", d)
		}
	}
	// Day 0 and day 31 changed: each is replaced, not added twice.
	for _, d := range []int{0, 31} {
		if err := l.Add(ctx, file(d, "e2")); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Finish(ctx, RunTotals{Status: "ok"}); err != nil {
		t.Fatal(err)
	}
	var rows, distinct int
	var e2 int
	if err := db.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT source), count(*) FILTER (WHERE etag = 'e2') FROM ingested_files`).Scan(&rows, &distinct, &e2); err != nil {
		t.Fatal(err)
	}
	if rows != 60 || distinct != 60 || e2 != 2 {
		t.Fatalf("%d rows for %d sources (%d changed), want 60, 60 and 2", rows, distinct, e2)
	}
}

// TestLoaderCommitsManyKeptEvents: a trail where root is used by a script
// keeps thousands of events. They once ran DuckDB out of the writer's
// memory cap at commit ("failed to pin block", exit 5, nothing stored):
// 100 files of 60 ordinary events, and one file whose events hold large
// request parameters. Batches are now bounded by the events' bytes, and a
// single file larger than that raises the cap for its own commit.
func TestLoaderCommitsManyKeptEvents(t *testing.T) {
	ctx := context.Background()
	pad := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = 'x'
		}
		return string(b)
	}
	file := func(name string, events, rawBytes int) ingest.FileResult {
		p := "/t/AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/05/111122223333_CloudTrail_us-east-1_20260105T0000Z_" + name + ".json.gz"
		res := ingest.FileResult{
			Ref:    ingest.FileRef{Source: p, Key: ingest.ParseKey(p), Size: 10, ETag: "e"},
			Status: ingest.StatusOK, Records: events,
		}
		for i := 0; i < events; i++ {
			id := name + "-" + strconv.Itoa(i)
			res.Events = append(res.Events, ingest.Event{
				EventID: id, EventTime: time.Date(2026, 1, 5, 0, 0, i%60, 0, time.UTC), IdentityType: "Root",
				EventName: "ListBuckets", UserAgent: pad(120), SourceIP: "198.51.100.7",
				Raw: []byte(`{"eventID":"` + id + `","requestParameters":{"p":"` + pad(rawBytes) + `"}}`),
			})
		}
		return res
	}
	for _, c := range []struct {
		name                  string
		files, events, rawLen int
		minCommits            int
	}{
		{"150 files of 60 events", 150, 60, 900, 2},
		{"one file of 300 events of 20 KB", 1, 300, 20000, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := openTemp(t)
			l, err := NewLoader(ctx, db, RunInfo{Command: "test"})
			if err != nil {
				t.Fatal(err)
			}
			for f := 0; f < c.files; f++ {
				if err := l.Add(ctx, file("f"+strconv.Itoa(f), c.events, c.rawLen)); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.Finish(ctx, RunTotals{Status: "ok"}); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := db.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if want := c.files * c.events; n != want {
				t.Fatalf("%d events stored, want %d", n, want)
			}
			if l.Commits < c.minCommits {
				t.Errorf("%d commits, want at least %d (batches bounded by bytes)", l.Commits, c.minCommits)
			}
			// A raised cap comes back down once its batch is committed.
			var limit string
			if err := db.QueryRowContext(ctx, `SELECT current_setting('memory_limit')`).Scan(&limit); err != nil || limit != "48.0 MiB" {
				t.Errorf("memory limit after the run: %q (%v), want the writer's 48.0 MiB", limit, err)
			}
		})
	}
}

// TestLoaderReplacesFilesReadAgain: files stored by an earlier run (here a
// plain run, then a --validate run that reads them again) are replaced, not
// duplicated, and a digest read again keeps only its new listings. The old
// rows are now deleted once per batch rather than per file (a --validate
// run after a plain ingest of the bench trail took 224 s instead of 5).
func TestLoaderReplacesFilesReadAgain(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	const dir = "/t/AWSLogs/111122223333/"
	logs := []string{
		dir + "CloudTrail/us-east-1/2026/01/05/111122223333_CloudTrail_us-east-1_20260105T0000Z_a.json.gz",
		dir + "CloudTrail/us-east-1/2026/01/05/111122223333_CloudTrail_us-east-1_20260105T0005Z_b.json.gz",
	}
	dig := dir + "CloudTrail-Digest/us-east-1/2026/01/05/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20260105T010000Z.json.gz"
	run := func(validate bool, sha string, listings int) {
		t.Helper()
		l, err := NewLoader(ctx, db, RunInfo{Command: "test", Validate: validate})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range logs {
			res := ingest.FileResult{Ref: ingest.FileRef{Source: p, Key: ingest.ParseKey(p), Size: 10, ETag: "e"}, Status: ingest.StatusOK, SHA256: sha}
			if err := l.Add(ctx, res); err != nil {
				t.Fatal(err)
			}
		}
		d := &ingest.Digest{AccountID: "111122223333", SHA256: "d-" + sha}
		for i := 0; i < listings; i++ {
			d.LogFiles = append(d.LogFiles, ingest.DigestLogFile{S3Bucket: "b", S3Object: strings.TrimPrefix(logs[i], "/t/"), HashValue: sha})
		}
		res := ingest.FileResult{Ref: ingest.FileRef{Source: dig, Key: ingest.ParseKey(dig), Size: 10, ETag: "e"}, Status: ingest.StatusOK, Digest: d}
		if err := l.Add(ctx, res); err != nil {
			t.Fatal(err)
		}
		if err := l.Finish(ctx, RunTotals{Status: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(q string) int {
		var n int
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	run(false, "old", 2)
	run(true, "new", 1) // files ingested without --validate are read again
	if n := count(`SELECT count(*) FROM ingested_files`); n != 3 {
		t.Errorf("%d checkpoint rows after the files were read again, want 3", n)
	}
	if n := count(`SELECT count(*) FROM ingested_files WHERE kind = 'log' AND sha256 = 'new'`); n != 2 {
		t.Errorf("%d log rows with the new read's hash, want 2", n)
	}
	if n := count(`SELECT count(*) FROM digest_files`); n != 1 {
		t.Errorf("%d digest rows, want 1", n)
	}
	if n := count(`SELECT count(*) FROM digest_log_files`); n != 1 {
		t.Errorf("%d listings, want the new read's 1", n)
	}
}
