package storetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/signin"
)

// RunSignIns runs the conformance suite of [signin.Store] against the
// stores newStore returns, one per subtest, as [Run] does for
// [twofa.Store]; the stores may share one database. Subtests are named
// "SignInStore/<method>/<case>".
//
// Where the comments in package signin leave a choice, the suite expects,
// beyond what Run's documentation lists:
//
//   - A Record's times come back Equal to the nanosecond.
//   - Two accounts may hold records with the same ID (and distinct
//     digests): they are unrelated.
//   - CreateSignIn returns a nil or empty slice when it evicts nothing.
func RunSignIns(t *testing.T, newStore func(t *testing.T) signin.Store) {
	t.Helper()
	run(t, "RunSignIns", "SignInStore", newStore, signinTests())
}

// NewSignIn returns a pending sign-in of account that CreateSignIn
// accepts: a random ID and 32-byte digest, a label and an address,
// created at now and expiring five minutes later, no attempts.
func NewSignIn(account string, now time.Time) signin.Record {
	return signin.Record{
		ID:        rand26(),
		Account:   account,
		Digest:    randomBytes(32),
		CreatedAt: now,
		ExpiresAt: now.Add(5 * time.Minute),
		Label:     "storetest browser",
		IP:        "192.0.2.1",
		MAC:       randomBytes(37),
	}
}

func signinTests() []testCase[signin.Store] {
	return append([]testCase[signin.Store]{
		{"SignInStore/CreateSignIn/RoundTrip", testSignInRoundTrip},
		{"SignInStore/CreateSignIn/Duplicate", testSignInDuplicate},
		{"SignInStore/CreateSignIn/Limit", testSignInLimit},
		{"SignInStore/CreateSignIn/LimitBelowOne", testSignInLimitBelowOne},
		{"SignInStore/CreateSignIn/Expired", testSignInCreateExpired},
		{"SignInStore/CreateSignIn/Concurrent", testSignInCreateConcurrent},
		{"SignInStore/SignIn/NotFound", testSignInNotFound},
		{"SignInStore/SignIn/Binary", testSignInBinary},
		{"SignInStore/SignIn/NoAliasing", testSignInNoAliasing},
		{"SignInStore/SignIns/Order", testSignInsOrder},
		{"SignInStore/ChargeSignIn/Counts", testChargeSignIn},
		{"SignInStore/ChargeSignIn/StaleMAC", testChargeSignInStaleMAC},
		{"SignInStore/ChargeSignIn/NotFound", testChargeSignInNotFound},
		{"SignInStore/ChargeSignIn/Concurrent", testChargeSignInConcurrent},
		{"SignInStore/RefundSignIn/Refunds", testRefundSignIn},
		{"SignInStore/RefundSignIn/NotFound", testRefundSignInNotFound},
		{"SignInStore/DeleteSignIn/Deletes", testDeleteSignIn},
		{"SignInStore/DeleteSignIn/NotFound", testDeleteSignInNotFound},
		{"SignInStore/DeleteSignIn/Concurrent", testDeleteSignInConcurrent},
		{"SignInStore/DeleteSignIns/Deletes", testDeleteSignIns},
		{"SignInStore/DeleteExpiredSignIns/Deletes", testDeleteExpiredSignIns},
	}, append(unknownTests("SignInStore",
		func(t *testing.T, s signin.Store, account string) any { return listSignIns(t, s, account) },
		unknownCase[signin.Store]{"SignIns", func(ctx context.Context, s signin.Store, account string) ([]any, error) {
			return zeroed(s.SignIns(ctx, account))
		}},
		unknownCase[signin.Store]{"DeleteSignIns", func(ctx context.Context, s signin.Store, account string) ([]any, error) {
			return zeroed(s.DeleteSignIns(ctx, account))
		}},
	), signinCancelTests()...)...)
}

// Helpers.

func createSignIns(t *testing.T, s signin.Store, now time.Time, rs ...signin.Record) {
	t.Helper()
	for _, r := range rs {
		ev, err := s.CreateSignIn(t.Context(), r, 1000, now)
		if err != nil || len(ev) != 0 {
			t.Fatalf("CreateSignIn(%q, limit 1000) = %v, %v; want nothing evicted, nil", r.ID, ev, err)
		}
	}
}

func getSignIn(t *testing.T, s signin.Store, r signin.Record) signin.Record {
	t.Helper()
	got, err := s.SignIn(t.Context(), r.Digest)
	if err != nil {
		t.Fatalf("SignIn of %q: %v", r.ID, err)
	}
	return got
}

func signinIs(t *testing.T, s signin.Store, want signin.Record) {
	t.Helper()
	check(t, fmt.Sprintf("sign-in %q", want.ID), getSignIn(t, s, want), want)
}

func signinGone(t *testing.T, s signin.Store, r signin.Record) {
	t.Helper()
	_, err := s.SignIn(t.Context(), r.Digest)
	wantErr(t, fmt.Sprintf("SignIn of removed sign-in %q", r.ID), err, twofa.ErrNotFound)
}

func listSignIns(t *testing.T, s signin.Store, account string) []signin.Record {
	t.Helper()
	rs, err := s.SignIns(t.Context(), account)
	if err != nil {
		t.Fatalf("SignIns: %v", err)
	}
	return rs
}

func signinIDs(rs []signin.Record) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}

func wantSignInIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) && (len(got) != 0 || len(want) != 0) {
		t.Errorf("%s: IDs %q, want %q", what, got, want)
	}
}

// The tests.

func testSignInRoundTrip(t *testing.T, s signin.Store) {
	acct := NewAccount()
	r := NewSignIn(acct, t0)
	r.Attempts = 2
	r.Label = "Ünïcödé 😀"
	r.IP = "2001:db8::1"
	createSignIns(t, s, t0, r)
	signinIs(t, s, r)
	check(t, "SignIns", listSignIns(t, s, acct), []signin.Record{r})
	// The empty label and address are kept as such.
	e := NewSignIn(acct, t0)
	e.Label, e.IP = "", ""
	createSignIns(t, s, t0, e)
	signinIs(t, s, e)
}

func testSignInDuplicate(t *testing.T, s signin.Store) {
	acct, other := NewAccount(), NewAccount()
	r := NewSignIn(acct, t0)
	createSignIns(t, s, t0, r)
	sameID := NewSignIn(acct, t0)
	sameID.ID = r.ID
	sameDigest := NewSignIn(acct, t0)
	sameDigest.Digest = bytes.Clone(r.Digest)
	otherDigest := NewSignIn(other, t0)
	otherDigest.Digest = bytes.Clone(r.Digest)
	for name, d := range map[string]signin.Record{
		"the same ID": sameID, "the same digest": sameDigest, "another account's digest": otherDigest,
	} {
		ev, err := s.CreateSignIn(t.Context(), d, 10, t0)
		wantErr(t, "CreateSignIn with "+name, err, twofa.ErrDuplicate)
		if len(ev) != 0 {
			t.Errorf("CreateSignIn with %s evicted %q", name, ev)
		}
	}
	check(t, "SignIns after refused duplicates", listSignIns(t, s, acct), []signin.Record{r})
	check(t, "SignIns of the other account", listSignIns(t, s, other), []signin.Record(nil))
	// Another account may hold the same ID.
	otherID := NewSignIn(other, t0)
	otherID.ID = r.ID
	createSignIns(t, s, t0, otherID)
	signinIs(t, s, otherID)
	signinIs(t, s, r)
}

func testSignInLimit(t *testing.T, s signin.Store) {
	acct := NewAccount()
	// Created in descending CreatedAt: the oldest is the last inserted.
	a := NewSignIn(acct, t0.Add(3*time.Second))
	b := NewSignIn(acct, t0.Add(2*time.Second))
	c := NewSignIn(acct, t0.Add(1*time.Second))
	for i, r := range []signin.Record{a, b, c} {
		ev, err := s.CreateSignIn(t.Context(), r, 3, t0)
		if err != nil || len(ev) != 0 {
			t.Fatalf("CreateSignIn #%d with limit 3 = %q, %v; want nothing evicted", i+1, ev, err)
		}
	}
	d := NewSignIn(acct, t0.Add(4*time.Second))
	ev, err := s.CreateSignIn(t.Context(), d, 3, t0)
	if err != nil {
		t.Fatal(err)
	}
	wantSignInIDs(t, "CreateSignIn #4 with limit 3 evicted", ev, []string{c.ID})
	signinGone(t, s, c)
	// A lowered limit evicts down to limit-1, oldest first.
	e := NewSignIn(acct, t0.Add(5*time.Second))
	ev, err = s.CreateSignIn(t.Context(), e, 1, t0)
	if err != nil {
		t.Fatal(err)
	}
	wantSignInIDs(t, "CreateSignIn with limit 1 evicted", ev, []string{b.ID, a.ID, d.ID})
	check(t, "SignIns after the evictions", listSignIns(t, s, acct), []signin.Record{e})
	// Ties in CreatedAt go in insertion order.
	acct2 := NewAccount()
	x, y := NewSignIn(acct2, t0), NewSignIn(acct2, t0)
	createSignIns(t, s, t0, x, y)
	ev, err = s.CreateSignIn(t.Context(), NewSignIn(acct2, t0), 2, t0)
	if err != nil {
		t.Fatal(err)
	}
	wantSignInIDs(t, "CreateSignIn with ties evicted (ties in insertion order)", ev, []string{x.ID})
}

func testSignInLimitBelowOne(t *testing.T, s signin.Store) {
	acct := NewAccount()
	old := NewSignIn(acct, t0.Add(-time.Hour))
	old.ExpiresAt = t0
	createSignIns(t, s, old.CreatedAt, old)
	for _, limit := range []int{0, -1} {
		ev, err := s.CreateSignIn(t.Context(), NewSignIn(acct, t0), limit, t0)
		wantErr(t, fmt.Sprintf("CreateSignIn with limit %d", limit), err, twofa.ErrLimitReached)
		if len(ev) != 0 {
			t.Errorf("CreateSignIn with limit %d evicted %q", limit, ev)
		}
	}
	check(t, "SignIns after refused inserts (the expired one kept)", listSignIns(t, s, acct), []signin.Record{old})
}

func testSignInCreateExpired(t *testing.T, s signin.Store) {
	acct, other := NewAccount(), NewAccount()
	gone := NewSignIn(acct, t0.Add(-time.Hour))
	gone.ExpiresAt = t0 // at now: expired
	live := NewSignIn(acct, t0.Add(-time.Hour))
	live.ExpiresAt = t0.Add(1) // just after now: live
	theirs := NewSignIn(other, t0.Add(-time.Hour))
	theirs.ExpiresAt = t0.Add(-time.Minute)
	createSignIns(t, s, t0.Add(-time.Hour), gone, live, theirs)
	r := NewSignIn(acct, t0)
	ev, err := s.CreateSignIn(t.Context(), r, 2, t0)
	if err != nil || len(ev) != 0 {
		t.Fatalf("CreateSignIn with limit 2, one live and one expired record = %q, %v; want nothing evicted: expired sign-ins do not count", ev, err)
	}
	check(t, "SignIns after CreateSignIn", listSignIns(t, s, acct), []signin.Record{live, r})
	signinGone(t, s, gone)
	signinIs(t, s, theirs) // another account's expired record stays
	// An expired record's digest and ID may be reused by its account.
	re := NewSignIn(acct, t0.Add(time.Hour))
	re.ID, re.Digest = live.ID, bytes.Clone(live.Digest)
	createSignIns(t, s, live.ExpiresAt, re)
	signinIs(t, s, re)
}

func testSignInCreateConcurrent(t *testing.T, s signin.Store) {
	acct := NewAccount()
	const n, limit = 50, 10
	rs := make([]signin.Record, n)
	for i := range rs {
		rs[i] = NewSignIn(acct, t0)
	}
	evicted := make([][]string, n)
	parallel(n, func(i int) {
		var err error
		evicted[i], err = s.CreateSignIn(t.Context(), rs[i], limit, t0)
		if err != nil {
			t.Errorf("concurrent CreateSignIn: %v", err)
		}
	})
	left := listSignIns(t, s, acct)
	if len(left) != limit {
		t.Errorf("after %d concurrent CreateSignIn with limit %d: %d records, want %d", n, limit, len(left), limit)
	}
	total := len(left)
	seen := map[string]bool{}
	for _, ev := range evicted {
		for _, id := range ev {
			if seen[id] {
				t.Errorf("sign-in %q evicted twice", id)
			}
			seen[id] = true
			total++
		}
	}
	if total != n {
		t.Errorf("%d concurrent CreateSignIn: %d left and %d evicted, want %d in all", n, len(left), total-len(left), n)
	}
}

func testSignInNotFound(t *testing.T, s signin.Store) {
	r := NewSignIn(NewAccount(), t0)
	createSignIns(t, s, t0, r)
	for name, d := range map[string][]byte{
		"an unknown digest": randomBytes(32), "a prefix": r.Digest[:31], "nil": nil,
		"a longer one": append(bytes.Clone(r.Digest), 0),
	} {
		_, err := s.SignIn(t.Context(), d)
		wantErr(t, "SignIn of "+name, err, twofa.ErrNotFound)
	}
}

func testSignInBinary(t *testing.T, s signin.Store) {
	acct := NewAccount()
	r := NewSignIn(acct, t0)
	r.Digest = append([]byte{0, 0xff, 0}, randomBytes(29)...)
	other := NewSignIn(acct, t0)
	other.Digest = append(bytes.Clone(r.Digest[:31]), r.Digest[31]^1)
	createSignIns(t, s, t0, r, other)
	signinIs(t, s, r)
	signinIs(t, s, other)
}

func testSignInNoAliasing(t *testing.T, s signin.Store) {
	r := NewSignIn(NewAccount(), t0)
	in := bytes.Clone(r.Digest)
	rec := r
	rec.Digest = in
	createSignIns(t, s, t0, rec)
	in[0] ^= 0xff // the caller's slice, after the call
	got := getSignIn(t, s, r)
	got.Digest[1] ^= 0xff // the slice handed out
	signinIs(t, s, r)
	check(t, "SignIns", listSignIns(t, s, r.Account), []signin.Record{r})
}

func testSignInsOrder(t *testing.T, s signin.Store) {
	acct := NewAccount()
	late := NewSignIn(acct, t0.Add(time.Second))
	a, b, c := NewSignIn(acct, t0), NewSignIn(acct, t0), NewSignIn(acct, t0)
	// IDs in descending order, so that an order by ID shows.
	ids := []string{a.ID, b.ID, c.ID}
	slices.Sort(ids)
	a.ID, b.ID, c.ID = ids[2], ids[1], ids[0]
	early := NewSignIn(acct, t0.Add(-time.Second))
	createSignIns(t, s, t0.Add(-time.Minute), late, a, b, c, early)
	wantSignInIDs(t, "SignIns (by CreatedAt, ties in insertion order)", signinIDs(listSignIns(t, s, acct)),
		[]string{early.ID, a.ID, b.ID, c.ID, late.ID})
}

// chargeTry charges r (whose MAC is the one stored) with a fresh next
// MAC, checks the outcome, and on success leaves r as stored.
func chargeTry(t *testing.T, s signin.Store, r *signin.Record, limit, wantN int, wantOK bool) {
	t.Helper()
	next := randomBytes(37)
	n, ok, err := s.ChargeSignIn(t.Context(), r.Account, r.ID, limit, r.MAC, next)
	if n != wantN || ok != wantOK || err != nil {
		t.Fatalf("ChargeSignIn(limit %d) = %d, %v, %v; want %d, %v, nil", limit, n, ok, err, wantN, wantOK)
	}
	if ok {
		r.Attempts, r.MAC = n, next
	}
	signinIs(t, s, *r)
}

func testChargeSignIn(t *testing.T, s signin.Store) {
	r := NewSignIn(NewAccount(), t0)
	r.Attempts = 1
	createSignIns(t, s, t0, r)
	chargeTry(t, s, &r, 3, 2, true)
	chargeTry(t, s, &r, 3, 3, true)
	chargeTry(t, s, &r, 3, 3, false)
	chargeTry(t, s, &r, 2, 3, false)
	// Expiry is not the store's concern.
	x := NewSignIn(r.Account, t0.Add(-time.Hour))
	x.ExpiresAt = t0.Add(-time.Minute)
	createSignIns(t, s, x.CreatedAt, x)
	chargeTry(t, s, &x, 1, 1, true)
}

// testChargeSignInStaleMAC: a charge with a MAC other than the stored one
// changes nothing and reports the count.
func testChargeSignInStaleMAC(t *testing.T, s signin.Store) {
	r := NewSignIn(NewAccount(), t0)
	createSignIns(t, s, t0, r)
	old := r.MAC
	chargeTry(t, s, &r, 5, 1, true)
	for _, mac := range [][]byte{old, nil, {}, randomBytes(37), append(bytes.Clone(r.MAC), 0), r.MAC[:len(r.MAC)-1]} {
		n, ok, err := s.ChargeSignIn(t.Context(), r.Account, r.ID, 5, mac, randomBytes(37))
		if n != 1 || ok || err != nil {
			t.Fatalf("ChargeSignIn with a MAC not the stored one = %d, %v, %v; want 1, false, nil", n, ok, err)
		}
		signinIs(t, s, r)
	}
}

func testChargeSignInNotFound(t *testing.T, s signin.Store) {
	r := NewSignIn(NewAccount(), t0)
	createSignIns(t, s, t0, r)
	n, ok, err := s.ChargeSignIn(t.Context(), r.Account, rand26(), 5, r.MAC, randomBytes(37))
	wantErr(t, "ChargeSignIn of an unknown id", err, twofa.ErrNotFound)
	if n != 0 || ok {
		t.Errorf("ChargeSignIn of an unknown id = %d, %v; want 0, false", n, ok)
	}
	_, _, err = s.ChargeSignIn(t.Context(), NewAccount(), r.ID, 5, r.MAC, randomBytes(37))
	wantErr(t, "ChargeSignIn of another account's id", err, twofa.ErrNotFound)
	signinIs(t, s, r)
}

// testChargeSignInConcurrent: of N concurrent charges with the stored MAC
// exactly one wins, and its MAC is stored; of N callers that each read
// the record again after a lost compare-and-set (as signin.Manager does),
// exactly limit win.
func testChargeSignInConcurrent(t *testing.T, s signin.Store) {
	r := NewSignIn(NewAccount(), t0)
	createSignIns(t, s, t0, r)
	const n, limit = 50, 7
	nexts := make([][]byte, n)
	for i := range nexts {
		nexts[i] = randomBytes(37)
	}
	var mu sync.Mutex
	winner := -1
	got := count(n, func(i int) bool {
		_, ok, err := s.ChargeSignIn(t.Context(), r.Account, r.ID, limit, r.MAC, nexts[i])
		if err != nil {
			t.Errorf("concurrent ChargeSignIn: %v", err)
		}
		if ok {
			mu.Lock()
			winner = i
			mu.Unlock()
		}
		return ok
	})
	if got != 1 || winner < 0 {
		t.Fatalf("%d concurrent ChargeSignIn calls with one MAC: %d succeeded, want 1", n, got)
	}
	r.Attempts, r.MAC = 1, nexts[winner]
	signinIs(t, s, r)

	got = count(n, func(int) bool {
		for {
			cur := getSignIn(t, s, r)
			if cur.Attempts >= limit {
				return false
			}
			m, ok, err := s.ChargeSignIn(t.Context(), r.Account, r.ID, limit, cur.MAC, randomBytes(37))
			switch {
			case err != nil:
				t.Errorf("concurrent ChargeSignIn: %v", err)
				return false
			case ok:
				return true
			case m >= limit:
				return false
			}
		}
	})
	if got != limit-1 {
		t.Errorf("%d concurrent ChargeSignIn loops with limit %d from 1 attempt: %d succeeded, want %d", n, limit, got, limit-1)
	}
	if cur := getSignIn(t, s, r); cur.Attempts != limit {
		t.Errorf("after the loops Attempts = %d, want %d", cur.Attempts, limit)
	}
}

// refundTry refunds r (whose MAC is the one stored) with a fresh next
// MAC, checks the outcome, and on success leaves r as stored.
func refundTry(t *testing.T, s signin.Store, r *signin.Record, mac []byte, wantOK bool) {
	t.Helper()
	next := randomBytes(37)
	ok, err := s.RefundSignIn(t.Context(), r.Account, r.ID, mac, next)
	if ok != wantOK || err != nil {
		t.Fatalf("RefundSignIn = %v, %v; want %v, nil", ok, err, wantOK)
	}
	if ok {
		r.Attempts, r.MAC = r.Attempts-1, next
	}
	signinIs(t, s, *r)
}

func testRefundSignIn(t *testing.T, s signin.Store) {
	r := NewSignIn(NewAccount(), t0)
	r.Attempts = 2
	createSignIns(t, s, t0, r)
	old := r.MAC
	refundTry(t, s, &r, r.MAC, true)
	refundTry(t, s, &r, old, false) // stale
	refundTry(t, s, &r, nil, false)
	refundTry(t, s, &r, r.MAC, true)
	refundTry(t, s, &r, r.MAC, false) // at 0: Attempts = -1 never
	chargeTry(t, s, &r, 1, 1, true)
}

func testRefundSignInNotFound(t *testing.T, s signin.Store) {
	r := NewSignIn(NewAccount(), t0)
	r.Attempts = 1
	createSignIns(t, s, t0, r)
	_, err := s.RefundSignIn(t.Context(), r.Account, rand26(), r.MAC, randomBytes(37))
	wantErr(t, "RefundSignIn of an unknown id", err, twofa.ErrNotFound)
	_, err = s.RefundSignIn(t.Context(), NewAccount(), r.ID, r.MAC, randomBytes(37))
	wantErr(t, "RefundSignIn of another account's id", err, twofa.ErrNotFound)
	signinIs(t, s, r)
}

func testDeleteSignIn(t *testing.T, s signin.Store) {
	acct := NewAccount()
	a, b := NewSignIn(acct, t0), NewSignIn(acct, t0)
	createSignIns(t, s, t0, a, b)
	if err := s.DeleteSignIn(t.Context(), acct, a.ID); err != nil {
		t.Fatalf("DeleteSignIn: %v", err)
	}
	signinGone(t, s, a)
	check(t, "SignIns after DeleteSignIn", listSignIns(t, s, acct), []signin.Record{b})
	wantErr(t, "DeleteSignIn of a deleted sign-in", s.DeleteSignIn(t.Context(), acct, a.ID), twofa.ErrNotFound)
	// Its digest is free again.
	re := NewSignIn(acct, t0)
	re.Digest = bytes.Clone(a.Digest)
	createSignIns(t, s, t0, re)
	signinIs(t, s, re)
}

func testDeleteSignInNotFound(t *testing.T, s signin.Store) {
	r := NewSignIn(NewAccount(), t0)
	createSignIns(t, s, t0, r)
	wantErr(t, "DeleteSignIn of an unknown id", s.DeleteSignIn(t.Context(), r.Account, rand26()), twofa.ErrNotFound)
	wantErr(t, "DeleteSignIn of another account's id", s.DeleteSignIn(t.Context(), NewAccount(), r.ID), twofa.ErrNotFound)
	signinIs(t, s, r)
}

func testDeleteSignInConcurrent(t *testing.T, s signin.Store) {
	r := NewSignIn(NewAccount(), t0)
	createSignIns(t, s, t0, r)
	race(t, "DeleteSignIn calls of one sign-in", 50, 1, twofa.ErrNotFound, func(int) error {
		return s.DeleteSignIn(t.Context(), r.Account, r.ID)
	})
	signinGone(t, s, r)
}

func testDeleteSignIns(t *testing.T, s signin.Store) {
	acct, other := NewAccount(), NewAccount()
	expired := NewSignIn(acct, t0.Add(-time.Hour))
	expired.ExpiresAt = t0.Add(-time.Minute)
	a, b := NewSignIn(acct, t0), NewSignIn(acct, t0)
	theirs := NewSignIn(other, t0)
	createSignIns(t, s, expired.CreatedAt, expired, a, b, theirs)
	n, err := s.DeleteSignIns(t.Context(), acct)
	if err != nil || n != 3 {
		t.Fatalf("DeleteSignIns = %d, %v; want 3 (the expired one included), nil", n, err)
	}
	for _, r := range []signin.Record{expired, a, b} {
		signinGone(t, s, r)
	}
	check(t, "SignIns after DeleteSignIns", listSignIns(t, s, acct), []signin.Record(nil))
	signinIs(t, s, theirs)
	if n, err := s.DeleteSignIns(t.Context(), acct); err != nil || n != 0 {
		t.Errorf("DeleteSignIns again = %d, %v; want 0, nil", n, err)
	}
}

func testDeleteExpiredSignIns(t *testing.T, s signin.Store) {
	now := pastEra()
	// Clear what earlier runs against a shared database left behind.
	if _, err := s.DeleteExpiredSignIns(t.Context(), now); err != nil {
		t.Fatal(err)
	}
	a, b := NewAccount(), NewAccount()
	mk := func(acct string, expires time.Duration) signin.Record {
		r := NewSignIn(acct, now.Add(-time.Hour))
		r.ExpiresAt = now.Add(expires)
		return r
	}
	atNow, before, after := mk(a, 0), mk(b, -time.Nanosecond), mk(a, time.Nanosecond)
	void := mk(b, time.Minute)
	void.Attempts = 5
	createSignIns(t, s, now.Add(-time.Hour), atNow, before, after, void)
	n, err := s.DeleteExpiredSignIns(t.Context(), now)
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpiredSignIns = %d, %v; want 2 (ExpiresAt at or before now), nil", n, err)
	}
	signinGone(t, s, atNow)
	signinGone(t, s, before)
	signinIs(t, s, after)
	signinIs(t, s, void)
}

func signinCancelTests() []testCase[signin.Store] {
	type F = signin.Record
	type S = signin.Store
	fixture := func(t *testing.T, s S) F {
		r := NewSignIn(NewAccount(), t0)
		r.Attempts = 1
		createSignIns(t, s, t0, r)
		return r
	}
	state := func(t *testing.T, s S, r F) any { return listSignIns(t, s, r.Account) }
	return cancelTests("SignInStore", fixture, state,
		cancelCase[S, F]{method: "CreateSignIn", call: func(ctx context.Context, s S, r F) ([]any, error) {
			return zeroed(s.CreateSignIn(ctx, NewSignIn(r.Account, t0), 1, t0))
		}},
		cancelCase[S, F]{method: "SignIn", call: func(ctx context.Context, s S, r F) ([]any, error) {
			got, err := s.SignIn(ctx, r.Digest)
			return res(err, got.ID)
		}},
		cancelCase[S, F]{method: "SignIns", call: func(ctx context.Context, s S, r F) ([]any, error) {
			return zeroed(s.SignIns(ctx, r.Account))
		}},
		cancelCase[S, F]{method: "ChargeSignIn", call: func(ctx context.Context, s S, r F) ([]any, error) {
			return zeroed2(s.ChargeSignIn(ctx, r.Account, r.ID, 5, r.MAC, randomBytes(37)))
		}},
		cancelCase[S, F]{method: "RefundSignIn", call: func(ctx context.Context, s S, r F) ([]any, error) {
			return zeroed(s.RefundSignIn(ctx, r.Account, r.ID, r.MAC, randomBytes(37)))
		}},
		cancelCase[S, F]{method: "DeleteSignIn", call: func(ctx context.Context, s S, r F) ([]any, error) {
			return res(s.DeleteSignIn(ctx, r.Account, r.ID))
		}},
		cancelCase[S, F]{method: "DeleteSignIns", call: func(ctx context.Context, s S, r F) ([]any, error) {
			return zeroed(s.DeleteSignIns(ctx, r.Account))
		}},
		cancelCase[S, F]{method: "DeleteExpiredSignIns", call: func(ctx context.Context, s S, r F) ([]any, error) {
			return zeroed(s.DeleteExpiredSignIns(ctx, r.ExpiresAt))
		}},
	)
}
