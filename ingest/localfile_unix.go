//go:build unix

package ingest

import (
	"errors"
	"fmt"
	"io"
	"syscall"
)

// localFile is a local file read through its bare descriptor. os.Open costs
// five more system calls a file than open itself (it tries to register a
// regular file with the network poller and sets and clears O_NONBLOCK):
// about 4 µs a file on this machine, 0.25 s of CPU on a 59,000-file trail
// (docs/performance.md). A file is read start to end by one goroutine and
// closed once, which is all rootaudit needs of it.
type localFile struct {
	fd   int
	name string
}

func openLocal(name string) (*localFile, error) {
	for {
		fd, err := syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", name, err)
		}
		return &localFile{fd: fd, name: name}, nil
	}
}

// Read implements io.Reader.
func (f *localFile) Read(p []byte) (int, error) {
	if f.fd < 0 {
		return 0, errors.New("read of a closed file")
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, err := syscall.Read(f.fd, p)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", f.name, err)
		}
		if n == 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

// Close implements io.Closer. Closing twice is harmless.
func (f *localFile) Close() error {
	if f.fd < 0 {
		return nil
	}
	fd := f.fd
	f.fd = -1
	// close is not retried on EINTR: on Linux the descriptor is gone anyway.
	if err := syscall.Close(fd); err != nil {
		return fmt.Errorf("close %s: %w", f.name, err)
	}
	return nil
}
