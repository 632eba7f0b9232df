package query

import (
	"context"
	"crypto/sha256"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/rootaudit/rootaudit/ingest"
)

var (
	//go:embed sql/evidence_activity.sql
	evidenceActivitySQL string
	//go:embed sql/evidence_sessions_monthly.sql
	evidenceSessionsMonthlySQL string
	//go:embed sql/evidence_human_events.sql
	evidenceHumanEventsSQL string
	//go:embed sql/evidence_session_details.sql
	evidenceSessionDetailsSQL string
	//go:embed sql/evidence_sources.sql
	evidenceSourcesSQL string
	//go:embed sql/evidence_runs.sql
	evidenceRunsSQL string
	//go:embed sql/evidence_fingerprint.sql
	evidenceFingerprintSQL string
	//go:embed sql/evidence_fingerprint_pages.sql
	evidenceFingerprintPagesSQL string
	//go:embed sql/evidence_views.sql
	evidenceViewsSQL string
)

// Account roles in an evidence pack.
const (
	RoleMember     = "member"      // a member account: the subject of the headline
	RoleManagement = "management"  // issued AssumeRoot calls or organization switches
	RoleOutsideOrg = "outside-org" // seen in the logs, not in the --accounts list
)

// EvidenceOptions selects what an evidence pack covers.
type EvidenceOptions struct {
	// Window is the period of the pack, [Since, Until) in UTC.
	Window
	// Org, when not nil, is the organization's account list: it names the
	// member accounts (accounts without any log file included).
	Org []ingest.OrgAccount
	// Approvers, when not nil, lists the issuer ARNs allowed to open
	// AssumeRoot sessions (finding unapproved-issuer for the others).
	Approvers []string
}

// QueryRun is one execution of an embedded SQL file: the exact text that
// ran, its parameters and the figures of the pack that come from it.
type QueryRun struct {
	// File is the path of the embedded file in the source tree, e.g.
	// query/sql/inventory.sql.
	File string `json:"file"`
	// SQL is the exact text executed.
	SQL string `json:"sql"`
	// Params are the values bound to $1, $2, …: timestamps in RFC 3339 UTC.
	Params []string `json:"params"`
	// Figures names what in the pack comes from this query.
	Figures string `json:"figures"`
}

// HumanEvent is one human root event of the window (classes sign-in,
// long-term-key and console), with the details an investigator needs. Every
// string field except Class comes from the log record and is
// attacker-influenced.
type HumanEvent struct {
	EventID          string
	EventTime        time.Time // UTC
	AccountID        string
	Class            string
	EventSource      string
	EventName        string
	Region           string
	LoginResult      string
	ErrorCode        string
	MFAUsed          *bool
	MFAAuthenticated *bool
	AccessKeyID      string
	SourceIP         string
	UserAgent        string
	// RequestParameters is the record's requestParameters as JSON text, ""
	// when absent or null.
	RequestParameters string
	SourceFile        string
}

// ActionDetail is the attacker-influenced detail of one session action,
// aligned with Session.Actions.
type ActionDetail struct {
	SourceIP          string
	UserAgent         string
	RequestParameters string // JSON text, "" when absent or null
}

// ActivityCount is the human root use of one account, class and time
// bucket: the data of the "human root activity over time" chart.
type ActivityCount struct {
	AccountID string
	// Bucket is the UTC start of the bucket (day, Monday of the week, or
	// first of the month: see Evidence.ActivityBucket).
	Bucket        time.Time
	Class         string
	Events        int64 // failed ConsoleLogins excluded
	FailedSignins int64
}

// SessionMonth is the number of AssumeRoot calls of one UTC month and task
// policy.
type SessionMonth struct {
	Month      time.Time // first of the month, UTC
	TaskPolicy string
	Issued     int64
	Failed     int64
}

// SourceCount is the number of objects of one kind and status the database
// has seen, all runs together.
type SourceCount struct {
	Kind    string `json:"kind"`
	Status  string `json:"status"`
	Objects int64  `json:"objects"`
	Bytes   int64  `json:"bytes"`
	Records int64  `json:"records"`
	Kept    int64  `json:"kept"`
}

// IngestRun is one `rootaudit ingest` run recorded in the database.
type IngestRun struct {
	RunID       int64      `json:"run_id"`
	StartedAt   *time.Time `json:"started_at"`
	FinishedAt  *time.Time `json:"finished_at"`
	Version     string     `json:"rootaudit_version"`
	Command     string     `json:"command"`
	Sources     string     `json:"sources"`
	WindowSince *time.Time `json:"window_since"`
	WindowUntil *time.Time `json:"window_until"`
	FilesListed *int64     `json:"files_listed"`
	FilesRead   *int64     `json:"files_read"`
	FilesFailed *int64     `json:"files_failed"`
	Records     *int64     `json:"records"`
	Kept        *int64     `json:"kept"`
	Status      string     `json:"status"`
}

// ViewDef is the definition of one view as stored in the database.
type ViewDef struct {
	Name string
	SQL  string
}

// EvidenceAccount is one account's line in the pack: verdict, credential
// state, sessions and log coverage.
type EvidenceAccount struct {
	AccountID string
	Name      *string
	Role      string // RoleMember, RoleManagement or RoleOutsideOrg
	// Inventory is the account's inventory row; accounts without one get
	// the verdict no-log-coverage and zero counts.
	Inventory InventoryAccount
	// Status is the account's credential state as of the end of the window;
	// accounts without one are not-removed.
	Status AccountStatus
	// Sessions counts the AssumeRoot calls of the window targeting the
	// account; SessionsWithFindings those with a finding other than
	// no-actions.
	Sessions             int
	SessionsWithFindings int
	// Coverage is nil when no log file of the account was ever read.
	Coverage *AccountCoverage
}

// HumanUse reports whether the account had human root use in the window
// (sign-ins, console calls or access-key calls; failed sign-ins alone are
// attempts, not use).
func (a EvidenceAccount) HumanUse() bool {
	return a.Inventory.Verdict == VerdictKeyUsed || a.Inventory.Verdict == VerdictRootUsed
}

// CredentialsPresent reports whether root credentials are presumed to exist
// at the end of the window: never removed, or re-created.
func (a EvidenceAccount) CredentialsPresent() bool {
	return a.Status.CredentialState != StateRemoved
}

// Headline is the statement at the top of an evidence pack and the
// coverage that qualifies it. Account lists are sorted account IDs.
type Headline struct {
	// Members are the member accounts the statement is about: the
	// --accounts list when given, else every account seen, minus the
	// management accounts.
	Members []string `json:"member_accounts"`
	// HumanUse (N): members with human root use in the window.
	HumanUse []string `json:"human_use"`
	// NotRemoved (M): members whose root credentials were not removed, or
	// were re-created, as of the end of the window.
	NotRemoved []string `json:"credentials_not_removed"`
	// UseAfterRemoval (K): members with human root use after the date
	// their credentials were removed, up to the end of the window.
	UseAfterRemoval []string `json:"human_use_after_removal"`
	// FailedSigninsOnly: members with failed root sign-ins and no use.
	FailedSigninsOnly []string `json:"failed_signins_only"`
	// Management accounts (not members) and those of them with human root
	// use in the window.
	Management         []string `json:"management_accounts"`
	ManagementHumanUse []string `json:"management_human_use"`
	// OutsideOrg are accounts seen in the logs (e.g. AssumeRoot targets)
	// that are not in the --accounts list.
	OutsideOrg []string `json:"outside_org"`

	// NoLogs are members without any log file on any day of the window.
	NoLogs []string `json:"no_logs"`
	// WithGaps are members with at least one day of the window without any
	// log file in any region (NoLogs included).
	WithGaps []string `json:"accounts_with_gaps"`
	// Days is the number of UTC days overlapping the window.
	Days int `json:"days"`
	// Streams (account + region pairs with log files), their days in the
	// window and the days without any log file.
	Streams       int `json:"streams"`
	StreamDays    int `json:"stream_days"`
	StreamGapDays int `json:"stream_gap_days"`
	// Files of the window that failed to read, that failed integrity
	// validation, digest chain gaps and other digest failures.
	FailedFiles       int64 `json:"failed_files"`
	IntegrityFailures int64 `json:"integrity_failures"`
	DigestChainGaps   int64 `json:"digest_chain_gaps"`
	DigestFailures    int64 `json:"digest_failures"`
	// Events are the kept events of the window; ValidatedEvents those whose
	// file was digest-validated. Likewise for human root events.
	Events               int64 `json:"events"`
	ValidatedEvents      int64 `json:"validated_events"`
	HumanEvents          int64 `json:"human_events"`
	ValidatedHumanEvents int64 `json:"validated_human_events"`
	// Validated is true when any log file of the database has an integrity
	// status other than not-validated (ingest ran with --validate).
	Validated bool `json:"validated"`
}

// Evidence is everything an evidence pack shows, with the SQL it came from.
type Evidence struct {
	Window     Window
	Org        []ingest.OrgAccount
	Inventory  *Inventory
	Status     *Status
	Sessions   []Session
	Management []string
	// SessionDetails holds, per session event ID, one ActionDetail per
	// entry of that session's Actions.
	SessionDetails map[string][]ActionDetail
	HumanEvents    []HumanEvent
	// ActivityBucket is the bucket of Activity: day, week or month.
	ActivityBucket  string
	Activity        []ActivityCount
	SessionsMonthly []SessionMonth
	Coverage        *Coverage
	Sources         []SourceCount
	Runs            []IngestRun
	// Fingerprint is the hex SHA-256 of the lines of
	// evidence_fingerprint.sql (each followed by "\n"); FingerprintRows is
	// their number.
	Fingerprint     string
	FingerprintRows int64
	SchemaVersion   int
	Views           []ViewDef
	Accounts        []EvidenceAccount
	Headline        Headline
	// Queries lists every query that ran, in order.
	Queries []QueryRun
}

// ActivityBucketFor chooses the bucket of the activity chart: days for a
// window of up to 92 days, weeks up to 731 days, months beyond.
func ActivityBucketFor(w Window) string {
	switch d := w.Until.Sub(w.Since); {
	case d <= 92*24*time.Hour:
		return "day"
	case d <= 731*24*time.Hour:
		return "week"
	}
	return "month"
}

// Evidence runs every query of an evidence pack for the window and
// assembles the result. The database should be open read-only so that all
// queries see the same content.
func (db *DB) Evidence(ctx context.Context, o EvidenceOptions) (*Evidence, error) {
	w := Window{Since: o.Since.UTC(), Until: o.Until.UTC()}
	ev := &Evidence{Window: w, Org: o.Org, SessionDetails: map[string][]ActionDetail{}, ActivityBucket: ActivityBucketFor(w)}
	since, until := rfc(w.Since), rfc(w.Until)
	record := func(file, text, figures string, params ...string) {
		if params == nil {
			params = []string{}
		}
		ev.Queries = append(ev.Queries, QueryRun{File: "query/sql/" + file, SQL: text, Params: params, Figures: figures})
	}
	var err error
	f := Filter{Window: w}

	if ev.SchemaVersion, err = db.SchemaVersion(ctx); err != nil {
		return nil, err
	}
	if ev.Inventory, err = db.Inventory(ctx, f, o.Org); err != nil {
		return nil, err
	}
	record("inventory.sql", inventorySQL, "headline N (human root use), per-account verdict and human root use counts, inventory.csv", since, until, "")
	if ev.Status, err = db.Status(ctx, w.Until, nil, o.Org); err != nil {
		return nil, err
	}
	record("status.sql", statusSQL, "headline M (credentials not removed) and K (human use after removal), per-account credential state and date", until, "")
	record("org_switches.sql", orgSwitchesSQL, "organization-level switches", until)
	if ev.Sessions, err = db.Sessions(ctx, SessionFilter{Filter: f, Approvers: o.Approvers, Org: o.Org}); err != nil {
		return nil, err
	}
	record("sessions.sql", sessionsSQL, "per-account sessions, the list of privileged sessions, sessions.csv", since, until, "", "")
	record("session_actions.sql", sessionActionsSQL, "each session's actions and findings", since, until, "", "")
	if err := db.sessionDetails(ctx, ev, f); err != nil {
		return nil, err
	}
	record("evidence_session_details.sql", evidenceSessionDetailsSQL, "source IP, user agent and request parameters of session actions", since, until, "", "")
	if ev.Management, err = db.ManagementAccounts(ctx); err != nil {
		return nil, err
	}
	record("management_accounts.sql", managementSQL, "management accounts (not member accounts)")
	if ev.Coverage, err = db.Coverage(ctx, f); err != nil {
		return nil, err
	}
	record("coverage.sql", coverageSQL, "coverage gaps next to the headline, per-account coverage, the coverage heatmap, coverage.csv", since, until, "", "", "")
	record("coverage_integrity.sql", coverageIntegritySQL, "share of events in digest-validated files", since, until, "")
	if err := db.activity(ctx, ev, f); err != nil {
		return nil, err
	}
	record("evidence_activity.sql", evidenceActivitySQL, "chart: human root activity over time per account", since, until, "", ev.ActivityBucket)
	if err := db.sessionsMonthly(ctx, ev, f); err != nil {
		return nil, err
	}
	record("evidence_sessions_monthly.sql", evidenceSessionsMonthlySQL, "chart: privileged sessions per month by task", since, until, "")
	if err := db.humanEvents(ctx, ev, f); err != nil {
		return nil, err
	}
	record("evidence_human_events.sql", evidenceHumanEventsSQL, "the list of human root events", since, until, "")
	if err := db.sources(ctx, ev); err != nil {
		return nil, err
	}
	record("evidence_sources.sql", evidenceSourcesSQL, "object counts (what was read)")
	record("evidence_runs.sql", evidenceRunsSQL, "ingest runs: source and window of what was read")
	if ev.Fingerprint, ev.FingerprintRows, err = db.Fingerprint(ctx); err != nil {
		return nil, err
	}
	record("evidence_fingerprint.sql", evidenceFingerprintSQL, "database fingerprint")
	if err := db.views(ctx, ev); err != nil {
		return nil, err
	}
	record("evidence_views.sql", evidenceViewsSQL, "view definitions (classification rule, sessions, credential timeline)")
	ev.Accounts, ev.Headline = buildAccounts(ev)
	return ev, nil
}

func (db *DB) sessionDetails(ctx context.Context, ev *Evidence, f Filter) error {
	rows, err := db.QueryContext(ctx, evidenceSessionDetailsSQL, f.Since, f.Until, "", "")
	if err != nil {
		return fmt.Errorf("session details query: %w", err)
	}
	defer rows.Close()
	type row struct {
		at   time.Time
		name string
		d    ActionDetail
	}
	got := map[string][]row{}
	for rows.Next() {
		var sid string
		var r row
		var name, ip, ua, params *string
		if err := rows.Scan(&sid, &r.at, &name, &ip, &ua, &params); err != nil {
			return fmt.Errorf("session details query: scan: %w", err)
		}
		r.name, r.d = deref(name), ActionDetail{SourceIP: deref(ip), UserAgent: deref(ua), RequestParameters: jsonText(params)}
		got[sid] = append(got[sid], r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("session details query: %w", err)
	}
	for _, s := range ev.Sessions {
		rs := got[s.EventID]
		if len(rs) != len(s.Actions) {
			return fmt.Errorf("session details query: session %s has %d actions but %d detail rows", s.EventID, len(s.Actions), len(rs))
		}
		ds := make([]ActionDetail, len(rs))
		for i, r := range rs {
			if !r.at.Equal(s.Actions[i].EventTime) || r.name != s.Actions[i].EventName {
				return fmt.Errorf("session details query: session %s action %d is %s %s, detail row is %s %s",
					s.EventID, i, rfc(s.Actions[i].EventTime), s.Actions[i].EventName, rfc(r.at), r.name)
			}
			ds[i] = r.d
		}
		ev.SessionDetails[s.EventID] = ds
	}
	return nil
}

func (db *DB) activity(ctx context.Context, ev *Evidence, f Filter) error {
	rows, err := db.QueryContext(ctx, evidenceActivitySQL, f.Since, f.Until, "", ev.ActivityBucket)
	if err != nil {
		return fmt.Errorf("activity query: %w", err)
	}
	defer rows.Close()
	ev.Activity = []ActivityCount{}
	for rows.Next() {
		var a ActivityCount
		var acct *string
		if err := rows.Scan(&acct, &a.Bucket, &a.Class, &a.Events, &a.FailedSignins); err != nil {
			return fmt.Errorf("activity query: scan: %w", err)
		}
		a.AccountID, a.Bucket = deref(acct), a.Bucket.UTC()
		ev.Activity = append(ev.Activity, a)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("activity query: %w", err)
	}
	return nil
}

func (db *DB) sessionsMonthly(ctx context.Context, ev *Evidence, f Filter) error {
	rows, err := db.QueryContext(ctx, evidenceSessionsMonthlySQL, f.Since, f.Until, "")
	if err != nil {
		return fmt.Errorf("sessions per month query: %w", err)
	}
	defer rows.Close()
	ev.SessionsMonthly = []SessionMonth{}
	for rows.Next() {
		var m SessionMonth
		if err := rows.Scan(&m.Month, &m.TaskPolicy, &m.Issued, &m.Failed); err != nil {
			return fmt.Errorf("sessions per month query: scan: %w", err)
		}
		m.Month = m.Month.UTC()
		ev.SessionsMonthly = append(ev.SessionsMonthly, m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sessions per month query: %w", err)
	}
	return nil
}

func (db *DB) humanEvents(ctx context.Context, ev *Evidence, f Filter) error {
	rows, err := db.QueryContext(ctx, evidenceHumanEventsSQL, f.Since, f.Until, "")
	if err != nil {
		return fmt.Errorf("human root events query: %w", err)
	}
	defer rows.Close()
	ev.HumanEvents = []HumanEvent{}
	for rows.Next() {
		var e HumanEvent
		var acct, class, src, name, region, login, code, key, ip, ua, params, file *string
		if err := rows.Scan(&e.EventID, &e.EventTime, &acct, &class, &src, &name, &region, &login, &code,
			&e.MFAUsed, &e.MFAAuthenticated, &key, &ip, &ua, &params, &file); err != nil {
			return fmt.Errorf("human root events query: scan: %w", err)
		}
		e.EventTime = e.EventTime.UTC()
		e.AccountID, e.Class, e.EventSource, e.EventName, e.Region = deref(acct), deref(class), deref(src), deref(name), deref(region)
		e.LoginResult, e.ErrorCode, e.AccessKeyID, e.SourceIP, e.UserAgent = deref(login), deref(code), deref(key), deref(ip), deref(ua)
		e.RequestParameters, e.SourceFile = jsonText(params), deref(file)
		ev.HumanEvents = append(ev.HumanEvents, e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("human root events query: %w", err)
	}
	return nil
}

func (db *DB) sources(ctx context.Context, ev *Evidence) error {
	rows, err := db.QueryContext(ctx, evidenceSourcesSQL)
	if err != nil {
		return fmt.Errorf("sources query: %w", err)
	}
	ev.Sources = []SourceCount{}
	for rows.Next() {
		var s SourceCount
		var kind, status *string
		if err := rows.Scan(&kind, &status, &s.Objects, &s.Bytes, &s.Records, &s.Kept); err != nil {
			rows.Close()
			return fmt.Errorf("sources query: scan: %w", err)
		}
		s.Kind, s.Status = deref(kind), deref(status)
		ev.Sources = append(ev.Sources, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sources query: %w", err)
	}
	rows, err = db.QueryContext(ctx, evidenceRunsSQL)
	if err != nil {
		return fmt.Errorf("runs query: %w", err)
	}
	defer rows.Close()
	ev.Runs = []IngestRun{}
	for rows.Next() {
		var r IngestRun
		if err := rows.Scan(&r.RunID, &r.StartedAt, &r.FinishedAt, &r.Version, &r.Command, &r.Sources, &r.WindowSince,
			&r.WindowUntil, &r.FilesListed, &r.FilesRead, &r.FilesFailed, &r.Records, &r.Kept, &r.Status); err != nil {
			return fmt.Errorf("runs query: scan: %w", err)
		}
		r.StartedAt, r.FinishedAt, r.WindowSince, r.WindowUntil = utcPtr(r.StartedAt), utcPtr(r.FinishedAt), utcPtr(r.WindowSince), utcPtr(r.WindowUntil)
		ev.Runs = append(ev.Runs, r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("runs query: %w", err)
	}
	return nil
}

// Fingerprint returns the database fingerprint: the hex SHA-256 of the
// lines evidence_fingerprint.sql returns (every row of events ordered by
// event_id, then every row of ingested_files ordered by source, each as
// DuckDB's to_json of the row), each line followed by "\n"; and the number
// of lines. The lines are read a range of keys at a time
// (evidence_fingerprint_pages.sql): memory does not grow with the database.
func (db *DB) Fingerprint(ctx context.Context) (string, int64, error) {
	st := SplitStatements(evidenceFingerprintPagesSQL)
	h := sha256.New()
	var n int64
	for _, part := range []struct {
		name                 string
		count, sample, lines string
		page                 int64
	}{
		{"events", st[0], st[1], st[2], fingerprintPage[0]},
		{"ingested_files", st[3], st[4], st[5], fingerprintPage[1]},
	} {
		bounds, err := db.pageBounds(ctx, part.count, part.sample, part.page)
		if err != nil {
			return "", 0, fmt.Errorf("fingerprint %s: %s: %w", db.Path, part.name, err)
		}
		var lo any // nil: unbounded
		for i := 0; i <= len(bounds); i++ {
			var hi any
			if i < len(bounds) {
				hi = bounds[i]
			}
			m, err := db.hashLines(ctx, h, part.lines, lo, hi)
			if err != nil {
				return "", 0, fmt.Errorf("fingerprint %s: lines of %s: %w", db.Path, part.name, err)
			}
			n += m
			lo = hi
		}
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// pageBounds cuts a table's keys into ranges of about page rows: the
// returned keys, ascending and distinct, are each range's inclusive upper
// bound (the last range is open). They are quantiles of a sample of keys,
// so a range holds page rows give or take the sample's error.
func (db *DB) pageBounds(ctx context.Context, countSQL, sampleSQL string, page int64) ([]string, error) {
	var total int64
	if err := db.QueryRowContext(ctx, countSQL).Scan(&total); err != nil {
		return nil, fmt.Errorf("count rows: %w", err)
	}
	pages := (total + page - 1) / page
	if pages <= 1 {
		return nil, nil
	}
	rows, err := db.QueryContext(ctx, sampleSQL)
	if err != nil {
		return nil, fmt.Errorf("sample keys: %w", err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("sample keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sample keys: %w", err)
	}
	// Go's byte order is DuckDB's order of VARCHAR.
	slices.Sort(keys)
	var bounds []string
	for i := int64(1); i < pages; i++ {
		k := keys[int(i*int64(len(keys))/pages)]
		if len(bounds) == 0 || k > bounds[len(bounds)-1] {
			bounds = append(bounds, k)
		}
	}
	return bounds, nil
}

// fingerprintPage is the rows of a fingerprint page, of events (whole
// records, kilobytes each) and of ingested_files (a few hundred bytes).
var fingerprintPage = [2]int64{5000, 100000}

// hashLines writes the lines the query returns into h, each followed by a
// newline, and counts them.
func (db *DB) hashLines(ctx context.Context, h io.Writer, query string, args ...any) (int64, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	var line sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&line); err != nil {
			return n, err
		}
		h.Write(line)
		h.Write([]byte{'\n'})
		n++
	}
	return n, rows.Err()
}

func (db *DB) views(ctx context.Context, ev *Evidence) error {
	rows, err := db.QueryContext(ctx, evidenceViewsSQL)
	if err != nil {
		return fmt.Errorf("views query: %w", err)
	}
	defer rows.Close()
	ev.Views = []ViewDef{}
	for rows.Next() {
		var v ViewDef
		var text *string
		if err := rows.Scan(&v.Name, &text); err != nil {
			return fmt.Errorf("views query: scan: %w", err)
		}
		v.SQL = deref(text)
		ev.Views = append(ev.Views, v)
	}
	return rows.Err()
}

// buildAccounts merges inventory, status, sessions and coverage into one
// line per account, and derives the headline.
func buildAccounts(ev *Evidence) ([]EvidenceAccount, Headline) {
	mgmt := map[string]bool{}
	for _, id := range ev.Management {
		mgmt[id] = true
	}
	var inOrg map[string]bool
	if ev.Org != nil {
		inOrg = map[string]bool{}
		for _, a := range ev.Org {
			inOrg[a.ID] = true
		}
	}
	byID := map[string]*EvidenceAccount{}
	var order []string
	get := func(id string) *EvidenceAccount {
		if a, ok := byID[id]; ok {
			return a
		}
		a := &EvidenceAccount{AccountID: id,
			Inventory: InventoryAccount{AccountID: id, AccessKeys: []string{}, SourceIPs: []string{}, Verdict: VerdictNoCoverage},
			Status:    AccountStatus{AccountID: id, CredentialState: StateNotRemoved}}
		byID[id] = a
		order = append(order, id)
		return a
	}
	for _, ia := range ev.Inventory.Accounts {
		a := get(ia.AccountID)
		a.Inventory, a.Name = ia, ia.AccountName
	}
	for _, sa := range ev.Status.Accounts {
		a := get(sa.AccountID)
		a.Status = sa
		if a.Name == nil {
			a.Name = sa.AccountName
		}
	}
	for _, o := range ev.Org {
		a := get(o.ID)
		if a.Name == nil {
			name := o.Name
			a.Name = &name
		}
	}
	for _, s := range ev.Sessions {
		if s.TargetAccount == "" {
			continue
		}
		a := get(s.TargetAccount)
		a.Sessions++
		for _, f := range s.Findings {
			if f != FindingNoActions {
				a.SessionsWithFindings++
				break
			}
		}
	}
	for _, ac := range ev.Coverage.Accounts() {
		ac := ac
		get(ac.AccountID).Coverage = &ac
	}
	for _, id := range ev.Management {
		get(id)
	}
	var out []EvidenceAccount
	for _, id := range order {
		a := byID[id]
		switch {
		case mgmt[id]:
			a.Role = RoleManagement
		case inOrg != nil && !inOrg[id]:
			a.Role = RoleOutsideOrg
		default:
			a.Role = RoleMember
		}
		out = append(out, *a)
	}
	roleRank := map[string]int{RoleMember: 0, RoleManagement: 1, RoleOutsideOrg: 2}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if roleRank[a.Role] != roleRank[b.Role] {
			return roleRank[a.Role] < roleRank[b.Role]
		}
		if ra, rb := VerdictRank(a.Inventory.Verdict), VerdictRank(b.Inventory.Verdict); ra != rb {
			return ra < rb
		}
		return a.AccountID < b.AccountID
	})

	h := Headline{Days: len(ev.Coverage.Days)}
	for _, a := range out {
		switch a.Role {
		case RoleManagement:
			h.Management = append(h.Management, a.AccountID)
			if a.HumanUse() {
				h.ManagementHumanUse = append(h.ManagementHumanUse, a.AccountID)
			}
			continue
		case RoleOutsideOrg:
			h.OutsideOrg = append(h.OutsideOrg, a.AccountID)
			continue
		}
		h.Members = append(h.Members, a.AccountID)
		if a.HumanUse() {
			h.HumanUse = append(h.HumanUse, a.AccountID)
		}
		if a.Inventory.Verdict == VerdictFailedOnly {
			h.FailedSigninsOnly = append(h.FailedSigninsOnly, a.AccountID)
		}
		if a.CredentialsPresent() {
			h.NotRemoved = append(h.NotRemoved, a.AccountID)
		}
		if a.Status.HumanUseAfterRemoval > 0 {
			h.UseAfterRemoval = append(h.UseAfterRemoval, a.AccountID)
		}
		if a.Coverage == nil || a.Coverage.DaysWithoutLogsCount >= h.Days {
			h.NoLogs = append(h.NoLogs, a.AccountID)
		}
		if a.Coverage == nil || a.Coverage.DaysWithoutLogsCount > 0 {
			h.WithGaps = append(h.WithGaps, a.AccountID)
		}
	}
	for _, s := range ev.Coverage.Streams() {
		h.Streams++
		h.StreamDays += s.Days
		h.StreamGapDays += s.GapDays()
		h.FailedFiles += s.FailedFiles
		h.IntegrityFailures += s.IntegrityFailures
		h.DigestChainGaps += s.DigestChainGaps
		h.DigestFailures += s.DigestFailures
	}
	for _, ic := range ev.Coverage.Integrity {
		h.Events += ic.Events
		h.HumanEvents += ic.HumanEvents
		if ic.Integrity == "valid" {
			h.ValidatedEvents += ic.Events
			h.ValidatedHumanEvents += ic.HumanEvents
		}
		if ic.Integrity != "not-validated" && ic.Integrity != "no-file" {
			h.Validated = true
		}
	}
	if ev.Coverage.Validation {
		h.Validated = true
	}
	for _, l := range []*[]string{&h.Members, &h.HumanUse, &h.NotRemoved, &h.UseAfterRemoval, &h.FailedSigninsOnly,
		&h.Management, &h.ManagementHumanUse, &h.OutsideOrg, &h.NoLogs, &h.WithGaps} {
		if *l == nil {
			*l = []string{}
		}
		sort.Strings(*l)
	}
	return out, h
}

// jsonText turns a JSON text column into a display string: "" for SQL NULL
// and for the JSON literal null.
func jsonText(s *string) string {
	if s == nil {
		return ""
	}
	if t := strings.TrimSpace(*s); t == "null" {
		return ""
	}
	return *s
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }
