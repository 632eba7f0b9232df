package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rootaudit/rootaudit/fixtures"
)

// TestHelperChild is the child process of the tests below: it runs the CLI
// like main does, with a signal-aware context, and exits with its code.
func TestHelperChild(t *testing.T) {
	if os.Getenv("ROOTAUDIT_CHILD") != "1" {
		t.Skip("child process of the reliability tests")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, strings.Split(os.Getenv("ROOTAUDIT_ARGS"), "\x1f"), os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err))
}

// child starts rootaudit as a separate process.
func child(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperChild$")
	cmd.Env = append(os.Environ(), "ROOTAUDIT_CHILD=1", "ROOTAUDIT_ARGS="+strings.Join(args, "\x1f"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

var (
	bigOnce sync.Once
	bigDir  string
	bigErr  error
)

// bigTrail is a 24 MB trail: large enough that an ingest runs for a while.
// It is shared by the tests of this binary and removed by TestMain.
func bigTrail(t *testing.T) string {
	t.Helper()
	bigOnce.Do(func() {
		bigDir, bigErr = os.MkdirTemp("", "rootaudit-big-")
		if bigErr == nil {
			_, bigErr = fixtures.Generate(context.Background(), bigDir, fixtures.Config{Seed: 5, TargetBytes: 24 << 20})
		}
	})
	if bigErr != nil {
		t.Fatal(bigErr)
	}
	return bigDir
}

// TestKillAnywhereLosesNothing kills ingest processes with SIGKILL at random
// points, many times, then reruns: the database must equal a clean run's.
func TestKillAnywhereLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	dir := bigTrail(t)
	clean := filepath.Join(t.TempDir(), "clean.duckdb")
	start := time.Now()
	if _, stderr, code := runCLI(t, "ingest", "--db", clean, "--all", "-q", "--workers", "1", dir); code != 0 {
		t.Fatalf("clean ingest exit %d: %s", code, stderr)
	}
	full := time.Since(start)
	want := contentHash(t, clean)

	db := filepath.Join(t.TempDir(), "killed.duckdb")
	rng := rand.New(rand.NewPCG(1, 2))
	kills := 0
	for i := 0; i < 8; i++ {
		cmd, out := child(t, "ingest", "--db", db, "--all", "-q", "--workers", "1", dir)
		delay := time.Duration(float64(full) * (0.05 + 0.9*rng.Float64()))
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run %d ended by itself with %v:\n%s", i, err, out)
			}
			t.Logf("run %d finished before its kill at %s", i, delay)
			continue
		case <-time.After(delay):
		}
		cmd.Process.Kill()
		<-done
		kills++
	}
	if kills < 3 {
		t.Fatalf("only %d of 8 runs were killed mid-way", kills)
	}
	if _, stderr, code := runCLI(t, "ingest", "--db", db, "--all", "-q", dir); code != 0 {
		t.Fatalf("final rerun exit %d: %s", code, stderr)
	}
	if got := contentHash(t, db); got != want {
		t.Fatalf("after %d kills and a rerun:\n got %s\nwant %s", kills, got, want)
	}
}

// TestSIGINTStopsCleanly interrupts an ingest: it must exit 130, say so, and
// a rerun must complete the database.
func TestSIGINTStopsCleanly(t *testing.T) {
	dir := bigTrail(t)
	clean := filepath.Join(t.TempDir(), "clean.duckdb")
	start := time.Now()
	runCLI(t, "ingest", "--db", clean, "--all", "-q", "--workers", "1", dir)
	full := time.Since(start)
	// The signal must land mid-run: start counting when the child has the
	// database open, and try shorter delays if it finished first.
	var db string
	var out *bytes.Buffer
	code := 0
	for delay := full / 3; delay > time.Millisecond; delay /= 3 {
		db = filepath.Join(t.TempDir(), "int.duckdb")
		var cmd *exec.Cmd
		cmd, out = child(t, "ingest", "--db", db, "--all", "-q", "--workers", "1", dir)
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if _, err := os.Stat(db + ".wal"); err == nil {
				break
			}
		}
		time.Sleep(delay)
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if code = cmd.ProcessState.ExitCode(); code != 0 {
			break
		}
	}
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d:\n%s", code, exitInterrupted, out)
	}
	if !strings.Contains(out.String(), "interrupted") {
		t.Fatalf("no word of the interruption:\n%s", out)
	}
	if _, stderr, code := runCLI(t, "ingest", "--db", db, "--all", "-q", dir); code != 0 {
		t.Fatalf("rerun exit %d: %s", code, stderr)
	}
	if contentHash(t, db) != contentHash(t, clean) {
		t.Fatal("interrupted then resumed database differs from a clean one")
	}
}

// TestSecondWriterRefused: while one ingest runs, a second ingest and a
// report on the same database are refused as busy (exit 4), and the first
// run completes unharmed.
func TestSecondWriterRefused(t *testing.T) {
	dir := bigTrail(t)
	db := filepath.Join(t.TempDir(), "busy.duckdb")
	cmd, out := child(t, "ingest", "--db", db, "--all", "-q", "--workers", "1", dir)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(db + ".wal"); err == nil {
			break
		}
	}
	for _, args := range [][]string{
		{"ingest", "--db", db, "--all", "-q", dir},
		{"inventory", "--db", db},
	} {
		_, stderr, code := runCLI(t, args...)
		if code != exitBusy || !strings.Contains(stderr, "busy") {
			t.Errorf("%s while an ingest runs: exit %d, want %d; stderr: %s", args[0], code, exitBusy, stderr)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("first ingest: %v\n%s", err, out)
	}
	if _, stderr, code := runCLI(t, "inventory", "--db", db, "--since", "2025-11-01", "--until", "2026-11-01"); code != 0 {
		t.Fatalf("inventory after the ingest: exit %d: %s", code, stderr)
	}
}

// TestDiskFull puts the database on a 4 MB tmpfs, fills it, and checks the
// error is clear, the previous state intact, and that a rerun after space is
// freed completes. It needs root (mount); CI runs as root.
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v %s", err, out)
	}
	defer exec.Command("umount", mnt).Run()
	db := filepath.Join(mnt, "full.duckdb")
	sample := filepath.Join(sampleDir, "trail")
	if _, stderr, code := runCLI(t, "ingest", "--db", db, "--all", "-q", sample); code != 0 {
		t.Fatalf("first ingest: exit %d: %s", code, stderr)
	}
	before, _, _ := runCLI(t, "inventory", "--db", db, "--since", "2025-11-01", "--until", "2026-11-01", "--format", "json")
	// Fill the disk, leaving almost nothing.
	filler := filepath.Join(mnt, "filler")
	f, _ := os.Create(filler)
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	f.Close()
	dir := genTrail(t).dir
	_, stderr, code := runCLI(t, "ingest", "--db", db, "--all", "-q", dir)
	if code == 0 {
		t.Fatal("ingest on a full disk succeeded")
	}
	if !strings.Contains(strings.ToLower(stderr), "space") {
		t.Errorf("the error does not say the disk is full: %s", stderr)
	}
	os.Remove(filler)
	after, stderr2, code := runCLI(t, "inventory", "--db", db, "--since", "2025-11-01", "--until", "2026-11-01", "--format", "json")
	if code != 0 || after != before {
		t.Fatalf("state after the failed ingest: exit %d %s\nchanged: %v", code, stderr2, after != before)
	}
	if _, stderr, code := runCLI(t, "ingest", "--db", db, "--all", "-q", dir); code != 0 {
		t.Fatalf("rerun after freeing space: exit %d: %s", code, stderr)
	}
	clean := filepath.Join(t.TempDir(), "clean.duckdb")
	runCLI(t, "ingest", "--db", clean, "--all", "-q", sample)
	runCLI(t, "ingest", "--db", clean, "--all", "-q", dir)
	if got, want := contentHash(t, db), contentHash(t, clean); strings.Fields(got)[0] != strings.Fields(want)[0] {
		t.Fatalf("events after the rerun differ from a clean load:\n got %s\nwant %s", got, want)
	}
}

// TestWorksWithoutNetwork runs ingest and the reports inside a network
// namespace with no interface but loopback (unshare -n): a local run must
// need no network at all (DuckDB extension autoinstall/autoload are off).
func TestWorksWithoutNetwork(t *testing.T) {
	unshare, err := exec.LookPath("unshare")
	if err != nil || os.Geteuid() != 0 {
		t.Skip("needs root and unshare")
	}
	db := filepath.Join(t.TempDir(), "offline.duckdb")
	sample := filepath.Join(sampleDir, "trail")
	for _, args := range [][]string{
		{"ingest", "--db", db, "--all", "-q", "--validate", "--public-keys", filepath.Join(t.TempDir(), "none.json"), sample},
		{"ingest", "--db", db, "--all", "-q", sample},
		{"inventory", "--db", db, "--since", sampleSince, "--until", sampleUntil},
		{"sessions", "--db", db, "--since", sampleSince, "--until", sampleUntil},
		{"status", "--db", db},
	} {
		if args[len(args)-2] == "--public-keys" || strings.Contains(strings.Join(args, " "), "none.json") {
			// --validate with an unreadable key file must fail fast and
			// clearly, not try the network: a usage error.
			os.WriteFile(args[7], []byte("{"), 0o644)
		}
		cmd := exec.Command(unshare, "-n", os.Args[0], "-test.run=^TestHelperChild$")
		cmd.Env = append(os.Environ(), "ROOTAUDIT_CHILD=1", "ROOTAUDIT_ARGS="+strings.Join(args, "\x1f"))
		out, _ := cmd.CombinedOutput()
		code := cmd.ProcessState.ExitCode()
		want := exitOK
		if strings.Contains(strings.Join(args, " "), "none.json") {
			want = exitUsage
		}
		if code != want {
			t.Errorf("%s offline: exit %d, want %d\n%s", args[0], code, want, out)
		}
	}
}
