package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
)

// The sign-in's second step: between a right password and a second
// factor the sign-in is pending, known by a random token in a cookie of
// its own. pendingSignIns has the shape of package signin's Manager
// (Begin, Finish, Cancel) so that the handlers switch to it by replacing
// this file; it keeps its records in memory, so a pending sign-in does
// not survive a restart (a person types the password again).

var (
	// errPendingNotFound: no such pending sign-in (unknown, finished,
	// cancelled, or expired): start over with the password.
	errPendingNotFound = errors.New("no such sign-in")
	// errPendingTooMany: the sign-in took pendingMaxAttempts wrong
	// factors and is void: start over with the password.
	errPendingTooMany = errors.New("too many wrong codes for this sign-in")
)

const (
	// pendingTTL is how long the second step waits: 5 minutes, long
	// enough to fetch a phone or wait for a text, short enough that a
	// stolen token is stale.
	pendingTTL = 5 * time.Minute
	// pendingMaxAttempts is how many wrong second factors one pending
	// sign-in takes before it is void; the installation's throttle still
	// counts every one of them against the account.
	pendingMaxAttempts = 5
)

type pendingRecord struct {
	account  string
	expires  time.Time
	attempts int
}

// pending is what begin returns: a token for the second step, or done
// when the account needs none (two-factor authentication is off, or the
// browser is trusted).
type pending struct {
	token string
	done  bool
}

// pendingSignIns keeps the pending sign-ins. It is safe for concurrent
// use.
type pendingSignIns struct {
	tf       *twofa.TwoFA
	browsers *browser.Manager
	clock    twofa.Clock

	mu sync.Mutex
	m  map[[32]byte]*pendingRecord
}

func newPendingSignIns(tf *twofa.TwoFA, b *browser.Manager) *pendingSignIns {
	return &pendingSignIns{tf: tf, browsers: b, clock: tf.Config().Clock, m: map[[32]byte]*pendingRecord{}}
}

// begin starts the second step for account, whose password was right.
// browserToken is the trusted-browser cookie's value, "" if none.
func (p *pendingSignIns) begin(ctx context.Context, account, browserToken string) (pending, error) {
	on, err := p.tf.Enabled(ctx, account)
	if err != nil {
		return pending{}, err
	}
	if !on {
		return pending{done: true}, nil
	}
	if browserToken != "" {
		_, err := p.browsers.Check(ctx, account, browserToken)
		if err == nil {
			return pending{done: true}, nil
		}
		if !errors.Is(err, browser.ErrNotTrusted) {
			return pending{}, err
		}
	}
	tok, d, err := newToken()
	if err != nil {
		return pending{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	for k, v := range p.m {
		if !now.Before(v.expires) {
			delete(p.m, k)
		}
	}
	p.m[d] = &pendingRecord{account: account, expires: now.Add(pendingTTL)}
	return pending{token: tok}, nil
}

// account returns the account of a pending sign-in, for the page that
// asks for its second factor (which offers to text a code to its phones).
func (p *pendingSignIns) account(token string) (string, error) {
	d := sha256.Sum256([]byte(token))
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.m[d]
	if !ok || !p.clock.Now().Before(r.expires) {
		delete(p.m, d)
		return "", errPendingNotFound
	}
	return r.account, nil
}

// finish completes the pending sign-in of token with a second factor -
// whatever tf.Verify accepts: a device's code, a recovery code, a code
// sent to a phone - exactly once. A wrong factor is tf.Verify's error
// (twofa.ErrInvalidCode, ErrReplayed, *twofa.ThrottledError...), and
// counts against the sign-in.
func (p *pendingSignIns) finish(ctx context.Context, token, code string) (string, twofa.Result, error) {
	account, err := p.account(token)
	if err != nil {
		return "", twofa.Result{}, err
	}
	res, verr := p.tf.Verify(ctx, account, code)
	d := sha256.Sum256([]byte(token))
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.m[d]
	if !ok {
		return "", twofa.Result{}, errPendingNotFound // finished or voided meanwhile
	}
	if verr != nil {
		if errors.Is(verr, twofa.ErrInvalidCode) || errors.Is(verr, twofa.ErrReplayed) {
			r.attempts++
			if r.attempts >= pendingMaxAttempts {
				delete(p.m, d)
				return "", twofa.Result{}, errPendingTooMany
			}
		}
		if errors.Is(verr, twofa.ErrNotEnrolled) {
			// Two-factor authentication went off meanwhile: the
			// password, which was right, is all the account asks for.
			delete(p.m, d)
			return account, twofa.Result{}, nil
		}
		return "", twofa.Result{}, verr
	}
	delete(p.m, d)
	return account, res, nil
}

// cancel ends a pending sign-in: the user backed out.
func (p *pendingSignIns) cancel(token string) {
	d := sha256.Sum256([]byte(token))
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, d)
}
