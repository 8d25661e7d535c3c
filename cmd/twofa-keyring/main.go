// Command twofa-keyring prints a new keyring string for keyring.Parse:
// one sealing key (id 1, primary) and a digest key, from crypto/rand.
//
//	go run github.com/twofa-go/twofa/cmd/twofa-keyring@latest
//
// Store the output in a secret manager or an environment variable such
// as TWOFA_KEYS; it holds every key.
//
// To rotate the sealing key, take the key of a fresh output and add it to
// the installation's string under a new id (... 1=<old> 2=<new> ...) on
// every replica; then make it primary (primary=2) everywhere, run
// twofa's TwoFA.Reseal until it returns 0 and no error, and drop the old
// key. Keep the digest key: it never rotates.
package main

import (
	"fmt"
	"os"

	"github.com/twofa-go/twofa/keyring"
)

func main() {
	s, err := keyring.Generate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "twofa-keyring:", err)
		os.Exit(1)
	}
	fmt.Println(s)
}
