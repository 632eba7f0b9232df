//go:build !linux || !cgo

package query

// releaseFreedMemory is a no-op where neither glibc's malloc_trim nor
// DuckDB's bundled jemalloc is reachable.
func releaseFreedMemory() {}

func releaseDuckDBPages() {}

func allocatorPurgeAvailable() bool { return false }
