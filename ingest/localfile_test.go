package ingest

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestLocalFileReadsWholeFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f.json")
	want := bytes.Repeat([]byte("0123456789"), 100_000)
	if err := os.WriteFile(p, want, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := openLocal(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, err %v; want %d bytes", len(got), err, len(want))
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := f.Read(make([]byte, 1)); err == nil {
		t.Fatal("read after close succeeded")
	}
}

func TestLocalFileErrorsNameThePath(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.json.gz")
	if _, err := openLocal(missing); !errors.Is(err, fs.ErrNotExist) || !bytes.Contains([]byte(err.Error()), []byte(missing)) {
		t.Fatalf("open of a missing file: %v", err)
	}
	// A directory opens but cannot be read: the error names it.
	f, err := openLocal(dir)
	if err != nil {
		t.Skipf("directory did not open: %v", err)
	}
	defer f.Close()
	if _, err := io.ReadAll(f); err == nil || !bytes.Contains([]byte(err.Error()), []byte(dir)) {
		t.Fatalf("read of a directory: %v", err)
	}
}
