package storetest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/signin"
	"github.com/twofa-go/twofa/storetest"
)

func TestRunSignInsMemstore(t *testing.T) {
	storetest.RunSignIns(t, func(t *testing.T) signin.Store { return memstore.New() })
}

func TestNewSignIn(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	a, b := storetest.NewSignIn("alice", now), storetest.NewSignIn("alice", now)
	if a.ID == b.ID || string(a.Digest) == string(b.Digest) {
		t.Error("two NewSignIn calls share an ID or digest")
	}
	if a.Account != "alice" || !a.CreatedAt.Equal(now) || !a.ExpiresAt.After(now) || a.Attempts != 0 {
		t.Errorf("NewSignIn = %+v, want a pending sign-in of alice created at now", a)
	}
}

// Sign-in mutants: a store with one planted bug, and the subtest of
// RunSignIns that must catch it (see TestMutants).
var signinMutants = map[string]signinMutant{
	"NilStore": {
		catch: "SignInStore/SignIns/Unknown",
		want:  "newStore returned a nil SignInStore",
		store: func() signin.Store { return (*memstore.Store)(nil) },
	},
	"LimitOffByOne": {
		catch: "SignInStore/CreateSignIn/Limit",
		want:  "CreateSignIn #4 with limit 3 evicted",
		store: func() signin.Store { return sLimitOffByOne{memstore.New()} },
	},
	"ExpiryOffByOne": {
		catch: "SignInStore/CreateSignIn/Expired",
		want:  "expired sign-ins do not count",
		store: func() signin.Store { return sExpiryOffByOne{memstore.New()} },
	},
	"DigestPerAccount": {
		catch: "SignInStore/CreateSignIn/Duplicate",
		want:  "CreateSignIn with another account's digest",
		store: func() signin.Store { return sDigestPerAccount{memstore.New()} },
	},
	"EvictsNewest": {
		catch: "SignInStore/CreateSignIn/Limit",
		want:  "evicted",
		store: func() signin.Store { return &sEvictsNewest{Store: memstore.New()} },
	},
	"ChargeOverLimit": {
		catch: "SignInStore/ChargeSignIn/Counts",
		want:  "ChargeSignIn(limit 3) = 4, true",
		store: func() signin.Store { return sChargeOverLimit{memstore.New()} },
	},
	"RacyCharge": {
		catch: "SignInStore/ChargeSignIn/Concurrent",
		want:  "concurrent ChargeSignIn calls with one MAC: ",
		store: func() signin.Store { return sRacyCharge{memstore.New()} },
	},
	"ChargeIgnoresMAC": {
		catch: "SignInStore/ChargeSignIn/StaleMAC",
		want:  "ChargeSignIn with a MAC not the stored one = 2, true",
		store: func() signin.Store { return sChargeIgnoresMAC{memstore.New()} },
	},
	"ChargeKeepsMAC": {
		catch: "SignInStore/ChargeSignIn/Counts",
		want:  "MAC =",
		store: func() signin.Store { return sChargeKeepsMAC{memstore.New()} },
	},
	"RefundIgnoresMAC": {
		catch: "SignInStore/RefundSignIn/Refunds",
		want:  "RefundSignIn = true, <nil>; want false, nil",
		store: func() signin.Store { return sRefundIgnoresMAC{memstore.New()} },
	},
	"RefundBelowZero": {
		catch: "SignInStore/RefundSignIn/Refunds",
		want:  "RefundSignIn = true, <nil>; want false, nil",
		store: func() signin.Store { return sRefundBelowZero{memstore.New()} },
	},
	"RacyDelete": {
		catch: "SignInStore/DeleteSignIn/Concurrent",
		want:  "concurrent DeleteSignIn calls of one sign-in: ",
		store: func() signin.Store { return sRacyDelete{memstore.New()} },
	},
	"DeleteExpiredOffByOne": {
		catch: "SignInStore/DeleteExpiredSignIns/Deletes",
		want:  "DeleteExpiredSignIns = 1",
		store: func() signin.Store { return sDeleteOffByOne{memstore.New()} },
	},
	"TiesByID": {
		catch: "SignInStore/SignIns/Order",
		want:  "ties in insertion order",
		store: func() signin.Store { return sTiesByID{memstore.New()} },
	},
	"AliasedDigest": {
		catch: "SignInStore/SignIn/NoAliasing",
		want:  "Digest =",
		store: func() signin.Store { return &sAliased{Store: memstore.New(), cache: map[string][]byte{}} },
	},
	"IgnoresContext": {
		catch: "SignInStore/ChargeSignIn/Cancelled",
		want:  "wrapping context.Canceled",
		store: func() signin.Store { return sIgnoresContext{memstore.New()} },
	},
	"UnwrappedNotFound": {
		catch: "SignInStore/DeleteSignIn/NotFound",
		want:  "want an error wrapping twofa: not found",
		store: func() signin.Store { return sUnwrapped{memstore.New()} },
	},
	"DeleteAllLeavesNewest": {
		catch: "SignInStore/DeleteSignIns/Deletes",
		want:  "DeleteSignIns = 2",
		store: func() signin.Store { return sDeleteAllLeavesNewest{memstore.New()} },
	},
}

type signinMutant struct {
	catch, want string
	store       func() signin.Store
}

// TestSignInMutant runs RunSignIns against the mutant named by
// $STORETEST_SIGNIN_MUTANT; TestSignInMutants starts it in a subprocess,
// where it must fail.
func TestSignInMutant(t *testing.T) {
	name := os.Getenv("STORETEST_SIGNIN_MUTANT")
	if name == "" {
		t.Skip("run by TestSignInMutants")
	}
	m := signinMutants[name]
	storetest.RunSignIns(t, func(t *testing.T) signin.Store { return m.store() })
}

func TestSignInMutants(t *testing.T) {
	runMutants(t, "STORETEST_SIGNIN_MUTANT", "TestSignInMutant", signinMutants,
		func(m signinMutant) (string, string) { return m.catch, m.want }, "NilStore")
}

type sLimitOffByOne struct{ *memstore.Store }

func (s sLimitOffByOne) CreateSignIn(ctx context.Context, r signin.Record, limit int, now time.Time) ([]string, error) {
	return s.Store.CreateSignIn(ctx, r, limit+1, now)
}

// sExpiryOffByOne treats a record expiring exactly now as live.
type sExpiryOffByOne struct{ *memstore.Store }

func (s sExpiryOffByOne) CreateSignIn(ctx context.Context, r signin.Record, limit int, now time.Time) ([]string, error) {
	return s.Store.CreateSignIn(ctx, r, limit, now.Add(-1))
}

// sDigestPerAccount keeps digests unique per account only: another
// account's record with the digest is replaced.
type sDigestPerAccount struct{ *memstore.Store }

func (s sDigestPerAccount) CreateSignIn(ctx context.Context, r signin.Record, limit int, now time.Time) ([]string, error) {
	if old, err := s.SignIn(ctx, r.Digest); err == nil && old.Account != r.Account {
		_ = s.DeleteSignIn(ctx, old.Account, old.ID)
	}
	return s.Store.CreateSignIn(ctx, r, limit, now)
}

// sEvictsNewest drops the newest records at the limit.
type sEvictsNewest struct {
	*memstore.Store
	mu sync.Mutex
}

func (s *sEvictsNewest) CreateSignIn(ctx context.Context, r signin.Record, limit int, now time.Time) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if limit < 1 {
		return s.Store.CreateSignIn(ctx, r, limit, now)
	}
	rs, err := s.SignIns(ctx, r.Account)
	if err != nil {
		return nil, err
	}
	var live []signin.Record
	for _, x := range rs {
		if x.ExpiresAt.After(now) {
			live = append(live, x)
		}
	}
	var ev []string
	for i := len(live) - 1; i >= 0 && len(live)-len(ev) >= limit; i-- {
		if err := s.DeleteSignIn(ctx, r.Account, live[i].ID); err != nil {
			return nil, err
		}
		ev = append(ev, live[i].ID)
	}
	if _, err := s.Store.CreateSignIn(ctx, r, limit, now); err != nil {
		return nil, err
	}
	return ev, nil
}

type sChargeOverLimit struct{ *memstore.Store }

func (s sChargeOverLimit) ChargeSignIn(ctx context.Context, account, id string, limit int, mac, next []byte) (int, bool, error) {
	return s.Store.ChargeSignIn(ctx, account, id, limit+1, mac, next)
}

// sChargeIgnoresMAC charges whatever MAC the caller read.
type sChargeIgnoresMAC struct{ *memstore.Store }

func (s sChargeIgnoresMAC) ChargeSignIn(ctx context.Context, account, id string, limit int, _, next []byte) (int, bool, error) {
	rs, err := s.SignIns(ctx, account)
	if err != nil {
		return 0, false, err
	}
	for _, r := range rs {
		if r.ID == id {
			return s.Store.ChargeSignIn(ctx, account, id, limit, r.MAC, next)
		}
	}
	return s.Store.ChargeSignIn(ctx, account, id, limit, nil, next)
}

// sChargeKeepsMAC counts the attempt but leaves the old MAC.
type sChargeKeepsMAC struct{ *memstore.Store }

func (s sChargeKeepsMAC) ChargeSignIn(ctx context.Context, account, id string, limit int, mac, _ []byte) (int, bool, error) {
	return s.Store.ChargeSignIn(ctx, account, id, limit, mac, mac)
}

// sRefundIgnoresMAC refunds whatever MAC the caller read.
type sRefundIgnoresMAC struct{ *memstore.Store }

func (s sRefundIgnoresMAC) RefundSignIn(ctx context.Context, account, id string, _, next []byte) (bool, error) {
	rs, err := s.SignIns(ctx, account)
	if err != nil {
		return false, err
	}
	for _, r := range rs {
		if r.ID == id {
			return s.Store.RefundSignIn(ctx, account, id, r.MAC, next)
		}
	}
	return s.Store.RefundSignIn(ctx, account, id, nil, next)
}

// sRacyCharge checks, then acts.
type sRacyCharge struct{ *memstore.Store }

func (s sRacyCharge) ChargeSignIn(ctx context.Context, account, id string, limit int, mac, next []byte) (int, bool, error) {
	rs, err := s.SignIns(ctx, account)
	if err != nil {
		return 0, false, err
	}
	for _, r := range rs {
		if r.ID == id {
			if r.Attempts >= limit || !bytes.Equal(r.MAC, mac) {
				return r.Attempts, false, nil
			}
			time.Sleep(time.Millisecond)
			// Acts on whatever is stored by now.
			cur, err := s.SignIn(ctx, r.Digest)
			if err != nil {
				return 0, false, err
			}
			return s.Store.ChargeSignIn(ctx, account, id, 1<<30, cur.MAC, next)
		}
	}
	return 0, false, fmt.Errorf("%w", twofa.ErrNotFound)
}

// sRefundBelowZero lets Attempts go negative: it charges back a refund
// at 0 by recreating the record.
type sRefundBelowZero struct{ *memstore.Store }

func (s sRefundBelowZero) RefundSignIn(ctx context.Context, account, id string, mac, next []byte) (bool, error) {
	rs, err := s.SignIns(ctx, account)
	if err != nil {
		return false, err
	}
	for _, r := range rs {
		if r.ID == id && bytes.Equal(r.MAC, mac) {
			if err := s.DeleteSignIn(ctx, account, id); err != nil {
				return false, err
			}
			r.Attempts--
			r.MAC = next
			_, err := s.Store.CreateSignIn(ctx, r, 1<<30, r.CreatedAt)
			return err == nil, err
		}
	}
	return s.Store.RefundSignIn(ctx, account, id, mac, next)
}

// sRacyDelete checks, then acts, and reports success either way.
type sRacyDelete struct{ *memstore.Store }

func (s sRacyDelete) DeleteSignIn(ctx context.Context, account, id string) error {
	rs, err := s.SignIns(ctx, account)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if r.ID == id {
			time.Sleep(time.Millisecond)
			_ = s.Store.DeleteSignIn(ctx, account, id)
			return nil
		}
	}
	return fmt.Errorf("%w", twofa.ErrNotFound)
}

type sDeleteOffByOne struct{ *memstore.Store }

func (s sDeleteOffByOne) DeleteExpiredSignIns(ctx context.Context, now time.Time) (int, error) {
	return s.Store.DeleteExpiredSignIns(ctx, now.Add(-1))
}

type sTiesByID struct{ *memstore.Store }

func (s sTiesByID) SignIns(ctx context.Context, account string) ([]signin.Record, error) {
	rs, err := s.Store.SignIns(ctx, account)
	slices.SortStableFunc(rs, func(a, b signin.Record) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return rs, err
}

type sAliased struct {
	*memstore.Store
	mu    sync.Mutex
	cache map[string][]byte
}

func (s *sAliased) SignIn(ctx context.Context, digest []byte) (signin.Record, error) {
	r, err := s.Store.SignIn(ctx, digest)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.cache[r.Account+"/"+r.ID]; ok {
		r.Digest = c
	} else {
		s.cache[r.Account+"/"+r.ID] = r.Digest
	}
	return r, err
}

type sIgnoresContext struct{ *memstore.Store }

func (s sIgnoresContext) ChargeSignIn(_ context.Context, account, id string, limit int, mac, next []byte) (int, bool, error) {
	return s.Store.ChargeSignIn(context.Background(), account, id, limit, mac, next)
}

type sUnwrapped struct{ *memstore.Store }

func (s sUnwrapped) DeleteSignIn(ctx context.Context, account, id string) error {
	if err := s.Store.DeleteSignIn(ctx, account, id); err != nil {
		return fmt.Errorf("delete: %v", err)
	}
	return nil
}

// sDeleteAllLeavesNewest keeps the account's newest record.
type sDeleteAllLeavesNewest struct{ *memstore.Store }

func (s sDeleteAllLeavesNewest) DeleteSignIns(ctx context.Context, account string) (int, error) {
	rs, err := s.SignIns(ctx, account)
	if err != nil || len(rs) == 0 {
		return 0, err
	}
	n := 0
	for _, r := range rs[:len(rs)-1] {
		if err := s.DeleteSignIn(ctx, account, r.ID); err != nil && !errors.Is(err, twofa.ErrNotFound) {
			return n, err
		}
		n++
	}
	return n, nil
}
