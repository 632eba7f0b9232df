package ingest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"
)

// RunOptions configure a whole ingest run.
type RunOptions struct {
	Options
	Filter  *Filter
	Workers int // file decoders running at once; runtime.NumCPU() when 0
	// Done reports whether a file is already in the store with the same
	// ETag; such files are not read again. Nil means read everything.
	Done func(ref FileRef) bool
	// Stats, when set, is updated as the run goes (for progress display).
	Stats *Stats
	// Retries is how many times a file whose read failed with a
	// TransientError is read again (with exponential backoff from
	// RetryBase); 0 means no retry.
	Retries   int
	RetryBase time.Duration
	// Debug, when set, is told about every file read and every retry (for
	// --debug). It never sees credentials: only sources and outcomes.
	Debug func(format string, args ...any)
}

// Stats are live counters of a run, safe to read from another goroutine.
type Stats struct {
	Listed     atomic.Int64 // files sent by the sources
	Unchanged  atomic.Int64 // files skipped because already ingested
	Read       atomic.Int64 // files processed (ok, skipped or failed)
	Failed     atomic.Int64
	Skipped    atomic.Int64
	Compressed atomic.Int64 // bytes of files processed, as stored
	Bytes      atomic.Int64 // uncompressed bytes
	Records    atomic.Int64
	Kept       atomic.Int64
	// Queued is the raw JSON of kept events decoded and waiting for the
	// writer, in bytes (bounded by queuedKeptBytes).
	Queued   atomic.Int64
	ListDone atomic.Bool
}

// Run lists every source, decodes the files on opts.Workers goroutines and
// hands each FileResult to sink on the calling goroutine, so the sink (the
// single database writer) needs no locking. Channels are bounded: at most
// about 5×Workers+64 results are in memory at once. Run returns the first
// listing or sink error, or ctx's error when cancelled; per-file problems
// are results, not errors. Sources that could list the same file are
// refused before anything is read (CheckDisjoint): each file is handed to
// sink at most once.
func Run(ctx context.Context, sources []Source, opts RunOptions, sink func(FileResult) error) error {
	if err := CheckDisjoint(sources); err != nil {
		return err
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	st := opts.Stats
	if st == nil {
		st = &Stats{}
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(runCtx)
	refs := make(chan FileRef, 4*workers)
	// Room for the results produced while the writer commits a batch (tens
	// of milliseconds), so decoders do not stall on it. Results are small,
	// counts plus the few kept events of a file, except where root is used
	// by a script (hundreds of kept events a file): the kept events' bytes
	// waiting for the writer are bounded as well (queuedKeptBytes).
	results := make(chan FileResult, 4*workers+64)
	queued := semaphore.NewWeighted(queuedKeptBytes)

	g.Go(func() error {
		defer close(refs)
		defer st.ListDone.Store(true)
		listed := make(chan FileRef, 64)
		lg, lctx := errgroup.WithContext(gctx)
		lg.Go(func() error {
			defer close(listed)
			for _, s := range sources {
				if err := s.List(lctx, opts.Filter, listed); err != nil {
					return fmt.Errorf("list %s: %w", s, err)
				}
			}
			return nil
		})
		lg.Go(func() error {
			for ref := range listed {
				st.Listed.Add(1)
				if opts.Done != nil && opts.Done(ref) {
					st.Unchanged.Add(1)
					continue
				}
				select {
				case refs <- ref:
				case <-lctx.Done():
					for range listed {
					}
					return lctx.Err()
				}
			}
			return nil
		})
		return lg.Wait()
	})

	wg, wctx := errgroup.WithContext(gctx)
	for i := 0; i < workers; i++ {
		wg.Go(func() error {
			w := NewWorker(opts.Options)
			for ref := range refs {
				res := processWithRetry(wctx, w, ref, opts)
				if wctx.Err() != nil {
					// A file cut short by cancellation is not a result:
					// it is simply not committed and is read next time.
					return wctx.Err()
				}
				weight := keptWeight(res)
				if err := queued.Acquire(wctx, weight); err != nil {
					return err
				}
				st.Queued.Add(weight)
				select {
				case results <- res:
				case <-wctx.Done():
					st.Queued.Add(-weight)
					queued.Release(weight)
					return wctx.Err()
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		err := wg.Wait()
		close(results)
		return err
	})

	var sinkErr error
	for res := range results {
		weight := keptWeight(res) // res is the writer's now
		st.Queued.Add(-weight)
		queued.Release(weight)
		if sinkErr != nil {
			continue // drain so workers can exit
		}
		st.Read.Add(1)
		if opts.Debug != nil {
			opts.Debug("%s %s: %d records, %d candidates, %d kept, %d bytes, %s%s", res.Status, res.Ref.Source,
				res.Records, res.Candidates, len(res.Events), res.Bytes, res.Elapsed.Round(time.Microsecond), reasonSuffix(res.Reason))
		}
		st.Compressed.Add(res.Ref.Size)
		st.Bytes.Add(res.Bytes)
		st.Records.Add(int64(res.Records))
		st.Kept.Add(int64(len(res.Events)))
		switch res.Status {
		case StatusFailed:
			st.Failed.Add(1)
		case StatusSkipped:
			st.Skipped.Add(1)
		}
		if err := sink(res); err != nil {
			sinkErr = err
			cancel() // stop listing and decoding; nothing more can be stored
		}
	}
	err := g.Wait()
	if sinkErr != nil {
		return sinkErr
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// queuedKeptBytes bounds the raw JSON of kept events decoded but not yet
// handed to the writer. Without it, 72 queued files of 500 kept events each
// held ~80 MB of Go heap (and Go's collector lets the heap grow to twice
// what is live).
const queuedKeptBytes = 8 << 20

// keptWeight is what a result counts against queuedKeptBytes: its kept
// events' raw bytes, at most the whole budget (a larger file then waits
// until nothing else is queued).
func keptWeight(res FileResult) int64 {
	var n int64
	for i := range res.Events {
		n += int64(len(res.Events[i].Raw))
	}
	return min(n, queuedKeptBytes)
}

// processWithRetry reads ref, reading it again from the start after a
// transient failure. Each attempt starts from an empty result, so a half-read
// attempt never contributes events.
func processWithRetry(ctx context.Context, w *Worker, ref FileRef, opts RunOptions) FileResult {
	base := opts.RetryBase
	if base <= 0 {
		base = 200 * time.Millisecond
	}
	for attempt := 1; ; attempt++ {
		res := w.Process(ctx, ref)
		res.Attempts = attempt
		if res.Status != StatusFailed || !IsTransient(res.Err) || attempt > opts.Retries || ctx.Err() != nil {
			if res.Status == StatusFailed && attempt > 1 {
				res.Reason = fmt.Sprintf("%s (gave up after %d attempts)", res.Reason, attempt)
			}
			return res
		}
		d := base << (attempt - 1)
		if d > 20*time.Second {
			d = 20 * time.Second
		}
		// Full jitter keeps many workers from retrying in lockstep.
		d = time.Duration(rand.Int64N(int64(d)) + 1)
		if opts.Debug != nil {
			opts.Debug("retry %s in %s (attempt %d): %s", ref.Source, d.Round(time.Millisecond), attempt+1, res.Reason)
		}
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return res
		}
	}
}

func reasonSuffix(r string) string {
	if r == "" {
		return ""
	}
	return " (" + r + ")"
}
