package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/twofa-go/twofa"
)

// ReserveAttempt implements twofa.ThrottleStore in one statement: an
// upsert that inserts failure 1 or, only where neither the back-off nor the
// budget refuses, adds one failure, and computes the new Until and
// Forgiven in SQL exactly as p.Reserve does (see delay in queries.go);
// RETURNING reports the new state. When it returns no row (refused) the
// state is read and reported with false.
//
// A policy with Base > 0 and a negative Max (which twofa refuses anyway)
// is an error matching twofa.ErrInvalidOptions.
func (s *Store) ReserveAttempt(ctx context.Context, account, scope string, now time.Time, p twofa.ThrottlePolicy) (twofa.ThrottleState, bool, error) {
	if p.Base <= 0 {
		// No back-off: Delay is 0 throughout and nothing is past Free.
		p.Free, p.Base, p.Max = math.MaxInt, 0, 0
	}
	if p.Max < 0 || p.Budget < 0 || p.Refill < 0 {
		return twofa.ThrottleState{}, false, fmt.Errorf("sqlstore: reserve attempt: %w: negative Max, Budget or Refill", twofa.ErrInvalidOptions)
	}
	if now.IsZero() {
		return twofa.ThrottleState{}, false, fmt.Errorf("sqlstore: reserve attempt: now is the zero Time: %w", errTimeRange)
	}
	nowNS, err := nanos(now)
	if err != nil {
		return twofa.ThrottleState{}, false, wrap("reserve attempt", err)
	}
	room := int64(math.MaxInt64) - max(nowNS, 0)
	free := int64(p.Free)
	threshold := int64(math.MaxInt64)
	if p.Free < math.MaxInt {
		threshold = free + 1 + int64(p.DoublingsToMax())
	}
	var refill, limit, nowPlusRefill int64 = 0, math.MaxInt64, noTime
	if p.Budget > 0 && p.Refill > 0 {
		refill = int64(p.Refill)
		limit = addSat(nowNS, mulSat(int64(p.Budget-1), refill))
		nowPlusRefill = addSat(nowNS, refill)
	}

	for range 3 {
		var st twofa.ThrottleState
		err := s.execRow(ctx, func(r *sql.Row) (err error) { st, err = scanState(r); return err },
			s.q.reserveAttempt, account, scope, nowNS, room, free, int64(p.Base), threshold, int64(p.Max),
			int64(math.MaxInt64), refill, limit, nowPlusRefill, int64(math.MaxInt64)-refill)
		if err == nil {
			return st, true, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return twofa.ThrottleState{}, false, wrap("reserve attempt", err)
		}
		// Refused: report the state. Should a concurrent reset have
		// removed the row meanwhile, try again.
		err = s.queryRow(ctx, func(r *sql.Row) (err error) { st, err = scanState(r); return err }, s.q.throttle, account, scope)
		if err == nil {
			return st, false, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return twofa.ThrottleState{}, false, wrap("reserve attempt", err)
		}
	}
	return twofa.ThrottleState{}, false, wrap("reserve attempt", errors.New("throttle row keeps changing"))
}

func scanState(r scanner) (twofa.ThrottleState, error) {
	var st twofa.ThrottleState
	var until, forgiven int64
	if err := r.Scan(&st.Failures, &until, &forgiven); err != nil {
		return twofa.ThrottleState{}, err
	}
	st.Until = fromNanos(until)
	st.Forgiven = fromNanos(forgiven)
	return st, nil
}

// addSat returns a+b for b >= 0, saturated at math.MaxInt64.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// mulSat returns a·b for a, b >= 0, saturated at math.MaxInt64.
func mulSat(a, b int64) int64 {
	if b != 0 && a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}

// ReleaseAttempt implements twofa.ThrottleStore in one UPDATE (none when
// there is nothing to hand back). A row it leaves holding nothing stays
// until DeleteIdleThrottles: it acts as no row, and deleting it here
// would cost a second statement whenever the row holds a budget.
func (s *Store) ReleaseAttempt(ctx context.Context, account, scope string, refund time.Duration, success bool) error {
	refund = max(0, refund)
	if !success && refund == 0 {
		return nil
	}
	q := s.q.refund
	if success {
		q = s.q.releaseSuccess
	}
	_, err := s.exec(ctx, q, account, scope, int64(refund), noTime)
	return wrap("release attempt", err)
}

// ResetThrottle implements twofa.ThrottleStore: it deletes the row.
func (s *Store) ResetThrottle(ctx context.Context, account, scope string) error {
	_, err := s.exec(ctx, s.q.resetThrottle, account, scope)
	return wrap("reset throttle", err)
}

// Throttle implements twofa.ThrottleStore.
func (s *Store) Throttle(ctx context.Context, account, scope string) (twofa.ThrottleState, error) {
	var st twofa.ThrottleState
	err := s.queryRow(ctx, func(r *sql.Row) (err error) { st, err = scanState(r); return err }, s.q.throttle, account, scope)
	if errors.Is(err, sql.ErrNoRows) {
		return twofa.ThrottleState{}, nil
	}
	if err != nil {
		return twofa.ThrottleState{}, wrap("throttle", err)
	}
	return st, nil
}

// DeleteIdleThrottles implements twofa.ThrottleStore with one DELETE. It
// reads the whole table, deliberately without an index: one on the times
// would be changed by every attempt, and the updates of sign-ins could no
// longer stay HOT on PostgreSQL. The table holds at most one row per
// account and scope, and a purge runs now and then.
func (s *Store) DeleteIdleThrottles(ctx context.Context, now time.Time) (int, error) {
	res, err := s.exec(ctx, s.q.deleteIdle, bound(now))
	if err != nil {
		return 0, wrap("delete idle throttles", err)
	}
	n, err := res.RowsAffected()
	return int(n), wrap("delete idle throttles", err)
}
