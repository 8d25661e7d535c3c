package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/signin"
	"github.com/twofa-go/twofa/sqlstore"
	"github.com/twofa-go/twofa/twofatest"
)

// The attacks these tests make are those of someone who can write to the
// database but holds no key: each edits a row with plain SQL, and the
// factor the row stands for must then be refused - never accepted - on
// SQLite and PostgreSQL.

// tamperEnv is an installation on a fresh database of one backend, with
// the raw *sql.DB to edit its rows.
type tamperEnv struct {
	db       *sql.DB
	prefix   string
	tf       *twofa.TwoFA
	browsers *browser.Manager
	phones   *phone.Manager
	sender   *twofatest.Sender
	clock    *twofatest.Clock
	events   *twofatest.Recorder
}

func newTamperEnv(t *testing.T, b backend) *tamperEnv {
	t.Helper()
	dbs, prefix := b.dbs(t, 1)
	s, err := sqlstore.New(dbs[0], b.dialect, sqlstore.Options{TablePrefix: prefix})
	require.NoError(t, err)
	require.NoError(t, s.Migrate(context.Background()))
	clock := twofatest.NewClock(twofatest.Start)
	events := &twofatest.Recorder{}
	tf, err := twofa.New(twofa.Config{Store: s, Keyring: newKeyring(t), Issuer: "Tamper", Clock: clock,
		Events: events.Hook, Throttle: twofa.ThrottleConfig{Codes: wideThrottle, Recovery: wideThrottle}})
	require.NoError(t, err)
	browsers, err := browser.New(tf, browser.Config{})
	require.NoError(t, err)
	sender := &twofatest.Sender{}
	phones, err := phone.New(tf, phone.Config{Sender: sender, OutOfBand: true})
	require.NoError(t, err)
	return &tamperEnv{db: dbs[0], prefix: prefix, tf: tf, browsers: browsers, phones: phones, sender: sender, clock: clock, events: events}
}

// edit runs set (an SQL SET list) on the rows of table that where (an
// SQL condition) selects, and fails unless it changed at least one row.
func (e *tamperEnv) edit(t *testing.T, table, set, where string) {
	t.Helper()
	res, err := e.db.Exec(fmt.Sprintf("UPDATE %s%s SET %s WHERE %s", e.prefix, table, set, where))
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.Positive(t, n, "the edit changed no row")
}

// quote is an SQL string literal of s, which holds no quote.
func quote(s string) string { return "'" + s + "'" }

// refused fails unless err is a refusal by authentication: ErrTampered.
func refused(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, twofa.ErrTampered) {
		t.Errorf("%s: %v, want ErrTampered", what, err)
	}
}

// TestTamperedDeviceAttacks: the two attacks of the issue on devices. A
// counter wound back does not accept a used code again (TOTP and HOTP); a
// pending device marked confirmed does not count for sign-in.
func TestTamperedDeviceAttacks(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		e := newTamperEnv(t, b)
		ctx := context.Background()

		// Replay of a TOTP code.
		totp := twofatest.EnrollDevice(t, e.tf.Devices, e.clock, "alice", twofa.EnrollOptions{})
		code := totp.Code()
		_, err := e.tf.Verify(ctx, "alice", code)
		require.NoError(t, err)
		_, err = e.tf.Verify(ctx, "alice", code)
		require.ErrorIs(t, err, twofa.ErrReplayed)
		e.edit(t, "devices", "counter = counter - 1", "id = "+quote(totp.ID))
		_, err = e.tf.Verify(ctx, "alice", code)
		refused(t, "a used TOTP code after counter - 1", err)
		assert.Positive(t, e.events.Count(twofa.EventTampered))

		// Replay of an HOTP code.
		hotp := twofatest.EnrollDevice(t, e.tf.Devices, e.clock, "bob", twofa.EnrollOptions{Type: twofa.TypeHOTP})
		code = hotp.Code()
		_, err = e.tf.Verify(ctx, "bob", code)
		require.NoError(t, err)
		e.edit(t, "devices", "counter = counter - 1", "id = "+quote(hotp.ID))
		_, err = e.tf.Verify(ctx, "bob", code)
		refused(t, "a used HOTP code after counter - 1", err)

		// A pending device marked confirmed: its secret was never proven.
		// (carol has a confirmed device, so that Verify runs at all.)
		twofatest.EnrollDevice(t, e.tf.Devices, e.clock, "carol", twofa.EnrollOptions{})
		en, err := e.tf.Devices.Enroll(ctx, "carol", "never confirmed", twofa.EnrollOptions{})
		require.NoError(t, err)
		e.edit(t, "devices", "state = 2", "id = "+quote(en.Device.ID))
		gen, err := en.Key.TOTP()
		require.NoError(t, err)
		c, err := gen.Code(e.clock.Now())
		require.NoError(t, err)
		_, err = e.tf.Verify(ctx, "carol", c)
		refused(t, "a code of a pending device marked confirmed", err)
	})
}

// deviceColumn is a bound column of the devices table and an edit of it.
type deviceColumn struct {
	column, set string
	// sealed: the column is also bound by the sealed secret, which then
	// fails to open (ErrInvalidSealed) - refused either way.
	sealed bool
}

var deviceColumns = []deviceColumn{
	{column: "state", set: "state = CASE state WHEN 1 THEN 2 ELSE 1 END"},
	{column: "counter", set: "counter = CASE WHEN counter > -9223372036854775807 - 1 THEN counter - 1 ELSE counter + 1 END"},
	{column: "drift", set: "drift = drift + 1"},
	{column: "resync_step", set: "resync_step = resync_step + 7"},
	{column: "resync_drift", set: "resync_drift = resync_drift - 1"},
	{column: "attempts", set: "attempts = attempts - 1"},
	{column: "expires_at", set: "expires_at = expires_at + 315360000000000000"}, // ten years on
	{column: "mac", set: "mac = (SELECT mac FROM {{prefix}}devices o WHERE o.account = 'other')"},
	{column: "mac (none)", set: "mac = substr(mac, 1, 0)"},
	{column: "otp_type", set: "otp_type = 1 - otp_type", sealed: true},
	{column: "algorithm", set: "algorithm = algorithm + 1", sealed: true},
	{column: "digits", set: "digits = digits + 2", sealed: true},
	{column: "period_ns", set: "period_ns = period_ns + 30000000000", sealed: true},
}

// TestTamperedDeviceColumns flips each bound column of the devices table
// in turn, on every device of a fresh account - a confirmed one with a
// used code and a pending one with a wrong try counted - and expects
// every use of either to be refused: a code of the confirmed device, the
// used code again, the pending device's code at sign-in and at
// confirmation.
func TestTamperedDeviceColumns(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		e := newTamperEnv(t, b)
		ctx := context.Background()
		twofatest.EnrollDevice(t, e.tf.Devices, e.clock, "other", twofa.EnrollOptions{})
		for i, col := range deviceColumns {
			t.Run(col.column, func(t *testing.T) {
				acct := fmt.Sprintf("acct-%d", i)
				conf := twofatest.EnrollDevice(t, e.tf.Devices, e.clock, acct, twofa.EnrollOptions{})
				used := conf.Code()
				_, err := e.tf.Verify(ctx, acct, used)
				require.NoError(t, err)
				en, err := e.tf.Devices.Enroll(ctx, acct, "pending", twofa.EnrollOptions{})
				require.NoError(t, err)
				gen, err := en.Key.TOTP()
				require.NoError(t, err)
				pendingCode, err := gen.Code(e.clock.Now())
				require.NoError(t, err)
				wrong := "000000"
				if wrong == pendingCode {
					wrong = "111111"
				}
				_, err = e.tf.Devices.Confirm(ctx, acct, en.Device.ID, wrong)
				require.ErrorIs(t, err, twofa.ErrInvalidCode)

				e.edit(t, "devices", strings.ReplaceAll(col.set, "{{prefix}}", e.prefix), "account = "+quote(acct))
				e.clock.Advance(30 * time.Second)

				check := func(what string, err error) {
					t.Helper()
					if col.sealed {
						if err == nil {
							t.Errorf("%s: accepted", what)
						}
						return
					}
					refused(t, what, err)
				}
				_, err = e.tf.Verify(ctx, acct, used)
				if err == nil {
					t.Error("the used code: accepted")
				}
				if col.column == "state" {
					// The confirmed device is pending now, and tried by
					// Confirm; the pending one confirmed, and tried by
					// Verify.
					c, err := gen.Code(e.clock.Now())
					require.NoError(t, err)
					_, err = e.tf.Verify(ctx, acct, c)
					check("the pending device's code at sign-in", err)
					_, err = e.tf.Devices.Confirm(ctx, acct, conf.ID, conf.Code())
					check("the confirmed device's code at confirmation", err)
					return
				}
				_, err = e.tf.Verify(ctx, acct, conf.Code())
				check("a fresh code", err)
				c, err := gen.Code(e.clock.Now())
				require.NoError(t, err)
				_, err = e.tf.Devices.Confirm(ctx, acct, en.Device.ID, c)
				check("the pending device's code at confirmation", err)
			})
		}
	})
}

// noTime is the zero time.Time as the store keeps it.
const noTime = "(-9223372036854775807 - 1)"

// TestTamperedBrowserAttack: the attack on trusted browsers. A
// revoked browser whose revocation is cleared and whose expiry is pushed
// ten years out does not sign in without a second factor.
func TestTamperedBrowserAttack(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		e := newTamperEnv(t, b)
		ctx := context.Background()
		twofatest.EnrollDevice(t, e.tf.Devices, e.clock, "alice", twofa.EnrollOptions{})
		tok, info, err := e.browsers.Trust(ctx, "alice", "Firefox")
		require.NoError(t, err)
		require.NoError(t, e.browsers.Revoke(ctx, "alice", info.ID))
		_, err = e.browsers.Check(ctx, "alice", tok)
		require.ErrorIs(t, err, browser.ErrRevoked)
		e.edit(t, "browsers", "revoked_at = "+noTime+", expires_at = expires_at + 315360000000000000", "id = "+quote(info.ID))
		_, err = e.browsers.Check(ctx, "alice", tok)
		require.ErrorIs(t, err, browser.ErrNotTrusted)
		refused(t, "a revoked browser revived", err)
		assert.Positive(t, e.events.Count(twofa.EventTampered))
	})
}

// browserColumns are the bound columns of the browsers table and an edit
// of each; label, created_at and last_used_at decide nothing and are not
// bound.
var browserColumns = []struct {
	column, set string
	tampered    bool // refused as tampered (else as unknown or revoked)
}{
	{column: "expires_at", set: "expires_at = expires_at + 315360000000000000", tampered: true},
	{column: "id", set: "id = id || 'x'", tampered: true},
	{column: "mac", set: "mac = (SELECT mac FROM {{prefix}}browsers o WHERE o.account = 'other')", tampered: true},
	{column: "mac (none)", set: "mac = substr(mac, 1, 0)", tampered: true},
	{column: "digest", set: "digest = (SELECT digest FROM {{prefix}}browsers o WHERE o.account = 'other')"},
	{column: "account", set: "account = 'elsewhere'"},
	{column: "revoked_at", set: "revoked_at = 1"},
}

// TestTamperedBrowserColumns flips each bound column of a live trusted
// browser in turn and expects its token refused.
func TestTamperedBrowserColumns(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		e := newTamperEnv(t, b)
		ctx := context.Background()
		twofatest.EnrollDevice(t, e.tf.Devices, e.clock, "other", twofa.EnrollOptions{})
		_, _, err := e.browsers.Trust(ctx, "other", "Other")
		require.NoError(t, err)
		for i, col := range browserColumns {
			t.Run(col.column, func(t *testing.T) {
				acct := fmt.Sprintf("browser-%d", i)
				twofatest.EnrollDevice(t, e.tf.Devices, e.clock, acct, twofa.EnrollOptions{})
				tok, info, err := e.browsers.Trust(ctx, acct, "Firefox")
				require.NoError(t, err)
				_, err = e.browsers.Check(ctx, acct, tok)
				require.NoError(t, err)
				e.edit(t, "browsers", strings.ReplaceAll(col.set, "{{prefix}}", e.prefix), "id = "+quote(info.ID))
				_, err = e.browsers.Check(ctx, acct, tok)
				require.ErrorIs(t, err, browser.ErrNotTrusted)
				if col.tampered {
					refused(t, "the token", err)
				}
			})
		}
	})
}

// trustPhone gives account a trusted phone number (its confirmation code
// typed from the text) and returns the phone's id and number, with the
// clock past the resend cool-down.
func (e *tamperEnv) trustPhone(t *testing.T, account string, i int) (string, phone.Number) {
	t.Helper()
	ctx := context.Background()
	n := phone.Number{E164: fmt.Sprintf("+1415555%04d", i), CountryCode: 1}
	p, err := e.phones.Add(ctx, account, n)
	require.NoError(t, err)
	_, err = e.phones.SendCode(ctx, account, p.ID, phone.SMS)
	require.NoError(t, err)
	_, err = e.phones.Confirm(ctx, account, p.ID, e.sender.Code(n.E164))
	require.NoError(t, err)
	e.clock.Advance(e.phones.Config().ResendCooldown)
	return p.ID, n
}

// signInCode sends a sign-in code to the phone and returns it.
func (e *tamperEnv) signInCode(t *testing.T, account, phoneID string, n phone.Number) string {
	t.Helper()
	_, err := e.phones.SendCode(context.Background(), account, phoneID, phone.SMS)
	require.NoError(t, err)
	return e.sender.Code(n.E164)
}

// TestTamperedChallengeAttack: the attack on out-of-band codes.
// A used sign-in challenge set back to open does not accept its code a
// second time.
func TestTamperedChallengeAttack(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		e := newTamperEnv(t, b)
		ctx := context.Background()
		id, n := e.trustPhone(t, "alice", 1)
		code := e.signInCode(t, "alice", id, n)
		res, err := e.tf.Verify(ctx, "alice", code)
		require.NoError(t, err)
		require.Equal(t, phone.Kind, res.Factor)
		_, err = e.tf.Verify(ctx, "alice", code)
		require.ErrorIs(t, err, twofa.ErrReplayed)
		e.edit(t, "challenges", "state = 1", "account = 'alice' AND purpose = 2")
		_, err = e.tf.Verify(ctx, "alice", code)
		refused(t, "a used sign-in code after state = open", err)
		assert.Positive(t, e.events.Count(twofa.EventTampered))
	})
}

// challengeColumns are the bound columns of the challenges table and an
// edit of each; created_at, used_at and e164 decide nothing about whether
// a code is accepted (e164 counts for the send limits only).
var challengeColumns = []struct {
	column, set string
	tampered    bool // refused as tampered (else as a wrong or used code)
}{
	{column: "attempts", set: "attempts = attempts - 1", tampered: true},
	{column: "expires_at", set: "expires_at = expires_at + 315360000000000000", tampered: true},
	{column: "digest", set: "digest = (SELECT digest FROM {{prefix}}challenges o WHERE o.account = 'other' AND o.purpose = 2)", tampered: true},
	{column: "phone_id", set: "phone_id = phone_id || 'x'", tampered: true},
	{column: "channel", set: "channel = 3 - channel", tampered: true},
	{column: "id", set: "id = id || 'x'", tampered: true},
	{column: "mac", set: "mac = (SELECT mac FROM {{prefix}}challenges o WHERE o.account = 'other' AND o.purpose = 2)", tampered: true},
	{column: "mac (none)", set: "mac = substr(mac, 1, 0)", tampered: true},
	{column: "state", set: "state = 2"},
	{column: "purpose", set: "purpose = 1"},
}

// TestTamperedChallengeColumns flips each bound column of an open
// sign-in challenge that has taken one wrong try, and expects its code
// refused at sign-in.
func TestTamperedChallengeColumns(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		e := newTamperEnv(t, b)
		ctx := context.Background()
		oid, on := e.trustPhone(t, "other", 0)
		e.signInCode(t, "other", oid, on)
		for i, col := range challengeColumns {
			t.Run(col.column, func(t *testing.T) {
				acct := fmt.Sprintf("phone-%d", i)
				id, n := e.trustPhone(t, acct, i+1)
				code := e.signInCode(t, acct, id, n)
				wrong := "000000"
				if code == wrong {
					wrong = "111111"
				}
				_, err := e.tf.Verify(ctx, acct, wrong)
				require.ErrorIs(t, err, twofa.ErrInvalidCode)
				e.edit(t, "challenges", strings.ReplaceAll(col.set, "{{prefix}}", e.prefix),
					"account = "+quote(acct)+" AND purpose = 2")
				_, err = e.tf.Verify(ctx, acct, code)
				if col.tampered {
					refused(t, "the code", err)
				} else if err == nil {
					t.Error("the code: accepted")
				}
			})
		}
	})
}

// phoneColumns are the bound columns of the phones table and an edit of
// each; created_at, confirmed_at and last_used_at decide nothing and are
// not bound.
var phoneColumns = []struct {
	column, set string
	suffix      string // appended to the ids looked up after the edit
}{
	{column: "e164", set: "e164 = e164 || '9'"},
	{column: "country_code", set: "country_code = country_code + 1"},
	{column: "state", set: "state = 3 - state"},
	{column: "expires_at", set: "expires_at = expires_at + 315360000000000000"},
	{column: "id", set: "id = id || 'x'", suffix: "x"},
	{column: "mac", set: "mac = (SELECT mac FROM {{prefix}}phones o WHERE o.account = 'other')"},
	{column: "mac (none)", set: "mac = substr(mac, 1, 0)"},
}

// TestTamperedPhoneColumns flips each bound column of an account's
// phones - a trusted one and a pending one with its confirmation code
// sent - and expects no code sent to the trusted one and the pending one
// not confirmed: a trusted number pointed elsewhere gets no sign-in code,
// an unproven one marked trusted is no second factor.
func TestTamperedPhoneColumns(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		e := newTamperEnv(t, b)
		ctx := context.Background()
		e.trustPhone(t, "other", 0)
		for i, col := range phoneColumns {
			t.Run(col.column, func(t *testing.T) {
				acct := fmt.Sprintf("number-%d", i)
				trusted, _ := e.trustPhone(t, acct, 100+2*i)
				n := phone.Number{E164: fmt.Sprintf("+1415555%04d", 101+2*i), CountryCode: 1}
				p, err := e.phones.Add(ctx, acct, n)
				require.NoError(t, err)
				_, err = e.phones.SendCode(ctx, acct, p.ID, phone.SMS)
				require.NoError(t, err)
				code := e.sender.Code(n.E164)
				e.clock.Advance(e.phones.Config().ResendCooldown)

				e.edit(t, "phones", strings.ReplaceAll(col.set, "{{prefix}}", e.prefix), "account = "+quote(acct))
				sent := len(e.sender.Messages())
				_, err = e.phones.SendCode(ctx, acct, trusted+col.suffix, phone.SMS)
				refused(t, "a code to the trusted phone", err)
				assert.Equal(t, sent, len(e.sender.Messages()), "a code was sent")
				_, err = e.phones.Confirm(ctx, acct, p.ID+col.suffix, code)
				refused(t, "the pending phone's code", err)
			})
		}
	})
}

// TestPhoneUpgrade: a phone stored before the MACs gets no code until
// TwoFA.UpgradeMACs, which reaches the phones of an attached phone
// Manager, gives it one; a second run changes nothing.
func TestPhoneUpgrade(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		e := newTamperEnv(t, b)
		ctx := context.Background()
		id, _ := e.trustPhone(t, "alice", 1)
		e.edit(t, "phones", "mac = substr(mac, 1, 0)", "account = 'alice'")
		_, err := e.phones.SendCode(ctx, "alice", id, phone.SMS)
		var te *twofa.TamperedError
		require.ErrorAs(t, err, &te)
		assert.True(t, te.Missing)
		assert.Equal(t, twofa.RecordPhone, te.Record)
		n, err := e.tf.UpgradeMACs(ctx)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		n, err = e.tf.UpgradeMACs(ctx)
		require.NoError(t, err)
		assert.Zero(t, n)
		_, err = e.phones.SendCode(ctx, "alice", id, phone.SMS)
		require.NoError(t, err)
	})
}

// newSignIns attaches pending sign-ins to e's installation.
func (e *tamperEnv) newSignIns(t *testing.T) *signin.Manager {
	t.Helper()
	m, err := signin.New(e.tf, signin.Config{Browsers: e.browsers})
	require.NoError(t, err)
	return m
}

// signInID returns the id of the pending sign-in of token.
func signInID(t *testing.T, m *signin.Manager, token string) string {
	t.Helper()
	info, err := m.Lookup(context.Background(), token)
	require.NoError(t, err)
	return info.ID
}

// TestTamperedSignInAttacks: a pending sign-in stands for a passed
// password. Moved to another account it does not let its holder finish
// with that account's code (and the code is not spent); given back its
// attempts, or its life stretched, it is refused.
func TestTamperedSignInAttacks(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		e := newTamperEnv(t, b)
		m := e.newSignIns(t)
		ctx := context.Background()
		twofatest.EnrollDevice(t, e.tf.Devices, e.clock, "mallory", twofa.EnrollOptions{})
		alice := twofatest.EnrollDevice(t, e.tf.Devices, e.clock, "alice", twofa.EnrollOptions{})
		e.clock.Advance(time.Minute)

		// Moved: mallory's password, alice's second factor.
		tok, _, err := m.Begin(ctx, "mallory", signin.Request{})
		require.NoError(t, err)
		e.edit(t, "signins", "account = 'alice'", "id = "+quote(signInID(t, m, tok)))
		code := alice.CodeAt(e.clock.Now())
		_, err = m.Finish(ctx, tok, code)
		require.ErrorIs(t, err, signin.ErrNotFound)
		refused(t, "a sign-in moved to another account", err)
		assert.Positive(t, e.events.Count(twofa.EventTampered))
		_, err = e.tf.Verify(ctx, "alice", code)
		require.NoError(t, err, "the code the moved sign-in was finished with was spent")

		// Attempts given back.
		tok, _, err = m.Begin(ctx, "alice", signin.Request{})
		require.NoError(t, err)
		id := signInID(t, m, tok)
		for range signin.DefaultMaxAttempts {
			_, err = m.Finish(ctx, tok, "000000")
			require.Error(t, err)
		}
		_, err = m.Lookup(ctx, tok)
		require.ErrorIs(t, err, signin.ErrTooManyAttempts)
		e.edit(t, "signins", "attempts = 0", "id = "+quote(id))
		e.clock.Advance(30 * time.Second)
		_, err = m.Finish(ctx, tok, alice.CodeAt(e.clock.Now()))
		refused(t, "a void sign-in given back its attempts", err)

		// Life stretched.
		tok, _, err = m.Begin(ctx, "alice", signin.Request{})
		require.NoError(t, err)
		id = signInID(t, m, tok)
		e.clock.Advance(signin.DefaultTTL)
		_, err = m.Lookup(ctx, tok)
		require.ErrorIs(t, err, signin.ErrExpired)
		e.edit(t, "signins", "expires_at = expires_at + 315360000000000000", "id = "+quote(id))
		_, err = m.Finish(ctx, tok, alice.CodeAt(e.clock.Now()))
		refused(t, "an expired sign-in stretched", err)
	})
}

// signinColumns are the columns of the signins table and an edit of
// each. Every column but seq is bound; a digest changed makes the token
// unknown.
var signinColumns = []struct {
	column, set string
	tampered    bool // refused as tampered (else as unknown)
}{
	{column: "account", set: "account = 'elsewhere'", tampered: true},
	{column: "id", set: "id = id || 'x'", tampered: true},
	{column: "created_at", set: "created_at = created_at - 1", tampered: true},
	{column: "expires_at", set: "expires_at = expires_at + 1", tampered: true},
	{column: "label", set: "label = 'Safari on macOS'", tampered: true},
	{column: "ip", set: "ip = '198.51.100.7'", tampered: true},
	{column: "attempts", set: "attempts = attempts + 1", tampered: true},
	{column: "mac", set: "mac = (SELECT mac FROM {{prefix}}signins o WHERE o.account = 'other')", tampered: true},
	{column: "mac (none)", set: "mac = substr(mac, 1, 0)", tampered: true},
	{column: "digest", set: "digest = substr(digest, 2)"},
}

// TestTamperedSignInColumns flips each column of a pending sign-in in
// turn and expects its token refused by Lookup, Finish and List.
func TestTamperedSignInColumns(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		e := newTamperEnv(t, b)
		m := e.newSignIns(t)
		ctx := context.Background()
		twofatest.EnrollDevice(t, e.tf.Devices, e.clock, "other", twofa.EnrollOptions{})
		_, _, err := m.Begin(ctx, "other", signin.Request{})
		require.NoError(t, err)
		for i, col := range signinColumns {
			t.Run(col.column, func(t *testing.T) {
				acct := fmt.Sprintf("signin-%d", i)
				dev := twofatest.EnrollDevice(t, e.tf.Devices, e.clock, acct, twofa.EnrollOptions{})
				tok, _, err := m.Begin(ctx, acct, signin.Request{Label: "Firefox on Linux", IP: "192.0.2.1"})
				require.NoError(t, err)
				id := signInID(t, m, tok)
				e.edit(t, "signins", strings.ReplaceAll(col.set, "{{prefix}}", e.prefix), "id = "+quote(id)+" OR id = "+quote(id+"x"))
				_, err = m.Lookup(ctx, tok)
				require.ErrorIs(t, err, signin.ErrNotFound)
				e.clock.Advance(30 * time.Second)
				_, err = m.Finish(ctx, tok, dev.CodeAt(e.clock.Now()))
				require.ErrorIs(t, err, signin.ErrNotFound)
				if col.tampered {
					refused(t, "the token", err)
				}
				list, err := m.List(ctx, acct)
				require.NoError(t, err)
				assert.Empty(t, list)
				_, err = e.tf.Verify(ctx, acct, dev.CodeAt(e.clock.Now()))
				require.NoError(t, err, "the code of the refused sign-in was spent")
			})
		}
	})
}

// TestTamperedDigestRows: app passwords and recovery codes carry no MAC -
// each row is a keyed digest bound to its account, and is deleted, never
// changed, when used up or revoked - so a row moved to another account,
// or a digest copied into another account's row, works for none. Label
// and times decide nothing.
func TestTamperedDigestRows(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		e := newTamperEnv(t, b)
		ctx := context.Background()
		for _, acct := range []string{"alice", "mallory"} {
			twofatest.EnrollDevice(t, e.tf.Devices, e.clock, acct, twofa.EnrollOptions{})
		}
		// App passwords.
		pw, info, err := e.tf.AppPasswords.Create(ctx, "mallory", "Mail")
		require.NoError(t, err)
		pw2, info2, err := e.tf.AppPasswords.Create(ctx, "mallory", "Calendar")
		require.NoError(t, err)
		_, _, err = e.tf.AppPasswords.Create(ctx, "alice", "Mail")
		require.NoError(t, err)
		e.edit(t, "app_passwords", "label = 'Mail app', created_at = created_at - 1", "id = "+quote(info.ID))
		_, err = e.tf.AppPasswords.Verify(ctx, "mallory", pw)
		require.NoError(t, err, "label and times are not bound")
		e.edit(t, "app_passwords", "account = 'alice', id = id || 'm', label = 'Moved'", "id = "+quote(info.ID))
		_, err = e.tf.AppPasswords.Verify(ctx, "alice", pw)
		require.Error(t, err, "an app password moved to another account")
		e.edit(t, "app_passwords", "digest = (SELECT digest FROM "+e.prefix+"app_passwords o WHERE o.id = "+quote(info2.ID)+")", "account = 'alice' AND label = 'Mail'")
		_, err = e.tf.AppPasswords.Verify(ctx, "alice", pw2)
		require.Error(t, err, "another account's digest copied")

		// Recovery codes.
		codes, err := e.tf.Recovery.Generate(ctx, "mallory")
		require.NoError(t, err)
		_, err = e.tf.Recovery.Generate(ctx, "alice")
		require.NoError(t, err)
		e.edit(t, "recovery_codes", "account = 'alice'", "account = 'mallory'")
		for _, c := range codes[:3] {
			_, err = e.tf.Verify(ctx, "alice", c)
			require.Error(t, err, "a recovery code moved to another account")
			require.NotErrorIs(t, err, twofa.ErrTampered)
		}
	})
}
