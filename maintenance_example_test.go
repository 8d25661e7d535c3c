package twofa_test

import (
	"context"
	"fmt"
	"log"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/twofatest"
)

// ExampleTwoFA_Reseal rotates the sealing key of an installation: add key
// 2 as primary while key 1 still opens, reseal every device, then drop
// key 1.
func ExampleTwoFA_Reseal() {
	ctx := context.Background()
	store := memstore.New()
	// DO NOT use such keys: load them with keyring.Parse.
	key := func(b byte) []byte {
		k := make([]byte, keyring.KeySize)
		for i := range k {
			k[i] = b + byte(i)
		}
		return k
	}
	digest, k1, k2 := key('d'), key(1), key(2)

	// Before: key 1 seals. Two accounts enrol a device each.
	before, err := keyring.New(1, map[keyring.KeyID][]byte{1: k1}, digest)
	if err != nil {
		log.Fatal(err)
	}
	tf, err := twofa.New(twofa.Config{Store: store, Keyring: before, Issuer: "Example"})
	if err != nil {
		log.Fatal(err)
	}
	for _, account := range []string{"alice", "bob"} {
		if _, err := tf.Devices.Enroll(ctx, account, "phone", twofa.EnrollOptions{}); err != nil {
			log.Fatal(err)
		}
	}

	// During: key 2 is primary on every replica, key 1 still opens.
	during, err := keyring.New(2, map[keyring.KeyID][]byte{1: k1, 2: k2}, digest)
	if err != nil {
		log.Fatal(err)
	}
	tf, err = twofa.New(twofa.Config{Store: store, Keyring: during, Issuer: "Example"})
	if err != nil {
		log.Fatal(err)
	}
	n, err := tf.Reseal(ctx)
	fmt.Println("resealed:", n, err)
	n, err = tf.Reseal(ctx)
	fmt.Println("again:", n, err)
	// After: nothing is under key 1 any more; drop it from the keyring.

	// Output:
	// resealed: 2 <nil>
	// again: 0 <nil>
}

// ExampleTwoFA_Purge cleans up an enrolment that was never confirmed.
func ExampleTwoFA_Purge() {
	ctx := context.Background()
	keys, err := keyring.Generate()
	if err != nil {
		log.Fatal(err)
	}
	ring, err := keyring.Parse(keys)
	if err != nil {
		log.Fatal(err)
	}
	clock := twofatest.NewClock(twofatest.Start) // use the default, the system clock
	tf, err := twofa.New(twofa.Config{Store: memstore.New(), Keyring: ring, Issuer: "Example", Clock: clock})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := tf.Devices.Enroll(ctx, "alice", "phone", twofa.EnrollOptions{}); err != nil {
		log.Fatal(err)
	}

	n, err := tf.Purge(ctx)
	fmt.Println("purged while pending:", n, err)
	clock.Advance(tf.Config().Devices.PendingTTL)
	n, err = tf.Purge(ctx)
	fmt.Println("purged once lapsed:", n, err)
	// Output:
	// purged while pending: 0 <nil>
	// purged once lapsed: 1 <nil>
}
