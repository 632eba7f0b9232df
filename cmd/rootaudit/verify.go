package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rootaudit/rootaudit/ingest"
	"github.com/rootaudit/rootaudit/query"
	"github.com/rootaudit/rootaudit/report"
)

// defaultVerifyConcurrency is how many member accounts `verify` audits at
// once: each audit is five small requests, and STS and IAM throttle well
// before a larger number would help.
const defaultVerifyConcurrency = 8

type verifyOptions struct {
	accountsFile string
	accounts     []string
	management   string
	concurrency  int
	profile      string
	region       string
	roleARN      string
	outputFlags
}

func newVerifyCommand(g *globalOptions) *cobra.Command {
	o := &verifyOptions{}
	c := &cobra.Command{
		Use:   "verify",
		Short: "Live audit of member-account root credentials through AssumeRoot (IAMAuditRootUserCredentials)",
		Long: `For each member account of the organization (from --accounts FILE, else
Organizations ListAccounts; ACTIVE accounts only), opens an sts:AssumeRoot
session with the IAMAuditRootUserCredentials task policy from the
management (or delegated administrator) account, reads the root user's
password (GetLoginProfile), access keys, MFA devices and signing
certificates with it, and stores the result with its time (UTC) in the
database. The management account is skipped: AssumeRoot cannot target it.

Each account ends up no-root-credentials, root-credentials-present (with
which) or unknown (AssumeRoot or a read failed; the error is kept). The
sessions it opens are labelled audit_sweep in ` + "`rootaudit sessions`" + ` once
their CloudTrail events are ingested.

Exits 1 when a member account has root credentials, 3 when some accounts
could not be checked, 0 when every member account was checked and has
none. Ctrl-C stops cleanly: the accounts already audited are kept. The
permissions it needs are in docs/verify.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd.Context(), g, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.accountsFile, "accounts", "", "`FILE` of aws organizations list-accounts JSON (default: ask Organizations ListAccounts)")
	f.StringSliceVar(&o.accounts, "account", nil, "only these member account IDs (comma-separated or repeated)")
	f.StringVar(&o.management, "management", "", "the management account ID, skipped (default: Organizations DescribeOrganization)")
	f.IntVar(&o.concurrency, "concurrency", defaultVerifyConcurrency, "member accounts audited at once")
	f.StringVar(&o.profile, "profile", "", "AWS shared config profile (default: AWS_PROFILE or default)")
	f.StringVar(&o.region, "aws-region", "", "region of the STS endpoint AssumeRoot is called at (default: from the environment or profile, else "+ingest.DefaultS3Region+")")
	f.StringVar(&o.roleARN, "role-arn", "", "IAM role to assume (sts:AssumeRole) first, e.g. an auditor role in the management account")
	o.outputFlags.addTo(f)
	return c
}

// uncheckedError means verify finished but some member accounts could not
// be checked (state unknown). It exits like partialError (3).
type uncheckedError struct{ n int64 }

func (e uncheckedError) Error() string {
	return fmt.Sprintf("verify: %d member account(s) could not be checked (state unknown); see the error column", e.n)
}

// As lets exitCode map the error to exitPartial.
func (e uncheckedError) As(target any) bool {
	if p, ok := target.(*partialError); ok {
		*p = partialError{e.n}
		return true
	}
	return false
}

func runVerify(ctx context.Context, g *globalOptions, o *verifyOptions) error {
	if o.concurrency < 1 {
		return usageError{errors.New("--concurrency must be at least 1")}
	}
	only, err := parseAccounts("account", o.accounts)
	if err != nil {
		return err
	}
	if o.management != "" && !ingest.IsAccountID(o.management) {
		return usageError{fmt.Errorf("--management %q is not a 12-digit AWS account ID", o.management)}
	}
	if _, err := report.For(o.format); err != nil {
		return usageError{err}
	}
	org, err := readOrg(o.accountsFile)
	if err != nil {
		return err
	}
	// Open the database first: a busy database fails before any AWS call.
	db, err := query.Open(ctx, g.db, false)
	if err != nil {
		return err
	}
	defer db.Close()

	cfg, err := ingest.LoadAWSConfig(ctx, ingest.S3ClientConfig{Profile: o.profile, Region: o.region, RoleARN: o.roleARN, MaxConns: 2 * o.concurrency})
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	source := "organizations"
	if org == nil {
		if org, err = ingest.ListActiveOrgAccounts(ctx, cfg); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
	} else {
		source = o.accountsFile
		active := org[:0:0]
		for _, a := range org {
			if a.Status == "" || strings.EqualFold(a.Status, "ACTIVE") {
				active = append(active, a)
			}
		}
		org = active
	}
	mgmt := o.management
	if mgmt == "" {
		if mgmt, err = ingest.ManagementAccountID(ctx, cfg); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
	}
	members, err := verifyTargets(org, mgmt, only)
	if err != nil {
		return err
	}

	if len(members) == 0 && !g.quiet {
		fmt.Fprintf(g.stderr, "verify: no active member account to audit (management account %s skipped)\n", mgmt)
	}
	started := time.Now().UTC()
	runID, err := db.StartAuditRun(ctx, query.AuditRunInfo{StartedAt: started, Version: version,
		Command: "rootaudit " + strings.Join(g.args, " "), Region: cfg.Region, ManagementAccount: mgmt,
		AccountSource: source, Accounts: len(members)})
	if err != nil {
		return err
	}
	// Results are written even while the run is being interrupted: what
	// finished is kept.
	wctx := context.WithoutCancel(ctx)
	auditErr := ingest.AuditRootCredentials(ctx, cfg, members, ingest.AuditOptions{Concurrency: o.concurrency},
		func(r ingest.RootCredentialAudit) error { return db.RecordAudit(wctx, runID, r) })
	status := query.AuditRunOK
	switch {
	case auditErr != nil && ctx.Err() != nil:
		status = query.AuditRunInterrupted
	case auditErr != nil:
		status = query.AuditRunFailed
	}
	fctx, cancel := context.WithTimeout(wctx, 30*time.Second)
	defer cancel()
	if err := db.FinishAuditRun(fctx, runID, status); err != nil {
		return errors.Join(auditErr, err)
	}
	run, err := db.AuditRun(fctx, runID)
	if err != nil {
		return errors.Join(auditErr, err)
	}
	var rep report.Report = report.Audits{Run: run}
	if o.format == "table" || o.format == "" {
		rep = report.AuditsTable{Audits: report.Audits{Run: run}}
	}
	if err := render(g, o.format, o.out, rep); err != nil {
		return errors.Join(auditErr, err)
	}
	if !g.quiet {
		fmt.Fprintf(g.stderr, "verify: audit run %d: %d of %d member account(s) audited: %d with root credentials, %d unknown, %d without (management account %s skipped)\n",
			run.AuditRunID, run.Audited, run.Accounts, run.Present, run.Unknown, run.Audited-run.Present-run.Unknown, mgmt)
	}
	switch {
	case auditErr != nil:
		return auditErr
	case run.Present > 0:
		return findingsError{fmt.Sprintf("verify: %d member account(s) have root credentials", run.Present)}
	case run.Unknown > 0:
		return uncheckedError{run.Unknown}
	}
	return nil
}

// verifyTargets is the member accounts to audit: org without the
// management account, narrowed to only when given (each of which must be a
// member account).
func verifyTargets(org []ingest.OrgAccount, mgmt string, only []string) ([]ingest.OrgAccount, error) {
	byID := map[string]ingest.OrgAccount{}
	var members []ingest.OrgAccount
	for _, a := range org {
		if a.ID == mgmt {
			continue
		}
		if _, dup := byID[a.ID]; dup {
			continue
		}
		byID[a.ID] = a
		members = append(members, a)
	}
	if len(only) == 0 {
		return members, nil
	}
	var out []ingest.OrgAccount
	seen := map[string]bool{}
	for _, id := range only {
		switch a, ok := byID[id]; {
		case id == mgmt:
			return nil, usageError{fmt.Errorf("--account %s is the management account: AssumeRoot cannot target it", id)}
		case !ok:
			return nil, usageError{fmt.Errorf("--account %s is not an active member account of the organization", id)}
		case !seen[id]:
			seen[id] = true
			out = append(out, a)
		}
	}
	return out, nil
}
