package query

import (
	"context"
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/rootaudit/rootaudit/ingest"
)

//go:embed sql/inventory.sql
var inventorySQL string

// The verdicts of an inventory row, worst first.
const (
	VerdictKeyUsed    = "root-access-key-used"
	VerdictRootUsed   = "root-used"
	VerdictFailedOnly = "failed-signins-only"
	VerdictNoCoverage = "no-log-coverage"
	VerdictNoRootUse  = "no-root-use"
)

// VerdictRank orders verdicts worst first (0 is worst).
func VerdictRank(v string) int {
	switch v {
	case VerdictKeyUsed:
		return 0
	case VerdictRootUsed:
		return 1
	case VerdictFailedOnly:
		return 2
	case VerdictNoCoverage:
		return 3
	}
	return 4
}

// Window is a half-open UTC time range [Since, Until).
type Window struct {
	Since, Until time.Time
}

// Filter narrows a report.
type Filter struct {
	Window
	Accounts []string // nil: all
}

func (f Filter) accountsParam() string { return strings.Join(f.Accounts, ",") }

// InventoryAccount is one account's root use in the window. Its JSON form is
// the contract of `rootaudit inventory --format json`.
type InventoryAccount struct {
	AccountID         string     `json:"account_id"`
	AccountName       *string    `json:"account_name"`
	SigninsSuccess    int64      `json:"signins_success"`
	SigninsFailure    int64      `json:"signins_failure"`
	SigninsWithoutMFA int64      `json:"signins_without_mfa"`
	OtherSigninEvents int64      `json:"other_signin_events"`
	ConsoleCalls      int64      `json:"console_calls"`
	AccessKeyCalls    int64      `json:"access_key_calls"`
	AccessKeys        []string   `json:"access_keys"`
	DeniedCalls       int64      `json:"denied_calls"`
	ServiceEvents     int64      `json:"service_events"`
	SessionEvents     int64      `json:"session_events"`
	FirstSeen         *time.Time `json:"first_seen"`
	LastSeen          *time.Time `json:"last_seen"`
	SourceIPs         []string   `json:"source_ips"`
	Verdict           string     `json:"verdict"`
}

// Inventory is the result of the inventory query.
type Inventory struct {
	Since    time.Time          `json:"since"`
	Until    time.Time          `json:"until"`
	Accounts []InventoryAccount `json:"accounts"`
}

// Inventory runs the inventory query. Accounts listed in org (when not nil)
// get their names, and those with no logs at all in the window appear with
// the verdict no-log-coverage. Rows are ordered worst verdict first, then by
// account ID.
func (db *DB) Inventory(ctx context.Context, f Filter, org []ingest.OrgAccount) (*Inventory, error) {
	rows, err := db.QueryContext(ctx, inventorySQL, f.Since.UTC(), f.Until.UTC(), f.accountsParam())
	if err != nil {
		return nil, fmt.Errorf("inventory query: %w", err)
	}
	defer rows.Close()
	inv := &Inventory{Since: f.Since.UTC(), Until: f.Until.UTC(), Accounts: []InventoryAccount{}}
	for rows.Next() {
		var a InventoryAccount
		var keys, ips any
		var first, last *time.Time
		if err := rows.Scan(&a.AccountID, &a.SigninsSuccess, &a.SigninsFailure, &a.SigninsWithoutMFA, &a.OtherSigninEvents,
			&a.ConsoleCalls, &a.AccessKeyCalls, &keys, &a.DeniedCalls, &a.ServiceEvents, &a.SessionEvents,
			&first, &last, &ips, &a.Verdict); err != nil {
			return nil, fmt.Errorf("inventory query: scan: %w", err)
		}
		a.AccessKeys = strList(keys)
		a.SourceIPs = strList(ips)
		a.FirstSeen, a.LastSeen = utcPtr(first), utcPtr(last)
		inv.Accounts = append(inv.Accounts, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("inventory query: %w", err)
	}
	if org != nil {
		want := map[string]bool{}
		for _, a := range f.Accounts {
			want[a] = true
		}
		byID := map[string]*InventoryAccount{}
		for i := range inv.Accounts {
			byID[inv.Accounts[i].AccountID] = &inv.Accounts[i]
		}
		for _, o := range org {
			if len(want) > 0 && !want[o.ID] {
				continue
			}
			name := o.Name
			if a, ok := byID[o.ID]; ok {
				a.AccountName = &name
				continue
			}
			inv.Accounts = append(inv.Accounts, InventoryAccount{
				AccountID: o.ID, AccountName: &name, AccessKeys: []string{}, SourceIPs: []string{}, Verdict: VerdictNoCoverage,
			})
		}
	}
	sort.SliceStable(inv.Accounts, func(i, j int) bool {
		ri, rj := VerdictRank(inv.Accounts[i].Verdict), VerdictRank(inv.Accounts[j].Verdict)
		if ri != rj {
			return ri < rj
		}
		return inv.Accounts[i].AccountID < inv.Accounts[j].AccountID
	})
	return inv, nil
}

func strList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
