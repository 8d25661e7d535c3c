package keyring

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding"
	"encoding/binary"
	"errors"
	"hash"
	"sync"
)

// HMAC-SHA-256 from prepared states.
//
// HMAC(K, m) is H((K^opad) || H((K^ipad) || m)), and K^ipad and K^opad are
// one block each for a 32-byte K. crypto/hmac hashes both blocks again on
// every hmac.New; an hmacKey hashes them once, and keeps the two SHA-256
// states reached after them in the standard library's marshalled form.
// Each digest restores those states, one after the other, into a pooled
// hash with UnmarshalBinary, so it costs the compressions of the message and of the
// inner digest only, and allocates nothing but its result. This uses only
// the documented round trip of MarshalBinary and UnmarshalBinary, not the
// layout of the marshalled state; TestDigestMatchesHMAC checks the result
// against crypto/hmac.

// stateSize is the size of a marshalled crypto/sha256 state.
const stateSize = 4 + 8*4 + sha256.BlockSize + 8

// hmacKey is the prepared HMAC-SHA-256 of one digest sub-key.
type hmacKey struct {
	inner, outer [stateSize]byte
}

// stateHash is what the prepared states need of a SHA-256 hash.
type stateHash interface {
	hash.Hash
	encoding.BinaryMarshaler
	encoding.BinaryUnmarshaler
}

// macHashes is the per-call scratch of a digest, pooled. One hash serves
// both halves of an HMAC: restoring the outer state replaces every byte of
// the inner one (chaining value and buffered input alike), so the inner
// half needs no clearing of its own: the hash is cleared once, after the
// outer half.
type macHashes struct {
	h   stateHash
	msg [2 + MaxBindingLen]byte // the account's length prefix and bytes
	sum [sha256.Size]byte       // the inner digest; in verify, then the result
}

var macPool = sync.Pool{New: func() any {
	return &macHashes{h: newStateHash()}
}}

// blankState is the marshalled state of a fresh SHA-256: restoring it
// clears a hash's buffered input.
var blankState = func() []byte {
	st, err := newStateHash().MarshalBinary()
	if err != nil || len(st) != stateSize {
		panic("keyring: crypto/sha256 cannot marshal its state")
	}
	return st
}()

func newStateHash() stateHash {
	h, ok := sha256.New().(stateHash)
	if !ok {
		panic("keyring: crypto/sha256 cannot marshal its state")
	}
	return h
}

// init prepares the HMAC states of sub, a sha256.Size-byte key (one that
// hmac.New would use as it is, neither hashed nor longer than a block).
func (hk *hmacKey) init(sub []byte) error {
	var pad [sha256.BlockSize]byte
	defer clear(pad[:])
	h := newStateHash()
	for _, p := range []struct {
		dst *[stateSize]byte
		x   byte
	}{{&hk.inner, 0x36}, {&hk.outer, 0x5c}} {
		for i := range pad {
			pad[i] = p.x
		}
		for i, c := range sub {
			pad[i] ^= c
		}
		h.Reset()
		h.Write(pad[:])
		st, err := h.MarshalBinary()
		if err != nil || len(st) != stateSize {
			return errors.New("keyring: crypto/sha256 cannot marshal its state")
		}
		copy(p.dst[:], st)
		clear(st)
	}
	// Leave no key-dependent state in h for the collector.
	return h.UnmarshalBinary(blankState)
}

// sum appends HMAC(sub, uint16 big-endian len(account) || account || data)
// to dst. account has been checked to be at most MaxBindingLen bytes.
func (hk *hmacKey) sum(dst []byte, account string, data []byte) []byte {
	m := macPool.Get().(*macHashes)
	dst = hk.compute(m, dst, account, data)
	release(m)
	return dst
}

// verify reports, in constant time, whether want is HMAC(sub, uint16
// big-endian len(account) || account || data), computing it in pooled
// scratch, so that a verification allocates nothing.
func (hk *hmacKey) verify(account string, data, want []byte) bool {
	m := macPool.Get().(*macHashes)
	ok := subtle.ConstantTimeCompare(hk.compute(m, m.sum[:0], account, data), want) == 1
	release(m)
	return ok
}

// compute appends the HMAC of account and data to dst, with m's hash.
// dst may be m.sum[:0]: the outer hash has taken in the inner digest
// before the result is written.
func (hk *hmacKey) compute(m *macHashes, dst []byte, account string, data []byte) []byte {
	binary.BigEndian.PutUint16(m.msg[:2], uint16(len(account)))
	n := 2 + copy(m.msg[2:], account)
	// The states are ones MarshalBinary made, so restoring them cannot
	// fail.
	_ = m.h.UnmarshalBinary(hk.inner[:])
	m.h.Write(m.msg[:n])
	m.h.Write(data)
	inner := m.h.Sum(m.sum[:0])
	_ = m.h.UnmarshalBinary(hk.outer[:])
	m.h.Write(inner)
	return m.h.Sum(dst)
}

// release clears m and gives it back to the pool. Its hash holds the outer
// state and buffers the inner digest: restoring a fresh state overwrites
// both (Reset would not do: it leaves the buffered block in place). The
// inner digest, and in verify the result, are cleared from m.sum.
func release(m *macHashes) {
	_ = m.h.UnmarshalBinary(blankState)
	clear(m.sum[:])
	macPool.Put(m)
}
