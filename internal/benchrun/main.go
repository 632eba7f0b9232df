// Command benchrun is `make bench`: it makes a generated org trail once
// (cached under .cache/bench), then measures, on the same files and the same
// machine, the decompression floor T and every way of answering the root
// question: rootaudit ingest from local files, with --validate, from S3
// through a loopback server, DuckDB read_json with an explicit schema, and
// zcat | jq when jq is installed. Each is a separate process, timed wall
// clock with its peak RSS (rusage); medians of -runs repetitions, run
// interleaved so drift hits every method alike. It also times the report
// commands on a database of 1,000,000 kept events.
//
// Subcommands used by itself: floor DIR, readjson DIR, mkdb PATH N.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"database/sql"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/gzip"
	"golang.org/x/sync/errgroup"

	"github.com/rootaudit/rootaudit/fixtures"
	"github.com/rootaudit/rootaudit/ingest"
	"github.com/rootaudit/rootaudit/query"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "floor":
			floor(os.Args[2:])
			return
		case "readjson":
			readJSON(os.Args[2:])
			return
		case "mkdb":
			mkdb(os.Args[2:])
			return
		case "s3floor":
			s3floor(os.Args[2:])
			return
		case "prepare":
			// prepare CACHE SIZE: generate (once) and warm a trail, and
			// print its directory, JSON bytes and log files.
			if err := prepare(os.Args[2:]); err != nil {
				fmt.Fprintln(os.Stderr, "benchrun prepare:", err)
				os.Exit(1)
			}
			return
		case "noop":
			// The harness's own floor of peak RSS (harnessFloor).
			return
		case "upload":
			// upload ENDPOINT DIR: put a trail into bucket "bench" of any
			// S3 server (for measuring against servers other than
			// versitygw; docs/performance.md).
			if len(os.Args) != 4 {
				fmt.Fprintln(os.Stderr, "usage: benchrun upload ENDPOINT DIR")
				os.Exit(2)
			}
			if err := upload(os.Args[2], os.Args[3]); err != nil {
				fmt.Fprintln(os.Stderr, "benchrun upload:", err)
				os.Exit(1)
			}
			return
		}
	}
	if err := bench(); err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
}

type result struct {
	name    string
	walls   []time.Duration
	rss     []int64 // KB
	records int64
	note    string
}

func (r *result) median() time.Duration {
	w := append([]time.Duration(nil), r.walls...)
	sort.Slice(w, func(i, j int) bool { return w[i] < w[j] })
	return w[len(w)/2]
}

// perRunRatios compares each run's wall with the floor of the same run.
func perRunRatios(walls, floor []time.Duration) string {
	if len(walls) != len(floor) || len(walls) == 0 {
		return "–" // a method run once (jq) has no run to pair with
	}
	q := make([]float64, len(walls))
	for i := range walls {
		q[i] = walls[i].Seconds() / floor[i].Seconds()
	}
	sort.Float64s(q)
	return fmt.Sprintf("%.2f (%.2f–%.2f)", q[len(q)/2], q[0], q[len(q)-1])
}

func (r *result) maxRSS() int64 {
	var m int64
	for _, v := range r.rss {
		m = max(m, v)
	}
	return m
}

// timed runs a command and returns its wall time and peak RSS in KB.
func timed(name string, args []string, env []string, stdout io.Writer) (time.Duration, int64, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	el := time.Since(start)
	if err != nil {
		return el, 0, fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return el, ru.Maxrss, nil
}

func bench() error {
	size := flag.String("size", "1200MB", "uncompressed JSON of the generated trail")
	big := flag.String("big", "", "a second, larger trail size for the memory check (e.g. 4GB); local ingest, plain and --validate")
	runs := flag.Int("runs", 3, "repetitions (medians are reported)")
	cache := flag.String("cache", ".cache/bench", "where the generated trails are kept")
	bin := flag.String("rootaudit", "bin/rootaudit", "rootaudit binary")
	s3gw := flag.String("versitygw", "versitygw", "versitygw binary for the S3 measurement (skipped when missing)")
	events := flag.Int("events", 1000000, "kept events in the database for the report timings (0 to skip)")
	flag.Parse()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	n, err := parseSize(*size)
	if err != nil {
		return err
	}
	dir, total, files, err := prepared(self, *cache, n)
	if err != nil {
		return err
	}
	workers := runtime.NumCPU()
	fmt.Printf("machine: %d cores, %s/%s, %s\n", workers, runtime.GOOS, runtime.GOARCH, cpuModel())
	fmt.Printf("trail: %s (%d log files, %.1f MB of JSON)\n", dir, files, float64(total)/1e6)
	// A child's peak RSS reads at least this process's at exec (see
	// prepared); a child that does nothing shows that floor.
	_, floorRSS, err := timed(self, []string{"noop"}, nil, io.Discard)
	if err != nil {
		return err
	}
	fmt.Printf("peak RSS floor of this harness: %d MB (no measured peak below it is real)\n\n", floorRSS/1024)
	tmp, err := os.MkdirTemp("", "benchrun-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	keys := filepath.Join(dir, "public-keys.json")

	type method struct {
		name string
		run  func(i int) (time.Duration, int64, error)
	}
	ingestArgs := func(extra ...string) func(i int) (time.Duration, int64, error) {
		return func(i int) (time.Duration, int64, error) {
			db := filepath.Join(tmp, fmt.Sprintf("b%d.duckdb", i))
			os.Remove(db)
			defer os.Remove(db)
			defer os.Remove(db + ".wal")
			return timed(*bin, append([]string{"ingest", "--db", db, "--all", "-q"}, extra...), nil, io.Discard)
		}
	}
	methods := []method{
		{"floor T: gunzip only (klauspost, 2 workers)", func(int) (time.Duration, int64, error) {
			return timed(self, []string{"floor", "-workers", strconv.Itoa(workers), dir}, nil, io.Discard)
		}},
		{"rootaudit ingest (local)", ingestArgs(dir)},
		{"rootaudit ingest --validate (local)", ingestArgs("--validate", "--public-keys", keys, dir)},
	}
	if ingest.WholeGunzipLibrary != "" {
		methods = append(methods, method{"floor T_" + ingest.WholeGunzipLibrary + ": read whole + " + ingest.WholeGunzipLibrary + " only, 2 workers", func(int) (time.Duration, int64, error) {
			return timed(self, []string{"floor", "-whole", "-workers", strconv.Itoa(workers), dir}, nil, io.Discard)
		}})
	}
	methods = append(methods, []method{
		{"floor T1: gunzip only, 1 worker", func(int) (time.Duration, int64, error) {
			return timed(self, []string{"floor", "-workers", "1", dir}, nil, io.Discard)
		}},
		{"rootaudit ingest --workers 1 (local)", ingestArgs("--workers", "1", dir)},
	}...)
	gw, err := exec.LookPath(*s3gw)
	if err != nil {
		// `go install` puts it in GOPATH/bin, which may not be on PATH.
		if out, gerr := exec.Command("go", "env", "GOPATH").Output(); gerr == nil {
			gw, err = exec.LookPath(filepath.Join(strings.TrimSpace(string(out)), "bin", "versitygw"))
		}
	}
	if err == nil {
		endpoint, stop, err := startS3(self, gw, *cache, dir)
		if err != nil {
			return err
		}
		defer stop()
		methods = append(methods, method{"S3 floor: list + GET every log object only (same SDK client, 32 at once, versitygw)", func(int) (time.Duration, int64, error) {
			return timed(self, []string{"s3floor", endpoint, "32"},
				[]string{"AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=benchsecret", "AWS_EC2_METADATA_DISABLED=true"}, io.Discard)
		}})
		methods = append(methods, method{"rootaudit ingest (S3, loopback versitygw)", func(i int) (time.Duration, int64, error) {
			db := filepath.Join(tmp, fmt.Sprintf("s%d.duckdb", i))
			os.Remove(db)
			defer os.Remove(db)
			return timed(*bin, []string{"ingest", "--db", db, "--all", "-q", "--endpoint-url", endpoint, "--path-style", "--aws-region", "us-east-1", "s3://bench/"},
				[]string{"AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=benchsecret", "AWS_EC2_METADATA_DISABLED=true"}, io.Discard)
		}})
	} else {
		fmt.Println("(versitygw not found: S3 ingest not measured; `make ci-deps` installs it)")
	}
	methods = append(methods, method{"DuckDB read_json, explicit schema (duckdb-go)", func(int) (time.Duration, int64, error) {
		return timed(self, []string{"readjson", dir}, nil, io.Discard)
	}})
	results := make([]*result, len(methods))
	for i := range methods {
		results[i] = &result{name: methods[i].name}
	}
	for r := 0; r < *runs; r++ {
		for i, m := range methods {
			el, rss, err := m.run(r)
			if err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			results[i].walls = append(results[i].walls, el)
			results[i].rss = append(results[i].rss, rss)
			fmt.Fprintf(os.Stderr, "run %d: %-48s %8.2fs %6d MB\n", r+1, m.name, el.Seconds(), rss/1024)
		}
	}
	if jq, err := exec.LookPath("jq"); err == nil {
		script := fmt.Sprintf(`find %q -path '*/CloudTrail/*' -name '*.json.gz' -print0 | xargs -0 zcat | %s -c '.Records[] | select(.userIdentity.type == "Root" or .eventName == "AssumeRoot")' | wc -l`, dir, jq)
		el, rss, err := timed("sh", []string{"-c", script}, nil, io.Discard)
		if err == nil {
			results = append(results, &result{name: "zcat | jq (1 run)", walls: []time.Duration{el}, rss: []int64{rss}})
		}
	} else {
		fmt.Println("(jq not installed: zcat | jq not measured)")
	}
	records := trailRecords(dir)
	T := results[0].median()
	// The machine is a shared VM whose speed drifts between runs, so each
	// method is also compared with the floor T of its own run (the runs
	// are interleaved): the median and range of those ratios.
	fmt.Printf("\n| method | wall (median of %d) | MB/s of JSON | records/s | × T | × T per run: median (range) | peak RSS |\n|---|---|---|---|---|---|---|\n", *runs)
	for _, r := range results {
		m := r.median()
		fmt.Printf("| %s | %.2f s | %.0f | %.0f | %.2f | %s | %d MB |\n", r.name, m.Seconds(), float64(total)/1e6/m.Seconds(),
			float64(records)/m.Seconds(), m.Seconds()/T.Seconds(), perRunRatios(r.walls, results[0].walls), r.maxRSS()/1024)
	}
	if *big != "" {
		nb, err := parseSize(*big)
		if err != nil {
			return err
		}
		bdir, btotal, _, err := prepared(self, *cache, nb)
		if err != nil {
			return err
		}
		// The plain ingest's database is kept for a second run over the
		// same files, which reads nothing but loads every stored
		// checkpoint (a nightly run's default window is a year): its
		// memory must not grow with the database either.
		rerun := func(trail, db string) (el, rel time.Duration, rss, rrss int64, err error) {
			os.Remove(db)
			defer os.Remove(db)
			defer os.Remove(db + ".wal")
			args := []string{"ingest", "--db", db, "--all", "-q", trail}
			if el, rss, err = timed(*bin, args, nil, io.Discard); err != nil {
				return
			}
			rel, rrss, err = timed(*bin, args, nil, io.Discard)
			return
		}
		el, rel, rss, rrss, err := rerun(bdir, filepath.Join(tmp, "rerun-big.duckdb"))
		if err != nil {
			return err
		}
		_, _, _, srss, err := rerun(dir, filepath.Join(tmp, "rerun-small.duckdb"))
		if err != nil {
			return err
		}
		fmt.Printf("\nmemory check: ingest of %.1f MB of JSON: %.2f s, peak RSS %d MB (vs %d MB at %.1f MB)\n",
			float64(btotal)/1e6, el.Seconds(), rss/1024, results[1].maxRSS()/1024, float64(total)/1e6)
		fmt.Printf("memory check: a second run over the same files (nothing to read, every checkpoint loaded): %.2f s, peak RSS %d MB (vs %d MB at %.1f MB)\n",
			rel.Seconds(), rrss/1024, srss/1024, float64(total)/1e6)
		// --validate keeps a row per digest and listing and ends with the
		// integrity pass over all of them: its memory is checked at the
		// large size too (it once ran out of memory there).
		el, rss, err = ingestArgs("--validate", "--public-keys", filepath.Join(bdir, "public-keys.json"), bdir)(98)
		if err != nil {
			return fmt.Errorf("memory check with --validate: %w", err)
		}
		fmt.Printf("memory check: ingest --validate of the same: %.2f s, peak RSS %d MB (vs %d MB at %.1f MB)\n",
			el.Seconds(), rss/1024, results[2].maxRSS()/1024, float64(total)/1e6)
	}
	if *events > 0 {
		db := filepath.Join(tmp, "big.duckdb")
		if _, _, err := timed(self, []string{"mkdb", db, strconv.Itoa(*events)}, nil, io.Discard); err != nil {
			return err
		}
		fmt.Printf("\nreports on a database of %d kept events (median of %d, JSON to /dev/null):\n\n| command | wall |\n|---|---|\n", *events, *runs)
		for _, c := range [][]string{
			{"inventory", "--since", "2025-11-01", "--until", "2026-11-01"},
			{"sessions", "--since", "2025-11-01", "--until", "2026-11-01"},
			{"status", "--until", "2026-11-01"},
		} {
			r := &result{name: c[0]}
			for i := 0; i < *runs; i++ {
				el, rss, err := timed(*bin, append(append([]string{}, c...), "--db", db, "--format", "json"), nil, io.Discard)
				if err != nil {
					return err
				}
				r.walls, r.rss = append(r.walls, el), append(r.rss, rss)
			}
			fmt.Printf("| rootaudit %s | %.2f s (peak RSS %d MB) |\n", c[0], r.median().Seconds(), r.maxRSS()/1024)
		}
	}
	return nil
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	u := strings.ToUpper(s)
	for suf, m := range map[string]int64{"KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30} {
		if strings.HasSuffix(u, suf) {
			mult, u = m, strings.TrimSuffix(u, suf)
		}
	}
	v, err := strconv.ParseFloat(u, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, err)
	}
	return int64(v * float64(mult)), nil
}

// ensureTrail generates the trail of a size once (seed 42) and reuses it.
// prepared generates (once) and warms the trail of the given size in a
// child process, and returns its directory, JSON bytes and log files.
// Generating in this process would raise its peak RSS, and Linux reports a
// child's peak as at least its parent's at the moment of exec (the child
// starts on the parent's memory map): every RSS measured after that would
// read at least the generator's (151 MB in a run that generated the 4 GB
// trail, for a second ingest that peaks at 100 MB).
func prepared(self, cache string, size int64) (string, int64, int, error) {
	var out bytes.Buffer
	if _, _, err := timed(self, []string{"prepare", cache, strconv.FormatInt(size, 10)}, nil, &out); err != nil {
		return "", 0, 0, err
	}
	var dir string
	var total int64
	var files int
	if _, err := fmt.Sscan(out.String(), &dir, &total, &files); err != nil {
		return "", 0, 0, fmt.Errorf("benchrun prepare: %q: %w", out.String(), err)
	}
	return dir, total, files, nil
}

func prepare(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: benchrun prepare CACHE SIZE")
	}
	size, err := strconv.ParseInt(args[1], 10, 64)
	if err != nil {
		return err
	}
	dir, err := ensureTrail(args[0], size)
	if err != nil {
		return err
	}
	total, files := warm(dir)
	fmt.Println(dir, total, files)
	return nil
}

func ensureTrail(cache string, size int64) (string, error) {
	dir := filepath.Join(cache, fmt.Sprintf("trail-%dMB", size>>20))
	if _, err := os.Stat(filepath.Join(dir, "truth.json")); err == nil {
		return dir, nil
	}
	os.RemoveAll(dir)
	fmt.Fprintf(os.Stderr, "generating %s (once; cached)…\n", dir)
	if _, err := fixtures.Generate(context.Background(), dir, fixtures.Config{Seed: 42, TargetBytes: size}); err != nil {
		return "", err
	}
	// Signed digests make the --validate run a real one: every signature
	// verified, every hash compared.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	keys, err := fixtures.SignDigests(dir, key)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "public-keys.json"), keys, 0o644); err != nil {
		return "", err
	}
	return dir, nil
}

func logFiles(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json.gz") && strings.Contains(p, "/CloudTrail/") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// warm reads every file once so all methods start from the page cache, and
// returns the uncompressed size.
func warm(dir string) (int64, int) {
	files := logFiles(dir)
	var total atomic.Int64
	var wg sync.WaitGroup
	ch := make(chan string)
	for i := 0; i < runtime.NumCPU(); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var zr gzip.Reader
			for p := range ch {
				b, _ := os.ReadFile(p)
				if zr.Reset(bytes.NewReader(b)) == nil {
					n, _ := io.Copy(io.Discard, &zr)
					total.Add(n)
				}
			}
		}()
	}
	for _, f := range files {
		ch <- f
	}
	close(ch)
	wg.Wait()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(p, "/CloudTrail/") {
			os.ReadFile(p)
		}
		return nil
	})
	return total.Load(), len(files)
}

func trailRecords(dir string) int64 {
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		return 0
	}
	i := bytes.Index(b, []byte(`"records":`))
	if i < 0 {
		return 0
	}
	rest := b[i+len(`"records":`):]
	j := bytes.IndexAny(rest, ",}")
	v, _ := strconv.ParseInt(strings.TrimSpace(string(rest[:j])), 10, 64)
	return v
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			return strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
		}
	}
	return "unknown CPU"
}

// floor gunzips every log file with the same library and worker count as
// rootaudit and does nothing else: the time T everything is compared with.
func floor(args []string) {
	fsf := flag.NewFlagSet("floor", flag.ExitOnError)
	workers := fsf.Int("workers", runtime.NumCPU(), "files decompressed at once")
	whole := fsf.Bool("whole", false, "read each file whole and decompress it in one call with rootaudit's whole-file decoder (libdeflate)")
	fsf.Parse(args)
	files := logFiles(fsf.Arg(0))
	var total atomic.Int64
	ch := make(chan string, 64)
	var wg sync.WaitGroup
	for i := 0; i < *workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 256<<10)
			var zr gzip.Reader
			var zbuf bytes.Buffer
			gz := ingest.NewGunzipper()
			if *whole && gz == nil {
				panic("built without the whole-file decoder (build tag libdeflate)")
			}
			for p := range ch {
				if *whole {
					f, err := os.Open(p)
					if err != nil {
						panic(err)
					}
					zbuf.Reset()
					if _, err := zbuf.ReadFrom(f); err != nil {
						panic(err)
					}
					f.Close()
					z := zbuf.Bytes()
					size := int(binary.LittleEndian.Uint32(z[len(z)-4:]))
					if cap(buf) < size {
						buf = make([]byte, size)
					}
					n, ok := gz.Gunzip(buf[:size], z)
					if !ok {
						panic("whole-file gunzip failed on " + p)
					}
					total.Add(int64(n))
					continue
				}
				f, err := os.Open(p)
				if err != nil {
					panic(err)
				}
				if err := zr.Reset(f); err != nil {
					panic(err)
				}
				for {
					n, err := zr.Read(buf)
					total.Add(int64(n))
					if err == io.EOF {
						break
					}
					if err != nil {
						panic(err)
					}
				}
				f.Close()
			}
		}()
	}
	for _, f := range files {
		ch <- f
	}
	close(ch)
	wg.Wait()
	fmt.Println(total.Load())
}

// readJSON answers the root question with DuckDB's own reader: read_json
// with an explicit schema (the default options fail on this data: see
// PERF-NOTES.md), through the same duckdb-go library rootaudit links.
func readJSON(args []string) {
	dir := args[0]
	db, err := sql.Open("duckdb", "?autoinstall_known_extensions=false&autoload_known_extensions=false")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	glob := filepath.Join(dir, "AWSLogs", "*", "*", "CloudTrail", "*", "*", "*", "*", "*.json.gz")
	q := `SELECT count(*) FROM (
	  SELECT unnest(Records) AS r FROM read_json(?, format = 'unstructured', compression = 'gzip', maximum_object_size = 1073741824,
	    columns = {Records: 'STRUCT(eventID VARCHAR, eventTime VARCHAR, eventSource VARCHAR, eventName VARCHAR, awsRegion VARCHAR,
	      recipientAccountId VARCHAR, sourceIPAddress VARCHAR, errorCode VARCHAR,
	      userIdentity STRUCT("type" VARCHAR, arn VARCHAR, accountId VARCHAR, accessKeyId VARCHAR, invokedBy VARCHAR))[]'}))
	WHERE r.userIdentity."type" = 'Root' OR r.eventName = 'AssumeRoot'
	   OR r.eventName LIKE '%OrganizationsRoot%'`
	var n int64
	if err := db.QueryRow(q, glob).Scan(&n); err != nil {
		panic(err)
	}
	fmt.Println(n)
}

// mkdb writes a database of n kept events shaped like a big organization's
// year: root events spread over 1,000 accounts (most sign-ins and console
// calls, some access-key calls), and AssumeRoot sessions with actions.
func mkdb(args []string) {
	path := args[0]
	n, _ := strconv.Atoi(args[1])
	os.Remove(path)
	db, err := query.Open(context.Background(), path, false)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	sessions := n / 20
	stmts := []string{
		fmt.Sprintf(`INSERT INTO events (event_id, event_time, event_source, event_name, event_type, aws_region, recipient_account_id,
			identity_type, identity_arn, identity_account_id, access_key_id, source_ip, error_code, login_result, mfa_used, source_kind, source_file, raw)
		SELECT 'root-' || i, TIMESTAMP '2025-11-01' + to_seconds(i * 31 %% 31536000),
			CASE WHEN i %% 5 = 0 THEN 'signin.amazonaws.com' ELSE 'iam.amazonaws.com' END,
			CASE WHEN i %% 5 = 0 THEN 'ConsoleLogin' ELSE 'ListUsers' END,
			CASE WHEN i %% 5 = 0 THEN 'AwsConsoleSignIn' ELSE 'AwsApiCall' END,
			'us-east-1', lpad(CAST(100000000000 + i %% 1000 AS VARCHAR), 12, '0'), 'Root', NULL,
			lpad(CAST(100000000000 + i %% 1000 AS VARCHAR), 12, '0'),
			CASE WHEN i %% 5 = 0 THEN NULL WHEN i %% 50 = 1 THEN 'AKIA' || (i %% 1000) ELSE 'ASIAC' || (i / 7) END,
			'198.51.100.' || (i %% 250), CASE WHEN i %% 40 = 3 THEN 'AccessDenied' END,
			CASE WHEN i %% 5 = 0 THEN (CASE WHEN i %% 15 = 0 THEN 'Failure' ELSE 'Success' END) END,
			CASE WHEN i %% 5 = 0 THEN i %% 2 = 0 END, 'trail', 'bench', '{}'
		FROM range(%d) t(i)`, n-2*sessions),
		fmt.Sprintf(`INSERT INTO events (event_id, event_time, event_source, event_name, event_type, aws_region, recipient_account_id,
			identity_type, identity_arn, identity_account_id, target_account, task_policy_arn, issued_key_id, source_kind, source_file, raw)
		SELECT 'ar-' || i, TIMESTAMP '2025-11-01' + to_seconds(i * 601 %% 31536000), 'sts.amazonaws.com', 'AssumeRoot', 'AwsApiCall',
			'us-west-2', '999999999999', 'AssumedRole', 'arn:aws:sts::999999999999:assumed-role/Admin/user' || (i %% 20), '999999999999',
			lpad(CAST(100000000000 + i %% 1000 AS VARCHAR), 12, '0'),
			'arn:aws:iam::aws:policy/root-task/' || (['IAMAuditRootUserCredentials','IAMDeleteRootUserCredentials','S3UnlockBucketPolicy'])[1 + i %% 3],
			'ASIASESS' || i, 'trail', 'bench', '{}'
		FROM range(%d) t(i)`, sessions),
		fmt.Sprintf(`INSERT INTO events (event_id, event_time, event_source, event_name, event_type, aws_region, recipient_account_id,
			identity_type, identity_account_id, access_key_id, source_kind, source_file, raw)
		SELECT 'act-' || i, TIMESTAMP '2025-11-01' + to_seconds(i * 601 %% 31536000 + 30), 'iam.amazonaws.com',
			(['ListAccessKeys','DeleteLoginProfile','CreateUser'])[1 + i %% 3], 'AwsApiCall', 'us-east-1',
			lpad(CAST(100000000000 + i %% 1000 AS VARCHAR), 12, '0'), 'Root', lpad(CAST(100000000000 + i %% 1000 AS VARCHAR), 12, '0'),
			'ASIASESS' || i, 'trail', 'bench', '{}'
		FROM range(%d) t(i)`, sessions),
		`CHECKPOINT`,
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			panic(err)
		}
	}
}

// startS3 starts versitygw (keeping connections alive, as S3 does) on a free loopback port over a bucket directory
// kept in the cache, uploading the trail the first time, and returns its
// endpoint and a stop function.
func startS3(self, gw, cache, dir string) (string, func(), error) {
	root := filepath.Join(cache, "s3-"+filepath.Base(dir))
	os.MkdirAll(root, 0o755)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := l.Addr().String()
	l.Close()
	// --keep-alive: versitygw closes every connection after one response
	// unless told otherwise, and S3 does not; without it each GET pays a
	// TCP dial and close on both sides (~13 s of 40 on the 1.2 GB trail).
	cmd := exec.Command(gw, "--keep-alive", "--port", addr, "posix", root)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID=bench", "ROOT_SECRET_ACCESS_KEY=benchsecret")
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait() }
	endpoint := "http://" + addr
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	marker := root + ".uploaded"
	if _, err := os.Stat(marker); err != nil {
		fmt.Fprintln(os.Stderr, "uploading the trail to the loopback S3 server (once; cached)…")
		// In a child process, for the reason at prepared.
		if _, _, err := timed(self, []string{"upload", endpoint, dir}, nil, os.Stderr); err != nil {
			stop()
			return "", nil, err
		}
		os.WriteFile(marker, nil, 0o644)
	}
	return endpoint, stop, nil
}

// upload puts every file of the trail (logs, digests, side files) into the
// bucket "bench" with 32 requests in flight.
func upload(endpoint, dir string) error {
	ctx := context.Background()
	os.Setenv("AWS_ACCESS_KEY_ID", "bench")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "benchsecret")
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	client, err := ingest.NewS3Client(ctx, ingest.S3ClientConfig{Region: "us-east-1", EndpointURL: endpoint, PathStyle: true, MaxConns: 64})
	if err != nil {
		return err
	}
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil && !strings.Contains(err.Error(), "BucketAlreadyOwnedByYou") {
		return fmt.Errorf("create bucket: %w", err)
	}
	var keys []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, "/AWSLogs/") {
			keys = append(keys, p)
		}
		return nil
	})
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(32)
	for _, p := range keys {
		g.Go(func() error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			key := p[strings.Index(p, "AWSLogs/"):]
			_, err = client.PutObject(gctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String(key), Body: bytes.NewReader(b)})
			if err != nil {
				return fmt.Errorf("put %s: %w", key, err)
			}
			return nil
		})
	}
	return g.Wait()
}
