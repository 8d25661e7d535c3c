package sqlstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// migrationFS holds the schema, one directory per dialect, one file per
// version: NNNN_name.sql, statements separated by ";" at the end of a line,
// {{prefix}} standing for the table prefix.
//
//go:embed migrations
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	stmts   []string
}

// migrations returns the dialect's migrations in version order.
func migrations(d Dialect) ([]migration, error) {
	dir := path.Join("migrations", d.String())
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("bad migration file name %q", e.Name())
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), stmts: splitStatements(string(b))})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: want version %d", m.name, i+1)
		}
	}
	return ms, nil
}

// splitStatements splits a migration at each ";" that ends a line, after
// dropping "--" comment lines. (The schema has no string literals that
// could hold either.)
func splitStatements(src string) []string {
	var b strings.Builder
	for line := range strings.Lines(src) {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		b.WriteString(line)
	}
	var stmts []string
	for stmt := range strings.SplitSeq(b.String(), ";\n") {
		if stmt = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(stmt), ";")); stmt != "" {
			stmts = append(stmts, stmt)
		}
	}
	return stmts
}

// SchemaVersion is the schema version this package creates and
// understands, the number of its migrations; Migrate brings a database up
// to it. It is counted from the embedded migration files (so that adding
// one needs no other edit), and is the same for every dialect.
var SchemaVersion = countMigrations()

func countMigrations() int {
	ms, err := migrations(SQLite)
	if err != nil {
		panic("sqlstore: embedded migrations: " + err.Error())
	}
	return len(ms)
}

// Migrate creates the store's tables, or updates them to SchemaVersion,
// and records each applied version in the <prefix>schema_version table. It
// is idempotent, and safe when several processes call it at once: all of
// it runs in one transaction that first takes the store's migration lock
// (BEGIN IMMEDIATE in SQLite; pg_advisory_xact_lock in PostgreSQL, whose
// DDL is transactional too), so one caller migrates, the others wait and
// then find nothing to do. A failed migration leaves the schema as it was.
// A database whose schema is newer than this package's is an error.
//
// SQLite: a connection opened on a new database file while another one
// turns it to WAL mode (the journal_mode pragma of the DSN) can fail at
// once with SQLITE_BUSY, without waiting for the busy timeout. Processes
// starting together on a new file meet exactly this, so Migrate retries
// while SQLite reports the database busy, for up to busyRetry (or until
// ctx ends).
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := migrations(s.dialect)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	deadline := time.Now().Add(busyRetry)
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		err = s.migrate(ctx, ms)
		if s.dialect != SQLite || !isBusy(err) || time.Now().After(deadline) {
			return wrap("migrate", err)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return wrap("migrate", err)
		}
	}
}

// busyRetry bounds how long Migrate retries on SQLITE_BUSY.
const busyRetry = 10 * time.Second

// isBusy reports whether err is SQLite's SQLITE_BUSY (primary code 5).
func isBusy(err error) bool {
	if err == nil {
		return false
	}
	var lite interface{ Code() int }
	if errors.As(err, &lite) {
		return lite.Code()&0xff == 5
	}
	return strings.Contains(err.Error(), "SQLITE_BUSY") || strings.Contains(err.Error(), "database is locked")
}

func (s *Store) migrate(ctx context.Context, ms []migration) error {
	return s.inTx(ctx, lockSchema, "", func(q querier) error {
		if _, err := q.ExecContext(ctx, s.q.createSchemaVersion); err != nil {
			return err
		}
		var current int
		if err := q.QueryRowContext(ctx, s.q.schemaVersion).Scan(&current); err != nil {
			return err
		}
		if current > len(ms) {
			return fmt.Errorf("database schema version %d is newer than this package's (%d)", current, len(ms))
		}
		for _, m := range ms[current:] {
			for _, stmt := range m.stmts {
				if _, err := q.ExecContext(ctx, s.sql(stmt)); err != nil {
					return fmt.Errorf("%s: %w", m.name, err)
				}
			}
			if _, err := q.ExecContext(ctx, s.q.insertSchemaVersion, m.version, time.Now().UnixNano()); err != nil {
				return err
			}
		}
		return nil
	})
}
