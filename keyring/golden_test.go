package keyring_test

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa/keyring"
)

// goldenKey is SHA-256 of s: a fixed test key, NOT how to make a real one.
func goldenKey(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// goldenRing is the keyring the golden values below were made with.
func goldenRing(t testing.TB) *keyring.Keyring {
	t.Helper()
	k, err := keyring.New(20240601, map[keyring.KeyID][]byte{
		3:        goldenKey("twofa golden sealing key 3"),
		20240601: goldenKey("twofa golden sealing key 20240601"),
	}, goldenKey("twofa golden digest key"))
	require.NoError(t, err)
	return k
}

// TestGoldenFromRootKeyring pins what databases already hold: the blobs
// and digests below were produced by twofa.Keyring (twofa.NewKeyring with
// goldenRing's keys, Seal and Digest), the implementation in the root
// package before it moved here. Every future version must open these
// blobs and compute these digests, byte for byte.
func TestGoldenFromRootKeyring(t *testing.T) {
	k := goldenRing(t)
	for _, g := range []struct {
		name             string
		id               keyring.KeyID
		account, binding string
		plaintext        string
		blob             string
	}{
		{
			name: "primary key, TOTP binding", id: 20240601,
			account: "alice@example.com", binding: "dev-1/totp/SHA1/6/30",
			plaintext: "12345678901234567890",
			blob:      "010134d8d9ccc9893121bb9543c4939ba54fa110c549c686879250f7ebac5545a1a1aa3902aadd3a2e47341aadc2a08d95b465bee5b1c4a39f35dd018587f791e0",
		},
		{
			name: "older key 3, HOTP binding", id: 3,
			account: "bob", binding: "d2/hotp/SHA256/8/0",
			plaintext: "another secret, sealed under key 3",
			blob:      "0100000003e5a1397ad36fab95af08779882f1d670ebf8b877321c1cd1c3ac72996e8bd43c520d3a645f54d867274b701a6bfff1ee711f5a98c3a09e07e811df8c3c592d25ff9d28aa4052f6d6731e",
		},
		{
			name: "empty plaintext", id: 20240601,
			account: "carol", binding: "x",
			plaintext: "",
			blob:      "010134d8d947715e7e14ae8892b1a92de3b54d9356b142cfd39f47b53ddd41bdec64b9cbe9e2e0d4ea3e02e1eb",
		},
	} {
		t.Run(g.name, func(t *testing.T) {
			blob, err := hex.DecodeString(g.blob)
			require.NoError(t, err)
			id, err := keyring.SealedKeyID(blob)
			require.NoError(t, err)
			require.Equal(t, g.id, id)

			pt, err := k.Open(nil, g.account, g.binding, blob)
			require.NoError(t, err)
			require.Equal(t, []byte(g.plaintext), pt)

			// Into a reusable buffer, after what it already holds.
			buf := append(make([]byte, 0, 64), "prefix:"...)
			pt, err = k.Open(buf, g.account, g.binding, blob)
			require.NoError(t, err)
			require.Equal(t, "prefix:"+g.plaintext, string(pt))

			_, err = k.Open(nil, g.account, g.binding+"x", blob)
			require.ErrorIs(t, err, keyring.ErrSealedTampered)

			nb, changed, err := k.Reseal(g.account, g.binding, blob)
			require.NoError(t, err)
			require.Equal(t, g.id != 20240601, changed)
			pt, err = k.Open(nil, g.account, g.binding, nb)
			require.NoError(t, err)
			require.Equal(t, []byte(g.plaintext), pt)
		})
	}

	for label, want := range map[string]string{
		"recovery-code": "6d5cef035d92fc0c441502a593abca2bd39a1cef8568df22dad73986a536c0f3",
		"app-password":  "c490133535096eb410a28341d88e5f68f4150b3d563d82cc5b7fa28c7f9920f8",
		"browser-token": "7cbf855d839444a310afddd89f81f0b56e40bf0125544271117ad9093cf5ffdc",
		"oob-challenge": "d6bdad76b10bd0f2f3034a51fa89da0a5da9f337470de71b13fda4406820539a",
	} {
		d, err := k.Digest(label, "alice@example.com", []byte("abcd-efgh-2345"))
		require.NoError(t, err, label)
		require.Equal(t, want, hex.EncodeToString(d), label)
	}
}
