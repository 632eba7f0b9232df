package query

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestNoNetworkFromDuckDB checks that the database never reaches the
// network: extension autoinstall and autoload are off, so a remote URL
// fails at once for want of httpfs instead of downloading it.
func TestNoNetworkFromDuckDB(t *testing.T) {
	db := openTemp(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, q := range []string{
		`SELECT * FROM read_json('https://example.com/x.json')`,
		`INSTALL httpfs`,
		`LOAD httpfs`,
	} {
		start := time.Now()
		_, err := db.ExecContext(ctx, q)
		if err == nil {
			t.Errorf("%s: succeeded", q)
			continue
		}
		if time.Since(start) > 3*time.Second {
			t.Errorf("%s: took %s (a network attempt?)", q, time.Since(start))
		}
		msg := strings.ToLower(err.Error())
		if !strings.Contains(msg, "httpfs") && !strings.Contains(msg, "extension") && !strings.Contains(msg, "autoload") && !strings.Contains(msg, "autoinstall") && !strings.Contains(msg, "not found") {
			t.Errorf("%s: unexpected error %v", q, err)
		}
	}
}

// TestSessionsAreUTC: whatever the machine's zone, every connection works
// in UTC (time.Time parameters arrive as TIMESTAMPTZ; casts must not shift).
func TestSessionsAreUTC(t *testing.T) {
	t.Setenv("TZ", "America/New_York")
	db := openTemp(t)
	for i := 0; i < 3; i++ { // several pooled connections
		var tz string
		var day string
		ts := time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC)
		if err := db.QueryRow(`SELECT current_setting('TimeZone'), CAST(CAST($1 AS DATE) AS VARCHAR)`, ts).Scan(&tz, &day); err != nil {
			t.Fatal(err)
		}
		if tz != "UTC" || day != "2026-01-05" {
			t.Fatalf("TimeZone %q, 02:00 UTC cast to date %s", tz, day)
		}
	}
}
