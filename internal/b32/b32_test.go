package b32

import (
	"bytes"
	"encoding/base32"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa/internal/fuzzseed"
)

// RFC 4648 Section 10 test vectors, unpadded (our canonical form).
func TestEncodeRFC4648(t *testing.T) {
	for _, c := range []struct{ in, out string }{
		{"", ""},
		{"f", "MY"},
		{"fo", "MZXQ"},
		{"foo", "MZXW6"},
		{"foob", "MZXW6YQ"},
		{"fooba", "MZXW6YTB"},
		{"foobar", "MZXW6YTBOI"},
	} {
		assert.Equal(t, c.out, Encode([]byte(c.in)), "%q", c.in)
		for _, in := range []string{c.out, strings.ToLower(c.out), padded(c.out)} {
			b, p, off := Decode(in)
			assert.Equal(t, OK, p, "%q", in)
			assert.Equal(t, -1, off)
			assert.Equal(t, c.in, string(b), "%q", in)
		}
	}
}

func padded(s string) string {
	if n := len(s) % 8; n != 0 {
		return s + strings.Repeat("=", 8-n)
	}
	return s
}

func TestDecodeProblems(t *testing.T) {
	cases := []struct {
		in     string
		p      Problem
		offset int // -1: the input as a whole
	}{
		{"MZXW6YTBOI", OK, -1},
		{"mzxw 6ytb-oi", OK, -1},
		{"MZXW6YTBOI======", OK, -1},
		{"MZXW6YTB OI== ====", OK, -1},
		{"\tMZXW6YTBOI\t", OK, -1},
		{"MZXW6YTBOI\n", OK, -1},
		{"\r\n mzxw 6ytb-oi== ====\r\n", OK, -1},
		{"\u00a0MZXW6YTBOI\u3000", OK, -1},
		{" \t\n", OK, -1},
		{"", OK, -1},
		{"   ", OK, -1},
		{"MZXW1", BadChar, 4},
		{"0ZXW6", BadChar, 0},
		{"MZ XW 8", BadChar, 6},
		{"MZXW6YTB!", BadChar, 8},
		{"MZXW\x00", BadChar, 4},
		{"MZXWé", BadChar, 4},
		{"MZXW\nOI", BadChar, 4},
		{"MZXW\tOI", BadChar, 4},
		{"\tMZXW\tOI", BadChar, 5},
		{" \n MZ1", BadChar, 5},
		{"\u00a0MZXW\u00a0OI", BadChar, 6},
		{"\u200bMZXW6YTBOI", BadChar, 0},
		{"\n\nMZ=XW6YTB", BadPadding, 4},
		{"MZXW_", BadChar, 4},
		{"MZ=XW6YTB", BadPadding, 2},
		{"MZ======A", BadPadding, 2},
		{"MZXW6YTB=", BadPadding, 8},
		{"MZXW6YTBOI=====", BadPadding, 10},   // 5 of 6
		{"MZXW6YTBOI=======", BadPadding, 10}, // 7 of 6
		{"========", BadPadding, 0},
		{"MZ==!", BadChar, 4}, // the bad character comes first
		{"M", BadLength, -1},
		{"MZX", BadLength, -1},
		{"MZXW6Y", BadLength, -1},
		{"MZXW6YTBM", BadLength, -1},
		{"M=======", BadLength, -1},
		{strings.Repeat(" ", MaxInput+1), BadLength, -1},
		{"MZXW6YTBOI" + strings.Repeat("\n", MaxInput), BadLength, -1},
		{strings.Repeat("A", MaxInput+1), BadLength, -1},
		{strings.Repeat("!", MaxInput+1), BadLength, -1}, // the length is checked first
	}
	for _, c := range cases {
		b, p, off := Decode(c.in)
		assert.Equal(t, c.p, p, "%.40q", c.in)
		assert.Equal(t, c.offset, off, "%.40q", c.in)
		if p != OK {
			assert.Nil(t, b, "%.40q", c.in)
		}
	}
	// MaxInput itself is accepted.
	in := strings.Repeat(" ", MaxInput-16) + "MZXW6YTBMZXW6YTB"
	b, p, _ := Decode(in)
	require.Equal(t, OK, p)
	require.Equal(t, "foobafooba", string(b))
}

func TestRoundTripAllLengths(t *testing.T) {
	for n := 0; n <= 160; n++ {
		raw := bytes.Repeat([]byte{0xa7, 0x01, 0x5c}, n)[:n]
		enc := Encode(raw)
		require.Equal(t, base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw), enc)
		for _, in := range []string{enc, padded(enc), strings.ToLower(enc), groups(enc, " ", 4), groups(padded(enc), "-", 3)} {
			if len(in) > MaxInput {
				continue
			}
			b, p, _ := Decode(in)
			require.Equal(t, OK, p, "%d bytes: %q", n, in)
			require.Equal(t, raw, append([]byte{}, b...), "%d bytes: %q", n, in)
		}
	}
}

func groups(s, sep string, n int) string {
	var parts []string
	for len(s) > n {
		parts = append(parts, s[:n])
		s = s[n:]
	}
	return strings.Join(append(parts, s), sep)
}

// ---- fuzzing ----

// The seed corpora are kept with the module's other fuzz seeds, in
// ../../testdata/fuzz/<FuzzName> ("go test fuzz v1" files), and added
// explicitly: a missing or empty directory fails the test.
const seedDir = "../../testdata/fuzz"

func addSeeds(f *testing.F, name string) {
	f.Helper()
	fuzzseed.Add(f, seedDir, name)
}

func isSep(c byte) bool { return c == ' ' || c == '-' }

func isSym(c byte) bool {
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')
}

// FuzzB32Decode: Decode never panics, its problems and offsets are
// truthful, and what it accepts the standard library decodes to the same
// bytes (after the normalisation Decode documents).
func FuzzB32Decode(f *testing.F) {
	addSeeds(f, "FuzzB32Decode")
	f.Fuzz(func(t *testing.T, s string) {
		b, p, off := Decode(s)
		if p != OK && b != nil {
			t.Fatalf("Decode(%q) returned bytes with problem %d", s, p)
		}
		if len(s) > MaxInput {
			if p != BadLength || off != -1 {
				t.Fatalf("Decode of %d bytes = %d, %d; want BadLength", len(s), p, off)
			}
			return
		}
		// Surrounding white space is ignored; offsets count from the
		// start of s.
		in := strings.TrimSpace(s)
		lead := len(s) - len(strings.TrimLeftFunc(s, unicode.IsSpace))
		var syms []byte
		pads := 0
		for i := 0; i < len(in); i++ {
			switch c := in[i]; {
			case isSep(c):
			case c == '=':
				pads++
			default:
				syms = append(syms, c)
			}
		}
		switch p {
		case OK:
			if off != -1 {
				t.Fatalf("Decode(%q): OK with offset %d", s, off)
			}
			norm := strings.ToUpper(string(syms))
			want, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(norm)
			if err != nil {
				t.Fatalf("Decode(%q) accepted what the stdlib refuses: %v", s, err)
			}
			if !bytes.Equal(b, want) {
				t.Fatalf("Decode(%q) = %x, stdlib %x", s, b, want)
			}
			if pads != 0 {
				// The padding, if any, is at the end and completes the group.
				if (len(syms)+pads)%8 != 0 || strings.TrimRight(strings.Map(func(r rune) rune {
					if isSep(byte(r)) {
						return -1
					}
					return r
				}, in), "=") != string(syms) {
					t.Fatalf("Decode(%q) accepted bad padding", s)
				}
			}
			// Encode is canonical and decodes back.
			enc := Encode(b)
			b2, p2, _ := Decode(enc)
			if p2 != OK || !bytes.Equal(b, b2) || Encode(b2) != enc {
				t.Fatalf("Encode(%x) = %q does not round-trip", b, enc)
			}
		case BadChar:
			if off < lead || off >= lead+len(in) {
				t.Fatalf("Decode(%q): BadChar offset %d out of range", s, off)
			}
			if c := s[off]; isSym(c) || isSep(c) || c == '=' {
				t.Fatalf("Decode(%q): BadChar at %d, a valid %q", s, off, c)
			}
			for i := lead; i < off; i++ {
				if c := s[i]; !isSym(c) && !isSep(c) && c != '=' {
					t.Fatalf("Decode(%q): BadChar at %d, but %q at %d comes first", s, off, c, i)
				}
			}
		case BadPadding:
			if off < lead || off >= lead+len(in) || s[off] != '=' || lead+strings.IndexByte(in, '=') != off {
				t.Fatalf("Decode(%q): BadPadding offset %d is not the first '='", s, off)
			}
		case BadLength:
			if off != -1 {
				t.Fatalf("Decode(%q): BadLength with offset %d", s, off)
			}
			if r := len(syms) % 8; r != 1 && r != 3 && r != 6 {
				t.Fatalf("Decode(%q): BadLength for %d symbols", s, len(syms))
			}
		default:
			t.Fatalf("Decode(%q): unknown problem %d", s, p)
		}
	})
}

// FuzzB32RoundTrip: every byte string encodes canonically (as the stdlib
// does) and decodes back from the canonical form, lower case, padded and
// grouped forms.
func FuzzB32RoundTrip(f *testing.F) {
	addSeeds(f, "FuzzB32RoundTrip")
	f.Fuzz(func(t *testing.T, raw []byte) {
		enc := Encode(raw)
		if want := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw); enc != want {
			t.Fatalf("Encode(%x) = %q, stdlib %q", raw, enc, want)
		}
		for _, in := range []string{enc, strings.ToLower(enc), padded(enc), groups(enc, " ", 4), groups(padded(enc), "-", 5), groups(enc, " ", 1), "\t" + groups(enc, "-", 8) + "\r\n"} {
			b, p, off := Decode(in)
			if len(in) > MaxInput {
				if p != BadLength {
					t.Fatalf("Decode of %d bytes = %d, want BadLength", len(in), p)
				}
				continue
			}
			if p != OK || off != -1 || !bytes.Equal(b, raw) {
				t.Fatalf("Decode(%q) = %x, %d, %d; want %x", in, b, p, off, raw)
			}
		}
	})
}
