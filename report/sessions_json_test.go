package report

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rootaudit/rootaudit/query"
)

// encoderJSON is what the JSON renderer wrote before sessions were streamed:
// the Doc() encoded whole, indented by two spaces, HTML escaping on.
func encoderJSON(t *testing.T, r Report) ([]byte, error) {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	err := enc.Encode(r.Doc())
	return b.Bytes(), err
}

// hostileString is random text drawn from what encoding/json treats
// specially: control characters, quotes, backslashes, HTML characters,
// invalid UTF-8, U+2028 and U+2029, DEL, C1 controls and multi-byte runes.
func hostileString(rng *rand.Rand) string {
	pieces := []string{"", "a", "Z", " ", "\"", "\\", "/", "<", ">", "&", "'", "\x00", "\x01", "\b", "\f", "\n",
		"\r", "\t", "\x1b[31m", "\x1f", "\x7f", "\u0080", "\u009b", "é", "日本", "\u2028", "\u2029", "\u202e",
		"\U0001F600", "\xff", "\xc3", "\xe2\x80", "\xed\xa0\x80", "\uFFFD", "arn:aws:iam::123456789012:root",
		"AccessDenied", "</script>"}
	var b strings.Builder
	for n := rng.Intn(6); n > 0; n-- {
		b.WriteString(pieces[rng.Intn(len(pieces))])
	}
	return b.String()
}

func randomTime(rng *rand.Rand) time.Time {
	t := time.Unix(rng.Int63n(1<<34), 0).UTC()
	switch rng.Intn(4) {
	case 0:
		t = t.Add(time.Duration(rng.Intn(1e9)))
	case 1:
		t = t.Add(time.Duration(rng.Intn(1000)) * time.Millisecond)
	case 2:
		t = t.In(time.FixedZone("X", (rng.Intn(47)-23)*3600+rng.Intn(60)*60))
	}
	return t
}

func randomSession(rng *rand.Rand) query.Session {
	str := func() string { return hostileString(rng) }
	opt := func() *string {
		if rng.Intn(3) == 0 {
			return nil
		}
		s := str()
		return &s
	}
	s := query.Session{EventID: str(), IssuerARN: str(), IssuerAccount: str(), TargetAccount: str(), TaskPolicy: str(),
		DurationSeconds: rng.Int63(), IssuedAt: randomTime(rng), ExpiresAt: randomTime(rng), AccessKeyID: opt(),
		Status: str(), Region: str(), AuditSweep: rng.Intn(2) == 0}
	switch rng.Intn(4) {
	case 0: // nil: null
	case 1:
		s.Actions = []query.SessionAction{}
	default:
		for n := 1 + rng.Intn(3); n > 0; n-- {
			s.Actions = append(s.Actions, query.SessionAction{EventTime: randomTime(rng), EventSource: str(),
				EventName: str(), AWSRegion: str(), ErrorCode: opt(), Allowed: rng.Intn(2) == 0})
		}
	}
	switch rng.Intn(4) {
	case 0: // nil: null
	case 1:
		s.Findings = []string{}
	default:
		for n := 1 + rng.Intn(3); n > 0; n-- {
			s.Findings = append(s.Findings, str())
		}
	}
	return s
}

// TestSessionsJSONMatchesEncoder: the streamed document is byte for byte
// what encoding/json writes for Doc(), on hostile values, empty and nil
// slices, nanoseconds and zone offsets. A field added to query.Session
// without being added to WriteJSON fails here too.
func TestSessionsJSONMatchesEncoder(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	cases := []Sessions{{}, {Sessions: []query.Session{}}}
	for i := 0; i < 200; i++ {
		var ss []query.Session
		for n := rng.Intn(4); n > 0; n-- {
			ss = append(ss, randomSession(rng))
		}
		cases = append(cases, Sessions{Sessions: ss})
	}
	// Enough sessions that the buffer is flushed several times.
	var many []query.Session
	for i := 0; i < 2000; i++ {
		many = append(many, randomSession(rng))
	}
	cases = append(cases, Sessions{Sessions: many})
	for i, c := range cases {
		want, err := encoderJSON(t, c)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := (&JSON{}).Render(&got, c); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			g, w := got.String(), string(want)
			j := 0
			for j < len(g) && j < len(w) && g[j] == w[j] {
				j++
			}
			t.Fatalf("case %d differs at byte %d:\ngot  …%q\nwant …%q", i, j, g[max(0, j-80):min(len(g), j+80)], w[max(0, j-80):min(len(w), j+80)])
		}
	}
}

// TestSessionsJSONBadTime: a time encoding/json cannot write fails the
// report with encoding/json's error before anything is written, as when the
// document was encoded whole.
func TestSessionsJSONBadTime(t *testing.T) {
	ok := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, bad := range []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		ok.In(time.FixedZone("far", 24*3600)),
	} {
		for _, s := range []query.Session{
			{IssuedAt: bad, ExpiresAt: ok},
			{IssuedAt: ok, ExpiresAt: bad},
			{IssuedAt: ok, ExpiresAt: ok, Actions: []query.SessionAction{{EventTime: ok}, {EventTime: bad}}},
		} {
			r := Sessions{Sessions: []query.Session{{IssuedAt: ok, ExpiresAt: ok}, s}}
			_, want := encoderJSON(t, r)
			if want == nil {
				t.Fatalf("encoding/json accepts %v", bad)
			}
			var got bytes.Buffer
			err := (&JSON{}).Render(&got, r)
			if err == nil || err.Error() != "write json: "+want.Error() {
				t.Errorf("%v: error %v, want write json: %v", bad, err, want)
			}
			if got.Len() != 0 {
				t.Errorf("%v: %d bytes written before the error", bad, got.Len())
			}
		}
	}
}

// TestCheckJSONTime: the fast check agrees with time.Time's MarshalJSON at
// the edges of the years and zone offsets it accepts.
func TestCheckJSONTime(t *testing.T) {
	var ts []time.Time
	for _, y := range []int{-10000, -1, 0, 1, 1970, 9999, 10000, 292277026} {
		for _, d := range []time.Duration{0, -time.Nanosecond, time.Nanosecond} {
			ts = append(ts, time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).Add(d), time.Date(y, 12, 31, 23, 59, 59, 999999999, time.UTC).Add(d))
		}
	}
	base := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, off := range []int{0, 1, 59, 60, 3600, 23*3600 + 59*60 + 59, 24 * 3600, 24*3600 - 1, 100 * 3600} {
		ts = append(ts, base.In(time.FixedZone("p", off)), base.In(time.FixedZone("m", -off)))
	}
	ts = append(ts, time.Time{}, base.Local())
	for _, tm := range ts {
		_, want := tm.MarshalJSON()
		got := checkJSONTime(tm)
		if (got == nil) != (want == nil) {
			t.Errorf("%v (offset %v): checkJSONTime %v, MarshalJSON %v", tm, tm.Format("-07:00:00"), got, want)
		}
	}
}

// TestAppendJSONString compares the string encoder with encoding/json on
// every single byte, every rune class it treats specially, and random
// hostile text.
func TestAppendJSONString(t *testing.T) {
	var in []string
	for c := 0; c < 256; c++ {
		in = append(in, string([]byte{byte(c)}), "x"+string([]byte{byte(c)})+"y")
	}
	for r := rune(0); r < 0x3000; r++ {
		in = append(in, string(r))
	}
	in = append(in, string(rune(utf8.MaxRune)), "\xf4\x90\x80\x80", "\xed\xbf\xbf")
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 5000; i++ {
		in = append(in, hostileString(rng))
	}
	for _, s := range in {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSuffix(b.String(), "\n")
		if got := string(appendJSONString(nil, s)); got != want {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	}
}

// TestSessionJSONFields: WriteJSON writes the fields encoding/json writes
// for query.Session and query.SessionAction, so a new field cannot be
// forgotten silently even when the random sessions leave it zero.
func TestSessionJSONFields(t *testing.T) {
	zero := time.Unix(0, 0).UTC()
	s := query.Session{AuditSweep: true, IssuedAt: zero, ExpiresAt: zero, Actions: []query.SessionAction{{EventTime: zero}}}
	out := string(appendSessionJSON(nil, &s))
	for _, c := range []struct {
		typ    reflect.Type
		indent string
	}{{reflect.TypeOf(query.Session{}), "      "}, {reflect.TypeOf(query.SessionAction{}), "          "}} {
		var want, got []string
		for i := 0; i < c.typ.NumField(); i++ {
			tag := strings.Split(c.typ.Field(i).Tag.Get("json"), ",")[0]
			if c.typ.Field(i).IsExported() && tag != "-" {
				want = append(want, tag)
			}
		}
		for _, line := range strings.Split(out, "\n") {
			if k, _, ok := strings.Cut(strings.TrimPrefix(line, c.indent+`"`), `": `); ok && strings.HasPrefix(line, c.indent+`"`) {
				got = append(got, k)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("WriteJSON writes the fields %v of %v, which has %v", got, c.typ, want)
		}
	}
}
