package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/sqlstore"
)

// calls are one call of every store method, for the fault tests.
func calls(s *sqlstore.Store) map[string]func(ctx context.Context) error {
	p := twofa.ThrottlePolicy{Free: 0, Base: time.Second, Max: time.Hour}
	return map[string]func(ctx context.Context) error{
		"InsertDevice": func(ctx context.Context) error {
			return s.InsertDevice(ctx, device("alice", "new"), 10, t0.Add(time.Hour))
		},
		"Device": func(ctx context.Context) error { _, err := s.Device(ctx, "alice", "c1"); return err },
		"Devices": func(ctx context.Context) error {
			_, err := s.Devices(ctx, "alice")
			return err
		},
		"ConfirmDevice": func(ctx context.Context) error {
			_, err := s.ConfirmDevice(ctx, "alice", "p1", 5, 0, t0, 5, nil, nil)
			return err
		},
		"AcceptCode": func(ctx context.Context) error {
			_, _, err := s.AcceptCode(ctx, "alice", "c1", 50, 0, t0, "code", p, nil, nil)
			return err
		},
		"SetResync": func(ctx context.Context) error { _, err := s.SetResync(ctx, "alice", "c1", 9, 9, nil, nil); return err },
		"ReserveDeviceAttempt": func(ctx context.Context) error {
			_, _, err := s.ReserveDeviceAttempt(ctx, "alice", "p1", 5, nil, nil)
			return err
		},
		"RenameDevice": func(ctx context.Context) error { return s.RenameDevice(ctx, "alice", "c1", "x") },
		"UpdateSealed": func(ctx context.Context) error {
			_, err := s.UpdateSealed(ctx, "alice", "c1", []byte("sealed:alice/c1"), []byte("x"))
			return err
		},
		"DeleteDevice": func(ctx context.Context) error { _, _, err := s.DeleteDevice(ctx, "alice", "c1"); return err },
		"DeletePendingDevice": func(ctx context.Context) error {
			_, err := s.DeletePendingDevice(ctx, "alice", "p1")
			return err
		},
		"DeleteExpiredDevices": func(ctx context.Context) error {
			_, err := s.DeleteExpiredDevices(ctx, t0.Add(time.Hour))
			return err
		},
		"ReserveAttempt": func(ctx context.Context) error {
			_, _, err := s.ReserveAttempt(ctx, "alice", "code", t0.Add(time.Hour), p)
			return err
		},
		"ResetThrottle": func(ctx context.Context) error { return s.ResetThrottle(ctx, "alice", "code") },
		"Throttle": func(ctx context.Context) error {
			_, err := s.Throttle(ctx, "alice", "code")
			return err
		},
		"ReplaceRecoveryCodes": func(ctx context.Context) error {
			return s.ReplaceRecoveryCodes(ctx, "alice", [][]byte{[]byte("z")}, t0)
		},
		"ConsumeRecoveryCode": func(ctx context.Context) error {
			_, _, err := s.ConsumeRecoveryCode(ctx, "alice", []byte("r1"), t0)
			return err
		},
		"RecoveryCodesLeft": func(ctx context.Context) error {
			_, err := s.RecoveryCodesLeft(ctx, "alice")
			return err
		},
		"DeleteRecoveryCodes": func(ctx context.Context) error { return s.DeleteRecoveryCodes(ctx, "alice") },
		"Migrate":             func(ctx context.Context) error { return s.Migrate(ctx) },
		"InsertAppPassword": func(ctx context.Context) error {
			return s.InsertAppPassword(ctx, appPassword("alice", "new"), 10)
		},
		"AppPasswordByDigest": func(ctx context.Context) error {
			_, err := s.AppPasswordByDigest(ctx, "alice", appPassword("alice", "a1").Digest)
			return err
		},
		"AppPasswords": func(ctx context.Context) error {
			_, err := s.AppPasswords(ctx, "alice")
			return err
		},
		"TouchAppPassword": func(ctx context.Context) error {
			return s.TouchAppPassword(ctx, "alice", "a1", t0.Add(time.Hour))
		},
		"DeleteAppPassword": func(ctx context.Context) error { return s.DeleteAppPassword(ctx, "alice", "a1") },
		"DeleteAppPasswords": func(ctx context.Context) error {
			_, err := s.DeleteAppPasswords(ctx, "alice")
			return err
		},
	}
}

// seed gives alice a confirmed device c1, a pending device p1 (expiring
// at t0+10m), a throttle state, two recovery codes and an app password.
func seed(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	ctx := context.Background()
	must(t, s.InsertDevice(ctx, confirmed("alice", "c1", 10), 10, t0))
	must(t, s.InsertDevice(ctx, device("alice", "p1"), 10, t0))
	_, _, err := s.ReserveAttempt(ctx, "alice", "code", t0, twofa.ThrottlePolicy{Free: 0, Base: time.Second, Max: time.Hour})
	must(t, err)
	must(t, s.ReplaceRecoveryCodes(ctx, "alice", [][]byte{[]byte("r1"), []byte("r2")}, t0))
	must(t, s.InsertAppPassword(ctx, appPassword("alice", "a1"), 10))
}

// snapshot describes alice's whole state.
func snapshot(t *testing.T, s *sqlstore.Store) string {
	t.Helper()
	ctx := context.Background()
	ds, err := s.Devices(ctx, "alice")
	must(t, err)
	st, err := s.Throttle(ctx, "alice", "code")
	must(t, err)
	n, err := s.RecoveryCodesLeft(ctx, "alice")
	must(t, err)
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "%s %s %q %x %d %d %d %d %d|", d.ID, d.State, d.Label, d.Sealed, d.Counter, d.ResyncStep, d.Attempts,
			d.ExpiresAt.UnixNano(), d.LastUsedAt.UnixNano())
	}
	fmt.Fprintf(&b, "throttle %d %v|codes %d|", st.Failures, st.Until.UnixNano(), n)
	ps, err := s.AppPasswords(ctx, "alice")
	must(t, err)
	for _, p := range ps {
		fmt.Fprintf(&b, "app %s %q %x %d|", p.ID, p.Label, p.Digest, p.LastUsedAt.UnixNano())
	}
	return b.String()
}

func TestCancelledContext(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		s := b.open(t)
		seed(t, s)
		before := snapshot(t, s)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for name, call := range calls(s) {
			if err := call(ctx); !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a cancelled context: err = %v, want context.Canceled", name, err)
			}
		}
		if after := snapshot(t, s); after != before {
			t.Errorf("state changed by cancelled calls:\nbefore %s\nafter  %s", before, after)
		}
	})
}

// TestCancelMidTransaction cancels a large ReplaceRecoveryCodes at moments
// spread over its run: the account must end with all the old codes or all
// the new ones, and the pool must stay usable (for ":memory:" with one
// connection, losing that connection would lose the database).
func TestCancelMidTransaction(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		s := b.open(t)
		ctx := context.Background()
		old := [][]byte{[]byte("old1"), []byte("old2"), []byte("old3")}
		var fresh [][]byte
		for i := range 500 {
			fresh = append(fresh, fmt.Appendf(nil, "new%04d", i))
		}
		// How long does a whole replacement take?
		start := time.Now()
		must(t, s.ReplaceRecoveryCodes(ctx, "probe", fresh, t0))
		full := time.Since(start)

		var cancelled, completed int
		for i := range 12 {
			must(t, s.ReplaceRecoveryCodes(ctx, "alice", old, t0))
			cctx, cancel := context.WithTimeout(ctx, full*time.Duration(i)/4)
			err := s.ReplaceRecoveryCodes(cctx, "alice", fresh, t0)
			cancel()
			n, lerr := s.RecoveryCodesLeft(ctx, "alice")
			must(t, lerr)
			switch {
			case err == nil && n == len(fresh):
				completed++
			case err != nil && n == len(old):
				cancelled++
				if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
					t.Errorf("interrupted ReplaceRecoveryCodes: %v, want a context error", err)
				}
			default:
				t.Fatalf("after ReplaceRecoveryCodes returned %v: %d codes, want %d (old) or %d (new)", err, n, len(old), len(fresh))
			}
		}
		t.Logf("a replacement of %d codes takes %v: %d interrupted, %d completed", len(fresh), full, cancelled, completed)
		if cancelled == 0 {
			t.Error("no replacement was interrupted")
		}
		// Still usable, data intact.
		if n, err := s.RecoveryCodesLeft(ctx, "probe"); err != nil || n != len(fresh) {
			t.Errorf("probe codes: %d, %v", n, err)
		}
	})
}

func TestClosedDB(t *testing.T) {
	for _, b := range fileAndPG() {
		t.Run(b.name, func(t *testing.T) {
			dbs, prefix := b.dbs(t, 1)
			s := newStore(t, dbs[0], b.dialect, prefix)
			seed(t, s)
			dbs[0].Close()
			for name, call := range calls(s) {
				err := call(context.Background())
				if err == nil || !strings.Contains(err.Error(), "sql: database is closed") {
					t.Errorf("%s on a closed database: err = %v, want sql: database is closed", name, err)
				}
			}
		})
	}
}

// TestFailedStatementRollsBack makes the last statement of a transaction
// fail and checks that the earlier ones of it are undone.
func TestFailedStatementRollsBack(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		s := b.open(t)
		seed(t, s)
		ctx := context.Background()
		before := snapshot(t, s)

		// The second insert of a duplicate digest fails after the delete
		// of the old codes and the first insert.
		dup := [][]byte{[]byte("n1"), []byte("n2"), []byte("n1")}
		if err := s.ReplaceRecoveryCodes(ctx, "alice", dup, t0); !errors.Is(err, twofa.ErrDuplicate) {
			t.Errorf("ReplaceRecoveryCodes with a repeated digest: err = %v, want ErrDuplicate", err)
		}
		mustBool(t, true)(dropLeft(s.ConsumeRecoveryCode(ctx, "alice", []byte("r1"), t0)))
		mustBool(t, false)(dropLeft(s.ConsumeRecoveryCode(ctx, "alice", []byte("n1"), t0)))
		must(t, s.ReplaceRecoveryCodes(ctx, "alice", [][]byte{[]byte("r1"), []byte("r2")}, t0))

		// An insert whose id is taken fails after the delete of the
		// account's expired pending device p1.
		taken := device("alice", "c1")
		if err := s.InsertDevice(ctx, taken, 10, t0.Add(time.Hour)); !errors.Is(err, twofa.ErrDuplicate) {
			t.Errorf("InsertDevice of a taken id: err = %v, want ErrDuplicate", err)
		}
		if after := snapshot(t, s); after != before {
			t.Errorf("failed transactions changed the state:\nbefore %s\nafter  %s", before, after)
		}
	})
}
