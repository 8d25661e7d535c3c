package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// AcquireLock implements twofa.LockStore in one statement: an upsert that
// takes the account's lease when it is free, already the holder's, or
// ended at or before now.
func (s *Store) AcquireLock(ctx context.Context, account, holder string, now, until time.Time) (bool, error) {
	nowNS, err := nanos(now)
	if err != nil {
		return false, wrap("acquire lock", err)
	}
	untilNS, err := nanos(until)
	if err != nil {
		return false, wrap("acquire lock", err)
	}
	var got string
	err = s.execRow(ctx, func(r *sql.Row) error { return r.Scan(&got) }, s.q.acquireLock, account, holder, nowNS, untilNS)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, wrap("acquire lock", err)
	}
	return true, nil
}

// ReleaseLock implements twofa.LockStore.
func (s *Store) ReleaseLock(ctx context.Context, account, holder string) error {
	_, err := s.exec(ctx, s.q.releaseLock, account, holder)
	return wrap("release lock", err)
}
