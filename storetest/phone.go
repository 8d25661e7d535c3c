package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/phone"
)

// PhoneStore is what RunPhones checks: phone.Store, a store of phone
// numbers and of out-of-band challenges (package phone). Run checks it
// too when the store implements it; RunPhones is for a store of these
// alone.
type PhoneStore = phone.Store

// RunPhones runs the conformance suite of phone.NumberStore and
// phone.ChallengeStore against the stores newStore returns, one per
// subtest, as Run does for the other interfaces; the stores may share a
// database. Subtests are named like "ChallengeStore/ConsumeChallenge/Concurrent".
//
// Beyond the interface comments, the suite expects what Run expects
// (times to the nanosecond, digests as binary, a cancelled context
// changing nothing, no aliasing of slices), and: phone IDs and challenge
// IDs are unique at least within an account; a phone's Number comes back
// as stored, CountryCode included; ConsumeChallenge reports Attempts
// after its step whatever the result; and a store may delete stale
// challenges of an account only as CreateChallenge succeeds or in
// DeleteStaleChallenges.
func RunPhones(t *testing.T, newStore func(t *testing.T) PhoneStore) {
	t.Helper()
	run(t, "RunPhones", "PhoneStore", newStore, phoneTests())
}

func phoneTests() []testCase[PhoneStore] {
	cs := []testCase[PhoneStore]{
		{"PhoneStore/InsertPhone/RoundTrip", testPhoneRoundTrip},
		{"PhoneStore/InsertPhone/Limit", testPhoneLimit},
		{"PhoneStore/InsertPhone/ExpiredFreeSlots", testPhoneExpiredFree},
		{"PhoneStore/InsertPhone/Duplicate", testPhoneDuplicate},
		{"PhoneStore/InsertPhone/Concurrent", testPhoneInsertConcurrent},
		{"PhoneStore/InsertPhone/ConcurrentSameNumber", testPhoneInsertSameNumber},
		{"PhoneStore/Phone/NotFound", testPhoneNotFound},
		{"PhoneStore/ConfirmPhone/Confirms", testConfirmPhone},
		{"PhoneStore/ConfirmPhone/Concurrent", testConfirmPhoneConcurrent},
		{"PhoneStore/DeletePhone/TrustedLeft", testDeletePhone},
		{"PhoneStore/DeletePhone/VoidsChallenges", testDeletePhoneVoids},
		{"PhoneStore/DeletePhone/KeepsSendHistory", testDeletePhoneHistory},
		{"PhoneStore/DeleteExpiredPhones/Counts", testDeleteExpiredPhones},
		{"PhoneStore/MAC/CompareAndSet", testPhoneMAC},
		{"PhoneStore/PhonesAfter/Pages", testPhonesAfter},
	}
	cs = append(cs, phoneCancelTests()...)
	return append(cs, challengeTests()...)
}

// NewPhoneNumber returns a random number of the North American plan,
// "+1" and 10 digits, that no other test uses: tests sharing a store
// must not share numbers.
func NewPhoneNumber() phone.Number {
	b := randomBytes(10)
	d := []byte("+1")
	for i, x := range b {
		if i == 0 || i == 3 {
			d = append(d, '2'+x%8) // area code and exchange start with 2-9
		} else {
			d = append(d, '0'+x%10)
		}
	}
	return phone.Number{E164: string(d), CountryCode: 1}
}

// NewPhone returns a pending phone of account that InsertPhone accepts:
// a random ID and number, created at now, lapsing an hour later.
func NewPhone(account string, now time.Time) phone.Record {
	return phone.Record{
		ID:        phRandomID(),
		Account:   account,
		Number:    NewPhoneNumber(),
		State:     phone.Pending,
		CreatedAt: now,
		ExpiresAt: now.Add(time.Hour),
	}
}

func phRandomID() string { return fmt.Sprintf("%x", randomBytes(16)) }

// phTrusted returns p as a trusted phone.
func phTrusted(p phone.Record) phone.Record {
	p.State = phone.Trusted
	p.ExpiresAt = time.Time{}
	p.ConfirmedAt = p.CreatedAt.Add(time.Minute)
	return p
}

func insertPhone(t *testing.T, s PhoneStore, ps ...phone.Record) {
	t.Helper()
	for _, p := range ps {
		if err := s.InsertPhone(t.Context(), p, 1000, p.CreatedAt); err != nil {
			t.Fatalf("InsertPhone(%q, limit 1000): %v", p.ID, err)
		}
	}
}

func getPhone(t *testing.T, s PhoneStore, account, id string) phone.Record {
	t.Helper()
	p, err := s.Phone(t.Context(), account, id)
	if err != nil {
		t.Fatalf("Phone(%q): %v", id, err)
	}
	return p
}

func listPhones(t *testing.T, s PhoneStore, account string) []phone.Record {
	t.Helper()
	ps, err := s.Phones(t.Context(), account)
	if err != nil {
		t.Fatalf("Phones: %v", err)
	}
	return ps
}

func phIDs[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

func phoneID(p phone.Record) string { return p.ID }

// PhoneStore

func testPhoneRoundTrip(t *testing.T, s PhoneStore) {
	acct := NewAccount()
	zone := time.FixedZone("UTC-03:30", -(3*3600 + 1800))
	pending := NewPhone(acct, t0.In(zone).Add(1))
	pending.ExpiresAt = t0.Add(time.Hour + 999)
	tr := phTrusted(NewPhone(acct, t0.Add(-time.Hour)))
	tr.Number = phone.Number{E164: "+683" + NewPhoneNumber().E164[8:], CountryCode: 683} // 7 digits, as in Niue
	tr.LastUsedAt = t0.Add(-time.Minute - 7)
	same := NewPhone(acct, pending.CreatedAt) // same CreatedAt: insertion order
	insertPhone(t, s, pending, tr, same)

	for _, p := range []phone.Record{pending, tr, same} {
		check(t, "Phone "+p.ID, getPhone(t, s, acct, p.ID), p)
	}
	got := listPhones(t, s, acct)
	want := []phone.Record{tr, pending, same}
	if !slices.Equal(phIDs(got, phoneID), phIDs(want, phoneID)) {
		t.Fatalf("Phones order = %v, want %v (oldest first, then insertion order)", phIDs(got, phoneID), phIDs(want, phoneID))
	}
	for i := range got {
		check(t, "Phones["+fmt.Sprint(i)+"]", got[i], want[i])
	}
	if ps := listPhones(t, s, NewAccount()); len(ps) != 0 {
		t.Errorf("Phones of an unknown account = %d phones, want none", len(ps))
	}
}

func testPhoneLimit(t *testing.T, s PhoneStore) {
	acct := NewAccount()
	a, b, c := NewPhone(acct, t0), phTrusted(NewPhone(acct, t0)), NewPhone(acct, t0)
	for _, p := range []phone.Record{a, b} {
		if err := s.InsertPhone(t.Context(), p, 2, t0); err != nil {
			t.Fatalf("InsertPhone below the limit: %v", err)
		}
	}
	wantErr(t, "InsertPhone at the limit", s.InsertPhone(t.Context(), c, 2, t0), twofa.ErrLimitReached)
	if n := len(listPhones(t, s, acct)); n != 2 {
		t.Errorf("after a refused insert the account has %d phones, want 2", n)
	}
	wantErr(t, "InsertPhone with limit 0", s.InsertPhone(t.Context(), NewPhone(NewAccount(), t0), 0, t0), twofa.ErrLimitReached)
	if err := s.InsertPhone(t.Context(), c, 3, t0); err != nil {
		t.Errorf("InsertPhone below a raised limit: %v", err)
	}
}

func testPhoneExpiredFree(t *testing.T, s PhoneStore) {
	acct := NewAccount()
	lapsed := NewPhone(acct, t0.Add(-2*time.Hour))
	lapsed.ExpiresAt = t0 // at now: lapsed
	live := NewPhone(acct, t0.Add(-time.Minute))
	live.ExpiresAt = t0.Add(1) // 1 ns after now: counts
	insertPhone(t, s, lapsed, live)
	c := NewChallenge(lapsed, t0.Add(-time.Hour-time.Minute))
	c.Purpose = phone.PurposeConfirm
	c.ExpiresAt = t0.Add(time.Hour) // still open
	phCreate(t, s, c)

	// Refused (limit 1, one live phone): the lapsed phone stays.
	wantErr(t, "InsertPhone at the limit", s.InsertPhone(t.Context(), NewPhone(acct, t0), 1, t0), twofa.ErrLimitReached)
	getPhone(t, s, acct, lapsed.ID)
	// Its number is free, and it no longer counts.
	again := NewPhone(acct, t0)
	again.Number = lapsed.Number
	if err := s.InsertPhone(t.Context(), again, 2, t0); err != nil {
		t.Fatalf("InsertPhone of a lapsed phone's number with one live phone and limit 2: %v", err)
	}
	_, err := s.Phone(t.Context(), acct, lapsed.ID)
	wantErr(t, "Phone of a lapsed phone after InsertPhone", err, twofa.ErrNotFound)
	if got := getChallenge(t, s, acct, c.ID); got.State != phone.ChallengeVoided {
		t.Errorf("challenge of a lapsed phone deleted by InsertPhone: State = %v, want voided", got.State)
	}
}

func testPhoneDuplicate(t *testing.T, s PhoneStore) {
	acct, other := NewAccount(), NewAccount()
	p := phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p)

	sameNumber := NewPhone(acct, t0)
	sameNumber.Number = p.Number
	wantErr(t, "InsertPhone of a number the account has", s.InsertPhone(t.Context(), sameNumber, 10, t0), twofa.ErrDuplicate)
	sameID := NewPhone(acct, t0)
	sameID.ID = p.ID
	wantErr(t, "InsertPhone of an ID the account has", s.InsertPhone(t.Context(), sameID, 10, t0), twofa.ErrDuplicate)
	if n := len(listPhones(t, s, acct)); n != 1 {
		t.Errorf("after refused inserts the account has %d phones, want 1", n)
	}
	check(t, "phone after refused duplicates", getPhone(t, s, acct, p.ID), p)

	// Another account may have the same number.
	elsewhere := NewPhone(other, t0)
	elsewhere.Number = p.Number
	if err := s.InsertPhone(t.Context(), elsewhere, 10, t0); err != nil {
		t.Errorf("InsertPhone of another account's number: %v", err)
	}
	// At the limit and a duplicate: refused either way, nothing changes.
	if err := s.InsertPhone(t.Context(), sameNumber, 1, t0); !errors.Is(err, twofa.ErrDuplicate) && !errors.Is(err, twofa.ErrLimitReached) {
		t.Errorf("InsertPhone of a duplicate at the limit: err = %v, want ErrDuplicate or ErrLimitReached", err)
	}
}

func testPhoneInsertConcurrent(t *testing.T, s PhoneStore) {
	const n, limit = 30, 4
	acct := NewAccount()
	race(t, "InsertPhone calls with limit 4", n, limit, twofa.ErrLimitReached, func(int) error {
		return s.InsertPhone(t.Context(), NewPhone(acct, t0), limit, t0)
	})
	if got := len(listPhones(t, s, acct)); got != limit {
		t.Errorf("the account has %d phones, want %d", got, limit)
	}
}

func testPhoneInsertSameNumber(t *testing.T, s PhoneStore) {
	acct := NewAccount()
	number := NewPhoneNumber()
	race(t, "InsertPhone calls of one number", 30, 1, twofa.ErrDuplicate, func(int) error {
		p := NewPhone(acct, t0)
		p.Number = number
		return s.InsertPhone(t.Context(), p, 1000, t0)
	})
}

func testPhoneNotFound(t *testing.T, s PhoneStore) {
	acct := NewAccount()
	p := NewPhone(acct, t0)
	insertPhone(t, s, p)
	_, err := s.Phone(t.Context(), NewAccount(), p.ID)
	wantErr(t, "Phone of another account", err, twofa.ErrNotFound)
	_, err = s.Phone(t.Context(), acct, phRandomID())
	wantErr(t, "Phone of an unknown ID", err, twofa.ErrNotFound)
	_, err = s.ConfirmPhone(t.Context(), acct, phRandomID(), t0, nil, nil)
	wantErr(t, "ConfirmPhone of an unknown ID", err, twofa.ErrNotFound)
	_, _, err = s.DeletePhone(t.Context(), NewAccount(), p.ID)
	wantErr(t, "DeletePhone of another account", err, twofa.ErrNotFound)
	getPhone(t, s, acct, p.ID)
}

func testConfirmPhone(t *testing.T, s PhoneStore) {
	acct := NewAccount()
	p := NewPhone(acct, t0)
	lapsed := NewPhone(acct, t0)
	lapsed.ExpiresAt = t0.Add(time.Minute)
	insertPhone(t, s, p, lapsed)

	at := t0.Add(time.Minute + 3)
	ok, err := s.ConfirmPhone(t.Context(), acct, p.ID, at, nil, nil)
	if !ok || err != nil {
		t.Fatalf("ConfirmPhone of a pending phone = %v, %v; want true, nil", ok, err)
	}
	want := p
	want.State, want.ConfirmedAt, want.ExpiresAt = phone.Trusted, at, time.Time{}
	check(t, "confirmed phone", getPhone(t, s, acct, p.ID), want)
	if ok, err := s.ConfirmPhone(t.Context(), acct, p.ID, at.Add(1), nil, nil); ok || err != nil {
		t.Errorf("ConfirmPhone of a trusted phone = %v, %v; want false, nil", ok, err)
	}
	check(t, "trusted phone after a second ConfirmPhone", getPhone(t, s, acct, p.ID), want)
	// At ExpiresAt exactly, the phone has lapsed.
	if ok, err := s.ConfirmPhone(t.Context(), acct, lapsed.ID, lapsed.ExpiresAt, nil, nil); ok || err != nil {
		t.Errorf("ConfirmPhone at ExpiresAt = %v, %v; want false, nil", ok, err)
	}
	check(t, "lapsed phone", getPhone(t, s, acct, lapsed.ID), lapsed)
}

func testConfirmPhoneConcurrent(t *testing.T, s PhoneStore) {
	const n = 50
	acct := NewAccount()
	p := NewPhone(acct, t0)
	insertPhone(t, s, p)
	wins := count(n, func(i int) bool {
		ok, err := s.ConfirmPhone(t.Context(), acct, p.ID, t0.Add(time.Duration(i)), nil, nil)
		if err != nil {
			t.Errorf("ConfirmPhone: %v", err)
		}
		return ok
	})
	if wins != 1 {
		t.Errorf("%d concurrent ConfirmPhone calls: %d reported true, want 1", n, wins)
	}
}

func testDeletePhone(t *testing.T, s PhoneStore) {
	acct := NewAccount()
	a, b, pending := phTrusted(NewPhone(acct, t0)), phTrusted(NewPhone(acct, t0)), NewPhone(acct, t0)
	insertPhone(t, s, a, b, pending)
	for _, step := range []struct {
		id    string
		state phone.State
		left  int
	}{{pending.ID, phone.Pending, 2}, {a.ID, phone.Trusted, 1}, {b.ID, phone.Trusted, 0}} {
		state, left, err := s.DeletePhone(t.Context(), acct, step.id)
		if state != step.state || left != step.left || err != nil {
			t.Errorf("DeletePhone(%q) = %v, %d, %v; want %v, %d trusted left", step.id, state, left, err, step.state, step.left)
		}
		_, err = s.Phone(t.Context(), acct, step.id)
		wantErr(t, "Phone of a deleted phone", err, twofa.ErrNotFound)
	}
	_, _, err := s.DeletePhone(t.Context(), acct, a.ID)
	wantErr(t, "DeletePhone twice", err, twofa.ErrNotFound)
}

func testDeletePhoneVoids(t *testing.T, s PhoneStore) {
	acct := NewAccount()
	p, other := phTrusted(NewPhone(acct, t0)), phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p, other)
	used, open, keep := NewChallenge(p, t0), NewChallenge(p, t0.Add(time.Second)), NewChallenge(other, t0)
	used.Purpose = phone.PurposeConfirm
	phCreate(t, s, used, open, keep)
	if r, _ := consumeChallenge(t, s, used, used.Digest, 5, t0); r != phone.ConsumeAccepted {
		t.Fatalf("ConsumeChallenge with the right digest = %v", r)
	}
	if _, _, err := s.DeletePhone(t.Context(), acct, p.ID); err != nil {
		t.Fatal(err)
	}
	if got := getChallenge(t, s, acct, open.ID); got.State != phone.ChallengeVoided {
		t.Errorf("open challenge of a deleted phone: State = %v, want voided", got.State)
	}
	if got := getChallenge(t, s, acct, used.ID); got.State != phone.ChallengeUsed {
		t.Errorf("used challenge of a deleted phone: State = %v, want used", got.State)
	}
	wantConsume(t, "right digest of a deleted phone's challenge", s, open, open.Digest, 5, t0, phone.ConsumeVoided, 0)
	challengeUnchanged(t, s, keep)
}

func testDeletePhoneHistory(t *testing.T, s PhoneStore) {
	acct := NewAccount()
	p := phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p)
	first := NewChallenge(p, t0)
	phCreate(t, s, first)
	if _, _, err := s.DeletePhone(t.Context(), acct, p.ID); err != nil {
		t.Fatal(err)
	}
	again := phTrusted(NewPhone(acct, t0.Add(time.Second)))
	again.Number = p.Number
	insertPhone(t, s, again)
	now := t0.Add(10 * time.Second)
	wantSends(t, "CreateChallenge for a re-added number", recentSends(t, s, NewChallenge(again, now), now.Add(-time.Hour)),
		[]phone.Send{sendOf(first, p.Number.E164)}, nil)
}

func testDeleteExpiredPhones(t *testing.T, s PhoneStore) {
	now := pastEra()
	if _, err := s.DeleteExpiredPhones(t.Context(), now); err != nil {
		t.Fatal(err)
	}
	a, b := NewAccount(), NewAccount()
	pending := func(acct string, expires time.Duration) phone.Record {
		p := NewPhone(acct, now.Add(-2*time.Hour))
		p.ExpiresAt = now.Add(expires)
		return p
	}
	gone := []phone.Record{pending(a, -time.Hour), pending(a, 0), pending(b, -1)}
	kept := []phone.Record{pending(a, 1), pending(b, time.Hour), phTrusted(pending(a, -time.Hour))}
	insertPhone(t, s, gone...)
	insertPhone(t, s, kept...)
	c := NewChallenge(gone[0], now.Add(-90*time.Minute))
	c.Purpose = phone.PurposeConfirm
	c.ExpiresAt = now.Add(time.Hour)
	phCreate(t, s, c)

	n, err := s.DeleteExpiredPhones(t.Context(), now)
	if n != len(gone) || err != nil {
		t.Errorf("DeleteExpiredPhones = %d, %v; want %d, nil", n, err, len(gone))
	}
	for _, p := range gone {
		_, err := s.Phone(t.Context(), p.Account, p.ID)
		wantErr(t, "Phone of a lapsed phone", err, twofa.ErrNotFound)
	}
	for _, p := range kept {
		check(t, "kept phone", getPhone(t, s, p.Account, p.ID), p)
	}
	if got := getChallenge(t, s, a, c.ID); got.State != phone.ChallengeVoided {
		t.Errorf("challenge of a lapsed phone: State = %v, want voided", got.State)
	}
}
