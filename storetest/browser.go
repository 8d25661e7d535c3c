package storetest

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
)

// RunBrowsers runs the conformance suite of [browser.Store] against the
// stores newStore returns, one per subtest, as [Run] does for
// [twofa.Store]; the stores may share one database. Subtests are named
// "BrowserStore/<method>/<case>".
//
// Where the comments in package browser leave a choice, the suite expects,
// beyond what Run's documentation lists:
//
//   - A Record's times come back Equal to the nanosecond, and a zero
//     RevokedAt or LastUsedAt as the zero Time.
//   - Browser IDs and digests are unique within an account; another
//     account may hold the same ones.
//   - InsertBrowser returns a nil or empty slice when it evicts nothing.
//   - TouchBrowser of a revoked record succeeds (the manager never asks).
//   - BrowsersAfter's order agrees with byte order on the suite's names
//     (the names of NewAccount, then lowercase letters and digits), as
//     every common collation does, so a PostgreSQL store passes whatever
//     the collation of its columns.
func RunBrowsers(t *testing.T, newStore func(t *testing.T) browser.Store) {
	t.Helper()
	run(t, "RunBrowsers", "BrowserStore", newStore, browserTests())
}

// NewBrowser returns a trusted browser of account that InsertBrowser
// accepts: a random ID, a label, a random 32-byte digest, created and last
// used at now, expiring 30 days later, not revoked.
func NewBrowser(account string, now time.Time) browser.Record {
	return browser.Record{
		ID:         rand26(),
		Account:    account,
		Label:      "storetest browser",
		Digest:     randomBytes(32),
		CreatedAt:  now,
		ExpiresAt:  now.Add(30 * 24 * time.Hour),
		LastUsedAt: now,
	}
}

func rand26() string { return strings.ToLower(NewAccount()[len("storetest-"):]) }

func browserTests() []testCase[browser.Store] {
	return append([]testCase[browser.Store]{
		{"BrowserStore/InsertBrowser/RoundTrip", testBrowserRoundTrip},
		{"BrowserStore/InsertBrowser/Duplicate", testBrowserDuplicate},
		{"BrowserStore/InsertBrowser/Limit", testBrowserLimit},
		{"BrowserStore/InsertBrowser/LimitTies", testBrowserLimitTies},
		{"BrowserStore/InsertBrowser/LimitLowered", testBrowserLimitLowered},
		{"BrowserStore/InsertBrowser/LimitBelowOne", testBrowserLimitBelowOne},
		{"BrowserStore/InsertBrowser/TombstonesDoNotCount", testBrowserTombstonesDoNotCount},
		{"BrowserStore/InsertBrowser/Expired", testBrowserInsertExpired},
		{"BrowserStore/InsertBrowser/ExpiredDigestReused", testBrowserExpiredDigestReused},
		{"BrowserStore/InsertBrowser/Concurrent", testBrowserInsertConcurrent},
		{"BrowserStore/InsertBrowser/ConcurrentDigest", testBrowserInsertConcurrentDigest},
		{"BrowserStore/BrowserByDigest/NotFound", testBrowserByDigestNotFound},
		{"BrowserStore/BrowserByDigest/Binary", testBrowserByDigestBinary},
		{"BrowserStore/BrowserByDigest/NoAliasing", testBrowserNoAliasing},
		{"BrowserStore/Browsers/Order", testBrowsersOrder},
		{"BrowserStore/TouchBrowser/Forward", testTouchBrowser},
		{"BrowserStore/TouchBrowser/NotFound", testTouchBrowserNotFound},
		{"BrowserStore/RevokeBrowser/Revokes", testRevokeBrowser},
		{"BrowserStore/RevokeBrowser/NotFound", testRevokeBrowserNotFound},
		{"BrowserStore/RevokeBrowser/Concurrent", testRevokeBrowserConcurrent},
		{"BrowserStore/RevokeBrowsers/Revokes", testRevokeBrowsers},
		{"BrowserStore/RevokeBrowsers/Concurrent", testRevokeBrowsersConcurrent},
		{"BrowserStore/DeleteExpiredBrowsers/Deletes", testDeleteExpiredBrowsers},
		{"BrowserStore/MAC/ClearedOnRevocation", testBrowserMAC},
		{"BrowserStore/BrowsersAfter/Order", testBrowsersAfterOrder},
		{"BrowserStore/BrowsersAfter/Bounds", testBrowsersAfterBounds},
		{"BrowserStore/BrowsersAfter/Limit", testBrowsersAfterLimit},
		{"BrowserStore/BrowsersAfter/Empty", testBrowsersAfterEmpty},
		{"BrowserStore/BrowsersAfter/NoAliasing", testBrowsersAfterNoAliasing},
		{"BrowserStore/UpdateBrowserMAC/CompareAndSet", testUpdateBrowserMAC},
		{"BrowserStore/UpdateBrowserMAC/EmptyOld", testUpdateBrowserMACEmptyOld},
		{"BrowserStore/UpdateBrowserMAC/Revoked", testUpdateBrowserMACRevoked},
		{"BrowserStore/UpdateBrowserMAC/NotFound", testUpdateBrowserMACNotFound},
		{"BrowserStore/UpdateBrowserMAC/Concurrent", testUpdateBrowserMACConcurrent},
	}, append(unknownTests("BrowserStore",
		func(t *testing.T, s browser.Store, account string) any { return listBrowsers(t, s, account) },
		unknownCase[browser.Store]{"Browsers", func(ctx context.Context, s browser.Store, account string) ([]any, error) {
			return zeroed(s.Browsers(ctx, account))
		}},
		unknownCase[browser.Store]{"RevokeBrowsers", func(ctx context.Context, s browser.Store, account string) ([]any, error) {
			return zeroed(s.RevokeBrowsers(ctx, account, t0))
		}},
	), browserCancelTests()...)...)
}

// Helpers.

func insertBrowsers(t *testing.T, s browser.Store, now time.Time, bs ...browser.Record) {
	t.Helper()
	for _, b := range bs {
		ev, err := s.InsertBrowser(t.Context(), b, 1000, now)
		if err != nil || len(ev) != 0 {
			t.Fatalf("InsertBrowser(%q, limit 1000) = %v, %v; want nothing evicted, nil", b.ID, ev, err)
		}
	}
}

func getBrowser(t *testing.T, s browser.Store, b browser.Record) browser.Record {
	t.Helper()
	got, err := s.BrowserByDigest(t.Context(), b.Account, b.Digest)
	if err != nil {
		t.Fatalf("BrowserByDigest of %q: %v", b.ID, err)
	}
	return got
}

// browserIs checks that the stored record with want's digest equals want.
func browserIs(t *testing.T, s browser.Store, want browser.Record) {
	t.Helper()
	check(t, fmt.Sprintf("browser %q", want.ID), getBrowser(t, s, want), want)
}

func browserGone(t *testing.T, s browser.Store, b browser.Record) {
	t.Helper()
	_, err := s.BrowserByDigest(t.Context(), b.Account, b.Digest)
	wantErr(t, fmt.Sprintf("BrowserByDigest of removed browser %q", b.ID), err, twofa.ErrNotFound)
}

func listBrowsers(t *testing.T, s browser.Store, account string) []browser.Record {
	t.Helper()
	bs, err := s.Browsers(t.Context(), account)
	if err != nil {
		t.Fatalf("Browsers: %v", err)
	}
	return bs
}

func browserIDs(bs []browser.Record) []string {
	ids := make([]string, len(bs))
	for i, b := range bs {
		ids[i] = b.ID
	}
	return ids
}

func liveIDs(t *testing.T, s browser.Store, account string, now time.Time) []string {
	t.Helper()
	var ids []string
	for _, b := range listBrowsers(t, s, account) {
		if b.RevokedAt.IsZero() && b.ExpiresAt.After(now) {
			ids = append(ids, b.ID)
		}
	}
	return ids
}

// revoked returns b as a tombstone revoked at at.
func revoked(b browser.Record, at time.Time) browser.Record {
	b.RevokedAt = at
	return b
}

// descendingIDs returns n browsers of account created at now whose IDs sort
// in the reverse of their order, so that a store breaking ties by ID
// instead of insertion order is caught.
func descendingIDs(account string, now time.Time, n int) []browser.Record {
	base := rand26()
	bs := make([]browser.Record, n)
	for i := range bs {
		bs[i] = NewBrowser(account, now)
		bs[i].ID = fmt.Sprintf("%c-%s", 'z'-i, base)
	}
	return bs
}

// InsertBrowser

func testBrowserRoundTrip(t *testing.T, s browser.Store) {
	acct := NewAccount()
	b := NewBrowser(acct, t0)
	b.Label = "Firefox on Linux — ünïcode"
	b.LastUsedAt = t0.Add(90 * time.Minute)
	tomb := revoked(NewBrowser(acct, t0.Add(-time.Hour)), t0.Add(-time.Minute))
	tomb.LastUsedAt = time.Time{}
	epoch := NewBrowser(acct, time.Unix(0, 0))
	epoch.ExpiresAt = endOfTime
	insertBrowsers(t, s, t0, b, tomb, epoch)
	for _, want := range []browser.Record{b, tomb, epoch} {
		browserIs(t, s, want)
	}
	got := listBrowsers(t, s, acct)
	check(t, "Browsers", got, []browser.Record{epoch, tomb, b})
}

func testBrowserDuplicate(t *testing.T, s browser.Store) {
	acct := NewAccount()
	b1, b2 := NewBrowser(acct, t0), NewBrowser(acct, t0)
	insertBrowsers(t, s, t0, b1, b2)
	sameID, sameDigest := NewBrowser(acct, t0), NewBrowser(acct, t0)
	sameID.ID = b1.ID
	sameDigest.Digest = bytes.Clone(b1.Digest)
	for name, d := range map[string]browser.Record{"ID": sameID, "digest": sameDigest} {
		for _, limit := range []int{10, 2} { // also at the limit: no eviction
			ev, err := s.InsertBrowser(t.Context(), d, limit, t0)
			wantErr(t, fmt.Sprintf("InsertBrowser with the same %s (limit %d)", name, limit), err, twofa.ErrDuplicate)
			if len(ev) != 0 {
				t.Errorf("refused InsertBrowser evicted %v", ev)
			}
		}
	}
	browserIs(t, s, b1)
	browserIs(t, s, b2)
	if n := len(listBrowsers(t, s, acct)); n != 2 {
		t.Errorf("after refused inserts the account has %d records, want 2", n)
	}
	// The same ID and digest in another account are another browser.
	other := b1
	other.Account = NewAccount()
	insertBrowsers(t, s, t0, other)
	browserIs(t, s, other)
	browserIs(t, s, b1)
}

func testBrowserLimit(t *testing.T, s browser.Store) {
	acct := NewAccount()
	now := t0.Add(24 * time.Hour)
	b1, b2, b3 := NewBrowser(acct, t0), NewBrowser(acct, t0), NewBrowser(acct, t0)
	b1.LastUsedAt = t0.Add(2 * time.Hour)
	b2.LastUsedAt = t0.Add(time.Hour) // least recently used
	b3.LastUsedAt = t0.Add(3 * time.Hour)
	for i, b := range []browser.Record{b1, b2, b3} {
		ev, err := s.InsertBrowser(t.Context(), b, 3, now)
		if err != nil || len(ev) != 0 {
			t.Fatalf("InsertBrowser #%d with limit 3 = %v, %v; want nothing evicted", i+1, ev, err)
		}
	}
	b4 := NewBrowser(acct, now)
	ev, err := s.InsertBrowser(t.Context(), b4, 3, now)
	if err != nil || !slices.Equal(ev, []string{b2.ID}) {
		t.Fatalf("InsertBrowser #4 with limit 3 = %v, %v; want [%s] (the least recently used) evicted", ev, err, b2.ID)
	}
	browserIs(t, s, revoked(b2, now))
	browserIs(t, s, b4)
	// b1 is now the least recently used live one.
	b5 := NewBrowser(acct, now.Add(time.Second))
	ev, err = s.InsertBrowser(t.Context(), b5, 3, now.Add(time.Second))
	if err != nil || !slices.Equal(ev, []string{b1.ID}) {
		t.Fatalf("InsertBrowser #5 with limit 3 = %v, %v; want [%s] evicted", ev, err, b1.ID)
	}
	browserIs(t, s, revoked(b1, now.Add(time.Second)))
	browserIs(t, s, revoked(b2, now)) // a tombstone is not revoked again
	if got, want := liveIDs(t, s, acct, now), []string{b3.ID, b4.ID, b5.ID}; !slices.Equal(got, want) {
		t.Errorf("live browsers %v, want %v", got, want)
	}
	if n := len(listBrowsers(t, s, acct)); n != 5 {
		t.Errorf("Browsers lists %d records, want 5 (tombstones included)", n)
	}
}

func testBrowserLimitTies(t *testing.T, s browser.Store) {
	acct := NewAccount()
	bs := descendingIDs(acct, t0, 3)
	for _, b := range bs {
		if _, err := s.InsertBrowser(t.Context(), b, 3, t0); err != nil {
			t.Fatal(err)
		}
	}
	ev, err := s.InsertBrowser(t.Context(), NewBrowser(acct, t0), 3, t0)
	if err != nil || !slices.Equal(ev, []string{bs[0].ID}) {
		t.Errorf("InsertBrowser with three equally recently used = %v, %v; want [%s] (ties in insertion order)", ev, err, bs[0].ID)
	}
}

func testBrowserLimitLowered(t *testing.T, s browser.Store) {
	acct := NewAccount()
	now := t0.Add(time.Hour)
	bs := make([]browser.Record, 5)
	for i := range bs {
		bs[i] = NewBrowser(acct, t0)
		bs[i].LastUsedAt = t0.Add(time.Duration(5-i) * time.Minute) // bs[4] least recent
	}
	insertBrowsers(t, s, t0, bs...)
	nb := NewBrowser(acct, now)
	ev, err := s.InsertBrowser(t.Context(), nb, 2, now)
	want := []string{bs[4].ID, bs[3].ID, bs[2].ID, bs[1].ID}
	if err != nil || !slices.Equal(ev, want) {
		t.Fatalf("InsertBrowser with 5 live and limit 2 = %v, %v; want %v", ev, err, want)
	}
	if got := liveIDs(t, s, acct, now); !slices.Equal(got, []string{bs[0].ID, nb.ID}) {
		t.Errorf("live browsers %v, want %v", got, []string{bs[0].ID, nb.ID})
	}
	// Limit 1 leaves only the new one.
	nb2 := NewBrowser(acct, now)
	ev, err = s.InsertBrowser(t.Context(), nb2, 1, now)
	if err != nil || !slices.Equal(ev, []string{bs[0].ID, nb.ID}) {
		t.Errorf("InsertBrowser with limit 1 = %v, %v; want %v", ev, err, []string{bs[0].ID, nb.ID})
	}
	if got := liveIDs(t, s, acct, now); !slices.Equal(got, []string{nb2.ID}) {
		t.Errorf("live browsers %v, want only %s", got, nb2.ID)
	}
}

func testBrowserLimitBelowOne(t *testing.T, s browser.Store) {
	acct := NewAccount()
	old := NewBrowser(acct, t0)
	expired := NewBrowser(acct, t0.Add(-time.Hour))
	expired.ExpiresAt = t0
	insertBrowsers(t, s, t0.Add(-time.Hour), old, expired)
	for _, limit := range []int{0, -1} {
		ev, err := s.InsertBrowser(t.Context(), NewBrowser(acct, t0), limit, t0)
		wantErr(t, fmt.Sprintf("InsertBrowser with limit %d", limit), err, twofa.ErrLimitReached)
		if len(ev) != 0 {
			t.Errorf("refused InsertBrowser evicted %v", ev)
		}
	}
	browserIs(t, s, old)
	browserIs(t, s, expired) // a refused insert deletes nothing
	if n := len(listBrowsers(t, s, acct)); n != 2 {
		t.Errorf("the account has %d records, want 2", n)
	}
}

func testBrowserTombstonesDoNotCount(t *testing.T, s browser.Store) {
	acct := NewAccount()
	var bs []browser.Record
	for i := range 5 {
		b := NewBrowser(acct, t0)
		if i < 3 {
			b = revoked(b, t0)
		}
		bs = append(bs, b)
	}
	insertBrowsers(t, s, t0, bs...)
	ev, err := s.InsertBrowser(t.Context(), NewBrowser(acct, t0), 3, t0)
	if err != nil || len(ev) != 0 {
		t.Errorf("InsertBrowser with 2 live, 3 revoked, limit 3 = %v, %v; want nothing evicted", ev, err)
	}
	for _, b := range bs {
		browserIs(t, s, b)
	}
}

func testBrowserInsertExpired(t *testing.T, s browser.Store) {
	acct, other := NewAccount(), NewAccount()
	now := t0
	mk := func(acct string, expires time.Duration) browser.Record {
		b := NewBrowser(acct, now.Add(-48*time.Hour))
		b.ExpiresAt = now.Add(expires)
		return b
	}
	gone := []browser.Record{
		mk(acct, 0), // at now
		mk(acct, -time.Hour),
		revoked(mk(acct, -1), now.Add(-time.Hour)),
	}
	kept := []browser.Record{
		mk(acct, 1), // 1 ns after now: live, counts
		revoked(mk(acct, time.Hour), now.Add(-time.Hour)),
		mk(other, -time.Hour), // another account's
	}
	insertBrowsers(t, s, now.Add(-48*time.Hour), gone...)
	insertBrowsers(t, s, now.Add(-48*time.Hour), kept...)
	// One live browser and three expired: limit 2 evicts nothing.
	nb := NewBrowser(acct, now)
	ev, err := s.InsertBrowser(t.Context(), nb, 2, now)
	if err != nil || len(ev) != 0 {
		t.Fatalf("InsertBrowser with 1 live, 3 expired, limit 2 = %v, %v; want nothing evicted (expired browsers do not count)", ev, err)
	}
	for _, b := range gone {
		browserGone(t, s, b)
	}
	for _, b := range kept {
		browserIs(t, s, b)
	}
	browserIs(t, s, nb)
}

func testBrowserExpiredDigestReused(t *testing.T, s browser.Store) {
	acct := NewAccount()
	old := NewBrowser(acct, t0.Add(-time.Hour))
	old.ExpiresAt = t0
	insertBrowsers(t, s, old.CreatedAt, old)
	nb := NewBrowser(acct, t0)
	nb.ID, nb.Digest = old.ID, bytes.Clone(old.Digest)
	if ev, err := s.InsertBrowser(t.Context(), nb, 10, t0); err != nil || len(ev) != 0 {
		t.Fatalf("InsertBrowser reusing an expired record's ID and digest = %v, %v; want nil (expired records go first)", ev, err)
	}
	browserIs(t, s, nb)
}

func testBrowserInsertConcurrent(t *testing.T, s browser.Store) {
	acct := NewAccount()
	const n, limit = 50, 5
	var errs atomic.Int32
	evicted := make([][]string, n)
	ids := make([]string, n)
	parallel(n, func(i int) {
		b := NewBrowser(acct, t0)
		ids[i] = b.ID
		ev, err := s.InsertBrowser(context.Background(), b, limit, t0)
		if err != nil {
			errs.Add(1)
			return
		}
		evicted[i] = ev
	})
	if errs.Load() != 0 {
		t.Fatalf("%d of %d concurrent InsertBrowser calls failed", errs.Load(), n)
	}
	seen := map[string]bool{}
	for _, ev := range evicted {
		for _, id := range ev {
			if seen[id] {
				t.Errorf("browser %q reported evicted twice", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != n-limit {
		t.Errorf("%d concurrent inserts with limit %d evicted %d browsers, want %d", n, limit, len(seen), n-limit)
	}
	live := liveIDs(t, s, acct, t0)
	if len(live) != limit {
		t.Errorf("%d live browsers after %d concurrent inserts with limit %d", len(live), n, limit)
	}
	for _, id := range live {
		if seen[id] {
			t.Errorf("browser %q reported evicted but live", id)
		}
	}
}

func testBrowserInsertConcurrentDigest(t *testing.T, s browser.Store) {
	acct := NewAccount()
	digest := randomBytes(32)
	race(t, "inserts of one digest", 30, 1, twofa.ErrDuplicate, func(int) error {
		b := NewBrowser(acct, t0)
		b.Digest = bytes.Clone(digest)
		_, err := s.InsertBrowser(context.Background(), b, 100, t0)
		return err
	})
}

// BrowserByDigest

func testBrowserByDigestNotFound(t *testing.T, s browser.Store) {
	acct := NewAccount()
	b := NewBrowser(acct, t0)
	insertBrowsers(t, s, t0, b)
	for name, c := range map[string]struct {
		account string
		digest  []byte
	}{
		"unknown digest":    {acct, randomBytes(32)},
		"another account's": {NewAccount(), b.Digest},
		"a digest's prefix": {acct, b.Digest[:31]},
		"longer digest":     {acct, append(bytes.Clone(b.Digest), 0)},
		"empty digest":      {acct, nil},
	} {
		_, err := s.BrowserByDigest(t.Context(), c.account, c.digest)
		wantErr(t, "BrowserByDigest of "+name, err, twofa.ErrNotFound)
	}
}

func testBrowserByDigestBinary(t *testing.T, s browser.Store) {
	acct := NewAccount()
	digests := [][]byte{
		{0}, {0, 0}, {0, 0, 0, 1},
		[]byte("abc"), []byte("ABC"), []byte("abc "),
		bytes.Repeat([]byte{0xff}, 32), allBytes(),
	}
	var bs []browser.Record
	for _, d := range digests {
		b := NewBrowser(acct, t0)
		b.Digest = d
		bs = append(bs, b)
	}
	insertBrowsers(t, s, t0, bs...)
	for _, b := range bs {
		browserIs(t, s, b)
	}
}

func testBrowserNoAliasing(t *testing.T, s browser.Store) {
	acct := NewAccount()
	b := NewBrowser(acct, t0)
	want := b
	want.Digest = bytes.Clone(b.Digest)
	insertBrowsers(t, s, t0, b)
	b.Digest[0] ^= 0xff // the caller's slice, after the insert
	got := getBrowser(t, s, want)
	got.Digest[1] ^= 0xff // the store's answer
	bs := listBrowsers(t, s, acct)
	if len(bs) == 1 {
		bs[0].Digest[2] ^= 0xff
	}
	browserIs(t, s, want)
}

// Browsers

func testBrowsersOrder(t *testing.T, s browser.Store) {
	acct := NewAccount()
	ties := descendingIDs(acct, t0, 3)
	early := NewBrowser(acct, t0.Add(-time.Nanosecond))
	late := revoked(NewBrowser(acct, t0.Add(time.Hour)), t0.Add(2*time.Hour))
	expired := NewBrowser(acct, t0.Add(-48*time.Hour))
	expired.ExpiresAt = t0.Add(-24 * time.Hour)
	insertBrowsers(t, s, t0.Add(-48*time.Hour), expired)
	insertBrowsers(t, s, t0.Add(-48*time.Hour), late, ties[0], ties[1], early, ties[2])
	want := []string{expired.ID, early.ID, ties[0].ID, ties[1].ID, ties[2].ID, late.ID}
	if got := browserIDs(listBrowsers(t, s, acct)); !slices.Equal(got, want) {
		t.Errorf("Browsers order %v, want %v (oldest first, ties in insertion order, revoked and expired included)", got, want)
	}
}

// TouchBrowser

func testTouchBrowser(t *testing.T, s browser.Store) {
	acct := NewAccount()
	b := NewBrowser(acct, t0)
	tomb := revoked(NewBrowser(acct, t0), t0)
	insertBrowsers(t, s, t0, b, tomb)
	at := t0.Add(time.Hour + time.Nanosecond)
	for _, when := range []time.Time{at, at.Add(-time.Minute), at, t0} {
		if err := s.TouchBrowser(t.Context(), acct, b.ID, when); err != nil {
			t.Fatalf("TouchBrowser: %v", err)
		}
	}
	b.LastUsedAt = at
	browserIs(t, s, b)
	if err := s.TouchBrowser(t.Context(), acct, tomb.ID, at); err != nil {
		t.Errorf("TouchBrowser of a revoked record: %v", err)
	}
	tomb.LastUsedAt = at
	browserIs(t, s, tomb)
}

func testTouchBrowserNotFound(t *testing.T, s browser.Store) {
	b := NewBrowser(NewAccount(), t0)
	insertBrowsers(t, s, t0, b)
	wantErr(t, "TouchBrowser of a missing browser", s.TouchBrowser(t.Context(), b.Account, rand26(), t0), twofa.ErrNotFound)
	wantErr(t, "TouchBrowser of another account's browser", s.TouchBrowser(t.Context(), NewAccount(), b.ID, t0), twofa.ErrNotFound)
	browserIs(t, s, b)
}

// RevokeBrowser

func testRevokeBrowser(t *testing.T, s browser.Store) {
	acct := NewAccount()
	b, other := NewBrowser(acct, t0), NewBrowser(acct, t0)
	insertBrowsers(t, s, t0, b, other)
	at := t0.Add(time.Minute + time.Nanosecond)
	if err := s.RevokeBrowser(t.Context(), acct, b.ID, at); err != nil {
		t.Fatalf("RevokeBrowser: %v", err)
	}
	browserIs(t, s, revoked(b, at))
	browserIs(t, s, other)
	err := s.RevokeBrowser(t.Context(), acct, b.ID, at.Add(time.Hour))
	wantErr(t, "RevokeBrowser of a revoked browser", err, twofa.ErrNotFound)
	browserIs(t, s, revoked(b, at)) // RevokedAt stays the first
}

func testRevokeBrowserNotFound(t *testing.T, s browser.Store) {
	b := NewBrowser(NewAccount(), t0)
	insertBrowsers(t, s, t0, b)
	wantErr(t, "RevokeBrowser of a missing browser", s.RevokeBrowser(t.Context(), b.Account, rand26(), t0), twofa.ErrNotFound)
	wantErr(t, "RevokeBrowser of another account's browser", s.RevokeBrowser(t.Context(), NewAccount(), b.ID, t0), twofa.ErrNotFound)
	browserIs(t, s, b)
}

func testRevokeBrowserConcurrent(t *testing.T, s browser.Store) {
	b := NewBrowser(NewAccount(), t0)
	insertBrowsers(t, s, t0, b)
	race(t, "RevokeBrowser calls of one browser", 50, 1, twofa.ErrNotFound, func(i int) error {
		return s.RevokeBrowser(context.Background(), b.Account, b.ID, t0.Add(time.Duration(i+1)))
	})
}

// RevokeBrowsers

func testRevokeBrowsers(t *testing.T, s browser.Store) {
	acct := NewAccount()
	at := t0.Add(time.Hour)
	var live []browser.Record
	for range 3 {
		live = append(live, NewBrowser(acct, t0))
	}
	tomb := revoked(NewBrowser(acct, t0), t0.Add(time.Minute))
	expired := NewBrowser(acct, t0)
	expired.ExpiresAt = at // expires exactly at at: not live
	almost := NewBrowser(acct, t0)
	almost.ExpiresAt = at.Add(1) // live for 1 ns more
	live = append(live, almost)
	otherAcct := NewBrowser(NewAccount(), t0)
	insertBrowsers(t, s, t0, append([]browser.Record{tomb, expired, otherAcct}, live...)...)

	n, err := s.RevokeBrowsers(t.Context(), acct, at)
	if n != len(live) || err != nil {
		t.Errorf("RevokeBrowsers = %d, %v; want %d, nil", n, err, len(live))
	}
	for _, b := range live {
		browserIs(t, s, revoked(b, at))
	}
	browserIs(t, s, tomb)    // keeps its RevokedAt
	browserIs(t, s, expired) // not revoked: it had expired
	browserIs(t, s, otherAcct)
	n, err = s.RevokeBrowsers(t.Context(), acct, at.Add(time.Second))
	if n != 0 || err != nil {
		t.Errorf("RevokeBrowsers again = %d, %v; want 0, nil", n, err)
	}
}

func testRevokeBrowsersConcurrent(t *testing.T, s browser.Store) {
	acct := NewAccount()
	const n = 20
	var bs []browser.Record
	for range n {
		bs = append(bs, NewBrowser(acct, t0))
	}
	insertBrowsers(t, s, t0, bs...)
	var total atomic.Int32
	parallel(10, func(int) {
		k, err := s.RevokeBrowsers(context.Background(), acct, t0.Add(time.Minute))
		if err != nil {
			t.Errorf("RevokeBrowsers: %v", err)
		}
		total.Add(int32(k))
	})
	if total.Load() != n {
		t.Errorf("10 concurrent RevokeBrowsers of %d browsers revoked %d in total, want %d", n, total.Load(), n)
	}
}

// DeleteExpiredBrowsers

func testDeleteExpiredBrowsers(t *testing.T, s browser.Store) {
	// DeleteExpiredBrowsers acts across accounts: work in a past era of
	// this subtest's own, as testDeleteExpired does.
	now := pastEra()
	if _, err := s.DeleteExpiredBrowsers(t.Context(), now); err != nil {
		t.Fatal(err)
	}
	a, b := NewAccount(), NewAccount()
	mk := func(acct string, expires time.Duration) browser.Record {
		br := NewBrowser(acct, now.Add(-48*time.Hour))
		br.ExpiresAt = now.Add(expires)
		return br
	}
	gone := []browser.Record{
		mk(a, -time.Hour),
		mk(a, 0), // at now
		revoked(mk(b, -1), now.Add(-time.Hour)),
	}
	kept := []browser.Record{
		mk(a, 1), // 1 ns after now
		revoked(mk(b, time.Hour), now.Add(-time.Hour)),
	}
	insertBrowsers(t, s, now.Add(-48*time.Hour), gone...)
	insertBrowsers(t, s, now.Add(-48*time.Hour), kept...)
	n, err := s.DeleteExpiredBrowsers(t.Context(), now)
	if n != len(gone) || err != nil {
		t.Errorf("DeleteExpiredBrowsers = %d, %v; want %d, nil", n, err, len(gone))
	}
	for _, br := range gone {
		browserGone(t, s, br)
	}
	for _, br := range kept {
		browserIs(t, s, br)
	}
	n, err = s.DeleteExpiredBrowsers(t.Context(), now)
	if n != 0 || err != nil {
		t.Errorf("DeleteExpiredBrowsers again = %d, %v; want 0, nil", n, err)
	}
}

// BrowsersAfter

// pagedBrowsers inserts records of several accounts that share a prefix
// of their own, in an order unrelated to the one BrowsersAfter returns -
// live, revoked and expired ones, with MACs - and returns the prefix and
// the records in that order: by account, then ID. The names differ in
// length and in letters and digits only (every collation orders those as
// bytes do, so the suite holds for a store in any of them).
func pagedBrowsers(t *testing.T, s browser.Store) (string, []browser.Record) {
	t.Helper()
	prefix := NewAccount() + "/"
	var bs []browser.Record
	for i, suffix := range []string{"f", "b", "c10", "ab", "a", "c2"} {
		acct := prefix + suffix
		tag := rand26()[:12]
		var live, expired []browser.Record
		for j, id := range []string{"x", "b", "a2", "ab", "a"} {
			b := NewBrowser(acct, t0.Add(time.Duration(-i*10-j)*time.Second))
			b.ID = tag + id
			b.MAC = []byte{byte(i), byte(j)}
			switch j % 3 {
			case 1:
				b = revoked(b, t0)
				b.MAC = nil
			case 2:
				b.CreatedAt, b.LastUsedAt = t0.Add(-48*time.Hour), t0.Add(-48*time.Hour)
				b.ExpiresAt = t0.Add(-time.Hour)
				expired = append(expired, b)
				bs = append(bs, b)
				continue
			}
			live = append(live, b)
			bs = append(bs, b)
		}
		insertBrowsers(t, s, t0, live...)
		// After the live ones: an insert at t0 would delete them.
		insertBrowsers(t, s, t0.Add(-48*time.Hour), expired...)
	}
	slices.SortFunc(bs, func(a, b browser.Record) int {
		return cmp.Or(strings.Compare(a.Account, b.Account), strings.Compare(a.ID, b.ID))
	})
	return prefix, bs
}

// pageBrowsers reads pages of limit records from (prefix, "") on, checks
// that each holds at most limit records, each of the prefix's after the
// one before, and returns the records of accounts under prefix, stopping
// at the first record of another account.
func pageBrowsers(t *testing.T, s browser.Store, prefix string, limit int) []browser.Record {
	t.Helper()
	var got []browser.Record
	account, id := prefix, ""
	for page := 1; ; page++ {
		bs, err := s.BrowsersAfter(t.Context(), account, id, limit)
		if err != nil {
			t.Fatalf("BrowsersAfter(%q, %q, %d): %v", account, id, limit, err)
		}
		if len(bs) > limit {
			t.Fatalf("BrowsersAfter(..., %d), page %d: %d records, more than the limit", limit, page, len(bs))
		}
		for _, b := range bs {
			if !strings.HasPrefix(b.Account, prefix) {
				return got
			}
			if c := cmp.Or(strings.Compare(b.Account, account), strings.Compare(b.ID, id)); c <= 0 {
				t.Fatalf("BrowsersAfter(..., %d), page %d: record (%q, %q) does not come after (%q, %q)",
					limit, page, b.Account, b.ID, account, id)
			}
			got = append(got, b)
			account, id = b.Account, b.ID
		}
		if len(bs) < limit {
			return got
		}
		if page > 1000 {
			t.Fatal("BrowsersAfter: more than 1000 pages")
		}
	}
}

func browserKeys(bs []browser.Record) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Account + "/" + b.ID
	}
	return out
}

// testBrowsersAfterOrder: whatever the page size, the pages return every
// record once - revoked and expired ones included, each as stored - by
// account, then ID.
func testBrowsersAfterOrder(t *testing.T, s browser.Store) {
	prefix, want := pagedBrowsers(t, s)
	for _, limit := range []int{1, 4, len(want) - 1, len(want), 1000} {
		got := pageBrowsers(t, s, prefix, limit)
		if len(got) != len(want) {
			t.Errorf("BrowsersAfter with limit %d: %d records, want %d: %v", limit, len(got), len(want), browserKeys(got))
		}
		for i := range min(len(got), len(want)) {
			if got[i].Account != want[i].Account || got[i].ID != want[i].ID {
				t.Errorf("BrowsersAfter order with limit %d, record %d: (%q, %q), want (%q, %q) (by account, then ID)",
					limit, i, got[i].Account, got[i].ID, want[i].Account, want[i].ID)
				break
			}
			check(t, fmt.Sprintf("BrowsersAfter, record %q", want[i].ID), got[i], want[i])
		}
	}
}

// testBrowsersAfterBounds: the key itself is not returned, (account, "")
// starts at the account's first record, a key no record has at the next
// one, and an account's last record is followed by the next account's
// first.
func testBrowsersAfterBounds(t *testing.T, s browser.Store) {
	ctx := t.Context()
	_, bs := pagedBrowsers(t, s)
	first, last := bs[0], bs[len(bs)-1]
	if got, err := s.BrowsersAfter(ctx, "", "", 1); len(got) != 1 || err != nil {
		t.Errorf(`BrowsersAfter("", "", 1) of a store with records = %d records, %v; want 1, nil`, len(got), err)
	}
	got, err := s.BrowsersAfter(ctx, first.Account, "", 1)
	if err != nil || len(got) != 1 || got[0].ID != first.ID {
		t.Errorf("BrowsersAfter(account, \"\", 1) = %v, %v; want the account's first record %q", browserKeys(got), err, first.ID)
	}
	got, err = s.BrowsersAfter(ctx, first.Account, first.ID, 1)
	if err != nil || len(got) != 1 || got[0].ID != bs[1].ID {
		t.Errorf("BrowsersAfter(first record, 1) = %v, %v; want strictly after it, %q", browserKeys(got), err, bs[1].ID)
	}
	for i := 1; i+1 < len(bs); i++ {
		if bs[i].Account != bs[i-1].Account {
			got, err = s.BrowsersAfter(ctx, bs[i-1].Account, bs[i-1].ID, 2)
			if err != nil || len(got) != 2 || got[0].ID != bs[i].ID || got[1].ID != bs[i+1].ID {
				t.Errorf("BrowsersAfter(an account's last record, 2) = %v, %v; want the next account's first two %q, %q",
					browserKeys(got), err, bs[i].ID, bs[i+1].ID)
			}
			break
		}
	}
	// A key no record has, before every ID of the last account.
	got, err = s.BrowsersAfter(ctx, last.Account, last.ID[:12], 1)
	if err != nil || len(got) != 1 || got[0].ID != bs[len(bs)-5].ID {
		t.Errorf("BrowsersAfter(a key no record has, 1) = %v, %v; want %q", browserKeys(got), err, bs[len(bs)-5].ID)
	}
}

// testBrowsersAfterLimit: a page holds exactly limit records while more
// follow; a limit below 1 is an error.
func testBrowsersAfterLimit(t *testing.T, s browser.Store) {
	ctx := t.Context()
	prefix, bs := pagedBrowsers(t, s)
	for _, limit := range []int{1, 2, 7, len(bs)} {
		got, err := s.BrowsersAfter(ctx, prefix, "", limit)
		if err != nil || len(got) != limit {
			t.Errorf("BrowsersAfter(prefix, \"\", %d) = %d records, %v; want %d, nil", limit, len(got), err, limit)
			continue
		}
		check(t, fmt.Sprintf("BrowsersAfter with limit %d", limit), browserKeys(got), browserKeys(bs[:limit]))
	}
	for _, limit := range []int{0, -1} {
		if got, err := s.BrowsersAfter(ctx, "", "", limit); err == nil {
			t.Errorf("BrowsersAfter with limit %d = %d records, nil; want an error", limit, len(got))
		}
	}
}

// testBrowsersAfterEmpty: after the last record of the suite's accounts
// comes none of theirs - none at all in a store that holds no other - and
// an account without records yields none of its own.
func testBrowsersAfterEmpty(t *testing.T, s browser.Store) {
	ctx := t.Context()
	prefix, bs := pagedBrowsers(t, s)
	last := bs[len(bs)-1]
	for _, limit := range []int{1, 10} {
		got, err := s.BrowsersAfter(ctx, last.Account, last.ID, limit)
		if err != nil {
			t.Fatalf("BrowsersAfter(the last record, %d): %v", limit, err)
		}
		for _, b := range got {
			if strings.HasPrefix(b.Account, prefix) {
				t.Errorf("BrowsersAfter(the last record, %d) = %v; want no record of the accounts under %q", limit, browserKeys(got), prefix)
				break
			}
		}
	}
	acct := NewAccount()
	got, err := s.BrowsersAfter(ctx, acct, "", 10)
	if err != nil {
		t.Fatalf("BrowsersAfter(an account without records): %v", err)
	}
	for _, b := range got {
		if b.Account == acct {
			t.Errorf("BrowsersAfter(an account without records) = %v; want none of its own", browserKeys(got))
		}
	}
}

func testBrowsersAfterNoAliasing(t *testing.T, s browser.Store) {
	acct := NewAccount()
	b := NewBrowser(acct, t0)
	b.MAC = []byte("mac")
	insertBrowsers(t, s, t0, b)
	want := b
	want.Digest, want.MAC = bytes.Clone(b.Digest), bytes.Clone(b.MAC)
	got, err := s.BrowsersAfter(t.Context(), acct, "", 1)
	if err != nil || len(got) != 1 {
		t.Fatalf("BrowsersAfter = %v, %v", browserKeys(got), err)
	}
	got[0].Digest[0] ^= 0xff
	got[0].MAC[0] ^= 0xff
	browserIs(t, s, want)
}

// UpdateBrowserMAC

// testUpdateBrowserMAC: the MAC changes only when the old one matches,
// and nothing else of the record changes.
func testUpdateBrowserMAC(t *testing.T, s browser.Store) {
	ctx := t.Context()
	acct := NewAccount()
	b, other := NewBrowser(acct, t0), NewBrowser(acct, t0)
	b.MAC, other.MAC = []byte("m1"), []byte("o1")
	insertBrowsers(t, s, t0, b, other)
	for _, old := range [][]byte{[]byte("m0"), []byte("m"), []byte("m1\x00"), []byte("o1")} {
		if ok, err := s.UpdateBrowserMAC(ctx, acct, b.ID, old, []byte("m2")); err != nil || ok {
			t.Errorf("UpdateBrowserMAC with old MAC %q (the record's is %q) = %v, %v; want false, nil", old, b.MAC, ok, err)
		}
	}
	browserIs(t, s, b)
	if ok, err := s.UpdateBrowserMAC(ctx, acct, b.ID, []byte("m1"), []byte("m2")); err != nil || !ok {
		t.Fatalf("UpdateBrowserMAC with the record's MAC = %v, %v; want true, nil", ok, err)
	}
	want := b
	want.MAC = []byte("m2")
	browserIs(t, s, want)
	browserIs(t, s, other)
	if ok, err := s.UpdateBrowserMAC(ctx, acct, b.ID, []byte("m1"), []byte("m3")); err != nil || ok {
		t.Errorf("UpdateBrowserMAC with the MAC replaced = %v, %v; want false, nil", ok, err)
	}
	browserIs(t, s, want)
}

// testUpdateBrowserMACEmptyOld: a record without a MAC is never given
// one, and an empty old matches no record.
func testUpdateBrowserMACEmptyOld(t *testing.T, s browser.Store) {
	ctx := t.Context()
	acct := NewAccount()
	none, with := NewBrowser(acct, t0), NewBrowser(acct, t0)
	with.MAC = []byte("m1")
	insertBrowsers(t, s, t0, none, with)
	for _, b := range []browser.Record{none, with} {
		for _, old := range [][]byte{nil, {}} {
			if ok, err := s.UpdateBrowserMAC(ctx, acct, b.ID, old, []byte("m2")); err != nil || ok {
				t.Errorf("UpdateBrowserMAC with an empty old MAC (%x, the record's is %q) = %v, %v; want false, nil", old, b.MAC, ok, err)
			}
		}
		browserIs(t, s, b)
	}
}

// testUpdateBrowserMACRevoked: a revoked record keeps its MAC (none, or
// one a writer left), the old one given or not.
func testUpdateBrowserMACRevoked(t *testing.T, s browser.Store) {
	ctx := t.Context()
	acct := NewAccount()
	tomb := revoked(NewBrowser(acct, t0), t0)
	tomb.MAC = []byte("t1") // a tombstone with a MAC, as no store leaves one
	b := NewBrowser(acct, t0)
	b.MAC = []byte("m1")
	insertBrowsers(t, s, t0, tomb, b)
	if ok, err := s.UpdateBrowserMAC(ctx, acct, tomb.ID, []byte("t1"), []byte("t2")); err != nil || ok {
		t.Errorf("UpdateBrowserMAC of a revoked record with its MAC = %v, %v; want false, nil", ok, err)
	}
	browserIs(t, s, tomb)
	if err := s.RevokeBrowser(ctx, acct, b.ID, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.UpdateBrowserMAC(ctx, acct, b.ID, []byte("m1"), []byte("m2")); err != nil || ok {
		t.Errorf("UpdateBrowserMAC of a record revoked since it was read = %v, %v; want false, nil", ok, err)
	}
	if got := getBrowser(t, s, b); len(got.MAC) != 0 {
		t.Errorf("UpdateBrowserMAC gave a revoked record MAC %q", got.MAC)
	}
}

func testUpdateBrowserMACNotFound(t *testing.T, s browser.Store) {
	ctx := t.Context()
	b := NewBrowser(NewAccount(), t0)
	b.MAC = []byte("m1")
	insertBrowsers(t, s, t0, b)
	for _, c := range []struct{ what, account, id string }{
		{"a missing record", b.Account, rand26()},
		{"another account's record", NewAccount(), b.ID},
	} {
		for _, old := range [][]byte{[]byte("m1"), nil} {
			ok, err := s.UpdateBrowserMAC(ctx, c.account, c.id, old, []byte("m2"))
			wantErr(t, fmt.Sprintf("UpdateBrowserMAC of %s (old %q)", c.what, old), err, twofa.ErrNotFound)
			if ok {
				t.Errorf("UpdateBrowserMAC of %s reported true", c.what)
			}
		}
	}
	browserIs(t, s, b)
}

// testUpdateBrowserMACConcurrent: of concurrent calls with the same old
// MAC exactly one wins, and the record holds the winner's MAC.
func testUpdateBrowserMACConcurrent(t *testing.T, s browser.Store) {
	const n = 50
	b := NewBrowser(NewAccount(), t0)
	b.MAC = []byte("m0")
	insertBrowsers(t, s, t0, b)
	var winner atomic.Int32
	winner.Store(-1)
	won := count(n, func(i int) bool {
		ok, err := s.UpdateBrowserMAC(context.Background(), b.Account, b.ID, []byte("m0"), []byte(fmt.Sprintf("m%d", i+1)))
		if err != nil {
			t.Errorf("one of %d concurrent UpdateBrowserMAC calls: %v", n, err)
		}
		if ok {
			winner.Store(int32(i))
		}
		return ok
	})
	if won != 1 {
		t.Fatalf("%d concurrent UpdateBrowserMAC calls with the same old MAC: %d reported true, want exactly 1", n, won)
	}
	want := b
	want.MAC = []byte(fmt.Sprintf("m%d", winner.Load()+1))
	browserIs(t, s, want)
}
