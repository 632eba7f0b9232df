//go:build linux && cgo

package query

/*
#include <malloc.h>
*/
import "C"

// releaseFreedMemory hands memory DuckDB has freed back to the operating
// system. glibc keeps freed blocks in its arenas, so without this the
// transient memory of each commit (string analysis and compression of a
// row group at checkpoints) stayed in the process: an ingest's peak RSS
// crept up with the number of files (docs/performance.md).
func releaseFreedMemory() { C.malloc_trim(0) }
