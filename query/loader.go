package query

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	_ "embed"
	"fmt"
	"hash/maphash"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/rootaudit/rootaudit/ingest"
)

//go:embed sql/commit_batch.sql
var commitBatchSQL string

// Batch limits: a batch commits when any is reached. Files of one batch
// commit in one transaction; each file is all-or-nothing because a
// FileResult is complete before it is added.
const (
	batchFiles  = 10000
	batchEvents = 20000
	batchAge    = 2 * time.Second
)

// writerMemory is DuckDB's memory limit during an ingest.
const writerMemory = "48MB"

// RunInfo describes an ingest run for the runs table.
type RunInfo struct {
	Version      string
	Command      string
	Sources      string
	Since, Until time.Time
	// Validate means files must have been hashed (and digests parsed) to
	// count as done: a file ingested earlier without --validate is read
	// again.
	Validate bool
}

// Loader is the single writer of an ingest run. It owns one connection,
// Appenders into connection-local staging tables, and the set of files
// already ingested. It is not safe for concurrent use: ingest.Run calls it
// from one goroutine.
type Loader struct {
	db      *DB
	conn    *sql.Conn
	evApp   *duckdb.Appender
	fileApp *duckdb.Appender
	digApp  *duckdb.Appender
	dlfApp  *duckdb.Appender
	runID   int64
	done    map[[16]byte]uint64
	seed    maphash.Seed
	nFiles  int
	nEvents int
	oldest  time.Time
	Commits int
	now     func() time.Time
}

// NewLoader prepares the staging tables, loads the checkpoint set and opens
// a runs row.
func NewLoader(ctx context.Context, db *DB, run RunInfo) (*Loader, error) {
	if db.ReadOnly {
		return nil, fmt.Errorf("load into %s: database is open read-only", db.Path)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("load into %s: %w", db.Path, err)
	}
	l := &Loader{db: db, conn: conn, seed: maphash.MakeSeed(), done: map[[16]byte]uint64{}, now: func() time.Time { return time.Now().UTC() }}
	for _, q := range []string{
		// The writer's data is a trickle (kept events and one row per
		// file): cap DuckDB's buffer pool so the process's memory does not
		// grow with the size of the trail (DuckDB's default is 80% of RAM).
		`SET memory_limit = '` + writerMemory + `'`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			l.close()
			return nil, fmt.Errorf("prepare %s: %w", db.Path, err)
		}
	}
	if err := l.newStage(ctx); err != nil {
		l.close()
		return nil, err
	}
	doneSQL := `SELECT source, coalesce(etag, '') FROM ingested_files WHERE status <> 'failed'`
	if run.Validate {
		doneSQL += ` AND (kind NOT IN ('log', 'digest') OR (sha256 IS NOT NULL AND (kind = 'log' OR status = 'ok')))`
	}
	rows, err := conn.QueryContext(ctx, doneSQL)
	if err != nil {
		l.close()
		return nil, fmt.Errorf("read checkpoints from %s: %w", db.Path, err)
	}
	for rows.Next() {
		var src, etag string
		if err := rows.Scan(&src, &etag); err != nil {
			rows.Close()
			l.close()
			return nil, fmt.Errorf("read checkpoints from %s: %w", db.Path, err)
		}
		l.done[key(src)] = maphash.String(l.seed, etag)
	}
	rows.Close()
	if err := conn.QueryRowContext(ctx, `SELECT coalesce(max(run_id), 0) + 1 FROM runs`).Scan(&l.runID); err != nil {
		l.close()
		return nil, fmt.Errorf("start run in %s: %w", db.Path, err)
	}
	var since, until any
	if !run.Since.IsZero() {
		since = run.Since.UTC()
	}
	if !run.Until.IsZero() {
		until = run.Until.UTC()
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO runs (run_id, started_at, rootaudit_version, command, sources, window_since, window_until, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'running')`,
		l.runID, l.now(), run.Version, run.Command, run.Sources, since, until); err != nil {
		l.close()
		return nil, fmt.Errorf("start run in %s: %w", db.Path, err)
	}
	return l, nil
}

// stageTables are the connection-local tables the Appenders fill between
// commits. raw is staged as text: the Appender would JSON-encode a Go
// string into a JSON column (a string holding the record, not the record).
var stageTables = []string{
	`CREATE OR REPLACE TEMP TABLE stage_events AS SELECT * REPLACE (CAST(raw AS VARCHAR) AS raw) FROM events LIMIT 0`,
	`CREATE OR REPLACE TEMP TABLE stage_files AS SELECT * FROM ingested_files LIMIT 0`,
	`CREATE OR REPLACE TEMP TABLE stage_digests AS SELECT * FROM digest_files LIMIT 0`,
	`CREATE OR REPLACE TEMP TABLE stage_digest_logs AS SELECT * FROM digest_log_files LIMIT 0`,
}

// newStage (re)creates the staging tables and their Appenders. It runs
// after every commit: rows deleted from an in-memory temporary table keep
// their storage, so emptying the tables with DELETE made an ingest's memory
// grow with every batch; replacing them frees it.
func (l *Loader) newStage(ctx context.Context) error {
	for _, a := range []**duckdb.Appender{&l.evApp, &l.fileApp, &l.digApp, &l.dlfApp} {
		if *a != nil {
			(*a).Close()
			*a = nil
		}
	}
	for _, q := range stageTables {
		if _, err := l.conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("prepare staging in %s: %w", l.db.Path, err)
		}
	}
	err := l.conn.Raw(func(dc any) error {
		var err error
		for _, a := range []struct {
			app   **duckdb.Appender
			table string
		}{{&l.evApp, "stage_events"}, {&l.fileApp, "stage_files"}, {&l.digApp, "stage_digests"}, {&l.dlfApp, "stage_digest_logs"}} {
			if *a.app, err = duckdb.NewAppender(dc.(driver.Conn), "temp", "main", a.table); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create appenders in %s: %w", l.db.Path, err)
	}
	return nil
}

// key condenses a source name for the checkpoint set: 16 bytes of SHA-256
// keep the set small (about 40 bytes a file) with no practical collisions.
func key(src string) [16]byte {
	s := sha256.Sum256([]byte(src))
	var k [16]byte
	copy(k[:], s[:16])
	return k
}

// RunID is the id of this run in the runs table.
func (l *Loader) RunID() int64 { return l.runID }

// Done reports whether ref is already stored with the same ETag. Failed
// files are never done, so a rerun retries them.
func (l *Loader) Done(ref ingest.FileRef) bool {
	h, ok := l.done[key(ref.Source)]
	return ok && h == maphash.String(l.seed, ref.ETag)
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func nullInt(n int64) any {
	if n < 0 {
		return nil
	}
	return int32(n)
}

func nullDay(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// Add stages one file's result and commits when the batch is full.
func (l *Loader) Add(ctx context.Context, res ingest.FileResult) error {
	for i := range res.Events {
		e := &res.Events[i]
		err := l.evApp.AppendRow(
			e.EventID, e.EventTime.UTC(), nullStr(e.EventVersion), nullStr(e.EventSource), nullStr(e.EventName),
			nullStr(e.EventType), nullStr(e.AWSRegion), nullStr(e.RecipientAccountID), nullStr(e.IdentityType),
			nullStr(e.IdentityARN), nullStr(e.IdentityAccountID), nullStr(e.PrincipalID), nullStr(e.UserName),
			nullStr(e.AccessKeyID), nullStr(e.InvokedBy), nullStr(e.SessionIssuerARN), nullTime(e.SessionCreated),
			e.MFAAuthenticated.Value(), e.ConsoleSession.Value(), nullStr(e.SourceIP), nullStr(e.UserAgent),
			nullStr(e.ErrorCode), nullStr(e.ErrorMessage), nullStr(e.RequestID), e.ReadOnly.Value(),
			nullStr(e.LoginResult), e.MFAUsed.Value(), nullStr(e.TargetPrincipal), nullStr(e.TargetAccount),
			nullStr(e.TaskPolicyARN), nullInt(e.DurationSeconds), nullStr(e.IssuedKeyID), nullStr(e.ExpirationRaw),
			nullTime(e.Expiration), nullStr(e.ServicePrincipal), sourceKind(res.Ref), res.Ref.Source, string(e.Raw),
		)
		if err != nil {
			return fmt.Errorf("stage event %s of %s: %w", e.EventID, res.Ref.Source, err)
		}
	}
	k := res.Ref.Key
	var sha any
	if res.SHA256 != "" {
		sha = res.SHA256
	}
	err := l.fileApp.AppendRow(
		res.Ref.Source, string(kindOf(res.Ref)), nullStr(k.OrgID), nullStr(k.AccountID), nullStr(k.Region), nullDay(k.Day),
		res.Ref.Size, nullStr(res.Ref.ETag), res.Bytes, sha, int64(res.Records), int64(res.Candidates),
		int64(len(res.Events)), string(res.Status), nullStr(res.Reason), l.runID, l.now(), "not-validated",
	)
	if err != nil {
		return fmt.Errorf("stage file %s: %w", res.Ref.Source, err)
	}
	if d := res.Digest; d != nil {
		if err := l.stageDigest(res.Ref, d); err != nil {
			return err
		}
	}
	if l.nFiles == 0 {
		l.oldest = time.Now()
	}
	l.nFiles++
	l.nEvents += len(res.Events)
	if l.nFiles >= batchFiles || l.nEvents >= batchEvents || time.Since(l.oldest) >= batchAge {
		return l.Commit(ctx)
	}
	return nil
}

// stageDigest stages a parsed digest and the log files it lists.
func (l *Loader) stageDigest(ref ingest.FileRef, d *ingest.Digest) error {
	err := l.digApp.AppendRow(ref.Source, nullStr(d.AccountID), nullStr(ref.Key.Region), nullTime(d.DigestStart), nullTime(d.DigestEnd),
		nullStr(d.S3Bucket), nullStr(d.S3Object), nullStr(d.SHA256), nullStr(d.PreviousS3Object), nullStr(d.PreviousHash),
		nullStr(d.PublicKeyFingerprint), nullStr(d.Signature), d.SignatureStatus, nil, int64(len(d.LogFiles)), l.now())
	if err != nil {
		return fmt.Errorf("stage digest %s: %w", ref.Source, err)
	}
	for _, lf := range d.LogFiles {
		oldest, _ := time.Parse(time.RFC3339, lf.OldestEvent)
		newest, _ := time.Parse(time.RFC3339, lf.NewestEvent)
		if err := l.dlfApp.AppendRow(ref.Source, nullStr(lf.S3Bucket), lf.S3Object, nullStr(lf.HashValue), nullTime(oldest), nullTime(newest)); err != nil {
			return fmt.Errorf("stage digest %s: %w", ref.Source, err)
		}
	}
	l.nEvents += len(d.LogFiles) / 16 // a long digest is work for the batch too
	return nil
}

func kindOf(ref ingest.FileRef) ingest.Kind {
	if ref.Explicit {
		return ingest.KindLog
	}
	return ref.Key.Kind
}

func sourceKind(ref ingest.FileRef) string {
	switch {
	case len(ref.Source) > 9 && ref.Source[:9] == "lookup://":
		return "lookup"
	case len(ref.Source) > 9 && ref.Source[:9] == "athena://":
		return "athena"
	}
	return "trail"
}

// Commit moves the staged batch into the real tables in one transaction:
// events deduplicated on event_id (on a duplicate, the copy from the
// lexically smallest source file wins, so the result does not depend on the
// order files were read in), and the files' checkpoint rows.
func (l *Loader) Commit(ctx context.Context) error {
	if l.nFiles == 0 {
		return nil
	}
	if err := l.evApp.Flush(); err != nil {
		return fmt.Errorf("flush staged events: %w", err)
	}
	for _, a := range []*duckdb.Appender{l.fileApp, l.digApp, l.dlfApp} {
		if err := a.Flush(); err != nil {
			return fmt.Errorf("flush staged files: %w", err)
		}
	}
	// The commit must not be half-done because the user pressed Ctrl-C:
	// a cancelled context would abort it mid-transaction. It is short.
	cctx := context.WithoutCancel(ctx)
	tx, err := l.conn.BeginTx(cctx, nil)
	if err != nil {
		return fmt.Errorf("commit batch to %s: %w", l.db.Path, err)
	}
	if _, err := tx.ExecContext(cctx, commitBatchSQL); err != nil {
		tx.Rollback()
		l.clearStage(cctx)
		return fmt.Errorf("commit batch to %s: %w", l.db.Path, err)
	}
	if err := tx.Commit(); err != nil {
		l.clearStage(cctx)
		return fmt.Errorf("commit batch to %s: %w", l.db.Path, err)
	}
	l.nFiles, l.nEvents = 0, 0
	l.Commits++
	if err := l.newStage(cctx); err != nil {
		return err
	}
	releaseFreedMemory() // every few seconds at most: batches are large
	return nil
}

func (l *Loader) clearStage(ctx context.Context) {
	l.newStage(ctx)
	l.nFiles, l.nEvents = 0, 0
}

// RunTotals are the counts written to the runs row at the end.
type RunTotals struct {
	Listed, Read, Failed, Records, Kept int64
	Status                              string // ok, failed, interrupted
}

// Finish commits what is staged and closes the run. It is called on every
// exit path, including cancellation, so a clean stop keeps all complete
// files.
func (l *Loader) Finish(ctx context.Context, t RunTotals) error {
	cctx := context.WithoutCancel(ctx)
	err := l.Commit(cctx)
	if err != nil && t.Status == "ok" {
		t.Status = "failed"
	}
	if _, uerr := l.conn.ExecContext(cctx, `UPDATE runs SET finished_at = ?, files_listed = ?, files_read = ?, files_failed = ?, records = ?, kept = ?, status = ? WHERE run_id = ?`,
		l.now(), t.Listed, t.Read, t.Failed, t.Records, t.Kept, t.Status, l.runID); uerr != nil && err == nil {
		err = fmt.Errorf("close run in %s: %w", l.db.Path, uerr)
	}
	l.close()
	return err
}

func (l *Loader) close() {
	if l.evApp != nil {
		l.evApp.Close()
		l.evApp = nil
	}
	for _, a := range []**duckdb.Appender{&l.evApp, &l.fileApp, &l.digApp, &l.dlfApp} {
		if *a != nil {
			(*a).Close()
			*a = nil
		}
	}
	if l.conn != nil {
		l.conn.Close()
		l.conn = nil
	}
}
