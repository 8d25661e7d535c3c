package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/sqlstore"
	"github.com/twofa-go/twofa/twofatest"
)

// TestUpgradeFromV1 upgrades, in place, a database of every earlier
// schema version: for each version k from firstRelease (the last
// migration of the first release, 0004_browsers) to SchemaVersion-1, it
// builds the schema of version k from the first k migration files, fills it with the records a real installation wrote
// (built through the API on a memstore, then written in the column layout
// of version k), runs Migrate, and checks through the API of a new
// installation on the migrated store, with the same keyring, that nothing
// was lost: every code, recovery code, app password, trusted browser,
// phone number and sign-in challenge still works as it did, and the
// records read back as they were written.
func TestUpgradeFromV1(t *testing.T) {
	if sqlstore.SchemaVersion <= firstRelease {
		t.Skipf("schema version %d: no release to upgrade from", sqlstore.SchemaVersion)
	}
	fx := buildFixture(t)
	for _, b := range []backend{sqliteFile(), sqliteShared(), postgres()} {
		t.Run(b.name, func(t *testing.T) {
			for k := firstRelease; k < sqlstore.SchemaVersion; k++ {
				t.Run("v"+strconv.Itoa(k), func(t *testing.T) { testUpgradeAPI(t, b, k, fx) })
			}
		})
	}
}

// firstRelease is the schema version of the first release.
const firstRelease = 4

const (
	alice = "alice"
	bob   = "bob"
)

var upgradeAccounts = []string{alice, bob}

// fixture is an installation's state, as its memstore holds it, and what
// its users hold: codes, passwords, tokens.
type fixture struct {
	keys *keyring.Keyring
	at   time.Time // the clock when the records were read

	// Per account: the records, oldest first.
	devices    map[string][]twofa.Device
	throttles  map[string]map[string]twofa.ThrottleState
	apps       map[string][]twofa.AppPassword
	browsers   map[string][]browser.Record
	phones     map[string][]phone.Record
	challenges map[string][]phone.Challenge
	recoveryAt map[string]time.Time

	// Per account: what the API listed.
	deviceList  map[string][]twofa.DeviceInfo
	appList     map[string][]twofa.AppPasswordInfo
	browserList map[string][]browser.Info
	phoneList   map[string][]phone.Info

	// What the users hold.
	recovery     map[string][]string // unused recovery codes, as shown
	usedRecovery string              // alice's code used before the upgrade
	appPasswords map[string][]string // in the order of apps
	liveToken    map[string]string   // a trusted browser's token
	revokedToken string              // alice's revoked browser

	usedTOTP   *twofatest.Device // alice: used at the clock's step already
	freshTOTP  *twofa.TOTP       // alice: imported, SHA-256, 8 digits, 60 s, never used
	hotp       *twofatest.Device // alice: used once
	pendingID  string            // alice: an enrolment never confirmed
	bobTOTP    *twofatest.Device // bob: confirmed, never used
	phonesHeld phoneFixture
}

// scopes are the throttle scopes the installation uses.
var scopes = []string{twofa.ScopeCode, twofa.ScopeRecovery, twofa.ScopeAppPassword}

// buildFixture builds the records through the API of an installation on
// a memstore, with out-of-band codes on, and reads them back.
func buildFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	env := twofatest.New(t)
	env.EnableOutOfBand()
	fx := &fixture{keys: env.Keyring, recoveryAt: map[string]time.Time{},
		recovery: map[string][]string{}, appPasswords: map[string][]string{}, liveToken: map[string]string{}}

	// Phones first: the sign-in code waits out the resend cool-down of
	// the confirmation code, and the rest happens at the clock after it.
	fx.phonesHeld = buildPhones(t, env, alice)

	// Alice: two confirmed TOTP devices and an HOTP one, one TOTP
	// device and the HOTP one used once, and a pending enrolment.
	fx.usedTOTP = env.EnrollTOTP(alice)
	secret, err := twofa.NewSecret()
	must(t, err)
	key := twofa.Key{Type: twofa.TypeTOTP, Account: alice, Secret: secret,
		Algorithm: twofa.SHA256, Digits: 8, Period: 60 * time.Second}
	if _, _, err := env.Devices.Import(ctx, alice, "imported", key); err != nil {
		t.Fatal(err)
	}
	fx.freshTOTP, err = key.TOTP()
	must(t, err)
	fx.hotp = env.EnrollHOTP(alice)
	if _, err := env.TwoFA.Verify(ctx, alice, fx.usedTOTP.Code()); err != nil {
		t.Fatalf("TOTP code before the upgrade: %v", err)
	}
	if _, err := env.TwoFA.Verify(ctx, alice, fx.hotp.Code()); err != nil {
		t.Fatalf("HOTP code before the upgrade: %v", err)
	}
	e, err := env.Devices.Enroll(ctx, alice, "pending", twofa.EnrollOptions{})
	must(t, err)
	fx.pendingID = e.Device.ID

	// Recovery codes, one used.
	fx.recoveryAt[alice] = env.Clock.Now()
	codes, err := env.Recovery.Generate(ctx, alice)
	must(t, err)
	if _, err := env.TwoFA.Verify(ctx, alice, codes[0]); err != nil {
		t.Fatalf("recovery code before the upgrade: %v", err)
	}
	fx.usedRecovery, fx.recovery[alice] = codes[0], codes[1:]

	// App passwords, one used, and a wrong one (a throttle failure).
	for _, label := range []string{"mail", "calendar"} {
		pw, _, err := env.AppPasswords.Create(ctx, alice, label)
		must(t, err)
		fx.appPasswords[alice] = append(fx.appPasswords[alice], pw)
	}
	if _, err := env.AppPasswords.Verify(ctx, alice, fx.appPasswords[alice][1]); err != nil {
		t.Fatalf("app password before the upgrade: %v", err)
	}
	if _, err := env.AppPasswords.Verify(ctx, alice, "aaaa-bbbb-cccc-dddd"); !errors.Is(err, twofa.ErrInvalidAppPassword) {
		t.Fatalf("wrong app password before the upgrade: %v", err)
	}

	// Trusted browsers, one revoked.
	fx.liveToken[alice] = env.TrustBrowser(alice, "Firefox on Linux")
	fx.revokedToken = env.TrustBrowser(alice, "Safari on macOS")
	bs, err := env.Browsers.List(ctx, alice)
	must(t, err)
	must(t, env.Browsers.Revoke(ctx, alice, bs[1].ID))

	// Throttle failures: a wrong one-time code (tried against the open
	// sign-in challenge too) and a wrong recovery code.
	if _, err := env.TwoFA.Verify(ctx, alice, "000000"); !errors.Is(err, twofa.ErrInvalidCode) {
		t.Fatalf("wrong code before the upgrade: %v", err)
	}
	if _, err := env.TwoFA.Verify(ctx, alice, "00000-00000"); !errors.Is(err, twofa.ErrInvalidCode) {
		t.Fatalf("wrong recovery code before the upgrade: %v", err)
	}

	// Bob: a device, recovery codes, an app password, a browser.
	fx.bobTOTP = env.EnrollTOTP(bob)
	fx.recoveryAt[bob] = env.Clock.Now()
	fx.recovery[bob], err = env.Recovery.Generate(ctx, bob)
	must(t, err)
	pw, _, err := env.AppPasswords.Create(ctx, bob, "mail")
	must(t, err)
	fx.appPasswords[bob] = []string{pw}
	fx.liveToken[bob] = env.TrustBrowser(bob, "Chrome on Windows")

	fx.read(t, env)
	return fx
}

// read takes the records from the memstore, and the lists from the API.
func (fx *fixture) read(t *testing.T, env *twofatest.Env) {
	t.Helper()
	ctx := context.Background()
	s := env.Store
	fx.at = env.Clock.Now()
	fx.devices, fx.throttles, fx.apps = map[string][]twofa.Device{}, map[string]map[string]twofa.ThrottleState{}, map[string][]twofa.AppPassword{}
	fx.browsers, fx.phones, fx.challenges = map[string][]browser.Record{}, map[string][]phone.Record{}, map[string][]phone.Challenge{}
	fx.deviceList, fx.appList, fx.browserList, fx.phoneList = map[string][]twofa.DeviceInfo{}, map[string][]twofa.AppPasswordInfo{}, map[string][]browser.Info{}, map[string][]phone.Info{}
	var err error
	for _, a := range upgradeAccounts {
		fx.devices[a], err = s.Devices(ctx, a)
		must(t, err)
		fx.throttles[a] = map[string]twofa.ThrottleState{}
		for _, scope := range scopes {
			st, err := s.Throttle(ctx, a, scope)
			must(t, err)
			if st != (twofa.ThrottleState{}) {
				fx.throttles[a][scope] = st
			}
		}
		fx.apps[a], err = s.AppPasswords(ctx, a)
		must(t, err)
		fx.browsers[a], err = s.Browsers(ctx, a)
		must(t, err)
		fx.phones[a], err = s.Phones(ctx, a)
		must(t, err)
		// The challenges that are not voided, oldest first.
		for _, purpose := range []phone.Purpose{phone.PurposeSignIn, phone.PurposeConfirm} {
			cs, err := s.LiveChallenges(ctx, a, purpose, fx.at)
			must(t, err)
			slices.Reverse(cs)
			fx.challenges[a] = append(fx.challenges[a], cs...)
		}
		slices.SortStableFunc(fx.challenges[a], func(x, y phone.Challenge) int { return x.CreatedAt.Compare(y.CreatedAt) })
		if n, err := s.RecoveryCodesLeft(ctx, a); err != nil || n != len(fx.recovery[a]) {
			t.Fatalf("%s: %d recovery codes left (%v), want %d", a, n, err, len(fx.recovery[a]))
		}

		fx.deviceList[a], err = env.Devices.List(ctx, a)
		must(t, err)
		fx.appList[a], err = env.AppPasswords.List(ctx, a)
		must(t, err)
		fx.browserList[a], err = env.Browsers.List(ctx, a)
		must(t, err)
		fx.phoneList[a], err = env.Phones.List(ctx, a)
		must(t, err)
	}
	// What the test relies on.
	if len(fx.devices[alice]) != 4 || len(fx.deviceList[alice]) != 4 || fx.throttles[alice][twofa.ScopeCode].Failures == 0 ||
		fx.throttles[alice][twofa.ScopeCode].Forgiven.IsZero() || fx.throttles[alice][twofa.ScopeRecovery].Failures == 0 ||
		fx.throttles[alice][twofa.ScopeAppPassword].Failures == 0 || len(fx.browsers[alice]) != 2 || len(fx.phones[alice]) != 2 ||
		len(fx.challenges[alice]) != 3 || len(fx.devices[bob]) != 1 {
		t.Fatalf("fixture: devices %d (%d listed), throttles %v, browsers %d, phones %d, challenges %d, bob's devices %d",
			len(fx.devices[alice]), len(fx.deviceList[alice]), fx.throttles[alice], len(fx.browsers[alice]), len(fx.phones[alice]),
			len(fx.challenges[alice]), len(fx.devices[bob]))
	}
}

// layoutWriter inserts rows in the column layout of the schema it finds
// in the database: a time in two columns (<name> Unix seconds, <name>_ns
// nanoseconds, the zero Time as (-62135596800, 0)) where the table has
// <name>_ns, else in one of Unix nanoseconds (the zero Time as
// math.MinInt64); a throttle's forgiven_at only where the table has it,
// as Unix nanoseconds with 0 for none while times take two columns (0005)
// and math.MinInt64 after (0006).
type layoutWriter struct {
	t       *testing.T
	db      *sql.DB
	dialect sqlstore.Dialect
	prefix  string
	cols    map[string]map[string]bool
}

func (w *layoutWriter) columns(table string) map[string]bool {
	w.t.Helper()
	if c, ok := w.cols[table]; ok {
		return c
	}
	var rows *sql.Rows
	var err error
	if w.dialect == sqlstore.Postgres {
		rows, err = w.db.Query(`SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`, w.prefix+table)
	} else {
		rows, err = w.db.Query(`SELECT name FROM pragma_table_info(?)`, w.prefix+table)
	}
	must(w.t, err)
	defer rows.Close()
	c := map[string]bool{}
	for rows.Next() {
		var n string
		must(w.t, rows.Scan(&n))
		c[n] = true
	}
	must(w.t, rows.Err())
	if len(c) == 0 {
		w.t.Fatalf("no table %s%s", w.prefix, table)
	}
	w.cols[table] = c
	return c
}

func (w *layoutWriter) insert(table string, kv ...any) {
	w.t.Helper()
	cols := w.columns(table)
	var names, marks []string
	var args []any
	add := func(col string, v any) {
		if !cols[col] {
			w.t.Fatalf("%s%s has no column %s", w.prefix, table, col)
		}
		names = append(names, col)
		args = append(args, v)
		if w.dialect == sqlstore.Postgres {
			marks = append(marks, "$"+strconv.Itoa(len(args)))
		} else {
			marks = append(marks, "?")
		}
	}
	for i := 0; i < len(kv); i += 2 {
		col := kv[i].(string)
		switch v := kv[i+1].(type) {
		case time.Time:
			switch {
			case cols[col+"_ns"]:
				add(col, v.Unix())
				add(col+"_ns", int64(v.Nanosecond()))
			case v.IsZero():
				add(col, int64(math.MinInt64))
			default:
				add(col, v.UnixNano())
			}
		case []byte:
			if v == nil {
				v = []byte{}
			}
			add(col, v)
		default:
			add(col, v)
		}
	}
	q := "INSERT INTO " + w.prefix + table + " (" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")"
	if _, err := w.db.Exec(q, args...); err != nil {
		w.t.Fatalf("%s: %v", q, err)
	}
}

// write inserts the fixture's records.
func (w *layoutWriter) write(fx *fixture) {
	w.t.Helper()
	for _, a := range upgradeAccounts {
		for _, d := range fx.devices[a] {
			w.insert("devices", "id", d.ID, "account", d.Account, "label", d.Label,
				"otp_type", int64(d.Type), "algorithm", int64(d.Algorithm), "digits", int64(d.Digits),
				"period_ns", int64(d.Period), "sealed", d.Sealed, "state", int64(d.State),
				"counter", v1U64(d.Counter), "drift", d.Drift, "resync_step", v1U64(d.ResyncStep),
				"resync_drift", d.ResyncDrift, "attempts", int64(d.Attempts),
				"created_at", d.CreatedAt, "expires_at", d.ExpiresAt, "confirmed_at", d.ConfirmedAt, "last_used_at", d.LastUsedAt)
		}
		for _, scope := range scopes {
			st, ok := fx.throttles[a][scope]
			if !ok {
				continue
			}
			kv := []any{"account", a, "scope", scope, "failures", int64(st.Failures), "until_at", st.Until}
			if cols := w.columns("throttles"); cols["forgiven_at"] {
				var forgiven int64
				switch {
				case !st.Forgiven.IsZero():
					forgiven = st.Forgiven.UnixNano()
				case cols["until_at_ns"]:
					forgiven = 0
				default:
					forgiven = math.MinInt64
				}
				kv = append(kv, "forgiven_at", forgiven)
			}
			w.insert("throttles", kv...)
		}
		for _, c := range fx.recovery[a] {
			w.insert("recovery_codes", "account", a, "digest", recoveryDigest(w.t, fx.keys, a, c), "created_at", fx.recoveryAt[a])
		}
		for _, p := range fx.apps[a] {
			w.insert("app_passwords", "account", p.Account, "id", p.ID, "label", p.Label, "digest", p.Digest,
				"created_at", p.CreatedAt, "last_used_at", p.LastUsedAt)
		}
		numbers := map[string]string{}
		for _, p := range fx.phones[a] {
			numbers[p.ID] = p.Number.E164
			w.insert("phones", "account", p.Account, "id", p.ID, "e164", p.Number.E164,
				"country_code", int64(p.Number.CountryCode), "state", int64(p.State),
				"created_at", p.CreatedAt, "expires_at", p.ExpiresAt, "confirmed_at", p.ConfirmedAt, "last_used_at", p.LastUsedAt)
		}
		for _, c := range fx.challenges[a] {
			w.insert("challenges", "account", c.Account, "id", c.ID, "phone_id", c.PhoneID, "e164", numbers[c.PhoneID],
				"purpose", int64(c.Purpose), "channel", int64(c.Channel), "state", int64(c.State),
				"digest", c.Digest, "attempts", int64(c.Attempts),
				"created_at", c.CreatedAt, "expires_at", c.ExpiresAt, "used_at", c.UsedAt)
		}
		for _, b := range fx.browsers[a] {
			w.insert("browsers", "account", b.Account, "id", b.ID, "label", b.Label, "digest", b.Digest,
				"created_at", b.CreatedAt, "expires_at", b.ExpiresAt, "last_used_at", b.LastUsedAt, "revoked_at", b.RevokedAt)
		}
	}
}

// recoveryDigest is what RecoveryCodes.Generate stores for a code as
// shown: the keyed digest of the code without its hyphen.
func recoveryDigest(t *testing.T, kr *keyring.Keyring, account, code string) []byte {
	t.Helper()
	d, err := kr.Digest(twofa.PurposeRecoveryCode, account, []byte(strings.ReplaceAll(code, "-", "")))
	must(t, err)
	return d
}

func testUpgradeAPI(t *testing.T, b backend, k int, fx *fixture) {
	ctx := context.Background()
	dbs, prefix := b.dbs(t, 1)
	db := dbs[0]
	applyMigrations(t, db, b.dialect, prefix, k)
	w := &layoutWriter{t: t, db: db, dialect: b.dialect, prefix: prefix, cols: map[string]map[string]bool{}}
	w.write(fx)

	s, err := sqlstore.New(db, b.dialect, sqlstore.Options{TablePrefix: prefix})
	must(t, err)
	must(t, s.Migrate(ctx))
	if vs := (inspector{db, b.dialect}).versions(t, prefix); !slices.Equal(vs, allVersions()) {
		t.Fatalf("schema_version rows %v, want %v", vs, allVersions())
	}

	// The records, as they were written. Before 0005 a throttle had no
	// budget: its Forgiven was never written and comes back as none.
	// A schema before 0010 kept no MACs: the devices come back without.
	for _, a := range upgradeAccounts {
		var unauthenticated []twofa.Device
		for _, d := range fx.devices[a] {
			d.MAC = nil
			unauthenticated = append(unauthenticated, d)
		}
		sameRecords(t, a+": Devices", got(s.Devices(ctx, a))(t), unauthenticated)
		for _, scope := range scopes {
			want := fx.throttles[a][scope]
			if !w.columns("throttles")["forgiven_at"] {
				want.Forgiven = time.Time{}
			}
			st, err := s.Throttle(ctx, a, scope)
			must(t, err)
			sameRecord(t, a+": Throttle("+scope+")", st, want)
		}
		sameRecords(t, a+": AppPasswords", got(s.AppPasswords(ctx, a))(t), fx.apps[a])
		sameRecords(t, a+": Browsers", got(s.Browsers(ctx, a))(t), withoutBrowserMACs(fx.browsers[a]))
		sameRecords(t, a+": Phones", got(s.Phones(ctx, a))(t), withoutPhoneMACs(fx.phones[a]))
		for _, c := range fx.challenges[a] {
			got, err := s.Challenge(ctx, a, c.ID)
			must(t, err)
			c.MAC = nil // a schema before 0010 kept no MACs
			sameRecord(t, a+": Challenge("+c.ID+")", got, c)
		}
		if n, err := s.RecoveryCodesLeft(ctx, a); err != nil || n != len(fx.recovery[a]) {
			t.Errorf("%s: RecoveryCodesLeft %d, %v; want %d", a, n, err, len(fx.recovery[a]))
		}
	}

	// A new installation on the migrated store, with the same keyring, at
	// the same time.
	clock := twofatest.NewClock(fx.at)
	sender := &twofatest.Sender{}
	tf, err := twofa.New(twofa.Config{Store: s, Keyring: fx.keys, Issuer: "twofatest", Clock: clock})
	must(t, err)
	browsers, err := browser.New(tf, browser.Config{})
	must(t, err)
	phones, err := phone.New(tf, phone.Config{Sender: sender, OutOfBand: true})
	must(t, err)

	// A device without a MAC is refused, unevaluated, until UpgradeMACs
	// has given it one; UpgradeMACs gives every device and phone number
	// the MAC the memstore installation computed for the same state, and
	// a second run changes nothing.
	if _, err := tf.Verify(ctx, bob, fx.bobTOTP.CodeAt(clock.Now())); !errors.Is(err, twofa.ErrTampered) {
		t.Errorf("bob's TOTP code before UpgradeMACs: %v, want ErrTampered", err)
	}
	total := 0
	for _, a := range upgradeAccounts {
		total += len(fx.devices[a]) + len(fx.phones[a])
	}
	if n, err := tf.UpgradeMACs(ctx); err != nil || n != total {
		t.Errorf("UpgradeMACs: %d, %v; want %d", n, err, total)
	}
	if n, err := tf.UpgradeMACs(ctx); err != nil || n != 0 {
		t.Errorf("UpgradeMACs again: %d, %v; want 0", n, err)
	}
	for _, a := range upgradeAccounts {
		sameRecords(t, a+": Devices after UpgradeMACs", got(s.Devices(ctx, a))(t), fx.devices[a])
		sameRecords(t, a+": Phones after UpgradeMACs", got(s.Phones(ctx, a))(t), fx.phones[a])
	}

	// The lists, as the memstore installation gave them.
	for _, a := range upgradeAccounts {
		sameRecords(t, a+": Devices.List", got(tf.Devices.List(ctx, a))(t), fx.deviceList[a])
		sameRecords(t, a+": AppPasswords.List", got(tf.AppPasswords.List(ctx, a))(t), fx.appList[a])
		sameRecords(t, a+": Browsers.List", got(browsers.List(ctx, a))(t), fx.browserList[a])
	}
	pending := -1
	for i, d := range got(tf.Devices.List(ctx, alice))(t) {
		if d.ID == fx.pendingID {
			pending = i
			if d.State != twofa.DevicePending {
				t.Errorf("the pending device is %v", d.State)
			}
		}
	}
	if pending < 0 {
		t.Error("the pending device is not listed")
	}

	// Phones first: every 6-digit code Verify refuses counts against the
	// open sign-in challenge too.
	checkPhones(t, tf, phones, clock, sender, alice, fx.phonesHeld, fx.phoneList[alice])

	// Devices: each confirmed one verifies its next code, once; the codes
	// used before the upgrade are replays.
	verify := func(what, code string, want error) {
		t.Helper()
		_, err := tf.Verify(ctx, alice, code)
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", what, err, want)
		}
	}
	fresh, err := fx.freshTOTP.Code(clock.Now())
	must(t, err)
	verify("the imported TOTP device's code", fresh, nil)
	verify("the imported TOTP device's code again", fresh, twofa.ErrReplayed)
	verify("the TOTP code used before the upgrade", fx.usedTOTP.CodeAt(clock.Now()), twofa.ErrReplayed)
	hotpDev := deviceOfType(t, fx.devices[alice], twofa.TypeHOTP)
	verify("the HOTP code used before the upgrade", fx.hotp.HOTPCode(hotpDev.Counter-1), twofa.ErrReplayed)
	verify("the HOTP device's next code", fx.hotp.HOTPCode(hotpDev.Counter), nil)
	verify("the HOTP device's next code again", fx.hotp.HOTPCode(hotpDev.Counter), twofa.ErrReplayed)
	clock.Advance(30 * time.Second)
	verify("the used TOTP device's next code", fx.usedTOTP.CodeAt(clock.Now()), nil)
	verify("the used TOTP device's next code again", fx.usedTOTP.CodeAt(clock.Now()), twofa.ErrReplayed)

	// App passwords verify; another account's do not.
	for i, pw := range fx.appPasswords[alice] {
		info, err := tf.AppPasswords.Verify(ctx, alice, pw)
		if err != nil || info.ID != fx.apps[alice][i].ID {
			t.Errorf("app password %d: %v, %v", i, info.ID, err)
		}
	}
	if _, err := tf.AppPasswords.Verify(ctx, bob, fx.appPasswords[alice][0]); !errors.Is(err, twofa.ErrInvalidAppPassword) {
		t.Errorf("alice's app password for bob: %v", err)
	}

	// Browsers: a browser trusted before the MACs is trusted no more
	// (its owner passes a second factor once, and trusts it again): its
	// revocation was not authenticated, so nothing can tell a live record
	// from a revoked one revived. The revoked one stays revoked.
	if _, err := browsers.Check(ctx, alice, fx.liveToken[alice]); !errors.Is(err, browser.ErrNotTrusted) || !errors.Is(err, twofa.ErrTampered) {
		t.Errorf("the browser trusted before the upgrade: %v, want ErrNotTrusted and ErrTampered", err)
	}
	if _, err := browsers.Check(ctx, alice, fx.revokedToken); !errors.Is(err, browser.ErrRevoked) {
		t.Errorf("the revoked browser: %v, want ErrRevoked", err)
	}
	if _, err := browsers.Check(ctx, alice, fx.liveToken[bob]); !errors.Is(err, browser.ErrUnknown) {
		t.Errorf("bob's browser for alice: %v, want ErrUnknown", err)
	}

	// Recovery codes: the one used before the upgrade stays used, every
	// other one verifies once.
	verify("the recovery code used before the upgrade", fx.usedRecovery, twofa.ErrInvalidCode)
	for i, c := range fx.recovery[alice] {
		res, err := tf.Verify(ctx, alice, c)
		if err != nil || res.RecoveryCodesLeft != len(fx.recovery[alice])-1-i {
			t.Errorf("recovery code %d: %+v, %v", i, res, err)
		}
		verify(fmt.Sprintf("recovery code %d again", i), c, twofa.ErrInvalidCode)
	}

	// Bob is untouched by all of this, and his factors work.
	sameRecords(t, "bob: Devices", got(s.Devices(ctx, bob))(t), fx.devices[bob])
	sameRecords(t, "bob: AppPasswords", got(s.AppPasswords(ctx, bob))(t), fx.apps[bob])
	sameRecords(t, "bob: Browsers", got(s.Browsers(ctx, bob))(t), withoutBrowserMACs(fx.browsers[bob]))
	if n, err := tf.Recovery.Remaining(ctx, bob); err != nil || n != twofa.RecoveryCodeCount {
		t.Errorf("bob's recovery codes: %d, %v", n, err)
	}
	if _, err := tf.Verify(ctx, bob, fx.bobTOTP.CodeAt(clock.Now())); err != nil {
		t.Errorf("bob's TOTP code: %v", err)
	}
	if _, err := tf.Verify(ctx, bob, fx.recovery[bob][0]); err != nil {
		t.Errorf("bob's recovery code: %v", err)
	}
	if _, err := tf.AppPasswords.Verify(ctx, bob, fx.appPasswords[bob][0]); err != nil {
		t.Errorf("bob's app password: %v", err)
	}
	if _, err := browsers.Check(ctx, bob, fx.liveToken[bob]); !errors.Is(err, twofa.ErrTampered) {
		t.Errorf("bob's browser trusted before the upgrade: %v, want ErrTampered", err)
	}
	tok, _, err := browsers.Trust(ctx, bob, "Chrome on Windows")
	must(t, err)
	if _, err := browsers.Check(ctx, bob, tok); err != nil {
		t.Errorf("bob's browser trusted again: %v", err)
	}
}

// withoutPhoneMACs returns ps as a schema before 0010 keeps them.
func withoutPhoneMACs(ps []phone.Record) []phone.Record {
	var out []phone.Record
	for _, p := range ps {
		p.MAC = nil
		out = append(out, p)
	}
	return out
}

// withoutBrowserMACs returns bs as a schema before 0010 keeps them.
func withoutBrowserMACs(bs []browser.Record) []browser.Record {
	var out []browser.Record
	for _, b := range bs {
		b.MAC = nil
		out = append(out, b)
	}
	return out
}

// deviceOfType returns the one device of type typ.
func deviceOfType(t *testing.T, ds []twofa.Device, typ twofa.Type) twofa.Device {
	t.Helper()
	for _, d := range ds {
		if d.Type == typ {
			return d
		}
	}
	t.Fatalf("no %v device", typ)
	return twofa.Device{}
}

// got returns a function that fails the test if err is not nil, and
// returns v: got(f())(t).
func got[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		must(t, err)
		return v
	}
}

// sameRecords compares two lists of records with sameRecord.
func sameRecords[T any](t *testing.T, what string, got, want []T) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d records, want %d", what, len(got), len(want))
		return
	}
	for i := range got {
		sameRecord(t, fmt.Sprintf("%s[%d]", what, i), got[i], want[i])
	}
}

// Phones. (Kept apart: the phone API is to move to a package of its own.)

// phoneFixture is what the owner of alice's phones holds.
type phoneFixture struct {
	trustedID  string
	signInCode string // the open sign-in challenge's code
	pendingID  string
	verifyCode string // the pending number's confirmation code
}

var (
	trustedNumber = phone.Number{E164: "+14155550100", CountryCode: 1}
	pendingNumber = phone.Number{E164: "+442079460000", CountryCode: 44}
)

// buildPhones gives the account a trusted number with an open sign-in
// code, and a pending number with an open confirmation code.
func buildPhones(t *testing.T, env *twofatest.Env, account string) phoneFixture {
	t.Helper()
	ctx := context.Background()
	var p phoneFixture
	p.trustedID = env.TrustPhone(account, trustedNumber)
	ph, err := env.Phones.Add(ctx, account, pendingNumber)
	must(t, err)
	p.pendingID = ph.ID
	if _, err := env.Phones.SendCode(ctx, account, p.pendingID, phone.SMS); err != nil {
		t.Fatal(err)
	}
	p.verifyCode = env.Sender.Code(pendingNumber.E164)
	env.Clock.Advance(env.ResendCooldown())
	p.signInCode = env.SignInCode(account, p.trustedID)
	return p
}

// checkPhones checks, through the API of tf, that the account's numbers
// list as before, its sign-in code verifies as a second factor, and its
// pending number confirms with its code.
//
// A code sent before the upgrade is refused (its challenge has no MAC, so
// nothing tells it from a used one set back to open): its owner asks for
// another, which works.
func checkPhones(t *testing.T, tf *twofa.TwoFA, phones *phone.Manager, clock *twofatest.Clock, sender *twofatest.Sender, account string, p phoneFixture, want []phone.Info) {
	t.Helper()
	ctx := context.Background()
	got, err := phones.List(ctx, account)
	must(t, err)
	sameRecords(t, "Phones.List", got, want)
	for i := range min(len(got), len(want)) {
		if got[i].Number.Masked() != want[i].Number.Masked() {
			t.Errorf("Phones.List[%d]: %s, want %s", i, got[i].Number.Masked(), want[i].Number.Masked())
		}
	}
	if len(got) != 2 || got[0].State != phone.Trusted || got[1].State != phone.Pending {
		t.Errorf("Phones.List: %v", got)
	}
	if _, err := tf.Verify(ctx, account, p.signInCode); !errors.Is(err, twofa.ErrTampered) {
		t.Errorf("the sign-in code sent before the upgrade: %v, want ErrTampered", err)
	}
	if _, err := phones.Confirm(ctx, account, p.pendingID, p.verifyCode); !errors.Is(err, twofa.ErrTampered) {
		t.Errorf("the pending number's code sent before the upgrade: %v, want ErrTampered", err)
	}
	// New codes, past the resend cool-down; the clock comes back after,
	// for the device codes checked next.
	start := clock.Now()
	defer clock.Set(start)
	clock.Advance(phones.Config().ResendCooldown)
	sent, err := phones.SendCode(ctx, account, p.trustedID, phone.SMS)
	must(t, err)
	res, err := tf.Verify(ctx, account, sender.Code(sent.To.E164))
	if err != nil || res.Factor != phone.Kind {
		t.Errorf("a sign-in code sent after the upgrade: %+v, %v", res, err)
	}
	if _, err := tf.Verify(ctx, account, sender.Code(sent.To.E164)); err == nil {
		t.Error("the sign-in code verified twice")
	}
	sent, err = phones.SendCode(ctx, account, p.pendingID, phone.SMS)
	must(t, err)
	if _, err := phones.Confirm(ctx, account, p.pendingID, sender.Code(sent.To.E164)); err != nil {
		t.Errorf("the pending number's code sent after the upgrade: %v", err)
	}
	got, err = phones.List(ctx, account)
	must(t, err)
	if len(got) != 2 || got[1].State != phone.Trusted {
		t.Errorf("Phones.List after the confirmation: %v", got)
	}
}
