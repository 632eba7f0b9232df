package query

import (
	"context"
	_ "embed"
	"fmt"
	"sort"
	"time"

	"github.com/rootaudit/rootaudit/ingest"
)

// PlanOptions are the rollout parameters of `rootaudit plan`.
type PlanOptions struct {
	Start      time.Time     // when the pilot wave starts (UTC)
	Pilot      []string      // accounts of the pilot wave (wave 0)
	WaveSize   int           // accounts per later wave
	Every      time.Duration // time between wave starts; must be ≥ Soak
	Soak       time.Duration // observation time after each wave
	Management []string      // management/delegated-admin accounts: never in a wave
}

// PlanEntry is one account's place in the rollout.
type PlanEntry struct {
	Wave        int        `json:"wave"` // 0 = pilot; -1 = held out or not applicable
	Start       *time.Time `json:"start"`
	SoakUntil   *time.Time `json:"soak_until"`
	AccountID   string     `json:"account_id"`
	AccountName *string    `json:"account_name"`
	Since       *time.Time `json:"since"`        // joined (from --accounts) or first seen in the logs
	SinceSource string     `json:"since_source"` // joined, first-seen or unknown
	Action      string     `json:"action"`       // remove, hold, done, skip
	Reason      string     `json:"reason"`
}

// Plan is the rollout schedule.
type Plan struct {
	Options struct {
		Start    time.Time `json:"start"`
		WaveSize int       `json:"wave_size"`
		Every    string    `json:"every"`
		Soak     string    `json:"soak"`
	} `json:"options"`
	Entries []PlanEntry `json:"accounts"`
}

// BuildPlan orders accounts into waves: the pilot first, then the oldest
// accounts (joined earliest, else first seen in the logs). Accounts with
// human root use in the inventory window or a root access key in use are
// held out with the reason until investigated; accounts whose credentials
// are already removed are done; management accounts are skipped.
func BuildPlan(inv *Inventory, st *Status, firstSeen map[string]time.Time, org []ingest.OrgAccount, o PlanOptions) (*Plan, error) {
	if o.WaveSize < 1 {
		return nil, fmt.Errorf("wave size must be at least 1")
	}
	if o.Every < o.Soak {
		return nil, fmt.Errorf("waves every %s would start before the previous wave's %s soak ends", o.Every, o.Soak)
	}
	p := &Plan{}
	p.Options.Start, p.Options.WaveSize, p.Options.Every, p.Options.Soak = o.Start.UTC(), o.WaveSize, o.Every.String(), o.Soak.String()

	type acct struct {
		e     PlanEntry
		order time.Time
		known bool
		verd  string
		state string
		pilot bool
		mgmt  bool
		inOrg bool // listed in the organization's accounts (when given)
	}
	all := map[string]*acct{}
	get := func(id string) *acct {
		a, ok := all[id]
		if !ok {
			a = &acct{e: PlanEntry{AccountID: id, Wave: -1, SinceSource: "unknown"}}
			all[id] = a
		}
		return a
	}
	for _, ia := range inv.Accounts {
		a := get(ia.AccountID)
		a.verd = ia.Verdict
		if ia.AccessKeyCalls > 0 {
			a.e.Reason = fmt.Sprintf("root access key in use (%d calls, keys %v)", ia.AccessKeyCalls, ia.AccessKeys)
		} else if ia.Verdict == VerdictRootUsed {
			other := ""
			if ia.OtherSigninEvents > 0 {
				other = fmt.Sprintf(", %d other sign-in events", ia.OtherSigninEvents)
			}
			a.e.Reason = fmt.Sprintf("human root use in the window (%d sign-ins, %d console calls%s, last %s)",
				ia.SigninsSuccess, ia.ConsoleCalls, other, fmtTime(ia.LastSeen))
		}
	}
	for _, s := range st.Accounts {
		get(s.AccountID).state = s.CredentialState
	}
	for id, t := range firstSeen {
		a := get(id)
		a.order, a.known, a.e.SinceSource = t, true, "first-seen"
	}
	for _, oa := range org {
		a := get(oa.ID)
		a.inOrg = true
		name := oa.Name
		a.e.AccountName = &name
		if !oa.Joined.IsZero() {
			a.order, a.known, a.e.SinceSource = oa.Joined, true, "joined"
		}
	}
	// A pilot account nobody has seen (a typo) would be scheduled for
	// removal all the same.
	for _, id := range o.Pilot {
		a, ok := all[id]
		if !ok {
			return nil, fmt.Errorf("pilot account %s is neither in the organization's accounts nor in the logs", id)
		}
		a.pilot = true
	}
	for _, id := range o.Management {
		get(id).mgmt = true
	}
	var pilot, rest, other []*acct
	for _, a := range all {
		if a.known {
			t := a.order.UTC()
			a.e.Since = &t
		}
		switch {
		case a.mgmt:
			a.e.Action, a.e.Reason = "skip", "management account: centralized root access does not apply to it"
			other = append(other, a)
		case org != nil && !a.inOrg:
			// Seen in the logs only (an AssumeRoot target outside the
			// organization): its root credentials are not the
			// organization's to remove.
			a.e.Action, a.e.Reason = "skip", "not a member account of the organization (--accounts)"
			other = append(other, a)
		case a.state == StateRemoved:
			a.e.Action, a.e.Reason = "done", "root credentials already removed"
			other = append(other, a)
		case a.e.Reason != "":
			a.e.Action = "hold"
			other = append(other, a)
		case a.pilot:
			pilot = append(pilot, a)
		default:
			rest = append(rest, a)
		}
	}
	byAge := func(s []*acct) {
		sort.Slice(s, func(i, j int) bool {
			if s[i].known != s[j].known {
				return s[i].known
			}
			if !s[i].order.Equal(s[j].order) {
				return s[i].order.Before(s[j].order)
			}
			return s[i].e.AccountID < s[j].e.AccountID
		})
	}
	byAge(pilot)
	byAge(rest)
	sort.Slice(other, func(i, j int) bool {
		if other[i].e.Action != other[j].e.Action {
			return other[i].e.Action < other[j].e.Action
		}
		return other[i].e.AccountID < other[j].e.AccountID
	})
	schedule := func(a *acct, wave int) {
		start := o.Start.UTC().Add(time.Duration(wave) * o.Every)
		soak := start.Add(o.Soak)
		a.e.Wave, a.e.Start, a.e.SoakUntil, a.e.Action = wave, &start, &soak, "remove"
		if a.pilot {
			a.e.Reason = "pilot"
		} else if a.e.Reason == "" {
			a.e.Reason = "no human root use in the window"
		}
		p.Entries = append(p.Entries, a.e)
	}
	for _, a := range pilot {
		schedule(a, 0)
	}
	first := 0
	if len(pilot) > 0 {
		first = 1
	}
	for i, a := range rest {
		schedule(a, first+i/o.WaveSize)
	}
	for _, a := range other {
		p.Entries = append(p.Entries, a.e)
	}
	return p, nil
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

var (
	//go:embed sql/first_seen.sql
	firstSeenSQL string
	//go:embed sql/management_accounts.sql
	managementSQL string
)

// FirstSeen returns each account's earliest log file or event time (UTC).
func (db *DB) FirstSeen(ctx context.Context) (map[string]time.Time, error) {
	rows, err := db.QueryContext(ctx, firstSeenSQL)
	if err != nil {
		return nil, fmt.Errorf("first seen query: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id string
		var t time.Time
		if err := rows.Scan(&id, &t); err != nil {
			return nil, fmt.Errorf("first seen query: scan: %w", err)
		}
		out[id] = t.UTC()
	}
	return out, rows.Err()
}

// ManagementAccounts returns the accounts seen issuing AssumeRoot calls or
// organization switches.
func (db *DB) ManagementAccounts(ctx context.Context) ([]string, error) {
	rows, err := db.QueryContext(ctx, managementSQL)
	if err != nil {
		return nil, fmt.Errorf("management accounts query: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("management accounts query: scan: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
