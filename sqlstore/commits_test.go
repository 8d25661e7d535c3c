package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/sqlstore"
	"github.com/twofa-go/twofa/twofatest"
)

// The commit-counting driver wraps a database/sql driver and counts what
// a database commits: a transaction's COMMIT (through driver.Tx, or a
// COMMIT statement ending a BEGIN statement, as sqlstore runs SQLite's
// BEGIN IMMEDIATE), and every writing statement run outside a transaction
// (autocommit: an INSERT, UPDATE or DELETE, RETURNING or not, commits
// once). Reading statements outside a transaction commit nothing.

// commitCounter is what a counting driver counts; safe for concurrent use.
type commitCounter struct {
	mu      sync.Mutex
	commits []string // what committed, in order: "COMMIT" or the statement
}

// add records a commit, naming it by the first words of what committed.
func (c *commitCounter) add(what string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	words := strings.Fields(what)
	c.commits = append(c.commits, strings.Join(words[:min(len(words), 4)], " "))
}

// take returns what committed since the last take, and forgets it.
func (c *commitCounter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs := c.commits
	c.commits = nil
	return cs
}

type countingDriver struct {
	inner driver.Driver
	c     *commitCounter
}

func (d countingDriver) Open(name string) (driver.Conn, error) {
	conn, err := d.inner.Open(name)
	if err != nil {
		return nil, err
	}
	return &countingConn{inner: conn, c: d.c}, nil
}

// countingConn tracks whether its connection is in a transaction.
// database/sql uses a connection from one goroutine at a time.
type countingConn struct {
	inner driver.Conn
	c     *commitCounter
	inTx  bool
}

// statement records the effect of running query on the connection.
func (cn *countingConn) statement(query string) {
	verb := strings.ToUpper(strings.SplitN(strings.TrimSpace(query), " ", 2)[0])
	verb = strings.TrimRight(verb, ";\n\t")
	switch verb {
	case "BEGIN", "START":
		cn.inTx = true
	case "COMMIT", "END":
		if cn.inTx {
			cn.c.add("COMMIT")
		}
		cn.inTx = false
	case "ROLLBACK":
		cn.inTx = false
	case "INSERT", "UPDATE", "DELETE", "REPLACE", "UPSERT", "WITH", "CREATE", "DROP", "ALTER":
		if !cn.inTx {
			cn.c.add(query)
		}
	}
}

func (cn *countingConn) Prepare(query string) (driver.Stmt, error) {
	return cn.PrepareContext(context.Background(), query)
}

func (cn *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var st driver.Stmt
	var err error
	if p, ok := cn.inner.(driver.ConnPrepareContext); ok {
		st, err = p.PrepareContext(ctx, query)
	} else {
		st, err = cn.inner.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	return &countingStmt{inner: st, cn: cn, query: query}, nil
}

func (cn *countingConn) Close() error { return cn.inner.Close() }

func (cn *countingConn) Begin() (driver.Tx, error) {
	return cn.BeginTx(context.Background(), driver.TxOptions{})
}

func (cn *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	b, ok := cn.inner.(driver.ConnBeginTx)
	if !ok {
		return nil, errors.New("counting driver: the connection has no BeginTx")
	}
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	cn.inTx = true
	return &countingTx{inner: tx, cn: cn}, nil
}

func (cn *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := cn.inner.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	res, err := e.ExecContext(ctx, query, args)
	if err == nil {
		cn.statement(query)
	}
	return res, err
}

func (cn *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := cn.inner.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	rows, err := q.QueryContext(ctx, query, args)
	if err == nil {
		cn.statement(query)
	}
	return rows, err
}

func (cn *countingConn) CheckNamedValue(v *driver.NamedValue) error {
	if c, ok := cn.inner.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(v)
	}
	return driver.ErrSkip
}

func (cn *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := cn.inner.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (cn *countingConn) IsValid() bool {
	if v, ok := cn.inner.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (cn *countingConn) Ping(ctx context.Context) error {
	if p, ok := cn.inner.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

type countingTx struct {
	inner driver.Tx
	cn    *countingConn
}

func (tx *countingTx) Commit() error {
	tx.cn.inTx = false
	err := tx.inner.Commit()
	if err == nil {
		tx.cn.c.add("COMMIT")
	}
	return err
}

func (tx *countingTx) Rollback() error {
	tx.cn.inTx = false
	return tx.inner.Rollback()
}

type countingStmt struct {
	inner driver.Stmt
	cn    *countingConn
	query string
}

func (st *countingStmt) Close() error  { return st.inner.Close() }
func (st *countingStmt) NumInput() int { return st.inner.NumInput() }

// Exec and Query complete driver.Stmt; database/sql calls ExecContext and
// QueryContext instead.
func (st *countingStmt) Exec([]driver.Value) (driver.Result, error) {
	return nil, errors.New("counting driver: Exec without a context")
}

func (st *countingStmt) Query([]driver.Value) (driver.Rows, error) {
	return nil, errors.New("counting driver: Query without a context")
}

func (st *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	e, ok := st.inner.(driver.StmtExecContext)
	if !ok {
		return nil, errors.New("counting driver: the statement has no ExecContext")
	}
	res, err := e.ExecContext(ctx, args)
	if err == nil {
		st.cn.statement(st.query)
	}
	return res, err
}

func (st *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := st.inner.(driver.StmtQueryContext)
	if !ok {
		return nil, errors.New("counting driver: the statement has no QueryContext")
	}
	rows, err := q.QueryContext(ctx, args)
	if err == nil {
		st.cn.statement(st.query)
	}
	return rows, err
}

func (st *countingStmt) CheckNamedValue(v *driver.NamedValue) error {
	if c, ok := st.inner.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(v)
	}
	return st.cn.CheckNamedValue(v)
}

var (
	countingOnce    sync.Once
	countingCounter = map[string]*commitCounter{}
)

// countingDB opens dsn through a commit-counting wrapper of the driver
// registered as name, and returns it with its counter.
func countingDB(t *testing.T, name, dsn string) (*sql.DB, *commitCounter) {
	t.Helper()
	countingOnce.Do(func() {
		for _, inner := range []string{"sqlite", "pgx"} {
			db, err := sql.Open(inner, "")
			if err != nil {
				panic(err)
			}
			c := &commitCounter{}
			countingCounter[inner] = c
			sql.Register("counting-"+inner, countingDriver{inner: db.Driver(), c: c})
			db.Close()
		}
	})
	return openDB(t, "counting-"+name, dsn), countingCounter[name]
}

// wrongTOTPCode returns a code that d shows at no step within maxDrift+1
// steps of now, so that it matches nothing, not even a resynchronisation.
func wrongTOTPCode(t *testing.T, d *twofatest.Device, now time.Time, maxDrift int) string {
	t.Helper()
	near := map[string]bool{}
	for k := -maxDrift - 1; k <= maxDrift+1; k++ {
		near[d.CodeAt(now.Add(time.Duration(k)*30*time.Second))] = true
	}
	for i := 0; i < 1000; i++ {
		if c := fmt.Sprintf("%06d", 123457+i*7919); !near[c] {
			return c
		}
	}
	t.Fatal("no wrong code found")
	return ""
}

// TestVerifyCommits counts the commits of TwoFA.Verify on a sqlstore: an
// accepted device code is one commit (a throttle with failures in it
// included, which the accepted code clears in the same transaction); a
// wrong one two, the same as a code of a drifted step (the failure, and
// the device's resync state, written whether or not it changed) and as a
// replayed one (the failure, and its refund).
func TestVerifyCommits(t *testing.T) {
	cases := []struct {
		name    string
		dialect sqlstore.Dialect
		open    func(t *testing.T) (*sql.DB, *commitCounter, string)
	}{
		{"sqlite-file", sqlstore.SQLite, func(t *testing.T) (*sql.DB, *commitCounter, string) {
			db, c := countingDB(t, "sqlite", sqliteDSN(filepath.Join(t.TempDir(), "twofa.db")))
			return db, c, ""
		}},
		{"postgres", sqlstore.Postgres, func(t *testing.T) (*sql.DB, *commitCounter, string) {
			dsn := pgDSN(t) // skips without TWOFA_TEST_POSTGRES
			prefix := randomPrefix()
			dropPG(t, dsn, prefix)
			db, c := countingDB(t, "pgx", dsn)
			return db, c, prefix
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			db, counter, prefix := tc.open(t)
			s := newStore(t, db, tc.dialect, prefix)
			keys, err := keyring.Generate()
			if err != nil {
				t.Fatal(err)
			}
			kr, err := keyring.Parse(keys)
			if err != nil {
				t.Fatal(err)
			}
			clock := twofatest.NewClock(twofatest.Start)
			tf, err := twofa.New(twofa.Config{Store: s, Keyring: kr, Issuer: "commits", Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			dev := twofatest.EnrollDevice(t, tf.Devices, clock, "alice", twofa.EnrollOptions{})

			commits := func(what string, want int, code string, wantErr error) {
				t.Helper()
				counter.take()
				_, err := tf.Verify(ctx, "alice", code)
				if !errors.Is(err, wantErr) {
					t.Fatalf("Verify (%s) = %v, want %v", what, err, wantErr)
				}
				got := counter.take()
				t.Logf("%s: %d commits %q", what, len(got), got)
				if len(got) != want {
					t.Errorf("Verify (%s): %d commits, want %d: %q", what, len(got), want, got)
				}
			}
			good := dev.Code()
			commits("an accepted code", 1, good, nil)
			commits("a replayed code", 2, good, twofa.ErrReplayed)
			clock.Advance(30 * time.Second)
			commits("a wrong code", 2, wrongTOTPCode(t, dev, clock.Now(), 4 /* the default MaxDrift */), twofa.ErrInvalidCode)
			commits("a code 3 steps ahead (a drifted clock)", 2, dev.CodeAt(clock.Now().Add(3*30*time.Second)), twofa.ErrInvalidCode)
			commits("an accepted code after failures", 1, dev.Code(), nil)
			st, err := s.Throttle(ctx, "alice", twofa.ScopeCode)
			if err != nil {
				t.Fatal(err)
			}
			if st.Failures != 0 || !st.Until.IsZero() {
				t.Errorf("Throttle after the accepted code = %+v, want the back-off cleared", st)
			}

			// A code sent by SMS to a trusted number.
			sender := &twofatest.Sender{}
			phones, err := phone.New(tf, phone.Config{Sender: sender, OutOfBand: true})
			if err != nil {
				t.Fatal(err)
			}
			number := phone.Number{E164: "+12025550123", CountryCode: 1}
			info, err := phones.Add(ctx, "alice", number)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := phones.SendCode(ctx, "alice", info.ID, phone.SMS); err != nil {
				t.Fatal(err)
			}
			if _, err := phones.Confirm(ctx, "alice", info.ID, sender.Code(number.E164)); err != nil {
				t.Fatal(err)
			}
			sms := func() string {
				t.Helper()
				clock.Advance(2 * time.Minute) // past the resend cool-down
				if _, err := phones.SendCode(ctx, "alice", info.ID, phone.SMS); err != nil {
					t.Fatal(err)
				}
				return sender.Code(number.E164)
			}
			code := sms()
			commits("an accepted SMS code", 1, code, nil)
			commits("a replayed SMS code", 0, code, twofa.ErrReplayed)
			code = sms()
			commits("a wrong code with an SMS code open", 3, wrongTOTPCode(t, dev, clock.Now(), 4), twofa.ErrInvalidCode)
			commits("an accepted SMS code after a failure", 2, code, nil)
			if st, err := s.Throttle(ctx, "alice", twofa.ScopeCode); err != nil || st.Failures != 0 || !st.Until.IsZero() {
				t.Errorf("Throttle after the accepted SMS code = %+v, %v; want the back-off cleared", st, err)
			}
		})
	}
}
