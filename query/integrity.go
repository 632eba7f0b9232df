package query

import (
	"context"
	_ "embed"
	"fmt"
)

var (
	//go:embed sql/integrity_update.sql
	integrityUpdateSQL string
	//go:embed sql/integrity_summary.sql
	integritySummarySQL string
	//go:embed sql/integrity_failures.sql
	integrityFailuresSQL string
	//go:embed sql/integrity_any_unread.sql
	integrityAnyUnreadSQL string
)

// integrityMemory is DuckDB's memory limit during the integrity pass.
const integrityMemory = "128MB"

// UpdateIntegrity derives digest chain status and every log file's
// integrity status from the stored digests, in one transaction. It runs at
// the end of `ingest --validate`, when all digests of the run are stored.
func (db *DB) UpdateIntegrity(ctx context.Context) error {
	// The pass joins every log file with the digests' listings: more than
	// the ingest writer's buffer pool (writerMemory), which is sized for a
	// trickle of appends.
	if _, err := db.ExecContext(ctx, `SET memory_limit = '`+integrityMemory+`'`); err != nil {
		return fmt.Errorf("update integrity in %s: %w", db.Path, err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("update integrity in %s: %w", db.Path, err)
	}
	if _, err := tx.ExecContext(ctx, integrityUpdateSQL); err != nil {
		tx.Rollback()
		return fmt.Errorf("update integrity in %s: %w", db.Path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("update integrity in %s: commit: %w", db.Path, err)
	}
	return nil
}

// IntegrityCount is one line of the integrity summary.
type IntegrityCount struct {
	Kind   string `json:"kind"`   // log or digest
	Status string `json:"status"` // a log file's integrity, or a digest's signature/chain status
	Files  int64  `json:"files"`
	Events int64  `json:"events"` // kept events in those files
}

// IntegrityFailure is one log file or digest that did not validate.
type IntegrityFailure struct {
	Source string `json:"source"`
	Kind   string `json:"kind"`
	Status string `json:"status"`
	Detail string `json:"detail"`
}

// Integrity is the result of `rootaudit integrity`.
type Integrity struct {
	Summary  []IntegrityCount   `json:"summary"`
	Failures []IntegrityFailure `json:"failures"`
}

// Integrity summarises validation results and lists every failure.
func (db *DB) Integrity(ctx context.Context) (*Integrity, error) {
	out := &Integrity{Summary: []IntegrityCount{}, Failures: []IntegrityFailure{}}
	rows, err := db.QueryContext(ctx, integritySummarySQL)
	if err != nil {
		return nil, fmt.Errorf("integrity summary: %w", err)
	}
	for rows.Next() {
		var c IntegrityCount
		if err := rows.Scan(&c.Kind, &c.Status, &c.Files, &c.Events); err != nil {
			rows.Close()
			return nil, fmt.Errorf("integrity summary: scan: %w", err)
		}
		out.Summary = append(out.Summary, c)
	}
	rows.Close()
	// Listing failures joins every digest listing with every log file
	// again; on a clean trail (the usual case, and the end of every
	// `ingest --validate`) the summary already shows there are none.
	if !summaryHasFailures(out.Summary) {
		var failed bool
		if err := db.QueryRowContext(ctx, integrityAnyUnreadSQL).Scan(&failed); err != nil {
			return nil, fmt.Errorf("integrity failures: %w", err)
		}
		if !failed {
			return out, nil
		}
	}
	rows, err = db.QueryContext(ctx, integrityFailuresSQL)
	if err != nil {
		return nil, fmt.Errorf("integrity failures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f IntegrityFailure
		if err := rows.Scan(&f.Source, &f.Kind, &f.Status, &f.Detail); err != nil {
			return nil, fmt.Errorf("integrity failures: scan: %w", err)
		}
		out.Failures = append(out.Failures, f)
	}
	return out, rows.Err()
}

// summaryHasFailures reports whether the summary counts any file or digest
// that integrity_failures.sql lists (files that could not be read at all
// are not in the summary).
func summaryHasFailures(sum []IntegrityCount) bool {
	for _, c := range sum {
		if c.Files == 0 {
			continue
		}
		switch c.Kind {
		case "log":
			if c.Status != "valid" && c.Status != "not-validated" {
				return true
			}
		case "digest-signature":
			if c.Status != "valid" {
				return true
			}
		case "digest-chain":
			if c.Status == "gap" || c.Status == "hash-mismatch" {
				return true
			}
		}
	}
	return false
}
