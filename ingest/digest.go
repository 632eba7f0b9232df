package ingest

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/valyala/fastjson"
)

// Digest is one CloudTrail digest file (REFERENCE.md §6), with what its
// validation found. Times are UTC.
type Digest struct {
	AccountID            string
	DigestStart          time.Time
	DigestEnd            time.Time
	DigestEndRaw         string // digestEndTime as written: part of the signed string
	S3Bucket             string
	S3Object             string
	PublicKeyFingerprint string
	SignatureAlgorithm   string
	PreviousS3Bucket     string
	PreviousS3Object     string
	PreviousHash         string
	PreviousSignature    string // "null" for the first digest of a chain
	LogFiles             []DigestLogFile
	SHA256               string // hex SHA-256 of the uncompressed digest file
	Signature            string // hex, from x-amz-meta-signature or a sidecar; "" when unknown
	SignatureStatus      string // valid, invalid, missing, no-key, not-checked
}

// DigestLogFile is one log file a digest vouches for.
type DigestLogFile struct {
	S3Bucket    string `json:"s3Bucket"`
	S3Object    string `json:"s3Object"`
	HashValue   string `json:"hashValue"`
	OldestEvent string `json:"oldestEventTime"`
	NewestEvent string `json:"newestEventTime"`
}

// ParseDigest decodes the uncompressed JSON of a digest file. sha is the hex
// SHA-256 of those same bytes.
func ParseDigest(b []byte, sha string) (*Digest, error) {
	raw, err := decodeDigest(b)
	if err != nil {
		return nil, fmt.Errorf("digest: invalid JSON: %w", err)
	}
	if raw.DigestEndTime == "" || raw.DigestS3Object == "" {
		return nil, errors.New("digest: digestEndTime or digestS3Object missing")
	}
	d := &Digest{
		AccountID: raw.AWSAccountID, DigestEndRaw: raw.DigestEndTime, S3Bucket: raw.DigestS3Bucket, S3Object: raw.DigestS3Object,
		PublicKeyFingerprint: raw.Fingerprint, SignatureAlgorithm: raw.Algorithm, LogFiles: raw.LogFiles, SHA256: sha,
		PreviousSignature: "null", SignatureStatus: "not-checked",
	}
	if d.DigestEnd, err = time.Parse(time.RFC3339, raw.DigestEndTime); err != nil {
		return nil, fmt.Errorf("digest: digestEndTime %q: %w", clip(raw.DigestEndTime), err)
	}
	if raw.DigestStartTime != "" {
		if d.DigestStart, err = time.Parse(time.RFC3339, raw.DigestStartTime); err != nil {
			return nil, fmt.Errorf("digest: digestStartTime %q: %w", clip(raw.DigestStartTime), err)
		}
	}
	if raw.PreviousDigestS3Bucket != nil {
		d.PreviousS3Bucket = *raw.PreviousDigestS3Bucket
	}
	if raw.PreviousDigestS3Object != nil {
		d.PreviousS3Object = *raw.PreviousDigestS3Object
	}
	if raw.PreviousDigestHashValue != nil {
		d.PreviousHash = *raw.PreviousDigestHashValue
	}
	if raw.PreviousDigestSignature != nil && *raw.PreviousDigestSignature != "" {
		d.PreviousSignature = *raw.PreviousDigestSignature
	}
	d.DigestStart, d.DigestEnd = d.DigestStart.UTC(), d.DigestEnd.UTC()
	return d, nil
}

// digestJSON holds the fields of a digest file as written. The previous-
// digest fields are pointers because JSON null (the first digest of a
// chain) differs from an empty string.
type digestJSON struct {
	AWSAccountID            string
	DigestStartTime         string
	DigestEndTime           string
	DigestS3Bucket          string
	DigestS3Object          string
	Fingerprint             string
	Algorithm               string
	PreviousDigestS3Bucket  *string
	PreviousDigestS3Object  *string
	PreviousDigestHashValue *string
	PreviousDigestSignature *string
	LogFiles                []DigestLogFile
}

var digestParsers fastjson.ParserPool

// decodeDigest reads a digest file's fields with fastjson: encoding/json's
// reflection cost 0.6 s of CPU over the 8,000 digests of the bench trail.
// It follows encoding/json's rules where a digest can meet them: unknown
// keys are ignored, null leaves a field unset, a later duplicate key wins,
// and a value of the wrong type is an error naming the field. Keys match
// exactly (encoding/json would also take other letter cases; CloudTrail
// writes these).
func decodeDigest(b []byte) (digestJSON, error) {
	var raw digestJSON
	p := digestParsers.Get()
	defer digestParsers.Put(p)
	v, err := p.ParseBytes(b)
	if err != nil {
		return raw, err
	}
	if v.Type() == fastjson.TypeNull {
		return raw, nil
	}
	o, err := v.Object()
	if err != nil {
		return raw, fmt.Errorf("a digest is a JSON object, not %s", v.Type())
	}
	o.Visit(func(k []byte, v *fastjson.Value) {
		if err != nil {
			return
		}
		switch string(k) {
		case "awsAccountId":
			err = jsonString(v, "awsAccountId", &raw.AWSAccountID)
		case "digestStartTime":
			err = jsonString(v, "digestStartTime", &raw.DigestStartTime)
		case "digestEndTime":
			err = jsonString(v, "digestEndTime", &raw.DigestEndTime)
		case "digestS3Bucket":
			err = jsonString(v, "digestS3Bucket", &raw.DigestS3Bucket)
		case "digestS3Object":
			err = jsonString(v, "digestS3Object", &raw.DigestS3Object)
		case "digestPublicKeyFingerprint":
			err = jsonString(v, "digestPublicKeyFingerprint", &raw.Fingerprint)
		case "digestSignatureAlgorithm":
			err = jsonString(v, "digestSignatureAlgorithm", &raw.Algorithm)
		case "previousDigestS3Bucket":
			err = jsonStringPtr(v, "previousDigestS3Bucket", &raw.PreviousDigestS3Bucket)
		case "previousDigestS3Object":
			err = jsonStringPtr(v, "previousDigestS3Object", &raw.PreviousDigestS3Object)
		case "previousDigestHashValue":
			err = jsonStringPtr(v, "previousDigestHashValue", &raw.PreviousDigestHashValue)
		case "previousDigestSignature":
			err = jsonStringPtr(v, "previousDigestSignature", &raw.PreviousDigestSignature)
		case "logFiles":
			err = jsonLogFiles(v, &raw.LogFiles)
		}
	})
	return raw, err
}

func jsonString(v *fastjson.Value, field string, dst *string) error {
	switch v.Type() {
	case fastjson.TypeString:
		*dst = string(v.GetStringBytes())
	case fastjson.TypeNull:
	default:
		return fmt.Errorf("%s is %s, want a string", field, v.Type())
	}
	return nil
}

func jsonStringPtr(v *fastjson.Value, field string, dst **string) error {
	if v.Type() == fastjson.TypeNull {
		return nil
	}
	var s string
	if err := jsonString(v, field, &s); err != nil {
		return err
	}
	*dst = &s
	return nil
}

func jsonLogFiles(v *fastjson.Value, dst *[]DigestLogFile) error {
	switch v.Type() {
	case fastjson.TypeNull:
		return nil
	case fastjson.TypeArray:
	default:
		return fmt.Errorf("logFiles is %s, want an array", v.Type())
	}
	items, _ := v.Array()
	out := make([]DigestLogFile, len(items))
	for i, it := range items {
		if it.Type() == fastjson.TypeNull {
			continue
		}
		o, err := it.Object()
		if err != nil {
			return fmt.Errorf("logFiles[%d] is %s, want an object", i, it.Type())
		}
		lf := &out[i]
		o.Visit(func(k []byte, v *fastjson.Value) {
			if err != nil {
				return
			}
			switch string(k) {
			case "s3Bucket":
				err = jsonString(v, "logFiles[].s3Bucket", &lf.S3Bucket)
			case "s3Object":
				err = jsonString(v, "logFiles[].s3Object", &lf.S3Object)
			case "hashValue":
				err = jsonString(v, "logFiles[].hashValue", &lf.HashValue)
			case "oldestEventTime":
				err = jsonString(v, "logFiles[].oldestEventTime", &lf.OldestEvent)
			case "newestEventTime":
				err = jsonString(v, "logFiles[].newestEventTime", &lf.NewestEvent)
			}
		})
		if err != nil {
			return err
		}
	}
	*dst = out
	return nil
}

// SigningString is the string CloudTrail signs for a digest: the end time,
// the digest's bucket/key, the hex SHA-256 of its uncompressed content and
// the previous digest's signature ("null" for the first).
func (d *Digest) SigningString() string {
	return d.DigestEndRaw + "\n" + d.S3Bucket + "/" + d.S3Object + "\n" + d.SHA256 + "\n" + d.PreviousSignature
}

// PublicKey is one CloudTrail digest-signing key.
type PublicKey struct {
	Fingerprint string
	Key         *rsa.PublicKey
	ValidFrom   time.Time
	ValidUntil  time.Time
}

// PublicKeys finds signing keys by fingerprint.
type PublicKeys map[string][]PublicKey

// Add parses a DER key (PKCS#1 RSAPublicKey, as ListPublicKeys returns, or
// PKIX) and stores it under its fingerprint.
func (p PublicKeys) Add(fingerprint string, der []byte, from, until time.Time) error {
	key, err := x509.ParsePKCS1PublicKey(der)
	if err != nil {
		pub, err2 := x509.ParsePKIXPublicKey(der)
		if err2 != nil {
			return fmt.Errorf("public key %s: %w", fingerprint, err)
		}
		var ok bool
		if key, ok = pub.(*rsa.PublicKey); !ok {
			return fmt.Errorf("public key %s is not RSA", fingerprint)
		}
	}
	fp := strings.ToLower(fingerprint)
	p[fp] = append(p[fp], PublicKey{Fingerprint: fp, Key: key, ValidFrom: from, ValidUntil: until})
	return nil
}

// ReadPublicKeys reads the JSON that `aws cloudtrail list-public-keys`
// prints ({"PublicKeyList":[{"Value": base64 DER, "Fingerprint", …}]}),
// for validation without network access.
func ReadPublicKeys(path string) (PublicKeys, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read public keys: %w", err)
	}
	var doc struct {
		PublicKeyList []struct {
			Value             string
			Fingerprint       string
			ValidityStartTime string
			ValidityEndTime   string
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse public keys %s: %w", path, err)
	}
	// A file with no key (the wrong file, or '{}') would make every
	// signature fail validation: thousands of failures for a mistake.
	if len(doc.PublicKeyList) == 0 {
		return nil, fmt.Errorf("parse public keys %s: no key in PublicKeyList (want the output of aws cloudtrail list-public-keys)", path)
	}
	keys := PublicKeys{}
	for _, k := range doc.PublicKeyList {
		der, err := base64.StdEncoding.DecodeString(k.Value)
		if err != nil {
			return nil, fmt.Errorf("parse public keys %s: key %s: %w", path, k.Fingerprint, err)
		}
		from, _ := time.Parse(time.RFC3339, k.ValidityStartTime)
		until, _ := time.Parse(time.RFC3339, k.ValidityEndTime)
		if err := keys.Add(k.Fingerprint, der, from, until); err != nil {
			return nil, fmt.Errorf("parse public keys %s: %w", path, err)
		}
	}
	return keys, nil
}

// Verify checks d's signature with the key of its fingerprint and sets
// d.SignatureStatus: valid, invalid, missing (no signature known) or no-key
// (no public key with that fingerprint).
func (p PublicKeys) Verify(d *Digest) {
	if d.Signature == "" {
		d.SignatureStatus = "missing"
		return
	}
	keys := p[strings.ToLower(d.PublicKeyFingerprint)]
	if len(keys) == 0 {
		d.SignatureStatus = "no-key"
		return
	}
	sig, err := hex.DecodeString(strings.TrimSpace(d.Signature))
	if err != nil {
		d.SignatureStatus = "invalid"
		return
	}
	sum := sha256.Sum256([]byte(d.SigningString()))
	for _, k := range keys {
		if rsa.VerifyPKCS1v15(k.Key, crypto.SHA256, sum[:], sig) == nil {
			d.SignatureStatus = "valid"
			return
		}
	}
	d.SignatureStatus = "invalid"
}

// SignatureReader is implemented by the readers of sources that know a
// digest's signature from object metadata (S3's x-amz-meta-signature).
type SignatureReader interface {
	Signature() string
}
