package report

import (
	"strconv"
	"strings"
	"time"

	"github.com/rootaudit/rootaudit/query"
)

// Inventory adapts a query.Inventory to a Report.
type Inventory struct{ Inv *query.Inventory }

var _ Report = Inventory{}

// Title implements Report.
func (i Inventory) Title() string {
	return "Root usage inventory " + day(i.Inv.Since) + " – " + day(i.Inv.Until) + " (UTC, until exclusive)"
}

// Doc implements Report: {"since", "until", "accounts": [...]}.
func (i Inventory) Doc() any { return i.Inv }

// Header implements Report. One column per JSON key, in the JSON order.
func (i Inventory) Header() []string {
	return []string{"account_id", "account_name", "verdict", "signins_success", "signins_failure", "signins_without_mfa",
		"other_signin_events", "console_calls", "access_key_calls", "access_keys", "denied_calls", "service_events",
		"session_events", "first_seen", "last_seen", "source_ips"}
}

// Rows implements Report.
func (i Inventory) Rows() [][]string {
	out := make([][]string, 0, len(i.Inv.Accounts))
	for _, a := range i.Inv.Accounts {
		name := ""
		if a.AccountName != nil {
			name = *a.AccountName
		}
		out = append(out, []string{a.AccountID, name, a.Verdict, n(a.SigninsSuccess), n(a.SigninsFailure), n(a.SigninsWithoutMFA),
			n(a.OtherSigninEvents), n(a.ConsoleCalls), n(a.AccessKeyCalls), strings.Join(a.AccessKeys, ";"), n(a.DeniedCalls),
			n(a.ServiceEvents), n(a.SessionEvents), ts(a.FirstSeen), ts(a.LastSeen), strings.Join(a.SourceIPs, ";")})
	}
	return out
}

// InventoryTable is the compact terminal view: verdicts first, worst first,
// with the counts a security engineer reads before anything else.
type InventoryTable struct{ Inventory }

// Header implements Report.
func (i InventoryTable) Header() []string {
	return []string{"ACCOUNT", "NAME", "VERDICT", "SIGN-INS OK/FAIL/OTHER", "NO MFA", "CONSOLE", "KEY CALLS", "DENIED", "SESSION EV", "SERVICE EV", "LAST SEEN (INCL. FAILED)", "SOURCE IPS"}
}

// Rows implements Report.
func (i InventoryTable) Rows() [][]string {
	out := make([][]string, 0, len(i.Inv.Accounts))
	for _, a := range i.Inv.Accounts {
		name := ""
		if a.AccountName != nil {
			name = *a.AccountName
		}
		ips := strings.Join(a.SourceIPs, ", ")
		if len(a.SourceIPs) > 3 {
			ips = strings.Join(a.SourceIPs[:3], ", ") + " +" + strconv.Itoa(len(a.SourceIPs)-3)
		}
		out = append(out, []string{a.AccountID, name, strings.ToUpper(a.Verdict),
			n(a.SigninsSuccess) + "/" + n(a.SigninsFailure) + "/" + n(a.OtherSigninEvents), n(a.SigninsWithoutMFA), n(a.ConsoleCalls),
			n(a.AccessKeyCalls), n(a.DeniedCalls), n(a.SessionEvents), n(a.ServiceEvents), ts(a.LastSeen), ips})
	}
	return out
}

func n(v int64) string { return strconv.FormatInt(v, 10) }

func ts(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }
