package report

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/rootaudit/rootaudit/query"
)

// Manifest is manifest.json: how the pack was made, from what, and the
// SHA-256 of every other file of the pack.
type Manifest struct {
	RootauditVersion string           `json:"rootaudit_version"`
	CommandLine      string           `json:"command_line"`
	GeneratedAt      time.Time        `json:"generated_at"`
	Title            string           `json:"title"`
	Window           ManifestWindow   `json:"window"`
	Database         ManifestDatabase `json:"database"`
	// Source lists the distinct sources (s3://bucket/prefix or directories)
	// of the ingest runs; Runs has each run.
	Source  []string            `json:"source"`
	Runs    []query.IngestRun   `json:"runs"`
	Objects []query.SourceCount `json:"objects"`
	// ObjectsTotal is the number of objects the database has seen.
	ObjectsTotal int64          `json:"objects_total"`
	Headline     query.Headline `json:"headline"`
	// Files maps each other file of the pack to its hex SHA-256.
	Files map[string]string `json:"files"`
}

// ManifestWindow is the period of the pack, UTC, until exclusive.
type ManifestWindow struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
}

// ManifestDatabase identifies the database the pack was made from.
type ManifestDatabase struct {
	Path          string `json:"path"`
	SchemaVersion int    `json:"schema_version"`
	// Fingerprint is the hex SHA-256 of the content of events and
	// ingested_files, as described by FingerprintMethod.
	Fingerprint       string `json:"fingerprint"`
	FingerprintRows   int64  `json:"fingerprint_rows"`
	FingerprintMethod string `json:"fingerprint_method"`
}

const fingerprintMethod = "sha256 of the lines returned by query/sql/evidence_fingerprint.sql (every row of events ordered by event_id, then every row of ingested_files ordered by source, each as DuckDB to_json of the row), each line followed by \\n"

// ErrPackDirNotEmpty means the output directory of a pack already holds
// files: a pack is written into an empty or new directory only, so that
// verify never finds strangers.
var ErrPackDirNotEmpty = errors.New("output directory is not empty")

// WritePack writes the evidence pack into dir (created if missing; it must
// be empty) and returns its manifest. Files are written and hashed as they
// are rendered; coverage.csv reads its rows from the database again
// (query.Coverage.EachCell), which must still be open.
func WritePack(ctx context.Context, dir string, p *Pack) (*Manifest, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("write evidence pack: create %s: %w", dir, err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("write evidence pack: read %s: %w", dir, err)
	}
	if len(ents) > 0 {
		return nil, fmt.Errorf("write evidence pack to %s: %w (%d entries)", dir, ErrPackDirNotEmpty, len(ents))
	}
	v := p.view()
	ev := p.Ev
	files := []struct {
		name   string
		render func(io.Writer) error
	}{
		{PackIndex, func(w io.Writer) error { return writeHTML(w, p, v) }},
		{PackSummary, func(w io.Writer) error { return writeSummary(w, v) }},
		{PackInventory, func(w io.Writer) error { return (&CSV{}).Render(w, EvidenceAccounts{Ev: ev}) }},
		{PackSessions, func(w io.Writer) error {
			return (&CSV{}).Render(w, Sessions{Window: ev.Window, Sessions: ev.Sessions})
		}},
		{PackHumanEvents, func(w io.Writer) error {
			return (&CSV{}).Render(w, EvidenceHumanEvents{Window: ev.Window, Events: ev.HumanEvents})
		}},
		{PackCoverage, func(w io.Writer) error { return EvidenceCoverage{Cov: ev.Coverage}.WriteCSV(ctx, w) }},
		{PackControls, func(w io.Writer) error { return writeControls(w, v) }},
	}
	m := &Manifest{
		RootauditVersion: p.Meta.Version,
		CommandLine:      p.Meta.CommandLine,
		GeneratedAt:      p.Meta.GeneratedAt.UTC(),
		Title:            p.Meta.Title,
		Window:           ManifestWindow{ev.Window.Since.UTC(), ev.Window.Until.UTC()},
		Database: ManifestDatabase{Path: p.Meta.Database, SchemaVersion: ev.SchemaVersion, Fingerprint: ev.Fingerprint,
			FingerprintRows: ev.FingerprintRows, FingerprintMethod: fingerprintMethod},
		Source:   []string{},
		Runs:     ev.Runs,
		Objects:  ev.Sources,
		Headline: ev.Headline,
		Files:    map[string]string{},
	}
	seen := map[string]bool{}
	for _, r := range ev.Runs {
		for _, s := range strings.Split(r.Sources, ",") {
			if s = strings.TrimSpace(s); s != "" && !seen[s] {
				seen[s] = true
				m.Source = append(m.Source, s)
			}
		}
	}
	sort.Strings(m.Source)
	for _, o := range ev.Sources {
		m.ObjectsTotal += o.Objects
	}
	for _, f := range files {
		sum, err := writeHashed(filepath.Join(dir, f.name), f.render)
		if err != nil {
			return nil, fmt.Errorf("write evidence pack: %s: %w", f.name, err)
		}
		m.Files[f.name] = sum
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("write evidence pack: encode manifest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, PackManifest), append(mb, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("write evidence pack: %w", err)
	}
	return m, nil
}

// Outcomes of checking one file of a pack.
const (
	PackFileOK       = "ok"
	PackFileMismatch = "mismatch"     // content differs from the manifest's hash
	PackFileMissing  = "missing"      // named in the manifest, not in the directory
	PackFileExtra    = "extra"        // in the directory, not named in the manifest
	PackFileInvalid  = "invalid"      // manifest entry that is not a plain file name, or not a regular file
	PackFileManifest = "bad-manifest" // manifest.json missing or unreadable
)

// PackCheck is the outcome for one file.
type PackCheck struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Want   string `json:"want,omitempty"`
	Got    string `json:"got,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// PackVerification is the result of VerifyPack, ordered by file name.
type PackVerification struct {
	Dir    string      `json:"dir"`
	Checks []PackCheck `json:"checks"`
}

// OK reports whether every file matched and nothing was missing or extra.
func (v *PackVerification) OK() bool {
	for _, c := range v.Checks {
		if c.Status != PackFileOK {
			return false
		}
	}
	return true
}

// VerifyPack re-checks a pack: every file named in manifest.json must
// exist as a regular file in dir with that SHA-256, and dir must hold no
// other entry than those and manifest.json. Manifest entries that are not
// plain file names (a path separator, "..", manifest.json itself) are
// invalid and never opened. The error is for a dir that cannot be read.
func VerifyPack(dir string) (*PackVerification, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("verify evidence pack: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("verify evidence pack: %s is not a directory", dir)
	}
	v := &PackVerification{Dir: dir, Checks: []PackCheck{}}
	raw, err := os.ReadFile(filepath.Join(dir, PackManifest))
	if err != nil {
		v.Checks = append(v.Checks, PackCheck{Name: PackManifest, Status: PackFileManifest, Detail: err.Error()})
		return v, nil
	}
	var m struct {
		Files map[string]string `json:"files"`
	}
	if err := json.Unmarshal(raw, &m); err != nil || m.Files == nil {
		detail := "no \"files\" object"
		if err != nil {
			detail = err.Error()
		}
		v.Checks = append(v.Checks, PackCheck{Name: PackManifest, Status: PackFileManifest, Detail: detail})
		return v, nil
	}
	names := make([]string, 0, len(m.Files))
	for name := range m.Files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		want := strings.ToLower(m.Files[name])
		c := PackCheck{Name: name, Want: want}
		if !plainName(name) {
			c.Status, c.Detail = PackFileInvalid, "not a plain file name of the pack"
			v.Checks = append(v.Checks, c)
			continue
		}
		got, err := hashRegular(filepath.Join(dir, name))
		switch {
		case errors.Is(err, os.ErrNotExist):
			c.Status = PackFileMissing
		case err != nil:
			c.Status, c.Detail = PackFileInvalid, err.Error()
		case got != want:
			c.Status, c.Got = PackFileMismatch, got
		default:
			c.Status, c.Got = PackFileOK, got
		}
		v.Checks = append(v.Checks, c)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("verify evidence pack: %w", err)
	}
	for _, e := range ents {
		if e.Name() == PackManifest {
			continue
		}
		if _, ok := m.Files[e.Name()]; !ok {
			v.Checks = append(v.Checks, PackCheck{Name: e.Name(), Status: PackFileExtra})
		}
	}
	sort.SliceStable(v.Checks, func(i, j int) bool { return v.Checks[i].Name < v.Checks[j].Name })
	return v, nil
}

// plainName accepts a file name without directory parts.
func plainName(name string) bool {
	return name != "" && name != "." && name != ".." && name != PackManifest &&
		!strings.ContainsAny(name, `/\`) && name == filepath.Base(name)
}

// hashRegular returns the hex SHA-256 of a regular file (symbolic links
// and other kinds are refused).
func hashRegular(path string) (string, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file (%s)", path, st.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// WriteVerification prints one line per file ("ok", "MISMATCH", …) and a
// summary line.
func WriteVerification(w io.Writer, v *PackVerification) error {
	var b strings.Builder
	bad := 0
	for _, c := range v.Checks {
		status := c.Status
		if c.Status != PackFileOK {
			status = strings.ToUpper(status)
			bad++
		}
		line := fmt.Sprintf("%-12s %s", status, Terminal(c.Name))
		switch {
		case c.Status == PackFileMismatch:
			line += fmt.Sprintf(" (manifest %s, file %s)", Terminal(c.Want), c.Got)
		case c.Detail != "":
			line += " (" + Terminal(c.Detail) + ")"
		}
		b.WriteString(line + "\n")
	}
	if bad == 0 {
		fmt.Fprintf(&b, "evidence pack %s: %d files match manifest.json\n", Terminal(v.Dir), len(v.Checks))
	} else {
		fmt.Fprintf(&b, "evidence pack %s: %d problem(s)\n", Terminal(v.Dir), bad)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeHashed creates path, writes render's output to it and returns the
// hex SHA-256 of what was written.
func writeHashed(path string, render func(io.Writer) error) (string, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 256<<10)
	err = render(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path) // no half-written file in the pack
		return "", fmt.Errorf("render %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
