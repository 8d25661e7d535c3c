package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
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

// count runs fn(0) ... fn(n-1) as parallel does, and returns how many
// returned true.
func count(n int, fn func(i int) bool) int {
	var c atomic.Int32
	parallel(n, func(i int) {
		if fn(i) {
			c.Add(1)
		}
	})
	return int(c.Load())
}

// race runs call(0) ... call(n-1) at once: exactly want of them must
// succeed and the others fail with an error wrapping refused. what names
// the calls in failures: "50 concurrent <what>".
func race(t *testing.T, what string, n, want int, refused error, call func(i int) error) {
	t.Helper()
	var no atomic.Int32
	ok := count(n, func(i int) bool {
		err := call(i)
		switch {
		case errors.Is(err, refused):
			no.Add(1)
		case err != nil:
			t.Errorf("one of %d concurrent %s: %v", n, what, err)
		}
		return err == nil
	})
	if ok != want || int(no.Load()) != n-want {
		t.Errorf("%d concurrent %s: %d succeeded and %d reported %v, want %d and %d", n, what, ok, no.Load(), refused, want, n-want)
	}
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

// diff lists, field by field, where got differs from want: times by Equal
// and IsZero (the location need not survive), byte slices by content (nil
// equals empty), structs field by field, slices element by element, and
// everything else by ==.
func diff[T any](got, want T) []string {
	var diffs []string
	diffValue(&diffs, "", reflect.ValueOf(got), reflect.ValueOf(want))
	return diffs
}

var timeType = reflect.TypeFor[time.Time]()

func diffValue(diffs *[]string, name string, g, w reflect.Value) {
	prefix := ""
	if name != "" {
		prefix = name + " = "
	}
	f := func(format string, got, want any) {
		*diffs = append(*diffs, fmt.Sprintf(prefix+format+", want "+format, got, want))
	}
	switch {
	case g.Type() == timeType:
		if gt, wt := g.Interface().(time.Time), w.Interface().(time.Time); !sameTime(gt, wt) {
			f("%s", fmtTime(gt), fmtTime(wt))
		}
	case g.Kind() == reflect.Struct:
		for i := range g.NumField() {
			field := g.Type().Field(i).Name
			if name != "" {
				field = name + "." + field
			}
			diffValue(diffs, field, g.Field(i), w.Field(i))
		}
	case g.Kind() == reflect.Slice && g.Type().Elem().Kind() == reflect.Uint8:
		if !bytes.Equal(g.Bytes(), w.Bytes()) {
			f("%x", g.Bytes(), w.Bytes())
		}
	case g.Kind() == reflect.Slice:
		if g.Len() != w.Len() {
			*diffs = append(*diffs, fmt.Sprintf("%s%d elements, want %d", strings.Replace(prefix, " = ", ": ", 1), g.Len(), w.Len()))
			return
		}
		for i := range g.Len() {
			diffValue(diffs, fmt.Sprintf("%s[%d]", name, i), g.Index(i), w.Index(i))
		}
	case g.Kind() == reflect.String:
		if g.String() != w.String() {
			f("%q", g.String(), w.String())
		}
	default:
		if !g.Equal(w) {
			f("%v", g.Interface(), w.Interface())
		}
	}
}

// sameTime reports whether a and b are the same instant, both zero or
// neither.
func sameTime(a, b time.Time) bool { return a.Equal(b) && a.IsZero() == b.IsZero() }

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "zero Time"
	}
	return t.Format(time.RFC3339Nano)
}

// check reports every field in which got differs from want.
func check[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	for _, d := range diff(got, want) {
		t.Errorf("%s: %s", what, d)
	}
}

// unchanged checks that the stored device still equals want.
func unchanged(t *testing.T, s twofa.Store, want twofa.Device) {
	t.Helper()
	check(t, fmt.Sprintf("device %q", want.ID), get(t, s, want.Account, want.ID), want)
}
