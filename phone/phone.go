// Package phone keeps the trusted phone numbers of accounts and sends them
// out-of-band codes by SMS or voice call: add a number (pending), prove it
// with a code sent to it (trusted), list it (masked), remove it; and, with
// Config.OutOfBand, send sign-in codes that twofa.TwoFA.Verify accepts.
// Package phone/phonenumber turns the numbers people type into E.164 form
// (phonenumber.Parse), with Google's libphonenumber metadata
// (github.com/nyaruka/phonenumbers); this package does not link it, and so
// neither do memstore and sqlstore, which implement Store.
//
// It is built on a twofa installation and imports package twofa, which
// never imports it. New attaches the Manager to the installation as a
// twofa.Factor, so that a trusted number (with OutOfBand) turns two-factor
// authentication on as a confirmed device does, Verify tries its sign-in
// codes after the devices', and Disable and Reset remove the numbers;
// every change that trusts or removes a number goes through
// twofa.TwoFA.ChangeFactors, the installation's lifecycle. The events
// (EventAdded and the others) are the installation's: they go to
// twofa.Config.Events.
//
//	tf, _ := twofa.New(twofa.Config{Store: store, Keyring: keys, Issuer: "Example"})
//	phones, _ := phone.New(tf, phone.Config{Sender: sms, OutOfBand: true})
//
//	n, err := phonenumber.Parse("(415) 555-0142", "US") // err matches ErrInvalidNumber
//	p, _ := phones.Add(ctx, account, n)
//	_, _ = phones.SendCode(ctx, account, p.ID, phone.SMS)
//	_, _ = phones.Confirm(ctx, account, p.ID, typed) // trusted from now on
package phone

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twofa-go/twofa"
)

// Defaults of the Config fields.
const (
	// DefaultMax is the per-account limit on phone numbers: a
	// mobile, a work phone and a landline for voice calls, with room to
	// spare. Every trusted number is one more SIM that can be swapped or
	// line that can be diverted, so the limit stays low.
	DefaultMax = 5
	// DefaultChallengeTTL is how long a code sent by SMS or voice works:
	// NIST SP 800-63B (Section 5.1.3) allows an out-of-band secret at
	// most 10 minutes, time enough for a text that lags.
	DefaultChallengeTTL = 10 * time.Minute
	// DefaultChallengeAttempts is how many wrong codes one challenge
	// takes before it refuses even the right one. With 10^6 codes, 5
	// tries give a guesser 5e-6 per code sent; the hourly cap bounds the
	// codes. A person who mistypes five times asks for a new code.
	DefaultChallengeAttempts = 5
	// DefaultResendCooldown is the wait between two codes to one number:
	// texts usually arrive within seconds, so 30 s absorbs impatient
	// double clicks and slows a script that pumps messages.
	DefaultResendCooldown = 30 * time.Second
	// DefaultMaxSendsPerHour caps the codes an account sends to one of
	// its numbers, for one purpose, in any hour: a person whose text is
	// lost retries two or three times; more looks like abuse (message
	// pumping, which bills the sender, or bombing someone's phone). With
	// DefaultChallengeAttempts it also caps a guesser at 25 tries an hour
	// per number. The cap is the account's own: codes other accounts
	// sent to the number do not count, so that nobody can use it up to
	// lock the owner out, nor learn from a refusal that the number
	// received a code.
	DefaultMaxSendsPerHour = 5
	// DefaultMaxAccountSends caps the codes one account sends
	// in any hour, to all its numbers together and counting numbers it
	// removed since. Without it an account could pump messages (which
	// bill the sender, at premium rates on some ranges) by adding,
	// texting and removing fresh numbers. Ten leaves room to confirm a
	// new number with a couple of resends and still sign in; a person
	// needs no more in an hour.
	DefaultMaxAccountSends = 10
	// PendingTTL is how long an added number may wait to be
	// confirmed: an hour, room for every resend the hourly cap allows.
	// An unconfirmed number then lapses and frees its slot.
	PendingTTL = time.Hour
	// MaxChallengeTTL bounds Config.ChallengeTTL: a code that lives
	// longer than the hour the send limits look back on is no longer a
	// one-time code.
	MaxChallengeTTL = time.Hour
	// MaxChallengeAttempts bounds Config.ChallengeAttempts.
	MaxChallengeAttempts = 100
)

// Kind is the kind of a code sent to a trusted phone number
// (twofa.Result.Factor).
const Kind twofa.FactorKind = "phone"

// DigestPurpose is the purpose this package passes to
// twofa.Keyring.Digest for the codes it sends. It is part of every stored
// digest: renaming it would invalidate them all.
const DigestPurpose = "oob-challenge"

// Events of the phone numbers, reported to twofa.Config.Events with
// Event.PhoneID set. A sign-in code that Verify accepts or refuses as
// replayed is reported as twofa.EventVerified or twofa.EventReplayed,
// with PhoneID.
const (
	EventAdded           twofa.EventType = "phone_added"          // a phone number was added (pending)
	EventConfirmed       twofa.EventType = "phone_confirmed"      // a pending phone number was proven with a code sent to it
	EventConfirmFailed   twofa.EventType = "phone_confirm_failed" // a wrong code was given to confirm a pending phone number (Failures: tries counted against the code so far)
	EventRemoved         twofa.EventType = "phone_removed"        // a phone number was removed
	EventCodeSent        twofa.EventType = "code_sent"            // an out-of-band code was sent to a phone number
	EventCodeSendRefused twofa.EventType = "code_send_refused"    // no code was sent: the number's cool-down or an hourly cap holds (RetryAfter)
)

// voidTimeout bounds voiding the code of a failed send, which runs even
// when the caller's context is done; settleTimeout bounds a write that
// consumes a code, which the request may not cut short.
const (
	voidTimeout   = 5 * time.Second
	settleTimeout = 5 * time.Second
)

// durable returns a context for a write that consumes a code: the request
// cannot cancel it (a write interrupted after it took effect would report
// an error for a spent code), settleTimeout bounds it, and it keeps ctx's
// values.
func durable(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
}

// Errors of Manager.
var (
	// ErrTooMany: the account has Config.Max numbers
	// (trusted and pending ones that have not lapsed).
	ErrTooMany = fmt.Errorf("%w: too many phone numbers", twofa.ErrLimitReached)
	// ErrExists: the account has this number already (trusted, or
	// pending: send it a code instead).
	ErrExists = fmt.Errorf("%w: phone number already added", twofa.ErrDuplicate)
	// ErrConfirmed: Confirm on a number that is trusted already.
	ErrConfirmed = errors.New("twofa: phone number already confirmed")
	// ErrCodeExpired: no code is active for the phone - none was sent,
	// it expired, a newer one replaced it, or it took
	// Config.ChallengeAttempts wrong tries. Send a new one.
	ErrCodeExpired = errors.New("twofa: code expired; send a new one")
	// ErrOutOfBandDisabled: a sign-in code was asked for while
	// Config.OutOfBand is off, so twofa.TwoFA.Verify would not accept it.
	ErrOutOfBandDisabled = errors.New("twofa: out-of-band codes are not enabled")
	// ErrInvalidChannel: a Channel other than SMS and Voice.
	ErrInvalidChannel = errors.New("twofa: invalid channel")
)

// Config sets up the trusted phone numbers of an installation (New). The
// zero value of every optional field gives the documented default. Verify
// accepts a code sent to a trusted phone only when OutOfBand is set: SMS
// and voice are weaker second factors than an authenticator app (SIM
// swaps, interception), so a backend opts in.
type Config struct {
	// Store keeps the numbers and codes; nil means the installation's
	// Store (twofa.Config.Store), which must then implement Store
	// (memstore and sqlstore do).
	Store             Store
	Sender            Sender        // required: delivers codes by SMS or voice
	OutOfBand         bool          // a trusted number is a second factor: twofa.TwoFA.Verify accepts its sign-in codes
	Max               int           // numbers per account; 0: DefaultMax
	ChallengeTTL      time.Duration // 0: DefaultChallengeTTL
	ChallengeAttempts int           // wrong tries per code; 0: DefaultChallengeAttempts
	ResendCooldown    time.Duration // 0: DefaultResendCooldown
	MaxSendsPerHour   int           // per number of an account; 0: DefaultMaxSendsPerHour
	MaxAccountSends   int           // per account per hour, all numbers; 0: DefaultMaxAccountSends
}

// resolve fills in the defaults and checks the fields.
func (p *Config) resolve() error {
	p.Max = cmp.Or(p.Max, DefaultMax)
	p.ChallengeTTL = cmp.Or(p.ChallengeTTL, DefaultChallengeTTL)
	p.ChallengeAttempts = cmp.Or(p.ChallengeAttempts, DefaultChallengeAttempts)
	p.ResendCooldown = cmp.Or(p.ResendCooldown, DefaultResendCooldown)
	p.MaxSendsPerHour = cmp.Or(p.MaxSendsPerHour, DefaultMaxSendsPerHour)
	p.MaxAccountSends = cmp.Or(p.MaxAccountSends, DefaultMaxAccountSends)
	switch {
	case p.Sender == nil:
		return fmt.Errorf("%w: phone.Config.Sender is required", twofa.ErrConfig)
	case p.Max < 1:
		return fmt.Errorf("%w: phone.Config.Max %d is below 1", twofa.ErrConfig, p.Max)
	case p.ChallengeTTL < time.Second || p.ChallengeTTL > MaxChallengeTTL:
		return fmt.Errorf("%w: phone.Config.ChallengeTTL %v outside 1s to %v", twofa.ErrConfig, p.ChallengeTTL, MaxChallengeTTL)
	case p.ChallengeAttempts < 1 || p.ChallengeAttempts > MaxChallengeAttempts:
		return fmt.Errorf("%w: phone.Config.ChallengeAttempts %d outside 1 to %d", twofa.ErrConfig, p.ChallengeAttempts, MaxChallengeAttempts)
	case p.ResendCooldown < 0 || p.ResendCooldown > sendWindow:
		return fmt.Errorf("%w: phone.Config.ResendCooldown %v outside 0 to %v", twofa.ErrConfig, p.ResendCooldown, sendWindow)
	case p.MaxSendsPerHour < 1:
		return fmt.Errorf("%w: phone.Config.MaxSendsPerHour %d is below 1", twofa.ErrConfig, p.MaxSendsPerHour)
	case p.MaxAccountSends < 1:
		return fmt.Errorf("%w: phone.Config.MaxAccountSends %d is below 1", twofa.ErrConfig, p.MaxAccountSends)
	}
	return nil
}

// New returns the trusted phone numbers of the installation tf, read from
// its resolved Config (Keyring, Clock, Events, Issuer, which names the
// service in the messages) and c, and attaches them to tf as a
// twofa.Factor (twofa.TwoFA.AttachFactor). Build it once per
// installation, in every process that verifies sign-ins or changes
// factors (Verify, Disable, Reset, revoking devices): a process without
// it does not count the trusted numbers, does not accept their codes, and
// does not remove them. Errors match twofa.ErrConfig.
func New(tf *twofa.TwoFA, c Config) (*Manager, error) {
	if tf == nil {
		return nil, fmt.Errorf("%w: phone.New needs an installation", twofa.ErrConfig)
	}
	tc := tf.Config()
	if c.Store == nil {
		st, ok := tc.Store.(Store)
		if !ok {
			return nil, fmt.Errorf("%w: phone.Config.Store is nil and the installation's Store is not a phone.Store", twofa.ErrConfig)
		}
		c.Store = st
	}
	if err := c.resolve(); err != nil {
		return nil, err
	}
	m := &Manager{
		tf: tf, st: c.Store, cfg: c,
		keys: tc.Keyring, clock: tc.Clock, events: tc.Events, issuer: tc.Issuer,
	}
	tf.AttachFactor(m)
	return m, nil
}

// Config returns the resolved Config: every default filled in.
func (p *Manager) Config() Config { return p.cfg }

func (p *Manager) emit(ctx context.Context, e twofa.Event) {
	if p.events != nil {
		p.events(ctx, e)
	}
}

// Info is what a settings page shows of a phone number. Number
// prints masked ("+1 ••• ••• ••42"); its E164 field holds the full
// number, for a page that chooses to show it.
//
// encoding/json writes it with snake_case names, State as text
// ("trusted"), without the times that are unset, and with the number
// masked, as "number": JSON goes to browsers, caches and logs, so a page
// that shows the full number sends Number.E164 itself. Decoding leaves
// Number alone.
type Info struct {
	ID          string    `json:"id"`
	Number      Number    `json:"-"` // in JSON: "number", masked
	State       State     `json:"state"`
	CreatedAt   time.Time `json:"created_at,omitzero"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"` // pending numbers: when they lapse unconfirmed
	ConfirmedAt time.Time `json:"confirmed_at,omitzero"`
	LastUsedAt  time.Time `json:"last_used_at,omitzero"`
}

// MarshalJSON writes the phone as the Info doc describes, the number
// masked.
func (p Info) MarshalJSON() ([]byte, error) {
	type fields Info // Info's fields and tags, without this method
	return json.Marshal(struct {
		ID     string `json:"id"`
		Number string `json:"number"`
		fields
	}{p.ID, p.Number.Masked(), fields(p)})
}

// LogValue describes the phone for log/slog with its number masked (a
// JSON handler would otherwise marshal Number in full).
func (p Info) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", p.ID),
		slog.String("number", p.Number.Masked()),
		slog.String("state", p.State.String()),
		slog.Time("created_at", p.CreatedAt),
	)
}

func (p Record) info() Info {
	return Info{
		ID: p.ID, Number: p.Number, State: p.State, CreatedAt: p.CreatedAt,
		ExpiresAt: p.ExpiresAt, ConfirmedAt: p.ConfirmedAt, LastUsedAt: p.LastUsedAt,
	}
}

// Sent describes a code that was sent, without the code: what a
// "we sent a code to +1 ••• ••• ••42" page needs. encoding/json writes it
// as Info is written: snake_case names, Purpose and Channel as text
// ("sign_in", "sms"), no unset times, and To masked.
type Sent struct {
	ID        string    `json:"id"`
	PhoneID   string    `json:"phone_id"`
	To        Number    `json:"-"` // prints masked; in JSON: "to", masked
	Purpose   Purpose   `json:"purpose"`
	Channel   Channel   `json:"channel"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	ExpiresAt time.Time `json:"expires_at,omitzero"` // when the code stops working
	ResendAt  time.Time `json:"resend_at,omitzero"`  // the earliest time another code may be sent (the cool-down)
}

// MarshalJSON writes the challenge as the Sent doc describes, the
// number masked.
func (c Sent) MarshalJSON() ([]byte, error) {
	type fields Sent // Sent's fields and tags, without this method
	return json.Marshal(struct {
		ID      string `json:"id"`
		PhoneID string `json:"phone_id"`
		To      string `json:"to"`
		fields
	}{c.ID, c.PhoneID, c.To.Masked(), fields(c)})
}

// LogValue describes the challenge for log/slog with its number masked.
func (c Sent) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", c.ID),
		slog.String("phone_id", c.PhoneID),
		slog.String("to", c.To.Masked()),
		slog.String("purpose", c.Purpose.String()),
		slog.String("channel", c.Channel.String()),
		slog.Time("expires_at", c.ExpiresAt),
	)
}

// Manager manages the phone numbers of accounts and sends them
// out-of-band codes (SMS or voice) through Config.Sender: add a number
// (pending), prove it with a code sent to it (trusted), list (masked),
// remove; and send sign-in codes to trusted numbers, which twofa.TwoFA.Verify
// accepts when Config.OutOfBand is set.
//
// Codes are 6 random digits (crypto/rand, unbiased), stored as keyed
// digests, single use, valid for Config.ChallengeTTL and for at most
// Config.ChallengeAttempts wrong tries. Sending is limited per account,
// decided within one atomic step of the store (see
// ChallengeStore.CreateChallenge) and so across replicas:
// Config.ResendCooldown between two codes to one number,
// Config.MaxSendsPerHour to one number in any hour
// (for verification and sign-in codes apart), and
// Config.MaxAccountSends to all the account's numbers in any hour. The
// limits count only the account's own codes - another account that adds
// the same number neither uses them up nor sees them in an error - and
// survive removing a number. (So a number added to many accounts can get
// codes from each: limit sign-ups, as for any message a sign-up sends.)
//
// # A weaker second factor
//
// A code sent by SMS or voice proves that someone reads the number's
// messages, not that they hold the phone: SIM swaps, number ports, call
// forwarding and SS7 interception hand it to attackers, and NIST SP
// 800-63B calls the public telephone network a restricted authenticator.
// Prefer authenticator apps (twofa.TwoFA.Devices); accept phone codes for sign-in
// only by setting Config.OutOfBand, and let users who have an app turn
// the phone off.
//
// Manager is safe for concurrent use.
type Manager struct {
	tf     *twofa.TwoFA
	st     Store
	cfg    Config // resolved
	keys   twofa.Keyring
	clock  twofa.Clock
	events twofa.EventHook
	issuer string
}

// Add adds a phone number to the account, pending: it is no second
// factor until Confirm has seen a code sent to it (call SendCode next),
// and it lapses unconfirmed after PendingTTL. n comes from package
// Parse, or from the backend's own validation; Add checks
// its form only (Number.Validate).
//
// Errors: twofa.ErrInvalidAccount, ErrInvalidNumber, ErrExists (the
// account has the number, trusted or pending), ErrTooMany.
func (p *Manager) Add(ctx context.Context, account string, n Number) (Info, error) {
	if err := twofa.CheckAccount(account); err != nil {
		return Info{}, err
	}
	if err := n.Validate(); err != nil {
		return Info{}, err
	}
	id, err := twofa.NewID()
	if err != nil {
		return Info{}, err
	}
	now := p.clock.Now()
	ph := Record{
		ID: id, Account: account, Number: n, State: Pending,
		CreatedAt: now, ExpiresAt: now.Add(PendingTTL),
	}
	if ph.MAC, err = ph.mac(p.keys); err != nil {
		return Info{}, fmt.Errorf("twofa: add phone: %w", err)
	}
	if err := p.st.InsertPhone(ctx, ph, p.cfg.Max, now); err != nil {
		switch {
		case errors.Is(err, twofa.ErrLimitReached):
			return Info{}, ErrTooMany
		case errors.Is(err, twofa.ErrDuplicate):
			return Info{}, ErrExists
		}
		return Info{}, fmt.Errorf("twofa: add phone: %w", err)
	}
	p.emit(ctx, twofa.Event{Type: EventAdded, Account: account, PhoneID: id, Time: now})
	return ph.info(), nil
}

// SendCode sends a new code to one of the account's numbers by ch (SMS or
// voice): to a pending number, the code that confirms it (Confirm); to a
// trusted one, a sign-in code (twofa.TwoFA.Verify), which needs
// Config.OutOfBand. The new code replaces the number's previous code of
// the same purpose.
//
// The code is recorded before it is sent: a send that fails still counts
// toward the send limits (the provider may have sent, and billed, it
// after all), but its code is voided - an undelivered code is never left
// valid - so the user asks for a new one.
//
// Errors: twofa.ErrInvalidAccount, ErrInvalidChannel, twofa.ErrNotFound (also for a
// malformed phoneID, see twofa.MaxIDLen: nothing is looked up or sent),
// twofa.ErrEnrollmentExpired (a pending number that lapsed),
// ErrOutOfBandDisabled, *CooldownError (errors.Is ErrCooldown; with
// Hourly set also ErrTooManyCodes and twofa.ErrLimitReached), *SendError
// (errors.Is ErrSendFailed).
func (p *Manager) SendCode(ctx context.Context, account, phoneID string, ch Channel) (Sent, error) {
	if err := twofa.CheckAccount(account); err != nil {
		return Sent{}, err
	}
	if !ch.valid() {
		return Sent{}, ErrInvalidChannel
	}
	if err := twofa.CheckID("send code", phoneID); err != nil {
		return Sent{}, err
	}
	ph, err := p.st.Phone(ctx, account, phoneID)
	if err != nil {
		return Sent{}, fmt.Errorf("twofa: send code: %w", err)
	}
	now := p.clock.Now()
	// The number and its standing are authenticated before a code goes
	// to it.
	if err := p.checkPhone(ctx, &ph, now); err != nil {
		return Sent{}, fmt.Errorf("twofa: send code: %w", err)
	}
	c := Challenge{
		Account: account, PhoneID: ph.ID, Channel: ch, State: ChallengeOpen,
		CreatedAt: now, ExpiresAt: now.Add(p.cfg.ChallengeTTL),
	}
	switch ph.State {
	case Pending:
		if !now.Before(ph.ExpiresAt) {
			return Sent{}, twofa.ErrEnrollmentExpired
		}
		c.Purpose = PurposeConfirm
		if ph.ExpiresAt.Before(c.ExpiresAt) {
			c.ExpiresAt = ph.ExpiresAt // the code cannot outlive the number
		}
	case Trusted:
		if !p.cfg.OutOfBand {
			return Sent{}, ErrOutOfBandDisabled
		}
		c.Purpose = PurposeSignIn
	default:
		return Sent{}, fmt.Errorf("twofa: send code: phone %s in unknown state %d", ph.ID, ph.State)
	}
	if c.ID, err = twofa.NewID(); err != nil {
		return Sent{}, err
	}
	code, err := newChallengeCode(rand.Reader)
	if err != nil {
		return Sent{}, err
	}
	if c.Digest, err = challengeDigest(p.keys, c, code); err != nil {
		return Sent{}, err
	}
	if c.MAC, err = c.mac(p.keys); err != nil {
		return Sent{}, err
	}
	since, allow := p.cfg.allowSend(ph.Number.E164, c.Purpose, now)
	if err := p.st.CreateChallenge(ctx, c, since, allow); err != nil {
		var cd *CooldownError
		if errors.As(err, &cd) {
			p.emit(ctx, twofa.Event{Type: EventCodeSendRefused, Account: account, PhoneID: ph.ID, Time: now, RetryAfter: cd.RetryAfter})
			return Sent{}, cd
		}
		return Sent{}, fmt.Errorf("twofa: send code: %w", err)
	}
	m := Message{To: ph.Number, Channel: ch, Purpose: c.Purpose, Code: code, Issuer: p.issuer, ExpiresAt: c.ExpiresAt}
	if err := p.cfg.Sender.Send(ctx, m); err != nil {
		serr := error(newSendError(m, err))
		// Void the code even when ctx is what failed the send.
		vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), voidTimeout)
		defer cancel()
		if verr := p.st.VoidChallenge(vctx, account, c.ID); verr != nil {
			serr = errors.Join(serr, fmt.Errorf("twofa: send code: voiding the undelivered code: %w", verr))
		}
		return Sent{}, serr
	}
	p.emit(ctx, twofa.Event{Type: EventCodeSent, Account: account, PhoneID: ph.ID, Time: now})
	return Sent{
		ID: c.ID, PhoneID: ph.ID, To: ph.Number, Purpose: c.Purpose, Channel: ch,
		CreatedAt: now, ExpiresAt: c.ExpiresAt, ResendAt: now.Add(p.cfg.ResendCooldown),
	}, nil
}

// Confirm proves a pending number with the code SendCode sent to it; the
// number is trusted from then on. The code is used up.
//
// Errors: twofa.ErrInvalidAccount, twofa.ErrNotFound (also for a malformed phoneID,
// see twofa.MaxIDLen: nothing is looked up), ErrConfirmed,
// twofa.ErrEnrollmentExpired (the number lapsed: add it again),
// twofa.ErrMalformedCode (not 6 digits - surrounding white space, and spaces
// and hyphens inside, are ignored; nothing counted), twofa.ErrInvalidCode (a
// wrong try, counted), ErrCodeExpired (no active code: send a new one;
// also after Config.ChallengeAttempts wrong tries, when even the right
// code is refused), twofa.ErrReplayed (the code was used, by a concurrent
// Confirm).
func (p *Manager) Confirm(ctx context.Context, account, phoneID, code string) (twofa.Change, error) {
	if err := twofa.CheckAccount(account); err != nil {
		return twofa.Change{}, err
	}
	if err := twofa.CheckID("confirm phone", phoneID); err != nil {
		return twofa.Change{}, err
	}
	ph, err := p.st.Phone(ctx, account, phoneID)
	if err != nil {
		return twofa.Change{}, fmt.Errorf("twofa: confirm phone: %w", err)
	}
	now := p.clock.Now()
	if err := p.checkPhone(ctx, &ph, now); err != nil {
		return twofa.Change{}, fmt.Errorf("twofa: confirm phone: %w", err)
	}
	if ph.State == Trusted {
		return twofa.Change{}, ErrConfirmed
	}
	if !now.Before(ph.ExpiresAt) {
		return twofa.Change{}, twofa.ErrEnrollmentExpired
	}
	canon, ok := canonicalChallengeCode(code)
	if !ok {
		return twofa.Change{}, twofa.ErrMalformedCode
	}
	live, err := p.st.LiveChallenges(ctx, account, PurposeConfirm, now)
	if err != nil {
		return twofa.Change{}, fmt.Errorf("twofa: confirm phone: %w", err)
	}
	var c *Challenge
	for i := range live {
		if live[i].PhoneID == phoneID {
			c = &live[i] // the newest: a new challenge voids the older ones
			break
		}
	}
	if c == nil {
		return twofa.Change{}, ErrCodeExpired
	}
	if c.State == ChallengeUsed {
		if match, err := challengeMatches(p.keys, *c, canon); err != nil {
			return twofa.Change{}, err
		} else if match {
			return twofa.Change{}, twofa.ErrReplayed
		}
		return twofa.Change{}, ErrCodeExpired
	}
	res, attempts, err := consume(ctx, p.keys, p.st, *c, canon, p.cfg.ChallengeAttempts, now)
	if err != nil {
		if errors.Is(err, twofa.ErrTampered) {
			p.emit(ctx, twofa.Event{Type: twofa.EventTampered, Account: account, PhoneID: phoneID, Time: now})
		}
		return twofa.Change{}, fmt.Errorf("twofa: confirm phone: %w", err)
	}
	switch res {
	case ConsumeAccepted:
	case ConsumeWrong:
		p.emit(ctx, twofa.Event{Type: EventConfirmFailed, Account: account, PhoneID: phoneID, Time: now, Failures: attempts})
		return twofa.Change{}, twofa.ErrInvalidCode
	case ConsumeUsed:
		return twofa.Change{}, twofa.ErrReplayed
	default:
		return twofa.Change{}, ErrCodeExpired
	}
	// Trusting the number goes through the lifecycle: with
	// Config.OutOfBand it may turn two-factor authentication on.
	return p.tf.ChangeFactors(ctx, account, func(ctx context.Context) (bool, error) {
		trusted := ph
		trusted.State, trusted.ExpiresAt = Trusted, time.Time{}
		mac, err := trusted.mac(p.keys)
		if err != nil {
			return false, fmt.Errorf("twofa: confirm phone: %w", err)
		}
		ok, err := p.st.ConfirmPhone(ctx, account, phoneID, now, ph.MAC, mac)
		if err != nil {
			return false, fmt.Errorf("twofa: confirm phone: %w", err)
		}
		if !ok {
			// Confirmed meanwhile (by another code), or lapsed.
			cur, err := p.st.Phone(ctx, account, phoneID)
			if err == nil && cur.State == Trusted {
				return false, ErrConfirmed
			}
			return false, twofa.ErrEnrollmentExpired
		}
		p.emit(ctx, twofa.Event{Type: EventConfirmed, Account: account, PhoneID: phoneID, Time: now})
		return false, nil
	})
}

// List returns the account's phone numbers, oldest first: trusted ones
// and pending ones that have not lapsed. Their Numbers print masked.
func (p *Manager) List(ctx context.Context, account string) ([]Info, error) {
	if err := twofa.CheckAccount(account); err != nil {
		return nil, err
	}
	phs, err := p.st.Phones(ctx, account)
	if err != nil {
		return nil, fmt.Errorf("twofa: list phones: %w", err)
	}
	now := p.clock.Now()
	out := make([]Info, 0, len(phs))
	for _, ph := range phs {
		if ph.State == Pending && !now.Before(ph.ExpiresAt) {
			continue
		}
		out = append(out, ph.info())
	}
	return out, nil
}

// Remove removes a phone number (pending or trusted); codes sent to it
// stop working at once. When the number was trusted, Config.OutOfBand is
// set and the account is left with no trusted number and no confirmed
// device, two-factor authentication is off: Remove voids what depends on
// it, as twofa.Devices.Revoke does (the recovery codes, app passwords and what
// the attached twofa.Dependents hold, such as trusted browsers), and reports
// twofa.EventTwoFactorDisabled. Removing a pending number
// (an abandoned confirmation) never does, as revoking a pending device
// never does. The state that decides is the one the number had when it
// was removed, in the same atomic step that counts the trusted numbers
// left. The number's send history stays, so removing and re-adding it does
// not reset its send limits.
//
// Errors: twofa.ErrInvalidAccount, twofa.ErrNotFound (also for a malformed phoneID,
// see twofa.MaxIDLen: nothing is looked up).
func (p *Manager) Remove(ctx context.Context, account, phoneID string) (twofa.Change, error) {
	if err := twofa.CheckAccount(account); err != nil {
		return twofa.Change{}, err
	}
	if err := twofa.CheckID("remove phone", phoneID); err != nil {
		return twofa.Change{}, err
	}
	return p.tf.ChangeFactors(ctx, account, func(ctx context.Context) (bool, error) {
		state, _, err := p.st.DeletePhone(ctx, account, phoneID)
		if err != nil {
			return false, fmt.Errorf("twofa: remove phone: %w", err)
		}
		p.emit(ctx, twofa.Event{Type: EventRemoved, Account: account, PhoneID: phoneID, Time: p.clock.Now()})
		return p.cfg.OutOfBand && state == Trusted, nil
	})
}

// Purge deletes, across accounts, pending numbers that lapsed and codes
// that neither work nor count for the send limits any more, and returns
// how many records it removed. Call it now and then (say hourly) to keep
// the store small; nothing depends on it.
func (p *Manager) Purge(ctx context.Context) (int, error) {
	now := p.clock.Now()
	n, err := p.st.DeleteExpiredPhones(ctx, now)
	if err != nil {
		return n, fmt.Errorf("twofa: purge phones: %w", err)
	}
	m, err := p.st.DeleteStaleChallenges(ctx, now)
	if err != nil {
		return n + m, fmt.Errorf("twofa: purge challenges: %w", err)
	}
	return n + m, nil
}
