package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/rootaudit/rootaudit/query"
)

// controlRow maps one kind of finding of an evidence pack to the controls
// it supports or breaks, with how often the pack found it and the file
// that holds the evidence.
type controlRow struct {
	Finding  string
	Meaning  string
	Found    string // what this pack found, e.g. "3 accounts" or "none"
	Bad      bool   // true when found and it is a failure (not informational)
	PCI      string
	ISO      string
	SOC2     string
	HIPAA    string
	Evidence string
}

// Control references. The mapping is rootaudit's reading of the control
// texts; the assessor decides.
const (
	pci7     = "Req. 7 (7.2.1 access control model, 7.2.2 least privilege)"
	pci7appr = "Req. 7 (7.2.3 privileges approved by authorised personnel)"
	pci8     = "Req. 8 (8.2.2 shared/generic accounts only by exception)"
	pci8mfa  = "Req. 8 (8.4 multi-factor authentication)"
	pci8keys = "Req. 8 (8.2.2 shared accounts; 8.3 authentication factors)"
	isoAC    = "A.5.15 Access control"
	isoPriv  = "A.8.2 Privileged access rights"
	isoAuth  = "A.8.5 Secure authentication"
	isoRight = "A.5.18 Access rights"
	isoLog   = "A.8.15 Logging"
	isoMon   = "A.8.16 Monitoring activities"
	hipaaAC  = "§164.312(a)(1) Access control"
	hipaaUID = "§164.312(a)(2)(i) Unique user identification"
	hipaaAud = "§164.312(b) Audit controls"
)

func controlRows(ev *query.Evidence) []controlRow {
	h := ev.Headline
	var noMFA int64
	keyAccts := []string{}
	for _, a := range ev.Accounts {
		if a.Role != query.RoleMember {
			continue
		}
		noMFA += a.Inventory.SigninsWithoutMFA
		if a.Inventory.AccessKeyCalls > 0 {
			keyAccts = append(keyAccts, a.AccountID)
		}
	}
	sort.Strings(keyAccts)
	findings := map[string]int{}
	for _, s := range ev.Sessions {
		for _, f := range s.Findings {
			findings[f]++
		}
	}
	disabled := len(query.DisabledSwitches(ev.Status.OrgSwitches))
	accts := func(ids []string) (string, bool) {
		if len(ids) == 0 {
			return "none", false
		}
		return plural(len(ids), "account") + ": " + strings.Join(ids, ", "), true
	}
	count := func(n int, word string) (string, bool) {
		if n == 0 {
			return "none", false
		}
		return plural(n, word), true
	}
	row := func(finding, meaning string, found string, bad bool, pci, iso, soc, hipaa, evidence string) controlRow {
		return controlRow{finding, meaning, found, bad, pci, iso, soc, hipaa, evidence}
	}
	var rows []controlRow
	f, b := accts(h.HumanUse)
	rows = append(rows, row("Human root use in the period",
		"root signed in or made API calls in a member account (a shared identity, outside any approved session)", f, b,
		pci8+"; "+pci7, isoPriv+"; "+isoAC, "CC6.1, CC6.3", hipaaAC+"; "+hipaaUID,
		PackInventory+" (verdict, counts); "+PackHumanEvents+"; "+PackIndex+"#accounts"))
	f, b = accts(h.UseAfterRemoval)
	rows = append(rows, row("Human root use after the credentials were removed",
		"root was used in an account after its root credentials were removed: the removal did not hold", f, b,
		pci8+"; "+pci7, isoPriv+"; "+isoMon, "CC6.1, CC6.2, CC7.2", hipaaAC+"; "+hipaaAud,
		PackInventory+" (human_use_after_removal, removed_at); "+PackHumanEvents))
	f, b = accts(h.NotRemoved)
	rows = append(rows, row("Root credentials not removed",
		"long-term root credentials presumably exist (no removal seen, or re-created) at the end of the period", f, b,
		pci8+"; "+pci7, isoPriv+"; "+isoRight, "CC6.2, CC6.3", hipaaAC+"; "+hipaaUID,
		PackInventory+" (credential_state, credential_evidence_event, credential_evidence_time)"))
	f, b = accts(keyAccts)
	rows = append(rows, row("Root access key used",
		"API calls signed with a long-term root access key (AKIA…)", f, b,
		pci8keys, isoAuth+"; "+isoPriv, "CC6.1", hipaaAC+"; "+hipaaUID,
		PackInventory+" (access_key_calls, access_keys); "+PackHumanEvents))
	f, b = count(int(noMFA), "root sign-in")
	rows = append(rows, row("Root sign-in without MFA",
		"a successful root console sign-in without multi-factor authentication", f, b,
		pci8mfa, isoAuth, "CC6.1", hipaaAC,
		PackInventory+" (signins_without_mfa); "+PackHumanEvents+" (mfa_used)"))
	f, b = accts(h.FailedSigninsOnly)
	rows = append(rows, row("Failed root sign-ins only",
		"root sign-in attempts that failed, without any successful use (attempts, not use)", f, false,
		"Req. 8 (8.3 authentication)", isoMon+"; "+isoAuth, "CC7.2", hipaaAud,
		PackInventory+" (signins_failure); "+PackHumanEvents))
	rows = append(rows, row("Privileged root sessions (AssumeRoot)",
		"every centrally issued root session: who opened it, for which account and task, what it did", countOr(len(ev.Sessions), "session"), false,
		pci7+"; "+pci8, isoPriv+"; "+isoLog, "CC6.1, CC6.3, CC7.2", hipaaAC+"; "+hipaaAud,
		PackSessions+"; "+PackIndex+"#sessions"))
	for _, sf := range []struct{ code, meaning, pci, iso, soc, hipaa string }{
		{query.FindingUnapprovedIssuer, "a session opened by someone not on the approvers list", pci7appr, isoPriv + "; " + isoRight, "CC6.2, CC6.3", hipaaAC},
		{query.FindingOutsideTask, "an action outside the session's task policy", pci7, isoPriv, "CC6.3, CC7.2", hipaaAC + "; " + hipaaAud},
		{query.FindingDeniedAction, "an action in a session was denied", pci7, isoPriv + "; " + isoMon, "CC6.3, CC7.2", hipaaAud},
		{query.FindingAfterExpiry, "an action with the session's key after it expired", pci7, isoPriv + "; " + isoMon, "CC6.1, CC7.2", hipaaAud},
		{query.FindingTargetNotInOrg, "a session targeting an account outside the organization's list", pci7, isoAC + "; " + isoMon, "CC6.1, CC7.2", hipaaAC},
		{query.FindingAssumeFailed, "an AssumeRoot call that was refused", "Req. 8 (8.3 authentication)", isoMon, "CC7.2", hipaaAud},
		{query.FindingNoActions, "a session that did nothing (informational)", pci7, isoPriv, "CC6.3", hipaaAud},
	} {
		f, b := count(findings[sf.code], "session")
		if sf.code == query.FindingNoActions {
			b = false
		}
		rows = append(rows, row("Session finding "+sf.code, sf.meaning, f, b, sf.pci, sf.iso, sf.soc, sf.hipaa,
			PackSessions+" (findings); "+PackIndex+"#sessions"))
	}
	f, b = count(disabled, "switch")
	rows = append(rows, row("Organization root-access switch left disabled",
		"root credentials management or root sessions disabled at the organization level and not re-enabled", f, b,
		pci7, isoPriv, "CC6.1", hipaaAC, PackIndex+"#switches"))
	cov := "none"
	covBad := false
	if len(h.WithGaps) > 0 || h.StreamGapDays > 0 {
		cov, covBad = fmt.Sprintf("%s with days without logs; %d account-region-days without a log file", plural(len(h.WithGaps), "member account"), h.StreamGapDays), true
	}
	rows = append(rows, row("Log coverage gap",
		"a day of the period without any log file for an account or region: no claim of no root use holds there", cov, covBad,
		"—", isoLog+"; "+isoMon, "CC7.2", hipaaAud, PackCoverage+"; "+PackIndex+"#coverage"))
	f, b = count(int(h.FailedFiles), "log file")
	rows = append(rows, row("Log files that failed to read",
		"corrupt, truncated or unreadable log files: their events are not in the pack", f, b,
		"—", isoLog, "CC7.2", hipaaAud, PackCoverage+" (failed_files)"))
	integ := fmt.Sprintf("%s of %s in digest-validated files", pct(h.ValidatedEvents, h.Events), plural64(h.Events, "event"))
	integBad := h.ValidatedEvents < h.Events
	if h.IntegrityFailures+h.DigestChainGaps+h.DigestFailures > 0 {
		integ += fmt.Sprintf("; %d files failing validation, %d digest chain gaps, %d digest failures", h.IntegrityFailures, h.DigestChainGaps, h.DigestFailures)
		integBad = true
	}
	rows = append(rows, row("Log integrity (digest validation)",
		"log files not proven unaltered by CloudTrail digest files, or a break in the digest chain", integ, integBad,
		"—", isoLog, "CC7.2", hipaaAud, PackCoverage+" (validated_files, digest_chain_gaps, digest_failures); "+PackManifest))
	return rows
}

func countOr(n int, word string) string {
	if n == 0 {
		return "none"
	}
	return plural(n, word)
}

// writeControls writes controls.md.
func writeControls(w io.Writer, v *packView) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Controls: %s\n\n", markdownCell(v.Title))
	fmt.Fprintf(&b, "Period %s. Generated %s by rootaudit %s. Each finding of the evidence pack, what the pack found, the controls it bears on, and the file of the pack that holds the evidence. The mapping is rootaudit's reading of PCI DSS 4.0 (requirements 7 and 8), ISO/IEC 27001:2022 Annex A, the SOC 2 Trust Services Criteria (CC6.1–CC6.3, CC7.2) and the HIPAA Security Rule (§164.312); the assessor decides. \"none\" means the pack looked and found nothing, within the log coverage stated in %s.\n\n",
		markdownCell(v.Window), markdownCell(v.GeneratedAt), markdownCell(v.Version), PackSummary)
	b.WriteString("| Finding | Found in this pack | PCI DSS 4.0 | ISO/IEC 27001:2022 | SOC 2 | HIPAA | Evidence |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range v.Controls {
		found := markdownCell(r.Found)
		if r.Bad {
			found = "**" + found + "**"
		}
		fmt.Fprintf(&b, "| %s: %s | %s | %s | %s | %s | %s | %s |\n", markdownCell(r.Finding), markdownCell(r.Meaning), found,
			markdownCell(r.PCI), markdownCell(r.ISO), markdownCell(r.SOC2), markdownCell(r.HIPAA), markdownCell(r.Evidence))
	}
	b.WriteString("\nEvery file named here is listed with its SHA-256 in manifest.json; `rootaudit evidence verify DIR` re-checks them.\n")
	_, err := io.WriteString(w, b.String())
	return err
}
