// Package b32 decodes the base32 secrets people type and services emit:
// RFC 4648 Section 6 alphabet, upper or lower case, with spaces and hyphens
// between groups, with or without "=" padding.
package b32

import (
	"encoding/base32"

	"github.com/twofa-go/twofa/internal/typed"
)

// Problem says what is wrong with an input.
type Problem uint8

// The problems Decode reports.
const (
	OK         Problem = iota
	BadChar            // a character outside the alphabet and separators
	BadPadding         // "=" not at the end, or the wrong number of them
	BadLength          // a length no encoder produces (1, 3 or 6 symbols in the last group)
)

// MaxInput bounds the input length in bytes, separators and surrounding
// white space included.
const MaxInput = 1024

var enc = base32.StdEncoding.WithPadding(base32.NoPadding)

// Encode returns the canonical form: upper case, no padding, no separators.
func Encode(b []byte) string { return enc.EncodeToString(b) }

// Decode decodes s by the rule of package typed: an input longer than
// MaxInput is BadLength, leading and trailing white space is ignored, and
// inside, spaces and hyphens are separators, anywhere; any other character
// outside the alphabet and the final "=" padding (a tab or a newline
// inside, for one) is BadChar. On failure it returns the problem and the
// byte offset in s where it was found (-1 when it concerns the input as a
// whole).
func Decode(s string) ([]byte, Problem, int) {
	t, ok := typed.Trim(s, MaxInput)
	if !ok {
		return nil, BadLength, -1
	}
	b, p, off := decode(t)
	if off >= 0 {
		off += typed.Leading(s)
	}
	return b, p, off
}

// decode decodes trimmed input; offsets are in s.
func decode(s string) ([]byte, Problem, int) {
	syms := make([]byte, 0, len(s))
	pad, padAt := 0, -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case typed.IsSeparator(c):
			continue
		case c == '=':
			if pad == 0 {
				padAt = i
			}
			pad++
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		case (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'):
		default:
			return nil, BadChar, i
		}
		if pad > 0 {
			// A symbol after padding.
			return nil, BadPadding, padAt
		}
		syms = append(syms, c)
	}
	// Symbols in the final 8-symbol group, and the padding that completes it.
	var wantPad int
	switch len(syms) % 8 {
	case 0:
		wantPad = 0
	case 2:
		wantPad = 6
	case 4:
		wantPad = 4
	case 5:
		wantPad = 3
	case 7:
		wantPad = 1
	default:
		return nil, BadLength, -1
	}
	if pad != 0 && pad != wantPad {
		return nil, BadPadding, padAt
	}
	out := make([]byte, enc.DecodedLen(len(syms)))
	n, err := enc.Decode(out, syms)
	clear(syms)
	if err != nil {
		// Unreachable after the checks above; refuse rather than guess.
		clear(out)
		return nil, BadChar, -1
	}
	return out[:n], OK, -1
}
