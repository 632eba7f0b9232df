package ingest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Status is the outcome of reading one file.
type Status string

// The outcomes stored in ingested_files.status.
const (
	StatusOK      Status = "ok"      // parsed; its kept events are stored
	StatusSkipped Status = "skipped" // not a log file (digest, insight, outside the layout): counted, not parsed
	StatusFailed  Status = "failed"  // unreadable or malformed: nothing of it stored, retried on the next run
)

// DefaultMaxFileBytes caps the decompressed size of one file. A CloudTrail
// log file is a few MB compressed, tens of MB of JSON at most; the cap stops
// a gzip bomb from running for hours or filling memory.
const DefaultMaxFileBytes = 1 << 30

// ErrFileTooLarge is returned when a file decompresses past the cap.
var ErrFileTooLarge = errors.New("decompressed size exceeds the limit")

// FileResult is everything one file contributes to the store. It is complete
// before it is handed on, so a file is committed whole or not at all.
type FileResult struct {
	Ref        FileRef
	Status     Status
	Reason     string // why skipped or failed; "" when ok
	Err        error  // the failure, when Status is StatusFailed
	Attempts   int    // how many times the file was read (retries after transient errors)
	Records    int    // records in the file
	Candidates int    // records that passed the byte pre-filter
	Events     []Event
	Bytes      int64   // uncompressed bytes read
	SHA256     string  // hex SHA-256 of the uncompressed bytes, when Options.Hash
	Digest     *Digest // the parsed digest file, when Options.Digests and the file is one
	Elapsed    time.Duration
}

// Options tune the reading of one file.
type Options struct {
	MaxFileBytes   int64 // decompressed cap; DefaultMaxFileBytes when 0
	MaxRecordBytes int   // per-record cap; DefaultMaxRecordBytes when 0
	Hash           bool  // compute the SHA-256 of the uncompressed bytes (for digest validation)
	// Digests makes digest files parsed (and, with Keys, their signatures
	// verified) instead of skipped.
	Digests bool
	Keys    PublicKeys
	// Strict splits and structurally checks every record of every file,
	// not only of files that can hold a kept record.
	Strict bool
}

// maxDigestBytes caps a digest file: an hour of one region lists at most a
// few thousand log files, well under a megabyte.
const maxDigestBytes = 64 << 20

// Worker holds the buffers one goroutine reuses from file to file, so the
// hot path allocates nothing per record except for kept events.
type Worker struct {
	opts Options
	br   *bufio.Reader
	gz   gzip.Reader
	w    Walker
	buf  []byte // whole-file buffer of the fast path, reused
	dec  Decoder
	h    hash.Hash
	cr   countReader
}

// NewWorker returns a Worker with the given options.
func NewWorker(opts Options) *Worker {
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = DefaultMaxFileBytes
	}
	w := &Worker{opts: opts, br: bufio.NewReaderSize(nil, 64<<10), h: sha256.New()}
	w.w.MaxBytes = opts.MaxRecordBytes
	return w
}

// countReader counts (and optionally hashes) decompressed bytes and enforces
// the per-file cap. Hashing here, as bytes stream past, is what makes digest
// validation a single pass.
type countReader struct {
	r   io.Reader
	n   int64
	max int64
	h   hash.Hash
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.h != nil && n > 0 {
		c.h.Write(p[:n])
	}
	if c.n > c.max {
		return n, fmt.Errorf("%w (%d bytes)", ErrFileTooLarge, c.max)
	}
	return n, err
}

// Process reads one file and returns its result. Errors in the file become a
// failed result naming the reason; Process itself never panics on input.
func (w *Worker) Process(ctx context.Context, ref FileRef) FileResult {
	start := time.Now()
	res := FileResult{Ref: ref}
	if w.opts.Digests && ref.Key.Kind == KindDigest {
		d, n, err := w.readDigest(ctx, ref)
		res.Elapsed, res.Bytes = time.Since(start), n
		if err != nil {
			res.Status, res.Reason, res.Err = StatusFailed, err.Error(), err
			return res
		}
		res.Status, res.Reason, res.Digest, res.SHA256 = StatusOK, "digest", d, d.SHA256
		return res
	}
	if !ref.Explicit && ref.Key.Kind != KindLog {
		res.Status, res.Reason = StatusSkipped, string(ref.Key.Kind)
		if ref.Key.Kind == KindOther && strings.Contains(ref.Source, "AWSLogs/") {
			res.Reason = "outside-layout"
		}
		return res
	}
	err := w.read(ctx, ref, &res)
	res.Elapsed = time.Since(start)
	if ref.Loose && errors.Is(err, ErrNoRecords) {
		res.Status, res.Reason, res.Events = StatusSkipped, "not-a-log", nil
		return res
	}
	if err != nil {
		res.Status, res.Reason, res.Err = StatusFailed, err.Error(), err
		res.Events = nil
		return res
	}
	res.Status = StatusOK
	return res
}

func (w *Worker) read(ctx context.Context, ref FileRef, res *FileResult) (err error) {
	rc, err := ref.Open(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := rc.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close: %w", cerr)
		}
	}()
	w.br.Reset(rc)
	var body io.Reader = w.br
	magic, _ := w.br.Peek(2)
	switch {
	case len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		if err := w.gz.Reset(w.br); err != nil {
			return fmt.Errorf("gzip header: %w", err)
		}
		body = &w.gz
	case strings.HasSuffix(ref.Source, ".gz"):
		return errors.New("not a gzip file (bad magic bytes)")
	}
	w.cr = countReader{r: body, max: w.opts.MaxFileBytes}
	if w.opts.Hash {
		w.h.Reset()
		w.cr.h = w.h
	}
	// Fast path: most files fit in memory, and most hold no byte that any
	// kept record must contain. Such a file is only checked for its outline
	// and counted; its records are never split (PERF-NOTES.md: the cheap
	// test belongs on the whole file). Everything else is walked record by
	// record.
	data, complete, err := w.slurp(&w.cr)
	if err != nil {
		return w.wrapReadErr(err)
	}
	if complete {
		if !w.opts.Strict && !Candidate(data) {
			if inner, closing, err := w.w.QuickCheck(data); err == nil {
				n := countRecords(data[inner:closing])
				if n > 0 || len(bytes.TrimSpace(data[inner:closing])) == 0 {
					res.Records = n
					return w.finish(res)
				}
			}
			// An outline that does not check out gets the full walk,
			// which names the exact problem.
		}
		w.w.ResetBytes(data)
	} else {
		w.w.Reset(io.MultiReader(bytes.NewReader(data), &w.cr))
	}
	var ev Event
	for {
		rec, err := w.w.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return w.wrapReadErr(err)
		}
		if w.w.Records()&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if !Candidate(rec) {
			continue
		}
		res.Candidates++
		err = w.dec.Decode(rec, &ev)
		if err == ErrNotKept {
			continue
		}
		if err != nil {
			return fmt.Errorf("record %d: %w", w.w.Records(), err)
		}
		res.Events = append(res.Events, ev)
	}
	res.Records = w.w.Records()
	return w.finish(res)
}

// countRecords counts the records of a file that is not split: every
// CloudTrail record has exactly one "eventVersion" key, and that sequence
// with its quotes cannot occur inside a JSON string (they would be
// escaped). It hops between 'V's with IndexByte: a rare byte in CloudTrail
// JSON, where bytes.Count on a needle starting with '"' would compare at
// almost every position.
func countRecords(b []byte) int {
	n := 0
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], 'V')
		if j < 0 {
			return n
		}
		k := i + j
		if k >= 6 && string(b[k-6:k]) == `"event` && k+9 <= len(b) && string(b[k:k+9]) == `Version":` {
			n++
		}
		i = k + 1
	}
}

// fastFileBytes is the largest decompressed file read whole into memory for
// the fast path. Larger files (rare: a few MB compressed) are streamed, so a
// worker never holds more than this plus one record.
const fastFileBytes = 4 << 20

// slurp reads up to fastFileBytes of r into the worker's buffer. complete
// reports whether that was the whole stream.
func (w *Worker) slurp(r io.Reader) (data []byte, complete bool, err error) {
	if w.buf == nil {
		w.buf = make([]byte, 0, 256<<10)
	}
	buf := w.buf[:0]
	for len(buf) < fastFileBytes {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), min(2*cap(buf), fastFileBytes))
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			w.buf = buf[:0]
			return buf, true, nil
		}
		if err != nil {
			w.buf = buf[:0]
			return nil, false, err
		}
	}
	w.buf = buf[:0]
	// Exactly at the limit: one more read tells whether anything follows.
	var one [1]byte
	n, err := r.Read(one[:])
	if n == 0 && err == io.EOF {
		return buf, true, nil
	}
	if err != nil && err != io.EOF {
		return nil, false, err
	}
	return append(buf, one[:n]...), false, nil
}

// finish fills in what every successfully read file reports.
func (w *Worker) finish(res *FileResult) error {
	res.Bytes = w.cr.n
	if w.opts.Hash {
		res.SHA256 = hex.EncodeToString(w.h.Sum(nil))
	}
	return nil
}

// readDigest reads, hashes, parses and verifies one digest file.
func (w *Worker) readDigest(ctx context.Context, ref FileRef) (*Digest, int64, error) {
	rc, err := ref.Open(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer rc.Close()
	w.br.Reset(rc)
	var body io.Reader = w.br
	if magic, _ := w.br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		if err := w.gz.Reset(w.br); err != nil {
			return nil, 0, fmt.Errorf("gzip header: %w", err)
		}
		body = &w.gz
	}
	b, err := io.ReadAll(io.LimitReader(body, maxDigestBytes+1))
	if err != nil {
		return nil, int64(len(b)), w.wrapReadErr(err)
	}
	if len(b) > maxDigestBytes {
		return nil, int64(len(b)), fmt.Errorf("digest larger than %d bytes", maxDigestBytes)
	}
	sum := sha256.Sum256(b)
	d, err := ParseDigest(b, hex.EncodeToString(sum[:]))
	if err != nil {
		return nil, int64(len(b)), err
	}
	d.Signature = ref.Signature
	if sr, ok := rc.(SignatureReader); ok && sr.Signature() != "" {
		d.Signature = sr.Signature()
	}
	if w.opts.Keys != nil {
		w.opts.Keys.Verify(d)
	}
	return d, int64(len(b)), nil
}

// wrapReadErr turns decompression errors into plain reasons.
func (w *Worker) wrapReadErr(err error) error {
	if IsTransient(err) {
		return err
	}
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("truncated: unexpected end of compressed data")
	case errors.Is(err, gzip.ErrChecksum):
		return errors.New("gzip checksum mismatch (corrupt file)")
	case errors.Is(err, gzip.ErrHeader):
		return errors.New("corrupt gzip data")
	}
	return err
}

// TransientError marks a failure that may not happen again (a reset
// connection, throttling, a body cut short): the file is read again from the
// start, and nothing of the failed attempt is kept.
type TransientError struct{ Err error }

func (e *TransientError) Error() string { return e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// IsTransient reports whether err (or one it wraps) is a TransientError.
func IsTransient(err error) bool {
	var te *TransientError
	return errors.As(err, &te)
}
