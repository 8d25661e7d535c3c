// Package memstore keeps twofa's state in memory: it implements every store
// interface of package twofa ([twofa.Store]) with maps behind one mutex.
//
// It is meant for tests and for programs that run as a single process. The
// state is lost when the process exits, and server replicas cannot share
// it: use package sqlstore for those. Every method is one atomic step, as
// the contracts in package twofa require, and the package passes the
// storetest conformance suite.
package memstore

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twofa-go/twofa"
)

// Store is an in-memory [twofa.Store]. It is safe for concurrent use by
// multiple goroutines. The zero value is an empty Store ready to use; New
// returns one too. A Store must not be copied after first use.
//
// Store never hands out its own slices: sealed secrets and digests are
// copied in and out.
type Store struct {
	mu       sync.Mutex
	accounts map[string]*account
	seq      uint64                       // insertion order of records, for the tie-breaks of listings and of LRU eviction
	sends    map[string][]*challengeEntry // out-of-band challenges by account, oldest first: the send limits
	locks    map[string]lease             // the lifecycle lock's leases, by account (locks.go)
	signins  map[string]*signinEntry      // pending sign-ins of every account, by string(digest) (signin.go)
}

var (
	_ twofa.Store     = (*Store)(nil)
	_ twofa.LockStore = (*Store)(nil)
)

type account struct {
	devices       map[string]*entry              // by device ID
	order         []*entry                       // the same, by CreatedAt then insertion
	throttles     map[string]twofa.ThrottleState // by scope
	recovery      map[string]struct{}            // unused digests, as string(digest)
	apps          []*appEntry                    // app passwords, in insertion order
	appDigest     map[string]*appEntry           // the same, by string(digest)
	browsers      []*browserEntry                // trusted browsers, tombstones included, in insertion order
	browserDigest map[string]*browserEntry       // the same, by string(digest)
	phones        map[string]*phoneEntry         // phone numbers, by phone ID
	challenges    map[string]*challengeEntry     // out-of-band challenges, by challenge ID
	signins       []*signinEntry                 // pending sign-ins, in insertion order
}

type entry struct {
	d   twofa.Device
	seq uint64
}

// New returns an empty Store.
func New() *Store { return &Store{} }

// begin reports a done context, wrapped, or else locks s.
func (s *Store) begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: %w", err)
	}
	s.mu.Lock()
	return nil
}

// account returns the account's state, creating it if create is set;
// without create it may return nil. s.mu must be held.
func (s *Store) account(name string, create bool) *account {
	a := s.accounts[name]
	if a == nil && create {
		if s.accounts == nil {
			s.accounts = make(map[string]*account)
		}
		a = &account{
			devices:   make(map[string]*entry),
			throttles: make(map[string]twofa.ThrottleState),
			recovery:  make(map[string]struct{}),
		}
		s.accounts[name] = a
	}
	return a
}

// tidy forgets an account that holds nothing any more, so that a
// long-running process does not accumulate empty records. s.mu must be held.
func (s *Store) tidy(name string) {
	if a := s.accounts[name]; a != nil && len(a.devices) == 0 && len(a.throttles) == 0 && len(a.recovery) == 0 && len(a.apps) == 0 && len(a.browsers) == 0 && len(a.phones) == 0 && len(a.challenges) == 0 && len(a.signins) == 0 {
		delete(s.accounts, name)
	}
}

// entry returns the device, or an error wrapping ErrNotFound. s.mu must be
// held.
func (s *Store) entry(account, id string) (*entry, error) {
	if a := s.accounts[account]; a != nil {
		if e := a.devices[id]; e != nil {
			return e, nil
		}
	}
	return nil, fmt.Errorf("memstore: device %q: %w", id, twofa.ErrNotFound)
}

// setMAC stores mac as e's MAC, a copy, written over the old one where it
// fits: the store never hands out its own slices (clone and Devices copy
// them), so nothing else holds the old bytes.
func (e *entry) setMAC(mac []byte) {
	if mac == nil || e.d.MAC == nil {
		e.d.MAC = bytes.Clone(mac)
		return
	}
	e.d.MAC = append(e.d.MAC[:0], mac...)
}

func clone(d twofa.Device) twofa.Device {
	d.Sealed = bytes.Clone(d.Sealed)
	d.MAC = bytes.Clone(d.MAC)
	return d
}

// expired reports whether d is a pending device that expired at or before
// now.
func expired(d *twofa.Device, now time.Time) bool {
	return d.State == twofa.DevicePending && !d.ExpiresAt.After(now)
}

// InsertDevice adds d, as [twofa.DeviceStore] describes. Device IDs are
// unique within an account: another account may hold the same ID. When the
// insert is refused, nothing changes (expired pending devices included).
func (s *Store) InsertDevice(ctx context.Context, d twofa.Device, limit int, now time.Time) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	a := s.account(d.Account, true)
	defer s.tidy(d.Account)

	counted := 0
	var stale []string
	for id, e := range a.devices {
		if expired(&e.d, now) {
			stale = append(stale, id)
			continue
		}
		if id == d.ID {
			return fmt.Errorf("memstore: device %q: %w", d.ID, twofa.ErrDuplicate)
		}
		counted++
	}
	if counted >= limit {
		return fmt.Errorf("memstore: %d devices: %w", counted, twofa.ErrLimitReached)
	}
	for _, id := range stale {
		a.deleteDevice(id)
	}
	s.seq++
	e := &entry{d: clone(d), seq: s.seq}
	a.devices[d.ID] = e
	a.order = append(a.order, e)
	slices.SortStableFunc(a.order, func(x, y *entry) int {
		if c := x.d.CreatedAt.Compare(y.d.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(x.seq, y.seq)
	})
	return nil
}

// deleteDevice removes the device id from a.
func (a *account) deleteDevice(id string) {
	if e, ok := a.devices[id]; ok {
		delete(a.devices, id)
		a.order = slices.DeleteFunc(a.order, func(o *entry) bool { return o == e })
	}
}

// Device returns one device of the account, as [twofa.DeviceStore]
// describes.
func (s *Store) Device(ctx context.Context, account, id string) (twofa.Device, error) {
	if err := s.begin(ctx); err != nil {
		return twofa.Device{}, err
	}
	defer s.mu.Unlock()
	e, err := s.entry(account, id)
	if err != nil {
		return twofa.Device{}, err
	}
	return clone(e.d), nil
}

// Devices returns every device of the account, oldest CreatedAt first and
// devices created at the same instant in insertion order.
func (s *Store) Devices(ctx context.Context, account string) ([]twofa.Device, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	a := s.accounts[account]
	if a == nil {
		return nil, nil
	}
	es := a.order
	// The sealed secrets and MACs are copied into one buffer, each capped
	// so that an append by the caller cannot run into the next.
	size := 0
	for _, e := range es {
		size += len(e.d.Sealed) + len(e.d.MAC)
	}
	buf := make([]byte, 0, size)
	ds := make([]twofa.Device, len(es))
	for i, e := range es {
		ds[i] = e.d
		n := len(buf)
		buf = append(buf, e.d.Sealed...)
		ds[i].Sealed = buf[n:len(buf):len(buf)]
		if e.d.MAC != nil {
			n = len(buf)
			buf = append(buf, e.d.MAC...)
			ds[i].MAC = buf[n:len(buf):len(buf)]
		}
	}
	return ds, nil
}

// ConfirmDevice confirms a pending device, as [twofa.DeviceStore]
// describes.
func (s *Store) ConfirmDevice(ctx context.Context, account, id string, counter uint64, drift int64, at time.Time, maxAttempts int, old, mac []byte) (bool, error) {
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	e, err := s.entry(account, id)
	if err != nil {
		return false, err
	}
	if e.d.State != twofa.DevicePending || !e.d.ExpiresAt.After(at) || e.d.Attempts > maxAttempts || !bytes.Equal(e.d.MAC, old) {
		return false, nil
	}
	e.setMAC(mac)
	e.d.State = twofa.DeviceConfirmed
	e.d.Counter = counter
	e.d.Drift = drift
	e.d.ConfirmedAt = at
	e.d.LastUsedAt = at
	e.d.ExpiresAt = time.Time{}
	return true, nil
}

// AcceptCode consumes an accepted code, the throttle's check and the
// replay guard under the store's lock, as [twofa.DeviceStore] describes:
// the throttle refuses as [twofa.ThrottlePolicy.Reserve] would.
func (s *Store) AcceptCode(ctx context.Context, account, id string, counter uint64, drift int64, at time.Time, scope string, p twofa.ThrottlePolicy, old, mac []byte) (twofa.ThrottleState, bool, error) {
	if err := s.begin(ctx); err != nil {
		return twofa.ThrottleState{}, false, err
	}
	defer s.mu.Unlock()
	var st twofa.ThrottleState
	var e *entry
	a := s.accounts[account]
	if a != nil {
		st = a.throttles[scope]
		e = a.devices[id]
	}
	if _, ok := p.Reserve(st, at); !ok {
		return st, false, nil
	}
	if e == nil {
		return twofa.ThrottleState{}, false, fmt.Errorf("memstore: device %q: %w", id, twofa.ErrNotFound)
	}
	// counter+1 cannot wrap: the contract keeps counter below 2^64-1.
	if e.d.State != twofa.DeviceConfirmed || counter < e.d.Counter || counter == ^uint64(0) || !bytes.Equal(e.d.MAC, old) {
		return st, false, nil
	}
	e.setMAC(mac)
	e.d.Counter = counter + 1
	e.d.Drift = drift
	e.d.LastUsedAt = at
	e.d.ResyncStep = 0
	e.d.ResyncDrift = 0
	if st = st.Released(0, true); st == (twofa.ThrottleState{}) {
		delete(a.throttles, scope)
	} else {
		a.throttles[scope] = st
	}
	return st, true, nil
}

// SetResync records a tolerated out-of-window match, as
// [twofa.DeviceStore] describes; ErrNotFound when the device does not
// exist.
func (s *Store) SetResync(ctx context.Context, account, id string, step uint64, drift int64, old, mac []byte) (bool, error) {
	return s.swapMAC(ctx, account, id, old, mac, func(d *twofa.Device) {
		d.ResyncStep, d.ResyncDrift = step, drift
	})
}

// swapMAC applies change to a device and stores mac as its MAC if its MAC
// still equals old (compared by content: nil equals empty), in one
// critical section, and reports whether it did; ErrNotFound when the
// device does not exist.
func (s *Store) swapMAC(ctx context.Context, account, id string, old, mac []byte, change func(*twofa.Device)) (bool, error) {
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	e, err := s.entry(account, id)
	if err != nil {
		return false, err
	}
	if !bytes.Equal(e.d.MAC, old) {
		return false, nil
	}
	e.setMAC(mac)
	change(&e.d)
	return true, nil
}

// ReserveDeviceAttempt counts a confirmation attempt against a pending
// device whose Attempts is below limit, as [twofa.DeviceStore] describes;
// ErrNotFound when the device does not exist.
func (s *Store) ReserveDeviceAttempt(ctx context.Context, account, id string, limit int, old, mac []byte) (int, bool, error) {
	if err := s.begin(ctx); err != nil {
		return 0, false, err
	}
	defer s.mu.Unlock()
	e, err := s.entry(account, id)
	if err != nil {
		return 0, false, err
	}
	if e.d.State != twofa.DevicePending || e.d.Attempts >= limit || !bytes.Equal(e.d.MAC, old) {
		return e.d.Attempts, false, nil
	}
	e.setMAC(mac)
	e.d.Attempts++
	return e.d.Attempts, true, nil
}

// RenameDevice sets a device's label; ErrNotFound when the device does not
// exist.
func (s *Store) RenameDevice(ctx context.Context, account, id, label string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	e, err := s.entry(account, id)
	if err != nil {
		return err
	}
	e.d.Label = label
	return nil
}

// UpdateSealed replaces a device's sealed secret if it still equals old
// (compared by content: nil equals empty); ErrNotFound when the device does
// not exist.
func (s *Store) UpdateSealed(ctx context.Context, account, id string, old, sealed []byte) (bool, error) {
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	e, err := s.entry(account, id)
	if err != nil {
		return false, err
	}
	if !bytes.Equal(e.d.Sealed, old) {
		return false, nil
	}
	e.d.Sealed = bytes.Clone(sealed)
	return true, nil
}

// UpdateDeviceMAC replaces a device's MAC if it still equals old
// (compared by content: nil equals empty); ErrNotFound when the device
// does not exist.
func (s *Store) UpdateDeviceMAC(ctx context.Context, account, id string, old, mac []byte) (bool, error) {
	return s.swapMAC(ctx, account, id, old, mac, func(*twofa.Device) {})
}

// DeleteDevice removes a device and returns it, as it was, with how many
// confirmed devices the account has left, as [twofa.DeviceStore]
// describes.
func (s *Store) DeleteDevice(ctx context.Context, account, id string) (twofa.Device, int, error) {
	if err := s.begin(ctx); err != nil {
		return twofa.Device{}, 0, err
	}
	defer s.mu.Unlock()
	e, err := s.entry(account, id)
	if err != nil {
		return twofa.Device{}, 0, err
	}
	a := s.accounts[account]
	a.deleteDevice(id)
	s.tidy(account)
	left := 0
	for _, e := range a.devices {
		if e.d.State == twofa.DeviceConfirmed {
			left++
		}
	}
	return clone(e.d), left, nil
}

// DeletePendingDevice removes a device if it is still pending, as
// [twofa.DeviceStore] describes.
func (s *Store) DeletePendingDevice(ctx context.Context, account, id string) (bool, error) {
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	e, err := s.entry(account, id)
	if err != nil {
		return false, err
	}
	if e.d.State != twofa.DevicePending {
		return false, nil
	}
	s.accounts[account].deleteDevice(id)
	s.tidy(account)
	return true, nil
}

// DeleteExpiredDevices removes every pending device that expired at or
// before now, across accounts, and returns how many it removed.
func (s *Store) DeleteExpiredDevices(ctx context.Context, now time.Time) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	n := 0
	for name, a := range s.accounts {
		for id, e := range a.devices {
			if expired(&e.d, now) {
				a.deleteDevice(id)
				n++
			}
		}
		s.tidy(name)
	}
	return n, nil
}

// DevicesAfter returns up to limit devices, across accounts, that come
// after (account, id) in the order of account, then ID, as
// [twofa.DeviceStore] describes. It sorts what it reads on every call: a
// page costs time in the number of devices, which suits a store kept in
// memory.
func (s *Store) DevicesAfter(ctx context.Context, afterAccount, afterID string, limit int) ([]twofa.Device, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if limit < 1 {
		return nil, fmt.Errorf("memstore: devices after: limit %d is below 1", limit)
	}
	return pageAfter(s, afterAccount, afterID, limit, func(a *account, add func(string, func() twofa.Device)) {
		for did, e := range a.devices {
			add(did, func() twofa.Device { return clone(e.d) })
		}
	}), nil
}

// pageAfter returns up to limit records, across accounts, that come after
// (account, id) in byte order of (account, id): the paging of
// DevicesAfter, PhonesAfter and BrowsersAfter. each passes add every
// record of an account, by id, with a function that copies it out (only
// the records of the page are copied). s.mu must be held.
func pageAfter[R any](s *Store, account, id string, limit int, each func(a *account, add func(id string, get func() R))) []R {
	names := make([]string, 0, len(s.accounts))
	for name := range s.accounts {
		if name >= account {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	type item struct {
		id  string
		get func() R
	}
	var out []R
	for _, name := range names {
		var items []item
		each(s.accounts[name], func(rid string, get func() R) {
			if name > account || rid > id {
				items = append(items, item{rid, get})
			}
		})
		slices.SortFunc(items, func(x, y item) int { return strings.Compare(x.id, y.id) })
		for _, it := range items {
			if len(out) == limit {
				return out
			}
			out = append(out, it.get())
		}
	}
	return out
}

// ReserveAttempt is the throttle's one atomic step, as
// [twofa.ThrottleStore] describes: [twofa.ThrottlePolicy.Reserve] under
// the store's lock.
func (s *Store) ReserveAttempt(ctx context.Context, account, scope string, now time.Time, p twofa.ThrottlePolicy) (twofa.ThrottleState, bool, error) {
	if err := s.begin(ctx); err != nil {
		return twofa.ThrottleState{}, false, err
	}
	defer s.mu.Unlock()
	a := s.account(account, true)
	st, ok := p.Reserve(a.throttles[scope], now)
	if ok {
		a.throttles[scope] = st
	} else {
		s.tidy(account)
	}
	return st, ok, nil
}

// ReleaseAttempt hands back what a reservation took
// ([twofa.ThrottleState.Released]); a state left with nothing in it is
// dropped.
func (s *Store) ReleaseAttempt(ctx context.Context, account, scope string, refund time.Duration, success bool) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	a := s.accounts[account]
	if a == nil {
		return nil
	}
	st, ok := a.throttles[scope]
	if !ok {
		return nil
	}
	if st = st.Released(refund, success); st == (twofa.ThrottleState{}) {
		delete(a.throttles, scope)
		s.tidy(account)
	} else {
		a.throttles[scope] = st
	}
	return nil
}

// ResetThrottle clears the account's state in scope.
func (s *Store) ResetThrottle(ctx context.Context, account, scope string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if a := s.accounts[account]; a != nil {
		delete(a.throttles, scope)
		s.tidy(account)
	}
	return nil
}

// Throttle returns the account's state in scope, zero if none.
func (s *Store) Throttle(ctx context.Context, account, scope string) (twofa.ThrottleState, error) {
	if err := s.begin(ctx); err != nil {
		return twofa.ThrottleState{}, err
	}
	defer s.mu.Unlock()
	if a := s.accounts[account]; a != nil {
		return a.throttles[scope], nil
	}
	return twofa.ThrottleState{}, nil
}

// DeleteIdleThrottles removes every state, across accounts and scopes,
// that holds nothing any more at now, as [twofa.ThrottleStore] describes.
func (s *Store) DeleteIdleThrottles(ctx context.Context, now time.Time) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	n := 0
	for name, a := range s.accounts {
		for scope, st := range a.throttles {
			if st.Failures == 0 && !st.Until.After(now) && !st.Forgiven.After(now) {
				delete(a.throttles, scope)
				n++
			}
		}
		s.tidy(name)
	}
	return n, nil
}

// ReplaceRecoveryCodes voids every code of the account and stores the new
// digests (a digest given twice is stored once).
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, account string, digests [][]byte, at time.Time) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	a := s.account(account, true)
	a.recovery = make(map[string]struct{}, len(digests))
	for _, d := range digests {
		a.recovery[string(d)] = struct{}{} // string(d) copies
	}
	s.tidy(account)
	return nil
}

// ConsumeRecoveryCode removes the unused code with this digest and reports
// whether there was one and how many are left.
func (s *Store) ConsumeRecoveryCode(ctx context.Context, account string, digest []byte, at time.Time) (int, bool, error) {
	if err := s.begin(ctx); err != nil {
		return 0, false, err
	}
	defer s.mu.Unlock()
	a := s.accounts[account]
	if a == nil {
		return 0, false, nil
	}
	if _, ok := a.recovery[string(digest)]; !ok {
		return len(a.recovery), false, nil
	}
	delete(a.recovery, string(digest))
	left := len(a.recovery)
	s.tidy(account)
	return left, true, nil
}

// RecoveryCodesLeft returns how many unused codes the account has.
func (s *Store) RecoveryCodesLeft(ctx context.Context, account string) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	if a := s.accounts[account]; a != nil {
		return len(a.recovery), nil
	}
	return 0, nil
}

// DeleteRecoveryCodes voids every code of the account.
func (s *Store) DeleteRecoveryCodes(ctx context.Context, account string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if a := s.accounts[account]; a != nil {
		clear(a.recovery)
		s.tidy(account)
	}
	return nil
}
