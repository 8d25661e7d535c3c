package twofa

import (
	"context"
	"sync"
	"sync/atomic"
)

// Dependent is something an installation issues on the strength of a
// second factor, kept by a package outside twofa, that must end with it:
// package browser's trusted browsers, which skip the second factor, are
// one. The package attaches it (TwoFA.Attach) when it is built on the
// installation, and the installation calls RevokeAll:
//
//   - when two-factor authentication turns off for the account - the last
//     confirmed device revoked (Devices.Revoke), or with
//     Config.Phones.OutOfBand the last trusted phone number removed
//     (Phones.Remove) - after the recovery codes are voided and the app
//     passwords revoked; the first error stops it and is returned;
//   - on TwoFA.PasswordChanged, after the app passwords are revoked; its
//     error is joined with the others.
//
// A Dependent that also has a method Purge(context.Context) (int, error),
// which deletes its expired records across accounts, is purged by
// TwoFA.Purge; package browser's Manager has one.
//
// Dependents are called in the order they were attached. RevokeAll
// reports its own event (package browser emits EventBrowsersRevoked);
// twofa adds none. This is how the root stays free of what depends on
// it: twofa never imports the package that implements a Dependent.
type Dependent interface {
	// RevokeAll ends everything the account holds of this dependent and
	// reports how many.
	RevokeAll(ctx context.Context, account string) (int, error)
}

// Attach makes d a dependent of the installation: from now on turning
// two-factor authentication off and PasswordChanged call d.RevokeAll (see
// Dependent). Package browser's New calls it. An installation with trusted
// browsers must attach them in every process that can turn two-factor
// authentication off or change a password, or those paths leave the
// browsers trusted. Attach is safe for concurrent use, also with the calls
// that run the dependents.
func (tf *TwoFA) Attach(d Dependent) {
	tf.c.deps.attach(d)
}

// dependents is the installation's list of Dependents, copied on write so
// that the paths reading it take no lock.
type dependents struct {
	mu   sync.Mutex // serialises attach
	deps atomic.Pointer[[]Dependent]
}

func (ds *dependents) attach(d Dependent) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	var next []Dependent
	if old := ds.deps.Load(); old != nil {
		next = append(next, *old...)
	}
	next = append(next, d)
	ds.deps.Store(&next)
}

// list returns the dependents, in attach order; none for a nil ds (a
// Config New did not make).
func (ds *dependents) list() []Dependent {
	if ds == nil {
		return nil
	}
	if l := ds.deps.Load(); l != nil {
		return *l
	}
	return nil
}
