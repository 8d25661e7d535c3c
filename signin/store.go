package signin

import (
	"context"
	"time"
)

// Record is the stored record of one pending sign-in: the keyed digest of
// its token, never the token. A sign-in voided by too many wrong second
// factors stays (Attempts at the limit) until its ExpiresAt, so that
// Manager.Finish can tell it from one never started; a finished,
// cancelled or revoked one is deleted.
type Record struct {
	ID      string
	Account string
	// Digest is Keyring.Digest(DigestPurpose, tokenAccount, the token's
	// 32 bytes): what the token is looked up by, across accounts.
	Digest    []byte
	CreatedAt time.Time
	// ExpiresAt is the first instant at which the sign-in can no longer
	// be finished; from then on the record may be deleted.
	ExpiresAt time.Time
	// Label is the requesting browser's label ("Firefox on Linux"),
	// normalised as twofa.NormalizeLabel does, or "".
	Label string
	// IP is the requesting address in canonical form (netip.Addr.String),
	// or "" when the backend passed none.
	IP string
	// Attempts counts the second factors tried (ChargeSignIn) and not
	// given back (RefundSignIn).
	Attempts int
	// MAC authenticates the record - its id, account, Digest, CreatedAt,
	// ExpiresAt, Label, IP and Attempts - under the Keyring
	// (twofa.StateMAC, kind twofa.RecordSignIn), and is its version:
	// ChargeSignIn and RefundSignIn are compare-and-sets on it. Someone
	// who can write to the store but holds no key cannot move a sign-in
	// (a passed password) to another account, give one back its
	// attempts or stretch its life: Manager refuses a record whose MAC
	// does not verify, or that has none.
	MAC []byte
}

// Store keeps pending sign-ins as keyed digests of their tokens. As for
// the other stores, every method is one atomic step of the store, takes a
// context, and reports a missing record with an error wrapping
// twofa.ErrNotFound. Memstore and sqlstore implement it.
//
// Record IDs are unique within an account; digests are unique across
// accounts, since Manager.Finish looks a token up before it knows the
// account.
type Store interface {
	// CreateSignIn adds r, in one atomic step that first deletes the
	// account's records whose ExpiresAt is at or before now. Then:
	//   - if the account has a record with r's ID, or any account one
	//     with r's Digest, it reports twofa.ErrDuplicate;
	//   - if the account has limit or more records, it deletes the oldest
	//     ones - earliest CreatedAt, ties broken by insertion order -
	//     until limit-1 are left, and returns their IDs in that order;
	//   - it stores r.
	// A limit below 1 is twofa.ErrLimitReached. A refused insert changes
	// nothing (expired records included).
	CreateSignIn(ctx context.Context, r Record, limit int, now time.Time) (evicted []string, err error)
	// SignIn returns the record with this digest, of whatever account,
	// expired and voided ones included, or twofa.ErrNotFound: one lookup
	// in a unique index, whatever the number of records.
	SignIn(ctx context.Context, digest []byte) (Record, error)
	// SignIns returns every record of the account, expired and voided
	// ones included, oldest first (by CreatedAt; ties in insertion order).
	SignIns(ctx context.Context, account string) ([]Record, error)
	// ChargeSignIn counts a second factor against a pending sign-in
	// before it is evaluated, so that concurrent guesses cannot outrun the
	// limit: atomically, if its Attempts is below limit and its MAC
	// equals mac, it increments Attempts, sets MAC to next and reports
	// (the new count, true); otherwise it changes nothing and reports
	// (the current count, false) - a count below limit then means the
	// record changed since mac was read. Of N concurrent calls with one
	// mac, at most one reports true. Expiry is not checked. ErrNotFound
	// when the account has no such record.
	ChargeSignIn(ctx context.Context, account, id string, limit int, mac, next []byte) (attempts int, ok bool, err error)
	// RefundSignIn gives back one charged attempt, for a factor that was
	// not evaluated (malformed, throttled, a store error): atomically, if
	// Attempts is above 0 and MAC equals mac, it decrements Attempts, sets
	// MAC to next and reports true; otherwise it changes nothing and
	// reports false. ErrNotFound when the account has no such record.
	RefundSignIn(ctx context.Context, account, id string, mac, next []byte) (ok bool, err error)
	// DeleteSignIn removes one record, whatever its state: of concurrent
	// calls for one record exactly one succeeds, the others report
	// twofa.ErrNotFound (as for a missing record). Finishing a sign-in
	// is this delete: it is what makes Manager.Finish succeed once.
	DeleteSignIn(ctx context.Context, account, id string) error
	// DeleteSignIns removes every record of the account and returns how
	// many it removed.
	DeleteSignIns(ctx context.Context, account string) (int, error)
	// DeleteExpiredSignIns removes every record whose ExpiresAt is at or
	// before now, across accounts, and returns how many it removed.
	DeleteExpiredSignIns(ctx context.Context, now time.Time) (int, error)
}
