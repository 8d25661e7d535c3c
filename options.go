package twofa

import (
	"fmt"
	"time"

	"github.com/twofa-go/twofa/internal/otp"
)

// Algorithm is the HMAC hash function of a one-time password (RFC 6238
// Section 1.2). The zero value is SHA1, the default of RFC 4226 and of every
// authenticator app.
type Algorithm uint8

// The algorithms of RFC 6238.
const (
	SHA1 Algorithm = Algorithm(otp.SHA1)
	// SHA256 is HMAC-SHA-256. Some authenticator apps ignore the algorithm
	// parameter and compute SHA-1 codes; check yours before using it.
	SHA256 Algorithm = Algorithm(otp.SHA256)
	// SHA512 is HMAC-SHA-512, with the same caveat as SHA256.
	SHA512 Algorithm = Algorithm(otp.SHA512)
)

// String returns the name used in otpauth:// URIs: "SHA1", "SHA256" or
// "SHA512".
func (a Algorithm) String() string {
	switch a {
	case SHA1:
		return "SHA1"
	case SHA256:
		return "SHA256"
	case SHA512:
		return "SHA512"
	}
	return fmt.Sprintf("Algorithm(%d)", uint8(a))
}

func (a Algorithm) valid() bool { return a <= SHA512 }

// Defaults and limits of Options.
const (
	// DefaultDigits is 6: RFC 4226 Section 5.3's minimum and what every
	// authenticator app shows by default.
	DefaultDigits = 6
	// MinDigits and MaxDigits bound Options.Digits: RFC 4226 Section 5.3
	// allows 6 to 8 digits in practice (a 31-bit value has at most 10,
	// and apps display at most 8).
	MinDigits = otp.MinDigits
	MaxDigits = otp.MaxDigits
	// DefaultPeriod is RFC 6238 Section 5.2's recommended time step.
	DefaultPeriod = 30 * time.Second
	// MaxPeriod bounds Options.Period. No authenticator uses a step above a
	// few minutes; a day-long code stops being a one-time password.
	MaxPeriod = 24 * time.Hour
	// MaxWindow bounds how many counters or time steps one verification
	// may compare (each costs an HMAC, and each widens an attacker's odds).
	MaxWindow = 101
)

// Options set the parameters of an HOTP or TOTP generator. The zero value
// gives the RFC 6238 defaults that every authenticator app supports: SHA-1,
// 6 digits, a 30 s period from the Unix epoch.
type Options struct {
	Algorithm Algorithm     // SHA1 (default), SHA256 or SHA512
	Digits    int           // 6 (0 means DefaultDigits) to 8
	Period    time.Duration // TOTP only: whole seconds, 1 s to MaxPeriod; 0 means DefaultPeriod
	T0        time.Time     // TOTP only: the epoch of step 0; the zero Time means the Unix epoch
}

func (o Options) resolved(totp bool) (Options, error) {
	if !o.Algorithm.valid() {
		return o, optionsError("unknown algorithm %d", uint8(o.Algorithm))
	}
	if o.Digits == 0 {
		o.Digits = DefaultDigits
	}
	if o.Digits < MinDigits || o.Digits > MaxDigits {
		return o, optionsError("digits %d outside %d to %d", o.Digits, MinDigits, MaxDigits)
	}
	if !totp {
		if o.Period != 0 || !o.T0.IsZero() {
			return o, optionsError("period and T0 apply to TOTP only")
		}
		return o, nil
	}
	if o.Period == 0 {
		o.Period = DefaultPeriod
	}
	if o.Period < time.Second || o.Period > MaxPeriod || o.Period%time.Second != 0 {
		return o, optionsError("period %v is not a whole number of seconds from 1s to %v", o.Period, MaxPeriod)
	}
	if o.T0.IsZero() {
		o.T0 = time.Unix(0, 0)
	}
	return o, nil
}
