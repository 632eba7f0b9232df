package ingest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// decodeDigestReference is the encoding/json decoding decodeDigest
// replaced; the two must agree on every digest CloudTrail writes.
func decodeDigestReference(b []byte) (digestJSON, error) {
	var raw struct {
		AWSAccountID            string          `json:"awsAccountId"`
		DigestStartTime         string          `json:"digestStartTime"`
		DigestEndTime           string          `json:"digestEndTime"`
		DigestS3Bucket          string          `json:"digestS3Bucket"`
		DigestS3Object          string          `json:"digestS3Object"`
		Fingerprint             string          `json:"digestPublicKeyFingerprint"`
		Algorithm               string          `json:"digestSignatureAlgorithm"`
		PreviousDigestS3Bucket  *string         `json:"previousDigestS3Bucket"`
		PreviousDigestS3Object  *string         `json:"previousDigestS3Object"`
		PreviousDigestHashValue *string         `json:"previousDigestHashValue"`
		PreviousDigestSignature *string         `json:"previousDigestSignature"`
		LogFiles                []DigestLogFile `json:"logFiles"`
	}
	err := json.Unmarshal(b, &raw)
	return digestJSON(raw), err
}

// sampleDigests returns the uncompressed digest files of the committed
// sample trail and the real sample in ../shared.
func sampleDigests(t testing.TB) [][]byte {
	var out [][]byte
	for _, root := range []string{"../fixtures/sample/trail", "../../shared/samples"} {
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.Contains(p, "Digest") || !strings.HasSuffix(p, ".json.gz") {
				return nil
			}
			f, err := os.Open(p)
			if err != nil {
				return nil
			}
			defer f.Close()
			zr, err := gzip.NewReader(f)
			if err != nil {
				return nil
			}
			var b bytes.Buffer
			if _, err := b.ReadFrom(zr); err == nil {
				out = append(out, b.Bytes())
			}
			return nil
		})
	}
	return out
}

func TestDecodeDigestMatchesEncodingJSON(t *testing.T) {
	docs := sampleDigests(t)
	if len(docs) < 5 {
		t.Fatalf("only %d sample digests", len(docs))
	}
	docs = append(docs,
		[]byte(`null`),
		[]byte(`{"digestEndTime":"2026-01-01T01:00:00Z","digestS3Object":"k","previousDigestSignature":null,"logFiles":null,"x":[1,{"y":2}]}`),
		[]byte(`{"digestS3Object":"a","digestS3Object":"b","logFiles":[null,{"s3Object":"o","hashValue":"h","extra":true}]}`),
		[]byte(`{"awsAccountId":"1","awsAccountId":null}`),
	)
	for i, b := range docs {
		got, gerr := decodeDigest(b)
		want, werr := decodeDigestReference(b)
		if (gerr != nil) != (werr != nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("document %d: fastjson %+v (err %v), encoding/json %+v (err %v)", i, got, gerr, want, werr)
		}
	}
	for _, bad := range []string{`[1]`, `"x"`, `{"awsAccountId":5}`, `{"logFiles":{}}`, `{"logFiles":[1]}`, `{"logFiles":[{"hashValue":[]}]}`, `{"previousDigestHashValue":true}`, `{`} {
		if _, err := decodeDigest([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
		if _, err := decodeDigestReference([]byte(bad)); err == nil {
			t.Errorf("%s: the reference accepts it: the test is wrong", bad)
		}
	}
}

// FuzzParseDigest checks that ParseDigest never panics and agrees with
// encoding/json on whether a document is acceptable, and on its fields,
// whenever the keys are spelled as CloudTrail spells them.
func FuzzParseDigest(f *testing.F) {
	for _, b := range sampleDigests(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"digestEndTime":"2026-01-01T01:00:00Z","digestS3Object":"k","logFiles":[{"s3Object":"o"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDigest(b, "00")
		if err == nil && (d.DigestEndRaw == "" || d.S3Object == "") {
			t.Fatalf("accepted a digest without end time or object: %+v", d)
		}
		got, gerr := decodeDigest(b)
		want, werr := decodeDigestReference(b)
		if gerr == nil && werr == nil && !reflect.DeepEqual(got, want) && !caseVariantKeys(b) {
			t.Fatalf("fastjson %+v, encoding/json %+v", got, want)
		}
		if (gerr == nil) != (werr == nil) && !caseVariantKeys(b) && json.Valid(b) {
			t.Fatalf("fastjson err %v, encoding/json err %v", gerr, werr)
		}
	})
}

// caseVariantKeys reports whether b may hold a key that encoding/json
// matches case-insensitively (with Unicode folding) and decodeDigest
// deliberately does not, or an escaped key: there the two may differ.
func caseVariantKeys(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 || c == '\\' {
			return true
		}
	}
	lower := bytes.ToLower(b)
	for _, k := range []string{"awsAccountId", "digestStartTime", "digestEndTime", "digestS3Bucket", "digestS3Object", "digestPublicKeyFingerprint",
		"digestSignatureAlgorithm", "previousDigestS3Bucket", "previousDigestS3Object", "previousDigestHashValue", "previousDigestSignature",
		"logFiles", "s3Bucket", "s3Object", "hashValue", "oldestEventTime", "newestEventTime"} {
		if bytes.Count(lower, bytes.ToLower([]byte(k))) != bytes.Count(b, []byte(k)) {
			return true
		}
	}
	return false
}
