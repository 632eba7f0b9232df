package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/rootaudit/rootaudit/query"
	"github.com/rootaudit/rootaudit/report"
)

type sqlOptions struct {
	params []string
	list   bool
	write  bool
	outputFlags
}

func newSQLCommand(g *globalOptions) *cobra.Command {
	o := &sqlOptions{}
	c := &cobra.Command{
		Use:   "sql [flags] [STATEMENT | NAME]",
		Short: "Run SQL, or a named query shipped with rootaudit, on the database",
		Long: `Runs SQL on the rootaudit database (the tables and views of docs/schema.md)
and renders each result. STATEMENT is SQL text (several statements separated
by ";" run in turn); NAME is a named query (rootaudit sql --list, and
docs/queries.md) whose parameters are given with --param NAME=VALUE. With no
argument, statements are read from standard input and each runs as soon as
its ";" is read, so both "rootaudit sql < queries.sql" and an interactive
session work. A statement that fails is reported with its number and the
others still run; the exit code is then non-zero.

The database is opened read-only and DuckDB's external access is off:
statements that write the database (exit 2, "opened read-only"), read or
write files, load extensions or reach the network (COPY, ATTACH, INSTALL,
LOAD, read_csv/read_json/read_parquet on a path; exit 2) are refused, and
settings are locked. --write opens the database for writing and lifts all
of these: use it only for statements you trust. Times are UTC.`,
		Example: `  rootaudit sql "SELECT recipient_account_id, count(*) FROM human_root_activity GROUP BY ALL"
  rootaudit sql --list
  rootaudit sql root-signins-without-mfa --param since=2026-01-01
  rootaudit sql events-by-access-key --param key=AKIAIOSFODNN7EXAMPLE --format json
  rootaudit sql < investigation.sql`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSQL(cmd.Context(), g, o, args, cmd.InOrStdin())
		},
	}
	f := c.Flags()
	f.StringArrayVar(&o.params, "param", nil, "NAME=VALUE for a named query's parameter (repeatable)")
	f.BoolVar(&o.list, "list", false, "list the named queries and their parameters")
	f.BoolVar(&o.write, "write", false, "open the database for writing and allow file and network access (trusted statements only)")
	o.outputFlags.addTo(f)
	return c
}

// namedQueryLikeRE matches an argument that can only be meant as a named
// query: lower-case words joined by hyphens are not a SQL statement.
var namedQueryLikeRE = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)+$`)

func runSQL(ctx context.Context, g *globalOptions, o *sqlOptions, args []string, stdin io.Reader) error {
	rd, err := report.For(o.format)
	if err != nil {
		return usageError{err}
	}
	if o.list {
		if len(args) > 0 || len(o.params) > 0 {
			return usageError{errors.New("--list takes no argument and no --param")}
		}
		return render(g, o.format, o.out, report.NamedQueries{Queries: query.NamedQueries()})
	}
	var named *query.NamedQuery
	if len(args) == 1 {
		if q, ok := query.LookupNamed(strings.TrimSpace(args[0])); ok {
			named = &q
		} else if namedQueryLikeRE.MatchString(strings.TrimSpace(args[0])) {
			return usageError{fmt.Errorf("%w %q (see `rootaudit sql --list`)", query.ErrUnknownQuery, args[0])}
		}
	}
	params, err := parseParams(o.params)
	if err != nil {
		return err
	}
	if named == nil && len(params) > 0 {
		return usageError{errors.New("--param applies to named queries only (see `rootaudit sql --list`)")}
	}
	if named != nil {
		// Check the parameters before opening the database.
		if _, err := named.Bind(params, time.Now()); err != nil {
			return usageError{err}
		}
	}
	db, err := openForSQL(ctx, g.db, o.write)
	if err != nil {
		return err
	}
	defer db.Close()

	f, closeFn, err := output(g, o.out)
	if err != nil {
		return err
	}
	var w io.Writer = g.stdout
	if f != nil {
		w = f
	}
	r := &sqlRunner{db: db, rd: rd, w: w, stderr: g.stderr, table: strings.EqualFold(o.format, "table") || o.format == ""}
	switch {
	case named != nil:
		res, err := db.RunNamed(ctx, named.Name, params)
		if err == nil {
			err = r.render(report.Generic{Name: named.Name + ": " + named.Description, Result: res})
		}
		if err != nil {
			closeFn()
			return sqlExitError(err)
		}
	case len(args) == 1:
		if r.runText(ctx, args[0], 1) == 0 {
			closeFn()
			return usageError{errors.New("the argument holds no SQL statement")}
		}
	default:
		if err := r.runStream(ctx, stdin, g.stderr); err != nil {
			closeFn()
			return err
		}
	}
	if err := closeFn(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return r.summary()
}

// parseParams reads repeated --param NAME=VALUE flags.
func parseParams(vals []string) (map[string]string, error) {
	m := map[string]string{}
	for _, v := range vals {
		k, val, ok := strings.Cut(v, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, usageError{fmt.Errorf("--param %q: want NAME=VALUE", v)}
		}
		if _, dup := m[k]; dup {
			return nil, usageError{fmt.Errorf("--param %s given twice", k)}
		}
		m[k] = val
	}
	return m, nil
}

// openForSQL opens the database read-only inside DuckDB's sandbox, or with
// --write for writing with nothing turned off. Either way the session time
// zone is UTC.
func openForSQL(ctx context.Context, path string, write bool) (*query.DB, error) {
	if write {
		// query.Open creates a missing database for writers: sql --write
		// must not invent an empty one.
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("%w at %s: run `rootaudit ingest` first (or pass --db)", query.ErrNoDatabase, path)
		}
	}
	db, err := query.Open(ctx, path, !write)
	if err != nil {
		return nil, err
	}
	if err := db.PrepareAdHoc(ctx, !write); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// sqlExitError maps a refusal (read-only database, external access) to a
// usage error (exit 2); any other failure keeps exit 5.
func sqlExitError(err error) error {
	if refused(err) || errors.Is(err, query.ErrBadParam) || errors.Is(err, query.ErrUnknownQuery) {
		return usageError{err}
	}
	return err
}

func refused(err error) bool {
	return errors.Is(err, query.ErrReadOnly) || errors.Is(err, query.ErrExternalAccess)
}

// sqlRunner runs ad-hoc statements one by one, renders each result and
// counts the failures.
type sqlRunner struct {
	db     *query.DB
	rd     report.Renderer
	w      io.Writer
	stderr io.Writer
	table  bool

	n        int   // statements run
	rendered int   // results written
	failed   int   // statements that failed
	other    bool  // a failure was not a refusal
	single   bool  // the input is one statement: its failure is the command's error
	last     error // the last failure
}

// maxTableCell bounds a cell of the terminal table; the other formats
// write values whole.
const maxTableCell = 200

func (r *sqlRunner) render(g report.Generic) error {
	if r.table {
		g.MaxCell = maxTableCell
	}
	if r.rendered > 0 && r.table {
		if _, err := io.WriteString(r.w, "\n"); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	r.rendered++
	return r.rd.Render(r.w, g)
}

// runText runs every statement of src and returns how many there are;
// line is the line src starts on. A lone statement's failure is not
// reported on stderr but returned by summary, as the command's error.
func (r *sqlRunner) runText(ctx context.Context, src string, line int) int {
	pieces := query.SplitStatements(src)
	count := 0
	for _, piece := range pieces {
		if !query.BlankStatement(piece) {
			count++
		}
	}
	r.single = count == 1
	for _, piece := range pieces {
		if ctx.Err() != nil {
			return count
		}
		if !query.BlankStatement(piece) {
			r.exec(ctx, piece, line+leadingLines(piece))
		}
		line += strings.Count(piece, "\n")
	}
	return count
}

// runStream reads statements from in and runs each as soon as its ";" (or
// the end of input) is read. On a terminal it prompts on stderr.
func (r *sqlRunner) runStream(ctx context.Context, in io.Reader, prompts io.Writer) error {
	interactive := false
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		interactive = true
	}
	prompt := func(pending string) {
		if !interactive {
			return
		}
		if query.BlankStatement(pending) {
			fmt.Fprint(prompts, "rootaudit> ")
		} else {
			fmt.Fprint(prompts, "        -> ")
		}
	}
	// Lines are read in a goroutine so that an interrupt ends a session
	// waiting for input at once; the reader is left blocked on stdin.
	type chunk struct {
		text string
		err  error
	}
	lines := make(chan chunk)
	go func() {
		br := bufio.NewReader(in)
		for {
			text, err := br.ReadString('\n')
			select {
			case lines <- chunk{text, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var pending strings.Builder
	line := 1 // the line pending starts on
	prompt("")
	for {
		var text string
		var err error
		select {
		case <-ctx.Done():
			return ctx.Err()
		case c := <-lines:
			text, err = c.text, c.err
		}
		if text != "" {
			pending.WriteString(text)
			if strings.IndexByte(text, ';') >= 0 {
				pieces := query.SplitStatements(pending.String())
				for _, piece := range pieces[:len(pieces)-1] {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					if !query.BlankStatement(piece) {
						r.exec(ctx, piece, line+leadingLines(piece))
					}
					line += strings.Count(piece, "\n")
				}
				// The rest may open a comment or literal: keep it whole.
				rest := pieces[len(pieces)-1]
				pending.Reset()
				pending.WriteString(rest)
			}
		}
		if err == io.EOF {
			if !query.BlankStatement(pending.String()) {
				r.exec(ctx, pending.String(), line+leadingLines(pending.String()))
			}
			if interactive {
				fmt.Fprintln(prompts)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("read statements from standard input: %w", err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		prompt(pending.String())
	}
}

// leadingLines counts the lines before the statement proper (after
// leading blank lines and comments), for "statement N (line L)".
func leadingLines(s string) int {
	return strings.Count(s[:len(s)-len(query.TrimLeadingComments(s))], "\n")
}

// exec runs one statement, renders its result or reports its failure on
// stderr.
func (r *sqlRunner) exec(ctx context.Context, stmt string, line int) {
	r.n++
	res, err := r.db.RunSQL(ctx, stmt)
	if err == nil {
		err = r.render(report.Generic{Name: statementTitle(r.n, stmt), Result: res})
	}
	if err == nil {
		return
	}
	if ctx.Err() != nil {
		return
	}
	r.failed++
	if !refused(err) {
		r.other = true
	}
	r.last = err
	if !r.single {
		fmt.Fprintf(r.stderr, "rootaudit: statement %d (line %d): %v\n", r.n, line, err)
	}
}

// summary is the command's error: nil when every statement succeeded, else
// a usage error (exit 2) when every failure was a refusal, a plain one
// (exit 5) otherwise.
func (r *sqlRunner) summary() error {
	if r.failed == 0 {
		return nil
	}
	if r.single {
		return sqlExitError(fmt.Errorf("sql: %w", r.last))
	}
	err := fmt.Errorf("%d of %d statement(s) failed", r.failed, r.n)
	if r.other {
		return err
	}
	return usageError{err}
}

// statementTitle names a result: its number and the start of its text,
// leading comments left out.
func statementTitle(n int, stmt string) string {
	s := strings.Join(strings.Fields(query.TrimLeadingComments(stmt)), " ")
	if r := []rune(s); len(r) > 72 {
		s = string(r[:71]) + "…"
	}
	return fmt.Sprintf("[%d] %s", n, s)
}
