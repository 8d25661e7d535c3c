// Package twofatest helps test code that uses twofa: a fake clock, an
// in-memory installation, and enrolled devices that hand out their
// currently valid code - so a login handler's tests can sign in with a
// second factor, or try a replayed, wrong or throttled one.
//
//	env := twofatest.New(t)
//	dev := env.EnrollTOTP("alice")
//	_, err := env.TwoFA.Verify(ctx, "alice", dev.Code()) // accepted
//	env.Clock.Advance(30 * time.Second)                  // next code
package twofatest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/signin"
)

// Clock is a fake twofa.Clock that moves only when told. It is safe for
// concurrent use. The zero Clock stands at the zero time; use NewClock.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Start is the time NewClock(Start) and New begin at: a fixed instant well
// inside a 30 s step, so tests are reproducible.
var Start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// NewClock returns a Clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t (backwards too).
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

var _ twofa.Clock = (*Clock)(nil)

// Env is an in-memory twofa installation on a fake clock: what a test of
// a login flow needs. Its fields are ready to use: TwoFA is the
// installation, built from Config, and Devices, Recovery, AppPasswords
// point into it; Browsers is its trusted browsers (package browser, with
// the default browser.Config), Phones its trusted phone numbers
// (package phone, built from PhoneConfig) and SignIns its pending
// sign-ins (package signin, with Browsers), all attached to it.
// Reconfigure and ReconfigurePhones rebuild them with other settings.
type Env struct {
	T       testing.TB
	Clock   *Clock
	Store   *memstore.Store
	Keyring *keyring.Keyring
	Events  *Recorder
	Sender  *Sender // records the codes Phones sends

	Config       twofa.Config // what TwoFA was built from; change it with Reconfigure
	TwoFA        *twofa.TwoFA
	Devices      *twofa.Devices       // TwoFA.Devices
	Recovery     *twofa.RecoveryCodes // TwoFA.Recovery
	AppPasswords *twofa.AppPasswords  // TwoFA.AppPasswords
	PhoneConfig  phone.Config         // what Phones was built from (Sender: the Env's Sender); change it with ReconfigurePhones
	Phones       *phone.Manager       // phone.New(TwoFA, PhoneConfig), nil when PhoneConfig.Sender is; OutOfBand is off: see EnableOutOfBand
	Browsers     *browser.Manager     // browser.New(TwoFA, browser.Config{})
	SignIns      *signin.Manager      // signin.New(TwoFA, signin.Config{Browsers: Browsers}); nil when Config.Store is not a signin.Store
}

// New returns an Env at Start with a random keyring, memstore, default
// settings and an event Recorder. It fails the test on error.
func New(t testing.TB) *Env {
	t.Helper()
	keys, err := keyring.Generate()
	if err != nil {
		t.Fatalf("twofatest: %v", err)
	}
	kr, err := keyring.Parse(keys)
	if err != nil {
		t.Fatalf("twofatest: %v", err)
	}
	e := &Env{T: t, Clock: NewClock(Start), Store: memstore.New(), Keyring: kr, Events: &Recorder{}, Sender: &Sender{}}
	e.Config = twofa.Config{
		Store: e.Store, Keyring: kr, Issuer: "twofatest", Clock: e.Clock, Events: e.Events.Hook,
	}
	e.PhoneConfig = phone.Config{Sender: e.Sender}
	e.Reconfigure(nil)
	return e
}

// Reconfigure lets change edit the Env's Config (change may be nil) and
// rebuilds TwoFA and the manager fields from it (Browsers, Phones and SignIns too,
// Phones from PhoneConfig), on the same store,
// keyring, clock and Recorder, so state persists. It fails the test on
// error (and then leaves the Env as it was).
func (e *Env) Reconfigure(change func(*twofa.Config)) {
	e.T.Helper()
	c := e.Config
	if change != nil {
		change(&c)
	}
	tf, err := twofa.New(c)
	if err != nil {
		e.T.Fatalf("twofatest: %v", err)
		return
	}
	b, err := browser.New(tf, browser.Config{})
	if err != nil {
		e.T.Fatalf("twofatest: %v", err)
		return
	}
	var si *signin.Manager
	if _, ok := c.Store.(signin.Store); ok {
		if si, err = signin.New(tf, signin.Config{Browsers: b}); err != nil {
			e.T.Fatalf("twofatest: %v", err)
			return
		}
	}
	var ph *phone.Manager
	if e.PhoneConfig.Sender != nil {
		if ph, err = phone.New(tf, e.PhoneConfig); err != nil {
			e.T.Fatalf("twofatest: %v", err)
			return
		}
	}
	e.Config, e.TwoFA, e.Browsers, e.Phones, e.SignIns = c, tf, b, ph, si
	e.Devices, e.Recovery, e.AppPasswords = tf.Devices, tf.Recovery, tf.AppPasswords
}

// ReconfigurePhones lets change edit the Env's PhoneConfig and rebuilds
// the installation as Reconfigure(nil) does, Phones from the new
// PhoneConfig. It fails the test on error (and then leaves the Env as it
// was).
func (e *Env) ReconfigurePhones(change func(*phone.Config)) {
	e.T.Helper()
	old := e.PhoneConfig
	if change != nil {
		change(&e.PhoneConfig)
	}
	ok := false
	defer func() {
		if !ok {
			e.PhoneConfig = old
		}
	}()
	e.Reconfigure(nil)
	ok = true
}

// Device is an enrolled, confirmed test device: a phone in the user's
// pocket.
type Device struct {
	ID    string
	Key   twofa.Key // holds the secret, as the phone app would
	clock twofa.Clock
	totp  *twofa.TOTP
	hotp  *twofa.HOTP
	mu    sync.Mutex
	next  uint64 // HOTP: the counter the token shows next
}

// EnrollTOTP enrols a TOTP device for account with default options and
// confirms it, as a user scanning the QR code would. Confirmation uses the
// code of the step before the clock's current one, so Code is valid (and
// unused) at once. (With Config.Codes.NoSkew set that step is
// outside the window: the current step's code confirms, and Code is valid
// from the next step on.)
func (e *Env) EnrollTOTP(account string) *Device {
	e.T.Helper()
	return EnrollDevice(e.T, e.Devices, e.Clock, account, twofa.EnrollOptions{})
}

// EnrollHOTP enrols and confirms an HOTP device for account; the
// confirmation uses counter 0, so Code starts at counter 1.
func (e *Env) EnrollHOTP(account string) *Device {
	e.T.Helper()
	return EnrollDevice(e.T, e.Devices, e.Clock, account, twofa.EnrollOptions{Type: twofa.TypeHOTP})
}

// EnrollDevice enrols and confirms a device for account through devices,
// whose Config must use clock, as EnrollTOTP and EnrollHOTP describe. It
// fails the test on error.
func EnrollDevice(t testing.TB, devices *twofa.Devices, clock twofa.Clock, account string, o twofa.EnrollOptions) *Device {
	t.Helper()
	ctx := context.Background()
	e, err := devices.Enroll(ctx, account, "test device", o)
	if err != nil {
		t.Fatalf("twofatest: enrol: %v", err)
	}
	d := &Device{ID: e.Device.ID, Key: e.Key, clock: clock}
	var first, current string
	if e.Key.Type == twofa.TypeHOTP {
		if d.hotp, err = e.Key.HOTP(); err != nil {
			t.Fatalf("twofatest: %v", err)
		}
		first = d.hotp.Code(e.Key.Counter)
		d.next = e.Key.Counter + 1
	} else {
		if d.totp, err = e.Key.TOTP(); err != nil {
			t.Fatalf("twofatest: %v", err)
		}
		now := clock.Now()
		step, err := d.totp.Step(now)
		if err != nil || step == 0 {
			t.Fatalf("twofatest: the clock must stand past T0's first step")
		}
		first = d.totp.CodeAt(step - 1)
		current = d.totp.CodeAt(step)
	}
	_, err = devices.Confirm(ctx, account, d.ID, first)
	if current != "" && errors.Is(err, twofa.ErrInvalidCode) {
		// Config.Codes.NoSkew: the step before is outside the window.
		_, err = devices.Confirm(ctx, account, d.ID, current)
	}
	if err != nil {
		t.Fatalf("twofatest: confirm: %v", err)
	}
	return d
}

// Code returns the code the device shows now: for TOTP, the code of the
// clock's current step (advance the clock for the next one); for HOTP, the
// next counter's code, as a press of the token's button.
func (d *Device) Code() string {
	if d.hotp != nil {
		d.mu.Lock()
		defer d.mu.Unlock()
		c := d.hotp.Code(d.next)
		d.next++
		return c
	}
	c, err := d.totp.Code(d.clock.Now())
	if err != nil {
		panic("twofatest: clock before T0")
	}
	return c
}

// CodeAt returns a TOTP device's code for time t: what a device whose
// clock is off shows.
func (d *Device) CodeAt(t time.Time) string {
	c, err := d.totp.Code(t)
	if err != nil {
		panic("twofatest: time before T0")
	}
	return c
}

// HOTPCode returns an HOTP device's code for counter.
func (d *Device) HOTPCode(counter uint64) string { return d.hotp.Code(counter) }

// Recorder collects events, for assertions. It is safe for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	events []twofa.Event
}

// Hook is a twofa.EventHook that records e.
func (r *Recorder) Hook(_ context.Context, e twofa.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// Events returns a copy of the events recorded so far.
func (r *Recorder) Events() []twofa.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]twofa.Event(nil), r.events...)
}

// Count returns how many events of type t were recorded.
func (r *Recorder) Count(t twofa.EventType) int {
	n := 0
	for _, e := range r.Events() {
		if e.Type == t {
			n++
		}
	}
	return n
}
