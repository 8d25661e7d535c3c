package phone

import "fmt"

// The enums a settings page shows marshal as their String text, so that
// encoding/json writes "state":"trusted" rather than "state":2, and
// unmarshal only from that text. A value that is none of the constants
// (the zero State, say) does not marshal: its text would name nothing.

// MarshalText returns "pending" or "trusted"; any other value is an
// error.
func (s State) MarshalText() ([]byte, error) {
	return marshalEnum("phone state", s, Pending, Trusted)
}

// UnmarshalText accepts the text MarshalText returns, and refuses any
// other.
func (s *State) UnmarshalText(text []byte) error {
	return unmarshalEnum("phone state", s, text, Pending, Trusted)
}

// MarshalText returns "sms" or "voice"; any other value is an error.
func (c Channel) MarshalText() ([]byte, error) {
	return marshalEnum("channel", c, SMS, Voice)
}

// UnmarshalText accepts the text MarshalText returns, and refuses any
// other.
func (c *Channel) UnmarshalText(text []byte) error {
	return unmarshalEnum("channel", c, text, SMS, Voice)
}

// MarshalText returns "verify_phone" or "sign_in"; any other value is an
// error.
func (p Purpose) MarshalText() ([]byte, error) {
	return marshalEnum("challenge purpose", p, PurposeConfirm, PurposeSignIn)
}

// UnmarshalText accepts the text MarshalText returns, and refuses any
// other.
func (p *Purpose) UnmarshalText(text []byte) error {
	return unmarshalEnum("challenge purpose", p, text, PurposeConfirm, PurposeSignIn)
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
