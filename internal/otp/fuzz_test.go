package otp

import (
	"strings"
	"testing"

	"github.com/twofa-go/twofa/internal/fuzzseed"
)

// The seed corpus of FuzzParseCode is kept with the module's other fuzz
// seeds, in ../../testdata/fuzz/FuzzParseCode ("go test fuzz v1" files), and
// added explicitly: a missing or empty directory fails the test rather than
// fuzzing nothing. (Inputs that `go test -fuzz` finds failing are written to
// this package's testdata/fuzz/FuzzParseCode; move them to the shared
// directory.)
const seedDir = "../../testdata/fuzz"

func addSeeds(f *testing.F, name string) {
	f.Helper()
	fuzzseed.Add(f, seedDir, name)
}

// FuzzParseCode checks ParseCode against a plain oracle: a code is accepted
// exactly when it is at most MaxCodeInput bytes that, without leading and
// trailing white space, are ASCII digits, spaces and hyphens with the right
// number of digits, and its value is those digits.
func FuzzParseCode(f *testing.F) {
	addSeeds(f, "FuzzParseCode")
	f.Fuzz(func(t *testing.T, code string) {
		for d := MinDigits; d <= MaxDigits; d++ {
			v, ok := ParseCode(code, d)

			digits := strings.Map(func(r rune) rune {
				if r == ' ' || r == '-' {
					return -1
				}
				return r
			}, strings.TrimSpace(code))
			want := len(code) <= MaxCodeInput && len(digits) == d && strings.Trim(digits, "0123456789") == ""
			if ok != want {
				t.Fatalf("ParseCode(%q, %d) ok = %v, want %v", code, d, ok, want)
			}
			if !ok {
				if v != 0 {
					t.Fatalf("ParseCode(%q, %d) = %d on failure", code, d, v)
				}
				continue
			}
			if v >= pow10[d] {
				t.Fatalf("ParseCode(%q, %d) = %d, more than %d digits", code, d, v, d)
			}
			if got := string(AppendDigits(nil, v, d)); got != digits {
				t.Fatalf("ParseCode(%q, %d) = %d, formats as %q, want %q", code, d, v, got, digits)
			}
		}
	})
}
