package twofa_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/twofatest"
)

// cfgValid returns a complete Config.
func cfgValid(t testing.TB) twofa.Config {
	t.Helper()
	kr, err := keyring.New(1, map[keyring.KeyID][]byte{1: devKeyringKey(1)}, devKeyringKey(2))
	require.NoError(t, err)
	return twofa.Config{Store: memstore.New(), Keyring: kr, Issuer: "Example"}
}

// cfgNew builds an installation from a Config.
func cfgNew(c twofa.Config) error {
	_, err := twofa.New(c)
	return err
}

func TestConfigValid(t *testing.T) {
	t.Parallel()
	good := map[string]func(*twofa.Config){
		"defaults": func(*twofa.Config) {},
		"no window": func(c *twofa.Config) {
			c.Codes.NoSkew, c.Codes.NoLookAhead, c.Codes.NoDriftTracking = true, true, true
		},
		"largest skew":          func(c *twofa.Config) { c.Codes.Skew = (twofa.MaxWindow - 1) / 2 },
		"largest skew no drift": func(c *twofa.Config) { c.Codes.Skew, c.Codes.NoDriftTracking = (twofa.MaxWindow-1)/2, true },
		"largest look-ahead":    func(c *twofa.Config) { c.Codes.LookAhead = twofa.MaxWindow - 1 },
		"largest drift":         func(c *twofa.Config) { c.Codes.MaxDrift = (twofa.MaxWindow-1)/2 - cfgDefaults(t).Codes.Skew },
		"largest drift, no skew": func(c *twofa.Config) {
			c.Codes.NoSkew, c.Codes.MaxDrift = true, (twofa.MaxWindow-1)/2
		},
		"custom throttles": func(c *twofa.Config) {
			c.Throttle.Codes = twofa.ThrottlePolicy{Free: 0, Base: time.Minute, Max: time.Minute}
			c.Throttle.Recovery = twofa.ThrottlePolicy{Free: 3, Base: time.Second, Max: time.Hour}
		},
		"limits": func(c *twofa.Config) {
			c.Devices.Max, c.Devices.PendingTTL, c.Devices.ConfirmAttempts = 1, time.Second, 1
		},
		"clock and events": func(c *twofa.Config) {
			c.Clock = twofatest.NewClock(twofatest.Start)
			c.Events = (&twofatest.Recorder{}).Hook
		},
		"unicode issuer": func(c *twofa.Config) { c.Issuer = "Société Générale 日本" },
		"longest issuer": func(c *twofa.Config) { c.Issuer = strings.Repeat("x", twofa.MaxIssuerLength) },
	}
	for name, change := range good {
		c := cfgValid(t)
		change(&c)
		assert.NoError(t, cfgNew(c), name)
	}
}

func TestConfigInvalid(t *testing.T) {
	t.Parallel()
	bad := map[string]func(*twofa.Config){
		"no store":   func(c *twofa.Config) { c.Store = nil },
		"no keyring": func(c *twofa.Config) { c.Keyring = nil },
		"no issuer":  func(c *twofa.Config) { c.Issuer = "" },

		"skew and no skew":             func(c *twofa.Config) { c.Codes.Skew, c.Codes.NoSkew = 1, true },
		"look-ahead and no look-ahead": func(c *twofa.Config) { c.Codes.LookAhead, c.Codes.NoLookAhead = 1, true },
		"drift and no drift tracking":  func(c *twofa.Config) { c.Codes.MaxDrift, c.Codes.NoDriftTracking = 1, true },

		"skew -1":              func(c *twofa.Config) { c.Codes.Skew = -1 },
		"skew -2":              func(c *twofa.Config) { c.Codes.Skew = -2 },
		"skew too large":       func(c *twofa.Config) { c.Codes.Skew = (twofa.MaxWindow-1)/2 + 1 },
		"look-ahead -2":        func(c *twofa.Config) { c.Codes.LookAhead = -2 },
		"look-ahead too large": func(c *twofa.Config) { c.Codes.LookAhead = twofa.MaxWindow },
		"drift -2":             func(c *twofa.Config) { c.Codes.MaxDrift = -2 },
		"drift too large":      func(c *twofa.Config) { c.Codes.MaxDrift = (twofa.MaxWindow - 1) / 2 },
		"drift and skew exceed the window": func(c *twofa.Config) {
			c.Codes.Skew, c.Codes.MaxDrift = 30, 21
		},

		"throttle negative free": func(c *twofa.Config) {
			c.Throttle.Codes = twofa.ThrottlePolicy{Free: -1, Base: time.Second, Max: time.Hour}
		},
		"throttle negative base": func(c *twofa.Config) {
			c.Throttle.Codes = twofa.ThrottlePolicy{Free: 5, Base: -time.Second, Max: time.Hour}
		},
		"throttle max below base": func(c *twofa.Config) {
			c.Throttle.Codes = twofa.ThrottlePolicy{Free: 5, Base: time.Hour, Max: time.Second}
		},
		"recovery throttle bad":       func(c *twofa.Config) { c.Throttle.Recovery = twofa.ThrottlePolicy{Free: -3} },
		"recovery throttle max below": func(c *twofa.Config) { c.Throttle.Recovery = twofa.ThrottlePolicy{Base: time.Minute, Max: time.Second} },
		"budget without refill":       func(c *twofa.Config) { c.Throttle.Codes = twofa.ThrottlePolicy{Budget: 10} },
		"refill without budget":       func(c *twofa.Config) { c.Throttle.Codes = twofa.ThrottlePolicy{Refill: time.Hour} },
		"negative budget":             func(c *twofa.Config) { c.Throttle.Codes = twofa.ThrottlePolicy{Budget: -1, Refill: time.Hour} },
		"negative refill":             func(c *twofa.Config) { c.Throttle.Recovery = twofa.ThrottlePolicy{Budget: 1, Refill: -time.Hour} },
		"budget too large": func(c *twofa.Config) {
			c.Throttle.Codes = twofa.ThrottlePolicy{Budget: twofa.MaxThrottleBudget + 1, Refill: 1}
		},
		"refill too long": func(c *twofa.Config) {
			c.Throttle.Codes = twofa.ThrottlePolicy{Budget: 1, Refill: twofa.MaxThrottleDelay + 1}
		},
		"budget span too long": func(c *twofa.Config) {
			c.Throttle.Codes = twofa.ThrottlePolicy{Budget: 6, Refill: twofa.MaxThrottleDelay}
		},

		"negative max devices":      func(c *twofa.Config) { c.Devices.Max = -1 },
		"negative pending TTL":      func(c *twofa.Config) { c.Devices.PendingTTL = -time.Second },
		"negative confirm attempts": func(c *twofa.Config) { c.Devices.ConfirmAttempts = -1 },
	}
	for name, change := range bad {
		c := cfgValid(t)
		change(&c)
		err := cfgNew(c)
		assert.ErrorIs(t, err, twofa.ErrConfig, name)
		if err != nil {
			assert.True(t, strings.HasPrefix(err.Error(), "twofa: invalid config: "), err.Error())
		}
	}

	// Throttle policy errors also keep matching ErrInvalidOptions.
	c := cfgValid(t)
	c.Throttle.Codes.Free = -1
	_, err := twofa.New(c)
	assert.ErrorIs(t, err, twofa.ErrInvalidOptions)
}

func TestConfigIssuer(t *testing.T) {
	t.Parallel()
	for name, issuer := range map[string]string{
		"empty":         "",
		"colon":         "Example:Corp",
		"newline":       "Example\n",
		"bidi override": "Example\u202eelgoog",
		"zero-width":    "Exam\u200bple",
		"space":         " Example",
		"not UTF8":      "Ex\xffample",
		"too long":      strings.Repeat("x", twofa.MaxIssuerLength+1),
	} {
		c := cfgValid(t)
		c.Issuer = issuer
		// Devices shows the issuer in keys (package phone, in text
		// messages: TestShownNamesRefuseFormatCharacters).
		_, err := twofa.New(c)
		assert.ErrorIs(t, err, twofa.ErrConfig, name)
	}
}

// cfgEnv returns a twofatest environment with its Config changed and the
// installation rebuilt.
func cfgEnv(t *testing.T, change func(*twofa.Config)) *twofatest.Env {
	t.Helper()
	env := twofatest.New(t)
	env.Reconfigure(change)
	return env
}

// cfgTOTPAtStep enrols a TOTP device, confirms it with the current step's
// code and returns it with that step.
func cfgTOTPAtStep(t *testing.T, env *twofatest.Env) (*twofa.Enrollment, *twofa.TOTP, uint64) {
	t.Helper()
	e := devEnroll(t, env, "alice", twofa.EnrollOptions{})
	g, err := e.Key.TOTP()
	require.NoError(t, err)
	n, err := g.Step(env.Clock.Now())
	require.NoError(t, err)
	require.NoError(t, errOf(env.Devices.Confirm(t.Context(), "alice", e.Device.ID, g.CodeAt(n))))
	return e, g, n
}

func TestConfigSkew(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		skew   int
		none   bool // NoSkew
		accept int  // the furthest step offset accepted
	}{
		{0, false, cfgDefaults(t).Codes.Skew},
		{0, true, 0},
		{1, false, 1},
		{3, false, 3},
	} {
		env := cfgEnv(t, func(c *twofa.Config) {
			c.Codes.Skew, c.Codes.NoSkew, c.Codes.NoDriftTracking = tc.skew, tc.none, true
		})
		_, g, n := cfgTOTPAtStep(t, env)
		// One step later, offsets beyond the skew are refused, then the
		// furthest accepted offset is accepted.
		env.Clock.Advance(twofa.DefaultPeriod)
		now := n + 1
		_, err := env.TwoFA.Verify(t.Context(), "alice", g.CodeAt(now+uint64(tc.accept)+1))
		require.ErrorIs(t, err, twofa.ErrInvalidCode, "skew %d", tc.skew)
		_, err = env.TwoFA.Verify(t.Context(), "alice", g.CodeAt(now+uint64(tc.accept)))
		require.NoError(t, err, "skew %d", tc.skew)
	}
}

func TestConfigLookAhead(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lookAhead int
		none      bool   // NoLookAhead
		accept    uint64 // the furthest counter accepted after counter 0
	}{
		{0, false, 1 + twofa.DefaultLookAhead},
		{0, true, 1},
		{2, false, 3},
	} {
		env := cfgEnv(t, func(c *twofa.Config) { c.Codes.LookAhead, c.Codes.NoLookAhead = tc.lookAhead, tc.none })
		e := devEnroll(t, env, "alice", twofa.EnrollOptions{Type: twofa.TypeHOTP})
		require.NoError(t, errOf(env.Devices.Confirm(t.Context(), "alice", e.Device.ID, devHOTPCode(t, e.Key, 0))))
		_, err := env.TwoFA.Verify(t.Context(), "alice", devHOTPCode(t, e.Key, tc.accept+1))
		require.ErrorIs(t, err, twofa.ErrInvalidCode, "look-ahead %d", tc.lookAhead)
		_, err = env.TwoFA.Verify(t.Context(), "alice", devHOTPCode(t, e.Key, tc.accept))
		require.NoError(t, err, "look-ahead %d", tc.lookAhead)
	}
}

func TestConfigMaxDrift(t *testing.T) {
	t.Parallel()
	// A phone whose clock runs 3 steps fast: outside the default skew,
	// within the default drift bound. Two consecutive codes at that
	// offset are accepted unless drift tracking is off.
	for _, tc := range []struct {
		maxDrift int
		none     bool // NoDriftTracking
		adopted  bool
	}{
		{0, false, true},
		{0, true, false},
		{2, false, false},
		{3, false, true},
	} {
		env := cfgEnv(t, func(c *twofa.Config) { c.Codes.MaxDrift, c.Codes.NoDriftTracking = tc.maxDrift, tc.none })
		_, g, n := cfgTOTPAtStep(t, env)
		env.Clock.Advance(twofa.DefaultPeriod)
		_, err := env.TwoFA.Verify(t.Context(), "alice", g.CodeAt(n+1+3))
		require.ErrorIs(t, err, twofa.ErrInvalidCode, "max drift %d: first drifted code", tc.maxDrift)
		env.Clock.Advance(twofa.DefaultPeriod)
		_, err = env.TwoFA.Verify(t.Context(), "alice", g.CodeAt(n+2+3))
		if tc.adopted {
			require.NoError(t, err, "max drift %d", tc.maxDrift)
			assert.Equal(t, 1, env.Events.Count(twofa.EventDriftAdjusted))
		} else {
			require.ErrorIs(t, err, twofa.ErrInvalidCode, "max drift %d", tc.maxDrift)
			assert.Zero(t, env.Events.Count(twofa.EventDriftAdjusted))
		}
	}
}

func TestConfigZeroThrottleMeansDefault(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	dev := env.EnrollTOTP("alice")
	wrong := devWrongCode(t, dev.Key, env.Clock.Now())
	def := env.TwoFA.Config().Throttle.Codes
	for i := range def.Free + 1 {
		_, err := env.TwoFA.Verify(ctx, "alice", wrong)
		require.ErrorIs(t, err, twofa.ErrInvalidCode, "attempt %d", i+1)
	}
	_, err := env.TwoFA.Verify(ctx, "alice", dev.Code())
	var te *twofa.ThrottledError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, def.Base, te.RetryAfter)
}

func TestConfigResolved(t *testing.T) {
	t.Parallel()
	c := cfgValid(t)
	tf, err := twofa.New(c)
	require.NoError(t, err)
	got := tf.Config()
	assert.Equal(t, cfgDefaults(t).Codes.Skew, got.Codes.Skew)
	assert.Equal(t, twofa.DefaultLookAhead, got.Codes.LookAhead)
	assert.Equal(t, cfgDefaults(t).Codes.MaxDrift, got.Codes.MaxDrift)
	assert.Equal(t, twofa.DevicePolicy{Max: cfgDefaults(t).Devices.Max, PendingTTL: cfgDefaults(t).Devices.PendingTTL, ConfirmAttempts: cfgDefaults(t).Devices.ConfirmAttempts}, got.Devices)
	assert.Equal(t, twofa.ThrottlePolicy{Free: 5, Base: time.Second, Max: 2 * time.Hour, Budget: 30, Refill: 36 * time.Hour}, got.Throttle.Codes)
	assert.Equal(t, twofa.ThrottlePolicy{Budget: 1000, Refill: time.Second}, got.Throttle.Recovery)
	assert.Equal(t, twofa.ThrottlePolicy{Free: 10, Base: time.Second, Max: 15 * time.Minute}, got.Throttle.AppPasswords)
	assert.Equal(t, cfgDefaults(t).AppPasswords.Max, got.AppPasswords.Max)
	assert.NotNil(t, got.Clock)
	require.NotNil(t, tf.Devices)
	require.NotNil(t, tf.Recovery)
	require.NotNil(t, tf.AppPasswords)

	// A resolved Config resolves to itself, and the copy is a copy.
	again, err := twofa.New(got)
	require.NoError(t, err)
	assert.Equal(t, got, again.Config())
	got.Devices.Max = 1
	assert.Equal(t, cfgDefaults(t).Devices.Max, tf.Config().Devices.Max)

	// The No* settings resolve to zero windows and stay set.
	c.Codes = twofa.CodePolicy{NoSkew: true, NoLookAhead: true, NoDriftTracking: true}
	tf, err = twofa.New(c)
	require.NoError(t, err)
	assert.Equal(t, c.Codes, tf.Config().Codes)
}

// The parts of an installation built from c, for tests that build one
// from a changed Config (a fault store, another keyring) and use one part.

func newDevices(c twofa.Config) (*twofa.Devices, error) {
	tf, err := twofa.New(c)
	if err != nil {
		return nil, err
	}
	return tf.Devices, nil
}

func newRecoveryCodes(c twofa.Config) (*twofa.RecoveryCodes, error) {
	tf, err := twofa.New(c)
	if err != nil {
		return nil, err
	}
	return tf.Recovery, nil
}

func newAppPasswords(c twofa.Config) (*twofa.AppPasswords, error) {
	tf, err := twofa.New(c)
	if err != nil {
		return nil, err
	}
	return tf.AppPasswords, nil
}

// cfgDefaults returns the resolved default Config (TwoFA.Config), for
// tests that read a default.
func cfgDefaults(t testing.TB) twofa.Config {
	t.Helper()
	tf, err := twofa.New(cfgValid(t))
	require.NoError(t, err)
	return tf.Config()
}
