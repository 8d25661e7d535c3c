package keyring_test

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa/internal/fuzzseed"
	"github.com/twofa-go/twofa/keyring"
)

// krText is the base64url form of test key n, as a keyring string holds it.
func krText(n keyring.KeyID) string { return base64.RawURLEncoding.EncodeToString(krKey(n)) }

func krDigestText() string { return base64.RawURLEncoding.EncodeToString(krDigestKey()) }

// requireSameRing checks that a and b seal, open and digest alike.
func requireSameRing(t *testing.T, a, b *keyring.Keyring, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, a.Primary(), b.Primary(), msgAndArgs...)
	require.Equal(t, a.KeyIDs(), b.KeyIDs(), msgAndArgs...)
	blob, err := a.Seal(krAccount, krDevice, krSecret)
	require.NoError(t, err, msgAndArgs...)
	pt, err := b.Open(nil, krAccount, krDevice, blob)
	require.NoError(t, err, msgAndArgs...)
	require.Equal(t, krSecret, pt, msgAndArgs...)
	da, err := a.Digest(recoveryCode, krAccount, []byte("x"))
	require.NoError(t, err)
	db, err := b.Digest(recoveryCode, krAccount, []byte("x"))
	require.NoError(t, err)
	require.Equal(t, da, db, msgAndArgs...)
}

func TestParse(t *testing.T) {
	want := krRing(t, 2, 1, 2)
	for _, s := range []string{
		"twofa-keyring-v1 primary=2 1=" + krText(1) + " 2=" + krText(2) + " digest=" + krDigestText(),
		"  twofa-keyring-v1 primary=2 1=" + krText(1) + " 2=" + krText(2) + " digest=" + krDigestText() + "\n",
		"twofa-keyring-v1\tdigest=" + krDigestText() + "\n 2=" + krText(2) + "  1=" + krText(1) + "\r\nprimary=2",
	} {
		k, err := keyring.Parse(s)
		require.NoError(t, err, s)
		requireSameRing(t, want, k, s)
	}

	k, err := keyring.Parse("twofa-keyring-v1 primary=4294967295 4294967295=" + krText(3) + " digest=" + krDigestText())
	require.NoError(t, err)
	require.Equal(t, keyring.KeyID(4294967295), k.Primary())

	// The golden keyring, as a string, digests as the root package did.
	golden := fmt.Sprintf("twofa-keyring-v1 primary=20240601 3=%s 20240601=%s digest=%s",
		base64.RawURLEncoding.EncodeToString(goldenKey("twofa golden sealing key 3")),
		base64.RawURLEncoding.EncodeToString(goldenKey("twofa golden sealing key 20240601")),
		base64.RawURLEncoding.EncodeToString(goldenKey("twofa golden digest key")))
	k, err = keyring.Parse(golden)
	require.NoError(t, err)
	d, err := k.Digest(recoveryCode, "alice@example.com", []byte("abcd-efgh-2345"))
	require.NoError(t, err)
	require.Equal(t, "6d5cef035d92fc0c441502a593abca2bd39a1cef8568df22dad73986a536c0f3", hex.EncodeToString(d))
}

func TestParseErrors(t *testing.T) {
	const h = "twofa-keyring-v1 "
	d := " digest=" + krDigestText()
	one := " 1=" + krText(1)
	var many strings.Builder
	for i := 1; i <= keyring.MaxKeys+1; i++ {
		fmt.Fprintf(&many, " %d=%s", i, krText(keyring.KeyID(i)))
	}
	for _, c := range []struct {
		name, s string
		keyID   keyring.KeyID
	}{
		{"empty", "", 0},
		{"white space", " \n\t ", 0},
		{"no header", "primary=1" + one + d, 0},
		{"other version", "twofa-keyring-v2 primary=1" + one + d, 0},
		{"header case", "TWOFA-KEYRING-V1 primary=1" + one + d, 0},
		{"a bare key", krText(1), 0},
		{"header only", "twofa-keyring-v1", 0},
		{"no primary", h + one[1:] + d, 0},
		{"no digest", h + "primary=1" + one, 0},
		{"no sealing key", h + "primary=1" + d, 0},
		{"primary twice", h + "primary=1 primary=1" + one + d, 0},
		{"digest twice", h + "primary=1" + one + d + d, 0},
		{"key id twice", h + "primary=1" + one + " 1=" + krText(2) + d, 1},
		{"primary missing", h + "primary=2" + one + d, 2},
		{"primary 0", h + "primary=0" + one + d, 0},
		{"primary not decimal", h + "primary=x1" + one + d, 0},
		{"id 0", h + "primary=1" + one + " 0=" + krText(2) + d, 0},
		{"leading zero", h + "primary=1 01=" + krText(1) + d, 0},
		{"plus sign", h + "primary=1 +1=" + krText(1) + d, 0},
		{"id too large", h + "primary=1" + one + " 4294967296=" + krText(2) + d, 0},
		{"no '='", h + "primary=1 " + krText(1) + d, 0},
		{"unknown name", h + "primary=1" + one + d + " salt=" + krText(5), 0},
		{"short key", h + "primary=1 1=" + krText(1)[:42] + d, 1},
		{"long key", h + "primary=1 1=" + krText(1) + "A" + d, 1},
		{"padded key", h + "primary=1 1=" + krText(1) + "=" + d, 1},
		{"standard alphabet", h + "primary=1 1=" + base64.RawStdEncoding.EncodeToString(krKey(1)) + "+/" + d, 1},
		{"non-canonical", h + "primary=1 1=" + krText(1)[:42] + "B" + d, 1},
		{"hex key", h + "primary=1 1=" + hex.EncodeToString(krKey(1)) + d, 1},
		{"bad digest key", h + "primary=1" + one + " digest=" + krDigestText()[:40], 0},
		{"zero key", h + "primary=1 1=" + base64.RawURLEncoding.EncodeToString(make([]byte, 32)) + d, 1},
		{"same key twice", h + "primary=1" + one + " 2=" + krText(1) + d, 2},
		{"digest key is a sealing key", h + "primary=1 1=" + krDigestText() + d, 1},
		{"too many keys", h + "primary=1" + many.String() + d, 0},
		{"too long", h + strings.Repeat(" ", keyring.MaxTextLen) + "primary=1" + one + d, 0},
	} {
		k, err := keyring.Parse(c.s)
		require.Nil(t, k, c.name)
		require.ErrorIs(t, err, keyring.ErrInvalidKeyring, c.name)
		var ke *keyring.Error
		require.ErrorAs(t, err, &ke, c.name)
		require.Equal(t, c.keyID, ke.KeyID, "%s: %v", c.name, err)
		krRequireNoKeyMaterial(t, err.Error(), c.name)
		for _, f := range strings.FieldsFunc(c.s, func(r rune) bool { return r == ' ' || r == '=' }) {
			if len(f) >= 8 && !strings.HasPrefix(f, "twofa-keyring-") {
				require.NotContains(t, err.Error(), f[:8], "%s: the error quotes the input", c.name)
			}
		}
	}
}

func TestGenerate(t *testing.T) {
	a, err := keyring.Generate()
	require.NoError(t, err)
	b, err := keyring.Generate()
	require.NoError(t, err)
	require.NotEqual(t, a, b)

	f := strings.Split(a, " ")
	require.Len(t, f, 4, a)
	require.Equal(t, []string{"twofa-keyring-v1", "primary=1"}, f[:2])
	require.True(t, strings.HasPrefix(f[2], "1="))
	require.True(t, strings.HasPrefix(f[3], "digest="))
	// Copy-paste safe: nothing a shell, .env or YAML would change.
	for _, r := range a {
		require.True(t, r == ' ' || r == '=' || r == '-' || r == '_' ||
			'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9', "%q", r)
	}

	k, err := keyring.Parse(a)
	require.NoError(t, err)
	require.Equal(t, keyring.KeyID(1), k.Primary())
	blob, err := k.Seal(krAccount, krDevice, krSecret)
	require.NoError(t, err)
	pt, err := k.Open(nil, krAccount, krDevice, blob)
	require.NoError(t, err)
	require.Equal(t, krSecret, pt)
	require.NotContains(t, k.String(), f[2][2:10])
	require.NotContains(t, fmt.Sprintf("%#v", k), f[3][7:15])
}

// FuzzKeyringParse parses arbitrary keyring strings. Whatever the input:
// no panic; an error is an *Error matching ErrInvalidKeyring that quotes
// no key of the input; a success is a working keyring that re-parses
// alike from the same string.
func FuzzKeyringParse(f *testing.F) {
	fuzzseed.Add(f, seedDir, "FuzzKeyringParse")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := keyring.Parse(s)
		if err != nil {
			require.Nil(t, k)
			var ke *keyring.Error
			require.ErrorAs(t, err, &ke)
			require.ErrorIs(t, err, keyring.ErrInvalidKeyring)
			msg := err.Error()
			for _, field := range strings.Fields(s) {
				_, v, _ := strings.Cut(field, "=")
				if len(v) >= 16 && !strings.Contains(keyring.Header, v) {
					require.NotContains(t, msg, v, "the error quotes the input")
				}
			}
			return
		}
		require.LessOrEqual(t, len(k.KeyIDs()), keyring.MaxKeys)
		require.Contains(t, k.KeyIDs(), k.Primary())
		blob, err := k.Seal(krAccount, krDevice, krSecret)
		require.NoError(t, err)
		pt, err := k.Open(nil, krAccount, krDevice, blob)
		require.NoError(t, err)
		require.Equal(t, krSecret, pt)
		again, err := keyring.Parse(s)
		require.NoError(t, err)
		requireSameRing(t, k, again)
	})
}
