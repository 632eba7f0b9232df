package ingest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sample reads one of the shared example records, compacted.
func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "shared", "samples", name+".json"))
	if err != nil {
		t.Skipf("shared samples not present: %v", err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeSamples(t *testing.T) {
	var d Decoder
	for _, name := range []string{"assume_root_action", "assume_root_call", "assume_root_call_failed", "console_login_failure",
		"console_login_success", "org_switch", "root_api_access_key", "root_api_console", "service_invoked"} {
		rec := sample(t, name)
		if !Candidate(rec) {
			t.Errorf("%s: pre-filter rejects a kept shape", name)
		}
		var e Event
		if err := d.Decode(rec, &e); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	var e Event
	if err := d.Decode(sample(t, "assume_root_call"), &e); err != nil {
		t.Fatal(err)
	}
	if e.TargetAccount != "968459274415" || e.IssuedKeyID != "ASIAHJP3XGQHJ5KGMOWG" || e.DurationSeconds != 360 ||
		e.TaskPolicyARN != "arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword" {
		t.Errorf("AssumeRoot fields: %+v", e)
	}
	if want := time.Date(2026, 1, 23, 15, 13, 36, 0, time.UTC); !e.Expiration.Equal(want) {
		t.Errorf("expiration = %v, want %v", e.Expiration, want)
	}
	if bytes.Contains(e.Raw, []byte("IQoJb3JpZ2lu")) || !bytes.Contains(e.Raw, []byte(`"sessionToken":"REDACTED"`)) {
		t.Errorf("session token not redacted in raw: %s", e.Raw)
	}
	// Any spelling of the key is a token: once only AWS's was redacted.
	odd := bytes.Replace(sample(t, "assume_root_call"), []byte(`"sessionToken"`), []byte(`"SessionToken"`), 1)
	odd = bytes.Replace(odd, []byte(`"requestParameters":{`), []byte(`"requestParameters":{"sessiontoken":"IQoJb3JpZ2lu-copy",`), 1)
	if err := d.Decode(odd, &e); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(e.Raw, []byte("IQoJb3JpZ2lu")) || bytes.Count(e.Raw, []byte(`"REDACTED"`)) != 2 {
		t.Errorf("differently spelt session tokens not redacted in raw: %s", e.Raw)
	}
	if err := d.Decode(sample(t, "console_login_success"), &e); err != nil {
		t.Fatal(err)
	}
	if e.LoginResult != "Success" || e.MFAUsed != True || e.IdentityType != "Root" {
		t.Errorf("console login: %+v", e)
	}
	if err := d.Decode(sample(t, "root_api_console"), &e); err != nil {
		t.Fatal(err)
	}
	if e.InvokedBy != "signin.amazonaws.com" || e.ConsoleSession != True || e.MFAAuthenticated != True {
		t.Errorf("console call: %+v", e)
	}
}

func TestDecodeDecoysAndShapes(t *testing.T) {
	var d Decoder
	var e Event
	decoys := []string{
		`{"eventID":"1","eventTime":"2026-01-01T00:00:00Z","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/Root/x"},"eventSource":"s3.amazonaws.com","eventName":"GetObject"}`,
		`{"eventID":"2","eventTime":"2026-01-01T00:00:00Z","userIdentity":{"type":"IAMUser"},"eventSource":"iam.amazonaws.com","eventName":"PutRolePolicy","requestParameters":{"policyDocument":"{\"Action\":\"sts:AssumeRoot\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"}}"}}`,
		`{"eventID":"3","eventTime":"2026-01-01T00:00:00Z","userIdentity":{"type":"AssumedRole"},"eventSource":"sts.amazonaws.com","eventName":"AssumeRole","userAgent":"Root"}`,
		`{"eventID":"4","eventTime":"2026-01-01T00:00:00Z","userIdentity":{"type":"AssumedRole"},"eventSource":"organizations.amazonaws.com","eventName":"EnableAWSServiceAccess","requestParameters":{"servicePrincipal":"config.amazonaws.com"}}`,
	}
	for i, rec := range decoys {
		if err := d.Decode([]byte(rec), &e); err != ErrNotKept {
			t.Errorf("decoy %d: err = %v, want ErrNotKept", i+1, err)
		}
	}
	kept := `{"eventID":"5","eventTime":"2026-01-01T00:00:00Z","userIdentity":{"type":"AssumedRole"},"eventSource":"organizations.amazonaws.com","eventName":"EnableAWSServiceAccess","requestParameters":{"servicePrincipal":"iam.amazonaws.com"}}`
	if err := d.Decode([]byte(kept), &e); err != nil || !Candidate([]byte(kept)) {
		t.Errorf("EnableAWSServiceAccess for IAM: err %v candidate %v", err, Candidate([]byte(kept)))
	}
	bad := map[string]string{
		`{"eventID":"6","userIdentity":"Root","eventSource":"x"}`:                                                  "userIdentity is string",
		`{"eventID":"7","eventTime":"2026-01-01T00:00:00Z","userIdentity":{"type":"Root","accessKeyId":12}}`:       "accessKeyId is number",
		`{"eventID":"8","userIdentity":{"type":"Root"}}`:                                                           "no eventTime",
		`{"eventID":"9","eventTime":"yesterday","userIdentity":{"type":"Root"}}`:                                   "not an RFC 3339",
		`{"eventTime":"2026-01-01T00:00:00Z","userIdentity":{"type":"Root"}}`:                                      "no eventID",
		`{"eventID":"10","eventTime":"2026-01-01T00:00:00Z","userIdentity":{"type":"Root"},"requestParameters":7}`: "requestParameters is number",
	}
	for rec, want := range bad {
		err := d.Decode([]byte(rec), &e)
		if err == nil || err == ErrNotKept || !strings.Contains(err.Error(), strings.Fields(want)[0]) && !strings.Contains(err.Error(), strings.Fields(want)[len(strings.Fields(want))-1]) {
			t.Errorf("%s: err = %v, want a field error (%s)", rec, err, want)
		}
	}
}

func TestParseExpiration(t *testing.T) {
	want := time.Date(2024, 10, 25, 21, 7, 11, 0, time.UTC)
	for _, s := range []string{"Oct 25, 2024, 9:07:11 PM", "Oct 25 2024 9:07:11 PM", "Oct 25, 2024 9:07:11 PM", "2024-10-25T21:07:11Z"} {
		if got := ParseExpiration(s); !got.Equal(want) {
			t.Errorf("ParseExpiration(%q) = %v", s, got)
		}
	}
	if !ParseExpiration("soon").IsZero() {
		t.Error("garbage parsed")
	}
}

func TestAccountOf(t *testing.T) {
	for in, want := range map[string]string{"111122223333": "111122223333", "arn:aws:iam::111122223333:root": "111122223333",
		"arn:aws-us-gov:iam::111122223333:root": "111122223333", "arn:aws:iam::x:root": "", "": ""} {
		if got := AccountOf(in); got != want {
			t.Errorf("AccountOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzCandidateNeverMisses checks the pre-filter's one promise: every
// record that Decode keeps passes Candidate. It also checks that Decode
// never panics on arbitrary bytes.
func FuzzCandidateNeverMisses(f *testing.F) {
	f.Add([]byte(`{"eventID":"1","eventTime":"2026-01-01T00:00:00Z","userIdentity":{"type":"Root"}}`))
	f.Add([]byte(`{"eventID":"1","eventTime":"2026-01-01T00:00:00Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRoot"}`))
	f.Add([]byte(`{"eventSource":"organizations.amazonaws.com","eventName":"EnableAWSServiceAccess","requestParameters":{"servicePrincipal":"iam.amazonaws.com"}}`))
	f.Add([]byte(`{"userIdentity":{"type":"\u0052oot"}}`))
	f.Fuzz(func(t *testing.T, rec []byte) {
		var d Decoder
		var e Event
		err := d.Decode(rec, &e)
		if err == nil && !Candidate(rec) {
			t.Fatalf("kept record missed by the pre-filter: %s", rec)
		}
		if err != ErrNotKept && !Candidate(rec) {
			// Undecidable records that the pre-filter skips are fine only
			// if they could not be kept: check the identity type and event
			// name text as encoding/json sees them.
			var probe struct {
				UserIdentity struct{ Type any } `json:"userIdentity"`
				EventName    any                `json:"eventName"`
			}
			if json.Unmarshal(rec, &probe) == nil && (probe.UserIdentity.Type == "Root" || probe.EventName == "AssumeRoot") {
				t.Fatalf("root record missed: %s", rec)
			}
		}
	})
}
