package memstore

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/twofa-go/twofa"
)

var _ twofa.AppPasswordStore = (*Store)(nil)

type appEntry struct {
	p   twofa.AppPassword
	seq uint64
}

func cloneApp(p twofa.AppPassword) twofa.AppPassword {
	p.Digest = bytes.Clone(p.Digest)
	return p
}

// InsertAppPassword adds p, as [twofa.AppPasswordStore] describes.
func (s *Store) InsertAppPassword(ctx context.Context, p twofa.AppPassword, limit int) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	a := s.account(p.Account, true)
	defer s.tidy(p.Account)
	if a.appDigest[string(p.Digest)] != nil {
		return fmt.Errorf("memstore: app password digest: %w", twofa.ErrDuplicate)
	}
	for _, e := range a.apps {
		switch {
		case e.p.ID == p.ID:
			return fmt.Errorf("memstore: app password id: %w", twofa.ErrDuplicate)
		case e.p.Label == p.Label:
			return fmt.Errorf("memstore: app password label: %w", twofa.ErrDuplicate)
		}
	}
	if len(a.apps) >= limit {
		return fmt.Errorf("memstore: app passwords: %w", twofa.ErrLimitReached)
	}
	s.seq++
	e := &appEntry{p: cloneApp(p), seq: s.seq}
	a.apps = append(a.apps, e)
	if a.appDigest == nil {
		a.appDigest = make(map[string]*appEntry)
	}
	a.appDigest[string(p.Digest)] = e
	return nil
}

// AppPasswordByDigest returns the account's app password with this digest:
// one map lookup.
func (s *Store) AppPasswordByDigest(ctx context.Context, account string, digest []byte) (twofa.AppPassword, error) {
	if err := s.begin(ctx); err != nil {
		return twofa.AppPassword{}, err
	}
	defer s.mu.Unlock()
	if a := s.accounts[account]; a != nil {
		if e := a.appDigest[string(digest)]; e != nil {
			return cloneApp(e.p), nil
		}
	}
	return twofa.AppPassword{}, fmt.Errorf("memstore: app password: %w", twofa.ErrNotFound)
}

// HasAppPasswords reports whether the account has an app password.
func (s *Store) HasAppPasswords(ctx context.Context, account string) (bool, error) {
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	a := s.accounts[account]
	return a != nil && len(a.apps) > 0, nil
}

// AppPasswords returns the account's app passwords, oldest first.
func (s *Store) AppPasswords(ctx context.Context, account string) ([]twofa.AppPassword, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	a := s.accounts[account]
	if a == nil {
		return nil, nil
	}
	es := slices.Clone(a.apps)
	slices.SortFunc(es, func(x, y *appEntry) int {
		if c := x.p.CreatedAt.Compare(y.p.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(x.seq, y.seq)
	})
	out := make([]twofa.AppPassword, len(es))
	for i, e := range es {
		out[i] = cloneApp(e.p)
	}
	return out, nil
}

// TouchAppPassword moves LastUsedAt forward to at.
func (s *Store) TouchAppPassword(ctx context.Context, account, id string, at time.Time) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	i := s.appIndex(account, id)
	if i < 0 {
		return fmt.Errorf("memstore: app password %q: %w", id, twofa.ErrNotFound)
	}
	e := s.accounts[account].apps[i]
	if e.p.LastUsedAt.Before(at) {
		e.p.LastUsedAt = at
	}
	return nil
}

// DeleteAppPassword removes one app password.
func (s *Store) DeleteAppPassword(ctx context.Context, account, id string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	i := s.appIndex(account, id)
	if i < 0 {
		return fmt.Errorf("memstore: app password %q: %w", id, twofa.ErrNotFound)
	}
	a := s.accounts[account]
	delete(a.appDigest, string(a.apps[i].p.Digest))
	a.apps = slices.Delete(a.apps, i, i+1)
	s.tidy(account)
	return nil
}

// DeleteAppPasswords removes every app password of the account.
func (s *Store) DeleteAppPasswords(ctx context.Context, account string) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	a := s.accounts[account]
	if a == nil {
		return 0, nil
	}
	n := len(a.apps)
	a.apps, a.appDigest = nil, nil
	s.tidy(account)
	return n, nil
}

// appIndex returns the index of the account's app password id, or -1.
// s.mu must be held.
func (s *Store) appIndex(account, id string) int {
	if a := s.accounts[account]; a != nil {
		for i, e := range a.apps {
			if e.p.ID == id {
				return i
			}
		}
	}
	return -1
}
