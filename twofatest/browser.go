package twofatest

import (
	"context"
	"net/http"

	"github.com/twofa-go/twofa/browser"
)

// TrustBrowser trusts a browser for account, labelled label, as a sign-in
// that passed the second factor with "don't ask again" ticked would, and
// returns its token: put it in a request with AddBrowserCookie. The
// account must have two-factor authentication on (EnrollTOTP first). It
// fails the test on error.
func (e *Env) TrustBrowser(account, label string) string {
	e.T.Helper()
	tok, _, err := e.Browsers.Trust(context.Background(), account, label)
	if err != nil {
		e.T.Fatalf("twofatest: trust browser: %v", err)
	}
	return tok
}

// AddBrowserCookie adds the trusted-browser cookie, named
// browser.DefaultCookieName, holding token to r: a request from a
// trusted browser.
func AddBrowserCookie(r *http.Request, token string) {
	r.AddCookie(&http.Cookie{Name: browser.DefaultCookieName, Value: token})
}
