package twofa_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/twofa-go/twofa"
)

// Turning two-factor authentication on and off: the confirmation that
// turns it on says so (the moment to hand out the first recovery codes),
// and Disable voids everything that depended on it.
func ExampleTwoFA_Disable() {
	ctx := context.Background()
	clock := &fixedClock{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	tf, err := twofa.New(exampleConfig(clock))
	if err != nil {
		log.Fatal(err)
	}
	e, err := tf.Devices.Enroll(ctx, "alice", "Alice's phone", twofa.EnrollOptions{})
	if err != nil {
		log.Fatal(err)
	}
	totp, err := e.Key.TOTP()
	if err != nil {
		log.Fatal(err)
	}
	code, err := totp.Code(clock.Now()) // what the app shows
	if err != nil {
		log.Fatal(err)
	}
	ch, err := tf.Devices.Confirm(ctx, "alice", e.Device.ID, code)
	if err != nil {
		log.Fatal(err)
	}
	if ch.TurnedOn {
		codes, err := tf.Recovery.Generate(ctx, "alice")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("two-factor on;", len(codes), "recovery codes to show once")
	}

	// Later, on the settings page, after the password was checked again:
	if err := tf.Disable(ctx, "alice"); err != nil {
		log.Fatal(err)
	}
	on, err := tf.Enabled(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	left, err := tf.Recovery.Remaining(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("two-factor on:", on, "recovery codes left:", left)
	// Output:
	// two-factor on; 10 recovery codes to show once
	// two-factor on: false recovery codes left: 0
}

// fixedClock is a clock that stands still, for examples.
type fixedClock struct{ t time.Time }

func (c *fixedClock) Now() time.Time { return c.t }
