package phone

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa/internal/fuzzseed"
)

// The fuzz target of the reading of a typed out-of-band code, which has
// no exported entry of its own. Its seeds are in the module's
// testdata/fuzz/FuzzChallengeCode, which go test also runs as cases.

func FuzzChallengeCode(f *testing.F) {
	fuzzseed.Add(f, "../testdata/fuzz", "FuzzChallengeCode")
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := canonicalChallengeCode(s)
		if !ok {
			return
		}
		require.Len(t, c, CodeDigits, "%q: canonical form %q", s, c)
		for i := 0; i < len(c); i++ {
			require.True(t, c[i] >= '0' && c[i] <= '9', "%q: canonical form %q", s, c)
		}
		again, ok := canonicalChallengeCode(c)
		require.True(t, ok && again == c, "canonical form %q of %q reads as %q, %v", c, s, again, ok)
	})
}
