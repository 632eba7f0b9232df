package query

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/rootaudit/rootaudit/ingest"
)

// BenchmarkLoaderFiles measures the writer's cost per file: one checkpoint
// row per file, in batches, as an ingest of a year of small log files does
// (most files keep no event). It reports µs of writer time per file.
func BenchmarkLoaderFiles(b *testing.B) {
	const files = 20000
	ctx := context.Background()
	refs := make([]ingest.FileRef, files)
	for i := range refs {
		p := fmt.Sprintf("/data/AWSLogs/o-abc/%012d/CloudTrail/us-east-1/2026/%02d/%02d/%012d_CloudTrail_us-east-1_20260101T0000Z_%08d.json.gz", 100000000000+i%50, 1+i%12, 1+i%28, 100000000000+i%50, i)
		refs[i] = ingest.FileRef{Source: p, Key: ingest.ParseKey(p), Size: 5500, ETag: fmt.Sprintf("5500-%d", i)}
	}
	var cpu time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		db, err := Open(ctx, filepath.Join(b.TempDir(), "b.duckdb"), false)
		if err != nil {
			b.Fatal(err)
		}
		l, err := NewLoader(ctx, db, RunInfo{Command: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		c0 := cpuTime()
		for i := range refs {
			if err := l.Add(ctx, ingest.FileResult{Ref: refs[i], Status: ingest.StatusOK, Records: 20, Bytes: 25000}); err != nil {
				b.Fatal(err)
			}
		}
		if err := l.Finish(ctx, RunTotals{Status: "ok"}); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - c0
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*files), "µs/file")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*files), "cpu-µs/file")
}

// cpuTime is the process's user plus system CPU time: DuckDB works on
// threads of its own, which wall time alone would hide.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
