package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/sqlstore"
	"github.com/twofa-go/twofa/twofahttp"
	"github.com/twofa-go/twofa/twofatest"
)

// pgEnv names the environment variable that enables the PostgreSQL tests.
const pgEnv = "TWOFA_TEST_POSTGRES"

// testArgon is a cheap Argon2id cost, for tests only: the flows sign in
// dozens of times, under the race detector too.
var testArgon = argonParams{Time: 1, Memory: 8 * 1024, Threads: 1}

// testDB opens a fresh database of the named kind and returns it with
// its dialect and a table prefix; "postgres" skips without pgEnv.
func testDB(t *testing.T, kind string) (*sql.DB, sqlstore.Dialect, string) {
	t.Helper()
	if kind == "sqlite" {
		db, err := sql.Open("sqlite", sqliteDSN(filepath.Join(t.TempDir(), "demo.db")))
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		return db, sqlstore.SQLite, ""
	}
	dsn := os.Getenv(pgEnv)
	if dsn == "" {
		t.Skip(pgEnv + " not set: skipping PostgreSQL tests (set it to a DSN, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	db, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := fmt.Sprintf("t%x_", b)
	t.Cleanup(func() {
		for _, tbl := range []string{"devices", "throttles", "recovery_codes", "app_passwords", "phones", "challenges", "browsers", "signins", "locks", "schema_version", "demo_users"} {
			if _, err := db.Exec("DROP TABLE IF EXISTS " + prefix + tbl); err != nil {
				t.Errorf("drop %s%s: %v", prefix, tbl, err)
			}
		}
		db.Close()
	})
	return db, sqlstore.Postgres, prefix
}

// testServer is the demo on 127.0.0.1 with a clock the test moves.
type testServer struct {
	*server
	URL   string
	Clock *twofatest.Clock
}

func startServer(t *testing.T, kind string) *testServer {
	t.Helper()
	db, dialect, prefix := testDB(t, kind)
	text, err := keyring.Generate()
	require.NoError(t, err)
	keys, err := keyring.Parse(text)
	require.NoError(t, err)
	return startServerOn(t, config{DB: db, Dialect: dialect, TablePrefix: prefix, Keyring: keys,
		Clock: twofatest.NewClock(twofatest.Start)})
}

// startServerOn starts the demo on cfg's database, keys and clock (a
// *twofatest.Clock), as a restart or another replica would.
func startServerOn(t *testing.T, cfg config) *testServer {
	t.Helper()
	cfg.Argon2, cfg.Log = testArgon, log.New(testWriter{t}, "", 0)
	s, h, err := newServer(context.Background(), cfg)
	require.NoError(t, err)
	hs := httptest.NewServer(h) // listens on 127.0.0.1
	t.Cleanup(hs.Close)
	return &testServer{server: s, URL: hs.URL, Clock: cfg.Clock.(*twofatest.Clock)}
}

// testWriter sends the server's log to the test's.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// jar keeps every cookie the server sets, Secure ones too (the test
// server is plain HTTP on 127.0.0.1, as a browser treats localhost).
type jar struct {
	mu sync.Mutex
	m  map[string]*http.Cookie
}

func (j *jar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.m == nil {
		j.m = map[string]*http.Cookie{}
	}
	for _, c := range cs {
		if c.MaxAge < 0 {
			delete(j.m, c.Name)
		} else {
			j.m[c.Name] = c
		}
	}
}

func (j *jar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []*http.Cookie
	for _, c := range j.m {
		out = append(out, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	return out
}

// client is a person's browser without JavaScript: forms posted, redirects
// followed, cookies kept.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, base string) *client {
	return &client{t: t, base: base, http: &http.Client{Jar: &jar{}}}
}

// post submits a form and returns the final status and page.
func (c *client) post(path string, form url.Values) (int, string) {
	c.t.Helper()
	resp, err := c.http.PostForm(c.base+path, form)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp.StatusCode, html.UnescapeString(string(b))
}

func (c *client) get(path string) (int, string) {
	c.t.Helper()
	resp, err := c.http.Get(c.base + path)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp.StatusCode, html.UnescapeString(string(b))
}

// whoami calls the Basic-auth API as a script would, and returns the
// status and the account it answered.
func whoami(t *testing.T, base, user, password string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/api/whoami", nil)
	require.NoError(t, err)
	req.SetBasicAuth(user, password)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	if resp.StatusCode != http.StatusOK {
		// An RFC 9457 problem (twofahttp.WriteError), with its challenge.
		assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
		if resp.StatusCode == http.StatusUnauthorized {
			assert.Equal(t, `Basic realm="twofa demo", charset="UTF-8"`, resp.Header.Get("WWW-Authenticate"))
		}
		return resp.StatusCode, fmt.Sprint(body["detail"])
	}
	return resp.StatusCode, fmt.Sprint(body["account"], " via ", body["via"])
}

var (
	keyRE         = regexp.MustCompile(`<p class="secret" id="key">([A-Z2-7 ]+)</p>`)
	deviceIDRE    = regexp.MustCompile(`name="id" value="([a-z0-9]+)"`)
	appPasswordRE = regexp.MustCompile(`id="new-app-password">([a-z]{4}-[a-z]{4}-[a-z]{4}-[a-z]{4})<`)
)

// TestBasicAuthAndPasswordChange drives the server over plain HTTP: the
// API takes the primary password while two-factor authentication is
// off and only app passwords while it is on, and a password change
// revokes the app passwords and the trusted browsers.
func TestBasicAuthAndPasswordChange(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			s := startServer(t, kind)
			c := newClient(t, s.URL)
			const pw = "correct horse battery"
			status, body := c.post("/signup", url.Values{"account": {" Erin "}, "password": {pw}, "password2": {pw}})
			require.Equal(t, http.StatusOK, status, body)
			require.Contains(t, body, "Two-factor authentication is <strong>off</strong>")

			st, who := whoami(t, s.URL, "erin", pw)
			assert.Equal(t, http.StatusOK, st)
			assert.Equal(t, "erin via password", who)
			st, _ = whoami(t, s.URL, "erin", "wrong password")
			assert.Equal(t, http.StatusUnauthorized, st)
			st, _ = whoami(t, s.URL, "nobody", pw)
			assert.Equal(t, http.StatusUnauthorized, st)

			// Turn two-factor authentication on with the key typed by hand.
			_, body = c.post("/settings/devices/enroll", url.Values{"label": {"Phone"}})
			m := keyRE.FindStringSubmatch(body)
			require.NotNil(t, m, body)
			id := deviceIDRE.FindStringSubmatch(body)
			require.NotNil(t, id, body)
			secret, err := twofa.ParseSecret(m[1])
			require.NoError(t, err)
			totp, err := twofa.NewTOTP(secret, twofa.Options{})
			require.NoError(t, err)
			code, err := totp.Code(s.Clock.Now())
			require.NoError(t, err)
			_, body = c.post("/settings/devices/confirm", url.Values{"id": {id[1]}, "code": {code}})
			require.Contains(t, body, "shown only this once")

			st, who = whoami(t, s.URL, "erin", pw)
			assert.Equal(t, http.StatusUnauthorized, st, "the primary password must not pass while 2FA is on")
			assert.Equal(t, twofahttp.NotAcceptedDetail, who, "the one 401 of every refusal")
			// Many calls with the primary password while 2FA is on do not
			// throttle the account's sign-in: they are not password guesses
			// that could pass.
			for range 8 {
				st, _ = whoami(t, s.URL, "erin", pw)
				require.Equal(t, http.StatusUnauthorized, st)
			}

			_, body = c.post("/settings/app-passwords", url.Values{"label": {"Mail"}})
			ap := appPasswordRE.FindStringSubmatch(body)
			require.NotNil(t, ap, body)
			st, who = whoami(t, s.URL, "erin", ap[1])
			assert.Equal(t, http.StatusOK, st)
			assert.Equal(t, "erin via app password", who)
			st, _ = whoami(t, s.URL, "erin", strings.ToUpper(strings.ReplaceAll(ap[1], "-", " ")))
			assert.Equal(t, http.StatusOK, st, "app passwords are read as typed")

			// A trusted browser: sign in again with a code and "trust".
			c.post("/signout", nil)
			status, body = c.post("/signin", url.Values{"account": {"erin"}, "password": {pw}})
			require.Equal(t, http.StatusOK, status)
			require.Contains(t, body, `id="code"`)
			s.Clock.Advance(30 * time.Second)
			code, err = totp.Code(s.Clock.Now())
			require.NoError(t, err)
			_, body = c.post("/signin/code", url.Values{"code": {code}, "trust": {"1"}})
			require.Contains(t, body, "Two-factor authentication is <strong>on</strong>")
			trusted, err := s.browsers.List(context.Background(), "erin")
			require.NoError(t, err)
			require.Len(t, trusted, 1)

			// A wrong current password changes nothing.
			status, body = c.post("/settings/password", url.Values{"current": {"not it at all"}, "password": {"new password 2"}, "password2": {"new password 2"}})
			assert.Equal(t, http.StatusUnprocessableEntity, status)
			assert.Contains(t, body, "current password is not right")
			st, _ = whoami(t, s.URL, "erin", ap[1])
			assert.Equal(t, http.StatusOK, st)

			const pw2 = "new password 2"
			_, body = c.post("/settings/password", url.Values{"current": {pw}, "password": {pw2}, "password2": {pw2}})
			require.Contains(t, body, "Password changed")
			st, _ = whoami(t, s.URL, "erin", ap[1])
			assert.Equal(t, http.StatusUnauthorized, st, "a password change revokes app passwords")
			st, _ = whoami(t, s.URL, "erin", pw2)
			assert.Equal(t, http.StatusUnauthorized, st, "2FA is still on")
			trusted, err = s.browsers.List(context.Background(), "erin")
			require.NoError(t, err)
			assert.Empty(t, trusted, "a password change revokes trusted browsers")
			aps, err := s.tf.AppPasswords.List(context.Background(), "erin")
			require.NoError(t, err)
			assert.Empty(t, aps)

			// The old password no longer signs in; the new one asks for a code.
			c.post("/signout", nil)
			status, _ = c.post("/signin", url.Values{"account": {"erin"}, "password": {pw}})
			assert.Equal(t, http.StatusUnauthorized, status)
			_, body = c.post("/signin", url.Values{"account": {"erin"}, "password": {pw2}})
			assert.Contains(t, body, `id="code"`, "the browser is no longer trusted")
		})
	}
}

// TestCrossOriginPostRefused: a form posted from another site is refused.
func TestCrossOriginPostRefused(t *testing.T) {
	s := startServer(t, "sqlite")
	req, err := http.NewRequest("POST", s.URL+"/signup", strings.NewReader("account=mallory&password=12345678&password2=12345678"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	_, err = s.users.hash(context.Background(), "mallory")
	assert.ErrorIs(t, err, errNoUser)
}

// TestSettingsNeedSignIn: every settings page sends a stranger to sign in.
func TestSettingsNeedSignIn(t *testing.T) {
	s := startServer(t, "sqlite")
	c := newClient(t, s.URL)
	for _, p := range []string{"/settings", "/settings/devices", "/settings/recovery", "/settings/app-passwords", "/settings/phones", "/settings/browsers", "/settings/password"} {
		status, body := c.get(p)
		assert.Equal(t, http.StatusOK, status, p)
		assert.Contains(t, body, `action="/signin"`, p)
	}
	status, _ := c.post("/settings/app-passwords", url.Values{"label": {"x"}})
	assert.Equal(t, http.StatusOK, status) // the sign-in page, after the redirect
}

// TestPasswordThrottle: after 5 free wrong passwords the back-off runs,
// the page says until when, even the right password waits, and a right
// one clears it.
func TestPasswordThrottle(t *testing.T) {
	s := startServer(t, "sqlite")
	c := newClient(t, s.URL)
	const pw = "correct horse battery"
	c.post("/signup", url.Values{"account": {"frank"}, "password": {pw}, "password2": {pw}})
	c.post("/signout", nil)
	wrong := url.Values{"account": {"frank"}, "password": {"not the password"}}
	for i := range 6 {
		status, body := c.post("/signin", wrong)
		require.Equal(t, http.StatusUnauthorized, status, "try %d", i+1)
		require.Contains(t, body, "Wrong account name or password")
	}
	until := s.Clock.Now().Add(time.Second).UTC().Format("15:04:05 UTC")
	status, body := c.post("/signin", wrong)
	assert.Equal(t, http.StatusTooManyRequests, status)
	assert.Contains(t, body, "Too many wrong passwords. Try again after "+until)
	status, _ = c.post("/signin", url.Values{"account": {"frank"}, "password": {pw}})
	assert.Equal(t, http.StatusTooManyRequests, status, "the back-off holds for the right password too")
	st, _ := whoami(t, s.URL, "frank", pw)
	assert.Equal(t, http.StatusTooManyRequests, st, "the API shares the throttle")

	s.Clock.Advance(2 * time.Second)
	status, body = c.post("/signin", url.Values{"account": {"frank"}, "password": {pw}})
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "Signed in as")
	c.post("/signout", nil)
	status, _ = c.post("/signin", wrong)
	assert.Equal(t, http.StatusUnauthorized, status, "a right password cleared the back-off")

	// An unknown account is never throttled, and never signs in.
	for range 8 {
		status, _ = c.post("/signin", url.Values{"account": {"nobody"}, "password": {pw}})
		require.Equal(t, http.StatusUnauthorized, status)
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := hashPassword(defaultArgon, "correct horse")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=4$"), h)
	ok, err := verifyPassword(h, "correct horse")
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = verifyPassword(h, "correct horsf")
	require.NoError(t, err)
	assert.False(t, ok)
	h2, err := hashPassword(defaultArgon, "correct horse")
	require.NoError(t, err)
	assert.NotEqual(t, h, h2, "a fresh salt each time")

	long := strings.Repeat("a", maxPasswordLen)
	h, err = hashPassword(testArgon, long)
	require.NoError(t, err)
	ok, err = verifyPassword(h, long+"b")
	require.NoError(t, err)
	assert.False(t, ok, "an over-long password never matches its prefix")

	for _, bad := range []string{
		"", "$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$" + strings.Repeat("A", 43),
		"$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$" + strings.Repeat("A", 43), // 4 GiB
		"$argon2id$v=19$m=8,t=100,p=1$c2FsdHNhbHQ$" + strings.Repeat("A", 43),
		"$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$AAAA",
	} {
		_, err := verifyPassword(bad, "x")
		assert.ErrorIs(t, err, errBadHash, bad)
	}
	assert.ErrorIs(t, checkNewPassword("short"), errPasswordLength)
	assert.NoError(t, checkNewPassword("long enough"))
}

func TestGroupKey(t *testing.T) {
	assert.Equal(t, "ABCD EFGH IJ", groupKey("ABCDEFGHIJ"))
	assert.Equal(t, "", groupKey(""))
}

// TestPendingSignInSurvivesRestart: the pending sign-in is in the
// database, so a password typed before a restart (or on another replica)
// is finished with a code after it, once.
func TestPendingSignInSurvivesRestart(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			s := startServer(t, kind)
			c := newClient(t, s.URL)
			const pw = "correct horse battery"
			c.post("/signup", url.Values{"account": {"gina"}, "password": {pw}, "password2": {pw}})
			dev := twofatest.EnrollDevice(t, s.tf.Devices, s.Clock, "gina", twofa.EnrollOptions{})
			c.post("/signout", nil)
			status, body := c.post("/signin", url.Values{"account": {"gina"}, "password": {pw}})
			require.Equal(t, http.StatusOK, status)
			require.Contains(t, body, `id="code"`)
			l, err := s.signins.List(context.Background(), "gina")
			require.NoError(t, err)
			require.Len(t, l, 1)
			assert.Equal(t, "127.0.0.1", l[0].IP.String())
			assert.NotEmpty(t, l[0].Label)

			// The same database and keys, a new process.
			s2 := startServerOn(t, s.cfg)
			c.base = s2.URL
			_, body = c.get("/signin/code")
			require.Contains(t, body, `id="code"`, "the new process knows the pending sign-in")
			status, body = c.post("/signin/code", url.Values{"code": {dev.Code()}})
			require.Equal(t, http.StatusOK, status)
			require.Contains(t, body, "Signed in as")
			l, err = s.signins.List(context.Background(), "gina")
			require.NoError(t, err)
			assert.Empty(t, l, "finished, for the first process too")
			status, body = c.get("/signin/code")
			assert.Equal(t, http.StatusOK, status)
			assert.Contains(t, body, `action="/signin"`, "no pending sign-in left: the password page")
		})
	}
}

func TestSessions(t *testing.T) {
	clock := twofatest.NewClock(twofatest.Start)
	s := newSessions(clock)
	a, err := s.create("alice")
	require.NoError(t, err)
	b, err := s.create("alice")
	require.NoError(t, err)
	c, err := s.create("bob")
	require.NoError(t, err)
	assert.NotEqual(t, a, b)
	var who string
	require.True(t, s.with(a, func(v *session) { who = v.account }))
	assert.Equal(t, "alice", who)
	assert.False(t, s.with("", func(*session) {}))
	assert.False(t, s.with(a+"x", func(*session) {}))

	s.deleteAccount("alice")
	assert.False(t, s.with(a, func(*session) {}))
	assert.False(t, s.with(b, func(*session) {}))
	assert.True(t, s.with(c, func(*session) {}))

	clock.Advance(sessionTTL)
	assert.False(t, s.with(c, func(*session) {}), "expired")
	s.delete(c)
}
