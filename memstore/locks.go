package memstore

import (
	"context"
	"time"
)

// lease is one account's lifecycle lock: who holds it, until when.
type lease struct {
	holder string
	until  time.Time
}

// AcquireLock implements twofa.LockStore.
func (s *Store) AcquireLock(ctx context.Context, account, holder string, now, until time.Time) (bool, error) {
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	if l, ok := s.locks[account]; ok && l.holder != holder && l.until.After(now) {
		return false, nil
	}
	if s.locks == nil {
		s.locks = make(map[string]lease)
	}
	s.locks[account] = lease{holder: holder, until: until}
	return true, nil
}

// ReleaseLock implements twofa.LockStore.
func (s *Store) ReleaseLock(ctx context.Context, account, holder string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if l, ok := s.locks[account]; ok && l.holder == holder {
		delete(s.locks, account)
	}
	return nil
}
