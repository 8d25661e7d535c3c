package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/twofatest"
)

func testKey(b byte) []byte {
	k := make([]byte, keyring.KeySize)
	for i := range k {
		k[i] = b ^ byte(i)
	}
	return k
}

// TestResealAndPurge runs the installation's fleet-wide maintenance on
// every backend: Reseal pages through devices of many accounts, more than
// a page of them, and moves them to the new primary key; Purge deletes
// exactly the expired records (a lapsed enrolment, an idle throttle, an
// expired trusted browser) and nothing live.
func TestResealAndPurge(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := openBrowsers(t, b)
		clock := twofatest.NewClock(twofatest.Start)
		digest, k1, k2 := testKey(0xd0), testKey(1), testKey(2)
		ring1, err := keyring.New(1, map[keyring.KeyID][]byte{1: k1}, digest)
		must(t, err)
		ring12, err := keyring.New(2, map[keyring.KeyID][]byte{1: k1, 2: k2}, digest)
		must(t, err)
		cfg := twofa.Config{Store: s, Keyring: ring1, Issuer: "Example", Clock: clock,
			Devices: twofa.DevicePolicy{PendingTTL: 10 * time.Minute}}
		tf, err := twofa.New(cfg)
		must(t, err)

		const total = 510 // over 150 accounts: two pages of 500
		var devs []*twofatest.Device
		for i := range total {
			devs = append(devs, twofatest.EnrollDevice(t, tf.Devices, clock, fmt.Sprintf("user-%03d", i%150), twofa.EnrollOptions{}))
		}
		cfg.Keyring = ring12
		tf, err = twofa.New(cfg)
		must(t, err)
		browsers, err := browser.New(tf, browser.Config{Store: s, TTL: time.Hour})
		must(t, err)
		if n, err := tf.Reseal(ctx); n != total || err != nil {
			t.Fatalf("Reseal = %d, %v; want %d, nil", n, err, total)
		}
		if n, err := tf.Reseal(ctx); n != 0 || err != nil {
			t.Errorf("Reseal again = %d, %v; want 0, nil", n, err)
		}
		under := map[keyring.KeyID]int{}
		for account, id := "", ""; ; {
			page, err := s.DevicesAfter(ctx, account, id, 200)
			must(t, err)
			for _, d := range page {
				k, err := keyring.SealedKeyID(d.Sealed)
				must(t, err)
				under[k]++
				account, id = d.Account, d.ID
			}
			if len(page) < 200 {
				break
			}
		}
		if under[2] != total || len(under) != 1 {
			t.Errorf("after Reseal, devices by key: %v; want all %d under key 2", under, total)
		}

		// Records to purge, and live ones.
		lapsed, err := tf.Devices.Enroll(ctx, "carol", "lapses", twofa.EnrollOptions{})
		must(t, err)
		clock.Advance(time.Minute)
		// A failure, then a success: the back-off is cleared, the failure
		// stays owed to the budget until it is forgiven.
		if _, err := tf.Verify(ctx, "user-000", "000000"); !errors.Is(err, twofa.ErrInvalidCode) {
			t.Fatalf("Verify of a wrong code: %v", err)
		}
		if _, err := tf.Verify(ctx, "user-000", devs[0].Code()); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		for range 2 {
			if _, err := tf.Verify(ctx, "user-001", "000000"); !errors.Is(err, twofa.ErrInvalidCode) {
				t.Fatalf("Verify of a wrong code: %v", err)
			}
		}
		failed, err := s.Throttle(ctx, "user-001", twofa.ScopeCode)
		must(t, err)
		oldTok, _, err := browsers.Trust(ctx, "user-000", "old")
		must(t, err)
		clock.Advance(37 * time.Hour) // user-000's failure is forgiven
		live, err := tf.Devices.Enroll(ctx, "dave", "live", twofa.EnrollOptions{})
		must(t, err)
		newTok, _, err := browsers.Trust(ctx, "user-001", "new")
		must(t, err)

		if n, err := tf.Purge(ctx); n != 3 || err != nil {
			t.Errorf("Purge = %d, %v; want 3 (an enrolment, a throttle, a browser), nil", n, err)
		}
		if _, err := s.Device(ctx, "carol", lapsed.Device.ID); !errors.Is(err, twofa.ErrNotFound) {
			t.Errorf("the lapsed enrolment: %v, want ErrNotFound", err)
		}
		if _, err := s.Device(ctx, "dave", live.Device.ID); err != nil {
			t.Errorf("the live enrolment: %v", err)
		}
		if st, err := s.Throttle(ctx, "user-000", twofa.ScopeCode); err != nil || st != (twofa.ThrottleState{}) {
			t.Errorf("the idle throttle: %+v, %v; want none", st, err)
		}
		if st, err := s.Throttle(ctx, "user-001", twofa.ScopeCode); err != nil || st.Failures != 2 || !st.Forgiven.Equal(failed.Forgiven) {
			t.Errorf("the throttle with failures: %+v, %v; want %+v", st, err, failed)
		}
		if _, err := browsers.Check(ctx, "user-000", oldTok); !errors.Is(err, browser.ErrUnknown) {
			t.Errorf("the expired browser: %v, want ErrUnknown", err)
		}
		if _, err := browsers.Check(ctx, "user-001", newTok); err != nil {
			t.Errorf("the live browser: %v", err)
		}
		if n, err := tf.Purge(ctx); n != 0 || err != nil {
			t.Errorf("Purge again = %d, %v; want 0, nil", n, err)
		}
	})
}
