package browser_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/twofatest"
)

// exampleBrowserSetup returns an installation on a fake clock with its
// trusted browsers, a confirmed TOTP device for alice and that device's
// app.
func exampleBrowserSetup(clock *twofatest.Clock) (*twofa.TwoFA, *browser.Manager, *twofa.TOTP) {
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
	store := memstore.New()
	tf, err := twofa.New(twofa.Config{Store: store, Keyring: kr, Issuer: "Example", Clock: clock})
	if err != nil {
		log.Fatal(err)
	}
	// Attaches the browsers to tf: turning two-factor off and
	// PasswordChanged revoke them.
	browsers, err := browser.New(tf, browser.Config{Store: store})
	if err != nil {
		log.Fatal(err)
	}
	// DO NOT hardcode secrets: this is the RFC 6238 test secret.
	secret, err := twofa.ParseSecret("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
	if err != nil {
		log.Fatal(err)
	}
	phone := twofa.Key{Secret: secret}
	if _, _, err := tf.Devices.Import(context.Background(), "alice", "phone", phone); err != nil {
		log.Fatal(err)
	}
	app, err := phone.TOTP()
	if err != nil {
		log.Fatal(err)
	}
	return tf, browsers, app
}

// trustAfterCode is the second step of a sign-in: the code is checked and,
// if the user ticked "don't ask again on this browser", the browser is
// trusted and given its cookie.
func trustAfterCode(tf *twofa.TwoFA, browsers *browser.Manager) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		account := "alice" // from the session the password step started
		if _, err := tf.Verify(r.Context(), account, r.PostFormValue("code")); err != nil {
			http.Error(w, "wrong code", http.StatusUnauthorized)
			return
		}
		if r.PostFormValue("remember") == "on" {
			// With a label from Label, Trust fails only when the
			// store or the Keyring does: an internal error.
			tok, info, err := browsers.Trust(r.Context(), account, browser.Label(r.UserAgent()))
			if err == nil {
				err = browser.SetCookie(w, tok, info)
			}
			if err != nil {
				log.Printf("trust browser: %v", err)
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
		}
		fmt.Fprintln(w, "welcome")
	}
}

// afterPassword is the step after a correct password: a trusted browser
// skips the code prompt.
func afterPassword(browsers *browser.Manager) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		account := "alice" // the password was just checked
		if tok, ok := browser.Token(r); ok {
			info, err := browsers.Check(r.Context(), account, tok)
			switch {
			case err == nil:
				fmt.Fprintf(w, "welcome back (trusted browser %q)\n", info.Label)
				return
			case errors.Is(err, browser.ErrNotTrusted):
				// Expired, revoked, forged...: ask for a code, and drop
				// the useless cookie.
				browser.ClearCookie(w)
			default:
				log.Printf("check browser: %v", err) // a store or Keyring error
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
		}
		fmt.Fprintln(w, "enter the code from your authenticator app")
	}
}

// Trust a browser once the user has passed the second factor and asked to
// be remembered; the token travels in a Secure, HttpOnly cookie.
func ExampleManager_Trust() {
	clock := twofatest.NewClock(twofatest.Start)
	tf, browsers, app := exampleBrowserSetup(clock)

	code, err := app.Code(clock.Now())
	if err != nil {
		log.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/login/code", strings.NewReader("code="+code+"&remember=on"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
	rec := httptest.NewRecorder()
	trustAfterCode(tf, browsers)(rec, req)
	if rec.Code != http.StatusOK {
		log.Fatalf("sign-in: %d %s", rec.Code, rec.Body)
	}

	fmt.Print(rec.Body)
	// The cookie's attributes (its value is the token: never log it).
	name, attrs, _ := strings.Cut(rec.Header().Get("Set-Cookie"), "; ")
	name, _, _ = strings.Cut(name, "=")
	fmt.Println(name, attrs)
	list, err := browsers.List(context.Background(), "alice")
	if err != nil {
		log.Fatal(err)
	}
	for _, b := range list {
		fmt.Printf("%s: trusted until %s\n", b.Label, b.ExpiresAt.Format(time.DateOnly))
	}
	// Output:
	// welcome
	// __Host-twofa_browser Path=/; Max-Age=2592000; HttpOnly; Secure; SameSite=Lax
	// Firefox on Linux: trusted until 2026-02-01
}

// The label of a trusted browser, from its User-Agent, as the settings
// page lists it.
func ExampleLabel() {
	for _, ua := range []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S928B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36",
		"curl/8.7.1",
		"",
	} {
		fmt.Println(browser.Label(ua))
	}
	// Output:
	// Edge on Windows
	// Safari on iPhone
	// Samsung Internet on Android
	// curl
	// Unknown browser
}

// A later sign-in from a trusted browser skips the code prompt; one from
// another browser, or after the trust ran out, does not.
func ExampleManager_Check() {
	ctx := context.Background()
	clock := twofatest.NewClock(twofatest.Start)
	_, browsers, _ := exampleBrowserSetup(clock)
	// Earlier, after a code: (see ExampleManager_Trust)
	token, _, err := browsers.Trust(ctx, "alice", "Firefox on Linux")
	if err != nil {
		log.Fatal(err)
	}

	signIn := func(what string, cookie *http.Cookie) {
		req := httptest.NewRequest(http.MethodPost, "/login/password", nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		afterPassword(browsers)(rec, req)
		if rec.Code != http.StatusOK {
			log.Fatalf("sign-in: %d %s", rec.Code, rec.Body)
		}
		fmt.Printf("%-15s %s", what, rec.Body)
		if sc := rec.Header().Get("Set-Cookie"); sc != "" {
			fmt.Printf("%-15s cookie cleared: %v\n", "", strings.Contains(sc, "Max-Age=0"))
		}
	}
	ours := &http.Cookie{Name: browser.DefaultCookieName, Value: token}
	forged := &http.Cookie{Name: browser.DefaultCookieName, Value: strings.Repeat("A", browser.TokenLen)}

	clock.Advance(7 * 24 * time.Hour)
	signIn("a week later", ours)
	signIn("other browser", nil)
	signIn("forged cookie", forged)
	clock.Advance(browser.DefaultTTL)
	signIn("a month later", ours)
	// Output:
	// a week later    welcome back (trusted browser "Firefox on Linux")
	// other browser   enter the code from your authenticator app
	// forged cookie   enter the code from your authenticator app
	//                 cookie cleared: true
	// a month later   enter the code from your authenticator app
	//                 cookie cleared: true
}

// A settings page lists the trusted browsers and revokes one.
func ExampleManager_Revoke() {
	ctx := context.Background()
	clock := twofatest.NewClock(twofatest.Start)
	_, browsers, _ := exampleBrowserSetup(clock)
	for _, label := range []string{"Firefox on Linux", "Safari on iPhone"} {
		if _, _, err := browsers.Trust(ctx, "alice", label); err != nil {
			log.Fatal(err)
		}
		clock.Advance(time.Hour)
	}
	list, err := browsers.List(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	for _, b := range list {
		fmt.Printf("%s, last used %s\n", b.Label, b.LastUsedAt.Format(time.Kitchen))
	}
	if err := browsers.Revoke(ctx, "alice", list[1].ID); err != nil {
		log.Fatal(err)
	}
	list, err = browsers.List(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(list), "trusted:", list[0].Label)
	// Output:
	// Firefox on Linux, last used 3:04AM
	// Safari on iPhone, last used 4:04AM
	// 1 trusted: Firefox on Linux
}

// "Forget all browsers" on a settings page; the same happens by itself
// when the password changes (TwoFA.PasswordChanged) and when two-factor
// authentication is turned off (Devices.Revoke of the last device).
func ExampleManager_RevokeAll() {
	ctx := context.Background()
	clock := twofatest.NewClock(twofatest.Start)
	tf, browsers, _ := exampleBrowserSetup(clock)
	trust := func(label string) string {
		token, _, err := browsers.Trust(ctx, "alice", label)
		if err != nil {
			log.Fatal(err)
		}
		return token
	}
	token := trust("Firefox on Linux")
	trust("Safari on iPhone")

	n, err := browsers.RevokeAll(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("forgotten:", n)
	_, err = browsers.Check(ctx, "alice", token)
	fmt.Println(err)

	// In the password-change handler, once the new password is stored:
	token = trust("Chrome on Windows")
	if err := tf.PasswordChanged(ctx, "alice"); err != nil {
		log.Fatal(err)
	}
	_, err = browsers.Check(ctx, "alice", token)
	fmt.Println("after a password change:", err)

	// Turning two-factor off revokes them too.
	trust("Edge on Windows")
	list, err := tf.Devices.List(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := tf.Devices.Revoke(ctx, "alice", list[0].ID); err != nil {
		log.Fatal(err)
	}
	trusted, err := browsers.List(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("trusted after two-factor was turned off:", len(trusted))
	// Output:
	// forgotten: 2
	// twofa: browser not trusted: revoked
	// after a password change: twofa: browser not trusted: revoked
	// trusted after two-factor was turned off: 0
}
