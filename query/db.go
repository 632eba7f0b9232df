// Package query owns the DuckDB side of rootaudit: the schema and its
// migrations, the single writer that loads decoded files, and the named SQL
// queries behind every report. All SQL lives in embedded .sql files.
//
// Every timestamp column is TIMESTAMP holding UTC (never local time).
package query

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2" // also registers the "duckdb" driver
)

//go:embed schema/*.sql
var schemaFS embed.FS

// ErrBusy means another process holds the database: DuckDB lets one
// process write, or several read, so the other one may be an ingest or,
// when this one needs to write, a reader.
var ErrBusy = errors.New("database is busy: another process has it open (an ingest, or a report while this command needs to write); wait for it to finish")

// ErrNoDatabase means a read command was pointed at a file that does not
// exist.
var ErrNoDatabase = errors.New("no database")

// ErrBadPath means the database path cannot be used (it holds a '?').
var ErrBadPath = errors.New("a database path must not contain '?'")

// ErrNewerSchema means the file was written by a newer rootaudit.
var ErrNewerSchema = errors.New("database schema is newer than this rootaudit")

// DB is an open rootaudit database.
type DB struct {
	*sql.DB
	Path     string
	ReadOnly bool
}

// readerDSN is the connection string of a read-only open. Extension
// autoinstall and autoload are off so that DuckDB never reaches the
// network; json, parquet and icu are built into the library. Writers go
// through openWriter.
func readerDSN(path string) string {
	q := offlineSettings()
	q.Set("access_mode", "read_only")
	return path + "?" + q.Encode()
}

// offlineSettings are the DuckDB settings of every open.
func offlineSettings() url.Values {
	q := url.Values{}
	q.Set("autoinstall_known_extensions", "false")
	q.Set("autoload_known_extensions", "false")
	return q
}

// Open opens (and for writers creates) the database at path and brings its
// schema up to date. A read-only open of an older schema briefly opens the
// file for writing to migrate it, then reopens it read-only.
func Open(ctx context.Context, path string, readOnly bool) (*DB, error) {
	if path == "" {
		return nil, errors.New("open database: empty path")
	}
	if strings.ContainsRune(path, '?') {
		// DuckDB reads what follows a '?' in a read-only open's connection
		// string as settings: such a file could be written but never read.
		return nil, fmt.Errorf("open database %s: %w", path, ErrBadPath)
	}
	if readOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("%w at %s: run `rootaudit ingest` first (or pass --db)", ErrNoDatabase, path)
		}
	}
	db, err := open(ctx, path, readOnly)
	if err != nil {
		return nil, err
	}
	v, err := db.version(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	latest := LatestSchema()
	switch {
	case v > latest:
		db.Close()
		return nil, fmt.Errorf("%w: %s has schema version %d, this rootaudit knows up to %d; upgrade rootaudit", ErrNewerSchema, path, v, latest)
	case v < latest && readOnly:
		db.Close()
		w, err := open(ctx, path, false)
		if err != nil {
			return nil, err
		}
		if err := w.migrate(ctx); err != nil {
			w.Close()
			return nil, err
		}
		w.Close()
		return open(ctx, path, true)
	case v < latest:
		if err := db.migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// writerRowGroup is the row group size of the tables a writer appends to
// (DuckDB's default is 122,880 rows). Every checkpoint during an ingest
// rewrites each table's open row group whole, strings recompressed, and
// the memory that takes grows with the group's rows: with the default, a
// plain ingest peaked at 125-145 MB at 1.26 GB of trail, 172-204 MB at
// 4.3 GB and 192-214 MB at 8 GB; with 32,768 rows, at 134-147, 157-179
// and 168-185 MB, and large ingests ran 5-10% faster (docs/performance.md,
// "Memory"). 16,384 rows was worse than 32,768 at both sizes measured.
const writerRowGroup = 32768

func open(ctx context.Context, path string, readOnly bool) (*DB, error) {
	var sdb *sql.DB
	var err error
	if readOnly {
		sdb, err = sql.Open("duckdb", readerDSN(path))
	} else {
		sdb, err = openWriter(path)
	}
	if err == nil {
		err = sdb.PingContext(ctx)
	}
	if err == nil {
		// Times are UTC everywhere: Go passes time.Time parameters as
		// TIMESTAMPTZ, and without this a cast to DATE or TIMESTAMP would
		// use the machine's time zone.
		_, err = sdb.ExecContext(ctx, "SET GLOBAL TimeZone = 'UTC'")
	}
	if err != nil {
		if sdb != nil {
			sdb.Close()
		}
		return nil, classifyOpenError(path, err)
	}
	return &DB{DB: sdb, Path: path, ReadOnly: readOnly}, nil
}

// writerCatalog is the name a writer's connections know the database by.
const writerCatalog = "rootaudit"

// openWriter opens the file for writing, with the same settings as
// readerDSN. The row group size is an option of ATTACH only, so the file is
// attached to an in-memory DuckDB instance and made every connection's
// default database; it takes the same exclusive lock as opening the file
// directly. DuckDB's spill files go where they would for a file opened
// directly (path + ".tmp"), not into the working directory.
func openWriter(path string) (*sql.DB, error) {
	q := offlineSettings()
	q.Set("temp_directory", path+".tmp")
	quoted := "'" + strings.ReplaceAll(path, "'", "''") + "'"
	init := []string{
		fmt.Sprintf("ATTACH IF NOT EXISTS %s AS %s (ROW_GROUP_SIZE %d)", quoted, writerCatalog, writerRowGroup),
		"USE " + writerCatalog,
	}
	c, err := duckdb.NewConnector(":memory:?"+q.Encode(), func(ex driver.ExecerContext) error {
		for _, s := range init {
			if _, err := ex.ExecContext(context.Background(), s, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}

// classifyOpenError turns DuckDB's lock and format messages into errors a
// user can act on.
func classifyOpenError(path string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "Could not set lock"), strings.Contains(msg, "Conflicting lock"):
		return fmt.Errorf("open %s: %w", path, ErrBusy)
	case strings.Contains(msg, "not a valid DuckDB database"), strings.Contains(msg, "Invalid Input Error: The file"):
		return fmt.Errorf("open %s: not a rootaudit (DuckDB) database: %w", path, err)
	}
	return fmt.Errorf("open database %s: %w", path, err)
}

// migration is one embedded schema file, NNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

func migrations() []migration {
	ents, err := fs.ReadDir(schemaFS, "schema")
	if err != nil {
		panic(err) // embedded at build time: cannot fail
	}
	var ms []migration
	for _, e := range ents {
		n, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(n)
		if !ok || err != nil {
			continue
		}
		b, _ := schemaFS.ReadFile("schema/" + e.Name())
		ms = append(ms, migration{v, e.Name(), string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms
}

// LatestSchema is the schema version this build writes.
func LatestSchema() int {
	ms := migrations()
	return ms[len(ms)-1].version
}

// version returns the applied schema version, 0 for an empty database.
func (db *DB) version(ctx context.Context) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read schema version of %s: %w", db.Path, err)
	}
	if n == 0 {
		return 0, nil
	}
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version of %s: %w", db.Path, err)
	}
	return int(v.Int64), nil
}

// SchemaVersion returns the applied schema version.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) { return db.version(ctx) }

// migrate applies every migration newer than the database, each in its own
// transaction with its schema_migrations row.
func (db *DB) migrate(ctx context.Context) error {
	cur, err := db.version(ctx)
	if err != nil {
		return err
	}
	for _, m := range migrations() {
		if m.version <= cur {
			continue
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate %s to %s: %w", db.Path, m.name, err)
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s to %s: %w", db.Path, m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, ?, ?)`, m.version, m.name, time.Now().UTC()); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s to %s: record version: %w", db.Path, m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate %s to %s: commit: %w", db.Path, m.name, err)
		}
	}
	return nil
}
