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
