package query

import (
	"context"
	_ "embed"
	"fmt"
	"strings"
	"time"

	"github.com/rootaudit/rootaudit/ingest"
)

var (
	//go:embed sql/status.sql
	statusSQL string
	//go:embed sql/org_switches.sql
	orgSwitchesSQL string
)

// Credential states of an account.
const (
	StateRemoved    = "removed"     // removed in an IAMDeleteRootUserCredentials session, not re-created since
	StateRecreated  = "re-created"  // re-created after (or without) a removal
	StateNotRemoved = "not-removed" // no removal seen: long-term root credentials presumably exist
)

// AccountStatus is one account's root-credential state. Its JSON form is the
// contract of `rootaudit status --format json`.
type AccountStatus struct {
	AccountID       string     `json:"account_id"`
	AccountName     *string    `json:"account_name"`
	CredentialState string     `json:"credential_state"`
	EvidenceEvent   *string    `json:"evidence_event"`
	EvidenceTime    *time.Time `json:"evidence_time"`
	RemovedAt       *time.Time `json:"removed_at"`
	LastAudit       *time.Time `json:"last_audit"`
	LastHumanUse    *time.Time `json:"last_human_use"`
	// HumanUseAfterRemoval counts human root events (failed sign-ins
	// excluded) after RemovedAt; it must be zero.
	HumanUseAfterRemoval int64 `json:"human_use_after_removal"`
	// LastHumanUseAfterRemoval is the last of those events (not in the
	// JSON contract: `check` reports it).
	LastHumanUseAfterRemoval *time.Time `json:"-"`
	// SessionsSince counts issued AssumeRoot sessions for the account since
	// RemovedAt (all sessions when not removed).
	SessionsSince int64 `json:"sessions_since"`
}

// OrgSwitch is one organization-level switch event.
type OrgSwitch struct {
	EventTime   time.Time `json:"event_time"`
	EventName   string    `json:"event_name"`
	Action      string    `json:"action"` // enable or disable
	AccountID   string    `json:"account_id"`
	IdentityARN string    `json:"identity_arn"`
	ErrorCode   *string   `json:"error_code"`
}

// Status is the result of the status query.
type Status struct {
	AsOf        time.Time       `json:"as_of"`
	OrgSwitches []OrgSwitch     `json:"org_switches"`
	Accounts    []AccountStatus `json:"accounts"`
}

// Status returns every account's credential state as of asOf (exclusive).
// With org, names are filled in and listed accounts without any data appear
// as not-removed.
func (db *DB) Status(ctx context.Context, asOf time.Time, accounts []string, org []ingest.OrgAccount) (*Status, error) {
	return db.status(ctx, time.Time{}, asOf, accounts, org)
}

// StatusIn is Status as of until, with human use after removal counted only
// from since (inclusive; both UTC): what `check` gates on, so that one old
// incident does not fail every later nightly window.
func (db *DB) StatusIn(ctx context.Context, since, until time.Time, accounts []string) (*Status, error) {
	return db.status(ctx, since, until, accounts, nil)
}

func (db *DB) status(ctx context.Context, since, asOf time.Time, accounts []string, org []ingest.OrgAccount) (*Status, error) {
	st := &Status{AsOf: asOf.UTC(), OrgSwitches: []OrgSwitch{}, Accounts: []AccountStatus{}}
	var from any
	if !since.IsZero() {
		from = since.UTC()
	}
	rows, err := db.QueryContext(ctx, statusSQL, asOf.UTC(), strings.Join(accounts, ","), from)
	if err != nil {
		return nil, fmt.Errorf("status query: %w", err)
	}
	for rows.Next() {
		var a AccountStatus
		if err := rows.Scan(&a.AccountID, &a.CredentialState, &a.EvidenceEvent, &a.EvidenceTime, &a.RemovedAt,
			&a.LastAudit, &a.LastHumanUse, &a.HumanUseAfterRemoval, &a.LastHumanUseAfterRemoval, &a.SessionsSince); err != nil {
			rows.Close()
			return nil, fmt.Errorf("status query: scan: %w", err)
		}
		a.EvidenceTime, a.RemovedAt, a.LastAudit, a.LastHumanUse = utcPtr(a.EvidenceTime), utcPtr(a.RemovedAt), utcPtr(a.LastAudit), utcPtr(a.LastHumanUse)
		a.LastHumanUseAfterRemoval = utcPtr(a.LastHumanUseAfterRemoval)
		st.Accounts = append(st.Accounts, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("status query: %w", err)
	}
	if org != nil {
		want := map[string]bool{}
		for _, a := range accounts {
			want[a] = true
		}
		idx := map[string]int{}
		for i, a := range st.Accounts {
			idx[a.AccountID] = i
		}
		for _, o := range org {
			name := o.Name
			if i, ok := idx[o.ID]; ok {
				st.Accounts[i].AccountName = &name
			} else if len(want) == 0 || want[o.ID] {
				st.Accounts = append(st.Accounts, AccountStatus{AccountID: o.ID, AccountName: &name, CredentialState: StateNotRemoved})
			}
		}
	}
	sw, err := db.OrgSwitches(ctx, asOf)
	if err != nil {
		return nil, err
	}
	st.OrgSwitches = sw
	return st, nil
}

// OrgSwitches returns the organization-level switch events before asOf.
func (db *DB) OrgSwitches(ctx context.Context, asOf time.Time) ([]OrgSwitch, error) {
	rows, err := db.QueryContext(ctx, orgSwitchesSQL, asOf.UTC())
	if err != nil {
		return nil, fmt.Errorf("org switches query: %w", err)
	}
	defer rows.Close()
	out := []OrgSwitch{}
	for rows.Next() {
		var s OrgSwitch
		var acct *string
		if err := rows.Scan(&s.EventTime, &s.EventName, &s.Action, &acct, &s.IdentityARN, &s.ErrorCode); err != nil {
			return nil, fmt.Errorf("org switches query: scan: %w", err)
		}
		s.EventTime = s.EventTime.UTC()
		s.AccountID = deref(acct)
		out = append(out, s)
	}
	return out, rows.Err()
}

// DisabledSwitches returns the features whose latest successful switch
// event disables them (RootCredentialsManagement, RootSessions).
func DisabledSwitches(sw []OrgSwitch) []OrgSwitch {
	last := map[string]OrgSwitch{}
	var order []string
	for _, s := range sw {
		if s.ErrorCode != nil {
			continue
		}
		feature := strings.TrimPrefix(strings.TrimPrefix(s.EventName, "Enable"), "Disable")
		if _, ok := last[feature]; !ok {
			order = append(order, feature)
		}
		last[feature] = s
	}
	var out []OrgSwitch
	for _, f := range order {
		if last[f].Action == "disable" {
			out = append(out, last[f])
		}
	}
	return out
}
