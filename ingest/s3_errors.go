package ingest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// Errors an S3 operation can be classified as; test with errors.Is.
var (
	ErrS3NoSuchBucket    = errors.New("bucket does not exist")
	ErrS3NoSuchKey       = errors.New("object does not exist")
	ErrS3BadPrefix       = errors.New("prefix is not in the CloudTrail layout")
	ErrS3AccessDenied    = errors.New("access denied")
	ErrS3Changed         = errors.New("object changed since it was listed")
	ErrS3NoCredentials   = errors.New("no usable AWS credentials")
	ErrS3AssumeRole      = errors.New("cannot assume the role")
	ErrS3WrongRegionHint = errors.New("bucket is in another region")
)

// WrongRegionError says that the bucket lives in another region than the
// client's. Region is "" when the response did not say which.
type WrongRegionError struct {
	Bucket       string
	Region       string
	ClientRegion string
	Err          error
}

func (e *WrongRegionError) Error() string {
	if e.Region != "" {
		return fmt.Sprintf("bucket %s is in region %s, not %s: pass --aws-region %s", e.Bucket, e.Region, e.ClientRegion, e.Region)
	}
	return fmt.Sprintf("bucket %s is not in region %s (the endpoint redirected the request): pass the bucket's region with --aws-region", e.Bucket, e.ClientRegion)
}

func (e *WrongRegionError) Unwrap() []error { return []error{ErrS3WrongRegionHint, e.Err} }

const (
	opList = "list"
	opGet  = "get"
)

// s3Error turns an SDK error of op on s3://bucket/name into a message that
// says what to do, classed with the Err* values above, and wrapped in a
// TransientError when trying again can succeed.
func s3ErrorIn(region, op, bucket, name string, err error) error {
	target := "s3://" + bucket + "/" + name
	code, msg, status, hdr := s3Details(err)
	detail := code
	if msg != "" {
		detail += ": " + msg
	}
	if detail == "" && status != 0 {
		detail = fmt.Sprintf("HTTP %d", status)
	}
	if rid := s3RequestID(err); rid != "" {
		detail += "; request id " + rid
	}
	if e := stsError(err); e != nil {
		// --role-arn: the AssumeRole call failed, not the S3 request.
		if isS3Transient(err, code, status) {
			return &TransientError{fmt.Errorf("%s %s: assume role: %w", op, target, err)}
		}
		return fmt.Errorf("%s %s: %w: the caller needs sts:AssumeRole on the role, and the role's trust policy must allow the caller (%v)", op, target, ErrS3AssumeRole, e)
	}
	switch {
	case isS3Transient(err, code, status):
		return &TransientError{fmt.Errorf("%s %s: %w", op, target, err)}
	case code == "NoSuchBucket" || (status == http.StatusNotFound && code == "" && op == opList):
		return fmt.Errorf("%s %s: %w (%s)", op, target, ErrS3NoSuchBucket, detail)
	case code == "NoSuchKey" || (status == http.StatusNotFound && op == opGet):
		return fmt.Errorf("%s %s: %w: deleted after it was listed? (%s)", op, target, ErrS3NoSuchKey, detail)
	case code == "PreconditionFailed" || status == http.StatusPreconditionFailed:
		return fmt.Errorf("%s %s: %w (ETag no longer matches); run ingest again to read the new version (%s)", op, target, ErrS3Changed, detail)
	case code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed" || code == "IllegalLocationConstraintException" ||
		status == http.StatusMovedPermanently || status == http.StatusTemporaryRedirect:
		r := hdr.Get("X-Amz-Bucket-Region")
		if r == "" {
			if m := expectingRegion.FindStringSubmatch(msg); m != nil {
				r = m[1]
			}
		}
		if r == region {
			r = ""
		}
		return fmt.Errorf("%s %s: %w", op, target, &WrongRegionError{Bucket: bucket, Region: r, ClientRegion: region, Err: errors.New(detail)})
	case isKMSDenial(code, msg):
		return fmt.Errorf("%s %s: %w: the object is SSE-KMS encrypted and the credentials need kms:Decrypt on its KMS key (%s)", op, target, ErrS3AccessDenied, detail)
	case code == "AccessDenied" || code == "AllAccessDisabled" || code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" ||
		code == "ExpiredToken" || code == "InvalidToken" || status == http.StatusForbidden:
		var need string
		switch op {
		case opList:
			need = fmt.Sprintf("s3:ListBucket on arn:aws:s3:::%s (with an s3:prefix condition that allows %q)", bucket, name)
		default:
			need = fmt.Sprintf("s3:GetObject on arn:aws:s3:::%s/%s (and kms:Decrypt if the trail uses SSE-KMS)", bucket, name)
		}
		if code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" || code == "ExpiredToken" || code == "InvalidToken" {
			return fmt.Errorf("%s %s: %w: the credentials were rejected (%s)", op, target, ErrS3AccessDenied, detail)
		}
		return fmt.Errorf("%s %s: %w: the credentials need %s (%s)", op, target, ErrS3AccessDenied, need, detail)
	}
	if code == "" && status == 0 && isCredentialsError(err) {
		return fmt.Errorf("%s %s: %w (looked in the environment, the shared config and --profile, SSO, and the instance or container role): %v", op, target, ErrS3NoCredentials, err)
	}
	return fmt.Errorf("%s %s: %w", op, target, err)
}

// s3Error classifies with the source's client region.
func (s *S3Source) s3Error(op, name string, err error) error {
	return s3ErrorIn(s.client.Options().Region, op, s.Bucket, name, err)
}

var expectingRegion = regexp.MustCompile(`expecting '([a-z0-9-]+)'`)

func s3Details(err error) (code, msg string, status int, hdr http.Header) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code, msg = ae.ErrorCode(), ae.ErrorMessage()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		status = re.HTTPStatusCode()
		hdr = re.Response.Header
	}
	if hdr == nil {
		hdr = http.Header{}
	}
	// A response without a body (HEAD, some proxies) carries no code: the
	// SDK then uses the status text.
	if code == http.StatusText(status) || code == strings.ReplaceAll(http.StatusText(status), " ", "") {
		code = ""
	}
	return code, msg, status, hdr
}

func s3RequestID(err error) string {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.RequestID
	}
	return ""
}

var throttleCodes = map[string]bool{
	"SlowDown": true, "Throttling": true, "ThrottlingException": true, "RequestLimitExceeded": true,
	"TooManyRequestsException": true, "BandwidthLimitExceeded": true, "RequestThrottled": true,
	"ServiceUnavailable": true, "InternalError": true, "RequestTimeout": true, "RequestTimeoutException": true,
	"PriorRequestNotComplete": true, "OperationAborted": true,
}

// isS3Transient reports whether err may not happen again: throttling, a
// server error, a timeout or a broken connection.
func isS3Transient(err error, code string, status int) bool {
	switch {
	case throttleCodes[code], status == http.StatusTooManyRequests, status >= 500:
		return true
	case code != "" || status != 0:
		return false // the service answered, and not with a transient error
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.ETIMEDOUT):
		return true
	case strings.Contains(err.Error(), "retry quota exceeded"):
		return true
	}
	if isCredentialsError(err) {
		return false
	}
	return retry.RetryableConnectionError{}.IsErrorRetryable(err) == aws.TrueTernary
}

func isKMSDenial(code, msg string) bool {
	if strings.HasPrefix(code, "KMS.") {
		return true
	}
	if code != "AccessDenied" {
		return false
	}
	m := strings.ToLower(msg)
	return strings.Contains(m, "kms") || strings.Contains(m, "ciphertext") || strings.Contains(m, "master key")
}

// stsError finds a failed STS call (AssumeRole for --role-arn) in the
// chain of a credentials error.
func stsError(err error) error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if oe, ok := e.(*smithy.OperationError); ok && oe.ServiceID == "STS" {
			return oe
		}
	}
	return nil
}

func isCredentialsError(err error) bool {
	m := err.Error()
	return strings.Contains(m, "failed to retrieve credentials") || strings.Contains(m, "failed to refresh cached credentials") ||
		strings.Contains(m, "no EC2 IMDS role found") || strings.Contains(m, "get credentials") || strings.Contains(m, "get identity")
}
