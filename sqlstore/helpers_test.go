package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/twofa-go/twofa/sqlstore"
)

// pgEnv names the environment variable that enables the PostgreSQL tests.
const pgEnv = "TWOFA_TEST_POSTGRES"

const pgSkip = "TWOFA_TEST_POSTGRES not set: skipping PostgreSQL tests (set it to a DSN, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)"

// sqliteDSN is the recommended DSN for a SQLite file.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
}

func openDB(tb testing.TB, driver, dsn string) *sql.DB {
	tb.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func newStore(tb testing.TB, db *sql.DB, d sqlstore.Dialect, prefix string) *sqlstore.Store {
	tb.Helper()
	s, err := sqlstore.New(db, d, sqlstore.Options{TablePrefix: prefix})
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return s
}

// backend opens stores on one kind of database. open gives a fresh,
// migrated, empty store; dbs opens n pools (n *sql.DB) on one fresh
// database and returns them with the table prefix to use there (its
// tables are dropped after the test).
type backend struct {
	name    string
	dialect sqlstore.Dialect
	open    func(tb testing.TB) *sqlstore.Store
	dbs     func(tb testing.TB, n int) ([]*sql.DB, string)
}

// pools returns stores, not yet migrated, on n pools on one fresh
// database.
func (b backend) pools(tb testing.TB, n int) []*sqlstore.Store {
	tb.Helper()
	dbs, prefix := b.dbs(tb, n)
	var ss []*sqlstore.Store
	for _, db := range dbs {
		s, err := sqlstore.New(db, b.dialect, sqlstore.Options{TablePrefix: prefix})
		if err != nil {
			tb.Fatal(err)
		}
		ss = append(ss, s)
	}
	return ss
}

var memSeq atomic.Int64

func sqliteFile() backend {
	return backend{
		name:    "sqlite-file",
		dialect: sqlstore.SQLite,
		open: func(tb testing.TB) *sqlstore.Store {
			db := openDB(tb, "sqlite", sqliteDSN(filepath.Join(tb.TempDir(), "twofa.db")))
			return newStore(tb, db, sqlstore.SQLite, "")
		},
		dbs: func(tb testing.TB, n int) ([]*sql.DB, string) {
			path := filepath.Join(tb.TempDir(), "twofa.db")
			var dbs []*sql.DB
			for range n {
				dbs = append(dbs, openDB(tb, "sqlite", sqliteDSN(path)))
			}
			return dbs, sqlstore.DefaultTablePrefix
		},
	}
}

// sqliteShared is a named in-memory database shared by a pool's
// connections (cache=shared).
func sqliteShared() backend {
	dsn := func() string {
		return fmt.Sprintf("file:twofa-mem-%d?mode=memory&cache=shared&_pragma=busy_timeout(10000)", memSeq.Add(1))
	}
	return backend{
		name:    "sqlite-memory-shared",
		dialect: sqlstore.SQLite,
		open: func(tb testing.TB) *sqlstore.Store {
			return newStore(tb, openDB(tb, "sqlite", dsn()), sqlstore.SQLite, "")
		},
		dbs: func(tb testing.TB, n int) ([]*sql.DB, string) {
			d := dsn()
			var dbs []*sql.DB
			for range n {
				dbs = append(dbs, openDB(tb, "sqlite", d))
			}
			return dbs, sqlstore.DefaultTablePrefix
		},
	}
}

// sqliteSingle is ":memory:" with a pool of one connection. It has no
// second pool on the same database.
func sqliteSingle() backend {
	return backend{
		name:    "sqlite-memory-single",
		dialect: sqlstore.SQLite,
		open: func(tb testing.TB) *sqlstore.Store {
			db := openDB(tb, "sqlite", ":memory:")
			db.SetMaxOpenConns(1)
			return newStore(tb, db, sqlstore.SQLite, "")
		},
	}
}

// pgDSN returns the PostgreSQL DSN, or skips the test.
func pgDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(pgEnv)
	if dsn == "" {
		tb.Skip(pgSkip)
	}
	return dsn
}

// randomPrefix returns a fresh table prefix, so that test runs sharing
// a PostgreSQL database do not collide.
func randomPrefix() string {
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("t%x_", b)
}

// openPG opens a pool with at most maxConns connections (PostgreSQL
// allows 100 by default).
func openPG(tb testing.TB, dsn string, maxConns int) *sql.DB {
	db := openDB(tb, "pgx", dsn)
	db.SetMaxOpenConns(maxConns)
	return db
}

// dropPG removes the tables of prefix once the test is over.
func dropPG(tb testing.TB, dsn, prefix string) {
	tb.Cleanup(func() {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			tb.Error(err)
			return
		}
		defer db.Close()
		for _, t := range []string{"devices", "throttles", "recovery_codes", "app_passwords", "phones", "challenges", "browsers", "locks", "signins", "schema_version"} {
			if _, err := db.Exec("DROP TABLE IF EXISTS " + prefix + t); err != nil {
				tb.Errorf("drop %s%s: %v", prefix, t, err)
			}
		}
	})
}

func postgres() backend {
	return backend{
		name:    "postgres",
		dialect: sqlstore.Postgres,
		open: func(tb testing.TB) *sqlstore.Store {
			dsn := pgDSN(tb)
			prefix := randomPrefix()
			dropPG(tb, dsn, prefix)
			return newStore(tb, openPG(tb, dsn, 10), sqlstore.Postgres, prefix)
		},
		dbs: func(tb testing.TB, n int) ([]*sql.DB, string) {
			dsn := pgDSN(tb)
			prefix := randomPrefix()
			dropPG(tb, dsn, prefix)
			var dbs []*sql.DB
			for range n {
				dbs = append(dbs, openPG(tb, dsn, 20))
			}
			return dbs, prefix
		},
	}
}

func backends() []backend {
	return []backend{sqliteFile(), sqliteShared(), sqliteSingle(), postgres()}
}

// forEach runs f once per backend, as subtests named after them.
func forEach(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

// forEachShared runs f on every backend that can open several pools on one
// database.
func forEachShared(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range backends() {
		if b.dbs == nil {
			continue
		}
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

// migrated opens n pools on one fresh database and migrates it.
func migrated(tb testing.TB, b backend, n int) []*sqlstore.Store {
	ss := b.pools(tb, n)
	if err := ss[0].Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return ss
}

// dropLeft keeps ConsumeRecoveryCode's answer and error.
func dropLeft(_ int, ok bool, err error) (bool, error) { return ok, err }
