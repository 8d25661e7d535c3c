package sqlstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/sqlstore"
	"github.com/twofa-go/twofa/twofatest"
)

// replica is one server: its own *sql.DB pool, store and managers, on a
// database shared with the other replicas, a keyring shared with them and
// one fake clock for all.
type replica struct {
	store    *sqlstore.Store
	devices  *twofa.Devices
	verifier *twofa.TwoFA
	recovery *twofa.RecoveryCodes
}

// defaults returns the resolved default Config of an installation, for
// tests that read a default.
func defaults(tb testing.TB) twofa.Config {
	tb.Helper()
	return twofatest.New(tb).TwoFA.Config()
}

// wideThrottle never refuses an attempt unevaluated, so that concurrent
// submissions all reach the replay guard.
var wideThrottle = twofa.ThrottlePolicy{Free: 1 << 20, Base: time.Second, Max: time.Second}

func newKeyring(tb testing.TB) *keyring.Keyring {
	tb.Helper()
	key, digestKey := make([]byte, keyring.KeySize), make([]byte, keyring.KeySize)
	rand.Read(key)
	rand.Read(digestKey)
	kr, err := keyring.New(1, map[keyring.KeyID][]byte{1: key}, digestKey)
	if err != nil {
		tb.Fatal(err)
	}
	return kr
}

// replicas opens n replicas on one fresh database of backend b.
func replicas(tb testing.TB, b backend, n int, clock twofa.Clock, throttle twofa.ThrottlePolicy) []replica {
	tb.Helper()
	kr := newKeyring(tb)
	stores := b.pools(tb, n)
	var rs []replica
	for i, s := range stores {
		if err := s.Migrate(context.Background()); err != nil {
			tb.Fatalf("replica %d: migrate: %v", i, err)
		}
		cfg := twofa.Config{Store: s, Keyring: kr, Issuer: "Replicas", Clock: clock,
			Throttle: twofa.ThrottleConfig{Codes: throttle, Recovery: throttle}}
		tf, err := twofa.New(cfg)
		if err != nil {
			tb.Fatal(err)
		}
		rs = append(rs, replica{store: s, devices: tf.Devices, verifier: tf, recovery: tf.Recovery})
	}
	return rs
}

// enrolTOTP enrols and confirms a TOTP device through r and returns its
// generator.
func enrolTOTP(tb testing.TB, r replica, clock *twofatest.Clock, account string) *twofa.TOTP {
	tb.Helper()
	ctx := context.Background()
	e, err := r.devices.Enroll(ctx, account, "phone", twofa.EnrollOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	totp, err := e.Key.TOTP()
	if err != nil {
		tb.Fatal(err)
	}
	code, _ := totp.Code(clock.Now().Add(-30 * time.Second))
	if _, err := r.devices.Confirm(ctx, account, e.Device.ID, code); err != nil {
		tb.Fatal(err)
	}
	return totp
}

// tally runs n goroutines, goroutine i submitting input through replica
// i%len(rs), and counts the results.
func tally(rs []replica, account, input string, n int) (ok, replayed, invalid int32, others []error) {
	var nOK, nReplayed, nInvalid atomic.Int32
	errs := make(chan error, n)
	goAll(n, func(i int) {
		_, err := rs[i%len(rs)].verifier.Verify(context.Background(), account, input)
		switch {
		case err == nil:
			nOK.Add(1)
		case errors.Is(err, twofa.ErrReplayed):
			nReplayed.Add(1)
		case errors.Is(err, twofa.ErrInvalidCode):
			nInvalid.Add(1)
		default:
			errs <- err
		}
	})
	close(errs)
	for err := range errs {
		others = append(others, err)
	}
	return nOK.Load(), nReplayed.Load(), nInvalid.Load(), others
}

// TestReplicasOneCodeOnce: two installations with separate pools on one
// database receive 200 concurrent submissions of one valid code: exactly
// one succeeds, every other is ErrReplayed.
func TestReplicasOneCodeOnce(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		for round := 0; round < 3; round++ {
			clock := twofatest.NewClock(twofatest.Start)
			rs := replicas(t, b, 2, clock, wideThrottle)
			totp := enrolTOTP(t, rs[0], clock, "alice")
			code, _ := totp.Code(clock.Now())
			ok, replayed, invalid, others := tally(rs, "alice", code, 200)
			if ok != 1 || replayed != 199 || invalid != 0 || len(others) != 0 {
				t.Fatalf("round %d: %d accepted, %d replayed, %d invalid, other errors %v; want 1, 199, 0, none",
					round, ok, replayed, invalid, others)
			}
		}
	})
}

// TestReplicasOneRecoveryCodeOnce: the same for one recovery code.
func TestReplicasOneRecoveryCodeOnce(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		clock := twofatest.NewClock(twofatest.Start)
		rs := replicas(t, b, 2, clock, wideThrottle)
		enrolTOTP(t, rs[0], clock, "bob")
		codes, err := rs[1].recovery.Generate(context.Background(), "bob")
		if err != nil {
			t.Fatal(err)
		}
		ok, _, invalid, others := tally(rs, "bob", codes[3], 200)
		if ok != 1 || invalid != 199 || len(others) != 0 {
			t.Fatalf("%d accepted, %d invalid, other errors %v; want 1, 199, none", ok, invalid, others)
		}
		left, err := rs[0].recovery.Remaining(context.Background(), "bob")
		if err != nil || left != twofa.RecoveryCodeCount-1 {
			t.Errorf("Remaining = %d, %v; want %d", left, err, twofa.RecoveryCodeCount-1)
		}
	})
}

// TestReplicasCountEveryFailure: N concurrent wrong codes through two
// replicas are counted as N failures (no lost updates).
func TestReplicasCountEveryFailure(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		clock := twofatest.NewClock(twofatest.Start)
		rs := replicas(t, b, 2, clock, wideThrottle)
		totp := enrolTOTP(t, rs[0], clock, "carol")
		wrong := wrongCode(totp, clock.Now())
		const n = 150
		ok, _, invalid, others := tally(rs, "carol", wrong, n)
		if ok != 0 || invalid != n || len(others) != 0 {
			t.Fatalf("%d accepted, %d invalid, other errors %v; want 0, %d, none", ok, invalid, others, n)
		}
		st, err := rs[1].store.Throttle(context.Background(), "carol", twofa.ScopeCode)
		if err != nil || st.Failures != n {
			t.Errorf("failures counted = %d, %v; want %d", st.Failures, err, n)
		}
	})
}

// TestReplicasThrottleHolds: with the default throttle, a burst of
// concurrent wrong codes through two replicas gets no more evaluations than
// the free failures plus one: attempts are counted before they are
// evaluated, in one atomic statement.
func TestReplicasThrottleHolds(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		clock := twofatest.NewClock(twofatest.Start)
		rs := replicas(t, b, 2, clock, twofa.ThrottlePolicy{})
		totp := enrolTOTP(t, rs[0], clock, "dave")
		wrong := wrongCode(totp, clock.Now())
		_, _, invalid, others := tally(rs, "dave", wrong, 100)
		throttled := 0
		for _, err := range others {
			if !errors.Is(err, twofa.ErrThrottled) {
				t.Fatalf("unexpected error %v", err)
			}
			throttled++
		}
		if int(invalid) != defaults(t).Throttle.Codes.Free+1 || throttled != 100-int(invalid) {
			t.Errorf("%d evaluated, %d throttled; want %d evaluated", invalid, throttled, defaults(t).Throttle.Codes.Free+1)
		}
	})
}

// wrongCode returns a 6-digit code valid at no step within ±5 of now.
func wrongCode(totp *twofa.TOTP, now time.Time) string {
	valid := map[string]bool{}
	for i := -5; i <= 5; i++ {
		c, _ := totp.Code(now.Add(time.Duration(i) * 30 * time.Second))
		valid[c] = true
	}
	for i := 0; ; i++ {
		if c := fmt.Sprintf("%06d", i); !valid[c] {
			return c
		}
	}
}

// BenchmarkVerify measures TwoFA.Verify accepting a code, end to end
// on a SQL store: load the devices, reserve an attempt, open the sealed
// secret, advance the counter, reset the throttle. Sequential: one
// account; parallel: one account per goroutine, as concurrent logins.
// HOTP devices give a fresh code per operation without moving the clock.
func BenchmarkVerify(b *testing.B) {
	for _, be := range benchBackends() {
		b.Run(be.name, func(b *testing.B) {
			clock := twofatest.NewClock(twofatest.Start)
			rs := replicas(b, be, 1, clock, wideThrottle)
			r := rs[0]
			b.Run("seq", func(b *testing.B) {
				h := importHOTP(b, r, "bench-seq")
				var c uint64
				for b.Loop() {
					if _, err := r.verifier.Verify(context.Background(), "bench-seq", h.Code(c)); err != nil {
						b.Fatal(err)
					}
					c++
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verify/s")
			})
			b.Run("parallel", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					account := fmt.Sprint("bench-par-", benchWorker.Add(1))
					h := importHOTP(b, r, account)
					var c uint64
					for pb.Next() {
						if _, err := r.verifier.Verify(context.Background(), account, h.Code(c)); err != nil {
							b.Error(err)
							return
						}
						c++
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verify/s")
			})
		})
	}
}

func importHOTP(tb testing.TB, r replica, account string) *twofa.HOTP {
	tb.Helper()
	s, err := twofa.NewSecret()
	if err != nil {
		tb.Fatal(err)
	}
	k := twofa.Key{Type: twofa.TypeHOTP, Issuer: "Bench", Account: account, Secret: s}
	if _, _, err := r.devices.Import(context.Background(), account, "token", k); err != nil {
		tb.Fatal(err)
	}
	h, err := k.HOTP()
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// offsetClock is the system clock shifted by an offset: a replica whose
// clock differs from the others' by milliseconds.
type offsetClock time.Duration

func (c offsetClock) Now() time.Time { return time.Now().Add(time.Duration(c)) }

// TestReplicasRealClocksNoSpuriousThrottle: two replicas on real clocks 25 ms
// apart receive bursts of concurrent wrong codes for one account under a
// throttle whose free failures are never used up: none is refused
// unevaluated, however the requests overlap. (A refusal must come from a
// back-off that really runs.)
func TestReplicasRealClocksNoSpuriousThrottle(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		p := twofa.ThrottlePolicy{Free: 1 << 20, Base: time.Second, Max: time.Minute}
		rs := replicas(t, b, 2, nil, p)
		// Rebuild the two replicas on clocks 25 ms apart, sharing one keyring.
		key := newKeyring(t)
		for i, off := range []time.Duration{0, -25 * time.Millisecond} {
			cfg := twofa.Config{Store: rs[i].store, Keyring: key, Issuer: "Replicas", Clock: offsetClock(off), Throttle: twofa.ThrottleConfig{Codes: p}}
			tf, err := twofa.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			rs[i].devices, rs[i].verifier = tf.Devices, tf
		}
		e, err := rs[0].devices.Enroll(ctx, "alice", "phone", twofa.EnrollOptions{})
		if err != nil {
			t.Fatal(err)
		}
		totp, err := e.Key.TOTP()
		if err != nil {
			t.Fatal(err)
		}
		code, _ := totp.Code(time.Now())
		if _, err := rs[0].devices.Confirm(ctx, "alice", e.Device.ID, code); err != nil {
			t.Fatal(err)
		}
		valid := map[string]bool{}
		for i := -6; i <= 6; i++ {
			c, _ := totp.Code(time.Now().Add(time.Duration(i) * 30 * time.Second))
			valid[c] = true
		}
		wrong := "000000"
		for n := 1; valid[wrong]; n++ {
			wrong = fmt.Sprintf("%06d", n*7919%1000000)
		}
		for _, burst := range []int{8, 32, 32, 32} {
			_, _, invalid, others := tally(rs, "alice", wrong, burst)
			if len(others) > 0 || invalid != int32(burst) {
				t.Fatalf("burst of %d wrong codes through two replicas: %d evaluated, other results %v; want all evaluated", burst, invalid, others)
			}
		}
	})
}
