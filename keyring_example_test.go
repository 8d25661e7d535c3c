package twofa_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log"

	"github.com/twofa-go/twofa"
)

func ExampleNewKeyring() {
	// In production the keys come from a secret manager or the
	// environment (see ParseKeyringKeys), are generated once with
	// GenerateKeyringKey, and outlive every process. Generating them here
	// is for the example only.
	k1, err := twofa.GenerateKeyringKey()
	if err != nil {
		log.Fatal(err)
	}
	digestKey, err := twofa.GenerateKeyringKey()
	if err != nil {
		log.Fatal(err)
	}
	ring, err := twofa.NewKeyring(1, map[twofa.KeyID][]byte{1: k1}, digestKey)
	if err != nil {
		log.Fatal(err)
	}

	// Enrolment: seal the new device's secret before storing it.
	secret, err := twofa.NewSecret()
	if err != nil {
		log.Fatal(err)
	}
	blob, err := ring.SealSecret("alice@example.com", "device-7f3a", secret)
	if err != nil {
		log.Fatal(err)
	}

	// Verification: open it again with the same account and device id.
	opened, err := ring.OpenSecret("alice@example.com", "device-7f3a", blob)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("same secret:", opened.Equal(secret))

	// A blob copied to another account's row does not open.
	_, err = ring.OpenSecret("mallory@example.com", "device-7f3a", blob)
	fmt.Println("moved blob:", errors.Is(err, twofa.ErrSealedTampered))

	// Printing a Keyring never shows a key.
	fmt.Println(ring)
	// Output:
	// same secret: true
	// moved blob: true
	// twofa.Keyring(primary=1 keys=[1] REDACTED)
}

// ExampleKeyring_Reseal rotates the sealing key: add key 2, make it
// primary, reseal the stored blobs, drop key 1. Digests are untouched.
func ExampleKeyring_Reseal() {
	// Example keys only: real keys come from GenerateKeyringKey once, then
	// from a secret store.
	k1, err := twofa.GenerateKeyringKey()
	if err != nil {
		log.Fatal(err)
	}
	k2, err := twofa.GenerateKeyringKey()
	if err != nil {
		log.Fatal(err)
	}
	digestKey, err := twofa.GenerateKeyringKey()
	if err != nil {
		log.Fatal(err)
	}

	before, err := twofa.NewKeyring(1, map[twofa.KeyID][]byte{1: k1}, digestKey)
	if err != nil {
		log.Fatal(err)
	}
	blob, err := before.Seal("alice", "phone", []byte("device secret"))
	if err != nil {
		log.Fatal(err)
	}
	code, err := before.Digest(twofa.PurposeRecoveryCode, "alice", []byte("4f7k-29xq"))
	if err != nil {
		log.Fatal(err)
	}

	// Key 2 is deployed to every replica as primary, key 1 kept to open.
	during, err := twofa.NewKeyring(2, map[twofa.KeyID][]byte{1: k1, 2: k2}, digestKey)
	if err != nil {
		log.Fatal(err)
	}
	resealed, changed, err := during.Reseal("alice", "phone", blob)
	if err != nil {
		log.Fatal(err)
	}
	id, err := twofa.SealedKeyID(resealed)
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
	after, err := twofa.NewKeyring(2, map[twofa.KeyID][]byte{2: k2}, digestKey)
	if err != nil {
		log.Fatal(err)
	}
	_, err = after.Open("alice", "phone", blob)
	fmt.Println("old blob:", errors.Is(err, twofa.ErrUnknownKey))
	plaintext, err := after.Open("alice", "phone", resealed)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("resealed blob: %s\n", plaintext)

	// The digest key did not change, so stored digests still match.
	again, err := after.Digest(twofa.PurposeRecoveryCode, "alice", []byte("4f7k-29xq"))
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

func ExampleParseKeyringKeys() {
	// Typically os.Getenv("TWOFA_SEALING_KEYS") and
	// os.Getenv("TWOFA_DIGEST_KEY"), written once from GenerateKeyringKey with
	// base64.StdEncoding. These keys are for the example only: NEVER put
	// real keys in source code.
	sealing := "1:" + base64.StdEncoding.EncodeToString(krExampleKey(1)) +
		",2:" + base64.StdEncoding.EncodeToString(krExampleKey(2))
	digest := base64.StdEncoding.EncodeToString(krExampleKey(3))

	keys, err := twofa.ParseKeyringKeys(sealing)
	if err != nil {
		log.Fatal(err)
	}
	digestKey, err := twofa.ParseKeyringKey(digest)
	if err != nil {
		log.Fatal(err)
	}
	ring, err := twofa.NewKeyring(2, keys, digestKey)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ring.Primary(), ring.KeyIDs())

	// Errors name the entry, never its text.
	_, err = twofa.ParseKeyringKeys("1:" + digest + ",2:not-a-key")
	fmt.Println(err)
	// Output:
	// 2 [1 2]
	// twofa: invalid keyring: key 2: entry 2: key is not 32 bytes of base64
}

// krExampleKey returns 32 bytes of b: an obviously fake key, for examples.
func krExampleKey(b byte) []byte {
	k := make([]byte, 32)
	for i := range k {
		k[i] = b
	}
	return k
}

func ExampleKeyring_Digest() {
	// Example keys only.
	k1, err := twofa.GenerateKeyringKey()
	if err != nil {
		log.Fatal(err)
	}
	digestKey, err := twofa.GenerateKeyringKey()
	if err != nil {
		log.Fatal(err)
	}
	ring, err := twofa.NewKeyring(1, map[twofa.KeyID][]byte{1: k1}, digestKey)
	if err != nil {
		log.Fatal(err)
	}
	digest := func(p twofa.Purpose, account, secret string) []byte {
		d, err := ring.Digest(p, account, []byte(secret))
		if err != nil {
			log.Fatal(err)
		}
		return d
	}

	// Store the digest of a new app password, never the password; look it
	// up by the digest of what the client sends.
	stored := digest(twofa.PurposeAppPassword, "alice", "abcdefghijklmnop")
	sent := digest(twofa.PurposeAppPassword, "alice", "abcdefghijklmnop")
	otherAccount := digest(twofa.PurposeAppPassword, "bob", "abcdefghijklmnop")
	asRecoveryCode := digest(twofa.PurposeRecoveryCode, "alice", "abcdefghijklmnop")

	fmt.Println(len(stored), string(sent) == string(stored))
	fmt.Println(string(otherAccount) == string(stored), string(asRecoveryCode) == string(stored))
	// Output:
	// 32 true
	// false false
}
