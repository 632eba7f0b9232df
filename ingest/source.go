package ingest

import (
	"context"
	"io"
	"time"
)

// FileRef is one file a Source found. Open is called by a worker when it is
// ready to read; the reader must stream (no whole-object buffering).
type FileRef struct {
	// Source identifies the file in the store: an absolute local path or
	// s3://bucket/key. It is the checkpoint key.
	Source string
	Key    KeyInfo
	Size   int64 // bytes as stored (compressed)
	// ETag is the S3 ETag, or for local files a fingerprint of size and
	// modification time, so a changed file is read again.
	ETag    string
	ModTime time.Time
	Open    func(ctx context.Context) (io.ReadCloser, error)
	// Explicit is true when the user named this file directly; it is then
	// parsed whatever its path looks like.
	Explicit bool
	// Loose is true for a .json file found outside the AWSLogs layout whose
	// name is not a CloudTrail log name (an exported data set, or the
	// accounts.json next to a trail): a JSON object without Records is then
	// skipped as not-a-log instead of failing.
	Loose bool
	// Signature is a digest file's hex signature when the source knows it
	// at listing time (a local "<file>.sig" sidecar); S3 readers report it
	// from object metadata through SignatureReader instead.
	Signature string
}

// Source lists the files of one place (a local directory, a bucket prefix).
type Source interface {
	// List sends every file that passes f to out and returns when done or
	// when ctx is cancelled. Files the filter rejects are not sent.
	List(ctx context.Context, f *Filter, out chan<- FileRef) error
	// String names the source for messages and provenance.
	String() string
}

// Filter selects files by what their path says. Record-level event times
// are not filtered at ingest: every kept record of a file that is read is
// stored, and reports filter by eventTime, so widening a report window never
// needs a re-ingest of files already read.
type Filter struct {
	// Since and Until bound the delivery day of files read (UTC), each
	// widened by one day because delivery time is not event time. Zero
	// means unbounded.
	Since, Until time.Time
	Accounts     map[string]bool // nil: all
	Regions      map[string]bool // nil: all
}

// DayMargin is how far outside [Since, Until) a delivery day may fall and
// still be read: CloudTrail delivers about every 5 minutes, so events of the
// last minutes of a day arrive in the next day's folder.
const DayMargin = 24 * time.Hour

// WantDay reports whether a delivery day (UTC midnight) can hold events of
// the window.
func (f *Filter) WantDay(day time.Time) bool {
	if f == nil || day.IsZero() {
		return true
	}
	if !f.Since.IsZero() && !day.Add(24*time.Hour).After(f.Since.Add(-DayMargin)) {
		return false
	}
	if !f.Until.IsZero() && !day.Before(f.Until.Add(DayMargin)) {
		return false
	}
	return true
}

// WantAccount reports whether an account passes --account (an unknown
// account always passes: the file may still hold the account's events).
func (f *Filter) WantAccount(acct string) bool {
	return f == nil || f.Accounts == nil || acct == "" || f.Accounts[acct]
}

// WantRegion reports whether a region passes --region.
func (f *Filter) WantRegion(r string) bool {
	return f == nil || f.Regions == nil || r == "" || f.Regions[r]
}

// WantKey applies every path-level test to a parsed key.
func (f *Filter) WantKey(ki KeyInfo) bool {
	return f.WantAccount(ki.AccountID) && f.WantRegion(ki.Region) && f.WantDay(ki.Day)
}
