package keyring_test

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"hash"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/twofa-go/twofa/keyring"
)

// The inputs of the benchmarks: a recovery code's digest, and the golden
// TOTP secret sealed under the primary key.
const (
	benchAccount = "alice@example.com"
	benchBinding = "dev-1/totp/SHA1/6/30"
)

var benchData = []byte("abcd-efgh-2345")

// benchSub is the sub-key of purpose under goldenRing's digest key.
func benchSub(b *testing.B, purpose string) []byte {
	b.Helper()
	sub, err := hkdf.Key(sha256.New, goldenKey("twofa golden digest key"), nil, "twofa/keyring/v1/digest/"+purpose, sha256.Size)
	if err != nil {
		b.Fatal(err)
	}
	return sub
}

func BenchmarkDigest(b *testing.B) {
	k := goldenRing(b)
	for _, purpose := range []string{"recovery-code", "some-other-purpose"} {
		b.Run(purpose, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.Digest(purpose, benchAccount, benchData); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDigestFloor measures the same HMAC as BenchmarkDigest with
// crypto/hmac, keyed on every call, and from HMAC states prepared once,
// restored into reused hashes, with the result on the stack.
func BenchmarkDigestFloor(b *testing.B) {
	sub := benchSub(b, "recovery-code")
	msg := binary.BigEndian.AppendUint16(nil, uint16(len(benchAccount)))
	msg = append(msg, benchAccount...)
	msg = append(msg, benchData...)
	b.Run("hmac.New", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m := hmac.New(sha256.New, sub)
			m.Write(msg)
			m.Sum(nil)
		}
	})
	b.Run("precomputed", func(b *testing.B) {
		var pad [sha256.BlockSize]byte
		state := func(x byte) []byte {
			for i := range pad {
				pad[i] = x
			}
			for i, c := range sub {
				pad[i] ^= c
			}
			h := sha256.New()
			h.Write(pad[:])
			st, err := h.(encoding.BinaryMarshaler).MarshalBinary()
			if err != nil {
				b.Fatal(err)
			}
			return st
		}
		ist, ost := state(0x36), state(0x5c)
		in, out := sha256.New(), sha256.New()
		restore := func(h hash.Hash, st []byte) {
			if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(st); err != nil {
				b.Fatal(err)
			}
		}
		var sum [sha256.Size]byte
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			restore(in, ist)
			in.Write(msg)
			in.Sum(sum[:0])
			restore(out, ost)
			out.Write(sum[:])
			out.Sum(sum[:0])
		}
		b.StopTimer()
		want := hmac.New(sha256.New, sub)
		want.Write(msg)
		if !hmac.Equal(want.Sum(nil), sum[:]) {
			b.Fatal("precomputed states disagree with crypto/hmac")
		}
	})
}

func benchBlob(b *testing.B, k *keyring.Keyring) []byte {
	b.Helper()
	blob, err := k.Seal(benchAccount, benchBinding, []byte("12345678901234567890"))
	if err != nil {
		b.Fatal(err)
	}
	return blob
}

func BenchmarkOpen(b *testing.B) {
	k := goldenRing(b)
	blob := benchBlob(b, k)
	b.Run("dst", func(b *testing.B) {
		buf := make([]byte, 0, len(blob))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := k.Open(buf[:0], benchAccount, benchBinding, blob); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("nil", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := k.Open(nil, benchAccount, benchBinding, blob); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkOpenFloor opens BenchmarkOpen's blob with XChaCha20-Poly1305
// alone: the AEAD and the associated data built beforehand.
func BenchmarkOpenFloor(b *testing.B) {
	k := goldenRing(b)
	blob := benchBlob(b, k)
	a, err := chacha20poly1305.NewX(goldenKey("twofa golden sealing key 20240601"))
	if err != nil {
		b.Fatal(err)
	}
	ad := append([]byte("twofa/keyring/v1/seal"), blob[:5]...)
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(benchAccount)))
	ad = append(ad, benchAccount...)
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(benchBinding)))
	ad = append(ad, benchBinding...)
	const prefix = 5 + chacha20poly1305.NonceSizeX
	buf := make([]byte, 0, len(blob))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Open(buf[:0], blob[5:prefix], blob[prefix:], ad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	k := goldenRing(b)
	pt := []byte("12345678901234567890")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Seal(benchAccount, benchBinding, pt); err != nil {
			b.Fatal(err)
		}
	}
}
