package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"time"

	"github.com/twofa-go/twofa"
)

// ReserveAttempt implements twofa.ThrottleStore in one statement: an
// upsert that inserts failure 1 or, only where the stored Until is not
// after now, adds one failure, and computes the new Until in SQL exactly as
// p.Delay does (see delay in queries.go); RETURNING reports the new state.
// When it returns no row (now is before Until) the state is read and
// reported with false.
//
// Times are Unix nanoseconds: an Until past the year 2262 is clamped there.
func (s *Store) ReserveAttempt(ctx context.Context, account, scope string, now time.Time, p twofa.ThrottlePolicy) (twofa.ThrottleState, bool, error) {
	nowNS := now.UnixNano()
	if p.Base <= 0 {
		p.Base, p.Max = 0, 0 // Delay is 0 throughout
	}
	// Clamp so that now+delay cannot overflow: min(Delay(n), limit) is
	// Delay of the policy with Base and Max clamped to limit.
	if limit := time.Duration(math.MaxInt64 - max(nowNS, 0)); p.Max > limit {
		p.Max, p.Base = limit, min(p.Base, limit)
	}
	free := int64(p.Free)
	threshold := free + 1 + int64(p.DoublingsToMax())
	base, maxNS := int64(p.Base), int64(p.Max)

	for range 3 {
		var st twofa.ThrottleState
		var until int64
		err := s.db.QueryRowContext(ctx, s.q.reserveAttempt, account, scope, nowNS, free, base, threshold, maxNS).
			Scan(&st.Failures, &until)
		if err == nil {
			st.Until = fromUnixNano(until)
			return st, true, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return twofa.ThrottleState{}, false, wrap("reserve attempt", err)
		}
		// Throttled: report the state. Should a concurrent reset have
		// removed the row meanwhile, try again.
		err = s.db.QueryRowContext(ctx, s.q.throttle, account, scope).Scan(&st.Failures, &until)
		if err == nil {
			st.Until = fromUnixNano(until)
			return st, false, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return twofa.ThrottleState{}, false, wrap("reserve attempt", err)
		}
	}
	return twofa.ThrottleState{}, false, wrap("reserve attempt", errors.New("throttle row keeps changing"))
}

// ResetThrottle implements twofa.ThrottleStore: it deletes the row.
func (s *Store) ResetThrottle(ctx context.Context, account, scope string) error {
	_, err := s.db.ExecContext(ctx, s.q.resetThrottle, account, scope)
	return wrap("reset throttle", err)
}

// Throttle implements twofa.ThrottleStore.
func (s *Store) Throttle(ctx context.Context, account, scope string) (twofa.ThrottleState, error) {
	var st twofa.ThrottleState
	var until int64
	err := s.db.QueryRowContext(ctx, s.q.throttle, account, scope).Scan(&st.Failures, &until)
	if errors.Is(err, sql.ErrNoRows) {
		return twofa.ThrottleState{}, nil
	}
	if err != nil {
		return twofa.ThrottleState{}, wrap("throttle", err)
	}
	st.Until = fromUnixNano(until)
	return st, nil
}
