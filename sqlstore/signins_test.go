package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/twofa-go/twofa/internal/signinrace"
	"github.com/twofa-go/twofa/signin"
	"github.com/twofa-go/twofa/sqlstore"
	"github.com/twofa-go/twofa/storetest"
	"github.com/twofa-go/twofa/twofatest"
)

// signinSchemaNames are the table and indexes of migration 0009.
var signinSchemaNames = []string{
	"signins", "signins_account_idx", "signins_digest_idx", "signins_expires_idx", "signins_id_idx",
}

// The migration tests compare a migrated schema with schemaNames; 0009's
// names join it here.
func init() { schemaNames = append(schemaNames, signinSchemaNames...) }

// TestSignInConformance runs the signin.Store part of the suite on every
// backend, one database per backend shared by the subtests.
func TestSignInConformance(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		s := b.open(t)
		storetest.RunSignIns(t, func(*testing.T) signin.Store { return s })
	})
}

// TestSignInSchema checks the migration's unique indexes: they hold even
// for a writer that skips CreateSignIn's own check.
func TestSignInSchema(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		dbs, prefix := b.dbs(t, 1)
		s, err := sqlstore.New(dbs[0], b.dialect, sqlstore.Options{TablePrefix: prefix})
		must(t, err)
		ctx := context.Background()
		must(t, s.Migrate(ctx))
		names := inspector{dbs[0], b.dialect}.names(t, prefix)
		for _, n := range signinSchemaNames {
			if !slices.Contains(names, prefix+n) {
				t.Errorf("no %s%s after Migrate (have %v)", prefix, n, names)
			}
		}
		r := storetest.NewSignIn("alice", t0)
		if _, err := s.CreateSignIn(ctx, r, 5, t0); err != nil {
			t.Fatal(err)
		}
		arg := "?"
		if b.dialect == sqlstore.Postgres {
			arg = "$1"
		}
		insert := func(account, id string, digest []byte) error {
			_, err := dbs[0].ExecContext(ctx, `INSERT INTO `+prefix+`signins (account, id, digest,
				created_at, expires_at, label, ip, attempts)
				VALUES ('`+account+`', '`+id+`', `+arg+`, 0, 0, '', '', 0)`, digest)
			return err
		}
		if insert("bob", "x", r.Digest) == nil {
			t.Error("a second row with the same digest (another account) was stored")
		}
		if insert("alice", r.ID, []byte("other")) == nil {
			t.Error("a second row with the same (account, id) was stored")
		}
	})
}

// TestReplicasFinishOnce: 200 concurrent Finish calls of one pending
// sign-in, through three replicas (installations with pools of their own)
// on one database, with one code or with a mix of right factors: exactly
// one succeeds, the others fail with typed errors. With the default
// MaxAttempts at most five reach Verify; with MaxMaxAttempts a hundred
// do, and up to eleven right factors race to finish the sign-in.
func TestReplicasFinishOnce(t *testing.T) {
	forEachShared(t, func(t *testing.T, b backend) {
		for _, maxAttempts := range []int{signin.DefaultMaxAttempts, signin.MaxMaxAttempts} {
			for _, mode := range []signinrace.Mode{signinrace.SameCode, signinrace.Mixed} {
				t.Run(fmt.Sprintf("%v/MaxAttempts%d", mode, maxAttempts), func(t *testing.T) {
					clock := twofatest.NewClock(twofatest.Start)
					var rs []signinrace.Replica
					for _, r := range replicas(t, b, 3, clock, wideThrottle) {
						m, err := signin.New(r.verifier, signin.Config{MaxAttempts: maxAttempts})
						must(t, err)
						rs = append(rs, signinrace.Replica{TwoFA: r.verifier, SignIns: m})
					}
					o := signinrace.Run(t, rs, clock, mode, signinrace.Rounds(t, 3, 1))
					t.Logf("last round: %d succeeded, %d ErrNotFound, %d ErrTooManyAttempts, %d ErrReplayed, %d ErrInvalidCode; %d recovery codes accepted",
						o.OK, o.NotFound, o.TooMany, o.Replayed, o.Invalid, o.RecoveryUsed)
				})
			}
		}
	})
}
