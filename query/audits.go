package query

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rootaudit/rootaudit/ingest"
)

var (
	//go:embed sql/audit_run_start.sql
	auditRunStartSQL string
	//go:embed sql/audit_record.sql
	auditRecordSQL string
	//go:embed sql/audit_run_finish.sql
	auditRunFinishSQL string
	//go:embed sql/audit_run.sql
	auditRunSQL string
	//go:embed sql/audit_results.sql
	auditResultsSQL string
	//go:embed sql/audit_sweeps.sql
	auditSweepsSQL string
)

// Statuses of an audit run (audit_runs.status).
const (
	AuditRunRunning     = "running" // still running, or the process was killed
	AuditRunOK          = "ok"
	AuditRunInterrupted = "interrupted"
	AuditRunFailed      = "failed"
)

// ErrNoAuditRun means the database holds no such `rootaudit verify` run.
var ErrNoAuditRun = errors.New("no credential audit run")

// AuditRunInfo describes a `rootaudit verify` run for the audit_runs table.
type AuditRunInfo struct {
	StartedAt         time.Time // UTC
	Version           string
	Command           string
	Region            string // the STS region AssumeRoot is called in
	ManagementAccount string // skipped: AssumeRoot cannot target it
	AccountSource     string // "organizations", or the --accounts file
	Accounts          int    // member accounts to audit
}

// AuditRun is one `rootaudit verify` run with its per-account results. Its
// JSON form is the contract of `rootaudit verify --format json`.
type AuditRun struct {
	AuditRunID        int64                        `json:"audit_run_id"`
	StartedAt         time.Time                    `json:"started_at"`
	FinishedAt        *time.Time                   `json:"finished_at"`
	Version           string                       `json:"rootaudit_version"`
	Region            string                       `json:"region"`
	ManagementAccount string                       `json:"management_account"`
	AccountSource     string                       `json:"account_source"`
	Accounts          int64                        `json:"accounts"`
	Audited           int64                        `json:"audited"`
	Present           int64                        `json:"present"`
	Unknown           int64                        `json:"unknown"`
	Status            string                       `json:"status"`
	Results           []ingest.RootCredentialAudit `json:"results"`
}

// StartAuditRun opens the audit_runs row of a verify run (status running)
// and returns its audit_run_id.
func (db *DB) StartAuditRun(ctx context.Context, info AuditRunInfo) (int64, error) {
	var id int64
	err := db.QueryRowContext(ctx, auditRunStartSQL, info.StartedAt.UTC(), info.Version, info.Command, info.Region,
		info.ManagementAccount, info.AccountSource, int64(info.Accounts)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("start audit run in %s: %w", db.Path, err)
	}
	return id, nil
}

// RecordAudit stores one account's credential audit in run runID; it
// commits on its own, so what finished survives an interrupted run.
func (db *DB) RecordAudit(ctx context.Context, runID int64, a ingest.RootCredentialAudit) error {
	a = utcAudit(a)
	keys, err := jsonOrNull(a.AccessKeys, a.AccessKeys == nil)
	if err != nil {
		return fmt.Errorf("record audit of %s: %w", a.AccountID, err)
	}
	devs, err := jsonOrNull(a.MFADevices, a.MFADevices == nil)
	if err != nil {
		return fmt.Errorf("record audit of %s: %w", a.AccountID, err)
	}
	certs, err := jsonOrNull(a.SigningCertificates, a.SigningCertificates == nil)
	if err != nil {
		return fmt.Errorf("record audit of %s: %w", a.AccountID, err)
	}
	present := a.Present
	if present == nil {
		present = []string{}
	}
	pres, err := jsonOrNull(present, false)
	if err != nil {
		return fmt.Errorf("record audit of %s: %w", a.AccountID, err)
	}
	_, err = db.ExecContext(ctx, auditRecordSQL, runID, a.AccountID, nullStr(a.AccountName), a.CheckedAt.UTC(),
		a.AssumeStatus, nullStr(a.SessionKeyID), nullTimePtr(a.SessionExpires), a.PasswordPresent, nullTimePtr(a.PasswordCreatedAt),
		keys, devs, certs, a.State, pres, nullStr(a.Error))
	if err != nil {
		return fmt.Errorf("record audit of account %s in %s: %w", a.AccountID, db.Path, err)
	}
	return nil
}

// FinishAuditRun closes run runID with status and the counts of its
// stored results, finished at the current time (UTC).
func (db *DB) FinishAuditRun(ctx context.Context, runID int64, status string) error {
	if _, err := db.ExecContext(ctx, auditRunFinishSQL, runID, time.Now().UTC(), status); err != nil {
		return fmt.Errorf("finish audit run %d in %s: %w", runID, db.Path, err)
	}
	return nil
}

// AuditRun returns verify run runID (0: the latest) with its per-account
// results, root-credentials-present first, then unknown, then
// no-root-credentials. It returns ErrNoAuditRun when there is none.
func (db *DB) AuditRun(ctx context.Context, runID int64) (*AuditRun, error) {
	r := &AuditRun{}
	err := db.QueryRowContext(ctx, auditRunSQL, runID).Scan(&r.AuditRunID, &r.StartedAt, &r.FinishedAt, &r.Version, new(string),
		&r.Region, &r.ManagementAccount, &r.AccountSource, &r.Accounts, &r.Audited, &r.Present, &r.Unknown, &r.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w %d in %s", ErrNoAuditRun, runID, db.Path)
	}
	if err != nil {
		return nil, fmt.Errorf("audit run %d query: %w", runID, err)
	}
	r.StartedAt, r.FinishedAt = r.StartedAt.UTC(), utcPtr(r.FinishedAt)
	if r.Results, err = db.auditResults(ctx, r.AuditRunID, nil); err != nil {
		return nil, err
	}
	return r, nil
}

// LatestAudits returns each account's most recent credential audit across
// all verify runs (whatever its state), root-credentials-present first,
// then unknown, then no-root-credentials. accounts narrows it (nil: all).
func (db *DB) LatestAudits(ctx context.Context, accounts []string) ([]ingest.RootCredentialAudit, error) {
	return db.auditResults(ctx, 0, accounts)
}

func (db *DB) auditResults(ctx context.Context, runID int64, accounts []string) ([]ingest.RootCredentialAudit, error) {
	rows, err := db.QueryContext(ctx, auditResultsSQL, runID, strings.Join(accounts, ","))
	if err != nil {
		return nil, fmt.Errorf("audit results query (run %d): %w", runID, err)
	}
	defer rows.Close()
	out := []ingest.RootCredentialAudit{}
	for rows.Next() {
		var a ingest.RootCredentialAudit
		var run int64
		var keys, devs, certs sql.NullString
		var present string
		if err := rows.Scan(&run, &a.AccountID, &a.AccountName, &a.CheckedAt, &a.AssumeStatus, &a.SessionKeyID,
			&a.SessionExpires, &a.PasswordPresent, &a.PasswordCreatedAt, &keys, &devs, &certs, &a.State, &present, &a.Error); err != nil {
			return nil, fmt.Errorf("audit results query (run %d): scan: %w", runID, err)
		}
		a.CheckedAt, a.SessionExpires, a.PasswordCreatedAt = a.CheckedAt.UTC(), utcPtr(a.SessionExpires), utcPtr(a.PasswordCreatedAt)
		for _, c := range []struct {
			s   sql.NullString
			dst any
		}{{keys, &a.AccessKeys}, {devs, &a.MFADevices}, {certs, &a.SigningCertificates}, {sql.NullString{String: present, Valid: true}, &a.Present}} {
			if !c.s.Valid {
				continue
			}
			if err := json.Unmarshal([]byte(c.s.String), c.dst); err != nil {
				return nil, fmt.Errorf("audit results query (run %d): account %s: %w", runID, a.AccountID, err)
			}
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit results query (run %d): %w", runID, err)
	}
	return out, nil
}

// markAuditSweeps sets AuditSweep on the sessions `rootaudit verify`
// opened (see sql/audit_sweeps.sql) among those issued in [since, until).
func (db *DB) markAuditSweeps(ctx context.Context, since, until time.Time, ss []Session) error {
	if len(ss) == 0 {
		return nil
	}
	rows, err := db.QueryContext(ctx, auditSweepsSQL, since.UTC(), until.UTC())
	if err != nil {
		return fmt.Errorf("audit sweeps query: %w", err)
	}
	defer rows.Close()
	sweep := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("audit sweeps query: scan: %w", err)
		}
		sweep[id] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit sweeps query: %w", err)
	}
	for i := range ss {
		ss[i].AuditSweep = sweep[ss[i].EventID]
	}
	return nil
}

// jsonOrNull is v as JSON text, or SQL NULL when null is true.
func jsonOrNull(v any, null bool) (any, error) {
	if null {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// nullTimePtr is t in UTC, or SQL NULL when t is nil.
func nullTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

// utcAudit returns a copy of a with every time in UTC: the lists travel to
// DuckDB as JSON, whose TIMESTAMP conversion ignores a UTC offset.
func utcAudit(a ingest.RootCredentialAudit) ingest.RootCredentialAudit {
	if a.AccessKeys != nil {
		keys := make([]ingest.RootAccessKey, len(a.AccessKeys))
		for i, k := range a.AccessKeys {
			k.CreatedAt = utcPtr(k.CreatedAt)
			keys[i] = k
		}
		a.AccessKeys = keys
	}
	if a.MFADevices != nil {
		devs := make([]ingest.RootMFADevice, len(a.MFADevices))
		for i, d := range a.MFADevices {
			d.EnabledAt = utcPtr(d.EnabledAt)
			devs[i] = d
		}
		a.MFADevices = devs
	}
	if a.SigningCertificates != nil {
		certs := make([]ingest.RootSigningCertificate, len(a.SigningCertificates))
		for i, c := range a.SigningCertificates {
			c.UploadedAt = utcPtr(c.UploadedAt)
			certs[i] = c
		}
		a.SigningCertificates = certs
	}
	return a
}
