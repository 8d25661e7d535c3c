package storetest

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
)

// confirmMax is the maxAttempts the ConfirmDevice cases pass where the
// limit is not what they test: above any Attempts they set.
const confirmMax = 5

func deviceTests() []testCase[twofa.Store] {
	return append([]testCase[twofa.Store]{
		{"DeviceStore/InsertDevice/RoundTrip", testInsertRoundTrip},
		{"DeviceStore/InsertDevice/TimeOutOfRange", testInsertTimeOutOfRange},
		{"DeviceStore/InsertDevice/Duplicate", testInsertDuplicate},
		{"DeviceStore/InsertDevice/DuplicateOtherAccount", testInsertDuplicateOtherAccount},
		{"DeviceStore/InsertDevice/Limit", testInsertLimit},
		{"DeviceStore/InsertDevice/LimitZero", testInsertLimitZero},
		{"DeviceStore/InsertDevice/LimitPerAccount", testInsertLimitPerAccount},
		{"DeviceStore/InsertDevice/ExpiredPending", testInsertExpiredPending},
		{"DeviceStore/InsertDevice/NoAliasing", testInsertNoAliasing},
		{"DeviceStore/InsertDevice/Concurrent", testInsertConcurrent},
		{"DeviceStore/InsertDevice/ConcurrentDuplicate", testInsertConcurrentDuplicate},

		{"DeviceStore/Device/NotFound", testDeviceNotFound},
		{"DeviceStore/Device/NoAliasing", testDeviceNoAliasing},

		{"DeviceStore/Devices/Order", testDevicesOrder},
		{"DeviceStore/Devices/Empty", testDevicesEmpty},
		{"DeviceStore/Devices/Isolation", testDevicesIsolation},
		{"DeviceStore/Devices/NoAliasing", testDevicesNoAliasing},

		{"DeviceStore/ConfirmDevice/Pending", testConfirmPending},
		{"DeviceStore/ConfirmDevice/MaxAttempts", testConfirmMaxAttempts},
		{"DeviceStore/ConfirmDevice/Expired", testConfirmExpired},
		{"DeviceStore/ConfirmDevice/AlreadyConfirmed", testConfirmAlreadyConfirmed},
		{"DeviceStore/ConfirmDevice/Concurrent", testConfirmConcurrent},

		{"DeviceStore/SetResync/LastWriterWins", testSetResync},

		{"DeviceStore/ReserveDeviceAttempt/UpToLimit", testReserveAttempt},
		{"DeviceStore/ReserveDeviceAttempt/NotPending", testReserveAttemptNotPending},
		{"DeviceStore/ReserveDeviceAttempt/Concurrent", testReserveAttemptConcurrent},

		{"DeviceStore/RenameDevice/Renames", testRename},

		{"DeviceStore/UpdateSealed/CompareAndSet", testUpdateSealedCAS},
		{"DeviceStore/UpdateSealed/NoAliasing", testUpdateSealedNoAliasing},
		{"DeviceStore/UpdateSealed/Concurrent", testUpdateSealedConcurrent},

		{"DeviceStore/DeleteDevice/ConfirmedLeft", testDeleteConfirmedLeft},
		{"DeviceStore/DeleteDevice/ReturnsDeleted", testDeleteReturnsDeleted},
		{"DeviceStore/DeleteDevice/ConcurrentSame", testDeleteConcurrentSame},
		{"DeviceStore/DeleteDevice/ConcurrentDistinct", testDeleteConcurrentDistinct},

		{"DeviceStore/DeletePendingDevice/Pending", testDeletePending},
		{"DeviceStore/DeletePendingDevice/Confirmed", testDeletePendingConfirmed},

		{"DeviceStore/DeleteExpiredDevices/Counts", testDeleteExpired},

		{"DeviceStore/DevicesAfter/Order", testDevicesAfterOrder},
		{"DeviceStore/DevicesAfter/Bounds", testDevicesAfterBounds},
		{"DeviceStore/DevicesAfter/NoAliasing", testDevicesAfterNoAliasing},
	}, append(acceptTests(), append(deviceNotFoundTests(), deviceCancelTests()...)...)...)
}

// allBytes is every byte value once: NUL, invalid UTF-8, quote characters.
func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// InsertDevice, Device, Devices

func testInsertRoundTrip(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	zone := time.FixedZone("UTC+05:30", 5*3600+1800)

	pending := NewDevice(acct, t0.In(zone).Add(1))
	pending.Label = "Téléphone de Zoë 📱 日本語 עברית \u200d\u0301"
	pending.Sealed = allBytes()
	pending.ExpiresAt = t0.Add(10*time.Minute + 999)
	pending.Attempts = 2

	hotp := confirmed(NewDevice(acct, t0.Add(2*time.Second+7)), math.MaxUint64-1)
	hotp.Label = `a'b"c\d%_e;-- ` + "\t\n"
	hotp.Type = twofa.TypeHOTP
	hotp.Algorithm = twofa.SHA512
	hotp.Digits = 8
	hotp.Period = 0
	hotp.Sealed = nil
	hotp.Drift = -7
	hotp.ResyncStep = math.MaxUint64 - 1
	hotp.ResyncDrift = -3
	hotp.Attempts = 4
	hotp.ConfirmedAt = t0.Add(time.Hour + 1)
	hotp.LastUsedAt = endOfTime

	totp := confirmed(NewDevice(acct, t0.Add(3*time.Second)), 1<<63)
	totp.Label = ""
	totp.Algorithm = twofa.SHA256
	totp.Digits = 7
	totp.Period = 60 * time.Second
	totp.Sealed = []byte{}
	totp.Drift = math.MinInt64
	totp.ResyncStep = 1<<63 + 1
	totp.ResyncDrift = math.MaxInt64
	totp.ConfirmedAt = time.Unix(0, 0) // the Unix epoch is not the zero Time
	totp.LastUsedAt = time.Time{}

	// A confirmed device may carry an ExpiresAt from its pending days.
	old := confirmed(NewDevice(acct, t0.Add(4*time.Second)), 1)
	old.ExpiresAt = t0.Add(-time.Hour)
	old.ConfirmedAt = time.Date(1700, time.January, 1, 0, 0, 0, 1, time.UTC)
	old.LastUsedAt = time.Date(2262, time.April, 11, 23, 47, 16, 854775806, time.UTC)
	old.Drift = 1
	old.ResyncDrift = 1

	want := []twofa.Device{pending, hotp, totp, old}
	for _, d := range want {
		if err := s.InsertDevice(t.Context(), d, 10, t0); err != nil {
			t.Fatalf("InsertDevice(%q): %v", d.ID, err)
		}
	}
	for _, d := range want {
		check(t, fmt.Sprintf("Device(%q)", d.ID), get(t, s, acct, d.ID), d)
	}
	check(t, "Devices()", list(t, s, acct), want)
}

// testInsertTimeOutOfRange stores times beyond the range the suite requires
// (int64 Unix nanoseconds): a store may refuse them, but must not store
// other times in their place.
func testInsertTimeOutOfRange(t *testing.T, s twofa.Store) {
	for _, tm := range []time.Time{
		endOfTime.Add(1),
		time.Date(9999, time.December, 31, 23, 59, 59, 999999999, time.UTC),
		time.Unix(0, math.MinInt64).Add(-1),
		time.Date(1, time.January, 1, 0, 0, 0, 1, time.UTC),
	} {
		acct := NewAccount()
		d := confirmed(NewDevice(acct, t0), 1)
		d.LastUsedAt = tm
		if err := s.InsertDevice(t.Context(), d, 10, t0); err != nil {
			t.Logf("InsertDevice with LastUsedAt %s: %v", fmtTime(tm), err)
			if ds := list(t, s, acct); len(ds) != 0 {
				t.Errorf("InsertDevice with LastUsedAt %s failed, yet stored the device", fmtTime(tm))
			}
			continue
		}
		unchanged(t, s, d)
	}
}

func testInsertDuplicate(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := NewDevice(acct, t0)
	insert(t, s, d)
	again := NewDevice(acct, t0.Add(time.Second))
	again.ID = d.ID
	again.Label = "impostor"
	err := s.InsertDevice(t.Context(), again, 10, t0.Add(time.Second))
	wantErr(t, "InsertDevice with a taken ID", err, twofa.ErrDuplicate)
	unchanged(t, s, d)
	if n := len(list(t, s, acct)); n != 1 {
		t.Errorf("after a refused duplicate, Devices has %d devices, want 1", n)
	}

	// A duplicate into a full account: either error will do, nothing changes.
	err = s.InsertDevice(t.Context(), again, 1, t0.Add(time.Second))
	if !errors.Is(err, twofa.ErrDuplicate) && !errors.Is(err, twofa.ErrLimitReached) {
		t.Errorf("InsertDevice with a taken ID into a full account: err = %v, want ErrDuplicate or ErrLimitReached", err)
	}
	unchanged(t, s, d)
}

func testInsertDuplicateOtherAccount(t *testing.T, s twofa.Store) {
	a, b := NewAccount(), NewAccount()
	da := confirmed(NewDevice(a, t0), 5)
	insert(t, s, da)
	db := confirmed(NewDevice(b, t0), 100)
	db.ID = da.ID
	db.Label = "b's device"
	err := s.InsertDevice(t.Context(), db, 10, t0)
	switch {
	case errors.Is(err, twofa.ErrDuplicate):
		t.Log("device IDs are unique across accounts")
		if ds := list(t, s, b); len(ds) != 0 {
			t.Errorf("after a refused insert, account b has %d devices, want 0", len(ds))
		}
		unchanged(t, s, da)
		return
	case err != nil:
		t.Fatalf("InsertDevice with an ID another account holds: err = %v, want nil or ErrDuplicate", err)
	}
	t.Log("device IDs are unique within an account")
	unchanged(t, s, da)
	unchanged(t, s, db)

	// Every change through account b leaves a's device alone, and back.
	ctx := t.Context()
	if _, r, err := acceptCode(s, ctx, b, db.ID, 200, 1, t0.Add(time.Minute), twofa.ScopeCode, open); r != codeAccepted || err != nil {
		t.Fatalf("AcceptCode(b) = %v, %v; want accepted, nil", r, err)
	}
	if _, err := s.SetResync(ctx, b, db.ID, 300, 2, nil, nil); err != nil {
		t.Fatal(err)
	}
	if n, ok, err := s.ReserveDeviceAttempt(ctx, b, db.ID, 10, nil, nil); err != nil || ok != (db.State == twofa.DevicePending) {
		t.Fatalf("ReserveDeviceAttempt(b) = %d, %v, %v", n, ok, err)
	}
	if err := s.RenameDevice(ctx, b, db.ID, "renamed"); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.UpdateSealed(ctx, b, db.ID, db.Sealed, []byte("new")); !ok || err != nil {
		t.Fatalf("UpdateSealed(b) = %v, %v; want true, nil", ok, err)
	}
	unchanged(t, s, da)
	if _, left, err := s.DeleteDevice(ctx, b, db.ID); err != nil || left != 0 {
		t.Fatalf("DeleteDevice(b) = %d, %v; want 0, nil", left, err)
	}
	unchanged(t, s, da)
	if _, left, err := s.DeleteDevice(ctx, a, da.ID); err != nil || left != 0 {
		t.Fatalf("DeleteDevice(a) = %d, %v; want 0, nil", left, err)
	}
}

func testInsertLimit(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	c1 := confirmed(NewDevice(acct, t0), 1)
	c2 := confirmed(NewDevice(acct, t0), 1)
	p := NewDevice(acct, t0)
	for i, d := range []twofa.Device{c1, c2, p} {
		if err := s.InsertDevice(t.Context(), d, 3, t0); err != nil {
			t.Fatalf("InsertDevice #%d of 3 with limit 3: %v", i+1, err)
		}
	}
	over := NewDevice(acct, t0)
	err := s.InsertDevice(t.Context(), over, 3, t0)
	wantErr(t, "InsertDevice #4 with limit 3", err, twofa.ErrLimitReached)
	wantGone(t, s, acct, over.ID)
	if n := len(list(t, s, acct)); n != 3 {
		t.Errorf("Devices has %d devices, want 3", n)
	}
	if err := s.InsertDevice(t.Context(), over, 4, t0); err != nil {
		t.Errorf("InsertDevice #4 with limit 4: %v", err)
	}
}

func testInsertLimitZero(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := NewDevice(acct, t0)
	err := s.InsertDevice(t.Context(), d, 0, t0)
	wantErr(t, "InsertDevice into an empty account with limit 0", err, twofa.ErrLimitReached)
	wantGone(t, s, acct, d.ID)
}

func testInsertLimitPerAccount(t *testing.T, s twofa.Store) {
	a, b := NewAccount(), NewAccount()
	for range 5 {
		insert(t, s, confirmed(NewDevice(b, t0), 1))
	}
	insert(t, s, confirmed(NewDevice(strings.ToLower(a), t0), 1))
	for i := range 2 {
		if err := s.InsertDevice(t.Context(), NewDevice(a, t0), 2, t0); err != nil {
			t.Fatalf("InsertDevice #%d with limit 2 while other accounts hold devices: %v", i+1, err)
		}
	}
	err := s.InsertDevice(t.Context(), NewDevice(a, t0), 2, t0)
	wantErr(t, "InsertDevice #3 with limit 2", err, twofa.ErrLimitReached)
}

func testInsertExpiredPending(t *testing.T, s twofa.Store) {
	acct, other := NewAccount(), NewAccount()
	now := t0.Add(time.Minute)

	// Expires exactly at now: expired, deleted, not counted.
	atNow := NewDevice(acct, t0)
	atNow.ExpiresAt = now
	// Expires 1 ns after now: counts.
	justAfter := NewDevice(acct, t0)
	justAfter.ExpiresAt = now.Add(1)
	// Long expired.
	stale := NewDevice(acct, t0)
	stale.ExpiresAt = t0.Add(time.Second)
	// Another account's expired device is not this insert's business.
	otherStale := NewDevice(other, t0)
	otherStale.ExpiresAt = t0.Add(time.Second)
	insert(t, s, atNow, justAfter, stale, otherStale)

	c := confirmed(NewDevice(acct, now), 1)
	if err := s.InsertDevice(t.Context(), c, 2, now); err != nil {
		t.Fatalf("InsertDevice with limit 2, one live pending and two expired pending devices: %v", err)
	}
	wantGone(t, s, acct, atNow.ID)
	wantGone(t, s, acct, stale.ID)
	unchanged(t, s, justAfter)
	unchanged(t, s, c)
	unchanged(t, s, otherStale)

	err := s.InsertDevice(t.Context(), NewDevice(acct, now), 2, now)
	wantErr(t, "InsertDevice with limit 2, one confirmed and one live pending device", err, twofa.ErrLimitReached)

	later := now.Add(1)
	last := NewDevice(acct, later)
	if err := s.InsertDevice(t.Context(), last, 2, later); err != nil {
		t.Fatalf("InsertDevice after the pending device expired: %v", err)
	}
	wantGone(t, s, acct, justAfter.ID)
	if n := len(list(t, s, acct)); n != 2 {
		t.Errorf("Devices has %d devices, want 2", n)
	}

	// A confirmed device counts whatever its ExpiresAt says.
	acct2 := NewAccount()
	oldConfirmed := confirmed(NewDevice(acct2, t0), 1)
	oldConfirmed.ExpiresAt = t0
	insert(t, s, oldConfirmed)
	err = s.InsertDevice(t.Context(), NewDevice(acct2, now), 1, now)
	wantErr(t, "InsertDevice with limit 1 and a confirmed device with a past ExpiresAt", err, twofa.ErrLimitReached)
	unchanged(t, s, oldConfirmed)
}

func testInsertNoAliasing(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := NewDevice(acct, t0)
	want := d
	want.Sealed = bytes.Clone(d.Sealed)
	insert(t, s, d)
	d.Sealed[0] ^= 0xff
	d.Sealed[len(d.Sealed)-1] ^= 0xff
	unchanged(t, s, want)
}

func testInsertConcurrent(t *testing.T, s twofa.Store) {
	const n, limit = 50, 10
	acct := NewAccount()
	race(t, "inserts with limit 10", n, limit, twofa.ErrLimitReached, func(i int) error {
		d := NewDevice(acct, t0)
		if i%2 == 0 {
			d = confirmed(d, 1)
		}
		return s.InsertDevice(t.Context(), d, limit, t0)
	})
	if got := len(list(t, s, acct)); got != limit {
		t.Errorf("Devices has %d devices, want %d", got, limit)
	}
}

func testInsertConcurrentDuplicate(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	id := NewDevice(acct, t0).ID
	race(t, "inserts of one ID", 20, 1, twofa.ErrDuplicate, func(int) error {
		d := NewDevice(acct, t0)
		d.ID = id
		return s.InsertDevice(t.Context(), d, 100, t0)
	})
}

func testDeviceNotFound(t *testing.T, s twofa.Store) {
	a, b := NewAccount(), NewAccount()
	d := NewDevice(a, t0)
	insert(t, s, d)
	for _, c := range []struct{ what, account, id string }{
		{"an unknown account", b, d.ID},
		{"an unknown ID", a, d.ID + "X"},
		{"an ID prefix", a, d.ID[:10]},
		{"the account in other case", strings.ToLower(a), d.ID},
		{"the ID in other case", a, strings.ToLower(d.ID)},
		{"an empty ID", a, ""},
	} {
		got, err := s.Device(t.Context(), c.account, c.id)
		wantErr(t, "Device of "+c.what, err, twofa.ErrNotFound)
		if err != nil && got.ID != "" {
			t.Errorf("Device of %s returned ID %q with its error", c.what, got.ID)
		}
	}
}

func testDeviceNoAliasing(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := NewDevice(acct, t0)
	insert(t, s, d)
	got := get(t, s, acct, d.ID)
	for i := range got.Sealed {
		got.Sealed[i] ^= 0xff
	}
	unchanged(t, s, d)
}

func testDevicesOrder(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	mk := func(prefix string, at time.Time) twofa.Device {
		d := NewDevice(acct, at)
		d.ID = prefix + d.ID // IDs sort against insertion order
		return d
	}
	// Insertion order, and where each belongs.
	third := mk("a", t0.Add(2*time.Second))
	first := mk("z", t0)
	second := mk("y", t0.Add(1)) // 1 ns later
	tieA := mk("x", t0.Add(3*time.Second))
	tieB := mk("w", t0.Add(3*time.Second))
	tieC := confirmed(mk("v", t0.Add(3*time.Second)), 9)
	for _, d := range []twofa.Device{third, first, second, tieA, tieB, tieC} {
		if err := s.InsertDevice(t.Context(), d, 10, t0); err != nil {
			t.Fatal(err)
		}
	}
	want := []twofa.Device{first, second, third, tieA, tieB, tieC}
	got := list(t, s, acct)
	ids := func(ds []twofa.Device) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.ID[:2])
		}
		return out
	}
	if !slices.Equal(ids(got), ids(want)) {
		t.Errorf("Devices order (by ID prefix) = %v, want %v: oldest CreatedAt first, ties in insertion order", ids(got), ids(want))
	}
}

func testDevicesEmpty(t *testing.T, s twofa.Store) {
	ds, err := s.Devices(t.Context(), NewAccount())
	if err != nil || len(ds) != 0 {
		t.Errorf("Devices of an unknown account = %d devices, %v; want none, nil", len(ds), err)
	}
}

func testDevicesIsolation(t *testing.T, s twofa.Store) {
	a := NewAccount()
	accounts := []string{a, strings.ToLower(a), a + "x", a[:len(a)-1], a + " ", "ü" + a}
	want := make(map[string][]string)
	for i, acct := range accounts {
		for range i + 1 {
			d := NewDevice(acct, t0)
			insert(t, s, d)
			want[acct] = append(want[acct], d.ID)
		}
	}
	for _, acct := range accounts {
		var got []string
		for _, d := range list(t, s, acct) {
			got = append(got, d.ID)
			if d.Account != acct {
				t.Errorf("Devices(%q) returned a device of account %q", acct, d.Account)
			}
		}
		slices.Sort(got)
		slices.Sort(want[acct])
		if !slices.Equal(got, want[acct]) {
			t.Errorf("Devices(%q) = %v, want %v", acct, got, want[acct])
		}
	}
}

func testDevicesNoAliasing(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := NewDevice(acct, t0)
	insert(t, s, d)
	ds := list(t, s, acct)
	for i := range ds[0].Sealed {
		ds[0].Sealed[i] = 0
	}
	ds[0].Label = "changed"
	unchanged(t, s, d)
}

// ConfirmDevice

func testConfirmPending(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := NewDevice(acct, t0)
	d.Attempts = 2
	insert(t, s, d)
	at := d.ExpiresAt.Add(-1)
	ok, err := s.ConfirmDevice(t.Context(), acct, d.ID, 17, -1, at, confirmMax, nil, nil)
	if !ok || err != nil {
		t.Fatalf("ConfirmDevice 1 ns before ExpiresAt = %v, %v; want true, nil", ok, err)
	}
	want := d
	want.State = twofa.DeviceConfirmed
	want.Counter = 17
	want.Drift = -1
	want.ConfirmedAt = at
	want.LastUsedAt = at
	want.ExpiresAt = time.Time{}
	got := get(t, s, acct, d.ID)
	got.Attempts = want.Attempts // the contract leaves Attempts to the store
	check(t, "confirmed device", got, want)
}

// testConfirmMaxAttempts: ConfirmDevice confirms with Attempts up to
// maxAttempts (the last try holds the last reservation), not beyond.
func testConfirmMaxAttempts(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	over := NewDevice(acct, t0)
	over.Attempts = 4
	insert(t, s, over)
	for _, limit := range []int{3, 0} {
		if ok, err := s.ConfirmDevice(t.Context(), acct, over.ID, 7, 0, t0, limit, nil, nil); ok || err != nil {
			t.Errorf("ConfirmDevice with Attempts 4, maxAttempts %d = %v, %v; want false, nil", limit, ok, err)
		}
	}
	unchanged(t, s, over)
	if ok, err := s.ConfirmDevice(t.Context(), acct, over.ID, 7, 0, t0, 4, nil, nil); !ok || err != nil {
		t.Errorf("ConfirmDevice with Attempts 4, maxAttempts 4 = %v, %v; want true, nil", ok, err)
	}
	if got := get(t, s, acct, over.ID); got.State != twofa.DeviceConfirmed {
		t.Errorf("State = %v, want confirmed", got.State)
	}
}

func testConfirmExpired(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := NewDevice(acct, t0)
	insert(t, s, d)
	for _, at := range []time.Time{d.ExpiresAt, d.ExpiresAt.Add(1), d.ExpiresAt.Add(time.Hour)} {
		ok, err := s.ConfirmDevice(t.Context(), acct, d.ID, 17, 0, at, confirmMax, nil, nil)
		if ok || err != nil {
			t.Errorf("ConfirmDevice %v after ExpiresAt = %v, %v; want false, nil", at.Sub(d.ExpiresAt), ok, err)
		}
	}
	unchanged(t, s, d)
}

func testConfirmAlreadyConfirmed(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := NewDevice(acct, t0)
	insert(t, s, d)
	if ok, err := s.ConfirmDevice(t.Context(), acct, d.ID, 5, 1, t0.Add(time.Second), confirmMax, nil, nil); !ok || err != nil {
		t.Fatalf("ConfirmDevice = %v, %v; want true, nil", ok, err)
	}
	want := get(t, s, acct, d.ID)
	if ok, err := s.ConfirmDevice(t.Context(), acct, d.ID, 9, 2, t0.Add(2*time.Second), confirmMax, nil, nil); ok || err != nil {
		t.Errorf("second ConfirmDevice = %v, %v; want false, nil", ok, err)
	}
	unchanged(t, s, want)

	c := confirmed(NewDevice(acct, t0), 3)
	c.ExpiresAt = t0.Add(time.Hour) // confirmed, though ExpiresAt is ahead
	insert(t, s, c)
	if ok, err := s.ConfirmDevice(t.Context(), acct, c.ID, 9, 2, t0.Add(time.Second), confirmMax, nil, nil); ok || err != nil {
		t.Errorf("ConfirmDevice of a device inserted confirmed = %v, %v; want false, nil", ok, err)
	}
	unchanged(t, s, c)
}

func testConfirmConcurrent(t *testing.T, s twofa.Store) {
	const n = 50
	acct := NewAccount()
	d := NewDevice(acct, t0)
	insert(t, s, d)
	var winners atomic.Int32
	var winner atomic.Int64
	parallel(n, func(i int) {
		ok, err := s.ConfirmDevice(t.Context(), acct, d.ID, uint64(100+i), int64(i), t0.Add(time.Duration(i)), confirmMax, nil, nil)
		if err != nil {
			t.Errorf("ConfirmDevice: %v", err)
		}
		if ok {
			winners.Add(1)
			winner.Store(int64(i))
		}
	})
	if winners.Load() != 1 {
		t.Fatalf("%d concurrent ConfirmDevice calls: %d reported true, want 1", n, winners.Load())
	}
	i := winner.Load()
	got := get(t, s, acct, d.ID)
	if got.State != twofa.DeviceConfirmed || got.Counter != uint64(100+i) || got.Drift != i || !got.ConfirmedAt.Equal(t0.Add(time.Duration(i))) {
		t.Errorf("after concurrent confirms the device has State %v, Counter %d, Drift %d, ConfirmedAt %v; want the winner's confirmed, %d, %d, %v",
			got.State, got.Counter, got.Drift, fmtTime(got.ConfirmedAt), 100+i, i, fmtTime(t0.Add(time.Duration(i))))
	}
}

// SetResync

func testSetResync(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := confirmed(NewDevice(acct, t0), 7)
	insert(t, s, d)
	want := d
	for _, r := range []struct {
		step  uint64
		drift int64
	}{{20, 3}, {25, -9}, {math.MaxUint64 - 1, math.MinInt64}, {1<<63 + 1, math.MaxInt64}, {0, 0}} {
		if _, err := s.SetResync(t.Context(), acct, d.ID, r.step, r.drift, nil, nil); err != nil {
			t.Fatalf("SetResync(%d, %d): %v", r.step, r.drift, err)
		}
		want.ResyncStep, want.ResyncDrift = r.step, r.drift
		unchanged(t, s, want)
	}
}

// ReserveDeviceAttempt

func reserveTry(t *testing.T, s twofa.Store, d twofa.Device, limit, wantN int, wantOK bool) {
	t.Helper()
	n, ok, err := s.ReserveDeviceAttempt(t.Context(), d.Account, d.ID, limit, nil, nil)
	if n != wantN || ok != wantOK || err != nil {
		t.Fatalf("ReserveDeviceAttempt(limit %d) = %d, %v, %v; want %d, %v, nil", limit, n, ok, err, wantN, wantOK)
	}
}

func testReserveAttempt(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := NewDevice(acct, t0)
	d.Attempts = 5
	insert(t, s, d)
	for want := 6; want <= 8; want++ {
		reserveTry(t, s, d, 8, want, true)
	}
	// At the limit: refused, the count reported and unchanged.
	reserveTry(t, s, d, 8, 8, false)
	reserveTry(t, s, d, 3, 8, false)
	reserveTry(t, s, d, 0, 8, false)
	want := d
	want.Attempts = 8
	unchanged(t, s, want)
	reserveTry(t, s, d, 9, 9, true)

	// A limit of 0 refuses the first try.
	e := NewDevice(acct, t0)
	insert(t, s, e)
	reserveTry(t, s, e, 0, 0, false)
	unchanged(t, s, e)

	// Expiry is not the reservation's business.
	x := NewDevice(acct, t0)
	x.ExpiresAt = pastEra()
	insert(t, s, x)
	reserveTry(t, s, x, 5, 1, true)
}

func testReserveAttemptNotPending(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	c := confirmed(NewDevice(acct, t0), 3)
	c.Attempts = 2
	insert(t, s, c)
	reserveTry(t, s, c, 5, 2, false)
	unchanged(t, s, c)

	// Confirmed after some tries: no more reservations.
	d := NewDevice(acct, t0)
	insert(t, s, d)
	reserveTry(t, s, d, 5, 1, true)
	if ok, err := s.ConfirmDevice(t.Context(), acct, d.ID, 7, 0, t0, 5, nil, nil); !ok || err != nil {
		t.Fatalf("ConfirmDevice = %v, %v; want true, nil", ok, err)
	}
	reserveTry(t, s, d, 5, 1, false)
	if got := get(t, s, acct, d.ID).Attempts; got != 1 {
		t.Errorf("Attempts = %d after a refused reservation, want 1", got)
	}
}

// testReserveAttemptConcurrent: of 50 parallel reservations with limit 5,
// exactly 5 are allowed, with counts 1 to 5 once each; the rest see 5 and
// are refused.
func testReserveAttemptConcurrent(t *testing.T, s twofa.Store) {
	const n, limit = 50, 5
	acct := NewAccount()
	d := NewDevice(acct, t0)
	insert(t, s, d)
	var allowed []int
	var mu sync.Mutex
	parallel(n, func(int) {
		c, ok, err := s.ReserveDeviceAttempt(t.Context(), acct, d.ID, limit, nil, nil)
		if err != nil {
			t.Errorf("ReserveDeviceAttempt: %v", err)
			return
		}
		if c > limit || (!ok && c != limit) {
			t.Errorf("ReserveDeviceAttempt = %d, %v; the count must stay within %d and a refusal must report it", c, ok, limit)
		}
		if ok {
			mu.Lock()
			allowed = append(allowed, c)
			mu.Unlock()
		}
	})
	slices.Sort(allowed)
	if !slices.Equal(allowed, []int{1, 2, 3, 4, 5}) {
		t.Errorf("%d concurrent ReserveDeviceAttempt calls with limit %d allowed counts %v, want exactly 1 to %d once each", n, limit, allowed, limit)
	}
	if got := get(t, s, acct, d.ID).Attempts; got != limit {
		t.Errorf("Attempts = %d, want %d", got, limit)
	}
}

// RenameDevice

func testRename(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := confirmed(NewDevice(acct, t0), 3)
	insert(t, s, d)
	want := d
	for _, label := range []string{"Pixel 9 — Zoë's", "", "日本語のラベル 🔐", `'; DROP TABLE devices; --`} {
		if err := s.RenameDevice(t.Context(), acct, d.ID, label); err != nil {
			t.Fatalf("RenameDevice(%q): %v", label, err)
		}
		want.Label = label
		unchanged(t, s, want)
	}
}

// UpdateSealed

func updateSealed(t *testing.T, s twofa.Store, d twofa.Device, old, sealed []byte) bool {
	t.Helper()
	ok, err := s.UpdateSealed(t.Context(), d.Account, d.ID, old, sealed)
	if err != nil {
		t.Fatalf("UpdateSealed: %v", err)
	}
	return ok
}

func testUpdateSealedCAS(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := confirmed(NewDevice(acct, t0), 3)
	insert(t, s, d)
	want := d
	v2, v3 := allBytes(), randomBytes(64)

	if updateSealed(t, s, d, v3, v2) {
		t.Error("UpdateSealed with a wrong old value reported true")
	}
	if updateSealed(t, s, d, d.Sealed[:len(d.Sealed)-1], v2) {
		t.Error("UpdateSealed with a prefix of the old value reported true")
	}
	if updateSealed(t, s, d, nil, v2) {
		t.Error("UpdateSealed with a nil old value reported true")
	}
	unchanged(t, s, want)

	if !updateSealed(t, s, d, d.Sealed, v2) {
		t.Fatal("UpdateSealed with the current value reported false")
	}
	want.Sealed = v2
	unchanged(t, s, want)

	if updateSealed(t, s, d, d.Sealed, v3) {
		t.Error("UpdateSealed with the replaced value reported true")
	}
	unchanged(t, s, want)

	if !updateSealed(t, s, d, v2, v3) {
		t.Fatal("UpdateSealed with the current value reported false")
	}
	want.Sealed = v3
	unchanged(t, s, want)
}

func testUpdateSealedNoAliasing(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := NewDevice(acct, t0)
	insert(t, s, d)
	sealed := randomBytes(40)
	want := d
	want.Sealed = bytes.Clone(sealed)
	if !updateSealed(t, s, d, d.Sealed, sealed) {
		t.Fatal("UpdateSealed with the current value reported false")
	}
	sealed[0] ^= 0xff
	unchanged(t, s, want)
}

func testUpdateSealedConcurrent(t *testing.T, s twofa.Store) {
	const n = 50
	acct := NewAccount()
	d := confirmed(NewDevice(acct, t0), 1)
	insert(t, s, d)
	news := make([][]byte, n)
	for i := range news {
		news[i] = randomBytes(48)
	}
	var wins atomic.Int32
	var winner atomic.Int64
	parallel(n, func(i int) {
		ok, err := s.UpdateSealed(t.Context(), acct, d.ID, d.Sealed, news[i])
		if err != nil {
			t.Errorf("UpdateSealed: %v", err)
		}
		if ok {
			wins.Add(1)
			winner.Store(int64(i))
		}
	})
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent UpdateSealed calls from one old value: %d reported true, want 1", n, wins.Load())
	}
	want := d
	want.Sealed = news[winner.Load()]
	unchanged(t, s, want)
}

// DeleteDevice

func deleteDevice(t *testing.T, s twofa.Store, d twofa.Device, wantLeft int) {
	t.Helper()
	got, left, err := s.DeleteDevice(t.Context(), d.Account, d.ID)
	if left != wantLeft || err != nil {
		t.Errorf("DeleteDevice(%s %s) = %d, %v; want %d, nil", d.State, d.ID, left, err, wantLeft)
	}
	if err == nil {
		check(t, "deleted device", got, d)
	}
	wantGone(t, s, d.Account, d.ID)
}

func testDeleteConfirmedLeft(t *testing.T, s twofa.Store) {
	acct, other := NewAccount(), NewAccount()
	c1 := confirmed(NewDevice(acct, t0), 1)
	c2 := confirmed(NewDevice(acct, t0), 1)
	p1, p2 := NewDevice(acct, t0), NewDevice(acct, t0)
	insert(t, s, c1, c2, p1, p2)
	insert(t, s, confirmed(NewDevice(other, t0), 1), confirmed(NewDevice(strings.ToLower(acct), t0), 1))

	deleteDevice(t, s, p1, 2)
	deleteDevice(t, s, c1, 1)
	deleteDevice(t, s, c2, 0)
	deleteDevice(t, s, p2, 0)
	got, left, err := s.DeleteDevice(t.Context(), acct, c1.ID)
	wantErr(t, "DeleteDevice of a deleted device", err, twofa.ErrNotFound)
	if left != 0 || got.ID != "" || got.State != 0 {
		t.Errorf("DeleteDevice of a deleted device returned %s %q and %d confirmed left, want the zero Device and 0 with its error", got.State, got.ID, left)
	}
}

// testDeleteReturnsDeleted: DeleteDevice returns the device as it was when
// deleted, not as inserted: its state after ConfirmDevice, its counter and
// attempts after later changes.
func testDeleteReturnsDeleted(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	p := NewDevice(acct, t0)
	insert(t, s, p)
	reserveTry(t, s, p, 5, 1, true)
	at := t0.Add(time.Second)
	if ok, err := s.ConfirmDevice(t.Context(), acct, p.ID, 42, 1, at, 5, nil, nil); !ok || err != nil {
		t.Fatalf("ConfirmDevice = %v, %v; want true, nil", ok, err)
	}
	want := get(t, s, acct, p.ID)
	if want.State != twofa.DeviceConfirmed {
		t.Fatalf("State = %v after ConfirmDevice", want.State)
	}
	q := NewDevice(acct, t0)
	insert(t, s, q)
	reserveTry(t, s, q, 5, 1, true)
	reserveTry(t, s, q, 5, 2, true)
	wantQ := q
	wantQ.Attempts = 2
	deleteDevice(t, s, wantQ, 1)
	deleteDevice(t, s, want, 0)
}

func testDeleteConcurrentSame(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := confirmed(NewDevice(acct, t0), 1)
	insert(t, s, d)
	race(t, "DeleteDevice calls of one device", 20, 1, twofa.ErrNotFound, func(int) error {
		_, _, err := s.DeleteDevice(t.Context(), acct, d.ID)
		return err
	})
}

func testDeleteConcurrentDistinct(t *testing.T, s twofa.Store) {
	const n = 20
	acct := NewAccount()
	ds := make([]twofa.Device, n)
	for i := range ds {
		ds[i] = confirmed(NewDevice(acct, t0), 1)
		insert(t, s, ds[i])
	}
	lefts := make([]int, n)
	parallel(n, func(i int) {
		_, left, err := s.DeleteDevice(t.Context(), acct, ds[i].ID)
		if err != nil {
			t.Errorf("DeleteDevice: %v", err)
		}
		lefts[i] = left
	})
	slices.Sort(lefts)
	for i, l := range lefts {
		if l != i {
			t.Errorf("%d concurrent DeleteDevice calls of %d confirmed devices returned %v confirmed left, want each of 0 to %d once", n, n, lefts, n-1)
			break
		}
	}
}

// DeletePendingDevice

func testDeletePending(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	p := NewDevice(acct, t0)
	c := confirmed(NewDevice(acct, t0), 1)
	insert(t, s, p, c)
	if ok, err := s.DeletePendingDevice(t.Context(), acct, p.ID); !ok || err != nil {
		t.Fatalf("DeletePendingDevice of a pending device = %v, %v; want true, nil", ok, err)
	}
	wantGone(t, s, acct, p.ID)
	unchanged(t, s, c)
	ok, err := s.DeletePendingDevice(t.Context(), acct, p.ID)
	wantErr(t, "DeletePendingDevice of a deleted device", err, twofa.ErrNotFound)
	if ok {
		t.Error("DeletePendingDevice of a deleted device reported true")
	}
}

func testDeletePendingConfirmed(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	c := confirmed(NewDevice(acct, t0), 1)
	insert(t, s, c)
	if ok, err := s.DeletePendingDevice(t.Context(), acct, c.ID); ok || err != nil {
		t.Errorf("DeletePendingDevice of a confirmed device = %v, %v; want false, nil", ok, err)
	}
	unchanged(t, s, c)

	// Confirmed through ConfirmDevice, after its tries ran out.
	d := NewDevice(acct, t0)
	insert(t, s, d)
	for i := 1; i <= 3; i++ {
		reserveTry(t, s, d, 3, i, true)
	}
	if ok, err := s.ConfirmDevice(t.Context(), acct, d.ID, 9, 0, t0, 3, nil, nil); !ok || err != nil {
		t.Fatalf("ConfirmDevice on the last try = %v, %v; want true, nil", ok, err)
	}
	want := get(t, s, acct, d.ID)
	if ok, err := s.DeletePendingDevice(t.Context(), acct, d.ID); ok || err != nil {
		t.Errorf("DeletePendingDevice of a device confirmed on its last try = %v, %v; want false, nil", ok, err)
	}
	unchanged(t, s, want)
}

// DeleteExpiredDevices

// pastEra returns a random instant between 1900 and 2000, to the
// nanosecond. DeleteExpiredDevices acts across accounts, so the subtests
// that call it work in a past of their own: no device of the other
// subtests, which live around t0, expired that early, and a concurrent run
// against a shared database almost surely picks another era.
func pastEra() time.Time {
	from := time.Date(1900, time.January, 1, 0, 0, 0, 0, time.UTC)
	return from.Add(time.Duration(mrand.Int64N(int64(100 * 365 * 24 * time.Hour))))
}

func testDeleteExpired(t *testing.T, s twofa.Store) {
	now := pastEra()
	// Clear what earlier runs against a shared database left behind.
	if _, err := s.DeleteExpiredDevices(t.Context(), now); err != nil {
		t.Fatal(err)
	}
	a, b := NewAccount(), NewAccount()
	pending := func(acct string, expires time.Duration) twofa.Device {
		d := NewDevice(acct, now.Add(-2*time.Hour))
		d.ExpiresAt = now.Add(expires)
		return d
	}
	gone := []twofa.Device{
		pending(a, -time.Hour),
		pending(a, 0), // at now
		pending(b, -1),
	}
	kept := []twofa.Device{
		pending(a, 1), // 1 ns after now
		pending(b, time.Hour),
		confirmed(pending(a, -time.Hour), 1), // confirmed with a past ExpiresAt
		confirmed(NewDevice(b, now.Add(-2*time.Hour)), 1),
	}
	insert(t, s, gone...)
	insert(t, s, kept...)

	n, err := s.DeleteExpiredDevices(t.Context(), now)
	if n != len(gone) || err != nil {
		t.Errorf("DeleteExpiredDevices = %d, %v; want %d, nil", n, err, len(gone))
	}
	for _, d := range gone {
		wantGone(t, s, d.Account, d.ID)
	}
	for _, d := range kept {
		unchanged(t, s, d)
	}
	n, err = s.DeleteExpiredDevices(t.Context(), now)
	if n != 0 || err != nil {
		t.Errorf("DeleteExpiredDevices again = %d, %v; want 0, nil", n, err)
	}
}

// DevicesAfter

// pagedAccounts inserts devices of several accounts that share a prefix
// of their own, in an order unrelated to the one DevicesAfter returns, and
// returns the prefix and the devices in that order: by account, then ID,
// compared as bytes. The account names and IDs differ in case ("B" sorts
// before "a" as bytes, not in most collations), in length and in bytes
// above ASCII.
func pagedAccounts(t *testing.T, s twofa.Store) (string, []twofa.Device) {
	t.Helper()
	prefix := NewAccount() + "/"
	var ds []twofa.Device
	for i, suffix := range []string{"f", "B", "é", "a", "ab", "Z"} {
		acct := prefix + suffix
		tag := rand.Text()[:12]
		for j, id := range []string{"x", "B", "a", "é", "Ab"} {
			d := NewDevice(acct, t0.Add(time.Duration(-i*10-j)*time.Second))
			d.ID = tag + id
			if j%2 == 1 {
				d = confirmed(d, uint64(j))
			}
			ds = append(ds, d)
		}
	}
	insert(t, s, ds...)
	slices.SortFunc(ds, func(a, b twofa.Device) int {
		return cmp.Or(strings.Compare(a.Account, b.Account), strings.Compare(a.ID, b.ID))
	})
	return prefix, ds
}

// pageThrough reads pages of limit devices from (prefix, "") on, checks
// that each holds at most limit devices in order, each after the last one
// of the page before, and returns the devices of accounts under prefix.
func pageThrough(t *testing.T, s twofa.Store, prefix string, limit int) []twofa.Device {
	t.Helper()
	var got []twofa.Device
	account, id := prefix, ""
	for page := 1; ; page++ {
		ds, err := s.DevicesAfter(t.Context(), account, id, limit)
		if err != nil {
			t.Fatalf("DevicesAfter(%q, %q, %d): %v", account, id, limit, err)
		}
		if len(ds) > limit {
			t.Fatalf("DevicesAfter(..., %d), page %d: %d devices", limit, page, len(ds))
		}
		for _, d := range ds {
			if c := cmp.Or(strings.Compare(d.Account, account), strings.Compare(d.ID, id)); c <= 0 {
				t.Fatalf("DevicesAfter(..., %d), page %d: device (%q, %q) does not come after (%q, %q) as bytes",
					limit, page, d.Account, d.ID, account, id)
			}
			if !strings.HasPrefix(d.Account, prefix) {
				return got
			}
			got = append(got, d)
			account, id = d.Account, d.ID
		}
		if len(ds) < limit {
			return got
		}
		if page > 1000 {
			t.Fatal("DevicesAfter: more than 1000 pages")
		}
	}
}

func testDevicesAfterOrder(t *testing.T, s twofa.Store) {
	prefix, want := pagedAccounts(t, s)
	for _, limit := range []int{1, 4, len(want) - 1, len(want), 1000} {
		got := pageThrough(t, s, prefix, limit)
		if len(got) != len(want) {
			t.Errorf("DevicesAfter with limit %d: %d devices, want %d", limit, len(got), len(want))
		}
		for i := range min(len(got), len(want)) {
			if got[i].Account != want[i].Account || got[i].ID != want[i].ID {
				t.Errorf("DevicesAfter order with limit %d, device %d: (%q, %q), want (%q, %q) (by account, then ID, as bytes)",
					limit, i, got[i].Account, got[i].ID, want[i].Account, want[i].ID)
				break
			}
			check(t, fmt.Sprintf("DevicesAfter, device %q", want[i].ID), got[i], want[i])
		}
	}
}

func testDevicesAfterBounds(t *testing.T, s twofa.Store) {
	ctx := t.Context()
	_, ds := pagedAccounts(t, s)
	first, last := ds[0], ds[len(ds)-1]
	if got, err := s.DevicesAfter(ctx, "", "", 1); len(got) != 1 || err != nil {
		t.Errorf(`DevicesAfter("", "", 1) of a store with devices = %d devices, %v; want 1, nil`, len(got), err)
	}
	// (account, "") comes before the account's first device.
	got, err := s.DevicesAfter(ctx, first.Account, "", 1)
	if err != nil || len(got) != 1 || got[0].ID != first.ID {
		t.Errorf("DevicesAfter(account, \"\", 1) = %v, %v; want the account's first device %q", ids(got), err, first.ID)
	}
	// Strictly after: the key itself is not returned.
	got, err = s.DevicesAfter(ctx, first.Account, first.ID, 1)
	if err != nil || len(got) != 1 || got[0].ID != ds[1].ID {
		t.Errorf("DevicesAfter(first device, 1) = %v, %v; want the next one %q", ids(got), err, ds[1].ID)
	}
	// Across accounts: after an account's last device comes the next account's first.
	for i := 1; i < len(ds); i++ {
		if ds[i].Account != ds[i-1].Account {
			got, err = s.DevicesAfter(ctx, ds[i-1].Account, ds[i-1].ID, 2)
			if err != nil || len(got) != 2 || got[0].ID != ds[i].ID || got[1].ID != ds[i+1].ID {
				t.Errorf("DevicesAfter(an account's last device, 2) = %v, %v; want the next account's first two %q, %q",
					ids(got), err, ds[i].ID, ds[i+1].ID)
			}
			break
		}
	}
	// A key that no device has, before every ID of the last account.
	got, err = s.DevicesAfter(ctx, last.Account, last.ID[:12], 1)
	if err != nil || len(got) != 1 || got[0].ID != ds[len(ds)-5].ID {
		t.Errorf("DevicesAfter(a key no device has, 1) = %v, %v; want %q", ids(got), err, ds[len(ds)-5].ID)
	}
	// Past every account there is nothing.
	end := strings.Repeat("\U0010FFFF", 4)
	if got, err := s.DevicesAfter(ctx, end, "", 10); len(got) != 0 || err != nil {
		t.Errorf("DevicesAfter past every account = %v, %v; want none, nil", ids(got), err)
	}
}

func ids(ds []twofa.Device) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Account + "/" + d.ID
	}
	return out
}

func testDevicesAfterNoAliasing(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	d := NewDevice(acct, t0)
	insert(t, s, d)
	ds, err := s.DevicesAfter(t.Context(), acct, "", 1)
	if err != nil || len(ds) != 1 {
		t.Fatalf("DevicesAfter = %v, %v", ids(ds), err)
	}
	clear(ds[0].Sealed)
	ds[0].Label = "changed"
	unchanged(t, s, d)
}

// deviceNotFoundTests checks that every method naming one device reports
// ErrNotFound, and no success, for an unknown ID and for another
// account's device, and changes nothing.
func deviceNotFoundTests() []testCase[twofa.Store] {
	type S = twofa.Store
	cases := []struct {
		method    string
		confirmed bool // the fixture device
		call      func(ctx context.Context, s S, d twofa.Device) ([]any, error)
	}{
		{"ConfirmDevice", false, func(ctx context.Context, s S, d twofa.Device) ([]any, error) {
			return zeroed(s.ConfirmDevice(ctx, d.Account, d.ID, 1, 0, t0, confirmMax, nil, nil))
		}},
		{"AcceptCode", true, func(ctx context.Context, s S, d twofa.Device) ([]any, error) {
			return zeroed2(s.AcceptCode(ctx, d.Account, d.ID, 5, 0, t0, twofa.ScopeCode, codeThrottle, nil, nil))
		}},
		{"SetResync", true, func(ctx context.Context, s S, d twofa.Device) ([]any, error) {
			return zeroed(s.SetResync(ctx, d.Account, d.ID, 9, 1, nil, nil))
		}},
		{"ReserveDeviceAttempt", false, func(ctx context.Context, s S, d twofa.Device) ([]any, error) {
			return zeroed2(s.ReserveDeviceAttempt(ctx, d.Account, d.ID, 5, nil, nil))
		}},
		{"RenameDevice", false, func(ctx context.Context, s S, d twofa.Device) ([]any, error) {
			return res(s.RenameDevice(ctx, d.Account, d.ID, "x"))
		}},
		{"UpdateSealed", false, func(ctx context.Context, s S, d twofa.Device) ([]any, error) {
			return zeroed(s.UpdateSealed(ctx, d.Account, d.ID, d.Sealed, []byte("x")))
		}},
		{"DeleteDevice", true, func(ctx context.Context, s S, d twofa.Device) ([]any, error) {
			return errOnly2(s.DeleteDevice(ctx, d.Account, d.ID))
		}},
		{"DeletePendingDevice", false, func(ctx context.Context, s S, d twofa.Device) ([]any, error) {
			return errOnly(s.DeletePendingDevice(ctx, d.Account, d.ID))
		}},
	}
	ts := make([]testCase[S], len(cases))
	for i, c := range cases {
		ts[i] = testCase[S]{"DeviceStore/" + c.method + "/NotFound", func(t *testing.T, s S) {
			a := NewAccount()
			d := NewDevice(a, t0)
			if c.confirmed {
				d = confirmed(d, 1)
			}
			insert(t, s, d)
			for _, x := range []struct{ what, account, id string }{
				{"an unknown device", a, d.ID + "X"},
				{"another account's device", NewAccount(), d.ID},
			} {
				probe := d
				probe.Account, probe.ID = x.account, x.id
				results, err := c.call(t.Context(), s, probe)
				what := c.method + " of " + x.what
				wantErr(t, what, err, twofa.ErrNotFound)
				wantZero(t, what, results)
			}
			unchanged(t, s, d)
		}}
	}
	return ts
}
