package report

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rootaudit/rootaudit/query"
)

// An evidence pack is a directory of files that together answer "who used
// root, where and when" for one period, for an auditor: index.html (one
// self-contained page), summary.md (the same content for tickets and
// wikis), CSV extracts, controls.md and manifest.json (hashes of every
// other file). Every value that comes from a log record is
// attacker-influenced: the HTML renderer escapes it contextually, the
// Markdown renderer escapes it for Markdown, the CSV renderer neutralises
// formula prefixes.

// Names of the files of an evidence pack.
const (
	PackIndex       = "index.html"
	PackSummary     = "summary.md"
	PackInventory   = "inventory.csv"
	PackSessions    = "sessions.csv"
	PackCoverage    = "coverage.csv"
	PackHumanEvents = "human_root_events.csv"
	PackControls    = "controls.md"
	PackManifest    = "manifest.json"
)

// PackMeta describes how a pack was made.
type PackMeta struct {
	// Title heads the pack (user input: escaped like log values).
	Title string
	// Version is the rootaudit version.
	Version string
	// CommandLine is the command that made the pack.
	CommandLine string
	// GeneratedAt is when the pack was made (UTC).
	GeneratedAt time.Time
	// Database is the path of the database file read.
	Database string
}

// Pack is an evidence pack's content: the query results and how the pack
// was made.
type Pack struct {
	Meta PackMeta
	Ev   *query.Evidence
}

// The most rows of a list shown in index.html and summary.md; the CSV
// files always hold every row.
const (
	packMaxHumanEvents = 2000
	packMaxSessions    = 1000
	packMaxGapAccounts = 25
	packMaxValueRunes  = 300
	packMaxAgentRunes  = 120
)

// packView is the pack's content as plain text, shared by the HTML and
// Markdown renderers (each escapes it for its medium).
type packView struct {
	Title       string
	Window      string
	Since       string
	Until       string
	GeneratedAt string
	Version     string
	CommandLine string
	Database    string
	Fingerprint string
	FPRows      int64
	Schema      int

	// Statement is the headline: its first line is the N/M/K sentence, the
	// others name the accounts behind each number.
	Statement []string
	// Scope says which accounts and period the statement covers.
	Scope string
	// Auditor is the sentence "0 member accounts with human root use since
	// the credentials were removed." when K = 0, else "".
	Auditor string
	// Coverage are the statements that qualify the headline (gaps, failed
	// files, digest validation), never omitted.
	Coverage         []string
	CoverageComplete bool

	Accounts         []packAccount
	Switches         []packSwitch
	Sessions         []packSession
	SessionsOmitted  int
	HumanEvents      []packHumanEvent
	HumanOmitted     int
	ActivityAccounts []packActivityRow
	ActivityBucket   string
	SessionMonths    []packSessionMonth
	TaskPolicies     []string
	CoverageAccounts []packCoverageAccount
	Runs             []packRun
	Sources          []query.SourceCount
	Queries          []packQuery
	Views            []packViewDef
	Files            []packFile
	Controls         []controlRow
	Classes          []packClass
}

type packAccount struct {
	ID, Name, Role                         string
	Verdict, VerdictClass, Qualifier       string
	Credential, CredentialClass, CredSince string
	SigninsOK, SigninsFailed, NoMFA        int64
	OtherSignins                           int64 // sign-in events other than ConsoleLogin (password recovery, …)
	Console, KeyCalls, Denied              int64
	LastUse                                string
	UseAfterRemoval                        int64
	Sessions, SessionsWithFindings         int
	DaysWithLogs, Days                     int
	Regions                                string
}

type packSwitch struct {
	Time, Name, Action, Account, Identity, Error string
}

type packSession struct {
	Issued, Expires, Issuer, IssuerAccount, Target, TargetName string
	Task, Key, Status                                          string
	Findings                                                   []string
	Actions                                                    []packAction
}

type packAction struct {
	Time, Event, Region, Error, SourceIP, UserAgent, Params string
	Allowed, Denied, AfterExpiry                            bool
}

type packHumanEvent struct {
	Time, Account, Class, Event, Region, Result, MFA, Key, SourceIP, UserAgent, Params string
}

type packActivityRow struct {
	Account, Name string
	Total         int64
	Failed        int64
	ByClass       map[string]int64
}

type packSessionMonth struct {
	Month  string
	ByTask map[string]int64
	Failed int64
	Total  int64
}

type packCoverageAccount struct {
	ID, Name                     string
	Regions                      []packCoverageRegion
	Days, DaysWithLogs           int
	GapRanges                    string
	FailedFiles, IntegrityFailed int64
	DigestChainGaps, DigestFails int64
}

type packCoverageRegion struct {
	Region                 string
	DaysWithFiles, Days    int
	LogFiles, FailedFiles  int64
	ValidatedFiles, Events int64
	GapRanges              string
}

type packRun struct {
	ID                                      int64
	Started, Finished, Status, Version      string
	Command, Sources, WindowSince, WinUntil string
	Listed, Read, Failed, Records, Kept     string
}

type packQuery struct {
	Anchor  string
	File    string
	Figures string
	Params  string
	SQL     string `clean:"lines"`
}

type packViewDef struct {
	Name string
	SQL  string `clean:"lines"`
}

type packFile struct {
	Name, About string
}

type packClass struct {
	No                    int
	Class, Rule, HumanUse string
}

// classRules is the classification of root events (docs/schema.md, view
// root_activity): the first rule that matches wins.
var classRules = []packClass{
	{1, "service-event", "event_type = 'AwsServiceEvent'", "no"},
	{2, "privileged-session", "access_key_id issued by a successful AssumeRoot targeting recipient_account_id (at any time: actions after expiry stay the session's)", "no (audited as a session)"},
	{3, "sign-in", "event_source = 'signin.amazonaws.com'", "yes (failed ConsoleLogins are attempts)"},
	{4, "service-on-behalf", "invoked_by set and not signin.amazonaws.com / AWS Internal", "no"},
	{5, "long-term-key", "access_key_id LIKE 'AKIA%'", "yes, high risk"},
	{6, "console", "anything else", "yes"},
}

// view builds the plain-text content of the pack. It copies what it takes
// from the evidence, which it never modifies.
func (p *Pack) view() *packView {
	ev := p.Ev
	h := ev.Headline
	v := &packView{
		Title:       p.Meta.Title,
		Since:       ev.Window.Since.UTC().Format(time.RFC3339),
		Until:       ev.Window.Until.UTC().Format(time.RFC3339),
		GeneratedAt: p.Meta.GeneratedAt.UTC().Format(time.RFC3339),
		Version:     p.Meta.Version,
		CommandLine: p.Meta.CommandLine,
		Database:    p.Meta.Database,
		Fingerprint: ev.Fingerprint,
		FPRows:      ev.FingerprintRows,
		Schema:      ev.SchemaVersion,
		Classes:     append([]packClass(nil), classRules...),
	}
	v.Window = v.Since + " – " + v.Until + " (UTC, until exclusive)"
	names := map[string]string{}
	for _, a := range ev.Accounts {
		if a.Name != nil {
			names[a.AccountID] = *a.Name
		}
	}
	label := func(id string) string {
		if n := names[id]; n != "" {
			return id + " (" + n + ")"
		}
		return id
	}
	labels := func(ids []string) string {
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = label(id)
		}
		return strings.Join(out, ", ")
	}
	byID := map[string]query.EvidenceAccount{}
	for _, a := range ev.Accounts {
		byID[a.AccountID] = a
	}

	// The headline.
	v.Statement = append(v.Statement, fmt.Sprintf("%s with human root use in the period; %s with root credentials not removed; %s with human root use after their credentials were removed.",
		plural(len(h.HumanUse), "member account"), plural(len(h.NotRemoved), "account"), plural(len(h.UseAfterRemoval), "account")))
	v.Scope = fmt.Sprintf("The statement covers %s from %s to %s (UTC, exclusive); credential state as of %s.",
		plural(len(h.Members), "member account"), v.Since, v.Until, v.Until)
	if len(h.HumanUse) > 0 {
		var parts []string
		for _, id := range h.HumanUse {
			a := byID[id]
			parts = append(parts, fmt.Sprintf("%s: %s", label(id), useSummary(a.Inventory)))
		}
		v.Statement = append(v.Statement, "Human root use in the period: "+strings.Join(parts, "; ")+".")
	}
	if len(h.NotRemoved) > 0 {
		var parts []string
		for _, id := range h.NotRemoved {
			a := byID[id]
			s := label(id) + ": " + a.Status.CredentialState
			if a.Status.EvidenceEvent != nil && a.Status.EvidenceTime != nil {
				s += " (" + *a.Status.EvidenceEvent + " " + a.Status.EvidenceTime.UTC().Format(time.RFC3339) + ")"
			}
			parts = append(parts, s)
		}
		v.Statement = append(v.Statement, "Root credentials not removed: "+strings.Join(parts, "; ")+".")
	}
	if len(h.UseAfterRemoval) > 0 {
		var parts []string
		for _, id := range h.UseAfterRemoval {
			a := byID[id]
			s := fmt.Sprintf("%s: %s after removal on %s", label(id), plural(int(a.Status.HumanUseAfterRemoval), "human root event"), ts(a.Status.RemovedAt))
			if a.Status.LastHumanUse != nil {
				s += ", last " + ts(a.Status.LastHumanUse)
			}
			parts = append(parts, s)
		}
		v.Statement = append(v.Statement, "Human root use after the credentials were removed: "+strings.Join(parts, "; ")+".")
	} else {
		v.Auditor = "0 member accounts with human root use since the credentials were removed."
	}
	if len(h.FailedSigninsOnly) > 0 {
		v.Statement = append(v.Statement, "Failed root sign-in attempts only (not counted as use): "+labels(h.FailedSigninsOnly)+".")
	}
	if len(h.Management) > 0 {
		s := "Not member accounts: management " + pluralWord(len(h.Management), "account") + " " + labels(h.Management) +
			" (issued AssumeRoot calls or organization switches; centralized root access does not apply to it)"
		if len(h.ManagementHumanUse) > 0 {
			s += "; human root use in the period in " + labels(h.ManagementHumanUse)
		} else {
			s += "; no human root use in the period"
		}
		v.Statement = append(v.Statement, s+".")
	}
	if len(h.OutsideOrg) > 0 {
		v.Statement = append(v.Statement, "Seen in the logs but not in the organization's account list (not member accounts): "+labels(h.OutsideOrg)+".")
	}

	// Coverage, stated next to the headline.
	v.CoverageComplete = len(h.WithGaps) == 0 && h.StreamGapDays == 0 && h.FailedFiles == 0 && h.IntegrityFailures == 0 &&
		h.DigestChainGaps == 0 && h.DigestFailures == 0 && h.Events > 0 && h.ValidatedEvents == h.Events
	if len(h.NoLogs) > 0 {
		v.Coverage = append(v.Coverage, fmt.Sprintf("%s without any log file in the period: %s. Nothing is claimed about root use there.",
			plural(len(h.NoLogs), "member account"), labels(h.NoLogs)))
	}
	var partial []string
	for _, id := range h.WithGaps {
		a := byID[id]
		if a.Coverage == nil || a.Coverage.DaysWithoutLogsCount >= h.Days {
			continue
		}
		partial = append(partial, fmt.Sprintf("%s %d of %d days", label(id), a.Coverage.DaysWithoutLogsCount, h.Days))
	}
	if len(partial) > 0 {
		shown := partial
		more := ""
		if len(shown) > packMaxGapAccounts {
			more = fmt.Sprintf(" and %d more (see %s)", len(shown)-packMaxGapAccounts, PackInventory)
			shown = shown[:packMaxGapAccounts]
		}
		v.Coverage = append(v.Coverage, fmt.Sprintf("%s with days without any log file in any region: %s%s. A claim of no root use holds only for the days with logs.",
			plural(len(partial), "member account"), strings.Join(shown, "; "), more))
	}
	if h.StreamDays > 0 {
		v.Coverage = append(v.Coverage, fmt.Sprintf("%d of %d account-region-days (%s) have no log file, across %s (accounts × regions with log files); the days and ranges are in %s.",
			h.StreamGapDays, h.StreamDays, pct(int64(h.StreamGapDays), int64(h.StreamDays)), plural(h.Streams, "stream"), PackCoverage))
	} else {
		v.Coverage = append(v.Coverage, "No log file at all was read: nothing is claimed about root use.")
	}
	v.Coverage = append(v.Coverage, fmt.Sprintf("%s of the period failed to read (nothing of them is stored).", plural64(h.FailedFiles, "log file")))
	integ := fmt.Sprintf("%s of %s of the period (%s) come from digest-validated log files", strconv.FormatInt(h.ValidatedEvents, 10),
		plural64(h.Events, "kept event"), pct(h.ValidatedEvents, h.Events))
	integ += fmt.Sprintf("; of the %s, %d (%s)", plural64(h.HumanEvents, "human root event"), h.ValidatedHumanEvents, pct(h.ValidatedHumanEvents, h.HumanEvents))
	if !h.Validated {
		integ += ". Log-file integrity was not validated (ingest ran without --validate): every file is not-validated"
	}
	v.Coverage = append(v.Coverage, integ+".")
	v.Coverage = append(v.Coverage, fmt.Sprintf("%s, %s and %d %s failing validation in the period.",
		plural64(h.DigestChainGaps, "digest chain gap"), plural64(h.DigestFailures, "other digest failure"), h.IntegrityFailures, pluralWord(int(h.IntegrityFailures), "log file")))

	// Accounts.
	for _, a := range ev.Accounts {
		pa := packAccount{ID: a.AccountID, Role: a.Role, Verdict: a.Inventory.Verdict, Credential: a.Status.CredentialState,
			SigninsOK: a.Inventory.SigninsSuccess, SigninsFailed: a.Inventory.SigninsFailure, NoMFA: a.Inventory.SigninsWithoutMFA,
			OtherSignins: a.Inventory.OtherSigninEvents, Console: a.Inventory.ConsoleCalls, KeyCalls: a.Inventory.AccessKeyCalls,
			Denied: a.Inventory.DeniedCalls, LastUse: ts(a.Inventory.LastSeen), UseAfterRemoval: a.Status.HumanUseAfterRemoval,
			Sessions: a.Sessions, SessionsWithFindings: a.SessionsWithFindings, Days: h.Days}
		if a.Name != nil {
			pa.Name = *a.Name
		}
		switch a.Inventory.Verdict {
		case query.VerdictKeyUsed, query.VerdictRootUsed:
			pa.VerdictClass = "bad"
		case query.VerdictFailedOnly, query.VerdictNoCoverage:
			pa.VerdictClass = "warn"
		default:
			pa.VerdictClass = "ok"
		}
		switch {
		case a.Status.EvidenceEvent != nil && a.Status.EvidenceTime != nil:
			pa.CredSince = day(*a.Status.EvidenceTime) + " (" + *a.Status.EvidenceEvent + ")"
		default:
			pa.CredSince = "no removal seen up to " + day(ev.Window.Until)
		}
		if a.Status.CredentialState == query.StateRemoved && a.Status.RemovedAt != nil {
			pa.CredSince = "removed " + day(*a.Status.RemovedAt) + "; last change " + pa.CredSince
		}
		switch a.Status.CredentialState {
		case query.StateRemoved:
			pa.CredentialClass = "ok"
		default:
			pa.CredentialClass = "warn"
		}
		if a.Coverage != nil {
			pa.DaysWithLogs = h.Days - a.Coverage.DaysWithoutLogsCount
			var regs []string
			for _, r := range a.Coverage.Regions {
				regs = append(regs, r.Region)
			}
			pa.Regions = strings.Join(regs, ", ")
		}
		if pa.DaysWithLogs < h.Days && a.Inventory.Verdict != query.VerdictNoCoverage {
			pa.Qualifier = fmt.Sprintf("logs on %d of %d days", pa.DaysWithLogs, h.Days)
		}
		if a.Role == query.RoleOutsideOrg {
			pa.Qualifier = strings.TrimPrefix(pa.Qualifier+"; not in the organization's account list", "; ")
		}
		v.Accounts = append(v.Accounts, pa)
	}

	// Organization switches.
	for _, s := range ev.Status.OrgSwitches {
		v.Switches = append(v.Switches, packSwitch{Time: s.EventTime.UTC().Format(time.RFC3339), Name: s.EventName, Action: s.Action,
			Account: s.AccountID, Identity: s.IdentityARN, Error: str(s.ErrorCode)})
	}

	// Sessions.
	for i, s := range ev.Sessions {
		if i >= packMaxSessions {
			v.SessionsOmitted = len(ev.Sessions) - packMaxSessions
			break
		}
		ps := packSession{Issued: s.IssuedAt.UTC().Format(time.RFC3339), Expires: s.ExpiresAt.UTC().Format(time.RFC3339),
			Issuer: s.IssuerARN, IssuerAccount: s.IssuerAccount, Target: s.TargetAccount, TargetName: names[s.TargetAccount],
			Task: s.TaskPolicy, Key: str(s.AccessKeyID), Status: s.Status, Findings: append([]string(nil), s.Findings...)}
		details := ev.SessionDetails[s.EventID]
		for j, a := range s.Actions {
			pa := packAction{Time: a.EventTime.UTC().Format(time.RFC3339), Event: strings.TrimSuffix(a.EventSource, ".amazonaws.com") + ":" + a.EventName,
				Region: a.AWSRegion, Error: str(a.ErrorCode), Allowed: a.Allowed, Denied: a.ErrorCode != nil && isDenial(*a.ErrorCode),
				AfterExpiry: a.EventTime.After(s.ExpiresAt.Add(5 * time.Second))}
			if j < len(details) {
				pa.SourceIP, pa.UserAgent, pa.Params = details[j].SourceIP, clipTo(details[j].UserAgent, packMaxAgentRunes), clip(details[j].RequestParameters)
			}
			ps.Actions = append(ps.Actions, pa)
		}
		v.Sessions = append(v.Sessions, ps)
	}

	// Human root events.
	for i, e := range ev.HumanEvents {
		if i >= packMaxHumanEvents {
			v.HumanOmitted = len(ev.HumanEvents) - packMaxHumanEvents
			break
		}
		result := e.LoginResult
		if e.ErrorCode != "" {
			result = strings.TrimPrefix(result+" "+e.ErrorCode, " ")
		}
		mfa := ""
		switch {
		case e.MFAUsed != nil:
			mfa = yesNo(*e.MFAUsed)
		case e.MFAAuthenticated != nil:
			mfa = yesNo(*e.MFAAuthenticated)
		}
		v.HumanEvents = append(v.HumanEvents, packHumanEvent{Time: e.EventTime.UTC().Format(time.RFC3339), Account: e.AccountID, Class: e.Class,
			Event: strings.TrimSuffix(e.EventSource, ".amazonaws.com") + ":" + e.EventName, Region: e.Region, Result: result, MFA: mfa,
			Key: e.AccessKeyID, SourceIP: e.SourceIP, UserAgent: clipTo(e.UserAgent, packMaxAgentRunes), Params: clip(e.RequestParameters)})
	}

	// Activity per account (for the Markdown table; the chart reads ev).
	v.ActivityBucket = ev.ActivityBucket
	act := map[string]*packActivityRow{}
	for _, a := range ev.Activity {
		r := act[a.AccountID]
		if r == nil {
			r = &packActivityRow{Account: a.AccountID, Name: names[a.AccountID], ByClass: map[string]int64{}}
			act[a.AccountID] = r
		}
		r.ByClass[a.Class] += a.Events
		r.Total += a.Events
		r.Failed += a.FailedSignins
	}
	for _, r := range act {
		v.ActivityAccounts = append(v.ActivityAccounts, *r)
	}
	sort.Slice(v.ActivityAccounts, func(i, j int) bool { return v.ActivityAccounts[i].Account < v.ActivityAccounts[j].Account })

	// Sessions per month.
	tasks := map[string]bool{}
	months := map[string]*packSessionMonth{}
	for _, m := range monthsOf(ev.Window) {
		k := m.Format("2006-01")
		months[k] = &packSessionMonth{Month: k, ByTask: map[string]int64{}}
	}
	for _, m := range ev.SessionsMonthly {
		k := m.Month.UTC().Format("2006-01")
		pm := months[k]
		if pm == nil {
			pm = &packSessionMonth{Month: k, ByTask: map[string]int64{}}
			months[k] = pm
		}
		task := m.TaskPolicy
		if task == "" {
			task = "(no task policy)"
		}
		if m.Issued > 0 {
			tasks[task] = true
		}
		pm.ByTask[task] += m.Issued
		pm.Failed += m.Failed
		pm.Total += m.Issued + m.Failed
	}
	for t := range tasks {
		v.TaskPolicies = append(v.TaskPolicies, t)
	}
	sort.Strings(v.TaskPolicies)
	for _, pm := range months {
		v.SessionMonths = append(v.SessionMonths, *pm)
	}
	sort.Slice(v.SessionMonths, func(i, j int) bool { return v.SessionMonths[i].Month < v.SessionMonths[j].Month })

	// Coverage per account.
	for _, a := range ev.Accounts {
		pc := packCoverageAccount{ID: a.AccountID, Name: names[a.AccountID], Days: h.Days}
		if a.Coverage == nil {
			pc.GapRanges = "no log file"
			v.CoverageAccounts = append(v.CoverageAccounts, pc)
			continue
		}
		c := a.Coverage
		pc.DaysWithLogs = h.Days - c.DaysWithoutLogsCount
		pc.GapRanges = rangesText(c.DaysWithoutLogs, 8)
		pc.FailedFiles, pc.IntegrityFailed, pc.DigestChainGaps, pc.DigestFails = c.FailedFiles, c.IntegrityFailures, c.DigestChainGaps, c.DigestFailures
		for _, r := range c.Regions {
			pc.Regions = append(pc.Regions, packCoverageRegion{Region: r.Region, DaysWithFiles: r.DaysWithFiles, Days: r.Days,
				LogFiles: r.LogFiles, FailedFiles: r.FailedFiles, ValidatedFiles: r.ValidatedFiles, Events: r.KeptEvents,
				GapRanges: rangesText(r.Gaps, 4)})
		}
		v.CoverageAccounts = append(v.CoverageAccounts, pc)
	}

	// What was read.
	for _, r := range ev.Runs {
		v.Runs = append(v.Runs, packRun{ID: r.RunID, Started: ts(r.StartedAt), Finished: ts(r.FinishedAt), Status: r.Status, Version: r.Version,
			Command: r.Command, Sources: r.Sources, WindowSince: ts(r.WindowSince), WinUntil: ts(r.WindowUntil),
			Listed: optInt(r.FilesListed), Read: optInt(r.FilesRead), Failed: optInt(r.FilesFailed), Records: optInt(r.Records), Kept: optInt(r.Kept)})
	}
	v.Sources = append([]query.SourceCount(nil), ev.Sources...)
	for _, q := range ev.Queries {
		params := make([]string, len(q.Params))
		for i, p := range q.Params {
			params[i] = fmt.Sprintf("$%d = '%s'", i+1, p)
		}
		v.Queries = append(v.Queries, packQuery{Anchor: queryAnchor(q.File), File: q.File, Figures: q.Figures, Params: strings.Join(params, ", "), SQL: strings.TrimSpace(q.SQL)})
	}
	for _, vd := range ev.Views {
		v.Views = append(v.Views, packViewDef{Name: vd.Name, SQL: vd.SQL})
	}
	v.Files = append([]packFile(nil), packFiles...)
	v.Controls = controlRows(ev)
	cleanStrings(v)
	return v
}

// packFiles describes the files of a pack, manifest.json last.
var packFiles = []packFile{
	{PackIndex, "this page: one self-contained file (no script, no external resource), printable"},
	{PackSummary, "the same content in Markdown, for tickets and wikis"},
	{PackInventory, "one row per account: verdict, human root use, credential state, sessions, log coverage"},
	{PackSessions, "one row per AssumeRoot call with its actions and findings"},
	{PackHumanEvents, "every human root event of the period, with source IP, user agent and request parameters"},
	{PackCoverage, "account × region × day: log files, failed files, records, kept events, digest-validated files, digest chain gaps"},
	{PackControls, "each finding mapped to PCI DSS 4.0, ISO/IEC 27001:2022, SOC 2 and HIPAA controls, with the evidence file"},
	{PackManifest, "rootaudit version, command, time, database fingerprint, sources, object counts and the SHA-256 of every other file"},
}

func queryAnchor(file string) string {
	base := file[strings.LastIndex(file, "/")+1:]
	return "sql-" + strings.TrimSuffix(base, ".sql")
}

// useSummary describes an account's human root use in a few words.
func useSummary(a query.InventoryAccount) string {
	var parts []string
	if a.SigninsSuccess > 0 {
		parts = append(parts, plural64(a.SigninsSuccess, "sign-in"))
	}
	if a.OtherSigninEvents > 0 {
		parts = append(parts, plural64(a.OtherSigninEvents, "other sign-in event"))
	}
	if a.ConsoleCalls > 0 {
		parts = append(parts, plural64(a.ConsoleCalls, "console call"))
	}
	if a.AccessKeyCalls > 0 {
		parts = append(parts, plural64(a.AccessKeyCalls, "root access-key call"))
	}
	s := strings.Join(parts, ", ")
	if a.LastSeen != nil {
		s += ", last " + ts(a.LastSeen)
	}
	return s
}

// monthsOf returns the first of every UTC month that overlaps w.
func monthsOf(w query.Window) []time.Time {
	s := w.Since.UTC()
	m := time.Date(s.Year(), s.Month(), 1, 0, 0, 0, 0, time.UTC)
	var out []time.Time
	for ; m.Before(w.Until); m = m.AddDate(0, 1, 0) {
		out = append(out, m)
	}
	return out
}

// rangesText lists day ranges, at most max of them.
func rangesText(rs []query.DayRange, max int) string {
	if len(rs) == 0 {
		return ""
	}
	var parts []string
	for i, r := range rs {
		if i == max {
			parts = append(parts, fmt.Sprintf("+%d more ranges", len(rs)-max))
			break
		}
		parts = append(parts, r.String())
	}
	return strings.Join(parts, ", ")
}

// clip shortens a log value for display to packMaxValueRunes runes; the
// CSV files hold it whole.
func clip(s string) string { return clipTo(s, packMaxValueRunes) }

// clipTo shortens s to max runes, marking the cut with an ellipsis.
func clipTo(s string, max int) string {
	if len([]rune(s)) <= max {
		return s
	}
	return string([]rune(s)[:max]) + "…"
}

func plural(n int, word string) string { return plural64(int64(n), word) }

func plural64(n int64, word string) string {
	return strconv.FormatInt(n, 10) + " " + pluralWord(int(n), word)
}

func pluralWord(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// pct formats part/whole as a percentage with one decimal, "n/a" when
// whole is 0.
func pct(part, whole int64) string {
	if whole == 0 {
		return "n/a"
	}
	return strconv.FormatFloat(float64(part)*100/float64(whole), 'f', 1, 64) + "%"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func optInt(p *int64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}

// cleanStrings removes control characters, escape sequences and
// bidirectional overrides (Terminal) from every string reachable from v, a
// pointer: log values are attacker-influenced, and a report viewed in a
// browser, a terminal or a Markdown renderer must not be re-ordered or
// re-coloured by them. Fields tagged `clean:"lines"` keep their newlines
// (SQL text). Map keys are cleaned too.
func cleanStrings(v any) {
	cleanValue(reflect.ValueOf(v), false)
}

func cleanValue(v reflect.Value, lines bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			cleanValue(v.Elem(), lines)
		}
	case reflect.String:
		if v.CanSet() {
			if lines {
				v.SetString(terminalLines(v.String()))
			} else {
				v.SetString(Terminal(v.String()))
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			if t.Field(i).IsExported() || v.Field(i).CanSet() {
				cleanValue(v.Field(i), t.Field(i).Tag.Get("clean") == "lines")
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			cleanValue(v.Index(i), lines)
		}
	case reflect.Map:
		if v.IsNil() || v.Type().Key().Kind() != reflect.String {
			return
		}
		clean := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			val := reflect.New(v.Type().Elem()).Elem()
			val.Set(iter.Value())
			cleanValue(val, lines)
			k := reflect.ValueOf(Terminal(iter.Key().String())).Convert(v.Type().Key())
			clean.SetMapIndex(k, val)
		}
		if v.CanSet() {
			v.Set(clean)
		}
	}
}
