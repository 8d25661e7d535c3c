package twofa_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/internal/stats"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/twofatest"
)

// rcAlphabet is Crockford's base32 in lower case.
const rcAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

var rcFormat = regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$`)

// rcEnv returns an environment where alice has a confirmed device and a
// fresh set of recovery codes.
func rcEnv(t *testing.T) (*twofatest.Env, []string) {
	t.Helper()
	env := twofatest.New(t)
	env.EnrollTOTP("alice")
	return env, rcGenerate(t, env, "alice")
}

func rcGenerate(t testing.TB, env *twofatest.Env, account string) []string {
	t.Helper()
	codes, err := env.Recovery.Generate(t.Context(), account)
	require.NoError(t, err)
	return codes
}

func rcRemaining(t testing.TB, env *twofatest.Env, account string) int {
	t.Helper()
	n, err := env.Recovery.Remaining(t.Context(), account)
	require.NoError(t, err)
	return n
}

func TestRecoveryGenerate(t *testing.T) {
	t.Parallel()
	env, codes := rcEnv(t)
	require.Len(t, codes, twofa.RecoveryCodeCount)
	assert.Equal(t, 10, twofa.RecoveryCodeCount)
	seen := map[string]bool{}
	for _, c := range codes {
		assert.Regexp(t, rcFormat, c)
		assert.False(t, seen[c], "distinct")
		seen[c] = true
	}
	assert.Equal(t, twofa.RecoveryCodeCount, rcRemaining(t, env, "alice"))
	assert.Equal(t, twofa.Event{Type: twofa.EventRecoveryCodesGenerated, Account: "alice", Time: twofatest.Start, Remaining: 10},
		devLastEvent(t, env))
	assert.Zero(t, rcRemaining(t, env, "nobody"))
}

func TestRecoveryVerifyEachOnce(t *testing.T) {
	t.Parallel()
	env, codes := rcEnv(t)
	ctx := t.Context()
	for i, c := range codes {
		res, err := env.TwoFA.Verify(ctx, "alice", c)
		require.NoError(t, err, c)
		assert.Equal(t, twofa.Result{Factor: twofa.FactorRecoveryCode, RecoveryCodesLeft: len(codes) - i - 1}, res)
		assert.Equal(t, twofa.Event{Type: twofa.EventRecoveryCodeUsed, Account: "alice", Time: twofatest.Start, Remaining: len(codes) - i - 1},
			devLastEvent(t, env))
		assert.Equal(t, len(codes)-i-1, rcRemaining(t, env, "alice"))

		_, err = env.TwoFA.Verify(ctx, "alice", c)
		require.ErrorIs(t, err, twofa.ErrInvalidCode, "second use of %s", c)
	}
	assert.Equal(t, twofa.FactorKind("recovery_code"), twofa.FactorRecoveryCode)
}

// rcCodeWith returns an unused code of a fresh set for alice that holds the
// symbol c, generating sets until one does.
func rcCodeWith(t *testing.T, env *twofatest.Env, c byte) string {
	t.Helper()
	for range 100 {
		for _, code := range rcGenerate(t, env, "alice") {
			if strings.IndexByte(code, c) >= 0 {
				return code
			}
		}
	}
	t.Fatalf("no recovery code with %q in 100 sets", c)
	return ""
}

func TestRecoveryTolerantInput(t *testing.T) {
	t.Parallel()
	env, _ := rcEnv(t)
	ctx := t.Context()
	forms := map[string]func(t *testing.T) string{
		"upper case": func(t *testing.T) string { return strings.ToUpper(rcGenerate(t, env, "alice")[0]) },
		"mixed case": func(t *testing.T) string {
			b := []byte(rcGenerate(t, env, "alice")[0])
			for i := 0; i < len(b); i += 2 {
				b[i] = byte(strings.ToUpper(string(b[i]))[0])
			}
			return string(b)
		},
		"no hyphen": func(t *testing.T) string { return strings.ReplaceAll(rcGenerate(t, env, "alice")[0], "-", "") },
		"space":     func(t *testing.T) string { return strings.ReplaceAll(rcGenerate(t, env, "alice")[0], "-", " ") },
		"padded":    func(t *testing.T) string { return "  " + rcGenerate(t, env, "alice")[0] + " " },
		"grouped": func(t *testing.T) string {
			c := rcGenerate(t, env, "alice")[0]
			return c[:2] + " " + c[2:4] + "-" + c[4:8] + "--" + c[8:]
		},
		"O for 0": func(t *testing.T) string { return strings.ReplaceAll(rcCodeWith(t, env, '0'), "0", "O") },
		"o for 0": func(t *testing.T) string { return strings.ReplaceAll(rcCodeWith(t, env, '0'), "0", "o") },
		"I for 1": func(t *testing.T) string { return strings.ReplaceAll(rcCodeWith(t, env, '1'), "1", "I") },
		"i for 1": func(t *testing.T) string { return strings.ReplaceAll(rcCodeWith(t, env, '1'), "1", "i") },
		"L for 1": func(t *testing.T) string { return strings.ReplaceAll(rcCodeWith(t, env, '1'), "1", "L") },
		"l for 1": func(t *testing.T) string { return strings.ReplaceAll(rcCodeWith(t, env, '1'), "1", "l") },
	}
	for name, form := range forms {
		typed := form(t)
		res, err := env.TwoFA.Verify(ctx, "alice", typed)
		require.NoError(t, err, "%s: %q", name, typed)
		assert.Equal(t, twofa.FactorRecoveryCode, res.Factor)
		_, err = env.TwoFA.Verify(ctx, "alice", typed)
		require.ErrorIs(t, err, twofa.ErrInvalidCode, "%s: used", name)
	}
}

func TestRecoveryMalformed(t *testing.T) {
	t.Parallel()
	env, codes := rcEnv(t)
	ctx := t.Context()
	c := codes[0]
	flat := strings.ReplaceAll(c, "-", "")
	for _, bad := range []string{
		c[:len(c)-1],            // 9 symbols
		c + "a",                 // 11 symbols
		flat + flat,             // 20 symbols
		"uuuuu-uuuuu",           // u is not a symbol
		c[:5] + "_" + c[6:],     // another separator
		c[:5] + "." + c[6:],     // another separator
		c[:4] + "é" + c[5:],     // non-ASCII
		c[:4] + "\x00" + c[5:],  // control
		c[:4] + "０" + c[5:],     // full-width digit
		strings.Repeat("-", 40), // separators only
		strings.Repeat(" ", 5) + c + strings.Repeat(" ", 30),
		"",
	} {
		_, err := env.TwoFA.Verify(ctx, "alice", bad)
		require.ErrorIs(t, err, twofa.ErrMalformedCode, "%q", bad)
	}
	assert.Equal(t, twofa.RecoveryCodeCount, rcRemaining(t, env, "alice"), "nothing consumed")
	st, err := env.Store.Throttle(ctx, "alice", twofa.ScopeRecovery)
	require.NoError(t, err)
	assert.Zero(t, st.Failures, "malformed input is not counted")
}

func TestRecoveryRegenerateVoidsOldSet(t *testing.T) {
	t.Parallel()
	env, old := rcEnv(t)
	ctx := t.Context()
	_, err := env.TwoFA.Verify(ctx, "alice", old[0])
	require.NoError(t, err)
	fresh := rcGenerate(t, env, "alice")
	assert.Equal(t, twofa.RecoveryCodeCount, rcRemaining(t, env, "alice"))
	for _, c := range old {
		assert.NotContains(t, fresh, c)
		_, err := env.TwoFA.Verify(ctx, "alice", c)
		require.ErrorIs(t, err, twofa.ErrInvalidCode)
	}
	res, err := env.TwoFA.Verify(ctx, "alice", fresh[9])
	require.NoError(t, err)
	assert.Equal(t, twofa.RecoveryCodeCount-1, res.RecoveryCodesLeft)
}

func TestRecoveryOtherAccount(t *testing.T) {
	t.Parallel()
	env, alice := rcEnv(t)
	ctx := t.Context()
	env.EnrollTOTP("bob")
	bob := rcGenerate(t, env, "bob")
	for i := range alice {
		_, err := env.TwoFA.Verify(ctx, "bob", alice[i])
		require.ErrorIs(t, err, twofa.ErrInvalidCode)
		_, err = env.TwoFA.Verify(ctx, "alice", bob[i])
		require.ErrorIs(t, err, twofa.ErrInvalidCode)
		if i%4 == 3 {
			require.NoError(t, env.TwoFA.ResetThrottle(ctx, "alice"))
			require.NoError(t, env.TwoFA.ResetThrottle(ctx, "bob"))
		}
	}
	assert.Equal(t, twofa.RecoveryCodeCount, rcRemaining(t, env, "alice"))
	assert.Equal(t, twofa.RecoveryCodeCount, rcRemaining(t, env, "bob"))
	_, err := env.TwoFA.Verify(ctx, "alice", alice[0])
	require.NoError(t, err)
	_, err = env.TwoFA.Verify(ctx, "bob", bob[0])
	require.NoError(t, err)

	// An account without a second factor has nothing to recover.
	_, err = env.TwoFA.Verify(ctx, "carol", alice[1])
	require.ErrorIs(t, err, twofa.ErrNotEnrolled)
}

// Recovery codes stand in for a second factor: none are issued while
// two-factor authentication is off, a pending enrolment included.
func TestRecoveryNeedsTwoFactor(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	_, err := env.Recovery.Generate(ctx, "alice")
	require.ErrorIs(t, err, twofa.ErrNotEnrolled)
	_, err = env.Devices.Enroll(ctx, "alice", "phone", twofa.EnrollOptions{})
	require.NoError(t, err)
	_, err = env.Recovery.Generate(ctx, "alice")
	require.ErrorIs(t, err, twofa.ErrNotEnrolled, "a pending device is no second factor")
	assert.Zero(t, rcRemaining(t, env, "alice"))
	assert.Zero(t, env.Events.Count(twofa.EventRecoveryCodesGenerated))

	env.EnrollTOTP("alice")
	codes := rcGenerate(t, env, "alice")
	res, err := env.TwoFA.Verify(ctx, "alice", codes[0])
	require.NoError(t, err)
	assert.Equal(t, twofa.RecoveryCodeCount-1, res.RecoveryCodesLeft)
}

// A set generated while the last device is revoked does not outlive it.
func TestRecoveryGenerateRacesRevoke(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	env.EnrollTOTP("alice")
	cfg := env.Config
	// The account's devices are revoked while the codes are stored, as a
	// concurrent revocation of the last device would: the revocation
	// waits for the lifecycle lock, then voids the set.
	var revoked atomic.Bool
	done := make(chan error, 1)
	cfg.Store = newFaultStore(env.Store).After("ReplaceRecoveryCodes", func(c faultCall) error {
		if c.Err != nil {
			return c.Err
		}
		devs, err := env.Devices.List(c.Ctx, c.Account)
		if err != nil {
			return err
		}
		go func() {
			var err error
			for _, d := range devs {
				if _, rerr := env.Devices.Revoke(context.Background(), c.Account, d.ID); rerr != nil {
					err = rerr
				}
			}
			revoked.Store(true)
			done <- err
		}()
		time.Sleep(20 * time.Millisecond)
		assert.False(t, revoked.Load(), "the revocation waits for the lifecycle lock")
		return nil
	})
	r, err := newRecoveryCodes(cfg)
	require.NoError(t, err)
	codes, err := r.Generate(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, codes, twofa.RecoveryCodeCount)
	require.NoError(t, <-done)
	assert.Zero(t, rcRemaining(t, env, "alice"), "the revocation voided the set")
	_, err = env.TwoFA.Verify(ctx, "alice", codes[0])
	assert.ErrorIs(t, err, twofa.ErrNotEnrolled)
	_, err = r.Generate(ctx, "alice")
	assert.ErrorIs(t, err, twofa.ErrNotEnrolled, "two-factor is off now")
}

func TestRecoveryConcurrentUse(t *testing.T) {
	t.Parallel()
	env, codes := rcEnv(t)
	const n = 200
	errs := make([]error, n)
	results := make([]twofa.Result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			results[i], errs[i] = env.TwoFA.Verify(t.Context(), "alice", codes[3])
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, err := range errs {
		if err == nil {
			ok++
			assert.Equal(t, twofa.RecoveryCodeCount-1, results[i].RecoveryCodesLeft)
			continue
		}
		if !assert.True(t, errorsIsAny(err, twofa.ErrInvalidCode, twofa.ErrThrottled), "%v", err) {
			break
		}
	}
	assert.Equal(t, 1, ok, "exactly one success")
	assert.Equal(t, twofa.RecoveryCodeCount-1, rcRemaining(t, env, "alice"))
	assert.Equal(t, 1, env.Events.Count(twofa.EventRecoveryCodeUsed))
}

// errorsIsAny reports whether err matches one of targets.
func errorsIsAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

func TestRecoveryWhileCodeThrottled(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	dev := env.EnrollTOTP("alice")
	codes := rcGenerate(t, env, "alice")
	wrong := devWrongCode(t, dev.Key, env.Clock.Now())

	// An attacker keeps the code throttle engaged...
	for range cfgDefaults(t).Throttle.Codes.Free + 1 {
		_, err := env.TwoFA.Verify(ctx, "alice", wrong)
		require.ErrorIs(t, err, twofa.ErrInvalidCode)
	}
	_, err := env.TwoFA.Verify(ctx, "alice", dev.Code())
	require.ErrorIs(t, err, twofa.ErrThrottled)

	// ...and the owner gets in with a recovery code.
	res, err := env.TwoFA.Verify(ctx, "alice", codes[0])
	require.NoError(t, err)
	assert.Equal(t, twofa.FactorRecoveryCode, res.Factor)
}

// Recovery-code guesses are bounded by a budget of evaluated misses, not by
// the store's speed: Config.Throttle.Recovery.Budget misses, then one every Refill;
// a right code gets in whenever a guess is evaluated and empties both
// budgets.
func TestRecoveryThrottle(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	dev := env.EnrollTOTP("alice")
	codes := rcGenerate(t, env, "alice")
	// Well-formed codes from another set: wrong for alice.
	env.EnrollTOTP("mallory")
	guesses := rcGenerate(t, env, "mallory")

	p := cfgDefaults(t).Throttle.Recovery
	for i := range p.Budget {
		_, err := env.TwoFA.Verify(ctx, "alice", guesses[i%len(guesses)])
		require.ErrorIs(t, err, twofa.ErrInvalidCode, "guess %d", i+1)
	}
	assert.Equal(t, 2, env.Events.Count(twofa.EventGuessing), "half and all of the budget spent")
	assert.Equal(t, twofa.Event{Type: twofa.EventGuessing, Account: "alice", Time: twofatest.Start, Scope: twofa.ScopeRecovery, Failures: p.Budget, Remaining: 0},
		devLastEvent(t, env))

	// Spent: nothing is evaluated, not even the right code...
	for _, input := range []string{guesses[0], codes[0]} {
		_, err := env.TwoFA.Verify(ctx, "alice", input)
		var te *twofa.ThrottledError
		require.ErrorAs(t, err, &te)
		assert.True(t, te.BudgetSpent)
		assert.Equal(t, p.Refill, te.RetryAfter)
		assert.Equal(t, twofatest.Start.Add(p.Refill), te.Until)
	}
	// ...and one guess is evaluated per Refill.
	env.Clock.Advance(p.Refill)
	_, err := env.TwoFA.Verify(ctx, "alice", guesses[0])
	require.ErrorIs(t, err, twofa.ErrInvalidCode)
	_, err = env.TwoFA.Verify(ctx, "alice", codes[0])
	require.ErrorIs(t, err, twofa.ErrThrottled)

	// The one-time-code throttle is separate.
	_, err = env.TwoFA.Verify(ctx, "alice", dev.Code())
	require.NoError(t, err)

	// Once the stranger stops, the owner waits at most one Refill.
	env.Clock.Advance(p.Refill)
	res, err := env.TwoFA.Verify(ctx, "alice", codes[0])
	require.NoError(t, err)
	assert.Equal(t, twofa.FactorRecoveryCode, res.Factor)
	st, err := env.Store.Throttle(ctx, "alice", twofa.ScopeRecovery)
	require.NoError(t, err)
	assert.Equal(t, twofa.ThrottleState{}, st, "a right code empties the budget")

	// A support agent can empty it too.
	for i := range p.Budget + 1 {
		env.TwoFA.Verify(ctx, "alice", guesses[i%len(guesses)])
	}
	_, err = env.TwoFA.Verify(ctx, "alice", codes[1])
	require.ErrorIs(t, err, twofa.ErrThrottled)
	require.NoError(t, env.TwoFA.ResetThrottle(ctx, "alice"))
	_, err = env.TwoFA.Verify(ctx, "alice", codes[1])
	require.NoError(t, err)
}

// Of many concurrent recovery-code guesses, at most the budget is
// evaluated, however fast they arrive.
func TestRecoveryThrottleConcurrent(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	env.EnrollTOTP("alice")
	rcGenerate(t, env, "alice")
	env.EnrollTOTP("mallory")
	guess := rcGenerate(t, env, "mallory")[0]
	n := cfgDefaults(t).Throttle.Recovery.Budget + 200
	var evaluated, refused atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := env.TwoFA.Verify(context.Background(), "alice", guess)
			switch {
			case errors.Is(err, twofa.ErrInvalidCode):
				evaluated.Add(1)
			case errors.Is(err, twofa.ErrThrottled):
				refused.Add(1)
			default:
				assert.Failf(t, "unexpected error", "Verify: %v", err)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(cfgDefaults(t).Throttle.Recovery.Budget), evaluated.Load())
	assert.Equal(t, int32(n-cfgDefaults(t).Throttle.Recovery.Budget), refused.Load())
}

func TestRecoveryStoredAsDigests(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	spy := newFaultStore(env.Store) // records every byte string handed to the store
	devWithConfig(t, env, func(c *twofa.Config) { c.Store = spy })
	ctx := t.Context()
	env.EnrollTOTP("alice")
	codes := rcGenerate(t, env, "alice")
	_, err := env.TwoFA.Verify(ctx, "alice", strings.ToUpper(codes[0]))
	require.NoError(t, err)
	_, err = env.TwoFA.Verify(ctx, "alice", codes[0])
	require.ErrorIs(t, err, twofa.ErrInvalidCode)

	seen := spy.Seen()
	var digests [][]byte
	for _, c := range codes {
		canonical := strings.ReplaceAll(c, "-", "")
		for _, form := range []string{c, canonical, strings.ToUpper(c), strings.ToUpper(canonical)} {
			for _, b := range seen {
				require.False(t, bytes.Contains(b, []byte(form)), "the store saw recovery code %q", form)
			}
		}
		d, err := env.Keyring.Digest(twofa.PurposeRecoveryCode, "alice", []byte(canonical))
		require.NoError(t, err)
		require.Len(t, d, keyring.DigestSize)
		digests = append(digests, d)
	}
	// What the store keeps is exactly the keyed digests, bound to the
	// account: the same code for another account digests differently.
	for _, d := range digests {
		found := false
		for _, b := range seen {
			found = found || bytes.Equal(b, d)
		}
		assert.True(t, found, "the store got each keyed digest")
	}
	other, err := env.Keyring.Digest(twofa.PurposeRecoveryCode, "bob", []byte(strings.ReplaceAll(codes[0], "-", "")))
	require.NoError(t, err)
	assert.NotEqual(t, digests[0], other)
	assert.Equal(t, twofa.RecoveryCodeCount-1, rcRemaining(t, env, "alice"))
}

func TestRecoveryDistribution(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("generates 300,000 symbols")
	}
	env := twofatest.New(t)
	env.EnrollTOTP("alice")
	const sets = 3000
	const symbols = 10
	var overall [32]int
	var byPosition [symbols][32]int
	for range sets {
		for _, c := range rcGenerate(t, env, "alice") {
			require.Regexp(t, rcFormat, c, "code %q is not xxxxx-xxxxx", c)
			flat := c[:5] + c[6:]
			for i := range symbols {
				k := strings.IndexByte(rcAlphabet, flat[i])
				overall[k]++
				byPosition[i][k]++
			}
		}
	}
	// p > 1e-6: a correct generator fails once in a million runs per check.
	const threshold = 1e-6
	x := stats.ChiSquare(overall[:])
	p := stats.ChiSquareP(x, 31)
	assert.Greater(t, p, threshold, "overall: chi-square %.1f, counts %v", x, overall)
	for i := range byPosition {
		x := stats.ChiSquare(byPosition[i][:])
		p := stats.ChiSquareP(x, 31)
		assert.Greater(t, p, threshold, "position %d: chi-square %.1f, counts %v", i, x, byPosition[i])
	}
	for k, n := range overall {
		assert.NotZero(t, n, "symbol %q never appears", rcAlphabet[k])
	}
}
