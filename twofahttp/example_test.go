package twofahttp_test

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/twofahttp"
)

func exampleInstallation() *twofa.TwoFA {
	// In production, load the keys from the environment instead of
	// generating them: keyring.Parse(os.Getenv("TWOFA_KEYS")).
	keys, err := keyring.Generate()
	if err != nil {
		log.Fatal(err)
	}
	kr, err := keyring.Parse(keys)
	if err != nil {
		log.Fatal(err)
	}
	tf, err := twofa.New(twofa.Config{Store: memstore.New(), Keyring: kr, Issuer: "Example"})
	if err != nil {
		log.Fatal(err)
	}
	return tf
}

func ExampleBasicAuth() {
	ctx := context.Background()
	tf := exampleInstallation()

	// The backend's users. Use a slow password hash (argon2id, bcrypt) in
	// production; SHA-256 keeps the example short.
	hash := func(pw string) []byte { h := sha256.Sum256([]byte(pw)); return h[:] }
	users := map[string][]byte{"alice@example.com": hash("correct horse battery staple")}
	dummy := hash("no one's password")
	check := func(ctx context.Context, username, password string) (string, bool, error) {
		want, known := users[username]
		if !known {
			want = dummy // the same work for an unknown user name
		}
		ok := subtle.ConstantTimeCompare(hash(password), want) == 1
		if !known {
			return "", false, nil
		}
		return username, ok, nil
	}

	auth, err := twofahttp.BasicAuth(tf, "Example Mail", check)
	if err != nil {
		log.Fatal(err)
	}
	dav := auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := twofahttp.CredentialFrom(r.Context())
		if c.Primary() {
			fmt.Fprintf(w, "hello %s (password)", c.Account)
		} else {
			fmt.Fprintf(w, "hello %s (app password %q)", c.Account, c.AppPassword.Label)
		}
	}))
	try := func(password string) {
		r := httptest.NewRequest(http.MethodGet, "/dav/", nil)
		r.SetBasicAuth("alice@example.com", password)
		rec := httptest.NewRecorder()
		dav.ServeHTTP(rec, r)
		if rec.Code == http.StatusOK {
			fmt.Println(rec.Code, rec.Body)
		} else {
			fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"))
		}
	}

	// Two-factor authentication off: the password works.
	try("correct horse battery staple")

	// On: the password alone is half a sign-in, so only an app password works.
	secret, err := twofa.NewSecret()
	if err != nil {
		log.Fatal(err)
	}
	if _, _, err := tf.Devices.Import(ctx, "alice@example.com", "Phone", twofa.Key{Secret: secret}); err != nil {
		log.Fatal(err)
	}
	appPassword, _, err := tf.AppPasswords.Create(ctx, "alice@example.com", "Thunderbird")
	if err != nil {
		log.Fatal(err)
	}
	try("correct horse battery staple")
	try(appPassword)
	// Output:
	// 200 hello alice@example.com (password)
	// 401 Basic realm="Example Mail", charset="UTF-8"
	// 200 hello alice@example.com (app password "Thunderbird")
}

func ExampleWriteError() {
	ctx := context.Background()
	tf := exampleInstallation()
	secret, err := twofa.NewSecret()
	if err != nil {
		log.Fatal(err)
	}
	if _, _, err := tf.Devices.Import(ctx, "alice", "Phone", twofa.Key{Secret: secret}); err != nil {
		log.Fatal(err)
	}

	// The second step of a sign-in, as a JSON API.
	code := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := tf.Verify(r.Context(), "alice", r.FormValue("code")); err != nil {
			// Log err here: WriteError tells the client nothing of a
			// server failure's cause.
			twofahttp.WriteError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	r := httptest.NewRequest(http.MethodPost, "/signin/code", strings.NewReader("code=12345"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	code.ServeHTTP(rec, r)
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Println(rec.Body)

	// A throttled attempt says when to come back.
	rec = httptest.NewRecorder()
	twofahttp.WriteError(rec, r, fmt.Errorf("sign in: %w", &twofa.ThrottledError{RetryAfter: 1500 * time.Millisecond}))
	fmt.Println(rec.Code, "Retry-After:", rec.Header().Get("Retry-After"))
	// Output:
	// 401 application/problem+json
	// {"type":"https://pkg.go.dev/github.com/twofa-go/twofa/twofahttp#TypeNotAccepted","title":"Not accepted","status":401,"detail":"The code or password was not accepted: it may be mistyped, used already or expired. Check it and try again, or start over."}
	// 429 Retry-After: 2
}

// A server-rendered page shows the same message as the JSON API.
func ExampleProblemFor() {
	page := template.Must(template.New("").Parse("<h1>{{.Title}}</h1>\n<p>{{.Detail}}</p>\n"))
	err := fmt.Errorf("sign in: %w", &twofa.ThrottledError{RetryAfter: 3 * time.Minute})
	p := twofahttp.ProblemFor(err)
	// w.WriteHeader(p.Status) before executing the template.
	if err := page.Execute(os.Stdout, p); err != nil {
		log.Fatal(err)
	}
	// Output:
	// <h1>Too many attempts</h1>
	// <p>Too many failed attempts. Try again in 3 minutes.</p>
}

func ExampleCrossOriginProtection() {
	csrf, err := twofahttp.CrossOriginProtection()
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /settings/app-passwords", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "created")
	})
	h := csrf.Handler(mux)

	for _, site := range []string{"same-origin", "cross-site"} {
		r := httptest.NewRequest(http.MethodPost, "https://example.com/settings/app-passwords", nil)
		r.Header.Set("Sec-Fetch-Site", site) // as the browser sends it
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Println(site, rec.Code)
	}
	// Output:
	// same-origin 200
	// cross-site 403
}

func ExampleQRDataURI() {
	tf := exampleInstallation()
	enr, err := tf.Devices.Enroll(context.Background(), "alice@example.com", "Phone", twofa.EnrollOptions{})
	if err != nil {
		log.Fatal(err)
	}
	qr, err := twofahttp.QRDataURI(enr.Key, 0)
	if err != nil {
		log.Fatal(err)
	}
	page := template.Must(template.New("").Parse(`<img src="{{.}}" alt="Scan with your authenticator app">`))
	var b strings.Builder
	if err := page.Execute(&b, qr); err != nil {
		log.Fatal(err)
	}
	// Serve the page with Cache-Control: no-store.
	fmt.Println(b.String()[:32] + "...")
	// Output:
	// <img src="data:image/png;base64,...
}

func ExampleSignInCookie() {
	// After the password: the sign-in waits for its second factor, and
	// the browser keeps its token for the sign-in's time to live.
	token := "q3Z9cXJ0c2lnbmlud2FpdHNmb3JpdHNzZWNvbmRmYWM" // from the pending sign-in
	rec := httptest.NewRecorder()
	if err := (twofahttp.SignInCookie{}).Set(rec, token, 5*time.Minute); err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.Header().Get("Set-Cookie"))

	// The code page reads it back.
	r := httptest.NewRequest(http.MethodPost, "/signin/code", nil)
	r.Header.Set("Cookie", "__Host-twofa_signin="+token)
	got, ok := twofahttp.SignInCookie{}.Token(r)
	fmt.Println(ok, got == token)

	// Once the sign-in has finished (or been given up), it goes.
	rec = httptest.NewRecorder()
	if err := (twofahttp.SignInCookie{}).Clear(rec); err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.Header().Get("Set-Cookie"))
	// Output:
	// __Host-twofa_signin=q3Z9cXJ0c2lnbmlud2FpdHNmb3JpdHNzZWNvbmRmYWM; Path=/; Max-Age=300; HttpOnly; Secure; SameSite=Lax
	// true true
	// __Host-twofa_signin=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax
}
