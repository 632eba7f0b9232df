//go:build libdeflate && cgo

package ingest

/*
#cgo LDFLAGS: -ldeflate
#include <libdeflate.h>
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// wholeGunzip decompresses a gzip member held whole in memory with
// libdeflate, which on this project's machine inflates CloudTrail JSON about
// twice as fast as klauspost/compress's streaming decoder
// (docs/performance.md). It holds one libdeflate decompressor, which is not
// safe for concurrent use: one belongs to one Worker.
type wholeGunzip struct {
	d *C.struct_libdeflate_decompressor
}

// WholeGunzipLibrary names the library behind whole-file decompression, or
// is "" when rootaudit was built without it (build tag libdeflate).
const WholeGunzipLibrary = "libdeflate"

func newWholeGunzip() *wholeGunzip {
	d := C.libdeflate_alloc_decompressor()
	if d == nil {
		return nil // out of memory: the streaming decoder still works
	}
	g := &wholeGunzip{d: d}
	runtime.AddCleanup(g, func(d *C.struct_libdeflate_decompressor) { C.libdeflate_free_decompressor(d) }, d)
	return g
}

// gunzip decompresses the first gzip member of src into dst, which must
// have exactly the room the member's trailer announces. It returns how many
// bytes of src the member used, and false when libdeflate refused the data
// for any reason (corrupt, truncated, a wrong size in the trailer): the
// caller then falls back to the streaming decoder, which names the problem.
func (g *wholeGunzip) gunzip(dst, src []byte) (used, n int, ok bool) {
	if g == nil || len(src) == 0 {
		return 0, 0, false
	}
	var one [1]byte
	out := dst
	if len(out) == 0 {
		out = one[:] // libdeflate wants a valid pointer even for no room
	}
	var in, got C.size_t
	r := C.libdeflate_gzip_decompress_ex(g.d, unsafe.Pointer(&src[0]), C.size_t(len(src)),
		unsafe.Pointer(&out[0]), C.size_t(len(dst)), &in, &got)
	if r != C.LIBDEFLATE_SUCCESS {
		return 0, 0, false
	}
	return int(in), int(got), true
}
