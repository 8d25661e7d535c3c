package twofa_test

import (
	"bytes"
	"errors"
	"fmt"
	"image/png"
	"time"

	"github.com/twofa-go/twofa"
)

func ExampleKey_URI() {
	// A real enrolment uses a fresh secret from twofa.NewSecret; DO NOT
	// hardcode one like this.
	secret, err := twofa.ParseSecret("JBSWY3DPEHPK3PXP")
	if err != nil {
		panic(err)
	}
	key := twofa.Key{
		Issuer:  "ACME Co",
		Account: "alice@example.com",
		Secret:  secret,
	}
	// The URI holds the secret: show it (or its QR code) to the user who
	// enrols, and nowhere else.
	uri, err := key.URI()
	if err != nil {
		panic(err)
	}
	fmt.Println(uri)
	// Printing the key itself never shows the secret.
	fmt.Println(key)
	// Output:
	// otpauth://totp/ACME%20Co:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30
	// twofa.Key{totp issuer="ACME Co" account="alice@example.com" algorithm=SHA1 digits=6 period=30s secret=REDACTED}
}

func ExampleParseKeyURI() {
	// Google's example: issuer in the label and as a parameter, all other
	// parameters left to their defaults.
	key, err := twofa.ParseKeyURI("otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example")
	if err != nil {
		panic(err)
	}
	fmt.Println(key.Type, key.Issuer, key.Account, key.Algorithm, key.Digits, key.Period)
	// Output:
	// totp Example alice@google.com SHA1 6 30s
}

func ExampleParseKeyURI_error() {
	_, err := twofa.ParseKeyURI("otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Other")
	var uerr *twofa.URIError
	if errors.As(err, &uerr) {
		fmt.Println("bad part:", uerr.Part)
	}
	fmt.Println(errors.Is(err, twofa.ErrInvalidURI))
	fmt.Println(err)
	// Output:
	// bad part: issuer
	// true
	// twofa: invalid otpauth URI: issuer: label prefix and issuer parameter differ
}

func ExampleKey_PNG() {
	secret, err := twofa.ParseSecret("JBSWY3DPEHPK3PXP") // DO NOT hardcode secrets
	if err != nil {
		panic(err)
	}
	key := twofa.Key{Issuer: "Example", Account: "alice@example.com", Secret: secret}
	img, err := key.PNG(256)
	if err != nil {
		panic(err)
	}
	// Serve img as image/png on the enrolment page (with Cache-Control:
	// no-store: it holds the secret).
	fmt.Println("PNG:", bytes.HasPrefix(img, []byte("\x89PNG\r\n\x1a\n")))
	cfg, err := png.DecodeConfig(bytes.NewReader(img))
	if err != nil {
		panic(err)
	}
	fmt.Printf("%dx%d\n", cfg.Width, cfg.Height)
	// Output:
	// PNG: true
	// 256x256
}

func ExampleKey_TOTP() {
	key, err := twofa.ParseKeyURI("otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&algorithm=SHA256&digits=8&period=60")
	if err != nil {
		panic(err)
	}
	totp, err := key.TOTP()
	if err != nil {
		panic(err)
	}
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) // in a server: time.Now()
	code, err := totp.Code(at)
	if err != nil {
		panic(err)
	}
	fmt.Println(totp, code)
	// Output:
	// twofa.TOTP{SHA256, 8 digits, 1m0s} 56737147
}

func ExampleKey_HOTP() {
	key, err := twofa.ParseKeyURI("otpauth://hotp/Example:alice?secret=JBSWY3DPEHPK3PXP&counter=5")
	if err != nil {
		panic(err)
	}
	hotp, err := key.HOTP()
	if err != nil {
		panic(err)
	}
	// The code the app shows first is the one for the key's counter.
	fmt.Println(key.Counter, hotp.Code(key.Counter))
	// Output:
	// 5 768897
}
