// Package sqlstore implements every twofa store interface (twofa.Store) on
// database/sql, for SQLite and PostgreSQL. It imports no driver: open a
// *sql.DB with the driver of your choice, then
//
//	store, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.Options{})
//	...
//	err = store.Migrate(ctx) // creates or updates the tables; idempotent
//
// # Guarantees
//
// The atomic operations of the twofa.Store contracts are done by the
// database, never by a read-then-write in Go, so they hold across
// goroutines, connection pools and server replicas sharing one database:
//
//   - AdvanceCounter (the replay guard) and ConfirmDevice are one
//     conditional UPDATE each; the number of rows changed is the answer.
//   - ReserveAttempt (the throttle) is one upsert,
//     INSERT ... ON CONFLICT DO UPDATE ... WHERE until <= now RETURNING,
//     that computes the back-off of twofa.ThrottlePolicy.Delay in SQL.
//   - ConsumeRecoveryCode is one DELETE.
//   - InsertDevice (count, then insert), DeleteDevice (delete, then count)
//     and ReplaceRecoveryCodes run in one transaction: in SQLite one
//     that starts with BEGIN IMMEDIATE, in PostgreSQL one that first takes
//     a per-account pg_advisory_xact_lock. On any error, including a
//     cancelled context, the transaction rolls back.
//
// Errors wrap their cause; unique violations also match twofa.ErrDuplicate.
//
// # Schema
//
// Migrate applies the embedded, versioned migrations (migrations/sqlite,
// migrations/postgres) in one transaction and records them in
// <prefix>schema_version. The tables are <prefix>devices,
// <prefix>throttles and <prefix>recovery_codes, with the prefix "twofa_"
// unless Options.TablePrefix says otherwise. Times are stored as int64 Unix
// nanoseconds (0 for the zero time, so the instant 1970-01-01T00:00:00Z
// itself reads back as the zero time; times outside the years 1678 to 2262
// cannot be stored), durations as int64 nanoseconds, and uint64 counters
// as int64(v XOR 2^63), which keeps their order in SQL comparisons. No
// column holds a plaintext secret: devices keep the Keyring-sealed blob,
// recovery codes a keyed digest.
//
// # SQLite
//
// With the pure-Go driver modernc.org/sqlite, open a database file like
// this:
//
//	db, err := sql.Open("sqlite", "file:"+path+
//		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate")
//
// The busy timeout matters: without it, a writer that finds the database
// locked by another connection fails at once with SQLITE_BUSY instead of
// waiting its turn. WAL lets readers proceed while one connection writes.
// (_txlock=immediate makes the application's own db.BeginTx transactions
// take the write lock up front; sqlstore issues BEGIN IMMEDIATE itself
// whatever the DSN says.)
//
// An in-memory database (":memory:") is private to the connection that
// opened it, and database/sql keeps a pool of connections: each would see
// its own empty database. Either keep the pool at one connection, which
// also keeps that database alive,
//
//	db, err := sql.Open("sqlite", ":memory:")
//	db.SetMaxOpenConns(1)
//
// or share one named in-memory database among the pool's connections (it
// lives while at least one connection is open):
//
//	db, err := sql.Open("sqlite", "file:twofa?mode=memory&cache=shared&_pragma=busy_timeout(5000)")
//
// # PostgreSQL
//
// With github.com/jackc/pgx/v5/stdlib:
//
//	db, err := sql.Open("pgx", "postgres://user@host:5432/db")
//	store, err := sqlstore.New(db, sqlstore.Postgres, sqlstore.Options{})
//
// The tables are created in the connection's current schema (search_path).
// The store uses pg_advisory_xact_lock with the two-key form
// (hashtext('<prefix><table>'), hashtext(account)); applications that use
// advisory locks themselves should keep clear of that key space.
package sqlstore
