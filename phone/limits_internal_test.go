package phone

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
)

func TestSendLimit(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	const (
		a, b, c = "+12025550101", "+12025550102", "+12025550103"
		noCap   = 1 << 20
	)
	in, confirm := PurposeSignIn, PurposeConfirm
	send := func(number string, purpose Purpose, at time.Duration) Send {
		return Send{Number: number, Purpose: purpose, CreatedAt: t0.Add(at)}
	}
	for _, tc := range []struct {
		name                string
		recent              []Send
		number              string
		purpose             Purpose
		now                 time.Duration // after t0
		cooldown            time.Duration
		perHour, perAccount int
		until               time.Duration // after t0; 0: allowed
		hourly              bool
		limitReached        bool // refused with twofa.ErrLimitReached alone
	}{
		// The resend cool-down.
		{name: "1 ns before the cool-down ends", recent: []Send{send(a, in, 0)}, number: a, purpose: in,
			now: 30*time.Second - 1, cooldown: 30 * time.Second, perHour: 5, perAccount: noCap, until: 30 * time.Second},
		{name: "when the cool-down ends", recent: []Send{send(a, in, 0)}, number: a, purpose: in,
			now: 30 * time.Second, cooldown: 30 * time.Second, perHour: 5, perAccount: noCap},
		{name: "no cool-down at all", recent: []Send{send(a, in, 0), send(a, in, 30*time.Second)}, number: a, purpose: in,
			now: 30 * time.Second, perHour: 5, perAccount: noCap},
		{name: "the latest send gives the cool-down", recent: []Send{send(a, in, 0), send(a, confirm, 20*time.Second), send(a, in, 10*time.Second)}, number: a, purpose: in,
			now: 25 * time.Second, cooldown: 30 * time.Second, perHour: 5, perAccount: noCap, until: 50 * time.Second},

		// The hourly cap of a number and purpose.
		{name: "at the cap", recent: []Send{send(a, in, 0), send(a, in, 10*time.Minute), send(a, in, 20*time.Minute)}, number: a, purpose: in,
			now: time.Hour - 1, cooldown: time.Second, perHour: 3, perAccount: noCap, until: time.Hour, hourly: true},
		{name: "an hour after the first", recent: []Send{send(a, in, 0), send(a, in, 10*time.Minute), send(a, in, 20*time.Minute)}, number: a, purpose: in,
			now: time.Hour, cooldown: time.Second, perHour: 3, perAccount: noCap},
		{name: "at the cap again: the third latest leaves the window", recent: []Send{send(a, in, 0), send(a, in, 10*time.Minute), send(a, in, 20*time.Minute), send(a, in, time.Hour)}, number: a, purpose: in,
			now: time.Hour + time.Minute, cooldown: time.Second, perHour: 3, perAccount: noCap, until: 70 * time.Minute, hourly: true},
		{name: "perHour 0", number: a, purpose: in, now: 5 * time.Hour, perHour: 0, perAccount: noCap, limitReached: true},

		// Both.
		{name: "cool-down ending after the cap", recent: []Send{send(a, in, 0)}, number: a, purpose: in,
			now: time.Minute, cooldown: 2 * time.Hour, perHour: 1, perAccount: noCap, until: 2 * time.Hour},
		{name: "cap ending after the cool-down", recent: []Send{send(a, in, 0)}, number: a, purpose: in,
			now: time.Minute, cooldown: time.Minute + 1, perHour: 1, perAccount: noCap, until: time.Hour, hourly: true},
		{name: "both ending at once", recent: []Send{send(a, in, 0)}, number: a, purpose: in,
			now: time.Minute, cooldown: time.Hour, perHour: 1, perAccount: noCap, until: time.Hour, hourly: true},

		// Numbers and purposes.
		{name: "another number", recent: []Send{send(a, in, 0), send(a, in, time.Second)}, number: b, purpose: in,
			now: 2 * time.Second, cooldown: time.Minute, perHour: 1, perAccount: noCap},
		{name: "another purpose within the cool-down", recent: []Send{send(a, in, 0)}, number: a, purpose: confirm,
			now: 2 * time.Second, cooldown: time.Minute, perHour: 1, perAccount: noCap, until: time.Minute},
		{name: "another purpose after the cool-down, cap 1", recent: []Send{send(a, in, 0)}, number: a, purpose: confirm,
			now: time.Minute, cooldown: time.Minute, perHour: 1, perAccount: noCap},
		{name: "past the cap of the number and purpose", recent: []Send{send(a, confirm, time.Second), send(a, in, time.Minute), send(b, confirm, 90*time.Second), send(a, confirm, 2*time.Minute)}, number: a, purpose: confirm,
			now: 4 * time.Minute, cooldown: time.Minute, perHour: 2, perAccount: noCap, until: time.Hour + time.Second, hourly: true},
		{name: "the number's cap of another purpose", recent: []Send{send(a, confirm, time.Second), send(a, confirm, 2*time.Minute)}, number: a, purpose: in,
			now: 4 * time.Minute, cooldown: time.Minute, perHour: 2, perAccount: noCap},

		// The account's cap.
		{name: "at the account's cap", recent: []Send{send(a, in, 0), send(b, confirm, time.Minute), send(a, in, 2*time.Minute)}, number: a, purpose: in,
			now: 3 * time.Minute, cooldown: time.Second, perHour: 100, perAccount: 3, until: time.Hour, hourly: true},
		{name: "a new number at the account's cap", recent: []Send{send(a, in, 0), send(b, confirm, time.Minute), send(a, in, 2*time.Minute)}, number: c, purpose: in,
			now: 3 * time.Minute, cooldown: time.Second, perHour: 100, perAccount: 3, until: time.Hour, hourly: true},
		{name: "an hour after the account's first", recent: []Send{send(a, in, 0), send(b, confirm, time.Minute), send(a, in, 2*time.Minute)}, number: a, purpose: in,
			now: time.Hour, cooldown: time.Second, perHour: 100, perAccount: 3},
		{name: "cool-down ending after the account's cap", recent: []Send{send(b, confirm, time.Minute), send(a, in, 2*time.Minute), send(a, in, time.Hour)}, number: a, purpose: in,
			now: time.Hour + time.Second/2, cooldown: 2 * time.Minute, perHour: 100, perAccount: 3, until: time.Hour + 2*time.Minute},
		{name: "perAccount 0", number: a, purpose: in, now: 5 * time.Hour, perHour: 10, perAccount: 0, limitReached: true},
		{name: "nothing sent", number: a, purpose: in, now: 0, cooldown: time.Hour, perHour: 1, perAccount: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, order := range []string{"as given", "reversed"} {
				recent := slices.Clone(tc.recent)
				if order == "reversed" {
					slices.Reverse(recent)
				}
				kept := slices.Clone(recent)
				now := t0.Add(tc.now)
				err := sendLimit(recent, tc.number, tc.purpose, now, tc.cooldown, tc.perHour, tc.perAccount)
				if !slices.Equal(recent, kept) {
					t.Errorf("%s: sendLimit changed its argument", order)
				}
				switch {
				case tc.limitReached:
					var cd *CooldownError
					if !errors.Is(err, twofa.ErrLimitReached) || errors.As(err, &cd) {
						t.Errorf("%s: err = %v, want twofa.ErrLimitReached and no *CooldownError", order, err)
					}
				case tc.until == 0:
					if err != nil {
						t.Errorf("%s: err = %v, want nil", order, err)
					}
				default:
					wantCooldown(t, order, err, now, t0.Add(tc.until), tc.hourly)
				}
			}
		})
	}
}

func wantCooldown(t *testing.T, what string, err error, now, until time.Time, hourly bool) {
	t.Helper()
	var cd *CooldownError
	if !errors.As(err, &cd) {
		t.Errorf("%s: err = %v, want a *CooldownError", what, err)
		return
	}
	if !cd.Until.Equal(until) || cd.RetryAfter != until.Sub(now) || cd.Hourly != hourly {
		t.Errorf("%s: CooldownError{RetryAfter: %v, Until: %v, Hourly: %v}, want {%v, %v, %v}",
			what, cd.RetryAfter, cd.Until, cd.Hourly, until.Sub(now), until, hourly)
	}
	if !errors.Is(err, ErrCooldown) || errors.Is(err, ErrTooManyCodes) != hourly || errors.Is(err, twofa.ErrLimitReached) != hourly {
		t.Errorf("%s: err = %v matches ErrCooldown %v, ErrTooManyCodes %v, twofa.ErrLimitReached %v; want true, %v, %v",
			what, err, errors.Is(err, ErrCooldown), errors.Is(err, ErrTooManyCodes), errors.Is(err, twofa.ErrLimitReached), hourly, hourly)
	}
}

func TestAllowSend(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, cooldown := range []time.Duration{0, 30 * time.Second, time.Hour} {
		cfg := Config{ResendCooldown: cooldown, MaxSendsPerHour: 2, MaxAccountSends: 3}
		since, allow := cfg.allowSend("+12025550101", PurposeSignIn, now)
		if want := now.Add(-time.Hour); !since.Equal(want) {
			t.Errorf("cool-down %v: since = %v, want %v (the hour of the caps)", cooldown, since, want)
		}
		if cooldown > 30*time.Minute {
			continue // the cool-down would hold in what follows
		}
		cfg.MaxSendsPerHour = 100 // the function keeps the limits it was made with
		recent := []Send{
			{Number: "+12025550101", Purpose: PurposeSignIn, CreatedAt: now.Add(-50 * time.Minute)},
			{Number: "+12025550101", Purpose: PurposeSignIn, CreatedAt: now.Add(-40 * time.Minute)},
		}
		wantCooldown(t, "two sign-in codes to the number, cap 2", allow(recent), now, now.Add(10*time.Minute), true)
		if err := allow(recent[:1]); err != nil {
			t.Errorf("one sign-in code to the number: %v", err)
		}
		recent[0].Number, recent[1].Purpose = "+12025550102", PurposeConfirm
		recent = append(recent, Send{Number: "+12025550103", Purpose: PurposeSignIn, CreatedAt: now.Add(-30 * time.Minute)})
		wantCooldown(t, "three codes of the account, cap 3", allow(recent), now, now.Add(10*time.Minute), true)
	}
}
