package ingest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rootaudit/rootaudit/ingest"
)

// The S3 benchmarks measure what one GET of a small log object costs on
// this side of the wire, one request at a time against an in-process
// server that returns 6 KB (a typical compressed log file): the SDK's
// GetObject as rootaudit's client makes it, the same request signed with
// the SDK's v4 signer and sent with net/http, and an unsigned net/http GET
// (the server's and the HTTP stack's share). docs/performance.md ("S3")
// uses the differences: they bound how fast an S3 ingest can be on few
// cores whatever the server.

const benchKey = "AWSLogs/o-a1b2c3d4e5/123456789012/CloudTrail/us-east-1/2026/01/01/123456789012_CloudTrail_us-east-1_20260101T0000Z_abcdefgh.json.gz"

func benchObjectServer(b *testing.B) *httptest.Server {
	body := make([]byte, 6000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"0123456789abcdef0123456789abcdef"`)
		w.Header().Set("Content-Length", "6000")
		w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return srv
}

func drain(b *testing.B, rc io.ReadCloser) {
	if n, err := io.Copy(io.Discard, rc); err != nil || n != 6000 {
		b.Fatalf("read %d bytes: %v", n, err)
	}
	rc.Close()
}

// BenchmarkS3GetObjectSDK is rootaudit's own client (ingest.NewS3Client).
func BenchmarkS3GetObjectSDK(b *testing.B) {
	srv := benchObjectServer(b)
	b.Setenv("AWS_ACCESS_KEY_ID", "bench")
	b.Setenv("AWS_SECRET_ACCESS_KEY", "benchsecret")
	b.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	ctx := context.Background()
	c, err := ingest.NewS3Client(ctx, ingest.S3ClientConfig{Region: "us-east-1", EndpointURL: srv.URL, PathStyle: true, MaxConns: 8})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bench"), Key: aws.String(benchKey)})
		if err != nil {
			b.Fatal(err)
		}
		drain(b, out.Body)
	}
}

// BenchmarkS3GetSignedHTTP is the same request signed with the SDK's v4
// signer and sent with net/http, without the SDK's middleware.
func BenchmarkS3GetSignedHTTP(b *testing.B) {
	srv := benchObjectServer(b)
	ctx := context.Background()
	signer := v4.NewSigner()
	cred := aws.Credentials{AccessKeyID: "bench", SecretAccessKey: "benchsecret"}
	const emptySHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	hc := &http.Client{}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/bench/"+benchKey, nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("X-Amz-Content-Sha256", emptySHA)
		if err := signer.SignHTTP(ctx, cred, req, emptySHA, "s3", "us-east-1", time.Now()); err != nil {
			b.Fatal(err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		drain(b, resp.Body)
	}
}

// BenchmarkS3GetPlainHTTP is an unsigned GET: the server and net/http.
func BenchmarkS3GetPlainHTTP(b *testing.B) {
	srv := benchObjectServer(b)
	hc := &http.Client{}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		resp, err := hc.Get(srv.URL + "/bench/" + benchKey)
		if err != nil {
			b.Fatal(err)
		}
		drain(b, resp.Body)
	}
}
