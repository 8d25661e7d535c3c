package twofa

import (
	"cmp"
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/twofa-go/twofa/internal/otp"
	"github.com/twofa-go/twofa/internal/typed"
)

// ThrottledError reports that an attempt was refused because of earlier
// failures: nothing was consumed or recorded, and nothing is told about
// the code. It matches ErrThrottled.
type ThrottledError struct {
	RetryAfter time.Duration // from the attempt until the next is evaluated
	Until      time.Time
	// BudgetSpent is set when the long-horizon budget refused the attempt
	// (see ThrottlePolicy): someone has been guessing. Waiting RetryAfter
	// gives one more attempt; a recovery code or TwoFA.ResetThrottle
	// gives the owner back the whole budget.
	BudgetSpent bool
}

func (e *ThrottledError) Error() string {
	if e.BudgetSpent {
		return fmt.Sprintf("twofa: too many failed attempts over time; retry after %v", e.RetryAfter.Round(time.Second))
	}
	return fmt.Sprintf("twofa: too many failed attempts; retry after %v", e.RetryAfter.Round(time.Second))
}

// Is reports whether target is ErrThrottled.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// Result tells what a successful verification matched.
type Result struct {
	Factor            FactorKind
	DeviceID          string // FactorDevice: the device whose code matched
	RecoveryCodesLeft int    // FactorRecoveryCode: unused codes remaining
	FactorID          string // an attached Factor's kind: the record the code belongs to (package phone: the phone number's id)
}

// Verify checks code for account, after the account's password was
// checked. code is a one-time code of a confirmed device or one of the
// account's recovery codes (or a code of an attached Factor, such as
// package phone's out-of-band codes), read as people type and paste them: leading and trailing white
// space is ignored, and so are spaces and hyphens inside; any other
// white space inside (a tab, a newline) makes the code malformed.
//
// One-time codes: every confirmed device is tried; a TOTP code is accepted
// within Config.Codes.Skew steps of the expected step (centred on the device's
// measured clock drift), an HOTP code within Config.Codes.LookAhead counters of
// the next expected one. A code for a step or counter at or below the
// device's last accepted one is ErrReplayed; the advance is an atomic
// compare-and-set in the store, so of concurrent submissions of one code
// exactly one succeeds. A TOTP code that matches outside the window but
// within Config.Codes.MaxDrift steps is refused, and remembered: the device's
// next code at the same offset is accepted and the drift adopted. Any
// refused TOTP code computes the same steps and makes the same write
// (DeviceStore.SetResync, of the state as it was when there is nothing to
// remember), so that the time of a refusal does not tell a wrong guess
// from the code of a step to come.
//
// Attached factors: a trusted record of an attached Factor (package
// phone's trusted numbers, with its OutOfBand set) is a second factor too
// - an account whose only factor it is counts as enrolled - and a code of
// the Factor's Digits is also tried, after the devices, with its
// VerifyCode (package phone: against the account's live sign-in codes,
// each single use, expiring, and refusing even the right code after too
// many wrong ones). Result.Factor is then the Factor's Kind and
// Result.FactorID its record.
//
// Throttling: under Config.Throttle.Codes, a device's code that matches is
// consumed only if the throttle would admit an attempt, in the same store
// operation that checks it (DeviceStore.AcceptCode), and any other attempt
// is counted as a failure before its outcome is revealed (a matched code
// gives it back) - but for an attached Factor's code, which the Factor
// checks first, bounding the guesses at each of its codes itself (package
// phone: a live code refuses even the right value after too many wrong
// ones), so that a right one is consumed in one store write; a wrong one
// is then counted like any other. After the free failures, attempts are refused, their
// outcome unrevealed, with a *ThrottledError until
// the back-off has passed, and once its long-horizon budget is spent (a
// success does not clear it) until Refill forgives a failure
// (ThrottledError.BudgetSpent; EventGuessing tells the backend). Recovery
// codes have a budget of their own (Config.Throttle.Recovery), so an
// attacker keeping the code throttle engaged cannot lock the owner out; a
// right recovery code empties both. Once a code is consumed the
// verification succeeds, even if the request's context ends meanwhile.
//
// Errors: ErrInvalidAccount, ErrMalformedCode (nothing counted),
// ErrNotEnrolled, *ThrottledError (errors.Is ErrThrottled),
// ErrInvalidCode, ErrReplayed, a wrapped *TamperedError (errors.Is
// ErrTampered: the stored state of the device a code matched - for a
// refused TOTP code, of the device whose resync state it writes - failed
// authentication; an EventTampered is emitted), or a wrapped store or
// Keyring error.
func (tf *TwoFA) Verify(ctx context.Context, account, code string) (res Result, err error) {
	if err := validAccount(account); err != nil {
		return Result{}, err
	}
	digits := codeDigits(code)
	var recovery string
	if digits == 0 {
		var ok bool
		if recovery, ok = canonicalRecoveryCode(code); !ok {
			return Result{}, ErrMalformedCode
		}
	}
	devs, err := tf.c.Store.Devices(ctx, account)
	if err != nil {
		return Result{}, fmt.Errorf("twofa: verify: %w", err)
	}
	confirmed, fits := 0, 0
	for i := range devs {
		if d := &devs[i]; d.State == DeviceConfirmed {
			if i != confirmed {
				devs[confirmed] = *d
			}
			if devs[confirmed].Digits == digits {
				fits++
			}
			confirmed++
		}
	}
	devs = devs[:confirmed]
	// The attached Factors the account has a trusted record of, and
	// among them those whose codes have this many digits.
	var factors []Factor
	trusted := false
	for _, f := range tf.c.plugins.factors() {
		on, err := f.Trusted(ctx, account)
		if err != nil {
			return Result{}, fmt.Errorf("twofa: verify: %w", err)
		}
		if on {
			trusted = true
			if f.Digits() == digits {
				factors = append(factors, f)
			}
		}
	}
	if confirmed == 0 && !trusted {
		return Result{}, ErrNotEnrolled
	}
	if recovery != "" {
		return tf.verifyRecovery(ctx, account, recovery)
	}
	if fits == 0 && len(factors) == 0 {
		return Result{}, ErrMalformedCode
	}
	now := tf.c.Clock.Now()
	// While the throttle is engaged nothing is evaluated: a read (no
	// write) refuses the attempt as the store would, so that a refused
	// guess costs the same whether it is right or wrong. The atomic steps
	// below decide again, for attempts racing the throttle's engagement.
	pre, err := tf.c.Store.Throttle(ctx, account, ScopeCode)
	if err != nil {
		return Result{}, fmt.Errorf("twofa: verify: %w", err)
	}
	if _, ok := tf.c.Throttle.Codes.Reserve(pre, now); !ok {
		return Result{}, tf.throttled(ctx, account, ScopeCode, tf.c.Throttle.Codes, pre, now)
	}
	gens := tf.c.gens.get(len(devs))
	defer tf.c.gens.put(gens)
	s := search{tf: tf, devs: devs, gens: gens.g[:len(devs)], code: code, digits: digits, now: now}
	// The most recently used device first: its code is the likeliest, and
	// the search stops at the first device that accepts.
	for i := range devs {
		if devs[i].LastUsedAt.After(devs[s.first].LastUsedAt) {
			s.first = i
		}
	}
	s.pass(false)
	if !s.accepted {
		s.pass(true)
		if s.replayed != "" {
			// A replay searches outside the window too, so that it costs
			// the HMACs a wrong code does, and what that finds is
			// dropped: the code is refused as the replay it is.
			s.accept, s.accepted, s.resyncs = outcome{}, false, nil
		}
	}
	accept, replayed, resyncs := &s.accept, s.replayed, s.resyncs
	if s.accepted {
		// An accepted code is consumed in one store operation that also
		// checks the throttle and clears its back-off; nothing is reserved
		// first, so a success neither takes nor gives budget. The throttle
		// is checked first: a refused attempt learns nothing of its code.
		// The write is not cut short by the request: a write interrupted
		// after it took effect would report an error for a code that is
		// spent.
		// The device's state is authenticated before it is trusted, and
		// the advance is a compare-and-set on its MAC that stores the
		// MAC of the new state.
		mac, err := tf.c.acceptMAC(ctx, accept.dev, accept.step, accept.drift)
		if err != nil {
			return Result{}, fmt.Errorf("twofa: verify: %w", err)
		}
		dctx := durable(ctx)
		st, ok, err := tf.c.Store.AcceptCode(dctx, account, accept.dev.ID, accept.step, accept.drift, now, ScopeCode, tf.c.Throttle.Codes, accept.dev.MAC, mac)
		dctx.cancel()
		if err != nil {
			return Result{}, fmt.Errorf("twofa: verify: %w", err)
		}
		if ok {
			if accept.resynced {
				tf.c.Events.emit(ctx, Event{Type: EventDriftAdjusted, Account: account, DeviceID: accept.dev.ID, Time: now})
			}
			tf.c.Events.emit(ctx, Event{Type: EventVerified, Account: account, DeviceID: accept.dev.ID, Time: now})
			return Result{Factor: FactorDevice, DeviceID: accept.dev.ID}, nil
		}
		if _, permitted := tf.c.Throttle.Codes.Reserve(st, now); !permitted {
			// The throttle engaged while this code was evaluated: refused
			// unrevealed, after the work a wrong code does (the search
			// outside the window), so that the refusal takes as long.
			if !accept.resynced {
				s.pass(true)
			}
			return Result{}, tf.throttled(ctx, account, ScopeCode, tf.c.Throttle.Codes, st, now)
		}
		// A concurrent verification consumed this step first.
		replayed = accept.dev.ID
	}

	// The attached Factors' codes, unless the code replayed a device's:
	// trying it would count a wrong try against each live out-of-band
	// code, and a replayed code is no sign-in. They are tried before the
	// attempt is counted: each live out-of-band code bounds its own
	// guesses (its wrong tries are counted in the same store step that
	// checks it), so a right one is consumed in one write and settles
	// nothing, and a wrong one is counted below like any other.
	if replayed == "" {
		for _, f := range factors {
			id, err := f.VerifyCode(ctx, account, code)
			switch {
			case err == nil:
				// As an accepted device code does, a right one ends the
				// back-off (the budget is left as it is).
				if pre.Failures > 0 || !pre.Until.IsZero() {
					tf.settle(ctx, func(ctx context.Context) error {
						return tf.c.Store.ReleaseAttempt(ctx, account, ScopeCode, 0, true)
					})
				}
				return Result{Factor: f.Kind(), FactorID: id}, nil
			case errors.Is(err, ErrReplayed):
				return Result{}, ErrReplayed
			case !errors.Is(err, ErrInvalidCode):
				return Result{}, fmt.Errorf("twofa: verify: %w", err)
			}
		}
	}

	// No code was accepted: the attempt is counted as a failure before
	// anything more about it is revealed or recorded (a replay, a
	// resynchronisation), and it is refused unrevealed when the throttle
	// is engaged.
	reserved, err := tf.reserve(ctx, account, ScopeCode, tf.c.Throttle.Codes, now)
	if err != nil {
		return Result{}, err
	}
	// A replayed code gives its place in the budget back: only a code
	// that matched nothing counts against it.
	if replayed != "" {
		defer tf.settle(ctx, func(ctx context.Context) error {
			refund := tf.c.Throttle.Codes.refund(now, tf.c.Clock.Now())
			return tf.c.Store.ReleaseAttempt(ctx, account, ScopeCode, refund, false)
		})
	}
	if replayed != "" {
		tf.c.Events.emit(ctx, Event{Type: EventReplayed, Account: account, DeviceID: replayed, Time: now})
		return Result{}, ErrReplayed
	}
	if len(resyncs) == 0 && s.searched != nil && tf.c.Codes.MaxDrift > 0 {
		// A code of no drifted step writes the same as one that is: the
		// first device searched for drift, its resync state as it was
		// (and, under the same key, its MAC). Otherwise the time of the
		// refusal would tell a guesser which wrong guesses are codes of
		// the device's steps to come, valid in a minute or two.
		d := s.searched
		resyncs = append(resyncs, outcome{kind: outResync, dev: d, step: d.ResyncStep, drift: d.ResyncDrift})
	}
	for _, o := range resyncs {
		mac, err := tf.c.resyncMAC(ctx, o.dev, o.step, o.drift)
		if err != nil {
			return Result{}, fmt.Errorf("twofa: verify: %w", err)
		}
		// A device changed meanwhile keeps its state: the code is refused
		// either way.
		if _, err := tf.c.Store.SetResync(ctx, account, o.dev.ID, o.step, o.drift, o.dev.MAC, mac); err != nil {
			return Result{}, fmt.Errorf("twofa: verify: %w", err)
		}
	}
	if s.firstErr != nil {
		return Result{}, fmt.Errorf("twofa: verify: %w", s.firstErr)
	}
	tf.failed(ctx, account, ScopeCode, tf.c.Throttle.Codes, reserved, now)
	return Result{}, ErrInvalidCode
}

// search is Verify's search of an account's devices for a code.
type search struct {
	tf     *TwoFA
	devs   []Device    // confirmed
	first  int         // the most recently used of devs, tried first
	gens   []deviceGen // devs[i]'s generator, prepared when first needed
	code   string
	digits int
	now    time.Time

	accept   outcome // when accepted
	accepted bool
	replayed string // the device whose used code was submitted
	resyncs  []outcome
	searched *Device // the first device searched for drift (TOTP)
	firstErr error   // the first secret that did not open
}

// pass tries each device whose codes have the digits: without resync in
// its window, stopping at the first that accepts; with resync outside it
// (see check), on the generators the first pass prepared.
func (s *search) pass(resync bool) {
	for k := range s.devs {
		// devs[first], then the others in the store's order.
		i := k - 1
		switch {
		case k == 0:
			i = s.first
		case k <= s.first:
		default:
			i = k
		}
		d, g := &s.devs[i], &s.gens[i]
		if d.Digits != s.digits {
			continue
		}
		switch g.state {
		case genFailed:
			continue
		case genEmpty:
			if resync {
				continue // the first pass stopped before it
			}
			if err := s.tf.c.prepare(g, d); err != nil {
				s.firstErr = cmp.Or(s.firstErr, err)
				continue
			}
		}
		if resync && g.totp != nil && s.searched == nil {
			s.searched = d
		}
		switch o := s.tf.check(d, g, s.code, s.now, resync); o.kind {
		case outAccept:
			if !s.accepted {
				s.accept, s.accepted = o, true
			}
		case outReplay:
			if s.replayed == "" {
				s.replayed = d.ID
			}
		case outResync:
			s.resyncs = append(s.resyncs, o)
		}
		if s.accepted && !resync {
			return
		}
	}
}

// failed reports an evaluated failure whose reservation left st: an
// EventFailed, and an EventGuessing when it spent half or all of the
// policy's budget.
func (tf *TwoFA) failed(ctx context.Context, account, scope string, p ThrottlePolicy, st ThrottleState, now time.Time) {
	tf.c.Events.emit(ctx, Event{Type: EventFailed, Account: account, Time: now, Scope: scope, Failures: st.Failures})
	if p.Budget > 0 {
		if left := p.budgetLeft(st, now); left == 0 || left == p.Budget/2 {
			tf.c.Events.emit(ctx, Event{Type: EventGuessing, Account: account, Time: now, Scope: scope, Failures: st.Failures, Remaining: left})
		}
	}
}

// settleTimeout bounds a store write that the request may not cut short
// (see durable and settle).
const settleTimeout = 5 * time.Second

// durable returns a context for a write that consumes a factor: the
// request cannot cancel it (a write interrupted after it took effect would
// report an error for a spent code), settleTimeout bounds it, and it keeps
// ctx's values.
func durable(ctx context.Context) *durableCtx {
	return &durableCtx{parent: ctx, deadline: monoBase.Add(time.Since(monoBase) + settleTimeout)}
}

// monoBase anchors the durable contexts' deadlines. time.Since and
// time.Until of a time that carries a monotonic reading read the monotonic
// clock only, for about half the cost of time.Now, and a durable context
// reads a clock when it is made and at every Err, which a store calls
// before each operation.
var monoBase = time.Now()

// durableCtx is what context.WithTimeout(context.WithoutCancel(ctx),
// settleTimeout) returns, except that the channel Done returns, and the
// timer that closes it at the deadline, are made only when a store first
// asks for Done (and the view of ctx's values without its cancellation
// when it first asks for a value): a store that never does (memstore)
// pays for none of them, and
// one that does (database/sql, pgx) is bounded by the same deadline, which
// Deadline reports from the start and Err enforces whether or not Done was
// asked for.
type durableCtx struct {
	parent context.Context // read only through values: its cancellation is never seen
	// deadline is compared by its monotonic reading only: its wall
	// reading is monoBase's, moved on by the monotonic clock.
	deadline time.Time

	mu     sync.Mutex
	values context.Context // context.WithoutCancel(parent), made by the first Value
	done   chan struct{}   // made by the first Done
	timer  *time.Timer
	err    error
}

// Deadline reports the deadline against a fresh reading of the wall
// clock, so that it is right even if that clock was set since monoBase
// was read.
func (c *durableCtx) Deadline() (time.Time, bool) {
	return time.Now().Add(time.Until(c.deadline)), true
}

func (c *durableCtx) Value(key any) any {
	c.mu.Lock()
	if c.values == nil {
		c.values = context.WithoutCancel(c.parent)
	}
	v := c.values
	c.mu.Unlock()
	return v.Value(key)
}

func (c *durableCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.err != nil {
			close(c.done)
		} else if d := time.Until(c.deadline); d <= 0 {
			c.endLocked(context.DeadlineExceeded)
		} else {
			c.timer = time.AfterFunc(d, func() { c.end(context.DeadlineExceeded) })
		}
	}
	return c.done
}

func (c *durableCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil && time.Until(c.deadline) <= 0 {
		c.endLocked(context.DeadlineExceeded)
	}
	return c.err
}

func (c *durableCtx) String() string { return "twofa.durable" }

// cancel ends c, releasing its timer, if any: call it once the write is done.
func (c *durableCtx) cancel() { c.end(context.Canceled) }

func (c *durableCtx) end(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.endLocked(err)
}

// endLocked ends c with err, once: Done's channel (if made) is closed, and
// Err returns err from then on.
func (c *durableCtx) endLocked(err error) {
	if c.err != nil {
		return
	}
	c.err = err
	if c.timer != nil {
		c.timer.Stop()
	}
	if c.done != nil {
		close(c.done)
	}
}

// settle runs the bookkeeping that follows an evaluated attempt (releasing
// its throttle reservation, recording a phone's use). Once a code is
// consumed the verification has succeeded, and it is reported so even when
// the request's context has ended or the bookkeeping fails: settle runs
// under a durable context and its error does not reach the caller. Should
// it fail, the cost is bounded: a back-off left in place until the next
// success clears it, and one place of the budget taken for Refill.
func (tf *TwoFA) settle(ctx context.Context, f func(context.Context) error) {
	dctx := durable(ctx)
	defer dctx.cancel()
	_ = f(dctx)
}

// reserve counts an attempt in scope, returning the state it left, or
// refuses it with a ThrottledError.
func (tf *TwoFA) reserve(ctx context.Context, account, scope string, p ThrottlePolicy, now time.Time) (ThrottleState, error) {
	st, ok, err := tf.c.Store.ReserveAttempt(ctx, account, scope, now, p)
	if err != nil {
		return st, fmt.Errorf("twofa: verify: %w", err)
	}
	if ok {
		return st, nil
	}
	return st, tf.throttled(ctx, account, scope, p, st, now)
}

// throttled reports an attempt that p refused on state st: an
// EventThrottled, and the ThrottledError to return.
func (tf *TwoFA) throttled(ctx context.Context, account, scope string, p ThrottlePolicy, st ThrottleState, now time.Time) error {
	e := &ThrottledError{RetryAfter: p.retryAfter(st, now), BudgetSpent: p.budgetSpent(st, now)}
	e.Until = now.Add(e.RetryAfter)
	tf.c.Events.emit(ctx, Event{Type: EventThrottled, Account: account, Time: now, Scope: scope, RetryAfter: e.RetryAfter, Failures: st.Failures})
	return e
}

// ResetThrottle clears the account's throttles (codes, recovery codes and
// app passwords), budgets included, for a support agent who has verified
// the owner another way.
func (tf *TwoFA) ResetThrottle(ctx context.Context, account string) error {
	if err := validAccount(account); err != nil {
		return err
	}
	for _, scope := range []string{ScopeCode, ScopeRecovery, ScopeAppPassword} {
		if err := tf.c.Store.ResetThrottle(ctx, account, scope); err != nil {
			return fmt.Errorf("twofa: reset throttle: %w", err)
		}
	}
	return nil
}

type outcomeKind uint8

const (
	outMiss outcomeKind = iota
	outAccept
	outReplay
	outResync
)

type outcome struct {
	kind     outcomeKind
	dev      *Device // in the search's devs
	step     uint64
	drift    int64
	resynced bool
}

// resyncSpan bounds, in steps, how far apart the two codes of a drift
// resynchronisation may be: the second must follow within 5 minutes at
// 30 s steps, as RFC 4226 Section 7.4 asks for consecutive values.
const resyncSpan = 10

// check evaluates code against one device without changing anything.
//
// Without resync it looks in the device's window (accept, or replay);
// with resync only outside it, within MaxDrift of now - Verify asks for
// that only when no device's window matched, so the common success pays
// for one window per device.
func (tf *TwoFA) check(d *Device, g *deviceGen, code string, now time.Time, resync bool) outcome {
	if g.hotp != nil {
		if resync {
			return outcome{}
		}
		first, last := hotpWindow(d.Counter, uint64(tf.c.Codes.LookAhead))
		if m, err := g.hotp.VerifyRange(code, first, last); err == nil {
			return outcome{kind: outAccept, dev: d, step: m}
		}
		if d.Counter > 0 {
			back := min(d.Counter, uint64(tf.c.Codes.LookAhead)+1)
			if _, err := g.hotp.VerifyRange(code, d.Counter-back, d.Counter-1); err == nil {
				return outcome{kind: outReplay, dev: d}
			}
		}
		return outcome{}
	}

	n, err := g.totp.Step(now)
	if err != nil {
		return outcome{} // before T0: nothing can match
	}
	maxDrift := int64(tf.c.Codes.MaxDrift)
	centre := addSteps(n, clampDrift(d.Drift, maxDrift))
	lo, hi := window(centre, uint64(tf.c.Codes.Skew), uint64(tf.c.Codes.Skew))
	hi = min(hi, ^uint64(0)-1)
	if !resync && hi >= d.Counter {
		if m, err := g.totp.verifyNearest(code, centre, max(lo, d.Counter), hi); err == nil {
			return outcome{kind: outAccept, dev: d, step: m, drift: clampDrift(offset(m, n), maxDrift)}
		}
	}
	if !resync && lo < d.Counter {
		if _, err := g.totp.VerifyRange(code, lo, min(hi, d.Counter-1)); err == nil {
			return outcome{kind: outReplay, dev: d}
		}
	}
	if !resync || maxDrift == 0 {
		return outcome{}
	}
	// Outside the window: look for a drifted clock within MaxDrift of now.
	// Every step of the drift ranges is computed, whatever the device's
	// counter and wherever the code matches, so that a refused code costs
	// the same HMACs whether the device was used a minute ago or not and
	// whether the code is one of a drifted step or of none: the time a
	// refusal takes must not tell a guesser that a guess is the code of a
	// step to come (Verify makes the write that follows constant too).
	rlo, rhi := window(n, uint64(maxDrift), uint64(maxDrift))
	rhi = min(rhi, ^uint64(0)-1)
	var ranges [2][2]uint64
	nr := 0
	if lo > rlo {
		ranges[nr] = [2]uint64{rlo, lo - 1}
		nr++
	}
	if rhi > hi {
		ranges[nr] = [2]uint64{hi + 1, rhi}
		nr++
	}
	var found outcome
	for _, r := range ranges[:nr] {
		m, err := g.totp.VerifyRange(code, r[0], r[1])
		for err == nil && m < d.Counter && m < r[1] {
			// A used step tells nothing of the clock: look on past it.
			m, err = g.totp.VerifyRange(code, m+1, r[1])
		}
		if err == nil && m < r[1] {
			_, _ = g.totp.VerifyRange(code, m+1, r[1]) // the rest of the range, for its cost
		}
		if err != nil || m < d.Counter || found.kind != outMiss {
			continue
		}
		off := offset(m, n)
		if d.ResyncStep != 0 && m > d.ResyncStep && m-d.ResyncStep <= resyncSpan && absDiff(off, d.ResyncDrift) <= 1 {
			found = outcome{kind: outAccept, dev: d, step: m, drift: off, resynced: true}
		} else {
			found = outcome{kind: outResync, dev: d, step: m, drift: off}
		}
	}
	return found
}

func hotpWindow(counter, lookAhead uint64) (uint64, uint64) {
	first, last := window(counter, 0, lookAhead)
	return first, min(last, ^uint64(0)-1)
}

// addSteps returns n+d clamped to [0, 2^64-1].
func addSteps(n uint64, d int64) uint64 {
	if d < 0 {
		if uint64(-d) > n {
			return 0
		}
		return n - uint64(-d)
	}
	if ^uint64(0)-n < uint64(d) {
		return ^uint64(0)
	}
	return n + uint64(d)
}

// offset returns m-n for steps a window apart.
func offset(m, n uint64) int64 {
	if m >= n {
		return int64(m - n)
	}
	return -int64(n - m)
}

func clampDrift(d, bound int64) int64 { return max(-bound, min(bound, d)) }

func absDiff(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}

// sealBinding is what a device's sealed secret is bound to, besides the
// account: its id and the parameters its codes depend on. Someone who can
// write to the store but holds no key cannot move a secret to another
// device, nor turn a device's period to a day or its digits to fewer (the
// secret then fails to open); the counter and drift cannot be bound, as
// they change with every code.
//
// The form is "<id>/<type>/<algorithm>/<digits>/<period in seconds>", as
// every sealed secret in a store was bound; it is built without fmt, in
// one allocation, since Verify builds it for every device it checks.
func (d *Device) sealBinding() string {
	var buf [128]byte
	b := append(buf[:0], d.ID...)
	b = append(b, '/')
	b = append(b, d.Type.String()...)
	b = append(b, '/')
	b = append(b, d.Algorithm.String()...)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(d.Digits), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(d.Period/time.Second), 10)
	return string(b)
}

// deviceGen is a device's prepared generator, with the buffer its secret
// is opened into: prepare fills it in place, so that preparing a device
// allocates nothing, and wipe clears its key schedule.
type deviceGen struct {
	totp  *TOTP // the one of t and h in use
	hotp  *HOTP
	state genState
	t     TOTP
	h     HOTP
	key   [MaxSecretSize]byte
}

type genState uint8

const (
	genEmpty  genState = iota // not prepared
	genReady                  // totp or hotp set
	genFailed                 // the secret did not open
)

// wipe clears g's key schedule and state: the generator in use, or all of
// g if none is (a secret that did not open leaves nothing, but wiping the
// rare failure whole costs nothing worth saving).
func (g *deviceGen) wipe() {
	switch {
	case g.totp != nil:
		g.t = TOTP{}
	case g.hotp != nil:
		g.h = HOTP{}
	default:
		*g = deviceGen{}
		return
	}
	clear(g.key[:])
	g.totp, g.hotp, g.state = nil, nil, genEmpty
}

// generator opens a device's sealed secret and prepares a generator for
// it; the caller wipes it after use.
func (c *Config) generator(d Device) (*deviceGen, error) {
	g := new(deviceGen)
	if err := c.prepare(g, &d); err != nil {
		return nil, err
	}
	return g, nil
}

// prepare opens d's sealed secret into g and computes the key schedule;
// the opened secret is cleared as soon as the schedule is computed. On
// error g is marked failed.
func (c *Config) prepare(g *deviceGen, d *Device) error {
	o := Options{Algorithm: d.Algorithm, Digits: d.Digits}
	var err error
	if d.Type == TypeHOTP {
		if err = c.openInto(d, &g.key, func(key []byte) error { return g.h.init(key, o) }); err == nil {
			g.hotp, g.state = &g.h, genReady
			return nil
		}
	} else {
		o.Period = d.Period
		if err = c.openInto(d, &g.key, func(key []byte) error { return g.t.init(key, o) }); err == nil {
			g.totp, g.state = &g.t, genReady
			return nil
		}
	}
	g.state = genFailed
	return fmt.Errorf("device %s: %w", idForError(d.ID), err)
}

// openInto opens d's sealed secret into buf, hands the key to prepare and
// clears it, and buf, once prepare returns.
func (c *Config) openInto(d *Device, buf *[MaxSecretSize]byte, prepare func(key []byte) error) error {
	key, err := openKey(c.Keyring, buf, d.Account, d.sealBinding(), d.Sealed)
	if err != nil {
		return err
	}
	err = prepare(key)
	clear(key)
	clear(buf[:])
	return err
}

// genPool holds Verify's generators between verifications, wiped: buffers,
// never a key schedule (nothing of a secret outlives the verification
// that opened it).
type genPool struct{ p sync.Pool }

// gens is a set of generators from a genPool.
type gens struct{ g []deviceGen }

// maxPooledGens bounds the generators a pooled set keeps: an account with
// more devices is served by a set made for it, dropped after use.
const maxPooledGens = 8

func (p *genPool) get(n int) *gens {
	if n > maxPooledGens {
		return &gens{g: make([]deviceGen, n)}
	}
	if s, ok := p.p.Get().(*gens); ok && cap(s.g) >= n {
		s.g = s.g[:n]
		return s
	}
	return &gens{g: make([]deviceGen, n, maxPooledGens)}
}

// put wipes every generator of s and keeps s for a later verification.
func (p *genPool) put(s *gens) {
	for i := range s.g {
		if s.g[i].state != genEmpty {
			s.g[i].wipe()
		}
	}
	if cap(s.g) <= maxPooledGens {
		s.g = s.g[:0]
		p.p.Put(s)
	}
}

// window checks a confirmation code: TOTP within skew of now, HOTP within
// lookAhead of counter; it returns the matched step or counter and, for
// TOTP, the clock offset.
func (g *deviceGen) window(code string, now time.Time, counter uint64, skew, lookAhead int) (uint64, int64, error) {
	if g.hotp != nil {
		first, last := hotpWindow(counter, uint64(lookAhead))
		m, err := g.hotp.VerifyRange(code, first, last)
		return m, 0, err
	}
	n, err := g.totp.Step(now)
	if err != nil {
		return 0, 0, ErrInvalidCode
	}
	first, last := window(n, uint64(skew), uint64(skew))
	m, err := g.totp.VerifyRange(code, max(first, counter), min(last, ^uint64(0)-1))
	if err != nil {
		return 0, 0, err
	}
	return m, offset(m, n), nil
}

// codeDigits returns how many digits a typed one-time code has, or 0 if it
// is not one. It reads codes as otp.ParseCode does (the rule of package
// typed): at most otp.MaxCodeInput bytes, surrounding white space ignored,
// spaces and hyphens inside ignored, anything else but ASCII digits (a tab
// or a newline inside) refused.
func codeDigits(code string) int {
	code, ok := typed.Trim(code, otp.MaxCodeInput)
	if !ok {
		return 0
	}
	n := 0
	for i := 0; i < len(code); i++ {
		switch c := code[i]; {
		case c >= '0' && c <= '9':
			n++
		case typed.IsSeparator(c):
		default:
			return 0
		}
	}
	if n < MinDigits || n > MaxDigits {
		return 0
	}
	return n
}

func looksLikeCode(code string, digits int) bool { return codeDigits(code) == digits }

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
