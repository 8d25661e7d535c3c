package phonenumber_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/phone/phonenumber"
	"github.com/twofa-go/twofa/twofatest"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		input, region string
		e164          string
		cc            int
	}{
		{"+1 415 555 0142", "", "+14155550142", 1},
		{"+1 (415) 555-0142", "", "+14155550142", 1},
		{"(415) 555-0142", "US", "+14155550142", 1},
		{"415.555.0142", "us", "+14155550142", 1}, // region case does not matter
		{"tel:+1-415-555-0142", "", "+14155550142", 1},
		{"011 44 20 7946 0958", "US", "+442079460958", 44}, // US international prefix
		{"+49 1512 3456789", "", "+4915123456789", 49},
		{"01512 3456789", "DE", "+4915123456789", 49},
		{"+33 6 12 34 56 78", "", "+33612345678", 33},
		{"06 12 34 56 78", "FR", "+33612345678", 33},
		{"+86 138 1234 5678", "", "+8613812345678", 86},
		{"+683 4002", "", "+6834002", 683},         // Niue: 7 digits in all
		{"＋１ ４１５ ５５５ ０１４２", "", "+14155550142", 1}, // full-width
		{" +1 415 555 0142 ", "", "+14155550142", 1},
		{"+1 800 555 0199", "", "+18005550199", 1}, // toll-free: voice works
	} {
		n, err := phonenumber.Parse(tc.input, tc.region)
		require.NoError(t, err, "%q in %q", tc.input, tc.region)
		assert.Equal(t, phone.Number{E164: tc.e164, CountryCode: tc.cc}, n, "%q", tc.input)
		assert.NoError(t, n.Validate(), "twofa accepts what Parse returns")
	}
}

func TestParseInvalid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		input, region string
		reason        error
	}{
		{"", "", phonenumber.ErrNotANumber},
		{"hello", "US", phonenumber.ErrNotANumber},
		{"4155550142", "", phonenumber.ErrNoCountryCode},
		{"+999 1234 5678", "", phonenumber.ErrInvalidCountryCode},
		{"+1 415 555", "", phonenumber.ErrTooShort},
		{"+1 415 555 01423", "", phonenumber.ErrTooLong},
		{"+1 555 0142", "", phonenumber.ErrTooShort},
		{"+1 123 456 7890", "", phonenumber.ErrNotValid}, // no US area code starts with 1
		{"+1 415 555 0142 ext. 12", "", phonenumber.ErrExtension},
		{"+1 900 555 0142", "", phonenumber.ErrPremiumRate},
		{"+44 909 879 0000", "", phonenumber.ErrPremiumRate},
		{strings.Repeat("1", 300), "US", phonenumber.ErrTooLong},
	} {
		n, err := phonenumber.Parse(tc.input, tc.region)
		assert.Zero(t, n)
		require.ErrorIs(t, err, phone.ErrInvalidNumber, "%q", tc.input)
		assert.ErrorIs(t, err, phone.ErrInvalidNumber, "the same sentinel as twofa's")
		assert.ErrorIs(t, err, tc.reason, "%q: %v", tc.input, err)
		var ne *phonenumber.NumberError
		require.True(t, errors.As(err, &ne))
		assert.Equal(t, tc.reason, ne.Reason)
		assert.Equal(t, "twofa: invalid phone number: "+tc.reason.Error(), err.Error())
	}
}

func TestParseUnknownRegion(t *testing.T) {
	t.Parallel()
	// Only ASCII letters are case-mapped: "u\u017f" (long s) and
	// "\u0131n" (dotless i), which strings.ToUpper makes "US" and "IN",
	// are no regions.
	for _, region := range []string{"XX", "USA", "ZZ", "1", "u\u017f", "U\u017F", "\u0131n", "\u0131N"} {
		_, err := phonenumber.Parse("+1 415 555 0142", region)
		assert.ErrorIs(t, err, phonenumber.ErrUnknownRegion, region)
		assert.NotErrorIs(t, err, phone.ErrInvalidNumber)
	}
}

// TestParsedNumberAdds: what Parse returns, Phones.Add takes; what it
// refuses matches the error Phones.Add gives for a bad number too.
func TestParsedNumberAdds(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	for _, in := range []string{"+683 4002", "+1 415 555 0142", "+49 1512 3456789"} {
		n, err := phonenumber.Parse(in, "")
		require.NoError(t, err)
		_, err = env.Phones.Add(t.Context(), "alice", n)
		assert.NoError(t, err, in)
	}
	_, err := env.Phones.Add(t.Context(), "alice", phone.Number{E164: "415"})
	assert.ErrorIs(t, err, phone.ErrInvalidNumber)
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"+1 415 555 0142", "(415) 555-0142", "+683 4002", "tel:+1-415", "0044 7700 900123", "++", "+\uFF10", ""} {
		f.Add(s, "US")
		f.Add(s, "")
		f.Add(s, "u\u017f")
	}
	f.Fuzz(func(t *testing.T, input, region string) {
		n, err := phonenumber.Parse(input, region)
		if err != nil {
			if !errors.Is(err, phone.ErrInvalidNumber) && !errors.Is(err, phonenumber.ErrUnknownRegion) {
				t.Fatalf("Parse(%q, %q): unexpected error %v", input, region, err)
			}
			if len(input) >= 8 && strings.Contains(err.Error(), input) {
				t.Fatalf("the error repeats the input: %v", err)
			}
			return
		}
		if err := n.Validate(); err != nil {
			t.Fatalf("Parse(%q, %q) = %q, which twofa refuses: %v", input, region, n.E164, err)
		}
		again, err := phonenumber.Parse(n.E164, "")
		if err != nil || again != n {
			t.Fatalf("Parse(%q) = %q, which parses again as %q, %v", input, n.E164, again.E164, err)
		}
	})
}
