package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/twofatest"
)

func TestPendingSignIns(t *testing.T) {
	ctx := context.Background()
	env := twofatest.New(t)
	p := newPendingSignIns(env.TwoFA, env.Browsers)

	// Two-factor authentication off: the password is all it takes.
	got, err := p.begin(ctx, "alice", "")
	require.NoError(t, err)
	assert.True(t, got.done)
	assert.Empty(t, got.token)

	dev := env.EnrollTOTP("alice")
	got, err = p.begin(ctx, "alice", "")
	require.NoError(t, err)
	require.False(t, got.done)
	require.Len(t, got.token, 43)

	// A right code finishes it, once.
	account, res, err := p.finish(ctx, got.token, dev.Code())
	require.NoError(t, err)
	assert.Equal(t, "alice", account)
	assert.Equal(t, twofa.FactorDevice, res.Factor)
	_, _, err = p.finish(ctx, got.token, dev.Code())
	assert.ErrorIs(t, err, errPendingNotFound)

	// Wrong codes: the fifth voids the sign-in; a malformed one and a
	// throttled one do not count.
	got, err = p.begin(ctx, "alice", "")
	require.NoError(t, err)
	_, _, err = p.finish(ctx, got.token, "12x456")
	assert.ErrorIs(t, err, twofa.ErrMalformedCode)
	wrong := "000000"
	if wrong == dev.Code() {
		wrong = "111111"
	}
	for range pendingMaxAttempts - 1 {
		_, _, err = p.finish(ctx, got.token, wrong)
		assert.ErrorIs(t, err, twofa.ErrInvalidCode)
	}
	_, _, err = p.finish(ctx, got.token, wrong)
	assert.ErrorIs(t, err, errPendingTooMany)
	_, err = p.account(got.token)
	assert.ErrorIs(t, err, errPendingNotFound)

	// Expiry.
	got, err = p.begin(ctx, "alice", "")
	require.NoError(t, err)
	_, err = p.account(got.token)
	require.NoError(t, err)
	env.Clock.Advance(pendingTTL)
	_, _, err = p.finish(ctx, got.token, dev.Code())
	assert.ErrorIs(t, err, errPendingNotFound)

	// Cancel, and tokens never issued.
	got, err = p.begin(ctx, "alice", "")
	require.NoError(t, err)
	p.cancel(got.token)
	_, err = p.account(got.token)
	assert.ErrorIs(t, err, errPendingNotFound)
	_, err = p.account("")
	assert.ErrorIs(t, err, errPendingNotFound)

	// A trusted browser skips the step; a token of another kind is ignored.
	tok := env.TrustBrowser("alice", "Firefox on Linux")
	got, err = p.begin(ctx, "alice", tok)
	require.NoError(t, err)
	assert.True(t, got.done)
	got, err = p.begin(ctx, "alice", "not a browser token")
	require.NoError(t, err)
	assert.False(t, got.done)
	got, err = p.begin(ctx, "bob", tok)
	require.NoError(t, err)
	assert.True(t, got.done, "bob has 2FA off")
	env.EnrollTOTP("bob")
	got, err = p.begin(ctx, "bob", tok)
	require.NoError(t, err)
	assert.False(t, got.done, "alice's browser is not bob's")
}

func TestSessions(t *testing.T) {
	clock := twofatest.NewClock(twofatest.Start)
	s := newSessions(clock)
	a, err := s.create("alice")
	require.NoError(t, err)
	b, err := s.create("alice")
	require.NoError(t, err)
	c, err := s.create("bob")
	require.NoError(t, err)
	assert.NotEqual(t, a, b)
	var who string
	require.True(t, s.with(a, func(v *session) { who = v.account }))
	assert.Equal(t, "alice", who)
	assert.False(t, s.with("", func(*session) {}))
	assert.False(t, s.with(a+"x", func(*session) {}))

	s.deleteAccount("alice")
	assert.False(t, s.with(a, func(*session) {}))
	assert.False(t, s.with(b, func(*session) {}))
	assert.True(t, s.with(c, func(*session) {}))

	clock.Advance(sessionTTL)
	assert.False(t, s.with(c, func(*session) {}), "expired")
	s.delete(c)
}
