package signin_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/internal/signinrace"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/signin"
	"github.com/twofa-go/twofa/twofatest"
)

type env struct {
	*twofatest.Env
	m *signin.Manager
}

// newEnv returns an in-memory installation with its pending sign-ins,
// built from the Config configure edits (which may be nil). Browsers is
// the installation's trusted browsers.
func newEnv(t *testing.T, configure func(*signin.Config)) *env {
	t.Helper()
	e := twofatest.New(t)
	c := signin.Config{Browsers: e.Browsers}
	if configure != nil {
		configure(&c)
	}
	m, err := signin.New(e.TwoFA, c)
	require.NoError(t, err)
	return &env{Env: e, m: m}
}

var req = signin.Request{Label: "Firefox on Linux", IP: "203.0.113.7"}

func (e *env) begin(t *testing.T, account string) (string, signin.Pending) {
	t.Helper()
	tok, p, err := e.m.Begin(t.Context(), account, req)
	require.NoError(t, err)
	require.False(t, p.Done)
	require.Len(t, tok, signin.TokenLen)
	return tok, p
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func types(es []twofa.Event) []twofa.EventType {
	var ts []twofa.EventType
	for _, e := range es {
		ts = append(ts, e.Type)
	}
	return ts
}

func TestNewConfig(t *testing.T) {
	e := newEnv(t, nil)
	c := e.m.Config()
	assert.Equal(t, signin.DefaultTTL, c.TTL)
	assert.Equal(t, signin.DefaultMaxAttempts, c.MaxAttempts)
	assert.Equal(t, signin.DefaultMax, c.Max)
	assert.Same(t, e.Browsers, c.Browsers)
	assert.Equal(t, e.Store, c.Store)

	_, err := signin.New(nil, signin.Config{})
	assert.ErrorIs(t, err, twofa.ErrConfig)
	for _, bad := range []signin.Config{
		{TTL: time.Millisecond}, {TTL: signin.MaxTTL + 1}, {TTL: -time.Second},
		{MaxAttempts: -1}, {MaxAttempts: signin.MaxMaxAttempts + 1}, {Max: -1},
	} {
		_, err := signin.New(e.TwoFA, bad)
		assert.ErrorIs(t, err, twofa.ErrConfig, "%+v", bad)
	}
	// An installation whose store keeps no sign-ins needs Config.Store.
	tf, err := twofa.New(twofa.Config{Store: plainStore{memstore.New()}, Keyring: e.Keyring, Issuer: "x"})
	require.NoError(t, err)
	_, err = signin.New(tf, signin.Config{})
	assert.ErrorIs(t, err, twofa.ErrConfig)
	m, err := signin.New(tf, signin.Config{Store: memstore.New()})
	require.NoError(t, err)
	assert.NotNil(t, m)
}

// plainStore hides every method but twofa.Store's.
type plainStore struct{ twofa.Store }

func TestBeginTwoFactorOff(t *testing.T) {
	e := newEnv(t, nil)
	tok, p, err := e.m.Begin(t.Context(), "alice", req)
	require.NoError(t, err)
	assert.Equal(t, signin.Pending{Done: true}, p)
	assert.Empty(t, tok)
	l, err := e.m.List(t.Context(), "alice")
	require.NoError(t, err)
	assert.Empty(t, l)
	assert.Zero(t, e.Events.Count(signin.EventStarted))
}

func TestBeginTrustedBrowser(t *testing.T) {
	e := newEnv(t, nil)
	e.EnrollTOTP("alice")
	btok := e.TrustBrowser("alice", "Safari on macOS")
	bs, err := e.Browsers.List(t.Context(), "alice")
	require.NoError(t, err)
	r := req
	r.BrowserToken = btok
	tok, p, err := e.m.Begin(t.Context(), "alice", r)
	require.NoError(t, err)
	assert.Equal(t, signin.Pending{Done: true, BrowserID: bs[0].ID}, p)
	assert.Empty(t, tok)

	// Without Config.Browsers the token is ignored.
	e2 := newEnv(t, func(c *signin.Config) { c.Browsers = nil })
	e2.EnrollTOTP("alice")
	r.BrowserToken = e2.TrustBrowser("alice", "Safari on macOS")
	tok, p, err = e2.m.Begin(t.Context(), "alice", r)
	require.NoError(t, err)
	assert.False(t, p.Done)
	assert.Len(t, tok, signin.TokenLen)
}

func TestBeginUntrustedBrowser(t *testing.T) {
	e := newEnv(t, nil)
	e.EnrollTOTP("alice")
	e.EnrollTOTP("bob")
	revoked := e.TrustBrowser("alice", "Old browser")
	_, err := e.Browsers.RevokeAll(t.Context(), "alice")
	require.NoError(t, err)
	bobs := e.TrustBrowser("bob", "Bob's browser")
	expired := e.TrustBrowser("alice", "Expiring browser")
	e.Clock.Advance(e.Browsers.Config().TTL)
	for name, tok := range map[string]string{
		"revoked": revoked, "another account's": bobs, "expired": expired,
		"unknown": randomToken(), "garbage": "not a token", "huge": strings.Repeat("A", 1<<20),
		"newline": randomToken()[:42] + "\n",
	} {
		r := req
		r.BrowserToken = tok
		stok, p, err := e.m.Begin(t.Context(), "alice", r)
		require.NoError(t, err, name)
		assert.False(t, p.Done, name)
		assert.Len(t, stok, signin.TokenLen, name)
	}
}

func TestBeginRecords(t *testing.T) {
	e := newEnv(t, nil)
	e.EnrollTOTP("alice")
	now := e.Clock.Now()
	r := signin.Request{Label: "  Firefox on Linux ", IP: "::ffff:203.0.113.7"}
	tok, p, err := e.m.Begin(t.Context(), "alice", r)
	require.NoError(t, err)
	require.False(t, p.Done)
	assert.Len(t, tok, signin.TokenLen)
	i := p.Info
	assert.Len(t, i.ID, 26)
	assert.Equal(t, "alice", i.Account)
	assert.True(t, i.CreatedAt.Equal(now))
	assert.True(t, i.ExpiresAt.Equal(now.Add(signin.DefaultTTL)))
	assert.Equal(t, "Firefox on Linux", i.Label)
	assert.Equal(t, netip.MustParseAddr("203.0.113.7"), i.IP)
	assert.Zero(t, i.Attempts)
	l, err := e.m.List(t.Context(), "alice")
	require.NoError(t, err)
	assert.Equal(t, []signin.Info{i}, l)
	assert.Equal(t, []twofa.Event{{Type: signin.EventStarted, Account: "alice", SignInID: i.ID, Time: now}}, e.Events.Events()[len(e.Events.Events())-1:])

	// No label, no address; a zone is dropped.
	_, p, err = e.m.Begin(t.Context(), "alice", signin.Request{})
	require.NoError(t, err)
	assert.Empty(t, p.Info.Label)
	assert.False(t, p.Info.IP.IsValid())
	_, p, err = e.m.Begin(t.Context(), "alice", signin.Request{IP: "fe80::1%eth0"})
	require.NoError(t, err)
	assert.Equal(t, netip.MustParseAddr("fe80::1"), p.Info.IP)

	j, err := json.Marshal(i)
	require.NoError(t, err)
	assert.Contains(t, string(j), `"ip":"203.0.113.7"`)
	assert.Contains(t, string(j), `"label":"Firefox on Linux"`)
	j, err = json.Marshal(signin.Info{})
	require.NoError(t, err)
	assert.NotContains(t, string(j), `"ip"`)
}

func TestBeginBadInput(t *testing.T) {
	e := newEnv(t, nil)
	e.EnrollTOTP("alice")
	ctx := t.Context()
	for _, c := range []struct {
		account string
		r       signin.Request
		want    error
	}{
		{"", req, twofa.ErrInvalidAccount},
		{strings.Repeat("a", 1<<16), req, twofa.ErrInvalidAccount},
		{"alice", signin.Request{Label: strings.Repeat("x", twofa.MaxLabelLen+1)}, twofa.ErrInvalidLabel},
		{"alice", signin.Request{Label: strings.Repeat("x", 1<<20)}, twofa.ErrInvalidLabel},
		{"alice", signin.Request{Label: "evil\u202eresu"}, twofa.ErrInvalidLabel},
		{"alice", signin.Request{Label: "   "}, twofa.ErrInvalidLabel},
		{"alice", signin.Request{Label: "\xff"}, twofa.ErrInvalidLabel},
		{"alice", signin.Request{IP: "203.0.113.7:443"}, signin.ErrInvalidIP},
		{"alice", signin.Request{IP: "[2001:db8::1]:443"}, signin.ErrInvalidIP},
		{"alice", signin.Request{IP: "localhost"}, signin.ErrInvalidIP},
		{"alice", signin.Request{IP: "256.1.1.1"}, signin.ErrInvalidIP},
		{"alice", signin.Request{IP: " 203.0.113.7"}, signin.ErrInvalidIP},
		{"alice", signin.Request{IP: "fe80::1%" + strings.Repeat("z", 100)}, signin.ErrInvalidIP},
		{"alice", signin.Request{IP: strings.Repeat("1", 1<<20)}, signin.ErrInvalidIP},
	} {
		tok, p, err := e.m.Begin(ctx, c.account, c.r)
		assert.ErrorIs(t, err, c.want, "%.40q %+.40v", c.account, c.r)
		assert.Empty(t, tok)
		assert.Equal(t, signin.Pending{}, p)
		if err != nil {
			assert.LessOrEqual(t, len(err.Error()), 200, "the error quotes the input")
		}
	}
	l, err := e.m.List(ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, l, "a refused Begin stored something")
}

func TestFinishDeviceCode(t *testing.T) {
	e := newEnv(t, nil)
	dev := e.EnrollTOTP("alice")
	tok, p := e.begin(t, "alice")
	fin, err := e.m.Finish(t.Context(), tok, dev.Code())
	require.NoError(t, err)
	assert.Equal(t, "alice", fin.Account)
	assert.Equal(t, twofa.FactorDevice, fin.Result.Factor)
	assert.Equal(t, dev.ID, fin.Result.DeviceID)
	want := p.Info
	want.Attempts = 1
	assert.Equal(t, want, fin.Info)
	assert.Contains(t, types(e.Events.Events()), signin.EventFinished)

	// Once only.
	e.Clock.Advance(30 * time.Second)
	_, err = e.m.Finish(t.Context(), tok, dev.Code())
	assert.ErrorIs(t, err, signin.ErrNotFound)
	assert.NotErrorIs(t, err, signin.ErrExpired)
	l, err := e.m.List(t.Context(), "alice")
	require.NoError(t, err)
	assert.Empty(t, l)
}

func TestFinishRecoveryCode(t *testing.T) {
	e := newEnv(t, nil)
	e.EnrollTOTP("alice")
	codes, err := e.Recovery.Generate(t.Context(), "alice")
	require.NoError(t, err)
	tok, _ := e.begin(t, "alice")
	fin, err := e.m.Finish(t.Context(), tok, codes[3])
	require.NoError(t, err)
	assert.Equal(t, twofa.FactorRecoveryCode, fin.Result.Factor)
	assert.Equal(t, len(codes)-1, fin.Result.RecoveryCodesLeft)
}

func TestFinishWrongFactors(t *testing.T) {
	e := newEnv(t, func(c *signin.Config) { c.MaxAttempts = 3 })
	dev := e.EnrollTOTP("alice")
	tok, p := e.begin(t, "alice")
	wrong := wrongCode(dev.Code())
	for i := 1; i < 3; i++ {
		fin, err := e.m.Finish(t.Context(), tok, wrong)
		assert.ErrorIs(t, err, twofa.ErrInvalidCode)
		assert.NotErrorIs(t, err, signin.ErrNotFound)
		assert.Equal(t, i, fin.Info.Attempts)
		assert.Equal(t, "alice", fin.Account)
		l, err := e.m.List(t.Context(), "alice")
		require.NoError(t, err)
		require.Len(t, l, 1)
		assert.Equal(t, i, l[0].Attempts)
	}
	// The last try, wrong, voids the sign-in.
	fin, err := e.m.Finish(t.Context(), tok, wrong)
	assert.ErrorIs(t, err, signin.ErrTooManyAttempts)
	assert.ErrorIs(t, err, twofa.ErrInvalidCode)
	assert.ErrorIs(t, err, signin.ErrNotFound)
	assert.Equal(t, 3, fin.Info.Attempts)
	assert.Equal(t, 1, e.Events.Count(signin.EventVoided))
	assert.Equal(t, 3, e.Events.Count(signin.EventFailed))
	// The right code no longer helps.
	_, err = e.m.Finish(t.Context(), tok, dev.Code())
	assert.ErrorIs(t, err, signin.ErrTooManyAttempts)
	assert.NotErrorIs(t, err, twofa.ErrInvalidCode)
	l, err := e.m.List(t.Context(), "alice")
	require.NoError(t, err)
	assert.Empty(t, l)
	// And the code was not consumed: another sign-in takes it.
	tok2, _ := e.begin(t, "alice")
	_, err = e.m.Finish(t.Context(), tok2, dev.Code())
	require.NoError(t, err)
	_ = p
}

// wrongCode returns a six-digit code other than code.
func wrongCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

func TestFinishUnevaluatedNotCounted(t *testing.T) {
	e := newEnv(t, func(c *signin.Config) { c.MaxAttempts = 1 })
	dev := e.EnrollTOTP("alice")
	tok, _ := e.begin(t, "alice")
	for _, code := range []string{"", "12345", "abc", strings.Repeat("9", 1<<16), "12\t3456"} {
		fin, err := e.m.Finish(t.Context(), tok, code)
		assert.ErrorIs(t, err, twofa.ErrMalformedCode, "%.20q", code)
		assert.Zero(t, fin.Info.Attempts)
	}
	// Throttled: not evaluated, not counted.
	require.NoError(t, e.Store.ResetThrottle(t.Context(), "alice", twofa.ScopeCode))
	e.Reconfigure(func(c *twofa.Config) {
		c.Throttle.Codes = twofa.ThrottlePolicy{Free: 1, Base: time.Hour, Max: time.Hour}
	})
	m, err := signin.New(e.TwoFA, signin.Config{MaxAttempts: 1})
	require.NoError(t, err)
	for range 2 {
		_, err := e.TwoFA.Verify(t.Context(), "alice", wrongCode(dev.Code()))
		require.ErrorIs(t, err, twofa.ErrInvalidCode)
	}
	fin, err := m.Finish(t.Context(), tok, dev.Code())
	assert.ErrorIs(t, err, twofa.ErrThrottled)
	assert.Zero(t, fin.Info.Attempts)
	require.NoError(t, e.TwoFA.ResetThrottle(t.Context(), "alice"))
	_, err = m.Finish(t.Context(), tok, dev.Code())
	assert.NoError(t, err)
}

func TestFinishExpired(t *testing.T) {
	e := newEnv(t, nil)
	dev := e.EnrollTOTP("alice")
	tok, _ := e.begin(t, "alice")
	e.Clock.Advance(signin.DefaultTTL - time.Nanosecond)
	l, err := e.m.List(t.Context(), "alice")
	require.NoError(t, err)
	assert.Len(t, l, 1)
	e.Clock.Advance(time.Nanosecond)
	fin, err := e.m.Finish(t.Context(), tok, dev.Code())
	assert.ErrorIs(t, err, signin.ErrExpired)
	assert.ErrorIs(t, err, signin.ErrNotFound)
	assert.ErrorIs(t, err, twofa.ErrNotFound)
	assert.NotErrorIs(t, err, signin.ErrTooManyAttempts)
	assert.Equal(t, "alice", fin.Account)
	assert.Zero(t, fin.Result)
	l, err = e.m.List(t.Context(), "alice")
	require.NoError(t, err)
	assert.Empty(t, l)
	// The code was not consumed.
	_, err = e.TwoFA.Verify(t.Context(), "alice", dev.Code())
	assert.NoError(t, err)
	// Purged, the token is simply unknown.
	n, err := e.TwoFA.Purge(t.Context())
	require.NoError(t, err)
	assert.GreaterOrEqual(t, n, 1)
	_, err = e.m.Finish(t.Context(), tok, dev.Code())
	assert.ErrorIs(t, err, signin.ErrNotFound)
	assert.NotErrorIs(t, err, signin.ErrExpired)
}

func TestFinishBadTokens(t *testing.T) {
	e := newEnv(t, nil)
	dev := e.EnrollTOTP("alice")
	tok, _ := e.begin(t, "alice")
	last := tok[len(tok)-1]
	// A token whose last character has a low bit set names the same bytes
	// in a lenient decoder: refused.
	alias := tok[:len(tok)-1] + string(base64URL[strings.IndexByte(base64URL, last)|1])
	if alias == tok {
		alias = tok[:len(tok)-1] + string(base64URL[strings.IndexByte(base64URL, last)|2])
	}
	for _, bad := range []string{
		"", "x", tok[:42], tok + "A", tok + "=", strings.Repeat("A", 1<<20), randomToken(),
		strings.ToUpper(tok), tok[:42] + "\n", tok[:42] + "+", tok[:42] + "/", alias, "\x00" + tok[1:],
	} {
		if bad == tok {
			continue
		}
		fin, err := e.m.Finish(t.Context(), bad, dev.Code())
		assert.ErrorIs(t, err, signin.ErrNotFound, "%.50q", bad)
		assert.Equal(t, signin.Finished{}, fin)
		assert.ErrorIs(t, e.m.Cancel(t.Context(), bad), signin.ErrNotFound)
	}
	// Nothing was counted or consumed.
	fin, err := e.m.Finish(t.Context(), tok, dev.Code())
	require.NoError(t, err)
	assert.Equal(t, 1, fin.Info.Attempts)
}

const base64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func TestCancelAndRevoke(t *testing.T) {
	e := newEnv(t, nil)
	dev := e.EnrollTOTP("alice")
	tok, _ := e.begin(t, "alice")
	require.NoError(t, e.m.Cancel(t.Context(), tok))
	assert.ErrorIs(t, e.m.Cancel(t.Context(), tok), signin.ErrNotFound)
	_, err := e.m.Finish(t.Context(), tok, dev.Code())
	assert.ErrorIs(t, err, signin.ErrNotFound)

	tok, p := e.begin(t, "alice")
	assert.ErrorIs(t, e.m.Revoke(t.Context(), "bob", p.Info.ID), signin.ErrNotFound)
	assert.ErrorIs(t, e.m.Revoke(t.Context(), "alice", "not/an id"), signin.ErrNotFound)
	assert.ErrorIs(t, e.m.Revoke(t.Context(), "alice", strings.Repeat("a", 1<<16)), signin.ErrNotFound)
	assert.ErrorIs(t, e.m.Revoke(t.Context(), "", p.Info.ID), twofa.ErrInvalidAccount)
	require.NoError(t, e.m.Revoke(t.Context(), "alice", p.Info.ID))
	_, err = e.m.Finish(t.Context(), tok, dev.Code())
	assert.ErrorIs(t, err, signin.ErrNotFound)
	assert.Equal(t, 2, e.Events.Count(signin.EventCancelled))
}

func TestList(t *testing.T) {
	e := newEnv(t, func(c *signin.Config) { c.MaxAttempts = 1 })
	dev := e.EnrollTOTP("alice")
	e.EnrollTOTP("bob")
	_, a := e.begin(t, "alice")
	e.Clock.Advance(time.Second)
	voided, _ := e.begin(t, "alice")
	_, b := e.begin(t, "alice")
	e.begin(t, "bob")
	_, err := e.m.Finish(t.Context(), voided, wrongCode(dev.Code()))
	require.ErrorIs(t, err, signin.ErrTooManyAttempts)
	l, err := e.m.List(t.Context(), "alice")
	require.NoError(t, err)
	assert.Equal(t, []signin.Info{b.Info, a.Info}, l, "newest first, the void one left out")
	_, err = e.m.List(t.Context(), "")
	assert.ErrorIs(t, err, twofa.ErrInvalidAccount)
	l, err = e.m.List(t.Context(), "carol")
	require.NoError(t, err)
	assert.Empty(t, l)
}

func TestMax(t *testing.T) {
	e := newEnv(t, func(c *signin.Config) { c.Max = 2 })
	dev := e.EnrollTOTP("alice")
	first, p1 := e.begin(t, "alice")
	e.begin(t, "alice")
	e.begin(t, "alice")
	assert.Equal(t, 1, e.Events.Count(signin.EventEvicted))
	evs := e.Events.Events()
	assert.Equal(t, p1.Info.ID, evs[len(evs)-1].SignInID)
	l, err := e.m.List(t.Context(), "alice")
	require.NoError(t, err)
	assert.Len(t, l, 2)
	_, err = e.m.Finish(t.Context(), first, dev.Code())
	assert.ErrorIs(t, err, signin.ErrNotFound)
}

func TestDisableEndsSignIns(t *testing.T) {
	e := newEnv(t, nil)
	dev := e.EnrollTOTP("alice")
	tok, _ := e.begin(t, "alice")
	e.begin(t, "alice")
	require.NoError(t, e.TwoFA.Disable(t.Context(), "alice"))
	assert.Equal(t, 1, e.Events.Count(signin.EventRevokedAll))
	assert.Equal(t, 2, e.Events.Events()[slicesIndex(e.Events.Events(), signin.EventRevokedAll)].Count)
	_, err := e.m.Finish(t.Context(), tok, dev.Code())
	assert.ErrorIs(t, err, signin.ErrNotFound)
	// Two-factor authentication is off now: Begin signs in at once.
	tok, p, err := e.m.Begin(t.Context(), "alice", req)
	require.NoError(t, err)
	assert.True(t, p.Done)
	assert.Empty(t, tok)
}

func slicesIndex(es []twofa.Event, t twofa.EventType) int {
	for i, e := range es {
		if e.Type == t {
			return i
		}
	}
	return -1
}

func TestPasswordChangedEndsSignIns(t *testing.T) {
	e := newEnv(t, nil)
	dev := e.EnrollTOTP("alice")
	e.EnrollTOTP("bob")
	tok, _ := e.begin(t, "alice")
	bobs, _ := e.begin(t, "bob")
	require.NoError(t, e.TwoFA.PasswordChanged(t.Context(), "alice"))
	_, err := e.m.Finish(t.Context(), tok, dev.Code())
	assert.ErrorIs(t, err, signin.ErrNotFound)
	l, err := e.m.List(t.Context(), "bob")
	require.NoError(t, err)
	assert.Len(t, l, 1, "another account's sign-in was ended")
	_ = bobs
	n, err := e.m.RevokeAll(t.Context(), "alice")
	require.NoError(t, err)
	assert.Zero(t, n)
	_, err = e.m.RevokeAll(t.Context(), "")
	assert.ErrorIs(t, err, twofa.ErrInvalidAccount)
}

func TestPurge(t *testing.T) {
	e := newEnv(t, nil)
	e.EnrollTOTP("alice")
	e.begin(t, "alice")
	e.Clock.Advance(time.Minute)
	live, _ := e.begin(t, "alice")
	e.Clock.Advance(signin.DefaultTTL - time.Minute)
	n, err := e.m.Purge(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	l, err := e.m.List(t.Context(), "alice")
	require.NoError(t, err)
	assert.Len(t, l, 1)
	assert.NoError(t, e.m.Cancel(t.Context(), live))
}

// TestNoTokenLeak checks that no output of the package holds a token: not
// its results printed with any verb, not its errors, not its events.
func TestNoTokenLeak(t *testing.T) {
	e := newEnv(t, func(c *signin.Config) { c.MaxAttempts = 2 })
	dev := e.EnrollTOTP("alice")
	tok, p := e.begin(t, "alice")
	var outs []any
	outs = append(outs, p)
	fin, err := e.m.Finish(t.Context(), tok, wrongCode(dev.Code()))
	outs = append(outs, fin, err)
	_, err = e.m.Finish(t.Context(), tok, "bad")
	outs = append(outs, err)
	fin, err = e.m.Finish(t.Context(), tok, dev.Code())
	outs = append(outs, fin, err)
	_, err = e.m.Finish(t.Context(), tok, dev.Code())
	outs = append(outs, err, e.m.Cancel(t.Context(), tok))
	for _, ev := range e.Events.Events() {
		outs = append(outs, ev)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	for _, o := range outs {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
			s := fmt.Sprintf(verb, o)
			assert.NotContains(t, s, tok)
			assert.NotContains(t, s, fmt.Sprintf("%x", raw))
		}
	}
}

// TestConcurrentFinish: of 200 concurrent Finish calls of one sign-in,
// through two installations on one memstore, exactly one succeeds
// (sqlstore's TestReplicasFinishOnce runs the same on its databases).
func TestConcurrentFinish(t *testing.T) {
	for _, maxAttempts := range []int{signin.DefaultMaxAttempts, signin.MaxMaxAttempts} {
		for _, mode := range []signinrace.Mode{signinrace.SameCode, signinrace.Mixed} {
			t.Run(fmt.Sprintf("%v/MaxAttempts%d", mode, maxAttempts), func(t *testing.T) {
				e := twofatest.New(t)
				wide := twofa.ThrottlePolicy{Free: 1 << 20, Base: time.Second, Max: time.Second}
				var rs []signinrace.Replica
				for range 2 {
					c := e.Config
					c.Throttle.Codes, c.Throttle.Recovery = wide, wide
					tf, err := twofa.New(c)
					require.NoError(t, err)
					m, err := signin.New(tf, signin.Config{MaxAttempts: maxAttempts})
					require.NoError(t, err)
					rs = append(rs, signinrace.Replica{TwoFA: tf, SignIns: m})
				}
				o := signinrace.Run(t, rs, e.Clock, mode, signinrace.Rounds(t, 20, 5))
				t.Logf("last round: %d succeeded, %d ErrNotFound, %d ErrTooManyAttempts, %d ErrReplayed, %d ErrInvalidCode; %d recovery codes accepted",
					o.OK, o.NotFound, o.TooMany, o.Replayed, o.Invalid, o.RecoveryUsed)
			})
		}
	}
}
