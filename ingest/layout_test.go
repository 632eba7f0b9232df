package ingest

import (
	"strings"
	"testing"
	"time"
)

func TestParseKey(t *testing.T) {
	day := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		key  string
		want KeyInfo
	}{
		{"AWSLogs/o-abc123def4/111122223333/CloudTrail/us-east-1/2026/01/05/111122223333_CloudTrail_us-east-1_20260105T0000Z_abcdefghijklmnop.json.gz",
			KeyInfo{Kind: KindLog, OrgID: "o-abc123def4", AccountID: "111122223333", Region: "us-east-1", Day: day, InLayout: true}},
		{"my/prefix/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/01/05/x.json.gz",
			KeyInfo{Kind: KindLog, Prefix: "my/prefix", AccountID: "111122223333", Region: "eu-west-1", Day: day, InLayout: true}},
		{"AWSLogs/o-abc123def4/111122223333/CloudTrail-Digest/us-east-1/2026/01/05/d.json.gz",
			KeyInfo{Kind: KindDigest, OrgID: "o-abc123def4", AccountID: "111122223333", Region: "us-east-1", Day: day, InLayout: true}},
		{"AWSLogs/o-abc123def4/111122223333/CloudTrail-Insight/us-east-1/2026/01/05/i.json.gz",
			KeyInfo{Kind: KindInsight, OrgID: "o-abc123def4", AccountID: "111122223333", Region: "us-east-1", Day: day, InLayout: true}},
		{"AWSLogs/o-abc123def4/111122223333/Config/us-east-1/2026/01/05/c.json.gz",
			KeyInfo{Kind: KindOther, OrgID: "o-abc123def4", AccountID: "111122223333"}},
		{"AWSLogs/o-abc123def4/111122223333/CloudTrail/us-east-1/2026/13/05/x.json.gz",
			KeyInfo{Kind: KindOther, OrgID: "o-abc123def4", AccountID: "111122223333", Region: "us-east-1"}},
		{"AWSLogs/o-abc123def4/111122223333/CloudTrail/us-east-1/2026/01/05/extra/x.json.gz",
			KeyInfo{Kind: KindOther, OrgID: "o-abc123def4"}},
		{"AWSLogs/o-abc123def4/12345/CloudTrail/us-east-1/2026/01/05/x.json.gz",
			KeyInfo{Kind: KindOther, OrgID: "o-abc123def4"}},
		{"CloudTrail/218007301253_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json",
			KeyInfo{Kind: KindLog, AccountID: "218007301253", Region: "us-east-1", Day: time.Date(2023, 7, 10, 0, 0, 0, 0, time.UTC)}},
		{"detonation/aws.defense-evasion.cloudtrail-stop.json", KeyInfo{Kind: KindLog}},
	}
	for _, c := range cases {
		got := ParseKey(c.key)
		got.Prefix, c.want.Prefix = strings.TrimSpace(got.Prefix), strings.TrimSpace(c.want.Prefix)
		if got != c.want {
			t.Errorf("ParseKey(%q)\n got %+v\nwant %+v", c.key, got, c.want)
		}
	}
}

func TestIsOrgID(t *testing.T) {
	for s, want := range map[string]bool{"o-abc123def4": true, "o-a1b2c3d4e5f6g7h8": true, "o-ABC123DEF4": false, "o-abc": false, "x-abc123def4": false} {
		if IsOrgID(s) != want {
			t.Errorf("IsOrgID(%q) = %v", s, !want)
		}
	}
}

func TestFilterWantDay(t *testing.T) {
	f := &Filter{Since: time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)}
	for d, want := range map[int]bool{8: false, 9: true, 10: true, 19: true, 20: true, 21: false} {
		if got := f.WantDay(time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC)); got != want {
			t.Errorf("WantDay(Jan %d) = %v, want %v", d, got, want)
		}
	}
}

// FuzzParseKey checks that ParseKey never panics and that what it reports
// is consistent with the key: an account it found is 12 digits present in
// the key, and a key in the layout has a region and a day.
func FuzzParseKey(f *testing.F) {
	f.Add("AWSLogs/o-abc123def4/111122223333/CloudTrail/us-east-1/2026/01/05/x.json.gz")
	f.Add("p/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/01/05/x.json.gz")
	f.Add("111122223333_CloudTrail_us-east-1_20230710T1145Z_x.json")
	f.Fuzz(func(t *testing.T, key string) {
		ki := ParseKey(key)
		if ki.AccountID != "" && (!IsAccountID(ki.AccountID) || !strings.Contains(key, ki.AccountID)) {
			t.Fatalf("account %q not from key %q", ki.AccountID, key)
		}
		if ki.InLayout && (ki.Region == "" || ki.Day.IsZero()) {
			t.Fatalf("in layout without region/day: %+v", ki)
		}
		if ki.OrgID != "" && !IsOrgID(ki.OrgID) {
			t.Fatalf("bad org %q", ki.OrgID)
		}
	})
}
