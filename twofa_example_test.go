package twofa_test

import (
	"fmt"
	"log"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/memstore"
)

func ExampleNew() {
	// In production the keys come from one environment variable:
	// keyring.Parse(os.Getenv("TWOFA_KEYS")). DO NOT generate them at
	// start-up, as this example does: what was sealed would be lost.
	text, err := keyring.Generate()
	if err != nil {
		log.Fatal(err)
	}
	keys, err := keyring.Parse(text)
	if err != nil {
		log.Fatal(err)
	}
	tf, err := twofa.New(twofa.Config{
		Store: memstore.New(), Keyring: keys, Issuer: "Example",
		Devices: twofa.DevicePolicy{Max: 3}, // the rest: defaults
	})
	if err != nil {
		log.Fatal(err)
	}
	// Every part of tf reads this one resolved Config.
	c := tf.Config()
	fmt.Println("skew:", c.Codes.Skew, "look-ahead:", c.Codes.LookAhead, "max drift:", c.Codes.MaxDrift)
	fmt.Println("devices:", c.Devices.Max, "pending for", c.Devices.PendingTTL)
	fmt.Println("free failures:", c.Throttle.Codes.Free, "budget:", c.Throttle.Codes.Budget)
	// Output:
	// skew: 1 look-ahead: 5 max drift: 4
	// devices: 3 pending for 10m0s
	// free failures: 5 budget: 30
}
