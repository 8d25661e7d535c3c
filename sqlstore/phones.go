package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/phone"
)

// Phones and out-of-band challenges (migration 0003). The statements are
// written as the others are, with PostgreSQL placeholders and {{prefix}},
// and adapted to the store once, in New (see queries.go).

var (
	_ phone.NumberStore    = (*Store)(nil)
	_ phone.ChallengeStore = (*Store)(nil)
)

// Advisory lock class (PostgreSQL) of one account's phones and
// challenges: inserting and deleting phones, and creating challenges
// (the send limits, decided inside that step, are the account's).
const lockPhones = "phones"

// phoneCols are the columns of a phone, in the order scanPhone reads
// them and InsertPhone writes them.
const phoneCols = `account, id, e164, country_code, state,
	created_at, expires_at, confirmed_at, last_used_at, mac`

// challengeCols are the columns of a challenge, in the order
// scanChallenge reads them (e164 aside, which only the store reads).
const challengeCols = `account, id, phone_id, purpose, channel, state, digest, attempts,
	created_at, expires_at, used_at, mac`

// The states as stored (phone.State, phone.ChallengeState); the
// partial indexes of 0003 depend on them.
const (
	phonePending    = "1"
	phoneTrusted    = "2"
	challengeOpen   = "1"
	challengeUsed   = "2"
	challengeVoided = "3"
)

// phoneQueries are the statements on the phones and challenges tables.
type phoneQueries struct {
	phoneInsert           string
	phoneRows             string
	phone                 string
	phones                string
	phoneExists           string
	phoneNumber           string
	phoneConfirm          string
	phoneUpdateMAC        string
	phonesAfter           string
	phoneTouch            string
	phoneDelete           string
	phoneDeleteReturning  string
	phoneCountTrusted     string
	phonesExpiredVoid     string
	phonesExpiredDelete   string
	challengesVoid        string
	challengeExists       string
	challengeSends        string
	challengesPrune       string
	challengesStale       string
	challengeInsert       string
	challengeVoid         string
	challenge             string
	challengesLive        string
	challengeConsume      string
	challengeConsumeTouch string
	challengeState        string
}

// buildPhoneQueries returns the statements on the phones and challenges
// tables, adapted to the store by sql.
func buildPhoneQueries(sql func(string) string) phoneQueries {
	return phoneQueries{
		phoneInsert: sql(`INSERT INTO {{prefix}}phones (` + phoneCols + `)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`),
		phoneRows: sql(`SELECT id, e164, state, expires_at FROM {{prefix}}phones WHERE account = $1`),
		phone:     sql(`SELECT ` + phoneCols + ` FROM {{prefix}}phones WHERE account = $1 AND id = $2`),
		phones: sql(`SELECT ` + phoneCols + ` FROM {{prefix}}phones WHERE account = $1
			ORDER BY created_at, seq`),
		phoneExists: sql(`SELECT 1 FROM {{prefix}}phones WHERE account = $1 AND id = $2`),
		phoneNumber: sql(`SELECT e164 FROM {{prefix}}phones WHERE account = $1 AND id = $2`),
		// $3 is the time of confirmation, $4 noTime, $5 the MAC the
		// caller verified, $6 the MAC of the trusted phone.
		phoneConfirm: sql(`UPDATE {{prefix}}phones
			SET state = ` + phoneTrusted + `, confirmed_at = $3, expires_at = $4, mac = $6
			WHERE account = $1 AND id = $2 AND state = ` + phonePending + `
				AND expires_at > CAST($3 AS BIGINT) AND mac = $5`),
		phoneUpdateMAC: sql(`UPDATE {{prefix}}phones SET mac = $4
			WHERE account = $1 AND id = $2 AND mac = $3`),
		phonesAfter: sql(`SELECT ` + phoneCols + ` FROM {{prefix}}phones
			WHERE (account{{bytes}}, id{{bytes}}) > ($1, $2)
			ORDER BY account{{bytes}}, id{{bytes}} LIMIT $3`),
		phoneTouch: sql(`UPDATE {{prefix}}phones SET last_used_at = $3
			WHERE account = $1 AND id = $2 AND last_used_at < CAST($3 AS BIGINT)`),
		phoneDelete:          sql(`DELETE FROM {{prefix}}phones WHERE account = $1 AND id = $2`),
		phoneDeleteReturning: sql(`DELETE FROM {{prefix}}phones WHERE account = $1 AND id = $2 RETURNING state`),
		phoneCountTrusted:    sql(`SELECT COUNT(*) FROM {{prefix}}phones WHERE account = $1 AND state = ` + phoneTrusted),
		// $1 is now.
		// Every statement that voids a challenge clears its MAC (see
		// phone.Challenge.MAC).
		phonesExpiredVoid: sql(`UPDATE {{prefix}}challenges SET state = ` + challengeVoided + `, mac = {{noMAC}}
			WHERE state = ` + challengeOpen + ` AND (account, phone_id) IN (
				SELECT account, id FROM {{prefix}}phones
				WHERE state = ` + phonePending + ` AND expires_at <= CAST($1 AS BIGINT))`),
		phonesExpiredDelete: sql(`DELETE FROM {{prefix}}phones
			WHERE state = ` + phonePending + ` AND expires_at <= CAST($1 AS BIGINT)`),

		// $3 is 0 for every purpose.
		challengesVoid: sql(`UPDATE {{prefix}}challenges SET state = ` + challengeVoided + `, mac = {{noMAC}}
			WHERE account = $1 AND phone_id = $2 AND state = ` + challengeOpen + `
				AND (CAST($3 AS INTEGER) = 0 OR purpose = CAST($3 AS INTEGER))`),
		challengeExists: sql(`SELECT 1 FROM {{prefix}}challenges WHERE account = $1 AND id = $2`),
		// The account's challenges created after $2, newest first,
		// whatever their phone (deleted ones included).
		challengeSends: sql(`SELECT created_at, e164, purpose FROM {{prefix}}challenges
			WHERE account = $1 AND created_at > CAST($2 AS BIGINT)
			ORDER BY created_at DESC`),
		// The account's stale challenges: created at or before an hour ago
		// ($2), and closed or expired at now ($3).
		challengesPrune: sql(`DELETE FROM {{prefix}}challenges
			WHERE account = $1 AND created_at <= CAST($2 AS BIGINT)
				AND (state <> ` + challengeOpen + ` OR expires_at <= CAST($3 AS BIGINT))`),
		challengesStale: sql(`DELETE FROM {{prefix}}challenges
			WHERE created_at <= CAST($1 AS BIGINT)
				AND (state <> ` + challengeOpen + ` OR expires_at <= CAST($2 AS BIGINT))`),
		challengeInsert: sql(`INSERT INTO {{prefix}}challenges (` + challengeCols + `, e164)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`),
		challengeVoid: sql(`UPDATE {{prefix}}challenges SET state = ` + challengeVoided + `, mac = {{noMAC}}
			WHERE account = $1 AND id = $2 AND state = ` + challengeOpen),
		challenge: sql(`SELECT ` + challengeCols + ` FROM {{prefix}}challenges WHERE account = $1 AND id = $2`),
		challengesLive: sql(`SELECT ` + challengeCols + ` FROM {{prefix}}challenges
			WHERE account = $1 AND purpose = $2 AND state <> ` + challengeVoided + `
				AND expires_at > CAST($3 AS BIGINT)
			ORDER BY created_at DESC, seq DESC`),
		// The one conditional UPDATE of ConsumeChallenge: $3 the digest,
		// $4 now, $5 the most attempts, $6 the MAC the caller verified, $7
		// the MAC after a wrong try. It touches the row only if it is
		// open, unexpired and below the attempts, and then either marks it
		// used, clearing the MAC (the digest matches and the MAC is $6),
		// or counts a wrong try, setting the MAC to $7 if it was $6 and
		// clearing it if not.
		challengeConsume: sql(`UPDATE {{prefix}}challenges SET
				state = CASE WHEN digest = $3 AND mac = $6 THEN ` + challengeUsed + ` ELSE state END,
				used_at = CASE WHEN digest = $3 AND mac = $6 THEN CAST($4 AS BIGINT) ELSE used_at END,
				attempts = CASE WHEN digest = $3 AND mac = $6 THEN attempts ELSE attempts + 1 END,
				mac = CASE WHEN digest = $3 AND mac = $6 THEN {{noMAC}} WHEN mac = $6 THEN $7 ELSE {{noMAC}} END
			WHERE account = $1 AND id = $2 AND state = ` + challengeOpen + `
				AND expires_at > CAST($4 AS BIGINT)
				AND attempts < CAST($5 AS BIGINT)
			RETURNING state, attempts, phone_id`),
		challengeConsumeTouch: sql(`WITH c AS (UPDATE {{prefix}}challenges SET
				state = CASE WHEN digest = $3 AND mac = $6 THEN ` + challengeUsed + ` ELSE state END,
				used_at = CASE WHEN digest = $3 AND mac = $6 THEN CAST($4 AS BIGINT) ELSE used_at END,
				attempts = CASE WHEN digest = $3 AND mac = $6 THEN attempts ELSE attempts + 1 END,
				mac = CASE WHEN digest = $3 AND mac = $6 THEN {{noMAC}} WHEN mac = $6 THEN $7 ELSE {{noMAC}} END
			WHERE account = $1 AND id = $2 AND state = ` + challengeOpen + `
				AND expires_at > CAST($4 AS BIGINT)
				AND attempts < CAST($5 AS BIGINT)
			RETURNING state, attempts, phone_id),
			t AS (UPDATE {{prefix}}phones SET last_used_at = CAST($4 AS BIGINT)
				WHERE account = $1 AND id = (SELECT phone_id FROM c WHERE state = ` + challengeUsed + `)
					AND last_used_at < CAST($4 AS BIGINT))
			SELECT state, attempts FROM c`),
		challengeState: sql(`SELECT state, attempts, expires_at FROM {{prefix}}challenges
			WHERE account = $1 AND id = $2`),
	}
}

func scanPhone(r scanner) (phone.Record, error) {
	var (
		p          phone.Record
		cc, state  int64
		times      [4]int64
		e164, acct string
	)
	err := r.Scan(&acct, &p.ID, &e164, &cc, &state, &times[0], &times[1], &times[2], &times[3], &p.MAC)
	if err != nil {
		return phone.Record{}, err
	}
	p.Account = acct
	p.Number = phone.Number{E164: e164, CountryCode: int(cc)}
	p.State = phone.State(state)
	p.CreatedAt = fromNanos(times[0])
	p.ExpiresAt = fromNanos(times[1])
	p.ConfirmedAt = fromNanos(times[2])
	p.LastUsedAt = fromNanos(times[3])
	if len(p.MAC) == 0 {
		p.MAC = nil // none: stored before MACs
	}
	return p, nil
}

func scanChallenge(r scanner) (phone.Challenge, error) {
	var (
		c                               phone.Challenge
		purpose, channel, state, attmpt int64
		times                           [3]int64
	)
	err := r.Scan(&c.Account, &c.ID, &c.PhoneID, &purpose, &channel, &state, &c.Digest, &attmpt,
		&times[0], &times[1], &times[2], &c.MAC)
	if err != nil {
		return phone.Challenge{}, err
	}
	c.Purpose = phone.Purpose(purpose)
	c.Channel = phone.Channel(channel)
	c.State = phone.ChallengeState(state)
	c.Attempts = int(attmpt)
	c.CreatedAt = fromNanos(times[0])
	c.ExpiresAt = fromNanos(times[1])
	c.UsedAt = fromNanos(times[2])
	if len(c.MAC) == 0 {
		c.MAC = nil // none: used, voided, or stored before MACs
	}
	return c, nil
}

// InsertPhone implements phone.NumberStore. In one transaction (BEGIN
// IMMEDIATE in SQLite, a per-account advisory lock in PostgreSQL) it
// reads the account's phones, checks duplicates and the limit among
// those that count, deletes the lapsed pending ones (voiding their open
// challenges) and inserts p. Unique indexes on (account, id) and
// (account, e164) back the checks. A refused insert rolls back.
func (s *Store) InsertPhone(ctx context.Context, p phone.Record, limit int, now time.Time) error {
	times, err := nanosOf(p.CreatedAt, p.ExpiresAt, p.ConfirmedAt, p.LastUsedAt)
	if err != nil {
		return wrap("insert phone", err)
	}
	err = s.inTx(ctx, lockPhones, p.Account, func(q querier) error {
		rows, err := q.QueryContext(ctx, s.q.phoneRows, p.Account)
		if err != nil {
			return err
		}
		var stale []string
		counted, dup := 0, false
		for rows.Next() {
			var (
				id, e164       string
				state, expires int64
			)
			if err := rows.Scan(&id, &e164, &state, &expires); err != nil {
				rows.Close()
				return err
			}
			if phone.State(state) == phone.Pending && !fromNanos(expires).After(now) {
				stale = append(stale, id)
				continue
			}
			dup = dup || id == p.ID || e164 == p.Number.E164
			counted++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if dup {
			return fmt.Errorf("%w: the account has a phone with this ID or number", twofa.ErrDuplicate)
		}
		if counted >= limit {
			return fmt.Errorf("%w: account has %d phones, limit %d", twofa.ErrLimitReached, counted, limit)
		}
		for _, id := range stale {
			if _, err := q.ExecContext(ctx, s.q.challengesVoid, p.Account, id, 0); err != nil {
				return err
			}
			if _, err := q.ExecContext(ctx, s.q.phoneDelete, p.Account, id); err != nil {
				return err
			}
		}
		args := append([]any{p.Account, p.ID, p.Number.E164, int64(p.Number.CountryCode), int64(p.State)}, times...)
		_, err = q.ExecContext(ctx, s.q.phoneInsert, append(args, blob(p.MAC))...)
		return err
	})
	return wrap("insert phone", err)
}

// Phone implements phone.NumberStore.
func (s *Store) Phone(ctx context.Context, account, id string) (phone.Record, error) {
	var p phone.Record
	err := s.queryRow(ctx, func(r *sql.Row) (err error) { p, err = scanPhone(r); return err }, s.q.phone, account, id)
	if errors.Is(err, sql.ErrNoRows) {
		return phone.Record{}, fmt.Errorf("sqlstore: phone: %w", twofa.ErrNotFound)
	}
	if err != nil {
		return phone.Record{}, wrap("phone", err)
	}
	return p, nil
}

// Phones implements phone.NumberStore: oldest first, and in insertion
// order among those added at the same time.
func (s *Store) Phones(ctx context.Context, account string) ([]phone.Record, error) {
	rs, err := queryAll(ctx, s, scanPhone, s.q.phones, account)
	if err != nil {
		return nil, wrap("phones", err)
	}
	return rs, nil
}

// exists reports ErrNotFound unless the account has the phone, after an
// UPDATE that changed no row.
func (s *Store) phoneExists(ctx context.Context, account, id string) error {
	var one int
	err := s.queryRow(ctx, func(r *sql.Row) error { return r.Scan(&one) }, s.q.phoneExists, account, id)
	if errors.Is(err, sql.ErrNoRows) {
		return twofa.ErrNotFound
	}
	return err
}

// ConfirmPhone implements phone.NumberStore with one conditional UPDATE
// (pending, unexpired at at, the MAC old).
func (s *Store) ConfirmPhone(ctx context.Context, account, id string, at time.Time, old, mac []byte) (bool, error) {
	atNS, err := nanos(at)
	if err != nil {
		return false, wrap("confirm phone", err)
	}
	res, err := s.exec(ctx, s.q.phoneConfirm, account, id, atNS, noTime, blob(old), blob(mac))
	if err != nil {
		return false, wrap("confirm phone", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, wrap("confirm phone", err)
	}
	if n == 1 {
		return true, nil
	}
	if err := s.phoneExists(ctx, account, id); err != nil {
		return false, wrap("confirm phone", err)
	}
	return false, nil
}

// UpdatePhoneMAC implements phone.NumberStore with one UPDATE ... WHERE
// mac = old.
func (s *Store) UpdatePhoneMAC(ctx context.Context, account, id string, old, mac []byte) (bool, error) {
	res, err := s.exec(ctx, s.q.phoneUpdateMAC, account, id, blob(old), blob(mac))
	if err != nil {
		return false, wrap("update phone MAC", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, wrap("update phone MAC", err)
	}
	if n == 1 {
		return true, nil
	}
	return false, wrap("update phone MAC", s.phoneExists(ctx, account, id))
}

// PhonesAfter implements phone.NumberStore with one SELECT ... WHERE
// (account, id) > ($1, $2) ORDER BY account, id LIMIT $3, comparing bytes
// in both dialects. It serves a one-time upgrade: no index backs it.
func (s *Store) PhonesAfter(ctx context.Context, account, id string, limit int) ([]phone.Record, error) {
	if limit < 1 {
		return nil, fmt.Errorf("sqlstore: phones after: limit %d is below 1", limit)
	}
	rs, err := queryAll(ctx, s, scanPhone, s.q.phonesAfter, account, id, int64(limit))
	if err != nil {
		return nil, wrap("phones after", err)
	}
	return rs, nil
}

// DeletePhone implements phone.NumberStore: one transaction, under the
// account's lock (PostgreSQL), voids the phone's open challenges, deletes
// it and counts the trusted phones left.
func (s *Store) DeletePhone(ctx context.Context, account, id string) (phone.State, int, error) {
	var left int
	var state int64
	err := s.inTx(ctx, lockPhones, account, func(q querier) error {
		if _, err := q.ExecContext(ctx, s.q.challengesVoid, account, id, 0); err != nil {
			return err
		}
		err := q.QueryRowContext(ctx, s.q.phoneDeleteReturning, account, id).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return twofa.ErrNotFound
		}
		if err != nil {
			return err
		}
		return q.QueryRowContext(ctx, s.q.phoneCountTrusted, account).Scan(&left)
	})
	if err != nil {
		return 0, 0, wrap("delete phone", err)
	}
	return phone.State(state), left, nil
}

// DeleteExpiredPhones implements phone.NumberStore: one transaction voids
// the open challenges of the lapsed pending phones and deletes them.
func (s *Store) DeleteExpiredPhones(ctx context.Context, now time.Time) (int, error) {
	nowNS := bound(now)
	var n int64
	err := s.inTx(ctx, "", "", func(q querier) error {
		if _, err := q.ExecContext(ctx, s.q.phonesExpiredVoid, nowNS); err != nil {
			return err
		}
		res, err := q.ExecContext(ctx, s.q.phonesExpiredDelete, nowNS)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, wrap("delete expired phones", err)
	}
	return int(n), nil
}

// CreateChallenge implements phone.ChallengeStore. One transaction
// (BEGIN IMMEDIATE in SQLite; in PostgreSQL the account's advisory lock,
// which DeletePhone and InsertPhone take too) reads the phone and the
// account's challenges created after since and calls allow with them,
// then voids the phone's open challenge of the purpose, deletes the
// account's stale challenges and inserts c. A refused create rolls back
// and returns allow's error as it is.
func (s *Store) CreateChallenge(ctx context.Context, c phone.Challenge, since time.Time, allow func(recent []phone.Send) error) error {
	times, err := nanosOf(c.CreatedAt, c.ExpiresAt, c.UsedAt)
	if err != nil {
		return wrap("create challenge", err)
	}
	var refused error
	err = s.inTx(ctx, lockPhones, c.Account, func(q querier) error {
		refused = nil
		var e164 string
		err := q.QueryRowContext(ctx, s.q.phoneNumber, c.Account, c.PhoneID).Scan(&e164)
		if errors.Is(err, sql.ErrNoRows) {
			return twofa.ErrNotFound
		}
		if err != nil {
			return err
		}
		var one int
		err = q.QueryRowContext(ctx, s.q.challengeExists, c.Account, c.ID).Scan(&one)
		if err == nil {
			return fmt.Errorf("%w: the account has a challenge with this ID", twofa.ErrDuplicate)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		rows, err := q.QueryContext(ctx, s.q.challengeSends, c.Account, bound(since))
		if err != nil {
			return err
		}
		var recent []phone.Send
		for rows.Next() {
			var (
				created, purpose int64
				number           string
			)
			if err := rows.Scan(&created, &number, &purpose); err != nil {
				rows.Close()
				return err
			}
			recent = append(recent, phone.Send{Number: number, Purpose: phone.Purpose(purpose), CreatedAt: fromNanos(created)})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if refused = allow(recent); refused != nil {
			return refused
		}
		now := c.CreatedAt
		if _, err := q.ExecContext(ctx, s.q.challengesVoid, c.Account, c.PhoneID, int64(c.Purpose)); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, s.q.challengesPrune, c.Account, bound(now.Add(-time.Hour)), bound(now)); err != nil {
			return err
		}
		args := []any{c.Account, c.ID, c.PhoneID, int64(c.Purpose), int64(c.Channel), int64(c.State), blob(c.Digest), int64(c.Attempts)}
		_, err = q.ExecContext(ctx, s.q.challengeInsert, append(append(args, times...), blob(c.MAC), e164)...)
		return err
	})
	if refused != nil {
		return refused
	}
	return wrap("create challenge", err)
}

// VoidChallenge implements phone.ChallengeStore with one conditional
// UPDATE; when it changes no row, a read tells ErrNotFound from a
// challenge that was not open.
func (s *Store) VoidChallenge(ctx context.Context, account, id string) error {
	res, err := s.exec(ctx, s.q.challengeVoid, account, id)
	if err != nil {
		return wrap("void challenge", err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return wrap("void challenge", err)
	}
	var one int
	err = s.queryRow(ctx, func(r *sql.Row) error { return r.Scan(&one) }, s.q.challengeExists, account, id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlstore: void challenge: %w", twofa.ErrNotFound)
	}
	return wrap("void challenge", err)
}

// Challenge implements phone.ChallengeStore.
func (s *Store) Challenge(ctx context.Context, account, id string) (phone.Challenge, error) {
	var c phone.Challenge
	err := s.queryRow(ctx, func(r *sql.Row) (err error) { c, err = scanChallenge(r); return err }, s.q.challenge, account, id)
	if errors.Is(err, sql.ErrNoRows) {
		return phone.Challenge{}, fmt.Errorf("sqlstore: challenge: %w", twofa.ErrNotFound)
	}
	if err != nil {
		return phone.Challenge{}, wrap("challenge", err)
	}
	return c, nil
}

// LiveChallenges implements phone.ChallengeStore: newest first, and the
// later inserted first among those created at the same time.
func (s *Store) LiveChallenges(ctx context.Context, account string, purpose phone.Purpose, now time.Time) ([]phone.Challenge, error) {
	rs, err := queryAll(ctx, s, scanChallenge, s.q.challengesLive, account, int64(purpose), bound(now))
	if err != nil {
		return nil, wrap("live challenges", err)
	}
	return rs, nil
}

// ConsumeChallenge implements phone.ChallengeStore with one conditional
// UPDATE ... RETURNING: the row changes only while it is open, unexpired
// and below maxAttempts, so the attempts are checked before the digest is
// compared, and of concurrent calls with the right digest one marks it
// used. When no row comes back, a read tells why. (The digest is compared
// by the database, not in constant time: it is a keyed HMAC, whose
// timing tells nothing about the code without the key.)
func (s *Store) ConsumeChallenge(ctx context.Context, account, id string, digest []byte, maxAttempts int, now time.Time, old, next []byte) (phone.ConsumeResult, int, error) {
	nowNS, err := nanos(now)
	if err != nil {
		return 0, 0, wrap("consume challenge", err)
	}
	for range 3 {
		var state, attempts int64
		err := s.consumeChallenge(ctx, account, id, digest, nowNS, maxAttempts, old, next, &state, &attempts)
		if err == nil {
			if phone.ChallengeState(state) == phone.ChallengeUsed {
				return phone.ConsumeAccepted, int(attempts), nil
			}
			return phone.ConsumeWrong, int(attempts), nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, 0, wrap("consume challenge", err)
		}
		var expires int64
		err = s.queryRow(ctx, func(r *sql.Row) error { return r.Scan(&state, &attempts, &expires) },
			s.q.challengeState, account, id)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, 0, fmt.Errorf("sqlstore: consume challenge: %w", twofa.ErrNotFound)
		}
		if err != nil {
			return 0, 0, wrap("consume challenge", err)
		}
		switch {
		case phone.ChallengeState(state) == phone.ChallengeUsed:
			return phone.ConsumeUsed, int(attempts), nil
		case phone.ChallengeState(state) == phone.ChallengeVoided:
			return phone.ConsumeVoided, int(attempts), nil
		case !fromNanos(expires).After(now):
			return phone.ConsumeExpired, int(attempts), nil
		case attempts >= int64(maxAttempts):
			return phone.ConsumeExhausted, int(attempts), nil
		}
		// Changed between the UPDATE and the read: try again.
	}
	return 0, 0, wrap("consume challenge", errors.New("challenge row keeps changing"))
}

// consumeChallenge runs the consuming UPDATE and, when it used the
// challenge, moves its phone's last_used_at forward, in one commit: one
// statement in PostgreSQL (a data-modifying WITH), one BEGIN IMMEDIATE
// transaction in SQLite. sql.ErrNoRows when the UPDATE matched no row.
func (s *Store) consumeChallenge(ctx context.Context, account, id string, digest []byte, nowNS int64, maxAttempts int, old, next []byte, state, attempts *int64) error {
	if s.dialect == Postgres {
		return s.execRow(ctx, func(r *sql.Row) error { return r.Scan(state, attempts) },
			s.q.challengeConsumeTouch, account, id, blob(digest), nowNS, int64(maxAttempts), blob(old), blob(next))
	}
	return s.inTx(ctx, "", account, func(q querier) error {
		var phoneID string
		if err := q.QueryRowContext(ctx, s.q.challengeConsume, account, id, blob(digest), nowNS, int64(maxAttempts), blob(old), blob(next)).Scan(state, attempts, &phoneID); err != nil {
			return err
		}
		if phone.ChallengeState(*state) != phone.ChallengeUsed {
			return nil
		}
		_, err := q.ExecContext(ctx, s.q.phoneTouch, account, phoneID, nowNS)
		return err
	})
}

// DeleteStaleChallenges implements phone.ChallengeStore with one DELETE.
func (s *Store) DeleteStaleChallenges(ctx context.Context, now time.Time) (int, error) {
	res, err := s.exec(ctx, s.q.challengesStale, bound(now.Add(-time.Hour)), bound(now))
	if err != nil {
		return 0, wrap("delete stale challenges", err)
	}
	n, err := res.RowsAffected()
	return int(n), wrap("delete stale challenges", err)
}
