package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rootaudit/rootaudit/ingest"
	"github.com/rootaudit/rootaudit/query"
	"github.com/rootaudit/rootaudit/report"
)

type sessionsOptions struct {
	windowFlags
	accounts     []string
	accountsFile string
	approvers    string
	issuer       string
	outputFlags
}

func (o *sessionsOptions) addFlags(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&o.since, "since", "", "start of the window: date, time or duration ago (default 365d)")
	f.StringVar(&o.until, "until", "", "end of the window, exclusive (default now)")
	f.StringSliceVar(&o.accounts, "account", nil, "only sessions targeting these account IDs")
	f.StringVar(&o.accountsFile, "accounts", "", "`FILE` of aws organizations list-accounts JSON: flags sessions targeting other accounts")
	f.StringVar(&o.approvers, "approvers", "", "file of approved issuer ARNs, one per line: flags sessions opened by anyone else")
	f.StringVar(&o.issuer, "issuer", "", "only sessions whose issuer ARN contains this text")
}

func newSessionsCommand(g *globalOptions) *cobra.Command {
	o := &sessionsOptions{}
	c := &cobra.Command{
		Use:   "sessions",
		Short: "Every AssumeRoot session: who, which account and task, what was done, findings",
		Long: `Lists every sts:AssumeRoot call issued in the window with the member-account
actions made with its credentials (linked by access key ID and target
account, across regions and files) and its findings: assume-failed,
no-actions, denied-action, outside-task-policy, action-after-expiry,
unapproved-issuer (with --approvers) and target-not-in-org (with --accounts).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSessions(cmd.Context(), g, o)
		},
	}
	o.addFlags(c)
	o.outputFlags.addTo(c.Flags())
	return c
}

// filter resolves the flags into a query filter.
func (o *sessionsOptions) filter() (query.SessionFilter, error) {
	var f query.SessionFilter
	win, err := o.window()
	if err != nil {
		return f, err
	}
	accts, err := parseAccounts("account", o.accounts)
	if err != nil {
		return f, err
	}
	f.Window, f.Accounts, f.Issuer = win, accts, o.issuer
	if o.accountsFile != "" {
		if f.Org, err = ingest.ReadOrgAccounts(o.accountsFile); err != nil {
			return f, usageError{err}
		}
	}
	if o.approvers != "" {
		if f.Approvers, err = readLines(o.approvers); err != nil {
			return f, usageError{err}
		}
	}
	return f, nil
}

func runSessions(ctx context.Context, g *globalOptions, o *sessionsOptions) error {
	f, err := o.filter()
	if err != nil {
		return err
	}
	db, err := openReport(ctx, g, o.format)
	if err != nil {
		return err
	}
	defer db.Close()
	ss, err := db.Sessions(ctx, f)
	if err != nil {
		return err
	}
	var r report.Report = report.Sessions{Window: f.Window, Sessions: ss}
	if o.format == "table" || o.format == "" {
		r = report.SessionsTable{Sessions: report.Sessions{Window: f.Window, Sessions: ss}}
	}
	return render(g, o.format, o.out, r)
}

// readLines reads non-empty, non-comment lines of a file.
func readLines(path string) ([]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer fh.Close()
	out := []string{}
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}
