package query

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/rootaudit/rootaudit/ingest"
)

func tp(s string) *time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return &t
}

// sampleAudits are one audit of each state, with every list shape: found,
// "none" (empty) and not read (nil).
func sampleAudits(at time.Time) []ingest.RootCredentialAudit {
	yes, no := true, false
	return []ingest.RootCredentialAudit{
		{AccountID: "111111111111", AccountName: "clean", CheckedAt: at, AssumeStatus: "ok", SessionKeyID: "ASIACLEAN",
			SessionExpires: tp("2026-05-01T12:05:00Z"), PasswordPresent: &no, AccessKeys: []ingest.RootAccessKey{},
			MFADevices: []ingest.RootMFADevice{}, SigningCertificates: []ingest.RootSigningCertificate{},
			State: ingest.AuditNoRootCredentials, Present: []string{}},
		{AccountID: "222222222222", AccountName: "creds", CheckedAt: at, AssumeStatus: "ok", SessionKeyID: "ASIACREDS",
			SessionExpires: tp("2026-05-01T12:05:00Z"), PasswordPresent: &yes, PasswordCreatedAt: tp("2021-03-04T05:06:07Z"),
			// A sub-microsecond time is stored to the microsecond.
			AccessKeys: []ingest.RootAccessKey{{AccessKeyID: "AKIAONE", Status: "Active", CreatedAt: tp("2020-01-02T03:04:05.123456Z")},
				{AccessKeyID: "AKIATWO", Status: "Inactive"}},
			MFADevices:          []ingest.RootMFADevice{{SerialNumber: "arn:aws:iam::222222222222:mfa/root", EnabledAt: tp("2022-02-03T04:05:06Z")}},
			SigningCertificates: []ingest.RootSigningCertificate{{CertificateID: "CERT1", Status: "Active", UploadedAt: tp("2019-01-01T00:00:00Z")}},
			State:               ingest.AuditRootCredentialsPresent, Present: []string{"password", "access-key", "mfa-device", "signing-certificate"}},
		{AccountID: "333333333333", AccountName: "denied", CheckedAt: at, AssumeStatus: "AccessDenied",
			State: ingest.AuditUnknown, Present: []string{}, Error: "sts AssumeRoot: AccessDenied: root sessions are not enabled"},
	}
}

func TestAuditRunRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	if _, err := db.AuditRun(ctx, 0); !errors.Is(err, ErrNoAuditRun) {
		t.Fatalf("empty database: %v, want ErrNoAuditRun", err)
	}
	at := time.Date(2026, 5, 1, 12, 0, 0, 123456000, time.UTC)
	id, err := db.StartAuditRun(ctx, AuditRunInfo{StartedAt: at, Version: "test", Command: "rootaudit verify", Region: "eu-west-1",
		ManagementAccount: "999999999999", AccountSource: "organizations", Accounts: 4})
	if err != nil || id != 1 {
		t.Fatalf("first run id %d, %v", id, err)
	}
	in := sampleAudits(at)
	// Stored in an order other than the report's.
	for _, i := range []int{0, 2, 1} {
		if err := db.RecordAudit(ctx, id, in[i]); err != nil {
			t.Fatal(err)
		}
	}
	// Recording an account again in the same run replaces it.
	if err := db.RecordAudit(ctx, id, in[0]); err != nil {
		t.Fatal(err)
	}
	run, err := db.AuditRun(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != AuditRunRunning || run.FinishedAt != nil {
		t.Errorf("unfinished run: status %s finished %v", run.Status, run.FinishedAt)
	}
	if err := db.FinishAuditRun(ctx, id, AuditRunOK); err != nil {
		t.Fatal(err)
	}
	if run, err = db.AuditRun(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if run.AuditRunID != 1 || run.Status != AuditRunOK || run.FinishedAt == nil || run.Accounts != 4 || run.Audited != 3 ||
		run.Present != 1 || run.Unknown != 1 || run.ManagementAccount != "999999999999" || run.Region != "eu-west-1" || !run.StartedAt.Equal(at) {
		t.Errorf("run: %+v", run)
	}
	want := []ingest.RootCredentialAudit{in[1], in[2], in[0]} // present, unknown, none
	if !reflect.DeepEqual(run.Results, want) {
		t.Errorf("results:\n got %+v\nwant %+v", run.Results, want)
	}
	for _, r := range run.Results {
		if r.CheckedAt.Location() != time.UTC {
			t.Errorf("%s: checked_at not UTC", r.AccountID)
		}
	}

	// A second run: account 333… now checked; LatestAudits takes each
	// account's latest.
	later := at.Add(24 * time.Hour)
	id2, err := db.StartAuditRun(ctx, AuditRunInfo{StartedAt: later, Accounts: 1})
	if err != nil || id2 != 2 {
		t.Fatalf("second run id %d, %v", id2, err)
	}
	fixed := sampleAudits(later)[0]
	fixed.AccountID, fixed.AccountName = "333333333333", "denied"
	if err := db.RecordAudit(ctx, id2, fixed); err != nil {
		t.Fatal(err)
	}
	latest, err := db.LatestAudits(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range latest {
		got[a.AccountID] = a.State + "@" + a.CheckedAt.Format(time.RFC3339)
	}
	wantLatest := map[string]string{
		"111111111111": "no-root-credentials@2026-05-01T12:00:00Z",
		"222222222222": "root-credentials-present@2026-05-01T12:00:00Z",
		"333333333333": "no-root-credentials@2026-05-02T12:00:00Z",
	}
	if !reflect.DeepEqual(got, wantLatest) {
		t.Errorf("LatestAudits = %v, want %v", got, wantLatest)
	}
	// Times in another zone are stored as the same instant in UTC.
	zoned := sampleAudits(later)[1]
	zoned.AccountID = "444444444444"
	zoned.AccessKeys = []ingest.RootAccessKey{{AccessKeyID: "AKIAZONE", Status: "Active", CreatedAt: tp("2020-01-02T05:04:05+02:00")}}
	if err := db.RecordAudit(ctx, id2, zoned); err != nil {
		t.Fatal(err)
	}
	if z, err := db.LatestAudits(ctx, []string{"444444444444"}); err != nil || len(z) != 1 || !z[0].AccessKeys[0].CreatedAt.Equal(*tp("2020-01-02T03:04:05Z")) {
		t.Errorf("zoned time: %+v, %v", z, err)
	}
	only, err := db.LatestAudits(ctx, []string{"333333333333", "1' OR '1'='1"})
	if err != nil || len(only) != 1 || only[0].AccountID != "333333333333" {
		t.Errorf("LatestAudits filtered: %+v, %v", only, err)
	}
}

func assumeRootRecord(id, at, target, key, errCode string) string {
	resp := `null`
	if key != "" {
		resp = fmt.Sprintf(`{"credentials":{"accessKeyId":%q,"sessionToken":"tok","expiration":"May 1, 2026, 12:05:00 PM"}}`, key)
	}
	errPart := ""
	if errCode != "" {
		errPart = fmt.Sprintf(`"errorCode":%q,"errorMessage":"denied",`, errCode)
	}
	return fmt.Sprintf(`{"eventVersion":"1.08","eventID":%q,"eventTime":%q,"eventSource":"sts.amazonaws.com","eventName":"AssumeRoot",
"awsRegion":"eu-west-1","recipientAccountId":"999999999999","eventType":"AwsApiCall",%s
"userIdentity":{"type":"AssumedRole","accountId":"999999999999","arn":"arn:aws:sts::999999999999:assumed-role/Auditor/rootaudit",
 "sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::999999999999:role/Auditor"}}},
"requestParameters":{"targetPrincipal":%q,"taskPolicyArn":{"arn":"arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"},"durationSeconds":300},
"responseElements":%s}`, id, at, errPart, target, resp)
}

// TestSessionsAuditSweep: sessions whose key a credential audit recorded,
// and failed audit AssumeRoot calls next to an audit that recorded the
// failure, are audit sweeps; others are not.
func TestSessionsAuditSweep(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	recs := []string{
		assumeRootRecord("sweep-ok", "2026-05-01T12:00:01Z", "111111111111", "ASIACLEAN", ""),
		assumeRootRecord("other-ok", "2026-05-01T12:00:02Z", "111111111111", "ASIAOTHER", ""),
		// The same key ID for another account is not the audit's session.
		assumeRootRecord("wrong-acct", "2026-05-01T12:00:03Z", "222222222222", "ASIACLEAN", ""),
		assumeRootRecord("sweep-denied", "2026-05-01T12:00:01Z", "333333333333", "", "AccessDenied"),
		assumeRootRecord("other-denied", "2026-05-01T14:00:00Z", "333333333333", "", "AccessDenied"),
	}
	doc := `{"Records":[` + recs[0]
	for _, r := range recs[1:] {
		doc += "," + r
	}
	doc += "]}"
	load(t, db, fileResult(t, "AWSLogs/o-abc123def4/999999999999/CloudTrail/eu-west-1/2026/05/01/999999999999_CloudTrail_eu-west-1_20260501T1200Z_a.json.gz", doc))

	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	id, err := db.StartAuditRun(ctx, AuditRunInfo{StartedAt: at, Accounts: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range sampleAudits(at) {
		if err := db.RecordAudit(ctx, id, a); err != nil {
			t.Fatal(err)
		}
	}
	ss, err := db.Sessions(ctx, SessionFilter{Filter: Filter{Window: Window{Since: at.Add(-time.Hour), Until: at.Add(5 * time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, s := range ss {
		got[s.EventID] = s.AuditSweep
	}
	want := map[string]bool{"sweep-ok": true, "other-ok": false, "wrong-acct": false, "sweep-denied": true, "other-denied": false}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("audit sweeps %v, want %v", got, want)
	}
}
