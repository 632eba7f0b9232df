package report

import (
	"encoding/json"
	"io"
	"time"
	"unicode/utf8"
)

// jsonWriter is a Report that writes its --format json document itself,
// byte for byte what the JSON renderer's encoder writes for Doc(), one part
// at a time. A large report (50,000 sessions make 34 MB of JSON) then costs
// neither reflection nor a second pass to indent the whole document, nor
// the memory of holding it twice.
type jsonWriter interface {
	WriteJSON(w io.Writer) error
}

// jsonFlushAt is the size at which a streamed document's buffer is written
// out: large enough that writing to an unbuffered file costs few system
// calls, small enough that memory does not grow with the report.
const jsonFlushAt = 64 << 10

// flushJSON writes b to w when it holds at least jsonFlushAt bytes (always
// when force is set) and returns it emptied.
func flushJSON(w io.Writer, b []byte, force bool) ([]byte, error) {
	if len(b) == 0 || (!force && len(b) < jsonFlushAt) {
		return b, nil
	}
	if _, err := w.Write(b); err != nil {
		return b, err
	}
	return b[:0], nil
}

// jsonHex is the alphabet encoding/json uses for \u escapes.
const jsonHex = "0123456789abcdef"

// appendJSONString appends s as a JSON string exactly as encoding/json
// encodes it with HTML escaping on (the Encoder's default, which the JSON
// renderer keeps): <, > and & as \u003c, \u003e and \u0026, control
// characters escaped, invalid UTF-8 replaced by \ufffd, and U+2028 and
// U+2029 escaped. Values come from log records and are attacker-influenced,
// so this must not differ from encoding/json in any byte; the tests compare
// the two on hostile input.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', jsonHex[c>>4], jsonHex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', jsonHex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendJSONStringPtr appends *s as a JSON string, or null when s is nil.
func appendJSONStringPtr(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendJSONString(b, *s)
}

// appendJSONTime appends t as time.Time's MarshalJSON does: RFC 3339 with
// nanoseconds, trailing zeros dropped. The caller has checked t with
// checkJSONTime.
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// checkJSONTime returns the error encoding/json gives for a time it cannot
// write as RFC 3339 (a year outside 0–9999, a zone offset of 24 hours or
// more), or nil. Such a time comes only from a hostile or corrupt record,
// but a streamed report must refuse it before writing anything, as the
// encoder did when it encoded the document whole.
func checkJSONTime(t time.Time) error {
	_, offset := t.Zone()
	minutes := offset / 60
	if minutes < 0 {
		minutes = -minutes
	}
	if y := t.Year(); y >= 0 && y <= 9999 && minutes/60 < 24 {
		return nil
	}
	// The rare slow path: encoding/json's own verdict and error.
	_, err := json.Marshal(t)
	return err
}
