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

// InsertDevice implements twofa.DeviceStore. In one transaction it deletes
// the account's expired pending devices, counts the rest and inserts d.
// SQLite runs it under BEGIN IMMEDIATE; PostgreSQL under a per-account
// advisory lock, so concurrent inserts cannot both pass the count. A
// refused insert (ErrLimitReached, ErrDuplicate) rolls back, deletions
// included. Device IDs are unique across accounts.
func (s *Store) InsertDevice(ctx context.Context, d twofa.Device, limit int, now time.Time) error {
	err := s.inTx(ctx, lockDevices, d.Account, func(q querier) error {
		times, err := nanosOf(d.CreatedAt, d.ExpiresAt, d.ConfirmedAt, d.LastUsedAt)
		if err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, s.q.deleteExpiredOfAccount, d.Account, bound(now)); err != nil {
			return err
		}
		var n int
		if err := q.QueryRowContext(ctx, s.q.countDevices, d.Account).Scan(&n); err != nil {
			return err
		}
		if n >= limit {
			return fmt.Errorf("%w: account has %d devices, limit %d", twofa.ErrLimitReached, n, limit)
		}
		args := []any{d.ID, d.Account, d.Label, int64(d.Type), int64(d.Algorithm), int64(d.Digits), int64(d.Period),
			blob(d.Sealed), int64(d.State),
			u64(d.Counter), d.Drift, u64(d.ResyncStep), d.ResyncDrift, int64(d.Attempts)}
		args = append(args, times...)
		_, err = q.ExecContext(ctx, s.q.insertDevice, append(args, blob(d.MAC))...)
		return err
	})
	return wrap("insert device", err)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanDevice(r scanner) (twofa.Device, error) {
	var (
		d                                        twofa.Device
		typ, alg, digits, period, state, attempt int64
		counter, resync                          int64
		times                                    [4]int64
	)
	err := r.Scan(&d.ID, &d.Account, &d.Label, &typ, &alg, &digits, &period, &d.Sealed, &state,
		&counter, &d.Drift, &resync, &d.ResyncDrift, &attempt,
		&times[0], &times[1], &times[2], &times[3], &d.MAC)
	if err != nil {
		return twofa.Device{}, err
	}
	d.Type = twofa.Type(typ)
	d.Algorithm = twofa.Algorithm(alg)
	d.Digits = int(digits)
	d.Period = time.Duration(period)
	d.State = twofa.DeviceState(state)
	d.Counter = fromU64(counter)
	d.ResyncStep = fromU64(resync)
	d.Attempts = int(attempt)
	d.CreatedAt = fromNanos(times[0])
	d.ExpiresAt = fromNanos(times[1])
	d.ConfirmedAt = fromNanos(times[2])
	d.LastUsedAt = fromNanos(times[3])
	if len(d.MAC) == 0 {
		d.MAC = nil // none: a device stored before MACs
	}
	return d, nil
}

// Device implements twofa.DeviceStore.
func (s *Store) Device(ctx context.Context, account, id string) (twofa.Device, error) {
	var d twofa.Device
	err := s.queryRow(ctx, func(r *sql.Row) (err error) { d, err = scanDevice(r); return err }, s.q.device, account, id)
	if errors.Is(err, sql.ErrNoRows) {
		return twofa.Device{}, fmt.Errorf("sqlstore: device: %w", twofa.ErrNotFound)
	}
	return d, wrap("device", err)
}

// Devices implements twofa.DeviceStore: oldest first, and in insertion
// order among devices created at the same time.
func (s *Store) Devices(ctx context.Context, account string) ([]twofa.Device, error) {
	rs, err := queryAll(ctx, s, scanDevice, s.q.devices, account)
	if err != nil {
		return nil, wrap("devices", err)
	}
	return rs, nil
}

// exists tells a false from an ErrNotFound after a conditional statement
// changed no row.
func (s *Store) exists(ctx context.Context, account, id string) error {
	var one int
	err := s.queryRow(ctx, func(r *sql.Row) error { return r.Scan(&one) }, s.q.deviceExists, account, id)
	if errors.Is(err, sql.ErrNoRows) {
		return twofa.ErrNotFound
	}
	return err
}

// changed runs a conditional UPDATE and reports whether it changed a row;
// when it did not, a second query tells "condition false" (false, nil)
// from "no such device" (ErrNotFound).
func (s *Store) changed(ctx context.Context, op, query, account, id string, args ...any) (bool, error) {
	res, err := s.exec(ctx, query, append([]any{account, id}, args...)...)
	if err != nil {
		return false, wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, wrap(op, err)
	}
	if n > 0 {
		return true, nil
	}
	return false, wrap(op, s.exists(ctx, account, id))
}

// ConfirmDevice implements twofa.DeviceStore with one conditional UPDATE
// (state pending, ExpiresAt after at, attempts <= maxAttempts and the MAC
// old).
func (s *Store) ConfirmDevice(ctx context.Context, account, id string, counter uint64, drift int64, at time.Time, maxAttempts int, old, mac []byte) (bool, error) {
	atNS, err := nanos(at)
	if err != nil {
		return false, wrap("confirm device", err)
	}
	return s.changed(ctx, "confirm device", s.q.confirmDevice, account, id, u64(counter), drift, atNS, int64(maxAttempts), noTime, blob(old), blob(mac))
}

// AcceptCode implements twofa.DeviceStore in one transaction over both
// tables: it reads the throttle row (in PostgreSQL with FOR UPDATE, so
// that no reservation slips in between the check and the clearing),
// decides as p.Reserve would in Go, then runs the replay guard's
// conditional UPDATE of the device and, when it changed a row and the
// throttle holds a back-off, clears it (deleting a row that then holds
// nothing). SQLite runs it under BEGIN IMMEDIATE. It cannot be one
// statement: SQLite has no data-modifying common table expressions, and
// a statement changes one table. A refused or replayed code writes
// nothing; an accepted one commits once.
func (s *Store) AcceptCode(ctx context.Context, account, id string, counter uint64, drift int64, at time.Time, scope string, p twofa.ThrottlePolicy, old, mac []byte) (twofa.ThrottleState, bool, error) {
	if counter == math.MaxUint64 {
		return twofa.ThrottleState{}, false, fmt.Errorf("sqlstore: accept code: counter 2^64-1 has no successor")
	}
	atNS, err := nanos(at)
	if err != nil {
		return twofa.ThrottleState{}, false, wrap("accept code", err)
	}
	var (
		st     twofa.ThrottleState
		result bool
	)
	err = s.inTx(ctx, "", account, func(q querier) error {
		st, result = twofa.ThrottleState{}, false
		var err error
		found := true
		st, err = scanState(q.QueryRowContext(ctx, s.q.throttleForUpdate, account, scope))
		if errors.Is(err, sql.ErrNoRows) {
			found, err = false, nil
		}
		if err != nil {
			return err
		}
		if _, ok := p.Reserve(st, at); !ok {
			result = false
			return nil
		}
		res, err := q.ExecContext(ctx, s.q.advanceCounter, account, id, u64(counter+1), drift, u64(counter), atNS, u64(0), blob(old), blob(mac))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			var one int
			err := q.QueryRowContext(ctx, s.q.deviceExists, account, id).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return twofa.ErrNotFound
			}
			result = false
			return err
		}
		result = true
		cleared := st.Released(0, true)
		switch {
		case !found || cleared == st:
			// Nothing to clear.
		case cleared == (twofa.ThrottleState{}):
			_, err = q.ExecContext(ctx, s.q.releaseEmpty, account, scope, noTime)
		default:
			_, err = q.ExecContext(ctx, s.q.releaseSuccess, account, scope, int64(0), noTime)
		}
		st = cleared
		return err
	})
	if err != nil {
		return twofa.ThrottleState{}, false, wrap("accept code", err)
	}
	return st, result, nil
}

// SetResync implements twofa.DeviceStore with one UPDATE ... WHERE mac =
// old.
func (s *Store) SetResync(ctx context.Context, account, id string, step uint64, drift int64, old, mac []byte) (bool, error) {
	return s.changed(ctx, "set resync", s.q.setResync, account, id, u64(step), drift, blob(old), blob(mac))
}

// ReserveDeviceAttempt implements twofa.DeviceStore with one conditional
// UPDATE ... RETURNING (state pending, attempts < limit and the MAC old). When it
// changes no row, a second query reads the count, or tells ErrNotFound.
func (s *Store) ReserveDeviceAttempt(ctx context.Context, account, id string, limit int, old, mac []byte) (int, bool, error) {
	var n int
	err := s.execRow(ctx, func(r *sql.Row) error { return r.Scan(&n) }, s.q.reserveDeviceAttempt, account, id, int64(limit), blob(old), blob(mac))
	if err == nil {
		return n, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, wrap("reserve device attempt", err)
	}
	err = s.queryRow(ctx, func(r *sql.Row) error { return r.Scan(&n) }, s.q.deviceAttempts, account, id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("sqlstore: reserve device attempt: %w", twofa.ErrNotFound)
	}
	if err != nil {
		return 0, false, wrap("reserve device attempt", err)
	}
	return n, false, nil
}

// RenameDevice implements twofa.DeviceStore.
func (s *Store) RenameDevice(ctx context.Context, account, id, label string) error {
	res, err := s.exec(ctx, s.q.renameDevice, account, id, label)
	if err != nil {
		return wrap("rename device", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap("rename device", err)
	} else if n == 0 {
		return fmt.Errorf("sqlstore: rename device: %w", twofa.ErrNotFound)
	}
	return nil
}

// UpdateSealed implements twofa.DeviceStore with one UPDATE ... WHERE
// sealed = old.
func (s *Store) UpdateSealed(ctx context.Context, account, id string, old, sealed []byte) (bool, error) {
	return s.changed(ctx, "update sealed", s.q.updateSealed, account, id, blob(old), blob(sealed))
}

// UpdateDeviceMAC implements twofa.DeviceStore with one UPDATE ... WHERE
// mac = old.
func (s *Store) UpdateDeviceMAC(ctx context.Context, account, id string, old, mac []byte) (bool, error) {
	return s.changed(ctx, "update device MAC", s.q.updateDeviceMAC, account, id, blob(old), blob(mac))
}

// DeleteDevice implements twofa.DeviceStore: the delete (DELETE ...
// RETURNING the row as it was) and the count of confirmed devices left are
// one transaction (BEGIN IMMEDIATE in SQLite, the account's advisory lock
// in PostgreSQL), so of two concurrent deletes of an account's last two
// devices one reports 0, and the deleted state is the one the count saw.
func (s *Store) DeleteDevice(ctx context.Context, account, id string) (twofa.Device, int, error) {
	var (
		dev  twofa.Device
		left int
	)
	err := s.inTx(ctx, lockDevices, account, func(q querier) error {
		var err error
		dev, err = scanDevice(q.QueryRowContext(ctx, s.q.deleteDevice, account, id))
		if errors.Is(err, sql.ErrNoRows) {
			return twofa.ErrNotFound
		}
		if err != nil {
			return err
		}
		return q.QueryRowContext(ctx, s.q.countConfirmed, account).Scan(&left)
	})
	if err != nil {
		return twofa.Device{}, 0, wrap("delete device", err)
	}
	return dev, left, nil
}

// DeletePendingDevice implements twofa.DeviceStore with one conditional
// DELETE (state pending).
func (s *Store) DeletePendingDevice(ctx context.Context, account, id string) (bool, error) {
	return s.changed(ctx, "delete pending device", s.q.deletePendingDevice, account, id)
}

// DeleteExpiredDevices implements twofa.DeviceStore with one DELETE.
func (s *Store) DeleteExpiredDevices(ctx context.Context, now time.Time) (int, error) {
	res, err := s.exec(ctx, s.q.deleteExpired, bound(now))
	if err != nil {
		return 0, wrap("delete expired devices", err)
	}
	n, err := res.RowsAffected()
	return int(n), wrap("delete expired devices", err)
}

// DevicesAfter implements twofa.DeviceStore with one indexed SELECT ...
// WHERE (account, id) > ($1, $2) ORDER BY account, id LIMIT $3, comparing
// bytes in both dialects (devices_page_idx, migration 0007).
func (s *Store) DevicesAfter(ctx context.Context, account, id string, limit int) ([]twofa.Device, error) {
	if limit < 1 {
		return nil, fmt.Errorf("sqlstore: devices after: limit %d is below 1", limit)
	}
	rows, err := s.query(ctx, s.q.devicesAfter, account, id, int64(limit))
	if err != nil {
		return nil, wrap("devices after", err)
	}
	defer rows.Close()
	ds := make([]twofa.Device, 0, min(limit, 1024))
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, wrap("devices after", err)
		}
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("devices after", err)
	}
	return ds, nil
}
