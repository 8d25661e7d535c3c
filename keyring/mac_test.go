package keyring_test

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa/keyring"
)

// krSpecMAC is MAC by its specification: HKDF of the sealing key, then
// crypto/hmac, after the version and key id.
func krSpecMAC(t testing.TB, id keyring.KeyID, account string, data []byte) []byte {
	t.Helper()
	sub, err := hkdf.Key(sha256.New, krKey(id), nil, "twofa/keyring/v1/mac", sha256.Size)
	require.NoError(t, err)
	m := hmac.New(sha256.New, sub)
	m.Write(binary.BigEndian.AppendUint16(nil, uint16(len(account))))
	m.Write([]byte(account))
	m.Write(data)
	tag := binary.BigEndian.AppendUint32([]byte{1}, uint32(id))
	return m.Sum(tag)
}

// TestMACMatchesSpec: the tag is the documented one, under the primary
// key, and deterministic.
func TestMACMatchesSpec(t *testing.T) {
	k := krRing(t, 2, 1, 2)
	for i, data := range [][]byte{nil, []byte("x"), make([]byte, 300)} {
		tag, err := k.MAC("alice", data)
		require.NoError(t, err)
		require.Len(t, tag, keyring.MACSize)
		assert.Equal(t, krSpecMAC(t, 2, "alice", data), tag, "case %d", i)
		again, err := k.MAC("alice", data)
		require.NoError(t, err)
		assert.Equal(t, tag, again, "deterministic")
	}
}

// TestCheckMAC: a tag verifies for its account and data under any key the
// Keyring holds, reporting whether that key is the primary; anything else
// fails with ErrInvalidMAC and the reason.
func TestCheckMAC(t *testing.T) {
	old := krRing(t, 1, 1)
	both := krRing(t, 2, 1, 2)
	onlyNew := krRing(t, 2, 2)
	data := []byte("device state")
	tag1, err := old.MAC("alice", data)
	require.NoError(t, err)
	tag2, err := both.MAC("alice", data)
	require.NoError(t, err)
	assert.NotEqual(t, tag1, tag2)

	primary, err := both.CheckMAC("alice", data, tag1)
	require.NoError(t, err, "an old key's tag verifies during a rotation")
	assert.False(t, primary)
	primary, err = both.CheckMAC("alice", data, tag2)
	require.NoError(t, err)
	assert.True(t, primary)

	reason := func(err error) error {
		t.Helper()
		require.ErrorIs(t, err, keyring.ErrInvalidMAC)
		require.False(t, errors.Is(err, keyring.ErrInvalidSealed), "a MAC error is not a sealed-blob error")
		var se *keyring.SealedError
		require.ErrorAs(t, err, &se)
		assert.NotContains(t, err.Error(), fmt.Sprintf("%x", tag1))
		return se.Reason
	}
	_, err = onlyNew.CheckMAC("alice", data, tag1)
	assert.Equal(t, keyring.ErrUnknownKey, reason(err), "a dropped key")
	_, err = both.CheckMAC("bob", data, tag2)
	assert.Equal(t, keyring.ErrSealedTampered, reason(err), "another account")
	_, err = both.CheckMAC("alice", []byte("device statf"), tag2)
	assert.Equal(t, keyring.ErrSealedTampered, reason(err), "other data")
	for i := range tag2 {
		bad := append([]byte(nil), tag2...)
		bad[i] ^= 0x80
		_, err = both.CheckMAC("alice", data, bad)
		require.Error(t, err, "byte %d flipped", i)
	}
	for _, bad := range [][]byte{nil, tag2[:keyring.MACSize-1], append(append([]byte(nil), tag2...), 0)} {
		_, err = both.CheckMAC("alice", data, bad)
		assert.Equal(t, keyring.ErrSealedFormat, reason(err), "length %d", len(bad))
	}
	digest, err := both.Digest("app-password", "alice", data)
	require.NoError(t, err)
	assert.NotEqual(t, digest, tag2[5:], "a MAC is no Digest")
	_, err = both.MAC("", data)
	require.ErrorIs(t, err, keyring.ErrInvalidBinding)
	_, err = both.CheckMAC("", data, tag2)
	require.ErrorIs(t, err, keyring.ErrInvalidBinding)
}

// BenchmarkMAC measures MAC and CheckMAC of a device's state as twofa
// passes it (about 130 bytes with its kind and id).
func BenchmarkMAC(b *testing.B) {
	k := krRing(b, 1, 1)
	data := make([]byte, 130)
	tag, err := k.MAC("alice@example.com", data)
	require.NoError(b, err)
	b.Run("MAC", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := k.MAC("alice@example.com", data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CheckMAC", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := k.CheckMAC("alice@example.com", data, tag); err != nil {
				b.Fatal(err)
			}
		}
	})
}
