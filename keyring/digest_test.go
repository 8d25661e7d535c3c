package keyring_test

import (
	"math/rand/v2"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa/keyring"
)

// TestKeyringDigestMatchesHMAC checks Digest against the specification
// (HKDF, then crypto/hmac) over random accounts and data, for twofa's
// purposes and others.
func TestKeyringDigestMatchesHMAC(t *testing.T) {
	k := krRing(t, 1, 1)
	r := rand.New(rand.NewChaCha8([32]byte{'d', 'i', 'g', 'e', 's', 't'}))
	purposes := append([]string{"webauthn-handle", "x", "Z~!"}, krPurposes...)
	for i := range 3000 {
		p := purposes[r.IntN(len(purposes))]
		account := make([]byte, 1+r.IntN(keyring.MaxBindingLen))
		if r.IntN(2) == 0 {
			account = account[:1+r.IntN(min(80, len(account)))]
		}
		data := make([]byte, r.IntN(300))
		for j := range account {
			account[j] = byte(r.Uint32())
		}
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		d, err := k.Digest(p, string(account), data)
		require.NoError(t, err)
		require.Equal(t, krSpecDigest(t, p, string(account), data), d, "case %d, %s, account %d bytes, data %d bytes", i, p, len(account), len(data))
	}
}

func raceEnabled() bool {
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

// TestKeyringAllocs pins the allocations of the hot paths: Digest
// allocates only its result, Open into a buffer with room nothing, Open
// into nil and Seal only the returned slice.
func TestKeyringAllocs(t *testing.T) {
	if raceEnabled() {
		t.Skip("sync.Pool drops items on purpose under -race")
	}
	k := krRing(t, 1, 1)
	blob, err := k.Seal(krAccount, krDevice, krSecret)
	require.NoError(t, err)
	buf := make([]byte, 0, len(blob))
	data := []byte("abcd-efgh-2345")
	for name, c := range map[string]struct {
		allocs float64
		f      func()
	}{
		"Digest":             {1, func() { _, _ = k.Digest(recoveryCode, krAccount, data) }},
		"Digest, other":      {1, func() { _, _ = k.Digest("webauthn-handle", krAccount, data) }},
		"Open into a buffer": {0, func() { _, _ = k.Open(buf[:0], krAccount, krDevice, blob) }},
		"Open into nil":      {1, func() { _, _ = k.Open(nil, krAccount, krDevice, blob) }},
		"Seal":               {1, func() { _, _ = k.Seal(krAccount, krDevice, krSecret) }},
	} {
		c.f() // caches the other purpose
		require.Equal(t, c.allocs, testing.AllocsPerRun(200, c.f), name)
	}
}
