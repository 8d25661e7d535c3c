package main

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// argonParams are the Argon2id parameters of new password hashes. Every
// hash records its own, so changing them leaves old hashes readable.
type argonParams struct {
	Time    uint32 // passes over the memory
	Memory  uint32 // KiB
	Threads uint8  // lanes
}

// defaultArgon is RFC 9106 Section 4's second recommended option, for
// machines without 2 GiB to spare per hash: Argon2id, t=3 passes over
// m=64 MiB with p=4 lanes, a 128-bit salt and a 256-bit tag. On the 2
// cores this demo was written on one hash takes about a tenth of a
// second, which a sign-in can pay and a guesser with a stolen table
// cannot pay a billion times.
var defaultArgon = argonParams{Time: 3, Memory: 64 * 1024, Threads: 4}

const (
	saltLen = 16 // RFC 9106 Section 4: 128 bits
	tagLen  = 32 // RFC 9106 Section 4: 256 bits

	// minPasswordLen is NIST SP 800-63B Section 3.1.1.2's minimum for
	// a password the user chose; maxPasswordLen bounds what one request
	// makes Argon2 read (it allows any length; a passphrase needs far
	// less than 256 bytes).
	minPasswordLen = 8
	maxPasswordLen = 256

	// The bounds a stored hash's parameters must meet before it is
	// computed, so that a tampered row cannot make one sign-in allocate
	// gigabytes or spin for minutes.
	maxArgonMemory = 1024 * 1024 // 1 GiB
	maxArgonTime   = 16
)

var (
	errPasswordLength = fmt.Errorf("a password has %d to %d characters", minPasswordLen, maxPasswordLen)
	errBadHash        = errors.New("malformed password hash")
)

// checkNewPassword reports whether p may become a password.
func checkNewPassword(p string) error {
	if n := len([]rune(p)); n < minPasswordLen || len(p) > maxPasswordLen {
		return errPasswordLength
	}
	return nil
}

// hashPassword returns the PHC-style string of an Argon2id hash of
// password under a fresh random salt:
// $argon2id$v=19$m=65536,t=3,p=4$<salt>$<tag>, base64 without padding.
func hashPassword(p argonParams, password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	tag := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, tagLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(tag)), nil
}

// verifyPassword reports whether password matches the encoded hash,
// comparing the tags in constant time. A malformed hash is an error.
func verifyPassword(encoded, password string) (bool, error) {
	// An over-long password was never set: it costs a hash all the same
	// (of its prefix, so the work stays bounded) and never matches.
	tooLong := len(password) > maxPasswordLen
	if tooLong {
		password = password[:maxPasswordLen]
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false, errBadHash
	}
	var p argonParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, errBadHash
	}
	if p.Memory < 8 || p.Memory > maxArgonMemory || p.Time < 1 || p.Time > maxArgonTime || p.Threads < 1 {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) != tagLen {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, tagLen)
	return subtle.ConstantTimeCompare(got, want) == 1 && !tooLong, nil
}
