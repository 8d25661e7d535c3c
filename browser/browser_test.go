package browser_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/internal/fuzzseed"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/twofatest"
)

// brStore is a memstore that counts the trusted-browser calls the manager
// makes, and can run a function right after InsertBrowser (a concurrent
// change landing between Trust's steps).
type brStore struct {
	*memstore.Store
	lookups     atomic.Int32
	touches     atomic.Int32
	afterInsert func()
	// anyDigest makes BrowserByDigest return the account's first record
	// whatever the digest, as a store with a broken index would.
	anyDigest bool
}

func (s *brStore) BrowserByDigest(ctx context.Context, account string, digest []byte) (browser.Record, error) {
	s.lookups.Add(1)
	if s.anyDigest {
		bs, err := s.Store.Browsers(ctx, account)
		if err != nil || len(bs) == 0 {
			return browser.Record{}, twofa.ErrNotFound
		}
		return bs[0], nil
	}
	return s.Store.BrowserByDigest(ctx, account, digest)
}

func (s *brStore) TouchBrowser(ctx context.Context, account, id string, at time.Time) error {
	s.touches.Add(1)
	return s.Store.TouchBrowser(ctx, account, id, at)
}

func (s *brStore) InsertBrowser(ctx context.Context, b browser.Record, limit int, now time.Time) ([]string, error) {
	ev, err := s.Store.InsertBrowser(ctx, b, limit, now)
	if s.afterInsert != nil {
		s.afterInsert()
	}
	return ev, err
}

// brEnv is a twofatest.Env with a Browsers manager on a counting store
// (over the Env's memstore, which its Devices use too).
type brEnv struct {
	*twofatest.Env
	st       *brStore
	browsers *browser.Manager
}

func newBrEnv(t *testing.T, configure func(*twofa.Config, *browser.Config)) *brEnv {
	t.Helper()
	env := twofatest.New(t)
	st := &brStore{Store: env.Store}
	cfg := env.Config
	cfg.Store = st
	var bc browser.Config
	if configure != nil {
		configure(&cfg, &bc)
	}
	b, err := newBrowsers(cfg, bc)
	require.NoError(t, err)
	return &brEnv{Env: env, st: st, browsers: b}
}

// newBrowsers builds an installation from c and its trusted browsers
// from bc.
func newBrowsers(c twofa.Config, bc browser.Config) (*browser.Manager, error) {
	tf, err := twofa.New(c)
	if err != nil {
		return nil, err
	}
	return browser.New(tf, bc)
}

// trust trusts a browser for account, which must have two-factor on.
func (e *brEnv) trust(t *testing.T, account, label string) (string, browser.Info) {
	t.Helper()
	tok, info, err := e.browsers.Trust(t.Context(), account, label)
	require.NoError(t, err)
	return tok, info
}

// brRandomToken returns a well-formed token that was never issued.
func brRandomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func brEventTypes(es []twofa.Event) []twofa.EventType {
	ts := make([]twofa.EventType, len(es))
	for i, e := range es {
		ts[i] = e.Type
	}
	return ts
}

func TestNewBrowsersConfig(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	for name, c := range map[string]struct {
		mod func(*twofa.Config, *browser.Config)
		ok  bool
	}{
		"defaults":           {func(*twofa.Config, *browser.Config) {}, true},
		"no store":           {func(c *twofa.Config, _ *browser.Config) { c.Store = nil }, false},
		"no keyring":         {func(c *twofa.Config, _ *browser.Config) { c.Keyring = nil }, false},
		"TTL negative":       {func(_ *twofa.Config, b *browser.Config) { b.TTL = -time.Hour }, false},
		"TTL under a second": {func(_ *twofa.Config, b *browser.Config) { b.TTL = time.Second - 1 }, false},
		"TTL one second":     {func(_ *twofa.Config, b *browser.Config) { b.TTL = time.Second }, true},
		"TTL max":            {func(_ *twofa.Config, b *browser.Config) { b.TTL = browser.MaxTTL }, true},
		"TTL over max":       {func(_ *twofa.Config, b *browser.Config) { b.TTL = browser.MaxTTL + 1 }, false},
		"MaxBrowsers one":    {func(_ *twofa.Config, b *browser.Config) { b.Max = 1 }, true},
		"MaxBrowsers -1":     {func(_ *twofa.Config, b *browser.Config) { b.Max = -1 }, false},
		"other settings bad": {func(c *twofa.Config, _ *browser.Config) { c.Codes.Skew = -5 }, false},
		"issuer required":    {func(c *twofa.Config, _ *browser.Config) { c.Issuer = "" }, false},
	} {
		cfg := env.Config
		var bc browser.Config
		c.mod(&cfg, &bc)
		b, err := newBrowsers(cfg, bc)
		if c.ok {
			assert.NoError(t, err, name)
			assert.NotNil(t, b, name)
		} else {
			assert.ErrorIs(t, err, twofa.ErrConfig, name)
			assert.Nil(t, b, name)
		}
	}
	assert.Equal(t, 30*24*time.Hour, browser.DefaultTTL)
	assert.Equal(t, 400*24*time.Hour, browser.MaxTTL)
	assert.Equal(t, 50, browser.DefaultMax)
}

func TestBrowserTrustAndCheck(t *testing.T) {
	t.Parallel()
	e := newBrEnv(t, nil)
	ctx := t.Context()
	e.EnrollTOTP("alice")
	before := len(e.Events.Events())

	tok, info, err := e.browsers.Trust(ctx, "alice", "  Firefox on Linux ")
	require.NoError(t, err)
	require.Len(t, tok, browser.TokenLen)
	raw, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	require.NoError(t, err)
	assert.Len(t, raw, 32, "256 bits")
	assert.NotEmpty(t, info.ID)
	assert.Equal(t, "Firefox on Linux", info.Label, "label trimmed")
	assert.Equal(t, twofatest.Start, info.CreatedAt)
	assert.Equal(t, twofatest.Start.Add(browser.DefaultTTL), info.ExpiresAt)
	assert.Equal(t, twofatest.Start, info.LastUsedAt, "trusting is using")
	assert.True(t, info.RevokedAt.IsZero())

	got, err := e.browsers.Check(ctx, "alice", tok)
	require.NoError(t, err)
	assert.Equal(t, info, got)

	list, err := e.browsers.List(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, []browser.Info{info}, list)

	evs := e.Events.Events()[before:]
	assert.Equal(t, []twofa.Event{
		{Type: browser.EventTrusted, Account: "alice", BrowserID: info.ID, Time: twofatest.Start},
		{Type: browser.EventUsed, Account: "alice", BrowserID: info.ID, Time: twofatest.Start},
	}, evs)

	// Two trusts give two tokens.
	tok2, info2 := e.trust(t, "alice", "Safari")
	assert.NotEqual(t, tok, tok2)
	assert.NotEqual(t, info.ID, info2.ID)
}

func TestBrowserTrustNeedsSecondFactor(t *testing.T) {
	t.Parallel()
	e := newBrEnv(t, nil)
	ctx := t.Context()
	_, _, err := e.browsers.Trust(ctx, "alice", "Firefox")
	assert.ErrorIs(t, err, twofa.ErrNotEnrolled, "no device")

	_, err = e.Devices.Enroll(ctx, "alice", "phone", twofa.EnrollOptions{})
	require.NoError(t, err)
	_, _, err = e.browsers.Trust(ctx, "alice", "Firefox")
	assert.ErrorIs(t, err, twofa.ErrNotEnrolled, "a pending device is not a second factor")

	recs, err := e.Store.Browsers(ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, recs, "nothing stored")
	assert.Zero(t, e.Events.Count(browser.EventTrusted))
}

func TestBrowserTrustBadInput(t *testing.T) {
	t.Parallel()
	e := newBrEnv(t, nil)
	e.EnrollTOTP("alice")
	ctx := t.Context()
	for _, account := range []string{"", strings.Repeat("a", twofa.MaxAccountIDLen+1), "a\x00b", "\xff"} {
		_, _, err := e.browsers.Trust(ctx, account, "Firefox")
		assert.ErrorIs(t, err, twofa.ErrInvalidAccount, "%q", account)
		_, err = e.browsers.Check(ctx, account, brRandomToken())
		assert.ErrorIs(t, err, twofa.ErrInvalidAccount)
		_, err = e.browsers.List(ctx, account)
		assert.ErrorIs(t, err, twofa.ErrInvalidAccount)
		assert.ErrorIs(t, e.browsers.Revoke(ctx, account, "x"), twofa.ErrInvalidAccount)
		_, err = e.browsers.RevokeAll(ctx, account)
		assert.ErrorIs(t, err, twofa.ErrInvalidAccount)
	}
	for _, label := range []string{"", "   ", strings.Repeat("x", twofa.MaxLabelLen+1), "a\nb", "\u202eevil"} {
		_, _, err := e.browsers.Trust(ctx, "alice", label)
		assert.ErrorIs(t, err, twofa.ErrInvalidLabel, "%q", label)
	}
	_, _, err := e.browsers.Trust(ctx, "alice", strings.Repeat("é", twofa.MaxLabelLen))
	assert.NoError(t, err, "MaxLabelLen characters")
}

// TestBrowserExpiry walks a token to its expiry on the fake clock, to the
// nanosecond, with the default TTL and a short one.
func TestBrowserExpiry(t *testing.T) {
	t.Parallel()
	for _, ttl := range []time.Duration{0, time.Second, 90 * time.Minute} {
		t.Run(fmt.Sprint(ttl), func(t *testing.T) {
			e := newBrEnv(t, func(_ *twofa.Config, b *browser.Config) { b.TTL = ttl })
			ctx := t.Context()
			e.EnrollTOTP("alice")
			tok, info := e.trust(t, "alice", "Firefox")
			want := ttl
			if want == 0 {
				want = browser.DefaultTTL
			}
			require.Equal(t, want, info.ExpiresAt.Sub(info.CreatedAt))

			e.Clock.Set(info.ExpiresAt.Add(-1))
			_, err := e.browsers.Check(ctx, "alice", tok)
			require.NoError(t, err, "1 ns before expiry")
			list, _ := e.browsers.List(ctx, "alice")
			assert.Len(t, list, 1)

			e.Clock.Set(info.ExpiresAt)
			got, err := e.browsers.Check(ctx, "alice", tok)
			assert.ErrorIs(t, err, browser.ErrExpired, "at expiry")
			assert.ErrorIs(t, err, browser.ErrNotTrusted)
			assert.Equal(t, info.ID, got.ID, "the expired browser is described")
			list, _ = e.browsers.List(ctx, "alice")
			assert.Empty(t, list, "an expired browser is not listed")
			assert.NoError(t, ev(e, browser.EventRefused))

			// Cleanup forgets it: then it is unknown.
			n, err := e.browsers.Purge(ctx)
			require.NoError(t, err)
			assert.Equal(t, 1, n)
			_, err = e.browsers.Check(ctx, "alice", tok)
			assert.ErrorIs(t, err, browser.ErrUnknown, "after cleanup")
		})
	}
}

// ev fails unless the last recorded event has type typ.
func ev(e *brEnv, typ twofa.EventType) error {
	evs := e.Events.Events()
	if len(evs) == 0 || evs[len(evs)-1].Type != typ {
		return fmt.Errorf("last event is not %v: %v", typ, brEventTypes(evs))
	}
	return nil
}

func TestBrowserRevoke(t *testing.T) {
	t.Parallel()
	e := newBrEnv(t, nil)
	ctx := t.Context()
	e.EnrollTOTP("alice")
	tok1, info1 := e.trust(t, "alice", "Firefox")
	tok2, info2 := e.trust(t, "alice", "Safari")

	e.Clock.Advance(time.Minute)
	require.NoError(t, e.browsers.Revoke(ctx, "alice", info1.ID))
	require.NoError(t, ev(e, browser.EventRevoked))
	assert.Equal(t, info1.ID, e.Events.Events()[len(e.Events.Events())-1].BrowserID)

	got, err := e.browsers.Check(ctx, "alice", tok1)
	assert.ErrorIs(t, err, browser.ErrRevoked)
	assert.Equal(t, twofatest.Start.Add(time.Minute), got.RevokedAt)
	require.NoError(t, ev(e, browser.EventRefused))
	assert.Equal(t, info1.ID, e.Events.Events()[len(e.Events.Events())-1].BrowserID)
	_, err = e.browsers.Check(ctx, "alice", tok2)
	assert.NoError(t, err, "the other browser stays trusted")

	assert.ErrorIs(t, e.browsers.Revoke(ctx, "alice", info1.ID), twofa.ErrNotFound, "revoked already")
	assert.ErrorIs(t, e.browsers.Revoke(ctx, "alice", "nope"), twofa.ErrNotFound)
	assert.ErrorIs(t, e.browsers.Revoke(ctx, "bob", info2.ID), twofa.ErrNotFound, "another account's browser")

	list, err := e.browsers.List(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, []browser.Info{info2}, list)

	// The tombstone stays until the browser would have expired.
	e.Clock.Set(info1.ExpiresAt.Add(-1))
	_, err = e.browsers.Check(ctx, "alice", tok1)
	assert.ErrorIs(t, err, browser.ErrRevoked, "revoked wins over expired")
	_, _ = e.browsers.Purge(ctx)
	_, err = e.browsers.Check(ctx, "alice", tok1)
	assert.ErrorIs(t, err, browser.ErrRevoked, "not yet expired: kept")
	e.Clock.Set(info1.ExpiresAt)
	n, err := e.browsers.Purge(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	_, err = e.browsers.Check(ctx, "alice", tok1)
	assert.ErrorIs(t, err, browser.ErrUnknown)
}

func TestBrowserRevokeAll(t *testing.T) {
	t.Parallel()
	e := newBrEnv(t, nil)
	ctx := t.Context()
	e.EnrollTOTP("alice")
	e.EnrollTOTP("bob")
	toks := map[string]bool{}
	for i := range 3 {
		tok, _ := e.trust(t, "alice", fmt.Sprint("browser ", i))
		toks[tok] = true
	}
	bobTok, _ := e.trust(t, "bob", "Firefox")

	n, err := e.browsers.RevokeAll(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	last := e.Events.Events()[len(e.Events.Events())-1]
	assert.Equal(t, twofa.Event{Type: browser.EventRevokedAll, Account: "alice", Time: twofatest.Start, Count: 3}, last)
	for tok := range toks {
		_, err := e.browsers.Check(ctx, "alice", tok)
		assert.ErrorIs(t, err, browser.ErrRevoked)
	}
	_, err = e.browsers.Check(ctx, "bob", bobTok)
	assert.NoError(t, err, "another account is untouched")

	count := len(e.Events.Events())
	n, err = e.browsers.RevokeAll(ctx, "alice")
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Len(t, e.Events.Events(), count, "nothing revoked, nothing reported")

	// A browser trusted afterwards is trusted.
	tok, _ := e.trust(t, "alice", "new")
	_, err = e.browsers.Check(ctx, "alice", tok)
	assert.NoError(t, err)
}

// TestBrowserLimit: at Config.Max, Trust evicts the least recently
// used browser, and never fails.
func TestBrowserLimit(t *testing.T) {
	t.Parallel()
	e := newBrEnv(t, func(_ *twofa.Config, b *browser.Config) { b.Max = 3 })
	ctx := t.Context()
	e.EnrollTOTP("alice")
	tok1, _ := e.trust(t, "alice", "one")
	e.Clock.Advance(time.Minute)
	tok2, info2 := e.trust(t, "alice", "two")
	e.Clock.Advance(time.Minute)
	tok3, _ := e.trust(t, "alice", "three")

	// Using "one" an hour later makes "two" the least recently used.
	e.Clock.Advance(time.Hour)
	_, err := e.browsers.Check(ctx, "alice", tok1)
	require.NoError(t, err)

	tok4, info4 := e.trust(t, "alice", "four")
	evs := e.Events.Events()
	assert.Equal(t, []twofa.Event{
		{Type: browser.EventTrusted, Account: "alice", BrowserID: info4.ID, Time: e.Clock.Now()},
		{Type: browser.EventEvicted, Account: "alice", BrowserID: info2.ID, Time: e.Clock.Now()},
	}, evs[len(evs)-2:])
	_, err = e.browsers.Check(ctx, "alice", tok2)
	assert.ErrorIs(t, err, browser.ErrRevoked, "evicted")
	for _, tok := range []string{tok1, tok3, tok4} {
		_, err := e.browsers.Check(ctx, "alice", tok)
		assert.NoError(t, err)
	}
	list, err := e.browsers.List(ctx, "alice")
	require.NoError(t, err)
	labels := []string{}
	for _, b := range list {
		labels = append(labels, b.Label)
	}
	assert.Equal(t, []string{"one", "three", "four"}, labels)

	// MaxBrowsers 1: each Trust replaces the previous browser.
	e1 := newBrEnv(t, func(_ *twofa.Config, b *browser.Config) { b.Max = 1 })
	e1.EnrollTOTP("alice")
	a, _ := e1.trust(t, "alice", "a")
	b, _ := e1.trust(t, "alice", "b")
	_, err = e1.browsers.Check(ctx, "alice", a)
	assert.ErrorIs(t, err, browser.ErrRevoked)
	_, err = e1.browsers.Check(ctx, "alice", b)
	assert.NoError(t, err)
}

// TestBrowserDefaultLimit trusts DefaultMax+1 browsers.
func TestBrowserDefaultLimit(t *testing.T) {
	t.Parallel()
	e := newBrEnv(t, nil)
	e.EnrollTOTP("alice")
	first, _ := e.trust(t, "alice", "first")
	for i := range browser.DefaultMax - 1 {
		e.Clock.Advance(time.Second)
		e.trust(t, "alice", fmt.Sprint("b", i))
	}
	list, _ := e.browsers.List(t.Context(), "alice")
	require.Len(t, list, browser.DefaultMax)
	assert.Zero(t, e.Events.Count(browser.EventEvicted))
	e.trust(t, "alice", "one too many")
	list, _ = e.browsers.List(t.Context(), "alice")
	assert.Len(t, list, browser.DefaultMax)
	assert.Equal(t, 1, e.Events.Count(browser.EventEvicted))
	_, err := e.browsers.Check(t.Context(), "alice", first)
	assert.ErrorIs(t, err, browser.ErrRevoked)
}

// TestBrowserTouch: the last-used time is written at most once an hour.
func TestBrowserTouch(t *testing.T) {
	t.Parallel()
	e := newBrEnv(t, nil)
	ctx := t.Context()
	e.EnrollTOTP("alice")
	tok, info := e.trust(t, "alice", "Firefox")
	check := func() browser.Info {
		t.Helper()
		got, err := e.browsers.Check(ctx, "alice", tok)
		require.NoError(t, err)
		return got
	}
	for range 5 {
		check()
	}
	e.Clock.Advance(time.Hour - 1)
	assert.Equal(t, info.CreatedAt, check().LastUsedAt)
	assert.Zero(t, e.st.touches.Load(), "no write within the hour")

	e.Clock.Advance(1)
	assert.Equal(t, info.CreatedAt.Add(time.Hour), check().LastUsedAt)
	assert.EqualValues(t, 1, e.st.touches.Load())
	list, _ := e.browsers.List(ctx, "alice")
	assert.Equal(t, info.CreatedAt.Add(time.Hour), list[0].LastUsedAt)
	check()
	e.Clock.Advance(30 * time.Minute)
	check()
	assert.EqualValues(t, 1, e.st.touches.Load())

	// A clock that went back writes nothing.
	e.Clock.Set(info.CreatedAt.Add(-time.Hour))
	check()
	assert.EqualValues(t, 1, e.st.touches.Load())
	assert.EqualValues(t, 10, e.st.lookups.Load(), "one lookup per Check")
}

// TestBrowserRefused covers the forged, foreign and malformed tokens:
// every one is refused with its own error, which matches
// ErrNotTrusted; a malformed one is refused before any lookup.
func TestBrowserRefused(t *testing.T) {
	t.Parallel()
	e := newBrEnv(t, nil)
	ctx := t.Context()
	e.EnrollTOTP("alice")
	e.EnrollTOTP("bob")
	tok, _ := e.trust(t, "alice", "Firefox")
	bobTok, _ := e.trust(t, "bob", "Firefox")

	// A token issued under another digest key (another installation, or
	// a rotated-away digest key) over the same store.
	other := twofatest.New(t)
	otherCfg := other.Config
	otherCfg.Store = e.Store
	otherCfg.Clock = e.Clock
	otherB, err := newBrowsers(otherCfg, browser.Config{})
	require.NoError(t, err)
	otherTok, _, err := otherB.Trust(ctx, "alice", "elsewhere")
	require.NoError(t, err)

	lastChar := tok[len(tok)-1]
	// The last character carries 4 bits of the token and 2 unused bits;
	// flipping an unused one gives a non-canonical spelling of the token.
	nonCanonical := tok[:len(tok)-1] + string(base64URLAlphabet[strings.IndexByte(base64URLAlphabet, lastChar)^1])
	flipped := tok[:10] + string(base64URLAlphabet[(strings.IndexByte(base64URLAlphabet, tok[10])+1)%64]) + tok[11:]

	unknown := map[string]string{
		"forged (random)":         brRandomToken(),
		"another account's token": bobTok,
		"one character changed":   flipped,
		"other digest key":        otherTok,
		"all A":                   strings.Repeat("A", 43),
	}
	malformed := map[string]string{
		"empty":                 "",
		"truncated":             tok[:42],
		"truncated a lot":       tok[:20],
		"one more":              tok + "A",
		"padded":                tok + "=",
		"standard alphabet":     strings.NewReplacer("-", "+", "_", "/").Replace(brTokenWithSymbols()),
		"space inside":          tok[:20] + " " + tok[21:],
		"newline inside":        tok[:20] + "\n" + tok[21:],
		"trailing newline":      tok[:42] + "\n",
		"leading space":         " " + tok[1:],
		"non-canonical":         nonCanonical,
		"NUL":                   tok[:42] + "\x00",
		"unicode":               tok[:41] + "é",
		"huge":                  strings.Repeat(tok, 1<<15),
		"quoted":                `"` + tok[1:42] + `"`,
		"hex of 32 bytes":       strings.Repeat("ab", 32),
		"std base64 padded":     base64.StdEncoding.EncodeToString(make([]byte, 32)),
		"url base64 padded":     base64.URLEncoding.EncodeToString(make([]byte, 32)),
		"24 bytes, 32 chars":    base64.RawURLEncoding.EncodeToString(make([]byte, 24)),
		"33 bytes, 44 chars":    base64.RawURLEncoding.EncodeToString(make([]byte, 33)),
		"43 chars with percent": tok[:42] + "%",
	}
	require.NotEqual(t, tok, nonCanonical)
	for name, in := range unknown {
		lookups := e.st.lookups.Load()
		info, err := e.browsers.Check(ctx, "alice", in)
		assert.ErrorIs(t, err, browser.ErrUnknown, name)
		assert.ErrorIs(t, err, browser.ErrNotTrusted, name)
		assert.Zero(t, info, name)
		assert.Equal(t, lookups+1, e.st.lookups.Load(), "%s: one lookup", name)
		assert.NoError(t, ev(e, browser.EventRefused), name)
	}
	for name, in := range malformed {
		lookups := e.st.lookups.Load()
		info, err := e.browsers.Check(ctx, "alice", in)
		assert.ErrorIs(t, err, browser.ErrMalformedToken, name)
		assert.ErrorIs(t, err, browser.ErrNotTrusted, name)
		assert.Zero(t, info, name)
		assert.Equal(t, lookups, e.st.lookups.Load(), "%s: nothing looked up", name)
		assert.NoError(t, ev(e, browser.EventRefused), name)
		assert.Empty(t, e.Events.Events()[len(e.Events.Events())-1].BrowserID)
	}
	// After all that, the real tokens still work.
	_, err = e.browsers.Check(ctx, "alice", tok)
	assert.NoError(t, err)
	_, err = e.browsers.Check(ctx, "bob", bobTok)
	assert.NoError(t, err)
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// brTokenWithSymbols returns a well-formed token that holds both '-' and
// '_', so that swapping in the standard alphabet changes it.
func brTokenWithSymbols() string {
	for {
		if tok := brRandomToken(); strings.ContainsAny(tok, "-_") {
			return tok
		}
	}
}

func TestBrowserErrors(t *testing.T) {
	t.Parallel()
	for _, err := range []error{browser.ErrMalformedToken, browser.ErrUnknown, browser.ErrExpired, browser.ErrRevoked} {
		assert.ErrorIs(t, err, browser.ErrNotTrusted)
		assert.True(t, strings.HasPrefix(err.Error(), "twofa: browser not trusted: "), err.Error())
	}
	assert.NotErrorIs(t, browser.ErrRevoked, browser.ErrExpired)
	assert.NotErrorIs(t, browser.ErrUnknown, browser.ErrMalformedToken)
}

// TestBrowserTwoFactorOff: revoking the last confirmed device revokes every
// trusted browser of the account, before EventTwoFactorDisabled; revoking
// one of two devices revokes none.
func TestBrowserTwoFactorOff(t *testing.T) {
	t.Parallel()
	e := newBrEnv(t, nil)
	ctx := t.Context()
	d1 := e.EnrollTOTP("alice")
	d2 := e.EnrollTOTP("alice")
	e.EnrollTOTP("bob")
	tokA, _ := e.trust(t, "alice", "Firefox")
	tokB, _ := e.trust(t, "alice", "Safari")
	tokBob, _ := e.trust(t, "bob", "Firefox")

	require.NoError(t, errOf(e.Devices.Revoke(ctx, "alice", d1.ID)))
	for _, tok := range []string{tokA, tokB} {
		_, err := e.browsers.Check(ctx, "alice", tok)
		assert.NoError(t, err, "one device left: two-factor is still on")
	}
	before := len(e.Events.Events())
	require.NoError(t, errOf(e.Devices.Revoke(ctx, "alice", d2.ID)))
	assert.Equal(t, []twofa.Event{
		{Type: twofa.EventRevoked, Account: "alice", DeviceID: d2.ID, Time: twofatest.Start},
		{Type: browser.EventRevokedAll, Account: "alice", Time: twofatest.Start, Count: 2},
		{Type: twofa.EventTwoFactorDisabled, Account: "alice", Time: twofatest.Start},
	}, e.Events.Events()[before:])
	for _, tok := range []string{tokA, tokB} {
		_, err := e.browsers.Check(ctx, "alice", tok)
		assert.ErrorIs(t, err, browser.ErrRevoked)
	}
	_, err := e.browsers.Check(ctx, "bob", tokBob)
	assert.NoError(t, err)
	_, _, err = e.browsers.Trust(ctx, "alice", "Chrome")
	assert.ErrorIs(t, err, twofa.ErrNotEnrolled)

	// Turning two-factor on again does not bring the old browsers back.
	e.EnrollTOTP("alice")
	_, err = e.browsers.Check(ctx, "alice", tokA)
	assert.ErrorIs(t, err, browser.ErrRevoked)
}

// TestBrowserTrustRacesTwoFactorOff: the last device is revoked while
// Trust stores its record. Trust issues under the installation's
// lifecycle lock (twofa.TwoFA.Issue), so the revocation waits for the
// insert and then revokes the record with the account's other browsers:
// no trusted browser outlives the second factor it skips. A revocation
// that finished first makes Trust refuse and store nothing.
func TestBrowserTrustRacesTwoFactorOff(t *testing.T) {
	t.Parallel()
	t.Run("revocation during the insert", func(t *testing.T) {
		e := newBrEnv(t, nil)
		dev := e.EnrollTOTP("alice")
		var revoked atomic.Bool
		done := make(chan error, 1)
		e.st.afterInsert = func() {
			e.st.afterInsert = nil
			go func() {
				_, err := e.Devices.Revoke(context.Background(), "alice", dev.ID)
				revoked.Store(true)
				done <- err
			}()
			time.Sleep(20 * time.Millisecond)
			assert.False(t, revoked.Load(), "the revocation waits for the lifecycle lock")
		}
		tok, _, err := e.browsers.Trust(t.Context(), "alice", "Firefox")
		require.NoError(t, err)
		require.NoError(t, <-done)
		_, err = e.browsers.Check(t.Context(), "alice", tok)
		assert.ErrorIs(t, err, browser.ErrRevoked)
		assert.Equal(t, 1, e.Events.Count(twofa.EventTwoFactorDisabled))
	})
	t.Run("revocation before the insert", func(t *testing.T) {
		e := newBrEnv(t, nil)
		dev := e.EnrollTOTP("alice")
		require.NoError(t, errOf(e.Devices.Revoke(t.Context(), "alice", dev.ID)))
		tok, info, err := e.browsers.Trust(t.Context(), "alice", "Firefox")
		assert.ErrorIs(t, err, twofa.ErrNotEnrolled)
		assert.Empty(t, tok)
		assert.Zero(t, info)
		recs, err := e.Store.Browsers(t.Context(), "alice")
		require.NoError(t, err)
		assert.Empty(t, recs)
		assert.Zero(t, e.Events.Count(browser.EventTrusted))
	})
}

// TestBrowserPasswordChanged: TwoFA.PasswordChanged revokes every trusted
// browser of the account, and only of that account.
func TestBrowserPasswordChanged(t *testing.T) {
	t.Parallel()
	e := newBrEnv(t, nil)
	ctx := t.Context()
	e.EnrollTOTP("alice")
	e.EnrollTOTP("bob")
	tok1, _ := e.trust(t, "alice", "Firefox")
	tok2, _ := e.trust(t, "alice", "Safari")
	bobTok, _ := e.trust(t, "bob", "Firefox")
	e.Clock.Advance(time.Minute)

	require.NoError(t, e.TwoFA.PasswordChanged(ctx, "alice"))
	for _, tok := range []string{tok1, tok2} {
		info, err := e.browsers.Check(ctx, "alice", tok)
		assert.ErrorIs(t, err, browser.ErrRevoked)
		assert.Equal(t, e.Clock.Now(), info.RevokedAt)
	}
	_, err := e.browsers.Check(ctx, "bob", bobTok)
	assert.NoError(t, err, "another account is untouched")
	assert.Equal(t, 1, e.Events.Count(browser.EventRevokedAll))
	for _, ev := range e.Events.Events() {
		if ev.Type == browser.EventRevokedAll {
			assert.Equal(t, twofa.Event{Type: browser.EventRevokedAll, Account: "alice", Time: e.Clock.Now(), Count: 2}, ev)
		}
	}
	list, err := e.browsers.List(ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, list)

	// Two-factor stays on: the user may trust a browser again.
	tok, _ := e.trust(t, "alice", "Firefox")
	_, err = e.browsers.Check(ctx, "alice", tok)
	assert.NoError(t, err)
	require.NoError(t, e.TwoFA.PasswordChanged(ctx, "alice"))
	_, err = e.browsers.Check(ctx, "alice", tok)
	assert.ErrorIs(t, err, browser.ErrRevoked)
}

// TestBrowserConcurrent runs Check, Revoke, RevokeAll, List and Trust at
// once (run with -race). A Check returns nil or ErrRevoked, and once
// the revocation has returned, only ErrRevoked.
func TestBrowserConcurrent(t *testing.T) {
	t.Parallel()
	e := newBrEnv(t, func(_ *twofa.Config, b *browser.Config) { b.Max = 5 })
	ctx := context.Background()
	e.EnrollTOTP("alice")
	tok, info := e.trust(t, "alice", "Firefox")

	var revoked atomic.Bool
	var ok, refused atomic.Int32
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			switch i % 16 {
			case 0:
				if err := e.browsers.Revoke(ctx, "alice", info.ID); err == nil {
					revoked.Store(true)
				}
			case 1:
				_, _, _ = e.browsers.Trust(ctx, "alice", fmt.Sprint("t", i))
			case 2:
				_, _ = e.browsers.List(ctx, "alice")
			default:
				after := revoked.Load()
				_, err := e.browsers.Check(ctx, "alice", tok)
				switch {
				case err == nil && !after:
					ok.Add(1)
				case assert.ErrorIs(t, err, browser.ErrRevoked):
					refused.Add(1)
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(52), ok.Load()+refused.Load())
	assert.Equal(t, 1, e.Events.Count(browser.EventRevoked), "one Revoke succeeded")
	_, err := e.browsers.Check(ctx, "alice", tok)
	assert.ErrorIs(t, err, browser.ErrRevoked)

	// Concurrent Trust calls keep the limit.
	e2 := newBrEnv(t, func(_ *twofa.Config, b *browser.Config) { b.Max = 5 })
	e2.EnrollTOTP("bob")
	toks := make([]string, 40)
	for i := range toks {
		wg.Go(func() {
			tok, _, err := e2.browsers.Trust(ctx, "bob", fmt.Sprint("b", i))
			assert.NoError(t, err)
			toks[i] = tok
		})
	}
	wg.Wait()
	list, err := e2.browsers.List(ctx, "bob")
	require.NoError(t, err)
	assert.Len(t, list, 5)
	assert.Equal(t, 35, e2.Events.Count(browser.EventEvicted))
	valid := 0
	for _, tok := range toks {
		if _, err := e2.browsers.Check(ctx, "bob", tok); err == nil {
			valid++
		}
	}
	assert.Equal(t, 5, valid)
}

// TestBrowserNoTokenLeak: the token appears in no error, event, Info
// or List output, however formatted; nor does its digest.
func TestBrowserNoTokenLeak(t *testing.T) {
	t.Parallel()
	e := newBrEnv(t, nil)
	ctx := t.Context()
	e.EnrollTOTP("alice")
	tok, info := e.trust(t, "alice", "Firefox")
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	digest, err := e.Keyring.Digest(browser.DigestPurpose, "alice", raw)
	require.NoError(t, err)

	var outputs []any
	add := func(v ...any) { outputs = append(outputs, v...) }
	add(info)
	_, err = e.browsers.Check(ctx, "alice", tok)
	add(err)
	_, err = e.browsers.Check(ctx, "bob", tok) // unknown for bob
	add(err)
	_, err = e.browsers.Check(ctx, "alice", tok+"x") // malformed
	add(err)
	_, err = e.browsers.Check(ctx, "alice", tok[:42]) // malformed
	add(err)
	list, _ := e.browsers.List(ctx, "alice")
	add(list)
	require.NoError(t, e.browsers.Revoke(ctx, "alice", info.ID))
	got, err := e.browsers.Check(ctx, "alice", tok)
	add(got, err)
	e.Clock.Advance(browser.DefaultTTL)
	_, err = e.browsers.Check(ctx, "alice", tok)
	add(err)
	for _, ev := range e.Events.Events() {
		add(ev)
	}
	for _, o := range outputs {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			s := fmt.Sprintf(verb, o)
			assert.NotContains(t, s, tok[:16], "%s of %T", verb, o)
			assert.NotContains(t, s, fmt.Sprintf("%x", digest[:8]), "%s of %T", verb, o)
		}
	}
}

// TestBrowserWrongRecord: a store that answers a lookup with a record of
// another digest does not get a forged token through: Check compares the
// digests itself.
func TestBrowserWrongRecord(t *testing.T) {
	t.Parallel()
	e := newBrEnv(t, nil)
	e.EnrollTOTP("alice")
	e.trust(t, "alice", "Firefox")
	e.st.anyDigest = true
	_, err := e.browsers.Check(t.Context(), "alice", brRandomToken())
	assert.ErrorIs(t, err, browser.ErrUnknown)
}

// TestBrowserStoreErrors: a failing store is reported, wrapped, and no
// browser passes.
func TestBrowserStoreErrors(t *testing.T) {
	t.Parallel()
	e := newBrEnv(t, nil)
	e.EnrollTOTP("alice")
	tok, _ := e.trust(t, "alice", "Firefox")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := e.browsers.Check(ctx, "alice", tok)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, browser.ErrNotTrusted, "a store failure decides nothing")
	_, _, err = e.browsers.Trust(ctx, "alice", "x")
	assert.ErrorIs(t, err, context.Canceled)
	_, err = e.browsers.List(ctx, "alice")
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, e.browsers.Revoke(ctx, "alice", "x"), context.Canceled)
	_, err = e.browsers.RevokeAll(ctx, "alice")
	assert.ErrorIs(t, err, context.Canceled)
	_, err = e.browsers.Purge(ctx)
	assert.ErrorIs(t, err, context.Canceled)
}

// FuzzBrowserToken: Check never panics on any input; it accepts the issued
// token only, reports ErrMalformedToken exactly for inputs that are not 43
// characters of canonical unpadded base64url (decided here independently,
// by decoding leniently and encoding back), and ErrUnknown for the
// rest; no error holds the input.
func FuzzBrowserToken(f *testing.F) {
	fuzzseed.Add(f, seedDir, "FuzzBrowserToken")
	env := twofatest.New(f)
	cfg := env.Config
	cfg.Events = nil // fuzzing would fill the recorder
	b, err := newBrowsers(cfg, browser.Config{})
	if err != nil {
		f.Fatal(err)
	}
	env.EnrollTOTP("alice")
	tok, _, err := b.Trust(context.Background(), "alice", "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok)
	f.Fuzz(func(t *testing.T, in string) {
		_, err := b.Check(context.Background(), "alice", in)
		if in == tok {
			if err != nil {
				t.Fatalf("the issued token was refused: %v", err)
			}
			return
		}
		raw, derr := base64.RawURLEncoding.DecodeString(in)
		wellFormed := len(in) == browser.TokenLen && derr == nil && len(raw) == 32 &&
			base64.RawURLEncoding.EncodeToString(raw) == in
		switch {
		case wellFormed && err != browser.ErrUnknown:
			t.Fatalf("Check(%q) = %v, want ErrUnknown", in, err)
		case !wellFormed && err != browser.ErrMalformedToken:
			t.Fatalf("Check(%q) = %v, want ErrMalformedToken", in, err)
		}
		if len(in) >= 4 && strings.Contains(err.Error(), in) {
			t.Fatalf("error %q holds the input", err)
		}
	})
}

// onlyTwofaStore is a twofa.Store that is not a browser.Store.
type onlyTwofaStore struct{ twofa.Store }

// TestNewStore: New needs an installation, takes the installation's store
// when Config.Store is nil and it is a browser.Store, and refuses one that
// is not; Config reports the resolved settings.
func TestNewStore(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	_, err := browser.New(nil, browser.Config{})
	assert.ErrorIs(t, err, twofa.ErrConfig)

	b, err := browser.New(env.TwoFA, browser.Config{})
	require.NoError(t, err)
	assert.Equal(t, browser.Config{Store: env.Store, TTL: browser.DefaultTTL, Max: browser.DefaultMax}, b.Config())

	cfg := env.Config
	cfg.Store = onlyTwofaStore{env.Store}
	tf, err := twofa.New(cfg)
	require.NoError(t, err)
	_, err = browser.New(tf, browser.Config{})
	assert.ErrorIs(t, err, twofa.ErrConfig, "the installation's store keeps no browsers")
	b, err = browser.New(tf, browser.Config{Store: env.Store, TTL: time.Hour, Max: 2})
	require.NoError(t, err)
	assert.Equal(t, browser.Config{Store: env.Store, TTL: time.Hour, Max: 2}, b.Config())

	// The browsers live in their own store, and the installation still
	// revokes them.
	env.EnrollTOTP("alice")
	tok, _, err := b.Trust(t.Context(), "alice", "x")
	require.NoError(t, err)
	require.NoError(t, tf.PasswordChanged(t.Context(), "alice"))
	_, err = b.Check(t.Context(), "alice", tok)
	assert.ErrorIs(t, err, browser.ErrRevoked)
}
