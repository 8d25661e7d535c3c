package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/sqlstore"
	"github.com/twofa-go/twofa/storetest"
	"github.com/twofa-go/twofa/twofatest"
)

// browserSchemaNames are the tables and indexes of migration 0004.
var browserSchemaNames = []string{
	"browsers", "browsers_account_idx", "browsers_digest_idx", "browsers_expires_idx", "browsers_id_idx",
}

// The migration tests compare a migrated schema with schemaNames; 0004's
// names join it here, until they are listed there.
func init() { schemaNames = append(schemaNames, browserSchemaNames...) }

// dropBrowsersPG removes the browsers table of s, a PostgreSQL store,
// once the test is over. (dropPG drops the other tables.)
func dropBrowsersPG(tb testing.TB, s *sqlstore.Store) {
	if s.Dialect() != sqlstore.Postgres {
		return
	}
	dsn := pgDSN(tb)
	tb.Cleanup(func() {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			tb.Error(err)
			return
		}
		defer db.Close()
		if _, err := db.Exec("DROP TABLE IF EXISTS " + s.TablePrefix() + "browsers"); err != nil {
			tb.Errorf("drop %sbrowsers: %v", s.TablePrefix(), err)
		}
	})
}

func openBrowsers(tb testing.TB, b backend) *sqlstore.Store {
	s := b.open(tb)
	dropBrowsersPG(tb, s)
	return s
}

// TestBrowserSchema checks the migration's table and indexes: the unique
// indexes hold even for a writer that skips InsertBrowser's own check (an
// older replica, a manual INSERT).
func TestBrowserSchema(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		dbs, prefix := b.dbs(t, 1)
		s, err := sqlstore.New(dbs[0], b.dialect, sqlstore.Options{TablePrefix: prefix})
		must(t, err)
		dropBrowsersPG(t, s)
		ctx := context.Background()
		must(t, s.Migrate(ctx))
		names := inspector{dbs[0], b.dialect}.names(t, prefix)
		for _, n := range browserSchemaNames {
			if !slices.Contains(names, prefix+n) {
				t.Errorf("no %s%s after Migrate (have %v)", prefix, n, names)
			}
		}
		br := storetest.NewBrowser("alice", t0)
		if _, err := s.InsertBrowser(ctx, br, 5, t0); err != nil {
			t.Fatal(err)
		}
		arg := "?"
		if b.dialect == sqlstore.Postgres {
			arg = "$1"
		}
		insert := func(id string, digest []byte) error {
			_, err := dbs[0].ExecContext(ctx, `INSERT INTO `+prefix+`browsers (account, id, label, digest,
				created_at, expires_at, last_used_at, revoked_at)
				VALUES ('alice', '`+id+`', 'l', `+arg+`, 0, 0, 0, 0)`, digest)
			return err
		}
		if insert("x", br.Digest) == nil {
			t.Error("a second row with the same (account, digest) was stored")
		}
		if insert(br.ID, []byte("other")) == nil {
			t.Error("a second row with the same (account, id) was stored")
		}
	})
}

// TestTwoPoolsInsertBrowserLimit: concurrent inserts through two pools on
// one database keep the limit, and every eviction is reported once.
func TestTwoPoolsInsertBrowserLimit(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		ss := migrated(t, b, 2)
		dropBrowsersPG(t, ss[0])
		ctx := context.Background()
		const n, limit = 40, 5
		evicted := make([][]string, n)
		goAll(n, func(i int) {
			ev, err := ss[i%2].InsertBrowser(ctx, storetest.NewBrowser("alice", t0), limit, t0)
			if err != nil {
				t.Errorf("InsertBrowser: %v", err)
			}
			evicted[i] = ev
		})
		seen := map[string]bool{}
		for _, ev := range evicted {
			for _, id := range ev {
				if seen[id] {
					t.Errorf("%s evicted twice", id)
				}
				seen[id] = true
			}
		}
		bs, err := ss[0].Browsers(ctx, "alice")
		must(t, err)
		live := 0
		for _, br := range bs {
			if br.RevokedAt.IsZero() {
				live++
			} else if !seen[br.ID] {
				t.Errorf("%s revoked but not reported evicted", br.ID)
			}
		}
		if live != limit || len(seen) != n-limit || len(bs) != n {
			t.Errorf("%d concurrent inserts, limit %d: %d live, %d evicted, %d rows", n, limit, live, len(seen), len(bs))
		}
	})
}

// TestTwoPoolsRevokeBrowser: of concurrent revocations through two pools,
// exactly one succeeds; RevokeBrowsers racing InsertBrowser neither
// deadlocks nor loses a row.
func TestTwoPoolsRevokeBrowser(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		ss := migrated(t, b, 2)
		dropBrowsersPG(t, ss[0])
		ctx := context.Background()
		br := storetest.NewBrowser("bob", t0)
		if _, err := ss[0].InsertBrowser(ctx, br, 5, t0); err != nil {
			t.Fatal(err)
		}
		var ok atomic.Int32
		goAll(30, func(i int) {
			switch err := ss[i%2].RevokeBrowser(ctx, "bob", br.ID, t0.Add(time.Duration(i+1))); {
			case err == nil:
				ok.Add(1)
			case !errors.Is(err, twofa.ErrNotFound):
				t.Errorf("RevokeBrowser: %v", err)
			}
		})
		if ok.Load() != 1 {
			t.Errorf("30 concurrent revocations: %d succeeded, want 1", ok.Load())
		}

		var revoked atomic.Int32
		goAll(40, func(i int) {
			if i%4 == 0 {
				n, err := ss[i%2].RevokeBrowsers(ctx, "carol", t0.Add(time.Minute))
				if err != nil {
					t.Errorf("RevokeBrowsers: %v", err)
				}
				revoked.Add(int32(n))
				return
			}
			if _, err := ss[i%2].InsertBrowser(ctx, storetest.NewBrowser("carol", t0), 3, t0); err != nil {
				t.Errorf("InsertBrowser: %v", err)
			}
		})
		bs, err := ss[1].Browsers(ctx, "carol")
		must(t, err)
		if len(bs) != 30 {
			t.Errorf("%d rows after 30 inserts", len(bs))
		}
	})
}

// TestBrowsersManager runs the Browsers manager on every backend: trust,
// check, expiry on the fake clock, revocation, and the automatic
// revocation when two-factor authentication is turned off.
func TestBrowsersManager(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := openBrowsers(t, b)
		env := twofatest.New(t)
		cfg := env.Config
		cfg.Store = s
		tf, err := twofa.New(cfg)
		must(t, err)
		browsers, err := browser.New(tf, browser.Config{Store: s})
		must(t, err)
		devices := tf.Devices
		dev := twofatest.EnrollDevice(t, devices, env.Clock, "alice", twofa.EnrollOptions{})

		token, info, err := browsers.Trust(ctx, "alice", "Firefox on Linux")
		must(t, err)
		if _, err := browsers.Check(ctx, "alice", token); err != nil {
			t.Errorf("Check of a fresh token: %v", err)
		}
		if _, err := browsers.Check(ctx, "bob", token); !errors.Is(err, browser.ErrUnknown) {
			t.Errorf("Check for another account: %v, want ErrBrowserUnknown", err)
		}
		env.Clock.Set(info.ExpiresAt.Add(-1))
		if _, err := browsers.Check(ctx, "alice", token); err != nil {
			t.Errorf("Check 1 ns before expiry: %v", err)
		}
		env.Clock.Set(info.ExpiresAt)
		if _, err := browsers.Check(ctx, "alice", token); !errors.Is(err, browser.ErrExpired) {
			t.Errorf("Check at expiry: %v, want ErrBrowserExpired", err)
		}
		if n, err := browsers.Purge(ctx); err != nil || n < 1 {
			t.Errorf("Purge = %d, %v", n, err)
		}
		if _, err := browsers.Check(ctx, "alice", token); !errors.Is(err, browser.ErrUnknown) {
			t.Errorf("Check after cleanup: %v, want ErrBrowserUnknown", err)
		}

		t1, _, err := browsers.Trust(ctx, "alice", "one")
		must(t, err)
		t2, i2, err := browsers.Trust(ctx, "alice", "two")
		must(t, err)
		must(t, browsers.Revoke(ctx, "alice", i2.ID))
		if _, err := browsers.Check(ctx, "alice", t2); !errors.Is(err, browser.ErrRevoked) {
			t.Errorf("Check of a revoked browser: %v", err)
		}
		list, err := browsers.List(ctx, "alice")
		must(t, err)
		if len(list) != 1 || list[0].Label != "one" {
			t.Errorf("List = %+v, want only \"one\"", list)
		}
		must(t, errOf(devices.Revoke(ctx, "alice", dev.ID))) // two-factor off
		if _, err := browsers.Check(ctx, "alice", t1); !errors.Is(err, browser.ErrRevoked) {
			t.Errorf("Check after two-factor was turned off: %v, want ErrBrowserRevoked", err)
		}
		if _, _, err := browsers.Trust(ctx, "alice", "three"); !errors.Is(err, twofa.ErrNotEnrolled) {
			t.Errorf("Trust without two-factor: %v, want ErrNotEnrolled", err)
		}
		if slices.ContainsFunc(env.Events.Events(), func(e twofa.Event) bool { return e.Type == browser.EventRevokedAll && e.Count == 1 }) == false {
			t.Error("no EventRevokedAll with Count 1")
		}
	})
}
