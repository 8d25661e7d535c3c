// Package b32 decodes the base32 secrets people type and services emit:
// RFC 4648 Section 6 alphabet, upper or lower case, with spaces and hyphens
// between groups, with or without "=" padding.
package b32

import "encoding/base32"

// Problem says what is wrong with an input.
type Problem uint8

// The problems Decode reports.
const (
	OK         Problem = iota
	BadChar            // a character outside the alphabet and separators
	BadPadding         // "=" not at the end, or the wrong number of them
	BadLength          // a length no encoder produces (1, 3 or 6 symbols in the last group)
)

// MaxInput bounds the input length (characters, separators included).
const MaxInput = 1024

var enc = base32.StdEncoding.WithPadding(base32.NoPadding)

// Encode returns the canonical form: upper case, no padding, no separators.
func Encode(b []byte) string { return enc.EncodeToString(b) }

// Decode decodes s. On failure it returns the problem and the byte offset in
// s where it was found (-1 when it concerns the input as a whole).
func Decode(s string) ([]byte, Problem, int) {
	if len(s) > MaxInput {
		return nil, BadLength, -1
	}
	syms := make([]byte, 0, len(s))
	pad, padAt := 0, -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '-' || c == '\t':
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
