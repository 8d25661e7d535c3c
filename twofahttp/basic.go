package twofahttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/twofa-go/twofa"
)

// PasswordFunc checks a Basic-auth user name and primary password, as
// the backend keeps them. It returns the account the user name stands
// for - also when the password is wrong, since an app password is not the
// primary one - and whether password is the account's primary password.
// For an unknown user name it returns "", false, nil.
//
// It must take as long for an unknown user name as for a known one:
// compare the password against a dummy hash of the same cost. BasicAuth
// calls it on every request, whatever the account's second factors, so
// that its cost, the largest of the request, is paid alike whether the
// user name exists and whether the account uses two-factor
// authentication. An error (a *twofa.ThrottledError for a
// throttled password, a store failure) is answered with WriteError.
type PasswordFunc func(ctx context.Context, username, password string) (account string, ok bool, err error)

// Credential is what BasicAuth accepted: the account, and which of its
// passwords.
type Credential struct {
	Account string
	// AppPassword is the app password that matched; its zero value
	// (ID == "") when the primary password did, two-factor
	// authentication being off.
	AppPassword twofa.AppPasswordInfo
}

// Primary reports whether the primary password was accepted.
func (c Credential) Primary() bool { return c.AppPassword.ID == "" }

type credentialKey struct{}

// CredentialFrom returns the Credential BasicAuth put in the request's
// context, and whether there was one.
func CredentialFrom(ctx context.Context) (Credential, bool) {
	c, ok := ctx.Value(credentialKey{}).(Credential)
	return c, ok
}

// BasicAuth returns middleware that admits a request only with HTTP
// Basic credentials (RFC 7617) of an account, under the rule of app
// passwords: while two-factor authentication is off for the account
// (tf.Enabled), its primary password, as check says; while it is on,
// only one of its app passwords (tf.AppPasswords.Verify), never the
// primary password, which is half of a sign-in that needs a code. The
// handler finds the account with CredentialFrom.
//
// Every request takes the same path, so that its time tells little about
// the user name: check runs first, on every request (and must cost the
// same for unknown user names), then tf.Enabled - for an unknown user name
// on a random account no one has - and, when two-factor authentication is
// on, tf.AppPasswords.Verify: one HMAC and an indexed read or two, small
// beside the password hash check computes.
//
// A request without acceptable credentials gets a 401 problem (the same
// one for a missing header, an unknown user, a wrong password, or a
// primary password while two-factor authentication is on) with
// WWW-Authenticate: Basic realm="<realm>", charset="UTF-8". Wrong app
// passwords are throttled by the installation (Config.Throttle.AppPasswords);
// while the back-off runs the answer is 429 with Retry-After. (The
// installation counts wrong app passwords only for an account that has
// some, so a 429 tells that much, after the policy's free failures - ten
// by default - in a row: the price of telling a misconfigured client to
// slow down.) Guesses at the primary password are check's to throttle: it
// returns a *twofa.ThrottledError. Other errors are answered with WriteError.
//
// realm names the protection space in the client's password prompt; it
// must be non-empty printable ASCII without '"' or '\'. BasicAuth reports
// an error for a bad realm, a nil tf or a nil check. Serve it over HTTPS
// only: Basic credentials travel in clear otherwise.
func BasicAuth(tf *twofa.TwoFA, realm string, check PasswordFunc) (func(http.Handler) http.Handler, error) {
	switch {
	case tf == nil:
		return nil, errors.New("twofahttp: BasicAuth: nil TwoFA")
	case check == nil:
		return nil, errors.New("twofahttp: BasicAuth: nil PasswordFunc")
	case !validRealm(realm):
		return nil, fmt.Errorf("twofahttp: BasicAuth: realm %q: want non-empty printable ASCII without '\"' or '\\'", realm)
	}
	id, err := twofa.NewID()
	if err != nil {
		return nil, fmt.Errorf("twofahttp: BasicAuth: %w", err)
	}
	b := &basicAuth{
		tf:        tf,
		check:     check,
		challenge: `Basic realm="` + realm + `", charset="UTF-8"`,
		decoy:     "twofahttp-unknown-" + id,
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := b.authenticate(r)
			if err != nil {
				p := ProblemFor(err)
				if p.Status == http.StatusUnauthorized {
					w.Header().Set("WWW-Authenticate", b.challenge)
				}
				writeProblem(w, r, p)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), credentialKey{}, c)))
		})
	}, nil
}

type basicAuth struct {
	tf        *twofa.TwoFA
	check     PasswordFunc
	challenge string
	decoy     string // an account no one has, for unknown user names
}

// errNoCredentials stands for every reason BasicAuth answers 401; it
// matches twofa.ErrInvalidAppPassword so that ProblemFor makes it one.
var errNoCredentials = fmt.Errorf("twofahttp: basic auth: %w", twofa.ErrInvalidAppPassword)

func (b *basicAuth) authenticate(r *http.Request) (Credential, error) {
	user, pass, ok := r.BasicAuth()
	if !ok || user == "" || !utf8.ValidString(user) || !utf8.ValidString(pass) {
		return Credential{}, errNoCredentials
	}
	ctx := r.Context()
	account, primary, err := b.check(ctx, user, pass)
	if err != nil {
		return Credential{}, err
	}
	known := account != ""
	if !known {
		account = b.decoy
	}
	on, err := b.tf.Enabled(ctx, account)
	if err != nil {
		return Credential{}, err
	}
	switch {
	case !known:
		return Credential{}, errNoCredentials
	case !on && primary:
		return Credential{Account: account}, nil
	case !on:
		return Credential{}, errNoCredentials
	}
	info, err := b.tf.AppPasswords.Verify(ctx, account, pass)
	switch {
	case err == nil:
		return Credential{Account: account, AppPassword: info}, nil
	case errors.Is(err, twofa.ErrInvalidAppPassword), errors.Is(err, twofa.ErrMalformedAppPassword):
		return Credential{}, errNoCredentials
	}
	return Credential{}, err
}

// validRealm reports whether realm goes in a quoted-string as it is.
func validRealm(realm string) bool {
	if realm == "" {
		return false
	}
	for i := range len(realm) {
		if c := realm[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
