package twofa

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOneResolvedConfig: every part of an installation reads the same
// resolved Config, so none can disagree with another.
func TestOneResolvedConfig(t *testing.T) {
	t.Parallel()
	type stubStore struct{ Store }     // New calls no store method
	type stubKeyring struct{ Keyring } // nor a keyring method
	tf, err := New(Config{
		Store: stubStore{}, Keyring: stubKeyring{}, Issuer: "Example",
	})
	require.NoError(t, err)
	for name, c := range map[string]*Config{
		"Devices":      tf.Devices.c,
		"Recovery":     tf.Recovery.c,
		"AppPasswords": tf.AppPasswords.c,
	} {
		assert.Same(t, tf.c, c, "%s holds a Config of its own", name)
	}
}

// TestSealBindingForm pins the binding every stored secret is sealed with:
// it must stay byte for byte what it was ("%s/%v/%v/%d/%d").
func TestSealBindingForm(t *testing.T) {
	t.Parallel()
	for _, d := range []Device{
		{ID: "abc", Type: TypeTOTP, Algorithm: SHA1, Digits: 6, Period: 30 * time.Second},
		{ID: "x.y-z_0", Type: TypeHOTP, Algorithm: SHA512, Digits: 8},
		{ID: strings.Repeat("a", MaxIDLen), Type: TypeTOTP, Algorithm: SHA256, Digits: 7, Period: 86400 * time.Second},
		{ID: "odd", Type: Type(9), Algorithm: Algorithm(9), Digits: -1, Period: -time.Second},
		{},
	} {
		want := fmt.Sprintf("%s/%v/%v/%d/%d", d.ID, d.Type, d.Algorithm, d.Digits, d.Period/time.Second)
		assert.Equal(t, want, d.sealBinding())
	}
}

type ctxKey struct{}

// TestDurableContext: the context of a consuming write keeps the
// request's values, never its cancellation, and is bounded by
// settleTimeout whether a store asks for Done or only for Err.
func TestDurableContext(t *testing.T) {
	t.Parallel()
	parent, cancelParent := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
	ctx := durable(parent)
	cancel := ctx.cancel
	defer cancel()
	cancelParent()
	assert.Equal(t, "v", ctx.Value(ctxKey{}))
	assert.NoError(t, ctx.Err(), "the request's cancellation does not reach the write")
	select {
	case <-ctx.Done():
		t.Fatal("Done closed by the request's cancellation")
	default:
	}
	dl, ok := ctx.Deadline()
	require.True(t, ok)
	assert.WithinDuration(t, time.Now().Add(settleTimeout), dl, time.Second)
	assert.Nil(t, context.Cause(ctx))

	// A child (as database/sql derives one) sees the end of the write.
	child, stop := context.WithCancel(ctx)
	defer stop()
	cancel()
	<-ctx.Done()
	<-child.Done()
	assert.ErrorIs(t, ctx.Err(), context.Canceled)

	// The deadline, seen through Err alone and through Done.
	for _, viaDone := range []bool{false, true} {
		c := &durableCtx{values: context.Background(), deadline: time.Now().Add(20 * time.Millisecond)}
		if viaDone {
			<-c.Done()
		} else {
			for c.Err() == nil {
				time.Sleep(time.Millisecond)
			}
		}
		assert.ErrorIs(t, c.Err(), context.DeadlineExceeded, "via Done: %v", viaDone)
		c.cancel()
		assert.ErrorIs(t, c.Err(), context.DeadlineExceeded, "the first end stays")
	}
	// An expired deadline: Done is closed at once.
	c := &durableCtx{values: context.Background(), deadline: time.Now().Add(-time.Second)}
	<-c.Done()
	assert.ErrorIs(t, c.Err(), context.DeadlineExceeded)
}
