package query

import (
	"context"
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
type Coverage struct {
	Window Window
	// Days are the UTC days overlapping the window, oldest first.
	Days []time.Time
	// Cells are ordered by account, region, day: len(Days) per stream.
	Cells     []CoverageCell
	Integrity []EventIntegrity
}

// Coverage runs coverage.sql and coverage_integrity.sql for the window and
// account filter.
func (db *DB) Coverage(ctx context.Context, f Filter) (*Coverage, error) {
	cov := &Coverage{Window: Window{Since: f.Since.UTC(), Until: f.Until.UTC()}, Cells: []CoverageCell{}, Integrity: []EventIntegrity{}}
	for d := utcMidnight(cov.Window.Since); d.Before(cov.Window.Until); d = d.AddDate(0, 0, 1) {
		cov.Days = append(cov.Days, d)
	}
	rows, err := db.QueryContext(ctx, coverageSQL, cov.Window.Since, cov.Window.Until, f.accountsParam())
	if err != nil {
		return nil, fmt.Errorf("coverage query %s – %s: %w", covDay(cov.Window.Since), covDay(cov.Window.Until), err)
	}
	for rows.Next() {
		var c CoverageCell
		if err := rows.Scan(&c.AccountID, &c.Region, &c.Day, &c.LogFiles, &c.FailedFiles, &c.Records, &c.KeptEvents,
			&c.ValidatedFiles, &c.ValidatedRecords, &c.ValidatedEvents, &c.IntegrityFailures,
			&c.DigestFiles, &c.DigestChainGaps, &c.DigestFailures); err != nil {
			rows.Close()
			return nil, fmt.Errorf("coverage query: scan: %w", err)
		}
		c.Day = c.Day.UTC()
		cov.Cells = append(cov.Cells, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("coverage query: %w", err)
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
func (c *Coverage) Streams() []StreamCoverage {
	var out []StreamCoverage
	var cur *StreamCoverage
	var gapStart time.Time
	inGap := false
	closeGap := func(last time.Time) {
		if inGap {
			cur.Gaps = append(cur.Gaps, DayRange{gapStart, last})
			inGap = false
		}
	}
	var prevDay time.Time
	for _, cell := range c.Cells {
		if cur == nil || cur.AccountID != cell.AccountID || cur.Region != cell.Region {
			if cur != nil {
				closeGap(prevDay)
			}
			out = append(out, StreamCoverage{AccountID: cell.AccountID, Region: cell.Region})
			cur = &out[len(out)-1]
		}
		cur.Days++
		if cell.Gap() {
			if !inGap {
				gapStart, inGap = cell.Day, true
			}
		} else {
			closeGap(prevDay)
			cur.DaysWithFiles++
		}
		prevDay = cell.Day
		cur.LogFiles += cell.LogFiles
		cur.FailedFiles += cell.FailedFiles
		cur.Records += cell.Records
		cur.KeptEvents += cell.KeptEvents
		cur.ValidatedFiles += cell.ValidatedFiles
		cur.ValidatedRecords += cell.ValidatedRecords
		cur.IntegrityFailures += cell.IntegrityFailures
		cur.DigestFiles += cell.DigestFiles
		cur.DigestChainGaps += cell.DigestChainGaps
		cur.DigestFailures += cell.DigestFailures
	}
	if cur != nil {
		closeGap(prevDay)
	}
	return out
}

// Accounts summarises the cells per account, ordered by account ID.
func (c *Coverage) Accounts() []AccountCoverage {
	streams := c.Streams()
	covered := map[string]map[time.Time]bool{}
	for _, cell := range c.Cells {
		if covered[cell.AccountID] == nil {
			covered[cell.AccountID] = map[time.Time]bool{}
		}
		if !cell.Gap() {
			covered[cell.AccountID][cell.Day] = true
		}
	}
	var out []AccountCoverage
	for _, s := range streams {
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
		a.DaysWithoutLogs = dayRanges(c.Days, func(d time.Time) bool { return !covered[a.AccountID][d] })
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
func (c *Coverage) AccountDays() map[string][]AccountDay {
	idx := map[time.Time]int{}
	for i, d := range c.Days {
		idx[d] = i
	}
	out := map[string][]AccountDay{}
	for _, cell := range c.Cells {
		ds := out[cell.AccountID]
		if ds == nil {
			ds = make([]AccountDay, len(c.Days))
			for i, d := range c.Days {
				ds[i].Day = d
			}
			out[cell.AccountID] = ds
		}
		i, ok := idx[cell.Day]
		if !ok {
			continue
		}
		ad := &ds[i]
		ad.Regions++
		if !cell.Gap() {
			ad.RegionsWithFiles++
		}
		ad.FailedFiles += cell.FailedFiles
		ad.IntegrityFailures += cell.IntegrityFailures
		ad.DigestChainGaps += cell.DigestChainGaps
		ad.DigestFailures += cell.DigestFailures
		ad.KeptEvents += cell.KeptEvents
	}
	return out
}

// dayRanges groups the days for which in is true into ranges of
// consecutive days.
func dayRanges(days []time.Time, in func(time.Time) bool) []DayRange {
	var out []DayRange
	for _, d := range days {
		if !in(d) {
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
