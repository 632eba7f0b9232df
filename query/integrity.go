package query

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"math"
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
	//go:embed sql/integrity_day_counts.sql
	integrityDayCountsSQL string
	//go:embed sql/integrity_chain_days.sql
	integrityChainDaysSQL string
	//go:embed sql/integrity_logs.sql
	integrityLogsSQL string
	//go:embed sql/integrity_listed.sql
	integrityListedSQL string
	//go:embed sql/integrity_listed_strips.sql
	integrityListedStripsSQL string
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
	// minStripSlices is the fewest slices for which the pass looks at how
	// rows are stored: below, reading each row group a few times costs
	// less than looking (0.1 s of the bench trail's 0.3-0.4 s pass).
	minStripSlices = 8
	// integrityStrips, when above 0, is the number of strips of days to
	// cut instead of what stripCount finds: for tests of trails too small
	// to have an order.
	integrityStrips = 0
)

// integrityRange is one slice of the pass: the (account, region, delivery
// day) values above lo (or from the lowest, loOpen) up to and including hi
// (or to the highest, hiOpen), with strips only those of the strip's days;
// or, with null, the rows where any of the three is unknown (one bucket of
// them); or, with all, every row.
type integrityRange struct {
	all, null      bool
	loOpen, hiOpen bool
	lo, hi         sliceBound
	strips         bool // the pass cuts strips of days: this slice is in strip
	strip          strip
	// The rows with an unknown account, region or day are cut into
	// buckets by a hash of their key: null slice bucket of buckets.
	bucket, buckets int64
	rows            int64 // what the slice was cut with
}

// strip is a range of delivery days (of digests, end days), both included,
// and the rows it was cut with.
type strip struct {
	lo, hi time.Time
	rows   int64
}

type sliceBound struct {
	account, region string
	day             time.Time
}

// endOfPair is the day bound that puts every day of an (account, region)
// below it.
var endOfPair = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

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
// else the ranges cut, the last open above, and the slices of unknowns.
func (c *sliceCutter) done() []integrityRange {
	if c.total+c.nulls <= c.limit {
		return []integrityRange{{all: true, rows: c.total + c.nulls}}
	}
	return append(c.ranges(), nullSlices(c.nulls, c.limit, false)...)
}

// ranges returns the ranges cut, the last open above; none if nothing was
// counted.
func (c *sliceCutter) ranges() []integrityRange {
	if c.total == 0 {
		return nil
	}
	c.cur.hiOpen = true
	c.cur.rows = c.n
	return append(c.slices, c.cur)
}

// nullSlices cuts the rows whose account, region or day is unknown into
// buckets of at most limit rows (by a hash of their key).
func nullSlices(nulls, limit int64, strips bool) []integrityRange {
	var out []integrityRange
	n := (nulls + limit - 1) / limit
	for b := int64(0); b < n; b++ {
		out = append(out, integrityRange{null: true, strips: strips, bucket: b, buckets: n, rows: nulls / n})
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
// delivery day), within a strip of days when the rows are not stored
// account by account (stripCount), matched and committed on its own, so
// memory stays bounded by the slice whatever the size of the database. The
// pass is recorded in integrity_passes: one that stops midway is reported
// as incomplete by `rootaudit integrity` until a later pass finishes.
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
	// How the rows are stored is looked at once, and only for a pass
	// that needs more than one slice.
	var layout *storageLayout
	storage := func() (*storageLayout, error) {
		var err error
		if layout == nil {
			layout, err = readStorage(ctx, conn)
		}
		return layout, err
	}
	chain, err := cutSlices(ctx, conn, storage, "digests", integrityChainDaysSQL, integrityChainPairsSQL, "", integrityChainRows)
	if err != nil {
		return fail(err)
	}
	logs, err := cutSlices(ctx, conn, storage, "log files", integrityDayCountsSQL, integrityLogPairsSQL, integrityLogDaysSQL, integritySliceRows)
	if err != nil {
		return fail(err)
	}
	if err := runSlices(ctx, conn, chain, func(integrityRange) string { return integrityChainSQL }, integrityChainRows); err != nil {
		return fail(fmt.Errorf("digest chain, %w", err))
	}
	logStmts := func(s integrityRange) string {
		if s.strips {
			return integrityListedStripsSQL + "\n" + integrityLogsSQL
		}
		return integrityListedSQL + "\n" + integrityLogsSQL
	}
	if err := runSlices(ctx, conn, logs, logStmts, integritySliceRows); err != nil {
		return fail(fmt.Errorf("log files, %w", err))
	}
	if _, err := conn.ExecContext(ctx, integrityPassFinishSQL, time.Now().UTC(), len(chain)+len(logs), pass); err != nil {
		return fail(fmt.Errorf("record the pass: %w", err))
	}
	return nil
}

// dayCount is how many rows of the pass have one delivery (or end) day.
type dayCount struct {
	day time.Time
	n   int64
}

// cutSlices cuts what (digests, or log files and listings) into slices of
// at most limit rows. storage tells how rows are stored (readStorage);
// days counts the rows of each day, with a NULL day for the rows whose
// account, region or day is unknown; pairs counts them
// by (account, region), and drill (if any) by day for one pair too large
// for a slice. When everything fits, that is one slice; else, the
// (account, region[, day]) ranges, within strips of days when stripCount
// finds that they read less of the tables, and the unknowns in shares.
func cutSlices(ctx context.Context, conn *sql.Conn, storage func() (*storageLayout, error), what, days, pairs, drill string, limit int64) ([]integrityRange, error) {
	if err := setSliceVars(ctx, conn, integrityRange{all: true}); err != nil { // no strip
		return nil, err
	}
	// Cut across accounts first: it is what a small pass needs (one
	// slice, or a few, where the order rows are stored in costs little),
	// and what rows stored account by account need.
	byAccount, err := cutStrip(ctx, conn, what, pairs, drill, limit, nil)
	if err != nil {
		return nil, err
	}
	if len(byAccount) == 1 && byAccount[0].all {
		return byAccount, nil
	}
	if len(byAccount) < minStripSlices && integrityStrips <= 0 {
		return byAccount, nil
	}
	n := integrityStrips
	if n <= 0 {
		layout, err := storage()
		if err != nil {
			return nil, err
		}
		var rows int64
		for _, s := range byAccount {
			if !s.null {
				rows += s.rows
			}
		}
		n = stripCount(layout.blocks, (rows+limit-1)/limit, layout.days)
	}
	if n <= 1 {
		return byAccount, nil
	}
	// Rows stored account by account stop above; only strips need the
	// count by day.
	counts, nulls, err := countDays(ctx, conn, what, days)
	if err != nil {
		return nil, err
	}
	if len(counts) <= 1 {
		return byAccount, nil
	}
	var total int64
	for _, d := range counts {
		total += d.n
	}
	// Each strip holds about as many rows as the slices of its ranges of
	// accounts: days packed up to that, so that few slices are left part
	// empty.
	slices := (total + limit - 1) / limit
	capacity := (slices + int64(n) - 1) / int64(n) * limit
	var out []integrityRange
	for _, st := range cutStrips(counts, capacity) {
		if st.rows <= limit {
			// One slice: no need to count the strip's pairs.
			out = append(out, integrityRange{loOpen: true, hiOpen: true, strips: true, strip: st, rows: st.rows})
			continue
		}
		if err := setSliceVars(ctx, conn, integrityRange{strips: true, strip: st}); err != nil {
			return nil, err
		}
		cut, err := cutStrip(ctx, conn, what, pairs, drill, limit, &st)
		if err != nil {
			return nil, err
		}
		out = append(out, cut...)
	}
	return append(out, nullSlices(nulls, limit, true)...), nil
}

// countDays reads a count of rows per day, in day order, and of the rows
// whose account, region or day is unknown (the NULL day).
func countDays(ctx context.Context, conn *sql.Conn, what, q string) ([]dayCount, int64, error) {
	var counts []dayCount // one per day: thousands at most
	var nulls int64
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, 0, fmt.Errorf("count %s by day: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var d sql.NullTime
		var n int64
		if err := rows.Scan(&d, &n); err != nil {
			return nil, 0, fmt.Errorf("count %s by day: %w", what, err)
		}
		if !d.Valid {
			nulls += n
			continue
		}
		counts = append(counts, dayCount{d.Time, n})
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("count %s by day: %w", what, err)
	}
	return counts, nulls, nil
}

// cutStrip cuts the rows of one strip of days (all of them when st is
// nil, the unknowns' slices included) into slices: whole (account, region)
// pairs packed together, and a pair too large for one slice cut by
// delivery day when drill counts its days (digests are never cut inside a
// pair: a pair has one digest an hour).
func cutStrip(ctx context.Context, conn *sql.Conn, what, pairs, drill string, limit int64, st *strip) ([]integrityRange, error) {
	type pair struct {
		account, region string
		n               int64
	}
	var ps []pair // one per account and region: thousands at most
	var nulls int64
	rows, err := conn.QueryContext(ctx, pairs)
	if err != nil {
		return nil, fmt.Errorf("count %s: %w", what, err)
	}
	for rows.Next() {
		var a, r sql.NullString
		var n int64
		if err := rows.Scan(&a, &r, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("count %s: %w", what, err)
		}
		if !a.Valid || !r.Valid {
			nulls += n
			continue
		}
		ps = append(ps, pair{a.String, r.String, n})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count %s: %w", what, err)
	}
	c := newSliceCutter(limit)
	for _, p := range ps {
		if p.n <= limit || drill == "" {
			c.add(sliceBound{p.account, p.region, endOfPair}, p.n)
			continue
		}
		c.cut()
		rows, err := conn.QueryContext(ctx, drill, p.account, p.region)
		if err != nil {
			return nil, fmt.Errorf("count %s of %s %s: %w", what, p.account, p.region, err)
		}
		for rows.Next() {
			var day time.Time
			var n int64
			if err := rows.Scan(&day, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("count %s of %s %s: %w", what, p.account, p.region, err)
			}
			c.add(sliceBound{p.account, p.region, day}, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("count %s of %s %s: %w", what, p.account, p.region, err)
		}
		// The rest of the pair's range (nothing today) stays in its
		// last slice.
		c.last.day = endOfPair
		c.cut()
	}
	if st == nil {
		// The unknowns are counted here, with every known row.
		c.nulls = nulls
		return c.done(), nil
	}
	out := c.ranges()
	for i := range out {
		out[i].strips, out[i].strip = true, *st
	}
	return out, nil
}

// storageBlock is what one block of integrityBlockRows consecutive rows
// holds: its rows, and the share of all accounts and of all delivery days
// among them.
type storageBlock struct {
	n              int64
	accounts, days float64
}

// storageLayout is how the log files and listings are stored: blocks of
// integrityBlockRows rows, and how many delivery days they hold in all.
type storageLayout struct {
	blocks []storageBlock
	days   int
}

// readStorage reads the storage layout (integrity_order.sql).
func readStorage(ctx context.Context, conn *sql.Conn) (*storageLayout, error) {
	rows, err := conn.QueryContext(ctx, integrityOrderSQL, integrityBlockRows)
	if err != nil {
		return nil, fmt.Errorf("see how log files are stored: %w", err)
	}
	defer rows.Close()
	// Rows / 32,768: about a thousand blocks at 23 million files.
	l := &storageLayout{}
	for rows.Next() {
		var b storageBlock
		if err := rows.Scan(&b.n, &b.accounts, &b.days, &l.days); err != nil {
			return nil, fmt.Errorf("see how log files are stored: %w", err)
		}
		l.blocks = append(l.blocks, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("see how log files are stored: %w", err)
	}
	return l, nil
}

// stripCount chooses how many strips of days to cut the pass into, for
// slices of at least slices in all over days distinct days, from how the
// rows are stored. A slice reads the row groups whose zone maps overlap
// both its strip and its range of accounts. With d strips, each cut into
// about slices/d ranges of accounts, a block holding a share f of the
// accounts and g of the days is read by about min(a, f·a+1) × min(d, g·d+1)
// slices (a = slices/d); the count returned minimizes the rows read so.
// Rows stored account by account (one ingest of a year) give 1: ranges of
// accounts over all days. Rows stored day by day (nightly ingests) give
// about one strip a slice. A year ingested at once and then a year of
// nightly runs gives about the square root of the slices, where either
// pure cut reads half the rows in every slice.
func stripCount(blocks []storageBlock, slices int64, days int) int {
	if days < 1 || slices < 2 {
		return 1
	}
	cost := func(d int) float64 {
		a := math.Max(1, math.Ceil(float64(slices)/float64(d)))
		var c float64
		for _, b := range blocks {
			c += float64(b.n) * math.Min(a, b.accounts*a+1) * math.Min(float64(d), b.days*float64(d)+1)
		}
		return c
	}
	best, bestCost := 1, cost(1)
	try := func(d int) {
		if d > 1 && d <= days {
			if c := cost(d); c < bestCost*0.95 { // fewer strips on a near tie
				best, bestCost = d, c
			}
		}
	}
	for d := 2; d < days; d *= 2 {
		try(d)
	}
	try(int(min(slices, int64(days)))) // a slice a strip
	try(days)
	return best
}

// cutStrips packs consecutive days into strips of at most capacity rows; a
// day larger than that is a strip of its own.
func cutStrips(days []dayCount, capacity int64) []strip {
	var out []strip
	cur := strip{lo: days[0].day}
	for i, d := range days {
		if cur.rows > 0 && cur.rows+d.n > capacity {
			cur.hi = days[i-1].day
			out = append(out, cur)
			cur = strip{lo: d.day}
		}
		cur.rows += d.n
	}
	cur.hi = days[len(days)-1].day
	return append(out, cur)
}

// runSlices runs each slice's statements (stmts) in turn, each slice in its
// own transaction. Committed updates stay in DuckDB's memory until a checkpoint writes them
// to the file, and its automatic one waits for 16 MB of log: slice after
// slice they would add up past the memory limit, so every two slices' worth
// of rows (limit is the slice size) is checkpointed.
func runSlices(ctx context.Context, conn *sql.Conn, slices []integrityRange, stmts func(integrityRange) string, limit int64) error {
	var pending int64
	for _, s := range slices {
		pending += s.rows
		checkpoint := pending >= 2*limit
		if checkpoint {
			pending = 0
		}
		if err := runSlice(ctx, conn, s, stmts(s), checkpoint); err != nil {
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
		if err := setSliceVars(ctx, conn, s); err != nil {
			return err
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

// setSliceVars sets the variables integrity_macros.sql reads for slice s;
// for counting, only its strip matters.
func setSliceVars(ctx context.Context, conn *sql.Conn, s integrityRange) error {
	for _, v := range []struct {
		name, expr string
		val        any
	}{
		{"slice_all", "?", s.all}, {"slice_null", "?", s.null}, {"lo_open", "?", s.loOpen}, {"hi_open", "?", s.hiOpen},
		{"lo_a", "?", s.lo.account}, {"lo_r", "?", s.lo.region}, {"lo_d", "CAST(? AS DATE)", dayString(s.lo.day)},
		{"hi_a", "?", s.hi.account}, {"hi_r", "?", s.hi.region}, {"hi_d", "CAST(? AS DATE)", dayString(s.hi.day)},
		{"strips", "?", s.strips}, {"strip_lo", "CAST(? AS DATE)", dayString(s.strip.lo)}, {"strip_hi", "CAST(? AS DATE)", dayString(s.strip.hi)},
		{"null_bucket", "?", s.bucket}, {"null_buckets", "?", max(s.buckets, 1)},
	} {
		if _, err := conn.ExecContext(ctx, `SET VARIABLE `+v.name+` = `+v.expr, v.val); err != nil {
			return fmt.Errorf("set %s: %w", v.name, err)
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
		if v.day.Equal(endOfPair) {
			return v.account + " " + v.region
		}
		return fmt.Sprintf("%s %s %s", v.account, v.region, dayString(v.day))
	}
	in := ""
	if s.strips {
		in = fmt.Sprintf(" of days %s to %s", dayString(s.strip.lo), dayString(s.strip.hi))
	}
	return fmt.Sprintf("slice after %s up to %s%s", b(s.loOpen, s.lo, "the start"), b(s.hiOpen, s.hi, "the end"), in)
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
