package report

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rootaudit/rootaudit/query"
)

// The CSV files of an evidence pack are Reports rendered by the CSV
// renderer, so every cell goes through the Spreadsheet sanitiser.

// EvidenceAccounts is inventory.csv: one row per account, the inventory
// columns of `rootaudit inventory --format csv` first, then the account's
// role, credential state, sessions and log coverage in the window.
type EvidenceAccounts struct{ Ev *query.Evidence }

var _ Report = EvidenceAccounts{}

// Title implements Report.
func (e EvidenceAccounts) Title() string {
	return "Accounts " + day(e.Ev.Window.Since) + " – " + day(e.Ev.Window.Until) + " (UTC, until exclusive)"
}

// Doc implements Report.
func (e EvidenceAccounts) Doc() any { return e.Ev.Accounts }

// Header implements Report.
func (e EvidenceAccounts) Header() []string {
	return append(Inventory{}.Header(), "role", "credential_state", "credential_evidence_event", "credential_evidence_time",
		"removed_at", "human_use_after_removal", "last_audit", "sessions", "sessions_with_findings",
		"regions", "days", "days_with_logs", "days_without_logs", "account_region_days_without_logs", "failed_files",
		"integrity_failures", "digest_chain_gaps")
}

// Rows implements Report.
func (e EvidenceAccounts) Rows() [][]string {
	inv := &query.Inventory{Since: e.Ev.Window.Since, Until: e.Ev.Window.Until}
	for _, a := range e.Ev.Accounts {
		ia := a.Inventory
		if ia.AccountName == nil {
			ia.AccountName = a.Name
		}
		inv.Accounts = append(inv.Accounts, ia)
	}
	base := Inventory{Inv: inv}.Rows()
	days := len(e.Ev.Coverage.Days)
	out := make([][]string, len(base))
	for i, a := range e.Ev.Accounts {
		var regions []string
		withLogs, gapDays := 0, 0
		var failed, integ, chain int64
		if c := a.Coverage; c != nil {
			for _, r := range c.Regions {
				regions = append(regions, r.Region)
			}
			withLogs, gapDays = days-c.DaysWithoutLogsCount, c.StreamGapDays
			failed, integ, chain = c.FailedFiles, c.IntegrityFailures, c.DigestChainGaps
		}
		st := a.Status
		out[i] = append(base[i], a.Role, st.CredentialState, str(st.EvidenceEvent), ts(st.EvidenceTime), ts(st.RemovedAt),
			n(st.HumanUseAfterRemoval), ts(st.LastAudit), strconv.Itoa(a.Sessions), strconv.Itoa(a.SessionsWithFindings),
			strings.Join(regions, ";"), strconv.Itoa(days), strconv.Itoa(withLogs), strconv.Itoa(days-withLogs), strconv.Itoa(gapDays),
			n(failed), n(integ), n(chain))
	}
	return out
}

// EvidenceCoverage is coverage.csv: one row per account, region and UTC
// delivery day of the window (coverage.sql), gap = true when no log file
// was read. It is not a Report: its rows (6 million for a year of 1,000
// accounts in 17 regions) are written as the database hands them over,
// never held.
type EvidenceCoverage struct{ Cov *query.Coverage }

// Header is coverage.csv's first line.
func (c EvidenceCoverage) Header() []string {
	return []string{"account_id", "region", "day", "gap", "log_files", "failed_files", "records", "kept_events",
		"validated_files", "validated_records", "validated_events", "integrity_failures", "digest_files",
		"digest_chain_gaps", "digest_failures"}
}

// WriteCSV writes coverage.csv to w, a row per cell, values neutralised
// for spreadsheets as CSV does.
func (c EvidenceCoverage) WriteCSV(ctx context.Context, w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(c.Header()); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	row := make([]string, len(c.Header()))
	err := c.Cov.EachCell(ctx, func(x *query.CoverageCell) error {
		row = append(row[:0], Spreadsheet(x.AccountID), Spreadsheet(x.Region), day(x.Day), strconv.FormatBool(x.Gap()),
			n(x.LogFiles), n(x.FailedFiles), n(x.Records), n(x.KeptEvents), n(x.ValidatedFiles), n(x.ValidatedRecords),
			n(x.ValidatedEvents), n(x.IntegrityFailures), n(x.DigestFiles), n(x.DigestChainGaps), n(x.DigestFailures))
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// EvidenceHumanEvents is human_root_events.csv: every human root event of
// the window (evidence_human_events.sql), values whole.
type EvidenceHumanEvents struct {
	Window query.Window
	Events []query.HumanEvent
}

var _ Report = EvidenceHumanEvents{}

// Title implements Report.
func (h EvidenceHumanEvents) Title() string {
	return "Human root events " + day(h.Window.Since) + " – " + day(h.Window.Until) + " (UTC)"
}

// Doc implements Report.
func (h EvidenceHumanEvents) Doc() any { return h.Events }

// Header implements Report.
func (h EvidenceHumanEvents) Header() []string {
	return []string{"event_time", "account_id", "class", "event_source", "event_name", "aws_region", "login_result", "error_code",
		"mfa_used", "mfa_authenticated", "access_key_id", "source_ip", "user_agent", "request_parameters", "event_id", "source_file"}
}

// Rows implements Report.
func (h EvidenceHumanEvents) Rows() [][]string {
	out := make([][]string, 0, len(h.Events))
	for _, e := range h.Events {
		out = append(out, []string{e.EventTime.UTC().Format(time.RFC3339), e.AccountID, e.Class, e.EventSource, e.EventName, e.Region,
			e.LoginResult, e.ErrorCode, optBool(e.MFAUsed), optBool(e.MFAAuthenticated), e.AccessKeyID, e.SourceIP, e.UserAgent,
			e.RequestParameters, e.EventID, e.SourceFile})
	}
	return out
}

func optBool(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}
