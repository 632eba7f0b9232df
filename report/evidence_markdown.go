package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// writeSummary writes summary.md: the content of index.html as Markdown
// (tables instead of charts). Every value is escaped with markdownCell.
func writeSummary(w io.Writer, v *packView) error {
	var b strings.Builder
	md := markdownCell
	fmt.Fprintf(&b, "# %s\n\n", md(v.Title))
	fmt.Fprintf(&b, "- Period: %s\n", md(v.Window))
	fmt.Fprintf(&b, "- Generated: %s by rootaudit %s\n", md(v.GeneratedAt), md(v.Version))
	fmt.Fprintf(&b, "- Database: %s (schema version %d), fingerprint SHA-256 `%s` over %d rows (see Method)\n\n", md(v.Database), v.Schema, v.Fingerprint, v.FPRows)

	b.WriteString("## Headline\n\n")
	for i, s := range v.Statement {
		if i == 0 {
			fmt.Fprintf(&b, "**%s**\n\n", md(s))
			fmt.Fprintf(&b, "%s\n\n", md(v.Scope))
			if v.Auditor != "" {
				fmt.Fprintf(&b, "**%s**\n\n", md(v.Auditor))
			}
			b.WriteString("Log coverage and integrity, which bound the statement:\n\n")
			for _, c := range v.Coverage {
				fmt.Fprintf(&b, "- %s\n", md(c))
			}
			b.WriteString("\n")
			continue
		}
		fmt.Fprintf(&b, "%s\n\n", md(s))
	}

	b.WriteString("## Accounts\n\n")
	mdTable(&b, []string{"Account", "Name", "Role", "Verdict", "Coverage", "Credentials", "Established", "Sign-ins ok/failed/other", "No MFA", "Console", "Key calls", "Denied", "Last human use", "Use after removal", "Sessions (with findings)", "Days with logs", "Regions"},
		func(row func(...string)) {
			for _, a := range v.Accounts {
				row(a.ID, a.Name, a.Role, a.Verdict, a.Qualifier, a.Credential, a.CredSince, n(a.SigninsOK)+"/"+n(a.SigninsFailed)+"/"+n(a.OtherSignins), n(a.NoMFA),
					n(a.Console), n(a.KeyCalls), n(a.Denied), a.LastUse, n(a.UseAfterRemoval),
					strconv.Itoa(a.Sessions)+" ("+strconv.Itoa(a.SessionsWithFindings)+")", strconv.Itoa(a.DaysWithLogs)+"/"+strconv.Itoa(a.Days), a.Regions)
			}
		})

	b.WriteString("## Human root activity by account\n\n")
	if len(v.ActivityAccounts) == 0 {
		b.WriteString("No human root activity in the period.\n\n")
	} else {
		fmt.Fprintf(&b, "Events in the period by class (the chart in %s shows them per %s, UTC).\n\n", PackIndex, v.ActivityBucket)
		mdTable(&b, []string{"Account", "Name", "Sign-in", "Console", "Long-term key", "Total", "Failed sign-ins"}, func(row func(...string)) {
			for _, a := range v.ActivityAccounts {
				row(a.Account, a.Name, n(a.ByClass["sign-in"]), n(a.ByClass["console"]), n(a.ByClass["long-term-key"]), n(a.Total), n(a.Failed))
			}
		})
	}

	b.WriteString("## Privileged sessions per month by task\n\n")
	hdr := append([]string{"Month (UTC)"}, v.TaskPolicies...)
	hdr = append(hdr, "Refused calls", "Total")
	mdTable(&b, hdr, func(row func(...string)) {
		for _, m := range v.SessionMonths {
			cells := []string{m.Month}
			for _, t := range v.TaskPolicies {
				cells = append(cells, n(m.ByTask[t]))
			}
			row(append(cells, n(m.Failed), n(m.Total))...)
		}
	})

	b.WriteString("## Log coverage per account\n\n")
	fmt.Fprintf(&b, "Days are UTC delivery days; a gap is a day without any log file. Every account, region and day is in %s.\n\n", PackCoverage)
	mdTable(&b, []string{"Account", "Name", "Days with logs", "Days without any log file", "Region coverage", "Failed files", "Integrity failures", "Digest chain gaps"}, func(row func(...string)) {
		for _, c := range v.CoverageAccounts {
			var regs []string
			for _, r := range c.Regions {
				regs = append(regs, fmt.Sprintf("%s %d/%d", r.Region, r.DaysWithFiles, r.Days))
			}
			row(c.ID, c.Name, strconv.Itoa(c.DaysWithLogs)+"/"+strconv.Itoa(c.Days), c.GapRanges, strings.Join(regs, "; "),
				n(c.FailedFiles), n(c.IntegrityFailed), n(c.DigestChainGaps))
		}
	})

	b.WriteString("## Privileged sessions\n\n")
	if len(v.Sessions) == 0 {
		b.WriteString("No AssumeRoot call in the period.\n\n")
	}
	for i, s := range v.Sessions {
		findings := "none"
		if len(s.Findings) > 0 {
			findings = strings.Join(s.Findings, ", ")
		}
		fmt.Fprintf(&b, "### %d. %s %s → %s\n\n", i+1, md(s.Issued), md(s.Task), md(strings.TrimSpace(s.Target+" "+s.TargetName)))
		fmt.Fprintf(&b, "Issuer %s (account %s); status %s; key %s; expires %s; findings: **%s**.\n\n",
			md(s.Issuer), md(s.IssuerAccount), md(s.Status), md(s.Key), md(s.Expires), md(findings))
		if len(s.Actions) == 0 {
			b.WriteString("No action.\n\n")
			continue
		}
		mdTable(&b, []string{"Time (UTC)", "Action", "Region", "Error", "In task", "After expiry", "Source IP", "User agent", "Request parameters"}, func(row func(...string)) {
			for _, a := range s.Actions {
				row(a.Time, a.Event, a.Region, a.Error, yesNo(a.Allowed), yesNo(a.AfterExpiry), a.SourceIP, a.UserAgent, a.Params)
			}
		})
	}
	if v.SessionsOmitted > 0 {
		fmt.Fprintf(&b, "%d more sessions are in %s.\n\n", v.SessionsOmitted, PackSessions)
	}

	b.WriteString("## Human root events\n\n")
	if len(v.HumanEvents) == 0 {
		b.WriteString("No human root event in the period.\n\n")
	} else {
		mdTable(&b, []string{"Time (UTC)", "Account", "Class", "Event", "Region", "Result", "MFA", "Access key", "Source IP", "User agent", "Request parameters"}, func(row func(...string)) {
			for _, e := range v.HumanEvents {
				row(e.Time, e.Account, e.Class, e.Event, e.Region, e.Result, e.MFA, e.Key, e.SourceIP, e.UserAgent, e.Params)
			}
		})
	}
	if v.HumanOmitted > 0 {
		fmt.Fprintf(&b, "%d more events are in %s.\n\n", v.HumanOmitted, PackHumanEvents)
	}

	b.WriteString("## Organization-level switches\n\n")
	if len(v.Switches) == 0 {
		b.WriteString("No organization-level switch event before the end of the period.\n\n")
	} else {
		mdTable(&b, []string{"Time (UTC)", "Event", "Action", "Account", "Identity", "Error"}, func(row func(...string)) {
			for _, s := range v.Switches {
				row(s.Time, s.Name, s.Action, s.Account, s.Identity, s.Error)
			}
		})
	}

	b.WriteString("## Files of this pack\n\n")
	for _, f := range v.Files {
		fmt.Fprintf(&b, "- `%s`: %s\n", f.Name, md(f.About))
	}
	b.WriteString("\n")

	writeMethodMarkdown(&b, v)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeMethodMarkdown(b *strings.Builder, v *packView) {
	md := markdownCell
	b.WriteString("## Method\n\n")
	b.WriteString("### What was read\n\n")
	b.WriteString("CloudTrail log files, ingested into the database by these runs:\n\n")
	mdTable(b, []string{"Run", "Started", "Status", "Version", "Sources", "Window", "Listed", "Read", "Failed", "Records", "Kept", "Command"}, func(row func(...string)) {
		for _, r := range v.Runs {
			window := "all files"
			if r.WindowSince != "" || r.WinUntil != "" {
				window = r.WindowSince + " – " + r.WinUntil
			}
			row(strconv.FormatInt(r.ID, 10), r.Started, r.Status, r.Version, r.Sources, window, r.Listed, r.Read, r.Failed, r.Records, r.Kept, r.Command)
		}
	})
	b.WriteString("Objects the database has seen, all runs together:\n\n")
	mdTable(b, []string{"Kind", "Status", "Objects", "Bytes", "Records", "Kept"}, func(row func(...string)) {
		for _, s := range v.Sources {
			row(s.Kind, s.Status, n(s.Objects), n(s.Bytes), n(s.Records), n(s.Kept))
		}
	})
	b.WriteString("### Classification rule\n\n")
	b.WriteString("Every root-principal event gets exactly one class, by the first rule that matches (view `root_activity`). Human root use is classes 3, 5 and 6; failed ConsoleLogins are attempts, not use. AssumeRoot session actions are linked to their session by access key ID and target account.\n\n")
	mdTable(b, []string{"#", "Class", "Rule", "Human root use?"}, func(row func(...string)) {
		for _, c := range v.Classes {
			row(strconv.Itoa(c.No), c.Class, c.Rule, c.HumanUse)
		}
	})
	b.WriteString("### Definitions\n\n")
	b.WriteString("- Member accounts: the accounts of `--accounts` when given, else every account seen, minus the management accounts (those issuing AssumeRoot calls or organization switches).\n")
	b.WriteString("- Credentials not removed: credential state `not-removed` or `re-created` as of the end of the period (view `credential_events`).\n")
	b.WriteString("- Human root use after removal: human root events (failed sign-ins excluded) after the start of the current removed stretch, up to the end of the period.\n")
	b.WriteString("- Coverage: per account, region and UTC delivery day, the log files read; a gap is a day without any log file for an account and region that has log files in the database.\n")
	b.WriteString("- Digest-validated: a log file whose SHA-256 matches a digest file whose signature verified (`ingest --validate`).\n\n")
	b.WriteString("### Database fingerprint\n\n")
	fmt.Fprintf(b, "`%s`: the SHA-256 of the %d lines returned by `query/sql/evidence_fingerprint.sql` (every row of `events` ordered by `event_id`, then every row of `ingested_files` ordered by `source`, each as DuckDB's `to_json` of the row), each followed by a newline.\n\n", v.Fingerprint, v.FPRows)
	b.WriteString("### SQL of every figure\n\n")
	b.WriteString("Each figure comes from exactly this SQL (embedded in rootaudit), with these parameters.\n\n")
	for _, q := range v.Queries {
		fmt.Fprintf(b, "#### %s\n\n", md(q.File))
		fmt.Fprintf(b, "Figures: %s.", md(q.Figures))
		if q.Params != "" {
			fmt.Fprintf(b, " Parameters: %s.", md(q.Params))
		}
		b.WriteString("\n\n")
		codeBlock(b, "sql", q.SQL)
	}
	b.WriteString("### Views\n\n")
	b.WriteString("As defined in the database read.\n\n")
	for _, vw := range v.Views {
		fmt.Fprintf(b, "#### %s\n\n", md(vw.Name))
		codeBlock(b, "sql", vw.SQL)
	}
}

// codeBlock writes a fenced code block whose fence is longer than any run
// of backticks in s.
func codeBlock(b *strings.Builder, lang, s string) {
	fence := "```"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	b.WriteString(fence + lang + "\n" + terminalLines(s) + "\n" + fence + "\n\n")
}

// terminalLines sanitises multi-line text for a terminal: like Terminal, but
// newlines are kept.
func terminalLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Terminal(l)
	}
	return strings.Join(lines, "\n")
}

// mdTable writes a Markdown table; fill calls row once per row.
func mdTable(b *strings.Builder, header []string, fill func(row func(...string))) {
	b.WriteString("|")
	for _, h := range header {
		b.WriteString(" " + markdownCell(h) + " |")
	}
	b.WriteString("\n|")
	for range header {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	rows := 0
	fill(func(cells ...string) {
		rows++
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" " + markdownCell(c) + " |")
		}
		b.WriteString("\n")
	})
	if rows == 0 {
		b.WriteString("\n_No rows._\n")
	}
	b.WriteString("\n")
}
