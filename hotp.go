package twofa

import (
	"fmt"

	"github.com/twofa-go/twofa/internal/otp"
)

// HOTP generates and verifies counter-based one-time passwords (RFC 4226).
//
// An HOTP is prepared once by NewHOTP and is immutable and safe for
// concurrent use. It holds no counter: the caller (or TwoFA.Verify) keeps the
// counter and stores what Verify returns. AppendCode and Verify allocate
// nothing.
type HOTP struct {
	g    otp.Generator
	opts Options
}

// DefaultLookAhead is the HOTP resynchronisation window TwoFA.Verify uses:
// the RFC 4226 Section 7.4 look-ahead parameter s. A few presses of the
// token's button without logging in are tolerated; more need a resync.
const DefaultLookAhead = 5

// NewHOTP prepares an HOTP generator for secret s. Options.Period and T0
// must be zero; the zero Options give SHA-1 and 6 digits.
func NewHOTP(s Secret, o Options) (*HOTP, error) {
	if s.IsZero() {
		return nil, &SecretError{Reason: ErrSecretTooShort, Offset: -1}
	}
	h := new(HOTP)
	if err := h.init(s.bytes(), o); err != nil {
		return nil, err
	}
	return h, nil
}

// init prepares h in place for key (which the caller validated), as
// NewHOTP does; h must not be in use.
func (h *HOTP) init(key []byte, o Options) error {
	o, err := o.resolved(false)
	if err != nil {
		return err
	}
	h.g.Init(otp.Hash(o.Algorithm), key, o.Digits)
	h.opts = o
	return nil
}

// Options returns the resolved options (defaults filled in).
func (h *HOTP) Options() Options { return h.opts }

// Code returns the code for counter (RFC 4226 Section 5.3).
func (h *HOTP) Code(counter uint64) string {
	var buf [MaxDigits]byte
	return string(h.g.Append(buf[:0], counter))
}

// AppendCode appends the code for counter to dst. It allocates nothing when
// dst has room for the digits.
func (h *HOTP) AppendCode(dst []byte, counter uint64) []byte {
	return h.g.Append(dst, counter)
}

// Verify checks a typed code against counter and the lookAhead counters
// after it (RFC 4226 Section 7.2 and 7.4), and returns the counter that
// matched (the lowest, should two match). The next code to expect is for
// the returned counter plus one; store it, so the code is never accepted
// again. The window stops at 2^64-1 and never wraps.
//
// Codes are read as TOTP.Verify reads them: surrounding white space, and
// spaces and hyphens inside, are ignored; other white space inside is
// malformed.
//
// Errors: ErrMalformedCode, ErrInvalidCode, ErrWindowTooLarge (lookAhead+1
// > MaxWindow). Comparison takes constant time.
func (h *HOTP) Verify(code string, counter uint64, lookAhead uint) (uint64, error) {
	if lookAhead >= MaxWindow {
		return 0, ErrWindowTooLarge
	}
	first, last := window(counter, 0, uint64(lookAhead))
	return h.VerifyRange(code, first, last)
}

// VerifyRange checks a typed code against the counters first to last
// inclusive and returns the lowest that matched. Errors: ErrMalformedCode,
// ErrInvalidCode, ErrWindowTooLarge (first > last, or more than MaxWindow
// counters).
func (h *HOTP) VerifyRange(code string, first, last uint64) (uint64, error) {
	return verifyRange(&h.g, code, first, last)
}

// String describes the generator without its secret.
func (h *HOTP) String() string {
	return fmt.Sprintf("twofa.HOTP{%v, %d digits}", h.opts.Algorithm, h.opts.Digits)
}
