package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rootaudit/rootaudit/query"
	"github.com/rootaudit/rootaudit/report"
)

type evidenceOptions struct {
	windowFlags
	out          string
	accountsFile string
	approvers    string
	title        string
	generatedAt  string // hidden: a fixed clock for reproducible packs (tests)
}

func newEvidenceCommand(g *globalOptions) *cobra.Command {
	o := &evidenceOptions{}
	c := &cobra.Command{
		Use:   "evidence --out DIR",
		Short: "Write a self-contained evidence pack for auditors (HTML, Markdown, CSV, manifest)",
		Long: `Writes an evidence pack for the window into DIR (new or empty):

  index.html             one self-contained page (no script, no external resource):
                         headline, coverage gaps, accounts, charts, sessions,
                         human root events and the method with the exact SQL
  summary.md             the same content in Markdown
  inventory.csv          one row per account
  sessions.csv           one row per AssumeRoot call
  human_root_events.csv  every human root event of the window
  coverage.csv           account × region × day: log files, events, digest-validated
  controls.md            each finding mapped to PCI DSS 4.0, ISO/IEC 27001, SOC 2, HIPAA
  manifest.json          version, command, time, database fingerprint, sources,
                         object counts and the SHA-256 of every other file

"rootaudit evidence verify DIR" re-checks a pack against its manifest.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runEvidence(cmd.Context(), g, o) },
	}
	f := c.Flags()
	f.StringVar(&o.out, "out", "", "directory to write the pack into (created; must be empty)")
	f.StringVar(&o.since, "since", "", "start of the period: date, time or duration ago (default 365d)")
	f.StringVar(&o.until, "until", "", "end of the period, exclusive (default now)")
	f.StringVar(&o.accountsFile, "accounts", "", "`FILE` of aws organizations list-accounts JSON: names the member accounts, including those without logs")
	f.StringVar(&o.approvers, "approvers", "", "file of approved AssumeRoot issuer ARNs, one per line: flags sessions opened by anyone else")
	f.StringVar(&o.title, "title", "Root user activity: evidence pack", "title of the pack")
	f.StringVar(&o.generatedAt, "generated-at", "", "fixed generation time (RFC 3339), also the 'now' of the default period")
	f.MarkHidden("generated-at")
	c.AddCommand(newEvidenceVerifyCommand(g))
	return c
}

func runEvidence(ctx context.Context, g *globalOptions, o *evidenceOptions) error {
	if o.out == "" {
		return usageError{errors.New("evidence: --out DIR is required")}
	}
	now := time.Now().UTC().Truncate(time.Second)
	if o.generatedAt != "" {
		t, err := time.Parse(time.RFC3339, o.generatedAt)
		if err != nil {
			return usageError{fmt.Errorf("--generated-at: %w", err)}
		}
		now = t.UTC()
	}
	o.now = func() time.Time { return now }
	win, err := o.window()
	if err != nil {
		return err
	}
	org, err := readOrg(o.accountsFile)
	if err != nil {
		return err
	}
	var approvers []string
	if o.approvers != "" {
		if approvers, err = readLines(o.approvers); err != nil {
			return usageError{err}
		}
	}
	if ents, err := os.ReadDir(o.out); err == nil && len(ents) > 0 {
		return usageError{fmt.Errorf("evidence --out %s: %w; choose a new directory", o.out, report.ErrPackDirNotEmpty)}
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return usageError{fmt.Errorf("evidence --out %s: %w", o.out, err)}
	}
	db, err := query.Open(ctx, g.db, true)
	if err != nil {
		return err
	}
	defer db.Close()
	ev, err := db.Evidence(ctx, query.EvidenceOptions{Window: win, Org: org, Approvers: approvers})
	if err != nil {
		return fmt.Errorf("evidence for %s: %w", g.db, err)
	}
	p := &report.Pack{Ev: ev, Meta: report.PackMeta{Title: o.title, Version: version, CommandLine: commandLine(g.args),
		GeneratedAt: now, Database: absPath(g.db)}}
	m, err := report.WritePack(ctx, o.out, p)
	if err != nil {
		return err
	}
	h := ev.Headline
	fmt.Fprintf(g.stdout, "evidence pack %s: %d files + %s\n", o.out, len(m.Files), report.PackManifest)
	fmt.Fprintf(g.stdout, "headline: member accounts with human root use in the period: %d; accounts with root credentials not removed: %d; accounts with human root use after their credentials were removed: %d\n",
		len(h.HumanUse), len(h.NotRemoved), len(h.UseAfterRemoval))
	// Counted as the pack's summary counts them: accounts without any log
	// file apart from those with some days missing (WithGaps holds both).
	fmt.Fprintf(g.stdout, "coverage: account-region-days without a log file: %d of %d; member accounts without any log file: %d, with some days without logs: %d; failed files: %d; events in digest-validated files: %d of %d\n",
		h.StreamGapDays, h.StreamDays, len(h.NoLogs), len(h.WithGaps)-len(h.NoLogs), h.FailedFiles, h.ValidatedEvents, h.Events)
	return nil
}

func newEvidenceVerifyCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "verify DIR",
		Short: "Re-check an evidence pack against its manifest (exit 1 on any mismatch, missing or extra file)",
		Long: `Recomputes the SHA-256 of every file named in DIR/manifest.json and compares it
with the manifest. Exits 1 when a file differs, is missing, or DIR holds a file
the manifest does not name; 0 when everything matches.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := report.VerifyPack(args[0])
			if err != nil {
				return usageError{err}
			}
			if err := report.WriteVerification(g.stdout, v); err != nil {
				return err
			}
			if !v.OK() {
				return findingsError{fmt.Sprintf("evidence verify %s: the pack does not match its manifest", args[0])}
			}
			return nil
		},
	}
}

// commandLine rebuilds the command line, quoting arguments a shell would
// split or expand.
func commandLine(args []string) string {
	parts := []string{"rootaudit"}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~!") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// absPath returns path made absolute, or path itself when that fails.
func absPath(path string) string {
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return path
}
