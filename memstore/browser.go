package memstore

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
)

var _ browser.Store = (*Store)(nil)

type browserEntry struct {
	b   browser.Record
	seq uint64
}

func cloneBrowser(b browser.Record) browser.Record {
	b.Digest = bytes.Clone(b.Digest)
	b.MAC = bytes.Clone(b.MAC)
	return b
}

// browserLive reports whether b is neither revoked nor expired at now.
func browserLive(b *browser.Record, now time.Time) bool {
	return b.RevokedAt.IsZero() && b.ExpiresAt.After(now)
}

// InsertBrowser adds b, as [browser.Store] describes: expired records
// of the account go, the least recently used live ones are revoked down to
// limit-1, and b is stored - or, when it is refused, nothing changes.
func (s *Store) InsertBrowser(ctx context.Context, b browser.Record, limit int, now time.Time) ([]string, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if limit < 1 {
		return nil, fmt.Errorf("memstore: browser limit %d: %w", limit, twofa.ErrLimitReached)
	}
	a := s.account(b.Account, true)
	defer s.tidy(b.Account)

	kept := make([]*browserEntry, 0, len(a.browsers)+1)
	var live []*browserEntry
	for _, e := range a.browsers {
		if !e.b.ExpiresAt.After(now) {
			continue // deleted below, once the insert is sure
		}
		switch {
		case e.b.ID == b.ID:
			return nil, fmt.Errorf("memstore: browser id: %w", twofa.ErrDuplicate)
		case bytes.Equal(e.b.Digest, b.Digest):
			return nil, fmt.Errorf("memstore: browser digest: %w", twofa.ErrDuplicate)
		}
		kept = append(kept, e)
		if e.b.RevokedAt.IsZero() {
			live = append(live, e)
		}
	}
	var evicted []string
	if n := len(live) - limit + 1; n > 0 {
		slices.SortFunc(live, func(x, y *browserEntry) int {
			if c := x.b.LastUsedAt.Compare(y.b.LastUsedAt); c != 0 {
				return c
			}
			return cmp.Compare(x.seq, y.seq)
		})
		for _, e := range live[:n] {
			e.b.RevokedAt, e.b.MAC = now, nil
			evicted = append(evicted, e.b.ID)
		}
	}
	s.seq++
	ne := &browserEntry{b: cloneBrowser(b), seq: s.seq}
	a.browsers = append(kept, ne)
	a.browserDigest = make(map[string]*browserEntry, len(a.browsers))
	for _, e := range a.browsers {
		a.browserDigest[string(e.b.Digest)] = e
	}
	return evicted, nil
}

// BrowserByDigest returns the account's record with this digest: one map
// lookup.
func (s *Store) BrowserByDigest(ctx context.Context, account string, digest []byte) (browser.Record, error) {
	if err := s.begin(ctx); err != nil {
		return browser.Record{}, err
	}
	defer s.mu.Unlock()
	if a := s.accounts[account]; a != nil {
		if e := a.browserDigest[string(digest)]; e != nil {
			return cloneBrowser(e.b), nil
		}
	}
	return browser.Record{}, errNoBrowser
}

// Browsers returns every record of the account, oldest first.
func (s *Store) Browsers(ctx context.Context, account string) ([]browser.Record, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	a := s.accounts[account]
	if a == nil {
		return nil, nil
	}
	es := slices.Clone(a.browsers)
	slices.SortFunc(es, func(x, y *browserEntry) int {
		if c := x.b.CreatedAt.Compare(y.b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(x.seq, y.seq)
	})
	out := make([]browser.Record, len(es))
	for i, e := range es {
		out[i] = cloneBrowser(e.b)
	}
	return out, nil
}

// browser returns the account's record id, or an error wrapping
// ErrNotFound. s.mu must be held.
func (s *Store) browser(account, id string) (*browserEntry, error) {
	if a := s.accounts[account]; a != nil {
		for _, e := range a.browsers {
			if e.b.ID == id {
				return e, nil
			}
		}
	}
	return nil, fmt.Errorf("memstore: browser %q: %w", id, twofa.ErrNotFound)
}

// TouchBrowser moves LastUsedAt forward to at.
func (s *Store) TouchBrowser(ctx context.Context, account, id string, at time.Time) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	e, err := s.browser(account, id)
	if err != nil {
		return err
	}
	if e.b.LastUsedAt.Before(at) {
		e.b.LastUsedAt = at
	}
	return nil
}

// RevokeBrowser sets RevokedAt of a record not revoked yet.
func (s *Store) RevokeBrowser(ctx context.Context, account, id string, at time.Time) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	e, err := s.browser(account, id)
	if err != nil {
		return err
	}
	if !e.b.RevokedAt.IsZero() {
		return fmt.Errorf("memstore: browser %q revoked already: %w", id, twofa.ErrNotFound)
	}
	e.b.RevokedAt, e.b.MAC = at, nil
	return nil
}

// RevokeBrowsers revokes every record of the account live at at.
func (s *Store) RevokeBrowsers(ctx context.Context, account string, at time.Time) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	a := s.accounts[account]
	if a == nil {
		return 0, nil
	}
	n := 0
	for _, e := range a.browsers {
		if browserLive(&e.b, at) {
			e.b.RevokedAt, e.b.MAC = at, nil
			n++
		}
	}
	return n, nil
}

// DeleteExpiredBrowsers removes every record, across accounts, whose
// ExpiresAt is at or before now.
func (s *Store) DeleteExpiredBrowsers(ctx context.Context, now time.Time) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	n := 0
	for name, a := range s.accounts {
		kept := a.browsers[:0]
		for _, e := range a.browsers {
			if e.b.ExpiresAt.After(now) {
				kept = append(kept, e)
				continue
			}
			delete(a.browserDigest, string(e.b.Digest))
			n++
		}
		clear(a.browsers[len(kept):])
		a.browsers = kept
		if len(a.browsers) == 0 {
			a.browsers, a.browserDigest = nil, nil
		}
		s.tidy(name)
	}
	return n, nil
}

// BrowsersAfter pages through every record of every account, revoked and
// expired ones included, in byte order of (account, id), as
// [browser.Store] describes: one step under the store's lock.
func (s *Store) BrowsersAfter(ctx context.Context, afterAccount, afterID string, limit int) ([]browser.Record, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if limit < 1 {
		return nil, fmt.Errorf("memstore: browsers after: limit %d is below 1", limit)
	}
	return pageAfter(s, afterAccount, afterID, limit, func(a *account, add func(string, func() browser.Record)) {
		for _, e := range a.browsers {
			add(e.b.ID, func() browser.Record { return cloneBrowser(e.b) })
		}
	}), nil
}

// UpdateBrowserMAC replaces the MAC of a record that is not revoked if it
// equals old, which must not be empty: one compare-and-set under the
// store's lock. ErrNotFound when the record does not exist.
func (s *Store) UpdateBrowserMAC(ctx context.Context, account, id string, old, mac []byte) (bool, error) {
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	e, err := s.browser(account, id)
	if err != nil {
		return false, err
	}
	if len(old) == 0 || !e.b.RevokedAt.IsZero() || !bytes.Equal(e.b.MAC, old) {
		return false, nil
	}
	e.b.MAC = bytes.Clone(mac)
	return true, nil
}

// errNoBrowser is BrowserByDigest's miss, made once: a lookup of a token
// never issued should cost what one of a known token does, not the
// formatting of an error.
var errNoBrowser = fmt.Errorf("memstore: browser: %w", twofa.ErrNotFound)
