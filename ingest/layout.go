// Package ingest turns CloudTrail log files from local directories, S3 or the
// CloudTrail APIs into decoded root-relevant events, one file at a time.
//
// Data flows one way: a Source lists FileRefs, Process decodes one file into a
// FileResult, and the caller (the query package's Loader, wired by cmd)
// commits each FileResult atomically. Nothing here knows about DuckDB.
package ingest

import (
	"path"
	"strings"
	"time"
)

// Kind says what a file in a trail bucket is.
type Kind string

// The kinds of file found under AWSLogs/.
const (
	KindLog     Kind = "log"     // CloudTrail/ log file: {"Records":[...]}
	KindDigest  Kind = "digest"  // CloudTrail-Digest/ integrity file
	KindInsight Kind = "insight" // CloudTrail-Insight/ file (other record shape)
	KindOther   Kind = "other"   // anything else: not parsed, only counted
)

// KeyInfo is what the path of a file says about it. Fields are empty when the
// path does not carry them (a file outside the AWSLogs layout).
type KeyInfo struct {
	Kind      Kind
	Prefix    string    // everything before AWSLogs/ ("" when at the root)
	OrgID     string    // o-xxxxxxxxxx, or "" for a single-account trail
	AccountID string    // 12 digits
	Region    string    // e.g. us-east-1
	Day       time.Time // delivery day (UTC midnight) from YYYY/MM/DD; zero if unknown
	InLayout  bool      // the path matched AWSLogs/[o-…/]ACCOUNT/FOLDER/REGION/YYYY/MM/DD/NAME
}

// ParseKey parses an S3 key or a slash-separated local path of a trail file.
// It finds the last "AWSLogs/" segment, an optional organization segment, a
// 12-digit account, the service folder, the region and the delivery date. It
// never assumes a fixed depth, because prefixes and Control Tower layouts
// vary (REFERENCE.md §1). When the path has no AWSLogs layout, ParseKey falls
// back to the CloudTrail file-name pattern ACCOUNT_CloudTrail_REGION_… so that
// a flat copy of log files still carries account and region.
func ParseKey(key string) KeyInfo {
	segs := strings.Split(key, "/")
	idx := -1
	for i := len(segs) - 1; i >= 0; i-- {
		if segs[i] == "AWSLogs" {
			idx = i
			break
		}
	}
	if idx < 0 {
		ki := fromName(path.Base(key))
		ki.Kind = KindLog
		if strings.Contains(key, "CloudTrail-Digest") {
			ki.Kind = KindDigest
		} else if strings.Contains(key, "CloudTrail-Insight") {
			ki.Kind = KindInsight
		}
		return ki
	}
	ki := KeyInfo{Kind: KindOther, Prefix: strings.Join(segs[:idx], "/")}
	rest := segs[idx+1:]
	if len(rest) > 0 && IsOrgID(rest[0]) {
		ki.OrgID = rest[0]
		rest = rest[1:]
	}
	// ACCOUNT / FOLDER / REGION / YYYY / MM / DD / NAME
	if len(rest) != 7 || !IsAccountID(rest[0]) {
		return ki
	}
	ki.AccountID = rest[0]
	switch rest[1] {
	case "CloudTrail":
		ki.Kind = KindLog
	case "CloudTrail-Digest":
		ki.Kind = KindDigest
	case "CloudTrail-Insight":
		ki.Kind = KindInsight
	default:
		return ki
	}
	if !isRegion(rest[2]) {
		ki.Kind = KindOther
		return ki
	}
	ki.Region = rest[2]
	day, err := time.Parse("2006/01/02", rest[3]+"/"+rest[4]+"/"+rest[5])
	if err != nil || rest[6] == "" {
		ki.Kind = KindOther
		return ki
	}
	ki.Day = day
	ki.InLayout = true
	return ki
}

// fromName reads ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json[.gz].
func fromName(name string) KeyInfo {
	parts := strings.Split(name, "_")
	if len(parts) < 4 || !IsAccountID(parts[0]) || !strings.HasPrefix(parts[1], "CloudTrail") || !isRegion(parts[2]) {
		return KeyInfo{}
	}
	ki := KeyInfo{AccountID: parts[0], Region: parts[2]}
	if len(parts[3]) >= 8 {
		if d, err := time.Parse("20060102", parts[3][:8]); err == nil {
			ki.Day = d
		}
	}
	return ki
}

// IsAccountID reports whether s is a 12-digit AWS account ID.
func IsAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// IsOrgID reports whether s is an AWS Organizations ID: "o-" and 10 to 32
// lower-case letters or digits.
func IsOrgID(s string) bool {
	if len(s) < 12 || len(s) > 34 || !strings.HasPrefix(s, "o-") {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// isRegion accepts region-shaped names (letters, digits and dashes, with at
// least one dash) without a fixed list, so new regions and partitions work.
func isRegion(s string) bool {
	if len(s) < 4 || len(s) > 32 || !strings.Contains(s, "-") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
