package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"testing"

	"github.com/rootaudit/rootaudit/fixtures"
	"github.com/rootaudit/rootaudit/query"
)

// runCLI runs rootaudit in-process and returns its output and exit code.
func runCLI(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCLIContext(t, context.Background(), args...)
}

func runCLIContext(t testing.TB, ctx context.Context, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	err := run(ctx, args, &o, &e)
	if err != nil && !isSilent(err) {
		e.WriteString("rootaudit: " + err.Error() + "\n")
	}
	return o.String(), e.String(), exitCode(err)
}

func isSilent(err error) bool { return err == errSilent }

// trail is one generated org trail shared by the tests of this package.
type trail struct {
	dir   string
	truth *fixtures.Truth
}

var (
	trailOnce sync.Once
	shared    trail
	trailErr  error
)

// genTrail generates (once) a small org trail with every planted scenario.
func genTrail(t testing.TB) trail {
	t.Helper()
	trailOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rootaudit-trail-")
		if err != nil {
			trailErr = err
			return
		}
		tr, err := fixtures.Generate(context.Background(), dir, fixtures.Config{Seed: 7, TargetBytes: 1 << 20})
		shared, trailErr = trail{dir, tr}, err
	})
	if trailErr != nil {
		t.Fatal(trailErr)
	}
	return shared
}

func TestMain(m *testing.M) {
	code := m.Run()
	// The shared trails outlive every test that uses them.
	for _, dir := range []string{shared.dir, bigDir} {
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	os.Exit(code)
}

// ingested returns a fresh database holding the shared trail.
func ingested(t testing.TB) (trail, string) {
	t.Helper()
	tr := genTrail(t)
	db := filepath.Join(t.TempDir(), "t.duckdb")
	_, stderr, code := runCLI(t, "ingest", "--db", db, "--all", "-q", tr.dir)
	if code != 0 {
		t.Fatalf("ingest exit %d: %s", code, stderr)
	}
	return tr, db
}

// jsonEqual compares two values by their JSON encodings.
func jsonEqual(t testing.TB, what string, got []byte, want any) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: output is not JSON: %v\n%s", what, err, got)
	}
	wb, _ := json.Marshal(want)
	json.Unmarshal(wb, &w)
	if !reflect.DeepEqual(g, w) {
		gi, _ := json.MarshalIndent(g, "", " ")
		wi, _ := json.MarshalIndent(w, "", " ")
		t.Fatalf("%s differs from the generator's truth\n got: %s\nwant: %s", what, gi, wi)
	}
}

// byAccount re-sorts an inventory document by account ID (the CLI sorts
// worst verdict first; the truth file by account).
func byAccount(t testing.TB, out string) []byte {
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("inventory output is not JSON: %v", err)
	}
	accts := doc["accounts"].([]any)
	sort.Slice(accts, func(i, j int) bool {
		return accts[i].(map[string]any)["account_id"].(string) < accts[j].(map[string]any)["account_id"].(string)
	})
	b, _ := json.Marshal(doc)
	return b
}

func TestInventoryMatchesTruth(t *testing.T) {
	tr, db := ingested(t)
	out, stderr, code := runCLI(t, "inventory", "--db", db, "--since", tr.truth.Since, "--until", tr.truth.Until, "--format", "json")
	if code != 0 {
		t.Fatalf("inventory exit %d: %s", code, stderr)
	}
	jsonEqual(t, "inventory", byAccount(t, out), tr.truth.Inventory)

	out, stderr, code = runCLI(t, "inventory", "--db", db, "--since", tr.truth.Since, "--until", tr.truth.Until, "--format", "json",
		"--accounts", filepath.Join(tr.dir, "accounts.json"))
	if code != 0 {
		t.Fatalf("inventory --accounts exit %d: %s", code, stderr)
	}
	jsonEqual(t, "inventory --accounts", byAccount(t, out), tr.truth.InventoryWithAccounts)
}

func TestSessionsMatchTruth(t *testing.T) {
	tr, db := ingested(t)
	out, stderr, code := runCLI(t, "sessions", "--db", db, "--since", tr.truth.Since, "--until", tr.truth.Until, "--format", "json",
		"--accounts", filepath.Join(tr.dir, "accounts.json"), "--approvers", filepath.Join(tr.dir, "approvers.txt"))
	if code != 0 {
		t.Fatalf("sessions exit %d: %s", code, stderr)
	}
	jsonEqual(t, "sessions", []byte(out), map[string]any{"sessions": tr.truth.Sessions})
	// Every finding kind is planted, so each must appear.
	seen := map[string]bool{}
	for _, s := range tr.truth.Sessions {
		for _, f := range s.Findings {
			seen[f] = true
		}
	}
	for _, f := range []string{query.FindingAssumeFailed, query.FindingNoActions, query.FindingDeniedAction, query.FindingOutsideTask,
		query.FindingAfterExpiry, query.FindingUnapprovedIssuer, query.FindingTargetNotInOrg} {
		if !seen[f] {
			t.Errorf("finding %s is not planted in the generated trail", f)
		}
	}
}

// TestClassification asserts the rules of REFERENCE.md §5 that detectors
// get wrong, directly on the root_activity view.
func TestClassification(t *testing.T) {
	_, dbPath := ingested(t)
	db, err := sql.Open("duckdb", dbPath+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range []struct {
		where, class string
	}{
		{"invoked_by = 'signin.amazonaws.com' AND event_type <> 'AwsServiceEvent' AND event_source <> 'signin.amazonaws.com'", "console"},
		{"invoked_by = 'AWS Internal'", "console"},
		{"invoked_by = 'glue.amazonaws.com'", "service-on-behalf"},
		{"event_type = 'AwsServiceEvent'", "service-event"},
		{"access_key_id IN (SELECT access_key_id FROM assume_root_calls WHERE status = 'issued')", "privileged-session"},
		{"access_key_id LIKE 'AKIA%'", "long-term-key"},
	} {
		var n int
		var classes string
		err := db.QueryRow(`SELECT count(*), coalesce(string_agg(DISTINCT class, ','), '') FROM root_activity WHERE `+c.where).Scan(&n, &classes)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 || classes != c.class {
			t.Errorf("%s: %d events in classes %q, want >0 all %q", c.where, n, classes, c.class)
		}
	}
}

func TestCredentialEventsAndSwitchesMatchTruth(t *testing.T) {
	tr, dbPath := ingested(t)
	db, err := query.Open(context.Background(), dbPath, true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT account_id, strftime(event_time, '%Y-%m-%dT%H:%M:%SZ'), event_name, task_policy, kind
		FROM credential_events WHERE task_policy IS NOT NULL ORDER BY 2, 1, 3`)
	if err != nil {
		t.Fatal(err)
	}
	var got []fixtures.CredentialEvent
	for rows.Next() {
		var e fixtures.CredentialEvent
		rows.Scan(&e.AccountID, &e.EventTime, &e.EventName, &e.TaskPolicy, &e.Kind)
		got = append(got, e)
	}
	rows.Close()
	want := append([]fixtures.CredentialEvent(nil), tr.truth.CredentialEvents...)
	sort.Slice(want, func(i, j int) bool {
		a, b := want[i], want[j]
		if a.EventTime != b.EventTime {
			return a.EventTime < b.EventTime
		}
		if a.AccountID != b.AccountID {
			return a.AccountID < b.AccountID
		}
		return a.EventName < b.EventName
	})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("credential events:\n got %+v\nwant %+v", got, want)
	}
	sw, err := db.OrgSwitches(context.Background(), mustTime(t, tr.truth.Until))
	if err != nil {
		t.Fatal(err)
	}
	if len(sw) != len(tr.truth.OrgSwitches) {
		t.Fatalf("org switches: got %d, want %d", len(sw), len(tr.truth.OrgSwitches))
	}
	for i, s := range tr.truth.OrgSwitches {
		if sw[i].EventName != s.EventName || sw[i].EventTime.Format("2006-01-02T15:04:05Z") != s.EventTime || sw[i].AccountID != s.AccountID {
			t.Errorf("org switch %d: got %+v, want %+v", i, sw[i], s)
		}
	}
}
