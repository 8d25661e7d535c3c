package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/signin"
	"github.com/twofa-go/twofa/sqlstore"
	"github.com/twofa-go/twofa/twofahttp"
)

//go:embed templates/*.html
var templateFS embed.FS

// config is what newServer builds the demo from.
type config struct {
	DB          *sql.DB          // SQLite or PostgreSQL; holds twofa's tables and the users
	Dialect     sqlstore.Dialect // of DB
	TablePrefix string           // of every table; "" means sqlstore's "twofa_"
	Keyring     twofa.Keyring
	Clock       twofa.Clock // nil: the system clock
	Log         *log.Logger // nil: discard
	// Argon2 sets the password hashes' cost; the zero value means
	// defaultArgon. Only tests lower it.
	Argon2 argonParams
}

// server is the demo's state: the twofa installation and what the
// handlers keep.
type server struct {
	cfg      config
	clock    twofa.Clock
	log      *log.Logger
	store    *sqlstore.Store
	tf       *twofa.TwoFA
	browsers *browser.Manager
	phones   *phone.Manager
	outbox   *outbox
	users    *users
	sessions *sessions
	signins  *signin.Manager  // pending sign-ins, in the database
	step     twofahttp.SignIn // the sign-in's second step on signins, its token in a cookie
	pages    map[string]*template.Template
	csp      string
	// dummyHash is a hash of a random password, checked when an account
	// does not exist, so that an unknown account costs a sign-in the same
	// Argon2 work as a known one.
	dummyHash string
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// newServer builds the demo on cfg: it migrates the database and
// returns the server and its handler.
func newServer(ctx context.Context, cfg config) (*server, http.Handler, error) {
	if cfg.Clock == nil {
		cfg.Clock = systemClock{}
	}
	if cfg.Log == nil {
		cfg.Log = log.New(io.Discard, "", 0)
	}
	if cfg.Argon2 == (argonParams{}) {
		cfg.Argon2 = defaultArgon
	}
	prefix := cfg.TablePrefix
	if prefix == "" {
		prefix = sqlstore.DefaultTablePrefix
	}
	store, err := sqlstore.New(cfg.DB, cfg.Dialect, sqlstore.Options{TablePrefix: prefix})
	if err != nil {
		return nil, nil, err
	}
	if err := store.Migrate(ctx); err != nil {
		return nil, nil, fmt.Errorf("migrate: %w", err)
	}
	s := &server{
		cfg:      cfg,
		clock:    cfg.Clock,
		log:      cfg.Log,
		store:    store,
		outbox:   &outbox{clock: cfg.Clock},
		users:    &users{db: cfg.DB, dialect: cfg.Dialect, table: prefix + "demo_users", clock: cfg.Clock},
		sessions: newSessions(cfg.Clock),
	}
	if err := s.users.migrate(ctx); err != nil {
		return nil, nil, fmt.Errorf("migrate users: %w", err)
	}
	s.tf, err = twofa.New(twofa.Config{
		Store:   store,
		Keyring: cfg.Keyring,
		Issuer:  "twofa demo",
		Clock:   cfg.Clock,
		Events: func(_ context.Context, e twofa.Event) {
			s.log.Printf("event %s account=%q", e.Type, e.Account)
		},
	})
	if err != nil {
		return nil, nil, err
	}
	if s.browsers, err = browser.New(s.tf, browser.Config{}); err != nil {
		return nil, nil, err
	}
	// Codes texted to trusted numbers sign in too (OutOfBand): weaker
	// than an authenticator app (SIM swaps), offered knowingly.
	if s.phones, err = phone.New(s.tf, phone.Config{Sender: s.outbox, OutOfBand: true}); err != nil {
		return nil, nil, err
	}
	// Pending sign-ins (a right password, a second factor due) are kept
	// in the database too: they survive a restart and work across
	// replicas.
	if s.signins, err = signin.New(s.tf, signin.Config{Browsers: s.browsers}); err != nil {
		return nil, nil, err
	}
	s.step = twofahttp.SignIn{SignIns: s.signins, ErrorLog: s.log}
	if s.dummyHash, err = hashPassword(cfg.Argon2, "not a password anyone has: "+time.Now().String()); err != nil {
		return nil, nil, err
	}
	if err := s.parseTemplates(); err != nil {
		return nil, nil, err
	}
	h, err := s.routes()
	if err != nil {
		return nil, nil, err
	}
	return s, h, nil
}

// css is the style of every page, inline so that a page is one request;
// the Content-Security-Policy admits exactly it by its hash.
const css = `
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d232a;background:#f4f5f7;margin:0}
header{background:#1d3557;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
header a,header button{color:#fff}
header .brand{font-weight:700;margin-right:auto;text-decoration:none}
main{max-width:46rem;margin:1.5rem auto;background:#fff;padding:1.5rem 2rem;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.5rem;margin-top:0}
h2{font-size:1.15rem;margin-top:1.8rem}
label{display:block;margin:.8rem 0 .2rem;font-weight:600}
label.check{font-weight:400;display:flex;gap:.5rem;align-items:center}
input[type=text],input[type=password],input[type=tel],select{font:inherit;padding:.45rem .6rem;border:1px solid #9aa5b1;border-radius:4px;width:100%;max-width:22rem}
button{font:inherit;padding:.45rem 1rem;border-radius:4px;border:1px solid #1d3557;background:#1d3557;color:#fff;cursor:pointer;margin-top:.8rem}
button.link{background:none;border:none;padding:0;margin:0;text-decoration:underline;cursor:pointer;color:#1d3557}
header button.link{color:#fff}
td input[type=text]{width:9rem}
button.danger{background:#fff;color:#a4161a;border-color:#a4161a}
button.secondary{background:#fff;color:#1d3557}
td.n{white-space:nowrap}
form.inline{display:inline}
form.cancel{margin-top:1.2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #e1e4e8;vertical-align:top}
td form button{margin-top:0}
.error{background:#fdecea;border:1px solid #a4161a;color:#7a0e12;padding:.6rem .9rem;border-radius:4px}
.notice{background:#e8f4ea;border:1px solid #2d6a4f;color:#1b4332;padding:.6rem .9rem;border-radius:4px}
.secret{font:1.2rem/1.6 ui-monospace,Menlo,Consolas,monospace;background:#fff8e1;border:1px dashed #b08900;padding:.6rem .9rem;border-radius:4px;word-spacing:.3rem}
ol.codes{columns:2;font:1.05rem/1.8 ui-monospace,Menlo,Consolas,monospace}
.muted{color:#5c6670;font-size:.92rem}
.qr{display:block;margin:.8rem 0;border:1px solid #e1e4e8}
.dev{background:#fff3cd;border:1px solid #b08900;padding:.5rem .9rem;border-radius:4px}
`

func (s *server) parseTemplates() error {
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "never"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"css": func() template.CSS { return template.CSS(css) },
	}
	names, err := templateFS.ReadDir("templates")
	if err != nil {
		return err
	}
	s.pages = map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(n.Name(), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+n.Name())
		if err != nil {
			return err
		}
		s.pages[name] = t
	}
	sum := sha256.Sum256([]byte(css))
	s.csp = "default-src 'none'; img-src data:; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	return nil
}

func (s *server) routes() (http.Handler, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /signup", s.signupPage)
	mux.HandleFunc("POST /signup", s.signup)
	mux.HandleFunc("GET /signin", s.signinPage)
	mux.HandleFunc("POST /signin", s.signin)
	mux.HandleFunc("GET /signin/code", s.codePage)
	mux.HandleFunc("POST /signin/code", s.code)
	mux.HandleFunc("POST /signin/text", s.textCode)
	mux.HandleFunc("POST /signin/cancel", s.cancelSignIn)
	mux.HandleFunc("POST /signout", s.signout)
	mux.HandleFunc("GET /outbox", s.outboxPage)
	basic, err := twofahttp.BasicAuth(s.tf, "twofa demo", s.apiPassword)
	if err != nil {
		return nil, err
	}
	mux.Handle("GET /api/whoami", basic(http.HandlerFunc(apiWhoami)))

	auth := func(pattern string, h func(http.ResponseWriter, *http.Request, *account)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			a, ok := s.current(r)
			if !ok {
				http.Redirect(w, r, "/signin", http.StatusSeeOther)
				return
			}
			h(w, r, a)
		})
	}
	auth("GET /settings", s.settings)
	auth("GET /settings/devices", s.devicesPage)
	auth("POST /settings/devices/enroll", s.enroll)
	auth("POST /settings/devices/confirm", s.confirmDevice)
	auth("POST /settings/devices/rename", s.renameDevice)
	auth("POST /settings/devices/revoke", s.revokeDevice)
	auth("GET /settings/recovery", s.recoveryPage)
	auth("POST /settings/recovery", s.regenerateRecovery)
	auth("GET /settings/app-passwords", s.appPasswordsPage)
	auth("POST /settings/app-passwords", s.createAppPassword)
	auth("POST /settings/app-passwords/revoke", s.revokeAppPassword)
	auth("GET /settings/phones", s.phonesPage)
	auth("POST /settings/phones", s.addPhone)
	auth("POST /settings/phones/send", s.sendPhoneCode)
	auth("POST /settings/phones/confirm", s.confirmPhone)
	auth("POST /settings/phones/remove", s.removePhone)
	auth("GET /settings/browsers", s.browsersPage)
	auth("POST /settings/browsers/revoke", s.revokeBrowser)
	auth("POST /settings/browsers/revoke-all", s.revokeAllBrowsers)
	auth("GET /settings/password", s.passwordPage)
	auth("POST /settings/password", s.changePassword)

	// Cross-site POSTs are refused (Sec-Fetch-Site and Origin checks):
	// every state change here is a form POST.
	csrf, err := twofahttp.CrossOriginProtection()
	if err != nil {
		return nil, err
	}
	return s.headers(csrf.Handler(mux)), nil
}

// headers sets the security headers of every response. no-store keeps
// pages that show a secret once (recovery codes, app passwords, QR
// codes) out of caches and the back button's history.
func (s *server) headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", s.csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		hd.Set("X-Frame-Options", "DENY")
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		h.ServeHTTP(w, r)
	})
}

// maxBody bounds a request's body: every form here is a few fields.
const maxBody = 64 << 10

// sessionCookie carries the session's token. The "__Host-" prefix binds
// it to this host, Secure (browsers treat http://localhost as secure),
// HttpOnly, SameSite=Lax - as twofahttp's sign-in cookie and package
// browser's cookie are.
const sessionCookie = "__Host-demo_session"

func setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(maxAge / time.Second),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// account is the signed-in user of a request.
type account struct {
	Name  string
	token string
	flash string
}

// current returns the signed-in account of r, and takes its flash.
func (s *server) current(r *http.Request) (*account, bool) {
	tok := cookieValue(r, sessionCookie)
	if tok == "" {
		return nil, false
	}
	a := &account{token: tok}
	ok := s.sessions.with(tok, func(v *session) {
		a.Name = v.account
		a.flash, v.flash = v.flash, ""
	})
	return a, ok
}

// flash leaves a notice for the next page the account sees.
func (s *server) flash(a *account, msg string) {
	s.sessions.with(a.token, func(v *session) { v.flash = msg })
}

// startSession signs account in: a new session token (the old one, if
// any, ends: the token rotates on every sign-in).
func (s *server) startSession(w http.ResponseWriter, r *http.Request, name string) error {
	if old := cookieValue(r, sessionCookie); old != "" {
		s.sessions.delete(old)
	}
	tok, err := s.sessions.create(name)
	if err != nil {
		return err
	}
	setCookie(w, sessionCookie, tok, sessionTTL)
	return nil
}

// page is what every template gets.
type page struct {
	Title   string
	Account string // signed in as; "" if not
	Error   string
	Notice  string
	Data    any
}

func (s *server) render(w http.ResponseWriter, status int, name string, p page) {
	t, ok := s.pages[name]
	if !ok {
		http.Error(w, "no such page", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.Printf("render %s: %v", name, err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// fail answers with a page that says something went wrong, logging the
// error (which never holds a secret: twofa's errors do not).
func (s *server) fail(w http.ResponseWriter, a *account, err error) {
	s.log.Printf("error: %v", err)
	p := page{Title: "Something went wrong", Error: "Something went wrong on our side. Try again."}
	if a != nil {
		p.Account = a.Name
	}
	s.render(w, http.StatusInternalServerError, "error", p)
}

var accountRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._@+-]{0,63}$`)

// normAccount trims and lower-cases an account name as typed.
func normAccount(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// passwordScope is the throttle scope of primary passwords, kept by the
// installation's store beside twofa's own scopes.
const passwordScope = "demo_password"

// passwordPolicy throttles wrong passwords of an account: 5 free
// failures (typing mistakes), then 1 s doubling up to 15 minutes, the
// back-off RFC 4226 Section 7.3 describes for codes. It slows an online
// guesser to about a hundred guesses a day, and a right password clears
// it; a stranger can delay the owner's sign-in by at most 15 minutes at
// a time. Only existing accounts are throttled: the sign-up page tells
// whether a name is taken anyway, and throttling every name typed would
// keep a record for each.
var passwordPolicy = twofa.ThrottlePolicy{Free: 5, Base: time.Second, Max: 15 * time.Minute}

// checkPassword reports whether password is the account's. It costs one
// Argon2id hash whether or not the account exists, unless the account's
// password throttle refuses the attempt: then it returns a
// *twofa.ThrottledError and hashes nothing.
func (s *server) checkPassword(ctx context.Context, name, password string) (bool, error) {
	h, err := s.users.hash(ctx, name)
	known := err == nil
	if errors.Is(err, errNoUser) {
		h = s.dummyHash
	} else if err != nil {
		return false, err
	}
	if known {
		now := s.clock.Now()
		st, ok, err := s.store.ReserveAttempt(ctx, name, passwordScope, now, passwordPolicy)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, &twofa.ThrottledError{RetryAfter: st.Until.Sub(now), Until: st.Until}
		}
	}
	ok, err := verifyPassword(h, password)
	if err != nil {
		return false, err
	}
	if ok && known {
		if err := s.store.ReleaseAttempt(ctx, name, passwordScope, 0, true); err != nil {
			return false, err
		}
	}
	return ok && known, nil
}

// apiPassword is the primary-password check of twofahttp.BasicAuth,
// which calls it on every request and then decides by the account's
// second factors. It costs one Argon2id hash whatever the user name.
// While two-factor authentication is on, a Basic password is an app
// password, never the primary one: checking it against the primary hash
// without the throttle keeps a mail client's app password from counting
// as a wrong password against its owner's sign-in (BasicAuth ignores
// the answer then, and the installation throttles wrong app passwords).
func (s *server) apiPassword(ctx context.Context, user, password string) (string, bool, error) {
	name := normAccount(user)
	var h string
	err := errNoUser
	if accountRE.MatchString(name) {
		h, err = s.users.hash(ctx, name)
	}
	switch {
	case errors.Is(err, errNoUser):
		_, err := verifyPassword(s.dummyHash, password)
		return "", false, err
	case err != nil:
		return "", false, err
	}
	on, err := s.tf.Enabled(ctx, name)
	if err != nil {
		return "", false, err
	}
	if on {
		ok, err := verifyPassword(h, password)
		return name, ok, err
	}
	ok, err := s.checkPassword(ctx, name, password) // throttled
	return name, ok, err
}

// passwordRetryText says when a throttled password may be tried again.
func passwordRetryText(t *twofa.ThrottledError) string {
	return fmt.Sprintf("Too many wrong passwords. Try again after %s (in %s).",
		t.Until.UTC().Format("15:04:05 UTC"), t.RetryAfter.Round(time.Second))
}

// retryText says when a throttled attempt may be made again.
func retryText(t *twofa.ThrottledError) string {
	msg := fmt.Sprintf("Too many wrong codes. Try again after %s (in %s).",
		t.Until.UTC().Format("15:04:05 UTC"), t.RetryAfter.Round(time.Second))
	if t.BudgetSpent {
		msg += " Someone may be guessing your codes: a recovery code lets you in now, and changing your password shuts them out."
	}
	return msg
}

// codeError says what is wrong with a second factor, for a person.
func codeError(err error) (string, bool) {
	var th *twofa.ThrottledError
	switch {
	case errors.As(err, &th):
		return retryText(th), true
	case errors.Is(err, twofa.ErrReplayed):
		return "That code was used already. Wait for the next one in your app.", true
	case errors.Is(err, twofa.ErrMalformedCode):
		return "That is not a code: type the 6 digits your app shows, or a recovery code.", true
	case errors.Is(err, twofa.ErrInvalidCode):
		return "That code is not right. Check your app's clock, or use another code.", true
	case errors.Is(err, twofa.ErrEnrollmentExpired):
		return "That enrolment has expired, or took too many wrong codes. Start again.", true
	}
	return "", false
}
