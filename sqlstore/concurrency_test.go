package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/twofa-go/twofa"
)

// goAll runs fn(0) ... fn(n-1) in n goroutines released together, and
// waits for them.
func goAll(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// The tests below use two connection pools (two *sql.DB) on one database,
// as two server replicas would, and split the goroutines between them.

func TestTwoPoolsAcceptCode(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		ss := migrated(t, b, 2)
		ctx := context.Background()
		must(t, ss[0].InsertDevice(ctx, confirmed("alice", "c1", 1000), 5, t0))
		var wins atomic.Int32
		goAll(200, func(i int) {
			ok, err := advance(ctx, ss[i%2], "alice", "c1", 1000, int64(i), t0)
			if err != nil {
				t.Errorf("AcceptCode: %v", err)
			}
			if ok {
				wins.Add(1)
			}
		})
		if wins.Load() != 1 {
			t.Errorf("200 concurrent AcceptCode of one code through two pools: %d accepted, want exactly 1", wins.Load())
		}
		d, err := ss[1].Device(ctx, "alice", "c1")
		must(t, err)
		if d.Counter != 1001 {
			t.Errorf("counter %d, want 1001", d.Counter)
		}
	})
}

func TestTwoPoolsConsumeRecoveryCode(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		ss := migrated(t, b, 2)
		ctx := context.Background()
		must(t, ss[0].ReplaceRecoveryCodes(ctx, "alice", [][]byte{[]byte("code-1"), []byte("code-2")}, t0))
		var wins atomic.Int32
		goAll(200, func(i int) {
			_, ok, err := ss[i%2].ConsumeRecoveryCode(ctx, "alice", []byte("code-1"), t0)
			if err != nil {
				t.Errorf("ConsumeRecoveryCode: %v", err)
			}
			if ok {
				wins.Add(1)
			}
		})
		if wins.Load() != 1 {
			t.Errorf("200 concurrent ConsumeRecoveryCode of one code through two pools: %d accepted, want exactly 1", wins.Load())
		}
		if n, err := ss[1].RecoveryCodesLeft(ctx, "alice"); err != nil || n != 1 {
			t.Errorf("RecoveryCodesLeft = %d, %v; want 1", n, err)
		}
	})
}

func TestTwoPoolsReserveAttempt(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		ss := migrated(t, b, 2)
		ctx := context.Background()
		p := twofa.ThrottlePolicy{Free: 1000, Base: 1, Max: 1}
		var seen [201]atomic.Int32
		goAll(200, func(i int) {
			st, ok, err := ss[i%2].ReserveAttempt(ctx, "alice", twofa.ScopeCode, t0, p)
			if err != nil || !ok || st.Failures < 1 || st.Failures > 200 {
				t.Errorf("ReserveAttempt = %+v, %v, %v", st, ok, err)
				return
			}
			seen[st.Failures].Add(1)
		})
		for n := 1; n <= 200; n++ {
			if c := seen[n].Load(); c != 1 {
				t.Errorf("Failures %d reported %d times, want once", n, c)
			}
		}
		st, err := ss[1].Throttle(ctx, "alice", twofa.ScopeCode)
		must(t, err)
		if st.Failures != 200 {
			t.Errorf("Failures %d after 200 concurrent attempts, want 200 (lost updates)", st.Failures)
		}
	})
}

func TestTwoPoolsInsertDeviceLimit(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		ss := migrated(t, b, 2)
		ctx := context.Background()
		const limit = 7
		var ok, full atomic.Int32
		goAll(60, func(i int) {
			switch err := ss[i%2].InsertDevice(ctx, device("alice", fmt.Sprint("d", i)), limit, t0); {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, twofa.ErrLimitReached):
				full.Add(1)
			default:
				t.Errorf("InsertDevice: %v", err)
			}
		})
		if ok.Load() != limit || full.Load() != 60-limit {
			t.Errorf("60 concurrent inserts, limit %d: %d inserted, %d refused", limit, ok.Load(), full.Load())
		}
		ds, err := ss[0].Devices(ctx, "alice")
		must(t, err)
		if len(ds) != limit {
			t.Errorf("%d devices stored, want %d", len(ds), limit)
		}
	})
}

// TestTwoPoolsDeleteDevice deletes an account's last two confirmed devices
// at once: whatever the interleaving, one of the two must report 0 left.
func TestTwoPoolsDeleteDevice(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		ss := migrated(t, b, 2)
		ctx := context.Background()
		for round := range 20 {
			acct := fmt.Sprint("acct", round)
			must(t, ss[0].InsertDevice(ctx, confirmed(acct, acct+"a", 0), 5, t0))
			must(t, ss[0].InsertDevice(ctx, confirmed(acct, acct+"b", 0), 5, t0))
			var left [2]int
			goAll(2, func(i int) {
				var err error
				_, left[i], err = ss[i].DeleteDevice(ctx, acct, acct+string(rune('a'+i)))
				if err != nil {
					t.Errorf("DeleteDevice: %v", err)
				}
			})
			if slices.Min(left[:]) != 0 || slices.Max(left[:]) != 1 {
				t.Fatalf("round %d: concurrent deletes of the last two devices reported %v left, want 0 and 1", round, left)
			}
		}
	})
}

// TestTwoPoolsReplaceRecoveryCodes replaces an account's codes from both
// pools at once: the result must be one whole set, never a mix or both.
func TestTwoPoolsReplaceRecoveryCodes(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		ss := migrated(t, b, 2)
		ctx := context.Background()
		sets := [2][][]byte{}
		for i := range sets {
			for j := range 10 {
				sets[i] = append(sets[i], fmt.Appendf(nil, "set%d-code%d", i, j))
			}
		}
		for round := range 20 {
			goAll(2, func(i int) {
				if err := ss[i].ReplaceRecoveryCodes(ctx, "alice", sets[i], t0); err != nil {
					t.Errorf("ReplaceRecoveryCodes: %v", err)
				}
			})
			n, err := ss[0].RecoveryCodesLeft(ctx, "alice")
			must(t, err)
			if n != 10 {
				t.Fatalf("round %d: %d codes after two concurrent replacements of 10, want 10", round, n)
			}
			// The set of the last code is the set of all.
			_, ok, err := ss[0].ConsumeRecoveryCode(ctx, "alice", sets[0][9], t0)
			must(t, err)
			winner := 1
			if ok {
				winner = 0
			}
			for _, c := range sets[winner][:9] {
				mustBool(t, true)(dropLeft(ss[1].ConsumeRecoveryCode(ctx, "alice", c, t0)))
			}
		}
	})
}

// TestSQLiteWriterQueue checks that many writers of one pool on a SQLite
// file, far more than the busy timeout could serve by polling, all get
// through.
func TestSQLiteWriterQueue(t *testing.T) {
	s := sqliteFile().open(t)
	ctx := context.Background()
	must(t, s.InsertDevice(ctx, confirmed("alice", "c1", 0), 5, t0))
	var failed atomic.Int32
	goAll(500, func(i int) {
		if _, err := advance(ctx, s, "alice", "c1", uint64(i), 0, t0); err != nil {
			failed.Add(1)
			t.Errorf("AcceptCode: %v", err)
		}
	})
	if failed.Load() != 0 {
		t.Errorf("%d of 500 writers failed", failed.Load())
	}
}
