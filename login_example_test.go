package twofa_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/twofatest"
)

// secondFactor is the second step of a sign-in: the password step has
// put the account in the session (accountOf reads it), and now the user
// types the code from their authenticator app, or a recovery code.
func secondFactor(tf *twofa.TwoFA, accountOf func(*http.Request) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		res, err := tf.Verify(r.Context(), accountOf(r), r.PostFormValue("code"))
		var throttled *twofa.ThrottledError
		switch {
		case err == nil:
			// Mark the session as fully signed in here.
			if res.Factor == twofa.FactorRecoveryCode && res.RecoveryCodesLeft < 3 {
				fmt.Fprintln(w, "welcome back; please generate new recovery codes")
				return
			}
			fmt.Fprintln(w, "welcome")
		case errors.As(err, &throttled):
			secs := int(math.Ceil(throttled.RetryAfter.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			http.Error(w, "too many attempts; try again later", http.StatusTooManyRequests)
		case errors.Is(err, twofa.ErrMalformedCode):
			http.Error(w, "enter the code from your authenticator app", http.StatusBadRequest)
		case errors.Is(err, twofa.ErrInvalidCode), errors.Is(err, twofa.ErrReplayed):
			// Do not tell the two apart: both mean "not signed in".
			http.Error(w, "wrong code", http.StatusUnauthorized)
		case errors.Is(err, twofa.ErrNotEnrolled), errors.Is(err, twofa.ErrInvalidAccount):
			// The password step should not have sent this user here.
			http.Error(w, "no second factor to check", http.StatusBadRequest)
		default:
			log.Printf("second factor: %v", err) // never holds a code or a secret
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	}
}

// exampleConfig returns an in-memory installation on a fake clock.
func exampleConfig(clock twofa.Clock) twofa.Config {
	// In production, load the keys from the environment instead of
	// generating them: keyring.Parse(os.Getenv("TWOFA_KEYS")).
	keys, err := keyring.Generate()
	if err != nil {
		log.Fatal(err)
	}
	kr, err := keyring.Parse(keys)
	if err != nil {
		log.Fatal(err)
	}
	return twofa.Config{Store: memstore.New(), Keyring: kr, Issuer: "Example", Clock: clock}
}

func Example_loginHandler() {
	clock := twofatest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	cfg := exampleConfig(clock)
	tf, err := twofa.New(cfg)
	if err != nil {
		log.Fatal(err)
	}

	// Alice's phone. DO NOT hardcode secrets: this is the RFC 6238 test
	// secret, so that the codes below are reproducible.
	secret, err := twofa.ParseSecret("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
	if err != nil {
		log.Fatal(err)
	}
	phone := twofa.Key{Secret: secret}
	if _, _, err := tf.Devices.Import(context.Background(), "alice", "phone", phone); err != nil {
		log.Fatal(err)
	}
	app, err := phone.TOTP()
	if err != nil {
		log.Fatal(err)
	}

	handler := secondFactor(tf, func(*http.Request) string { return "alice" })
	post := func(what, code string) {
		body := url.Values{"code": {code}}.Encode()
		req := httptest.NewRequest(http.MethodPost, "/login/code", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		handler(rec, req)
		if rec.Code == http.StatusInternalServerError {
			log.Fatalf("%s: %s", what, rec.Body)
		}
		fmt.Printf("%-14s %d %s", what, rec.Code, rec.Body)
		if ra := rec.Header().Get("Retry-After"); ra != "" {
			fmt.Printf("%14s Retry-After: %s\n", "", ra)
		}
	}

	code, err := app.Code(clock.Now())
	if err != nil {
		log.Fatal(err)
	}
	post("right code", code)
	post("same again", code)
	post("too short", "12345")
	for range 5 {
		post("wrong code", "000000")
	}
	post("right code", code)

	clock.Advance(30 * time.Second)
	code, err = app.Code(clock.Now())
	if err != nil {
		log.Fatal(err)
	}
	post("next step", code)
	// Output:
	// right code     200 welcome
	// same again     401 wrong code
	// too short      400 enter the code from your authenticator app
	// wrong code     401 wrong code
	// wrong code     401 wrong code
	// wrong code     401 wrong code
	// wrong code     401 wrong code
	// wrong code     401 wrong code
	// right code     429 too many attempts; try again later
	//                Retry-After: 1
	// next step      200 welcome
}

func ExampleDevices_Enroll() {
	ctx := context.Background()
	clock := twofatest.NewClock(twofatest.Start)
	tf, err := twofa.New(exampleConfig(clock))
	if err != nil {
		log.Fatal(err)
	}

	// The settings page enrols a device...
	e, err := tf.Devices.Enroll(ctx, "user-1234", "Alice's phone", twofa.EnrollOptions{AccountName: "alice@example.com"})
	if err != nil {
		log.Fatal(err)
	}
	uri, err := e.Key.URI() // or e.Key.PNG(256) for a QR code
	if err != nil {
		log.Fatal(err)
	}
	// ...shows the URI once (never log it: it holds the secret)...
	before, _, _ := strings.Cut(uri, "secret=")
	fmt.Println(before + "secret=…")
	fmt.Println(e.Device.Label, e.Device.State, "until", e.Device.ExpiresAt.Format(time.Kitchen))
	// ...and printing the enrolment never shows the secret.
	fmt.Println(strings.Contains(fmt.Sprintf("%+v", e), e.Key.Secret.Base32()))

	// The user scans it and types the first code, which confirms it.
	app, err := e.Key.TOTP()
	if err != nil {
		log.Fatal(err)
	}
	code, err := app.Code(clock.Now())
	if err != nil {
		log.Fatal(err)
	}
	if _, err := tf.Devices.Confirm(ctx, "user-1234", e.Device.ID, code); err != nil {
		log.Fatal(err)
	}
	list, err := tf.Devices.List(ctx, "user-1234")
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range list {
		fmt.Println(d.Label, d.State, "since", d.ConfirmedAt.Format(time.Kitchen))
	}
	on, err := tf.Enabled(ctx, "user-1234")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("two-factor authentication on:", on)
	// Output:
	// otpauth://totp/Example:alice@example.com?secret=…
	// Alice's phone pending until 3:14AM
	// false
	// Alice's phone confirmed since 3:04AM
	// two-factor authentication on: true
}

func ExampleRecoveryCodes_Generate() {
	ctx := context.Background()
	clock := twofatest.NewClock(twofatest.Start)
	cfg := exampleConfig(clock)
	tf, err := twofa.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	// Alice has a device (recovery codes only count while she does).
	secret, err := twofa.NewSecret()
	if err != nil {
		log.Fatal(err)
	}
	if _, _, err := tf.Devices.Import(ctx, "alice", "phone", twofa.Key{Secret: secret}); err != nil {
		log.Fatal(err)
	}

	// Show the codes once, e.g. with a "download" button; only their
	// digests are kept.
	codes, err := tf.Recovery.Generate(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	format := regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$`)
	ok := 0
	for _, c := range codes {
		if format.MatchString(c) {
			ok++
		}
	}
	fmt.Println(len(codes), "codes,", ok, "in the form xxxxx-xxxxx")

	// Alice lost her phone: she signs in with a code, typed sloppily.
	res, err := tf.Verify(ctx, "alice", strings.ToUpper(strings.ReplaceAll(codes[0], "-", " ")))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Factor, res.RecoveryCodesLeft, "left")
	_, err = tf.Verify(ctx, "alice", codes[0])
	fmt.Println("again:", err)
	left, err := tf.Recovery.Remaining(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(left, "remaining")
	// Output:
	// 10 codes, 10 in the form xxxxx-xxxxx
	// recovery_code 9 left
	// again: twofa: invalid code
	// 9 remaining
}

func ExampleTwoFA_Verify() {
	ctx := context.Background()
	// A fake clock from twofatest, so that time moves only when told.
	clock := twofatest.NewClock(twofatest.Start)
	cfg := exampleConfig(clock)
	tf, err := twofa.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	// Enrol a device and confirm it, as a user scanning the QR code would,
	// with the code of the step before, so that the current one is
	// unused. (In a test, twofatest.New(t).EnrollTOTP does all this.)
	e, err := tf.Devices.Enroll(ctx, "alice", "phone", twofa.EnrollOptions{})
	if err != nil {
		log.Fatal(err)
	}
	app, err := e.Key.TOTP()
	if err != nil {
		log.Fatal(err)
	}
	first, err := app.Code(clock.Now().Add(-30 * time.Second))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := tf.Devices.Confirm(ctx, "alice", e.Device.ID, first); err != nil {
		log.Fatal(err)
	}

	code, err := app.Code(clock.Now())
	if err != nil {
		log.Fatal(err)
	}
	res, err := tf.Verify(ctx, "alice", code)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Factor, res.DeviceID == e.Device.ID)
	_, err = tf.Verify(ctx, "alice", code)
	fmt.Println(errors.Is(err, twofa.ErrReplayed), err)
	_, err = tf.Verify(ctx, "alice", "one two three")
	fmt.Println(errors.Is(err, twofa.ErrMalformedCode), err)
	_, err = tf.Verify(ctx, "bob", code)
	fmt.Println(errors.Is(err, twofa.ErrNotEnrolled), err)

	clock.Advance(30 * time.Second)
	code, err = app.Code(clock.Now())
	if err != nil {
		log.Fatal(err)
	}
	res, err = tf.Verify(ctx, "alice", code[:3]+" "+code[3:])
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Factor)
	// Output:
	// device true
	// true twofa: code already used
	// true twofa: malformed code
	// true twofa: no second factor enrolled
	// device
}
