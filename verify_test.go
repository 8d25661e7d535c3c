package twofa_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/twofatest"
)

// envWith returns a twofatest environment whose installation uses cfg's
// overrides (the zero fields keep the environment's values).
func envWith(t testing.TB, mod func(*twofa.Config)) *twofatest.Env {
	t.Helper()
	env := twofatest.New(t)
	env.Reconfigure(mod)
	return env
}

// wrongCode returns a well-formed code that matches none of the device's
// codes within ±window steps of now.
func wrongCode(t testing.TB, dev *twofatest.Device, now time.Time, window int) string {
	t.Helper()
	valid := map[string]bool{}
	for i := -window; i <= window; i++ {
		valid[dev.CodeAt(now.Add(time.Duration(i)*30*time.Second))] = true
	}
	for i := 0; i < 1000000; i++ {
		c := fmt.Sprintf("%06d", (i*7919+13)%1000000)
		if !valid[c] {
			return c
		}
	}
	t.Fatal("no wrong code found")
	return ""
}

func TestVerifyAcceptsOnceThenReplayed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := twofatest.New(t)
	dev := env.EnrollTOTP("alice")

	code := dev.Code()
	res, err := env.TwoFA.Verify(ctx, "alice", code)
	require.NoError(t, err)
	assert.Equal(t, twofa.FactorDevice, res.Factor)
	assert.Equal(t, dev.ID, res.DeviceID)

	_, err = env.TwoFA.Verify(ctx, "alice", code)
	require.ErrorIs(t, err, twofa.ErrReplayed)

	// An older code (previous step, still inside the skew) is a replay too.
	env.Clock.Advance(30 * time.Second)
	_, err = env.TwoFA.Verify(ctx, "alice", code)
	require.ErrorIs(t, err, twofa.ErrReplayed)

	// The next step's code works, typed with a space or a hyphen.
	next := dev.Code()
	_, err = env.TwoFA.Verify(ctx, "alice", next[:3]+" "+next[3:])
	require.NoError(t, err)
	assert.Equal(t, 2, env.Events.Count(twofa.EventVerified))
	assert.Equal(t, 2, env.Events.Count(twofa.EventReplayed))
}

func TestVerifySkewWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		offset time.Duration
		ok     bool
	}{
		{"one step ahead", 30 * time.Second, true},
		{"one step behind", -30 * time.Second, true},
		{"two steps ahead", 60 * time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := twofatest.New(t)
			// Import a device so no step has been consumed by Confirm.
			dev := importTOTP(t, env, "bob")
			_, err := env.TwoFA.Verify(ctx, "bob", dev.CodeAt(env.Clock.Now().Add(tc.offset)))
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, twofa.ErrInvalidCode)
			}
		})
	}
}

// importedDevice is a TOTP device imported (confirmed, nothing consumed).
type importedDevice struct {
	ID   string
	totp *twofa.TOTP
}

func (d importedDevice) CodeAt(t time.Time) string {
	c, err := d.totp.Code(t)
	if err != nil {
		panic(err)
	}
	return c
}

func importTOTP(t testing.TB, env *twofatest.Env, account string) importedDevice {
	t.Helper()
	s, err := twofa.NewSecret()
	require.NoError(t, err)
	k := twofa.Key{Issuer: "Test", Account: account, Secret: s}
	info, _, err := env.Devices.Import(context.Background(), account, "imported", k)
	require.NoError(t, err)
	totp, err := k.TOTP()
	require.NoError(t, err)
	return importedDevice{ID: info.ID, totp: totp}
}

// TestVerifyConcurrentReplay: 200 goroutines submit one valid code at
// once; exactly one succeeds and every other is ErrReplayed. The throttle
// is set wide so that it does not refuse attempts before they are
// evaluated (see TestVerifyConcurrentReplayDefaultThrottle for defaults).
func TestVerifyConcurrentReplay(t *testing.T) {
	t.Parallel()
	for round := 0; round < 5; round++ {
		env := envWith(t, func(c *twofa.Config) {
			c.Throttle.Codes = twofa.ThrottlePolicy{Free: 1000, Base: time.Second, Max: time.Minute}
		})
		dev := env.EnrollTOTP("carol")
		results := verifyConcurrently(env.TwoFA, "carol", dev.Code(), 200)
		assert.Equal(t, 1, results[nil], "round %d: successes", round)
		assert.Equal(t, 199, results[twofa.ErrReplayed], "round %d: replays", round)
		assert.Len(t, results, 2, "round %d: %v", round, results)
	}
}

// With the default throttle, attempts beyond the free failures may be
// refused unevaluated while the others are in flight: still exactly one
// success, and nothing else than replays and throttling.
func TestVerifyConcurrentReplayDefaultThrottle(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	dev := env.EnrollTOTP("dave")
	results := verifyConcurrently(env.TwoFA, "dave", dev.Code(), 200)
	assert.Equal(t, 1, results[nil])
	assert.Equal(t, 199, results[twofa.ErrReplayed]+results[twofa.ErrThrottled], "%v", results)
}

func verifyConcurrently(v *twofa.TwoFA, account, code string, n int) map[error]int {
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		results = map[error]int{}
		start   = make(chan struct{})
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := v.Verify(context.Background(), account, code)
			key := err
			switch {
			case err == nil:
			case errors.Is(err, twofa.ErrReplayed):
				key = twofa.ErrReplayed
			case errors.Is(err, twofa.ErrThrottled):
				key = twofa.ErrThrottled
			}
			mu.Lock()
			results[key]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return results
}

// TestThrottleSimulation runs an online guesser against one account with
// one TOTP device and the default settings for 24 hours of fake time: it
// submits a wrong code whenever TwoFA.Verify would evaluate one. The
// success probability of a real guesser is computed from the attempts the
// TwoFA.Verify let through (each tries 2·skew+1 = 3 codes of 10^6).
func TestThrottleSimulation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := twofatest.New(t)
	dev := env.EnrollTOTP("erin")
	recovery, err := env.Recovery.Generate(ctx, "erin")
	require.NoError(t, err)

	start := env.Clock.Now()
	end := start.Add(24 * time.Hour)
	evaluated, refused := 0, 0
	for env.Clock.Now().Before(end) {
		_, err := env.TwoFA.Verify(ctx, "erin", wrongCode(t, dev, env.Clock.Now(), 1))
		var te *twofa.ThrottledError
		switch {
		case errors.As(err, &te):
			refused++
			require.Positive(t, te.RetryAfter)
			require.LessOrEqual(t, te.RetryAfter, cfgDefaults(t).Throttle.Codes.Max)
			env.Clock.Advance(te.RetryAfter)
		case errors.Is(err, twofa.ErrInvalidCode):
			evaluated++
		default:
			require.Failf(t, "unexpected result", "%v", err)
		}
	}
	window := float64(2*cfgDefaults(t).Codes.Skew + 1)
	p := 1 - math.Pow(1-window/1e6, float64(evaluated))
	t.Logf("24 h: %d attempts evaluated, %d refused unevaluated; success probability %.2g", evaluated, refused, p)
	assert.LessOrEqual(t, p, 1e-4)
	assert.Equal(t, 29, evaluated, "the README states this figure")

	// The attacker keeps the account throttled (one more guess as soon as
	// the back-off lapses): the owner's code is refused unevaluated...
	for {
		_, err := env.TwoFA.Verify(ctx, "erin", wrongCode(t, dev, env.Clock.Now(), 1))
		if errors.Is(err, twofa.ErrThrottled) {
			break
		}
		require.ErrorIs(t, err, twofa.ErrInvalidCode)
	}
	_, err = env.TwoFA.Verify(ctx, "erin", dev.Code())
	require.ErrorIs(t, err, twofa.ErrThrottled)
	// ...but a recovery code, throttled separately, gets the owner in.
	res, err := env.TwoFA.Verify(ctx, "erin", recovery[0])
	require.NoError(t, err)
	assert.Equal(t, twofa.FactorRecoveryCode, res.Factor)
	assert.Equal(t, twofa.RecoveryCodeCount-1, res.RecoveryCodesLeft)
	// A support agent (or the owner, now signed in) can clear the throttle.
	require.NoError(t, env.TwoFA.ResetThrottle(ctx, "erin"))
	_, err = env.TwoFA.Verify(ctx, "erin", dev.Code())
	require.NoError(t, err)
}

func TestThrottleBackoff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := twofatest.New(t)
	dev := env.EnrollTOTP("frank")
	p := cfgDefaults(t).Throttle.Codes
	for i := 1; i <= p.Free+3; i++ {
		_, err := env.TwoFA.Verify(ctx, "frank", wrongCode(t, dev, env.Clock.Now(), 1))
		require.ErrorIs(t, err, twofa.ErrInvalidCode, "attempt %d", i)
		if d := p.Delay(i); d > 0 {
			// Throttled now: even the right code is not evaluated.
			_, err = env.TwoFA.Verify(ctx, "frank", dev.Code())
			var te *twofa.ThrottledError
			require.ErrorAs(t, err, &te, "after failure %d", i)
			assert.Equal(t, d, te.RetryAfter)
			assert.Contains(t, err.Error(), "retry after")
			env.Clock.Advance(d)
		}
	}
	assert.Positive(t, env.Events.Count(twofa.EventThrottled))
	// A success resets the count: the next failure is free again.
	_, err := env.TwoFA.Verify(ctx, "frank", dev.Code())
	require.NoError(t, err)
	st, err := env.Store.Throttle(ctx, "frank", twofa.ScopeCode)
	require.NoError(t, err)
	assert.Zero(t, st.Failures)
}

func TestVerifyDrift(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("two steps slow is adopted after one tolerated match", func(t *testing.T) {
		t.Parallel()
		env := twofatest.New(t)
		dev := importTOTP(t, env, "gina")
		slow := func() string { return dev.CodeAt(env.Clock.Now().Add(-60 * time.Second)) }

		_, err := env.TwoFA.Verify(ctx, "gina", slow())
		require.ErrorIs(t, err, twofa.ErrInvalidCode, "outside the window: tolerated, not accepted")
		env.Clock.Advance(30 * time.Second)
		_, err = env.TwoFA.Verify(ctx, "gina", slow())
		require.NoError(t, err, "the second code at the same offset is accepted")
		assert.Equal(t, 1, env.Events.Count(twofa.EventDriftAdjusted))
		d, err := env.Store.Device(ctx, "gina", dev.ID)
		require.NoError(t, err)
		assert.Equal(t, int64(-2), d.Drift)

		// It keeps working, step after step, with no further resync.
		for i := 0; i < 10; i++ {
			env.Clock.Advance(30 * time.Second)
			_, err = env.TwoFA.Verify(ctx, "gina", slow())
			require.NoError(t, err, "step %d", i)
		}
		assert.Equal(t, 1, env.Events.Count(twofa.EventDriftAdjusted))
	})

	t.Run("one step slow is accepted at once and tracked", func(t *testing.T) {
		t.Parallel()
		env := twofatest.New(t)
		dev := importTOTP(t, env, "hal")
		_, err := env.TwoFA.Verify(ctx, "hal", dev.CodeAt(env.Clock.Now().Add(-30*time.Second)))
		require.NoError(t, err)
		d, err := env.Store.Device(ctx, "hal", dev.ID)
		require.NoError(t, err)
		assert.Equal(t, int64(-1), d.Drift)
		// The window now centres one step back: two steps slow is inside
		// it, where it would only have been tolerated before.
		env.Clock.Advance(60 * time.Second)
		_, err = env.TwoFA.Verify(ctx, "hal", dev.CodeAt(env.Clock.Now().Add(-60*time.Second)))
		require.NoError(t, err)
		assert.Zero(t, env.Events.Count(twofa.EventDriftAdjusted))
	})

	t.Run("ten steps off is never accepted", func(t *testing.T) {
		t.Parallel()
		for _, off := range []time.Duration{-300 * time.Second, 300 * time.Second} {
			env := twofatest.New(t)
			dev := importTOTP(t, env, "ivy")
			for i := 0; i < 4; i++ {
				_, err := env.TwoFA.Verify(ctx, "ivy", dev.CodeAt(env.Clock.Now().Add(off)))
				require.ErrorIs(t, err, twofa.ErrInvalidCode, "offset %v attempt %d", off, i)
				env.Clock.Advance(30 * time.Second)
			}
			d, err := env.Store.Device(ctx, "ivy", dev.ID)
			require.NoError(t, err)
			assert.Zero(t, d.Drift)
			assert.Zero(t, d.ResyncStep)
		}
	})

	t.Run("a resync needs the same offset", func(t *testing.T) {
		t.Parallel()
		env := twofatest.New(t)
		dev := importTOTP(t, env, "jon")
		_, err := env.TwoFA.Verify(ctx, "jon", dev.CodeAt(env.Clock.Now().Add(-90*time.Second)))
		require.ErrorIs(t, err, twofa.ErrInvalidCode)
		env.Clock.Advance(30 * time.Second)
		// Now three steps fast: inconsistent with the recorded -3.
		_, err = env.TwoFA.Verify(ctx, "jon", dev.CodeAt(env.Clock.Now().Add(90*time.Second)))
		require.ErrorIs(t, err, twofa.ErrInvalidCode)
	})

	t.Run("drift tracking off", func(t *testing.T) {
		t.Parallel()
		env := envWith(t, func(c *twofa.Config) { c.Codes.NoDriftTracking = true })
		dev := importTOTP(t, env, "kim")
		for i := 0; i < 3; i++ {
			_, err := env.TwoFA.Verify(ctx, "kim", dev.CodeAt(env.Clock.Now().Add(-60*time.Second)))
			require.ErrorIs(t, err, twofa.ErrInvalidCode)
			env.Clock.Advance(30 * time.Second)
		}
	})
}

func TestVerifyHOTP(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Replays count as failures; a wide throttle keeps this test about
	// windows.
	env := envWith(t, func(c *twofa.Config) {
		c.Throttle.Codes = twofa.ThrottlePolicy{Free: 100, Base: time.Second, Max: time.Minute}
	})
	dev := env.EnrollHOTP("liz") // counter 0 used by the confirmation

	// Look-ahead: counters 1..6 are in the window (next expected 1, +5).
	_, err := env.TwoFA.Verify(ctx, "liz", dev.HOTPCode(7))
	require.ErrorIs(t, err, twofa.ErrInvalidCode)
	_, err = env.TwoFA.Verify(ctx, "liz", dev.HOTPCode(6))
	require.NoError(t, err)
	// Everything at or below 6 is now a replay, as far back as the window looks.
	for c := uint64(1); c <= 6; c++ {
		_, err = env.TwoFA.Verify(ctx, "liz", dev.HOTPCode(c))
		require.ErrorIs(t, err, twofa.ErrReplayed, "counter %d", c)
	}
	_, err = env.TwoFA.Verify(ctx, "liz", dev.HOTPCode(7))
	require.NoError(t, err)
}

func TestVerifyHOTPCounterTop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := twofatest.New(t)
	s, err := twofa.NewSecret()
	require.NoError(t, err)
	k := twofa.Key{Type: twofa.TypeHOTP, Issuer: "T", Account: "max", Secret: s, Counter: math.MaxUint64 - 2}
	_, _, err = env.Devices.Import(ctx, "max", "token", k)
	require.NoError(t, err)
	h, err := k.HOTP()
	require.NoError(t, err)
	_, err = env.TwoFA.Verify(ctx, "max", h.Code(math.MaxUint64-2))
	require.NoError(t, err)
	_, err = env.TwoFA.Verify(ctx, "max", h.Code(math.MaxUint64-1))
	require.NoError(t, err)
	// 2^64-1 cannot be followed by a next counter: it is never accepted.
	_, err = env.TwoFA.Verify(ctx, "max", h.Code(math.MaxUint64))
	require.Error(t, err)
	_, err = env.TwoFA.Verify(ctx, "max", h.Code(math.MaxUint64-1))
	require.ErrorIs(t, err, twofa.ErrReplayed)
}

func TestVerifyErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := twofatest.New(t)
	dev := env.EnrollTOTP("mia")

	for _, account := range []string{"", strings.Repeat("a", twofa.MaxAccountIDLen+1), "a\x00b", "\xff"} {
		_, err := env.TwoFA.Verify(ctx, account, dev.Code())
		require.ErrorIs(t, err, twofa.ErrInvalidAccount, "%q", account)
	}
	for _, code := range []string{"", "12345", "123456789", "12a456", "１２３４５６", strings.Repeat("1", 1<<20), "12345\x00", "abc"} {
		_, err := env.TwoFA.Verify(ctx, "mia", code)
		require.ErrorIs(t, err, twofa.ErrMalformedCode, "%q", code)
	}
	// Malformed input changed nothing.
	st, err := env.Store.Throttle(ctx, "mia", twofa.ScopeCode)
	require.NoError(t, err)
	assert.Zero(t, st.Failures)
	// 8 digits when every device shows 6: malformed for this account.
	_, err = env.TwoFA.Verify(ctx, "mia", "12345678")
	require.ErrorIs(t, err, twofa.ErrMalformedCode)

	_, err = env.TwoFA.Verify(ctx, "nobody", "123456")
	require.ErrorIs(t, err, twofa.ErrNotEnrolled)
	_, err = env.TwoFA.Verify(ctx, "nobody", "abcde-fghjk")
	require.ErrorIs(t, err, twofa.ErrNotEnrolled)

	// Before T0 (the fake clock in 1960): nothing matches.
	env.Clock.Set(time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC))
	_, err = env.TwoFA.Verify(ctx, "mia", "123456")
	require.ErrorIs(t, err, twofa.ErrInvalidCode)
}

// A device whose sealed secret was tampered with in the store: Verify
// fails closed with the Keyring's error, and other devices still work.
func TestVerifyTamperedDevice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := twofatest.New(t)
	bad := env.EnrollTOTP("ned")
	good := env.EnrollTOTP("ned")
	d, err := env.Store.Device(ctx, "ned", bad.ID)
	require.NoError(t, err)
	tampered := append([]byte(nil), d.Sealed...)
	tampered[len(tampered)-1] ^= 1
	ok, err := env.Store.UpdateSealed(ctx, "ned", bad.ID, d.Sealed, tampered)
	require.NoError(t, err)
	require.True(t, ok)

	_, err = env.TwoFA.Verify(ctx, "ned", bad.Code())
	require.ErrorIs(t, err, twofa.ErrInvalidSealed)
	assert.NotContains(t, err.Error(), bad.Key.Secret.Base32())
	res, err := env.TwoFA.Verify(ctx, "ned", good.Code())
	require.NoError(t, err)
	assert.Equal(t, good.ID, res.DeviceID)

	// Wrong codes were still evaluated against the good device: each
	// counts against the budget although the answer is an error, so a
	// tampered record cannot be used to guess without limit.
	spent := false
	for range 2 * cfgDefaults(t).Throttle.Codes.Budget {
		_, err := env.TwoFA.Verify(ctx, "ned", wrongCode(t, good, env.Clock.Now(), cfgDefaults(t).Codes.MaxDrift+1))
		var te *twofa.ThrottledError
		if errors.As(err, &te) {
			if spent = te.BudgetSpent; spent {
				break
			}
			env.Clock.Advance(te.RetryAfter)
			continue
		}
		require.ErrorIs(t, err, twofa.ErrInvalidSealed)
	}
	assert.True(t, spent, "the budget ran out")
}

// A store failure before the code is consumed fails the verification and
// consumes nothing. (ReserveAttempt counts only codes that were not
// accepted: it fails a wrong one.)
func TestVerifyStoreErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, method := range []string{"Devices", "ReserveAttempt", "AcceptCode", "ConsumeRecoveryCode"} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			env := twofatest.New(t)
			dev := env.EnrollTOTP("olga")
			codes, err := env.Recovery.Generate(ctx, "olga")
			require.NoError(t, err)
			fs := newFaultStore(env.Store).fail(method, errBoom)
			cfg := env.Config
			cfg.Store = fs
			v, err := twofa.New(cfg)
			require.NoError(t, err)
			input := dev.Code()
			switch method {
			case "ConsumeRecoveryCode":
				input = codes[0]
			case "ReserveAttempt":
				_, err = v.Verify(ctx, "olga", wrongCode(t, dev, env.Clock.Now(), 1))
				require.ErrorIs(t, err, errBoom)
			}
			_, err = v.Verify(ctx, "olga", input)
			if method == "ReserveAttempt" {
				require.NoError(t, err, "an accepted code takes no reservation")
				return
			}
			require.ErrorIs(t, err, errBoom)
			assert.NotContains(t, err.Error(), input)
			_, err = env.TwoFA.Verify(ctx, "olga", input)
			require.NoError(t, err, "the code was not consumed")
		})
	}
}

// Once a code is consumed the verification has succeeded: a failure of the
// bookkeeping after it (clearing the throttle) does not turn it into an
// error, which would lose the code while the owner never got in.
func TestVerifySucceedsOnceConsumed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, method := range []string{"ReleaseAttempt", "ResetThrottle"} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			env := twofatest.New(t)
			dev := env.EnrollTOTP("olga")
			codes, err := env.Recovery.Generate(ctx, "olga")
			require.NoError(t, err)
			cfg := env.Config
			cfg.Store = newFaultStore(env.Store).fail(method, errBoom)
			v, err := twofa.New(cfg)
			require.NoError(t, err)
			res, err := v.Verify(ctx, "olga", dev.Code())
			require.NoError(t, err)
			assert.Equal(t, twofa.FactorDevice, res.Factor)
			res, err = v.Verify(ctx, "olga", codes[0])
			require.NoError(t, err)
			assert.Equal(t, twofa.FactorRecoveryCode, res.Factor)
			assert.Equal(t, twofa.RecoveryCodeCount-1, res.RecoveryCodesLeft)
		})
	}
}

// A request cancelled right after its code was consumed still reports the
// success (and the count of recovery codes left), and the throttle is
// still cleared.
func TestVerifyCancelledAfterConsume(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	dev := env.EnrollTOTP("pia")
	codes, err := env.Recovery.Generate(t.Context(), "pia")
	require.NoError(t, err)
	_, err = env.TwoFA.Verify(t.Context(), "pia", wrongCode(t, dev, env.Clock.Now(), 1))
	require.ErrorIs(t, err, twofa.ErrInvalidCode)

	for _, input := range []string{dev.Code(), codes[0]} {
		ctx, cancel := context.WithCancel(context.Background())
		cfg := env.Config
		// The request's context is cancelled as soon as a factor has been
		// consumed, as a client that hangs up at that moment does.
		cancelAfter := func(c faultCall) error { cancel(); return c.Err }
		cfg.Store = newFaultStore(env.Store).After("AcceptCode", cancelAfter).After("ConsumeRecoveryCode", cancelAfter)
		v, err := twofa.New(cfg)
		require.NoError(t, err)
		res, err := v.Verify(ctx, "pia", input)
		require.NoError(t, err)
		require.Error(t, ctx.Err())
		if input == codes[0] {
			assert.Equal(t, twofa.FactorRecoveryCode, res.Factor)
			assert.Equal(t, twofa.RecoveryCodeCount-1, res.RecoveryCodesLeft)
		} else {
			assert.Equal(t, twofa.FactorDevice, res.Factor)
		}
		st, err := env.Store.Throttle(t.Context(), "pia", twofa.ScopeCode)
		require.NoError(t, err)
		assert.Zero(t, st.Failures, "the throttle was cleared")
	}
}

func TestVerifyCancelledContext(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	dev := env.EnrollTOTP("pia")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code := dev.Code()
	_, err := env.TwoFA.Verify(ctx, "pia", code)
	require.ErrorIs(t, err, context.Canceled)
	// Nothing was consumed: the code still works.
	_, err = env.TwoFA.Verify(context.Background(), "pia", code)
	require.NoError(t, err)
}

// No secret, code or recovery code appears in any error, event or printed
// value TwoFA.Verify produces.
func TestVerifyLeaksNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := twofatest.New(t)
	dev := env.EnrollTOTP("quinn")
	codes, err := env.Recovery.Generate(ctx, "quinn")
	require.NoError(t, err)
	secrets := []string{dev.Key.Secret.Base32(), strings.ToLower(dev.Key.Secret.Base32())}

	var outputs []string
	record := func(res twofa.Result, err error) {
		outputs = append(outputs, fmt.Sprintf("%v %+v %#v", res, res, res))
		if err != nil {
			outputs = append(outputs, err.Error(), fmt.Sprintf("%v %+v %#v", err, err, err))
		}
	}
	good := dev.Code()
	record(env.TwoFA.Verify(ctx, "quinn", good))
	record(env.TwoFA.Verify(ctx, "quinn", good))
	wrong := wrongCode(t, dev, env.Clock.Now(), 1)
	for i := 0; i < 10; i++ {
		record(env.TwoFA.Verify(ctx, "quinn", wrong))
	}
	record(env.TwoFA.Verify(ctx, "quinn", codes[1]))
	record(env.TwoFA.Verify(ctx, "quinn", codes[1]))
	for _, e := range env.Events.Events() {
		outputs = append(outputs, fmt.Sprintf("%v %+v %#v", e, e, e))
	}
	outputs = append(outputs, fmt.Sprintf("%v %+v %#v", env.TwoFA, env.TwoFA, env.TwoFA))
	all := strings.Join(outputs, "\n")
	for _, s := range append(secrets, good, wrong, codes[1], strings.ReplaceAll(codes[1], "-", "")) {
		assert.NotContains(t, all, s)
	}
}

// A device's sealed secret is bound to its parameters: a record whose
// period, digits or algorithm was changed in the store by someone without
// the key does not open, so a code cannot be made to live for a day.
func TestVerifySealedBindsParameters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := twofatest.New(t)
	dev := env.EnrollTOTP("rita")
	d, err := env.Store.Device(ctx, "rita", dev.ID)
	require.NoError(t, err)

	for name, mod := range map[string]func(*twofa.Device){
		"unchanged": func(*twofa.Device) {},
		"period":    func(d *twofa.Device) { d.Period = 24 * time.Hour },
		"digits":    func(d *twofa.Device) { d.Digits = 8 },
		"algorithm": func(d *twofa.Device) { d.Algorithm = twofa.SHA256 },
		"type":      func(d *twofa.Device) { d.Type = twofa.TypeHOTP; d.Period = 0 },
	} {
		t.Run(name, func(t *testing.T) {
			copied := d
			mod(&copied)
			st := memstore.New()
			require.NoError(t, st.InsertDevice(ctx, copied, 10, copied.CreatedAt))
			cfg := env.Config
			cfg.Store = st
			v, err := twofa.New(cfg)
			require.NoError(t, err)
			code := dev.Code()
			if copied.Digits == 8 {
				code = "12345678"
			}
			_, err = v.Verify(ctx, "rita", code)
			if name == "unchanged" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, twofa.ErrInvalidSealed)
		})
	}
}

// An out-of-band code, once consumed, is a success even if recording the
// phone's last use fails afterwards.
func TestVerifyPhoneSucceedsOnceConsumed(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	env.EnableOutOfBand()
	id := env.TrustPhone("alice", phoneUS)
	env.Clock.Advance(time.Minute) // past the resend cool-down
	code := env.SignInCode("alice", id)
	cfg := env.Config
	// Recording the phone's last use fails.
	cfg.Store = newFaultStore(env.Store).fail("TouchPhone", errBoom)
	v, err := twofa.New(cfg)
	require.NoError(t, err)
	_, err = phone.New(v, phone.Config{Sender: env.Sender, OutOfBand: true})
	require.NoError(t, err)
	res, err := v.Verify(t.Context(), "alice", code)
	require.NoError(t, err)
	assert.Equal(t, phone.Kind, res.Factor)
	assert.Equal(t, id, res.FactorID)
}

// The replay guard's write is not cut short by the request: a request
// cancelled while it runs still gets the success it paid its code for.
func TestVerifyCancelledDuringConsume(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	dev := env.EnrollTOTP("pia")
	ctx, cancel := context.WithCancel(context.Background())
	cfg := env.Config
	// The store takes the write, then sees the request cancelled and
	// reports the context's error, as a driver interrupted at its commit
	// may.
	cfg.Store = newFaultStore(env.Store).After("AcceptCode", func(c faultCall) error {
		cancel()
		if c.Err == nil && c.Ctx.Err() != nil {
			return c.Ctx.Err()
		}
		return c.Err
	})
	v, err := twofa.New(cfg)
	require.NoError(t, err)
	res, err := v.Verify(ctx, "pia", dev.Code())
	require.NoError(t, err)
	assert.Equal(t, twofa.FactorDevice, res.Factor)
}

// openCounter counts the secrets a Keyring opens.
type openCounter struct {
	twofa.Keyring
	n atomic.Int64
}

func (k *openCounter) Open(dst []byte, account, binding string, blob []byte) ([]byte, error) {
	k.n.Add(1)
	return k.Keyring.Open(dst, account, binding, blob)
}

// TestVerifyThrottledUnevaluated: while the back-off runs, an attempt is
// refused before any secret is opened or code computed, the right code
// as a wrong one, so that a refusal costs the same either way.
func TestVerifyThrottledUnevaluated(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	kr := &openCounter{Keyring: env.Keyring}
	env.Reconfigure(func(c *twofa.Config) { c.Keyring = kr })
	ctx := t.Context()
	dev := env.EnrollTOTP("alice")
	env.Clock.Advance(time.Minute)
	for range 6 { // Free is 5: the 6th failure starts the back-off
		_, err := env.TwoFA.Verify(ctx, "alice", otherTOTP(dev.Code()))
		require.ErrorIs(t, err, twofa.ErrInvalidCode)
	}
	before := kr.n.Load()
	for _, code := range []string{dev.Code(), otherTOTP(dev.Code())} {
		_, err := env.TwoFA.Verify(ctx, "alice", code)
		require.ErrorIs(t, err, twofa.ErrThrottled)
	}
	assert.Equal(t, before, kr.n.Load(), "no secret opened while throttled")
	env.Clock.Advance(time.Minute)
	_, err := env.TwoFA.Verify(ctx, "alice", dev.Code())
	require.NoError(t, err, "after the back-off the right code is accepted")
}

// otherTOTP returns a 6-digit code other than code.
func otherTOTP(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

// A refused TOTP code makes the same store write whether or not it is the
// code of a drifted step (SetResync, with the resync state as it was when
// nothing is to be recorded), and, with the rest of the search computed
// whatever the counter, costs the same: the time of a refusal does not
// tell a guesser that a guess is the code of a step to come. The state a
// wrong code writes back is the state it read.
func TestVerifyRefusalWritesResync(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := twofatest.New(t)
	st := newFaultStore(env.Store)
	devWithConfig(t, env, func(c *twofa.Config) { c.Store = st })
	dev := env.EnrollTOTP("nina")
	device := func() twofa.Device {
		t.Helper()
		d, err := env.Store.Device(ctx, "nina", dev.ID)
		require.NoError(t, err)
		return d
	}
	refuse := func(what, code string, wantWrites int) {
		t.Helper()
		_, err := env.TwoFA.Verify(ctx, "nina", code)
		require.ErrorIs(t, err, twofa.ErrInvalidCode, what)
		assert.Equal(t, wantWrites, st.count("SetResync"), what)
	}

	env.Clock.Advance(30 * time.Second)
	before := device()
	refuse("a wrong code", wrongCode(t, dev, env.Clock.Now(), 4), 1)
	after := device()
	assert.Equal(t, before.ResyncStep, after.ResyncStep)
	assert.Equal(t, before.ResyncDrift, after.ResyncDrift)
	assert.Equal(t, before.MAC, after.MAC, "the state written back is the state read")

	refuse("a code three steps ahead", dev.CodeAt(env.Clock.Now().Add(90*time.Second)), 2)
	recorded := device()
	require.NotZero(t, recorded.ResyncStep, "the drifted step is recorded")
	assert.Equal(t, int64(3), recorded.ResyncDrift)

	refuse("a wrong code after the record", wrongCode(t, dev, env.Clock.Now(), 4), 3)
	kept := device()
	assert.Equal(t, recorded.ResyncStep, kept.ResyncStep, "a wrong code keeps the record")
	assert.Equal(t, recorded.ResyncDrift, kept.ResyncDrift)
	assert.Equal(t, recorded.MAC, kept.MAC)

	// Just after a sign-in, the counter lies inside the drift range: a
	// wrong code still writes, and the next code at the recorded offset
	// is still accepted.
	_, err := env.TwoFA.Verify(ctx, "nina", dev.CodeAt(env.Clock.Now()))
	require.NoError(t, err)
	refuse("a wrong code just after a sign-in", wrongCode(t, dev, env.Clock.Now(), 4), 4)
	_, err = env.TwoFA.Verify(ctx, "nina", dev.CodeAt(env.Clock.Now()))
	require.ErrorIs(t, err, twofa.ErrReplayed)
	assert.Equal(t, 4, st.count("SetResync"), "a replay records nothing")

	// HOTP has no drift: nothing to write.
	hotp := env.EnrollHOTP("otto")
	shown := map[string]bool{}
	for c := range uint64(64) { // far past the look-ahead and the replay range
		shown[hotp.HOTPCode(c)] = true
	}
	wrong := "000000"
	for i := 0; shown[wrong]; i++ {
		wrong = fmt.Sprintf("%06d", i)
	}
	_, err = env.TwoFA.Verify(ctx, "otto", wrong)
	require.ErrorIs(t, err, twofa.ErrInvalidCode)
	assert.Equal(t, 4, st.count("SetResync"), "an HOTP miss")

	// The write's failure is the verification's: the failure was counted
	// before it.
	st.fail("SetResync", errBoom)
	_, err = env.TwoFA.Verify(ctx, "nina", wrongCode(t, dev, env.Clock.Now(), 4))
	require.ErrorIs(t, err, errBoom)
	st.fail("SetResync", nil)

	// A tampered device is refused on a wrong code too: the write
	// authenticates the state before it writes it back.
	cur := device()
	forged := bytes.Clone(cur.MAC)
	ok, err := env.Store.SetResync(ctx, "nina", dev.ID, cur.ResyncStep, cur.ResyncDrift+1, cur.MAC, forged)
	require.NoError(t, err)
	require.True(t, ok)
	env.Clock.Advance(30 * time.Second)
	_, err = env.TwoFA.Verify(ctx, "nina", wrongCode(t, dev, env.Clock.Now(), 4))
	require.ErrorIs(t, err, twofa.ErrTampered)
}
