package query

import (
	"cmp"
	"context"
	"crypto/md5"
	"database/sql"
	_ "embed"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"
)

//go:embed sql/checkpoints_page.sql
var checkpointsPageSQL string

//go:embed sql/checkpoints_count.sql
var checkpointsCountSQL string

// checkpointPage is the number of rowids read per query while loading the
// checkpoints: DuckDB materializes a result whole before the first row is
// read, so one query over tens of millions of rows would hold them all.
const checkpointPage = 65536

// checkpoint is one stored file as the loader remembers it: 16 bytes.
type checkpoint struct {
	// src is the first 8 bytes of the MD5 of the file's source name,
	// little-endian (DuckDB's md5_number_upper).
	src uint64
	// etag is the last 8 bytes of the MD5 of its ETag (md5_number_lower),
	// with the lowest bit replaced by whether the file is done.
	etag uint64
}

// checkpointSet holds the checkpoints stored by earlier runs (within the
// days a run can list) in 16 bytes a file, sorted, with an index on the top
// 16 bits of the source hash so a lookup searches about n/65536 entries. It
// was two Go maps keyed by source (40-85 bytes a file live, and the paths
// themselves passed through Go and DuckDB's materialized result while
// loading: a rerun over the 8 GB bench trail's 303,874 files peaked at
// 221 MB). It is built once and read-only afterwards: the lister and the
// writer read it concurrently.
//
// A 64-bit source hash can collide; a collision only matters when the ETag
// hashes match too (a new file would be taken for done), which is two
// independent 64-bit coincidences. For deciding whether old rows must be
// deleted, a collision costs a DELETE that finds nothing.
type checkpointSet struct {
	entries []checkpoint
	index   []uint32 // len 65537: entries[index[b]:index[b+1]] have top bits b
}

func srcHash(source string) uint64 {
	sum := md5.Sum([]byte(source))
	return binary.LittleEndian.Uint64(sum[:8])
}

func etagHash(etag string, done bool) uint64 {
	sum := md5.Sum([]byte(etag))
	h := binary.LittleEndian.Uint64(sum[8:]) &^ 1
	if done {
		h |= 1
	}
	return h
}

// find returns the checkpoint stored for a source hash.
func (s *checkpointSet) find(src uint64) (checkpoint, bool) {
	if len(s.entries) == 0 {
		return checkpoint{}, false
	}
	b := src >> 48
	part := s.entries[s.index[b]:s.index[b+1]]
	i, ok := slices.BinarySearchFunc(part, src, func(c checkpoint, k uint64) int { return cmp.Compare(c.src, k) })
	if !ok {
		return checkpoint{}, false
	}
	return part[i], true
}

// done reports whether the source is stored, done, with this ETag.
func (s *checkpointSet) done(source, etag string) bool {
	c, ok := s.find(srcHash(source))
	return ok && c.etag == etagHash(etag, true)
}

// stored reports whether the source has rows (done or not).
func (s *checkpointSet) stored(source string) bool {
	_, ok := s.find(srcHash(source))
	return ok
}

// build sorts the entries and indexes them.
func (s *checkpointSet) build() {
	slices.SortFunc(s.entries, func(a, b checkpoint) int { return cmp.Compare(a.src, b.src) })
	s.index = make([]uint32, 1<<16+1)
	j := 0
	for b := 0; b <= 1<<16; b++ {
		for j < len(s.entries) && int(s.entries[j].src>>48) < b {
			j++
		}
		s.index[b] = uint32(j)
	}
}

// loadCheckpoints reads the checkpoints of files delivered between from and
// to (and of files with no delivery day), page by page.
func loadCheckpoints(ctx context.Context, conn *sql.Conn, validate bool, from, to time.Time) (*checkpointSet, error) {
	var maxRow sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT max(rowid) FROM ingested_files`).Scan(&maxRow); err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	var n int64
	if err := conn.QueryRowContext(ctx, checkpointsCountSQL, from.Format("2006-01-02"), to.Format("2006-01-02")).Scan(&n); err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	// Allocated once: growing by appends would briefly hold the old and
	// the new array (up to twice the set) at tens of millions of files.
	s := &checkpointSet{entries: make([]checkpoint, 0, n)}
	for lo := int64(0); maxRow.Valid && lo <= maxRow.Int64; lo += checkpointPage {
		rows, err := conn.QueryContext(ctx, checkpointsPageSQL, lo, lo+checkpointPage,
			from.Format("2006-01-02"), to.Format("2006-01-02"), validate, nil)
		if err != nil {
			return nil, fmt.Errorf("read checkpoints: %w", err)
		}
		for rows.Next() {
			c, err := scanCheckpoint(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("read checkpoints: %w", err)
			}
			s.entries = append(s.entries, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read checkpoints: %w", err)
		}
	}
	s.entries = slices.Clip(s.entries)
	s.build()
	return s, nil
}

// scanCheckpoint reads one row of checkpoints_page.sql.
func scanCheckpoint(row interface{ Scan(...any) error }) (checkpoint, error) {
	var c checkpoint
	var done bool
	if err := row.Scan(&c.src, &c.etag, &done); err != nil {
		return c, err
	}
	c.etag &^= 1
	if done {
		c.etag |= 1
	}
	return c, nil
}

// lookupCheckpoint reads the checkpoint of one file from the database,
// for a file outside the days loaded.
func lookupCheckpoint(ctx context.Context, db *sql.DB, validate bool, source string) (checkpoint, bool, error) {
	c, err := scanCheckpoint(db.QueryRowContext(ctx, checkpointsPageSQL, 0, int64(math.MaxInt64),
		"0001-01-01", "9999-12-31", validate, source))
	if err == sql.ErrNoRows {
		return c, false, nil
	}
	return c, err == nil, err
}
