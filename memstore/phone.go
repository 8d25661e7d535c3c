package memstore

import (
	"bytes"
	"cmp"
	"context"
	"crypto/subtle"
	"fmt"
	"slices"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/phone"
)

var (
	_ phone.NumberStore    = (*Store)(nil)
	_ phone.ChallengeStore = (*Store)(nil)
)

type phoneEntry struct {
	p   phone.Record
	seq uint64
}

// challengeEntry is one challenge, kept both in its account (by ID) and
// in Store.sends (by account, in order), where it outlives its phone.
type challengeEntry struct {
	c    phone.Challenge
	e164 string // the number it was sent to, for the send limits
	seq  uint64
}

func cloneChallenge(c phone.Challenge) phone.Challenge {
	c.Digest = bytes.Clone(c.Digest)
	c.MAC = bytes.Clone(c.MAC)
	return c
}

// phoneExpired reports whether p is a pending phone that lapsed at or
// before now.
func phoneExpired(p *phone.Record, now time.Time) bool {
	return p.State == phone.Pending && !p.ExpiresAt.After(now)
}

// phone returns the account's phone, or an error wrapping ErrNotFound.
// s.mu must be held.
func (s *Store) phone(account, id string) (*phoneEntry, error) {
	if a := s.accounts[account]; a != nil {
		if e := a.phones[id]; e != nil {
			return e, nil
		}
	}
	return nil, fmt.Errorf("memstore: phone %q: %w", id, twofa.ErrNotFound)
}

// challenge returns the account's challenge, or an error wrapping
// ErrNotFound. s.mu must be held.
func (s *Store) challenge(account, id string) (*challengeEntry, error) {
	if a := s.accounts[account]; a != nil {
		if e := a.challenges[id]; e != nil {
			return e, nil
		}
	}
	return nil, fmt.Errorf("memstore: challenge %q: %w", id, twofa.ErrNotFound)
}

// voidChallenges voids the open challenges of the account's phone
// (of every purpose when purpose is 0). s.mu must be held.
func (s *Store) voidChallenges(a *account, phoneID string, purpose phone.Purpose) {
	for _, e := range a.challenges {
		if e.c.PhoneID == phoneID && e.c.State == phone.ChallengeOpen && (purpose == 0 || e.c.Purpose == purpose) {
			e.c.State, e.c.MAC = phone.ChallengeVoided, nil
		}
	}
}

// InsertPhone adds p, as [phone.NumberStore] describes. Phone IDs are
// unique within an account.
func (s *Store) InsertPhone(ctx context.Context, p phone.Record, limit int, now time.Time) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	a := s.account(p.Account, true)
	defer s.tidy(p.Account)

	counted := 0
	var stale []string
	for id, e := range a.phones {
		if phoneExpired(&e.p, now) {
			stale = append(stale, id)
			continue
		}
		switch {
		case id == p.ID:
			return fmt.Errorf("memstore: phone %q: %w", p.ID, twofa.ErrDuplicate)
		case e.p.Number.E164 == p.Number.E164:
			return fmt.Errorf("memstore: phone number %v: %w", p.Number, twofa.ErrDuplicate)
		}
		counted++
	}
	if counted >= limit {
		return fmt.Errorf("memstore: %d phones: %w", counted, twofa.ErrLimitReached)
	}
	for _, id := range stale {
		s.voidChallenges(a, id, 0)
		delete(a.phones, id)
	}
	if a.phones == nil {
		a.phones = make(map[string]*phoneEntry)
	}
	s.seq++
	p.MAC = bytes.Clone(p.MAC)
	a.phones[p.ID] = &phoneEntry{p: p, seq: s.seq}
	return nil
}

// Phone returns one phone of the account, as [phone.NumberStore]
// describes.
func (s *Store) Phone(ctx context.Context, account, id string) (phone.Record, error) {
	if err := s.begin(ctx); err != nil {
		return phone.Record{}, err
	}
	defer s.mu.Unlock()
	e, err := s.phone(account, id)
	if err != nil {
		return phone.Record{}, err
	}
	return e.p, nil
}

// Phones returns every phone of the account, oldest CreatedAt first and
// phones added at the same instant in insertion order.
func (s *Store) Phones(ctx context.Context, account string) ([]phone.Record, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	a := s.accounts[account]
	if a == nil || len(a.phones) == 0 {
		return nil, nil
	}
	es := make([]*phoneEntry, 0, len(a.phones))
	for _, e := range a.phones {
		es = append(es, e)
	}
	slices.SortFunc(es, func(x, y *phoneEntry) int {
		if c := x.p.CreatedAt.Compare(y.p.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(x.seq, y.seq)
	})
	ps := make([]phone.Record, len(es))
	for i, e := range es {
		ps[i] = e.p
	}
	return ps, nil
}

// ConfirmPhone turns a pending phone trusted, as [phone.NumberStore]
// describes.
func (s *Store) ConfirmPhone(ctx context.Context, account, id string, at time.Time, old, mac []byte) (bool, error) {
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	e, err := s.phone(account, id)
	if err != nil {
		return false, err
	}
	if e.p.State != phone.Pending || !e.p.ExpiresAt.After(at) || !bytes.Equal(e.p.MAC, old) {
		return false, nil
	}
	e.p.MAC = bytes.Clone(mac)
	e.p.State = phone.Trusted
	e.p.ConfirmedAt = at
	e.p.ExpiresAt = time.Time{}
	return true, nil
}

// UpdatePhoneMAC replaces a phone's MAC if it still equals old (compared
// by content: nil equals empty); ErrNotFound when the phone does not
// exist.
func (s *Store) UpdatePhoneMAC(ctx context.Context, account, id string, old, mac []byte) (bool, error) {
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	e, err := s.phone(account, id)
	if err != nil {
		return false, err
	}
	if !bytes.Equal(e.p.MAC, old) {
		return false, nil
	}
	e.p.MAC = bytes.Clone(mac)
	return true, nil
}

// PhonesAfter pages through every phone of every account in byte order
// of (account, id), as [phone.NumberStore] describes.
func (s *Store) PhonesAfter(ctx context.Context, afterAccount, afterID string, limit int) ([]phone.Record, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if limit < 1 {
		return nil, fmt.Errorf("memstore: phones after: limit %d is below 1", limit)
	}
	return pageAfter(s, afterAccount, afterID, limit, func(a *account, add func(string, func() phone.Record)) {
		for pid, e := range a.phones {
			add(pid, func() phone.Record {
				r := e.p
				r.MAC = bytes.Clone(r.MAC)
				return r
			})
		}
	}), nil
}

// DeletePhone removes a phone and voids its open challenges, as
// [phone.NumberStore] describes.
func (s *Store) DeletePhone(ctx context.Context, account, id string) (phone.State, int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, 0, err
	}
	defer s.mu.Unlock()
	e, err := s.phone(account, id)
	if err != nil {
		return 0, 0, err
	}
	state := e.p.State
	a := s.accounts[account]
	s.voidChallenges(a, id, 0)
	delete(a.phones, id)
	s.tidy(account)
	left := 0
	for _, e := range a.phones {
		if e.p.State == phone.Trusted {
			left++
		}
	}
	return state, left, nil
}

// DeleteExpiredPhones removes every pending phone that lapsed at or
// before now, across accounts, and returns how many it removed.
func (s *Store) DeleteExpiredPhones(ctx context.Context, now time.Time) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	n := 0
	for name, a := range s.accounts {
		for id, e := range a.phones {
			if phoneExpired(&e.p, now) {
				s.voidChallenges(a, id, 0)
				delete(a.phones, id)
				n++
			}
		}
		s.tidy(name)
	}
	return n, nil
}

// CreateChallenge stores a challenge if allow permits it, as
// [phone.ChallengeStore] describes: allow runs under the store's lock. On
// success it also deletes the account's stale challenges.
func (s *Store) CreateChallenge(ctx context.Context, c phone.Challenge, since time.Time, allow func(recent []phone.Send) error) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	p, err := s.phone(c.Account, c.PhoneID)
	if err != nil {
		return err
	}
	a := s.accounts[c.Account]
	if a.challenges[c.ID] != nil {
		return fmt.Errorf("memstore: challenge %q: %w", c.ID, twofa.ErrDuplicate)
	}
	var recent []phone.Send
	for _, e := range s.sends[c.Account] {
		if e.c.CreatedAt.After(since) {
			recent = append(recent, phone.Send{Number: e.e164, Purpose: e.c.Purpose, CreatedAt: e.c.CreatedAt})
		}
	}
	if err := allow(recent); err != nil {
		return err
	}
	now := c.CreatedAt
	s.voidChallenges(a, c.PhoneID, c.Purpose)
	s.pruneSends(c.Account, now)
	if a.challenges == nil {
		a.challenges = make(map[string]*challengeEntry)
	}
	if s.sends == nil {
		s.sends = make(map[string][]*challengeEntry)
	}
	s.seq++
	e := &challengeEntry{c: cloneChallenge(c), e164: p.p.Number.E164, seq: s.seq}
	a.challenges[c.ID] = e
	s.sends[c.Account] = append(s.sends[c.Account], e)
	return nil
}

// pruneSends deletes the account's challenges that are stale at now.
// s.mu must be held.
func (s *Store) pruneSends(account string, now time.Time) {
	kept := s.sends[account][:0]
	for _, e := range s.sends[account] {
		if stale(&e.c, now) {
			s.dropChallenge(e)
			continue
		}
		kept = append(kept, e)
	}
	clear(s.sends[account][len(kept):])
	if len(kept) == 0 {
		delete(s.sends, account)
	} else {
		s.sends[account] = kept
	}
}

// stale reports whether c neither counts for the send limits nor works at
// now.
func stale(c *phone.Challenge, now time.Time) bool {
	return !c.CreatedAt.After(now.Add(-time.Hour)) && (c.State != phone.ChallengeOpen || !c.ExpiresAt.After(now))
}

// dropChallenge removes e from its account (not from s.sends). s.mu must
// be held.
func (s *Store) dropChallenge(e *challengeEntry) {
	if a := s.accounts[e.c.Account]; a != nil {
		delete(a.challenges, e.c.ID)
		s.tidy(e.c.Account)
	}
}

// Challenge returns one challenge of the account, as
// [phone.ChallengeStore] describes.
func (s *Store) Challenge(ctx context.Context, account, id string) (phone.Challenge, error) {
	if err := s.begin(ctx); err != nil {
		return phone.Challenge{}, err
	}
	defer s.mu.Unlock()
	e, err := s.challenge(account, id)
	if err != nil {
		return phone.Challenge{}, err
	}
	return cloneChallenge(e.c), nil
}

// VoidChallenge voids one open challenge of the account, as
// [phone.ChallengeStore] describes.
func (s *Store) VoidChallenge(ctx context.Context, account, id string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	e, err := s.challenge(account, id)
	if err != nil {
		return err
	}
	if e.c.State == phone.ChallengeOpen {
		e.c.State, e.c.MAC = phone.ChallengeVoided, nil
	}
	return nil
}

// LiveChallenges returns the account's unexpired, unvoided challenges of
// purpose, newest first, as [phone.ChallengeStore] describes.
func (s *Store) LiveChallenges(ctx context.Context, account string, purpose phone.Purpose, now time.Time) ([]phone.Challenge, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	a := s.accounts[account]
	if a == nil {
		return nil, nil
	}
	var es []*challengeEntry
	for _, e := range a.challenges {
		if e.c.Purpose == purpose && e.c.State != phone.ChallengeVoided && e.c.ExpiresAt.After(now) {
			es = append(es, e)
		}
	}
	slices.SortFunc(es, func(x, y *challengeEntry) int {
		if c := y.c.CreatedAt.Compare(x.c.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(y.seq, x.seq)
	})
	cs := make([]phone.Challenge, len(es))
	for i, e := range es {
		cs[i] = cloneChallenge(e.c)
	}
	return cs, nil
}

// ConsumeChallenge tries a digest against a challenge in one step, as
// [phone.ChallengeStore] describes; the digests are compared in constant
// time.
func (s *Store) ConsumeChallenge(ctx context.Context, account, id string, digest []byte, maxAttempts int, now time.Time, old, next []byte) (phone.ConsumeResult, int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, 0, err
	}
	defer s.mu.Unlock()
	e, err := s.challenge(account, id)
	if err != nil {
		return 0, 0, err
	}
	c := &e.c
	switch {
	case c.State == phone.ChallengeUsed:
		return phone.ConsumeUsed, c.Attempts, nil
	case c.State == phone.ChallengeVoided:
		return phone.ConsumeVoided, c.Attempts, nil
	case !c.ExpiresAt.After(now):
		return phone.ConsumeExpired, c.Attempts, nil
	case c.Attempts >= maxAttempts:
		return phone.ConsumeExhausted, c.Attempts, nil
	}
	fresh := bytes.Equal(c.MAC, old)
	if fresh && len(digest) == len(c.Digest) && subtle.ConstantTimeCompare(digest, c.Digest) == 1 {
		c.State, c.UsedAt, c.MAC = phone.ChallengeUsed, now, nil
		if p, err := s.phone(account, c.PhoneID); err == nil && p.p.LastUsedAt.Before(now) {
			p.p.LastUsedAt = now
		}
		return phone.ConsumeAccepted, c.Attempts, nil
	}
	c.Attempts++
	if fresh {
		c.MAC = bytes.Clone(next)
	} else {
		c.MAC = nil // changed under the try: it accepts nothing more
	}
	return phone.ConsumeWrong, c.Attempts, nil
}

// DeleteStaleChallenges removes every stale challenge across accounts,
// as [phone.ChallengeStore] describes.
func (s *Store) DeleteStaleChallenges(ctx context.Context, now time.Time) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	n := 0
	for account, es := range s.sends {
		before := len(es)
		s.pruneSends(account, now)
		n += before - len(s.sends[account])
	}
	return n, nil
}
