// Package storetest checks an implementation of [twofa.Store] against the
// contracts documented in package twofa (and, for a store that also
// implements them, browser.Store, phone.Store and signin.Store against
// theirs): every
// method, its errors, its atomicity under concurrency, and its behaviour
// on a cancelled context.
// Package memstore and package sqlstore run it; so should any other store.
//
// A store author calls [Run] from a test, with a function that returns a
// store to test:
//
//	func TestConformance(t *testing.T) {
//		db := openTestDB(t) // may be shared by every subtest
//		storetest.Run(t, func(t *testing.T) twofa.Store {
//			return mystore.New(db)
//		})
//	}
//
// Run calls newStore once per subtest, and once before them to check that
// it returns a store. The stores it returns may share one database: every
// subtest works under account names and device IDs of its own, chosen at
// random, and leaves other accounts alone. Subtests do not
// run in parallel with each other, but many of them run hundreds of
// goroutines against one store, so run the suite with -race.
//
// # What the suite expects beyond the interface comments
//
// Where the comments in package twofa leave a choice, the suite takes the
// reading below; a store that takes another one fails.
//
//   - Times come back equal (time.Time.Equal) to what was stored, to the
//     nanosecond, over at least the range of int64 Unix nanoseconds (1678
//     to 2262); the zero Time comes back as the zero Time, and the Unix
//     epoch as the Unix epoch. The location need not survive. A store may
//     refuse a time outside that range with an error, but must never store
//     another time in its place. ReserveAttempt may saturate Until at
//     2262-04-11T23:47:16.854775807Z, the last int64 Unix nanosecond.
//   - Sealed secrets and digests are binary: any byte, NUL included, and
//     compared by content. A store may return nil for an empty Sealed and
//     an empty slice for nil.
//   - Counter and ResyncStep use all 64 bits, and compare as unsigned
//     numbers (2^63 is above 2^63-1).
//   - Account names and labels are arbitrary UTF-8 and compared exactly:
//     "Alice" and "alice" are two accounts.
//   - Device IDs are unique at least within an account. Inserting an ID
//     that another account holds may either succeed or report
//     ErrDuplicate; if it succeeds, the two devices are unrelated.
//   - Devices lists devices by CreatedAt, oldest first, and devices with
//     equal CreatedAt in the order they were inserted.
//   - A limit of 0 in InsertDevice refuses every insert.
//   - ConfirmDevice sets Counter to counter itself (AcceptCode sets it to
//     counter+1).
//   - Every method that names one device (account and id) reports an error
//     wrapping ErrNotFound when the account has no such device, even where
//     the interface comment does not say so (SetResync, ReserveDeviceAttempt,
//     RenameDevice, UpdateSealed).
//   - Methods that return a bool or a state together with a non-nil error
//     return false and the zero state.
//   - With a cancelled context every method returns an error wrapping
//     context.Canceled and changes nothing.
//   - A store keeps no reference to the caller's slices, and the caller may
//     modify the slices it gets back.
package storetest

import (
	"crypto/rand"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
)

// Run runs the conformance suite against the stores newStore returns, one
// fresh store per subtest. Subtests are named after the interface, the
// method and the case, such as "DeviceStore/AcceptCode/Concurrent", so
// that -run can select them; every method has a "Cancelled" case, so
// -run '///Cancelled' selects the cancelled-context checks of all of them.
// When the store also implements browser.Store (package browser's trusted
// browsers, not part of twofa.Store), Run runs its part too, as
// "BrowserStore/..."; otherwise those subtests skip. RunBrowsers runs that
// part alone. Likewise for phone.Store (package phone's numbers and
// out-of-band codes), as "PhoneStore/..." and "ChallengeStore/...", and
// RunPhones; and for signin.Store (package signin's pending sign-ins), as
// "SignInStore/...", and RunSignIns.
// Run fails the test at once if newStore is nil or returns a nil Store.
func Run(t *testing.T, newStore func(t *testing.T) twofa.Store) {
	t.Helper()
	run(t, "Run", "Store", newStore, suite())
}

// run runs cases as nested subtests, each on a fresh store from newStore;
// fn and kind name Run (or its sibling) and its store interface in
// failures.
func run[S any](t *testing.T, fn, kind string, newStore func(t *testing.T) S, cases []testCase[S]) {
	t.Helper()
	if newStore == nil {
		t.Fatalf("storetest: %s: newStore is nil", fn)
	}
	mk := func(t *testing.T) S {
		t.Helper()
		s := newStore(t)
		if isNil(s) {
			t.Fatalf("storetest: newStore returned a nil %s (%T)", kind, s)
		}
		return s
	}
	mk(t) // fail once, loudly, rather than in every subtest
	if t.Failed() {
		return
	}
	runTree(t, cases, mk)
}

// isNil reports whether s is nil or an interface holding a nil pointer,
// map, slice, func or channel.
func isNil(s any) bool {
	if s == nil {
		return true
	}
	switch v := reflect.ValueOf(s); v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// NewDevice returns a pending TOTP device of account that InsertDevice
// accepts: a random ID, a label, RFC 6238 default parameters, 48 random
// bytes as its sealed secret, created at now and expiring ten minutes
// later. Set other fields as a test needs.
func NewDevice(account string, now time.Time) twofa.Device {
	return twofa.Device{
		ID:        rand.Text(),
		Account:   account,
		Label:     "storetest device",
		Type:      twofa.TypeTOTP,
		Algorithm: twofa.SHA1,
		Digits:    twofa.DefaultDigits,
		Period:    twofa.DefaultPeriod,
		Sealed:    randomBytes(48),
		State:     twofa.DevicePending,
		CreatedAt: now,
		ExpiresAt: now.Add(10 * time.Minute),
	}
}

// NewAccount returns a random account name, "storetest-" and 26 base32
// characters, that no other test uses.
func NewAccount() string { return "storetest-" + rand.Text() }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// testCase is one leaf of a suite; its name is the slash-separated path
// below Run's test.
type testCase[S any] struct {
	name string
	fn   func(t *testing.T, s S)
}

func suite() []testCase[twofa.Store] {
	var cs []testCase[twofa.Store]
	cs = append(cs, deviceTests()...)
	cs = append(cs, macTests()...)
	cs = append(cs, throttleTests()...)
	cs = append(cs, recoveryTests()...)
	cs = append(cs, appPasswordTests()...)
	cs = append(cs, optional(lockTests())...)
	cs = append(cs, optional(browserTests())...)
	cs = append(cs, optional(phoneTests())...)
	cs = append(cs, optional(signinTests())...)
	return cs
}

// optional turns cases of an optional store interface - one the store
// may implement besides twofa.Store, as package browser's Store - into
// cases of Store that skip when the store does not implement it.
func optional[S any](cs []testCase[S]) []testCase[twofa.Store] {
	out := make([]testCase[twofa.Store], len(cs))
	for i, c := range cs {
		out[i] = testCase[twofa.Store]{c.name, func(t *testing.T, s twofa.Store) {
			o, ok := s.(S)
			if !ok {
				t.Skipf("storetest: %T does not implement %s", s, reflect.TypeFor[S]())
			}
			c.fn(t, o)
		}}
	}
	return out
}

// runTree runs cs as nested subtests, one level per element of their
// names, in the order in which each name first appears.
func runTree[S any](t *testing.T, cs []testCase[S], mk func(*testing.T) S) {
	t.Helper()
	var names []string
	kids := map[string][]testCase[S]{}
	for _, c := range cs {
		first, rest, _ := strings.Cut(c.name, "/")
		if _, ok := kids[first]; !ok {
			names = append(names, first)
		}
		kids[first] = append(kids[first], testCase[S]{rest, c.fn})
	}
	for _, name := range names {
		group := kids[name]
		if len(group) == 1 && group[0].name == "" {
			fn := group[0].fn
			t.Run(name, func(t *testing.T) { fn(t, mk(t)) })
			continue
		}
		t.Run(name, func(t *testing.T) { runTree(t, group, mk) })
	}
}
