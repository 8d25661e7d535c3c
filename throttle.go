package twofa

import (
	"fmt"
	"time"
)

// ThrottlePolicy is an exponential back-off on consecutive failures
// (RFC 4226 Section 7.3's delay scheme): the first Free failures cost
// nothing (typing mistakes happen), failure Free+1 waits Base, and each
// further failure doubles the wait up to Max. A success resets the count.
//
// Delay(n) is exactly: 0 when n <= Free; otherwise Base·2^(n-Free-1),
// capped at Max. Stores that compute it themselves (sqlstore does, inside
// one SQL statement) must follow this formula.
type ThrottlePolicy struct {
	Free int
	Base time.Duration
	Max  time.Duration
}

// DefaultThrottle is the back-off on one-time codes: 5 free failures, then
// 1 s doubling up to 2 h. Against one TOTP device with skew ±1 (3 valid
// codes of 10^6 per attempt), an online guesser gets 29 attempts in 24
// hours, a success probability of 8.7e-5 (below 1e-4); a legitimate user
// who mistypes 5 times in a row waits not at all, and 6 to 8 times, 1 to 4
// seconds. While an attacker keeps an account throttled, its owner gets in
// with a recovery code, which is throttled separately (RecoveryThrottle).
var DefaultThrottle = ThrottlePolicy{Free: 5, Base: time.Second, Max: 2 * time.Hour}

// RecoveryThrottle is the back-off on wrong recovery codes. A recovery code
// has 50 random bits, so guessing is hopeless even unthrottled (10 codes:
// 9e-15 per attempt); the back-off only tells a guesser to slow down. A
// right recovery code is accepted even while it runs, and it is separate
// from DefaultThrottle, so an attacker who keeps either engaged cannot
// lock the owner out.
var RecoveryThrottle = ThrottlePolicy{Free: 10, Base: time.Second, Max: 5 * time.Minute}

// Delay returns the wait after the n-th consecutive failure.
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

// MaxThrottleDelay bounds ThrottlePolicy.Max: a year. A longer wait is a
// lock-out, better done by an administrator; the bound also keeps every
// Until far inside the int64-nanosecond range stores keep times in.
const MaxThrottleDelay = 365 * 24 * time.Hour

func (p ThrottlePolicy) validate() error {
	// A zero Base would turn throttling off: a partly filled policy such
	// as {Free: 3} is a mistake, not a wish.
	if p.Free < 0 || p.Base <= 0 || p.Max < p.Base || p.Max > MaxThrottleDelay {
		return fmt.Errorf("%w: throttle policy needs Free >= 0 and 0 < Base <= Max <= %v", ErrInvalidOptions, MaxThrottleDelay)
	}
	return nil
}

// Throttle scopes: each counts failures separately per account.
const (
	ScopeCode     = "code"     // one-time codes (TOTP/HOTP)
	ScopeRecovery = "recovery" // recovery codes
)
