package sqlstore

import (
	"context"
	"database/sql"
	"time"
)

// ReplaceRecoveryCodes implements twofa.RecoveryStore: one transaction
// deletes the account's codes and inserts the new digests (BEGIN IMMEDIATE
// in SQLite, a per-account advisory lock in PostgreSQL so that concurrent
// replacements cannot interleave). A duplicate digest is an error matching
// twofa.ErrDuplicate, and leaves the old codes in place.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, account string, digests [][]byte, at time.Time) error {
	err := s.inTx(ctx, lockRecovery, account, func(q querier) error {
		if _, err := q.ExecContext(ctx, s.q.deleteRecovery, account); err != nil {
			return err
		}
		atNS, err := nanos(at)
		if err != nil {
			return err
		}
		for _, d := range digests {
			if _, err := q.ExecContext(ctx, s.q.insertRecovery, account, blob(d), atNS); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("replace recovery codes", err)
}

// ConsumeRecoveryCode implements twofa.RecoveryStore in one transaction
// under the account's recovery lock (as ReplaceRecoveryCodes): a DELETE
// whose row count is the answer (of concurrent calls, one deletes the
// row), then the count of the codes left, which the lock keeps exact.
func (s *Store) ConsumeRecoveryCode(ctx context.Context, account string, digest []byte, at time.Time) (int, bool, error) {
	var (
		left int
		ok   bool
	)
	err := s.inTx(ctx, lockRecovery, account, func(q querier) error {
		res, err := q.ExecContext(ctx, s.q.consumeRecovery, account, blob(digest))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		ok = n == 1
		return q.QueryRowContext(ctx, s.q.countRecovery, account).Scan(&left)
	})
	if err != nil {
		return 0, false, wrap("consume recovery code", err)
	}
	return left, ok, nil
}

// RecoveryCodesLeft implements twofa.RecoveryStore.
func (s *Store) RecoveryCodesLeft(ctx context.Context, account string) (int, error) {
	var n int
	err := s.queryRow(ctx, func(r *sql.Row) error { return r.Scan(&n) }, s.q.countRecovery, account)
	return n, wrap("recovery codes left", err)
}

// DeleteRecoveryCodes implements twofa.RecoveryStore.
func (s *Store) DeleteRecoveryCodes(ctx context.Context, account string) error {
	_, err := s.exec(ctx, s.q.deleteRecovery, account)
	return wrap("delete recovery codes", err)
}
