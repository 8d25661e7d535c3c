package twofa

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// Trusted browsers.
const (
	// DefaultBrowserTTL is how long a browser stays trusted: 30 days, as
	// Apple ("you won't be asked for a verification code again on that
	// computer for 30 days", support.apple.com/HT204915) and Google
	// ("Remember verification for this computer for 30 days", Gmail blog,
	// February 2011) have done. Long enough that a daily user is rarely
	// asked, short enough that a forgotten browser falls out by itself.
	DefaultBrowserTTL = 30 * 24 * time.Hour
	// MaxBrowserTTL is the longest Config.Browsers.TTL: 400 days, the cap
	// browsers put on a cookie's lifetime (draft-ietf-httpbis-rfc6265bis,
	// "Max-Age attributes that are greater than the limit MUST be reduced
	// to the limit"). A longer trust would outlive its cookie.
	MaxBrowserTTL = 400 * 24 * time.Hour
	// DefaultMaxBrowsers bounds the trusted browsers of an account: more
	// than one person's browsers, profiles and devices over a BrowserTTL,
	// with room for cookies cleared and re-trusted, and few enough that
	// the settings page lists them on one screen and the store stays
	// small. At the limit, Trust evicts the least recently used one.
	DefaultMaxBrowsers = 50
	// BrowserTokenLen is the length of a browser token: 32 random bytes
	// (256 bits) in unpadded base64url (RFC 4648 Section 5).
	BrowserTokenLen = 43

	// browserTokenBytes is the entropy of a token.
	browserTokenBytes = 32
	// browserTouchInterval is how stale LastUsedAt may get before Check
	// writes it again: the settings page shows it to the hour, and a
	// request that only reads costs the store no write.
	browserTouchInterval = time.Hour
)

// ErrBrowserNotTrusted is matched by every error Browsers.Check returns
// for a token that does not skip the second factor: ErrMalformedToken,
// ErrBrowserUnknown, ErrBrowserExpired and ErrBrowserRevoked. Any other
// error is the store's or the Keyring's.
var ErrBrowserNotTrusted = errors.New("twofa: browser not trusted")

// Errors of Browsers.Check. Each matches ErrBrowserNotTrusted; ask for the
// second factor in every case.
var (
	// ErrMalformedToken: the input is not a browser token at all - not
	// exactly BrowserTokenLen characters of unpadded base64url in
	// canonical form (truncated, padded, another alphabet, too long).
	// Nothing was looked up.
	ErrMalformedToken = fmt.Errorf("%w: malformed token", ErrBrowserNotTrusted)
	// ErrBrowserUnknown: a well-formed token that was never issued to
	// this account (forged, another account's, or deleted after it
	// expired).
	ErrBrowserUnknown = fmt.Errorf("%w: unknown token", ErrBrowserNotTrusted)
	// ErrBrowserExpired: the browser's trust ran out (Config.Browsers.TTL).
	ErrBrowserExpired = fmt.Errorf("%w: expired", ErrBrowserNotTrusted)
	// ErrBrowserRevoked: the browser was revoked - by the user, by
	// RevokeAll (a password change, two-factor authentication turned
	// off) or evicted at the limit.
	ErrBrowserRevoked = fmt.Errorf("%w: revoked", ErrBrowserNotTrusted)
)

// BrowserInfo is what a settings page shows of a trusted browser: never
// its token or digest. encoding/json writes it with snake_case names and
// without the times that are unset.
type BrowserInfo struct {
	ID         string    `json:"id"`
	Label      string    `json:"label"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"`   // trusted until then (exclusive)
	LastUsedAt time.Time `json:"last_used_at,omitzero"` // to the hour: Check records it at most once an hour
	RevokedAt  time.Time `json:"revoked_at,omitzero"`   // set only in Check's ErrBrowserRevoked result
}

func (b Browser) info() BrowserInfo {
	return BrowserInfo{
		ID: b.ID, Label: b.Label, CreatedAt: b.CreatedAt, ExpiresAt: b.ExpiresAt,
		LastUsedAt: b.LastUsedAt, RevokedAt: b.RevokedAt,
	}
}

// Browsers remembers browsers in which an account passed its second
// factor, so that signing in there again asks only for the password
// ("don't ask again on this browser"). A trusted browser holds a random
// 256-bit token, in a cookie (SetBrowserCookie); the store keeps only its
// keyed digest, an expiry and a label.
//
// A trusted browser is revoked by the user (Revoke, RevokeAll), evicted
// when the account trusts more than Config.Browsers.Max, and every one is
// revoked when two-factor authentication is turned off (Devices.Revoke of
// the last confirmed device, or Phones.Remove of the last trusted number
// with Config.Phones.OutOfBand) or the primary password changes.
//
// Browsers is safe for concurrent use.
type Browsers struct {
	c  *Config
	st BrowserStore
}

// resolveBrowsers fills in the defaults of the trusted-browser fields and
// checks them.
func (c *Config) resolveBrowsers() error {
	b := &c.Browsers
	if b.TTL == 0 {
		b.TTL = DefaultBrowserTTL
	}
	if b.Max == 0 {
		b.Max = DefaultMaxBrowsers
	}
	if b.TTL < time.Second || b.TTL > MaxBrowserTTL {
		return fmt.Errorf("%w: Browsers.TTL %v outside 1s to %v", ErrConfig, b.TTL, MaxBrowserTTL)
	}
	if b.Max < 1 {
		return fmt.Errorf("%w: Browsers.Max must be positive", ErrConfig)
	}
	return nil
}

// Trust remembers the browser of the current request for account, labelled
// label, for Config.Browsers.TTL. BrowserLabel(r.UserAgent()) makes the
// label ("Firefox on Linux"): a User-Agent itself is usually longer than
// MaxLabelLen, and then refused. It returns the token to give the browser - with
// SetBrowserCookie, in the response - and to present to Check later. The
// token is shown once: only its keyed digest is stored.
//
// Call it only once the user has passed a second factor in this sign-in
// (TwoFA.Verify succeeded) and asked to be remembered: Trust does not
// check that itself. It does check that two-factor authentication is on
// for the account (a confirmed device, or with Config.Phones.OutOfBand a trusted
// phone number), else ErrNotEnrolled: a trusted browser skips a second
// factor, so there must be one.
//
// When the account already has Config.Browsers.Max trusted browsers, the
// least recently used one is revoked to make room (EventBrowserEvicted):
// the browser just verified is the one the user is using, and the evicted
// one merely asks for a code again. Trust never fails for the limit.
//
// Errors: ErrInvalidAccount, ErrInvalidLabel, ErrNotEnrolled, or a wrapped
// store or Keyring error.
func (b *Browsers) Trust(ctx context.Context, account, label string) (string, BrowserInfo, error) {
	if err := validAccount(account); err != nil {
		return "", BrowserInfo{}, err
	}
	label, err := normalizeLabel(label)
	if err != nil {
		return "", BrowserInfo{}, err
	}
	if on, err := b.c.enabled(ctx, account); err != nil || !on {
		if err == nil {
			err = ErrNotEnrolled
		}
		return "", BrowserInfo{}, err
	}
	var raw [browserTokenBytes]byte
	defer clear(raw[:])
	if _, err := rand.Read(raw[:]); err != nil {
		return "", BrowserInfo{}, fmt.Errorf("twofa: reading random browser token: %w", err)
	}
	digest, err := b.c.Keyring.Digest(PurposeBrowserToken, account, raw[:])
	if err != nil {
		return "", BrowserInfo{}, err
	}
	id, err := newID()
	if err != nil {
		return "", BrowserInfo{}, err
	}
	now := b.c.Clock.Now()
	rec := Browser{
		ID: id, Account: account, Label: label, Digest: digest,
		CreatedAt: now, ExpiresAt: now.Add(b.c.Browsers.TTL), LastUsedAt: now,
	}
	evicted, err := b.st.InsertBrowser(ctx, rec, b.c.Browsers.Max, now)
	if err != nil {
		return "", BrowserInfo{}, fmt.Errorf("twofa: trust browser: %w", err)
	}
	// Two-factor authentication may have been turned off while the record
	// was being stored, after that revocation had run. Look again: if it
	// is still on, any later turning off revokes this record.
	if on, err := b.c.enabled(ctx, account); err != nil || !on {
		if rerr := b.st.RevokeBrowser(ctx, account, id, now); rerr != nil && !errors.Is(rerr, ErrNotFound) {
			return "", BrowserInfo{}, fmt.Errorf("twofa: trust browser: %w", rerr)
		}
		if err == nil {
			err = ErrNotEnrolled
		}
		return "", BrowserInfo{}, err
	}
	b.c.Events.emit(ctx, Event{Type: EventBrowserTrusted, Account: account, BrowserID: id, Time: now})
	for _, e := range evicted {
		b.c.Events.emit(ctx, Event{Type: EventBrowserEvicted, Account: account, BrowserID: e, Time: now})
	}
	return base64.RawURLEncoding.EncodeToString(raw[:]), rec.info(), nil
}

// Check tells whether token, read from the browser's cookie (BrowserToken),
// is a browser trusted by account, so that this sign-in may skip the second
// factor. A nil error means it is; the BrowserInfo describes it.
//
// Otherwise the error matches ErrBrowserNotTrusted and says why:
// ErrMalformedToken, ErrBrowserUnknown, ErrBrowserExpired or
// ErrBrowserRevoked (the last two with the browser's BrowserInfo). Ask for
// the second factor in each case, and clear the cookie
// (ClearBrowserCookie). Other errors (ErrInvalidAccount, a store or
// Keyring error) mean nothing was decided.
//
// A token is a 256-bit random value: guessing one is hopeless, so Check
// is not throttled. It costs one keyed digest and one indexed lookup, plus,
// at most once an hour per browser, a write of its last-used time.
func (b *Browsers) Check(ctx context.Context, account, token string) (BrowserInfo, error) {
	if err := validAccount(account); err != nil {
		return BrowserInfo{}, err
	}
	now := b.c.Clock.Now()
	raw, ok := parseBrowserToken(token)
	if !ok {
		b.refused(ctx, account, "", now)
		return BrowserInfo{}, ErrMalformedToken
	}
	digest, err := b.c.Keyring.Digest(PurposeBrowserToken, account, raw[:])
	clear(raw[:])
	if err != nil {
		return BrowserInfo{}, err
	}
	rec, err := b.st.BrowserByDigest(ctx, account, digest)
	if errors.Is(err, ErrNotFound) || (err == nil && !hmac.Equal(rec.Digest, digest)) {
		b.refused(ctx, account, "", now)
		return BrowserInfo{}, ErrBrowserUnknown
	}
	if err != nil {
		return BrowserInfo{}, fmt.Errorf("twofa: check browser: %w", err)
	}
	switch {
	case !rec.RevokedAt.IsZero():
		b.refused(ctx, account, rec.ID, now)
		return rec.info(), ErrBrowserRevoked
	case !now.Before(rec.ExpiresAt):
		b.refused(ctx, account, rec.ID, now)
		return rec.info(), ErrBrowserExpired
	}
	if now.Sub(rec.LastUsedAt) >= browserTouchInterval {
		if err := b.st.TouchBrowser(ctx, account, rec.ID, now); err != nil {
			return BrowserInfo{}, fmt.Errorf("twofa: check browser: %w", err)
		}
		rec.LastUsedAt = now
	}
	b.c.Events.emit(ctx, Event{Type: EventBrowserUsed, Account: account, BrowserID: rec.ID, Time: now})
	return rec.info(), nil
}

func (b *Browsers) refused(ctx context.Context, account, id string, now time.Time) {
	b.c.Events.emit(ctx, Event{Type: EventBrowserRefused, Account: account, BrowserID: id, Time: now})
}

// parseBrowserToken decodes a token: exactly BrowserTokenLen characters of
// the base64url alphabet, in canonical form (the unused low bits of the
// last character zero, so that no two strings name one token). The length
// is checked first, so a huge input costs nothing.
func parseBrowserToken(s string) ([browserTokenBytes]byte, bool) {
	var raw [browserTokenBytes]byte
	if len(s) != BrowserTokenLen {
		return raw, false
	}
	for i := 0; i < len(s); i++ {
		// The decoder would skip '\r' and '\n': accept the alphabet only.
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return raw, false
		}
	}
	n, err := base64.RawURLEncoding.Strict().Decode(raw[:], []byte(s))
	if err != nil || n != browserTokenBytes {
		clear(raw[:])
		return raw, false
	}
	return raw, true
}

// List returns the account's trusted browsers, oldest first: those neither
// revoked nor expired.
func (b *Browsers) List(ctx context.Context, account string) ([]BrowserInfo, error) {
	if err := validAccount(account); err != nil {
		return nil, err
	}
	recs, err := b.st.Browsers(ctx, account)
	if err != nil {
		return nil, fmt.Errorf("twofa: list browsers: %w", err)
	}
	now := b.c.Clock.Now()
	out := make([]BrowserInfo, 0, len(recs))
	for i := range recs {
		if recs[i].live(now) {
			out = append(out, recs[i].info())
		}
	}
	return out, nil
}

// Revoke stops trusting one browser: its token is refused from now on
// (ErrBrowserRevoked). Errors: ErrInvalidAccount, ErrNotFound (no such
// browser, or revoked already; also a malformed id, see MaxIDLen, for
// which nothing is looked up).
func (b *Browsers) Revoke(ctx context.Context, account, id string) error {
	if err := validAccount(account); err != nil {
		return err
	}
	if err := validID("revoke browser", id); err != nil {
		return err
	}
	now := b.c.Clock.Now()
	if err := b.st.RevokeBrowser(ctx, account, id, now); err != nil {
		return fmt.Errorf("twofa: revoke browser: %w", err)
	}
	b.c.Events.emit(ctx, Event{Type: EventBrowserRevoked, Account: account, BrowserID: id, Time: now})
	return nil
}

// RevokeAll stops trusting every browser of the account - "sign out
// everywhere else" for the second factor - and returns how many it
// revoked. EventBrowsersRevoked reports it when there were any. It runs by
// itself when two-factor authentication is turned off and when the
// primary password changes.
func (b *Browsers) RevokeAll(ctx context.Context, account string) (int, error) {
	if err := validAccount(account); err != nil {
		return 0, err
	}
	return b.c.revokeBrowsers(ctx, account)
}

// DeleteExpired removes the records of browsers, across accounts, whose
// trust has run out - revoked ones included, which are kept until then so
// that Check can report ErrBrowserRevoked - and returns how many. Run it
// now and then (say, daily); Trust also removes an account's expired
// records as it adds one.
func (b *Browsers) DeleteExpired(ctx context.Context) (int, error) {
	n, err := b.st.DeleteExpiredBrowsers(ctx, b.c.Clock.Now())
	if err != nil {
		return 0, fmt.Errorf("twofa: delete expired browsers: %w", err)
	}
	return n, nil
}

// revokeBrowsers revokes every trusted browser of the account, for the
// paths that end what they vouched for: two-factor authentication turned
// off, the primary password changed. c need not be resolved.
func (c Config) revokeBrowsers(ctx context.Context, account string) (int, error) {
	now := clockOrSystem(c.Clock).Now()
	n, err := c.Store.RevokeBrowsers(ctx, account, now)
	if err != nil {
		return 0, fmt.Errorf("twofa: revoke trusted browsers: %w", err)
	}
	if n > 0 {
		c.Events.emit(ctx, Event{Type: EventBrowsersRevoked, Account: account, Time: now, Count: n})
	}
	return n, nil
}
