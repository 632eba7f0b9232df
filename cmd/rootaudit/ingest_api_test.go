package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rootaudit/rootaudit/query"
)

// End-to-end tests of `ingest lookup://` and `ingest athena://` against
// loopback fakes of the AWS APIs (CloudTrail LookupEvents and STS; Athena),
// pointed at with AWS_ENDPOINT_URL_<SERVICE>, static credentials and no
// instance metadata.

const (
	apiCaller = "111111111111"
	apiMember = "222222222222"
)

func apiRoot(id, acct, region string, t time.Time) string {
	return fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"%[2]s","arn":"arn:aws:iam::%[2]s:root","accountId":"%[2]s","accessKeyId":"ASIAEXAMPLEROOT","sessionContext":{"attributes":{"creationDate":"%[4]s","mfaAuthenticated":"true"}}},"eventTime":"%[4]s","eventSource":"iam.amazonaws.com","eventName":"ListAccessKeys","awsRegion":"%[3]s","sourceIPAddress":"192.0.2.1","userAgent":"console","requestParameters":null,"responseElements":null,"requestID":"req-%[1]s","eventID":"%[1]s","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"%[2]s"}`,
		id, acct, region, t.UTC().Format(time.RFC3339))
}

func apiAssumeRoot(id, acct string, t time.Time) string {
	return fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:alice","arn":"arn:aws:sts::%[2]s:assumed-role/Admin/alice","accountId":"%[2]s","accessKeyId":"ASIACALLER"},"eventTime":"%[3]s","eventSource":"sts.amazonaws.com","eventName":"AssumeRoot","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.9","userAgent":"aws-cli","requestParameters":{"targetPrincipal":"%[4]s","taskPolicyArn":{"arn":"arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"}},"responseElements":{"credentials":{"accessKeyId":"ASIAISSUED","sessionToken":"SECRET-TOKEN","expiration":"May 19, 2026, 10:15:00 AM"}},"requestID":"req-%[1]s","eventID":"%[1]s","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"%[2]s"}`,
		id, acct, t.UTC().Format(time.RFC3339), apiMember)
}

// apiEnv points the SDK at a fake and gives it static credentials.
func apiEnv(t *testing.T, services map[string]string) {
	t.Helper()
	for svc, u := range services {
		t.Setenv("AWS_ENDPOINT_URL_"+svc, u)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDCALLER")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
}

// apiTrail writes one local trail file, delivered two days ago, holding
// the given records.
func apiTrail(t *testing.T, recs ...string) string {
	t.Helper()
	dir := t.TempDir()
	day := time.Now().UTC().Add(-48 * time.Hour)
	p := filepath.Join(dir, "AWSLogs", "o-exampleorg1", apiCaller, "CloudTrail", "us-east-1", day.Format("2006/01/02"),
		apiCaller+"_CloudTrail_us-east-1_"+day.Format("20060102T1504Z")+"_abcdefabcdef0123.json.gz")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, gzipped(`{"Records":[`+strings.Join(recs, ",")+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

type apiEvent struct{ id, kind, source, raw string }

func apiEvents(t *testing.T, db string) map[string]apiEvent {
	t.Helper()
	d, err := query.Open(context.Background(), db, true)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rows, err := d.Query(`SELECT event_id, source_kind, source_file, CAST(raw AS VARCHAR) FROM events ORDER BY event_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]apiEvent{}
	for rows.Next() {
		var e apiEvent
		if err := rows.Scan(&e.id, &e.kind, &e.source, &e.raw); err != nil {
			t.Fatal(err)
		}
		out[e.id] = e
	}
	return out
}

// ctAPI is a loopback CloudTrail LookupEvents + STS fake. The account of a
// request is told by its access key: the caller's, or ASIA+ACCOUNT issued
// by AssumeRole.
type ctAPI struct {
	mu      sync.Mutex
	events  map[string][]string // ACCOUNT/REGION/Key=Value → CloudTrailEvent
	calls   map[string]int      // ACCOUNT/REGION → LookupEvents calls
	assumed []string
}

var reCred = regexp.MustCompile(`Credential=([^/]+)/\d{8}/([a-z0-9-]+)/`)

func (f *ctAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	m := reCred.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		http.Error(w, "unsigned", 403)
		return
	}
	acct := apiCaller
	if strings.HasPrefix(m[1], "ASIA") {
		acct = strings.TrimPrefix(m[1], "ASIA")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		form, _ := url.ParseQuery(string(body))
		w.Header().Set("Content-Type", "text/xml")
		switch form.Get("Action") {
		case "GetCallerIdentity":
			fmt.Fprintf(w, `<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::%[1]s:user/auditor</Arn><UserId>AIDA</UserId><Account>%[1]s</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`, acct)
		case "AssumeRole":
			arn := form.Get("RoleArn")
			f.assumed = append(f.assumed, arn)
			target := strings.Split(arn, ":")[4]
			fmt.Fprintf(w, `<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA%s</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>%s</Expiration></Credentials><AssumedRoleUser><Arn>%s</Arn><AssumedRoleId>AROA:rootaudit</AssumedRoleId></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>`,
				target, time.Now().Add(time.Hour).UTC().Format(time.RFC3339), arn)
		}
		return
	}
	var in struct {
		LookupAttributes   []struct{ AttributeKey, AttributeValue string }
		NextToken          string
		StartTime, EndTime float64
	}
	json.Unmarshal(body, &in)
	if len(in.LookupAttributes) != 1 {
		w.WriteHeader(400)
		json.NewEncoder(w).Encode(map[string]string{"__type": "InvalidLookupAttributesException", "message": "one attribute"})
		return
	}
	ar := acct + "/" + m[2]
	f.calls[ar]++
	var evs []map[string]any
	for _, e := range f.events[ar+"/"+in.LookupAttributes[0].AttributeKey+"="+in.LookupAttributes[0].AttributeValue] {
		var rec struct{ EventTime time.Time }
		json.Unmarshal([]byte(e), &rec)
		if t := float64(rec.EventTime.Unix()); t >= in.StartTime && t <= in.EndTime {
			evs = append(evs, map[string]any{"CloudTrailEvent": e})
		}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(map[string]any{"Events": evs})
}

func (f *ctAPI) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		n += c
	}
	return n
}

// TestIngestLookup: lookup:// events land in `events` marked lookup (the
// session token redacted), a record the trail already gave is stored once,
// a finished month is checkpointed and the current one read again.
func TestIngestLookup(t *testing.T) {
	now := time.Now().UTC()
	dup := apiRoot("dup-1", apiCaller, "us-east-1", now.Add(-47*time.Hour))
	fake := &ctAPI{calls: map[string]int{}, events: map[string][]string{
		apiCaller + "/us-east-1/Username=root":        {dup, apiRoot("lk-1", apiCaller, "us-east-1", now.Add(-time.Hour))},
		apiCaller + "/us-east-1/EventName=AssumeRoot": {apiAssumeRoot("lk-2", apiCaller, now.Add(-2*time.Hour))},
		apiCaller + "/eu-west-1/Username=root":        {apiRoot("lk-3", apiCaller, "eu-west-1", now.Add(-40*24*time.Hour))},
	}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	apiEnv(t, map[string]string{"CLOUDTRAIL": srv.URL, "STS": srv.URL})
	db := filepath.Join(t.TempDir(), "l.duckdb")

	if _, stderr, code := runCLI(t, "ingest", "--db", db, "-q", apiTrail(t, dup)); code != 0 {
		t.Fatalf("trail ingest: exit %d: %s", code, stderr)
	}
	_, stderr, code := runCLI(t, "ingest", "--db", db, "-q", "--since", "1d", "lookup://us-east-1,eu-west-1")
	if code != 0 {
		t.Fatalf("lookup ingest: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "lookup://us-east-1,eu-west-1: ") || !strings.Contains(stderr, "LookupEvents requests") {
		t.Errorf("no source summary: %s", stderr)
	}
	ev := apiEvents(t, db)
	if len(ev) != 3 || ev["dup-1"].kind != "trail" || ev["lk-1"].kind != "lookup" || ev["lk-2"].kind != "lookup" {
		t.Fatalf("events: %+v", ev)
	}
	month := now.Format("2006-01")
	if want := "lookup://" + apiCaller + "/us-east-1/" + month; ev["lk-1"].source != want && !strings.HasPrefix(ev["lk-1"].source, "lookup://"+apiCaller+"/us-east-1/") {
		t.Errorf("source_file %q, want %q", ev["lk-1"].source, want)
	}
	if strings.Contains(ev["lk-2"].raw, "SECRET-TOKEN") || !strings.Contains(ev["lk-2"].raw, "REDACTED") {
		t.Errorf("session token not redacted: %s", ev["lk-2"].raw)
	}
	if n := fake.calls[apiCaller+"/us-east-1"]; n%8 != 0 || n == 0 {
		t.Errorf("us-east-1: %d lookups, want 8 per month (root, AssumeRoot, six switches)", n)
	}

	// A finished window: read once, then skipped; the current month: read
	// on every run.
	past := []string{"ingest", "--db", db, "-q", "--since", "45d", "--until", now.Add(-35 * 24 * time.Hour).Format("2006-01-02"), "lookup://eu-west-1"}
	if _, stderr, code := runCLI(t, past...); code != 0 {
		t.Fatalf("past window: exit %d: %s", code, stderr)
	}
	if ev := apiEvents(t, db); ev["lk-3"].kind != "lookup" {
		t.Errorf("past window: %+v", ev)
	}
	before := fake.total()
	_, stderr, code = runCLI(t, past...)
	if code != 0 || fake.total() != before || !strings.Contains(stderr, ", 0 read (") {
		t.Errorf("rerun of a finished window: exit %d, %d new lookups: %s", code, fake.total()-before, stderr)
	}
	before = fake.total()
	if _, stderr, code := runCLI(t, "ingest", "--db", db, "-q", "--since", "1d", "lookup://eu-west-1"); code != 0 || fake.total() == before {
		t.Errorf("rerun of the current month: exit %d, %d new lookups: %s", code, fake.total()-before, stderr)
	}
	if ev := apiEvents(t, db); len(ev) != 4 {
		t.Errorf("after reruns: %d events, want 4", len(ev))
	}
}

// TestIngestLookupAccounts: --role-name with --accounts reads the active
// member accounts through the role (the caller's own account with its own
// credentials).
func TestIngestLookupAccounts(t *testing.T) {
	now := time.Now().UTC()
	fake := &ctAPI{calls: map[string]int{}, events: map[string][]string{
		apiMember + "/eu-west-1/Username=root": {apiRoot("m-1", apiMember, "eu-west-1", now.Add(-time.Hour))},
	}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	apiEnv(t, map[string]string{"CLOUDTRAIL": srv.URL, "STS": srv.URL})
	accts := filepath.Join(t.TempDir(), "accounts.json")
	os.WriteFile(accts, []byte(`{"Accounts":[{"Id":"`+apiCaller+`","Name":"mgmt","Status":"ACTIVE"},{"Id":"`+apiMember+`","Name":"dev","Status":"ACTIVE"},{"Id":"333333333333","Name":"old","Status":"SUSPENDED"}]}`), 0o644)
	db := filepath.Join(t.TempDir(), "a.duckdb")

	if _, stderr, code := runCLI(t, "ingest", "--db", db, "-q", "--accounts", accts, "lookup://eu-west-1"); code != exitUsage {
		t.Errorf("--accounts without --role-name: exit %d: %s", code, stderr)
	}
	_, stderr, code := runCLI(t, "ingest", "--db", db, "-q", "--since", "1d", "--role-name", "RootAudit", "--accounts", accts, "lookup://eu-west-1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if ev := apiEvents(t, db); ev["m-1"].kind != "lookup" || !strings.HasPrefix(ev["m-1"].source, "lookup://"+apiMember+"/eu-west-1/") {
		t.Errorf("events: %+v", ev)
	}
	if len(fake.assumed) != 1 || fake.assumed[0] != "arn:aws:iam::"+apiMember+":role/RootAudit" {
		t.Errorf("assumed %v", fake.assumed)
	}
	if fake.calls[apiCaller+"/eu-west-1"] == 0 || fake.calls["333333333333/eu-west-1"] != 0 {
		t.Errorf("calls %v", fake.calls)
	}
}

// atAPI is a loopback Athena fake over a small CloudTrail table with the
// standard partitions.
type atAPI struct {
	mu      sync.Mutex
	states  []string
	reason  string
	rows    []string
	started []string
	sql     []string
	stops   []string
	polls   map[string]int
	tokens  map[string]string
	onPoll  func()
}

var atColumns = [][2]string{{"eventversion", "string"}, {"useridentity", "struct<type:string,principalid:string,arn:string,accountid:string,accesskeyid:string,sessioncontext:struct<attributes:struct<mfaauthenticated:string,creationdate:string>>>"},
	{"eventtime", "string"}, {"eventsource", "string"}, {"eventname", "string"}, {"awsregion", "string"}, {"sourceipaddress", "string"},
	{"useragent", "string"}, {"errorcode", "string"}, {"requestparameters", "string"}, {"responseelements", "string"}, {"requestid", "string"},
	{"eventid", "string"}, {"readonly", "string"}, {"eventtype", "string"}, {"recipientaccountid", "string"}}

// row is what Athena returns for a record of this table: struct columns as
// JSON with the catalog's lower-case field names, nested objects as text.
func (f *atAPI) row(rec string) []map[string]any {
	var m map[string]any
	json.Unmarshal([]byte(rec), &m)
	lm := map[string]any{}
	for k, v := range m {
		lm[strings.ToLower(k)] = v
	}
	var lower func(v any) any
	lower = func(v any) any {
		if o, ok := v.(map[string]any); ok {
			out := map[string]any{}
			for k, c := range o {
				out[strings.ToLower(k)] = lower(c)
			}
			return out
		}
		return v
	}
	var data []map[string]any
	for _, c := range atColumns {
		v, ok := lm[c[0]]
		switch {
		case !ok || v == nil:
			data = append(data, map[string]any{})
		case strings.HasPrefix(c[1], "struct"):
			b, _ := json.Marshal(lower(v))
			data = append(data, map[string]any{"VarCharValue": string(b)})
		default:
			s, isStr := v.(string)
			if !isStr {
				b, _ := json.Marshal(v)
				s = string(b)
			}
			data = append(data, map[string]any{"VarCharValue": s})
		}
	}
	return data
}

func (f *atAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var in map[string]any
	json.Unmarshal(body, &in)
	op := r.Header.Get("X-Amz-Target")
	op = op[strings.LastIndex(op, ".")+1:]
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	f.mu.Lock()
	defer f.mu.Unlock()
	qid, _ := in["QueryExecutionId"].(string)
	enc := json.NewEncoder(w)
	switch op {
	case "GetTableMetadata":
		var cols []map[string]string
		for _, c := range atColumns {
			cols = append(cols, map[string]string{"Name": c[0], "Type": c[1]})
		}
		enc.Encode(map[string]any{"TableMetadata": map[string]any{"Name": in["TableName"], "Columns": cols,
			"PartitionKeys": []map[string]string{{"Name": "account", "Type": "string"}, {"Name": "region", "Type": "string"}, {"Name": "timestamp", "Type": "string"}},
			"Parameters": map[string]string{"projection.enabled": "true", "projection.account.type": "injected", "projection.region.type": "enum",
				"projection.timestamp.type": "date", "projection.timestamp.format": "yyyy/MM/dd", "projection.timestamp.range": "2013/11/01,NOW"}}})
	case "StartQueryExecution":
		tok, _ := in["ClientRequestToken"].(string)
		if id, ok := f.tokens[tok]; ok && tok != "" {
			enc.Encode(map[string]any{"QueryExecutionId": id})
			return
		}
		id := "q-" + strconv.Itoa(len(f.sql)+1)
		f.tokens[tok] = id
		f.sql = append(f.sql, in["QueryString"].(string))
		f.started = append(f.started, id)
		enc.Encode(map[string]any{"QueryExecutionId": id})
	case "GetQueryExecution":
		n := f.polls[qid]
		f.polls[qid]++
		states := f.states
		if len(states) == 0 || strings.HasPrefix(f.sql[len(f.sql)-1], "CREATE") {
			states = []string{"RUNNING", "SUCCEEDED"}
		}
		st := map[string]any{"State": states[min(n, len(states)-1)], "StateChangeReason": f.reason}
		if f.onPoll != nil {
			go f.onPoll()
		}
		enc.Encode(map[string]any{"QueryExecution": map[string]any{"QueryExecutionId": qid, "Status": st,
			"Statistics": map[string]any{"DataScannedInBytes": 2_000_000}}})
	case "GetQueryResults":
		header := []map[string]any{}
		for _, c := range atColumns {
			header = append(header, map[string]any{"VarCharValue": c[0]})
		}
		rows := []map[string]any{{"Data": header}}
		for _, rec := range f.rows {
			rows = append(rows, map[string]any{"Data": f.row(rec)})
		}
		enc.Encode(map[string]any{"ResultSet": map[string]any{"Rows": rows}})
	case "StopQueryExecution":
		f.stops = append(f.stops, qid)
		enc.Encode(map[string]any{})
	default:
		w.WriteHeader(400)
		enc.Encode(map[string]string{"__type": "UnknownOperationException", "message": op})
	}
}

const atSource = "athena://primary/cloudtrail?table=org_trail&create=true&bucket=s3://org-trail-logs/AWSLogs/o-exampleorg1/&output=s3://athena-results/rootaudit/"

// TestIngestAthena: the table is created, each delivery day of the window
// is one query, the rows land in `events` marked athena, a record the trail
// already gave is stored once; a FAILED query fails its day with Athena's
// reason (exit 3).
func TestIngestAthena(t *testing.T) {
	now := time.Now().UTC()
	dup := apiRoot("dup-1", apiCaller, "us-east-1", now.Add(-47*time.Hour))
	fake := &atAPI{polls: map[string]int{}, tokens: map[string]string{}, rows: []string{dup, apiRoot("at-1", apiMember, "eu-west-1", now.Add(-time.Hour)), apiAssumeRoot("at-2", apiCaller, now.Add(-2*time.Hour))}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	apiEnv(t, map[string]string{"ATHENA": srv.URL})
	db := filepath.Join(t.TempDir(), "a.duckdb")
	accts := filepath.Join(t.TempDir(), "accounts.json")
	os.WriteFile(accts, []byte(`[{"Id":"`+apiCaller+`"},{"Id":"`+apiMember+`","Status":"SUSPENDED"}]`), 0o644)

	if _, stderr, code := runCLI(t, "ingest", "--db", db, "-q", apiTrail(t, dup)); code != 0 {
		t.Fatalf("trail ingest: exit %d: %s", code, stderr)
	}
	_, stderr, code := runCLI(t, "ingest", "--db", db, "-q", "--since", "1d", "--accounts", accts, atSource)
	if code != 0 {
		t.Fatalf("athena ingest: exit %d: %s", code, stderr)
	}
	if len(fake.sql) < 4 || !strings.HasPrefix(fake.sql[0], "CREATE DATABASE IF NOT EXISTS `cloudtrail`") ||
		!strings.HasPrefix(fake.sql[1], "CREATE EXTERNAL TABLE IF NOT EXISTS `cloudtrail`.`org_trail`") {
		t.Fatalf("queries: %q", fake.sql)
	}
	for _, q := range fake.sql[2:] {
		if !strings.Contains(q, `"account" IN ('`+apiCaller+`', '`+apiMember+`')`) || !strings.Contains(q, `"timestamp" = '`) {
			t.Errorf("select without the account or day predicate:\n%s", q)
		}
	}
	if !strings.Contains(stderr, "MB scanned") {
		t.Errorf("no Athena summary: %s", stderr)
	}
	ev := apiEvents(t, db)
	if len(ev) != 3 || ev["dup-1"].kind != "trail" || ev["at-1"].kind != "athena" || ev["at-2"].kind != "athena" ||
		!strings.HasPrefix(ev["at-1"].source, "athena://primary/cloudtrail/org_trail/") {
		t.Fatalf("events: %+v", ev)
	}
	if strings.Contains(ev["at-2"].raw, "SECRET-TOKEN") {
		t.Errorf("session token stored: %s", ev["at-2"].raw)
	}

	fake.states = []string{"QUEUED", "FAILED"}
	fake.reason = "HIVE_BAD_DATA: Error parsing field value for field 1"
	_, stderr, code = runCLI(t, "ingest", "--db", db, "-q", "--since", "1d", "--accounts", accts, strings.Replace(atSource, "create=true", "create=false", 1))
	if code != exitPartial || !strings.Contains(stderr, fake.reason) {
		t.Errorf("failed query: exit %d: %s", code, stderr)
	}
}

// TestIngestAthenaInterrupt: Ctrl-C while a query runs stops it in Athena
// and exits 130.
func TestIngestAthenaInterrupt(t *testing.T) {
	fake := &atAPI{polls: map[string]int{}, tokens: map[string]string{}, states: []string{"RUNNING"}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	apiEnv(t, map[string]string{"ATHENA": srv.URL})
	fake.onPoll = cancel
	_, stderr, code := runCLIContext(t, ctx, "ingest", "--db", filepath.Join(t.TempDir(), "i.duckdb"), "-q", "--since", "1d",
		"--account", apiCaller, "athena://primary/cloudtrail?table=org_trail")
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d: %s", code, exitInterrupted, stderr)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.started) == 0 || len(fake.stops) != len(fake.started) {
		t.Errorf("started %v, stopped %v", fake.started, fake.stops)
	}
}

// TestIngestAPISourceUsage: malformed API sources and flag combinations are
// usage errors (exit 2).
func TestIngestAPISourceUsage(t *testing.T) {
	apiEnv(t, map[string]string{"CLOUDTRAIL": "http://127.0.0.1:1", "ATHENA": "http://127.0.0.1:1", "STS": "http://127.0.0.1:1"})
	db := filepath.Join(t.TempDir(), "u.duckdb")
	for _, args := range [][]string{
		{"lookup://not_a_region"},
		{"--validate", "lookup://"},
		{"--role-name", "RootAudit", "lookup://"},
		{"athena://primary"},
		{"athena://primary/db?create=true"},
		{"athena://primary/db?bogus=1"},
	} {
		_, stderr, code := runCLI(t, append([]string{"ingest", "--db", db, "-q"}, args...)...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d: %s", args, code, exitUsage, stderr)
		}
	}
}
