package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/rootaudit/rootaudit/ingest"
	"github.com/rootaudit/rootaudit/query"
)

type ingestOptions struct {
	windowFlags
	accounts     []string
	regions      []string
	workers      int
	maxFileBytes int64
	maxRecord    int
	all          bool
	retries      int
	s3           s3Flags
	validate     bool
	publicKeys   string
	strict       bool
	api          apiFlags
}

// s3Flags configure s3:// sources.
type s3Flags struct {
	concurrency     int
	listConcurrency int
	requestTimeout  time.Duration
	profile         string
	region          string
	endpointURL     string
	pathStyle       bool
	roleARN         string
}

// defaultS3Concurrency is the number of objects fetched and decoded at once
// from S3. CloudTrail objects are small (tens of KB), so a fetch is mostly
// waiting for the first byte (20-50 ms); 8 per core keeps the decoders
// busy, at least 32, at most 256 (about 1.2 MB of buffers each).
func defaultS3Concurrency() int {
	return min(max(32, 8*runtime.NumCPU()), 256)
}

func newIngestCommand(g *globalOptions) *cobra.Command {
	o := &ingestOptions{}
	c := &cobra.Command{
		Use:   "ingest [flags] SOURCE...",
		Short: "Read CloudTrail log files into the database (incremental, resumable)",
		Long: `Reads CloudTrail log files and stores every root-principal event, every
AssumeRoot call and the organization-level root-access switches.

SOURCE is a directory (walked for AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/*.json.gz),
a single .json.gz or .json file, s3://BUCKET[/PREFIX] (an organization or
single-account trail, or one object), lookup://[REGION,…] (the CloudTrail
event history of the last 90 days through LookupEvents, every region by
default; other accounts with --role-name and --accounts), or
athena://WORKGROUP/DATABASE?table=T[&create=true&bucket=s3://…/AWSLogs/o-…/]
(the filter pushed down to Athena); see docs/sources.md. From S3, only the
delivery-day folders inside --since/--until (plus a day each side) of the
accounts and regions asked for are listed, and objects are streamed straight
into the decoder.
Credentials come from the default AWS chain (environment, shared config,
SSO, instance or container role), --profile, or --role-arn; the IAM policy
ingest needs is in docs/iam.md.

Files already ingested (same path and size/mtime, or same S3 key and ETag)
are skipped, so rerunning is incremental and an interrupted run resumes. A
corrupt file is reported and nothing of it is stored; the exit code is then 3.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runIngest(cmd.Context(), g, o, args)
		},
	}
	f := c.Flags()
	f.StringVar(&o.since, "since", "", "read files delivered from this date/time or duration ago (default 365d)")
	f.StringVar(&o.until, "until", "", "read files delivered before this date/time (default now)")
	f.BoolVar(&o.all, "all", false, "read every file whatever its delivery date (ignores --since/--until)")
	f.StringSliceVar(&o.accounts, "account", nil, "only these 12-digit account IDs (comma-separated or repeated)")
	f.StringSliceVar(&o.regions, "region", nil, "only these regions (comma-separated or repeated)")
	f.IntVar(&o.workers, "workers", runtime.NumCPU(), "local files decoded at once")
	f.IntVar(&o.retries, "retries", 5, "times a file is read again from the start (or an S3 listing page requested again) after a transient failure: throttling, 5xx, a reset or stalled connection")
	f.IntVar(&o.s3.concurrency, "concurrency", defaultS3Concurrency(), "S3 objects fetched and decoded at once (used instead of --workers when a source is s3://); also the lookup:// and athena:// virtual files read at once")
	f.IntVar(&o.s3.listConcurrency, "list-concurrency", ingest.DefaultS3ListConcurrency, "S3 listing requests at once")
	f.DurationVar(&o.s3.requestTimeout, "request-timeout", ingest.DefaultS3RequestTimeout, "S3: longest wait for a response's first byte or between bytes of a body (a stall is retried)")
	f.StringVar(&o.s3.profile, "profile", "", "AWS shared config profile (default: AWS_PROFILE or default)")
	f.StringVar(&o.s3.region, "aws-region", "", "AWS region of the S3 client (default: from the environment or profile; a bucket in another region is followed)")
	f.StringVar(&o.s3.endpointURL, "endpoint-url", "", "S3 endpoint URL, for S3-compatible stores")
	f.BoolVar(&o.s3.pathStyle, "path-style", false, "S3 path-style addressing (http://host/bucket/key), for S3-compatible stores")
	f.StringVar(&o.s3.roleARN, "role-arn", "", "IAM role to assume (sts:AssumeRole) to read the bucket, e.g. in a log-archive account")
	f.BoolVar(&o.validate, "validate", false, "validate log-file integrity: hash every log file while decoding it and check it against the CloudTrail digest files (read alongside; signatures verified); see rootaudit integrity")
	f.StringVar(&o.publicKeys, "public-keys", "", "with --validate: `FILE` of aws cloudtrail list-public-keys JSON (default: ask CloudTrail ListPublicKeys)")
	f.BoolVar(&o.strict, "strict", false, "split and check every record of every file, not only files that can hold a kept record (slower)")
	f.StringVar(&o.api.roleName, "role-name", "", "lookup://: IAM role assumed (sts:AssumeRole) in every account but the caller's, to read their event history")
	f.StringVar(&o.api.accountsFile, "accounts", "", "`FILE` of aws organizations list-accounts JSON: lookup:// reads these (active) accounts with --role-name; athena:// queries these accounts")
	f.Int64Var(&o.maxFileBytes, "max-file-bytes", ingest.DefaultMaxFileBytes, "largest decompressed size of one file (a gzip bomb guard)")
	f.IntVar(&o.maxRecord, "max-record-bytes", ingest.DefaultMaxRecordBytes, "largest single record")
	return c
}

// regionName is the shape of an AWS region code in every partition
// (us-east-1, us-gov-west-1, cn-north-1, us-isob-east-1, eusc-de-east-1).
var regionName = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$`)

func runIngest(ctx context.Context, g *globalOptions, o *ingestOptions, args []string) error {
	accts, err := parseAccounts("account", o.accounts)
	if err != nil {
		return err
	}
	regions := splitList(o.regions)
	for _, r := range regions {
		// A misspelt region (US-EAST-1, us-east1) matches no folder and
		// would read nothing, then exit 0 as if the trail were clean.
		if !regionName.MatchString(r) {
			return usageError{fmt.Errorf("--region %q is not an AWS region name (such as us-east-1)", r)}
		}
	}
	filter := &ingest.Filter{Accounts: set(accts), Regions: set(regions)}
	var win query.Window
	if !o.all {
		if win, err = o.window(); err != nil {
			return err
		}
		filter.Since, filter.Until = win.Since, win.Until
	}
	switch {
	case o.workers < 1:
		return usageError{fmt.Errorf("--workers must be at least 1")}
	case o.s3.concurrency < 1:
		return usageError{fmt.Errorf("--concurrency must be at least 1")}
	case o.s3.listConcurrency < 1:
		return usageError{fmt.Errorf("--list-concurrency must be at least 1")}
	case o.retries < 0:
		return usageError{fmt.Errorf("--retries must not be negative")}
	case o.s3.requestTimeout <= 0:
		return usageError{fmt.Errorf("--request-timeout must be positive")}
	}
	var sources []ingest.Source
	workers := o.workers
	s3c := &s3Clients{flags: &o.s3, retries: o.retries, stderr: g.stderr, digests: o.validate,
		api: &apiSources{flags: &o.api, accounts: accts}, debug: g.debug}
	for _, a := range args {
		src, err := sourceFor(ctx, s3c, a)
		if err != nil {
			return err
		}
		switch src.(type) {
		case *ingest.S3Source, *ingest.LookupSource, *ingest.AthenaSource:
			// Fetching is mostly waiting on the network (or on an API's
			// rate limit): the knob is the number of files in flight, each
			// decoded as it streams.
			workers = max(workers, o.s3.concurrency)
		}
		sources = append(sources, src)
	}
	if err := ingest.CheckDisjoint(sources); err != nil {
		return usageError{err}
	}
	db, err := query.Open(ctx, g.db, false)
	if err != nil {
		return err
	}
	defer db.Close()
	var keys ingest.PublicKeys
	if o.validate {
		if keys, err = publicKeys(ctx, o, s3c, win); err != nil {
			return err
		}
	}
	loader, err := query.NewLoader(ctx, db, query.RunInfo{
		Version: version, Command: "rootaudit " + strings.Join(g.args, " "), Sources: strings.Join(args, " "),
		Since: win.Since, Until: win.Until, Validate: o.validate,
	})
	if err != nil {
		return err
	}
	stats := &ingest.Stats{}
	start := time.Now()
	stopProgress := startProgress(g, stats)
	runErr := ingest.Run(ctx, sources, ingest.RunOptions{
		Options: ingest.Options{MaxFileBytes: o.maxFileBytes, MaxRecordBytes: o.maxRecord, Strict: o.strict,
			Hash: o.validate, Digests: o.validate, Keys: keys},
		Filter:  filter,
		Workers: workers,
		Done:    loader.Done,
		Stats:   stats,
		Debug:   g.debugf(),
		Retries: o.retries,
	}, func(res ingest.FileResult) error {
		if res.Status == ingest.StatusFailed {
			stopProgress(false)
			fmt.Fprintf(g.stderr, "rootaudit: %s: %s\n", res.Ref.Source, res.Reason)
		}
		return loader.Add(ctx, res)
	})
	stopProgress(true)
	status := "ok"
	switch {
	case runErr != nil && ctx.Err() != nil:
		status = "interrupted"
	case runErr != nil:
		status = "failed"
	case stats.Failed.Load() > 0:
		status = "partial" // files failed (exit 3); the rest is stored
	}
	finErr := loader.Finish(ctx, query.RunTotals{
		Listed: stats.Listed.Load(), Read: stats.Read.Load(), Failed: stats.Failed.Load(),
		Records: stats.Records.Load(), Kept: stats.Kept.Load(), Status: status,
	})
	el := time.Since(start)
	mb := float64(stats.Bytes.Load()) / 1e6
	fmt.Fprintf(g.stderr, "ingest: %d files listed, %d already ingested, %d read (%.1f MB compressed, %.1f MB JSON), %d records, %d kept, %d skipped, %d failed, %s, %.1f MB/s%s\n",
		stats.Listed.Load(), stats.Unchanged.Load(), stats.Read.Load(), float64(stats.Compressed.Load())/1e6, mb,
		stats.Records.Load(), stats.Kept.Load(), stats.Skipped.Load(), stats.Failed.Load(),
		el.Round(time.Millisecond), mb/el.Seconds(), map[bool]string{true: " (interrupted: rerun to resume)", false: ""}[status == "interrupted"])
	for _, src := range sources {
		switch s := src.(type) {
		case *ingest.S3Source:
			fmt.Fprintf(g.stderr, "ingest: %s: %d list requests, %d day prefixes, %d log objects\n",
				s, s.Stats.Requests.Load(), s.Stats.DayPrefixes.Load(), s.Stats.Objects.Load())
		case *ingest.LookupSource, *ingest.AthenaSource:
			fmt.Fprintf(g.stderr, "ingest: %s\n", apiSourceSummary(s))
		}
	}
	if runErr != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: ingest stopped; every file committed so far is kept", errInterrupted)
		}
		return runErr
	}
	if finErr != nil {
		return finErr
	}
	if o.validate {
		if err := db.UpdateIntegrity(ctx, loader.RunID()); err != nil {
			return err
		}
		sum, failures, err := db.IntegritySummary(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(g.stderr, "ingest: integrity: %s\n", integritySummary(sum, failures))
		if n := stats.Failed.Load(); n > 0 {
			return partialError{n}
		}
		if failures > 0 {
			return findingsError{fmt.Sprintf("integrity: %d log file(s) or digest(s) failed validation; see `rootaudit integrity`", failures)}
		}
	}
	if n := stats.Failed.Load(); n > 0 {
		return partialError{n}
	}
	return nil
}

// sourceFor turns a SOURCE argument into a Source.
func sourceFor(ctx context.Context, s3c *s3Clients, arg string) (ingest.Source, error) {
	switch {
	case strings.HasPrefix(arg, "s3://"):
		return s3c.source(ctx, arg)
	case strings.HasPrefix(arg, "lookup://"), strings.HasPrefix(arg, "athena://"):
		if s3c.digests {
			return nil, usageError{fmt.Errorf("source %s: --validate checks log files against CloudTrail digests; API sources have none", arg)}
		}
		if s3c.api == nil {
			s3c.api = &apiSources{flags: &apiFlags{}}
		}
		if strings.HasPrefix(arg, "lookup://") {
			return s3c.api.lookup(ctx, s3c, arg)
		}
		return s3c.api.athena(ctx, s3c, arg)
	}
	if _, err := os.Stat(arg); err != nil {
		return nil, usageError{fmt.Errorf("source %s: %w", arg, errors.Unwrap(err))}
	}
	return &ingest.Local{Path: arg}, nil
}

// apiFlags configure the lookup:// and athena:// sources.
type apiFlags struct {
	roleName     string // --role-name
	accountsFile string // --accounts
}

// apiSources builds lookup:// and athena:// sources on one AWS
// configuration per run (the S3 flags --profile, --aws-region and
// --role-arn apply to them too).
type apiSources struct {
	flags    *apiFlags
	accounts []string // --account
	cfg      *aws.Config
	org      []ingest.OrgAccount
	orgRead  bool
}

func (a *apiSources) config(ctx context.Context, s3c *s3Clients) (aws.Config, error) {
	if a.cfg == nil {
		cfg, err := ingest.LoadAWSConfig(ctx, s3c.clientConfig())
		if err != nil {
			return aws.Config{}, err
		}
		a.cfg = &cfg
	}
	return *a.cfg, nil
}

// orgAccounts reads --accounts once.
func (a *apiSources) orgAccounts() ([]ingest.OrgAccount, error) {
	if !a.orgRead && a.flags.accountsFile != "" {
		org, err := ingest.ReadOrgAccounts(a.flags.accountsFile)
		if err != nil {
			return nil, usageError{fmt.Errorf("--accounts: %w", err)}
		}
		a.org, a.orgRead = org, true
	}
	return a.org, nil
}

// lookup builds a lookup://[REGION,…] source. Without --role-name it reads
// the caller's account; with it, the active accounts of --accounts (or the
// --account IDs), assuming the role in each but the caller's.
func (a *apiSources) lookup(ctx context.Context, s3c *s3Clients, arg string) (ingest.Source, error) {
	regions, err := ingest.ParseLookupURL(arg)
	if err != nil {
		return nil, usageError{fmt.Errorf("source %w", err)}
	}
	opts := ingest.LookupOptions{Regions: regions, RoleName: a.flags.roleName, Retries: s3c.retries}
	switch {
	case a.flags.roleName == "" && a.flags.accountsFile != "":
		return nil, usageError{fmt.Errorf("source %s: --accounts needs --role-name, the role to assume in each account", arg)}
	case a.flags.roleName != "" && a.flags.accountsFile != "":
		org, err := a.orgAccounts()
		if err != nil {
			return nil, err
		}
		opts.Accounts = []string{}
		for _, acct := range org {
			if st := strings.ToUpper(acct.Status); st == "" || st == "ACTIVE" {
				opts.Accounts = append(opts.Accounts, acct.ID)
			}
		}
	case a.flags.roleName != "":
		if len(a.accounts) == 0 {
			return nil, usageError{fmt.Errorf("source %s: --role-name needs the accounts to read: --accounts FILE or --account ID,…", arg)}
		}
		opts.Accounts = a.accounts
	}
	cfg, err := a.config(ctx, s3c)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", arg, err)
	}
	src, err := ingest.NewLookupSource(ctx, cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", arg, err)
	}
	return src, nil
}

// athena builds an athena://WORKGROUP/DATABASE?… source; --accounts names
// the accounts queried (every status: a closed account's logs remain).
func (a *apiSources) athena(ctx context.Context, s3c *s3Clients, arg string) (ingest.Source, error) {
	u, err := ingest.ParseAthenaURL(arg)
	if err != nil {
		return nil, usageError{fmt.Errorf("source %w", err)}
	}
	var opts ingest.AthenaOptions
	opts.Retries = s3c.retries
	org, err := a.orgAccounts()
	if err != nil {
		return nil, err
	}
	for _, acct := range org {
		opts.Accounts = append(opts.Accounts, acct.ID)
	}
	cfg, err := a.config(ctx, s3c)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", arg, err)
	}
	src, err := ingest.NewAthenaSource(ctx, athena.NewFromConfig(cfg), u, opts)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", arg, err)
	}
	return src, nil
}

// athenaPricePerTB is Athena's price per TB of data scanned (SQL queries,
// most regions), for the cost line of a run.
const athenaPricePerTB = 5.0

// apiSourceSummary is the after-run line of an API source.
func apiSourceSummary(src ingest.Source) string {
	switch s := src.(type) {
	case *ingest.LookupSource:
		return fmt.Sprintf("%s: %d LookupEvents requests (%d throttled), %d pages, %d events returned, %d account-region(s) skipped as not enabled",
			s, s.Stats.Requests.Load(), s.Stats.Throttled.Load(), s.Stats.Pages.Load(), s.Stats.Events.Load(), s.Stats.NotEnabled.Load())
	case *ingest.AthenaSource:
		scanned := s.Stats.BytesScanned.Load()
		return fmt.Sprintf("%s: %d queries, %.1f MB scanned (about $%.4f at $%.0f/TB), %d result rows, %d query(ies) stopped",
			s, s.Stats.Queries.Load(), float64(scanned)/1e6, float64(scanned)/1e12*athenaPricePerTB, athenaPricePerTB,
			s.Stats.Rows.Load(), s.Stats.Stopped.Load())
	}
	return src.String()
}

// publicKeys loads the digest-signing keys: from --public-keys, else from
// CloudTrail ListPublicKeys with the run's AWS configuration. Without keys,
// validation still checks hashes and chains; signatures are then reported
// as no-key.
func publicKeys(ctx context.Context, o *ingestOptions, s3c *s3Clients, win query.Window) (ingest.PublicKeys, error) {
	if o.publicKeys != "" {
		keys, err := ingest.ReadPublicKeys(o.publicKeys)
		if err != nil {
			return nil, usageError{err}
		}
		return keys, nil
	}
	cfg, err := ingest.LoadAWSConfig(ctx, s3c.clientConfig())
	if err != nil {
		return nil, fmt.Errorf("--validate: %w", err)
	}
	from, to := win.Since, win.Until
	if !from.IsZero() {
		from = from.Add(-2 * ingest.DayMargin)
	}
	keys, err := ingest.FetchPublicKeys(ctx, cfg, from, to)
	if err != nil {
		return nil, fmt.Errorf("--validate: %w", err)
	}
	return keys, nil
}

// integritySummary is the one-line integrity result of an ingest.
func integritySummary(sum []query.IntegrityCount, failures int64) string {
	var parts []string
	for _, c := range sum {
		parts = append(parts, fmt.Sprintf("%s %s %d", c.Kind, c.Status, c.Files))
	}
	return strings.Join(parts, ", ") + fmt.Sprintf("; %d failure(s) (see `rootaudit integrity`)", failures)
}

// s3Clients builds one S3 client per run (and one more per bucket that
// lives in another region).
type s3Clients struct {
	flags    *s3Flags
	retries  int // --retries, for listing pages too
	stderr   io.Writer
	digests  bool // list CloudTrail-Digest/ too (--validate)
	debug    bool // --debug: the SDK's retry log to stderr
	api      *apiSources
	base     *s3.Client
	byRegion map[string]*s3.Client
}

func (c *s3Clients) clientConfig() ingest.S3ClientConfig {
	return ingest.S3ClientConfig{
		Profile:     c.flags.profile,
		Region:      c.flags.region,
		EndpointURL: c.flags.endpointURL,
		PathStyle:   c.flags.pathStyle,
		RoleARN:     c.flags.roleARN,
		MaxConns:    c.flags.concurrency + c.flags.listConcurrency,
		Debug:       map[bool]io.Writer{true: c.stderr}[c.debug],
	}
}

func (c *s3Clients) source(ctx context.Context, arg string) (ingest.Source, error) {
	bucket, prefix, err := ingest.ParseS3URL(arg)
	if err != nil {
		return nil, usageError{fmt.Errorf("source %w", err)}
	}
	if c.base == nil {
		c.base, err = ingest.NewS3Client(ctx, c.clientConfig())
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", arg, err)
		}
		c.byRegion = map[string]*s3.Client{c.base.Options().Region: c.base}
	}
	opts := ingest.S3Options{ListConcurrency: c.flags.listConcurrency, RequestTimeout: c.flags.requestTimeout, ListRetries: c.retries, Digests: c.digests}
	if c.retries == 0 {
		opts.ListRetries = -1 // none
	}
	src, err := ingest.NewS3Source(ctx, c.base, bucket, prefix, opts)
	var wr *ingest.WrongRegionError
	if errors.As(err, &wr) && wr.Region != "" {
		// Follow the redirect: the bucket said where it lives.
		client, ok := c.byRegion[wr.Region]
		if !ok {
			client = ingest.S3ClientWithRegion(c.base, wr.Region)
			c.byRegion[wr.Region] = client
		}
		fmt.Fprintf(c.stderr, "rootaudit: bucket %s is in %s (not %s); using %s\n", bucket, wr.Region, wr.ClientRegion, wr.Region)
		src, err = ingest.NewS3Source(ctx, client, bucket, prefix, opts)
	}
	if errors.Is(err, ingest.ErrS3BadPrefix) {
		return nil, usageError{fmt.Errorf("source %s: %w", arg, err)}
	}
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", arg, err)
	}
	return src, nil
}

// startProgress shows a live line on stderr when it is a terminal. The
// returned function stops it (final=true) or clears it for a message.
func startProgress(g *globalOptions, st *ingest.Stats) func(final bool) {
	f, ok := g.stderr.(*os.File)
	if g.quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return func(bool) {}
	}
	bar := progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription("ingest"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("files"),
		progressbar.OptionShowIts(),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetPredictTime(true),
	)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if st.ListDone.Load() {
					bar.ChangeMax64(st.Listed.Load() - st.Unchanged.Load())
				}
				bar.Describe(fmt.Sprintf("ingest: listed %d, %.0f MB JSON, %d records, %d kept, %d failed",
					st.Listed.Load(), float64(st.Bytes.Load())/1e6, st.Records.Load(), st.Kept.Load(), st.Failed.Load()))
				bar.Set64(st.Read.Load())
			}
		}
	}()
	var closed bool
	return func(final bool) {
		if !final {
			bar.Clear()
			return
		}
		if !closed {
			closed = true
			close(done)
			<-stopped
			bar.Finish()
			bar.Clear()
		}
	}
}
