package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	atypes "github.com/aws/aws-sdk-go-v2/service/athena/types"
	"github.com/valyala/fastjson"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden Athena SQL under testdata/athena")

// atGolden compares generated SQL with testdata/athena/NAME (rewritten
// with -update).
func atGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "athena", name)
	if *updateGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `go test ./ingest -run Athena -update` to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the generated SQL (review, then -update):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

const atBucket = "s3://org-trail-logs/AWSLogs/o-exampleorg1/"

func atURL(t testing.TB, extra string) AthenaURL {
	t.Helper()
	u, err := ParseAthenaURL("athena://primary/cloudtrail?table=org_trail" + extra)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// atMetaFromDDL is the GetTableMetadata answer for a table made by a
// CREATE EXTERNAL TABLE statement: top-level columns (four-space indent),
// partition keys and table properties, read from the DDL itself so the
// tests cannot drift from the template.
func atMetaFromDDL(t testing.TB, ddl string) map[string]any {
	t.Helper()
	reCol := regexp.MustCompile(`^    ` + "`?" + `([a-z0-9_]+)` + "`?" + ` ([A-Za-z]+)`)
	reProp := regexp.MustCompile(`^    '([^']+)' = '([^']*)'`)
	var cols, parts []map[string]string
	props := map[string]string{}
	section := "columns"
	for _, line := range strings.Split(ddl, "\n") {
		switch {
		case strings.HasPrefix(line, "PARTITIONED BY"):
			section = "partitions"
			continue
		case strings.HasPrefix(line, "TBLPROPERTIES"):
			section = "props"
			continue
		case strings.HasPrefix(line, ")"):
			section = ""
			continue
		}
		if m := reProp.FindStringSubmatch(line); m != nil && section == "props" {
			props[m[1]] = m[2]
		} else if m := reCol.FindStringSubmatch(line); m != nil {
			c := map[string]string{"Name": m[1], "Type": strings.ToLower(m[2])}
			switch section {
			case "columns":
				cols = append(cols, c)
			case "partitions":
				parts = append(parts, c)
			}
		}
	}
	if len(cols) < 20 || len(parts) != 3 || props["projection.enabled"] != "true" {
		t.Fatalf("DDL not understood: %d columns, %d partition keys, %v", len(cols), len(parts), props)
	}
	return map[string]any{"Name": "org_trail", "Columns": cols, "PartitionKeys": parts, "Parameters": props}
}

func atStandardMeta(t testing.TB) map[string]any {
	ddl, err := AthenaCreateTableSQL(atURL(t, "&create=true&bucket="+atBucket), "aws")
	if err != nil {
		t.Fatal(err)
	}
	return atMetaFromDDL(t, ddl)
}

// atLegacyMeta is an older, unpartitioned CloudTrail table (as the
// CloudTrail console created them) without the newer columns.
func atLegacyMeta() map[string]any {
	var cols []map[string]string
	for _, c := range [][2]string{{"eventversion", "string"}, {"useridentity", "struct<type:string,principalid:string,arn:string,accountid:string,invokedby:string,accesskeyid:string,username:string,sessioncontext:struct<attributes:struct<mfaauthenticated:string,creationdate:string>>>"},
		{"eventtime", "string"}, {"eventsource", "string"}, {"eventname", "string"}, {"awsregion", "string"}, {"sourceipaddress", "string"},
		{"useragent", "string"}, {"errorcode", "string"}, {"errormessage", "string"}, {"requestparameters", "string"}, {"responseelements", "string"},
		{"additionaleventdata", "string"}, {"requestid", "string"}, {"eventid", "string"}, {"readonly", "boolean"}, {"eventtype", "string"},
		{"recipientaccountid", "string"}} {
		cols = append(cols, map[string]string{"Name": c[0], "Type": c[1]})
	}
	return map[string]any{"Name": "cloudtrail_logs", "Columns": cols}
}

func atPlan(t testing.TB, meta map[string]any) *athenaPlan {
	t.Helper()
	b, _ := json.Marshal(meta)
	var m atypes.TableMetadata
	var raw struct {
		Columns, PartitionKeys []struct{ Name, Type string }
		Parameters             map[string]string
	}
	json.Unmarshal(b, &raw)
	for _, c := range raw.Columns {
		m.Columns = append(m.Columns, atypes.Column{Name: aws.String(c.Name), Type: aws.String(c.Type)})
	}
	for _, c := range raw.PartitionKeys {
		m.PartitionKeys = append(m.PartitionKeys, atypes.Column{Name: aws.String(c.Name), Type: aws.String(c.Type)})
	}
	m.Parameters = raw.Parameters
	p, err := planFromMetadata(&m)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseAthenaURL(t *testing.T) {
	u, err := ParseAthenaURL("athena://primary/CloudTrail?table=org_trail&create=true&bucket=s3://b-1/x/AWSLogs/o-abcdefghij&output=s3://res/athena&regions=us-east-1,eu-west-1&parallel=8")
	if err != nil {
		t.Fatal(err)
	}
	want := AthenaURL{WorkGroup: "primary", Database: "cloudtrail", Table: "org_trail", Catalog: DefaultAthenaCatalog, Create: true,
		Bucket: "s3://b-1/x/AWSLogs/o-abcdefghij/", Output: "s3://res/athena/", Regions: []string{"eu-west-1", "us-east-1"}, Parallel: 8}
	if fmt.Sprint(u) != fmt.Sprint(want) || strings.Join(u.Regions, ",") != "eu-west-1,us-east-1" {
		t.Errorf("got %+v\nwant %+v", u, want)
	}
	u, err = ParseAthenaURL("athena://primary/db")
	if err != nil || u.Table != DefaultAthenaTable || u.Create {
		t.Errorf("defaults: %+v %v", u, err)
	}
	for _, bad := range []string{
		"athena://", "athena://wg", "athena://wg/", "athena://w g/db", "athena://wg/d-b", "athena://wg/db?table=a;b",
		"athena://wg/db?create=true", "athena://wg/db?create=yes&bucket=s3://b/AWSLogs/",
		"athena://wg/db?bucket=s3://bucket/logs/", "athena://wg/db?bucket=s3://bucket/AWSLogs/o-x'y/",
		"athena://wg/db?bucket=s3://bucket/AWSLogs/123456789012/", "athena://wg/db?output=s3://b/it's",
		"athena://wg/db?regions=us-east-1,x", "athena://wg/db?parallel=0", "athena://wg/db?tabel=x",
		"athena://wg/db?table=a&table=b", "s3://wg/db",
	} {
		if u, err := ParseAthenaURL(bad); err == nil {
			t.Errorf("ParseAthenaURL(%q) accepted: %+v", bad, u)
		}
	}
}

// TestAthenaGolden keeps the DDL and the SELECTs under golden files.
func TestAthenaGolden(t *testing.T) {
	u := atURL(t, "&create=true&bucket="+atBucket)
	db, err := AthenaCreateDatabaseSQL(u)
	if err != nil {
		t.Fatal(err)
	}
	atGolden(t, "create_database.sql", db)
	tbl, err := AthenaCreateTableSQL(u, "aws")
	if err != nil {
		t.Fatal(err)
	}
	atGolden(t, "create_table.sql", tbl)

	day := time.Date(2026, 5, 14, 0, 0, 0, 0, time.UTC)
	s := &AthenaSource{u: u, plan: atPlan(t, atStandardMeta(t))}
	sel, err := s.selectFor(athenaBlock{name: "2026-05-14", day: day}, []string{"111111111111", "222222222222"}, []string{"eu-west-1", "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	atGolden(t, "select_standard.sql", sel)

	s = &AthenaSource{u: atURL(t, ""), plan: atPlan(t, atLegacyMeta())}
	s.u.Table = "cloudtrail_logs"
	sel, err = s.selectFor(athenaBlock{name: "2026-05-13..2026-05-16", from: day.Add(-24 * time.Hour), to: day.Add(48 * time.Hour)}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	atGolden(t, "select_unpartitioned.sql", sel)
}

// TestAthenaPlan: the standard table's partitions are found; tables that
// are not CloudTrail's are refused.
func TestAthenaPlan(t *testing.T) {
	p := atPlan(t, atStandardMeta(t))
	if p.DayKey != "timestamp" || p.dayLayout != "2006/01/02" || p.AccountKey != "account" || p.RegionKey != "region" ||
		!p.injected["account"] || p.injected["region"] || p.rangeStart.Format("2006/01/02") != athenaRangeStart {
		t.Errorf("plan: %+v", p)
	}
	for name, meta := range map[string]*atypes.TableMetadata{
		"no eventid": {Columns: []atypes.Column{{Name: aws.String("useridentity"), Type: aws.String("struct<type:string>")}}},
		"string identity": {Columns: []atypes.Column{{Name: aws.String("eventid"), Type: aws.String("string")}, {Name: aws.String("eventtime"), Type: aws.String("string")},
			{Name: aws.String("eventsource"), Type: aws.String("string")}, {Name: aws.String("eventname"), Type: aws.String("string")},
			{Name: aws.String("useridentity"), Type: aws.String("string")}}},
		"nil": nil,
	} {
		if _, err := planFromMetadata(meta); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// atLower lower-cases the keys of struct values, as the Glue catalog
// does, except inside webIdFederationData.attributes (a map).
func atLower(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, c := range x {
			lk := strings.ToLower(k)
			if m, ok := c.(map[string]any); ok && lk == "webidfederationdata" {
				fed := map[string]any{}
				for fk, fv := range m {
					if strings.ToLower(fk) == "attributes" {
						fed["attributes"] = fv
					} else {
						fed[strings.ToLower(fk)] = atLower(fv)
					}
				}
				out[lk] = fed
				continue
			}
			out[lk] = atLower(c)
		}
		return out
	case []any:
		for i := range x {
			x[i] = atLower(x[i])
		}
	}
	return v
}

func atJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return strings.TrimSpace(b.String())
}

// atRow is the result row Athena returns for a record in a table of plan:
// what the CloudTrail SerDe and json_format make of it.
func atRow(t testing.TB, p *athenaPlan, rec string) []atypes.Datum {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(rec))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	lm := map[string]any{}
	for k, v := range m {
		lm[strings.ToLower(k)] = v
	}
	row := make([]atypes.Datum, len(p.Columns))
	for i, c := range p.Columns {
		v, ok := lm[c.Name]
		if !ok || v == nil {
			continue
		}
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case map[string]any, []any:
			if c.kind == colJSON {
				s = atJSON(atLower(x))
			} else {
				s = atJSON(x)
			}
		default:
			s = fmt.Sprint(x)
		}
		row[i].VarCharValue = aws.String(s)
	}
	return row
}

// atRecords are the test records: inline ones, and the shared samples when
// present.
func atRecords(t testing.TB) map[string]string {
	now := time.Date(2026, 5, 14, 10, 0, 0, 0, time.UTC)
	recs := map[string]string{
		"root":        lkRootRecord("r-1", lkCaller, "eu-west-1", now),
		"assume-root": lkAssumeRootRecord("a-1", lkCaller, "us-east-1", now),
		"switch":      lkSwitchRecord("s-1", lkCaller, now),
	}
	for _, name := range []string{"assume_root_action", "assume_root_call", "assume_root_call_failed", "console_login_failure",
		"console_login_success", "org_switch", "root_api_access_key", "root_api_console", "service_invoked"} {
		if b, err := os.ReadFile(filepath.Join("..", "..", "shared", "samples", name+".json")); err == nil {
			recs[name] = string(b)
		}
	}
	return recs
}

// TestAthenaRecordRoundTrip: a record that went through the Athena table
// and back decodes to the same event as the record itself.
func TestAthenaRecordRoundTrip(t *testing.T) {
	for _, meta := range []map[string]any{atStandardMeta(t), atLegacyMeta()} {
		p := atPlan(t, meta)
		var jp fastjson.Parser
		for name, rec := range atRecords(t) {
			rebuilt, err := p.appendRecord(nil, atRow(t, p, rec), &jp)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var d Decoder
			var want, got Event
			werr := d.Decode([]byte(rec), &want)
			gerr := d.Decode(rebuilt, &got)
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("%s: decode original %v, rebuilt %v\n%s", name, werr, gerr, rebuilt)
			}
			if werr != nil {
				continue
			}
			if strings.Contains(string(got.Raw), "SECRET-TOKEN") {
				t.Errorf("%s: session token kept in %s", name, got.Raw)
			}
			want.Raw, got.Raw = nil, nil
			if p.DayKey == "" {
				// The legacy table has no sessionCredentialFromConsole.
				want.ConsoleSession, got.ConsoleSession = Absent, Absent
			}
			if fmt.Sprintf("%+v", want) != fmt.Sprintf("%+v", got) {
				t.Errorf("%s: rebuilt record decodes differently\n got %+v\nwant %+v\n%s", name, got, want, rebuilt)
			}
		}
	}
	// Athena engine 2 cast a ROW to a JSON array: refused with a reason.
	p := atPlan(t, atStandardMeta(t))
	row := atRow(t, p, lkRootRecord("r-2", lkCaller, "eu-west-1", time.Now()))
	for i, c := range p.Columns {
		if c.Name == "useridentity" {
			row[i].VarCharValue = aws.String(`["Root","111111111111"]`)
		}
	}
	var jp fastjson.Parser
	if _, err := p.appendRecord(nil, row, &jp); err == nil || !strings.Contains(err.Error(), "engine version 3") {
		t.Errorf("array for a struct: %v", err)
	}
	if _, err := p.appendRecord(nil, row[:3], &jp); err == nil {
		t.Error("short row accepted")
	}
}

// atFake is a loopback Athena (JSON 1.1): table metadata, queries that go
// QUEUED → RUNNING → SUCCEEDED (or as states says), paged results.
type atFake struct {
	mu          sync.Mutex
	meta        map[string]any
	states      []string // per query, one per poll; the last repeats
	reason      string
	rows        func(sql string) []string // records whose rows a SELECT returns
	plan        *athenaPlan
	page        int
	scanned     int64
	failResults int // GetQueryResults answers that fail with a 500 first
	onPoll      func(qid string)
	queries     []string
	ids         []string
	polls       map[string]int
	tokens      map[string]string
	pages       []string
	stops       []string
}

func (f *atFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var in map[string]any
	json.Unmarshal(body, &in)
	op := r.Header.Get("X-Amz-Target")
	op = op[strings.LastIndex(op, ".")+1:]
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	f.mu.Lock()
	defer f.mu.Unlock()
	qid, _ := in["QueryExecutionId"].(string)
	switch op {
	case "GetTableMetadata":
		if in["TableName"] != f.meta["Name"] {
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(map[string]string{"__type": "MetadataException", "message": "Table not found"})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"TableMetadata": f.meta})
	case "StartQueryExecution":
		tok, _ := in["ClientRequestToken"].(string)
		if id, ok := f.tokens[tok]; ok && tok != "" {
			json.NewEncoder(w).Encode(map[string]any{"QueryExecutionId": id})
			return
		}
		id := fmt.Sprintf("q-%d", len(f.queries)+1)
		f.tokens[tok] = id
		f.queries = append(f.queries, in["QueryString"].(string))
		f.ids = append(f.ids, id)
		json.NewEncoder(w).Encode(map[string]any{"QueryExecutionId": id})
	case "GetQueryExecution":
		n := f.polls[qid]
		f.polls[qid]++
		states := f.states
		if len(states) == 0 {
			states = []string{"QUEUED", "RUNNING", "SUCCEEDED"}
		}
		st := map[string]any{"State": states[min(n, len(states)-1)]}
		if st["State"] == "FAILED" {
			st["StateChangeReason"] = f.reason
		}
		if f.onPoll != nil {
			go f.onPoll(qid)
		}
		json.NewEncoder(w).Encode(map[string]any{"QueryExecution": map[string]any{"QueryExecutionId": qid, "Status": st,
			"Statistics": map[string]any{"DataScannedInBytes": f.scanned}}})
	case "GetQueryResults":
		if f.failResults > 0 {
			f.failResults--
			w.WriteHeader(500)
			json.NewEncoder(w).Encode(map[string]string{"__type": "InternalServerException", "message": "try again"})
			return
		}
		sql := f.queries[indexOf(f.ids, qid)]
		var rows []map[string]any
		header := []map[string]any{}
		for _, c := range f.plan.Columns {
			header = append(header, map[string]any{"VarCharValue": c.Name})
		}
		rows = append(rows, map[string]any{"Data": header})
		for _, rec := range f.rows(sql) {
			var data []map[string]any
			for _, d := range atRow(&testing.T{}, f.plan, rec) {
				if d.VarCharValue == nil {
					data = append(data, map[string]any{})
				} else {
					data = append(data, map[string]any{"VarCharValue": *d.VarCharValue})
				}
			}
			rows = append(rows, map[string]any{"Data": data})
		}
		tok, _ := in["NextToken"].(string)
		f.pages = append(f.pages, qid+"/"+tok)
		off, _ := strconv.Atoi(tok)
		end := min(off+f.page, len(rows))
		out := map[string]any{"ResultSet": map[string]any{"Rows": rows[off:end]}}
		if end < len(rows) {
			out["NextToken"] = strconv.Itoa(end)
		}
		json.NewEncoder(w).Encode(out)
	case "StopQueryExecution":
		f.stops = append(f.stops, qid)
		json.NewEncoder(w).Encode(map[string]any{})
	default:
		w.WriteHeader(400)
		json.NewEncoder(w).Encode(map[string]string{"__type": "UnknownOperationException", "message": op})
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return 0
}

func atClient(t *testing.T, endpoint string) *athena.Client {
	cfg := lkConfig(t, endpoint)
	return athena.NewFromConfig(cfg)
}

func atNewFake(t *testing.T) *atFake {
	meta := atStandardMeta(t)
	return &atFake{meta: meta, plan: atPlan(t, meta), page: 2, scanned: 1_500_000, polls: map[string]int{}, tokens: map[string]string{},
		rows: func(string) []string { return nil }}
}

var atOpts = AthenaOptions{Accounts: []string{lkCaller, lkMember}, PollBase: time.Millisecond, PollMax: 5 * time.Millisecond,
	Retries: 2, RetryBase: time.Millisecond, Now: func() time.Time { return time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC) }}

// TestAthenaSource: create=true sends the golden DDL, each delivery day is
// one query, polled until SUCCEEDED, its results paged (header skipped, a
// transient failure retried without running the query again) and rebuilt
// into records the decoder keeps.
func TestAthenaSource(t *testing.T) {
	fake := atNewFake(t)
	recs := atRecords(t)
	fake.rows = func(sql string) []string {
		if !strings.Contains(sql, `"timestamp" = '2026/05/14'`) {
			return nil
		}
		return []string{recs["root"], recs["assume-root"], recs["switch"], lkRootRecord("r-9", lkMember, "eu-west-1", time.Now())}
	}
	fake.failResults = 1
	srv := httptest.NewServer(fake)
	defer srv.Close()
	ctx := context.Background()
	src, err := NewAthenaSource(ctx, atClient(t, srv.URL), atURL(t, "&create=true&bucket="+atBucket), atOpts)
	if err != nil {
		t.Fatal(err)
	}
	if len(fake.queries) != 2 {
		t.Fatalf("DDL queries: %q", fake.queries)
	}
	atGolden(t, "create_database.sql", fake.queries[0])
	atGolden(t, "create_table.sql", fake.queries[1])

	day := time.Date(2026, 5, 14, 0, 0, 0, 0, time.UTC)
	f := &Filter{Since: day, Until: day.Add(24 * time.Hour), Regions: map[string]bool{"us-east-1": true, "eu-west-1": true}}
	res := lkRun(t, ctx, src, f)
	if len(res) != 3 {
		t.Fatalf("results for %d days, want 3 (a day of margin each side): %v", len(res), res)
	}
	r := res["athena://primary/cloudtrail/org_trail/2026-05-14"]
	if r.Status != StatusOK || len(r.Events) != 4 || r.Records != 4 {
		t.Fatalf("2026-05-14: %s %q, %d records, %d events", r.Status, r.Reason, r.Records, len(r.Events))
	}
	if strings.Contains(r.Ref.ETag, "open") {
		t.Errorf("a day long over is not final: %s", r.Ref.ETag)
	}
	for _, d := range []string{"2026-05-13", "2026-05-15"} {
		if r := res["athena://primary/cloudtrail/org_trail/"+d]; r.Status != StatusOK || r.Records != 0 {
			t.Errorf("%s: %+v", d, r)
		}
	}
	var sel14 string
	for _, q := range fake.queries[2:] {
		if strings.Contains(q, "2026/05/14") {
			sel14 = q
		}
	}
	atGolden(t, "select_standard.sql", sel14)
	if len(fake.queries) != 5 {
		t.Errorf("%d queries, want 2 DDL + 3 days (a transient results failure must not run a query again)", len(fake.queries))
	}
	for _, id := range fake.ids {
		if fake.polls[id] != 3 {
			t.Errorf("query %s polled %d times, want QUEUED, RUNNING, SUCCEEDED", id, fake.polls[id])
		}
	}
	if got, want := src.Stats.BytesScanned.Load(), int64(5*1_500_000); got != want {
		t.Errorf("bytes scanned %d, want %d", got, want)
	}
	if src.Stats.Rows.Load() != 4 {
		t.Errorf("rows %d", src.Stats.Rows.Load())
	}
	// header + 4 rows in pages of 2: three pages (plus the failed try).
	n := 0
	for _, p := range fake.pages {
		if strings.HasPrefix(p, fake.ids[indexOf(fake.queries, sel14)]+"/") {
			n++
		}
	}
	if n != 3 {
		t.Errorf("day 14 results fetched in %d pages: %v", n, fake.pages)
	}

	// Today is read again on every run; a changed filter changes the ETag.
	f2 := &Filter{Since: atOpts.Now().Add(-time.Hour), Until: atOpts.Now()}
	refs := atList(t, src, f2)
	if len(refs) != 2 || !strings.Contains(refs[0].ETag, "+open@") {
		t.Errorf("today: %+v", refs)
	}
}

func atList(t *testing.T, src Source, f *Filter) []FileRef {
	t.Helper()
	ch := make(chan FileRef, 100)
	if err := src.List(context.Background(), f, ch); err != nil {
		t.Fatal(err)
	}
	close(ch)
	var out []FileRef
	for r := range ch {
		out = append(out, r)
	}
	return out
}

// TestAthenaFailedQuery: a FAILED query fails its day with Athena's reason.
func TestAthenaFailedQuery(t *testing.T) {
	fake := atNewFake(t)
	fake.states = []string{"RUNNING", "FAILED"}
	fake.reason = "COLUMN_NOT_FOUND: line 3:7: Column 'sessioncredentialfromconsole' cannot be resolved"
	srv := httptest.NewServer(fake)
	defer srv.Close()
	src, err := NewAthenaSource(context.Background(), atClient(t, srv.URL), atURL(t, ""), atOpts)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 5, 14, 12, 0, 0, 0, time.UTC)
	res := lkRun(t, context.Background(), src, &Filter{Since: day, Until: day.Add(time.Hour)})
	if len(res) == 0 {
		t.Fatal("no results")
	}
	for s, r := range res {
		if r.Status != StatusFailed || !strings.Contains(r.Reason, fake.reason) || !strings.Contains(r.Reason, "athena query q-") {
			t.Errorf("%s: %s %q", s, r.Status, r.Reason)
		}
	}
}

// TestAthenaCancel: cancelling while a query runs sends StopQueryExecution
// for it.
func TestAthenaCancel(t *testing.T) {
	fake := atNewFake(t)
	fake.states = []string{"RUNNING"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fake.onPoll = func(string) { cancel() }
	srv := httptest.NewServer(fake)
	defer srv.Close()
	src, err := NewAthenaSource(context.Background(), atClient(t, srv.URL), atURL(t, "&parallel=1"), atOpts)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 5, 14, 12, 0, 0, 0, time.UTC)
	err = Run(ctx, []Source{src}, RunOptions{Filter: &Filter{Since: day, Until: day.Add(time.Hour)}, Workers: 2},
		func(res FileResult) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("run: %v", err)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.ids) == 0 || len(fake.stops) != len(fake.ids) {
		t.Fatalf("started %v, stopped %v", fake.ids, fake.stops)
	}
	sort.Strings(fake.stops)
	if strings.Join(fake.stops, ",") != strings.Join(fake.ids, ",") {
		t.Errorf("started %v, stopped %v", fake.ids, fake.stops)
	}
	if src.Stats.Stopped.Load() != int64(len(fake.ids)) {
		t.Errorf("stopped stat %d", src.Stats.Stopped.Load())
	}
}

// TestAthenaNeedsAccounts: an injected account partition cannot be queried
// without accounts; a missing table is reported when the source is made.
func TestAthenaNeedsAccounts(t *testing.T) {
	fake := atNewFake(t)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	opts := atOpts
	opts.Accounts = nil
	src, err := NewAthenaSource(context.Background(), atClient(t, srv.URL), atURL(t, ""), opts)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 5, 14, 12, 0, 0, 0, time.UTC)
	ch := make(chan FileRef, 10)
	if err := src.List(context.Background(), &Filter{Since: day, Until: day.Add(time.Hour)}, ch); err == nil || !strings.Contains(err.Error(), "--accounts") {
		t.Errorf("list without accounts: %v", err)
	}
	if err := src.List(context.Background(), &Filter{Since: day, Until: day.Add(time.Hour), Accounts: map[string]bool{lkCaller: true}}, ch); err != nil || len(ch) != 3 {
		t.Errorf("list with --account: %v, %d refs", err, len(ch))
	}
	if err := src.List(context.Background(), &Filter{Accounts: map[string]bool{lkCaller: true}}, ch); err == nil || !strings.Contains(err.Error(), "--since") {
		t.Errorf("--all: %v", err)
	}
	u, err := ParseAthenaURL("athena://primary/cloudtrail?table=nope")
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewAthenaSource(context.Background(), atClient(t, srv.URL), u, opts)
	if err == nil || !strings.Contains(err.Error(), "Table not found") {
		t.Errorf("missing table: %v", err)
	}
}

func FuzzAthenaRecord(f *testing.F) {
	f.Add(`{"type":"Root","sessioncontext":{"attributes":{"mfaauthenticated":"true"}}}`, `{"a":[1,{"b":null}]}`, "ListBuckets", "true")
	f.Add(`{"webidfederationdata":{"attributes":{"Accountid":"x"}}}`, `not json`, "a\"b\\c\x01", "maybe")
	f.Add(`[1,2]`, `[]`, "", "")
	f.Add(`{"type":null}`, `"x"`, "\u2028", "FALSE")
	plan := atPlan(f, atLegacyMeta())
	f.Fuzz(func(t *testing.T, identity, params, name, ro string) {
		row := make([]atypes.Datum, len(plan.Columns))
		for i, c := range plan.Columns {
			switch c.Name {
			case "useridentity":
				row[i].VarCharValue = aws.String(identity)
			case "requestparameters":
				row[i].VarCharValue = aws.String(params)
			case "eventname", "eventid":
				row[i].VarCharValue = aws.String(name)
			case "readonly":
				row[i].VarCharValue = aws.String(ro)
			}
		}
		var jp fastjson.Parser
		out, err := plan.appendRecord([]byte("x"), row, &jp)
		if err != nil {
			return
		}
		if !json.Valid(out[1:]) || out[1] != '{' {
			t.Fatalf("record is not a JSON object: %s", out[1:])
		}
	})
}

func FuzzParseAthenaURL(f *testing.F) {
	f.Add("athena://primary/db?table=t&create=true&bucket=s3://b-1/AWSLogs/o-abcdefghij/&output=s3://r/x/")
	f.Add("athena://wg/db?regions=us-east-1&parallel=3")
	f.Add("athena://wg/db?bucket=s3://b/AWSLogs/'&create=1")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseAthenaURL(s)
		if err != nil {
			return
		}
		if u.Create {
			sql, err := AthenaCreateTableSQL(u, "aws")
			if err != nil {
				t.Fatal(err)
			}
			if strings.Count(sql, "'")%2 != 0 || strings.Contains(u.Bucket, "'") || strings.Contains(u.Output, "'") {
				t.Fatalf("unbalanced quotes from %q:\n%s", s, sql)
			}
		}
		for _, n := range []string{u.Database, u.Table} {
			if !reAthenaName.MatchString(n) {
				t.Fatalf("name %q passed", n)
			}
		}
	})
}
