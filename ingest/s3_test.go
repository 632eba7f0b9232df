package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rootaudit/rootaudit/ingest"
	"github.com/rootaudit/rootaudit/internal/s3test"
	"github.com/rootaudit/rootaudit/query"
)

const (
	bucket = "trail-bucket"
	orgID  = "o-abcdefghij"
	acctA  = "111111111111"
	acctB  = "222222222222"
	acctC  = "333333333333" // single-account layout
	acctD  = "444444444444" // the busy day (pagination)
)

var testNow = func() time.Time { return time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC) }

// trailTree writes the test trail under dir/trails/: an org trail (two
// accounts, two regions) and a single-account trail (AWSLogs/ACCOUNT/) side
// by side, ten delivery days, with digest and insight siblings. It returns
// the keys of the log files.
func trailTree(t *testing.T, dir string, busy int) []string {
	t.Helper()
	var logs []string
	for _, tr := range []s3test.Trail{
		{Prefix: "trails/", OrgID: orgID, Accounts: []string{acctA, acctB}, Regions: []string{"us-east-1", "eu-west-1"},
			Days: s3test.Days("2026-01-05", 10), FilesPerDay: 2, RecordsPerFile: 6, Seed: 1, Extras: true},
		{Prefix: "trails/", Accounts: []string{acctC}, Regions: []string{"us-east-1"},
			Days: s3test.Days("2026-01-05", 10), FilesPerDay: 2, RecordsPerFile: 6, Seed: 2, Extras: true},
		{Prefix: "trails/", OrgID: orgID, Accounts: []string{acctD}, Regions: []string{"ap-south-1"},
			Days: s3test.Days("2026-01-10", 1), FilesPerDay: busy, RecordsPerFile: 1, Seed: 3},
	} {
		l, _, err := tr.Write(dir)
		if err != nil {
			t.Fatal(err)
		}
		logs = append(logs, l...)
	}
	sort.Strings(logs)
	return logs
}

type env struct {
	srv    *s3test.Server
	proxy  *s3test.Proxy
	dir    string // local copy of the bucket's content
	logs   []string
	client *s3.Client // of the last source made
}

func newEnv(t *testing.T, busy int) *env {
	t.Helper()
	e := &env{srv: s3test.Start(t), dir: t.TempDir()}
	if busy > 1000 {
		e.srv.RequireVersity(t) // paging a delimiter listing
	}
	e.logs = trailTree(t, e.dir, busy)
	e.srv.CreateBucket(t, bucket)
	e.srv.Upload(t, bucket, "", e.dir)
	e.proxy = s3test.NewProxy(t, e.srv.Endpoint)
	return e
}

// noLeaks fails the test if, once idle connections are closed, more
// goroutines run than before the code under test started.
func (e *env) noLeaks(t *testing.T, base int, clients ...*s3.Client) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, c := range clients {
			if hc, ok := c.Options().HTTPClient.(*http.Client); ok {
				if tr, ok := hc.Transport.(*http.Transport); ok {
					tr.CloseIdleConnections()
				}
			}
		}
		e.proxy.CloseIdle()
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines still running, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) source(t *testing.T, prefix string, o ingest.S3Options) *ingest.S3Source {
	t.Helper()
	if o.Now == nil {
		o.Now = testNow
	}
	if o.RetryBase == 0 {
		o.RetryBase = 5 * time.Millisecond
	}
	e.client = e.srv.Client(e.proxy.URL)
	src, err := ingest.NewS3Source(context.Background(), e.client, bucket, prefix, o)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func collect(t *testing.T, src ingest.Source, f *ingest.Filter) []ingest.FileRef {
	t.Helper()
	out := make(chan ingest.FileRef)
	var refs []ingest.FileRef
	done := make(chan struct{})
	go func() {
		for r := range out {
			refs = append(refs, r)
		}
		close(done)
	}()
	err := src.List(context.Background(), f, out)
	close(out)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	return refs
}

func sources(refs []ingest.FileRef) []string {
	var s []string
	for _, r := range refs {
		s = append(s, r.Source)
	}
	sort.Strings(s)
	return s
}

func s3Names(keys []string) []string {
	var s []string
	for _, k := range keys {
		s = append(s, "s3://"+bucket+"/"+k)
	}
	sort.Strings(s)
	return s
}

func sameList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: item %d is %s, want %s", what, i, got[i], want[i])
		}
	}
}

// TestS3ListWholeLayout lists both layouts under a prefix, pages through a
// day prefix of more than 1,000 objects, and checks that only delimiter
// listings were made and digest and insight folders were never listed.
func TestS3ListWholeLayout(t *testing.T) {
	e := newEnv(t, 1100)
	// Noise that is not a log file: a "folder" marker and a stray object.
	e.srv.Put(t, bucket, "trails/AWSLogs/"+orgID+"/"+acctA+"/CloudTrail/us-east-1/2026/01/06/", nil)
	e.srv.Put(t, bucket, "trails/AWSLogs/"+orgID+"/"+acctA+"/CloudTrail/us-east-1/2026/01/06/notes.txt", []byte("x"))

	for _, prefix := range []string{"", "trails", "trails/AWSLogs/"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			e.proxy.Reset()
			src := e.source(t, prefix, ingest.S3Options{ListConcurrency: 8})
			refs := collect(t, src, &ingest.Filter{})
			sameList(t, "listed objects", sources(refs), s3Names(e.logs))

			// Key order within every day prefix; fields filled.
			last := map[string]string{}
			for _, r := range refs {
				day := path.Dir(r.Source)
				if r.Source <= last[day] {
					t.Fatalf("%s sent after %s: not in key order", r.Source, last[day])
				}
				last[day] = r.Source
				if r.Size <= 0 || r.ETag == "" || strings.Contains(r.ETag, `"`) || r.Open == nil || r.ModTime.IsZero() {
					t.Fatalf("incomplete ref %+v", r)
				}
				if !r.Key.InLayout || r.Key.Kind != ingest.KindLog || r.Key.Prefix != "trails" {
					t.Fatalf("%s: key info %+v", r.Source, r.Key)
				}
				if wantOrg := r.Key.AccountID != acctC; (r.Key.OrgID == orgID) != wantOrg {
					t.Fatalf("%s: org %q", r.Source, r.Key.OrgID)
				}
			}
			var paged bool
			for _, rq := range e.proxy.Requests() {
				if rq.Op != "list" {
					t.Fatalf("unexpected request %+v", rq)
				}
				if !strings.Contains(rq.Query, "delimiter=%2F") {
					t.Fatalf("listing without a delimiter: %+v", rq)
				}
				if strings.Contains(rq.Prefix, "CloudTrail-Digest") || strings.Contains(rq.Prefix, "CloudTrail-Insight") {
					t.Fatalf("listed a sibling folder: %s", rq.Prefix)
				}
				if rq.Token && strings.HasSuffix(rq.Prefix, "ap-south-1/2026/01/10/") {
					paged = true
				}
			}
			if !paged {
				t.Fatal("the day prefix with 1,100 objects was not listed in pages")
			}
		})
	}
}

// TestS3Pruning checks that --since/--until, --account and --region prune
// the listing itself, and that digest and insight objects are never
// fetched.
func TestS3Pruning(t *testing.T) {
	e := newEnv(t, 3)
	f := &ingest.Filter{
		Since:    time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC),
		Until:    time.Date(2026, 1, 11, 0, 0, 0, 0, time.UTC),
		Accounts: map[string]bool{acctA: true, acctC: true},
		Regions:  map[string]bool{"us-east-1": true},
	}
	// Delivery days read: the window widened by the one-day margin.
	wantDays := map[string]bool{}
	for _, d := range s3test.Days("2026-01-01", 20) {
		if f.WantDay(d) {
			wantDays[d.Format("2006/01/02/")] = true
		}
	}
	for _, d := range []string{"2026/01/09/", "2026/01/10/", "2026/01/11/"} {
		if !wantDays[d] {
			t.Fatalf("Filter.WantDay drops %s", d)
		}
	}
	for d := range wantDays {
		if d < "2026/01/08/" || d > "2026/01/11/" {
			t.Fatalf("Filter.WantDay keeps %s, beyond a day's margin", d)
		}
	}
	var want []string
	for _, k := range e.logs {
		ki := ingest.ParseKey(k)
		if (ki.AccountID == acctA || ki.AccountID == acctC) && ki.Region == "us-east-1" && wantDays[ki.Day.Format("2006/01/02/")] {
			want = append(want, k)
		}
	}
	if len(want) != 4*len(wantDays) {
		t.Fatalf("test tree: %d files in the window, want %d", len(want), 4*len(wantDays))
	}

	e.proxy.Reset()
	src := e.source(t, "trails/", ingest.S3Options{ListConcurrency: 4})
	dbPath := filepath.Join(t.TempDir(), "a.duckdb")
	st, failed, err := ingestDB(t, context.Background(), dbPath, src, f, nil)
	if err != nil || len(failed) > 0 {
		t.Fatalf("ingest: %v %v", err, failed)
	}
	if got := st.Listed.Load(); got != int64(len(want)) {
		t.Fatalf("listed %d files, want %d", got, len(want))
	}
	var gets []string
	for _, rq := range e.proxy.Requests() {
		switch rq.Op {
		case "list":
			p := rq.Prefix
			for _, pruned := range []string{acctB, acctD, "eu-west-1", "ap-south-1", "CloudTrail-Digest", "CloudTrail-Insight"} {
				if strings.Contains(p, pruned) {
					t.Errorf("listed pruned prefix %s", p)
				}
			}
			// A day-level listing must be inside the window ± 1 day.
			if parts := strings.Split(strings.TrimSuffix(p, "/"), "/"); len(parts) >= 3 {
				n := len(parts)
				if isDigits(parts[n-1], 2) && isDigits(parts[n-2], 2) && isDigits(parts[n-3], 4) {
					if !wantDays[strings.Join(parts[n-3:], "/")+"/"] {
						t.Errorf("listed day prefix outside the window: %s", p)
					}
				}
			}
		case "get":
			gets = append(gets, rq.Key)
		default:
			t.Errorf("unexpected request %+v", rq)
		}
	}
	sort.Strings(gets)
	sameList(t, "objects fetched", gets, want)
	statuses := s3test.FileStatuses(t, dbPath)
	for _, k := range want {
		if statuses["s3://"+bucket+"/"+k] != "ok" {
			t.Fatalf("%s: status %q", k, statuses["s3://"+bucket+"/"+k])
		}
	}

	// A one-day window wants three days of the month: their prefixes are
	// computed, and the month is not listed.
	narrow := &ingest.Filter{Since: time.Date(2026, 1, 14, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 1, 14, 1, 0, 0, 0, time.UTC)}
	var wantNarrow []string
	days := map[string]bool{}
	for _, k := range e.logs {
		if ki := ingest.ParseKey(k); narrow.WantKey(ki) {
			wantNarrow = append(wantNarrow, "s3://"+bucket+"/"+k)
			days[ki.Day.Format("2006/01/02")] = true
		}
	}
	if len(days) > 3 || len(wantNarrow) == 0 {
		t.Fatalf("narrow window: %d days, %d files", len(days), len(wantNarrow))
	}
	e.proxy.Reset()
	src = e.source(t, "trails/", ingest.S3Options{})
	sameList(t, "narrow window", sources(collect(t, src, narrow)), wantNarrow)
	for _, rq := range e.proxy.Requests() {
		if strings.HasSuffix(rq.Prefix, "/2026/01/") {
			t.Errorf("listed the month %s for a one-day window", rq.Prefix)
		}
	}

	// An account prefix given directly starts the walk there.
	e.proxy.Reset()
	src = e.source(t, "trails/AWSLogs/"+orgID+"/"+acctB+"/CloudTrail/eu-west-1/", ingest.S3Options{})
	refs := collect(t, src, &ingest.Filter{Since: f.Since, Until: f.Until})
	for _, r := range refs {
		if r.Key.AccountID != acctB || r.Key.Region != "eu-west-1" || !wantDays[r.Key.Day.Format("2006/01/02/")] {
			t.Fatalf("unexpected %s", r.Source)
		}
	}
	if len(refs) != 2*len(wantDays) {
		t.Fatalf("listed %d files under one region prefix, want %d", len(refs), 2*len(wantDays))
	}
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ingestDB wires a run as cmd/rootaudit does: query.Open, query.NewLoader,
// ingest.Run with the loader as sink.
func ingestDB(t *testing.T, ctx context.Context, dbPath string, src ingest.Source, f *ingest.Filter, mod func(*ingest.RunOptions), onResult ...func(ingest.FileResult)) (*ingest.Stats, []ingest.FileResult, error) {
	t.Helper()
	db, err := query.Open(context.Background(), dbPath, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	loader, err := query.NewLoader(context.Background(), db, query.RunInfo{Version: "test", Command: "test", Sources: src.String()})
	if err != nil {
		t.Fatal(err)
	}
	st := &ingest.Stats{}
	opts := ingest.RunOptions{Filter: f, Workers: 8, Done: loader.Done, Stats: st, Retries: 4, RetryBase: 5 * time.Millisecond}
	if mod != nil {
		mod(&opts)
	}
	var mu sync.Mutex
	var failed []ingest.FileResult
	runErr := ingest.Run(ctx, []ingest.Source{src}, opts, func(res ingest.FileResult) error {
		if res.Status == ingest.StatusFailed {
			mu.Lock()
			failed = append(failed, res)
			mu.Unlock()
		}
		err := loader.Add(ctx, res)
		for _, f := range onResult {
			f(res)
		}
		return err
	})
	status := "ok"
	if runErr != nil {
		status = "interrupted"
	}
	if err := loader.Finish(ctx, query.RunTotals{Listed: st.Listed.Load(), Read: st.Read.Load(), Failed: st.Failed.Load(), Status: status}); err != nil {
		t.Fatal(err)
	}
	return st, failed, runErr
}

func localDigest(t *testing.T, dir string) (int, string) {
	t.Helper()
	dbPath := filepath.Join(t.TempDir(), "local.duckdb")
	_, failed, err := ingestDB(t, context.Background(), dbPath, &ingest.Local{Path: dir}, &ingest.Filter{}, nil)
	if err != nil || len(failed) > 0 {
		t.Fatalf("local ingest: %v %v", err, failed)
	}
	return s3test.EventsDigest(t, dbPath)
}

// TestS3IngestEqualsLocalUnderFaults ingests the bucket through a proxy
// that throttles, resets, truncates, shortens and stalls responses, and
// checks that the events table equals a local ingest of the same tree: no
// file lost, none counted twice, nothing of a cut attempt kept.
func TestS3IngestEqualsLocalUnderFaults(t *testing.T) {
	e := newEnv(t, 3)
	wantRows, wantDigest := localDigest(t, e.dir)
	if wantRows < 50 {
		t.Fatalf("test tree too small: %d events", wantRows)
	}
	pick := func(i int) string { return e.logs[i] }
	faulted := map[string]s3test.Fault{}
	rule := func(i int, f s3test.Fault, after, times int, stall time.Duration) {
		k := pick(i)
		faulted[k] = f
		e.proxy.Add(s3test.Rule{Op: "get", Match: k, Fault: f, AfterBytes: after, Times: times, Stall: stall})
	}
	rule(3, s3test.FaultReset, 100, 1, 0)
	rule(5, s3test.FaultReset, 0, 1, 0) // reset before the first byte of the body
	rule(7, s3test.FaultTruncate, 60, 2, 0)
	rule(9, s3test.FaultShortLength, 40, 1, 0)
	rule(11, s3test.FaultStall, 30, 1, 5*time.Second)                                                                                                                    // stalls mid-body
	rule(13, s3test.FaultStall, -1, 1, 5*time.Second)                                                                                                                    // stalls before the headers
	rule(15, s3test.Fault503, 0, 5, 0)                                                                                                                                   // more 503s than the SDK's 3 attempts
	rule(17, s3test.Fault500, 0, 2, 0)                                                                                                                                   // absorbed by the SDK retryer
	e.proxy.Add(s3test.Rule{Op: "get", Match: "/2026/01/06/", Fault: s3test.Fault503, Times: 2, PerKey: true})                                                           // a burst on one day
	e.proxy.Add(s3test.Rule{Op: "list", Match: acctA + "/CloudTrail/us-east-1/2026/01/08/", Fault: s3test.Fault503, Times: 4})                                           // a listing page throttled past the SDK
	e.proxy.Add(s3test.Rule{Op: "list", Match: acctA + "/CloudTrail/eu-west-1/2026/01/09/", Fault: s3test.FaultStall, AfterBytes: -1, Stall: 5 * time.Second, Times: 1}) // a stalled listing

	base := runtime.NumGoroutine()
	src := e.source(t, "trails/", ingest.S3Options{RequestTimeout: 400 * time.Millisecond})
	dbPath := filepath.Join(t.TempDir(), "s3.duckdb")
	start := time.Now()
	st, failed, err := ingestDB(t, context.Background(), dbPath, src, &ingest.Filter{}, nil)
	if err != nil || len(failed) > 0 {
		for _, f := range failed {
			t.Errorf("failed: %s: %s", f.Ref.Source, f.Reason)
		}
		t.Fatalf("ingest: %v", err)
	}
	t.Logf("S3 ingest under faults: %d files in %s", st.Read.Load(), time.Since(start).Round(time.Millisecond))
	if got := st.Read.Load(); got != int64(len(e.logs)) {
		t.Fatalf("read %d files, want %d", got, len(e.logs))
	}
	rows, digest := s3test.EventsDigest(t, dbPath)
	if rows != wantRows || digest != wantDigest {
		t.Fatalf("S3 ingest: %d events (%s), local: %d events (%s)", rows, digest, wantRows, wantDigest)
	}
	gets := map[string]int{}
	lists := map[string]int{}
	for _, rq := range e.proxy.Requests() {
		switch rq.Op {
		case "get":
			gets[rq.Key]++
		case "list":
			lists[rq.Prefix]++
		}
	}
	for _, p := range []string{"trails/AWSLogs/" + orgID + "/" + acctA + "/CloudTrail/us-east-1/2026/01/08/", "trails/AWSLogs/" + orgID + "/" + acctA + "/CloudTrail/eu-west-1/2026/01/09/"} {
		if lists[p] < 2 {
			t.Errorf("listing %s made %d times, want a retry", p, lists[p])
		}
	}
	for k, f := range faulted {
		if gets[k] < 2 {
			t.Errorf("%s (%s): fetched %d times, want a retry", k, f, gets[k])
		}
	}
	for _, k := range e.logs {
		if gets[k] == 0 {
			t.Errorf("%s never fetched", k)
		}
	}
	statuses := s3test.FileStatuses(t, dbPath)
	for _, k := range e.logs {
		if s := statuses["s3://"+bucket+"/"+k]; s != "ok" {
			t.Errorf("%s: status %q", k, s)
		}
	}
	e.noLeaks(t, base, e.client)
}

// TestS3RetriesExhausted: an object that always breaks fails alone, with a
// message naming it, and nothing of it is stored; a rerun once the fault is
// gone completes the database.
func TestS3RetriesExhausted(t *testing.T) {
	e := newEnv(t, 3)
	bad := e.logs[4]
	e.proxy.Add(s3test.Rule{Op: "get", Match: bad, Fault: s3test.FaultReset, AfterBytes: 50})
	src := e.source(t, "trails/", ingest.S3Options{})
	dbPath := filepath.Join(t.TempDir(), "s3.duckdb")
	st, failed, err := ingestDB(t, context.Background(), dbPath, src, &ingest.Filter{}, func(o *ingest.RunOptions) { o.Retries = 2 })
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 || st.Failed.Load() != 1 {
		t.Fatalf("failed files: %d (%v)", len(failed), failed)
	}
	f := failed[0]
	name := "s3://" + bucket + "/" + bad
	if f.Ref.Source != name || !strings.Contains(f.Reason, name) || !strings.Contains(f.Reason, "gave up after 3 attempts") || !ingest.IsTransient(f.Err) {
		t.Fatalf("failure: %s: %s", f.Ref.Source, f.Reason)
	}
	n := 0
	for _, rq := range e.proxy.Requests() {
		if rq.Op == "get" && rq.Key == bad {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("%s fetched %d times, want 3 (1 + 2 retries)", bad, n)
	}
	statuses := s3test.FileStatuses(t, dbPath)
	if statuses[name] != "failed" || len(statuses) != len(e.logs) {
		t.Fatalf("status of the failed file %q; %d files recorded", statuses[name], len(statuses))
	}
	for k, s := range statuses {
		if k != name && s != "ok" {
			t.Fatalf("%s: %s", k, s)
		}
	}

	e.proxy.Reset()
	st, failed, err = ingestDB(t, context.Background(), dbPath, src, &ingest.Filter{}, nil)
	if err != nil || len(failed) > 0 || st.Read.Load() != 1 {
		t.Fatalf("rerun: err %v, failed %v, read %d (want only the failed file)", err, failed, st.Read.Load())
	}
	wantRows, wantDigest := localDigest(t, e.dir)
	if rows, digest := s3test.EventsDigest(t, dbPath); rows != wantRows || digest != wantDigest {
		t.Fatalf("after rerun: %d events (%s), want %d (%s)", rows, digest, wantRows, wantDigest)
	}
}

// TestS3CancelAndRerun stops a run part-way (as Ctrl-C does) and checks
// that a rerun fetches only what is missing and ends equal to a clean run.
func TestS3CancelAndRerun(t *testing.T) {
	e := newEnv(t, 3)
	base := runtime.NumGoroutine()
	src := e.source(t, "trails/", ingest.S3Options{})
	dbPath := filepath.Join(t.TempDir(), "s3.duckdb")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Slow the bodies down a little so the cancel lands mid-transfer.
	e.proxy.Add(s3test.Rule{Op: "get", Fault: s3test.FaultStall, AfterBytes: 20, Stall: 20 * time.Millisecond})
	n := 0
	st, _, err := ingestDB(t, ctx, dbPath, src, &ingest.Filter{}, func(o *ingest.RunOptions) { o.Workers = 4 },
		func(ingest.FileResult) {
			if n++; n == 30 {
				cancel()
			}
		})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: %v", err)
	}
	read := st.Read.Load()
	if read == 0 || read >= int64(len(e.logs)) {
		t.Fatalf("first run read %d of %d files: the cancel did not land mid-run", read, len(e.logs))
	}
	e.noLeaks(t, base, e.client) // a cancelled run leaves nothing behind
	e.proxy.Reset()
	st, failed, err := ingestDB(t, context.Background(), dbPath, src, &ingest.Filter{}, nil)
	if err != nil || len(failed) > 0 {
		t.Fatalf("rerun: %v %v", err, failed)
	}
	if st.Unchanged.Load() == 0 || st.Read.Load()+st.Unchanged.Load() != int64(len(e.logs)) {
		t.Fatalf("rerun: %d unchanged + %d read, want %d in all with some unchanged", st.Unchanged.Load(), st.Read.Load(), len(e.logs))
	}
	gets := 0
	for _, rq := range e.proxy.Requests() {
		if rq.Op == "get" {
			gets++
		}
	}
	if int64(gets) != st.Read.Load() {
		t.Fatalf("rerun fetched %d objects, read %d", gets, st.Read.Load())
	}
	wantRows, wantDigest := localDigest(t, e.dir)
	if rows, digest := s3test.EventsDigest(t, dbPath); rows != wantRows || digest != wantDigest {
		t.Fatalf("after rerun: %d events (%s), want %d (%s)", rows, digest, wantRows, wantDigest)
	}
	if got := len(s3test.FileStatuses(t, dbPath)); got != len(e.logs) {
		t.Fatalf("%d files recorded, want %d", got, len(e.logs))
	}

	// An object rewritten in place (new ETag) is read again, alone.
	changed := e.logs[7]
	body, err := os.ReadFile(filepath.Join(e.dir, filepath.FromSlash(changed)))
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Put(t, bucket, changed, regzip(t, body)) // same records, other bytes
	e.proxy.Reset()
	st, failed, err = ingestDB(t, context.Background(), dbPath, src, &ingest.Filter{}, nil)
	if err != nil || len(failed) > 0 || st.Read.Load() != 1 {
		t.Fatalf("after rewriting %s: err %v, failed %v, read %d (want 1)", changed, err, failed, st.Read.Load())
	}
	var fetched []string
	for _, rq := range e.proxy.Requests() {
		if rq.Op == "get" {
			fetched = append(fetched, rq.Key)
		}
	}
	sameList(t, "objects fetched after the rewrite", fetched, []string{changed})
}

// regzip compresses the content of a gzip file again, at another level.
func regzip(t *testing.T, gz []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	zw.Write(plain)
	zw.Close()
	return b.Bytes()
}

// TestS3Errors checks the messages for a missing bucket, missing
// permissions (list, get, KMS) and a bucket in another region.
func TestS3Errors(t *testing.T) {
	e := newEnv(t, 1)
	ctx := context.Background()
	client := e.srv.Client(e.proxy.URL)

	_, err := ingest.NewS3Source(ctx, client, "no-such-bucket", "", ingest.S3Options{})
	if !errors.Is(err, ingest.ErrS3NoSuchBucket) || !strings.Contains(err.Error(), "s3://no-such-bucket/") {
		t.Errorf("missing bucket: %v", err)
	}

	e.proxy.Add(s3test.Rule{Op: "list", Match: "trails/", Fault: s3test.FaultDenied, Times: 1})
	_, err = ingest.NewS3Source(ctx, client, bucket, "trails", ingest.S3Options{})
	if !errors.Is(err, ingest.ErrS3AccessDenied) || !strings.Contains(err.Error(), "s3:ListBucket on arn:aws:s3:::"+bucket) {
		t.Errorf("list denied: %v", err)
	}

	denied, kms := e.logs[0], e.logs[1]
	e.proxy.Reset()
	e.proxy.Add(s3test.Rule{Op: "get", Match: denied, Fault: s3test.FaultDenied})
	e.proxy.Add(s3test.Rule{Op: "get", Match: kms, Fault: s3test.FaultDenied,
		Message: "User: arn:aws:sts::111111111111:assumed-role/Audit/x is not authorized to perform: kms:Decrypt on the resource associated with this ciphertext because the resource does not exist in this Region, no resource-based policies allow access, or a resource-based policy explicitly denies access"})
	src := e.source(t, "trails/", ingest.S3Options{})
	_, failed, err := ingestDB(t, ctx, filepath.Join(t.TempDir(), "a.duckdb"), src, &ingest.Filter{}, nil)
	if err != nil || len(failed) != 2 {
		t.Fatalf("ingest: %v, %d failed", err, len(failed))
	}
	for _, f := range failed {
		key := strings.TrimPrefix(f.Ref.Source, "s3://"+bucket+"/")
		switch key {
		case denied:
			if !strings.Contains(f.Reason, "s3:GetObject on arn:aws:s3:::"+bucket+"/"+denied) || f.Attempts != 1 {
				t.Errorf("get denied: %s (attempts %d)", f.Reason, f.Attempts)
			}
		case kms:
			if !strings.Contains(f.Reason, "kms:Decrypt") || !strings.Contains(f.Reason, f.Ref.Source) || f.Attempts != 1 {
				t.Errorf("kms denied: %s (attempts %d)", f.Reason, f.Attempts)
			}
		default:
			t.Errorf("unexpected failure %s: %s", f.Ref.Source, f.Reason)
		}
	}
}

// TestS3WrongRegion: the bucket answers like S3 for a bucket in eu-west-1;
// the error names the region, and a client for that region works.
func TestS3WrongRegion(t *testing.T) {
	srv := s3test.Start(t, s3test.Options{Region: "eu-west-1"})
	dir := t.TempDir()
	if _, _, err := (s3test.Trail{Prefix: "", OrgID: orgID, Accounts: []string{acctA}, Regions: []string{"eu-west-1"}, Days: s3test.Days("2026-01-05", 1), FilesPerDay: 2, RecordsPerFile: 3}).Write(dir); err != nil {
		t.Fatal(err)
	}
	srv.CreateBucket(t, bucket)
	srv.Upload(t, bucket, "", dir)
	p := s3test.NewProxy(t, srv.Endpoint)
	p.BucketRegion = "eu-west-1"
	client := s3test.NewClient(p.URL, "us-east-1")
	_, err := ingest.NewS3Source(context.Background(), client, bucket, "", ingest.S3Options{})
	var wr *ingest.WrongRegionError
	if !errors.As(err, &wr) || wr.Region != "eu-west-1" || !strings.Contains(err.Error(), "--aws-region eu-west-1") {
		t.Fatalf("wrong region: %v", err)
	}
	src, err := ingest.NewS3Source(context.Background(), ingest.S3ClientWithRegion(client, wr.Region), bucket, "", ingest.S3Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if refs := collect(t, src, &ingest.Filter{}); len(refs) != 2 {
		t.Fatalf("listed %d objects, want 2", len(refs))
	}
}

// TestS3OpenStreams reads one object through Open and checks the bytes and
// that a stalled body fails as transient within the request timeout.
func TestS3OpenStreams(t *testing.T) {
	e := newEnv(t, 1)
	var key string
	for _, k := range e.logs {
		if strings.Contains(k, acctA+"/CloudTrail/us-east-1/2026/01/05/") {
			key = k
			break
		}
	}
	e.proxy.Add(s3test.Rule{Op: "get", Match: key, Fault: s3test.FaultStall, AfterBytes: 10, Stall: 10 * time.Second, Times: 1})
	src := e.source(t, "trails/AWSLogs/"+orgID+"/"+acctA+"/CloudTrail/us-east-1/2026/01/05/", ingest.S3Options{RequestTimeout: 300 * time.Millisecond})
	var ref ingest.FileRef
	for _, r := range collect(t, src, &ingest.Filter{}) {
		if r.Source == "s3://"+bucket+"/"+key {
			ref = r
		}
	}
	if ref.Open == nil {
		t.Fatalf("%s not listed", key)
	}
	start := time.Now()
	rc, err := ref.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(io.Discard, rc)
	rc.Close()
	if !ingest.IsTransient(err) || !errors.Is(err, ingest.ErrS3Stalled) || time.Since(start) > 3*time.Second {
		t.Fatalf("stalled body: %v after %s", err, time.Since(start))
	}
	rc, err = ref.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, rc)
	rc.Close()
	if err != nil || n != ref.Size {
		t.Fatalf("read %d of %d bytes: %v", n, ref.Size, err)
	}
	// A single object named by the URL is read whatever its key.
	single := e.source(t, key, ingest.S3Options{})
	refs := collect(t, single, nil)
	if len(refs) != 1 || !refs[0].Explicit || refs[0].ETag != ref.ETag {
		t.Fatalf("single object: %+v", refs)
	}
}
