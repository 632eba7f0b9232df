package ingest_test

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/rootaudit/rootaudit/fixtures"
	"github.com/rootaudit/rootaudit/ingest"
)

// benchFiles is a generated org trail (about 20 MB of JSON), kept both
// compressed and decompressed in memory, shared by the benchmarks.
var (
	benchOnce  sync.Once
	benchGz    [][]byte
	benchJSON  [][]byte
	benchTotal int64
)

func loadBench(b *testing.B) {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rootaudit-bench-")
		if err != nil {
			b.Fatal(err)
		}
		defer os.RemoveAll(dir)
		if _, err := fixtures.Generate(context.Background(), dir, fixtures.Config{Seed: 3, TargetBytes: 20 << 20}); err != nil {
			b.Fatal(err)
		}
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.Contains(p, "/CloudTrail/") {
				return err
			}
			gz, _ := os.ReadFile(p)
			zr, _ := gzip.NewReader(bytes.NewReader(gz))
			js, _ := io.ReadAll(zr)
			benchGz, benchJSON = append(benchGz, gz), append(benchJSON, js)
			benchTotal += int64(len(js))
			return nil
		})
	})
	b.SetBytes(benchTotal)
	b.ResetTimer()
}

// BenchmarkCandidateFile is the whole-file pre-filter.
func BenchmarkCandidateFile(b *testing.B) {
	loadBench(b)
	for i := 0; i < b.N; i++ {
		for _, f := range benchJSON {
			ingest.Candidate(f)
		}
	}
}

// BenchmarkWalker splits every record of every file.
func BenchmarkWalker(b *testing.B) {
	loadBench(b)
	var w ingest.Walker
	for i := 0; i < b.N; i++ {
		for _, f := range benchJSON {
			w.ResetBytes(f)
			for {
				if _, err := w.Next(); err != nil {
					break
				}
			}
		}
	}
}

// BenchmarkDecodeCandidates runs the record pre-filter on every record,
// and the full decode and the classifier (Keep, the judge of what is
// stored) on every candidate.
func BenchmarkDecodeCandidates(b *testing.B) {
	loadBench(b)
	var w ingest.Walker
	var d ingest.Decoder
	var e ingest.Event
	kept := 0
	for i := 0; i < b.N; i++ {
		for _, f := range benchJSON {
			w.ResetBytes(f)
			for {
				rec, err := w.Next()
				if err != nil {
					break
				}
				if ingest.Candidate(rec) && d.Decode(rec, &e) == nil && ingest.Keep(&e) {
					kept++
				}
			}
		}
	}
	// The generated trail plants root and AssumeRoot records: a pre-filter
	// or classifier that drops them all would otherwise look fast.
	if kept == 0 {
		b.Fatal("no record kept")
	}
}

// BenchmarkGunzip is the floor: decompression alone.
func BenchmarkGunzip(b *testing.B) {
	loadBench(b)
	var zr gzip.Reader
	for i := 0; i < b.N; i++ {
		for _, f := range benchGz {
			zr.Reset(bytes.NewReader(f))
			io.Copy(io.Discard, &zr)
		}
	}
}

// BenchmarkProcess is one worker's whole job per file: gunzip, pre-filter,
// walk or outline check, decode.
func BenchmarkProcess(b *testing.B) {
	loadBench(b)
	w := ingest.NewWorker(ingest.Options{})
	refs := make([]ingest.FileRef, len(benchGz))
	for i, gz := range benchGz {
		gz := gz
		refs[i] = ingest.FileRef{Source: "x.json.gz", Key: ingest.KeyInfo{Kind: ingest.KindLog},
			Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(gz)), nil }}
	}
	for i := 0; i < b.N; i++ {
		for _, r := range refs {
			if res := w.Process(context.Background(), r); res.Status != ingest.StatusOK {
				b.Fatal(res.Reason)
			}
		}
	}
}
