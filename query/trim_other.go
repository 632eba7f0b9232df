//go:build !linux || !cgo

package query

// releaseFreedMemory is a no-op where glibc's malloc_trim is not available.
func releaseFreedMemory() {}
