package phone_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sync"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/phone/phonenumber"
	"github.com/twofa-go/twofa/twofatest"
)

// exampleConfig is an installation's Config on a memstore with a fresh
// keyring.
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

// inbox is a stand-in for the phone in the user's pocket: a Sender that
// keeps the last code sent to each number. A real Sender hands the
// message to the backend's SMS or voice provider (m.To.E164, m.Text())
// and never logs the code.
type inbox struct {
	mu   sync.Mutex
	last map[string]string
}

func (b *inbox) Send(_ context.Context, m phone.Message) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last == nil {
		b.last = map[string]string{}
	}
	b.last[m.To.E164] = m.Code
	return nil
}

// read returns the code the user reads on the phone.
func (b *inbox) read(n phone.Number) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last[n.E164]
}

// Adding a phone number: parse what the user typed, add it (pending),
// send it a code, and confirm it with the code the user types back.
func ExampleManager_Add() {
	ctx := context.Background()
	sms := &inbox{}
	tf, err := twofa.New(exampleConfig(nil))
	if err != nil {
		log.Fatal(err)
	}
	phones, err := phone.New(tf, phone.Config{Sender: sms})
	if err != nil {
		log.Fatal(err)
	}

	n, err := phonenumber.Parse("(415) 555-0142", "US")
	if err != nil {
		log.Fatal(err) // errors.Is(err, phone.ErrInvalidNumber): ask again
	}
	p, err := phones.Add(ctx, "alice", n)
	if err != nil {
		log.Fatal(err)
	}
	sent, err := phones.SendCode(ctx, "alice", p.ID, phone.SMS)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("we sent a code to", sent.To) // prints masked

	// The user types the code from the text.
	if _, err := phones.Confirm(ctx, "alice", p.ID, sms.read(n)); err != nil {
		log.Fatal(err) // ErrInvalidCode: try again; ErrCodeExpired: send a new one
	}
	list, err := phones.List(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range list {
		fmt.Println(p.Number, p.State)
	}
	// Output:
	// we sent a code to +1 ••• ••• ••42
	// +1 ••• ••• ••42 trusted
}

// Signing in with a code sent by SMS. twofa.TwoFA.Verify accepts it only
// with Config.OutOfBand set: SMS is a weaker second factor than an
// authenticator app (SIM swaps, interception), so a backend opts in.
func Example() {
	ctx := context.Background()
	sms := &inbox{}
	clock := twofatest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	tf, err := twofa.New(exampleConfig(clock))
	if err != nil {
		log.Fatal(err)
	}
	// Sign-in codes by SMS count as a second factor: opt in.
	phones, err := phone.New(tf, phone.Config{Sender: sms, OutOfBand: true})
	if err != nil {
		log.Fatal(err)
	}

	// Earlier, on the settings page: a trusted number.
	n := phone.Number{E164: "+14155550142", CountryCode: 1}
	p, err := phones.Add(ctx, "alice", n)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := phones.SendCode(ctx, "alice", p.ID, phone.SMS); err != nil {
		log.Fatal(err)
	}
	if _, err := phones.Confirm(ctx, "alice", p.ID, sms.read(n)); err != nil {
		log.Fatal(err)
	}

	// Sign-in, after the password: the user asks for a text...
	clock.Advance(time.Hour)
	if _, err := phones.SendCode(ctx, "alice", p.ID, phone.SMS); err != nil {
		log.Fatal(err)
	}
	// ... and asks again at once: the number's cool-down holds.
	_, err = phones.SendCode(ctx, "alice", p.ID, phone.SMS)
	var wait *phone.CooldownError
	if !errors.As(err, &wait) {
		log.Fatalf("a second code at once: %v, want a cool-down", err)
	}
	fmt.Println("please wait", wait.RetryAfter, "before asking for another code")

	// The user types the code; TwoFA.Verify tries it after any devices.
	code := sms.read(n)
	res, err := tf.Verify(ctx, "alice", code)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed in with", res.Factor)

	// Every code works once.
	_, err = tf.Verify(ctx, "alice", code)
	fmt.Println(errors.Is(err, twofa.ErrReplayed))
	// Output:
	// please wait 30s before asking for another code
	// signed in with phone
	// true
}

func ExampleNumber_Masked() {
	n := phone.Number{E164: "+447700900123", CountryCode: 44}
	fmt.Println(n.Masked())
	fmt.Printf("%v %s %d\n", n, n, n) // every verb masks
	// Output:
	// +44 ••• ••• ••23
	// +44 ••• ••• ••23 +44 ••• ••• ••23 +44 ••• ••• ••23
}

// Removing a number: its codes stop working at once. With
// Config.OutOfBand, removing the last trusted number of an account that
// has no authenticator turns two-factor authentication off.
func ExampleManager_Remove() {
	ctx := context.Background()
	sms := &inbox{}
	cfg := exampleConfig(nil)
	cfg.Events = func(_ context.Context, e twofa.Event) {
		if e.Type == phone.EventRemoved || e.Type == twofa.EventTwoFactorDisabled {
			fmt.Println("event:", e.Type) // events carry the phone's ID, never the number
		}
	}
	tf, err := twofa.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	phones, err := phone.New(tf, phone.Config{Sender: sms, OutOfBand: true})
	if err != nil {
		log.Fatal(err)
	}
	n := phone.Number{E164: "+14155550142", CountryCode: 1}
	p, err := phones.Add(ctx, "alice", n)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := phones.SendCode(ctx, "alice", p.ID, phone.Voice); err != nil {
		log.Fatal(err)
	}
	if _, err := phones.Confirm(ctx, "alice", p.ID, sms.read(n)); err != nil {
		log.Fatal(err)
	}

	if _, err := phones.Remove(ctx, "alice", p.ID); err != nil {
		log.Fatal(err)
	}
	list, err := phones.List(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(list), "numbers left")
	// Output:
	// event: phone_removed
	// event: two_factor_disabled
	// 0 numbers left
}
