package sqlstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/twofa-go/twofa"
)

// benchWorker numbers the goroutines of every parallel benchmark run, so
// that each has an account of its own in a store that outlives the run.
var benchWorker atomic.Int64

// benchBackends are the databases the benchmarks run on.
func benchBackends() []backend {
	return []backend{sqliteFile(), sqliteShared(), postgres()}
}

// BenchmarkStoreAcceptCode measures an accepted code: one transaction
// that reads the throttle and runs the replay guard's conditional UPDATE. Sequential: one device, counter rising. Parallel:
// each goroutine its own account and device, as concurrent logins are.
func BenchmarkStoreAcceptCode(b *testing.B) {
	for _, be := range benchBackends() {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			ctx := context.Background()
			b.Run("seq", func(b *testing.B) {
				if err := s.InsertDevice(ctx, confirmed("seq", "seq", 0), 5, t0); err != nil {
					b.Fatal(err)
				}
				var c uint64
				for b.Loop() {
					ok, err := advance(ctx, s, "seq", "seq", c, 0, t0)
					if err != nil || !ok {
						b.Fatal(ok, err)
					}
					c++
				}
			})
			b.Run("parallel", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					id := fmt.Sprint("par", benchWorker.Add(1))
					if err := s.InsertDevice(ctx, confirmed(id, id, 0), 5, t0); err != nil {
						b.Error(err)
						return
					}
					var c uint64
					for pb.Next() {
						if ok, err := advance(ctx, s, id, id, c, 0, t0); err != nil || !ok {
							b.Error(ok, err)
							return
						}
						c++
					}
				})
			})
		})
	}
}

// BenchmarkStoreReserveAttempt measures the throttle's upsert, counting a
// failure each time (Free is large, so it never refuses).
func BenchmarkStoreReserveAttempt(b *testing.B) {
	p := twofa.ThrottlePolicy{Free: 1 << 40, Base: 1, Max: 1}
	for _, be := range benchBackends() {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			ctx := context.Background()
			b.Run("seq", func(b *testing.B) {
				for b.Loop() {
					if _, ok, err := s.ReserveAttempt(ctx, "seq", twofa.ScopeCode, t0, p); err != nil || !ok {
						b.Fatal(ok, err)
					}
				}
			})
			b.Run("parallel", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					acct := fmt.Sprint("par", benchWorker.Add(1))
					for pb.Next() {
						if _, ok, err := s.ReserveAttempt(ctx, acct, twofa.ScopeCode, t0, p); err != nil || !ok {
							b.Error(ok, err)
							return
						}
					}
				})
			})
		})
	}
}
