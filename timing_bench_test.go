package twofa_test

// Timing-ratio benchmarks of the refusal paths: each benchmark puts side
// by side, as sub-benchmarks, calls whose outcomes must not be told apart
// by their wall time (a right and a wrong secret, a known and an unknown
// record, ...). They assert nothing about time (the project's rule: no
// timed assertions); compare their ns/op as ratios, slower over faster,
// over several alternating runs of one test binary:
//
//	go test -c -o timing.test .
//	./timing.test -test.run='^$' -test.bench='^BenchmarkTiming' -test.count=1 -test.benchmem
//
// Every case runs on memstore and on SQLite in memory (sqlstore, shared
// cache), each on a fresh installation (twofatest.Env on that store) whose
// events go to a hook that does nothing and whose clock (twofatest.Clock)
// stands still unless a case moves it. Throttles are wide open unless a
// case engages one, so that every refusal takes the path under test (the
// code throttle keeps a budget, as by default, too large to be spent).

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/signin"
	"github.com/twofa-go/twofa/twofahttp"
	"github.com/twofa-go/twofa/twofatest"
)

// tmBackend opens a fresh, empty store.
type tmBackend struct {
	name string
	open func(b *testing.B) twofa.Store
}

var tmMemSeq atomic.Int64

func tmBackends() []tmBackend {
	return []tmBackend{
		{"memstore", func(*testing.B) twofa.Store { return memstore.New() }},
		{"sqlite-memory", func(b *testing.B) twofa.Store {
			dsn := fmt.Sprintf("file:twofa-timing-%d?mode=memory&cache=shared&_pragma=busy_timeout(10000)", tmMemSeq.Add(1))
			s, _ := openSQLite(b, dsn)
			return s
		}},
	}
}

// tmOpen is a throttle policy that never engages: every attempt is
// evaluated and counted.
var tmOpen = twofa.ThrottlePolicy{Free: 1 << 30, Base: time.Second, Max: time.Second}

// tmOpenCodes is tmOpen with a long-horizon budget, as the default code
// policy has (so that a replay gives its place back with a store write,
// as it does by default), too large to be spent by one benchmark run:
// each run is on a fresh store, and tmVerify empties it every
// tmResetEvery calls.
var tmOpenCodes = twofa.ThrottlePolicy{Free: 1 << 30, Base: time.Second, Max: time.Second, Budget: 1_000_000, Refill: time.Second}

// tmEnv returns an installation on a fresh store of be, with open
// throttles and events to a hook that does nothing; mod may change the
// Config further.
func tmEnv(b *testing.B, be tmBackend, mod func(*twofa.Config)) *twofatest.Env {
	b.Helper()
	env := twofatest.New(b)
	st := be.open(b)
	env.Reconfigure(func(c *twofa.Config) {
		c.Store = st
		c.Events = func(context.Context, twofa.Event) {}
		c.Throttle.Codes, c.Throttle.Recovery, c.Throttle.AppPasswords = tmOpenCodes, tmOpen, tmOpen
		if mod != nil {
			mod(c)
		}
	})
	return env
}

// tmCase is one side of a pair: setup builds its state (untimed) and
// returns the call to time, which fails b if the call's outcome is not
// the case's. i counts the calls, for a case that must renew its state
// now and then (with the timer stopped).
type tmCase struct {
	name  string
	setup func(b *testing.B, be tmBackend) func(b *testing.B, i int)
}

// tmRun runs every case on every backend, as sub-benchmarks
// "<backend>/<case>", each on a state of its own.
func tmRun(b *testing.B, cases ...tmCase) {
	for _, be := range tmBackends() {
		b.Run(be.name, func(b *testing.B) {
			for _, c := range cases {
				b.Run(c.name, func(b *testing.B) {
					op := c.setup(b, be)
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						op(b, i)
					}
				})
			}
		})
	}
}

// tmWant fails b unless err matches want.
func tmWant(b *testing.B, err, want error) {
	if !errors.Is(err, want) {
		b.Fatalf("got %v, want %v", err, want)
	}
}

// tmResetEvery is how often, in calls, tmVerify empties the throttles
// (untimed) of a case that is not meant to be throttled: the fastest
// refusals reach a million calls in a run, which would spend
// tmOpenCodes' budget.
const tmResetEvery = 250_000

// tmVerify returns a call of Verify(account, code) that must fail with
// want. Unless want is ErrThrottled, the account's throttles are reset,
// with the timer stopped, every tmResetEvery calls.
func tmVerify(env *twofatest.Env, account, code string, want error) func(*testing.B, int) {
	ctx := context.Background()
	reset := !errors.Is(want, twofa.ErrThrottled)
	return func(b *testing.B, i int) {
		if reset && i > 0 && i%tmResetEvery == 0 {
			b.StopTimer()
			if err := env.TwoFA.ResetThrottle(ctx, account); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		_, err := env.TwoFA.Verify(ctx, account, code)
		tmWant(b, err, want)
	}
}

// BenchmarkTimingVerifyThrottled: Verify of a right and of a wrong code
// for an account whose back-off runs (one failure, then 2 h). Both must be
// refused unrevealed at the same cost: Verify refuses on its read of the
// throttle before any secret is opened (verify.go: "a refused guess costs
// the same whether it is right or wrong"), so a guesser who keeps the
// throttle engaged cannot test codes by their timing.
func BenchmarkTimingVerifyThrottled(b *testing.B) {
	setup := func(right bool) func(*testing.B, tmBackend) func(*testing.B, int) {
		return func(b *testing.B, be tmBackend) func(*testing.B, int) {
			env := tmEnv(b, be, func(c *twofa.Config) {
				c.Throttle.Codes = twofa.ThrottlePolicy{Free: 0, Base: 2 * time.Hour, Max: 2 * time.Hour}
			})
			dev := env.EnrollTOTP("alice")
			wrong := wrongCode(b, dev, env.Clock.Now(), 5)
			_, err := env.TwoFA.Verify(context.Background(), "alice", wrong)
			tmWant(b, err, twofa.ErrInvalidCode) // the failure that engages the back-off
			code := wrong
			if right {
				code = dev.Code()
			}
			return tmVerify(env, "alice", code, twofa.ErrThrottled)
		}
	}
	tmRun(b, tmCase{"wrong", setup(false)}, tmCase{"right", setup(true)})
}

// BenchmarkTimingVerifyReplay: Verify of a wrong code and of the code of
// the step the device last accepted (a replay), on one TOTP device just
// used. Both are refused with a 401 that twofahttp makes byte for byte
// the same (ErrInvalidCode, ErrReplayed), and both are counted in the
// throttle before their outcome is revealed, so their cost should not
// tell a replay (the code just typed by the owner) from a miss.
func BenchmarkTimingVerifyReplay(b *testing.B) {
	setup := func(replay bool) func(*testing.B, tmBackend) func(*testing.B, int) {
		return func(b *testing.B, be tmBackend) func(*testing.B, int) {
			env := tmEnv(b, be, nil)
			dev := env.EnrollTOTP("alice")
			code := dev.Code()
			if _, err := env.TwoFA.Verify(context.Background(), "alice", code); err != nil {
				b.Fatal(err)
			}
			if replay {
				return tmVerify(env, "alice", code, twofa.ErrReplayed)
			}
			return tmVerify(env, "alice", wrongCode(b, dev, env.Clock.Now(), 5), twofa.ErrInvalidCode)
		}
	}
	tmRun(b, tmCase{"wrong", setup(false)}, tmCase{"replayed", setup(true)})
}

// BenchmarkTimingVerifyDrift: Verify of a wrong code and of a code 3
// steps ahead (outside the ±1 window, inside MaxDrift 4: refused, and the
// offset recorded for resynchronisation), on one TOTP device last used an
// hour ago. Both are ErrInvalidCode, and must cost the same: the drift
// match authenticates the device's state and writes the resync record
// (SetResync), and a miss makes the same write of the state as it was,
// so that the time of a refusal does not tell a guesser that a guess is
// the code of a step to come.
func BenchmarkTimingVerifyDrift(b *testing.B) {
	setup := func(drift bool) func(*testing.B, tmBackend) func(*testing.B, int) {
		return func(b *testing.B, be tmBackend) func(*testing.B, int) {
			env := tmEnv(b, be, nil)
			dev := env.EnrollTOTP("alice")
			env.Clock.Advance(time.Hour)
			now := env.Clock.Now()
			if drift {
				return tmVerify(env, "alice", dev.CodeAt(now.Add(3*30*time.Second)), twofa.ErrInvalidCode)
			}
			return tmVerify(env, "alice", wrongCode(b, dev, now, 5), twofa.ErrInvalidCode)
		}
	}
	tmRun(b, tmCase{"wrong", setup(false)}, tmCase{"drift", setup(true)})
}

// BenchmarkTimingVerifyWrongAfterUse: Verify of a wrong code on a TOTP
// device last used an hour ago and on one that accepted the current
// step's code a moment ago. Both are the same ErrInvalidCode, and a
// failed match "computes the whole window, so its cost does not depend on
// the code" (ARCHITECTURE.md): neither should it tell a guesser whether
// the owner signed in within the last few steps.
func BenchmarkTimingVerifyWrongAfterUse(b *testing.B) {
	setup := func(used bool) func(*testing.B, tmBackend) func(*testing.B, int) {
		return func(b *testing.B, be tmBackend) func(*testing.B, int) {
			env := tmEnv(b, be, nil)
			dev := env.EnrollTOTP("alice")
			env.Clock.Advance(time.Hour)
			if used {
				if _, err := env.TwoFA.Verify(context.Background(), "alice", dev.Code()); err != nil {
					b.Fatal(err)
				}
			}
			return tmVerify(env, "alice", wrongCode(b, dev, env.Clock.Now(), 5), twofa.ErrInvalidCode)
		}
	}
	tmRun(b, tmCase{"idle", setup(false)}, tmCase{"just-used", setup(true)})
}

// BenchmarkTimingRecovery: Verify of recovery codes. With the budget
// open, a wrong code and a used one (consumed before the timer starts)
// are both ErrInvalidCode and both cost a reservation and a consuming
// delete that finds nothing ("a consumed code is gone"). With the
// recovery budget spent (Budget 1, Refill 1 h, spent by one wrong code),
// a wrong code and a right (unused) one are both refused unrevealed by
// the reservation, before the code is looked up: the pairs are
// wrong/used and throttled-wrong/throttled-right.
func BenchmarkTimingRecovery(b *testing.B) {
	const wrong = "zzzzz-zzzzz"
	setup := func(throttled, pick bool) func(*testing.B, tmBackend) func(*testing.B, int) {
		return func(b *testing.B, be tmBackend) func(*testing.B, int) {
			ctx := context.Background()
			env := tmEnv(b, be, func(c *twofa.Config) {
				if throttled {
					c.Throttle.Recovery = twofa.ThrottlePolicy{Budget: 1, Refill: time.Hour}
				}
			})
			env.EnrollTOTP("alice")
			codes, err := env.Recovery.Generate(ctx, "alice")
			if err != nil {
				b.Fatal(err)
			}
			if throttled {
				_, err := env.TwoFA.Verify(ctx, "alice", wrong)
				tmWant(b, err, twofa.ErrInvalidCode)
				if pick {
					return tmVerify(env, "alice", codes[0], twofa.ErrThrottled)
				}
				return tmVerify(env, "alice", wrong, twofa.ErrThrottled)
			}
			if pick {
				if _, err := env.TwoFA.Verify(ctx, "alice", codes[0]); err != nil {
					b.Fatal(err)
				}
				return tmVerify(env, "alice", codes[0], twofa.ErrInvalidCode)
			}
			return tmVerify(env, "alice", wrong, twofa.ErrInvalidCode)
		}
	}
	tmRun(b,
		tmCase{"wrong", setup(false, false)}, tmCase{"used", setup(false, true)},
		tmCase{"throttled-wrong", setup(true, false)}, tmCase{"throttled-right", setup(true, true)})
}

// BenchmarkTimingAppPassword: AppPasswords.Verify refusing, for an
// account ("alice") that keeps one live app password, a wrong password,
// one of its own that was revoked, and a live one of another account: all
// ErrInvalidAppPassword, all the same lookup miss, EXISTS and reservation
// ("three store operations whatever the number of passwords"), so a mail
// client still using a revoked password, or a password tried at the wrong
// account, looks like any other miss. The fourth case, "revoked-last", is
// the revoked password of an account that has no app password left: it
// costs one store operation less (nothing is counted for an account
// without app passwords), which is what BasicAuth's decoy account
// (an unknown user name) costs too.
func BenchmarkTimingAppPassword(b *testing.B) {
	setup := func(kind string) func(*testing.B, tmBackend) func(*testing.B, int) {
		return func(b *testing.B, be tmBackend) func(*testing.B, int) {
			ctx := context.Background()
			env := tmEnv(b, be, nil)
			create := func(account, label string) (string, twofa.AppPasswordInfo) {
				pw, info, err := env.AppPasswords.Create(ctx, account, label)
				if err != nil {
					b.Fatal(err)
				}
				return pw, info
			}
			for _, a := range []string{"alice", "bob", "dave"} {
				env.EnrollTOTP(a)
			}
			create("alice", "mail")
			revoked, info := create("alice", "calendar")
			if err := env.AppPasswords.Revoke(ctx, "alice", info.ID); err != nil {
				b.Fatal(err)
			}
			bobs, _ := create("bob", "mail")
			last, info := create("dave", "mail")
			if err := env.AppPasswords.Revoke(ctx, "dave", info.ID); err != nil {
				b.Fatal(err)
			}
			account, pw := "alice", "abcd-efgh-ijkl-mnop"
			switch kind {
			case "revoked":
				pw = revoked
			case "other-account":
				pw = bobs
			case "revoked-last":
				account, pw = "dave", last
			}
			return func(b *testing.B, _ int) {
				_, err := env.AppPasswords.Verify(ctx, account, pw)
				tmWant(b, err, twofa.ErrInvalidAppPassword)
			}
		}
	}
	var cases []tmCase
	for _, k := range []string{"wrong", "revoked", "other-account", "revoked-last"} {
		cases = append(cases, tmCase{k, setup(k)})
	}
	tmRun(b, cases...)
}

// tmToken returns a well-formed random token (browser and sign-in tokens
// have the same form) that was never issued.
func tmToken(b *testing.B) string {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		b.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// BenchmarkTimingSignIn: signin.Manager.Finish with a token never issued
// (ErrNotFound), with the token of a sign-in that expired (ErrExpired,
// which matches ErrNotFound), and with a live token and a wrong code
// (ErrInvalidCode). The first two are "no such pending sign-in" - one
// error, and one 401 from twofahttp, "so that a token's holder learns
// nothing from it" - and should cost the same. The third evaluates a code
// (a charge, then Verify) and is expected to cost more; the ratio is
// reported for completeness. The live sign-in takes 100 tries
// (Config.MaxAttempts) and is renewed, untimed, every 99.
func BenchmarkTimingSignIn(b *testing.B) {
	setup := func(kind string) func(*testing.B, tmBackend) func(*testing.B, int) {
		return func(b *testing.B, be tmBackend) func(*testing.B, int) {
			ctx := context.Background()
			env := tmEnv(b, be, nil)
			dev := env.EnrollTOTP("alice")
			m, err := signin.New(env.TwoFA, signin.Config{MaxAttempts: signin.MaxMaxAttempts})
			if err != nil {
				b.Fatal(err)
			}
			begin := func() string {
				tok, p, err := m.Begin(ctx, "alice", signin.Request{Label: "Firefox on Linux", IP: "192.0.2.1"})
				if err != nil || p.Done {
					b.Fatal(p, err)
				}
				return tok
			}
			switch kind {
			case "unknown":
				begin() // the account has a pending sign-in, just not this one
				tok := tmToken(b)
				return func(b *testing.B, _ int) {
					_, err := m.Finish(ctx, tok, "123456")
					tmWant(b, err, signin.ErrNotFound)
				}
			case "expired":
				tok := begin()
				env.Clock.Advance(signin.DefaultTTL + time.Second)
				return func(b *testing.B, _ int) {
					_, err := m.Finish(ctx, tok, "123456")
					tmWant(b, err, signin.ErrExpired)
				}
			}
			tok := begin()
			wrong := wrongCode(b, dev, env.Clock.Now(), 5)
			return func(b *testing.B, i int) {
				if i > 0 && i%(signin.MaxMaxAttempts-1) == 0 {
					b.StopTimer()
					tok = begin()
					b.StartTimer()
				}
				_, err := m.Finish(ctx, tok, wrong)
				tmWant(b, err, twofa.ErrInvalidCode)
			}
		}
	}
	tmRun(b, tmCase{"unknown", setup("unknown")}, tmCase{"expired", setup("expired")}, tmCase{"wrong-code", setup("wrong-code")})
}

// BenchmarkTimingBrowser: browser.Manager.Check of a token never issued,
// of a revoked one, of an expired one, and of a live token of another
// account, all for "alice". Each is "not trusted" (ErrUnknown, ErrRevoked,
// ErrExpired, ErrUnknown), after which signin.Begin asks for a code in
// every case: nothing in the response tells them apart, so neither should
// the time ("one keyed digest and one indexed lookup").
func BenchmarkTimingBrowser(b *testing.B) {
	setup := func(kind string) func(*testing.B, tmBackend) func(*testing.B, int) {
		return func(b *testing.B, be tmBackend) func(*testing.B, int) {
			ctx := context.Background()
			env := tmEnv(b, be, nil)
			env.EnrollTOTP("alice")
			env.EnrollTOTP("bob")
			trust := func(account string) (string, browser.Info) {
				tok, info, err := env.Browsers.Trust(ctx, account, "Firefox on Linux")
				if err != nil {
					b.Fatal(err)
				}
				return tok, info
			}
			trust("alice") // a live browser of alice's, never presented
			tok, want := tmToken(b), browser.ErrUnknown
			switch kind {
			case "revoked":
				var info browser.Info
				tok, info = trust("alice")
				if err := env.Browsers.Revoke(ctx, "alice", info.ID); err != nil {
					b.Fatal(err)
				}
				want = browser.ErrRevoked
			case "expired":
				tok, _ = trust("alice")
				env.Clock.Advance(browser.DefaultTTL + time.Second)
				want = browser.ErrExpired
			case "other-account":
				tok, _ = trust("bob")
			}
			return func(b *testing.B, _ int) {
				_, err := env.Browsers.Check(ctx, "alice", tok)
				tmWant(b, err, want)
			}
		}
	}
	var cases []tmCase
	for _, k := range []string{"unknown", "revoked", "expired", "other-account"} {
		cases = append(cases, tmCase{k, setup(k)})
	}
	tmRun(b, cases...)
}

// BenchmarkTimingPhone: Verify of a 6-digit code for an account whose
// only second factor is a trusted phone (phone.Config.OutOfBand): a wrong
// code while a sign-in code is live, the code of a sign-in code that
// expired, and a wrong code after the live one was used. All three are
// ErrInvalidCode (one 401), so their cost should not tell whether the
// account has a live code out. A live code takes 100 wrong tries
// (ChallengeAttempts); the wrong-code case moves, untimed, to a fresh
// account with a fresh code every 99 tries.
func BenchmarkTimingPhone(b *testing.B) {
	number := phone.Number{E164: "+14155550142", CountryCode: 1}
	setup := func(kind string) func(*testing.B, tmBackend) func(*testing.B, int) {
		return func(b *testing.B, be tmBackend) func(*testing.B, int) {
			ctx := context.Background()
			env := tmEnv(b, be, nil)
			env.ReconfigurePhones(func(c *phone.Config) {
				c.OutOfBand = true
				c.ChallengeAttempts = phone.MaxChallengeAttempts
			})
			n := 0
			fresh := func() (string, string) {
				n++
				account := "alice-" + strconv.Itoa(n)
				id := env.TrustPhone(account, number)
				env.Clock.Advance(env.ResendCooldown())
				return account, env.SignInCode(account, id)
			}
			other := func(code string) string {
				v, _ := strconv.Atoi(code)
				return fmt.Sprintf("%06d", (v+1)%1_000_000)
			}
			account, code := fresh()
			switch kind {
			case "expired":
				env.Clock.Advance(phone.DefaultChallengeTTL + time.Second)
				return tmVerify(env, account, code, twofa.ErrInvalidCode)
			case "used":
				if _, err := env.TwoFA.Verify(ctx, account, code); err != nil {
					b.Fatal(err)
				}
				return tmVerify(env, account, other(code), twofa.ErrInvalidCode)
			}
			wrong := other(code)
			return func(b *testing.B, i int) {
				if i > 0 && i%(phone.MaxChallengeAttempts-1) == 0 {
					b.StopTimer()
					account, code = fresh()
					wrong = other(code)
					b.StartTimer()
				}
				_, err := env.TwoFA.Verify(ctx, account, wrong)
				tmWant(b, err, twofa.ErrInvalidCode)
			}
		}
	}
	tmRun(b, tmCase{"wrong-live", setup("wrong-live")}, tmCase{"expired", setup("expired")}, tmCase{"used", setup("used")})
}

// BenchmarkTimingBasicAuth: twofahttp.BasicAuth refusing, with the same
// 401, an unknown user name, a known user without two-factor
// authentication and a wrong primary password, and a known user with
// two-factor authentication on and a wrong app password. BasicAuth
// promises that "its time tells little about the user name" because the
// backend's password check (a hash of the same cost for every user name)
// dominates; this PasswordFunc costs nothing, so the ratios here are what
// that hash has to drown, and the differences in ns/op are the absolute
// gap.
func BenchmarkTimingBasicAuth(b *testing.B) {
	setup := func(user string) func(*testing.B, tmBackend) func(*testing.B, int) {
		return func(b *testing.B, be tmBackend) func(*testing.B, int) {
			ctx := context.Background()
			env := tmEnv(b, be, nil)
			env.EnrollTOTP("alice")
			if _, _, err := env.AppPasswords.Create(ctx, "alice", "mail"); err != nil {
				b.Fatal(err)
			}
			known := map[string]bool{"alice": true, "carol": true}
			check := func(_ context.Context, user, _ string) (string, bool, error) {
				if known[user] {
					return user, false, nil
				}
				return "", false, nil
			}
			mw, err := twofahttp.BasicAuth(env.TwoFA, "Mail", check)
			if err != nil {
				b.Fatal(err)
			}
			h := mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { b.Fatal("admitted") }))
			r := httptest.NewRequest(http.MethodGet, "/api/whoami", nil)
			r.SetBasicAuth(user, "abcd-efgh-ijkl-mnop")
			return func(b *testing.B, _ int) {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusUnauthorized {
					b.Fatalf("status %d", w.Code)
				}
			}
		}
	}
	tmRun(b, tmCase{"unknown-user", setup("mallory")}, tmCase{"known-2fa-off", setup("carol")}, tmCase{"known-2fa-on", setup("alice")})
}
