//go:build linux && cgo

package query

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// rssAnon returns the process's resident anonymous memory in bytes
// (/proc/self/status), which is where both allocators' pages live.
func rssAnon(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "RssAnon:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no RssAnon in /proc/self/status")
	return 0
}

// TestReleaseFreedMemory checks that memory DuckDB has freed leaves the
// process when the loader asks for it after a commit. DuckDB allocates its
// buffers from its bundled jemalloc, which keeps freed pages for seconds;
// without the purge an ingest's peak RSS grew with the size of the trail.
func TestReleaseFreedMemory(t *testing.T) {
	if !allocatorPurgeAvailable() {
		t.Fatal("duckdb_je_mallctl not found: this DuckDB build has no bundled jemalloc, or renamed it; releaseFreedMemory no longer purges DuckDB's memory (see query/trim_glibc.go)")
	}
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "m.duckdb"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// About 200 MB of strings in a temporary table, then dropped: DuckDB
	// frees them, jemalloc keeps the pages.
	for _, q := range []string{
		`CREATE TEMP TABLE big AS SELECT repeat('x', 90) || i::VARCHAR AS s FROM range(2000000) t(i)`,
		`DROP TABLE big`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	before := rssAnon(t)
	releaseFreedMemory()
	after := rssAnon(t)
	t.Logf("anonymous RSS %d MB before, %d MB after releaseFreedMemory", before>>20, after>>20)
	if before-after < 50<<20 {
		t.Fatalf("releaseFreedMemory gave back %d MB of %d MB; want at least 50 MB", (before-after)>>20, before>>20)
	}
}
