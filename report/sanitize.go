package report

import (
	"strings"
	"unicode"
)

// Terminal strips what could rewrite an operator's terminal: ANSI escape
// sequences (CSI, OSC and other ESC forms), C0 and C1 control characters and
// Unicode bidirectional overrides. Newlines and tabs become spaces.
func Terminal(s string) string {
	clean := true
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || isBidi(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == 0x1b: // ESC: drop the whole sequence
			i = skipEscape(rs, i)
		case r == 0x9b: // C1 CSI
			i = skipCSI(rs, i+1)
		case r == 0x9d: // C1 OSC
			i = skipOSC(rs, i+1)
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || isBidi(r):
			// dropped
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isBidi(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

// skipEscape returns the index of the last rune of the escape sequence that
// starts at rs[i] (an ESC).
func skipEscape(rs []rune, i int) int {
	if i+1 >= len(rs) {
		return i
	}
	switch rs[i+1] {
	case '[':
		return skipCSI(rs, i+2)
	case ']', 'P', '_', '^', 'X':
		return skipOSC(rs, i+2)
	}
	return i + 1 // two-character sequence
}

// skipCSI skips parameters and intermediates up to the final byte (0x40–0x7e).
func skipCSI(rs []rune, j int) int {
	for ; j < len(rs); j++ {
		if rs[j] >= 0x40 && rs[j] <= 0x7e {
			return j
		}
	}
	return len(rs) - 1
}

// skipOSC skips a string terminated by BEL or ST (ESC \ or 0x9c).
func skipOSC(rs []rune, j int) int {
	for ; j < len(rs); j++ {
		switch {
		case rs[j] == 0x07 || rs[j] == 0x9c:
			return j
		case rs[j] == 0x1b && j+1 < len(rs) && rs[j+1] == '\\':
			return j + 1
		}
	}
	return len(rs) - 1
}

// Spreadsheet neutralises formula injection in a CSV cell: a cell starting
// with =, +, -, @, tab or carriage return is prefixed with a single quote,
// as OWASP recommends, so a spreadsheet shows it as text.
func Spreadsheet(s string) string {
	// A lone "-" (the reports' own placeholder for nothing) cannot start a
	// formula, and quoting it showed '- in the plan.
	if s == "" || s == "-" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// Markdown escapes a cell for a Markdown table: pipes, backslashes, HTML
// brackets and the characters that start emphasis or links, after terminal
// sanitising (a Markdown file is often cat'ed).
func markdownCell(s string) string {
	s = Terminal(s)
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '|', '\\', '`', '*', '_', '[', ']', '<', '>', '#', '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			if unicode.IsPrint(r) || r == ' ' {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}
