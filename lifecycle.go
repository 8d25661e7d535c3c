package twofa

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// The lifecycle of two-factor authentication, in one place.
//
// Two-factor authentication is on for an account while it holds a second
// factor: a confirmed device, or a trusted record of an attached Factor
// (package phone's trusted numbers, with its OutOfBand set). Recovery
// codes, app-specific passwords and what attached Dependents hold (package
// browser's trusted browsers) are issued on the strength of it and end
// with it:
//
//	event                                 recovery  app        dependents  factors  throttles  reported
//	                                      codes     passwords  (browsers)
//	last second factor removed            voided    revoked    revoked     -        kept       EventTwoFactorDisabled
//	(Devices.Revoke, a Factor's removal)
//	turned off by the user (Disable)      voided    revoked    revoked     removed  kept       EventTwoFactorDisabled
//	admin reset (Reset)                   voided    revoked    revoked     removed  cleared    EventTwoFactorDisabled
//	password changed (PasswordChanged)    kept      revoked    revoked     kept     cleared    -
//	pending factor removed or lapsed      kept      kept       kept        -        kept       -
//	first second factor confirmed         -         -          -           -        -          EventTwoFactorEnabled
//
// Every change that can turn two-factor authentication on or off (a
// device confirmed, imported or revoked; a Factor's record trusted or
// removed) and every issue of something that depends on it (recovery
// codes, app passwords, a Dependent's records through Issue) runs under
// the account's lifecycle lock: an in-process mutex, and across replicas
// a lease in the store (LockStore). So whether two-factor authentication
// is on is decided once per change, and what is voided is exactly what
// depended on the state that ended: a revocation of the last device that
// races the import of a new one either finishes before the import (and
// voids only what was issued before it) or sees the new device (and voids
// nothing). Verify takes no lock: it reads the factors as they are.

// lockLease is how long a lifecycle lock's lease in the store lasts: far
// longer than the few store operations a change makes (each bounded by
// the request's context), and short enough that a replica that died
// holding it delays the account's next change by half a minute at most.
const lockLease = 30 * time.Second

// lockWait bounds how long a change waits for the account's lock.
const lockWait = lockLease + 5*time.Second

// FactorKind names what a successful verification matched (Result.Factor):
// FactorDevice, FactorRecoveryCode, or an attached Factor's Kind (package
// phone's is "phone").
type FactorKind string

// Factor kinds of the root package.
const (
	FactorDevice       FactorKind = "device"        // a code from a trusted device
	FactorRecoveryCode FactorKind = "recovery_code" // a single-use recovery code
)

// A Factor is a second factor kept in a package of its own that an
// installation consults: package phone's trusted phone numbers, whose
// codes are sent by SMS or voice, are one. The package attaches it
// (TwoFA.AttachFactor) when it is built on the installation. A trusted
// record of an attached Factor turns two-factor authentication on as a
// confirmed device does; Verify tries its codes after the devices'; Disable
// and Reset remove its records. The package runs every change that trusts
// or removes a record through TwoFA.ChangeFactors, so that the lifecycle
// sees it.
type Factor interface {
	// Kind names the factor in Result.Factor and events.
	Kind() FactorKind
	// Digits is how many digits the factor's codes have; Verify passes it
	// only codes of that length.
	Digits() int
	// Trusted reports whether the account holds a trusted record of the
	// factor, one that counts as a second factor.
	Trusted(ctx context.Context, account string) (bool, error)
	// VerifyCode checks a typed sign-in code against the account's live
	// codes, after Verify counted the attempt in its throttle. It returns
	// the id of the record the code belongs to when it is accepted (and
	// used up), ErrInvalidCode when it matches none, ErrReplayed when it is
	// a code used already, or another error. A write that uses a code up
	// must not be cut short by ctx.
	VerifyCode(ctx context.Context, account, code string) (id string, err error)
	// RemoveAll removes every record the account holds of the factor and
	// reports how many.
	RemoveAll(ctx context.Context, account string) (int, error)
}

// Dependent is something an installation issues on the strength of a
// second factor, kept by a package outside twofa, that must end with it:
// package browser's trusted browsers, which skip the second factor, are
// one. The package attaches it (TwoFA.Attach) when it is built on the
// installation, issues its records through TwoFA.Issue, and the
// installation calls RevokeAll as the lifecycle table says: when
// two-factor authentication turns off (after the recovery codes are
// voided and the app passwords revoked; the first error stops it) and on
// PasswordChanged (its error is joined with the others). Dependents are
// called in the order they were attached. RevokeAll reports its own
// event; twofa adds none.
type Dependent interface {
	// RevokeAll ends everything the account holds of this dependent and
	// reports how many.
	RevokeAll(ctx context.Context, account string) (int, error)
}

// Attach makes d a dependent of the installation (see Dependent). Package
// browser's New calls it. An installation with trusted browsers must
// attach them in every process that can turn two-factor authentication
// off or change a password, or those paths leave the browsers trusted.
// Attach is safe for concurrent use, also with the calls that run the
// dependents.
func (tf *TwoFA) Attach(d Dependent) { tf.c.plugins.attach(d, nil) }

// AttachFactor makes f a second factor of the installation (see Factor).
// Package phone's New calls it. Attach it in every process that verifies
// sign-ins or changes factors, or those processes do not count it.
func (tf *TwoFA) AttachFactor(f Factor) { tf.c.plugins.attach(nil, f) }

// Change is what a change to an account's second factors did to
// two-factor authentication as a whole.
type Change struct {
	// TurnedOn: the account had no second factor before the change and has
	// one after it. Of concurrent first confirmations exactly one reports
	// it: the place to issue the first recovery codes.
	TurnedOn bool
	// TurnedOff: the change removed the account's last second factor, and
	// what depended on it was voided (see the lifecycle table).
	TurnedOff bool
}

// ChangeFactors runs f, which adds, trusts or removes records of an
// attached Factor for account, under the account's lifecycle lock, and
// settles two-factor authentication around it: when f turned it off, it
// voids what depended on it and reports EventTwoFactorDisabled; when f
// turned it on, EventTwoFactorEnabled. f reports whether it removed a
// record that counted as a second factor, as the store's atomic delete
// saw it (so that a record trusted a moment before its removal counts).
// Package phone calls it; an application never needs to. An error from f
// is returned as it is, with nothing settled.
func (tf *TwoFA) ChangeFactors(ctx context.Context, account string, f func(context.Context) (removedTrusted bool, err error)) (Change, error) {
	if err := validAccount(account); err != nil {
		return Change{}, err
	}
	return tf.c.change(ctx, account, f)
}

// Issue runs f, which issues a Dependent's record for account (package
// browser's Trust), under the account's lifecycle lock and only while
// two-factor authentication is on for it, else it returns ErrNotEnrolled
// and does not call f. A record issued this way cannot outlive the factor
// it was issued on: a concurrent removal of the last factor either
// finishes before (and f is not called) or waits for f (and revokes what
// it issued).
func (tf *TwoFA) Issue(ctx context.Context, account string, f func(context.Context) error) error {
	if err := validAccount(account); err != nil {
		return err
	}
	return tf.c.issue(ctx, account, f)
}

// Enabled reports whether two-factor authentication is on for the
// account: whether it has a confirmed device or a trusted record of an
// attached Factor.
func (tf *TwoFA) Enabled(ctx context.Context, account string) (bool, error) {
	if err := validAccount(account); err != nil {
		return false, err
	}
	return tf.c.enabled(ctx, account)
}

// Disable turns two-factor authentication off for the account, as a user
// does on a settings page: it removes every device (pending ones
// included) and every record of the attached Factors, then voids what
// depended on them (see the lifecycle table) and reports
// EventTwoFactorDisabled if it was on. The throttles stay. Ask for the
// password (and a second factor) before calling it.
func (tf *TwoFA) Disable(ctx context.Context, account string) error {
	if err := validAccount(account); err != nil {
		return err
	}
	_, err := tf.c.change(ctx, account, func(ctx context.Context) (bool, error) {
		return tf.c.removeFactors(ctx, account)
	})
	return err
}

// Reset is Disable for a support agent who has verified the owner another
// way: it also clears the account's throttles, budgets included, so the
// owner can enrol and sign in at once.
func (tf *TwoFA) Reset(ctx context.Context, account string) error {
	if err := tf.Disable(ctx, account); err != nil {
		return err
	}
	return tf.ResetThrottle(ctx, account)
}

// PasswordChanged revokes what a change of the account's primary password
// must void: every app-specific password and everything of an attached
// Dependent (trusted browsers, with package browser), since whoever learnt
// the old password may have made them. It also empties the throttles of
// one-time codes and recovery codes, budgets included: the failures in
// them were made by someone who knew the old password, and the owner
// should not stay refused after shutting them out. Call it from the
// password-change handler once the new password is stored. It tries every
// step and returns their errors joined (errors.Join; nil when all
// succeed).
func (tf *TwoFA) PasswordChanged(ctx context.Context, account string) error {
	c := tf.c
	if err := validAccount(account); err != nil {
		return err
	}
	unlock, err := c.lock(ctx, account)
	if err != nil {
		return err
	}
	defer unlock()
	_, errApp := c.revokeAppPasswords(ctx, account)
	errs := []error{errApp}
	for _, d := range c.plugins.dependents() {
		_, err := d.RevokeAll(ctx, account)
		errs = append(errs, err)
	}
	for _, scope := range []string{ScopeCode, ScopeRecovery} {
		if err := c.Store.ResetThrottle(ctx, account, scope); err != nil {
			errs = append(errs, fmt.Errorf("twofa: password changed: %w", err))
		}
	}
	return errors.Join(errs...)
}

// change runs f under the account's lock and settles the lifecycle
// around it (see ChangeFactors): two-factor authentication turned off
// when the account has no second factor after f and had one before it,
// or f removed one.
func (c *Config) change(ctx context.Context, account string, f func(context.Context) (bool, error)) (Change, error) {
	unlock, err := c.lock(ctx, account)
	if err != nil {
		return Change{}, err
	}
	// The events are reported under the lock, so that they reach the hook
	// in the order of the changes.
	defer unlock()
	before, err := c.enabled(ctx, account)
	if err != nil {
		return Change{}, err
	}
	removed, err := f(ctx)
	if err != nil {
		return Change{}, err
	}
	before = before || removed
	after, err := c.enabled(ctx, account)
	if err != nil {
		return Change{}, err
	}
	now := c.Clock.Now()
	switch {
	case before && !after:
		if err := c.disableSecondFactor(ctx, account); err != nil {
			return Change{}, err
		}
		c.Events.emit(ctx, Event{Type: EventTwoFactorDisabled, Account: account, Time: now})
		return Change{TurnedOff: true}, nil
	case !before && after:
		c.Events.emit(ctx, Event{Type: EventTwoFactorEnabled, Account: account, Time: now})
		return Change{TurnedOn: true}, nil
	}
	return Change{}, nil
}

// issue runs f under the account's lock while two-factor authentication
// is on (see Issue).
func (c *Config) issue(ctx context.Context, account string, f func(context.Context) error) error {
	unlock, err := c.lock(ctx, account)
	if err != nil {
		return err
	}
	defer unlock()
	on, err := c.enabled(ctx, account)
	if err != nil {
		return err
	}
	if !on {
		return ErrNotEnrolled
	}
	return f(ctx)
}

// enabled reports whether the account has a second factor: a confirmed
// device or a trusted record of an attached Factor.
func (c *Config) enabled(ctx context.Context, account string) (bool, error) {
	devs, err := c.Store.Devices(ctx, account)
	if err != nil {
		return false, fmt.Errorf("twofa: devices: %w", err)
	}
	for _, dev := range devs {
		if dev.State == DeviceConfirmed {
			return true, nil
		}
	}
	for _, f := range c.plugins.factors() {
		on, err := f.Trusted(ctx, account)
		if err != nil || on {
			return on, err
		}
	}
	return false, nil
}

// disableSecondFactor voids what only makes sense while two-factor
// authentication is on.
func (c *Config) disableSecondFactor(ctx context.Context, account string) error {
	if err := c.Store.DeleteRecoveryCodes(ctx, account); err != nil {
		return fmt.Errorf("twofa: void recovery codes: %w", err)
	}
	if _, err := c.revokeAppPasswords(ctx, account); err != nil {
		return err
	}
	for _, d := range c.plugins.dependents() {
		if _, err := d.RevokeAll(ctx, account); err != nil {
			return err
		}
	}
	return nil
}

// removeFactors removes every device of the account and every record of
// the attached Factors (Disable); it reports whether a confirmed device
// was among them.
func (c *Config) removeFactors(ctx context.Context, account string) (bool, error) {
	devs, err := c.Store.Devices(ctx, account)
	if err != nil {
		return false, fmt.Errorf("twofa: disable: %w", err)
	}
	now := c.Clock.Now()
	confirmed := false
	for _, dev := range devs {
		gone, _, err := c.Store.DeleteDevice(ctx, account, dev.ID)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return confirmed, fmt.Errorf("twofa: disable: %w", err)
		}
		confirmed = confirmed || gone.State == DeviceConfirmed
		c.Events.emit(ctx, Event{Type: EventRevoked, Account: account, DeviceID: dev.ID, Time: now})
	}
	for _, f := range c.plugins.factors() {
		if _, err := f.RemoveAll(ctx, account); err != nil {
			return confirmed, err
		}
	}
	return confirmed, nil
}

// lock takes the account's lifecycle lock: the installation's mutex for
// the account, then (if the store keeps locks, see LockStore) its lease
// in the store, which serialises replicas. It waits at most lockWait, and
// no longer than ctx allows. The returned func releases both, once however
// often it is called; it does not fail (a lease it cannot give back lapses
// after lockLease, and the installation takes it back at once).
func (c *Config) lock(ctx context.Context, account string) (unlock func(), err error) {
	wctx, cancel := context.WithTimeout(ctx, lockWait)
	release, err := c.plugins.locks.lock(wctx, account)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("twofa: waiting for the account's lifecycle lock: %w", err)
	}
	ls, ok := c.Store.(LockStore)
	if !ok {
		return sync.OnceFunc(release), nil
	}
	holder := c.plugins.holder
	deadline := time.Now().Add(lockWait)
	wait := time.Millisecond
	for {
		now := time.Now()
		got, err := ls.AcquireLock(ctx, account, holder, now, now.Add(lockLease))
		if err != nil {
			release()
			return nil, fmt.Errorf("twofa: lifecycle lock: %w", err)
		}
		if got {
			break
		}
		if now.After(deadline) {
			release()
			return nil, fmt.Errorf("twofa: lifecycle lock: %w", context.DeadlineExceeded)
		}
		t := time.NewTimer(wait + rand.N(wait))
		select {
		case <-ctx.Done():
			t.Stop()
			release()
			return nil, fmt.Errorf("twofa: waiting for the account's lifecycle lock: %w", context.Cause(ctx))
		case <-t.C:
		}
		wait = min(2*wait, 20*time.Millisecond)
	}
	return sync.OnceFunc(func() {
		dctx := durable(ctx)
		_ = ls.ReleaseLock(dctx, account, holder)
		dctx.cancel()
		release()
	}), nil
}

// plugins is what packages attached to the installation (Dependents,
// Factors), copied on write so that the paths reading it take no lock,
// and the installation's lifecycle locks.
type plugins struct {
	mu     sync.Mutex // serialises attach
	deps   atomic.Pointer[[]Dependent]
	facts  atomic.Pointer[[]Factor]
	locks  keyedMutex
	holder string // the installation's id in the store's lock leases
}

func (p *plugins) attach(d Dependent, f Factor) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d != nil {
		p.deps.Store(appended(p.deps.Load(), d))
	}
	if f != nil {
		p.facts.Store(appended(p.facts.Load(), f))
	}
}

func appended[T any](old *[]T, v T) *[]T {
	var next []T
	if old != nil {
		next = append(next, *old...)
	}
	next = append(next, v)
	return &next
}

// dependents returns the attached Dependents in attach order.
func (p *plugins) dependents() []Dependent {
	if l := p.deps.Load(); l != nil {
		return *l
	}
	return nil
}

// factors returns the attached Factors in attach order.
func (p *plugins) factors() []Factor {
	if l := p.facts.Load(); l != nil {
		return *l
	}
	return nil
}

// keyedMutex is a mutex per key, made when first locked and dropped when
// nobody holds or waits for it.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	ch   chan struct{} // holds one token while the key is locked
	refs int
}

// lock locks key, or fails when ctx ends first.
func (k *keyedMutex) lock(ctx context.Context, key string) (func(), error) {
	k.mu.Lock()
	if k.m == nil {
		k.m = make(map[string]*keyedEntry)
	}
	e := k.m[key]
	if e == nil {
		e = &keyedEntry{ch: make(chan struct{}, 1)}
		k.m[key] = e
	}
	e.refs++
	k.mu.Unlock()
	drop := func() {
		k.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
	select {
	case e.ch <- struct{}{}:
	case <-ctx.Done():
		drop()
		return nil, context.Cause(ctx)
	}
	return func() {
		<-e.ch
		drop()
	}, nil
}
