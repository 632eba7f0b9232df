//go:build !unix

package ingest

import (
	"fmt"
	"os"
)

// localFile is an *os.File where there are no bare descriptors to read.
type localFile struct {
	*os.File
	name string
}

func openLocal(name string) (*localFile, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	return &localFile{File: f, name: name}, nil
}
