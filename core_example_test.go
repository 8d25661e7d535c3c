package twofa_test

import (
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/twofa-go/twofa"
)

func ExampleNewSecret() {
	s, err := twofa.NewSecret()
	if err != nil {
		log.Fatal(err)
	}
	// Show s.Base32() to the user enrolling a device (or put it in a QR
	// code), then store it sealed. It never prints by accident:
	fmt.Println(s.Len(), "bytes,", len(s.Base32()), "base32 symbols")
	fmt.Println(s)
	fmt.Printf("%x\n", s)
	// Output:
	// 20 bytes, 32 base32 symbols
	// twofa.Secret(REDACTED)
	// twofa.Secret(REDACTED)
}

func ExampleParseSecret() {
	// DO NOT hardcode secrets. This one is the RFC 4226 test secret, typed
	// the way a person copies it from a setup page.
	s, err := twofa.ParseSecret("gezd gnbv gy3t qojq gezd gnbv gy3t qojq")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Len(), s.Base32())

	_, err = twofa.ParseSecret("GEZD GNBV GY3T QOJ1")
	var se *twofa.SecretError
	if errors.As(err, &se) {
		fmt.Println(errors.Is(err, twofa.ErrInvalidSecret), se.Reason, "at offset", se.Offset)
	}
	// Output:
	// 20 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
	// true illegal base32 character at offset 18
}

func ExampleNewTOTP() {
	// DO NOT hardcode secrets: load the account's sealed secret. This is
	// the RFC 6238 SHA-1 test secret.
	s, err := twofa.ParseSecret("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
	if err != nil {
		log.Fatal(err)
	}
	t, err := twofa.NewTOTP(s, twofa.Options{}) // SHA-1, 6 digits, 30 s
	if err != nil {
		log.Fatal(err)
	}
	now := time.Unix(1111111111, 0) // use time.Now()
	code, err := t.Code(now)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(code)

	// Verify what the user typed, allowing one step of clock skew. Store
	// the step: a later code for a step at or below it is a replay.
	step, err := t.Verify("050 471", now.Add(35*time.Second), 1) // the next step: accepted with skew 1
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(step)
	_, err = t.Verify("123456", now, 1)
	fmt.Println(errors.Is(err, twofa.ErrInvalidCode))
	_, err = t.Verify("12345x", now, 1)
	fmt.Println(errors.Is(err, twofa.ErrMalformedCode))
	// Output:
	// 050471
	// 37037037
	// true
	// true
}

func ExampleNewHOTP() {
	// DO NOT hardcode secrets. This is the RFC 4226 test secret.
	s, err := twofa.ParseSecret("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
	if err != nil {
		log.Fatal(err)
	}
	h, err := twofa.NewHOTP(s, twofa.Options{})
	if err != nil {
		log.Fatal(err)
	}
	// The token's button was pressed three times without logging in; the
	// look-ahead window still finds its counter.
	next := uint64(0) // the stored counter the server expects
	matched, err := h.Verify("969429", next, twofa.DefaultLookAhead)
	if err != nil {
		log.Fatal(err)
	}
	next = matched + 1 // store it: the code is never accepted again
	fmt.Println(matched, next)
	_, err = h.Verify("969429", next, twofa.DefaultLookAhead)
	fmt.Println(err)
	// Output:
	// 3 4
	// twofa: invalid code
}

func ExampleTOTP_AppendCode() {
	// DO NOT hardcode secrets. This is the RFC 6238 SHA-256 test secret.
	s, err := twofa.SecretFromBytes([]byte("12345678901234567890123456789012"))
	if err != nil {
		log.Fatal(err)
	}
	t, err := twofa.NewTOTP(s, twofa.Options{Algorithm: twofa.SHA256, Digits: 8})
	if err != nil {
		log.Fatal(err)
	}
	// Reuse one buffer: AppendCode allocates nothing.
	buf := make([]byte, 0, twofa.MaxDigits)
	for _, unix := range []int64{59, 1111111109, 20000000000} {
		buf, err = t.AppendCode(buf[:0], time.Unix(unix, 0))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s\n", buf)
	}
	// Output:
	// 46119246
	// 68084774
	// 77737706
}
