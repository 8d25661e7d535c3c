package signin_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/signin"
	"github.com/twofa-go/twofa/twofatest"
)

// exampleSetup returns an installation on a fake clock with its trusted
// browsers and pending sign-ins, a confirmed TOTP device for alice and
// that device's app.
func exampleSetup(clock twofa.Clock) (*twofa.TwoFA, *signin.Manager, *twofa.TOTP) {
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
	store := memstore.New()
	tf, err := twofa.New(twofa.Config{Store: store, Keyring: kr, Issuer: "Example", Clock: clock})
	if err != nil {
		log.Fatal(err)
	}
	browsers, err := browser.New(tf, browser.Config{})
	if err != nil {
		log.Fatal(err)
	}
	// Attaches the sign-ins to tf: turning two-factor off and
	// PasswordChanged end them, Purge removes the expired ones.
	signins, err := signin.New(tf, signin.Config{Browsers: browsers})
	if err != nil {
		log.Fatal(err)
	}
	// DO NOT hardcode secrets: this is the RFC 6238 test secret.
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
	return tf, signins, app
}

func ExampleManager_Finish() {
	ctx := context.Background()
	clock := twofatest.NewClock(twofatest.Start)
	_, signins, app := exampleSetup(clock)

	// After alice's password was checked. BrowserToken would be
	// browser.Token(r), Label browser.Label(r.UserAgent()).
	token, p, err := signins.Begin(ctx, "alice", signin.Request{Label: "Firefox on Linux", IP: "203.0.113.7"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed in at once:", p.Done)
	fmt.Println("pending:", p.Info.Label, "from", p.Info.IP, "for", p.Info.ExpiresAt.Sub(p.Info.CreatedAt))

	// The code form comes back with the token and what the app shows.
	code, _ := app.Code(clock.Now())
	fin, err := signins.Finish(ctx, token, code)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed in:", fin.Account, "with a", fin.Result.Factor)

	// The token is used up.
	_, err = signins.Finish(ctx, token, code)
	fmt.Println(errors.Is(err, signin.ErrNotFound))
	// Output:
	// signed in at once: false
	// pending: Firefox on Linux from 203.0.113.7 for 5m0s
	// signed in: alice with a device
	// true
}

func ExampleManager_Finish_expired() {
	ctx := context.Background()
	clock := twofatest.NewClock(twofatest.Start)
	_, signins, app := exampleSetup(clock)
	token, _, err := signins.Begin(ctx, "alice", signin.Request{})
	if err != nil {
		log.Fatal(err)
	}
	clock.Advance(signin.DefaultTTL)
	code, _ := app.Code(clock.Now())
	fin, err := signins.Finish(ctx, token, code)
	fmt.Println(fin.Account, errors.Is(err, signin.ErrExpired), errors.Is(err, signin.ErrNotFound))
	// Output:
	// alice true true
}

func ExampleManager_List() {
	ctx := context.Background()
	clock := twofatest.NewClock(twofatest.Start)
	_, signins, _ := exampleSetup(clock)
	for _, ip := range []string{"198.51.100.1", "2001:db8::7"} {
		if _, _, err := signins.Begin(ctx, "alice", signin.Request{Label: "Safari on iPhone", IP: ip}); err != nil {
			log.Fatal(err)
		}
		clock.Advance(time.Minute)
	}
	// What another of alice's devices would show, to approve or deny.
	l, err := signins.List(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	for _, i := range l {
		fmt.Println(i.CreatedAt.Format(time.TimeOnly), i.Label, i.IP)
	}
	// Output:
	// 03:05:05 Safari on iPhone 2001:db8::7
	// 03:04:05 Safari on iPhone 198.51.100.1
}

func ExampleManager_Lookup() {
	ctx := context.Background()
	clock := twofatest.NewClock(twofatest.Start)
	_, signins, _ := exampleSetup(clock)
	token, _, err := signins.Begin(ctx, "alice", signin.Request{Label: "Firefox on Linux"})
	if err != nil {
		log.Fatal(err)
	}

	// The code page: whose sign-in is it? (To list alice's phones for
	// "text me a code".) Nothing is finished or counted.
	info, err := signins.Lookup(ctx, token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Account, info.Label, info.Attempts)

	clock.Advance(signin.DefaultTTL)
	_, err = signins.Lookup(ctx, token)
	fmt.Println(errors.Is(err, signin.ErrExpired))
	// Output:
	// alice Firefox on Linux 0
	// true
}
