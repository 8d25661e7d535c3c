package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
)

// TestDevicesAfterUsesIndex checks with EXPLAIN that DevicesAfter, which
// pages through every device, reads devices_page_idx in both dialects
// rather than scanning and sorting the table.
func TestDevicesAfterUsesIndex(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		db, prefix := explainDB(t, SQLite)
		s := explainStore(t, db, SQLite, prefix)
		plan := explain(t, db, "EXPLAIN QUERY PLAN "+s.q.devicesAfter, "a", "b", 500)
		t.Logf("plan:\n%s", plan)
		if !strings.Contains(plan, "USING INDEX "+DefaultTablePrefix+"devices_page_idx") || strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("DevicesAfter's plan does not read devices_page_idx in order:\n%s", plan)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		db, prefix := explainDB(t, Postgres)
		s := explainStore(t, db, Postgres, prefix)
		plan := explain(t, db, "EXPLAIN "+s.q.devicesAfter, "a", "b", 500)
		t.Logf("plan:\n%s", plan)
		if !strings.Contains(plan, "Index Scan using "+prefix+"devices_page_idx") || strings.Contains(plan, "Sort") {
			t.Errorf("DevicesAfter's plan does not read devices_page_idx in order:\n%s", plan)
		}
	})
}

// TestBrowsersAfterUsesIndex checks with EXPLAIN that BrowsersAfter, which
// pages through every trusted browser (Manager.ResealMACs), reads the
// unique index on (account, id), browsers_id_idx, in order in both
// dialects rather than scanning and sorting the table, and that
// UpdateBrowserMAC is one probe of it.
func TestBrowsersAfterUsesIndex(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		db, prefix := explainDB(t, SQLite)
		s := browserExplainStore(t, db, SQLite, prefix)
		plan := explain(t, db, "EXPLAIN QUERY PLAN "+s.q.browsersAfter, "account-100", "browser-00100", 500)
		t.Logf("plan:\n%s", plan)
		if !strings.Contains(plan, "USING INDEX "+DefaultTablePrefix+"browsers_id_idx") || strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("BrowsersAfter's plan does not read browsers_id_idx in order:\n%s", plan)
		}
		plan = explain(t, db, "EXPLAIN QUERY PLAN "+s.q.browserUpdateMAC, "account-100", "browser-00100", []byte("old"), []byte("new"), noTime)
		t.Logf("UpdateBrowserMAC plan:\n%s", plan)
		if !strings.Contains(plan, "USING INDEX "+DefaultTablePrefix+"browsers_id_idx (account=? AND id=?)") {
			t.Errorf("UpdateBrowserMAC's plan is not one probe of browsers_id_idx:\n%s", plan)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		db, prefix := explainDB(t, Postgres)
		s := browserExplainStore(t, db, Postgres, prefix)
		for _, from := range [][2]string{{"", ""}, {"account-100", "browser-00100"}} {
			plan := explain(t, db, "EXPLAIN "+s.q.browsersAfter, from[0], from[1], 500)
			t.Logf("after %q: plan:\n%s", from, plan)
			if !strings.Contains(plan, "Index Scan using "+prefix+"browsers_id_idx") || strings.Contains(plan, "Sort") {
				t.Errorf("after %q: BrowsersAfter's plan does not read browsers_id_idx in order:\n%s", from, plan)
			}
		}
		plan := explain(t, db, "EXPLAIN "+s.q.browserUpdateMAC, "account-100", "browser-00100", []byte("old"), []byte("new"), noTime)
		t.Logf("UpdateBrowserMAC plan:\n%s", plan)
		if !strings.Contains(plan, "Index Scan using "+prefix+"browsers_id_idx") || strings.Contains(plan, "Seq Scan") {
			t.Errorf("UpdateBrowserMAC's plan is not one probe of browsers_id_idx:\n%s", plan)
		}
	})
}

// browserExplainStore returns a migrated store on db holding 2,000
// trusted browsers over 400 accounts, enough that a planner prefers an
// index.
func browserExplainStore(t *testing.T, db *sql.DB, d Dialect, prefix string) *Store {
	t.Helper()
	ctx := context.Background()
	s := migratedFor(t, db, d, prefix)
	now := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	for i := range 2000 {
		b := browser.Record{
			ID: fmt.Sprintf("browser-%05d", i), Account: fmt.Sprintf("account-%03d", i%400), Label: "x",
			Digest: []byte(fmt.Sprintf("digest-%05d-%021d", i, 0)), CreatedAt: now,
			ExpiresAt: now.Add(24 * time.Hour), LastUsedAt: now, MAC: []byte("mac"),
		}
		if _, err := s.InsertBrowser(ctx, b, 100, now); err != nil {
			t.Fatal(err)
		}
	}
	analyze(t, db, prefix+"browsers")
	return s
}

// TestAppPasswordByDigestUsesIndex checks with EXPLAIN that
// AppPasswordByDigest is one probe of the unique (account, digest) index
// in both dialects, and HasAppPasswords a probe of an index, for an account with one password and for one with
// none: cases where PostgreSQL, given the equalities alone, took
// app_passwords_account_idx and filtered the account's rows on digest.
func TestAppPasswordByDigestUsesIndex(t *testing.T) {
	ctx := context.Background()
	lookups := []string{"account-000", "account-024", "account-999"} // 1, 25 and no passwords
	digest := make([]byte, 32)
	t.Run("sqlite", func(t *testing.T) {
		db, prefix := explainDB(t, SQLite)
		s := appExplainStore(t, db, SQLite, prefix)
		for _, account := range lookups {
			plan := explain(t, db, "EXPLAIN QUERY PLAN "+s.q.appByDigest, account, digest)
			t.Logf("%s: plan:\n%s", account, plan)
			if !strings.Contains(plan, "USING INDEX "+DefaultTablePrefix+"app_passwords_digest_idx (account=? AND digest=?)") {
				t.Errorf("%s: AppPasswordByDigest's plan is not one probe of app_passwords_digest_idx:\n%s", account, plan)
			}
			plan = explain(t, db, "EXPLAIN QUERY PLAN "+s.q.appAny, account)
			t.Logf("%s: HasAppPasswords plan:\n%s", account, plan)
			if !strings.Contains(plan, "INDEX") || strings.Contains(plan, "SCAN "+DefaultTablePrefix+"app_passwords\n") {
				t.Errorf("%s: HasAppPasswords's plan does not probe an index:\n%s", account, plan)
			}
		}
	})
	t.Run("postgres", func(t *testing.T) {
		db, prefix := explainDB(t, Postgres)
		s := appExplainStore(t, db, Postgres, prefix)
		for _, account := range lookups {
			plan := explain(t, db, "EXPLAIN "+s.q.appByDigest, account, digest)
			t.Logf("%s: plan:\n%s", account, plan)
			if !strings.Contains(plan, "Index Scan using "+prefix+"app_passwords_digest_idx") ||
				!strings.Contains(plan, "(account = ") || !strings.Contains(plan, "(digest = ") ||
				strings.Contains(plan, "Filter") {
				t.Errorf("%s: AppPasswordByDigest's plan is not one probe of app_passwords_digest_idx:\n%s", account, plan)
			}
		}
		// HasAppPasswords: on this small table the planner may prefer a
		// sequential scan that stops at the account's first row; with
		// scans priced out it must find the account index usable.
		if _, err := db.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
			t.Fatal(err)
		}
		defer db.ExecContext(ctx, "RESET enable_seqscan")
		for _, account := range lookups {
			plan := explain(t, db, "EXPLAIN "+s.q.appAny, account)
			t.Logf("%s: HasAppPasswords plan:\n%s", account, plan)
			if !strings.Contains(plan, "Index Only Scan using "+prefix+"app_passwords_account_idx") || strings.Contains(plan, "Seq Scan") {
				t.Errorf("%s: HasAppPasswords's plan does not probe app_passwords_account_idx:\n%s", account, plan)
			}
		}
	})
}

// appExplainStore returns a migrated store on db whose accounts
// account-000 to account-029 hold 1 to 25 app passwords (1 + i%25).
func appExplainStore(t *testing.T, db *sql.DB, d Dialect, prefix string) *Store {
	t.Helper()
	ctx := context.Background()
	s := migratedFor(t, db, d, prefix)
	now := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	for i := range 30 {
		for j := range 1 + i%25 {
			digest := []byte(fmt.Sprintf("digest-%03d-%02d-%019d", i, j, 0))
			p := twofa.AppPassword{
				ID: fmt.Sprintf("app-%02d", j), Account: fmt.Sprintf("account-%03d", i),
				Label: fmt.Sprintf("client %d", j), Digest: digest, CreatedAt: now,
			}
			if err := s.InsertAppPassword(ctx, p, 25); err != nil {
				t.Fatal(err)
			}
		}
	}
	analyze(t, db, prefix+"app_passwords")
	return s
}

// explainStore returns a migrated store on db holding 2,000 devices over
// 400 accounts, enough that a planner prefers an index.
func explainStore(t *testing.T, db *sql.DB, d Dialect, prefix string) *Store {
	t.Helper()
	ctx := context.Background()
	s := migratedFor(t, db, d, prefix)
	now := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	for i := range 2000 {
		dev := twofa.Device{
			ID: fmt.Sprintf("dev-%05d", i), Account: fmt.Sprintf("account-%03d", i%400), Label: "x",
			Type: twofa.TypeTOTP, Algorithm: twofa.SHA1, Digits: 6, Period: 30 * time.Second,
			Sealed: []byte("sealed"), State: twofa.DeviceConfirmed, CreatedAt: now, ConfirmedAt: now,
		}
		if err := s.InsertDevice(ctx, dev, 100, now); err != nil {
			t.Fatal(err)
		}
	}
	analyze(t, db, prefix+"devices")
	return s
}

// explainDB returns a database of dialect d for an EXPLAIN test, with the
// prefix its tables take: SQLite in memory, or PostgreSQL at
// TWOFA_TEST_POSTGRES (the test is skipped without it) under a prefix of
// its own, whose tables are dropped when the test ends. One connection,
// so that session settings hold for every statement.
func explainDB(t *testing.T, d Dialect) (*sql.DB, string) {
	t.Helper()
	driver, dsn, prefix := "sqlite", ":memory:", DefaultTablePrefix
	if d == Postgres {
		if dsn = os.Getenv("TWOFA_TEST_POSTGRES"); dsn == "" {
			t.Skip("TWOFA_TEST_POSTGRES not set: the PostgreSQL plans are not checked")
		}
		driver, prefix = "pgx", fmt.Sprintf("explain%d_", time.Now().UnixNano())
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() {
		if d == Postgres {
			for _, tbl := range []string{"devices", "throttles", "recovery_codes", "app_passwords", "phones", "challenges", "browsers", "locks", "signins", "schema_version"} {
				if _, err := db.Exec("DROP TABLE IF EXISTS " + prefix + tbl); err != nil {
					t.Error(err)
				}
			}
		}
		db.Close()
	})
	return db, prefix
}

// migratedFor returns a store on db, migrated.
func migratedFor(t *testing.T, db *sql.DB, d Dialect, prefix string) *Store {
	t.Helper()
	s, err := New(db, d, Options{TablePrefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// analyze refreshes the planner's statistics of one table.
func analyze(t *testing.T, db *sql.DB, table string) {
	t.Helper()
	if _, err := db.Exec("ANALYZE " + table); err != nil {
		t.Fatal(err)
	}
}

// explain returns the rows of an EXPLAIN, one line each (every column of
// a row joined by spaces).
func explain(t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			fmt.Fprintf(&b, "%v ", v)
		}
		b.WriteString("\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
