package otp

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"os"
	"reflect"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rfcKey is the RFC 4226 Appendix D secret (test data only).
var rfcKey = []byte("12345678901234567890")

// reference computes RFC 4226 Section 5.3 directly from crypto/hmac.
func reference(newHash func() hash.Hash, key []byte, counter uint64, digits int) uint32 {
	m := hmac.New(newHash, key)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	return (binary.BigEndian.Uint32(sum[off:]) & 0x7fffffff) % pow10[digits]
}

// TestValueRFC4226 runs the RFC 4226 Appendix D vectors (kept in the
// module's testdata/rfc4226.json) through Value at every code length.
func TestValueRFC4226(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/rfc4226.json")
	require.NoError(t, err)
	var v struct {
		Cases []struct {
			Count            uint64 `json:"count"`
			TruncatedDecimal uint32 `json:"truncated_decimal"`
			HOTP             string `json:"hotp"`
		} `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(raw, &v))
	require.NotEmpty(t, v.Cases, "no RFC 4226 cases")
	for d := MinDigits; d <= MaxDigits; d++ {
		g := New(SHA1, rfcKey, d)
		require.Equal(t, d, g.Digits())
		for _, c := range v.Cases {
			t.Run(fmt.Sprintf("digits=%d/count=%d", d, c.Count), func(t *testing.T) {
				require.Equal(t, c.TruncatedDecimal%pow10[d], g.Value(c.Count))
				if d == 6 {
					require.Equal(t, c.HOTP, string(g.Append(nil, c.Count)))
				}
			})
		}
	}
}

func TestValueMatchesReference(t *testing.T) {
	for _, h := range []struct {
		h   Hash
		new func() hash.Hash
	}{{SHA1, sha1.New}, {SHA256, sha256.New}, {SHA512, sha512.New}} {
		for _, keyLen := range []int{1, 10, 20, 32, 63, 64, 65, 128, 129, 200} {
			key := make([]byte, keyLen)
			for i := range key {
				key[i] = byte(i*7 + keyLen)
			}
			for d := MinDigits; d <= MaxDigits; d++ {
				g := New(h.h, key, d)
				for _, c := range []uint64{0, 1, 2, 1 << 31, 1 << 32, 1<<63 - 1, 1 << 63, math.MaxUint64 - 1, math.MaxUint64} {
					require.Equal(t, reference(h.new, key, c, d), g.Value(c), "hash %d key %d digits %d counter %d", h.h, keyLen, d, c)
				}
			}
		}
	}
}

// TestFastPath: the fast path is in use for every hash (its self-test
// passed on this toolchain), and it computes what crypto/hmac computes for
// keys shorter than, equal to and longer than a block, as the fallback path
// does.
func TestFastPath(t *testing.T) {
	for _, h := range []struct {
		h   Hash
		new func() hash.Hash
	}{{SHA1, sha1.New}, {SHA256, sha256.New}, {SHA512, sha512.New}} {
		require.True(t, fastOK[h.h](), "hash %d: the fast path's self-test failed: the standard library's marshalled hash state changed layout; codes stay correct (crypto/hmac fallback) but slower", h.h)
		require.True(t, New(h.h, rfcKey, 6).ok)
		for _, keyLen := range []int{0, 1, 10, 20, 32, 63, 64, 65, 100, 127, 128, 129, 256} {
			key := make([]byte, keyLen)
			for i := range key {
				key[i] = byte(i*13 + 1)
			}
			fast := newGenerator(h.h, key, 8, true)
			slow := newGenerator(h.h, key, 8, false)
			require.True(t, fast.ok)
			require.False(t, slow.ok)
			for _, c := range []uint64{0, 1, 255, 256, 1 << 32, math.MaxUint64} {
				want := reference(h.new, key, c, 8)
				require.Equal(t, want, fast.Value(c), "fast: hash %d key %d counter %d", h.h, keyLen, c)
				require.Equal(t, want, slow.Value(c), "slow: hash %d key %d counter %d", h.h, keyLen, c)
			}
			// Match on both paths.
			v := fast.Value(77)
			c1, ok1 := fast.Match(v, 70, 80)
			c2, ok2 := slow.Match(v, 70, 80)
			require.True(t, ok1 && ok2)
			require.Equal(t, c1, c2)
		}
	}
}

// opaqueHash hides every method but hash.Hash's.
type opaqueHash struct{ hash.Hash }

func TestFastPathUnsupportedHash(t *testing.T) {
	_, ok := newFastStates(func() hash.Hash { return opaqueHash{sha1.New()} })
	require.False(t, ok)
}

// TestNewCopiesKey: the Generator keeps its own copy of the key, also for
// HMAC states created later by the pool.
func TestNewCopiesKey(t *testing.T) {
	key := append([]byte(nil), rfcKey...)
	g := New(SHA1, key, 6)
	want := g.Value(0)
	clear(key)
	// Drain the pool's state so a new one is built from the stored key.
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 100 {
				if !assert.Equal(t, want, g.Value(0)) {
					return
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, uint32(755224), want)
}

func TestUnknownHashIsSHA1(t *testing.T) {
	// The caller validates the hash; an unknown one must not panic.
	g := New(Hash(99), rfcKey, 6)
	require.Equal(t, New(SHA1, rfcKey, 6).Value(5), g.Value(5))
}

func TestAppendDigits(t *testing.T) {
	cases := []struct {
		v      uint32
		digits int
		want   string
	}{
		{0, 6, "000000"},
		{7, 6, "000007"},
		{123456, 6, "123456"},
		{999999, 6, "999999"},
		{1, 7, "0000001"},
		{9999999, 7, "9999999"},
		{0, 8, "00000000"},
		{12345678, 8, "12345678"},
		{99999999, 8, "99999999"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, string(AppendDigits(nil, c.v, c.digits)), "%d/%d", c.v, c.digits)
		assert.Equal(t, "x"+c.want, string(AppendDigits([]byte("x"), c.v, c.digits)))
	}
}

func TestParseCode(t *testing.T) {
	ok := []struct {
		in     string
		digits int
		want   uint32
	}{
		{"123456", 6, 123456},
		{"000000", 6, 0},
		{"000001", 6, 1},
		{"999999", 6, 999999},
		{"123 456", 6, 123456},
		{"123-456", 6, 123456},
		{" 123456 ", 6, 123456},
		{"1 2 3 4 5 6", 6, 123456},
		{"--123456--", 6, 123456},
		{"1234567", 7, 1234567},
		{"1234 5678", 8, 12345678},
		{"99999999", 8, 99999999},
		{"0000-0000", 8, 0},
		{strings.Repeat(" ", MaxCodeInput-6) + "123456", 6, 123456}, // exactly MaxCodeInput
		{"123456\n", 6, 123456},
		{"123456\r\n", 6, 123456},
		{"\t123456", 6, 123456},
		{"\t 123-456 \v\f", 6, 123456},
		{"\u00a0123456\u2003", 6, 123456},
		{"\n123 4567\n", 7, 1234567},
	}
	for _, c := range ok {
		v, good := ParseCode(c.in, c.digits)
		assert.True(t, good, "%q", c.in)
		assert.Equal(t, c.want, v, "%q", c.in)
	}
	bad := []struct {
		in     string
		digits int
	}{
		{"", 6},
		{" ", 6},
		{"-", 6},
		{"12345", 6},
		{"1234567", 6},
		{"123456", 7},
		{"123456", 8},
		{"12345678", 6},
		{"12345a", 6},
		{"a12345", 6},
		{"12345\x00", 6},
		{"123456\x00", 6},
		{"\x00123456", 6},
		{"123\n456", 6},
		{"123\t456", 6},
		{"123\r456", 6},
		{"123\v456", 6},
		{"\u200b123456", 6},
		{"123456\ufeff", 6},
		{strings.Repeat("\n", MaxCodeInput-5) + "123456", 6}, // MaxCodeInput + 1
		{"123_456", 6},
		{"123.456", 6},
		{"+123456", 6},
		{"１２３４５６", 6},
		{"١٢٣٤٥٦", 6},
		{"123\u00a0456", 6},
		{"12345\xff", 6},
		{strings.Repeat(" ", MaxCodeInput-5) + "123456", 6}, // MaxCodeInput + 1
		{strings.Repeat("1", 10<<20), 6},
		{strings.Repeat("9", 10), 8}, // would overflow nothing, still too long
		{"4294967296", 8},
	}
	for _, c := range bad {
		var v uint32
		var good bool
		require.NotPanics(t, func() { v, good = ParseCode(c.in, c.digits) })
		assert.False(t, good, "%.40q (%d digits)", c.in, c.digits)
		assert.Zero(t, v, "%.40q", c.in)
	}
}

func TestMatch(t *testing.T) {
	g := New(SHA1, rfcKey, 6)
	// RFC 4226 Appendix D: counter 5 is 254676.
	c, ok := g.Match(254676, 0, 9)
	require.True(t, ok)
	require.Equal(t, uint64(5), c)
	c, ok = g.Match(254676, 5, 5)
	require.True(t, ok)
	require.Equal(t, uint64(5), c)
	_, ok = g.Match(254676, 6, 100)
	require.False(t, ok)
	_, ok = g.Match(254676, 0, 4)
	require.False(t, ok)

	// The window ending at the last counter terminates and does not wrap.
	top := g.Value(math.MaxUint64)
	c, ok = g.Match(top, math.MaxUint64-10, math.MaxUint64)
	require.True(t, ok)
	require.Equal(t, uint64(math.MaxUint64), c)
	c, ok = g.Match(top, math.MaxUint64, math.MaxUint64)
	require.True(t, ok)
	require.Equal(t, uint64(math.MaxUint64), c)
	_, ok = g.Match(g.Value(0), math.MaxUint64-10, math.MaxUint64)
	require.False(t, ok)

	// Of two matches, the lowest counter wins.
	seen := map[uint32]uint64{}
	var a, b uint64
	for i := uint64(0); ; i++ {
		v := g.Value(i)
		if j, dup := seen[v]; dup && i-j <= 100 {
			a, b = j, i
			break
		}
		seen[v] = i
	}
	c, ok = g.Match(g.Value(a), a, b)
	require.True(t, ok)
	require.Equal(t, a, c)
	c, ok = g.Match(g.Value(a), a+1, b)
	require.True(t, ok)
	require.Equal(t, b, c)
}

func TestGeneratorConcurrent(t *testing.T) {
	gens := []*Generator{New(SHA1, rfcKey, 6), New(SHA256, rfcKey, 7), New(SHA512, rfcKey, 8)}
	news := []func() hash.Hash{sha1.New, sha256.New, sha512.New}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 300 {
				k := (w + i) % len(gens)
				c := uint64(w*1000 + i)
				if !assert.Equal(t, reference(news[k], rfcKey, c, gens[k].Digits()), gens[k].Value(c)) {
					return
				}
			}
		})
	}
	wg.Wait()
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

func TestNoAllocs(t *testing.T) {
	if raceEnabled() {
		t.Skip("sync.Pool drops items on purpose under -race")
	}
	for _, h := range []Hash{SHA1, SHA256, SHA512} {
		g := New(h, rfcKey, 8)
		buf := make([]byte, 0, MaxDigits)
		assert.Zero(t, testing.AllocsPerRun(200, func() { _ = g.Value(42) }), "Value %d", h)
		assert.Zero(t, testing.AllocsPerRun(200, func() { buf = g.Append(buf[:0], 42) }), "Append %d", h)
		assert.Zero(t, testing.AllocsPerRun(200, func() { _, _ = g.Match(12345678, 40, 42) }), "Match %d", h)
		assert.Zero(t, testing.AllocsPerRun(200, func() { _, _ = ParseCode("1234 5678", 8) }), "ParseCode")
	}
}

func BenchmarkValue(b *testing.B) {
	for _, h := range []struct {
		name string
		h    Hash
	}{{"SHA1", SHA1}, {"SHA256", SHA256}, {"SHA512", SHA512}} {
		b.Run(h.name, func(b *testing.B) {
			g := New(h.h, rfcKey, 6)
			b.ReportAllocs()
			var c uint64
			for b.Loop() {
				_ = g.Value(c)
				c++
			}
		})
	}
}

func BenchmarkParseCode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_, _ = ParseCode("123 456", 6)
	}
}

// TestSharedStates: Generators of different keys share their hash's pooled
// states; used concurrently and interleaved, each still computes its own
// key's values, and a state goes back to the pool wiped.
func TestSharedStates(t *testing.T) {
	for _, h := range []struct {
		h   Hash
		new func() hash.Hash
	}{{SHA1, sha1.New}, {SHA256, sha256.New}, {SHA512, sha512.New}} {
		keys := [][]byte{[]byte("12345678901234567890"), []byte("another key, longer than the first one"), make([]byte, 200)}
		var wg sync.WaitGroup
		for _, key := range keys {
			g := New(h.h, key, 8)
			wg.Go(func() {
				for c := range uint64(200) {
					if !assert.Equal(t, reference(h.new, key, c, 8), g.Value(c), "hash %d counter %d", h.h, c) {
						return
					}
				}
			})
		}
		wg.Wait()
		m := statePools[h.h].Get().(*macState)
		fresh, _ := newFastStates(h.new)
		want, _ := fresh.in.AppendBinary(nil)
		got, _ := m.in.AppendBinary(nil)
		assert.Equal(t, want, got, "hash %d: a pooled inner state is reset", h.h)
		got, _ = m.out.AppendBinary(nil)
		assert.Equal(t, want, got, "hash %d: a pooled outer state is reset", h.h)
		assert.Equal(t, [sha512.BlockSize]byte{}, m.blk)
		assert.Equal(t, [256]byte{}, m.st)
		statePools[h.h].Put(m)
	}
}

// TestLongKeyNotBuffered: a key longer than the hash's block is hashed
// first, and the tail of it that the hash buffers is overwritten before
// the state goes back to the pool (Reset leaves the buffer in place).
// The buffer is read through reflection: AppendBinary shows only its used
// part, which Reset empties.
func TestLongKeyNotBuffered(t *testing.T) {
	for _, h := range []struct {
		h   Hash
		new func() hash.Hash
	}{{SHA1, sha1.New}, {SHA256, sha256.New}, {SHA512, sha512.New}} {
		key := []byte(strings.Repeat("long key, hashed first; ", 8) + "12345678") // 200 bytes: a tail in every hash
		m, ok := newFastStates(h.new)
		require.True(t, ok)
		var f fastKey
		require.True(t, f.init(h.h, m, key))
		m.wipe()
		for name, st := range map[string]fastHash{"inner": m.in, "outer": m.out} {
			v := reflect.ValueOf(st)
			for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
				v = v.Elem()
			}
			x := v.FieldByName("x")
			if !x.IsValid() || x.Kind() != reflect.Array {
				t.Skipf("hash %d: no buffer field x in %s", h.h, v.Type())
			}
			for i := range x.Len() {
				if x.Index(i).Uint() != 0 {
					t.Errorf("hash %d: the %s state buffers key bytes after the key schedule", h.h, name)
					break
				}
			}
		}
	}
}
