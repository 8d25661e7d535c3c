package twofa_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/phone"
)

// errBoom is the error the fault store's tests inject.
var errBoom = errors.New("boom")

// errFaultSkip, returned by a before hook, makes the method report
// success (zero values, nil error) without reaching the store: a write
// that is lost.
var errFaultSkip = errors.New("fault store: skip the call")

// browserStore names browser.Store apart from twofa.Store where both are
// embedded.
type browserStore = browser.Store

// phoneStore names phone.Store likewise.
type phoneStore = phone.Store

// faultCall is what a hook is told about the call it runs in.
type faultCall struct {
	Ctx     context.Context
	Account string
	ID      string // the device, app password or phone, if any
	Err     error  // after hooks: the store's error
}

// faultHook runs before or after a method. A before hook's error fails
// the call without reaching the store (errFaultSkip makes it a silent
// no-op); an after hook's error is the one the call reports (return
// c.Err to keep the store's).
type faultHook func(c faultCall) error

// faultStore wraps a Store for the tests that need a store to misbehave
// or to be watched. Every method it overrides counts its calls by name
// (and, for the throttle methods, also by name:scope), records the byte
// strings handed to it (for the tests that no secret reaches the store),
// runs the before hook set for its name, calls the wrapped store, then
// runs the after hook. Hooks are set before the store is used; they run
// without the store's lock held, so they may call the store (or a manager
// on it) themselves. It passes the trusted-browser and phone methods
// and the lifecycle lock's (twofa.LockStore) straight to
// the wrapped store, which must then be a browser.Store and a phone.Store
// (memstore is).
type faultStore struct {
	twofa.Store
	browserStore
	phoneStore
	twofa.LockStore
	mu     sync.Mutex
	calls  map[string]int
	seen   [][]byte
	before map[string]faultHook
	after  map[string]faultHook
}

func newFaultStore(s twofa.Store) *faultStore {
	bs, _ := s.(browser.Store)
	ps, _ := s.(phone.Store)
	ls, _ := s.(twofa.LockStore)
	return &faultStore{Store: s, browserStore: bs, phoneStore: ps, LockStore: ls, calls: map[string]int{}, before: map[string]faultHook{}, after: map[string]faultHook{}}
}

// fail makes the named method fail with err, without reaching the store
// (err nil: it no longer fails).
func (s *faultStore) fail(name string, err error) *faultStore {
	if err == nil {
		return s.Before(name, nil)
	}
	return s.Before(name, func(faultCall) error { return err })
}

// Before sets the hook run before the named method (nil: none).
func (s *faultStore) Before(name string, h faultHook) *faultStore {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h == nil {
		delete(s.before, name)
	} else {
		s.before[name] = h
	}
	return s
}

// After sets the hook run after the named method (nil: none).
func (s *faultStore) After(name string, h faultHook) *faultStore {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h == nil {
		delete(s.after, name)
	} else {
		s.after[name] = h
	}
	return s
}

// count returns how many times the method name (or name:scope) was called.
func (s *faultStore) count(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[name]
}

// Seen returns copies of every byte string handed to the store.
func (s *faultStore) Seen() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.seen...)
}

// enter counts and records a call and runs its before hook.
func (s *faultStore) enter(name, scope string, c faultCall, bs ...[]byte) error {
	s.mu.Lock()
	s.calls[name]++
	if scope != "" {
		s.calls[name+":"+scope]++
	}
	for _, b := range bs {
		s.seen = append(s.seen, bytes.Clone(b))
	}
	h := s.before[name]
	s.mu.Unlock()
	if h == nil {
		return nil
	}
	return h(c)
}

// leave runs the after hook of a call that returned err.
func (s *faultStore) leave(name string, c faultCall, err error) error {
	s.mu.Lock()
	h := s.after[name]
	s.mu.Unlock()
	if h == nil {
		return err
	}
	c.Err = err
	return h(c)
}

// faultDo runs a call of a method returning one value and an error.
func faultDo[T any](s *faultStore, name, scope string, c faultCall, bs [][]byte, call func() (T, error)) (T, error) {
	var zero T
	if err := s.enter(name, scope, c, bs...); err != nil {
		if errors.Is(err, errFaultSkip) {
			return zero, nil
		}
		return zero, err
	}
	v, err := call()
	return v, s.leave(name, c, err)
}

// faultDo0 runs a call of a method returning only an error.
func faultDo0(s *faultStore, name, scope string, c faultCall, bs [][]byte, call func() error) error {
	_, err := faultDo(s, name, scope, c, bs, func() (struct{}, error) { return struct{}{}, call() })
	return err
}

type faultPair[A, B any] struct {
	a A
	b B
}

// faultDo2 runs a call of a method returning two values and an error.
func faultDo2[A, B any](s *faultStore, name, scope string, c faultCall, bs [][]byte, call func() (A, B, error)) (A, B, error) {
	p, err := faultDo(s, name, scope, c, bs, func() (faultPair[A, B], error) {
		a, b, err := call()
		return faultPair[A, B]{a, b}, err
	})
	return p.a, p.b, err
}

func faultBytes(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func (s *faultStore) InsertDevice(ctx context.Context, d twofa.Device, limit int, now time.Time) error {
	return faultDo0(s, "InsertDevice", "", faultCall{Ctx: ctx, Account: d.Account, ID: d.ID},
		[][]byte{d.Sealed, []byte(d.ID), []byte(d.Label), []byte(d.Account)},
		func() error { return s.Store.InsertDevice(ctx, d, limit, now) })
}

func (s *faultStore) Device(ctx context.Context, account, id string) (twofa.Device, error) {
	return faultDo(s, "Device", "", faultCall{Ctx: ctx, Account: account, ID: id}, faultBytes(account, id),
		func() (twofa.Device, error) { return s.Store.Device(ctx, account, id) })
}

func (s *faultStore) Devices(ctx context.Context, account string) ([]twofa.Device, error) {
	return faultDo(s, "Devices", "", faultCall{Ctx: ctx, Account: account}, faultBytes(account),
		func() ([]twofa.Device, error) { return s.Store.Devices(ctx, account) })
}

func (s *faultStore) DevicesAfter(ctx context.Context, account, id string, limit int) ([]twofa.Device, error) {
	return faultDo(s, "DevicesAfter", "", faultCall{Ctx: ctx, Account: account, ID: id}, faultBytes(account, id),
		func() ([]twofa.Device, error) { return s.Store.DevicesAfter(ctx, account, id, limit) })
}

func (s *faultStore) DeleteExpiredDevices(ctx context.Context, now time.Time) (int, error) {
	return faultDo(s, "DeleteExpiredDevices", "", faultCall{Ctx: ctx}, nil,
		func() (int, error) { return s.Store.DeleteExpiredDevices(ctx, now) })
}

func (s *faultStore) DeleteIdleThrottles(ctx context.Context, now time.Time) (int, error) {
	return faultDo(s, "DeleteIdleThrottles", "", faultCall{Ctx: ctx}, nil,
		func() (int, error) { return s.Store.DeleteIdleThrottles(ctx, now) })
}

func (s *faultStore) AcceptCode(ctx context.Context, account, id string, counter uint64, drift int64, at time.Time, scope string, p twofa.ThrottlePolicy, old, mac []byte) (twofa.ThrottleState, bool, error) {
	return faultDo2(s, "AcceptCode", scope, faultCall{Ctx: ctx, Account: account, ID: id}, faultBytes(account, id),
		func() (twofa.ThrottleState, bool, error) {
			return s.Store.AcceptCode(ctx, account, id, counter, drift, at, scope, p, old, mac)
		})
}

func (s *faultStore) SetResync(ctx context.Context, account, id string, step uint64, drift int64, old, mac []byte) (bool, error) {
	return faultDo(s, "SetResync", "", faultCall{Ctx: ctx, Account: account, ID: id}, faultBytes(account, id),
		func() (bool, error) { return s.Store.SetResync(ctx, account, id, step, drift, old, mac) })
}

func (s *faultStore) UpdateSealed(ctx context.Context, account, id string, old, sealed []byte) (bool, error) {
	return faultDo(s, "UpdateSealed", "", faultCall{Ctx: ctx, Account: account, ID: id}, [][]byte{old, sealed},
		func() (bool, error) { return s.Store.UpdateSealed(ctx, account, id, old, sealed) })
}

func (s *faultStore) DeleteDevice(ctx context.Context, account, id string) (twofa.Device, int, error) {
	return faultDo2(s, "DeleteDevice", "", faultCall{Ctx: ctx, Account: account, ID: id}, faultBytes(account, id),
		func() (twofa.Device, int, error) { return s.Store.DeleteDevice(ctx, account, id) })
}

func (s *faultStore) DeletePendingDevice(ctx context.Context, account, id string) (bool, error) {
	return faultDo(s, "DeletePendingDevice", "", faultCall{Ctx: ctx, Account: account, ID: id}, faultBytes(account, id),
		func() (bool, error) { return s.Store.DeletePendingDevice(ctx, account, id) })
}

func (s *faultStore) ReserveAttempt(ctx context.Context, account, scope string, now time.Time, p twofa.ThrottlePolicy) (twofa.ThrottleState, bool, error) {
	return faultDo2(s, "ReserveAttempt", scope, faultCall{Ctx: ctx, Account: account}, faultBytes(account, scope),
		func() (twofa.ThrottleState, bool, error) { return s.Store.ReserveAttempt(ctx, account, scope, now, p) })
}

func (s *faultStore) ReleaseAttempt(ctx context.Context, account, scope string, refund time.Duration, success bool) error {
	return faultDo0(s, "ReleaseAttempt", scope, faultCall{Ctx: ctx, Account: account}, faultBytes(account, scope),
		func() error { return s.Store.ReleaseAttempt(ctx, account, scope, refund, success) })
}

func (s *faultStore) ResetThrottle(ctx context.Context, account, scope string) error {
	return faultDo0(s, "ResetThrottle", scope, faultCall{Ctx: ctx, Account: account}, faultBytes(account, scope),
		func() error { return s.Store.ResetThrottle(ctx, account, scope) })
}

func (s *faultStore) Throttle(ctx context.Context, account, scope string) (twofa.ThrottleState, error) {
	return faultDo(s, "Throttle", scope, faultCall{Ctx: ctx, Account: account}, faultBytes(account, scope),
		func() (twofa.ThrottleState, error) { return s.Store.Throttle(ctx, account, scope) })
}

func (s *faultStore) ReplaceRecoveryCodes(ctx context.Context, account string, digests [][]byte, at time.Time) error {
	return faultDo0(s, "ReplaceRecoveryCodes", "", faultCall{Ctx: ctx, Account: account}, digests,
		func() error { return s.Store.ReplaceRecoveryCodes(ctx, account, digests, at) })
}

func (s *faultStore) ConsumeRecoveryCode(ctx context.Context, account string, digest []byte, at time.Time) (int, bool, error) {
	return faultDo2(s, "ConsumeRecoveryCode", "", faultCall{Ctx: ctx, Account: account}, [][]byte{digest},
		func() (int, bool, error) { return s.Store.ConsumeRecoveryCode(ctx, account, digest, at) })
}

func (s *faultStore) InsertAppPassword(ctx context.Context, p twofa.AppPassword, limit int) error {
	return faultDo0(s, "InsertAppPassword", "", faultCall{Ctx: ctx, Account: p.Account, ID: p.ID},
		[][]byte{[]byte(p.ID), []byte(p.Account), []byte(p.Label), p.Digest},
		func() error { return s.Store.InsertAppPassword(ctx, p, limit) })
}

func (s *faultStore) AppPasswordByDigest(ctx context.Context, account string, digest []byte) (twofa.AppPassword, error) {
	return faultDo(s, "AppPasswordByDigest", "", faultCall{Ctx: ctx, Account: account}, [][]byte{[]byte(account), digest},
		func() (twofa.AppPassword, error) { return s.Store.AppPasswordByDigest(ctx, account, digest) })
}

func (s *faultStore) AppPasswords(ctx context.Context, account string) ([]twofa.AppPassword, error) {
	return faultDo(s, "AppPasswords", "", faultCall{Ctx: ctx, Account: account}, faultBytes(account),
		func() ([]twofa.AppPassword, error) { return s.Store.AppPasswords(ctx, account) })
}

func (s *faultStore) HasAppPasswords(ctx context.Context, account string) (bool, error) {
	return faultDo(s, "HasAppPasswords", "", faultCall{Ctx: ctx, Account: account}, faultBytes(account),
		func() (bool, error) { return s.Store.HasAppPasswords(ctx, account) })
}

func (s *faultStore) TouchAppPassword(ctx context.Context, account, id string, at time.Time) error {
	return faultDo0(s, "TouchAppPassword", "", faultCall{Ctx: ctx, Account: account, ID: id}, faultBytes(account, id),
		func() error { return s.Store.TouchAppPassword(ctx, account, id, at) })
}

func (s *faultStore) DeleteAppPassword(ctx context.Context, account, id string) error {
	return faultDo0(s, "DeleteAppPassword", "", faultCall{Ctx: ctx, Account: account, ID: id}, faultBytes(account, id),
		func() error { return s.Store.DeleteAppPassword(ctx, account, id) })
}

func (s *faultStore) DeleteAppPasswords(ctx context.Context, account string) (int, error) {
	return faultDo(s, "DeleteAppPasswords", "", faultCall{Ctx: ctx, Account: account}, faultBytes(account),
		func() (int, error) { return s.Store.DeleteAppPasswords(ctx, account) })
}
