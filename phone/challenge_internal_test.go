package phone

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

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/internal/stats"
	"github.com/twofa-go/twofa/keyring"
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

// digitChiSquare returns, for each of the CodeDigits positions, the
// p-value of a chi-square test (9 degrees of freedom) that the digit is
// uniform over n codes from gen.
func digitChiSquare(t *testing.T, n int, gen func() string) []float64 {
	var counts [CodeDigits][10]int
	for range n {
		c := gen()
		require.Len(t, c, CodeDigits)
		for i := range CodeDigits {
			counts[i][c[i]-'0']++
		}
	}
	ps := make([]float64, CodeDigits)
	for i := range counts {
		ps[i] = stats.ChiSquareP(stats.ChiSquare(counts[i][:]), 9)
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
		require.NoError(t, err)
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
	base := Challenge{ID: "c1", Account: "alice", PhoneID: "p1", Purpose: PurposeSignIn}
	variants := []Challenge{base, base, base, base}
	variants[0].ID = "c2"
	variants[1].PhoneID = "p2"
	variants[2].Purpose = PurposeConfirm
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
	assert.True(t, errors.Is(err, keyring.ErrInvalidBinding), "empty account")
}

func phoneTestKeyring(t *testing.T) twofa.Keyring {
	t.Helper()
	key, digest := make([]byte, keyring.KeySize), make([]byte, keyring.KeySize)
	rand.Read(key)
	rand.Read(digest)
	kr, err := keyring.New(1, map[keyring.KeyID][]byte{1: key}, digest)
	require.NoError(t, err)
	return kr
}

func TestMaskGroups(t *testing.T) {
	t.Parallel()
	for r, want := range map[int][]int{0: nil, 1: {1}, 2: {2}, 3: {3}, 4: {4}, 5: {3, 2}, 6: {3, 3}, 7: {3, 4}, 8: {3, 3, 2}, 10: {3, 3, 4}, 11: {3, 3, 3, 2}} {
		assert.Equal(t, want, maskGroups(r), "%d", r)
	}
}

// TestDigestPurpose pins the label: stored digests depend on it.
func TestDigestPurpose(t *testing.T) {
	require.Equal(t, "oob-challenge", DigestPurpose)
}
