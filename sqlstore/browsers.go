package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
)

var _ browser.Store = (*Store)(nil)

// lockBrowsers is the advisory lock class (PostgreSQL) of an account's
// trusted browsers: InsertBrowser and RevokeBrowsers, which change several
// rows of one account, take it, so they neither interleave nor deadlock.
const lockBrowsers = "browsers"

// browserCols are the columns of a trusted browser, in the order
// scanBrowser reads them and InsertBrowser writes them.
const browserCols = `account, id, label, digest, created_at, expires_at, last_used_at, revoked_at, mac`

// browserQueries are the statements on the browsers table. A browser is
// not revoked while revoked_at holds noTime (the zero time.Time), which
// the statements take as a parameter.
type browserQueries struct {
	browserDeleteExpiredOf string // $1 account, $2 now
	browserDuplicate       string // $1 account, $2 id, $3 digest
	browserCountLive       string // $1 account, $2 now, $3 noTime
	browserLRU             string // $1 account, $2 now, $3 noTime, $4 how many
	browserEvict           string // $1 seq, $2 at, $3 noTime, $4 the empty MAC
	browserInsert          string
	browserByDigest        string // $1 account, $2 digest
	browserList            string // $1 account
	browserTouch           string // $1 account, $2 id, $3 at
	browserExists          string // $1 account, $2 id
	browserRevoke          string // $1 account, $2 id, $3 at, $4 noTime, $5 the empty MAC
	browserRevokeAll       string // $1 account, $2 at, $3 noTime, $4 the empty MAC
	browserDeleteExpired   string // $1 now
	browsersAfter          string // $1 account, $2 id, $3 the page size
	browserUpdateMAC       string // $1 account, $2 id, $3 the old MAC, $4 the new one, $5 noTime
}

func buildBrowserQueries(sql func(string) string) browserQueries {
	const live = `revoked_at = $3 AND expires_at > $2`
	return browserQueries{
		browserDeleteExpiredOf: sql(`DELETE FROM {{prefix}}browsers WHERE account = $1 AND expires_at <= $2`),
		browserDuplicate:       sql(`SELECT 1 FROM {{prefix}}browsers WHERE account = $1 AND (id = $2 OR digest = $3)`),
		browserCountLive:       sql(`SELECT COUNT(*) FROM {{prefix}}browsers WHERE account = $1 AND ` + live),
		browserLRU: sql(`SELECT seq, id FROM {{prefix}}browsers WHERE account = $1 AND ` + live + `
			ORDER BY last_used_at, seq LIMIT $4`),
		// Every revocation clears the MAC in the same statement (see
		// browser.Record.MAC).
		browserEvict: sql(`UPDATE {{prefix}}browsers SET revoked_at = $2, mac = $4 WHERE seq = $1 AND revoked_at = $3`),
		browserInsert: sql(`INSERT INTO {{prefix}}browsers (` + browserCols + `)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`),
		browserByDigest: sql(`SELECT ` + browserCols + ` FROM {{prefix}}browsers WHERE account = $1 AND digest = $2`),
		browserList: sql(`SELECT ` + browserCols + ` FROM {{prefix}}browsers WHERE account = $1
			ORDER BY created_at, seq`),
		browserTouch: sql(`UPDATE {{prefix}}browsers SET last_used_at = $3
			WHERE account = $1 AND id = $2 AND last_used_at < $3`),
		browserExists: sql(`SELECT 1 FROM {{prefix}}browsers WHERE account = $1 AND id = $2`),
		browserRevoke: sql(`UPDATE {{prefix}}browsers SET revoked_at = $3, mac = $5
			WHERE account = $1 AND id = $2 AND revoked_at = $4`),
		browserRevokeAll: sql(`UPDATE {{prefix}}browsers SET revoked_at = $2, mac = $4
			WHERE account = $1 AND ` + live),
		browserDeleteExpired: sql(`DELETE FROM {{prefix}}browsers WHERE expires_at <= $1`),
		// A page of every record in the order of browsers_id_idx, the
		// unique index on (account, id), which serves it: the columns'
		// collation, byte order in SQLite (BINARY). Not {{bytes}}: no index
		// is in COLLATE "C" in PostgreSQL.
		browsersAfter: sql(`SELECT ` + browserCols + ` FROM {{prefix}}browsers
			WHERE (account, id) > ($1, $2)
			ORDER BY account, id LIMIT $3`),
		// The MAC is the live record's version; a revoked record is never
		// given one.
		browserUpdateMAC: sql(`UPDATE {{prefix}}browsers SET mac = $4
			WHERE account = $1 AND id = $2 AND mac = $3 AND revoked_at = $5`),
	}
}

// InsertBrowser implements browser.Store in one transaction (BEGIN
// IMMEDIATE in SQLite, a per-account advisory lock in PostgreSQL): it
// deletes the account's expired records, checks for a duplicate ID or
// digest, revokes the least recently used live records down to limit-1,
// and inserts b. Unique indexes on (account, id) and (account, digest) back
// the check. A refused insert rolls back, deletions included.
func (s *Store) InsertBrowser(ctx context.Context, b browser.Record, limit int, now time.Time) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrap("insert browser", err)
	}
	if limit < 1 {
		return nil, fmt.Errorf("sqlstore: insert browser: limit %d: %w", limit, twofa.ErrLimitReached)
	}
	times, err := nanosOf(b.CreatedAt, b.ExpiresAt, b.LastUsedAt, b.RevokedAt)
	if err != nil {
		return nil, wrap("insert browser", err)
	}
	nowNS, err := nanos(now) // an eviction stores it
	if err != nil {
		return nil, wrap("insert browser", err)
	}
	var evicted []string
	err = s.inTx(ctx, lockBrowsers, b.Account, func(q querier) error {
		evicted = nil
		if _, err := q.ExecContext(ctx, s.q.browserDeleteExpiredOf, b.Account, nowNS); err != nil {
			return err
		}
		var one int
		err := q.QueryRowContext(ctx, s.q.browserDuplicate, b.Account, b.ID, blob(b.Digest)).Scan(&one)
		if err == nil {
			return fmt.Errorf("%w: the account has a browser with this ID or digest", twofa.ErrDuplicate)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var n int
		if err := q.QueryRowContext(ctx, s.q.browserCountLive, b.Account, nowNS, noTime).Scan(&n); err != nil {
			return err
		}
		if k := n - limit + 1; k > 0 {
			if evicted, err = s.evictBrowsers(ctx, q, b.Account, k, nowNS); err != nil {
				return err
			}
		}
		args := append([]any{b.Account, b.ID, b.Label, blob(b.Digest)}, times...)
		_, err = q.ExecContext(ctx, s.q.browserInsert, append(args, blob(b.MAC))...)
		return err
	})
	if err != nil {
		return nil, wrap("insert browser", err)
	}
	return evicted, nil
}

// evictBrowsers revokes the k least recently used live browsers of the
// account and returns their IDs in that order. A record that a concurrent
// RevokeBrowser (which takes no lock) revoked in between is not reported.
func (s *Store) evictBrowsers(ctx context.Context, q querier, account string, k int, nowNS int64) ([]string, error) {
	rows, err := q.QueryContext(ctx, s.q.browserLRU, account, nowNS, noTime, k)
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
		res, err := q.ExecContext(ctx, s.q.browserEvict, v.seq, nowNS, noTime, []byte{})
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

func scanBrowser(r scanner) (browser.Record, error) {
	var b browser.Record
	var t [4]int64
	if err := r.Scan(&b.Account, &b.ID, &b.Label, &b.Digest, &t[0], &t[1], &t[2], &t[3], &b.MAC); err != nil {
		return browser.Record{}, err
	}
	b.CreatedAt = fromNanos(t[0])
	b.ExpiresAt = fromNanos(t[1])
	b.LastUsedAt = fromNanos(t[2])
	b.RevokedAt = fromNanos(t[3])
	if len(b.MAC) == 0 {
		b.MAC = nil // none: revoked, or stored before MACs
	}
	return b, nil
}

// BrowserByDigest implements browser.Store: one lookup in the unique
// index on (account, digest).
func (s *Store) BrowserByDigest(ctx context.Context, account string, digest []byte) (browser.Record, error) {
	var b browser.Record
	err := s.queryRow(ctx, func(r *sql.Row) (err error) { b, err = scanBrowser(r); return err },
		s.q.browserByDigest, account, blob(digest))
	if errors.Is(err, sql.ErrNoRows) {
		return browser.Record{}, fmt.Errorf("sqlstore: browser: %w", twofa.ErrNotFound)
	}
	if err != nil {
		return browser.Record{}, wrap("browser", err)
	}
	return b, nil
}

// Browsers implements browser.Store: oldest first, and in insertion
// order among those created at the same time.
func (s *Store) Browsers(ctx context.Context, account string) ([]browser.Record, error) {
	rs, err := queryAll(ctx, s, scanBrowser, s.q.browserList, account)
	if err != nil {
		return nil, wrap("browsers", err)
	}
	return rs, nil
}

// TouchBrowser implements browser.Store with one conditional UPDATE
// (LastUsedAt before at), so LastUsedAt never moves back. ErrNotFound when
// the account has no such browser.
func (s *Store) TouchBrowser(ctx context.Context, account, id string, at time.Time) error {
	atNS, err := nanos(at)
	if err != nil {
		return wrap("touch browser", err)
	}
	res, err := s.exec(ctx, s.q.browserTouch, account, id, atNS)
	if err != nil {
		return wrap("touch browser", err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return wrap("touch browser", err)
	}
	var one int
	err = s.queryRow(ctx, func(r *sql.Row) error { return r.Scan(&one) }, s.q.browserExists, account, id)
	if errors.Is(err, sql.ErrNoRows) {
		err = twofa.ErrNotFound
	}
	return wrap("touch browser", err)
}

// RevokeBrowser implements browser.Store with one conditional UPDATE
// (not revoked yet), so of concurrent calls exactly one changes the row.
// ErrNotFound when the account has no such browser or it is revoked.
func (s *Store) RevokeBrowser(ctx context.Context, account, id string, at time.Time) error {
	atNS, err := nanos(at)
	if err != nil {
		return wrap("revoke browser", err)
	}
	res, err := s.exec(ctx, s.q.browserRevoke, account, id, atNS, noTime, []byte{})
	if err != nil {
		return wrap("revoke browser", err)
	}
	n, err := res.RowsAffected()
	if err == nil && n == 0 {
		err = fmt.Errorf("no browser %q that is not revoked: %w", id, twofa.ErrNotFound)
	}
	return wrap("revoke browser", err)
}

// RevokeBrowsers implements browser.Store with one UPDATE, under the
// account's advisory lock in PostgreSQL (InsertBrowser may be revoking
// some of the same rows).
func (s *Store) RevokeBrowsers(ctx context.Context, account string, at time.Time) (int, error) {
	atNS, err := nanos(at)
	if err != nil {
		return 0, wrap("revoke browsers", err)
	}
	var n int64
	err = s.inTx(ctx, lockBrowsers, account, func(q querier) error {
		res, err := q.ExecContext(ctx, s.q.browserRevokeAll, account, atNS, noTime, []byte{})
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, wrap("revoke browsers", err)
	}
	return int(n), nil
}

// DeleteExpiredBrowsers implements browser.Store with one DELETE,
// served by the index on the expiry.
func (s *Store) DeleteExpiredBrowsers(ctx context.Context, now time.Time) (int, error) {
	res, err := s.exec(ctx, s.q.browserDeleteExpired, bound(now))
	if err != nil {
		return 0, wrap("delete expired browsers", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrap("delete expired browsers", err)
	}
	return int(n), nil
}

// BrowsersAfter implements browser.Store with one SELECT ... WHERE
// (account, id) > ($1, $2) ORDER BY account, id LIMIT $3, read in order
// from the unique index on (account, id): byte order in SQLite, the
// columns' collation in PostgreSQL (byte order under C and C.UTF-8).
func (s *Store) BrowsersAfter(ctx context.Context, account, id string, limit int) ([]browser.Record, error) {
	if limit < 1 {
		return nil, fmt.Errorf("sqlstore: browsers after: limit %d is below 1", limit)
	}
	rs, err := queryAll(ctx, s, scanBrowser, s.q.browsersAfter, account, id, int64(limit))
	if err != nil {
		return nil, wrap("browsers after", err)
	}
	return rs, nil
}

// UpdateBrowserMAC implements browser.Store with one UPDATE ... WHERE mac
// = old AND revoked_at = noTime, so of concurrent calls with the same old
// MAC exactly one changes the row. An empty old changes nothing. When no
// row changed, a second statement tells a missing record (ErrNotFound)
// from one that did not match.
func (s *Store) UpdateBrowserMAC(ctx context.Context, account, id string, old, mac []byte) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, wrap("update browser MAC", err)
	}
	if len(old) != 0 {
		res, err := s.exec(ctx, s.q.browserUpdateMAC, account, id, old, blob(mac), noTime)
		if err != nil {
			return false, wrap("update browser MAC", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return false, wrap("update browser MAC", err)
		}
		if n == 1 {
			return true, nil
		}
	}
	var one int
	err := s.queryRow(ctx, func(r *sql.Row) error { return r.Scan(&one) }, s.q.browserExists, account, id)
	if errors.Is(err, sql.ErrNoRows) {
		err = fmt.Errorf("no browser %q: %w", id, twofa.ErrNotFound)
	}
	return false, wrap("update browser MAC", err)
}
