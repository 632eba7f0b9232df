package ingest

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// loadBoth reads data as a file named name with whole-file decompression
// (when built in) and with the streaming decoder alone, and fails the test
// when the two disagree on the bytes, on completeness or on the error.
func loadBoth(t testing.TB, name string, data []byte) (whole bool) {
	t.Helper()
	type out struct {
		data     []byte
		complete bool
		n        int64
		sum      []byte
		err      string
	}
	run := func(w *Worker) out {
		d, complete, err := w.load(memRef(name, data), bytes.NewReader(data))
		o := out{complete: complete}
		if err != nil {
			o.err = w.wrapReadErr(err).Error()
			return o
		}
		o.data = append([]byte(nil), d...)
		if !complete {
			rest, err := io.ReadAll(&w.cr)
			if err != nil {
				o.err = w.wrapReadErr(err).Error()
				return o
			}
			o.data = append(o.data, rest...)
		}
		o.n, o.sum = w.cr.n, w.h.Sum(nil)
		return o
	}
	fast := NewWorker(Options{Hash: true, MaxFileBytes: 8 << 20})
	slow := NewWorker(Options{Hash: true, MaxFileBytes: 8 << 20})
	slow.wg = nil
	a, b := run(fast), run(slow)
	if a.err != b.err || a.complete != b.complete || a.n != b.n || !bytes.Equal(a.data, b.data) || !bytes.Equal(a.sum, b.sum) {
		t.Fatalf("whole-file and streaming decoders disagree:\nwhole:  complete=%v n=%d err=%q len=%d\nstream: complete=%v n=%d err=%q len=%d",
			a.complete, a.n, a.err, len(a.data), b.complete, b.n, b.err, len(b.data))
	}
	return fast.wholeFiles == 1
}

// gzipCases are gzip streams that exercise every fallback of the whole-file
// decoder: the streaming decoder must take over and name the same problem.
func gzipCases(t testing.TB) map[string]struct {
	data  []byte
	whole bool // the whole-file decoder is expected to take it
} {
	json := []byte(`{"Records":[{"eventVersion":"1.08","userIdentity":{"type":"Root"}}]}`)
	one := gz(t, json)
	big := gz(t, bytes.Repeat([]byte(`{"eventVersion":"1.08"},`), (fastFileBytes/24)+10))
	lying := append([]byte{}, one...)
	binary.LittleEndian.PutUint32(lying[len(lying)-4:], uint32(len(json)+5))
	huge := append([]byte{}, one...)
	binary.LittleEndian.PutUint32(huge[len(huge)-4:], 1<<31)
	badCRC := append([]byte{}, one...)
	badCRC[len(badCRC)-8] ^= 0xff
	return map[string]struct {
		data  []byte
		whole bool
	}{
		"one member":           {one, true},
		"empty":                {gz(t, nil), true},
		"two members":          {append(append([]byte{}, one...), one...), false},
		"trailing garbage":     {append(append([]byte{}, one...), "garbage"...), false},
		"truncated":            {one[:len(one)-6], false},
		"header only":          {one[:10], false},
		"size in trailer lies": {lying, false},
		"size in trailer huge": {huge, false},
		"bad crc":              {badCRC, false},
		"over fastFileBytes":   {big, false},
		"not gzip":             {[]byte("not gzip at all"), false},
	}
}

func TestWholeGunzipMatchesStreaming(t *testing.T) {
	if WholeGunzipLibrary == "" {
		t.Skip("built without whole-file decompression (build tag libdeflate): only the streaming decoder exists")
	}
	for name, c := range gzipCases(t) {
		t.Run(name, func(t *testing.T) {
			if whole := loadBoth(t, logName, c.data); whole != c.whole {
				t.Fatalf("whole-file decoder used = %v, want %v", whole, c.whole)
			}
		})
	}
	// Every file of the committed sample trail goes through the fast
	// decoder and gives the streaming decoder's bytes.
	n := 0
	filepath.WalkDir("../fixtures/sample/trail", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".gz" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !loadBoth(t, p, data) {
			t.Fatalf("%s: not decompressed whole", p)
		}
		n++
		return nil
	})
	if n < 10 {
		t.Fatalf("only %d sample files", n)
	}
}

// FuzzWholeGunzip checks that the whole-file decoder (libdeflate) and the
// streaming decoder agree on every input: the same bytes, or the same error.
func FuzzWholeGunzip(f *testing.F) {
	if WholeGunzipLibrary == "" {
		f.Skip("built without whole-file decompression (build tag libdeflate)")
	}
	for _, c := range gzipCases(f) {
		if len(c.data) < 1<<16 {
			f.Add(c.data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		loadBoth(t, logName, data)
	})
}
