package twofa

import (
	"crypto/rand"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa/keyring"
)

func TestSealSecret(t *testing.T) {
	kr := testKeyring(t)
	const account, device = "alice@example.com", "phone-1"
	s, err := SecretFromBytes([]byte("12345678901234567890"))
	require.NoError(t, err)
	blob, err := sealSecret(kr, account, device, s)
	require.NoError(t, err)
	require.Len(t, blob, s.Len()+keyring.SealedOverhead)

	got, err := openSecret(kr, account, device, blob)
	require.NoError(t, err)
	require.True(t, s.Equal(got))

	// Another binding: ErrInvalidSealed, with the keyring's reason.
	got, err = openSecret(kr, account, "phone-2", blob)
	require.True(t, got.IsZero())
	require.ErrorIs(t, err, ErrInvalidSealed)
	require.ErrorIs(t, err, keyring.ErrSealedTampered)
	var se *keyring.SealedError
	require.ErrorAs(t, err, &se)
	require.Equal(t, "keyring: invalid sealed blob: authentication failed (key 1)", err.Error())

	nb, changed, err := resealSecret(kr, account, "phone-2", blob)
	require.Nil(t, nb)
	require.False(t, changed)
	require.ErrorIs(t, err, ErrInvalidSealed)
	nb, changed, err = resealSecret(kr, account, device, blob)
	require.NoError(t, err)
	require.False(t, changed)
	require.Equal(t, blob, nb)

	// A zero Secret is refused, not sealed as an empty blob.
	_, err = sealSecret(kr, account, device, Secret{})
	require.ErrorIs(t, err, ErrInvalidSecret)

	// A blob that opens but holds no valid secret is a *SecretError, not
	// ErrInvalidSealed.
	for _, pt := range [][]byte{[]byte("short"), make([]byte, MaxSecretSize+1)} {
		bad, err := kr.Seal(account, device, pt)
		require.NoError(t, err)
		got, err = openSecret(kr, account, device, bad)
		require.ErrorIs(t, err, ErrInvalidSecret)
		require.False(t, errors.Is(err, ErrInvalidSealed))
		require.True(t, got.IsZero())
	}
}

// TestPurposeLabels pins the labels: stored digests depend on them.
func TestPurposeLabels(t *testing.T) {
	require.Equal(t, "recovery-code", PurposeRecoveryCode)
	require.Equal(t, "app-password", PurposeAppPassword)
}

func testKeyring(t *testing.T) Keyring {
	t.Helper()
	key, digest := make([]byte, keyring.KeySize), make([]byte, keyring.KeySize)
	rand.Read(key)
	rand.Read(digest)
	kr, err := keyring.New(1, map[keyring.KeyID][]byte{1: key}, digest)
	require.NoError(t, err)
	return kr
}
