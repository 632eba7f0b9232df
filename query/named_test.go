package query

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Accounts of the planted data.
const (
	acctConsole = "111111111111" // human root: console sign-ins
	acctKeys    = "222222222222" // long-term root access keys
	acctTarget  = "333333333333" // AssumeRoot target
	acctMgmt    = "999999999999" // issues AssumeRoot
	injection   = "1' OR '1'='1"
)

// plantedEvent is one planted events row; unset fields are NULL.
type plantedEvent struct {
	id, at, source, name, etype, acct, idType, idARN, key, invokedBy, ip, errCode, errMsg, login string
	mfa                                                                                          *bool
	target, taskPolicy, issuedKey, raw                                                           string
}

func refOf[T any](v T) *T { return &v }

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// plantEvents inserts rows into events directly, as the loader would have
// stored them.
func plantEvents(t testing.TB, db *DB, evs ...plantedEvent) {
	t.Helper()
	for _, e := range evs {
		if e.etype == "" {
			e.etype = "AwsApiCall"
		}
		if e.raw == "" {
			e.raw = "{}"
		}
		if e.idType == "" {
			e.idType = "Root"
		}
		if e.idARN == "" && e.idType == "Root" {
			e.idARN = "arn:aws:iam::" + e.acct + ":root"
		}
		var mfa any
		if e.mfa != nil {
			mfa = *e.mfa
		}
		_, err := db.ExecContext(context.Background(), `INSERT INTO events (event_id, event_time, event_source, event_name, event_type,
			aws_region, recipient_account_id, identity_type, identity_arn, identity_account_id, access_key_id, invoked_by, source_ip,
			user_agent, error_code, error_message, login_result, mfa_used, target_account, task_policy_arn, issued_key_id,
			source_kind, source_file, raw)
			VALUES (?, CAST(? AS TIMESTAMP), ?, ?, ?, 'us-east-1', ?, ?, ?, ?, ?, ?, ?, 'test-agent', ?, ?, ?, ?, ?, ?, ?, 'trail', 'planted', ?)`,
			e.id, e.at, e.source, e.name, e.etype, e.acct, e.idType, nullable(e.idARN), e.acct, nullable(e.key), nullable(e.invokedBy),
			nullable(e.ip), nullable(e.errCode), nullable(e.errMsg), nullable(e.login), mfa, nullable(e.target), nullable(e.taskPolicy),
			nullable(e.issuedKey), e.raw)
		if err != nil {
			t.Fatalf("plant %s: %v", e.id, err)
		}
	}
}

// plantFile inserts one ingested_files row.
func plantFile(t testing.TB, db *DB, source, acct, day, status string) {
	t.Helper()
	_, err := db.ExecContext(context.Background(), `INSERT INTO ingested_files (source, kind, account_id, delivery_day, status, ingested_at)
		VALUES (?, 'log', ?, CAST(? AS DATE), ?, TIMESTAMP '2026-06-01 00:00:00')`, source, acct, day, status)
	if err != nil {
		t.Fatal(err)
	}
}

const issuerARN = "arn:aws:sts::999999999999:assumed-role/OrgRootAdmin/alice"

// plantedDB returns a database (closed again, at path) holding one event of
// every shape the named queries look for.
func plantedDB(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "planted.duckdb")
	db, err := Open(context.Background(), path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	signin := "signin.amazonaws.com"
	plantEvents(t, db,
		// Console account: sign-ins with and without MFA, from two IPs.
		plantedEvent{id: "signin-nomfa", at: "2026-02-01 10:00:00", source: signin, name: "ConsoleLogin", etype: "AwsConsoleSignIn", acct: acctConsole, ip: "198.51.100.1", login: "Success", mfa: refOf(false)},
		plantedEvent{id: "console-mfa-create", at: "2026-02-01 10:05:00", source: "iam.amazonaws.com", name: "CreateVirtualMFADevice", acct: acctConsole, key: "ASIACONSOLE1", ip: "198.51.100.1"},
		plantedEvent{id: "signin-mfa", at: "2026-02-05 09:00:00", source: signin, name: "ConsoleLogin", etype: "AwsConsoleSignIn", acct: acctConsole, ip: "198.51.100.1", login: "Success", mfa: refOf(true)},
		plantedEvent{id: "signin-nomfa-null", at: "2026-03-01 08:00:00", source: signin, name: "ConsoleLogin", etype: "AwsConsoleSignIn", acct: acctConsole, ip: "203.0.113.9", login: "Success"},
		plantedEvent{id: "signin-failed", at: "2026-03-02 08:00:00", source: signin, name: "ConsoleLogin", etype: "AwsConsoleSignIn", acct: acctConsole, ip: "192.0.2.99", login: "Failure"},
		plantedEvent{id: "console-denied", at: "2026-03-01 08:10:00", source: "s3.amazonaws.com", name: "DeleteBucket", acct: acctConsole, key: "ASIACONSOLE2", ip: "203.0.113.9", errCode: "AccessDenied"},
		plantedEvent{id: "console-nosuch", at: "2026-03-01 08:11:00", source: "iam.amazonaws.com", name: "GetLoginProfile", acct: acctConsole, key: "ASIACONSOLE2", ip: "203.0.113.9", errCode: "NoSuchEntityException"},
		plantedEvent{id: "service-glue", at: "2026-02-15 00:00:00", source: "ec2.amazonaws.com", name: "DescribeSubnets", acct: acctConsole, invokedBy: "glue.amazonaws.com", ip: "glue.amazonaws.com"},
		// Access-key account: two long-term keys, one deleted later.
		plantedEvent{id: "key1-a", at: "2026-02-10 12:00:00", source: "sts.amazonaws.com", name: "GetCallerIdentity", acct: acctKeys, key: "AKIAKEY1", ip: "192.0.2.10"},
		plantedEvent{id: "key1-denied", at: "2026-02-11 12:00:00", source: "ec2.amazonaws.com", name: "RunInstances", acct: acctKeys, key: "AKIAKEY1", ip: "192.0.2.10", errCode: "Client.UnauthorizedOperation"},
		plantedEvent{id: "key2-a", at: "2026-04-01 12:00:00", source: "s3.amazonaws.com", name: "ListBuckets", acct: acctKeys, key: "AKIAKEY2", ip: "192.0.2.20"},
		plantedEvent{id: "key1-deleted", at: "2026-04-02 12:00:00", source: "iam.amazonaws.com", name: "DeleteAccessKey", acct: acctKeys, key: "ASIACONSOLE3", ip: "192.0.2.20",
			raw: `{"requestParameters":{"accessKeyId":"AKIAKEY1"}}`},
		// An event whose key is the injection string itself.
		plantedEvent{id: "injection-key", at: "2026-04-03 12:00:00", source: "s3.amazonaws.com", name: "ListBuckets", acct: acctKeys, key: injection, ip: "192.0.2.30"},
		// A privileged session in the target account, and a refused AssumeRoot.
		plantedEvent{id: "assume-ok", at: "2026-02-20 12:00:00", source: "sts.amazonaws.com", name: "AssumeRoot", acct: acctMgmt, idType: "AssumedRole", idARN: issuerARN,
			target: acctTarget, taskPolicy: "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials", issuedKey: "ASIASESS1", ip: "10.0.0.1"},
		plantedEvent{id: "session-get", at: "2026-02-20 12:01:00", source: "iam.amazonaws.com", name: "GetLoginProfile", acct: acctTarget, key: "ASIASESS1", ip: "10.0.0.1"},
		plantedEvent{id: "session-denied", at: "2026-02-20 12:02:00", source: "iam.amazonaws.com", name: "CreateUser", acct: acctTarget, key: "ASIASESS1", ip: "10.0.0.1", errCode: "AccessDenied"},
		plantedEvent{id: "assume-denied", at: "2026-02-21 12:00:00", source: "sts.amazonaws.com", name: "AssumeRoot", acct: acctMgmt, idType: "AssumedRole", idARN: issuerARN,
			target: acctTarget, taskPolicy: "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials", ip: "10.0.0.1", errCode: "AccessDenied"},
	)
	plantFile(t, db, "f1", acctConsole, "2026-02-01", "ok")
	plantFile(t, db, "f2", acctConsole, "2026-02-02", "ok")
	plantFile(t, db, "f3", acctConsole, "2026-02-03", "ok")
	plantFile(t, db, "f4", acctKeys, "2026-02-02", "ok")
	plantFile(t, db, "f5", acctKeys, "2026-02-03", "failed")
	return path
}

// openAdHoc opens path read-only and sandboxed, as `rootaudit sql` does.
func openAdHoc(t testing.TB, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.PrepareAdHoc(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	return db
}

// resultColumn returns the values of one column of res, by name.
func resultColumn(t testing.TB, res *Result, name string) []any {
	t.Helper()
	for i, c := range res.Columns {
		if c == name {
			out := make([]any, 0, len(res.Rows))
			for _, r := range res.Rows {
				out = append(out, r[i])
			}
			return out
		}
	}
	t.Fatalf("no column %s in %v", name, res.Columns)
	return nil
}

func anyStrings(vals ...string) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = v
	}
	return out
}

var window2026 = map[string]string{"since": "2026-01-01", "until": "2027-01-01"}

func runNamed(t testing.TB, db *DB, name string, params map[string]string) *Result {
	t.Helper()
	res, err := db.RunNamed(context.Background(), name, params)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

func TestNamedQueryHeaders(t *testing.T) {
	qs := NamedQueries()
	if len(qs) < 10 {
		t.Fatalf("%d named queries, want at least 10", len(qs))
	}
	ref := regexp.MustCompile(`\$([a-z_][a-z0-9_]*)`)
	for _, q := range qs {
		body := stripComments(q.SQL)
		used := map[string]bool{}
		for _, m := range ref.FindAllStringSubmatch(body, -1) {
			used[m[1]] = true
		}
		declared := map[string]bool{}
		for _, p := range q.Params {
			declared[p.Name] = true
			if !used[p.Name] {
				t.Errorf("%s: parameter %s is declared but the query never uses $%s", q.Name, p.Name, p.Name)
			}
			if p.Description == "" {
				t.Errorf("%s: parameter %s has no description", q.Name, p.Name)
			}
		}
		for u := range used {
			if !declared[u] && u != "" {
				t.Errorf("%s: the query uses $%s, which the header does not declare", q.Name, u)
			}
		}
		if strings.Contains(body, "now()") || strings.Contains(body, "current_timestamp") {
			t.Errorf("%s: uses the database clock; take the time as a parameter", q.Name)
		}
	}
}

// stripComments drops -- comments, and string literals that could hold a
// $ (JSON paths), leaving the SQL that references parameters.
func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		b.WriteString(regexp.MustCompile(`'[^']*'`).ReplaceAllString(line, "''") + "\n")
	}
	return b.String()
}

func TestParseNamedRejects(t *testing.T) {
	for _, src := range []string{
		"-- name: other\n-- description: d\nSELECT 1", // name differs from file
		"-- name: x\nSELECT 1",                        // no description
		"-- name: x\n-- description: d\n-- param: a WHATEVER default 1 -- a\nSELECT $a",                        // type
		"-- name: x\n-- description: d\n-- param: a INTEGER default zz -- a\nSELECT $a",                        // default not of the type
		"-- name: x\n-- description: d\n-- param: a INTEGER -- a\nSELECT $a",                                   // neither default nor required
		"-- name: x\n-- description: d\n-- param: a INTEGER required\n-- param: a INTEGER required\nSELECT $a", // twice
	} {
		if _, err := parseNamed("x", src); err == nil {
			t.Errorf("parseNamed accepted %q", src)
		}
	}
	q, err := parseNamed("x", "-- name: x\n-- description: d\n-- param: a VARCHAR default '' -- text\n-- param: b TIMESTAMP required -- when\nSELECT $a, $b")
	if err != nil {
		t.Fatal(err)
	}
	want := []Param{{Name: "a", Type: "VARCHAR", Default: refOf("''"), Description: "text"}, {Name: "b", Type: "TIMESTAMP", Description: "when"}}
	if !reflect.DeepEqual(q.Params, want) {
		t.Fatalf("params %+v, want %+v", q.Params, want)
	}
}

// TestEveryNamedQueryRuns runs each named query with its defaults (and a
// value for each required parameter) on the planted data.
func TestEveryNamedQueryRuns(t *testing.T) {
	db := openAdHoc(t, plantedDB(t))
	required := map[string]string{"key": "AKIAKEY1", "at": "2026-02-20T12:00:00Z"}
	for _, q := range NamedQueries() {
		params := map[string]string{}
		for _, p := range q.Params {
			if p.Required() {
				v, ok := required[p.Name]
				if !ok {
					t.Fatalf("%s: add a test value for required parameter %s", q.Name, p.Name)
				}
				params[p.Name] = v
			}
		}
		res, err := db.RunNamed(context.Background(), q.Name, params)
		if err != nil {
			t.Errorf("%s: %v", q.Name, err)
			continue
		}
		if len(res.Columns) == 0 {
			t.Errorf("%s: no columns", q.Name)
		}
	}
}

func TestRootSigninsWithoutMFA(t *testing.T) {
	db := openAdHoc(t, plantedDB(t))
	res := runNamed(t, db, "root-signins-without-mfa", window2026)
	if got, want := resultColumn(t, res, "event_id"), anyStrings("signin-nomfa-null", "signin-nomfa"); !reflect.DeepEqual(got, want) {
		t.Fatalf("event_id %v, want %v", got, want)
	}
	if got := resultColumn(t, res, "event_time")[0]; got != time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC) {
		t.Fatalf("event_time %v (%T), want 2026-03-01T08:00:00Z", got, got)
	}
	// The window and the account filter.
	res = runNamed(t, db, "root-signins-without-mfa", map[string]string{"since": "2026-02-01T10:00:01Z", "until": "2027-01-01"})
	if got := resultColumn(t, res, "event_id"); !reflect.DeepEqual(got, anyStrings("signin-nomfa-null")) {
		t.Fatalf("since 10:00:01: %v", got)
	}
	res = runNamed(t, db, "root-signins-without-mfa", map[string]string{"since": "2026-01-01", "account": acctKeys})
	if len(res.Rows) != 0 {
		t.Fatalf("account %s: %v", acctKeys, res.Rows)
	}
}

func TestRootSigninsFromNewIPs(t *testing.T) {
	db := openAdHoc(t, plantedDB(t))
	res := runNamed(t, db, "root-signins-from-new-ips", window2026)
	if got, want := resultColumn(t, res, "event_id"), anyStrings("signin-failed", "signin-nomfa-null", "signin-nomfa"); !reflect.DeepEqual(got, want) {
		t.Fatalf("event_id %v, want %v", got, want)
	}
	if got, want := resultColumn(t, res, "ips_seen_before"), []any{int64(2), int64(1), int64(0)}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ips_seen_before %v, want %v", got, want)
	}
}

func TestRootAccessKeysInUse(t *testing.T) {
	db := openAdHoc(t, plantedDB(t))
	res := runNamed(t, db, "root-access-keys-in-use", window2026)
	if got, want := resultColumn(t, res, "access_key_id"), anyStrings("AKIAKEY2", "AKIAKEY1"); !reflect.DeepEqual(got, want) {
		t.Fatalf("keys %v, want %v", got, want)
	}
	if got, want := resultColumn(t, res, "calls"), []any{int64(1), int64(2)}; !reflect.DeepEqual(got, want) {
		t.Fatalf("calls %v, want %v", got, want)
	}
	if got, want := resultColumn(t, res, "failed_calls"), []any{int64(0), int64(1)}; !reflect.DeepEqual(got, want) {
		t.Fatalf("failed_calls %v, want %v", got, want)
	}
	deleted := resultColumn(t, res, "deleted_at")
	if deleted[0] != nil || deleted[1] != time.Date(2026, 4, 2, 12, 0, 0, 0, time.UTC) {
		t.Fatalf("deleted_at %v", deleted)
	}
	if got := resultColumn(t, res, "source_ips")[1]; !reflect.DeepEqual(got, []any{"192.0.2.10"}) {
		t.Fatalf("source_ips %#v", got)
	}
	// A window that ends before key 2 was used; last_used_ever still sees it.
	res = runNamed(t, db, "root-access-keys-in-use", map[string]string{"since": "2026-01-01", "until": "2026-03-01"})
	if got := resultColumn(t, res, "access_key_id"); !reflect.DeepEqual(got, anyStrings("AKIAKEY1")) {
		t.Fatalf("keys before March %v", got)
	}
	if got := resultColumn(t, res, "last_used_ever")[0]; got != time.Date(2026, 2, 11, 12, 0, 0, 0, time.UTC) {
		t.Fatalf("last_used_ever %v", got)
	}
}

func TestDeniedActions(t *testing.T) {
	db := openAdHoc(t, plantedDB(t))
	res := runNamed(t, db, "denied-actions", window2026)
	if got, want := resultColumn(t, res, "event_id"), anyStrings("console-denied", "assume-denied", "session-denied", "key1-denied"); !reflect.DeepEqual(got, want) {
		t.Fatalf("event_id %v, want %v", got, want)
	}
	if got, want := resultColumn(t, res, "kind"), anyStrings("console", "assume-root", "privileged-session", "long-term-key"); !reflect.DeepEqual(got, want) {
		t.Fatalf("kind %v, want %v", got, want)
	}
	if got := resultColumn(t, res, "account_id")[1]; got != acctTarget {
		t.Fatalf("a refused AssumeRoot is listed under its target account, got %v", got)
	}
	res = runNamed(t, db, "denied-actions", map[string]string{"since": "2026-01-01", "account": acctTarget})
	if got := resultColumn(t, res, "event_id"); !reflect.DeepEqual(got, anyStrings("assume-denied", "session-denied")) {
		t.Fatalf("account filter: %v", got)
	}
}

func TestEventsByAccessKey(t *testing.T) {
	db := openAdHoc(t, plantedDB(t))
	res := runNamed(t, db, "events-by-access-key", map[string]string{"key": "AKIAKEY1"})
	if got, want := resultColumn(t, res, "event_id"), anyStrings("key1-a", "key1-denied", "key1-deleted"); !reflect.DeepEqual(got, want) {
		t.Fatalf("AKIAKEY1: %v, want %v", got, want)
	}
	if got, want := resultColumn(t, res, "relation"), anyStrings("used", "used", "named"); !reflect.DeepEqual(got, want) {
		t.Fatalf("relation %v, want %v", got, want)
	}
	res = runNamed(t, db, "events-by-access-key", map[string]string{"key": "ASIASESS1"})
	if got, want := resultColumn(t, res, "relation"), anyStrings("issued", "used", "used"); !reflect.DeepEqual(got, want) {
		t.Fatalf("ASIASESS1 relation %v, want %v", got, want)
	}
	res = runNamed(t, db, "events-by-access-key", map[string]string{"key": "AKIAKEY1", "since": "2026-02-11", "until": "2026-04-01"})
	if got := resultColumn(t, res, "event_id"); !reflect.DeepEqual(got, anyStrings("key1-denied")) {
		t.Fatalf("window: %v", got)
	}
}

// TestParamsAreBound passes SQL as parameter values: they are compared as
// text, never run.
func TestParamsAreBound(t *testing.T) {
	db := openAdHoc(t, plantedDB(t))
	res := runNamed(t, db, "events-by-access-key", map[string]string{"key": injection})
	if got := resultColumn(t, res, "event_id"); !reflect.DeepEqual(got, anyStrings("injection-key")) {
		t.Fatalf("key %q matched %v, want only the event whose key is that very text", injection, got)
	}
	for _, v := range []string{injection, "' OR 1=1 --", "x'; DROP TABLE events; --", `"`, "$account"} {
		res := runNamed(t, db, "root-signins-without-mfa", map[string]string{"since": "2026-01-01", "account": v})
		if len(res.Rows) != 0 {
			t.Fatalf("account %q returned %d rows", v, len(res.Rows))
		}
		res = runNamed(t, db, "events-by-access-key", map[string]string{"key": v + "x"})
		if len(res.Rows) != 0 {
			t.Fatalf("key %q returned %d rows", v+"x", len(res.Rows))
		}
	}
	if _, err := db.RunNamed(context.Background(), "root-signins-without-mfa", map[string]string{"since": injection}); !errors.Is(err, ErrBadParam) {
		t.Fatalf("since %q: %v, want ErrBadParam", injection, err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM events`).Scan(&n); err != nil || n == 0 {
		t.Fatalf("events after the attempts: %d, %v", n, err)
	}
}

func TestRunNamedErrors(t *testing.T) {
	db := openAdHoc(t, plantedDB(t))
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		params map[string]string
		want   error
	}{
		{"no-such-query", nil, ErrUnknownQuery},
		{"root-signins-without-mfa", map[string]string{"nope": "1"}, ErrBadParam},
		{"root-signins-without-mfa", map[string]string{"since": "yesterday-ish"}, ErrBadParam},
		{"events-by-access-key", nil, ErrBadParam},                                                        // key is required
		{"activity-around", map[string]string{"at": "2026-02-20", "minutes": "ten"}, ErrBadParam},         // not an INTEGER
		{"activity-around", map[string]string{"at": "2026-02-20", "minutes": "99999999999"}, ErrBadParam}, // INTEGER range
	} {
		if _, err := db.RunNamed(ctx, c.name, c.params); !errors.Is(err, c.want) {
			t.Errorf("%s %v: %v, want %v", c.name, c.params, err, c.want)
		}
	}
}

func TestActivityAround(t *testing.T) {
	db := openAdHoc(t, plantedDB(t))
	res := runNamed(t, db, "activity-around", map[string]string{"at": "2026-02-20T12:01:00Z", "minutes": "1"})
	if got, want := resultColumn(t, res, "event_id"), anyStrings("assume-ok", "session-get", "session-denied"); !reflect.DeepEqual(got, want) {
		t.Fatalf("event_id %v, want %v", got, want)
	}
	if got, want := resultColumn(t, res, "kind"), anyStrings("assume-root", "privileged-session", "privileged-session"); !reflect.DeepEqual(got, want) {
		t.Fatalf("kind %v, want %v", got, want)
	}
	// An offset is honoured: 14:01+02:00 is 12:01 UTC.
	res = runNamed(t, db, "activity-around", map[string]string{"at": "2026-02-20T14:01:00+02:00", "minutes": "0"})
	if got := resultColumn(t, res, "event_id"); !reflect.DeepEqual(got, anyStrings("session-get")) {
		t.Fatalf("offset: %v", got)
	}
}

func TestRootCredentialChanges(t *testing.T) {
	db := openAdHoc(t, plantedDB(t))
	res := runNamed(t, db, "root-credential-changes", window2026)
	if got, want := resultColumn(t, res, "event_id"), anyStrings("key1-deleted", "console-mfa-create"); !reflect.DeepEqual(got, want) {
		t.Fatalf("event_id %v, want %v", got, want)
	}
	if got, want := resultColumn(t, res, "credential"), anyStrings("access-key", "mfa"); !reflect.DeepEqual(got, want) {
		t.Fatalf("credential %v, want %v", got, want)
	}
}

func TestSessionsByIssuer(t *testing.T) {
	db := openAdHoc(t, plantedDB(t))
	res := runNamed(t, db, "sessions-by-issuer", window2026)
	if len(res.Rows) != 1 {
		t.Fatalf("rows %v", res.Rows)
	}
	for col, want := range map[string]any{"issuer_arn": issuerARN, "calls": int64(2), "issued": int64(1), "failed": int64(1),
		"actions": int64(2), "denied_actions": int64(1), "outside_task": int64(1)} {
		got := resultColumn(t, res, col)[0]
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", col, got, want)
		}
	}
}

func TestServicesActingAsRoot(t *testing.T) {
	db := openAdHoc(t, plantedDB(t))
	res := runNamed(t, db, "services-acting-as-root", window2026)
	if got := resultColumn(t, res, "service"); !reflect.DeepEqual(got, anyStrings("glue.amazonaws.com")) {
		t.Fatalf("service %v", got)
	}
}

func TestRootUseFirstLast(t *testing.T) {
	db := openAdHoc(t, plantedDB(t))
	res := runNamed(t, db, "root-use-first-last", nil)
	if got, want := resultColumn(t, res, "account_id"), anyStrings(acctKeys, acctConsole, acctTarget); !reflect.DeepEqual(got, want) {
		t.Fatalf("accounts %v, want %v", got, want)
	}
	if got := resultColumn(t, res, "first_human_use")[1]; got != time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC) {
		t.Fatalf("first human use of %s: %v", acctConsole, got)
	}
	if got := resultColumn(t, res, "last_human_use")[2]; got != nil {
		t.Fatalf("the session-only account has human use %v", got)
	}
}

func TestAccountsWithoutCoverage(t *testing.T) {
	db := openAdHoc(t, plantedDB(t))
	res := runNamed(t, db, "accounts-without-coverage", map[string]string{"since": "2026-02-01", "until": "2026-02-04"})
	if got, want := resultColumn(t, res, "account_id"), anyStrings(acctTarget, acctMgmt, acctKeys); !reflect.DeepEqual(got, want) {
		t.Fatalf("accounts %v, want %v (the fully covered %s must not appear)", got, want, acctConsole)
	}
	if got, want := resultColumn(t, res, "days_with_logs"), []any{int64(0), int64(0), int64(1)}; !reflect.DeepEqual(got, want) {
		t.Fatalf("days_with_logs %v, want %v", got, want)
	}
	if got := resultColumn(t, res, "window_days")[0]; got != int64(3) {
		t.Fatalf("window_days %v", got)
	}
	if got := resultColumn(t, res, "failed_files")[2]; got != int64(1) {
		t.Fatalf("failed_files %v", got)
	}
}

// TestAdHocIsReadOnly checks that the sandbox refuses writes, file and
// network access and configuration changes, and still answers queries.
func TestAdHocIsReadOnly(t *testing.T) {
	db := openAdHoc(t, plantedDB(t))
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "x.csv")
	for _, c := range []struct {
		stmt string
		want error
	}{
		{"INSERT INTO events (event_id) VALUES ('x')", ErrReadOnly},
		{"DELETE FROM events", ErrReadOnly},
		{"DROP VIEW root_activity", ErrReadOnly},
		{"CREATE TABLE t (x INTEGER)", ErrReadOnly},
		{"SET enable_external_access = true", ErrReadOnly},
		{"SET temp_directory = '/tmp/elsewhere'", ErrReadOnly},
		{"COPY events TO '" + out + "'", ErrExternalAccess},
		{"COPY (SELECT 1) TO '" + out + "' (FORMAT csv)", ErrExternalAccess},
		{"SELECT * FROM read_csv('/etc/passwd')", ErrExternalAccess},
		{"SELECT * FROM read_json('/etc/passwd')", ErrExternalAccess},
		{"SELECT * FROM read_parquet('/etc/passwd')", ErrExternalAccess},
		{"SELECT * FROM read_text('/etc/passwd')", ErrExternalAccess},
		{"SELECT * FROM glob('/etc/*')", ErrExternalAccess},
		{"SELECT * FROM read_csv('https://example.com/x.csv')", ErrExternalAccess},
		{"ATTACH '" + filepath.Join(t.TempDir(), "other.duckdb") + "' AS other", ErrExternalAccess},
		{"INSTALL httpfs", ErrExternalAccess},
		{"LOAD httpfs", ErrExternalAccess},
		{"EXPORT DATABASE '" + t.TempDir() + "'", ErrExternalAccess},
	} {
		_, err := db.RunSQL(ctx, c.stmt)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.stmt, err, c.want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("COPY wrote %s", out)
	}
	if _, err := db.RunSQL(ctx, "SELECT * FROM '/etc/passwd'"); err == nil {
		t.Fatal("a replacement scan of /etc/passwd succeeded")
	}
	// Reads, temporary tables and their persistence across statements work.
	for _, s := range []string{"CREATE TEMP TABLE scratch AS SELECT event_id FROM events", "SELECT count(*) FROM scratch"} {
		res, err := db.RunSQL(ctx, s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if strings.HasPrefix(s, "SELECT") && res.Rows[0][0] != int64(17) {
			t.Fatalf("%s: %v", s, res.Rows)
		}
	}
	res, err := db.RunSQL(ctx, "SELECT current_setting('TimeZone'), TIMESTAMPTZ '2026-01-01 00:00:00+02'::TIMESTAMP")
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows[0][0] != "UTC" || res.Rows[0][1] != time.Date(2025, 12, 31, 22, 0, 0, 0, time.UTC) {
		t.Fatalf("time zone: %v", res.Rows[0])
	}
}

// TestAdHocWrite checks that without the sandbox, on a database opened for
// writing, the same statements work.
func TestAdHocWrite(t *testing.T) {
	path := plantedDB(t)
	db, err := Open(context.Background(), path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.PrepareAdHoc(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "x.csv")
	for _, s := range []string{"CREATE TABLE notes (x INTEGER)", "INSERT INTO notes VALUES (1)", "COPY notes TO '" + out + "'"} {
		if _, err := db.RunSQL(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatal(err)
	}
}

func TestRunSQLValues(t *testing.T) {
	db := openAdHoc(t, plantedDB(t))
	res, err := db.RunSQL(context.Background(), `SELECT
		1::TINYINT AS i, 2::UBIGINT AS u, 1.5::FLOAT AS f, 'nan'::DOUBLE AS nan, 12.50::DECIMAL(10,2) AS d, 10::HUGEINT AS h,
		DATE '2026-01-02' AS dt, TIME '10:11:12' AS tm, TIMESTAMP '2026-01-02 03:04:05' AS ts,
		TIMESTAMPTZ '2026-01-02 03:04:05+01' AS tz, INTERVAL 3 DAY + INTERVAL 90 MINUTE AS iv,
		'5b6a4f2e-6b2c-4c41-9a53-d2b1a8c7e901'::UUID AS id, '\x01\xff'::BLOB AS b,
		['a', 'b'] AS l, {'k': 1, 't': TIMESTAMP '2026-01-01'} AS s, MAP {'x': 1} AS m, '{"a":[1,2]}'::JSON AS j, NULL AS n`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"i": int64(1), "u": uint64(2), "f": 1.5, "nan": "NaN", "d": json.Number("12.5"), "h": big.NewInt(10),
		"dt": "2026-01-02", "tm": "10:11:12", "ts": time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		"tz": time.Date(2026, 1, 2, 2, 4, 5, 0, time.UTC), "iv": "3 days 01:30:00",
		"id": "5b6a4f2e-6b2c-4c41-9a53-d2b1a8c7e901", "b": []byte{1, 0xff},
		"l": []any{"a", "b"}, "s": map[string]any{"k": int64(1), "t": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		"j": map[string]any{"a": []any{float64(1), float64(2)}}, "n": nil,
	}
	for i, c := range res.Columns {
		w, ok := want[c]
		if !ok {
			continue
		}
		if !reflect.DeepEqual(res.Rows[0][i], w) {
			t.Errorf("%s (%s) = %#v, want %#v", c, res.Types[i], res.Rows[0][i], w)
		}
	}
	if m, err := json.Marshal(resultColumn(t, res, "m")[0]); err != nil || string(m) != `{"x":1}` {
		t.Errorf("map: %s %v", m, err)
	}
}

func TestParseTimeParam(t *testing.T) {
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"now":                       now,
		"2026-01-31":                time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC),
		"2026-01-31T12:00:00Z":      time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC),
		"2026-01-31T12:00:00+02:00": time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC),
		"2026-01-31 12:00:00":       time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC),
		"365 days ago":              now.AddDate(0, 0, -365),
		"365d":                      now.AddDate(0, 0, -365),
		"12h":                       now.Add(-12 * time.Hour),
		"90 minutes ago":            now.Add(-90 * time.Minute),
		"1 day ago":                 now.AddDate(0, 0, -1),
	} {
		got, err := ParseTimeParam(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "yesterday", "2026-13-01", "-5d", injection, "99999999999 days ago"} {
		if _, err := ParseTimeParam(in, now); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestSplitStatements(t *testing.T) {
	for in, want := range map[string][]string{
		"":                                     {""},
		"SELECT 1":                             {"SELECT 1"},
		"SELECT 1; SELECT 2;":                  {"SELECT 1", " SELECT 2", ""},
		"SELECT 'a;b'; SELECT 2":               {"SELECT 'a;b'", " SELECT 2"},
		"SELECT 'it''s;'; x":                   {"SELECT 'it''s;'", " x"},
		`SELECT E'\';'; x`:                     {`SELECT E'\';'`, " x"},
		`SELECT '\'; x`:                        {`SELECT '\'`, " x"},
		`SELECT "a;""b"; x`:                    {`SELECT "a;""b"`, " x"},
		"SELECT 1 -- c;\n; x":                  {"SELECT 1 -- c;\n", " x"},
		"SELECT /* a; /* b; */ c; */ 1; x":     {"SELECT /* a; /* b; */ c; */ 1", " x"},
		"SELECT $$a;b$$; x":                    {"SELECT $$a;b$$", " x"},
		"SELECT $t$a;$$;b$t$; x":               {"SELECT $t$a;$$;b$t$", " x"},
		"SELECT $since; x":                     {"SELECT $since", " x"},
		"SELECT $1; x":                         {"SELECT $1", " x"},
		"SELECT 'unterminated; x":              {"SELECT 'unterminated; x"},
		"SELECT 1 /* unterminated; x":          {"SELECT 1 /* unterminated; x"},
		"SELECT json_extract(raw, '$.a;b'); x": {"SELECT json_extract(raw, '$.a;b')", " x"},
	} {
		if got := SplitStatements(in); !reflect.DeepEqual(got, want) {
			t.Errorf("SplitStatements(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]bool{"": true, " \n\t": true, "-- x\n/* y */ ": true, "/* open": true, "-- x\nSELECT 1": false, "x": false} {
		if got := BlankStatement(in); got != want {
			t.Errorf("BlankStatement(%q) = %v", in, got)
		}
	}
}

func FuzzSplitStatements(f *testing.F) {
	for _, s := range []string{"SELECT 1; SELECT 2", "SELECT 'a;b' -- c;\n; /* d; */ x", `E'\'' ; $$;$$ ; $t$;$t$; "a;b"`, "/* /* */ ; */ ;", "$", "'", "-", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		pieces := SplitStatements(src)
		if strings.Join(pieces, ";") != src {
			t.Fatalf("pieces %q do not join back to %q", pieces, src)
		}
		for i, p := range pieces[:len(pieces)-1] {
			// A complete statement holds no separator of its own.
			if again := SplitStatements(p); len(again) != 1 {
				t.Fatalf("piece %d %q splits again into %q", i, p, again)
			}
		}
		BlankStatement(src)
	})
}
