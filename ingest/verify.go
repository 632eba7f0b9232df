package ingest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"
)

// AuditTaskPolicyARN is the AWS managed task policy that scopes an
// AssumeRoot session to reading the root user's credentials
// (GetLoginProfile, ListAccessKeys, ListMFADevices, ListSigningCertificates,
// and a few more reads).
const AuditTaskPolicyARN = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"

// Credential audit states of a member account.
const (
	// AuditNoRootCredentials: every credential read answered and none
	// exists (no password, access key, MFA device or signing certificate).
	AuditNoRootCredentials = "no-root-credentials"
	// AuditRootCredentialsPresent: at least one read found a credential.
	AuditRootCredentialsPresent = "root-credentials-present"
	// AuditUnknown: AssumeRoot or a credential read failed and nothing
	// found so far proves a credential exists.
	AuditUnknown = "unknown"
)

// Kinds of root credential, as listed in RootCredentialAudit.Present.
const (
	CredentialPassword           = "password"
	CredentialAccessKey          = "access-key"
	CredentialMFADevice          = "mfa-device"
	CredentialSigningCertificate = "signing-certificate"
)

// AssumeStatusOK is RootCredentialAudit.AssumeStatus when AssumeRoot issued
// credentials.
const AssumeStatusOK = "ok"

// DefaultAuditSessionSeconds is the duration asked for each audit session:
// long enough for four reads with retries, well under the 900 s maximum.
const DefaultAuditSessionSeconds = 300

// RootAccessKey is one access key of a member account's root user.
type RootAccessKey struct {
	AccessKeyID string     `json:"access_key_id"`
	Status      string     `json:"status"`     // Active or Inactive
	CreatedAt   *time.Time `json:"created_at"` // UTC
}

// RootMFADevice is one MFA device of a member account's root user.
type RootMFADevice struct {
	SerialNumber string     `json:"serial_number"`
	EnabledAt    *time.Time `json:"enabled_at"` // UTC
}

// RootSigningCertificate is one X.509 signing certificate of a member
// account's root user.
type RootSigningCertificate struct {
	CertificateID string     `json:"certificate_id"`
	Status        string     `json:"status"`      // Active or Inactive
	UploadedAt    *time.Time `json:"uploaded_at"` // UTC
}

// RootCredentialAudit is what one IAMAuditRootUserCredentials session found
// in one member account. Its JSON form is the per-account contract of
// `rootaudit verify --format json`.
//
// A nil PasswordPresent, AccessKeys, MFADevices or SigningCertificates
// means that read was not made or failed (see Error); an empty slice means
// the read answered "none".
type RootCredentialAudit struct {
	AccountID   string `json:"account_id"`
	AccountName string `json:"account_name"`
	// CheckedAt is when the AssumeRoot call was made, UTC.
	CheckedAt time.Time `json:"checked_at"`
	// AssumeStatus is "ok" or the AssumeRoot error code (AccessDenied when
	// root sessions are not enabled for the organization, for example).
	AssumeStatus string `json:"assume_status"`
	// SessionKeyID is the access key ID of the AssumeRoot session (ASIA…),
	// the key its CloudTrail events carry; empty when AssumeRoot failed.
	SessionKeyID string `json:"session_key_id,omitempty"`
	// SessionExpires is the session's expiration, UTC.
	SessionExpires      *time.Time               `json:"session_expires,omitempty"`
	PasswordPresent     *bool                    `json:"password_present"`
	PasswordCreatedAt   *time.Time               `json:"password_created_at"`
	AccessKeys          []RootAccessKey          `json:"access_keys"`
	MFADevices          []RootMFADevice          `json:"mfa_devices"`
	SigningCertificates []RootSigningCertificate `json:"signing_certificates"`
	// State is AuditNoRootCredentials, AuditRootCredentialsPresent or
	// AuditUnknown.
	State string `json:"state"`
	// Present lists the kinds of credential found (password, access-key,
	// mfa-device, signing-certificate); inactive keys and certificates count.
	Present []string `json:"present"`
	// Error is every failed call with its error code and message, "; "
	// separated; empty when every call answered.
	Error string `json:"error,omitempty"`
}

// AuditOptions configure AuditRootCredentials.
type AuditOptions struct {
	// Concurrency is how many accounts are audited at once; 8 when 0.
	Concurrency int
	// SessionSeconds is the AssumeRoot DurationSeconds (1–900);
	// DefaultAuditSessionSeconds when 0.
	SessionSeconds int32
	// Now returns the current time; time.Now when nil (tests).
	Now func() time.Time
}

// AuditRootCredentials audits the root user of every account: for each, it
// calls sts:AssumeRoot with the IAMAuditRootUserCredentials task policy
// using cfg's credentials and region (AssumeRoot has no global endpoint:
// cfg.Region's regional STS endpoint is used), then reads the root user's
// login profile, access keys, MFA devices and signing certificates with the
// session's credentials. At most opts.Concurrency accounts are in flight.
//
// record is called once per account whose audit finished (successfully or
// with a failed call), never concurrently; an error from record stops the
// run and is returned. Accounts not finished when ctx is cancelled are not
// recorded, and ctx's error is returned.
func AuditRootCredentials(ctx context.Context, cfg aws.Config, accounts []OrgAccount, opts AuditOptions, record func(RootCredentialAudit) error) error {
	if cfg.Region == "" || cfg.Region == "aws-global" {
		return errors.New("audit root credentials: sts:AssumeRoot needs a regional endpoint: set a region (--aws-region, AWS_REGION or the profile)")
	}
	conc := opts.Concurrency
	if conc <= 0 {
		conc = 8
	}
	secs := opts.SessionSeconds
	if secs <= 0 {
		secs = DefaultAuditSessionSeconds
	}
	if secs > 900 {
		return fmt.Errorf("audit root credentials: session duration %d s is over the AssumeRoot maximum of 900 s", secs)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	a := &auditor{cfg: cfg, sts: sts.NewFromConfig(cfg), secs: secs, now: now}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	var (
		mu     sync.Mutex
		failed bool // record failed: record nothing more
	)
	for _, acct := range accounts {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			res, err := a.audit(gctx, acct)
			if err != nil {
				return err // cancelled: not finished, not recorded
			}
			mu.Lock()
			defer mu.Unlock()
			if failed {
				return nil
			}
			if err := record(res); err != nil {
				failed = true
				return err
			}
			return nil
		})
	}
	err := g.Wait()
	if ctx.Err() != nil {
		return fmt.Errorf("audit root credentials: %w", ctx.Err())
	}
	return err
}

type auditor struct {
	cfg  aws.Config
	sts  *sts.Client
	secs int32
	now  func() time.Time
}

// audit audits one account. It returns an error only when ctx was
// cancelled before the audit finished; every AWS failure is part of the
// result.
func (a *auditor) audit(ctx context.Context, acct OrgAccount) (RootCredentialAudit, error) {
	r := RootCredentialAudit{AccountID: acct.ID, AccountName: acct.Name, CheckedAt: a.now().UTC(), Present: []string{}}
	var errs []string
	fail := func(op string, err error) {
		errs = append(errs, op+": "+describeAWSError(err))
	}
	out, err := a.sts.AssumeRoot(ctx, &sts.AssumeRootInput{
		TargetPrincipal: aws.String(acct.ID),
		TaskPolicyArn:   &ststypes.PolicyDescriptorType{Arn: aws.String(AuditTaskPolicyARN)},
		DurationSeconds: aws.Int32(a.secs),
	})
	if err == nil && (out.Credentials == nil || out.Credentials.AccessKeyId == nil) {
		err = errors.New("the response holds no credentials")
	}
	if err != nil {
		if ctx.Err() != nil {
			return r, ctx.Err()
		}
		r.AssumeStatus = awsErrorCode(err)
		fail("sts AssumeRoot", err)
		r.State, r.Error = AuditUnknown, strings.Join(errs, "; ")
		return r, nil
	}
	c := out.Credentials
	r.AssumeStatus = AssumeStatusOK
	r.SessionKeyID = aws.ToString(c.AccessKeyId)
	r.SessionExpires = utcTime(c.Expiration)

	client := iam.NewFromConfig(a.cfg, func(o *iam.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	})
	// No UserName anywhere: under AssumeRoot every call is about root.
	lp, err := client.GetLoginProfile(ctx, &iam.GetLoginProfileInput{})
	var nse *iamtypes.NoSuchEntityException
	switch {
	case err == nil:
		r.PasswordPresent = aws.Bool(true)
		if lp.LoginProfile != nil {
			r.PasswordCreatedAt = utcTime(lp.LoginProfile.CreateDate)
		}
	case errors.As(err, &nse):
		r.PasswordPresent = aws.Bool(false) // no password: a result
	default:
		fail("iam GetLoginProfile", err)
	}

	keys := []RootAccessKey{}
	kp := iam.NewListAccessKeysPaginator(client, &iam.ListAccessKeysInput{})
	for kp.HasMorePages() {
		page, err := kp.NextPage(ctx)
		if err != nil {
			fail("iam ListAccessKeys", err)
			keys = nil
			break
		}
		for _, k := range page.AccessKeyMetadata {
			keys = append(keys, RootAccessKey{AccessKeyID: aws.ToString(k.AccessKeyId), Status: string(k.Status), CreatedAt: utcTime(k.CreateDate)})
		}
	}
	r.AccessKeys = keys

	devs := []RootMFADevice{}
	mp := iam.NewListMFADevicesPaginator(client, &iam.ListMFADevicesInput{})
	for mp.HasMorePages() {
		page, err := mp.NextPage(ctx)
		if err != nil {
			fail("iam ListMFADevices", err)
			devs = nil
			break
		}
		for _, d := range page.MFADevices {
			devs = append(devs, RootMFADevice{SerialNumber: aws.ToString(d.SerialNumber), EnabledAt: utcTime(d.EnableDate)})
		}
	}
	r.MFADevices = devs

	certs := []RootSigningCertificate{}
	cp := iam.NewListSigningCertificatesPaginator(client, &iam.ListSigningCertificatesInput{})
	for cp.HasMorePages() {
		page, err := cp.NextPage(ctx)
		if err != nil {
			fail("iam ListSigningCertificates", err)
			certs = nil
			break
		}
		for _, s := range page.Certificates {
			certs = append(certs, RootSigningCertificate{CertificateID: aws.ToString(s.CertificateId), Status: string(s.Status), UploadedAt: utcTime(s.UploadDate)})
		}
	}
	r.SigningCertificates = certs
	if ctx.Err() != nil {
		return r, ctx.Err()
	}

	r.Error = strings.Join(errs, "; ")
	r.Present, r.State = ClassifyAudit(&r)
	return r, nil
}

// ClassifyAudit derives the credentials found and the state of an audit
// result from its reads: any credential found makes it
// root-credentials-present (even when another read failed); otherwise a
// failed AssumeRoot or read makes it unknown.
func ClassifyAudit(r *RootCredentialAudit) (present []string, state string) {
	present = []string{}
	if r.PasswordPresent != nil && *r.PasswordPresent {
		present = append(present, CredentialPassword)
	}
	if len(r.AccessKeys) > 0 {
		present = append(present, CredentialAccessKey)
	}
	if len(r.MFADevices) > 0 {
		present = append(present, CredentialMFADevice)
	}
	if len(r.SigningCertificates) > 0 {
		present = append(present, CredentialSigningCertificate)
	}
	switch {
	case len(present) > 0:
		return present, AuditRootCredentialsPresent
	case r.AssumeStatus != AssumeStatusOK || r.PasswordPresent == nil || r.AccessKeys == nil || r.MFADevices == nil || r.SigningCertificates == nil:
		return present, AuditUnknown
	}
	return present, AuditNoRootCredentials
}

// ListActiveOrgAccounts lists the organization's accounts with
// Organizations ListAccounts (every page), keeping ACTIVE accounts only.
// The caller needs organizations:ListAccounts in the management account
// (or a delegated administrator account).
func ListActiveOrgAccounts(ctx context.Context, cfg aws.Config) ([]OrgAccount, error) {
	client := organizations.NewFromConfig(cfg)
	var out []OrgAccount
	p := organizations.NewListAccountsPaginator(client, &organizations.ListAccountsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("organizations ListAccounts (needs organizations:ListAccounts; or pass --accounts FILE): %w", err)
		}
		for _, a := range page.Accounts {
			status := string(a.State)
			if status == "" {
				status = string(a.Status)
			}
			if status != "" && status != string(orgtypes.AccountStatusActive) {
				continue
			}
			o := OrgAccount{ID: aws.ToString(a.Id), Name: aws.ToString(a.Name), Email: aws.ToString(a.Email), Status: status}
			if a.JoinedTimestamp != nil {
				o.Joined = a.JoinedTimestamp.UTC()
			}
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// ManagementAccountID returns the organization's management account ID
// (Organizations DescribeOrganization MasterAccountId). The caller needs
// organizations:DescribeOrganization.
func ManagementAccountID(ctx context.Context, cfg aws.Config) (string, error) {
	out, err := organizations.NewFromConfig(cfg).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		return "", fmt.Errorf("organizations DescribeOrganization (needs organizations:DescribeOrganization; or pass --management ID): %w", err)
	}
	if out.Organization == nil || !IsAccountID(aws.ToString(out.Organization.MasterAccountId)) {
		return "", errors.New("organizations DescribeOrganization: the answer names no management account; pass --management ID")
	}
	return aws.ToString(out.Organization.MasterAccountId), nil
}

// awsErrorCode is the AWS error code of err (AccessDenied, …), or "error"
// when err is not an AWS API error (a connection failure, for example).
func awsErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() != "" {
		return ae.ErrorCode()
	}
	return "error"
}

// describeAWSError is "Code: message" for an AWS API error, else the error
// text.
func describeAWSError(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() != "" {
		if m := ae.ErrorMessage(); m != "" {
			return ae.ErrorCode() + ": " + m
		}
		return ae.ErrorCode()
	}
	return err.Error()
}

func utcTime(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
