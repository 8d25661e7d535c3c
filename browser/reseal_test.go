package browser_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/twofatest"
)

// rotationRings returns a keyring under key A, the same with key B added
// as primary, and key B alone: the three stages of a rotation.
func rotationRings(t *testing.T) (ringA, ringAB, ringB *keyring.Keyring) {
	t.Helper()
	key := func(b byte) []byte {
		k := make([]byte, keyring.KeySize)
		for i := range k {
			k[i] = b ^ byte(i)
		}
		return k
	}
	digest, a, b := key(0xd0), key(0x0a), key(0x0b)
	var err error
	ringA, err = keyring.New(1, map[keyring.KeyID][]byte{1: a}, digest)
	require.NoError(t, err)
	ringAB, err = keyring.New(2, map[keyring.KeyID][]byte{1: a, 2: b}, digest)
	require.NoError(t, err)
	ringB, err = keyring.New(2, map[keyring.KeyID][]byte{2: b}, digest)
	require.NoError(t, err)
	return ringA, ringAB, ringB
}

// tamperStore is a memstore whose reads report a trusted browser's
// expiry moved (as someone who can write to the database, but holds no
// key, would move it), and that records the MAC updates asked of it and
// can fail them or run a function first (a change landing between
// ResealMACs' read and write).
type tamperStore struct {
	*memstore.Store
	mu       sync.Mutex
	shift    map[string]time.Duration // by browser ID
	noMAC    map[string]bool          // by browser ID: read without a MAC
	updated  []string                 // the IDs UpdateBrowserMAC changed
	onUpdate func(account, id string) error
	afterErr error // BrowsersAfter fails with it
}

func newTamperStore(s *memstore.Store) *tamperStore {
	return &tamperStore{Store: s, shift: map[string]time.Duration{}, noMAC: map[string]bool{}}
}

func (s *tamperStore) tamper(id string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shift[id] = d
}

func (s *tamperStore) apply(b browser.Record) browser.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	b.ExpiresAt = b.ExpiresAt.Add(s.shift[b.ID])
	if s.noMAC[b.ID] {
		b.MAC = nil
	}
	return b
}

func (s *tamperStore) BrowserByDigest(ctx context.Context, account string, digest []byte) (browser.Record, error) {
	b, err := s.Store.BrowserByDigest(ctx, account, digest)
	return s.apply(b), err
}

func (s *tamperStore) BrowsersAfter(ctx context.Context, account, id string, limit int) ([]browser.Record, error) {
	if s.afterErr != nil {
		return nil, s.afterErr
	}
	bs, err := s.Store.BrowsersAfter(ctx, account, id, limit)
	for i := range bs {
		bs[i] = s.apply(bs[i])
	}
	return bs, err
}

func (s *tamperStore) UpdateBrowserMAC(ctx context.Context, account, id string, old, mac []byte) (bool, error) {
	if s.onUpdate != nil {
		if err := s.onUpdate(account, id); err != nil {
			return false, err
		}
	}
	ok, err := s.Store.UpdateBrowserMAC(ctx, account, id, old, mac)
	if ok {
		s.mu.Lock()
		s.updated = append(s.updated, id)
		s.mu.Unlock()
	}
	return ok, err
}

func (s *tamperStore) updatedIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.updated)
}

// rotationEnv returns an Env on a tamperStore under keyring ring.
func rotationEnv(t *testing.T, ring *keyring.Keyring) (*twofatest.Env, *tamperStore) {
	t.Helper()
	env := twofatest.New(t)
	st := newTamperStore(env.Store)
	env.Reconfigure(func(c *twofa.Config) { c.Store, c.Keyring = st, ring })
	return env, st
}

func useKeyring(env *twofatest.Env, ring *keyring.Keyring) {
	env.Reconfigure(func(c *twofa.Config) { c.Keyring = ring })
}

func trustBrowser(t *testing.T, env *twofatest.Env, account, label string) (string, browser.Info) {
	t.Helper()
	tok, info, err := env.Browsers.Trust(t.Context(), account, label)
	require.NoError(t, err)
	return tok, info
}

// TestResealMACsRotation: Reseal re-MACs the live trusted browsers under
// the new primary key, skipping revoked and expired ones, so that a browser
// trusted under key A is still trusted once only key B is left; a second
// run changes nothing.
func TestResealMACsRotation(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ringA, ringAB, ringB := rotationRings(t)
	env, st := rotationEnv(t, ringA)
	env.EnrollTOTP("alice")
	oldTok, oldInfo := trustBrowser(t, env, "alice", "old")
	env.Clock.Advance(20 * 24 * time.Hour)
	tok, info := trustBrowser(t, env, "alice", "Firefox")
	_, gone := trustBrowser(t, env, "alice", "revoked")
	require.NoError(t, env.Browsers.Revoke(ctx, "alice", gone.ID))
	env.Clock.Advance(11 * 24 * time.Hour) // "old" has expired, "Firefox" has not

	useKeyring(env, ringAB)
	n, err := env.TwoFA.Reseal(ctx)
	require.NoError(t, err, "the revoked browser (no MAC) is skipped, not counted")
	assert.Equal(t, 2, n, "alice's device and her live browser")
	assert.Equal(t, []string{info.ID}, st.updatedIDs(), "only the live browser is re-MACed; not %q (expired) nor %q (revoked)", oldInfo.ID, gone.ID)
	n, err = env.TwoFA.Reseal(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "a second run changes nothing")
	n, err = env.Browsers.ResealMACs(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)

	useKeyring(env, ringB)
	got, err := env.Browsers.Check(ctx, "alice", tok)
	require.NoError(t, err, "the browser's MAC is under key B")
	assert.Equal(t, info.ID, got.ID)
	_, err = env.Browsers.Check(ctx, "alice", oldTok)
	assert.ErrorIs(t, err, browser.ErrNotTrusted, "the expired browser stays refused")
}

// TestResealMACsPages: ResealMACs reaches every browser when there are
// more than one page of them.
func TestResealMACsPages(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ringA, ringAB, ringB := rotationRings(t)
	env, st := rotationEnv(t, ringA)
	var toks []string
	accounts := 11 // at 50 browsers each, past one page of 500
	for i := range accounts {
		account := fmt.Sprintf("user%02d", i)
		env.EnrollTOTP(account)
		for j := range browser.DefaultMax {
			tok, _ := trustBrowser(t, env, account, fmt.Sprintf("browser %d", j))
			toks = append(toks, account+" "+tok)
		}
	}
	useKeyring(env, ringAB)
	n, err := env.Browsers.ResealMACs(ctx)
	require.NoError(t, err)
	assert.Equal(t, accounts*browser.DefaultMax, n)
	assert.Len(t, st.updatedIDs(), n)
	useKeyring(env, ringB)
	for _, at := range toks {
		var account, tok string
		_, err := fmt.Sscan(at, &account, &tok)
		require.NoError(t, err)
		_, err = env.Browsers.Check(ctx, account, tok)
		require.NoError(t, err, account)
	}
}

// TestResealMACsWithoutReseal: without Reseal, a browser trusted under key
// A is refused once only key B is left: its MAC no longer verifies.
func TestResealMACsWithoutReseal(t *testing.T) {
	t.Parallel()
	ringA, _, ringB := rotationRings(t)
	env, _ := rotationEnv(t, ringA)
	env.EnrollTOTP("alice")
	tok, _ := trustBrowser(t, env, "alice", "Firefox")
	useKeyring(env, ringB)
	_, err := env.Browsers.Check(t.Context(), "alice", tok)
	assert.ErrorIs(t, err, browser.ErrNotTrusted)
	assert.ErrorIs(t, err, twofa.ErrTampered)
}

// TestResealMACsTampered: a live browser whose MAC does not verify (its
// expiry moved in the store) is counted in ResealMACs' error and left
// alone - still under key A - while the others are re-MACed.
func TestResealMACsTampered(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ringA, ringAB, ringB := rotationRings(t)
	env, st := rotationEnv(t, ringA)
	env.EnrollTOTP("alice")
	env.EnrollTOTP("bob")
	tok, good := trustBrowser(t, env, "alice", "Firefox")
	bobTok, bad := trustBrowser(t, env, "bob", "Chrome")

	useKeyring(env, ringAB)
	st.tamper(bad.ID, 365*24*time.Hour)
	n, err := env.Browsers.ResealMACs(ctx)
	require.ErrorIs(t, err, twofa.ErrTampered)
	assert.Contains(t, err.Error(), "1 live browsers whose MACs do not verify")
	assert.Equal(t, 1, n, "the run goes on: alice's browser")
	assert.Equal(t, []string{good.ID}, st.updatedIDs(), "the tampered browser is not re-MACed")
	n, err = env.TwoFA.Reseal(ctx)
	require.ErrorIs(t, err, twofa.ErrTampered, "Reseal reports it too")
	assert.Equal(t, 2, n, "the two devices; the browsers are done or refused")

	// Its MAC is still the one under key A: with the expiry put back it is
	// trusted while key A is kept, and refused once it is dropped.
	st.tamper(bad.ID, 0)
	_, err = env.Browsers.Check(ctx, "bob", bobTok)
	require.NoError(t, err)
	useKeyring(env, ringB)
	_, err = env.Browsers.Check(ctx, "bob", bobTok)
	assert.ErrorIs(t, err, twofa.ErrTampered)
	_, err = env.Browsers.Check(ctx, "alice", tok)
	assert.NoError(t, err)
}

// TestResealMACsConcurrentChange: a browser revoked or removed between
// ResealMACs' read and its write is skipped, neither counted nor an error;
// a store error stops the run and is returned.
func TestResealMACsConcurrentChange(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ringA, ringAB, _ := rotationRings(t)
	env, st := rotationEnv(t, ringA)
	env.EnrollTOTP("alice")
	_, revoked := trustBrowser(t, env, "alice", "revoked meanwhile")
	_, purged := trustBrowser(t, env, "alice", "removed meanwhile")
	_, kept := trustBrowser(t, env, "alice", "kept")
	useKeyring(env, ringAB)

	st.onUpdate = func(account, id string) error {
		switch id {
		case revoked.ID:
			return st.Store.RevokeBrowser(ctx, account, id, env.Clock.Now())
		case purged.ID:
			return fmt.Errorf("gone: %w", twofa.ErrNotFound)
		}
		return nil
	}
	n, err := env.Browsers.ResealMACs(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, []string{kept.ID}, st.updatedIDs())

	boom := errors.New("boom")
	st.onUpdate = func(string, string) error { return boom }
	n, err = env.Browsers.ResealMACs(ctx)
	assert.ErrorIs(t, err, boom, "a store error from the write stops the run")
	assert.Zero(t, n)
	st.onUpdate = nil
	st.afterErr = boom
	_, err = env.Browsers.ResealMACs(ctx)
	assert.ErrorIs(t, err, boom, "a store error from the read stops the run")
	_, err = env.TwoFA.Reseal(ctx)
	assert.ErrorIs(t, err, boom, "Reseal returns it")
}

// TestResealMACsSkipsUnadopted: a live browser without a MAC - stored
// before MACs, never adopted, refused under any key - is neither re-MACed
// nor counted as tampered, so that Reseal can return 0 and no error in the
// days after the upgrade.
func TestResealMACsSkipsUnadopted(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ringA, ringAB, _ := rotationRings(t)
	env, st := rotationEnv(t, ringA)
	env.EnrollTOTP("alice")
	old, before := trustBrowser(t, env, "alice", "from before the MACs")
	_, after := trustBrowser(t, env, "alice", "Firefox")
	st.mu.Lock()
	st.noMAC[before.ID] = true
	st.mu.Unlock()
	_, err := env.Browsers.Check(ctx, "alice", old)
	require.ErrorIs(t, err, twofa.ErrTampered, "a browser without a MAC is refused")

	useKeyring(env, ringAB)
	n, err := env.Browsers.ResealMACs(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, []string{after.ID}, st.updatedIDs())
}
