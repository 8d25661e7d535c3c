// Package browser remembers browsers in which an account passed its second
// factor, so that signing in there again asks only for the password
// ("don't ask again on this browser"), and carries their token in a
// Secure, HttpOnly cookie (SetCookie, Token, ClearCookie).
//
// It is built on a twofa installation and imports package twofa, which
// never imports it: an application without trusted browsers links none of
// this package, nor net/http. New attaches the Manager to the installation
// as a twofa.Dependent, so that what ends two-factor authentication (the
// last second factor removed) and TwoFA.PasswordChanged revoke every
// trusted browser of the account, exactly as when trusted browsers were
// part of package twofa. The events (EventTrusted and the
// others) are the installation's: they go to twofa.Config.Events.
//
//	tf, _ := twofa.New(twofa.Config{Store: store, Keyring: keys, Issuer: "Example"})
//	browsers, _ := browser.New(tf, browser.Config{Store: store})
//
//	// After tf.Verify accepted a code and the user ticked "remember":
//	tok, info, _ := browsers.Trust(ctx, account, browser.Label(r.UserAgent()))
//	_ = browser.SetCookie(w, tok, info)
//
//	// After the password, next time:
//	if tok, ok := browser.Token(r); ok {
//		if _, err := browsers.Check(ctx, account, tok); err == nil {
//			// signed in: no code needed
//		}
//	}
package browser

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/twofa-go/twofa"
)

// Trusted browsers.
const (
	// DefaultTTL is how long a browser stays trusted: 30 days, as
	// Apple ("you won't be asked for a verification code again on that
	// computer for 30 days", support.apple.com/HT204915) and Google
	// ("Remember verification for this computer for 30 days", Gmail blog,
	// February 2011) have done. Long enough that a daily user is rarely
	// asked, short enough that a forgotten browser falls out by itself.
	DefaultTTL = 30 * 24 * time.Hour
	// MaxTTL is the longest Config.TTL: 400 days, the cap
	// browsers put on a cookie's lifetime (draft-ietf-httpbis-rfc6265bis,
	// "Max-Age attributes that are greater than the limit MUST be reduced
	// to the limit"). A longer trust would outlive its cookie.
	MaxTTL = 400 * 24 * time.Hour
	// DefaultMax bounds the trusted browsers of an account: more
	// than one person's browsers, profiles and devices over a BrowserTTL,
	// with room for cookies cleared and re-trusted, and few enough that
	// the settings page lists them on one screen and the store stays
	// small. At the limit, Trust evicts the least recently used one.
	DefaultMax = 50
	// TokenLen is the length of a browser token: 32 random bytes
	// (256 bits) in unpadded base64url (RFC 4648 Section 5).
	TokenLen = 43

	// tokenBytes is the entropy of a token.
	tokenBytes = 32
	// touchInterval is how stale LastUsedAt may get before Check
	// writes it again: the settings page shows it to the hour, and a
	// request that only reads costs the store no write.
	touchInterval = time.Hour
)

// ErrNotTrusted is matched by every error Manager.Check returns
// for a token that does not skip the second factor: ErrMalformedToken,
// ErrUnknown, ErrExpired and ErrRevoked. Any other
// error is the store's or the Keyring's.
var ErrNotTrusted = errors.New("twofa: browser not trusted")

// Errors of Manager.Check. Each matches ErrNotTrusted; ask for the
// second factor in every case.
var (
	// ErrMalformedToken: the input is not a browser token at all - not
	// exactly TokenLen characters of unpadded base64url in
	// canonical form (truncated, padded, another alphabet, too long).
	// Nothing was looked up.
	ErrMalformedToken = fmt.Errorf("%w: malformed token", ErrNotTrusted)
	// ErrUnknown: a well-formed token that was never issued to
	// this account (forged, another account's, or deleted after it
	// expired).
	ErrUnknown = fmt.Errorf("%w: unknown token", ErrNotTrusted)
	// ErrExpired: the browser's trust ran out (Config.TTL).
	ErrExpired = fmt.Errorf("%w: expired", ErrNotTrusted)
	// ErrRevoked: the browser was revoked - by the user, by
	// RevokeAll (a password change, two-factor authentication turned
	// off) or evicted at the limit.
	ErrRevoked = fmt.Errorf("%w: revoked", ErrNotTrusted)
)

// Info is what a settings page shows of a trusted browser: never
// its token or digest. encoding/json writes it with snake_case names and
// without the times that are unset.
type Info struct {
	ID         string    `json:"id"`
	Label      string    `json:"label"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"`   // trusted until then (exclusive)
	LastUsedAt time.Time `json:"last_used_at,omitzero"` // to the hour: Check records it at most once an hour
	RevokedAt  time.Time `json:"revoked_at,omitzero"`   // set only in Check's ErrRevoked result
}

func (b Record) info() Info {
	return Info{
		ID: b.ID, Label: b.Label, CreatedAt: b.CreatedAt, ExpiresAt: b.ExpiresAt,
		LastUsedAt: b.LastUsedAt, RevokedAt: b.RevokedAt,
	}
}

// Config sets up the trusted browsers of an installation (New). The zero
// value of every optional field gives the documented default.
type Config struct {
	// Store keeps the records; nil means the installation's Store
	// (twofa.Config.Store), which must then implement Store (memstore and
	// sqlstore do).
	Store Store
	TTL   time.Duration // how long a browser stays trusted; 0: DefaultTTL
	Max   int           // per account; 0: DefaultMax
}

// Manager remembers browsers in which an account passed its second
// factor, so that signing in there again asks only for the password
// ("don't ask again on this browser"). A trusted browser holds a random
// 256-bit token, in a cookie (SetCookie); the store keeps only its
// keyed digest, an expiry and a label.
//
// A trusted browser is revoked by the user (Revoke, RevokeAll), evicted
// when the account trusts more than Config.Max, and every one is revoked
// when two-factor authentication is turned off (TwoFA.Devices.Revoke of the last
// confirmed device, or package phone's Manager.Remove of the last trusted
// number with its OutOfBand set) or the primary password changes
// (twofa.TwoFA.PasswordChanged): New attaches the Manager to the installation as
// a twofa.Dependent.
//
// Manager is safe for concurrent use.
type Manager struct {
	tf     *twofa.TwoFA
	st     Store
	ttl    time.Duration
	max    int
	keys   twofa.Keyring
	clock  twofa.Clock
	events twofa.EventHook
}

// New returns the trusted browsers of the installation tf, read from its
// resolved Config (Keyring, Clock, Events) and c, and attaches them to tf
// (twofa.TwoFA.Attach), so that turning two-factor authentication off and
// twofa.TwoFA.PasswordChanged revoke every trusted browser of the account. Build
// it once per installation, in every process that shares the store: a
// process without it does not revoke browsers on those paths. Errors
// match twofa.ErrConfig.
func New(tf *twofa.TwoFA, c Config) (*Manager, error) {
	if tf == nil {
		return nil, fmt.Errorf("%w: browser.New needs an installation", twofa.ErrConfig)
	}
	tc := tf.Config()
	if c.Store == nil {
		st, ok := tc.Store.(Store)
		if !ok {
			return nil, fmt.Errorf("%w: browser.Config.Store is nil and the installation's Store is not a browser.Store", twofa.ErrConfig)
		}
		c.Store = st
	}
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.Max == 0 {
		c.Max = DefaultMax
	}
	if c.TTL < time.Second || c.TTL > MaxTTL {
		return nil, fmt.Errorf("%w: browser.Config.TTL %v outside 1s to %v", twofa.ErrConfig, c.TTL, MaxTTL)
	}
	if c.Max < 1 {
		return nil, fmt.Errorf("%w: browser.Config.Max must be positive", twofa.ErrConfig)
	}
	m := &Manager{
		tf: tf, st: c.Store, ttl: c.TTL, max: c.Max,
		keys: tc.Keyring, clock: tc.Clock, events: tc.Events,
	}
	tf.Attach(m)
	return m, nil
}

// Config returns the resolved Config: every default filled in.
func (b *Manager) Config() Config { return Config{Store: b.st, TTL: b.ttl, Max: b.max} }

func (b *Manager) emit(ctx context.Context, e twofa.Event) {
	if b.events != nil {
		b.events(ctx, e)
	}
}

// Trust remembers the browser of the current request for account, labelled
// label, for Config.TTL. Label(r.UserAgent()) makes the
// label ("Firefox on Linux"): a User-Agent itself is usually longer than
// twofa.MaxLabelLen, and then refused. It returns the token to give the browser - with
// SetCookie, in the response - and to present to Check later. The
// token is shown once: only its keyed digest is stored.
//
// Call it only once the user has passed a second factor in this sign-in
// (twofa.TwoFA.Verify succeeded) and asked to be remembered: Trust does not
// check that itself. It does check that two-factor authentication is on
// for the account (a confirmed device, or a trusted record of an attached
// twofa.Factor such as a phone number), else twofa.ErrNotEnrolled: a
// trusted browser skips a second factor, so there must be one. The record
// is stored through twofa.TwoFA.Issue, so it cannot outlive that factor.
//
// When the account already has Config.Max trusted browsers, the
// least recently used one is revoked to make room (EventEvicted):
// the browser just verified is the one the user is using, and the evicted
// one merely asks for a code again. Trust never fails for the limit.
//
// Errors: twofa.ErrInvalidAccount, twofa.ErrInvalidLabel, twofa.ErrNotEnrolled, or a wrapped
// store or Keyring error.
func (b *Manager) Trust(ctx context.Context, account, label string) (string, Info, error) {
	if err := twofa.CheckAccount(account); err != nil {
		return "", Info{}, err
	}
	label, err := twofa.NormalizeLabel(label)
	if err != nil {
		return "", Info{}, err
	}
	var raw [tokenBytes]byte
	defer clear(raw[:])
	if _, err := rand.Read(raw[:]); err != nil {
		return "", Info{}, fmt.Errorf("twofa: reading random browser token: %w", err)
	}
	digest, err := b.keys.Digest(DigestPurpose, account, raw[:])
	if err != nil {
		return "", Info{}, err
	}
	id, err := twofa.NewID()
	if err != nil {
		return "", Info{}, err
	}
	now := b.clock.Now()
	rec := Record{
		ID: id, Account: account, Label: label, Digest: digest,
		CreatedAt: now, ExpiresAt: now.Add(b.ttl), LastUsedAt: now,
	}
	if rec.MAC, err = twofa.StateMAC(b.keys, account, twofa.RecordBrowser, id, rec.state()); err != nil {
		return "", Info{}, fmt.Errorf("twofa: trust browser: %w", err)
	}
	// Issued under the installation's lifecycle lock, while two-factor
	// authentication is on: turning it off either finished before (and
	// nothing is stored) or waits for this insert (and revokes it).
	var evicted []string
	err = b.tf.Issue(ctx, account, func(ctx context.Context) error {
		var err error
		evicted, err = b.st.InsertBrowser(ctx, rec, b.max, now)
		if err != nil {
			return fmt.Errorf("twofa: trust browser: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", Info{}, err
	}
	b.emit(ctx, twofa.Event{Type: EventTrusted, Account: account, BrowserID: id, Time: now})
	for _, e := range evicted {
		b.emit(ctx, twofa.Event{Type: EventEvicted, Account: account, BrowserID: e, Time: now})
	}
	return base64.RawURLEncoding.EncodeToString(raw[:]), rec.info(), nil
}

// Check tells whether token, read from the browser's cookie (Token),
// is a browser trusted by account, so that this sign-in may skip the second
// factor. A nil error means it is; the Info describes it.
//
// Otherwise the error matches ErrNotTrusted and says why:
// ErrMalformedToken, ErrUnknown, ErrExpired or
// ErrRevoked (the last two with the browser's Info). Ask for
// the second factor in each case, and clear the cookie
// (ClearCookie). Other errors (twofa.ErrInvalidAccount, a store or
// Keyring error) mean nothing was decided.
//
// A token is a 256-bit random value: guessing one is hopeless, so Check
// is not throttled. It costs one keyed digest and one indexed lookup, plus,
// at most once an hour per browser, a write of its last-used time.
func (b *Manager) Check(ctx context.Context, account, token string) (Info, error) {
	if err := twofa.CheckAccount(account); err != nil {
		return Info{}, err
	}
	now := b.clock.Now()
	raw, ok := parseToken(token)
	if !ok {
		b.refused(ctx, account, "", now)
		return Info{}, ErrMalformedToken
	}
	digest, err := b.keys.Digest(DigestPurpose, account, raw[:])
	clear(raw[:])
	if err != nil {
		return Info{}, err
	}
	rec, err := b.st.BrowserByDigest(ctx, account, digest)
	if errors.Is(err, twofa.ErrNotFound) || (err == nil && !hmac.Equal(rec.Digest, digest)) {
		b.refused(ctx, account, "", now)
		return Info{}, ErrUnknown
	}
	if err != nil {
		return Info{}, fmt.Errorf("twofa: check browser: %w", err)
	}
	if !rec.RevokedAt.IsZero() {
		b.refused(ctx, account, rec.ID, now)
		return rec.info(), ErrRevoked
	}
	// An expired record is refused before its MAC is checked: a refusal
	// needs no authentication, and a browser that expired before a key
	// rotation finished (ResealMACs skips it) is reported as expired, not
	// as tampered with.
	if !now.Before(rec.ExpiresAt) {
		b.refused(ctx, account, rec.ID, now)
		return rec.info(), ErrExpired
	}
	// The record's live state is authenticated before it is trusted: a
	// revocation cleared, or an expiry moved, by someone without the keys
	// fails here.
	if _, err := twofa.CheckStateMAC(b.keys, account, twofa.RecordBrowser, rec.ID, rec.state(), rec.MAC); err != nil {
		b.emit(ctx, twofa.Event{Type: twofa.EventTampered, Account: account, BrowserID: rec.ID, Time: now})
		b.refused(ctx, account, rec.ID, now)
		return Info{}, &TamperedError{err: err}
	}
	if now.Sub(rec.LastUsedAt) >= touchInterval {
		if err := b.st.TouchBrowser(ctx, account, rec.ID, now); err != nil {
			return Info{}, fmt.Errorf("twofa: check browser: %w", err)
		}
		rec.LastUsedAt = now
	}
	b.emit(ctx, twofa.Event{Type: EventUsed, Account: account, BrowserID: rec.ID, Time: now})
	return rec.info(), nil
}

// state is what a live record's MAC authenticates besides its id and
// account: its digest and expiry.
func (r *Record) state() []byte {
	b := make([]byte, 0, 2+len(r.Digest)+8)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.Digest)))
	b = append(b, r.Digest...)
	return binary.BigEndian.AppendUint64(b, uint64(twofa.TimeNanos(r.ExpiresAt)))
}

// TamperedError is Check's refusal of a record whose MAC does not verify
// (see Record.MAC): it matches ErrNotTrusted and twofa.ErrTampered, and
// wraps the *twofa.TamperedError. Ask for the second factor, as for any
// other refusal.
type TamperedError struct{ err error }

func (e *TamperedError) Error() string { return "twofa: browser not trusted: " + e.err.Error() }

// Is reports whether target is ErrNotTrusted.
func (e *TamperedError) Is(target error) bool { return target == ErrNotTrusted }

// Unwrap returns the *twofa.TamperedError.
func (e *TamperedError) Unwrap() error { return e.err }

func (b *Manager) refused(ctx context.Context, account, id string, now time.Time) {
	b.emit(ctx, twofa.Event{Type: EventRefused, Account: account, BrowserID: id, Time: now})
}

// parseToken decodes a token: exactly TokenLen characters of
// the base64url alphabet, in canonical form (the unused low bits of the
// last character zero, so that no two strings name one token). The length
// is checked first, so a huge input costs nothing.
func parseToken(s string) ([tokenBytes]byte, bool) {
	var raw [tokenBytes]byte
	if len(s) != TokenLen {
		return raw, false
	}
	for i := 0; i < len(s); i++ {
		// The decoder would skip '\r' and '\n': accept the alphabet only.
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return raw, false
		}
	}
	n, err := base64.RawURLEncoding.Strict().Decode(raw[:], []byte(s))
	if err != nil || n != tokenBytes {
		clear(raw[:])
		return raw, false
	}
	return raw, true
}

// List returns the account's trusted browsers, oldest first: those neither
// revoked nor expired.
func (b *Manager) List(ctx context.Context, account string) ([]Info, error) {
	if err := twofa.CheckAccount(account); err != nil {
		return nil, err
	}
	recs, err := b.st.Browsers(ctx, account)
	if err != nil {
		return nil, fmt.Errorf("twofa: list browsers: %w", err)
	}
	now := b.clock.Now()
	out := make([]Info, 0, len(recs))
	for i := range recs {
		if recs[i].live(now) {
			out = append(out, recs[i].info())
		}
	}
	return out, nil
}

// Revoke stops trusting one browser: its token is refused from now on
// (ErrRevoked). Errors: twofa.ErrInvalidAccount, twofa.ErrNotFound (no such
// browser, or revoked already; also a malformed id, see twofa.MaxIDLen, for
// which nothing is looked up).
func (b *Manager) Revoke(ctx context.Context, account, id string) error {
	if err := twofa.CheckAccount(account); err != nil {
		return err
	}
	if err := twofa.CheckID("revoke browser", id); err != nil {
		return err
	}
	now := b.clock.Now()
	if err := b.st.RevokeBrowser(ctx, account, id, now); err != nil {
		return fmt.Errorf("twofa: revoke browser: %w", err)
	}
	b.emit(ctx, twofa.Event{Type: EventRevoked, Account: account, BrowserID: id, Time: now})
	return nil
}

// RevokeAll stops trusting every browser of the account - "sign out
// everywhere else" for the second factor - and returns how many it
// revoked. EventRevokedAll reports it when there were any. It runs by
// itself when two-factor authentication is turned off and when the
// primary password changes.
func (b *Manager) RevokeAll(ctx context.Context, account string) (int, error) {
	if err := twofa.CheckAccount(account); err != nil {
		return 0, err
	}
	now := b.clock.Now()
	n, err := b.st.RevokeBrowsers(ctx, account, now)
	if err != nil {
		return 0, fmt.Errorf("twofa: revoke trusted browsers: %w", err)
	}
	if n > 0 {
		b.emit(ctx, twofa.Event{Type: EventRevokedAll, Account: account, Time: now, Count: n})
	}
	return n, nil
}

// Purge removes the records of browsers, across accounts, whose trust
// has run out - revoked ones included, which are kept until then so that
// Check can report ErrRevoked - and returns how many. twofa.TwoFA.Purge
// runs it (the Manager is attached to the installation); run that now and
// then (say, daily). Trust also removes an account's expired records as
// it adds one.
func (b *Manager) Purge(ctx context.Context) (int, error) {
	n, err := b.st.DeleteExpiredBrowsers(ctx, b.clock.Now())
	if err != nil {
		return 0, fmt.Errorf("twofa: purge browsers: %w", err)
	}
	return n, nil
}

// DigestPurpose is the purpose this package passes to
// twofa.Keyring.Digest for browser tokens. It is part of every stored
// digest: renaming it would invalidate them all.
const DigestPurpose = "browser-token"

// Events of trusted browsers, reported through the installation's
// Config.Events.
const (
	EventTrusted    twofa.EventType = "browser_trusted"  // a browser was trusted to skip the second factor (Manager.Trust)
	EventUsed       twofa.EventType = "browser_used"     // a trusted browser's token was accepted (Manager.Check)
	EventRefused    twofa.EventType = "browser_refused"  // a browser token was refused: malformed, unknown, expired or revoked
	EventRevoked    twofa.EventType = "browser_revoked"  // one trusted browser was revoked
	EventEvicted    twofa.EventType = "browser_evicted"  // the least recently used trusted browser was revoked to make room
	EventRevokedAll twofa.EventType = "browsers_revoked" // every trusted browser of the account was revoked (Count says how many)
)
