package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rootaudit/rootaudit/fixtures"
	"github.com/rootaudit/rootaudit/internal/s3test"
)

const s3Bucket = "org-trail-logs"

// s3Env is a bucket holding a synthetic org trail (fixtures.Generate) under
// trails/ on an s3test server, behind an s3test fault proxy, with the AWS
// environment pointing the default credential chain at static test keys
// and nothing else.
type s3Env struct {
	srv   *s3test.Server
	proxy *s3test.Proxy
	dir   string   // the bucket's content, locally
	logs  []string // keys of the log files
}

func newS3Env(t *testing.T, region string) *s3Env {
	t.Helper()
	e := &s3Env{srv: s3test.Start(t, s3test.Options{Region: region}), dir: t.TempDir()}
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
	e.srv.CreateBucket(t, s3Bucket)
	e.srv.Upload(t, s3Bucket, "", e.dir)
	e.proxy = s3test.NewProxy(t, e.srv.Endpoint)
	for k, v := range awsTestEnv(region) {
		t.Setenv(k, v)
	}
	return e
}

// faultGets drops the proxy's rules and request log, then faults every
// GET of each key ("" matches every key; only the first GET of each key
// when firstOnly) with: FaultReset after 64 bytes of the body,
// FaultTruncate (a clean close) after 40, FaultStall (a 60 ms pause) after
// 16, or Fault503.
func (e *s3Env) faultGets(faults map[string]s3test.Fault, firstOnly bool) {
	e.proxy.Reset()
	after := map[s3test.Fault]int{s3test.FaultReset: 64, s3test.FaultTruncate: 40, s3test.FaultStall: 16}
	times := 0
	if firstOnly {
		times = 1
	}
	for k, f := range faults {
		r := s3test.Rule{Op: "get", Match: k, Fault: f, AfterBytes: after[f], Times: times, PerKey: true}
		if f == s3test.FaultStall {
			r.Stall = 60 * time.Millisecond
		}
		e.proxy.Add(r)
	}
}

// counts is what the proxy saw since its last Reset: GETs of each object,
// their total, and listings.
func (e *s3Env) counts() (gets map[string]int, total, lists int) {
	gets = map[string]int{}
	for _, rq := range e.proxy.Requests() {
		switch rq.Op {
		case "get":
			gets[rq.Key]++
			total++
		case "list":
			lists++
		}
	}
	return gets, total, lists
}

// awsTestEnv is the environment the default credential chain reads in
// these tests: static keys, no shared files, no instance metadata.
func awsTestEnv(region string) map[string]string {
	return map[string]string{
		"AWS_ACCESS_KEY_ID":           s3test.AccessKey,
		"AWS_SECRET_ACCESS_KEY":       s3test.SecretKey,
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
	return s3test.EventsDigest(t, db)
}

func (e *s3Env) checkAllOK(t *testing.T, db string) {
	t.Helper()
	st := s3test.FileStatuses(t, db, "log")
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
	faults := map[string]s3test.Fault{e.logs[2]: s3test.FaultReset, e.logs[9]: s3test.Fault503, e.logs[11]: s3test.FaultTruncate}
	e.faultGets(faults, true)
	db := filepath.Join(t.TempDir(), "s3.duckdb")
	stderr, err := runCmd(t, e.ingestArgs(db, "--concurrency", "8")...)
	if err != nil {
		t.Fatalf("ingest: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, " 0 failed") || !strings.Contains(stderr, "day prefixes") {
		t.Fatalf("summary: %s", stderr)
	}
	gets, _, _ := e.counts()
	for k := range faults {
		if gets[k] != 2 {
			t.Errorf("%s fetched %d times, want 2", k, gets[k])
		}
	}
	wantRows, wantDigest := e.localDigest(t)
	if rows, digest := s3test.EventsDigest(t, db); rows != wantRows || digest != wantDigest || rows == 0 {
		t.Fatalf("S3 ingest: %d events (%s); local ingest: %d (%s)", rows, digest, wantRows, wantDigest)
	}
	e.checkAllOK(t, db)

	e.proxy.Reset()
	if stderr, err := runCmd(t, e.ingestArgs(db)...); err != nil || !strings.Contains(stderr, "already ingested, 0 read") {
		t.Fatalf("rerun: %v\n%s", err, stderr)
	}
	if _, total, lists := e.counts(); total != 0 || lists == 0 {
		t.Fatalf("rerun made %d GETs and %d listings; want only listings", total, lists)
	}
}

// TestIngestS3FailedFile: an object cut short on every attempt fails alone,
// named in the message, and the exit code is 3.
func TestIngestS3FailedFile(t *testing.T) {
	e := newS3Env(t, "us-east-1")
	bad := e.logs[5]
	e.faultGets(map[string]s3test.Fault{bad: s3test.FaultTruncate}, false)
	db := filepath.Join(t.TempDir(), "s3.duckdb")
	stderr, err := runCmd(t, e.ingestArgs(db, "--retries", "1")...)
	if code := exitCode(err); code != exitPartial {
		t.Fatalf("exit code %d (%v), want %d\n%s", code, err, exitPartial, stderr)
	}
	if !strings.Contains(stderr, "s3://"+s3Bucket+"/"+bad) || !strings.Contains(stderr, " 1 failed") {
		t.Fatalf("stderr does not name the failed object:\n%s", stderr)
	}
	if gets, _, _ := e.counts(); gets[bad] != 2 {
		t.Fatalf("%s fetched %d times, want 2 (--retries 1)", bad, gets[bad])
	}
	st := s3test.FileStatuses(t, db, "log")
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
	e.proxy.BucketRegion = "eu-west-1"
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_DEFAULT_REGION", "us-east-1")
	db := filepath.Join(t.TempDir(), "s3.duckdb")
	stderr, err := runCmd(t, e.ingestArgs(db)...)
	if err != nil || !strings.Contains(stderr, "is in eu-west-1") {
		t.Fatalf("ingest: %v\n%s", err, stderr)
	}
	e.checkAllOK(t, db)

	_, err = runCmd(t, "ingest", "--db", db, "-q", "--endpoint-url", e.srv.Endpoint, "--path-style", "--aws-region", "eu-west-1", "s3://no-such-bucket/x")
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
	if e.srv.Kind != s3test.KindVersity {
		// The first step expects the server to refuse the caller's own
		// keys; gofakes3 does not check signatures.
		t.Skip("needs versitygw, which checks request signatures")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAAUDITOREXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "not-the-server-secret")
	t.Setenv("AWS_ENDPOINT_URL_STS", e.proxy.URL)
	e.proxy.ServeSTS(false)
	const role = "arn:aws:iam::999988887777:role/LogReader"
	db := filepath.Join(t.TempDir(), "s3.duckdb")
	if stderr, err := runCmd(t, e.ingestArgs(db)...); exitCode(err) != exitFatal {
		t.Fatalf("without --role-arn: %v\n%s", err, stderr)
	}
	if stderr, err := runCmd(t, e.ingestArgs(db, "--role-arn", role)...); err != nil {
		t.Fatalf("with --role-arn: %v\n%s", err, stderr)
	}
	e.checkAllOK(t, db)
	var roles []string // "ACTION ROLE_ARN SESSION"
	for _, rq := range e.proxy.Requests() {
		if rq.Op == "sts" {
			roles = append(roles, rq.Action+" "+rq.RoleARN+" "+rq.Session)
		}
	}
	if len(roles) != 1 || roles[0] != "AssumeRole "+role+" rootaudit" {
		t.Fatalf("STS calls: %q", roles)
	}
	e.proxy.ServeSTS(true)
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
	stall := map[string]s3test.Fault{"": s3test.FaultStall}
	committed := 0
	for i, after := range []time.Duration{2500 * time.Millisecond, 300 * time.Millisecond} {
		e.faultGets(stall, false)
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperIngestProcess$")
		cmd.Env = append(os.Environ(), "ROOTAUDIT_HELPER=1", "ROOTAUDIT_ARGS="+strings.Join(args, "\x1f"))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Time from the first GET: the child needs a moment to start.
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
			if _, total, _ := e.counts(); total > 0 {
				break
			}
		}
		time.Sleep(after)
		cmd.Process.Kill() // SIGKILL: no deferred code runs, no final commit
		cmd.Wait()
		st := s3test.FileStatuses(t, db, "log")
		_, total, _ := e.counts()
		t.Logf("kill %d after %d GETs: %d of %d files committed", i+1, total, len(st), len(e.logs))
		if len(st) < committed || len(st) >= len(e.logs) || len(st) == 0 {
			t.Fatalf("kill %d: %d of %d files committed (%d before): the kill did not land mid-run\n%s", i+1, len(st), len(e.logs), committed, out.String())
		}
		committed = len(st)
	}
	e.proxy.Reset()
	if stderr, err := runCmd(t, args...); err != nil {
		t.Fatalf("rerun: %v\n%s", err, stderr)
	}
	wantRows, wantDigest := e.localDigest(t)
	if rows, digest := s3test.EventsDigest(t, db); rows != wantRows || digest != wantDigest {
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
	// The first GET of every key is throttled: retries get logged.
	e.faultGets(map[string]s3test.Fault{"": s3test.Fault503}, true)
	var out, errOut bytes.Buffer
	err := run(context.Background(), e.ingestArgs(filepath.Join(t.TempDir(), "d.duckdb"), "--debug"), &out, &errOut)
	log := out.String() + errOut.String()
	if err != nil || !strings.Contains(log, "debug: ok s3://") || !strings.Contains(log, "retry") {
		t.Fatalf("--debug run: %v; want per-file and retry lines:\n%s", err, log)
	}
	for _, secret := range []string{s3test.SecretKey, "Authorization", "X-Amz-Security-Token", "Signature="} {
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
		e.proxy.Reset()
		runCmd(t, e.ingestArgs(filepath.Join(t.TempDir(), "p.duckdb"), extra...)...)
		// The IAM action each request needs, with what the policy's
		// conditions look at.
		var ops []string
		for _, rq := range e.proxy.Requests() {
			switch rq.Op {
			case "get":
				ops = append(ops, "s3:GetObject "+rq.Key)
			case "list":
				q, _ := url.ParseQuery(rq.Query)
				ops = append(ops, "s3:ListBucket "+rq.Prefix+" "+q.Get("delimiter"))
			default:
				ops = append(ops, "other "+rq.Method+" /"+rq.Bucket+"/"+rq.Key+"?"+rq.Query)
			}
		}
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
