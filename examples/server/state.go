package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"regexp"
	"sync"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/sqlstore"
)

var (
	errNoUser       = errors.New("no such user")
	errAccountTaken = errors.New("that account name is taken")
)

// users keeps the accounts and their password hashes in a table of the
// database that holds twofa's tables.
type users struct {
	db      *sql.DB
	dialect sqlstore.Dialect
	table   string
	clock   twofa.Clock
}

var placeholder = regexp.MustCompile(`\$[0-9]+`)

// q adapts a statement written with PostgreSQL placeholders to the
// dialect.
func (u *users) q(stmt string) string {
	if u.dialect == sqlstore.SQLite {
		return placeholder.ReplaceAllString(stmt, "?")
	}
	return stmt
}

func (u *users) migrate(ctx context.Context) error {
	_, err := u.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+u.table+` (
		account TEXT PRIMARY KEY,
		password_hash TEXT NOT NULL,
		created_at BIGINT NOT NULL
	)`)
	return err
}

// create adds an account, or reports errAccountTaken.
func (u *users) create(ctx context.Context, account, hash string) error {
	res, err := u.db.ExecContext(ctx, u.q(`INSERT INTO `+u.table+` (account, password_hash, created_at)
		VALUES ($1, $2, $3) ON CONFLICT (account) DO NOTHING`), account, hash, u.clock.Now().UnixNano())
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return errAccountTaken
	}
	return nil
}

// hash returns the account's password hash, or errNoUser.
func (u *users) hash(ctx context.Context, account string) (string, error) {
	var h string
	err := u.db.QueryRowContext(ctx, u.q(`SELECT password_hash FROM `+u.table+` WHERE account = $1`), account).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errNoUser
	}
	return h, err
}

// setHash replaces the account's password hash.
func (u *users) setHash(ctx context.Context, account, hash string) error {
	_, err := u.db.ExecContext(ctx, u.q(`UPDATE `+u.table+` SET password_hash = $1 WHERE account = $2`), hash, account)
	return err
}

// newToken returns 256 random bits in unpadded base64url and their
// SHA-256 digest, under which the server keeps what the token stands
// for (so that a copy of the server's memory or table holds no token).
func newToken() (string, [32]byte, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", [32]byte{}, err
	}
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	return tok, sha256.Sum256([]byte(tok)), nil
}

// sessionTTL is how long a session lasts without a new sign-in: a
// working day, as many web mail services keep one.
const sessionTTL = 12 * time.Hour

// session is one signed-in browser.
type session struct {
	account string
	expires time.Time
	flash   string // a notice to show on the next page, once
	// enrolment is the pending device the user is scanning: kept so that
	// a mistyped first code can be retried on the same QR code, and
	// dropped once confirmed. It holds the secret, in memory only.
	enrolment *twofa.Enrollment
}

// sessions keeps signed-in browsers in memory, by their token's digest.
// It is safe for concurrent use.
type sessions struct {
	clock twofa.Clock
	mu    sync.Mutex
	m     map[[32]byte]*session
}

func newSessions(c twofa.Clock) *sessions {
	return &sessions{clock: c, m: map[[32]byte]*session{}}
}

// create starts a session for account and returns its token.
func (s *sessions) create(account string) (string, error) {
	tok, d, err := newToken()
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	for k, v := range s.m { // drop the expired ones as new ones come
		if !now.Before(v.expires) {
			delete(s.m, k)
		}
	}
	s.m[d] = &session{account: account, expires: now.Add(sessionTTL)}
	return tok, nil
}

// with calls f on the live session of tok, under the lock, and reports
// whether there was one.
func (s *sessions) with(tok string, f func(*session)) bool {
	d := sha256.Sum256([]byte(tok))
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[d]
	if !ok || !s.clock.Now().Before(v.expires) {
		delete(s.m, d)
		return false
	}
	f(v)
	return true
}

// delete ends the session of tok.
func (s *sessions) delete(tok string) {
	d := sha256.Sum256([]byte(tok))
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, d)
}

// deleteAccount ends every session of account: after a password change,
// whoever used the old one is signed out everywhere.
func (s *sessions) deleteAccount(account string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.m {
		if v.account == account {
			delete(s.m, k)
		}
	}
}

// outboxMessage is one message the development Sender "sent".
type outboxMessage struct {
	At      time.Time
	Message phone.Message
	Text    string // what the phone would show or say, code included
}

// outbox is a phone.Sender FOR LOCAL DEVELOPMENT ONLY: it sends
// nothing and keeps every message, code included, for the /outbox page,
// so that the demo's SMS flows work without a provider. A server that
// shows its codes lets anyone sign in as anyone: plug a real provider
// into a phone.Sender in production. It is safe for concurrent use.
type outbox struct {
	clock twofa.Clock
	mu    sync.Mutex
	msgs  []outboxMessage
}

// outboxMax bounds the messages kept: the newest 100.
const outboxMax = 100

// Send keeps m.
func (o *outbox) Send(_ context.Context, m phone.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.msgs = append(o.msgs, outboxMessage{At: o.clock.Now(), Message: m, Text: m.Text()})
	if len(o.msgs) > outboxMax {
		o.msgs = o.msgs[len(o.msgs)-outboxMax:]
	}
	return nil
}

// newest returns the messages, newest first.
func (o *outbox) newest() []outboxMessage {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]outboxMessage, len(o.msgs))
	for i, m := range o.msgs {
		out[len(o.msgs)-1-i] = m
	}
	return out
}

// groupKey spells a base32 secret in groups of 4, as a person types it.
func groupKey(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if i > 0 && i%4 == 0 {
			b = append(b, ' ')
		}
		b = append(b, s[i])
	}
	return string(b)
}
