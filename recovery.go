package twofa

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/twofa-go/twofa/internal/typed"
)

// Recovery codes.
const (
	// RecoveryCodeCount is how many codes a set holds: 10, as Google issues
	// (GitHub issues 16).
	RecoveryCodeCount = 10
	// recoveryCodeLen is the symbols per code: 10 of 32 symbols, 50 bits,
	// so a guesser's odds stay negligible without a tight throttle
	// (10 codes: 9e-15 per attempt).
	recoveryCodeLen = 10
)

// recoveryAlphabet is Crockford's base32 in lower case: no i, l, o or u,
// so nothing reads as another symbol.
const recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// RecoveryCodes issues single-use recovery codes: the way back in for an
// account's owner who lost their devices. Codes are shown once and stored
// as keyed digests; TwoFA.Verify accepts them. It is safe for concurrent
// use.
type RecoveryCodes struct {
	c *Config
}

// Generate creates a new set of RecoveryCodeCount codes for the account,
// voiding any earlier set, and returns them formatted "xxxxx-xxxxx" to show
// the user once. Only their keyed digests are stored.
//
// Recovery codes stand in for a second factor, so Generate needs
// two-factor authentication on (a confirmed device, or a trusted record
// of an attached Factor (package phone)): otherwise it returns
// ErrNotEnrolled and stores nothing. The set is stored under the
// account's lifecycle lock (see lifecycle.go), so a concurrent revocation
// of the last factor either finishes first (and Generate refuses) or
// voids the set after it is stored: no set outlives the factor it was
// issued on. Call it when Devices.Confirm reports Change.TurnedOn, to
// issue the first set.
func (r *RecoveryCodes) Generate(ctx context.Context, account string) ([]string, error) {
	if err := validAccount(account); err != nil {
		return nil, err
	}
	codes := make([]string, RecoveryCodeCount)
	digests := make([][]byte, RecoveryCodeCount)
	seen := make(map[string]bool, RecoveryCodeCount)
	for i := range codes {
		for {
			c, err := newRecoveryCode()
			if err != nil {
				return nil, err
			}
			if !seen[c] {
				seen[c] = true
				codes[i] = c[:5] + "-" + c[5:]
				d, err := r.c.Keyring.Digest(PurposeRecoveryCode, account, []byte(c))
				if err != nil {
					return nil, err
				}
				digests[i] = d
				break
			}
		}
	}
	now := r.c.Clock.Now()
	err := r.c.issue(ctx, account, func(ctx context.Context) error {
		if err := r.c.Store.ReplaceRecoveryCodes(ctx, account, digests, now); err != nil {
			return fmt.Errorf("twofa: recovery codes: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.c.Events.emit(ctx, Event{Type: EventRecoveryCodesGenerated, Account: account, Time: now, Remaining: len(codes)})
	return codes, nil
}

// Remaining returns how many unused recovery codes the account has.
func (r *RecoveryCodes) Remaining(ctx context.Context, account string) (int, error) {
	if err := validAccount(account); err != nil {
		return 0, err
	}
	n, err := r.c.Store.RecoveryCodesLeft(ctx, account)
	if err != nil {
		return 0, fmt.Errorf("twofa: recovery codes: %w", err)
	}
	return n, nil
}

func newRecoveryCode() (string, error) {
	var b [recoveryCodeLen]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("twofa: reading random recovery code: %w", err)
	}
	for i := range b {
		// 256 is a multiple of 32: masking is unbiased.
		b[i] = recoveryAlphabet[b[i]&31]
	}
	return string(b[:]), nil
}

// canonicalRecoveryCode normalises a typed recovery code by the rule of
// package typed: at most 32 bytes, surrounding white space ignored, spaces
// and hyphens inside ignored, anything else (a tab or a newline inside)
// refused unless it is a symbol. Case is ignored, and the look-alikes o, i
// and l read as 0, 1 and 1 (Crockford's rule). It reports false for
// anything that is not a code.
func canonicalRecoveryCode(s string) (string, bool) {
	s, ok := typed.Trim(s, 32)
	if !ok {
		return "", false
	}
	var b [recoveryCodeLen]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if typed.IsSeparator(c) {
			continue
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		switch c {
		case 'o':
			c = '0'
		case 'i', 'l':
			c = '1'
		}
		if !isRecoverySymbol(c) || n == recoveryCodeLen {
			return "", false
		}
		b[n] = c
		n++
	}
	if n != recoveryCodeLen {
		return "", false
	}
	return string(b[:]), true
}

func isRecoverySymbol(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z' && c != 'i' && c != 'l' && c != 'o' && c != 'u')
}

// verifyRecovery checks a canonical recovery code and consumes it. Every
// attempt takes a place in the account's recovery budget
// (Config.Throttle.Recovery) before it is evaluated, so the evaluated
// guesses are bounded however fast the store is. A right code empties
// that budget, and the one-time-code budget too: the owner has proven
// themselves.
func (tf *TwoFA) verifyRecovery(ctx context.Context, account, code string) (Result, error) {
	now := tf.c.Clock.Now()
	digest, err := tf.c.Keyring.Digest(PurposeRecoveryCode, account, []byte(code))
	if err != nil {
		return Result{}, err
	}
	reserved, err := tf.reserve(ctx, account, ScopeRecovery, tf.c.Throttle.Recovery, now)
	if err != nil {
		return Result{}, err
	}
	left, ok, err := tf.c.Store.ConsumeRecoveryCode(ctx, account, digest, now)
	if err != nil {
		// Not evaluated after all: the place is given back.
		tf.settle(ctx, func(ctx context.Context) error {
			refund := tf.c.Throttle.Recovery.refund(now, tf.c.Clock.Now())
			return tf.c.Store.ReleaseAttempt(ctx, account, ScopeRecovery, refund, false)
		})
		return Result{}, fmt.Errorf("twofa: verify: %w", err)
	}
	if !ok {
		tf.failed(ctx, account, ScopeRecovery, tf.c.Throttle.Recovery, reserved, now)
		return Result{}, ErrInvalidCode
	}
	tf.settle(ctx, func(ctx context.Context) error {
		return errors.Join(
			tf.c.Store.ResetThrottle(ctx, account, ScopeRecovery),
			tf.c.Store.ResetThrottle(ctx, account, ScopeCode))
	})
	tf.c.Events.emit(ctx, Event{Type: EventRecoveryCodeUsed, Account: account, Time: now, Remaining: left})
	return Result{Factor: FactorRecoveryCode, RecoveryCodesLeft: left}, nil
}
