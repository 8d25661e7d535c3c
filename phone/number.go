package phone

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
)

// Limits of an E.164 number, as Number.Validate checks them.
const (
	// MaxDigits is the most digits an E.164 number has, country code
	// included (ITU-T E.164 Section 6.1).
	MaxDigits = 15
	// MinDigits is the fewest digits a Number may have, country
	// code included. E.164 sets no minimum; the shortest numbers in
	// service have 7 digits (Niue, +683 and four digits; Tokelau, +690 and
	// four), and Parse accepts them, so 7 it is.
	MinDigits = 7
)

// ErrInvalidNumber is matched by every error about a phone number:
// one that Number.Validate (and so Manager.Add) refuses, and one that
// Parse cannot parse. Such errors never hold the number.
var ErrInvalidNumber = errors.New("twofa: invalid phone number")

// Number is a telephone number in E.164 form, e.g. "+14155550142",
// with its country calling code (1). Parse reads what
// people type into one; a backend that validates numbers another way may
// fill the fields itself.
//
// A phone number is personal data: Number never prints in full.
// String, GoString, every fmt verb and slog show the masked form (see
// Masked); read the E164 field where the full number is needed, as a
// Sender does. encoding/json marshals both fields as they are: the
// number is the backend's data, and a masked copy would lose it.
// (Info and Sent, whose JSON goes to a browser, write it
// masked.)
type Number struct {
	// E164 is '+', the country calling code and the national significant
	// number: MinDigits to MaxDigits digits, no spaces.
	E164 string
	// CountryCode is the country calling code that E164 begins with
	// (1 to 999).
	CountryCode int
}

// Validate checks the number's form, not whether it is assigned: E164 is
// '+' and MinDigits to MaxDigits digits, not starting with 0,
// and begins with CountryCode. The error, which matches
// ErrInvalidNumber, says what is wrong without repeating the number.
func (n Number) Validate() error {
	d, ok := strings.CutPrefix(n.E164, "+")
	if !ok || len(d) < MinDigits || len(d) > MaxDigits || d[0] == '0' || !allDigits(d) {
		return fmt.Errorf("%w: not in E.164 form ('+' and %d to %d digits)", ErrInvalidNumber, MinDigits, MaxDigits)
	}
	if n.CountryCode < 1 || n.CountryCode > 999 {
		return fmt.Errorf("%w: country code %d outside 1 to 999", ErrInvalidNumber, n.CountryCode)
	}
	if !strings.HasPrefix(d, strconv.Itoa(n.CountryCode)) {
		return fmt.Errorf("%w: the number does not begin with its country code %d", ErrInvalidNumber, n.CountryCode)
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// bullet hides one digit of a masked number.
const bullet = "•"

// Masked returns the number with all but its country code and last two
// digits hidden, the national digits grouped in threes and the last four
// together: "+1 ••• ••• ••42" for +14155550142, "+44 ••• ••• ••23" for
// +447700900123. It is what a settings page or a "we sent a code to"
// prompt shows, and all that logs and events ever see. The zero
// Number gives "", a number that Validate refuses "(invalid phone
// number)".
func (n Number) Masked() string {
	if n == (Number{}) {
		return ""
	}
	if n.Validate() != nil {
		return "(invalid phone number)"
	}
	cc := strconv.Itoa(n.CountryCode)
	nsn := n.E164[1+len(cc):] // at least 4 digits: 7 in all, at most 3 of them the country code
	var b strings.Builder
	b.WriteString("+")
	b.WriteString(cc)
	b.WriteString(" ")
	for _, g := range maskGroups(len(nsn) - 4) {
		b.WriteString(strings.Repeat(bullet, g))
		b.WriteString(" ")
	}
	b.WriteString(bullet + bullet)
	b.WriteString(nsn[len(nsn)-2:])
	return b.String()
}

// maskGroups splits r hidden digits into groups of three, a remainder of
// one joining the group before it: 6 → 3 3, 7 → 3 4, 5 → 3 2.
func maskGroups(r int) []int {
	var gs []int
	for ; r >= 3; r -= 3 {
		gs = append(gs, 3)
	}
	switch {
	case r == 1 && len(gs) > 0:
		gs[len(gs)-1]++
	case r > 0:
		gs = append(gs, r)
	}
	return gs
}

// String returns Masked().
func (n Number) String() string { return n.Masked() }

// GoString returns Masked(): %#v does not reveal the number either.
func (n Number) GoString() string { return n.Masked() }

// Format writes Masked() for every verb, so that no fmt verb (%d and %x
// included) prints the digits.
func (n Number) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, n.Masked()) }

// LogValue returns Masked(), for log/slog.
func (n Number) LogValue() slog.Value { return slog.StringValue(n.Masked()) }
