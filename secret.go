package twofa

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"log/slog"

	"github.com/twofa-go/twofa/internal/b32"
)

// Secret sizes, in bytes.
const (
	// DefaultSecretSize is what NewSecret generates: 160 bits, the length
	// RFC 4226 Section 4 (requirement R6) recommends and the HMAC-SHA-1
	// output size.
	DefaultSecretSize = 20
	// MinGeneratedSecretSize is the least NewSecretSize accepts: 128 bits,
	// the floor RFC 4226 Section 4 (R6) sets for shared secrets.
	MinGeneratedSecretSize = 16
	// MinSecretSize is the least ParseSecret and SecretFromBytes accept:
	// 80 bits, the shortest secret deployed authenticators commonly carry
	// (RFC 4226 Section 4 sets 128 as the minimum for new secrets; older
	// services issued 80-bit ones, which we still import).
	MinSecretSize = 10
	// MaxSecretSize bounds imported secrets: 128 bytes, one SHA-512 block.
	// No authenticator issues more; a longer key would be hashed first
	// (RFC 2104 Section 2) and buys nothing.
	MaxSecretSize = 128
)

// Secret is the shared key of an authenticator. It is immutable and safe
// for concurrent use. The zero Secret is invalid.
//
// A Secret never reveals itself by accident: String, every fmt verb (%#v
// included), slog and JSON or text marshalling show "REDACTED" or refuse;
// gob, which sees no exported field, refuses too. The
// key leaves only through the explicitly named Base32 and Bytes methods.
type Secret struct {
	// A pointer, so that even a struct holding a Secret in an unexported
	// field prints an address under fmt, never the key bytes.
	k *secretKey
}

// secretKey holds the key behind a second pointer. fmt cannot call Format
// on a Secret kept in an unexported struct field, so it prints the field's
// pointer; for a verb that does not suit pointers (%s, %q, %e...) its error
// path then dereferences that pointer once, as at top level. It must find
// only another pointer there, never the key bytes.
type secretKey struct{ *keyBytes }

type keyBytes struct{ b []byte }

// NewSecret returns a new random secret of DefaultSecretSize bytes from
// crypto/rand.
func NewSecret() (Secret, error) { return NewSecretSize(DefaultSecretSize) }

// NewSecretSize returns a new random secret of size bytes from crypto/rand.
// size must lie between MinGeneratedSecretSize and MaxSecretSize.
func NewSecretSize(size int) (Secret, error) {
	if size < MinGeneratedSecretSize {
		return Secret{}, &SecretError{Reason: ErrSecretTooShort, Offset: -1}
	}
	if size > MaxSecretSize {
		return Secret{}, &SecretError{Reason: ErrSecretTooLong, Offset: -1}
	}
	b := make([]byte, size)
	if _, err := rand.Read(b); err != nil {
		return Secret{}, fmt.Errorf("twofa: reading random secret: %w", err)
	}
	return Secret{&secretKey{&keyBytes{b}}}, nil
}

// ParseSecret decodes a base32 secret (RFC 4648 Section 6) as people type
// and services emit it: upper or lower case, with or without "=" padding,
// any byte length. Leading and trailing white space (a pasted secret's
// newline) is ignored; inside, spaces and hyphens may separate symbols
// anywhere, and no other white space may (a tab or a newline inside is
// ErrSecretChar), as for codes. It refuses characters outside the
// alphabet, misplaced or miscounted padding, inputs of more than 1024
// bytes (white space included) and secrets shorter than MinSecretSize or
// longer than MaxSecretSize, with a *SecretError that matches
// ErrInvalidSecret. Its Offset counts from the start of the input as given.
// The error never quotes the input.
func ParseSecret(s string) (Secret, error) {
	b, problem, off := b32.Decode(s)
	switch problem {
	case b32.BadChar:
		return Secret{}, &SecretError{Reason: ErrSecretChar, Offset: off}
	case b32.BadPadding:
		return Secret{}, &SecretError{Reason: ErrSecretPadding, Offset: off}
	case b32.BadLength:
		if len(s) > b32.MaxInput {
			return Secret{}, &SecretError{Reason: ErrSecretTooLong, Offset: -1}
		}
		return Secret{}, &SecretError{Reason: ErrSecretLength, Offset: -1}
	}
	if err := checkSize(len(b)); err != nil {
		clear(b)
		return Secret{}, err
	}
	return Secret{&secretKey{&keyBytes{b}}}, nil
}

// SecretFromBytes returns a Secret holding a copy of b, for secrets kept in
// binary form (a migration from another system, a decrypted blob).
func SecretFromBytes(b []byte) (Secret, error) {
	if err := checkSize(len(b)); err != nil {
		return Secret{}, err
	}
	return Secret{&secretKey{&keyBytes{append([]byte(nil), b...)}}}, nil
}

func checkSize(n int) error {
	if n < MinSecretSize {
		return &SecretError{Reason: ErrSecretTooShort, Offset: -1}
	}
	if n > MaxSecretSize {
		return &SecretError{Reason: ErrSecretTooLong, Offset: -1}
	}
	return nil
}

// IsZero reports whether s is the zero (invalid) Secret.
func (s Secret) IsZero() bool { return s.k == nil }

// Len returns the secret's length in bytes.
func (s Secret) Len() int {
	if s.k == nil {
		return 0
	}
	return len(s.k.b)
}

// Base32 returns the secret in canonical form: RFC 4648 base32, upper case,
// without padding or separators, as otpauth:// URIs carry it. It reveals
// the key: show it only to the user enrolling a device.
func (s Secret) Base32() string {
	if s.k == nil {
		return ""
	}
	return b32.Encode(s.k.b)
}

// Bytes returns a copy of the key. It reveals the key: use it to seal the
// secret, never to log it.
func (s Secret) Bytes() []byte {
	if s.k == nil {
		return nil
	}
	return append([]byte(nil), s.k.b...)
}

func (s Secret) bytes() []byte {
	if s.k == nil {
		return nil
	}
	return s.k.b
}

// Equal reports whether s and o hold the same key, in time that depends only
// on their lengths.
func (s Secret) Equal(o Secret) bool {
	return subtle.ConstantTimeCompare(s.bytes(), o.bytes()) == 1 && s.Len() == o.Len()
}

const redacted = "twofa.Secret(REDACTED)"

// String returns a redacted placeholder, never the key.
func (s Secret) String() string { return redacted }

// Format prints a redacted placeholder for every verb and flag.
func (s Secret) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue makes slog print a redacted placeholder.
func (s Secret) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// MarshalText refuses, so that no encoder writes the key by accident.
func (s Secret) MarshalText() ([]byte, error) { return nil, ErrSecretMarshal }

// MarshalJSON refuses, so that no encoder writes the key by accident.
func (s Secret) MarshalJSON() ([]byte, error) { return nil, ErrSecretMarshal }
