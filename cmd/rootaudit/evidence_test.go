package main

import (
	"bytes"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"flag"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rootaudit/rootaudit/report"
)

var updateEvidence = flag.Bool("update-evidence", false, "rewrite the evidence golden files under report/testdata/evidence")

// evidenceGoldenDir holds the golden files of the evidence pack made from
// the generated trail (seed 7, 1 MB).
const evidenceGoldenDir = "../../report/testdata/evidence"

// fixedClock is the generation time injected into test packs.
const fixedClock = "2026-11-15T08:00:00Z"

// makePack writes an evidence pack of db for the truth window into a new
// directory and returns it.
func makePack(t *testing.T, tr trail, db string, extra ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "pack")
	args := append([]string{"evidence", "--db", db, "--out", out, "--since", tr.truth.Since, "--until", tr.truth.Until,
		"--accounts", filepath.Join(tr.dir, "accounts.json"), "--approvers", filepath.Join(tr.dir, "approvers.txt"),
		"--generated-at", fixedClock}, extra...)
	stdout, stderr, code := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("evidence exit %d: %s\n%s", code, stderr, stdout)
	}
	return out
}

// normalise replaces what differs between runs of the same test (temporary
// paths, the database fingerprint, which covers ingest times, and ingest
// run times) by placeholders.
func normalise(s string, repl map[string]string) string {
	for from, to := range repl {
		s = strings.ReplaceAll(s, from, to)
		s = strings.ReplaceAll(s, strings.ReplaceAll(from, "_", `\_`), to) // as escaped in Markdown
	}
	s = regexp.MustCompile(`\b[0-9a-f]{64}\b`).ReplaceAllString(s, "$$SHA256")
	// The SQL texts and the schema version belong to other files and change
	// with them; TestEvidencePrintsExactSQL checks the SQL.
	s = regexp.MustCompile("(?s)```sql\n.*?\n```\n").ReplaceAllString(s, "```sql\n$$SQL\n```\n")
	s = regexp.MustCompile(`schema version \d+`).ReplaceAllString(s, "schema version $$N")
	s = regexp.MustCompile(`(?m)^\| (\d+) \| \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \|`).ReplaceAllString(s, "| $1 | $$STARTED |")
	return s
}

func TestEvidenceGolden(t *testing.T) {
	tr, db := ingested(t)
	out := makePack(t, tr, db)
	repl := map[string]string{tr.dir: "$TRAIL", db: "$DB"}
	for _, name := range []string{report.PackSummary, report.PackControls, report.PackInventory, report.PackSessions,
		report.PackCoverage, report.PackHumanEvents} {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		got := normalise(string(b), repl)
		golden := filepath.Join(evidenceGoldenDir, name+".golden")
		if *updateEvidence {
			if err := os.MkdirAll(evidenceGoldenDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update-evidence to create it)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs from %s (run with -update-evidence after checking the change):\n%s", name, golden, evidenceFirstDiff(got, string(want)))
		}
	}
}

// evidenceFirstDiff shows the first differing line.
func evidenceFirstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + gl + "\nwant: " + wl
		}
	}
	return ""
}

// TestEvidencePrintsExactSQL checks that the method section of index.html
// and summary.md prints, for every query that fed the pack, the exact text
// of its embedded file in query/sql, and the view definitions.
func TestEvidencePrintsExactSQL(t *testing.T) {
	tr, db := ingested(t)
	out := makePack(t, tr, db)
	summary, err := os.ReadFile(filepath.Join(out, report.PackSummary))
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(out, report.PackIndex))
	if err != nil {
		t.Fatal(err)
	}
	files := regexp.MustCompile(`(?m)^#### (query/sql/[a-z_\\]+\.sql)$`).FindAllStringSubmatch(string(summary), -1)
	if len(files) < 15 {
		t.Fatalf("summary.md prints %d SQL files, want every query of the pack", len(files))
	}
	pres := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?s)<pre>(.*?)</pre>`).FindAllStringSubmatch(string(page), -1) {
		pres[html.UnescapeString(m[1])] = true
	}
	for _, f := range files {
		name := strings.ReplaceAll(f[1], `\_`, "_")
		text, err := os.ReadFile(filepath.Join("../..", name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := strings.TrimSpace(string(text))
		if !strings.Contains(string(summary), "```sql\n"+want+"\n```") {
			t.Errorf("summary.md does not print the exact text of %s", name)
		}
		if !pres[want] {
			t.Errorf("index.html does not print the exact text of %s", name)
		}
	}
	if !strings.Contains(string(summary), "#### root\\_activity") || !strings.Contains(string(page), `id="view-root_activity"`) {
		t.Error("the view definitions are not printed")
	}
}

// TestEvidenceHeadlineMatchesTruth checks the headline numbers against the
// generator's truth, and that the pack states the coverage gaps of a trail
// that has them.
func TestEvidenceHeadlineMatchesTruth(t *testing.T) {
	tr, db := ingested(t)
	out := makePack(t, tr, db)
	var m report.Manifest
	b, err := os.ReadFile(filepath.Join(out, report.PackManifest))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	human := 0
	for _, a := range tr.truth.InventoryWithAccounts.Accounts {
		if a.AccountID != tr.truth.ManagementAccount && (a.Verdict == "root-used" || a.Verdict == "root-access-key-used") {
			human++
		}
	}
	h := m.Headline
	if len(h.HumanUse) != human {
		t.Errorf("headline N = %d, truth has %d member accounts with human root use", len(h.HumanUse), human)
	}
	if len(h.UseAfterRemoval) != 1 {
		t.Errorf("headline K = %v, want the one sessions-b account (removed, then signed in)", h.UseAfterRemoval)
	}
	if len(h.Management) != 1 || h.Management[0] != tr.truth.ManagementAccount {
		t.Errorf("management accounts %v, want %s", h.Management, tr.truth.ManagementAccount)
	}
	if len(h.NoLogs) != 1 || h.NoLogs[0] != tr.truth.NoLogAccount {
		t.Errorf("accounts without logs %v, want %s", h.NoLogs, tr.truth.NoLogAccount)
	}
	if len(h.OutsideOrg) != 1 || h.OutsideOrg[0] != tr.truth.OutsiderAccount {
		t.Errorf("outside the org %v, want %s", h.OutsideOrg, tr.truth.OutsiderAccount)
	}
	if m.GeneratedAt.Format("2006-01-02T15:04:05Z") != fixedClock || m.RootauditVersion == "" || !strings.Contains(m.CommandLine, "evidence") ||
		m.Database.Fingerprint == "" || len(m.Source) != 1 || m.Source[0] != tr.dir || m.ObjectsTotal == 0 {
		t.Errorf("manifest header: %+v", m)
	}
	summary, _ := os.ReadFile(filepath.Join(out, report.PackSummary))
	page, _ := os.ReadFile(filepath.Join(out, report.PackIndex))
	for _, doc := range [][]byte{summary, page} {
		// The 1 MB trail has few files: gaps must be stated right after the headline.
		i := bytes.Index(doc, []byte("member accounts with human root use in the period"))
		j := bytes.Index(doc, []byte("account-region-days"))
		k := bytes.Index(doc, []byte("without any log file in the period"))
		if i < 0 || j < i || k < i || bytes.Contains(doc[i:j], []byte("## Accounts")) || bytes.Contains(doc[i:j], []byte(`id="accounts"`)) {
			t.Errorf("coverage gaps are not stated next to the headline (%d, %d, %d)", i, j, k)
		}
		if !bytes.Contains(doc, []byte("kept events of the period (0.0%) come from digest-validated log files")) {
			t.Error("share of events in validated files not stated")
		}
	}
	// The numbers in the page come from the SQL printed in it.
	for _, q := range []string{"inventory.sql", "status.sql", "coverage.sql", "evidence_activity.sql", "evidence_sessions_monthly.sql", "evidence_fingerprint.sql"} {
		if !bytes.Contains(page, []byte(`id="sql-`+strings.TrimSuffix(q, ".sql")+`"`)) {
			t.Errorf("index.html does not print %s", q)
		}
	}
}

func TestEvidenceVerify(t *testing.T) {
	tr, db := ingested(t)
	out := makePack(t, tr, db)
	stdout, stderr, code := runCLI(t, "evidence", "verify", out)
	if code != 0 {
		t.Fatalf("verify of a fresh pack: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "7 files match manifest.json") {
		t.Errorf("verify output:\n%s", stdout)
	}
	sessions := filepath.Join(out, report.PackSessions)
	orig, err := os.ReadFile(sessions)
	if err != nil {
		t.Fatal(err)
	}
	expectFail := func(what, want string) {
		t.Helper()
		stdout, stderr, code := runCLI(t, "evidence", "verify", out)
		if code != exitFindings || !strings.Contains(stdout, want) {
			t.Errorf("%s: exit %d, want %d with %q\n%s%s", what, code, exitFindings, want, stdout, stderr)
		}
	}
	// One byte changed.
	tampered := append([]byte(nil), orig...)
	tampered[len(tampered)/2] ^= 0x01
	os.WriteFile(sessions, tampered, 0o644)
	expectFail("tampered byte", "MISMATCH     sessions.csv")
	// Missing.
	os.Remove(sessions)
	expectFail("missing file", "MISSING      sessions.csv")
	os.WriteFile(sessions, orig, 0o644)
	// Extra file and extra directory.
	os.WriteFile(filepath.Join(out, "notes.txt"), []byte("x"), 0o644)
	expectFail("extra file", "EXTRA        notes.txt")
	os.Remove(filepath.Join(out, "notes.txt"))
	os.Mkdir(filepath.Join(out, "sub"), 0o755)
	expectFail("extra directory", "EXTRA        sub")
	os.Remove(filepath.Join(out, "sub"))
	// A symbolic link in place of a file is not accepted even if it points at
	// identical content.
	os.Rename(sessions, filepath.Join(t.TempDir(), "moved"))
	os.WriteFile(filepath.Join(filepath.Dir(out), "elsewhere.csv"), orig, 0o644)
	os.Symlink(filepath.Join(filepath.Dir(out), "elsewhere.csv"), sessions)
	expectFail("symlink", "INVALID      sessions.csv")
	os.Remove(sessions)
	os.WriteFile(sessions, orig, 0o644)
	if _, _, code := runCLI(t, "evidence", "verify", out); code != 0 {
		t.Fatalf("restored pack does not verify: exit %d", code)
	}
	// A manifest naming a path outside the pack is refused, never opened.
	mpath := filepath.Join(out, report.PackManifest)
	mb, _ := os.ReadFile(mpath)
	var m map[string]any
	json.Unmarshal(mb, &m)
	m["files"].(map[string]any)["../elsewhere.csv"] = strings.Repeat("0", 64)
	nb, _ := json.Marshal(m)
	os.WriteFile(mpath, nb, 0o644)
	expectFail("path in manifest", "INVALID      ../elsewhere.csv")
	os.Remove(mpath)
	expectFail("no manifest", "BAD-MANIFEST manifest.json")
	// Not a directory: usage error.
	if _, _, code := runCLI(t, "evidence", "verify", filepath.Join(out, "nope")); code != exitUsage {
		t.Errorf("verify of a missing directory: exit %d, want %d", code, exitUsage)
	}
	// A pack is only written into an empty directory.
	if _, stderr, code := runCLI(t, "evidence", "--db", db, "--out", out, "--since", tr.truth.Since, "--until", tr.truth.Until); code != exitUsage ||
		!strings.Contains(stderr, "not empty") {
		t.Errorf("evidence into a non-empty directory: exit %d, want %d\n%s", code, exitUsage, stderr)
	}
	if _, _, code := runCLI(t, "evidence", "--db", db); code != exitUsage {
		t.Errorf("evidence without --out: exit %d, want %d", code, exitUsage)
	}
}

// Payloads planted in log values: executing any of them changes the
// document title to PWNED.
const (
	xssScript = `<script>document.title='PWNED'</script>`
	xssImg    = `"><img src=x onerror="document.title='PWNED'">`
)

// plantHostileEvent inserts, directly with SQL, a human root event (class
// console) in account whose user agent, request parameters and other log
// values carry HTML and spreadsheet-formula payloads. It returns the event
// ID.
func plantHostileEvent(t *testing.T, dbPath, account, at string) string {
	t.Helper()
	db, err := sql.Open("duckdb", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw, _ := json.Marshal(map[string]any{
		"eventVersion": "1.08", "eventID": "hostile-1", "eventTime": at, "userAgent": xssScript + xssImg,
		"requestParameters": map[string]any{"bucketName": xssImg, "policy": xssScript},
	})
	_, err = db.Exec(`INSERT INTO events (event_id, event_time, event_version, event_source, event_name, event_type, aws_region,
		recipient_account_id, identity_type, identity_arn, identity_account_id, principal_id, access_key_id, source_ip, user_agent,
		error_code, login_result, source_kind, source_file, raw)
		VALUES ('hostile-1', CAST(? AS TIMESTAMP), '1.08', 's3.amazonaws.com', ?, 'AwsApiCall', ?, ?, 'Root', ?, ?, ?, ?, ?, ?, ?, ?, 'trail', ?, ?)`,
		at, "-2+3+cmd|' /C calc'!A0", "\tus-east-1", account, "arn:aws:iam::"+account+":root", account, account,
		"@SUM(1+1)", `=HYPERLINK("http://evil.example/","x")`, xssScript+xssImg, "+SUM(1+1)", "\rFailure",
		"/tmp/"+xssImg, string(raw))
	if err != nil {
		t.Fatal(err)
	}
	return "hostile-1"
}

// cleanMember returns a member account with no human root use in the truth.
func cleanMember(t *testing.T, tr trail) string {
	t.Helper()
	for _, a := range tr.truth.Inventory.Accounts {
		if a.Verdict == "no-root-use" && a.AccountID != tr.truth.ManagementAccount {
			return a.AccountID
		}
	}
	t.Fatal("no clean member account in the trail")
	return ""
}

// hostilePack makes a pack of a database holding a hostile event and a
// hostile --title.
func hostilePack(t *testing.T) (string, trail) {
	t.Helper()
	tr, db := ingested(t)
	plantHostileEvent(t, db, cleanMember(t, tr), "2026-06-01 12:00:00")
	return makePack(t, tr, db, "--title", xssScript+" pack "+xssImg), tr
}

func TestEvidenceEscapesLogValues(t *testing.T) {
	out, _ := hostilePack(t)
	page, err := os.ReadFile(filepath.Join(out, report.PackIndex))
	if err != nil {
		t.Fatal(err)
	}
	low := strings.ToLower(string(page))
	for _, bad := range []string{"<script", "<img", "javascript:"} {
		if strings.Contains(low, bad) {
			i := strings.Index(low, bad)
			t.Errorf("index.html contains %q unescaped: …%s…", bad, page[max(0, i-80):min(len(page), i+80)])
		}
	}
	// The payloads are there, as text.
	for _, want := range []string{"&lt;script&gt;document.title=&#39;PWNED&#39;&lt;/script&gt;", "&#34;&gt;&lt;img src=x onerror=&#34;document.title=&#39;PWNED&#39;&#34;&gt;"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("index.html does not show the payload as text %q", want)
		}
	}
	if !strings.Contains(string(page), `<meta http-equiv="Content-Security-Policy" content="`+report.PackCSP+`">`) {
		t.Error("index.html has no Content-Security-Policy meta")
	}
	for _, name := range []string{report.PackSummary, report.PackControls} {
		b, _ := os.ReadFile(filepath.Join(out, name))
		if line := rawHTMLInMarkdown(string(b)); line != "" {
			t.Errorf("%s has an unescaped '<' outside code blocks: %s", name, line)
		}
		if !strings.Contains(string(b), `\<script\>document.title='PWNED'\</script\>`) {
			t.Errorf("%s does not show the payload as escaped text", name)
		}
	}
	// CSV: no cell starts with a formula character.
	for _, name := range []string{report.PackHumanEvents, report.PackInventory, report.PackSessions, report.PackCoverage} {
		f, err := os.Open(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i, rec := range recs {
			for j, cell := range rec {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Errorf("%s row %d column %d starts with a formula character: %q", name, i, j, cell)
				}
			}
		}
	}
	b, _ := os.ReadFile(filepath.Join(out, report.PackHumanEvents))
	for _, want := range []string{`'=HYPERLINK(""http://evil.example/"",""x"")`, `'+SUM(1+1)`, `'@SUM(1+1)`, `'-2+3+cmd|' /C calc'!A0`, "'\tus-east-1", "'\rFailure"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("human_root_events.csv does not hold the neutralised cell %q", want)
		}
	}
}

// rawHTMLInMarkdown returns the first line with a '<' not escaped by a
// backslash, outside fenced code blocks (where renderers escape it), or "".
func rawHTMLInMarkdown(md string) string {
	fence := ""
	for _, line := range strings.Split(md, "\n") {
		if fence != "" {
			if strings.HasPrefix(line, fence) && strings.Trim(line, "`") == "" {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(line, "```") {
			fence = line[:len(line)-len(strings.TrimLeft(line, "`"))]
			continue
		}
		for i := 0; i < len(line); i++ {
			if line[i] == '<' && (i == 0 || line[i-1] != '\\') {
				return line
			}
		}
	}
	return ""
}
