package query

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rootaudit/rootaudit/ingest"
)

// TestCheckpointHashesMatchDuckDB: the loader hashes sources and ETags in
// SQL (md5_number_upper/lower) and looks them up with hashes computed in
// Go; if DuckDB ever changes those functions, every file would look new.
func TestCheckpointHashesMatchDuckDB(t *testing.T) {
	db := openTemp(t)
	for _, s := range []string{"", "abc", "\"quoted\" 'single'", "/trail/AWSLogs/o-abc/111122223333/CloudTrail/eu-west-1/2026/11/27/111122223333_CloudTrail_eu-west-1_20261127T1130Z_Ab12.json.gz", "s3://bucket/ключ/日本.json", "W/\"5d41402abc4b2a76b9719d911017c592-3\""} {
		var upper, lower uint64
		if err := db.QueryRowContext(context.Background(), `SELECT md5_number_upper(?), md5_number_lower(?)`, s, s).Scan(&upper, &lower); err != nil {
			t.Fatal(err)
		}
		if srcHash(s) != upper || etagHash(s, false) != lower&^1 || etagHash(s, true) != lower|1 {
			t.Errorf("%q: Go hashes %x/%x, DuckDB md5_number_upper/lower %x/%x", s, srcHash(s), etagHash(s, false), upper, lower)
		}
	}
}

func TestCheckpointSetFind(t *testing.T) {
	if (&checkpointSet{}).stored("x") {
		t.Fatal("an empty set holds a file")
	}
	rng := rand.New(rand.NewPCG(7, 9))
	s := &checkpointSet{}
	want := map[uint64]uint64{}
	for i := 0; i < 200000; i++ {
		k := rng.Uint64()
		if i%10 == 0 {
			k = k&0xffff_0000_0000_0000 | uint64(i) // many in one index bucket
		}
		e := rng.Uint64()
		want[k] = e
		s.entries = append(s.entries, checkpoint{src: k, etag: e})
	}
	s.build()
	for k, e := range want {
		if c, ok := s.find(k); !ok || c.etag != e {
			t.Fatalf("%x: found %v %x, want %x", k, ok, c.etag, e)
		}
	}
	for i := 0; i < 100000; i++ {
		k := rng.Uint64()
		if _, stored := want[k]; stored {
			continue
		}
		if _, ok := s.find(k); ok {
			t.Fatalf("%x found but never stored", k)
		}
	}
	for _, k := range []uint64{0, 1<<64 - 1} {
		if _, ok := s.find(k); ok != (want[k] != 0) {
			t.Fatalf("%x: found %v", k, ok)
		}
	}
}

// TestCheckpointsLoadInPages stores more files than one page of the load
// and checks that every one is done after it, changed ones are not, and
// failed ones are not.
func TestCheckpointsLoadInPages(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	n := checkpointPage + 5000
	if _, err := db.ExecContext(ctx, `INSERT INTO ingested_files (source, kind, account_id, region, delivery_day, etag, status, ingested_at)
		SELECT '/t/AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/f' || range || '.json.gz', 'log', '111122223333', 'us-east-1', DATE '2026-03-01',
		       'e' || range, CASE WHEN range % 1000 = 7 THEN 'failed' ELSE 'ok' END, now()
		FROM range(?)`, n); err != nil {
		t.Fatal(err)
	}
	l, err := NewLoader(ctx, db, RunInfo{Command: "pages"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Finish(ctx, RunTotals{Status: "ok"})
	if len(l.stored.entries) != n {
		t.Fatalf("%d checkpoints loaded, want %d", len(l.stored.entries), n)
	}
	ref := func(i int, etag string) ingest.FileRef {
		p := fmt.Sprintf("/t/AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/f%d.json.gz", i)
		return ingest.FileRef{Source: p, Key: ingest.ParseKey(p), ETag: etag}
	}
	for _, i := range []int{0, 1, checkpointPage - 1, checkpointPage, n - 1} {
		if !l.Done(ref(i, fmt.Sprintf("e%d", i))) {
			t.Errorf("file %d: not done", i)
		}
		if l.Done(ref(i, "changed")) {
			t.Errorf("file %d: done with another ETag", i)
		}
	}
	if l.Done(ref(1007, "e1007")) || l.Done(ref(66007, "e66007")) { // i % 1000 == 7: failed, in either page
		t.Error("a failed file is done")
	}
	if l.Done(ref(n, fmt.Sprintf("e%d", n))) {
		t.Error("a file never stored is done")
	}
	// Outside the days loaded, the database is asked: same answers.
	w, err := NewLoader(ctx, db, RunInfo{Command: "window", Since: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC)})
	if err == nil {
		defer w.Finish(ctx, RunTotals{Status: "ok"})
		if len(w.stored.entries) != 0 || !w.Done(ref(5, "e5")) || w.Done(ref(5, "e6")) || w.Done(ref(7, "e7")) {
			t.Errorf("outside the window: %d loaded, done %v %v %v; want 0, true, false, false", len(w.stored.entries), w.Done(ref(5, "e5")), w.Done(ref(5, "e6")), w.Done(ref(7, "e7")))
		}
	} else {
		t.Fatal(err)
	}
}
