package twofa_test

import (
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	ptotp "github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
)

// coreRFCSecret is the RFC 4226 / RFC 6238 SHA-1 test secret,
// "12345678901234567890". Test data only: never hard-code a real secret.
func coreRFCSecret(t testing.TB) twofa.Secret {
	t.Helper()
	s, err := twofa.SecretFromBytes([]byte("12345678901234567890"))
	require.NoError(t, err)
	return s
}

func coreTOTP(t testing.TB, o twofa.Options) *twofa.TOTP {
	t.Helper()
	tp, err := twofa.NewTOTP(coreRFCSecret(t), o)
	require.NoError(t, err)
	return tp
}

// Fixed times for TOTP windows (as x/time's rate_test does): no test reads
// the clock.
var (
	tEpoch   = time.Unix(0, 0)
	t2038m1  = time.Unix(math.MaxInt32, 0)   // 2038-01-19 03:14:07, the last signed 32-bit second
	t2038    = time.Unix(math.MaxInt32+1, 0) // 2^31
	t2106m1  = time.Unix(math.MaxUint32, 0)  // 2106-02-07 06:28:15, the last unsigned 32-bit second
	t2106    = time.Unix(math.MaxUint32+1, 0)
	t2262    = time.Unix(math.MaxInt64/1_000_000_000+1, 0) // past UnixNano's range
	t9999    = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	tFarAway = time.Unix(1<<62, 0)
)

func TestTOTPDefaults(t *testing.T) {
	tp := coreTOTP(t, twofa.Options{})
	o := tp.Options()
	assert.Equal(t, twofa.SHA1, o.Algorithm)
	assert.Equal(t, 6, o.Digits)
	assert.Equal(t, 30*time.Second, o.Period)
	assert.True(t, o.T0.Equal(tEpoch), "T0 %v", o.T0)
	// RFC 4226 Appendix D, counter 1 = RFC 6238 step 1 (t=30..59).
	code, err := tp.Code(time.Unix(59, 0))
	require.NoError(t, err)
	assert.Equal(t, "287082", code)
}

// TestTOTPBeyond2038And2106 checks times past 2^31 and 2^32 seconds against
// exact step arithmetic and against pquerna/otp (which handles them).
func TestTOTPBeyond2038And2106(t *testing.T) {
	for _, alg := range coreAlgorithms {
		for _, period := range []uint64{1, 30, 60, 86400} {
			tp := coreTOTP(t, twofa.Options{Algorithm: alg, Digits: 8, Period: time.Duration(period) * time.Second})
			for _, at := range []time.Time{tEpoch, t2038m1, t2038, t2106m1, t2106, t2262, t9999, tFarAway} {
				u := uint64(at.Unix())
				step, err := tp.Step(at)
				require.NoError(t, err)
				require.Equal(t, u/period, step, "%v period %d t=%d", alg, period, u)
				got, err := tp.Code(at)
				require.NoError(t, err)
				require.Equal(t, tp.CodeAt(u/period), got)
				if at.Unix() < 1<<37 { // pquerna's float64 step arithmetic is exact here
					want, err := ptotp.GenerateCodeCustom(coreRFCSecret(t).Base32(), at, ptotp.ValidateOpts{
						Period: uint(period), Digits: otp.DigitsEight, Algorithm: crossPAlgorithm[alg],
					})
					require.NoError(t, err)
					require.Equal(t, want, got, "%v period %d t=%d", alg, period, u)
				}
				s, err := tp.Verify(got, at, 0)
				require.NoError(t, err)
				require.Equal(t, u/period, s)
			}
		}
	}
	// The 2038 and 2106 boundaries fall inside 30 s steps, which must not
	// split: the seconds on both sides share the step and the code.
	tp := coreTOTP(t, twofa.Options{})
	for _, b := range []int64{1 << 31, 1 << 32} {
		s1, err := tp.Step(time.Unix(b-1, 0))
		require.NoError(t, err)
		s2, err := tp.Step(time.Unix(b, 0))
		require.NoError(t, err)
		require.Equal(t, uint64(b-1)/30, s1)
		require.Equal(t, uint64(b)/30, s2)
	}
}

func TestTOTPBeforeT0(t *testing.T) {
	cases := []struct {
		name   string
		t0     time.Time
		before []time.Time
		first  time.Time // the first second of step 0
	}{
		{
			name:   "default T0",
			before: []time.Time{time.Unix(-1, 0), time.Unix(-1, 999_999_999), time.Unix(-1<<40, 0), {}, time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC)},
			first:  tEpoch,
		},
		{
			name:   "custom T0",
			t0:     time.Unix(1_700_000_000, 0),
			before: []time.Time{time.Unix(1_699_999_999, 0), time.Unix(1_699_999_999, 999_999_999), tEpoch, time.Unix(-1, 0)},
			first:  time.Unix(1_700_000_000, 0),
		},
		{
			name:   "T0 before the epoch",
			t0:     time.Unix(-1_000_000, 0),
			before: []time.Time{time.Unix(-1_000_001, 0), time.Unix(math.MinInt64/2, 0)},
			first:  time.Unix(-1_000_000, 0),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tp := coreTOTP(t, twofa.Options{T0: c.t0})
			code0 := tp.CodeAt(0)
			for _, at := range c.before {
				_, err := tp.Step(at)
				assert.ErrorIs(t, err, twofa.ErrBeforeT0, "Step(%v)", at)
				code, err := tp.Code(at)
				assert.ErrorIs(t, err, twofa.ErrBeforeT0, "Code(%v)", at)
				assert.Empty(t, code)
				b, err := tp.AppendCode([]byte("x"), at)
				assert.ErrorIs(t, err, twofa.ErrBeforeT0, "AppendCode(%v)", at)
				assert.Equal(t, "x", string(b), "AppendCode must leave dst alone on error")
				for _, skew := range []uint{0, 1, 50} {
					_, err = tp.Verify(code0, at, skew)
					assert.ErrorIs(t, err, twofa.ErrBeforeT0, "Verify(%v, skew %d)", at, skew)
				}
			}
			// T0 itself is step 0, and so is T0 + period - 1 ns.
			for _, at := range []time.Time{c.first, c.first.Add(29*time.Second + 999*time.Millisecond)} {
				s, err := tp.Step(at)
				require.NoError(t, err)
				require.Equal(t, uint64(0), s)
				code, err := tp.Code(at)
				require.NoError(t, err)
				require.Equal(t, code0, code)
			}
			s, err := tp.Step(c.first.Add(30 * time.Second))
			require.NoError(t, err)
			require.Equal(t, uint64(1), s)
			require.True(t, tp.StepStart(0).Equal(c.first))
		})
	}
}

// TestTOTPStepZeroSkew: at step 0 a skew of 1 covers steps 0 and 1 only;
// the window must not underflow to step 2^64-1.
func TestTOTPStepZeroSkew(t *testing.T) {
	tp := coreTOTP(t, twofa.Options{})
	c0, c1, c2, cMax := tp.CodeAt(0), tp.CodeAt(1), tp.CodeAt(2), tp.CodeAt(math.MaxUint64)
	require.Len(t, map[string]bool{c0: true, c1: true, c2: true, cMax: true}, 4, "test needs distinct codes")
	for _, at := range []time.Time{tEpoch, time.Unix(29, 999_999_999)} {
		s, err := tp.Verify(c0, at, 1)
		require.NoError(t, err)
		require.Equal(t, uint64(0), s)
		s, err = tp.Verify(c1, at, 1)
		require.NoError(t, err)
		require.Equal(t, uint64(1), s)
		_, err = tp.Verify(c2, at, 1)
		require.ErrorIs(t, err, twofa.ErrInvalidCode)
		_, err = tp.Verify(cMax, at, 1)
		require.ErrorIs(t, err, twofa.ErrInvalidCode, "step 0 - 1 wrapped to 2^64-1")
		_, err = tp.Verify(cMax, at, 50)
		require.ErrorIs(t, err, twofa.ErrInvalidCode, "step 0 - 50 wrapped")
	}
}

// TestTOTPTopStep: with T0 at the least int64 second and t at the greatest,
// the step is 2^64-1; the window's end is clamped and does not wrap to 0.
func TestTOTPTopStep(t *testing.T) {
	tp := coreTOTP(t, twofa.Options{Period: time.Second, T0: time.Unix(math.MinInt64, 0)})
	at := time.Unix(math.MaxInt64, 0)
	s, err := tp.Step(at)
	require.NoError(t, err)
	require.Equal(t, uint64(math.MaxUint64), s)
	require.True(t, tp.StepStart(s).Equal(at))
	top, below, zero := tp.CodeAt(math.MaxUint64), tp.CodeAt(math.MaxUint64-1), tp.CodeAt(0)
	require.Len(t, map[string]bool{top: true, below: true, zero: true}, 3, "test needs distinct codes")
	got, err := tp.Verify(top, at, 1)
	require.NoError(t, err)
	require.Equal(t, uint64(math.MaxUint64), got)
	got, err = tp.Verify(below, at, 1)
	require.NoError(t, err)
	require.Equal(t, uint64(math.MaxUint64-1), got)
	_, err = tp.Verify(zero, at, 1)
	require.ErrorIs(t, err, twofa.ErrInvalidCode, "step 2^64-1 + 1 wrapped to 0")
	_, err = tp.Verify(zero, at, 50)
	require.ErrorIs(t, err, twofa.ErrInvalidCode)
}

func TestTOTPWindowLimits(t *testing.T) {
	tp := coreTOTP(t, twofa.Options{})
	at := time.Unix(1_000_000_000, 0)
	code, err := tp.Code(at)
	require.NoError(t, err)
	maxSkew := uint((twofa.MaxWindow - 1) / 2)
	for _, skew := range []uint{0, 1, 2, maxSkew} {
		_, err := tp.Verify(code, at, skew)
		assert.NoError(t, err, "skew %d", skew)
	}
	for _, skew := range []uint{maxSkew + 1, 1000, math.MaxUint} {
		_, err := tp.Verify(code, at, skew)
		assert.ErrorIs(t, err, twofa.ErrWindowTooLarge, "skew %d", skew)
		// The window is checked before the code or the time.
		_, err = tp.Verify("garbage", time.Unix(-1, 0), skew)
		assert.ErrorIs(t, err, twofa.ErrWindowTooLarge, "skew %d", skew)
	}
	step, err := tp.Step(at)
	require.NoError(t, err)
	for _, r := range []struct {
		first, last uint64
		err         error
	}{
		{step, step, nil},
		{step - 100, step, nil},
		{step, step + 100, nil},
		{step - 101, step, twofa.ErrWindowTooLarge},
		{step, step + 101, twofa.ErrWindowTooLarge},
		{step + 1, step, twofa.ErrWindowTooLarge}, // empty
		{0, math.MaxUint64, twofa.ErrWindowTooLarge},
		{math.MaxUint64 - 100, math.MaxUint64, twofa.ErrInvalidCode},
		{0, 100, twofa.ErrInvalidCode},
	} {
		s, err := tp.VerifyRange(code, r.first, r.last)
		if r.err == nil {
			require.NoError(t, err, "[%d, %d]", r.first, r.last)
			require.Equal(t, step, s)
		} else {
			require.ErrorIs(t, err, r.err, "[%d, %d]", r.first, r.last)
		}
	}
}

// TestTOTPEarliestMatch: when two steps of a window share a code,
// VerifyRange returns the earlier one and Verify the one nearest to the
// given time (the later one on a tie).
func TestTOTPEarliestMatch(t *testing.T) {
	tp := coreTOTP(t, twofa.Options{})
	a, b := coreFindCollision(t, tp.CodeAt, 50)
	code := tp.CodeAt(a)
	s, err := tp.VerifyRange(code, a, b)
	require.NoError(t, err)
	require.Equal(t, a, s)
	s, err = tp.VerifyRange(code, a-min(a, 100-(b-a)), b)
	require.NoError(t, err)
	require.Equal(t, a, s)
	s, err = tp.VerifyRange(code, a+1, b)
	require.NoError(t, err)
	require.Equal(t, b, s)
	mid := a + (b-a)/2
	s, err = tp.Verify(code, tp.StepStart(mid), uint(b-a))
	require.NoError(t, err)
	if (b-a)%2 == 0 {
		require.Equal(t, b, s, "a tie goes to the later step")
	} else {
		require.Equal(t, a, s, "the nearer step")
	}
	s, err = tp.Verify(code, tp.StepStart(a+1), uint(b-a))
	require.NoError(t, err)
	require.Equal(t, a, s, "the nearer step")
	s, err = tp.Verify(code, tp.StepStart(b-1), uint(b-a))
	require.NoError(t, err)
	require.Equal(t, b, s, "the nearer step")
}

// coreFindCollision returns the first counters a < b, at most dist apart, whose
// codes are equal (6 digits: a pair turns up within some thousands).
func coreFindCollision(t *testing.T, code func(uint64) string, dist uint64) (uint64, uint64) {
	t.Helper()
	seen := map[string]uint64{}
	for c := uint64(0); c < 1_000_000; c++ {
		k := code(c)
		if a, ok := seen[k]; ok && c-a <= dist {
			return a, c
		}
		seen[k] = c
	}
	t.Fatal("no collision found")
	return 0, 0
}

// Malformed and well-formed codes, shared with the HOTP tests. Each input
// must give ErrMalformedCode (not ErrInvalidCode) and never panic.
func coreMalformedCodes(code string) map[string]string {
	n := len(code)
	return map[string]string{
		"empty":              "",
		"spaces only":        "      ",
		"hyphens only":       "------",
		"letters":            "abcdef"[:min(6, n)] + strings.Repeat("a", max(0, n-6)),
		"one letter":         code[:n-1] + "a",
		"upper letter":       "O" + code[1:],
		"too short":          code[:n-1],
		"too long":           code + "0",
		"much too long":      code + code,
		"NUL":                code[:n-1] + "\x00",
		"trailing NUL":       code + "\x00",
		"leading NUL":        "\x00" + code,
		"tab inside":         code[:3] + "\t" + code[3:],
		"newline inside":     code[:3] + "\n" + code[3:],
		"CR inside":          code[:3] + "\r" + code[3:],
		"CRLF inside":        code[:3] + "\r\n" + code[3:],
		"zero-width space":   "\u200b" + code,
		"plus":               "+" + code,
		"dot":                code[:3] + "." + code[3:],
		"underscore":         code[:3] + "_" + code[3:],
		"slash":              code[:3] + "/" + code[3:],
		"non-breaking space": code[:3] + "\u00a0" + code[3:],
		"en dash":            code[:3] + "\u2013" + code[3:],
		"fullwidth digits":   coreToFullwidth(code),
		"arabic-indic":       strings.Repeat("\u0661", n),
		"devanagari":         strings.Repeat("\u0967", n),
		"superscript":        strings.Repeat("\u00b9", n),
		"invalid UTF-8":      code[:n-1] + "\xff",
		"hex":                "0x" + code,
		"negative":           "-" + code[1:],
		"too long padded":    strings.Repeat(" ", 40) + code,
		"too long newlines":  code + strings.Repeat("\n", 40),
		"10 MB":              strings.Repeat("1", 10<<20),
		"10 MB of spaces":    code + strings.Repeat(" ", 10<<20),
	}
}

func coreToFullwidth(code string) string {
	var b strings.Builder
	for _, r := range code {
		b.WriteRune(r - '0' + '０')
	}
	return b.String()
}

// coreAcceptedForms are ways a user may type the true code.
func coreAcceptedForms(code string) []string {
	n := len(code)
	return []string{
		code,
		code[:3] + " " + code[3:],
		code[:3] + "-" + code[3:],
		" " + code + " ",
		"  " + code,
		code + "   ",
		strings.Join(strings.Split(code, ""), " "),
		strings.Join(strings.Split(code, ""), "-"),
		code[:n/2] + " - " + code[n/2:],
		"-" + code + "-",
		// Surrounding white space, as pasting leaves it.
		code + "\n",
		code + "\r\n",
		"\t" + code,
		"\t" + code[:3] + " " + code[3:] + " \n",
		"\u00a0" + code + "\u3000",
	}
}

func TestTOTPCodeInput(t *testing.T) {
	for _, digits := range []int{6, 7, 8} {
		tp := coreTOTP(t, twofa.Options{Digits: digits})
		at := time.Unix(1_111_111_111, 0)
		code, err := tp.Code(at)
		require.NoError(t, err)
		require.Len(t, code, digits)
		step, err := tp.Step(at)
		require.NoError(t, err)
		for _, in := range coreAcceptedForms(code) {
			s, err := tp.Verify(in, at, 0)
			require.NoError(t, err, "%d digits: %q", digits, in)
			require.Equal(t, step, s)
		}
		for name, in := range coreMalformedCodes(code) {
			var s uint64
			require.NotPanics(t, func() { s, err = tp.Verify(in, at, 1) }, name)
			require.ErrorIs(t, err, twofa.ErrMalformedCode, "%d digits: %s", digits, name)
			require.NotErrorIs(t, err, twofa.ErrInvalidCode, name)
			require.Zero(t, s)
		}
		// A well-formed code that does not match is ErrInvalidCode.
		wrong := []byte(code)
		wrong[0] = '0' + (wrong[0]-'0'+1)%10
		_, err = tp.Verify(string(wrong), at, 0)
		require.ErrorIs(t, err, twofa.ErrInvalidCode)
		require.NotErrorIs(t, err, twofa.ErrMalformedCode)
	}
	require.False(t, errors.Is(twofa.ErrMalformedCode, twofa.ErrInvalidCode), "the two code errors must stay distinct")
	require.False(t, errors.Is(twofa.ErrInvalidCode, twofa.ErrMalformedCode))
}

// coreBadOptions lists one invalid value per field. HOTP-only cases are marked.
var coreBadOptions = []struct {
	name     string
	o        twofa.Options
	hotpOnly bool // invalid for HOTP, valid for TOTP
}{
	{name: "digits 5", o: twofa.Options{Digits: 5}},
	{name: "digits 9", o: twofa.Options{Digits: 9}},
	{name: "digits 10", o: twofa.Options{Digits: 10}},
	{name: "digits 1", o: twofa.Options{Digits: 1}},
	{name: "digits -6", o: twofa.Options{Digits: -6}},
	{name: "digits huge", o: twofa.Options{Digits: math.MaxInt}},
	{name: "unknown algorithm 3", o: twofa.Options{Algorithm: 3}},
	{name: "unknown algorithm 255", o: twofa.Options{Algorithm: 255}},
	{name: "period 0.5s", o: twofa.Options{Period: 500 * time.Millisecond}},
	{name: "period 1ns", o: twofa.Options{Period: 1}},
	{name: "period 1.5s", o: twofa.Options{Period: 1500 * time.Millisecond}},
	{name: "period 30s+1ns", o: twofa.Options{Period: 30*time.Second + 1}},
	{name: "period -1s", o: twofa.Options{Period: -time.Second}},
	{name: "period -30s", o: twofa.Options{Period: -30 * time.Second}},
	{name: "period min int", o: twofa.Options{Period: math.MinInt64}},
	{name: "period > MaxPeriod", o: twofa.Options{Period: twofa.MaxPeriod + time.Second}},
	{name: "period max int", o: twofa.Options{Period: math.MaxInt64}},
	{name: "HOTP with period", o: twofa.Options{Period: 30 * time.Second}, hotpOnly: true},
	{name: "HOTP with T0", o: twofa.Options{T0: time.Unix(1, 0)}, hotpOnly: true},
	{name: "HOTP with T0 at the epoch", o: twofa.Options{T0: tEpoch}, hotpOnly: true},
}

func TestTOTPOptionsInvalid(t *testing.T) {
	s := coreRFCSecret(t)
	for _, c := range coreBadOptions {
		if c.hotpOnly {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			tp, err := twofa.NewTOTP(s, c.o)
			require.ErrorIs(t, err, twofa.ErrInvalidOptions)
			require.Nil(t, tp)
			require.True(t, strings.HasPrefix(err.Error(), "twofa: "), "message %q", err)
		})
	}
}

func TestTOTPOptionsValid(t *testing.T) {
	s := coreRFCSecret(t)
	for _, o := range []twofa.Options{
		{},
		{Digits: 6}, {Digits: 7}, {Digits: 8},
		{Algorithm: twofa.SHA1}, {Algorithm: twofa.SHA256}, {Algorithm: twofa.SHA512},
		{Period: time.Second}, {Period: 60 * time.Second}, {Period: twofa.MaxPeriod},
		{T0: time.Unix(1, 0)}, {T0: time.Unix(-1, 0)}, {T0: time.Unix(1<<40, 0)},
		{Algorithm: twofa.SHA512, Digits: 8, Period: 300 * time.Second, T0: time.Unix(1_000, 0)},
	} {
		tp, err := twofa.NewTOTP(s, o)
		require.NoError(t, err, "%+v", o)
		ro := tp.Options()
		if o.Digits != 0 {
			require.Equal(t, o.Digits, ro.Digits)
		}
		if o.Period != 0 {
			require.Equal(t, o.Period, ro.Period)
		}
		require.Equal(t, o.Algorithm, ro.Algorithm)
		_, err = tp.Code(time.Unix(1<<41, 0))
		require.NoError(t, err)
	}
}

func TestTOTPZeroSecret(t *testing.T) {
	tp, err := twofa.NewTOTP(twofa.Secret{}, twofa.Options{})
	require.ErrorIs(t, err, twofa.ErrInvalidSecret)
	var se *twofa.SecretError
	require.ErrorAs(t, err, &se)
	require.Nil(t, tp)
}

func TestTOTPString(t *testing.T) {
	s := coreRFCSecret(t)
	tp := coreTOTP(t, twofa.Options{Algorithm: twofa.SHA256, Digits: 8, Period: time.Minute})
	want := "twofa.TOTP{SHA256, 8 digits, 1m0s}"
	for _, f := range []string{"%v", "%+v", "%s"} {
		out := fmt.Sprintf(f, tp)
		assert.Equal(t, want, out, f)
		assertNoSecret(t, s, out)
	}
	assertNoSecret(t, s, fmt.Sprintf("%#v", tp), "%#v: Go syntax, the key behind a pointer")
	// Nor does the struct itself, under any verb, alone or in a field.
	type holder struct{ tp *twofa.TOTP }
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%e", "%t"} {
		assertNoSecret(t, s, fmt.Sprintf(f, *tp), f)
		assertNoSecret(t, s, fmt.Sprintf(f, holder{tp}), f)
		assertNoSecret(t, s, fmt.Sprintf(f, &holder{tp}), f)
	}
}

// TestTOTPConcurrent runs Code and Verify from many goroutines on one TOTP
// (run under -race).
func TestTOTPConcurrent(t *testing.T) {
	tp := coreTOTP(t, twofa.Options{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				at := time.Unix(int64(g*1_000_000+i*30), 0)
				code, err := tp.Code(at)
				if !assert.NoError(t, err) {
					return
				}
				s, err := tp.Verify(code, at, 1)
				if !assert.NoError(t, err) || !assert.LessOrEqual(t, s, uint64(at.Unix()/30)) {
					return
				}
			}
		})
	}
	wg.Wait()
}

// coreRaceEnabled reports whether the test binary was built with -race, under
// which sync.Pool drops items on purpose and allocation counts mean nothing.
func coreRaceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" && s.Value == "true" {
			return true
		}
	}
	return false
}

func TestTOTPAllocs(t *testing.T) {
	if coreRaceEnabled() {
		t.Skip("allocation counts are meaningless under -race")
	}
	tp := coreTOTP(t, twofa.Options{Algorithm: twofa.SHA512, Digits: 8})
	at := time.Unix(1_234_567_890, 0)
	code, err := tp.Code(at)
	require.NoError(t, err)
	buf := make([]byte, 0, 8)
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		buf, _ = tp.AppendCode(buf[:0], at)
	}), "AppendCode")
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		_, _ = tp.Verify(code, at, 1)
	}), "Verify, match")
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		_, _ = tp.Verify("000000 00", at, 1)
	}), "Verify, no match")
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		_, _ = tp.Verify("not a code", at, 1)
	}), "Verify, malformed")
}
