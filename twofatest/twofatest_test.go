package twofatest_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/twofatest"
)

func TestClock(t *testing.T) {
	t.Parallel()
	var zero twofatest.Clock
	assert.True(t, zero.Now().IsZero(), "the zero Clock stands at the zero time")

	at := time.Date(2030, 5, 6, 7, 8, 9, 10, time.UTC)
	c := twofatest.NewClock(at)
	assert.Equal(t, at, c.Now())
	assert.Equal(t, at, c.Now(), "it does not move by itself")
	c.Advance(90 * time.Second)
	assert.Equal(t, at.Add(90*time.Second), c.Now())
	c.Advance(0)
	assert.Equal(t, at.Add(90*time.Second), c.Now())
	c.Set(at.Add(-time.Hour))
	assert.Equal(t, at.Add(-time.Hour), c.Now(), "Set moves backwards too")
	c.Advance(-time.Minute)
	assert.Equal(t, at.Add(-time.Hour-time.Minute), c.Now())

	var _ twofa.Clock = c
}

func TestClockConcurrent(t *testing.T) {
	t.Parallel()
	c := twofatest.NewClock(twofatest.Start)
	const writers, steps = 20, 200
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range steps {
				c.Advance(time.Second)
			}
		})
	}
	for range 5 {
		wg.Go(func() {
			last := c.Now()
			for range steps {
				now := c.Now()
				assert.False(t, now.Before(last), "Advance only moves forward")
				last = now
			}
		})
	}
	wg.Wait()
	assert.Equal(t, twofatest.Start.Add(writers*steps*time.Second), c.Now(), "no Advance is lost")

	var sg sync.WaitGroup
	for i := range 10 {
		sg.Go(func() { c.Set(twofatest.Start.Add(time.Duration(i) * time.Hour)) })
	}
	sg.Wait()
	got := c.Now()
	assert.False(t, got.Before(twofatest.Start))
	assert.Zero(t, got.Sub(twofatest.Start)%time.Hour, "one of the Set times, whole")
}

func TestStart(t *testing.T) {
	t.Parallel()
	// Start lies well inside a 30 s step: codes do not change under a
	// test that takes a few seconds.
	off := twofatest.Start.Unix() % 30
	assert.GreaterOrEqual(t, off, int64(1))
	assert.LessOrEqual(t, off, int64(25))
	assert.Equal(t, time.UTC, twofatest.Start.Location())
}

func TestNew(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	require.NotNil(t, env.Clock)
	require.NotNil(t, env.Store)
	require.NotNil(t, env.Keyring)
	require.NotNil(t, env.Events)
	require.NotNil(t, env.Devices)
	require.NotNil(t, env.TwoFA)
	require.NotNil(t, env.Recovery)
	require.NotNil(t, env.AppPasswords)
	require.NotNil(t, env.Phones)
	require.NotNil(t, env.Browsers)
	require.NotNil(t, env.SignIns)
	assert.Same(t, env.Browsers, env.SignIns.Config().Browsers)
	assert.Same(t, env.TwoFA.Devices, env.Devices)
	assert.Same(t, env.TwoFA.Recovery, env.Recovery)
	assert.Same(t, t, env.T.(*testing.T))
	assert.Equal(t, twofatest.Start, env.Clock.Now())
	assert.Equal(t, "twofatest", env.Config.Issuer)
	assert.Same(t, env.Keyring, env.Config.Keyring)
	assert.Equal(t, twofa.Clock(env.Clock), env.Config.Clock)
	assert.Equal(t, twofa.Store(env.Store), env.Config.Store)
	assert.NotNil(t, env.Config.Events)
	assert.Empty(t, env.Events.Events())

	// Every Env has its own state and keys.
	other := twofatest.New(t)
	assert.NotSame(t, env.Store, other.Store)
	dev := env.EnrollTOTP("alice")
	enabled, err := other.TwoFA.Enabled(t.Context(), "alice")
	require.NoError(t, err)
	assert.False(t, enabled)
	ds, err := env.Store.Devices(t.Context(), "alice")
	require.NoError(t, err)
	require.Len(t, ds, 1)
	_, err = other.Keyring.Open(nil, "alice", dev.ID, ds[0].Sealed)
	assert.ErrorIs(t, err, keyring.ErrInvalidSealed, "keyrings are random per Env")
}

func TestEnrollTOTP(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	dev := env.EnrollTOTP("alice")
	assert.NotEmpty(t, dev.ID)
	assert.Equal(t, twofa.TypeTOTP, dev.Key.Type)
	assert.Equal(t, "alice", dev.Key.Account)
	assert.Equal(t, "twofatest", dev.Key.Issuer)
	assert.Equal(t, []twofa.EventType{twofa.EventEnrolled, twofa.EventConfirmed, twofa.EventTwoFactorEnabled}, eventTypes(env))

	l, err := env.Devices.List(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, l, 1)
	assert.Equal(t, dev.ID, l[0].ID)
	assert.Equal(t, twofa.DeviceConfirmed, l[0].State)

	// The code verifies at once, once.
	code := dev.Code()
	assert.Len(t, code, 6)
	assert.Equal(t, code, dev.Code(), "same step, same code")
	assert.Equal(t, code, dev.CodeAt(env.Clock.Now()))
	res, err := env.TwoFA.Verify(ctx, "alice", code)
	require.NoError(t, err)
	assert.Equal(t, dev.ID, res.DeviceID)
	_, err = env.TwoFA.Verify(ctx, "alice", code)
	require.ErrorIs(t, err, twofa.ErrReplayed)
	// The confirmation code (the step before) is used too.
	_, err = env.TwoFA.Verify(ctx, "alice", dev.CodeAt(env.Clock.Now().Add(-30*time.Second)))
	require.ErrorIs(t, err, twofa.ErrReplayed)

	// Advancing a step gives a fresh code.
	env.Clock.Advance(30 * time.Second)
	next := dev.Code()
	assert.NotEqual(t, code, next)
	_, err = env.TwoFA.Verify(ctx, "alice", next)
	require.NoError(t, err)

	// Many steps later, the code still works (no drift on the fake clock).
	env.Clock.Advance(24 * time.Hour)
	_, err = env.TwoFA.Verify(ctx, "alice", dev.Code())
	require.NoError(t, err)

	assert.Equal(t, 3, env.Events.Count(twofa.EventVerified))
	assert.Equal(t, 2, env.Events.Count(twofa.EventReplayed))
}

func TestEnrollHOTP(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	dev := env.EnrollHOTP("alice")
	assert.Equal(t, twofa.TypeHOTP, dev.Key.Type)

	_, err := env.TwoFA.Verify(ctx, "alice", dev.HOTPCode(0))
	require.ErrorIs(t, err, twofa.ErrReplayed, "counter 0 confirmed the device")
	for c := uint64(1); c <= 5; c++ {
		code := dev.Code()
		assert.Equal(t, dev.HOTPCode(c), code, "each press shows the next counter")
		_, err := env.TwoFA.Verify(ctx, "alice", code)
		require.NoError(t, err, "counter %d", c)
		_, err = env.TwoFA.Verify(ctx, "alice", code)
		require.ErrorIs(t, err, twofa.ErrReplayed)
	}
	// The clock does not matter.
	env.Clock.Advance(time.Hour)
	_, err = env.TwoFA.Verify(ctx, "alice", dev.Code())
	require.NoError(t, err)
}

func TestEnrollDevice(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	dev := twofatest.EnrollDevice(t, env.Devices, env.Clock, "bob", twofa.EnrollOptions{
		Options:     twofa.Options{Algorithm: twofa.SHA256, Digits: 8, Period: time.Minute},
		AccountName: "bob@example.com",
	})
	assert.Equal(t, "bob@example.com", dev.Key.Account)
	code := dev.Code()
	assert.Len(t, code, 8)
	_, err := env.TwoFA.Verify(ctx, "bob", code)
	require.NoError(t, err)
	env.Clock.Advance(30 * time.Second)
	assert.Equal(t, code, dev.Code(), "a 60 s step")
	env.Clock.Advance(30 * time.Second)
	_, err = env.TwoFA.Verify(ctx, "bob", dev.Code())
	require.NoError(t, err)

	// A stricter installation on the same Env: exactly one code per step.
	c := env.Config
	c.Codes.NoSkew, c.Codes.NoLookAhead = true, true
	verifier, err := twofa.New(c)
	require.NoError(t, err)
	devices := verifier.Devices
	strict := twofatest.EnrollDevice(t, devices, env.Clock, "carol", twofa.EnrollOptions{})
	_, err = verifier.Verify(ctx, "carol", strict.Code())
	require.ErrorIs(t, err, twofa.ErrReplayed, "with no skew the current step confirmed it")
	env.Clock.Advance(30 * time.Second)
	_, err = verifier.Verify(ctx, "carol", strict.Code())
	require.NoError(t, err)
	hotp := twofatest.EnrollDevice(t, devices, env.Clock, "carol", twofa.EnrollOptions{Type: twofa.TypeHOTP})
	_, err = verifier.Verify(ctx, "carol", hotp.Code())
	require.NoError(t, err)
}

func TestRecorder(t *testing.T) {
	t.Parallel()
	var r twofatest.Recorder
	assert.Empty(t, r.Events())
	assert.Zero(t, r.Count(twofa.EventVerified))

	ctx := context.Background()
	r.Hook(ctx, twofa.Event{Type: twofa.EventVerified, Account: "a"})
	r.Hook(ctx, twofa.Event{Type: twofa.EventFailed, Account: "b"})
	r.Hook(ctx, twofa.Event{Type: twofa.EventVerified, Account: "c"})
	assert.Equal(t, 2, r.Count(twofa.EventVerified))
	assert.Equal(t, 1, r.Count(twofa.EventFailed))
	assert.Zero(t, r.Count(twofa.EventThrottled))

	evs := r.Events()
	require.Len(t, evs, 3)
	assert.Equal(t, []string{"a", "b", "c"}, []string{evs[0].Account, evs[1].Account, evs[2].Account}, "in order")
	evs[0].Account = "changed"
	assert.Equal(t, "a", r.Events()[0].Account, "Events returns a copy")
	assert.Equal(t, 2, r.Count(twofa.EventVerified))

	var hook twofa.EventHook = r.Hook
	const n = 100
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			hook(ctx, twofa.Event{Type: twofa.EventThrottled})
			_ = r.Count(twofa.EventThrottled)
		})
	}
	wg.Wait()
	assert.Equal(t, n, r.Count(twofa.EventThrottled))
	assert.Len(t, r.Events(), n+3)
}

func TestEnvConcurrentLogins(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	const accounts = 20
	devs := make([]*twofatest.Device, accounts)
	for i := range devs {
		devs[i] = env.EnrollTOTP(string(rune('a'+i)) + "-user")
	}
	var wg sync.WaitGroup
	for i, d := range devs {
		wg.Go(func() {
			_, err := env.TwoFA.Verify(ctx, string(rune('a'+i))+"-user", d.Code())
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, accounts, env.Events.Count(twofa.EventVerified))
}

func eventTypes(env *twofatest.Env) []twofa.EventType {
	var ts []twofa.EventType
	for _, e := range env.Events.Events() {
		ts = append(ts, e.Type)
	}
	return ts
}

func TestEnvReconfigure(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := context.Background()
	dev := env.EnrollTOTP("alice")
	before, beforePhones := env.TwoFA, env.Phones

	env.Reconfigure(func(c *twofa.Config) { c.Devices.Max = 1 })
	require.NotSame(t, before, env.TwoFA)
	assert.Equal(t, 1, env.Config.Devices.Max)
	assert.Equal(t, 1, env.TwoFA.Config().Devices.Max)
	assert.Same(t, env.TwoFA.Devices, env.Devices)
	assert.Same(t, env.TwoFA.Recovery, env.Recovery)
	assert.Same(t, env.TwoFA.AppPasswords, env.AppPasswords)
	require.NotNil(t, env.Phones)
	assert.NotSame(t, beforePhones, env.Phones, "Phones rebuilt on the new installation")

	// The state stays: alice's device still signs in, and the new limit holds.
	_, err := env.TwoFA.Verify(ctx, "alice", dev.Code())
	require.NoError(t, err)
	_, err = env.Devices.Enroll(ctx, "alice", "second", twofa.EnrollOptions{})
	require.ErrorIs(t, err, twofa.ErrTooManyDevices)

	env.EnableOutOfBand()
	assert.True(t, env.PhoneConfig.OutOfBand)
	assert.True(t, env.Phones.Config().OutOfBand)
	assert.Equal(t, 1, env.TwoFA.Config().Devices.Max, "earlier changes stay")
}
