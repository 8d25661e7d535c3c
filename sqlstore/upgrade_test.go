package sqlstore_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/sqlstore"
)

// The upgrade test builds a database with the schema of version 5 (the
// first five migration files, which like every released migration never
// change), fills it with rows as the store of that version wrote them,
// runs Migrate, and reads every record back through the store.

// v1Version is the last schema version with two columns per time.
const v1Version = 5

// applyV1 creates the version-5 schema, and its schema_version rows, in
// db under prefix.
func applyV1(t *testing.T, db *sql.DB, d sqlstore.Dialect, prefix string) {
	t.Helper()
	applyMigrations(t, db, d, prefix, v1Version)
}

// applyMigrations creates the schema of version n (the first n migration
// files of the dialect), and its schema_version rows, in db under prefix.
func applyMigrations(t *testing.T, db *sql.DB, d sqlstore.Dialect, prefix string, n int) {
	t.Helper()
	ctx := context.Background()
	files, err := filepath.Glob(filepath.Join("migrations", d.String(), "*.sql"))
	must(t, err)
	slices.Sort(files)
	if len(files) < n {
		t.Fatalf("migrations/%s has %d migrations, want at least %d", d, len(files), n)
	}
	files = files[:n]
	_, err = db.ExecContext(ctx, "CREATE TABLE "+prefix+"schema_version (version INTEGER NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)")
	must(t, err)
	for i, f := range files {
		src, err := os.ReadFile(f)
		must(t, err)
		var b strings.Builder
		for line := range strings.Lines(string(src)) {
			if !strings.HasPrefix(strings.TrimSpace(line), "--") {
				b.WriteString(line)
			}
		}
		for stmt := range strings.SplitSeq(b.String(), ";\n") {
			if stmt = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(stmt), ";")); stmt != "" {
				if _, err := db.ExecContext(ctx, strings.ReplaceAll(stmt, "{{prefix}}", prefix)); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
			}
		}
		_, err = db.ExecContext(ctx, "INSERT INTO "+prefix+"schema_version (version, applied_at) VALUES ("+strconv.Itoa(i+1)+", 0)")
		must(t, err)
	}
}

// v1Writer inserts rows of the version-5 schema through layoutWriter, which
// encodes them as the version-5 store did: a
// time as Unix seconds and nanoseconds in <name> and <name>_ns (the zero
// Time as (-62135596800, 0)), a uint64 as int64(v XOR 2^63), a throttle's
// forgiven_at as Unix nanoseconds or 0 for none.
type v1Writer struct{ *layoutWriter }

func v1U64(v uint64) int64 { return int64(v ^ 1<<63) }

func (w v1Writer) device(d twofa.Device) {
	w.insert("devices", "id", d.ID, "account", d.Account, "label", d.Label,
		"otp_type", int64(d.Type), "algorithm", int64(d.Algorithm), "digits", int64(d.Digits),
		"period_ns", int64(d.Period), "sealed", d.Sealed, "state", int64(d.State),
		"counter", v1U64(d.Counter), "drift", d.Drift, "resync_step", v1U64(d.ResyncStep),
		"resync_drift", d.ResyncDrift, "attempts", int64(d.Attempts),
		"created_at", d.CreatedAt, "expires_at", d.ExpiresAt, "confirmed_at", d.ConfirmedAt, "last_used_at", d.LastUsedAt)
}

func (w v1Writer) throttle(account, scope string, st twofa.ThrottleState) {
	var forgiven int64
	if !st.Forgiven.IsZero() {
		forgiven = st.Forgiven.UnixNano()
	}
	w.insert("throttles", "account", account, "scope", scope, "failures", int64(st.Failures),
		"until_at", st.Until, "forgiven_at", forgiven)
}

func (w v1Writer) recovery(account string, digest []byte, at time.Time) {
	w.insert("recovery_codes", "account", account, "digest", digest, "created_at", at)
}

func (w v1Writer) app(p twofa.AppPassword) {
	w.insert("app_passwords", "account", p.Account, "id", p.ID, "label", p.Label, "digest", p.Digest,
		"created_at", p.CreatedAt, "last_used_at", p.LastUsedAt)
}

func (w v1Writer) phone(p phone.Record) {
	w.insert("phones", "account", p.Account, "id", p.ID, "e164", p.Number.E164,
		"country_code", int64(p.Number.CountryCode), "state", int64(p.State),
		"created_at", p.CreatedAt, "expires_at", p.ExpiresAt, "confirmed_at", p.ConfirmedAt, "last_used_at", p.LastUsedAt)
}

func (w v1Writer) challenge(c phone.Challenge, e164 string) {
	w.insert("challenges", "account", c.Account, "id", c.ID, "phone_id", c.PhoneID, "e164", e164,
		"purpose", int64(c.Purpose), "channel", int64(c.Channel), "state", int64(c.State),
		"digest", c.Digest, "attempts", int64(c.Attempts),
		"created_at", c.CreatedAt, "expires_at", c.ExpiresAt, "used_at", c.UsedAt)
}

func (w v1Writer) browser(b browser.Record) {
	w.insert("browsers", "account", b.Account, "id", b.ID, "label", b.Label, "digest", b.Digest,
		"created_at", b.CreatedAt, "expires_at", b.ExpiresAt, "last_used_at", b.LastUsedAt, "revoked_at", b.RevokedAt)
}

// sameRecord fails unless got and want (structs of one type) agree in
// every field: times by Equal and IsZero (so to the nanosecond, and the
// zero Time apart from every other), byte slices by content.
func sameRecord(t *testing.T, what string, got, want any) {
	t.Helper()
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range g.NumField() {
		name := g.Type().Field(i).Name
		gf, wf := g.Field(i).Interface(), w.Field(i).Interface()
		switch wv := wf.(type) {
		case time.Time:
			gv := gf.(time.Time)
			if !gv.Equal(wv) || gv.IsZero() != wv.IsZero() {
				t.Errorf("%s: %s = %s, want %s", what, name, gv.Format(time.RFC3339Nano), wv.Format(time.RFC3339Nano))
			}
		case []byte:
			if !bytes.Equal(gf.([]byte), wv) {
				t.Errorf("%s: %s = %x, want %x", what, name, gf, wv)
			}
		default:
			if !reflect.DeepEqual(gf, wf) {
				t.Errorf("%s: %s = %#v, want %#v", what, name, gf, wf)
			}
		}
	}
}

// hotp is RFC 4226's HOTP-SHA1 with 6 digits, computed here so that the
// test depends on no constructor of package twofa.
func hotp(secret []byte, counter uint64) string {
	m := hmac.New(sha1.New, secret)
	var c [8]byte
	binary.BigEndian.PutUint64(c[:], counter)
	m.Write(c[:])
	h := m.Sum(nil)
	o := h[len(h)-1] & 0xf
	v := binary.BigEndian.Uint32(h[o:]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1000000)
}

// Times at the edges of what the store keeps, and beyond.
var (
	firstNano = time.Unix(0, math.MinInt64+1).UTC() // the first time kept
	lastNano  = time.Unix(0, math.MaxInt64).UTC()   // the last time kept
	epoch     = time.Unix(0, 0).UTC()
	preEpoch  = time.Date(1969, 7, 20, 20, 17, 40, 1, time.UTC)
	y1700     = time.Date(1700, 1, 1, 0, 0, 0, 999999999, time.UTC)
)

func TestUpgradeFromTwoColumnTimes(t *testing.T) {
	for _, b := range fileAndPG() {
		t.Run(b.name, func(t *testing.T) { testUpgrade(t, b) })
	}
}

func testUpgrade(t *testing.T, b backend) {
	ctx := context.Background()
	dbs, prefix := b.dbs(t, 1)
	db := dbs[0]
	applyV1(t, db, b.dialect, prefix)
	w := v1Writer{&layoutWriter{t: t, db: db, dialect: b.dialect, prefix: prefix, cols: map[string]map[string]bool{}}}
	const acct = "alice"
	secret := []byte("12345678901234567890") // RFC 4226's test secret, as the sealed blob

	// Devices in every state, with every field away from its zero value
	// somewhere, and times at the edges.
	pending := twofa.Device{ID: "d-pending", Account: acct, Label: "new phone", Type: twofa.TypeTOTP,
		Algorithm: twofa.SHA1, Digits: 6, Period: 30 * time.Second, Sealed: []byte{0, 1, 2, 0}, State: twofa.DevicePending,
		Attempts: 2, CreatedAt: t0, ExpiresAt: t0.Add(10*time.Minute + 999)}
	totp := twofa.Device{ID: "d-totp", Account: acct, Label: `a'b"c;-- ` + "\t", Type: twofa.TypeTOTP,
		Algorithm: twofa.SHA256, Digits: 8, Period: 60 * time.Second, Sealed: secret, State: twofa.DeviceConfirmed,
		Counter: 1<<63 + 5, Drift: math.MinInt64, ResyncStep: 1<<63 + 1, ResyncDrift: math.MaxInt64, Attempts: 4,
		CreatedAt: t0.Add(1), ConfirmedAt: epoch, LastUsedAt: lastNano}
	hotpDev := twofa.Device{ID: "d-hotp", Account: acct, Label: "", Type: twofa.TypeHOTP,
		Algorithm: twofa.SHA1, Digits: 6, Sealed: secret, State: twofa.DeviceConfirmed,
		Counter: 7, Drift: -3, ResyncStep: math.MaxUint64 - 1, ResyncDrift: -1,
		CreatedAt: t0.Add(2), ExpiresAt: preEpoch, ConfirmedAt: y1700, LastUsedAt: firstNano}
	empty := twofa.Device{ID: "d-empty", Account: acct, State: twofa.DeviceConfirmed, Counter: math.MaxUint64 - 1,
		CreatedAt: t0.Add(2)} // same CreatedAt as d-hotp: insertion order decides
	devices := []twofa.Device{pending, totp, hotpDev, empty}
	for _, d := range devices {
		w.device(d)
	}
	// Times the old schema kept but the new range does not: they saturate.
	w.device(twofa.Device{ID: "d-far", Account: "bob", State: twofa.DeviceConfirmed,
		CreatedAt:  time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		LastUsedAt: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)})

	// Throttles: a back-off with nanoseconds and a budget, a cleared one
	// (zero Until) with a budget, one without a budget, one saturated.
	throttles := map[string]twofa.ThrottleState{
		twofa.ScopeCode:     {Failures: 7, Until: t0.Add(time.Hour + 3), Forgiven: t0.Add(36*time.Hour + 5)},
		twofa.ScopeRecovery: {Failures: 0, Until: time.Time{}, Forgiven: t0.Add(999 * time.Second)},
		"app":               {Failures: 3, Until: t0.Add(-1)},
		"far":               {Failures: 80, Until: lastNano},
	}
	for scope, st := range throttles {
		w.throttle(acct, scope, st)
	}

	codes := [][]byte{[]byte("rc-1"), {0, 0, 0}, []byte("rc-3")}
	for _, c := range codes {
		w.recovery(acct, c, t0.Add(-time.Hour-1))
	}

	apps := []twofa.AppPassword{
		{ID: "a1", Account: acct, Label: "mail", Digest: []byte("app-digest-1"), CreatedAt: t0, LastUsedAt: time.Time{}},
		{ID: "a2", Account: acct, Label: "calendar", Digest: []byte{0xff, 0}, CreatedAt: t0.Add(5), LastUsedAt: lastNano},
	}
	for _, p := range apps {
		w.app(p)
	}

	phones := []phone.Record{
		{ID: "p1", Account: acct, Number: phone.Number{E164: "+14155550100", CountryCode: 1}, State: phone.Trusted,
			CreatedAt: t0, ConfirmedAt: t0.Add(time.Minute + 1), LastUsedAt: t0.Add(time.Hour + 2)},
		{ID: "p2", Account: acct, Number: phone.Number{E164: "+442079460000", CountryCode: 44}, State: phone.Pending,
			CreatedAt: t0.Add(3), ExpiresAt: t0.Add(15*time.Minute + 3)},
	}
	for _, p := range phones {
		w.phone(p)
	}
	challenges := []phone.Challenge{
		{ID: "c-open", Account: acct, PhoneID: "p1", Purpose: phone.PurposeSignIn, Channel: phone.SMS,
			State: phone.ChallengeOpen, Digest: []byte("code-digest"), Attempts: 1,
			CreatedAt: t0.Add(10), ExpiresAt: t0.Add(10*time.Minute + 10)},
		{ID: "c-used", Account: acct, PhoneID: "p1", Purpose: phone.PurposeSignIn, Channel: phone.Voice,
			State: phone.ChallengeUsed, Digest: []byte("used-digest"),
			CreatedAt: t0.Add(-time.Minute), ExpiresAt: t0.Add(9 * time.Minute), UsedAt: t0.Add(-time.Second + 7)},
		{ID: "c-voided", Account: acct, PhoneID: "p2", Purpose: phone.PurposeConfirm, Channel: phone.SMS,
			State: phone.ChallengeVoided, Digest: []byte("voided-digest"), Attempts: 3,
			CreatedAt: t0.Add(-2 * time.Minute), ExpiresAt: t0.Add(8 * time.Minute)},
	}
	for _, c := range challenges {
		e164 := phones[0].Number.E164
		if c.PhoneID == "p2" {
			e164 = phones[1].Number.E164
		}
		w.challenge(c, e164)
	}

	browsers := []browser.Record{
		{ID: "b-live", Account: acct, Label: "Firefox on Linux", Digest: []byte("token-digest-1"),
			CreatedAt: t0, ExpiresAt: t0.Add(30*24*time.Hour + 1), LastUsedAt: t0.Add(time.Hour + 9)},
		{ID: "b-revoked", Account: acct, Label: "Safari", Digest: []byte("token-digest-2"),
			CreatedAt: t0.Add(1), ExpiresAt: lastNano, LastUsedAt: t0.Add(1), RevokedAt: t0.Add(2*time.Hour + 11)},
	}
	for _, br := range browsers {
		w.browser(br)
	}

	// The upgrade.
	s, err := sqlstore.New(db, b.dialect, sqlstore.Options{TablePrefix: prefix})
	must(t, err)
	must(t, s.Migrate(ctx))
	in := inspector{db, b.dialect}
	if vs := in.versions(t, prefix); !slices.Equal(vs, allVersions()) {
		t.Errorf("schema_version rows %v, want %v", vs, allVersions())
	}
	if got, want := in.names(t, prefix), withPrefix(prefix); !slices.Equal(got, want) {
		t.Errorf("tables and indexes %v, want %v", got, want)
	}
	if b.dialect == sqlstore.Postgres {
		for _, table := range []string{"devices", "throttles"} {
			var opts sql.NullString
			must(t, db.QueryRow(`SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = $1`, prefix+table).Scan(&opts))
			if opts.String != "fillfactor=80" {
				t.Errorf("%s%s reloptions %q, want fillfactor=80", prefix, table, opts.String)
			}
		}
	}

	// Devices, one by one and listed (oldest first, then insertion order).
	for _, d := range devices {
		got, err := s.Device(ctx, acct, d.ID)
		must(t, err)
		sameRecord(t, "Device("+d.ID+")", got, d)
	}
	ds, err := s.Devices(ctx, acct)
	must(t, err)
	if len(ds) != len(devices) {
		t.Fatalf("Devices: %d, want %d", len(ds), len(devices))
	}
	for i := range ds {
		sameRecord(t, fmt.Sprintf("Devices()[%d]", i), ds[i], devices[i])
	}
	far, err := s.Device(ctx, "bob", "d-far")
	must(t, err)
	if !far.CreatedAt.Equal(lastNano) || !far.LastUsedAt.Equal(firstNano) || !far.ExpiresAt.IsZero() {
		t.Errorf("out-of-range times: CreatedAt %v LastUsedAt %v ExpiresAt %v, want them saturated (and the zero Time kept)",
			far.CreatedAt, far.LastUsedAt, far.ExpiresAt)
	}

	// A device's code still verifies: its sealed secret gives the same
	// code, the replay guard takes the next counter once, and a pending
	// device still confirms before its expiry and not after.
	got, _ := s.Device(ctx, acct, "d-hotp")
	if hotp(got.Sealed, got.Counter) != hotp(secret, hotpDev.Counter) {
		t.Error("the HOTP device's secret gives another code after the upgrade")
	}
	ok, err := advance(ctx, s, acct, "d-hotp", hotpDev.Counter, -3, t0)
	must(t, err)
	if !ok {
		t.Error("AcceptCode refused the HOTP device's next code")
	}
	if ok, _ := advance(ctx, s, acct, "d-hotp", hotpDev.Counter, -3, t0); ok {
		t.Error("AcceptCode accepted a replayed code")
	}
	if ok, _ := advance(ctx, s, acct, "d-totp", totp.Counter-1, 0, t0); ok {
		t.Error("AcceptCode accepted a TOTP step before the stored counter")
	}
	if ok, _ := advance(ctx, s, acct, "d-totp", totp.Counter, 0, t0); !ok {
		t.Error("AcceptCode refused the TOTP device's current step")
	}
	if ok, _ := s.ConfirmDevice(ctx, acct, "d-pending", 1, 0, pending.ExpiresAt, 5, nil, nil); ok {
		t.Error("ConfirmDevice confirmed at ExpiresAt")
	}
	if ok, err := s.ConfirmDevice(ctx, acct, "d-pending", 1, 0, pending.ExpiresAt.Add(-1), 5, nil, nil); err != nil || !ok {
		t.Errorf("ConfirmDevice 1 ns before ExpiresAt: %v, %v", ok, err)
	}

	// Throttles read back, and count on from the migrated state exactly
	// as ThrottlePolicy.Reserve does.
	for scope, want := range throttles {
		st, err := s.Throttle(ctx, acct, scope)
		must(t, err)
		sameRecord(t, "Throttle("+scope+")", st, want)
	}
	p := twofa.ThrottlePolicy{Free: 5, Base: time.Second, Max: time.Hour, Budget: 30, Refill: time.Hour}
	for _, scope := range []string{twofa.ScopeCode, twofa.ScopeRecovery, "app"} {
		at := t0.Add(2 * time.Hour)
		st, ok, err := s.ReserveAttempt(ctx, acct, scope, at, p)
		must(t, err)
		want, wantOK := p.Reserve(throttles[scope], at)
		if ok != wantOK {
			t.Errorf("ReserveAttempt(%s) after the upgrade: %v, want %v", scope, ok, wantOK)
		}
		sameRecord(t, "ReserveAttempt("+scope+")", st, want)
	}

	// Recovery codes still consume, once.
	if n, err := s.RecoveryCodesLeft(ctx, acct); err != nil || n != len(codes) {
		t.Errorf("RecoveryCodesLeft: %d, %v", n, err)
	}
	left, ok, err := s.ConsumeRecoveryCode(ctx, acct, []byte{0, 0, 0}, t0)
	if err != nil || !ok || left != len(codes)-1 {
		t.Errorf("ConsumeRecoveryCode: %d, %v, %v", left, ok, err)
	}
	if _, ok, _ := s.ConsumeRecoveryCode(ctx, acct, []byte{0, 0, 0}, t0); ok {
		t.Error("a recovery code consumed twice")
	}

	// App passwords: looked up by digest, listed, touched.
	for _, want := range apps {
		got, err := s.AppPasswordByDigest(ctx, acct, want.Digest)
		must(t, err)
		sameRecord(t, "AppPasswordByDigest("+want.ID+")", got, want)
	}
	ps, err := s.AppPasswords(ctx, acct)
	must(t, err)
	for i := range ps {
		sameRecord(t, fmt.Sprintf("AppPasswords()[%d]", i), ps[i], apps[i])
	}
	must(t, s.TouchAppPassword(ctx, acct, "a1", t0.Add(1)))
	if got, _ := s.AppPasswordByDigest(ctx, acct, apps[0].Digest); !got.LastUsedAt.Equal(t0.Add(1)) {
		t.Errorf("TouchAppPassword of a never used password: LastUsedAt %v", got.LastUsedAt)
	}
	must(t, s.TouchAppPassword(ctx, acct, "a2", t0))
	if got, _ := s.AppPasswordByDigest(ctx, acct, apps[1].Digest); !got.LastUsedAt.Equal(lastNano) {
		t.Errorf("TouchAppPassword moved LastUsedAt back to %v", got.LastUsedAt)
	}

	// Browsers: the token's digest still checks, the revoked one stays
	// revoked, and a live one can be revoked.
	for _, want := range browsers {
		got, err := s.BrowserByDigest(ctx, acct, want.Digest)
		must(t, err)
		sameRecord(t, "BrowserByDigest("+want.ID+")", got, want)
	}
	bs, err := s.Browsers(ctx, acct)
	must(t, err)
	for i := range bs {
		sameRecord(t, fmt.Sprintf("Browsers()[%d]", i), bs[i], browsers[i])
	}
	if err := s.RevokeBrowser(ctx, acct, "b-revoked", t0); err == nil {
		t.Error("RevokeBrowser of a revoked browser succeeded")
	}
	must(t, s.RevokeBrowser(ctx, acct, "b-live", t0.Add(3)))
	if got, _ := s.BrowserByDigest(ctx, acct, browsers[0].Digest); !got.RevokedAt.Equal(t0.Add(3)) {
		t.Errorf("RevokeBrowser: RevokedAt %v", got.RevokedAt)
	}

	// Phones and challenges read back; the open challenge is live and
	// still takes its code.
	for _, want := range phones {
		got, err := s.Phone(ctx, acct, want.ID)
		must(t, err)
		sameRecord(t, "Phone("+want.ID+")", got, want)
	}
	phs, err := s.Phones(ctx, acct)
	must(t, err)
	for i := range phs {
		sameRecord(t, fmt.Sprintf("Phones()[%d]", i), phs[i], phones[i])
	}
	for _, want := range challenges {
		got, err := s.Challenge(ctx, acct, want.ID)
		must(t, err)
		sameRecord(t, "Challenge("+want.ID+")", got, want)
	}
	live, err := s.LiveChallenges(ctx, acct, phone.PurposeSignIn, t0)
	must(t, err)
	if len(live) != 2 || live[0].ID != "c-open" || live[1].ID != "c-used" {
		t.Errorf("LiveChallenges: %v", live)
	}
	res, attempts, err := s.ConsumeChallenge(ctx, acct, "c-open", []byte("code-digest"), 5, t0.Add(time.Minute), nil, nil)
	if err != nil || res != phone.ConsumeAccepted || attempts != 1 {
		t.Errorf("ConsumeChallenge: %v, %d, %v", res, attempts, err)
	}
	if ok, err := s.ConfirmPhone(ctx, acct, "p2", phones[1].ExpiresAt.Add(-1), nil, nil); err != nil || !ok {
		t.Errorf("ConfirmPhone before ExpiresAt: %v, %v", ok, err)
	}
}
