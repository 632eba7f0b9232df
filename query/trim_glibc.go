//go:build linux && cgo

package query

/*
#include <malloc.h>
#include <stddef.h>

// DuckDB's prebuilt library carries its own jemalloc, with its symbols
// prefixed duckdb_je_; DuckDB allocates its buffers there. The reference
// is weak so that a DuckDB built without jemalloc still links (the
// pointer is then NULL).
extern int duckdb_je_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen) __attribute__((weak));

static int jemalloc_present(void) { return duckdb_je_mallctl != NULL; }

// "arena.4096.purge": 4096 is MALLCTL_ARENAS_ALL, every arena at once.
static int jemalloc_purge(void) {
	if (duckdb_je_mallctl == NULL) return -1;
	return duckdb_je_mallctl("arena.4096.purge", NULL, NULL, NULL, 0);
}
*/
import "C"

// releaseFreedMemory hands memory DuckDB has freed back to the operating
// system, from both of the allocators in the process:
//   - DuckDB's jemalloc keeps the pages it frees (dirty pages, purged after
//     a delay of seconds, and only when it is called again). A checkpoint
//     frees tens of megabytes at once, so between commits jemalloc held
//     60–120 MB that DuckDB no longer used: 20–35 MB of an ingest's peak
//     RSS (docs/performance.md, "Memory");
//   - glibc keeps freed blocks of DuckDB's smaller C++ allocations in its
//     arenas.
//
// It is called after each commit, every few seconds at most.
func releaseFreedMemory() {
	C.jemalloc_purge()
	C.malloc_trim(0)
}

// releaseDuckDBPages hands back only the pages DuckDB's jemalloc holds
// freed: the integrity pass calls it after every statement, where walking
// glibc's heaps as well (malloc_trim) cost time and gave nothing more.
func releaseDuckDBPages() { C.jemalloc_purge() }

// allocatorPurgeAvailable reports whether DuckDB's jemalloc was found, so a
// test notices a DuckDB upgrade that renames or drops it.
func allocatorPurgeAvailable() bool { return C.jemalloc_present() != 0 }
