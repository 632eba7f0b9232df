package ingest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
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
	zbuf []byte // the compressed file, for whole-file decompression
	wg   *wholeGunzip
	// wholeFiles counts the files decompressed in one call by wg (tests
	// check that the fast decoder is really used).
	wholeFiles int
	dec        Decoder
	h          hash.Hash
	cr         countReader
}

// NewWorker returns a Worker with the given options.
func NewWorker(opts Options) *Worker {
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = DefaultMaxFileBytes
	}
	w := &Worker{opts: opts, br: bufio.NewReaderSize(nil, 64<<10), h: sha256.New(), wg: newWholeGunzip()}
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
	defer w.trimBuffers()
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
	data, complete, err := w.load(ref, rc)
	if err != nil {
		return w.wrapReadErr(err)
	}
	// Fast path: most files fit in memory, and most hold no byte that any
	// kept record must contain. Such a file is only checked for its outline
	// and counted; its records are never split (PERF-NOTES.md: the cheap
	// test belongs on the whole file). Everything else is walked record by
	// record.
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

// load returns the decompressed bytes of the file behind rc: all of them
// (complete) when they fit in fastFileBytes, else the first fastFileBytes,
// with w.cr left to stream the rest. Either way w.cr counts (and, with
// Options.Hash, hashes) every byte.
func (w *Worker) load(ref FileRef, rc io.Reader) (data []byte, complete bool, err error) {
	w.br.Reset(rc)
	var body io.Reader = w.br
	magic, _ := w.br.Peek(2)
	switch {
	case len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		src := io.Reader(w.br)
		if w.wg != nil {
			data, rest, ok, err := w.gunzipWhole()
			if err != nil {
				return nil, false, err
			}
			if ok {
				w.cr = countReader{n: int64(len(data)), max: w.opts.MaxFileBytes}
				if w.cr.n > w.cr.max {
					return nil, false, fmt.Errorf("%w (%d bytes)", ErrFileTooLarge, w.cr.max)
				}
				if w.opts.Hash {
					w.h.Reset()
					w.h.Write(data)
				}
				w.wholeFiles++
				return data, true, nil
			}
			src = rest
		}
		if err := w.gz.Reset(src); err != nil {
			return nil, false, fmt.Errorf("gzip header: %w", err)
		}
		body = &w.gz
	case strings.HasSuffix(ref.Source, ".gz"):
		return nil, false, errors.New("not a gzip file (bad magic bytes)")
	}
	w.cr = countReader{r: body, max: w.opts.MaxFileBytes}
	if w.opts.Hash {
		w.h.Reset()
		w.cr.h = w.h
	}
	return w.slurp(&w.cr)
}

// gunzipWhole reads the compressed file from w.br into memory and, when it
// is one gzip member whose trailer announces at most fastFileBytes,
// decompresses it in one call. ok false means the streaming decoder must
// read rest (the same compressed bytes from the start) instead: the file
// is large, has several members, or is damaged, and the streaming decoder
// is the one that names the damage. err is a failure to read, such as a
// reset connection.
func (w *Worker) gunzipWhole() (data []byte, rest io.Reader, ok bool, err error) {
	z := w.zbuf[:0]
	if cap(z) == 0 {
		z = make([]byte, 0, 64<<10)
	}
	for len(z) <= fastFileBytes {
		if len(z) == cap(z) {
			z = append(z, 0)[:len(z)] // let append pick the growth
		}
		n, rerr := w.br.Read(z[len(z):cap(z)])
		z = z[:len(z)+n]
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			w.zbuf = z[:0]
			return nil, nil, false, rerr
		}
	}
	w.zbuf = z[:0]
	rest = bytes.NewReader(z)
	if len(z) > fastFileBytes {
		return nil, io.MultiReader(rest, w.br), false, nil
	}
	if len(z) < 18 { // a gzip header and trailer alone take 18 bytes
		return nil, rest, false, nil
	}
	size := int(binary.LittleEndian.Uint32(z[len(z)-4:])) // ISIZE: the length mod 2^32
	if size > fastFileBytes {
		return nil, rest, false, nil
	}
	if cap(w.buf) < size {
		w.buf = make([]byte, 0, max(size, 2*cap(w.buf)))
	}
	used, n, ok := w.wg.gunzip(w.buf[:size], z)
	if !ok || used != len(z) || n != size {
		return nil, rest, false, nil
	}
	return w.buf[:n], nil, true, nil
}

// keepBufferBytes is the largest buffer a Worker keeps from one file to the
// next. Log files are tens of KB; the buffers of a rare large one are let
// go, so that 32 S3 workers do not each hold on to the largest file they
// ever met (an S3 ingest peaked at 257 MB before this).
const keepBufferBytes = 1 << 20

func (w *Worker) trimBuffers() {
	if cap(w.buf) > keepBufferBytes {
		w.buf = nil
	}
	if cap(w.zbuf) > keepBufferBytes/4 {
		w.zbuf = nil
	}
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
	b, complete, err := w.load(ref, rc)
	if err != nil {
		return nil, 0, w.wrapReadErr(err)
	}
	if !complete {
		b, err = io.ReadAll(io.LimitReader(io.MultiReader(bytes.NewReader(b), &w.cr), maxDigestBytes+1))
		if err != nil {
			return nil, int64(len(b)), w.wrapReadErr(err)
		}
	}
	if len(b) > maxDigestBytes {
		return nil, int64(len(b)), fmt.Errorf("digest larger than %d bytes", maxDigestBytes)
	}
	// load hashed the bytes as they came when hashing is on; otherwise
	// hash them here (a digest's hash is part of its signed string).
	var sum []byte
	if w.opts.Hash {
		sum = w.h.Sum(nil)
	} else {
		s := sha256.Sum256(b)
		sum = s[:]
	}
	d, err := ParseDigest(b, hex.EncodeToString(sum))
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

// Gunzipper decompresses whole gzip files with the whole-file decoder. It
// exists for benchmarks (the decompression floor of `make bench`); the
// ingest path keeps one decoder per Worker. Not safe for concurrent use.
type Gunzipper struct{ g *wholeGunzip }

// NewGunzipper returns a Gunzipper, or nil when rootaudit was built
// without the whole-file decoder (WholeGunzipLibrary is "").
func NewGunzipper() *Gunzipper {
	g := newWholeGunzip()
	if g == nil {
		return nil
	}
	return &Gunzipper{g: g}
}

// Gunzip decompresses src, one gzip member of at most len(dst) bytes of
// output, into dst in one call, reporting how many bytes it wrote; false
// when src is not such a member.
func (z *Gunzipper) Gunzip(dst, src []byte) (int, bool) {
	used, n, ok := z.g.gunzip(dst, src)
	return n, ok && used == len(src)
}
