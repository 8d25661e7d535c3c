// Command quickstart shows twofa working in a terminal: it enrols a TOTP
// device for an account (a fresh secret, its otpauth:// URI and the QR code
// an authenticator app scans), confirms it with its first code, then signs
// in with the current code and shows that a replayed or wrong code is
// refused.
//
//	go run ./examples/quickstart
//
// Scan the QR code with an authenticator app (Google Authenticator, Authy,
// 1Password, ...) and compare the codes. Everything lives in memory: the
// program needs no database.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"github.com/boombuler/barcode/qr"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/memstore"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, out io.Writer) error {
	// The keyring seals device secrets at rest and keys the digests of
	// recovery codes. In production it comes from one environment
	// variable, made once with
	// "go run github.com/twofa-go/twofa/cmd/twofa@latest keygen":
	//
	//	keys, err := keyring.Parse(os.Getenv("TWOFA_KEYS"))
	//
	// Never generate it at start-up, as this throwaway demo does: what was
	// sealed under it would be lost at the next start.
	text, err := keyring.Generate()
	if err != nil {
		return err
	}
	keys, err := keyring.Parse(text)
	if err != nil {
		return err
	}
	// One installation: the Config is checked once, and every part hangs
	// off tf.
	tf, err := twofa.New(twofa.Config{Store: memstore.New(), Keyring: keys, Issuer: "twofa quickstart"})
	if err != nil {
		return err
	}

	// 1. Enrol a device: a fresh 160-bit secret, as a URI and a QR code.
	const account = "alice@example.com"
	e, err := tf.Devices.Enroll(ctx, account, "Alice's phone", twofa.EnrollOptions{})
	if err != nil {
		return err
	}
	uri, err := e.Key.URI()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Secret (base32):  %s\n", e.Key.Secret.Base32())
	fmt.Fprintf(out, "Provisioning URI: %s\n\n", uri)
	if err := printQR(out, uri); err != nil {
		return err
	}

	// 2. Confirm it with its first code (here computed, normally typed by
	// the user from the app).
	totp, err := e.Key.TOTP()
	if err != nil {
		return err
	}
	now := time.Now()
	first, err := totp.Code(now.Add(-e.Key.Options().Period))
	if err != nil {
		return err
	}
	if _, err := tf.Devices.Confirm(ctx, account, e.Device.ID, first); err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	fmt.Fprintf(out, "Device %q confirmed.\n\n", e.Device.Label)

	// 3. Sign in: the current code verifies once.
	code, err := totp.Code(now)
	if err != nil {
		return err
	}
	step, err := totp.Step(now)
	if err != nil {
		return err
	}
	left := totp.StepStart(step + 1).Sub(now).Round(time.Second)
	fmt.Fprintf(out, "Current code: %s %s (valid for %v more)\n", code[:3], code[3:], left)
	res, err := tf.Verify(ctx, account, code)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	fmt.Fprintf(out, "  verify:        accepted (factor %s, device %s)\n", res.Factor, res.DeviceID)

	// 4. The same code again is a replay; a wrong one is refused.
	for _, try := range []struct {
		what, code string
		want       error
	}{
		{"replayed code", code, twofa.ErrReplayed},
		{"wrong code", wrong(code), twofa.ErrInvalidCode},
		{"malformed", "12345x", twofa.ErrMalformedCode},
	} {
		_, err = tf.Verify(ctx, account, try.code)
		if !errors.Is(err, try.want) {
			return fmt.Errorf("%s: got %v, want %v", try.what, err, try.want)
		}
		fmt.Fprintf(out, "  %-14s refused: %v\n", try.what+":", err)
	}
	return nil
}

// wrong returns a code that differs from code in its last digit.
func wrong(code string) string {
	last := code[len(code)-1]
	return code[:len(code)-1] + string('0'+(last-'0'+1)%10)
}

// printQR draws the QR code of s with Unicode half blocks, two modules per
// character cell, with the quiet zone of four modules that ISO/IEC 18004
// asks for (as Key.PNG draws).
func printQR(out io.Writer, s string) error {
	code, err := qr.Encode(s, qr.M, qr.Auto)
	if err != nil {
		return err
	}
	size := code.Bounds().Dx()
	const quiet = 4
	dark := func(x, y int) bool {
		if x < 0 || y < 0 || x >= size || y >= size {
			return false
		}
		r, _, _, _ := code.At(x, y).RGBA()
		return r == 0
	}
	var b strings.Builder
	for y := -quiet; y < size+quiet; y += 2 {
		b.WriteString("  ")
		for x := -quiet; x < size+quiet; x++ {
			// Light text on a dark terminal is the norm: print light
			// modules as ink, so the code reads as dark on light.
			top, bottom := !dark(x, y), !dark(x, y+1)
			switch {
			case top && bottom:
				b.WriteString("█")
			case top:
				b.WriteString("▀")
			case bottom:
				b.WriteString("▄")
			default:
				b.WriteString(" ")
			}
		}
		b.WriteString("\n")
	}
	_, err = io.WriteString(out, b.String())
	return err
}
