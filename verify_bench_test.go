package twofa_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/twofatest"
)

// BenchmarkTwoFAVerify measures one successful TwoFA.Verify on
// memstore with 1 and 5 confirmed TOTP devices (the matching one enrolled
// last, so every device is tried), and a failed one. Each success uses a
// fresh time step: the fake clock moves 30 s per iteration.
func BenchmarkTwoFAVerify(b *testing.B) {
	for _, n := range []int{1, 5} {
		b.Run(fmt.Sprintf("memstore/devices=%d/valid", n), func(b *testing.B) {
			env, dev := benchEnv(b, n)
			ctx := context.Background()
			codes := make([]string, b.N)
			start := env.Clock.Now()
			for i := range codes {
				codes[i] = dev.CodeAt(start.Add(time.Duration(i) * 30 * time.Second))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				env.Clock.Set(start.Add(time.Duration(i) * 30 * time.Second))
				if _, err := env.TwoFA.Verify(ctx, "bench", codes[i]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("memstore/devices=%d/invalid", n), func(b *testing.B) {
			env, dev := benchEnv(b, n)
			ctx := context.Background()
			wrong := wrongCode(b, dev, env.Clock.Now(), 5)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := env.TwoFA.Verify(ctx, "bench", wrong); err == nil {
					b.Fatal("wrong code accepted")
				}
			}
		})
	}
}

// benchEnv enrols n devices for account "bench" with a throttle that never
// engages, and returns the last one.
func benchEnv(b *testing.B, n int) (*twofatest.Env, *twofatest.Device) {
	env := envWith(b, func(c *twofa.Config) {
		c.Throttle.Codes = twofa.ThrottlePolicy{Free: 1 << 30, Base: time.Second, Max: time.Second}
	})
	var dev *twofatest.Device
	for i := 0; i < n; i++ {
		dev = env.EnrollTOTP("bench")
	}
	env.Clock.Advance(30 * time.Second)
	return env, dev
}
