package phone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twofa-go/twofa"
)

// State is where a trusted phone number stands in its life.
type State uint8

// States of a phone number.
const (
	// Pending: added, but not yet proven with a code sent to it;
	// never a second factor; lapses at its ExpiresAt.
	Pending State = iota + 1
	// Trusted: proven by a code sent to it.
	Trusted
)

// String returns "pending" or "trusted".
func (s State) String() string {
	switch s {
	case Pending:
		return "pending"
	case Trusted:
		return "trusted"
	}
	return "unknown"
}

// Record is the stored record of one phone number of an account. The
// number itself is stored: codes are sent to it.
type Record struct {
	ID          string
	Account     string
	Number      Number
	State       State
	CreatedAt   time.Time
	ExpiresAt   time.Time // pending phones only: when the unproven number lapses
	ConfirmedAt time.Time
	LastUsedAt  time.Time // the last sign-in with a code sent to it
	// MAC authenticates the number and its standing - its id, account,
	// Number (E.164 and country code), State and ExpiresAt - under the
	// Keyring (twofa.StateMAC, kind twofa.RecordPhone): no code is sent to
	// a phone, nor a phone confirmed, unless it verifies, so that someone
	// without the keys can neither point a trusted phone at another
	// number nor mark an unproven one trusted. Empty on a phone stored
	// before MACs, until Manager.UpgradeMACs gives it one.
	MAC []byte
}

// LogValue describes the phone for log/slog with its number masked (a
// JSON handler would otherwise marshal Number in full).
func (p Record) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", p.ID),
		slog.String("account", p.Account),
		slog.String("number", p.Number.Masked()),
		slog.String("state", p.State.String()),
	)
}

// Purpose is what an out-of-band code is for.
type Purpose uint8

// Challenge purposes.
const (
	// PurposeConfirm: proves that a newly added number reaches the
	// account's owner (Manager.Confirm).
	PurposeConfirm Purpose = iota + 1
	// PurposeSignIn: a second factor at sign-in (twofa.TwoFA.Verify, with
	// Config.OutOfBand set).
	PurposeSignIn
)

// String returns "verify_phone" or "sign_in".
func (p Purpose) String() string {
	switch p {
	case PurposeConfirm:
		return "verify_phone"
	case PurposeSignIn:
		return "sign_in"
	}
	return fmt.Sprintf("Purpose(%d)", uint8(p))
}

// ChallengeState is where an out-of-band challenge stands.
type ChallengeState uint8

// Challenge states.
const (
	// ChallengeOpen: sent and not yet used; it accepts its code until it
	// expires or takes too many wrong tries.
	ChallengeOpen ChallengeState = iota + 1
	// ChallengeUsed: its code was accepted once and never will be again.
	ChallengeUsed
	// ChallengeVoided: a newer challenge for the same phone and purpose
	// replaced it, or its phone was removed.
	ChallengeVoided
)

// String returns "open", "used" or "voided".
func (s ChallengeState) String() string {
	switch s {
	case ChallengeOpen:
		return "open"
	case ChallengeUsed:
		return "used"
	case ChallengeVoided:
		return "voided"
	}
	return "unknown"
}

// Challenge is the stored record of one out-of-band code sent to a phone:
// its keyed digest, never the code.
type Challenge struct {
	ID      string
	Account string
	PhoneID string
	Purpose Purpose
	Channel Channel
	State   ChallengeState
	// Digest is Keyring.Digest(DigestPurpose, account, data) where
	// data binds the purpose, phone ID and challenge ID to the code, so
	// that equal codes of two challenges have unrelated digests.
	Digest []byte
	// Attempts counts wrong codes tried against this challenge.
	Attempts  int
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero unless State is ChallengeUsed
	// MAC authenticates an open challenge - its id, account, PhoneID,
	// Purpose, Channel, Digest, ExpiresAt and Attempts - under the
	// Keyring (twofa.StateMAC, kind twofa.RecordChallenge); a challenge
	// is tried only if it verifies. Only open challenges have one: a
	// store clears it in the same step as it marks the challenge used or
	// voided, so that setting one back to open without the keys brings
	// back no challenge that accepts a code.
	MAC []byte
}

// ConsumeResult is what ConsumeChallenge did.
type ConsumeResult uint8

// ConsumeChallenge results.
const (
	// ConsumeAccepted: the digest matched; the challenge is used now.
	ConsumeAccepted ConsumeResult = iota + 1
	// ConsumeWrong: the digest did not match; Attempts went up by one.
	ConsumeWrong
	// ConsumeUsed: the challenge was used already; nothing compared.
	ConsumeUsed
	// ConsumeVoided: the challenge was voided; nothing compared.
	ConsumeVoided
	// ConsumeExpired: ExpiresAt is at or before now; nothing compared.
	ConsumeExpired
	// ConsumeExhausted: Attempts has reached the maximum; nothing
	// compared, not even a right code.
	ConsumeExhausted
)

// String returns "accepted", "wrong", "used", "voided", "expired" or
// "exhausted".
func (r ConsumeResult) String() string {
	switch r {
	case ConsumeAccepted:
		return "accepted"
	case ConsumeWrong:
		return "wrong"
	case ConsumeUsed:
		return "used"
	case ConsumeVoided:
		return "voided"
	case ConsumeExpired:
		return "expired"
	case ConsumeExhausted:
		return "exhausted"
	}
	return fmt.Sprintf("ConsumeResult(%d)", uint8(r))
}

// Errors about sending codes.
var (
	// ErrCooldown is matched by *CooldownError: a code was refused
	// because the account sent one to the number too recently, or too
	// many in the last hour.
	ErrCooldown = errors.New("twofa: wait before sending another code")
	// ErrTooManyCodes: an hourly cap on the codes an account sends - to
	// one of its numbers, or to all of them together - was reached. A
	// *CooldownError with Hourly set wraps it; it matches
	// twofa.ErrLimitReached.
	ErrTooManyCodes = fmt.Errorf("%w: too many codes sent in the last hour", twofa.ErrLimitReached)
)

// CooldownError reports that no code was sent, because of the resend
// cool-down or, with Hourly set, an hourly cap. It matches ErrCooldown,
// and when Hourly is set also ErrTooManyCodes and twofa.ErrLimitReached. It
// reflects only the codes the same account sent: what other accounts
// sent to the number never shows in it.
type CooldownError struct {
	RetryAfter time.Duration // from the refused request until a code may be sent
	Until      time.Time
	Hourly     bool // an hourly cap, not the resend cool-down, is what holds
}

// Error says how long to wait, without naming the number.
func (e *CooldownError) Error() string {
	what := "a code was sent to this number moments ago"
	if e.Hourly {
		what = "too many codes were sent in the last hour"
	}
	return fmt.Sprintf("twofa: %s; retry after %v", what, e.RetryAfter.Round(time.Second))
}

// Is reports whether target is ErrCooldown.
func (e *CooldownError) Is(target error) bool { return target == ErrCooldown }

// Unwrap returns ErrTooManyCodes when Hourly is set, else nil.
func (e *CooldownError) Unwrap() error {
	if e != nil && e.Hourly {
		return ErrTooManyCodes
	}
	return nil
}

// sendWindow is the span of the hourly caps.
const sendWindow = time.Hour

// Store keeps the phone numbers of accounts and the codes sent to them:
// NumberStore and ChallengeStore together, as memstore and sqlstore
// provide them. storetest.RunPhones checks one (and storetest.Run, when
// the store also implements twofa.Store).
type Store interface {
	NumberStore
	ChallengeStore
}

// NumberStore keeps the phone numbers of accounts. As for the other
// stores, every method is one atomic step of the store, takes a context,
// and reports a missing record with an error wrapping twofa.ErrNotFound.
// Every step that voids a challenge clears its MAC (see Challenge.MAC).
//
// A phone counts (for the limit, for duplicates) while it is trusted or
// pending with an ExpiresAt after the time in question. Deleting a phone
// never deletes the history of codes the account sent to its number:
// that history (see ChallengeStore) is what the send limits count, and
// removing and re-adding a number must not reset them.
type NumberStore interface {
	// InsertPhone adds p (State Pending with a non-zero ExpiresAt,
	// or Trusted). In one atomic step it first deletes the account's
	// pending phones whose ExpiresAt is at or before now (voiding their
	// open challenges), then refuses with twofa.ErrDuplicate if the account has
	// a phone with p's ID or with p's Number.E164, then with
	// twofa.ErrLimitReached if the account has limit or more phones, and
	// otherwise stores p. A refused insert changes nothing (expired
	// phones included). A limit below 1 refuses every insert.
	InsertPhone(ctx context.Context, p Record, limit int, now time.Time) error
	// Phone returns one phone of the account, or twofa.ErrNotFound.
	Phone(ctx context.Context, account, id string) (Record, error)
	// Phones returns every phone of the account, expired pending ones
	// included, oldest first (by CreatedAt; ties in insertion order).
	Phones(ctx context.Context, account string) ([]Record, error)
	// ConfirmPhone turns a pending phone trusted, sets ConfirmedAt to at,
	// clears ExpiresAt and sets MAC to mac - atomically and only if it is
	// pending, its ExpiresAt is after at and its MAC equals old. It
	// reports false (no error) when it is not, twofa.ErrNotFound when the
	// phone does not exist.
	ConfirmPhone(ctx context.Context, account, id string, at time.Time, old, mac []byte) (bool, error)
	// UpdatePhoneMAC replaces a phone's MAC if it still equals old (the
	// upgrade of a phone stored before MACs), and reports whether it did;
	// twofa.ErrNotFound when the phone does not exist.
	UpdatePhoneMAC(ctx context.Context, account, id string, old, mac []byte) (bool, error)
	// PhonesAfter pages through every phone of every account, as
	// twofa.DeviceStore.DevicesAfter pages through devices: up to limit
	// (at least 1) phones ordered by account, then ID, both compared
	// byte by byte, strictly after (account, id). It serves a one-time
	// upgrade (Manager.UpgradeMACs), so a store need keep no index for it.
	PhonesAfter(ctx context.Context, account, id string, limit int) ([]Record, error)
	// DeletePhone removes a phone, voids its open challenges, and returns
	// the state the phone had when it was removed and how many trusted
	// phones the account has left, in one atomic step. Its challenges stay
	// (voided) for the account's send limits.
	DeletePhone(ctx context.Context, account, id string) (deleted State, trustedLeft int, err error)
	// DeleteExpiredPhones removes every pending phone whose ExpiresAt is
	// at or before now, across accounts, voiding their open challenges,
	// and returns how many phones it removed.
	DeleteExpiredPhones(ctx context.Context, now time.Time) (int, error)
}

// Send is one code an account sent, as ChallengeStore.CreateChallenge
// reports it to the function that decides on the next one: the send
// limits are computed from these.
type Send struct {
	Number    string // Number.E164 of the phone the code was sent to
	Purpose   Purpose
	CreatedAt time.Time
}

// ChallengeStore keeps out-of-band challenges: the keyed digests of codes
// sent to phones, and the history of sends that the send limits count.
// The store decides no limit itself: CreateChallenge hands the account's
// recent sends to a function of package phone, which computes the limits
// (the resend cool-down per number, an hourly cap per number and purpose,
// an hourly cap over all of the account's codes), and the store provides
// the atomicity that makes them hold across replicas. Every limit is the
// account's own, so the sends of other accounts never reach that
// function: no account can use up another's budget (a lock-out) or learn
// from a refusal that someone else sent a code to the number (an oracle).
// Every method is one atomic step of the store, takes a context, and
// reports a missing record with an error wrapping twofa.ErrNotFound.
type ChallengeStore interface {
	// CreateChallenge stores c, a new challenge for the phone
	// (c.Account, c.PhoneID), created at now = c.CreatedAt, as given
	// (State ChallengeOpen, Attempts 0), if allow permits it. In one
	// atomic step:
	//   - twofa.ErrNotFound if the account has no such phone;
	//   - twofa.ErrDuplicate if the account has a challenge with c's ID;
	//   - it calls allow with the account's challenges created after
	//     since (any state, any phone and purpose, of phones deleted
	//     since included; in no particular order), each as a Send
	//     carrying the number it was sent to (stale ones, created at
	//     or before now - 1 hour, may be missing); if allow returns an
	//     error, CreateChallenge changes nothing and returns that
	//     error unchanged;
	//   - otherwise it voids the open challenges of the same phone and
	//     purpose (clearing their MACs) and stores c. It may also delete the account's stale
	//     challenges (see DeleteStaleChallenges).
	// Challenges of other accounts play no part. A refused create
	// changes nothing. allow runs inside the store's atomic step (under
	// its lock, in its transaction), so concurrent calls for one account
	// see each other's challenges: it must be a fast, pure function of
	// its argument, which it must not keep. A store that retries its
	// step may call allow again; only the last call's result counts.
	CreateChallenge(ctx context.Context, c Challenge, since time.Time, allow func(recent []Send) error) error
	// VoidChallenge voids one challenge of the account, and clears its
	// MAC, if it is open (used and voided ones stay as they are); twofa.ErrNotFound if the
	// account has no such challenge. A voided challenge still counts for
	// the send limits.
	VoidChallenge(ctx context.Context, account, id string) error
	// Challenge returns one challenge of the account, or twofa.ErrNotFound.
	Challenge(ctx context.Context, account, id string) (Challenge, error)
	// LiveChallenges returns the account's challenges of purpose that
	// are not voided and whose ExpiresAt is after now - open ones and
	// used ones (so that a used code can be told from a wrong one) -
	// newest first (by CreatedAt; ties latest inserted first).
	LiveChallenges(ctx context.Context, account string, purpose Purpose, now time.Time) ([]Challenge, error)
	// ConsumeChallenge tries digest against one challenge of the
	// account, in one atomic step that checks, in this order: the
	// challenge exists (else twofa.ErrNotFound); it is open (else ConsumeUsed
	// or ConsumeVoided); its ExpiresAt is after now (else
	// ConsumeExpired); its Attempts is below maxAttempts (else
	// ConsumeExhausted). Only then does it compare the digest and the
	// MAC: the digest equal and the MAC old (the one the caller read and
	// verified), it marks the challenge used at now, clears the MAC and
	// moves its phone's LastUsedAt forward to now, unless it is already
	// at or after now (it never moves back; a phone deleted since is left
	// alone) (ConsumeAccepted); otherwise it adds one to Attempts and sets
	// the MAC to next if it was old, or clears it if it was not - a
	// challenge changed under a try, by a concurrent try or by an edit,
	// accepts nothing more (ConsumeWrong). Either way the step is one
	// commit: a sign-in by a sent code costs one write. It returns the result and
	// Attempts after the step. Of concurrent calls with the right digest
	// and one old exactly one reports ConsumeAccepted.
	ConsumeChallenge(ctx context.Context, account, id string, digest []byte, maxAttempts int, now time.Time, old, next []byte) (ConsumeResult, int, error)
	// DeleteStaleChallenges removes, across accounts, every challenge
	// created at or before now - 1 hour that is not open or whose
	// ExpiresAt is at or before now: it no longer counts for any limit
	// and can no longer be used. It returns how many it removed.
	DeleteStaleChallenges(ctx context.Context, now time.Time) (int, error)
}
