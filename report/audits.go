package report

import (
	"strconv"
	"strings"
	"time"

	"github.com/rootaudit/rootaudit/ingest"
	"github.com/rootaudit/rootaudit/query"
)

// Audits adapts a `rootaudit verify` run (live root-credential audit) to a
// Report: one row per member account audited.
type Audits struct{ Run *query.AuditRun }

var _ Report = Audits{}

// Title implements Report.
func (a Audits) Title() string {
	r := a.Run
	t := "Live root-credential audit " + strconv.FormatInt(r.AuditRunID, 10) + " at " + r.StartedAt.UTC().Format(time.RFC3339) +
		" (" + r.Status + "): " + strconv.FormatInt(r.Audited, 10) + " of " + strconv.FormatInt(r.Accounts, 10) + " member accounts audited, " +
		strconv.FormatInt(r.Present, 10) + " with root credentials, " + strconv.FormatInt(r.Unknown, 10) + " unknown"
	if r.ManagementAccount != "" {
		t += "; management account " + r.ManagementAccount + " skipped"
	}
	return t
}

// Doc implements Report: the run with its results.
func (a Audits) Doc() any {
	if a.Run.Results == nil {
		r := *a.Run
		r.Results = []ingest.RootCredentialAudit{}
		return &r
	}
	return a.Run
}

// Header implements Report.
func (a Audits) Header() []string {
	return []string{"account_id", "account_name", "state", "present", "password", "access_keys", "mfa_devices",
		"signing_certificates", "checked_at", "assume_status", "session_key_id", "error"}
}

// Rows implements Report. An empty cell is a read that failed or was not
// made; "none" is a read that answered none.
func (a Audits) Rows() [][]string {
	out := make([][]string, 0, len(a.Run.Results))
	for _, r := range a.Run.Results {
		out = append(out, []string{r.AccountID, r.AccountName, r.State, strings.Join(r.Present, ","), auditPassword(r),
			auditAccessKeys(r.AccessKeys), auditMFADevices(r.MFADevices), auditCertificates(r.SigningCertificates),
			r.CheckedAt.UTC().Format(time.RFC3339), r.AssumeStatus, r.SessionKeyID, r.Error})
	}
	return out
}

func auditPassword(r ingest.RootCredentialAudit) string {
	switch {
	case r.PasswordPresent == nil:
		return ""
	case !*r.PasswordPresent:
		return "none"
	case r.PasswordCreatedAt != nil:
		return "yes (created " + r.PasswordCreatedAt.UTC().Format(time.RFC3339) + ")"
	}
	return "yes"
}

func auditAccessKeys(ks []ingest.RootAccessKey) string {
	if ks == nil {
		return ""
	}
	if len(ks) == 0 {
		return "none"
	}
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = k.AccessKeyID + " " + k.Status + auditCreated(k.CreatedAt)
	}
	return strings.Join(parts, "; ")
}

func auditMFADevices(ds []ingest.RootMFADevice) string {
	if ds == nil {
		return ""
	}
	if len(ds) == 0 {
		return "none"
	}
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.SerialNumber
	}
	return strings.Join(parts, "; ")
}

func auditCertificates(cs []ingest.RootSigningCertificate) string {
	if cs == nil {
		return ""
	}
	if len(cs) == 0 {
		return "none"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.CertificateID + " " + c.Status
	}
	return strings.Join(parts, "; ")
}

func auditCreated(t *time.Time) string {
	if t == nil {
		return ""
	}
	return " " + t.UTC().Format("2006-01-02")
}

// AuditsTable is the compact terminal view of a verify run: what was found
// per account in one column.
type AuditsTable struct{ Audits }

// Header implements Report.
func (a AuditsTable) Header() []string {
	return []string{"ACCOUNT", "NAME", "STATE", "FOUND", "CHECKED AT (UTC)", "ASSUME", "ERROR"}
}

// Rows implements Report.
func (a AuditsTable) Rows() [][]string {
	out := make([][]string, 0, len(a.Run.Results))
	for _, r := range a.Run.Results {
		var found []string
		if r.PasswordPresent != nil && *r.PasswordPresent {
			p := "password"
			if r.PasswordCreatedAt != nil {
				p += " (created " + r.PasswordCreatedAt.UTC().Format("2006-01-02") + ")"
			}
			found = append(found, p)
		}
		for _, k := range r.AccessKeys {
			found = append(found, "key "+k.AccessKeyID+" "+k.Status)
		}
		for _, d := range r.MFADevices {
			found = append(found, "mfa "+d.SerialNumber)
		}
		for _, c := range r.SigningCertificates {
			found = append(found, "cert "+c.CertificateID+" "+c.Status)
		}
		if len(found) == 0 && r.State == ingest.AuditNoRootCredentials {
			found = append(found, "none")
		}
		out = append(out, []string{r.AccountID, r.AccountName, strings.ToUpper(r.State), strings.Join(found, "; "),
			r.CheckedAt.UTC().Format(time.RFC3339), r.AssumeStatus, r.Error})
	}
	return out
}
