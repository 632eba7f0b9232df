package query

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/rootaudit/rootaudit/ingest"
)

// synthTrail describes a generated set of stored log files, digests and
// listings with known integrity outcomes: per (account, region, day) one
// digest listing filesPerDay files, with hash mismatches, unlisted files,
// unread listings, unreadable files, a day without digest, a digest with a
// bad signature, and chain gaps planted at fixed places.
type synthTrail struct {
	accounts, regions, days, filesPerDay int
	odd                                  int // files outside CloudTrail's layout, listed by a digest
}

type synthTruth struct {
	status map[string]string // source -> integrity
	unread map[string]bool   // s3 object -> listed, never read
	chain  map[string]string // digest source -> chain status
}

const synthOrg = "o-synthetic01"

func synthDigestKey(acct, region string, day time.Time) string {
	return fmt.Sprintf("AWSLogs/%s/%s/CloudTrail-Digest/%s/%s/%s_CloudTrail-Digest_%s_org-trail_us-east-1_%sT235959Z.json.gz",
		synthOrg, acct, region, day.Format("2006/01/02"), acct, region, day.Format("20060102"))
}

// write appends the trail's rows to db and returns what the integrity pass
// must find.
func (s synthTrail) write(t testing.TB, db *DB) synthTruth {
	t.Helper()
	ctx := context.Background()
	truth := synthTruth{status: map[string]string{}, unread: map[string]bool{}, chain: map[string]string{}}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var files, digests, listings *duckdb.Appender
	err = conn.Raw(func(dc any) error {
		var err error
		if files, err = duckdb.NewAppender(dc.(driver.Conn), "", "main", "ingested_files"); err != nil {
			return err
		}
		if digests, err = duckdb.NewAppender(dc.(driver.Conn), "", "main", "digest_files"); err != nil {
			return err
		}
		listings, err = duckdb.NewAppender(dc.(driver.Conn), "", "main", "digest_log_files")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	regions := []string{"us-east-1", "eu-west-1", "ap-south-1"}[:s.regions]
	hash := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	i := 0
	for a := 0; a < s.accounts; a++ {
		acct := fmt.Sprintf("%012d", 100000000000+a*7919)
		for r, region := range regions {
			prevKey, prevHash := "", ""
			for d := 0; d < s.days; d++ {
				day := start.AddDate(0, 0, d)
				digestless := a == 1 && d == s.days-1
				badSig := a == 0 && r == 0 && d == 2
				dkey := synthDigestKey(acct, region, day)
				dsrc := "/data/trail/" + dkey
				if !digestless {
					sig, chain := "valid", "ok"
					if badSig {
						sig = "invalid"
					}
					prev, ph := prevKey, prevHash
					switch {
					case prev == "":
						chain = "first"
					case a == 2 && r == 1 && d == 3:
						prev, chain = prev+".gone", "gap"
					case a == 2 && r == 0 && d == 4:
						ph, chain = "0000", "hash-mismatch"
					}
					truth.chain[dsrc] = chain
					must(digests.AppendRow(dsrc, acct, region, day, day.Add(24*time.Hour-time.Second), "trail-bucket", dkey,
						hash(dkey), nullStr(prev), nullStr(ph), "fp", "ab", sig, nil, int64(s.filesPerDay), now))
					must(files.AppendRow(dsrc, "digest", synthOrg, acct, region, day, int64(100), "etag", int64(500), hash(dkey),
						int64(0), int64(0), int64(0), "ok", nil, int64(1), now, "not-validated"))
					prevKey, prevHash = dkey, hash(dkey)
				}
				for j := 0; j < s.filesPerDay; j++ {
					i++
					// Delivered from 01:00 on: the previous day's digest
					// (which covers up to an hour past its end) does not
					// cover them.
					at := day.Add(time.Hour + time.Duration(j)*time.Minute)
					key := fmt.Sprintf("AWSLogs/%s/%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%sZ_%08d.json.gz",
						synthOrg, acct, region, day.Format("2006/01/02"), acct, region, at.Format("20060102T1504"), i)
					src := "/data/trail/" + key
					sha := hash(key)
					listed, unread, status, read := true, false, "valid", "ok"
					var fileSHA any = sha
					switch {
					case digestless:
						listed, status = false, "digest-missing"
					case i%101 == 0:
						listed, status = false, "not-in-digest"
					case i%103 == 0:
						unread = true
					case i%97 == 0:
						status = "hash-mismatch"
					case i%89 == 0:
						read, status, fileSHA = "failed", "not-validated", nil
					case i%83 == 0:
						status, fileSHA = "not-validated", nil
					case badSig:
						status = "signature-invalid"
					}
					if listed {
						lh := sha
						if status == "hash-mismatch" {
							lh = hash("tampered " + key)
						}
						must(listings.AppendRow(dsrc, "trail-bucket", key, lh, at.Add(-5*time.Minute), at, acct, region, day))
					}
					if unread {
						truth.unread[key] = true
						continue
					}
					truth.status[src] = status
					must(files.AppendRow(src, "log", synthOrg, acct, region, day, int64(1000), "etag", int64(5000), fileSHA,
						int64(10), int64(0), int64(0), read, nil, int64(1), now, "not-validated"))
				}
			}
		}
	}
	// Files whose keys are outside CloudTrail's layout (an organization ID
	// ParseKey does not accept) and so have no account, region or day, on
	// both sides: listed by the first digest, matched in the slices of
	// unknowns.
	firstDigest := "/data/trail/" + synthDigestKey(fmt.Sprintf("%012d", 100000000000), regions[0], start)
	for j := 0; j < s.odd; j++ {
		key := fmt.Sprintf("AWSLogs/o-odd/%012d/CloudTrail/%s/2026/01/01/odd_%04d.json.gz", 100000000000, regions[0], j)
		src := "/data/trail/" + key
		must(listings.AppendRow(firstDigest, "trail-bucket", key, hash(key), start, start, nil, nil, nil))
		if j%5 == 4 {
			truth.unread[key] = true
			continue
		}
		truth.status[src] = "valid"
		must(files.AppendRow(src, "log", nil, nil, nil, nil, int64(1000), "etag", int64(5000), hash(key),
			int64(10), int64(0), int64(0), "ok", nil, int64(1), now, "not-validated"))
	}
	// A file outside CloudTrail's layout: no account, region or day.
	loose := "/data/loose/notes.json"
	truth.status[loose] = "digest-missing"
	must(files.AppendRow(loose, "log", nil, nil, nil, nil, int64(10), "etag", int64(10), hash(loose),
		int64(1), int64(0), int64(0), "ok", nil, int64(1), now, "not-validated"))
	for _, a := range []*duckdb.Appender{files, digests, listings} {
		must(a.Close())
	}
	// The trail was read whole by a validating run, so a predecessor
	// missing from it is a gap (integrity_chain.sql).
	if _, err := db.Exec(`INSERT INTO runs (run_id, started_at, command, status, validated) VALUES (0, TIMESTAMP '2026-11-01 00:00:00', 'synthetic --validate', 'ok', true)`); err != nil {
		t.Fatal(err)
	}
	return truth
}

// check compares what the pass stored with the truth.
func (truth synthTruth) check(t *testing.T, db *DB) {
	t.Helper()
	got := queryPairs(t, db, `SELECT source, integrity FROM ingested_files WHERE kind = 'log'`)
	bad := 0
	for src, want := range truth.status {
		if got[src] != want {
			if bad++; bad <= 5 {
				t.Errorf("%s: integrity %q, want %q", src, got[src], want)
			}
		}
	}
	if len(got) != len(truth.status) {
		t.Errorf("%d files stored, want %d", len(got), len(truth.status))
	}
	unread := queryPairs(t, db, `SELECT s3_object, '' FROM integrity_unread`)
	if len(unread) != len(truth.unread) {
		t.Errorf("%d unread files found, want %d", len(unread), len(truth.unread))
	}
	for k := range truth.unread {
		if _, ok := unread[k]; !ok {
			t.Errorf("unread %s not found", k)
			break
		}
	}
	chain := queryPairs(t, db, `SELECT source, coalesce(chain_status, '') FROM digest_files`)
	for src, want := range truth.chain {
		if chain[src] != want {
			t.Errorf("digest %s: chain %q, want %q", src, chain[src], want)
			break
		}
	}
}

// queryPairs reads a two-column query into a map from the first column to
// the second.
func queryPairs(t *testing.T, db *DB, q string) map[string]string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		m[k] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// count returns how many stored files have each integrity status.
func (truth synthTruth) count() map[string]int {
	n := map[string]int{}
	for _, st := range truth.status {
		n[st]++
	}
	return n
}

func setSlices(t *testing.T, logs, chain int64) {
	t.Helper()
	l, c := integritySliceRows, integrityChainRows
	integritySliceRows, integrityChainRows = logs, chain
	t.Cleanup(func() { integritySliceRows, integrityChainRows = l, c })
}

// TestIntegritySlices runs the pass on one small trail cut three ways: in
// one piece, in slices of whole (account, region) pairs, and in slices of
// a few days (pairs split by delivery day); each must find exactly the
// planted outcomes, and a second pass over the same data must change
// nothing.
func TestIntegritySlices(t *testing.T) {
	for _, c := range []struct {
		name        string
		logs, chain int64
	}{
		{"one slice", 1 << 40, 1 << 40},
		{"pairs", 90, 7},
		{"days", 13, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			setSlices(t, c.logs, c.chain)
			ctx := context.Background()
			db, err := Open(ctx, filepath.Join(t.TempDir(), "i.duckdb"), false)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			truth := synthTrail{accounts: 3, regions: 2, days: 6, filesPerDay: 7, odd: 30}.write(t, db)
			n := truth.count()
			for _, st := range []string{"valid", "hash-mismatch", "not-in-digest", "digest-missing", "signature-invalid", "not-validated"} {
				if n[st] == 0 {
					t.Fatalf("the synthetic trail plants no %s file: %v", st, n)
				}
			}
			if len(truth.unread) == 0 {
				t.Fatal("the synthetic trail plants no unread file")
			}
			for pass := 1; pass <= 2; pass++ {
				if err := db.UpdateIntegrity(ctx, 0); err != nil {
					t.Fatalf("pass %d: %v", pass, err)
				}
				truth.check(t, db)
			}
			var slices, unfinished int64
			if err := db.QueryRowContext(ctx, `SELECT max(slices), count(*) FILTER (WHERE finished_at IS NULL) FROM integrity_passes`).Scan(&slices, &unfinished); err != nil {
				t.Fatal(err)
			}
			if unfinished != 0 {
				t.Errorf("%d passes not marked finished", unfinished)
			}
			if c.logs < 1<<40 && slices < 4 {
				t.Errorf("cut into %d slices only: the test does not exercise slicing", slices)
			}

			in, err := db.Integrity(ctx)
			if err != nil {
				t.Fatal(err)
			}
			missing := 0
			for _, f := range in.Failures {
				if f.Status == "missing" {
					missing++
				}
			}
			if missing != len(truth.unread) {
				t.Errorf("integrity report lists %d missing files, want %d", missing, len(truth.unread))
			}
		})
	}
}

// db writes the trail into a new database, its rows stored day by day
// with byDay (storeByDay), and returns it with what the pass must find.
func (s synthTrail) db(t *testing.T, byDay bool) (*DB, synthTruth) {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "i.duckdb"), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	truth := s.write(t, db)
	if byDay {
		storeByDay(t, db)
	}
	return db, truth
}

// storeByDay rewrites the trail's tables in day order, as a year of
// nightly ingests stores them (one ingest of a year stores them account by
// account, as synthTrail.write does).
func storeByDay(t *testing.T, db *DB) {
	t.Helper()
	for _, tb := range []struct{ name, order string }{
		{"ingested_files", "delivery_day NULLS LAST, account_id, region, source"},
		{"digest_log_files", "delivery_day NULLS LAST, account_id, region, s3_object"},
		{"digest_files", "digest_end, account_id, region"},
	} {
		for _, q := range []string{
			`CREATE TEMP TABLE reorder AS SELECT * FROM ` + tb.name + ` ORDER BY ` + tb.order,
			`DELETE FROM ` + tb.name,
			`INSERT INTO ` + tb.name + ` SELECT * FROM reorder`,
			`DROP TABLE reorder`,
		} {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
}

// smallStorage makes the pass look at how a small synthetic trail's rows
// are stored: blocks of about one (account, region) or one day of it, and
// strips from two slices on.
func smallStorage(t *testing.T) {
	b, m := integrityBlockRows, minStripSlices
	integrityBlockRows, minStripSlices = 48, 2
	t.Cleanup(func() { integrityBlockRows, minStripSlices = b, m })
}

// stripsOf returns how many strips of days the pass would cut db's log
// files and listings into.
func stripsOf(t *testing.T, db *DB) int {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := setSliceVars(ctx, conn, integrityRange{all: true}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{integrityMacrosSQL, `SET VARIABLE units_only = false`, `SET VARIABLE since_run = -1`, integrityUnitsSQL} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	days, _, err := countDays(ctx, conn, "log files", integrityDayCountsSQL)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, d := range days {
		total += d.n
	}
	layout, err := readStorage(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if layout.days != len(days) {
		t.Fatalf("integrity_order.sql counts %d days, integrity_day_counts.sql %d", layout.days, len(days))
	}
	return stripCount(layout.blocks, (total+integritySliceRows-1)/integritySliceRows, layout.days)
}

// TestIntegritySlicesStoredByDay: the pass cuts its slices across the
// accounts after one large ingest, and in strips of days after nightly
// ones (rows stored day by day), and either way finds exactly the planted
// outcomes, also when a digest's previous digest is in another strip.
func TestIntegritySlicesStoredByDay(t *testing.T) {
	for _, c := range []struct {
		name        string
		byDay       bool
		logs, chain int64
	}{
		{"accounts", false, 13, 1},
		{"days", true, 90, 7},
		{"days split", true, 13, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			setSlices(t, c.logs, c.chain)
			// About one (account, region) of the synthetic trail, or one
			// of its days, per block.
			smallStorage(t)
			ctx := context.Background()
			db, truth := synthTrail{accounts: 3, regions: 2, days: 6, filesPerDay: 7, odd: 30}.db(t, c.byDay)
			if n := stripsOf(t, db); (n > 1) != c.byDay {
				t.Fatalf("%d strips of days chosen: rows stored by day %v", n, c.byDay)
			}
			for pass := 1; pass <= 2; pass++ {
				if err := db.UpdateIntegrity(ctx, 0); err != nil {
					t.Fatalf("pass %d: %v", pass, err)
				}
				truth.check(t, db)
			}
			var slices int64
			if err := db.QueryRowContext(ctx, `SELECT max(slices) FROM integrity_passes`).Scan(&slices); err != nil {
				t.Fatal(err)
			}
			if slices < 8 {
				t.Errorf("cut into %d slices only: the test does not exercise slicing", slices)
			}
		})
	}
}

// TestIntegrityIncompletePass: a pass that started and never finished is a
// failure of its own in the report, whatever the files say.
func TestIntegrityIncompletePass(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "i.duckdb"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	synthTrail{accounts: 1, regions: 1, days: 2, filesPerDay: 3}.write(t, db)
	if err := db.UpdateIntegrity(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO integrity_passes VALUES (99, TIMESTAMP '2026-11-02 10:00:00', NULL, NULL, NULL)`); err != nil {
		t.Fatal(err)
	}
	in, err := db.Integrity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range in.Failures {
		if f.Kind == "pass" && f.Status == "incomplete" {
			found = true
		}
	}
	if !found {
		t.Fatalf("an unfinished pass is not reported: %+v", in.Failures)
	}
	if err := db.UpdateIntegrity(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if in, err = db.Integrity(ctx); err != nil {
		t.Fatal(err)
	}
	for _, f := range in.Failures {
		if f.Kind == "pass" {
			t.Fatalf("a finished pass still reported: %+v", f)
		}
	}
}

// TestIntegrityPassBoundedMemory runs the pass, with the memory limit and
// slice sizes it ships with, over more log files and listings than one
// statement can match in that memory (matched in one piece, the same pass
// fails with "Out of Memory" here: setSlices(t, 1<<40, 1<<40) shows it).
func TestIntegrityPassBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 700,000 rows")
	}
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "big.duckdb"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	truth := synthTrail{accounts: 12, regions: 3, days: 40, filesPerDay: 250}.write(t, db)
	if len(truth.status) < 300_000 {
		t.Fatalf("only %d files: not enough to need slicing", len(truth.status))
	}
	if err := db.UpdateIntegrity(ctx, 0); err != nil {
		t.Fatal(err)
	}
	truth.check(t, db)
}

// TestMigrateV6ParsesListings: rows stored by schema v5 get the account,
// region and day of the file they list from migration 006's SQL, which
// must agree with ingest.ParseKey (what the loader stores for new rows),
// or a file and its listing would land in different slices; and the files
// listed but never read are found again.
func TestMigrateV6ParsesListings(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v5.duckdb")
	db, err := open(ctx, path, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations() {
		if m.version > 5 {
			break
		}
		if _, err := db.Exec(m.sql); err != nil {
			t.Fatal(m.name, err)
		}
		if _, err := db.Exec(`INSERT INTO schema_migrations VALUES (?, ?, now())`, m.version, m.name); err != nil {
			t.Fatal(err)
		}
	}
	keys := []string{
		"AWSLogs/o-abcdefghij/111122223333/CloudTrail/us-east-1/2026/03/04/111122223333_CloudTrail_us-east-1_20260304T0105Z_a.json.gz",
		"prefix/AWSLogs/222233334444/CloudTrail/eu-west-1/2025/12/31/x.json.gz",
		"a/AWSLogs/b/AWSLogs/333344445555/CloudTrail/ap-south-1/2026/01/02/y.json.gz",
		"AWSLogs/o-abcdefghij/111122223333/CloudTrail/us-east-1/2026/02/30/bad-date.json.gz",
		"AWSLogs/o-abcdefghij/11112222333/CloudTrail/us-east-1/2026/03/04/short-account.json.gz",
		"AWSLogs/o-abcdefghij/111122223333/CloudTrail/useast1/2026/03/04/region-without-dash.json.gz",
		"AWSLogs/o-abcdefghij/111122223333/CloudTrail-Insight/us-east-1/2026/03/04/insight.json.gz",
		"AWSLogs/o-abcdefghij/111122223333/CloudTrail/us-east-1/2026/03/04/extra/deep.json.gz",
		"AWSLogs/o-ABCDEFGHIJ/111122223333/CloudTrail/us-east-1/2026/03/04/upper-org.json.gz",
		"111122223333_CloudTrail_us-east-1_20260304T0105Z_loose.json.gz",
	}
	for _, k := range keys {
		if _, err := db.Exec(`INSERT INTO digest_log_files VALUES ('d', 'b', ?, 'h', NULL, NULL)`, k); err != nil {
			t.Fatal(err)
		}
	}
	// The first key was read; every other one is missing.
	if _, err := db.Exec(`INSERT INTO ingested_files (source, kind, status, ingested_at) VALUES (?, 'log', 'ok', now())`, "/copy/"+keys[0]); err != nil {
		t.Fatal(err)
	}
	db.Close()

	if db, err = Open(ctx, path, false); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, k := range keys {
		var a, r sql.NullString
		var d sql.NullTime
		if err := db.QueryRowContext(ctx, `SELECT account_id, region, delivery_day FROM digest_log_files WHERE s3_object = ?`, k).Scan(&a, &r, &d); err != nil {
			t.Fatal(err)
		}
		var wa, wr string
		var wd time.Time
		if ki := ingest.ParseKey(k); ki.Kind == ingest.KindLog && ki.InLayout {
			wa, wr, wd = ki.AccountID, ki.Region, ki.Day
		}
		if a.String != wa || r.String != wr || !d.Time.Equal(wd) || a.Valid != (wa != "") {
			t.Errorf("%s: migrated to (%q, %q, %v), ParseKey says (%q, %q, %v)", k, a.String, r.String, d.Time, wa, wr, wd)
		}
	}
	var unread int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM integrity_unread`).Scan(&unread); err != nil {
		t.Fatal(err)
	}
	if unread != len(keys)-1 {
		t.Errorf("%d unread listings after migration, want %d", unread, len(keys)-1)
	}
}

// TestSliceCutter: consecutive slices share their bounds (each starts
// where the last ended), a value larger than the limit is a slice of its
// own, the last slice is open above, and the unknowns come in buckets of
// at most the limit.
func TestSliceCutter(t *testing.T) {
	c := newSliceCutter(10)
	c.nulls = 25
	for i, n := range []int64{4, 5, 3, 30, 2, 9} {
		c.add(sliceBound{account: fmt.Sprintf("%012d", i), region: "r", day: endOfPair}, n)
	}
	got := c.done()
	var ranges, nulls []integrityRange
	for _, s := range got {
		if s.null {
			nulls = append(nulls, s)
		} else {
			ranges = append(ranges, s)
		}
	}
	// {4,5} {3} {30} {2} {9, open}: the 3 would overflow 9 rows, the 30 is
	// alone, and 2 + 9 is over the limit.
	wantRows := []int64{9, 3, 30, 2, 9}
	if len(ranges) != len(wantRows) {
		t.Fatalf("%d ranges, want %d: %+v", len(ranges), len(wantRows), ranges)
	}
	for i, s := range ranges {
		if i > 0 && s.lo != ranges[i-1].hi {
			t.Errorf("slice %d starts at %v, the one before ends at %v", i, s.lo, ranges[i-1].hi)
		}
		if s.loOpen != (i == 0) || s.hiOpen != (i == len(ranges)-1) {
			t.Errorf("slice %d: open below %v, above %v", i, s.loOpen, s.hiOpen)
		}
		if s.rows != wantRows[i] {
			t.Errorf("slice %d holds %d rows, want %d", i, s.rows, wantRows[i])
		}
	}
	if len(nulls) != 3 {
		t.Fatalf("%d buckets of unknowns for 25 rows at 10 a slice, want 3", len(nulls))
	}
	for i, s := range nulls {
		if s.bucket != int64(i) || s.buckets != 3 {
			t.Errorf("bucket %d: %d of %d", i, s.bucket, s.buckets)
		}
	}
	if one := newSliceCutter(100); true {
		one.add(sliceBound{account: "a", region: "r", day: endOfPair}, 40)
		one.nulls = 10
		if got := one.done(); len(got) != 1 || !got[0].all {
			t.Errorf("50 rows at 100 a slice: %+v, want one slice of everything", got)
		}
	}
}

// TestIntegrityIncremental: after a finished pass, the next one redoes only
// the units later runs touched, and ends where a full pass would. Run 2
// changes a log file, reads a file that was missing, and brings the
// digests of a day that had none.
func TestIntegrityIncremental(t *testing.T) {
	for _, c := range []struct {
		name  string
		rows  int64
		byDay bool // stored by day, so cut by day (TestIntegritySlicesStoredByDay)
	}{{"one slice", 1 << 40, false}, {"days", 13, false}, {"stored by day", 13, true}} {
		t.Run(c.name, func(t *testing.T) {
			setSlices(t, c.rows, c.rows)
			smallStorage(t)
			ctx := context.Background()
			db, truth := synthTrail{accounts: 3, regions: 2, days: 6, filesPerDay: 7, odd: 10}.db(t, c.byDay)
			if _, err := db.ExecContext(ctx, `INSERT INTO runs (run_id, started_at, status) VALUES (1, now(), 'ok'), (2, now(), 'ok')`); err != nil {
				t.Fatal(err)
			}
			if err := db.UpdateIntegrity(ctx, 1); err != nil {
				t.Fatal(err)
			}
			truth.check(t, db)

			// Run 2.
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := db.ExecContext(ctx, q, args...); err != nil {
					t.Fatal(err)
				}
			}
			sha := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
			var changed, missingDay []string
			for src, st := range truth.status {
				switch {
				case st == "valid" && strings.Contains(src, "/2026/01/02/") && len(changed) == 0:
					changed = append(changed, src)
				case st == "digest-missing" && strings.HasPrefix(src, "/data/trail/"):
					missingDay = append(missingDay, src)
				}
			}
			if len(changed) == 0 || len(missingDay) == 0 {
				t.Fatalf("trail has no file to change (%d) or no digest-less day (%d)", len(changed), len(missingDay))
			}
			exec(`UPDATE ingested_files SET sha256 = 'changed', run_id = 2 WHERE source = ?`, changed[0])
			truth.status[changed[0]] = "hash-mismatch"
			var read string
			for k := range truth.unread {
				read = k
				break
			}
			exec(`INSERT INTO ingested_files (source, kind, account_id, region, delivery_day, sha256, status, run_id, ingested_at)
				SELECT ?, 'log', account_id, region, delivery_day, ?, 'ok', 2, now() FROM digest_log_files WHERE s3_object = ? LIMIT 1`,
				"/data/trail/"+read, sha(read), read)
			delete(truth.unread, read)
			truth.status["/data/trail/"+read] = "valid"
			// The digest-less day's digests, one per region, listing its files.
			for _, src := range missingDay {
				key := strings.TrimPrefix(src, "/data/trail/")
				var acct, region string
				var day time.Time
				if err := db.QueryRowContext(ctx, `SELECT account_id, region, delivery_day FROM ingested_files WHERE source = ?`, src).Scan(&acct, &region, &day); err != nil {
					t.Fatal(err)
				}
				dkey := synthDigestKey(acct, region, day)
				dsrc := "/data/trail/" + dkey
				var have int
				db.QueryRowContext(ctx, `SELECT count(*) FROM digest_files WHERE source = ?`, dsrc).Scan(&have)
				if have == 0 {
					prev := synthDigestKey(acct, region, day.AddDate(0, 0, -1))
					exec(`INSERT INTO digest_files (source, account_id, region, digest_start, digest_end, digest_s3_object, sha256,
						previous_digest_object, previous_digest_hash, signature_status, checked_at)
						VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'valid', now())`,
						dsrc, acct, region, day, day.Add(24*time.Hour-time.Second), dkey, sha(dkey), prev, sha(prev))
					exec(`INSERT INTO ingested_files (source, kind, account_id, region, delivery_day, sha256, status, run_id, ingested_at)
						VALUES (?, 'digest', ?, ?, ?, ?, 'ok', 2, now())`, dsrc, acct, region, day, sha(dkey))
					truth.chain[dsrc] = "ok"
				}
				exec(`INSERT INTO digest_log_files VALUES (?, 'trail-bucket', ?, ?, NULL, NULL, ?, ?, ?)`, dsrc, key, sha(key), acct, region, day)
				truth.status[src] = "valid"
			}
			if err := db.UpdateIntegrity(ctx, 2); err != nil {
				t.Fatal(err)
			}
			truth.check(t, db)
			var full, incremental int
			if err := db.QueryRowContext(ctx, `SELECT max(slices) FILTER (WHERE through_run = 1), max(slices) FILTER (WHERE through_run = 2) FROM integrity_passes`).Scan(&full, &incremental); err != nil {
				t.Fatal(err)
			}
			if c.rows < 1<<40 && incremental >= full {
				t.Errorf("the incremental pass took %d slices, the full one %d: it redid everything", incremental, full)
			}
			// And a full pass from scratch agrees.
			exec(`UPDATE ingested_files SET integrity = 'not-validated'`)
			exec(`UPDATE digest_files SET chain_status = NULL`)
			exec(`DELETE FROM integrity_unread`)
			if err := db.UpdateIntegrity(ctx, 0); err != nil {
				t.Fatal(err)
			}
			truth.check(t, db)
		})
	}
}

// TestStripCount: rows stored account by account are cut across accounts
// only, rows stored day by day into about a strip a slice, and a year
// ingested at once followed by a year of nightly runs in between, where
// either pure cut would read half the rows in every slice.
func TestStripCount(t *testing.T) {
	const accounts, days, slices = 100, 730, 500
	byAccount := storageBlock{n: 32768, accounts: 1.0 / accounts, days: 1}
	byDay := storageBlock{n: 32768, accounts: 1, days: 1.0 / days}
	many := func(b storageBlock, n int) []storageBlock {
		out := make([]storageBlock, n)
		for i := range out {
			out[i] = b
		}
		return out
	}
	if n := stripCount(many(byAccount, 700), slices, days); n != 1 {
		t.Errorf("stored by account: %d strips, want 1", n)
	}
	if n := stripCount(many(byDay, 700), slices, days); n < slices/2 {
		t.Errorf("stored by day: %d strips, want about one a slice (%d)", n, slices)
	}
	mixed := append(many(byAccount, 350), many(byDay, 350)...)
	if n := stripCount(mixed, slices, days); n < 8 || n > 64 {
		t.Errorf("half each way: %d strips, want about the square root of %d slices", n, slices)
	}
	if n := stripCount(mixed, 1, days); n != 1 {
		t.Errorf("one slice: %d strips", n)
	}
}

// TestCutStrips: days are packed up to the capacity; a larger day is a
// strip of its own; every day is in exactly one strip.
func TestCutStrips(t *testing.T) {
	d0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	day := func(i int) time.Time { return d0.AddDate(0, 0, i) }
	var in []dayCount
	for i, n := range []int64{10, 10, 10, 30, 5, 5} {
		in = append(in, dayCount{day(i), n})
	}
	got := cutStrips(in, 20)
	want := []strip{{day(0), day(1), 20}, {day(2), day(2), 10}, {day(3), day(3), 30}, {day(4), day(5), 10}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("cutStrips: %v, want %v", got, want)
	}
}
