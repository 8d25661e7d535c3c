package twofatest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/twofatest"
)

// signIn is the application code under test: the second step of its
// login flow, which turns Verify's answer into a message for the user.
func signIn(ctx context.Context, tf *twofa.TwoFA, account, code string) string {
	_, err := tf.Verify(ctx, account, code)
	var throttled *twofa.ThrottledError
	switch {
	case err == nil:
		return "signed in"
	case errors.As(err, &throttled):
		return "too many attempts; wait " + throttled.RetryAfter.String()
	case errors.Is(err, twofa.ErrMalformedCode):
		return "enter the 6 digits from your app"
	case errors.Is(err, twofa.ErrInvalidCode), errors.Is(err, twofa.ErrReplayed):
		return "wrong code"
	default:
		return "error"
	}
}

// testSignIn is the application's test. In its _test.go file it reads
//
//	func TestSignIn(t *testing.T) {
//
// with the same body.
func testSignIn(t testing.TB) {
	env := twofatest.New(t) // memstore, random keys, a clock at twofatest.Start
	ctx := context.Background()
	phone := env.EnrollTOTP("alice")

	check := func(what, code, want string) {
		got := signIn(ctx, env.TwoFA, "alice", code)
		if got != want {
			t.Errorf("%s: got %q, want %q", what, got, want)
		}
		fmt.Printf("%-12s %s\n", what, got)
	}
	code := phone.Code()
	check("right code", code, "signed in")
	check("replayed", code, "wrong code")
	check("typo", "12345", "enter the 6 digits from your app")

	// Five more failures engage the back-off.
	wrong := otherCode(phone, env.Clock.Now())
	for range 5 {
		check("wrong code", wrong, "wrong code")
	}
	check("throttled", phone.Code(), "too many attempts; wait 1s")

	// The fake clock moves only when told: the next step, a new code.
	env.Clock.Advance(30 * time.Second)
	check("next step", phone.Code(), "signed in")

	if n := env.Events.Count(twofa.EventThrottled); n != 1 {
		t.Errorf("%d throttled events, want 1", n)
	}
	if n := env.Events.Count(twofa.EventVerified); n != 2 {
		t.Errorf("%d verified events, want 2", n)
	}
}

// otherCode returns a code that phone does not accept at now: a typo.
func otherCode(phone *twofatest.Device, now time.Time) string {
	near := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		near[phone.CodeAt(now.Add(d))] = true
	}
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if !near[c] {
			return c
		}
	}
	panic("unreachable")
}

func Example() {
	testSignIn(exampleT{})
	// Output:
	// right code   signed in
	// replayed     wrong code
	// typo         enter the 6 digits from your app
	// wrong code   wrong code
	// wrong code   wrong code
	// wrong code   wrong code
	// wrong code   wrong code
	// wrong code   wrong code
	// throttled    too many attempts; wait 1s
	// next step    signed in
}

// exampleT stands in for the *testing.T that a real test gets and an
// example does not.
type exampleT struct{ testing.TB }

func (exampleT) Helper() {}

func (exampleT) Errorf(format string, args ...any) { fmt.Printf("FAIL: "+format+"\n", args...) }

func (exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
