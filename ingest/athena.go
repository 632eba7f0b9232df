package ingest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	atypes "github.com/aws/aws-sdk-go-v2/service/athena/types"
	"github.com/valyala/fastjson"
)

// Defaults of an athena:// source.
const (
	DefaultAthenaTable    = "cloudtrail_logs"
	DefaultAthenaCatalog  = "AwsDataCatalog"
	DefaultAthenaParallel = 4 // queries running at once
	// athenaPageSize is the most rows GetQueryResults returns at once.
	athenaPageSize = 1000
	// athenaSettle: a delivery day is final once it has been over this
	// long. Files land under the day they are delivered, so nothing is
	// added to a day after it ends; the margin covers clock skew.
	athenaSettle = time.Hour
	// athenaRangeStart is the first day of the created table's date
	// projection: CloudTrail started in November 2013.
	athenaRangeStart = "2013/11/01"
	// athenaStopTimeout bounds the StopQueryExecution sent after a cancel.
	athenaStopTimeout = 10 * time.Second
	athenaFormat      = "athena-v1"
)

//go:embed athena_sql/*.sql.tmpl
var athenaSQLFiles embed.FS

var athenaTemplates = template.Must(template.New("athena").Funcs(template.FuncMap{
	"join":  strings.Join,
	"lit":   sqlLiteral,
	"lits":  sqlLiterals,
	"ident": sqlIdent,
}).ParseFS(athenaSQLFiles, "athena_sql/*.sql.tmpl"))

// sqlLiteral quotes a Trino string literal.
func sqlLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func sqlLiterals(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = sqlLiteral(v)
	}
	return strings.Join(q, ", ")
}

// sqlIdent quotes a Trino identifier.
func sqlIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

var (
	reWorkGroup  = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,128}$`)
	reAthenaName = regexp.MustCompile(`^[a-z0-9_]{1,255}$`)
	reCatalog    = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,128}$`)
)

// AthenaURL is a parsed athena://WORKGROUP/DATABASE?… source.
type AthenaURL struct {
	WorkGroup string
	Database  string
	Table     string // table=, DefaultAthenaTable when absent
	Catalog   string // catalog=, DefaultAthenaCatalog when absent
	// Create (create=true) creates the database and the standard table
	// with partition projection if they do not exist; it needs Bucket.
	Create bool
	// Bucket (bucket=) is the trail's s3://BUCKET/[PREFIX/]AWSLogs/[o-ORG/]
	// folder: the table's location.
	Bucket string
	// Output (output=) is the s3:// folder for query results; "" uses the
	// workgroup's result location.
	Output string
	// Regions (regions=a,b) are the region projection's values for Create;
	// nil means every region of the client's partition.
	Regions []string
	// Parallel (parallel=N) is how many queries run at once;
	// DefaultAthenaParallel when 0.
	Parallel int
}

func (u AthenaURL) String() string {
	return fmt.Sprintf("athena://%s/%s?table=%s", u.WorkGroup, u.Database, u.Table)
}

// ParseAthenaURL reads athena://WORKGROUP/DATABASE[?table=T&create=true&
// bucket=s3://…/AWSLogs/o-…/&output=s3://…/&catalog=C&regions=R,…&parallel=N].
// Every value is checked, since names and locations end up in SQL text.
func ParseAthenaURL(s string) (AthenaURL, error) {
	rest, ok := strings.CutPrefix(s, "athena://")
	if !ok {
		return AthenaURL{}, fmt.Errorf("%q is not an athena:// URL", s)
	}
	path, rawQuery, _ := strings.Cut(rest, "?")
	wg, db, _ := strings.Cut(strings.TrimSuffix(path, "/"), "/")
	u := AthenaURL{WorkGroup: wg, Database: strings.ToLower(db), Table: DefaultAthenaTable, Catalog: DefaultAthenaCatalog}
	bad := func(format string, a ...any) (AthenaURL, error) {
		return AthenaURL{}, fmt.Errorf("%s: %s (athena://WORKGROUP/DATABASE?table=T&create=true&bucket=s3://…/AWSLogs/o-…/&output=s3://…/)", s, fmt.Sprintf(format, a...))
	}
	if !reWorkGroup.MatchString(u.WorkGroup) {
		return bad("%q is not a workgroup name", u.WorkGroup)
	}
	if !reAthenaName.MatchString(u.Database) {
		return bad("%q is not a database name (letters, digits and _)", db)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return bad("query string: %v", err)
	}
	for k, vs := range q {
		if len(vs) != 1 {
			return bad("%s given %d times", k, len(vs))
		}
		v := vs[0]
		switch k {
		case "table":
			u.Table = strings.ToLower(v)
			if !reAthenaName.MatchString(u.Table) {
				return bad("%q is not a table name (letters, digits and _)", v)
			}
		case "catalog":
			if !reCatalog.MatchString(v) {
				return bad("%q is not a catalog name", v)
			}
			u.Catalog = v
		case "create":
			if u.Create, err = strconv.ParseBool(v); err != nil {
				return bad("create=%q is not true or false", v)
			}
		case "bucket":
			if u.Bucket, err = trailLocation(v); err != nil {
				return bad("bucket: %v", err)
			}
		case "output":
			if _, _, err := ParseS3URL(v); err != nil || strings.ContainsAny(v, `'\`) {
				return bad("output=%q is not an s3:// folder", v)
			}
			u.Output = v
			if !strings.HasSuffix(u.Output, "/") {
				u.Output += "/"
			}
		case "regions":
			for _, r := range strings.Split(v, ",") {
				if r = strings.TrimSpace(r); !isRegion(r) {
					return bad("regions: %q is not a region name", r)
				}
				u.Regions = append(u.Regions, r)
			}
			sort.Strings(u.Regions)
			u.Regions = slices.Compact(u.Regions)
		case "parallel":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 64 {
				return bad("parallel=%q is not a number from 1 to 64", v)
			}
			u.Parallel = n
		default:
			return bad("unknown parameter %q", k)
		}
	}
	if u.Create && u.Bucket == "" {
		return bad("create=true needs bucket=s3://BUCKET/[PREFIX/]AWSLogs/[o-ORG/]")
	}
	return u, nil
}

// trailLocation checks a trail folder URL: s3://BUCKET/[PREFIX/]AWSLogs/
// or …/AWSLogs/o-ORG/ (with the trailing slash added).
func trailLocation(v string) (string, error) {
	bucket, prefix, err := ParseS3URL(v)
	if err != nil {
		return "", err
	}
	if strings.ContainsAny(v, "'\\${}\n\r\t ") {
		return "", fmt.Errorf("%q has a character a table location cannot hold", v)
	}
	segs := strings.Split(strings.TrimSuffix(prefix, "/"), "/")
	last := segs[len(segs)-1]
	if !(last == "AWSLogs" || IsOrgID(last) && len(segs) > 1 && segs[len(segs)-2] == "AWSLogs") {
		return "", fmt.Errorf("%q does not end in AWSLogs/ or AWSLogs/o-ORG/ (the folder that holds the account folders)", v)
	}
	return "s3://" + bucket + "/" + strings.TrimSuffix(prefix, "/") + "/", nil
}

// AthenaCreateDatabaseSQL renders the CREATE DATABASE statement of create=true.
func AthenaCreateDatabaseSQL(u AthenaURL) (string, error) {
	return renderAthena("create_database.sql.tmpl", u)
}

// AthenaCreateTableSQL renders the CREATE EXTERNAL TABLE statement of
// create=true: the standard CloudTrail table with partition projection over
// account, region and delivery day. partition ("aws", …) picks the default
// region list when the URL names none.
func AthenaCreateTableSQL(u AthenaURL, partition string) (string, error) {
	if u.Bucket == "" {
		return "", errors.New("create table: no bucket= location")
	}
	regions := u.Regions
	if len(regions) == 0 {
		regions = PartitionRegions(partition)
	}
	return renderAthena("create_table.sql.tmpl", struct {
		Database, Table, Location, RangeStart string
		Regions                               []string
	}{u.Database, u.Table, u.Bucket, athenaRangeStart, regions})
}

func renderAthena(name string, data any) (string, error) {
	var b strings.Builder
	if err := athenaTemplates.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return strings.TrimSpace(b.String()) + "\n", nil
}

// AthenaOptions configure an AthenaSource.
type AthenaOptions struct {
	// Accounts are the member accounts (--accounts FILE). A table whose
	// account partition is injected can only be queried with a list of
	// accounts: these, or the --account filter.
	Accounts []string
	// Partition picks the default region list of create=true; from the
	// client's region when "".
	Partition string
	// Retries is how many times a GetQueryExecution or GetQueryResults call
	// is made again after a transient failure (beyond the SDK's attempts),
	// with jittered backoff from RetryBase.
	Retries   int
	RetryBase time.Duration
	// PollBase is the first wait between GetQueryExecution polls, doubled
	// up to PollMax (250 ms and 5 s when 0).
	PollBase, PollMax time.Duration
	// Now is the clock (tests).
	Now func() time.Time
}

// AthenaStats count what an AthenaSource did, safe to read while it runs.
type AthenaStats struct {
	Queries      atomic.Int64 // queries started (DDL included)
	Polls        atomic.Int64 // GetQueryExecution calls
	Pages        atomic.Int64 // GetQueryResults pages
	Rows         atomic.Int64 // result rows (header rows not counted)
	BytesScanned atomic.Int64 // data scanned by the queries that succeeded (what Athena bills)
	Stopped      atomic.Int64 // queries stopped after a cancellation
}

// AthenaSource reads root-relevant records of a CloudTrail table through
// Athena: the filter runs in Athena, only the kept shapes come back. Each
// FileRef is a virtual file holding one delivery day of the trail (one
// query; the whole window for a table without a day partition) whose reader
// streams the result rows, rebuilt as CloudTrail record JSON, as a
// {"Records":[…]} document. See docs/sources.md and docs/scale.md.
type AthenaSource struct {
	client *athena.Client
	u      AthenaURL
	opts   AthenaOptions
	plan   *athenaPlan
	sem    chan struct{}
	mu     sync.Mutex
	done   map[string]string // SQL hash → id of a query that succeeded (reused by a retry)
	Stats  AthenaStats
}

// NewAthenaSource creates the table when the URL asks for it, then reads
// the table's columns and partition keys (GetTableMetadata), so a missing
// table, missing permissions or a table that is not CloudTrail's are
// reported before any work starts.
func NewAthenaSource(ctx context.Context, client *athena.Client, u AthenaURL, opts AthenaOptions) (*AthenaSource, error) {
	if client == nil {
		return nil, errors.New("athena source: nil client")
	}
	for _, a := range opts.Accounts {
		if !IsAccountID(a) {
			return nil, fmt.Errorf("athena source: %q is not a 12-digit account ID", a)
		}
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = 200 * time.Millisecond
	}
	if opts.PollBase <= 0 {
		opts.PollBase = 250 * time.Millisecond
	}
	if opts.PollMax < opts.PollBase {
		opts.PollMax = max(5*time.Second, opts.PollBase)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Partition == "" {
		opts.Partition = partitionOfRegion(client.Options().Region)
	}
	if u.Parallel <= 0 {
		u.Parallel = DefaultAthenaParallel
	}
	s := &AthenaSource{client: client, u: u, opts: opts, sem: make(chan struct{}, u.Parallel), done: map[string]string{}}
	if u.Create {
		db, err := AthenaCreateDatabaseSQL(u)
		if err != nil {
			return nil, err
		}
		if _, err := s.execute(ctx, db, false, "create database "+u.Database); err != nil {
			return nil, fmt.Errorf("%s: %w", u, err)
		}
		tbl, err := AthenaCreateTableSQL(u, opts.Partition)
		if err != nil {
			return nil, err
		}
		if _, err := s.execute(ctx, tbl, true, "create table "+u.Database+"."+u.Table); err != nil {
			return nil, fmt.Errorf("%s: %w", u, err)
		}
	}
	out, err := s.client.GetTableMetadata(ctx, &athena.GetTableMetadataInput{
		CatalogName: aws.String(u.Catalog), DatabaseName: aws.String(u.Database), TableName: aws.String(u.Table),
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, s.apiError("get table metadata", u.Database+"."+u.Table, err))
	}
	if s.plan, err = planFromMetadata(out.TableMetadata); err != nil {
		return nil, fmt.Errorf("%s: table %s.%s: %w", u, u.Database, u.Table, err)
	}
	return s, nil
}

func (s *AthenaSource) String() string { return s.u.String() }

// colKind says how a result column becomes a record field.
type colKind uint8

const (
	colString   colKind = iota // a string
	colBool                    // "true"/"false" become JSON booleans
	colJSON                    // JSON of a struct, array or map: field names restored
	colEmbedded                // a string column holding CloudTrail's own JSON (requestParameters…)
)

// athenaColumn is one selected column.
type athenaColumn struct {
	Name  string // the table's column name, lower case; the result alias
	Field string // the CloudTrail record field
	Expr  string // the select expression
	kind  colKind
	row   bool // a struct: its JSON must be an object
}

// athenaPlan is what a table's metadata decides about the query.
type athenaPlan struct {
	Columns         []athenaColumn
	DayKey          string // partition key of the delivery day; "" when none
	dayLayout       string // its Go time layout
	AccountKey      string
	RegionKey       string
	injected        map[string]bool // partition keys whose projection is injected
	rangeStart      time.Time       // the day projection's first day, when known
	unknownInjected []string
}

// embeddedJSONColumns hold CloudTrail's nested objects as JSON text.
var embeddedJSONColumns = map[string]bool{
	"requestparameters": true, "responseelements": true, "additionaleventdata": true,
	"serviceeventdetails": true, "edgedevicedetails": true, "insightdetails": true,
}

var boolColumns = map[string]bool{"readonly": true, "managementevent": true}

// planFromMetadata maps a table's columns and partition keys to the query:
// every column is selected (so the rebuilt record holds what the table
// holds), struct/array/map columns as JSON.
func planFromMetadata(m *atypes.TableMetadata) (*athenaPlan, error) {
	if m == nil {
		return nil, errors.New("no table metadata")
	}
	p := &athenaPlan{injected: map[string]bool{}}
	have := map[string]string{}
	for _, c := range m.Columns {
		name := strings.ToLower(aws.ToString(c.Name))
		typ := strings.ToLower(strings.TrimSpace(aws.ToString(c.Type)))
		if name == "" || have[name] != "" {
			continue
		}
		have[name] = typ
		col := athenaColumn{Name: name, Field: athenaField(name), Expr: sqlIdent(name)}
		switch {
		case strings.HasPrefix(typ, "struct") || strings.HasPrefix(typ, "array") || strings.HasPrefix(typ, "map") ||
			strings.HasPrefix(typ, "row"):
			col.Expr, col.kind = "json_format(CAST("+sqlIdent(name)+" AS JSON))", colJSON
			col.row = strings.HasPrefix(typ, "struct") || strings.HasPrefix(typ, "row")
		case typ == "boolean":
			col.Expr, col.kind = "CAST("+sqlIdent(name)+" AS VARCHAR)", colBool
		case strings.HasPrefix(typ, "timestamp"):
			col.Expr = "to_iso8601(" + sqlIdent(name) + ")"
		case typ == "string" || strings.HasPrefix(typ, "varchar") || strings.HasPrefix(typ, "char") || typ == "":
			switch {
			case embeddedJSONColumns[name]:
				col.kind = colEmbedded
			case boolColumns[name]:
				col.kind = colBool
			}
		default:
			col.Expr = "CAST(" + sqlIdent(name) + " AS VARCHAR)"
		}
		p.Columns = append(p.Columns, col)
	}
	for _, need := range []string{"eventid", "eventtime", "eventsource", "eventname", "useridentity"} {
		if _, ok := have[need]; !ok {
			return nil, fmt.Errorf("no %s column: not a CloudTrail table", need)
		}
	}
	if t := have["useridentity"]; !strings.HasPrefix(t, "struct") && !strings.HasPrefix(t, "row") {
		return nil, fmt.Errorf("column useridentity is %s, not a struct: not the CloudTrail table layout", t)
	}
	params := map[string]string{}
	for k, v := range m.Parameters {
		params[strings.ToLower(k)] = strings.TrimSpace(v)
	}
	projected := strings.EqualFold(params["projection.enabled"], "true")
	for _, c := range m.PartitionKeys {
		k := strings.ToLower(aws.ToString(c.Name))
		ptype := ""
		if projected {
			ptype = strings.ToLower(params["projection."+k+".type"])
		}
		if ptype == "injected" {
			p.injected[k] = true
		}
		switch {
		case p.DayKey == "" && (ptype == "date" || k == "timestamp" || k == "date" || k == "dt" || k == "day"):
			format := params["projection."+k+".format"]
			if format == "" {
				format = "yyyy/MM/dd"
			}
			layout, ok := map[string]string{"yyyy/MM/dd": "2006/01/02", "yyyy-MM-dd": "2006-01-02", "yyyyMMdd": "20060102"}[format]
			if !ok {
				return nil, fmt.Errorf("day partition %s has format %q; supported: yyyy/MM/dd, yyyy-MM-dd, yyyyMMdd", k, format)
			}
			p.DayKey, p.dayLayout = k, layout
			if r, _, ok := strings.Cut(params["projection."+k+".range"], ","); ok {
				if t, err := time.Parse(layout, strings.TrimSpace(r)); err == nil {
					p.rangeStart = t
				}
			}
		case p.AccountKey == "" && (k == "account" || k == "accountid" || k == "account_id"):
			p.AccountKey = k
		case p.RegionKey == "" && (k == "region" || k == "aws_region"):
			p.RegionKey = k
		case ptype == "injected":
			p.unknownInjected = append(p.unknownInjected, k)
		}
	}
	if len(p.unknownInjected) > 0 {
		return nil, fmt.Errorf("partition keys %s are injected and rootaudit cannot supply their values", strings.Join(p.unknownInjected, ", "))
	}
	return p, nil
}

// athenaFields restores CloudTrail's field names from the lower-case names
// the Glue catalog keeps.
var athenaFields = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{
		"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
		"userAgent", "errorCode", "errorMessage", "requestParameters", "responseElements", "additionalEventData",
		"requestID", "eventID", "readOnly", "resources", "eventType", "apiVersion", "managementEvent",
		"recipientAccountId", "serviceEventDetails", "sharedEventID", "vpcEndpointId", "vpcEndpointAccountId",
		"eventCategory", "addendum", "sessionCredentialFromConsole", "edgeDeviceDetails", "tlsDetails", "insightDetails",
		// userIdentity and below
		"type", "principalId", "arn", "accountId", "invokedBy", "accessKeyId", "userName", "onBehalfOf", "userId",
		"identityStoreArn", "sessionContext", "attributes", "mfaAuthenticated", "creationDate", "sessionIssuer",
		"sourceIdentity", "ec2RoleDelivery", "ec2IssuedInVPC", "assumedRoot", "webIdFederationData", "federatedProvider",
		"credentialId", "identityProvider", "inScopeOf", "issuerType", "credentialsIssuedTo",
		// addendum, tlsDetails
		"reason", "updatedFields", "originalRequestID", "originalEventID", "tlsVersion", "cipherSuite",
		"clientProvidedHostHeader",
	} {
		m[strings.ToLower(n)] = n
	}
	return m
}()

func athenaField(lower string) string {
	if n, ok := athenaFields[lower]; ok {
		return n
	}
	return lower
}

// selectData is what select.sql.tmpl renders.
type selectData struct {
	Block            string
	Database, Table  string
	Columns          []athenaColumn
	DayKey           string
	FromDay, ToDay   string
	FromTime, ToTime string
	AccountKey       string
	Accounts         []string
	RegionKey        string
	Regions          []string
	Switches         []string
	ServiceAccess    []string
}

func renderSelect(d selectData) (string, error) {
	sw := make([]string, 0, len(orgSwitches))
	for n := range orgSwitches {
		sw = append(sw, n)
	}
	sort.Strings(sw)
	d.Switches, d.ServiceAccess = sw, []string{"DisableAWSServiceAccess", "EnableAWSServiceAccess"}
	return renderAthena("select.sql.tmpl", d)
}

// athenaBlock is one query: a delivery day, or a span of event time on a
// table without a day partition.
type athenaBlock struct {
	name     string // 2026-05-14, or 2026-05-13..2026-05-21
	day      time.Time
	from, to time.Time // event-time span (no day partition)
	final    bool
}

// blocks returns the window's queries, newest first: one per delivery day
// that f wants (as for log files: one day of margin each side, never after
// today), or one for the whole window with the same margins on event time
// when the table has no day partition.
func (s *AthenaSource) blocks(f *Filter) ([]athenaBlock, error) {
	now := s.opts.Now().UTC()
	var since, until time.Time
	if f != nil {
		since, until = f.Since.UTC(), f.Until.UTC()
	}
	if until.IsZero() || until.After(now) {
		until = now
	}
	settled := func(end time.Time) bool { return !end.After(now.Add(-athenaSettle)) }
	if s.plan.DayKey == "" {
		b := athenaBlock{to: until.Add(DayMargin)}
		if !since.IsZero() {
			b.from = since.Add(-DayMargin)
		}
		b.name = b.from.Format("2006-01-02") + ".." + b.to.Format("2006-01-02")
		if since.IsZero() {
			b.name = "all.." + b.to.Format("2006-01-02")
		}
		b.final = settled(b.to)
		return []athenaBlock{b}, nil
	}
	if since.IsZero() {
		// One query per delivery day since 2013 is not what anyone wants
		// from --all: the window must be named.
		return nil, errors.New("reads a window of delivery days, one query per day: pass --since instead of --all")
	}
	today := now.Truncate(24 * time.Hour)
	var out []athenaBlock
	for d := since.Truncate(24*time.Hour).AddDate(0, 0, -2); !d.After(today) && d.Before(until.Add(2*DayMargin)); d = d.AddDate(0, 0, 1) {
		if !f.WantDay(d) || (!s.plan.rangeStart.IsZero() && d.Before(s.plan.rangeStart)) {
			continue
		}
		out = append(out, athenaBlock{name: d.Format("2006-01-02"), day: d, final: settled(d.AddDate(0, 0, 1))})
	}
	slices.Reverse(out)
	return out, nil
}

// List sends one FileRef per query of the window. Each names the day (or
// span) and carries an ETag that hashes the query text, so a changed filter
// (accounts, regions) reads the day again; a day that is not over carries
// the run's time too and is read on every run.
func (s *AthenaSource) List(ctx context.Context, f *Filter, out chan<- FileRef) error {
	blocks, err := s.blocks(f)
	if err != nil {
		return fmt.Errorf("%s: %w", s.u, err)
	}
	var accounts, regions []string
	if s.plan.AccountKey != "" {
		for _, a := range s.opts.Accounts {
			if f.WantAccount(a) {
				accounts = append(accounts, a)
			}
		}
		if s.opts.Accounts == nil && f != nil {
			for a := range f.Accounts {
				accounts = append(accounts, a)
			}
		}
		for _, a := range accounts {
			if !IsAccountID(a) {
				return fmt.Errorf("%s: %q is not a 12-digit account ID", s.u, a)
			}
		}
		sort.Strings(accounts)
		accounts = slices.Compact(accounts)
		if len(accounts) == 0 && s.plan.injected[s.plan.AccountKey] {
			if s.opts.Accounts != nil {
				return nil // the filter left no account of the list
			}
			return fmt.Errorf("%s: the table's %s partition is injected: name the accounts with --accounts FILE or --account", s.u, s.plan.AccountKey)
		}
	}
	if s.plan.RegionKey != "" && f != nil {
		for r := range f.Regions {
			if !isRegion(r) {
				return fmt.Errorf("%s: %q is not a region name", s.u, r)
			}
			regions = append(regions, r)
		}
		sort.Strings(regions)
		if len(regions) == 0 && s.plan.injected[s.plan.RegionKey] {
			return fmt.Errorf("%s: the table's %s partition is injected: name the regions with --region", s.u, s.plan.RegionKey)
		}
	}
	now := s.opts.Now().UTC()
	for _, b := range blocks {
		sql, err := s.selectFor(b, accounts, regions)
		if err != nil {
			return err
		}
		sum := sha256.Sum256([]byte(athenaFormat + "\n" + sql))
		ref := FileRef{
			Source:  fmt.Sprintf("athena://%s/%s/%s/%s", s.u.WorkGroup, s.u.Database, s.u.Table, b.name),
			Key:     KeyInfo{Kind: KindLog},
			ETag:    hex.EncodeToString(sum[:16]),
			ModTime: b.day,
		}
		hash := ref.ETag
		if !b.final {
			ref.ETag += "+open@" + now.Format(time.RFC3339Nano)
		}
		source := ref.Source
		ref.Open = func(ctx context.Context) (io.ReadCloser, error) { return s.open(ctx, source, sql, hash) }
		if err := sendRef(ctx, out, ref); err != nil {
			return err
		}
	}
	return nil
}

// selectFor renders the query of one block.
func (s *AthenaSource) selectFor(b athenaBlock, accounts, regions []string) (string, error) {
	d := selectData{Database: s.u.Database, Table: s.u.Table, Columns: s.plan.Columns,
		AccountKey: s.plan.AccountKey, Accounts: accounts, RegionKey: s.plan.RegionKey, Regions: regions}
	if s.plan.DayKey != "" {
		d.Block = "delivery day " + b.day.Format("2006-01-02")
		d.DayKey, d.FromDay, d.ToDay = s.plan.DayKey, b.day.Format(s.plan.dayLayout), b.day.Format(s.plan.dayLayout)
	} else {
		d.Block = "event time " + b.name
		d.FromTime, d.ToTime = b.from.Format(time.RFC3339), b.to.Format(time.RFC3339)
		if b.from.IsZero() {
			d.FromTime = ""
		}
	}
	return renderSelect(d)
}

// open runs the block's query (at most Parallel at once) and returns the
// reader of its results. A query that already succeeded in this run (the
// file is read again after a transient failure while paging) is not run
// again.
func (s *AthenaSource) open(ctx context.Context, source, sql, hash string) (io.ReadCloser, error) {
	s.mu.Lock()
	qid, ok := s.done[hash]
	s.mu.Unlock()
	if !ok {
		select {
		case s.sem <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		var err error
		qid, err = s.execute(ctx, sql, true, source)
		<-s.sem
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.done[hash] = qid
		s.mu.Unlock()
	}
	r := &athenaReader{ctx: ctx, s: s, qid: qid, what: source}
	r.docReader.fill = r.fill
	return r, nil
}

// execute starts a query and waits for it to succeed. inDB runs it in the
// URL's database (CREATE DATABASE runs outside it).
func (s *AthenaSource) execute(ctx context.Context, sql string, inDB bool, what string) (string, error) {
	if err := ctx.Err(); err != nil {
		// Never start a query that nobody will wait for (or stop).
		return "", fmt.Errorf("athena start query (%s): %w", what, err)
	}
	qc := &atypes.QueryExecutionContext{Catalog: aws.String(s.u.Catalog)}
	if inDB {
		qc.Database = aws.String(s.u.Database)
	}
	// The request token makes the start idempotent: the same token gets
	// the same query, which is how a start cut short by a cancellation
	// learns the id of the query it may have started, to stop it.
	var tok [16]byte
	rand.Read(tok[:])
	in := &athena.StartQueryExecutionInput{QueryString: aws.String(sql), WorkGroup: aws.String(s.u.WorkGroup), QueryExecutionContext: qc,
		ClientRequestToken: aws.String(hex.EncodeToString(tok[:]))}
	if s.u.Output != "" {
		in.ResultConfiguration = &atypes.ResultConfiguration{OutputLocation: aws.String(s.u.Output)}
	}
	out, err := s.client.StartQueryExecution(ctx, in)
	if err != nil {
		if ctx.Err() != nil {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), athenaStopTimeout)
			if again, err := s.client.StartQueryExecution(sctx, in); err == nil && aws.ToString(again.QueryExecutionId) != "" {
				s.stop(ctx, aws.ToString(again.QueryExecutionId))
			}
			cancel()
			return "", fmt.Errorf("athena start query (%s): %w", what, ctx.Err())
		}
		return "", s.apiError("start query", what, err)
	}
	qid := aws.ToString(out.QueryExecutionId)
	if qid == "" {
		return "", fmt.Errorf("athena start query (%s): no query execution id in the response", what)
	}
	s.Stats.Queries.Add(1)
	return qid, s.wait(ctx, qid, what)
}

// wait polls GetQueryExecution with a doubling interval until the query
// ends. On cancellation it sends StopQueryExecution, so a Ctrl-C does not
// leave a query running (and billing) in Athena.
func (s *AthenaSource) wait(ctx context.Context, qid, what string) error {
	delay := s.opts.PollBase
	failures := 0
	for {
		out, err := s.client.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: aws.String(qid)})
		switch {
		case ctx.Err() != nil:
			s.stop(ctx, qid)
			return fmt.Errorf("athena query %s (%s): %w (stopped)", qid, what, ctx.Err())
		case err != nil:
			aerr := s.apiError("get query execution "+qid, what, err)
			if !IsTransient(aerr) || failures >= s.opts.Retries {
				s.stop(ctx, qid)
				return aerr
			}
			failures++
		default:
			s.Stats.Polls.Add(1)
			var st *atypes.QueryExecutionStatus
			if out.QueryExecution != nil {
				st = out.QueryExecution.Status
			}
			if st == nil {
				return fmt.Errorf("athena query %s (%s): GetQueryExecution answered without a status", qid, what)
			}
			switch st.State {
			case atypes.QueryExecutionStateSucceeded:
				if stats := out.QueryExecution.Statistics; stats != nil {
					s.Stats.BytesScanned.Add(aws.ToInt64(stats.DataScannedInBytes))
				}
				return nil
			case atypes.QueryExecutionStateFailed:
				return athenaFailure(qid, what, st)
			case atypes.QueryExecutionStateCancelled:
				return fmt.Errorf("athena query %s (%s) was cancelled outside rootaudit: %s", qid, what, athenaReason(st))
			}
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			s.stop(ctx, qid)
			return fmt.Errorf("athena query %s (%s): %w (stopped)", qid, what, ctx.Err())
		}
		delay = min(2*delay, s.opts.PollMax)
	}
}

// stop asks Athena to stop a query, on a context of its own: the run's is
// usually the one that was cancelled.
func (s *AthenaSource) stop(ctx context.Context, qid string) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), athenaStopTimeout)
	defer cancel()
	if _, err := s.client.StopQueryExecution(sctx, &athena.StopQueryExecutionInput{QueryExecutionId: aws.String(qid)}); err == nil {
		s.Stats.Stopped.Add(1)
	}
}

func athenaReason(st *atypes.QueryExecutionStatus) string {
	reason := aws.ToString(st.StateChangeReason)
	if e := st.AthenaError; e != nil && aws.ToString(e.ErrorMessage) != "" && aws.ToString(e.ErrorMessage) != reason {
		if reason != "" {
			reason += "; "
		}
		reason += aws.ToString(e.ErrorMessage)
	}
	if reason == "" {
		reason = "no reason given"
	}
	return reason
}

// athenaFailure is the error of a FAILED query: Athena's own reason, and a
// TransientError when Athena says trying again can succeed.
func athenaFailure(qid, what string, st *atypes.QueryExecutionStatus) error {
	err := fmt.Errorf("athena query %s (%s) failed: %s", qid, what, athenaReason(st))
	if st.AthenaError != nil && st.AthenaError.Retryable {
		return &TransientError{err}
	}
	return err
}

// apiError says what a failed Athena call needs.
func (s *AthenaSource) apiError(op, what string, err error) error {
	code, msg, status, _ := s3Details(err)
	switch {
	case isS3Transient(err, code, status):
		return &TransientError{fmt.Errorf("athena %s (%s): %w", op, what, err)}
	case code == "AccessDeniedException" || code == "AccessDenied" || status == 403:
		return fmt.Errorf("athena %s (%s): %w: see docs/iam.md, `ingest athena://` (%s: %s)", op, what, ErrS3AccessDenied, code, msg)
	case code == "" && status == 0 && isCredentialsError(err):
		return fmt.Errorf("athena %s (%s): %w: %v", op, what, ErrS3NoCredentials, err)
	case msg != "":
		return fmt.Errorf("athena %s (%s): %s: %s", op, what, code, msg)
	}
	return fmt.Errorf("athena %s (%s): %w", op, what, err)
}

// athenaReader streams one query's result rows as a {"Records":[…]}
// document, one GetQueryResults page at a time.
type athenaReader struct {
	ctx     context.Context
	s       *AthenaSource
	qid     string
	what    string
	token   *string
	started bool
	paged   bool // the first page (with the header row) was read
	records int
	docReader
	p fastjson.Parser
}

func (r *athenaReader) fill() error {
	if !r.started {
		r.started = true
		r.buf = append(r.buf, `{"Records":[`...)
		return nil
	}
	out, err := r.page()
	if err != nil {
		return err
	}
	var rows []atypes.Row
	if out.ResultSet != nil {
		rows = out.ResultSet.Rows
	}
	if !r.paged {
		r.paged = true
		// The first row of a SELECT's first page repeats the column names.
		if len(rows) == 0 || !r.isHeader(rows[0]) {
			return fmt.Errorf("athena query %s (%s): the first result row is not the header of the selected columns", r.qid, r.what)
		}
		rows = rows[1:]
	}
	for i := range rows {
		if r.records > 0 {
			r.buf = append(r.buf, ',')
		}
		if r.buf, err = r.s.plan.appendRecord(r.buf, rows[i].Data, &r.p); err != nil {
			return fmt.Errorf("athena query %s (%s): result row %d: %w", r.qid, r.what, r.records+1, err)
		}
		r.records++
	}
	r.s.Stats.Rows.Add(int64(len(rows)))
	if aws.ToString(out.NextToken) == "" {
		r.buf = append(r.buf, "]}"...)
		r.done = true
		return nil
	}
	r.token = out.NextToken
	return nil
}

func (r *athenaReader) isHeader(row atypes.Row) bool {
	cols := r.s.plan.Columns
	if len(row.Data) != len(cols) {
		return false
	}
	for i, d := range row.Data {
		if !strings.EqualFold(aws.ToString(d.VarCharValue), cols[i].Name) {
			return false
		}
	}
	return true
}

// page gets one page of results, retried with backoff after a transient
// failure (the results stay in S3, so the same token can be asked again).
func (r *athenaReader) page() (*athena.GetQueryResultsOutput, error) {
	in := &athena.GetQueryResultsInput{QueryExecutionId: aws.String(r.qid), NextToken: r.token, MaxResults: aws.Int32(athenaPageSize)}
	for attempt := 0; ; attempt++ {
		out, err := r.s.client.GetQueryResults(r.ctx, in)
		if err == nil {
			r.s.Stats.Pages.Add(1)
			return out, nil
		}
		if r.ctx.Err() != nil {
			return nil, fmt.Errorf("athena get query results %s (%s): %w", r.qid, r.what, r.ctx.Err())
		}
		aerr := r.s.apiError("get query results "+r.qid, r.what, err)
		if !IsTransient(aerr) || attempt >= r.s.opts.Retries {
			return nil, aerr
		}
		if err := sleepBackoff(r.ctx, r.s.opts.RetryBase, attempt); err != nil {
			return nil, fmt.Errorf("athena get query results %s (%s): %w", r.qid, r.what, err)
		}
	}
}

// appendRecord rebuilds one CloudTrail record from a result row: the
// CloudTrail field names, struct columns from their JSON with their field
// names restored, requestParameters and the like embedded as the JSON they
// hold, NULLs left out (as CloudTrail leaves absent fields out).
func (p *athenaPlan) appendRecord(dst []byte, row []atypes.Datum, jp *fastjson.Parser) ([]byte, error) {
	if len(row) != len(p.Columns) {
		return dst, fmt.Errorf("%d values for %d columns", len(row), len(p.Columns))
	}
	dst = append(dst, '{')
	n := 0
	for i, c := range p.Columns {
		if row[i].VarCharValue == nil {
			continue
		}
		v := *row[i].VarCharValue
		if !utf8.ValidString(v) {
			return dst, fmt.Errorf("column %s is not valid UTF-8", c.Name)
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = appendJSONString(dst, c.Field)
		dst = append(dst, ':')
		switch c.kind {
		case colBool:
			if lv := strings.ToLower(v); lv == "true" || lv == "false" {
				dst = append(dst, lv...)
				continue
			}
			dst = appendJSONString(dst, v)
		case colJSON:
			jv, err := jp.Parse(v)
			if err != nil {
				return dst, fmt.Errorf("column %s: invalid JSON from Athena: %w", c.Name, err)
			}
			if c.row && jv.Type() != fastjson.TypeObject {
				// A ROW cast to JSON is an array on old engines: the
				// field names are lost.
				return dst, fmt.Errorf("column %s came back as a JSON array, not an object: use Athena engine version 3", c.Name)
			}
			dst = appendRenamed(dst, jv, renameAll, 0)
		case colEmbedded:
			jv, err := jp.Parse(v)
			if err == nil && (jv.Type() == fastjson.TypeObject || jv.Type() == fastjson.TypeArray) {
				dst = appendRenamed(dst, jv, renameNone, 0)
				continue
			}
			dst = appendJSONString(dst, v)
		default:
			dst = appendJSONString(dst, v)
		}
	}
	return append(dst, '}'), nil
}

// Renaming modes of appendRenamed.
const (
	renameNone = iota // CloudTrail's own JSON: names as they are
	renameAll         // a struct from the catalog: lower-case names restored
	renameFed         // inside webIdFederationData: its attributes map keeps its keys
)

// appendRenamed writes v as JSON, dropping null object members and
// restoring field names as mode says. Depth is bounded (the decoder
// refuses deeper records anyway).
func appendRenamed(dst []byte, v *fastjson.Value, mode, depth int) []byte {
	if depth > 64 {
		return append(dst, "null"...)
	}
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		dst = append(dst, '{')
		n := 0
		o.Visit(func(k []byte, c *fastjson.Value) {
			if c.Type() == fastjson.TypeNull && mode != renameNone {
				return
			}
			if n > 0 {
				dst = append(dst, ',')
			}
			n++
			name, child := string(k), mode
			switch mode {
			case renameAll:
				name = athenaField(name)
				if name == "webIdFederationData" {
					child = renameFed
				}
			case renameFed:
				name = athenaField(name)
				if name == "attributes" {
					child = renameNone
				} else {
					child = renameAll
				}
			}
			dst = appendJSONString(dst, name)
			dst = append(dst, ':')
			dst = appendRenamed(dst, c, child, depth+1)
		})
		return append(dst, '}')
	case fastjson.TypeArray:
		a, _ := v.Array()
		dst = append(dst, '[')
		for i, c := range a {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendRenamed(dst, c, mode, depth+1)
		}
		return append(dst, ']')
	case fastjson.TypeString:
		// fastjson keeps a string as it came and accepts raw control
		// characters in it, which JSON does not: write the decoded text
		// again, escaped (FuzzAthenaRecord found this).
		return appendJSONString(dst, string(v.GetStringBytes()))
	case fastjson.TypeNumber:
		// Likewise a number is kept as its text; fastjson is laxer than
		// JSON about it (a leading zero, a bare minus sign).
		raw := v.MarshalTo(nil)
		if !json.Valid(raw) {
			return appendJSONString(dst, string(raw))
		}
		return append(dst, raw...)
	}
	return v.MarshalTo(dst)
}

// appendJSONString writes s as a JSON string.
func appendJSONString(dst []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
