package twofa_test

// The RFC test vectors, kept as data in testdata/ (each file's "source"
// field cites the RFC section) and run one subtest per vector.
//
// RFC 6238 Appendix B: per the RFC errata each algorithm uses its own seed,
// "12345678901234567890" repeated to the hash size — 20 bytes for SHA-1, 32
// for SHA-256, 64 for SHA-512 — as the Appendix A reference code does, not
// the single 20-byte seed the appendix prose suggests.

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
)

type rfc4226File struct {
	Source       string `json:"source"`
	Note         string `json:"note"`
	Algorithm    string `json:"algorithm"`
	Digits       int    `json:"digits"`
	SecretASCII  string `json:"secret_ascii"`
	SecretHex    string `json:"secret_hex"`
	SecretBase32 string `json:"secret_base32"`
	Cases        []struct {
		Count            uint64 `json:"count"`
		HMACSHA1         string `json:"hmac_sha1"`
		TruncatedHex     string `json:"truncated_hex"`
		TruncatedDecimal uint32 `json:"truncated_decimal"`
		HOTP             string `json:"hotp"`
	} `json:"cases"`
}

type rfc6238File struct {
	Source  string `json:"source"`
	Note    string `json:"note"`
	Digits  int    `json:"digits"`
	Period  int64  `json:"period_seconds"`
	T0      int64  `json:"t0"`
	Secrets map[string]struct {
		ASCII  string `json:"ascii"`
		Base32 string `json:"base32"`
	} `json:"secrets"`
	Cases []struct {
		Time      int64  `json:"time"`
		UTC       string `json:"utc"`
		Step      string `json:"step"`
		TOTP      string `json:"totp"`
		Algorithm string `json:"algorithm"`
	} `json:"cases"`
}

// vecLoadJSON decodes a vector file strictly (unknown fields are an error, so a
// renamed field cannot silently zero a value).
func vecLoadJSON(t *testing.T, path string, v any) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(v), "decoding %s", path)
}

func loadRFC4226(t *testing.T) rfc4226File {
	t.Helper()
	var v rfc4226File
	vecLoadJSON(t, "testdata/rfc4226.json", &v)
	require.Contains(t, v.Source, "RFC 4226", "source must cite the RFC")
	require.NotEmpty(t, v.Cases, "testdata/rfc4226.json yields no cases")
	return v
}

func loadRFC6238(t *testing.T) rfc6238File {
	t.Helper()
	var v rfc6238File
	vecLoadJSON(t, "testdata/rfc6238.json", &v)
	require.Contains(t, v.Source, "RFC 6238", "source must cite the RFC")
	require.Contains(t, v.Note, "errata", "the file must keep the note on the per-algorithm seeds")
	require.NotEmpty(t, v.Cases, "testdata/rfc6238.json yields no cases")
	return v
}

func vecParseAlgorithm(t *testing.T, name string) twofa.Algorithm {
	t.Helper()
	for _, a := range []twofa.Algorithm{twofa.SHA1, twofa.SHA256, twofa.SHA512} {
		if a.String() == name {
			return a
		}
	}
	t.Fatalf("unknown algorithm %q in vector file", name)
	return 0
}

// vecHashSize is the output size each RFC 6238 seed is cut to (the errata).
var vecHashSize = map[string]int{"SHA1": 20, "SHA256": 32, "SHA512": 64}

func TestRFC4226Vectors(t *testing.T) {
	v := loadRFC4226(t)
	require.Equal(t, "SHA1", v.Algorithm)
	require.Equal(t, 6, v.Digits)

	key, err := hex.DecodeString(v.SecretHex)
	require.NoError(t, err)
	require.Equal(t, v.SecretASCII, string(key))
	s, err := twofa.SecretFromBytes(key)
	require.NoError(t, err)
	p, err := twofa.ParseSecret(v.SecretBase32)
	require.NoError(t, err)
	require.True(t, s.Equal(p), "secret_base32 does not decode to secret_hex")
	require.Equal(t, v.SecretBase32, s.Base32())

	h, err := twofa.NewHOTP(s, twofa.Options{})
	require.NoError(t, err)
	gens := map[int]*twofa.HOTP{6: h}
	for _, d := range []int{7, 8} {
		gens[d], err = twofa.NewHOTP(s, twofa.Options{Digits: d})
		require.NoError(t, err)
	}

	n := 0
	for _, c := range v.Cases {
		n++
		t.Run(fmt.Sprintf("count=%d", c.Count), func(t *testing.T) {
			t.Parallel()
			// The intermediate values, recomputed from the stdlib: they
			// check the data file itself.
			mac := hmac.New(sha1.New, key)
			var msg [8]byte
			binary.BigEndian.PutUint64(msg[:], c.Count)
			mac.Write(msg[:])
			sum := mac.Sum(nil)
			require.Equal(t, c.HMACSHA1, hex.EncodeToString(sum), "Table 1 HMAC, count %d", c.Count)
			off := sum[len(sum)-1] & 0x0f
			trunc := binary.BigEndian.Uint32(sum[off:]) & 0x7fffffff
			th, err := strconv.ParseUint(c.TruncatedHex, 16, 32)
			require.NoError(t, err)
			require.Equal(t, uint32(th), trunc, "Table 2 hex, count %d", c.Count)
			require.Equal(t, c.TruncatedDecimal, trunc, "Table 2 decimal, count %d", c.Count)
			require.Equal(t, fmt.Sprintf("%06d", trunc%1_000_000), c.HOTP)

			// Our generator.
			require.Equal(t, c.HOTP, h.Code(c.Count), "count %d", c.Count)
			require.Equal(t, c.HOTP, string(h.AppendCode(nil, c.Count)))
			// Other lengths are the same truncated value, modulo 10^digits.
			for d, g := range gens {
				want := fmt.Sprintf("%0*d", d, uint64(c.TruncatedDecimal)%corePow10(d))
				assert.Equal(t, want, g.Code(c.Count), "count %d, %d digits", c.Count, d)
			}

			// Verify, with no look-ahead and with the whole table as the
			// window (the RFC's ten codes are distinct).
			got, err := h.Verify(c.HOTP, c.Count, 0)
			require.NoError(t, err)
			require.Equal(t, c.Count, got)
			got, err = h.Verify(c.HOTP, 0, 9)
			require.NoError(t, err)
			require.Equal(t, c.Count, got)
			if c.Count > 0 {
				// A code below the window is not accepted.
				_, err = h.Verify(c.HOTP, c.Count+1, 9)
				require.ErrorIs(t, err, twofa.ErrInvalidCode)
			}
		})
	}
	require.Equal(t, 10, n, "RFC 4226 Appendix D has ten counters")
}

func TestRFC6238Vectors(t *testing.T) {
	v := loadRFC6238(t)
	require.Equal(t, 8, v.Digits)
	require.EqualValues(t, 30, v.Period)
	require.EqualValues(t, 0, v.T0)

	n := 0
	for _, c := range v.Cases {
		n++
		t.Run(fmt.Sprintf("%s/t=%d", c.Algorithm, c.Time), func(t *testing.T) {
			t.Parallel()
			alg := vecParseAlgorithm(t, c.Algorithm)
			sec, ok := v.Secrets[c.Algorithm]
			require.True(t, ok, "no secret for %s", c.Algorithm)
			// The errata: each hash has its own seed of its own size.
			require.Len(t, sec.ASCII, vecHashSize[c.Algorithm], "%s seed length", c.Algorithm)
			s, err := twofa.SecretFromBytes([]byte(sec.ASCII))
			require.NoError(t, err)
			p, err := twofa.ParseSecret(sec.Base32)
			require.NoError(t, err)
			require.True(t, s.Equal(p), "base32 and ascii seeds differ for %s", c.Algorithm)

			tp, err := twofa.NewTOTP(s, twofa.Options{
				Algorithm: alg,
				Digits:    v.Digits,
				Period:    time.Duration(v.Period) * time.Second,
				T0:        time.Unix(v.T0, 0),
			})
			require.NoError(t, err)
			at := time.Unix(c.Time, 0)
			require.Equal(t, c.UTC, at.UTC().Format(time.DateTime), "utc column")

			// Step arithmetic: T = floor((time - T0) / X), RFC 6238 4.2.
			wantStep, err := strconv.ParseUint(c.Step, 16, 64)
			require.NoError(t, err)
			require.Equal(t, uint64(c.Time-v.T0)/uint64(v.Period), wantStep, "data: step column")
			step, err := tp.Step(at)
			require.NoError(t, err)
			require.Equal(t, wantStep, step, "%s t=%d", c.Algorithm, c.Time)
			start := tp.StepStart(step)
			require.False(t, at.Before(start))
			require.True(t, at.Before(start.Add(tp.Options().Period)))

			// Code, three ways.
			code, err := tp.Code(at)
			require.NoError(t, err)
			require.Equal(t, c.TOTP, code, "%s t=%d", c.Algorithm, c.Time)
			require.Equal(t, c.TOTP, tp.CodeAt(step))
			b, err := tp.AppendCode(nil, at)
			require.NoError(t, err)
			require.Equal(t, c.TOTP, string(b))
			// Every second of the step, and sub-second parts, give the code.
			for _, in := range []time.Time{start, start.Add(29 * time.Second), at.Add(999 * time.Millisecond)} {
				got, err := tp.Code(in)
				require.NoError(t, err)
				require.Equal(t, c.TOTP, got, "at %v", in.Unix())
			}

			// Verify with skew 0 returns the step; the neighbours reject it
			// at skew 0 and accept it at skew 1.
			got, err := tp.Verify(c.TOTP, at, 0)
			require.NoError(t, err)
			require.Equal(t, wantStep, got)
			next := tp.StepStart(step + 1)
			_, err = tp.Verify(c.TOTP, next, 0)
			require.ErrorIs(t, err, twofa.ErrInvalidCode)
			got, err = tp.Verify(c.TOTP, next, 1)
			require.NoError(t, err)
			require.Equal(t, wantStep, got)
			got, err = tp.Verify(c.TOTP, tp.StepStart(step-1), 1)
			require.NoError(t, err)
			require.Equal(t, wantStep, got)
		})
	}
	require.Equal(t, 18, n, "RFC 6238 Appendix B has 6 times x 3 coreAlgorithms")
}

func corePow10(d int) uint64 {
	p := uint64(1)
	for range d {
		p *= 10
	}
	return p
}
