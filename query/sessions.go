package query

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"sort"
	"time"

	"github.com/rootaudit/rootaudit/ingest"
)

var (
	//go:embed sql/sessions.sql
	sessionsSQL string
	//go:embed sql/session_actions.sql
	sessionActionsSQL string
)

// Session finding codes.
const (
	FindingAssumeFailed     = "assume-failed"
	FindingNoActions        = "no-actions"
	FindingDeniedAction     = "denied-action"
	FindingOutsideTask      = "outside-task-policy"
	FindingAfterExpiry      = "action-after-expiry"
	FindingUnapprovedIssuer = "unapproved-issuer"
	FindingTargetNotInOrg   = "target-not-in-org"
)

// SessionFindings lists every session finding code, in the order they are
// documented.
var SessionFindings = []string{FindingAssumeFailed, FindingNoActions, FindingDeniedAction, FindingOutsideTask,
	FindingAfterExpiry, FindingUnapprovedIssuer, FindingTargetNotInOrg}

// SessionAction is one member-account event made with a session's key.
type SessionAction struct {
	EventTime   time.Time `json:"event_time"`
	EventSource string    `json:"event_source"`
	EventName   string    `json:"event_name"`
	AWSRegion   string    `json:"aws_region"`
	ErrorCode   *string   `json:"error_code"`
	Allowed     bool      `json:"allowed"`
	denied      bool
	afterExpiry bool
}

// Session is one AssumeRoot call with what was done under it. Its JSON form
// is the contract of `rootaudit sessions --format json`.
type Session struct {
	EventID         string          `json:"-"`
	IssuerARN       string          `json:"issuer_arn"`
	IssuerAccount   string          `json:"issuer_account"`
	TargetAccount   string          `json:"target_account"`
	TaskPolicy      string          `json:"task_policy"`
	DurationSeconds int64           `json:"-"`
	IssuedAt        time.Time       `json:"issued_at"`
	ExpiresAt       time.Time       `json:"expires_at"`
	AccessKeyID     *string         `json:"access_key_id"`
	Status          string          `json:"status"`
	Region          string          `json:"-"`
	Actions         []SessionAction `json:"actions"`
	Findings        []string        `json:"findings"`
	// AuditSweep is true for sessions opened by `rootaudit verify`.
	AuditSweep bool `json:"audit_sweep,omitempty"`
}

// SessionFilter narrows the sessions report.
type SessionFilter struct {
	Filter
	Issuer string // substring of the issuer ARN; "" for all
	// Approvers, when not nil, lists the issuer ARNs allowed to open
	// sessions; others get the unapproved-issuer finding.
	Approvers []string
	// Org, when not nil, lists the organization's accounts; sessions
	// targeting others get the target-not-in-org finding.
	Org []ingest.OrgAccount
}

// Sessions returns every AssumeRoot call issued in the window with its
// linked actions and findings, oldest first.
//
// A year of an organization's sessions can be tens of thousands of rows.
// The actions query runs while the sessions are read, on a connection of
// its own, so DuckDB computes one while Go scans the other. Rows are
// scanned into typed destinations reused from row to row, which keeps
// database/sql off its reflection path: the SQL turns missing text into an
// empty string where the report shows it empty, and sql.NullString keeps
// the NULLs that must stay null.
func (db *DB) Sessions(ctx context.Context, f SessionFilter) ([]Session, error) {
	args := []any{f.Since.UTC(), f.Until.UTC(), f.accountsParam(), f.Issuer}
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	actions := make(chan sessionActionRows, 1)
	go func() { actions <- db.sessionActions(actx, args) }()
	out, err := db.sessions(ctx, args)
	if err != nil {
		cancel()
	}
	// Always wait, so that no query outlives the call (the caller may
	// close the database next).
	acts := <-actions
	if err != nil {
		return nil, err
	}
	if acts.err != nil {
		return nil, acts.err
	}
	if err := acts.attach(out); err != nil {
		return nil, err
	}
	var approved, inOrg map[string]bool
	if f.Approvers != nil {
		approved = map[string]bool{}
		for _, a := range f.Approvers {
			approved[a] = true
		}
	}
	if f.Org != nil {
		inOrg = map[string]bool{}
		for _, a := range f.Org {
			inOrg[a.ID] = true
		}
	}
	for i := range out {
		out[i].Findings = findings(&out[i], approved, inOrg)
	}
	// Sessions opened by `rootaudit verify` (recorded in credential_audits).
	if err := db.markAuditSweeps(ctx, f.Since, f.Until, out); err != nil {
		return nil, err
	}
	return out, nil
}

// sessions runs sessions.sql: the sessions of the window, without actions.
func (db *DB) sessions(ctx context.Context, args []any) ([]Session, error) {
	rows, err := db.QueryContext(ctx, sessionsSQL, args...)
	if err != nil {
		return nil, fmt.Errorf("sessions query: %w", err)
	}
	defer rows.Close()
	// Rows are gathered in fixed-size blocks and copied once into a slice
	// of the right size: appending to one slice copied every session
	// again at each doubling, under the collector's write barriers (a
	// tenth of the command's CPU at 50,000 sessions).
	var blocks [][]Session
	var block []Session
	n := 0
	var s Session
	var key sql.NullString
	dest := []any{&s.EventID, &s.IssuerARN, &s.IssuerAccount, &s.TargetAccount, &s.TaskPolicy, &s.DurationSeconds,
		&s.IssuedAt, &s.ExpiresAt, &key, &s.Status, &s.Region}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("sessions query: scan: %w", err)
		}
		s.AccessKeyID = nil
		if key.Valid {
			k := key.String
			s.AccessKeyID = &k
		}
		s.IssuedAt, s.ExpiresAt = s.IssuedAt.UTC(), s.ExpiresAt.UTC()
		s.Actions = []SessionAction{}
		if len(block) == cap(block) {
			if block != nil {
				blocks = append(blocks, block)
			}
			block = make([]Session, 0, sessionBlock)
		}
		block = append(block, s)
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sessions query: %w", err)
	}
	if len(blocks) == 0 {
		return block, nil
	}
	out := make([]Session, 0, n)
	for _, b := range append(blocks, block) {
		out = append(out, b...)
	}
	return out, nil
}

// sessionBlock is the number of sessions in one block of (*DB).sessions.
const sessionBlock = 1024

// sessionActionRows is what session_actions.sql returned: every action of
// the window's sessions, in the sessions' order, and where each session's
// run of actions starts.
type sessionActionRows struct {
	all  []SessionAction
	runs []actionRun
	err  error
}

// actionRun is the run of actions of one session: from all[first] up to
// the next run.
type actionRun struct {
	sessionID string
	first     int
}

// sessionActions runs session_actions.sql.
func (db *DB) sessionActions(ctx context.Context, args []any) (r sessionActionRows) {
	rows, err := db.QueryContext(ctx, sessionActionsSQL, args...)
	if err != nil {
		r.err = fmt.Errorf("session actions query: %w", err)
		return r
	}
	defer rows.Close()
	var sid string
	var a SessionAction
	var code sql.NullString
	dest := []any{&sid, &a.EventTime, &a.EventSource, &a.EventName, &a.AWSRegion, &code, &a.Allowed, &a.denied, &a.afterExpiry}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			r.err = fmt.Errorf("session actions query: scan: %w", err)
			return r
		}
		if len(r.runs) == 0 || r.runs[len(r.runs)-1].sessionID != sid {
			r.runs = append(r.runs, actionRun{sid, len(r.all)})
		}
		a.ErrorCode = nil
		if code.Valid {
			c := code.String
			a.ErrorCode = &c
		}
		a.EventTime = a.EventTime.UTC()
		r.all = append(r.all, a)
	}
	if err := rows.Err(); err != nil {
		r.err = fmt.Errorf("session actions query: %w", err)
	}
	return r
}

// attach sets the actions of the sessions ss, which are in the same order
// as the runs: one pass over both. Each session's actions are a window of
// one array.
func (r sessionActionRows) attach(ss []Session) error {
	i := 0
	for k, run := range r.runs {
		for i < len(ss) && ss[i].EventID != run.sessionID {
			i++
		}
		if i == len(ss) {
			return fmt.Errorf("session actions query: actions of session %s out of the sessions' order", run.sessionID)
		}
		end := len(r.all)
		if k+1 < len(r.runs) {
			end = r.runs[k+1].first
		}
		// A full slice expression: appending to one session's actions
		// must not write over the next session's.
		ss[i].Actions = r.all[run.first:end:end]
		i++
	}
	return nil
}

// findings derives a session's finding codes, sorted (an empty slice, not
// nil, when there are none: JSON []). It runs once per session, so it
// builds no map: the codes are added in their sorted order.
func findings(s *Session, approved, inOrg map[string]bool) []string {
	var denied, outside, after bool
	for i := range s.Actions {
		a := &s.Actions[i]
		denied = denied || a.denied
		outside = outside || !a.Allowed
		after = after || a.afterExpiry
	}
	var set [7]string
	n := 0
	add := func(on bool, code string) {
		if on {
			set[n] = code
			n++
		}
	}
	add(after, FindingAfterExpiry)
	add(s.Status != "issued", FindingAssumeFailed)
	add(denied, FindingDeniedAction)
	add(s.Status == "issued" && len(s.Actions) == 0, FindingNoActions)
	add(outside, FindingOutsideTask)
	add(inOrg != nil && !inOrg[s.TargetAccount], FindingTargetNotInOrg)
	add(approved != nil && !approved[s.IssuerARN], FindingUnapprovedIssuer)
	out := append([]string{}, set[:n]...)
	sort.Strings(out) // already in order; kept so that a new code cannot break it
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
