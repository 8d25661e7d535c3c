// Package otp is the hot path of twofa: prepared HMAC states, RFC 4226
// dynamic truncation, decimal digits and typed-code parsing.
//
// A Generator is immutable after New and safe for concurrent use. It holds
// its key schedule itself; the hash states that computing a value needs
// live in a sync.Pool per hash, shared by every Generator and wiped after
// each use, so computing a value allocates nothing in the steady state, a
// Generator costs one allocation (none embedded in another value), and
// computing a value costs two hash compressions: the inner and outer key
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
//
// The key schedule is held in the Generator itself, so a Generator costs no
// allocation beyond its own (none where it is embedded in a value that has
// one); the hash states that computing a value needs are shared by every
// Generator of a hash, in a sync.Pool, and wiped before they go back to it.
type Generator struct {
	digits int
	mod    uint32
	fast   fastKey
	ok     bool       // fast holds a key schedule: the fast path
	slow   *sync.Pool // the crypto/hmac path's states, when !ok
}

// maxState is the length of the largest marshalled state the fast path
// keeps: SHA-512's magic, chaining words, block buffer and length.
const maxState = stateMagic + sha512.Size + sha512.BlockSize + 8

// fastKey is the precomputed key schedule of the fast path.
type fastKey struct {
	h           Hash
	ipad, opad  [maxState]byte // marshalled states after the inner and outer key blocks
	n           int            // the length of the marshalled states
	size, block int            // digest and block size
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
	blank   []byte    // the marshalled state of a fresh hash
	// The crypto/hmac path.
	mac hash.Hash
	msg [8]byte
	sum [sha512.Size]byte
}

// newFastStates returns the hash states of the fast path, or false if the
// hash cannot take it.
func newFastStates(newHash func() hash.Hash) (*macState, bool) {
	in, ok := newHash().(fastHash)
	if !ok {
		return nil, false
	}
	out, ok := newHash().(fastHash)
	if !ok {
		return nil, false
	}
	blank, err := out.AppendBinary(nil)
	if err != nil {
		return nil, false
	}
	return &macState{in: in, out: out, blank: blank}, true
}

// statePools hold the fast path's hash states, one pool per hash, shared
// by every Generator: a state carries nothing of a key between two uses
// (wipe resets it before it goes back).
var statePools = [...]sync.Pool{
	SHA1:   {New: func() any { m, _ := newFastStates(sha1.New); return m }},
	SHA256: {New: func() any { m, _ := newFastStates(sha256.New); return m }},
	SHA512: {New: func() any { m, _ := newFastStates(sha512.New); return m }},
}

// wipe resets the fast path's states and clears the scratch buffers, so
// that no digest, block or state of a key outlives its use.
func (m *macState) wipe() {
	m.in.Reset()
	m.out.Reset()
	clear(m.blk[:])
	clear(m.st[:])
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
	g := new(Generator)
	g.Init(h, key, digits)
	return g
}

// Init prepares g, as New does, in place: for a Generator embedded in a
// value of the caller's. g must not be in use; it is immutable afterwards.
func (g *Generator) Init(h Hash, key []byte, digits int) {
	if h > SHA512 {
		h = SHA1
	}
	g.init(h, key, digits, fastOK[h]())
}

func newGenerator(h Hash, key []byte, digits int, fast bool) *Generator {
	g := new(Generator)
	g.init(h, key, digits, fast)
	return g
}

func (g *Generator) init(h Hash, key []byte, digits int, fast bool) {
	*g = Generator{digits: digits, mod: pow10[digits]}
	if fast {
		// A nil state: the hash cannot take the fast path.
		if m, _ := statePools[h].Get().(*macState); m != nil {
			g.ok = g.fast.init(h, m, key)
			m.wipe()
			statePools[h].Put(m)
		}
	}
	if g.ok {
		return
	}
	g.fast = fastKey{}
	k := append([]byte(nil), key...)
	newHash := h.newFunc()
	g.slow = &sync.Pool{New: func() any {
		m := &macState{mac: hmac.New(newHash, k)}
		// The first Reset records the padded inner and outer states; every
		// later Reset restores them instead of hashing the key blocks.
		m.mac.Reset()
		return m
	}}
}

// init computes the key schedule (RFC 2104 Section 2) with m's states, or
// reports false if the hash cannot take the fast path.
func (f *fastKey) init(hh Hash, m *macState, key []byte) bool {
	if m == nil {
		return false
	}
	h := m.in
	h.Reset()
	f.h, f.size, f.block = hh, h.Size(), h.BlockSize()
	if f.block > sha512.BlockSize || f.size+1+16 > f.block {
		return false
	}
	pad := m.blk[:f.block]
	clear(pad)
	if len(key) > f.block {
		h.Write(key)
		copy(pad, h.Sum(m.st[:0]))
		// The hash buffers the tail of the key, which Reset would leave
		// in place: restoring a fresh state overwrites it.
		if h.UnmarshalBinary(m.blank) != nil {
			return false
		}
	} else {
		copy(pad, key)
	}
	subtle.XORBytes(pad, pad, ipad[:f.block])
	h.Write(pad)
	st, err := h.AppendBinary(m.st[:0])
	if err != nil || len(st) > maxState {
		return false
	}
	f.n = copy(f.ipad[:], st)
	h.Reset()
	subtle.XORBytes(pad, pad, ipadToOpad[:f.block])
	h.Write(pad)
	st, err = h.AppendBinary(m.st[:0])
	if err != nil || len(st) != f.n {
		return false
	}
	copy(f.opad[:], st)
	return true
}

// sum returns HMAC(key, counter) in m's buffer.
func (f *fastKey) sum(m *macState, counter uint64) []byte {
	// The marshalled states are restored from m's buffer, not from f: the
	// hash is an interface, and a slice of f passed to it would move every
	// Generator to the heap.
	st := m.st[:f.n]
	// Inner: the counter, then the padding of a message of one key block
	// plus 8 bytes (FIPS 180-4 Section 5.1). SHA-512's 128-bit length
	// field has its upper half zero.
	blk := m.blk[:f.block]
	clear(blk)
	binary.BigEndian.PutUint64(blk, counter)
	blk[8] = 0x80
	binary.BigEndian.PutUint64(blk[f.block-8:], uint64(f.block+8)*8)
	copy(st, f.ipad[:f.n])
	if err := m.in.UnmarshalBinary(st); err != nil {
		panic("otp: restoring the inner HMAC state: " + err.Error())
	}
	m.in.Write(blk)
	st, _ = m.in.AppendBinary(m.st[:0])
	// Outer: the inner digest, then its padding.
	clear(blk)
	copy(blk, st[stateMagic:stateMagic+f.size])
	blk[f.size] = 0x80
	binary.BigEndian.PutUint64(blk[f.block-8:], uint64(f.block+f.size)*8)
	st = m.st[:f.n]
	copy(st, f.opad[:f.n])
	if err := m.out.UnmarshalBinary(st); err != nil {
		panic("otp: restoring the outer HMAC state: " + err.Error())
	}
	m.out.Write(blk)
	st, _ = m.out.AppendBinary(m.st[:0])
	return st[stateMagic : stateMagic+f.size]
}

// ipad is the inner padding of RFC 2104 for the largest block; ipadToOpad
// turns a key block padded with it into one padded with the outer padding.
var ipad, ipadToOpad = func() (i, o [sha512.BlockSize]byte) {
	for k := range i {
		i[k], o[k] = 0x36, 0x36^0x5c
	}
	return
}()

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
		m, ok := newFastStates(newHash)
		if !ok {
			return false
		}
		var f fastKey
		if !f.init(h, m, key) {
			return false
		}
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

// get returns the states for computing values; put gives them back.
func (g *Generator) get() *macState {
	if g.ok {
		return statePools[g.fast.h].Get().(*macState)
	}
	return g.slow.Get().(*macState)
}

func (g *Generator) put(m *macState) {
	if g.ok {
		m.wipe()
		statePools[g.fast.h].Put(m)
		return
	}
	g.slow.Put(m)
}

// Digits returns the code length.
func (g *Generator) Digits() int { return g.digits }

// Value returns the truncated decimal value of HMAC(key, counter)
// (RFC 4226 Section 5.3), already reduced modulo 10^digits.
func (g *Generator) Value(counter uint64) uint32 {
	m := g.get()
	v := g.value(m, counter)
	g.put(m)
	return v
}

func (g *Generator) value(m *macState, counter uint64) uint32 {
	var sum []byte
	if g.ok {
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
	m := g.get()
	defer g.put(m)
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
	m := g.get()
	defer g.put(m)
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
