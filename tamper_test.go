package twofa_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/twofatest"
)

// tamperStore is a memstore whose device reads come back edited, as if
// someone without the keys had written to the store: what a database
// writer does to a row, for the store that has no rows. (sqlstore's
// tamper tests edit real rows with SQL.)
type tamperStore struct {
	*memstore.Store
	mu     sync.Mutex
	mutate func(*twofa.Device) // nil: reads as stored
}

func (s *tamperStore) set(f func(*twofa.Device)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mutate = f
}

func (s *tamperStore) apply(d *twofa.Device) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mutate != nil {
		s.mutate(d)
	}
}

func (s *tamperStore) Device(ctx context.Context, account, id string) (twofa.Device, error) {
	d, err := s.Store.Device(ctx, account, id)
	if err == nil {
		s.apply(&d)
	}
	return d, err
}

func (s *tamperStore) Devices(ctx context.Context, account string) ([]twofa.Device, error) {
	ds, err := s.Store.Devices(ctx, account)
	for i := range ds {
		s.apply(&ds[i])
	}
	return ds, err
}

func (s *tamperStore) DevicesAfter(ctx context.Context, account, id string, limit int) ([]twofa.Device, error) {
	ds, err := s.Store.DevicesAfter(ctx, account, id, limit)
	for i := range ds {
		s.apply(&ds[i])
	}
	return ds, err
}

// deviceFields classifies every field of twofa.Device: bound ones (with
// an edit) are authenticated by the device's MAC or its seal; the others
// decide nothing. A field added to Device fails the test until it is
// classified here.
var (
	boundDeviceFields = map[string]struct {
		edit   func(*twofa.Device)
		sealed bool // also bound by the sealed secret: refused by the seal or the MAC
	}{
		"State": {edit: func(d *twofa.Device) { d.State = 3 - d.State }},
		"Counter": {edit: func(d *twofa.Device) {
			if d.Counter > 0 {
				d.Counter--
			} else {
				d.Counter++
			}
		}},
		"Drift":       {edit: func(d *twofa.Device) { d.Drift++ }},
		"ResyncStep":  {edit: func(d *twofa.Device) { d.ResyncStep += 7 }},
		"ResyncDrift": {edit: func(d *twofa.Device) { d.ResyncDrift-- }},
		"Attempts":    {edit: func(d *twofa.Device) { d.Attempts-- }},
		"ExpiresAt":   {edit: func(d *twofa.Device) { d.ExpiresAt = d.ExpiresAt.AddDate(10, 0, 0) }},
		"MAC": {edit: func(d *twofa.Device) {
			d.MAC = append([]byte(nil), d.MAC...)
			d.MAC[len(d.MAC)-1] ^= 1
		}},
		"Type":      {edit: func(d *twofa.Device) { d.Type = 1 - d.Type }, sealed: true},
		"Algorithm": {edit: func(d *twofa.Device) { d.Algorithm = twofa.SHA256 }, sealed: true},
		"Digits":    {edit: func(d *twofa.Device) { d.Digits += 2 }, sealed: true},
		"Period":    {edit: func(d *twofa.Device) { d.Period += 30 * time.Second }, sealed: true},
	}
	unboundDeviceFields = map[string]string{
		"ID":          "the record's key: another id is another record (and the MAC binds it)",
		"Account":     "the record's key (and the MAC binds it)",
		"Label":       "shown to the user, decides nothing",
		"Sealed":      "authenticated by its own seal",
		"CreatedAt":   "orders the list, decides nothing",
		"ConfirmedAt": "shown to the user, decides nothing",
		"LastUsedAt":  "orders the search, decides nothing",
	}
)

// TestTamperedDeviceFields edits each bound field of every device of an
// account in turn - a confirmed device with a used code, a pending one
// with a wrong try counted - and expects every use of either refused: a
// fresh code, the used code again, the pending device's code at
// confirmation (with the states swapped: the pending device's code at
// sign-in and the confirmed one's at confirmation).
func TestTamperedDeviceFields(t *testing.T) {
	t.Parallel()
	typ := reflect.TypeFor[twofa.Device]()
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		_, bound := boundDeviceFields[name]
		_, unbound := unboundDeviceFields[name]
		require.True(t, bound != unbound, "Device.%s must be classified as bound or not", name)
	}
	for name, f := range boundDeviceFields {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			env := twofatest.New(t)
			store := &tamperStore{Store: env.Store}
			env.Reconfigure(func(c *twofa.Config) { c.Store = store })
			conf := env.EnrollTOTP("alice")
			used := conf.Code()
			_, err := env.TwoFA.Verify(ctx, "alice", used)
			require.NoError(t, err)
			en, err := env.Devices.Enroll(ctx, "alice", "pending", twofa.EnrollOptions{})
			require.NoError(t, err)
			gen, err := en.Key.TOTP()
			require.NoError(t, err)
			wrong := "000000"
			if c, _ := gen.Code(env.Clock.Now()); c == wrong {
				wrong = "111111"
			}
			_, err = env.Devices.Confirm(ctx, "alice", en.Device.ID, wrong)
			require.ErrorIs(t, err, twofa.ErrInvalidCode)

			store.set(f.edit)
			env.Clock.Advance(30 * time.Second)
			tampered := env.Events.Count(twofa.EventTampered)
			check := func(what string, err error) {
				t.Helper()
				if f.sealed {
					assert.Error(t, err, "%s: accepted", what)
					return
				}
				assert.ErrorIs(t, err, twofa.ErrTampered, what)
				var te *twofa.TamperedError
				if assert.ErrorAs(t, err, &te, what) {
					assert.Equal(t, twofa.RecordDevice, te.Record)
				}
				assert.Greater(t, env.Events.Count(twofa.EventTampered), tampered, "%s: EventTampered", what)
				tampered = env.Events.Count(twofa.EventTampered)
			}
			_, err = env.TwoFA.Verify(ctx, "alice", used)
			assert.Error(t, err, "the used code: accepted")
			pendingCode, err := gen.Code(env.Clock.Now())
			require.NoError(t, err)
			if name == "State" {
				_, err = env.TwoFA.Verify(ctx, "alice", pendingCode)
				check("the pending device's code at sign-in", err)
				_, err = env.Devices.Confirm(ctx, "alice", conf.ID, conf.Code())
				check("the confirmed device's code at confirmation", err)
			} else {
				_, err = env.TwoFA.Verify(ctx, "alice", conf.Code())
				check("a fresh code", err)
				_, err = env.Devices.Confirm(ctx, "alice", en.Device.ID, pendingCode)
				check("the pending device's code at confirmation", err)
			}

			// Nothing was changed by the refusals: as stored, the
			// confirmed device takes its fresh code and the pending one
			// confirms.
			store.set(nil)
			_, err = env.TwoFA.Verify(ctx, "alice", conf.Code())
			require.NoError(t, err)
			_, err = env.Devices.Confirm(ctx, "alice", en.Device.ID, pendingCode)
			require.NoError(t, err)
		})
	}
}

// TestDeviceMACRotation: after a rotation, a device's MAC under the old
// key still verifies; Reseal moves it to the new key, and once the old key
// is dropped the device still signs in. A device with no MAC is refused
// until UpgradeMACs gives it one, which Reseal never does.
func TestDeviceMACRotation(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ring1, ring12, ring2 := rotationRings(t)
	env := twofatest.New(t)
	env.Reconfigure(func(c *twofa.Config) { c.Keyring = ring1 })
	dev := env.EnrollTOTP("alice")
	before, err := env.Store.Device(ctx, "alice", dev.ID)
	require.NoError(t, err)

	env.Reconfigure(func(c *twofa.Config) { c.Keyring = ring12 })
	_, err = env.TwoFA.Verify(ctx, "alice", dev.Code())
	require.NoError(t, err, "a MAC under the old key verifies")
	env.Clock.Advance(30 * time.Second)
	n, err := env.TwoFA.Reseal(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	after, err := env.Store.Device(ctx, "alice", dev.ID)
	require.NoError(t, err)
	assert.NotEqual(t, before.MAC, after.MAC)
	n, err = env.TwoFA.Reseal(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "a second run changes nothing")

	env.Reconfigure(func(c *twofa.Config) { c.Keyring = ring2 })
	_, err = env.TwoFA.Verify(ctx, "alice", dev.Code())
	require.NoError(t, err, "the new MAC verifies without the old key")

	// A MAC under a dropped key fails closed.
	env.Clock.Advance(30 * time.Second)
	ok, err := env.Store.UpdateDeviceMAC(ctx, "alice", dev.ID, mustDevice(t, env, dev.ID).MAC, before.MAC)
	require.NoError(t, err)
	require.True(t, ok)
	_, err = env.TwoFA.Verify(ctx, "alice", dev.Code())
	require.ErrorIs(t, err, twofa.ErrTampered)
	require.True(t, errors.Is(err, keyring.ErrInvalidMAC), "the keyring's reason is kept: %v", err)

	// No MAC at all (a store from before the MACs): refused, left alone
	// by Reseal, given one by UpgradeMACs.
	ok, err = env.Store.UpdateDeviceMAC(ctx, "alice", dev.ID, before.MAC, nil)
	require.NoError(t, err)
	require.True(t, ok)
	_, err = env.TwoFA.Verify(ctx, "alice", dev.Code())
	var te *twofa.TamperedError
	require.ErrorAs(t, err, &te)
	assert.True(t, te.Missing)
	_, err = env.TwoFA.Reseal(ctx)
	require.ErrorIs(t, err, twofa.ErrTampered, "Reseal reports the device and does not adopt it")
	assert.Empty(t, mustDevice(t, env, dev.ID).MAC)
	n, err = env.TwoFA.UpgradeMACs(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = env.TwoFA.Verify(ctx, "alice", dev.Code())
	require.NoError(t, err)
}

func mustDevice(t *testing.T, env *twofatest.Env, id string) twofa.Device {
	t.Helper()
	d, err := env.Store.Device(t.Context(), "alice", id)
	require.NoError(t, err)
	return d
}

// TestPhoneMACRotation: Reseal re-MACs an attached phone Manager's
// numbers under the new key, so that a trusted number still gets codes
// once the old key is dropped; a second run changes nothing.
func TestPhoneMACRotation(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ring1, ring12, ring2 := rotationRings(t)
	env := twofatest.New(t)
	env.Reconfigure(func(c *twofa.Config) { c.Keyring = ring1 })
	env.EnableOutOfBand()
	id := env.TrustPhone("alice", phone.Number{E164: "+14155550123", CountryCode: 1})

	env.Reconfigure(func(c *twofa.Config) { c.Keyring = ring12 })
	n, err := env.TwoFA.Reseal(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the phone")
	n, err = env.TwoFA.Reseal(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "a second run changes nothing")

	env.Reconfigure(func(c *twofa.Config) { c.Keyring = ring2 })
	env.Clock.Advance(env.ResendCooldown())
	_, err = env.Phones.SendCode(ctx, "alice", id, phone.SMS)
	require.NoError(t, err, "the phone's MAC is under the new key")
}
