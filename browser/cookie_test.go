package browser_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/twofatest"
)

// setCookieHeader returns the one Set-Cookie header of a recorded
// response, split into its attributes (the first is name=value).
func setCookieHeader(t *testing.T, rec *httptest.ResponseRecorder) []string {
	t.Helper()
	hs := rec.Result().Header.Values("Set-Cookie")
	require.Len(t, hs, 1, "one Set-Cookie header")
	parts := strings.Split(hs[0], "; ")
	return parts
}

func TestSetBrowserCookie(t *testing.T) {
	t.Parallel()
	tok := brRandomToken()
	info := browser.Info{CreatedAt: twofatest.Start, ExpiresAt: twofatest.Start.Add(browser.DefaultTTL)}
	rec := httptest.NewRecorder()
	require.NoError(t, browser.SetCookie(rec, tok, info))

	parts := setCookieHeader(t, rec)
	assert.Equal(t, "__Host-twofa_browser="+tok, parts[0])
	assert.ElementsMatch(t, []string{"Path=/", "Max-Age=2592000", "HttpOnly", "Secure", "SameSite=Lax"}, parts[1:],
		"exactly these attributes: no Domain (a __Host- cookie must not have one), no Expires")

	// The same through the standard parser.
	c, err := http.ParseSetCookie(rec.Result().Header.Get("Set-Cookie"))
	require.NoError(t, err)
	assert.Equal(t, browser.DefaultCookieName, c.Name)
	assert.Equal(t, tok, c.Value)
	assert.Equal(t, "/", c.Path)
	assert.Empty(t, c.Domain)
	assert.Equal(t, 30*24*60*60, c.MaxAge)
	assert.True(t, c.Secure)
	assert.True(t, c.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
	assert.True(t, c.Expires.IsZero())
	assert.True(t, strings.HasPrefix(browser.DefaultCookieName, "__Host-"))
}

func TestBrowserCookieMaxAge(t *testing.T) {
	t.Parallel()
	for ttl, want := range map[time.Duration]string{
		time.Second:                "Max-Age=1",
		1500 * time.Millisecond:    "Max-Age=1", // rounded down: the cookie never outlives the trust
		90 * time.Minute:           "Max-Age=5400",
		browser.MaxTTL:             "Max-Age=34560000",
		browser.MaxTTL - time.Hour: "Max-Age=34556400",
	} {
		rec := httptest.NewRecorder()
		info := browser.Info{CreatedAt: twofatest.Start, ExpiresAt: twofatest.Start.Add(ttl)}
		require.NoError(t, browser.SetCookie(rec, brRandomToken(), info))
		assert.Contains(t, setCookieHeader(t, rec), want, "TTL %v", ttl)
	}
}

func TestBrowserCookieRefused(t *testing.T) {
	t.Parallel()
	good := browser.Info{CreatedAt: twofatest.Start, ExpiresAt: twofatest.Start.Add(time.Hour)}
	tok := brRandomToken()
	for name, c := range map[string]struct {
		cookie browser.Cookie
		token  string
		info   browser.Info
	}{
		"malformed token":    {browser.Cookie{}, tok[:42], good},
		"token with ;":       {browser.Cookie{}, tok[:42] + ";", good},
		"empty token":        {browser.Cookie{}, "", good},
		"zero info":          {browser.Cookie{}, tok, browser.Info{}},
		"expires before":     {browser.Cookie{}, tok, browser.Info{CreatedAt: good.ExpiresAt, ExpiresAt: good.CreatedAt}},
		"under a second":     {browser.Cookie{}, tok, browser.Info{CreatedAt: good.CreatedAt, ExpiresAt: good.CreatedAt.Add(time.Second - 1)}},
		"name with a space":  {browser.Cookie{Name: "my cookie"}, tok, good},
		"name with =":        {browser.Cookie{Name: "a=b"}, tok, good},
		"name with newline":  {browser.Cookie{Name: "a\nSet-Cookie: x"}, tok, good},
		"name with unicode":  {browser.Cookie{Name: "naïve"}, tok, good},
		"name with a ; only": {browser.Cookie{Name: ";"}, tok, good},
	} {
		rec := httptest.NewRecorder()
		err := c.cookie.Set(rec, c.token, c.info)
		assert.Error(t, err, name)
		assert.Empty(t, rec.Result().Header.Values("Set-Cookie"), "%s: nothing set", name)
		if len(c.token) > 8 {
			assert.NotContains(t, err.Error(), c.token[:8], "%s: no token in the error", name)
		}
	}
	rec := httptest.NewRecorder()
	assert.Error(t, browser.Cookie{Name: "bad name"}.Clear(rec))
	assert.Empty(t, rec.Result().Header.Values("Set-Cookie"))
}

func TestBrowserCookieName(t *testing.T) {
	t.Parallel()
	c := browser.Cookie{Name: "remember_2fa"}
	tok := brRandomToken()
	rec := httptest.NewRecorder()
	require.NoError(t, c.Set(rec, tok, browser.Info{CreatedAt: twofatest.Start, ExpiresAt: twofatest.Start.Add(time.Hour)}))
	parts := setCookieHeader(t, rec)
	assert.Equal(t, "remember_2fa="+tok, parts[0])
	assert.ElementsMatch(t, []string{"Path=/", "Max-Age=3600", "HttpOnly", "Secure", "SameSite=Lax"}, parts[1:])

	r := httptest.NewRequest(http.MethodGet, "https://example.com/login", nil)
	r.AddCookie(&http.Cookie{Name: browser.DefaultCookieName, Value: "other"})
	r.AddCookie(&http.Cookie{Name: "remember_2fa", Value: tok})
	got, ok := c.Token(r)
	assert.True(t, ok)
	assert.Equal(t, tok, got)
	got, ok = browser.Token(r)
	assert.True(t, ok)
	assert.Equal(t, "other", got, "the default name reads the default cookie")
}

func TestBrowserToken(t *testing.T) {
	t.Parallel()
	tok := brRandomToken()
	for name, c := range map[string]struct {
		header string
		want   string
		ok     bool
	}{
		"absent":         {"", "", false},
		"other cookie":   {"session=abc", "", false},
		"present":        {"session=abc; __Host-twofa_browser=" + tok, tok, true},
		"empty value":    {"__Host-twofa_browser=", "", false},
		"quoted":         {`__Host-twofa_browser="` + tok + `"`, tok, true},
		"twice":          {"__Host-twofa_browser=" + tok + "; __Host-twofa_browser=second", tok, true},
		"garbage":        {"__Host-twofa_browser=%%%", "%%%", true}, // Check refuses it
		"without prefix": {"twofa_browser=" + tok, "", false},
	} {
		r := httptest.NewRequest(http.MethodGet, "https://example.com/login", nil)
		if c.header != "" {
			r.Header.Set("Cookie", c.header)
		}
		got, ok := browser.Token(r)
		assert.Equal(t, c.ok, ok, name)
		assert.Equal(t, c.want, got, name)
	}
}

func TestClearBrowserCookie(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	browser.ClearCookie(rec)
	parts := setCookieHeader(t, rec)
	assert.Equal(t, "__Host-twofa_browser=", parts[0])
	assert.ElementsMatch(t, []string{"Path=/", "Max-Age=0", "HttpOnly", "Secure", "SameSite=Lax"}, parts[1:],
		"a __Host- cookie is replaced only by one with Secure and Path=/")
	c, err := http.ParseSetCookie(rec.Result().Header.Get("Set-Cookie"))
	require.NoError(t, err)
	assert.Equal(t, -1, c.MaxAge, "Max-Age=0 parses as delete now")

	rec = httptest.NewRecorder()
	require.NoError(t, browser.Cookie{Name: "remember_2fa"}.Clear(rec))
	assert.Equal(t, "remember_2fa=", setCookieHeader(t, rec)[0])
}

// TestBrowserCookieRoundTrip runs a real HTTPS server and a client with a
// cookie jar: the cookie Trust's response sets comes back on the next
// request, and Check accepts it; after ClearCookie it is gone.
func TestBrowserCookieRoundTrip(t *testing.T) {
	t.Parallel()
	e := newBrEnv(t, nil)
	e.EnrollTOTP("alice")
	mux := http.NewServeMux()
	mux.HandleFunc("POST /trust", func(w http.ResponseWriter, r *http.Request) {
		tok, info, err := e.browsers.Trust(r.Context(), "alice", "test client")
		if err == nil {
			err = browser.SetCookie(w, tok, info)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /check", func(w http.ResponseWriter, r *http.Request) {
		tok, ok := browser.Token(r)
		if !ok {
			io.WriteString(w, "no cookie")
			return
		}
		if _, err := e.browsers.Check(r.Context(), "alice", tok); err != nil {
			io.WriteString(w, err.Error())
			return
		}
		io.WriteString(w, "trusted")
	})
	mux.HandleFunc("POST /forget", func(w http.ResponseWriter, r *http.Request) {
		browser.ClearCookie(w)
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := srv.Client()
	client.Jar = jar

	get := func(method, path string) string {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
		require.NoError(t, err)
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
		return string(b)
	}
	assert.Equal(t, "no cookie", get("GET", "/check"))
	get("POST", "/trust")
	assert.Equal(t, "trusted", get("GET", "/check"))
	get("POST", "/forget")
	assert.Equal(t, "no cookie", get("GET", "/check"))
}
