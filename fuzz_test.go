package twofa_test

// Fuzz targets. Their seed corpora are the files in testdata/fuzz/<name>
// ("go test fuzz v1"); plain `go test` runs every seed. Run a target with
//
//	go test -run='^$' -fuzz='^FuzzParseSecret$' -fuzztime=60s .

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/internal/otp"
)

// fuzzMinSeeds is the least number of seed files each fuzz target must have.
const fuzzMinSeeds = 8

// requireSeedCorpus fails when a target's seed directory is missing or
// nearly empty: the go tool would silently fuzz from nothing.
func requireSeedCorpus(f *testing.F, name string) {
	f.Helper()
	dir := filepath.Join("testdata", "fuzz", name)
	entries, err := os.ReadDir(dir)
	require.NoError(f, err, "seed corpus")
	n := 0
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(f, err)
		require.True(f, strings.HasPrefix(string(b), "go test fuzz v1\n"), "seed %s/%s is not a \"go test fuzz v1\" file", dir, e.Name())
		n++
	}
	require.GreaterOrEqual(f, n, fuzzMinSeeds, "seed corpus %s has %d files, want at least %d", dir, n, fuzzMinSeeds)
}

func fuzzStripSeparators(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, s)
}

// FuzzParseSecret: ParseSecret never panics; it returns either a valid
// Secret or a *SecretError matching ErrInvalidSecret with one of the
// documented reasons; a parsed secret's Base32 is canonical, re-parses to an
// Equal secret, and agrees with the standard library's decoding of the
// normalised input.
func FuzzParseSecret(f *testing.F) {
	requireSeedCorpus(f, "FuzzParseSecret")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := twofa.ParseSecret(in)
		if err != nil {
			require.True(t, s.IsZero(), "ParseSecret(%q) returned a secret and %v", in, err)
			var se *twofa.SecretError
			require.True(t, errors.As(err, &se) && errors.Is(err, twofa.ErrInvalidSecret),
				"ParseSecret(%q): error %v is not a *SecretError matching ErrInvalidSecret", in, err)
			switch se.Reason {
			case twofa.ErrSecretChar, twofa.ErrSecretPadding:
				require.True(t, se.Offset >= 0 && se.Offset < len(in), "ParseSecret(%q): %v with offset %d", in, se.Reason, se.Offset)
				if se.Reason == twofa.ErrSecretPadding {
					require.Equal(t, byte('='), in[se.Offset], "ParseSecret(%q): padding error at %q", in, in[se.Offset])
				}
			case twofa.ErrSecretLength, twofa.ErrSecretTooShort, twofa.ErrSecretTooLong:
				require.Equal(t, -1, se.Offset, "ParseSecret(%q): %v with offset %d", in, se.Reason, se.Offset)
			default:
				require.Failf(t, "unknown reason", "ParseSecret(%q): unknown reason %v", in, se.Reason)
			}
			if len(in) >= 16 {
				require.NotContains(t, err.Error(), in, "ParseSecret error quotes its input: %v", err)
			}
			return
		}

		require.False(t, s.IsZero() || s.Len() < twofa.MinSecretSize || s.Len() > twofa.MaxSecretSize,
			"ParseSecret(%q) accepted a secret of %d bytes", in, s.Len())
		b32 := s.Base32()
		require.Equal(t, secretStdB32.EncodeToString(s.Bytes()), b32, "Base32() is not canonical")
		require.False(t, strings.ContainsAny(b32, "= -\t\nabcdefghijklmnopqrstuvwxyz"), "Base32() = %q is not canonical", b32)
		again, err := twofa.ParseSecret(b32)
		require.NoError(t, err, "Base32() = %q does not re-parse", b32)
		require.True(t, again.Equal(s) && again.Base32() == b32, "Base32() = %q re-parses to a different secret", b32)
		// An independent decoder agrees on the bytes.
		norm := strings.ToUpper(strings.TrimRight(fuzzStripSeparators(strings.TrimSpace(in)), "="))
		want, err := secretStdB32.DecodeString(norm)
		require.NoError(t, err, "ParseSecret(%q) accepted what encoding/base32 refuses", in)
		require.True(t, string(want) == string(s.Bytes()), "ParseSecret and encoding/base32 decode to different bytes")
	})
}

// FuzzVerify feeds arbitrary strings to TOTP and HOTP verification with a
// full oracle: a string is malformed exactly when it is not (at most
// otp.MaxCodeInput bytes of) the right number of ASCII digits with spaces
// and hyphens, once leading and trailing white space is trimmed; a well-formed one is accepted exactly when its digits are
// the code of a step in the window, and then the earliest such step is
// returned. No other error may appear, and nothing panics.
func FuzzVerify(f *testing.F) {
	requireSeedCorpus(f, "FuzzVerify")
	// The RFC 6238 SHA-1 and SHA-256 seeds (test data only).
	s1, err := twofa.SecretFromBytes([]byte("12345678901234567890"))
	require.NoError(f, err)
	s256, err := twofa.SecretFromBytes([]byte("12345678901234567890123456789012"))
	require.NoError(f, err)
	t6, err := twofa.NewTOTP(s1, twofa.Options{})
	require.NoError(f, err)
	t8, err := twofa.NewTOTP(s256, twofa.Options{Algorithm: twofa.SHA256, Digits: 8})
	require.NoError(f, err)
	h6, err := twofa.NewHOTP(s1, twofa.Options{})
	require.NoError(f, err)
	at := time.Unix(1_111_111_111, 0) // RFC 6238 step 0x23523ED
	const lookAhead = 5

	type verifier struct {
		name        string
		digits      int
		first, last uint64
		codeAt      func(uint64) string
		verify      func(string) (uint64, error)
	}
	step, err := t6.Step(at)
	require.NoError(f, err)
	verifiers := []verifier{
		{"TOTP6", 6, step - 1, step + 1, t6.CodeAt, func(c string) (uint64, error) { return t6.Verify(c, at, 1) }},
		{"TOTP8", 8, step - 1, step + 1, t8.CodeAt, func(c string) (uint64, error) { return t8.Verify(c, at, 1) }},
		{"HOTP6", 6, 0, lookAhead, h6.Code, func(c string) (uint64, error) { return h6.Verify(c, 0, lookAhead) }},
	}

	f.Fuzz(func(t *testing.T, code string) {
		for _, v := range verifiers {
			got, err := v.verify(code)

			norm := strings.Map(func(r rune) rune {
				if r == ' ' || r == '-' {
					return -1
				}
				return r
			}, strings.TrimSpace(code))
			wellFormed := len(code) <= otp.MaxCodeInput && len(norm) == v.digits && strings.Trim(norm, "0123456789") == ""
			match, found := uint64(0), false
			if wellFormed {
				for c := v.first; c <= v.last; c++ {
					if v.codeAt(c) == norm {
						match, found = c, true
						break
					}
				}
			}

			switch {
			case err == nil:
				require.True(t, found && got == match, "%s accepted %q at %d; want found=%v at %d", v.name, code, got, found, match)
				require.Equal(t, v.codeAt(got), norm, "%s accepted %q, which does not normalise to %q", v.name, code, v.codeAt(got))
			case errors.Is(err, twofa.ErrMalformedCode):
				require.False(t, wellFormed || errors.Is(err, twofa.ErrInvalidCode), "%s: %q is well-formed, got %v", v.name, code, err)
			case errors.Is(err, twofa.ErrInvalidCode):
				require.False(t, !wellFormed || found, "%s: %q (well-formed %v, matches %v) gave %v", v.name, code, wellFormed, found, err)
			default:
				require.Failf(t, "unexpected error", "%s: %q gave unexpected error %v", v.name, code, err)
			}
			if err != nil {
				require.Zero(t, got, "%s: %q returned step %d with %v", v.name, code, got, err)
			}
		}
	})
}
