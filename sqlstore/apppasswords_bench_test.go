package sqlstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/twofatest"
)

// BenchmarkAppPasswordRefused measures AppPasswords.Verify refusing a
// wrong app password of an account with 1 and with 25 app passwords,
// side by side on each backend (one store per backend; the accounts
// "refused-1" and "refused-25"). The throttle's Free is so large that
// every refusal is counted and none is throttled, so each call does the
// same work: the digest lookup that finds nothing, the EXISTS that tells
// that the account has app passwords, and the throttle's upsert - three
// statements whose cost does not grow with the number of passwords.
func BenchmarkAppPasswordRefused(b *testing.B) {
	for _, be := range benchBackends() {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			ctx := context.Background()
			kr, err := keyring.New(1, map[keyring.KeyID][]byte{1: randomBytes(b, keyring.KeySize)}, randomBytes(b, keyring.KeySize))
			if err != nil {
				b.Fatal(err)
			}
			clock := twofatest.NewClock(twofatest.Start)
			cfg := twofa.Config{Store: s, Keyring: kr, Issuer: "bench", Clock: clock}
			cfg.Throttle.AppPasswords = twofa.ThrottlePolicy{Free: 1 << 40, Base: time.Nanosecond, Max: time.Nanosecond}
			tf, err := twofa.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			for _, n := range []int{1, 25} {
				account := fmt.Sprint("refused-", n)
				for j := range n {
					p := twofa.AppPassword{
						ID: rand.Text(), Account: account, Label: fmt.Sprint("client ", j),
						Digest: randomBytes(b, keyring.DigestSize), CreatedAt: clock.Now(),
					}
					if err := s.InsertAppPassword(ctx, p, 25); err != nil {
						b.Fatal(err)
					}
				}
			}
			for _, n := range []int{1, 25} {
				b.Run(fmt.Sprint("passwords=", n), func(b *testing.B) {
					account := fmt.Sprint("refused-", n)
					for b.Loop() {
						if _, err := tf.AppPasswords.Verify(ctx, account, "abcd-efgh-ijkl-mnop"); !errors.Is(err, twofa.ErrInvalidAppPassword) {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

func randomBytes(tb testing.TB, n int) []byte {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return b
}
