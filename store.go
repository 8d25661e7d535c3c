package twofa

import (
	"context"
	"time"
)

// The stores are the small interfaces twofa keeps its state through. Each
// method that must hold under concurrency (and across server replicas that
// share a database) is a single atomic operation of the store: a
// compare-and-set, a conditional increment, a conditional delete. Package
// memstore implements them in memory, package sqlstore on database/sql, and
// package storetest checks any implementation against these contracts.
//
// Stores keep sealed secrets and keyed digests only; they never see a
// plaintext secret, code or password. Every method takes a context and
// returns errors that wrap the cause; the sentinel errors below are the
// only ones callers interpret. Every method that names a missing record
// returns ErrNotFound.
//
// Times keep nanoseconds between the years 1678 and 2262 (the int64
// nanosecond range); the zero Time is kept distinct from every other.
// Counters keep the full uint64 range.

// DeviceState is where a device stands in its life.
type DeviceState uint8

// Device states.
const (
	// DevicePending: enrolled but not yet confirmed with a code; never
	// accepted for login; expires.
	DevicePending DeviceState = iota + 1
	// DeviceConfirmed: proven by a first valid code; counts for login.
	DeviceConfirmed
)

// String returns "pending" or "confirmed".
func (s DeviceState) String() string {
	switch s {
	case DevicePending:
		return "pending"
	case DeviceConfirmed:
		return "confirmed"
	}
	return "unknown"
}

// Device is the stored record of one authenticator enrolled to an account.
// Its secret is sealed by a Keyring; the record alone reveals nothing.
type Device struct {
	ID        string
	Account   string
	Label     string
	Type      Type
	Algorithm Algorithm
	Digits    int
	Period    time.Duration // TOTP: whole seconds
	Sealed    []byte        // the secret, sealed with the account, the ID and the code parameters as associated data
	State     DeviceState

	// Counter is the lowest HOTP counter, or TOTP time step, that may
	// still be accepted: one past the last accepted one. Anything below
	// it is a replay (RFC 4226 Section 7.2, RFC 6238 Section 5.2).
	Counter uint64
	// Drift is the TOTP clock offset, in steps, measured at the last
	// accepted code; it centres the next window.
	Drift int64
	// ResyncStep and ResyncDrift record a code that matched outside the
	// window but within the drift bound: the next code must confirm the
	// same offset at a later step before it is adopted. ResyncStep 0
	// means none.
	ResyncStep  uint64
	ResyncDrift int64
	// Attempts counts the codes evaluated while pending, the right one
	// included (see DeviceStore.ReserveDeviceAttempt).
	Attempts int

	CreatedAt   time.Time
	ExpiresAt   time.Time // pending devices only
	ConfirmedAt time.Time
	LastUsedAt  time.Time

	// MAC authenticates the device's security state (every field above
	// but the label, the sealed secret and the times of use), its id and
	// its account under the Keyring (see ErrTampered); empty on a device
	// stored before MACs, until TwoFA.Reseal gives it one. Stores keep
	// it as opaque bytes and compare it, as the record's version, in the
	// compare-and-set steps below: each of them changes the device only
	// if its MAC still equals old, and stores mac with the new state in
	// the same step.
	MAC []byte
}

// DeviceStore keeps devices.
type DeviceStore interface {
	// InsertDevice adds d (ID unique within the account, else
	// ErrDuplicate; a store may enforce it globally) unless the
	// account already has limit devices that count: confirmed ones and
	// pending ones with ExpiresAt after now (ErrLimitReached). Pending
	// devices of the account that expired at or before now are deleted in
	// the same operation. The count and the insert are one atomic step; a
	// refused insert changes nothing. A pending device always has a
	// non-zero ExpiresAt.
	InsertDevice(ctx context.Context, d Device, limit int, now time.Time) error
	// Device returns one device of the account, or ErrNotFound.
	Device(ctx context.Context, account, id string) (Device, error)
	// Devices returns every device of the account, pending ones included,
	// oldest first (by CreatedAt; ties in insertion order).
	Devices(ctx context.Context, account string) ([]Device, error)
	// ConfirmDevice turns a pending device confirmed, sets its Counter to
	// counter (not counter+1: the caller passes the next acceptable value),
	// Drift, ConfirmedAt, LastUsedAt and MAC, and clears ExpiresAt -
	// atomically and only if it is still pending, its MAC equals old,
	// ExpiresAt is after at and Attempts is at most maxAttempts (the code being confirmed holds one of the
	// maxAttempts reservations of ReserveDeviceAttempt). It reports false
	// (no error) when the device is no longer pending, has expired or is
	// over maxAttempts, ErrNotFound when it does not exist.
	ConfirmDevice(ctx context.Context, account, id string, counter uint64, drift int64, at time.Time, maxAttempts int, old, mac []byte) (bool, error)
	// AcceptCode consumes an accepted code in one atomic step, the
	// throttle and the replay guard together. It checks, in this order:
	//
	//  1. The throttle of the account in scope: if p refuses an attempt at
	//     at, exactly as p.Reserve would on the stored state (the back-off
	//     runs: Failures > p.Free and at before Until; or the budget is
	//     spent), it changes nothing and reports (the state, false). The
	//     throttle comes first so that a refused attempt learns nothing
	//     about the code: not whether it was replayed, nor whether the
	//     device exists.
	//  2. The replay guard: if the device is confirmed, its MAC equals
	//     old and counter >= its Counter, it sets Counter to counter+1,
	//     Drift to drift, LastUsedAt to at, MAC to mac, clears the resync
	//     record, clears the
	//     throttle's Failures and Until (as ReleaseAttempt after a success
	//     does; Forgiven is left as it is, since an accepted code neither
	//     takes nor gives budget) and reports (the throttle's state after,
	//     true); otherwise (a replay, a concurrent verification that
	//     consumed the code first, a device not confirmed) it changes
	//     nothing and reports (the state, false).
	//
	// The caller tells the two refusals apart by the state: p.Reserve(state,
	// at) refuses a throttled one. Of N concurrent calls with one counter
	// and one old on a device whose Counter is at most counter, and a
	// throttle that permits them, exactly one reports true. counter is below 2^64-1. ErrNotFound when the
	// throttle permits and the device does not exist; nothing changes.
	AcceptCode(ctx context.Context, account, id string, counter uint64, drift int64, at time.Time, scope string, p ThrottlePolicy, old, mac []byte) (ThrottleState, bool, error)
	// SetResync records a tolerated out-of-window match (see
	// Device.ResyncStep) and sets MAC to mac, if the device's MAC equals
	// old, and reports whether it did. ErrNotFound when the device does
	// not exist.
	SetResync(ctx context.Context, account, id string, step uint64, drift int64, old, mac []byte) (bool, error)
	// ReserveDeviceAttempt counts a confirmation attempt against a
	// pending device before its code is evaluated, so that concurrent
	// guesses cannot outrun the limit: atomically, if the device is
	// pending, its MAC equals old and its Attempts is below limit, it
	// increments Attempts, sets MAC to mac and reports (the new count,
	// true); otherwise it changes nothing and reports (the current count,
	// false). Of N concurrent calls with one old on a pending device with
	// Attempts 0 and a MAC that stays old (the empty MAC of a store's
	// own tests), exactly min(N, limit) report true; with MACs that
	// change, exactly one (twofa reads the device again and retries).
	// Expiry is not checked (ConfirmDevice checks it). ErrNotFound when
	// the device does not exist.
	ReserveDeviceAttempt(ctx context.Context, account, id string, limit int, old, mac []byte) (attempts int, ok bool, err error)
	// RenameDevice sets a device's label.
	RenameDevice(ctx context.Context, account, id, label string) error
	// UpdateSealed replaces a device's sealed secret if it still equals
	// old (key rotation); it reports whether it did.
	UpdateSealed(ctx context.Context, account, id string, old, sealed []byte) (bool, error)
	// UpdateDeviceMAC replaces a device's MAC if it still equals old (key
	// rotation, and the upgrade of a device stored before MACs); it
	// reports whether it did. ErrNotFound when the device does not exist.
	UpdateDeviceMAC(ctx context.Context, account, id string, old, mac []byte) (bool, error)
	// DeleteDevice removes a device and returns it as it was when it was
	// removed (its State in particular) and how many confirmed devices the
	// account has left, in one atomic step. ErrNotFound when it did not
	// exist.
	DeleteDevice(ctx context.Context, account, id string) (deleted Device, confirmedLeft int, err error)
	// DeletePendingDevice removes a device only if it is still pending
	// (a discarded enrolment), atomically, and reports whether it did;
	// a confirmed device is left alone (false). ErrNotFound when it does
	// not exist.
	DeletePendingDevice(ctx context.Context, account, id string) (bool, error)
	// DeleteExpiredDevices removes every pending device whose ExpiresAt is
	// at or before now, across accounts, and returns how many it removed.
	DeleteExpiredDevices(ctx context.Context, now time.Time) (int, error)
	// DevicesAfter pages through every device of every account, pending
	// ones included: it returns up to limit (at least 1) devices ordered by
	// account, then ID, both compared byte by byte, that come strictly
	// after (account, id) in that order; ("", "") starts at the beginning,
	// and (account, "") at the account's first device. Fewer than limit
	// devices (none included) means the end. Each page is read on its own:
	// a device inserted or deleted between pages may or may not be seen,
	// but every device that exists throughout is returned exactly once.
	// A store keeps an index for it, so that a page costs no more than its
	// size, whatever the number of devices.
	DevicesAfter(ctx context.Context, account, id string, limit int) ([]Device, error)
}

// ThrottleState is one account's throttle in one scope.
type ThrottleState struct {
	// Failures counts consecutive attempts not followed by a success.
	Failures int
	// Until is when the back-off ends; it holds only while Failures is
	// past the policy's Free.
	Until time.Time
	// Forgiven is when every failure counted against the policy's budget
	// will have been forgiven (zero: none counted). Each counted attempt
	// moves it Refill past the later of itself and now.
	Forgiven time.Time
}

// ThrottleStore keeps per-account failure counters, one per scope (codes,
// recovery codes, app passwords...).
type ThrottleStore interface {
	// ReserveAttempt is the throttle's one atomic step, exactly as
	// p.Reserve computes it on the stored state: if the back-off runs
	// (Failures > p.Free and now before Until) or the budget is spent
	// (p.Budget > 0 and Forgiven after now + (p.Budget-1)·p.Refill), it
	// changes nothing and reports (state, false). Otherwise it increments
	// Failures, sets Until to now + p.Delay(Failures), moves Forgiven to
	// max(Forgiven, now) + p.Refill when p has a budget, and reports (new
	// state, true). An attempt is counted as a failure before it is
	// evaluated, so concurrent guesses cannot slip through together; a
	// success calls ReleaseAttempt.
	ReserveAttempt(ctx context.Context, account, scope string, now time.Time, p ThrottlePolicy) (ThrottleState, bool, error)
	// ReleaseAttempt hands back what a reservation took, atomically and
	// exactly as ThrottleState.Released computes it: Forgiven moves back by
	// refund (at most the policy's Refill; unless Forgiven is zero), and
	// after a success (success set) Failures and Until are cleared. A
	// state left with nothing in it may be dropped. It changes nothing when
	// the account has no state in scope.
	ReleaseAttempt(ctx context.Context, account, scope string, refund time.Duration, success bool) error
	// ResetThrottle clears the account's state in scope, budget included.
	ResetThrottle(ctx context.Context, account, scope string) error
	// Throttle returns the account's state in scope (zero if none).
	Throttle(ctx context.Context, account, scope string) (ThrottleState, error)
	// DeleteIdleThrottles removes, across accounts and scopes, every state
	// that holds nothing any more at now, and returns how many it removed:
	// Failures 0 (no failure since the last success or reset), Until and
	// Forgiven at or before now (no back-off running, the budget whole
	// again). Such a state acts exactly as no state, under any policy, so
	// removing it never gives an attempt that keeping it would refuse.
	// A state with Failures above 0 stays, however old: Failures decides
	// the next back-off delay and only a success or a reset clears it, so
	// removing it would hand out the free failures and the short delays
	// again. Each removal is conditional, so a state counted meanwhile
	// stays.
	DeleteIdleThrottles(ctx context.Context, now time.Time) (int, error)
}

// RecoveryStore keeps the keyed digests of recovery codes.
type RecoveryStore interface {
	// ReplaceRecoveryCodes atomically voids every code of the account and
	// stores the new digests, which are distinct. On error nothing changes.
	ReplaceRecoveryCodes(ctx context.Context, account string, digests [][]byte, at time.Time) error
	// ConsumeRecoveryCode atomically removes the unused code with this
	// digest and reports whether there was one and how many unused codes
	// the account has left; of concurrent calls with one digest exactly
	// one reports true. Consuming and counting are one operation, so that
	// a code is never consumed without its success being reported.
	ConsumeRecoveryCode(ctx context.Context, account string, digest []byte, at time.Time) (left int, ok bool, err error)
	// RecoveryCodesLeft returns how many unused codes the account has.
	RecoveryCodesLeft(ctx context.Context, account string) (int, error)
	// DeleteRecoveryCodes voids every code of the account.
	DeleteRecoveryCodes(ctx context.Context, account string) error
}

// AppPassword is the stored record of one app-specific password: its keyed
// digest, never the password.
type AppPassword struct {
	ID         string
	Account    string
	Label      string
	Digest     []byte // Keyring.Digest(PurposeAppPassword, account, normalised password)
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// AppPasswordStore keeps app-specific passwords as keyed digests.
type AppPasswordStore interface {
	// InsertAppPassword adds p unless the account already has limit app
	// passwords (ErrLimitReached) or one with the same Label, ID or Digest
	// (ErrDuplicate). The count, the checks and the insert are one atomic
	// step; a refused insert changes nothing.
	InsertAppPassword(ctx context.Context, p AppPassword, limit int) error
	// AppPasswordByDigest returns the account's app password with this
	// digest, or ErrNotFound: one lookup in a unique index, whatever the
	// number of passwords.
	AppPasswordByDigest(ctx context.Context, account string, digest []byte) (AppPassword, error)
	// AppPasswords returns the account's app passwords, oldest first (by
	// CreatedAt; ties in insertion order).
	AppPasswords(ctx context.Context, account string) ([]AppPassword, error)
	// HasAppPasswords reports whether the account has an app password:
	// one indexed probe that stops at the first, whatever their number
	// (a refused password asks it, see AppPasswords.Verify).
	HasAppPasswords(ctx context.Context, account string) (bool, error)
	// TouchAppPassword sets LastUsedAt to at unless it is already at or
	// after at (it never moves back).
	TouchAppPassword(ctx context.Context, account, id string, at time.Time) error
	// DeleteAppPassword removes one app password.
	DeleteAppPassword(ctx context.Context, account, id string) error
	// DeleteAppPasswords removes every app password of the account and
	// returns how many there were.
	DeleteAppPasswords(ctx context.Context, account string) (int, error)
}

// LockStore keeps the leases of the per-account lifecycle lock, which
// serialises the changes that turn two-factor authentication on or off
// across replicas (see lifecycle.go). It is optional: an installation
// whose store does not implement it serialises those changes within its
// process only. memstore and sqlstore implement it.
type LockStore interface {
	// AcquireLock gives the account's lease to holder until until, if
	// nobody holds it, holder holds it already, or the lease ended at or
	// before now, and reports whether holder holds it now - one atomic
	// step; of concurrent calls by different holders at most one reports
	// true while the lease lasts.
	AcquireLock(ctx context.Context, account, holder string, now, until time.Time) (bool, error)
	// ReleaseLock ends holder's lease on the account, if holder holds it;
	// otherwise it changes nothing.
	ReleaseLock(ctx context.Context, account, holder string) error
}

// Store is every store interface in one, as memstore and sqlstore provide.
type Store interface {
	DeviceStore
	ThrottleStore
	RecoveryStore
	AppPasswordStore
}
