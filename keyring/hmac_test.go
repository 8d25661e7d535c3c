package keyring

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// specHMAC is HMAC-SHA-256(sub, uint16 len(account) || account || data)
// with crypto/hmac.
func specHMAC(sub []byte, account string, data []byte) []byte {
	m := hmac.New(sha256.New, sub)
	m.Write(binary.BigEndian.AppendUint16(nil, uint16(len(account))))
	m.Write([]byte(account))
	m.Write(data)
	return m.Sum(nil)
}

// randLen returns a length up to limit, often one next to a multiple of
// the SHA-256 block size, where padding changes.
func randLen(r *rand.Rand, limit int) int {
	if r.IntN(2) == 0 {
		n := r.IntN(limit/sha256.BlockSize+1)*sha256.BlockSize + r.IntN(5) - 2
		return min(limit, max(0, n))
	}
	return r.IntN(limit + 1)
}

func TestHMACKeyMatchesHMAC(t *testing.T) {
	r := rand.New(rand.NewChaCha8([32]byte{'h', 'm', 'a', 'c'}))
	sub := make([]byte, sha256.Size)
	for i := range 5000 {
		if i%50 == 0 {
			for j := range sub {
				sub[j] = byte(r.Uint32())
			}
		}
		var hk hmacKey
		if err := hk.init(sub); err != nil {
			t.Fatal(err)
		}
		account := make([]byte, max(1, randLen(r, MaxBindingLen)))
		data := make([]byte, randLen(r, 600))
		for j := range account {
			account[j] = byte(r.Uint32())
		}
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		prefix := []byte("prefix")
		got := hk.sum(prefix, string(account), data)
		want := append([]byte("prefix"), specHMAC(sub, string(account), data)...)
		if !hmac.Equal(got, want) {
			t.Fatalf("case %d (account %d bytes, data %d bytes): got %x, want %x", i, len(account), len(data), got, want)
		}
	}
}

func TestHMACScratchCleared(t *testing.T) {
	var hk hmacKey
	if err := hk.init([]byte(strings.Repeat("k", sha256.Size))); err != nil {
		t.Fatal(err)
	}
	_ = hk.sum(nil, "alice", []byte("1234-5678-plaintext"))
	// Whatever scratch the pool hands out is blank.
	m := macPool.Get().(*macHashes)
	defer macPool.Put(m)
	st, err := m.h.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if string(st) != string(blankState) {
		t.Error("the hash kept state after a digest")
	}
	if m.sum != [sha256.Size]byte{} {
		t.Error("the inner digest was kept after a digest")
	}
}

func testRing(t testing.TB) (*Keyring, []byte) {
	t.Helper()
	digestKey := []byte(strings.Repeat("d", KeySize))
	k, err := New(1, map[KeyID][]byte{1: []byte(strings.Repeat("s", KeySize))}, digestKey)
	if err != nil {
		t.Fatal(err)
	}
	return k, digestKey
}

func specDigest(t testing.TB, digestKey []byte, purpose, account string, data []byte) []byte {
	t.Helper()
	sub, err := hkdf.Key(sha256.New, digestKey, nil, "twofa/keyring/v1/digest/"+purpose, sha256.Size)
	if err != nil {
		t.Fatal(err)
	}
	return specHMAC(sub, account, data)
}

func cachedPurposes(s *state) int {
	n := 0
	s.extra.Range(func(any, any) bool { n++; return true })
	return n
}

// Purposes outside knownPurposes are cached up to maxCachedPurposes, and
// digested the same way, cached or not.
func TestPurposeCacheBound(t *testing.T) {
	k, digestKey := testRing(t)
	const n = maxCachedPurposes + 40
	for round := range 2 {
		for i := range n {
			p := fmt.Sprintf("purpose-%d", i)
			d, err := k.Digest(p, "alice", []byte("data"))
			if err != nil {
				t.Fatal(err)
			}
			if !hmac.Equal(d, specDigest(t, digestKey, p, "alice", []byte("data"))) {
				t.Fatalf("round %d, %s: wrong digest", round, p)
			}
		}
	}
	if got := cachedPurposes(k.s); got != maxCachedPurposes || k.s.nExtra.Load() != maxCachedPurposes {
		t.Errorf("%d purposes cached (count %d), want %d", got, k.s.nExtra.Load(), maxCachedPurposes)
	}
	for _, p := range knownPurposes {
		if _, ok := k.s.extra.Load(p); ok {
			t.Errorf("known purpose %s cached as an extra one", p)
		}
	}
}

func TestPurposeCacheConcurrent(t *testing.T) {
	k, digestKey := testRing(t)
	const purposes = 2 * maxCachedPurposes
	want := make([][]byte, purposes)
	for i := range want {
		want[i] = specDigest(t, digestKey, fmt.Sprintf("p%d", i%purposes), "bob", []byte("x"))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 4 * purposes {
				j := (i*7 + g*13) % purposes
				d, err := k.Digest(fmt.Sprintf("p%d", j), "bob", []byte("x"))
				if err == nil && !hmac.Equal(d, want[j]) {
					err = fmt.Errorf("p%d: wrong digest", j)
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
	if got := cachedPurposes(k.s); got != maxCachedPurposes || k.s.nExtra.Load() != maxCachedPurposes {
		t.Errorf("%d purposes cached (count %d), want %d", got, k.s.nExtra.Load(), maxCachedPurposes)
	}
}

// The known purposes are looked up without checkPurpose, so each must pass
// it.
func TestKnownPurposesValid(t *testing.T) {
	for _, p := range knownPurposes {
		if err := checkPurpose(p); err != nil {
			t.Errorf("known purpose %q: %v", p, err)
		}
	}
}
