// Package signinrace holds the race the tests run, on every store, between
// concurrent Finish calls of one pending sign-in (package signin) through
// several replicas: installations of their own, each with its own
// connection pool, on one database. Exactly one call may succeed.
//
// A round uses a fresh account, so that rounds can share the replicas and
// the database. The goroutines are released together and run the
// library's calls as they are.
package signinrace

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/internal/lifecyclerace"
	"github.com/twofa-go/twofa/signin"
	"github.com/twofa-go/twofa/twofatest"
)

// Calls is how many Finish calls a round makes at once.
const Calls = 200

// Replica is one server: an installation and its pending sign-ins.
type Replica struct {
	TwoFA   *twofa.TwoFA
	SignIns *signin.Manager
}

// Mode is what the concurrent calls submit.
type Mode int

const (
	// SameCode: every call submits the device's current code.
	SameCode Mode = iota
	// Mixed: the account's ten recovery codes, one call each, and the
	// device's current code in the others: eleven right factors.
	Mixed
)

func (m Mode) String() string {
	if m == Mixed {
		return "Mixed"
	}
	return "SameCode"
}

// Rounds returns how many rounds a race test runs: def, or short under
// testing.Short or the race detector (see lifecyclerace.Trials; the
// same TWOFA_RACE_TRIALS overrides both).
func Rounds(tb testing.TB, def, short int) int { return lifecyclerace.Trials(tb, def, short) }

// Outcome counts the results of one round.
type Outcome struct {
	OK, NotFound, TooMany, Replayed, Invalid int
	RecoveryUsed                             int // recovery codes Verify accepted: each a right factor that raced to finish
	Others                                   []error
}

// Run runs rounds rounds of Calls concurrent Finish calls of one pending
// sign-in, spread over rs in turn, and fails the test unless exactly one
// succeeds in each and every other fails with a typed error of package
// signin (ErrNotFound, ErrTooManyAttempts) or of Verify (ErrReplayed, or
// ErrInvalidCode for a recovery code another call used). The replicas'
// installations must share one store, keyring and clock, with a throttle
// that admits every attempt. It returns the outcome of the last round.
func Run(t *testing.T, rs []Replica, clock *twofatest.Clock, mode Mode, rounds int) Outcome {
	t.Helper()
	ctx := context.Background()
	maxAttempts := rs[0].SignIns.Config().MaxAttempts
	var last Outcome
	for round := range rounds {
		account := "signinrace-" + rand.Text()
		dev := twofatest.EnrollDevice(t, rs[0].TwoFA.Devices, clock, account, twofa.EnrollOptions{})
		codes, err := rs[len(rs)-1].TwoFA.Recovery.Generate(ctx, account)
		if err != nil {
			t.Fatal(err)
		}
		tok, p, err := rs[0].SignIns.Begin(ctx, account, signin.Request{Label: "Race browser", IP: "192.0.2.1"})
		if err != nil || p.Done {
			t.Fatalf("Begin = %+v, %v; want a pending sign-in", p, err)
		}
		code := dev.Code()
		inputs := make([]string, Calls)
		for i := range inputs {
			inputs[i] = code
			if mode == Mixed && i < len(codes) {
				inputs[i] = codes[i]
			}
		}
		var (
			o               Outcome
			mu              sync.Mutex
			ok, nf, tm, rep atomic.Int32
			inv             atomic.Int32
		)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range Calls {
			wg.Go(func() {
				<-start
				fin, err := rs[i%len(rs)].SignIns.Finish(ctx, tok, inputs[i])
				switch {
				case err == nil:
					ok.Add(1)
					if fin.Account != account {
						t.Errorf("Finish signed in %q, want %q", fin.Account, account)
					}
				case errors.Is(err, signin.ErrTooManyAttempts):
					tm.Add(1)
				case errors.Is(err, signin.ErrNotFound):
					nf.Add(1)
				case errors.Is(err, twofa.ErrReplayed):
					rep.Add(1)
				case errors.Is(err, twofa.ErrInvalidCode) && mode == Mixed:
					inv.Add(1)
				default:
					mu.Lock()
					o.Others = append(o.Others, err)
					mu.Unlock()
				}
			})
		}
		close(start)
		wg.Wait()
		o.OK, o.NotFound, o.TooMany, o.Replayed, o.Invalid = int(ok.Load()), int(nf.Load()), int(tm.Load()), int(rep.Load()), int(inv.Load())
		if o.OK != 1 || len(o.Others) != 0 || o.OK+o.NotFound+o.TooMany+o.Replayed+o.Invalid != Calls {
			t.Fatalf("%v round %d: %d of %d concurrent Finish calls succeeded (want 1); %d ErrNotFound, %d ErrTooManyAttempts, %d ErrReplayed, %d ErrInvalidCode; other errors: %v",
				mode, round, o.OK, Calls, o.NotFound, o.TooMany, o.Replayed, o.Invalid, o.Others)
		}
		// Gone for every replica.
		for i, r := range rs {
			if _, err := r.SignIns.Finish(ctx, tok, code); !errors.Is(err, signin.ErrNotFound) {
				t.Errorf("replica %d: Finish after the race = %v, want ErrNotFound", i, err)
			}
			if l, err := r.SignIns.List(ctx, account); err != nil || len(l) != 0 {
				t.Errorf("replica %d: List after the race = %v, %v; want none", i, l, err)
			}
		}
		// At most MaxAttempts calls reached Verify: the others spent no
		// recovery code.
		left, err := rs[0].TwoFA.Recovery.Remaining(ctx, account)
		if err != nil {
			t.Fatal(err)
		}
		o.RecoveryUsed = len(codes) - left
		if used := o.RecoveryUsed; used > maxAttempts {
			t.Errorf("%v round %d: %d recovery codes used, more than the %d attempts a sign-in takes", mode, round, used, maxAttempts)
		}
		if mode == SameCode && left != len(codes) {
			t.Errorf("SameCode round %d: %d recovery codes used, want 0", round, len(codes)-left)
		}
		last = o
		clock.Advance(30 * time.Second) // a fresh TOTP step for the next round
	}
	return last
}
