package twofa_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/twofatest"
)

// guessOdds is the chance that one evaluated TOTP guess is right with the
// default skew: 2·skew+1 codes of 10^6.
const guessOdds = (2*1 + 1) / 1e6 // the default Skew is 1

// successOdds is the chance that at least one of n evaluated guesses, each
// right with probability p, is right.
func successOdds(n int, p float64) float64 { return -math.Expm1(float64(n) * math.Log1p(-p)) }

// maxInWindow returns the most times that fall in any span of length w.
func maxInWindow(times []time.Time, w time.Duration) int {
	best, lo := 0, 0
	for hi := range times {
		for times[hi].Sub(times[lo]) >= w {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// guessingYear runs, for a year of fake time, an attacker who knows the
// password and submits a wrong one-time code whenever TwoFA.Verify would
// evaluate one, against one TOTP device with the default settings. With
// owner set, the owner signs in every hour with a right code and mistypes
// one first about three times a week (every 56th sign-in); a refused owner
// gets in that hour another way (a trusted browser; a recovery code would
// empty the budget, which is not what is measured here). It returns the times of the attacker's
// evaluated guesses and how often the owner was refused.
func guessingYear(t *testing.T, owner bool) (evaluated []time.Time, ownerRefused int, env *twofatest.Env) {
	t.Helper()
	ctx := t.Context()
	env = twofatest.New(t)
	dev := env.EnrollTOTP("erin")
	start := env.Clock.Now()
	end := start.Add(365 * 24 * time.Hour)
	nextOwner := start.Add(time.Hour)
	if !owner {
		nextOwner = end
	}
	signIns := 0
	for env.Clock.Now().Before(end) {
		now := env.Clock.Now()
		if !now.Before(nextOwner) {
			signIns++
			if signIns%56 == 0 {
				env.TwoFA.Verify(ctx, "erin", wrongCode(t, dev, now, cfgDefaults(t).Codes.MaxDrift+1))
			}
			if _, err := env.TwoFA.Verify(ctx, "erin", dev.Code()); err != nil {
				require.ErrorIs(t, err, twofa.ErrThrottled)
				ownerRefused++
			}
			nextOwner = nextOwner.Add(time.Hour)
			continue
		}
		// The best the attacker can do: never start a back-off that would
		// still run at the owner's next sign-in, which would refuse the
		// owner's code and so keep the back-off from being cleared.
		if owner {
			st, err := env.Store.Throttle(ctx, "erin", twofa.ScopeCode)
			require.NoError(t, err)
			if !now.Add(cfgDefaults(t).Throttle.Codes.Delay(st.Failures + 1)).Before(nextOwner) {
				env.Clock.Set(nextOwner)
				continue
			}
		}
		_, err := env.TwoFA.Verify(ctx, "erin", wrongCode(t, dev, now, cfgDefaults(t).Codes.MaxDrift+1))
		var te *twofa.ThrottledError
		switch {
		case errors.Is(err, twofa.ErrInvalidCode):
			evaluated = append(evaluated, now)
		case errors.As(err, &te):
			require.Positive(t, te.RetryAfter)
			wake := now.Add(te.RetryAfter)
			if wake.After(nextOwner) {
				wake = nextOwner
			}
			env.Clock.Set(wake)
		default:
			require.Failf(t, "unexpected error", "attacker's guess: %v", err)
		}
	}
	return evaluated, ownerRefused, env
}

// TestGuessingBudgetSimulation measures the bound on guessing one-time
// codes that Config.Throttle.Codes documents and the README states: an attacker
// who knows the password succeeds with P <= 1e-4 in any day and <= 1e-3 in
// a year, whether or not the owner signs in every hour.
func TestGuessingBudgetSimulation(t *testing.T) {
	t.Parallel()
	for _, owner := range []bool{false, true} {
		name := map[bool]string{false: "owner idle", true: "owner signs in hourly"}[owner]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			evaluated, refused, env := guessingYear(t, owner)
			day := maxInWindow(evaluated, 24*time.Hour)
			pDay, pYear := successOdds(day, guessOdds), successOdds(len(evaluated), guessOdds)
			t.Logf("%s: at most %d guesses evaluated in any 24 h (P = %.2g), %d in a year (P = %.2g); owner refused %d times; %d guessing events",
				name, day, pDay, len(evaluated), pYear, refused, env.Events.Count(twofa.EventGuessing))
			assert.LessOrEqual(t, pDay, 1e-4)
			assert.LessOrEqual(t, pYear, 1e-3)
			// The policy's own bounds: Budget + 24h/Refill in a day,
			// Budget + 365d/Refill in a year.
			p := cfgDefaults(t).Throttle.Codes
			assert.LessOrEqual(t, day, p.Budget+int(24*time.Hour/p.Refill), "the README states this figure")
			assert.LessOrEqual(t, len(evaluated), p.Budget+int(365*24*time.Hour/p.Refill), "the README states this figure")
			// The backend was told, before the budget was spent.
			evs := env.Events.Events()
			for i, e := range evs {
				if e.Type == twofa.EventGuessing {
					assert.Equal(t, cfgDefaults(t).Throttle.Codes.Budget/2, e.Remaining, "the first guessing event comes at half the budget")
					assert.Equal(t, twofa.ScopeCode, e.Scope)
					break
				}
				require.Less(t, i, len(evs)-1, "no EventGuessing")
			}
		})
	}
}

// An owner who mistypes a few times a week, and has a bad day now and
// then, is never refused over a year of hourly sign-ins.
func TestGuessingBudgetSparesTheOwner(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	env := twofatest.New(t)
	dev := env.EnrollTOTP("erin")
	mistakes := 0
	for hour := 1; hour <= 365*24; hour++ {
		env.Clock.Advance(time.Hour)
		typos := 0
		switch {
		case hour%56 == 0:
			typos = 1 // three times a week
		case hour%(30*24) == 0:
			typos = 5 // a bad day once a month
		}
		for range typos {
			_, err := env.TwoFA.Verify(ctx, "erin", wrongCode(t, dev, env.Clock.Now(), cfgDefaults(t).Codes.MaxDrift+1))
			require.ErrorIs(t, err, twofa.ErrInvalidCode, "hour %d", hour)
			mistakes++
		}
		_, err := env.TwoFA.Verify(ctx, "erin", dev.Code())
		require.NoError(t, err, "hour %d", hour)
	}
	assert.Zero(t, env.Events.Count(twofa.EventGuessing))
	t.Logf("a year of hourly sign-ins with %d mistakes: never refused", mistakes)
}

// TestRecoveryGuessingSimulation runs a recovery-code guesser of unbounded
// speed for a day of fake time: every second it submits guesses until one
// is refused. The evaluated guesses are bounded by the recovery-code policy alone,
// so P <= 1e-6 a day on any store, as the README states.
func TestRecoveryGuessingSimulation(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	env := twofatest.New(t)
	env.EnrollTOTP("erin")
	rcGenerate(t, env, "erin")
	env.EnrollTOTP("mallory")
	guess := rcGenerate(t, env, "mallory")[0]

	end := env.Clock.Now().Add(24 * time.Hour)
	evaluated, refused := 0, 0
	for env.Clock.Now().Before(end) {
		for {
			_, err := env.TwoFA.Verify(ctx, "erin", guess)
			if errors.Is(err, twofa.ErrThrottled) {
				refused++
				break
			}
			require.ErrorIs(t, err, twofa.ErrInvalidCode)
			evaluated++
		}
		env.Clock.Advance(time.Second)
	}
	p := cfgDefaults(t).Throttle.Recovery
	want := p.Budget + int(24*time.Hour/p.Refill)
	odds := successOdds(evaluated, twofa.RecoveryCodeCount/math.Exp2(50))
	t.Logf("24 h: %d recovery-code guesses evaluated, %d refused; P = %.2g", evaluated, refused, odds)
	assert.LessOrEqual(t, evaluated, want)
	assert.LessOrEqual(t, odds, 1e-6)
}

// A client that submits every code twice (a double click, a retry after a
// timeout) costs the owner nothing: a replay gives its place in the budget
// back.
func TestGuessingBudgetIgnoresReplays(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	env := twofatest.New(t)
	dev := env.EnrollTOTP("erin")
	for day := 1; day <= 365; day++ {
		env.Clock.Advance(24 * time.Hour)
		code := dev.Code()
		_, err := env.TwoFA.Verify(ctx, "erin", code)
		require.NoError(t, err, "day %d", day)
		_, err = env.TwoFA.Verify(ctx, "erin", code)
		require.ErrorIs(t, err, twofa.ErrReplayed, "day %d", day)
	}
	st, err := env.Store.Throttle(ctx, "erin", twofa.ScopeCode)
	require.NoError(t, err)
	assert.False(t, st.Forgiven.After(env.Clock.Now()), "nothing is owed: %+v", st)
}

// A store or keyring error after the reservation gives the place back too.
func TestGuessingBudgetIgnoresErrors(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	env := twofatest.New(t)
	dev := env.EnrollTOTP("erin")
	cfg := env.Config
	cfg.Store = newFaultStore(env.Store).fail("AcceptCode", errBoom)
	v, err := twofa.New(cfg)
	require.NoError(t, err)
	for range 2 * cfgDefaults(t).Throttle.Codes.Budget {
		_, err := v.Verify(ctx, "erin", dev.Code())
		var te *twofa.ThrottledError
		if errors.As(err, &te) {
			require.False(t, te.BudgetSpent)
			env.Clock.Advance(te.RetryAfter) // the back-off counts them
			continue
		}
		require.ErrorIs(t, err, errBoom)
	}
	st, err := env.Store.Throttle(ctx, "erin", twofa.ScopeCode)
	require.NoError(t, err)
	assert.False(t, st.Forgiven.After(env.Clock.Now()), "nothing is owed: %+v", st)
}

// A change of password shuts the guesser out, and empties the budgets they
// spent, so the owner is not left refused.
func TestPasswordChangedEmptiesBudgets(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	env := twofatest.New(t)
	dev := env.EnrollTOTP("erin")
	codes := rcGenerate(t, env, "erin")
	env.EnrollTOTP("mallory")
	guess := rcGenerate(t, env, "mallory")[0]
	for {
		_, err := env.TwoFA.Verify(ctx, "erin", wrongCode(t, dev, env.Clock.Now(), cfgDefaults(t).Codes.MaxDrift+1))
		var te *twofa.ThrottledError
		if errors.As(err, &te) {
			if te.BudgetSpent {
				break
			}
			env.Clock.Advance(te.RetryAfter)
		}
	}
	for range cfgDefaults(t).Throttle.Recovery.Budget + 1 {
		env.TwoFA.Verify(ctx, "erin", guess)
	}
	_, err := env.TwoFA.Verify(ctx, "erin", dev.Code())
	require.ErrorIs(t, err, twofa.ErrThrottled)
	_, err = env.TwoFA.Verify(ctx, "erin", codes[0])
	require.ErrorIs(t, err, twofa.ErrThrottled)

	require.NoError(t, env.TwoFA.PasswordChanged(ctx, "erin"))
	_, err = env.TwoFA.Verify(ctx, "erin", dev.Code())
	require.NoError(t, err)
	_, err = env.TwoFA.Verify(ctx, "erin", codes[0])
	require.NoError(t, err)
}
