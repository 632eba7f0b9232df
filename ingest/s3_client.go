package ingest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
)

// DefaultS3Region is the client region when neither --aws-region, the
// environment nor the shared config name one. A bucket elsewhere answers
// with its region, which the caller then follows (WrongRegionError).
const DefaultS3Region = "us-east-1"

// S3ClientConfig configures NewS3Client.
type S3ClientConfig struct {
	Profile     string // shared config profile; "" = AWS_PROFILE or default
	Region      string // client region; "" = from the environment or profile, else DefaultS3Region
	EndpointURL string // S3-compatible store (http://host:port)
	PathStyle   bool   // bucket in the path rather than the host name
	RoleARN     string // assumed with sts:AssumeRole (stscreds) for every request
	// MaxAttempts is the SDK's attempts per request (throttling, 5xx and
	// connection errors are retried with jittered backoff); 4 when 0.
	MaxAttempts int
	// MaxConns is how many idle connections are kept per host: set it to
	// the fetch plus list concurrency so connections are reused.
	MaxConns int
	// Credentials replaces the default chain (tests, static keys).
	Credentials aws.CredentialsProvider
	// Debug, when set, receives the SDK's retry log (which request was
	// retried and why). Request and response logging stay off: headers
	// carry the session token and signature.
	Debug io.Writer
}

// NewS3Client builds an S3 client from the default credential chain
// (environment, shared config and credentials files, SSO, web identity,
// container and instance roles), optionally assuming RoleARN.
// LoadAWSConfig loads the AWS configuration of a run: the default
// credential chain, the profile, region and role flags, bounded retries and
// a connection pool sized for the run. Service-specific endpoints can be set
// with the SDK's AWS_ENDPOINT_URL_<SERVICE> variables (tests use them).
func LoadAWSConfig(ctx context.Context, c S3ClientConfig) (aws.Config, error) {
	attempts := c.MaxAttempts
	if attempts <= 0 {
		attempts = 4
	}
	conns := c.MaxConns
	if conns <= 0 {
		conns = 64
	}
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns = conns * 2
		tr.MaxIdleConnsPerHost = conns
		tr.IdleConnTimeout = 90 * time.Second
	})
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient),
		// No CRC of every GetObject body on top of gzip's own CRC-32 of
		// the content (and TLS on the wire, and --validate's SHA-256):
		// the SDK's checksum middleware cost ~10% of an S3 ingest's CPU
		// (docs/performance.md).
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
		// The SDK's own warnings (IMDS fallbacks, skipped checksums) would
		// interleave with rootaudit's output; its errors carry the same.
		config.WithLogger(logging.Nop{}),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = attempts
				o.MaxBackoff = 5 * time.Second
				// No client-side retry quota: under a burst of 503s every
				// object must keep its own bounded attempts rather than
				// fail fast once a shared token bucket runs dry.
				o.RateLimiter = ratelimit.None
			})
		}),
	}
	if c.Debug != nil {
		opts = append(opts, config.WithLogger(logging.NewStandardLogger(c.Debug)), config.WithClientLogMode(aws.LogRetries))
	}
	if c.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.Profile))
	}
	if c.Region != "" {
		opts = append(opts, config.WithRegion(c.Region))
	}
	if c.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(c.Credentials))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		if c.Profile != "" {
			return aws.Config{}, fmt.Errorf("load AWS config (profile %s): %w", c.Profile, err)
		}
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultS3Region
	}
	if c.RoleARN != "" {
		stsClient := sts.NewFromConfig(cfg)
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, c.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = "rootaudit"
		}))
	}
	return cfg, nil
}

// NewS3Client builds the S3 client of a run from LoadAWSConfig.
func NewS3Client(ctx context.Context, c S3ClientConfig) (*s3.Client, error) {
	cfg, err := LoadAWSConfig(ctx, c)
	if err != nil {
		return nil, err
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if c.EndpointURL != "" {
			o.BaseEndpoint = aws.String(c.EndpointURL)
		}
		o.UsePathStyle = c.PathStyle
		// S3-compatible stores often send no checksum headers; the SDK
		// would log a warning for every object.
		o.DisableLogOutputChecksumValidationSkipped = true
	}), nil
}

// S3ClientWithRegion returns a copy of client that signs for and talks to
// region (after a WrongRegionError named the bucket's region).
func S3ClientWithRegion(client *s3.Client, region string) *s3.Client {
	return s3.New(client.Options(), func(o *s3.Options) { o.Region = region })
}
