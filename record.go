package twofa

import (
	"context"
	"encoding/binary"
	"sync"
	"time"
)

// Authenticated state.
//
// A device's secret is sealed and bound to the device, but its counter,
// drift, state, attempts and expiry change with every code, so the seal
// cannot cover them. Each stored record therefore carries a MAC
// (Keyring.MAC) over its security state, its kind and its id, bound to
// its account: someone who can write to the store but holds no key cannot
// wind a counter back (a replay), mark a pending device confirmed, or
// change any other bound field without the record being refused.
//
// The MAC is also the record's version: every store operation that
// changes bound state is a compare-and-set on the MAC the caller read and
// verified, and writes the MAC of the new state in the same step, so the
// atomic guarantees of the stores hold as before. A record whose MAC does
// not verify - changed, copied from another record, or without a MAC at
// all - fails closed: the factor is refused with a *TamperedError and an
// EventTampered, never accepted.
//
// What a MAC cannot see: a record deleted, or a whole row (or database)
// restored from an older backup, which carries an older but valid state.
// ARCHITECTURE.md discusses both.

// Record kinds, the first field of every MAC'd state and the Record of a
// TamperedError.
const (
	RecordDevice    = "device"
	RecordBrowser   = "browser"
	RecordChallenge = "challenge"
	RecordPhone     = "phone"
	RecordSignIn    = "signin"
)

// TamperedError says which stored record failed authentication. It never
// holds the record's state or MAC.
type TamperedError struct {
	Record  string // RecordDevice, RecordBrowser...
	Account string
	ID      string // the record's id, quoted if it is not a well-formed id
	Missing bool   // the record has no MAC at all (see TwoFA.UpgradeMACs)
	Err     error  // the Keyring's error, if any
}

func (e *TamperedError) Error() string {
	if e.Missing {
		return "twofa: stored " + e.Record + " " + e.ID + " has no MAC"
	}
	return "twofa: stored " + e.Record + " " + e.ID + " failed authentication"
}

// Is reports whether target is ErrTampered.
func (e *TamperedError) Is(target error) bool { return target == ErrTampered }

// Unwrap returns the Keyring's error.
func (e *TamperedError) Unwrap() error { return e.Err }

// StateMAC computes the MAC of a record's state for packages that keep
// records of their own (packages browser, phone and signin): kind is one of
// the Record constants, id the record's id, state the record's bound
// fields in a fixed encoding of the caller's (times as TimeNanos gives
// them, integers big-endian, variable fields length-prefixed). The result is the tag
// to store beside the record.
func StateMAC(kr Keyring, account, kind, id string, state []byte) ([]byte, error) {
	buf := stateBufs.Get().(*stateBuf)
	defer stateBufs.Put(buf)
	return kr.MAC(account, stateData(buf[:0], kind, id, state))
}

// CheckStateMAC verifies a tag StateMAC returned for the same record and
// state. It returns a *TamperedError (matching ErrTampered) when the tag
// does not verify or is missing, and reports whether the tag is under
// the Keyring's primary key.
func CheckStateMAC(kr Keyring, account, kind, id string, state, tag []byte) (primary bool, err error) {
	if len(tag) == 0 {
		return false, &TamperedError{Record: kind, Account: account, ID: idForError(id), Missing: true}
	}
	buf := stateBufs.Get().(*stateBuf)
	primary, err = checkData(kr, account, kind, id, stateData(buf[:0], kind, id, state), tag)
	stateBufs.Put(buf)
	return primary, err
}

// checkData is CheckStateMAC for a tag that is not empty, with data
// stateData's result.
func checkData(kr Keyring, account, kind, id string, data, tag []byte) (primary bool, err error) {
	primary, err = kr.CheckMAC(account, data, tag)
	if err != nil {
		return false, &TamperedError{Record: kind, Account: account, ID: idForError(id), Err: err}
	}
	return primary, nil
}

// stateVersion is the first byte of the data of every state MAC.
const stateVersion = 0x01

// stateBuf holds the data of one MAC: room for the kind, a record id of
// MaxIDLen and a state of a few dozen bytes. Data that does not fit is
// appended into a buffer of its own. The buffers are pooled because the
// Keyring is an interface, so whatever is passed to it escapes to the
// heap; they hold no secret (a record's state is stored in the clear).
type stateBuf [256]byte

var stateBufs = sync.Pool{New: func() any { return new(stateBuf) }}

// stateData is what a record's MAC authenticates: the format's version
// (the MAC key serves these MACs only, so it needs no longer label), the
// kind and the id (each length-prefixed) and the encoded state.
func stateData(b []byte, kind, id string, state []byte) []byte {
	return append(stateHeader(b, kind, id), state...)
}

// stateHeader appends what precedes the state in stateData.
func stateHeader(b []byte, kind, id string) []byte {
	b = append(b, stateVersion)
	b = binary.BigEndian.AppendUint16(b, uint16(len(kind)))
	b = append(b, kind...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(id)))
	return append(b, id...)
}

// TimeNanos is t as Unix nanoseconds, the zero Time as math.MinInt64 and
// times outside the int64 range saturated, as the stores keep times: the
// form in which a time enters a record's MAC, so that a time read back
// from any store authenticates.
func TimeNanos(t time.Time) int64 {
	if t.IsZero() {
		return -1 << 63
	}
	if t.Before(minNanosTime) {
		return -1<<63 + 1
	}
	if t.After(maxNanosTime) {
		return 1<<63 - 1
	}
	return t.UnixNano()
}

var (
	minNanosTime = time.Unix(0, -1<<63+1)
	maxNanosTime = time.Unix(0, 1<<63-1)
)

// deviceState is the encoded bound state of a device: everything a
// sign-in or a confirmation decides on. The label and the times of use
// are not bound (they decide nothing); the sealed secret is bound to the
// device by its own seal.
//
// Each field is a varint (unsigned, or zig-zag signed, as encoding/binary
// writes them): the sequence is self-delimiting, so the encoding is
// injective over the full range of every field - no value can be made to
// read as another - and a device's state takes about 30 bytes, which keeps
// the inner hash of its HMAC at two SHA-256 blocks (three compressions
// with the outer one) for accounts up to about 40 bytes.
func (d *Device) deviceState(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(d.Type))
	b = binary.AppendUvarint(b, uint64(d.Algorithm))
	b = binary.AppendUvarint(b, uint64(d.State))
	b = binary.AppendVarint(b, int64(d.Digits))
	b = binary.AppendVarint(b, int64(d.Period))
	b = binary.AppendUvarint(b, d.Counter)
	b = binary.AppendVarint(b, d.Drift)
	b = binary.AppendUvarint(b, d.ResyncStep)
	b = binary.AppendVarint(b, d.ResyncDrift)
	b = binary.AppendVarint(b, int64(d.Attempts))
	return binary.AppendVarint(b, TimeNanos(d.ExpiresAt))
}

// deviceMAC returns the MAC of d's bound state.
func (c *Config) deviceMAC(d *Device) ([]byte, error) { return deviceMAC(c.Keyring, d) }

// deviceData appends the data of d's MAC to b: stateData of d's state,
// encoded in place.
func (d *Device) deviceData(b []byte) []byte {
	return d.deviceState(stateHeader(b, RecordDevice, d.ID))
}

func deviceMAC(kr Keyring, d *Device) ([]byte, error) {
	buf := stateBufs.Get().(*stateBuf)
	defer stateBufs.Put(buf)
	return kr.MAC(d.Account, d.deviceData(buf[:0]))
}

// checkDevice verifies d's MAC; on failure it reports an EventTampered
// and returns the *TamperedError.
func (c *Config) checkDevice(ctx context.Context, d *Device) (primary bool, err error) {
	if len(d.MAC) == 0 {
		err = &TamperedError{Record: RecordDevice, Account: d.Account, ID: idForError(d.ID), Missing: true}
	} else {
		buf := stateBufs.Get().(*stateBuf)
		primary, err = checkData(c.Keyring, d.Account, RecordDevice, d.ID, d.deviceData(buf[:0]), d.MAC)
		stateBufs.Put(buf)
	}
	if err != nil {
		c.Events.emit(ctx, Event{Type: EventTampered, Account: d.Account, DeviceID: d.ID, Time: c.Clock.Now()})
	}
	return primary, err
}

// acceptMAC authenticates d, a device whose code matched at step with
// drift, and returns the MAC of the state DeviceStore.AcceptCode leaves.
func (c *Config) acceptMAC(ctx context.Context, d *Device, step uint64, drift int64) ([]byte, error) {
	if _, err := c.checkDevice(ctx, d); err != nil {
		return nil, err
	}
	next := *d
	next.Counter, next.Drift, next.ResyncStep, next.ResyncDrift = step+1, drift, 0, 0
	return c.deviceMAC(&next)
}

// resyncMAC authenticates d and returns the MAC of the state
// DeviceStore.SetResync leaves.
func (c *Config) resyncMAC(ctx context.Context, d *Device, step uint64, drift int64) ([]byte, error) {
	if _, err := c.checkDevice(ctx, d); err != nil {
		return nil, err
	}
	next := *d
	next.ResyncStep, next.ResyncDrift = step, drift
	return c.deviceMAC(&next)
}

// DeviceMAC returns the MAC twofa stores as d.MAC for d's state, bound to
// d.Account and d.ID: for a tool that writes devices to a store itself
// (a bulk import from another system, a test) and must store them as
// twofa would. Whoever holds the Keyring can authenticate any state;
// keep such tools as close to the keys as the keys themselves.
func DeviceMAC(kr Keyring, d Device) ([]byte, error) { return deviceMAC(kr, &d) }
