package twofa_test

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
)

func coreHOTP(t testing.TB, o twofa.Options) *twofa.HOTP {
	t.Helper()
	h, err := twofa.NewHOTP(coreRFCSecret(t), o)
	require.NoError(t, err)
	return h
}

func TestHOTPDefaults(t *testing.T) {
	h := coreHOTP(t, twofa.Options{})
	o := h.Options()
	assert.Equal(t, twofa.SHA1, o.Algorithm)
	assert.Equal(t, 6, o.Digits)
	assert.Zero(t, o.Period)
	assert.True(t, o.T0.IsZero())
	assert.Equal(t, "755224", h.Code(0))
	assert.Equal(t, "twofa.HOTP{SHA1, 6 digits}", h.String())
	assertNoSecret(t, coreRFCSecret(t), fmt.Sprintf("%v %+v %#v %s", h, h, h, h))
}

// TestHOTPTopCounter: the last counter, 2^64-1, has a code, and a window
// that reaches it is clamped there: it never wraps to counter 0.
func TestHOTPTopCounter(t *testing.T) {
	const top = uint64(math.MaxUint64)
	h := coreHOTP(t, twofa.Options{})
	cTop, cBelow, c0, c1 := h.Code(top), h.Code(top-1), h.Code(0), h.Code(1)
	require.Len(t, map[string]bool{cTop: true, cBelow: true, c0: true, c1: true}, 4, "test needs distinct codes")
	require.Equal(t, cTop, string(h.AppendCode(nil, top)))

	for _, la := range []uint{0, 1, 5, 100} {
		got, err := h.Verify(cTop, top, la)
		require.NoError(t, err, "look-ahead %d", la)
		require.Equal(t, top, got)
		// The counters "after" the top would be 0, 1, ... if it wrapped.
		_, err = h.Verify(c0, top, la)
		require.ErrorIs(t, err, twofa.ErrInvalidCode, "look-ahead %d wrapped to 0", la)
		_, err = h.Verify(c1, top, la)
		require.ErrorIs(t, err, twofa.ErrInvalidCode, "look-ahead %d wrapped to 1", la)
		_, err = h.Verify(c0, top-1, la)
		require.ErrorIs(t, err, twofa.ErrInvalidCode, "look-ahead %d wrapped to 0", la)
	}
	for _, start := range []uint64{top - 100, top - 5, top - 1} {
		got, err := h.Verify(cTop, start, 100)
		require.NoError(t, err)
		require.Equal(t, top, got)
	}
	got, err := h.Verify(cBelow, top-1, 1)
	require.NoError(t, err)
	require.Equal(t, top-1, got)
	_, err = h.Verify(cBelow, top, 100)
	require.ErrorIs(t, err, twofa.ErrInvalidCode, "look-ahead never looks back")

	got, err = h.VerifyRange(cTop, top-100, top)
	require.NoError(t, err)
	require.Equal(t, top, got)
	_, err = h.VerifyRange(cTop, top-101, top)
	require.ErrorIs(t, err, twofa.ErrWindowTooLarge)
}

func TestHOTPLookAheadLimits(t *testing.T) {
	h := coreHOTP(t, twofa.Options{})
	code := h.Code(1000)
	for _, la := range []uint{0, 1, twofa.DefaultLookAhead, twofa.MaxWindow - 1} {
		got, err := h.Verify(code, 1000, la)
		require.NoError(t, err, "look-ahead %d", la)
		require.Equal(t, uint64(1000), got)
	}
	got, err := h.Verify(code, 1000-(twofa.MaxWindow-1), twofa.MaxWindow-1)
	require.NoError(t, err)
	require.Equal(t, uint64(1000), got)
	for _, la := range []uint{twofa.MaxWindow, twofa.MaxWindow + 1, 1 << 20, math.MaxUint} {
		_, err := h.Verify(code, 1000, la)
		require.ErrorIs(t, err, twofa.ErrWindowTooLarge, "look-ahead %d", la)
		_, err = h.Verify(code, math.MaxUint64, la)
		require.ErrorIs(t, err, twofa.ErrWindowTooLarge, "look-ahead %d at the top", la)
		_, err = h.Verify("garbage", 0, la)
		require.ErrorIs(t, err, twofa.ErrWindowTooLarge, "look-ahead %d checked first", la)
	}
	_, err = h.Verify(code, 1001, twofa.DefaultLookAhead)
	require.ErrorIs(t, err, twofa.ErrInvalidCode)
	_, err = h.Verify(code, 1000-twofa.DefaultLookAhead-1, twofa.DefaultLookAhead)
	require.ErrorIs(t, err, twofa.ErrInvalidCode)
	_, err = h.VerifyRange(code, 1001, 1000)
	require.ErrorIs(t, err, twofa.ErrWindowTooLarge, "empty range")
}

func TestHOTPEarliestMatch(t *testing.T) {
	h := coreHOTP(t, twofa.Options{})
	a, b := coreFindCollision(t, h.Code, twofa.MaxWindow-1)
	code := h.Code(a)
	got, err := h.Verify(code, a, uint(b-a))
	require.NoError(t, err)
	require.Equal(t, a, got, "the lowest of two matching counters")
	got, err = h.Verify(code, a+1, uint(b-a))
	require.NoError(t, err)
	require.Equal(t, b, got)
	got, err = h.VerifyRange(code, a, b)
	require.NoError(t, err)
	require.Equal(t, a, got)
}

func TestHOTPCodeInput(t *testing.T) {
	for _, digits := range []int{6, 7, 8} {
		h := coreHOTP(t, twofa.Options{Digits: digits})
		code := h.Code(7)
		require.Len(t, code, digits)
		for _, in := range coreAcceptedForms(code) {
			got, err := h.Verify(in, 5, 5)
			require.NoError(t, err, "%d digits: %q", digits, in)
			require.Equal(t, uint64(7), got)
		}
		for name, in := range coreMalformedCodes(code) {
			var got uint64
			var err error
			require.NotPanics(t, func() { got, err = h.Verify(in, 5, 5) }, name)
			require.ErrorIs(t, err, twofa.ErrMalformedCode, "%d digits: %s", digits, name)
			require.NotErrorIs(t, err, twofa.ErrInvalidCode, name)
			require.Zero(t, got)
		}
		_, err := h.Verify(strings.Repeat("9", digits), 1<<40, 0)
		require.ErrorIs(t, err, twofa.ErrInvalidCode)
	}
	// A code of the wrong generator's length is malformed, not invalid.
	h6, h8 := coreHOTP(t, twofa.Options{}), coreHOTP(t, twofa.Options{Digits: 8})
	_, err := h6.Verify(h8.Code(0), 0, 0)
	require.ErrorIs(t, err, twofa.ErrMalformedCode)
	_, err = h8.Verify(h6.Code(0), 0, 0)
	require.ErrorIs(t, err, twofa.ErrMalformedCode)
}

func TestHOTPOptionsInvalid(t *testing.T) {
	s := coreRFCSecret(t)
	for _, c := range coreBadOptions {
		t.Run(c.name, func(t *testing.T) {
			h, err := twofa.NewHOTP(s, c.o)
			require.ErrorIs(t, err, twofa.ErrInvalidOptions)
			require.Nil(t, h)
		})
	}
}

func TestHOTPOptionsValid(t *testing.T) {
	s := coreRFCSecret(t)
	for _, o := range []twofa.Options{
		{}, {Digits: 6}, {Digits: 7}, {Digits: 8},
		{Algorithm: twofa.SHA256}, {Algorithm: twofa.SHA512, Digits: 8},
	} {
		h, err := twofa.NewHOTP(s, o)
		require.NoError(t, err, "%+v", o)
		require.Len(t, h.Code(1), h.Options().Digits)
	}
}

func TestHOTPZeroSecret(t *testing.T) {
	h, err := twofa.NewHOTP(twofa.Secret{}, twofa.Options{})
	require.ErrorIs(t, err, twofa.ErrInvalidSecret)
	require.Nil(t, h)
	// A zero secret wins over bad options: either way nothing is built.
	h, err = twofa.NewHOTP(twofa.Secret{}, twofa.Options{Digits: 5})
	require.Error(t, err)
	require.Nil(t, h)
}

// TestHOTPAppendCode: AppendCode appends and leaves dst's prefix alone.
func TestHOTPAppendCode(t *testing.T) {
	h := coreHOTP(t, twofa.Options{Digits: 8})
	dst := []byte("code: ")
	out := h.AppendCode(dst, 1)
	require.Equal(t, "code: "+h.Code(1), string(out))
	require.Equal(t, "code: ", string(dst))
}

func TestHOTPConcurrent(t *testing.T) {
	h := coreHOTP(t, twofa.Options{Algorithm: twofa.SHA256})
	want := make([]string, 256)
	for i := range want {
		want[i] = h.Code(uint64(i))
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range 2000 {
				c := uint64(i % len(want))
				if !assert.Equal(t, want[c], h.Code(c)) {
					return
				}
				got, err := h.Verify(want[c], c-min(c, 3), 3)
				if !assert.NoError(t, err) || !assert.LessOrEqual(t, got, c) {
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestHOTPAllocs(t *testing.T) {
	if coreRaceEnabled() {
		t.Skip("allocation counts are meaningless under -race")
	}
	h := coreHOTP(t, twofa.Options{})
	code := h.Code(42)
	buf := make([]byte, 0, 8)
	assert.Zero(t, testing.AllocsPerRun(100, func() { buf = h.AppendCode(buf[:0], 42) }), "AppendCode")
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = h.Verify(code, 40, 5) }), "Verify, match")
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = h.Verify("000000", 40, 5) }), "Verify, no match")
}
