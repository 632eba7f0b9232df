package s3test

import (
	"context"
	"strings"
	"testing"

	"github.com/rootaudit/rootaudit/query"
)

// EventsDigest returns the number of rows of the events table and an MD5
// over every column but source_file, rows ordered by event_id: two
// databases with the same digest hold the same events whatever the files
// were called.
func EventsDigest(t testing.TB, dbPath string) (rows int, digest string) {
	t.Helper()
	ctx := context.Background()
	db := openRO(t, dbPath)
	defer db.Close()
	err := db.QueryRowContext(ctx, `SELECT count(*), coalesce(md5(string_agg(CAST(t AS VARCHAR), chr(10) ORDER BY t.event_id)), '')
		FROM (SELECT * EXCLUDE (source_file) FROM events) t`).Scan(&rows, &digest)
	if err != nil {
		t.Fatalf("digest events of %s: %v", dbPath, err)
	}
	return rows, digest
}

// FileStatuses returns ingested_files as source → status, only the rows of
// the given kinds ("log", "digest", …) when there are any.
func FileStatuses(t testing.TB, dbPath string, kinds ...string) map[string]string {
	t.Helper()
	ctx := context.Background()
	db := openRO(t, dbPath)
	defer db.Close()
	q, args := `SELECT source, status FROM ingested_files`, []any{}
	if len(kinds) > 0 {
		q += ` WHERE kind IN (?` + strings.Repeat(`, ?`, len(kinds)-1) + `)`
		for _, k := range kinds {
			args = append(args, k)
		}
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var s, st string
		if err := rows.Scan(&s, &st); err != nil {
			t.Fatal(err)
		}
		out[s] = st
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// openRO opens the database at dbPath read-only or fails the test.
func openRO(t testing.TB, dbPath string) *query.DB {
	t.Helper()
	db, err := query.Open(context.Background(), dbPath, true)
	if err != nil {
		t.Fatalf("open %s: %v", dbPath, err)
	}
	return db
}
