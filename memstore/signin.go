package memstore

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/signin"
)

var _ signin.Store = (*Store)(nil)

type signinEntry struct {
	r   signin.Record
	seq uint64
}

func cloneSignIn(r signin.Record) signin.Record {
	r.Digest = bytes.Clone(r.Digest)
	r.MAC = bytes.Clone(r.MAC)
	return r
}

// CreateSignIn adds r, as [signin.Store] describes: expired records of
// the account go, the oldest are dropped down to limit-1, and r is stored
// - or, when it is refused, nothing changes.
func (s *Store) CreateSignIn(ctx context.Context, r signin.Record, limit int, now time.Time) ([]string, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if limit < 1 {
		return nil, fmt.Errorf("memstore: sign-in limit %d: %w", limit, twofa.ErrLimitReached)
	}
	if e := s.signins[string(r.Digest)]; e != nil && (e.r.Account != r.Account || e.r.ExpiresAt.After(now)) {
		return nil, fmt.Errorf("memstore: sign-in digest: %w", twofa.ErrDuplicate)
	}
	a := s.account(r.Account, true)
	defer s.tidy(r.Account)
	kept := make([]*signinEntry, 0, len(a.signins)+1)
	var gone []*signinEntry
	for _, e := range a.signins {
		if !e.r.ExpiresAt.After(now) {
			gone = append(gone, e) // deleted below, once the insert is sure
			continue
		}
		if e.r.ID == r.ID {
			return nil, fmt.Errorf("memstore: sign-in id: %w", twofa.ErrDuplicate)
		}
		kept = append(kept, e)
	}
	var evicted []string
	if n := len(kept) - limit + 1; n > 0 {
		// kept is in insertion order; the oldest by CreatedAt go.
		byAge := slices.Clone(kept)
		slices.SortStableFunc(byAge, func(x, y *signinEntry) int {
			if c := x.r.CreatedAt.Compare(y.r.CreatedAt); c != 0 {
				return c
			}
			return cmp.Compare(x.seq, y.seq)
		})
		for _, e := range byAge[:n] {
			evicted = append(evicted, e.r.ID)
			gone = append(gone, e)
		}
		kept = slices.DeleteFunc(kept, func(e *signinEntry) bool { return slices.Contains(byAge[:n], e) })
	}
	for _, e := range gone {
		delete(s.signins, string(e.r.Digest))
	}
	s.seq++
	ne := &signinEntry{r: cloneSignIn(r), seq: s.seq}
	a.signins = append(kept, ne)
	if s.signins == nil {
		s.signins = make(map[string]*signinEntry)
	}
	s.signins[string(r.Digest)] = ne
	return evicted, nil
}

// SignIn returns the record with this digest: one map lookup.
func (s *Store) SignIn(ctx context.Context, digest []byte) (signin.Record, error) {
	if err := s.begin(ctx); err != nil {
		return signin.Record{}, err
	}
	defer s.mu.Unlock()
	if e := s.signins[string(digest)]; e != nil {
		return cloneSignIn(e.r), nil
	}
	return signin.Record{}, errNoSignIn
}

// SignIns returns every record of the account, oldest first.
func (s *Store) SignIns(ctx context.Context, account string) ([]signin.Record, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	a := s.accounts[account]
	if a == nil || len(a.signins) == 0 {
		return nil, nil
	}
	es := slices.Clone(a.signins)
	slices.SortFunc(es, func(x, y *signinEntry) int {
		if c := x.r.CreatedAt.Compare(y.r.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(x.seq, y.seq)
	})
	out := make([]signin.Record, len(es))
	for i, e := range es {
		out[i] = cloneSignIn(e.r)
	}
	return out, nil
}

// signIn returns the account's record id, or an error wrapping
// ErrNotFound. s.mu must be held.
func (s *Store) signIn(account, id string) (int, *signinEntry, error) {
	if a := s.accounts[account]; a != nil {
		for i, e := range a.signins {
			if e.r.ID == id {
				return i, e, nil
			}
		}
	}
	return 0, nil, fmt.Errorf("memstore: sign-in %q: %w", id, twofa.ErrNotFound)
}

// ChargeSignIn counts an attempt if Attempts is below limit and the MAC
// is mac.
func (s *Store) ChargeSignIn(ctx context.Context, account, id string, limit int, mac, next []byte) (int, bool, error) {
	if err := s.begin(ctx); err != nil {
		return 0, false, err
	}
	defer s.mu.Unlock()
	_, e, err := s.signIn(account, id)
	if err != nil {
		return 0, false, err
	}
	if e.r.Attempts >= limit || !bytes.Equal(e.r.MAC, mac) {
		return e.r.Attempts, false, nil
	}
	e.r.Attempts++
	e.r.MAC = bytes.Clone(next)
	return e.r.Attempts, true, nil
}

// RefundSignIn gives back one attempt if the MAC is mac.
func (s *Store) RefundSignIn(ctx context.Context, account, id string, mac, next []byte) (bool, error) {
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	_, e, err := s.signIn(account, id)
	if err != nil {
		return false, err
	}
	if e.r.Attempts <= 0 || !bytes.Equal(e.r.MAC, mac) {
		return false, nil
	}
	e.r.Attempts--
	e.r.MAC = bytes.Clone(next)
	return true, nil
}

// DeleteSignIn removes one record.
func (s *Store) DeleteSignIn(ctx context.Context, account, id string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	i, e, err := s.signIn(account, id)
	if err != nil {
		return err
	}
	a := s.accounts[account]
	a.signins = slices.Delete(a.signins, i, i+1)
	delete(s.signins, string(e.r.Digest))
	s.tidy(account)
	return nil
}

// DeleteSignIns removes every record of the account.
func (s *Store) DeleteSignIns(ctx context.Context, account string) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	a := s.accounts[account]
	if a == nil {
		return 0, nil
	}
	n := len(a.signins)
	for _, e := range a.signins {
		delete(s.signins, string(e.r.Digest))
	}
	a.signins = nil
	s.tidy(account)
	return n, nil
}

// DeleteExpiredSignIns removes every record, across accounts, whose
// ExpiresAt is at or before now.
func (s *Store) DeleteExpiredSignIns(ctx context.Context, now time.Time) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	n := 0
	for name, a := range s.accounts {
		if len(a.signins) == 0 {
			continue
		}
		kept := a.signins[:0]
		for _, e := range a.signins {
			if e.r.ExpiresAt.After(now) {
				kept = append(kept, e)
				continue
			}
			delete(s.signins, string(e.r.Digest))
			n++
		}
		clear(a.signins[len(kept):])
		a.signins = kept
		if len(a.signins) == 0 {
			a.signins = nil
		}
		s.tidy(name)
	}
	return n, nil
}

// errNoSignIn is SignIn's miss, made once, as errNoBrowser is.
var errNoSignIn = fmt.Errorf("memstore: sign-in: %w", twofa.ErrNotFound)
