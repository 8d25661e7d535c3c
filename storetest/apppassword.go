package storetest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
)

func appPasswordTests() []testCase[twofa.Store] {
	return append([]testCase[twofa.Store]{
		{"AppPasswordStore/InsertAppPassword/RoundTrip", testAppRoundTrip},
		{"AppPasswordStore/InsertAppPassword/Duplicates", testAppDuplicates},
		{"AppPasswordStore/InsertAppPassword/Limit", testAppLimit},
		{"AppPasswordStore/InsertAppPassword/ConcurrentLimit", testAppConcurrentLimit},
		{"AppPasswordStore/AppPasswordByDigest/Isolation", testAppIsolation},
		{"AppPasswordStore/AppPasswords/Order", testAppOrder},
		{"AppPasswordStore/HasAppPasswords/Reports", testAppHas},
		{"AppPasswordStore/TouchAppPassword/Forward", testAppTouch},
		{"AppPasswordStore/DeleteAppPassword/Deletes", testAppDelete},
		{"AppPasswordStore/DeleteAppPasswords/All", testAppDeleteAll},
	}, appPasswordCancelTests()...)
}

// NewAppPassword returns an app password record of account that
// InsertAppPassword accepts: a random ID, label and 32-byte digest, created
// at now.
func NewAppPassword(account string, now time.Time) twofa.AppPassword {
	return twofa.AppPassword{
		ID:        rand.Text(),
		Account:   account,
		Label:     "client " + rand.Text()[:8],
		Digest:    randomBytes(32),
		CreatedAt: now,
	}
}

func insertApp(t *testing.T, s twofa.Store, ps ...twofa.AppPassword) {
	t.Helper()
	for _, p := range ps {
		if err := s.InsertAppPassword(t.Context(), p, 1000); err != nil {
			t.Fatalf("InsertAppPassword(%q): %v", p.ID, err)
		}
	}
}

func byDigest(t *testing.T, s twofa.Store, account string, digest []byte) (twofa.AppPassword, error) {
	t.Helper()
	return s.AppPasswordByDigest(t.Context(), account, digest)
}

func testAppRoundTrip(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	p := NewAppPassword(acct, t0.Add(123456789))
	p.Label = "Mail on Alice's Mac – ünïcode ✓"
	p.LastUsedAt = t0.Add(time.Hour + 7)
	insertApp(t, s, p)
	got, err := byDigest(t, s, acct, p.Digest)
	if err != nil {
		t.Fatalf("AppPasswordByDigest: %v", err)
	}
	check(t, "AppPasswordByDigest", got, p)
	// The store keeps its own copy.
	got.Digest[0] ^= 0xff
	again, err := byDigest(t, s, acct, p.Digest)
	if err != nil {
		t.Fatalf("AppPasswordByDigest after changing a returned digest: %v", err)
	}
	check(t, "AppPasswordByDigest again", again, p)
	list, err := s.AppPasswords(t.Context(), acct)
	if err != nil || len(list) != 1 {
		t.Fatalf("AppPasswords = %d records, %v; want 1", len(list), err)
	}
	check(t, "AppPasswords[0]", list[0], p)
}

func testAppHas(t *testing.T, s twofa.Store) {
	has := func(account string) bool {
		t.Helper()
		ok, err := s.HasAppPasswords(t.Context(), account)
		if err != nil {
			t.Fatalf("HasAppPasswords: %v", err)
		}
		return ok
	}
	acct, other := NewAccount(), NewAccount()
	if has(acct) {
		t.Error("HasAppPasswords of a fresh account = true, want false")
	}
	p, q := NewAppPassword(acct, t0), NewAppPassword(acct, t0)
	insertApp(t, s, p, q)
	insertApp(t, s, NewAppPassword(other, t0))
	if !has(acct) {
		t.Error("HasAppPasswords with two = false, want true")
	}
	if err := s.DeleteAppPassword(t.Context(), acct, p.ID); err != nil {
		t.Fatalf("DeleteAppPassword: %v", err)
	}
	if !has(acct) {
		t.Error("HasAppPasswords with one left = false, want true")
	}
	if err := s.DeleteAppPassword(t.Context(), acct, q.ID); err != nil {
		t.Fatalf("DeleteAppPassword: %v", err)
	}
	if has(acct) {
		t.Error("HasAppPasswords after deleting every one = true, want false")
	}
	if !has(other) {
		t.Error("HasAppPasswords of another account = false, want true")
	}
}

func testAppDuplicates(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	p := NewAppPassword(acct, t0)
	insertApp(t, s, p)
	sameLabel := NewAppPassword(acct, t0)
	sameLabel.Label = p.Label
	sameID := NewAppPassword(acct, t0)
	sameID.ID = p.ID
	sameDigest := NewAppPassword(acct, t0)
	sameDigest.Digest = bytes.Clone(p.Digest)
	for name, q := range map[string]twofa.AppPassword{"label": sameLabel, "id": sameID, "digest": sameDigest} {
		err := s.InsertAppPassword(t.Context(), q, 1000)
		wantErr(t, "InsertAppPassword with a taken "+name, err, twofa.ErrDuplicate)
	}
	list, err := s.AppPasswords(t.Context(), acct)
	if err != nil || len(list) != 1 {
		t.Errorf("after refused inserts: AppPasswords = %d records, %v; want 1", len(list), err)
	}
	// The same label under another account is fine.
	other := NewAppPassword(NewAccount(), t0)
	other.Label = p.Label
	insertApp(t, s, other)
}

func testAppLimit(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	for i := 0; i < 3; i++ {
		if err := s.InsertAppPassword(t.Context(), NewAppPassword(acct, t0), 3); err != nil {
			t.Fatalf("insert %d of 3: %v", i+1, err)
		}
	}
	err := s.InsertAppPassword(t.Context(), NewAppPassword(acct, t0), 3)
	wantErr(t, "InsertAppPassword beyond the limit", err, twofa.ErrLimitReached)
	// Deleting one makes room again.
	list, err := s.AppPasswords(t.Context(), acct)
	if err != nil || len(list) != 3 {
		t.Fatalf("AppPasswords = %d, %v; want 3", len(list), err)
	}
	if err := s.DeleteAppPassword(t.Context(), acct, list[0].ID); err != nil {
		t.Fatalf("DeleteAppPassword: %v", err)
	}
	if err := s.InsertAppPassword(t.Context(), NewAppPassword(acct, t0), 3); err != nil {
		t.Errorf("InsertAppPassword after a delete: %v", err)
	}
}

func testAppConcurrentLimit(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	race(t, "inserts with limit 25", 50, 25, twofa.ErrLimitReached, func(int) error {
		return s.InsertAppPassword(t.Context(), NewAppPassword(acct, t0), 25)
	})
}

func testAppIsolation(t *testing.T, s twofa.Store) {
	alice, bob := NewAccount(), NewAccount()
	p := NewAppPassword(alice, t0)
	insertApp(t, s, p)
	_, err := byDigest(t, s, bob, p.Digest)
	wantErr(t, "AppPasswordByDigest under another account", err, twofa.ErrNotFound)
	_, err = byDigest(t, s, alice, randomBytes(32))
	wantErr(t, "AppPasswordByDigest of an unknown digest", err, twofa.ErrNotFound)
	wantErr(t, "DeleteAppPassword under another account", s.DeleteAppPassword(t.Context(), bob, p.ID), twofa.ErrNotFound)
	wantErr(t, "TouchAppPassword under another account", s.TouchAppPassword(t.Context(), bob, p.ID, t0), twofa.ErrNotFound)
	if n, err := s.DeleteAppPasswords(t.Context(), bob); n != 0 || err != nil {
		t.Errorf("DeleteAppPasswords(other account) = %d, %v; want 0, nil", n, err)
	}
	if _, err := byDigest(t, s, alice, p.Digest); err != nil {
		t.Errorf("alice's password after bob's calls: %v", err)
	}
}

func testAppOrder(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	late := NewAppPassword(acct, t0.Add(time.Hour))
	early := NewAppPassword(acct, t0)
	tie1 := NewAppPassword(acct, t0.Add(time.Minute))
	tie2 := NewAppPassword(acct, t0.Add(time.Minute))
	insertApp(t, s, late, early, tie1, tie2)
	list, err := s.AppPasswords(t.Context(), acct)
	if err != nil {
		t.Fatalf("AppPasswords: %v", err)
	}
	want := []string{early.ID, tie1.ID, tie2.ID, late.ID}
	if len(list) != len(want) {
		t.Fatalf("AppPasswords returned %d records, want %d", len(list), len(want))
	}
	for i, p := range list {
		if p.ID != want[i] {
			t.Errorf("AppPasswords[%d] = %s, want %s (oldest first, ties in insertion order)", i, p.ID, want[i])
		}
	}
	if list, err := s.AppPasswords(t.Context(), NewAccount()); err != nil || len(list) != 0 {
		t.Errorf("AppPasswords(unknown account) = %d, %v; want 0, nil", len(list), err)
	}
}

func testAppTouch(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	p := NewAppPassword(acct, t0)
	insertApp(t, s, p)
	at := t0.Add(2*time.Hour + 5)
	if err := s.TouchAppPassword(t.Context(), acct, p.ID, at); err != nil {
		t.Fatalf("TouchAppPassword: %v", err)
	}
	if err := s.TouchAppPassword(t.Context(), acct, p.ID, t0.Add(time.Hour)); err != nil {
		t.Fatalf("TouchAppPassword (earlier): %v", err)
	}
	got, err := byDigest(t, s, acct, p.Digest)
	if err != nil {
		t.Fatalf("AppPasswordByDigest: %v", err)
	}
	if !got.LastUsedAt.Equal(at) {
		t.Errorf("LastUsedAt = %v, want %v (touch never moves it back)", fmtTime(got.LastUsedAt), fmtTime(at))
	}
	wantErr(t, "TouchAppPassword of an unknown id", s.TouchAppPassword(t.Context(), acct, "nope", at), twofa.ErrNotFound)
}

func testAppDelete(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	p, q := NewAppPassword(acct, t0), NewAppPassword(acct, t0)
	insertApp(t, s, p, q)
	if err := s.DeleteAppPassword(t.Context(), acct, p.ID); err != nil {
		t.Fatalf("DeleteAppPassword: %v", err)
	}
	if _, err := byDigest(t, s, acct, p.Digest); !errors.Is(err, twofa.ErrNotFound) {
		t.Errorf("deleted password still found: %v", err)
	}
	if _, err := byDigest(t, s, acct, q.Digest); err != nil {
		t.Errorf("the other password: %v", err)
	}
	wantErr(t, "DeleteAppPassword twice", s.DeleteAppPassword(t.Context(), acct, p.ID), twofa.ErrNotFound)
	// Its label and digest are free again.
	p2 := NewAppPassword(acct, t0)
	p2.Label, p2.Digest = p.Label, p.Digest
	insertApp(t, s, p2)
}

func testAppDeleteAll(t *testing.T, s twofa.Store) {
	acct, other := NewAccount(), NewAccount()
	insertApp(t, s, NewAppPassword(acct, t0), NewAppPassword(acct, t0), NewAppPassword(acct, t0))
	keep := NewAppPassword(other, t0)
	insertApp(t, s, keep)
	n, err := s.DeleteAppPasswords(t.Context(), acct)
	if n != 3 || err != nil {
		t.Errorf("DeleteAppPasswords = %d, %v; want 3, nil", n, err)
	}
	if list, err := s.AppPasswords(t.Context(), acct); err != nil || len(list) != 0 {
		t.Errorf("after DeleteAppPasswords: %d records, %v", len(list), err)
	}
	if n, err := s.DeleteAppPasswords(t.Context(), acct); n != 0 || err != nil {
		t.Errorf("DeleteAppPasswords again = %d, %v; want 0, nil", n, err)
	}
	if _, err := byDigest(t, s, other, keep.Digest); err != nil {
		t.Errorf("another account's password: %v", err)
	}
}
