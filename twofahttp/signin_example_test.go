package twofahttp_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/signin"
	"github.com/twofa-go/twofa/twofahttp"
	"github.com/twofa-go/twofa/twofatest"
)

// routes wires a form-based sign-in with a second factor, the enrolment's
// QR code, Basic authentication with app passwords and CSRF protection
// onto a mux. The README's "Wiring the sign-in flow" shows it as it is.
func routes(tf *twofa.TwoFA, a *app) (http.Handler, error) {
	browsers, err := browser.New(tf, browser.Config{}) // trusted browsers
	if err != nil {
		return nil, err
	}
	signins, err := signin.New(tf, signin.Config{Browsers: browsers}) // pending sign-ins, in tf's store
	if err != nil {
		return nil, err
	}
	step := twofahttp.SignIn{SignIns: signins}
	mux := http.NewServeMux()

	// 1. The password; then a code, unless 2FA is off or the browser is trusted.
	mux.HandleFunc("POST /signin", func(w http.ResponseWriter, r *http.Request) {
		account, ok, err := a.password(r.Context(), r.PostFormValue("account"), r.PostFormValue("password"))
		if err != nil {
			log.Printf("password: %v", err)
			twofahttp.WriteError(w, r, err) // a *twofa.ThrottledError is a 429
			return
		}
		if !ok {
			http.Error(w, "Wrong account name or password.", http.StatusUnauthorized)
			return
		}
		done, err := step.Begin(w, r, account) // unless done: a pending sign-in, its __Host- cookie
		if err != nil {
			log.Printf("sign-in: %v", err)
			twofahttp.WriteError(w, r, err)
			return
		}
		if !done {
			http.Redirect(w, r, "/signin/code", http.StatusSeeOther)
			return
		}
		a.startSession(w, account)
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})

	// 2. The code page: whose sign-in it is, without spending an attempt.
	mux.HandleFunc("GET /signin/code", func(w http.ResponseWriter, r *http.Request) {
		info, err := step.Pending(r)
		if err != nil { // no cookie, or the sign-in expired or is void: start over
			http.Redirect(w, r, "/signin", http.StatusSeeOther)
			return
		}
		a.codePage(w, info.Account) // a code field, "trust this browser", the account's phones
	})

	// 3. The code, once: an app's, a recovery code, or one texted to a trusted phone.
	mux.HandleFunc("POST /signin/code", func(w http.ResponseWriter, r *http.Request) {
		fin, err := step.Finish(w, r, r.PostFormValue("code"), r.PostFormValue("trust") != "")
		if err != nil {
			log.Printf("sign-in code: %v", err) // no error holds a code or a token
			twofahttp.WriteError(w, r, err)     // one 401 for every refusal; 429 + Retry-After when throttled
			return
		}
		a.startSession(w, fin.Account) // a new session token
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("POST /signin/cancel", func(w http.ResponseWriter, r *http.Request) {
		_ = step.Cancel(w, r)
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
	})

	// Enrolment: the QR code goes into the page; the secret is never stored in clear.
	mux.HandleFunc("POST /settings/devices", func(w http.ResponseWriter, r *http.Request) {
		account, ok := a.signedIn(r)
		if !ok {
			http.Redirect(w, r, "/signin", http.StatusSeeOther)
			return
		}
		enr, err := tf.Devices.Enroll(r.Context(), account, r.PostFormValue("label"), twofa.EnrollOptions{})
		var qr template.URL
		if err == nil {
			qr, err = twofahttp.QRDataURI(enr.Key, 0)
		}
		if err != nil {
			log.Printf("enrol: %v", err)
			twofahttp.WriteError(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		a.enrolPage(w, enr, qr) // <img src="{{.QR}}">, a field for the first code: tf.Devices.Confirm
	})

	// Mail and calendar clients: the password while 2FA is off, then only app passwords.
	basic, err := twofahttp.BasicAuth(tf, "Example", a.password)
	if err != nil {
		return nil, err
	}
	mux.Handle("GET /dav/", basic(http.HandlerFunc(a.dav))) // twofahttp.CredentialFrom(r.Context()): who

	// Every state change above is a POST: refuse cross-site ones, with no tokens in forms.
	csrf, err := twofahttp.CrossOriginProtection()
	if err != nil {
		return nil, err
	}
	return csrf.Handler(mux), nil
}

// app is what the application has without twofa: its users' passwords,
// its sessions, its pages. Only the parts routes calls are here.
type app struct {
	hashes   map[string][]byte // account: password hash
	dummy    []byte            // the hash of no one's password
	mu       sync.Mutex
	sessions map[string]string // session token: account
	scanned  twofa.Key         // what a phone's camera reads off the enrolment page
}

// hash stands for a slow password hash (argon2id, bcrypt); SHA-256 keeps
// the example short.
func hash(pw string) []byte { h := sha256.Sum256([]byte(pw)); return h[:] }

// password is the primary-password check, also as BasicAuth's
// PasswordFunc: the account, and whether password is its password; an
// unknown user name costs the same work and returns "".
func (a *app) password(_ context.Context, user, password string) (string, bool, error) {
	want, known := a.hashes[user]
	if !known {
		want = a.dummy
	}
	ok := subtle.ConstantTimeCompare(hash(password), want) == 1
	if !known {
		return "", false, nil
	}
	return user, ok, nil
}

func (a *app) startSession(w http.ResponseWriter, account string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	a.mu.Lock()
	a.sessions[tok] = account
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "__Host-session", Value: tok, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func (a *app) signedIn(r *http.Request) (string, bool) {
	c, err := r.Cookie("__Host-session")
	if err != nil {
		return "", false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	account, ok := a.sessions[c.Value]
	return account, ok
}

func (a *app) codePage(w http.ResponseWriter, account string) {
	fmt.Fprintf(w, "the code page of %s's sign-in", account)
}

func (a *app) enrolPage(w http.ResponseWriter, enr *twofa.Enrollment, qr template.URL) {
	a.scanned = enr.Key // the example's stand-in for the phone; a real page shows qr only
	fmt.Fprintf(w, "scan %.22s...", qr)
}

func (a *app) dav(w http.ResponseWriter, r *http.Request) {
	c, _ := twofahttp.CredentialFrom(r.Context())
	fmt.Fprintf(w, "hello %s", c.Account)
}

// visitor is a browser: it keeps the cookies the server sets.
type visitor struct {
	h       http.Handler
	cookies map[string]string
}

func (v *visitor) do(method, path string, form url.Values, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "https://example.com"+path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	for k, val := range v.cookies {
		r.AddCookie(&http.Cookie{Name: k, Value: val})
	}
	rec := httptest.NewRecorder()
	v.h.ServeHTTP(rec, r)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(v.cookies, c.Name)
		} else {
			v.cookies[c.Name] = c.Value
		}
	}
	return rec
}

// show prints a response's status and where it leads, or its body.
func show(what string, rec *httptest.ResponseRecorder) {
	out := rec.Header().Get("Location")
	if out == "" {
		out = strings.TrimSpace(rec.Body.String())
	}
	if ra := rec.Header().Get("Retry-After"); ra != "" {
		out += " (Retry-After: " + ra + ")"
	}
	fmt.Printf("%-34s %d %s\n", what, rec.Code, out)
}

func ExampleSignIn() {
	ctx := context.Background()
	text, err := keyring.Generate() // in production: keyring.Parse(os.Getenv("TWOFA_KEYS"))
	if err != nil {
		log.Fatal(err)
	}
	keys, err := keyring.Parse(text)
	if err != nil {
		log.Fatal(err)
	}
	clock := twofatest.NewClock(twofatest.Start) // in production: nil, the system clock
	tf, err := twofa.New(twofa.Config{Store: memstore.New(), Keyring: keys, Issuer: "Example", Clock: clock})
	if err != nil {
		log.Fatal(err)
	}
	a := &app{hashes: map[string][]byte{"alice": hash("correct horse")}, dummy: hash("no one's"), sessions: map[string]string{}}
	h, err := routes(tf, a)
	if err != nil {
		log.Fatal(err)
	}
	v := &visitor{h: h, cookies: map[string]string{}}
	signIn := url.Values{"account": {"alice"}, "password": {"correct horse"}}

	// Two-factor authentication off: the password signs in.
	show("password, 2FA off:", v.do("POST", "/signin", signIn))
	show("enrol:", v.do("POST", "/settings/devices", url.Values{"label": {"Phone"}}))

	// Alice scans the QR code; her app's first code confirms the device
	// (the confirmation form's handler calls tf.Devices.Confirm).
	phone, err := a.scanned.TOTP()
	if err != nil {
		log.Fatal(err)
	}
	code := func() string { c, _ := phone.Code(clock.Now()); return c }
	devices, err := tf.Devices.List(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := tf.Devices.Confirm(ctx, "alice", devices[0].ID, code()); err != nil {
		log.Fatal(err)
	}
	clock.Advance(30 * time.Second)

	// On: the password, then the code.
	show("password, 2FA on:", v.do("POST", "/signin", signIn))
	show("code page:", v.do("GET", "/signin/code", nil))
	wrong := "000000"
	if code() == wrong {
		wrong = "111111"
	}
	show("a wrong code:", v.do("POST", "/signin/code", url.Values{"code": {wrong}}))
	show("another site posts the code:", v.do("POST", "/signin/code", url.Values{"code": {code()}}, "Sec-Fetch-Site", "cross-site"))
	show("the code, trust this browser:", v.do("POST", "/signin/code", url.Values{"code": {code()}, "trust": {"on"}}))
	show("the code again:", v.do("POST", "/signin/code", url.Values{"code": {code()}}))

	// This browser is trusted now: the password alone signs in.
	show("password, trusted browser:", v.do("POST", "/signin", signIn))

	// A mail client: the password is half a sign-in now; an app password works.
	pw, _, err := tf.AppPasswords.Create(ctx, "alice", "Thunderbird")
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range []string{"correct horse", pw} {
		r := httptest.NewRequest("GET", "/dav/", nil)
		r.SetBasicAuth("alice", p)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Println("Basic auth:", rec.Code)
	}
	// Output:
	// password, 2FA off:                 303 /
	// enrol:                             200 scan data:image/png;base64,...
	// password, 2FA on:                  303 /signin/code
	// code page:                         200 the code page of alice's sign-in
	// a wrong code:                      401 {"type":"https://pkg.go.dev/github.com/twofa-go/twofa/twofahttp#TypeNotAccepted","title":"Not accepted","status":401,"detail":"The code or password was not accepted: it may be mistyped, used already or expired. Check it and try again, or start over."}
	// another site posts the code:       403 {"type":"https://pkg.go.dev/github.com/twofa-go/twofa/twofahttp#TypeCrossOrigin","title":"Cross-origin request refused","status":403,"detail":"This form was sent from another site. Reload the page and try again."}
	// the code, trust this browser:      303 /
	// the code again:                    401 {"type":"https://pkg.go.dev/github.com/twofa-go/twofa/twofahttp#TypeNotAccepted","title":"Not accepted","status":401,"detail":"The code or password was not accepted: it may be mistyped, used already or expired. Check it and try again, or start over."}
	// password, trusted browser:         303 /
	// Basic auth: 401
	// Basic auth: 200
}
