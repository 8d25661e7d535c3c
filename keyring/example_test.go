package keyring_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/twofa-go/twofa/keyring"
)

// exampleKey returns 32 bytes of b in base64url: an obviously fake key,
// for examples. NEVER put real keys in source code.
func exampleKey(b byte) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat(string(rune(b)), 32)))
}

func ExampleParse() {
	// Typically os.Getenv("TWOFA_KEYS"), made once with Generate (or
	// go run github.com/twofa-go/twofa/cmd/twofa@latest keygen).
	env := "twofa-keyring-v1 primary=2 1=" + exampleKey('a') + " 2=" + exampleKey('b') +
		" digest=" + exampleKey('d')
	keys, err := keyring.Parse(env)
	if err != nil {
		log.Fatal(err)
	}
	// Printing a Keyring never shows a key.
	fmt.Println(keys)

	// Errors name the field, never its text.
	_, err = keyring.Parse("twofa-keyring-v1 primary=1 1=" + exampleKey('a') + " digest=not-a-key")
	fmt.Println(err)
	// Output:
	// keyring.Keyring(primary=2 keys=[1 2] REDACTED)
	// keyring: invalid keyring: field 4: digest key: want 32 bytes in unpadded base64url
}

func ExampleGenerate() {
	s, err := keyring.Generate()
	if err != nil {
		log.Fatal(err)
	}
	keys, err := keyring.Parse(s)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.Fields(s)[:2], keys.KeyIDs())
	// Output:
	// [twofa-keyring-v1 primary=1] [1]
}

func ExampleKeyring_Seal() {
	keys, err := keyring.Parse("twofa-keyring-v1 primary=1 1=" + exampleKey('a') + " digest=" + exampleKey('d'))
	if err != nil {
		log.Fatal(err)
	}
	// Enrolment: seal the new device's secret, bound to its account and
	// device, before storing it.
	blob, err := keys.Seal("alice@example.com", "device-7f3a", []byte("device secret"))
	if err != nil {
		log.Fatal(err)
	}

	// Verification: open it again with the same account and binding, here
	// into a reusable buffer.
	buf := make([]byte, 0, 64)
	secret, err := keys.Open(buf, "alice@example.com", "device-7f3a", blob)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", secret)

	// A blob copied to another account's row does not open.
	_, err = keys.Open(nil, "mallory@example.com", "device-7f3a", blob)
	fmt.Println("moved blob:", errors.Is(err, keyring.ErrSealedTampered))
	// Output:
	// device secret
	// moved blob: true
}

// ExampleKeyring_Reseal rotates the sealing key: add key 2, make it
// primary, reseal the stored blobs, drop key 1. Digests are untouched.
func ExampleKeyring_Reseal() {
	k1, k2, digest := exampleKey('a'), exampleKey('b'), exampleKey('d')
	before, err := keyring.Parse("twofa-keyring-v1 primary=1 1=" + k1 + " digest=" + digest)
	if err != nil {
		log.Fatal(err)
	}
	blob, err := before.Seal("alice", "phone", []byte("device secret"))
	if err != nil {
		log.Fatal(err)
	}
	code, err := before.Digest("recovery-code", "alice", []byte("4f7k-29xq"))
	if err != nil {
		log.Fatal(err)
	}

	// Key 2 is deployed to every replica as primary, key 1 kept to open.
	during, err := keyring.Parse("twofa-keyring-v1 primary=2 1=" + k1 + " 2=" + k2 + " digest=" + digest)
	if err != nil {
		log.Fatal(err)
	}
	resealed, changed, err := during.Reseal("alice", "phone", blob)
	if err != nil {
		log.Fatal(err)
	}
	id, err := keyring.SealedKeyID(resealed)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("resealed:", changed, "under key", id)
	_, changed, err = during.Reseal("alice", "phone", resealed)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("resealed again:", changed)

	// Once every blob is under key 2, key 1 goes.
	after, err := keyring.Parse("twofa-keyring-v1 primary=2 2=" + k2 + " digest=" + digest)
	if err != nil {
		log.Fatal(err)
	}
	_, err = after.Open(nil, "alice", "phone", blob)
	fmt.Println("old blob:", errors.Is(err, keyring.ErrUnknownKey))
	plaintext, err := after.Open(nil, "alice", "phone", resealed)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("resealed blob: %s\n", plaintext)

	// The digest key did not change, so stored digests still match.
	again, err := after.Digest("recovery-code", "alice", []byte("4f7k-29xq"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("recovery code digest unchanged:", string(again) == string(code))
	// Output:
	// resealed: true under key 2
	// resealed again: false
	// old blob: true
	// resealed blob: device secret
	// recovery code digest unchanged: true
}

func ExampleKeyring_Digest() {
	keys, err := keyring.Parse("twofa-keyring-v1 primary=1 1=" + exampleKey('a') + " digest=" + exampleKey('d'))
	if err != nil {
		log.Fatal(err)
	}
	digest := func(purpose, account, secret string) []byte {
		d, err := keys.Digest(purpose, account, []byte(secret))
		if err != nil {
			log.Fatal(err)
		}
		return d
	}

	// Store the digest of a new app password, never the password; look it
	// up by the digest of what the client sends.
	stored := digest("app-password", "alice", "abcdefghijklmnop")
	sent := digest("app-password", "alice", "abcdefghijklmnop")
	otherAccount := digest("app-password", "bob", "abcdefghijklmnop")
	asRecoveryCode := digest("recovery-code", "alice", "abcdefghijklmnop")

	fmt.Println(len(stored), string(sent) == string(stored))
	fmt.Println(string(otherAccount) == string(stored), string(asRecoveryCode) == string(stored))
	// Output:
	// 32 true
	// false false
}
