package twofa

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// uint32s is a reader that returns the given values, big-endian, then
// fails.
func uint32s(vs ...uint32) io.Reader {
	var b []byte
	for _, v := range vs {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return bytes.NewReader(b)
}

func TestNewChallengeCodeRejects(t *testing.T) {
	t.Parallel()
	require.Equal(t, uint32(4_294_000_000), uint32(codeLimit))
	for _, tc := range []struct {
		draws []uint32
		want  string
	}{
		{[]uint32{0}, "000000"},
		{[]uint32{42}, "000042"},
		{[]uint32{codeLimit - 1}, "999999"},
		{[]uint32{codeLimit, 7}, "000007"},                          // at the limit: drawn again
		{[]uint32{math.MaxUint32, codeLimit + 5, 123456}, "123456"}, // above it too
		{[]uint32{1_000_000*4000 + 654321}, "654321"},
	} {
		got, err := newChallengeCode(uint32s(tc.draws...))
		require.NoError(t, err, "%v", tc.draws)
		assert.Equal(t, tc.want, got, "%v", tc.draws)
	}
	_, err := newChallengeCode(uint32s())
	assert.Error(t, err, "a failing reader")
	stuck := make([]uint32, codeDraws)
	for i := range stuck {
		stuck[i] = math.MaxUint32
	}
	_, err = newChallengeCode(uint32s(append(stuck, 1)...))
	assert.Error(t, err, "a reader stuck above the limit")
}

// upperGamma is the regularised upper incomplete gamma function Q(a, x)
// (Numerical Recipes 6.2: a series below a+1, a continued fraction
// above), for the chi-square tail: P(X² > x) = Q(df/2, x/2).
func upperGamma(a, x float64) float64 {
	lg, _ := math.Lgamma(a)
	if x < a+1 {
		sum, term := 1/a, 1/a
		for n := 1; n < 1000; n++ {
			term *= x / (a + float64(n))
			sum += term
			if term < sum*1e-15 {
				break
			}
		}
		return 1 - sum*math.Exp(-x+a*math.Log(x)-lg)
	}
	const tiny = 1e-300
	b := x + 1 - a
	c, d := 1/tiny, 1/b
	h := d
	for i := 1; i < 1000; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-15 {
			break
		}
	}
	return math.Exp(-x+a*math.Log(x)-lg) * h
}

func TestUpperGamma(t *testing.T) {
	t.Parallel()
	// Chi-square critical values with 9 degrees of freedom (standard
	// tables): P(X² > 16.919) = 0.05, P(X² > 21.666) = 0.01,
	// P(X² > 27.877) = 0.001.
	for _, tc := range []struct{ x, p float64 }{{16.919, 0.05}, {21.666, 0.01}, {27.877, 0.001}, {0, 1}} {
		assert.InDelta(t, tc.p, upperGamma(4.5, tc.x/2), tc.p*1e-3+1e-12, "x = %v", tc.x)
	}
}

// digitChiSquare returns, for each of the ChallengeDigits positions, the
// p-value of a chi-square test (9 degrees of freedom) that the digit is
// uniform over n codes from gen.
func digitChiSquare(t *testing.T, n int, gen func() string) []float64 {
	var counts [ChallengeDigits][10]int
	for range n {
		c := gen()
		require.Len(t, c, ChallengeDigits)
		for i := range ChallengeDigits {
			counts[i][c[i]-'0']++
		}
	}
	ps := make([]float64, ChallengeDigits)
	want := float64(n) / 10
	for i := range counts {
		x := 0.0
		for _, o := range counts[i] {
			x += (float64(o) - want) * (float64(o) - want) / want
		}
		ps[i] = upperGamma(4.5, x/2)
	}
	return ps
}

// TestChallengeCodeUniform: every digit position of 200,000 codes from
// crypto/rand passes a chi-square test at p > 1e-6 - the threshold
// makes a false alarm a one-in-a-million event per position - while a
// draw reduced modulo 10^6 from too few bits, the classic modulo bias,
// fails it.
func TestChallengeCodeUniform(t *testing.T) {
	t.Parallel()
	const n = 200_000
	ps := digitChiSquare(t, n, func() string {
		c, err := newChallengeCode(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
	for i, p := range ps {
		assert.Greater(t, p, 1e-6, "digit %d: chi-square p-value %g", i+1, p)
	}

	// The test has the power to see modulo bias: 20 random bits modulo
	// 10^6 make codes below 048576 twice as likely.
	biased := digitChiSquare(t, n, func() string {
		var b [4]byte
		rand.Read(b[:])
		return formatCode((binary.BigEndian.Uint32(b[:]) >> 12) % codeSpace)
	})
	assert.Less(t, biased[0], 1e-6, "the biased generator's first digit passed: p = %g", biased[0])
}

func TestCanonicalChallengeCode(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"123456": "123456", "123 456": "123456", "12-34-56": "123456", " 123456 ": "123456", "000000": "000000",
	} {
		got, ok := canonicalChallengeCode(in)
		assert.True(t, ok, "%q", in)
		assert.Equal(t, want, got)
	}
	for _, in := range []string{"", "12345", "1234567", "12345a", "１２３４５６", "12345\x00", "123.456", "-----------------------------------123456"} {
		_, ok := canonicalChallengeCode(in)
		assert.False(t, ok, "%q", in)
	}
}

// TestChallengeDigestBinds: one code digests differently for every
// challenge, phone, purpose and account, so a code is good for its own
// challenge only.
func TestChallengeDigestBinds(t *testing.T) {
	t.Parallel()
	kr := phoneTestKeyring(t)
	base := Challenge{ID: "c1", Account: "alice", PhoneID: "p1", Purpose: ChallengeSignIn}
	variants := []Challenge{base, base, base, base}
	variants[0].ID = "c2"
	variants[1].PhoneID = "p2"
	variants[2].Purpose = ChallengeVerifyPhone
	variants[3].Account = "bob"
	d, err := challengeDigest(kr, base, "123456")
	require.NoError(t, err)
	seen := map[string]bool{string(d): true}
	for _, v := range variants {
		dv, err := challengeDigest(kr, v, "123456")
		require.NoError(t, err)
		assert.False(t, seen[string(dv)], "%+v digests like another", v)
		seen[string(dv)] = true
	}
	base.Digest = d
	ok, err := challengeMatches(kr, base, "123456")
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = challengeMatches(kr, base, "123457")
	require.NoError(t, err)
	assert.False(t, ok)
	_, err = challengeDigest(kr, Challenge{ID: "c"}, "123456")
	assert.True(t, errors.Is(err, ErrInvalidBinding), "empty account")
}

func phoneTestKeyring(t *testing.T) *Keyring {
	t.Helper()
	key, digest := make([]byte, KeyringKeySize), make([]byte, KeyringKeySize)
	rand.Read(key)
	rand.Read(digest)
	kr, err := NewKeyring(1, map[KeyID][]byte{1: key}, digest)
	require.NoError(t, err)
	return kr
}

func TestMaskGroups(t *testing.T) {
	t.Parallel()
	for r, want := range map[int][]int{0: nil, 1: {1}, 2: {2}, 3: {3}, 4: {4}, 5: {3, 2}, 6: {3, 3}, 7: {3, 4}, 8: {3, 3, 2}, 10: {3, 3, 4}, 11: {3, 3, 3, 2}} {
		assert.Equal(t, want, maskGroups(r), "%d", r)
	}
}
