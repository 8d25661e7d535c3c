// Package lifecyclerace holds the trials the tests run, on every store, to
// look for races between the calls that turn two-factor authentication off
// and the calls that turn it on and issue what depends on it: recovery
// codes, app passwords and trusted browsers.
//
// A trial uses a fresh account, so that many trials can share one
// installation and one database. Its goroutines are released together and
// run the library's calls as they are, with nothing slowing them down:
// what a trial finds, real concurrency produced.
package lifecyclerace

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/twofatest"
)

// TrialsEnv names the environment variable that sets the number of trials
// of each race test.
const TrialsEnv = "TWOFA_RACE_TRIALS"

// Trials returns the number of trials a race test runs: $TWOFA_RACE_TRIALS
// if set, else def, or short under testing.Short or the race detector
// (which slows a trial tenfold; .ci/run runs the full count without it).
func Trials(tb testing.TB, def, short int) int {
	tb.Helper()
	if s := os.Getenv(TrialsEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			tb.Fatalf("%s=%q: want a positive number of trials", TrialsEnv, s)
		}
		return n
	}
	if testing.Short() || raceDetector {
		return short
	}
	return def
}

// Log records an installation's events, each with a sequence number from
// one atomic counter that Mark also draws from, so that a test can tell
// which events came after a point in its own goroutine.
type Log struct {
	seq atomic.Uint64
	mu  sync.Mutex
	evs map[string][]entry // by account
}

type entry struct {
	seq uint64
	ev  twofa.Event
}

// Hook is a twofa.EventHook recording e.
func (l *Log) Hook(_ context.Context, e twofa.Event) {
	n := l.seq.Add(1)
	l.mu.Lock()
	if l.evs == nil {
		l.evs = map[string][]entry{}
	}
	l.evs[e.Account] = append(l.evs[e.Account], entry{n, e})
	l.mu.Unlock()
}

// Mark returns a sequence number after that of every event recorded so
// far and before that of every event recorded later.
func (l *Log) Mark() uint64 { return l.seq.Add(1) }

// After returns the events of type typ of account recorded after mark.
func (l *Log) After(account string, typ twofa.EventType, mark uint64) []twofa.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []twofa.Event
	for _, en := range l.evs[account] {
		if en.seq > mark && en.ev.Type == typ {
			out = append(out, en.ev)
		}
	}
	return out
}

// Forget drops the events of account.
func (l *Log) Forget(account string) {
	l.mu.Lock()
	delete(l.evs, account)
	l.mu.Unlock()
}

// Env is an installation on a store, with trusted browsers attached and
// its events in Log. Its Clock stands still (at twofatest.Start).
type Env struct {
	TF       *twofa.TwoFA
	Browsers *browser.Manager
	Clock    *twofatest.Clock
	Log      *Log

	next atomic.Int64 // account numbers
}

// New builds an Env on store, which must also be a browser.Store
// (memstore and sqlstore are). It fails the test on error.
func New(tb testing.TB, store twofa.Store) *Env {
	tb.Helper()
	keys, err := keyring.Generate()
	if err != nil {
		tb.Fatal(err)
	}
	kr, err := keyring.Parse(keys)
	if err != nil {
		tb.Fatal(err)
	}
	e := &Env{Clock: twofatest.NewClock(twofatest.Start), Log: &Log{}}
	e.TF, err = twofa.New(twofa.Config{
		Store: store, Keyring: kr, Issuer: "lifecyclerace", Clock: e.Clock, Events: e.Log.Hook,
	})
	if err != nil {
		tb.Fatal(err)
	}
	if e.Browsers, err = browser.New(e.TF, browser.Config{}); err != nil {
		tb.Fatal(err)
	}
	return e
}

// Account returns a fresh account name.
func (e *Env) Account(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, e.next.Add(1))
}

// Trial is one trial of a race: it returns what it found wrong (nothing
// for a trial that kept the invariant), and an error when a call failed
// in a way the invariant does not cover, which fails the test.
type Trial func(ctx context.Context, e *Env, account string) (violations []string, err error)

// Run runs n trials of trial on e, each on a fresh account, logs the
// violation count and rate, the kinds of violation seen and the run time,
// and fails the test if any trial violated the invariant.
func Run(t *testing.T, e *Env, n int, trial Trial) {
	t.Helper()
	ctx := context.Background()
	kinds := map[string]int{}
	var examples []string
	bad := 0
	begin := time.Now()
	for i := range n {
		account := e.Account("race")
		vs, err := trial(ctx, e, account)
		e.Log.Forget(account)
		if err != nil {
			t.Fatalf("trial %d (%s): %v", i, account, err)
		}
		if len(vs) == 0 {
			continue
		}
		bad++
		for _, v := range vs {
			kinds[v]++
		}
		if len(examples) < 3 {
			examples = append(examples, fmt.Sprintf("trial %d: %s", i, strings.Join(vs, "; ")))
		}
	}
	elapsed := time.Since(begin)
	rate := 100 * float64(bad) / float64(n)
	t.Logf("%d of %d trials violated the invariant (%.2f%%) in %v (%v per trial)",
		bad, n, rate, elapsed.Round(time.Millisecond), (elapsed / time.Duration(n)).Round(time.Microsecond))
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		t.Logf("  %d of %d trials: %s", kinds[k], n, k)
	}
	for _, ex := range examples {
		t.Logf("  e.g. %s", ex)
	}
	if bad > 0 {
		t.Errorf("%d of %d trials (%.2f%%) violated the invariant", bad, n, rate)
	}
}

// together runs the fns in goroutines released at once, and waits for
// them. Waking parked goroutines takes longer than a memstore call, so
// each one, once running, spins until all have arrived: on a machine with
// a core for each, they then start within a fraction of a microsecond.
func together(fns ...func()) {
	var wg sync.WaitGroup
	var arrived atomic.Int32
	n := int32(len(fns))
	for _, fn := range fns {
		wg.Go(func() {
			arrived.Add(1)
			for arrived.Load() < n {
				runtime.Gosched()
			}
			fn()
		})
	}
	wg.Wait()
}

// newKey returns a fresh TOTP key to import.
func newKey(account string) (twofa.Key, error) {
	s, err := twofa.NewSecret()
	if err != nil {
		return twofa.Key{}, err
	}
	return twofa.Key{Type: twofa.TypeTOTP, Account: account, Secret: s}, nil
}

// issued is what a goroutine issued after turning two-factor
// authentication on, to check once the trial is over.
type issued struct {
	codes    []string // recovery codes (nil: not issued)
	password string   // app password ("": not issued)
	token    string   // trusted browser token ("": not issued)
}

// Item is one of the things issued on the strength of a second factor.
type Item int

// The items, in the order RevokeImport issues them.
const (
	RecoveryCodes Item = iota // Recovery.Generate
	AppPassword               // AppPasswords.Create
	Browser                   // Browsers.Trust
)

// issue issues the items of order for account, in that order (generates
// recovery codes, creates an app password, trusts a browser), keeping
// what it got. ErrNotEnrolled (two-factor authentication off at that
// moment) leaves an item out; other errors are returned.
func (e *Env) issue(ctx context.Context, account string, is *issued, order []Item) error {
	for _, it := range order {
		var err error
		switch it {
		case RecoveryCodes:
			var codes []string
			if codes, err = e.TF.Recovery.Generate(ctx, account); err == nil {
				is.codes = codes
			} else {
				err = fmt.Errorf("Recovery.Generate: %w", err)
			}
		case AppPassword:
			var pw string
			if pw, _, err = e.TF.AppPasswords.Create(ctx, account, "mail client"); err == nil {
				is.password = pw
			} else {
				err = fmt.Errorf("AppPasswords.Create: %w", err)
			}
		case Browser:
			var tok string
			if tok, _, err = e.Browsers.Trust(ctx, account, "Firefox on Linux"); err == nil {
				is.token = tok
			} else {
				err = fmt.Errorf("Browsers.Trust: %w", err)
			}
		}
		if err != nil && !errors.Is(err, twofa.ErrNotEnrolled) {
			return err
		}
	}
	return nil
}

// check reports which of the items of is no longer work.
func (e *Env) check(ctx context.Context, account string, is issued) ([]string, error) {
	var vs []string
	if is.codes != nil {
		n, err := e.TF.Recovery.Remaining(ctx, account)
		if err != nil {
			return nil, fmt.Errorf("Recovery.Remaining: %w", err)
		}
		if n != len(is.codes) {
			vs = append(vs, fmt.Sprintf("recovery codes voided (Remaining %d of %d issued)", n, len(is.codes)))
		} else if _, err := e.TF.Verify(ctx, account, is.codes[0]); err != nil {
			vs = append(vs, fmt.Sprintf("recovery code refused (%v)", err))
		}
	}
	if is.password != "" {
		if _, err := e.TF.AppPasswords.Verify(ctx, account, is.password); err != nil {
			vs = append(vs, fmt.Sprintf("app password refused (%v)", errKind(err)))
		}
	}
	if is.token != "" {
		if _, err := e.Browsers.Check(ctx, account, is.token); err != nil {
			vs = append(vs, fmt.Sprintf("trusted browser refused (%v)", errKind(err)))
		}
	}
	return vs, nil
}

// errKind names the errors a voided item gets, so that violations group
// by kind; other errors are shown as they are.
func errKind(err error) string {
	for _, k := range []error{twofa.ErrInvalidAppPassword, browser.ErrRevoked, browser.ErrUnknown} {
		if errors.Is(err, k) {
			return k.Error()
		}
	}
	return err.Error()
}

// RevokeImport is the race of revoking an account's last confirmed device
// against importing a new one. The account starts with one confirmed
// device D1 and a set of recovery codes. Then, together: one goroutine
// revokes D1; the other imports D2 and, on its strength, generates
// recovery codes, creates an app password and trusts a browser.
//
// The invariant: only what depended on the state that ended is voided.
// Once Import of D2 has returned, two-factor authentication is on, so
// everything issued after it must still work when both are done, and no
// EventTwoFactorDisabled may come after it.
func RevokeImport(ctx context.Context, e *Env, account string) ([]string, error) {
	return revokeImport(ctx, e, account, []Item{RecoveryCodes, AppPassword, Browser})
}

// RevokeImportEachFirst is RevokeImport with the items issued in turn
// in another order: trial i issues item i%3 first, right after Import,
// then the others. Revoke voids recovery codes, app passwords and
// browsers in that order, so the item issued first is the one most
// exposed to the revocation still under way.
func RevokeImportEachFirst() Trial {
	var n atomic.Uint64
	return func(ctx context.Context, e *Env, account string) ([]string, error) {
		all := []Item{RecoveryCodes, AppPassword, Browser}
		i := int(n.Add(1)-1) % len(all)
		return revokeImport(ctx, e, account, slices.Concat(all[i:], all[:i]))
	}
}

func revokeImport(ctx context.Context, e *Env, account string, order []Item) ([]string, error) {
	k1, err := newKey(account)
	if err != nil {
		return nil, err
	}
	d1, _, err := e.TF.Devices.Import(ctx, account, "old phone", k1)
	if err != nil {
		return nil, fmt.Errorf("import D1: %w", err)
	}
	if _, err := e.TF.Recovery.Generate(ctx, account); err != nil {
		return nil, fmt.Errorf("recovery codes with D1: %w", err)
	}
	k2, err := newKey(account)
	if err != nil {
		return nil, err
	}

	var (
		revokeErr, importErr, issueErr error
		d2                             twofa.DeviceInfo
		mark                           uint64
		is                             issued
	)
	together(
		func() { _, revokeErr = e.TF.Devices.Revoke(ctx, account, d1.ID) },
		func() {
			d2, _, importErr = e.TF.Devices.Import(ctx, account, "new phone", k2)
			mark = e.Log.Mark()
			if importErr == nil {
				issueErr = e.issue(ctx, account, &is, order)
			}
		},
	)
	if revokeErr != nil {
		return nil, fmt.Errorf("revoke D1: %w", revokeErr)
	}
	if importErr != nil {
		return nil, fmt.Errorf("import D2: %w", importErr)
	}
	if issueErr != nil {
		return nil, issueErr
	}

	devs, err := e.TF.Devices.List(ctx, account)
	if err != nil {
		return nil, fmt.Errorf("Devices.List: %w", err)
	}
	if !slices.ContainsFunc(devs, func(d twofa.DeviceInfo) bool { return d.ID == d2.ID }) {
		return nil, errors.New("D2 is gone, though nothing revoked it")
	}
	vs, err := e.check(ctx, account, is)
	if err != nil {
		return nil, err
	}
	if len(e.Log.After(account, twofa.EventTwoFactorDisabled, mark)) > 0 {
		vs = append(vs, "EventTwoFactorDisabled after Import of D2 returned")
	}
	if on, err := e.TF.Enabled(ctx, account); err != nil || !on {
		vs = append(vs, fmt.Sprintf("Enabled = %v, %v with D2 confirmed", on, err))
	}
	return vs, nil
}

// FirstFactors is the race of two concurrent first second factors on an
// account with two-factor authentication off, each followed by
// Recovery.Generate when it reports that it turned two-factor
// authentication on (Change.TurnedOn) - what an application does when a
// user turns two-factor authentication on, here from two tabs at once.
// With confirm set, the first is the confirmation of a pending enrolment
// (Enroll then Confirm with its code); otherwise both are imports.
//
// The invariants: exactly one of the two reports TurnedOn, and every set
// of recovery codes handed out (Generate returned it to be shown) still
// works when both are done; a set may not be voided without its owner
// being told.
func FirstFactors(confirm bool) Trial {
	return func(ctx context.Context, e *Env, account string) ([]string, error) {
		var first func() (twofa.Change, error)
		if confirm {
			enr, err := e.TF.Devices.Enroll(ctx, account, "phone", twofa.EnrollOptions{})
			if err != nil {
				return nil, fmt.Errorf("enrol: %w", err)
			}
			g, err := enr.Key.TOTP()
			if err != nil {
				return nil, err
			}
			code, err := g.Code(e.Clock.Now())
			if err != nil {
				return nil, err
			}
			first = func() (twofa.Change, error) { return e.TF.Devices.Confirm(ctx, account, enr.Device.ID, code) }
		} else {
			k, err := newKey(account)
			if err != nil {
				return nil, err
			}
			first = func() (twofa.Change, error) {
				_, ch, err := e.TF.Devices.Import(ctx, account, "phone", k)
				return ch, err
			}
		}
		k2, err := newKey(account)
		if err != nil {
			return nil, err
		}
		second := func() (twofa.Change, error) {
			_, ch, err := e.TF.Devices.Import(ctx, account, "tablet", k2)
			return ch, err
		}

		var (
			errs  [2]error
			sets  [2][]string
			ons   [2]bool
			marks [2]uint64 // when each Generate returned
		)
		run := func(i int, add func() (twofa.Change, error)) func() {
			return func() {
				ch, err := add()
				if err != nil {
					errs[i] = fmt.Errorf("factor %d: %w", i+1, err)
					return
				}
				if ons[i] = ch.TurnedOn; !ons[i] {
					return
				}
				codes, err := e.TF.Recovery.Generate(ctx, account)
				marks[i] = e.Log.Mark()
				switch {
				case err == nil:
					sets[i] = codes
				case !errors.Is(err, twofa.ErrNotEnrolled):
					errs[i] = fmt.Errorf("Recovery.Generate after factor %d: %w", i+1, err)
				}
			}
		}
		together(run(0, first), run(1, second))
		if err := errors.Join(errs[:]...); err != nil {
			return nil, err
		}

		var vs []string
		if ons[0] == ons[1] {
			vs = append(vs, fmt.Sprintf("TurnedOn reported by %d of the two first factors, want exactly one", btoi(ons[0])+btoi(ons[1])))
		}
		voided := [2]bool{}
		for i, set := range sets {
			if set == nil {
				continue
			}
			// Verify consumes a code; a second set's check comes after
			// the first's, and the sets never share a code.
			if _, err := e.TF.Verify(ctx, account, set[0]); err != nil {
				voided[i] = true
			}
		}
		switch {
		case voided[0] && voided[1]:
			vs = append(vs, "both sets of recovery codes handed out are void")
		case voided[0] || voided[1]:
			later := 0
			if marks[1] > marks[0] {
				later = 1
			}
			if voided[later] {
				vs = append(vs, "both sets handed out, the one returned last is void")
			} else {
				vs = append(vs, "both sets handed out, the one returned first is void")
			}
		}
		return vs, nil
	}
}

// Reloads is an enrolment page reloaded: Devices.Enroll called reloads
// times in a row for an account that has confirmed devices already
// (imported first). Every reload leaves the last one's enrolment pending,
// abandoned.
//
// The invariant: no reload fails with ErrLimitReached (abandoned
// enrolments must not count toward Config.Devices.Max), and the account
// ends with its confirmed devices and one pending enrolment.
func Reloads(reloads, confirmed int) Trial {
	return func(ctx context.Context, e *Env, account string) ([]string, error) {
		for i := range confirmed {
			k, err := newKey(account)
			if err != nil {
				return nil, err
			}
			if _, _, err := e.TF.Devices.Import(ctx, account, fmt.Sprintf("phone %d", i+1), k); err != nil {
				return nil, fmt.Errorf("import device %d: %w", i+1, err)
			}
		}
		var vs []string
		refused := 0
		for i := range reloads {
			_, err := e.TF.Devices.Enroll(ctx, account, "new phone", twofa.EnrollOptions{})
			switch {
			case errors.Is(err, twofa.ErrLimitReached):
				if refused == 0 {
					vs = append(vs, fmt.Sprintf("reload %d of %d refused: %v", i+1, reloads, err))
				}
				refused++
			case err != nil:
				return nil, fmt.Errorf("enrol %d: %w", i+1, err)
			}
		}
		if refused > 1 {
			vs = append(vs, fmt.Sprintf("%d of %d reloads refused", refused, reloads))
		}
		devs, err := e.TF.Devices.List(ctx, account)
		if err != nil {
			return nil, fmt.Errorf("Devices.List: %w", err)
		}
		var pending, conf int
		for _, d := range devs {
			if d.State == twofa.DevicePending {
				pending++
			} else {
				conf++
			}
		}
		if pending != 1 || conf != confirmed {
			vs = append(vs, fmt.Sprintf("%d confirmed and %d pending devices listed, want %d and 1", conf, pending, confirmed))
		}
		return vs, nil
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
