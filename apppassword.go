package twofa

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/twofa-go/twofa/internal/typed"
)

// App-specific password limits and defaults.
const (
	// defaultMaxAppPasswords is the per-account limit of active app
	// passwords: 25, as Apple allows.
	defaultMaxAppPasswords = 25
	// appPasswordTouchInterval is how stale an app password's LastUsedAt
	// may get before a successful Verify writes it again: mail clients
	// sign in every few minutes, and a settings page shows "last used" to
	// the hour, so most verifications write nothing.
	appPasswordTouchInterval = time.Hour
	// appPasswordLetters is the password length: 16 letters of 26, about
	// 75 bits, as Apple's and Google's app-specific passwords.
	appPasswordLetters = 16
)

// appPasswordThrottle is the default of Config.Throttle.AppPasswords,
// whose doc gives the reasons.
var appPasswordThrottle = ThrottlePolicy{Free: 10, Base: time.Second, Max: 15 * time.Minute}

// AppPasswordInfo is what a settings page shows of an app password:
// never the password or its digest. encoding/json writes it with
// snake_case names and without the times that are unset.
type AppPasswordInfo struct {
	ID         string    `json:"id"`
	Label      string    `json:"label"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"` // to within an hour (a successful Verify writes it when it is older); zero if never used
}

func (p AppPassword) info() AppPasswordInfo {
	return AppPasswordInfo{ID: p.ID, Label: p.Label, CreatedAt: p.CreatedAt, LastUsedAt: p.LastUsedAt}
}

// AppPasswords issues and checks app-specific passwords: generated
// passwords, one per client that cannot prompt for a second factor (a mail
// app over IMAP, calendar sync, a CLI over HTTP Basic auth), each labelled,
// shown once and revocable. They exist only while two-factor
// authentication is on: all are revoked when it turns off (the account's
// last confirmed device revoked or its last trusted record of an attached
// Factor (package phone) removed), and when its primary password changes (call
// TwoFA.PasswordChanged). It is safe for concurrent use.
type AppPasswords struct {
	c *Config
}

// resolveAppPasswords fills in the app-password defaults of c and checks
// them.
func (c *Config) resolveAppPasswords() error {
	if c.AppPasswords.Max == 0 {
		c.AppPasswords.Max = defaultMaxAppPasswords
	}
	if c.AppPasswords.Max < 1 {
		return fmt.Errorf("%w: AppPasswords.Max must be positive", ErrConfig)
	}
	t := &c.Throttle.AppPasswords
	if *t == (ThrottlePolicy{}) {
		*t = appPasswordThrottle
	}
	if err := t.validate(); err != nil {
		return fmt.Errorf("%w: Throttle.AppPasswords: %w", ErrConfig, err)
	}
	if t.Budget != 0 || t.Base <= 0 {
		// A right app password is looked up before any throttle and
		// clears it, so a budget would bound nothing.
		return fmt.Errorf("%w: Throttle.AppPasswords takes a back-off and no budget", ErrConfig)
	}
	return nil
}

// Create issues a new app password for account, labelled label, and
// returns it (formatted "abcd-efgh-ijkl-mnop", to show once) with its
// record. Only its keyed digest is stored.
//
// Errors: ErrInvalidAccount, ErrInvalidLabel, ErrNotEnrolled (two-factor
// authentication is off), ErrDuplicateLabel (among the account's active
// passwords), ErrTooManyAppPasswords.
func (a *AppPasswords) Create(ctx context.Context, account, label string) (string, AppPasswordInfo, error) {
	label, err := normalizeLabel(label)
	if err != nil {
		return "", AppPasswordInfo{}, err
	}
	if err := validAccount(account); err != nil {
		return "", AppPasswordInfo{}, err
	}
	raw, err := newAppPassword()
	if err != nil {
		return "", AppPasswordInfo{}, err
	}
	defer clear(raw[:])
	digest, err := a.c.Keyring.Digest(PurposeAppPassword, account, raw[:])
	if err != nil {
		return "", AppPasswordInfo{}, err
	}
	id, err := newID()
	if err != nil {
		return "", AppPasswordInfo{}, err
	}
	now := a.c.Clock.Now()
	rec := AppPassword{ID: id, Account: account, Label: label, Digest: digest, CreatedAt: now}
	// Stored under the account's lifecycle lock while two-factor
	// authentication is on (see lifecycle.go): no app password outlives it.
	err = a.c.issue(ctx, account, func(ctx context.Context) error {
		err := a.c.Store.InsertAppPassword(ctx, rec, a.c.AppPasswords.Max)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, ErrLimitReached):
			return ErrTooManyAppPasswords
		case errors.Is(err, ErrDuplicate):
			return ErrDuplicateLabel
		}
		return fmt.Errorf("twofa: create app password: %w", err)
	})
	if err != nil {
		return "", AppPasswordInfo{}, err
	}
	a.c.Events.emit(ctx, Event{Type: EventAppPasswordCreated, Account: account, AppPasswordID: id, Time: now})
	return formatAppPassword(raw), rec.info(), nil
}

// Verify checks an app password for account, as a Basic-auth endpoint
// does in place of the primary password and a code. Case, leading and
// trailing white space, and spaces and hyphens inside are ignored; other
// white space inside (a tab, a newline) is ErrMalformedAppPassword. A
// right password costs one HMAC-SHA-256 and one indexed lookup, whatever
// the number of passwords, and one read of its throttle state; a wrong one
// costs the same lookup, one probe of whether the account has any app
// password, and its count in the throttle: three store operations
// whatever the number of passwords. The stored digest is compared in constant
// time. A right password is always accepted; wrong ones count
// in the account's app-password throttle (Config.Throttle.AppPasswords), and while
// its back-off runs they get a *ThrottledError instead of
// ErrInvalidAppPassword, telling a misconfigured client to slow down.
// (Guessing 75 random bits is hopeless either way; the throttle must not
// let a stranger lock the owner out.)
//
// Errors: ErrInvalidAccount, ErrMalformedAppPassword, *ThrottledError,
// ErrInvalidAppPassword, or a wrapped store error.
func (a *AppPasswords) Verify(ctx context.Context, account, password string) (AppPasswordInfo, error) {
	if err := validAccount(account); err != nil {
		return AppPasswordInfo{}, err
	}
	raw, ok := normalizeAppPassword(password)
	if !ok {
		return AppPasswordInfo{}, ErrMalformedAppPassword
	}
	defer clear(raw[:])
	now := a.c.Clock.Now()
	digest, err := a.c.Keyring.Digest(PurposeAppPassword, account, raw[:])
	if err != nil {
		return AppPasswordInfo{}, err
	}
	rec, err := a.c.Store.AppPasswordByDigest(ctx, account, digest)
	if err == nil && (rec.Account != account || !hmac.Equal(rec.Digest, digest)) {
		err = ErrNotFound
	}
	if errors.Is(err, ErrNotFound) {
		return AppPasswordInfo{}, a.failed(ctx, account, now)
	}
	if err != nil {
		return AppPasswordInfo{}, fmt.Errorf("twofa: verify app password: %w", err)
	}
	// The right password always works, throttled or not: the throttle
	// must not let a stranger who knows the account id lock its owner's
	// mail client out.
	st, err := a.c.Store.Throttle(ctx, account, ScopeAppPassword)
	if err != nil {
		return AppPasswordInfo{}, fmt.Errorf("twofa: verify app password: %w", err)
	}
	if st.Failures > 0 {
		if err := a.c.Store.ResetThrottle(ctx, account, ScopeAppPassword); err != nil {
			return AppPasswordInfo{}, fmt.Errorf("twofa: verify app password: %w", err)
		}
	}
	if now.Sub(rec.LastUsedAt) >= appPasswordTouchInterval {
		if err := a.c.Store.TouchAppPassword(ctx, account, rec.ID, now); err != nil {
			return AppPasswordInfo{}, fmt.Errorf("twofa: verify app password: %w", err)
		}
		rec.LastUsedAt = now
	}
	a.c.Events.emit(ctx, Event{Type: EventAppPasswordUsed, Account: account, AppPasswordID: rec.ID, Time: now})
	return rec.info(), nil
}

// failed answers a password that matched none: ErrInvalidAppPassword, or a
// ThrottledError while the back-off runs. The failure is counted only for
// an account that has app passwords, so that guesses at unknown accounts
// leave no throttle records behind.
func (a *AppPasswords) failed(ctx context.Context, account string, now time.Time) error {
	has, err := a.c.Store.HasAppPasswords(ctx, account)
	if err != nil {
		return fmt.Errorf("twofa: verify app password: %w", err)
	}
	if !has {
		a.c.Events.emit(ctx, Event{Type: EventAppPasswordFailed, Account: account, Time: now})
		return ErrInvalidAppPassword
	}
	st, counted, err := a.c.Store.ReserveAttempt(ctx, account, ScopeAppPassword, now, a.c.Throttle.AppPasswords)
	if err != nil {
		return fmt.Errorf("twofa: verify app password: %w", err)
	}
	if !counted {
		e := &ThrottledError{RetryAfter: st.Until.Sub(now), Until: st.Until}
		a.c.Events.emit(ctx, Event{Type: EventThrottled, Account: account, Time: now, Scope: ScopeAppPassword, RetryAfter: e.RetryAfter, Failures: st.Failures})
		return e
	}
	a.c.Events.emit(ctx, Event{Type: EventAppPasswordFailed, Account: account, Time: now, Failures: st.Failures})
	return ErrInvalidAppPassword
}

// List returns the account's active app passwords, oldest first: labels
// and times, never a password or digest.
func (a *AppPasswords) List(ctx context.Context, account string) ([]AppPasswordInfo, error) {
	if err := validAccount(account); err != nil {
		return nil, err
	}
	recs, err := a.c.Store.AppPasswords(ctx, account)
	if err != nil {
		return nil, fmt.Errorf("twofa: list app passwords: %w", err)
	}
	out := make([]AppPasswordInfo, len(recs))
	for i, r := range recs {
		out[i] = r.info()
	}
	return out, nil
}

// Revoke revokes one app password; it stops working at once. Errors:
// ErrInvalidAccount, ErrNotFound (also for a malformed id, see MaxIDLen:
// nothing is looked up).
func (a *AppPasswords) Revoke(ctx context.Context, account, id string) error {
	if err := validAccount(account); err != nil {
		return err
	}
	if err := validID("revoke app password", id); err != nil {
		return err
	}
	if err := a.c.Store.DeleteAppPassword(ctx, account, id); err != nil {
		return fmt.Errorf("twofa: revoke app password: %w", err)
	}
	a.c.Events.emit(ctx, Event{Type: EventAppPasswordRevoked, Account: account, AppPasswordID: id, Time: a.c.Clock.Now()})
	return nil
}

// RevokeAll revokes every app password of the account and returns how
// many there were.
func (a *AppPasswords) RevokeAll(ctx context.Context, account string) (int, error) {
	if err := validAccount(account); err != nil {
		return 0, err
	}
	return a.c.revokeAppPasswords(ctx, account)
}

func (c Config) revokeAppPasswords(ctx context.Context, account string) (int, error) {
	n, err := c.Store.DeleteAppPasswords(ctx, account)
	if err != nil {
		return 0, fmt.Errorf("twofa: revoke app passwords: %w", err)
	}
	if n > 0 {
		c.Events.emit(ctx, Event{Type: EventAppPasswordsRevoked, Account: account, Time: c.Clock.Now(), Count: n})
	}
	return n, nil
}

// newAppPassword returns 16 uniformly random lower-case letters from
// crypto/rand. Bytes of 234 or more are rejected (234 = 9·26), so every
// letter is equally likely.
func newAppPassword() ([appPasswordLetters]byte, error) {
	var out [appPasswordLetters]byte
	var buf [32]byte
	n := 0
	for n < len(out) {
		if _, err := rand.Read(buf[:]); err != nil {
			return out, fmt.Errorf("twofa: reading random app password: %w", err)
		}
		for _, b := range buf {
			if b < 234 && n < len(out) {
				out[n] = 'a' + b%26
				n++
			}
		}
	}
	clear(buf[:])
	return out, nil
}

func formatAppPassword(raw [appPasswordLetters]byte) string {
	b := make([]byte, 0, appPasswordLetters+3)
	for i, c := range raw {
		if i > 0 && i%4 == 0 {
			b = append(b, '-')
		}
		b = append(b, c)
	}
	return string(b)
}

// normalizeAppPassword reads a typed app password by the rule of package
// typed: at most 64 bytes, surrounding white space ignored, spaces and
// hyphens inside dropped, anything else but ASCII letters (a tab or a
// newline inside) refused. It lower-cases the letters and reports false
// unless 16 remain.
func normalizeAppPassword(s string) ([appPasswordLetters]byte, bool) {
	var out [appPasswordLetters]byte
	s, ok := typed.Trim(s, 64)
	if !ok {
		return out, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case typed.IsSeparator(c):
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z':
		default:
			return out, false
		}
		if n == appPasswordLetters {
			return out, false
		}
		out[n] = c
		n++
	}
	return out, n == appPasswordLetters
}
