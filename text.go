package twofa

import "fmt"

// The enums a settings page shows marshal as their String text, so that
// encoding/json writes "state":"confirmed" rather than "state":2, and
// unmarshal only from that text. A value that is none of the constants
// (the zero DeviceState, say) does not marshal: its text would name
// nothing.

// MarshalText returns "pending" or "confirmed"; any other value is an
// error.
func (s DeviceState) MarshalText() ([]byte, error) {
	return marshalEnum("device state", s, DevicePending, DeviceConfirmed)
}

// UnmarshalText accepts the text MarshalText returns, and refuses any
// other.
func (s *DeviceState) UnmarshalText(text []byte) error {
	return unmarshalEnum("device state", s, text, DevicePending, DeviceConfirmed)
}

// MarshalText returns "totp" or "hotp"; any other value is an error.
func (t Type) MarshalText() ([]byte, error) { return marshalEnum("key type", t, TypeTOTP, TypeHOTP) }

// UnmarshalText accepts the text MarshalText returns, and refuses any
// other.
func (t *Type) UnmarshalText(text []byte) error {
	return unmarshalEnum("key type", t, text, TypeTOTP, TypeHOTP)
}

// MarshalText returns "SHA1", "SHA256" or "SHA512", as otpauth:// URIs
// spell them; any other value is an error.
func (a Algorithm) MarshalText() ([]byte, error) {
	return marshalEnum("algorithm", a, SHA1, SHA256, SHA512)
}

// UnmarshalText accepts the text MarshalText returns, and refuses any
// other.
func (a *Algorithm) UnmarshalText(text []byte) error {
	return unmarshalEnum("algorithm", a, text, SHA1, SHA256, SHA512)
}

// enum is a uint8 with names.
type enum interface {
	~uint8
	String() string
}

// marshalEnum returns v's String text if v is one of values.
func marshalEnum[E enum](kind string, v E, values ...E) ([]byte, error) {
	for _, c := range values {
		if v == c {
			return []byte(v.String()), nil
		}
	}
	return nil, fmt.Errorf("twofa: cannot marshal %s %d: not one of its values", kind, uint8(v))
}

// unmarshalEnum sets *dst to the one of values whose String text is text,
// and leaves it alone if there is none.
func unmarshalEnum[E enum](kind string, dst *E, text []byte, values ...E) error {
	for _, c := range values {
		if string(text) == c.String() {
			*dst = c
			return nil
		}
	}
	const show = 32 // of a long text, quote only the beginning
	if len(text) > show {
		return fmt.Errorf("twofa: unknown %s %q (%d bytes)", kind, text[:show], len(text))
	}
	return fmt.Errorf("twofa: unknown %s %q", kind, text)
}
