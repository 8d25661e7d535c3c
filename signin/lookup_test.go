package signin_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/signin"
)

func TestLookup(t *testing.T) {
	e := newEnv(t, func(c *signin.Config) { c.MaxAttempts = 2 })
	dev := e.EnrollTOTP("alice")
	tok, p := e.begin(t, "alice")

	info, err := e.m.Lookup(t.Context(), tok)
	require.NoError(t, err)
	assert.Equal(t, p.Info, info)
	assert.Equal(t, "alice", info.Account)
	assert.Equal(t, "Firefox on Linux", info.Label)
	assert.Equal(t, "203.0.113.7", info.IP.String())

	// A wrong code shows in Attempts; Lookup itself charges nothing.
	for range 3 {
		_, err = e.m.Lookup(t.Context(), tok)
		require.NoError(t, err)
	}
	_, err = e.m.Finish(t.Context(), tok, wrongCode(dev.Code()))
	require.ErrorIs(t, err, twofa.ErrInvalidCode)
	info, err = e.m.Lookup(t.Context(), tok)
	require.NoError(t, err)
	assert.Equal(t, 1, info.Attempts)

	// The last wrong code voids it.
	_, err = e.m.Finish(t.Context(), tok, wrongCode(dev.Code()))
	require.ErrorIs(t, err, signin.ErrTooManyAttempts)
	info, err = e.m.Lookup(t.Context(), tok)
	assert.ErrorIs(t, err, signin.ErrTooManyAttempts)
	assert.ErrorIs(t, err, signin.ErrNotFound)
	assert.Zero(t, info)

	// Finished: gone.
	tok, _ = e.begin(t, "alice")
	_, err = e.m.Finish(t.Context(), tok, dev.Code())
	require.NoError(t, err)
	info, err = e.m.Lookup(t.Context(), tok)
	assert.ErrorIs(t, err, signin.ErrNotFound)
	assert.NotErrorIs(t, err, signin.ErrExpired)
	assert.Zero(t, info)

	// Expired, at ExpiresAt exactly.
	tok, p = e.begin(t, "alice")
	e.Clock.Advance(p.Info.ExpiresAt.Sub(e.Clock.Now()) - time.Nanosecond)
	_, err = e.m.Lookup(t.Context(), tok)
	require.NoError(t, err)
	e.Clock.Advance(time.Nanosecond)
	info, err = e.m.Lookup(t.Context(), tok)
	assert.ErrorIs(t, err, signin.ErrExpired)
	assert.Zero(t, info)

	// Cancelled, and tokens never issued or malformed.
	tok, _ = e.begin(t, "alice")
	require.NoError(t, e.m.Cancel(t.Context(), tok))
	for _, bad := range []string{tok, "", "x", randomToken(), strings.Repeat("A", 1<<20), tok[:42] + "\n"} {
		info, err = e.m.Lookup(t.Context(), bad)
		assert.ErrorIs(t, err, signin.ErrNotFound, "%.50q", bad)
		assert.Zero(t, info)
	}

	// Turning two-factor authentication off ends it.
	tok, _ = e.begin(t, "alice")
	require.NoError(t, e.TwoFA.Disable(t.Context(), "alice"))
	_, err = e.m.Lookup(t.Context(), tok)
	assert.ErrorIs(t, err, signin.ErrNotFound)
}

func TestLookupStoreError(t *testing.T) {
	e := newEnv(t, nil)
	e.EnrollTOTP("alice")
	tok, _ := e.begin(t, "alice")
	m, err := signin.New(e.TwoFA, signin.Config{Store: failing{Store: e.Store, fail: "SignIn"}})
	require.NoError(t, err)
	info, err := m.Lookup(t.Context(), tok)
	assert.ErrorIs(t, err, errBroken)
	assert.NotErrorIs(t, err, signin.ErrNotFound)
	assert.Zero(t, info)
	assert.NotContains(t, err.Error(), tok)
}
