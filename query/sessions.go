package query

import (
	"context"
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
func (db *DB) Sessions(ctx context.Context, f SessionFilter) ([]Session, error) {
	args := []any{f.Since.UTC(), f.Until.UTC(), f.accountsParam(), f.Issuer}
	rows, err := db.QueryContext(ctx, sessionsSQL, args...)
	if err != nil {
		return nil, fmt.Errorf("sessions query: %w", err)
	}
	var out []Session
	byID := map[string]int{}
	for rows.Next() {
		var s Session
		var issuer, issuerAcct, target, policy, key, region *string
		if err := rows.Scan(&s.EventID, &issuer, &issuerAcct, &target, &policy, &s.DurationSeconds,
			&s.IssuedAt, &s.ExpiresAt, &key, &s.Status, &region); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sessions query: scan: %w", err)
		}
		s.IssuerARN, s.IssuerAccount, s.TargetAccount, s.TaskPolicy, s.Region = deref(issuer), deref(issuerAcct), deref(target), deref(policy), deref(region)
		s.AccessKeyID = key
		s.IssuedAt, s.ExpiresAt = s.IssuedAt.UTC(), s.ExpiresAt.UTC()
		s.Actions = []SessionAction{}
		byID[s.EventID] = len(out)
		out = append(out, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sessions query: %w", err)
	}
	arows, err := db.QueryContext(ctx, sessionActionsSQL, args...)
	if err != nil {
		return nil, fmt.Errorf("session actions query: %w", err)
	}
	defer arows.Close()
	for arows.Next() {
		var sid string
		var a SessionAction
		var src, name, region *string
		if err := arows.Scan(&sid, &a.EventTime, &src, &name, &region, &a.ErrorCode, &a.Allowed, &a.denied, &a.afterExpiry); err != nil {
			return nil, fmt.Errorf("session actions query: scan: %w", err)
		}
		a.EventTime = a.EventTime.UTC()
		a.EventSource, a.EventName, a.AWSRegion = deref(src), deref(name), deref(region)
		if i, ok := byID[sid]; ok {
			out[i].Actions = append(out[i].Actions, a)
		}
	}
	if err := arows.Err(); err != nil {
		return nil, fmt.Errorf("session actions query: %w", err)
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

// findings derives a session's finding codes, sorted.
func findings(s *Session, approved, inOrg map[string]bool) []string {
	set := map[string]bool{}
	if s.Status != "issued" {
		set[FindingAssumeFailed] = true
	} else if len(s.Actions) == 0 {
		set[FindingNoActions] = true
	}
	for _, a := range s.Actions {
		if a.denied {
			set[FindingDeniedAction] = true
		}
		if !a.Allowed {
			set[FindingOutsideTask] = true
		}
		if a.afterExpiry {
			set[FindingAfterExpiry] = true
		}
	}
	if approved != nil && !approved[s.IssuerARN] {
		set[FindingUnapprovedIssuer] = true
	}
	if inOrg != nil && !inOrg[s.TargetAccount] {
		set[FindingTargetNotInOrg] = true
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
