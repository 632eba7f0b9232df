package s3test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Trail describes a small synthetic CloudTrail tree: FilesPerDay gzip log
// files for every account, region and delivery day, each with
// RecordsPerFile records (about a third of them root or AssumeRoot events
// that ingest keeps; some records repeat in the next file, as CloudTrail
// duplicates do).
type Trail struct {
	Prefix         string // before AWSLogs/: "" or ending with "/"
	OrgID          string // "" for the single-account layout AWSLogs/ACCOUNT/
	Accounts       []string
	Regions        []string
	Days           []time.Time // delivery days (UTC midnight)
	FilesPerDay    int
	RecordsPerFile int
	Seed           uint64
	// Extras adds, per account, region and day, a CloudTrail-Digest and a
	// CloudTrail-Insight file (which must never be read as logs).
	Extras bool
}

// Days returns n consecutive UTC days from the first.
func Days(first string, n int) []time.Time {
	d, err := time.Parse("2006-01-02", first)
	if err != nil {
		panic(err)
	}
	out := make([]time.Time, n)
	for i := range out {
		out[i] = d.AddDate(0, 0, i)
	}
	return out
}

// Write writes the tree under dir and returns the slash-separated keys
// (relative to dir) of the log files and of the extra files.
func (t Trail) Write(dir string) (logs, extras []string, err error) {
	r := rand.New(rand.NewPCG(t.Seed, 0x5eed))
	var prev string
	for _, acct := range t.Accounts {
		base := t.Prefix + "AWSLogs/"
		if t.OrgID != "" {
			base += t.OrgID + "/"
		}
		base += acct + "/"
		for _, region := range t.Regions {
			for _, day := range t.Days {
				dayPath := day.Format("2006/01/02") + "/"
				for i := 0; i < t.FilesPerDay; i++ {
					at := day.Add(time.Duration(5*i%1440) * time.Minute)
					name := fmt.Sprintf("%s_CloudTrail_%s_%s_%s.json.gz", acct, region, at.Format("20060102T1504Z"), unique(r))
					key := base + "CloudTrail/" + region + "/" + dayPath + name
					var recs []string
					if prev != "" && r.IntN(4) == 0 {
						recs = append(recs, prev) // a duplicate delivered again
					}
					for len(recs) < t.RecordsPerFile {
						recs = append(recs, record(r, acct, region, at.Add(-time.Duration(r.IntN(600))*time.Second)))
					}
					prev = recs[len(recs)-1]
					if err := writeGz(dir, key, `{"Records":[`+strings.Join(recs, ",")+`]}`); err != nil {
						return nil, nil, err
					}
					logs = append(logs, key)
				}
				if !t.Extras {
					continue
				}
				dg := base + "CloudTrail-Digest/" + region + "/" + dayPath + fmt.Sprintf("%s_CloudTrail-Digest_%s_org-trail_us-east-1_%s.json.gz", acct, region, day.Format("20060102T150405Z"))
				if err := writeGz(dir, dg, fmt.Sprintf(`{"awsAccountId":%q,"digestStartTime":%q,"digestEndTime":%q,"digestS3Bucket":"b","digestS3Object":%q,"logFiles":[]}`,
					acct, day.Format(time.RFC3339), day.Add(time.Hour).Format(time.RFC3339), dg)); err != nil {
					return nil, nil, err
				}
				in := base + "CloudTrail-Insight/" + region + "/" + dayPath + fmt.Sprintf("%s_CloudTrail-Insight_%s_%s_%s.json.gz", acct, region, day.Format("20060102T1504Z"), unique(r))
				if err := writeGz(dir, in, `{"Records":[{"eventVersion":"1.08","eventTime":"`+day.Format(time.RFC3339)+`","awsRegion":"`+region+`","eventID":"`+uuid(r)+`","eventType":"AwsCloudTrailInsight","recipientAccountId":"`+acct+`","sharedEventID":"`+uuid(r)+`","insightDetails":{"state":"Start","eventSource":"iam.amazonaws.com","eventName":"ListAccessKeys","insightType":"ApiCallRateInsight"},"eventCategory":"Insight","userIdentity":{"type":"Root"}}]}`); err != nil {
					return nil, nil, err
				}
				extras = append(extras, dg, in)
			}
		}
	}
	return logs, extras, nil
}

func writeGz(dir, key, body string) error {
	p := filepath.Join(dir, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(body))
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(p, b.Bytes(), 0o644)
}

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func unique(r *rand.Rand) string {
	b := make([]byte, 16)
	for i := range b {
		b[i] = alnum[r.IntN(len(alnum))]
	}
	return string(b)
}

func uuid(r *rand.Rand) string {
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), 0x8000|r.IntN(1<<14), r.Uint64()&(1<<48-1))
}

func ip(r *rand.Rand) string {
	return fmt.Sprintf("%d.%d.%d.%d", 11+r.IntN(200), r.IntN(256), r.IntN(256), 1+r.IntN(254))
}

// record returns one CloudTrail record: a root console call, a root
// sign-in, an AssumeRoot call, or ordinary traffic that ingest drops.
func record(r *rand.Rand, acct, region string, at time.Time) string {
	ts := at.UTC().Format(time.RFC3339)
	id, req := uuid(r), uuid(r)
	switch r.IntN(9) {
	case 0:
		return fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"%[1]s","arn":"arn:aws:iam::%[1]s:root","accountId":"%[1]s","accessKeyId":"ASIA%[2]s","sessionContext":{"sessionIssuer":{},"webIdFederationData":{},"attributes":{"creationDate":"%[3]s","mfaAuthenticated":"true"}},"invokedBy":"signin.amazonaws.com"},"eventTime":"%[3]s","eventSource":"iam.amazonaws.com","eventName":"ListAccessKeys","awsRegion":"%[4]s","sourceIPAddress":"%[5]s","userAgent":"signin.amazonaws.com","requestParameters":null,"responseElements":null,"requestID":"%[6]s","eventID":"%[7]s","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"%[1]s","eventCategory":"Management","sessionCredentialFromConsole":"true"}`,
			acct, strings.ToUpper(unique(r)[:16]), ts, region, ip(r), req, id)
	case 1:
		return fmt.Sprintf(`{"eventVersion":"1.10","userIdentity":{"type":"Root","principalId":"%[1]s","arn":"arn:aws:iam::%[1]s:root","accountId":"%[1]s","accessKeyId":""},"eventTime":"%[2]s","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"%[3]s","userAgent":"Mozilla/5.0","requestParameters":null,"responseElements":{"ConsoleLogin":"%[4]s"},"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/console/home","MobileVersion":"No","MFAUsed":"%[5]s"},"eventID":"%[6]s","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"%[1]s","eventCategory":"Management"}`,
			acct, ts, ip(r), []string{"Success", "Failure"}[r.IntN(2)], []string{"Yes", "No", "YES"}[r.IntN(3)], id)
	case 2:
		return fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:alice","arn":"arn:aws:sts::%[1]s:assumed-role/Admin/alice","accountId":"%[1]s","accessKeyId":"ASIAEXAMPLE%[2]s","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::%[1]s:role/Admin","accountId":"%[1]s","userName":"Admin"},"attributes":{"creationDate":"%[3]s","mfaAuthenticated":"false"}}},"eventTime":"%[3]s","eventSource":"sts.amazonaws.com","eventName":"AssumeRoot","awsRegion":"%[4]s","sourceIPAddress":"%[5]s","userAgent":"aws-cli/2.22.5","requestParameters":{"targetPrincipal":"%[1]s","taskPolicyArn":{"arn":"arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"},"durationSeconds":900},"responseElements":{"credentials":{"accessKeyId":"ASIA%[2]s","sessionToken":"IQoJb3JpZ2luX2VjEXAMPLE","expiration":"Jan 23, 2026, 3:13:36 PM"}},"requestID":"%[6]s","eventID":"%[7]s","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"%[1]s","eventCategory":"Management"}`,
			acct, strings.ToUpper(unique(r)[:12]), ts, region, ip(r), req, id)
	default:
		return fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::%[1]s:user/deploy","accountId":"%[1]s","accessKeyId":"AKIAEXAMPLE","userName":"deploy"},"eventTime":"%[2]s","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"%[3]s","sourceIPAddress":"%[4]s","userAgent":"aws-sdk-go-v2/1.30","requestParameters":{"maxResults":%[5]d},"responseElements":null,"requestID":"%[6]s","eventID":"%[7]s","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"%[1]s","eventCategory":"Management"}`,
			acct, ts, region, ip(r), 5+r.IntN(100), req, id)
	}
}
