package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rootaudit/rootaudit/ingest"
	"github.com/rootaudit/rootaudit/query"
)

// The organization the verify fakes serve.
const (
	vfMgmt      = "999999999999"
	vfClean1    = "111111111111"
	vfClean2    = "111111111112"
	vfPassword  = "222222222222"
	vfKey       = "333333333333"
	vfMFA       = "444444444444"
	vfDenied    = "555555555555"
	vfSuspended = "666666666666"
	vfMgmtKey   = "AKIDVERIFYMGMT"
)

// vfAccount is one account of the fake organization with its root user.
type vfAccount struct {
	id, name, state string
	denied          bool     // AssumeRoot: AccessDenied (root sessions disabled)
	password        bool     // a login profile
	keys            []string // "ID:Status"
	mfa             []string // serial numbers
}

var vfOrg = []vfAccount{
	{id: vfMgmt, name: "management", state: "ACTIVE"},
	{id: vfClean1, name: "clean-1", state: "ACTIVE"},
	{id: vfClean2, name: "clean-2", state: "ACTIVE"},
	{id: vfPassword, name: "has-password", state: "ACTIVE", password: true},
	{id: vfKey, name: "has-key", state: "ACTIVE", keys: []string{"AKIAROOTKEY1:Active"}},
	{id: vfMFA, name: "has-mfa", state: "ACTIVE", mfa: []string{"arn:aws:iam::444444444444:mfa/root-account-mfa-device"}},
	{id: vfDenied, name: "denied", state: "ACTIVE", denied: true},
	{id: vfSuspended, name: "suspended", state: "SUSPENDED"},
}

// verifyFakes are loopback fakes of STS, IAM and Organizations speaking
// their real wire protocols, each on its own httptest server, reached
// through AWS_ENDPOINT_URL_<SERVICE>.
type verifyFakes struct {
	t     *testing.T
	delay time.Duration // each AssumeRoot takes this long
	// onAssume, when set, is called with the number of the AssumeRoot call
	// (1-based) before it is answered.
	onAssume func(n int, r *http.Request)

	mu           sync.Mutex
	inflight     int
	maxInflight  int
	assumeCalls  int
	assumed      map[string]int    // target → calls
	sessions     map[string]string // issued key ID → account
	listPages    int
	describeOrgs int
	iamCalls     map[string]int
	problems     []string
}

var vfCredRE = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([A-Z0-9]+)/\d{8}/([a-z0-9-]+)/([a-z]+)/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$`)

func (f *verifyFakes) problem(format string, args ...any) {
	f.mu.Lock()
	f.problems = append(f.problems, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

func vfAcct(id string) *vfAccount {
	for i := range vfOrg {
		if vfOrg[i].id == id {
			return &vfOrg[i]
		}
	}
	return nil
}

func vfQueryError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>8f7e2b1c</RequestId></ErrorResponse>`, code, msg)
}

func vfQueryResult(w http.ResponseWriter, action, ns, body string) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%[1]sResponse xmlns="%[2]s"><%[1]sResult>%[3]s</%[1]sResult><ResponseMetadata><RequestId>8f7e2b1c</RequestId></ResponseMetadata></%[1]sResponse>`, action, ns, body)
}

// sts serves AssumeRoot (Query protocol: form POST, XML answer).
func (f *verifyFakes) sts(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost || r.Form.Get("Action") != "AssumeRoot" || r.Form.Get("Version") != "2011-06-15" {
		f.problem("STS: unexpected request %s %v", r.Method, r.Form)
		vfQueryError(w, 400, "InvalidAction", "unexpected")
		return
	}
	m := vfCredRE.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil || m[1] != vfMgmtKey || m[2] != "eu-west-1" || m[3] != "sts" {
		f.problem("AssumeRoot not signed by the management credentials for eu-west-1/sts: %q", r.Header.Get("Authorization"))
	}
	if r.Form.Get("TaskPolicyArn.arn") != ingest.AuditTaskPolicyARN || r.Form.Get("DurationSeconds") != "300" {
		f.problem("AssumeRoot parameters %v", r.Form)
	}
	f.mu.Lock()
	f.assumeCalls++
	n := f.assumeCalls
	f.inflight++
	f.maxInflight = max(f.maxInflight, f.inflight)
	target := r.Form.Get("TargetPrincipal")
	f.assumed[target]++
	f.mu.Unlock()
	defer func() { f.mu.Lock(); f.inflight--; f.mu.Unlock() }()
	if f.onAssume != nil {
		f.onAssume(n, r)
	}
	time.Sleep(f.delay)
	a := vfAcct(target)
	switch {
	case a == nil || target == vfMgmt:
		vfQueryError(w, 400, "ValidationError", "The target principal is not a member account.")
		return
	case a.denied:
		vfQueryError(w, 403, "AccessDenied", "User: arn:aws:sts::999999999999:assumed-role/Auditor/rootaudit is not authorized to perform: sts:AssumeRoot on resource: arn:aws:iam::"+target+":root because root sessions are not enabled for organization o-abc123def4")
		return
	}
	key := fmt.Sprintf("ASIAVF%s%02d", target, n)
	f.mu.Lock()
	f.sessions[key] = target
	f.mu.Unlock()
	vfQueryResult(w, "AssumeRoot", "https://sts.amazonaws.com/doc/2011-06-15/",
		`<Credentials><AccessKeyId>`+key+`</AccessKeyId><SecretAccessKey>secret-`+key+`</SecretAccessKey><SessionToken>token-`+key+
			`</SessionToken><Expiration>`+time.Now().UTC().Add(5*time.Minute).Format(time.RFC3339)+`</Expiration></Credentials>`)
}

// iam serves the four credential reads (Query protocol) and insists they
// are signed with an AssumeRoot session's key and token.
func (f *verifyFakes) iam(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Form.Get("Version") != "2010-05-08" {
		f.problem("IAM: unexpected request %v", r.Form)
		vfQueryError(w, 400, "InvalidAction", "unexpected")
		return
	}
	action := r.Form.Get("Action")
	f.mu.Lock()
	f.iamCalls[action]++
	f.mu.Unlock()
	m := vfCredRE.FindStringSubmatch(r.Header.Get("Authorization"))
	var key string
	if m != nil {
		key = m[1]
	}
	f.mu.Lock()
	id, ok := f.sessions[key]
	f.mu.Unlock()
	if !ok || m[3] != "iam" || r.Header.Get("X-Amz-Security-Token") != "token-"+key {
		f.problem("IAM %s not signed with an AssumeRoot session: key %q token %q", action, key, r.Header.Get("X-Amz-Security-Token"))
		vfQueryError(w, 403, "InvalidClientTokenId", "The security token included in the request is invalid.")
		return
	}
	if r.Form.Has("UserName") {
		f.problem("IAM %s with a UserName", action)
	}
	a := vfAcct(id)
	const ns = "https://iam.amazonaws.com/doc/2010-05-08/"
	switch action {
	case "GetLoginProfile":
		if !a.password {
			vfQueryError(w, 404, "NoSuchEntity", "Login Profile for User "+id+" cannot be found.")
			return
		}
		vfQueryResult(w, action, ns, `<LoginProfile><CreateDate>2021-03-04T05:06:07Z</CreateDate><PasswordResetRequired>false</PasswordResetRequired></LoginProfile>`)
	case "ListAccessKeys":
		var b strings.Builder
		for _, k := range a.keys {
			kid, st, _ := strings.Cut(k, ":")
			fmt.Fprintf(&b, `<member><AccessKeyId>%s</AccessKeyId><Status>%s</Status><CreateDate>2020-01-02T03:04:05Z</CreateDate></member>`, kid, st)
		}
		vfQueryResult(w, action, ns, `<AccessKeyMetadata>`+b.String()+`</AccessKeyMetadata><IsTruncated>false</IsTruncated>`)
	case "ListMFADevices":
		var b strings.Builder
		for _, s := range a.mfa {
			fmt.Fprintf(&b, `<member><SerialNumber>%s</SerialNumber><EnableDate>2022-02-03T04:05:06Z</EnableDate></member>`, s)
		}
		vfQueryResult(w, action, ns, `<MFADevices>`+b.String()+`</MFADevices><IsTruncated>false</IsTruncated>`)
	case "ListSigningCertificates":
		vfQueryResult(w, action, ns, `<Certificates></Certificates><IsTruncated>false</IsTruncated>`)
	default:
		f.problem("IAM %s: outside the audit task policy", action)
		vfQueryError(w, 403, "AccessDenied", "not allowed by the task policy")
	}
}

// organizations serves DescribeOrganization and ListAccounts (JSON 1.1),
// two accounts a page.
func (f *verifyFakes) organizations(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		f.problem("Organizations: content type %q", r.Header.Get("Content-Type"))
	}
	var in struct{ NextToken string }
	json.NewDecoder(r.Body).Decode(&in)
	switch r.Header.Get("X-Amz-Target") {
	case "AWSOrganizationsV20161128.DescribeOrganization":
		f.mu.Lock()
		f.describeOrgs++
		f.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"Organization": map[string]any{
			"Id": "o-abc123def4", "Arn": "arn:aws:organizations::999999999999:organization/o-abc123def4",
			"MasterAccountId": vfMgmt, "MasterAccountArn": "arn:aws:organizations::999999999999:account/o-abc123def4/999999999999"}})
	case "AWSOrganizationsV20161128.ListAccounts":
		f.mu.Lock()
		f.listPages++
		f.mu.Unlock()
		i := 0
		if in.NextToken != "" {
			fmt.Sscanf(in.NextToken, "page-%d", &i)
		}
		page := []map[string]any{}
		for ; i < len(vfOrg) && len(page) < 2; i++ {
			a := vfOrg[i]
			page = append(page, map[string]any{"Id": a.id, "Name": a.name, "Email": a.name + "@example.com", "Status": a.state,
				"State": a.state, "JoinedMethod": "CREATED", "JoinedTimestamp": 1.6e9 + float64(i)})
		}
		out := map[string]any{"Accounts": page}
		if i < len(vfOrg) {
			out["NextToken"] = fmt.Sprintf("page-%d", i)
		}
		json.NewEncoder(w).Encode(out)
	default:
		w.WriteHeader(400)
		fmt.Fprint(w, `{"__type":"UnknownOperationException","message":"unexpected"}`)
	}
}

// newVerifyFakes starts the three servers and points the AWS SDK at them
// with static management credentials.
func newVerifyFakes(t *testing.T) *verifyFakes {
	f := &verifyFakes{t: t, assumed: map[string]int{}, sessions: map[string]string{}, iamCalls: map[string]int{}}
	for env, h := range map[string]http.HandlerFunc{
		"AWS_ENDPOINT_URL_STS": f.sts, "AWS_ENDPOINT_URL_IAM": f.iam, "AWS_ENDPOINT_URL_ORGANIZATIONS": f.organizations,
	} {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		t.Setenv(env, srv.URL)
	}
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "no-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "no-credentials"))
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ACCESS_KEY_ID", vfMgmtKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "management-secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Cleanup(func() {
		for _, p := range f.problems {
			t.Error(p)
		}
	})
	return f
}

// verifyDoc runs verify with --format json and decodes its output.
func verifyDoc(t *testing.T, args ...string) (*query.AuditRun, string, int) {
	t.Helper()
	out, stderr, code := runCLI(t, append([]string{"verify", "--format", "json"}, args...)...)
	var run query.AuditRun
	if err := json.Unmarshal([]byte(out), &run); err != nil {
		t.Fatalf("verify %v: exit %d, output is not JSON (%v):\n%s\n%s", args, code, err, out, stderr)
	}
	return &run, stderr, code
}

func verifyByAccount(run *query.AuditRun) map[string]ingest.RootCredentialAudit {
	m := map[string]ingest.RootCredentialAudit{}
	for _, r := range run.Results {
		m[r.AccountID] = r
	}
	return m
}

// TestVerifyOrganization audits every member account listed by
// Organizations: findings exit 1, each state, the management and the
// suspended account skipped, the concurrency bound, the DuckDB rows.
func TestVerifyOrganization(t *testing.T) {
	f := newVerifyFakes(t)
	f.delay = 40 * time.Millisecond
	db := filepath.Join(t.TempDir(), "v.duckdb")
	run, stderr, code := verifyDoc(t, "--db", db, "--concurrency", "2")
	if code != exitFindings {
		t.Fatalf("exit %d, want %d (root credentials present): %s", code, exitFindings, stderr)
	}
	if !strings.Contains(stderr, "3 member account(s) have root credentials") {
		t.Errorf("stderr: %s", stderr)
	}
	if f.listPages != 4 {
		t.Errorf("ListAccounts pages %d, want 4 (8 accounts, 2 a page)", f.listPages)
	}
	if f.describeOrgs != 1 {
		t.Errorf("DescribeOrganization called %d times, want 1", f.describeOrgs)
	}
	if f.assumed[vfMgmt] != 0 || f.assumed[vfSuspended] != 0 {
		t.Errorf("AssumeRoot targeted the management (%d) or suspended (%d) account", f.assumed[vfMgmt], f.assumed[vfSuspended])
	}
	if f.maxInflight != 2 {
		t.Errorf("max AssumeRoot in flight %d, want exactly the --concurrency of 2", f.maxInflight)
	}
	if run.Accounts != 6 || run.Audited != 6 || run.Present != 3 || run.Unknown != 1 || run.ManagementAccount != vfMgmt ||
		run.Status != query.AuditRunOK || run.AccountSource != "organizations" || run.Region != "eu-west-1" {
		t.Errorf("run: %+v", run)
	}
	got := verifyByAccount(run)
	for id, want := range map[string]string{
		vfClean1: "no-root-credentials:", vfClean2: "no-root-credentials:",
		vfPassword: "root-credentials-present:password", vfKey: "root-credentials-present:access-key",
		vfMFA: "root-credentials-present:mfa-device", vfDenied: "unknown:",
	} {
		r := got[id]
		if s := r.State + ":" + strings.Join(r.Present, ","); s != want {
			t.Errorf("%s: %s, want %s (%+v)", id, s, want, r)
		}
	}
	if r := got[vfDenied]; r.AssumeStatus != "AccessDenied" || !strings.Contains(r.Error, "root sessions are not enabled") || r.SessionKeyID != "" {
		t.Errorf("denied account: %+v", r)
	}
	if r := got[vfKey]; len(r.AccessKeys) != 1 || r.AccessKeys[0].AccessKeyID != "AKIAROOTKEY1" || r.AccessKeys[0].Status != "Active" {
		t.Errorf("access keys: %+v", r.AccessKeys)
	}
	if r := got[vfPassword]; r.PasswordPresent == nil || !*r.PasswordPresent || r.PasswordCreatedAt == nil {
		t.Errorf("password: %+v", r)
	}
	if r := got[vfClean1]; !strings.HasPrefix(r.SessionKeyID, "ASIAVF"+vfClean1) || r.PasswordPresent == nil || *r.PasswordPresent || r.Error != "" {
		t.Errorf("clean account: %+v", r)
	}
	if f.iamCalls["GetLoginProfile"] != 5 || f.iamCalls["ListSigningCertificates"] != 5 {
		t.Errorf("IAM calls %v, want each read once per issued session (5)", f.iamCalls)
	}

	// The rows are in DuckDB.
	d, err := query.Open(context.Background(), db, true)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var runs, rows, present int
	var status string
	if err := d.QueryRow(`SELECT count(*), any_value(status) FROM audit_runs`).Scan(&runs, &status); err != nil {
		t.Fatal(err)
	}
	if err := d.QueryRow(`SELECT count(*), count(*) FILTER (state = 'root-credentials-present') FROM credential_audits`).Scan(&rows, &present); err != nil {
		t.Fatal(err)
	}
	var keyID string
	if err := d.QueryRow(`SELECT a.access_key_id FROM (SELECT unnest(access_keys) AS a FROM credential_audits WHERE account_id = ?)`, vfKey).Scan(&keyID); err != nil {
		t.Fatal(err)
	}
	if runs != 1 || status != "ok" || rows != 6 || present != 3 || keyID != "AKIAROOTKEY1" {
		t.Errorf("database: %d runs (%s), %d audits (%d present), key %q", runs, status, rows, present, keyID)
	}
}

// TestVerifyExitCodes: 3 when an account could not be checked, 0 when
// every member account was checked and has none, 2 on bad flags.
func TestVerifyExitCodes(t *testing.T) {
	f := newVerifyFakes(t)
	db := filepath.Join(t.TempDir(), "v.duckdb")
	accounts := filepath.Join(t.TempDir(), "accounts.json")
	doc := `{"Accounts":[
 {"Id":"` + vfMgmt + `","Name":"management","Status":"ACTIVE","JoinedTimestamp":"2020-01-01T00:00:00+00:00"},
 {"Id":"` + vfClean1 + `","Name":"clean-1","Status":"ACTIVE","JoinedTimestamp":"2020-02-01T00:00:00.000000+00:00"},
 {"Id":"` + vfDenied + `","Name":"denied","Status":"ACTIVE"},
 {"Id":"` + vfSuspended + `","Name":"suspended","Status":"SUSPENDED"}]}`
	if err := os.WriteFile(accounts, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	// --accounts and --management: no Organizations call at all.
	run, stderr, code := verifyDoc(t, "--db", db, "--accounts", accounts, "--management", vfMgmt)
	if code != exitPartial {
		t.Fatalf("exit %d, want %d (an account unknown): %s", code, exitPartial, stderr)
	}
	if !strings.Contains(stderr, "1 member account(s) could not be checked") {
		t.Errorf("stderr: %s", stderr)
	}
	if f.listPages != 0 || f.describeOrgs != 0 {
		t.Errorf("Organizations called (%d ListAccounts, %d DescribeOrganization) though --accounts and --management were given", f.listPages, f.describeOrgs)
	}
	if run.Accounts != 2 || run.Audited != 2 || run.Unknown != 1 || run.AccountSource != accounts || f.assumed[vfMgmt]+f.assumed[vfSuspended] != 0 {
		t.Errorf("run %+v; assumed %v", run, f.assumed)
	}

	// Only clean accounts: 0. The management account comes from
	// DescribeOrganization.
	out, stderr, code := runCLI(t, "verify", "--db", db, "--account", vfClean1+","+vfClean2, "--format", "markdown")
	if code != exitOK {
		t.Fatalf("clean accounts: exit %d: %s\n%s", code, stderr, out)
	}
	if f.describeOrgs != 1 || !strings.Contains(out, "| "+vfClean2+" | clean-2 | no-root-credentials |") || !strings.Contains(out, "audit 2 at") {
		t.Errorf("describe %d, markdown:\n%s", f.describeOrgs, out)
	}
	// The table form lists the same.
	out, _, code = runCLI(t, "verify", "--db", db, "--account", vfClean1, "--format", "table")
	if code != exitOK || !strings.Contains(out, "NO-ROOT-CREDENTIALS") || !strings.Contains(out, vfClean1) {
		t.Errorf("table: exit %d\n%s", code, out)
	}

	for _, args := range [][]string{
		{"--concurrency", "0"},
		{"--account", "12345"},
		{"--account", vfMgmt},
		{"--account", "123456789012"}, // not in the organization
		{"--management", "x"},
		{"--format", "yaml"},
		{"--accounts", filepath.Join(t.TempDir(), "missing.json")},
	} {
		if _, stderr, code := runCLI(t, append([]string{"verify", "--db", db}, args...)...); code != exitUsage {
			t.Errorf("verify %v: exit %d, want %d: %s", args, code, exitUsage, stderr)
		}
	}
}

// TestVerifyInterrupted: Ctrl-C during the third account keeps the two
// audited before it, marks the run interrupted and exits 130.
func TestVerifyInterrupted(t *testing.T) {
	f := newVerifyFakes(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.onAssume = func(n int, r *http.Request) {
		if n == 3 {
			cancel()
			<-r.Context().Done() // the client gives up
		}
	}
	db := filepath.Join(t.TempDir(), "v.duckdb")
	_, stderr, code := runCLIContext(t, ctx, "verify", "--db", db, "--concurrency", "1", "--format", "json")
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d: %s", code, exitInterrupted, stderr)
	}
	d, err := query.Open(context.Background(), db, true)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	run, err := d.AuditRun(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != query.AuditRunInterrupted || run.Audited != 2 || len(run.Results) != 2 {
		t.Errorf("interrupted run: status %s, %d audited: %+v", run.Status, run.Audited, run.Results)
	}
}

// TestVerifyLabelsSessions: once the trail holding the verify sessions'
// AssumeRoot events is ingested, `sessions` marks them audit sweeps (and
// not a session someone else opened).
func TestVerifyLabelsSessions(t *testing.T) {
	newVerifyFakes(t)
	db := filepath.Join(t.TempDir(), "v.duckdb")
	run, stderr, code := verifyDoc(t, "--db", db, "--account", vfClean1+","+vfDenied)
	if code != exitPartial {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	r := verifyByAccount(run)[vfClean1]
	if r.SessionKeyID == "" {
		t.Fatalf("no session key recorded: %+v", r)
	}
	at := r.CheckedAt.Add(time.Second)
	assume := func(id, target, key, errCode string) map[string]any {
		rec := map[string]any{
			"eventVersion": "1.08", "eventID": id, "eventTime": at.Format(time.RFC3339), "eventSource": "sts.amazonaws.com",
			"eventName": "AssumeRoot", "awsRegion": "eu-west-1", "recipientAccountId": vfMgmt, "eventType": "AwsApiCall",
			"sourceIPAddress": "192.0.2.1", "userAgent": "rootaudit",
			"userIdentity": map[string]any{"type": "AssumedRole", "accountId": vfMgmt, "accessKeyId": "ASIAISSUER",
				"arn":            "arn:aws:sts::999999999999:assumed-role/Auditor/rootaudit",
				"sessionContext": map[string]any{"sessionIssuer": map[string]any{"arn": "arn:aws:iam::999999999999:role/Auditor"}}},
			"requestParameters": map[string]any{"targetPrincipal": target, "durationSeconds": 300,
				"taskPolicyArn": map[string]any{"arn": ingest.AuditTaskPolicyARN}},
			"responseElements": nil,
		}
		if key != "" {
			rec["responseElements"] = map[string]any{"credentials": map[string]any{"accessKeyId": key, "sessionToken": "secret",
				"expiration": at.Add(5 * time.Minute).Format("Jan 2, 2006, 3:04:05 PM")}}
		}
		if errCode != "" {
			rec["errorCode"], rec["errorMessage"] = errCode, "root sessions are not enabled"
		}
		return rec
	}
	action := map[string]any{
		"eventVersion": "1.08", "eventID": "audit-read", "eventTime": at.Add(time.Second).Format(time.RFC3339),
		"eventSource": "iam.amazonaws.com", "eventName": "ListAccessKeys", "awsRegion": "us-east-1", "recipientAccountId": vfClean1,
		"eventType": "AwsApiCall", "sourceIPAddress": "192.0.2.1",
		"userIdentity": map[string]any{"type": "Root", "accountId": vfClean1, "principalId": vfClean1, "arn": "arn:aws:iam::" + vfClean1 + ":root",
			"accessKeyId": r.SessionKeyID, "sessionContext": map[string]any{"attributes": map[string]any{"creationDate": at.Format(time.RFC3339), "mfaAuthenticated": "false"}}},
	}
	trail, err := json.Marshal(map[string]any{"Records": []any{
		assume("audit-assume", "arn:aws:iam::"+vfClean1+":root", r.SessionKeyID, ""),
		assume("other-assume", vfClean1, "ASIASOMEONEELSE", ""),
		assume("audit-denied", vfDenied, "", "AccessDenied"),
		action,
	}})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "trail.json")
	if err := os.WriteFile(file, trail, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runCLI(t, "ingest", "--db", db, "--all", "-q", file); code != exitOK {
		t.Fatalf("ingest exit %d: %s", code, stderr)
	}
	out, stderr, code := runCLI(t, "sessions", "--db", db, "--format", "json",
		"--since", at.Add(-time.Hour).Format(time.RFC3339), "--until", at.Add(time.Hour).Format(time.RFC3339))
	if code != exitOK {
		t.Fatalf("sessions exit %d: %s", code, stderr)
	}
	var doc struct {
		Sessions []struct {
			AccessKeyID   *string  `json:"access_key_id"`
			TargetAccount string   `json:"target_account"`
			AuditSweep    bool     `json:"audit_sweep"`
			Actions       []any    `json:"actions"`
			Findings      []string `json:"findings"`
		} `json:"sessions"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(doc.Sessions) != 3 {
		t.Fatalf("%d sessions, want 3:\n%s", len(doc.Sessions), out)
	}
	for _, s := range doc.Sessions {
		key := ""
		if s.AccessKeyID != nil {
			key = *s.AccessKeyID
		}
		want := key == r.SessionKeyID || (key == "" && s.TargetAccount == vfDenied)
		if s.AuditSweep != want {
			t.Errorf("session %q → %s: audit_sweep %v, want %v", key, s.TargetAccount, s.AuditSweep, want)
		}
		if key == r.SessionKeyID && len(s.Actions) != 1 {
			t.Errorf("audit session actions: %+v", s.Actions)
		}
	}
	if !strings.Contains(out, `"audit_sweep": true`) {
		t.Errorf("no audit_sweep: true in\n%s", out)
	}
}
