package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/sync/errgroup"
)

// LookupRetention is how far back CloudTrail LookupEvents reaches: the
// event history keeps 90 days of management events.
const LookupRetention = 90 * 24 * time.Hour

// DefaultLookupRate is the LookupEvents quota: requests per second, per
// account and region, shared by every caller in the account.
const DefaultLookupRate = 2.0

const (
	// lookupPageSize is the largest MaxResults LookupEvents accepts.
	lookupPageSize = 50
	// lookupSettle is how long after its end a block is final. The event
	// history usually shows an event within 15 minutes; a day of margin
	// costs one more block read per run and never loses a late event.
	lookupSettle = 24 * time.Hour
	// lookupAssumeConcurrency bounds the AssumeRole calls made at once
	// while listing.
	lookupAssumeConcurrency = 8
	// lookupFormat versions the lookup plan inside the checkpoint ETags:
	// changing the attributes looked up must read every block again.
	lookupFormat = "lookup-v1"
)

// Regions rootaudit reads when none are named, by partition. The regions
// AWS enables in every account are always read; the opt-in ones are read too,
// and skipped for an account that has not enabled them.
var (
	defaultRegions = map[string][]string{
		"aws": {"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
			"ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1",
			"us-east-1", "us-east-2", "us-west-1", "us-west-2"},
		"aws-us-gov": {"us-gov-east-1", "us-gov-west-1"},
		"aws-cn":     {"cn-north-1", "cn-northwest-1"},
	}
	optInRegions = []string{"af-south-1", "ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3", "ap-southeast-4",
		"ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2",
		"il-central-1", "me-central-1", "me-south-1", "mx-central-1"}
	// globalRegions receive the events of global services (IAM,
	// Organizations, sign-in), where the organization switches are logged.
	globalRegions = map[string]string{"aws": "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-north-1"}
)

// PartitionRegions returns the regions read by default in a partition
// ("aws", "aws-us-gov", "aws-cn"): every region enabled by default, then the
// opt-in regions. The slice is a fresh copy.
func PartitionRegions(partition string) []string {
	out := slices.Clone(defaultRegions[partition])
	if partition == "aws" || partition == "" {
		if out == nil {
			out = slices.Clone(defaultRegions["aws"])
		}
		out = append(out, optInRegions...)
	}
	sort.Strings(out)
	return out
}

// partitionOfRegion returns the partition a region belongs to.
func partitionOfRegion(r string) string {
	switch {
	case strings.HasPrefix(r, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(r, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// lookupQuery is one LookupEvents attribute filter. The API takes a single
// attribute per call, so every kept shape is its own query.
type lookupQuery struct {
	Key   cttypes.LookupAttributeKey
	Value string
}

func (q lookupQuery) String() string { return string(q.Key) + "=" + q.Value }

// lookupEverywhere are read in every region: root's own events (sign-ins
// and calls, LookupEvents' user name of a root principal is "root") and
// AssumeRoot, which has no global endpoint.
var lookupEverywhere = []lookupQuery{
	{cttypes.LookupAttributeKeyUsername, "root"},
	{cttypes.LookupAttributeKeyEventName, "AssumeRoot"},
}

// lookupGlobal are read in the partition's global-service region only: the
// organization-level switches (IAM) and the Organizations service-access
// calls that enable them.
var lookupGlobal = func() []lookupQuery {
	var names []string
	for n := range orgSwitches {
		names = append(names, n)
	}
	sort.Strings(names)
	names = append(names, "DisableAWSServiceAccess", "EnableAWSServiceAccess")
	out := make([]lookupQuery, 0, len(names))
	for _, n := range names {
		out = append(out, lookupQuery{cttypes.LookupAttributeKeyEventName, n})
	}
	return out
}()

// ParseLookupURL reads lookup://[REGION,…]: the regions named, or nil for
// the partition's default list.
func ParseLookupURL(u string) ([]string, error) {
	rest, ok := strings.CutPrefix(u, "lookup://")
	if !ok {
		return nil, fmt.Errorf("%q is not a lookup:// URL", u)
	}
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" {
		return nil, nil
	}
	var out []string
	seen := map[string]bool{}
	for _, r := range strings.Split(rest, ",") {
		r = strings.TrimSpace(r)
		if !isRegion(r) {
			return nil, fmt.Errorf("%s: %q is not a region name (lookup://us-east-1,eu-west-1)", u, r)
		}
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out, nil
}

// LookupOptions configure a LookupSource.
type LookupOptions struct {
	// Regions are the regions read; nil means every region of the
	// partition (PartitionRegions), with opt-in regions an account has not
	// enabled skipped rather than failed.
	Regions []string
	// Accounts are the accounts read; nil means the caller's account only.
	// Accounts other than the caller's need RoleName.
	Accounts []string
	// RoleName is assumed (sts:AssumeRole, arn:PARTITION:iam::ACCOUNT:role/
	// RoleName) in every account but the caller's.
	RoleName string
	// Rate is LookupEvents requests per second per account and region
	// (every attempt counts, SDK retries included); DefaultLookupRate when 0.
	Rate float64
	// Retries is how many times one page is requested again after a
	// transient failure that outlasted the SDK's own attempts, with
	// jittered backoff from RetryBase (200 ms when 0).
	Retries   int
	RetryBase time.Duration
	// Now is the clock (tests).
	Now func() time.Time
}

// LookupStats count what a LookupSource did, safe to read while it runs.
type LookupStats struct {
	Requests   atomic.Int64 // LookupEvents HTTP attempts, retries included
	Throttled  atomic.Int64 // attempts answered with a throttling error
	Pages      atomic.Int64 // pages received
	Events     atomic.Int64 // events received (before Keep)
	NotEnabled atomic.Int64 // account-regions skipped: opt-in region not enabled
}

// LookupSource reads root-relevant events from the CloudTrail event history
// (LookupEvents) of one or more accounts, every region, for the last 90
// days. Each FileRef is a virtual file: one account, one region and one UTC
// calendar month of event time, whose reader pages through the lookups and
// produces a {"Records":[…]} document of the CloudTrailEvent JSON the API
// returns, so the normal decoder judges and stores them. See docs/sources.md.
type LookupSource struct {
	cfg        aws.Config
	sts        *sts.Client
	opts       LookupOptions
	caller     string // the credentials' account
	partition  string
	regions    []string
	explicit   bool // regions were named: a region that is not enabled fails
	interval   time.Duration
	mu         sync.Mutex
	pacers     map[string]*pacer
	clients    map[string]*cloudtrail.Client // by account
	creds      map[string]aws.CredentialsProvider
	notEnabled map[string]bool
	Stats      LookupStats
}

// NewLookupSource checks the credentials (sts:GetCallerIdentity, which
// needs no permission) and returns a LookupSource. cfg is the run's AWS
// configuration (LoadAWSConfig); its retryer retries throttling.
func NewLookupSource(ctx context.Context, cfg aws.Config, opts LookupOptions) (*LookupSource, error) {
	for _, r := range opts.Regions {
		if !isRegion(r) {
			return nil, fmt.Errorf("lookup source: %q is not a region name", r)
		}
	}
	for _, a := range opts.Accounts {
		if !IsAccountID(a) {
			return nil, fmt.Errorf("lookup source: %q is not a 12-digit account ID", a)
		}
	}
	if opts.RoleName != "" && !validRoleName(opts.RoleName) {
		return nil, fmt.Errorf("lookup source: %q is not an IAM role name (letters, digits and +=,.@_- , optionally with a /path/)", opts.RoleName)
	}
	if opts.Rate <= 0 {
		opts.Rate = DefaultLookupRate
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = 200 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	// A repeated account or region (--account 1,1) would list the same
	// virtual files twice, and a run hands each file to the store once.
	// The order given is kept: the source is named by it.
	opts.Accounts, opts.Regions = firstOfEach(opts.Accounts), firstOfEach(opts.Regions)
	s := &LookupSource{
		cfg: cfg, sts: sts.NewFromConfig(cfg), opts: opts,
		interval: time.Duration(float64(time.Second) / opts.Rate),
		pacers:   map[string]*pacer{}, clients: map[string]*cloudtrail.Client{},
		creds: map[string]aws.CredentialsProvider{}, notEnabled: map[string]bool{},
	}
	id, err := s.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		if isCredentialsError(err) {
			return nil, fmt.Errorf("lookup source: %w (looked in the environment, the shared config and --profile, SSO, and the instance or container role): %v", ErrS3NoCredentials, err)
		}
		return nil, fmt.Errorf("lookup source: sts GetCallerIdentity: %w", err)
	}
	s.caller = aws.ToString(id.Account)
	s.partition = "aws"
	if p := strings.SplitN(aws.ToString(id.Arn), ":", 3); len(p) == 3 && p[0] == "arn" && p[1] != "" {
		s.partition = p[1]
	}
	for _, a := range opts.Accounts {
		if a != s.caller && opts.RoleName == "" {
			return nil, fmt.Errorf("lookup source: account %s is not the caller's (%s): reading another account needs a role to assume in it (--role-name)", a, s.caller)
		}
	}
	if len(opts.Regions) > 0 {
		s.regions, s.explicit = slices.Clone(opts.Regions), true
	} else {
		s.regions = PartitionRegions(s.partition)
	}
	return s, nil
}

// validRoleName accepts an IAM role name, optionally with a path
// (path/to/Name).
func validRoleName(n string) bool {
	n = strings.TrimPrefix(n, "/")
	if n == "" || len(n) > 512 || strings.HasSuffix(n, "/") || strings.Contains(n, "//") {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("+=,.@_-/", c) >= 0) {
			return false
		}
	}
	return true
}

// Caller returns the account of the credentials.
func (s *LookupSource) Caller() string { return s.caller }

func (s *LookupSource) String() string {
	if s.explicit {
		return "lookup://" + strings.Join(s.regions, ",")
	}
	return "lookup://"
}

// firstOfEach returns vals without repeats, in the order given (nil stays
// nil: it means "all" to the callers).
func firstOfEach(vals []string) []string {
	if vals == nil {
		return nil
	}
	seen := make(map[string]bool, len(vals))
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// lookupBlock is one month of event time to look up.
type lookupBlock struct {
	name     string    // YYYY-MM
	from, to time.Time // StartTime and EndTime of the lookups
	window   string    // what the checkpoint names: the block as far as the window asks for it
	final    bool      // the window part is over and settled: checkpointed for good
}

// blocks splits the window into UTC calendar months, newest first. The
// lookups cover [max(since, now-90d), min(until, now)]. A block's checkpoint
// names its month clipped to --since/--until only, not to the 90-day horizon,
// so the oldest month stays done while the horizon moves; a block that is
// not final carries the run's time in its ETag and is read on every run.
func (s *LookupSource) blocks(f *Filter) []lookupBlock {
	now := s.opts.Now().UTC()
	var since, until time.Time
	if f != nil {
		since, until = f.Since.UTC(), f.Until.UTC()
	}
	from := now.Add(-LookupRetention)
	if since.After(from) {
		from = since
	}
	to := now
	if !until.IsZero() && until.Before(to) {
		to = until
	}
	if !from.Before(to) {
		return nil
	}
	sinceDay := time.Time{}
	if !since.IsZero() {
		sinceDay = since.Truncate(24 * time.Hour)
	}
	var out []lookupBlock
	for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC); m.Before(to); m = m.AddDate(0, 1, 0) {
		end := m.AddDate(0, 1, 0)
		b := lookupBlock{name: m.Format("2006-01"), from: maxTime(m, from), to: minTime(end, to)}
		keyFrom, keyTo := maxTime(m, sinceDay), end
		if !until.IsZero() && until.Before(keyTo) {
			keyTo = until
		}
		b.final = !keyTo.After(now.Add(-lookupSettle))
		b.window = keyFrom.Format(time.RFC3339) + "/" + keyTo.Format(time.RFC3339)
		if !b.final {
			b.window += "/open@" + now.Format(time.RFC3339Nano)
		}
		out = append(out, b)
	}
	slices.Reverse(out)
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// queriesFor returns the lookups made in a region.
func (s *LookupSource) queriesFor(region string) []lookupQuery {
	if region == globalRegions[s.partition] {
		return append(slices.Clone(lookupEverywhere), lookupGlobal...)
	}
	return lookupEverywhere
}

// List sends one FileRef per account, region and month of the window
// (newest month first, regions interleaved so that concurrent readers use
// different rate limits). For an account whose role cannot be assumed it
// sends a single FileRef that fails with the reason, and nothing else of
// that account.
func (s *LookupSource) List(ctx context.Context, f *Filter, out chan<- FileRef) error {
	blocks := s.blocks(f)
	var regions []string
	for _, r := range s.regions {
		if f.WantRegion(r) {
			regions = append(regions, r)
		}
	}
	accounts := s.opts.Accounts
	if accounts == nil {
		accounts = []string{s.caller}
	}
	if len(blocks) == 0 || len(regions) == 0 {
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(lookupAssumeConcurrency)
	for _, acct := range accounts {
		if !f.WantAccount(acct) {
			continue
		}
		g.Go(func() error { return s.listAccount(gctx, acct, regions, blocks, out) })
	}
	return g.Wait()
}

func (s *LookupSource) listAccount(ctx context.Context, acct string, regions []string, blocks []lookupBlock, out chan<- FileRef) error {
	creds, err := s.credentials(ctx, acct)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// One failing virtual file (the newest block of the global or
		// first region) reports the account; the rest is read next run.
		r := regions[0]
		if slices.Contains(regions, globalRegions[s.partition]) {
			r = globalRegions[s.partition]
		}
		ref := s.ref(acct, r, blocks[0], nil)
		ref.ETag = ""
		ferr := fmt.Errorf("%w; no region or month of account %s was read", err, acct)
		ref.Open = func(context.Context) (io.ReadCloser, error) { return nil, ferr }
		return sendRef(ctx, out, ref)
	}
	for _, b := range blocks {
		for _, r := range regions {
			if err := sendRef(ctx, out, s.ref(acct, r, b, creds)); err != nil {
				return err
			}
		}
	}
	return nil
}

func sendRef(ctx context.Context, out chan<- FileRef, ref FileRef) error {
	select {
	case out <- ref:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ref builds the virtual file of one account, region and block. Its ETag
// is a hash of everything that decides its content: the format, account,
// region, lookups and window (with the run's time when not final).
func (s *LookupSource) ref(acct, region string, b lookupBlock, creds aws.CredentialsProvider) FileRef {
	queries := s.queriesFor(region)
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n%s\n", lookupFormat, acct, region, b.window)
	for _, q := range queries {
		fmt.Fprintln(h, q)
	}
	return FileRef{
		Source:  fmt.Sprintf("lookup://%s/%s/%s", acct, region, b.name),
		Key:     KeyInfo{Kind: KindLog},
		ETag:    hex.EncodeToString(h.Sum(nil)[:16]),
		ModTime: b.to,
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			c, opt := s.client(acct, region, creds)
			r := &lookupReader{ctx: ctx, s: s, client: c, opt: opt, acct: acct, region: region,
				from: b.from, to: b.to, queries: queries}
			r.docReader.fill = r.fill
			return r, nil
		},
	}
}

// credentials returns the provider for an account: the run's own for the
// caller's account, else a cached AssumeRole of RoleName, retrieved once
// here so a role that cannot be assumed is reported before any lookup.
func (s *LookupSource) credentials(ctx context.Context, acct string) (aws.CredentialsProvider, error) {
	if acct == s.caller {
		return s.cfg.Credentials, nil
	}
	s.mu.Lock()
	p, ok := s.creds[acct]
	s.mu.Unlock()
	if ok {
		return p, nil
	}
	arn := fmt.Sprintf("arn:%s:iam::%s:role/%s", s.partition, acct, strings.TrimPrefix(s.opts.RoleName, "/"))
	p = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(s.sts, arn, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "rootaudit"
	}))
	if _, err := p.Retrieve(ctx); err != nil {
		return nil, fmt.Errorf("assume role %s: %w: the caller needs sts:AssumeRole on it and the role's trust policy must allow the caller (%v)", arn, ErrS3AssumeRole, err)
	}
	s.mu.Lock()
	s.creds[acct] = p
	s.mu.Unlock()
	return p, nil
}

// client returns the CloudTrail client of one account (clients are per
// account; the region is set per call) and the per-call options that aim a
// call at a region and make every attempt wait for the account-region's
// rate limit.
func (s *LookupSource) client(acct, region string, creds aws.CredentialsProvider) (*cloudtrail.Client, func(*cloudtrail.Options)) {
	k := acct + "/" + region
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pacers[k]
	if !ok {
		p = &pacer{interval: s.interval}
		s.pacers[k] = p
	}
	c, ok := s.clients[acct]
	if !ok {
		c = cloudtrail.NewFromConfig(s.cfg, func(o *cloudtrail.Options) {
			if creds != nil {
				o.Credentials = creds
			}
		})
		s.clients[acct] = c
	}
	hook := paceHook{p: p, stats: &s.Stats}
	return c, func(o *cloudtrail.Options) {
		o.Region = region
		// Clip: the appended hook must not land in a backing array that
		// other calls share.
		o.APIOptions = append(slices.Clip(o.APIOptions), func(st *middleware.Stack) error {
			if err := st.Finalize.Insert(hook, "Retry", middleware.After); err != nil {
				return st.Finalize.Add(hook, middleware.After)
			}
			return nil
		})
	}
}

func (s *LookupSource) isNotEnabled(acct, region string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notEnabled[acct+"/"+region]
}

func (s *LookupSource) setNotEnabled(acct, region string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.notEnabled[acct+"/"+region] {
		s.notEnabled[acct+"/"+region] = true
		s.Stats.NotEnabled.Add(1)
	}
}

// pacer spaces requests at least interval apart: a token bucket of one,
// so no second holds more than the rate allows.
type pacer struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
}

// wait blocks until the caller may send, or ctx ends.
func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	now := time.Now()
	at := maxTime(p.next, now)
	p.next = at.Add(p.interval)
	p.mu.Unlock()
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// paceHook waits for the rate limit before every HTTP attempt (it sits
// after the SDK's retry middleware, so retries are paced too) and counts
// attempts and throttling answers.
type paceHook struct {
	p     *pacer
	stats *LookupStats
}

func (paceHook) ID() string { return "rootaudit.LookupPacer" }

func (h paceHook) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	if err := h.p.wait(ctx); err != nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, err
	}
	h.stats.Requests.Add(1)
	out, md, err := next.HandleFinalize(ctx, in)
	if err != nil {
		if code, _, status, _ := s3Details(err); status == 429 || isThrottleCode(code) {
			h.stats.Throttled.Add(1)
		}
	}
	return out, md, err
}

func isThrottleCode(code string) bool {
	_, ok := retry.DefaultThrottleErrorCodes[code]
	return ok
}

// notEnabledCodes are the answers of a region the account has not enabled:
// the region does not know the credentials.
var notEnabledCodes = map[string]bool{
	"UnrecognizedClientException": true, "InvalidClientTokenId": true, "OptInRequired": true, "AuthFailure": true,
}

// lookupReader produces the {"Records":[…]} document of one virtual file,
// fetching one page at a time as it is read: it holds one page at most.
type lookupReader struct {
	ctx      context.Context
	s        *LookupSource
	client   *cloudtrail.Client
	opt      func(*cloudtrail.Options)
	acct     string
	region   string
	from, to time.Time
	queries  []lookupQuery
	qi       int     // the query being paged
	token    *string // its next page
	started  bool
	records  int
	docReader
}

// fill appends the next part of the document to buf.
func (r *lookupReader) fill() error {
	if !r.started {
		r.started = true
		r.buf = append(r.buf, `{"Records":[`...)
		if r.s.isNotEnabled(r.acct, r.region) {
			r.end()
		}
		return nil
	}
	if r.qi == len(r.queries) {
		r.end()
		return nil
	}
	q := r.queries[r.qi]
	page, err := r.page(q)
	if err != nil {
		var nee notEnabledError
		if errors.As(err, &nee) && r.records == 0 && r.qi == 0 && r.token == nil {
			// Nothing can be logged in a region the account cannot use:
			// the block is read, and empty.
			r.s.setNotEnabled(r.acct, r.region)
			r.end()
			return nil
		}
		return err
	}
	for _, ev := range page.Events {
		var err error
		if r.buf, err = appendLookupEvent(r.buf, r.records, ev); err != nil {
			return fmt.Errorf("lookup-events %s %s %s: %w", r.acct, r.region, q, err)
		}
		r.records++
	}
	r.s.Stats.Events.Add(int64(len(page.Events)))
	if t := aws.ToString(page.NextToken); t != "" {
		r.token = page.NextToken
	} else {
		r.qi, r.token = r.qi+1, nil
	}
	return nil
}

func (r *lookupReader) end() {
	r.buf = append(r.buf, "]}"...)
	r.done = true
}

// appendLookupEvent appends one event's CloudTrailEvent (the full record
// JSON) as element n of the Records array. A value that is not a JSON
// object is refused, so nothing the API returns can break the document's
// structure.
func appendLookupEvent(dst []byte, n int, ev cttypes.Event) ([]byte, error) {
	rec := strings.TrimSpace(aws.ToString(ev.CloudTrailEvent))
	if rec == "" {
		return dst, fmt.Errorf("event %s has no CloudTrailEvent", aws.ToString(ev.EventId))
	}
	if rec[0] != '{' || !json.Valid([]byte(rec)) {
		return dst, fmt.Errorf("event %s: CloudTrailEvent is not a JSON object", aws.ToString(ev.EventId))
	}
	if n > 0 {
		dst = append(dst, ',')
	}
	return append(dst, rec...), nil
}

type notEnabledError struct{ error }

func (e notEnabledError) Unwrap() error { return e.error }

// page makes one LookupEvents call (the SDK retries throttling and server
// errors; a failure that outlasts it is retried here with backoff).
func (r *lookupReader) page(q lookupQuery) (*cloudtrail.LookupEventsOutput, error) {
	in := &cloudtrail.LookupEventsInput{
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: q.Key, AttributeValue: aws.String(q.Value)}},
		StartTime:        aws.Time(r.from),
		EndTime:          aws.Time(r.to),
		MaxResults:       aws.Int32(lookupPageSize),
		NextToken:        r.token,
	}
	what := fmt.Sprintf("lookup-events account %s region %s %s %s..%s", r.acct, r.region, q,
		r.from.Format(time.RFC3339), r.to.Format(time.RFC3339))
	for attempt := 0; ; attempt++ {
		out, err := r.client.LookupEvents(r.ctx, in, r.opt)
		if err == nil {
			r.s.Stats.Pages.Add(1)
			return out, nil
		}
		if r.ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", what, r.ctx.Err())
		}
		code, msg, status, _ := s3Details(err)
		transient := isS3Transient(err, code, status)
		if !transient || attempt >= r.s.opts.Retries {
			return nil, r.s.lookupError(what, r.region, code, msg, status, transient, err)
		}
		if err := sleepBackoff(r.ctx, r.s.opts.RetryBase, attempt); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	}
}

// lookupError says what a failed lookup needs.
func (s *LookupSource) lookupError(what, region, code, msg string, status int, transient bool, err error) error {
	switch {
	case transient:
		return &TransientError{fmt.Errorf("%s: %w", what, err)}
	case notEnabledCodes[code] && !s.explicit && slices.Contains(optInRegions, region):
		return notEnabledError{fmt.Errorf("%s: region not enabled: %w", what, err)}
	case notEnabledCodes[code]:
		return fmt.Errorf("%s: %w: the credentials are not valid in %s (is the region enabled for the account?)", what, ErrS3AccessDenied, region)
	case code == "AccessDenied" || code == "AccessDeniedException" || status == 403:
		return fmt.Errorf("%s: %w: the credentials need cloudtrail:LookupEvents (%s: %s)", what, ErrS3AccessDenied, code, msg)
	}
	return fmt.Errorf("%s: %w", what, err)
}
