package twofahttp

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// DefaultSignInCookieName is the name of the cookie that carries the
// token of a pending sign-in: one whose password was right and whose
// second factor is still to come. The "__Host-" prefix
// (draft-ietf-httpbis-rfc6265bis, Section 4.1.3.2) makes browsers accept
// it only when it is Secure, has Path=/ and no Domain: bound to the host
// that set it, so no sibling subdomain and no plain-HTTP response can
// plant or overwrite it - the same as package browser's trusted-browser
// cookie.
const DefaultSignInCookieName = "__Host-twofa_signin"

// MaxSignInTokenLen bounds the token SignInCookie.Set takes and Token
// returns: well above the 43 characters of a 256-bit token in base64url,
// and far below the 4096 bytes browsers keep of a cookie.
const MaxSignInTokenLen = 256

// SignInCookie sets, reads and clears the pending sign-in's cookie. Its
// zero value uses DefaultSignInCookieName. It is a plain value, safe for
// concurrent use.
//
// The cookie is Secure (HTTPS only; browsers count http://localhost as
// secure), HttpOnly (no script, so no XSS, can read the token), SameSite=Lax
// (sent when the user follows a link to the sign-in page, not with
// cross-site subrequests or posts) and Path=/, with no Domain, as package
// browser's Cookie is.
type SignInCookie struct {
	// Name is the cookie's name; empty means DefaultSignInCookieName.
	// Keep the "__Host-" prefix unless a client cannot handle it.
	Name string
}

func (c SignInCookie) name() string {
	if c.Name == "" {
		return DefaultSignInCookieName
	}
	return c.Name
}

func (c SignInCookie) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     c.name(),
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		Secure:   true,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
}

// Set adds a Set-Cookie header to w that gives the browser token, the
// pending sign-in's token, for ttl, the sign-in's time to live: Max-Age is
// ttl in whole seconds, so the cookie never outlives the sign-in. Call it
// before writing the body. It reports an error, and sets nothing, for a
// token that is empty, longer than MaxSignInTokenLen or not made of
// base64url or base32 characters (A-Z, a-z, 0-9, '-', '_'), for a ttl
// under a second, or for an invalid cookie name.
func (c SignInCookie) Set(w http.ResponseWriter, token string, ttl time.Duration) error {
	if !validSignInToken(token) {
		return errors.New("twofahttp: sign-in cookie: malformed token")
	}
	secs := ttl / time.Second
	if secs < 1 {
		return errors.New("twofahttp: sign-in cookie: the sign-in lasts less than a second")
	}
	ck := c.cookie(token, int(min(secs, maxCookieAge)))
	if err := ck.Valid(); err != nil {
		return fmt.Errorf("twofahttp: sign-in cookie: %w", err)
	}
	http.SetCookie(w, ck)
	return nil
}

// maxCookieAge is the cap browsers put on Max-Age, 400 days
// (draft-ietf-httpbis-rfc6265bis); it also keeps the seconds in an int
// on every platform.
const maxCookieAge = 400 * 24 * 60 * 60

// Token returns the token in r's cookie, and whether there was a
// well-formed one (as Set takes). It does not check the token against the
// store: the sign-in does.
func (c SignInCookie) Token(r *http.Request) (string, bool) {
	ck, err := r.Cookie(c.name())
	if err != nil || !validSignInToken(ck.Value) {
		return "", false
	}
	return ck.Value, true
}

// Clear adds a Set-Cookie header to w that deletes the cookie (Max-Age=0,
// with the same attributes, which a "__Host-" cookie needs to be
// replaced): once the sign-in has finished, failed for good or been
// cancelled. It reports an error, and sets nothing, for an invalid cookie
// name.
func (c SignInCookie) Clear(w http.ResponseWriter) error {
	ck := c.cookie("", -1)
	if err := ck.Valid(); err != nil {
		return fmt.Errorf("twofahttp: sign-in cookie: %w", err)
	}
	http.SetCookie(w, ck)
	return nil
}

func validSignInToken(s string) bool {
	if s == "" || len(s) > MaxSignInTokenLen {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
