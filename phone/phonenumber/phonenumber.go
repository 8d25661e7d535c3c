// Package phonenumber reads the phone numbers people type into the
// phone.Number (E.164) that package phone keeps, with libphonenumber's
// metadata (github.com/nyaruka/phonenumbers). It is a package of its own
// so that only a program that parses numbers links that metadata: package
// phone, and the stores that keep its records, do not.
package phonenumber

import (
	"errors"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/twofa-go/twofa/phone"
)

// The reasons a number is refused: the Reason of a *NumberError.
var (
	// ErrNotANumber: the input holds no phone number at all (letters,
	// empty, too few digits to be one).
	ErrNotANumber = errors.New("not a phone number")
	// ErrNoCountryCode: the number does not start with '+' and a country
	// calling code, and no default region was given to read it in.
	ErrNoCountryCode = errors.New("no country code: start with + and the country code")
	// ErrInvalidCountryCode: the country calling code is not assigned.
	ErrInvalidCountryCode = errors.New("unknown country code")
	// ErrTooShort: too few digits for a number of its country.
	ErrTooShort = errors.New("too short")
	// ErrTooLong: too many digits for a number of its country (or more
	// than 250 characters of input).
	ErrTooLong = errors.New("too long")
	// ErrNotValid: the digits are not a number in service in its
	// country (not of an assigned range).
	ErrNotValid = errors.New("not a valid number for its country")
	// ErrExtension: the number has an extension, which neither a text nor
	// an automated call can reach.
	ErrExtension = errors.New("has an extension")
	// ErrPremiumRate: a premium-rate number. Codes are never sent to
	// them: an attacker who adds one earns money from every call the
	// service pays for (toll fraud).
	ErrPremiumRate = errors.New("premium-rate number")
)

// ErrUnknownRegion: Parse was given a default region that is not a
// two-letter region code libphonenumber knows (such as "US", "GB",
// "DE"). It is a mistake of the caller, not of the number, and does not
// match phone.ErrInvalidNumber.
var ErrUnknownRegion = errors.New("twofa: phonenumber: unknown region code")

// NumberError says why a number was refused. It never holds the number.
type NumberError struct {
	Reason error // ErrNotANumber, ErrNoCountryCode, ErrInvalidCountryCode, ErrTooShort, ErrTooLong, ErrNotValid, ErrExtension or ErrPremiumRate
}

// Error returns "twofa: invalid phone number: " and the reason.
func (e *NumberError) Error() string { return phone.ErrInvalidNumber.Error() + ": " + e.Reason.Error() }

// Unwrap returns the reason.
func (e *NumberError) Unwrap() error { return e.Reason }

// Is reports whether target is phone.ErrInvalidNumber.
func (e *NumberError) Is(target error) bool { return target == phone.ErrInvalidNumber }

// Parse reads a phone number as people type it - "+1 415-555-0142",
// "(415) 555 0142", "tel:+14155550142", "0044 7700 900123", full-width
// digits - and returns it in E.164 form with its country calling code.
// defaultRegion, a region code such as "US", says which country a number
// without '+' belongs to; empty, numbers must start with '+' and the
// country code. The case of its ASCII letters does not matter, and no
// other character is case-mapped: "uſ" (with U+017F, which Unicode
// upper-cases to S) is no region.
//
// The number must be valid for its country (libphonenumber's
// IsValidNumber: an assigned range of the right length), have no
// extension, and not be premium-rate. Errors: *NumberError, matching
// phone.ErrInvalidNumber (and phone.ErrInvalidNumber), whose Reason says
// why; ErrUnknownRegion. No error repeats the input.
func Parse(input, defaultRegion string) (phone.Number, error) {
	region := asciiUpper(strings.TrimSpace(defaultRegion))
	if region != "" && phonenumbers.GetCountryCodeForRegion(region) == 0 {
		return phone.Number{}, ErrUnknownRegion
	}
	if region == "" {
		region = "ZZ" // libphonenumber's "unknown region": '+' required
	}
	pn, err := phonenumbers.Parse(input, region)
	if err != nil {
		return phone.Number{}, &NumberError{Reason: reason(err, input, region)}
	}
	if pn.GetExtension() != "" {
		return phone.Number{}, &NumberError{Reason: ErrExtension}
	}
	if !phonenumbers.IsValidNumber(pn) {
		return phone.Number{}, &NumberError{Reason: lengthReason(pn)}
	}
	if phonenumbers.GetNumberType(pn) == phonenumbers.PREMIUM_RATE {
		return phone.Number{}, &NumberError{Reason: ErrPremiumRate}
	}
	n := phone.Number{
		E164:        phonenumbers.Format(pn, phonenumbers.E164),
		CountryCode: int(pn.GetCountryCode()),
	}
	if err := n.Validate(); err != nil {
		// libphonenumber accepted what E.164 does not: refuse it rather
		// than hand on a number twofa would refuse.
		return phone.Number{}, &NumberError{Reason: ErrNotValid}
	}
	return n, nil
}

// reason maps a libphonenumber parse error to ours.
func reason(err error, input, region string) error {
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		if region == "ZZ" && !strings.ContainsAny(input, "+\uFF0B") {
			return ErrNoCountryCode
		}
		return ErrInvalidCountryCode
	case errors.Is(err, phonenumbers.ErrTooShortNSN), errors.Is(err, phonenumbers.ErrTooShortAfterIDD):
		return ErrTooShort
	case errors.Is(err, phonenumbers.ErrNumTooLong):
		return ErrTooLong
	}
	return ErrNotANumber
}

// lengthReason says why a parsed number is not valid.
func lengthReason(pn *phonenumbers.PhoneNumber) error {
	switch phonenumbers.IsPossibleNumberWithReason(pn) {
	case phonenumbers.INVALID_COUNTRY_CODE:
		return ErrInvalidCountryCode
	case phonenumbers.TOO_SHORT, phonenumbers.IS_POSSIBLE_LOCAL_ONLY: // local only: the area code is missing
		return ErrTooShort
	case phonenumbers.TOO_LONG:
		return ErrTooLong
	}
	return ErrNotValid
}

// asciiUpper upper-cases the ASCII letters of s and nothing else (unlike
// strings.ToUpper, which maps "ſ" (U+017F) to S and "ı" (U+0131) to I).
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}
