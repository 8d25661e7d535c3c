package twofa_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pqotp "github.com/pquerna/otp"
	pqhotp "github.com/pquerna/otp/hotp"
	pqtotp "github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/twofatest"
)

// Helpers shared by device_test.go, recovery_test.go, validate_test.go,
// config_test.go and event_test.go.

// devKeyCode returns the code a TOTP key shows at time at.
func devKeyCode(t testing.TB, k twofa.Key, at time.Time) string {
	t.Helper()
	g, err := k.TOTP()
	require.NoError(t, err)
	c, err := g.Code(at)
	require.NoError(t, err)
	return c
}

// devHOTPCode returns the code an HOTP key shows for counter.
func devHOTPCode(t testing.TB, k twofa.Key, counter uint64) string {
	t.Helper()
	g, err := k.HOTP()
	require.NoError(t, err)
	return g.Code(counter)
}

// devWrongCode returns a well-formed code of k's length that matches no
// step within 10 of at's (no counter below 20 for HOTP), so it is wrong
// under any window the tests use.
func devWrongCode(t testing.TB, k twofa.Key, at time.Time) string {
	t.Helper()
	digits := k.Digits
	if digits == 0 {
		digits = twofa.DefaultDigits
	}
	near := map[string]bool{}
	if k.Type == twofa.TypeHOTP {
		for c := range uint64(20) {
			near[devHOTPCode(t, k, c)] = true
		}
	} else {
		g, err := k.TOTP()
		require.NoError(t, err)
		n, err := g.Step(at)
		require.NoError(t, err)
		for s := n - 10; s <= n+10; s++ {
			near[g.CodeAt(s)] = true
		}
	}
	for d := byte('9'); ; d-- {
		c := strings.Repeat(string(d), digits)
		if !near[c] {
			return c
		}
	}
}

// devEnroll enrols a pending device labelled "phone".
func devEnroll(t testing.TB, env *twofatest.Env, account string, o twofa.EnrollOptions) *twofa.Enrollment {
	t.Helper()
	e, err := env.Devices.Enroll(t.Context(), account, "phone", o)
	require.NoError(t, err)
	return e
}

// devConfirmCode returns the code that confirms e now: a TOTP device's
// code for the step before the current one (so that the current one is
// still unused for login), an HOTP device's first counter.
func devConfirmCode(t testing.TB, env *twofatest.Env, e *twofa.Enrollment) string {
	t.Helper()
	if e.Key.Type == twofa.TypeHOTP {
		return devHOTPCode(t, e.Key, e.Key.Counter)
	}
	period := e.Key.Period
	if period == 0 {
		period = twofa.DefaultPeriod
	}
	return devKeyCode(t, e.Key, env.Clock.Now().Add(-period))
}

// devList returns the account's devices.
func devList(t testing.TB, env *twofatest.Env, account string) []twofa.DeviceInfo {
	t.Helper()
	l, err := env.Devices.List(t.Context(), account)
	require.NoError(t, err)
	return l
}

// devEvents returns the types of the events recorded so far.
func devEvents(env *twofatest.Env) []twofa.EventType {
	var ts []twofa.EventType
	for _, e := range env.Events.Events() {
		ts = append(ts, e.Type)
	}
	return ts
}

// devLastEvent returns the last recorded event.
func devLastEvent(t testing.TB, env *twofatest.Env) twofa.Event {
	t.Helper()
	evs := env.Events.Events()
	require.NotEmpty(t, evs)
	return evs[len(evs)-1]
}

// devManagers builds an installation from c and returns its Devices,
// the installation (which verifies) and its RecoveryCodes.
func devManagers(t testing.TB, c twofa.Config) (*twofa.Devices, *twofa.TwoFA, *twofa.RecoveryCodes) {
	t.Helper()
	tf, err := twofa.New(c)
	require.NoError(t, err)
	return tf.Devices, tf, tf.Recovery
}

// devWithConfig returns env with its installation rebuilt from env.Config
// changed by change.
func devWithConfig(t testing.TB, env *twofatest.Env, change func(*twofa.Config)) *twofatest.Env {
	t.Helper()
	env.Reconfigure(change)
	return env
}

func TestEnrollDefaults(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	e, err := env.Devices.Enroll(t.Context(), "alice", "  Alice's phone\t", twofa.EnrollOptions{})
	require.NoError(t, err)

	d := e.Device
	assert.Len(t, d.ID, 26, "128-bit id in unpadded base32")
	assert.Equal(t, strings.ToLower(d.ID), d.ID)
	assert.Equal(t, "Alice's phone", d.Label, "label trimmed")
	assert.Equal(t, twofa.TypeTOTP, d.Type)
	assert.Equal(t, twofa.DevicePending, d.State)
	assert.Equal(t, twofatest.Start, d.CreatedAt)
	assert.Equal(t, twofatest.Start.Add(cfgDefaults(t).Devices.PendingTTL), d.ExpiresAt)
	assert.True(t, d.ConfirmedAt.IsZero())
	assert.True(t, d.LastUsedAt.IsZero())

	k := e.Key
	assert.Equal(t, twofa.TypeTOTP, k.Type)
	assert.Equal(t, "twofatest", k.Issuer, "Config.Issuer")
	assert.Equal(t, "alice", k.Account, "AccountName defaults to the account")
	assert.Equal(t, twofa.SHA1, k.Algorithm)
	assert.Equal(t, twofa.DefaultDigits, k.Digits)
	assert.Equal(t, twofa.DefaultPeriod, k.Period)
	assert.Equal(t, 20, k.Secret.Len(), "160-bit secret")
	uri, err := k.URI()
	require.NoError(t, err)
	assert.Equal(t, "otpauth://totp/twofatest:alice?secret="+k.Secret.Base32()+
		"&issuer=twofatest&algorithm=SHA1&digits=6&period=30", uri)
	back, err := twofa.ParseKeyURI(uri)
	require.NoError(t, err)
	assert.True(t, back.Secret.Equal(k.Secret))

	// Two enrolments never share an id or a secret.
	e2 := devEnroll(t, env, "alice", twofa.EnrollOptions{})
	assert.NotEqual(t, d.ID, e2.Device.ID)
	assert.False(t, k.Secret.Equal(e2.Key.Secret))

	// The second enrolment replaced the first, still pending.
	assert.Equal(t, []twofa.EventType{twofa.EventEnrolled, twofa.EventRevoked, twofa.EventEnrolled}, devEvents(env))
	ev := env.Events.Events()[0]
	assert.Equal(t, twofa.Event{Type: twofa.EventEnrolled, Account: "alice", DeviceID: d.ID, Time: twofatest.Start}, ev)

	l := devList(t, env, "alice")
	require.Len(t, l, 1)
	assert.Equal(t, e2.Device, l[0], "List shows what Enroll returned")
}

func TestEnrollAccountName(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	e := devEnroll(t, env, "user-42", twofa.EnrollOptions{AccountName: "alice@example.com"})
	uri, err := e.Key.URI()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(uri, "otpauth://totp/twofatest:alice@example.com?"), uri)
	assert.Equal(t, "alice@example.com", e.Key.Account)

	// A name the otpauth:// format cannot carry is refused, and nothing
	// is stored.
	_, err = env.Devices.Enroll(t.Context(), "user-42", "phone", twofa.EnrollOptions{AccountName: "a:b"})
	require.ErrorIs(t, err, twofa.ErrInvalidURI)
	assert.Len(t, devList(t, env, "user-42"), 1)
}

func TestEnrollOptions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		o      twofa.EnrollOptions
		params string
	}{
		{"totp default", twofa.EnrollOptions{}, "&algorithm=SHA1&digits=6&period=30"},
		{"hotp", twofa.EnrollOptions{Type: twofa.TypeHOTP}, "&algorithm=SHA1&digits=6&counter=0"},
		{"sha256 8 digits 60s", twofa.EnrollOptions{Options: twofa.Options{Algorithm: twofa.SHA256, Digits: 8, Period: time.Minute}},
			"&algorithm=SHA256&digits=8&period=60"},
		{"sha512", twofa.EnrollOptions{Options: twofa.Options{Algorithm: twofa.SHA512, Digits: 7}}, "&algorithm=SHA512&digits=7&period=30"},
		{"hotp sha256 8", twofa.EnrollOptions{Type: twofa.TypeHOTP, Options: twofa.Options{Algorithm: twofa.SHA256, Digits: 8}},
			"&algorithm=SHA256&digits=8&counter=0"},
		{"explicit unix T0", twofa.EnrollOptions{Options: twofa.Options{T0: time.Unix(0, 0)}}, "&period=30"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := twofatest.New(t)
			e := devEnroll(t, env, "alice", tc.o)
			assert.Equal(t, tc.o.Type, e.Device.Type)
			assert.Equal(t, tc.o.Type, e.Key.Type)
			uri, err := e.Key.URI()
			require.NoError(t, err)
			assert.True(t, strings.HasSuffix(uri, tc.params), uri)

			// It confirms with its own code and then signs in.
			require.NoError(t, errOf(env.Devices.Confirm(t.Context(), "alice", e.Device.ID, devConfirmCode(t, env, e))))
			var code string
			if e.Key.Type == twofa.TypeHOTP {
				code = devHOTPCode(t, e.Key, 1)
			} else {
				code = devKeyCode(t, e.Key, env.Clock.Now())
			}
			res, err := env.TwoFA.Verify(t.Context(), "alice", code)
			require.NoError(t, err)
			assert.Equal(t, twofa.Result{Factor: twofa.FactorDevice, DeviceID: e.Device.ID}, res)
		})
	}
}

func TestEnrollBadOptions(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	cases := map[string]twofa.EnrollOptions{
		"digits 5":          {Options: twofa.Options{Digits: 5}},
		"digits 9":          {Options: twofa.Options{Digits: 9}},
		"algorithm":         {Options: twofa.Options{Algorithm: 7}},
		"fractional period": {Options: twofa.Options{Period: 1500 * time.Millisecond}},
		"period too long":   {Options: twofa.Options{Period: 25 * time.Hour}},
		"negative period":   {Options: twofa.Options{Period: -time.Second}},
		"hotp with period":  {Type: twofa.TypeHOTP, Options: twofa.Options{Period: time.Minute}},
		"hotp with T0":      {Type: twofa.TypeHOTP, Options: twofa.Options{T0: time.Unix(100, 0)}},
		"other T0":          {Options: twofa.Options{T0: time.Unix(100, 0)}},
		"unknown type":      {Type: 2},
	}
	for name, o := range cases {
		_, err := env.Devices.Enroll(t.Context(), "alice", "phone", o)
		assert.ErrorIs(t, err, twofa.ErrInvalidOptions, name)
	}
	assert.Empty(t, devList(t, env, "alice"), "nothing stored")
	assert.Empty(t, env.Events.Events(), "no event")
}

func TestPendingDeviceNeverCountsForLogin(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	for _, typ := range []twofa.Type{twofa.TypeTOTP, twofa.TypeHOTP} {
		e := devEnroll(t, env, "alice", twofa.EnrollOptions{Type: typ})
		var code string
		if typ == twofa.TypeHOTP {
			code = devHOTPCode(t, e.Key, 0)
		} else {
			code = devKeyCode(t, e.Key, env.Clock.Now())
		}
		_, err := env.TwoFA.Verify(ctx, "alice", code)
		require.ErrorIs(t, err, twofa.ErrNotEnrolled, typ)
	}
	enabled, err := env.TwoFA.Enabled(ctx, "alice")
	require.NoError(t, err)
	assert.False(t, enabled)

	// Next to a confirmed device, a pending one's code is still refused.
	dev := env.EnrollTOTP("alice")
	pending := devEnroll(t, env, "alice", twofa.EnrollOptions{})
	_, err = env.TwoFA.Verify(ctx, "alice", devKeyCode(t, pending.Key, env.Clock.Now()))
	require.ErrorIs(t, err, twofa.ErrInvalidCode)
	res, err := env.TwoFA.Verify(ctx, "alice", dev.Code())
	require.NoError(t, err)
	assert.Equal(t, dev.ID, res.DeviceID)
}

func TestPendingDeviceExpires(t *testing.T) {
	t.Parallel()
	env := devWithConfig(t, twofatest.New(t), func(c *twofa.Config) { c.Devices.Max = 2 })
	ctx := t.Context()
	env.EnrollTOTP("alice")
	key := twofa.Key{Account: "alice", Secret: devSecret(t)}

	early := devEnroll(t, env, "alice", twofa.EnrollOptions{})
	_, _, err := env.Devices.Import(ctx, "alice", "phone", key)
	require.ErrorIs(t, err, twofa.ErrTooManyDevices, "an unexpired pending device counts")

	// Exactly 10 minutes after enrolment it lapses.
	env.Clock.Set(early.Device.ExpiresAt.Add(-time.Nanosecond))
	assert.Len(t, devList(t, env, "alice"), 2)
	env.Clock.Set(early.Device.ExpiresAt)
	require.Equal(t, twofatest.Start.Add(10*time.Minute), env.Clock.Now())
	_, err = env.Devices.Confirm(ctx, "alice", early.Device.ID, devConfirmCode(t, env, early))
	require.ErrorIs(t, err, twofa.ErrEnrollmentExpired)
	require.Len(t, devList(t, env, "alice"), 1, "List hides the lapsed device")

	// It no longer counts toward the limit.
	late := devEnroll(t, env, "alice", twofa.EnrollOptions{})
	_, _, err = env.Devices.Import(ctx, "alice", "phone", key)
	require.ErrorIs(t, err, twofa.ErrTooManyDevices)

	// The late one is good until its own expiry...
	env.Clock.Set(late.Device.ExpiresAt.Add(-time.Second))
	require.NoError(t, errOf(env.Devices.Confirm(ctx, "alice", late.Device.ID, devConfirmCode(t, env, late))))
	// ...and a confirmed device never lapses.
	env.Clock.Advance(24 * time.Hour)
	l := devList(t, env, "alice")
	require.Len(t, l, 2)
	assert.Equal(t, late.Device.ID, l[1].ID)
	assert.Equal(t, twofa.DeviceConfirmed, l[1].State)
	assert.True(t, l[1].ExpiresAt.IsZero(), "a confirmed device has no expiry")
}

func TestPendingTTLConfig(t *testing.T) {
	t.Parallel()
	env := devWithConfig(t, twofatest.New(t), func(c *twofa.Config) { c.Devices.PendingTTL = time.Minute })
	e := devEnroll(t, env, "alice", twofa.EnrollOptions{})
	assert.Equal(t, twofatest.Start.Add(time.Minute), e.Device.ExpiresAt)
	env.Clock.Advance(time.Minute)
	_, err := env.Devices.Confirm(t.Context(), "alice", e.Device.ID, devConfirmCode(t, env, e))
	require.ErrorIs(t, err, twofa.ErrEnrollmentExpired)
}

func TestConfirm(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	e := devEnroll(t, env, "alice", twofa.EnrollOptions{})
	env.Clock.Advance(2 * time.Minute)
	code := devKeyCode(t, e.Key, env.Clock.Now())
	require.NoError(t, errOf(env.Devices.Confirm(ctx, "alice", e.Device.ID, code[:3]+" "+code[3:])), "a typed space is fine")

	l := devList(t, env, "alice")
	require.Len(t, l, 1)
	want := e.Device
	want.State = twofa.DeviceConfirmed
	want.ExpiresAt = time.Time{}
	want.ConfirmedAt = env.Clock.Now()
	want.LastUsedAt = env.Clock.Now()
	assert.Equal(t, want, l[0])
	assert.Equal(t, twofa.DeviceConfirmed.String(), "confirmed")

	enabled, err := env.TwoFA.Enabled(ctx, "alice")
	require.NoError(t, err)
	assert.True(t, enabled)

	// The confirmation code is consumed: it cannot sign in.
	_, err = env.TwoFA.Verify(ctx, "alice", code)
	require.ErrorIs(t, err, twofa.ErrReplayed)
	// The next step's code can.
	env.Clock.Advance(twofa.DefaultPeriod)
	_, err = env.TwoFA.Verify(ctx, "alice", devKeyCode(t, e.Key, env.Clock.Now()))
	require.NoError(t, err)

	_, err = env.Devices.Confirm(ctx, "alice", e.Device.ID, devKeyCode(t, e.Key, env.Clock.Now()))
	require.ErrorIs(t, err, twofa.ErrAlreadyConfirmed)

	assert.Equal(t, []twofa.EventType{twofa.EventEnrolled, twofa.EventConfirmed, twofa.EventTwoFactorEnabled, twofa.EventReplayed, twofa.EventVerified}, devEvents(env))
	assert.Equal(t, twofa.Event{Type: twofa.EventConfirmed, Account: "alice", DeviceID: e.Device.ID, Time: twofatest.Start.Add(2 * time.Minute)},
		env.Events.Events()[1])
}

func TestConfirmHOTP(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	e := devEnroll(t, env, "alice", twofa.EnrollOptions{Type: twofa.TypeHOTP})
	// The user pressed the button a few times before typing: counter 3 is
	// within the look-ahead.
	require.NoError(t, errOf(env.Devices.Confirm(ctx, "alice", e.Device.ID, devHOTPCode(t, e.Key, 3))))
	for c := range uint64(4) {
		_, err := env.TwoFA.Verify(ctx, "alice", devHOTPCode(t, e.Key, c))
		require.ErrorIs(t, err, twofa.ErrReplayed, "counter %d", c)
	}
	_, err := env.TwoFA.Verify(ctx, "alice", devHOTPCode(t, e.Key, 4))
	require.NoError(t, err)

	// Beyond the look-ahead a first code is wrong.
	e2 := devEnroll(t, env, "alice", twofa.EnrollOptions{Type: twofa.TypeHOTP})
	_, err = env.Devices.Confirm(ctx, "alice", e2.Device.ID, devHOTPCode(t, e2.Key, twofa.DefaultLookAhead+1))
	require.ErrorIs(t, err, twofa.ErrInvalidCode)
}

func TestConfirmWrongCode(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	e := devEnroll(t, env, "alice", twofa.EnrollOptions{})
	id := e.Device.ID
	wrong := devWrongCode(t, e.Key, env.Clock.Now())

	// Malformed input is not counted, however often.
	for _, bad := range []string{"", "12345", "1234567", "12345a", "abcdef", "１２３４５６", "123456789", "12-34-5"} {
		for range 3 {
			_, err := env.Devices.Confirm(ctx, "alice", id, bad)
			require.ErrorIs(t, err, twofa.ErrMalformedCode, "%q", bad)
		}
	}
	assert.Equal(t, []twofa.EventType{twofa.EventEnrolled}, devEvents(env), "malformed codes emit nothing")

	for i := 1; i < cfgDefaults(t).Devices.ConfirmAttempts; i++ {
		_, err := env.Devices.Confirm(ctx, "alice", id, wrong)
		require.ErrorIs(t, err, twofa.ErrInvalidCode, "attempt %d", i)
		assert.Equal(t, twofa.Event{Type: twofa.EventEnrollmentFailed, Account: "alice", DeviceID: id, Time: env.Clock.Now(), Failures: i},
			devLastEvent(t, env))
	}
	require.Len(t, devList(t, env, "alice"), 1, "still pending after 4 wrong codes")

	// The 5th wrong code discards the enrolment.
	_, err := env.Devices.Confirm(ctx, "alice", id, wrong)
	require.ErrorIs(t, err, twofa.ErrEnrollmentExpired)
	assert.Equal(t, cfgDefaults(t).Devices.ConfirmAttempts, devLastEvent(t, env).Failures)
	assert.Empty(t, devList(t, env, "alice"), "device gone")
	// Even the right code no longer helps.
	_, err = env.Devices.Confirm(ctx, "alice", id, devConfirmCode(t, env, e))
	require.ErrorIs(t, err, twofa.ErrNotFound)

	// Four wrong codes, then the right one: confirmed.
	e = devEnroll(t, env, "alice", twofa.EnrollOptions{})
	for range cfgDefaults(t).Devices.ConfirmAttempts - 1 {
		require.ErrorIs(t, errOf(env.Devices.Confirm(ctx, "alice", e.Device.ID, wrong)), twofa.ErrInvalidCode)
	}
	require.NoError(t, errOf(env.Devices.Confirm(ctx, "alice", e.Device.ID, devConfirmCode(t, env, e))))
}

func TestConfirmAttemptsConfig(t *testing.T) {
	t.Parallel()
	env := devWithConfig(t, twofatest.New(t), func(c *twofa.Config) { c.Devices.ConfirmAttempts = 1 })
	e := devEnroll(t, env, "alice", twofa.EnrollOptions{})
	_, err := env.Devices.Confirm(t.Context(), "alice", e.Device.ID, devWrongCode(t, e.Key, env.Clock.Now()))
	require.ErrorIs(t, err, twofa.ErrEnrollmentExpired)
	assert.Empty(t, devList(t, env, "alice"))
}

func TestConfirmNotFound(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	bob := devEnroll(t, env, "bob", twofa.EnrollOptions{})
	code := devConfirmCode(t, env, bob)

	for _, id := range []string{"", "nosuchdevice", strings.ToUpper(bob.Device.ID)} {
		require.ErrorIs(t, errOf(env.Devices.Confirm(ctx, "bob", id, code)), twofa.ErrNotFound, "%q", id)
	}
	// Another account's device id is unknown to alice, even with the right code.
	require.ErrorIs(t, errOf(env.Devices.Confirm(ctx, "alice", bob.Device.ID, code)), twofa.ErrNotFound)
	env.EnrollTOTP("alice")
	require.ErrorIs(t, errOf(env.Devices.Confirm(ctx, "alice", bob.Device.ID, code)), twofa.ErrNotFound)
	// Bob's enrolment was not touched.
	require.NoError(t, errOf(env.Devices.Confirm(ctx, "bob", bob.Device.ID, code)))
}

func TestConfirmConcurrent(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	e := devEnroll(t, env, "alice", twofa.EnrollOptions{})
	code := devConfirmCode(t, env, e)

	const n = 50
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = errOf(env.Devices.Confirm(t.Context(), "alice", e.Device.ID, code))
		})
	}
	close(start)
	wg.Wait()
	ok, already := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, twofa.ErrAlreadyConfirmed):
			already++
		default:
			// Past the first ConfirmAttempts, a Confirm is refused
			// before evaluating its code; it may find the device
			// still pending (the winner not yet stored).
			assert.ErrorIs(t, err, twofa.ErrEnrollmentExpired)
		}
	}
	assert.Equal(t, 1, ok, "exactly one Confirm succeeds")
	assert.GreaterOrEqual(t, already, cfgDefaults(t).Devices.ConfirmAttempts-1, "the other evaluated ones lose to it")
	assert.Equal(t, 1, env.Events.Count(twofa.EventConfirmed))
}

func TestDeviceLimit(t *testing.T) {
	t.Parallel()
	for _, maxDevices := range []int{0, 1, 3} {
		t.Run(fmt.Sprint("MaxDevices=", maxDevices), func(t *testing.T) {
			t.Parallel()
			env := devWithConfig(t, twofatest.New(t), func(c *twofa.Config) { c.Devices.Max = maxDevices })
			ctx := t.Context()
			limit := maxDevices
			if limit == 0 {
				limit = cfgDefaults(t).Devices.Max
			}
			// Confirmed and pending devices both count.
			for i := range limit - 1 {
				if i%2 == 0 {
					env.EnrollTOTP("alice")
				} else {
					env.EnrollHOTP("alice")
				}
			}
			devEnroll(t, env, "alice", twofa.EnrollOptions{Type: twofa.TypeHOTP})
			_, _, err := env.Devices.Import(ctx, "alice", "one too many", twofa.Key{Account: "alice", Secret: devSecret(t)})
			require.ErrorIs(t, err, twofa.ErrTooManyDevices, "Import counts the pending device")
			require.ErrorIs(t, err, twofa.ErrLimitReached)
			assert.Len(t, devList(t, env, "alice"), limit)

			// A new enrolment replaces the pending one instead of being
			// refused; once it is confirmed, the account is full.
			e := devEnroll(t, env, "alice", twofa.EnrollOptions{})
			assert.Len(t, devList(t, env, "alice"), limit)
			require.NoError(t, errOf(env.Devices.Confirm(ctx, "alice", e.Device.ID, devConfirmCode(t, env, e))))
			_, err = env.Devices.Enroll(ctx, "alice", "one too many", twofa.EnrollOptions{})
			require.ErrorIs(t, err, twofa.ErrTooManyDevices)
			assert.Len(t, devList(t, env, "alice"), limit)

			// The limit is per account.
			devEnroll(t, env, "bob", twofa.EnrollOptions{})

			// Revoking one makes room.
			l := devList(t, env, "alice")
			require.NoError(t, errOf(env.Devices.Revoke(ctx, "alice", l[len(l)-1].ID)))
			devEnroll(t, env, "alice", twofa.EnrollOptions{})
		})
	}
}

// Reloading an enrolment page never locks the user out of enrolling: each
// Enroll replaces the pending one.
func TestEnrollReplacesPending(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	env.EnrollTOTP("alice")
	var last *twofa.Enrollment
	for range 5 * cfgDefaults(t).Devices.Max {
		last = devEnroll(t, env, "alice", twofa.EnrollOptions{})
	}
	l := devList(t, env, "alice")
	require.Len(t, l, 2, "one confirmed device and one pending enrolment")
	assert.Equal(t, last.Device.ID, l[1].ID)
	require.NoError(t, errOf(env.Devices.Confirm(ctx, "alice", last.Device.ID, devConfirmCode(t, env, last))))
	assert.Len(t, devList(t, env, "alice"), 2)
}

func TestDeviceLimitConcurrent(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	const n = 60
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, _, errs[i] = env.Devices.Import(t.Context(), "alice", fmt.Sprint("phone ", i), twofa.Key{Account: "alice", Secret: devSecret(t)})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			require.ErrorIs(t, err, twofa.ErrTooManyDevices)
		}
	}
	assert.Equal(t, cfgDefaults(t).Devices.Max, ok)
	assert.Len(t, devList(t, env, "alice"), cfgDefaults(t).Devices.Max)
	assert.Equal(t, cfgDefaults(t).Devices.Max, env.Events.Count(twofa.EventImported))
}

func TestDeviceLimitExpiredPending(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	for range cfgDefaults(t).Devices.Max - 1 {
		env.EnrollTOTP("alice")
	}
	devEnroll(t, env, "alice", twofa.EnrollOptions{})
	key := twofa.Key{Account: "alice", Secret: devSecret(t)}
	_, _, err := env.Devices.Import(ctx, "alice", "phone", key)
	require.ErrorIs(t, err, twofa.ErrTooManyDevices, "an unexpired pending device counts")
	env.Clock.Advance(cfgDefaults(t).Devices.PendingTTL)
	_, _, err = env.Devices.Import(ctx, "alice", "phone", key)
	require.NoError(t, err, "a lapsed one does not")
	assert.Len(t, devList(t, env, "alice"), cfgDefaults(t).Devices.Max)
}

func TestRename(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	dev := env.EnrollTOTP("alice")
	pending := devEnroll(t, env, "alice", twofa.EnrollOptions{})
	bob := env.EnrollTOTP("bob")

	require.NoError(t, env.Devices.Rename(ctx, "alice", dev.ID, "  Work phone 📱 "))
	assert.Equal(t, twofa.Event{Type: twofa.EventRenamed, Account: "alice", DeviceID: dev.ID, Time: twofatest.Start}, devLastEvent(t, env))
	require.NoError(t, env.Devices.Rename(ctx, "alice", pending.Device.ID, "Tablet"))
	l := devList(t, env, "alice")
	require.Len(t, l, 2)
	assert.Equal(t, "Work phone 📱", l[0].Label)
	assert.Equal(t, "Tablet", l[1].Label)

	n := len(env.Events.Events())
	require.ErrorIs(t, env.Devices.Rename(ctx, "alice", "nosuchdevice", "x"), twofa.ErrNotFound)
	require.ErrorIs(t, env.Devices.Rename(ctx, "alice", bob.ID, "mine now"), twofa.ErrNotFound)
	require.ErrorIs(t, env.Devices.Rename(ctx, "alice", dev.ID, " \t "), twofa.ErrInvalidLabel)
	assert.Len(t, env.Events.Events(), n, "failed renames emit nothing")
	assert.Equal(t, "test device", devList(t, env, "bob")[0].Label)
	assert.Equal(t, "Work phone 📱", devList(t, env, "alice")[0].Label)
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	a := env.EnrollTOTP("alice")
	b := env.EnrollHOTP("alice")
	codes, err := env.Recovery.Generate(ctx, "alice")
	require.NoError(t, err)

	// Revoking one of two: its codes stop at once; nothing else changes.
	aCode := a.Code()
	require.NoError(t, errOf(env.Devices.Revoke(ctx, "alice", a.ID)))
	assert.Equal(t, twofa.Event{Type: twofa.EventRevoked, Account: "alice", DeviceID: a.ID, Time: twofatest.Start}, devLastEvent(t, env))
	_, err = env.TwoFA.Verify(ctx, "alice", aCode)
	require.ErrorIs(t, err, twofa.ErrInvalidCode)
	enabled, err := env.TwoFA.Enabled(ctx, "alice")
	require.NoError(t, err)
	assert.True(t, enabled)
	left, err := env.Recovery.Remaining(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, twofa.RecoveryCodeCount, left, "recovery codes survive while a device remains")
	assert.Zero(t, env.Events.Count(twofa.EventTwoFactorDisabled))
	res, err := env.TwoFA.Verify(ctx, "alice", b.Code())
	require.NoError(t, err)
	assert.Equal(t, b.ID, res.DeviceID)

	require.ErrorIs(t, errOf(env.Devices.Revoke(ctx, "alice", a.ID)), twofa.ErrNotFound, "twice")
	require.ErrorIs(t, errOf(env.Devices.Revoke(ctx, "alice", "nosuchdevice")), twofa.ErrNotFound)

	// A pending device does not keep two-factor authentication on...
	p := devEnroll(t, env, "alice", twofa.EnrollOptions{})
	// ...so revoking the last confirmed one turns it off.
	bCode := b.Code()
	n := len(env.Events.Events())
	require.NoError(t, errOf(env.Devices.Revoke(ctx, "alice", b.ID)))
	evs := env.Events.Events()[n:]
	assert.Equal(t, []twofa.Event{
		{Type: twofa.EventRevoked, Account: "alice", DeviceID: b.ID, Time: twofatest.Start},
		{Type: twofa.EventTwoFactorDisabled, Account: "alice", Time: twofatest.Start},
	}, evs)
	enabled, err = env.TwoFA.Enabled(ctx, "alice")
	require.NoError(t, err)
	assert.False(t, enabled)
	left, err = env.Recovery.Remaining(ctx, "alice")
	require.NoError(t, err)
	assert.Zero(t, left, "recovery codes voided")
	_, err = env.TwoFA.Verify(ctx, "alice", bCode)
	require.ErrorIs(t, err, twofa.ErrNotEnrolled)
	_, err = env.TwoFA.Verify(ctx, "alice", codes[0])
	require.ErrorIs(t, err, twofa.ErrNotEnrolled)

	// Re-enrolling does not bring the old recovery codes back.
	env.EnrollTOTP("alice")
	_, err = env.TwoFA.Verify(ctx, "alice", codes[0])
	require.ErrorIs(t, err, twofa.ErrInvalidCode)

	// Re-enrolling discarded the pending device; revoking a pending
	// device is fine and disables nothing.
	require.ErrorIs(t, errOf(env.Devices.Revoke(ctx, "alice", p.Device.ID)), twofa.ErrNotFound)
	p = devEnroll(t, env, "alice", twofa.EnrollOptions{})
	n = env.Events.Count(twofa.EventTwoFactorDisabled)
	require.NoError(t, errOf(env.Devices.Revoke(ctx, "alice", p.Device.ID)))
	assert.Equal(t, n, env.Events.Count(twofa.EventTwoFactorDisabled))
	assert.Len(t, devList(t, env, "alice"), 1)
}

func TestRevokeOtherAccount(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	bob := env.EnrollTOTP("bob")
	env.EnrollTOTP("alice")
	require.ErrorIs(t, errOf(env.Devices.Revoke(ctx, "alice", bob.ID)), twofa.ErrNotFound)
	_, err := env.TwoFA.Verify(ctx, "bob", bob.Code())
	require.NoError(t, err)
}

func TestRevokeLastConcurrent(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ids := []string{env.EnrollTOTP("alice").ID, env.EnrollTOTP("alice").ID, env.EnrollHOTP("alice").ID}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() { assert.NoError(t, errOf(env.Devices.Revoke(t.Context(), "alice", id))) })
	}
	wg.Wait()
	assert.Equal(t, 1, env.Events.Count(twofa.EventTwoFactorDisabled), "exactly one revocation was the last")
}

// devSecret returns a random 160-bit secret.
func devSecret(t testing.TB) twofa.Secret {
	t.Helper()
	s, err := twofa.NewSecret()
	require.NoError(t, err)
	return s
}

func TestImportPquerna(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	pk, err := pqtotp.Generate(pqtotp.GenerateOpts{Issuer: "Legacy", AccountName: "alice@example.com"})
	require.NoError(t, err)
	k, err := twofa.ParseKeyURI(pk.URL())
	require.NoError(t, err)

	d, ch, err := env.Devices.Import(ctx, "alice", " Legacy app ", k)
	require.NoError(t, err)
	assert.Equal(t, twofa.Change{TurnedOn: true}, ch, "the first factor turns two-factor on")
	assert.Equal(t, "Legacy app", d.Label)
	assert.Equal(t, twofa.DeviceConfirmed, d.State, "confirmed at once")
	assert.Equal(t, twofatest.Start, d.ConfirmedAt)
	assert.True(t, d.ExpiresAt.IsZero())
	assert.Equal(t, twofa.Event{Type: twofa.EventTwoFactorEnabled, Account: "alice", Time: twofatest.Start}, devLastEvent(t, env))
	assert.Equal(t, twofa.Event{Type: twofa.EventImported, Account: "alice", DeviceID: d.ID, Time: twofatest.Start}, env.Events.Events()[0])
	enabled, err := env.TwoFA.Enabled(ctx, "alice")
	require.NoError(t, err)
	assert.True(t, enabled)

	code, err := pqtotp.GenerateCode(pk.Secret(), env.Clock.Now())
	require.NoError(t, err)
	res, err := env.TwoFA.Verify(ctx, "alice", code)
	require.NoError(t, err)
	assert.Equal(t, d.ID, res.DeviceID)
	_, err = env.TwoFA.Verify(ctx, "alice", code)
	require.ErrorIs(t, err, twofa.ErrReplayed)

	// pquerna's SHA-256, 8-digit, 60 s key.
	pk, err = pqtotp.Generate(pqtotp.GenerateOpts{Issuer: "Legacy", AccountName: "alice", Period: 60,
		Digits: pqotp.DigitsEight, Algorithm: pqotp.AlgorithmSHA256})
	require.NoError(t, err)
	k, err = twofa.ParseKeyURI(pk.URL())
	require.NoError(t, err)
	d, _, err = env.Devices.Import(ctx, "alice", "sha256", k)
	require.NoError(t, err)
	code, err = pqtotp.GenerateCodeCustom(pk.Secret(), env.Clock.Now(), pqtotp.ValidateOpts{Period: 60, Digits: pqotp.DigitsEight, Algorithm: pqotp.AlgorithmSHA256})
	require.NoError(t, err)
	res, err = env.TwoFA.Verify(ctx, "alice", code)
	require.NoError(t, err)
	assert.Equal(t, d.ID, res.DeviceID)

	// pquerna's HOTP key starts at counter 0. Its URI has no counter=
	// parameter, which the Key URI format requires; ParseKeyURI reads
	// the missing counter as 0.
	hk, err := pqhotp.Generate(pqhotp.GenerateOpts{Issuer: "Legacy", AccountName: "alice"})
	require.NoError(t, err)
	k, err = twofa.ParseKeyURI(hk.URL())
	require.NoError(t, err)
	require.Equal(t, twofa.TypeHOTP, k.Type)
	require.Zero(t, k.Counter)
	d, _, err = env.Devices.Import(ctx, "alice", "token", k)
	require.NoError(t, err)
	code, err = pqhotp.GenerateCode(hk.Secret(), 0)
	require.NoError(t, err)
	res, err = env.TwoFA.Verify(ctx, "alice", code)
	require.NoError(t, err)
	assert.Equal(t, d.ID, res.DeviceID)
}

func TestImportHandMade(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	// The RFC 4226 test secret, as a migration would carry it. DO NOT
	// hardcode real secrets.
	s, err := twofa.ParseSecret("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
	require.NoError(t, err)

	// An HOTP token that has shown 7 codes already: counter 7 is next.
	k := twofa.Key{Type: twofa.TypeHOTP, Secret: s, Counter: 7}
	d, _, err := env.Devices.Import(ctx, "alice", "token", k)
	require.NoError(t, err)
	assert.Equal(t, twofa.TypeHOTP, d.Type)
	// RFC 4226 Appendix D: counter 6 is 287922, 7 is 162583, 8 is 399871.
	_, err = env.TwoFA.Verify(ctx, "alice", "287922")
	require.ErrorIs(t, err, twofa.ErrReplayed, "below the imported counter")
	_, err = env.TwoFA.Verify(ctx, "alice", "162583")
	require.NoError(t, err)
	_, err = env.TwoFA.Verify(ctx, "alice", "399871")
	require.NoError(t, err)

	// A TOTP key without account or issuer: its current code verifies.
	tk := twofa.Key{Secret: devSecret(t)}
	d, _, err = env.Devices.Import(ctx, "bob", "phone", tk)
	require.NoError(t, err)
	res, err := env.TwoFA.Verify(ctx, "bob", devKeyCode(t, tk, env.Clock.Now()))
	require.NoError(t, err)
	assert.Equal(t, d.ID, res.DeviceID)

	// Refused: the zero secret, bad options, a bad label or account.
	n := len(env.Events.Events())
	_, _, err = env.Devices.Import(ctx, "carol", "phone", twofa.Key{})
	require.ErrorIs(t, err, twofa.ErrInvalidSecret)
	_, _, err = env.Devices.Import(ctx, "carol", "phone", twofa.Key{Type: twofa.TypeHOTP, Account: "carol"})
	require.ErrorIs(t, err, twofa.ErrInvalidSecret)
	_, _, err = env.Devices.Import(ctx, "carol", "phone", twofa.Key{Secret: s, Digits: 9})
	require.ErrorIs(t, err, twofa.ErrInvalidOptions)
	_, _, err = env.Devices.Import(ctx, "carol", "phone", twofa.Key{Type: twofa.TypeHOTP, Secret: s, Period: time.Minute})
	require.ErrorIs(t, err, twofa.ErrInvalidOptions)
	_, _, err = env.Devices.Import(ctx, "carol", "phone", twofa.Key{Type: 9, Secret: s})
	require.ErrorIs(t, err, twofa.ErrInvalidOptions)
	_, _, err = env.Devices.Import(ctx, "carol", "", twofa.Key{Secret: s})
	require.ErrorIs(t, err, twofa.ErrInvalidLabel)
	_, _, err = env.Devices.Import(ctx, "", "phone", twofa.Key{Secret: s})
	require.ErrorIs(t, err, twofa.ErrInvalidAccount)
	enabled, err := env.TwoFA.Enabled(ctx, "carol")
	require.NoError(t, err)
	assert.False(t, enabled)
	assert.Len(t, env.Events.Events(), n, "refused imports emit nothing")
}

func TestEnabled(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	check := func(want bool) {
		t.Helper()
		got, err := env.TwoFA.Enabled(ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	check(false)
	e := devEnroll(t, env, "alice", twofa.EnrollOptions{})
	check(false)
	require.NoError(t, errOf(env.Devices.Confirm(ctx, "alice", e.Device.ID, devConfirmCode(t, env, e))))
	check(true)
	_, err := env.Recovery.Generate(ctx, "alice")
	require.NoError(t, err)
	check(true)
	require.NoError(t, errOf(env.Devices.Revoke(ctx, "alice", e.Device.ID)))
	check(false)
}

// devKeyringKey returns a fixed, distinct 32-byte key for tests.
func devKeyringKey(b byte) []byte {
	k := make([]byte, keyring.KeySize)
	for i := range k {
		k[i] = b ^ byte(i)
	}
	return k
}

func TestDeviceInfoHasNoSecret(t *testing.T) {
	t.Parallel()
	// DeviceInfo is what a settings page shows: it has no field that could
	// hold key material.
	typ := fmt.Sprintf("%#v", twofa.DeviceInfo{})
	for _, f := range []string{"Secret", "Sealed", "Key", "Counter", "Drift"} {
		assert.NotContains(t, typ, f)
	}
	assert.True(t, errors.Is(twofa.ErrTooManyDevices, twofa.ErrLimitReached))
}

// devAfter is the context key of a Confirm's channel to wait for.
type devAfter struct{}

// newDevStaleStore returns a fault store whose first n Device reads wait
// for one another, so
// that n concurrent Confirms all see the enrolment as it was before any of
// them reserved a try (as when a burst of requests reaches a database at
// once). A Confirm whose context carries a devAfter channel then waits for
// it: it arrives with a stale read after the others. With keepPending,
// discards are lost (a store that lags, or a failed delete), so that
// nothing but the reservation stops later codes.

func newDevStaleStore(s *memstore.Store, n int, keepPending bool) *faultStore {
	var reads atomic.Int32
	all := make(chan struct{})
	fs := newFaultStore(s).After("Device", func(c faultCall) error {
		if r := reads.Add(1); r <= int32(n) {
			if r == int32(n) {
				close(all)
			}
			<-all
			if after, ok := c.Ctx.Value(devAfter{}).(chan struct{}); ok {
				<-after
			}
		}
		return c.Err
	})
	if keepPending {
		fs.Before("DeletePendingDevice", func(faultCall) error { return errFaultSkip })
	}
	return fs
}

// devConfirmBurst confirms e with the wrong codes in parallel and then,
// from a read as stale as theirs, with right; it returns the wrong codes'
// errors and right's.
func devConfirmBurst(t *testing.T, devs *twofa.Devices, e *twofa.Enrollment, wrong []string, right string) ([]error, error) {
	t.Helper()
	errs := make([]error, len(wrong))
	after := make(chan struct{})
	var wrongDone, all sync.WaitGroup
	for i, code := range wrong {
		wrongDone.Add(1)
		all.Go(func() {
			defer wrongDone.Done()
			errs[i] = errOf(devs.Confirm(t.Context(), "alice", e.Device.ID, code))
		})
	}
	var rightErr error
	all.Go(func() {
		ctx := context.WithValue(t.Context(), devAfter{}, after)
		_, rightErr = devs.Confirm(ctx, "alice", e.Device.ID, right)
	})
	wrongDone.Wait()
	close(after)
	all.Wait()
	return errs, rightErr
}

// TestConfirmParallelGuessesStaleReads: Config.Devices.ConfirmAttempts holds
// against parallel guesses that all read the enrolment before any was
// counted. Of 50 wrong codes 5 are evaluated (4 ErrInvalidCode, then the
// discard); the right code, arriving after them with an equally stale
// read, is refused even though the discard was lost.
func TestConfirmParallelGuessesStaleReads(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	store := newDevStaleStore(env.Store, 51, true)
	cfg := env.Config
	cfg.Store = store
	devs, err := newDevices(cfg)
	require.NoError(t, err)
	e, err := devs.Enroll(t.Context(), "alice", "phone", twofa.EnrollOptions{})
	require.NoError(t, err)
	wrong := make([]string, 50)
	for i := range wrong {
		wrong[i] = devWrongCode(t, e.Key, env.Clock.Now())
	}
	errs, rightErr := devConfirmBurst(t, devs, e, wrong, devConfirmCode(t, env, e))

	invalid, expired := 0, 0
	for _, err := range errs {
		switch {
		case errors.Is(err, twofa.ErrInvalidCode):
			invalid++
		case errors.Is(err, twofa.ErrEnrollmentExpired):
			expired++
		default:
			assert.Failf(t, "unexpected error", "wrong code: %v", err)
		}
	}
	assert.Equal(t, cfgDefaults(t).Devices.ConfirmAttempts-1, invalid, "wrong codes evaluated and refused")
	assert.Equal(t, 50-invalid, expired)
	assert.Equal(t, cfgDefaults(t).Devices.ConfirmAttempts, env.Events.Count(twofa.EventEnrollmentFailed), "codes evaluated")
	require.ErrorIs(t, rightErr, twofa.ErrEnrollmentExpired, "the right code after the tries ran out")
	assert.Zero(t, env.Events.Count(twofa.EventConfirmed))
	dev, err := env.Store.Device(t.Context(), "alice", e.Device.ID)
	require.NoError(t, err)
	assert.Equal(t, twofa.DevicePending, dev.State)
	assert.Equal(t, cfgDefaults(t).Devices.ConfirmAttempts, dev.Attempts)
}

// TestConfirmRightCodeOnLastTry: the right code is evaluated on the last
// of Config.Devices.ConfirmAttempts tries, after four parallel wrong ones with
// reads as stale as its own, and confirms.
func TestConfirmRightCodeOnLastTry(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	cfg := env.Config
	cfg.Store = newDevStaleStore(env.Store, cfgDefaults(t).Devices.ConfirmAttempts, false)
	devs, err := newDevices(cfg)
	require.NoError(t, err)
	e, err := devs.Enroll(t.Context(), "alice", "phone", twofa.EnrollOptions{})
	require.NoError(t, err)
	wrong := make([]string, cfgDefaults(t).Devices.ConfirmAttempts-1)
	for i := range wrong {
		wrong[i] = devWrongCode(t, e.Key, env.Clock.Now())
	}
	errs, rightErr := devConfirmBurst(t, devs, e, wrong, devConfirmCode(t, env, e))
	for _, err := range errs {
		assert.ErrorIs(t, err, twofa.ErrInvalidCode)
	}
	require.NoError(t, rightErr)
	dev, err := env.Store.Device(t.Context(), "alice", e.Device.ID)
	require.NoError(t, err)
	assert.Equal(t, twofa.DeviceConfirmed, dev.State)
	assert.Equal(t, cfgDefaults(t).Devices.ConfirmAttempts, dev.Attempts)
}

// TestConfirmBurstEvaluatesAtMostTheLimit: 200 parallel codes, the right
// one among them, all from stale reads: at most Config.Devices.ConfirmAttempts are
// evaluated, and the right one confirms only if it was one of them.
func TestConfirmBurstEvaluatesAtMostTheLimit(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	cfg := env.Config
	cfg.Store = newDevStaleStore(env.Store, 200, false)
	devs, err := newDevices(cfg)
	require.NoError(t, err)
	e, err := devs.Enroll(t.Context(), "alice", "phone", twofa.EnrollOptions{})
	require.NoError(t, err)
	right := devConfirmCode(t, env, e)
	errs := make([]error, 200)
	var wg sync.WaitGroup
	for i := range errs {
		code := right
		if i != 100 {
			code = devWrongCode(t, e.Key, env.Clock.Now())
		}
		wg.Go(func() { errs[i] = errOf(devs.Confirm(t.Context(), "alice", e.Device.ID, code)) })
	}
	wg.Wait()
	failed, confirmed := env.Events.Count(twofa.EventEnrollmentFailed), env.Events.Count(twofa.EventConfirmed)
	assert.LessOrEqual(t, failed+confirmed, cfgDefaults(t).Devices.ConfirmAttempts, "codes evaluated")
	if errs[100] == nil {
		assert.Equal(t, 1, confirmed)
	} else {
		assert.Zero(t, confirmed)
	}
	for i, err := range errs {
		assert.False(t, i != 100 && err != nil && !errors.Is(err, twofa.ErrInvalidCode) && !errors.Is(err, twofa.ErrEnrollmentExpired) &&
			!errors.Is(err, twofa.ErrNotFound) && !errors.Is(err, twofa.ErrAlreadyConfirmed), "code %d: %v", i, err)
	}
}

// TestRevokePendingKeepsRecoveryCodes: recovery codes handed out during an
// enrolment survive the revocation of an abandoned pending device, even
// when the account has no confirmed device yet.
func TestRevokePendingKeepsRecoveryCodes(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	env.EnrollTOTP("alice")
	codes, err := env.Recovery.Generate(ctx, "alice")
	require.NoError(t, err)
	_, err = env.TwoFA.Verify(ctx, "alice", codes[0])
	require.NoError(t, err)

	// A pending device next to the confirmed one: revoking it changes
	// nothing.
	p := devEnroll(t, env, "alice", twofa.EnrollOptions{})
	require.NoError(t, errOf(env.Devices.Revoke(ctx, "alice", p.Device.ID)))
	assert.Zero(t, env.Events.Count(twofa.EventTwoFactorDisabled))
	left, err := env.Recovery.Remaining(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, twofa.RecoveryCodeCount-1, left)
	enabled, err := env.TwoFA.Enabled(ctx, "alice")
	require.NoError(t, err)
	assert.True(t, enabled)
}

// TestRevokeConfirmedMeanwhile: Revoke acts on the state the device had
// when it was deleted. A device confirmed just before its revocation was
// the last second factor: two-factor authentication goes off, recovery
// codes are voided and EventTwoFactorDisabled is reported.
func TestRevokeConfirmedMeanwhile(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	// The victim is confirmed just before it is deleted: a Confirm that
	// lands between a read of the device and its revocation.
	var victim string
	at := env.Clock.Now()
	store := newFaultStore(env.Store).Before("DeleteDevice", func(c faultCall) error {
		if c.ID == victim {
			d, err := env.Store.Device(c.Ctx, c.Account, c.ID)
			if err != nil {
				return err
			}
			next := d
			next.State, next.Counter, next.ExpiresAt = twofa.DeviceConfirmed, 1, time.Time{}
			mac, err := twofa.DeviceMAC(env.Config.Keyring, next)
			if err != nil {
				return err
			}
			_, err = env.Store.ConfirmDevice(c.Ctx, c.Account, c.ID, 1, 0, at, cfgDefaults(t).Devices.ConfirmAttempts, d.MAC, mac)
			return err
		}
		return nil
	})
	cfg := env.Config
	cfg.Store = store
	devs, err := newDevices(cfg)
	require.NoError(t, err)
	e := devEnroll(t, env, "alice", twofa.EnrollOptions{})
	// Codes in the store, as issued under the device confirmed meanwhile.
	require.NoError(t, env.Store.ReplaceRecoveryCodes(ctx, "alice", [][]byte{[]byte("d1"), []byte("d2")}, env.Clock.Now()))
	victim = e.Device.ID

	require.NoError(t, errOf(devs.Revoke(ctx, "alice", e.Device.ID)))
	left, err := env.Recovery.Remaining(ctx, "alice")
	require.NoError(t, err)
	assert.Zero(t, left, "recovery codes voided")
	assert.Equal(t, 1, env.Events.Count(twofa.EventTwoFactorDisabled))
}
