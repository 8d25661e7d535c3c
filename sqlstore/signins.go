package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/signin"
)

var _ signin.Store = (*Store)(nil)

// lockSignIns is the advisory lock class (PostgreSQL) of an account's
// pending sign-ins: CreateSignIn, which reads and changes several rows of
// one account, takes it, so that concurrent ones keep to the limit.
const lockSignIns = "signins"

// signinCols are the columns of a pending sign-in, in the order
// scanSignIn reads them and CreateSignIn writes them.
const signinCols = `account, id, digest, created_at, expires_at, label, ip, attempts, mac`

// signinQueries are the statements on the signins table.
type signinQueries struct {
	signinDeleteExpiredOf string // $1 account, $2 now
	signinDuplicate       string // $1 account, $2 id, $3 digest
	signinCount           string // $1 account
	signinOldest          string // $1 account, $2 how many
	signinDeleteSeq       string // $1 seq
	signinInsert          string
	signinByDigest        string // $1 digest
	signinList            string // $1 account
	signinCharge          string // $1 account, $2 id, $3 limit, $4 mac, $5 next
	signinAttempts        string // $1 account, $2 id
	signinRefund          string // $1 account, $2 id, $3 mac, $4 next
	signinExists          string // $1 account, $2 id
	signinDelete          string // $1 account, $2 id
	signinDeleteAll       string // $1 account
	signinDeleteExpired   string // $1 now
}

func buildSignInQueries(sql func(string) string) signinQueries {
	return signinQueries{
		signinDeleteExpiredOf: sql(`DELETE FROM {{prefix}}signins WHERE account = $1 AND expires_at <= $2`),
		signinDuplicate: sql(`SELECT 1 FROM {{prefix}}signins WHERE account = $1 AND id = $2
			UNION ALL SELECT 1 FROM {{prefix}}signins WHERE digest = $3`),
		signinCount:     sql(`SELECT COUNT(*) FROM {{prefix}}signins WHERE account = $1`),
		signinOldest:    sql(`SELECT seq, id FROM {{prefix}}signins WHERE account = $1 ORDER BY created_at, seq LIMIT $2`),
		signinDeleteSeq: sql(`DELETE FROM {{prefix}}signins WHERE seq = $1`),
		signinInsert: sql(`INSERT INTO {{prefix}}signins (` + signinCols + `)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`),
		signinByDigest: sql(`SELECT ` + signinCols + ` FROM {{prefix}}signins WHERE digest = $1`),
		signinList: sql(`SELECT ` + signinCols + ` FROM {{prefix}}signins WHERE account = $1
			ORDER BY created_at, seq`),
		signinCharge: sql(`UPDATE {{prefix}}signins SET attempts = attempts + 1, mac = $5
			WHERE account = $1 AND id = $2 AND attempts < $3 AND mac = $4
			RETURNING attempts`),
		signinAttempts: sql(`SELECT attempts FROM {{prefix}}signins WHERE account = $1 AND id = $2`),
		signinRefund: sql(`UPDATE {{prefix}}signins SET attempts = attempts - 1, mac = $4
			WHERE account = $1 AND id = $2 AND attempts > 0 AND mac = $3`),
		signinExists:        sql(`SELECT 1 FROM {{prefix}}signins WHERE account = $1 AND id = $2`),
		signinDelete:        sql(`DELETE FROM {{prefix}}signins WHERE account = $1 AND id = $2`),
		signinDeleteAll:     sql(`DELETE FROM {{prefix}}signins WHERE account = $1`),
		signinDeleteExpired: sql(`DELETE FROM {{prefix}}signins WHERE expires_at <= $1`),
	}
}

// CreateSignIn implements signin.Store in one transaction (BEGIN
// IMMEDIATE in SQLite, a per-account advisory lock in PostgreSQL): it
// deletes the account's expired records, checks for a duplicate ID or
// digest, deletes the oldest records down to limit-1, and inserts r.
// Unique indexes on (account, id) and on digest back the check (a
// concurrent insert of one digest by another account, which takes
// another lock, fails on the index: twofa.ErrDuplicate too). A refused
// insert rolls back, deletions included.
func (s *Store) CreateSignIn(ctx context.Context, r signin.Record, limit int, now time.Time) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrap("create sign-in", err)
	}
	if limit < 1 {
		return nil, fmt.Errorf("sqlstore: create sign-in: limit %d: %w", limit, twofa.ErrLimitReached)
	}
	times, err := nanosOf(r.CreatedAt, r.ExpiresAt)
	if err != nil {
		return nil, wrap("create sign-in", err)
	}
	var evicted []string
	err = s.inTx(ctx, lockSignIns, r.Account, func(q querier) error {
		evicted = nil
		if _, err := q.ExecContext(ctx, s.q.signinDeleteExpiredOf, r.Account, bound(now)); err != nil {
			return err
		}
		var one int
		err := q.QueryRowContext(ctx, s.q.signinDuplicate, r.Account, r.ID, blob(r.Digest)).Scan(&one)
		if err == nil {
			return fmt.Errorf("%w: a sign-in with this ID or digest exists", twofa.ErrDuplicate)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var n int
		if err := q.QueryRowContext(ctx, s.q.signinCount, r.Account).Scan(&n); err != nil {
			return err
		}
		if k := n - limit + 1; k > 0 {
			if evicted, err = s.evictSignIns(ctx, q, r.Account, k); err != nil {
				return err
			}
		}
		_, err = q.ExecContext(ctx, s.q.signinInsert,
			r.Account, r.ID, blob(r.Digest), times[0], times[1], r.Label, r.IP, int64(r.Attempts), blob(r.MAC))
		return err
	})
	if err != nil {
		return nil, wrap("create sign-in", err)
	}
	return evicted, nil
}

// evictSignIns deletes the k oldest sign-ins of the account and returns
// their IDs in that order. A record that a concurrent DeleteSignIn (which
// takes no lock) removed in between is not reported.
func (s *Store) evictSignIns(ctx context.Context, q querier, account string, k int) ([]string, error) {
	rows, err := q.QueryContext(ctx, s.q.signinOldest, account, k)
	if err != nil {
		return nil, err
	}
	type victim struct {
		seq int64
		id  string
	}
	var vs []victim
	for rows.Next() {
		var v victim
		if err := rows.Scan(&v.seq, &v.id); err != nil {
			rows.Close()
			return nil, err
		}
		vs = append(vs, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var ids []string
	for _, v := range vs {
		res, err := q.ExecContext(ctx, s.q.signinDeleteSeq, v.seq)
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, err
		} else if n > 0 {
			ids = append(ids, v.id)
		}
	}
	return ids, nil
}

func scanSignIn(r scanner) (signin.Record, error) {
	var rec signin.Record
	var created, expires, attempts int64
	if err := r.Scan(&rec.Account, &rec.ID, &rec.Digest, &created, &expires, &rec.Label, &rec.IP, &attempts, &rec.MAC); err != nil {
		return signin.Record{}, err
	}
	rec.CreatedAt = fromNanos(created)
	rec.ExpiresAt = fromNanos(expires)
	rec.Attempts = int(attempts)
	return rec, nil
}

// SignIn implements signin.Store: one lookup in the unique index on the
// digest.
func (s *Store) SignIn(ctx context.Context, digest []byte) (signin.Record, error) {
	var rec signin.Record
	err := s.queryRow(ctx, func(r *sql.Row) (err error) { rec, err = scanSignIn(r); return err },
		s.q.signinByDigest, blob(digest))
	if errors.Is(err, sql.ErrNoRows) {
		return signin.Record{}, fmt.Errorf("sqlstore: sign-in: %w", twofa.ErrNotFound)
	}
	if err != nil {
		return signin.Record{}, wrap("sign-in", err)
	}
	return rec, nil
}

// SignIns implements signin.Store: oldest first, and in insertion order
// among those created at the same time.
func (s *Store) SignIns(ctx context.Context, account string) ([]signin.Record, error) {
	rs, err := queryAll(ctx, s, scanSignIn, s.q.signinList, account)
	if err != nil {
		return nil, wrap("sign-ins", err)
	}
	return rs, nil
}

// ChargeSignIn implements signin.Store with one conditional UPDATE
// (attempts below limit, the MAC unchanged): the row's lock serialises
// concurrent charges, so of N with one mac at most one succeeds.
func (s *Store) ChargeSignIn(ctx context.Context, account, id string, limit int, mac, next []byte) (int, bool, error) {
	var n int
	err := s.execRow(ctx, func(r *sql.Row) error { return r.Scan(&n) }, s.q.signinCharge, account, id, int64(limit), blob(mac), blob(next))
	if err == nil {
		return n, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, wrap("charge sign-in", err)
	}
	err = s.queryRow(ctx, func(r *sql.Row) error { return r.Scan(&n) }, s.q.signinAttempts, account, id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("sqlstore: charge sign-in: %w", twofa.ErrNotFound)
	}
	if err != nil {
		return 0, false, wrap("charge sign-in", err)
	}
	return n, false, nil
}

// RefundSignIn implements signin.Store with one conditional UPDATE
// (attempts above 0, the MAC unchanged). ErrNotFound when the account
// has no such sign-in.
func (s *Store) RefundSignIn(ctx context.Context, account, id string, mac, next []byte) (bool, error) {
	res, err := s.exec(ctx, s.q.signinRefund, account, id, blob(mac), blob(next))
	if err != nil {
		return false, wrap("refund sign-in", err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err == nil, wrap("refund sign-in", err)
	}
	var one int
	err = s.queryRow(ctx, func(r *sql.Row) error { return r.Scan(&one) }, s.q.signinExists, account, id)
	if errors.Is(err, sql.ErrNoRows) {
		err = twofa.ErrNotFound
	}
	return false, wrap("refund sign-in", err)
}

// DeleteSignIn implements signin.Store with one DELETE: of concurrent
// calls for one row exactly one affects it.
func (s *Store) DeleteSignIn(ctx context.Context, account, id string) error {
	res, err := s.exec(ctx, s.q.signinDelete, account, id)
	if err != nil {
		return wrap("delete sign-in", err)
	}
	n, err := res.RowsAffected()
	if err == nil && n == 0 {
		err = twofa.ErrNotFound
	}
	return wrap("delete sign-in", err)
}

// DeleteSignIns implements signin.Store with one DELETE.
func (s *Store) DeleteSignIns(ctx context.Context, account string) (int, error) {
	res, err := s.exec(ctx, s.q.signinDeleteAll, account)
	if err != nil {
		return 0, wrap("delete sign-ins", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrap("delete sign-ins", err)
	}
	return int(n), nil
}

// DeleteExpiredSignIns implements signin.Store with one DELETE, served by
// the index on the expiry.
func (s *Store) DeleteExpiredSignIns(ctx context.Context, now time.Time) (int, error) {
	res, err := s.exec(ctx, s.q.signinDeleteExpired, bound(now))
	if err != nil {
		return 0, wrap("delete expired sign-ins", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrap("delete expired sign-ins", err)
	}
	return int(n), nil
}
