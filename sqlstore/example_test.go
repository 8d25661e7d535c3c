package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/sqlstore"
)

// Open a SQLite database file with the pure-Go driver modernc.org/sqlite,
// create the tables, and use the store.
func Example() {
	dir, err := os.MkdirTemp("", "twofa-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// busy_timeout: writers wait for each other instead of failing with
	// SQLITE_BUSY. WAL: readers do not block the writer. _txlock=immediate:
	// the application's own transactions take the write lock up front.
	dsn := "file:" + filepath.Join(dir, "twofa.db") +
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	store, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if err := store.Migrate(ctx); err != nil { // idempotent: run it at every start
		log.Fatal(err)
	}

	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	for range 2 {
		st, ok, err := store.ReserveAttempt(ctx, "alice", twofa.ScopeCode, now, twofa.ThrottlePolicy{Free: 1, Base: time.Second, Max: time.Minute})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ok, st.Failures, st.Until.Sub(now))
	}
	// Output:
	// true 1 0s
	// true 2 1s
}

// An in-memory SQLite database belongs to the connection that opened it,
// so keep database/sql's pool at one connection (or use
// "file:name?mode=memory&cache=shared" to share one among connections).
func Example_inMemory() {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection, one database, kept open

	store, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.Options{TablePrefix: "auth_"})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	if err := store.ReplaceRecoveryCodes(ctx, "alice", [][]byte{[]byte("digest-1"), []byte("digest-2")}, time.Now()); err != nil {
		log.Fatal(err)
	}
	left, used, err := store.ConsumeRecoveryCode(ctx, "alice", []byte("digest-1"), time.Now())
	if err != nil {
		log.Fatal(err)
	}
	_, again, err := store.ConsumeRecoveryCode(ctx, "alice", []byte("digest-1"), time.Now())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(used, again, left)
	// Output: true false 1
}
