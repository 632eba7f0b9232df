package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
)

const (
	lkCaller  = "111111111111"
	lkMember  = "222222222222"
	lkDenied  = "333333333333"
	lkCallKey = "AKIDCALLER"
)

// lkRootRecord is a root API call as CloudTrail records it.
func lkRootRecord(id, acct, region string, t time.Time) string {
	return fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"%[2]s","arn":"arn:aws:iam::%[2]s:root","accountId":"%[2]s","accessKeyId":"ASIAEXAMPLEROOT"},"eventTime":"%[4]s","eventSource":"iam.amazonaws.com","eventName":"ListAccessKeys","awsRegion":"%[3]s","sourceIPAddress":"192.0.2.1","userAgent":"console","requestParameters":null,"responseElements":null,"requestID":"req-%[1]s","eventID":"%[1]s","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"%[2]s"}`,
		id, acct, region, t.UTC().Format(time.RFC3339))
}

// lkAssumeRootRecord is an AssumeRoot call whose response holds a session
// token (which must be redacted).
func lkAssumeRootRecord(id, acct, region string, t time.Time) string {
	return fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:alice","arn":"arn:aws:sts::%[2]s:assumed-role/Admin/alice","accountId":"%[2]s","accessKeyId":"ASIACALLER"},"eventTime":"%[4]s","eventSource":"sts.amazonaws.com","eventName":"AssumeRoot","awsRegion":"%[3]s","sourceIPAddress":"192.0.2.9","userAgent":"aws-cli","requestParameters":{"targetPrincipal":"444444444444","taskPolicyArn":{"arn":"arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"}},"responseElements":{"credentials":{"accessKeyId":"ASIAISSUED","sessionToken":"SECRET-TOKEN","expiration":"May 19, 2026, 10:15:00 AM"}},"requestID":"req-%[1]s","eventID":"%[1]s","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"%[2]s"}`,
		id, acct, region, t.UTC().Format(time.RFC3339))
}

func lkSwitchRecord(id, acct string, t time.Time) string {
	return fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::%[2]s:assumed-role/Admin/bob","accountId":"%[2]s"},"eventTime":"%[3]s","eventSource":"iam.amazonaws.com","eventName":"EnableOrganizationsRootSessions","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.7","userAgent":"console","requestParameters":null,"responseElements":{"organizationId":"o-exampleorg1","enabledFeatures":["RootSessions"]},"requestID":"req-%[1]s","eventID":"%[1]s","readOnly":false,"eventType":"AwsApiCall","recipientAccountId":"%[2]s"}`,
		id, acct, t.UTC().Format(time.RFC3339))
}

// ctFake is a loopback CloudTrail (JSON 1.1: LookupEvents) and STS (query
// protocol: GetCallerIdentity, AssumeRole) server. Accounts are told apart
// by access key: the caller's, or "ASIA"+ACCOUNT from AssumeRole.
type ctFake struct {
	mu          sync.Mutex
	events      map[string][]string    // ACCOUNT/REGION/Key=Value → CloudTrailEvent strings
	throttle    map[string]int         // ACCOUNT/REGION → ThrottlingException answers left
	disabled    map[string]bool        // ACCOUNT/REGION → answers as a region not enabled
	denied      map[string]bool        // accounts whose role cannot be assumed
	calls       map[string][]time.Time // ACCOUNT/REGION → LookupEvents arrival times
	lookups     []string               // ACCOUNT/REGION/Key=Value/token of every answered call
	invocations map[string]bool        // SDK invocation ids answered
	assumed     []string               // role ARNs assumed
}

func newCTFake() *ctFake {
	return &ctFake{events: map[string][]string{}, throttle: map[string]int{}, disabled: map[string]bool{},
		denied: map[string]bool{}, calls: map[string][]time.Time{}, invocations: map[string]bool{}}
}

var reCredential = regexp.MustCompile(`Credential=([^/]+)/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/`)

func (f *ctFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	m := reCredential.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		http.Error(w, "unsigned request", http.StatusForbidden)
		return
	}
	key, region := m[1], m[2]
	acct := lkCaller
	if strings.HasPrefix(key, "ASIA") {
		acct = strings.TrimPrefix(key, "ASIA")
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		f.sts(w, body, acct)
		return
	}
	if !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".LookupEvents") {
		lkJSONError(w, 400, "UnknownOperationException", r.Header.Get("X-Amz-Target"))
		return
	}
	ar := acct + "/" + region
	f.mu.Lock()
	f.calls[ar] = append(f.calls[ar], time.Now())
	if f.disabled[ar] {
		f.mu.Unlock()
		lkJSONError(w, 400, "UnrecognizedClientException", "The security token included in the request is invalid.")
		return
	}
	if f.throttle[ar] > 0 {
		f.throttle[ar]--
		f.mu.Unlock()
		lkJSONError(w, 400, "ThrottlingException", "Rate exceeded")
		return
	}
	f.mu.Unlock()
	var in struct {
		LookupAttributes []struct{ AttributeKey, AttributeValue string }
		MaxResults       int
		NextToken        string
		StartTime        float64
		EndTime          float64
	}
	if err := json.Unmarshal(body, &in); err != nil || len(in.LookupAttributes) != 1 || in.MaxResults != lookupPageSize || in.StartTime >= in.EndTime {
		lkJSONError(w, 400, "InvalidLookupAttributesException", fmt.Sprintf("bad request %s", body))
		return
	}
	attr := in.LookupAttributes[0].AttributeKey + "=" + in.LookupAttributes[0].AttributeValue
	f.mu.Lock()
	all := f.events[ar+"/"+attr]
	// One logical call per SDK invocation: an attempt the SDK retried
	// after a network failure may have been answered here already.
	if inv := r.Header.Get("Amz-Sdk-Invocation-Id"); inv == "" || !f.invocations[inv] {
		f.invocations[inv] = true
		f.lookups = append(f.lookups, ar+"/"+attr+"/"+in.NextToken)
	}
	f.mu.Unlock()
	off, _ := strconv.Atoi(in.NextToken)
	end := min(off+in.MaxResults, len(all))
	var evs []map[string]any
	for i, e := range all[off:end] {
		evs = append(evs, map[string]any{"EventId": fmt.Sprintf("e%d", off+i), "CloudTrailEvent": e, "EventTime": 1779000000})
	}
	out := map[string]any{"Events": evs}
	if end < len(all) {
		out["NextToken"] = strconv.Itoa(end)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(out)
}

func (f *ctFake) sts(w http.ResponseWriter, body []byte, acct string) {
	form, _ := url.ParseQuery(string(body))
	w.Header().Set("Content-Type", "text/xml")
	switch form.Get("Action") {
	case "GetCallerIdentity":
		fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::%[1]s:user/auditor</Arn><UserId>AIDAEXAMPLE</UserId><Account>%[1]s</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`, acct)
	case "AssumeRole":
		arn := form.Get("RoleArn")
		target := AccountOf(arn)
		f.mu.Lock()
		f.assumed = append(f.assumed, arn)
		denied := f.denied[target]
		f.mu.Unlock()
		if denied || target == "" {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform: sts:AssumeRole on resource: %s</Message></Error><RequestId>r2</RequestId></ErrorResponse>`, arn)
			return
		}
		fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIA%s</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>token</SessionToken><Expiration>%s</Expiration></Credentials><AssumedRoleUser><Arn>%s/rootaudit</Arn><AssumedRoleId>AROAEXAMPLE:rootaudit</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>r3</RequestId></ResponseMetadata></AssumeRoleResponse>`,
			target, time.Now().Add(time.Hour).UTC().Format(time.RFC3339), arn)
	default:
		w.WriteHeader(400)
		fmt.Fprintf(w, `<ErrorResponse><Error><Code>InvalidAction</Code><Message>%s</Message></Error></ErrorResponse>`, form.Get("Action"))
	}
}

func lkJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

// lkConfig is the run's AWS configuration (the production retryer) pointed
// at the fake with the caller's static keys.
func lkConfig(t *testing.T, endpoint string) aws.Config {
	t.Helper()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_PROFILE", "")
	cfg, err := LoadAWSConfig(context.Background(), S3ClientConfig{Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(lkCallKey, "secret", "")})
	if err != nil {
		t.Fatal(err)
	}
	cfg.BaseEndpoint = aws.String(endpoint)
	return cfg
}

// lkRun runs sources through the pipeline (no database) and returns the
// results by source.
func lkRun(t *testing.T, ctx context.Context, src Source, f *Filter) map[string]FileResult {
	t.Helper()
	out := map[string]FileResult{}
	err := Run(ctx, []Source{src}, RunOptions{Filter: f, Workers: 16, Retries: 2, RetryBase: 10 * time.Millisecond},
		func(res FileResult) error {
			if _, dup := out[res.Ref.Source]; dup {
				t.Errorf("%s read twice", res.Ref.Source)
			}
			out[res.Ref.Source] = res
			return nil
		})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return out
}

func TestParseLookupURL(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
		err  bool
	}{
		{"lookup://", nil, false},
		{"lookup:///", nil, false},
		{"lookup://us-east-1", []string{"us-east-1"}, false},
		{"lookup://us-east-1,eu-west-1,us-east-1", []string{"us-east-1", "eu-west-1"}, false},
		{"lookup://us-east-1/eu-west-1", nil, true},
		{"lookup://US-EAST-1", nil, true},
		{"lookup://us-east-1,", nil, true},
		{"lookup://?x=1", nil, true},
		{"s3://bucket", nil, true},
	} {
		got, err := ParseLookupURL(c.in)
		if (err != nil) != c.err || strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("ParseLookupURL(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.err)
		}
	}
}

// TestLookupBlocks: months of event time, newest first, clipped to the
// 90-day horizon; a finished month keeps its checkpoint name while the
// horizon moves, the current month is read on every run.
func TestLookupBlocks(t *testing.T) {
	day1 := time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC)
	src := func(now time.Time) *LookupSource {
		return &LookupSource{opts: LookupOptions{Now: func() time.Time { return now }}}
	}
	f := &Filter{Since: day1.Add(-365 * 24 * time.Hour), Until: day1}
	bs := src(day1).blocks(f)
	var names []string
	for _, b := range bs {
		names = append(names, b.name)
	}
	if got := strings.Join(names, " "); got != "2026-05 2026-04 2026-03 2026-02" {
		t.Fatalf("blocks = %s", got)
	}
	if bs[0].final || !bs[1].final || !bs[3].final {
		t.Errorf("final flags: %+v", bs)
	}
	if want := day1.Add(-LookupRetention); !bs[3].from.Equal(want) || !bs[3].to.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("oldest block spans %s..%s, want from %s", bs[3].from, bs[3].to, want)
	}
	if !bs[0].to.Equal(day1) {
		t.Errorf("newest block ends %s, want now", bs[0].to)
	}
	// A day later: the finished months keep their window (and ETag), the
	// current month does not.
	day2 := day1.Add(24 * time.Hour)
	f2 := &Filter{Since: day2.Add(-365 * 24 * time.Hour), Until: day2}
	bs2 := src(day2).blocks(f2)
	for i := 1; i < 4; i++ {
		if bs2[i].window != bs[i].window {
			t.Errorf("block %s: window %q became %q", bs[i].name, bs[i].window, bs2[i].window)
		}
	}
	if bs2[0].window == bs[0].window {
		t.Errorf("open block %s kept its window %q across runs", bs[0].name, bs[0].window)
	}
	// Just after a month ends it stays open for a settling day.
	early := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
	bs3 := src(early).blocks(&Filter{Since: early.Add(-10 * 24 * time.Hour), Until: early})
	if len(bs3) != 2 || bs3[1].name != "2026-05" || bs3[1].final {
		t.Errorf("at %s: %+v", early, bs3)
	}
	// A window wholly before the horizon has no block.
	if bs := src(day1).blocks(&Filter{Since: day1.AddDate(-1, 0, 0), Until: day1.AddDate(0, -6, 0)}); len(bs) != 0 {
		t.Errorf("window before the horizon: %+v", bs)
	}
	// --since inside a month narrows that month's checkpoint.
	bs4 := src(day1).blocks(&Filter{Since: time.Date(2026, 4, 10, 8, 0, 0, 0, time.UTC), Until: day1})
	if len(bs4) != 2 || !strings.HasPrefix(bs4[1].window, "2026-04-10T00:00:00Z/") || !bs4[1].from.Equal(time.Date(2026, 4, 10, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("--since inside April: %+v", bs4)
	}
}

func TestPacer(t *testing.T) {
	p := &pacer{interval: 40 * time.Millisecond}
	start := time.Now()
	for i := 0; i < 6; i++ {
		if err := p.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 195*time.Millisecond {
		t.Errorf("6 waits at 40 ms took %s", el)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p.next = time.Now().Add(time.Hour)
	if err := p.wait(ctx); err == nil {
		t.Error("wait on a cancelled context returned nil")
	}
}

// TestLookupSource: paging, the 2 requests/s limit per account-region,
// throttling retried, the organization switches looked up in us-east-1
// only, another account through its role, and an account whose role cannot
// be assumed reported once.
func TestLookupSource(t *testing.T) {
	fake := newCTFake()
	now := time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC)
	var rootEU []string
	for i := 0; i < 120; i++ {
		rootEU = append(rootEU, lkRootRecord(fmt.Sprintf("eu-%03d", i), lkCaller, "eu-west-1", now.Add(-time.Duration(i)*time.Minute)))
	}
	fake.events[lkCaller+"/eu-west-1/Username=root"] = rootEU
	fake.events[lkCaller+"/us-east-1/EventName=AssumeRoot"] = []string{lkAssumeRootRecord("ar-1", lkCaller, "us-east-1", now.Add(-time.Hour))}
	fake.events[lkCaller+"/us-east-1/EventName=EnableOrganizationsRootSessions"] = []string{lkSwitchRecord("sw-1", lkCaller, now.Add(-2*time.Hour))}
	fake.events[lkMember+"/us-east-1/Username=root"] = []string{lkRootRecord("m-1", lkMember, "us-east-1", now.Add(-3*time.Hour))}
	fake.throttle[lkCaller+"/us-east-1"] = 2
	fake.denied[lkDenied] = true
	srv := httptest.NewServer(fake)
	defer srv.Close()

	ctx := context.Background()
	// An account and a region named twice are read once (lkRun fails on a
	// file read twice).
	src, err := NewLookupSource(ctx, lkConfig(t, srv.URL), LookupOptions{
		Regions: []string{"us-east-1", "eu-west-1", "us-east-1"}, Accounts: []string{lkCaller, lkMember, lkDenied, lkMember}, RoleName: "RootAudit",
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	if src.Caller() != lkCaller {
		t.Fatalf("caller %s", src.Caller())
	}
	res := lkRun(t, ctx, src, &Filter{Since: now.Add(-48 * time.Hour), Until: now})

	want := map[string]int{ // kept events per virtual file
		"lookup://111111111111/eu-west-1/2026-05": 120,
		"lookup://111111111111/us-east-1/2026-05": 2,
		"lookup://222222222222/eu-west-1/2026-05": 0,
		"lookup://222222222222/us-east-1/2026-05": 1,
	}
	for s, n := range want {
		r, ok := res[s]
		if !ok || r.Status != StatusOK || len(r.Events) != n {
			t.Errorf("%s: %+v (want ok with %d events)", s, r, n)
		}
	}
	failed := 0
	for s, r := range res {
		if strings.Contains(s, lkDenied) {
			failed++
			if r.Status != StatusFailed || !strings.Contains(r.Reason, "assume role arn:aws:iam::"+lkDenied+":role/RootAudit") {
				t.Errorf("denied account: %s %s %q", s, r.Status, r.Reason)
			}
		}
	}
	if failed != 1 || len(res) != len(want)+1 {
		t.Errorf("%d results, %d for the denied account: %v", len(res), failed, res)
	}
	for _, e := range res["lookup://111111111111/us-east-1/2026-05"].Events {
		if strings.Contains(string(e.Raw), "SECRET-TOKEN") {
			t.Errorf("session token stored: %s", e.Raw)
		}
	}

	// Paging: three pages of Username=root in eu-west-1.
	var euRoot []string
	for _, l := range fake.lookups {
		if strings.HasPrefix(l, lkCaller+"/eu-west-1/Username=root/") {
			euRoot = append(euRoot, strings.TrimPrefix(l, lkCaller+"/eu-west-1/Username=root/"))
		}
	}
	if strings.Join(euRoot, ",") != ",50,100" {
		t.Errorf("eu-west-1 root pages with tokens %q", euRoot)
	}
	// The switches only in us-east-1: 8 lookups there, 2 elsewhere.
	per := map[string]int{}
	for _, l := range fake.lookups {
		p := strings.SplitN(l, "/", 4)
		if p[3] == "" {
			per[p[0]+"/"+p[1]]++
		}
	}
	if per[lkCaller+"/us-east-1"] != 8 || per[lkMember+"/us-east-1"] != 8 || per[lkMember+"/eu-west-1"] != 2 {
		t.Errorf("first pages per account-region: %v", per)
	}
	// Rate: requests of one account-region at least 500 ms apart, so no
	// second holds more than two.
	const slack = 40 * time.Millisecond
	for ar, ts := range fake.calls {
		sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
		for i := 1; i < len(ts); i++ {
			if gap := ts[i].Sub(ts[i-1]); gap < 500*time.Millisecond-slack {
				t.Errorf("%s: requests %d and %d %s apart", ar, i-1, i, gap)
			}
			if i >= 2 && ts[i].Sub(ts[i-2]) < time.Second-slack {
				t.Errorf("%s: three requests within %s", ar, ts[i].Sub(ts[i-2]))
			}
		}
	}
	if got := len(fake.calls[lkCaller+"/us-east-1"]); got < 10 {
		t.Errorf("us-east-1 of the caller: %d requests, want 8 lookups + 2 throttled", got)
	}
	arrived := 0
	for _, ts := range fake.calls {
		arrived += len(ts)
	}
	if src.Stats.Throttled.Load() != 2 || src.Stats.Requests.Load() < int64(arrived) {
		t.Errorf("stats: %d requests, %d throttled; %d arrived", src.Stats.Requests.Load(), src.Stats.Throttled.Load(), arrived)
	}
	if len(fake.assumed) != 2 {
		t.Errorf("AssumeRole calls: %v (one per other account)", fake.assumed)
	}
}

// TestLookupRegionNotEnabled: by default an opt-in region the account has
// not enabled is read as empty (and counted); named explicitly it fails.
func TestLookupRegionNotEnabled(t *testing.T) {
	fake := newCTFake()
	fake.disabled[lkCaller+"/af-south-1"] = true
	srv := httptest.NewServer(fake)
	defer srv.Close()
	now := time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()
	cfg := lkConfig(t, srv.URL)
	f := &Filter{Since: now.Add(-24 * time.Hour), Until: now, Regions: map[string]bool{"af-south-1": true, "eu-west-1": true}}

	src, err := NewLookupSource(ctx, cfg, LookupOptions{Rate: 50, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	res := lkRun(t, ctx, src, f)
	r := res["lookup://111111111111/af-south-1/2026-05"]
	if len(res) != 2 || r.Status != StatusOK || r.Records != 0 || src.Stats.NotEnabled.Load() != 1 {
		t.Errorf("default regions: %v; not enabled %d", res, src.Stats.NotEnabled.Load())
	}
	if n := len(fake.calls[lkCaller+"/af-south-1"]); n != 1 {
		t.Errorf("af-south-1 asked %d times, want once", n)
	}

	src, err = NewLookupSource(ctx, cfg, LookupOptions{Regions: []string{"af-south-1"}, Rate: 50, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	res = lkRun(t, ctx, src, f)
	r = res["lookup://111111111111/af-south-1/2026-05"]
	if r.Status != StatusFailed || !strings.Contains(r.Reason, "is the region enabled") {
		t.Errorf("explicit region: %s %q", r.Status, r.Reason)
	}
}

// TestLookupSourceNeedsRole: another account without a role is refused.
func TestLookupSourceNeedsRole(t *testing.T) {
	srv := httptest.NewServer(newCTFake())
	defer srv.Close()
	_, err := NewLookupSource(context.Background(), lkConfig(t, srv.URL), LookupOptions{Accounts: []string{lkMember}})
	if err == nil || !strings.Contains(err.Error(), "--role-name") {
		t.Errorf("err = %v", err)
	}
	_, err = NewLookupSource(context.Background(), lkConfig(t, srv.URL), LookupOptions{RoleName: "bad role"})
	if err == nil {
		t.Error("a role name with a space was accepted")
	}
}

// TestLookupDocument: the virtual file is valid JSON whatever the events,
// and a CloudTrailEvent that is not one JSON object is refused.
func TestLookupDocument(t *testing.T) {
	for _, bad := range []string{``, `[1]`, `{"a":1}],"x":[{`, `{"a":`, `"str"`, `{"a":1} {"b":2}`} {
		if _, err := appendLookupEvent(nil, 0, cttypes.Event{CloudTrailEvent: aws.String(bad), EventId: aws.String("x")}); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func FuzzLookupEvent(f *testing.F) {
	f.Add(`{"eventVersion":"1.08","eventID":"x"}`, `{"a":[1,2]}`)
	f.Add(`{"a":1}],"x":[{`, ` {"b":"\u0000"} `)
	f.Fuzz(func(t *testing.T, a, b string) {
		doc := []byte(`{"Records":[`)
		n := 0
		for _, s := range []string{a, b} {
			var err error
			if doc, err = appendLookupEvent(doc, n, cttypes.Event{CloudTrailEvent: aws.String(s)}); err == nil {
				n++
			}
		}
		doc = append(doc, "]}"...)
		var v struct{ Records []json.RawMessage }
		if err := json.Unmarshal(doc, &v); err != nil || len(v.Records) != n {
			t.Fatalf("document %q: %v (%d records, want %d)", doc, err, len(v.Records), n)
		}
	})
}
