package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/rootaudit/rootaudit/ingest"
)

// s3floor is the S3 counterpart of the decompression floor: list every
// log object of the bench bucket (ListObjectsV2, 1,000 keys a page) and
// GET each one with the same client settings and concurrency as rootaudit,
// discarding the bytes. What rootaudit's S3 ingest costs beyond it is
// rootaudit's; the rest is the server's and the SDK's.
func s3floor(args []string) {
	endpoint, conc := args[0], 32
	fmt.Sscan(args[1], &conc)
	ctx := context.Background()
	client, err := ingest.NewS3Client(ctx, ingest.S3ClientConfig{Region: "us-east-1", EndpointURL: endpoint, PathStyle: true, MaxConns: conc + 16})
	if err != nil {
		panic(err)
	}
	keys := make(chan string, 1024)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(keys)
		p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String("bench"), Prefix: aws.String("AWSLogs/")})
		for p.HasMorePages() {
			page, err := p.NextPage(gctx)
			if err != nil {
				return err
			}
			for _, o := range page.Contents {
				if k := aws.ToString(o.Key); strings.Contains(k, "/CloudTrail/") {
					keys <- k
				}
			}
		}
		return nil
	})
	var total atomic.Int64
	for i := 0; i < conc; i++ {
		g.Go(func() error {
			for k := range keys {
				out, err := client.GetObject(gctx, &s3.GetObjectInput{Bucket: aws.String("bench"), Key: aws.String(k)})
				if err != nil {
					return err
				}
				n, err := io.Copy(io.Discard, out.Body)
				out.Body.Close()
				if err != nil {
					return err
				}
				total.Add(n)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		fmt.Fprintln(os.Stderr, "s3floor:", err)
		os.Exit(1)
	}
	fmt.Println(total.Load())
}
