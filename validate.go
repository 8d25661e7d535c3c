package twofa

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on identifiers and labels.
const (
	// MaxAccountIDLen bounds an account identifier (the key the backend
	// knows the account by, not the name shown in apps), in bytes: room for a
	// UUID, an e-mail address (RFC 5321 caps a path at 256) or a database
	// key, and a bound on what is stored and hashed per request.
	MaxAccountIDLen = 255
	// MaxLabelLen bounds a label (device, app password), in characters:
	// enough for "Alice's iPhone 15 Pro (work)", short enough for a
	// settings page row.
	MaxLabelLen = 64
	// MaxIDLen bounds a record id (of a device, app password, trusted
	// browser or phone number) passed to a manager, in bytes. The ids
	// twofa issues are 26 characters: 128 random bits in lower-case
	// base32. 64 leaves room for ids a store may hold from another system
	// (written there directly, say by a migration), such as a UUID (36),
	// a ULID (26) or a hex-encoded 256-bit key (64), and keeps what a
	// request can make twofa look up, or put in an error, small.
	//
	// A well-formed id is 1 to MaxIDLen bytes of ASCII letters, digits,
	// '-', '_' and '.'. Every method that takes a record id reports
	// another as ErrNotFound before the store sees it; the error does
	// not quote the id. (A record stored with an id of another form
	// cannot be named to the managers.)
	MaxIDLen = 64
)

// CheckAccount reports whether account is an identifier twofa accepts:
// not empty, at most MaxAccountIDLen bytes, UTF-8, without control or
// format characters. It returns nil or ErrInvalidAccount. Every manager
// checks its account argument with it; a package that extends twofa
// (trusted browsers) does the same, so the rule is written once.
func CheckAccount(account string) error { return validAccount(account) }

func validAccount(account string) error {
	if account == "" || len(account) > MaxAccountIDLen || !utf8.ValidString(account) || hasControl(account) {
		return ErrInvalidAccount
	}
	return nil
}

// validID checks a record id a caller passed to the manager method op
// ("revoke device"), before any store sees it: see MaxIDLen. A malformed
// id names no record twofa made, so it is reported as not found, in
// the same words whatever the store, and without the id, which may be
// huge or hold bytes that garble a log line.
func validID(op, id string) error {
	if p := idProblem(id); p != "" {
		return fmt.Errorf("twofa: %s: malformed id: %s: %w", op, p, ErrNotFound)
	}
	return nil
}

// idProblem says what makes id malformed, or "" if it is well-formed.
func idProblem(id string) string {
	switch {
	case id == "":
		return "empty"
	case len(id) > MaxIDLen:
		return "longer than " + strconv.Itoa(MaxIDLen) + " bytes"
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return "a character other than A-Z, a-z, 0-9, '-', '_' and '.'"
		}
	}
	return ""
}

// idForError returns a record id as an error message may show it: as it
// is when well-formed, else escaped and cut to a short prefix. Ids read
// from a store need it: a store may hold ids twofa did not issue.
func idForError(id string) string {
	if idProblem(id) == "" {
		return id
	}
	const prefix = 16
	if len(id) > prefix {
		return strconv.QuoteToASCII(id[:prefix]) + "..."
	}
	return strconv.QuoteToASCII(id)
}

// CheckID checks a record id a caller passed to the operation op
// ("revoke browser") before any store sees it, as every manager does: an
// id twofa makes (NewID) is well-formed; a malformed one (see MaxIDLen)
// names no record, so the error wraps ErrNotFound, in the same words
// whatever the store, and without the id. It returns nil for a
// well-formed id.
func CheckID(op, id string) error { return validID(op, id) }

// NormalizeLabel trims white space around label and checks what is left,
// as every manager does for a name a user gives a record (a device, an app
// password, a trusted browser): not empty, at most MaxLabelLen
// characters, UTF-8, without control or format characters. Errors match
// ErrInvalidLabel.
func NormalizeLabel(label string) (string, error) { return normalizeLabel(label) }

// normalizeLabel trims white space and checks what is left.
func normalizeLabel(label string) (string, error) {
	if len(label) > 4*MaxLabelLen+64 {
		return "", fmt.Errorf("%w: longer than %d characters", ErrInvalidLabel, MaxLabelLen)
	}
	label = strings.TrimSpace(label)
	switch {
	case label == "":
		return "", fmt.Errorf("%w: empty", ErrInvalidLabel)
	case !utf8.ValidString(label):
		return "", fmt.Errorf("%w: not UTF-8", ErrInvalidLabel)
	case utf8.RuneCountInString(label) > MaxLabelLen:
		return "", fmt.Errorf("%w: longer than %d characters", ErrInvalidLabel, MaxLabelLen)
	case hasControl(label):
		return "", fmt.Errorf("%w: control or format character", ErrInvalidLabel)
	}
	return label, nil
}

// Problems of text shown to a person (checkShown). They never quote the
// text.
var (
	errShownUTF8    = errors.New("not valid UTF-8")
	errShownControl = errors.New("contains a control or format character (such as a bidi override or a zero-width space)")
)

// checkShown checks text that twofa puts in front of a person - an issuer
// or account name in an authenticator app, the issuer in an SMS: it must be
// valid UTF-8 without control or format characters (hasControl), the rule
// labels and account identifiers follow too.
func checkShown(s string) error {
	if !utf8.ValidString(s) {
		return errShownUTF8
	}
	if hasControl(s) {
		return errShownControl
	}
	return nil
}

// hasControl reports control (Unicode Cc), format (Cf) and line and
// paragraph separator (Zl, Zp: U+2028, U+2029) characters:
// line breaks and escapes that forge lines, and the invisible characters
// that make a name display differently from what it is - bidi overrides,
// embeddings, isolates and marks (U+202A-U+202E, U+2066-U+2069, U+200E,
// U+200F, U+061C), zero-width characters (U+200B-U+200D, U+2060, U+FEFF)
// and the soft hyphen. "Example\u202eelgoog" displays as "Examplegoogle".
// It is the one check of every name twofa stores or shows.
func hasControl(s string) bool {
	// Printable ASCII, the common case, needs no table lookup.
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] < 0x7f {
		i++
	}
	if i == len(s) {
		return false
	}
	for _, r := range s[i:] {
		if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			return true
		}
	}
	return false
}
