package ingest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// memSource lists files held in memory.
type memSource []FileRef

func (s memSource) List(ctx context.Context, f *Filter, out chan<- FileRef) error {
	for _, r := range s {
		select {
		case out <- r:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (s memSource) String() string { return "memory" }

// TestRunBoundsQueuedKeptEvents: results wait in a queue for the single
// writer. Where root is used by a script (hundreds of kept events a file),
// 72 queued results held ~80 MB; the kept events' bytes waiting for the
// writer are now bounded by queuedKeptBytes. Here 60 files of ~400 KB of
// kept events each meet a slow writer: without the bound the queue would
// hold them all (24 MB).
func TestRunBoundsQueuedKeptEvents(t *testing.T) {
	var src memSource
	pad := strings.Repeat("x", 900)
	for f := 0; f < 60; f++ {
		var recs []string
		for i := 0; i < 400; i++ {
			recs = append(recs, fmt.Sprintf(`{"eventID":"f%d-%d","eventTime":"2026-01-05T00:00:00Z","userIdentity":{"type":"Root","accountId":"111122223333"},"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","userAgent":"%s"}`, f, i, pad))
		}
		name := strings.Replace(logName, "_x.json.gz", fmt.Sprintf("_f%d.json.gz", f), 1)
		src = append(src, memRef(name, gz(t, []byte(`{"Records":[`+strings.Join(recs, ",")+`]}`))))
	}
	st := &Stats{}
	var peak, kept int64
	err := Run(context.Background(), []Source{src}, RunOptions{Workers: 2, Stats: st}, func(res FileResult) error {
		if q := st.Queued.Load(); q > peak {
			peak = q
		}
		if res.Status != StatusOK {
			t.Errorf("%s: %s %s", res.Ref.Source, res.Status, res.Reason)
		}
		kept += int64(len(res.Events))
		time.Sleep(10 * time.Millisecond) // a writer committing
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if kept != 60*400 {
		t.Fatalf("%d events kept, want %d", kept, 60*400)
	}
	if peak > queuedKeptBytes || peak < queuedKeptBytes/2 {
		t.Fatalf("kept events queued for the writer peaked at %d bytes, want at most %d (and the queue used)", peak, queuedKeptBytes)
	}
	if q := st.Queued.Load(); q != 0 {
		t.Fatalf("%d bytes still counted as queued after the run", q)
	}
}
