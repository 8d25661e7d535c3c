package twofa

import (
	"errors"
	"fmt"
)

// The errors of twofa, in one place. Every function returns them wrapped
// or as they are; test with errors.Is (and errors.As for the error
// types). None of them ever holds a secret, a code or a password.
var (
	// Errors of TwoFA.Verify.

	// ErrNotEnrolled: the account has no confirmed device (nor a trusted
	// record of an attached Factor, such as package phone's trusted
	// numbers), so there is no second factor to check (two-factor
	// authentication is off).
	ErrNotEnrolled = errors.New("twofa: no second factor enrolled")
	// ErrReplayed: a code that was valid but has been used already, or
	// an older one than the last used (RFC 6238 Section 5.2).
	ErrReplayed = errors.New("twofa: code already used")
	// ErrThrottled is matched by *ThrottledError.
	ErrThrottled = errors.New("twofa: too many failed attempts")

	// Errors about codes. Verification methods return them (possibly wrapped);
	// test with errors.Is.

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

	// ErrInvalidOptions is matched by every error about Options.
	ErrInvalidOptions = errors.New("twofa: invalid options")

	// Errors about secrets. Every error ParseSecret and friends return
	// matches ErrInvalidSecret and, through errors.As, is a *SecretError;
	// its Reason is one of the other sentinels here.
	ErrInvalidSecret  = errors.New("twofa: invalid secret")
	ErrSecretChar     = errors.New("illegal base32 character")
	ErrSecretPadding  = errors.New("bad base32 padding")
	ErrSecretLength   = errors.New("impossible base32 length")
	ErrSecretTooShort = errors.New("secret too short")
	ErrSecretTooLong  = errors.New("secret too long")

	// ErrInvalidURI is matched by every error ParseKeyURI and Key.URI return.
	ErrInvalidURI = errors.New("twofa: invalid otpauth URI")

	// Errors stores return (wrapped or not; test with errors.Is).

	// ErrNotFound: no such record for this account.
	ErrNotFound = errors.New("twofa: not found")
	// ErrLimitReached: an insert refused because the account is at its
	// limit (devices, app passwords, an attached package's records).
	ErrLimitReached = errors.New("twofa: limit reached")
	// ErrDuplicate: an insert refused because a unique field (an id, a
	// label, a digest) is taken.
	ErrDuplicate = errors.New("twofa: duplicate")

	// Errors about identifiers and labels.

	// ErrInvalidAccount: an empty, over-long, non-UTF-8 or control-character
	// account identifier.
	ErrInvalidAccount = errors.New("twofa: invalid account")
	// ErrInvalidLabel: an empty (after trimming), over-long, non-UTF-8 or
	// control-character label.
	ErrInvalidLabel = errors.New("twofa: invalid label")

	// Errors of Devices.

	// ErrEnrollmentExpired: the pending device's time to be confirmed ran
	// out (or its wrong attempts did); enrol again.
	ErrEnrollmentExpired = errors.New("twofa: enrolment expired")
	// ErrAlreadyConfirmed: Confirm on a device that is confirmed already.
	ErrAlreadyConfirmed = errors.New("twofa: device already confirmed")
	// ErrTooManyDevices: the account has Config.Devices.Max devices.
	ErrTooManyDevices = fmt.Errorf("%w: too many devices", ErrLimitReached)

	// Errors of AppPasswords.

	// ErrMalformedAppPassword: the input is not 16 letters (case,
	// surrounding white space, and spaces and hyphens inside aside).
	// Nothing was looked up or counted.
	ErrMalformedAppPassword = errors.New("twofa: malformed app password")
	// ErrInvalidAppPassword: a well-formed password that matches none of
	// the account's active app passwords.
	ErrInvalidAppPassword = errors.New("twofa: invalid app password")
	// ErrTooManyAppPasswords: the account has Config.AppPasswords.Max.
	ErrTooManyAppPasswords = fmt.Errorf("%w: too many app passwords", ErrLimitReached)
	// ErrDuplicateLabel: the account has an active app password with this
	// label.
	ErrDuplicateLabel = fmt.Errorf("%w: label in use", ErrDuplicate)

	// ErrSecretMarshal is returned by Secret's marshalling methods: a secret is
	// never serialised implicitly (it would leak into logs, or vanish from a
	// record that was meant to keep it). Store Base32() or a sealed blob.
	ErrSecretMarshal = errors.New("twofa: a Secret is not marshalled implicitly; use Base32 or a Keyring")

	// ErrQRCode is matched by every error Key.PNG returns when it cannot draw
	// the QR code: a size outside MinPNGSize to MaxPNGSize, a size too small
	// for the key's code, or a URI longer than a QR code holds.
	ErrQRCode = errors.New("twofa: cannot draw QR code")

	// ErrInvalidSealed is matched by every error about a device's sealed
	// secret that the Keyring would not open or reseal: tampered with, sealed
	// for another account or device, under a key the Keyring no longer holds,
	// or malformed. The Keyring's own error is wrapped: with package keyring,
	// errors.As finds a *keyring.SealedError that says which.
	ErrInvalidSealed = errors.New("twofa: invalid sealed blob")

	// ErrConfig is matched by errors about a Config.
	ErrConfig = errors.New("twofa: invalid config")

	// ErrTampered is matched by every error about a stored record whose
	// MAC does not verify under the Keyring (see TamperedError): a bound
	// field changed, the MAC was copied from another record, the record
	// has no MAC (a store from before the MACs, which TwoFA.UpgradeMACs
	// upgrades; or a revoked browser or a closed challenge brought back),
	// or its key was dropped from the Keyring. Through errors.As it is a
	// *TamperedError.
	ErrTampered = errors.New("twofa: stored record failed authentication")
)

func optionsError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...)
}

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
