package ingest

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Local is a Source over a local directory tree (walked for the AWSLogs
// layout) or a single file.
type Local struct {
	Path string
}

func (l *Local) String() string { return l.Path }

// List walks the tree in lexical order. Symbolic links are not followed, so a
// link loop cannot trap the walk; a link named directly on the command line
// is followed, and the files keep the path as named. Only *.json and
// *.json.gz files are sent; other files are not CloudTrail output. A
// directory holding no such file at all is an error, as an S3 prefix with
// no AWSLogs/ folder is: a mistyped path must not read as a clean trail.
func (l *Local) List(ctx context.Context, f *Filter, out chan<- FileRef) error {
	root, err := filepath.Abs(l.Path)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", l.Path, err)
	}
	st, err := os.Stat(root)
	if err != nil {
		return fmt.Errorf("open source %s: %w", l.Path, err)
	}
	if !st.IsDir() {
		ref := localRef(root, st)
		ref.Explicit = true
		select {
		case out <- ref:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	}
	// WalkDir does not descend into a root that is a symbolic link (it
	// reported no file at all); with a trailing separator the kernel
	// resolves the link, and the paths under it still start with root.
	walkRoot := root
	if lst, err := os.Lstat(root); err == nil && lst.Mode()&fs.ModeSymlink != 0 {
		walkRoot = root + string(filepath.Separator)
	}
	found := false
	err = filepath.WalkDir(walkRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walk %s: %w", p, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return nil // symlinks, sockets, devices: never followed
		}
		name := d.Name()
		if !strings.HasSuffix(name, ".json.gz") && !strings.HasSuffix(name, ".json") {
			return nil
		}
		found = true
		ki := ParseKey(filepath.ToSlash(p))
		if !f.WantKey(ki) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("stat %s: %w", p, err)
		}
		ref := localRefKey(p, ki, info)
		ref.Loose = !ki.InLayout && ki.AccountID == ""
		select {
		case out <- ref:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	})
	if err == nil && !found {
		return fmt.Errorf("no CloudTrail log files (*.json.gz, *.json) under %s", l.Path)
	}
	return err
}

func localRef(p string, info fs.FileInfo) FileRef {
	return localRefKey(p, ParseKey(filepath.ToSlash(p)), info)
}

func localRefKey(p string, ki KeyInfo, info fs.FileInfo) FileRef {
	return FileRef{
		Source:  p,
		Key:     ki,
		Size:    info.Size(),
		ETag:    strconv.FormatInt(info.Size(), 10) + "-" + strconv.FormatInt(info.ModTime().UnixNano(), 10),
		ModTime: info.ModTime().UTC(),
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			fh, err := openLocal(p)
			if err != nil {
				return nil, err
			}
			if ki.Kind == KindDigest {
				return &localDigest{fh}, nil
			}
			return fh, nil
		},
	}
}

// localDigest is an open local digest file. The signature of a digest lives
// in S3 object metadata; a local copy carries it in a sidecar file next to
// it (docs/integrity.md), read only when the digest is validated, not when
// the tree is listed.
type localDigest struct{ *localFile }

// Signature implements SignatureReader.
func (f *localDigest) Signature() string {
	// A signature is 512 hex digits for RSA-2048 (1,024 for RSA-4096); a
	// larger sidecar is not one, and verifying it fails as "invalid".
	var buf [4096]byte
	sf, err := openLocal(f.name + ".sig")
	if err != nil {
		return ""
	}
	defer sf.Close()
	n, err := io.ReadFull(sf, buf[:])
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return ""
	}
	return strings.TrimSpace(string(buf[:n]))
}
