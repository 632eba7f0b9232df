//go:build !libdeflate || !cgo

package ingest

// wholeGunzip is absent from builds without the libdeflate tag: every file
// is read with klauspost/compress's streaming decoder.
type wholeGunzip struct{}

// WholeGunzipLibrary names the library behind whole-file decompression, or
// is "" when rootaudit was built without it (build tag libdeflate).
const WholeGunzipLibrary = ""

func newWholeGunzip() *wholeGunzip { return nil }

func (g *wholeGunzip) gunzip(dst, src []byte) (used, n int, ok bool) { return 0, 0, false }
