package browser

import (
	"context"
	"time"
)

// Record is the stored record of one trusted browser: the keyed digest of
// its token, never the token. A revoked browser stays as a tombstone
// (RevokedAt set) until its ExpiresAt, so that Manager.Check can tell a
// revoked token from one never issued.
type Record struct {
	ID      string
	Account string
	Label   string
	// Digest is Keyring.Digest(DigestPurpose, account, the token's
	// 32 bytes): what the token is looked up by.
	Digest    []byte
	CreatedAt time.Time
	// ExpiresAt is the first instant at which the browser is no longer
	// trusted; from then on the record may be deleted.
	ExpiresAt time.Time
	// LastUsedAt is set to CreatedAt by Manager.Trust and moved forward,
	// at most once an hour, by Manager.Check. The least recently used
	// browser is the one evicted at the limit.
	LastUsedAt time.Time
	// RevokedAt is zero while the browser is trusted, and the time of its
	// revocation (or eviction) after.
	RevokedAt time.Time
	// MAC authenticates the live record - its id, account, Digest and
	// ExpiresAt, RevokedAt zero - under the Keyring (twofa.StateMAC,
	// kind twofa.RecordBrowser). A store clears it (empty) in the same
	// step as it revokes the record, so that a revoked record has none:
	// clearing RevokedAt, or moving ExpiresAt, without the keys brings
	// back no record that Check trusts. A record without a MAC (revoked,
	// or stored before MACs) is never trusted.
	MAC []byte
}

// live reports whether b is trusted at now: not revoked and not expired.
func (b *Record) live(now time.Time) bool {
	return b.RevokedAt.IsZero() && now.Before(b.ExpiresAt)
}

// Store keeps trusted browsers ("don't ask again on this browser")
// as keyed digests of their tokens. As for the other stores, every method
// is one atomic step of the store, takes a context, and reports a missing
// record with an error wrapping twofa.ErrNotFound.
//
// A record is live while its RevokedAt is zero and ExpiresAt is after the
// time in question; revoked records (tombstones) and expired ones stay
// until DeleteExpiredBrowsers, or an InsertBrowser on the same account,
// removes them once their ExpiresAt has passed.
type Store interface {
	// InsertBrowser adds b, in one atomic step that first deletes the
	// account's records (revoked or not) whose ExpiresAt is at or before
	// now. Then:
	//   - if the account has a record with b's ID or Digest, it reports
	//     twofa.ErrDuplicate;
	//   - if the account has limit or more live records at now, it revokes
	//     (RevokedAt = now, MAC cleared) the least recently used ones - earliest
	//     LastUsedAt, ties broken by insertion order - until limit-1 are
	//     left, and returns their IDs in that order;
	//   - it stores b.
	// A limit below 1 is twofa.ErrLimitReached. A refused insert changes nothing
	// (expired records included).
	InsertBrowser(ctx context.Context, b Record, limit int, now time.Time) (evicted []string, err error)
	// BrowserByDigest returns the account's record with this digest,
	// revoked and expired ones included, or twofa.ErrNotFound: one lookup in a
	// unique index, whatever the number of records.
	BrowserByDigest(ctx context.Context, account string, digest []byte) (Record, error)
	// Browsers returns every record of the account, revoked and expired
	// ones included, oldest first (by CreatedAt; ties in insertion order).
	Browsers(ctx context.Context, account string) ([]Record, error)
	// TouchBrowser sets LastUsedAt to at unless it is already at or after
	// at (it never moves back).
	TouchBrowser(ctx context.Context, account, id string, at time.Time) error
	// RevokeBrowser sets RevokedAt to at and clears MAC, if the record
	// is not revoked yet: of concurrent calls for one record exactly one succeeds. A
	// record revoked already is twofa.ErrNotFound, as is a missing one.
	RevokeBrowser(ctx context.Context, account, id string, at time.Time) error
	// RevokeBrowsers sets RevokedAt to at, and clears MAC, on every
	// record of the account that is live at at, and returns how many it revoked.
	RevokeBrowsers(ctx context.Context, account string, at time.Time) (int, error)
	// DeleteExpiredBrowsers removes every record whose ExpiresAt is at or
	// before now, revoked or not, across accounts, and returns how many it
	// removed.
	DeleteExpiredBrowsers(ctx context.Context, now time.Time) (int, error)
	// BrowsersAfter pages through every record of every account, revoked
	// and expired ones included (Manager.ResealMACs, after a rotation of
	// the sealing keys, skips those itself): it returns up to limit (at
	// least 1; a lower limit is an error) records ordered by account, then
	// ID, that come strictly after (account, id) in that order; ("", "")
	// starts at the beginning, and (account, "") at the account's first
	// record. Fewer than limit records (none included) means the end.
	// Strings are compared in one total order that the store fixes, the
	// same for the comparison with (account, id) as for the sort: byte by
	// byte in memstore and SQLite; in PostgreSQL, the collation of the
	// columns, which the unique index on (account, id) follows (byte order
	// under the C and C.UTF-8 collations). Each page is read on its own,
	// in one atomic step: a record inserted or deleted between pages may
	// or may not be seen, but every record that exists throughout is
	// returned exactly once. A store keeps an index for it, so that a page
	// costs no more than its size, whatever the number of records.
	BrowsersAfter(ctx context.Context, account, id string, limit int) ([]Record, error)
	// UpdateBrowserMAC sets the record's MAC to mac, in one atomic
	// compare-and-set, if and only if its MAC equals old byte for byte,
	// old is not empty, and the record is not revoked; it reports whether
	// it did, and otherwise changes nothing (false, nil). A missing record
	// is twofa.ErrNotFound. Of concurrent calls with the same old MAC
	// exactly one reports true. It serves Manager.ResealMACs, which moves
	// a live record's MAC to the primary key: it never gives a MAC to a
	// record that has none (revoked, or stored before MACs), nor to a
	// revoked one.
	UpdateBrowserMAC(ctx context.Context, account, id string, old, mac []byte) (bool, error)
}
