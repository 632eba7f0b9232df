package report

import (
	"bytes"
	"strings"
	"testing"
)

func TestTerminalStripsEscapes(t *testing.T) {
	cases := map[string]string{
		"plain agent":                             "plain agent",
		"a\x1b[2J\x1b[Hb":                         "ab",
		"title\x1b]0;pwned\x07 set":               "title set",
		"osc\x1b]8;;http://evil\x1b\\link":        "osclink",
		"c1\u009b31mred":                          "c1red",
		"bell\x07 null\x00 del\x7f":               "bell null del",
		"new\nline\ttab":                          "new line tab",
		"bidi \u202egnp.exe":                      "bidi gnp.exe",
		"ünïcödé stays":                           "ünïcödé stays",
		"\x1b[38;5;196mred\x1b[0m and \x1bcreset": "red and reset",
	}
	for in, want := range cases {
		if got := Terminal(in); got != want {
			t.Errorf("Terminal(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSpreadsheetNeutralisesFormulas(t *testing.T) {
	for _, in := range []string{"=HYPERLINK(\"http://evil\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"} {
		if got := Spreadsheet(in); !strings.HasPrefix(got, "'") {
			t.Errorf("Spreadsheet(%q) = %q: not neutralised", in, got)
		}
	}
	if got := Spreadsheet("198.51.100.7"); got != "198.51.100.7" {
		t.Errorf("plain value changed: %q", got)
	}
}

type fake struct{ rows [][]string }

func (f fake) Title() string    { return "t\x1b[2J" }
func (f fake) Doc() any         { return f.rows }
func (f fake) Header() []string { return []string{"a", "b"} }
func (f fake) Rows() [][]string { return f.rows }

// TestRenderersNeutraliseLogValues renders attacker-chosen values in every
// format: no escape byte reaches a terminal format, no formula a CSV cell.
func TestRenderersNeutraliseLogValues(t *testing.T) {
	r := fake{rows: [][]string{{"Mozilla\x1b]0;owned\x07\x1b[1A", "=cmd|' /C calc'!A0"}}}
	for _, format := range Formats {
		rd, _ := For(format)
		var b bytes.Buffer
		if err := rd.Render(&b, r); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		switch format {
		case "table", "markdown":
			if strings.ContainsAny(out, "\x1b\x07\u009b") {
				t.Errorf("%s output carries terminal escapes: %q", format, out)
			}
		case "csv":
			if !strings.Contains(out, "'=cmd") {
				t.Errorf("csv formula not neutralised: %q", out)
			}
		case "json":
			if strings.Contains(out, "\x1b") {
				t.Errorf("json output carries a raw ESC: %q", out)
			}
		}
	}
}
