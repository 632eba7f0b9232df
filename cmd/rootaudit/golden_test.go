package main

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rootaudit/rootaudit/fixtures"
)

var update = flag.Bool("update", false, "rewrite the golden files under fixtures/sample/expected")

const (
	sampleDir   = "../../fixtures/sample"
	sampleSince = "2025-11-01"
	sampleUntil = "2026-11-01"
)

// TestSampleIsGenerated regenerates the committed sample trail and checks
// it byte for byte, so the sample and its truth never drift from the
// generator.
func TestSampleIsGenerated(t *testing.T) {
	dir := t.TempDir()
	if _, err := fixtures.Generate(context.Background(), dir, fixtures.Config{Seed: 1, TargetBytes: 300 << 10,
		Start: mustTime(t, sampleSince+"T00:00:00Z"), End: mustTime(t, sampleUntil+"T00:00:00Z")}); err != nil {
		t.Fatal(err)
	}
	want, got := treeHashes(t, dir), treeHashes(t, filepath.Join(sampleDir, "trail"))
	if len(want) != len(got) {
		t.Fatalf("committed sample has %d files, the generator writes %d: regenerate with `go run ./fixtures/gentrail -out fixtures/sample/trail -seed 1 -size 300KB -start %s -end %s -force`", len(got), len(want), sampleSince, sampleUntil)
	}
	for name, h := range want {
		if got[name] != h {
			t.Fatalf("%s differs from the generator's output: regenerate the sample", name)
		}
	}
}

func treeHashes(t testing.TB, root string) map[string][32]byte {
	out := map[string][32]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = sha256.Sum256(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGoldenReports renders every report in every format from the
// committed sample and compares with fixtures/sample/expected (rewrite with
// -update).
func TestGoldenReports(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sample.duckdb")
	if _, stderr, code := runCLI(t, "ingest", "--db", db, "--all", "-q", filepath.Join(sampleDir, "trail")); code != 0 {
		t.Fatalf("ingest exit %d: %s", code, stderr)
	}
	accounts := filepath.Join(sampleDir, "trail", "accounts.json")
	approvers := filepath.Join(sampleDir, "trail", "approvers.txt")
	window := []string{"--since", sampleSince, "--until", sampleUntil}
	reports := []struct {
		name string
		args []string
		code int
	}{
		{"inventory", append([]string{"inventory", "--accounts", accounts}, window...), exitOK},
		{"sessions", append([]string{"sessions", "--accounts", accounts, "--approvers", approvers}, window...), exitOK},
		{"status", []string{"status", "--until", sampleUntil, "--accounts", accounts}, exitOK},
		{"plan", append([]string{"plan", "--accounts", accounts, "--start", "2026-12-01", "--wave-size", "2"}, window...), exitOK},
		{"check", append([]string{"check", "--accounts", accounts, "--approvers", approvers}, window...), exitFindings},
	}
	exts := map[string]string{"table": "txt", "csv": "csv", "json": "json", "markdown": "md"}
	for _, r := range reports {
		for format, ext := range exts {
			name := r.name + "." + ext
			t.Run(name, func(t *testing.T) {
				args := append(append([]string{}, r.args...), "--db", db, "--format", format)
				out, stderr, code := runCLI(t, args...)
				if code != r.code {
					t.Fatalf("exit %d, want %d: %s", code, r.code, stderr)
				}
				golden := filepath.Join(sampleDir, "expected", name)
				if *update {
					os.MkdirAll(filepath.Dir(golden), 0o755)
					if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./cmd/rootaudit -run TestGoldenReports -update)", err)
				}
				if out != string(want) {
					t.Errorf("%s differs from %s (rerun with -update if the change is intended)\n%s", name, golden, firstDiff(out, string(want)))
				}
			})
		}
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n got: %s\nwant: %s", i+1, a, b)
		}
	}
	return ""
}

// TestCheckCountsOnlyTheWindow: `check` gates on human root use after
// removal in its window. It once counted every such event up to --until,
// so a nightly `check --since 1d` failed every night after one old
// incident. The sample's incident: five human root events on 2026-07-14,
// after account 227854757572's credentials were removed in May.
func TestCheckCountsOnlyTheWindow(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sample.duckdb")
	if _, stderr, code := runCLI(t, "ingest", "--db", db, "--all", "-q", filepath.Join(sampleDir, "trail")); code != 0 {
		t.Fatalf("ingest exit %d: %s", code, stderr)
	}
	for _, c := range []struct {
		since, until string
		code         int
		want         string
	}{
		{"2026-08-01", "2026-11-01", exitOK, ""},
		{"2026-07-01", "2026-08-01", exitFindings, "5 human root event(s) in the window"},
		{"2026-07-14T13:30:00Z", "2026-07-14T13:31:00Z", exitFindings, "1 human root event(s) in the window"},
	} {
		stdout, stderr, code := runCLI(t, "check", "--db", db, "--since", c.since, "--until", c.until, "--fail-on", "assume-failed", "--format", "csv")
		if code != c.code || !strings.Contains(stdout+stderr, c.want) || (c.want == "") != !strings.Contains(stdout, "human-root-use-after-removal") {
			t.Errorf("check %s..%s: exit %d, want %d and %q; output:\n%s%s", c.since, c.until, code, c.code, c.want, stdout, stderr)
		}
	}
}

// TestFlagPlaceholders: pflag takes a flag usage's first back-quoted text as
// its value placeholder, so a quoted command in a usage string printed as
// '--accounts aws organizations list-accounts   JSON from …'.
func TestFlagPlaceholders(t *testing.T) {
	flagLine := regexp.MustCompile(`^\s+(-\w, )?--[\w-]+( \S+)?\s{2,}`)
	for _, cmd := range []string{"ingest", "inventory", "sessions", "status", "plan", "check", "integrity", "verify", "evidence", "sql", "export"} {
		stdout, stderr, code := runCLI(t, cmd, "--help")
		if code != 0 {
			t.Fatalf("%s --help: exit %d: %s", cmd, code, stderr)
		}
		for _, line := range strings.Split(stdout, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "-") && !flagLine.MatchString(line) {
				t.Errorf("%s --help: flag placeholder is not one word: %q", cmd, line)
			}
		}
	}
}
