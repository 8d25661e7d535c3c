package sqlstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
)

func appPassword(account, id string) twofa.AppPassword {
	return twofa.AppPassword{
		ID:        id,
		Account:   account,
		Label:     "mail client " + id,
		Digest:    []byte("digest\x00" + account + "/" + id),
		CreatedAt: t0,
	}
}

func sameApp(t *testing.T, got, want twofa.AppPassword) {
	t.Helper()
	if got.ID != want.ID || got.Account != want.Account || got.Label != want.Label || !bytes.Equal(got.Digest, want.Digest) ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.LastUsedAt.Equal(want.LastUsedAt) || got.LastUsedAt.IsZero() != want.LastUsedAt.IsZero() {
		t.Errorf("app password:\n got %+v\nwant %+v", got, want)
	}
}

func TestAppPasswords(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.open(t)
		a1, a2, a3 := appPassword("alice", "a1"), appPassword("alice", "a2"), appPassword("alice", "a3")
		a2.CreatedAt = t0.Add(-time.Second) // listed first
		a3.LastUsedAt = time.Unix(0, 0)
		for _, p := range []twofa.AppPassword{a1, a2, a3} {
			must(t, s.InsertAppPassword(ctx, p, 3))
		}
		got, err := s.AppPasswords(ctx, "alice")
		must(t, err)
		if len(got) != 3 {
			t.Fatalf("%d app passwords, want 3", len(got))
		}
		for i, want := range []twofa.AppPassword{a2, a1, a3} {
			sameApp(t, got[i], want)
		}
		p, err := s.AppPasswordByDigest(ctx, "alice", a1.Digest)
		must(t, err)
		sameApp(t, p, a1)
		if _, err := s.AppPasswordByDigest(ctx, "bob", a1.Digest); !errors.Is(err, twofa.ErrNotFound) {
			t.Errorf("another account's digest: %v, want ErrNotFound", err)
		}
		if _, err := s.AppPasswordByDigest(ctx, "alice", a1.Digest[:3]); !errors.Is(err, twofa.ErrNotFound) {
			t.Errorf("a digest prefix: %v, want ErrNotFound", err)
		}

		// Duplicates (checked before the limit), then the limit.
		for name, p := range map[string]twofa.AppPassword{
			"ID":     {ID: "a1", Account: "alice", Label: "x", Digest: []byte("x")},
			"label":  {ID: "x", Account: "alice", Label: a1.Label, Digest: []byte("x")},
			"digest": {ID: "x", Account: "alice", Label: "x", Digest: a1.Digest},
		} {
			if err := s.InsertAppPassword(ctx, p, 10); !errors.Is(err, twofa.ErrDuplicate) {
				t.Errorf("same %s: %v, want ErrDuplicate", name, err)
			}
			if err := s.InsertAppPassword(ctx, p, 3); !errors.Is(err, twofa.ErrDuplicate) {
				t.Errorf("same %s in a full account: %v, want ErrDuplicate", name, err)
			}
		}
		if err := s.InsertAppPassword(ctx, appPassword("alice", "a4"), 3); !errors.Is(err, twofa.ErrLimitReached) {
			t.Errorf("over the limit: %v, want ErrLimitReached", err)
		}
		// The same ID, label and digest in another account are fine.
		b1 := a1
		b1.Account = "bob"
		must(t, s.InsertAppPassword(ctx, b1, 1))

		// Touch moves LastUsedAt forward only.
		at := t0.Add(time.Hour)
		must(t, s.TouchAppPassword(ctx, "alice", "a1", at))
		must(t, s.TouchAppPassword(ctx, "alice", "a1", at.Add(-time.Minute)))
		must(t, s.TouchAppPassword(ctx, "alice", "a1", at))
		p, _ = s.AppPasswordByDigest(ctx, "alice", a1.Digest)
		if !p.LastUsedAt.Equal(at) {
			t.Errorf("LastUsedAt %v, want %v", p.LastUsedAt, at)
		}
		if err := s.TouchAppPassword(ctx, "alice", "nope", at); !errors.Is(err, twofa.ErrNotFound) {
			t.Errorf("touch of a missing app password: %v, want ErrNotFound", err)
		}

		must(t, s.DeleteAppPassword(ctx, "alice", "a1"))
		if err := s.DeleteAppPassword(ctx, "alice", "a1"); !errors.Is(err, twofa.ErrNotFound) {
			t.Errorf("second delete: %v, want ErrNotFound", err)
		}
		if _, err := s.AppPasswordByDigest(ctx, "alice", a1.Digest); !errors.Is(err, twofa.ErrNotFound) {
			t.Errorf("deleted app password found: %v", err)
		}
		n, err := s.DeleteAppPasswords(ctx, "alice")
		must(t, err)
		if n != 2 {
			t.Errorf("DeleteAppPasswords removed %d, want 2", n)
		}
		if n, _ := s.DeleteAppPasswords(ctx, "alice"); n != 0 {
			t.Errorf("second DeleteAppPasswords removed %d", n)
		}
		if ps, _ := s.AppPasswords(ctx, "bob"); len(ps) != 1 {
			t.Errorf("bob's app passwords: %d, want 1", len(ps))
		}
	})
}

func TestTwoPoolsInsertAppPasswordLimit(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		ss := migrated(t, b, 2)
		ctx := context.Background()
		const limit = 5
		var ok, full atomic.Int32
		goAll(40, func(i int) {
			switch err := ss[i%2].InsertAppPassword(ctx, appPassword("alice", fmt.Sprint("a", i)), limit); {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, twofa.ErrLimitReached):
				full.Add(1)
			default:
				t.Errorf("InsertAppPassword: %v", err)
			}
		})
		if ok.Load() != limit || full.Load() != 40-limit {
			t.Errorf("40 concurrent inserts, limit %d: %d inserted, %d refused", limit, ok.Load(), full.Load())
		}
		// One digest inserted concurrently under many IDs: one wins.
		var won, dup atomic.Int32
		goAll(40, func(i int) {
			p := appPassword("bob", fmt.Sprint("b", i))
			p.Digest = []byte("same")
			switch err := ss[i%2].InsertAppPassword(ctx, p, 100); {
			case err == nil:
				won.Add(1)
			case errors.Is(err, twofa.ErrDuplicate):
				dup.Add(1)
			default:
				t.Errorf("InsertAppPassword: %v", err)
			}
		})
		if won.Load() != 1 || dup.Load() != 39 {
			t.Errorf("40 concurrent inserts of one digest: %d inserted, %d duplicates", won.Load(), dup.Load())
		}
	})
}
