package twofa

import (
	"fmt"
	"time"
)

// ThrottlePolicy limits how many attempts of one kind (one scope) are
// evaluated for an account. It has two parts; a policy may use either or
// both.
//
// The back-off (Free, Base, Max) is RFC 4226 Section 7.3's delay scheme on
// consecutive failures: the first Free failures cost nothing (typing
// mistakes happen), failure Free+1 waits Base, and each further failure
// doubles the wait up to Max. A success clears it. It stops a burst of
// guesses, but alone it bounds nothing over the long run: an owner who
// signs in every hour clears it every hour.
//
// The budget (Budget, Refill) bounds failures over the long run, and a
// success does not clear it. It is a leaky bucket of Budget failures, one
// of which is forgiven every Refill: at most Budget failures in a burst,
// and at most Budget + t/Refill in any span of time t, whatever the owner
// does. Once it is spent, attempts are refused unanswered until Refill
// has forgiven one, so an attacker who keeps at it gets one attempt per
// Refill. Attempts whose code matched are not charged (an accepted device
// code takes no place, and a replayed one gives its reservation back). The budgets of one-time and recovery codes are emptied only
// by a right recovery code, TwoFA.ResetThrottle and TwoFA.PasswordChanged; a
// trusted browser, which needs no code, still lets the owner in. (The
// app-password throttle takes no budget.)
//
// Delay(n) is exactly: 0 when n <= Free or Base is 0; otherwise
// Base·2^(n-Free-1), capped at Max. Stores that compute it themselves
// (sqlstore does, inside one SQL statement) must follow this formula.
type ThrottlePolicy struct {
	Free int           // failures before the back-off starts
	Base time.Duration // the first wait; 0: no back-off
	Max  time.Duration // the longest wait

	Budget int           // failures the budget holds; 0: no budget
	Refill time.Duration // one failure is forgiven every Refill
}

// defaultCodeThrottle is the policy on one-time codes when
// Config.Throttle.Codes is zero; that field's doc gives the reasons. An
// installation's policy is read from TwoFA.Config.
var defaultCodeThrottle = ThrottlePolicy{Free: 5, Base: time.Second, Max: 2 * time.Hour, Budget: 30, Refill: 36 * time.Hour}

// defaultRecoveryThrottle is the policy on recovery codes when
// Config.Throttle.Recovery is zero; that field's doc gives the reasons.
var defaultRecoveryThrottle = ThrottlePolicy{Budget: 1000, Refill: time.Second}

// Delay returns the back-off wait after the n-th consecutive failure.
func (p ThrottlePolicy) Delay(n int) time.Duration {
	if n <= p.Free || p.Base <= 0 {
		return 0
	}
	d := p.Base
	for i := n - p.Free - 1; i > 0; i-- {
		if d > p.Max/2 {
			// Doubling would reach Max (and, near the int64 limit, wrap).
			return p.Max
		}
		d *= 2
	}
	return min(d, p.Max)
}

// DoublingsToMax returns the smallest k with Base·2^k >= Max: from failure
// Free+1+k on, the delay is Max. Stores computing Delay in SQL use it to
// avoid overflow.
func (p ThrottlePolicy) DoublingsToMax() int {
	k := 0
	for d := p.Base; d > 0 && d < p.Max; d *= 2 {
		k++
		if d > p.Max/2 {
			break
		}
	}
	return k
}

// backingOff reports whether st's back-off still runs at now: the
// failures are past Free and now is before Until. A refusal by the
// back-off needs both, so clocks that differ slightly between requests or
// replicas never refuse an attempt while the failures are free.
func (p ThrottlePolicy) backingOff(st ThrottleState, now time.Time) bool {
	return p.Base > 0 && st.Failures > p.Free && now.Before(st.Until)
}

// budgetSpent reports whether st's budget has no room for another failure
// at now: Forgiven is more than (Budget-1)·Refill after now.
func (p ThrottlePolicy) budgetSpent(st ThrottleState, now time.Time) bool {
	return p.Budget > 0 && st.Forgiven.After(now.Add(time.Duration(p.Budget-1)*p.Refill))
}

// budgetLeft returns how many more failures st's budget takes at now
// (Budget when the policy has none).
func (p ThrottlePolicy) budgetLeft(st ThrottleState, now time.Time) int {
	if p.Budget <= 0 || !st.Forgiven.After(now) {
		return p.Budget
	}
	owed := st.Forgiven.Sub(now)
	spent := int((owed + p.Refill - 1) / p.Refill) // rounded up
	return max(0, p.Budget-spent)
}

// Reserve is the reference implementation of ThrottleStore.ReserveAttempt
// on a state: it reports the state after counting an attempt at now, or
// st unchanged and false when p refuses it. Stores that keep the state in
// memory call it; stores that compute in SQL must agree with it.
func (p ThrottlePolicy) Reserve(st ThrottleState, now time.Time) (ThrottleState, bool) {
	if p.backingOff(st, now) || p.budgetSpent(st, now) {
		return st, false
	}
	st.Failures++
	st.Until = now.Add(p.Delay(st.Failures))
	if p.Budget > 0 {
		if st.Forgiven.Before(now) {
			st.Forgiven = now
		}
		st.Forgiven = st.Forgiven.Add(p.Refill)
	}
	return st, true
}

// Released is the reference implementation of
// ThrottleStore.ReleaseAttempt: the budget gets back refund (Forgiven moves
// back by it, unless Forgiven is zero), and after a success the back-off is
// cleared too.
func (st ThrottleState) Released(refund time.Duration, success bool) ThrottleState {
	if success {
		st.Failures, st.Until = 0, time.Time{}
	}
	if refund > 0 && !st.Forgiven.IsZero() {
		st.Forgiven = st.Forgiven.Add(-refund)
	}
	return st
}

// refund returns what an attempt reserved with p at reservedAt gives back
// to the budget at now: Refill, less the time that has passed since, which
// has already forgiven that much (so a slow request cannot free more than
// it took).
func (p ThrottlePolicy) refund(reservedAt, now time.Time) time.Duration {
	if p.Budget <= 0 {
		return 0
	}
	return max(0, p.Refill-max(0, now.Sub(reservedAt)))
}

// retryAfter returns how long from now until st lets p evaluate an attempt.
func (p ThrottlePolicy) retryAfter(st ThrottleState, now time.Time) time.Duration {
	var d time.Duration
	if p.backingOff(st, now) {
		d = st.Until.Sub(now)
	}
	if p.budgetSpent(st, now) {
		d = max(d, st.Forgiven.Sub(now.Add(time.Duration(p.Budget-1)*p.Refill)))
	}
	return d
}

// MaxThrottleDelay bounds ThrottlePolicy.Max and Refill: a year. A longer
// wait is a lock-out, better done by an administrator; the bound also
// keeps every Until far inside the int64-nanosecond range stores keep
// times in.
const MaxThrottleDelay = 365 * 24 * time.Hour

// MaxThrottleBudget bounds ThrottlePolicy.Budget, and MaxBudgetSpan bounds
// Budget·Refill, the time a spent budget takes to refill: five years, so
// that every Forgiven stays far inside the int64-nanosecond range.
const (
	MaxThrottleBudget = 1_000_000
	MaxBudgetSpan     = 5 * 365 * 24 * time.Hour
)

func (p ThrottlePolicy) validate() error {
	backoff := p.Free != 0 || p.Base != 0 || p.Max != 0
	budget := p.Budget != 0 || p.Refill != 0
	switch {
	case !backoff && !budget:
		return fmt.Errorf("%w: throttle policy needs a back-off or a budget", ErrInvalidOptions)
	case backoff && (p.Free < 0 || p.Base <= 0 || p.Max < p.Base || p.Max > MaxThrottleDelay):
		// A zero Base would turn the back-off off: a partly filled
		// policy such as {Free: 3} is a mistake, not a wish.
		return fmt.Errorf("%w: throttle back-off needs Free >= 0 and 0 < Base <= Max <= %v", ErrInvalidOptions, MaxThrottleDelay)
	case budget && (p.Budget < 1 || p.Budget > MaxThrottleBudget || p.Refill <= 0 || p.Refill > MaxThrottleDelay ||
		p.Refill > MaxBudgetSpan/time.Duration(p.Budget)):
		return fmt.Errorf("%w: throttle budget needs 1 <= Budget <= %d, 0 < Refill <= %v and Budget·Refill <= %v",
			ErrInvalidOptions, MaxThrottleBudget, MaxThrottleDelay, MaxBudgetSpan)
	}
	return nil
}

// Throttle scopes: each counts failures separately per account.
const (
	ScopeCode        = "code"         // one-time codes (TOTP/HOTP)
	ScopeRecovery    = "recovery"     // recovery codes
	ScopeAppPassword = "app_password" // app-specific passwords
)
