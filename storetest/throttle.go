package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
)

func throttleTests() []testCase[twofa.Store] {
	cs := []testCase[twofa.Store]{}
	for _, p := range policies {
		cs = append(cs, testCase[twofa.Store]{"ThrottleStore/ReserveAttempt/Policy/" + p.name, func(t *testing.T, s twofa.Store) {
			testReservePolicy(t, s, p.p)
		}})
	}
	cs = append(cs, []testCase[twofa.Store]{
		{"ThrottleStore/ReserveAttempt/Refused", testReserveRefused},
		{"ThrottleStore/ReserveAttempt/Scopes", testReserveScopes},
		{"ThrottleStore/ReserveAttempt/Accounts", testReserveAccounts},
		{"ThrottleStore/ReserveAttempt/Concurrent", testReserveConcurrent},
		{"ThrottleStore/ReserveAttempt/ConcurrentThrottled", testReserveConcurrentThrottled},
		{"ThrottleStore/ReserveAttempt/FreeWhateverTheClock", testReserveFreeWhateverTheClock},
		{"ThrottleStore/ReserveAttempt/ConcurrentClocks", testReserveConcurrentClocks},
		{"ThrottleStore/ReserveAttempt/Budget", testReserveBudget},
		{"ThrottleStore/ReserveAttempt/BudgetConcurrent", testReserveBudgetConcurrent},
		{"ThrottleStore/ReserveAttempt/Model", testReserveModel},
		{"ThrottleStore/ReleaseAttempt/Clears", testReleaseAttempt},
		{"ThrottleStore/ReleaseAttempt/RefundOnly", testReleaseAttemptRefundOnly},
		{"ThrottleStore/ReleaseAttempt/Concurrent", testReleaseAttemptConcurrent},
		{"ThrottleStore/ResetThrottle/Resets", testReset},
		{"ThrottleStore/ResetThrottle/Budget", testResetBudget},
		{"ThrottleStore/DeleteIdleThrottles/Idle", testDeleteIdle},
	}...)
	cs = append(cs, unknownTests("ThrottleStore",
		func(t *testing.T, s twofa.Store, account string) any { return throttle(t, s, account, twofa.ScopeCode) },
		unknownCase[twofa.Store]{"ReleaseAttempt", func(ctx context.Context, s twofa.Store, account string) ([]any, error) {
			return res(s.ReleaseAttempt(ctx, account, twofa.ScopeCode, refill(codeThrottle), true))
		}},
		unknownCase[twofa.Store]{"ResetThrottle", func(ctx context.Context, s twofa.Store, account string) ([]any, error) {
			return res(s.ResetThrottle(ctx, account, twofa.ScopeCode))
		}},
		unknownCase[twofa.Store]{"Throttle", func(ctx context.Context, s twofa.Store, account string) ([]any, error) {
			return zeroed(s.Throttle(ctx, account, twofa.ScopeCode))
		}},
	)...)
	return append(cs, throttleCancelTests()...)
}

// codeThrottle and recoveryThrottle are the shapes of twofa's default
// policies on one-time codes (a back-off and a budget) and on recovery
// codes (a budget alone).
var (
	codeThrottle     = twofa.ThrottlePolicy{Free: 5, Base: time.Second, Max: 2 * time.Hour, Budget: 30, Refill: 36 * time.Hour}
	recoveryThrottle = twofa.ThrottlePolicy{Budget: 1000, Refill: time.Second}
)

// century is close to the longest Max a deployment might configure.
const century = 100 * 365 * 24 * time.Hour

// policies cover the cap, large failure counts (where Base·2^n would
// overflow a store that does not cap first), delays to the nanosecond, and
// no delay at all.
var policies = []struct {
	name string
	p    twofa.ThrottlePolicy
}{
	{"Default", codeThrottle},
	{"Recovery", recoveryThrottle},
	{"Free0", twofa.ThrottlePolicy{Free: 0, Base: time.Second, Max: 2 * time.Hour}},
	{"Base10m", twofa.ThrottlePolicy{Free: 3, Base: 10 * time.Minute, Max: 2 * time.Hour}},
	{"BaseEqualsMax", twofa.ThrottlePolicy{Free: 1, Base: time.Minute, Max: time.Minute}},
	{"MaxCentury", twofa.ThrottlePolicy{Free: 0, Base: time.Second, Max: century}},
	{"Base10mMaxCentury", twofa.ThrottlePolicy{Free: 2, Base: 10 * time.Minute, Max: century + 7}},
	{"Nanoseconds", twofa.ThrottlePolicy{Free: 1, Base: 1, Max: 1000}},
	{"Free60", twofa.ThrottlePolicy{Free: 60, Base: time.Millisecond, Max: time.Second}},
	{"NoDelay", twofa.ThrottlePolicy{}},
	{"BudgetOnly", twofa.ThrottlePolicy{Budget: 7, Refill: time.Minute}},
	{"BudgetOfOne", twofa.ThrottlePolicy{Budget: 1, Refill: 3}},
	{"BudgetAndBackOff", twofa.ThrottlePolicy{Free: 2, Base: time.Second, Max: time.Minute, Budget: 10, Refill: time.Hour}},
	{"BudgetFiveYears", twofa.ThrottlePolicy{Budget: 5, Refill: 365 * 24 * time.Hour}},
}

func fmtState(st twofa.ThrottleState) string {
	return fmt.Sprintf("{Failures %d, Until %s, Forgiven %s}", st.Failures, fmtTime(st.Until), fmtTime(st.Forgiven))
}

// refill is what a success gives back to p's budget: its Refill, or
// nothing without a budget.
func refill(p twofa.ThrottlePolicy) time.Duration {
	if p.Budget <= 0 {
		return 0
	}
	return p.Refill
}

// nextAllowed returns the earliest time at or after now when p lets st
// count another attempt.
func nextAllowed(p twofa.ThrottlePolicy, st twofa.ThrottleState, now time.Time) time.Time {
	next := now
	if p.Base > 0 && st.Failures > p.Free && st.Until.After(next) {
		next = st.Until
	}
	if p.Budget > 0 {
		if room := st.Forgiven.Add(-time.Duration(p.Budget-1) * p.Refill); room.After(next) {
			next = room
		}
	}
	return next
}

func reserve(t *testing.T, s twofa.Store, account, scope string, now time.Time, p twofa.ThrottlePolicy) (twofa.ThrottleState, bool) {
	t.Helper()
	st, ok, err := s.ReserveAttempt(t.Context(), account, scope, now, p)
	if err != nil {
		t.Fatalf("ReserveAttempt: %v", err)
	}
	return st, ok
}

func throttle(t *testing.T, s twofa.Store, account, scope string) twofa.ThrottleState {
	t.Helper()
	st, err := s.Throttle(t.Context(), account, scope)
	if err != nil {
		t.Fatalf("Throttle: %v", err)
	}
	return st
}

func wantState(t *testing.T, what string, got, want twofa.ThrottleState) {
	t.Helper()
	if diff(got, want) != nil {
		t.Fatalf("%s = %s, want %s", what, fmtState(got), fmtState(want))
	}
}

// testReservePolicy makes 70 attempts, each as soon as it is allowed (plus
// a few nanoseconds), and one just before, and checks every state against
// p.Delay and p.Reserve. With a Max of a century the attempts run past the
// year 2262, where a store may saturate Until at endOfTime; the test then
// keeps calling at endOfTime.
func testReservePolicy(t *testing.T, s twofa.Store, p twofa.ThrottlePolicy) {
	acct := NewAccount()
	now := t0
	var st twofa.ThrottleState
	for n := 1; n <= 70; n++ {
		if n > 1 {
			next := nextAllowed(p, st, now)
			if next.After(now) {
				early := next.Add(-1)
				got, ok := reserve(t, s, acct, twofa.ScopeCode, early, p)
				if ok {
					t.Fatalf("failure %d: ReserveAttempt 1 ns before it is allowed reported true", n)
				}
				wantState(t, fmt.Sprintf("failure %d: ReserveAttempt 1 ns before it is allowed", n), got, st)
				wantState(t, fmt.Sprintf("failure %d: Throttle after a refused attempt", n), throttle(t, s, acct, twofa.ScopeCode), st)
			}
			now = next.Add(time.Duration(n % 3)) // when allowed, or 1 or 2 ns after
			if st.Until.Equal(endOfTime) {
				now = endOfTime // saturated: stay in the store's range
			}
		}
		got, ok := reserve(t, s, acct, twofa.ScopeCode, now, p)
		if !ok {
			t.Fatalf("failure %d: ReserveAttempt at %s with %s reported false", n, fmtTime(now), fmtState(st))
		}
		want, _ := p.Reserve(st, now)
		if want.Until != now.Add(p.Delay(n)) || want.Failures != n {
			t.Fatalf("ThrottlePolicy.Reserve disagrees with Delay at failure %d", n)
		}
		if want.Until.After(endOfTime) && got.Until.Equal(endOfTime) {
			want.Until = endOfTime // saturated, as a store of int64 nanoseconds may
		}
		wantState(t, fmt.Sprintf("failure %d (delay %v): ReserveAttempt", n, p.Delay(n)), got, want)
		wantState(t, fmt.Sprintf("failure %d: Throttle", n), throttle(t, s, acct, twofa.ScopeCode), want)
		st = want
	}
}

// While the failures are free, no reading of the clock refuses an attempt:
// requests whose clocks run a little behind the previous one's (overlapping
// requests, replicas whose clocks differ) are counted, never throttled.
func testReserveFreeWhateverTheClock(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	p := twofa.ThrottlePolicy{Free: 5, Base: time.Second, Max: time.Hour}
	for n, at := range []time.Time{t0.Add(time.Second), t0, t0.Add(-time.Millisecond), t0.Add(time.Hour), t0.Add(-time.Hour)} {
		st, ok := reserve(t, s, acct, twofa.ScopeCode, at, p)
		if !ok {
			t.Fatalf("free failure %d at %s: ReserveAttempt reported false with %s", n+1, fmtTime(at), fmtState(st))
		}
		wantState(t, fmt.Sprintf("free failure %d", n+1), st, twofa.ThrottleState{Failures: n + 1, Until: at})
	}
	// Failure Free+1 starts a real back-off, which holds for an older clock.
	at := t0.Add(-2 * time.Hour)
	st, ok := reserve(t, s, acct, twofa.ScopeCode, at, p)
	if !ok {
		t.Fatal("failure 6: ReserveAttempt reported false")
	}
	wantState(t, "failure 6", st, twofa.ThrottleState{Failures: 6, Until: at.Add(time.Second)})
	if _, ok := reserve(t, s, acct, twofa.ScopeCode, at.Add(-time.Millisecond), p); ok {
		t.Error("ReserveAttempt while the back-off runs reported true")
	}
}

// Concurrent attempts whose clock readings differ by milliseconds, in any
// order, are all counted while the failures are free.
func testReserveConcurrentClocks(t *testing.T, s twofa.Store) {
	const n = 64
	acct := NewAccount()
	p := twofa.ThrottlePolicy{Free: n, Base: time.Second, Max: time.Hour}
	var refused atomic.Int32
	parallel(n, func(i int) {
		at := t0.Add(time.Duration((i*37)%n) * time.Millisecond)
		_, ok, err := s.ReserveAttempt(t.Context(), acct, twofa.ScopeCode, at, p)
		if err != nil {
			t.Errorf("ReserveAttempt: %v", err)
		}
		if !ok {
			refused.Add(1)
		}
	})
	if r := refused.Load(); r != 0 {
		t.Errorf("%d concurrent ReserveAttempt calls with free failures and clocks milliseconds apart: %d refused, want 0", n, r)
	}
	if st := throttle(t, s, acct, twofa.ScopeCode); st.Failures != n {
		t.Errorf("Throttle = %s, want %d failures", fmtState(st), n)
	}
}

func testReserveBudget(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	p := twofa.ThrottlePolicy{Budget: 3, Refill: time.Hour}
	for n := 1; n <= 3; n++ {
		at := t0.Add(time.Duration(n) * time.Millisecond)
		st, ok := reserve(t, s, acct, twofa.ScopeCode, at, p)
		if !ok {
			t.Fatalf("failure %d of a budget of 3: ReserveAttempt reported false", n)
		}
		// The first moves Forgiven to at+Refill, the others add Refill.
		want := twofa.ThrottleState{Failures: n, Until: at, Forgiven: t0.Add(time.Millisecond + time.Duration(n)*time.Hour)}
		wantState(t, fmt.Sprintf("failure %d", n), st, want)
	}
	spent := twofa.ThrottleState{Failures: 3, Until: t0.Add(3 * time.Millisecond), Forgiven: t0.Add(time.Millisecond + 3*time.Hour)}
	// Spent: refused until one Refill has passed since the first.
	for _, at := range []time.Time{t0.Add(3 * time.Millisecond), t0.Add(time.Hour), t0.Add(time.Hour + time.Millisecond - 1), t0.Add(-time.Hour)} {
		st, ok := reserve(t, s, acct, twofa.ScopeCode, at, p)
		if ok {
			t.Errorf("ReserveAttempt at %s with the budget spent reported true", fmtTime(at))
		}
		wantState(t, "refused ReserveAttempt", st, spent)
	}
	at := t0.Add(time.Hour + time.Millisecond)
	st, ok := reserve(t, s, acct, twofa.ScopeCode, at, p)
	if !ok {
		t.Fatal("ReserveAttempt once a Refill has passed reported false")
	}
	wantState(t, "ReserveAttempt once a Refill has passed", st, twofa.ThrottleState{Failures: 4, Until: at, Forgiven: spent.Forgiven.Add(time.Hour)})
	// Long after everything was forgiven, Forgiven restarts from now.
	at = t0.Add(100 * time.Hour)
	st, ok = reserve(t, s, acct, twofa.ScopeCode, at, p)
	if !ok {
		t.Fatal("ReserveAttempt after a long pause reported false")
	}
	wantState(t, "ReserveAttempt after a long pause", st, twofa.ThrottleState{Failures: 5, Until: at, Forgiven: at.Add(time.Hour)})
}

// Of many concurrent attempts, exactly Budget are counted.
func testReserveBudgetConcurrent(t *testing.T, s twofa.Store) {
	const n, budget = 100, 10
	acct := NewAccount()
	p := twofa.ThrottlePolicy{Budget: budget, Refill: time.Hour}
	counted := count(n, func(i int) bool {
		_, ok, err := s.ReserveAttempt(t.Context(), acct, twofa.ScopeCode, t0, p)
		if err != nil {
			t.Errorf("ReserveAttempt: %v", err)
		}
		return ok
	})
	if counted != budget {
		t.Errorf("%d concurrent ReserveAttempt calls against a budget of %d: %d counted", n, budget, counted)
	}
	wantState(t, "Throttle", throttle(t, s, acct, twofa.ScopeCode), twofa.ThrottleState{Failures: budget, Until: t0, Forgiven: t0.Add(budget * time.Hour)})
}

// testReserveModel runs a fixed pseudo-random mix of attempts (at times
// that go forwards, stand still and go backwards), successes and resets
// under several policies, and checks every answer against the policy's
// reference computation (ThrottlePolicy.Reserve and ThrottleState.Released).
func testReserveModel(t *testing.T, s twofa.Store) {
	for pi, p := range []twofa.ThrottlePolicy{
		codeThrottle,
		recoveryThrottle,
		{Free: 1, Base: time.Second, Max: time.Minute, Budget: 4, Refill: 10 * time.Second},
		{Free: 3, Base: time.Millisecond, Max: time.Second},
	} {
		acct := NewAccount()
		var model twofa.ThrottleState
		now := t0
		x := uint32(pi + 1)
		for step := range 400 {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			switch r := x % 100; {
			case r < 8:
				success := r < 5
				refund := refill(p)
				if r%2 == 1 {
					refund /= 3 // part of a Refill, as after a slow request
				}
				if err := s.ReleaseAttempt(t.Context(), acct, twofa.ScopeCode, refund, success); err != nil {
					t.Fatalf("ReleaseAttempt: %v", err)
				}
				model = model.Released(refund, success)
				wantState(t, fmt.Sprintf("policy %d step %d: Throttle after ReleaseAttempt(%v, %v)", pi, step, refund, success), throttle(t, s, acct, twofa.ScopeCode), model)
				continue
			case r < 10:
				if err := s.ResetThrottle(t.Context(), acct, twofa.ScopeCode); err != nil {
					t.Fatalf("ResetThrottle: %v", err)
				}
				model = twofa.ThrottleState{}
				continue
			case r < 30:
				now = now.Add(-time.Duration(x%1000) * time.Millisecond)
			case r < 90:
				now = now.Add(time.Duration(x%5000) * time.Millisecond)
			default:
				now = now.Add(time.Duration(x%72) * time.Hour)
			}
			got, ok := reserve(t, s, acct, twofa.ScopeCode, now, p)
			want, wantOK := p.Reserve(model, now)
			if ok != wantOK {
				t.Fatalf("policy %d step %d: ReserveAttempt at %s with %s reported %v, want %v", pi, step, fmtTime(now), fmtState(model), ok, wantOK)
			}
			wantState(t, fmt.Sprintf("policy %d step %d: ReserveAttempt", pi, step), got, want)
			model = want
		}
	}
}

func testReleaseAttempt(t *testing.T, s twofa.Store) {
	acct, other := NewAccount(), NewAccount()
	p := twofa.ThrottlePolicy{Free: 0, Base: time.Minute, Max: time.Hour, Budget: 5, Refill: time.Hour}
	for _, m := range []time.Duration{0, 1, 3} { // each when the back-off allows
		if _, ok := reserve(t, s, acct, twofa.ScopeCode, t0.Add(m*time.Minute), p); !ok {
			t.Fatalf("ReserveAttempt at t0+%dm reported false", m)
		}
	}
	keepScope, _ := reserve(t, s, acct, twofa.ScopeRecovery, t0, p)
	keepAcct, _ := reserve(t, s, other, twofa.ScopeCode, t0, p)
	if err := s.ReleaseAttempt(t.Context(), acct, twofa.ScopeCode, refill(p), true); err != nil {
		t.Fatalf("ReleaseAttempt: %v", err)
	}
	// The back-off is gone; the budget keeps the two failures before the
	// success, whose own reservation is given back.
	wantState(t, "Throttle after ReleaseAttempt", throttle(t, s, acct, twofa.ScopeCode), twofa.ThrottleState{Forgiven: t0.Add(2 * time.Hour)})
	wantState(t, "Throttle in another scope", throttle(t, s, acct, twofa.ScopeRecovery), keepScope)
	wantState(t, "Throttle of another account", throttle(t, s, other, twofa.ScopeCode), keepAcct)
	st, ok := reserve(t, s, acct, twofa.ScopeCode, t0.Add(3*time.Minute), p)
	if !ok {
		t.Fatal("ReserveAttempt after ReleaseAttempt reported false")
	}
	wantState(t, "ReserveAttempt after ReleaseAttempt", st, twofa.ThrottleState{Failures: 1, Until: t0.Add(4 * time.Minute), Forgiven: t0.Add(3 * time.Hour)})

	// Without a budget nothing is left.
	noBudget := twofa.ThrottlePolicy{Free: 0, Base: time.Minute, Max: time.Hour}
	reserve(t, s, other, twofa.ScopeRecovery, t0, noBudget)
	if err := s.ReleaseAttempt(t.Context(), other, twofa.ScopeRecovery, refill(noBudget), true); err != nil {
		t.Fatalf("ReleaseAttempt: %v", err)
	}
	wantState(t, "Throttle after ReleaseAttempt without a budget", throttle(t, s, other, twofa.ScopeRecovery), twofa.ThrottleState{})
}

// Without a success, only the budget gets its place back: the back-off
// stays.
func testReleaseAttemptRefundOnly(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	p := twofa.ThrottlePolicy{Free: 0, Base: time.Minute, Max: time.Hour, Budget: 5, Refill: time.Hour}
	reserve(t, s, acct, twofa.ScopeCode, t0, p)
	st, _ := reserve(t, s, acct, twofa.ScopeCode, t0.Add(time.Minute), p)
	if err := s.ReleaseAttempt(t.Context(), acct, twofa.ScopeCode, time.Hour, false); err != nil {
		t.Fatalf("ReleaseAttempt: %v", err)
	}
	want := twofa.ThrottleState{Failures: 2, Until: st.Until, Forgiven: t0.Add(time.Hour)}
	wantState(t, "Throttle after ReleaseAttempt without a success", throttle(t, s, acct, twofa.ScopeCode), want)
	// A part of a Refill, and nothing at all.
	if err := s.ReleaseAttempt(t.Context(), acct, twofa.ScopeCode, time.Minute, false); err != nil {
		t.Fatalf("ReleaseAttempt: %v", err)
	}
	if err := s.ReleaseAttempt(t.Context(), acct, twofa.ScopeCode, 0, false); err != nil {
		t.Fatalf("ReleaseAttempt: %v", err)
	}
	want.Forgiven = t0.Add(59 * time.Minute)
	wantState(t, "Throttle after partial refunds", throttle(t, s, acct, twofa.ScopeCode), want)
}

// Concurrent attempts that all succeed leave the budget as they found it.
func testReleaseAttemptConcurrent(t *testing.T, s twofa.Store) {
	const n = 50
	acct := NewAccount()
	p := twofa.ThrottlePolicy{Free: 1000, Base: time.Second, Max: time.Hour, Budget: 1000, Refill: time.Hour}
	reserve(t, s, acct, twofa.ScopeCode, t0, p) // one failure that stays
	if err := s.ResetThrottle(t.Context(), acct, twofa.ScopeCode); err != nil {
		t.Fatal(err)
	}
	reserve(t, s, acct, twofa.ScopeCode, t0, p)
	parallel(n, func(int) {
		if _, ok, err := s.ReserveAttempt(t.Context(), acct, twofa.ScopeCode, t0, p); err != nil || !ok {
			t.Errorf("ReserveAttempt = %v, %v; want true, nil", ok, err)
			return
		}
		if err := s.ReleaseAttempt(t.Context(), acct, twofa.ScopeCode, refill(p), true); err != nil {
			t.Errorf("ReleaseAttempt: %v", err)
		}
	})
	if st := throttle(t, s, acct, twofa.ScopeCode); !sameTime(st.Forgiven, t0.Add(time.Hour)) {
		t.Errorf("after %d concurrent successes: Throttle = %s, want Forgiven %s (the one failure)", n, fmtState(st), fmtTime(t0.Add(time.Hour)))
	}
}

func testResetBudget(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	p := twofa.ThrottlePolicy{Budget: 2, Refill: time.Hour}
	reserve(t, s, acct, twofa.ScopeCode, t0, p)
	reserve(t, s, acct, twofa.ScopeCode, t0, p)
	if _, ok := reserve(t, s, acct, twofa.ScopeCode, t0, p); ok {
		t.Fatal("ReserveAttempt past the budget reported true")
	}
	if err := s.ResetThrottle(t.Context(), acct, twofa.ScopeCode); err != nil {
		t.Fatalf("ResetThrottle: %v", err)
	}
	wantState(t, "Throttle after ResetThrottle", throttle(t, s, acct, twofa.ScopeCode), twofa.ThrottleState{})
	if _, ok := reserve(t, s, acct, twofa.ScopeCode, t0, p); !ok {
		t.Error("ReserveAttempt after ResetThrottle reported false")
	}
}

func testReserveRefused(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	p := twofa.ThrottlePolicy{Free: 0, Base: time.Hour, Max: 2 * time.Hour}
	st, ok := reserve(t, s, acct, twofa.ScopeCode, t0, p)
	want := twofa.ThrottleState{Failures: 1, Until: t0.Add(time.Hour)}
	if !ok {
		t.Fatal("first ReserveAttempt reported false")
	}
	wantState(t, "first ReserveAttempt", st, want)
	for _, at := range []time.Time{t0, t0.Add(59 * time.Minute), t0.Add(time.Hour - 1), t0.Add(-time.Hour)} {
		st, ok = reserve(t, s, acct, twofa.ScopeCode, at, p)
		if ok {
			t.Errorf("ReserveAttempt %v before Until reported true", want.Until.Sub(at))
		}
		wantState(t, "refused ReserveAttempt", st, want)
	}
	wantState(t, "Throttle after refused attempts", throttle(t, s, acct, twofa.ScopeCode), want)
	st, ok = reserve(t, s, acct, twofa.ScopeCode, t0.Add(time.Hour), p)
	if !ok {
		t.Fatal("ReserveAttempt at Until reported false")
	}
	wantState(t, "ReserveAttempt at Until", st, twofa.ThrottleState{Failures: 2, Until: t0.Add(3 * time.Hour)})
}

func testReserveScopes(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	p := twofa.ThrottlePolicy{Free: 0, Base: time.Hour, Max: time.Hour}
	scopes := []string{twofa.ScopeCode, twofa.ScopeRecovery, "app-password", "Code", "codes", "code "}
	for i, scope := range scopes {
		for n := range i + 1 {
			reserve(t, s, acct, scope, t0.Add(time.Duration(n)*time.Hour), p)
		}
	}
	for i, scope := range scopes {
		want := twofa.ThrottleState{Failures: i + 1, Until: t0.Add(time.Duration(i+1) * time.Hour)}
		wantState(t, fmt.Sprintf("Throttle(%q)", scope), throttle(t, s, acct, scope), want)
	}
}

func testReserveAccounts(t *testing.T, s twofa.Store) {
	a := NewAccount()
	accounts := []string{a, strings.ToLower(a), a + "x", a[:len(a)-1]}
	p := twofa.ThrottlePolicy{Free: 0, Base: time.Hour, Max: time.Hour}
	for i, acct := range accounts {
		for n := range i + 1 {
			reserve(t, s, acct, twofa.ScopeCode, t0.Add(time.Duration(n)*time.Hour), p)
		}
	}
	for i, acct := range accounts {
		want := twofa.ThrottleState{Failures: i + 1, Until: t0.Add(time.Duration(i+1) * time.Hour)}
		wantState(t, fmt.Sprintf("Throttle(%q)", acct), throttle(t, s, acct, twofa.ScopeCode), want)
	}
}

func testReserveConcurrent(t *testing.T, s twofa.Store) {
	const n = 200
	acct := NewAccount()
	p := twofa.ThrottlePolicy{Free: 1000, Base: time.Second, Max: time.Hour}
	seen := make([]atomic.Int32, n+1)
	parallel(n, func(int) {
		st, ok, err := s.ReserveAttempt(t.Context(), acct, twofa.ScopeCode, t0, p)
		if err != nil || !ok {
			t.Errorf("ReserveAttempt = %v, %v; want true, nil", ok, err)
			return
		}
		if st.Failures < 1 || st.Failures > n {
			t.Errorf("ReserveAttempt returned Failures %d, want 1 to %d", st.Failures, n)
			return
		}
		seen[st.Failures].Add(1)
	})
	for i := 1; i <= n; i++ {
		if c := seen[i].Load(); c != 1 {
			t.Errorf("%d concurrent ReserveAttempt calls: Failures %d returned %d times, want once", n, i, c)
		}
	}
	wantState(t, "Throttle", throttle(t, s, acct, twofa.ScopeCode), twofa.ThrottleState{Failures: n, Until: t0})
}

func testReserveConcurrentThrottled(t *testing.T, s twofa.Store) {
	const n = 50
	acct := NewAccount()
	p := twofa.ThrottlePolicy{Free: 0, Base: time.Hour, Max: time.Hour}
	ok := count(n, func(int) bool {
		_, allowed, err := s.ReserveAttempt(t.Context(), acct, twofa.ScopeCode, t0, p)
		if err != nil {
			t.Errorf("ReserveAttempt: %v", err)
		}
		return allowed
	})
	if ok != 1 {
		t.Errorf("%d concurrent ReserveAttempt calls with no free failure: %d allowed, want 1", n, ok)
	}
	wantState(t, "Throttle", throttle(t, s, acct, twofa.ScopeCode), twofa.ThrottleState{Failures: 1, Until: t0.Add(time.Hour)})
}

func testReset(t *testing.T, s twofa.Store) {
	acct, other := NewAccount(), NewAccount()
	p := twofa.ThrottlePolicy{Free: 0, Base: time.Minute, Max: time.Hour}
	for n := range 3 {
		reserve(t, s, acct, twofa.ScopeCode, t0.Add(time.Duration(n)*time.Hour), p)
	}
	keepScope, _ := reserve(t, s, acct, twofa.ScopeRecovery, t0, p)
	keepAcct, _ := reserve(t, s, other, twofa.ScopeCode, t0, p)

	if err := s.ResetThrottle(t.Context(), acct, twofa.ScopeCode); err != nil {
		t.Fatalf("ResetThrottle: %v", err)
	}
	wantState(t, "Throttle after ResetThrottle", throttle(t, s, acct, twofa.ScopeCode), twofa.ThrottleState{})
	wantState(t, "Throttle in another scope", throttle(t, s, acct, twofa.ScopeRecovery), keepScope)
	wantState(t, "Throttle of another account", throttle(t, s, other, twofa.ScopeCode), keepAcct)

	// Before the old Until: a reset lifts the wait, and counting restarts.
	st, ok := reserve(t, s, acct, twofa.ScopeCode, t0.Add(2*time.Hour), p)
	if !ok {
		t.Fatal("ReserveAttempt after ResetThrottle reported false")
	}
	wantState(t, "ReserveAttempt after ResetThrottle", st, twofa.ThrottleState{Failures: 1, Until: t0.Add(2*time.Hour + time.Minute)})

	if err := s.ResetThrottle(t.Context(), acct, twofa.ScopeCode); err != nil {
		t.Fatalf("second ResetThrottle: %v", err)
	}
	if err := s.ResetThrottle(t.Context(), acct, twofa.ScopeCode); err != nil {
		t.Fatalf("ResetThrottle of a clear state: %v", err)
	}
	wantState(t, "Throttle after ResetThrottle", throttle(t, s, acct, twofa.ScopeCode), twofa.ThrottleState{})
}

// DeleteIdleThrottles

// idleAt leaves the account a state in scope with no failure and a budget
// owed until forgiven: an attempt reserved Refill before forgiven and
// released as a success, with nothing given back.
func idleAt(t *testing.T, s twofa.Store, account, scope string, forgiven time.Time) {
	t.Helper()
	p := twofa.ThrottlePolicy{Free: 3, Base: time.Second, Max: time.Hour, Budget: 5, Refill: time.Hour}
	if _, ok := reserve(t, s, account, scope, forgiven.Add(-p.Refill), p); !ok {
		t.Fatal("ReserveAttempt of a fresh account refused")
	}
	if err := s.ReleaseAttempt(t.Context(), account, scope, 0, true); err != nil {
		t.Fatalf("ReleaseAttempt: %v", err)
	}
	wantState(t, "Throttle after a success", throttle(t, s, account, scope), twofa.ThrottleState{Forgiven: forgiven})
}

func testDeleteIdle(t *testing.T, s twofa.Store) {
	// DeleteIdleThrottles acts across accounts: work in a past era of
	// this subtest's own, as testDeleteExpired does.
	now := pastEra()
	if _, err := s.DeleteIdleThrottles(t.Context(), now); err != nil {
		t.Fatal(err)
	}
	a, b, c := NewAccount(), NewAccount(), NewAccount()
	type key struct{ account, scope string }
	idleAt(t, s, a, twofa.ScopeCode, now.Add(-time.Hour))
	idleAt(t, s, a, twofa.ScopeRecovery, now) // whole again exactly now
	idleAt(t, s, b, twofa.ScopeCode, now.Add(-1))
	gone := []key{{a, twofa.ScopeCode}, {a, twofa.ScopeRecovery}, {b, twofa.ScopeCode}}

	idleAt(t, s, b, twofa.ScopeRecovery, now.Add(1)) // the budget owed 1 ns more
	// Failures left, everything else long over: they decide the next
	// delay, and the free failures are spent.
	backOff := twofa.ThrottlePolicy{Free: 0, Base: time.Second, Max: time.Hour}
	reserve(t, s, c, twofa.ScopeCode, now.Add(-48*time.Hour), backOff)
	reserve(t, s, c, twofa.ScopeCode, now.Add(-47*time.Hour), backOff)
	free := twofa.ThrottlePolicy{Free: 5, Base: time.Second, Max: time.Hour, Budget: 5, Refill: time.Minute}
	reserve(t, s, c, twofa.ScopeRecovery, now.Add(-48*time.Hour), free)
	kept := []key{{b, twofa.ScopeRecovery}, {c, twofa.ScopeCode}, {c, twofa.ScopeRecovery}}
	keptStates := make([]twofa.ThrottleState, len(kept))
	for i, k := range kept {
		keptStates[i] = throttle(t, s, k.account, k.scope)
	}

	n, err := s.DeleteIdleThrottles(t.Context(), now)
	if n != len(gone) || err != nil {
		t.Errorf("DeleteIdleThrottles = %d, %v; want %d, nil", n, err, len(gone))
	}
	for _, k := range gone {
		wantState(t, fmt.Sprintf("Throttle of an idle state (%s) after DeleteIdleThrottles", k.scope), throttle(t, s, k.account, k.scope), twofa.ThrottleState{})
	}
	for i, k := range kept {
		st := keptStates[i]
		wantState(t, fmt.Sprintf("Throttle of a state that is not idle (%s, %s) after DeleteIdleThrottles", k.scope, fmtState(st)),
			throttle(t, s, k.account, k.scope), st)
	}
	n, err = s.DeleteIdleThrottles(t.Context(), now)
	if n != 0 || err != nil {
		t.Errorf("DeleteIdleThrottles again = %d, %v; want 0, nil", n, err)
	}
}
