package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
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
		{"ChallengeStore/CreateChallenge/Cooldown", testChallengeCooldown},
		{"ChallengeStore/CreateChallenge/HourlyCap", testChallengeHourlyCap},
		{"ChallengeStore/CreateChallenge/CooldownAndCap", testChallengeBothLimits},
		{"ChallengeStore/CreateChallenge/PerAccountNumber", testChallengePerAccountNumber},
		{"ChallengeStore/CreateChallenge/AccountCap", testChallengeAccountCap},
		{"ChallengeStore/CreateChallenge/VoidsPrevious", testChallengeVoidsPrevious},
		{"ChallengeStore/CreateChallenge/Concurrent", testChallengeCreateConcurrent},
		{"ChallengeStore/CreateChallenge/ConcurrentCap", testChallengeCreateConcurrentCap},
		{"ChallengeStore/CreateChallenge/ConcurrentAccountCap", testChallengeCreateConcurrentAccountCap},
		{"ChallengeStore/VoidChallenge/Voids", testVoidChallenge},
		{"ChallengeStore/LiveChallenges/Filters", testLiveChallenges},
		{"ChallengeStore/ConsumeChallenge/Once", testConsumeChallengeOnce},
		{"ChallengeStore/ConsumeChallenge/Wrong", testConsumeChallengeWrong},
		{"ChallengeStore/ConsumeChallenge/ExhaustedRefusesRightDigest", testConsumeChallengeExhausted},
		{"ChallengeStore/ConsumeChallenge/Expired", testConsumeChallengeExpired},
		{"ChallengeStore/ConsumeChallenge/Voided", testConsumeChallengeVoided},
		{"ChallengeStore/ConsumeChallenge/Isolation", testConsumeChallengeIsolation},
		{"ChallengeStore/ConsumeChallenge/Concurrent", testConsumeChallengeConcurrent},
		{"ChallengeStore/ConsumeChallenge/ConcurrentWrong", testConsumeChallengeConcurrentWrong},
		{"ChallengeStore/DeleteStaleChallenges/Counts", testDeleteStaleChallenges},
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
		if err := s.CreateChallenge(t.Context(), c, 0, 1000, noAccountCap); err != nil {
			t.Fatalf("CreateChallenge(%q, no cool-down, 1000 an hour): %v", c.ID, err)
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
	r, n, err := s.ConsumeChallenge(t.Context(), c.Account, c.ID, digest, maxAttempts, now)
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

// noAccountCap is a perAccount that the tests of other limits never reach.
const noAccountCap = 1 << 20

// wantCooldown checks that err is a *phone.CooldownError with these
// fields.
func wantCooldown(t *testing.T, what string, err error, now, until time.Time, hourly bool) {
	t.Helper()
	var cd *phone.CooldownError
	if !errors.As(err, &cd) {
		t.Errorf("%s: err = %v, want a *phone.CooldownError", what, err)
		return
	}
	if !cd.Until.Equal(until) || cd.RetryAfter != until.Sub(now) || cd.Hourly != hourly {
		t.Errorf("%s: CooldownError{RetryAfter: %v, Until: %s, Hourly: %v}, want {%v, %s, %v}",
			what, cd.RetryAfter, fmtTime(cd.Until), cd.Hourly, until.Sub(now), fmtTime(until), hourly)
	}
	if !errors.Is(err, phone.ErrCooldown) {
		t.Errorf("%s: err = %v does not match ErrCooldown", what, err)
	}
	if errors.Is(err, twofa.ErrLimitReached) != hourly {
		t.Errorf("%s: errors.Is(err, ErrLimitReached) = %v, want %v (Hourly)", what, !hourly, hourly)
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
	wantErr(t, "CreateChallenge for an unknown phone", s.CreateChallenge(t.Context(), orphan, 0, 10, noAccountCap), twofa.ErrNotFound)
	elsewhere := NewChallenge(p, t0)
	elsewhere.Account = NewAccount()
	wantErr(t, "CreateChallenge for another account's phone", s.CreateChallenge(t.Context(), elsewhere, 0, 10, noAccountCap), twofa.ErrNotFound)
}

func testChallengeDuplicate(t *testing.T, s PhoneStore) {
	acct := NewAccount()
	p := NewPhone(acct, t0)
	insertPhone(t, s, p)
	c := NewChallenge(p, t0)
	phCreate(t, s, c)
	dup := NewChallenge(p, t0.Add(time.Minute))
	dup.ID = c.ID
	wantErr(t, "CreateChallenge of an ID the account has", s.CreateChallenge(t.Context(), dup, 0, 10, noAccountCap), twofa.ErrDuplicate)
	challengeUnchanged(t, s, c)
}

func testChallengeCooldown(t *testing.T, s PhoneStore) {
	const cooldown = 30 * time.Second
	acct := NewAccount()
	p := phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p)
	first := NewChallenge(p, t0)
	if err := s.CreateChallenge(t.Context(), first, cooldown, 5, noAccountCap); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(cooldown - 1)
	refused := NewChallenge(p, now)
	wantCooldown(t, "CreateChallenge 1 ns before the cool-down ends", s.CreateChallenge(t.Context(), refused, cooldown, 5, noAccountCap), now, t0.Add(cooldown), false)
	_, err := s.Challenge(t.Context(), acct, refused.ID)
	wantErr(t, "Challenge of a refused challenge", err, twofa.ErrNotFound)
	challengeUnchanged(t, s, first) // not voided by the refused one

	if err := s.CreateChallenge(t.Context(), NewChallenge(p, t0.Add(cooldown)), cooldown, 5, noAccountCap); err != nil {
		t.Errorf("CreateChallenge when the cool-down ends: %v", err)
	}
	// No cool-down at all.
	if err := s.CreateChallenge(t.Context(), NewChallenge(p, t0.Add(cooldown)), 0, 5, noAccountCap); err != nil {
		t.Errorf("CreateChallenge with cool-down 0 at the same instant: %v", err)
	}
}

func testChallengeHourlyCap(t *testing.T, s PhoneStore) {
	const perHour = 3
	acct := NewAccount()
	p := phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p)
	times := []time.Time{t0, t0.Add(10 * time.Minute), t0.Add(20 * time.Minute)}
	for _, at := range times {
		if err := s.CreateChallenge(t.Context(), NewChallenge(p, at), time.Second, perHour, noAccountCap); err != nil {
			t.Fatalf("CreateChallenge below the cap: %v", err)
		}
	}
	now := t0.Add(time.Hour - 1)
	err := s.CreateChallenge(t.Context(), NewChallenge(p, now), time.Second, perHour, noAccountCap)
	wantCooldown(t, "CreateChallenge at the cap", err, now, t0.Add(time.Hour), true)
	wantErr(t, "CreateChallenge at the cap", err, phone.ErrTooManyCodes)

	// An hour after the first, it no longer counts.
	if err := s.CreateChallenge(t.Context(), NewChallenge(p, t0.Add(time.Hour)), time.Second, perHour, noAccountCap); err != nil {
		t.Fatalf("CreateChallenge an hour after the first: %v", err)
	}
	// Now the three in the hour are +10m, +20m, +1h: the third latest,
	// +10m, leaves the window at +1h10m.
	now = t0.Add(time.Hour + time.Minute)
	err = s.CreateChallenge(t.Context(), NewChallenge(p, now), time.Second, perHour, noAccountCap)
	wantCooldown(t, "CreateChallenge at the cap again", err, now, t0.Add(70*time.Minute), true)

	wantErr(t, "CreateChallenge with perHour 0", s.CreateChallenge(t.Context(), NewChallenge(p, t0.Add(5*time.Hour)), 0, 0, noAccountCap), twofa.ErrLimitReached)
}

func testChallengeBothLimits(t *testing.T, s PhoneStore) {
	acct := NewAccount()
	p := phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p)
	phCreate(t, s, NewChallenge(p, t0))
	// Cap 1: the cap holds until +1h, the cool-down (2h) until +2h.
	now := t0.Add(time.Minute)
	err := s.CreateChallenge(t.Context(), NewChallenge(p, now), 2*time.Hour, 1, noAccountCap)
	wantCooldown(t, "cool-down ending after the cap", err, now, t0.Add(2*time.Hour), false)
	err = s.CreateChallenge(t.Context(), NewChallenge(p, now), time.Minute+1, 1, noAccountCap)
	wantCooldown(t, "cap ending after the cool-down", err, now, t0.Add(time.Hour), true)
	err = s.CreateChallenge(t.Context(), NewChallenge(p, now), time.Hour, 1, noAccountCap)
	wantCooldown(t, "both ending at once", err, now, t0.Add(time.Hour), true)
}

// testChallengePerAccountNumber: the cool-down and the hourly cap count
// the account's own challenges of the number and purpose; other
// accounts' challenges for the same number never count nor show.
func testChallengePerAccountNumber(t *testing.T, s PhoneStore) {
	a, b := NewAccount(), NewAccount()
	pa := phTrusted(NewPhone(a, t0))
	pb := NewPhone(b, t0) // pending: its codes are verification codes
	pb.Number = pa.Number
	pc := phTrusted(NewPhone(a, t0)) // another number of a
	insertPhone(t, s, pa, pb, pc)

	if err := s.CreateChallenge(t.Context(), NewChallenge(pa, t0), time.Minute, 2, noAccountCap); err != nil {
		t.Fatal(err)
	}
	vb := NewChallenge(pb, t0.Add(time.Second))
	vb.Purpose = phone.PurposeConfirm
	if err := s.CreateChallenge(t.Context(), vb, time.Minute, 2, noAccountCap); err != nil {
		t.Errorf("CreateChallenge for the same number in another account, within the first's cool-down: %v", err)
	}
	vb2 := NewChallenge(pb, t0.Add(2*time.Second))
	vb2.Purpose = phone.PurposeConfirm
	wantCooldown(t, "CreateChallenge within the account's own cool-down", s.CreateChallenge(t.Context(), vb2, time.Minute, 2, noAccountCap), vb2.CreatedAt, t0.Add(time.Second+time.Minute), false)
	now := t0.Add(2 * time.Second)
	if err := s.CreateChallenge(t.Context(), NewChallenge(pc, now), time.Minute, 2, noAccountCap); err != nil {
		t.Errorf("CreateChallenge for another number: %v", err)
	}
	// Another purpose, same number: the cool-down holds, but the hourly
	// cap is the purpose's own.
	va := NewChallenge(pa, now)
	va.Purpose = phone.PurposeConfirm
	wantCooldown(t, "CreateChallenge for the number with another purpose, within the cool-down", s.CreateChallenge(t.Context(), va, time.Minute, 1, noAccountCap), now, t0.Add(time.Minute), false)
	va.CreatedAt = t0.Add(time.Minute)
	if err := s.CreateChallenge(t.Context(), va, time.Minute, 1, noAccountCap); err != nil {
		t.Errorf("CreateChallenge for the number with another purpose, cap 1, after the cool-down: %v", err)
	}
	// b's second send: the cap of 2 reached by b's own sends only.
	vb2.CreatedAt = t0.Add(2 * time.Minute)
	if err := s.CreateChallenge(t.Context(), vb2, time.Minute, 2, noAccountCap); err != nil {
		t.Fatalf("CreateChallenge after the cool-down: %v", err)
	}
	now = t0.Add(4 * time.Minute)
	vb3 := NewChallenge(pb, now)
	vb3.Purpose = phone.PurposeConfirm
	wantCooldown(t, "CreateChallenge past the account's cap for the number", s.CreateChallenge(t.Context(), vb3, time.Minute, 2, noAccountCap), now, t0.Add(time.Hour+time.Second), true)
	// a sent one sign-in code to the number: b's two do not count.
	if err := s.CreateChallenge(t.Context(), NewChallenge(pa, now), time.Minute, 2, noAccountCap); err != nil {
		t.Errorf("CreateChallenge for a number another account capped: %v", err)
	}
}

// testChallengeAccountCap: perAccount counts every challenge of the
// account, of any number and purpose, those of deleted phones included.
func testChallengeAccountCap(t *testing.T, s PhoneStore) {
	acct, other := NewAccount(), NewAccount()
	p, q := phTrusted(NewPhone(acct, t0)), NewPhone(acct, t0)
	o := phTrusted(NewPhone(other, t0))
	o.Number = p.Number
	insertPhone(t, s, p, q, o)
	create := func(ph phone.Record, at time.Time, purpose phone.Purpose) error {
		c := NewChallenge(ph, at)
		c.Purpose = purpose
		return s.CreateChallenge(t.Context(), c, time.Second, 100, 3)
	}
	if err := create(p, t0, phone.PurposeSignIn); err != nil {
		t.Fatal(err)
	}
	if err := create(q, t0.Add(time.Minute), phone.PurposeConfirm); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.DeletePhone(t.Context(), acct, q.ID); err != nil {
		t.Fatal(err)
	}
	if err := create(p, t0.Add(2*time.Minute), phone.PurposeSignIn); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(3 * time.Minute)
	err := create(p, now, phone.PurposeSignIn)
	wantCooldown(t, "CreateChallenge at the account's cap (a deleted phone's challenge counting)", err, now, t0.Add(time.Hour), true)
	wantErr(t, "CreateChallenge at the account's cap", err, phone.ErrTooManyCodes)
	again := phTrusted(NewPhone(acct, now))
	insertPhone(t, s, again)
	wantCooldown(t, "CreateChallenge for a new number at the account's cap", create(again, now, phone.PurposeSignIn), now, t0.Add(time.Hour), true)
	if err := create(o, now, phone.PurposeSignIn); err != nil {
		t.Errorf("CreateChallenge in another account: %v", err)
	}
	if err := create(p, t0.Add(time.Hour), phone.PurposeSignIn); err != nil {
		t.Errorf("CreateChallenge an hour after the first: %v", err)
	}
	// The cool-down beyond the account's cap: not Hourly.
	now = t0.Add(time.Hour + time.Second/2)
	c := NewChallenge(p, now)
	wantCooldown(t, "cool-down ending after the account's cap", s.CreateChallenge(t.Context(), c, 2*time.Minute, 100, 3), now, t0.Add(time.Hour+2*time.Minute), false)
	wantErr(t, "CreateChallenge with perAccount 0", s.CreateChallenge(t.Context(), NewChallenge(p, t0.Add(5*time.Hour)), 0, 10, 0), twofa.ErrLimitReached)
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

func testChallengeCreateConcurrent(t *testing.T, s PhoneStore) {
	const n = 30
	acct := NewAccount()
	p := phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p)
	race(t, "CreateChallenge calls within the cool-down", n, 1, phone.ErrCooldown, func(i int) error {
		return s.CreateChallenge(t.Context(), NewChallenge(p, t0.Add(time.Duration(i))), 30*time.Second, 100, noAccountCap)
	})
	live, err := s.LiveChallenges(t.Context(), acct, phone.PurposeSignIn, t0.Add(time.Minute))
	if err != nil || len(live) != 1 {
		t.Errorf("LiveChallenges = %d challenges, %v; want 1", len(live), err)
	}
}

func testChallengeCreateConcurrentCap(t *testing.T, s PhoneStore) {
	const n, perHour = 30, 5
	acct := NewAccount()
	p := phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p)
	race(t, fmt.Sprintf("CreateChallenge calls for one number, cap %d", perHour), n, perHour, phone.ErrTooManyCodes, func(i int) error {
		return s.CreateChallenge(t.Context(), NewChallenge(p, t0.Add(time.Duration(i))), 0, perHour, noAccountCap)
	})
}

func testChallengeCreateConcurrentAccountCap(t *testing.T, s PhoneStore) {
	const n, perAccount = 30, 5
	acct := NewAccount()
	p, q := phTrusted(NewPhone(acct, t0)), phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p, q)
	race(t, fmt.Sprintf("CreateChallenge calls for two numbers of one account, account cap %d", perAccount), n, perAccount, phone.ErrTooManyCodes, func(i int) error {
		ph := p
		if i%2 == 1 {
			ph = q
		}
		return s.CreateChallenge(t.Context(), NewChallenge(ph, t0.Add(time.Duration(i))), 0, n, perAccount)
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
	now := t0.Add(time.Second)
	wantCooldown(t, "CreateChallenge after a voided one", s.CreateChallenge(t.Context(), NewChallenge(p, now), time.Minute, 10, noAccountCap), now, t0.Add(time.Minute), false)
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

	_, _, err := s.ConsumeChallenge(t.Context(), b, ca.ID, ca.Digest, 5, t0)
	wantErr(t, "ConsumeChallenge of another account's challenge", err, twofa.ErrNotFound)
	_, _, err = s.ConsumeChallenge(t.Context(), a, phRandomID(), ca.Digest, 5, t0)
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
		r, _, err := s.ConsumeChallenge(t.Context(), acct, c.ID, c.Digest, 5, t0)
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
		r, _, err := s.ConsumeChallenge(t.Context(), acct, c.ID, d, maxAttempts, t0)
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
