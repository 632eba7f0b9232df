package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/rootaudit/rootaudit/query"
)

// sqlDoc is the JSON form of one `rootaudit sql` result.
type sqlDoc struct {
	Columns []string         `json:"columns"`
	Rows    []map[string]any `json:"rows"`
}

// sqlJSON runs `rootaudit sql … --format json` and decodes every result
// document it printed.
func sqlJSON(t testing.TB, db string, args ...string) []sqlDoc {
	t.Helper()
	out, stderr, code := runCLI(t, append([]string{"sql", "--db", db, "--format", "json"}, args...)...)
	if code != exitOK {
		t.Fatalf("sql %q: exit %d: %s", args, code, stderr)
	}
	return decodeDocs(t, out)
}

func decodeDocs(t testing.TB, out string) []sqlDoc {
	t.Helper()
	var docs []sqlDoc
	dec := json.NewDecoder(strings.NewReader(out))
	for {
		var d sqlDoc
		err := dec.Decode(&d)
		if err == io.EOF {
			return docs
		}
		if err != nil {
			t.Fatalf("output is not a stream of JSON documents: %v\n%s", err, out)
		}
		docs = append(docs, d)
	}
}

// runSQLStdin runs the sql command with stdin.
func runSQLStdin(t testing.TB, db, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	g := &globalOptions{db: db, stdout: &o, stderr: &e}
	c := newSQLCommand(g)
	c.SetArgs(args)
	c.SetIn(strings.NewReader(stdin))
	c.SetOut(&o)
	c.SetErr(&e)
	c.SilenceUsage, c.SilenceErrors = true, true
	err := c.ExecuteContext(context.Background())
	if err != nil {
		e.WriteString("rootaudit: " + err.Error() + "\n")
	}
	return o.String(), e.String(), exitCode(err)
}

// TestNamedQueriesMatchTruth runs the named queries on an ingested trail
// and checks them against what the generator planted.
func TestNamedQueriesMatchTruth(t *testing.T) {
	tr, db := ingested(t)
	window := []string{"--param", "since=" + tr.truth.Since, "--param", "until=" + tr.truth.Until}

	// Sign-ins without MFA, per account.
	wantNoMFA := map[string]int{}
	wantKeys := map[string]bool{}
	wantKeyCalls := map[string]int{}
	wantHumanDenied := 0
	for _, a := range tr.truth.Inventory.Accounts {
		if a.SigninsWithoutMFA > 0 {
			wantNoMFA[a.AccountID] = a.SigninsWithoutMFA
		}
		for _, k := range a.AccessKeys {
			wantKeys[a.AccountID+" "+k] = true
		}
		if a.AccessKeyCalls > 0 {
			wantKeyCalls[a.AccountID] = a.AccessKeyCalls
		}
		wantHumanDenied += a.DeniedCalls
	}
	if len(wantNoMFA) == 0 || len(wantKeys) == 0 {
		t.Fatal("the generated trail plants no sign-in without MFA or no root access key")
	}
	gotNoMFA := map[string]int{}
	for _, r := range sqlJSON(t, db, append([]string{"root-signins-without-mfa"}, window...)...)[0].Rows {
		gotNoMFA[r["account_id"].(string)]++
	}
	if !reflect.DeepEqual(gotNoMFA, wantNoMFA) {
		t.Errorf("root-signins-without-mfa per account %v, truth %v", gotNoMFA, wantNoMFA)
	}

	// Root access keys in use, and each key's events.
	gotKeys := map[string]bool{}
	gotKeyCalls := map[string]int{}
	for _, r := range sqlJSON(t, db, append([]string{"root-access-keys-in-use"}, window...)...)[0].Rows {
		acct, key := r["account_id"].(string), r["access_key_id"].(string)
		gotKeys[acct+" "+key] = true
		gotKeyCalls[acct] += int(r["calls"].(float64))
		used := 0
		for _, e := range sqlJSON(t, db, append([]string{"events-by-access-key", "--param", "key=" + key}, window...)...)[0].Rows {
			if e["relation"] == "used" {
				used++
			}
		}
		if used != int(r["calls"].(float64)) {
			t.Errorf("events-by-access-key %s: %d used, root-access-keys-in-use says %v calls", key, used, r["calls"])
		}
	}
	if !reflect.DeepEqual(gotKeys, wantKeys) {
		t.Errorf("root-access-keys-in-use %v, truth %v", gotKeys, wantKeys)
	}
	if !reflect.DeepEqual(gotKeyCalls, wantKeyCalls) {
		t.Errorf("root access key calls per account %v, truth %v", gotKeyCalls, wantKeyCalls)
	}

	// Denied actions: human calls, session actions and AssumeRoot calls.
	denial := map[string]bool{}
	for _, r := range sqlJSON(t, db, "SELECT error_code FROM denial_codes")[0].Rows {
		denial[r["error_code"].(string)] = true
	}
	want := map[string]int{"human": wantHumanDenied}
	for _, s := range tr.truth.Sessions {
		if denial[s.Status] {
			want["assume-root"]++
		}
		for _, a := range s.Actions {
			if a.ErrorCode != nil && denial[*a.ErrorCode] {
				want["privileged-session"]++
			}
		}
	}
	got := map[string]int{}
	for _, r := range sqlJSON(t, db, append([]string{"denied-actions"}, window...)...)[0].Rows {
		k := r["kind"].(string)
		if k == "console" || k == "long-term-key" {
			k = "human"
		}
		got[k]++
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("denied-actions by kind %v, truth %v", got, want)
	}

	// Every named query runs on real data.
	for _, q := range query.NamedQueries() {
		args := []string{q.Name}
		for _, p := range q.Params {
			switch p.Name {
			case "key":
				args = append(args, "--param", "key=AKIAEXAMPLE")
			case "at":
				args = append(args, "--param", "at="+tr.truth.Since)
			}
		}
		if docs := sqlJSON(t, db, args...); len(docs) != 1 {
			t.Errorf("%s: %d documents", q.Name, len(docs))
		}
	}
}

func TestSQLCommand(t *testing.T) {
	_, db := ingested(t)
	var events int
	{
		d := sqlJSON(t, db, "SELECT count(*) AS n FROM events")
		events = int(d[0].Rows[0]["n"].(float64))
		if events == 0 {
			t.Fatal("no events")
		}
	}

	t.Run("formats", func(t *testing.T) {
		for format, want := range map[string]string{
			"csv":      "a,b,t,l\n1,x,2026-01-02T03:04:05Z,\"[1,2]\"\n",
			"markdown": "## \\[1\\] SELECT 1 AS a, 'x' AS b, TIMESTAMP '2026-01-02 03:04:05' AS t, \\[1, 2\\] A…\n\n| a | b | t | l |\n| --- | --- | --- | --- |\n| 1 | x | 2026-01-02T03:04:05Z | \\[1,2\\] |\n",
			"json":     "{\n  \"columns\": [\n    \"a\",\n    \"b\",\n    \"t\",\n    \"l\"\n  ],\n  \"rows\": [\n    {\n      \"a\": 1,\n      \"b\": \"x\",\n      \"t\": \"2026-01-02T03:04:05Z\",\n      \"l\": [\n        1,\n        2\n      ]\n    }\n  ]\n}\n",
		} {
			out, stderr, code := runCLI(t, "sql", "--db", db, "--format", format, "SELECT 1 AS a, 'x' AS b, TIMESTAMP '2026-01-02 03:04:05' AS t, [1, 2] AS l")
			if code != exitOK || out != want {
				t.Errorf("%s: exit %d %s\n got %q\nwant %q", format, code, stderr, out, want)
			}
		}
		out, _, code := runCLI(t, "sql", "--db", db, "SELECT 1 AS a WHERE false")
		if code != exitOK || !strings.Contains(out, "(no rows)") {
			t.Errorf("empty table: exit %d %q", code, out)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		copied := filepath.Join(t.TempDir(), "x.csv")
		for _, c := range []struct {
			stmt, msg string
		}{
			{"DELETE FROM events", "the database is opened read-only; pass --write to modify it"},
			{"CREATE TABLE notes (x INTEGER)", "the database is opened read-only; pass --write to modify it"},
			{"COPY events TO '" + copied + "'", "may not read or write files"},
			{"SELECT * FROM read_csv('/etc/passwd')", "may not read or write files"},
			{"ATTACH '" + filepath.Join(t.TempDir(), "o.duckdb") + "' AS o", "may not read or write files"},
			{"INSTALL httpfs", "may not read or write files"},
			{"SET enable_external_access = true", "opened read-only"},
		} {
			_, stderr, code := runCLI(t, "sql", "--db", db, c.stmt)
			if code != exitUsage || !strings.Contains(stderr, c.msg) {
				t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", c.stmt, code, stderr, exitUsage, c.msg)
			}
		}
		if _, err := os.Stat(copied); !os.IsNotExist(err) {
			t.Fatalf("COPY wrote %s", copied)
		}
		if d := sqlJSON(t, db, "SELECT count(*) AS n FROM events"); int(d[0].Rows[0]["n"].(float64)) != events {
			t.Fatal("events changed")
		}
	})

	t.Run("usage", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			code int
			msg  string
		}{
			{[]string{"SELEC 1"}, exitFatal, "syntax error"},
			{[]string{"no-such-query"}, exitUsage, "unknown named query"},
			{[]string{"root-signins-without-mfa", "--param", "nope=1"}, exitUsage, "has no parameter nope"},
			{[]string{"root-signins-without-mfa", "--param", "since=last tuesday"}, exitUsage, "not a time"},
			{[]string{"root-signins-without-mfa", "--param", "since"}, exitUsage, "want NAME=VALUE"},
			{[]string{"root-signins-without-mfa", "--param", "since=2026-01-01", "--param", "since=2026-02-01"}, exitUsage, "given twice"},
			{[]string{"events-by-access-key"}, exitUsage, "needs --param key=VALUE"},
			{[]string{"SELECT 1", "--param", "a=1"}, exitUsage, "named queries only"},
			{[]string{"--list", "SELECT 1"}, exitUsage, "--list takes no argument"},
			{[]string{"SELECT 1", "--format", "xml"}, exitUsage, "unknown format"},
			{[]string{"/* nothing */ ;"}, exitUsage, "holds no SQL statement"},
		} {
			_, stderr, code := runCLI(t, append([]string{"sql", "--db", db}, c.args...)...)
			if code != c.code || !strings.Contains(stderr, c.msg) {
				t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, c.code, c.msg)
			}
		}
	})

	t.Run("injection", func(t *testing.T) {
		for _, v := range []string{"1' OR '1'='1", "x'; DROP TABLE events; --", "' UNION SELECT * FROM events --"} {
			d := sqlJSON(t, db, "events-by-access-key", "--param", "key="+v)
			if len(d) != 1 || len(d[0].Rows) != 0 {
				t.Fatalf("key %q: %v", v, d)
			}
			d = sqlJSON(t, db, "denied-actions", "--param", "since=2000-01-01", "--param", "account="+v)
			if len(d[0].Rows) != 0 {
				t.Fatalf("account %q: %d rows", v, len(d[0].Rows))
			}
		}
		if d := sqlJSON(t, db, "SELECT count(*) AS n FROM events"); int(d[0].Rows[0]["n"].(float64)) != events {
			t.Fatal("events changed")
		}
	})

	t.Run("stdin", func(t *testing.T) {
		in := "-- an investigation\nSELECT count(*) AS n FROM events;\nSELECT 'a;b' AS s; SELECT nope FROM nowhere;\n/* ; */\nSELECT 2 AS two -- no final semicolon"
		out, stderr, code := runSQLStdin(t, db, in, "--format", "json")
		if code != exitFatal {
			t.Fatalf("exit %d, want %d: %s", code, exitFatal, stderr)
		}
		if !strings.Contains(stderr, "statement 3 (line 3):") || !strings.Contains(stderr, "1 of 4 statement(s) failed") {
			t.Fatalf("stderr %q", stderr)
		}
		docs := decodeDocs(t, out)
		if len(docs) != 3 || int(docs[0].Rows[0]["n"].(float64)) != events || docs[1].Rows[0]["s"] != "a;b" || docs[2].Rows[0]["two"] != float64(2) {
			t.Fatalf("results %+v", docs)
		}

		// Only refusals: exit 2; the table form separates results.
		out, stderr, code = runSQLStdin(t, db, "SELECT 1 AS one;\n\nDELETE FROM events;\nSELECT 2 AS two;\n")
		if code != exitUsage || !strings.Contains(stderr, "statement 2 (line 3): the database is opened read-only") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
		if !strings.Contains(out, "[1] SELECT 1 AS one") || !strings.Contains(out, "\n\n[3] SELECT 2 AS two") {
			t.Fatalf("table output %q", out)
		}

		// Blank input runs nothing and succeeds.
		out, stderr, code = runSQLStdin(t, db, "\n-- nothing\n;;\n")
		if code != exitOK || out != "" {
			t.Fatalf("blank input: exit %d %q %q", code, out, stderr)
		}
	})

	t.Run("write", func(t *testing.T) {
		if _, stderr, code := runCLI(t, "sql", "--db", db, "--write", "CREATE TABLE notes AS SELECT 42 AS x"); code != exitOK {
			t.Fatalf("--write: exit %d: %s", code, stderr)
		}
		out, stderr, code := runCLI(t, "sql", "--db", db, "--format", "csv", "SELECT x FROM notes")
		if code != exitOK || out != "x\n42\n" {
			t.Fatalf("read back: exit %d %q %s", code, out, stderr)
		}
		missing := filepath.Join(t.TempDir(), "missing.duckdb")
		if _, _, code := runCLI(t, "sql", "--db", missing, "--write", "SELECT 1"); code == exitOK {
			t.Fatal("--write on a missing database succeeded")
		}
		if _, err := os.Stat(missing); !os.IsNotExist(err) {
			t.Fatal("--write created a database")
		}
	})

	t.Run("output file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "out.csv")
		_, stderr, code := runSQLStdin(t, db, "SELECT 1 AS a; SELECT 2 AS b;", "--format", "csv", "-o", path)
		b, err := os.ReadFile(path)
		if code != exitOK || err != nil || string(b) != "a\n1\nb\n2\n" {
			t.Fatalf("exit %d %s: %q %v", code, stderr, b, err)
		}
	})
}

// TestSQLList compares `rootaudit sql --list` with its golden form: a new
// or changed named query must update it and docs/queries.md.
func TestSQLList(t *testing.T) {
	out, stderr, code := runCLI(t, "sql", "--list", "--format", "markdown")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if out != sqlListGolden {
		t.Fatalf("sql --list changed (update sqlListGolden and docs/queries.md)\n%s", firstDiff(out, sqlListGolden))
	}
	// The list needs no database.
	if _, stderr, code := runCLI(t, "sql", "--list", "--db", filepath.Join(t.TempDir(), "none.duckdb")); code != exitOK {
		t.Fatalf("without a database: exit %d: %s", code, stderr)
	}
}

const sqlListGolden = `## Named queries: rootaudit sql NAME \[--param NAME=VALUE …\]

| NAME | PARAMETERS | DESCRIPTION |
| --- | --- | --- |
| accounts-without-coverage | since TIMESTAMP = 365 days ago; until TIMESTAMP = now | Accounts known to the database whose log files do not cover every day of the window, least covered first. |
| activity-around | at TIMESTAMP required; minutes INTEGER = 30; account VARCHAR = '' | Every stored event (root, AssumeRoot, organization switches) within some minutes of a given time, in time order. |
| denied-actions | since TIMESTAMP = 365 days ago; until TIMESTAMP = now; account VARCHAR = '' | Root actions refused for lack of permission (error code in denial\_codes), and refused AssumeRoot calls, newest first. |
| events-by-access-key | key VARCHAR required; since TIMESTAMP = NULL; until TIMESTAMP = NULL | Every stored event made with, issuing, or naming one access key (AKIA… or ASIA…), in time order. |
| root-access-keys-in-use | since TIMESTAMP = 365 days ago; until TIMESTAMP = now; account VARCHAR = '' | Long-term root access keys (AKIA…) used in the window, per account and key, most recently used first. |
| root-credential-changes | since TIMESTAMP = 365 days ago; until TIMESTAMP = now; account VARCHAR = '' | Changes to root credentials (password, MFA devices, access keys, signing certificates) and password recoveries, newest first. |
| root-signins-from-new-ips | since TIMESTAMP = 365 days ago; until TIMESTAMP = now; account VARCHAR = '' | Root sign-in events from a source IP the account's root user had never used before, newest first. |
| root-signins-without-mfa | since TIMESTAMP = 365 days ago; until TIMESTAMP = now; account VARCHAR = '' | Successful root console sign-ins that did not use MFA, newest first. |
| root-use-first-last | account VARCHAR = '' | Per account, the first and last root use of every kind in the whole database, most recent human use first. |
| services-acting-as-root | since TIMESTAMP = 365 days ago; until TIMESTAMP = now; account VARCHAR = '' | AWS services acting as the root user (service-generated events and calls made on root's behalf), per account, service and event. |
| sessions-by-issuer | since TIMESTAMP = 365 days ago; until TIMESTAMP = now; issuer VARCHAR = '' | AssumeRoot calls per issuer (who opened privileged root sessions), with targets, task policies and what the sessions did. |
`

// TestExportCommand exports in every format and reads the files back with
// DuckDB: the same row counts as the tables and views.
func TestExportCommand(t *testing.T) {
	_, db := ingested(t)
	ctx := context.Background()
	d, err := query.Open(ctx, db, true)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := d.ExportObjects(ctx)
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	readers := map[string]string{"parquet": "read_parquet", "csv": "read_csv", "jsonl": "read_json"}
	for _, format := range query.ExportFormats {
		dir := filepath.Join(t.TempDir(), format)
		args := []string{"export", "--db", db, "--out", dir}
		if format != "parquet" {
			args = append(args, "--format", format)
		}
		_, stderr, code := runCLI(t, args...)
		if code != exitOK {
			t.Fatalf("export %s: exit %d: %s", format, code, stderr)
		}
		var manifest []string
		for _, l := range strings.Split(stderr, "\n") {
			if strings.HasPrefix(l, "manifest ") {
				manifest = append(manifest, l)
			}
		}
		if len(manifest) != len(objs) || !strings.Contains(stderr, "(DuckDB v") {
			t.Fatalf("export %s: %d manifest lines for %d objects:\n%s", format, len(manifest), len(objs), stderr)
		}
		d, err := query.Open(ctx, db, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			var want, got int64
			if err := d.QueryRowContext(ctx, `SELECT count(*) FROM "`+o.Name+`"`).Scan(&want); err != nil {
				t.Fatal(err)
			}
			path := query.ExportPath(dir, o, format)
			if !strings.Contains(stderr, " "+o.Name+" rows="+strconv.FormatInt(want, 10)+" ") {
				t.Errorf("%s: no manifest line with rows=%d", o.Name, want)
			}
			if want == 0 {
				continue
			}
			if err := d.QueryRowContext(ctx, "SELECT count(*) FROM "+readers[format]+"(?)", path).Scan(&got); err != nil {
				t.Fatalf("read back %s: %v", path, err)
			}
			if got != want {
				t.Errorf("%s: %d rows read back, the %s has %d", path, got, o.Kind, want)
			}
		}
		d.Close()
	}

	// A selection, and the names it refuses.
	dir := t.TempDir()
	if _, stderr, code := runCLI(t, "export", "--db", db, "--out", dir, "--format", "csv", "--table", "events", "--view", "human_root_activity"); code != exitOK {
		t.Fatalf("export selection: exit %d: %s", code, stderr)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if !reflect.DeepEqual(names, []string{"events.csv", "human_root_activity.csv"}) {
		t.Fatalf("files %v", names)
	}
	for _, args := range [][]string{
		{"--table", "root_activity"}, // a view
		{"--view", "events"},         // a table
		{"--table", "nope"},
		{"--table", `events"; DROP TABLE events; --`},
		{"--format", "xml"},
	} {
		if _, stderr, code := runCLI(t, append([]string{"export", "--db", db, "--out", t.TempDir()}, args...)...); code != exitUsage {
			t.Errorf("export %q: exit %d, want %d: %s", args, code, exitUsage, stderr)
		}
	}
	if _, _, code := runCLI(t, "export", "--db", db); code != exitUsage {
		t.Errorf("export without --out: exit %d", code)
	}
}
