// Package otp is the hot path of twofa: prepared HMAC states, RFC 4226
// dynamic truncation, decimal digits and typed-code parsing.
//
// A Generator is immutable after New and safe for concurrent use. Its hash
// states live in a sync.Pool, so computing a value allocates nothing in the
// steady state and costs two hash compressions: the inner and outer key
// blocks are restored from precomputed states, not rehashed, and the 8-byte
// counter and the inner digest each fit one block with their padding.
//
// # The fast path
//
// HMAC(K, counter) is H(K^opad || H(K^ipad || counter)). After the key block
// each remaining message fits one block with its padding, so New pads it
// once by hand: Value restores the precomputed state, writes one whole
// block (which the standard library compresses in place, without copying)
// and reads the chaining value back with AppendBinary, instead of going
// through crypto/hmac's Reset, Write and two Sum calls, each of which copies
// the state and pads again. That halves the cost of a code. It relies on the
// layout of the standard library's marshalled hash states (a 4-byte magic,
// then the chaining words big-endian), so the first Generator of each hash
// checks it against crypto/hmac, and every Generator falls back to
// crypto/hmac if the check fails.
package otp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding"
	"encoding/binary"
	"hash"
	"sync"

	"github.com/twofa-go/twofa/internal/typed"
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

// MaxCodeInput bounds the length of a typed code before normalisation
// (surrounding white space included), so a huge input is refused without
// being scanned.
const MaxCodeInput = 32

var pow10 = [...]uint32{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}

// Generator computes HOTP values for one key.
type Generator struct {
	digits int
	mod    uint32
	fast   *fastKey // nil: the crypto/hmac path
	pool   sync.Pool
}

// fastKey is the precomputed key schedule of the fast path.
type fastKey struct {
	newHash     func() hash.Hash
	ipad, opad  []byte // marshalled states after the inner and outer key blocks
	size, block int    // digest and block size
}

// fastHash is what the fast path needs of a hash: restore a marshalled
// state, and marshal one without finalising it.
type fastHash interface {
	hash.Hash
	encoding.BinaryAppender
	encoding.BinaryUnmarshaler
}

// stateMagic is the length of the magic that starts every marshalled state
// of crypto/sha1, crypto/sha256 and crypto/sha512; the chaining words follow.
const stateMagic = 4

type macState struct {
	// The fast path.
	in, out fastHash
	blk     [sha512.BlockSize]byte
	st      [256]byte // a marshalled state (204 bytes for SHA-512)
	// The crypto/hmac path.
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
	if h > SHA512 {
		h = SHA1
	}
	return newGenerator(h, key, digits, fastOK[h]())
}

func newGenerator(h Hash, key []byte, digits int, fast bool) *Generator {
	g := &Generator{digits: digits, mod: pow10[digits]}
	if fast {
		g.fast = newFastKey(h.newFunc(), key)
	}
	if g.fast != nil {
		f := g.fast
		g.pool.New = func() any {
			return &macState{in: f.newHash().(fastHash), out: f.newHash().(fastHash)}
		}
		return g
	}
	k := append([]byte(nil), key...)
	newHash := h.newFunc()
	g.pool.New = func() any {
		m := &macState{mac: hmac.New(newHash, k)}
		// The first Reset records the padded inner and outer states; every
		// later Reset restores them instead of hashing the key blocks.
		m.mac.Reset()
		return m
	}
	return g
}

// newFastKey computes the key schedule (RFC 2104 Section 2), or returns nil
// if the hash cannot take the fast path.
func newFastKey(newHash func() hash.Hash, key []byte) *fastKey {
	h, ok := newHash().(fastHash)
	if !ok {
		return nil
	}
	f := &fastKey{newHash: newHash, size: h.Size(), block: h.BlockSize()}
	if f.block > sha512.BlockSize || f.size+1+16 > f.block {
		return nil
	}
	pad := make([]byte, f.block)
	if len(key) > f.block {
		h.Write(key)
		copy(pad, h.Sum(nil))
		h.Reset()
	} else {
		copy(pad, key)
	}
	var err error
	for i := range pad {
		pad[i] ^= 0x36
	}
	h.Write(pad)
	if f.ipad, err = h.AppendBinary(nil); err != nil {
		return nil
	}
	h.Reset()
	for i := range pad {
		pad[i] ^= 0x36 ^ 0x5c
	}
	h.Write(pad)
	if f.opad, err = h.AppendBinary(nil); err != nil {
		return nil
	}
	clear(pad)
	return f
}

// sum returns HMAC(key, counter) in m's buffer.
func (f *fastKey) sum(m *macState, counter uint64) []byte {
	// Inner: the counter, then the padding of a message of one key block
	// plus 8 bytes (FIPS 180-4 Section 5.1). SHA-512's 128-bit length
	// field has its upper half zero.
	blk := m.blk[:f.block]
	clear(blk)
	binary.BigEndian.PutUint64(blk, counter)
	blk[8] = 0x80
	binary.BigEndian.PutUint64(blk[f.block-8:], uint64(f.block+8)*8)
	if err := m.in.UnmarshalBinary(f.ipad); err != nil {
		panic("otp: restoring the inner HMAC state: " + err.Error())
	}
	m.in.Write(blk)
	st, _ := m.in.AppendBinary(m.st[:0])
	// Outer: the inner digest, then its padding.
	clear(blk)
	copy(blk, st[stateMagic:stateMagic+f.size])
	blk[f.size] = 0x80
	binary.BigEndian.PutUint64(blk[f.block-8:], uint64(f.block+f.size)*8)
	if err := m.out.UnmarshalBinary(f.opad); err != nil {
		panic("otp: restoring the outer HMAC state: " + err.Error())
	}
	m.out.Write(blk)
	st, _ = m.out.AppendBinary(m.st[:0])
	return st[stateMagic : stateMagic+f.size]
}

// fastOK reports, once per hash, whether the fast path computes what
// crypto/hmac does.
var fastOK = [...]func() bool{
	SHA1:   sync.OnceValue(func() bool { return selfTest(SHA1) }),
	SHA256: sync.OnceValue(func() bool { return selfTest(SHA256) }),
	SHA512: sync.OnceValue(func() bool { return selfTest(SHA512) }),
}

func selfTest(h Hash) bool {
	newHash := h.newFunc()
	short := bytes.Repeat([]byte{0x0b}, 20)
	long := bytes.Repeat([]byte{0xaa}, 131) // longer than every block: hashed first
	for _, key := range [][]byte{short, long} {
		f := newFastKey(newHash, key)
		if f == nil {
			return false
		}
		m := &macState{in: newHash().(fastHash), out: newHash().(fastHash)}
		for _, c := range []uint64{0, 0x0123456789abcdef, ^uint64(0)} {
			mac := hmac.New(newHash, key)
			var msg [8]byte
			binary.BigEndian.PutUint64(msg[:], c)
			mac.Write(msg[:])
			if !bytes.Equal(f.sum(m, c), mac.Sum(nil)) {
				return false
			}
		}
	}
	return true
}

// Digits returns the code length.
func (g *Generator) Digits() int { return g.digits }

// Value returns the truncated decimal value of HMAC(key, counter)
// (RFC 4226 Section 5.3), already reduced modulo 10^digits.
func (g *Generator) Value(counter uint64) uint32 {
	m := g.pool.Get().(*macState)
	v := g.value(m, counter)
	g.pool.Put(m)
	return v
}

func (g *Generator) value(m *macState, counter uint64) uint32 {
	var sum []byte
	if g.fast != nil {
		sum = g.fast.sum(m, counter)
	} else {
		m.mac.Reset()
		binary.BigEndian.PutUint64(m.msg[:], counter)
		m.mac.Write(m.msg[:])
		sum = m.mac.Sum(m.sum[:0])
	}
	// Dynamic truncation, RFC 4226 Section 5.3.
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
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

// ParseCode normalises a typed code and returns its value, by the rule of
// package typed: at most MaxCodeInput bytes; leading and trailing white
// space is ignored ("123456\n"); inside, spaces and hyphens are ignored
// wherever they stand ("123 456", "123-456"); anything else must be an
// ASCII digit (a tab or a newline inside is refused), and there must be
// exactly digits of them. It reports false for malformed input and never
// panics.
func ParseCode(code string, digits int) (uint32, bool) {
	code, ok := typed.Trim(code, MaxCodeInput)
	if !ok {
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
		case typed.IsSeparator(c):
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
// Each comparison takes constant time. A failed match computes every
// counter of the range, so its cost does not depend on v; a success
// returns at once, which reveals only that the code matched - as the
// answer does anyway. The caller bounds the range.
func (g *Generator) Match(v uint32, first, last uint64) (uint64, bool) {
	m := g.pool.Get().(*macState)
	defer g.pool.Put(m)
	for c := first; ; c++ {
		if subtle.ConstantTimeEq(int32(g.value(m, c)), int32(v)) == 1 {
			return c, true
		}
		if c == last {
			return 0, false
		}
	}
}

// MatchNearest is Match in the order of distance from centre (centre,
// centre+1, centre-1, centre+2, ...), within [first, last], which must
// contain centre: it reports the matching counter closest to centre, the
// later one on a tie.
func (g *Generator) MatchNearest(v uint32, centre, first, last uint64) (uint64, bool) {
	m := g.pool.Get().(*macState)
	defer g.pool.Put(m)
	if subtle.ConstantTimeEq(int32(g.value(m, centre)), int32(v)) == 1 {
		return centre, true
	}
	for d := uint64(1); d <= max(last-centre, centre-first); d++ {
		if d <= last-centre {
			if c := centre + d; subtle.ConstantTimeEq(int32(g.value(m, c)), int32(v)) == 1 {
				return c, true
			}
		}
		if d <= centre-first {
			if c := centre - d; subtle.ConstantTimeEq(int32(g.value(m, c)), int32(v)) == 1 {
				return c, true
			}
		}
	}
	return 0, false
}
