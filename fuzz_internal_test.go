package twofa

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa/internal/fuzzseed"
)

// Fuzz targets of the parsers of typed input that have no exported entry
// of their own: recovery codes, app passwords and the
// TwoFA.Verify's reading of a one-time code. Their
// seeds are in testdata/fuzz/<name>, which go test also runs as cases.

func FuzzRecoveryCode(f *testing.F) {
	fuzzseed.Add(f, "testdata/fuzz", "FuzzRecoveryCode")
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := canonicalRecoveryCode(s)
		if !ok {
			require.Empty(t, c, "refused %q but returned %q", s, c)
			return
		}
		require.Len(t, c, recoveryCodeLen, "%q: canonical form %q is not %d symbols", s, c, recoveryCodeLen)
		for i := 0; i < len(c); i++ {
			require.True(t, isRecoverySymbol(c[i]), "%q: canonical form %q holds %q", s, c, c[i])
		}
		again, ok := canonicalRecoveryCode(c)
		require.True(t, ok && again == c, "canonical form %q of %q does not read as itself: %q, %v", c, s, again, ok)
		require.LessOrEqual(t, len(s), 32, "accepted %d bytes", len(s))
	})
}

func FuzzAppPassword(f *testing.F) {
	fuzzseed.Add(f, "testdata/fuzz", "FuzzAppPassword")
	f.Fuzz(func(t *testing.T, s string) {
		letters, ok := normalizeAppPassword(s)
		if !ok {
			return
		}
		for _, c := range letters {
			require.True(t, c >= 'a' && c <= 'z', "%q: normalised to %q", s, letters[:])
		}
		l := string(letters[:])
		shown := l[0:4] + "-" + l[4:8] + "-" + l[8:12] + "-" + l[12:16]
		for _, form := range []string{l, shown, strings.ToUpper(shown), " " + shown + "\n"} {
			again, ok := normalizeAppPassword(form)
			require.True(t, ok && again == letters, "%q (from %q) normalises to %q, %v; want %q", form, s, again[:], ok, l)
		}
	})
}

func FuzzCodeDigits(f *testing.F) {
	fuzzseed.Add(f, "testdata/fuzz", "FuzzCodeDigits")
	f.Fuzz(func(t *testing.T, s string) {
		n := codeDigits(s)
		if n == 0 {
			return
		}
		require.True(t, n >= MinDigits && n <= MaxDigits, "%q: %d digits", s, n)
		got := strings.Count(strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return 'd'
			}
			return -1
		}, s), "d")
		require.Equal(t, n, got, "%q: codeDigits %d, but it holds %d digits", s, n, got)
	})
}
