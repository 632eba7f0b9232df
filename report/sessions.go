package report

import (
	"strconv"
	"strings"
	"time"

	"github.com/rootaudit/rootaudit/query"
)

// Sessions adapts AssumeRoot sessions to a Report.
type Sessions struct {
	Window   query.Window
	Sessions []query.Session
}

var _ Report = Sessions{}

// Title implements Report.
func (s Sessions) Title() string {
	return "Privileged root sessions (AssumeRoot) " + day(s.Window.Since) + " – " + day(s.Window.Until) + " (UTC)"
}

// Doc implements Report: {"sessions": [...]}.
func (s Sessions) Doc() any {
	ss := s.Sessions
	if ss == nil {
		ss = []query.Session{}
	}
	return struct {
		Sessions []query.Session `json:"sessions"`
	}{ss}
}

// Header implements Report.
func (s Sessions) Header() []string {
	return []string{"issued_at", "expires_at", "issuer_arn", "issuer_account", "target_account", "task_policy", "access_key_id", "status", "actions", "denied", "findings", "action_list"}
}

// Rows implements Report.
func (s Sessions) Rows() [][]string {
	out := make([][]string, 0, len(s.Sessions))
	for _, x := range s.Sessions {
		key := ""
		if x.AccessKeyID != nil {
			key = *x.AccessKeyID
		}
		var acts []string
		denied := 0
		for _, a := range x.Actions {
			t := a.EventTime.Format("15:04:05") + " " + strings.TrimSuffix(a.EventSource, ".amazonaws.com") + ":" + a.EventName + "@" + a.AWSRegion
			if a.ErrorCode != nil {
				t += " [" + *a.ErrorCode + "]"
				if isDenial(*a.ErrorCode) {
					denied++
				}
			}
			if !a.Allowed {
				t += " (outside task)"
			}
			acts = append(acts, t)
		}
		out = append(out, []string{x.IssuedAt.Format(time.RFC3339), x.ExpiresAt.Format(time.RFC3339), x.IssuerARN, x.IssuerAccount,
			x.TargetAccount, x.TaskPolicy, key, x.Status, strconv.Itoa(len(x.Actions)), strconv.Itoa(denied),
			strings.Join(x.Findings, ","), strings.Join(acts, "; ")})
	}
	return out
}

func isDenial(code string) bool {
	switch code {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Client.UnauthorizedOperation", "UnauthorizedAccess", "AuthorizationError":
		return true
	}
	return false
}

// SessionsTable is the compact terminal view.
type SessionsTable struct{ Sessions }

// Header implements Report.
func (s SessionsTable) Header() []string {
	return []string{"ISSUED (UTC)", "ISSUER", "TARGET", "TASK", "STATUS", "ACTIONS", "FINDINGS"}
}

// Rows implements Report.
func (s SessionsTable) Rows() [][]string {
	full := s.Sessions.Rows()
	out := make([][]string, len(full))
	for i, r := range full {
		issuer := r[2]
		if j := strings.LastIndex(issuer, "/"); j >= 0 && j < len(issuer)-1 {
			issuer = issuer[j+1:] + " (" + r[3] + ")"
		}
		acts := r[8]
		if r[9] != "0" {
			acts += " (" + r[9] + " denied)"
		}
		out[i] = []string{r[0][:16], issuer, r[4], r[5], r[7], acts, r[10]}
	}
	return out
}
