package ingest

import "io"

// docReader streams a {"Records":[…]} document that is built a part at a
// time (pages of an API's results): fill appends the next part to buf, or
// sets done at the end. The lookup:// and athena:// sources read through
// it, so their virtual files go through the same decoder as log files.
type docReader struct {
	buf  []byte
	off  int
	err  error
	done bool
	fill func() error
}

// Read implements io.Reader.
func (r *docReader) Read(p []byte) (int, error) {
	for r.off == len(r.buf) {
		if r.err != nil {
			return 0, r.err
		}
		if r.done {
			return 0, io.EOF
		}
		r.buf, r.off = r.buf[:0], 0
		if err := r.fill(); err != nil {
			r.err = err
			return 0, err
		}
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	return n, nil
}

// Close implements io.Closer; the pages need no closing.
func (r *docReader) Close() error { return nil }
