package twofa_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/twofatest"
)

func newPhoneEnv(t *testing.T) *twofatest.Env { return twofatest.New(t) }

// oobEnv is an Env whose installation accepts out-of-band codes.
func oobEnv(t *testing.T) *twofatest.Env {
	env := twofatest.New(t)
	env.EnableOutOfBand()
	return env
}

// addPhone adds n to account and sends it its verification code, which it
// returns.
func addPhone(t *testing.T, env *twofatest.Env, account string, n twofa.PhoneNumber) (twofa.PhoneInfo, string) {
	t.Helper()
	p, err := env.Phones.Add(t.Context(), account, n)
	require.NoError(t, err)
	_, err = env.Phones.SendCode(t.Context(), account, p.ID, twofa.ChannelSMS)
	require.NoError(t, err)
	return p, env.Sender.Code(n.E164)
}

// otherCode returns a 6-digit code other than code.
func otherCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

func TestNewPhonesConfig(t *testing.T) {
	t.Parallel()
	env := newPhoneEnv(t)
	base := env.Config
	for name, tc := range map[string]func(c *twofa.Config){
		"no Sender":               func(c *twofa.Config) { c.Phones.Sender = nil },
		"no Store":                func(c *twofa.Config) { c.Store = nil },
		"negative MaxPhones":      func(c *twofa.Config) { c.Phones.Max = -1 },
		"ChallengeTTL 1ns":        func(c *twofa.Config) { c.Phones.ChallengeTTL = 1 },
		"ChallengeTTL 2h":         func(c *twofa.Config) { c.Phones.ChallengeTTL = 2 * time.Hour },
		"negative attempts":       func(c *twofa.Config) { c.Phones.ChallengeAttempts = -5 },
		"too many attempts":       func(c *twofa.Config) { c.Phones.ChallengeAttempts = 101 },
		"negative cooldown":       func(c *twofa.Config) { c.Phones.ResendCooldown = -time.Second },
		"cooldown over an hour":   func(c *twofa.Config) { c.Phones.ResendCooldown = 61 * time.Minute },
		"negative sends per hour": func(c *twofa.Config) { c.Phones.MaxSendsPerHour = -1 },
		"negative account sends":  func(c *twofa.Config) { c.Phones.MaxAccountSends = -1 },
	} {
		c := base
		tc(&c)
		_, err := newPhones(c)
		assert.ErrorIs(t, err, twofa.ErrConfig, name)
	}
	c := base
	c.Phones.Max, c.Phones.ChallengeTTL, c.Phones.ChallengeAttempts, c.Phones.ResendCooldown, c.Phones.MaxSendsPerHour, c.Phones.MaxAccountSends = 1, time.Hour, 100, time.Hour, 1, 1
	_, err := newPhones(c)
	assert.NoError(t, err, "the bounds themselves")

	// New checks the phone settings once, whether or not phones are used
	// (no Sender, no OutOfBand).
	c = base
	c.Phones = twofa.PhonePolicy{ChallengeAttempts: -1}
	_, err = twofa.New(c)
	assert.ErrorIs(t, err, twofa.ErrConfig)
	c.Phones.ChallengeAttempts = 0
	tf, err := twofa.New(c)
	require.NoError(t, err)
	assert.Nil(t, tf.Phones, "no Sender, no Phones")
}

func TestPhoneAddConfirm(t *testing.T) {
	t.Parallel()
	env := newPhoneEnv(t)
	ctx := t.Context()
	p, err := env.Phones.Add(ctx, "alice", phoneUS)
	require.NoError(t, err)
	assert.Equal(t, twofa.PhonePending, p.State)
	assert.Equal(t, phoneUS, p.Number)
	assert.True(t, p.ExpiresAt.Equal(twofatest.Start.Add(twofa.PendingPhoneTTL)))

	c, err := env.Phones.SendCode(ctx, "alice", p.ID, twofa.ChannelVoice)
	require.NoError(t, err)
	assert.Equal(t, twofa.ChallengeVerifyPhone, c.Purpose)
	assert.Equal(t, twofa.ChannelVoice, c.Channel)
	assert.Equal(t, p.ID, c.PhoneID)
	assert.True(t, c.ExpiresAt.Equal(twofatest.Start.Add(twofa.DefaultChallengeTTL)))
	assert.True(t, c.ResendAt.Equal(twofatest.Start.Add(twofa.DefaultResendCooldown)))
	m, ok := env.Sender.Last(phoneUS.E164)
	require.True(t, ok)
	assert.Equal(t, twofa.ChannelVoice, m.Channel)
	assert.Equal(t, twofa.ChallengeVerifyPhone, m.Purpose)
	assert.Equal(t, "twofatest", m.Issuer)
	assert.Equal(t, phoneUS, m.To)
	assert.True(t, m.ExpiresAt.Equal(c.ExpiresAt))
	assert.Regexp(t, `^[0-9]{6}$`, m.Code)

	// Pending numbers are no second factor.
	_, err = env.TwoFA.Verify(ctx, "alice", m.Code)
	assert.ErrorIs(t, err, twofa.ErrNotEnrolled)

	// Typed with a space and a hyphen.
	require.NoError(t, errOf(env.Phones.Confirm(ctx, "alice", p.ID, m.Code[:3]+" "+m.Code[3:4]+"-"+m.Code[4:])))
	list, err := env.Phones.List(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, twofa.PhoneTrusted, list[0].State)
	assert.True(t, list[0].ConfirmedAt.Equal(twofatest.Start))
	assert.True(t, list[0].ExpiresAt.IsZero())
	assert.Equal(t, "+1 ••• ••• ••42", fmt.Sprint(list[0].Number))

	// Reuse: the number is trusted, and the code is spent.
	assert.ErrorIs(t, errOf(env.Phones.Confirm(ctx, "alice", p.ID, m.Code)), twofa.ErrPhoneConfirmed)
	assert.Equal(t, 1, env.Events.Count(twofa.EventPhoneAdded))
	assert.Equal(t, 1, env.Events.Count(twofa.EventCodeSent))
	assert.Equal(t, 1, env.Events.Count(twofa.EventPhoneConfirmed))
}

func TestPhoneAddErrors(t *testing.T) {
	t.Parallel()
	env := newPhoneEnv(t)
	ctx := t.Context()
	_, err := env.Phones.Add(ctx, "", phoneUS)
	assert.ErrorIs(t, err, twofa.ErrInvalidAccount)
	_, err = env.Phones.Add(ctx, "alice", twofa.PhoneNumber{E164: "4155550142", CountryCode: 1})
	assert.ErrorIs(t, err, twofa.ErrInvalidPhoneNumber)
	_, err = env.Phones.Add(ctx, "alice", phoneUS)
	require.NoError(t, err)
	_, err = env.Phones.Add(ctx, "alice", phoneUS)
	assert.ErrorIs(t, err, twofa.ErrPhoneExists)
	assert.ErrorIs(t, err, twofa.ErrDuplicate)
	_, err = env.Phones.Add(ctx, "bob", phoneUS)
	assert.NoError(t, err, "another account may add the same number")
	assert.Len(t, env.Events.Events(), 2, "refused adds report nothing")
}

func TestPhoneLimit(t *testing.T) {
	t.Parallel()
	env := newPhoneEnv(t)
	ctx := t.Context()
	var first twofa.PhoneInfo
	for i := range twofa.DefaultMaxPhones {
		p, err := env.Phones.Add(ctx, "alice", twofa.PhoneNumber{E164: fmt.Sprintf("+1415555%04d", i), CountryCode: 1})
		require.NoError(t, err)
		if i == 0 {
			first = p
		}
	}
	_, err := env.Phones.Add(ctx, "alice", phoneUK)
	assert.ErrorIs(t, err, twofa.ErrTooManyPhones)
	assert.ErrorIs(t, err, twofa.ErrLimitReached)

	// Removing one frees a slot.
	require.NoError(t, errOf(env.Phones.Remove(ctx, "alice", first.ID)))
	_, err = env.Phones.Add(ctx, "alice", phoneUK)
	require.NoError(t, err)

	// Pending numbers lapse after PendingPhoneTTL: they no longer count
	// or show, and cannot be confirmed.
	env.Clock.Advance(twofa.PendingPhoneTTL)
	list, err := env.Phones.List(ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, list)
	p, err := env.Phones.Add(ctx, "alice", phoneDE)
	require.NoError(t, err)
	_, err = env.Phones.Add(ctx, "alice", phoneUK)
	require.NoError(t, err, "a lapsed number may be added again")

	c := env.Config
	c.Phones.Max = 2
	two, err := newPhones(c)
	require.NoError(t, err)
	_, err = two.Add(ctx, "alice", phoneUS)
	assert.ErrorIs(t, err, twofa.ErrTooManyPhones, "MaxPhones")
	_, err = two.Add(ctx, "alice", phoneNiue)
	assert.ErrorIs(t, err, twofa.ErrTooManyPhones)
	require.NoError(t, errOf(env.Phones.Remove(ctx, "alice", p.ID)))
	_, err = two.Add(ctx, "alice", phoneNiue)
	assert.NoError(t, err)
}

func TestPhonePendingLapses(t *testing.T) {
	t.Parallel()
	env := newPhoneEnv(t)
	ctx := t.Context()
	p, err := env.Phones.Add(ctx, "alice", phoneUS)
	require.NoError(t, err)
	// A code sent 55 minutes in cannot outlive the number.
	env.Clock.Advance(55 * time.Minute)
	c, err := env.Phones.SendCode(ctx, "alice", p.ID, twofa.ChannelSMS)
	require.NoError(t, err)
	assert.True(t, c.ExpiresAt.Equal(p.ExpiresAt), "the code expires with the number")
	env.Clock.Advance(5 * time.Minute)
	assert.ErrorIs(t, errOf(env.Phones.Confirm(ctx, "alice", p.ID, env.Sender.Code(phoneUS.E164))), twofa.ErrEnrollmentExpired)
	_, err = env.Phones.SendCode(ctx, "alice", p.ID, twofa.ChannelSMS)
	assert.ErrorIs(t, err, twofa.ErrEnrollmentExpired)
}

// TestPhoneConfirmExpiry: a code works until ChallengeTTL has passed, on the
// fake clock, and not at ChallengeTTL.
func TestPhoneConfirmExpiry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		wait time.Duration
		want error
	}{
		{twofa.DefaultChallengeTTL - time.Nanosecond, nil},
		{twofa.DefaultChallengeTTL, twofa.ErrCodeExpired},
		{time.Hour / 2, twofa.ErrCodeExpired},
	} {
		env := newPhoneEnv(t)
		p, code := addPhone(t, env, "alice", phoneUS)
		env.Clock.Advance(tc.wait)
		_, err := env.Phones.Confirm(t.Context(), "alice", p.ID, code)
		if tc.want == nil {
			assert.NoError(t, err, "after %v", tc.wait)
		} else {
			assert.ErrorIs(t, err, tc.want, "after %v", tc.wait)
		}
	}
}

// TestPhoneConfirmAttempts: the 6th try is refused even with the right code,
// and only a new code helps.
func TestPhoneConfirmAttempts(t *testing.T) {
	t.Parallel()
	env := newPhoneEnv(t)
	ctx := t.Context()
	p, code := addPhone(t, env, "alice", phoneUS)
	for i := range twofa.DefaultChallengeAttempts {
		assert.ErrorIs(t, errOf(env.Phones.Confirm(ctx, "alice", p.ID, otherCode(code))), twofa.ErrInvalidCode, "wrong try %d", i+1)
	}
	assert.ErrorIs(t, errOf(env.Phones.Confirm(ctx, "alice", p.ID, code)), twofa.ErrCodeExpired, "the right code on try 6")
	assert.Equal(t, twofa.DefaultChallengeAttempts, env.Events.Count(twofa.EventPhoneConfirmFailed))
	fails := 0
	for _, e := range env.Events.Events() {
		if e.Type == twofa.EventPhoneConfirmFailed {
			fails++
			assert.Equal(t, fails, e.Failures)
			assert.Equal(t, p.ID, e.PhoneID)
		}
	}

	// Malformed input is not a try.
	env2 := newPhoneEnv(t)
	p2, code2 := addPhone(t, env2, "alice", phoneUS)
	for _, bad := range []string{"", "12345", "1234567", "12345a", "１２３４５６", strings.Repeat("1", 40)} {
		assert.ErrorIs(t, errOf(env2.Phones.Confirm(ctx, "alice", p2.ID, bad)), twofa.ErrMalformedCode, "%q", bad)
	}
	for range twofa.DefaultChallengeAttempts - 1 {
		assert.ErrorIs(t, errOf(env2.Phones.Confirm(ctx, "alice", p2.ID, otherCode(code2))), twofa.ErrInvalidCode)
	}
	assert.NoError(t, errOf(env2.Phones.Confirm(ctx, "alice", p2.ID, code2)), "the right code on the 5th counted try")

	// A new code after the cool-down starts afresh.
	env.Clock.Advance(twofa.DefaultResendCooldown)
	_, err := env.Phones.SendCode(ctx, "alice", p.ID, twofa.ChannelSMS)
	require.NoError(t, err)
	assert.NoError(t, errOf(env.Phones.Confirm(ctx, "alice", p.ID, env.Sender.Code(phoneUS.E164))))
}

func TestPhoneConfirmWrongTargets(t *testing.T) {
	t.Parallel()
	env := newPhoneEnv(t)
	ctx := t.Context()
	a, codeA := addPhone(t, env, "alice", phoneUS)
	b, codeB := addPhone(t, env, "alice", phoneUK)
	c, codeC := addPhone(t, env, "bob", phoneDE)
	if codeA == codeB || codeA == codeC {
		t.Skip("two random codes are equal (1e-6)")
	}
	// One number's code does not confirm another, nor another account's.
	assert.ErrorIs(t, errOf(env.Phones.Confirm(ctx, "alice", b.ID, codeA)), twofa.ErrInvalidCode)
	assert.ErrorIs(t, errOf(env.Phones.Confirm(ctx, "bob", c.ID, codeA)), twofa.ErrInvalidCode)
	_, err := env.Phones.Confirm(ctx, "bob", a.ID, codeA)
	assert.ErrorIs(t, err, twofa.ErrNotFound, "alice's phone through bob")
	assert.ErrorIs(t, errOf(env.Phones.Confirm(ctx, "alice", "nosuchphone", codeA)), twofa.ErrNotFound)
	// Each its own.
	assert.NoError(t, errOf(env.Phones.Confirm(ctx, "alice", a.ID, codeA)))
	assert.NoError(t, errOf(env.Phones.Confirm(ctx, "alice", b.ID, codeB)))
	assert.NoError(t, errOf(env.Phones.Confirm(ctx, "bob", c.ID, codeC)))
}

// TestPhoneResendReplacesCode: after a resend, only the newest code works.
func TestPhoneResendReplacesCode(t *testing.T) {
	t.Parallel()
	env := newPhoneEnv(t)
	ctx := t.Context()
	p, old := addPhone(t, env, "alice", phoneUS)
	env.Clock.Advance(twofa.DefaultResendCooldown)
	_, err := env.Phones.SendCode(ctx, "alice", p.ID, twofa.ChannelSMS)
	require.NoError(t, err)
	fresh := env.Sender.Code(phoneUS.E164)
	if old == fresh {
		t.Skip("two random codes are equal (1e-6)")
	}
	assert.ErrorIs(t, errOf(env.Phones.Confirm(ctx, "alice", p.ID, old)), twofa.ErrInvalidCode)
	assert.NoError(t, errOf(env.Phones.Confirm(ctx, "alice", p.ID, fresh)))
}

func TestPhoneSendCodeCooldownAndCap(t *testing.T) {
	t.Parallel()
	env := newPhoneEnv(t)
	ctx := t.Context()
	p, _ := addPhone(t, env, "alice", phoneUS)
	start := env.Clock.Now()

	// The cool-down: 1 ns short is refused, with the time to wait.
	env.Clock.Advance(twofa.DefaultResendCooldown - time.Nanosecond)
	_, err := env.Phones.SendCode(ctx, "alice", p.ID, twofa.ChannelSMS)
	var cd *twofa.CooldownError
	require.ErrorAs(t, err, &cd)
	assert.ErrorIs(t, err, twofa.ErrCooldown)
	assert.NotErrorIs(t, err, twofa.ErrLimitReached)
	assert.False(t, cd.Hourly)
	assert.Equal(t, time.Nanosecond, cd.RetryAfter)
	assert.True(t, cd.Until.Equal(start.Add(twofa.DefaultResendCooldown)))
	assert.Len(t, env.Sender.Messages(), 1, "nothing sent")
	assert.Equal(t, 1, env.Events.Count(twofa.EventCodeSendRefused))

	// The cap: 5 codes in any hour, the first included.
	for i := 1; i < twofa.DefaultMaxSendsPerHour; i++ {
		env.Clock.Set(start.Add(time.Duration(i) * twofa.DefaultResendCooldown))
		_, err := env.Phones.SendCode(ctx, "alice", p.ID, twofa.ChannelSMS)
		require.NoError(t, err, "send %d", i+1)
	}
	env.Clock.Set(start.Add(30 * time.Minute))
	_, err = env.Phones.SendCode(ctx, "alice", p.ID, twofa.ChannelVoice)
	require.ErrorAs(t, err, &cd)
	assert.ErrorIs(t, err, twofa.ErrTooManyCodes)
	assert.ErrorIs(t, err, twofa.ErrLimitReached)
	assert.True(t, cd.Hourly)
	assert.Equal(t, 30*time.Minute, cd.RetryAfter)
	assert.Len(t, env.Sender.Messages(), twofa.DefaultMaxSendsPerHour)

	// The limits are the account's: removing and re-adding the number
	// changes nothing; another account adding it has its own.
	q, err := env.Phones.Add(ctx, "bob", phoneUS)
	require.NoError(t, err)
	_, err = env.Phones.SendCode(ctx, "bob", q.ID, twofa.ChannelSMS)
	assert.NoError(t, err, "the same number in another account")
	require.NoError(t, errOf(env.Phones.Remove(ctx, "alice", p.ID)))
	p2, err := env.Phones.Add(ctx, "alice", phoneUS)
	require.NoError(t, err)
	_, err = env.Phones.SendCode(ctx, "alice", p2.ID, twofa.ChannelSMS)
	assert.ErrorIs(t, err, twofa.ErrTooManyCodes, "re-added number")
	// Another number is not limited.
	r, err := env.Phones.Add(ctx, "alice", phoneUK)
	require.NoError(t, err)
	_, err = env.Phones.SendCode(ctx, "alice", r.ID, twofa.ChannelSMS)
	assert.NoError(t, err)

	// An hour after the first, one more; then the cool-down again.
	env.Clock.Set(start.Add(time.Hour))
	_, err = env.Phones.SendCode(ctx, "alice", p2.ID, twofa.ChannelSMS)
	require.NoError(t, err)
	_, err = env.Phones.SendCode(ctx, "alice", p2.ID, twofa.ChannelSMS)
	assert.ErrorIs(t, err, twofa.ErrCooldown)

	// Configured limits.
	c := env.Config
	c.Phones.ResendCooldown, c.Phones.MaxSendsPerHour = time.Second, 2
	ph, err := newPhones(c)
	require.NoError(t, err)
	s, err := ph.Add(ctx, "carol", phoneDE)
	require.NoError(t, err)
	_, err = ph.SendCode(ctx, "carol", s.ID, twofa.ChannelSMS)
	require.NoError(t, err)
	env.Clock.Advance(time.Second)
	_, err = ph.SendCode(ctx, "carol", s.ID, twofa.ChannelSMS)
	require.NoError(t, err)
	env.Clock.Advance(time.Second)
	_, err = ph.SendCode(ctx, "carol", s.ID, twofa.ChannelSMS)
	assert.ErrorIs(t, err, twofa.ErrTooManyCodes)
}

// TestPhoneSendCodeAccountCap is the reviewer's SMS-pumping demo: adding,
// texting and removing fresh numbers, one account sent a message per
// number without end. The account's hourly cap now holds, and removed
// numbers' codes count toward it.
func TestPhoneSendCodeAccountCap(t *testing.T) {
	t.Parallel()
	env := newPhoneEnv(t)
	ctx := t.Context()
	start := env.Clock.Now()
	pump := func(account string, from, to int) (sent int, refused error) {
		for i := from; i < to; i++ {
			n := twofa.PhoneNumber{E164: fmt.Sprintf("+4477009%05d", i), CountryCode: 44}
			p, err := env.Phones.Add(ctx, account, n)
			require.NoError(t, err)
			if _, err := env.Phones.SendCode(ctx, account, p.ID, twofa.ChannelVoice); err == nil {
				sent++
			} else if refused == nil {
				refused = err
			}
			require.NoError(t, errOf(env.Phones.Remove(ctx, account, p.ID)))
		}
		return sent, refused
	}
	sent, refused := pump("mallory", 0, 200)
	assert.Equal(t, twofa.DefaultMaxSendsPerAccountPerHour, sent)
	assert.Len(t, env.Sender.Messages(), twofa.DefaultMaxSendsPerAccountPerHour)
	var cd *twofa.CooldownError
	require.ErrorAs(t, refused, &cd)
	assert.True(t, cd.Hourly)
	assert.ErrorIs(t, refused, twofa.ErrTooManyCodes)
	assert.ErrorIs(t, refused, twofa.ErrLimitReached)
	assert.Equal(t, time.Hour, cd.RetryAfter)

	// Spread over the hour, it holds all the same.
	env.Clock.Set(start.Add(time.Hour - time.Nanosecond))
	sent, _ = pump("mallory", 200, 201)
	assert.Zero(t, sent, "1 ns short of the hour")
	env.Clock.Set(start.Add(time.Hour))
	for i := range 2 * twofa.DefaultMaxSendsPerAccountPerHour {
		s, _ := pump("mallory", 300+i, 301+i)
		sent += s
		env.Clock.Advance(time.Minute)
	}
	assert.Equal(t, twofa.DefaultMaxSendsPerAccountPerHour, sent)

	// Other accounts have their own.
	sent, _ = pump("bob", 0, 3)
	assert.Equal(t, 3, sent)

	// Configured.
	c := env.Config
	c.Phones.MaxAccountSends = 2
	ph, err := newPhones(c)
	require.NoError(t, err)
	for i, n := range []twofa.PhoneNumber{phoneUS, phoneUK, phoneDE} {
		p, err := ph.Add(ctx, "carol", n)
		require.NoError(t, err)
		_, err = ph.SendCode(ctx, "carol", p.ID, twofa.ChannelSMS)
		if i < 2 {
			assert.NoError(t, err)
		} else {
			assert.ErrorIs(t, err, twofa.ErrTooManyCodes)
		}
	}
}

// TestPhoneSendCodeOtherAccounts is the reviewer's lock-out and oracle
// demo: Mallory added the victim's number to her own account and used up
// its hourly cap with verification codes, so the victim's sign-in code
// was refused; and a fresh account's refusal told that someone had just
// sent the number a code. Now each account's sends count only against
// its own limits.
func TestPhoneSendCodeOtherAccounts(t *testing.T) {
	t.Parallel()
	env := oobEnv(t)
	ctx := t.Context()
	pid := env.TrustPhone("victim", phoneUS)
	env.Clock.Advance(2 * time.Hour)
	p, err := env.Phones.Add(ctx, "mallory", phoneUS)
	require.NoError(t, err)
	for i := range twofa.DefaultMaxSendsPerHour {
		_, err := env.Phones.SendCode(ctx, "mallory", p.ID, twofa.ChannelSMS)
		require.NoError(t, err, "mallory's send %d", i+1)
		env.Clock.Advance(twofa.DefaultResendCooldown + time.Second)
	}
	_, err = env.Phones.SendCode(ctx, "mallory", p.ID, twofa.ChannelSMS)
	assert.ErrorIs(t, err, twofa.ErrTooManyCodes, "mallory's own cap")
	// Removing and re-adding the number does not reset her limits.
	require.NoError(t, errOf(env.Phones.Remove(ctx, "mallory", p.ID)))
	p, err = env.Phones.Add(ctx, "mallory", phoneUS)
	require.NoError(t, err)
	_, err = env.Phones.SendCode(ctx, "mallory", p.ID, twofa.ChannelSMS)
	assert.ErrorIs(t, err, twofa.ErrTooManyCodes, "re-added number")

	// The victim signs in all the same.
	_, err = env.Phones.SendCode(ctx, "victim", pid, twofa.ChannelSMS)
	require.NoError(t, err, "the victim's sign-in code")
	_, err = env.TwoFA.Verify(ctx, "victim", env.Sender.Code(phoneUS.E164))
	assert.NoError(t, err)

	// No oracle: 5 s after the victim's code, a fresh account sees no
	// cool-down; the victim's own resend does.
	env.Clock.Advance(5 * time.Second)
	p2, err := env.Phones.Add(ctx, "mallory2", phoneUS)
	require.NoError(t, err)
	_, err = env.Phones.SendCode(ctx, "mallory2", p2.ID, twofa.ChannelSMS)
	assert.NoError(t, err, "another account's send shows in no error")
	_, err = env.Phones.SendCode(ctx, "victim", pid, twofa.ChannelSMS)
	assert.ErrorIs(t, err, twofa.ErrCooldown)

	// Sign-in codes have their own budget: confirming a number with
	// every verification code the hour allows leaves sign-in codes.
	q, err := env.Phones.Add(ctx, "dave", phoneDE)
	require.NoError(t, err)
	for range twofa.DefaultMaxSendsPerHour {
		_, err := env.Phones.SendCode(ctx, "dave", q.ID, twofa.ChannelSMS)
		require.NoError(t, err)
		env.Clock.Advance(twofa.DefaultResendCooldown)
	}
	require.NoError(t, errOf(env.Phones.Confirm(ctx, "dave", q.ID, env.Sender.Code(phoneDE.E164))))
	_, err = env.Phones.SendCode(ctx, "dave", q.ID, twofa.ChannelSMS)
	assert.NoError(t, err, "a sign-in code after 5 verification codes")
}

func TestPhoneSendCodeErrors(t *testing.T) {
	t.Parallel()
	env := newPhoneEnv(t)
	ctx := t.Context()
	p, err := env.Phones.Add(ctx, "alice", phoneUS)
	require.NoError(t, err)
	_, err = env.Phones.SendCode(ctx, "", p.ID, twofa.ChannelSMS)
	assert.ErrorIs(t, err, twofa.ErrInvalidAccount)
	_, err = env.Phones.SendCode(ctx, "alice", p.ID, 0)
	assert.ErrorIs(t, err, twofa.ErrInvalidChannel)
	_, err = env.Phones.SendCode(ctx, "alice", p.ID, 3)
	assert.ErrorIs(t, err, twofa.ErrInvalidChannel)
	_, err = env.Phones.SendCode(ctx, "alice", "nosuchphone", twofa.ChannelSMS)
	assert.ErrorIs(t, err, twofa.ErrNotFound)
	_, err = env.Phones.SendCode(ctx, "bob", p.ID, twofa.ChannelSMS)
	assert.ErrorIs(t, err, twofa.ErrNotFound)

	// A failed send still counts toward the limits, and its code stays
	// valid (the provider may have delivered it).
	env.Sender.Fail(errors.New("provider down"))
	_, err = env.Phones.SendCode(ctx, "alice", p.ID, twofa.ChannelSMS)
	assert.ErrorIs(t, err, twofa.ErrSendFailed)
	env.Sender.Fail(nil)
	_, err = env.Phones.SendCode(ctx, "alice", p.ID, twofa.ChannelSMS)
	assert.ErrorIs(t, err, twofa.ErrCooldown)

	// A trusted number gets sign-in codes only with OutOfBand.
	id := env.TrustPhone("carol", phoneUK)
	_, err = env.Phones.SendCode(ctx, "carol", id, twofa.ChannelSMS)
	assert.ErrorIs(t, err, twofa.ErrOutOfBandDisabled)
}

// TestPhoneSignIn is the sign-in flow: with OutOfBand, a code sent to a
// trusted number is a second factor.
func TestPhoneSignIn(t *testing.T) {
	t.Parallel()
	env := oobEnv(t)
	ctx := t.Context()
	id := env.TrustPhone("alice", phoneUS)
	env.Clock.Advance(time.Minute)
	code := env.SignInCode("alice", id)
	m, _ := env.Sender.Last(phoneUS.E164)
	assert.Equal(t, twofa.ChallengeSignIn, m.Purpose)

	// A sign-in code does not confirm a number.
	pending, err := env.Phones.Add(ctx, "alice", phoneUK)
	require.NoError(t, err)
	assert.ErrorIs(t, errOf(env.Phones.Confirm(ctx, "alice", pending.ID, code)), twofa.ErrCodeExpired)

	// Another account does not take it.
	env.TrustPhone("bob", phoneDE)
	_, err = env.TwoFA.Verify(ctx, "bob", code)
	assert.ErrorIs(t, err, twofa.ErrInvalidCode)

	res, err := env.TwoFA.Verify(ctx, "alice", code)
	require.NoError(t, err)
	assert.Equal(t, twofa.FactorPhone, res.Factor)
	assert.Equal(t, id, res.FactorID)
	assert.Empty(t, res.DeviceID)
	list, err := env.Phones.List(ctx, "alice")
	require.NoError(t, err)
	assert.True(t, list[0].LastUsedAt.Equal(env.Clock.Now()))

	// Single use.
	_, err = env.TwoFA.Verify(ctx, "alice", code)
	assert.ErrorIs(t, err, twofa.ErrReplayed)
	var verified, replayed twofa.Event
	for _, e := range env.Events.Events() {
		switch e.Type {
		case twofa.EventVerified:
			verified = e
		case twofa.EventReplayed:
			replayed = e
		}
	}
	assert.Equal(t, id, verified.PhoneID)
	assert.Equal(t, id, replayed.PhoneID)
}

func TestPhoneSignInVerificationCodeRefused(t *testing.T) {
	t.Parallel()
	env := oobEnv(t)
	ctx := t.Context()
	env.TrustPhone("alice", phoneUS)
	// A pending number's verification code is not a sign-in code.
	_, code := addPhone(t, env, "alice", phoneUK)
	_, err := env.TwoFA.Verify(ctx, "alice", code)
	assert.ErrorIs(t, err, twofa.ErrInvalidCode)
}

func TestPhoneSignInExpiry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		wait time.Duration
		want error
	}{
		{twofa.DefaultChallengeTTL - time.Nanosecond, nil},
		{twofa.DefaultChallengeTTL, twofa.ErrInvalidCode},
	} {
		env := oobEnv(t)
		id := env.TrustPhone("alice", phoneUS)
		env.Clock.Advance(time.Minute)
		code := env.SignInCode("alice", id)
		env.Clock.Advance(tc.wait)
		_, err := env.TwoFA.Verify(t.Context(), "alice", code)
		if tc.want == nil {
			assert.NoError(t, err, "after %v", tc.wait)
		} else {
			assert.ErrorIs(t, err, tc.want, "after %v", tc.wait)
		}
	}
}

// TestPhoneSignInAttempts: the 6th try is refused even with the right code.
// The wrong tries also count in the code throttle, whose back-off starts
// after 5 free failures: step past it to see the challenge's own limit.
func TestPhoneSignInAttempts(t *testing.T) {
	t.Parallel()
	env := oobEnv(t)
	ctx := t.Context()
	id := env.TrustPhone("alice", phoneUS)
	env.Clock.Advance(time.Minute)
	code := env.SignInCode("alice", id)
	for i := range twofa.DefaultChallengeAttempts {
		_, err := env.TwoFA.Verify(ctx, "alice", otherCode(code))
		assert.ErrorIs(t, err, twofa.ErrInvalidCode, "wrong try %d", i+1)
	}
	// The throttle counted them: the 6th failure starts the back-off.
	st, err := env.Store.Throttle(ctx, "alice", twofa.ScopeCode)
	require.NoError(t, err)
	assert.Equal(t, twofa.DefaultChallengeAttempts, st.Failures)
	_, err = env.TwoFA.Verify(ctx, "alice", code)
	assert.ErrorIs(t, err, twofa.ErrInvalidCode, "the right code on try 6")
	env.Clock.Advance(time.Minute) // past the throttle, within the code's life
	_, err = env.TwoFA.Verify(ctx, "alice", code)
	assert.ErrorIs(t, err, twofa.ErrInvalidCode, "the right code on try 7")

	// A fresh code works, and resets the throttle.
	code = env.SignInCode("alice", id)
	env.Clock.Advance(time.Minute)
	_, err = env.TwoFA.Verify(ctx, "alice", code)
	require.NoError(t, err)
	st, err = env.Store.Throttle(ctx, "alice", twofa.ScopeCode)
	require.NoError(t, err)
	assert.Zero(t, st.Failures)
}

func TestPhoneSignInThrottled(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	// More tries per code than the throttle's free failures, so that the
	// throttle is what stops the guessing.
	env.Config.Phones.ChallengeAttempts = 20
	env.EnableOutOfBand()
	ctx := t.Context()
	id := env.TrustPhone("alice", phoneUS)
	env.Clock.Advance(time.Minute)
	code := env.SignInCode("alice", id)
	for range cfgDefaults(t).Throttle.Codes.Free + 1 {
		_, err := env.TwoFA.Verify(ctx, "alice", otherCode(code))
		require.ErrorIs(t, err, twofa.ErrInvalidCode)
	}
	// The 6th failure started the back-off: the right code is not even
	// tried, so it is not used up either.
	_, err := env.TwoFA.Verify(ctx, "alice", code)
	var th *twofa.ThrottledError
	require.ErrorAs(t, err, &th)
	assert.Equal(t, time.Second, th.RetryAfter)
	env.Clock.Advance(time.Second)
	res, err := env.TwoFA.Verify(ctx, "alice", code)
	require.NoError(t, err)
	assert.Equal(t, twofa.FactorPhone, res.Factor)
}

// TestPhoneSignInConcurrent: of concurrent submissions of one code, exactly one
// succeeds; with a throttle wide enough to evaluate them all, the others
// are ErrReplayed.
func TestPhoneSignInConcurrent(t *testing.T) {
	t.Parallel()
	const n = 100
	env := oobEnv(t)
	env.Config.Throttle.Codes = twofa.ThrottlePolicy{Free: 10 * n, Base: time.Second, Max: time.Second}
	v, err := twofa.New(env.Config)
	require.NoError(t, err)
	id := env.TrustPhone("alice", phoneUS)
	env.Clock.Advance(time.Minute)
	code := env.SignInCode("alice", id)
	var ok, replayed atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			res, err := v.Verify(context.Background(), "alice", code)
			switch {
			case err == nil:
				assert.Equal(t, twofa.FactorPhone, res.Factor)
				ok.Add(1)
			case errors.Is(err, twofa.ErrReplayed):
				replayed.Add(1)
			default:
				assert.Failf(t, "unexpected error", "Verify: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	assert.EqualValues(t, 1, ok.Load(), "successes")
	assert.EqualValues(t, n-1, replayed.Load(), "replays")
}

// TestPhoneConfirmConcurrent: of concurrent confirmations with one code,
// exactly one succeeds.
func TestPhoneConfirmConcurrent(t *testing.T) {
	t.Parallel()
	const n = 50
	env := newPhoneEnv(t)
	p, code := addPhone(t, env, "alice", phoneUS)
	var ok atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			_, err := env.Phones.Confirm(context.Background(), "alice", p.ID, code)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, twofa.ErrReplayed), errors.Is(err, twofa.ErrPhoneConfirmed):
			default:
				assert.Failf(t, "unexpected error", "Confirm: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	assert.EqualValues(t, 1, ok.Load())
	assert.Equal(t, 1, env.Events.Count(twofa.EventPhoneConfirmed))
}

// TestPhoneAsOnlyFactor: with OutOfBand a trusted number alone counts as
// enrolled; without, it does not.
func TestPhoneAsOnlyFactor(t *testing.T) {
	t.Parallel()
	env := newPhoneEnv(t)
	ctx := t.Context()
	id := env.TrustPhone("alice", phoneUS)
	_, err := env.TwoFA.Verify(ctx, "alice", "123456")
	assert.ErrorIs(t, err, twofa.ErrNotEnrolled, "without OutOfBand")

	env.EnableOutOfBand()
	_, err = env.TwoFA.Verify(ctx, "alice", "12345678")
	assert.ErrorIs(t, err, twofa.ErrMalformedCode, "8 digits fit no factor")
	codes, err := env.Recovery.Generate(ctx, "alice")
	require.NoError(t, err)
	res, err := env.TwoFA.Verify(ctx, "alice", codes[0])
	require.NoError(t, err, "recovery codes work for a phone-only account")
	assert.Equal(t, twofa.FactorRecoveryCode, res.Factor)

	env.Clock.Advance(time.Minute)
	code := env.SignInCode("alice", id)

	// A sign-in code made while OutOfBand was on is refused once it is
	// off.
	off := env.Config
	off.Phones.OutOfBand = false
	v, err := twofa.New(off)
	require.NoError(t, err)
	_, err = v.Verify(ctx, "alice", code)
	assert.ErrorIs(t, err, twofa.ErrNotEnrolled)

	// Removing the only trusted number turns two-factor authentication
	// off: recovery codes are voided.
	require.NoError(t, errOf(env.Phones.Remove(ctx, "alice", id)))
	_, err = env.TwoFA.Verify(ctx, "alice", code)
	assert.ErrorIs(t, err, twofa.ErrNotEnrolled)
	left, err := env.Recovery.Remaining(ctx, "alice")
	require.NoError(t, err)
	assert.Zero(t, left)
	assert.Equal(t, 1, env.Events.Count(twofa.EventTwoFactorDisabled))
	assert.Equal(t, 1, env.Events.Count(twofa.EventPhoneRemoved))
}

func TestPhoneRemoveWithDevice(t *testing.T) {
	t.Parallel()
	env := oobEnv(t)
	ctx := t.Context()
	dev := env.EnrollTOTP("alice")
	id := env.TrustPhone("alice", phoneUS)
	_, err := env.Recovery.Generate(ctx, "alice")
	require.NoError(t, err)
	env.Clock.Advance(time.Minute)
	code := env.SignInCode("alice", id)

	// Both factors work side by side.
	res, err := env.TwoFA.Verify(ctx, "alice", dev.Code())
	require.NoError(t, err)
	assert.Equal(t, twofa.FactorDevice, res.Factor)

	// Removing the number voids its code at once; the device stays, and
	// so does two-factor authentication.
	require.NoError(t, errOf(env.Phones.Remove(ctx, "alice", id)))
	_, err = env.TwoFA.Verify(ctx, "alice", code)
	assert.ErrorIs(t, err, twofa.ErrInvalidCode)
	left, err := env.Recovery.Remaining(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, twofa.RecoveryCodeCount, left)
	assert.Zero(t, env.Events.Count(twofa.EventTwoFactorDisabled))
	assert.ErrorIs(t, errOf(env.Phones.Remove(ctx, "alice", id)), twofa.ErrNotFound)
	assert.ErrorIs(t, errOf(env.Phones.Remove(ctx, "", id)), twofa.ErrInvalidAccount)
}

func TestPhonePurge(t *testing.T) {
	t.Parallel()
	env := oobEnv(t)
	ctx := t.Context()
	id := env.TrustPhone("alice", phoneUS)
	_, err := env.Phones.Add(ctx, "alice", phoneUK) // lapses unconfirmed
	require.NoError(t, err)
	env.Clock.Advance(time.Minute)
	env.SignInCode("alice", id)
	n, err := env.Phones.Purge(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing is stale yet")
	env.Clock.Advance(2 * time.Hour)
	n, err = env.Phones.Purge(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, n, "the lapsed number and both codes")
	list, err := env.Phones.List(ctx, "alice")
	require.NoError(t, err)
	assert.Len(t, list, 1)
}

// TestPhoneNothingLeaks runs every flow and checks that no event, error
// or printed value holds a full number or a code.
func TestPhoneNothingLeaks(t *testing.T) {
	t.Parallel()
	env := oobEnv(t)
	ctx := t.Context()
	var errs []error
	var values []any
	keep := func(v any, err error) {
		if err != nil {
			errs = append(errs, err)
		}
		values = append(values, v)
	}
	p, err := env.Phones.Add(ctx, "alice", phoneUS)
	keep(p, err)
	keep(env.Phones.Add(ctx, "alice", phoneUS))
	keep(env.Phones.Add(ctx, "alice", twofa.PhoneNumber{E164: "+1415555014", CountryCode: 44}))
	keep(env.Phones.SendCode(ctx, "alice", p.ID, twofa.ChannelSMS))
	keep(env.Phones.SendCode(ctx, "alice", p.ID, twofa.ChannelVoice))
	code := env.Sender.Code(phoneUS.E164)
	keep(nil, errOf(env.Phones.Confirm(ctx, "alice", p.ID, otherCode(code))))
	keep(nil, errOf(env.Phones.Confirm(ctx, "alice", p.ID, code)))
	keep(nil, errOf(env.Phones.Confirm(ctx, "alice", p.ID, code)))
	env.Clock.Advance(time.Minute)
	keep(env.Phones.SendCode(ctx, "alice", p.ID, twofa.ChannelSMS))
	signIn := env.Sender.Code(phoneUS.E164)
	keep(env.TwoFA.Verify(ctx, "alice", otherCode(signIn)))
	keep(env.TwoFA.Verify(ctx, "alice", signIn))
	keep(env.TwoFA.Verify(ctx, "alice", signIn))
	env.Sender.Fail(fmt.Errorf("rejected %s", phoneUS.E164))
	env.Clock.Advance(time.Minute)
	keep(env.Phones.SendCode(ctx, "alice", p.ID, twofa.ChannelSMS))
	keep(env.Phones.List(ctx, "alice"))
	keep(nil, errOf(env.Phones.Remove(ctx, "alice", p.ID)))

	var out strings.Builder
	for _, e := range env.Events.Events() {
		fmt.Fprintf(&out, "%+v %#v\n", e, e)
	}
	for _, err := range errs {
		fmt.Fprintf(&out, "%v %+v\n", err, err)
	}
	for _, v := range values {
		fmt.Fprintf(&out, "%v %+v %#v\n", v, v, v)
	}
	assert.GreaterOrEqual(t, len(errs), 6)
	for _, secret := range []string{phoneUS.E164, phoneUS.E164[1:], "4155550142", "5550142", code, signIn} {
		assert.NotContains(t, out.String(), secret)
	}
}

// With OutOfBand set, a trusted phone number keeps two-factor
// authentication on when the last device is revoked: recovery codes stay.
func TestRevokeLastDeviceKeepsPhoneFactor(t *testing.T) {
	t.Parallel()
	env := oobEnv(t)
	ctx := t.Context()
	dev := env.EnrollTOTP("alice")
	env.TrustPhone("alice", phoneUS)
	_, err := env.Recovery.Generate(ctx, "alice")
	require.NoError(t, err)

	require.NoError(t, errOf(env.Devices.Revoke(ctx, "alice", dev.ID)))
	on, err := env.TwoFA.Enabled(ctx, "alice")
	require.NoError(t, err)
	assert.True(t, on, "the trusted phone is still a second factor")
	left, err := env.Recovery.Remaining(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, twofa.RecoveryCodeCount, left)
	assert.Zero(t, env.Events.Count(twofa.EventTwoFactorDisabled))
}

// Pending factors of every kind are treated alike: removing a pending
// number, like revoking a pending device, turns nothing off and voids
// nothing, even when the account has no factor at all.
func TestPhoneRemovePendingVoidsNothing(t *testing.T) {
	t.Parallel()
	env := oobEnv(t)
	ctx := t.Context()
	// Codes and an app password in the store, as an older version issued
	// them or as a concurrent confirmation would leave them.
	require.NoError(t, env.Store.ReplaceRecoveryCodes(ctx, "alice", [][]byte{[]byte("d1"), []byte("d2")}, env.Clock.Now()))
	p, _ := addPhone(t, env, "alice", phoneUS)
	require.NoError(t, errOf(env.Phones.Remove(ctx, "alice", p.ID)))
	left, err := env.Recovery.Remaining(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, 2, left, "recovery codes survive a pending number's removal")
	assert.Zero(t, env.Events.Count(twofa.EventTwoFactorDisabled))

	// Removing the last trusted number does turn it off.
	id := env.TrustPhone("alice", phoneUK)
	codes, err := env.Recovery.Generate(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, codes, twofa.RecoveryCodeCount)
	require.NoError(t, errOf(env.Phones.Remove(ctx, "alice", id)))
	left, err = env.Recovery.Remaining(ctx, "alice")
	require.NoError(t, err)
	assert.Zero(t, left)
	assert.Equal(t, 1, env.Events.Count(twofa.EventTwoFactorDisabled))
}
