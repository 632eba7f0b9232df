package report

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rootaudit/rootaudit/query"
)

// payload is put in every string of a synthetic pack: a formula start for
// spreadsheets, an attribute break-out, tags, an ANSI and OSC 8 sequence for
// terminals, and Markdown link syntax.
const payload = "=cmd|' /C calc'!A0\" onmouseover=\"alert(1)\"><img src=x onerror=alert(1)><script>alert(1)</script>\x1b]8;;http://evil.example/\x07[x](javascript:alert(1))\x1b[31m"

func hostileEvidence() *query.Evidence {
	p := payload
	pp := &p
	d0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d1 := d0.AddDate(0, 0, 1)
	w := query.Window{Since: d0, Until: d0.AddDate(0, 0, 2)}
	yes := true
	inv := query.InventoryAccount{AccountID: "111122223333", AccountName: pp, SigninsSuccess: 1, ConsoleCalls: 2, AccessKeyCalls: 1,
		AccessKeys: []string{p}, SourceIPs: []string{p}, Verdict: query.VerdictKeyUsed, FirstSeen: &d0, LastSeen: &d1}
	st := query.AccountStatus{AccountID: "111122223333", AccountName: pp, CredentialState: query.StateRemoved, EvidenceEvent: pp,
		EvidenceTime: &d0, RemovedAt: &d0, LastHumanUse: &d1, HumanUseAfterRemoval: 3}
	cov := query.NewCoverage(w, []query.CoverageCell{
		{AccountID: "111122223333", Region: p, Day: d0, LogFiles: 1, Records: 5, KeptEvents: 2},
		{AccountID: "111122223333", Region: p, Day: d1, FailedFiles: 1},
	}, []query.EventIntegrity{{Integrity: p, Events: 2, HumanEvents: 2}})
	acov := cov.Accounts()[0]
	sess := query.Session{EventID: "s1", IssuerARN: p, IssuerAccount: p, TargetAccount: "111122223333", TaskPolicy: p,
		IssuedAt: d0, ExpiresAt: d0.Add(15 * time.Minute), AccessKeyID: pp, Status: "issued",
		Actions:  []query.SessionAction{{EventTime: d0.Add(time.Minute), EventSource: p, EventName: p, AWSRegion: p, ErrorCode: pp}},
		Findings: []string{p}}
	return &query.Evidence{
		Window:         w,
		Inventory:      &query.Inventory{Since: w.Since, Until: w.Until, Accounts: []query.InventoryAccount{inv}},
		Status:         &query.Status{AsOf: w.Until, Accounts: []query.AccountStatus{st}, OrgSwitches: []query.OrgSwitch{{EventTime: d0, EventName: p, Action: p, AccountID: p, IdentityARN: p, ErrorCode: pp}}},
		Sessions:       []query.Session{sess},
		Management:     []string{},
		SessionDetails: map[string][]query.ActionDetail{"s1": {{SourceIP: p, UserAgent: p, RequestParameters: p}}},
		HumanEvents: []query.HumanEvent{{EventID: p, EventTime: d0, AccountID: "111122223333", Class: p, EventSource: p, EventName: p,
			Region: p, LoginResult: p, ErrorCode: p, MFAUsed: &yes, AccessKeyID: p, SourceIP: p, UserAgent: p, RequestParameters: p, SourceFile: p}},
		ActivityBucket:  "day",
		Activity:        []query.ActivityCount{{AccountID: "111122223333", Bucket: d0, Class: "console", Events: 2}},
		SessionsMonthly: []query.SessionMonth{{Month: d0, TaskPolicy: p, Issued: 1}},
		Coverage:        cov,
		Sources:         []query.SourceCount{{Kind: p, Status: p, Objects: 1}},
		Runs:            []query.IngestRun{{RunID: 1, StartedAt: &d0, Version: p, Command: p, Sources: p, Status: p}},
		Fingerprint:     strings.Repeat("ab", 32),
		SchemaVersion:   3,
		Views:           []query.ViewDef{{Name: p, SQL: p}},
		Queries:         []query.QueryRun{{File: "query/sql/" + p + ".sql", SQL: p, Params: []string{p}, Figures: p}},
		Accounts: []query.EvidenceAccount{{AccountID: "111122223333", Name: pp, Role: query.RoleMember, Inventory: inv, Status: st,
			Sessions: 1, SessionsWithFindings: 1, Coverage: &acov}},
		Headline: query.Headline{Members: []string{"111122223333"}, HumanUse: []string{"111122223333"}, NotRemoved: []string{},
			UseAfterRemoval: []string{"111122223333"}, WithGaps: []string{"111122223333"}, Days: 2, Streams: 1, StreamDays: 2, StreamGapDays: 1,
			FailedFiles: 1, Events: 2, HumanEvents: 2},
	}
}

// TestPackNeutralisesEveryValue renders a pack whose every string is
// hostile and checks each file for its medium.
func TestPackNeutralisesEveryValue(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pack")
	p := &Pack{Ev: hostileEvidence(), Meta: PackMeta{Title: payload, Version: payload, CommandLine: payload,
		GeneratedAt: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), Database: payload}}
	m, err := WritePack(context.Background(), dir, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 7 {
		t.Errorf("manifest lists %d files, want 7", len(m.Files))
	}
	page, err := os.ReadFile(filepath.Join(dir, PackIndex))
	if err != nil {
		t.Fatal(err)
	}
	low := strings.ToLower(string(page))
	for _, bad := range []string{"<script", "<img", `" onmouseover`, "\x1b", "\x07", `href="javascript`} {
		if i := strings.Index(low, bad); i >= 0 {
			t.Errorf("index.html holds %q unescaped: …%s…", bad, page[max(0, i-60):min(len(page), i+60)])
		}
	}
	if n := strings.Count(string(page), "&lt;script&gt;alert(1)&lt;/script&gt;"); n < 20 {
		t.Errorf("the payload appears escaped only %d times: a value is missing from the page", n)
	}
	for _, name := range []string{PackSummary, PackControls} {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		s := string(b)
		if strings.ContainsAny(s, "\x1b\x07") {
			t.Errorf("%s holds terminal control characters", name)
		}
		// Code blocks are rendered as text; outside them every '<', '[' and
		// ']' of a value must be escaped.
		s = regexp.MustCompile("(?s)```sql\n.*?\n```").ReplaceAllString(s, "")
		if strings.Contains(strings.ReplaceAll(s, `\](`, ""), "](javascript") || strings.Contains(strings.ReplaceAll(s, `\<`, ""), "<") {
			t.Errorf("%s holds an unescaped link or tag", name)
		}
	}
	for _, name := range []string{PackInventory, PackSessions, PackCoverage, PackHumanEvents} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		seen := false
		for _, rec := range recs {
			for _, c := range rec {
				if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
					t.Errorf("%s: cell starts with a formula character: %q", name, c)
				}
				if strings.HasPrefix(c, "'=cmd") {
					seen = true
				}
			}
		}
		if !seen {
			t.Errorf("%s: the payload is not in any cell", name)
		}
	}
	v, err := VerifyPack(dir)
	if err != nil || !v.OK() {
		t.Fatalf("fresh pack does not verify: %+v %v", v, err)
	}
	if _, err := WritePack(context.Background(), dir, p); err == nil {
		t.Error("WritePack into a non-empty directory succeeded")
	}
}

func TestPlainName(t *testing.T) {
	for name, want := range map[string]bool{"index.html": true, "a.csv": true, "": false, ".": false, "..": false,
		"../x": false, "a/b": false, `a\b`: false, "/etc/passwd": false, PackManifest: false} {
		if got := plainName(name); got != want {
			t.Errorf("plainName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestBucketsMatchDateTrunc(t *testing.T) {
	w := query.Window{Since: time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2025, 11, 20, 0, 0, 0, 0, time.UTC)}
	b := buckets(w, "week")
	// 2025-11-01 is a Saturday: its week starts on Monday 2025-10-27.
	if b[0] != time.Date(2025, 10, 27, 0, 0, 0, 0, time.UTC) || len(b) != 4 {
		t.Errorf("weeks %v", b)
	}
	if m := buckets(w, "month"); len(m) != 1 || m[0] != w.Since {
		t.Errorf("months %v", m)
	}
	if d := buckets(w, "day"); len(d) != 19 {
		t.Errorf("%d days, want 19", len(d))
	}
}
