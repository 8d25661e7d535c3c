package phone_test

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
	"github.com/twofa-go/twofa/phone"
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
func addPhone(t *testing.T, env *twofatest.Env, account string, n phone.Number) (phone.Info, string) {
	t.Helper()
	p, err := env.Phones.Add(t.Context(), account, n)
	require.NoError(t, err)
	_, err = env.Phones.SendCode(t.Context(), account, p.ID, phone.SMS)
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
	base := env.PhoneConfig
	for name, tc := range map[string]func(c *phone.Config){
		"no Sender":               func(c *phone.Config) { c.Sender = nil },
		"negative MaxPhones":      func(c *phone.Config) { c.Max = -1 },
		"ChallengeTTL 1ns":        func(c *phone.Config) { c.ChallengeTTL = 1 },
		"ChallengeTTL 2h":         func(c *phone.Config) { c.ChallengeTTL = 2 * time.Hour },
		"negative attempts":       func(c *phone.Config) { c.ChallengeAttempts = -5 },
		"too many attempts":       func(c *phone.Config) { c.ChallengeAttempts = 101 },
		"negative cooldown":       func(c *phone.Config) { c.ResendCooldown = -time.Second },
		"cooldown over an hour":   func(c *phone.Config) { c.ResendCooldown = 61 * time.Minute },
		"negative sends per hour": func(c *phone.Config) { c.MaxSendsPerHour = -1 },
		"negative account sends":  func(c *phone.Config) { c.MaxAccountSends = -1 },
	} {
		c := base
		tc(&c)
		_, err := phone.New(env.TwoFA, c)
		assert.ErrorIs(t, err, twofa.ErrConfig, name)
	}
	c := base
	c.Max, c.ChallengeTTL, c.ChallengeAttempts, c.ResendCooldown, c.MaxSendsPerHour, c.MaxAccountSends = 1, time.Hour, 100, time.Hour, 1, 1
	_, err := phone.New(env.TwoFA, c)
	assert.NoError(t, err, "the bounds themselves")

	// No installation; an installation whose Store is no phone.Store and
	// no Store of its own.
	_, err = phone.New(nil, base)
	assert.ErrorIs(t, err, twofa.ErrConfig)
	type devicesOnly struct{ twofa.Store }
	cfg := env.Config
	cfg.Store = devicesOnly{env.Store}
	tf, err := twofa.New(cfg)
	require.NoError(t, err)
	_, err = phone.New(tf, base)
	assert.ErrorIs(t, err, twofa.ErrConfig, "the installation's Store is not a phone.Store")
	c = base
	c.Store = env.Store
	_, err = phone.New(tf, c)
	assert.NoError(t, err, "a Store of its own")

	// The resolved Config holds every default.
	p, err := phone.New(env.TwoFA, phone.Config{Sender: env.Sender})
	require.NoError(t, err)
	got := p.Config()
	assert.Same(t, env.Store, got.Store, "nil Store: the installation's")
	got.Store, got.Sender = nil, nil
	assert.Equal(t, phone.Config{
		Max: phone.DefaultMax, ChallengeTTL: phone.DefaultChallengeTTL, ChallengeAttempts: phone.DefaultChallengeAttempts,
		ResendCooldown: phone.DefaultResendCooldown, MaxSendsPerHour: phone.DefaultMaxSendsPerHour, MaxAccountSends: phone.DefaultMaxAccountSends,
	}, got)
}

func TestPhoneAddConfirm(t *testing.T) {
	t.Parallel()
	env := newPhoneEnv(t)
	ctx := t.Context()
	p, err := env.Phones.Add(ctx, "alice", phoneUS)
	require.NoError(t, err)
	assert.Equal(t, phone.Pending, p.State)
	assert.Equal(t, phoneUS, p.Number)
	assert.True(t, p.ExpiresAt.Equal(twofatest.Start.Add(phone.PendingTTL)))

	c, err := env.Phones.SendCode(ctx, "alice", p.ID, phone.Voice)
	require.NoError(t, err)
	assert.Equal(t, phone.PurposeConfirm, c.Purpose)
	assert.Equal(t, phone.Voice, c.Channel)
	assert.Equal(t, p.ID, c.PhoneID)
	assert.True(t, c.ExpiresAt.Equal(twofatest.Start.Add(phone.DefaultChallengeTTL)))
	assert.True(t, c.ResendAt.Equal(twofatest.Start.Add(phone.DefaultResendCooldown)))
	m, ok := env.Sender.Last(phoneUS.E164)
	require.True(t, ok)
	assert.Equal(t, phone.Voice, m.Channel)
	assert.Equal(t, phone.PurposeConfirm, m.Purpose)
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
	assert.Equal(t, phone.Trusted, list[0].State)
	assert.True(t, list[0].ConfirmedAt.Equal(twofatest.Start))
	assert.True(t, list[0].ExpiresAt.IsZero())
	assert.Equal(t, "+1 ••• ••• ••42", fmt.Sprint(list[0].Number))

	// Reuse: the number is trusted, and the code is spent.
	assert.ErrorIs(t, errOf(env.Phones.Confirm(ctx, "alice", p.ID, m.Code)), phone.ErrConfirmed)
	assert.Equal(t, 1, env.Events.Count(phone.EventAdded))
	assert.Equal(t, 1, env.Events.Count(phone.EventCodeSent))
	assert.Equal(t, 1, env.Events.Count(phone.EventConfirmed))
}

func TestPhoneAddErrors(t *testing.T) {
	t.Parallel()
	env := newPhoneEnv(t)
	ctx := t.Context()
	_, err := env.Phones.Add(ctx, "", phoneUS)
	assert.ErrorIs(t, err, twofa.ErrInvalidAccount)
	_, err = env.Phones.Add(ctx, "alice", phone.Number{E164: "4155550142", CountryCode: 1})
	assert.ErrorIs(t, err, phone.ErrInvalidNumber)
	_, err = env.Phones.Add(ctx, "alice", phoneUS)
	require.NoError(t, err)
	_, err = env.Phones.Add(ctx, "alice", phoneUS)
	assert.ErrorIs(t, err, phone.ErrExists)
	assert.ErrorIs(t, err, twofa.ErrDuplicate)
	_, err = env.Phones.Add(ctx, "bob", phoneUS)
	assert.NoError(t, err, "another account may add the same number")
	assert.Len(t, env.Events.Events(), 2, "refused adds report nothing")
}

func TestPhoneLimit(t *testing.T) {
	t.Parallel()
	env := newPhoneEnv(t)
	ctx := t.Context()
	var first phone.Info
	for i := range phone.DefaultMax {
		p, err := env.Phones.Add(ctx, "alice", phone.Number{E164: fmt.Sprintf("+1415555%04d", i), CountryCode: 1})
		require.NoError(t, err)
		if i == 0 {
			first = p
		}
	}
	_, err := env.Phones.Add(ctx, "alice", phoneUK)
	assert.ErrorIs(t, err, phone.ErrTooMany)
	assert.ErrorIs(t, err, twofa.ErrLimitReached)

	// Removing one frees a slot.
	require.NoError(t, errOf(env.Phones.Remove(ctx, "alice", first.ID)))
	_, err = env.Phones.Add(ctx, "alice", phoneUK)
	require.NoError(t, err)

	// Pending numbers lapse after PendingPhoneTTL: they no longer count
	// or show, and cannot be confirmed.
	env.Clock.Advance(phone.PendingTTL)
	list, err := env.Phones.List(ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, list)
	p, err := env.Phones.Add(ctx, "alice", phoneDE)
	require.NoError(t, err)
	_, err = env.Phones.Add(ctx, "alice", phoneUK)
	require.NoError(t, err, "a lapsed number may be added again")

	pc := env.PhoneConfig
	pc.Max = 2
	two, err := newPhones(env.Config, pc)
	require.NoError(t, err)
	_, err = two.Add(ctx, "alice", phoneUS)
	assert.ErrorIs(t, err, phone.ErrTooMany, "MaxPhones")
	_, err = two.Add(ctx, "alice", phoneNiue)
	assert.ErrorIs(t, err, phone.ErrTooMany)
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
	c, err := env.Phones.SendCode(ctx, "alice", p.ID, phone.SMS)
	require.NoError(t, err)
	assert.True(t, c.ExpiresAt.Equal(p.ExpiresAt), "the code expires with the number")
	env.Clock.Advance(5 * time.Minute)
	assert.ErrorIs(t, errOf(env.Phones.Confirm(ctx, "alice", p.ID, env.Sender.Code(phoneUS.E164))), twofa.ErrEnrollmentExpired)
	_, err = env.Phones.SendCode(ctx, "alice", p.ID, phone.SMS)
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
		{phone.DefaultChallengeTTL - time.Nanosecond, nil},
		{phone.DefaultChallengeTTL, phone.ErrCodeExpired},
		{time.Hour / 2, phone.ErrCodeExpired},
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
	for i := range phone.DefaultChallengeAttempts {
		assert.ErrorIs(t, errOf(env.Phones.Confirm(ctx, "alice", p.ID, otherCode(code))), twofa.ErrInvalidCode, "wrong try %d", i+1)
	}
	assert.ErrorIs(t, errOf(env.Phones.Confirm(ctx, "alice", p.ID, code)), phone.ErrCodeExpired, "the right code on try 6")
	assert.Equal(t, phone.DefaultChallengeAttempts, env.Events.Count(phone.EventConfirmFailed))
	fails := 0
	for _, e := range env.Events.Events() {
		if e.Type == phone.EventConfirmFailed {
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
	for range phone.DefaultChallengeAttempts - 1 {
		assert.ErrorIs(t, errOf(env2.Phones.Confirm(ctx, "alice", p2.ID, otherCode(code2))), twofa.ErrInvalidCode)
	}
	assert.NoError(t, errOf(env2.Phones.Confirm(ctx, "alice", p2.ID, code2)), "the right code on the 5th counted try")

	// A new code after the cool-down starts afresh.
	env.Clock.Advance(phone.DefaultResendCooldown)
	_, err := env.Phones.SendCode(ctx, "alice", p.ID, phone.SMS)
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
	env.Clock.Advance(phone.DefaultResendCooldown)
	_, err := env.Phones.SendCode(ctx, "alice", p.ID, phone.SMS)
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
	env.Clock.Advance(phone.DefaultResendCooldown - time.Nanosecond)
	_, err := env.Phones.SendCode(ctx, "alice", p.ID, phone.SMS)
	var cd *phone.CooldownError
	require.ErrorAs(t, err, &cd)
	assert.ErrorIs(t, err, phone.ErrCooldown)
	assert.NotErrorIs(t, err, twofa.ErrLimitReached)
	assert.False(t, cd.Hourly)
	assert.Equal(t, time.Nanosecond, cd.RetryAfter)
	assert.True(t, cd.Until.Equal(start.Add(phone.DefaultResendCooldown)))
	assert.Len(t, env.Sender.Messages(), 1, "nothing sent")
	assert.Equal(t, 1, env.Events.Count(phone.EventCodeSendRefused))

	// The cap: 5 codes in any hour, the first included.
	for i := 1; i < phone.DefaultMaxSendsPerHour; i++ {
		env.Clock.Set(start.Add(time.Duration(i) * phone.DefaultResendCooldown))
		_, err := env.Phones.SendCode(ctx, "alice", p.ID, phone.SMS)
		require.NoError(t, err, "send %d", i+1)
	}
	env.Clock.Set(start.Add(30 * time.Minute))
	_, err = env.Phones.SendCode(ctx, "alice", p.ID, phone.Voice)
	require.ErrorAs(t, err, &cd)
	assert.ErrorIs(t, err, phone.ErrTooManyCodes)
	assert.ErrorIs(t, err, twofa.ErrLimitReached)
	assert.True(t, cd.Hourly)
	assert.Equal(t, 30*time.Minute, cd.RetryAfter)
	assert.Len(t, env.Sender.Messages(), phone.DefaultMaxSendsPerHour)

	// The limits are the account's: removing and re-adding the number
	// changes nothing; another account adding it has its own.
	q, err := env.Phones.Add(ctx, "bob", phoneUS)
	require.NoError(t, err)
	_, err = env.Phones.SendCode(ctx, "bob", q.ID, phone.SMS)
	assert.NoError(t, err, "the same number in another account")
	require.NoError(t, errOf(env.Phones.Remove(ctx, "alice", p.ID)))
	p2, err := env.Phones.Add(ctx, "alice", phoneUS)
	require.NoError(t, err)
	_, err = env.Phones.SendCode(ctx, "alice", p2.ID, phone.SMS)
	assert.ErrorIs(t, err, phone.ErrTooManyCodes, "re-added number")
	// Another number is not limited.
	r, err := env.Phones.Add(ctx, "alice", phoneUK)
	require.NoError(t, err)
	_, err = env.Phones.SendCode(ctx, "alice", r.ID, phone.SMS)
	assert.NoError(t, err)

	// An hour after the first, one more; then the cool-down again.
	env.Clock.Set(start.Add(time.Hour))
	_, err = env.Phones.SendCode(ctx, "alice", p2.ID, phone.SMS)
	require.NoError(t, err)
	_, err = env.Phones.SendCode(ctx, "alice", p2.ID, phone.SMS)
	assert.ErrorIs(t, err, phone.ErrCooldown)

	// Configured limits.
	pc := env.PhoneConfig
	pc.ResendCooldown, pc.MaxSendsPerHour = time.Second, 2
	ph, err := newPhones(env.Config, pc)
	require.NoError(t, err)
	s, err := ph.Add(ctx, "carol", phoneDE)
	require.NoError(t, err)
	_, err = ph.SendCode(ctx, "carol", s.ID, phone.SMS)
	require.NoError(t, err)
	env.Clock.Advance(time.Second)
	_, err = ph.SendCode(ctx, "carol", s.ID, phone.SMS)
	require.NoError(t, err)
	env.Clock.Advance(time.Second)
	_, err = ph.SendCode(ctx, "carol", s.ID, phone.SMS)
	assert.ErrorIs(t, err, phone.ErrTooManyCodes)
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
			n := phone.Number{E164: fmt.Sprintf("+4477009%05d", i), CountryCode: 44}
			p, err := env.Phones.Add(ctx, account, n)
			require.NoError(t, err)
			if _, err := env.Phones.SendCode(ctx, account, p.ID, phone.Voice); err == nil {
				sent++
			} else if refused == nil {
				refused = err
			}
			require.NoError(t, errOf(env.Phones.Remove(ctx, account, p.ID)))
		}
		return sent, refused
	}
	sent, refused := pump("mallory", 0, 200)
	assert.Equal(t, phone.DefaultMaxAccountSends, sent)
	assert.Len(t, env.Sender.Messages(), phone.DefaultMaxAccountSends)
	var cd *phone.CooldownError
	require.ErrorAs(t, refused, &cd)
	assert.True(t, cd.Hourly)
	assert.ErrorIs(t, refused, phone.ErrTooManyCodes)
	assert.ErrorIs(t, refused, twofa.ErrLimitReached)
	assert.Equal(t, time.Hour, cd.RetryAfter)

	// Spread over the hour, it holds all the same.
	env.Clock.Set(start.Add(time.Hour - time.Nanosecond))
	sent, _ = pump("mallory", 200, 201)
	assert.Zero(t, sent, "1 ns short of the hour")
	env.Clock.Set(start.Add(time.Hour))
	for i := range 2 * phone.DefaultMaxAccountSends {
		s, _ := pump("mallory", 300+i, 301+i)
		sent += s
		env.Clock.Advance(time.Minute)
	}
	assert.Equal(t, phone.DefaultMaxAccountSends, sent)

	// Other accounts have their own.
	sent, _ = pump("bob", 0, 3)
	assert.Equal(t, 3, sent)

	// Configured.
	pc := env.PhoneConfig
	pc.MaxAccountSends = 2
	ph, err := newPhones(env.Config, pc)
	require.NoError(t, err)
	for i, n := range []phone.Number{phoneUS, phoneUK, phoneDE} {
		p, err := ph.Add(ctx, "carol", n)
		require.NoError(t, err)
		_, err = ph.SendCode(ctx, "carol", p.ID, phone.SMS)
		if i < 2 {
			assert.NoError(t, err)
		} else {
			assert.ErrorIs(t, err, phone.ErrTooManyCodes)
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
	for i := range phone.DefaultMaxSendsPerHour {
		_, err := env.Phones.SendCode(ctx, "mallory", p.ID, phone.SMS)
		require.NoError(t, err, "mallory's send %d", i+1)
		env.Clock.Advance(phone.DefaultResendCooldown + time.Second)
	}
	_, err = env.Phones.SendCode(ctx, "mallory", p.ID, phone.SMS)
	assert.ErrorIs(t, err, phone.ErrTooManyCodes, "mallory's own cap")
	// Removing and re-adding the number does not reset her limits.
	require.NoError(t, errOf(env.Phones.Remove(ctx, "mallory", p.ID)))
	p, err = env.Phones.Add(ctx, "mallory", phoneUS)
	require.NoError(t, err)
	_, err = env.Phones.SendCode(ctx, "mallory", p.ID, phone.SMS)
	assert.ErrorIs(t, err, phone.ErrTooManyCodes, "re-added number")

	// The victim signs in all the same.
	_, err = env.Phones.SendCode(ctx, "victim", pid, phone.SMS)
	require.NoError(t, err, "the victim's sign-in code")
	_, err = env.TwoFA.Verify(ctx, "victim", env.Sender.Code(phoneUS.E164))
	assert.NoError(t, err)

	// No oracle: 5 s after the victim's code, a fresh account sees no
	// cool-down; the victim's own resend does.
	env.Clock.Advance(5 * time.Second)
	p2, err := env.Phones.Add(ctx, "mallory2", phoneUS)
	require.NoError(t, err)
	_, err = env.Phones.SendCode(ctx, "mallory2", p2.ID, phone.SMS)
	assert.NoError(t, err, "another account's send shows in no error")
	_, err = env.Phones.SendCode(ctx, "victim", pid, phone.SMS)
	assert.ErrorIs(t, err, phone.ErrCooldown)

	// Sign-in codes have their own budget: confirming a number with
	// every verification code the hour allows leaves sign-in codes.
	q, err := env.Phones.Add(ctx, "dave", phoneDE)
	require.NoError(t, err)
	for range phone.DefaultMaxSendsPerHour {
		_, err := env.Phones.SendCode(ctx, "dave", q.ID, phone.SMS)
		require.NoError(t, err)
		env.Clock.Advance(phone.DefaultResendCooldown)
	}
	require.NoError(t, errOf(env.Phones.Confirm(ctx, "dave", q.ID, env.Sender.Code(phoneDE.E164))))
	_, err = env.Phones.SendCode(ctx, "dave", q.ID, phone.SMS)
	assert.NoError(t, err, "a sign-in code after 5 verification codes")
}

func TestPhoneSendCodeErrors(t *testing.T) {
	t.Parallel()
	env := newPhoneEnv(t)
	ctx := t.Context()
	p, err := env.Phones.Add(ctx, "alice", phoneUS)
	require.NoError(t, err)
	_, err = env.Phones.SendCode(ctx, "", p.ID, phone.SMS)
	assert.ErrorIs(t, err, twofa.ErrInvalidAccount)
	_, err = env.Phones.SendCode(ctx, "alice", p.ID, 0)
	assert.ErrorIs(t, err, phone.ErrInvalidChannel)
	_, err = env.Phones.SendCode(ctx, "alice", p.ID, 3)
	assert.ErrorIs(t, err, phone.ErrInvalidChannel)
	_, err = env.Phones.SendCode(ctx, "alice", "nosuchphone", phone.SMS)
	assert.ErrorIs(t, err, twofa.ErrNotFound)
	_, err = env.Phones.SendCode(ctx, "bob", p.ID, phone.SMS)
	assert.ErrorIs(t, err, twofa.ErrNotFound)

	// A failed send still counts toward the limits, and its code stays
	// valid (the provider may have delivered it).
	env.Sender.Fail(errors.New("provider down"))
	_, err = env.Phones.SendCode(ctx, "alice", p.ID, phone.SMS)
	assert.ErrorIs(t, err, phone.ErrSendFailed)
	env.Sender.Fail(nil)
	_, err = env.Phones.SendCode(ctx, "alice", p.ID, phone.SMS)
	assert.ErrorIs(t, err, phone.ErrCooldown)

	// A trusted number gets sign-in codes only with OutOfBand.
	id := env.TrustPhone("carol", phoneUK)
	_, err = env.Phones.SendCode(ctx, "carol", id, phone.SMS)
	assert.ErrorIs(t, err, phone.ErrOutOfBandDisabled)
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
	assert.Equal(t, phone.PurposeSignIn, m.Purpose)

	// A sign-in code does not confirm a number.
	pending, err := env.Phones.Add(ctx, "alice", phoneUK)
	require.NoError(t, err)
	assert.ErrorIs(t, errOf(env.Phones.Confirm(ctx, "alice", pending.ID, code)), phone.ErrCodeExpired)

	// Another account does not take it.
	env.TrustPhone("bob", phoneDE)
	_, err = env.TwoFA.Verify(ctx, "bob", code)
	assert.ErrorIs(t, err, twofa.ErrInvalidCode)

	res, err := env.TwoFA.Verify(ctx, "alice", code)
	require.NoError(t, err)
	assert.Equal(t, phone.Kind, res.Factor)
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
		{phone.DefaultChallengeTTL - time.Nanosecond, nil},
		{phone.DefaultChallengeTTL, twofa.ErrInvalidCode},
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
	for i := range phone.DefaultChallengeAttempts {
		_, err := env.TwoFA.Verify(ctx, "alice", otherCode(code))
		assert.ErrorIs(t, err, twofa.ErrInvalidCode, "wrong try %d", i+1)
	}
	// The throttle counted them: the 6th failure starts the back-off.
	st, err := env.Store.Throttle(ctx, "alice", twofa.ScopeCode)
	require.NoError(t, err)
	assert.Equal(t, phone.DefaultChallengeAttempts, st.Failures)
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
	env.PhoneConfig.ChallengeAttempts = 20
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
	assert.Equal(t, phone.Kind, res.Factor)
}

// TestPhoneSignInConcurrent: of concurrent submissions of one code, exactly one
// succeeds; with a throttle wide enough to evaluate them all, the others
// are ErrReplayed.
func TestPhoneSignInConcurrent(t *testing.T) {
	t.Parallel()
	const n = 100
	env := oobEnv(t)
	env.Config.Throttle.Codes = twofa.ThrottlePolicy{Free: 10 * n, Base: time.Second, Max: time.Second}
	v, _ := mustInstall(t, env.Config, env.PhoneConfig)
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
				assert.Equal(t, phone.Kind, res.Factor)
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
			case errors.Is(err, twofa.ErrReplayed), errors.Is(err, phone.ErrConfirmed):
			default:
				assert.Failf(t, "unexpected error", "Confirm: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	assert.EqualValues(t, 1, ok.Load())
	assert.Equal(t, 1, env.Events.Count(phone.EventConfirmed))
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
	off := env.PhoneConfig
	off.OutOfBand = false
	v, _ := mustInstall(t, env.Config, off)
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
	assert.Equal(t, 1, env.Events.Count(phone.EventRemoved))
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
	keep(env.Phones.Add(ctx, "alice", phone.Number{E164: "+1415555014", CountryCode: 44}))
	keep(env.Phones.SendCode(ctx, "alice", p.ID, phone.SMS))
	keep(env.Phones.SendCode(ctx, "alice", p.ID, phone.Voice))
	code := env.Sender.Code(phoneUS.E164)
	keep(nil, errOf(env.Phones.Confirm(ctx, "alice", p.ID, otherCode(code))))
	keep(nil, errOf(env.Phones.Confirm(ctx, "alice", p.ID, code)))
	keep(nil, errOf(env.Phones.Confirm(ctx, "alice", p.ID, code)))
	env.Clock.Advance(time.Minute)
	keep(env.Phones.SendCode(ctx, "alice", p.ID, phone.SMS))
	signIn := env.Sender.Code(phoneUS.E164)
	keep(env.TwoFA.Verify(ctx, "alice", otherCode(signIn)))
	keep(env.TwoFA.Verify(ctx, "alice", signIn))
	keep(env.TwoFA.Verify(ctx, "alice", signIn))
	env.Sender.Fail(fmt.Errorf("rejected %s", phoneUS.E164))
	env.Clock.Advance(time.Minute)
	keep(env.Phones.SendCode(ctx, "alice", p.ID, phone.SMS))
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

// TestPhoneSignInSparedByDeviceReplays: a replayed device code is not
// tried against the live sign-in codes, so replays (a double submit, an
// old code in a password manager) never use up the tries of the code
// the owner was sent.
func TestPhoneSignInSparedByDeviceReplays(t *testing.T) {
	t.Parallel()
	env := oobEnv(t)
	ctx := t.Context()
	dev := env.EnrollTOTP("alice")
	id := env.TrustPhone("alice", phoneUS)
	env.Clock.Advance(time.Minute)
	used := dev.Code()
	_, err := env.TwoFA.Verify(ctx, "alice", used)
	require.NoError(t, err)
	code := env.SignInCode("alice", id)
	for range phone.DefaultChallengeAttempts + 1 {
		_, err := env.TwoFA.Verify(ctx, "alice", used)
		require.ErrorIs(t, err, twofa.ErrReplayed)
	}
	live, err := env.Store.LiveChallenges(ctx, "alice", phone.PurposeSignIn, env.Clock.Now())
	require.NoError(t, err)
	require.Len(t, live, 1)
	assert.Zero(t, live[0].Attempts, "no try counted against the sign-in code")
	env.Clock.Advance(time.Minute) // past the back-off the replays started
	res, err := env.TwoFA.Verify(ctx, "alice", code)
	require.NoError(t, err)
	assert.Equal(t, phone.Kind, res.Factor)
}
