package storetest

import (
	"context"
	"math"
	mrand "math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
)

func acceptTests() []testCase[twofa.Store] {
	return []testCase[twofa.Store]{
		{"DeviceStore/AcceptCode/CompareAndSet", testAcceptCAS},
		{"DeviceStore/AcceptCode/Pending", testAcceptPending},
		{"DeviceStore/AcceptCode/ClearsResync", testAcceptClearsResync},
		{"DeviceStore/AcceptCode/Large", testAcceptLarge},
		{"DeviceStore/AcceptCode/Concurrent", testAcceptConcurrent},
		{"DeviceStore/AcceptCode/Monotonic", testAcceptMonotonic},
		{"DeviceStore/AcceptCode/ClearsBackOff", testAcceptClearsBackOff},
		{"DeviceStore/AcceptCode/ReplayKeepsThrottle", testAcceptReplayKeepsThrottle},
		{"DeviceStore/AcceptCode/Throttled", testAcceptThrottled},
		{"DeviceStore/AcceptCode/ThrottledFirst", testAcceptThrottledFirst},
		{"DeviceStore/AcceptCode/BudgetSpent", testAcceptBudgetSpent},
		{"DeviceStore/AcceptCode/FreeWhateverTheClock", testAcceptFreeWhateverTheClock},
		{"DeviceStore/AcceptCode/Scopes", testAcceptScopes},
		{"DeviceStore/AcceptCode/ConcurrentReservations", testAcceptConcurrentReservations},
	}
}

// open is a policy that never refuses: the cases that test the replay
// guard alone pass it.
var open = twofa.ThrottlePolicy{}

// acceptResult tells AcceptCode's answers apart: accepted (true), and of
// the refusals (false) a throttled one by its state, as twofa does.
type acceptResult uint8

const (
	codeAccepted acceptResult = iota + 1
	codeReplayed
	codeThrottled
)

func (r acceptResult) String() string {
	return [...]string{"none", "accepted", "replayed", "throttled"}[min(int(r), 3)]
}

// acceptCode calls s.AcceptCode and classifies its answer.
func acceptCode(s twofa.Store, ctx context.Context, account, id string, counter uint64, drift int64, at time.Time, scope string, p twofa.ThrottlePolicy) (twofa.ThrottleState, acceptResult, error) {
	st, ok, err := s.AcceptCode(ctx, account, id, counter, drift, at, scope, p, nil, nil)
	switch {
	case err != nil:
		return st, 0, err
	case ok:
		return st, codeAccepted, nil
	}
	if _, permitted := p.Reserve(st, at); !permitted {
		return st, codeThrottled, nil
	}
	return st, codeReplayed, nil
}

// accept calls AcceptCode in ScopeCode.
func accept(t *testing.T, s twofa.Store, d twofa.Device, counter uint64, drift int64, at time.Time, p twofa.ThrottlePolicy) (twofa.ThrottleState, acceptResult) {
	t.Helper()
	st, r, err := acceptCode(s, t.Context(), d.Account, d.ID, counter, drift, at, twofa.ScopeCode, p)
	if err != nil {
		t.Fatalf("AcceptCode(%d): %v", counter, err)
	}
	return st, r
}

// accepted reports whether AcceptCode under a policy that never refuses
// accepted the code; it fails the test on any result but accepted or
// replayed.
func accepted(t *testing.T, s twofa.Store, d twofa.Device, counter uint64, drift int64, at time.Time) bool {
	t.Helper()
	_, r := accept(t, s, d, counter, drift, at, open)
	switch r {
	case codeAccepted:
		return true
	case codeReplayed:
		return false
	}
	t.Fatalf("AcceptCode(%d) with a policy that never refuses = %v, want accepted or replayed", counter, r)
	return false
}

func testAcceptCAS(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := confirmed(NewDevice(acct, t0), 10)
	d.Drift = 3
	insert(t, s, d)
	want := d

	if accepted(t, s, d, 9, 1, t0.Add(time.Hour)) {
		t.Error("AcceptCode(9) with Counter 10 accepted")
	}
	unchanged(t, s, want)

	if !accepted(t, s, d, 10, -2, t0.Add(time.Hour+1)) {
		t.Fatal("AcceptCode(10) with Counter 10 did not accept")
	}
	want.Counter, want.Drift, want.LastUsedAt = 11, -2, t0.Add(time.Hour+1)
	unchanged(t, s, want)

	if accepted(t, s, d, 10, 0, t0.Add(2*time.Hour)) {
		t.Error("AcceptCode(10) again (a replay) accepted")
	}
	unchanged(t, s, want)

	if !accepted(t, s, d, 15, 0, t0.Add(3*time.Hour)) {
		t.Fatal("AcceptCode(15) with Counter 11 did not accept")
	}
	want.Counter, want.Drift, want.LastUsedAt = 16, 0, t0.Add(3*time.Hour)
	unchanged(t, s, want)

	if accepted(t, s, d, 0, 0, t0.Add(4*time.Hour)) {
		t.Error("AcceptCode(0) with Counter 16 accepted")
	}
	unchanged(t, s, want)
	wantState(t, "Throttle after AcceptCode calls on an account with no throttle", throttle(t, s, acct, twofa.ScopeCode), twofa.ThrottleState{})
}

func testAcceptPending(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := NewDevice(acct, t0)
	insert(t, s, d)
	for _, c := range []uint64{0, 1, 1 << 40} {
		if accepted(t, s, d, c, 1, t0.Add(time.Second)) {
			t.Errorf("AcceptCode(%d) of a pending device accepted", c)
		}
	}
	unchanged(t, s, d)
}

func testAcceptClearsResync(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := confirmed(NewDevice(acct, t0), 100)
	d.ResyncStep, d.ResyncDrift = 150, -4
	insert(t, s, d)
	if accepted(t, s, d, 50, 0, t0.Add(time.Hour)) {
		t.Fatal("AcceptCode(50) with Counter 100 accepted")
	}
	unchanged(t, s, d) // a refused code keeps the resync record
	if !accepted(t, s, d, 100, 2, t0.Add(time.Hour)) {
		t.Fatal("AcceptCode(100) with Counter 100 did not accept")
	}
	got := get(t, s, acct, d.ID)
	if got.ResyncStep != 0 || got.ResyncDrift != 0 {
		t.Errorf("after AcceptCode, ResyncStep, ResyncDrift = %d, %d; want 0, 0", got.ResyncStep, got.ResyncDrift)
	}
}

func testAcceptLarge(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	const top = math.MaxUint64 - 1 // the largest counter the contract allows
	d := confirmed(NewDevice(acct, t0), 1<<63-2)
	insert(t, s, d)
	at := t0
	step := func(counter uint64, want bool, wantCounter uint64) {
		t.Helper()
		at = at.Add(time.Second)
		if got := accepted(t, s, d, counter, 0, at); got != want {
			t.Errorf("AcceptCode(%d) accepted = %v, want %v", counter, got, want)
		}
		if got := get(t, s, acct, d.ID).Counter; got != wantCounter {
			t.Errorf("after AcceptCode(%d), Counter = %d, want %d", counter, got, wantCounter)
		}
	}
	step(1<<63-2, true, 1<<63-1)
	step(1<<63-1, true, 1<<63)  // across the sign bit of int64
	step(1<<63-1, false, 1<<63) // 2^63-1 < 2^63, unsigned
	step(5, false, 1<<63)
	step(1<<63+4, true, 1<<63+5)
	step(5, false, 1<<63+5)
	step(top-1, true, top)
	step(1<<62, false, top)
	step(top, true, math.MaxUint64)
	step(top, false, math.MaxUint64)
	step(0, false, math.MaxUint64)
}

func testAcceptConcurrent(t *testing.T, s twofa.Store) {
	const n = 200
	acct := NewAccount()
	d := confirmed(NewDevice(acct, t0), 1000)
	insert(t, s, d)
	// A back-off that permits these attempts (its failures are free), to
	// be cleared by the one that wins.
	for range 3 {
		reserve(t, s, acct, twofa.ScopeCode, t0, codeThrottle)
	}
	wins := count(n, func(i int) bool {
		_, r, err := acceptCode(s, t.Context(), acct, d.ID, 1000, int64(i), t0.Add(time.Hour), twofa.ScopeCode, codeThrottle)
		if err != nil {
			t.Errorf("AcceptCode: %v", err)
		}
		if r != codeAccepted && r != codeReplayed {
			t.Errorf("AcceptCode under a permitting throttle = %v, want accepted or replayed", r)
		}
		return r == codeAccepted
	})
	if wins != 1 {
		t.Errorf("%d concurrent AcceptCode calls with one counter: %d accepted, want exactly 1", n, wins)
	}
	if got := get(t, s, acct, d.ID).Counter; got != 1001 {
		t.Errorf("Counter = %d, want 1001", got)
	}
	if st := throttle(t, s, acct, twofa.ScopeCode); st.Failures != 0 || !st.Until.IsZero() {
		t.Errorf("Throttle after the accepted code = %s, want the back-off cleared", fmtState(st))
	}
}

func testAcceptMonotonic(t *testing.T, s twofa.Store) {
	const n = 200
	acct := NewAccount()
	d := confirmed(NewDevice(acct, t0), 0)
	insert(t, s, d)
	counters := make([]uint64, n)
	for i := range counters {
		counters[i] = mrand.Uint64N(1000)
	}
	const highest = 5000 // once, so that exactly one call carries the maximum
	counters[mrand.IntN(n)] = highest
	var wins atomic.Int32
	var highWon atomic.Bool
	parallel(n, func(i int) {
		c := counters[i]
		_, r, err := acceptCode(s, t.Context(), acct, d.ID, c, int64(c), t0.Add(time.Duration(c)*time.Second), twofa.ScopeCode, open)
		if err != nil {
			t.Errorf("AcceptCode: %v", err)
		}
		if r == codeAccepted {
			wins.Add(1)
			if c == highest {
				highWon.Store(true)
			}
		}
	})
	if !highWon.Load() {
		t.Error("AcceptCode with the highest counter did not accept")
	}
	got := get(t, s, acct, d.ID)
	if got.Counter != highest+1 || got.Drift != highest || !got.LastUsedAt.Equal(t0.Add(highest*time.Second)) {
		t.Errorf("after concurrent AcceptCode calls: Counter %d, Drift %d, LastUsedAt %v; want %d, %d, %v (the highest call's)",
			got.Counter, got.Drift, fmtTime(got.LastUsedAt), highest+1, highest, fmtTime(t0.Add(highest*time.Second)))
	}
	t.Logf("%d of %d calls accepted", wins.Load(), n)
}

// An accepted code clears the back-off (Failures and Until), as
// ReleaseAttempt after a success does, and leaves the budget (Forgiven) as
// it was; the state it reports is the one stored.
func testAcceptClearsBackOff(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := confirmed(NewDevice(acct, t0), 10)
	insert(t, s, d)
	p := codeThrottle
	var st twofa.ThrottleState
	for range p.Free {
		st, _ = reserve(t, s, acct, twofa.ScopeCode, t0, p)
	}
	if st.Failures != p.Free || st.Forgiven.IsZero() {
		t.Fatalf("after %d reservations the throttle is %s", p.Free, fmtState(st))
	}
	at := t0.Add(time.Minute)
	got, r := accept(t, s, d, 10, 1, at, p)
	if r != codeAccepted {
		t.Fatalf("AcceptCode with %d free failures = %v, want accepted", p.Free, r)
	}
	want := twofa.ThrottleState{Forgiven: st.Forgiven}
	wantState(t, "AcceptCode's state", got, want)
	wantState(t, "Throttle after AcceptCode", throttle(t, s, acct, twofa.ScopeCode), want)
	d.Counter, d.Drift, d.LastUsedAt = 11, 1, at
	unchanged(t, s, d)

	// A back-off with no budget behind it: nothing is left.
	acct = NewAccount()
	d = confirmed(NewDevice(acct, t0), 10)
	insert(t, s, d)
	backOff := twofa.ThrottlePolicy{Free: 0, Base: time.Second, Max: time.Minute}
	reserve(t, s, acct, twofa.ScopeCode, t0, backOff)
	got, r = accept(t, s, d, 10, 0, t0.Add(time.Second), backOff)
	if r != codeAccepted {
		t.Fatalf("AcceptCode at Until = %v, want accepted", r)
	}
	wantState(t, "AcceptCode's state", got, twofa.ThrottleState{})
	wantState(t, "Throttle after AcceptCode", throttle(t, s, acct, twofa.ScopeCode), twofa.ThrottleState{})
}

// A replayed code (the throttle permitting) changes nothing, the
// throttle's back-off included.
func testAcceptReplayKeepsThrottle(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := confirmed(NewDevice(acct, t0), 10)
	d.ResyncStep, d.ResyncDrift = 20, 2
	insert(t, s, d)
	p := codeThrottle
	var st twofa.ThrottleState
	for range 3 {
		st, _ = reserve(t, s, acct, twofa.ScopeCode, t0, p)
	}
	for _, c := range []uint64{0, 9} {
		got, r := accept(t, s, d, c, 1, t0.Add(time.Minute), p)
		if r != codeReplayed {
			t.Errorf("AcceptCode(%d) with Counter 10 = %v, want replayed", c, r)
		}
		wantState(t, "AcceptCode's state", got, st)
	}
	wantState(t, "Throttle after replayed codes", throttle(t, s, acct, twofa.ScopeCode), st)
	unchanged(t, s, d)
}

// While the back-off runs, AcceptCode refuses and changes nothing, and at
// Until it accepts again.
func testAcceptThrottled(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := confirmed(NewDevice(acct, t0), 10)
	insert(t, s, d)
	p := twofa.ThrottlePolicy{Free: 1, Base: time.Hour, Max: 2 * time.Hour}
	reserve(t, s, acct, twofa.ScopeCode, t0, p)
	st, _ := reserve(t, s, acct, twofa.ScopeCode, t0, p)
	if st.Failures != 2 || !st.Until.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after 2 reservations the throttle is %s", fmtState(st))
	}
	for _, at := range []time.Time{t0, t0.Add(time.Hour - 1), t0.Add(-time.Hour)} {
		got, r := accept(t, s, d, 10, 1, at, p)
		if r != codeThrottled {
			t.Errorf("AcceptCode %v before Until = %v, want throttled", st.Until.Sub(at), r)
		}
		wantState(t, "throttled AcceptCode's state", got, st)
	}
	wantState(t, "Throttle after throttled AcceptCode calls", throttle(t, s, acct, twofa.ScopeCode), st)
	unchanged(t, s, d)

	at := t0.Add(time.Hour)
	if _, r := accept(t, s, d, 10, 1, at, p); r != codeAccepted {
		t.Fatalf("AcceptCode at Until = %v, want accepted", r)
	}
	wantState(t, "Throttle after AcceptCode", throttle(t, s, acct, twofa.ScopeCode), twofa.ThrottleState{})
	d.Counter, d.Drift, d.LastUsedAt = 11, 1, at
	unchanged(t, s, d)
}

// The throttle is checked before the device: a refused attempt is told
// nothing else, not that its code is replayed, not that the device does
// not exist.
func testAcceptThrottledFirst(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := confirmed(NewDevice(acct, t0), 10)
	pending := NewDevice(acct, t0)
	insert(t, s, d, pending)
	p := twofa.ThrottlePolicy{Free: 0, Base: time.Hour, Max: time.Hour}
	st, _ := reserve(t, s, acct, twofa.ScopeCode, t0, p)
	unknown := d
	unknown.ID += "X"
	for _, c := range []struct {
		what    string
		d       twofa.Device
		counter uint64
	}{
		{"a replayed code", d, 9},
		{"a pending device", pending, 10},
		{"an unknown device", unknown, 10},
	} {
		got, r, err := acceptCode(s, t.Context(), acct, c.d.ID, c.counter, 0, t0, twofa.ScopeCode, p)
		if err != nil || r != codeThrottled {
			t.Errorf("AcceptCode of %s while the back-off runs = %v, %v; want throttled, nil", c.what, r, err)
		}
		wantState(t, "throttled AcceptCode's state", got, st)
	}
	wantState(t, "Throttle after throttled AcceptCode calls", throttle(t, s, acct, twofa.ScopeCode), st)
	unchanged(t, s, d)
	unchanged(t, s, pending)
}

// A spent budget refuses AcceptCode as it refuses ReserveAttempt, and a
// Refill later it accepts, leaving the budget as it was.
func testAcceptBudgetSpent(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := confirmed(NewDevice(acct, t0), 10)
	insert(t, s, d)
	p := twofa.ThrottlePolicy{Budget: 3, Refill: time.Hour}
	var st twofa.ThrottleState
	for range p.Budget {
		st, _ = reserve(t, s, acct, twofa.ScopeCode, t0, p)
	}
	if _, ok := reserve(t, s, acct, twofa.ScopeCode, t0, p); ok {
		t.Fatalf("ReserveAttempt with the budget spent reported true")
	}
	for _, at := range []time.Time{t0, t0.Add(time.Hour - 1)} {
		got, r := accept(t, s, d, 10, 0, at, p)
		if r != codeThrottled {
			t.Errorf("AcceptCode %v after the budget was spent = %v, want throttled", at.Sub(t0), r)
		}
		wantState(t, "throttled AcceptCode's state", got, st)
	}
	wantState(t, "Throttle after throttled AcceptCode calls", throttle(t, s, acct, twofa.ScopeCode), st)
	unchanged(t, s, d)

	at := t0.Add(time.Hour)
	got, r := accept(t, s, d, 10, 0, at, p)
	if r != codeAccepted {
		t.Fatalf("AcceptCode a Refill later = %v, want accepted", r)
	}
	want := twofa.ThrottleState{Forgiven: st.Forgiven}
	wantState(t, "AcceptCode's state", got, want)
	wantState(t, "Throttle after AcceptCode", throttle(t, s, acct, twofa.ScopeCode), want)
}

// Failures within Free are never refused, whatever Until holds.
func testAcceptFreeWhateverTheClock(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := confirmed(NewDevice(acct, t0), 10)
	insert(t, s, d)
	// A store of one policy keeps the state another policy left: Until
	// in the future, Failures within this policy's Free.
	reserve(t, s, acct, twofa.ScopeCode, t0, twofa.ThrottlePolicy{Free: 0, Base: time.Hour, Max: time.Hour})
	p := twofa.ThrottlePolicy{Free: 1, Base: time.Hour, Max: time.Hour}
	if _, r := accept(t, s, d, 10, 0, t0, p); r != codeAccepted {
		t.Errorf("AcceptCode with 1 failure of 1 free, before Until = %v, want accepted", r)
	}
	wantState(t, "Throttle after AcceptCode", throttle(t, s, acct, twofa.ScopeCode), twofa.ThrottleState{})
}

// AcceptCode reads and clears the throttle of its scope only.
func testAcceptScopes(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := confirmed(NewDevice(acct, t0), 10)
	insert(t, s, d)
	p := twofa.ThrottlePolicy{Free: 0, Base: time.Hour, Max: time.Hour}
	other, _ := reserve(t, s, acct, twofa.ScopeRecovery, t0, p)
	if _, r := accept(t, s, d, 10, 0, t0, p); r != codeAccepted {
		t.Fatalf("AcceptCode with a back-off in another scope = %v, want accepted", r)
	}
	wantState(t, "Throttle in another scope", throttle(t, s, acct, twofa.ScopeRecovery), other)
	code, _ := reserve(t, s, acct, twofa.ScopeCode, t0, p)
	if _, r := accept(t, s, d, 11, 0, t0, p); r != codeThrottled {
		t.Errorf("AcceptCode with a back-off in its scope = %v, want throttled", r)
	}
	wantState(t, "Throttle in its scope", throttle(t, s, acct, twofa.ScopeCode), code)
	wantState(t, "Throttle in another scope", throttle(t, s, acct, twofa.ScopeRecovery), other)
}

// Concurrent reservations and accepted codes: every call of either is
// decided on a state no other call is changing, so no reservation passes a
// back-off that an earlier one set and no code is accepted through one.
func testAcceptConcurrentReservations(t *testing.T, s twofa.Store) {
	const n = 100
	acct := NewAccount()
	d := confirmed(NewDevice(acct, t0), 0)
	insert(t, s, d)
	// No free failures and a back-off that outlasts the test: once one
	// reservation has counted, everything is refused.
	p := twofa.ThrottlePolicy{Free: 0, Base: time.Hour, Max: time.Hour}
	var reserved, acceptedCodes atomic.Int32
	parallel(n, func(i int) {
		if i%2 == 0 {
			_, ok, err := s.ReserveAttempt(t.Context(), acct, twofa.ScopeCode, t0, p)
			if err != nil {
				t.Errorf("ReserveAttempt: %v", err)
			}
			if ok {
				reserved.Add(1)
			}
			return
		}
		_, r, err := acceptCode(s, t.Context(), acct, d.ID, uint64(i), 0, t0, twofa.ScopeCode, p)
		if err != nil {
			t.Errorf("AcceptCode: %v", err)
		}
		if r == codeAccepted {
			acceptedCodes.Add(1)
		}
	})
	// Each accepted code clears the back-off and may let one more
	// reservation in; without one, a single reservation passes.
	if r, a := reserved.Load(), acceptedCodes.Load(); r < 1 || r > a+1 {
		t.Errorf("%d concurrent calls: %d reservations passed and %d codes accepted; want between 1 and accepted+1 reservations", n, r, a)
	}
}
