package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/sqlstore"
)

// inspector looks into a database through a pool of its own.
type inspector struct {
	db      *sql.DB
	dialect sqlstore.Dialect
}

// versions returns the rows of <prefix>schema_version.
func (in inspector) versions(t *testing.T, prefix string) []int {
	t.Helper()
	rows, err := in.db.Query("SELECT version FROM " + prefix + "schema_version ORDER BY version")
	must(t, err)
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		must(t, rows.Scan(&v))
		vs = append(vs, v)
	}
	must(t, rows.Err())
	return vs
}

// names returns the tables and indexes whose names start with prefix
// (every one when prefix is empty, PostgreSQL's primary-key indexes
// aside).
func (in inspector) names(t *testing.T, prefix string) []string {
	t.Helper()
	var q string
	switch in.dialect {
	case sqlstore.SQLite:
		q = `SELECT name FROM sqlite_master WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%'`
	case sqlstore.Postgres:
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()
			UNION ALL SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname NOT LIKE '%_pkey'`
	}
	rows, err := in.db.Query(q)
	must(t, err)
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		must(t, rows.Scan(&n))
		if strings.HasPrefix(n, prefix) {
			names = append(names, n)
		}
	}
	must(t, rows.Err())
	slices.Sort(names)
	return names
}

// schemaNames are the tables and indexes of the schema, without prefix.
var schemaNames = []string{
	"app_passwords", "app_passwords_account_idx", "app_passwords_digest_idx", "app_passwords_id_idx", "app_passwords_label_idx",
	"devices", "devices_account_idx", "devices_page_idx", "devices_pending_idx", "locks", "recovery_codes", "schema_version", "throttles",
}

func withPrefix(prefix string) []string {
	var ns []string
	for _, n := range schemaNames {
		ns = append(ns, prefix+n)
	}
	slices.Sort(ns)
	return ns
}

// allVersions is 1 ... SchemaVersion: one schema_version row per migration.
func allVersions() []int {
	var vs []int
	for v := 1; v <= sqlstore.SchemaVersion; v++ {
		vs = append(vs, v)
	}
	return vs
}

// TestMigrateUpgrade brings a database at version 1 (built from the
// migration file itself) up to date, keeping its data.
func TestMigrateUpgrade(t *testing.T) {
	for _, b := range fileAndPG() {
		t.Run(b.name, func(t *testing.T) {
			dbs, prefix := b.dbs(t, 1)
			db := dbs[0]
			src, err := os.ReadFile(filepath.Join("migrations", b.dialect.String(), "0001_init.sql"))
			must(t, err)
			ctx := context.Background()
			for stmt := range strings.SplitSeq(string(src), ";\n") {
				var lines []string
				for line := range strings.Lines(stmt) {
					if !strings.HasPrefix(line, "--") {
						lines = append(lines, line)
					}
				}
				if stmt := strings.TrimSpace(strings.Join(lines, "")); stmt != "" {
					_, err := db.ExecContext(ctx, strings.ReplaceAll(strings.TrimSuffix(stmt, ";"), "{{prefix}}", prefix))
					must(t, err)
				}
			}
			_, err = db.ExecContext(ctx, "CREATE TABLE "+prefix+"schema_version (version INTEGER NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)")
			must(t, err)
			_, err = db.ExecContext(ctx, "INSERT INTO "+prefix+"schema_version (version, applied_at) VALUES (1, 0)")
			must(t, err)

			s, err := sqlstore.New(db, b.dialect, sqlstore.Options{TablePrefix: prefix})
			must(t, err)
			// A device as the store wrote it at version 1 (times in two
			// columns; counter 7 stored as 7 XOR 2^63).
			_, err = db.ExecContext(ctx, `INSERT INTO `+prefix+`devices (id, account, label, otp_type, algorithm, digits,
				period_ns, sealed, state, counter, drift, resync_step, resync_drift, attempts,
				created_at, created_at_ns, expires_at, expires_at_ns, confirmed_at, confirmed_at_ns, last_used_at, last_used_at_ns)
				VALUES ('c1', 'alice', 'phone', 2, 1, 6, 30000000000, 'x', 2, -9223372036854775801, 0, -9223372036854775807, 0, 0,
				1956035289, 123456789, -62135596800, 0, 1956035289, 123456789, -62135596800, 0)`)
			must(t, err)
			if err := s.InsertAppPassword(ctx, appPassword("alice", "a1"), 5); err == nil {
				t.Error("app password stored before the migration that creates its table")
			}
			must(t, s.Migrate(ctx))
			in := inspector{db, b.dialect}
			if vs := in.versions(t, prefix); !slices.Equal(vs, allVersions()) {
				t.Errorf("schema_version rows %v, want %v", vs, allVersions())
			}
			if got, want := in.names(t, prefix), withPrefix(prefix); !slices.Equal(got, want) {
				t.Errorf("tables and indexes %v, want %v", got, want)
			}
			if d, err := s.Device(ctx, "alice", "c1"); err != nil || d.Counter != 7 {
				t.Errorf("device after the upgrade: %+v, %v", d, err)
			}
			must(t, s.InsertAppPassword(ctx, appPassword("alice", "a1"), 5))
		})
	}
}

func fileAndPG() []backend { return []backend{sqliteFile(), postgres()} }

func TestMigrateIdempotent(t *testing.T) {
	for _, b := range fileAndPG() {
		t.Run(b.name, func(t *testing.T) {
			dbs, prefix := b.dbs(t, 1)
			db := dbs[0]
			s, err := sqlstore.New(db, b.dialect, sqlstore.Options{TablePrefix: prefix})
			must(t, err)
			ctx := context.Background()
			for range 3 {
				must(t, s.Migrate(ctx))
			}
			in := inspector{db, b.dialect}
			if vs := in.versions(t, prefix); !slices.Equal(vs, allVersions()) {
				t.Errorf("schema_version rows %v, want %v", vs, allVersions())
			}
			// Data survives a further Migrate.
			must(t, s.InsertDevice(ctx, confirmed("alice", "c1", 3), 5, t0))
			must(t, s.Migrate(ctx))
			if _, err := s.Device(ctx, "alice", "c1"); err != nil {
				t.Errorf("device lost by Migrate: %v", err)
			}
		})
	}
}

// TestMigrateConcurrent starts Migrate on a fresh database from several
// pools at once, as replicas starting together do.
func TestMigrateConcurrent(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		for round := range 10 {
			dbs, prefix := b.dbs(t, 4)
			goAll(len(dbs), func(i int) {
				s, err := sqlstore.New(dbs[i], b.dialect, sqlstore.Options{TablePrefix: prefix})
				if err == nil {
					err = s.Migrate(context.Background())
				}
				if err != nil {
					t.Errorf("round %d: concurrent Migrate %d: %v", round, i, err)
				}
			})
			in := inspector{dbs[1], b.dialect}
			if vs := in.versions(t, prefix); !slices.Equal(vs, allVersions()) {
				t.Errorf("round %d: schema_version rows %v, want %v", round, vs, allVersions())
			}
			if got, want := in.names(t, prefix), withPrefix(prefix); !slices.Equal(got, want) {
				t.Errorf("round %d: tables and indexes %v, want %v", round, got, want)
			}
		}
	})
}

func TestTablePrefix(t *testing.T) {
	for _, b := range fileAndPG() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			dbs, base := b.dbs(t, 1)
			db := dbs[0]
			in := inspector{db, b.dialect}
			if b.dialect == sqlstore.SQLite {
				base = "app_2fa_"
			}
			p1, p2 := base+"one_", base+"two_"
			if dsn := os.Getenv(pgEnv); b.dialect == sqlstore.Postgres {
				dropPG(t, dsn, p1)
				dropPG(t, dsn, p2)
			}
			s1, err := sqlstore.New(db, b.dialect, sqlstore.Options{TablePrefix: p1})
			must(t, err)
			s2, err := sqlstore.New(db, b.dialect, sqlstore.Options{TablePrefix: p2})
			must(t, err)
			must(t, s1.Migrate(ctx))
			if got, want := in.names(t, base), withPrefix(p1); !slices.Equal(got, want) {
				t.Errorf("after migrating %q: tables and indexes %v, want %v", p1, got, want)
			}
			if b.dialect == sqlstore.SQLite {
				if got, want := in.names(t, ""), withPrefix(p1); !slices.Equal(got, want) {
					t.Errorf("names outside the prefix: %v, want only %v", got, want)
				}
			}
			must(t, s2.Migrate(ctx))
			if got, want := in.names(t, base), append(withPrefix(p1), withPrefix(p2)...); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
				t.Errorf("after migrating %q too: %v", p2, got)
			}
			// The two stores are independent.
			must(t, s1.InsertDevice(ctx, confirmed("alice", "c1", 0), 1, t0))
			must(t, s2.InsertDevice(ctx, confirmed("alice", "c1", 0), 1, t0))
			if _, _, err := s2.DeleteDevice(ctx, "alice", "c1"); err != nil {
				t.Fatal(err)
			}
			if _, err := s1.Device(ctx, "alice", "c1"); err != nil {
				t.Errorf("store %q lost a device deleted through store %q: %v", p1, p2, err)
			}
			if s1.TablePrefix() != p1 || s1.Dialect() != b.dialect {
				t.Errorf("TablePrefix %q Dialect %v", s1.TablePrefix(), s1.Dialect())
			}
		})
	}
}

func TestDefaultPrefix(t *testing.T) {
	db := openDB(t, "sqlite", sqliteDSN(t.TempDir()+"/twofa.db"))
	s, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.Options{})
	must(t, err)
	must(t, s.Migrate(context.Background()))
	if got, want := (inspector{db, sqlstore.SQLite}).names(t, ""), withPrefix(sqlstore.DefaultTablePrefix); !slices.Equal(got, want) {
		t.Errorf("tables %v, want %v", got, want)
	}
}

func TestNewRefuses(t *testing.T) {
	db := openDB(t, "sqlite", ":memory:")
	for _, prefix := range []string{
		"Twofa_", "1twofa_", "two-fa_", "two fa", "twofa.", `a"b`, "a;drop table x;", "é_", "twofa_\n",
		strings.Repeat("a", 32),
	} {
		if _, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.Options{TablePrefix: prefix}); !errors.Is(err, twofa.ErrInvalidOptions) {
			t.Errorf("prefix %q: err = %v, want ErrInvalidOptions", prefix, err)
		}
	}
	for _, prefix := range []string{"a", "_", "x1_", strings.Repeat("a", 31), "a_b_c_"} {
		if _, err := sqlstore.New(db, sqlstore.Postgres, sqlstore.Options{TablePrefix: prefix}); err != nil {
			t.Errorf("prefix %q refused: %v", prefix, err)
		}
	}
	if _, err := sqlstore.New(nil, sqlstore.SQLite, sqlstore.Options{}); !errors.Is(err, twofa.ErrInvalidOptions) {
		t.Errorf("nil db: err = %v", err)
	}
	for _, d := range []sqlstore.Dialect{0, 3} {
		if _, err := sqlstore.New(db, d, sqlstore.Options{}); !errors.Is(err, twofa.ErrInvalidOptions) {
			t.Errorf("dialect %v: err = %v", d, err)
		}
	}
}

func TestMigrateNewerSchema(t *testing.T) {
	for _, b := range fileAndPG() {
		t.Run(b.name, func(t *testing.T) {
			dbs, prefix := b.dbs(t, 1)
			db := dbs[0]
			s := newStore(t, db, b.dialect, prefix)
			if _, err := db.Exec("INSERT INTO " + prefix + "schema_version (version, applied_at) VALUES (99, 0)"); err != nil {
				t.Fatal(err)
			}
			err := s.Migrate(context.Background())
			if err == nil || !strings.Contains(err.Error(), "newer") {
				t.Errorf("Migrate of a newer schema: %v, want an error", err)
			}
		})
	}
}
