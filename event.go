package twofa

import (
	"context"
	"time"
)

// EventType names what happened, in a stable snake_case name for audit
// logs ("verified"). Packages that attach to an installation name their
// own (package browser's "browser_trusted", package phone's "code_sent").
type EventType string

// Event types.
const (
	EventEnrolled               EventType = "enrolled"                 // a device was enrolled (pending)
	EventConfirmed              EventType = "confirmed"                // a pending device was confirmed with its first code
	EventEnrollmentFailed       EventType = "enrollment_failed"        // a wrong code was given to confirm a pending device
	EventVerified               EventType = "verified"                 // a code was accepted for login
	EventFailed                 EventType = "failed"                   // a code was refused (wrong, or for no device)
	EventReplayed               EventType = "replayed"                 // a code already used was submitted again
	EventThrottled              EventType = "throttled"                // an attempt was refused unevaluated: too many failures
	EventRevoked                EventType = "revoked"                  // a device was revoked
	EventRenamed                EventType = "renamed"                  // a device was renamed
	EventImported               EventType = "imported"                 // an existing secret was imported as a confirmed device
	EventRecoveryCodeUsed       EventType = "recovery_code_used"       // a recovery code was accepted (and consumed)
	EventRecoveryCodesGenerated EventType = "recovery_codes_generated" // a new set of recovery codes replaced the old one
	EventDriftAdjusted          EventType = "drift_adjusted"           // a device's clock drift was re-measured outside the window
	EventTwoFactorDisabled      EventType = "two_factor_disabled"      // the account's last second factor was removed: its last confirmed device, or its last trusted record of an attached Factor (package phone's trusted numbers)
	EventTwoFactorEnabled       EventType = "two_factor_enabled"       // the account's first second factor was confirmed: two-factor authentication is on
	EventAppPasswordCreated     EventType = "app_password_created"     // an app-specific password was created
	EventAppPasswordUsed        EventType = "app_password_used"        // an app-specific password was accepted
	EventAppPasswordFailed      EventType = "app_password_failed"      // a well-formed app-specific password matched none
	EventAppPasswordRevoked     EventType = "app_password_revoked"     // one app-specific password was revoked
	EventAppPasswordsRevoked    EventType = "app_passwords_revoked"    // every app-specific password of the account was revoked (Count says how many)
	EventGuessing               EventType = "guessing"                 // someone who knows the password is guessing: half, or all, of a throttle budget is spent (Scope, Remaining)
	// EventTampered reports a stored record refused because its MAC did
	// not verify (see ErrTampered): someone changed the store without the
	// keys, or a record predates the MACs and TwoFA.UpgradeMACs has not
	// reached it yet. DeviceID, BrowserID, PhoneID or SignInID names the
	// record (PhoneID for a challenge: the phone it was sent to).
	EventTampered EventType = "tampered"
)

// Event reports something that happened to an account's second factors, for
// an audit log. It never carries a secret, a code or a password: only
// identifiers, counts and times.
type Event struct {
	Type    EventType
	Account string
	Time    time.Time // from the manager's Clock

	// The record concerned, by id - never a secret, number or token.
	DeviceID      string // device events; EventVerified and EventReplayed of a device code
	AppPasswordID string // EventAppPassword*
	BrowserID     string // package browser's events
	PhoneID       string // package phone's events; EventVerified and EventReplayed of an out-of-band code
	SignInID      string // package signin's events: the pending sign-in

	Scope      string        // EventFailed, EventThrottled, EventGuessing: the throttle scope (ScopeCode, ScopeRecovery, ScopeAppPassword)
	RetryAfter time.Duration // EventThrottled, package phone's EventCodeSendRefused: how long until the next attempt
	Failures   int           // EventFailed, EventThrottled, EventGuessing, EventAppPasswordFailed: consecutive failures so far; EventEnrollmentFailed, package phone's EventConfirmFailed, package signin's EventFailed: tries counted against the enrolment, code or pending sign-in so far
	Remaining  int           // EventRecoveryCodeUsed: recovery codes left; EventRecoveryCodesGenerated: codes issued; EventGuessing: failures the budget still takes
	Count      int           // EventAppPasswordsRevoked, package browser's and package signin's EventRevokedAll: how many were revoked
}

// EventHook receives events. It is called synchronously, after the change
// it reports was stored, on the goroutine of the call that caused it: keep
// it fast, or hand the event to a queue. It must be safe for concurrent
// use. Some events are reported while the call holds the account's
// lifecycle lock (see lifecycle.go): a hook must not itself change the
// account's factors on the same goroutine (hand that to a queue too), or
// the call waits for itself until its context ends. A nil EventHook is
// allowed and does nothing.
type EventHook func(context.Context, Event)

func (h EventHook) emit(ctx context.Context, e Event) {
	if h != nil {
		h(ctx, e)
	}
}
