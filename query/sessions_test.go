package query

import (
	"context"
	"reflect"
	"testing"
	"time"
)

// TestSessionsActionsAttached: every session gets its own actions, in time
// order, whatever the order of the sessions' event IDs (the actions query
// returns them in the sessions' order and they are attached in one pass);
// NULL text reads as empty, NULL keys and error codes as nil; one session's
// actions can grow without touching the next session's.
func TestSessionsActionsAttached(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	policy := "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"
	assume := func(id, at, target, key, errCode string) plantedEvent {
		return plantedEvent{id: id, at: at, source: "sts.amazonaws.com", name: "AssumeRoot", acct: acctMgmt, idType: "AssumedRole",
			idARN: issuerARN, target: target, taskPolicy: policy, issuedKey: key, errCode: errCode}
	}
	action := func(id, at, target, key, name, errCode string) plantedEvent {
		return plantedEvent{id: id, at: at, source: "iam.amazonaws.com", name: name, acct: target, key: key, errCode: errCode}
	}
	// Event IDs sort the other way round from the issue times.
	plantEvents(t, db,
		assume("s-c", "2026-03-01 10:00:00", acctTarget, "ASIAKEYC", ""),
		assume("s-b", "2026-03-01 11:00:00", acctTarget, "ASIAKEYB", ""),
		assume("s-a", "2026-03-01 12:00:00", acctKeys, "ASIAKEYA", ""),
		// Refused at the same time as s-a: no key, so it comes first.
		assume("s-z", "2026-03-01 12:00:00", acctKeys, "", "AccessDenied"),
		// No issuer ARN and no target recorded.
		plantedEvent{id: "s-0", at: "2026-03-01 13:00:00", source: "sts.amazonaws.com", name: "AssumeRoot", acct: acctMgmt, idType: "AssumedRole",
			taskPolicy: policy, issuedKey: "ASIAKEY0"},
		action("a-c2", "2026-03-01 10:02:00", acctTarget, "ASIAKEYC", "DeleteAccessKey", ""),
		action("a-c1", "2026-03-01 10:01:00", acctTarget, "ASIAKEYC", "DeleteLoginProfile", ""),
		action("a-a3", "2026-03-01 12:03:00", acctKeys, "ASIAKEYA", "CreateUser", "AccessDenied"),
		action("a-a1", "2026-03-01 12:01:00", acctKeys, "ASIAKEYA", "DeleteLoginProfile", ""),
		action("a-a2", "2026-03-01 12:02:00", acctKeys, "ASIAKEYA", "DeactivateMFADevice", ""),
	)
	ss, err := db.Sessions(ctx, SessionFilter{Filter: Filter{Window: Window{
		Since: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}}})
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		ID       string
		Key      *string
		Actions  []string
		Findings []string
	}
	var have []got
	for _, s := range ss {
		g := got{ID: s.EventID, Key: s.AccessKeyID, Actions: []string{}, Findings: s.Findings}
		for _, a := range s.Actions {
			code := "-"
			if a.ErrorCode != nil {
				code = *a.ErrorCode
			}
			g.Actions = append(g.Actions, a.EventTime.Format("15:04")+" "+a.EventName+" "+code)
		}
		have = append(have, g)
	}
	key := func(s string) *string { return &s }
	want := []got{
		{"s-c", key("ASIAKEYC"), []string{"10:01 DeleteLoginProfile -", "10:02 DeleteAccessKey -"}, []string{}},
		{"s-b", key("ASIAKEYB"), []string{}, []string{FindingNoActions}},
		{"s-z", nil, []string{}, []string{FindingAssumeFailed}},
		{"s-a", key("ASIAKEYA"), []string{"12:01 DeleteLoginProfile -", "12:02 DeactivateMFADevice -", "12:03 CreateUser AccessDenied"},
			[]string{FindingDeniedAction, FindingOutsideTask}},
		{"s-0", key("ASIAKEY0"), []string{}, []string{FindingNoActions}},
	}
	if !reflect.DeepEqual(have, want) {
		t.Fatalf("sessions:\n got %+v\nwant %+v", have, want)
	}
	if s := ss[4]; s.IssuerARN != "" || s.TargetAccount != "" || s.IssuerAccount != acctMgmt || s.TaskPolicy != "IAMDeleteRootUserCredentials" ||
		s.Region != "us-east-1" || s.DurationSeconds != 900 || s.Actions == nil {
		t.Errorf("session without issuer and target: %+v", s)
	}
	if a := ss[0].Actions[0]; a.EventSource != "iam.amazonaws.com" || a.AWSRegion != "us-east-1" || a.ErrorCode != nil || !a.Allowed {
		t.Errorf("first action: %+v", a)
	}
	ss[0].Actions = append(ss[0].Actions, SessionAction{EventName: "Appended"})
	if ss[3].Actions[0].EventName != "DeleteLoginProfile" {
		t.Errorf("appending to one session's actions changed another's: %+v", ss[3].Actions)
	}
}
