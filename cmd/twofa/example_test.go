package main

import (
	"os"
	"strings"
	"time"
)

// The RFC 6238 SHA-1 seed, "12345678901234567890", in base32.
const exampleSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

// twofa code reads the secret from standard input, so that it never
// appears on a command line.
func Example_code() {
	// echo GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ | twofa code -time 59 -digits 8 -window 1
	run([]string{"code", "-time", "59", "-digits", "8", "-window", "1"},
		strings.NewReader(exampleSecret+"\n"), os.Stdout, os.Stderr, time.Now)
	// Output:
	// 94287082
	// 37359152
}

func Example_uri() {
	// echo GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ | twofa uri -issuer 'ACME Co' -account alice@example.com
	run([]string{"uri", "-issuer", "ACME Co", "-account", "alice@example.com"},
		strings.NewReader(exampleSecret+"\n"), os.Stdout, os.Stderr, time.Now)
	// Output:
	// otpauth://totp/ACME%20Co:alice@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30
}

func Example_uriInspect() {
	// twofa uri inspect < uri.txt
	run([]string{"uri", "inspect"},
		strings.NewReader("otpauth://totp/ACME%20Co:alice@example.com?secret="+exampleSecret+"&issuer=ACME%20Co\n"),
		os.Stdout, os.Stderr, time.Now)
	// Output:
	// type       totp
	// issuer     ACME Co
	// account    alice@example.com
	// secret     REDACTED (20 bytes)
	// algorithm  SHA1
	// digits     6
	// period     30s
}
