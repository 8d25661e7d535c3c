package twofa

import (
	"context"
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/twofa-go/twofa/internal/otp"
	"github.com/twofa-go/twofa/internal/typed"
)

// ChallengeDigits is the length of an out-of-band code: 6 digits, what
// people expect from a text and what phones offer to fill in. That is
// log2(10^6) = 19.9 bits, the 20 bits NIST SP 800-63B (Section 5.1.3.2)
// asks of an out-of-band secret; Config.Phones.ChallengeAttempts and the send
// limits keep guessing hopeless.
const ChallengeDigits = 6

const (
	// codeSpace is the number of distinct codes, 10^ChallengeDigits.
	codeSpace = 1_000_000
	// codeLimit is the largest multiple of codeSpace that fits in 32
	// bits: a uniform uint32 below it, taken modulo codeSpace, is a
	// uniform code. Values at or above it (a 2.25e-4 chance) are drawn
	// again.
	codeLimit = (1 << 32) / codeSpace * codeSpace
	// codeDraws bounds the draws of one code: with a working random
	// source, 8 rejections in a row happen with probability below 1e-29.
	codeDraws = 8
)

// newChallengeCode returns ChallengeDigits uniformly random decimal
// digits read from r (crypto/rand.Reader), by rejection sampling: no
// modulo bias.
func newChallengeCode(r io.Reader) (string, error) {
	var b [4]byte
	for range codeDraws {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return "", fmt.Errorf("twofa: reading random code: %w", err)
		}
		if v := binary.BigEndian.Uint32(b[:]); v < codeLimit {
			return formatCode(v % codeSpace), nil
		}
	}
	return "", errors.New("twofa: reading random code: the random source keeps returning out-of-range values")
}

// formatCode writes v (below codeSpace) as ChallengeDigits digits.
func formatCode(v uint32) string {
	var b [ChallengeDigits]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[:])
}

// canonicalChallengeCode returns the 6 digits of a typed out-of-band
// code, or false if it is not one. It reads codes as one-time codes are
// read (the rule of package typed): at most otp.MaxCodeInput bytes,
// surrounding white space ignored, spaces and hyphens inside ignored,
// anything else but ASCII digits (a tab or a newline inside) refused.
func canonicalChallengeCode(code string) (string, bool) {
	code, ok := typed.Trim(code, otp.MaxCodeInput)
	if !ok {
		return "", false
	}
	var b [ChallengeDigits]byte
	n := 0
	for i := 0; i < len(code); i++ {
		switch c := code[i]; {
		case c >= '0' && c <= '9':
			if n == len(b) {
				return "", false
			}
			b[n] = c
			n++
		case typed.IsSeparator(c):
		default:
			return "", false
		}
	}
	if n != len(b) {
		return "", false
	}
	return string(b[:]), true
}

// challengeDigest is the keyed digest a challenge stores for code. It
// binds the purpose, the phone and the challenge ID (and, through
// Keyring.Digest, the account), so a code is only ever good for the one
// challenge it was sent with. IDs hold no ':' (twofa's are lower-case
// base32, and SendCode takes no phone id outside the MaxIDLen form), so
// ':' separates the fields unambiguously.
func challengeDigest(kr Keyring, c Challenge, code string) ([]byte, error) {
	data := make([]byte, 0, 4+len(c.PhoneID)+len(c.ID)+len(code)+3)
	data = strconv.AppendUint(data, uint64(c.Purpose), 10)
	data = append(data, ':')
	data = append(data, c.PhoneID...)
	data = append(data, ':')
	data = append(data, c.ID...)
	data = append(data, ':')
	data = append(data, code...)
	d, err := kr.Digest(PurposeOOBChallenge, c.Account, data)
	clear(data)
	return d, err
}

// challengeMatches reports, in constant time, whether code is c's code.
func challengeMatches(kr Keyring, c Challenge, code string) (bool, error) {
	d, err := challengeDigest(kr, c, code)
	if err != nil {
		return false, err
	}
	return hmac.Equal(d, c.Digest), nil
}

// consume tries code against c in the store.
func consume(ctx context.Context, kr Keyring, cs ChallengeStore, c Challenge, code string, maxAttempts int, now time.Time) (ConsumeResult, int, error) {
	d, err := challengeDigest(kr, c, code)
	if err != nil {
		return 0, 0, err
	}
	return cs.ConsumeChallenge(ctx, c.Account, c.ID, d, maxAttempts, now)
}

// trustedPhones returns how many trusted phone numbers the account has
// when Config.Phones.OutOfBand is set, and 0 otherwise. With OutOfBand set a
// trusted number is a second factor: an account whose only factor it is
// counts as enrolled (as Apple counts a trusted phone number).
func (tf *TwoFA) trustedPhones(ctx context.Context, account string) (int, error) {
	if !tf.c.Phones.OutOfBand {
		return 0, nil
	}
	phs, err := tf.c.Store.Phones(ctx, account)
	if err != nil {
		return 0, fmt.Errorf("twofa: verify: %w", err)
	}
	n := 0
	for _, ph := range phs {
		if ph.State == PhoneTrusted {
			n++
		}
	}
	return n, nil
}

// verifyChallenge checks a code against the account's live sign-in
// challenges; Verify calls it after the devices, once the attempt has
// been counted in the ScopeCode throttle. It reports done when it has the
// answer - the code was accepted, or it is the code of a challenge used
// already (ErrReplayed) - and otherwise leaves the verdict to Verify.
// Every open challenge the code is tried against counts a wrong try when
// it does not match.
func (tf *TwoFA) verifyChallenge(ctx context.Context, account, code string, now time.Time) (res Result, done bool, err error) {
	canon, ok := canonicalChallengeCode(code)
	if !ok {
		return Result{}, false, nil
	}
	ps, cs := tf.c.Store, tf.c.Store
	live, err := cs.LiveChallenges(ctx, account, ChallengeSignIn, now)
	if err != nil {
		return Result{}, false, fmt.Errorf("twofa: verify: %w", err)
	}
	replayed := ""
	for _, c := range live {
		if c.State == ChallengeOpen && c.Attempts < tf.c.Phones.ChallengeAttempts {
			// The consuming write is not cut short by the request: once
			// it may have taken effect, its answer must be heard.
			dctx, cancel := durable(ctx)
			r, _, err := consume(dctx, tf.c.Keyring, cs, c, canon, tf.c.Phones.ChallengeAttempts, now)
			cancel()
			if err != nil {
				return Result{}, false, fmt.Errorf("twofa: verify: %w", err)
			}
			if r == ConsumeAccepted {
				tf.settle(ctx, func(ctx context.Context) error {
					return ps.TouchPhone(ctx, account, c.PhoneID, now)
				})
				tf.c.Events.emit(ctx, Event{Type: EventVerified, Account: account, PhoneID: c.PhoneID, Time: now})
				return Result{Factor: FactorPhone, PhoneID: c.PhoneID}, true, nil
			}
			if r != ConsumeUsed {
				continue
			}
			// A concurrent verification used it first: with this code?
		} else if c.State != ChallengeUsed {
			continue
		}
		match, err := challengeMatches(tf.c.Keyring, c, canon)
		if err != nil {
			return Result{}, false, err
		}
		if match && replayed == "" {
			replayed = c.PhoneID
		}
	}
	if replayed != "" {
		tf.c.Events.emit(ctx, Event{Type: EventReplayed, Account: account, PhoneID: replayed, Time: now})
		return Result{}, true, ErrReplayed
	}
	return Result{}, false, nil
}
