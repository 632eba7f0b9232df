// Command benchfloor measures the decompression floor T of `make bench`:
// the time to gunzip every .json.gz log file under a directory with the
// same gzip library and worker count as rootaudit, doing nothing else.
package main

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
)

func main() {
	workers := flag.Int("workers", runtime.NumCPU(), "files decompressed at once")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: benchfloor [-workers N] DIR")
		os.Exit(2)
	}
	var files []string
	filepath.WalkDir(flag.Arg(0), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json.gz") && strings.Contains(p, "/CloudTrail/") {
			files = append(files, p)
		}
		return nil
	})
	start := time.Now()
	var total atomic.Int64
	ch := make(chan string, 64)
	var wg sync.WaitGroup
	for i := 0; i < *workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 256<<10)
			var zr gzip.Reader
			for p := range ch {
				f, err := os.Open(p)
				if err != nil {
					panic(err)
				}
				if err := zr.Reset(f); err != nil {
					panic(err)
				}
				for {
					n, err := zr.Read(buf)
					total.Add(int64(n))
					if err == io.EOF {
						break
					}
					if err != nil {
						panic(err)
					}
				}
				f.Close()
			}
		}()
	}
	for _, f := range files {
		ch <- f
	}
	close(ch)
	wg.Wait()
	el := time.Since(start)
	fmt.Printf("floor: %d files, %.1f MB, %.3fs, %.1f MB/s\n", len(files), float64(total.Load())/1e6, el.Seconds(), float64(total.Load())/1e6/el.Seconds())
}
