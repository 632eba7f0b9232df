package report

import (
	"strconv"
	"time"

	"github.com/rootaudit/rootaudit/query"
)

// Status adapts query.Status to a Report.
type Status struct{ St *query.Status }

var _ Report = Status{}

// Title implements Report.
func (s Status) Title() string {
	t := "Root credential state per account as of " + s.St.AsOf.Format(time.RFC3339)
	for _, sw := range s.St.OrgSwitches {
		t += "; " + sw.EventTime.Format("2006-01-02") + " " + sw.EventName
		if sw.ErrorCode != nil {
			t += " (failed: " + *sw.ErrorCode + ")"
		}
	}
	return t
}

// Doc implements Report.
func (s Status) Doc() any { return s.St }

// Header implements Report.
func (s Status) Header() []string {
	return []string{"account_id", "account_name", "credential_state", "evidence_event", "evidence_time", "removed_at",
		"human_use_after_removal", "sessions_since", "last_audit", "last_human_use"}
}

// Rows implements Report.
func (s Status) Rows() [][]string {
	out := make([][]string, 0, len(s.St.Accounts))
	for _, a := range s.St.Accounts {
		out = append(out, []string{a.AccountID, str(a.AccountName), a.CredentialState, str(a.EvidenceEvent), ts(a.EvidenceTime),
			ts(a.RemovedAt), strconv.FormatInt(a.HumanUseAfterRemoval, 10), strconv.FormatInt(a.SessionsSince, 10),
			ts(a.LastAudit), ts(a.LastHumanUse)})
	}
	return out
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Plan adapts a rollout plan to a Report.
type Plan struct{ P *query.Plan }

var _ Report = Plan{}

// Title implements Report.
func (p Plan) Title() string {
	o := p.P.Options
	return "Root-credential removal plan: waves of " + strconv.Itoa(o.WaveSize) + " every " + o.Every + ", soak " + o.Soak + ", from " + o.Start.Format("2006-01-02")
}

// Doc implements Report.
func (p Plan) Doc() any { return p.P }

// Header implements Report.
func (p Plan) Header() []string {
	return []string{"wave", "start", "soak_until", "account_id", "account_name", "since", "since_source", "action", "reason"}
}

// Rows implements Report.
func (p Plan) Rows() [][]string {
	out := make([][]string, 0, len(p.P.Entries))
	for _, e := range p.P.Entries {
		wave := strconv.Itoa(e.Wave)
		if e.Wave == 0 {
			wave = "0 (pilot)"
		} else if e.Wave < 0 {
			wave = "-"
		}
		out = append(out, []string{wave, ts(e.Start), ts(e.SoakUntil), e.AccountID, str(e.AccountName), ts(e.Since), e.SinceSource, e.Action, e.Reason})
	}
	return out
}

// Finding is one reason `rootaudit check` fails.
type Finding struct {
	Kind      string    `json:"kind"`
	AccountID string    `json:"account_id"`
	Time      time.Time `json:"time"`
	Detail    string    `json:"detail"`
}

// Check adapts the findings of `rootaudit check` to a Report.
type Check struct {
	Window   query.Window
	Findings []Finding
}

var _ Report = Check{}

// Title implements Report.
func (c Check) Title() string {
	return "rootaudit check " + day(c.Window.Since) + " – " + day(c.Window.Until) + ": " + strconv.Itoa(len(c.Findings)) + " finding(s)"
}

// Doc implements Report.
func (c Check) Doc() any {
	f := c.Findings
	if f == nil {
		f = []Finding{}
	}
	return struct {
		Since    time.Time `json:"since"`
		Until    time.Time `json:"until"`
		OK       bool      `json:"ok"`
		Findings []Finding `json:"findings"`
	}{c.Window.Since, c.Window.Until, len(f) == 0, f}
}

// Header implements Report.
func (c Check) Header() []string { return []string{"kind", "account_id", "time", "detail"} }

// Rows implements Report.
func (c Check) Rows() [][]string {
	out := make([][]string, 0, len(c.Findings))
	for _, f := range c.Findings {
		out = append(out, []string{f.Kind, f.AccountID, f.Time.UTC().Format(time.RFC3339), f.Detail})
	}
	return out
}
