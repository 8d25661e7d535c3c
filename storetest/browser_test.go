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
	"MACIgnoresOld": {
		catch: "BrowserStore/UpdateBrowserMAC/CompareAndSet",
		want:  "UpdateBrowserMAC with old MAC",
		store: func() browser.Store { return bMACIgnoresOld{memstore.New()} },
	},
	"MACOfRevoked": {
		catch: "BrowserStore/UpdateBrowserMAC/Revoked",
		want:  "UpdateBrowserMAC of a revoked record with its MAC = true",
		store: func() browser.Store { return bMACOfRevoked{memstore.New()} },
	},
	"MACFromNone": {
		catch: "BrowserStore/UpdateBrowserMAC/EmptyOld",
		want:  "UpdateBrowserMAC with an empty old MAC",
		store: func() browser.Store { return bMACFromNone{memstore.New()} },
	},
	"RacyMAC": {
		catch: "BrowserStore/UpdateBrowserMAC/Concurrent",
		want:  "reported true, want exactly 1",
		store: func() browser.Store { return bRacyMAC{memstore.New()} },
	},
	"AfterSkips": {
		catch: "BrowserStore/BrowsersAfter/Order",
		want:  "BrowsersAfter with limit 4: ",
		store: func() browser.Store { return bAfterSkips{memstore.New()} },
	},
	"AfterOutOfOrder": {
		catch: "BrowserStore/BrowsersAfter/Order",
		want:  "does not come after",
		store: func() browser.Store { return bAfterOutOfOrder{memstore.New()} },
	},
	"AfterInclusive": {
		catch: "BrowserStore/BrowsersAfter/Bounds",
		want:  "want strictly after it",
		store: func() browser.Store { return bAfterInclusive{memstore.New()} },
	},
	"AfterPastLimit": {
		catch: "BrowserStore/BrowsersAfter/Limit",
		want:  `BrowsersAfter(prefix, "", 1) = 2 records`,
		store: func() browser.Store { return bAfterPastLimit{memstore.New()} },
	},
	"AfterIgnoresContext": {
		catch: "BrowserStore/BrowsersAfter/Cancelled",
		want:  "wrapping context.Canceled",
		store: func() browser.Store { return bAfterIgnoresContext{memstore.New()} },
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

// browserOf returns the account's record id as stored, if there is one.
func browserOf(ctx context.Context, s *memstore.Store, account, id string) (browser.Record, bool) {
	bs, _ := s.Browsers(ctx, account)
	for _, b := range bs {
		if b.ID == id {
			return b, true
		}
	}
	return browser.Record{}, false
}

// bMACIgnoresOld replaces the MAC whatever old is.
type bMACIgnoresOld struct{ *memstore.Store }

func (s bMACIgnoresOld) UpdateBrowserMAC(ctx context.Context, account, id string, old, mac []byte) (bool, error) {
	if b, ok := browserOf(ctx, s.Store, account, id); ok {
		old = b.MAC
	}
	return s.Store.UpdateBrowserMAC(ctx, account, id, old, mac)
}

// bMACOfRevoked re-MACs revoked records too (it reports that it did).
type bMACOfRevoked struct{ *memstore.Store }

func (s bMACOfRevoked) UpdateBrowserMAC(ctx context.Context, account, id string, old, mac []byte) (bool, error) {
	if b, ok := browserOf(ctx, s.Store, account, id); ok && !b.RevokedAt.IsZero() && len(old) != 0 && slices.Equal(b.MAC, old) {
		return true, nil
	}
	return s.Store.UpdateBrowserMAC(ctx, account, id, old, mac)
}

// bMACFromNone takes an empty old MAC as matching a record without one
// (it reports that it gave one).
type bMACFromNone struct{ *memstore.Store }

func (s bMACFromNone) UpdateBrowserMAC(ctx context.Context, account, id string, old, mac []byte) (bool, error) {
	if b, ok := browserOf(ctx, s.Store, account, id); ok && len(old) == 0 && len(b.MAC) == 0 && b.RevokedAt.IsZero() {
		return true, nil
	}
	return s.Store.UpdateBrowserMAC(ctx, account, id, old, mac)
}

// bRacyMAC checks old, then writes over whatever MAC is there by then.
type bRacyMAC struct{ *memstore.Store }

func (s bRacyMAC) UpdateBrowserMAC(ctx context.Context, account, id string, old, mac []byte) (bool, error) {
	b, ok := browserOf(ctx, s.Store, account, id)
	if !ok || !slices.Equal(b.MAC, old) {
		return s.Store.UpdateBrowserMAC(ctx, account, id, old, mac)
	}
	time.Sleep(time.Millisecond)
	b, _ = browserOf(ctx, s.Store, account, id)
	return s.Store.UpdateBrowserMAC(ctx, account, id, b.MAC, mac)
}

// bAfterSkips loses the last record of every full page.
type bAfterSkips struct{ *memstore.Store }

func (s bAfterSkips) BrowsersAfter(ctx context.Context, account, id string, limit int) ([]browser.Record, error) {
	bs, err := s.Store.BrowsersAfter(ctx, account, id, limit+1)
	if len(bs) == limit+1 {
		bs = slices.Delete(bs, limit-1, limit)
	}
	return bs, err
}

// bAfterOutOfOrder returns each page backwards.
type bAfterOutOfOrder struct{ *memstore.Store }

func (s bAfterOutOfOrder) BrowsersAfter(ctx context.Context, account, id string, limit int) ([]browser.Record, error) {
	bs, err := s.Store.BrowsersAfter(ctx, account, id, limit)
	slices.Reverse(bs)
	return bs, err
}

// bAfterInclusive returns the record at (account, id) itself first.
type bAfterInclusive struct{ *memstore.Store }

func (s bAfterInclusive) BrowsersAfter(ctx context.Context, account, id string, limit int) ([]browser.Record, error) {
	bs, err := s.Store.BrowsersAfter(ctx, account, id, limit)
	if b, ok := browserOf(ctx, s.Store, account, id); ok && err == nil {
		bs = append([]browser.Record{b}, bs...)[:min(len(bs)+1, limit)]
	}
	return bs, err
}

// bAfterPastLimit returns one record more than asked.
type bAfterPastLimit struct{ *memstore.Store }

func (s bAfterPastLimit) BrowsersAfter(ctx context.Context, account, id string, limit int) ([]browser.Record, error) {
	if limit < 1 {
		return s.Store.BrowsersAfter(ctx, account, id, limit)
	}
	return s.Store.BrowsersAfter(ctx, account, id, limit+1)
}

type bAfterIgnoresContext struct{ *memstore.Store }

func (s bAfterIgnoresContext) BrowsersAfter(_ context.Context, account, id string, limit int) ([]browser.Record, error) {
	return s.Store.BrowsersAfter(context.Background(), account, id, limit)
}
