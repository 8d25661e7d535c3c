package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
)

func lockTests() []testCase[twofa.LockStore] {
	return []testCase[twofa.LockStore]{
		{"LockStore/AcquireLock/Exclusive", testLockExclusive},
		{"LockStore/AcquireLock/Reentrant", testLockReentrant},
		{"LockStore/AcquireLock/Expired", testLockExpired},
		{"LockStore/AcquireLock/Accounts", testLockAccounts},
		{"LockStore/AcquireLock/Concurrent", testLockConcurrent},
		{"LockStore/AcquireLock/Cancelled", testLockAcquireCancelled},
		{"LockStore/ReleaseLock/Releases", testLockRelease},
		{"LockStore/ReleaseLock/NotHolder", testLockReleaseNotHolder},
		{"LockStore/ReleaseLock/Unheld", testLockReleaseUnheld},
		{"LockStore/ReleaseLock/Cancelled", testLockReleaseCancelled},
	}
}

func acquire(t *testing.T, s twofa.LockStore, account, holder string, now time.Time, lease time.Duration) bool {
	t.Helper()
	ok, err := s.AcquireLock(t.Context(), account, holder, now, now.Add(lease))
	if err != nil {
		t.Fatalf("AcquireLock(%q, %q): %v", account, holder, err)
	}
	return ok
}

func release(t *testing.T, s twofa.LockStore, account, holder string) {
	t.Helper()
	if err := s.ReleaseLock(t.Context(), account, holder); err != nil {
		t.Fatalf("ReleaseLock(%q, %q): %v", account, holder, err)
	}
}

func testLockExclusive(t *testing.T, s twofa.LockStore) {
	a := NewAccount()
	if !acquire(t, s, a, "h1", t0, time.Minute) {
		t.Fatal("a free lock was refused")
	}
	if acquire(t, s, a, "h2", t0.Add(59*time.Second), time.Minute) {
		t.Fatal("a second holder got a lock whose lease still runs")
	}
	// The refusal changed nothing: h1's lease still ends at t0+1m.
	if acquire(t, s, a, "h3", t0.Add(time.Minute-time.Nanosecond), time.Minute) {
		t.Fatal("a refused AcquireLock moved the lease")
	}
}

func testLockReentrant(t *testing.T, s twofa.LockStore) {
	a := NewAccount()
	if !acquire(t, s, a, "h1", t0, time.Minute) || !acquire(t, s, a, "h1", t0.Add(time.Second), time.Hour) {
		t.Fatal("the holder could not take its own lock again")
	}
	// Taking it again moved the lease to the new until.
	if acquire(t, s, a, "h2", t0.Add(30*time.Minute), time.Minute) {
		t.Fatal("the lease was not extended")
	}
}

func testLockExpired(t *testing.T, s twofa.LockStore) {
	a := NewAccount()
	if !acquire(t, s, a, "h1", t0, time.Minute) {
		t.Fatal("a free lock was refused")
	}
	// A lease that ended at now is over.
	if !acquire(t, s, a, "h2", t0.Add(time.Minute), time.Minute) {
		t.Fatal("an expired lease was not taken over")
	}
	if acquire(t, s, a, "h1", t0.Add(90*time.Second), time.Minute) {
		t.Fatal("the first holder got back a lock taken over")
	}
}

func testLockAccounts(t *testing.T, s twofa.LockStore) {
	a, b := NewAccount(), NewAccount()
	if !acquire(t, s, a, "h1", t0, time.Minute) || !acquire(t, s, b, "h2", t0, time.Minute) {
		t.Fatal("locks of two accounts are not independent")
	}
}

func testLockConcurrent(t *testing.T, s twofa.LockStore) {
	a := NewAccount()
	const n = 16
	var wg sync.WaitGroup
	var got atomic.Int32
	for i := range n {
		wg.Go(func() {
			ok, err := s.AcquireLock(t.Context(), a, NewAccount()+string(rune('a'+i)), t0, t0.Add(time.Minute))
			if err != nil {
				t.Errorf("AcquireLock: %v", err)
			}
			if ok {
				got.Add(1)
			}
		})
	}
	wg.Wait()
	if got.Load() != 1 {
		t.Fatalf("%d of %d concurrent holders got the lock, want exactly 1", got.Load(), n)
	}
}

func testLockAcquireCancelled(t *testing.T, s twofa.LockStore) {
	a := NewAccount()
	ok, err := s.AcquireLock(cancelled(t), a, "h1", t0, t0.Add(time.Minute))
	wantCancelled(t, "AcquireLock", err)
	if ok {
		t.Fatal("AcquireLock with a cancelled context reported true")
	}
	if !acquire(t, s, a, "h2", t0, time.Minute) {
		t.Fatal("a cancelled AcquireLock took the lock")
	}
}

func testLockRelease(t *testing.T, s twofa.LockStore) {
	a := NewAccount()
	acquire(t, s, a, "h1", t0, time.Hour)
	release(t, s, a, "h1")
	if !acquire(t, s, a, "h2", t0, time.Hour) {
		t.Fatal("a released lock was refused")
	}
}

func testLockReleaseNotHolder(t *testing.T, s twofa.LockStore) {
	a := NewAccount()
	acquire(t, s, a, "h1", t0, time.Hour)
	release(t, s, a, "h2")
	if acquire(t, s, a, "h3", t0, time.Hour) {
		t.Fatal("ReleaseLock by another holder ended the lease")
	}
}

func testLockReleaseUnheld(t *testing.T, s twofa.LockStore) {
	release(t, s, NewAccount(), "h1")
}

func testLockReleaseCancelled(t *testing.T, s twofa.LockStore) {
	a := NewAccount()
	acquire(t, s, a, "h1", t0, time.Hour)
	wantCancelled(t, "ReleaseLock", s.ReleaseLock(cancelled(t), a, "h1"))
	if acquire(t, s, a, "h2", t0, time.Hour) {
		t.Fatal("a cancelled ReleaseLock ended the lease")
	}
}
