package storetest_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/storetest"
)

func TestRunMemstore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) twofa.Store { return memstore.New() })
}

func TestNewDevice(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	a, b := storetest.NewDevice("alice", now), storetest.NewDevice("alice", now)
	if a.ID == b.ID || string(a.Sealed) == string(b.Sealed) {
		t.Error("two NewDevice calls share an ID or sealed bytes")
	}
	if a.Account != "alice" || a.State != twofa.DevicePending || !a.CreatedAt.Equal(now) || !a.ExpiresAt.After(now) {
		t.Errorf("NewDevice = %+v, want a pending device of alice created at now, expiring later", a)
	}
	s := memstore.New()
	if err := s.InsertDevice(t.Context(), a, 1, now); err != nil {
		t.Errorf("InsertDevice(NewDevice(...)): %v", err)
	}
	if x, y := storetest.NewAccount(), storetest.NewAccount(); x == y {
		t.Error("two NewAccount calls returned the same name")
	}
}

// A mutant is a store with one planted bug, and the subtest of the suite
// that must catch it.
type mutant struct {
	catch string // subtest path below Run's test
	want  string // text the failure output must contain
	store func() twofa.Store
}

var mutants = map[string]mutant{
	"NilStore": {
		catch: "DeviceStore/Device/NotFound", // any: Run fails before subtests
		want:  "newStore returned a nil Store",
		store: func() twofa.Store { return nil },
	},
	"TypedNilStore": {
		catch: "DeviceStore/Device/NotFound",
		want:  "newStore returned a nil Store (*memstore.Store)",
		store: func() twofa.Store { return (*memstore.Store)(nil) },
	},
	"LockIgnoresHolder": {
		catch: "LockStore/AcquireLock/Exclusive",
		want:  "a second holder got a lock whose lease still runs",
		store: func() twofa.Store { return lockIgnoresHolder{memstore.New()} },
	},
	"LockNeverExpires": {
		catch: "LockStore/AcquireLock/Expired",
		want:  "an expired lease was not taken over",
		store: func() twofa.Store { return lockNeverExpires{memstore.New()} },
	},
	"LockNotReentrant": {
		catch: "LockStore/AcquireLock/Reentrant",
		want:  "could not take its own lock again",
		store: func() twofa.Store { return &lockNotReentrant{Store: memstore.New()} },
	},
	"ReleaseAnyHolder": {
		catch: "LockStore/ReleaseLock/NotHolder",
		want:  "ReleaseLock by another holder ended the lease",
		store: func() twofa.Store { return &releaseAnyHolder{Store: memstore.New(), holders: map[string]string{}} },
	},
	"IgnoresContext": {
		catch: "DeviceStore/RenameDevice/Cancelled",
		want:  "wrapping context.Canceled",
		store: func() twofa.Store { return ignoresContext{memstore.New()} },
	},
	"ReversedOrder": {
		catch: "DeviceStore/Devices/Order",
		want:  "Devices order",
		store: func() twofa.Store { return reversed{memstore.New()} },
	},
	"UnwrappedNotFound": {
		catch: "DeviceStore/RenameDevice/NotFound",
		want:  "want an error wrapping twofa: not found",
		store: func() twofa.Store { return unwrapped{memstore.New()} },
	},
	"LimitOffByOne": {
		catch: "DeviceStore/InsertDevice/Limit",
		want:  "InsertDevice #4 with limit 3",
		store: func() twofa.Store { return limitOffByOne{memstore.New()} },
	},
	"ExpiryOffByOne": {
		catch: "DeviceStore/InsertDevice/ExpiredPending",
		want:  "InsertDevice with limit 2, one live pending",
		store: func() twofa.Store { return expiryOffByOne{memstore.New()} },
	},
	"DelayOffByOne": {
		catch: "ThrottleStore/ReserveAttempt/Policy/MaxCentury",
		want:  "ReserveAttempt",
		store: func() twofa.Store { return delayOffByOne{memstore.New()} },
	},
	"RacyReservation": {
		catch: "DeviceStore/ReserveDeviceAttempt/Concurrent",
		want:  "with limit 5 allowed counts",
		store: func() twofa.Store { return racyReservation{memstore.New()} },
	},
	"DeleteForgetsState": {
		catch: "DeviceStore/DeleteDevice/ReturnsDeleted",
		want:  "deleted device",
		store: func() twofa.Store { return deleteForgetsState{memstore.New()} },
	},
	"RacyInsert": {
		catch: "DeviceStore/InsertDevice/Concurrent",
		want:  "concurrent inserts with limit 10",
		store: func() twofa.Store { return racyInsert{memstore.New()} },
	},
	"SignedCounter": {
		catch: "DeviceStore/AcceptCode/Large",
		want:  "AcceptCode(9223372036854775807) accepted = true, want false",
		store: func() twofa.Store { return signedCounter{memstore.New()} },
	},
	"MicrosecondTimes": {
		catch: "DeviceStore/InsertDevice/RoundTrip",
		want:  "CreatedAt =",
		store: func() twofa.Store { return microseconds{memstore.New()} },
	},
	"ConfirmPlusOne": {
		catch: "DeviceStore/ConfirmDevice/Pending",
		want:  "Counter = 18, want 17",
		store: func() twofa.Store { return confirmPlusOne{memstore.New()} },
	},
	"KeepsResync": {
		catch: "DeviceStore/AcceptCode/ClearsResync",
		want:  "want 0, 0",
		store: func() twofa.Store { return keepsResync{memstore.New()} },
	},
	"RefusedAtUntil": {
		catch: "ThrottleStore/ReserveAttempt/Refused",
		want:  "ReserveAttempt at Until reported false",
		store: func() twofa.Store { return refusedAtUntil{memstore.New()} },
	},
	"RefusedBeforeUntilWhileFree": {
		catch: "ThrottleStore/ReserveAttempt/FreeWhateverTheClock",
		want:  "free failure 2",
		store: func() twofa.Store { return refusedBeforeUntil{memstore.New()} },
	},
	"SuccessForgetsBudget": {
		catch: "ThrottleStore/ReleaseAttempt/Clears",
		want:  "Throttle after ReleaseAttempt",
		store: func() twofa.Store { return successForgetsBudget{memstore.New()} },
	},
	"BudgetIgnored": {
		catch: "ThrottleStore/ReserveAttempt/Budget",
		want:  "failure 1 = ",
		store: func() twofa.Store { return budgetIgnored{memstore.New()} },
	},
	"ResetAllScopes": {
		catch: "ThrottleStore/ResetThrottle/Resets",
		want:  "Throttle in another scope",
		store: func() twofa.Store { return resetAllScopes{memstore.New()} },
	},
	"TiesByID": {
		catch: "DeviceStore/Devices/Order",
		want:  "ties in insertion order",
		store: func() twofa.Store { return tiesByID{memstore.New()} },
	},
	"CancelledReportsTrue": {
		catch: "DeviceStore/AcceptCode/Cancelled",
		want:  "AcceptCode with a cancelled context, result 2: true, want false",
		store: func() twofa.Store { return cancelledTrue{memstore.New()} },
	},
	"ReservesThenCancels": {
		catch: "ThrottleStore/ReserveAttempt/CancelledFreshAccount",
		want:  "after a cancelled ReserveAttempt/FreshAccount",
		store: func() twofa.Store { return reservesThenCancels{memstore.New()} },
	},
	"HasIgnoresAccount": {
		catch: "AppPasswordStore/HasAppPasswords/Reports",
		want:  "HasAppPasswords of a fresh account = true",
		store: func() twofa.Store { return hasAny{memstore.New()} },
	},
	"DeleteAllIgnoresContext": {
		catch: "AppPasswordStore/DeleteAppPasswords/Cancelled",
		want:  "after a cancelled DeleteAppPasswords: 0 elements, want 1",
		store: func() twofa.Store { return deleteAllIgnoresContext{memstore.New()} },
	},
	"AcceptIgnoresAccount": {
		catch: "DeviceStore/AcceptCode/NotFound",
		want:  "AcceptCode of another account's device, result 2: true, want false",
		store: func() twofa.Store { return &ignoresAccount{Store: memstore.New(), owner: map[string]string{}} },
	},
	"PageIncludesKey": {
		catch: "DeviceStore/DevicesAfter/Bounds",
		want:  "want the next one",
		store: func() twofa.Store { return pageIncludesKey{memstore.New()} },
	},
	"PageIgnoresAccount": {
		catch: "DeviceStore/DevicesAfter/Order",
		want:  "DevicesAfter with limit 1:",
		store: func() twofa.Store { return pageIgnoresAccount{memstore.New()} },
	},
	"PageFoldsCase": {
		catch: "DeviceStore/DevicesAfter/Order",
		want:  "as bytes",
		store: func() twofa.Store { return pageFoldsCase{memstore.New()} },
	},
	"PageOverLimit": {
		catch: "DeviceStore/DevicesAfter/Order",
		want:  "DevicesAfter(..., 1), page 1: 2 devices",
		store: func() twofa.Store { return pageOverLimit{memstore.New()} },
	},
	"PageIgnoresContext": {
		catch: "DeviceStore/DevicesAfter/Cancelled",
		want:  "DevicesAfter with a cancelled context",
		store: func() twofa.Store { return pageIgnoresContext{memstore.New()} },
	},
	"PurgesFailures": {
		catch: "ThrottleStore/DeleteIdleThrottles/Idle",
		want:  "Throttle of a state that is not idle (code",
		store: func() twofa.Store { return newPurger(purgesFailures) },
	},
	"PurgeIgnoresBudget": {
		catch: "ThrottleStore/DeleteIdleThrottles/Idle",
		want:  "Throttle of a state that is not idle (recovery, {Failures 0",
		store: func() twofa.Store { return newPurger(purgeIgnoresBudget) },
	},
	"PurgeIgnoresContext": {
		catch: "ThrottleStore/DeleteIdleThrottles/Cancelled",
		want:  "after a cancelled DeleteIdleThrottles",
		store: func() twofa.Store { return newPurger(purgeIgnoresContext) },
	},
	"AcceptIgnoresThrottle": {
		catch: "DeviceStore/AcceptCode/Throttled",
		want:  "before Until = accepted, want throttled",
		store: func() twofa.Store { return acceptIgnoresThrottle{memstore.New()} },
	},
	"AcceptIgnoresBudget": {
		catch: "DeviceStore/AcceptCode/BudgetSpent",
		want:  "after the budget was spent = accepted, want throttled",
		store: func() twofa.Store { return acceptIgnoresBudget{memstore.New()} },
	},
	"AcceptKeepsFailures": {
		catch: "DeviceStore/AcceptCode/ClearsBackOff",
		want:  "AcceptCode's state = {Failures 5",
		store: func() twofa.Store { return acceptKeepsFailures{memstore.New()} },
	},
	"AcceptClearsBudget": {
		catch: "DeviceStore/AcceptCode/ClearsBackOff",
		want:  "Throttle after AcceptCode = {Failures 0, Until zero Time, Forgiven zero Time}",
		store: func() twofa.Store { return acceptClearsBudget{memstore.New()} },
	},
	"AcceptCASOffByOne": {
		catch: "DeviceStore/AcceptCode/CompareAndSet",
		want:  "AcceptCode(10) with Counter 10 did not accept",
		store: func() twofa.Store { return acceptCASOffByOne{memstore.New()} },
	},
	"AcceptDeviceFirst": {
		catch: "DeviceStore/AcceptCode/ThrottledFirst",
		want:  "AcceptCode of an unknown device while the back-off runs",
		store: func() twofa.Store { return acceptDeviceFirst{memstore.New()} },
	},
	"RacyAccept": {
		catch: "DeviceStore/AcceptCode/Concurrent",
		want:  "want exactly 1",
		store: func() twofa.Store { return racyAccept{memstore.New()} },
	},
	"AliasedSealed": {
		catch: "DeviceStore/Device/NoAliasing",
		want:  "Sealed =",
		store: func() twofa.Store { return &aliased{Store: memstore.New(), cache: map[string][]byte{}} },
	},
}

// TestMutant runs the suite against the mutant named by $STORETEST_MUTANT;
// TestMutants starts it in a subprocess, where it must fail.
func TestMutant(t *testing.T) {
	name := os.Getenv("STORETEST_MUTANT")
	if name == "" {
		t.Skip("run by TestMutants")
	}
	m := mutants[name]
	storetest.Run(t, func(t *testing.T) twofa.Store { return m.store() })
}

func TestMutants(t *testing.T) {
	runMutants(t, "STORETEST_MUTANT", "TestMutant", mutants,
		func(m mutant) (string, string) { return m.catch, m.want }, "NilStore", "TypedNilStore")
}

// runMutants runs, for each mutant, the test named test in a subprocess
// with $env set to the mutant's name; the subprocess must fail, in the
// subtest path catch (unless the mutant is one of whole, which fail the
// run as a whole), with want in its output.
func runMutants[M any](t *testing.T, env, test string, ms map[string]M, spec func(M) (catch, want string), whole ...string) {
	if os.Getenv(env) != "" {
		t.Skip("inside a mutant run")
	}
	names := make([]string, 0, len(ms))
	for name := range ms {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		catch, want := spec(ms[name])
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pattern := "^" + test + "$"
			for _, e := range strings.Split(catch, "/") {
				pattern += "/^" + regexp.QuoteMeta(e) + "$"
			}
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run="+pattern, "-test.count=1", "-test.timeout=2m")
			cmd.Env = append(os.Environ(), env+"="+name)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("the suite passed a store with a planted bug (err %v):\n%s", err, out)
			}
			if !strings.Contains(string(out), want) {
				t.Errorf("the suite failed, but its output lacks %q:\n%s", want, out)
			}
			if !slices.Contains(whole, name) && !strings.Contains(string(out), "--- FAIL: "+test+"/"+catch) {
				t.Errorf("subtest %s did not fail:\n%s", catch, out)
			}
		})
	}
}

// The mutants. Each embeds a working store and plants one bug.

// lockIgnoresHolder grants every lease.
type lockIgnoresHolder struct{ *memstore.Store }

func (s lockIgnoresHolder) AcquireLock(ctx context.Context, account, holder string, now, until time.Time) (bool, error) {
	_, err := s.Store.AcquireLock(ctx, account, holder, now, until)
	return true, err
}

// lockNeverExpires keeps a lease an hour past its end.
type lockNeverExpires struct{ *memstore.Store }

func (s lockNeverExpires) AcquireLock(ctx context.Context, account, holder string, now, until time.Time) (bool, error) {
	return s.Store.AcquireLock(ctx, account, holder, now.Add(-time.Hour), until)
}

// lockNotReentrant takes every lease as a holder of its own.
type lockNotReentrant struct {
	*memstore.Store
	n atomic.Int64
}

func (s *lockNotReentrant) AcquireLock(ctx context.Context, account, holder string, now, until time.Time) (bool, error) {
	return s.Store.AcquireLock(ctx, account, fmt.Sprint(holder, "#", s.n.Add(1)), now, until)
}

// releaseAnyHolder ends the lease whoever asks.
type releaseAnyHolder struct {
	*memstore.Store
	mu      sync.Mutex
	holders map[string]string
}

func (s *releaseAnyHolder) AcquireLock(ctx context.Context, account, holder string, now, until time.Time) (bool, error) {
	ok, err := s.Store.AcquireLock(ctx, account, holder, now, until)
	if ok {
		s.mu.Lock()
		s.holders[account] = holder
		s.mu.Unlock()
	}
	return ok, err
}

func (s *releaseAnyHolder) ReleaseLock(ctx context.Context, account, _ string) error {
	s.mu.Lock()
	h := s.holders[account]
	s.mu.Unlock()
	return s.Store.ReleaseLock(ctx, account, h)
}

type ignoresContext struct{ *memstore.Store }

func (s ignoresContext) RenameDevice(_ context.Context, account, id, label string) error {
	return s.Store.RenameDevice(context.Background(), account, id, label)
}

type reversed struct{ *memstore.Store }

func (s reversed) Devices(ctx context.Context, account string) ([]twofa.Device, error) {
	ds, err := s.Store.Devices(ctx, account)
	slices.Reverse(ds)
	return ds, err
}

type unwrapped struct{ *memstore.Store }

func (s unwrapped) RenameDevice(ctx context.Context, account, id, label string) error {
	if err := s.Store.RenameDevice(ctx, account, id, label); err != nil {
		return fmt.Errorf("rename: %v", err)
	}
	return nil
}

type limitOffByOne struct{ *memstore.Store }

func (s limitOffByOne) InsertDevice(ctx context.Context, d twofa.Device, limit int, now time.Time) error {
	return s.Store.InsertDevice(ctx, d, limit+1, now)
}

// expiryOffByOne treats a device expiring exactly now as live.
type expiryOffByOne struct{ *memstore.Store }

func (s expiryOffByOne) InsertDevice(ctx context.Context, d twofa.Device, limit int, now time.Time) error {
	return s.Store.InsertDevice(ctx, d, limit, now.Add(-1))
}

type delayOffByOne struct{ *memstore.Store }

func (s delayOffByOne) ReserveAttempt(ctx context.Context, account, scope string, now time.Time, p twofa.ThrottlePolicy) (twofa.ThrottleState, bool, error) {
	p.Free++
	return s.Store.ReserveAttempt(ctx, account, scope, now, p)
}

// racyReservation reads Attempts, then counts unconditionally.
type racyReservation struct{ *memstore.Store }

func (s racyReservation) ReserveDeviceAttempt(ctx context.Context, account, id string, limit int, old, mac []byte) (int, bool, error) {
	d, err := s.Device(ctx, account, id)
	if err != nil {
		return 0, false, err
	}
	if d.State != twofa.DevicePending || d.Attempts >= limit {
		return d.Attempts, false, nil
	}
	time.Sleep(time.Millisecond)
	return s.Store.ReserveDeviceAttempt(ctx, account, id, math.MaxInt, old, mac)
}

// deleteForgetsState returns only the deleted device's ID and account:
// callers cannot tell what state it was in.
type deleteForgetsState struct{ *memstore.Store }

func (s deleteForgetsState) DeleteDevice(ctx context.Context, account, id string) (twofa.Device, int, error) {
	_, left, err := s.Store.DeleteDevice(ctx, account, id)
	return twofa.Device{ID: id, Account: account}, left, err
}

// racyInsert counts, then inserts.
type racyInsert struct{ *memstore.Store }

func (s racyInsert) InsertDevice(ctx context.Context, d twofa.Device, limit int, now time.Time) error {
	ds, err := s.Devices(ctx, d.Account)
	if err != nil {
		return err
	}
	if len(ds) >= limit {
		return twofa.ErrLimitReached
	}
	runtime.Gosched()
	time.Sleep(time.Millisecond)
	return s.Store.InsertDevice(ctx, d, math.MaxInt, now)
}

// aliased hands out the same Sealed slice on every read.
type aliased struct {
	*memstore.Store
	mu    sync.Mutex
	cache map[string][]byte
}

func (s *aliased) Device(ctx context.Context, account, id string) (twofa.Device, error) {
	d, err := s.Store.Device(ctx, account, id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.cache[account+"/"+id]; ok {
		d.Sealed = b
	} else {
		s.cache[account+"/"+id] = d.Sealed
	}
	return d, err
}

// signedCounter compares counters as int64, as a careless SQL store would.
type signedCounter struct{ *memstore.Store }

func (s signedCounter) AcceptCode(ctx context.Context, account, id string, counter uint64, drift int64, at time.Time, scope string, p twofa.ThrottlePolicy, old, mac []byte) (twofa.ThrottleState, bool, error) {
	d, err := s.Device(ctx, account, id)
	if err != nil {
		return twofa.ThrottleState{}, false, err
	}
	if d.State == twofa.DeviceConfirmed && int64(counter) >= int64(d.Counter) && counter < d.Counter {
		return twofa.ThrottleState{}, true, nil
	}
	return s.Store.AcceptCode(ctx, account, id, counter, drift, at, scope, p, old, mac)
}

// microseconds keeps times to the microsecond, as PostgreSQL's timestamptz.
type microseconds struct{ *memstore.Store }

func (s microseconds) InsertDevice(ctx context.Context, d twofa.Device, limit int, now time.Time) error {
	for _, tm := range []*time.Time{&d.CreatedAt, &d.ExpiresAt, &d.ConfirmedAt, &d.LastUsedAt} {
		*tm = tm.Truncate(time.Microsecond)
	}
	return s.Store.InsertDevice(ctx, d, limit, now)
}

type confirmPlusOne struct{ *memstore.Store }

func (s confirmPlusOne) ConfirmDevice(ctx context.Context, account, id string, counter uint64, drift int64, at time.Time, maxAttempts int, old, mac []byte) (bool, error) {
	return s.Store.ConfirmDevice(ctx, account, id, counter+1, drift, at, maxAttempts, old, mac)
}

type keepsResync struct{ *memstore.Store }

func (s keepsResync) AcceptCode(ctx context.Context, account, id string, counter uint64, drift int64, at time.Time, scope string, p twofa.ThrottlePolicy, old, mac []byte) (twofa.ThrottleState, bool, error) {
	d, err := s.Device(ctx, account, id)
	if err != nil {
		return twofa.ThrottleState{}, false, err
	}
	st, r, err := s.Store.AcceptCode(ctx, account, id, counter, drift, at, scope, p, old, mac)
	if err == nil && r {
		_, err = s.SetResync(ctx, account, id, d.ResyncStep, d.ResyncDrift, nil, nil)
	}
	return st, r, err
}

type refusedAtUntil struct{ *memstore.Store }

func (s refusedAtUntil) ReserveAttempt(ctx context.Context, account, scope string, now time.Time, p twofa.ThrottlePolicy) (twofa.ThrottleState, bool, error) {
	st, err := s.Throttle(ctx, account, scope)
	if err == nil && st.Until.Equal(now) && st.Failures > 0 {
		return st, false, nil
	}
	return s.Store.ReserveAttempt(ctx, account, scope, now, p)
}

// refusedBeforeUntil refuses any attempt before the stored Until, even
// while the failures are free (a back-off of zero).
type refusedBeforeUntil struct{ *memstore.Store }

func (s refusedBeforeUntil) ReserveAttempt(ctx context.Context, account, scope string, now time.Time, p twofa.ThrottlePolicy) (twofa.ThrottleState, bool, error) {
	st, err := s.Throttle(ctx, account, scope)
	if err == nil && now.Before(st.Until) {
		return st, false, nil
	}
	return s.Store.ReserveAttempt(ctx, account, scope, now, p)
}

// successForgetsBudget clears the whole state on a success.
type successForgetsBudget struct{ *memstore.Store }

func (s successForgetsBudget) ReleaseAttempt(ctx context.Context, account, scope string, refund time.Duration, success bool) error {
	if success {
		return s.Store.ResetThrottle(ctx, account, scope)
	}
	return s.Store.ReleaseAttempt(ctx, account, scope, refund, success)
}

// budgetIgnored keeps no budget.
type budgetIgnored struct{ *memstore.Store }

func (s budgetIgnored) ReserveAttempt(ctx context.Context, account, scope string, now time.Time, p twofa.ThrottlePolicy) (twofa.ThrottleState, bool, error) {
	p.Budget, p.Refill = 0, 0
	return s.Store.ReserveAttempt(ctx, account, scope, now, p)
}

type resetAllScopes struct{ *memstore.Store }

func (s resetAllScopes) ResetThrottle(ctx context.Context, account, scope string) error {
	for _, sc := range []string{twofa.ScopeCode, twofa.ScopeRecovery, scope} {
		if err := s.Store.ResetThrottle(ctx, account, sc); err != nil {
			return err
		}
	}
	return nil
}

// tiesByID breaks CreatedAt ties by ID instead of insertion order.
type tiesByID struct{ *memstore.Store }

func (s tiesByID) Devices(ctx context.Context, account string) ([]twofa.Device, error) {
	ds, err := s.Store.Devices(ctx, account)
	slices.SortStableFunc(ds, func(a, b twofa.Device) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return ds, err
}

// cancelledTrue reports a success along with the cancellation.
type cancelledTrue struct{ *memstore.Store }

func (s cancelledTrue) AcceptCode(ctx context.Context, account, id string, counter uint64, drift int64, at time.Time, scope string, p twofa.ThrottlePolicy, old, mac []byte) (twofa.ThrottleState, bool, error) {
	if err := ctx.Err(); err != nil {
		return twofa.ThrottleState{}, true, err
	}
	return s.Store.AcceptCode(ctx, account, id, counter, drift, at, scope, p, old, mac)
}

// reservesThenCancels counts the attempt, then reports the cancellation.
type reservesThenCancels struct{ *memstore.Store }

func (s reservesThenCancels) ReserveAttempt(ctx context.Context, account, scope string, now time.Time, p twofa.ThrottlePolicy) (twofa.ThrottleState, bool, error) {
	st, ok, err := s.Store.ReserveAttempt(context.WithoutCancel(ctx), account, scope, now, p)
	if ctx.Err() != nil {
		return twofa.ThrottleState{}, false, ctx.Err()
	}
	return st, ok, err
}

type deleteAllIgnoresContext struct{ *memstore.Store }

// hasAny reports an app password for every account.
type hasAny struct{ *memstore.Store }

func (hasAny) HasAppPasswords(context.Context, string) (bool, error) { return true, nil }

func (s deleteAllIgnoresContext) DeleteAppPasswords(ctx context.Context, account string) (int, error) {
	return s.Store.DeleteAppPasswords(context.WithoutCancel(ctx), account)
}

// ignoresAccount finds a device to accept a code of by its ID alone, as an UPDATE
// that forgets the account in its WHERE clause would.
type ignoresAccount struct {
	*memstore.Store
	mu    sync.Mutex
	owner map[string]string // device ID to account
}

func (s *ignoresAccount) InsertDevice(ctx context.Context, d twofa.Device, limit int, now time.Time) error {
	err := s.Store.InsertDevice(ctx, d, limit, now)
	if err == nil {
		s.mu.Lock()
		s.owner[d.ID] = d.Account
		s.mu.Unlock()
	}
	return err
}

func (s *ignoresAccount) AcceptCode(ctx context.Context, account, id string, counter uint64, drift int64, at time.Time, scope string, p twofa.ThrottlePolicy, old, mac []byte) (twofa.ThrottleState, bool, error) {
	s.mu.Lock()
	if owner, ok := s.owner[id]; ok {
		account = owner
	}
	s.mu.Unlock()
	return s.Store.AcceptCode(ctx, account, id, counter, drift, at, scope, p, old, mac)
}

// acceptIgnoresThrottle consumes codes whatever the throttle says.
type acceptIgnoresThrottle struct{ *memstore.Store }

func (s acceptIgnoresThrottle) AcceptCode(ctx context.Context, account, id string, counter uint64, drift int64, at time.Time, scope string, p twofa.ThrottlePolicy, old, mac []byte) (twofa.ThrottleState, bool, error) {
	return s.Store.AcceptCode(ctx, account, id, counter, drift, at, scope, twofa.ThrottlePolicy{}, old, mac)
}

// acceptIgnoresBudget checks the back-off but not the budget.
type acceptIgnoresBudget struct{ *memstore.Store }

func (s acceptIgnoresBudget) AcceptCode(ctx context.Context, account, id string, counter uint64, drift int64, at time.Time, scope string, p twofa.ThrottlePolicy, old, mac []byte) (twofa.ThrottleState, bool, error) {
	p.Budget, p.Refill = 0, 0
	return s.Store.AcceptCode(ctx, account, id, counter, drift, at, scope, p, old, mac)
}

// acceptKeepsFailures checks the throttle and advances the counter, but
// leaves the back-off in place.
type acceptKeepsFailures struct{ *memstore.Store }

func (s acceptKeepsFailures) AcceptCode(ctx context.Context, account, id string, counter uint64, drift int64, at time.Time, scope string, p twofa.ThrottlePolicy, old, mac []byte) (twofa.ThrottleState, bool, error) {
	st, err := s.Throttle(ctx, account, scope)
	if err != nil {
		return twofa.ThrottleState{}, false, err
	}
	if _, ok := p.Reserve(st, at); !ok {
		return st, false, nil
	}
	// The replay guard alone: a scope that holds no throttle.
	_, r, err := s.Store.AcceptCode(ctx, account, id, counter, drift, at, scope+"/elsewhere", twofa.ThrottlePolicy{}, old, mac)
	return st, r, err
}

// acceptClearsBudget empties the budget with the back-off.
type acceptClearsBudget struct{ *memstore.Store }

func (s acceptClearsBudget) AcceptCode(ctx context.Context, account, id string, counter uint64, drift int64, at time.Time, scope string, p twofa.ThrottlePolicy, old, mac []byte) (twofa.ThrottleState, bool, error) {
	st, r, err := s.Store.AcceptCode(ctx, account, id, counter, drift, at, scope, p, old, mac)
	if err == nil && r {
		err = s.ResetThrottle(ctx, account, scope)
	}
	return st, r, err
}

// acceptCASOffByOne takes a code only above the stored Counter, not at it.
type acceptCASOffByOne struct{ *memstore.Store }

func (s acceptCASOffByOne) AcceptCode(ctx context.Context, account, id string, counter uint64, drift int64, at time.Time, scope string, p twofa.ThrottlePolicy, old, mac []byte) (twofa.ThrottleState, bool, error) {
	d, err := s.Device(ctx, account, id)
	if err == nil && counter == d.Counter {
		st, err := s.Throttle(ctx, account, scope)
		return st, false, err
	}
	return s.Store.AcceptCode(ctx, account, id, counter, drift, at, scope, p, old, mac)
}

// acceptDeviceFirst checks the device before the throttle, telling a
// throttled caller that its code was replayed.
type acceptDeviceFirst struct{ *memstore.Store }

func (s acceptDeviceFirst) AcceptCode(ctx context.Context, account, id string, counter uint64, drift int64, at time.Time, scope string, p twofa.ThrottlePolicy, old, mac []byte) (twofa.ThrottleState, bool, error) {
	d, err := s.Device(ctx, account, id)
	if err != nil {
		return twofa.ThrottleState{}, false, err
	}
	if d.State != twofa.DeviceConfirmed || counter < d.Counter {
		st, err := s.Throttle(ctx, account, scope)
		return st, false, err
	}
	return s.Store.AcceptCode(ctx, account, id, counter, drift, at, scope, p, old, mac)
}

// racyAccept checks, then acts: the classic lost compare-and-set.
type racyAccept struct{ *memstore.Store }

func (s racyAccept) AcceptCode(ctx context.Context, account, id string, counter uint64, drift int64, at time.Time, scope string, p twofa.ThrottlePolicy, old, mac []byte) (twofa.ThrottleState, bool, error) {
	d, err := s.Device(ctx, account, id)
	if err != nil {
		return twofa.ThrottleState{}, false, err
	}
	if d.State != twofa.DeviceConfirmed || counter < d.Counter {
		return twofa.ThrottleState{}, false, nil
	}
	time.Sleep(time.Millisecond)
	st, _, err := s.Store.AcceptCode(ctx, account, id, counter, drift, at, scope, p, old, mac)
	return st, true, err
}

// pageIncludesKey returns the key's own device first, as a ">=" where
// DevicesAfter needs ">".
type pageIncludesKey struct{ *memstore.Store }

func (s pageIncludesKey) DevicesAfter(ctx context.Context, account, id string, limit int) ([]twofa.Device, error) {
	ds, err := s.Store.DevicesAfter(ctx, account, id, limit)
	if d, derr := s.Device(ctx, account, id); derr == nil && err == nil {
		ds = append([]twofa.Device{d}, ds...)[:min(len(ds)+1, limit)]
	}
	return ds, err
}

// allDevices reads every device of s in one page.
func allDevices(ctx context.Context, s *memstore.Store) ([]twofa.Device, error) {
	return s.DevicesAfter(ctx, "", "", math.MaxInt)
}

// pageIgnoresAccount compares IDs alone with the key, as a WHERE id > $2
// that forgets the account would: later accounts' smaller IDs are skipped.
type pageIgnoresAccount struct{ *memstore.Store }

func (s pageIgnoresAccount) DevicesAfter(ctx context.Context, account, id string, limit int) ([]twofa.Device, error) {
	all, err := allDevices(ctx, s.Store)
	var out []twofa.Device
	for _, d := range all {
		if d.Account >= account && d.ID > id && len(out) < limit {
			out = append(out, d)
		}
	}
	return out, err
}

// pageFoldsCase orders by a case-insensitive collation, as PostgreSQL
// does under most database locales unless told to compare bytes.
type pageFoldsCase struct{ *memstore.Store }

func (s pageFoldsCase) DevicesAfter(ctx context.Context, account, id string, limit int) ([]twofa.Device, error) {
	all, err := allDevices(ctx, s.Store)
	key := func(a, i string) string {
		return strings.ToLower(a) + "\x00" + strings.ToLower(i) + "\x00" + a + "\x00" + i
	}
	slices.SortFunc(all, func(a, b twofa.Device) int { return strings.Compare(key(a.Account, a.ID), key(b.Account, b.ID)) })
	var out []twofa.Device
	for _, d := range all {
		if key(d.Account, d.ID) > key(account, id) && len(out) < limit {
			out = append(out, d)
		}
	}
	return out, err
}

// pageOverLimit returns one device more than asked for.
type pageOverLimit struct{ *memstore.Store }

func (s pageOverLimit) DevicesAfter(ctx context.Context, account, id string, limit int) ([]twofa.Device, error) {
	return s.Store.DevicesAfter(ctx, account, id, limit+1)
}

type pageIgnoresContext struct{ *memstore.Store }

func (s pageIgnoresContext) DevicesAfter(ctx context.Context, account, id string, limit int) ([]twofa.Device, error) {
	return s.Store.DevicesAfter(context.WithoutCancel(ctx), account, id, limit)
}

// purger deletes throttle states by a rule of its own: it remembers every
// state ReserveAttempt made and drops those the rule picks.
type purger struct {
	*memstore.Store
	mu   sync.Mutex
	seen map[[2]string]bool // account, scope
	idle func(ctx context.Context, st twofa.ThrottleState, now time.Time) bool
}

func newPurger(idle func(ctx context.Context, st twofa.ThrottleState, now time.Time) bool) *purger {
	return &purger{Store: memstore.New(), seen: map[[2]string]bool{}, idle: idle}
}

func (s *purger) ReserveAttempt(ctx context.Context, account, scope string, now time.Time, p twofa.ThrottlePolicy) (twofa.ThrottleState, bool, error) {
	s.mu.Lock()
	s.seen[[2]string{account, scope}] = true
	s.mu.Unlock()
	return s.Store.ReserveAttempt(ctx, account, scope, now, p)
}

func (s *purger) DeleteIdleThrottles(ctx context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k := range s.seen {
		st, err := s.Throttle(context.WithoutCancel(ctx), k[0], k[1])
		if err != nil {
			return n, err
		}
		if st != (twofa.ThrottleState{}) && s.idle(ctx, st, now) {
			if err := s.ResetThrottle(context.WithoutCancel(ctx), k[0], k[1]); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, ctx.Err()
}

// purgesFailures drops states whose times are over, whatever their
// failures: the back-off would start afresh.
func purgesFailures(_ context.Context, st twofa.ThrottleState, now time.Time) bool {
	return !st.Until.After(now) && !st.Forgiven.After(now)
}

// purgeIgnoresBudget drops states without failures while their budget is
// still owed.
func purgeIgnoresBudget(_ context.Context, st twofa.ThrottleState, now time.Time) bool {
	return st.Failures == 0 && !st.Until.After(now)
}

// purgeIgnoresContext deletes as it should, but also when cancelled.
func purgeIgnoresContext(_ context.Context, st twofa.ThrottleState, now time.Time) bool {
	return st.Failures == 0 && !st.Until.After(now) && !st.Forgiven.After(now)
}
