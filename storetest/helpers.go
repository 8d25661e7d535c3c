package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
)

// t0 is the suite's "now": a fixed instant with nanoseconds, in the future
// so that no device of another test run sharing the database expired
// before it by accident.
var t0 = time.Date(2031, time.May, 6, 7, 8, 9, 123456789, time.UTC)

// endOfTime is the last instant of int64 Unix nanoseconds,
// 2262-04-11T23:47:16.854775807Z: the suite's times stay at or before it,
// and a throttle's Until may saturate there.
var endOfTime = time.Unix(0, math.MaxInt64).UTC()

// parallel runs fn(0) ... fn(n-1) in n goroutines released at once, and
// waits for them.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// cancelled returns a context that is already cancelled.
func cancelled(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}

func wantCancelled(t *testing.T, method string, err error) {
	t.Helper()
	if !errors.Is(err, context.Canceled) {
		t.Errorf("%s with a cancelled context: err = %v, want an error wrapping context.Canceled", method, err)
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: err = %v, want an error wrapping %v", what, err, target)
	}
}

func insert(t *testing.T, s twofa.Store, ds ...twofa.Device) {
	t.Helper()
	for _, d := range ds {
		if err := s.InsertDevice(t.Context(), d, 1000, d.CreatedAt); err != nil {
			t.Fatalf("InsertDevice(%q, limit 1000): %v", d.ID, err)
		}
	}
}

func get(t *testing.T, s twofa.Store, account, id string) twofa.Device {
	t.Helper()
	d, err := s.Device(t.Context(), account, id)
	if err != nil {
		t.Fatalf("Device(%q): %v", id, err)
	}
	return d
}

func list(t *testing.T, s twofa.Store, account string) []twofa.Device {
	t.Helper()
	ds, err := s.Devices(t.Context(), account)
	if err != nil {
		t.Fatalf("Devices: %v", err)
	}
	return ds
}

func wantGone(t *testing.T, s twofa.Store, account, id string) {
	t.Helper()
	_, err := s.Device(t.Context(), account, id)
	wantErr(t, fmt.Sprintf("Device(%q) of a removed device", id), err, twofa.ErrNotFound)
}

// confirmed returns d as a confirmed device with counter c.
func confirmed(d twofa.Device, c uint64) twofa.Device {
	d.State = twofa.DeviceConfirmed
	d.Counter = c
	d.ExpiresAt = time.Time{}
	d.ConfirmedAt = d.CreatedAt.Add(time.Minute)
	d.LastUsedAt = d.ConfirmedAt
	return d
}

// diffDevice lists the fields in which got differs from want: times by
// Equal, Sealed by content.
func diffDevice(got, want twofa.Device) []string {
	var diffs []string
	f := func(name string, g, w any) {
		diffs = append(diffs, fmt.Sprintf("%s = %v, want %v", name, g, w))
	}
	if got.ID != want.ID {
		f("ID", fmt.Sprintf("%q", got.ID), fmt.Sprintf("%q", want.ID))
	}
	if got.Account != want.Account {
		f("Account", fmt.Sprintf("%q", got.Account), fmt.Sprintf("%q", want.Account))
	}
	if got.Label != want.Label {
		f("Label", fmt.Sprintf("%q", got.Label), fmt.Sprintf("%q", want.Label))
	}
	if got.Type != want.Type {
		f("Type", got.Type, want.Type)
	}
	if got.Algorithm != want.Algorithm {
		f("Algorithm", got.Algorithm, want.Algorithm)
	}
	if got.Digits != want.Digits {
		f("Digits", got.Digits, want.Digits)
	}
	if got.Period != want.Period {
		f("Period", got.Period, want.Period)
	}
	if !bytes.Equal(got.Sealed, want.Sealed) {
		f("Sealed", fmt.Sprintf("%x", got.Sealed), fmt.Sprintf("%x", want.Sealed))
	}
	if got.State != want.State {
		f("State", got.State, want.State)
	}
	if got.Counter != want.Counter {
		f("Counter", got.Counter, want.Counter)
	}
	if got.Drift != want.Drift {
		f("Drift", got.Drift, want.Drift)
	}
	if got.ResyncStep != want.ResyncStep {
		f("ResyncStep", got.ResyncStep, want.ResyncStep)
	}
	if got.ResyncDrift != want.ResyncDrift {
		f("ResyncDrift", got.ResyncDrift, want.ResyncDrift)
	}
	if got.Attempts != want.Attempts {
		f("Attempts", got.Attempts, want.Attempts)
	}
	diffTimes(f,
		timePair{"CreatedAt", got.CreatedAt, want.CreatedAt},
		timePair{"ExpiresAt", got.ExpiresAt, want.ExpiresAt},
		timePair{"ConfirmedAt", got.ConfirmedAt, want.ConfirmedAt},
		timePair{"LastUsedAt", got.LastUsedAt, want.LastUsedAt},
	)
	return diffs
}

// timePair is one time field of a record, as stored and as expected.
type timePair struct {
	name      string
	got, want time.Time
}

// diffTimes reports through f each pair whose instants differ, or where
// one is the zero Time and the other is not.
func diffTimes(f func(name string, got, want any), pairs ...timePair) {
	for _, p := range pairs {
		if !p.got.Equal(p.want) || p.got.IsZero() != p.want.IsZero() {
			f(p.name, fmtTime(p.got), fmtTime(p.want))
		}
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "zero Time"
	}
	return t.Format(time.RFC3339Nano)
}

// checkDevice reports every field in which got differs from want.
func checkDevice(t *testing.T, what string, got, want twofa.Device) {
	t.Helper()
	for _, d := range diffDevice(got, want) {
		t.Errorf("%s: %s", what, d)
	}
}

// unchanged checks that the stored device still equals want.
func unchanged(t *testing.T, s twofa.Store, want twofa.Device) {
	t.Helper()
	checkDevice(t, fmt.Sprintf("device %q", want.ID), get(t, s, want.Account, want.ID), want)
}
