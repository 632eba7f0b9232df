package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/sync/errgroup"
)

// Defaults of S3Options.
const (
	DefaultS3ListConcurrency = 16
	DefaultS3RequestTimeout  = 60 * time.Second
	DefaultS3ListRetries     = 5
	s3PageSize               = 1000
	// s3SearchDepth is how many folder levels below the given prefix are
	// searched for AWSLogs/, and s3SearchWidth how many sub-folders of one
	// folder are searched at most (a trail bucket holds few top-level
	// folders; a bucket that holds many is not searched blindly).
	s3SearchDepth = 3
	s3SearchWidth = 100
	// s3ComputeDays: when at most this many days of a month are wanted (a
	// one-day window with its margins, or the edge of a longer one), their
	// prefixes are computed rather than found by listing the month.
	s3ComputeDays = 3
)

// S3Options tune an S3Source.
type S3Options struct {
	// ListConcurrency is how many ListObjectsV2 requests run at once.
	ListConcurrency int
	// RequestTimeout bounds the wait for the first byte of a response and
	// every idle gap while a body streams; a stalled request fails with a
	// TransientError. DefaultS3RequestTimeout when 0.
	RequestTimeout time.Duration
	// ListRetries is how many times one listing page is requested again
	// after a transient failure (on top of the SDK's own attempts), with
	// jittered exponential backoff from RetryBase. DefaultS3ListRetries
	// when 0; negative means none.
	ListRetries int
	RetryBase   time.Duration
	// Now is the clock (tests); delivery days after Now+DayMargin are never
	// listed.
	Now func() time.Time
	// Digests makes the walk list CloudTrail-Digest/ beside CloudTrail/
	// (for ingest --validate); the digests' signatures come from object
	// metadata (x-amz-meta-signature).
	Digests bool
}

// S3ListStats count what a listing did, safe to read while it runs.
type S3ListStats struct {
	Requests    atomic.Int64 // ListObjectsV2 calls, pages and retries included
	DayPrefixes atomic.Int64 // YYYY/MM/DD/ prefixes listed
	Objects     atomic.Int64 // log objects sent
}

// S3Source lists and streams CloudTrail log files from a bucket prefix. It
// walks the layout with delimiter listings (AWSLogs/ → o-ORG/ → ACCOUNT/ →
// CloudTrail/ → REGION/ → YYYY/ → MM/ → DD/), pruned by the Filter at every
// level, and lists only the YYYY/MM/DD/ day prefixes the Filter wants, so
// it never lists a whole bucket. Sibling
// folders of CloudTrail/ (CloudTrail-Digest/, CloudTrail-Insight/, …) are
// never listed or fetched.
type S3Source struct {
	client *s3.Client
	Bucket string
	Prefix string // "" or ends with "/"
	opts   S3Options
	sem    chan struct{}
	single string // a single object named by the URL ("" when a prefix)
	start  node   // where the walk starts
	Stats  S3ListStats
}

// ParseS3URL splits s3://BUCKET[/PREFIX] into bucket and prefix. The prefix
// is returned as given (without a leading slash).
func ParseS3URL(u string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q is not an s3:// URL", u)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if err := checkBucketName(bucket); err != nil {
		return "", "", fmt.Errorf("%s: %w", u, err)
	}
	if strings.Contains(prefix, "//") || strings.HasPrefix(prefix, "/") {
		return "", "", fmt.Errorf("%s: empty path segment in the prefix", u)
	}
	return bucket, prefix, nil
}

// checkBucketName accepts S3 bucket names (3-63 characters of lower-case
// letters, digits, dots and dashes) and the wider legacy form with
// upper-case letters and underscores that some S3-compatible stores allow.
func checkBucketName(b string) error {
	if len(b) < 3 || len(b) > 255 {
		return fmt.Errorf("bucket name %q must be 3 to 63 characters (255 for legacy buckets)", b)
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return fmt.Errorf("bucket name %q has a character S3 does not allow (%q)", b, c)
		}
	}
	return nil
}

// NewS3Source returns a Source over s3://bucket/prefix. It makes one small
// delimiter listing of the prefix, so that a missing bucket, missing
// permissions or a wrong region (a *WrongRegionError, which names the
// bucket's region) are reported before any work starts.
func NewS3Source(ctx context.Context, client *s3.Client, bucket, prefix string, opts S3Options) (s *S3Source, err error) {
	if client == nil {
		return nil, errors.New("s3 source: nil client")
	}
	if err := checkBucketName(bucket); err != nil {
		return nil, fmt.Errorf("s3 source: %w", err)
	}
	if opts.ListConcurrency <= 0 {
		opts.ListConcurrency = DefaultS3ListConcurrency
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultS3RequestTimeout
	}
	if opts.ListRetries == 0 {
		opts.ListRetries = DefaultS3ListRetries
	}
	if opts.ListRetries < 0 {
		opts.ListRetries = 0
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = 200 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	prefix = strings.TrimPrefix(prefix, "/")
	s = &S3Source{client: client, Bucket: bucket, opts: opts, sem: make(chan struct{}, opts.ListConcurrency)}
	if isLogFileName(prefix) {
		s.single = prefix
	} else if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	s.Prefix = prefix
	if s.single == "" {
		if s.start, err = startNode(prefix); err != nil {
			return nil, fmt.Errorf("s3://%s/%s: %w", bucket, prefix, err)
		}
	}
	probe := prefix
	if s.single != "" {
		probe = s.single
	}
	if _, err := s.listPage(ctx, probe, "/", nil, 1); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *S3Source) String() string { return "s3://" + s.Bucket + "/" + s.Prefix + s.single }

func isLogFileName(k string) bool {
	return strings.HasSuffix(k, ".json.gz") || strings.HasSuffix(k, ".json")
}

// level is how deep in the trail layout a prefix is.
type level int

const (
	lvSearch  level = iota // above AWSLogs/: looked for
	lvAWSLogs              // …/AWSLogs/
	lvOrg                  // …/AWSLogs/o-ORG/
	lvAccount              // …/ACCOUNT/
	lvTrail                // …/ACCOUNT/CloudTrail/
	lvRegion               // …/CloudTrail/REGION/
	lvYear                 // …/REGION/YYYY/
	lvMonth                // …/REGION/YYYY/MM/
	lvDay                  // …/REGION/YYYY/MM/DD/
)

// node is one folder of the walk.
type node struct {
	lv      level
	prefix  string
	account string
	region  string
	year    int
	month   int
	day     int
	depth   int // lvSearch: levels below the starting prefix
}

// startNode places the user's prefix in the layout: a prefix inside
// AWSLogs/ starts the walk there (and must follow the layout), one above it
// is searched for AWSLogs/.
func startNode(prefix string) (node, error) {
	segs := strings.Split(strings.TrimSuffix(prefix, "/"), "/")
	idx := -1
	for i := len(segs) - 1; i >= 0; i-- {
		if segs[i] == "AWSLogs" {
			idx = i
			break
		}
	}
	if idx < 0 || prefix == "" {
		return node{lv: lvSearch, prefix: prefix}, nil
	}
	n := node{lv: lvAWSLogs, prefix: strings.Join(segs[:idx+1], "/") + "/"}
	for _, seg := range segs[idx+1:] {
		next := n
		next.prefix = n.prefix + seg + "/"
		bad := func(what string) (node, error) {
			return node{}, fmt.Errorf("%w: %q is not %s (expected AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/)", ErrS3BadPrefix, seg, what)
		}
		switch n.lv {
		case lvAWSLogs:
			switch {
			case IsOrgID(seg):
				next.lv = lvOrg
			case IsAccountID(seg):
				next.lv, next.account = lvAccount, seg
			default:
				return bad("an organization ID or a 12-digit account ID")
			}
		case lvOrg:
			if !IsAccountID(seg) {
				return bad("a 12-digit account ID")
			}
			next.lv, next.account = lvAccount, seg
		case lvAccount:
			if seg != "CloudTrail" {
				return bad("the CloudTrail log folder")
			}
			next.lv = lvTrail
		case lvTrail:
			if !isRegion(seg) {
				return bad("a region")
			}
			next.lv, next.region = lvRegion, seg
		case lvRegion, lvYear, lvMonth:
			v, ok := datePart(seg, n.lv)
			if !ok {
				return bad("a date folder")
			}
			switch n.lv {
			case lvRegion:
				next.lv, next.year = lvYear, v
			case lvYear:
				next.lv, next.month = lvMonth, v
			default:
				next.lv, next.day = lvDay, v
				if _, err := time.Parse("2006/01/02", fmt.Sprintf("%04d/%02d/%02d", n.year, n.month, v)); err != nil {
					return bad("a date folder")
				}
			}
		default:
			return node{}, fmt.Errorf("%w: it goes below a day folder; name the day folder or one object", ErrS3BadPrefix)
		}
		n = next
	}
	return n, nil
}

// datePart parses YYYY (below a region), MM (below a year) or DD (below a
// month).
func datePart(seg string, parent level) (int, bool) {
	want, lo, hi := 2, 1, 12
	switch parent {
	case lvRegion:
		want, lo, hi = 4, 1970, 9999
	case lvMonth:
		want, lo, hi = 2, 1, 31
	}
	if len(seg) != want {
		return 0, false
	}
	v, err := strconv.Atoi(seg)
	if err != nil || v < lo || v > hi {
		return 0, false
	}
	return v, true
}

// List sends every log object under the prefix that f wants, in key order
// within each day prefix. Day prefixes are listed ListConcurrency at a time.
func (s *S3Source) List(ctx context.Context, f *Filter, out chan<- FileRef) error {
	if s.single != "" {
		return s.listSingle(ctx, out)
	}
	start := s.start
	g, gctx := errgroup.WithContext(ctx)
	days := make(chan node, 4*s.opts.ListConcurrency)
	var found atomic.Int64
	g.Go(func() error {
		defer close(days)
		return s.walk(gctx, f, start, days, &found)
	})
	for i := 0; i < s.opts.ListConcurrency; i++ {
		g.Go(func() error {
			for d := range days {
				if err := s.listDay(gctx, f, d, out); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if start.lv == lvSearch && found.Load() == 0 {
		return fmt.Errorf("no AWSLogs/ folder within %d levels of s3://%s/%s: pass the prefix that holds the trail's AWSLogs/ folder", s3SearchDepth, s.Bucket, s.Prefix)
	}
	return nil
}

// walk descends from n and sends the day prefixes to list. Sub-folders are
// walked concurrently (the number of ListObjectsV2 calls in flight is
// bounded by the semaphore, not by the number of goroutines).
func (s *S3Source) walk(ctx context.Context, f *Filter, n node, days chan<- node, found *atomic.Int64) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	switch n.lv {
	case lvDay:
		return sendNode(ctx, days, n)
	case lvAccount:
		if !f.WantAccount(n.account) {
			return nil
		}
		// Only CloudTrail/ is read (and CloudTrail-Digest/ when
		// validating): listing the account folder would only find the
		// siblings, which are never logs.
		next := n
		next.lv, next.prefix = lvTrail, n.prefix+"CloudTrail/"
		if err := s.walk(ctx, f, next, days, found); err != nil {
			return err
		}
		if s.opts.Digests {
			next.prefix = n.prefix + "CloudTrail-Digest/"
			return s.walk(ctx, f, next, days, found)
		}
		return nil
	case lvRegion:
		if !f.WantRegion(n.region) {
			return nil
		}
	case lvYear:
		if !s.wantRange(f, time.Date(n.year, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(n.year+1, 1, 1, 0, 0, 0, 0, time.UTC)) {
			return nil
		}
	case lvMonth:
		// When only a few days of a month are wanted (a short window, or
		// its edge) their prefixes are computed (a missing day lists empty).
		// Otherwise one listing of the month finds the days that exist,
		// which costs little in a dense trail and saves many empty day
		// listings in a sparse one (a quiet region, a new account).
		var wanted []int
		first := time.Date(n.year, time.Month(n.month), 1, 0, 0, 0, 0, time.UTC)
		for d := first; d.Month() == first.Month(); d = d.AddDate(0, 0, 1) {
			if s.wantDay(f, d) {
				wanted = append(wanted, d.Day())
			}
		}
		if len(wanted) <= s3ComputeDays {
			for _, day := range wanted {
				dn := n
				dn.lv, dn.day, dn.prefix = lvDay, day, n.prefix+fmt.Sprintf("%02d/", day)
				if err := sendNode(ctx, days, dn); err != nil {
					return err
				}
			}
			return nil
		}
	}
	children, err := s.listFolders(ctx, n.prefix)
	if err != nil {
		return err
	}
	if n.lv == lvSearch {
		for _, c := range children {
			if c == n.prefix+"AWSLogs/" {
				found.Add(1)
				return s.walk(ctx, f, node{lv: lvAWSLogs, prefix: c}, days, found)
			}
		}
		if n.depth+1 >= s3SearchDepth || len(children) > s3SearchWidth {
			return nil
		}
	}
	var next []node
	for _, c := range children {
		name := strings.TrimSuffix(strings.TrimPrefix(c, n.prefix), "/")
		cn := n
		cn.prefix = c
		switch n.lv {
		case lvSearch:
			cn.depth = n.depth + 1
		case lvAWSLogs, lvOrg:
			switch {
			case n.lv == lvAWSLogs && IsOrgID(name):
				cn.lv = lvOrg
			case IsAccountID(name):
				if !f.WantAccount(name) {
					continue
				}
				cn.lv, cn.account = lvAccount, name
			default:
				continue
			}
		case lvTrail:
			if !isRegion(name) || !f.WantRegion(name) {
				continue
			}
			cn.lv, cn.region = lvRegion, name
		case lvRegion:
			y, ok := datePart(name, lvRegion)
			if !ok {
				continue
			}
			cn.lv, cn.year = lvYear, y
		case lvYear:
			m, ok := datePart(name, lvYear)
			if !ok || !s.wantRange(f, time.Date(n.year, time.Month(m), 1, 0, 0, 0, 0, time.UTC), time.Date(n.year, time.Month(m)+1, 1, 0, 0, 0, 0, time.UTC)) {
				continue
			}
			cn.lv, cn.month = lvMonth, m
		case lvMonth:
			d, ok := datePart(name, lvMonth)
			if !ok {
				continue
			}
			day := time.Date(n.year, time.Month(n.month), d, 0, 0, 0, 0, time.UTC)
			if day.Month() != time.Month(n.month) || !s.wantDay(f, day) {
				continue
			}
			cn.lv, cn.day = lvDay, d
		}
		next = append(next, cn)
	}
	if n.lv == lvMonth {
		for _, dn := range next {
			if err := sendNode(ctx, days, dn); err != nil {
				return err
			}
		}
		return nil
	}
	if len(next) == 1 {
		return s.walk(ctx, f, next[0], days, found)
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, cn := range next {
		g.Go(func() error { return s.walk(gctx, f, cn, days, found) })
	}
	return g.Wait()
}

func sendNode(ctx context.Context, ch chan<- node, n node) error {
	select {
	case ch <- n:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wantDay is f.WantDay, and never a day after tomorrow: CloudTrail does not
// deliver into the future.
func (s *S3Source) wantDay(f *Filter, day time.Time) bool {
	return f.WantDay(day) && !day.After(s.opts.Now().UTC().Add(DayMargin))
}

// wantRange reports whether any delivery day in [from, to) is wanted.
func (s *S3Source) wantRange(f *Filter, from, to time.Time) bool {
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		if s.wantDay(f, d) {
			return true
		}
	}
	return false
}

// listFolders returns the common prefixes (sub-folders) of prefix, every
// page, in key order.
func (s *S3Source) listFolders(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	var token *string
	for {
		page, err := s.listPage(ctx, prefix, "/", token, s3PageSize)
		if err != nil {
			return nil, err
		}
		for _, cp := range page.CommonPrefixes {
			if cp.Prefix != nil {
				out = append(out, *cp.Prefix)
			}
		}
		if !aws.ToBool(page.IsTruncated) || page.NextContinuationToken == nil {
			sort.Strings(out)
			return out, nil
		}
		token = page.NextContinuationToken
	}
}

// listDay lists one day prefix page by page and sends its log objects in
// key order.
func (s *S3Source) listDay(ctx context.Context, f *Filter, d node, out chan<- FileRef) error {
	s.Stats.DayPrefixes.Add(1)
	var token *string
	for {
		page, err := s.listPage(ctx, d.prefix, "/", token, s3PageSize)
		if err != nil {
			return err
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if strings.HasSuffix(key, "/") || !isLogFileName(key) {
				continue // "folder" markers and files that are not CloudTrail output
			}
			ki := ParseKey(key)
			if !f.WantKey(ki) {
				continue
			}
			s.Stats.Objects.Add(1)
			select {
			case out <- s.ref(key, ki, aws.ToInt64(o.Size), aws.ToString(o.ETag), aws.ToTime(o.LastModified), false):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if !aws.ToBool(page.IsTruncated) || page.NextContinuationToken == nil {
			return nil
		}
		token = page.NextContinuationToken
	}
}

// listSingle sends the one object the URL names, parsed whatever its key.
func (s *S3Source) listSingle(ctx context.Context, out chan<- FileRef) error {
	page, err := s.listPage(ctx, s.single, "/", nil, 1)
	if err != nil {
		return err
	}
	if len(page.Contents) == 0 || aws.ToString(page.Contents[0].Key) != s.single {
		return fmt.Errorf("s3://%s/%s: no such object", s.Bucket, s.single)
	}
	o := page.Contents[0]
	ref := s.ref(s.single, ParseKey(s.single), aws.ToInt64(o.Size), aws.ToString(o.ETag), aws.ToTime(o.LastModified), true)
	s.Stats.Objects.Add(1)
	select {
	case out <- ref:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// listPage makes one ListObjectsV2 call, retried with backoff after
// transient failures (throttling, 5xx, network, a stalled response).
func (s *S3Source) listPage(ctx context.Context, prefix, delim string, token *string, max int32) (*s3.ListObjectsV2Output, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(prefix), ContinuationToken: token, MaxKeys: aws.Int32(max)}
	if delim != "" {
		in.Delimiter = aws.String(delim)
	}
	for attempt := 0; ; attempt++ {
		page, err := s.listOnce(ctx, in)
		if err == nil {
			return page, nil
		}
		if !IsTransient(err) || attempt >= s.opts.ListRetries || ctx.Err() != nil {
			return nil, err
		}
		if err := sleepBackoff(ctx, s.opts.RetryBase, attempt); err != nil {
			return nil, err
		}
	}
}

func (s *S3Source) listOnce(ctx context.Context, in *s3.ListObjectsV2Input) (*s3.ListObjectsV2Output, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.sem }()
	s.Stats.Requests.Add(1)
	wd := newWatchdog(ctx, s.opts.RequestTimeout)
	defer wd.stop()
	page, err := s.client.ListObjectsV2(wd.ctx, in, wd.option)
	if err != nil {
		what := "s3://" + s.Bucket + "/" + aws.ToString(in.Prefix)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("list %s: %w", what, ctx.Err())
		}
		if wd.fired() {
			return nil, &TransientError{fmt.Errorf("list %s: %w (no response in %s)", what, ErrS3Stalled, s.opts.RequestTimeout)}
		}
		return nil, s.s3Error(opList, aws.ToString(in.Prefix), err)
	}
	return page, nil
}

// sleepBackoff waits base·2^attempt (capped at 20 s) with full jitter.
func sleepBackoff(ctx context.Context, base time.Duration, attempt int) error {
	d := base << min(attempt, 16)
	if d > 20*time.Second || d <= 0 {
		d = 20 * time.Second
	}
	d = time.Duration(rand.Int64N(int64(d)) + 1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ref builds the FileRef of one object. The ETag is stored without quotes.
func (s *S3Source) ref(key string, ki KeyInfo, size int64, etag string, mod time.Time, explicit bool) FileRef {
	etag = strings.Trim(etag, `"`)
	return FileRef{
		Source:   "s3://" + s.Bucket + "/" + key,
		Key:      ki,
		Size:     size,
		ETag:     etag,
		ModTime:  mod.UTC(),
		Explicit: explicit,
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			return s.open(ctx, key, etag, size)
		},
	}
}

// ErrS3Stalled is wrapped (in a TransientError) when a request sends
// nothing for the request timeout.
var ErrS3Stalled = errors.New("request stalled")

// ErrS3ShortBody is wrapped (in a TransientError) when a body ends cleanly
// but not at the object's listed size (a Content-Length that lies, a
// connection closed on a message boundary).
var ErrS3ShortBody = errors.New("body does not match the object's size")

// open starts a streaming GetObject of the listed version (If-Match on the
// listed ETag, so the bytes read are the ones the checkpoint will name). The
// first bytes are read before open returns, so that a failure at the very
// start is a transient error here rather than "not a gzip file" later.
func (s *S3Source) open(ctx context.Context, key, etag string, size int64) (io.ReadCloser, error) {
	src := "s3://" + s.Bucket + "/" + key
	wd := newWatchdog(ctx, s.opts.RequestTimeout)
	in := &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)}
	if etag != "" {
		in.IfMatch = aws.String(`"` + etag + `"`)
	}
	out, err := s.client.GetObject(wd.ctx, in, wd.option)
	if err != nil {
		wd.stop()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("get %s: %w", src, ctx.Err())
		}
		if wd.fired() {
			return nil, &TransientError{fmt.Errorf("get %s: %w (no response in %s)", src, ErrS3Stalled, s.opts.RequestTimeout)}
		}
		return nil, s.s3Error(opGet, key, err)
	}
	want := size
	if want <= 0 && out.ContentLength != nil {
		want = *out.ContentLength
	}
	b := &s3Body{rc: out.Body, src: src, want: want, parent: ctx, wd: wd, timeout: s.opts.RequestTimeout, sig: out.Metadata["signature"]}
	need := 2
	if want >= 0 && want < 2 {
		need = int(want)
	}
	for len(b.head) < need {
		n, err := b.read(b.headBuf[len(b.head):])
		b.head = b.headBuf[:len(b.head)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Close()
			return nil, err
		}
	}
	return b, nil
}

// s3Body is a GetObject body that turns mid-body failures (a reset, a
// connection closed early, a Content-Length shorter than the object, a
// stall) into TransientErrors, so the pipeline reads the object again from
// the start.
type s3Body struct {
	rc      io.ReadCloser
	src     string
	want    int64 // expected bytes (listed size); <0 unknown
	n       int64
	parent  context.Context
	wd      *watchdog
	timeout time.Duration
	headBuf [16]byte
	head    []byte
	sig     string // x-amz-meta-signature: a digest file's signature
	err     error
	once    sync.Once
}

func (b *s3Body) Read(p []byte) (int, error) {
	if len(b.head) > 0 {
		n := copy(p, b.head)
		b.head = b.head[n:]
		return n, nil
	}
	return b.read(p)
}

func (b *s3Body) read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.rc.Read(p)
	b.n += int64(n)
	if n > 0 {
		b.wd.pet()
	}
	switch {
	case err == nil:
		return n, nil
	case err == io.EOF:
		if b.want >= 0 && b.n != b.want {
			b.err = &TransientError{fmt.Errorf("get %s: %w: %d bytes received, the object has %d", b.src, ErrS3ShortBody, b.n, b.want)}
			return n, b.err
		}
		b.wd.stop()
		b.err = io.EOF
		return n, io.EOF
	case b.parent.Err() != nil:
		b.err = fmt.Errorf("get %s: %w", b.src, b.parent.Err())
	case b.wd.fired():
		b.err = &TransientError{fmt.Errorf("get %s: %w: no data for %s after %d bytes", b.src, ErrS3Stalled, b.timeout, b.n)}
	default:
		// Any other failure of a body that was being received is the
		// network's (reset, unexpected EOF, timeout, checksum mismatch of
		// the transfer): reading the object again can succeed.
		b.err = &TransientError{fmt.Errorf("get %s: read after %d bytes: %w", b.src, b.n, err)}
	}
	return n, b.err
}

// Signature implements SignatureReader: the x-amz-meta-signature metadata
// CloudTrail sets on digest files.
func (b *s3Body) Signature() string { return b.sig }

func (b *s3Body) Close() error {
	var err error
	b.once.Do(func() {
		b.wd.stop()
		err = b.rc.Close()
	})
	return err
}

// watchdog cancels a request that shows no progress for its timeout. It is
// petted when an HTTP attempt starts (so the SDK's own retries and backoff
// do not count as a stall) and whenever body bytes arrive.
type watchdog struct {
	ctx     context.Context
	cancel  context.CancelCauseFunc
	timer   *time.Timer
	timeout time.Duration
	stopped atomic.Bool
}

var errWatchdog = errors.New("rootaudit: request timeout")

func newWatchdog(parent context.Context, timeout time.Duration) *watchdog {
	ctx, cancel := context.WithCancelCause(parent)
	w := &watchdog{ctx: ctx, cancel: cancel, timeout: timeout}
	w.timer = time.AfterFunc(timeout, func() { cancel(errWatchdog) })
	return w
}

func (w *watchdog) pet() {
	if !w.stopped.Load() {
		w.timer.Reset(w.timeout)
	}
}

func (w *watchdog) fired() bool { return context.Cause(w.ctx) == errWatchdog }

func (w *watchdog) stop() {
	if w.stopped.CompareAndSwap(false, true) {
		w.timer.Stop()
		w.cancel(nil)
	}
}

// option adds the per-attempt pet to one operation's middleware stack,
// inside the SDK's retry loop.
func (w *watchdog) option(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		m := attemptHook{w}
		if err := st.Finalize.Insert(m, "Retry", middleware.After); err != nil {
			return st.Finalize.Add(m, middleware.After)
		}
		return nil
	})
}

type attemptHook struct{ w *watchdog }

func (attemptHook) ID() string { return "rootaudit.AttemptWatchdog" }

func (h attemptHook) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	h.w.pet()
	return next.HandleFinalize(ctx, in)
}
