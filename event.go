package twofa

import (
	"context"
	"fmt"
	"time"
)

// EventType names what happened.
type EventType uint8

// Event types.
const (
	EventEnrolled               EventType = iota + 1 // a device was enrolled (pending)
	EventConfirmed                                   // a pending device was confirmed with its first code
	EventEnrollmentFailed                            // a wrong code was given to confirm a pending device
	EventVerified                                    // a code was accepted for login
	EventFailed                                      // a code was refused (wrong, or for no device)
	EventReplayed                                    // a code already used was submitted again
	EventThrottled                                   // an attempt was refused unevaluated: too many failures
	EventRevoked                                     // a device was revoked
	EventRenamed                                     // a device was renamed
	EventImported                                    // an existing secret was imported as a confirmed device
	EventRecoveryCodeUsed                            // a recovery code was accepted (and consumed)
	EventRecoveryCodesGenerated                      // a new set of recovery codes replaced the old one
	EventDriftAdjusted                               // a device's clock drift was re-measured outside the window
	EventTwoFactorDisabled                           // the account's last second factor was removed: its last confirmed device, or (Config.Phones.OutOfBand) its last trusted phone number
	EventAppPasswordCreated                          // an app-specific password was created
	EventAppPasswordUsed                             // an app-specific password was accepted
	EventAppPasswordFailed                           // a well-formed app-specific password matched none
	EventAppPasswordRevoked                          // one app-specific password was revoked
	EventAppPasswordsRevoked                         // every app-specific password of the account was revoked (Count says how many)
	EventBrowserTrusted                              // a browser was trusted to skip the second factor (Browsers.Trust)
	EventBrowserUsed                                 // a trusted browser's token was accepted (Browsers.Check)
	EventBrowserRefused                              // a browser token was refused: malformed, unknown, expired or revoked
	EventBrowserRevoked                              // one trusted browser was revoked
	EventBrowserEvicted                              // the least recently used trusted browser was revoked to make room
	EventBrowsersRevoked                             // every trusted browser of the account was revoked (Count says how many)
	EventPhoneAdded                                  // a phone number was added (pending)
	EventPhoneConfirmed                              // a pending phone number was proven with a code sent to it
	EventPhoneConfirmFailed                          // a wrong code was given to confirm a pending phone number
	EventPhoneRemoved                                // a phone number was removed
	EventCodeSent                                    // an out-of-band code was sent to a phone number
	EventCodeSendRefused                             // no code was sent: the number's cool-down or an hourly cap holds (RetryAfter)
	EventGuessing                                    // someone who knows the password is guessing: half, or all, of a throttle budget is spent (Scope, Remaining)
)

var eventNames = [...]string{
	EventEnrolled:               "enrolled",
	EventConfirmed:              "confirmed",
	EventEnrollmentFailed:       "enrollment_failed",
	EventVerified:               "verified",
	EventFailed:                 "failed",
	EventReplayed:               "replayed",
	EventThrottled:              "throttled",
	EventRevoked:                "revoked",
	EventRenamed:                "renamed",
	EventImported:               "imported",
	EventRecoveryCodeUsed:       "recovery_code_used",
	EventRecoveryCodesGenerated: "recovery_codes_generated",
	EventDriftAdjusted:          "drift_adjusted",
	EventTwoFactorDisabled:      "two_factor_disabled",
	EventAppPasswordCreated:     "app_password_created",
	EventAppPasswordUsed:        "app_password_used",
	EventAppPasswordFailed:      "app_password_failed",
	EventAppPasswordRevoked:     "app_password_revoked",
	EventAppPasswordsRevoked:    "app_passwords_revoked",
	EventBrowserTrusted:         "browser_trusted",
	EventBrowserUsed:            "browser_used",
	EventBrowserRefused:         "browser_refused",
	EventBrowserRevoked:         "browser_revoked",
	EventBrowserEvicted:         "browser_evicted",
	EventBrowsersRevoked:        "browsers_revoked",
	EventPhoneAdded:             "phone_added",
	EventPhoneConfirmed:         "phone_confirmed",
	EventPhoneConfirmFailed:     "phone_confirm_failed",
	EventPhoneRemoved:           "phone_removed",
	EventCodeSent:               "code_sent",
	EventCodeSendRefused:        "code_send_refused",
	EventGuessing:               "guessing",
}

// String returns a stable snake_case name, for audit logs.
func (t EventType) String() string {
	if int(t) < len(eventNames) && eventNames[t] != "" {
		return eventNames[t]
	}
	return fmt.Sprintf("EventType(%d)", uint8(t))
}

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
	BrowserID     string // EventBrowser*, if known
	PhoneID       string // EventPhone*, EventCodeSent, EventCodeSendRefused; EventVerified and EventReplayed of an out-of-band code

	Scope      string        // EventFailed, EventThrottled, EventGuessing: the throttle scope (ScopeCode, ScopeRecovery, ScopeAppPassword)
	RetryAfter time.Duration // EventThrottled, EventCodeSendRefused: how long until the next attempt
	Failures   int           // EventFailed, EventThrottled, EventGuessing, EventAppPasswordFailed: consecutive failures so far; EventEnrollmentFailed, EventPhoneConfirmFailed: tries counted against the enrolment or code so far
	Remaining  int           // EventRecoveryCodeUsed: recovery codes left; EventRecoveryCodesGenerated: codes issued; EventGuessing: failures the budget still takes
	Count      int           // EventAppPasswordsRevoked, EventBrowsersRevoked: how many were revoked
}

// EventHook receives events. It is called synchronously, after the change
// it reports was stored, on the goroutine of the call that caused it: keep
// it fast, or hand the event to a queue. It must be safe for concurrent
// use. A nil EventHook is allowed and does nothing.
type EventHook func(context.Context, Event)

func (h EventHook) emit(ctx context.Context, e Event) {
	if h != nil {
		h(ctx, e)
	}
}
