// Package s3test runs a real S3 server on loopback for tests (versitygw
// with its posix backend, or gofakes3 in-process when versitygw is not
// installed and CI is not "true"), uploads trees to it, writes small
// synthetic CloudTrail trees, and puts a fault-injecting proxy (which can
// play STS AssumeRole too) in front of it. It sits at the module level so
// that the tests of ingest and of cmd/rootaudit share one copy.
package s3test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/build"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"golang.org/x/sync/errgroup"
)

// Credentials and region of every test server.
const (
	AccessKey = "test"
	SecretKey = "testsecret"
	Region    = "us-east-1"
)

// Server kinds.
const (
	KindVersity  = "versitygw"
	KindGoFakeS3 = "gofakes3"
)

// Server is a running S3 server.
type Server struct {
	Endpoint string // http://127.0.0.1:PORT
	Kind     string
	Dir      string // versitygw's posix root
	Region   string // the region requests must be signed for
}

// Options of Start.
type Options struct {
	Region string // region the server signs for; Region when ""
}

// VersityPath finds the versitygw binary on PATH, in $GOBIN or in
// $(go env GOPATH)/bin; "" when missing.
func VersityPath() string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	var dirs []string
	if gb := os.Getenv("GOBIN"); gb != "" {
		dirs = append(dirs, gb)
	}
	for _, gp := range filepath.SplitList(build.Default.GOPATH) {
		dirs = append(dirs, filepath.Join(gp, "bin"))
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, gp := range filepath.SplitList(strings.TrimSpace(string(out))) {
			dirs = append(dirs, filepath.Join(gp, "bin"))
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// Start runs a server for the test and stops it at cleanup. versitygw is
// required when CI is "true"; elsewhere a missing versitygw falls back to
// gofakes3 (tests that need exact listing semantics call RequireVersity).
// S3TEST_SERVER=gofakes3 forces the fallback.
func Start(t testing.TB, o ...Options) *Server {
	t.Helper()
	var opt Options
	if len(o) > 0 {
		opt = o[0]
	}
	if opt.Region == "" {
		opt.Region = Region
	}
	bin := VersityPath()
	if os.Getenv("S3TEST_SERVER") == KindGoFakeS3 {
		bin = "" // forced, to exercise the fallback
	}
	if bin == "" && os.Getenv("S3TEST_SERVER") != KindGoFakeS3 {
		if os.Getenv("CI") == "true" {
			t.Fatal("versitygw not found on PATH or in $(go env GOPATH)/bin: install it with `go install github.com/versity/versitygw/cmd/versitygw@v1.8.0`")
		}
	}
	if bin == "" {
		t.Log("using gofakes3 in-process instead of versitygw")
		return startGoFakeS3(t)
	}
	var lastErr error
	for try := 0; try < 3; try++ {
		s, err := startVersity(t, bin, opt)
		if err == nil {
			return s
		}
		lastErr = err
	}
	t.Fatalf("start versitygw: %v", lastErr)
	return nil
}

// RequireVersity skips tests whose assertions only hold on a faithful
// server (gofakes3 repeats the last common prefix across delimiter pages).
func (s *Server) RequireVersity(t testing.TB) {
	t.Helper()
	if s.Kind != KindVersity {
		t.Skip("needs versitygw (gofakes3 pages delimiter listings wrongly)")
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startVersity(t testing.TB, bin string, opt Options) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "gw")
	if err := os.Mkdir(root, 0o755); err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "--quiet", "--keep-alive", "--region", opt.Region, "--port", addr, "posix", root)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+AccessKey, "ROOT_SECRET_ACCESS_KEY="+SecretKey)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		cmd.Process.Kill()
		<-exited
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			return nil, fmt.Errorf("versitygw exited: %v: %s", err, out.String())
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("versitygw did not listen on %s: %s", addr, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() && out.Len() > 0 {
			t.Logf("versitygw output:\n%s", out.String())
		}
	})
	return &Server{Endpoint: "http://" + addr, Kind: KindVersity, Dir: root, Region: opt.Region}, nil
}

func startGoFakeS3(t testing.TB) *Server {
	faker := gofakes3.New(s3mem.New(), gofakes3.WithTimeSkewLimit(0))
	ts := httptest.NewServer(faker.Server())
	t.Cleanup(ts.Close)
	return &Server{Endpoint: ts.URL, Kind: KindGoFakeS3, Region: Region}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.b.Len() > 1<<20 {
		return len(p), nil
	}
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func (b *syncBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Len()
}

// Client returns a path-style client with the static test credentials for
// endpoint (the server's own when "").
func (s *Server) Client(endpoint string) *s3.Client {
	if endpoint == "" {
		endpoint = s.Endpoint
	}
	return NewClient(endpoint, s.Region)
}

// NewClient returns a path-style client with the static test credentials.
func NewClient(endpoint, region string) *s3.Client {
	return s3.New(s3.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
		HTTPClient:   &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		// Bounded, quick retries: tests inject bursts of 503s.
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.RateLimiter = ratelimit.None
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 5 * time.Millisecond, nil })
		}),
		// The test servers send no checksums for most objects.
		DisableLogOutputChecksumValidationSkipped: true,
	})
}

// CreateBucket creates bucket.
func (s *Server) CreateBucket(t testing.TB, bucket string) {
	t.Helper()
	_, err := s.Client("").CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("create bucket %s: %v", bucket, err)
	}
}

// Put uploads one object.
func (s *Server) Put(t testing.TB, bucket, key string, body []byte) {
	t.Helper()
	if err := put(context.Background(), s.Client(""), bucket, key, body); err != nil {
		t.Fatal(err)
	}
}

func put(ctx context.Context, c *s3.Client, bucket, key string, body []byte) error {
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body)))})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// Upload puts every regular file under dir at prefix + its slash-separated
// path relative to dir, 16 at a time, and returns how many it put.
func (s *Server) Upload(t testing.TB, bucket, prefix, dir string) int {
	t.Helper()
	c := s.Client("")
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(16)
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		key := prefix + filepath.ToSlash(rel)
		n++
		g.Go(func() error {
			body, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return put(ctx, c, bucket, key, body)
		})
		return nil
	})
	if werr := g.Wait(); err == nil {
		err = werr
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("upload %s: %v", dir, err)
	}
	return n
}
