package keyring

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Header is the first field of every keyring string; see Parse.
const Header = "twofa-keyring-v1"

// MaxTextLen bounds the length of what Parse accepts: far more than a
// string of MaxKeys keys needs (about 1 KiB), little enough that no input
// is expensive to refuse.
const MaxTextLen = 4096

// keyText is the encoding of a key in a keyring string.
var keyText = base64.RawURLEncoding.Strict()

// Parse reads a Keyring from one string holding every key, the primary's
// id and the digest key, as kept in an environment variable or a secret
// manager:
//
//	twofa-keyring-v1 primary=2 1=<key> 2=<key> digest=<key>
//
// Fields are separated by white space (spaces, tabs or newlines, in any
// number), and white space at either end is ignored. The first field is
// the version, Header. The others come in any order, each once:
//
//	primary=<id>   the id of the sealing key that seals
//	<id>=<key>     a sealing key, one to MaxKeys of them
//	digest=<key>   the digest key, which never rotates (see Keyring)
//
// An id is a decimal number from 1 to 2^32-1 without leading zeros,
// a key KeySize bytes in unpadded base64url (RFC 4648 Section 5: 43
// characters of A-Z a-z 0-9 - _). The string holds no quote, '=' padding,
// '+', '/' or other character that a shell, a .env file or a YAML value
// would change, so it survives copy and paste.
//
// Generate makes such a string. To rotate, add a key under a new id (for
// instance the "1=" key of a fresh Generate string, renamed), then move
// primary to it; see Keyring.
//
// The keys must also pass New's checks. Errors are *Error values matching
// ErrInvalidKeyring; they name a field by its position (counted from 1)
// or a key by its id, but never quote the input.
func Parse(s string) (*Keyring, error) {
	if len(s) > MaxTextLen {
		return nil, keyringError(0, "longer than %d bytes", MaxTextLen)
	}
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return nil, keyringError(0, "empty")
	}
	if fields[0] != Header {
		return nil, keyringError(0, "does not start with %q", Header)
	}
	if len(fields) > 3+MaxKeys {
		return nil, keyringError(0, "%d fields, at most %d allowed", len(fields), 3+MaxKeys)
	}
	keys := make(map[KeyID][]byte, len(fields)-1)
	var digest []byte
	defer func() {
		for _, k := range keys {
			clear(k)
		}
		clear(digest)
	}()
	var primary KeyID
	for i, f := range fields[1:] {
		pos := i + 2
		name, value, ok := strings.Cut(f, "=")
		if !ok {
			return nil, keyringError(0, "field %d: want name=value", pos)
		}
		switch name {
		case "primary":
			if primary != 0 {
				return nil, keyringError(0, "field %d: primary given twice", pos)
			}
			id, ok := parseID(value)
			if !ok {
				return nil, keyringError(0, "field %d: primary: want a key id, a decimal number from 1 to 2^32-1", pos)
			}
			primary = id
		case "digest":
			if digest != nil {
				return nil, keyringError(0, "field %d: digest key given twice", pos)
			}
			k, ok := parseKey(value)
			if !ok {
				return nil, keyringError(0, "field %d: digest key: want %d bytes in unpadded base64url", pos, KeySize)
			}
			digest = k
		default:
			id, ok := parseID(name)
			if !ok {
				return nil, keyringError(0, "field %d: want primary=, digest= or a key id, a decimal number from 1 to 2^32-1, before '='", pos)
			}
			if _, dup := keys[id]; dup {
				return nil, keyringError(id, "field %d: key id given twice", pos)
			}
			k, ok := parseKey(value)
			if !ok {
				return nil, keyringError(id, "field %d: want %d bytes in unpadded base64url", pos, KeySize)
			}
			keys[id] = k
		}
	}
	switch {
	case primary == 0:
		return nil, keyringError(0, "no primary= field")
	case digest == nil:
		return nil, keyringError(0, "no digest= field")
	case len(keys) == 0:
		return nil, keyringError(0, "no sealing keys")
	}
	return New(primary, keys, digest)
}

// parseID parses a canonical decimal KeyID other than 0.
func parseID(s string) (KeyID, bool) {
	if s == "" || s[0] == '0' {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, false
	}
	return KeyID(n), true
}

// parseKey decodes one key; it returns the key or false, never what it
// read.
func parseKey(s string) ([]byte, bool) {
	if len(s) != keyText.EncodedLen(KeySize) {
		return nil, false
	}
	k := make([]byte, KeySize)
	n, err := keyText.Decode(k, []byte(s))
	if err != nil || n != KeySize {
		clear(k)
		return nil, false
	}
	return k, true
}

// Generate returns a new keyring string for Parse, with one sealing key,
// id 1 and primary, and a digest key, all from crypto/rand:
//
//	twofa-keyring-v1 primary=1 1=<43 characters> digest=<43 characters>
//
// Keep it in a secret manager or an environment variable, never in source
// control: it holds every key.
func Generate() (string, error) {
	var seal, digest [KeySize]byte
	defer clear(seal[:])
	defer clear(digest[:])
	if _, err := rand.Read(seal[:]); err != nil {
		return "", fmt.Errorf("keyring: reading random key: %w", err)
	}
	if _, err := rand.Read(digest[:]); err != nil {
		return "", fmt.Errorf("keyring: reading random key: %w", err)
	}
	return Header + " primary=1 1=" + keyText.EncodeToString(seal[:]) +
		" digest=" + keyText.EncodeToString(digest[:]), nil
}
