package ingest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestParseS3URL(t *testing.T) {
	for _, c := range []struct{ in, bucket, prefix string }{
		{"s3://bucket", "bucket", ""},
		{"s3://bucket/", "bucket", ""},
		{"s3://my.bucket-1/logs/trail", "my.bucket-1", "logs/trail"},
		{"s3://bucket/AWSLogs/", "bucket", "AWSLogs/"},
	} {
		b, p, err := ParseS3URL(c.in)
		if err != nil || b != c.bucket || p != c.prefix {
			t.Errorf("%s: %q %q %v", c.in, b, p, err)
		}
	}
	for _, bad := range []string{"s3://", "s3:/bucket", "https://bucket/x", "s3://ab/x", "s3://bu cket/x", "s3://bucket//x", "s3://bucket/a//b"} {
		if _, _, err := ParseS3URL(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

func TestStartNode(t *testing.T) {
	for _, c := range []struct {
		prefix string
		lv     level
		want   node
	}{
		{"", lvSearch, node{}},
		{"logs/", lvSearch, node{prefix: "logs/"}},
		{"AWSLogs/", lvAWSLogs, node{prefix: "AWSLogs/"}},
		{"p/AWSLogs/o-abcdefghij/", lvOrg, node{prefix: "p/AWSLogs/o-abcdefghij/"}},
		{"p/AWSLogs/o-abcdefghij/111122223333/", lvAccount, node{account: "111122223333"}},
		{"AWSLogs/111122223333/", lvAccount, node{account: "111122223333"}},
		{"AWSLogs/111122223333/CloudTrail/", lvTrail, node{account: "111122223333"}},
		{"AWSLogs/111122223333/CloudTrail/eu-west-1/", lvRegion, node{account: "111122223333", region: "eu-west-1"}},
		{"AWSLogs/111122223333/CloudTrail/eu-west-1/2026/", lvYear, node{region: "eu-west-1", year: 2026}},
		{"AWSLogs/111122223333/CloudTrail/eu-west-1/2026/02/", lvMonth, node{year: 2026, month: 2}},
		{"AWSLogs/111122223333/CloudTrail/eu-west-1/2026/02/28/", lvDay, node{year: 2026, month: 2, day: 28}},
		{"x/AWSLogs/y/AWSLogs/o-abcdefghij/", lvOrg, node{prefix: "x/AWSLogs/y/AWSLogs/o-abcdefghij/"}},
	} {
		n, err := startNode(c.prefix)
		if err != nil || n.lv != c.lv {
			t.Errorf("%q: level %d, %v; want %d", c.prefix, n.lv, err, c.lv)
			continue
		}
		if c.want.prefix != "" && n.prefix != c.want.prefix || c.want.account != "" && n.account != c.want.account ||
			c.want.region != "" && n.region != c.want.region || c.want.year != 0 && n.year != c.want.year ||
			c.want.month != 0 && n.month != c.want.month || c.want.day != 0 && n.day != c.want.day {
			t.Errorf("%q: %+v", c.prefix, n)
		}
	}
	for _, bad := range []string{
		"AWSLogs/foo/",
		"AWSLogs/o-abcdefghij/o-abcdefghij/",
		"AWSLogs/111122223333/CloudTrail-Digest/",
		"AWSLogs/111122223333/CloudTrail/EU_WEST/",
		"AWSLogs/111122223333/CloudTrail/eu-west-1/26/",
		"AWSLogs/111122223333/CloudTrail/eu-west-1/2026/13/",
		"AWSLogs/111122223333/CloudTrail/eu-west-1/2026/02/30/",
		"AWSLogs/111122223333/CloudTrail/eu-west-1/2026/02/28/x/",
	} {
		if _, err := startNode(bad); !errors.Is(err, ErrS3BadPrefix) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// apiErr builds an SDK error as a failed operation returns it.
func apiErr(status int, code, msg string, hdr http.Header) error {
	if hdr == nil {
		hdr = http.Header{}
	}
	e := &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: hdr}},
			Err:      &smithy.GenericAPIError{Code: code, Message: msg},
		},
		RequestID: "REQ1",
	}
	return &smithy.OperationError{ServiceID: "S3", OperationName: "GetObject", Err: e}
}

func TestS3ErrorClassification(t *testing.T) {
	for _, c := range []struct {
		name      string
		op        string
		err       error
		transient bool
		is        error
		says      string
	}{
		{"slowdown", opGet, apiErr(503, "SlowDown", "Please reduce your request rate.", nil), true, nil, "SlowDown"},
		{"500", opList, apiErr(500, "InternalError", "", nil), true, nil, ""},
		{"reset", opGet, &smithy.OperationError{ServiceID: "S3", Err: fmt.Errorf("read: %w", syscall.ECONNRESET)}, true, nil, ""},
		{"eof", opGet, &smithy.OperationError{ServiceID: "S3", Err: io.ErrUnexpectedEOF}, true, nil, ""},
		{"no bucket", opList, apiErr(404, "NoSuchBucket", "The specified bucket does not exist", nil), false, ErrS3NoSuchBucket, "s3://b/k"},
		{"no key", opGet, apiErr(404, "NoSuchKey", "", nil), false, ErrS3NoSuchKey, "s3://b/k"},
		{"changed", opGet, apiErr(412, "PreconditionFailed", "", nil), false, ErrS3Changed, "ETag"},
		{"list denied", opList, apiErr(403, "AccessDenied", "Access Denied", nil), false, ErrS3AccessDenied, "s3:ListBucket on arn:aws:s3:::b"},
		{"get denied", opGet, apiErr(403, "AccessDenied", "Access Denied", nil), false, ErrS3AccessDenied, "s3:GetObject on arn:aws:s3:::b/k"},
		{"kms", opGet, apiErr(403, "AccessDenied", "The ciphertext refers to a customer master key that does not exist", nil), false, ErrS3AccessDenied, "kms:Decrypt"},
		{"kms code", opGet, apiErr(400, "KMS.DisabledException", "key disabled", nil), false, ErrS3AccessDenied, "kms:Decrypt"},
		{"bad key", opList, apiErr(403, "InvalidAccessKeyId", "", nil), false, ErrS3AccessDenied, "rejected"},
		{"redirect", opList, apiErr(301, "PermanentRedirect", "", http.Header{"X-Amz-Bucket-Region": {"eu-west-1"}}), false, ErrS3WrongRegionHint, "--aws-region eu-west-1"},
		{"auth region", opList, apiErr(400, "AuthorizationHeaderMalformed", "the region 'us-east-1' is wrong; expecting 'ap-south-1'", nil), false, ErrS3WrongRegionHint, "--aws-region ap-south-1"},
		{"sts", opList, &smithy.OperationError{ServiceID: "S3", Err: fmt.Errorf("get identity: %w", &smithy.OperationError{ServiceID: "STS", OperationName: "AssumeRole", Err: apiErr(403, "AccessDenied", "not authorized to perform: sts:AssumeRole", nil)})}, false, ErrS3AssumeRole, "trust policy"},
		{"no creds", opList, &smithy.OperationError{ServiceID: "S3", Err: errors.New("get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found")}, false, ErrS3NoCredentials, "--profile"},
	} {
		err := s3ErrorIn("us-east-1", c.op, "b", "k", c.err)
		if IsTransient(err) != c.transient {
			t.Errorf("%s: transient %v: %v", c.name, IsTransient(err), err)
		}
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("%s: not %v: %v", c.name, c.is, err)
		}
		if !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), c.op+" s3://b/k") {
			t.Errorf("%s: message %q lacks %q", c.name, err, c.says)
		}
	}
	var wr *WrongRegionError
	if err := s3ErrorIn("us-east-1", opList, "b", "", apiErr(301, "", "", http.Header{"X-Amz-Bucket-Region": {"eu-west-1"}})); !errors.As(err, &wr) || wr.Region != "eu-west-1" {
		t.Errorf("HEAD-style redirect: %v", err)
	}
}
