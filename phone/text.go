package phone

import "github.com/twofa-go/twofa/internal/enum"

// The enums a settings page shows marshal as their String text, so that
// encoding/json writes "state":"trusted" rather than "state":2, and
// unmarshal only from that text. A value that is none of the constants
// (the zero State, say) does not marshal: its text would name nothing.

// MarshalText returns "pending" or "trusted"; any other value is an
// error.
func (s State) MarshalText() ([]byte, error) {
	return enum.Marshal("phone state", s, Pending, Trusted)
}

// UnmarshalText accepts the text MarshalText returns, and refuses any
// other.
func (s *State) UnmarshalText(text []byte) error {
	return enum.Unmarshal("phone state", s, text, Pending, Trusted)
}

// MarshalText returns "sms" or "voice"; any other value is an error.
func (c Channel) MarshalText() ([]byte, error) {
	return enum.Marshal("channel", c, SMS, Voice)
}

// UnmarshalText accepts the text MarshalText returns, and refuses any
// other.
func (c *Channel) UnmarshalText(text []byte) error {
	return enum.Unmarshal("channel", c, text, SMS, Voice)
}

// MarshalText returns "verify_phone" or "sign_in"; any other value is an
// error.
func (p Purpose) MarshalText() ([]byte, error) {
	return enum.Marshal("challenge purpose", p, PurposeConfirm, PurposeSignIn)
}

// UnmarshalText accepts the text MarshalText returns, and refuses any
// other.
func (p *Purpose) UnmarshalText(text []byte) error {
	return enum.Unmarshal("challenge purpose", p, text, PurposeConfirm, PurposeSignIn)
}
