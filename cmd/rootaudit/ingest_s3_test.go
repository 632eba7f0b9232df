package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"golang.org/x/sync/errgroup"

	"github.com/rootaudit/rootaudit/fixtures"
	"github.com/rootaudit/rootaudit/query"
)

const (
	s3Bucket    = "org-trail-logs"
	s3AccessKey = "test"
	s3Secret    = "testsecret"
)

// The S3 test harness of package ingest (ingest/internal/s3test) cannot be
// imported from here, so this file carries the little it needs: a real
// S3 server (versitygw, or gofakes3 in-process when versitygw is missing
// and CI is not "true"), an uploader, and a proxy that injects faults and
// counts requests.

// startS3 runs an S3 server signing for region and returns its endpoint.
func startS3(t *testing.T, region string) string {
	t.Helper()
	bin, err := exec.LookPath("versitygw")
	if err != nil {
		if out, gerr := exec.Command("go", "env", "GOPATH").Output(); gerr == nil {
			for _, gp := range filepath.SplitList(strings.TrimSpace(string(out))) {
				if _, serr := os.Stat(filepath.Join(gp, "bin", "versitygw")); serr == nil {
					bin, err = filepath.Join(gp, "bin", "versitygw"), nil
				}
			}
		}
	}
	if os.Getenv("S3TEST_SERVER") == "gofakes3" {
		err = errors.New("forced") // exercise the fallback
	} else if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("versitygw not installed: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0")
		}
	}
	if err != nil {
		t.Log("using gofakes3 in-process instead of versitygw")
		ts := httptest.NewServer(gofakes3.New(s3mem.New(), gofakes3.WithTimeSkewLimit(0)).Server())
		t.Cleanup(ts.Close)
		return ts.URL
	}
	for try := 0; ; try++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		root := t.TempDir()
		cmd := exec.Command(bin, "--quiet", "--keep-alive", "--region", region, "--port", addr, "posix", root)
		cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+s3AccessKey, "ROOT_SECRET_ACCESS_KEY="+s3Secret)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		up := false
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			select {
			case <-exited:
			default:
				if c, err := net.Dial("tcp", addr); err == nil {
					c.Close()
					up = true
				}
			}
			if up || isClosed(exited) {
				break
			}
		}
		if up {
			t.Cleanup(func() { cmd.Process.Kill(); <-exited })
			return "http://" + addr
		}
		cmd.Process.Kill()
		<-exited
		if try == 2 {
			t.Fatal("versitygw did not start")
		}
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func s3TestClient(endpoint, region string) *s3.Client {
	return s3.New(s3.Options{
		Region: region, BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(s3AccessKey, s3Secret, ""),
		DisableLogOutputChecksumValidationSkipped: true,
	})
}

// uploadTree creates the bucket and puts every file under dir at its
// relative path.
func uploadTree(t *testing.T, c *s3.Client, dir string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s3Bucket)}); err != nil {
		t.Fatal(err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		g.Go(func() error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = c.PutObject(gctx, &s3.PutObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String(filepath.ToSlash(rel)), Body: bytes.NewReader(b)})
			return err
		})
		return nil
	})
	if werr := g.Wait(); err == nil {
		err = werr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// faultProxy forwards to an S3 server. fault, when set, picks what to do
// with the n-th GET of a key: "" (forward), "503", "reset" (after 64 bytes
// of the body), "truncate" (close after 40 bytes), "stall" (60 ms pause
// after 16 bytes). With region set it answers like S3 for a bucket in that
// region: requests signed for another one get 301 and x-amz-bucket-region.
type faultProxy struct {
	URL     string
	region  string
	mu      sync.Mutex
	fault   func(key string, n int) string
	gets    map[string]int
	lists   int
	target  string
	roles   []string // AssumeRole calls: "AssumeRole ROLE_ARN SESSION"
	denySTS bool
	// ops records the IAM action every S3 request needs, with what the
	// policy's conditions look at: "s3:GetObject KEY" or
	// "s3:ListBucket PREFIX DELIMITER"; anything else as "other METHOD URL".
	ops []string
}

var sigRegion = regexp.MustCompile(`Credential=[^/]+/[0-9]+/([^/]+)/`)

func newFaultProxy(t *testing.T, target string) *faultProxy {
	t.Helper()
	p := &faultProxy{gets: map[string]int{}, target: strings.TrimPrefix(target, "http://")}
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/" {
			p.assumeRole(w, r)
			return
		}
		if p.region != "" {
			if m := sigRegion.FindStringSubmatch(r.Header.Get("Authorization")); m == nil || m[1] != p.region {
				w.Header().Set("X-Amz-Bucket-Region", p.region)
				w.WriteHeader(http.StatusMovedPermanently)
				fmt.Fprint(w, `<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message></Error>`)
				return
			}
		}
		_, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		what := ""
		p.mu.Lock()
		switch {
		case r.Method == http.MethodGet && key != "":
			p.ops = append(p.ops, "s3:GetObject "+key)
		case r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2":
			p.ops = append(p.ops, "s3:ListBucket "+r.URL.Query().Get("prefix")+" "+r.URL.Query().Get("delimiter"))
		default:
			p.ops = append(p.ops, "other "+r.Method+" "+r.URL.String())
		}
		switch {
		case r.Method == http.MethodGet && key != "":
			p.gets[key]++
			if p.fault != nil {
				what = p.fault(key, p.gets[key])
			}
		case r.Method == http.MethodGet:
			p.lists++
		}
		p.mu.Unlock()
		if what == "503" {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
			return
		}
		out := r.Clone(r.Context())
		out.RequestURI, out.URL.Scheme, out.URL.Host, out.Host = "", "http", p.target, r.Host
		if r.ContentLength == 0 {
			out.Body = nil
		}
		resp, err := tr.RoundTrip(out)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		cut := map[string]int64{"reset": 64, "truncate": 40, "stall": 16}[what]
		if cut == 0 {
			io.Copy(w, resp.Body)
			return
		}
		io.CopyN(w, resp.Body, cut)
		w.(http.Flusher).Flush()
		if what == "stall" {
			select {
			case <-time.After(60 * time.Millisecond):
				io.Copy(w, resp.Body)
			case <-r.Context().Done():
			}
			return
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok && what == "reset" {
			tc.SetLinger(0)
		}
		conn.Close()
	}))
	t.Cleanup(ts.Close)
	p.URL = ts.URL
	return p
}

// assumeRole plays STS (AWS_ENDPOINT_URL_STS points here): it records the
// role and hands out the S3 server's own keys, or denies.
func (p *faultProxy) assumeRole(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	p.mu.Lock()
	p.roles = append(p.roles, r.PostForm.Get("Action")+" "+r.PostForm.Get("RoleArn")+" "+r.PostForm.Get("RoleSessionName"))
	deny := p.denySTS
	p.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	if deny {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::111122223333:user/auditor is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::999988887777:role/LogReader</Message></Error><RequestId>sts-1</RequestId></ErrorResponse>`)
		return
	}
	fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:rootaudit</AssumedRoleId><Arn>arn:aws:sts::999988887777:assumed-role/LogReader/rootaudit</Arn></AssumedRoleUser><Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken></SessionToken><Expiration>%s</Expiration></Credentials></AssumeRoleResult><ResponseMetadata><RequestId>sts-2</RequestId></ResponseMetadata></AssumeRoleResponse>`,
		s3AccessKey, s3Secret, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
}

func (p *faultProxy) set(fault func(key string, n int) string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault, p.gets, p.lists = fault, map[string]int{}, 0
}

func (p *faultProxy) counts() (gets map[string]int, total, lists int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	gets = map[string]int{}
	for k, v := range p.gets {
		gets[k] = v
		total += v
	}
	return gets, total, p.lists
}

// eventsDigest is the row count and an MD5 of the events table, every
// column but source_file, rows in event_id order.
func eventsDigest(t *testing.T, db string) (rows int, digest string) {
	t.Helper()
	d, err := query.Open(context.Background(), db, true)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.QueryRow(`SELECT count(*), coalesce(md5(string_agg(CAST(t AS VARCHAR), chr(10) ORDER BY t.event_id)), '')
		FROM (SELECT * EXCLUDE (source_file) FROM events) t`).Scan(&rows, &digest); err != nil {
		t.Fatal(err)
	}
	return rows, digest
}

func fileStatuses(t *testing.T, db string) map[string]string {
	t.Helper()
	d, err := query.Open(context.Background(), db, true)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rows, err := d.Query(`SELECT source, status FROM ingested_files WHERE kind = 'log'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var s, st string
		if err := rows.Scan(&s, &st); err != nil {
			t.Fatal(err)
		}
		out[s] = st
	}
	return out
}

// s3Env is a bucket holding a synthetic org trail (fixtures.Generate) under
// trails/, behind a fault proxy, with the AWS environment pointing the
// default credential chain at static test keys and nothing else.
type s3Env struct {
	endpoint string
	proxy    *faultProxy
	dir      string   // the bucket's content, locally
	logs     []string // keys of the log files
}

func newS3Env(t *testing.T, region string) *s3Env {
	t.Helper()
	e := &s3Env{endpoint: startS3(t, region), dir: t.TempDir()}
	_, err := fixtures.Generate(context.Background(), filepath.Join(e.dir, "trails"), fixtures.Config{
		Seed: 1, Accounts: 6, TargetBytes: 300 << 10,
		Start: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(e.dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && strings.Contains(p, "/CloudTrail/") {
			rel, _ := filepath.Rel(e.dir, p)
			e.logs = append(e.logs, filepath.ToSlash(rel))
		}
		return err
	})
	sort.Strings(e.logs)
	if len(e.logs) < 50 {
		t.Fatalf("fixtures wrote %d log files", len(e.logs))
	}
	uploadTree(t, s3TestClient(e.endpoint, region), e.dir)
	e.proxy = newFaultProxy(t, e.endpoint)
	for k, v := range awsTestEnv(region) {
		t.Setenv(k, v)
	}
	return e
}

// awsTestEnv is the environment the default credential chain reads in
// these tests: static keys, no shared files, no instance metadata.
func awsTestEnv(region string) map[string]string {
	return map[string]string{
		"AWS_ACCESS_KEY_ID":           s3AccessKey,
		"AWS_SECRET_ACCESS_KEY":       s3Secret,
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  region,
		"AWS_DEFAULT_REGION":          region,
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             filepath.Join(os.TempDir(), "rootaudit-no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(os.TempDir(), "rootaudit-no-aws-credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_ENDPOINT_URL":            "",
		"AWS_ENDPOINT_URL_S3":         "",
	}
}

func (e *s3Env) ingestArgs(db string, extra ...string) []string {
	args := []string{"ingest", "--db", db, "-q", "--endpoint-url", e.proxy.URL, "--path-style", "--since", "2026-03-01", "--until", "2026-03-15"}
	return append(append(args, extra...), "s3://"+s3Bucket+"/trails")
}

func runCmd(t *testing.T, args ...string) (stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, &out, &errOut)
	return errOut.String(), err
}

func (e *s3Env) localDigest(t *testing.T) (int, string) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "local.duckdb")
	if stderr, err := runCmd(t, "ingest", "--db", db, "-q", "--since", "2026-03-01", "--until", "2026-03-15", filepath.Join(e.dir, "trails", "AWSLogs")); err != nil {
		t.Fatalf("local ingest: %v\n%s", err, stderr)
	}
	return eventsDigest(t, db)
}

func (e *s3Env) checkAllOK(t *testing.T, db string) {
	t.Helper()
	st := fileStatuses(t, db)
	for _, k := range e.logs {
		if st["s3://"+s3Bucket+"/"+k] != "ok" {
			t.Fatalf("%s: %q", k, st["s3://"+s3Bucket+"/"+k])
		}
	}
	if len(st) != len(e.logs) {
		t.Fatalf("%d log files recorded, want %d", len(st), len(e.logs))
	}
}

// TestIngestS3 runs `rootaudit ingest s3://…` through a proxy that resets
// one body mid-way, throttles another and cuts a third, and checks that the
// events equal a local ingest of the same tree; then that a rerun lists
// again but fetches nothing.
func TestIngestS3(t *testing.T) {
	e := newS3Env(t, "us-east-1")
	faults := map[string]string{e.logs[2]: "reset", e.logs[9]: "503", e.logs[11]: "truncate"}
	e.proxy.set(func(key string, n int) string {
		if n == 1 {
			return faults[key]
		}
		return ""
	})
	db := filepath.Join(t.TempDir(), "s3.duckdb")
	stderr, err := runCmd(t, e.ingestArgs(db, "--concurrency", "8")...)
	if err != nil {
		t.Fatalf("ingest: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, " 0 failed") || !strings.Contains(stderr, "day prefixes") {
		t.Fatalf("summary: %s", stderr)
	}
	gets, _, _ := e.proxy.counts()
	for k := range faults {
		if gets[k] != 2 {
			t.Errorf("%s fetched %d times, want 2", k, gets[k])
		}
	}
	wantRows, wantDigest := e.localDigest(t)
	if rows, digest := eventsDigest(t, db); rows != wantRows || digest != wantDigest || rows == 0 {
		t.Fatalf("S3 ingest: %d events (%s); local ingest: %d (%s)", rows, digest, wantRows, wantDigest)
	}
	e.checkAllOK(t, db)

	e.proxy.set(nil)
	if stderr, err := runCmd(t, e.ingestArgs(db)...); err != nil || !strings.Contains(stderr, "already ingested, 0 read") {
		t.Fatalf("rerun: %v\n%s", err, stderr)
	}
	if _, total, lists := e.proxy.counts(); total != 0 || lists == 0 {
		t.Fatalf("rerun made %d GETs and %d listings; want only listings", total, lists)
	}
}

// TestIngestS3FailedFile: an object cut short on every attempt fails alone,
// named in the message, and the exit code is 3.
func TestIngestS3FailedFile(t *testing.T) {
	e := newS3Env(t, "us-east-1")
	bad := e.logs[5]
	e.proxy.set(func(key string, n int) string {
		if key == bad {
			return "truncate"
		}
		return ""
	})
	db := filepath.Join(t.TempDir(), "s3.duckdb")
	stderr, err := runCmd(t, e.ingestArgs(db, "--retries", "1")...)
	if code := exitCode(err); code != exitPartial {
		t.Fatalf("exit code %d (%v), want %d\n%s", code, err, exitPartial, stderr)
	}
	if !strings.Contains(stderr, "s3://"+s3Bucket+"/"+bad) || !strings.Contains(stderr, " 1 failed") {
		t.Fatalf("stderr does not name the failed object:\n%s", stderr)
	}
	if gets, _, _ := e.proxy.counts(); gets[bad] != 2 {
		t.Fatalf("%s fetched %d times, want 2 (--retries 1)", bad, gets[bad])
	}
	st := fileStatuses(t, db)
	ok := 0
	for _, s := range st {
		if s == "ok" {
			ok++
		}
	}
	if st["s3://"+s3Bucket+"/"+bad] != "failed" || ok != len(e.logs)-1 {
		t.Fatalf("statuses: bad=%q, %d ok of %d", st["s3://"+s3Bucket+"/"+bad], ok, len(e.logs))
	}
}

// TestIngestS3Region: a bucket in another region than the client's is
// followed (x-amz-bucket-region); a missing bucket and bad arguments are
// clear errors.
func TestIngestS3Region(t *testing.T) {
	e := newS3Env(t, "eu-west-1")
	e.proxy.region = "eu-west-1"
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_DEFAULT_REGION", "us-east-1")
	db := filepath.Join(t.TempDir(), "s3.duckdb")
	stderr, err := runCmd(t, e.ingestArgs(db)...)
	if err != nil || !strings.Contains(stderr, "is in eu-west-1") {
		t.Fatalf("ingest: %v\n%s", err, stderr)
	}
	e.checkAllOK(t, db)

	_, err = runCmd(t, "ingest", "--db", db, "-q", "--endpoint-url", e.endpoint, "--path-style", "--aws-region", "eu-west-1", "s3://no-such-bucket/x")
	if exitCode(err) != exitFatal || !strings.Contains(fmt.Sprint(err), "NoSuchBucket") || !strings.Contains(fmt.Sprint(err), "s3://no-such-bucket/x") {
		t.Fatalf("missing bucket: %v", err)
	}
	for _, bad := range []string{"s3://", "s3://a/b", "s3://bucket//x"} {
		if _, err := runCmd(t, "ingest", "--db", db, "-q", bad); exitCode(err) != exitUsage {
			t.Errorf("%s: %v (exit %d), want a usage error", bad, err, exitCode(err))
		}
	}
	if _, err := runCmd(t, e.ingestArgs(db, "--concurrency", "0")...); exitCode(err) != exitUsage {
		t.Errorf("--concurrency 0: %v", err)
	}
}

// TestIngestS3RoleARN: with --role-arn every request uses the role's
// credentials (the environment's own keys are refused by the server), and a
// refused AssumeRole says which permission is missing.
func TestIngestS3RoleARN(t *testing.T) {
	e := newS3Env(t, "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAAUDITOREXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "not-the-server-secret")
	t.Setenv("AWS_ENDPOINT_URL_STS", e.proxy.URL)
	const role = "arn:aws:iam::999988887777:role/LogReader"
	db := filepath.Join(t.TempDir(), "s3.duckdb")
	if stderr, err := runCmd(t, e.ingestArgs(db)...); exitCode(err) != exitFatal {
		t.Fatalf("without --role-arn: %v\n%s", err, stderr)
	}
	if stderr, err := runCmd(t, e.ingestArgs(db, "--role-arn", role)...); err != nil {
		t.Fatalf("with --role-arn: %v\n%s", err, stderr)
	}
	e.checkAllOK(t, db)
	if len(e.proxy.roles) != 1 || e.proxy.roles[0] != "AssumeRole "+role+" rootaudit" {
		t.Fatalf("STS calls: %q", e.proxy.roles)
	}
	e.proxy.denySTS = true
	_, err := runCmd(t, e.ingestArgs(db, "--role-arn", role)...)
	if exitCode(err) != exitFatal || !strings.Contains(fmt.Sprint(err), "sts:AssumeRole") || !strings.Contains(fmt.Sprint(err), "trust policy") {
		t.Fatalf("AssumeRole denied: %v", err)
	}
}

// TestIngestS3KillAndRerun kills a real ingest process with SIGKILL twice
// while it streams from S3, then reruns; the database must end equal to a
// clean run.
func TestIngestS3KillAndRerun(t *testing.T) {
	e := newS3Env(t, "us-east-1")
	db := filepath.Join(t.TempDir(), "s3.duckdb")
	args := e.ingestArgs(db, "--workers", "1", "--concurrency", "2")
	// Every body pauses, so a run takes seconds. The first kill lands after
	// the loader's first batch commit (every 2 s), the second one early in
	// the next run, before it committed anything.
	stall := func(string, int) string { return "stall" }
	committed := 0
	for i, after := range []time.Duration{2500 * time.Millisecond, 300 * time.Millisecond} {
		e.proxy.set(stall)
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperIngestProcess$")
		cmd.Env = append(os.Environ(), "ROOTAUDIT_HELPER=1", "ROOTAUDIT_ARGS="+strings.Join(args, "\x1f"))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Time from the first GET: the child needs a moment to start.
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
			if _, total, _ := e.proxy.counts(); total > 0 {
				break
			}
		}
		time.Sleep(after)
		cmd.Process.Kill() // SIGKILL: no deferred code runs, no final commit
		cmd.Wait()
		st := fileStatuses(t, db)
		_, total, _ := e.proxy.counts()
		t.Logf("kill %d after %d GETs: %d of %d files committed", i+1, total, len(st), len(e.logs))
		if len(st) < committed || len(st) >= len(e.logs) || len(st) == 0 {
			t.Fatalf("kill %d: %d of %d files committed (%d before): the kill did not land mid-run\n%s", i+1, len(st), len(e.logs), committed, out.String())
		}
		committed = len(st)
	}
	e.proxy.set(nil)
	if stderr, err := runCmd(t, args...); err != nil {
		t.Fatalf("rerun: %v\n%s", err, stderr)
	}
	wantRows, wantDigest := e.localDigest(t)
	if rows, digest := eventsDigest(t, db); rows != wantRows || digest != wantDigest {
		t.Fatalf("after kills and rerun: %d events (%s); clean local: %d (%s)", rows, digest, wantRows, wantDigest)
	}
	e.checkAllOK(t, db)
}

// TestHelperIngestProcess is the child of TestIngestS3KillAndRerun.
func TestHelperIngestProcess(t *testing.T) {
	if os.Getenv("ROOTAUDIT_HELPER") != "1" {
		t.Skip("helper process")
	}
	err := run(context.Background(), strings.Split(os.Getenv("ROOTAUDIT_ARGS"), "\x1f"), os.Stdout, os.Stderr)
	os.Exit(exitCode(err))
}

// TestDebugNeverPrintsCredentials runs an S3 ingest with --debug under
// injected faults (so retries are logged): the secret key may not appear in
// the output, nor may the signature-bearing headers.
func TestDebugNeverPrintsCredentials(t *testing.T) {
	e := newS3Env(t, "us-east-1")
	e.proxy.set(func(key string, n int) string {
		if n == 1 { // the first GET of every key is throttled: retries get logged
			return "503"
		}
		return ""
	})
	var out, errOut bytes.Buffer
	err := run(context.Background(), e.ingestArgs(filepath.Join(t.TempDir(), "d.duckdb"), "--debug"), &out, &errOut)
	log := out.String() + errOut.String()
	if err != nil || !strings.Contains(log, "debug: ok s3://") || !strings.Contains(log, "retry") {
		t.Fatalf("--debug run: %v; want per-file and retry lines:\n%s", err, log)
	}
	for _, secret := range []string{s3Secret, "Authorization", "X-Amz-Security-Token", "Signature="} {
		if strings.Contains(log, secret) {
			t.Fatalf("--debug output contains a credential:\n%s", log)
		}
	}
}

// TestIngestS3NeedsOnlyThePolicy checks every S3 request an ingest (and an
// ingest --validate) makes against the least-privilege policy of
// docs/iam.md: s3:ListBucket only with the "/" delimiter on PREFIX/ or
// PREFIX/AWSLogs/*, s3:GetObject only on PREFIX/AWSLogs/*/CloudTrail/* (and
// CloudTrail-Digest/* with --validate), and nothing else.
func TestIngestS3NeedsOnlyThePolicy(t *testing.T) {
	e := newS3Env(t, "us-east-1")
	keys := filepath.Join(t.TempDir(), "keys.json")
	os.WriteFile(keys, []byte(`{"PublicKeyList":[]}`), 0o644)
	for _, extra := range [][]string{nil, {"--validate", "--public-keys", keys}} {
		e.proxy.mu.Lock()
		e.proxy.ops = nil
		e.proxy.mu.Unlock()
		runCmd(t, e.ingestArgs(filepath.Join(t.TempDir(), "p.duckdb"), extra...)...)
		e.proxy.mu.Lock()
		ops := append([]string(nil), e.proxy.ops...)
		e.proxy.mu.Unlock()
		if len(ops) == 0 {
			t.Fatal("no S3 request recorded")
		}
		getLog := regexp.MustCompile(`^s3:GetObject trails/AWSLogs/.+/CloudTrail/.+`)
		getDigest := regexp.MustCompile(`^s3:GetObject trails/AWSLogs/.+/CloudTrail-Digest/.+`)
		list := regexp.MustCompile(`^s3:ListBucket (trails/|trails/AWSLogs/\S*) /$`)
		for _, op := range ops {
			switch {
			case list.MatchString(op), getLog.MatchString(op):
			case extra != nil && getDigest.MatchString(op):
			default:
				t.Errorf("ingest %v made a request the documented policy does not allow: %s", extra, op)
			}
		}
	}
}
