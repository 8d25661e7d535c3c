// Package otp is the hot path of twofa: prepared HMAC states, RFC 4226
// dynamic truncation, decimal digits and typed-code parsing.
//
// A Generator is immutable after New and safe for concurrent use. Its HMAC
// states live in a sync.Pool, so computing a value allocates nothing in the
// steady state and costs two hash compressions (the inner and outer key
// blocks are restored from precomputed states, not rehashed).
package otp

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"hash"
	"sync"
)

// Hash names the HMAC hash function.
type Hash uint8

// The hash functions of RFC 6238 Section 1.2.
const (
	SHA1 Hash = iota
	SHA256
	SHA512
)

// MinDigits and MaxDigits bound the code length. RFC 4226 Section 5.3 asks
// for at least 6 digits; 8 is the most RFC 6238 shows and authenticator apps
// display (a 31-bit truncated value cannot fill more than 9 digits anyway).
const (
	MinDigits = 6
	MaxDigits = 8
)

// MaxCodeInput bounds the length of a typed code before normalisation, so a
// huge input is refused without being scanned.
const MaxCodeInput = 32

var pow10 = [...]uint32{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}

// Generator computes HOTP values for one key.
type Generator struct {
	digits int
	mod    uint32
	pool   sync.Pool
}

type macState struct {
	mac hash.Hash
	msg [8]byte
	sum [sha512.Size]byte
}

func (h Hash) newFunc() func() hash.Hash {
	switch h {
	case SHA256:
		return sha256.New
	case SHA512:
		return sha512.New
	default:
		return sha1.New
	}
}

// New returns a Generator for key (copied) producing codes of the given
// number of digits. The caller validates digits and the hash.
func New(h Hash, key []byte, digits int) *Generator {
	k := append([]byte(nil), key...)
	newHash := h.newFunc()
	g := &Generator{digits: digits, mod: pow10[digits]}
	g.pool.New = func() any {
		m := &macState{mac: hmac.New(newHash, k)}
		// The first Reset records the padded inner and outer states; every
		// later Reset restores them instead of hashing the key blocks.
		m.mac.Reset()
		return m
	}
	return g
}

// Digits returns the code length.
func (g *Generator) Digits() int { return g.digits }

// Value returns the truncated decimal value of HMAC(key, counter)
// (RFC 4226 Section 5.3), already reduced modulo 10^digits.
func (g *Generator) Value(counter uint64) uint32 {
	m := g.pool.Get().(*macState)
	m.mac.Reset()
	binary.BigEndian.PutUint64(m.msg[:], counter)
	m.mac.Write(m.msg[:])
	sum := m.mac.Sum(m.sum[:0])
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	g.pool.Put(m)
	return bin % g.mod
}

// Append appends the zero-padded decimal code for counter to dst.
func (g *Generator) Append(dst []byte, counter uint64) []byte {
	return AppendDigits(dst, g.Value(counter), g.digits)
}

// AppendDigits appends v as exactly digits decimal digits, zero padded.
func AppendDigits(dst []byte, v uint32, digits int) []byte {
	var buf [MaxDigits]byte
	for i := digits - 1; i >= 0; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, buf[:digits]...)
}

// ParseCode normalises a typed code and returns its value. Spaces and
// hyphens are ignored wherever they stand ("123 456", "123-456"); anything
// else must be an ASCII digit, and there must be exactly digits of them.
// It reports false for malformed input and never panics.
func ParseCode(code string, digits int) (uint32, bool) {
	if len(code) > MaxCodeInput {
		return 0, false
	}
	var v uint32
	n := 0
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case c >= '0' && c <= '9':
			n++
			if n > digits {
				return 0, false
			}
			v = v*10 + uint32(c-'0')
		case c == ' ' || c == '-':
		default:
			return 0, false
		}
	}
	if n != digits {
		return 0, false
	}
	return v, true
}

// Match reports the lowest counter in [first, last] whose value equals v.
// Every counter in the range is computed and compared in constant time, so
// the work done does not depend on where, or whether, the code matched.
// The caller bounds the range.
func (g *Generator) Match(v uint32, first, last uint64) (uint64, bool) {
	var found uint64
	ok := 0
	for c := first; ; c++ {
		eq := subtle.ConstantTimeEq(int32(g.Value(c)), int32(v))
		// Keep the first match: take c only while nothing was found yet.
		take := eq &^ ok
		mask := -uint64(take)
		found = c&mask | found&^mask
		ok |= eq
		if c == last {
			break
		}
	}
	return found, ok == 1
}
