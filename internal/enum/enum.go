// Package enum marshals the uint8 enums of twofa's packages as their
// String text, and unmarshals only from that text: encoding/json then
// writes "state":"trusted" rather than "state":2, and a value that is none
// of the constants (the zero value, say) does not marshal, since its text
// would name nothing.
package enum

import "fmt"

// Enum is a uint8 with names.
type Enum interface {
	~uint8
	String() string
}

// Marshal returns v's String text if v is one of values.
func Marshal[E Enum](kind string, v E, values ...E) ([]byte, error) {
	for _, c := range values {
		if v == c {
			return []byte(v.String()), nil
		}
	}
	return nil, fmt.Errorf("twofa: cannot marshal %s %d: not one of its values", kind, uint8(v))
}

// Unmarshal sets *dst to the one of values whose String text is text, and
// leaves it alone if there is none. Of a long text, the error quotes only
// the beginning.
func Unmarshal[E Enum](kind string, dst *E, text []byte, values ...E) error {
	for _, c := range values {
		if string(text) == c.String() {
			*dst = c
			return nil
		}
	}
	const show = 32
	if len(text) > show {
		return fmt.Errorf("twofa: unknown %s %q (%d bytes)", kind, text[:show], len(text))
	}
	return fmt.Errorf("twofa: unknown %s %q", kind, text)
}
