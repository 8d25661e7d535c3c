package phone_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/phone"
)

// Fictional numbers (the 555-01XX range is reserved for fiction).
var (
	phoneUS   = phone.Number{E164: "+14155550142", CountryCode: 1}
	phoneUK   = phone.Number{E164: "+447700900123", CountryCode: 44}
	phoneDE   = phone.Number{E164: "+4915123456789", CountryCode: 49}
	phoneNiue = phone.Number{E164: "+6834002", CountryCode: 683}
)

func TestPhoneNumberValidate(t *testing.T) {
	t.Parallel()
	for _, n := range []phone.Number{
		phoneUS, phoneUK, phoneDE, phoneNiue,
		{E164: "+123456789012345", CountryCode: 1}, // 15 digits
		{E164: "+8613812345678", CountryCode: 86},  // China
		{E164: "+3761234567", CountryCode: 376},    // a 3-digit country code
		{E164: "+9999999", CountryCode: 999},       // 7 digits
		{E164: "+79161234567", CountryCode: 7},     // a 1-digit code other than 1
		{E164: "+88213123456", CountryCode: 882},   // international networks
		{E164: "+441234567890", CountryCode: 44},   // 12 digits
	} {
		assert.NoError(t, n.Validate(), "%s/%d", n.E164, n.CountryCode)
	}
	for _, tc := range []struct {
		n    phone.Number
		want string
	}{
		{phone.Number{}, "E.164"},
		{phone.Number{E164: "14155550142", CountryCode: 1}, "E.164"},
		{phone.Number{E164: "+1 415 555 0142", CountryCode: 1}, "E.164"},
		{phone.Number{E164: "+1-415-555-0142", CountryCode: 1}, "E.164"},
		{phone.Number{E164: "+1234567890123456", CountryCode: 1}, "E.164"}, // 16 digits
		{phone.Number{E164: "+123456", CountryCode: 1}, "E.164"},           // 6 digits
		{phone.Number{E164: "+04155550142", CountryCode: 0}, "E.164"},
		{phone.Number{E164: "+1415555014x", CountryCode: 1}, "E.164"},
		{phone.Number{E164: "+1415555０142", CountryCode: 1}, "E.164"}, // a full-width digit
		{phone.Number{E164: "++14155550142", CountryCode: 1}, "E.164"},
		{phone.Number{E164: "+14155550142\n", CountryCode: 1}, "E.164"},
		{phone.Number{E164: "+14155550142", CountryCode: 0}, "country code"},
		{phone.Number{E164: "+14155550142", CountryCode: 1000}, "country code"},
		{phone.Number{E164: "+14155550142", CountryCode: 44}, "country code 44"},
		{phone.Number{E164: "+14155550142", CountryCode: 14155}, "country code"},
		{phone.Number{E164: "+14155550142", CountryCode: -1}, "country code"},
	} {
		err := tc.n.Validate()
		require.ErrorIs(t, err, phone.ErrInvalidNumber, "%q/%d", tc.n.E164, tc.n.CountryCode)
		assert.Contains(t, err.Error(), tc.want)
		if len(tc.n.E164) > 6 {
			assert.NotContains(t, err.Error(), tc.n.E164[len(tc.n.E164)-6:], "the error repeats the number")
		}
	}
}

func TestPhoneNumberMasked(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n    phone.Number
		want string
	}{
		{phoneUS, "+1 ••• ••• ••42"},
		{phoneUK, "+44 ••• ••• ••23"},
		{phoneDE, "+49 ••• •••• ••89"},
		{phoneNiue, "+683 ••02"},
		{phone.Number{E164: "+33612345678", CountryCode: 33}, "+33 ••• •• ••78"},
		{phone.Number{E164: "+29022123", CountryCode: 290}, "+290 • ••23"},
		{phone.Number{E164: "+123456789012345", CountryCode: 1}, "+1 ••• ••• •••• ••45"},
		{phone.Number{}, ""},
		{phone.Number{E164: "+14155550142", CountryCode: 44}, "(invalid phone number)"},
		{phone.Number{E164: "4155550142"}, "(invalid phone number)"},
	} {
		assert.Equal(t, tc.want, tc.n.Masked(), tc.n.Masked())
	}
}

// TestPhoneNumberNeverPrints checks every way a PhoneNumber, or a value
// holding one, can be printed.
func TestPhoneNumberNeverPrints(t *testing.T) {
	t.Parallel()
	type holder struct {
		N  phone.Number
		P  *phone.Number
		In phone.Info
		Ph phone.Record
	}
	n := phoneUS
	h := holder{N: n, P: &n, In: phone.Info{Number: n}, Ph: phone.Record{Number: n}}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%X", "%10.3v", "%T %v"} {
		outs = append(outs, fmt.Sprintf(verb, n), fmt.Sprintf(verb, &n), fmt.Sprintf(verb, h), fmt.Sprintf(verb, []phone.Number{n}))
	}
	outs = append(outs, n.String(), n.GoString(), fmt.Sprint(n), fmt.Sprintln(n))
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("x", "phone", n, "info", phone.Info{Number: n}, "record", phone.Record{Number: n},
		"challenge", phone.Sent{To: n})
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "phone", n)
	outs = append(outs, buf.String())
	for _, out := range outs {
		assert.NotContains(t, out, "5550142", out)
		assert.NotContains(t, out, "0142", out)
	}
	assert.Contains(t, fmt.Sprintf("%v", h), "+1 ••• ••• ••42")
	// The full number is in E164 for whoever reads it on purpose, and in
	// JSON (a backend storing it elsewhere).
	j, err := json.Marshal(n)
	require.NoError(t, err)
	assert.Contains(t, string(j), "+14155550142")
}

func TestMessageNeverPrintsCode(t *testing.T) {
	t.Parallel()
	m := phone.Message{To: phoneUS, Channel: phone.Voice, Purpose: phone.PurposeSignIn, Code: "987654", Issuer: "Example"}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x"} {
		outs = append(outs, fmt.Sprintf(verb, m), fmt.Sprintf(verb, &m), fmt.Sprintf(verb, []phone.Message{m}), fmt.Sprintf(verb, struct{ M phone.Message }{m}))
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "msg", m)
	outs = append(outs, buf.String(), m.String(), m.GoString())
	for _, out := range outs {
		assert.NotContains(t, out, "987654", out)
		assert.NotContains(t, out, "0142", out)
	}
	assert.Equal(t, "phone.Message{voice sign_in to +1 ••• ••• ••42, code REDACTED}", m.String())
	assert.Contains(t, buf.String(), `"to":"+1 ••• ••• ••42"`)
}

func TestMessageText(t *testing.T) {
	t.Parallel()
	m := phone.Message{To: phoneUS, Channel: phone.SMS, Purpose: phone.PurposeSignIn, Code: "012345", Issuer: "Example"}
	assert.Equal(t, "012345 is your Example sign-in code. Do not share it with anyone.", m.Text())
	m.Purpose, m.Issuer = phone.PurposeConfirm, ""
	assert.Equal(t, "012345 is your code to confirm this phone number. Do not share it with anyone.", m.Text())
	m.Channel, m.Issuer = phone.Voice, "Example"
	assert.Equal(t, "Your Example code to confirm this phone number is 0, 1, 2, 3, 4, 5. Again: 0, 1, 2, 3, 4, 5.", m.Text())
}

func TestChannelAndPurposeStrings(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "sms", phone.SMS.String())
	assert.Equal(t, "voice", phone.Voice.String())
	assert.Equal(t, "Channel(9)", phone.Channel(9).String())
	assert.Equal(t, "verify_phone", phone.PurposeConfirm.String())
	assert.Equal(t, "sign_in", phone.PurposeSignIn.String())
	assert.Equal(t, "Purpose(0)", phone.Purpose(0).String())
	assert.Equal(t, "pending", phone.Pending.String())
	assert.Equal(t, "trusted", phone.Trusted.String())
	assert.Equal(t, "unknown", phone.State(0).String())
	for s, want := range map[phone.ChallengeState]string{phone.ChallengeOpen: "open", phone.ChallengeUsed: "used", phone.ChallengeVoided: "voided", 0: "unknown"} {
		assert.Equal(t, want, s.String())
	}
	for r, want := range map[phone.ConsumeResult]string{
		phone.ConsumeAccepted: "accepted", phone.ConsumeWrong: "wrong", phone.ConsumeUsed: "used",
		phone.ConsumeVoided: "voided", phone.ConsumeExpired: "expired", phone.ConsumeExhausted: "exhausted", 0: "ConsumeResult(0)",
	} {
		assert.Equal(t, want, r.String())
	}
	assert.Equal(t, twofa.FactorKind("phone"), phone.Kind)
}

func TestCooldownError(t *testing.T) {
	t.Parallel()
	until := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cool := error(&phone.CooldownError{RetryAfter: 29 * time.Second, Until: until})
	assert.ErrorIs(t, cool, phone.ErrCooldown)
	assert.NotErrorIs(t, cool, twofa.ErrLimitReached)
	assert.NotErrorIs(t, cool, phone.ErrTooManyCodes)
	assert.Equal(t, "twofa: a code was sent to this number moments ago; retry after 29s", cool.Error())
	capped := fmt.Errorf("store: %w", &phone.CooldownError{RetryAfter: 40 * time.Minute, Until: until, Hourly: true})
	assert.ErrorIs(t, capped, phone.ErrCooldown)
	assert.ErrorIs(t, capped, phone.ErrTooManyCodes)
	assert.ErrorIs(t, capped, twofa.ErrLimitReached)
	var cd *phone.CooldownError
	require.ErrorAs(t, capped, &cd)
	assert.Equal(t, 40*time.Minute, cd.RetryAfter)
	assert.Contains(t, capped.Error(), "too many codes")
}

// TestSendErrorScrubs checks that a provider's error that echoes the
// number or the code does not carry them into the error's text.
func TestSendErrorScrubs(t *testing.T) {
	t.Parallel()
	env := newPhoneEnv(t)
	var provider error
	env.PhoneConfig.Sender = phone.SenderFunc(func(_ context.Context, m phone.Message) error {
		provider = fmt.Errorf("provider: cannot deliver %q to %s (raw 14155550142, national 4155550142): carrier rejected", m.Text(), m.To.E164)
		return provider
	})
	phones, err := newPhones(env.Config, env.PhoneConfig)
	require.NoError(t, err)
	p, err := phones.Add(t.Context(), "alice", phoneUS)
	require.NoError(t, err)
	_, err = phones.SendCode(t.Context(), "alice", p.ID, phone.SMS)
	require.ErrorIs(t, err, phone.ErrSendFailed)
	assert.NotErrorIs(t, err, provider, "the provider's error, which may echo the code, is not retained")
	var se *phone.SendError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, phone.SMS, se.Channel)
	msg := err.Error()
	assert.Equal(t, `twofa: sending the code by sms to +1 ••• ••• ••42 failed: provider: cannot deliver "[redacted]" to [redacted] (raw [redacted], national [redacted]): carrier rejected`, msg)
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", err, err, se), "5550142")
}

// TestSendErrorScrubsAnyForm is the reviewer's demo: a voice provider
// echoes the number formatted and the code as the spoken digits. Neither
// may reach the error, in its text or through Unwrap.
func TestSendErrorScrubsAnyForm(t *testing.T) {
	t.Parallel()
	env := newPhoneEnv(t)
	var sent phone.Message
	env.PhoneConfig.Sender = phone.SenderFunc(func(_ context.Context, m phone.Message) error {
		sent = m
		spoken := strings.Split(strings.Split(m.Text(), " is ")[1], ".")[0] // "0, 1, 7, 0, 3, 6"
		return fmt.Errorf(`provider: 400 {"to":"+1 (415) 555-0142","alt":"415.555.0142","twiml":"<Say>%s</Say>","ssml":"%s","code":"%s-%s"}`,
			spoken, strings.Join(strings.Split(m.Code, ""), "</say><say>"), m.Code[:3], m.Code[3:])
	})
	phones, err := newPhones(env.Config, env.PhoneConfig)
	require.NoError(t, err)
	p, err := phones.Add(t.Context(), "alice", phoneUS)
	require.NoError(t, err)
	_, err = phones.SendCode(t.Context(), "alice", p.ID, phone.Voice)
	require.ErrorIs(t, err, phone.ErrSendFailed)
	assert.Nil(t, errors.Unwrap(err), "Unwrap does not return the provider's error")
	assert.Equal(t, `twofa: sending the code by voice to +1 ••• ••• ••42 failed: provider: 400 {"to":"+[redacted]","alt":"[redacted]","twiml":"<Say>[redacted]</Say>","ssml":"[redacted]","code":"[redacted]"}`, err.Error())
	digits := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, s)
	}
	var se *phone.SendError
	require.ErrorAs(t, err, &se)
	out := digits(fmt.Sprintf("%v %+v %#v", err, se, se))
	assert.NotContains(t, out, sent.Code)
	assert.NotContains(t, out, "4155550142")

	// Context errors stay matchable: they are sentinels, not the
	// provider's text.
	env.PhoneConfig.Sender = phone.SenderFunc(func(ctx context.Context, m phone.Message) error {
		return fmt.Errorf("provider: sending %s: %w", m.Code, context.DeadlineExceeded)
	})
	phones, err = newPhones(env.Config, env.PhoneConfig)
	require.NoError(t, err)
	env.Clock.Advance(time.Minute)
	_, err = phones.SendCode(t.Context(), "alice", p.ID, phone.SMS)
	assert.ErrorIs(t, err, phone.ErrSendFailed)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotContains(t, err.Error(), "provider: sending 0")
}

// TestSendFailureVoidsCode: a code whose send failed is not left valid,
// and the failed send still counts toward the limits.
func TestSendFailureVoidsCode(t *testing.T) {
	t.Parallel()
	env := newPhoneEnv(t)
	ctx := t.Context()
	var code string
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	env.PhoneConfig.Sender = phone.SenderFunc(func(ctx context.Context, m phone.Message) error {
		code = m.Code
		cancel() // the code is voided even when the caller's context is done
		return ctx.Err()
	})
	phones, err := newPhones(env.Config, env.PhoneConfig)
	require.NoError(t, err)
	p, err := phones.Add(ctx, "alice", phoneUS)
	require.NoError(t, err)
	_, err = phones.SendCode(cctx, "alice", p.ID, phone.SMS)
	require.ErrorIs(t, err, phone.ErrSendFailed)
	assert.ErrorIs(t, err, context.Canceled)
	require.Len(t, code, 6)
	assert.ErrorIs(t, errOf(phones.Confirm(ctx, "alice", p.ID, code)), phone.ErrCodeExpired, "the undelivered code is void")
	_, err = phones.SendCode(ctx, "alice", p.ID, phone.SMS)
	assert.ErrorIs(t, err, phone.ErrCooldown, "the failed send counts")
}

// TestNilErrorsUnwrap: errors.Is and errors.As walk a wrapped nil
// *CooldownError or *SendError without a panic.
func TestNilErrorsUnwrap(t *testing.T) {
	t.Parallel()
	var c *phone.CooldownError
	var s *phone.SendError
	for _, err := range []error{fmt.Errorf("wrapped: %w", c), fmt.Errorf("wrapped: %w", s)} {
		assert.NotPanics(t, func() {
			_ = errors.Is(err, phone.ErrTooManyCodes)
			var target *phone.CooldownError
			_ = errors.As(err, &target)
		})
	}
}
