package query

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/rootaudit/rootaudit/fixtures"
	"github.com/rootaudit/rootaudit/ingest"
)

// TestIntegrityNightlyMatchesBulk ingests one signed, tampered org trail
// twice with validation: in one run, and night by night (a run per
// delivery day, each followed by its incremental pass, as a nightly job
// does). The nightly database stores its rows day by day, so its passes
// cut slices by day and look previous digests up across slices; the bulk
// one is cut by account. Both must end with the same status
// for every log file and digest and the same unread listings, and a full
// pass over the nightly database must change nothing.
func TestIntegrityNightlyMatchesBulk(t *testing.T) {
	setSlices(t, 60, 6)
	smallStorage(t)
	ctx := context.Background()

	dir := t.TempDir()
	if _, err := fixtures.Generate(ctx, dir, fixtures.Config{Seed: 11, TargetBytes: 400 << 10}); err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyJSON, err := fixtures.SignDigests(dir, key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(keyFile, keyJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	keys, err := ingest.ReadPublicKeys(keyFile)
	if err != nil {
		t.Fatal(err)
	}

	// Tamper: a digest deleted mid-chain (a gap for the next one) and a
	// log file rewritten (a hash mismatch).
	var logs, digests []string
	days := map[time.Time]bool{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json.gz") {
			return err
		}
		if k := ingest.ParseKey(p); !k.Day.IsZero() {
			days[k.Day] = true
		}
		if strings.Contains(p, "/CloudTrail-Digest/") {
			digests = append(digests, p)
		} else if strings.Contains(p, "/CloudTrail/") {
			logs = append(logs, p)
		}
		return nil
	})
	sort.Strings(logs)
	sort.Strings(digests)
	if len(days) < 5 || len(digests) < 10 || len(logs) < 10 {
		t.Fatalf("the generated trail is too small: %d days, %d digests, %d logs", len(days), len(digests), len(logs))
	}
	gone := digests[len(digests)/2]
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	tampered := ""
	for _, p := range logs[len(logs)/3:] {
		if ingest.ParseKey(p).AccountID != ingest.ParseKey(gone).AccountID {
			tampered = p // not one the deleted digest listed
			break
		}
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"Records":[{"eventID":"tampered"}]}`))
	zw.Close()
	if err := os.WriteFile(tampered, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	ingestWindow := func(db *DB, f *ingest.Filter) {
		t.Helper()
		info := RunInfo{Command: "test", Validate: true}
		if f != nil {
			info.Since, info.Until = f.Since, f.Until
		}
		l, err := NewLoader(ctx, db, info)
		if err != nil {
			t.Fatal(err)
		}
		err = ingest.Run(ctx, []ingest.Source{&ingest.Local{Path: dir}}, ingest.RunOptions{
			Options: ingest.Options{Hash: true, Digests: true, Keys: keys},
			Filter:  f, Workers: 2, Done: l.Done,
		}, func(res ingest.FileResult) error { return l.Add(ctx, res) })
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Finish(ctx, RunTotals{Status: "ok"}); err != nil {
			t.Fatal(err)
		}
		if err := db.UpdateIntegrity(ctx, l.RunID()); err != nil {
			t.Fatal(err)
		}
	}
	open := func(name string) *DB {
		t.Helper()
		db, err := Open(ctx, filepath.Join(t.TempDir(), name), false)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	snapshot := func(db *DB) map[string]string {
		t.Helper()
		m := queryPairs(t, db, `SELECT 'log ' || source, coalesce(integrity, '') FROM ingested_files WHERE kind = 'log'
			UNION ALL SELECT 'digest ' || source, coalesce(chain_status, '') || ' ' || coalesce(signature_status, '') FROM digest_files
			UNION ALL SELECT 'unread ' || s3_object, '' FROM integrity_unread`)
		if len(m) == 0 {
			t.Fatal("nothing stored")
		}
		return m
	}
	// The bulk run is cut by account: at this size (about 140 log files) its
	// rows have no clear order.
	integrityStrips = 1
	t.Cleanup(func() { integrityStrips = 0 })
	bulk := open("bulk.duckdb")
	ingestWindow(bulk, nil)
	integrityStrips = 0
	want := snapshot(bulk)
	counts := map[string]int{}
	for k, v := range want {
		counts[strings.Fields(k)[0]+" "+v]++
	}
	if counts["log hash-mismatch"] != 1 || counts["digest gap valid"] != 1 || counts["log valid"] == 0 {
		t.Fatalf("the bulk run does not find the tampering: %v", counts)
	}
	nightly := open("nightly.duckdb")
	var order []time.Time
	for d := range days {
		order = append(order, d)
	}
	sort.Slice(order, func(i, j int) bool { return order[i].Before(order[j]) })
	for _, d := range order {
		ingestWindow(nightly, &ingest.Filter{Since: d, Until: d.Add(24 * time.Hour)})
	}
	if n := stripsOf(t, nightly); n < 4 {
		t.Errorf("nightly runs' rows cut into %d strips of days only", n)
	}
	compare := func(what string, got map[string]string) {
		t.Helper()
		bad := 0
		for k, v := range want {
			if got[k] != v {
				if bad++; bad <= 5 {
					t.Errorf("%s: %s: %q, bulk %q", what, k, got[k], v)
				}
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d rows, bulk %d", what, len(got), len(want))
		}
	}
	compare("nightly", snapshot(nightly))
	if err := nightly.UpdateIntegrity(ctx, 0); err != nil {
		t.Fatal(err)
	}
	compare("nightly, then a full pass", snapshot(nightly))
	var slices int
	if err := nightly.QueryRowContext(ctx, `SELECT slices FROM integrity_passes ORDER BY pass_id DESC LIMIT 1`).Scan(&slices); err != nil {
		t.Fatal(err)
	}
	if slices < 8 {
		t.Errorf("the full pass was cut into %d slices: the test does not exercise slicing", slices)
	}
}
