package query

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"strings"
	"time"
)

var (
	//go:embed sql/integrity_macros.sql
	integrityMacrosSQL string
	//go:embed sql/integrity_units.sql
	integrityUnitsSQL string
	//go:embed sql/integrity_last_pass.sql
	integrityLastPassSQL string
	//go:embed sql/integrity_pass_start.sql
	integrityPassStartSQL string
	//go:embed sql/integrity_pass_finish.sql
	integrityPassFinishSQL string
	//go:embed sql/integrity_log_pairs.sql
	integrityLogPairsSQL string
	//go:embed sql/integrity_log_days.sql
	integrityLogDaysSQL string
	//go:embed sql/integrity_order.sql
	integrityOrderSQL string
	//go:embed sql/integrity_slice_accounts.sql
	integritySliceAccountsSQL string
	//go:embed sql/integrity_slice_days.sql
	integritySliceDaysSQL string
	//go:embed sql/integrity_day_counts.sql
	integrityDayCountsSQL string
	//go:embed sql/integrity_day_pairs.sql
	integrityDayPairsSQL string
	//go:embed sql/integrity_chain_days.sql
	integrityChainDaysSQL string
	//go:embed sql/integrity_chain_day_pairs.sql
	integrityChainDayPairsSQL string
	//go:embed sql/integrity_logs.sql
	integrityLogsSQL string
	//go:embed sql/integrity_chain_pairs.sql
	integrityChainPairsSQL string
	//go:embed sql/integrity_chain.sql
	integrityChainSQL string
	//go:embed sql/integrity_summary.sql
	integritySummarySQL string
	//go:embed sql/integrity_failures.sql
	integrityFailuresSQL string
	//go:embed sql/integrity_unreadable.sql
	integrityUnreadableSQL string
)

// integrityMemory is DuckDB's memory limit during the integrity pass.
const integrityMemory = "64MB"

// Slice sizes of the integrity pass. One slice of log files and digest
// listings (counted together), or of digests, is matched and committed on
// its own, so its size, not the trail's, bounds the pass's memory. Matched
// in one piece, 150,000 log files and their listings needed more than
// 128 MB; with 50,000-row slices and 64 MB the pass stays below the peak
// RSS of the ingest before it (4.3 GB trail, docs/performance.md).
// Variables, not constants, so that tests can cut a small trail into many
// slices.
var (
	integritySliceRows = int64(50_000)
	integrityChainRows = int64(50_000)
	// integrityBlockRows is the block of consecutive rows integrity_order.sql
	// looks at to tell how rows are stored: the writer's row group.
	integrityBlockRows = int64(writerRowGroup)
	// integrityOrder overrides what storedByDay finds ("accounts" or
	// "days"), for tests of trails too small to have an order.
	integrityOrder = ""
)

// integrityRange is one slice of the pass: the (account, region, delivery
// day) values above lo (or from the lowest, loOpen) up to and including hi
// (or to the highest, hiOpen); or, with null, the rows where any of the
// three is unknown (one bucket of them); or, with all, every row.
type integrityRange struct {
	all, null      bool
	loOpen, hiOpen bool
	lo, hi         sliceBound
	// The rows with an unknown account, region or day are cut into
	// buckets by a hash of their key: null slice bucket of buckets.
	bucket, buckets int64
	rows            int64 // what the slice was cut with
}

type sliceBound struct {
	account, region string
	day             time.Time
}

// endOfPair is the day bound that puts every day of an (account, region)
// below it.
var endOfPair = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// endOfDay is the account and region bound that puts every (account,
// region) of a day below it, when slices are cut by day: the highest code
// point, above every account ID and region name.
const endOfDay = "\U0010FFFF"

// sliceCutter packs consecutive (account, region[, day]) counts into
// slices of at most limit rows; a single value larger than the limit is a
// slice of its own.
type sliceCutter struct {
	limit  int64
	n      int64
	total  int64 // every row counted, unknowns included
	nulls  int64 // rows whose account, region or day is unknown
	last   sliceBound
	cur    integrityRange
	slices []integrityRange
}

func newSliceCutter(limit int64) *sliceCutter {
	return &sliceCutter{limit: limit, cur: integrityRange{loOpen: true}}
}

// add counts n rows at b, cutting the open slice first if they would not fit.
func (c *sliceCutter) add(b sliceBound, n int64) {
	if c.n > 0 && c.n+n > c.limit {
		c.cut()
	}
	c.n += n
	c.total += n
	c.last = b
}

// cut closes the open slice at the last value added.
func (c *sliceCutter) cut() {
	if c.n == 0 {
		return
	}
	c.cur.hi = c.last
	c.cur.rows = c.n
	c.slices = append(c.slices, c.cur)
	c.cur = integrityRange{lo: c.last}
	c.n = 0
}

// done returns the slices: one for everything when it all fits in one,
// else the ranges cut, the last open above, and the slice of unknowns.
func (c *sliceCutter) done() []integrityRange {
	if c.total+c.nulls <= c.limit {
		return []integrityRange{{all: true, rows: c.total + c.nulls}}
	}
	c.cur.hiOpen = true
	c.cur.rows = c.n
	out := append(c.slices, c.cur)
	if c.nulls > 0 {
		n := (c.nulls + c.limit - 1) / c.limit
		for b := int64(0); b < n; b++ {
			out = append(out, integrityRange{null: true, bucket: b, buckets: n, rows: c.nulls / n})
		}
	}
	return out
}

// UpdateIntegrity derives every digest's chain status, every log file's
// integrity status and the list of files digests name that were never
// read, from everything stored (not only this run: a digest read today can
// vouch for a log file read last month). It runs at the end of `ingest
// --validate`.
//
// The work is cut into slices of at most integritySliceRows log files and
// listings (integrityChainRows digests), each a range of (account, region,
// delivery day), or of (day, account, region) when the rows are stored day
// by day (storedByDay), matched and committed on its own, so memory stays
// bounded by the slice whatever the size of the database. The pass is recorded in
// integrity_passes: one that stops midway is reported as incomplete by
// `rootaudit integrity` until a later pass finishes.
//
// run is the ingest run that just ended. When the last pass finished, only
// the (account, region, day) units that runs since then touched are redone
// (integrity_units.sql): a nightly run against a year of trail redoes its
// days, not the year. run 0, or a last pass that did not finish, redoes
// everything.
func (db *DB) UpdateIntegrity(ctx context.Context, run int64) error {
	fail := func(err error) error { return fmt.Errorf("update integrity in %s: %w", db.Path, err) }
	// The pass needs more than the ingest writer's buffer pool
	// (writerMemory), which is sized for a trickle of appends.
	if _, err := db.ExecContext(ctx, `SET memory_limit = '`+integrityMemory+`'`); err != nil {
		return fail(err)
	}
	// The macros and slice variables are the connection's own.
	conn, err := db.Conn(ctx)
	if err != nil {
		return fail(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, integrityMacrosSQL); err != nil {
		return fail(err)
	}
	since := int64(-1) // redo everything
	if run > 0 {
		var finished bool
		var through sql.NullInt64
		err := conn.QueryRowContext(ctx, integrityLastPassSQL).Scan(&finished, &through)
		switch {
		case err == sql.ErrNoRows:
		case err != nil:
			return fail(fmt.Errorf("read the last pass: %w", err))
		case finished && through.Valid && through.Int64 < run:
			since = through.Int64
		}
	}
	for _, v := range []struct {
		name string
		val  any
	}{{"units_only", since >= 0}, {"since_run", since}} {
		if _, err := conn.ExecContext(ctx, `SET VARIABLE `+v.name+` = ?`, v.val); err != nil {
			return fail(fmt.Errorf("set %s: %w", v.name, err))
		}
	}
	if _, err := conn.ExecContext(ctx, integrityUnitsSQL); err != nil {
		return fail(fmt.Errorf("find what changed since run %d: %w", since, err))
	}
	var pass int64
	var through any // the last run stored, when run is 0
	if run > 0 {
		through = run
	}
	if err := conn.QueryRowContext(ctx, integrityPassStartSQL, time.Now().UTC(), through).Scan(&pass); err != nil {
		return fail(fmt.Errorf("record the pass: %w", err))
	}
	if _, err := conn.ExecContext(ctx, integritySliceAccountsSQL); err != nil {
		return fail(err)
	}
	chain, err := chainSlices(ctx, conn)
	if err != nil {
		return fail(err)
	}
	logs, err := logSlices(ctx, conn)
	if err != nil {
		return fail(err)
	}
	if len(chain) > 1 || len(logs) > 1 {
		// Each slice reads the row groups whose zone maps overlap its
		// range: cut across the order the rows are stored in, every
		// slice reads nearly the whole table.
		byDay, err := storedByDay(ctx, conn)
		if err != nil {
			return fail(err)
		}
		if byDay {
			if _, err := conn.ExecContext(ctx, integritySliceDaysSQL); err != nil {
				return fail(err)
			}
			if chain, err = daySlices(ctx, conn, "digests", integrityChainDaysSQL, integrityChainDayPairsSQL, integrityChainRows); err != nil {
				return fail(err)
			}
			if logs, err = daySlices(ctx, conn, "log files", integrityDayCountsSQL, integrityDayPairsSQL, integritySliceRows); err != nil {
				return fail(err)
			}
		}
	}
	if err := runSlices(ctx, conn, chain, integrityChainSQL, integrityChainRows); err != nil {
		return fail(fmt.Errorf("digest chain, %w", err))
	}
	if err := runSlices(ctx, conn, logs, integrityLogsSQL, integritySliceRows); err != nil {
		return fail(fmt.Errorf("log files, %w", err))
	}
	if _, err := conn.ExecContext(ctx, integrityPassFinishSQL, time.Now().UTC(), len(chain)+len(logs), pass); err != nil {
		return fail(fmt.Errorf("record the pass: %w", err))
	}
	return nil
}

// chainSlices cuts the digests into slices of whole (account, region) pairs.
func chainSlices(ctx context.Context, conn *sql.Conn) ([]integrityRange, error) {
	c := newSliceCutter(integrityChainRows)
	rows, err := conn.QueryContext(ctx, integrityChainPairsSQL)
	if err != nil {
		return nil, fmt.Errorf("count digests: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a, r sql.NullString
		var n int64
		if err := rows.Scan(&a, &r, &n); err != nil {
			return nil, fmt.Errorf("count digests: %w", err)
		}
		if !a.Valid || !r.Valid {
			c.nulls += n
			continue
		}
		c.add(sliceBound{a.String, r.String, endOfPair}, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count digests: %w", err)
	}
	return c.done(), nil
}

// logSlices cuts the log files and listings into slices: whole (account,
// region) pairs packed together, and a pair too large for one slice cut by
// delivery day.
func logSlices(ctx context.Context, conn *sql.Conn) ([]integrityRange, error) {
	type pair struct {
		account, region string
		n               int64
	}
	var pairs []pair // one per account and region: thousands at most
	var nulls int64
	rows, err := conn.QueryContext(ctx, integrityLogPairsSQL)
	if err != nil {
		return nil, fmt.Errorf("count log files: %w", err)
	}
	for rows.Next() {
		var a, r sql.NullString
		var n int64
		if err := rows.Scan(&a, &r, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("count log files: %w", err)
		}
		if !a.Valid || !r.Valid {
			nulls += n
			continue
		}
		pairs = append(pairs, pair{a.String, r.String, n})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count log files: %w", err)
	}
	c := newSliceCutter(integritySliceRows)
	c.nulls = nulls
	for _, p := range pairs {
		if p.n <= integritySliceRows {
			c.add(sliceBound{p.account, p.region, endOfPair}, p.n)
			continue
		}
		c.cut()
		rows, err := conn.QueryContext(ctx, integrityLogDaysSQL, p.account, p.region)
		if err != nil {
			return nil, fmt.Errorf("count log files of %s %s: %w", p.account, p.region, err)
		}
		for rows.Next() {
			var day time.Time
			var n int64
			if err := rows.Scan(&day, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("count log files of %s %s: %w", p.account, p.region, err)
			}
			c.add(sliceBound{p.account, p.region, day}, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("count log files of %s %s: %w", p.account, p.region, err)
		}
		// The rest of the pair's range (nothing today) stays in its
		// last slice.
		c.last.day = endOfPair
		c.cut()
	}
	return c.done(), nil
}

// storedByDay reports whether the log files and listings are stored day by
// day (a year of nightly ingests) rather than account by account (one
// ingest of a year, in S3's listing order), so that slices cut by day skip
// more of the table than slices cut by account.
func storedByDay(ctx context.Context, conn *sql.Conn) (bool, error) {
	if integrityOrder != "" {
		return integrityOrder == "days", nil
	}
	var accounts, days float64
	if err := conn.QueryRowContext(ctx, integrityOrderSQL, integrityBlockRows).Scan(&accounts, &days); err != nil {
		return false, fmt.Errorf("see how log files are stored: %w", err)
	}
	return days < accounts, nil
}

// daySlices cuts what counts (log files and listings, or digests) into
// slices as logSlices does, by (day, account, region): whole days packed
// together, and a day too large for one slice cut by account and region.
// days counts the rows of each day, with a NULL day for the unknowns;
// pairs counts those of one day by account and region.
func daySlices(ctx context.Context, conn *sql.Conn, what, days, pairs string, limit int64) ([]integrityRange, error) {
	type count struct {
		day time.Time
		n   int64
	}
	var counts []count // one per day: thousands at most
	var nulls int64
	rows, err := conn.QueryContext(ctx, days)
	if err != nil {
		return nil, fmt.Errorf("count %s by day: %w", what, err)
	}
	for rows.Next() {
		var d sql.NullTime
		var n int64
		if err := rows.Scan(&d, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("count %s by day: %w", what, err)
		}
		if !d.Valid {
			nulls += n
			continue
		}
		counts = append(counts, count{d.Time, n})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count %s by day: %w", what, err)
	}
	c := newSliceCutter(limit)
	c.nulls = nulls
	for _, d := range counts {
		if d.n <= limit {
			c.add(sliceBound{endOfDay, endOfDay, d.day}, d.n)
			continue
		}
		c.cut()
		name := d.day.Format(time.DateOnly)
		rows, err := conn.QueryContext(ctx, pairs, name)
		if err != nil {
			return nil, fmt.Errorf("count %s of %s: %w", what, name, err)
		}
		for rows.Next() {
			var a, r string
			var n int64
			if err := rows.Scan(&a, &r, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("count %s of %s: %w", what, name, err)
			}
			c.add(sliceBound{a, r, d.day}, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("count %s of %s: %w", what, name, err)
		}
		// The rest of the day's range (nothing today) stays in its last
		// slice.
		c.last.account, c.last.region = endOfDay, endOfDay
		c.cut()
	}
	return c.done(), nil
}

// runSlices runs stmts on each slice in turn, each in its own transaction.
// Committed updates stay in DuckDB's memory until a checkpoint writes them
// to the file, and its automatic one waits for 16 MB of log: slice after
// slice they would add up past the memory limit, so every two slices' worth
// of rows (limit is the slice size) is checkpointed.
func runSlices(ctx context.Context, conn *sql.Conn, slices []integrityRange, stmts string, limit int64) error {
	var pending int64
	for _, s := range slices {
		pending += s.rows
		checkpoint := pending >= 2*limit
		if checkpoint {
			pending = 0
		}
		if err := runSlice(ctx, conn, s, stmts, checkpoint); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// runSlice sets the slice's bounds and runs one slice of the pass in its
// own transaction; with checkpoint, it then writes the changes so far
// into the database file.
func runSlice(ctx context.Context, conn *sql.Conn, s integrityRange, stmts string, checkpoint bool) error {
	if _, err := conn.ExecContext(ctx, `BEGIN TRANSACTION`); err != nil {
		return err
	}
	err := func() error {
		for _, v := range []struct {
			name, expr string
			val        any
		}{
			{"slice_all", "?", s.all}, {"slice_null", "?", s.null}, {"lo_open", "?", s.loOpen}, {"hi_open", "?", s.hiOpen},
			{"lo_a", "?", s.lo.account}, {"lo_r", "?", s.lo.region}, {"lo_d", "CAST(? AS DATE)", dayString(s.lo.day)},
			{"hi_a", "?", s.hi.account}, {"hi_r", "?", s.hi.region}, {"hi_d", "CAST(? AS DATE)", dayString(s.hi.day)},
			{"null_bucket", "?", s.bucket}, {"null_buckets", "?", max(s.buckets, 1)},
		} {
			if _, err := conn.ExecContext(ctx, `SET VARIABLE `+v.name+` = `+v.expr, v.val); err != nil {
				return fmt.Errorf("set %s: %w", v.name, err)
			}
		}
		for _, st := range SplitStatements(stmts) {
			if BlankStatement(st) {
				continue
			}
			if _, err := conn.ExecContext(ctx, st); err != nil {
				return fmt.Errorf("%s: %w", statementName(st), err)
			}
			// DuckDB frees each statement's hash tables and temporary
			// tables, but its jemalloc keeps the pages: over the slices
			// of the 4.3 GB bench trail the process grew by ~120 MB while
			// DuckDB tracked 10-35 MB. Purged after every statement, the
			// pass peaked ~55 MB lower, for about 30 ms more per slice
			// (docs/performance.md, "The integrity pass at scale").
			releaseDuckDBPages()
		}
		_, err := conn.ExecContext(ctx, `COMMIT`)
		return err
	}()
	if err != nil {
		conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		return err
	}
	if checkpoint {
		if _, err := conn.ExecContext(ctx, `CHECKPOINT`); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
	}
	return nil
}

// dayString is a bound's day as DuckDB reads a DATE; the zero time (an open
// bound, whose value is never compared) as the lowest date.
func dayString(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01"
	}
	return t.Format("2006-01-02")
}

// String names the slice in errors.
func (s integrityRange) String() string {
	if s.all {
		return "all files"
	}
	if s.null {
		return fmt.Sprintf("files outside CloudTrail's layout, share %d of %d", s.bucket+1, s.buckets)
	}
	b := func(open bool, v sliceBound, none string) string {
		if open {
			return none
		}
		switch {
		case v.account == endOfDay:
			return dayString(v.day)
		case v.day.Equal(endOfPair):
			return v.account + " " + v.region
		}
		return fmt.Sprintf("%s %s %s", v.account, v.region, dayString(v.day))
	}
	return fmt.Sprintf("slice after %s up to %s", b(s.loOpen, s.lo, "the start"), b(s.hiOpen, s.hi, "the end"))
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

// IntegritySummary returns the summary lines and how many failures there
// are (files and digests), without listing them: on a trail with months
// of missing digests they are millions of rows, and the end of `ingest
// --validate` only prints counts.
func (db *DB) IntegritySummary(ctx context.Context) ([]IntegrityCount, int64, error) {
	sum := []IntegrityCount{}
	rows, err := db.QueryContext(ctx, integritySummarySQL)
	if err != nil {
		return nil, 0, fmt.Errorf("integrity summary: %w", err)
	}
	for rows.Next() {
		var c IntegrityCount
		if err := rows.Scan(&c.Kind, &c.Status, &c.Files, &c.Events); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("integrity summary: scan: %w", err)
		}
		sum = append(sum, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("integrity summary: %w", err)
	}
	var unreadable int64
	if err := db.QueryRowContext(ctx, integrityUnreadableSQL).Scan(&unreadable); err != nil {
		return nil, 0, fmt.Errorf("integrity summary: %w", err)
	}
	return sum, summaryFailures(sum) + unreadable, nil
}

// Integrity summarises validation results and lists every failure.
func (db *DB) Integrity(ctx context.Context) (*Integrity, error) {
	sum, failures, err := db.IntegritySummary(ctx)
	if err != nil {
		return nil, err
	}
	out := &Integrity{Summary: sum, Failures: []IntegrityFailure{}}
	if failures == 0 {
		return out, nil
	}
	rows, err := db.QueryContext(ctx, integrityFailuresSQL)
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

// summaryFailures counts the files and digests of the summary that
// integrity_failures.sql lists (files that could not be read at all are
// not in the summary), an unfinished pass as one.
func summaryFailures(sum []IntegrityCount) int64 {
	var n int64
	for _, c := range sum {
		switch {
		case c.Kind == "integrity-pass":
			n++ // the last pass did not finish
		case c.Kind == "log" && c.Status != "valid" && c.Status != "not-validated",
			c.Kind == "digest-signature" && c.Status != "valid",
			c.Kind == "digest-chain" && (c.Status == "gap" || c.Status == "hash-mismatch"):
			n += c.Files
		}
	}
	return n
}

// statementName is the first line of a statement that is not a comment,
// shortened: which step of a slice failed.
func statementName(st string) string {
	for _, line := range strings.Split(st, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "--") {
			continue
		}
		if len(line) > 60 {
			line = line[:60] + "…"
		}
		return line
	}
	return "empty statement"
}
