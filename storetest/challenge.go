package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/phone"
)

func challengeTests() []testCase[PhoneStore] {
	return append([]testCase[PhoneStore]{
		{"ChallengeStore/CreateChallenge/RoundTrip", testChallengeRoundTrip},
		{"ChallengeStore/CreateChallenge/NotFound", testChallengeNoPhone},
		{"ChallengeStore/CreateChallenge/Duplicate", testChallengeDuplicate},
		{"ChallengeStore/CreateChallenge/Recent", testChallengeRecent},
		{"ChallengeStore/CreateChallenge/RecentOfNone", testChallengeRecentNone},
		{"ChallengeStore/CreateChallenge/Refused", testChallengeRefused},
		{"ChallengeStore/CreateChallenge/VoidsPrevious", testChallengeVoidsPrevious},
		{"ChallengeStore/CreateChallenge/Concurrent", testChallengeCreateConcurrent},
		{"ChallengeStore/CreateChallenge/ConcurrentCap", testChallengeCreateConcurrentCap},
		{"ChallengeStore/CreateChallenge/ConcurrentAccountCap", testChallengeCreateConcurrentAccountCap},
		{"ChallengeStore/VoidChallenge/Voids", testVoidChallenge},
		{"ChallengeStore/LiveChallenges/Filters", testLiveChallenges},
		{"ChallengeStore/ConsumeChallenge/Once", testConsumeChallengeOnce},
		{"ChallengeStore/ConsumeChallenge/Wrong", testConsumeChallengeWrong},
		{"ChallengeStore/ConsumeChallenge/TouchesPhone", testConsumeChallengeTouches},
		{"ChallengeStore/ConsumeChallenge/ExhaustedRefusesRightDigest", testConsumeChallengeExhausted},
		{"ChallengeStore/ConsumeChallenge/Expired", testConsumeChallengeExpired},
		{"ChallengeStore/ConsumeChallenge/Voided", testConsumeChallengeVoided},
		{"ChallengeStore/ConsumeChallenge/Isolation", testConsumeChallengeIsolation},
		{"ChallengeStore/ConsumeChallenge/Concurrent", testConsumeChallengeConcurrent},
		{"ChallengeStore/ConsumeChallenge/ConcurrentWrong", testConsumeChallengeConcurrentWrong},
		{"ChallengeStore/DeleteStaleChallenges/Counts", testDeleteStaleChallenges},
		{"ChallengeStore/MAC/ClearedWhenClosed", testChallengeMAC},
	}, challengeCancelTests()...)
}

// NewChallenge returns an open sign-in challenge for phone p created at
// now, expiring ten minutes later, with a random ID and a random 32-byte
// digest.
func NewChallenge(p phone.Record, now time.Time) phone.Challenge {
	return phone.Challenge{
		ID:        phRandomID(),
		Account:   p.Account,
		PhoneID:   p.ID,
		Purpose:   phone.PurposeSignIn,
		Channel:   phone.SMS,
		State:     phone.ChallengeOpen,
		Digest:    randomBytes(32),
		CreatedAt: now,
		ExpiresAt: now.Add(10 * time.Minute),
	}
}

func phCreate(t *testing.T, s PhoneStore, cs ...phone.Challenge) {
	t.Helper()
	for _, c := range cs {
		if err := s.CreateChallenge(t.Context(), c, c.CreatedAt.Add(-time.Hour), allowAll); err != nil {
			t.Fatalf("CreateChallenge(%q) allowing it: %v", c.ID, err)
		}
	}
}

func getChallenge(t *testing.T, s PhoneStore, account, id string) phone.Challenge {
	t.Helper()
	c, err := s.Challenge(t.Context(), account, id)
	if err != nil {
		t.Fatalf("Challenge(%q): %v", id, err)
	}
	return c
}

func consumeChallenge(t *testing.T, s PhoneStore, c phone.Challenge, digest []byte, maxAttempts int, now time.Time) (phone.ConsumeResult, int) {
	t.Helper()
	r, n, err := s.ConsumeChallenge(t.Context(), c.Account, c.ID, digest, maxAttempts, now, nil, nil)
	if err != nil {
		t.Fatalf("ConsumeChallenge(%q): %v", c.ID, err)
	}
	return r, n
}

func wantConsume(t *testing.T, what string, s PhoneStore, c phone.Challenge, digest []byte, maxAttempts int, now time.Time, want phone.ConsumeResult, wantAttempts int) {
	t.Helper()
	r, n := consumeChallenge(t, s, c, digest, maxAttempts, now)
	if r != want || n != wantAttempts {
		t.Errorf("%s: ConsumeChallenge = %v, %d attempts; want %v, %d", what, r, n, want, wantAttempts)
	}
}

// challengeUnchanged checks that the stored challenge still equals want.
func challengeUnchanged(t *testing.T, s PhoneStore, want phone.Challenge) {
	t.Helper()
	check(t, fmt.Sprintf("challenge %q", want.ID), getChallenge(t, s, want.Account, want.ID), want)
}

func challengeID(c phone.Challenge) string { return c.ID }

// allowAll is an allow function of CreateChallenge that permits every
// challenge.
func allowAll([]phone.Send) error { return nil }

// errRefused is what the allow functions of the suite refuse with.
var errRefused = errors.New("storetest: refused by the allow function")

// allowBelow returns an allow function that permits a challenge while
// fewer than k challenges are recent.
func allowBelow(k int) func([]phone.Send) error {
	return func(recent []phone.Send) error {
		if len(recent) >= k {
			return errRefused
		}
		return nil
	}
}

// recentSends calls CreateChallenge(c, since) with an allow function that
// records what it is given and refuses, and returns what it was given.
func recentSends(t *testing.T, s PhoneStore, c phone.Challenge, since time.Time) []phone.Send {
	t.Helper()
	var recent []phone.Send
	called := false
	err := s.CreateChallenge(t.Context(), c, since, func(r []phone.Send) error {
		recent, called = slices.Clone(r), true
		return errRefused
	})
	if err != errRefused {
		t.Errorf("CreateChallenge with an allow function that refuses: err = %v, want its error as it is (%v)", err, errRefused)
	}
	if !called {
		t.Errorf("CreateChallenge did not call its allow function")
	}
	return recent
}

// sendOf is the Send of c as sent to the number e164.
func sendOf(c phone.Challenge, e164 string) phone.Send {
	return phone.Send{Number: e164, Purpose: c.Purpose, CreatedAt: c.CreatedAt}
}

func fmtSends(ss []phone.Send) string {
	var b strings.Builder
	for i, x := range ss {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "{%s %v %s}", x.Number, x.Purpose, fmtTime(x.CreatedAt))
	}
	return "[" + b.String() + "]"
}

// wantSends checks that got holds every send of want once, and besides
// them only sends of maybe, each at most once, in any order.
func wantSends(t *testing.T, what string, got, want, maybe []phone.Send) {
	t.Helper()
	left := slices.Clone(got)
	take := func(w phone.Send) bool {
		for i, g := range left {
			if g.Number == w.Number && g.Purpose == w.Purpose && g.CreatedAt.Equal(w.CreatedAt) {
				left = slices.Delete(left, i, i+1)
				return true
			}
		}
		return false
	}
	var missing []phone.Send
	for _, w := range want {
		if !take(w) {
			missing = append(missing, w)
		}
	}
	for _, m := range maybe {
		take(m)
	}
	if len(missing) > 0 || len(left) > 0 {
		t.Errorf("%s: allow was given the recent sends %s; missing %s, not wanted %s", what, fmtSends(got), fmtSends(missing), fmtSends(left))
	}
}

func testChallengeRoundTrip(t *testing.T, s PhoneStore) {
	acct := NewAccount()
	p := phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p)
	c := NewChallenge(p, t0.In(time.FixedZone("x", 3600)).Add(7))
	c.Purpose, c.Channel = phone.PurposeConfirm, phone.Voice
	c.Digest = allBytes()
	c.ExpiresAt = t0.Add(10*time.Minute + 999)
	kept := bytes.Clone(c.Digest)
	phCreate(t, s, c)
	c.Digest[0] ^= 1 // the store keeps its own copy
	c.Digest = kept
	got := getChallenge(t, s, acct, c.ID)
	check(t, "Challenge", got, c)
	got.Digest[0] ^= 1
	challengeUnchanged(t, s, c)
	_, err := s.Challenge(t.Context(), NewAccount(), c.ID)
	wantErr(t, "Challenge of another account", err, twofa.ErrNotFound)
}

func testChallengeNoPhone(t *testing.T, s PhoneStore) {
	acct := NewAccount()
	p := NewPhone(acct, t0)
	insertPhone(t, s, p)
	orphan := NewChallenge(NewPhone(acct, t0), t0)
	refuse := func([]phone.Send) error { return errRefused }
	wantErr(t, "CreateChallenge for an unknown phone", s.CreateChallenge(t.Context(), orphan, t0.Add(-time.Hour), refuse), twofa.ErrNotFound)
	elsewhere := NewChallenge(p, t0)
	elsewhere.Account = NewAccount()
	wantErr(t, "CreateChallenge for another account's phone", s.CreateChallenge(t.Context(), elsewhere, t0.Add(-time.Hour), refuse), twofa.ErrNotFound)
}

func testChallengeDuplicate(t *testing.T, s PhoneStore) {
	acct := NewAccount()
	p := NewPhone(acct, t0)
	insertPhone(t, s, p)
	c := NewChallenge(p, t0)
	phCreate(t, s, c)
	dup := NewChallenge(p, t0.Add(time.Minute))
	dup.ID = c.ID
	refuse := func([]phone.Send) error { return errRefused }
	wantErr(t, "CreateChallenge of an ID the account has", s.CreateChallenge(t.Context(), dup, t0.Add(-time.Hour), refuse), twofa.ErrDuplicate)
	challengeUnchanged(t, s, c)
}

// testChallengeRecent: allow is given exactly the account's challenges
// created after since - any state, purpose and phone, deleted phones'
// included, with the number each was sent to - and never another
// account's.
func testChallengeRecent(t *testing.T, s PhoneStore) {
	acct, other := NewAccount(), NewAccount()
	p, r := phTrusted(NewPhone(acct, t0)), phTrusted(NewPhone(acct, t0))
	q := NewPhone(acct, t0) // pending, deleted below
	o := phTrusted(NewPhone(other, t0))
	o.Number = p.Number
	insertPhone(t, s, p, q, r, o)
	now := t0.Add(2 * time.Hour)
	since := now.Add(-time.Hour)

	oldOpen := NewChallenge(r, now.Add(-2*time.Hour)) // open and unexpired: kept, but not after since
	oldOpen.ExpiresAt = now.Add(time.Hour)
	atSince := NewChallenge(p, since) // not after since
	justAfter := NewChallenge(p, since.Add(1))
	used := NewChallenge(q, since.Add(time.Minute))
	used.Purpose = phone.PurposeConfirm
	voided := NewChallenge(p, now.Add(-time.Minute)) // voids justAfter
	verify := NewChallenge(p, now.Add(-time.Second))
	verify.Purpose = phone.PurposeConfirm
	elsewhere := NewChallenge(o, now.Add(-30*time.Second))
	phCreate(t, s, oldOpen, atSince, justAfter, used)
	consumeChallenge(t, s, used, used.Digest, 5, used.CreatedAt)
	phCreate(t, s, voided)
	if err := s.VoidChallenge(t.Context(), acct, voided.ID); err != nil {
		t.Fatal(err)
	}
	phCreate(t, s, verify, elsewhere)
	if _, _, err := s.DeletePhone(t.Context(), acct, q.ID); err != nil {
		t.Fatal(err)
	}

	want := []phone.Send{
		sendOf(justAfter, p.Number.E164), sendOf(used, q.Number.E164),
		sendOf(voided, p.Number.E164), sendOf(verify, p.Number.E164),
	}
	wantSends(t, "CreateChallenge since an hour ago", recentSends(t, s, NewChallenge(p, now), since), want, nil)
	// Further back: oldOpen, not stale, counts; atSince, stale, may be gone.
	wantSends(t, "CreateChallenge since three hours ago", recentSends(t, s, NewChallenge(p, now), now.Add(-3*time.Hour)),
		append(want, sendOf(oldOpen, r.Number.E164)), []phone.Send{sendOf(atSince, p.Number.E164)})
	wantSends(t, "CreateChallenge since 1 ns before the last", recentSends(t, s, NewChallenge(p, now), verify.CreatedAt.Add(-1)),
		[]phone.Send{sendOf(verify, p.Number.E164)}, nil)
	// The other account sees its own only.
	wantSends(t, "CreateChallenge in the other account", recentSends(t, s, NewChallenge(o, now), since),
		[]phone.Send{sendOf(elsewhere, o.Number.E164)}, nil)
}

// testChallengeRecentNone: allow is called, with nothing, for an
// account that has sent nothing.
func testChallengeRecentNone(t *testing.T, s PhoneStore) {
	p := phTrusted(NewPhone(NewAccount(), t0))
	insertPhone(t, s, p)
	if got := recentSends(t, s, NewChallenge(p, t0), t0.Add(-time.Hour)); len(got) != 0 {
		t.Errorf("CreateChallenge for an account that sent nothing: allow was given %s", fmtSends(got))
	}
	var seen []phone.Send
	if err := s.CreateChallenge(t.Context(), NewChallenge(p, t0), t0.Add(-time.Hour), func(r []phone.Send) error {
		seen = slices.Clone(r)
		return nil
	}); err != nil {
		t.Fatalf("CreateChallenge allowed: %v", err)
	}
	if len(seen) != 0 {
		t.Errorf("CreateChallenge after a refused one: allow was given %s, want nothing (the refused one is not stored)", fmtSends(seen))
	}
}

// testChallengeRefused: a refusal of allow is returned as it is and
// changes nothing: the challenge is not stored, the phone's open one is
// not voided, stale ones are not deleted.
func testChallengeRefused(t *testing.T, s PhoneStore) {
	acct := NewAccount()
	p := phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p)
	first := NewChallenge(p, t0)
	phCreate(t, s, first)
	stale := NewChallenge(p, t0.Add(-2*time.Hour))
	stale.Purpose = phone.PurposeConfirm
	phCreate(t, s, stale)
	if err := s.VoidChallenge(t.Context(), acct, stale.ID); err != nil {
		t.Fatal(err)
	}
	stale.State = phone.ChallengeVoided

	now := t0.Add(time.Minute)
	refusal := error(&phone.CooldownError{RetryAfter: time.Second, Until: now.Add(time.Second)})
	refused := NewChallenge(p, now)
	err := s.CreateChallenge(t.Context(), refused, now.Add(-time.Hour), func([]phone.Send) error { return refusal })
	if err != refusal {
		t.Errorf("CreateChallenge refused by allow: err = %v, want allow's error as it is (%v)", err, refusal)
	}
	_, err = s.Challenge(t.Context(), acct, refused.ID)
	wantErr(t, "Challenge of a refused challenge (refused challenge stored?)", err, twofa.ErrNotFound)
	challengeUnchanged(t, s, first) // not voided by the refused one
	challengeUnchanged(t, s, stale) // not deleted by the refused one
	wantSends(t, "CreateChallenge after a refused one", recentSends(t, s, NewChallenge(p, now.Add(time.Second)), now.Add(-time.Hour)),
		[]phone.Send{sendOf(first, p.Number.E164)}, nil)
	// The same ID, allowed now: stored, and the first voided.
	refused.CreatedAt = now.Add(2 * time.Second)
	phCreate(t, s, refused)
	challengeUnchanged(t, s, refused)
	if got := getChallenge(t, s, acct, first.ID); got.State != phone.ChallengeVoided {
		t.Errorf("open challenge of the same phone and purpose after an allowed one: State = %v, want voided", got.State)
	}
}

func testChallengeVoidsPrevious(t *testing.T, s PhoneStore) {
	acct := NewAccount()
	p, q := phTrusted(NewPhone(acct, t0)), phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p, q)
	old := NewChallenge(p, t0)
	verify := NewChallenge(p, t0)
	verify.Purpose = phone.PurposeConfirm
	otherPhone := NewChallenge(q, t0)
	used := NewChallenge(p, t0)
	phCreate(t, s, used)
	consumeChallenge(t, s, used, used.Digest, 5, t0)
	phCreate(t, s, old, verify, otherPhone)

	phCreate(t, s, NewChallenge(p, t0.Add(time.Minute)))
	if got := getChallenge(t, s, acct, old.ID); got.State != phone.ChallengeVoided {
		t.Errorf("open challenge of the same phone and purpose: State = %v, want voided", got.State)
	}
	wantConsume(t, "a voided challenge's digest", s, old, old.Digest, 5, t0.Add(time.Minute), phone.ConsumeVoided, 0)
	challengeUnchanged(t, s, verify)
	challengeUnchanged(t, s, otherPhone)
	if got := getChallenge(t, s, acct, used.ID); got.State != phone.ChallengeUsed {
		t.Errorf("used challenge after a new one: State = %v, want used", got.State)
	}
}

// testChallengeCreateConcurrent: concurrent calls see each other's
// challenges - the allow function runs inside the atomic step.
func testChallengeCreateConcurrent(t *testing.T, s PhoneStore) {
	const n = 30
	acct := NewAccount()
	p := phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p)
	race(t, "CreateChallenge calls, allowed while none is recent", n, 1, errRefused, func(i int) error {
		return s.CreateChallenge(t.Context(), NewChallenge(p, t0.Add(time.Duration(i))), t0.Add(-time.Hour), allowBelow(1))
	})
	live, err := s.LiveChallenges(t.Context(), acct, phone.PurposeSignIn, t0.Add(time.Minute))
	if err != nil || len(live) != 1 {
		t.Errorf("LiveChallenges = %d challenges, %v; want 1", len(live), err)
	}
}

func testChallengeCreateConcurrentCap(t *testing.T, s PhoneStore) {
	const n, k = 30, 5
	acct := NewAccount()
	p := phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p)
	race(t, fmt.Sprintf("CreateChallenge calls for one number, allowed while fewer than %d are recent", k), n, k, errRefused, func(i int) error {
		return s.CreateChallenge(t.Context(), NewChallenge(p, t0.Add(time.Duration(i))), t0.Add(-time.Hour), allowBelow(k))
	})
	if got := recentSends(t, s, NewChallenge(p, t0.Add(time.Second)), t0.Add(-time.Hour)); len(got) != k {
		t.Errorf("after the race: %d recent sends, want %d", len(got), k)
	}
}

func testChallengeCreateConcurrentAccountCap(t *testing.T, s PhoneStore) {
	const n, k = 30, 5
	acct := NewAccount()
	p, q := phTrusted(NewPhone(acct, t0)), phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p, q)
	race(t, fmt.Sprintf("CreateChallenge calls for two numbers of one account, allowed while fewer than %d are recent", k), n, k, errRefused, func(i int) error {
		ph := p
		if i%2 == 1 {
			ph = q
		}
		return s.CreateChallenge(t.Context(), NewChallenge(ph, t0.Add(time.Duration(i))), t0.Add(-time.Hour), allowBelow(k))
	})
}

func testVoidChallenge(t *testing.T, s PhoneStore) {
	acct := NewAccount()
	p := phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p)
	open, used := NewChallenge(p, t0), NewChallenge(p, t0)
	used.Purpose = phone.PurposeConfirm
	phCreate(t, s, open, used)
	consumeChallenge(t, s, used, used.Digest, 5, t0)
	for _, id := range []string{open.ID, used.ID, open.ID} {
		if err := s.VoidChallenge(t.Context(), acct, id); err != nil {
			t.Fatalf("VoidChallenge(%q): %v", id, err)
		}
	}
	if got := getChallenge(t, s, acct, open.ID); got.State != phone.ChallengeVoided {
		t.Errorf("voided open challenge: State = %v, want voided", got.State)
	}
	if got := getChallenge(t, s, acct, used.ID); got.State != phone.ChallengeUsed {
		t.Errorf("voided used challenge: State = %v, want used (unchanged)", got.State)
	}
	wantConsume(t, "right digest of a voided challenge", s, open, open.Digest, 5, t0, phone.ConsumeVoided, 0)
	wantErr(t, "VoidChallenge of an unknown challenge", s.VoidChallenge(t.Context(), acct, phRandomID()), twofa.ErrNotFound)
	wantErr(t, "VoidChallenge of another account's challenge", s.VoidChallenge(t.Context(), NewAccount(), open.ID), twofa.ErrNotFound)
	// A voided challenge still counts for the limits.
	wantSends(t, "CreateChallenge after a voided one", recentSends(t, s, NewChallenge(p, t0.Add(time.Second)), t0.Add(-time.Hour)),
		[]phone.Send{sendOf(open, p.Number.E164), sendOf(used, p.Number.E164)}, nil)
}

func testLiveChallenges(t *testing.T, s PhoneStore) {
	acct := NewAccount()
	p, q := phTrusted(NewPhone(acct, t0)), phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p, q)
	now := t0.Add(5 * time.Minute)

	first := NewChallenge(p, t0)                   // used: listed
	second := NewChallenge(q, t0.Add(time.Second)) // open: listed
	third := NewChallenge(q, t0.Add(time.Second))  // voids second
	sameTime := NewChallenge(p, t0.Add(time.Second))
	expired := NewChallenge(p, t0.Add(2*time.Second))
	expired.ExpiresAt = now // at now: not listed
	verify := NewChallenge(p, t0.Add(3*time.Second))
	verify.Purpose = phone.PurposeConfirm
	phCreate(t, s, first)
	consumeChallenge(t, s, first, first.Digest, 5, t0)
	phCreate(t, s, second)
	phCreate(t, s, third)
	// sameTime would void first if it were open: it is used, and stays.
	phCreate(t, s, sameTime, verify)
	other := NewAccount()
	po := phTrusted(NewPhone(other, t0))
	insertPhone(t, s, po)
	phCreate(t, s, NewChallenge(po, t0))
	// expired voids sameTime (same phone and purpose).
	phCreate(t, s, expired)

	live, err := s.LiveChallenges(t.Context(), acct, phone.PurposeSignIn, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{third.ID, first.ID}
	if got := phIDs(live, challengeID); !slices.Equal(got, want) {
		t.Errorf("LiveChallenges(sign-in) = %v, want %v (third, first: newest first, without voided and expired ones)", got, want)
	}
	for _, c := range live {
		if c.ID == first.ID && (c.State != phone.ChallengeUsed || !c.UsedAt.Equal(t0)) {
			t.Errorf("used challenge listed with State %v, UsedAt %s", c.State, fmtTime(c.UsedAt))
		}
	}
	live, err = s.LiveChallenges(t.Context(), acct, phone.PurposeConfirm, now)
	if err != nil || !slices.Equal(phIDs(live, challengeID), []string{verify.ID}) {
		t.Errorf("LiveChallenges(verify) = %v, %v; want [%s]", phIDs(live, challengeID), err, verify.ID)
	}
	live, err = s.LiveChallenges(t.Context(), NewAccount(), phone.PurposeSignIn, now)
	if err != nil || len(live) != 0 {
		t.Errorf("LiveChallenges of an unknown account = %d, %v; want none", len(live), err)
	}
	// Two at the same instant: the later inserted first.
	acct2 := NewAccount()
	r, u := phTrusted(NewPhone(acct2, t0)), phTrusted(NewPhone(acct2, t0))
	insertPhone(t, s, r, u)
	x, y := NewChallenge(r, t0), NewChallenge(u, t0)
	phCreate(t, s, x, y)
	live, err = s.LiveChallenges(t.Context(), acct2, phone.PurposeSignIn, t0)
	if err != nil || !slices.Equal(phIDs(live, challengeID), []string{y.ID, x.ID}) {
		t.Errorf("LiveChallenges with equal CreatedAt = %v, %v; want [%s %s] (latest inserted first)", phIDs(live, challengeID), err, y.ID, x.ID)
	}
}

func testConsumeChallengeOnce(t *testing.T, s PhoneStore) {
	acct := NewAccount()
	p := phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p)
	c := NewChallenge(p, t0)
	phCreate(t, s, c)
	at := t0.Add(time.Minute + 5)
	wantConsume(t, "the right digest", s, c, c.Digest, 5, at, phone.ConsumeAccepted, 0)
	want := c
	want.State, want.UsedAt = phone.ChallengeUsed, at
	challengeUnchanged(t, s, want)
	wantConsume(t, "the right digest again", s, c, c.Digest, 5, at, phone.ConsumeUsed, 0)
	wantConsume(t, "a wrong digest after use", s, c, randomBytes(32), 5, at, phone.ConsumeUsed, 0)
	challengeUnchanged(t, s, want)
}

func testConsumeChallengeTouches(t *testing.T, s PhoneStore) {
	acct := NewAccount()
	p, other := phTrusted(NewPhone(acct, t0)), phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p, other)
	used := func(what string, want time.Time) {
		t.Helper()
		if got := getPhone(t, s, acct, p.ID).LastUsedAt; !got.Equal(want) {
			t.Errorf("%s: LastUsedAt = %s, want %s", what, fmtTime(got), fmtTime(want))
		}
		if got := getPhone(t, s, acct, other.ID).LastUsedAt; !got.Equal(other.LastUsedAt) {
			t.Errorf("%s: the other phone's LastUsedAt = %s, want it unchanged", what, fmtTime(got))
		}
	}
	c := NewChallenge(p, t0)
	phCreate(t, s, c)
	wantConsume(t, "a wrong digest", s, c, randomBytes(32), 5, t0.Add(time.Minute), phone.ConsumeWrong, 1)
	used("after a wrong digest", p.LastUsedAt)
	wantConsume(t, "the right digest", s, c, c.Digest, 5, t0.Add(2*time.Minute), phone.ConsumeAccepted, 1)
	used("after the right digest", t0.Add(2*time.Minute))
	// Never back: a code used at an earlier time leaves it.
	d := NewChallenge(p, t0)
	phCreate(t, s, d)
	wantConsume(t, "an earlier use", s, d, d.Digest, 5, t0.Add(time.Minute), phone.ConsumeAccepted, 0)
	used("after an earlier use", t0.Add(2*time.Minute))
}

func testConsumeChallengeWrong(t *testing.T, s PhoneStore) {
	acct := NewAccount()
	p := phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p)
	c := NewChallenge(p, t0)
	phCreate(t, s, c)
	wrongs := [][]byte{randomBytes(32), c.Digest[:31], append(bytes.Clone(c.Digest), 0), {}}
	for i, d := range wrongs {
		wantConsume(t, fmt.Sprintf("wrong digest #%d", i), s, c, d, 10, t0, phone.ConsumeWrong, i+1)
	}
	wantConsume(t, "the right digest after wrong ones", s, c, c.Digest, 10, t0, phone.ConsumeAccepted, len(wrongs))
}

func testConsumeChallengeExhausted(t *testing.T, s PhoneStore) {
	const maxAttempts = 5
	acct := NewAccount()
	p := phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p)
	c := NewChallenge(p, t0)
	phCreate(t, s, c)
	for i := range maxAttempts {
		wantConsume(t, fmt.Sprintf("wrong try %d", i+1), s, c, randomBytes(32), maxAttempts, t0, phone.ConsumeWrong, i+1)
	}
	wantConsume(t, "the right digest on try 6", s, c, c.Digest, maxAttempts, t0, phone.ConsumeExhausted, maxAttempts)
	wantConsume(t, "a wrong digest on try 7", s, c, randomBytes(32), maxAttempts, t0, phone.ConsumeExhausted, maxAttempts)
	want := c
	want.Attempts = maxAttempts
	challengeUnchanged(t, s, want)
	// maxAttempts 0 refuses even the first try.
	d := NewChallenge(p, t0.Add(time.Second))
	phCreate(t, s, d)
	wantConsume(t, "maxAttempts 0", s, d, d.Digest, 0, t0, phone.ConsumeExhausted, 0)
}

func testConsumeChallengeExpired(t *testing.T, s PhoneStore) {
	acct := NewAccount()
	p := phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p)
	c := NewChallenge(p, t0)
	phCreate(t, s, c)
	wantConsume(t, "the right digest at ExpiresAt", s, c, c.Digest, 5, c.ExpiresAt, phone.ConsumeExpired, 0)
	wantConsume(t, "a wrong digest after ExpiresAt", s, c, randomBytes(32), 5, c.ExpiresAt.Add(time.Hour), phone.ConsumeExpired, 0)
	challengeUnchanged(t, s, c)
	wantConsume(t, "the right digest 1 ns before ExpiresAt", s, c, c.Digest, 5, c.ExpiresAt.Add(-1), phone.ConsumeAccepted, 0)
}

func testConsumeChallengeVoided(t *testing.T, s PhoneStore) {
	acct := NewAccount()
	p := phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p)
	old, fresh := NewChallenge(p, t0), NewChallenge(p, t0.Add(time.Minute))
	phCreate(t, s, old, fresh)
	wantConsume(t, "the right digest of a replaced challenge", s, old, old.Digest, 5, fresh.CreatedAt, phone.ConsumeVoided, 0)
	wantConsume(t, "the replaced challenge's digest against the new one", s, fresh, old.Digest, 5, fresh.CreatedAt, phone.ConsumeWrong, 1)
	wantConsume(t, "the new challenge's digest", s, fresh, fresh.Digest, 5, fresh.CreatedAt, phone.ConsumeAccepted, 1)
}

func testConsumeChallengeIsolation(t *testing.T, s PhoneStore) {
	a, b := NewAccount(), NewAccount()
	pa, qa := phTrusted(NewPhone(a, t0)), phTrusted(NewPhone(a, t0))
	pb := phTrusted(NewPhone(b, t0))
	insertPhone(t, s, pa, qa, pb)
	ca, cq, cb := NewChallenge(pa, t0), NewChallenge(qa, t0), NewChallenge(pb, t0)
	phCreate(t, s, ca, cq, cb)

	_, _, err := s.ConsumeChallenge(t.Context(), b, ca.ID, ca.Digest, 5, t0, nil, nil)
	wantErr(t, "ConsumeChallenge of another account's challenge", err, twofa.ErrNotFound)
	_, _, err = s.ConsumeChallenge(t.Context(), a, phRandomID(), ca.Digest, 5, t0, nil, nil)
	wantErr(t, "ConsumeChallenge of an unknown ID", err, twofa.ErrNotFound)
	wantConsume(t, "another phone's digest", s, cq, ca.Digest, 5, t0, phone.ConsumeWrong, 1)
	wantConsume(t, "another account's digest", s, cb, ca.Digest, 5, t0, phone.ConsumeWrong, 1)
	challengeUnchanged(t, s, ca)
	wantConsume(t, "its own digest", s, ca, ca.Digest, 5, t0, phone.ConsumeAccepted, 0)
}

func testConsumeChallengeConcurrent(t *testing.T, s PhoneStore) {
	const n = 100
	acct := NewAccount()
	p := phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p)
	c := NewChallenge(p, t0)
	phCreate(t, s, c)
	var wins, used atomic.Int32
	parallel(n, func(int) {
		r, _, err := s.ConsumeChallenge(t.Context(), acct, c.ID, c.Digest, 5, t0, nil, nil)
		switch {
		case err != nil:
			t.Errorf("ConsumeChallenge: %v", err)
		case r == phone.ConsumeAccepted:
			wins.Add(1)
		case r == phone.ConsumeUsed:
			used.Add(1)
		default:
			t.Errorf("ConsumeChallenge = %v, want accepted or used", r)
		}
	})
	if wins.Load() != 1 || used.Load() != n-1 {
		t.Errorf("%d concurrent ConsumeChallenge calls with the right digest: %d accepted, %d used; want 1 and %d", n, wins.Load(), used.Load(), n-1)
	}
}

func testConsumeChallengeConcurrentWrong(t *testing.T, s PhoneStore) {
	const n, maxAttempts = 60, 5
	acct := NewAccount()
	p := phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p)
	c := NewChallenge(p, t0)
	phCreate(t, s, c)
	var wrong, exhausted, accepted atomic.Int32
	parallel(n, func(i int) {
		d := randomBytes(32)
		if i == n/2 {
			d = c.Digest // one right code among the guesses
		}
		r, _, err := s.ConsumeChallenge(t.Context(), acct, c.ID, d, maxAttempts, t0, nil, nil)
		switch {
		case err != nil:
			t.Errorf("ConsumeChallenge: %v", err)
		case r == phone.ConsumeWrong:
			wrong.Add(1)
		case r == phone.ConsumeExhausted, r == phone.ConsumeUsed:
			exhausted.Add(1)
		case r == phone.ConsumeAccepted:
			accepted.Add(1)
		}
	})
	got := getChallenge(t, s, acct, c.ID)
	switch {
	case wrong.Load() > maxAttempts:
		t.Errorf("%d concurrent wrong digests with maxAttempts %d: %d counted", n, maxAttempts, wrong.Load())
	case int(wrong.Load()) != got.Attempts:
		t.Errorf("%d wrong results but Attempts = %d", wrong.Load(), got.Attempts)
	case accepted.Load() == 0 && wrong.Load() != maxAttempts:
		t.Errorf("the right digest was refused while only %d wrong ones were counted", wrong.Load())
	case accepted.Load() > 1:
		t.Errorf("%d accepted", accepted.Load())
	}
}

func testDeleteStaleChallenges(t *testing.T, s PhoneStore) {
	now := pastEra()
	if _, err := s.DeleteStaleChallenges(t.Context(), now); err != nil {
		t.Fatal(err)
	}
	// One account each: CreateChallenge may delete the account's stale
	// challenges itself.
	var gone, kept []phone.Challenge
	mk := func(created, expires time.Duration, consume bool) phone.Challenge {
		p := phTrusted(NewPhone(NewAccount(), now.Add(-3*time.Hour)))
		insertPhone(t, s, p)
		c := NewChallenge(p, now.Add(created))
		c.ExpiresAt = now.Add(expires)
		phCreate(t, s, c)
		if consume {
			consumeChallenge(t, s, c, c.Digest, 5, c.CreatedAt)
		}
		return c
	}
	gone = append(gone,
		mk(-time.Hour, -50*time.Minute, false), // an hour old, expired
		mk(-2*time.Hour, time.Hour, true),      // used, two hours old
		mk(-time.Hour, 0, false),               // expired at now exactly
	)
	kept = append(kept,
		mk(-time.Hour+1, -time.Minute, true), // within the hour: counts for the cap
		mk(-30*time.Minute, -20*time.Minute, false),
		mk(-2*time.Hour, 1, false), // open and not expired
	)
	n, err := s.DeleteStaleChallenges(t.Context(), now)
	if n != len(gone) || err != nil {
		t.Errorf("DeleteStaleChallenges = %d, %v; want %d, nil", n, err, len(gone))
	}
	for _, c := range gone {
		_, err := s.Challenge(t.Context(), c.Account, c.ID)
		wantErr(t, "Challenge of a stale challenge", err, twofa.ErrNotFound)
	}
	for _, c := range kept {
		getChallenge(t, s, c.Account, c.ID)
	}
}
