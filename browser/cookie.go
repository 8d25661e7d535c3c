package browser

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// DefaultCookieName is the name of the trusted-browser cookie. The
// "__Host-" prefix (draft-ietf-httpbis-rfc6265bis, Section 4.1.3.2) makes
// browsers accept the cookie only when it is Secure, has Path=/ and no
// Domain attribute: it is bound to the exact host that set it, so neither
// a sibling subdomain nor a plain-HTTP response can plant, overwrite or
// shadow it.
const DefaultCookieName = "__Host-twofa_browser"

// Cookie sets and reads the cookie that carries a trusted browser's
// token. Its zero value uses DefaultCookieName; the package
// functions SetCookie, Token and ClearCookie do the
// same. A Cookie is a plain value, safe for concurrent use.
//
// The cookie is Secure (sent over HTTPS only; browsers treat
// http://localhost as secure too, for development), HttpOnly (no script
// can read the token, so an XSS cannot steal it), SameSite=Lax (sent on a
// top-level navigation to the sign-in page, not on cross-site
// subrequests) and Path=/, with no Domain.
type Cookie struct {
	// Name is the cookie's name; empty means DefaultCookieName.
	// Keep the "__Host-" prefix unless a client cannot handle it:
	// without it, another subdomain may set a cookie of the same name
	// that the browser sends first.
	Name string
}

func (c Cookie) name() string {
	if c.Name == "" {
		return DefaultCookieName
	}
	return c.Name
}

func (c Cookie) cookie(value string, maxAge int) *http.Cookie {
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
// token Manager.Trust returned, until b.ExpiresAt: Max-Age is the
// browser's trust period, b.ExpiresAt - b.CreatedAt, in whole seconds.
// Call it in the response to the request that called Trust (before
// writing the body). It reports an error, and sets nothing, for a token
// that is not well-formed, a Info that does not last a second, or
// an invalid cookie name.
func (c Cookie) Set(w http.ResponseWriter, token string, b Info) error {
	if _, ok := parseToken(token); !ok {
		return fmt.Errorf("twofa: browser cookie: %w", ErrMalformedToken)
	}
	secs := b.ExpiresAt.Sub(b.CreatedAt) / time.Second
	if secs < 1 {
		return errors.New("twofa: browser cookie: the browser's trust lasts less than a second")
	}
	ck := c.cookie(token, int(secs))
	if err := ck.Valid(); err != nil {
		return fmt.Errorf("twofa: browser cookie: %w", err)
	}
	http.SetCookie(w, ck)
	return nil
}

// Token returns the value of the cookie in r, and whether there was one
// (not empty). It does not check the value: Manager.Check does.
func (c Cookie) Token(r *http.Request) (string, bool) {
	ck, err := r.Cookie(c.name())
	if err != nil || ck.Value == "" {
		return "", false
	}
	return ck.Value, true
}

// Clear adds a Set-Cookie header to w that deletes the cookie (Max-Age=0,
// with the same attributes, which a "__Host-" cookie needs to be
// replaced): after Check refused its token, or when the user signs out of
// a browser they no longer want trusted. It reports an error, and sets
// nothing, for an invalid cookie name.
func (c Cookie) Clear(w http.ResponseWriter) error {
	ck := c.cookie("", -1)
	if err := ck.Valid(); err != nil {
		return fmt.Errorf("twofa: browser cookie: %w", err)
	}
	http.SetCookie(w, ck)
	return nil
}

// SetCookie gives the browser its token in the cookie named
// DefaultCookieName, as Cookie.Set describes.
func SetCookie(w http.ResponseWriter, token string, b Info) error {
	return Cookie{}.Set(w, token, b)
}

// Token returns the token from r's cookie named
// DefaultCookieName, and whether there was one, as
// Cookie.Token describes.
func Token(r *http.Request) (string, bool) {
	return Cookie{}.Token(r)
}

// ClearCookie deletes the cookie named DefaultCookieName, as
// Cookie.Clear describes.
func ClearCookie(w http.ResponseWriter) {
	_ = Cookie{}.Clear(w) // the default name is valid
}
