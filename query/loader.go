package query

import (
	"context"
	"database/sql"
	"database/sql/driver"
	_ "embed"
	"fmt"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/rootaudit/rootaudit/ingest"
)

//go:embed sql/commit_batch.sql
var commitBatchSQL string

// Batch limits: a batch commits when any is reached. Files of one batch
// commit in one transaction; each file is all-or-nothing because a
// FileResult is complete before it is added. batchBytes bounds the kept
// events' raw JSON plus stagedEventRow each: DuckDB holds an uncommitted
// event in about 8 times its raw size (a staged row and the inserted one,
// 38 columns uncompressed), so a trail where root is used by a script
// (thousands of kept events) is committed ~5,500 events at a time. Smaller
// batches cost time: each commit's upsert and checkpoint have a fixed part
// (200,000 kept events: 16-17 s in 4 MB batches, 10.3-10.5 s in 16 MB).
const (
	batchFiles  = 10000
	batchEvents = 20000
	batchBytes  = 16 << 20
	batchAge    = 2 * time.Second
)

// writerMemory is DuckDB's memory limit during an ingest, in bytes. The
// writer's data is a trickle (kept events and one row per file): the cap
// keeps DuckDB's buffer pool from growing with the trail (its default is
// 80% of RAM). A batch whose kept events need more raises it for its
// commit (batchMemory).
const writerMemory = 48 << 20

// stagedEventCost is what DuckDB holds per byte of a kept event's raw JSON
// while a batch commits (measured at 5-8 on events of 0.9-100 KB), and
// stagedEventRow what it holds for an event's other columns.
const (
	stagedEventCost = 10
	stagedEventRow  = 2 << 10
)

// batchMemory is the DuckDB memory limit a batch of the given staged event
// bytes needs to commit: writerMemory, plus room for its events. One file
// is never split across batches, so a single file with many kept events
// (a busy root script's five minutes) can raise it well beyond the cap.
func batchMemory(stagedBytes int64) int64 {
	return writerMemory + stagedEventCost*stagedBytes
}

func memoryLimitSQL(n int64) string {
	return fmt.Sprintf("SET memory_limit = '%dKiB'", (n+1023)/1024)
}

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
	// stored holds the checkpoints of earlier runs within the days loaded:
	// which files are done (with which ETag), and which have rows that
	// must be deleted before new ones go in. The files of this run are not
	// added: ingest.Run hands each file over once (ingest.CheckDisjoint),
	// and a first run over a year of an organization's trail would hold
	// tens of millions.
	stored *checkpointSet
	// loFrom and loTo bound the delivery days whose checkpoints were
	// loaded (zero: unbounded); a file outside them is looked up in the
	// database instead (lookupCheckpoint, and a count in replace).
	loFrom, loTo time.Time
	validate     bool // files read without hashing are not done
	inTx         bool // the batch's transaction is open
	broken       bool // an Add failed midway: the open batch must not commit
	nFiles       int
	nEvents      int
	nBytes       int64 // kept events' raw JSON and per-row share staged in the batch (stagedEventRow)
	memCap       int64 // DuckDB's memory limit as last set, in bytes
	// deferred are the batch's files that earlier runs left rows of: they
	// are staged at commit, after one DELETE for them all.
	deferred []ingest.FileResult
	oldest   time.Time
	Commits  int
	now      func() time.Time
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
	l := &Loader{db: db, conn: conn, now: func() time.Time { return time.Now().UTC() }}
	if _, err := conn.ExecContext(ctx, memoryLimitSQL(writerMemory)); err != nil {
		l.close()
		return nil, fmt.Errorf("prepare %s: %w", db.Path, err)
	}
	l.memCap = writerMemory
	l.validate = run.Validate
	// Only the checkpoints of the delivery days this run can list are held
	// in memory (16 bytes a file): a daily run against a database of a
	// year of an organization's trail (tens of millions of files) must not
	// load them all. The margin is wider than the listers' (DayMargin).
	from, to := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	if !run.Since.IsZero() {
		l.loFrom = run.Since.UTC().Truncate(24*time.Hour).AddDate(0, 0, -3)
		from = l.loFrom
	}
	if !run.Until.IsZero() {
		l.loTo = run.Until.UTC().Truncate(24*time.Hour).AddDate(0, 0, 3)
		to = l.loTo
	}
	if l.stored, err = loadCheckpoints(ctx, conn, run.Validate, from, to); err != nil {
		l.close()
		return nil, fmt.Errorf("%s: %w", db.Path, err)
	}
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
	if _, err := conn.ExecContext(ctx, `INSERT INTO runs (run_id, started_at, rootaudit_version, command, sources, window_since, window_until, status, validated) VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?)`,
		l.runID, l.now(), run.Version, run.Command, run.Sources, since, until, run.Validate); err != nil {
		l.close()
		return nil, fmt.Errorf("start run in %s: %w", db.Path, err)
	}
	if err := l.begin(ctx); err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

// stageEvents is the connection-local table the events Appender fills
// between commits: events are deduplicated on their way into the events
// table (query/sql/commit_batch.sql). raw is staged as text: the Appender
// would JSON-encode a Go string into a JSON column (a string holding the
// record, not the record).
const stageEvents = `CREATE OR REPLACE TEMP TABLE stage_events AS SELECT * REPLACE (CAST(raw AS VARCHAR) AS raw) FROM events LIMIT 0`

// begin opens the transaction of the next batch, with a fresh staging
// table for its events. Checkpoint and digest rows are appended straight
// into their tables inside this transaction: staging them too cost a copy
// of every row at every commit (most of the writer's work, which shares
// the cores with the decoders). Nothing appended is visible to anyone
// before the batch commits, and a rollback removes all of it.
func (l *Loader) begin(ctx context.Context) error {
	if _, err := l.conn.ExecContext(ctx, `BEGIN TRANSACTION`); err != nil {
		return fmt.Errorf("begin batch in %s: %w", l.db.Path, err)
	}
	l.inTx = true
	return l.newStage(ctx)
}

// newStage (re)creates the events staging table and the Appenders. It runs
// at every batch: rows deleted from an in-memory temporary table keep their
// storage, so emptying the table with DELETE made an ingest's memory grow
// with every batch; replacing it frees it.
func (l *Loader) newStage(ctx context.Context) error {
	l.closeAppenders()
	if _, err := l.conn.ExecContext(ctx, stageEvents); err != nil {
		return fmt.Errorf("prepare staging in %s: %w", l.db.Path, err)
	}
	err := l.conn.Raw(func(dc any) error {
		var err error
		for _, a := range []struct {
			app            **duckdb.Appender
			catalog, table string
		}{{&l.evApp, "temp", "stage_events"}, {&l.fileApp, "", "ingested_files"}, {&l.digApp, "", "digest_files"}, {&l.dlfApp, "", "digest_log_files"}} {
			if *a.app, err = duckdb.NewAppender(dc.(driver.Conn), a.catalog, "main", a.table); err != nil {
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

func (l *Loader) closeAppenders() {
	for _, a := range []**duckdb.Appender{&l.evApp, &l.fileApp, &l.digApp, &l.dlfApp} {
		if *a != nil {
			(*a).Close()
			*a = nil
		}
	}
}

// RunID is the id of this run in the runs table.
func (l *Loader) RunID() int64 { return l.runID }

// Done reports whether ref is already stored with the same ETag. Failed
// files are never done, so a rerun retries them. It runs on the lister's
// goroutine, concurrently with Add: it only reads what NewLoader loaded,
// and asks the database (another connection) about a file outside the
// days loaded.
func (l *Loader) Done(ref ingest.FileRef) bool {
	if !l.loaded(ref.Key.Day) {
		c, ok, err := lookupCheckpoint(context.Background(), l.db.DB, l.validate, ref.Source)
		return err == nil && ok && c.etag == etagHash(ref.ETag, true)
	}
	return l.stored.done(ref.Source, ref.ETag)
}

// loaded reports whether the checkpoints of files delivered on day are in
// memory. A file with no delivery day always is.
func (l *Loader) loaded(day time.Time) bool {
	if day.IsZero() {
		return true
	}
	return (l.loFrom.IsZero() || !day.Before(l.loFrom)) && (l.loTo.IsZero() || !day.After(l.loTo))
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

// Add stages one file's result and commits when the batch is full. After
// an error the open batch is rolled back, not committed: the file may be
// half staged.
func (l *Loader) Add(ctx context.Context, res ingest.FileResult) error {
	if err := l.add(ctx, res); err != nil {
		l.broken = true
		return err
	}
	if l.nFiles == 0 {
		l.oldest = time.Now()
	}
	l.nFiles++
	l.nEvents += len(res.Events)
	for i := range res.Events {
		l.nBytes += int64(len(res.Events[i].Raw)) + stagedEventRow
	}
	if l.nFiles >= batchFiles || l.nEvents >= batchEvents || l.nBytes >= batchBytes || time.Since(l.oldest) >= batchAge {
		return l.Commit(ctx)
	}
	return nil
}

func (l *Loader) add(ctx context.Context, res ingest.FileResult) error {
	if l.broken || !l.inTx {
		return fmt.Errorf("stage %s: the batch was abandoned after an earlier error", res.Ref.Source)
	}
	stored, err := l.storedBefore(ctx, res.Ref)
	if err != nil {
		return err
	}
	if stored {
		// Its old rows go first, at commit, for the whole batch at once
		// (replaceDeferred); its own rows follow them.
		l.deferred = append(l.deferred, res)
		return nil
	}
	return l.stage(res)
}

// stage appends a file's rows (events, checkpoint row, digest) to the
// batch.
func (l *Loader) stage(res ingest.FileResult) error {
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
	return nil
}

// storedBefore reports whether an earlier read of ref left rows (a file
// that failed before, changed, or was read without --validate), which must
// be deleted so that source stays unique in ingested_files (it has no
// primary key: schema v5) and digest_files. Sources never stored before,
// nearly all of them, cost one lookup in the checkpoint set.
func (l *Loader) storedBefore(ctx context.Context, ref ingest.FileRef) (bool, error) {
	src := ref.Source
	if l.stored.stored(src) {
		return true, nil
	}
	if l.loaded(ref.Key.Day) {
		return false, nil
	}
	// A file outside the days loaded (one named on the command line): the
	// database says whether it has rows.
	var n int
	if err := l.conn.QueryRowContext(ctx, `SELECT count(*) FROM ingested_files WHERE source = ?`, src).Scan(&n); err != nil {
		return false, fmt.Errorf("replace %s: %w", src, err)
	}
	return n > 0, nil
}

// replaceDeferred deletes the old rows of the batch's files read again, in
// three statements for the whole batch, then stages their new rows. It
// once took three DELETEs per file, each scanning the table: a --validate
// run after a plain ingest of the 1.26 GB bench trail (51,284 files read
// again) took 224 s instead of 5. None of these files' new rows is in the
// tables yet, so only old rows match.
func (l *Loader) replaceDeferred(ctx context.Context) error {
	if len(l.deferred) == 0 {
		return nil
	}
	if _, err := l.conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE stage_replaced (source VARCHAR, digest BOOLEAN)`); err != nil {
		return fmt.Errorf("replace files read again: %w", err)
	}
	err := l.conn.Raw(func(dc any) error {
		a, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", "stage_replaced")
		if err != nil {
			return err
		}
		for _, res := range l.deferred {
			if err := a.AppendRow(res.Ref.Source, res.Digest != nil); err != nil {
				a.Close()
				return err
			}
		}
		return a.Close()
	})
	if err != nil {
		return fmt.Errorf("replace files read again: %w", err)
	}
	for _, q := range []string{
		`DELETE FROM ingested_files WHERE source IN (SELECT source FROM stage_replaced)`,
		`DELETE FROM digest_log_files WHERE digest_source IN (SELECT source FROM stage_replaced WHERE digest)`,
		`DELETE FROM digest_files WHERE source IN (SELECT source FROM stage_replaced WHERE digest)`,
		`DROP TABLE stage_replaced`,
	} {
		if _, err := l.conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("replace %d files read again: %w", len(l.deferred), err)
		}
	}
	for _, res := range l.deferred {
		if err := l.stage(res); err != nil {
			return err
		}
	}
	l.deferred = nil
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
		// The listed file's account, region and day, parsed as a log
		// file's path is: the integrity pass matches slice by slice on
		// them (schema/006_integrity_partitions.sql).
		var acct, region, day any
		if ki := ingest.ParseKey(lf.S3Object); ki.Kind == ingest.KindLog && ki.InLayout {
			acct, region, day = ki.AccountID, ki.Region, ki.Day
		}
		if err := l.dlfApp.AppendRow(ref.Source, nullStr(lf.S3Bucket), lf.S3Object, nullStr(lf.HashValue), nullTime(oldest), nullTime(newest), acct, region, day); err != nil {
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

// Commit ends the open batch: it moves the staged events into the events
// table, deduplicated on event_id (on a duplicate, the copy from the
// lexically smallest source file wins, so the result does not depend on the
// order files were read in), commits the transaction that also holds the
// files' checkpoint and digest rows, and opens the next batch.
func (l *Loader) Commit(ctx context.Context) error {
	return l.commit(ctx, true)
}

func (l *Loader) commit(ctx context.Context, reopen bool) error {
	// The commit must not be half-done because the user pressed Ctrl-C:
	// a cancelled context would abort it mid-transaction. It is short.
	cctx := context.WithoutCancel(ctx)
	if !l.inTx {
		return nil
	}
	if l.broken {
		l.rollback(cctx)
		return fmt.Errorf("commit batch to %s: abandoned after an error while staging", l.db.Path)
	}
	if l.nFiles == 0 {
		if !reopen {
			l.rollback(cctx) // nothing staged: end the transaction
		}
		return nil
	}
	// A batch of many kept events needs more than the writer's cap
	// (batchMemory); the cap comes back down once it is committed.
	if need := batchMemory(l.nBytes); need > l.memCap {
		if _, err := l.conn.ExecContext(cctx, memoryLimitSQL(need)); err != nil {
			l.rollback(cctx)
			return fmt.Errorf("commit batch to %s: raise the memory limit for %d kept events: %w", l.db.Path, l.nEvents, err)
		}
		l.memCap = need
	}
	err := func() error {
		if err := l.replaceDeferred(cctx); err != nil {
			return err
		}
		for _, a := range []*duckdb.Appender{l.evApp, l.fileApp, l.digApp, l.dlfApp} {
			if err := a.Flush(); err != nil {
				return fmt.Errorf("flush staged rows: %w", err)
			}
		}
		if _, err := l.conn.ExecContext(cctx, commitBatchSQL); err != nil {
			return err
		}
		l.closeAppenders() // an Appender must not outlive its transaction's table
		// The staged copies are no longer needed: dropped (a DELETE would
		// keep their storage) before COMMIT, whose checkpoint may need the
		// memory; begin creates the table again.
		if _, err := l.conn.ExecContext(cctx, `DROP TABLE stage_events`); err != nil {
			return err
		}
		if _, err := l.conn.ExecContext(cctx, `COMMIT`); err != nil {
			return err
		}
		l.inTx = false
		return nil
	}()
	if l.memCap > writerMemory {
		// DuckDB refuses a cap below what it holds right now (committed
		// rows not yet checkpointed): the raised cap then stays until a
		// later commit lowers it.
		if _, err := l.conn.ExecContext(cctx, memoryLimitSQL(writerMemory)); err == nil {
			l.memCap = writerMemory
		}
	}
	if err != nil {
		l.rollback(cctx)
		if reopen {
			l.begin(cctx)
		}
		return fmt.Errorf("commit batch to %s: %w", l.db.Path, err)
	}
	l.nFiles, l.nEvents, l.nBytes = 0, 0, 0
	l.Commits++
	releaseFreedMemory() // every few seconds at most: batches are large
	if reopen {
		return l.begin(cctx)
	}
	return nil
}

// rollback abandons the open batch: none of its rows stay.
func (l *Loader) rollback(ctx context.Context) {
	l.closeAppenders()
	if l.inTx {
		l.conn.ExecContext(ctx, `ROLLBACK`)
		l.inTx = false
	}
	l.nFiles, l.nEvents, l.nBytes = 0, 0, 0
	l.deferred = nil
	l.broken = false
}

// RunTotals are the counts written to the runs row at the end.
type RunTotals struct {
	Listed, Read, Failed, Records, Kept int64
	Status                              string // ok, partial (files failed), failed, interrupted
}

// Finish commits what is staged and closes the run. It is called on every
// exit path, including cancellation, so a clean stop keeps all complete
// files.
func (l *Loader) Finish(ctx context.Context, t RunTotals) error {
	cctx := context.WithoutCancel(ctx)
	err := l.commit(cctx, false)
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
	l.rollback(context.Background()) // a no-op after Finish's commit
	if l.conn != nil {
		l.conn.Close()
		l.conn = nil
	}
}
