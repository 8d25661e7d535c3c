package twofa_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/sqlstore"
	"github.com/twofa-go/twofa/twofatest"
)

// apBenchOthers is how many other accounts the benchmark store holds.
const apBenchOthers = 100_000

// BenchmarkAppPasswordVerify measures a successful AppPasswords.Verify of
// an account with 1 and with 25 app passwords, in a store that also holds
// 100,000 other accounts (each with a confirmed device, 1 to 3 app
// passwords, and every tenth with a throttle record). The password was
// used once before the timer starts, so LastUsedAt is fresh and the
// measured calls write nothing: each is one throttle read, one HMAC and
// one indexed lookup. The two counts must cost the same (within 1.2x).
//
// Both sub-benchmarks of a backend share one populated store: the account
// "bench-1" has 1 password, "bench-25" has 25.
func BenchmarkAppPasswordVerify(b *testing.B) {
	parent := b
	backends := []struct {
		name string
		open func(b *testing.B) (twofa.Store, *sql.DB)
	}{
		{"memstore", func(*testing.B) (twofa.Store, *sql.DB) { return memstore.New(), nil }},
		{"sqlite", apBenchSQLite},
	}
	for _, be := range backends {
		var fx *apBenchFixture
		for _, n := range []int{1, 25} {
			b.Run(fmt.Sprintf("%s/passwords=%d", be.name, n), func(b *testing.B) {
				if fx == nil {
					st, db := be.open(parent)
					fx = apBenchSetup(b, st, db)
				}
				ctx := context.Background()
				account, pw := fmt.Sprint("bench-", n), fx.pw[n]
				// The first use records LastUsedAt; the clock stands
				// still, so no later call writes.
				if _, err := fx.ap.Verify(ctx, account, pw); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := fx.ap.Verify(ctx, account, pw); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

type apBenchFixture struct {
	ap *twofa.AppPasswords
	pw map[int]string // by number of passwords of the account: the last created
}

// apBenchSQLite opens a SQLite database file in a temporary directory of
// b (the parent benchmark, so that the file outlives the sub-benchmark
// that fills it), with the settings of sqlstore's example, and migrates it.
func apBenchSQLite(b *testing.B) (twofa.Store, *sql.DB) {
	dir := b.TempDir()
	// synchronous(OFF) only speeds up filling the database: the measured
	// calls do not write.
	dsn := "file:" + filepath.Join(dir, "twofa.db") +
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)&_pragma=foreign_keys(1)&_txlock=immediate"
	return openSQLite(b, dsn)
}

// openSQLite opens dsn with the embedded SQLite driver and returns a
// migrated sqlstore on it, with the database, closed when tb ends.
func openSQLite(tb testing.TB, dsn string) (*sqlstore.Store, *sql.DB) {
	tb.Helper()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	s, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return s, db
}

// apBenchSetup fills st with apBenchOthers accounts, then creates the
// benchmark accounts through the managers.
func apBenchSetup(b *testing.B, st twofa.Store, db *sql.DB) *apBenchFixture {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	clock := twofatest.NewClock(twofatest.Start)
	kr, err := keyring.New(1, map[keyring.KeyID][]byte{1: apBenchRandom(keyring.KeySize)}, apBenchRandom(keyring.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	cfg := twofa.Config{Store: st, Keyring: kr, Issuer: "bench", Clock: clock}
	if db != nil {
		apBenchFillSQL(b, st, db, clock.Now())
	} else {
		for i := range apBenchOthers {
			apBenchFill(b, st, fmt.Sprintf("user-%06d", i), i, clock.Now())
		}
	}
	devices, err := newDevices(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ap, err := newAppPasswords(cfg)
	if err != nil {
		b.Fatal(err)
	}
	fx := &apBenchFixture{ap: ap, pw: map[int]string{}}
	for _, n := range []int{1, 25} {
		account := fmt.Sprint("bench-", n)
		secret, err := twofa.NewSecret()
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := devices.Import(ctx, account, "phone", twofa.Key{Secret: secret}); err != nil {
			b.Fatal(err)
		}
		for j := range n {
			if fx.pw[n], _, err = ap.Create(ctx, account, fmt.Sprint("client ", j)); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Logf("filled the store with %d accounts in %v", apBenchOthers, time.Since(start).Round(time.Millisecond))
	runtime.GC()
	return fx
}

// apBenchFill gives account what the i-th other account has, through the
// store's methods: a confirmed device, 1 + i%3 app passwords with random
// digests, and, for every tenth, an app-password throttle record.
func apBenchFill(b *testing.B, st twofa.Store, account string, i int, now time.Time) {
	ctx := context.Background()
	dev := twofa.Device{
		ID: rand.Text(), Account: account, Label: "phone", Type: twofa.TypeTOTP,
		Algorithm: twofa.SHA1, Digits: 6, Period: 30 * time.Second,
		Sealed: apBenchRandom(1 + 4 + 24 + 20 + 16), // the size of a sealed 160-bit secret
		State:  twofa.DeviceConfirmed, Counter: 58_000_000, CreatedAt: now, ConfirmedAt: now,
	}
	if err := st.InsertDevice(ctx, dev, cfgDefaults(b).Devices.Max, now); err != nil {
		b.Fatal(err)
	}
	for j := range 1 + i%3 {
		p := twofa.AppPassword{
			ID: rand.Text(), Account: account, Label: fmt.Sprint("client ", j),
			Digest: apBenchRandom(keyring.DigestSize), CreatedAt: now,
		}
		if err := st.InsertAppPassword(ctx, p, cfgDefaults(b).AppPasswords.Max); err != nil {
			b.Fatal(err)
		}
	}
	if i%10 == 0 {
		if _, _, err := st.ReserveAttempt(ctx, account, twofa.ScopeAppPassword, now, cfgDefaults(b).Throttle.AppPasswords); err != nil {
			b.Fatal(err)
		}
	}
}

// apBenchFillSQL fills a SQLite store as apBenchFill does, fast: one
// template account is written through the store (so every column has the
// store's own encoding), then copied to each other account in one
// transaction, with fresh ids, sealed blobs and digests from SQLite's
// randomblob. Filling 100,000 accounts call by call would take minutes
// (each store call is a transaction). A check through the store follows.
func apBenchFillSQL(b *testing.B, s twofa.Store, db *sql.DB, now time.Time) {
	ctx := context.Background()
	apBenchFill(b, s, "template", 0, now)
	for j := 1; j < 3; j++ {
		p := twofa.AppPassword{ID: rand.Text(), Account: "template", Label: fmt.Sprint("client ", j),
			Digest: apBenchRandom(keyring.DigestSize), CreatedAt: now}
		if err := s.InsertAppPassword(ctx, p, cfgDefaults(b).AppPasswords.Max); err != nil {
			b.Fatal(err)
		}
	}
	accounts := `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ` + fmt.Sprint(apBenchOthers) + `) `
	stmts := []string{
		accounts + `INSERT INTO twofa_devices (id, account, label, otp_type, algorithm, digits, period_ns, sealed, state,
			counter, drift, resync_step, resync_drift, attempts, created_at, created_at_ns, expires_at, expires_at_ns,
			confirmed_at, confirmed_at_ns, last_used_at, last_used_at_ns)
		SELECT lower(hex(randomblob(16))), printf('user-%06d', n.i), label, otp_type, algorithm, digits, period_ns,
			randomblob(length(sealed)), state, counter, drift, resync_step, resync_drift, attempts,
			created_at, created_at_ns, expires_at, expires_at_ns, confirmed_at, confirmed_at_ns, last_used_at, last_used_at_ns
		FROM n, twofa_devices d WHERE d.account = 'template' ORDER BY n.i`,
		accounts + `INSERT INTO twofa_app_passwords (account, id, label, digest, created_at, created_at_ns, last_used_at, last_used_at_ns)
		SELECT printf('user-%06d', n.i), lower(hex(randomblob(16))), label, randomblob(length(digest)),
			created_at, created_at_ns, last_used_at, last_used_at_ns
		FROM n, twofa_app_passwords p
		WHERE p.account = 'template' AND CAST(substr(p.label, 8) AS INTEGER) <= n.i % 3 ORDER BY n.i, p.seq`,
		accounts + `INSERT INTO twofa_throttles (account, scope, failures, until_at, until_at_ns)
		SELECT printf('user-%06d', n.i), scope, failures, until_at, until_at_ns
		FROM n, twofa_throttles t WHERE t.account = 'template' AND n.i % 10 = 0`,
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}

	// The copies read back through the store as what apBenchFill writes.
	for _, i := range []int{0, 1, 2, 99_999} {
		account := fmt.Sprintf("user-%06d", i)
		devs, err := s.Devices(ctx, account)
		if err != nil || len(devs) != 1 || devs[0].State != twofa.DeviceConfirmed {
			b.Fatalf("%s: devices %+v, %v", account, devs, err)
		}
		ps, err := s.AppPasswords(ctx, account)
		if err != nil || len(ps) != 1+i%3 {
			b.Fatalf("%s: %d app passwords, %v; want %d", account, len(ps), err, 1+i%3)
		}
		for _, p := range ps {
			got, err := s.AppPasswordByDigest(ctx, account, p.Digest)
			if err != nil || got.ID != p.ID || len(p.Digest) != keyring.DigestSize {
				b.Fatalf("%s: AppPasswordByDigest = %+v, %v", account, got, err)
			}
		}
		th, err := s.Throttle(ctx, account, twofa.ScopeAppPassword)
		if err != nil || (th.Failures == 1) != (i%10 == 0) {
			b.Fatalf("%s: throttle %+v, %v", account, th, err)
		}
	}
}

func apBenchRandom(n int) []byte {
	p := make([]byte, n)
	rand.Read(p)
	return p
}
