package sqlstore_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/sqlstore"
)

// t0 is the fixed "now" of these tests.
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

func device(account, id string) twofa.Device {
	return twofa.Device{
		ID:        id,
		Account:   account,
		Label:     "phone " + id,
		Type:      twofa.TypeTOTP,
		Algorithm: twofa.SHA256,
		Digits:    8,
		Period:    30 * time.Second,
		Sealed:    []byte("sealed:" + account + "/" + id),
		State:     twofa.DevicePending,
		CreatedAt: t0,
		ExpiresAt: t0.Add(10 * time.Minute),
	}
}

func confirmed(account, id string, counter uint64) twofa.Device {
	d := device(account, id)
	d.State = twofa.DeviceConfirmed
	d.Counter = counter
	d.ExpiresAt = time.Time{}
	d.ConfirmedAt = t0
	return d
}

// sameDevice reports the first field where got differs from want.
func sameDevice(t *testing.T, got, want twofa.Device) {
	t.Helper()
	times := []struct {
		name      string
		got, want time.Time
	}{
		{"CreatedAt", got.CreatedAt, want.CreatedAt},
		{"ExpiresAt", got.ExpiresAt, want.ExpiresAt},
		{"ConfirmedAt", got.ConfirmedAt, want.ConfirmedAt},
		{"LastUsedAt", got.LastUsedAt, want.LastUsedAt},
	}
	for _, tt := range times {
		if !tt.got.Equal(tt.want) || tt.got.IsZero() != tt.want.IsZero() {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if !bytes.Equal(got.Sealed, want.Sealed) {
		t.Errorf("Sealed: got %q, want %q", got.Sealed, want.Sealed)
	}
	got.CreatedAt, got.ExpiresAt, got.ConfirmedAt, got.LastUsedAt, got.Sealed = time.Time{}, time.Time{}, time.Time{}, time.Time{}, nil
	want.CreatedAt, want.ExpiresAt, want.ConfirmedAt, want.LastUsedAt, want.Sealed = time.Time{}, time.Time{}, time.Time{}, time.Time{}, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("device:\n got %+v\nwant %+v", got, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// advance runs the replay guard alone: AcceptCode under a policy that
// never refuses, in a scope of its own (so that it leaves the throttles
// the tests look at alone), reporting whether it accepted.
func advance(ctx context.Context, s *sqlstore.Store, account, id string, counter uint64, drift int64, at time.Time) (bool, error) {
	_, r, err := s.AcceptCode(ctx, account, id, counter, drift, at, "replay-guard", twofa.ThrottlePolicy{}, nil, nil)
	return r, err
}

func mustBool(t *testing.T, want bool) func(bool, error) {
	t.Helper()
	return func(got bool, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestDeviceRoundTrip(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.open(t)
		d := confirmed("alice", "d1", 12345)
		d.Type, d.Algorithm, d.Digits, d.Period = twofa.TypeHOTP, twofa.SHA512, 7, 0
		d.Drift, d.ResyncStep, d.ResyncDrift, d.Attempts = -3, math.MaxUint64, 9, 2
		d.LastUsedAt = time.Unix(0, math.MaxInt64)                    // the last time kept (2262)
		d.CreatedAt = time.Date(1969, 7, 20, 20, 17, 40, 1, time.UTC) // before the epoch
		d.ConfirmedAt = time.Unix(0, 0)                               // the epoch is not the zero Time
		must(t, s.InsertDevice(ctx, d, 10, t0))
		got, err := s.Device(ctx, "alice", "d1")
		must(t, err)
		sameDevice(t, got, d)

		// A time past it is refused, not stored as another.
		late := confirmed("alice", "d3", 1)
		late.LastUsedAt = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
		if err := s.InsertDevice(ctx, late, 10, t0); err == nil {
			t.Error("InsertDevice stored a time past 2262")
		}

		// A nil sealed blob and zero times survive as such.
		e := twofa.Device{ID: "d2", Account: "alice", State: twofa.DevicePending}
		must(t, s.InsertDevice(ctx, e, 10, time.Time{}))
		got, err = s.Device(ctx, "alice", "d2")
		must(t, err)
		sameDevice(t, got, e)

		if _, err := s.Device(ctx, "bob", "d1"); !errors.Is(err, twofa.ErrNotFound) {
			t.Errorf("other account's device: got %v, want ErrNotFound", err)
		}
		if _, err := s.Device(ctx, "alice", "nope"); !errors.Is(err, twofa.ErrNotFound) {
			t.Errorf("missing device: got %v, want ErrNotFound", err)
		}
	})
}

func TestInsertDevice(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.open(t)
		must(t, s.InsertDevice(ctx, confirmed("alice", "c1", 0), 3, t0))
		must(t, s.InsertDevice(ctx, device("alice", "p1"), 3, t0))

		// Duplicate ids, also across accounts.
		for _, acct := range []string{"alice", "bob"} {
			err := s.InsertDevice(ctx, device(acct, "p1"), 3, t0)
			if !errors.Is(err, twofa.ErrDuplicate) {
				t.Errorf("duplicate id in %s: got %v, want ErrDuplicate", acct, err)
			}
		}

		// The limit counts confirmed and unexpired pending devices.
		must(t, s.InsertDevice(ctx, device("alice", "p2"), 3, t0))
		if err := s.InsertDevice(ctx, device("alice", "p3"), 3, t0); !errors.Is(err, twofa.ErrLimitReached) {
			t.Fatalf("over the limit: got %v, want ErrLimitReached", err)
		}
		// Once p1 and p2 expire they are deleted and no longer count.
		later := t0.Add(10 * time.Minute)
		p4 := device("alice", "p4")
		p4.CreatedAt, p4.ExpiresAt = later, later.Add(10*time.Minute)
		must(t, s.InsertDevice(ctx, p4, 2, later))
		ds, err := s.Devices(ctx, "alice")
		must(t, err)
		if len(ds) != 2 || ds[0].ID != "c1" || ds[1].ID != "p4" {
			t.Errorf("devices after expiry: %v", ids(ds))
		}
		// A refused insert changes nothing: expired devices stay too.
		p5 := device("alice", "p5")
		must(t, s.InsertDevice(ctx, device("carol", "cp1"), 5, t0))
		stale := device("alice", "stale")
		stale.ExpiresAt = later
		must(t, s.InsertDevice(ctx, stale, 5, later.Add(-1)))
		if err := s.InsertDevice(ctx, p5, 0, later); !errors.Is(err, twofa.ErrLimitReached) {
			t.Fatalf("limit 0: got %v", err)
		}
		if ds, _ := s.Devices(ctx, "carol"); len(ds) != 1 {
			t.Errorf("another account's expired device was touched: %v", ids(ds))
		}
		if _, err := s.Device(ctx, "alice", "p5"); !errors.Is(err, twofa.ErrNotFound) {
			t.Errorf("refused device stored: %v", err)
		}
		if _, err := s.Device(ctx, "alice", "stale"); err != nil {
			t.Errorf("refused insert deleted an expired device: %v", err)
		}
	})
}

func ids(ds []twofa.Device) []string {
	var s []string
	for _, d := range ds {
		s = append(s, d.ID)
	}
	return s
}

func TestDevicesOrder(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.open(t)
		// Oldest first; same CreatedAt: insertion order.
		for i, id := range []string{"z", "y", "x", "w"} {
			d := confirmed("alice", id, 0)
			d.CreatedAt = t0.Add(time.Duration(i/2) * time.Second)
			must(t, s.InsertDevice(ctx, d, 10, t0))
		}
		d := confirmed("alice", "v", 0)
		d.CreatedAt = t0.Add(-time.Hour)
		must(t, s.InsertDevice(ctx, d, 10, t0))
		ds, err := s.Devices(ctx, "alice")
		must(t, err)
		if got, want := ids(ds), []string{"v", "z", "y", "x", "w"}; !equal(got, want) {
			t.Errorf("order: got %v, want %v", got, want)
		}
		ds, err = s.Devices(ctx, "nobody")
		must(t, err)
		if len(ds) != 0 {
			t.Errorf("nobody has devices: %v", ids(ds))
		}
	})
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestConfirmDevice(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.open(t)
		must(t, s.InsertDevice(ctx, device("alice", "p1"), 5, t0))
		must(t, s.InsertDevice(ctx, device("alice", "p2"), 5, t0))

		// Expired (ExpiresAt not after at): refused.
		mustBool(t, false)(s.ConfirmDevice(ctx, "alice", "p2", 7, 1, t0.Add(10*time.Minute), 5, nil, nil))
		at := t0.Add(time.Minute)
		// Over its tries (Attempts 1, maxAttempts 0): refused.
		if n, ok, err := s.ReserveDeviceAttempt(ctx, "alice", "p1", 5, nil, nil); n != 1 || !ok || err != nil {
			t.Fatalf("ReserveDeviceAttempt = %d, %v, %v; want 1, true, nil", n, ok, err)
		}
		mustBool(t, false)(s.ConfirmDevice(ctx, "alice", "p1", 7, -1, at, 0, nil, nil))
		mustBool(t, true)(s.ConfirmDevice(ctx, "alice", "p1", 7, -1, at, 1, nil, nil))
		mustBool(t, false)(s.ConfirmDevice(ctx, "alice", "p1", 9, 0, at, 5, nil, nil)) // no longer pending
		got, err := s.Device(ctx, "alice", "p1")
		must(t, err)
		want := device("alice", "p1")
		want.State, want.Counter, want.Drift, want.Attempts = twofa.DeviceConfirmed, 7, -1, 1
		want.ConfirmedAt, want.LastUsedAt, want.ExpiresAt = at, at, time.Time{}
		sameDevice(t, got, want)

		if _, err := s.ConfirmDevice(ctx, "alice", "nope", 1, 0, at, 5, nil, nil); !errors.Is(err, twofa.ErrNotFound) {
			t.Errorf("missing: got %v, want ErrNotFound", err)
		}
	})
}

func TestAcceptCodeReplayGuard(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.open(t)
		must(t, s.InsertDevice(ctx, confirmed("alice", "c1", 100), 5, t0))
		must(t, s.InsertDevice(ctx, device("alice", "p1"), 5, t0))
		mustBool(t, true)(s.SetResync(ctx, "alice", "c1", 140, 4, nil, nil))

		mustBool(t, false)(advance(ctx, s, "alice", "c1", 99, 0, t0)) // replay
		at := t0.Add(time.Second)
		mustBool(t, true)(advance(ctx, s, "alice", "c1", 100, 2, at))
		mustBool(t, false)(advance(ctx, s, "alice", "c1", 100, 2, at)) // replay of the same
		got, err := s.Device(ctx, "alice", "c1")
		must(t, err)
		want := confirmed("alice", "c1", 101)
		want.Drift, want.LastUsedAt = 2, at
		sameDevice(t, got, want) // resync record cleared

		mustBool(t, true)(advance(ctx, s, "alice", "c1", 500, -1, at)) // a jump ahead
		if got, _ := s.Device(ctx, "alice", "c1"); got.Counter != 501 || got.Drift != -1 {
			t.Errorf("after jump: counter %d drift %d", got.Counter, got.Drift)
		}

		mustBool(t, false)(advance(ctx, s, "alice", "p1", 0, 0, at)) // pending
		if _, err := advance(ctx, s, "alice", "nope", 0, 0, at); !errors.Is(err, twofa.ErrNotFound) {
			t.Errorf("missing: got %v, want ErrNotFound", err)
		}
		if _, err := advance(ctx, s, "bob", "c1", 1000, 0, at); !errors.Is(err, twofa.ErrNotFound) {
			t.Errorf("other account: got %v, want ErrNotFound", err)
		}
		if _, err := advance(ctx, s, "alice", "c1", math.MaxUint64, 0, at); err == nil {
			t.Error("counter 2^64-1 accepted")
		}
	})
}

// TestCounterRange checks the order-preserving uint64 ↔ int64 map at the
// edges of both ranges, where a plain cast would flip the order.
func TestCounterRange(t *testing.T) {
	edges := []uint64{0, 1, 1<<63 - 1, 1 << 63, 1<<64 - 2}
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.open(t)
		for i, c := range edges {
			id := string(rune('a' + i))
			must(t, s.InsertDevice(ctx, confirmed("alice", id, c), 10, t0))
			got, err := s.Device(ctx, "alice", id)
			must(t, err)
			if got.Counter != c {
				t.Fatalf("stored %d, read %d", c, got.Counter)
			}
			if c > 0 {
				mustBool(t, false)(advance(ctx, s, "alice", id, c-1, 0, t0))
			}
			// Every smaller edge is a replay too.
			for _, lower := range edges[:i] {
				mustBool(t, false)(advance(ctx, s, "alice", id, lower, 0, t0))
			}
			if c == 1<<64-2 {
				mustBool(t, true)(advance(ctx, s, "alice", id, c, 0, t0))
				if got, _ := s.Device(ctx, "alice", id); got.Counter != 1<<64-1 {
					t.Errorf("counter %d, want 2^64-1", got.Counter)
				}
				continue
			}
			mustBool(t, true)(advance(ctx, s, "alice", id, c+1, 0, t0))
			if got, _ := s.Device(ctx, "alice", id); got.Counter != c+2 {
				t.Errorf("counter %d, want %d", got.Counter, c+2)
			}
		}
		// SetResync keeps the full range too.
		mustBool(t, true)(s.SetResync(ctx, "alice", "a", 1<<63, -7, nil, nil))
		if got, _ := s.Device(ctx, "alice", "a"); got.ResyncStep != 1<<63 || got.ResyncDrift != -7 {
			t.Errorf("resync: %d %d", got.ResyncStep, got.ResyncDrift)
		}
	})
}

func TestDeviceUpdates(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.open(t)
		must(t, s.InsertDevice(ctx, device("alice", "p1"), 5, t0))

		for want := 1; want <= 4; want++ {
			n, ok, err := s.ReserveDeviceAttempt(ctx, "alice", "p1", 3, nil, nil)
			must(t, err)
			if n != min(want, 3) || ok != (want <= 3) {
				t.Errorf("reservation %d: %d, %v; want %d, %v", want, n, ok, min(want, 3), want <= 3)
			}
		}
		must(t, s.RenameDevice(ctx, "alice", "p1", "work phone"))
		old := []byte("sealed:alice/p1")
		mustBool(t, false)(s.UpdateSealed(ctx, "alice", "p1", []byte("stale"), []byte("new")))
		mustBool(t, true)(s.UpdateSealed(ctx, "alice", "p1", old, []byte("new")))
		got, err := s.Device(ctx, "alice", "p1")
		must(t, err)
		if got.Attempts != 3 || got.Label != "work phone" || string(got.Sealed) != "new" {
			t.Errorf("got %+v", got)
		}

		for name, err := range map[string]error{
			"SetResync":    func() error { _, err := s.SetResync(ctx, "alice", "nope", 1, 1, nil, nil); return err }(),
			"RenameDevice": s.RenameDevice(ctx, "alice", "nope", "x"),
			"ReserveDeviceAttempt": func() error {
				_, _, err := s.ReserveDeviceAttempt(ctx, "alice", "nope", 5, nil, nil)
				return err
			}(),
			"DeletePendingDevice": func() error {
				_, err := s.DeletePendingDevice(ctx, "alice", "nope")
				return err
			}(),
			"UpdateSealed": func() error {
				_, err := s.UpdateSealed(ctx, "alice", "nope", old, old)
				return err
			}(),
			"DeleteDevice": func() error {
				_, _, err := s.DeleteDevice(ctx, "alice", "nope")
				return err
			}(),
		} {
			if !errors.Is(err, twofa.ErrNotFound) {
				t.Errorf("%s of a missing device: got %v, want ErrNotFound", name, err)
			}
		}
	})
}

func TestDeleteDevice(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.open(t)
		must(t, s.InsertDevice(ctx, confirmed("alice", "c1", 0), 5, t0))
		must(t, s.InsertDevice(ctx, confirmed("alice", "c2", 0), 5, t0))
		must(t, s.InsertDevice(ctx, device("alice", "p1"), 5, t0))
		must(t, s.InsertDevice(ctx, confirmed("bob", "b1", 0), 5, t0))
		for _, tt := range []struct {
			id   string
			left int
		}{{"p1", 2}, {"c1", 1}, {"c2", 0}} {
			dev, left, err := s.DeleteDevice(ctx, "alice", tt.id)
			must(t, err)
			if left != tt.left {
				t.Errorf("delete %s: %d left, want %d", tt.id, left, tt.left)
			}
			want := device("alice", tt.id)
			if tt.id != "p1" {
				want = confirmed("alice", tt.id, 0)
			}
			sameDevice(t, dev, want)
		}
		if _, _, err := s.DeleteDevice(ctx, "alice", "c1"); !errors.Is(err, twofa.ErrNotFound) {
			t.Errorf("second delete: got %v, want ErrNotFound", err)
		}
		if _, _, err := s.DeleteDevice(ctx, "alice", "b1"); !errors.Is(err, twofa.ErrNotFound) {
			t.Errorf("another account's device: got %v, want ErrNotFound", err)
		}
	})
}

func TestDeleteExpiredDevices(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.open(t)
		must(t, s.InsertDevice(ctx, device("alice", "p1"), 5, t0)) // expires t0+10m
		must(t, s.InsertDevice(ctx, device("bob", "p2"), 5, t0))
		p3 := device("bob", "p3")
		p3.ExpiresAt = t0.Add(time.Hour)
		must(t, s.InsertDevice(ctx, p3, 5, t0))
		must(t, s.InsertDevice(ctx, confirmed("bob", "c1", 0), 5, t0))

		n, err := s.DeleteExpiredDevices(ctx, t0.Add(10*time.Minute-1))
		must(t, err)
		if n != 0 {
			t.Errorf("deleted %d before expiry", n)
		}
		n, err = s.DeleteExpiredDevices(ctx, t0.Add(10*time.Minute)) // at ExpiresAt
		must(t, err)
		if n != 2 {
			t.Errorf("deleted %d, want 2", n)
		}
		ds, _ := s.Devices(ctx, "bob")
		if got := ids(ds); !equal(got, []string{"p3", "c1"}) {
			t.Errorf("left: %v", got)
		}
	})
}

// TestReserveAttempt checks the SQL back-off against ThrottlePolicy.Delay,
// failure by failure, for ordinary and edge-case policies, their budgets
// left out (storetest checks budgets against ThrottlePolicy.Reserve).
func TestReserveAttempt(t *testing.T) {
	policies := []twofa.ThrottlePolicy{
		defaults(t).Throttle.Codes,
		defaults(t).Throttle.Recovery,
		{Free: 0, Base: time.Second, Max: time.Second},
		{Free: 2, Base: 3 * time.Millisecond, Max: 100 * time.Millisecond}, // Max not a power-of-two multiple
		{Free: 1, Base: 0, Max: time.Hour},                                 // no delay at all
		{Free: 0, Base: time.Nanosecond, Max: math.MaxInt64},               // 63 doublings, Until saturated in 2262
		{Free: 3, Base: time.Hour, Max: time.Minute},                       // Max < Base: Max throughout
	}
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.open(t)
		for i, p := range policies {
			p.Budget, p.Refill = 0, 0
			account := string(rune('a' + i))
			now := t0
			for n := 1; n <= p.Free+70; n++ {
				st, ok, err := s.ReserveAttempt(ctx, account, "code", now, p)
				must(t, err)
				want := now.Add(p.Delay(n)) // exact, but saturated at the last int64 nanosecond
				if last := time.Unix(0, math.MaxInt64); want.After(last) {
					want = last
				}
				if !ok || st.Failures != n || !st.Until.Equal(want) {
					t.Fatalf("policy %+v failure %d: got (%+v, %v), want Failures %d Until %v", p, n, st, ok, n, want)
				}
				if st.Until.After(now) {
					// Throttled until then: nothing changes.
					before := st
					st, ok, err = s.ReserveAttempt(ctx, account, "code", st.Until.Add(-1), p)
					must(t, err)
					if ok || st.Failures != before.Failures || !st.Until.Equal(before.Until) {
						t.Fatalf("policy %+v failure %d while throttled: got (%+v, %v), want (%+v, false)", p, n, st, ok, before)
					}
				}
				now = st.Until
			}
		}

		// Scopes and accounts are separate; a reset clears one.
		p := twofa.ThrottlePolicy{Free: 0, Base: time.Minute, Max: time.Hour}
		st, ok, err := s.ReserveAttempt(ctx, "x", "code", t0, p)
		must(t, err)
		if !ok || st.Failures != 1 || !st.Until.Equal(t0.Add(time.Minute)) {
			t.Fatalf("got %+v %v", st, ok)
		}
		if _, ok, _ := s.ReserveAttempt(ctx, "x", "recovery", t0, p); !ok {
			t.Error("other scope throttled")
		}
		if _, ok, _ := s.ReserveAttempt(ctx, "y", "code", t0, p); !ok {
			t.Error("other account throttled")
		}
		got, err := s.Throttle(ctx, "x", "code")
		must(t, err)
		if got.Failures != 1 || !got.Until.Equal(t0.Add(time.Minute)) {
			t.Errorf("Throttle: %+v", got)
		}
		must(t, s.ResetThrottle(ctx, "x", "code"))
		must(t, s.ResetThrottle(ctx, "x", "never"))
		if got, _ := s.Throttle(ctx, "x", "code"); got.Failures != 0 || !got.Until.IsZero() {
			t.Errorf("after reset: %+v", got)
		}
		if got, _ := s.Throttle(ctx, "x", "recovery"); got.Failures != 1 {
			t.Errorf("reset the wrong scope: %+v", got)
		}
		if _, ok, _ := s.ReserveAttempt(ctx, "x", "code", t0, p); !ok {
			t.Error("throttled after reset")
		}
	})
}

func TestRecoveryCodes(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.open(t)
		codes := [][]byte{[]byte("d1"), []byte("d2"), []byte("d3")}
		must(t, s.ReplaceRecoveryCodes(ctx, "alice", codes, t0))
		must(t, s.ReplaceRecoveryCodes(ctx, "bob", codes[:1], t0)) // same digest, other account
		left := func(account string, want int) {
			t.Helper()
			n, err := s.RecoveryCodesLeft(ctx, account)
			must(t, err)
			if n != want {
				t.Errorf("%s: %d codes left, want %d", account, n, want)
			}
		}
		left("alice", 3)
		mustBool(t, true)(dropLeft(s.ConsumeRecoveryCode(ctx, "alice", []byte("d2"), t0)))
		mustBool(t, false)(dropLeft(s.ConsumeRecoveryCode(ctx, "alice", []byte("d2"), t0)))
		mustBool(t, false)(dropLeft(s.ConsumeRecoveryCode(ctx, "alice", []byte("zz"), t0)))
		mustBool(t, false)(dropLeft(s.ConsumeRecoveryCode(ctx, "carol", []byte("d1"), t0)))
		left("alice", 2)
		left("bob", 1)

		must(t, s.ReplaceRecoveryCodes(ctx, "alice", [][]byte{[]byte("e1")}, t0))
		left("alice", 1)
		mustBool(t, false)(dropLeft(s.ConsumeRecoveryCode(ctx, "alice", []byte("d1"), t0)))
		mustBool(t, true)(dropLeft(s.ConsumeRecoveryCode(ctx, "alice", []byte("e1"), t0)))

		must(t, s.DeleteRecoveryCodes(ctx, "bob"))
		left("bob", 0)
		left("nobody", 0)
		must(t, s.ReplaceRecoveryCodes(ctx, "alice", nil, t0))
		left("alice", 0)

		// Binary digests, NUL bytes included, compare exactly.
		bin := [][]byte{{0, 1, 2}, {0, 1, 2, 0}, {0xff}}
		must(t, s.ReplaceRecoveryCodes(ctx, "dave", bin, t0))
		mustBool(t, true)(dropLeft(s.ConsumeRecoveryCode(ctx, "dave", []byte{0, 1, 2, 0}, t0)))
		mustBool(t, false)(dropLeft(s.ConsumeRecoveryCode(ctx, "dave", []byte{0, 1, 2, 0}, t0)))
		mustBool(t, true)(dropLeft(s.ConsumeRecoveryCode(ctx, "dave", []byte{0, 1, 2}, t0)))
		left("dave", 1)
	})
}
