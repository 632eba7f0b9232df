package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// auditFake is one loopback server speaking the wire protocols of STS and
// IAM (Query protocol, XML) and Organizations (JSON 1.1) for the
// AuditRootCredentials tests.
type auditFake struct {
	t        *testing.T
	mgmt     string
	accounts []fakeRoot
	delay    time.Duration // each AssumeRoot takes this long
	gate     chan struct{} // when not nil, AssumeRoot waits for it

	mu          sync.Mutex
	inflight    int
	maxInflight int
	sessions    map[string]string // issued key ID → account
	badSig      []string
	iamCalls    map[string]int // Action → calls
	assumed     []string
}

// fakeRoot is a member account's root user as the fake serves it.
type fakeRoot struct {
	id, name, state string
	denied          bool
	password        bool
	keys            []string // "ID:Status"
	mfa             []string
	certs           []string // "ID:Status"
	failMFA         bool     // ListMFADevices answers a 500 every time
}

var credentialRE = regexp.MustCompile(`Credential=([A-Z0-9]+)/\d{8}/([a-z0-9-]+)/([a-z]+)/aws4_request`)

func (f *auditFake) account(id string) *fakeRoot {
	for i := range f.accounts {
		if f.accounts[i].id == id {
			return &f.accounts[i]
		}
	}
	return nil
}

func xmlError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`, code, msg)
}

func xmlResult(w http.ResponseWriter, action, ns, body string) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%sResponse xmlns="%s"><%sResult>%s</%sResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></%sResponse>`,
		action, ns, action, body, action, action)
}

func (f *auditFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		f.serveOrganizations(w, r, target)
		return
	}
	if err := r.ParseForm(); err != nil {
		xmlError(w, 400, "MalformedInput", err.Error())
		return
	}
	m := credentialRE.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		xmlError(w, 403, "MissingAuthenticationToken", "no SigV4 credential")
		return
	}
	switch r.Form.Get("Action") {
	case "AssumeRoot":
		f.serveAssumeRoot(w, r, m[1], m[2], m[3])
	default:
		f.serveIAM(w, r, m[1], m[3])
	}
}

func (f *auditFake) serveAssumeRoot(w http.ResponseWriter, r *http.Request, key, region, service string) {
	f.mu.Lock()
	f.inflight++
	f.maxInflight = max(f.maxInflight, f.inflight)
	f.mu.Unlock()
	defer func() { f.mu.Lock(); f.inflight--; f.mu.Unlock() }()
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-r.Context().Done():
			return
		}
	}
	time.Sleep(f.delay)
	if key != "AKIDMGMT" || service != "sts" || region != "eu-west-1" {
		f.t.Errorf("AssumeRoot signed by %s for %s/%s, want the management credentials for eu-west-1/sts", key, region, service)
	}
	if got := r.Form.Get("TaskPolicyArn.arn"); got != AuditTaskPolicyARN || r.Form.Get("Version") != "2011-06-15" || r.Form.Get("DurationSeconds") != "300" {
		f.t.Errorf("AssumeRoot form %v", r.Form)
	}
	id := r.Form.Get("TargetPrincipal")
	f.mu.Lock()
	f.assumed = append(f.assumed, id)
	f.mu.Unlock()
	a := f.account(id)
	switch {
	case a == nil || id == f.mgmt:
		xmlError(w, 400, "ValidationError", "invalid target principal "+id)
		return
	case a.denied:
		xmlError(w, 403, "AccessDenied", "User: arn:aws:sts::"+f.mgmt+":assumed-role/Audit/x is not authorized to perform: sts:AssumeRoot because root sessions are not enabled for organization o-abc123def4")
		return
	}
	issued := "ASIA" + id
	f.mu.Lock()
	f.sessions[issued] = id
	f.mu.Unlock()
	xmlResult(w, "AssumeRoot", "https://sts.amazonaws.com/doc/2011-06-15/", `<Credentials><AccessKeyId>`+issued+`</AccessKeyId><SecretAccessKey>secret-`+id+
		`</SecretAccessKey><SessionToken>token-`+id+`</SessionToken><Expiration>2030-01-01T00:05:00Z</Expiration></Credentials>`)
}

func (f *auditFake) serveIAM(w http.ResponseWriter, r *http.Request, key, service string) {
	action := r.Form.Get("Action")
	f.mu.Lock()
	id, ok := f.sessions[key]
	f.iamCalls[action]++
	f.mu.Unlock()
	if !ok || service != "iam" || r.Header.Get("X-Amz-Security-Token") != "token-"+id {
		f.mu.Lock()
		f.badSig = append(f.badSig, action+" signed by "+key+" token "+r.Header.Get("X-Amz-Security-Token"))
		f.mu.Unlock()
		xmlError(w, 403, "InvalidClientTokenId", "The security token included in the request is invalid.")
		return
	}
	if r.Form.Has("UserName") {
		f.t.Errorf("%s with UserName %q: root calls carry none", action, r.Form.Get("UserName"))
	}
	a := f.account(id)
	const ns = "https://iam.amazonaws.com/doc/2010-05-08/"
	switch action {
	case "GetLoginProfile":
		if !a.password {
			xmlError(w, 404, "NoSuchEntity", "Login Profile for User "+id+" cannot be found.")
			return
		}
		xmlResult(w, action, ns, `<LoginProfile><CreateDate>2021-03-04T05:06:07Z</CreateDate><PasswordResetRequired>false</PasswordResetRequired></LoginProfile>`)
	case "ListAccessKeys":
		// One key a page, to exercise paging.
		i := 0
		if m := r.Form.Get("Marker"); m != "" {
			fmt.Sscan(m, &i)
		}
		var b strings.Builder
		b.WriteString("<AccessKeyMetadata>")
		if i < len(a.keys) {
			kid, st, _ := strings.Cut(a.keys[i], ":")
			fmt.Fprintf(&b, `<member><AccessKeyId>%s</AccessKeyId><Status>%s</Status><CreateDate>2020-01-02T03:04:05Z</CreateDate></member>`, kid, st)
		}
		b.WriteString("</AccessKeyMetadata>")
		if i+1 < len(a.keys) {
			fmt.Fprintf(&b, "<IsTruncated>true</IsTruncated><Marker>%d</Marker>", i+1)
		} else {
			b.WriteString("<IsTruncated>false</IsTruncated>")
		}
		xmlResult(w, action, ns, b.String())
	case "ListMFADevices":
		if a.failMFA {
			xmlError(w, 500, "ServiceFailure", "internal failure")
			return
		}
		var b strings.Builder
		b.WriteString("<MFADevices>")
		for _, s := range a.mfa {
			fmt.Fprintf(&b, `<member><SerialNumber>%s</SerialNumber><EnableDate>2022-02-03T04:05:06Z</EnableDate></member>`, s)
		}
		b.WriteString("</MFADevices><IsTruncated>false</IsTruncated>")
		xmlResult(w, action, ns, b.String())
	case "ListSigningCertificates":
		var b strings.Builder
		b.WriteString("<Certificates>")
		for _, c := range a.certs {
			cid, st, _ := strings.Cut(c, ":")
			fmt.Fprintf(&b, `<member><CertificateId>%s</CertificateId><CertificateBody>-----BEGIN CERTIFICATE-----</CertificateBody><Status>%s</Status><UploadDate>2019-01-01T00:00:00Z</UploadDate></member>`, cid, st)
		}
		b.WriteString("</Certificates><IsTruncated>false</IsTruncated>")
		xmlResult(w, action, ns, b.String())
	default:
		xmlError(w, 403, "AccessDenied", action+" is not allowed by the task policy")
	}
}

func (f *auditFake) serveOrganizations(w http.ResponseWriter, r *http.Request, target string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	var in struct{ NextToken string }
	json.NewDecoder(r.Body).Decode(&in)
	switch strings.TrimPrefix(target, "AWSOrganizationsV20161128.") {
	case "DescribeOrganization":
		json.NewEncoder(w).Encode(map[string]any{"Organization": map[string]any{"Id": "o-abc123def4", "MasterAccountId": f.mgmt}})
	case "ListAccounts":
		i := 0
		fmt.Sscan(in.NextToken, &i)
		all := append([]fakeRoot{{id: f.mgmt, name: "management", state: "ACTIVE"}}, f.accounts...)
		var page []map[string]any
		for ; i < len(all) && len(page) < 2; i++ {
			page = append(page, map[string]any{"Id": all[i].id, "Name": all[i].name, "State": all[i].state, "JoinedTimestamp": 1.6e9})
		}
		out := map[string]any{"Accounts": page}
		if i < len(all) {
			out["NextToken"] = fmt.Sprint(i)
		}
		json.NewEncoder(w).Encode(out)
	default:
		w.WriteHeader(400)
		fmt.Fprint(w, `{"__type":"UnknownOperationException"}`)
	}
}

func newAuditFake(t *testing.T, accounts ...fakeRoot) (*auditFake, aws.Config) {
	f := &auditFake{t: t, mgmt: "999999999999", accounts: accounts, sessions: map[string]string{}, iamCalls: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDMGMT", "mgmt-secret", ""),
		BaseEndpoint: aws.String(srv.URL),
		HTTPClient:   srv.Client(),
	}
	return f, cfg
}

func TestAuditRootCredentials(t *testing.T) {
	f, cfg := newAuditFake(t,
		fakeRoot{id: "111111111111", name: "clean"},
		fakeRoot{id: "222222222222", name: "password", password: true},
		fakeRoot{id: "333333333333", name: "keys", keys: []string{"AKIAOLD:Inactive", "AKIAUSED:Active", "AKIATHIRD:Inactive"}},
		fakeRoot{id: "444444444444", name: "mfa", mfa: []string{"arn:aws:iam::444444444444:mfa/root-account-mfa-device"}},
		fakeRoot{id: "555555555555", name: "denied", denied: true},
		fakeRoot{id: "666666666666", name: "cert", certs: []string{"CERTID:Active"}},
		fakeRoot{id: "777777777777", name: "mfa-fails", failMFA: true},
	)
	cfg.RetryMaxAttempts = 1
	orgs, err := ListActiveOrgAccounts(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(orgs) != 8 {
		t.Fatalf("ListActiveOrgAccounts: %d accounts, want 8 over 4 pages: %+v", len(orgs), orgs)
	}
	mgmt, err := ManagementAccountID(context.Background(), cfg)
	if err != nil || mgmt != f.mgmt {
		t.Fatalf("ManagementAccountID = %q, %v", mgmt, err)
	}
	members := orgs[:0:0]
	for _, a := range orgs {
		if a.ID != mgmt {
			members = append(members, a)
		}
	}
	got := map[string]RootCredentialAudit{}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	err = AuditRootCredentials(context.Background(), cfg, members, AuditOptions{Concurrency: 3, Now: func() time.Time { return now }},
		func(r RootCredentialAudit) error {
			if _, dup := got[r.AccountID]; dup {
				t.Errorf("%s recorded twice", r.AccountID)
			}
			got[r.AccountID] = r
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 7 {
		t.Fatalf("%d results, want 7", len(got))
	}
	if len(f.badSig) > 0 {
		t.Errorf("IAM calls not signed with the AssumeRoot session: %v", f.badSig)
	}
	for _, id := range f.assumed {
		if id == f.mgmt {
			t.Error("AssumeRoot targeted the management account")
		}
	}
	want := map[string]struct {
		state, present, assume string
	}{
		"111111111111": {AuditNoRootCredentials, "", "ok"},
		"222222222222": {AuditRootCredentialsPresent, "password", "ok"},
		"333333333333": {AuditRootCredentialsPresent, "access-key", "ok"},
		"444444444444": {AuditRootCredentialsPresent, "mfa-device", "ok"},
		"555555555555": {AuditUnknown, "", "AccessDenied"},
		"666666666666": {AuditRootCredentialsPresent, "signing-certificate", "ok"},
		"777777777777": {AuditUnknown, "", "ok"},
	}
	for id, w := range want {
		r := got[id]
		if r.State != w.state || strings.Join(r.Present, ",") != w.present || r.AssumeStatus != w.assume {
			t.Errorf("%s: state %s present %v assume %s, want %+v (error %q)", id, r.State, r.Present, r.AssumeStatus, w, r.Error)
		}
		if !r.CheckedAt.Equal(now) || r.CheckedAt.Location() != time.UTC {
			t.Errorf("%s: checked_at %v, want %v in UTC", id, r.CheckedAt, now)
		}
		if w.assume == "ok" && r.SessionKeyID != "ASIA"+id {
			t.Errorf("%s: session key %q", id, r.SessionKeyID)
		}
	}
	if r := got["111111111111"]; r.PasswordPresent == nil || *r.PasswordPresent || r.AccessKeys == nil || len(r.AccessKeys) != 0 || r.Error != "" {
		t.Errorf("clean account: %+v", r)
	}
	if r := got["222222222222"]; r.PasswordCreatedAt == nil || !r.PasswordCreatedAt.Equal(time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)) {
		t.Errorf("password create date: %+v", r.PasswordCreatedAt)
	}
	if r := got["333333333333"]; len(r.AccessKeys) != 3 || r.AccessKeys[1] != (RootAccessKey{"AKIAUSED", "Active", r.AccessKeys[1].CreatedAt}) || r.AccessKeys[1].CreatedAt == nil {
		t.Errorf("access keys over three pages: %+v", r.AccessKeys)
	}
	if r := got["555555555555"]; !strings.Contains(r.Error, "sts AssumeRoot: AccessDenied: ") || !strings.Contains(r.Error, "root sessions are not enabled") || r.SessionKeyID != "" || r.PasswordPresent != nil {
		t.Errorf("denied account: %+v", r)
	}
	if r := got["777777777777"]; r.MFADevices != nil || !strings.Contains(r.Error, "iam ListMFADevices: ServiceFailure") || r.PasswordPresent == nil {
		t.Errorf("account whose ListMFADevices fails: %+v", r)
	}
	if f.maxInflight > 3 {
		t.Errorf("%d AssumeRoot calls in flight, limit 3", f.maxInflight)
	}
	if f.iamCalls["GetLoginProfile"] != 6 {
		t.Errorf("GetLoginProfile called %d times, want once per issued session (6)", f.iamCalls["GetLoginProfile"])
	}
}

// TestAuditConcurrencyBound: with many slow AssumeRoot calls, exactly the
// limit is in flight at the peak.
func TestAuditConcurrencyBound(t *testing.T) {
	var accts []fakeRoot
	for i := range 12 {
		accts = append(accts, fakeRoot{id: fmt.Sprintf("1000000000%02d", i)})
	}
	f, cfg := newAuditFake(t, accts...)
	f.delay = 30 * time.Millisecond
	var members []OrgAccount
	for _, a := range accts {
		members = append(members, OrgAccount{ID: a.id})
	}
	var n atomic.Int32
	if err := AuditRootCredentials(context.Background(), cfg, members, AuditOptions{Concurrency: 4}, func(RootCredentialAudit) error { n.Add(1); return nil }); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 12 || f.maxInflight != 4 {
		t.Errorf("%d recorded, max %d in flight; want 12 and 4", n.Load(), f.maxInflight)
	}
}

// TestAuditCancel: accounts whose audit had not finished when the context
// was cancelled are not recorded; those that finished are.
func TestAuditCancel(t *testing.T) {
	var accts []fakeRoot
	var members []OrgAccount
	for i := range 6 {
		accts = append(accts, fakeRoot{id: fmt.Sprintf("2000000000%02d", i)})
		members = append(members, OrgAccount{ID: accts[i].id})
	}
	f, cfg := newAuditFake(t, accts...)
	f.gate = make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var recorded []string
	f.gate <- struct{}{} // releases exactly one AssumeRoot
	done := make(chan error)
	go func() {
		done <- AuditRootCredentials(ctx, cfg, members, AuditOptions{Concurrency: 2}, func(r RootCredentialAudit) error {
			recorded = append(recorded, r.AccountID)
			cancel() // Ctrl-C after the first account finished
			return nil
		})
	}()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(recorded) != 1 {
		t.Fatalf("recorded %v, want only the finished account", recorded)
	}
}

// TestAuditRecordError: a failing record stops the run with its error.
func TestAuditRecordError(t *testing.T) {
	f, cfg := newAuditFake(t, fakeRoot{id: "300000000001"}, fakeRoot{id: "300000000002"}, fakeRoot{id: "300000000003"})
	_ = f
	boom := errors.New("disk full")
	calls := 0
	err := AuditRootCredentials(context.Background(), cfg, []OrgAccount{{ID: "300000000001"}, {ID: "300000000002"}, {ID: "300000000003"}},
		AuditOptions{Concurrency: 1}, func(RootCredentialAudit) error { calls++; return boom })
	if !errors.Is(err, boom) || calls != 1 {
		t.Fatalf("err %v after %d calls, want %v after 1", err, calls, boom)
	}
}

func TestAuditNeedsRegion(t *testing.T) {
	_, cfg := newAuditFake(t)
	for _, r := range []string{"", "aws-global"} {
		cfg.Region = r
		if err := AuditRootCredentials(context.Background(), cfg, nil, AuditOptions{}, nil); err == nil || !strings.Contains(err.Error(), "regional endpoint") {
			t.Errorf("region %q: %v", r, err)
		}
	}
}

func TestClassifyAudit(t *testing.T) {
	yes, no := true, false
	for _, c := range []struct {
		name    string
		r       RootCredentialAudit
		state   string
		present string
	}{
		{"all none", RootCredentialAudit{AssumeStatus: "ok", PasswordPresent: &no, AccessKeys: []RootAccessKey{}, MFADevices: []RootMFADevice{}, SigningCertificates: []RootSigningCertificate{}}, AuditNoRootCredentials, ""},
		{"assume failed", RootCredentialAudit{AssumeStatus: "AccessDenied"}, AuditUnknown, ""},
		{"one read failed", RootCredentialAudit{AssumeStatus: "ok", PasswordPresent: &no, MFADevices: []RootMFADevice{}, SigningCertificates: []RootSigningCertificate{}}, AuditUnknown, ""},
		{"found despite a failed read", RootCredentialAudit{AssumeStatus: "ok", PasswordPresent: &yes}, AuditRootCredentialsPresent, "password"},
		{"inactive key counts", RootCredentialAudit{AssumeStatus: "ok", PasswordPresent: &no, AccessKeys: []RootAccessKey{{AccessKeyID: "AKIA1", Status: "Inactive"}}, MFADevices: []RootMFADevice{{SerialNumber: "s"}}, SigningCertificates: []RootSigningCertificate{}}, AuditRootCredentialsPresent, "access-key,mfa-device"},
	} {
		p, s := ClassifyAudit(&c.r)
		if s != c.state || strings.Join(p, ",") != c.present {
			t.Errorf("%s: %s %v, want %s %s", c.name, s, p, c.state, c.present)
		}
	}
}
