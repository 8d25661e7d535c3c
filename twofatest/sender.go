package twofatest

import (
	"context"
	"sync"
	"time"

	"github.com/twofa-go/twofa/phone"
)

// Sender is a phone.Sender that delivers nothing: it records every
// message, so that a test can read the code "sent" to a phone, as the
// phone's owner would. It is safe for concurrent use; the zero Sender is
// ready to use.
type Sender struct {
	mu   sync.Mutex
	msgs []phone.Message
	err  error
}

var _ phone.Sender = (*Sender)(nil)

// Send records m, or returns the error set by Fail without recording it
// (the provider refused the message).
func (s *Sender) Send(_ context.Context, m phone.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.msgs = append(s.msgs, m)
	return nil
}

// Fail makes every later Send return err, as a provider that is down
// would; Fail(nil) makes Send deliver again.
func (s *Sender) Fail(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

// Messages returns a copy of the messages sent so far, oldest first.
func (s *Sender) Messages() []phone.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]phone.Message(nil), s.msgs...)
}

// Last returns the last message sent to the number whose E.164 form is
// to (e.g. "+14155550142"), and whether there was one.
func (s *Sender) Last(to string) (phone.Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.msgs) - 1; i >= 0; i-- {
		if s.msgs[i].To.E164 == to {
			return s.msgs[i], true
		}
	}
	return phone.Message{}, false
}

// Code returns the code of the last message sent to the number whose
// E.164 form is to, or "" if none was.
func (s *Sender) Code(to string) string {
	m, _ := s.Last(to)
	return m.Code
}

// EnableOutOfBand sets PhoneConfig.OutOfBand and rebuilds the
// installation (ReconfigurePhones), so that codes sent to trusted phones
// are a second factor at sign-in. It fails the test on error.
func (e *Env) EnableOutOfBand() {
	e.T.Helper()
	e.ReconfigurePhones(func(c *phone.Config) { c.OutOfBand = true })
}

// TrustPhone adds the number to the account and confirms it with the
// code the Sender recorded, as its owner typing the text would, and
// returns the phone's ID. The confirmation code counts toward the
// number's send limits: advance the Clock by
// ResendCooldown before sending it another
// code. It fails the test on error.
func (e *Env) TrustPhone(account string, n phone.Number) string {
	e.T.Helper()
	ctx := context.Background()
	p, err := e.Phones.Add(ctx, account, n)
	if err != nil {
		e.T.Fatalf("twofatest: add phone: %v", err)
	}
	if _, err := e.Phones.SendCode(ctx, account, p.ID, phone.SMS); err != nil {
		e.T.Fatalf("twofatest: send code: %v", err)
	}
	if _, err := e.Phones.Confirm(ctx, account, p.ID, e.Sender.Code(n.E164)); err != nil {
		e.T.Fatalf("twofatest: confirm phone: %v", err)
	}
	return p.ID
}

// SignInCode sends a sign-in code by SMS to a trusted phone of the
// account (EnableOutOfBand first) and returns it, as its owner reads it.
// It fails the test on error, a cool-down included.
func (e *Env) SignInCode(account, phoneID string) string {
	e.T.Helper()
	c, err := e.Phones.SendCode(context.Background(), account, phoneID, phone.SMS)
	if err != nil {
		e.T.Fatalf("twofatest: send code: %v", err)
	}
	m, ok := e.Sender.Last(c.To.E164)
	if !ok || m.Purpose != phone.PurposeSignIn {
		e.T.Fatalf("twofatest: no sign-in code recorded")
	}
	return m.Code
}

// ResendCooldown is the Env's wait between two codes to one number.
func (e *Env) ResendCooldown() time.Duration {
	return e.Phones.Config().ResendCooldown
}
