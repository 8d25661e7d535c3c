package twofa

import (
	"errors"
	"fmt"
)

// Errors about codes. Verification methods return them (possibly wrapped);
// test with errors.Is.
var (
	// ErrMalformedCode: the input is not a code at all (letters, wrong
	// length, empty, too long). Nothing was compared.
	ErrMalformedCode = errors.New("twofa: malformed code")
	// ErrInvalidCode: a well-formed code that does not match.
	ErrInvalidCode = errors.New("twofa: invalid code")
	// ErrBeforeT0: the time lies before the TOTP epoch T0, where no
	// time step exists (RFC 6238 Section 4.2).
	ErrBeforeT0 = errors.New("twofa: time before T0")
	// ErrWindowTooLarge: a verification window larger than MaxWindow.
	ErrWindowTooLarge = errors.New("twofa: verification window too large")
)

// ErrInvalidOptions is matched by every error about Options.
var ErrInvalidOptions = errors.New("twofa: invalid options")

func optionsError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...)
}

// Errors about secrets. Every error ParseSecret and friends return matches
// ErrInvalidSecret and, through errors.As, is a *SecretError; its Reason is
// one of the other sentinels here.
var (
	ErrInvalidSecret  = errors.New("twofa: invalid secret")
	ErrSecretChar     = errors.New("illegal base32 character")
	ErrSecretPadding  = errors.New("bad base32 padding")
	ErrSecretLength   = errors.New("impossible base32 length")
	ErrSecretTooShort = errors.New("secret too short")
	ErrSecretTooLong  = errors.New("secret too long")
)

// SecretError describes why a secret was refused. It never holds the secret.
type SecretError struct {
	Reason error // ErrSecretChar, ErrSecretPadding, ErrSecretLength, ErrSecretTooShort or ErrSecretTooLong
	Offset int   // byte offset in the input, or -1 when the whole input is at fault
}

func (e *SecretError) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("twofa: invalid secret: %v at offset %d", e.Reason, e.Offset)
	}
	return "twofa: invalid secret: " + e.Reason.Error()
}

// Unwrap returns the reason.
func (e *SecretError) Unwrap() error { return e.Reason }

// Is reports whether target is ErrInvalidSecret.
func (e *SecretError) Is(target error) bool { return target == ErrInvalidSecret }

// ErrInvalidURI is matched by every error ParseKeyURI and Key.URI return.
var ErrInvalidURI = errors.New("twofa: invalid otpauth URI")

// URIError names the part of an otpauth:// URI that is wrong: "uri",
// "scheme", "type", "label", "issuer", "account", "secret", "algorithm",
// "digits", "period", "counter" or "encoder". It never holds the secret.
type URIError struct {
	Part string
	Err  error
}

func (e *URIError) Error() string {
	return fmt.Sprintf("twofa: invalid otpauth URI: %s: %v", e.Part, e.Err)
}

// Unwrap returns the underlying problem.
func (e *URIError) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalidURI.
func (e *URIError) Is(target error) bool { return target == ErrInvalidURI }
