package signin

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseToken(t *testing.T) {
	raw := [tokenBytes]byte{0: 1, 31: 0xff}
	tok := base64.RawURLEncoding.EncodeToString(raw[:])
	require.Len(t, tok, TokenLen)
	got, ok := parseToken(tok)
	require.True(t, ok)
	assert.Equal(t, raw, got)
	for _, bad := range []string{
		"", tok[:TokenLen-1], tok + "A", tok[:TokenLen-1] + "=", strings.Repeat("A", 1<<20),
		tok[:TokenLen-1] + "B", // a set unused low bit: not canonical
		tok[:20] + "+" + tok[21:], tok[:20] + "\n" + tok[21:], tok[:20] + "\x00" + tok[21:],
		tok[:20] + "é"[:1] + tok[21:],
	} {
		_, ok := parseToken(bad)
		assert.False(t, ok, "%.50q", bad)
	}
}

// TestTokenFormat pins what stored digests depend on.
func TestTokenFormat(t *testing.T) {
	assert.Equal(t, "signin-token", DigestPurpose)
	assert.Equal(t, "pending-sign-in", tokenAccount)
	assert.Equal(t, base64.RawURLEncoding.EncodedLen(tokenBytes), TokenLen)
}

func FuzzParseToken(f *testing.F) {
	f.Add(strings.Repeat("A", TokenLen))
	f.Add(strings.Repeat("_", TokenLen-1) + "w")
	f.Add(strings.Repeat("A", TokenLen-1) + "B")
	f.Add("")
	f.Add(strings.Repeat("A", TokenLen-1) + "\n")
	f.Fuzz(func(t *testing.T, s string) {
		raw, ok := parseToken(s)
		if !ok {
			if raw != ([tokenBytes]byte{}) {
				t.Fatal("a refused token left bytes behind")
			}
			return
		}
		// An accepted token is the one canonical encoding of its bytes.
		if got := base64.RawURLEncoding.EncodeToString(raw[:]); got != s {
			t.Fatalf("parseToken(%q) accepted a non-canonical token (canonical %q)", s, got)
		}
	})
}

func TestParseIP(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "192.0.2.1": "192.0.2.1", "::ffff:192.0.2.1": "192.0.2.1",
		"2001:DB8::1": "2001:db8::1", "fe80::1%eth0": "fe80::1",
	} {
		a, err := parseIP(in)
		require.NoError(t, err, in)
		if want == "" {
			assert.False(t, a.IsValid())
		} else {
			assert.Equal(t, want, a.String())
		}
	}
	for _, bad := range []string{"x", "192.0.2.1:80", "192.0.2", "1.2.3.4.5", "::1 ", "fe80::1%", strings.Repeat("f", MaxIPLen+1)} {
		_, err := parseIP(bad)
		assert.ErrorIs(t, err, ErrInvalidIP, bad)
	}
}
