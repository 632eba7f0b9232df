package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/rootaudit/rootaudit/fixtures"
	"github.com/rootaudit/rootaudit/query"
)

// signedTrail generates a small trail and signs its digests with a fresh
// test key; it returns the directory and the list-public-keys JSON.
func signedTrail(t *testing.T) (string, []byte) {
	t.Helper()
	dir := t.TempDir()
	if _, err := fixtures.Generate(context.Background(), dir, fixtures.Config{Seed: 11, TargetBytes: 400 << 10}); err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := fixtures.SignDigests(dir, key)
	if err != nil {
		t.Fatal(err)
	}
	return dir, keys
}

func files(t *testing.T, dir, folder string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, "/"+folder+"/") && strings.HasSuffix(p, ".json.gz") {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// TestValidateCleanTrail: every log file of an untouched signed trail is
// valid, every digest verifies and chains.
func TestValidateCleanTrail(t *testing.T) {
	dir, keys := signedTrail(t)
	kf := filepath.Join(t.TempDir(), "keys.json")
	os.WriteFile(kf, keys, 0o644)
	db := filepath.Join(t.TempDir(), "v.duckdb")
	_, stderr, code := runCLI(t, "ingest", "--db", db, "--all", "-q", "--validate", "--public-keys", kf, dir)
	if code != 0 {
		t.Fatalf("ingest --validate exit %d: %s", code, stderr)
	}
	out, stderr, code := runCLI(t, "integrity", "--db", db, "--format", "json")
	if code != 0 {
		t.Fatalf("integrity exit %d: %s\n%s", code, stderr, out)
	}
	var in query.Integrity
	json.Unmarshal([]byte(out), &in)
	for _, c := range in.Summary {
		if c.Kind == "log" && c.Status != "valid" || c.Kind == "digest-signature" && c.Status != "valid" || c.Kind == "digest-chain" && c.Status != "ok" && c.Status != "first" {
			t.Errorf("clean trail: %+v", c)
		}
	}
	if len(in.Failures) != 0 {
		t.Errorf("clean trail: failures %+v", in.Failures)
	}
}

// TestValidateListsUnreadableFile: a log file that cannot be read is not in
// the integrity summary (which counts files read), but it is a failure:
// `integrity` lists it and exits with findings even though every file that
// was read validates.
func TestValidateListsUnreadableFile(t *testing.T) {
	dir, keys := signedTrail(t)
	kf := filepath.Join(t.TempDir(), "keys.json")
	os.WriteFile(kf, keys, 0o644)
	logs := files(t, dir, "CloudTrail")
	broken := logs[len(logs)/2]
	b, err := os.ReadFile(broken)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(broken, b[:len(b)/2], 0o644) // truncated gzip
	db := filepath.Join(t.TempDir(), "v.duckdb")
	if _, stderr, code := runCLI(t, "ingest", "--db", db, "--all", "-q", "--validate", "--public-keys", kf, dir); code != exitPartial {
		t.Fatalf("ingest --validate of a trail with a truncated file: exit %d, want %d: %s", code, exitPartial, stderr)
	}
	out, stderr, code := runCLI(t, "integrity", "--db", db, "--format", "json")
	if code != exitFindings {
		t.Fatalf("integrity exit %d, want %d: %s\n%s", code, exitFindings, stderr, out)
	}
	var in query.Integrity
	if err := json.Unmarshal([]byte(out), &in); err != nil {
		t.Fatal(err)
	}
	if len(in.Failures) != 1 || in.Failures[0].Source != broken || in.Failures[0].Status != "read-failed" {
		t.Fatalf("failures %+v, want only %s read-failed", in.Failures, broken)
	}
}

// TestValidateFindsTampering plants a tampered log file, a deleted log
// file, a deleted digest and a bad signature, and serves the public key
// from a loopback CloudTrail ListPublicKeys fake.
func TestValidateFindsTampering(t *testing.T) {
	dir, keys := signedTrail(t)
	logs, digests := files(t, dir, "CloudTrail"), files(t, dir, "CloudTrail-Digest")
	if len(logs) < 10 || len(digests) < 10 {
		t.Fatalf("trail too small: %d logs, %d digests", len(logs), len(digests))
	}
	tampered, deleted := logs[3], logs[7]
	os.WriteFile(tampered, gzipped(`{"Records":[]}`), 0o644)
	os.Remove(deleted)
	// The digest deleted and the digest with a bad signature must not be
	// the ones covering the two files above.
	var goneDigest, badSig string
	for _, d := range digests {
		day := filepath.Dir(strings.Replace(d, "CloudTrail-Digest", "CloudTrail", 1))
		if filepath.Dir(tampered) == day || filepath.Dir(deleted) == day {
			continue
		}
		if goneDigest == "" {
			goneDigest = d
		} else if badSig == "" && filepath.Dir(filepath.Dir(d)) != filepath.Dir(filepath.Dir(goneDigest)) {
			badSig = d
		}
	}
	os.Remove(goneDigest)
	os.Remove(goneDigest + ".sig")
	os.WriteFile(badSig+".sig", []byte(strings.Repeat("ab", 256)), 0o644)
	// A log file slipped in afterwards, in a day whose digests are all
	// there: its delivery time is covered by a digest that does not list it.
	var planted string
	for _, l := range logs[10:] {
		day := filepath.Dir(l)
		if day == filepath.Dir(tampered) || day == filepath.Dir(deleted) ||
			day == filepath.Dir(strings.Replace(goneDigest, "CloudTrail-Digest", "CloudTrail", 1)) ||
			day == filepath.Dir(strings.Replace(badSig, "CloudTrail-Digest", "CloudTrail", 1)) {
			continue
		}
		planted = l[:strings.LastIndex(l, "_")] + "_planted0001.json.gz"
		break
	}
	os.WriteFile(planted, gzipped(`{"Records":[]}`), 0o644)

	// ListPublicKeys served on loopback.
	var doc struct{ PublicKeyList []map[string]string }
	json.Unmarshal(keys, &doc)
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".ListPublicKeys") {
			http.Error(w, `{"__type":"UnknownOperationException"}`, 400)
			return
		}
		calls++
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		k := doc.PublicKeyList[0]
		json.NewEncoder(w).Encode(map[string]any{"PublicKeyList": []map[string]any{{
			"Fingerprint": k["Fingerprint"], "Value": k["Value"], "ValidityStartTime": 1577836800, "ValidityEndTime": 1893456000}}})
	}))
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

	db := filepath.Join(t.TempDir(), "v.duckdb")
	_, stderr, code := runCLI(t, "ingest", "--db", db, "--all", "-q", "--validate", dir)
	if code != exitFindings {
		t.Fatalf("ingest --validate of a tampered trail: exit %d, want %d: %s", code, exitFindings, stderr)
	}
	if calls == 0 {
		t.Fatal("ListPublicKeys was never called")
	}
	out, _, code := runCLI(t, "integrity", "--db", db, "--format", "json")
	if code != exitFindings {
		t.Fatalf("integrity exit %d, want %d", code, exitFindings)
	}
	var in query.Integrity
	if err := json.Unmarshal([]byte(out), &in); err != nil {
		t.Fatal(err)
	}
	has := func(status, suffix string) bool {
		for _, f := range in.Failures {
			if f.Status == status && strings.HasSuffix(f.Source, suffix) {
				return true
			}
		}
		return false
	}
	rel := func(p string) string { return p[strings.Index(p, "AWSLogs/"):] }
	for _, c := range []struct{ status, file string }{
		{"hash-mismatch", rel(tampered)},
		{"missing", rel(deleted)},
		{"signature-invalid", rel(badSig)},
		{"not-in-digest", rel(planted)},
	} {
		if !has(c.status, c.file) {
			t.Errorf("no %s failure for %s in %+v", c.status, c.file, in.Failures)
		}
	}
	gap, missing := false, false
	for _, f := range in.Failures {
		if f.Status == "chain-gap" && strings.Contains(f.Detail, rel(goneDigest)) {
			gap = true
		}
		if f.Status == "digest-missing" && filepath.Dir(rel(f.Source)) == filepath.Dir(strings.Replace(rel(goneDigest), "CloudTrail-Digest", "CloudTrail", 1)) {
			missing = true
		}
	}
	if !gap || !missing {
		t.Errorf("deleted digest %s: chain gap reported %v, its logs digest-missing %v\n%+v", rel(goneDigest), gap, missing, in.Failures)
	}
	valid := 0
	for _, c := range in.Summary {
		if c.Kind == "log" && c.Status == "valid" {
			valid = int(c.Files)
		}
	}
	if valid < len(logs)/2 {
		t.Errorf("only %d of %d log files valid", valid, len(logs))
	}
}

// TestValidateWindowedTrail: a windowed --validate (the default window is
// a year) once failed an untouched trail, as the first digest of every
// account and region names a predecessor from before the window, which was
// never read: "digest-chain gap", exit 1 (found by black-box QA). Such a
// predecessor is previous-unread; a digest deleted inside the window is
// still a gap.
func TestValidateWindowedTrail(t *testing.T) {
	dir, keys := signedTrail(t)
	kf := filepath.Join(t.TempDir(), "keys.json")
	os.WriteFile(kf, keys, 0o644)
	window := []string{"--since", "2026-03-01", "--until", "2026-04-01"}
	summary := func(db string) (map[string]int64, int) {
		t.Helper()
		out, stderr, code := runCLI(t, "integrity", "--db", db, "--format", "json")
		var in query.Integrity
		if err := json.Unmarshal([]byte(out), &in); err != nil {
			t.Fatalf("integrity output: %v\n%s%s", err, out, stderr)
		}
		got := map[string]int64{}
		for _, c := range in.Summary {
			got[c.Kind+" "+c.Status] += c.Files
		}
		return got, code
	}
	db := filepath.Join(t.TempDir(), "w.duckdb")
	if _, stderr, code := runCLI(t, append([]string{"ingest", "--db", db, "-q", "--validate", "--public-keys", kf}, append(window, dir)...)...); code != 0 {
		t.Fatalf("windowed ingest --validate of an untouched trail: exit %d: %s", code, stderr)
	}
	got, code := summary(db)
	if code != 0 || got["digest-chain gap"] != 0 || got["digest-chain previous-unread"] == 0 || got["digest-chain ok"] == 0 {
		t.Fatalf("untouched trail, windowed: exit %d, summary %v", code, got)
	}

	// A digest deleted inside the window breaks the chain of the next one.
	byPair := map[string][]string{} // March digests per account and region, in order
	for _, f := range files(t, dir, "CloudTrail-Digest") {
		if i := strings.Index(f, "/2026/03/"); i > 0 {
			byPair[f[:i]] = append(byPair[f[:i]], f)
		}
	}
	var victim string
	for _, ds := range byPair {
		if len(ds) >= 3 {
			victim = ds[len(ds)/2]
			break
		}
	}
	if victim == "" {
		t.Fatal("no account and region with three digests in March in the generated trail")
	}
	os.Remove(victim)
	db2 := filepath.Join(t.TempDir(), "d.duckdb")
	runCLI(t, append([]string{"ingest", "--db", db2, "-q", "--validate", "--public-keys", kf}, append(window, dir)...)...)
	if got, code := summary(db2); code != exitFindings || got["digest-chain gap"] != 1 {
		t.Fatalf("a digest deleted in the window: exit %d, summary %v, want one gap and exit %d", code, got, exitFindings)
	}
}
