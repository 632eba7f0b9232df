package main

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

func rootRec(id string, extra string) string {
	return `{"eventVersion":"1.08","eventID":"` + id + `","eventTime":"2026-01-05T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"us-east-1","recipientAccountId":"111122223333","userIdentity":{"type":"Root","accountId":"111122223333","accessKeyId":"ASIAEXAMPLE"}` + extra + `}`
}

// bomb is a small gzip file that expands to n bytes of one JSON string.
func bomb(n int) []byte {
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	w.Write([]byte(`{"Records":[` + rootRec("bomb", "")))
	rec := []byte(`,{"eventVersion":"1.08","x":"` + strings.Repeat("A", 1000) + `"}`)
	chunk := bytes.Repeat(rec, (1<<20)/len(rec))
	for i := 0; i < n>>20; i++ {
		w.Write(chunk)
	}
	w.Write([]byte(`]}`))
	w.Close()
	return b.Bytes()
}

// TestHostileInput ingests a directory where every kind of broken or
// hostile file sits beside good ones: each bad file fails with its path
// and reason and contributes nothing; the good ones are all stored; the
// exit code is 3.
func TestHostileInput(t *testing.T) {
	root := t.TempDir()
	day := filepath.Join(root, "AWSLogs", "o-abc123def4", "111122223333", "CloudTrail", "us-east-1", "2026", "01", "05")
	os.MkdirAll(day, 0o755)
	name := func(s string) string { return "111122223333_CloudTrail_us-east-1_20260105T0000Z_" + s + ".json.gz" }
	good := gzipped(`{"Records":[` + rootRec("good-1", "") + `]}`)
	deep := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	big := rootRec("big", `,"requestParameters":{"p":"`+strings.Repeat("x", 50<<20)+`"}`)
	bad := map[string]struct {
		data   []byte
		reason string
	}{
		"not-gzip":          {[]byte("this is not gzip"), "not a gzip file"},
		"truncated":         {good[:len(good)-15], "truncated"},
		"bomb":              {bomb(96 << 20), "exceeds the limit"},
		"invalid-json":      {gzipped(`{"Records":[` + rootRec("inv", `,"x" "y"`) + `]}`), "invalid JSON"},
		"records-not-array": {gzipped(`{"Records":{"eventID":"x"}}`), "not an array"},
		"record-not-object": {gzipped(`{"Records":[` + rootRec("ok-before", "") + `,"Root"]}`), "not a JSON object"},
		"record-50MB":       {gzipped(`{"Records":[` + big + `]}`), "size limit"},
		"deep-nesting":      {gzipped(`{"Records":[` + rootRec("deep", `,"requestParameters":`+deep) + `]}`), "invalid JSON"},
		"invalid-utf8":      {gzipped("{\"Records\":[" + rootRec("utf", ",\"userAgent\":\"\xff\xfe\"") + "]}"), "UTF-8"},
		"no-event-time":     {gzipped(`{"Records":[{"eventID":"nt","userIdentity":{"type":"Root"}}]}`), "no eventTime"},
		"bad-event-time":    {gzipped(`{"Records":[{"eventID":"bt","eventTime":"last tuesday","userIdentity":{"type":"Root"}}]}`), "not an RFC 3339 time"},
		"identity-string":   {gzipped(`{"Records":[{"eventID":"is","eventTime":"2026-01-05T10:00:00Z","userIdentity":"Root"}]}`), "userIdentity is string"},
		"key-number":        {gzipped(`{"Records":[{"eventID":"kn","eventTime":"2026-01-05T10:00:00Z","userIdentity":{"type":"Root","accessKeyId":42}}]}`), "accessKeyId is number"},
	}
	for n, c := range bad {
		os.WriteFile(filepath.Join(day, name(n)), c.data, 0o644)
	}
	os.WriteFile(filepath.Join(day, name("good")), good, 0o644)
	dup := `{"Records":[` + rootRec("dup-1", "") + `]}`
	os.WriteFile(filepath.Join(day, name("dup-a")), gzipped(dup), 0o644)
	os.WriteFile(filepath.Join(day, name("dup-b")), gzipped(dup), 0o644)
	os.WriteFile(filepath.Join(day, name("ünï cödé spaces")), gzipped(`{"Records":[`+rootRec("unicode-1", "")+`]}`), 0o644)
	outside := filepath.Join(root, "AWSLogs", "o-abc123def4", "111122223333", "CloudTrail", "us-east-1", "2026", "01")
	os.WriteFile(filepath.Join(outside, name("outside")), gzipped(`{"Records":[`+rootRec("outside-1", "")+`]}`), 0o644)
	os.Symlink(root, filepath.Join(day, "loop"))

	db := filepath.Join(t.TempDir(), "h.duckdb")
	_, stderr, code := runCLI(t, "ingest", "--db", db, "--all", "-q", "--max-file-bytes", "67108864", root)
	if code != exitPartial {
		t.Fatalf("exit %d, want %d\n%s", code, exitPartial, stderr)
	}
	for n, c := range bad {
		line := ""
		for _, l := range strings.Split(stderr, "\n") {
			if strings.Contains(l, name(n)) {
				line = l
			}
		}
		if !strings.Contains(line, c.reason) {
			t.Errorf("%s: stderr line %q does not give the reason %q", n, line, c.reason)
		}
	}
	sdb, err := sql.Open("duckdb", db+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	rows, _ := sdb.Query(`SELECT event_id FROM events ORDER BY 1`)
	var ids []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	if want := []string{"dup-1", "good-1", "unicode-1"}; strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Errorf("events = %v, want %v (nothing from a bad file, duplicates once)", ids, want)
	}
	var failed, outsideSkipped int
	sdb.QueryRow(`SELECT count(*) FILTER (status = 'failed'), count(*) FILTER (status = 'skipped' AND reason = 'outside-layout') FROM ingested_files`).Scan(&failed, &outsideSkipped)
	if failed != len(bad) || outsideSkipped != 1 {
		t.Errorf("ingested_files: %d failed (want %d), %d outside-layout (want 1)", failed, len(bad), outsideSkipped)
	}
	keys := make([]string, 0, len(bad))
	for k := range bad {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	t.Logf("hostile files tried: %v", keys)
}
