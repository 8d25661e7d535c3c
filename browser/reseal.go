package browser

import (
	"context"
	"errors"
	"fmt"

	"github.com/twofa-go/twofa"
)

// resealPage is how many records ResealMACs reads at a time, as package
// phone's Manager.ResealMACs does.
const resealPage = 500

// ResealMACs gives every live trusted browser whose MAC (Record.MAC)
// verifies under a key of the Keyring other than the primary a MAC under
// the primary, and returns how many it changed: after a rotation of the
// sealing keys, before the old key is dropped (a MAC under a dropped key
// no longer verifies, and its browser is refused, so its owner passes a
// second factor again). twofa.TwoFA.Reseal calls it for the Manager,
// which New attaches. It pages through every record of every account
// (Store.BrowsersAfter), in constant memory whatever their number, and
// skips revoked and expired ones, which are trusted by no key, and live
// ones without a MAC (stored before MACs, and never adopted: refused by
// any key, like a revoked one). A live browser whose MAC does not verify
// is left alone: the error (matching twofa.ErrTampered) counts them, and
// the run goes on. Each
// write is a compare-and-set on the old MAC (Store.UpdateBrowserMAC): a
// browser revoked, removed or re-MACed by another run meanwhile is
// skipped, not an error, and a second run changes nothing. A store error
// stops the run; the count says how many were changed by then, and
// running it again resumes the work.
func (b *Manager) ResealMACs(ctx context.Context) (int, error) {
	now := b.clock.Now()
	n, failed := 0, 0
	account, id := "", ""
	for {
		recs, err := b.st.BrowsersAfter(ctx, account, id, resealPage)
		if err != nil {
			return n, resealError(failed, fmt.Errorf("twofa: reseal browser MACs: %w", err))
		}
		for i := range recs {
			rec := &recs[i]
			if !rec.live(now) || len(rec.MAC) == 0 {
				continue
			}
			primary, err := twofa.CheckStateMAC(b.keys, rec.Account, twofa.RecordBrowser, rec.ID, rec.state(), rec.MAC)
			if err != nil {
				failed++
				continue
			}
			if primary {
				continue
			}
			ok, err := b.replaceMAC(ctx, rec)
			if err != nil {
				return n, resealError(failed, fmt.Errorf("twofa: reseal browser MACs: %w", err))
			}
			if ok {
				n++
			}
		}
		if len(recs) < resealPage {
			return n, resealError(failed, nil)
		}
		last := recs[len(recs)-1]
		account, id = last.Account, last.ID
	}
}

// replaceMAC stores the MAC of rec's state under the primary key in place
// of the MAC rec was read with, and reports whether it did (a record
// revoked, removed or changed meanwhile is skipped).
func (b *Manager) replaceMAC(ctx context.Context, rec *Record) (bool, error) {
	mac, err := twofa.StateMAC(b.keys, rec.Account, twofa.RecordBrowser, rec.ID, rec.state())
	if err != nil {
		return false, err
	}
	ok, err := b.st.UpdateBrowserMAC(ctx, rec.Account, rec.ID, rec.MAC, mac)
	if errors.Is(err, twofa.ErrNotFound) {
		return false, nil
	}
	return ok, err
}

// resealError joins the count of the browsers whose MACs did not verify
// (none: nothing) and last, a store error that stopped the run (may be
// nil).
func resealError(failed int, last error) error {
	var errs []error
	if failed > 0 {
		errs = append(errs, fmt.Errorf("twofa: reseal browser MACs: %d live browsers whose MACs do not verify: %w", failed, twofa.ErrTampered))
	}
	return errors.Join(append(errs, last)...)
}
