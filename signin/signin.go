// Package signin keeps pending sign-ins: the step between a checked
// password and a checked second factor. After the password, Begin records
// a sign-in for the account and returns a random token to hand to the
// browser (the store keeps only its keyed digest) - unless two-factor
// authentication is off for the account or the request carries the token
// of a trusted browser (package browser), when the sign-in is complete at
// once. Finish takes the token and a second factor (a device code, a
// recovery code, an out-of-band code: whatever twofa.TwoFA.Verify accepts)
// and completes the sign-in exactly once, across replicas.
//
// A pending sign-in expires (Config.TTL), takes a bounded number of
// second factors (Config.MaxAttempts), and records what a person would
// want to see of it later: when it started, the requesting browser's
// label and IP address (Info).
//
// It is built on a twofa installation and imports package twofa, which
// never imports it. New attaches the Manager to the installation as a
// twofa.Dependent, so that turning two-factor authentication off and
// twofa.TwoFA.PasswordChanged end every pending sign-in of the account, and
// twofa.TwoFA.Purge removes the expired ones. The events (EventStarted and
// the others) are the installation's: they go to twofa.Config.Events.
//
//	tf, _ := twofa.New(twofa.Config{Store: store, Keyring: keys, Issuer: "Example"})
//	browsers, _ := browser.New(tf, browser.Config{Store: store})
//	signins, _ := signin.New(tf, signin.Config{Browsers: browsers})
//
//	// After the password:
//	cookie, _ := browser.Token(r)
//	tok, p, err := signins.Begin(ctx, account, signin.Request{
//		BrowserToken: cookie, Label: browser.Label(r.UserAgent()), IP: clientIP,
//	})
//	if p.Done { /* signed in */ } else { /* ask for the code; keep tok in the form */ }
//
//	// With the code:
//	fin, err := signins.Finish(ctx, tok, code)
//	if err == nil { /* fin.Account is signed in */ }
package signin

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
)

// Pending sign-ins.
const (
	// DefaultTTL is how long a pending sign-in can be finished: 5
	// minutes. It is one step of one sign-in, a short-lived secret as
	// OWASP's authentication guidance asks of the state between factors,
	// and about as long as Apple's sign-in waits for its verification
	// code: long enough to fetch a phone, open an authenticator app or
	// wait for a text, short enough that a token lifted from a browser is
	// stale before it is of use.
	DefaultTTL = 5 * time.Minute
	// MaxTTL is the longest Config.TTL: one hour. A pending sign-in has
	// passed the password; keeping one longer turns its token into a
	// half-credential that outlives the visit.
	MaxTTL = time.Hour
	// DefaultMaxAttempts is how many second factors a pending sign-in
	// takes: 5, as many as twofa gives a pending enrolment. More than a
	// person mistypes; against a six-digit code with the default skew
	// (three codes valid at a time) five guesses succeed with probability
	// 1.5e-5, after which the guesser must pass the password again. The
	// installation's throttle (twofa.Config.Throttle) still counts every
	// one per account, across sign-ins.
	DefaultMaxAttempts = 5
	// MaxMaxAttempts is the largest Config.MaxAttempts.
	MaxMaxAttempts = 100
	// DefaultMax bounds the pending sign-ins of an account: 10. A person
	// starts one per browser, and rarely more than a few within a TTL;
	// the bound keeps someone who has the password from filling the store
	// (and a later approval screen) with them. At the limit, Begin drops
	// the oldest (EventEvicted).
	DefaultMax = 10
	// TokenLen is the length of a token: 32 random bytes (256 bits) in
	// unpadded base64url (RFC 4648 Section 5).
	TokenLen = 43
	// MaxIPLen bounds Request.IP, in bytes: the longest IPv6 text
	// (45 bytes, with an embedded IPv4 address) and room for a zone.
	MaxIPLen = 64

	// tokenBytes is the entropy of a token.
	tokenBytes = 32
	// tokenAccount is what the token's digest is bound to in place of an
	// account (Keyring.Digest binds one): Finish looks a token up before
	// it knows the account. It is part of every stored digest.
	tokenAccount = "pending-sign-in"
	// settleTimeout bounds a store write that the request may not cut
	// short: finishing a sign-in whose factor was used up, giving back an
	// attempt.
	settleTimeout = 5 * time.Second
)

// DigestPurpose is the purpose this package passes to
// twofa.Keyring.Digest for sign-in tokens. It is part of every stored
// digest: renaming it would invalidate them all.
const DigestPurpose = "signin-token"

// Errors. ErrExpired and ErrTooManyAttempts match ErrNotFound too, and
// ErrNotFound matches twofa.ErrNotFound: in every case the user starts
// over with the password.
var (
	// ErrNotFound: no such pending sign-in - the token is unknown,
	// malformed, finished already, cancelled, revoked (two-factor
	// authentication turned off, the password changed) or evicted. One
	// error for all, so that a token's holder learns nothing from it.
	ErrNotFound = fmt.Errorf("%w: no such pending sign-in", twofa.ErrNotFound)
	// ErrExpired: the sign-in was not finished within Config.TTL.
	ErrExpired = fmt.Errorf("%w: expired", ErrNotFound)
	// ErrTooManyAttempts: the sign-in took Config.MaxAttempts second
	// factors without a right one. It is void; the user starts over with
	// the password.
	ErrTooManyAttempts = fmt.Errorf("%w: too many wrong second factors", ErrNotFound)
	// ErrInvalidIP: Request.IP is neither empty nor an IP address (an
	// address with a port is not one). The address is not quoted.
	ErrInvalidIP = errors.New("twofa: invalid IP address")
)

// Events of pending sign-ins, reported through the installation's
// Config.Events with SignInID set.
const (
	EventStarted    twofa.EventType = "signin_started"   // a pending sign-in was recorded (Manager.Begin)
	EventFinished   twofa.EventType = "signin_finished"  // a pending sign-in was completed with a second factor (Manager.Finish)
	EventFailed     twofa.EventType = "signin_failed"    // a wrong second factor was given (Failures: tries counted so far)
	EventVoided     twofa.EventType = "signin_voided"    // the last try was wrong: the sign-in is void
	EventCancelled  twofa.EventType = "signin_cancelled" // the user backed out (Manager.Cancel) or the account ended it (Manager.Revoke)
	EventEvicted    twofa.EventType = "signin_evicted"   // the oldest pending sign-in was dropped to make room (Config.Max)
	EventRevokedAll twofa.EventType = "signins_revoked"  // every pending sign-in of the account was ended (Count says how many)
)

// Config sets up the pending sign-ins of an installation (New). The zero
// value of every optional field gives the documented default.
type Config struct {
	// Store keeps the records; nil means the installation's Store
	// (twofa.Config.Store), which must then implement Store (memstore and
	// sqlstore do).
	Store Store
	// Browsers, if set, are the installation's trusted browsers: a
	// Request whose BrowserToken one of them holds for the account is
	// signed in at once. Without it BrowserToken is ignored.
	Browsers    *browser.Manager
	TTL         time.Duration // how long a sign-in may wait for its second factor; 0: DefaultTTL
	MaxAttempts int           // second factors per sign-in; 0: DefaultMaxAttempts
	Max         int           // pending sign-ins per account; 0: DefaultMax
}

// Request is what the backend knows of the request that passed the
// password.
type Request struct {
	// BrowserToken is the value of the trusted-browser cookie
	// (browser.Token), "" if there is none.
	BrowserToken string
	// Label names the requesting browser for a person, such as
	// browser.Label(r.UserAgent()); "" for none. It is normalised and
	// bounded as twofa.NormalizeLabel does (else twofa.ErrInvalidLabel).
	Label string
	// IP is the client's address as the backend determines it (its own
	// reading of X-Forwarded-For or the connection's address, without the
	// port), "" for none; else ErrInvalidIP. An IPv4-mapped IPv6 address
	// is kept as IPv4 and a zone is dropped.
	IP string
}

// Info is what a person would want to see of a pending sign-in: never its
// token or digest. encoding/json writes it with snake_case names.
type Info struct {
	ID        string     `json:"id"`
	Account   string     `json:"account"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"` // can be finished until then (exclusive)
	Label     string     `json:"label,omitempty"`
	IP        netip.Addr `json:"ip,omitzero"` // the zero Addr when the backend passed none
	Attempts  int        `json:"attempts"`    // second factors tried so far
}

func (r *Record) info() Info {
	ip, _ := netip.ParseAddr(r.IP)
	return Info{
		ID: r.ID, Account: r.Account, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt,
		Label: r.Label, IP: ip, Attempts: r.Attempts,
	}
}

// Pending is the outcome of Begin.
type Pending struct {
	// Done: the account is signed in now, without a second factor,
	// because two-factor authentication is off for it or BrowserID is
	// one of its trusted browsers. No sign-in was recorded.
	Done      bool
	BrowserID string // when Done thanks to a trusted browser: its id
	Info      Info   // the recorded sign-in; zero when Done
}

// Finished is what Finish completed.
type Finished struct {
	Account string       // signed in
	Result  twofa.Result // what the second factor matched
	Info    Info         // the sign-in as it was when Finish looked it up
}

// Manager keeps the pending sign-ins of an installation. It is safe for
// concurrent use.
type Manager struct {
	tf          *twofa.TwoFA
	st          Store
	browsers    *browser.Manager
	ttl         time.Duration
	maxAttempts int
	max         int
	keys        twofa.Keyring
	clock       twofa.Clock
	events      twofa.EventHook
}

// New returns the pending sign-ins of the installation tf, read from its
// resolved Config (Keyring, Clock, Events) and c, and attaches them to tf
// (twofa.TwoFA.Attach), so that turning two-factor authentication off and
// twofa.TwoFA.PasswordChanged end every pending sign-in of the account,
// and twofa.TwoFA.Purge removes the expired ones. Build it once per
// installation, in every process that shares the store. Errors match
// twofa.ErrConfig.
func New(tf *twofa.TwoFA, c Config) (*Manager, error) {
	if tf == nil {
		return nil, fmt.Errorf("%w: signin.New needs an installation", twofa.ErrConfig)
	}
	tc := tf.Config()
	if c.Store == nil {
		st, ok := tc.Store.(Store)
		if !ok {
			return nil, fmt.Errorf("%w: signin.Config.Store is nil and the installation's Store is not a signin.Store", twofa.ErrConfig)
		}
		c.Store = st
	}
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.Max == 0 {
		c.Max = DefaultMax
	}
	switch {
	case c.TTL < time.Second || c.TTL > MaxTTL:
		return nil, fmt.Errorf("%w: signin.Config.TTL %v outside 1s to %v", twofa.ErrConfig, c.TTL, MaxTTL)
	case c.MaxAttempts < 1 || c.MaxAttempts > MaxMaxAttempts:
		return nil, fmt.Errorf("%w: signin.Config.MaxAttempts %d outside 1 to %d", twofa.ErrConfig, c.MaxAttempts, MaxMaxAttempts)
	case c.Max < 1:
		return nil, fmt.Errorf("%w: signin.Config.Max must be positive", twofa.ErrConfig)
	}
	m := &Manager{
		tf: tf, st: c.Store, browsers: c.Browsers, ttl: c.TTL, maxAttempts: c.MaxAttempts, max: c.Max,
		keys: tc.Keyring, clock: tc.Clock, events: tc.Events,
	}
	tf.Attach(m)
	return m, nil
}

// Config returns the resolved Config: every default filled in.
func (m *Manager) Config() Config {
	return Config{Store: m.st, Browsers: m.browsers, TTL: m.ttl, MaxAttempts: m.maxAttempts, Max: m.max}
}

func (m *Manager) emit(ctx context.Context, e twofa.Event) {
	if m.events != nil {
		m.events(ctx, e)
	}
}

// Begin starts the second step of a sign-in, once the account's password
// was checked. It returns Pending.Done, and no token, when the account is
// signed in at once: two-factor authentication is off for it, or
// r.BrowserToken is one of its trusted browsers (Config.Browsers; an
// untrusted, expired, revoked or malformed token only means a code is
// asked for). Otherwise it records a pending sign-in (EventStarted) and
// returns its token, to hand to the browser (a cookie, or a hidden field
// of the code form) and to pass to Finish. The token is shown once: only
// its keyed digest is stored.
//
// The record is stored through twofa.TwoFA.Issue, under the account's
// lifecycle lock and only while two-factor authentication is on, so it
// cannot outlive the last factor: turning two-factor authentication off
// either finishes first (and Begin reports Done) or ends the record too.
// When the account has Config.Max pending sign-ins, the oldest is dropped
// (EventEvicted).
//
// Errors: twofa.ErrInvalidAccount, twofa.ErrInvalidLabel, ErrInvalidIP
// (nothing was looked up or stored), or a wrapped store or Keyring error.
func (m *Manager) Begin(ctx context.Context, account string, r Request) (token string, p Pending, err error) {
	if err := twofa.CheckAccount(account); err != nil {
		return "", Pending{}, err
	}
	label := ""
	if r.Label != "" {
		if label, err = twofa.NormalizeLabel(r.Label); err != nil {
			return "", Pending{}, err
		}
	}
	ip, err := parseIP(r.IP)
	if err != nil {
		return "", Pending{}, err
	}
	if m.browsers != nil && r.BrowserToken != "" {
		b, err := m.browsers.Check(ctx, account, r.BrowserToken)
		if err == nil {
			return "", Pending{Done: true, BrowserID: b.ID}, nil
		}
		if !errors.Is(err, browser.ErrNotTrusted) {
			return "", Pending{}, fmt.Errorf("twofa: begin sign-in: %w", err)
		}
	}
	var raw [tokenBytes]byte
	defer clear(raw[:])
	if _, err := rand.Read(raw[:]); err != nil {
		return "", Pending{}, fmt.Errorf("twofa: reading random sign-in token: %w", err)
	}
	digest, err := m.keys.Digest(DigestPurpose, tokenAccount, raw[:])
	if err != nil {
		return "", Pending{}, err
	}
	id, err := twofa.NewID()
	if err != nil {
		return "", Pending{}, err
	}
	now := m.clock.Now()
	rec := Record{
		ID: id, Account: account, Digest: digest,
		CreatedAt: now, ExpiresAt: now.Add(m.ttl), Label: label,
	}
	if ip.IsValid() {
		rec.IP = ip.String()
	}
	if rec.MAC, err = m.mac(&rec); err != nil {
		return "", Pending{}, fmt.Errorf("twofa: begin sign-in: %w", err)
	}
	var evicted []string
	err = m.tf.Issue(ctx, account, func(ctx context.Context) error {
		var err error
		evicted, err = m.st.CreateSignIn(ctx, rec, m.max, now)
		if err != nil {
			return fmt.Errorf("twofa: begin sign-in: %w", err)
		}
		return nil
	})
	if errors.Is(err, twofa.ErrNotEnrolled) {
		return "", Pending{Done: true}, nil
	}
	if err != nil {
		return "", Pending{}, err
	}
	m.emit(ctx, twofa.Event{Type: EventStarted, Account: account, SignInID: id, Time: now})
	for _, e := range evicted {
		m.emit(ctx, twofa.Event{Type: EventEvicted, Account: account, SignInID: e, Time: now})
	}
	return base64.RawURLEncoding.EncodeToString(raw[:]), Pending{Info: rec.info()}, nil
}

// parseIP reads Request.IP.
func parseIP(s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, nil
	}
	if len(s) > MaxIPLen {
		return netip.Addr{}, ErrInvalidIP
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, ErrInvalidIP
	}
	return a.Unmap().WithZone(""), nil
}

// Finish completes the pending sign-in of token with a second factor:
// code is whatever twofa.TwoFA.Verify accepts for the account (a device
// code, a recovery code, an out-of-band code). Of any number of
// concurrent calls for one sign-in, on any number of replicas, at most one
// succeeds; then the sign-in is gone.
//
// Each second factor is counted against the sign-in before it is
// evaluated (Store.ChargeSignIn), the right one included, so that of any
// number of parallel submissions at most Config.MaxAttempts reach Verify;
// one that Verify did not evaluate (malformed, throttled, a store error)
// is given back. The last wrong one voids the sign-in (EventVoided).
// Finished carries the account and the sign-in's Info whenever the
// sign-in was found, also with an error.
//
// The stored record is authenticated (Record.MAC) before anything in it
// is believed: one whose MAC does not verify - moved to another account,
// its attempts or expiry changed, stored without a MAC - is refused with
// an error that matches ErrNotFound and twofa.ErrTampered (through
// errors.As a *twofa.TamperedError), and a twofa.EventTampered.
//
// Errors: ErrNotFound (also for a malformed token: nothing is looked up);
// ErrExpired; ErrTooManyAttempts (joined, for the try that voided the
// sign-in, with Verify's error for it); and Verify's errors, unchanged:
// twofa.ErrMalformedCode, twofa.ErrInvalidCode, twofa.ErrReplayed,
// *twofa.ThrottledError, twofa.ErrNotEnrolled, a store error. A right
// factor whose sign-in a concurrent Finish completed (or Cancel, Revoke,
// RevokeAll ended) in the meantime is ErrNotFound, and the factor stays
// used: a recovery code is spent.
func (m *Manager) Finish(ctx context.Context, token, code string) (Finished, error) {
	rec, err := m.lookup(ctx, token)
	if err != nil {
		return Finished{}, err
	}
	fin := Finished{Account: rec.Account, Info: rec.info()}
	if !m.clock.Now().Before(rec.ExpiresAt) {
		return fin, ErrExpired
	}
	// Charge the try before Verify sees the code: the read above is stale
	// under concurrency, the charge is not.
	n, err := m.charge(ctx, &rec)
	fin.Info.Attempts = rec.Attempts
	if err != nil {
		return fin, err
	}
	res, verr := m.tf.Verify(ctx, rec.Account, code)
	if verr != nil {
		now := m.clock.Now()
		if !errors.Is(verr, twofa.ErrInvalidCode) && !errors.Is(verr, twofa.ErrReplayed) {
			// Not evaluated: give the try back.
			dctx, cancel := settle(ctx)
			_, rerr := m.refund(dctx, &rec)
			cancel()
			fin.Info.Attempts = rec.Attempts
			if rerr != nil && !errors.Is(rerr, twofa.ErrNotFound) {
				return fin, errors.Join(verr, fmt.Errorf("twofa: finish sign-in: %w", rerr))
			}
			return fin, verr
		}
		m.emit(ctx, twofa.Event{Type: EventFailed, Account: rec.Account, SignInID: rec.ID, Time: now, Failures: n})
		if n >= m.maxAttempts {
			m.emit(ctx, twofa.Event{Type: EventVoided, Account: rec.Account, SignInID: rec.ID, Time: now})
			return fin, &voidedError{verr}
		}
		return fin, verr
	}
	// The factor is used up: finishing is not cut short by the request.
	dctx, cancel := settle(ctx)
	err = m.st.DeleteSignIn(dctx, rec.Account, rec.ID)
	cancel()
	switch {
	case errors.Is(err, twofa.ErrNotFound):
		return fin, ErrNotFound
	case err != nil:
		return fin, fmt.Errorf("twofa: finish sign-in: %w", err)
	}
	m.emit(ctx, twofa.Event{Type: EventFinished, Account: rec.Account, SignInID: rec.ID, Time: m.clock.Now()})
	fin.Result = res
	return fin, nil
}

// rounds bounds how often charge and refund read a record again after a
// concurrent Finish changed it first. Each lost compare-and-set is
// another call's won one, and a sign-in takes at most MaxAttempts
// charges (plus as many refunds): a bound of four times that is not
// reached by honest contention.
func (m *Manager) rounds() int { return 4*m.maxAttempts + 8 }

// errContended is Finish's error when the sign-in changed under it more
// often than rounds allows: nothing was evaluated.
var errContended = errors.New("twofa: finish sign-in: the sign-in changed under too many concurrent attempts")

// charge counts one try against rec, a record read and authenticated by
// the caller: a compare-and-set on its MAC that stores the MAC of the
// incremented record, reading the record again when a concurrent call
// changed it first. It leaves rec as stored and returns the new count, or
// ErrTooManyAttempts when the record has none left.
func (m *Manager) charge(ctx context.Context, rec *Record) (int, error) {
	for range m.rounds() {
		if rec.Attempts >= m.maxAttempts {
			return rec.Attempts, ErrTooManyAttempts
		}
		next := *rec
		next.Attempts++
		mac, err := m.mac(&next)
		if err != nil {
			return 0, fmt.Errorf("twofa: finish sign-in: %w", err)
		}
		n, ok, err := m.st.ChargeSignIn(ctx, rec.Account, rec.ID, m.maxAttempts, rec.MAC, mac)
		switch {
		case errors.Is(err, twofa.ErrNotFound):
			return 0, ErrNotFound
		case err != nil:
			return 0, fmt.Errorf("twofa: finish sign-in: %w", err)
		case ok:
			rec.Attempts, rec.MAC = n, mac
			return n, nil
		case n >= m.maxAttempts:
			rec.Attempts = n
			return n, ErrTooManyAttempts
		}
		if err := m.reread(ctx, rec); err != nil {
			return 0, err
		}
	}
	return 0, errContended
}

// refund gives back one try charged against rec, as charge counts one,
// and reports whether it did. A record with no try charged is left alone;
// so is one that changed under it more often than rounds allows (the try
// stays counted: the safe side).
func (m *Manager) refund(ctx context.Context, rec *Record) (bool, error) {
	for range m.rounds() {
		if rec.Attempts <= 0 {
			return false, nil
		}
		next := *rec
		next.Attempts--
		mac, err := m.mac(&next)
		if err != nil {
			return false, err
		}
		ok, err := m.st.RefundSignIn(ctx, rec.Account, rec.ID, rec.MAC, mac)
		if err != nil {
			return false, err
		}
		if ok {
			rec.Attempts, rec.MAC = next.Attempts, mac
			return true, nil
		}
		if err := m.reread(ctx, rec); err != nil {
			return false, err
		}
	}
	return false, nil
}

// reread replaces rec with the record stored under its digest now,
// authenticated; ErrNotFound when it is gone.
func (m *Manager) reread(ctx context.Context, rec *Record) error {
	fresh, err := m.st.SignIn(ctx, rec.Digest)
	switch {
	case errors.Is(err, twofa.ErrNotFound), err == nil && (fresh.Account != rec.Account || fresh.ID != rec.ID):
		return ErrNotFound
	case err != nil:
		return fmt.Errorf("twofa: sign-in: %w", err)
	}
	if err := m.check(ctx, &fresh); err != nil {
		return err
	}
	*rec = fresh
	return nil
}

// state is what a sign-in's MAC authenticates besides its id and account:
// every other field, each variable one length-prefixed.
func (r *Record) state() []byte {
	b := make([]byte, 0, 3*binary.MaxVarintLen64+len(r.Digest)+len(r.Label)+len(r.IP)+24)
	b = binary.AppendUvarint(b, uint64(len(r.Digest)))
	b = append(b, r.Digest...)
	b = binary.BigEndian.AppendUint64(b, uint64(twofa.TimeNanos(r.CreatedAt)))
	b = binary.BigEndian.AppendUint64(b, uint64(twofa.TimeNanos(r.ExpiresAt)))
	b = binary.AppendUvarint(b, uint64(len(r.Label)))
	b = append(b, r.Label...)
	b = binary.AppendUvarint(b, uint64(len(r.IP)))
	b = append(b, r.IP...)
	return binary.BigEndian.AppendUint64(b, uint64(int64(r.Attempts)))
}

// mac returns the MAC of r's state (Record.MAC).
func (m *Manager) mac(r *Record) ([]byte, error) {
	return twofa.StateMAC(m.keys, r.Account, twofa.RecordSignIn, r.ID, r.state())
}

// check verifies r's MAC; on failure it reports a twofa.EventTampered
// and returns an error matching ErrNotFound and twofa.ErrTampered.
func (m *Manager) check(ctx context.Context, r *Record) error {
	if _, err := twofa.CheckStateMAC(m.keys, r.Account, twofa.RecordSignIn, r.ID, r.state(), r.MAC); err != nil {
		m.emit(ctx, twofa.Event{Type: twofa.EventTampered, Account: r.Account, SignInID: r.ID, Time: m.clock.Now()})
		return &tamperedError{err}
	}
	return nil
}

// tamperedError refuses a record whose MAC does not verify: it matches
// ErrNotFound (the user starts over with the password) and wraps the
// *twofa.TamperedError.
type tamperedError struct{ err error }

func (e *tamperedError) Error() string   { return ErrNotFound.Error() + ": " + e.err.Error() }
func (e *tamperedError) Unwrap() []error { return []error{ErrNotFound, e.err} }

// settle returns a context for a write that ctx's cancellation must not
// interrupt, bounded by settleTimeout.
func settle(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
}

// voidedError is the error of the try that voided a sign-in: it matches
// ErrTooManyAttempts and Verify's error for the try.
type voidedError struct{ verr error }

func (e *voidedError) Error() string   { return ErrTooManyAttempts.Error() + " (" + e.verr.Error() + ")" }
func (e *voidedError) Unwrap() []error { return []error{ErrTooManyAttempts, e.verr} }

// lookup returns the record of token, or ErrNotFound.
func (m *Manager) lookup(ctx context.Context, token string) (Record, error) {
	raw, ok := parseToken(token)
	if !ok {
		return Record{}, ErrNotFound
	}
	digest, err := m.keys.Digest(DigestPurpose, tokenAccount, raw[:])
	clear(raw[:])
	if err != nil {
		return Record{}, err
	}
	rec, err := m.st.SignIn(ctx, digest)
	if errors.Is(err, twofa.ErrNotFound) || (err == nil && !hmac.Equal(rec.Digest, digest)) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("twofa: sign-in: %w", err)
	}
	if err := m.check(ctx, &rec); err != nil {
		return Record{}, err
	}
	return rec, nil
}

// parseToken decodes a token: exactly TokenLen characters of the
// base64url alphabet, in canonical form (the unused low bits of the last
// character zero, so that no two strings name one token). The length is
// checked first, so a huge input costs nothing.
func parseToken(s string) ([tokenBytes]byte, bool) {
	var raw [tokenBytes]byte
	if len(s) != TokenLen {
		return raw, false
	}
	for i := 0; i < len(s); i++ {
		// The decoder would skip '\r' and '\n': accept the alphabet only.
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return raw, false
		}
	}
	n, err := base64.RawURLEncoding.Strict().Decode(raw[:], []byte(s))
	if err != nil || n != tokenBytes {
		clear(raw[:])
		return raw, false
	}
	return raw, true
}

// Lookup returns the Info of the pending sign-in of token without
// finishing it or charging an attempt: for the page that asks for the
// second factor, which needs the account (to offer "text me a code" to
// its trusted phones, say) before any code is typed. It refuses what
// Finish would refuse before looking at a code, with the same errors:
// ErrNotFound (also for a malformed token: nothing is looked up),
// ErrExpired, ErrTooManyAttempts, or a wrapped store or Keyring error;
// the Info is zero with every error.
//
// Lookup is a read: a sign-in it reports open may still be finished,
// voided or ended by another request before this one's Finish.
func (m *Manager) Lookup(ctx context.Context, token string) (Info, error) {
	rec, err := m.lookup(ctx, token)
	switch {
	case err != nil:
		return Info{}, err
	case !m.clock.Now().Before(rec.ExpiresAt):
		return Info{}, ErrExpired
	case rec.Attempts >= m.maxAttempts:
		return Info{}, ErrTooManyAttempts
	}
	return rec.info(), nil
}

// Cancel ends the pending sign-in of token: the user backed out
// (EventCancelled). Errors: ErrNotFound (also for a malformed token, or
// one finished or ended meanwhile), or a wrapped store error.
func (m *Manager) Cancel(ctx context.Context, token string) error {
	rec, err := m.lookup(ctx, token)
	if err != nil {
		return err
	}
	return m.end(ctx, rec.Account, rec.ID)
}

// Revoke ends one pending sign-in of the account by its id (Info.ID), as
// a settings page or another of the account's devices does for a sign-in
// its owner did not start (EventCancelled). Errors:
// twofa.ErrInvalidAccount, ErrNotFound (also for a malformed id, see
// twofa.MaxIDLen: nothing is looked up), or a wrapped store error.
func (m *Manager) Revoke(ctx context.Context, account, id string) error {
	if err := twofa.CheckAccount(account); err != nil {
		return err
	}
	if twofa.CheckID("revoke sign-in", id) != nil {
		return ErrNotFound
	}
	return m.end(ctx, account, id)
}

func (m *Manager) end(ctx context.Context, account, id string) error {
	err := m.st.DeleteSignIn(ctx, account, id)
	switch {
	case errors.Is(err, twofa.ErrNotFound):
		return ErrNotFound
	case err != nil:
		return fmt.Errorf("twofa: end sign-in: %w", err)
	}
	m.emit(ctx, twofa.Event{Type: EventCancelled, Account: account, SignInID: id, Time: m.clock.Now()})
	return nil
}

// List returns the account's open pending sign-ins, newest first: those
// neither expired nor void.
func (m *Manager) List(ctx context.Context, account string) ([]Info, error) {
	if err := twofa.CheckAccount(account); err != nil {
		return nil, err
	}
	recs, err := m.st.SignIns(ctx, account)
	if err != nil {
		return nil, fmt.Errorf("twofa: list sign-ins: %w", err)
	}
	now := m.clock.Now()
	out := make([]Info, 0, len(recs))
	for i := range recs {
		// A record that fails authentication is not shown (and is
		// reported: twofa.EventTampered).
		if now.Before(recs[i].ExpiresAt) && recs[i].Attempts < m.maxAttempts && m.check(ctx, &recs[i]) == nil {
			out = append(out, recs[i].info())
		}
	}
	slices.Reverse(out)
	return out, nil
}

// RevokeAll ends every pending sign-in of the account and returns how
// many records it removed (EventRevokedAll, when there were any). It runs
// by itself when two-factor authentication is turned off and when the
// primary password changes (twofa.Dependent).
func (m *Manager) RevokeAll(ctx context.Context, account string) (int, error) {
	if err := twofa.CheckAccount(account); err != nil {
		return 0, err
	}
	n, err := m.st.DeleteSignIns(ctx, account)
	if err != nil {
		return 0, fmt.Errorf("twofa: revoke sign-ins: %w", err)
	}
	if n > 0 {
		m.emit(ctx, twofa.Event{Type: EventRevokedAll, Account: account, Time: m.clock.Now(), Count: n})
	}
	return n, nil
}

// Purge removes the records of expired sign-ins, across accounts - void
// ones included, which are kept until then so that Finish can report
// ErrTooManyAttempts - and returns how many. twofa.TwoFA.Purge runs it
// (the Manager is attached to the installation). Begin also removes an
// account's expired records as it adds one.
func (m *Manager) Purge(ctx context.Context) (int, error) {
	n, err := m.st.DeleteExpiredSignIns(ctx, m.clock.Now())
	if err != nil {
		return 0, fmt.Errorf("twofa: purge sign-ins: %w", err)
	}
	return n, nil
}
