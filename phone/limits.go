package phone

import (
	"fmt"
	"slices"
	"time"

	"github.com/twofa-go/twofa"
)

// sendLimit decides whether the account may send a code of purpose to
// number at now, given its recent sends (those created after
// now - max(cooldown, 1 hour), in any order): nil if it may, else a
// *CooldownError. The limits are the account's own: a send to number
// created after now - cooldown (any purpose); perHour or more sends to
// number for purpose created after now - 1 hour; perAccount or more
// sends (any number, any purpose) created after now - 1 hour. Until is
// the first instant at which no limit holds any more: the latest of the
// number's latest CreatedAt + cooldown, the perHour-th latest CreatedAt
// of the number and purpose + 1 hour, and the account's perAccount-th
// latest CreatedAt + 1 hour; Hourly is set when one of the hourly caps
// gives it (ties included). A perHour or perAccount below 1 refuses
// every send with twofa.ErrLimitReached.
func sendLimit(recent []Send, number string, purpose Purpose, now time.Time, cooldown time.Duration, perHour, perAccount int) error {
	if perHour < 1 || perAccount < 1 {
		return fmt.Errorf("%w: no codes allowed", twofa.ErrLimitReached)
	}
	var until time.Time
	var same, all []time.Time // created within the hour
	for _, s := range recent {
		if s.Number == number && cooldown > 0 {
			if t := s.CreatedAt.Add(cooldown); t.After(now) && t.After(until) {
				until = t
			}
		}
		if !s.CreatedAt.After(now.Add(-sendWindow)) {
			continue
		}
		all = append(all, s.CreatedAt)
		if s.Number == number && s.Purpose == purpose {
			same = append(same, s.CreatedAt)
		}
	}
	hourly := false
	for _, lim := range []struct {
		ts []time.Time
		n  int
	}{{same, perHour}, {all, perAccount}} {
		if len(lim.ts) < lim.n {
			continue
		}
		slices.SortFunc(lim.ts, func(x, y time.Time) int { return y.Compare(x) })
		if t := lim.ts[lim.n-1].Add(sendWindow); !t.Before(until) {
			until, hourly = t, true
		}
	}
	if until.IsZero() {
		return nil
	}
	return &CooldownError{RetryAfter: until.Sub(now), Until: until, Hourly: hourly}
}

// allowSend returns the function that CreateChallenge calls to decide on
// a code of purpose to number at now under the Config's limits, and the
// instant after which the sends it needs were created.
func (p *Config) allowSend(number string, purpose Purpose, now time.Time) (since time.Time, allow func([]Send) error) {
	cooldown, perHour, perAccount := p.ResendCooldown, p.MaxSendsPerHour, p.MaxAccountSends
	return now.Add(-max(cooldown, sendWindow)), func(recent []Send) error {
		return sendLimit(recent, number, purpose, now, cooldown, perHour, perAccount)
	}
}
