package storetest

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/phone"
)

// The cancelled-context test: every method of every interface, called
// with a cancelled context, must return an error wrapping context.Canceled,
// report no success (false, zero counts, nothing evicted or found), and
// leave every record as it was. Each interface has a fixture, the records
// its methods are called on, and a state, everything of the fixture's that
// any of its methods could change, read before and after the call.

// cancelCase is one method called with a cancelled context.
type cancelCase[S, F any] struct {
	method string // and a variant, "ConsumeChallenge/WrongDigest"
	call   func(ctx context.Context, s S, f F) (results []any, err error)
	after  func(t *testing.T, s S, f F) // optional further check
}

// cancelTests returns the test "<iface>/<method>/Cancelled" of each case
// (for a variant "<iface>/<method>/Cancelled<variant>").
func cancelTests[S, F any](iface string, fixture func(*testing.T, S) F, state func(*testing.T, S, F) any, cases ...cancelCase[S, F]) []testCase[S] {
	ts := make([]testCase[S], len(cases))
	for i, c := range cases {
		ts[i] = testCase[S]{iface + "/" + cancelPath(c.method), func(t *testing.T, s S) {
			f := fixture(t, s)
			before := state(t, s, f)
			results, err := c.call(cancelled(t), s, f)
			wantCancelled(t, c.method, err)
			wantZero(t, c.method+" with a cancelled context", results)
			check(t, "after a cancelled "+c.method, state(t, s, f), before)
			if c.after != nil {
				c.after(t, s, f)
			}
		}}
	}
	return ts
}

func cancelPath(method string) string {
	if m, variant, ok := strings.Cut(method, "/"); ok {
		return m + "/Cancelled" + variant
	}
	return method + "/Cancelled"
}

// unknownCase calls a method on an account the store has never seen.
type unknownCase[S any] struct {
	method string
	call   func(ctx context.Context, s S, account string) (results []any, err error)
}

// unknownTests returns the test "<iface>/<method>/Unknown" of each case:
// the call must succeed with zero results, and state, what the interface
// holds for the account, must stay the zero value.
func unknownTests[S any](iface string, state func(t *testing.T, s S, account string) any, cases ...unknownCase[S]) []testCase[S] {
	ts := make([]testCase[S], len(cases))
	for i, c := range cases {
		ts[i] = testCase[S]{iface + "/" + c.method + "/Unknown", func(t *testing.T, s S) {
			acct := NewAccount()
			results, err := c.call(t.Context(), s, acct)
			if err != nil {
				t.Errorf("%s of an unknown account: %v", c.method, err)
			}
			wantZero(t, c.method+" of an unknown account", results)
			after := state(t, s, acct)
			check(t, "after "+c.method+" of an unknown account", after, reflect.Zero(reflect.TypeOf(after)).Interface())
		}}
	}
	return ts
}

// wantZero checks that each of a failed call's results is the zero value
// of its type (an empty slice counts as zero).
func wantZero(t *testing.T, what string, results []any) {
	t.Helper()
	for i, r := range results {
		check(t, fmt.Sprintf("%s, result %d", what, i+1), r, reflect.Zero(reflect.TypeOf(r)).Interface())
	}
}

// res returns a call's results that must be zero, and its error; errOnly
// and errOnly2 pass on the error of a call whose results are not checked,
// zeroed and zeroed2 its results and its error.
func res(err error, results ...any) ([]any, error)          { return results, err }
func errOnly[T any](_ T, err error) ([]any, error)          { return nil, err }
func errOnly2[T, U any](_ T, _ U, err error) ([]any, error) { return nil, err }
func zeroed[T any](v T, err error) ([]any, error)           { return []any{v}, err }
func zeroed2[T, U any](v T, w U, err error) ([]any, error)  { return []any{v, w}, err }

type deviceFixture struct {
	acct    string
	pending twofa.Device
	conf    twofa.Device
	expired twofa.Device // in the past era, that DeleteExpiredDevices could delete
	era     time.Time
}

func deviceCancelTests() []testCase[twofa.Store] {
	type F = deviceFixture
	type S = twofa.Store
	fixture := func(t *testing.T, s S) F {
		f := F{acct: NewAccount(), era: pastEra()}
		f.pending = NewDevice(f.acct, t0)
		f.conf = confirmed(NewDevice(f.acct, t0), 1)
		f.expired = NewDevice(f.acct, f.era.Add(-2*time.Hour))
		f.expired.ExpiresAt = f.era.Add(-time.Hour)
		insert(t, s, f.pending, f.conf, f.expired)
		return f
	}
	state := func(t *testing.T, s S, f F) any { return list(t, s, f.acct) }
	return cancelTests("DeviceStore", fixture, state,
		cancelCase[S, F]{method: "InsertDevice", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return res(s.InsertDevice(ctx, NewDevice(f.acct, t0.Add(time.Minute)), 10, t0.Add(time.Minute)))
		}},
		cancelCase[S, F]{method: "Device", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return errOnly(s.Device(ctx, f.acct, f.pending.ID))
		}},
		cancelCase[S, F]{method: "Devices", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return errOnly(s.Devices(ctx, f.acct))
		}},
		cancelCase[S, F]{method: "ConfirmDevice", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return zeroed(s.ConfirmDevice(ctx, f.acct, f.pending.ID, 5, 0, t0, confirmMax, nil, nil))
		}},
		cancelCase[S, F]{method: "AcceptCode", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return zeroed2(s.AcceptCode(ctx, f.acct, f.conf.ID, 5, 0, t0, twofa.ScopeCode, codeThrottle, nil, nil))
		}, after: func(t *testing.T, s S, f F) {
			wantState(t, "Throttle after a cancelled AcceptCode", throttle(t, s, f.acct, twofa.ScopeCode), twofa.ThrottleState{})
		}},
		cancelCase[S, F]{method: "SetResync", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return zeroed(s.SetResync(ctx, f.acct, f.conf.ID, 9, 1, nil, nil))
		}},
		cancelCase[S, F]{method: "ReserveDeviceAttempt", call: func(ctx context.Context, s S, f F) ([]any, error) {
			_, ok, err := s.ReserveDeviceAttempt(ctx, f.acct, f.pending.ID, 5, nil, nil)
			return res(err, ok)
		}},
		cancelCase[S, F]{method: "RenameDevice", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return res(s.RenameDevice(ctx, f.acct, f.pending.ID, "x"))
		}},
		cancelCase[S, F]{method: "UpdateSealed", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return zeroed(s.UpdateSealed(ctx, f.acct, f.pending.ID, f.pending.Sealed, []byte("x")))
		}},
		cancelCase[S, F]{method: "DeleteDevice", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return errOnly2(s.DeleteDevice(ctx, f.acct, f.conf.ID))
		}},
		cancelCase[S, F]{method: "DeletePendingDevice", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return zeroed(s.DeletePendingDevice(ctx, f.acct, f.pending.ID))
		}},
		cancelCase[S, F]{method: "DeleteExpiredDevices", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return zeroed(s.DeleteExpiredDevices(ctx, f.era))
		}},
		cancelCase[S, F]{method: "DevicesAfter", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return zeroed(s.DevicesAfter(ctx, f.acct, "", 10))
		}},
	)
}

type throttleFixture struct {
	acct, fresh string
	idle        string // an account whose state is idle in the past era
	era         time.Time
}

func throttleCancelTests() []testCase[twofa.Store] {
	type F = throttleFixture
	type S = twofa.Store
	p := twofa.ThrottlePolicy{Free: 0, Base: time.Second, Max: time.Hour}
	fixture := func(t *testing.T, s S) F {
		f := F{acct: NewAccount(), fresh: NewAccount(), idle: NewAccount(), era: pastEra()}
		reserve(t, s, f.acct, twofa.ScopeCode, t0, p)
		idleAt(t, s, f.idle, twofa.ScopeCode, f.era.Add(-time.Hour))
		return f
	}
	state := func(t *testing.T, s S, f F) any {
		return []twofa.ThrottleState{throttle(t, s, f.acct, twofa.ScopeCode), throttle(t, s, f.fresh, twofa.ScopeCode),
			throttle(t, s, f.idle, twofa.ScopeCode)}
	}
	return cancelTests("ThrottleStore", fixture, state,
		cancelCase[S, F]{method: "ReserveAttempt", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return zeroed2(s.ReserveAttempt(ctx, f.acct, twofa.ScopeCode, t0.Add(time.Hour), p))
		}},
		cancelCase[S, F]{method: "ReserveAttempt/FreshAccount", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return errOnly2(s.ReserveAttempt(ctx, f.fresh, twofa.ScopeCode, t0, p))
		}},
		cancelCase[S, F]{method: "ReleaseAttempt", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return res(s.ReleaseAttempt(ctx, f.acct, twofa.ScopeCode, refill(codeThrottle), true))
		}},
		cancelCase[S, F]{method: "ResetThrottle", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return res(s.ResetThrottle(ctx, f.acct, twofa.ScopeCode))
		}},
		cancelCase[S, F]{method: "Throttle", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return errOnly(s.Throttle(ctx, f.acct, twofa.ScopeCode))
		}},
		cancelCase[S, F]{method: "DeleteIdleThrottles", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return zeroed(s.DeleteIdleThrottles(ctx, f.era))
		}},
	)
}

type recoveryFixture struct {
	acct    string
	digests [][]byte
}

func recoveryCancelTests() []testCase[twofa.Store] {
	type F = recoveryFixture
	type S = twofa.Store
	fixture := func(t *testing.T, s S) F {
		f := F{NewAccount(), newDigests(3)}
		replace(t, s, f.acct, f.digests)
		return f
	}
	state := func(t *testing.T, s S, f F) any { return codesLeft(t, s, f.acct) }
	return cancelTests("RecoveryStore", fixture, state,
		cancelCase[S, F]{method: "ReplaceRecoveryCodes", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return res(s.ReplaceRecoveryCodes(ctx, f.acct, newDigests(5), t0))
		}, after: func(t *testing.T, s S, f F) {
			if !consume(t, s, f.acct, f.digests[0]) {
				t.Error("after a cancelled ReplaceRecoveryCodes, an old code is gone")
			}
		}},
		cancelCase[S, F]{method: "ConsumeRecoveryCode", call: func(ctx context.Context, s S, f F) ([]any, error) {
			_, ok, err := s.ConsumeRecoveryCode(ctx, f.acct, f.digests[0], t0)
			return res(err, ok)
		}},
		cancelCase[S, F]{method: "RecoveryCodesLeft", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return errOnly(s.RecoveryCodesLeft(ctx, f.acct))
		}},
		cancelCase[S, F]{method: "DeleteRecoveryCodes", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return res(s.DeleteRecoveryCodes(ctx, f.acct))
		}},
	)
}

func appPasswordCancelTests() []testCase[twofa.Store] {
	type F = twofa.AppPassword
	type S = twofa.Store
	fixture := func(t *testing.T, s S) F {
		p := NewAppPassword(NewAccount(), t0)
		insertApp(t, s, p)
		return p
	}
	state := func(t *testing.T, s S, p F) any {
		ps, err := s.AppPasswords(t.Context(), p.Account)
		if err != nil {
			t.Fatalf("AppPasswords: %v", err)
		}
		return ps
	}
	return cancelTests("AppPasswordStore", fixture, state,
		cancelCase[S, F]{method: "InsertAppPassword", call: func(ctx context.Context, s S, p F) ([]any, error) {
			return res(s.InsertAppPassword(ctx, NewAppPassword(p.Account, t0), 1000))
		}},
		cancelCase[S, F]{method: "AppPasswordByDigest", call: func(ctx context.Context, s S, p F) ([]any, error) {
			return errOnly(s.AppPasswordByDigest(ctx, p.Account, p.Digest))
		}},
		cancelCase[S, F]{method: "AppPasswords", call: func(ctx context.Context, s S, p F) ([]any, error) {
			return errOnly(s.AppPasswords(ctx, p.Account))
		}},
		cancelCase[S, F]{method: "HasAppPasswords", call: func(ctx context.Context, s S, p F) ([]any, error) {
			return errOnly(s.HasAppPasswords(ctx, p.Account))
		}},
		cancelCase[S, F]{method: "TouchAppPassword", call: func(ctx context.Context, s S, p F) ([]any, error) {
			return res(s.TouchAppPassword(ctx, p.Account, p.ID, t0.Add(time.Hour)))
		}},
		cancelCase[S, F]{method: "DeleteAppPassword", call: func(ctx context.Context, s S, p F) ([]any, error) {
			return res(s.DeleteAppPassword(ctx, p.Account, p.ID))
		}},
		cancelCase[S, F]{method: "DeleteAppPasswords", call: func(ctx context.Context, s S, p F) ([]any, error) {
			return errOnly(s.DeleteAppPasswords(ctx, p.Account))
		}},
	)
}

type browserFixture struct {
	b, expired browser.Record // expired in the past era, that DeleteExpiredBrowsers could delete
	era        time.Time
}

func browserCancelTests() []testCase[browser.Store] {
	type F = browserFixture
	type S = browser.Store
	fixture := func(t *testing.T, s S) F {
		f := F{b: NewBrowser(NewAccount(), t0), era: pastEra()}
		f.b.MAC = []byte("mac") // what UpdateBrowserMAC could replace
		f.expired = NewBrowser(f.b.Account, f.era.Add(-48*time.Hour))
		f.expired.ExpiresAt = f.era.Add(-time.Hour)
		insertBrowsers(t, s, t0, f.b)
		insertBrowsers(t, s, f.expired.CreatedAt, f.expired)
		return f
	}
	state := func(t *testing.T, s S, f F) any { return listBrowsers(t, s, f.b.Account) }
	return cancelTests("BrowserStore", fixture, state,
		cancelCase[S, F]{method: "InsertBrowser", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return zeroed(s.InsertBrowser(ctx, NewBrowser(f.b.Account, t0), 1, t0))
		}},
		cancelCase[S, F]{method: "BrowserByDigest", call: func(ctx context.Context, s S, f F) ([]any, error) {
			got, err := s.BrowserByDigest(ctx, f.b.Account, f.b.Digest)
			return res(err, got.ID)
		}},
		cancelCase[S, F]{method: "Browsers", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return zeroed(s.Browsers(ctx, f.b.Account))
		}},
		cancelCase[S, F]{method: "TouchBrowser", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return res(s.TouchBrowser(ctx, f.b.Account, f.b.ID, t0.Add(time.Hour)))
		}},
		cancelCase[S, F]{method: "RevokeBrowser", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return res(s.RevokeBrowser(ctx, f.b.Account, f.b.ID, t0))
		}},
		cancelCase[S, F]{method: "RevokeBrowsers", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return zeroed(s.RevokeBrowsers(ctx, f.b.Account, t0))
		}},
		cancelCase[S, F]{method: "DeleteExpiredBrowsers", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return zeroed(s.DeleteExpiredBrowsers(ctx, f.era))
		}},
		cancelCase[S, F]{method: "BrowsersAfter", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return zeroed(s.BrowsersAfter(ctx, f.b.Account, "", 10))
		}},
		cancelCase[S, F]{method: "UpdateBrowserMAC", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return zeroed(s.UpdateBrowserMAC(ctx, f.b.Account, f.b.ID, f.b.MAC, []byte("new mac")))
		}},
	)
}

func phoneCancelTests() []testCase[PhoneStore] {
	type F = phone.Record
	type S = PhoneStore
	fixture := func(t *testing.T, s S) F {
		p := NewPhone(NewAccount(), t0)
		insertPhone(t, s, p)
		return p
	}
	state := func(t *testing.T, s S, p F) any { return listPhones(t, s, p.Account) }
	return cancelTests("PhoneStore", fixture, state,
		cancelCase[S, F]{method: "InsertPhone", call: func(ctx context.Context, s S, p F) ([]any, error) {
			return res(s.InsertPhone(ctx, NewPhone(p.Account, t0), 10, t0))
		}},
		cancelCase[S, F]{method: "Phone", call: func(ctx context.Context, s S, p F) ([]any, error) {
			return errOnly(s.Phone(ctx, p.Account, p.ID))
		}},
		cancelCase[S, F]{method: "Phones", call: func(ctx context.Context, s S, p F) ([]any, error) {
			return errOnly(s.Phones(ctx, p.Account))
		}},
		cancelCase[S, F]{method: "ConfirmPhone", call: func(ctx context.Context, s S, p F) ([]any, error) {
			return zeroed(s.ConfirmPhone(ctx, p.Account, p.ID, t0, nil, nil))
		}},
		cancelCase[S, F]{method: "DeletePhone", call: func(ctx context.Context, s S, p F) ([]any, error) {
			return errOnly2(s.DeletePhone(ctx, p.Account, p.ID))
		}},
		cancelCase[S, F]{method: "DeleteExpiredPhones", call: func(ctx context.Context, s S, p F) ([]any, error) {
			return errOnly(s.DeleteExpiredPhones(ctx, t0.Add(24*time.Hour)))
		}},
	)
}

type challengeFixture struct {
	p phone.Record
	c phone.Challenge
}

// challengeState is what a challenge method could change.
type challengeState struct {
	Challenge phone.Challenge
	Live      []phone.Challenge
}

func challengeCancelTests() []testCase[PhoneStore] {
	type F = challengeFixture
	type S = PhoneStore
	fixture := func(t *testing.T, s S) F {
		p := phTrusted(NewPhone(NewAccount(), t0))
		insertPhone(t, s, p)
		c := NewChallenge(p, t0)
		phCreate(t, s, c)
		return F{p, c}
	}
	state := func(t *testing.T, s S, f F) any {
		live, err := s.LiveChallenges(t.Context(), f.c.Account, phone.PurposeSignIn, t0)
		if err != nil {
			t.Fatalf("LiveChallenges: %v", err)
		}
		return challengeState{getChallenge(t, s, f.c.Account, f.c.ID), live}
	}
	return cancelTests("ChallengeStore", fixture, state,
		cancelCase[S, F]{method: "CreateChallenge", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return res(s.CreateChallenge(ctx, NewChallenge(f.p, t0.Add(time.Hour)), t0, allowAll))
		}},
		cancelCase[S, F]{method: "Challenge", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return errOnly(s.Challenge(ctx, f.c.Account, f.c.ID))
		}},
		cancelCase[S, F]{method: "LiveChallenges", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return errOnly(s.LiveChallenges(ctx, f.c.Account, phone.PurposeSignIn, t0))
		}},
		cancelCase[S, F]{method: "ConsumeChallenge", call: func(ctx context.Context, s S, f F) ([]any, error) {
			r, _, err := s.ConsumeChallenge(ctx, f.c.Account, f.c.ID, f.c.Digest, 5, t0, nil, nil)
			return res(err, r == phone.ConsumeAccepted)
		}},
		cancelCase[S, F]{method: "ConsumeChallenge/WrongDigest", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return errOnly2(s.ConsumeChallenge(ctx, f.c.Account, f.c.ID, randomBytes(32), 5, t0, nil, nil))
		}},
		cancelCase[S, F]{method: "DeleteStaleChallenges", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return errOnly(s.DeleteStaleChallenges(ctx, t0.Add(24*time.Hour)))
		}},
		cancelCase[S, F]{method: "VoidChallenge", call: func(ctx context.Context, s S, f F) ([]any, error) {
			return res(s.VoidChallenge(ctx, f.c.Account, f.c.ID))
		}},
	)
}
