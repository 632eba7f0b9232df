package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rootaudit/rootaudit/ingest"
	"github.com/rootaudit/rootaudit/query"
)

// contentHash returns a hash of every row of the tables that carry data,
// leaving out what legitimately differs between runs (run ids, ingest times).
func contentHash(t testing.TB, path string) string {
	t.Helper()
	db, err := sql.Open("duckdb", path+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out string
	for _, q := range []string{
		`SELECT count(*) || ':' || coalesce(md5(string_agg(e::VARCHAR, '|' ORDER BY event_id)), '') FROM events e`,
		`SELECT count(*) || ':' || coalesce(md5(string_agg(f::VARCHAR, '|' ORDER BY source)), '') FROM (SELECT * EXCLUDE (run_id, ingested_at) FROM ingested_files) f`,
	} {
		var h string
		if err := db.QueryRow(q).Scan(&h); err != nil {
			t.Fatal(err)
		}
		out += h + " "
	}
	return out
}

// TestInterruptedIngestResumes cancels ingests part-way (as Ctrl-C does),
// several times at different points, then reruns to completion: the
// database must equal the one from a single clean run.
func TestInterruptedIngestResumes(t *testing.T) {
	tr := genTrail(t)
	clean := filepath.Join(t.TempDir(), "clean.duckdb")
	if _, stderr, code := runCLI(t, "ingest", "--db", clean, "--all", "-q", tr.dir); code != 0 {
		t.Fatalf("clean ingest exit %d: %s", code, stderr)
	}
	want := contentHash(t, clean)

	path := filepath.Join(t.TempDir(), "resumed.duckdb")
	total := 0
	runCLI(t, "ingest", "--db", filepath.Join(t.TempDir(), "count.duckdb"), "--all", "-q", tr.dir)
	for range 1 {
		var stats ingest.Stats
		ingest.Run(context.Background(), []ingest.Source{&ingest.Local{Path: tr.dir}}, ingest.RunOptions{Workers: 2, Stats: &stats}, func(ingest.FileResult) error { return nil })
		total = int(stats.Read.Load())
	}
	// Interrupt early, then a fifth and a third of the way through what is
	// left, so every run stops mid-way whatever the trail's size. (A run
	// goes on committing the files already decoded when it is cancelled,
	// up to about a hundred, so "what is left" is asked of the database.)
	for _, part := range []int{0, 5, 3} {
		ctx, cancel := context.WithCancel(context.Background())
		db, err := query.Open(ctx, path, false)
		if err != nil {
			t.Fatal(err)
		}
		var stored int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM ingested_files`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		after := 3
		if part > 0 {
			after = (total - stored) / part
		}
		if after < 1 || stored >= total {
			t.Fatalf("nothing left to interrupt: %d of %d files stored", stored, total)
		}
		l, err := query.NewLoader(ctx, db, query.RunInfo{Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		err = ingest.Run(ctx, []ingest.Source{&ingest.Local{Path: tr.dir}}, ingest.RunOptions{Workers: 2, Done: l.Done}, func(res ingest.FileResult) error {
			n++
			if n == after {
				cancel()
			}
			return l.Add(ctx, res)
		})
		if err == nil {
			t.Fatalf("run cancelled after %d files returned no error", after)
		}
		if err := l.Finish(ctx, query.RunTotals{Status: "interrupted"}); err != nil {
			t.Fatal(err)
		}
		db.Close()
		cancel()
	}
	if got := contentHash(t, path); got == want {
		t.Fatal("interrupted runs already hold everything: the test did not interrupt anything")
	}
	if _, stderr, code := runCLI(t, "ingest", "--db", path, "--all", "-q", tr.dir); code != 0 {
		t.Fatalf("resuming ingest exit %d: %s", code, stderr)
	}
	if got := contentHash(t, path); got != want {
		t.Fatalf("after resume:\n got %s\nwant %s", got, want)
	}
}

// TestInterruptExitCode checks that a cancelled CLI ingest says so in its
// exit code and keeps what it committed.
func TestInterruptExitCode(t *testing.T) {
	tr := genTrail(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, code := runCLIContext(t, ctx, "ingest", "--db", filepath.Join(t.TempDir(), "i.duckdb"), "--all", "-q", tr.dir)
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d", code, exitInterrupted)
	}
}

func TestExitCodes(t *testing.T) {
	_, db := ingested(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "AWSLogs", "111122223333", "CloudTrail", "us-east-1", "2026", "01", "05")
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, "111122223333_CloudTrail_us-east-1_20260105T0000Z_bad.json.gz"), []byte("not gzip"), 0o644)
	os.WriteFile(filepath.Join(bad, "111122223333_CloudTrail_us-east-1_20260105T0005Z_ok.json.gz"), gzipped(`{"Records":[]}`), 0o644)
	emptyKeys := filepath.Join(t.TempDir(), "keys.json")
	os.WriteFile(emptyKeys, []byte(`{}`), 0o644)
	cases := []struct {
		args []string
		code int
	}{
		{[]string{"inventory", "--db", db, "--since", "2025-11-01", "--until", "2026-11-01"}, exitOK},
		{[]string{"inventory", "--db", db, "--format", "yaml"}, exitUsage},
		{[]string{"inventory", "--db", db, "--since", "yesterday"}, exitUsage},
		{[]string{"inventory", "--db", db, "-o", filepath.Join(dir, "no-such-dir", "inv.csv")}, exitUsage},
		{[]string{"inventory", "--db", db, "--since", "999999999d"}, exitUsage}, // once wrapped into the future
		{[]string{"inventory", "--db", db, "--since", "36500d"}, exitOK},
		// A pilot account no one has seen (a typo) is not scheduled.
		{[]string{"plan", "--db", db, "--pilot", "999999999999"}, exitUsage},
		{[]string{"plan", "--db", db, "--pilot", "123"}, exitUsage},
		{[]string{"inventory", "--db", db, "--account", "1' OR '1'='1"}, exitUsage},
		{[]string{"inventory", "--nonsense"}, exitUsage},
		{[]string{"frobnicate"}, exitUsage},
		{[]string{"ingest", "--db", filepath.Join(dir, "x.duckdb")}, exitUsage},
		// A key file without a key would fail every signature.
		{[]string{"ingest", "--db", filepath.Join(dir, "k.duckdb"), "--validate", "--public-keys", emptyKeys, dir}, exitUsage},
		// A misspelt region would read nothing and exit 0.
		{[]string{"ingest", "--db", filepath.Join(dir, "r.duckdb"), "--region", "US-EAST-1", dir}, exitUsage},
		{[]string{"ingest", "--db", filepath.Join(dir, "r.duckdb"), "--region", "us-east-1,nowhere-1", dir}, exitUsage},
		{[]string{"inventory", "--db", filepath.Join(dir, "missing.duckdb")}, exitFatal},
		{[]string{"ingest", "--db", filepath.Join(dir, "p.duckdb"), "--all", "-q", dir}, exitPartial},
		{[]string{"check", "--db", db, "--since", "2025-11-01", "--until", "2026-11-01"}, exitFindings},
		{[]string{"check", "--db", db, "--since", "2020-01-01", "--until", "2020-02-01"}, exitOK},
		// A misspelt finding kind would turn the gate off.
		{[]string{"check", "--db", db, "--fail-on", "denied-actoin"}, exitUsage},
		{[]string{"check", "--db", db, "--fail-on", "assume-failed,outside-task-polcy"}, exitUsage},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.args), func(t *testing.T) {
			_, stderr, code := runCLI(t, c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, c.code, stderr)
			}
		})
	}
	// The run with a corrupt file says so in its runs row, as its exit
	// code does (it once said ok).
	stdout, stderr, code := runCLI(t, "sql", "--db", filepath.Join(dir, "p.duckdb"), "--format", "csv", "SELECT status, files_failed FROM runs")
	if code != 0 || stdout != "status,files_failed\npartial,1\n" {
		t.Errorf("runs of the partial ingest: exit %d, %q %s", code, stdout, stderr)
	}
}
