package phonenumber_test

import (
	"errors"
	"fmt"

	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/phone/phonenumber"
)

func ExampleParse() {
	for _, typed := range []string{"(415) 555-0142", "+44 7911 123456", "555-0142", "+1 900 555 0142"} {
		n, err := phonenumber.Parse(typed, "US")
		var ne *phonenumber.NumberError
		switch {
		case errors.Is(err, phone.ErrInvalidNumber) && errors.As(err, &ne):
			// Ask again, saying why; the reason never repeats the
			// number.
			fmt.Println("invalid:", ne.Reason)
		case err != nil:
			fmt.Println(err)
		default:
			fmt.Println(n.E164, n.CountryCode, n) // n prints masked
		}
	}
	// Output:
	// +14155550142 1 +1 ••• ••• ••42
	// +447911123456 44 +44 ••• ••• ••56
	// invalid: too short
	// invalid: premium-rate number
}
