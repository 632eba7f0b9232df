package ingest

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func memRef(name string, data []byte) FileRef {
	return FileRef{
		Source: name, Key: ParseKey(name), Size: int64(len(data)),
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
	}
}

const logName = "AWSLogs/o-abc123def4/111122223333/CloudTrail/us-east-1/2026/01/05/111122223333_CloudTrail_us-east-1_20260105T0000Z_x.json.gz"

func TestProcessHostileFiles(t *testing.T) {
	root := `{"eventID":"r1","eventTime":"2026-01-05T00:00:00Z","userIdentity":{"type":"Root","accountId":"111122223333"},"eventSource":"iam.amazonaws.com","eventName":"ListUsers"}`
	good := gz(t, []byte(`{"Records":[`+root+`,{"eventID":"x","userIdentity":{"type":"IAMUser"}}]}`))
	bomb := gz(t, append([]byte(`{"Records":[{"a":"`), bytes.Repeat([]byte("A"), 4<<20)...))
	cases := []struct {
		name string
		data []byte
		want string // "" = ok
	}{
		{"good", good, ""},
		{"not gzip", []byte("hello, world"), "not a gzip file"},
		{"truncated gzip", good[:len(good)-12], "truncated"},
		{"corrupt gzip", append(append([]byte{}, good[:20]...), bytes.Repeat([]byte{0xff}, 40)...), ""},
		{"bomb", bomb, "exceeds the limit"},
		{"invalid json", gz(t, []byte(`{"Records":[{"userIdentity":{"type":"Root"} "x"}]}`)), "invalid JSON"},
		{"records not array", gz(t, []byte(`{"Records":"Root"}`)), "not an array"},
		{"record not object", gz(t, []byte(`{"Records":[1]}`)), "not a JSON object"},
		{"identity a string", gz(t, []byte(`{"Records":[{"eventID":"1","userIdentity":"Root"}]}`)), "userIdentity is string"},
		{"invalid utf8", gz(t, []byte("{\"Records\":[{\"eventID\":\"1\",\"eventTime\":\"2026-01-05T00:00:00Z\",\"userIdentity\":{\"type\":\"Root\"},\"userAgent\":\"\xff\xfe\"}]}")), "UTF-8"},
		{"time not a time", gz(t, []byte(`{"Records":[{"eventID":"1","eventTime":7,"userIdentity":{"type":"Root"}}]}`)), "eventTime is number"},
	}
	w := NewWorker(Options{MaxFileBytes: 1 << 20, Hash: true})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := w.Process(context.Background(), memRef(logName, c.data))
			if c.want == "" && c.name == "good" {
				if res.Status != StatusOK || len(res.Events) != 1 || res.Records != 2 || res.SHA256 == "" {
					t.Fatalf("good file: %+v", res)
				}
				return
			}
			if res.Status != StatusFailed {
				t.Fatalf("status = %s, want failed", res.Status)
			}
			if len(res.Events) != 0 {
				t.Fatalf("failed file kept %d events", len(res.Events))
			}
			if !strings.Contains(res.Reason, c.want) {
				t.Fatalf("reason = %q, want containing %q", res.Reason, c.want)
			}
		})
	}
}

func TestProcessSkipsNonLogs(t *testing.T) {
	w := NewWorker(Options{})
	for key, want := range map[string]string{
		"AWSLogs/o-abc123def4/111122223333/CloudTrail-Digest/us-east-1/2026/01/05/d.json.gz":  "digest",
		"AWSLogs/o-abc123def4/111122223333/CloudTrail-Insight/us-east-1/2026/01/05/i.json.gz": "insight",
		"AWSLogs/o-abc123def4/111122223333/CloudTrail/us-east-1/2026/01/x.json.gz":            "outside-layout",
	} {
		res := w.Process(context.Background(), memRef(key, []byte("not even gzip")))
		if res.Status != StatusSkipped || res.Reason != want {
			t.Errorf("%s: %s %q, want skipped %q", key, res.Status, res.Reason, want)
		}
	}
}

// TestSharedDatasets ingests the real public logs: every file parses and no
// record is kept (they hold no root or AssumeRoot events).
func TestSharedDatasets(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "datasets")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("shared datasets not present")
	}
	w := NewWorker(Options{})
	files, records := 0, 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		ref := localRef(p, mustStat(t, p))
		ref.Explicit = true
		res := w.Process(context.Background(), ref)
		if res.Status != StatusOK {
			t.Errorf("%s: %s %s", p, res.Status, res.Reason)
		}
		if len(res.Events) != 0 {
			t.Errorf("%s: kept %d events from a data set without root activity", p, len(res.Events))
		}
		files++
		records += res.Records
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files != 90 || records != 3210 {
		t.Errorf("read %d files, %d records; want 90 files, 3210 records (55+35 files, 2,900+310 records)", files, records)
	}
}

func mustStat(t testing.TB, p string) os.FileInfo {
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
