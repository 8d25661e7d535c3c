package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/sqlstore"
	"github.com/twofa-go/twofa/storetest"
)

// phoneSchemaNames are the tables and indexes of migration 0003 (less
// challenges_number_idx, which 0006 drops).
var phoneSchemaNames = []string{
	"challenges", "challenges_created_idx", "challenges_id_idx", "challenges_phone_idx",
	"phones", "phones_account_idx", "phones_id_idx", "phones_number_idx", "phones_pending_idx",
}

// The migration tests compare a migrated schema with schemaNames; 0003's
// names join it here, until they are listed there.
func init() { schemaNames = append(schemaNames, phoneSchemaNames...) }

// dropPhoneTables removes 0003's tables of a PostgreSQL store once the
// test is over (dropPG drops the others).
func dropPhoneTables(tb testing.TB, s *sqlstore.Store) {
	if s.Dialect() != sqlstore.Postgres {
		return
	}
	dsn := pgDSN(tb)
	prefix := s.TablePrefix()
	tb.Cleanup(func() {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			tb.Error(err)
			return
		}
		defer db.Close()
		for _, t := range []string{"phones", "challenges"} {
			if _, err := db.Exec("DROP TABLE IF EXISTS " + prefix + t); err != nil {
				tb.Errorf("drop %s%s: %v", prefix, t, err)
			}
		}
	})
}

func twoPoolPhone(t *testing.T, ss []*sqlstore.Store, account string) phone.Record {
	t.Helper()
	p := storetest.NewPhone(account, t0)
	p.State, p.ExpiresAt = phone.Trusted, time.Time{}
	must(t, ss[0].InsertPhone(context.Background(), p, 5, t0))
	return p
}

// The tests below split goroutines between two pools on one database, as
// two server replicas would.

func TestTwoPoolsConsumeChallenge(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		ss := migrated(t, b, 2)
		dropPhoneTables(t, ss[0])
		ctx := context.Background()
		p := twoPoolPhone(t, ss, "alice")
		c := storetest.NewChallenge(p, t0)
		must(t, ss[0].CreateChallenge(ctx, c, c.CreatedAt.Add(-time.Hour), allowAll))
		var wins, used atomic.Int32
		goAll(200, func(i int) {
			r, _, err := ss[i%2].ConsumeChallenge(ctx, "alice", c.ID, c.Digest, 5, t0, nil, nil)
			switch {
			case err != nil:
				t.Errorf("ConsumeChallenge: %v", err)
			case r == phone.ConsumeAccepted:
				wins.Add(1)
			case r == phone.ConsumeUsed:
				used.Add(1)
			}
		})
		if wins.Load() != 1 || used.Load() != 199 {
			t.Errorf("200 concurrent ConsumeChallenge of one code through two pools: %d accepted, %d used; want 1 and 199", wins.Load(), used.Load())
		}
	})
}

func TestTwoPoolsWrongAttempts(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		ss := migrated(t, b, 2)
		dropPhoneTables(t, ss[0])
		ctx := context.Background()
		p := twoPoolPhone(t, ss, "alice")
		c := storetest.NewChallenge(p, t0)
		must(t, ss[0].CreateChallenge(ctx, c, c.CreatedAt.Add(-time.Hour), allowAll))
		var wrong atomic.Int32
		goAll(100, func(i int) {
			r, _, err := ss[i%2].ConsumeChallenge(ctx, "alice", c.ID, []byte("wrong"), 5, t0, nil, nil)
			switch {
			case err != nil:
				t.Errorf("ConsumeChallenge: %v", err)
			case r == phone.ConsumeWrong:
				wrong.Add(1)
			case r != phone.ConsumeExhausted:
				t.Errorf("ConsumeChallenge = %v", r)
			}
		})
		if wrong.Load() != 5 {
			t.Errorf("100 concurrent wrong tries through two pools, 5 allowed: %d counted", wrong.Load())
		}
		r, n, err := ss[1].ConsumeChallenge(ctx, "alice", c.ID, c.Digest, 5, t0, nil, nil)
		if r != phone.ConsumeExhausted || n != 5 || err != nil {
			t.Errorf("the right code after 5 wrong ones: %v, %d, %v; want exhausted", r, n, err)
		}
	})
}

func TestTwoPoolsSendLimits(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		ss := migrated(t, b, 2)
		dropPhoneTables(t, ss[0])
		ctx := context.Background()
		// Two numbers of one account: the account's cap holds for both.
		pa := twoPoolPhone(t, ss, "alice")
		pb := twoPoolPhone(t, ss, "alice")
		// The same number in another account neither counts nor waits.
		pc := storetest.NewPhone("bob", t0)
		pc.Number = pa.Number
		must(t, ss[1].InsertPhone(ctx, pc, 5, t0))
		var ok, capped, other atomic.Int32
		goAll(90, func(i int) {
			p := []phone.Record{pa, pb, pc}[i%3]
			err := ss[i%2].CreateChallenge(ctx, storetest.NewChallenge(p, t0.Add(time.Duration(i))), t0.Add(-time.Hour), allowBelow5)
			switch {
			case err == nil && p.Account == "bob":
				other.Add(1)
			case err == nil:
				ok.Add(1)
			case errors.Is(err, phone.ErrTooManyCodes):
				if p.Account == "alice" {
					capped.Add(1)
				}
			default:
				t.Errorf("CreateChallenge: %v", err)
			}
		})
		if ok.Load() != 5 || capped.Load() != 55 {
			t.Errorf("60 concurrent sends of one account through two pools, 5 an hour: %d sent, %d capped", ok.Load(), capped.Load())
		}
		if other.Load() != 5 {
			t.Errorf("30 concurrent sends of another account to the same number, 5 an hour: %d sent", other.Load())
		}
	})
}

// TestDeletePhoneRacesCreateChallenge checks that a challenge created
// while its phone is deleted never stays open for the deleted phone.
func TestDeletePhoneRacesCreateChallenge(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		ss := migrated(t, b, 2)
		dropPhoneTables(t, ss[0])
		ctx := context.Background()
		for round := range 20 {
			p := twoPoolPhone(t, ss, "alice")
			c := storetest.NewChallenge(p, t0.Add(time.Duration(round)*time.Hour))
			goAll(2, func(i int) {
				if i == 0 {
					if _, _, err := ss[0].DeletePhone(ctx, "alice", p.ID); err != nil {
						t.Errorf("DeletePhone: %v", err)
					}
					return
				}
				if err := ss[1].CreateChallenge(ctx, c, c.CreatedAt.Add(-time.Hour), allowAll); err != nil && !errors.Is(err, twofa.ErrNotFound) {
					t.Errorf("CreateChallenge: %v", err)
				}
			})
			got, err := ss[0].Challenge(ctx, "alice", c.ID)
			if err == nil && got.State == phone.ChallengeOpen {
				t.Fatalf("round %d: a challenge of a deleted phone is open", round)
			}
		}
	})
}

// allowAll permits every challenge.
func allowAll([]phone.Send) error { return nil }

// allowBelow5 permits a challenge while fewer than 5 are recent, as a cap
// of 5 an hour over the account's codes would.
func allowBelow5(recent []phone.Send) error {
	if len(recent) >= 5 {
		return phone.ErrTooManyCodes
	}
	return nil
}
