package storetest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/storetest"
)

func TestRunBrowsersMemstore(t *testing.T) {
	storetest.RunBrowsers(t, func(t *testing.T) browser.Store { return memstore.New() })
}

func TestNewBrowser(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	a, b := storetest.NewBrowser("alice", now), storetest.NewBrowser("alice", now)
	if a.ID == b.ID || string(a.Digest) == string(b.Digest) {
		t.Error("two NewBrowser calls share an ID or digest")
	}
	if a.Account != "alice" || !a.CreatedAt.Equal(now) || !a.LastUsedAt.Equal(now) || !a.ExpiresAt.After(now) || !a.RevokedAt.IsZero() {
		t.Errorf("NewBrowser = %+v, want a live browser of alice created at now", a)
	}
}

// Browser mutants: a store with one planted bug, and the subtest of
// RunBrowsers that must catch it (see TestMutants).
var browserMutants = map[string]mutant2{
	"NilStore": {
		catch: "BrowserStore/Browsers/Unknown",
		want:  "newStore returned a nil BrowserStore",
		store: func() browser.Store { return (*memstore.Store)(nil) },
	},
	"LimitOffByOne": {
		catch: "BrowserStore/InsertBrowser/Limit",
		want:  "InsertBrowser #4 with limit 3",
		store: func() browser.Store { return bLimitOffByOne{memstore.New()} },
	},
	"ExpiryOffByOne": {
		catch: "BrowserStore/InsertBrowser/Expired",
		want:  "expired browsers do not count",
		store: func() browser.Store { return bExpiryOffByOne{memstore.New()} },
	},
	"RevokesTwice": {
		catch: "BrowserStore/RevokeBrowser/Revokes",
		want:  "RevokeBrowser of a revoked browser",
		store: func() browser.Store { return bRevokesTwice{memstore.New()} },
	},
	"RevokeAllExpired": {
		catch: "BrowserStore/RevokeBrowsers/Revokes",
		want:  "RevokedAt =",
		store: func() browser.Store { return bRevokeAllExpired{memstore.New()} },
	},
	"DeleteExpiredOffByOne": {
		catch: "BrowserStore/DeleteExpiredBrowsers/Deletes",
		want:  "DeleteExpiredBrowsers = 2",
		store: func() browser.Store { return bDeleteOffByOne{memstore.New()} },
	},
	"RacyRevoke": {
		catch: "BrowserStore/RevokeBrowser/Concurrent",
		want:  "concurrent RevokeBrowser calls of one browser: ",
		store: func() browser.Store { return bRacyRevoke{memstore.New()} },
	},
	"TiesByID": {
		catch: "BrowserStore/Browsers/Order",
		want:  "ties in insertion order",
		store: func() browser.Store { return bTiesByID{memstore.New()} },
	},
	"AliasedDigest": {
		catch: "BrowserStore/BrowserByDigest/NoAliasing",
		want:  "Digest =",
		store: func() browser.Store { return &bAliased{Store: memstore.New(), cache: map[string][]byte{}} },
	},
	"IgnoresContext": {
		catch: "BrowserStore/TouchBrowser/Cancelled",
		want:  "wrapping context.Canceled",
		store: func() browser.Store { return bIgnoresContext{memstore.New()} },
	},
	"RevokesThenCancels": {
		catch: "BrowserStore/RevokeBrowsers/Cancelled",
		want:  "RevokeBrowsers with a cancelled context, result 1: 1, want 0",
		store: func() browser.Store { return bRevokesThenCancels{memstore.New()} },
	},
	"UnwrappedNotFound": {
		catch: "BrowserStore/TouchBrowser/NotFound",
		want:  "want an error wrapping twofa: not found",
		store: func() browser.Store { return bUnwrapped{memstore.New()} },
	},
	"EvictsTombstones": {
		catch: "BrowserStore/InsertBrowser/TombstonesDoNotCount",
		want:  "want nothing evicted",
		store: func() browser.Store { return bCountsTombstones{memstore.New()} },
	},
}

type mutant2 struct {
	catch, want string
	store       func() browser.Store
}

// TestBrowserMutant runs RunBrowsers against the mutant named by
// $STORETEST_BROWSER_MUTANT; TestBrowserMutants starts it in a subprocess,
// where it must fail.
func TestBrowserMutant(t *testing.T) {
	name := os.Getenv("STORETEST_BROWSER_MUTANT")
	if name == "" {
		t.Skip("run by TestBrowserMutants")
	}
	m := browserMutants[name]
	storetest.RunBrowsers(t, func(t *testing.T) browser.Store { return m.store() })
}

func TestBrowserMutants(t *testing.T) {
	runMutants(t, "STORETEST_BROWSER_MUTANT", "TestBrowserMutant", browserMutants,
		func(m mutant2) (string, string) { return m.catch, m.want }, "NilStore")
}

type bLimitOffByOne struct{ *memstore.Store }

func (s bLimitOffByOne) InsertBrowser(ctx context.Context, b browser.Record, limit int, now time.Time) ([]string, error) {
	return s.Store.InsertBrowser(ctx, b, limit+1, now)
}

// bExpiryOffByOne treats a record expiring exactly now as live.
type bExpiryOffByOne struct{ *memstore.Store }

func (s bExpiryOffByOne) InsertBrowser(ctx context.Context, b browser.Record, limit int, now time.Time) ([]string, error) {
	return s.Store.InsertBrowser(ctx, b, limit, now.Add(-1))
}

// bRevokesTwice revokes a revoked record again, moving RevokedAt.
type bRevokesTwice struct{ *memstore.Store }

func (s bRevokesTwice) RevokeBrowser(ctx context.Context, account, id string, at time.Time) error {
	err := s.Store.RevokeBrowser(ctx, account, id, at)
	if errors.Is(err, twofa.ErrNotFound) {
		bs, _ := s.Browsers(ctx, account)
		for _, b := range bs {
			if b.ID == id {
				return nil
			}
		}
	}
	return err
}

// bRevokeAllExpired also revokes records that expire exactly at at.
type bRevokeAllExpired struct{ *memstore.Store }

func (s bRevokeAllExpired) RevokeBrowsers(ctx context.Context, account string, at time.Time) (int, error) {
	n, err := s.Store.RevokeBrowsers(ctx, account, at.Add(-1))
	return n, err
}

type bDeleteOffByOne struct{ *memstore.Store }

func (s bDeleteOffByOne) DeleteExpiredBrowsers(ctx context.Context, now time.Time) (int, error) {
	return s.Store.DeleteExpiredBrowsers(ctx, now.Add(-1))
}

// bRacyRevoke checks, then acts.
type bRacyRevoke struct{ *memstore.Store }

func (s bRacyRevoke) RevokeBrowser(ctx context.Context, account, id string, at time.Time) error {
	bs, err := s.Browsers(ctx, account)
	if err != nil {
		return err
	}
	for _, b := range bs {
		if b.ID == id && b.RevokedAt.IsZero() {
			time.Sleep(time.Millisecond)
			_ = s.Store.RevokeBrowser(ctx, account, id, at)
			return nil
		}
	}
	return fmt.Errorf("%w", twofa.ErrNotFound)
}

type bTiesByID struct{ *memstore.Store }

func (s bTiesByID) Browsers(ctx context.Context, account string) ([]browser.Record, error) {
	bs, err := s.Store.Browsers(ctx, account)
	slices.SortStableFunc(bs, func(a, b browser.Record) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return bs, err
}

type bAliased struct {
	*memstore.Store
	mu    sync.Mutex
	cache map[string][]byte
}

func (s *bAliased) BrowserByDigest(ctx context.Context, account string, digest []byte) (browser.Record, error) {
	b, err := s.Store.BrowserByDigest(ctx, account, digest)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.cache[account+"/"+b.ID]; ok {
		b.Digest = c
	} else {
		s.cache[account+"/"+b.ID] = b.Digest
	}
	return b, err
}

type bIgnoresContext struct{ *memstore.Store }

func (s bIgnoresContext) TouchBrowser(_ context.Context, account, id string, at time.Time) error {
	return s.Store.TouchBrowser(context.Background(), account, id, at)
}

type bUnwrapped struct{ *memstore.Store }

func (s bUnwrapped) TouchBrowser(ctx context.Context, account, id string, at time.Time) error {
	if err := s.Store.TouchBrowser(ctx, account, id, at); err != nil {
		return fmt.Errorf("touch: %v", err)
	}
	return nil
}

// bCountsTombstones counts revoked records against the limit: it lowers
// the limit by the number of tombstones.
type bCountsTombstones struct{ *memstore.Store }

func (s bCountsTombstones) InsertBrowser(ctx context.Context, b browser.Record, limit int, now time.Time) ([]string, error) {
	bs, err := s.Browsers(ctx, b.Account)
	if err != nil {
		return nil, err
	}
	for _, x := range bs {
		if !x.RevokedAt.IsZero() {
			limit--
		}
	}
	return s.Store.InsertBrowser(ctx, b, max(limit, 1), now)
}

// bRevokesThenCancels revokes, then reports the cancellation.
type bRevokesThenCancels struct{ *memstore.Store }

func (s bRevokesThenCancels) RevokeBrowsers(ctx context.Context, account string, at time.Time) (int, error) {
	n, _ := s.Store.RevokeBrowsers(context.WithoutCancel(ctx), account, at)
	return n, ctx.Err()
}
