package main

import (
	"fmt"

	"github.com/twofa-go/twofa/keyring"
)

const keygenUsage = `Usage: twofa keygen

Prints a new keyring string for keyring.Parse: one sealing key (id 1,
primary) and a digest key, from crypto/rand:

  twofa-keyring-v1 primary=1 1=<43 characters> digest=<43 characters>

Store it in a secret manager or an environment variable such as
TWOFA_KEYS; it holds every key.

To rotate the sealing key, take the key of a fresh output and add it to
the installation's string under a new id (... 1=<old> 2=<new> ...) on
every replica; then make it primary (primary=2) everywhere, run
TwoFA.Reseal until it returns 0 and no error, and drop the old key. Keep
the digest key: it never rotates.
`

// runKeygen prints keyring.Generate's string.
func runKeygen(e *env, args []string) error {
	fs := newFlags("keygen")
	if err := parse(e, fs, keygenUsage, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("takes no arguments")
	}
	s, err := keyring.Generate()
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(e.stdout, s); err != nil {
		return fmt.Errorf("writing the keyring string: %w", err)
	}
	return nil
}
