package twofa

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Defaults of the Config fields of Phones and out-of-band codes.
const (
	// DefaultMaxPhones is the per-account limit on phone numbers: a
	// mobile, a work phone and a landline for voice calls, with room to
	// spare. Every trusted number is one more SIM that can be swapped or
	// line that can be diverted, so the limit stays low.
	DefaultMaxPhones = 5
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
	// DefaultMaxSendsPerAccountPerHour caps the codes one account sends
	// in any hour, to all its numbers together and counting numbers it
	// removed since. Without it an account could pump messages (which
	// bill the sender, at premium rates on some ranges) by adding,
	// texting and removing fresh numbers. Ten leaves room to confirm a
	// new number with a couple of resends and still sign in; a person
	// needs no more in an hour.
	DefaultMaxSendsPerAccountPerHour = 10
	// PendingPhoneTTL is how long an added number may wait to be
	// confirmed: an hour, room for every resend the hourly cap allows.
	// An unconfirmed number then lapses and frees its slot.
	PendingPhoneTTL = time.Hour
	// MaxChallengeTTL bounds Config.Phones.ChallengeTTL: a code that lives
	// longer than the hour the send limits look back on is no longer a
	// one-time code.
	MaxChallengeTTL = time.Hour
	// MaxChallengeAttempts bounds Config.Phones.ChallengeAttempts.
	MaxChallengeAttempts = 100
)

// FactorPhone is the kind of a code sent to a trusted phone number
// (Result.Factor).
const FactorPhone FactorKind = "phone"

// voidTimeout bounds voiding the code of a failed send, which runs even
// when the caller's context is done.
const voidTimeout = 5 * time.Second

// Errors of Phones.
var (
	// ErrTooManyPhones: the account has Config.Phones.Max numbers
	// (trusted and pending ones that have not lapsed).
	ErrTooManyPhones = fmt.Errorf("%w: too many phone numbers", ErrLimitReached)
	// ErrPhoneExists: the account has this number already (trusted, or
	// pending: send it a code instead).
	ErrPhoneExists = fmt.Errorf("%w: phone number already added", ErrDuplicate)
	// ErrPhoneConfirmed: Confirm on a number that is trusted already.
	ErrPhoneConfirmed = errors.New("twofa: phone number already confirmed")
	// ErrCodeExpired: no code is active for the phone - none was sent,
	// it expired, a newer one replaced it, or it took
	// Config.Phones.ChallengeAttempts wrong tries. Send a new one.
	ErrCodeExpired = errors.New("twofa: code expired; send a new one")
	// ErrOutOfBandDisabled: a sign-in code was asked for while
	// Config.Phones.OutOfBand is off, so TwoFA.Verify would not accept it.
	ErrOutOfBandDisabled = errors.New("twofa: out-of-band codes are not enabled")
	// ErrInvalidChannel: a Channel other than ChannelSMS and
	// ChannelVoice.
	ErrInvalidChannel = errors.New("twofa: invalid channel")
)

// resolvePhones fills in the defaults of the phone fields and checks
// them.
func (c *Config) resolvePhones() error {
	p := &c.Phones
	p.Max = cmp.Or(p.Max, DefaultMaxPhones)
	p.ChallengeTTL = cmp.Or(p.ChallengeTTL, DefaultChallengeTTL)
	p.ChallengeAttempts = cmp.Or(p.ChallengeAttempts, DefaultChallengeAttempts)
	p.ResendCooldown = cmp.Or(p.ResendCooldown, DefaultResendCooldown)
	p.MaxSendsPerHour = cmp.Or(p.MaxSendsPerHour, DefaultMaxSendsPerHour)
	p.MaxAccountSends = cmp.Or(p.MaxAccountSends, DefaultMaxSendsPerAccountPerHour)
	switch {
	case p.Max < 1:
		return fmt.Errorf("%w: Phones.Max %d is below 1", ErrConfig, p.Max)
	case p.ChallengeTTL < time.Second || p.ChallengeTTL > MaxChallengeTTL:
		return fmt.Errorf("%w: Phones.ChallengeTTL %v outside 1s to %v", ErrConfig, p.ChallengeTTL, MaxChallengeTTL)
	case p.ChallengeAttempts < 1 || p.ChallengeAttempts > MaxChallengeAttempts:
		return fmt.Errorf("%w: Phones.ChallengeAttempts %d outside 1 to %d", ErrConfig, p.ChallengeAttempts, MaxChallengeAttempts)
	case p.ResendCooldown < 0 || p.ResendCooldown > sendWindow:
		return fmt.Errorf("%w: Phones.ResendCooldown %v outside 0 to %v", ErrConfig, p.ResendCooldown, sendWindow)
	case p.MaxSendsPerHour < 1:
		return fmt.Errorf("%w: Phones.MaxSendsPerHour %d is below 1", ErrConfig, p.MaxSendsPerHour)
	case p.MaxAccountSends < 1:
		return fmt.Errorf("%w: Phones.MaxAccountSends %d is below 1", ErrConfig, p.MaxAccountSends)
	}
	if p.Sender != nil {
		// Issuer names the service in the messages.
		if err := checkShown(c.Issuer); err != nil {
			return fmt.Errorf("%w: Issuer: %v", ErrConfig, err)
		}
	}
	return nil
}

// PhoneInfo is what a settings page shows of a phone number. Number
// prints masked ("+1 ••• ••• ••42"); its E164 field holds the full
// number, for a page that chooses to show it.
//
// encoding/json writes it with snake_case names, State as text
// ("trusted"), without the times that are unset, and with the number
// masked, as "number": JSON goes to browsers, caches and logs, so a page
// that shows the full number sends Number.E164 itself. Decoding leaves
// Number alone.
type PhoneInfo struct {
	ID          string      `json:"id"`
	Number      PhoneNumber `json:"-"` // in JSON: "number", masked
	State       PhoneState  `json:"state"`
	CreatedAt   time.Time   `json:"created_at,omitzero"`
	ExpiresAt   time.Time   `json:"expires_at,omitzero"` // pending numbers: when they lapse unconfirmed
	ConfirmedAt time.Time   `json:"confirmed_at,omitzero"`
	LastUsedAt  time.Time   `json:"last_used_at,omitzero"`
}

// MarshalJSON writes the phone as the PhoneInfo doc describes, the number
// masked.
func (p PhoneInfo) MarshalJSON() ([]byte, error) {
	type fields PhoneInfo // PhoneInfo's fields and tags, without this method
	return json.Marshal(struct {
		ID     string `json:"id"`
		Number string `json:"number"`
		fields
	}{p.ID, p.Number.Masked(), fields(p)})
}

// LogValue describes the phone for log/slog with its number masked (a
// JSON handler would otherwise marshal Number in full).
func (p PhoneInfo) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", p.ID),
		slog.String("number", p.Number.Masked()),
		slog.String("state", p.State.String()),
		slog.Time("created_at", p.CreatedAt),
	)
}

func (p Phone) info() PhoneInfo {
	return PhoneInfo{
		ID: p.ID, Number: p.Number, State: p.State, CreatedAt: p.CreatedAt,
		ExpiresAt: p.ExpiresAt, ConfirmedAt: p.ConfirmedAt, LastUsedAt: p.LastUsedAt,
	}
}

// ChallengeInfo describes a code that was sent, without the code: what a
// "we sent a code to +1 ••• ••• ••42" page needs. encoding/json writes it
// as PhoneInfo is written: snake_case names, Purpose and Channel as text
// ("sign_in", "sms"), no unset times, and To masked.
type ChallengeInfo struct {
	ID        string           `json:"id"`
	PhoneID   string           `json:"phone_id"`
	To        PhoneNumber      `json:"-"` // prints masked; in JSON: "to", masked
	Purpose   ChallengePurpose `json:"purpose"`
	Channel   Channel          `json:"channel"`
	CreatedAt time.Time        `json:"created_at,omitzero"`
	ExpiresAt time.Time        `json:"expires_at,omitzero"` // when the code stops working
	ResendAt  time.Time        `json:"resend_at,omitzero"`  // the earliest time another code may be sent (the cool-down)
}

// MarshalJSON writes the challenge as the ChallengeInfo doc describes, the
// number masked.
func (c ChallengeInfo) MarshalJSON() ([]byte, error) {
	type fields ChallengeInfo // ChallengeInfo's fields and tags, without this method
	return json.Marshal(struct {
		ID      string `json:"id"`
		PhoneID string `json:"phone_id"`
		To      string `json:"to"`
		fields
	}{c.ID, c.PhoneID, c.To.Masked(), fields(c)})
}

// LogValue describes the challenge for log/slog with its number masked.
func (c ChallengeInfo) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", c.ID),
		slog.String("phone_id", c.PhoneID),
		slog.String("to", c.To.Masked()),
		slog.String("purpose", c.Purpose.String()),
		slog.String("channel", c.Channel.String()),
		slog.Time("expires_at", c.ExpiresAt),
	)
}

// Phones manages the phone numbers of accounts and sends them
// out-of-band codes (SMS or voice) through Config.Phones.Sender: add a number
// (pending), prove it with a code sent to it (trusted), list (masked),
// remove; and send sign-in codes to trusted numbers, which TwoFA.Verify
// accepts when Config.Phones.OutOfBand is set.
//
// Codes are 6 random digits (crypto/rand, unbiased), stored as keyed
// digests, single use, valid for Config.Phones.ChallengeTTL and for at most
// Config.Phones.ChallengeAttempts wrong tries. Sending is limited per account,
// in the store and so across replicas: Config.Phones.ResendCooldown between two
// codes to one number, Config.Phones.MaxSendsPerHour to one number in any hour
// (for verification and sign-in codes apart), and
// Config.Phones.MaxAccountSends to all the account's numbers in any hour. The
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
// Prefer authenticator apps (Devices); accept phone codes for sign-in
// only by setting Config.Phones.OutOfBand, and let users who have an app turn
// the phone off.
//
// Phones is safe for concurrent use.
type Phones struct {
	c  *Config
	ps PhoneStore
	cs ChallengeStore
}

// Add adds a phone number to the account, pending: it is no second
// factor until Confirm has seen a code sent to it (call SendCode next),
// and it lapses unconfirmed after PendingPhoneTTL. n comes from package
// phonenumber's Parse, or from the backend's own validation; Add checks
// its form only (PhoneNumber.Validate).
//
// Errors: ErrInvalidAccount, ErrInvalidPhoneNumber, ErrPhoneExists (the
// account has the number, trusted or pending), ErrTooManyPhones.
func (p *Phones) Add(ctx context.Context, account string, n PhoneNumber) (PhoneInfo, error) {
	if err := validAccount(account); err != nil {
		return PhoneInfo{}, err
	}
	if err := n.Validate(); err != nil {
		return PhoneInfo{}, err
	}
	id, err := newID()
	if err != nil {
		return PhoneInfo{}, err
	}
	now := p.c.Clock.Now()
	ph := Phone{
		ID: id, Account: account, Number: n, State: PhonePending,
		CreatedAt: now, ExpiresAt: now.Add(PendingPhoneTTL),
	}
	if err := p.ps.InsertPhone(ctx, ph, p.c.Phones.Max, now); err != nil {
		switch {
		case errors.Is(err, ErrLimitReached):
			return PhoneInfo{}, ErrTooManyPhones
		case errors.Is(err, ErrDuplicate):
			return PhoneInfo{}, ErrPhoneExists
		}
		return PhoneInfo{}, fmt.Errorf("twofa: add phone: %w", err)
	}
	p.c.Events.emit(ctx, Event{Type: EventPhoneAdded, Account: account, PhoneID: id, Time: now})
	return ph.info(), nil
}

// SendCode sends a new code to one of the account's numbers by ch (SMS or
// voice): to a pending number, the code that confirms it (Confirm); to a
// trusted one, a sign-in code (TwoFA.Verify), which needs
// Config.Phones.OutOfBand. The new code replaces the number's previous code of
// the same purpose.
//
// The code is recorded before it is sent: a send that fails still counts
// toward the send limits (the provider may have sent, and billed, it
// after all), but its code is voided - an undelivered code is never left
// valid - so the user asks for a new one.
//
// Errors: ErrInvalidAccount, ErrInvalidChannel, ErrNotFound (also for a
// malformed phoneID, see MaxIDLen: nothing is looked up or sent),
// ErrEnrollmentExpired (a pending number that lapsed),
// ErrOutOfBandDisabled, *CooldownError (errors.Is ErrCooldown; with
// Hourly set also ErrTooManyCodes and ErrLimitReached), *SendError
// (errors.Is ErrSendFailed).
func (p *Phones) SendCode(ctx context.Context, account, phoneID string, ch Channel) (ChallengeInfo, error) {
	if err := validAccount(account); err != nil {
		return ChallengeInfo{}, err
	}
	if !ch.valid() {
		return ChallengeInfo{}, ErrInvalidChannel
	}
	if err := validID("send code", phoneID); err != nil {
		return ChallengeInfo{}, err
	}
	ph, err := p.ps.Phone(ctx, account, phoneID)
	if err != nil {
		return ChallengeInfo{}, fmt.Errorf("twofa: send code: %w", err)
	}
	now := p.c.Clock.Now()
	c := Challenge{
		Account: account, PhoneID: ph.ID, Channel: ch, State: ChallengeOpen,
		CreatedAt: now, ExpiresAt: now.Add(p.c.Phones.ChallengeTTL),
	}
	switch ph.State {
	case PhonePending:
		if !now.Before(ph.ExpiresAt) {
			return ChallengeInfo{}, ErrEnrollmentExpired
		}
		c.Purpose = ChallengeVerifyPhone
		if ph.ExpiresAt.Before(c.ExpiresAt) {
			c.ExpiresAt = ph.ExpiresAt // the code cannot outlive the number
		}
	case PhoneTrusted:
		if !p.c.Phones.OutOfBand {
			return ChallengeInfo{}, ErrOutOfBandDisabled
		}
		c.Purpose = ChallengeSignIn
	default:
		return ChallengeInfo{}, fmt.Errorf("twofa: send code: phone %s in unknown state %d", ph.ID, ph.State)
	}
	if c.ID, err = newID(); err != nil {
		return ChallengeInfo{}, err
	}
	code, err := newChallengeCode(rand.Reader)
	if err != nil {
		return ChallengeInfo{}, err
	}
	if c.Digest, err = challengeDigest(p.c.Keyring, c, code); err != nil {
		return ChallengeInfo{}, err
	}
	if err := p.cs.CreateChallenge(ctx, c, p.c.Phones.ResendCooldown, p.c.Phones.MaxSendsPerHour, p.c.Phones.MaxAccountSends); err != nil {
		var cd *CooldownError
		if errors.As(err, &cd) {
			p.c.Events.emit(ctx, Event{Type: EventCodeSendRefused, Account: account, PhoneID: ph.ID, Time: now, RetryAfter: cd.RetryAfter})
			return ChallengeInfo{}, cd
		}
		return ChallengeInfo{}, fmt.Errorf("twofa: send code: %w", err)
	}
	m := Message{To: ph.Number, Channel: ch, Purpose: c.Purpose, Code: code, Issuer: p.c.Issuer, ExpiresAt: c.ExpiresAt}
	if err := p.c.Phones.Sender.Send(ctx, m); err != nil {
		serr := error(newSendError(m, err))
		// Void the code even when ctx is what failed the send.
		vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), voidTimeout)
		defer cancel()
		if verr := p.cs.VoidChallenge(vctx, account, c.ID); verr != nil {
			serr = errors.Join(serr, fmt.Errorf("twofa: send code: voiding the undelivered code: %w", verr))
		}
		return ChallengeInfo{}, serr
	}
	p.c.Events.emit(ctx, Event{Type: EventCodeSent, Account: account, PhoneID: ph.ID, Time: now})
	return ChallengeInfo{
		ID: c.ID, PhoneID: ph.ID, To: ph.Number, Purpose: c.Purpose, Channel: ch,
		CreatedAt: now, ExpiresAt: c.ExpiresAt, ResendAt: now.Add(p.c.Phones.ResendCooldown),
	}, nil
}

// Confirm proves a pending number with the code SendCode sent to it; the
// number is trusted from then on. The code is used up.
//
// Errors: ErrInvalidAccount, ErrNotFound (also for a malformed phoneID,
// see MaxIDLen: nothing is looked up), ErrPhoneConfirmed,
// ErrEnrollmentExpired (the number lapsed: add it again),
// ErrMalformedCode (not 6 digits - surrounding white space, and spaces
// and hyphens inside, are ignored; nothing counted), ErrInvalidCode (a
// wrong try, counted), ErrCodeExpired (no active code: send a new one;
// also after Config.Phones.ChallengeAttempts wrong tries, when even the right
// code is refused), ErrReplayed (the code was used, by a concurrent
// Confirm).
func (p *Phones) Confirm(ctx context.Context, account, phoneID, code string) (Change, error) {
	if err := validAccount(account); err != nil {
		return Change{}, err
	}
	if err := validID("confirm phone", phoneID); err != nil {
		return Change{}, err
	}
	ph, err := p.ps.Phone(ctx, account, phoneID)
	if err != nil {
		return Change{}, fmt.Errorf("twofa: confirm phone: %w", err)
	}
	now := p.c.Clock.Now()
	if ph.State == PhoneTrusted {
		return Change{}, ErrPhoneConfirmed
	}
	if !now.Before(ph.ExpiresAt) {
		return Change{}, ErrEnrollmentExpired
	}
	canon, ok := canonicalChallengeCode(code)
	if !ok {
		return Change{}, ErrMalformedCode
	}
	live, err := p.cs.LiveChallenges(ctx, account, ChallengeVerifyPhone, now)
	if err != nil {
		return Change{}, fmt.Errorf("twofa: confirm phone: %w", err)
	}
	var c *Challenge
	for i := range live {
		if live[i].PhoneID == phoneID {
			c = &live[i] // the newest: a new challenge voids the older ones
			break
		}
	}
	if c == nil {
		return Change{}, ErrCodeExpired
	}
	if c.State == ChallengeUsed {
		if match, err := challengeMatches(p.c.Keyring, *c, canon); err != nil {
			return Change{}, err
		} else if match {
			return Change{}, ErrReplayed
		}
		return Change{}, ErrCodeExpired
	}
	res, attempts, err := consume(ctx, p.c.Keyring, p.cs, *c, canon, p.c.Phones.ChallengeAttempts, now)
	if err != nil {
		return Change{}, fmt.Errorf("twofa: confirm phone: %w", err)
	}
	switch res {
	case ConsumeAccepted:
	case ConsumeWrong:
		p.c.Events.emit(ctx, Event{Type: EventPhoneConfirmFailed, Account: account, PhoneID: phoneID, Time: now, Failures: attempts})
		return Change{}, ErrInvalidCode
	case ConsumeUsed:
		return Change{}, ErrReplayed
	default:
		return Change{}, ErrCodeExpired
	}
	// Trusting the number goes through the lifecycle: with
	// Config.Phones.OutOfBand it may turn two-factor authentication on.
	return p.c.change(ctx, account, func(ctx context.Context) (bool, error) {
		ok, err := p.ps.ConfirmPhone(ctx, account, phoneID, now)
		if err != nil {
			return false, fmt.Errorf("twofa: confirm phone: %w", err)
		}
		if !ok {
			// Confirmed meanwhile (by another code), or lapsed.
			cur, err := p.ps.Phone(ctx, account, phoneID)
			if err == nil && cur.State == PhoneTrusted {
				return false, ErrPhoneConfirmed
			}
			return false, ErrEnrollmentExpired
		}
		p.c.Events.emit(ctx, Event{Type: EventPhoneConfirmed, Account: account, PhoneID: phoneID, Time: now})
		return false, nil
	})
}

// List returns the account's phone numbers, oldest first: trusted ones
// and pending ones that have not lapsed. Their Numbers print masked.
func (p *Phones) List(ctx context.Context, account string) ([]PhoneInfo, error) {
	if err := validAccount(account); err != nil {
		return nil, err
	}
	phs, err := p.ps.Phones(ctx, account)
	if err != nil {
		return nil, fmt.Errorf("twofa: list phones: %w", err)
	}
	now := p.c.Clock.Now()
	out := make([]PhoneInfo, 0, len(phs))
	for _, ph := range phs {
		if ph.State == PhonePending && !now.Before(ph.ExpiresAt) {
			continue
		}
		out = append(out, ph.info())
	}
	return out, nil
}

// Remove removes a phone number (pending or trusted); codes sent to it
// stop working at once. When the number was trusted, Config.Phones.OutOfBand is
// set and the account is left with no trusted number and no confirmed
// device, two-factor authentication is off: Remove voids what depends on
// it, as Devices.Revoke does (the recovery codes, app passwords and what
// the attached Dependents hold, such as trusted browsers), and reports EventTwoFactorDisabled. Removing a pending number
// (an abandoned confirmation) never does, as revoking a pending device
// never does. The state that decides is the one the number had when it
// was removed, in the same atomic step that counts the trusted numbers
// left. The number's send history stays, so removing and re-adding it does
// not reset its send limits.
//
// Errors: ErrInvalidAccount, ErrNotFound (also for a malformed phoneID,
// see MaxIDLen: nothing is looked up).
func (p *Phones) Remove(ctx context.Context, account, phoneID string) (Change, error) {
	if err := validAccount(account); err != nil {
		return Change{}, err
	}
	if err := validID("remove phone", phoneID); err != nil {
		return Change{}, err
	}
	return p.c.change(ctx, account, func(ctx context.Context) (bool, error) {
		state, _, err := p.ps.DeletePhone(ctx, account, phoneID)
		if err != nil {
			return false, fmt.Errorf("twofa: remove phone: %w", err)
		}
		p.c.Events.emit(ctx, Event{Type: EventPhoneRemoved, Account: account, PhoneID: phoneID, Time: p.c.Clock.Now()})
		return p.c.Phones.OutOfBand && state == PhoneTrusted, nil
	})
}

// Purge deletes, across accounts, pending numbers that lapsed and codes
// that neither work nor count for the send limits any more, and returns
// how many records it removed. Call it now and then (say hourly) to keep
// the store small; nothing depends on it.
func (p *Phones) Purge(ctx context.Context) (int, error) {
	now := p.c.Clock.Now()
	n, err := p.ps.DeleteExpiredPhones(ctx, now)
	if err != nil {
		return n, fmt.Errorf("twofa: purge phones: %w", err)
	}
	m, err := p.cs.DeleteStaleChallenges(ctx, now)
	if err != nil {
		return n + m, fmt.Errorf("twofa: purge challenges: %w", err)
	}
	return n + m, nil
}
