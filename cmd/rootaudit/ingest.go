package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/rootaudit/rootaudit/ingest"
	"github.com/rootaudit/rootaudit/query"
)

type ingestOptions struct {
	windowFlags
	accounts     []string
	regions      []string
	workers      int
	maxFileBytes int64
	maxRecord    int
	all          bool
}

func newIngestCommand(g *globalOptions) *cobra.Command {
	o := &ingestOptions{}
	c := &cobra.Command{
		Use:   "ingest [flags] SOURCE...",
		Short: "Read CloudTrail log files into the database (incremental, resumable)",
		Long: `Reads CloudTrail log files and stores every root-principal event, every
AssumeRoot call and the organization-level root-access switches.

SOURCE is a directory (walked for AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/*.json.gz)
or a single .json.gz or .json file.

Files already ingested (same path and size/mtime) are skipped, so rerunning is
incremental and an interrupted run resumes. A corrupt file is reported and
nothing of it is stored; the exit code is then 3.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runIngest(cmd.Context(), g, o, args)
		},
	}
	f := c.Flags()
	f.StringVar(&o.since, "since", "", "read files delivered from this date/time or duration ago (default 365d)")
	f.StringVar(&o.until, "until", "", "read files delivered before this date/time (default now)")
	f.BoolVar(&o.all, "all", false, "read every file whatever its delivery date (ignores --since/--until)")
	f.StringSliceVar(&o.accounts, "account", nil, "only these 12-digit account IDs (comma-separated or repeated)")
	f.StringSliceVar(&o.regions, "region", nil, "only these regions (comma-separated or repeated)")
	f.IntVar(&o.workers, "workers", runtime.NumCPU(), "files decoded at once")
	f.Int64Var(&o.maxFileBytes, "max-file-bytes", ingest.DefaultMaxFileBytes, "largest decompressed size of one file (a gzip bomb guard)")
	f.IntVar(&o.maxRecord, "max-record-bytes", ingest.DefaultMaxRecordBytes, "largest single record")
	return c
}

func runIngest(ctx context.Context, g *globalOptions, o *ingestOptions, args []string) error {
	accts, err := parseAccounts(o.accounts)
	if err != nil {
		return err
	}
	filter := &ingest.Filter{Accounts: set(accts), Regions: set(splitList(o.regions))}
	var win query.Window
	if !o.all {
		if win, err = o.window(); err != nil {
			return err
		}
		filter.Since, filter.Until = win.Since, win.Until
	}
	if o.workers < 1 {
		return usageError{fmt.Errorf("--workers must be at least 1")}
	}
	var sources []ingest.Source
	for _, a := range args {
		src, err := sourceFor(a)
		if err != nil {
			return err
		}
		sources = append(sources, src)
	}
	db, err := query.Open(ctx, g.db, false)
	if err != nil {
		return err
	}
	defer db.Close()
	loader, err := query.NewLoader(ctx, db, query.RunInfo{
		Version: version, Command: "rootaudit " + strings.Join(g.args, " "), Sources: strings.Join(args, " "),
		Since: win.Since, Until: win.Until,
	})
	if err != nil {
		return err
	}
	stats := &ingest.Stats{}
	start := time.Now()
	stopProgress := startProgress(g, stats)
	runErr := ingest.Run(ctx, sources, ingest.RunOptions{
		Options: ingest.Options{MaxFileBytes: o.maxFileBytes, MaxRecordBytes: o.maxRecord},
		Filter:  filter,
		Workers: o.workers,
		Done:    loader.Done,
		Stats:   stats,
	}, func(res ingest.FileResult) error {
		if res.Status == ingest.StatusFailed {
			stopProgress(false)
			fmt.Fprintf(g.stderr, "rootaudit: %s: %s\n", res.Ref.Source, res.Reason)
		}
		return loader.Add(ctx, res)
	})
	stopProgress(true)
	status := "ok"
	switch {
	case runErr != nil && ctx.Err() != nil:
		status = "interrupted"
	case runErr != nil:
		status = "failed"
	}
	finErr := loader.Finish(ctx, query.RunTotals{
		Listed: stats.Listed.Load(), Read: stats.Read.Load(), Failed: stats.Failed.Load(),
		Records: stats.Records.Load(), Kept: stats.Kept.Load(), Status: status,
	})
	el := time.Since(start)
	mb := float64(stats.Bytes.Load()) / 1e6
	fmt.Fprintf(g.stderr, "ingest: %d files listed, %d already ingested, %d read (%.1f MB compressed, %.1f MB JSON), %d records, %d kept, %d skipped, %d failed, %s, %.1f MB/s%s\n",
		stats.Listed.Load(), stats.Unchanged.Load(), stats.Read.Load(), float64(stats.Compressed.Load())/1e6, mb,
		stats.Records.Load(), stats.Kept.Load(), stats.Skipped.Load(), stats.Failed.Load(),
		el.Round(time.Millisecond), mb/el.Seconds(), map[bool]string{true: " (interrupted: rerun to resume)", false: ""}[status == "interrupted"])
	if runErr != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: ingest stopped; every file committed so far is kept", errInterrupted)
		}
		return runErr
	}
	if finErr != nil {
		return finErr
	}
	if n := stats.Failed.Load(); n > 0 {
		return partialError{n}
	}
	return nil
}

// sourceFor turns a SOURCE argument into a Source.
func sourceFor(arg string) (ingest.Source, error) {
	switch {
	case strings.HasPrefix(arg, "s3://"), strings.HasPrefix(arg, "lookup://"), strings.HasPrefix(arg, "athena://"):
		return nil, usageError{fmt.Errorf("source %s: this build reads local directories and files only", arg)}
	}
	if _, err := os.Stat(arg); err != nil {
		return nil, usageError{fmt.Errorf("source %s: %w", arg, errors.Unwrap(err))}
	}
	return &ingest.Local{Path: arg}, nil
}

// startProgress shows a live line on stderr when it is a terminal. The
// returned function stops it (final=true) or clears it for a message.
func startProgress(g *globalOptions, st *ingest.Stats) func(final bool) {
	f, ok := g.stderr.(*os.File)
	if g.quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return func(bool) {}
	}
	bar := progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription("ingest"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("files"),
		progressbar.OptionShowIts(),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetPredictTime(true),
	)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if st.ListDone.Load() {
					bar.ChangeMax64(st.Listed.Load() - st.Unchanged.Load())
				}
				bar.Describe(fmt.Sprintf("ingest: listed %d, %.0f MB JSON, %d records, %d kept, %d failed",
					st.Listed.Load(), float64(st.Bytes.Load())/1e6, st.Records.Load(), st.Kept.Load(), st.Failed.Load()))
				bar.Set64(st.Read.Load())
			}
		}
	}()
	var closed bool
	return func(final bool) {
		if !final {
			bar.Clear()
			return
		}
		if !closed {
			closed = true
			close(done)
			<-stopped
			bar.Finish()
			bar.Clear()
		}
	}
}
