package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
// A policy with Base > 0 and a negative Max (which twofa refuses anyway)
// is an error matching twofa.ErrInvalidOptions.
func (s *Store) ReserveAttempt(ctx context.Context, account, scope string, now time.Time, p twofa.ThrottlePolicy) (twofa.ThrottleState, bool, error) {
	if p.Base <= 0 {
		p.Base, p.Max = 0, 0 // Delay is 0 throughout
	}
	if p.Max < 0 {
		return twofa.ThrottleState{}, false, fmt.Errorf("sqlstore: reserve attempt: %w: negative Max %v", twofa.ErrInvalidOptions, p.Max)
	}
	sec, nsec := unix(now)
	free := int64(p.Free)
	threshold := free + 1 + int64(p.DoublingsToMax())

	for range 3 {
		var st twofa.ThrottleState
		err := s.execRow(ctx, func(r *sql.Row) (err error) { st, err = scanState(r); return err },
			s.q.reserveAttempt, account, scope, sec, nsec, free, int64(p.Base), threshold, int64(p.Max))
		if err == nil {
			return st, true, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return twofa.ThrottleState{}, false, wrap("reserve attempt", err)
		}
		// Throttled: report the state. Should a concurrent reset have
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
	var sec, nsec int64
	if err := r.Scan(&st.Failures, &sec, &nsec); err != nil {
		return twofa.ThrottleState{}, err
	}
	st.Until = fromUnix(sec, nsec)
	return st, nil
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
