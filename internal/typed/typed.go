// Package typed is the one rule by which twofa reads what a person types
// or pastes: one-time codes, out-of-band codes, recovery codes, app
// passwords and base32 secrets. Every parser of such input applies it:
//
//   - An input longer than the parser's bound is refused before it is
//     scanned. The bound applies to the input as given, surrounding white
//     space included, so a huge input costs nothing.
//   - Leading and trailing white space (unicode.IsSpace, as
//     strings.TrimSpace trims it) is ignored: a pasted code often ends in
//     a newline, or starts with a tab.
//   - Inside, the only separators are the ASCII space and the hyphen-minus
//     (IsSeparator), anywhere and any number of them. Every other
//     character that is not part of the format - a tab, a newline, a
//     no-break space, an en dash - is refused.
package typed

import (
	"strings"
	"unicode"
)

// Trim returns s without its leading and trailing white space. It reports
// false, without looking at s, when s is longer than max bytes.
func Trim(s string, max int) (string, bool) {
	if len(s) > max {
		return "", false
	}
	return strings.TrimSpace(s), true
}

// Leading returns the length in bytes of the white space Trim removes from
// the start of s: add it to an offset in the trimmed input to get the
// offset in s.
func Leading(s string) int {
	return len(s) - len(strings.TrimLeftFunc(s, unicode.IsSpace))
}

// IsSeparator reports whether c may stand between the symbols of a typed
// input: an ASCII space or a hyphen-minus.
func IsSeparator(c byte) bool { return c == ' ' || c == '-' }
