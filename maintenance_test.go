package twofa_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/twofatest"
)

// rotationRings returns a keyring under key 1, the same with key 2 added
// as primary, and key 2 alone: the three stages of a rotation.
func rotationRings(t testing.TB) (ring1, ring12, ring2 *keyring.Keyring) {
	t.Helper()
	digest, k1, k2 := devKeyringKey(0xd0), devKeyringKey(0x01), devKeyringKey(0x02)
	var err error
	ring1, err = keyring.New(1, map[keyring.KeyID][]byte{1: k1}, digest)
	require.NoError(t, err)
	ring12, err = keyring.New(2, map[keyring.KeyID][]byte{1: k1, 2: k2}, digest)
	require.NoError(t, err)
	ring2, err = keyring.New(2, map[keyring.KeyID][]byte{2: k2}, digest)
	require.NoError(t, err)
	return ring1, ring12, ring2
}

// sealedUnder counts the store's devices by the key their secret is
// sealed under, reading every page.
func sealedUnder(t testing.TB, s twofa.DeviceStore) map[keyring.KeyID]int {
	t.Helper()
	out := map[keyring.KeyID]int{}
	account, id := "", ""
	for {
		devs, err := s.DevicesAfter(t.Context(), account, id, 100)
		require.NoError(t, err)
		for _, d := range devs {
			k, err := keyring.SealedKeyID(d.Sealed)
			require.NoError(t, err)
			out[k]++
			account, id = d.Account, d.ID
		}
		if len(devs) < 100 {
			return out
		}
	}
}

func TestResealAfterRotation(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := memstore.New()
	clock := twofatest.NewClock(twofatest.Start)
	ring1, ring12, ring2 := rotationRings(t)
	cfg := twofa.Config{Store: store, Keyring: ring1, Issuer: "Example", Clock: clock}
	devices, _, recovery := devManagers(t, cfg)

	tdev := twofatest.EnrollDevice(t, devices, clock, "alice", twofa.EnrollOptions{})
	hdev := twofatest.EnrollDevice(t, devices, clock, "alice", twofa.EnrollOptions{Type: twofa.TypeHOTP})
	pending, err := devices.Enroll(ctx, "alice", "pending", twofa.EnrollOptions{})
	require.NoError(t, err)
	bob := twofatest.EnrollDevice(t, devices, clock, "bob", twofa.EnrollOptions{})
	codes, err := recovery.Generate(ctx, "alice")
	require.NoError(t, err)

	// Rotate: key 2 seals, key 1 still opens.
	cfg.Keyring = ring12
	devices, tf, _ := devManagers(t, cfg)
	_, err = tf.Verify(ctx, "alice", tdev.Code())
	require.NoError(t, err, "old blobs open during the rotation")
	carol := twofatest.EnrollDevice(t, devices, clock, "carol", twofa.EnrollOptions{})

	n, err := tf.Reseal(ctx)
	require.NoError(t, err)
	assert.Equal(t, 4, n, "alice's two confirmed devices and her pending one, bob's device; carol's is under key 2 already")
	assert.Equal(t, map[keyring.KeyID]int{2: 5}, sealedUnder(t, store))
	n, err = tf.Reseal(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing left to reseal")

	// A replica that missed step 2 still seals under key 1.
	lagging, _, _ := devManagers(t, twofa.Config{Store: store, Keyring: ring1, Issuer: "Example", Clock: clock})
	dave := twofatest.EnrollDevice(t, lagging, clock, "dave", twofa.EnrollOptions{})

	// Drop key 1: everyone resealed still signs in; dave, too late, does not.
	cfg.Keyring = ring2
	devices, tf, recovery = devManagers(t, cfg)
	clock.Advance(twofa.DefaultPeriod)
	for _, d := range []struct {
		account string
		dev     *twofatest.Device
	}{{"alice", tdev}, {"alice", hdev}, {"bob", bob}, {"carol", carol}} {
		_, err = tf.Verify(ctx, d.account, d.dev.Code())
		require.NoError(t, err, d.account)
	}
	require.NoError(t, errOf(devices.Confirm(ctx, "alice", pending.Device.ID, devKeyCode(t, pending.Key, clock.Now()))))
	_, err = tf.Verify(ctx, "dave", dave.Code())
	require.ErrorIs(t, err, twofa.ErrInvalidSealed)
	n, err = tf.Reseal(ctx)
	require.ErrorIs(t, err, twofa.ErrInvalidSealed, "too late for dave: key 1 is gone")
	assert.Contains(t, err.Error(), dave.ID)
	assert.Zero(t, n)

	// Recovery codes are digests under the digest key: rotation leaves them valid.
	res, err := tf.Verify(ctx, "alice", codes[0])
	require.NoError(t, err)
	assert.Equal(t, twofa.FactorRecoveryCode, res.Factor)
	left, err := recovery.Remaining(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, twofa.RecoveryCodeCount-1, left)
}

// TestResealManyAccounts: 1,234 devices over 300 accounts, more than two
// pages, are all resealed, each once, reading the store a page at a time.
func TestResealManyAccounts(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := newFaultStore(memstore.New())
	clock := twofatest.NewClock(twofatest.Start)
	ring1, ring12, ring2 := rotationRings(t)
	cfg := twofa.Config{Store: store, Keyring: ring1, Issuer: "Example", Clock: clock}
	devices, _, _ := devManagers(t, cfg)
	const total, accounts = 1234, 300
	type enrolled struct {
		account string
		dev     *twofatest.Device
	}
	var confirmed []enrolled
	for i := range total {
		account := fmt.Sprintf("user-%03d", i%accounts)
		if i >= total-accounts {
			// Each account's last device stays pending.
			_, err := devices.Enroll(ctx, account, "pending", twofa.EnrollOptions{})
			require.NoError(t, err)
			continue
		}
		confirmed = append(confirmed, enrolled{account, twofatest.EnrollDevice(t, devices, clock, account, twofa.EnrollOptions{})})
	}
	require.Equal(t, map[keyring.KeyID]int{1: total}, sealedUnder(t, store))

	cfg.Keyring = ring12
	_, tf, _ := devManagers(t, cfg)
	pages := store.count("DevicesAfter")
	n, err := tf.Reseal(ctx)
	require.NoError(t, err)
	assert.Equal(t, total, n)
	assert.Equal(t, 3, store.count("DevicesAfter")-pages, "pages of 500, 500 and 234")
	assert.Equal(t, total, store.count("UpdateSealed"), "one write per device")
	assert.Equal(t, map[keyring.KeyID]int{2: total}, sealedUnder(t, store))

	n, err = tf.Reseal(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, total, store.count("UpdateSealed"), "a second run writes nothing")

	cfg.Keyring = ring2
	_, tf, _ = devManagers(t, cfg)
	clock.Advance(twofa.DefaultPeriod)
	for _, e := range []enrolled{confirmed[0], confirmed[len(confirmed)/2], confirmed[len(confirmed)-1]} {
		_, err := tf.Verify(ctx, e.account, e.dev.Code())
		require.NoError(t, err, e.account)
	}
}

// tamper flips a bit of the stored secret of each device.
func tamper(t testing.TB, s twofa.Store, account string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		d, err := s.Device(t.Context(), account, id)
		require.NoError(t, err)
		bad := append([]byte(nil), d.Sealed...)
		bad[len(bad)-1] ^= 1
		ok, err := s.UpdateSealed(t.Context(), account, id, d.Sealed, bad)
		require.NoError(t, err)
		require.True(t, ok)
	}
}

// TestResealTampered: secrets that do not open are reported by device id,
// and every other device is still resealed.
func TestResealTampered(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := memstore.New()
	clock := twofatest.NewClock(twofatest.Start)
	ring1, ring12, _ := rotationRings(t)
	cfg := twofa.Config{Store: store, Keyring: ring1, Issuer: "Example", Clock: clock}
	devices, _, _ := devManagers(t, cfg)
	var bad []string
	for i := range 40 {
		d := twofatest.EnrollDevice(t, devices, clock, fmt.Sprintf("user-%02d", i/4), twofa.EnrollOptions{})
		if i%3 == 0 {
			tamper(t, store, fmt.Sprintf("user-%02d", i/4), d.ID)
			bad = append(bad, d.ID)
		}
	}
	require.Len(t, bad, 14)

	cfg.Keyring = ring12
	_, tf, _ := devManagers(t, cfg)
	n, err := tf.Reseal(ctx)
	require.ErrorIs(t, err, twofa.ErrInvalidSealed)
	var sealedErr *keyring.SealedError
	require.ErrorAs(t, err, &sealedErr, "the Keyring's own error is kept")
	assert.Equal(t, 40-len(bad), n, "the others are resealed")
	named := 0
	for _, id := range bad {
		if strings.Contains(err.Error(), id) {
			named++
		}
	}
	assert.Equal(t, 10, named, "the first ten named: %v", err)
	assert.Contains(t, err.Error(), "4 more devices")
	assert.Equal(t, map[keyring.KeyID]int{1: len(bad), 2: 40 - len(bad)}, sealedUnder(t, store))

	n, err = tf.Reseal(ctx)
	require.ErrorIs(t, err, twofa.ErrInvalidSealed, "still reported")
	assert.Zero(t, n)
}

func TestResealConcurrentRevoke(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// The victim is revoked just before its sealed secret is updated: a
	// user revoking it while a Reseal job runs.
	var victim string
	store := newFaultStore(memstore.New())
	store.Before("UpdateSealed", func(c faultCall) error {
		if c.ID == victim {
			_, _, err := store.Store.DeleteDevice(c.Ctx, c.Account, c.ID)
			return err
		}
		return nil
	})
	clock := twofatest.NewClock(twofatest.Start)
	ring1, ring12, ring2 := rotationRings(t)
	cfg := twofa.Config{Store: store, Keyring: ring1, Issuer: "Example", Clock: clock}
	devices, _, _ := devManagers(t, cfg)
	var devs []*twofatest.Device
	for range 3 {
		devs = append(devs, twofatest.EnrollDevice(t, devices, clock, "alice", twofa.EnrollOptions{}))
	}
	victim = devs[1].ID

	cfg.Keyring = ring12
	_, tf, _ := devManagers(t, cfg)
	n, err := tf.Reseal(ctx)
	require.NoError(t, err, "a device revoked meanwhile is skipped")
	assert.Equal(t, 2, n)

	cfg.Keyring = ring2
	_, tf, _ = devManagers(t, cfg)
	for _, d := range []*twofatest.Device{devs[0], devs[2]} {
		res, err := tf.Verify(ctx, "alice", d.Code())
		require.NoError(t, err)
		assert.Equal(t, d.ID, res.DeviceID)
	}
}

// TestResealConcurrentReseal: a device whose secret changed between the
// read and the write (another Reseal run, a re-enrolment) is left alone
// and not counted.
func TestResealConcurrentReseal(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := newFaultStore(memstore.New())
	clock := twofatest.NewClock(twofatest.Start)
	ring1, ring12, _ := rotationRings(t)
	cfg := twofa.Config{Store: store, Keyring: ring1, Issuer: "Example", Clock: clock}
	devices, _, _ := devManagers(t, cfg)
	a := twofatest.EnrollDevice(t, devices, clock, "alice", twofa.EnrollOptions{})
	twofatest.EnrollDevice(t, devices, clock, "bob", twofa.EnrollOptions{})
	cfg.Keyring = ring12
	_, tf, _ := devManagers(t, cfg)
	store.Before("UpdateSealed", func(c faultCall) error {
		if c.ID == a.ID {
			tamper(t, store.Store, c.Account, c.ID) // changed meanwhile
		}
		return nil
	})
	n, err := tf.Reseal(ctx)
	require.NoError(t, err)
	// Bob's device is resealed; alice's blob changed under the
	// compare-and-set and is left alone, but her state's MAC, which did
	// not change, is moved to the new key: both count.
	assert.Equal(t, 2, n)
	d, err := store.Store.Device(ctx, "alice", a.ID)
	require.NoError(t, err)
	id, err := keyring.SealedKeyID(d.Sealed)
	require.NoError(t, err)
	assert.NotEqual(t, ring12.Primary(), id, "alice's changed blob is not overwritten")
}

// TestResealStoreError: a store error stops the run and is returned with
// the count so far; the next run resumes.
func TestResealStoreError(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := newFaultStore(memstore.New())
	clock := twofatest.NewClock(twofatest.Start)
	ring1, ring12, _ := rotationRings(t)
	cfg := twofa.Config{Store: store, Keyring: ring1, Issuer: "Example", Clock: clock}
	devices, _, _ := devManagers(t, cfg)
	for i := range 5 {
		twofatest.EnrollDevice(t, devices, clock, fmt.Sprintf("user-%d", i), twofa.EnrollOptions{})
	}
	cfg.Keyring = ring12
	_, tf, _ := devManagers(t, cfg)

	store.fail("DevicesAfter", errBoom)
	n, err := tf.Reseal(ctx)
	require.ErrorIs(t, err, errBoom)
	assert.Zero(t, n)
	store.fail("DevicesAfter", nil)

	writes := 0
	store.Before("UpdateSealed", func(faultCall) error {
		if writes++; writes == 3 {
			return errBoom
		}
		return nil
	})
	n, err = tf.Reseal(ctx)
	require.ErrorIs(t, err, errBoom)
	assert.NotErrorIs(t, err, twofa.ErrInvalidSealed)
	assert.Equal(t, 2, n, "stopped at the third write")
	store.Before("UpdateSealed", nil)

	n, err = tf.Reseal(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, n, "the rest")
	assert.Equal(t, map[keyring.KeyID]int{2: 5}, sealedUnder(t, store))
}

// countingDependent is a Dependent with expired records of its own.
type countingDependent struct {
	n     int
	err   error
	calls atomic.Int32
}

func (d *countingDependent) RevokeAll(context.Context, string) (int, error) { return 0, nil }

func (d *countingDependent) Purge(context.Context) (int, error) {
	d.calls.Add(1)
	return d.n, d.err
}

// revokeOnly is a Dependent without expired records: Purge leaves it alone.
type revokeOnly struct{}

func (revokeOnly) RevokeAll(context.Context, string) (int, error) { return 0, nil }

// TestPurge: one call deletes exactly the expired records - a lapsed
// enrolment, an idle throttle, a trusted browser whose trust ran out, what
// an attached dependent holds - and nothing live.
func TestPurge(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := newFaultStore(memstore.New())
	clock := twofatest.NewClock(twofatest.Start)
	ring1, _, _ := rotationRings(t)
	tf, err := twofa.New(twofa.Config{Store: store, Keyring: ring1, Issuer: "Example", Clock: clock,
		Devices: twofa.DevicePolicy{PendingTTL: 10 * time.Minute}})
	require.NoError(t, err)
	browsers, err := browser.New(tf, browser.Config{TTL: time.Hour})
	require.NoError(t, err)
	tf.Attach(revokeOnly{})
	dep := &countingDependent{n: 2}
	tf.Attach(dep)

	alice := twofatest.EnrollDevice(t, tf.Devices, clock, "alice", twofa.EnrollOptions{})
	bob := twofatest.EnrollDevice(t, tf.Devices, clock, "bob", twofa.EnrollOptions{})
	carol, err := tf.Devices.Enroll(ctx, "carol", "lapses", twofa.EnrollOptions{})
	require.NoError(t, err)

	clock.Advance(time.Minute)
	_, err = tf.Verify(ctx, "alice", "000000")
	require.ErrorIs(t, err, twofa.ErrInvalidCode)
	_, err = tf.Verify(ctx, "alice", alice.Code())
	require.NoError(t, err)
	for range 2 {
		_, err = tf.Verify(ctx, "bob", "000000")
		require.ErrorIs(t, err, twofa.ErrInvalidCode)
	}
	st, err := store.Throttle(ctx, "alice", twofa.ScopeCode)
	require.NoError(t, err)
	assert.Equal(t, twofa.ThrottleState{Forgiven: clock.Now().Add(36 * time.Hour)}, st, "a success clears the back-off; the failure stays owed to the budget")
	bobState, err := store.Throttle(ctx, "bob", twofa.ScopeCode)
	require.NoError(t, err)
	require.Equal(t, 2, bobState.Failures)
	oldTok, _, err := browsers.Trust(ctx, "alice", "old")
	require.NoError(t, err)

	clock.Advance(37 * time.Hour) // alice's failure is forgiven: her state holds nothing
	dave, err := tf.Devices.Enroll(ctx, "dave", "live", twofa.EnrollOptions{})
	require.NoError(t, err)
	newTok, _, err := browsers.Trust(ctx, "bob", "new") // (alice's Trust would drop her expired one)
	require.NoError(t, err)

	n, err := tf.Purge(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1+1+1+2, n, "carol's enrolment, alice's throttle, alice's expired browser, the dependent's two")
	assert.EqualValues(t, 1, dep.calls.Load())

	_, err = store.Device(ctx, "carol", carol.Device.ID)
	require.ErrorIs(t, err, twofa.ErrNotFound)
	for account, id := range map[string]string{"alice": alice.ID, "bob": bob.ID, "dave": dave.Device.ID} {
		_, err = store.Device(ctx, account, id)
		require.NoError(t, err, "%s's device is live", account)
	}
	st, err = store.Throttle(ctx, "alice", twofa.ScopeCode)
	require.NoError(t, err)
	assert.Zero(t, st)
	st, err = store.Throttle(ctx, "bob", twofa.ScopeCode)
	require.NoError(t, err)
	assert.Equal(t, bobState, st, "failures are kept: they decide the next delay")
	_, err = browsers.Check(ctx, "alice", oldTok)
	require.ErrorIs(t, err, browser.ErrUnknown, "the expired browser's record is gone")
	_, err = browsers.Check(ctx, "bob", newTok)
	require.NoError(t, err)

	dep.n = 0
	n, err = tf.Purge(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing left to purge")
}

// TestPurgeErrors: every step runs whatever the others do; their errors
// are joined and the count is what the others removed.
func TestPurgeErrors(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := newFaultStore(memstore.New())
	clock := twofatest.NewClock(twofatest.Start)
	ring1, _, _ := rotationRings(t)
	tf, err := twofa.New(twofa.Config{Store: store, Keyring: ring1, Issuer: "Example", Clock: clock})
	require.NoError(t, err)
	errDep := errors.New("dependent failed")
	failing, ok := &countingDependent{n: 1, err: errDep}, &countingDependent{n: 4}
	tf.Attach(failing)
	tf.Attach(ok)
	_, err = tf.Devices.Enroll(ctx, "alice", "lapses", twofa.EnrollOptions{})
	require.NoError(t, err)
	clock.Advance(tf.Config().Devices.PendingTTL)

	store.fail("DeleteIdleThrottles", errBoom)
	n, err := tf.Purge(ctx)
	require.ErrorIs(t, err, errBoom)
	require.ErrorIs(t, err, errDep)
	assert.Contains(t, err.Error(), "purge throttles")
	assert.Equal(t, 1+1+4, n, "the lapsed enrolment and both dependents' counts")
	assert.EqualValues(t, 1, ok.calls.Load(), "a dependent's error does not stop the next")

	store.fail("DeleteIdleThrottles", nil).fail("DeleteExpiredDevices", errBoom)
	failing.err = nil
	n, err = tf.Purge(ctx)
	require.ErrorIs(t, err, errBoom)
	assert.Contains(t, err.Error(), "purge devices")
	assert.Equal(t, 1+4, n)
	assert.Equal(t, 2, store.count("DeleteIdleThrottles"), "the throttles are purged after a device error")
}
