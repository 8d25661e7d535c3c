package twofa

import (
	"fmt"
	"time"
)

// Defaults of Config; the field docs give their reasons.
const (
	// defaultSkew is the TOTP window each side of the current step: RFC
	// 6238 Section 5.2 recommends at most one step of network delay.
	defaultSkew = 1
	// defaultMaxDrift bounds the clock drift TwoFA.Verify tracks, in steps
	// (2 minutes at 30 s): phones keep time by the network; a cheap
	// hardware token drifts a few seconds a month. A device further off is
	// refused and must be re-enrolled or have its clock fixed.
	defaultMaxDrift = 4
	// defaultMaxDevices is the per-account device limit: more than any
	// person carries, few enough that the combined acceptance window of
	// all devices (each adds 2·skew+1 codes per guess) stays small.
	defaultMaxDevices = 10
	// defaultPendingTTL is how long an enrolment may wait for its first
	// code: long enough to find the phone and scan the QR code, short
	// enough that an abandoned secret does not linger.
	defaultPendingTTL = 10 * time.Minute
	// defaultConfirmAttempts is how many wrong codes a pending enrolment
	// takes before it is discarded (the user starts again with a new
	// secret), so confirming cannot be used to guess codes.
	defaultConfirmAttempts = 5
)

// Config describes an installation: New resolves and checks it once, and
// every part of the TwoFA it returns reads the same resolved value. The
// zero value of every optional field gives the documented default;
// TwoFA.Config returns the resolved Config with every default filled in.
type Config struct {
	// Store is required: memstore.New() or a sqlstore. A store that also
	// implements LockStore (both do) makes the lifecycle lock hold across
	// replicas; otherwise it holds within the process only.
	Store   Store
	Keyring Keyring // required: seals device secrets, keys digests; see package keyring
	// Issuer (required) is the service name shown in authenticator apps
	// and in the messages package phone sends. It must pass the checks of
	// Key.URI (no ':', no control or format character, no leading or
	// trailing space).
	Issuer string
	Clock  Clock // nil: the system clock
	Events EventHook

	Codes        CodePolicy        // the windows of one-time codes
	Devices      DevicePolicy      // enrolment and the per-account device limit
	Throttle     ThrottleConfig    // the throttles of codes, recovery codes and app passwords
	AppPasswords AppPasswordPolicy // app-specific passwords

	plugins *plugins // set by New: what is attached, and the lifecycle locks
	gens    *genPool // set by New: Verify's generators, wiped between uses
}

// CodePolicy sets the windows in which one-time codes are accepted. A
// zero count means its default; the No* fields ask for a zero window (or
// no drift tracking), and setting one together with a non-zero count is
// ErrConfig. In a resolved Config (TwoFA.Config) the counts are the ones
// in use.
type CodePolicy struct {
	// Skew is the TOTP window, in steps each side of the expected one.
	// 0: 1, as RFC 6238 Section 5.2 recommends (at most one step of
	// network delay).
	Skew int
	// LookAhead is the HOTP window, in counters past the expected one.
	// 0: DefaultLookAhead (5), RFC 4226 Section 7.4's look-ahead s.
	LookAhead int
	// MaxDrift bounds the TOTP clock drift Verify tracks, in steps.
	// 0: 4 (2 minutes at 30 s): phones keep time by the network; a cheap
	// hardware token drifts a few seconds a month. A device further off
	// is refused and must be re-enrolled or have its clock fixed.
	MaxDrift int

	NoSkew          bool // accept only the expected TOTP step
	NoLookAhead     bool // accept only the next expected HOTP counter
	NoDriftTracking bool // track no TOTP clock drift
}

// DevicePolicy sets the limits of trusted devices.
type DevicePolicy struct {
	// Max is the per-account device limit, pending enrolments included.
	// 0: 10, more than any person carries, few enough that the combined
	// acceptance window of all devices (each adds 2·Skew+1 codes per
	// guess) stays small.
	Max int
	// PendingTTL is how long an enrolment waits for its first code. 0: 10
	// minutes, long enough to find the phone and scan the QR code, short
	// enough that an abandoned secret does not linger.
	PendingTTL time.Duration
	// ConfirmAttempts is how many wrong codes a pending enrolment takes
	// before it is discarded (the user starts again with a new secret), so
	// that confirming cannot be used to guess codes. 0: 5.
	ConfirmAttempts int
}

// ThrottleConfig holds the throttle policy of each kind of attempt, each
// in its own scope. A zero policy means its default.
type ThrottleConfig struct {
	// Codes throttles one-time codes (ScopeCode). Zero: 5 free failures,
	// then 1 s doubling up to 2 h; and a budget of 30 failures, one forgiven
	// every 36 hours.
	//
	// The back-off stops bursts: against one TOTP device with skew ±1 (3
	// valid codes of 10^6 per attempt) an online guesser gets 29 attempts in
	// 24 hours while the owner is away, and a legitimate user who mistypes 5
	// times in a row waits not at all, 6 to 8 times 1 to 4 seconds.
	//
	// The budget holds when the owner signs in often (each success clears
	// the back-off): at most 30 + 1/1.5 evaluated wrong codes in any day and
	// 30 + 365/1.5 = 273 in a year, so an attacker who knows the password
	// succeeds with probability at most 9.2e-5 a day and 8.2e-4 a year
	// (measured by TestGuessingBudgetSimulation). NIST SP 800-63B Section
	// 5.2.2 allows at most 100 consecutive failures; this is stricter, and
	// it counts failures whether or not successes come between them. An
	// owner who types a wrong code a few times a week (less than one per 36
	// hours on average) never comes near the limit.
	//
	// The trade-off: an attacker who knows the password can spend the budget
	// on purpose, and then the owner's codes are refused too (ThrottledError
	// with BudgetSpent) until a recovery code or TwoFA.ResetThrottle empties
	// it (a trusted browser still signs the owner in meanwhile). Each
	// emptying gives a guesser who still knows the password at most another
	// Budget guesses. EventGuessing tells the backend when half the budget
	// and when all of it is spent, so it can alert the owner (as Apple and
	// Google e-mail the owner) and have them change the password, which is
	// what stops the attacker.
	Codes ThrottlePolicy

	// Recovery throttles recovery codes (ScopeRecovery). Zero: a budget of
	// 1,000 evaluated misses, one more every second, and no back-off. Every
	// attempt takes a place before it is evaluated, so the guesses evaluated
	// are bounded whatever the store's speed: at most 1,000 + 86,400 a day.
	// A recovery code has 50 random bits, so with 10 codes each guess
	// succeeds with probability 8.9e-15, and a day of guessing with 7.8e-10.
	// No person mistypes 1,000 recovery codes.
	//
	// The trade-off: someone who knows the password can spend the budget,
	// and then the owner's right recovery code is refused too, for as long
	// as they keep sending a guess a second and at most a second after they
	// stop. A change of password shuts them out (and TwoFA.PasswordChanged
	// empties the budgets they spent); a trusted browser and
	// TwoFA.ResetThrottle let the owner in meanwhile. Checking a right code
	// before the budget would keep the owner's way in open, but then every
	// guess would be evaluated and the bound would be the store's speed. The
	// budget is separate from that of one-time codes, so spending one does
	// not spend the other.
	Recovery ThrottlePolicy

	// AppPasswords throttles wrong app passwords (ScopeAppPassword). Zero:
	// 10 free failures, then 1 s doubling up to 15 minutes. An app
	// password has 75 random bits, so guessing is hopeless even
	// unthrottled; the back-off bounds the load an attacker causes. It is
	// its own scope, apart from one-time codes, so that a mail client
	// still using a revoked password cannot lock its owner out of signing
	// in with a code. It takes a back-off and no budget (New refuses one):
	// a right app password is looked up before any throttle, so a budget
	// would bound nothing.
	AppPasswords ThrottlePolicy
}

// AppPasswordPolicy sets the limits of app-specific passwords.
type AppPasswordPolicy struct {
	// Max is the per-account limit of active app passwords. 0: 25, as
	// Apple allows.
	Max int
}

func windowSetting(v int, none bool, def, max int, name, noName string) (int, error) {
	switch {
	case none && v != 0:
		return 0, fmt.Errorf("%w: %s %d set together with %s", ErrConfig, name, v, noName)
	case none:
		return 0, nil
	case v == 0:
		return def, nil
	case v < 0 || v > max:
		return 0, fmt.Errorf("%w: %s %d outside 1 to %d", ErrConfig, name, v, max)
	}
	return v, nil
}

// resolved fills in defaults and checks the fields. A resolved Config
// resolves to itself.
func (c Config) resolved() (Config, error) {
	if c.Store == nil {
		return c, fmt.Errorf("%w: Store is required", ErrConfig)
	}
	if c.Keyring == nil {
		return c, fmt.Errorf("%w: Keyring is required", ErrConfig)
	}
	if c.Issuer == "" {
		return c, fmt.Errorf("%w: Issuer is required", ErrConfig)
	}
	probe, _ := SecretFromBytes(make([]byte, DefaultSecretSize))
	if _, err := (Key{Issuer: c.Issuer, Account: "x", Secret: probe}).URI(); err != nil {
		return c, fmt.Errorf("%w: Issuer: %v", ErrConfig, err)
	}
	c.Clock = clockOrSystem(c.Clock)
	var err error
	cp := &c.Codes
	if cp.Skew, err = windowSetting(cp.Skew, cp.NoSkew, defaultSkew, (MaxWindow-1)/2, "Skew", "NoSkew"); err != nil {
		return c, err
	}
	if cp.LookAhead, err = windowSetting(cp.LookAhead, cp.NoLookAhead, DefaultLookAhead, MaxWindow-1, "LookAhead", "NoLookAhead"); err != nil {
		return c, err
	}
	if cp.MaxDrift, err = windowSetting(cp.MaxDrift, cp.NoDriftTracking, defaultMaxDrift, (MaxWindow-1)/2-cp.Skew, "MaxDrift", "NoDriftTracking"); err != nil {
		return c, err
	}
	t := &c.Throttle
	if t.Codes == (ThrottlePolicy{}) {
		t.Codes = defaultCodeThrottle
	}
	if t.Recovery == (ThrottlePolicy{}) {
		t.Recovery = defaultRecoveryThrottle
	}
	if err := t.Codes.validate(); err != nil {
		return c, fmt.Errorf("%w: Throttle.Codes: %w", ErrConfig, err)
	}
	if err := t.Recovery.validate(); err != nil {
		return c, fmt.Errorf("%w: Throttle.Recovery: %w", ErrConfig, err)
	}
	d := &c.Devices
	if d.Max == 0 {
		d.Max = defaultMaxDevices
	}
	if d.PendingTTL == 0 {
		d.PendingTTL = defaultPendingTTL
	}
	if d.ConfirmAttempts == 0 {
		d.ConfirmAttempts = defaultConfirmAttempts
	}
	if d.Max < 1 || d.PendingTTL < 0 || d.ConfirmAttempts < 1 {
		return c, fmt.Errorf("%w: Devices.Max, PendingTTL and ConfirmAttempts must be positive", ErrConfig)
	}
	if err := c.resolveAppPasswords(); err != nil {
		return c, err
	}
	return c, nil
}
