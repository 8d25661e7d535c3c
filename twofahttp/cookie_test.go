package twofahttp_test

import (
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa/twofahttp"
)

func signInToken(t *testing.T) string {
	b := make([]byte, 32)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(b)
}

// setCookie returns the one Set-Cookie header of a recorded response,
// split into its attributes (the first is name=value).
func setCookie(t *testing.T, rec *httptest.ResponseRecorder) []string {
	t.Helper()
	hs := rec.Result().Header.Values("Set-Cookie")
	require.Len(t, hs, 1, "one Set-Cookie header")
	return strings.Split(hs[0], "; ")
}

func TestSignInCookieSet(t *testing.T) {
	tok := signInToken(t)
	rec := httptest.NewRecorder()
	require.NoError(t, twofahttp.SignInCookie{}.Set(rec, tok, 5*time.Minute))

	parts := setCookie(t, rec)
	assert.Equal(t, "__Host-twofa_signin="+tok, parts[0])
	assert.ElementsMatch(t, []string{"Path=/", "Max-Age=300", "HttpOnly", "Secure", "SameSite=Lax"}, parts[1:],
		"exactly these attributes: no Domain (a __Host- cookie must not have one), no Expires")

	c, err := http.ParseSetCookie(rec.Result().Header.Get("Set-Cookie"))
	require.NoError(t, err)
	assert.Equal(t, twofahttp.DefaultSignInCookieName, c.Name)
	assert.Equal(t, tok, c.Value)
	assert.Equal(t, "/", c.Path)
	assert.Empty(t, c.Domain)
	assert.Equal(t, 300, c.MaxAge)
	assert.True(t, c.Secure)
	assert.True(t, c.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
	assert.True(t, c.Expires.IsZero())
}

func TestSignInCookieMaxAge(t *testing.T) {
	for ttl, want := range map[time.Duration]string{
		time.Second:             "Max-Age=1",
		1999 * time.Millisecond: "Max-Age=1", // rounded down: the cookie never outlives the sign-in
		10 * time.Minute:        "Max-Age=600",
		1000 * 24 * time.Hour:   "Max-Age=34560000", // browsers' cap, 400 days
	} {
		rec := httptest.NewRecorder()
		require.NoError(t, twofahttp.SignInCookie{}.Set(rec, signInToken(t), ttl))
		assert.Contains(t, setCookie(t, rec), want, "TTL %v", ttl)
	}
}

func TestSignInCookieRefused(t *testing.T) {
	tok := signInToken(t)
	for name, c := range map[string]struct {
		cookie twofahttp.SignInCookie
		token  string
		ttl    time.Duration
	}{
		"empty token":        {token: "", ttl: time.Minute},
		"token with a space": {token: "abc def", ttl: time.Minute},
		"token with a quote": {token: `abc"def`, ttl: time.Minute},
		"token with ;":       {token: "abc;Domain=evil.example", ttl: time.Minute},
		"padded base64":      {token: "abcd==", ttl: time.Minute},
		"token too long":     {token: strings.Repeat("a", twofahttp.MaxSignInTokenLen+1), ttl: time.Minute},
		"under a second":     {token: tok, ttl: 999 * time.Millisecond},
		"zero ttl":           {token: tok},
		"negative ttl":       {token: tok, ttl: -time.Minute},
		"bad name":           {cookie: twofahttp.SignInCookie{Name: "bad name"}, token: tok, ttl: time.Minute},
	} {
		t.Run(name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			err := c.cookie.Set(rec, c.token, c.ttl)
			require.Error(t, err)
			assert.Empty(t, rec.Result().Header.Values("Set-Cookie"), "nothing set")
			if c.token != "" && c.token != tok {
				assert.NotContains(t, err.Error(), c.token, "the error does not echo the token")
			}
		})
	}
	assert.Error(t, twofahttp.SignInCookie{Name: "bad name"}.Clear(httptest.NewRecorder()))
	// The longest token is taken.
	require.NoError(t, twofahttp.SignInCookie{}.Set(httptest.NewRecorder(), strings.Repeat("a", twofahttp.MaxSignInTokenLen), time.Minute))
}

func TestSignInCookieToken(t *testing.T) {
	tok := signInToken(t)
	for name, tc := range map[string]struct {
		cookie *http.Cookie
		want   string
		ok     bool
	}{
		"none":      {nil, "", false},
		"set":       {&http.Cookie{Name: twofahttp.DefaultSignInCookieName, Value: tok}, tok, true},
		"empty":     {&http.Cookie{Name: twofahttp.DefaultSignInCookieName, Value: ""}, "", false},
		"malformed": {&http.Cookie{Name: twofahttp.DefaultSignInCookieName, Value: "a.b"}, "", false},
		"too long":  {&http.Cookie{Name: twofahttp.DefaultSignInCookieName, Value: strings.Repeat("a", twofahttp.MaxSignInTokenLen+1)}, "", false},
		"other":     {&http.Cookie{Name: "__Host-twofa_browser", Value: tok}, "", false},
	} {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tc.cookie != nil {
				r.AddCookie(tc.cookie)
			}
			got, ok := twofahttp.SignInCookie{}.Token(r)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(&http.Cookie{Name: "custom", Value: tok})
	got, ok := twofahttp.SignInCookie{Name: "custom"}.Token(r)
	assert.True(t, ok)
	assert.Equal(t, tok, got)
}

func TestSignInCookieClear(t *testing.T) {
	rec := httptest.NewRecorder()
	require.NoError(t, twofahttp.SignInCookie{}.Clear(rec))
	parts := setCookie(t, rec)
	assert.Equal(t, "__Host-twofa_signin=", parts[0])
	assert.ElementsMatch(t, []string{"Path=/", "Max-Age=0", "HttpOnly", "Secure", "SameSite=Lax"}, parts[1:])
}

// Through a real browser-like client: the cookie jar keeps the cookie,
// sends it back, and drops it when cleared.
func TestSignInCookieRoundTrip(t *testing.T) {
	tok := signInToken(t)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /password", func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, twofahttp.SignInCookie{}.Set(w, tok, 5*time.Minute))
	})
	mux.HandleFunc("GET /code", func(w http.ResponseWriter, r *http.Request) {
		got, _ := twofahttp.SignInCookie{}.Token(r)
		_, _ = io.WriteString(w, got)
	})
	mux.HandleFunc("POST /code", func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, twofahttp.SignInCookie{}.Clear(w))
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := srv.Client()
	client.Jar = jar

	get := func() string {
		res, err := client.Get(srv.URL + "/code")
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return string(b)
	}
	post := func(path string) {
		res, err := client.Post(srv.URL+path, "text/plain", nil)
		require.NoError(t, err)
		require.NoError(t, res.Body.Close())
		require.Equal(t, http.StatusOK, res.StatusCode)
	}
	assert.Empty(t, get())
	post("/password")
	assert.Equal(t, tok, get())
	post("/code")
	assert.Empty(t, get())
}
