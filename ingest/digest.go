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
	if err := json.Unmarshal(b, &raw); err != nil {
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
	var err error
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
