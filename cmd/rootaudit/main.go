// Command rootaudit answers, from CloudTrail: who used root, where, when, and
// under which authority. See README.md for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/rootaudit/rootaudit/ingest"
	"github.com/rootaudit/rootaudit/query"
)

// Exit codes, documented in README.md ("Exit codes"). One switch maps
// errors to them: exitCode.
const (
	exitOK          = 0
	exitFindings    = 1 // check found findings; evidence verify found a mismatch
	exitUsage       = 2 // bad flags or arguments
	exitPartial     = 3 // the run completed but some input files failed
	exitBusy        = 4 // the database is held by another process
	exitFatal       = 5 // anything else: I/O, database, AWS errors
	exitInterrupted = 130
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, errSilent) {
		fmt.Fprintln(os.Stderr, "rootaudit:", err)
	}
	os.Exit(exitCode(err))
}

// Typed outcomes that are not plain failures.
var (
	errSilent = errors.New("") // already reported
)

// usageError marks bad flags or arguments.
type usageError struct{ error }

// partialError means the command finished but some files failed.
type partialError struct{ n int64 }

func (e partialError) Error() string {
	return fmt.Sprintf("%d file(s) failed; see the messages above and `ingested_files` where status = 'failed'", e.n)
}

// findingsError means check or verify found something.
type findingsError struct{ msg string }

func (e findingsError) Error() string { return e.msg }

func exitCode(err error) int {
	var ue usageError
	var pe partialError
	var fe findingsError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled), errors.Is(err, errInterrupted):
		return exitInterrupted
	case errors.As(err, &fe):
		return exitFindings
	case errors.As(err, &ue), errors.Is(err, query.ErrBadPath):
		return exitUsage
	case errors.As(err, &pe):
		return exitPartial
	case errors.Is(err, query.ErrBusy):
		return exitBusy
	}
	return exitFatal
}

var errInterrupted = errors.New("interrupted")

// globalOptions are the flags every command takes.
type globalOptions struct {
	db     string
	quiet  bool
	debug  bool
	stdout io.Writer
	stderr io.Writer
	args   []string
}

// versionString is the version with the gzip decoder it was built with, as
// that decides ingest speed (docs/performance.md).
func versionString() string {
	if ingest.WholeGunzipLibrary != "" {
		return version + " (gzip: " + ingest.WholeGunzipLibrary + " + klauspost/compress)"
	}
	return version + " (gzip: klauspost/compress; build with libdeflate for faster ingest)"
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts := &globalOptions{stdout: stdout, stderr: stderr, args: args}
	root := &cobra.Command{
		Use:           "rootaudit",
		Short:         "Who used AWS root, where, when, and under which authority",
		Long:          "rootaudit reads CloudTrail organization-trail logs into an embedded DuckDB database and reports human root use, AssumeRoot sessions and root-credential state per member account.",
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&opts.db, "db", "rootaudit.duckdb", "path of the rootaudit database (a DuckDB file)")
	root.PersistentFlags().BoolVarP(&opts.quiet, "quiet", "q", false, "no progress display")
	root.PersistentFlags().BoolVar(&opts.debug, "debug", false, "log every file read, every retry and the AWS SDK's retries to stderr (never credentials)")
	var cpuProfile string
	root.PersistentFlags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to this file (for performance work)")
	root.PersistentFlags().MarkHidden("cpuprofile")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if cpuProfile == "" {
			return nil
		}
		f, err := os.Create(cpuProfile)
		if err != nil {
			return usageError{fmt.Errorf("--cpuprofile: %w", err)}
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("start CPU profile: %w", err)
		}
		cobra.OnFinalize(func() { pprof.StopCPUProfile(); f.Close() })
		return nil
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newIngestCommand(opts),
		newInventoryCommand(opts),
		newSessionsCommand(opts),
		newStatusCommand(opts),
		newPlanCommand(opts),
		newCheckCommand(opts),
		newIntegrityCommand(opts),
		newSQLCommand(opts),
		newExportCommand(opts),
		newEvidenceCommand(opts),
		newVerifyCommand(opts),
	)
	err := root.ExecuteContext(ctx)
	if err != nil && ctx.Err() != nil && !errors.Is(err, errSilent) && !errors.Is(err, errInterrupted) {
		return fmt.Errorf("%w: %v", errInterrupted, err)
	}
	if err != nil && isCobraUsage(err) {
		return usageError{err}
	}
	return err
}

// isCobraUsage recognises cobra's own argument errors (unknown command,
// wrong number of arguments), which it returns as plain errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "unknown flag", "unknown shorthand"} {
		if len(msg) >= len(p) && contains(msg, p) {
			return true
		}
	}
	return false
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// debugf returns the --debug logger, or nil when --debug is off.
func (g *globalOptions) debugf() func(format string, args ...any) {
	if !g.debug {
		return nil
	}
	return func(format string, args ...any) {
		fmt.Fprintf(g.stderr, "debug: "+format+"\n", args...)
	}
}
