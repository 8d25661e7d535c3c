package twofahttp_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/signin"
	"github.com/twofa-go/twofa/twofahttp"
	"github.com/twofa-go/twofa/twofatest"
)

const firefoxUA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

// signInEnv is an installation with its sign-in step.
type signInEnv struct {
	*twofatest.Env
	s twofahttp.SignIn
}

func newSignInEnv(t *testing.T) *signInEnv {
	t.Helper()
	env := twofatest.New(t)
	require.NotNil(t, env.SignIns)
	return &signInEnv{Env: env, s: twofahttp.SignIn{SignIns: env.SignIns}}
}

// request is a POST from a Firefox on 192.0.2.1, carrying the cookies.
func request(form url.Values, cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "https://example.com/signin", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("User-Agent", firefoxUA)
	for _, c := range cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}

// cookies returns the cookies a response set, by name.
func cookies(rec *httptest.ResponseRecorder) map[string]*http.Cookie {
	m := map[string]*http.Cookie{}
	for _, c := range rec.Result().Cookies() {
		m[c.Name] = c
	}
	return m
}

// begin runs Begin for account and returns the pending cookie.
func (e *signInEnv) begin(t *testing.T, account string, cs ...*http.Cookie) *http.Cookie {
	t.Helper()
	rec := httptest.NewRecorder()
	done, err := e.s.Begin(rec, request(nil, cs...), account)
	require.NoError(t, err)
	require.False(t, done)
	c := cookies(rec)[twofahttp.DefaultSignInCookieName]
	require.NotNil(t, c)
	return c
}

func TestSignInBeginDoneAtOnce(t *testing.T) {
	e := newSignInEnv(t)

	// Two-factor authentication off: the password is all, no cookie.
	rec := httptest.NewRecorder()
	done, err := e.s.Begin(rec, request(nil), "alice")
	require.NoError(t, err)
	assert.True(t, done)
	assert.Empty(t, rec.Result().Header.Values("Set-Cookie"))

	// A trusted browser of the account: done, no cookie.
	e.EnrollTOTP("alice")
	tok := e.TrustBrowser("alice", "Firefox on Linux")
	r := request(nil)
	twofatest.AddBrowserCookie(r, tok)
	rec = httptest.NewRecorder()
	done, err = e.s.Begin(rec, r, "alice")
	require.NoError(t, err)
	assert.True(t, done)
	assert.Empty(t, rec.Result().Header.Values("Set-Cookie"))
	l, err := e.SignIns.List(t.Context(), "alice")
	require.NoError(t, err)
	assert.Empty(t, l, "no sign-in recorded")

	// The same browser for another account with 2FA on: a code is due.
	e.EnrollTOTP("bob")
	r = request(nil)
	twofatest.AddBrowserCookie(r, tok)
	rec = httptest.NewRecorder()
	done, err = e.s.Begin(rec, r, "bob")
	require.NoError(t, err)
	assert.False(t, done)
}

func TestSignInCookieAttributes(t *testing.T) {
	e := newSignInEnv(t)
	e.EnrollTOTP("alice")
	rec := httptest.NewRecorder()
	done, err := e.s.Begin(rec, request(nil), "alice")
	require.NoError(t, err)
	require.False(t, done)
	parts := setCookie(t, rec)
	name, value, _ := strings.Cut(parts[0], "=")
	assert.Equal(t, "__Host-twofa_signin", name)
	assert.Len(t, value, signin.TokenLen)
	assert.ElementsMatch(t, []string{"Path=/", "Max-Age=300", "HttpOnly", "Secure", "SameSite=Lax"}, parts[1:])

	// Pending names the account, the browser and its address.
	info, err := e.s.Pending(request(nil, &http.Cookie{Name: name, Value: value}))
	require.NoError(t, err)
	assert.Equal(t, "alice", info.Account)
	assert.Equal(t, "Firefox on Linux", info.Label)
	assert.Equal(t, "192.0.2.1", info.IP.String(), "httptest's RemoteAddr, without the port")
	assert.Equal(t, 0, info.Attempts)

	_, err = e.s.Pending(request(nil))
	assert.ErrorIs(t, err, twofahttp.ErrNoSignInCookie)
	assert.ErrorIs(t, err, signin.ErrNotFound)
	_, err = e.s.Pending(request(nil, &http.Cookie{Name: name, Value: "not a token!"}))
	assert.ErrorIs(t, err, twofahttp.ErrNoSignInCookie)
	_, err = e.s.Pending(request(nil, &http.Cookie{Name: name, Value: strings.Repeat("A", signin.TokenLen)}))
	assert.ErrorIs(t, err, signin.ErrNotFound)
	assert.NotErrorIs(t, err, twofahttp.ErrNoSignInCookie)
}

// finishHandler is a code form's handler: Finish, then the outcome as
// JSON or a problem.
func finishHandler(s twofahttp.SignIn) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fin, err := s.Finish(w, r, r.PostFormValue("code"), r.PostFormValue("trust") != "")
		if err != nil {
			twofahttp.WriteError(w, r, err)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"account": fin.Account, "factor": string(fin.Result.Factor)})
	})
}

func TestSignInFinishOnce(t *testing.T) {
	e := newSignInEnv(t)
	dev := e.EnrollTOTP("alice")
	c := e.begin(t, "alice")
	h := finishHandler(e.s)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, request(url.Values{"code": {dev.Code()}}, c))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"account":"alice","factor":"device"}`, rec.Body.String())
	cleared := cookies(rec)[twofahttp.DefaultSignInCookieName]
	require.NotNil(t, cleared, "the cookie is cleared")
	assert.Equal(t, -1, cleared.MaxAge)
	assert.Nil(t, cookies(rec)[browser.DefaultCookieName], "not trusted unless asked")

	// The same cookie again, even with a fresh code: 401, cleared again.
	e.Clock.Advance(30 * time.Second)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, request(url.Values{"code": {dev.Code()}}, c))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	assert.Contains(t, rec.Body.String(), "start over")
	assert.Equal(t, -1, cookies(rec)[twofahttp.DefaultSignInCookieName].MaxAge)

	// No cookie at all: 401, nothing set.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, request(url.Values{"code": {dev.Code()}}))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Empty(t, rec.Result().Header.Values("Set-Cookie"))
}

func TestSignInFinishWrongCodeKeepsCookie(t *testing.T) {
	e := newSignInEnv(t)
	dev := e.EnrollTOTP("alice")
	c := e.begin(t, "alice")
	rec := httptest.NewRecorder()
	fin, err := e.s.Finish(rec, request(nil, c), wrong(dev.Code()), true)
	assert.ErrorIs(t, err, twofa.ErrInvalidCode)
	assert.Equal(t, "alice", fin.Account, "the code page can be shown again")
	assert.Empty(t, rec.Result().Header.Values("Set-Cookie"), "kept for another try, nothing trusted")
	info, err := e.s.Pending(request(nil, c))
	require.NoError(t, err)
	assert.Equal(t, 1, info.Attempts)

	// A recovery code finishes it.
	codes, err := e.Recovery.Generate(t.Context(), "alice")
	require.NoError(t, err)
	fin, err = e.s.Finish(httptest.NewRecorder(), request(nil, c), codes[0], false)
	require.NoError(t, err)
	assert.Equal(t, twofa.FactorRecoveryCode, fin.Result.Factor)
	assert.Equal(t, twofa.RecoveryCodeCount-1, fin.Result.RecoveryCodesLeft)
}

func wrong(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func TestSignInTrust(t *testing.T) {
	e := newSignInEnv(t)
	dev := e.EnrollTOTP("alice")
	c := e.begin(t, "alice")
	rec := httptest.NewRecorder()
	fin, err := e.s.Finish(rec, request(nil, c), dev.Code(), true)
	require.NoError(t, err)
	assert.Equal(t, "alice", fin.Account)
	bc := cookies(rec)[browser.DefaultCookieName]
	require.NotNil(t, bc, "the trusted-browser cookie")
	assert.True(t, bc.Secure)
	assert.True(t, bc.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, bc.SameSite)
	assert.Equal(t, int(browser.DefaultTTL/time.Second), bc.MaxAge)
	l, err := e.Browsers.List(t.Context(), "alice")
	require.NoError(t, err)
	require.Len(t, l, 1)
	assert.Equal(t, "Firefox on Linux", l[0].Label)

	// The next sign-in in this browser needs the password only.
	rec = httptest.NewRecorder()
	done, err := e.s.Begin(rec, request(nil, bc), "alice")
	require.NoError(t, err)
	assert.True(t, done)
}

func TestSignInTrustFailureLogged(t *testing.T) {
	e := newSignInEnv(t)
	dev := e.EnrollTOTP("alice")
	c := e.begin(t, "alice")
	var buf bytes.Buffer
	s := e.s
	s.BrowserCookie = browser.Cookie{Name: "not a cookie name"}
	s.ErrorLog = log.New(&buf, "", 0)
	rec := httptest.NewRecorder()
	code := dev.Code()
	fin, err := s.Finish(rec, request(nil, c), code, true)
	require.NoError(t, err, "the sign-in stands")
	assert.Equal(t, "alice", fin.Account)
	assert.Contains(t, buf.String(), "trusting the browser failed")
	assert.NotContains(t, buf.String(), code)
	assert.NotContains(t, buf.String(), c.Value)
	assert.Len(t, cookies(rec), 1, "the sign-in cookie cleared, no browser cookie")
}

func TestSignInThrottled(t *testing.T) {
	e := newSignInEnv(t)
	dev := e.EnrollTOTP("alice")
	h := finishHandler(e.s)
	post := func(c *http.Cookie, code string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, request(url.Values{"code": {code}}, c))
		return rec
	}
	bad := wrong(dev.Code())
	c := e.begin(t, "alice")
	for range signin.DefaultMaxAttempts - 1 {
		assert.Equal(t, http.StatusUnauthorized, post(c, bad).Code)
	}
	rec := post(c, bad)
	assert.Equal(t, http.StatusUnauthorized, rec.Code, "the last try voids the sign-in")
	assert.Equal(t, -1, cookies(rec)[twofahttp.DefaultSignInCookieName].MaxAge)
	_, err := e.s.Pending(request(nil, c))
	assert.ErrorIs(t, err, signin.ErrTooManyAttempts)

	// The installation's throttle counts across sign-ins: 5 free, then
	// the back-off, the right code included.
	c = e.begin(t, "alice")
	assert.Equal(t, http.StatusUnauthorized, post(c, bad).Code)
	rec = post(c, dev.Code())
	assert.Equal(t, http.StatusTooManyRequests, rec.Code, rec.Body.String())
	assert.Equal(t, "1", rec.Header().Get("Retry-After"))
	assert.Empty(t, rec.Result().Header.Values("Set-Cookie"), "the sign-in goes on")
	info, err := e.s.Pending(request(nil, c))
	require.NoError(t, err)
	assert.Equal(t, 1, info.Attempts, "a throttled try is not counted against the sign-in")

	e.Clock.Advance(time.Second)
	assert.Equal(t, http.StatusOK, post(c, dev.Code()).Code)
}

func TestSignInCrossOriginRefused(t *testing.T) {
	e := newSignInEnv(t)
	dev := e.EnrollTOTP("alice")
	c := e.begin(t, "alice")
	csrf, err := twofahttp.CrossOriginProtection()
	require.NoError(t, err)
	h := csrf.Handler(finishHandler(e.s))

	r := request(url.Values{"code": {dev.Code()}, "trust": {"1"}}, c)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	assert.Equal(t, http.StatusForbidden, rec.Code)
	assert.Contains(t, rec.Body.String(), twofahttp.TypeCrossOrigin)
	assert.Empty(t, rec.Result().Header.Values("Set-Cookie"))
	info, err := e.s.Pending(request(nil, c))
	require.NoError(t, err, "the sign-in is untouched")
	assert.Equal(t, 0, info.Attempts)
	l, err := e.Browsers.List(t.Context(), "alice")
	require.NoError(t, err)
	assert.Empty(t, l, "nothing trusted")

	// The same form from the site itself passes.
	r = request(url.Values{"code": {dev.Code()}}, c)
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
}

func TestSignInExpired(t *testing.T) {
	e := newSignInEnv(t)
	dev := e.EnrollTOTP("alice")
	c := e.begin(t, "alice")
	e.Clock.Advance(signin.DefaultTTL)
	_, err := e.s.Pending(request(nil, c))
	assert.ErrorIs(t, err, signin.ErrExpired)
	rec := httptest.NewRecorder()
	_, err = e.s.Finish(rec, request(nil, c), dev.Code(), false)
	assert.ErrorIs(t, err, signin.ErrExpired)
	assert.Equal(t, -1, cookies(rec)[twofahttp.DefaultSignInCookieName].MaxAge)
	assert.Equal(t, http.StatusUnauthorized, twofahttp.ProblemFor(err).Status)
}

func TestSignInCancel(t *testing.T) {
	e := newSignInEnv(t)
	e.EnrollTOTP("alice")
	c := e.begin(t, "alice")
	rec := httptest.NewRecorder()
	require.NoError(t, e.s.Cancel(rec, request(nil, c)))
	assert.Equal(t, -1, cookies(rec)[twofahttp.DefaultSignInCookieName].MaxAge)
	_, err := e.s.Pending(request(nil, c))
	assert.ErrorIs(t, err, signin.ErrNotFound)
	// Again, and without a cookie: nothing to end, no error.
	require.NoError(t, e.s.Cancel(httptest.NewRecorder(), request(nil, c)))
	rec = httptest.NewRecorder()
	require.NoError(t, e.s.Cancel(rec, request(nil)))
	assert.Empty(t, rec.Result().Header.Values("Set-Cookie"))
	assert.Equal(t, 1, e.Events.Count(signin.EventCancelled))
}

func TestSignInBeginReplacesPending(t *testing.T) {
	e := newSignInEnv(t)
	e.EnrollTOTP("alice")
	old := e.begin(t, "alice")
	fresh := e.begin(t, "alice", old)
	assert.NotEqual(t, old.Value, fresh.Value)
	_, err := e.s.Pending(request(nil, old))
	assert.ErrorIs(t, err, signin.ErrNotFound, "starting over ends the old sign-in")
	_, err = e.s.Pending(request(nil, fresh))
	assert.NoError(t, err)
	l, err := e.SignIns.List(t.Context(), "alice")
	require.NoError(t, err)
	assert.Len(t, l, 1)

	// Signed in at once (a trusted browser): the old cookie goes too.
	tok := e.TrustBrowser("alice", "Firefox on Linux")
	r := request(nil, fresh)
	twofatest.AddBrowserCookie(r, tok)
	rec := httptest.NewRecorder()
	done, err := e.s.Begin(rec, r, "alice")
	require.NoError(t, err)
	assert.True(t, done)
	assert.Equal(t, -1, cookies(rec)[twofahttp.DefaultSignInCookieName].MaxAge)
	_, err = e.s.Pending(request(nil, fresh))
	assert.ErrorIs(t, err, signin.ErrNotFound)
}

func TestSignInClientIP(t *testing.T) {
	e := newSignInEnv(t)
	e.EnrollTOTP("alice")

	s := e.s
	s.ClientIP = func(*http.Request) string { return "2001:db8::7" }
	rec := httptest.NewRecorder()
	_, err := s.Begin(rec, request(nil), "alice")
	require.NoError(t, err)
	info, err := s.Pending(request(nil, cookies(rec)[twofahttp.DefaultSignInCookieName]))
	require.NoError(t, err)
	assert.Equal(t, "2001:db8::7", info.IP.String())

	// The backend's mistake: refused, nothing set, a 500.
	s.ClientIP = func(*http.Request) string { return "192.0.2.1:443" }
	rec = httptest.NewRecorder()
	_, err = s.Begin(rec, request(nil), "alice")
	assert.ErrorIs(t, err, signin.ErrInvalidIP)
	assert.Empty(t, rec.Result().Header.Values("Set-Cookie"))
	assert.Equal(t, http.StatusInternalServerError, twofahttp.ProblemFor(err).Status)

	// A RemoteAddr that is no address (a Unix socket): no IP.
	r := request(nil)
	r.RemoteAddr = "@"
	rec = httptest.NewRecorder()
	_, err = e.s.Begin(rec, r, "alice")
	require.NoError(t, err)
	info, err = e.s.Pending(request(nil, cookies(rec)[twofahttp.DefaultSignInCookieName]))
	require.NoError(t, err)
	assert.False(t, info.IP.IsValid())
}

func TestSignInBadInput(t *testing.T) {
	e := newSignInEnv(t)
	rec := httptest.NewRecorder()
	_, err := e.s.Begin(rec, request(nil), "")
	assert.ErrorIs(t, err, twofa.ErrInvalidAccount)
	assert.Empty(t, rec.Result().Header.Values("Set-Cookie"))

	var zero twofahttp.SignIn
	_, err = zero.Begin(httptest.NewRecorder(), request(nil), "alice")
	assert.ErrorIs(t, err, twofa.ErrConfig)
	_, err = zero.Pending(request(nil))
	assert.ErrorIs(t, err, twofa.ErrConfig)
	_, err = zero.Finish(httptest.NewRecorder(), request(nil), "123456", false)
	assert.ErrorIs(t, err, twofa.ErrConfig)
	assert.ErrorIs(t, zero.Cancel(httptest.NewRecorder(), request(nil)), twofa.ErrConfig)
	assert.True(t, errors.Is(twofahttp.ErrNoSignInCookie, twofa.ErrNotFound))
}
