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
const guessOdds = (2*twofa.DefaultSkew + 1) / 1e6

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
// password and submits a wrong one-time code whenever the Verifier would
// evaluate one, against one TOTP device with the default settings. With
// owner set, the owner signs in every hour with a right code and mistypes
// one first about three times a week (every 56th sign-in); a refused owner
// gets in that hour another way (a trusted browser or a recovery code
// that is not used here). It returns the times of the attacker's
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
				env.Verifier.Verify(ctx, "erin", wrongCode(t, dev, now, twofa.DefaultMaxDrift+1))
			}
			if _, err := env.Verifier.Verify(ctx, "erin", dev.Code()); err != nil {
				require.ErrorIs(t, err, twofa.ErrThrottled)
				ownerRefused++
			}
			nextOwner = nextOwner.Add(time.Hour)
			continue
		}
		_, err := env.Verifier.Verify(ctx, "erin", wrongCode(t, dev, now, twofa.DefaultMaxDrift+1))
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
			t.Fatalf("attacker's guess: %v", err)
		}
	}
	return evaluated, ownerRefused, env
}

// TestGuessingBudgetSimulation measures the bound on guessing one-time
// codes that DefaultThrottle documents and the README states: an attacker
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
			assert.LessOrEqual(t, day, 31, "the README states this figure")
			assert.LessOrEqual(t, len(evaluated), 274, "the README states this figure")
			// The backend was told, before the budget was spent.
			evs := env.Events.Events()
			for i, e := range evs {
				if e.Type == twofa.EventGuessing {
					assert.Equal(t, twofa.DefaultThrottle.Budget/2, e.Remaining, "the first guessing event comes at half the budget")
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
			_, err := env.Verifier.Verify(ctx, "erin", wrongCode(t, dev, env.Clock.Now(), twofa.DefaultMaxDrift+1))
			require.ErrorIs(t, err, twofa.ErrInvalidCode, "hour %d", hour)
			mistakes++
		}
		_, err := env.Verifier.Verify(ctx, "erin", dev.Code())
		require.NoError(t, err, "hour %d", hour)
	}
	assert.Zero(t, env.Events.Count(twofa.EventGuessing))
	t.Logf("a year of hourly sign-ins with %d mistakes: never refused", mistakes)
}

// TestRecoveryGuessingSimulation runs a recovery-code guesser of unbounded
// speed for a day of fake time: every second it submits guesses until one
// is refused. The evaluated guesses are bounded by RecoveryThrottle alone,
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
			_, err := env.Verifier.Verify(ctx, "erin", guess)
			if errors.Is(err, twofa.ErrThrottled) {
				refused++
				break
			}
			require.ErrorIs(t, err, twofa.ErrInvalidCode)
			evaluated++
		}
		env.Clock.Advance(time.Second)
	}
	p := twofa.RecoveryThrottle
	want := p.Budget + int(24*time.Hour/p.Refill)
	odds := successOdds(evaluated, twofa.RecoveryCodeCount/math.Exp2(50))
	t.Logf("24 h: %d recovery-code guesses evaluated, %d refused; P = %.2g", evaluated, refused, odds)
	assert.LessOrEqual(t, evaluated, want)
	assert.LessOrEqual(t, odds, 1e-6)
}
