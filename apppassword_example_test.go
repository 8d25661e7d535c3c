package twofa_test

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/twofatest"
)

func ExampleAppPasswords_Create() {
	ctx := context.Background()
	clock := twofatest.NewClock(twofatest.Start)
	cfg := exampleConfig(clock)
	tf, err := twofa.New(cfg)
	if err != nil {
		log.Fatal(err)
	}

	// App passwords exist only while two-factor authentication is on.
	_, _, err = tf.AppPasswords.Create(ctx, "alice", "Mail on Alice's Mac")
	fmt.Println("before a device:", err)
	secret, err := twofa.NewSecret()
	if err != nil {
		log.Fatal(err)
	}
	if _, _, err := tf.Devices.Import(ctx, "alice", "phone", twofa.Key{Secret: secret}); err != nil {
		log.Fatal(err)
	}

	// The settings page creates one and shows it once: only its keyed
	// digest is stored, so it cannot be shown again.
	pw, info, err := tf.AppPasswords.Create(ctx, "alice", "  Mail on Alice's Mac ")
	if err != nil {
		log.Fatal(err)
	}
	format := regexp.MustCompile(`^[a-z]{4}-[a-z]{4}-[a-z]{4}-[a-z]{4}$`)
	fmt.Printf("%q created; password in the form abcd-efgh-ijkl-mnop: %v\n", info.Label, format.MatchString(pw))

	// The mail app signs in with it, however it was typed.
	clock.Advance(time.Minute)
	if _, err := tf.AppPasswords.Verify(ctx, "alice", strings.ToUpper(strings.ReplaceAll(pw, "-", " "))); err != nil {
		log.Fatal(err)
	}
	list, err := tf.AppPasswords.List(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range list {
		fmt.Printf("%s: created %s, last used %s\n", p.Label, p.CreatedAt.Format(time.Kitchen), p.LastUsedAt.Format(time.Kitchen))
	}

	// A second one under the same label is refused; revoking frees it.
	_, _, err = tf.AppPasswords.Create(ctx, "alice", "Mail on Alice's Mac")
	fmt.Println(err)
	if err := tf.AppPasswords.Revoke(ctx, "alice", info.ID); err != nil {
		log.Fatal(err)
	}
	_, err = tf.AppPasswords.Verify(ctx, "alice", pw)
	fmt.Println("after revoking:", err)
	// Output:
	// before a device: twofa: no second factor enrolled
	// "Mail on Alice's Mac" created; password in the form abcd-efgh-ijkl-mnop: true
	// Mail on Alice's Mac: created 3:04AM, last used 3:05AM
	// twofa: duplicate: label in use
	// after revoking: twofa: invalid app password
}

// basicAuth guards an endpoint that clients such as CalDAV, CardDAV or
// IMAP apps call with HTTP Basic auth: they cannot show a second-factor
// prompt. The password is an app-specific password, accepted whenever it
// is valid, or the account's primary password, accepted only while
// two-factor authentication is off - otherwise anyone who learnt the
// primary password would get around the second factor through this door.
//
// checkPrimary is the backend's own password check (and must be throttled
// by the backend, as its sign-in form is).
func basicAuth(tf *twofa.TwoFA, checkPrimary func(ctx context.Context, account, password string) bool, next http.Handler) http.Handler {
	unauthorized := func(w http.ResponseWriter, msg string) {
		w.Header().Set("WWW-Authenticate", `Basic realm="calendar", charset="UTF-8"`)
		http.Error(w, msg, http.StatusUnauthorized)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		account, password, ok := r.BasicAuth()
		if !ok {
			unauthorized(w, "sign in")
			return
		}
		ctx := r.Context()
		_, err := tf.AppPasswords.Verify(ctx, account, password)
		var throttled *twofa.ThrottledError
		switch {
		case err == nil:
			next.ServeHTTP(w, r)
			return
		case errors.As(err, &throttled):
			secs := int(math.Ceil(throttled.RetryAfter.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			http.Error(w, "too many attempts; try again later", http.StatusTooManyRequests)
			return
		case errors.Is(err, twofa.ErrMalformedAppPassword), errors.Is(err, twofa.ErrInvalidAppPassword),
			errors.Is(err, twofa.ErrInvalidAccount):
			// Not a valid app password: perhaps the primary one.
		default:
			log.Printf("basic auth: %v", err) // never holds the password
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		if !checkPrimary(ctx, account, password) {
			unauthorized(w, "wrong user name or password")
			return
		}
		on, err := tf.Enabled(ctx, account)
		if err != nil {
			log.Printf("basic auth: %v", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		if on {
			unauthorized(w, "two-factor authentication is on: sign in with an app-specific password (Settings > Security > App passwords)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func Example_basicAuth() {
	ctx := context.Background()
	clock := twofatest.NewClock(twofatest.Start)
	cfg := exampleConfig(clock)
	tf, err := twofa.New(cfg)
	if err != nil {
		log.Fatal(err)
	}

	// DO NOT do this in production: a real backend checks a salted,
	// slow hash (argon2id, bcrypt) of the primary password from its
	// database. A hard-coded demo password, compared in constant time.
	demo := sha256.Sum256([]byte("correct horse battery staple 42"))
	checkPrimary := func(_ context.Context, account, password string) bool {
		got := sha256.Sum256([]byte(password))
		return subtle.ConstantTimeCompare(got[:], demo[:]) == 1 && account == "alice"
	}
	calendar := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "BEGIN:VCALENDAR")
	})
	srv := httptest.NewServer(basicAuth(tf, checkPrimary, calendar))
	defer srv.Close()

	get := func(what, user, password string) {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/calendars/alice/", nil)
		if err != nil {
			log.Fatal(err)
		}
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			log.Fatal(err)
		}
		if resp.StatusCode == http.StatusInternalServerError {
			log.Fatalf("%s: %s", what, body)
		}
		fmt.Printf("%-28s %d %s", what, resp.StatusCode, body)
	}

	get("no credentials", "", "")
	get("primary, 2FA off", "alice", "correct horse battery staple 42")
	get("wrong password", "alice", "hunter2")

	// Alice turns two-factor authentication on.
	secret, err := twofa.NewSecret()
	if err != nil {
		log.Fatal(err)
	}
	phone, _, err := tf.Devices.Import(ctx, "alice", "phone", twofa.Key{Secret: secret})
	if err != nil {
		log.Fatal(err)
	}
	get("primary, 2FA on", "alice", "correct horse battery staple 42")

	// She creates an app password for her calendar app and types it in.
	pw, info, err := tf.AppPasswords.Create(ctx, "alice", "Calendar on iPad")
	if err != nil {
		log.Fatal(err)
	}
	get("app password", "alice", pw)
	get("app password, as typed", "alice", strings.ToUpper(strings.ReplaceAll(pw, "-", " ")))
	get("app password, other user", "bob", pw)
	get("app password, one typo", "alice", pw[:len(pw)-1]+string('a'+(pw[len(pw)-1]-'a'+1)%26))

	// Revoked, it stops working at once.
	if err := tf.AppPasswords.Revoke(ctx, "alice", info.ID); err != nil {
		log.Fatal(err)
	}
	get("revoked app password", "alice", pw)

	// Turning two-factor authentication off revokes every app password
	// and lets the primary password back in.
	pw, _, err = tf.AppPasswords.Create(ctx, "alice", "Calendar on iPad")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := tf.Devices.Revoke(ctx, "alice", phone.ID); err != nil {
		log.Fatal(err)
	}
	get("app password, 2FA off", "alice", pw)
	get("primary, 2FA off again", "alice", "correct horse battery staple 42")
	// Output:
	// no credentials               401 sign in
	// primary, 2FA off             200 BEGIN:VCALENDAR
	// wrong password               401 wrong user name or password
	// primary, 2FA on              401 two-factor authentication is on: sign in with an app-specific password (Settings > Security > App passwords)
	// app password                 200 BEGIN:VCALENDAR
	// app password, as typed       200 BEGIN:VCALENDAR
	// app password, other user     401 wrong user name or password
	// app password, one typo       401 wrong user name or password
	// revoked app password         401 wrong user name or password
	// app password, 2FA off        401 wrong user name or password
	// primary, 2FA off again       200 BEGIN:VCALENDAR
}
