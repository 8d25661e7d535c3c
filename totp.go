package twofa

import (
	"fmt"
	"time"

	"github.com/twofa-go/twofa/internal/otp"
)

// TOTP generates and verifies time-based one-time passwords (RFC 6238).
//
// A TOTP is prepared once by NewTOTP (the HMAC key schedule is computed
// then) and is immutable and safe for concurrent use. Code and Verify cost
// two hash compressions per time step; AppendCode and Verify allocate
// nothing.
type TOTP struct {
	g      otp.Generator
	opts   Options
	period uint64 // seconds
	t0     int64  // Unix seconds
}

// NewTOTP prepares a TOTP generator for secret s. The zero Options give the
// RFC 6238 defaults (SHA-1, 6 digits, 30 s steps from the Unix epoch).
func NewTOTP(s Secret, o Options) (*TOTP, error) {
	if s.IsZero() {
		return nil, &SecretError{Reason: ErrSecretTooShort, Offset: -1}
	}
	t := new(TOTP)
	if err := t.init(s.bytes(), o); err != nil {
		return nil, err
	}
	return t, nil
}

// init prepares t in place for key (which the caller validated), as
// NewTOTP does; t must not be in use.
func (t *TOTP) init(key []byte, o Options) error {
	o, err := o.resolved(true)
	if err != nil {
		return err
	}
	t.g.Init(otp.Hash(o.Algorithm), key, o.Digits)
	t.opts = o
	t.period = uint64(o.Period / time.Second)
	t.t0 = o.T0.Unix()
	return nil
}

// Options returns the resolved options (defaults filled in).
func (t *TOTP) Options() Options { return t.opts }

// Step returns the time step that contains at: floor((at - T0) / period),
// RFC 6238 Section 4.2. Sub-second parts of at are ignored. A time before
// T0 is ErrBeforeT0. Times past 2038 and 2106 are exact.
func (t *TOTP) Step(at time.Time) (uint64, error) {
	u := at.Unix()
	if u < t.t0 {
		return 0, ErrBeforeT0
	}
	// u >= t0, so the true difference fits in a uint64 even where u - t0
	// would overflow an int64.
	return (uint64(u) - uint64(t.t0)) / t.period, nil
}

// StepStart returns the time step's first second.
func (t *TOTP) StepStart(step uint64) time.Time {
	return time.Unix(t.t0+int64(step*t.period), 0)
}

// Code returns the code for the time step that contains at.
func (t *TOTP) Code(at time.Time) (string, error) {
	var buf [MaxDigits]byte
	b, err := t.AppendCode(buf[:0], at)
	return string(b), err
}

// AppendCode appends the code for at to dst. It allocates nothing when dst
// has room for the digits.
func (t *TOTP) AppendCode(dst []byte, at time.Time) ([]byte, error) {
	step, err := t.Step(at)
	if err != nil {
		return dst, err
	}
	return t.g.Append(dst, step), nil
}

// CodeAt returns the code for a time step.
func (t *TOTP) CodeAt(step uint64) string {
	var buf [MaxDigits]byte
	return string(t.g.Append(buf[:0], step))
}

// Verify checks a typed code against the steps from skew before to skew
// after the one that contains at, nearest first, and returns the step that
// matched. Store it: a later code for a step at or below it is a replay
// (RFC 6238 Section 5.2). skew 1 is RFC 6238's recommended network-delay
// allowance.
//
// A code is read as people type and paste it: leading and trailing white
// space is ignored ("123456\n"), and so are spaces and hyphens anywhere
// inside ("123 456", "123-456"); any other character but ASCII digits (a
// tab or a newline inside) makes it malformed, and so does an input longer
// than 32 bytes, white space included.
//
// Errors: ErrMalformedCode (not a code of this length), ErrInvalidCode,
// ErrBeforeT0, ErrWindowTooLarge (2*skew+1 > MaxWindow). Each comparison
// takes constant time, and a code that fails costs the whole window
// whatever its value; a match returns at once. Verify allocates nothing.
func (t *TOTP) Verify(code string, at time.Time, skew uint) (uint64, error) {
	if skew > (MaxWindow-1)/2 {
		return 0, ErrWindowTooLarge
	}
	step, err := t.Step(at)
	if err != nil {
		return 0, err
	}
	v, ok := otp.ParseCode(code, t.opts.Digits)
	if !ok {
		return 0, ErrMalformedCode
	}
	first, last := window(step, uint64(skew), uint64(skew))
	m, ok := t.g.MatchNearest(v, step, first, last)
	if !ok {
		return 0, ErrInvalidCode
	}
	return m, nil
}

// VerifyRange checks a typed code against the time steps first to last
// inclusive and returns the earliest that matched (a failure costs the
// whole range). It is the building block
// for callers that centre the window on a measured clock drift or exclude
// steps already used. Errors: ErrMalformedCode, ErrInvalidCode,
// ErrWindowTooLarge (first > last, or more than MaxWindow steps).
func (t *TOTP) VerifyRange(code string, first, last uint64) (uint64, error) {
	return verifyRange(&t.g, code, first, last)
}

// String describes the generator without its secret.
func (t *TOTP) String() string {
	return fmt.Sprintf("twofa.TOTP{%v, %d digits, %v}", t.opts.Algorithm, t.opts.Digits, t.opts.Period)
}

// window returns [c-before, c+after], clamped to the uint64 range so that
// step 0 never underflows and the last counter never wraps.
func window(c, before, after uint64) (uint64, uint64) {
	first := uint64(0)
	if c > before {
		first = c - before
	}
	last := ^uint64(0)
	if ^uint64(0)-c > after {
		last = c + after
	}
	return first, last
}

// verifyNearest is VerifyRange searching from centre outwards (centre is
// clamped into [first, last]): TwoFA.Verify's search, where the expected
// step is the likeliest, so an accepted code usually costs one HMAC. It
// returns the matching step nearest centre.
func (t *TOTP) verifyNearest(code string, centre, first, last uint64) (uint64, error) {
	if first > last || last-first >= MaxWindow {
		return 0, ErrWindowTooLarge
	}
	v, ok := otp.ParseCode(code, t.opts.Digits)
	if !ok {
		return 0, ErrMalformedCode
	}
	c, ok := t.g.MatchNearest(v, min(max(centre, first), last), first, last)
	if !ok {
		return 0, ErrInvalidCode
	}
	return c, nil
}

func verifyRange(g *otp.Generator, code string, first, last uint64) (uint64, error) {
	if first > last || last-first >= MaxWindow {
		return 0, ErrWindowTooLarge
	}
	v, ok := otp.ParseCode(code, g.Digits())
	if !ok {
		return 0, ErrMalformedCode
	}
	c, ok := g.Match(v, first, last)
	if !ok {
		return 0, ErrInvalidCode
	}
	return c, nil
}
