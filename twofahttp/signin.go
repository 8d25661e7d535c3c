package twofahttp

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/signin"
)

// ErrNoSignInCookie: the request carries no well-formed sign-in cookie, so
// there is no pending sign-in to look up, finish or cancel. It matches
// signin.ErrNotFound (and so twofa.ErrNotFound: ProblemFor makes it the
// generic 401); a handler that wants to send such a browser to the
// password page without a message tests for it first.
var ErrNoSignInCookie = fmt.Errorf("%w: no sign-in cookie", signin.ErrNotFound)

// SignIn is the second step of a form-based sign-in on net/http, between a
// checked password and a checked second factor: package signin's pending
// sign-ins, with the pending token in a cookie (SignInCookie) and "trust
// this browser" in package browser's cookie. A login handler calls Begin
// once the password is right; the code page calls Pending to know whose
// sign-in it is, and Finish with the code the user typed; a "cancel"
// button calls Cancel.
//
// SignIns is required; the other fields have working zero values. A
// SignIn is a plain value, safe for concurrent use as long as its fields
// are not changed. Wrap the handlers that call it in
// CrossOriginProtection: they are form posts that change state.
type SignIn struct {
	// SignIns keeps the pending sign-ins (signin.New).
	SignIns *signin.Manager
	// Browsers are the trusted browsers, which Finish trusts when asked
	// to; nil means SignIns' own (signin.Config.Browsers), and if it has
	// none either, Finish ignores trust.
	Browsers *browser.Manager
	// Cookie carries the pending sign-in's token; its zero value is
	// DefaultSignInCookieName.
	Cookie SignInCookie
	// BrowserCookie carries a trusted browser's token; its zero value is
	// browser.DefaultCookieName.
	BrowserCookie browser.Cookie
	// ClientIP returns the client's address for signin.Request.IP,
	// without the port, "" for none. nil means the host of r.RemoteAddr
	// ("" if that is not an IP address): right for a server that faces
	// the clients itself; behind a proxy, supply the backend's own
	// reading of X-Forwarded-For. A value that is not an address makes
	// Begin fail with signin.ErrInvalidIP (ProblemFor: 500, a server
	// fault).
	ClientIP func(r *http.Request) string
	// ErrorLog receives the errors Finish cannot return: trusting the
	// browser failed after the sign-in was complete. nil means the log
	// package's standard logger. No message holds a token or a code.
	ErrorLog *log.Logger
}

// Begin starts the second step for account, whose password r just
// passed. It reports done when the account is signed in at once - two-
// factor authentication is off for it, or r carries the cookie of one of
// its trusted browsers - and then sets no cookie: start the session.
// Otherwise it records a pending sign-in (with the browser's label,
// browser.Label(r.UserAgent()), and ClientIP(r)), sets the sign-in cookie
// on w for the sign-in's TTL, and reports done false: send the browser
// to the page that asks for the code. Call it before writing the body.
//
// A pending sign-in that r's cookie already names is cancelled first (and
// its cookie cleared, when done): a browser has one at a time, and
// starting over makes the old token useless.
//
// Errors are signin.Manager.Begin's (twofa.ErrInvalidAccount,
// signin.ErrInvalidIP, a wrapped store error); nothing is set on w then.
func (s SignIn) Begin(w http.ResponseWriter, r *http.Request, account string) (done bool, err error) {
	if s.SignIns == nil {
		return false, errNoManager
	}
	ctx := r.Context()
	old, hadOld := s.Cookie.Token(r)
	if hadOld {
		if err := s.SignIns.Cancel(ctx, old); err != nil && !errors.Is(err, signin.ErrNotFound) {
			return false, err
		}
	}
	bt, _ := s.BrowserCookie.Token(r)
	tok, p, err := s.SignIns.Begin(ctx, account, signin.Request{
		BrowserToken: bt,
		Label:        browser.Label(r.UserAgent()),
		IP:           s.clientIP(r),
	})
	if err != nil {
		return false, err
	}
	if p.Done {
		if hadOld {
			_ = s.Cookie.Clear(w)
		}
		return true, nil
	}
	if err := s.Cookie.Set(w, tok, p.Info.ExpiresAt.Sub(p.Info.CreatedAt)); err != nil {
		// Cannot happen for a token Begin made, unless Cookie.Name is
		// invalid: then the sign-in cannot go on.
		cctx, cancel := settle(ctx)
		_ = s.SignIns.Cancel(cctx, tok)
		cancel()
		return false, err
	}
	return false, nil
}

// Pending returns the pending sign-in of r's cookie, without finishing
// it or counting an attempt (signin.Manager.Lookup): the Info.Account it
// belongs to, for the page that asks for the code - to list the account's
// trusted phones for "text me a code", say. Never show the account to
// anyone but the browser that holds the cookie.
//
// Errors: ErrNoSignInCookie; signin.ErrNotFound, signin.ErrExpired,
// signin.ErrTooManyAttempts (the user starts over with the password:
// clear the cookie with Cookie.Clear); a wrapped store error. All of them
// but the last match signin.ErrNotFound.
func (s SignIn) Pending(r *http.Request) (signin.Info, error) {
	if s.SignIns == nil {
		return signin.Info{}, errNoManager
	}
	tok, ok := s.Cookie.Token(r)
	if !ok {
		return signin.Info{}, ErrNoSignInCookie
	}
	return s.SignIns.Lookup(r.Context(), tok)
}

// Finish completes the pending sign-in of r's cookie with code, the
// second factor the user typed (signin.Manager.Finish: a device's code, a
// recovery code, a code texted to a trusted phone), exactly once. With a
// nil error, fin.Account is signed in: start its session.
// fin.Result.Factor says what matched (twofa.FactorRecoveryCode: tell the
// user how many are left, fin.Result.RecoveryCodesLeft).
//
// Finish clears the sign-in cookie when the sign-in is over: on success,
// and when it is void (signin.ErrNotFound, ErrExpired, ErrTooManyAttempts:
// the user starts over with the password). A wrong, replayed or throttled
// code keeps it, for another try; fin.Account then names the account,
// whose page may be shown again.
//
// With trust, and a sign-in that succeeded, Finish trusts the browser for
// the account (browser.Manager.Trust, labelled browser.Label(r.UserAgent()))
// and sets its cookie (BrowserCookie): the next sign-in there asks for the
// password only. Trusting cannot undo the sign-in - the second factor is
// used up - so a failure to trust goes to ErrorLog, not to the caller.
// Call Finish before writing the body.
//
// Errors: ErrNoSignInCookie, and signin.Manager.Finish's: signin.ErrNotFound
// and the two that match it, twofa.ErrInvalidCode, twofa.ErrMalformedCode,
// twofa.ErrReplayed, *twofa.ThrottledError, a wrapped store error.
// WriteError (or ProblemFor, for a page) answers each of them.
func (s SignIn) Finish(w http.ResponseWriter, r *http.Request, code string, trust bool) (signin.Finished, error) {
	if s.SignIns == nil {
		return signin.Finished{}, errNoManager
	}
	tok, ok := s.Cookie.Token(r)
	if !ok {
		return signin.Finished{}, ErrNoSignInCookie
	}
	ctx := r.Context()
	fin, err := s.SignIns.Finish(ctx, tok, code)
	if err != nil {
		if errors.Is(err, signin.ErrNotFound) {
			_ = s.Cookie.Clear(w)
		}
		return fin, err
	}
	_ = s.Cookie.Clear(w)
	if trust {
		s.trust(w, r, fin.Account)
	}
	return fin, nil
}

// trust remembers r's browser for account after a finished sign-in.
func (s SignIn) trust(w http.ResponseWriter, r *http.Request, account string) {
	b := s.Browsers
	if b == nil {
		b = s.SignIns.Config().Browsers
	}
	if b == nil {
		return
	}
	// The sign-in is complete: the request's end must not cut this short.
	ctx, cancel := settle(r.Context())
	defer cancel()
	tok, info, err := b.Trust(ctx, account, browser.Label(r.UserAgent()))
	if err == nil {
		err = s.BrowserCookie.Set(w, tok, info)
	}
	// Two-factor authentication went off meanwhile: no browser to trust.
	if err != nil && !errors.Is(err, twofa.ErrNotEnrolled) {
		s.logf("twofahttp: sign-in of %q finished, but trusting the browser failed: %v", account, err)
	}
}

// Cancel ends the pending sign-in of r's cookie, if there is one (the
// user backed out), and clears the cookie. An unknown, finished or
// expired sign-in, or no cookie, is not an error: there is nothing left
// to end. The error is a wrapped store error; the cookie is cleared
// anyway.
func (s SignIn) Cancel(w http.ResponseWriter, r *http.Request) error {
	if s.SignIns == nil {
		return errNoManager
	}
	tok, ok := s.Cookie.Token(r)
	if !ok {
		return nil
	}
	_ = s.Cookie.Clear(w)
	if err := s.SignIns.Cancel(r.Context(), tok); err != nil && !errors.Is(err, signin.ErrNotFound) {
		return err
	}
	return nil
}

// settleTimeout bounds a store write that the request's end must not cut
// short (trusting the browser of a finished sign-in): as long as package
// signin gives the same kind of write, 5 seconds.
const settleTimeout = 5 * time.Second

func settle(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
}

var errNoManager = fmt.Errorf("%w: twofahttp.SignIn needs SignIns", twofa.ErrConfig)

func (s SignIn) clientIP(r *http.Request) string {
	if s.ClientIP != nil {
		return s.ClientIP(r)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if _, err := netip.ParseAddr(host); err != nil {
		return ""
	}
	return host
}

func (s SignIn) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}
