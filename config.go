package twofa

import (
	"errors"
	"fmt"
	"time"
)

// Defaults of Config.
const (
	// DefaultSkew is the TOTP window each side of the current step: RFC
	// 6238 Section 5.2 recommends at most one step of network delay.
	DefaultSkew = 1
	// DefaultMaxDrift bounds the clock drift the Verifier tracks, in steps
	// (2 minutes at 30 s): phones keep time by the network; a cheap
	// hardware token drifts a few seconds a month. A device further off is
	// refused and must be re-enrolled or have its clock fixed.
	DefaultMaxDrift = 4
	// DefaultMaxDevices is the per-account device limit: more than any
	// person carries, few enough that the combined acceptance window of
	// all devices (each adds 2·skew+1 codes per guess) stays small.
	DefaultMaxDevices = 10
	// DefaultPendingTTL is how long an enrolment may wait for its first
	// code: long enough to find the phone and scan the QR code, short
	// enough that an abandoned secret does not linger.
	DefaultPendingTTL = 10 * time.Minute
	// DefaultConfirmAttempts is how many wrong codes a pending enrolment
	// takes before it is discarded (the user starts again with a new
	// secret), so confirming cannot be used to guess codes.
	DefaultConfirmAttempts = 5
)

// NoWindow, set as Config.Skew or Config.LookAhead, asks for a window of
// exactly one code (the zero value means the default). Set as
// Config.MaxDrift it turns drift tracking off.
const NoWindow = -1

// Config configures the managers: Devices, Verifier, RecoveryCodes,
// AppPasswords, Phones and Browsers take the same Config, so one value
// describes an installation. The zero value
// of every optional field gives the documented default.
type Config struct {
	Store   Store   // required: memstore.New() or a sqlstore
	Keyring Keyring // required: seals device secrets, keys digests; see package keyring
	Issuer  string  // required by Devices: the service name shown in authenticator apps
	Clock   Clock   // nil: the system clock
	Events  EventHook

	Skew      int // TOTP steps each side of the expected one; 0: DefaultSkew; NoWindow: none
	LookAhead int // HOTP counters past the expected one; 0: DefaultLookAhead; NoWindow: none
	MaxDrift  int // TOTP drift bound in steps; 0: DefaultMaxDrift; NoWindow: no tracking

	Throttle         ThrottlePolicy // one-time codes; zero: DefaultThrottle
	RecoveryThrottle ThrottlePolicy // recovery codes; zero: RecoveryThrottle

	MaxDevices      int           // per account; 0: DefaultMaxDevices
	PendingTTL      time.Duration // 0: DefaultPendingTTL
	ConfirmAttempts int           // 0: DefaultConfirmAttempts

	// App-specific passwords (AppPasswords).
	MaxAppPasswords     int            // per account; 0: DefaultMaxAppPasswords
	AppPasswordThrottle ThrottlePolicy // zero: AppPasswordThrottle

	// Trusted phone numbers and out-of-band codes (Phones). The Verifier
	// accepts a code sent to a trusted phone only when OutOfBand is set:
	// SMS and voice are weaker second factors than an authenticator app
	// (SIM swaps, interception), so a backend opts in.
	Sender            Sender        // required by Phones: delivers codes by SMS or voice
	OutOfBand         bool          // accept out-of-band codes as a second factor in Verifier.Verify
	MaxPhones         int           // per account; 0: DefaultMaxPhones
	ChallengeTTL      time.Duration // 0: DefaultChallengeTTL
	ChallengeAttempts int           // wrong tries per code; 0: DefaultChallengeAttempts
	ResendCooldown    time.Duration // 0: DefaultResendCooldown
	MaxSendsPerHour   int           // per number of an account; 0: DefaultMaxSendsPerHour
	MaxAccountSends   int           // per account per hour, all numbers; 0: DefaultMaxSendsPerAccountPerHour

	// Trusted browsers (Browsers).
	BrowserTTL  time.Duration // 0: DefaultBrowserTTL
	MaxBrowsers int           // per account; 0: DefaultMaxBrowsers
}

// ErrConfig is matched by errors about a Config.
var ErrConfig = errors.New("twofa: invalid config")

func windowSetting(v, def, max int, name string) (int, error) {
	switch {
	case v == 0:
		return def, nil
	case v == NoWindow:
		return 0, nil
	case v < 0 || v > max:
		return 0, fmt.Errorf("%w: %s %d outside 1 to %d", ErrConfig, name, v, max)
	}
	return v, nil
}

// resolved fills in defaults and checks the fields.
func (c Config) resolved() (Config, error) {
	if c.Store == nil {
		return c, fmt.Errorf("%w: Store is required", ErrConfig)
	}
	if c.Keyring == nil {
		return c, fmt.Errorf("%w: Keyring is required", ErrConfig)
	}
	c.Clock = clockOrSystem(c.Clock)
	var err error
	if c.Skew, err = windowSetting(c.Skew, DefaultSkew, (MaxWindow-1)/2, "Skew"); err != nil {
		return c, err
	}
	if c.LookAhead, err = windowSetting(c.LookAhead, DefaultLookAhead, MaxWindow-1, "LookAhead"); err != nil {
		return c, err
	}
	if c.MaxDrift, err = windowSetting(c.MaxDrift, DefaultMaxDrift, (MaxWindow-1)/2-c.Skew, "MaxDrift"); err != nil {
		return c, err
	}
	if c.Throttle == (ThrottlePolicy{}) {
		c.Throttle = DefaultThrottle
	}
	if c.RecoveryThrottle == (ThrottlePolicy{}) {
		c.RecoveryThrottle = RecoveryThrottle
	}
	if err := c.Throttle.validate(); err != nil {
		return c, fmt.Errorf("%w: Throttle: %w", ErrConfig, err)
	}
	if err := c.RecoveryThrottle.validate(); err != nil {
		return c, fmt.Errorf("%w: RecoveryThrottle: %w", ErrConfig, err)
	}
	if c.MaxDevices == 0 {
		c.MaxDevices = DefaultMaxDevices
	}
	if c.PendingTTL == 0 {
		c.PendingTTL = DefaultPendingTTL
	}
	if c.ConfirmAttempts == 0 {
		c.ConfirmAttempts = DefaultConfirmAttempts
	}
	if c.MaxDevices < 1 || c.PendingTTL < 0 || c.ConfirmAttempts < 1 {
		return c, fmt.Errorf("%w: MaxDevices, PendingTTL and ConfirmAttempts must be positive", ErrConfig)
	}
	return c, nil
}
