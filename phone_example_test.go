package twofa_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sync"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/phonenumber"
	"github.com/twofa-go/twofa/twofatest"
)

// inbox is a stand-in for the phone in the user's pocket: a Sender that
// keeps the last code sent to each number. A real Sender hands the
// message to the backend's SMS or voice provider (m.To.E164, m.Text())
// and never logs the code.
type inbox struct {
	mu   sync.Mutex
	last map[string]string
}

func (b *inbox) Send(_ context.Context, m twofa.Message) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last == nil {
		b.last = map[string]string{}
	}
	b.last[m.To.E164] = m.Code
	return nil
}

// read returns the code the user reads on the phone.
func (b *inbox) read(n twofa.PhoneNumber) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last[n.E164]
}

// Adding a phone number: parse what the user typed, add it (pending),
// send it a code, and confirm it with the code the user types back.
func ExamplePhones_Add() {
	ctx := context.Background()
	phone := &inbox{}
	cfg := exampleConfig(nil)
	cfg.Phones.Sender = phone
	tf, err := twofa.New(cfg)
	if err != nil {
		log.Fatal(err)
	}

	n, err := phonenumber.Parse("(415) 555-0142", "US")
	if err != nil {
		log.Fatal(err) // errors.Is(err, twofa.ErrInvalidPhoneNumber): ask again
	}
	p, err := tf.Phones.Add(ctx, "alice", n)
	if err != nil {
		log.Fatal(err)
	}
	sent, err := tf.Phones.SendCode(ctx, "alice", p.ID, twofa.ChannelSMS)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("we sent a code to", sent.To) // prints masked

	// The user types the code from the text.
	if _, err := tf.Phones.Confirm(ctx, "alice", p.ID, phone.read(n)); err != nil {
		log.Fatal(err) // ErrInvalidCode: try again; ErrCodeExpired: send a new one
	}
	list, err := tf.Phones.List(ctx, "alice")
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

// Signing in with a code sent by SMS. TwoFA.Verify accepts it only with
// Config.Phones.OutOfBand set: SMS is a weaker second factor than an
// authenticator app (SIM swaps, interception), so a backend opts in.
func ExampleTwoFA_Verify_sms() {
	ctx := context.Background()
	phone := &inbox{}
	clock := twofatest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	cfg := exampleConfig(clock)
	cfg.Phones.Sender = phone
	cfg.Phones.OutOfBand = true
	tf, err := twofa.New(cfg)
	if err != nil {
		log.Fatal(err)
	}

	// Earlier, on the settings page: a trusted number.
	n := twofa.PhoneNumber{E164: "+14155550142", CountryCode: 1}
	p, err := tf.Phones.Add(ctx, "alice", n)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := tf.Phones.SendCode(ctx, "alice", p.ID, twofa.ChannelSMS); err != nil {
		log.Fatal(err)
	}
	if _, err := tf.Phones.Confirm(ctx, "alice", p.ID, phone.read(n)); err != nil {
		log.Fatal(err)
	}

	// Sign-in, after the password: the user asks for a text...
	clock.Advance(time.Hour)
	if _, err := tf.Phones.SendCode(ctx, "alice", p.ID, twofa.ChannelSMS); err != nil {
		log.Fatal(err)
	}
	// ... and asks again at once: the number's cool-down holds.
	_, err = tf.Phones.SendCode(ctx, "alice", p.ID, twofa.ChannelSMS)
	var wait *twofa.CooldownError
	if !errors.As(err, &wait) {
		log.Fatalf("a second code at once: %v, want a cool-down", err)
	}
	fmt.Println("please wait", wait.RetryAfter, "before asking for another code")

	// The user types the code; TwoFA.Verify tries it after any devices.
	code := phone.read(n)
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

func ExamplePhoneNumber_Masked() {
	n := twofa.PhoneNumber{E164: "+447700900123", CountryCode: 44}
	fmt.Println(n.Masked())
	fmt.Printf("%v %s %d\n", n, n, n) // every verb masks
	// Output:
	// +44 ••• ••• ••23
	// +44 ••• ••• ••23 +44 ••• ••• ••23 +44 ••• ••• ••23
}

// Removing a number: its codes stop working at once. With
// Config.Phones.OutOfBand, removing the last trusted number of an account that
// has no authenticator turns two-factor authentication off.
func ExamplePhones_Remove() {
	ctx := context.Background()
	phone := &inbox{}
	cfg := exampleConfig(nil)
	cfg.Phones.Sender = phone
	cfg.Phones.OutOfBand = true
	cfg.Events = func(_ context.Context, e twofa.Event) {
		if e.Type == twofa.EventPhoneRemoved || e.Type == twofa.EventTwoFactorDisabled {
			fmt.Println("event:", e.Type) // events carry the phone's ID, never the number
		}
	}
	tf, err := twofa.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	n := twofa.PhoneNumber{E164: "+14155550142", CountryCode: 1}
	p, err := tf.Phones.Add(ctx, "alice", n)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := tf.Phones.SendCode(ctx, "alice", p.ID, twofa.ChannelVoice); err != nil {
		log.Fatal(err)
	}
	if _, err := tf.Phones.Confirm(ctx, "alice", p.ID, phone.read(n)); err != nil {
		log.Fatal(err)
	}

	if _, err := tf.Phones.Remove(ctx, "alice", p.ID); err != nil {
		log.Fatal(err)
	}
	list, err := tf.Phones.List(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(list), "numbers left")
	// Output:
	// event: phone_removed
	// event: two_factor_disabled
	// 0 numbers left
}
