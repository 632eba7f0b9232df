package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rootaudit/rootaudit/ingest"
	"github.com/rootaudit/rootaudit/query"
	"github.com/rootaudit/rootaudit/report"
)

type statusOptions struct {
	until        string
	accounts     []string
	accountsFile string
	outputFlags
}

func newStatusCommand(g *globalOptions) *cobra.Command {
	o := &statusOptions{}
	c := &cobra.Command{
		Use:   "status",
		Short: "Per account: root-credential state, when removed, human use since, sessions since",
		Long: `Shows, per account, the last known root-credential state from CloudTrail
(removed in an IAMDeleteRootUserCredentials session, re-created, or
not-removed), the event that established it, the date credentials were
removed, human root use after that date (must be zero) and sessions since;
plus the organization-level switches with their dates.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			asOf, err := asOfTime(o.until)
			if err != nil {
				return err
			}
			accts, err := parseAccounts("account", o.accounts)
			if err != nil {
				return err
			}
			org, err := readOrg(o.accountsFile)
			if err != nil {
				return err
			}
			db, err := openReport(ctx, g, o.format)
			if err != nil {
				return err
			}
			defer db.Close()
			st, err := db.Status(ctx, asOf, accts, org)
			if err != nil {
				return err
			}
			return render(g, o.format, o.out, report.Status{St: st})
		},
	}
	f := c.Flags()
	f.StringVar(&o.until, "until", "", "state as of this date/time, exclusive (default now)")
	f.StringSliceVar(&o.accounts, "account", nil, "only these account IDs")
	f.StringVar(&o.accountsFile, "accounts", "", "`FILE` of aws organizations list-accounts JSON")
	o.outputFlags.addTo(f)
	return c
}

func asOfTime(s string) (time.Time, error) {
	if s == "" {
		return time.Now().UTC(), nil
	}
	t, err := parseTime(s, time.Now().UTC(), false)
	if err != nil {
		return t, usageError{fmt.Errorf("--until: %w", err)}
	}
	return t, nil
}

func readOrg(path string) ([]ingest.OrgAccount, error) {
	if path == "" {
		return nil, nil
	}
	org, err := ingest.ReadOrgAccounts(path)
	if err != nil {
		return nil, usageError{err}
	}
	return org, nil
}

type planOptions struct {
	windowFlags
	accountsFile string
	pilot        []string
	management   []string
	waveSize     int
	every, soak  string
	start        string
	outputFlags
}

func newPlanCommand(g *globalOptions) *cobra.Command {
	o := &planOptions{}
	c := &cobra.Command{
		Use:   "plan",
		Short: "Rollout waves for removing root credentials, oldest accounts first",
		Long: `Plans the removal of member-account root credentials: a pilot wave of the
accounts you name, then waves of --wave-size accounts every --every, each
watched for --soak, oldest accounts first (JoinedTimestamp from --accounts,
else first seen in the logs). Accounts with human root use in the window or a
root access key in use are held out with the reason; accounts already removed
are marked done; management accounts are skipped.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runPlan(cmd.Context(), g, o) },
	}
	f := c.Flags()
	f.StringVar(&o.since, "since", "", "window for human root use: date, time or duration ago (default 365d)")
	f.StringVar(&o.until, "until", "", "end of the window, exclusive (default now)")
	f.StringVar(&o.accountsFile, "accounts", "", "`FILE` of aws organizations list-accounts JSON (names and JoinedTimestamp)")
	f.StringSliceVar(&o.pilot, "pilot", nil, "account IDs of the pilot wave")
	f.StringSliceVar(&o.management, "management", nil, "management or delegated-admin account IDs (default: those seen issuing AssumeRoot or org switches)")
	f.IntVar(&o.waveSize, "wave-size", 10, "accounts per wave after the pilot")
	f.StringVar(&o.every, "every", "7d", "time between wave starts")
	f.StringVar(&o.soak, "soak", "48h", "observation time after each wave")
	f.StringVar(&o.start, "start", "", "start of the pilot wave (default: next midnight UTC)")
	o.outputFlags.addTo(f)
	return c
}

func runPlan(ctx context.Context, g *globalOptions, o *planOptions) error {
	win, err := o.window()
	if err != nil {
		return err
	}
	every, err := parseAgo(o.every)
	if err != nil {
		return usageError{fmt.Errorf("--every: %w", err)}
	}
	soak, err := parseAgo(o.soak)
	if err != nil {
		return usageError{fmt.Errorf("--soak: %w", err)}
	}
	pilot, err := parseAccounts("pilot", o.pilot)
	if err != nil {
		return err
	}
	mgmt, err := parseAccounts("management", o.management)
	if err != nil {
		return err
	}
	start := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	if o.start != "" {
		if start, err = parseTime(o.start, time.Now(), false); err != nil {
			return usageError{fmt.Errorf("--start: %w", err)}
		}
	}
	org, err := readOrg(o.accountsFile)
	if err != nil {
		return err
	}
	db, err := openReport(ctx, g, o.format)
	if err != nil {
		return err
	}
	defer db.Close()
	inv, err := db.Inventory(ctx, query.Filter{Window: win}, org)
	if err != nil {
		return err
	}
	st, err := db.Status(ctx, win.Until, nil, org)
	if err != nil {
		return err
	}
	seen, err := db.FirstSeen(ctx)
	if err != nil {
		return err
	}
	if len(mgmt) == 0 {
		if mgmt, err = db.ManagementAccounts(ctx); err != nil {
			return err
		}
	}
	p, err := query.BuildPlan(inv, st, seen, org, query.PlanOptions{Start: start, Pilot: pilot, WaveSize: o.waveSize, Every: every, Soak: soak, Management: mgmt})
	if err != nil {
		return usageError{err}
	}
	return render(g, o.format, o.out, report.Plan{P: p})
}

type checkOptions struct {
	sessionsOptions
	failOn []string
}

// defaultFailOn are the session findings that fail `check` by default;
// no-actions is informational (an unused session is not a violation).
var defaultFailOn = []string{query.FindingAssumeFailed, query.FindingDeniedAction, query.FindingOutsideTask,
	query.FindingAfterExpiry, query.FindingUnapprovedIssuer, query.FindingTargetNotInOrg}

func newCheckCommand(g *globalOptions) *cobra.Command {
	o := &checkOptions{}
	c := &cobra.Command{
		Use:   "check",
		Short: "For cron and CI: exit 1 on human root use after removal, session findings or a disabled switch",
		Long: `Exits 1 and prints the findings when, in the window, there is human root use in
an account whose root credentials were removed, a session finding of the
kinds in --fail-on, or an organization-level switch (root credentials
management, root sessions) left disabled. Exits 0 when there is nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runCheck(cmd.Context(), g, o) },
	}
	o.addFlags(c)
	c.Flags().StringSliceVar(&o.failOn, "fail-on", defaultFailOn, "session finding kinds that fail the check (of "+strings.Join(query.SessionFindings, ", ")+")")
	o.outputFlags.addTo(c.Flags())
	return c
}

func runCheck(ctx context.Context, g *globalOptions, o *checkOptions) error {
	f, err := o.filter()
	if err != nil {
		return err
	}
	// A misspelt kind would silently turn the gate off: refuse it.
	failOn := map[string]bool{}
	for _, k := range splitList(o.failOn) {
		if !slices.Contains(query.SessionFindings, k) {
			return usageError{fmt.Errorf("--fail-on %q is not a session finding (one of %s)", k, strings.Join(query.SessionFindings, ", "))}
		}
		failOn[k] = true
	}
	db, err := openReport(ctx, g, o.format)
	if err != nil {
		return err
	}
	defer db.Close()
	var out []report.Finding
	st, err := db.StatusIn(ctx, f.Since, f.Until, f.Accounts)
	if err != nil {
		return err
	}
	for _, a := range st.Accounts {
		if a.HumanUseAfterRemoval > 0 {
			out = append(out, report.Finding{Kind: "human-root-use-after-removal", AccountID: a.AccountID, Time: *a.LastHumanUseAfterRemoval,
				Detail: fmt.Sprintf("%d human root event(s) in the window after credentials were removed on %s", a.HumanUseAfterRemoval, a.RemovedAt.Format(time.RFC3339))})
		}
	}
	ss, err := db.Sessions(ctx, f)
	if err != nil {
		return err
	}
	for _, s := range ss {
		var hit []string
		for _, k := range s.Findings {
			if failOn[k] {
				hit = append(hit, k)
			}
		}
		if len(hit) > 0 {
			out = append(out, report.Finding{Kind: "session:" + strings.Join(hit, ","), AccountID: s.TargetAccount, Time: s.IssuedAt,
				Detail: fmt.Sprintf("%s session by %s (%s, %d actions)", s.TaskPolicy, s.IssuerARN, s.Status, len(s.Actions))})
		}
	}
	for _, sw := range query.DisabledSwitches(st.OrgSwitches) {
		out = append(out, report.Finding{Kind: "org-switch-disabled", AccountID: sw.AccountID, Time: sw.EventTime,
			Detail: sw.EventName + " by " + sw.IdentityARN + " and not re-enabled"})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	if err := render(g, o.format, o.out, report.Check{Window: f.Window, Findings: out}); err != nil {
		return err
	}
	if len(out) > 0 {
		return findingsError{fmt.Sprintf("check: %d finding(s)", len(out))}
	}
	return nil
}
