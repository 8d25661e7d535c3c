package twofahttp_test

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/twofahttp"
	"github.com/twofa-go/twofa/twofatest"
)

const testChallenge = `Basic realm="Mail", charset="UTF-8"`

// passwords is a backend's primary passwords: user name = account.
type passwords struct {
	mu    sync.Mutex
	pw    map[string]string
	calls []string // user names checked
	err   error    // returned by every check when set
}

func (p *passwords) check(_ context.Context, user, pass string) (string, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, user)
	if p.err != nil {
		return "", false, p.err
	}
	want, known := p.pw[user]
	if !known {
		want = "dummy password of an unknown user" // the same comparison either way
	}
	ok := subtle.ConstantTimeCompare([]byte(pass), []byte(want)) == 1
	if !known {
		return "", false, nil
	}
	return user, ok, nil
}

func (p *passwords) checked() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

// spyStore records whose devices are read, and fails reads when fail is set.
type spyStore struct {
	*memstore.Store
	mu      sync.Mutex
	devices []string
	fail    error
}

func (s *spyStore) Devices(ctx context.Context, account string) ([]twofa.Device, error) {
	s.mu.Lock()
	s.devices = append(s.devices, account)
	fail := s.fail
	s.mu.Unlock()
	if fail != nil {
		return nil, fail
	}
	return s.Store.Devices(ctx, account)
}

func (s *spyStore) read() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.devices...)
}

type basicEnv struct {
	*twofatest.Env
	spy       *spyStore
	passwords *passwords
	handler   http.Handler
}

func newBasicEnv(t *testing.T) *basicEnv {
	env := twofatest.New(t)
	spy := &spyStore{Store: env.Store}
	env.Reconfigure(func(c *twofa.Config) { c.Store = spy })
	pw := &passwords{pw: map[string]string{"alice": "correct horse battery staple", "bob": "hunter2 hunter2"}}
	mw, err := twofahttp.BasicAuth(env.TwoFA, "Mail", pw.check)
	require.NoError(t, err)
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := twofahttp.CredentialFrom(r.Context())
		if !ok {
			http.Error(w, "no credential", http.StatusInternalServerError)
			return
		}
		if c.Primary() {
			fmt.Fprintf(w, "%s primary", c.Account)
			return
		}
		fmt.Fprintf(w, "%s app password %s %s", c.Account, c.AppPassword.ID, c.AppPassword.Label)
	}))
	return &basicEnv{Env: env, spy: spy, passwords: pw, handler: h}
}

type basicResult struct {
	status     int
	body       string
	challenge  string
	retryAfter string
}

func (e *basicEnv) do(t *testing.T, user, pass string) basicResult {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/dav/", nil)
	if user != "" || pass != "" {
		r.SetBasicAuth(user, pass)
	}
	return e.serve(r)
}

func (e *basicEnv) serve(r *http.Request) basicResult {
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, r)
	return basicResult{rec.Code, rec.Body.String(), rec.Header().Get("WWW-Authenticate"), rec.Header().Get("Retry-After")}
}

func requireRefused(t *testing.T, got basicResult) {
	t.Helper()
	require.Equal(t, http.StatusUnauthorized, got.status, got.body)
	assert.Equal(t, testChallenge, got.challenge)
	assert.Contains(t, got.body, twofahttp.NotAcceptedDetail)
}

func TestBasicAuthPrimaryPasswordWhileTwoFactorIsOff(t *testing.T) {
	e := newBasicEnv(t)

	got := e.do(t, "alice", "correct horse battery staple")
	require.Equal(t, http.StatusOK, got.status, got.body)
	assert.Equal(t, "alice primary", got.body)
	assert.Empty(t, got.challenge)

	requireRefused(t, e.do(t, "alice", "wrong"))
	requireRefused(t, e.do(t, "alice", "abcd-efgh-ijkl-mnop")) // the shape of an app password
}

func TestBasicAuthOnlyAppPasswordsWhileTwoFactorIsOn(t *testing.T) {
	ctx := context.Background()
	e := newBasicEnv(t)
	e.EnrollTOTP("alice")
	pass, info, err := e.AppPasswords.Create(ctx, "alice", "Thunderbird")
	require.NoError(t, err)

	// The primary password is half of a sign-in that needs a code now.
	requireRefused(t, e.do(t, "alice", "correct horse battery staple"))

	want := "alice app password " + info.ID + " Thunderbird"
	got := e.do(t, "alice", pass)
	require.Equal(t, http.StatusOK, got.status, got.body)
	assert.Equal(t, want, got.body)
	// As people type it: upper case, no hyphens.
	got = e.do(t, "alice", strings.ToUpper(strings.ReplaceAll(pass, "-", "")))
	require.Equal(t, http.StatusOK, got.status, got.body)
	assert.Equal(t, want, got.body)

	requireRefused(t, e.do(t, "alice", "abcd-efgh-ijkl-mnop"))
	requireRefused(t, e.do(t, "alice", "not an app password"))
	requireRefused(t, e.do(t, "bob", pass)) // another account's

	// Two-factor authentication off again: the app passwords went with
	// it, and the primary password works.
	require.NoError(t, e.TwoFA.Disable(ctx, "alice"))
	requireRefused(t, e.do(t, "alice", pass))
	got = e.do(t, "alice", "correct horse battery staple")
	require.Equal(t, http.StatusOK, got.status, got.body)
	assert.Equal(t, "alice primary", got.body)
}

func TestBasicAuthUnknownUserTakesTheSamePath(t *testing.T) {
	e := newBasicEnv(t)
	e.EnrollTOTP("bob")
	before := len(e.spy.read())

	wrong := e.do(t, "alice", "wrong")     // known, two-factor authentication off
	onWrong := e.do(t, "bob", "wrong")     // known, on
	unknown := e.do(t, "mallory", "wrong") // unknown
	unknownApp := e.do(t, "eve", "abcd-efgh-ijkl-mnop")
	for _, got := range []basicResult{wrong, onWrong, unknown, unknownApp} {
		requireRefused(t, got)
		assert.Equal(t, wrong, got, "the responses do not tell the cases apart")
	}

	// The backend's check ran for every user name, and the installation
	// was asked about an account in every case: for unknown user names a
	// random one that no user name maps to, the same one each time.
	assert.Equal(t, []string{"alice", "bob", "mallory", "eve"}, e.passwords.checked())
	read := e.spy.read()[before:]
	require.Len(t, read, 4)
	assert.Equal(t, "alice", read[0])
	assert.Equal(t, "bob", read[1])
	decoy := read[2]
	assert.Equal(t, decoy, read[3])
	assert.NotContains(t, []string{"alice", "bob", "mallory", "eve"}, decoy)
	assert.NoError(t, twofa.CheckAccount(decoy))
}

func TestBasicAuthMissingOrMalformedCredentials(t *testing.T) {
	e := newBasicEnv(t)
	requireRefused(t, e.do(t, "", ""))

	tests := map[string]string{
		"bearer":                 "Bearer abc",
		"not base64":             "Basic !!!",
		"no colon":               "Basic " + base64.StdEncoding.EncodeToString([]byte("alice")),
		"empty user":             "Basic " + base64.StdEncoding.EncodeToString([]byte(":correct horse battery staple")),
		"invalid UTF-8":          "Basic " + base64.StdEncoding.EncodeToString([]byte("alice\xff:x")),
		"invalid UTF-8 password": "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:\xffx")),
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/dav/", nil)
			r.Header.Set("Authorization", h)
			requireRefused(t, e.serve(r))
		})
	}
	assert.Empty(t, e.passwords.checked(), "nothing to check without a user name and password")
}

func TestBasicAuthThrottlesWrongAppPasswords(t *testing.T) {
	ctx := context.Background()
	e := newBasicEnv(t)
	e.EnrollTOTP("alice")
	pass, _, err := e.AppPasswords.Create(ctx, "alice", "Thunderbird")
	require.NoError(t, err)

	var got basicResult
	for i := 0; i < 50; i++ {
		got = e.do(t, "alice", fmt.Sprintf("abcd-efgh-ijkl-%c%c%c%c", 'a'+i%26, 'a'+i/26, 'x', 'y'))
		if got.status != http.StatusUnauthorized {
			break
		}
	}
	require.Equal(t, http.StatusTooManyRequests, got.status, got.body)
	assert.NotEmpty(t, got.retryAfter)
	assert.Empty(t, got.challenge, "a throttled client is told to wait, not to ask for a password")

	// The right password still works: the throttle must not lock the
	// owner out.
	ok := e.do(t, "alice", pass)
	assert.Equal(t, http.StatusOK, ok.status, ok.body)
}

func TestBasicAuthErrors(t *testing.T) {
	t.Run("check throttled", func(t *testing.T) {
		e := newBasicEnv(t)
		e.passwords.err = fmt.Errorf("login: %w", &twofa.ThrottledError{RetryAfter: 4500 * time.Millisecond})
		got := e.do(t, "alice", "correct horse battery staple")
		assert.Equal(t, http.StatusTooManyRequests, got.status)
		assert.Equal(t, "5", got.retryAfter)
	})
	t.Run("check failed", func(t *testing.T) {
		e := newBasicEnv(t)
		e.passwords.err = errors.New("users table: connection reset by 10.9.8.7")
		got := e.do(t, "alice", "correct horse battery staple")
		assert.Equal(t, http.StatusInternalServerError, got.status)
		assert.Empty(t, got.challenge)
		assert.NotContains(t, got.body, "10.9.8.7")
	})
	t.Run("store failed", func(t *testing.T) {
		e := newBasicEnv(t)
		e.spy.fail = errors.New("devices table: connection reset by 10.9.8.7")
		got := e.do(t, "alice", "correct horse battery staple")
		assert.Equal(t, http.StatusInternalServerError, got.status)
		assert.NotContains(t, got.body, "10.9.8.7")
		got = e.do(t, "mallory", "x")
		assert.Equal(t, http.StatusInternalServerError, got.status, "an unknown user name fails the same way")
	})
}

func TestBasicAuthConfig(t *testing.T) {
	env := twofatest.New(t)
	check := (&passwords{}).check
	_, err := twofahttp.BasicAuth(nil, "Mail", check)
	assert.Error(t, err)
	_, err = twofahttp.BasicAuth(env.TwoFA, "Mail", nil)
	assert.Error(t, err)
	for _, realm := range []string{"", `say "hi"`, `back\slash`, "new\nline", "tab\there", "Bücher", "del\x7f"} {
		_, err = twofahttp.BasicAuth(env.TwoFA, realm, check)
		assert.Error(t, err, "realm %q", realm)
	}
	_, err = twofahttp.BasicAuth(env.TwoFA, "Example Mail & Calendar (CalDAV)", check)
	assert.NoError(t, err)
}

func TestCredentialFromEmptyContext(t *testing.T) {
	c, ok := twofahttp.CredentialFrom(context.Background())
	assert.False(t, ok)
	assert.Equal(t, twofahttp.Credential{}, c)
	assert.True(t, c.Primary())
}

// One middleware serves many requests at once.
func TestBasicAuthConcurrent(t *testing.T) {
	ctx := context.Background()
	e := newBasicEnv(t)
	e.EnrollTOTP("alice")
	pass, _, err := e.AppPasswords.Create(ctx, "alice", "Thunderbird")
	require.NoError(t, err)

	var wg sync.WaitGroup
	results := make([]basicResult, 40)
	for i := range results {
		wg.Go(func() {
			switch i % 4 {
			case 0:
				results[i] = e.do(t, "alice", pass)
			case 1:
				results[i] = e.do(t, "alice", "correct horse battery staple")
			case 2:
				results[i] = e.do(t, "bob", "hunter2 hunter2")
			default:
				results[i] = e.do(t, "mallory", "x")
			}
		})
	}
	wg.Wait()
	for i, got := range results {
		want := []int{http.StatusOK, http.StatusUnauthorized, http.StatusOK, http.StatusUnauthorized}[i%4]
		assert.Equal(t, want, got.status, "request %d: %s", i, got.body)
	}
}
