package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxRecordBytes is the largest single record the walker accepts. Real
// CloudTrail records stay under about 256 KB (requestParameters and
// responseElements are capped near 100 KB each); anything far larger is
// hostile or broken, and holding it would break the memory bound.
const DefaultMaxRecordBytes = 16 << 20

// ErrNoRecords is returned for a JSON object without a Records array: valid
// JSON, but not a CloudTrail log file.
var ErrNoRecords = errors.New("no Records array in the document")

// ErrRecordTooLarge is returned when one record exceeds the walker's limit.
var ErrRecordTooLarge = errors.New("record exceeds the size limit")

// Walker splits a CloudTrail log document into its records while reading it,
// holding at most one record (plus one read chunk) in memory. It accepts the
// delivered shape {"Records":[{…},…]} and a bare array [{…},…] (as some
// exported data sets use). It checks structure (balanced brackets, terminated
// strings, objects as records, nothing after the document) but does not parse
// record contents: that is left to Decode, for the few records that pass the
// pre-filter. A Walker is reused across files with Reset.
type Walker struct {
	r        io.Reader
	buf      []byte
	pos, end int   // unread data is buf[pos:end]
	base     int64 // stream offset of buf[0], for error messages
	eof      bool
	rerr     error
	state    int
	wrapped  bool // document is {"Records":[…]} rather than […]
	n        int  // records returned so far
	MaxBytes int  // per-record limit; DefaultMaxRecordBytes when 0
	stack    []byte
	own      []byte // the walker's own buffer (buf may be borrowed by ResetBytes)
}

const (
	stHeader = iota
	stFirst  // just after '['
	stNext   // after a record
	stDone
)

const readChunk = 256 << 10

// Reset prepares w to walk a new document read from r, keeping its buffer.
func (w *Walker) Reset(r io.Reader) {
	w.r = r
	if w.own == nil {
		w.own = make([]byte, 1<<20)
	}
	w.buf = w.own
	w.pos, w.end, w.base = 0, 0, 0
	w.eof, w.rerr = false, nil
	w.state = stHeader
	w.wrapped = false
	w.n = 0
}

// ResetBytes prepares w to walk a whole document already in memory. The
// walker borrows data (no copy) until the next Reset.
func (w *Walker) ResetBytes(data []byte) {
	w.r = nil
	w.buf = data
	w.pos, w.end, w.base = 0, len(data), 0
	w.eof, w.rerr = true, nil
	w.state = stHeader
	w.wrapped = false
	w.n = 0
}

// Records returns how many records Next has returned since Reset.
func (w *Walker) Records() int { return w.n }

// fill reads more data, moving buf[keep:end] to the front first so the
// buffer only ever holds the record being scanned. It returns the shift
// applied to indexes (subtract it from any index ≥ keep) and false at the end
// of the stream.
func (w *Walker) fill(keep int) (shift int, ok bool, err error) {
	if w.eof {
		if w.rerr != nil {
			return 0, false, w.rerr
		}
		return 0, false, nil
	}
	if keep > 0 {
		copy(w.buf, w.buf[keep:w.end])
		w.end -= keep
		w.pos -= keep
		w.base += int64(keep)
		shift = keep
	}
	max := w.maxBytes()
	if len(w.buf)-w.end < readChunk {
		if w.end > max {
			return shift, false, fmt.Errorf("%w (%d bytes) at record %d", ErrRecordTooLarge, max, w.n+1)
		}
		nb := make([]byte, 2*len(w.buf)+readChunk)
		copy(nb, w.buf[:w.end])
		w.buf, w.own = nb, nb
	}
	n, err := w.r.Read(w.buf[w.end:])
	w.end += n
	if err != nil {
		w.eof = true
		if err != io.EOF {
			w.rerr = err
			if n == 0 {
				return shift, false, err
			}
		}
	}
	if n == 0 && w.eof {
		return shift, false, w.rerr
	}
	return shift, true, nil
}

func (w *Walker) maxBytes() int {
	if w.MaxBytes <= 0 {
		return DefaultMaxRecordBytes
	}
	return w.MaxBytes
}

// peek skips white space and returns the next byte without consuming it.
func (w *Walker) peek() (byte, error) {
	for {
		for w.pos < w.end {
			c := w.buf[w.pos]
			if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
				return c, nil
			}
			w.pos++
		}
		_, ok, err := w.fill(w.pos)
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, io.EOF
		}
	}
}

func (w *Walker) syntax(msg string) error {
	return fmt.Errorf("malformed JSON at byte %d: %s", w.base+int64(w.pos), msg)
}

func (w *Walker) unexpectedEOF(where string) error {
	return fmt.Errorf("unexpected end of data %s (truncated file?)", where)
}

// Next returns the next record. The slice is valid only until the next call.
// At the end of the Records array it returns io.EOF after checking that
// nothing but white space follows the document.
func (w *Walker) Next() ([]byte, error) {
	for {
		switch w.state {
		case stHeader:
			if err := w.header(); err != nil {
				return nil, err
			}
		case stFirst, stNext:
			c, err := w.peek()
			if err == io.EOF {
				return nil, w.unexpectedEOF("inside the Records array")
			}
			if err != nil {
				return nil, err
			}
			if c == ']' {
				w.pos++
				if err := w.trailer(); err != nil {
					return nil, err
				}
				w.state = stDone
				continue
			}
			if w.state == stNext {
				if c != ',' {
					return nil, w.syntax("expected ',' or ']' after a record")
				}
				w.pos++
				if c, err = w.peek(); err != nil {
					if err == io.EOF {
						return nil, w.unexpectedEOF("inside the Records array")
					}
					return nil, err
				}
			}
			if c != '{' {
				return nil, fmt.Errorf("record %d is not a JSON object (starts with %q)", w.n+1, c)
			}
			start, end, err := w.scanValue()
			if err != nil {
				return nil, err
			}
			// A streamed record is also bounded by fill, but a document
			// inflated whole (ResetBytes) is never refilled.
			if max := w.maxBytes(); end-start > max {
				return nil, fmt.Errorf("%w (%d bytes) at record %d", ErrRecordTooLarge, max, w.n+1)
			}
			w.state = stNext
			w.n++
			return w.buf[start:end], nil
		case stDone:
			return nil, io.EOF
		}
	}
}

// header consumes everything up to and including the '[' of the records.
func (w *Walker) header() error {
	c, err := w.peek()
	if err == io.EOF {
		return errors.New("empty document")
	}
	if err != nil {
		return err
	}
	if c == 0xEF { // UTF-8 byte order mark
		if w.end-w.pos >= 3 && w.buf[w.pos+1] == 0xBB && w.buf[w.pos+2] == 0xBF {
			w.pos += 3
			if c, err = w.peek(); err != nil {
				return w.unexpectedEOF("after a byte order mark")
			}
		}
	}
	switch c {
	case '[':
		w.pos++
		w.state = stFirst
		return nil
	case '{':
		w.wrapped = true
		w.pos++
	default:
		return w.syntax(fmt.Sprintf("document starts with %q, want '{' or '['", c))
	}
	for first := true; ; first = false {
		c, err := w.peek()
		if err != nil {
			return w.unexpectedEOF("in the top-level object")
		}
		if c == '}' {
			return ErrNoRecords
		}
		if !first {
			if c != ',' {
				return w.syntax("expected ',' between top-level keys")
			}
			w.pos++
			if c, err = w.peek(); err != nil {
				return w.unexpectedEOF("in the top-level object")
			}
		}
		if c != '"' {
			return w.syntax("expected a key in the top-level object")
		}
		ks, ke, err := w.scanValue()
		if err != nil {
			return err
		}
		isRecords := string(w.buf[ks:ke]) == `"Records"`
		if c, err = w.peek(); err != nil {
			return w.unexpectedEOF("in the top-level object")
		}
		if c != ':' {
			return w.syntax("expected ':' after a key")
		}
		w.pos++
		if c, err = w.peek(); err != nil {
			return w.unexpectedEOF("in the top-level object")
		}
		if isRecords {
			if c != '[' {
				return fmt.Errorf("Records is not an array (starts with %q)", c)
			}
			w.pos++
			w.state = stFirst
			return nil
		}
		if _, _, err := w.scanValue(); err != nil {
			return err
		}
	}
}

// trailer checks what follows the records array: the rest of the wrapper
// object (other keys are skipped) and then only white space.
func (w *Walker) trailer() error {
	if w.wrapped {
		for {
			c, err := w.peek()
			if err != nil {
				return w.unexpectedEOF("after the Records array")
			}
			if c == '}' {
				w.pos++
				break
			}
			if c != ',' {
				return w.syntax("expected ',' or '}' after the Records array")
			}
			w.pos++
			if c, err = w.peek(); err != nil {
				return w.unexpectedEOF("after the Records array")
			}
			if c != '"' {
				return w.syntax("expected a key in the top-level object")
			}
			if _, _, err := w.scanValue(); err != nil { // key
				return err
			}
			if c, err = w.peek(); err != nil || c != ':' {
				return w.syntax("expected ':' after a key")
			}
			w.pos++
			if _, err = w.peek(); err != nil {
				return w.unexpectedEOF("after a key")
			}
			if _, _, err := w.scanValue(); err != nil {
				return err
			}
		}
	}
	c, err := w.peek()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return err
	}
	return w.syntax(fmt.Sprintf("unexpected %q after the end of the document", c))
}

// class marks the bytes that matter outside strings.
var class = [256]uint8{'"': 1, '{': 2, '[': 2, '}': 3, ']': 3}

// scanValue scans one JSON value starting at w.pos (white space already
// skipped) and returns its span. Objects and arrays are matched by depth with
// string awareness; nesting is a byte stack, not recursion, so 10,000
// levels cost 10 KB and no stack depth. Scalars end at the next delimiter.
func (w *Walker) scanValue() (start, end int, err error) {
	start = w.pos
	i := w.pos
	stack := w.stack[:0]
	defer func() { w.stack = stack[:0] }()
	c0 := w.buf[i]
	if c0 != '{' && c0 != '[' && c0 != '"' {
		// Scalar: number, true, false, null.
		for {
			for i < w.end {
				switch w.buf[i] {
				case ',', '}', ']', ' ', '\n', '\r', '\t', ':':
					if i == start {
						return 0, 0, w.syntax("empty value")
					}
					w.pos = i
					return start, i, nil
				}
				i++
			}
			sh, ok, err := w.fill(start)
			start -= sh
			i -= sh
			if err != nil {
				return 0, 0, err
			}
			if !ok {
				w.pos = i
				return start, i, nil
			}
		}
	}
	for {
		for i < w.end {
			switch class[w.buf[i]] {
			case 0:
				i++
				continue
			case 1:
				// String: jump to each quote with IndexByte (vectorised) and
				// count the backslashes before it.
				s := i + 1
				i = s
				for {
					j := bytes.IndexByte(w.buf[i:w.end], '"')
					if j < 0 {
						i = w.end
						sh, ok, err := w.fill(start)
						start -= sh
						s -= sh
						i -= sh
						if err != nil {
							return 0, 0, err
						}
						if !ok {
							return 0, 0, w.unexpectedEOF("inside a string")
						}
						continue
					}
					k := i + j
					bs := 0
					for p := k - 1; p >= s && w.buf[p] == '\\'; p-- {
						bs++
					}
					i = k + 1
					if bs%2 == 0 {
						break
					}
				}
				if len(stack) == 0 {
					w.pos = i
					return start, i, nil
				}
			case 2:
				stack = append(stack, w.buf[i]+2) // '{'+2 == '}', '['+2 == ']'
				i++
			case 3:
				if len(stack) == 0 || stack[len(stack)-1] != w.buf[i] {
					w.pos = i
					return 0, 0, w.syntax("unbalanced brackets")
				}
				stack = stack[:len(stack)-1]
				i++
				if len(stack) == 0 {
					w.pos = i
					return start, i, nil
				}
			}
		}
		sh, ok, err := w.fill(start)
		start -= sh
		i -= sh
		if err != nil {
			return 0, 0, err
		}
		if !ok {
			return 0, 0, w.unexpectedEOF("inside a record")
		}
	}
}

// QuickCheck validates the outline of a whole in-memory document without
// splitting its records: the header up to the records array, and that the
// document ends with that array closed (and the wrapper object, if any). It
// returns the offset of the first byte inside the array and of the closing
// ']' so the caller can tell an empty array. It is the structural check for
// files that the pre-filter shows cannot hold a kept record.
func (w *Walker) QuickCheck(data []byte) (inner, close int, err error) {
	w.ResetBytes(data)
	if err := w.header(); err != nil {
		return 0, 0, err
	}
	inner = w.pos
	end := len(data)
	trim := func() {
		for end > inner && (data[end-1] == ' ' || data[end-1] == '\n' || data[end-1] == '\r' || data[end-1] == '\t') {
			end--
		}
	}
	trim()
	if w.wrapped {
		if end <= inner || data[end-1] != '}' {
			return 0, 0, errors.New("document does not end with '}' (truncated?)")
		}
		end--
		trim()
	}
	if end <= inner || data[end-1] != ']' {
		return 0, 0, errors.New("records array is not closed at the end of the document (truncated?)")
	}
	return inner, end - 1, nil
}
