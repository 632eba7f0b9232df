package report

import (
	"io"
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

var _ jsonWriter = Sessions{}

// WriteJSON writes Doc() as the JSON renderer's encoder would, one session
// at a time: 50,000 sessions make 34 MB of JSON, which encoding with
// reflection and indenting whole took most of `sessions --format json`.
func (s Sessions) WriteJSON(w io.Writer) error {
	for i := range s.Sessions {
		x := &s.Sessions[i]
		if err := checkJSONTime(x.IssuedAt); err != nil {
			return err
		}
		if err := checkJSONTime(x.ExpiresAt); err != nil {
			return err
		}
		for j := range x.Actions {
			if err := checkJSONTime(x.Actions[j].EventTime); err != nil {
				return err
			}
		}
	}
	if len(s.Sessions) == 0 {
		_, err := io.WriteString(w, "{\n  \"sessions\": []\n}\n")
		return err
	}
	b := make([]byte, 0, jsonFlushAt+8<<10)
	b = append(b, "{\n  \"sessions\": [\n"...)
	var err error
	for i := range s.Sessions {
		if i > 0 {
			b = append(b, ",\n"...)
		}
		b = appendSessionJSON(b, &s.Sessions[i])
		if b, err = flushJSON(w, b, false); err != nil {
			return err
		}
	}
	b = append(b, "\n  ]\n}\n"...)
	_, err = flushJSON(w, b, true)
	return err
}

// appendSessionJSON appends one element of the sessions array, indented
// as the encoder indents it: the fields of query.Session in their order,
// with its JSON names.
func appendSessionJSON(b []byte, x *query.Session) []byte {
	b = append(b, "    {\n      \"issuer_arn\": "...)
	b = appendJSONString(b, x.IssuerARN)
	b = append(b, ",\n      \"issuer_account\": "...)
	b = appendJSONString(b, x.IssuerAccount)
	b = append(b, ",\n      \"target_account\": "...)
	b = appendJSONString(b, x.TargetAccount)
	b = append(b, ",\n      \"task_policy\": "...)
	b = appendJSONString(b, x.TaskPolicy)
	b = append(b, ",\n      \"issued_at\": "...)
	b = appendJSONTime(b, x.IssuedAt)
	b = append(b, ",\n      \"expires_at\": "...)
	b = appendJSONTime(b, x.ExpiresAt)
	b = append(b, ",\n      \"access_key_id\": "...)
	b = appendJSONStringPtr(b, x.AccessKeyID)
	b = append(b, ",\n      \"status\": "...)
	b = appendJSONString(b, x.Status)
	b = append(b, ",\n      \"actions\": "...)
	switch {
	case x.Actions == nil:
		b = append(b, "null"...)
	case len(x.Actions) == 0:
		b = append(b, "[]"...)
	default:
		b = append(b, "[\n"...)
		for i := range x.Actions {
			a := &x.Actions[i]
			if i > 0 {
				b = append(b, ",\n"...)
			}
			b = append(b, "        {\n          \"event_time\": "...)
			b = appendJSONTime(b, a.EventTime)
			b = append(b, ",\n          \"event_source\": "...)
			b = appendJSONString(b, a.EventSource)
			b = append(b, ",\n          \"event_name\": "...)
			b = appendJSONString(b, a.EventName)
			b = append(b, ",\n          \"aws_region\": "...)
			b = appendJSONString(b, a.AWSRegion)
			b = append(b, ",\n          \"error_code\": "...)
			b = appendJSONStringPtr(b, a.ErrorCode)
			b = append(b, ",\n          \"allowed\": "...)
			b = strconv.AppendBool(b, a.Allowed)
			b = append(b, "\n        }"...)
		}
		b = append(b, "\n      ]"...)
	}
	b = append(b, ",\n      \"findings\": "...)
	switch {
	case x.Findings == nil:
		b = append(b, "null"...)
	case len(x.Findings) == 0:
		b = append(b, "[]"...)
	default:
		b = append(b, "[\n"...)
		for i, f := range x.Findings {
			if i > 0 {
				b = append(b, ",\n"...)
			}
			b = append(b, "        "...)
			b = appendJSONString(b, f)
		}
		b = append(b, "\n      ]"...)
	}
	if x.AuditSweep {
		b = append(b, ",\n      \"audit_sweep\": true"...)
	}
	return append(b, "\n    }"...)
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
