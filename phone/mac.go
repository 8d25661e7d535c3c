package phone

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/twofa-go/twofa"
)

// state is what a phone's MAC authenticates besides its id and account:
// its number, country code, state and expiry.
func (r *Record) state() []byte {
	b := make([]byte, 0, 2+len(r.Number.E164)+8+1+8)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.Number.E164)))
	b = append(b, r.Number.E164...)
	b = binary.BigEndian.AppendUint64(b, uint64(int64(r.Number.CountryCode)))
	b = append(b, byte(r.State))
	return binary.BigEndian.AppendUint64(b, uint64(twofa.TimeNanos(r.ExpiresAt)))
}

// mac returns the MAC of r's state (Record.MAC).
func (r *Record) mac(kr twofa.Keyring) ([]byte, error) {
	return twofa.StateMAC(kr, r.Account, twofa.RecordPhone, r.ID, r.state())
}

// checkPhone verifies ph's MAC; on failure it reports a
// twofa.EventTampered and returns the *twofa.TamperedError.
func (p *Manager) checkPhone(ctx context.Context, ph *Record, now time.Time) error {
	if _, err := twofa.CheckStateMAC(p.keys, ph.Account, twofa.RecordPhone, ph.ID, ph.state(), ph.MAC); err != nil {
		p.emit(ctx, twofa.Event{Type: twofa.EventTampered, Account: ph.Account, PhoneID: ph.ID, Time: now})
		return err
	}
	return nil
}

// upgradePage is how many phones UpgradeMACs reads at a time.
const upgradePage = 500

// UpgradeMACs gives a MAC (Record.MAC) to every stored phone that has
// none - every phone of a store from before the MACs - and returns how
// many it gave one, as twofa.TwoFA.UpgradeMACs does for devices (which
// calls it for an attached Manager): once, right after migrating, and not
// again, since it adopts the number and standing it finds. Until then a
// phone without a MAC is sent no code and cannot be confirmed. Each write
// is a compare-and-set on the empty MAC; a second run changes nothing.
func (p *Manager) UpgradeMACs(ctx context.Context) (int, error) {
	n, err := p.eachPhone(ctx, func(ph *Record) (bool, error) {
		if len(ph.MAC) != 0 {
			return false, nil
		}
		return p.replaceMAC(ctx, ph)
	})
	if err != nil {
		return n, fmt.Errorf("twofa: upgrade phone MACs: %w", err)
	}
	return n, nil
}

// ResealMACs gives every phone whose MAC verifies under a key of the
// Keyring other than the primary a MAC under the primary, and returns how
// many it changed: after a rotation of the sealing keys, before the old
// key is dropped (a MAC under a dropped key no longer verifies, and its
// phone gets no code). twofa.TwoFA.Reseal calls it for an attached
// Manager. A phone whose MAC does not verify, or that has none, is left
// alone: the error (matching twofa.ErrTampered) counts them, and the run
// goes on. Each write is a compare-and-set on the old MAC.
func (p *Manager) ResealMACs(ctx context.Context) (int, error) {
	failed := 0
	n, err := p.eachPhone(ctx, func(ph *Record) (bool, error) {
		primary, err := twofa.CheckStateMAC(p.keys, ph.Account, twofa.RecordPhone, ph.ID, ph.state(), ph.MAC)
		if err != nil {
			failed++
			return false, nil
		}
		if primary {
			return false, nil
		}
		return p.replaceMAC(ctx, ph)
	})
	if err != nil {
		return n, fmt.Errorf("twofa: reseal phone MACs: %w", err)
	}
	if failed > 0 {
		return n, fmt.Errorf("twofa: reseal phone MACs: %d phones whose MACs do not verify: %w", failed, twofa.ErrTampered)
	}
	return n, nil
}

// replaceMAC stores the MAC of ph's state under the primary key in place
// of the MAC ph was read with, and reports whether it did (a phone changed
// or removed meanwhile is skipped).
func (p *Manager) replaceMAC(ctx context.Context, ph *Record) (bool, error) {
	mac, err := ph.mac(p.keys)
	if err != nil {
		return false, err
	}
	ok, err := p.st.UpdatePhoneMAC(ctx, ph.Account, ph.ID, ph.MAC, mac)
	if errors.Is(err, twofa.ErrNotFound) {
		return false, nil
	}
	return ok, err
}

// eachPhone pages through every phone of every account and calls f on
// each; it returns how many calls reported true.
func (p *Manager) eachPhone(ctx context.Context, f func(*Record) (bool, error)) (int, error) {
	n := 0
	account, id := "", ""
	for {
		phs, err := p.st.PhonesAfter(ctx, account, id, upgradePage)
		if err != nil {
			return n, err
		}
		for i := range phs {
			ok, err := f(&phs[i])
			if err != nil {
				return n, err
			}
			if ok {
				n++
			}
		}
		if len(phs) < upgradePage {
			return n, nil
		}
		last := phs[len(phs)-1]
		account, id = last.Account, last.ID
	}
}
