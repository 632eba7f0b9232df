package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var listedRE = regexp.MustCompile(`ingest: (\d+) files listed, \d+ already ingested, (\d+) read .*, (\d+) kept,`)

// TestIngestFollowsSymlinkedTrail ingests the same trail through its real
// path and through a symbolic link to it: both must read every file. The
// walk used to stop at a linked root and report 0 files with exit 0.
func TestIngestFollowsSymlinkedTrail(t *testing.T) {
	tr := genTrail(t)
	link := filepath.Join(t.TempDir(), "trail-link")
	if err := os.Symlink(tr.dir, link); err != nil {
		t.Fatal(err)
	}
	var got [2]string
	for i, dir := range []string{tr.dir, link} {
		db := filepath.Join(t.TempDir(), "t.duckdb")
		_, stderr, code := runCLI(t, "ingest", "--db", db, "--all", dir)
		if code != 0 {
			t.Fatalf("ingest %s: exit %d: %s", dir, code, stderr)
		}
		m := listedRE.FindStringSubmatch(stderr)
		if m == nil {
			t.Fatalf("ingest %s: no summary line in %q", dir, stderr)
		}
		got[i] = strings.Join(m[1:], " ")
		out, stderr, code := runCLI(t, "sql", "--db", db, "--format", "csv", "SELECT count(*) FROM ingested_files WHERE starts_with(source, '"+dir+"/')")
		if code != 0 || !strings.Contains(out, m[1]) {
			t.Fatalf("ingest %s: want %s files stored under the path as named; sql exit %d: %s %s", dir, m[1], code, out, stderr)
		}
	}
	if strings.HasPrefix(got[0], "0 ") || got[0] != got[1] {
		t.Fatalf("listed/read/kept through the real path %v, through the link %v", got[0], got[1])
	}
}

// TestIngestEmptyDirectoryFails checks that a directory without a single
// log file is an error, not a clean run with nothing in it.
func TestIngestEmptyDirectoryFails(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not a trail\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, "ingest", "--db", filepath.Join(t.TempDir(), "t.duckdb"), "--all", dir)
	if code != exitFatal || !strings.Contains(stderr, "no CloudTrail log files") || !strings.Contains(stderr, dir) {
		t.Fatalf("exit %d, want %d and a message naming %s; stderr: %s", code, exitFatal, dir, stderr)
	}
}

// TestIngestRefusesOverlappingSources: a trail and a folder inside it
// would list the same files twice; the run is refused before the
// database is touched.
func TestIngestRefusesOverlappingSources(t *testing.T) {
	tr := genTrail(t)
	db := filepath.Join(t.TempDir(), "t.duckdb")
	_, stderr, code := runCLI(t, "ingest", "--db", db, "--all", tr.dir, filepath.Join(tr.dir, "AWSLogs"))
	if code != exitUsage || !strings.Contains(stderr, "overlap") {
		t.Fatalf("exit %d, want %d and a message about overlapping sources; stderr: %s", code, exitUsage, stderr)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Fatalf("the database was created (stat: %v)", err)
	}
}
