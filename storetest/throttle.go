package storetest

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
)

func throttleTests() []testCase {
	cs := []testCase{}
	for _, p := range policies {
		cs = append(cs, testCase{"ThrottleStore/ReserveAttempt/Policy/" + p.name, func(t *testing.T, s twofa.Store) {
			testReservePolicy(t, s, p.p)
		}})
	}
	return append(cs, []testCase{
		{"ThrottleStore/ReserveAttempt/Refused", testReserveRefused},
		{"ThrottleStore/ReserveAttempt/Scopes", testReserveScopes},
		{"ThrottleStore/ReserveAttempt/Accounts", testReserveAccounts},
		{"ThrottleStore/ReserveAttempt/Concurrent", testReserveConcurrent},
		{"ThrottleStore/ReserveAttempt/ConcurrentThrottled", testReserveConcurrentThrottled},
		{"ThrottleStore/ReserveAttempt/Cancelled", testReserveCancelled},
		{"ThrottleStore/ResetThrottle/Resets", testReset},
		{"ThrottleStore/ResetThrottle/Unknown", testResetUnknown},
		{"ThrottleStore/ResetThrottle/Cancelled", testResetCancelled},
		{"ThrottleStore/Throttle/Unknown", testThrottleUnknown},
		{"ThrottleStore/Throttle/Cancelled", testThrottleCancelled},
	}...)
}

// century is close to the longest Max a deployment might configure.
const century = 100 * 365 * 24 * time.Hour

// policies cover the cap, large failure counts (where Base·2^n would
// overflow a store that does not cap first), delays to the nanosecond, and
// no delay at all.
var policies = []struct {
	name string
	p    twofa.ThrottlePolicy
}{
	{"Default", twofa.DefaultThrottle},
	{"Recovery", twofa.RecoveryThrottle},
	{"Free0", twofa.ThrottlePolicy{Free: 0, Base: time.Second, Max: 2 * time.Hour}},
	{"Base10m", twofa.ThrottlePolicy{Free: 3, Base: 10 * time.Minute, Max: 2 * time.Hour}},
	{"BaseEqualsMax", twofa.ThrottlePolicy{Free: 1, Base: time.Minute, Max: time.Minute}},
	{"MaxCentury", twofa.ThrottlePolicy{Free: 0, Base: time.Second, Max: century}},
	{"Base10mMaxCentury", twofa.ThrottlePolicy{Free: 2, Base: 10 * time.Minute, Max: century + 7}},
	{"Nanoseconds", twofa.ThrottlePolicy{Free: 1, Base: 1, Max: 1000}},
	{"Free60", twofa.ThrottlePolicy{Free: 60, Base: time.Millisecond, Max: time.Second}},
	{"NoDelay", twofa.ThrottlePolicy{}},
}

func zeroState(st twofa.ThrottleState) bool { return st.Failures == 0 && st.Until.IsZero() }

func fmtState(st twofa.ThrottleState) string {
	return fmt.Sprintf("{Failures %d, Until %s}", st.Failures, fmtTime(st.Until))
}

func sameState(a, b twofa.ThrottleState) bool {
	return a.Failures == b.Failures && a.Until.Equal(b.Until) && a.Until.IsZero() == b.Until.IsZero()
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
	if !sameState(got, want) {
		t.Fatalf("%s = %s, want %s", what, fmtState(got), fmtState(want))
	}
}

// testReservePolicy makes 70 attempts, each as soon as it is allowed (plus
// a few nanoseconds), and one just before, and checks every state against
// p.Delay. With a Max of a century the attempts run past the year 2262,
// where a store may saturate Until at endOfTime; the test then keeps
// calling at endOfTime.
func testReservePolicy(t *testing.T, s twofa.Store, p twofa.ThrottlePolicy) {
	acct := NewAccount()
	now := t0
	var st twofa.ThrottleState
	for n := 1; n <= 70; n++ {
		if n > 1 {
			if st.Until.After(now) {
				early := st.Until.Add(-1)
				got, ok := reserve(t, s, acct, twofa.ScopeCode, early, p)
				if ok {
					t.Fatalf("failure %d: ReserveAttempt 1 ns before Until reported true", n)
				}
				wantState(t, fmt.Sprintf("failure %d: ReserveAttempt 1 ns before Until", n), got, st)
				wantState(t, fmt.Sprintf("failure %d: Throttle after a refused attempt", n), throttle(t, s, acct, twofa.ScopeCode), st)
			}
			now = st.Until.Add(time.Duration(n % 3)) // at Until, or 1 or 2 ns after
			if st.Until.Equal(endOfTime) {
				now = endOfTime // saturated: stay in the store's range
			}
		}
		got, ok := reserve(t, s, acct, twofa.ScopeCode, now, p)
		if !ok {
			t.Fatalf("failure %d: ReserveAttempt at %s with Until %s reported false", n, fmtTime(now), fmtTime(st.Until))
		}
		want := twofa.ThrottleState{Failures: n, Until: now.Add(p.Delay(n))}
		if want.Until.After(endOfTime) && got.Until.Equal(endOfTime) {
			want.Until = endOfTime // saturated, as a store of int64 nanoseconds may
		}
		wantState(t, fmt.Sprintf("failure %d (delay %v): ReserveAttempt", n, p.Delay(n)), got, want)
		wantState(t, fmt.Sprintf("failure %d: Throttle", n), throttle(t, s, acct, twofa.ScopeCode), want)
		st = want
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
	var ok atomic.Int32
	parallel(n, func(int) {
		_, allowed, err := s.ReserveAttempt(t.Context(), acct, twofa.ScopeCode, t0, p)
		if err != nil {
			t.Errorf("ReserveAttempt: %v", err)
		}
		if allowed {
			ok.Add(1)
		}
	})
	if ok.Load() != 1 {
		t.Errorf("%d concurrent ReserveAttempt calls with no free failure: %d allowed, want 1", n, ok.Load())
	}
	wantState(t, "Throttle", throttle(t, s, acct, twofa.ScopeCode), twofa.ThrottleState{Failures: 1, Until: t0.Add(time.Hour)})
}

func testReserveCancelled(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	p := twofa.ThrottlePolicy{Free: 0, Base: time.Second, Max: time.Hour}
	want, _ := reserve(t, s, acct, twofa.ScopeCode, t0, p)
	st, ok, err := s.ReserveAttempt(cancelled(t), acct, twofa.ScopeCode, t0.Add(time.Hour), p)
	wantCancelled(t, "ReserveAttempt", err)
	if ok || !zeroState(st) {
		t.Errorf("ReserveAttempt with a cancelled context returned %s, %v; want the zero state, false", fmtState(st), ok)
	}
	wantState(t, "Throttle", throttle(t, s, acct, twofa.ScopeCode), want)
	// A fresh account gets no state either.
	other := NewAccount()
	_, _, err = s.ReserveAttempt(cancelled(t), other, twofa.ScopeCode, t0, p)
	wantCancelled(t, "ReserveAttempt", err)
	wantState(t, "Throttle of a fresh account", throttle(t, s, other, twofa.ScopeCode), twofa.ThrottleState{})
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

func testResetUnknown(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	if err := s.ResetThrottle(t.Context(), acct, twofa.ScopeCode); err != nil {
		t.Errorf("ResetThrottle of an unknown account: %v", err)
	}
	wantState(t, "Throttle", throttle(t, s, acct, twofa.ScopeCode), twofa.ThrottleState{})
}

func testResetCancelled(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	want, _ := reserve(t, s, acct, twofa.ScopeCode, t0, twofa.DefaultThrottle)
	wantCancelled(t, "ResetThrottle", s.ResetThrottle(cancelled(t), acct, twofa.ScopeCode))
	wantState(t, "Throttle", throttle(t, s, acct, twofa.ScopeCode), want)
}

func testThrottleUnknown(t *testing.T, s twofa.Store) {
	st, err := s.Throttle(t.Context(), NewAccount(), twofa.ScopeCode)
	if err != nil || !zeroState(st) {
		t.Errorf("Throttle of an unknown account = %s, %v; want the zero state, nil", fmtState(st), err)
	}
}

func testThrottleCancelled(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	reserve(t, s, acct, twofa.ScopeCode, t0, twofa.DefaultThrottle)
	_, err := s.Throttle(cancelled(t), acct, twofa.ScopeCode)
	wantCancelled(t, "Throttle", err)
}
