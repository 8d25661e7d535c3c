package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/twofa-go/twofa"
)

// InsertAppPassword implements twofa.AppPasswordStore. The duplicate check
// (same ID, Label or Digest in the account), the count and the insert are
// one transaction: BEGIN IMMEDIATE in SQLite, a per-account advisory lock
// in PostgreSQL. Unique indexes on (account, id), (account, label) and
// (account, digest) back the check. A refused insert changes nothing.
func (s *Store) InsertAppPassword(ctx context.Context, p twofa.AppPassword, limit int) error {
	err := s.inTx(ctx, lockApp, p.Account, func(q querier) error {
		var one int
		err := q.QueryRowContext(ctx, s.q.appDuplicate, p.Account, p.ID, p.Label, blob(p.Digest)).Scan(&one)
		if err == nil {
			return fmt.Errorf("%w: the account has an app password with this ID, label or digest", twofa.ErrDuplicate)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var n int
		if err := q.QueryRowContext(ctx, s.q.appCount, p.Account).Scan(&n); err != nil {
			return err
		}
		if n >= limit {
			return fmt.Errorf("%w: account has %d app passwords, limit %d", twofa.ErrLimitReached, n, limit)
		}
		times, err := nanosOf(p.CreatedAt, p.LastUsedAt)
		if err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, s.q.appInsert, append([]any{p.Account, p.ID, p.Label, blob(p.Digest)}, times...)...)
		return err
	})
	return wrap("insert app password", err)
}

func scanApp(r scanner) (twofa.AppPassword, error) {
	var p twofa.AppPassword
	var created, used int64
	if err := r.Scan(&p.Account, &p.ID, &p.Label, &p.Digest, &created, &used); err != nil {
		return twofa.AppPassword{}, err
	}
	p.CreatedAt = fromNanos(created)
	p.LastUsedAt = fromNanos(used)
	return p, nil
}

// AppPasswordByDigest implements twofa.AppPasswordStore: one lookup in the
// unique index on (account, digest).
func (s *Store) AppPasswordByDigest(ctx context.Context, account string, digest []byte) (twofa.AppPassword, error) {
	var p twofa.AppPassword
	err := s.queryRow(ctx, func(r *sql.Row) (err error) { p, err = scanApp(r); return err },
		s.q.appByDigest, account, blob(digest))
	if errors.Is(err, sql.ErrNoRows) {
		return twofa.AppPassword{}, fmt.Errorf("sqlstore: app password: %w", twofa.ErrNotFound)
	}
	if err != nil {
		return twofa.AppPassword{}, wrap("app password", err)
	}
	return p, nil
}

// AppPasswords implements twofa.AppPasswordStore: oldest first, and in
// insertion order among those created at the same time.
func (s *Store) AppPasswords(ctx context.Context, account string) ([]twofa.AppPassword, error) {
	rs, err := queryAll(ctx, s, scanApp, s.q.appList, account)
	if err != nil {
		return nil, wrap("app passwords", err)
	}
	return rs, nil
}

// HasAppPasswords implements twofa.AppPasswordStore: one EXISTS, which
// stops at the first row of the account in the (account, ...) index.
func (s *Store) HasAppPasswords(ctx context.Context, account string) (bool, error) {
	var has bool
	err := s.queryRow(ctx, func(r *sql.Row) error { return r.Scan(&has) }, s.q.appAny, account)
	if err != nil {
		return false, wrap("has app passwords", err)
	}
	return has, nil
}

// TouchAppPassword implements twofa.AppPasswordStore with one conditional
// UPDATE (LastUsedAt before at), so LastUsedAt never moves back.
// ErrNotFound when the account has no such app password.
func (s *Store) TouchAppPassword(ctx context.Context, account, id string, at time.Time) error {
	atNS, err := nanos(at)
	if err != nil {
		return wrap("touch app password", err)
	}
	res, err := s.exec(ctx, s.q.appTouch, account, id, atNS)
	if err != nil {
		return wrap("touch app password", err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return wrap("touch app password", err)
	}
	var one int
	err = s.queryRow(ctx, func(r *sql.Row) error { return r.Scan(&one) }, s.q.appExists, account, id)
	if errors.Is(err, sql.ErrNoRows) {
		err = twofa.ErrNotFound
	}
	return wrap("touch app password", err)
}

// DeleteAppPassword implements twofa.AppPasswordStore. ErrNotFound when
// the account has no such app password.
func (s *Store) DeleteAppPassword(ctx context.Context, account, id string) error {
	res, err := s.exec(ctx, s.q.appDelete, account, id)
	if err != nil {
		return wrap("delete app password", err)
	}
	n, err := res.RowsAffected()
	if err == nil && n == 0 {
		err = twofa.ErrNotFound
	}
	return wrap("delete app password", err)
}

// DeleteAppPasswords implements twofa.AppPasswordStore with one DELETE.
func (s *Store) DeleteAppPasswords(ctx context.Context, account string) (int, error) {
	res, err := s.exec(ctx, s.q.appDeleteAll, account)
	if err != nil {
		return 0, wrap("delete app passwords", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrap("delete app passwords", err)
	}
	return int(n), nil
}
