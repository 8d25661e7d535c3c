package phone

import (
	"context"
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/internal/otp"
	"github.com/twofa-go/twofa/internal/typed"
)

// CodeDigits is the length of an out-of-band code: 6 digits, what
// people expect from a text and what phones offer to fill in. That is
// log2(10^6) = 19.9 bits, the 20 bits NIST SP 800-63B (Section 5.1.3.2)
// asks of an out-of-band secret; Config.ChallengeAttempts and the send
// limits keep guessing hopeless.
const CodeDigits = 6

const (
	// codeSpace is the number of distinct codes, 10^CodeDigits.
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

// newChallengeCode returns CodeDigits uniformly random decimal
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

// formatCode writes v (below codeSpace) as CodeDigits digits.
func formatCode(v uint32) string {
	var b [CodeDigits]byte
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
	var b [CodeDigits]byte
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
// base32, and SendCode takes no phone id outside the twofa.MaxIDLen form), so
// ':' separates the fields unambiguously.
func challengeDigest(kr twofa.Keyring, c Challenge, code string) ([]byte, error) {
	data := make([]byte, 0, 4+len(c.PhoneID)+len(c.ID)+len(code)+3)
	data = strconv.AppendUint(data, uint64(c.Purpose), 10)
	data = append(data, ':')
	data = append(data, c.PhoneID...)
	data = append(data, ':')
	data = append(data, c.ID...)
	data = append(data, ':')
	data = append(data, code...)
	d, err := kr.Digest(DigestPurpose, c.Account, data)
	clear(data)
	return d, err
}

// challengeMatches reports, in constant time, whether code is c's code.
func challengeMatches(kr twofa.Keyring, c Challenge, code string) (bool, error) {
	d, err := challengeDigest(kr, c, code)
	if err != nil {
		return false, err
	}
	return hmac.Equal(d, c.Digest), nil
}

// consume tries code against c, an open challenge as read, in the store:
// c's state is authenticated first (a *twofa.TamperedError if its MAC
// does not verify: a used or voided challenge set back to open has none),
// and the store is given the MAC c had and the MAC of c after a wrong try.
func consume(ctx context.Context, kr twofa.Keyring, cs ChallengeStore, c Challenge, code string, maxAttempts int, now time.Time) (ConsumeResult, int, error) {
	if _, err := twofa.CheckStateMAC(kr, c.Account, twofa.RecordChallenge, c.ID, c.state(), c.MAC); err != nil {
		return 0, 0, err
	}
	wrong := c
	wrong.Attempts++
	next, err := wrong.mac(kr)
	if err != nil {
		return 0, 0, err
	}
	d, err := challengeDigest(kr, c, code)
	if err != nil {
		return 0, 0, err
	}
	return cs.ConsumeChallenge(ctx, c.Account, c.ID, d, maxAttempts, now, c.MAC, next)
}

// state is what an open challenge's MAC authenticates besides its id and
// account: its phone, purpose, channel, digest, expiry and wrong tries.
func (c *Challenge) state() []byte {
	b := make([]byte, 0, 2+len(c.PhoneID)+2+2+len(c.Digest)+16)
	b = binary.BigEndian.AppendUint16(b, uint16(len(c.PhoneID)))
	b = append(b, c.PhoneID...)
	b = append(b, byte(c.Purpose), byte(c.Channel))
	b = binary.BigEndian.AppendUint16(b, uint16(len(c.Digest)))
	b = append(b, c.Digest...)
	b = binary.BigEndian.AppendUint64(b, uint64(twofa.TimeNanos(c.ExpiresAt)))
	return binary.BigEndian.AppendUint64(b, uint64(int64(c.Attempts)))
}

// mac returns the MAC of c as an open challenge (Challenge.MAC).
func (c *Challenge) mac(kr twofa.Keyring) ([]byte, error) {
	return twofa.StateMAC(kr, c.Account, twofa.RecordChallenge, c.ID, c.state())
}

// Kind implements twofa.Factor: "phone".
func (p *Manager) Kind() twofa.FactorKind { return Kind }

// Digits implements twofa.Factor: CodeDigits.
func (p *Manager) Digits() int { return CodeDigits }

// Trusted implements twofa.Factor: whether the account has a trusted phone
// number, when Config.OutOfBand is set (and never otherwise). With
// OutOfBand set a trusted number is a second factor: an account whose
// only factor it is counts as enrolled (as Apple counts a trusted phone
// number).
func (p *Manager) Trusted(ctx context.Context, account string) (bool, error) {
	if !p.cfg.OutOfBand {
		return false, nil
	}
	phs, err := p.st.Phones(ctx, account)
	if err != nil {
		return false, fmt.Errorf("twofa: phones: %w", err)
	}
	for _, ph := range phs {
		if ph.State == Trusted {
			return true, nil
		}
	}
	return false, nil
}

// RemoveAll implements twofa.Factor: it removes every phone number of the
// account (twofa.TwoFA.Disable).
func (p *Manager) RemoveAll(ctx context.Context, account string) (int, error) {
	phs, err := p.st.Phones(ctx, account)
	if err != nil {
		return 0, fmt.Errorf("twofa: remove phones: %w", err)
	}
	n := 0
	now := p.clock.Now()
	for _, ph := range phs {
		if _, _, err := p.st.DeletePhone(ctx, account, ph.ID); err != nil {
			if errors.Is(err, twofa.ErrNotFound) {
				continue
			}
			return n, fmt.Errorf("twofa: remove phones: %w", err)
		}
		n++
		p.emit(ctx, twofa.Event{Type: EventRemoved, Account: account, PhoneID: ph.ID, Time: now})
	}
	return n, nil
}

// VerifyCode implements twofa.Factor: it checks a sign-in code against the
// account's live sign-in codes, after twofa.TwoFA.Verify counted the attempt in
// its throttle. Every open code it is tried against counts a wrong try
// when it does not match. It reports twofa.EventVerified (with PhoneID) or
// twofa.EventReplayed itself.
func (p *Manager) VerifyCode(ctx context.Context, account, code string) (string, error) {
	canon, ok := canonicalChallengeCode(code)
	if !ok {
		return "", twofa.ErrInvalidCode
	}
	now := p.clock.Now()
	live, err := p.st.LiveChallenges(ctx, account, PurposeSignIn, now)
	if err != nil {
		return "", fmt.Errorf("twofa: verify: %w", err)
	}
	replayed := ""
	for _, c := range live {
		if c.State == ChallengeOpen && c.Attempts < p.cfg.ChallengeAttempts {
			// The consuming write is not cut short by the request: once
			// it may have taken effect, its answer must be heard.
			dctx, cancel := durable(ctx)
			r, _, err := consume(dctx, p.keys, p.st, c, canon, p.cfg.ChallengeAttempts, now)
			cancel()
			if errors.Is(err, twofa.ErrTampered) {
				p.emit(ctx, twofa.Event{Type: twofa.EventTampered, Account: account, PhoneID: c.PhoneID, Time: now})
			}
			if err != nil {
				return "", fmt.Errorf("twofa: verify: %w", err)
			}
			if r == ConsumeAccepted {
				p.emit(ctx, twofa.Event{Type: twofa.EventVerified, Account: account, PhoneID: c.PhoneID, Time: now})
				return c.PhoneID, nil
			}
			if r != ConsumeUsed {
				continue
			}
			// A concurrent verification used it first: with this code?
		} else if c.State != ChallengeUsed {
			continue
		}
		match, err := challengeMatches(p.keys, c, canon)
		if err != nil {
			return "", err
		}
		if match && replayed == "" {
			replayed = c.PhoneID
		}
	}
	if replayed != "" {
		p.emit(ctx, twofa.Event{Type: twofa.EventReplayed, Account: account, PhoneID: replayed, Time: now})
		return "", twofa.ErrReplayed
	}
	return "", twofa.ErrInvalidCode
}
