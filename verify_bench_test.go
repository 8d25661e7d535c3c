package twofa_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/twofatest"
)

// BenchmarkVerify measures TwoFA.Verify on memstore, accepted and refused,
// with 1 and 5 confirmed TOTP devices (the matching one enrolled last, so
// that every device is tried), next to the crypto it cannot skip, measured
// in the same run:
//
//	go test -run='^$' -bench='^BenchmarkVerify$' -benchmem -count=6 .
//
// The floor cases are one TOTP Code of a prepared generator (one
// HMAC-SHA-1 and the digits) and one XChaCha20-Poly1305 open of a 20-byte
// secret with the AEAD made beforehand; and the two record MACs of the
// write each case makes (see twofa.ErrTampered): one CheckMAC of the state
// read and one MAC of the state written, each an HMAC-SHA-256 of two
// message blocks (three compressions). Each Verify case reports
// "x-floor": its time over the crypto it does, which per device is one
// open and, for an accepted code, one HMAC (the nearest step is tried
// first); a refused code costs every device its whole window
// (2·Skew+1 = 3 steps) and the drift search around it (2·MaxDrift+1 - 3 =
// 6 more), 9 HMACs, and the state MACs of the resync write it makes
// whether or not the code is a drifted step's. The key schedule (two hash
// blocks per device) is not counted: it is work the floor leaves out.
//
// Events go to a hook that does nothing: what a backend's hook costs is
// its own. Each accepted code is for a fresh time step (the fake clock
// moves 30 s per iteration), with the codes computed in batches outside
// the timer.
func BenchmarkVerify(b *testing.B) {
	code := floorNs(b, "totp-code", floorCode)
	open := floorNs(b, "xchacha20poly1305-open", floorOpen)
	macs := floorNs(b, "state-macs", floorMACs)
	for _, n := range []int{1, 5} {
		b.Run(fmt.Sprintf("memstore/devices=%d/accepted", n), func(b *testing.B) {
			env, dev := benchEnv(b, n)
			benchAccepted(b, env, dev)
			reportFloor(b, open+code+macs)
		})
		if n > 1 {
			// The matching device tried last: every other device was
			// used more recently (at a time after the benchmark's), so
			// each costs an open and its window (3 HMACs) first.
			b.Run(fmt.Sprintf("memstore/devices=%d/accepted-last", n), func(b *testing.B) {
				env, devs := benchDevices(b, n)
				usedLater(b, env, devs[:n-1])
				benchAccepted(b, env, devs[n-1])
				reportFloor(b, float64(n)*open+float64(3*(n-1)+1)*code+macs)
			})
		}
		b.Run(fmt.Sprintf("memstore/devices=%d/refused", n), func(b *testing.B) {
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
			b.StopTimer()
			reportFloor(b, float64(n)*(open+9*code)+macs)
		})
	}
}

// benchAccepted times Verify of dev's code at a fresh step per iteration.
func benchAccepted(b *testing.B, env *twofatest.Env, dev *twofatest.Device) {
	ctx := context.Background()
	start := env.Clock.Now()
	const batch = 4096
	codes := make([]string, batch)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%batch == 0 {
			b.StopTimer()
			for j := range codes {
				codes[j] = dev.CodeAt(start.Add(time.Duration(i+j) * 30 * time.Second))
			}
			b.StartTimer()
		}
		env.Clock.Set(start.Add(time.Duration(i) * 30 * time.Second))
		if res, err := env.TwoFA.Verify(ctx, "bench", codes[i%batch]); err != nil || res.DeviceID != dev.ID {
			b.Fatal(res, err)
		}
	}
	b.StopTimer()
}

// usedLater signs in once with each of devs a century from now, so that
// they sort before the account's other devices however often those are
// used.
func usedLater(b *testing.B, env *twofatest.Env, devs []*twofatest.Device) {
	ctx := context.Background()
	now := env.Clock.Now()
	later := now.AddDate(100, 0, 0)
	env.Clock.Set(later)
	for _, d := range devs {
		if _, err := env.TwoFA.Verify(ctx, "bench", d.CodeAt(later)); err != nil {
			b.Fatal(err)
		}
	}
	env.Clock.Set(now)
}

// reportFloor reports b's time per operation over floor nanoseconds.
func reportFloor(b *testing.B, floor float64) {
	if b.N == 0 || floor == 0 {
		return
	}
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(floor, "floor-ns")
	b.ReportMetric(ns/floor, "x-floor")
}

var (
	floorMu sync.Mutex
	floors  = map[string]float64{}
)

// floorNs runs a floor case as a sub-benchmark of b, so that it appears in
// the same table, and returns its time per operation, measured once per
// test binary. When -bench filters the floor case out, it is timed apart
// (testing.Benchmark cannot run inside a benchmark).
func floorNs(b *testing.B, name string, setup func(testing.TB) func() error) float64 {
	b.Run("floor/"+name, func(b *testing.B) {
		op := setup(b)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := op(); err != nil {
				b.Fatal(err)
			}
		}
		if b.N > 1 {
			floorMu.Lock()
			floors[name] = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			floorMu.Unlock()
		}
	})
	floorMu.Lock()
	defer floorMu.Unlock()
	if _, ok := floors[name]; !ok {
		floors[name] = timeApart(b, setup(b))
	}
	return floors[name]
}

// timeApart times op, doubling the count until a run takes 200 ms.
func timeApart(b *testing.B, op func() error) float64 {
	for n := 1 << 10; ; n *= 2 {
		start := time.Now()
		for range n {
			if err := op(); err != nil {
				b.Fatal(err)
			}
		}
		if d := time.Since(start); d >= 200*time.Millisecond {
			return float64(d.Nanoseconds()) / float64(n)
		}
	}
}

// floorMACs prepares the two record MACs of an accepted sign-in per call:
// the MAC of a device's state twice, as Verify checks the state read and
// computes the state written (CheckMAC costs what MAC does).
func floorMACs(tb testing.TB) func() error {
	keys, err := keyring.Generate()
	if err != nil {
		tb.Fatal(err)
	}
	kr, err := keyring.Parse(keys)
	if err != nil {
		tb.Fatal(err)
	}
	d := twofa.Device{ID: "abcdefghijklmnopqrstuvwxyz", Account: "bench", Type: twofa.TypeTOTP,
		Algorithm: twofa.SHA1, Digits: 6, Period: 30 * time.Second, State: twofa.DeviceConfirmed, Counter: 56_666_666}
	return func() error {
		if _, err := twofa.DeviceMAC(kr, d); err != nil {
			return err
		}
		d.Counter++
		_, err := twofa.DeviceMAC(kr, d)
		return err
	}
}

// floorCode prepares one TOTP Code per call, at a new step each time.
func floorCode(tb testing.TB) func() error {
	tp, err := twofa.NewTOTP(coreRFCSecret(tb), twofa.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	at := time.Unix(1_700_000_000, 0)
	return func() error {
		at = at.Add(30 * time.Second)
		_, err := tp.Code(at)
		return err
	}
}

// floorOpen prepares one XChaCha20-Poly1305 open of a 20-byte secret per
// call, with the AEAD made beforehand.
func floorOpen(tb testing.TB) func() error {
	key := make([]byte, chacha20poly1305.KeySize)
	nonce := make([]byte, chacha20poly1305.NonceSizeX)
	if _, err := rand.Read(key); err != nil {
		tb.Fatal(err)
	}
	a, err := chacha20poly1305.NewX(key)
	if err != nil {
		tb.Fatal(err)
	}
	ad := []byte("twofa/keyring/v1/seal bench device-id/totp/SHA1/6/30")
	sealed := a.Seal(nil, nonce, []byte("12345678901234567890"), ad)
	buf := make([]byte, 0, len(sealed))
	return func() error {
		_, err := a.Open(buf[:0], nonce, sealed, ad)
		return err
	}
}

// benchEnv enrols n devices for account "bench" with a throttle that never
// engages and events to a hook that does nothing, and returns the last
// device.
func benchEnv(b *testing.B, n int) (*twofatest.Env, *twofatest.Device) {
	env, devs := benchDevices(b, n)
	return env, devs[n-1]
}

// benchDevices is benchEnv, returning every device, in enrolment order.
func benchDevices(b *testing.B, n int) (*twofatest.Env, []*twofatest.Device) {
	env := envWith(b, func(c *twofa.Config) {
		c.Throttle.Codes = twofa.ThrottlePolicy{Free: 1 << 30, Base: time.Second, Max: time.Second}
		c.Events = func(context.Context, twofa.Event) {}
	})
	devs := make([]*twofatest.Device, n)
	for i := range devs {
		devs[i] = env.EnrollTOTP("bench")
	}
	env.Clock.Advance(30 * time.Second)
	return env, devs
}
