package query

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"sort"
	"time"
)

var (
	//go:embed sql/coverage.sql
	coverageSQL string
	//go:embed sql/coverage_integrity.sql
	coverageIntegritySQL string
	//go:embed sql/coverage_streams.sql
	coverageStreamsSQL string
)

// CoverageCell is one stream (account and region) on one UTC delivery day
// of the window: what log files were there and what they held. A cell with
// LogFiles == 0 is a gap: no log file at all was read for that account,
// region and day.
type CoverageCell struct {
	AccountID string
	Region    string
	// Day is the UTC delivery day (midnight UTC): the YYYY/MM/DD of the
	// object key, not the day of the events in it.
	Day               time.Time
	LogFiles          int64 // files read without error
	FailedFiles       int64 // files that failed to read; nothing of them is stored
	Records           int64 // CloudTrail records in the files read
	KeptEvents        int64 // rows of events whose stored copy came from these files
	ValidatedFiles    int64 // files whose integrity is valid (digest-validated)
	ValidatedRecords  int64 // records in those files
	ValidatedEvents   int64 // kept events from those files
	IntegrityFailures int64 // files whose integrity is neither valid nor not-validated
	DigestFiles       int64 // digest files starting on the day
	DigestChainGaps   int64 // digests whose previous digest was not found
	DigestFailures    int64 // digests with a broken hash chain or a bad or missing signature
}

// Gap reports whether no log file was read for the cell's account, region
// and day.
func (c CoverageCell) Gap() bool { return c.LogFiles == 0 }

// EventIntegrity is the number of kept events of the window whose source
// file has one integrity status (ingested_files.integrity: valid,
// not-validated, hash-mismatch, …; no-file for events without a file row).
type EventIntegrity struct {
	Integrity   string `json:"integrity"`
	Events      int64  `json:"events"`
	HumanEvents int64  `json:"human_events"`
}

// Coverage is the log coverage of a window: every stream (an account and
// region with at least one log file in the database) on every UTC day that
// overlaps the window, and the integrity of the files behind the window's
// events.
//
// The cells themselves are not held: a year of 1,000 accounts in 17 regions
// is 6.2 million of them (an evidence pack once needed 7 GB for that). The
// summaries below are built while the cells stream past, and EachCell reads
// them again, a group of accounts at a time, for coverage.csv.
type Coverage struct {
	Window Window
	// Days are the UTC days overlapping the window, oldest first.
	Days      []time.Time
	Integrity []EventIntegrity
	// Validation reports whether any cell has a digest-validated file, an
	// integrity failure or a digest file: whether --validate was ever run
	// on this window's logs.
	Validation bool
	// Cells is the number of cells (streams × days).
	Cells int64

	streams     []StreamCoverage
	inGap       bool              // the last stream's current run of days is a gap
	covered     map[string][]bool // per account, per day: a log file in some region
	accountDays map[string][]AccountDay
	each        func(ctx context.Context, fn func(*CoverageCell) error) error
}

// EachCell calls fn with every cell, ordered by account, region and day. The
// cell is reused between calls. For a Coverage from the database the cells
// are read again (the database must still be open).
func (c *Coverage) EachCell(ctx context.Context, fn func(*CoverageCell) error) error {
	if c.each == nil {
		return nil
	}
	return c.each(ctx, fn)
}

// NewCoverage builds the coverage of a window from cells already in memory
// (ordered by account, region and day; one per stream and day of the
// window), as Coverage does from the database.
func NewCoverage(w Window, cells []CoverageCell, integrity []EventIntegrity) *Coverage {
	c := newCoverage(w)
	c.Integrity = integrity
	c.each = func(ctx context.Context, fn func(*CoverageCell) error) error {
		for i := range cells {
			cell := cells[i]
			if err := fn(&cell); err != nil {
				return err
			}
		}
		return nil
	}
	c.each(context.Background(), func(cell *CoverageCell) error { c.add(cell); return nil })
	return c
}

func newCoverage(w Window) *Coverage {
	c := &Coverage{Window: Window{Since: w.Since.UTC(), Until: w.Until.UTC()}, Integrity: []EventIntegrity{},
		covered: map[string][]bool{}, accountDays: map[string][]AccountDay{}}
	for d := utcMidnight(c.Window.Since); d.Before(c.Window.Until); d = d.AddDate(0, 0, 1) {
		c.Days = append(c.Days, d)
	}
	return c
}

// coverageChunkCells bounds the cells of one coverage query: DuckDB hands a
// query's whole result over at once, about 100 bytes a cell.
const coverageChunkCells = 250_000

// Coverage runs coverage.sql and coverage_integrity.sql for the window and
// account filter. coverage.sql runs once per group of accounts whose cells
// stay under coverageChunkCells, and again for each EachCell.
func (db *DB) Coverage(ctx context.Context, f Filter) (*Coverage, error) {
	cov := newCoverage(f.Window)
	chunks, err := db.coverageChunks(ctx, f, len(cov.Days))
	if err != nil {
		return nil, err
	}
	cov.each = func(ctx context.Context, fn func(*CoverageCell) error) error {
		for _, r := range chunks {
			if err := db.coverageCells(ctx, cov.Window, f.accountsParam(), r, fn); err != nil {
				return err
			}
		}
		return nil
	}
	if err := cov.each(ctx, func(c *CoverageCell) error { cov.add(c); return nil }); err != nil {
		return nil, err
	}
	irows, err := db.QueryContext(ctx, coverageIntegritySQL, cov.Window.Since, cov.Window.Until, f.accountsParam())
	if err != nil {
		return nil, fmt.Errorf("coverage integrity query: %w", err)
	}
	defer irows.Close()
	for irows.Next() {
		var ic EventIntegrity
		if err := irows.Scan(&ic.Integrity, &ic.Events, &ic.HumanEvents); err != nil {
			return nil, fmt.Errorf("coverage integrity query: scan: %w", err)
		}
		cov.Integrity = append(cov.Integrity, ic)
	}
	if err := irows.Err(); err != nil {
		return nil, fmt.Errorf("coverage integrity query: %w", err)
	}
	return cov, nil
}

// accountRange is a group of accounts, first to last inclusive ("" = no
// bound).
type accountRange struct{ first, last string }

// coverageChunks groups the accounts with log files (within the filter) so
// that each group's streams × days stays under coverageChunkCells (an
// account with more is a group of its own). Each group is a range of
// account IDs, which DuckDB can match against its zone maps.
func (db *DB) coverageChunks(ctx context.Context, f Filter, days int) ([]accountRange, error) {
	rows, err := db.QueryContext(ctx, coverageStreamsSQL, f.accountsParam())
	if err != nil {
		return nil, fmt.Errorf("coverage streams query: %w", err)
	}
	defer rows.Close()
	var chunks []accountRange
	var cells int64
	for rows.Next() {
		var acct string
		var streams int64
		if err := rows.Scan(&acct, &streams); err != nil {
			return nil, fmt.Errorf("coverage streams query: scan: %w", err)
		}
		n := streams * int64(max(days, 1))
		if len(chunks) == 0 || cells+n > coverageChunkCells {
			chunks = append(chunks, accountRange{acct, acct})
			cells = 0
		}
		chunks[len(chunks)-1].last = acct
		cells += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("coverage streams query: %w", err)
	}
	return chunks, nil
}

// coverageCells runs coverage.sql for one group of accounts (within the
// filter) and hands each cell to fn. Account and region strings are shared
// between the cells of a stream rather than allocated per row.
func (db *DB) coverageCells(ctx context.Context, w Window, filter string, r accountRange, fn func(*CoverageCell) error) error {
	rows, err := db.QueryContext(ctx, coverageSQL, w.Since, w.Until, filter, r.first, r.last)
	if err != nil {
		return fmt.Errorf("coverage query %s – %s: %w", covDay(w.Since), covDay(w.Until), err)
	}
	defer rows.Close()
	var c CoverageCell
	var acct, region sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&acct, &region, &c.Day, &c.LogFiles, &c.FailedFiles, &c.Records, &c.KeptEvents,
			&c.ValidatedFiles, &c.ValidatedRecords, &c.ValidatedEvents, &c.IntegrityFailures,
			&c.DigestFiles, &c.DigestChainGaps, &c.DigestFailures); err != nil {
			return fmt.Errorf("coverage query: scan: %w", err)
		}
		if c.AccountID != string(acct) {
			c.AccountID = string(acct)
		}
		if c.Region != string(region) {
			c.Region = string(region)
		}
		c.Day = c.Day.UTC()
		if err := fn(&c); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("coverage query: %w", err)
	}
	return nil
}

// add folds one cell into the summaries. Cells come ordered by account,
// region and day.
func (c *Coverage) add(cell *CoverageCell) {
	c.Cells++
	if cell.ValidatedFiles > 0 || cell.IntegrityFailures > 0 || cell.DigestFiles > 0 {
		c.Validation = true
	}
	n := len(c.streams)
	if n == 0 || c.streams[n-1].AccountID != cell.AccountID || c.streams[n-1].Region != cell.Region {
		c.inGap = false
		c.streams = append(c.streams, StreamCoverage{AccountID: cell.AccountID, Region: cell.Region})
		n++
	}
	s := &c.streams[n-1]
	s.Days++
	if cell.Gap() {
		if !c.inGap {
			s.Gaps = append(s.Gaps, DayRange{cell.Day, cell.Day})
			c.inGap = true
		}
		s.Gaps[len(s.Gaps)-1].Last = cell.Day
	} else {
		c.inGap = false
		s.DaysWithFiles++
	}
	s.LogFiles += cell.LogFiles
	s.FailedFiles += cell.FailedFiles
	s.Records += cell.Records
	s.KeptEvents += cell.KeptEvents
	s.ValidatedFiles += cell.ValidatedFiles
	s.ValidatedRecords += cell.ValidatedRecords
	s.IntegrityFailures += cell.IntegrityFailures
	s.DigestFiles += cell.DigestFiles
	s.DigestChainGaps += cell.DigestChainGaps
	s.DigestFailures += cell.DigestFailures

	i := c.dayIndex(cell.Day)
	if i < 0 {
		return
	}
	ds := c.accountDays[cell.AccountID]
	if ds == nil {
		ds = make([]AccountDay, len(c.Days))
		for j, d := range c.Days {
			ds[j].Day = d
		}
		c.accountDays[cell.AccountID] = ds
		c.covered[cell.AccountID] = make([]bool, len(c.Days))
	}
	ad := &ds[i]
	ad.Regions++
	if !cell.Gap() {
		ad.RegionsWithFiles++
		c.covered[cell.AccountID][i] = true
	}
	ad.FailedFiles += cell.FailedFiles
	ad.IntegrityFailures += cell.IntegrityFailures
	ad.DigestChainGaps += cell.DigestChainGaps
	ad.DigestFailures += cell.DigestFailures
	ad.KeptEvents += cell.KeptEvents
}

// dayIndex is the index of day in Days, or -1.
func (c *Coverage) dayIndex(day time.Time) int {
	if len(c.Days) == 0 {
		return -1
	}
	i := int(day.Sub(c.Days[0]) / (24 * time.Hour))
	if i < 0 || i >= len(c.Days) || !c.Days[i].Equal(day) {
		return -1
	}
	return i
}

// DayRange is an inclusive range of UTC days.
type DayRange struct {
	First, Last time.Time
}

// Days is the number of days in the range.
func (r DayRange) Days() int { return int(r.Last.Sub(r.First)/(24*time.Hour)) + 1 }

// String formats the range as 2026-01-02 or 2026-01-02–2026-01-05.
func (r DayRange) String() string {
	if r.First.Equal(r.Last) {
		return covDay(r.First)
	}
	return covDay(r.First) + "–" + covDay(r.Last)
}

// StreamCoverage summarises one account and region over the window.
type StreamCoverage struct {
	AccountID         string
	Region            string
	Days              int // days of the window
	DaysWithFiles     int
	Gaps              []DayRange // days without any log file, as ranges
	LogFiles          int64
	FailedFiles       int64
	Records           int64
	KeptEvents        int64
	ValidatedFiles    int64
	ValidatedRecords  int64
	IntegrityFailures int64
	DigestFiles       int64
	DigestChainGaps   int64
	DigestFailures    int64
}

// GapDays is the number of days without any log file.
func (s StreamCoverage) GapDays() int { return s.Days - s.DaysWithFiles }

// AccountCoverage summarises one account over the window, across its
// regions.
type AccountCoverage struct {
	AccountID string
	Regions   []StreamCoverage // by region
	Days      int
	// DaysWithoutLogs are the days on which no log file of any region of
	// the account was read; a claim of "no root use" does not hold on them.
	DaysWithoutLogs []DayRange
	// DaysWithoutLogsCount is the number of days in DaysWithoutLogs.
	DaysWithoutLogsCount int
	// StreamGapDays counts account-region-days without a log file.
	StreamGapDays     int
	LogFiles          int64
	FailedFiles       int64
	KeptEvents        int64
	ValidatedFiles    int64
	IntegrityFailures int64
	DigestChainGaps   int64
	DigestFailures    int64
}

// Streams summarises the cells per account and region, ordered by account
// then region.
func (c *Coverage) Streams() []StreamCoverage { return c.streams }

// Accounts summarises the cells per account, ordered by account ID.
func (c *Coverage) Accounts() []AccountCoverage {
	var out []AccountCoverage
	for _, s := range c.streams {
		if len(out) == 0 || out[len(out)-1].AccountID != s.AccountID {
			out = append(out, AccountCoverage{AccountID: s.AccountID, Days: len(c.Days)})
		}
		a := &out[len(out)-1]
		a.Regions = append(a.Regions, s)
		a.StreamGapDays += s.GapDays()
		a.LogFiles += s.LogFiles
		a.FailedFiles += s.FailedFiles
		a.KeptEvents += s.KeptEvents
		a.ValidatedFiles += s.ValidatedFiles
		a.IntegrityFailures += s.IntegrityFailures
		a.DigestChainGaps += s.DigestChainGaps
		a.DigestFailures += s.DigestFailures
	}
	for i := range out {
		a := &out[i]
		cov := c.covered[a.AccountID]
		a.DaysWithoutLogs = dayRanges(c.Days, func(j int) bool { return cov == nil || !cov[j] })
		for _, r := range a.DaysWithoutLogs {
			a.DaysWithoutLogsCount += r.Days()
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AccountID < out[j].AccountID })
	return out
}

// AccountDay is the coverage of one account on one day across its regions.
type AccountDay struct {
	Day               time.Time
	Regions           int // regions of the account (streams)
	RegionsWithFiles  int
	FailedFiles       int64
	IntegrityFailures int64
	DigestChainGaps   int64
	DigestFailures    int64
	KeptEvents        int64
}

// AccountDays returns, per account ID, one AccountDay per day of the
// window: the cells of the accounts × days heatmap.
func (c *Coverage) AccountDays() map[string][]AccountDay { return c.accountDays }

// dayRanges groups the days for which in is true into ranges of
// consecutive days.
func dayRanges(days []time.Time, in func(int) bool) []DayRange {
	var out []DayRange
	for i, d := range days {
		if !in(i) {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Last.AddDate(0, 0, 1).Equal(d) {
			out[n-1].Last = d
			continue
		}
		out = append(out, DayRange{d, d})
	}
	return out
}

func utcMidnight(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func covDay(t time.Time) string { return t.UTC().Format("2006-01-02") }
