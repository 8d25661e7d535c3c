package twofatest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/signin"
	"github.com/twofa-go/twofa/twofatest"
)

func TestTrustBrowser(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	env.EnrollTOTP("alice")
	tok := env.TrustBrowser("alice", "test browser")
	assert.Len(t, tok, browser.TokenLen)
	assert.Equal(t, 1, env.Events.Count(browser.EventTrusted))

	r := httptest.NewRequest(http.MethodGet, "/login", nil)
	twofatest.AddBrowserCookie(r, tok)
	got, ok := browser.Token(r)
	require.True(t, ok)
	assert.Equal(t, tok, got)

	b := env.Browsers
	info, err := b.Check(context.Background(), "alice", got)
	require.NoError(t, err)
	assert.Equal(t, "test browser", info.Label)
	env.Clock.Advance(browser.DefaultTTL)
	_, err = b.Check(context.Background(), "alice", got)
	assert.ErrorIs(t, err, browser.ErrExpired, "the Env's clock drives expiry")

	env.Clock.Advance(-time.Hour)
	_, err = b.Check(context.Background(), "alice", got)
	assert.NoError(t, err)
}

// TestReconfigureBrowsers: Reconfigure rebuilds Browsers on the new
// installation and attaches it, so the new installation's lifecycle
// revokes them: here Phones.Remove of the last trusted number with
// OutOfBand on (EnableOutOfBand reconfigures).
func TestReconfigureBrowsers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := twofatest.New(t)
	old := env.Browsers
	env.EnableOutOfBand()
	require.NotNil(t, env.Browsers)
	assert.NotSame(t, old, env.Browsers)

	pid := env.TrustPhone("alice", phone.Number{E164: "+14155550142", CountryCode: 1})
	tok := env.TrustBrowser("alice", "test browser")
	require.NoError(t, errOf(env.Phones.Remove(ctx, "alice", pid)))
	_, err := env.Browsers.Check(ctx, "alice", tok)
	assert.ErrorIs(t, err, browser.ErrRevoked, "two-factor turned off with the last number")
	assert.Equal(t, 1, env.Events.Count(browser.EventRevokedAll))
}

// TestEnvSignIns: the Env's pending sign-ins are built on its installation
// and its trusted browsers, and follow Reconfigure.
func TestEnvSignIns(t *testing.T) {
	env := twofatest.New(t)
	ctx := t.Context()
	dev := env.EnrollTOTP("alice")
	tok, p, err := env.SignIns.Begin(ctx, "alice", signin.Request{Label: "Test browser"})
	require.NoError(t, err)
	require.False(t, p.Done)
	fin, err := env.SignIns.Finish(ctx, tok, dev.Code())
	require.NoError(t, err)
	assert.Equal(t, "alice", fin.Account)

	trusted := env.TrustBrowser("alice", "Test browser")
	env.Reconfigure(nil)
	_, p, err = env.SignIns.Begin(ctx, "alice", signin.Request{BrowserToken: trusted})
	require.NoError(t, err)
	assert.True(t, p.Done, "a trusted browser signs in at once")
}

// noSignInStore keeps what twofatest's managers need but pending
// sign-ins.
type noSignInStore struct {
	twofa.Store
	browserStore
	phoneStore
}

type (
	browserStore = browser.Store
	phoneStore   = phone.Store
)

// TestEnvSignInsNeedStore: a store without pending sign-ins leaves
// SignIns nil, and the rest of the Env working.
func TestEnvSignInsNeedStore(t *testing.T) {
	env := twofatest.New(t)
	env.Reconfigure(func(c *twofa.Config) {
		c.Store = noSignInStore{env.Store, env.Store, env.Store}
	})
	assert.Nil(t, env.SignIns)
	assert.NotNil(t, env.Browsers)
	dev := env.EnrollTOTP("alice")
	_, err := env.TwoFA.Verify(t.Context(), "alice", dev.Code())
	assert.NoError(t, err)
}
