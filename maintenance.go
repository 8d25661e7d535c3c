package twofa

import (
	"context"
	"errors"
	"fmt"
)

// resealPage is how many devices Reseal reads from the store at a time.
const resealPage = 500

// resealNamed bounds how many devices that did not open Reseal's error
// names; it counts the rest.
const resealNamed = 10

// Reseal re-seals, after a rotation of the Keyring's sealing keys, every
// device secret of every account that is not under the primary key, and
// returns how many it changed. It reads the devices a page at a time
// (DeviceStore.DevicesAfter), so it runs in constant memory whatever
// their number, and writes each new blob with a compare-and-set on the old
// one (DeviceStore.UpdateSealed): a device revoked, re-enrolled or
// resealed by another run meanwhile is skipped, not an error. A second
// run changes nothing and returns 0. Devices enrolled during a run are
// sealed under the primary key already.
//
// To rotate, across every replica that shares the store:
//
//  1. Add the new key, as a non-primary key, to every replica's Keyring,
//     so that each can open what any will seal under it.
//  2. Make it the primary everywhere, keeping the old keys: new secrets
//     are sealed under it, old ones still open.
//  3. Run Reseal (from any one process) until it returns 0 and no error.
//  4. Drop the old key, no sooner than an hour after step 2 (see below).
//     A secret still under it no longer opens.
//
// With package keyring, keyring.SealedKeyID tells which key a blob is
// under. The digests of recovery codes, app passwords and browser tokens
// do not depend on the sealing keys and are left alone.
//
// The MACs of the devices' state (see ErrTampered) are keyed from the
// sealing keys too, and Reseal gives each device whose MAC is under an
// old key a MAC under the primary (DeviceStore.UpdateDeviceMAC, a
// compare-and-set on the old MAC); a device counts once if either
// changed. It never gives a MAC to a device that has none (see
// UpgradeMACs) and never re-MACs one whose MAC does not verify. Then it
// calls ResealMACs(context.Context) (int, error) of every attached
// Dependent and Factor that has it (package phone's Manager re-MACs its
// phone numbers, package browser's its live trusted browsers, skipping
// revoked and expired ones), and counts theirs too. Records that live at
// most an hour are not re-MACed: out-of-band codes (phone's
// MaxChallengeTTL) and pending sign-ins (signin's MaxTTL). Each takes a
// MAC under the primary key at its next change (a wrong try), and those
// made before step 2 have all expired an hour after it; drop the old key
// sooner, and a code sent or a sign-in begun under it is refused (asked
// for again), never accepted.
//
// A secret the Keyring will not open (tampered with, sealed for another
// device, under a key it no longer holds), or a device whose MAC does not
// verify, does not stop the run: the other devices are resealed, and the
// error, which matches ErrInvalidSealed or ErrTampered, names the first
// devices that failed by id and counts the others, so that a fleet-wide
// job finishes and reports them all.
// A store error stops the run; the count says how many were resealed by
// then, and running Reseal again resumes the work.
func (tf *TwoFA) Reseal(ctx context.Context) (int, error) {
	c := tf.c
	n, failed := 0, 0
	var errs []error
	account, id := "", ""
	for {
		devs, err := c.Store.DevicesAfter(ctx, account, id, resealPage)
		if err != nil {
			return n, resealError(errs, failed, fmt.Errorf("twofa: reseal: %w", err))
		}
		for _, dev := range devs {
			changed, err := c.resealDevice(ctx, dev)
			if err == nil {
				var remac bool
				remac, err = c.remacDevice(ctx, dev)
				changed = changed || remac
			}
			switch {
			case errors.Is(err, ErrInvalidSealed), errors.Is(err, ErrTampered):
				failed++
				if len(errs) < resealNamed {
					errs = append(errs, fmt.Errorf("twofa: reseal device %s: %w", idForError(dev.ID), err))
				}
			case err != nil:
				return n, resealError(errs, failed, fmt.Errorf("twofa: reseal device %s: %w", idForError(dev.ID), err))
			case changed:
				n++
			}
		}
		if len(devs) < resealPage {
			m, err := tf.resealAttached(ctx)
			return n + m, errors.Join(resealError(errs, failed, nil), err)
		}
		last := devs[len(devs)-1]
		account, id = last.Account, last.ID
	}
}

// resealDevice reseals one device's secret under the primary key and
// stores it if the device still holds the blob it was read with. It
// reports whether it stored a new blob.
func (c *Config) resealDevice(ctx context.Context, dev Device) (bool, error) {
	blob, changed, err := resealSecret(c.Keyring, dev.Account, dev.sealBinding(), dev.Sealed)
	if err != nil || !changed {
		return false, err
	}
	ok, err := c.Store.UpdateSealed(ctx, dev.Account, dev.ID, dev.Sealed, blob)
	if errors.Is(err, ErrNotFound) {
		return false, nil // revoked meanwhile
	}
	return ok, err
}

// remacDevice gives dev a MAC under the primary key if its MAC verifies
// under an older one, and reports whether it stored it.
func (c *Config) remacDevice(ctx context.Context, dev Device) (bool, error) {
	primary, err := c.checkDevice(ctx, &dev)
	if err != nil || primary {
		return false, err
	}
	mac, err := c.deviceMAC(&dev)
	if err != nil {
		return false, err
	}
	ok, err := c.Store.UpdateDeviceMAC(ctx, dev.Account, dev.ID, dev.MAC, mac)
	if errors.Is(err, ErrNotFound) {
		return false, nil // revoked meanwhile
	}
	return ok, err
}

// UpgradeMACs gives a MAC (see ErrTampered) to every stored device that
// has none - every device of a store from before the MACs - and returns
// how many it gave one. It pages through the devices as Reseal does, and
// each write is a compare-and-set on the empty MAC, so a concurrent run
// or sign-in is not overwritten; a second run changes nothing.
//
// Run it once, right after migrating the store to a schema with MACs
// (sqlstore's migration 0010), and not again. Until it has reached a
// device, the device is refused (ErrTampered, with an EventTampered)
// rather than trusted: a record without a MAC is exactly what someone
// who can write to the store would make to have a forged state adopted,
// which is why twofa never gives one a MAC on first use, and why nothing
// but this explicit step adopts the state it finds. Running it later
// would adopt whatever state a database writer left without a MAC
// meanwhile; a device that should not be trusted can be revoked instead.
// Then it calls, in attach order, every attached Dependent and Factor
// that has a method UpgradeMACs(context.Context) (int, error) (package
// phone's Manager, for its phone numbers), and counts theirs too.
// (Trusted browsers and out-of-band challenges from before the MACs are
// never adopted: they are refused, and their owners pass a second factor
// or ask for a new code once.)
func (tf *TwoFA) UpgradeMACs(ctx context.Context) (int, error) {
	n, err := tf.upgradeDeviceMACs(ctx)
	if err != nil {
		return n, err
	}
	for _, a := range tf.attached() {
		if u, ok := a.(macUpgrader); ok {
			m, err := u.UpgradeMACs(ctx)
			n += m
			if err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// macUpgrader is a Dependent or Factor that keeps records of its own with
// MACs: UpgradeMACs finds it by this method.
type macUpgrader interface {
	UpgradeMACs(ctx context.Context) (int, error)
}

// upgradeDeviceMACs is UpgradeMACs for the devices.
func (tf *TwoFA) upgradeDeviceMACs(ctx context.Context) (int, error) {
	c := tf.c
	n := 0
	account, id := "", ""
	for {
		devs, err := c.Store.DevicesAfter(ctx, account, id, resealPage)
		if err != nil {
			return n, fmt.Errorf("twofa: upgrade MACs: %w", err)
		}
		for _, dev := range devs {
			if len(dev.MAC) != 0 {
				continue
			}
			mac, err := c.deviceMAC(&dev)
			if err != nil {
				return n, fmt.Errorf("twofa: upgrade MACs: %w", err)
			}
			ok, err := c.Store.UpdateDeviceMAC(ctx, dev.Account, dev.ID, nil, mac)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return n, fmt.Errorf("twofa: upgrade MACs: device %s: %w", idForError(dev.ID), err)
			}
			if ok {
				n++
			}
		}
		if len(devs) < resealPage {
			return n, nil
		}
		last := devs[len(devs)-1]
		account, id = last.Account, last.ID
	}
}

// macResealer is a Dependent or Factor that keeps records of its own with
// MACs keyed from the sealing keys: Reseal finds it by this method.
type macResealer interface {
	ResealMACs(ctx context.Context) (int, error)
}

// resealAttached calls ResealMACs of every attached Dependent and Factor
// that has it (package phone's Manager), in attach order, and returns the
// sum of their counts and their errors joined.
func (tf *TwoFA) resealAttached(ctx context.Context) (int, error) {
	n := 0
	var errs []error
	for _, a := range tf.attached() {
		if r, ok := a.(macResealer); ok {
			m, err := r.ResealMACs(ctx)
			n += m
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

// attached returns the attached Dependents, then Factors, in attach order.
func (tf *TwoFA) attached() []any {
	var as []any
	for _, d := range tf.c.plugins.dependents() {
		as = append(as, d)
	}
	for _, f := range tf.c.plugins.factors() {
		as = append(as, f)
	}
	return as
}

// resealError joins the errors of the devices that did not open (named
// the first of them, failed in all), a count of those not named, and
// last, a store error that stopped the run (may be nil).
func resealError(named []error, failed int, last error) error {
	errs := named
	if more := failed - len(named); more > 0 {
		errs = append(errs, fmt.Errorf("twofa: reseal: %d more devices whose secrets did not open", more))
	}
	return errors.Join(append(errs, last)...)
}

// purger is a Dependent that keeps records of its own that expire:
// Purge finds it by this method (package browser's Manager has it).
type purger interface {
	Purge(ctx context.Context) (int, error)
}

// Purge deletes, across accounts, every record that has expired, and
// returns how many it removed:
//
//   - pending devices whose enrolment lapsed (DeviceStore.DeleteExpiredDevices);
//   - throttle states that hold nothing any more: no failure since the
//     last success or reset, no back-off running, the budget whole again
//     (ThrottleStore.DeleteIdleThrottles). Such a state acts exactly as
//     none, so purging never gives an attempt that keeping it would
//     refuse. A state that still counts failures is kept however old,
//     because the failures decide the next back-off delay and only a
//     success or a reset clears them;
//   - the expired records of every attached Dependent and Factor that
//     has a method Purge(context.Context) (int, error), called in attach
//     order: package browser's trusted browsers whose trust ran out,
//     package phone's lapsed numbers and spent codes.
//
// Nothing depends on Purge: lapsed records are refused and unlisted
// anyway. Run it now and then (say, hourly or daily) from one process,
// to keep the store small, with a clock that agrees with the replicas'
// (a clock running ahead forgives a budget early, as it would when
// counting attempts). It tries every step and returns their errors
// joined (errors.Join), with the count of what the others removed.
func (tf *TwoFA) Purge(ctx context.Context) (int, error) {
	c := tf.c
	now := c.Clock.Now()
	total := 0
	var errs []error
	n, err := c.Store.DeleteExpiredDevices(ctx, now)
	total += n
	if err != nil {
		errs = append(errs, fmt.Errorf("twofa: purge devices: %w", err))
	}
	n, err = c.Store.DeleteIdleThrottles(ctx, now)
	total += n
	if err != nil {
		errs = append(errs, fmt.Errorf("twofa: purge throttles: %w", err))
	}
	var attached []any
	for _, d := range c.plugins.dependents() {
		attached = append(attached, d)
	}
	for _, f := range c.plugins.factors() {
		attached = append(attached, f)
	}
	for _, a := range attached {
		if p, ok := a.(purger); ok {
			n, err := p.Purge(ctx)
			total += n
			errs = append(errs, err)
		}
	}
	return total, errors.Join(errs...)
}
