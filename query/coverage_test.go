package query

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"testing"
	"time"

	"github.com/rootaudit/rootaudit/ingest"
)

func utcDay(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

const (
	covA1 = "AWSLogs/o-abc123def4/111122223333/CloudTrail/us-east-1/2026/01/05/111122223333_CloudTrail_us-east-1_20260105T1000Z_a.json.gz"
	covA2 = "AWSLogs/o-abc123def4/111122223333/CloudTrail/us-east-1/2026/01/07/111122223333_CloudTrail_us-east-1_20260107T1000Z_b.json.gz"
	covA3 = "AWSLogs/o-abc123def4/111122223333/CloudTrail/us-west-2/2026/01/06/111122223333_CloudTrail_us-west-2_20260106T1000Z_c.json.gz"
	covB1 = "AWSLogs/o-abc123def4/444455556666/CloudTrail/us-east-1/2026/01/06/444455556666_CloudTrail_us-east-1_20260106T1000Z_d.json.gz"
)

// coverageDB holds: account A with us-east-1 files on Jan 5 and 7 and a
// us-west-2 file on Jan 6; account B with one failed file on Jan 6.
func coverageDB(t *testing.T) *DB {
	t.Helper()
	db := openTemp(t)
	a1 := fileResult(t, covA1, `{"Records":[`+rootRecord("e1", "111122223333", "2026-01-05T10:00:00Z", "ListUsers")+`,`+
		rootRecord("e2", "111122223333", "2026-01-05T10:01:00Z", "ListRoles")+`]}`)
	a2 := fileResult(t, covA2, `{"Records":[`+rootRecord("e3", "111122223333", "2026-01-07T10:00:00Z", "ListUsers")+`]}`)
	a3 := fileResult(t, covA3, `{"Records":[]}`)
	b1 := ingest.FileResult{Ref: ingest.FileRef{Source: covB1, Key: ingest.ParseKey(covB1), ETag: "e1"}, Status: ingest.StatusFailed, Reason: "truncated"}
	load(t, db, a1, a2, a3, b1)
	return db
}

func TestCoverageGapsAndCounts(t *testing.T) {
	ctx := context.Background()
	db := coverageDB(t)
	if _, err := db.Exec(`UPDATE ingested_files SET integrity = 'valid' WHERE source = ?`, covA1); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO digest_files (source, account_id, region, digest_start, digest_end, signature_status, chain_status)
		VALUES ('d1', '111122223333', 'us-east-1', TIMESTAMP '2026-01-06 10:00:00', TIMESTAMP '2026-01-06 11:00:00', 'valid', 'gap')`); err != nil {
		t.Fatal(err)
	}
	w := Window{utcDay("2026-01-05"), utcDay("2026-01-08")}
	cov, err := db.Coverage(ctx, Filter{Window: w})
	if err != nil {
		t.Fatal(err)
	}
	if want := []time.Time{utcDay("2026-01-05"), utcDay("2026-01-06"), utcDay("2026-01-07")}; !reflect.DeepEqual(cov.Days, want) {
		t.Fatalf("days %v, want %v", cov.Days, want)
	}
	if cov.Cells != 9 || len(cells(t, cov)) != 9 {
		t.Fatalf("%d cells, want 3 streams × 3 days", cov.Cells)
	}
	streams := cov.Streams()
	type got struct {
		acct, region string
		withFiles    int
		gaps         []DayRange
		files        int64
		failed       int64
		kept         int64
		validated    int64
		chainGaps    int64
	}
	var g []got
	for _, s := range streams {
		g = append(g, got{s.AccountID, s.Region, s.DaysWithFiles, s.Gaps, s.LogFiles, s.FailedFiles, s.KeptEvents, s.ValidatedFiles, s.DigestChainGaps})
	}
	d := utcDay
	want := []got{
		{"111122223333", "us-east-1", 2, []DayRange{{d("2026-01-06"), d("2026-01-06")}}, 2, 0, 3, 1, 1},
		{"111122223333", "us-west-2", 1, []DayRange{{d("2026-01-05"), d("2026-01-05")}, {d("2026-01-07"), d("2026-01-07")}}, 1, 0, 0, 0, 0},
		{"444455556666", "us-east-1", 0, []DayRange{{d("2026-01-05"), d("2026-01-07")}}, 0, 1, 0, 0, 0},
	}
	if !reflect.DeepEqual(g, want) {
		t.Fatalf("streams:\n got %+v\nwant %+v", g, want)
	}
	// A listed file never read (deleted) is an integrity failure of its
	// day: the evidence pack once said "0 log files failing validation"
	// while `integrity` listed it as missing.
	if _, err := db.Exec(`INSERT INTO integrity_unread VALUES ('b', 'AWSLogs/x.json.gz', 'd1', '111122223333', 'us-east-1', DATE '2026-01-06'),
		('b', 'AWSLogs/x.json.gz', 'd2', '111122223333', 'us-east-1', DATE '2026-01-06')`); err != nil {
		t.Fatal(err)
	}
	withMissing, err := db.Coverage(ctx, Filter{Window: w})
	if err != nil {
		t.Fatal(err)
	}
	if s := withMissing.Streams()[0]; s.IntegrityFailures != 1 {
		t.Fatalf("a listed file never read: %d integrity failures in %s %s, want 1", s.IntegrityFailures, s.AccountID, s.Region)
	}
	accts := cov.Accounts()
	if len(accts) != 2 || accts[0].DaysWithoutLogsCount != 0 || accts[0].StreamGapDays != 3 ||
		accts[1].DaysWithoutLogsCount != 3 || accts[1].FailedFiles != 1 {
		t.Fatalf("accounts: %+v", accts)
	}
	ad := cov.AccountDays()["111122223333"]
	if ad[0].RegionsWithFiles != 1 || ad[0].Regions != 2 || ad[1].DigestChainGaps != 1 {
		t.Fatalf("account days: %+v", ad)
	}
	// Events of the window by the integrity of their file: e1 and e2 come
	// from the validated file.
	wantInt := []EventIntegrity{{"not-validated", 1, 1}, {"valid", 2, 2}}
	if !reflect.DeepEqual(cov.Integrity, wantInt) {
		t.Fatalf("integrity %+v, want %+v", cov.Integrity, wantInt)
	}
	// A window that starts and ends inside days covers every day it touches.
	cov, err = db.Coverage(ctx, Filter{Window: Window{d("2026-01-05").Add(12 * time.Hour), d("2026-01-06").Add(time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cov.Days) != 2 || cov.Cells != 6 {
		t.Fatalf("partial days: %d days, %d cells, want 2 and 6", len(cov.Days), cov.Cells)
	}
	// The account filter is a parameter.
	cov, err = db.Coverage(ctx, Filter{Window: w, Accounts: []string{"444455556666"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := cells(t, cov); len(got) != 3 || got[0].AccountID != "444455556666" {
		t.Fatalf("account filter: %+v", got)
	}
}

// cells reads every cell of cov (EachCell reuses its argument).
func cells(t *testing.T, cov *Coverage) []CoverageCell {
	t.Helper()
	var out []CoverageCell
	if err := cov.EachCell(context.Background(), func(c *CoverageCell) error {
		out = append(out, *c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCoverageInGroupsOfAccounts: coverage.sql runs one group of accounts
// at a time so that a large organization's cells (6 million for a year of
// 1,000 accounts) are never all in memory. Cut into groups of one account,
// the cells and every summary must be those of one query.
func TestCoverageInGroupsOfAccounts(t *testing.T) {
	ctx := context.Background()
	db := coverageDB(t)
	w := Window{utcDay("2026-01-05"), utcDay("2026-01-08")}
	whole, err := db.Coverage(ctx, Filter{Window: w})
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := db.coverageChunks(ctx, Filter{Window: w}, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	if want := []accountRange{{"111122223333", "111122223333"}, {"444455556666", "444455556666"}}; !reflect.DeepEqual(chunks, want) {
		t.Fatalf("groups of accounts %q, want one each: %q", chunks, want)
	}
	if chunks, _ = db.coverageChunks(ctx, Filter{Window: w}, 3); len(chunks) != 1 || chunks[0] != (accountRange{"111122223333", "444455556666"}) {
		t.Fatalf("small coverage cut into %d groups, want 1", len(chunks))
	}
	var split []CoverageCell
	for _, c := range []string{"111122223333", "444455556666"} {
		if err := db.coverageCells(ctx, whole.Window, "", accountRange{c, c}, func(c *CoverageCell) error { split = append(split, *c); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if got := cells(t, whole); !reflect.DeepEqual(got, split) {
		t.Fatalf("cells in groups differ:\n got %+v\nwant %+v", split, got)
	}
	rebuilt := NewCoverage(w, split, whole.Integrity)
	if !reflect.DeepEqual(rebuilt.Streams(), whole.Streams()) || !reflect.DeepEqual(rebuilt.Accounts(), whole.Accounts()) ||
		!reflect.DeepEqual(rebuilt.AccountDays(), whole.AccountDays()) || rebuilt.Cells != whole.Cells || rebuilt.Validation != whole.Validation {
		t.Fatalf("summaries differ when built from the cells in groups")
	}
}

func TestEvidenceHeadline(t *testing.T) {
	ctx := context.Background()
	db := coverageDB(t)
	w := Window{utcDay("2026-01-01"), utcDay("2026-02-01")}
	org := []ingest.OrgAccount{{ID: "111122223333", Name: "prod"}, {ID: "777788889999", Name: "empty"}}
	ev, err := db.Evidence(ctx, EvidenceOptions{Window: w, Org: org})
	if err != nil {
		t.Fatal(err)
	}
	h := ev.Headline
	check := func(what string, got, want []string) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}
	check("members", h.Members, []string{"111122223333", "777788889999"})
	check("human use", h.HumanUse, []string{"111122223333"})
	check("not removed", h.NotRemoved, []string{"111122223333", "777788889999"})
	check("use after removal", h.UseAfterRemoval, []string{})
	check("outside org", h.OutsideOrg, []string{"444455556666"})
	check("no logs", h.NoLogs, []string{"777788889999"})
	check("with gaps", h.WithGaps, []string{"111122223333", "777788889999"})
	if h.Days != 31 || h.Streams != 3 || h.StreamDays != 93 || h.StreamGapDays != 93-3 || h.FailedFiles != 1 || h.Events != 3 || h.Validated {
		t.Errorf("coverage headline: %+v", h)
	}
	if len(ev.HumanEvents) != 3 || ev.HumanEvents[0].EventID != "e1" || ev.HumanEvents[0].Class != "console" {
		t.Errorf("human events: %+v", ev.HumanEvents)
	}
	// Every query that fed the pack is recorded with its exact text.
	files := map[string]string{}
	for _, q := range ev.Queries {
		files[q.File] = q.SQL
	}
	for file, text := range map[string]string{"query/sql/inventory.sql": inventorySQL, "query/sql/coverage.sql": coverageSQL,
		"query/sql/status.sql": statusSQL, "query/sql/evidence_fingerprint.sql": evidenceFingerprintSQL} {
		if files[file] != text {
			t.Errorf("query %s not recorded with its text", file)
		}
	}
	if len(ev.Views) < 6 {
		t.Errorf("views: %d, want the 6 views of the schema", len(ev.Views))
	}
}

func TestFingerprint(t *testing.T) {
	ctx := context.Background()
	db := coverageDB(t)
	fp1, n1, err := db.Fingerprint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fp2, n2, err := db.Fingerprint(ctx)
	if err != nil || fp1 != fp2 || n1 != n2 {
		t.Fatalf("fingerprint not stable: %s/%d then %s/%d (%v)", fp1, n1, fp2, n2, err)
	}
	if n1 != 3+4 { // 3 events, 4 ingested_files rows
		t.Errorf("fingerprint over %d rows, want 7", n1)
	}
	// Read in pages, it is the hash of the documented query's lines, one
	// page or many (here: a row or two a page).
	h := sha256.New()
	if _, err := db.hashLines(ctx, h, evidenceFingerprintSQL); err != nil {
		t.Fatal(err)
	}
	if want := hex.EncodeToString(h.Sum(nil)); fp1 != want {
		t.Fatalf("paged fingerprint %s, the documented query's %s", fp1, want)
	}
	defer func(p [2]int64) { fingerprintPage = p }(fingerprintPage)
	fingerprintPage = [2]int64{1, 2}
	if fp, n, err := db.Fingerprint(ctx); err != nil || fp != fp1 || n != n1 {
		t.Fatalf("in pages of 1 and 2 rows: %s/%d, want %s/%d (%v)", fp, n, fp1, n1, err)
	}
	if _, err := db.Exec(`UPDATE events SET user_agent = 'changed' WHERE event_id = 'e2'`); err != nil {
		t.Fatal(err)
	}
	fp3, _, err := db.Fingerprint(ctx)
	if err != nil || fp3 == fp1 {
		t.Fatalf("fingerprint did not change with an event (%v)", err)
	}
}
