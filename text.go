package twofa

import "github.com/twofa-go/twofa/internal/enum"

// The enums a settings page shows marshal as their String text, so that
// encoding/json writes "state":"confirmed" rather than "state":2, and
// unmarshal only from that text. A value that is none of the constants
// (the zero DeviceState, say) does not marshal: its text would name
// nothing.

// MarshalText returns "pending" or "confirmed"; any other value is an
// error.
func (s DeviceState) MarshalText() ([]byte, error) {
	return enum.Marshal("device state", s, DevicePending, DeviceConfirmed)
}

// UnmarshalText accepts the text MarshalText returns, and refuses any
// other.
func (s *DeviceState) UnmarshalText(text []byte) error {
	return enum.Unmarshal("device state", s, text, DevicePending, DeviceConfirmed)
}

// MarshalText returns "totp" or "hotp"; any other value is an error.
func (t Type) MarshalText() ([]byte, error) { return enum.Marshal("key type", t, TypeTOTP, TypeHOTP) }

// UnmarshalText accepts the text MarshalText returns, and refuses any
// other.
func (t *Type) UnmarshalText(text []byte) error {
	return enum.Unmarshal("key type", t, text, TypeTOTP, TypeHOTP)
}

// MarshalText returns "SHA1", "SHA256" or "SHA512", as otpauth:// URIs
// spell them; any other value is an error.
func (a Algorithm) MarshalText() ([]byte, error) {
	return enum.Marshal("algorithm", a, SHA1, SHA256, SHA512)
}

// UnmarshalText accepts the text MarshalText returns, and refuses any
// other.
func (a *Algorithm) UnmarshalText(text []byte) error {
	return enum.Unmarshal("algorithm", a, text, SHA1, SHA256, SHA512)
}
