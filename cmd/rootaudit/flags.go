package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/spf13/pflag"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rootaudit/rootaudit/ingest"
	"github.com/rootaudit/rootaudit/query"
	"github.com/rootaudit/rootaudit/report"
)

// windowFlags are --since and --until, shared by every command that reads a
// time range.
type windowFlags struct {
	since, until string
	now          func() time.Time
}

// parseTime reads an RFC 3339 date (2026-01-31, UTC midnight) or time. For
// --since, a duration back from now is accepted too: 365d, 12h, 90m.
func parseTime(s string, now time.Time, allowAgo bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if allowAgo {
		if d, err := parseAgo(s); err == nil {
			return now.Add(-d).UTC(), nil
		}
	}
	want := "an RFC 3339 date (2026-01-31) or time (2026-01-31T12:00:00Z)"
	if allowAgo {
		want += " or a duration such as 365d"
	}
	return time.Time{}, fmt.Errorf("%q is not %s", s, want)
}

// maxAgoDays is the longest duration accepted in days (about 273 years).
const maxAgoDays = 100000

func parseAgo(s string) (time.Duration, error) {
	if strings.HasSuffix(s, "d") {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		// A time.Duration holds about 106,751 days; more would wrap
		// around into the future.
		if err != nil || n < 0 || n > maxAgoDays {
			return 0, fmt.Errorf("bad day count %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	return d, nil
}

// window resolves the flags; the default is the last 12 months (365 days)
// up to now.
func (w windowFlags) window() (query.Window, error) {
	now := time.Now().UTC()
	if w.now != nil {
		now = w.now()
	}
	var win query.Window
	var err error
	if w.since == "" {
		win.Since = now.Add(-365 * 24 * time.Hour)
	} else if win.Since, err = parseTime(w.since, now, true); err != nil {
		return win, usageError{fmt.Errorf("--since: %w", err)}
	}
	if w.until == "" {
		win.Until = now
	} else if win.Until, err = parseTime(w.until, now, false); err != nil {
		return win, usageError{fmt.Errorf("--until: %w", err)}
	}
	if !win.Since.Before(win.Until) {
		return win, usageError{fmt.Errorf("--since %s is not before --until %s", win.Since.Format(time.RFC3339), win.Until.Format(time.RFC3339))}
	}
	return win, nil
}

// parseAccounts splits --account values (repeatable, comma-separated) and
// checks each is a 12-digit ID, which is also what keeps them out of SQL
// text: they are passed as parameters in any case.
func parseAccounts(flag string, vals []string) ([]string, error) {
	var out []string
	for _, v := range vals {
		for _, a := range strings.Split(v, ",") {
			a = strings.TrimSpace(a)
			if a == "" {
				continue
			}
			if !ingest.IsAccountID(a) {
				return nil, usageError{fmt.Errorf("--%s %q is not a 12-digit AWS account ID", flag, a)}
			}
			out = append(out, a)
		}
	}
	return out, nil
}

func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func set(vals []string) map[string]bool {
	if len(vals) == 0 {
		return nil
	}
	m := map[string]bool{}
	for _, v := range vals {
		m[v] = true
	}
	return m
}

// output opens -o FILE or returns stdout. The returned close reports write
// errors (a full disk must not pass silently).
func output(opts *globalOptions, path string) (w *os.File, closeFn func() error, err error) {
	if path == "" || path == "-" {
		if f, ok := opts.stdout.(*os.File); ok {
			return f, func() error { return nil }, nil
		}
		return nil, func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		err = fmt.Errorf("create output %s: %w", path, err)
		// A directory that does not exist is a bad -o argument (exit 2);
		// a full disk or a permission is not the user's typo.
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, nil, usageError{err}
		}
		return nil, nil, err
	}
	return f, func() error {
		if err := f.Close(); err != nil {
			return fmt.Errorf("write output %s: %w", path, err)
		}
		return nil
	}, nil
}

// render writes r in format to -o or stdout.
func render(opts *globalOptions, format, outPath string, r report.Report) error {
	rd, err := report.For(format)
	if err != nil {
		return usageError{err}
	}
	f, closeFn, err := output(opts, outPath)
	if err != nil {
		return err
	}
	if f == nil {
		if err := rd.Render(opts.stdout, r); err != nil {
			return err
		}
		return closeFn()
	}
	if err := rd.Render(f, r); err != nil {
		closeFn()
		return err
	}
	return closeFn()
}

// openReport does what every report command does first: it checks the
// --format value (a usage error before any database work) and opens the
// database read-only. The caller closes it.
func openReport(ctx context.Context, g *globalOptions, format string) (*query.DB, error) {
	if _, err := report.For(format); err != nil {
		return nil, usageError{err}
	}
	return query.Open(ctx, g.db, true)
}

// outputFlags are --format and -o, which every report command takes.
type outputFlags struct {
	format string
	out    string
}

// addTo registers the flags.
func (o *outputFlags) addTo(f *pflag.FlagSet) {
	f.StringVar(&o.format, "format", "table", "table, csv, json or markdown")
	f.StringVarP(&o.out, "output", "o", "", "write to this file instead of stdout")
}
