package keyring_test

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/twofa-go/twofa/internal/fuzzseed"
	"github.com/twofa-go/twofa/keyring"
)

// krKey returns test key n: SHA-256("twofa keyring test key <n>"). These
// are test keys only, i.e. NOT how to make a real key (use
// GenerateKeyringKey).
// The Python program at the end of this file derives the same keys.
func krKey(n keyring.KeyID) []byte {
	h := sha256.Sum256(fmt.Appendf(nil, "twofa keyring test key %d", n))
	return h[:]
}

// krDigestKey is the test digest key: SHA-256("twofa keyring test digest key").
func krDigestKey() []byte {
	h := sha256.Sum256([]byte("twofa keyring test digest key"))
	return h[:]
}

// krRing returns a Keyring of the test keys ids, sealing under primary.
func krRing(t testing.TB, primary keyring.KeyID, ids ...keyring.KeyID) *keyring.Keyring {
	t.Helper()
	keys := make(map[keyring.KeyID][]byte, len(ids))
	for _, id := range ids {
		keys[id] = krKey(id)
	}
	k, err := keyring.New(primary, keys, krDigestKey())
	require.NoError(t, err)
	return k
}

func krHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

// requireSealedError checks that err is a *SealedError with the given
// reason, matching ErrInvalidSealed, and returns it.
func requireSealedError(t testing.TB, err error, reason error, msgAndArgs ...any) *keyring.SealedError {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	var se *keyring.SealedError
	require.ErrorAs(t, err, &se, msgAndArgs...)
	require.ErrorIs(t, err, keyring.ErrInvalidSealed, msgAndArgs...)
	require.ErrorIs(t, err, reason, msgAndArgs...)
	return se
}

const (
	krAccount = "alice@example.com"
	krDevice  = "phone-1"
)

// krSecret is the RFC 4226 Appendix D secret, "12345678901234567890".
var krSecret = []byte("12345678901234567890")

func TestKeyringRoundTrip(t *testing.T) {
	k := krRing(t, 2, 1, 2)
	for _, n := range []int{0, 1, 10, 20, 128, keyring.MaxPlaintextSize} {
		pt := bytes.Repeat([]byte{0xa5}, n)
		blob, err := k.Seal(krAccount, krDevice, pt)
		require.NoError(t, err, "size %d", n)
		require.Len(t, blob, n+keyring.SealedOverhead, "size %d", n)
		require.Equal(t, byte(0x01), blob[0], "version byte")
		require.Equal(t, uint32(2), binary.BigEndian.Uint32(blob[1:5]), "key id of the primary")
		id, err := keyring.SealedKeyID(blob)
		require.NoError(t, err)
		require.Equal(t, keyring.KeyID(2), id)

		got, err := k.Open(nil, krAccount, krDevice, blob)
		require.NoError(t, err, "size %d", n)
		require.Equal(t, pt, got, "size %d", n)
	}

	// Random nonces: the same plaintext never seals to the same blob.
	a, err := k.Seal(krAccount, krDevice, krSecret)
	require.NoError(t, err)
	b, err := k.Seal(krAccount, krDevice, krSecret)
	require.NoError(t, err)
	require.NotEqual(t, a[5:29], b[5:29], "nonces")
	require.NotEqual(t, a, b)
	require.False(t, bytes.Contains(a, krSecret), "plaintext visible in blob")
}

// The golden blobs were made by the Python program at the end of this
// file, an
// implementation of the documented format in Python (HChaCha20 written out
// and checked against draft-irtf-cfrg-xchacha-03, ChaCha20-Poly1305 from
// pyca/cryptography). They pin the format: every future version of twofa
// must open them.
var krGolden = []struct {
	name            string
	id              keyring.KeyID
	account, device string
	plaintext       []byte
	blob            string
}{
	{
		name: "key 7, RFC 4226 secret", id: 7, account: krAccount, device: krDevice, plaintext: krSecret,
		blob: "0100000007000102030405060708090a0b0c0d0e0f1011121314151617e473e153cd71281a4318378fc024acaeedbe48e5fd10e67fbcf9750ecf971d85de633484",
	},
	{
		name: "key 20260115, empty plaintext", id: 20260115, account: "a", device: "b", plaintext: []byte{},
		blob: "01013525136465666768696a6b6c6d6e6f707172737475767778797a7b49b22567182f9bd997df49824cf36db7",
	},
}

func TestKeyringGoldenBlobs(t *testing.T) {
	for _, g := range krGolden {
		t.Run(g.name, func(t *testing.T) {
			k := krRing(t, 1, 1, g.id)
			blob := krHex(t, g.blob)
			got, err := k.Open(nil, g.account, g.device, blob)
			require.NoError(t, err)
			require.Equal(t, g.plaintext, got)

			id, err := keyring.SealedKeyID(blob)
			require.NoError(t, err)
			require.Equal(t, g.id, id)

			_, err = k.Open(nil, g.account+"x", g.device, blob)
			requireSealedError(t, err, keyring.ErrSealedTampered)
		})
	}
}

// krSpecAD builds the associated data as the Keyring documentation
// specifies it, independently of keyring.go.
func krSpecAD(header []byte, account, device string) []byte {
	ad := []byte("twofa/keyring/v1/seal")
	ad = append(ad, header...)
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(account)))
	ad = append(ad, account...)
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(device)))
	return append(ad, device...)
}

// TestKeyringFormatSpec opens a Keyring's blob with raw XChaCha20-Poly1305
// and the documented layout, and the other way round.
func TestKeyringFormatSpec(t *testing.T) {
	k := krRing(t, 9, 9)
	aead, err := chacha20poly1305.NewX(krKey(9))
	require.NoError(t, err)

	blob, err := k.Seal("ab", "c", krSecret)
	require.NoError(t, err)
	pt, err := aead.Open(nil, blob[5:29], blob[29:], krSpecAD(blob[:5], "ab", "c"))
	require.NoError(t, err, "the blob does not follow the documented format")
	require.Equal(t, krSecret, pt)

	header := []byte{1, 0, 0, 0, 9}
	nonce := bytes.Repeat([]byte{0x42}, chacha20poly1305.NonceSizeX)
	ours := append(append(bytes.Clone(header), nonce...), aead.Seal(nil, nonce, krSecret, krSpecAD(header, "a", "bc"))...)
	pt, err = k.Open(nil, "a", "bc", ours)
	require.NoError(t, err)
	require.Equal(t, krSecret, pt)
	_, err = k.Open(nil, "ab", "c", ours)
	requireSealedError(t, err, keyring.ErrSealedTampered, "(a, bc) must not open as (ab, c)")
}

func TestKeyringWrongKey(t *testing.T) {
	k := krRing(t, 1, 1)
	blob, err := k.Seal(krAccount, krDevice, krSecret)
	require.NoError(t, err)

	// Another key under the same id: authentication fails.
	other, err := keyring.New(1, map[keyring.KeyID][]byte{1: krKey(100)}, krDigestKey())
	require.NoError(t, err)
	pt, err := other.Open(nil, krAccount, krDevice, blob)
	se := requireSealedError(t, err, keyring.ErrSealedTampered)
	require.Equal(t, keyring.KeyID(1), se.KeyID)
	require.Nil(t, pt)

	// A ring without the blob's key id.
	pt, err = krRing(t, 2, 2).Open(nil, krAccount, krDevice, blob)
	se = requireSealedError(t, err, keyring.ErrUnknownKey)
	require.Equal(t, keyring.KeyID(1), se.KeyID)
	require.Nil(t, pt)

	// The key id rewritten to another key the ring holds.
	both := krRing(t, 1, 1, 2)
	moved := bytes.Clone(blob)
	binary.BigEndian.PutUint32(moved[1:5], 2)
	_, err = both.Open(nil, krAccount, krDevice, moved)
	requireSealedError(t, err, keyring.ErrSealedTampered)
}

func TestKeyringBinding(t *testing.T) {
	k := krRing(t, 1, 1)
	blob, err := k.Seal("ab", "c", krSecret)
	require.NoError(t, err)
	for _, c := range []struct{ account, device string }{
		{"ab", "d"},  // another device
		{"abc", "c"}, // another account
		{"a", "bc"},  // the same bytes, split differently
		{"c", "ab"},  // swapped
		{"AB", "c"},  // ids are bytes, not case-folded
		{"ab", "c\x00"},
	} {
		pt, err := k.Open(nil, c.account, c.device, blob)
		requireSealedError(t, err, keyring.ErrSealedTampered, "%q %q", c.account, c.device)
		require.Nil(t, pt)
	}
	pt, err := k.Open(nil, "ab", "c", blob)
	require.NoError(t, err)
	require.Equal(t, krSecret, pt)
}

func TestKeyringBindingLimits(t *testing.T) {
	k := krRing(t, 1, 1)
	long := strings.Repeat("x", keyring.MaxBindingLen)
	blob, err := k.Seal(long, long, krSecret)
	require.NoError(t, err, "ids of MaxBindingLen bytes")
	_, err = k.Open(nil, long, long, blob)
	require.NoError(t, err)

	good, err := k.Seal(krAccount, krDevice, krSecret)
	require.NoError(t, err)
	for _, c := range []struct{ account, device string }{
		{"", krDevice},
		{krAccount, ""},
		{long + "x", krDevice},
		{krAccount, long + "x"},
	} {
		_, err := k.Seal(c.account, c.device, krSecret)
		require.ErrorIs(t, err, keyring.ErrInvalidBinding, "Seal %d %d", len(c.account), len(c.device))
		pt, err := k.Open(nil, c.account, c.device, good)
		require.ErrorIs(t, err, keyring.ErrInvalidBinding, "Open")
		require.Nil(t, pt)
		nb, changed, err := k.Reseal(c.account, c.device, good)
		require.ErrorIs(t, err, keyring.ErrInvalidBinding, "Reseal")
		require.Nil(t, nb)
		require.False(t, changed)
	}
	_, err = k.Digest(recoveryCode, "", []byte("x"))
	require.ErrorIs(t, err, keyring.ErrInvalidBinding)
	_, err = k.Digest(recoveryCode, long+"x", []byte("x"))
	require.ErrorIs(t, err, keyring.ErrInvalidBinding)

	_, err = k.Seal(krAccount, krDevice, make([]byte, keyring.MaxPlaintextSize+1))
	require.ErrorIs(t, err, keyring.ErrPlaintextTooLarge)
}

// TestKeyringBitFlips flips every bit of a sealed blob, one at a time.
func TestKeyringBitFlips(t *testing.T) {
	k := krRing(t, 1, 1, 2)
	blob, err := k.Seal(krAccount, krDevice, krSecret)
	require.NoError(t, err)
	for i := range blob {
		for bit := range 8 {
			bad := bytes.Clone(blob)
			bad[i] ^= 1 << bit
			pt, err := k.Open(nil, krAccount, krDevice, bad)
			require.Nil(t, pt, "byte %d bit %d opened", i, bit)
			var se *keyring.SealedError
			require.ErrorAs(t, err, &se, "byte %d bit %d", i, bit)
			switch {
			case i == 0:
				require.ErrorIs(t, err, keyring.ErrSealedFormat, "version byte")
			case i < 5:
				// Another key id: unknown, or key 2 that fails to authenticate.
				if se.KeyID == 2 {
					require.ErrorIs(t, err, keyring.ErrSealedTampered, "byte %d bit %d", i, bit)
				} else {
					require.ErrorIs(t, err, keyring.ErrUnknownKey, "byte %d bit %d", i, bit)
				}
			default:
				require.ErrorIs(t, err, keyring.ErrSealedTampered, "byte %d bit %d", i, bit)
			}
			require.NotContains(t, err.Error(), string(krSecret))

			nb, changed, err := k.Reseal(krAccount, krDevice, bad)
			require.ErrorIs(t, err, keyring.ErrInvalidSealed, "Reseal byte %d bit %d", i, bit)
			require.Nil(t, nb)
			require.False(t, changed)
		}
	}
}

func TestKeyringTruncateAndExtend(t *testing.T) {
	k := krRing(t, 1, 1)
	blob, err := k.Seal(krAccount, krDevice, krSecret)
	require.NoError(t, err)
	for n := range len(blob) {
		pt, err := k.Open(nil, krAccount, krDevice, blob[:n])
		require.Nil(t, pt, "length %d", n)
		if n < keyring.SealedOverhead {
			requireSealedError(t, err, keyring.ErrSealedFormat, "length %d", n)
		} else {
			requireSealedError(t, err, keyring.ErrSealedTampered, "length %d", n)
		}
	}
	for _, extra := range [][]byte{{0}, {1}, make([]byte, 16), blob} {
		pt, err := k.Open(nil, krAccount, krDevice, append(bytes.Clone(blob), extra...))
		requireSealedError(t, err, keyring.ErrSealedTampered, "%d bytes appended", len(extra))
		require.Nil(t, pt)
	}
	huge := append(bytes.Clone(blob), make([]byte, keyring.MaxSealedSize)...)
	_, err = k.Open(nil, krAccount, krDevice, huge)
	requireSealedError(t, err, keyring.ErrSealedFormat, "over MaxSealedSize")
}

func TestSealedKeyID(t *testing.T) {
	for _, c := range []struct {
		name string
		blob []byte
		id   keyring.KeyID // 0: an error
	}{
		{"nil", nil, 0},
		{"empty", []byte{}, 0},
		{"version only", []byte{1}, 0},
		{"short id", []byte{1, 0, 0, 0}, 0},
		{"unknown version", []byte{2, 0, 0, 0, 7}, 0},
		{"version zero", []byte{0, 0, 0, 0, 7}, 0},
		{"header only", []byte{1, 0, 0, 0, 7}, 7},
		{"big id", []byte{1, 0xff, 0xff, 0xff, 0xff}, 0xffffffff},
		{"too large", append([]byte{1, 0, 0, 0, 7}, make([]byte, keyring.MaxSealedSize)...), 0},
	} {
		id, err := keyring.SealedKeyID(c.blob)
		if c.id == 0 {
			requireSealedError(t, err, keyring.ErrSealedFormat, c.name)
			require.Zero(t, id, c.name)
		} else {
			require.NoError(t, err, c.name)
			require.Equal(t, c.id, id, c.name)
		}
	}
}

// TestKeyringRotation walks through the documented rotation.
func TestKeyringRotation(t *testing.T) {
	v1 := krRing(t, 1, 1)
	old, err := v1.Seal(krAccount, krDevice, krSecret)
	require.NoError(t, err)

	// Step 1: key 2 deployed, not yet primary. Nothing changes.
	staged := krRing(t, 1, 1, 2)
	nb, changed, err := staged.Reseal(krAccount, krDevice, old)
	require.NoError(t, err)
	require.False(t, changed)
	require.Equal(t, &old[0], &nb[0], "an unchanged blob is returned as is")

	// Step 2: key 2 primary. Old blobs still open; new ones use key 2.
	v2 := krRing(t, 2, 1, 2)
	require.Equal(t, keyring.KeyID(2), v2.Primary())
	require.Equal(t, []keyring.KeyID{1, 2}, v2.KeyIDs())
	pt, err := v2.Open(nil, krAccount, krDevice, old)
	require.NoError(t, err)
	require.Equal(t, krSecret, pt)

	// Step 3: migrate.
	resealed, changed, err := v2.Reseal(krAccount, krDevice, old)
	require.NoError(t, err)
	require.True(t, changed)
	id, err := keyring.SealedKeyID(resealed)
	require.NoError(t, err)
	require.Equal(t, keyring.KeyID(2), id)
	again, changed, err := v2.Reseal(krAccount, krDevice, resealed)
	require.NoError(t, err)
	require.False(t, changed, "a second Reseal is a no-op")
	require.Equal(t, resealed, again)

	// The resealed blob stays bound to its account and device.
	_, _, err = v2.Reseal(krAccount, "phone-2", resealed)
	requireSealedError(t, err, keyring.ErrSealedTampered)

	// Step 4: key 1 dropped.
	v3 := krRing(t, 2, 2)
	_, err = v3.Open(nil, krAccount, krDevice, old)
	se := requireSealedError(t, err, keyring.ErrUnknownKey)
	require.Equal(t, keyring.KeyID(1), se.KeyID)
	_, _, err = v3.Reseal(krAccount, krDevice, old)
	requireSealedError(t, err, keyring.ErrUnknownKey)
	pt, err = v3.Open(nil, krAccount, krDevice, resealed)
	require.NoError(t, err)
	require.Equal(t, krSecret, pt)
}

func TestNewKeyringErrors(t *testing.T) {
	k1, k2 := krKey(1), krKey(2)
	for _, c := range []struct {
		name    string
		primary keyring.KeyID
		keys    map[keyring.KeyID][]byte
		digest  []byte
		keyID   keyring.KeyID // the key the error names
	}{
		{"nil keys", 1, nil, krDigestKey(), 0},
		{"no keys", 1, map[keyring.KeyID][]byte{}, krDigestKey(), 0},
		{"too many keys", 1, krManyKeys(keyring.MaxKeys + 1), krDigestKey(), 0},
		{"id 0", 1, map[keyring.KeyID][]byte{0: k1, 1: k2}, krDigestKey(), 0},
		{"primary 0", 0, map[keyring.KeyID][]byte{1: k1}, krDigestKey(), 0},
		{"primary missing", 3, map[keyring.KeyID][]byte{1: k1, 2: k2}, krDigestKey(), 3},
		{"short key", 1, map[keyring.KeyID][]byte{1: k1[:31]}, krDigestKey(), 1},
		{"long key", 1, map[keyring.KeyID][]byte{1: append(bytes.Clone(k1), 0)}, krDigestKey(), 1},
		{"nil key", 1, map[keyring.KeyID][]byte{1: nil}, krDigestKey(), 1},
		{"zero key", 1, map[keyring.KeyID][]byte{1: k1, 2: make([]byte, 32)}, krDigestKey(), 2},
		{"same key twice", 1, map[keyring.KeyID][]byte{1: k1, 2: bytes.Clone(k1)}, krDigestKey(), 2},
		{"nil digest key", 1, map[keyring.KeyID][]byte{1: k1}, nil, 0},
		{"short digest key", 1, map[keyring.KeyID][]byte{1: k1}, krDigestKey()[:16], 0},
		{"zero digest key", 1, map[keyring.KeyID][]byte{1: k1}, make([]byte, 32), 0},
		{"digest key is a sealing key", 1, map[keyring.KeyID][]byte{1: k1, 2: k2}, bytes.Clone(k2), 2},
	} {
		k, err := keyring.New(c.primary, c.keys, c.digest)
		require.Nil(t, k, c.name)
		require.ErrorIs(t, err, keyring.ErrInvalidKeyring, c.name)
		var ke *keyring.Error
		require.ErrorAs(t, err, &ke, c.name)
		require.Equal(t, c.keyID, ke.KeyID, "%s: %v", c.name, err)
		require.NotEmpty(t, ke.Problem, c.name)
		krRequireNoKeyMaterial(t, err.Error(), c.name)
	}

	_, err := keyring.New(1, krManyKeys(keyring.MaxKeys), krDigestKey())
	require.NoError(t, err, "MaxKeys keys")
}

func krManyKeys(n int) map[keyring.KeyID][]byte {
	keys := make(map[keyring.KeyID][]byte, n)
	for i := 1; i <= n; i++ {
		keys[keyring.KeyID(i)] = krKey(keyring.KeyID(i))
	}
	return keys
}

// krRequireNoKeyMaterial fails if s shows any test key (hex, base64 or raw)
// or any digest sub-key.
func krRequireNoKeyMaterial(t *testing.T, s string, msgAndArgs ...any) {
	t.Helper()
	keys := [][]byte{krDigestKey()}
	for i := range 101 {
		keys = append(keys, krKey(keyring.KeyID(i)))
	}
	for _, p := range krPurposes {
		keys = append(keys, krSubKey(t, p))
	}
	lower := strings.ToLower(s)
	for _, k := range keys {
		require.NotContains(t, s, string(k[:8]), msgAndArgs...)
		for _, form := range []string{
			hex.EncodeToString(k[:8]),
			base64.RawStdEncoding.EncodeToString(k[:9]),
			base64.RawURLEncoding.EncodeToString(k[:9]),
			strings.Trim(fmt.Sprint(k[:4]), "[]"), // as %v prints a []byte
		} {
			require.NotContains(t, lower, strings.ToLower(form), msgAndArgs...)
		}
	}
}

func TestNewKeyringCopiesKeys(t *testing.T) {
	key, digest := krKey(1), krDigestKey()
	keys := map[keyring.KeyID][]byte{1: key}
	k, err := keyring.New(1, keys, digest)
	require.NoError(t, err)
	blob, err := k.Seal(krAccount, krDevice, krSecret)
	require.NoError(t, err)
	d1, err := k.Digest(appPassword, krAccount, []byte("x"))
	require.NoError(t, err)

	clear(key)
	clear(digest)
	keys[2] = krKey(2)
	delete(keys, 1)

	pt, err := k.Open(nil, krAccount, krDevice, blob)
	require.NoError(t, err)
	require.Equal(t, krSecret, pt)
	require.Equal(t, []keyring.KeyID{1}, k.KeyIDs())
	d2, err := k.Digest(appPassword, krAccount, []byte("x"))
	require.NoError(t, err)
	require.Equal(t, d1, d2)

	ids := k.KeyIDs()
	ids[0] = 99
	require.Equal(t, []keyring.KeyID{1}, k.KeyIDs(), "KeyIDs returns a copy")
}

// krSubKey derives a digest sub-key as the Keyring documentation specifies,
// independently of keyring.go.
func krSubKey(t testing.TB, p string) []byte {
	t.Helper()
	sub, err := hkdf.Key(sha256.New, krDigestKey(), nil, "twofa/keyring/v1/digest/"+p, 32)
	require.NoError(t, err)
	return sub
}

func krSpecDigest(t testing.TB, p string, account string, data []byte) []byte {
	t.Helper()
	m := hmac.New(sha256.New, krSubKey(t, p))
	m.Write(binary.BigEndian.AppendUint16(nil, uint16(len(account))))
	m.Write([]byte(account))
	m.Write(data)
	return m.Sum(nil)
}

// The purpose labels twofa digests under (twofa.PurposeRecoveryCode and
// the others).
const (
	recoveryCode = "recovery-code"
	appPassword  = "app-password"
	browserToken = "browser-token"
	oobChallenge = "oob-challenge"
)

var krPurposes = []string{
	recoveryCode,
	appPassword,
	browserToken,
	oobChallenge,
}

func TestKeyringDigestVectors(t *testing.T) {
	// From the Python program at the end of this file (RFC 5869 HKDF
	// written out over Python's hmac): digests of "abcd-efgh-ijkl-mnop"
	// for krAccount.
	want := map[string]string{
		recoveryCode: "3d13f98fadf150f777a20de1b7bfcc11fdc2b06be44a7f5e391292f06764d9a5",
		appPassword:  "122b40567fc626a7e45f85dd43d1fab2f88faee0d91f982cd82d1539ea48413b",
		browserToken: "fae869f3e3073cbd9106c48fbaad98236828244568cb8311a85ad4d88ae15477",
		oobChallenge: "d7ffad709307f0d89530aede110b4e0dd17501e84bdb7ba26fc9a8447ffd6b04",
	}
	labels := map[string]string{
		recoveryCode: "recovery-code",
		appPassword:  "app-password",
		browserToken: "browser-token",
		oobChallenge: "oob-challenge",
	}
	k := krRing(t, 1, 1)
	data := []byte("abcd-efgh-ijkl-mnop")
	for _, p := range krPurposes {
		require.Equal(t, labels[p], p)
		d, err := k.Digest(p, krAccount, data)
		require.NoError(t, err, p)
		require.Len(t, d, keyring.DigestSize)
		require.Equal(t, want[p], hex.EncodeToString(d), p)
		require.Equal(t, krSpecDigest(t, p, krAccount, data), d, p)
	}
}

func TestKeyringDigestProperties(t *testing.T) {
	k := krRing(t, 1, 1)
	digest := func(p string, account, data string) string {
		d, err := k.Digest(p, account, []byte(data))
		require.NoError(t, err)
		return hex.EncodeToString(d)
	}

	seen := map[string]string{}
	distinct := func(name, d string) {
		prev, dup := seen[d]
		require.False(t, dup, "%s and %s digest alike", name, prev)
		seen[d] = name
	}
	for _, p := range krPurposes {
		for _, account := range []string{"alice", "bob", "ab", "a", "alice\x00"} {
			for _, data := range []string{"", "c", "bc", "1234-5678", "1234-5679"} {
				d := digest(p, account, data)
				require.Equal(t, d, digest(p, account, data), "deterministic")
				distinct(fmt.Sprintf("%v/%q/%q", p, account, data), d)
			}
		}
	}
	// ("ab", "c") and ("a", "bc") were both above, and differ.

	// Other Keyrings with the same digest key agree, whatever their
	// sealing keys and primary: a rotation leaves digests valid.
	for _, other := range []*keyring.Keyring{krRing(t, 2, 1, 2), krRing(t, 3, 3), krRing(t, 5, 2, 5, 7)} {
		for _, p := range krPurposes {
			d, err := other.Digest(p, "alice", []byte("1234-5678"))
			require.NoError(t, err)
			require.Equal(t, digest(p, "alice", "1234-5678"), hex.EncodeToString(d), "%v %v", other, p)
		}
	}

	// Another digest key gives other digests.
	otherDigest, err := keyring.New(1, map[keyring.KeyID][]byte{1: krKey(1)}, krKey(50))
	require.NoError(t, err)
	d, err := otherDigest.Digest(appPassword, "alice", []byte("1234-5678"))
	require.NoError(t, err)
	require.NotEqual(t, digest(appPassword, "alice", "1234-5678"), hex.EncodeToString(d))

	// Any other label is a purpose of its own, derived the same way.
	custom, err := k.Digest("webauthn-handle", "alice", []byte("1234-5678"))
	require.NoError(t, err)
	require.Equal(t, krSpecDigest(t, "webauthn-handle", "alice", []byte("1234-5678")), custom)
	distinct("webauthn-handle", hex.EncodeToString(custom))

	// Invalid labels are refused, never digested.
	for _, p := range []string{"", " recovery-code", "recovery code", "Recovery-Code\n", "r\x00", "é", strings.Repeat("p", keyring.MaxPurposeLen+1)} {
		d, err := k.Digest(p, "alice", nil)
		require.ErrorIs(t, err, keyring.ErrInvalidPurpose, "%q", p)
		require.Nil(t, d)
	}
	d, err = k.Digest(strings.Repeat("p", keyring.MaxPurposeLen), "alice", nil)
	require.NoError(t, err)
	require.Len(t, d, keyring.DigestSize)
}

type krHolder struct {
	Name  string
	ring  *keyring.Keyring
	Ring  *keyring.Keyring
	value keyring.Keyring
}

func TestKeyringRedaction(t *testing.T) {
	k := krRing(t, 2, 1, 2)
	const want = "keyring.Keyring(primary=2 keys=[1 2] REDACTED)"
	require.Equal(t, want, k.String())
	require.Equal(t, want, k.GoString())

	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T", "%p", "%10.3v"} {
		for _, v := range []any{k, *k, krHolder{"h", k, k, *k}, &krHolder{"h", k, k, *k}, []*keyring.Keyring{k}, map[string]any{"k": k}} {
			s := fmt.Sprintf(verb, v)
			krRequireNoKeyMaterial(t, s, "%s of %T: %s", verb, v, s)
		}
	}
	require.Equal(t, want, fmt.Sprintf("%v", k))
	require.Equal(t, want, fmt.Sprintf("%#v", k))
	require.Equal(t, want, fmt.Sprintf("%x", k))

	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&buf, nil), slog.NewTextHandler(&buf, nil)} {
		slog.New(h).Info("loaded", "keyring", k, "value", *k)
	}
	krRequireNoKeyMaterial(t, buf.String(), buf.String())
	require.Contains(t, buf.String(), `"keyring":{"primary":2,"keys":"[1 2]"}`)

	var nilRing *keyring.Keyring
	require.Equal(t, "keyring.Keyring(nil)", fmt.Sprint(nilRing))
	require.Equal(t, "keyring.Keyring(nil)", nilRing.LogValue().String())
}

func TestKeyringErrorMessages(t *testing.T) {
	k := krRing(t, 1, 1)
	blob, err := k.Seal(krAccount, krDevice, krSecret)
	require.NoError(t, err)
	for _, c := range []struct {
		blob []byte
		want string
	}{
		{nil, "keyring: invalid sealed blob: malformed: empty"},
		{[]byte{7}, "keyring: invalid sealed blob: malformed: unknown version 7"},
		{blob[:3], "keyring: invalid sealed blob: malformed: truncated"},
		{blob[:10], "keyring: invalid sealed blob: malformed: truncated (key 1)"},
		{blob[:len(blob)-1], "keyring: invalid sealed blob: authentication failed (key 1)"},
		{append([]byte{1, 0, 0, 1, 0}, blob[5:]...), "keyring: invalid sealed blob: unknown key id (key 256)"},
	} {
		_, err := k.Open(nil, krAccount, krDevice, c.blob)
		require.EqualError(t, err, c.want)
	}
	_, err = k.Open(nil, "", krDevice, blob)
	require.EqualError(t, err, "keyring: invalid account or binding: empty account")
	_, err = k.Open(nil, krAccount, strings.Repeat("d", keyring.MaxBindingLen+1), blob)
	require.EqualError(t, err, "keyring: invalid account or binding: binding longer than 1024 bytes")

	_, err = keyring.New(1, map[keyring.KeyID][]byte{1: krKey(1)[:5]}, krDigestKey())
	require.EqualError(t, err, "keyring: invalid keyring: key 1: key is 5 bytes, want 32")
}

func TestKeyringConcurrent(t *testing.T) {
	k := krRing(t, 2, 1, 2)
	old, err := krRing(t, 1, 1).Seal(krAccount, krDevice, krSecret)
	require.NoError(t, err)
	wantDigest, err := k.Digest(recoveryCode, krAccount, []byte("code"))
	require.NoError(t, err)

	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			device := fmt.Sprintf("device-%d", g)
			for i := range 200 {
				pt := fmt.Appendf(nil, "secret %d/%d", g, i)
				blob, err := k.Seal(krAccount, device, pt)
				if err == nil {
					var got []byte
					got, err = k.Open(nil, krAccount, device, blob)
					if err == nil && !bytes.Equal(got, pt) {
						err = errors.New("round trip changed the plaintext")
					}
				}
				if err == nil {
					var nb []byte
					nb, _, err = k.Reseal(krAccount, krDevice, old)
					if err == nil {
						_, err = k.Open(nil, krAccount, krDevice, nb)
					}
				}
				if err == nil {
					var d []byte
					d, err = k.Digest(recoveryCode, krAccount, []byte("code"))
					if err == nil && !bytes.Equal(d, wantDigest) {
						err = errors.New("digest changed")
					}
				}
				if err == nil {
					_ = k.String()
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// seedDir is the module's seed corpora, which fuzzseed loads (Go looks
// only in this package's own testdata).
const seedDir = "../testdata/fuzz"

// FuzzKeyringOpen opens arbitrary blobs bound to ("alice@example.com",
// "phone-1") with a ring of test keys 7 and 20260115 (the keys of the
// golden blobs). Whatever the input: no panic; failures are *SealedError
// values with one of the three reasons; and only the genuine seeds open.
func FuzzKeyringOpen(f *testing.F) {
	fuzzseed.Add(f, seedDir, "FuzzKeyringOpen")
	seeds, err := filepath.Glob(filepath.Join(seedDir, "FuzzKeyringOpen", "valid-*"))
	require.NoError(f, err)
	require.Len(f, seeds, 3, "the genuine seeds valid-*")
	k := krRing(f, 20260115, 7, 20260115)
	for _, s := range seeds {
		args, err := fuzzseed.Read(s)
		require.NoError(f, err, s)
		_, err = k.Open(nil, krAccount, krDevice, args[0].([]byte))
		require.NoError(f, err, "genuine seed %s does not open", s)
	}

	// Seeds too large for a readable file.
	f.Add(bytes.Repeat([]byte{1}, keyring.MaxSealedSize+1))
	f.Add(append([]byte{1, 0, 0, 0, 7}, make([]byte, keyring.MaxSealedSize-5)...))

	wantPlain := map[keyring.KeyID][][]byte{
		7:        {krSecret},
		20260115: {{}, krFuzzPlain64()},
	}
	f.Fuzz(func(t *testing.T, blob []byte) {
		in := bytes.Clone(blob)
		pt, err := k.Open(nil, krAccount, krDevice, blob)
		require.Equal(t, in, blob, "Open modified its input")
		id, idErr := keyring.SealedKeyID(blob)
		if err != nil {
			require.Nil(t, pt)
			var se *keyring.SealedError
			require.ErrorAs(t, err, &se)
			require.ErrorIs(t, err, keyring.ErrInvalidSealed)
			require.True(t, errors.Is(err, keyring.ErrSealedFormat) || errors.Is(err, keyring.ErrUnknownKey) ||
				errors.Is(err, keyring.ErrSealedTampered), "reason %v", se.Reason)
			require.NotContains(t, err.Error(), string(krSecret))
			if !errors.Is(err, keyring.ErrSealedFormat) {
				require.NoError(t, idErr)
				require.Equal(t, id, se.KeyID)
			}
		} else {
			// Only a genuine blob authenticates.
			require.NoError(t, idErr)
			require.Contains(t, wantPlain[id], pt, "key %d", id)
			require.Len(t, blob, len(pt)+keyring.SealedOverhead)
		}

		nb, changed, rerr := k.Reseal(krAccount, krDevice, blob)
		require.Equal(t, err == nil, rerr == nil, "Open and Reseal disagree")
		if rerr == nil {
			require.Equal(t, id != 20260115, changed)
			got, err := k.Open(nil, krAccount, krDevice, nb)
			require.NoError(t, err)
			require.Equal(t, pt, got)
		} else {
			require.Nil(t, nb)
			require.False(t, changed)
		}
	})
}

// krFuzzPlain64 is the plaintext of the seed valid-key20260115-64: the
// bytes 0 to 63.
func krFuzzPlain64() []byte {
	b := make([]byte, 64)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// The golden blobs, digests and fuzz seeds above come from this Python 3
// program, written from the Keyring documentation alone. It needs
// pyca/cryptography for ChaCha20-Poly1305 and checks its HChaCha20 against
// draft-irtf-cfrg-xchacha-03 before use. ("seeds.txt" lists "name hex"
// lines; each became testdata/fuzz/FuzzKeyringOpen/<name> through
// fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", blob).)
//
//	# Independent implementation of twofa's keyring format, for golden vectors.
//	import hashlib, hmac, struct
//	from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
//
//	def rotl(v, c): return ((v << c) & 0xffffffff) | (v >> (32 - c))
//	def qr(x, a, b, c, d):
//	    x[a]=(x[a]+x[b])&0xffffffff; x[d]=rotl(x[d]^x[a],16)
//	    x[c]=(x[c]+x[d])&0xffffffff; x[b]=rotl(x[b]^x[c],12)
//	    x[a]=(x[a]+x[b])&0xffffffff; x[d]=rotl(x[d]^x[a],8)
//	    x[c]=(x[c]+x[d])&0xffffffff; x[b]=rotl(x[b]^x[c],7)
//	def hchacha20(key, n16):
//	    x = [0x61707865,0x3320646e,0x79622d32,0x6b206574] + list(struct.unpack('<8I', key)) + list(struct.unpack('<4I', n16))
//	    for _ in range(10):
//	        qr(x,0,4,8,12); qr(x,1,5,9,13); qr(x,2,6,10,14); qr(x,3,7,11,15)
//	        qr(x,0,5,10,15); qr(x,1,6,11,12); qr(x,2,7,8,13); qr(x,3,4,9,14)
//	    return struct.pack('<8I', *(x[0:4]+x[12:16]))
//	def xseal(key, nonce, pt, ad):
//	    sub = hchacha20(key, nonce[:16])
//	    return ChaCha20Poly1305(sub).encrypt(b'\0'*4 + nonce[16:], pt, ad)
//
//	# Check HChaCha20 against draft-irtf-cfrg-xchacha-03 section 2.2.1.
//	k = bytes(range(32)); n = bytes.fromhex('000000090000004a0000000031415927')
//	assert hchacha20(k, n).hex() == '82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc'
//	# And XChaCha20-Poly1305 against its A.3.1 vector.
//	pt = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."
//	ad = bytes.fromhex('50515253c0c1c2c3c4c5c6c7')
//	key = bytes.fromhex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f')
//	iv = bytes.fromhex('404142434445464748494a4b4c4d4e4f5051525354555657')
//	ct = xseal(key, iv, pt, ad)
//	assert ct[-16:].hex() == 'c0875924c1c7987947deafd8780acf49', ct[-16:].hex()
//
//	def testkey(n): return hashlib.sha256(b'twofa keyring test key %d' % n).digest()
//	digestkey = hashlib.sha256(b'twofa keyring test digest key').digest()
//
//	def lp(s): return struct.pack('>H', len(s)) + s
//	def blob(keyid, nonce, account, device, pt):
//	    hdr = b'\x01' + struct.pack('>I', keyid)
//	    ad = b'twofa/keyring/v1/seal' + hdr + lp(account) + lp(device)
//	    return hdr + nonce + xseal(testkey(keyid), nonce, pt, ad)
//
//	def hkdf(ikm, salt, info, n):
//	    prk = hmac.new(salt or b'\0'*32, ikm, hashlib.sha256).digest()
//	    out, t, i = b'', b'', 1
//	    while len(out) < n:
//	        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest(); out += t; i += 1
//	    return out[:n]
//	def digest(label, account, data):
//	    sub = hkdf(digestkey, None, b'twofa/keyring/v1/digest/' + label, 32)
//	    return hmac.new(sub, lp(account) + data, hashlib.sha256).digest()
//
//	print('key7', testkey(7).hex())
//	print('blob', blob(7, bytes(range(24)), b'alice@example.com', b'phone-1', b'12345678901234567890').hex())
//	print('blob-empty', blob(20260115, bytes(range(100,124)), b'a', b'b', b'').hex())
//	for lab in [b'recovery-code', b'app-password', b'browser-token', b'oob-challenge']:
//	    print(lab.decode(), digest(lab, b'alice@example.com', b'abcd-efgh-ijkl-mnop').hex())
//
//	# Fuzz seeds: all bound to ("alice@example.com", "phone-1"), under keys 7
//	# and 20260115 of the fuzz keyring.
//	A, D = b'alice@example.com', b'phone-1'
//	v7 = blob(7, bytes(range(24)), A, D, b'12345678901234567890')
//	v26 = blob(20260115, bytes(range(100, 124)), A, D, b'')
//	v26b = blob(20260115, bytes(range(200, 224)), A, D, bytes(range(64)))
//	seeds = {
//	  'valid-key7': v7,
//	  'valid-key20260115-empty': v26,
//	  'valid-key20260115-64': v26b,
//	  'empty': b'',
//	  'version-only': b'\x01',
//	  'unknown-version': b'\x02' + v7[1:],
//	  'header-only': v7[:5],
//	  'one-short-of-minimum': v7[:44],
//	  'unknown-key': v7[:1] + struct.pack('>I', 99) + v7[5:],
//	  'key-zero': v7[:1] + b'\0\0\0\0' + v7[5:],
//	  'tag-flipped': v7[:-1] + bytes([v7[-1] ^ 0x80]),
//	  'appended-byte': v7 + b'\0',
//	  'key-swapped': v7[:1] + struct.pack('>I', 20260115) + v7[5:],
//	}
//	with open('seeds.txt', 'w') as f:
//	    for k, v in seeds.items(): f.write('%s %s\n' % (k, v.hex() or '-'))
//	print('v26b', v26b.hex())
