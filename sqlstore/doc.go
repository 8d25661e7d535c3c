// Package sqlstore implements every twofa store interface (twofa.Store,
// which is all of them) on database/sql, for SQLite and PostgreSQL. It
// imports no driver: open a *sql.DB with the driver of your choice, then
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
//   - ConfirmDevice is one conditional UPDATE; the number of rows changed
//     is the answer.
//   - AcceptCode is one transaction over the throttle and the device: it
//     reads the throttle row (FOR UPDATE in PostgreSQL), decides as
//     twofa.ThrottlePolicy.Reserve does, then runs the replay guard - one
//     UPDATE ... WHERE state = confirmed AND counter <= $counter, whose
//     number of rows changed is the answer - and clears the back-off; an
//     accepted code is one commit.
//   - ReserveAttempt (the throttle) is one upsert,
//     INSERT ... ON CONFLICT DO UPDATE ... WHERE <not refused> RETURNING,
//     that computes the back-off and the budget of
//     twofa.ThrottlePolicy.Reserve in SQL; ReleaseAttempt is one UPDATE
//     (or a DELETE of a row that holds no budget).
//   - ConsumeRecoveryCode is a DELETE and a count in one transaction.
//   - InsertDevice (count, then insert), DeleteDevice (delete, then count),
//     ConsumeRecoveryCode, ReplaceRecoveryCodes, InsertAppPassword (check,
//     count, insert), InsertBrowser (check, count, evict, insert) and the
//     phone and challenge operations that count before they write each run
//     in one transaction: in SQLite one
//     that starts with BEGIN IMMEDIATE, in PostgreSQL one that first takes
//     a per-account pg_advisory_xact_lock. On any error, including a
//     cancelled context, the transaction rolls back.
//
// Errors wrap their cause; unique violations also match twofa.ErrDuplicate.
// A context cancelled before or during a call makes it return an error
// wrapping the context's error; a transaction it interrupts is rolled back
// whole, and once a transaction's statements have run its COMMIT is no
// longer interrupted, so an error from a multi-statement method means
// nothing changed. A single-statement method interrupted while its
// statement runs may report the error after the statement took effect, as
// with any database whose connection fails at the moment of a commit.
//
// # Schema
//
// Migrate applies the embedded, versioned migrations (migrations/sqlite,
// migrations/postgres) in one transaction and records them in
// <prefix>schema_version. The tables are <prefix>devices,
// <prefix>throttles, <prefix>recovery_codes, <prefix>app_passwords,
// <prefix>phones, <prefix>challenges and <prefix>browsers, with the prefix
// "twofa_" unless Options.TablePrefix says otherwise.
//
// A time is one BIGINT column of Unix nanoseconds, which covers the range
// the twofa.Store contract asks for (1677-09-21T00:12:43.145224193Z to
// 2262-04-11T23:47:16.854775807Z) to the nanosecond and compares in SQL as
// a plain integer. The zero time.Time is stored as math.MinInt64
// (-9223372036854775808), which no other stored time takes and which
// sorts before all of them, as the zero Time does; the throttle budget's
// forgiven_at uses it too for "nothing counted". The store binds it as a
// parameter and never writes it into a statement (SQLite reads that
// literal as a REAL). A time to be stored outside the range is refused
// with an error, never stored as another time; a time a query only
// compares with (a "now") is clamped to the range. ReserveAttempt
// saturates a back-off's end at the last int64 nanosecond. Durations are
// int64 nanoseconds, and uint64 counters are stored as int64(v XOR 2^63),
// which keeps their order in SQL comparisons over the full range. No
// column holds a plaintext secret: devices keep the Keyring-sealed blob,
// recovery codes, app passwords, challenges and browsers keyed digests.
//
// Schema versions 1 to 5 kept each time in two columns, Unix seconds and
// nanoseconds; migration 6 converts them in place, in the same
// transaction as the rest of Migrate (SQLite rebuilds each table and
// copies it; PostgreSQL rewrites the columns with ALTER COLUMN ... TYPE
// ... USING and drops the nanosecond columns). Old times outside the
// range saturate at its ends. Migration 6 also drops an index on
// challenges (e164, created_at) that no statement used, and on PostgreSQL
// gives the devices and throttles tables, which sign-ins update, a
// fillfactor of 80 so that those updates can stay HOT (heap-only: no
// index changes).
//
// Migration 7 adds an index on devices (account, id), compared as bytes
// (COLLATE "C" on PostgreSQL, whatever the database's collation), for
// DevicesAfter, which pages through the devices of every account in that
// order (TwoFA.Reseal after a key rotation).
//
// Every statement is written once, with PostgreSQL placeholders and the
// table prefix as {{prefix}}, and adapted to the dialect and prefix when
// New builds the Store; no statement text is built per call.
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
// locked by another connection (of another pool or process) fails at once
// with SQLITE_BUSY instead of waiting its turn. WAL lets readers proceed
// while one connection writes. (_txlock=immediate makes the application's
// own db.BeginTx transactions take the write lock up front; sqlstore
// issues BEGIN IMMEDIATE itself whatever the DSN says.) Each commit waits
// for the disk (synchronous=FULL, SQLite's default); adding
// &_pragma=synchronous(NORMAL) makes writes several times faster, at the
// risk of losing the last commits - such as a replay guard's counter - in
// a power failure.
//
// SQLite runs one writer at a time. A Store queues its own writers in Go,
// so that under load they take turns rather than poll the busy timeout,
// and prepares its statements once per connection (release them with
// Close, or by closing the *sql.DB).
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
