package twofa_test

// Cross-checks against an independent implementation,
// github.com/pquerna/otp v1.5.0, on random parameters. The generator is a
// seeded PCG: a failure prints its seed, and
//
//	go test -run CrossCheck -crosscheck.seed=N
//
// replays it.

import (
	"flag"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pquerna/otp"
	photp "github.com/pquerna/otp/hotp"
	ptotp "github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
)

var crossSeed = flag.Uint64("crosscheck.seed", 0, "seed of the random cross-checks (0: a new one each run)")

// crossCases is the number of random cases of each cross-check.
const crossCases = 10_000

func crossRand(t *testing.T) *rand.Rand {
	t.Helper()
	seed := *crossSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay: go test -run '^%s$' -crosscheck.seed=%d)", seed, t.Name(), seed)
	t.Cleanup(func() {
		if t.Failed() {
			fmt.Printf("%s failed with -crosscheck.seed=%d\n", t.Name(), seed)
		}
	})
	return rand.New(rand.NewPCG(seed, 0x74776f6661)) // "twofa"
}

var (
	coreAlgorithms  = []twofa.Algorithm{twofa.SHA1, twofa.SHA256, twofa.SHA512}
	crossPAlgorithm = map[twofa.Algorithm]otp.Algorithm{
		twofa.SHA1:   otp.AlgorithmSHA1,
		twofa.SHA256: otp.AlgorithmSHA256,
		twofa.SHA512: otp.AlgorithmSHA512,
	}
)

type crossParams struct {
	secret    twofa.Secret
	alg       twofa.Algorithm
	digits    int
	periodSec uint64
}

func (p crossParams) String() string {
	// The secret is printed on purpose: a failing case must be replayable.
	return fmt.Sprintf("secret=%s alg=%v digits=%d period=%ds", p.secret.Base32(), p.alg, p.digits, p.periodSec)
}

func randParams(t *testing.T, r *rand.Rand) crossParams {
	t.Helper()
	key := make([]byte, 10+r.IntN(64-10+1)) // 10..64 bytes
	for i := range key {
		key[i] = byte(r.Uint32())
	}
	s, err := twofa.SecretFromBytes(key)
	require.NoError(t, err)
	return crossParams{
		secret:    s,
		alg:       coreAlgorithms[r.IntN(len(coreAlgorithms))],
		digits:    6 + r.IntN(3),      // 6..8
		periodSec: 1 + r.Uint64N(300), // 1..300 s
	}
}

// randUnix picks a Unix time from 0 to hi, weighted towards the places
// where arithmetic goes wrong: the 2^31 and 2^32 second boundaries (2038,
// 2106) and period boundaries.
func randUnix(r *rand.Rand, hi int64) int64 {
	var u int64
	switch r.IntN(6) {
	case 0:
		u = r.Int64N(1 << 31) // 1970..2038
	case 1:
		u = 1<<31 + r.Int64N(1<<16) - 1<<15 // around 2038-01-19
	case 2:
		u = 1<<32 + r.Int64N(1<<16) - 1<<15 // around 2106-02-07
	case 3:
		u = r.Int64N(1 << 33) // to 2242
	case 4:
		u = r.Int64N(hi + 1)
	default:
		u = r.Int64N(60) // the first steps
	}
	return min(max(u, 0), hi)
}

// TestCrossCheckTOTP compares TOTP.Code with pquerna's
// totp.GenerateCodeCustom. pquerna computes the step as
// floor(float64(t.Unix()) / float64(period)), exact while the quotient is
// far from float64's 2^53 limit, so the times stay below 2^37 s (year
// 6325); TestStepArithmeticLargeTimes covers the rest of the range.
func TestCrossCheckTOTP(t *testing.T) {
	r := crossRand(t)
	const maxUnix = 1 << 37
	for i := range crossCases {
		p := randParams(t, r)
		tp, err := twofa.NewTOTP(p.secret, twofa.Options{
			Algorithm: p.alg,
			Digits:    p.digits,
			Period:    time.Duration(p.periodSec) * time.Second,
		})
		require.NoError(t, err)
		at := time.Unix(randUnix(r, maxUnix), r.Int64N(1e9))

		got, err := tp.Code(at)
		require.NoError(t, err)
		want, err := ptotp.GenerateCodeCustom(p.secret.Base32(), at, ptotp.ValidateOpts{
			Period:    uint(p.periodSec),
			Digits:    otp.Digits(p.digits),
			Algorithm: crossPAlgorithm[p.alg],
		})
		require.NoError(t, err)
		require.Equal(t, want, got, "case %d: %v t=%d", i, p, at.Unix())

		// And the same code is accepted, at the step pquerna used.
		step, err := tp.Verify(want, at, 0)
		require.NoError(t, err, "case %d: %v t=%d", i, p, at.Unix())
		require.Equal(t, uint64(at.Unix())/p.periodSec, step, "case %d", i)
	}
}

// TestCrossCheckHOTP compares HOTP.Code with pquerna's
// hotp.GenerateCodeCustom over the whole counter range.
func TestCrossCheckHOTP(t *testing.T) {
	r := crossRand(t)
	for i := range crossCases {
		p := randParams(t, r)
		h, err := twofa.NewHOTP(p.secret, twofa.Options{Algorithm: p.alg, Digits: p.digits})
		require.NoError(t, err)
		var counter uint64
		switch r.IntN(4) {
		case 0:
			counter = r.Uint64N(1 << 20)
		case 1:
			counter = math.MaxUint64 - r.Uint64N(1<<10)
		default:
			counter = r.Uint64()
		}
		got := h.Code(counter)
		want, err := photp.GenerateCodeCustom(p.secret.Base32(), counter, photp.ValidateOpts{
			Digits:    otp.Digits(p.digits),
			Algorithm: crossPAlgorithm[p.alg],
		})
		require.NoError(t, err)
		require.Equal(t, want, got, "case %d: %v counter=%d", i, p, counter)
	}
}

// TestStepArithmeticLargeTimes covers the times pquerna cannot: up to 2^62
// s after the epoch and T0 anywhere (negative too). The step is computed
// with math/big, and the code is checked against pquerna's HOTP at that
// step, so the reference owes nothing to our own arithmetic.
func TestStepArithmeticLargeTimes(t *testing.T) {
	r := crossRand(t)
	for i := range crossCases {
		p := randParams(t, r)
		var t0 int64
		switch r.IntN(3) {
		case 0:
			t0 = 0
		case 1:
			t0 = r.Int64N(1<<40) - 1<<39
		default:
			t0 = -r.Int64N(1 << 62) // far before the epoch: the difference overflows int64
		}
		var u int64
		switch r.IntN(3) {
		case 0:
			u = randUnix(r, 1<<62)
		case 1:
			u = t0 + r.Int64N(1<<20) // just after T0
		default:
			u = r.Int64N(1 << 62)
		}
		if u < t0 {
			u = t0
		}
		tp, err := twofa.NewTOTP(p.secret, twofa.Options{
			Algorithm: p.alg,
			Digits:    p.digits,
			Period:    time.Duration(p.periodSec) * time.Second,
			T0:        time.Unix(t0, 0),
		})
		require.NoError(t, err)
		at := time.Unix(u, r.Int64N(1e9))

		d := new(big.Int).Sub(big.NewInt(u), big.NewInt(t0))
		d.Quo(d, new(big.Int).SetUint64(p.periodSec))
		require.True(t, d.IsUint64())
		wantStep := d.Uint64()

		step, err := tp.Step(at)
		require.NoError(t, err)
		require.Equal(t, wantStep, step, "case %d: %v t0=%d t=%d", i, p, t0, u)
		start := tp.StepStart(step)
		require.False(t, at.Before(start), "case %d: step start after t", i)
		require.True(t, at.Before(start.Add(time.Duration(p.periodSec)*time.Second)), "case %d: t past its step", i)

		want, err := photp.GenerateCodeCustom(p.secret.Base32(), wantStep, photp.ValidateOpts{
			Digits:    otp.Digits(p.digits),
			Algorithm: crossPAlgorithm[p.alg],
		})
		require.NoError(t, err)
		got, err := tp.Code(at)
		require.NoError(t, err)
		require.Equal(t, want, got, "case %d: %v t0=%d t=%d", i, p, t0, u)
		require.Equal(t, want, tp.CodeAt(wantStep))
	}
}
