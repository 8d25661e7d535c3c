package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/phone"
)

// The MACs of stored records (twofa.Device.MAC, browser.Record.MAC) are
// opaque to a store: it keeps them, and compares a device's as the
// record's version in every compare-and-set.

func macTests() []testCase[twofa.Store] {
	return []testCase[twofa.Store]{
		{"DeviceStore/MAC/CompareAndSet", testDeviceMACCompareAndSet},
		{"DeviceStore/MAC/Concurrent", testDeviceMACConcurrent},
	}
}

// testDeviceMACCompareAndSet: each write of a device's state changes it
// only when the stored MAC is old, stores the new one with the state, and
// with another old changes nothing.
func testDeviceMACCompareAndSet(t *testing.T, s twofa.Store) {
	ctx := t.Context()
	acct := NewAccount()
	m := func(b byte) []byte { return []byte{1, 0, 0, 0, 1, b} }
	p := NewDevice(acct, t0)
	p.MAC = m(1)
	c := confirmed(NewDevice(acct, t0), 10)
	c.MAC = m(2)
	insert(t, s, p, c)
	check(t, "the MAC as inserted", get(t, s, acct, p.ID).MAC, m(1))

	wrong := m(9)
	step := func(what string, ok bool, err error, want bool) {
		t.Helper()
		if err != nil || ok != want {
			t.Fatalf("%s = %v, %v; want %v, nil", what, ok, err, want)
		}
	}
	_, ok, err := s.ReserveDeviceAttempt(ctx, acct, p.ID, 5, wrong, m(3))
	step("ReserveDeviceAttempt with another old MAC", ok, err, false)
	unchanged(t, s, p)
	_, ok, err = s.ReserveDeviceAttempt(ctx, acct, p.ID, 5, m(1), m(3))
	step("ReserveDeviceAttempt", ok, err, true)
	p.Attempts, p.MAC = 1, m(3)
	unchanged(t, s, p)

	ok, err = s.ConfirmDevice(ctx, acct, p.ID, 5, 1, t0.Add(time.Second), 5, wrong, m(4))
	step("ConfirmDevice with another old MAC", ok, err, false)
	unchanged(t, s, p)
	ok, err = s.ConfirmDevice(ctx, acct, p.ID, 5, 1, t0.Add(time.Second), 5, m(3), m(4))
	step("ConfirmDevice", ok, err, true)
	if got := get(t, s, acct, p.ID); got.State != twofa.DeviceConfirmed || string(got.MAC) != string(m(4)) {
		t.Errorf("after ConfirmDevice: State %v, MAC %x; want confirmed, %x", got.State, got.MAC, m(4))
	}

	ok, err = s.SetResync(ctx, acct, c.ID, 40, 2, wrong, m(5))
	step("SetResync with another old MAC", ok, err, false)
	unchanged(t, s, c)
	ok, err = s.SetResync(ctx, acct, c.ID, 40, 2, m(2), m(5))
	step("SetResync", ok, err, true)
	c.ResyncStep, c.ResyncDrift, c.MAC = 40, 2, m(5)
	unchanged(t, s, c)

	_, ok, err = s.AcceptCode(ctx, acct, c.ID, 12, 1, t0.Add(time.Hour), twofa.ScopeCode, codeThrottle, wrong, m(6))
	step("AcceptCode with another old MAC", ok, err, false)
	unchanged(t, s, c)
	_, ok, err = s.AcceptCode(ctx, acct, c.ID, 12, 1, t0.Add(time.Hour), twofa.ScopeCode, codeThrottle, m(5), m(6))
	step("AcceptCode", ok, err, true)
	c.Counter, c.Drift, c.ResyncStep, c.ResyncDrift, c.LastUsedAt, c.MAC = 13, 1, 0, 0, t0.Add(time.Hour), m(6)
	unchanged(t, s, c)

	ok, err = s.UpdateDeviceMAC(ctx, acct, c.ID, wrong, m(7))
	step("UpdateDeviceMAC with another old MAC", ok, err, false)
	ok, err = s.UpdateDeviceMAC(ctx, acct, c.ID, m(6), m(7))
	step("UpdateDeviceMAC", ok, err, true)
	c.MAC = m(7)
	unchanged(t, s, c)
	ok, err = s.UpdateDeviceMAC(ctx, acct, c.ID, m(7), nil)
	step("UpdateDeviceMAC to none", ok, err, true)
	c.MAC = nil
	unchanged(t, s, c)
	ok, err = s.UpdateDeviceMAC(ctx, acct, c.ID, nil, m(8))
	step("UpdateDeviceMAC from none", ok, err, true)
	_, err = s.UpdateDeviceMAC(ctx, acct, "no-such-device", nil, m(8))
	wantErr(t, "UpdateDeviceMAC of a missing device", err, twofa.ErrNotFound)
}

// testDeviceMACConcurrent: of concurrent reservations that all read the
// same MAC, exactly one wins, whatever the limit: the MAC is the version.
func testDeviceMACConcurrent(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	p := NewDevice(acct, t0)
	p.MAC = []byte("v0")
	insert(t, s, p)
	const n = 16
	won := count(n, func(i int) bool {
		_, ok, err := s.ReserveDeviceAttempt(t.Context(), acct, p.ID, n, []byte("v0"), []byte(fmt.Sprintf("v1-%d", i)))
		return err == nil && ok
	})
	if won != 1 {
		t.Errorf("%d of %d concurrent reservations on one MAC won; want 1", won, n)
	}
	if got := get(t, s, acct, p.ID); got.Attempts != 1 {
		t.Errorf("Attempts %d after the race; want 1", got.Attempts)
	}
}

// testBrowserMAC: a record keeps its MAC, and every revocation clears it
// in the same step (RevokeBrowser, RevokeBrowsers, InsertBrowser's
// eviction).
func testBrowserMAC(t *testing.T, s browser.Store) {
	ctx := t.Context()
	acct := NewAccount()
	var bs []browser.Record
	for i := range 4 {
		b := NewBrowser(acct, t0.Add(time.Duration(i)))
		b.MAC = []byte{1, byte(i)}
		bs = append(bs, b)
	}
	insertBrowsers(t, s, t0, bs...)
	for _, b := range bs {
		browserIs(t, s, b)
	}
	at := t0.Add(time.Minute)
	if err := s.RevokeBrowser(ctx, acct, bs[0].ID, at); err != nil {
		t.Fatal(err)
	}
	if got := getBrowser(t, s, bs[0]); len(got.MAC) != 0 {
		t.Errorf("RevokeBrowser left MAC %x", got.MAC)
	}
	browserIs(t, s, bs[1])
	ev, err := s.InsertBrowser(ctx, NewBrowser(acct, at), 3, at)
	if err != nil || len(ev) != 1 || ev[0] != bs[1].ID {
		t.Fatalf("InsertBrowser at the limit = %v, %v; want %q evicted", ev, err, bs[1].ID)
	}
	if got := getBrowser(t, s, bs[1]); len(got.MAC) != 0 {
		t.Errorf("an eviction left MAC %x", got.MAC)
	}
	if _, err := s.RevokeBrowsers(ctx, acct, at); err != nil {
		t.Fatal(err)
	}
	for _, b := range listBrowsers(t, s, acct) {
		if len(b.MAC) != 0 {
			t.Errorf("RevokeBrowsers left browser %q MAC %x", b.ID, b.MAC)
		}
	}
}

// testChallengeMAC: a challenge keeps its MAC while open; a wrong try
// with the MAC read sets the next one, a try with another clears it and
// accepts nothing, even the right digest; an accepted try and every
// voiding clear it.
func testChallengeMAC(t *testing.T, s PhoneStore) {
	ctx := t.Context()
	acct := NewAccount()
	p := phTrusted(NewPhone(acct, t0))
	insertPhone(t, s, p)
	mac := func(c phone.Challenge) []byte {
		t.Helper()
		return getChallenge(t, s, acct, c.ID).MAC
	}
	consume := func(c phone.Challenge, digest, old, next []byte) phone.ConsumeResult {
		t.Helper()
		r, _, err := s.ConsumeChallenge(ctx, acct, c.ID, digest, 5, t0.Add(time.Second), old, next)
		if err != nil {
			t.Fatalf("ConsumeChallenge: %v", err)
		}
		return r
	}

	a := NewChallenge(p, t0)
	a.MAC = []byte("a0")
	phCreate(t, s, a)
	check(t, "the MAC as created", mac(a), []byte("a0"))
	if r := consume(a, randomBytes(32), []byte("a0"), []byte("a1")); r != phone.ConsumeWrong {
		t.Fatalf("a wrong digest: %v", r)
	}
	check(t, "the MAC after a wrong try", mac(a), []byte("a1"))
	if r := consume(a, a.Digest, []byte("a0"), []byte("a2")); r != phone.ConsumeWrong {
		t.Errorf("the right digest with a stale MAC: %v, want %v", r, phone.ConsumeWrong)
	}
	if m := mac(a); len(m) != 0 {
		t.Errorf("a try with a stale MAC left MAC %q; want none", m)
	}

	b := NewChallenge(p, t0.Add(time.Millisecond))
	b.MAC = []byte("b0")
	phCreate(t, s, b)
	if r := consume(b, b.Digest, []byte("b0"), []byte("b1")); r != phone.ConsumeAccepted {
		t.Fatalf("the right digest: %v", r)
	}
	if m := mac(b); len(m) != 0 {
		t.Errorf("an accepted challenge kept MAC %q; want none", m)
	}

	c := NewChallenge(p, t0.Add(2*time.Millisecond))
	c.MAC = []byte("c0")
	phCreate(t, s, c)
	d := NewChallenge(p, t0.Add(3*time.Millisecond))
	d.MAC = []byte("d0")
	phCreate(t, s, d) // voids c
	if m := mac(c); len(m) != 0 {
		t.Errorf("a challenge voided by a new one kept MAC %q; want none", m)
	}
	if err := s.VoidChallenge(ctx, acct, d.ID); err != nil {
		t.Fatal(err)
	}
	if m := mac(d); len(m) != 0 {
		t.Errorf("VoidChallenge kept MAC %q; want none", m)
	}
	e := NewChallenge(p, t0.Add(4*time.Millisecond))
	e.MAC = []byte("e0")
	phCreate(t, s, e)
	if _, _, err := s.DeletePhone(ctx, acct, p.ID); err != nil {
		t.Fatal(err)
	}
	if m := mac(e); len(m) != 0 {
		t.Errorf("DeletePhone kept a challenge's MAC %q; want none", m)
	}
}

// testPhoneMAC: ConfirmPhone and UpdatePhoneMAC change a phone only when
// its MAC is old, and store the new one with the state.
func testPhoneMAC(t *testing.T, s PhoneStore) {
	ctx := t.Context()
	acct := NewAccount()
	p := NewPhone(acct, t0)
	p.MAC = []byte("p0")
	insertPhone(t, s, p)
	check(t, "the MAC as inserted", getPhone(t, s, acct, p.ID).MAC, []byte("p0"))
	at := t0.Add(time.Second)
	if ok, err := s.ConfirmPhone(ctx, acct, p.ID, at, []byte("other"), []byte("p1")); err != nil || ok {
		t.Fatalf("ConfirmPhone with another old MAC = %v, %v; want false, nil", ok, err)
	}
	if got := getPhone(t, s, acct, p.ID); got.State != phone.Pending {
		t.Errorf("after a refused ConfirmPhone the phone is %v", got.State)
	}
	if ok, err := s.ConfirmPhone(ctx, acct, p.ID, at, []byte("p0"), []byte("p1")); err != nil || !ok {
		t.Fatalf("ConfirmPhone = %v, %v; want true, nil", ok, err)
	}
	if got := getPhone(t, s, acct, p.ID); got.State != phone.Trusted || string(got.MAC) != "p1" {
		t.Errorf("after ConfirmPhone: %v, MAC %q; want trusted, p1", got.State, got.MAC)
	}
	if ok, err := s.UpdatePhoneMAC(ctx, acct, p.ID, []byte("p0"), []byte("p2")); err != nil || ok {
		t.Errorf("UpdatePhoneMAC with another old MAC = %v, %v; want false, nil", ok, err)
	}
	if ok, err := s.UpdatePhoneMAC(ctx, acct, p.ID, []byte("p1"), nil); err != nil || !ok {
		t.Errorf("UpdatePhoneMAC to none = %v, %v; want true, nil", ok, err)
	}
	if ok, err := s.UpdatePhoneMAC(ctx, acct, p.ID, nil, []byte("p3")); err != nil || !ok {
		t.Errorf("UpdatePhoneMAC from none = %v, %v; want true, nil", ok, err)
	}
	check(t, "the MAC after the updates", getPhone(t, s, acct, p.ID).MAC, []byte("p3"))
	_, err := s.UpdatePhoneMAC(ctx, acct, "no-such-phone", nil, nil)
	wantErr(t, "UpdatePhoneMAC of a missing phone", err, twofa.ErrNotFound)
}

// testPhonesAfter: the pages, in byte order of (account, id), return
// every phone of the accounts once.
func testPhonesAfter(t *testing.T, s PhoneStore) {
	ctx := t.Context()
	base := NewAccount()
	var want []string
	for _, suffix := range []string{"-b", "-a", "-c"} {
		acct := base + suffix
		for range 3 {
			p := NewPhone(acct, t0)
			insertPhone(t, s, p)
			want = append(want, acct+"/"+p.ID)
		}
	}
	slices.Sort(want)
	var got []string
	account, id := base, ""
	for {
		ps, err := s.PhonesAfter(ctx, account, id, 2)
		if err != nil {
			t.Fatalf("PhonesAfter: %v", err)
		}
		for _, p := range ps {
			if strings.HasPrefix(p.Account, base) {
				got = append(got, p.Account+"/"+p.ID)
			}
		}
		if len(ps) < 2 {
			break
		}
		account, id = ps[len(ps)-1].Account, ps[len(ps)-1].ID
		if !strings.HasPrefix(account, base) {
			break
		}
	}
	check(t, "the phones paged", got, want)
	if _, err := s.PhonesAfter(ctx, "", "", 0); err == nil {
		t.Error("PhonesAfter with limit 0: no error")
	}
}
