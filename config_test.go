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

// cfgConstructors builds each manager from a Config.
var cfgConstructors = map[string]func(twofa.Config) error{
	"NewDevices": func(c twofa.Config) error {
		_, err := twofa.NewDevices(c)
		return err
	},
	"NewVerifier": func(c twofa.Config) error {
		_, err := twofa.NewVerifier(c)
		return err
	},
	"NewRecoveryCodes": func(c twofa.Config) error {
		_, err := twofa.NewRecoveryCodes(c)
		return err
	},
}

func TestConfigValid(t *testing.T) {
	t.Parallel()
	good := map[string]func(*twofa.Config){
		"defaults": func(*twofa.Config) {},
		"no window": func(c *twofa.Config) {
			c.Skew, c.LookAhead, c.MaxDrift = twofa.NoWindow, twofa.NoWindow, twofa.NoWindow
		},
		"largest skew":          func(c *twofa.Config) { c.Skew = (twofa.MaxWindow - 1) / 2 },
		"largest skew no drift": func(c *twofa.Config) { c.Skew, c.MaxDrift = (twofa.MaxWindow-1)/2, twofa.NoWindow },
		"largest look-ahead":    func(c *twofa.Config) { c.LookAhead = twofa.MaxWindow - 1 },
		"largest drift":         func(c *twofa.Config) { c.MaxDrift = (twofa.MaxWindow-1)/2 - twofa.DefaultSkew },
		"largest drift, no skew": func(c *twofa.Config) {
			c.Skew, c.MaxDrift = twofa.NoWindow, (twofa.MaxWindow-1)/2
		},
		"custom throttles": func(c *twofa.Config) {
			c.Throttle = twofa.ThrottlePolicy{Free: 0, Base: time.Minute, Max: time.Minute}
			c.RecoveryThrottle = twofa.ThrottlePolicy{Free: 3, Base: time.Second, Max: time.Hour}
		},
		"limits": func(c *twofa.Config) { c.MaxDevices, c.PendingTTL, c.ConfirmAttempts = 1, time.Second, 1 },
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
		for ctor, build := range cfgConstructors {
			assert.NoError(t, build(c), "%s: %s", name, ctor)
		}
	}
}

func TestConfigInvalid(t *testing.T) {
	t.Parallel()
	bad := map[string]func(*twofa.Config){
		"no store":   func(c *twofa.Config) { c.Store = nil },
		"no keyring": func(c *twofa.Config) { c.Keyring = nil },

		"skew -2":              func(c *twofa.Config) { c.Skew = -2 },
		"skew too large":       func(c *twofa.Config) { c.Skew = (twofa.MaxWindow-1)/2 + 1 },
		"look-ahead -2":        func(c *twofa.Config) { c.LookAhead = -2 },
		"look-ahead too large": func(c *twofa.Config) { c.LookAhead = twofa.MaxWindow },
		"drift -2":             func(c *twofa.Config) { c.MaxDrift = -2 },
		"drift too large":      func(c *twofa.Config) { c.MaxDrift = (twofa.MaxWindow - 1) / 2 },
		"drift and skew exceed the window": func(c *twofa.Config) {
			c.Skew, c.MaxDrift = 30, 21
		},

		"throttle negative free":      func(c *twofa.Config) { c.Throttle = twofa.ThrottlePolicy{Free: -1, Base: time.Second, Max: time.Hour} },
		"throttle negative base":      func(c *twofa.Config) { c.Throttle = twofa.ThrottlePolicy{Free: 5, Base: -time.Second, Max: time.Hour} },
		"throttle max below base":     func(c *twofa.Config) { c.Throttle = twofa.ThrottlePolicy{Free: 5, Base: time.Hour, Max: time.Second} },
		"recovery throttle bad":       func(c *twofa.Config) { c.RecoveryThrottle = twofa.ThrottlePolicy{Free: -3} },
		"recovery throttle max below": func(c *twofa.Config) { c.RecoveryThrottle = twofa.ThrottlePolicy{Base: time.Minute, Max: time.Second} },
		"budget without refill":       func(c *twofa.Config) { c.Throttle = twofa.ThrottlePolicy{Budget: 10} },
		"refill without budget":       func(c *twofa.Config) { c.Throttle = twofa.ThrottlePolicy{Refill: time.Hour} },
		"negative budget":             func(c *twofa.Config) { c.Throttle = twofa.ThrottlePolicy{Budget: -1, Refill: time.Hour} },
		"negative refill":             func(c *twofa.Config) { c.RecoveryThrottle = twofa.ThrottlePolicy{Budget: 1, Refill: -time.Hour} },
		"budget too large": func(c *twofa.Config) {
			c.Throttle = twofa.ThrottlePolicy{Budget: twofa.MaxThrottleBudget + 1, Refill: 1}
		},
		"refill too long": func(c *twofa.Config) {
			c.Throttle = twofa.ThrottlePolicy{Budget: 1, Refill: twofa.MaxThrottleDelay + 1}
		},
		"budget span too long": func(c *twofa.Config) {
			c.Throttle = twofa.ThrottlePolicy{Budget: 6, Refill: twofa.MaxThrottleDelay}
		},

		"negative max devices":      func(c *twofa.Config) { c.MaxDevices = -1 },
		"negative pending TTL":      func(c *twofa.Config) { c.PendingTTL = -time.Second },
		"negative confirm attempts": func(c *twofa.Config) { c.ConfirmAttempts = -1 },
	}
	for name, change := range bad {
		c := cfgValid(t)
		change(&c)
		for ctor, build := range cfgConstructors {
			err := build(c)
			assert.ErrorIs(t, err, twofa.ErrConfig, "%s: %s", name, ctor)
			if err != nil {
				assert.True(t, strings.HasPrefix(err.Error(), "twofa: invalid config: "), err.Error())
			}
		}
	}

	// Throttle policy errors also keep matching ErrInvalidOptions.
	c := cfgValid(t)
	c.Throttle.Free = -1
	_, err := twofa.NewVerifier(c)
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
		_, err := twofa.NewDevices(c)
		assert.ErrorIs(t, err, twofa.ErrConfig, name)
		// Only Devices shows the issuer in keys (Phones, in text messages,
		// checks it too: TestShownNamesRefuseFormatCharacters).
		_, err = twofa.NewVerifier(c)
		assert.NoError(t, err, name)
		_, err = twofa.NewRecoveryCodes(c)
		assert.NoError(t, err, name)
	}
}

// cfgEnv returns a twofatest environment with its Config changed and the
// managers rebuilt.
func cfgEnv(t *testing.T, change func(*twofa.Config)) *twofatest.Env {
	t.Helper()
	return devWithConfig(t, twofatest.New(t), change)
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
	require.NoError(t, env.Devices.Confirm(t.Context(), "alice", e.Device.ID, g.CodeAt(n)))
	return e, g, n
}

func TestConfigSkew(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		skew   int
		accept int // the furthest step offset accepted
	}{
		{0, twofa.DefaultSkew},
		{twofa.NoWindow, 0},
		{1, 1},
		{3, 3},
	} {
		env := cfgEnv(t, func(c *twofa.Config) { c.Skew, c.MaxDrift = tc.skew, twofa.NoWindow })
		_, g, n := cfgTOTPAtStep(t, env)
		// One step later, offsets beyond the skew are refused, then the
		// furthest accepted offset is accepted.
		env.Clock.Advance(twofa.DefaultPeriod)
		now := n + 1
		_, err := env.Verifier.Verify(t.Context(), "alice", g.CodeAt(now+uint64(tc.accept)+1))
		require.ErrorIs(t, err, twofa.ErrInvalidCode, "skew %d", tc.skew)
		_, err = env.Verifier.Verify(t.Context(), "alice", g.CodeAt(now+uint64(tc.accept)))
		require.NoError(t, err, "skew %d", tc.skew)
	}
}

func TestConfigLookAhead(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lookAhead int
		accept    uint64 // the furthest counter accepted after counter 0
	}{
		{0, 1 + twofa.DefaultLookAhead},
		{twofa.NoWindow, 1},
		{2, 3},
	} {
		env := cfgEnv(t, func(c *twofa.Config) { c.LookAhead = tc.lookAhead })
		e := devEnroll(t, env, "alice", twofa.EnrollOptions{Type: twofa.TypeHOTP})
		require.NoError(t, env.Devices.Confirm(t.Context(), "alice", e.Device.ID, devHOTPCode(t, e.Key, 0)))
		_, err := env.Verifier.Verify(t.Context(), "alice", devHOTPCode(t, e.Key, tc.accept+1))
		require.ErrorIs(t, err, twofa.ErrInvalidCode, "look-ahead %d", tc.lookAhead)
		_, err = env.Verifier.Verify(t.Context(), "alice", devHOTPCode(t, e.Key, tc.accept))
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
		adopted  bool
	}{
		{0, true},
		{twofa.NoWindow, false},
		{2, false},
		{3, true},
	} {
		env := cfgEnv(t, func(c *twofa.Config) { c.MaxDrift = tc.maxDrift })
		_, g, n := cfgTOTPAtStep(t, env)
		env.Clock.Advance(twofa.DefaultPeriod)
		_, err := env.Verifier.Verify(t.Context(), "alice", g.CodeAt(n+1+3))
		require.ErrorIs(t, err, twofa.ErrInvalidCode, "max drift %d: first drifted code", tc.maxDrift)
		env.Clock.Advance(twofa.DefaultPeriod)
		_, err = env.Verifier.Verify(t.Context(), "alice", g.CodeAt(n+2+3))
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
	for i := range twofa.DefaultThrottle.Free + 1 {
		_, err := env.Verifier.Verify(ctx, "alice", wrong)
		require.ErrorIs(t, err, twofa.ErrInvalidCode, "attempt %d", i+1)
	}
	_, err := env.Verifier.Verify(ctx, "alice", dev.Code())
	var te *twofa.ThrottledError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, twofa.DefaultThrottle.Base, te.RetryAfter)
}
