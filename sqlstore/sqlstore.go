package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/twofa-go/twofa"
)

// Dialect names the SQL database behind a *sql.DB. It selects the schema
// and the few statements that differ between databases.
type Dialect uint8

// The supported dialects.
const (
	// SQLite is SQLite 3.35 or later (for RETURNING), as the pure-Go
	// driver modernc.org/sqlite provides.
	SQLite Dialect = iota + 1
	// Postgres is PostgreSQL 12 or later, for example through
	// github.com/jackc/pgx/v5/stdlib.
	Postgres
)

// String returns "sqlite" or "postgres".
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return fmt.Sprintf("Dialect(%d)", uint8(d))
}

// DefaultTablePrefix is the table prefix when Options.TablePrefix is empty.
const DefaultTablePrefix = "twofa_"

// Options configure a Store. The zero value gives the defaults.
type Options struct {
	// TablePrefix is prepended to every table and index name, so that
	// several stores (or several applications) can share one database or
	// schema. It must match ^[a-z_][a-z0-9_]{0,30}$; empty means
	// DefaultTablePrefix.
	TablePrefix string
}

var prefixRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,30}$`)

// Store keeps every kind of twofa state in SQL tables: it implements
// twofa.Store and twofa.AppPasswordStore on a *sql.DB. Call Migrate once
// before use.
//
// Every operation that the twofa.Store contracts call atomic is done by the
// database - one conditional statement, or one transaction that locks what
// it reads - so the guarantees hold across goroutines, across *sql.DB pools
// and across processes that share the database.
//
// A Store is safe for concurrent use by multiple goroutines. It starts no
// goroutines and owns no connections: closing the *sql.DB is the caller's
// job (and releases the statements a SQLite Store prepares; so does
// Close).
type Store struct {
	db      *sql.DB
	dialect Dialect
	prefix  string
	q       queries

	// writer admits one writing statement or transaction of this Store
	// at a time (SQLite only; nil for PostgreSQL). SQLite runs one writer
	// at a time anyway; a queue in Go spares the others SQLite's busy
	// polling, whose sleeps let the lock stand idle and starve waiters
	// past the busy timeout under load. Correctness does not depend on
	// it: other pools and processes are kept in line by SQLite's locks.
	writer chan struct{}

	// stmts holds the prepared statements, query → *sql.Stmt (SQLite
	// only: parsing a statement costs SQLite more than running it, while
	// pgx caches prepared statements by itself).
	stmts sync.Map
}

var (
	_ twofa.Store            = (*Store)(nil)
	_ twofa.AppPasswordStore = (*Store)(nil)
	_ twofa.LockStore        = (*Store)(nil)
)

// New returns a Store keeping its tables in db, which must be a database of
// the given dialect. It checks the options but does not touch the database;
// call Migrate to create or update the tables.
//
// For SQLite, open db with a busy timeout, so that writers wait for each
// other instead of failing with SQLITE_BUSY; see the package documentation.
func New(db *sql.DB, dialect Dialect, opts Options) (*Store, error) {
	if db == nil {
		return nil, fmt.Errorf("sqlstore: %w: nil *sql.DB", twofa.ErrInvalidOptions)
	}
	if dialect != SQLite && dialect != Postgres {
		return nil, fmt.Errorf("sqlstore: %w: unknown dialect %v", twofa.ErrInvalidOptions, dialect)
	}
	prefix := opts.TablePrefix
	if prefix == "" {
		prefix = DefaultTablePrefix
	}
	if !prefixRE.MatchString(prefix) {
		return nil, fmt.Errorf("sqlstore: %w: table prefix %q does not match %s", twofa.ErrInvalidOptions, prefix, prefixRE)
	}
	s := &Store{db: db, dialect: dialect, prefix: prefix}
	if dialect == SQLite {
		s.writer = make(chan struct{}, 1)
	}
	s.q = buildQueries(s.sql)
	return s, nil
}

// Dialect returns the store's dialect.
func (s *Store) Dialect() Dialect { return s.dialect }

// TablePrefix returns the prefix of the store's table names.
func (s *Store) TablePrefix() string { return s.prefix }

// sql returns query for the store's dialect and prefix: {{prefix}} becomes
// the table prefix; {{bytes}}, after a text column, compares it byte by
// byte (COLLATE "C" in PostgreSQL; nothing in SQLite, whose default BINARY
// collation does); {{forUpdate}} is PostgreSQL's row-locking " FOR UPDATE"
// (nothing in SQLite, whose transactions lock the whole database);
// {{noMAC}} is the empty blob, the MAC of a record that has none; and for
// SQLite the PostgreSQL-style placeholders $N become SQLite's numbered ?N
// (which every SQLite driver binds by position).
func (s *Store) sql(query string) string {
	query = strings.ReplaceAll(query, "{{prefix}}", s.prefix)
	bytewise, forUpdate := ` COLLATE "C"`, " FOR UPDATE"
	if s.dialect == SQLite {
		bytewise, forUpdate = "", ""
	}
	query = strings.ReplaceAll(query, "{{bytes}}", bytewise)
	query = strings.ReplaceAll(query, "{{forUpdate}}", forUpdate)
	noMAC := `CAST('' AS BYTEA)`
	if s.dialect == SQLite {
		noMAC = `X''`
	}
	query = strings.ReplaceAll(query, "{{noMAC}}", noMAC)
	if s.dialect == SQLite {
		var b strings.Builder
		for i := 0; i < len(query); i++ {
			if query[i] == '$' && i+1 < len(query) && query[i+1] >= '0' && query[i+1] <= '9' {
				b.WriteByte('?')
				continue
			}
			b.WriteByte(query[i])
		}
		query = b.String()
	}
	return query
}

// startWrite waits for the writer queue (SQLite) and returns the function
// that leaves it.
func (s *Store) startWrite(ctx context.Context) (done func(), err error) {
	if s.writer == nil {
		return func() {}, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case s.writer <- struct{}{}:
		return func() { <-s.writer }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// stmt returns query prepared on s.db (SQLite), or nil (PostgreSQL).
func (s *Store) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s.dialect != SQLite {
		return nil, nil
	}
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// Close releases the statements the Store has prepared (SQLite). It does
// not close the *sql.DB, and it is optional: closing the *sql.DB releases
// them too. The Store prepares them again if used after Close.
func (s *Store) Close() error {
	var errs []error
	s.stmts.Range(func(q, st any) bool {
		s.stmts.Delete(q)
		errs = append(errs, st.(*sql.Stmt).Close())
		return true
	})
	return wrap("close", errors.Join(errs...))
}

// query runs a reading statement.
func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := s.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.db.QueryContext(ctx, query, args...)
}

// queryRow runs a reading statement and scans its row.
func (s *Store) queryRow(ctx context.Context, scan func(*sql.Row) error, query string, args ...any) error {
	st, err := s.stmt(ctx, query)
	if err != nil {
		return err
	}
	if st != nil {
		return scan(st.QueryRowContext(ctx, args...))
	}
	return scan(s.db.QueryRowContext(ctx, query, args...))
}

// exec runs one writing statement.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := s.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	done, err := s.startWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	if st != nil {
		return st.ExecContext(ctx, args...)
	}
	return s.db.ExecContext(ctx, query, args...)
}

// execRow runs one writing statement that returns a row (RETURNING) and
// scans it; SQLite holds its write lock until the row has been read.
func (s *Store) execRow(ctx context.Context, scan func(*sql.Row) error, query string, args ...any) error {
	done, err := s.startWrite(ctx)
	if err != nil {
		return err
	}
	defer done()
	return s.queryRow(ctx, scan, query, args...)
}

// querier is what a transaction body may use: a *sql.Tx or a *sql.Conn
// inside BEGIN IMMEDIATE.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Advisory lock classes (PostgreSQL): the first key of the two-key
// pg_advisory_xact_lock is hashtext(<prefix><class>), the second
// hashtext(account), so a lock serialises one account's changes of one
// table of one store.
const (
	lockDevices  = "devices"
	lockRecovery = "recovery_codes"
	lockApp      = "app_passwords"
	lockSchema   = "schema_version"
)

// commitTimeout bounds a PostgreSQL transaction, its COMMIT included,
// once its caller's context no longer does.
const commitTimeout = 30 * time.Second

// inTx runs f in a write transaction and commits it if f returns nil; on
// any error everything f did is rolled back.
//
// SQLite: the transaction starts with BEGIN IMMEDIATE, which takes the
// database's write lock up front (waiting up to the busy timeout), so
// transactions that read then write cannot deadlock and run one at a time
// whatever the DSN's _txlock. PostgreSQL: a READ COMMITTED transaction that
// first takes the advisory lock (lock, account) when lock is not empty, so
// that transactions of one account that count rows and then write run one
// at a time.
func (s *Store) inTx(ctx context.Context, lock, account string, f func(q querier) error) error {
	if s.dialect == SQLite {
		return s.inSQLiteTx(ctx, f)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// The statements run under ctx; the transaction itself, and so its
	// COMMIT (database/sql drivers commit under BeginTx's context), under
	// a context that ctx cannot cancel: a COMMIT interrupted by ctx may
	// have taken effect while reporting ctx's error, and the caller would
	// see an error for a change made. commitTimeout bounds it instead.
	txCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	tx, err := s.db.BeginTx(txCtx, nil)
	if err != nil {
		return err
	}
	if lock != "" {
		if _, err := tx.ExecContext(ctx, s.q.advisoryLock, s.prefix+lock, account); err != nil {
			tx.Rollback()
			return withCause(ctx, err)
		}
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return withCause(ctx, err)
	}
	return tx.Commit()
}

// withCause adds ctx's error to err when ctx ended: a statement
// interrupted by a cancelled context can surface from the driver as
// "driver: bad connection" (database/sql.ErrBadConn), and callers should
// still be able to tell, with errors.Is, that their context ended it.
func withCause(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%w)", cerr, err)
	}
	return err
}

func (s *Store) inSQLiteTx(ctx context.Context, f func(q querier) error) (err error) {
	done, err := s.startWrite(ctx)
	if err != nil {
		return err
	}
	defer done()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	defer func() {
		if err != nil {
			sqliteRollback(conn)
		}
	}()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	if err := f(conn); err != nil {
		return err
	}
	// Past this point the work is done: commit whatever ctx does now. (A
	// COMMIT that ctx interrupted could have taken effect and still report
	// ctx's error; the caller would then see an error for a change made.)
	_, err = conn.ExecContext(context.WithoutCancel(ctx), "COMMIT")
	return err
}

// sqliteRollback ends whatever transaction conn may still be in. SQLite
// rolls back by itself on some errors (an interrupt, for one); then
// ROLLBACK fails with "no transaction is active", which is fine. On any
// other failure the connection is discarded rather than returned to the
// pool in an unknown state.
func sqliteRollback(conn *sql.Conn) {
	_, err := conn.ExecContext(context.Background(), "ROLLBACK")
	if err == nil || strings.Contains(err.Error(), "no transaction is active") {
		return
	}
	conn.Raw(func(any) error { return driver.ErrBadConn })
}

// wrap prefixes err with the operation and, when it is a unique violation,
// makes it match twofa.ErrDuplicate too. nil stays nil.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlstore: %s: %w: %w", op, twofa.ErrDuplicate, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// isUniqueViolation recognises a unique-constraint error without importing
// a driver: SQLSTATE 23505 (PostgreSQL, through pgconn.PgError's SQLState
// method), SQLite's extended codes SQLITE_CONSTRAINT_UNIQUE (2067) and
// SQLITE_CONSTRAINT_PRIMARYKEY (1555) through a Code method (as
// modernc.org/sqlite's *Error has), and the message text of either as a
// fallback for other drivers.
func isUniqueViolation(err error) bool {
	if errors.Is(err, twofa.ErrDuplicate) {
		return false // already marked
	}
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) {
		return pg.SQLState() == "23505"
	}
	var lite interface{ Code() int }
	if errors.As(err, &lite) {
		if c := lite.Code(); c == 2067 || c == 1555 {
			return true
		}
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") ||
		strings.Contains(msg, "PRIMARY KEY constraint failed") ||
		strings.Contains(msg, "SQLSTATE 23505")
}

// The encodings of Go values in columns.

// u64 maps a uint64 to an int64 preserving order (0 ↦ MinInt64,
// 2^64-1 ↦ MaxInt64), so that SQL comparisons on BIGINT columns order
// uint64 values correctly over their full range.
func u64(v uint64) int64 { return int64(v ^ 1<<63) }

// fromU64 is the inverse of u64.
func fromU64(v int64) uint64 { return uint64(v) ^ 1<<63 }

// A time is one BIGINT column: its Unix nanoseconds. noTime, the column
// value of the zero time.Time, is math.MinInt64, which no other stored time
// takes: the times kept are those from firstTime (math.MinInt64+1 ns,
// 1677-09-21T00:12:43.145224193Z) to lastTime (math.MaxInt64 ns,
// 2262-04-11T23:47:16.854775807Z), the twofa.Store contract's range. So the
// zero Time sorts before every other time, as it does in Go, and columns
// compare as plain integers. noTime is always bound as a parameter, never
// written into SQL: SQLite reads the literal -9223372036854775808 as a
// REAL.
const noTime int64 = math.MinInt64

var (
	firstTime = time.Unix(0, math.MinInt64+1).UTC()
	lastTime  = time.Unix(0, math.MaxInt64).UTC()
)

// errTimeRange is the error for a time the store cannot keep.
var errTimeRange = fmt.Errorf("time outside %s to %s, the range of int64 Unix nanoseconds", firstTime.Format(time.RFC3339Nano), lastTime.Format(time.RFC3339Nano))

// nanos returns the column value of t, a time to be stored: noTime for the
// zero Time, else t's Unix nanoseconds. A time outside firstTime to
// lastTime is refused with an error rather than stored as another time.
func nanos(t time.Time) (int64, error) {
	if t.IsZero() {
		return noTime, nil
	}
	if t.Before(firstTime) || t.After(lastTime) {
		return 0, fmt.Errorf("%s: %w", t.Format(time.RFC3339Nano), errTimeRange)
	}
	return t.UnixNano(), nil
}

// nanosOf returns the column values of ts, in order, or the first error.
func nanosOf(ts ...time.Time) ([]any, error) {
	vs := make([]any, len(ts))
	for i, t := range ts {
		n, err := nanos(t)
		if err != nil {
			return nil, err
		}
		vs[i] = n
	}
	return vs, nil
}

// bound returns a column value that compares with every stored time as t
// does, for a time that is only compared with, never stored (a "now" of a
// query): t's nanoseconds, or for a t past lastTime math.MaxInt64, and for
// a t before firstTime noTime (which then stands for the zero Time's
// place at the bottom).
func bound(t time.Time) int64 {
	switch {
	case t.IsZero() || t.Before(firstTime):
		return noTime
	case t.After(lastTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// fromNanos is the inverse of nanos, in UTC; noTime gives the zero Time.
func fromNanos(n int64) time.Time {
	if n == noTime {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// blob returns b, or an empty non-nil slice for nil: drivers send a nil
// []byte as NULL, which NOT NULL columns refuse.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// queryAll runs a reading statement and scans every row with scan.
func queryAll[T any](ctx context.Context, s *Store, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
