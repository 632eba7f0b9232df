package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// walkAll returns every record the walker yields, or the first error.
func walkAll(t testing.TB, r io.Reader, max int) ([]string, error) {
	var w Walker
	w.MaxBytes = max
	w.Reset(r)
	var out []string
	for {
		rec, err := w.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, string(rec))
	}
}

func TestWalkerShapes(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string
		err      string
	}{
		{"wrapped", `{"Records":[{"a":1},{"b":"}"}]}`, []string{`{"a":1}`, `{"b":"}"}`}, ""},
		{"bare array", ` [ {"a":1} , {"b":2} ] `, []string{`{"a":1}`, `{"b":2}`}, ""},
		{"empty records", `{"Records":[]}`, nil, ""},
		{"other keys first", `{"x":{"Records":[1]},"y":"]","Records":[{"a":"b"}],"z":[1,2]}`, []string{`{"a":"b"}`}, ""},
		{"white space around keys after", "{\"Records\":[{\"a\":1}] ,\n \"x\" : 1 , \"y\":[] }", []string{`{"a":1}`}, ""},
		{"key after not a string", `{"Records":[{"a":1}], 5:1}`, []string{`{"a":1}`}, "expected a key"},
		{"escaped quotes", `{"Records":[{"a":"x\"}\\"},{"b":"\\\\"}]}`, []string{`{"a":"x\"}\\"}`, `{"b":"\\\\"}`}, ""},
		{"nested", `{"Records":[{"a":{"b":[{"c":"d"}]}}]}`, []string{`{"a":{"b":[{"c":"d"}]}}`}, ""},
		{"bom", "\ufeff{\"Records\":[{}]}", []string{`{}`}, ""},
		{"no records", `{"foo":[]}`, nil, "no Records array"},
		{"records not array", `{"Records":{"a":1}}`, nil, "Records is not an array"},
		{"record not object", `{"Records":[{"a":1},"str"]}`, []string{`{"a":1}`}, "record 2 is not a JSON object"},
		{"truncated", `{"Records":[{"a":1},{"b":`, []string{`{"a":1}`}, "unexpected end"},
		{"truncated string", `{"Records":[{"a":"abc`, nil, "unexpected end"},
		{"trailing junk", `{"Records":[{"a":1}]} x`, []string{`{"a":1}`}, "after the end"},
		{"missing comma", `{"Records":[{"a":1} {"b":2}]}`, []string{`{"a":1}`}, "expected ','"},
		{"empty", ``, nil, "empty document"},
		{"not json", `hello`, nil, "document starts with"},
		{"unbalanced", `{"Records":[{"a":1]]}`, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := walkAll(t, strings.NewReader(c.in), 0)
			if c.name == "unbalanced" {
				if err == nil {
					t.Fatalf("unbalanced brackets accepted: %q", got)
				}
				return
			}
			if c.err == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
				t.Fatalf("error = %v, want containing %q", err, c.err)
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Fatalf("records = %q, want %q", got, c.want)
			}
		})
	}
}

// TestWalkerSmallReads feeds the document one byte at a time, so every
// buffer refill boundary falls everywhere (inside strings, between an escape
// and its quote, inside the header).
func TestWalkerSmallReads(t *testing.T) {
	var recs []string
	for i := 0; i < 200; i++ {
		recs = append(recs, `{"eventID":"`+strings.Repeat("x", i)+`\\\"","n":[1,{"m":"]}"}]}`)
	}
	doc := `{"Records":[` + strings.Join(recs, ",") + `]}`
	got, err := walkAll(t, iotest.OneByteReader(strings.NewReader(doc)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(recs) {
		t.Fatalf("got %d records, want %d", len(got), len(recs))
	}
	for i := range got {
		if got[i] != recs[i] {
			t.Fatalf("record %d = %q, want %q", i, got[i], recs[i])
		}
	}
}

func TestWalkerLargeRecordAndLimit(t *testing.T) {
	big := `{"requestParameters":"` + strings.Repeat("a", 5<<20) + `"}`
	doc := `{"Records":[{"x":1},` + big + `]}`
	got, err := walkAll(t, strings.NewReader(doc), 0)
	if err != nil || len(got) != 2 || got[1] != big {
		t.Fatalf("5 MB record: %d records, err %v", len(got), err)
	}
	_, err = walkAll(t, strings.NewReader(doc), 1<<20)
	if !errors.Is(err, ErrRecordTooLarge) {
		t.Fatalf("over the limit: err = %v, want ErrRecordTooLarge", err)
	}
}

// TestWalkerLimitWholeDocument: a document inflated whole (ResetBytes) is
// never refilled, so the limit must be checked per record as well; it once
// let any record through when the file was read in one piece.
func TestWalkerLimitWholeDocument(t *testing.T) {
	big := `{"requestParameters":"` + strings.Repeat("a", 100<<10) + `"}`
	doc := []byte(`{"Records":[{"x":1},` + big + `]}`)
	for _, c := range []struct {
		max  int
		want error
	}{{50000, ErrRecordTooLarge}, {len(big), nil}, {0, nil}} {
		w := Walker{MaxBytes: c.max}
		w.ResetBytes(doc)
		var err error
		for err == nil {
			_, err = w.Next()
		}
		if err == io.EOF {
			err = nil
		}
		if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Errorf("limit %d on a %d-byte record: err = %v, want %v", c.max, len(big), err, c.want)
		}
	}
}

func TestWalkerDeepNesting(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	got, err := walkAll(t, strings.NewReader(`{"Records":[`+deep+`]}`), 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("10,000 levels: %d records, err %v", len(got), err)
	}
}

func TestWalkerReaderError(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader(`{"Records":[{"a":1},{"b"`), iotest.ErrReader(boom))
	_, err := walkAll(t, r, 0)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the reader's error", err)
	}
}

// FuzzWalker checks that the walker never panics and that, whenever it
// accepts a whole document that encoding/json also accepts, it returns
// exactly the elements of the Records array.
func FuzzWalker(f *testing.F) {
	for _, s := range []string{`{"Records":[{"a":1},{"b":"}"}]}`, `[{"a":"\\\""}]`, `{"Records":[]}`, `{"x":1,"Records":[{}]}`, `{"Records":[{"a":[}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := walkAll(t, bytes.NewReader(data), 1<<20)
		if err != nil {
			return
		}
		var doc struct{ Records []json.RawMessage }
		var arr []json.RawMessage
		var want []json.RawMessage
		if json.Unmarshal(data, &doc) == nil && doc.Records != nil {
			want = doc.Records
		} else if json.Unmarshal(data, &arr) == nil {
			want = arr
		} else {
			return // the walker checks structure only; invalid JSON may pass it
		}
		if len(got) != len(want) {
			t.Fatalf("walker found %d records, encoding/json %d", len(got), len(want))
		}
		for i := range got {
			if !json.Valid([]byte(got[i])) {
				continue
			}
			var a, b any
			json.Unmarshal([]byte(got[i]), &a)
			json.Unmarshal(want[i], &b)
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if !bytes.Equal(ja, jb) {
				t.Fatalf("record %d = %s, want %s", i, got[i], want[i])
			}
		}
	})
}

// FuzzWalkerAcceptsValid is the other direction: a document encoding/json
// accepts, whose Records (spelt exactly, once) or top-level array holds only
// objects, must be accepted whole. The walker once refused white space
// before a key that follows the Records array.
func FuzzWalkerAcceptsValid(f *testing.F) {
	for _, s := range []string{`{"Records":[{"a":1}], "x":1}`, ` [ {"a":"\\\""} ] `, `{"x" : [1,{"y":"]"}] ,"Records":[ ]}`, "{\"Records\":[{}]\n,\n\"z\":null}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lead := bytes.TrimLeft(data, " \t\r\n")
		if !json.Valid(data) || len(lead) == 0 {
			return
		}
		var elems []json.RawMessage
		var doc map[string]json.RawMessage
		switch {
		case lead[0] == '[' && json.Unmarshal(data, &elems) == nil:
		case lead[0] == '{' && json.Unmarshal(data, &doc) == nil && bytes.Count(data, []byte(`"Records"`)) == 1 && bytes.HasPrefix(doc["Records"], []byte("[")):
			if json.Unmarshal(doc["Records"], &elems) != nil {
				return
			}
		default:
			return
		}
		for _, e := range elems {
			if len(e) == 0 || e[0] != '{' || len(e) > 1<<20 {
				return
			}
		}
		got, err := walkAll(t, bytes.NewReader(data), 1<<20)
		if err != nil {
			t.Fatalf("valid document refused: %v", err)
		}
		if len(got) != len(elems) {
			t.Fatalf("walker found %d records, encoding/json %d", len(got), len(elems))
		}
	})
}
