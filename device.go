package twofa

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"
)

// DeviceInfo is what a settings page shows of a device: never its secret.
// encoding/json writes it with snake_case names, Type and State as text
// ("totp", "confirmed") and without the times that are unset.
type DeviceInfo struct {
	ID          string      `json:"id"`
	Label       string      `json:"label"`
	Type        Type        `json:"type"`
	State       DeviceState `json:"state"`
	CreatedAt   time.Time   `json:"created_at,omitzero"`
	ExpiresAt   time.Time   `json:"expires_at,omitzero"` // pending devices: when the enrolment lapses
	ConfirmedAt time.Time   `json:"confirmed_at,omitzero"`
	LastUsedAt  time.Time   `json:"last_used_at,omitzero"`
}

func (d Device) info() DeviceInfo {
	return DeviceInfo{
		ID: d.ID, Label: d.Label, Type: d.Type, State: d.State,
		CreatedAt: d.CreatedAt, ExpiresAt: d.ExpiresAt,
		ConfirmedAt: d.ConfirmedAt, LastUsedAt: d.LastUsedAt,
	}
}

// Devices enrols, confirms, lists, renames and revokes the trusted devices
// of accounts. It is safe for concurrent use.
type Devices struct {
	c *Config
}

// EnrollOptions describe a device to enrol. The zero value enrols a TOTP
// device with the defaults every authenticator app supports.
type EnrollOptions struct {
	Type    Type    // TypeTOTP (default) or TypeHOTP
	Options Options // algorithm, digits, period; zero: SHA-1, 6 digits, 30 s
	// AccountName is what the authenticator app shows under the issuer,
	// e.g. the user's e-mail address; empty means the account identifier.
	AccountName string
}

// Enrollment is a freshly enrolled, pending device and the key to put on
// it. The Key holds the secret: show it (URI or QR code) to the user once
// and do not keep it.
type Enrollment struct {
	Device DeviceInfo
	Key    Key
}

// Enroll creates a pending device for account, labelled label, with a new
// 160-bit secret. Show Enrollment.Key to the user as a QR code
// (Key.PNG) or URI; the device counts for login only once Confirm has seen
// its first code, and lapses after Config.Devices.PendingTTL.
//
// An account has one enrolment at a time: Enroll first discards the
// account's pending devices (each reported as EventRevoked), so an
// abandoned enrolment - a reloaded page, a closed tab - never blocks a new
// one or counts toward Config.Devices.Max. A confirmed device is never
// discarded, even one confirmed a moment before.
//
// Errors: ErrInvalidAccount, ErrInvalidLabel, ErrInvalidOptions,
// ErrTooManyDevices (confirmed and unexpired pending devices count),
// ErrInvalidURI (the AccountName, by default the account, cannot go in an
// otpauth:// URI: it holds a ':' or a control or format character such as
// a bidi override, or begins or ends with a space - the checks of Key.URI;
// set EnrollOptions.AccountName).
func (d *Devices) Enroll(ctx context.Context, account, label string, o EnrollOptions) (*Enrollment, error) {
	s, err := NewSecret()
	if err != nil {
		return nil, err
	}
	e, _, err := d.add(ctx, account, label, o.Type, o.Options, o.AccountName, s, 0, false)
	return e, err
}

// Import adds an existing key (a migration from another system) as a
// confirmed device: it counts for login at once. For HOTP keys,
// Key.Counter is the next counter expected. The Change reports whether it
// turned two-factor authentication on (see the lifecycle table in
// lifecycle.go). Errors as for Enroll, plus ErrInvalidSecret.
func (d *Devices) Import(ctx context.Context, account, label string, k Key) (DeviceInfo, Change, error) {
	if k.Secret.IsZero() {
		return DeviceInfo{}, Change{}, &SecretError{Reason: ErrSecretTooShort, Offset: -1}
	}
	counter := uint64(0)
	if k.Type == TypeHOTP {
		counter = k.Counter
	}
	e, ch, err := d.add(ctx, account, label, k.Type, k.Options(), k.Account, k.Secret, counter, true)
	if err != nil {
		return DeviceInfo{}, Change{}, err
	}
	return e.Device, ch, nil
}

func (d *Devices) add(ctx context.Context, account, label string, typ Type, o Options, name string, s Secret, counter uint64, confirmed bool) (*Enrollment, Change, error) {
	if err := validAccount(account); err != nil {
		return nil, Change{}, err
	}
	label, err := normalizeLabel(label)
	if err != nil {
		return nil, Change{}, err
	}
	if typ != TypeTOTP && typ != TypeHOTP {
		return nil, Change{}, optionsError("unknown device type %d", uint8(typ))
	}
	if o, err = o.resolved(typ == TypeTOTP); err != nil {
		return nil, Change{}, err
	}
	if name == "" {
		name = account
	}
	key := Key{Type: typ, Issuer: d.c.Issuer, Account: name, Secret: s,
		Algorithm: o.Algorithm, Digits: o.Digits, Period: o.Period, Counter: counter}
	if typ == TypeTOTP && !o.T0.Equal(time.Unix(0, 0)) {
		return nil, Change{}, optionsError("devices use T0 = Unix epoch (otpauth:// URIs cannot carry another)")
	}
	if _, err := key.URI(); err != nil {
		return nil, Change{}, err
	}
	id, err := newID()
	if err != nil {
		return nil, Change{}, err
	}
	now := d.c.Clock.Now()
	dev := Device{
		ID: id, Account: account, Label: label, Type: typ,
		Algorithm: o.Algorithm, Digits: o.Digits,
		State: DevicePending, Counter: counter, CreatedAt: now,
	}
	if typ == TypeTOTP {
		dev.Period = o.Period
	}
	if dev.Sealed, err = sealSecret(d.c.Keyring, account, dev.sealBinding(), s); err != nil {
		return nil, Change{}, err
	}
	if confirmed {
		dev.State = DeviceConfirmed
		dev.ConfirmedAt = now
	} else {
		dev.ExpiresAt = now.Add(d.c.Devices.PendingTTL)
	}
	if dev.MAC, err = d.c.deviceMAC(&dev); err != nil {
		return nil, Change{}, fmt.Errorf("twofa: enrol: %w", err)
	}
	insert := func(ctx context.Context) error {
		if err := d.c.Store.InsertDevice(ctx, dev, d.c.Devices.Max, now); err != nil {
			if errors.Is(err, ErrLimitReached) {
				return ErrTooManyDevices
			}
			return fmt.Errorf("twofa: enrol: %w", err)
		}
		return nil
	}
	var ch Change
	if confirmed {
		// An imported device is a second factor at once: through the
		// lifecycle.
		ch, err = d.c.change(ctx, account, func(ctx context.Context) (bool, error) {
			if err := insert(ctx); err != nil {
				return false, err
			}
			d.c.Events.emit(ctx, Event{Type: EventImported, Account: account, DeviceID: id, Time: now})
			return false, nil
		})
		if err != nil {
			return nil, Change{}, err
		}
	} else {
		if err := d.discardPending(ctx, account, now); err != nil {
			return nil, Change{}, err
		}
		if err := insert(ctx); err != nil {
			return nil, Change{}, err
		}
		d.c.Events.emit(ctx, Event{Type: EventEnrolled, Account: account, DeviceID: id, Time: now})
	}
	return &Enrollment{Device: dev.info(), Key: key}, ch, nil
}

// Confirm proves a pending device with its first code; only then does it
// count for login. The code is consumed (it cannot be replayed at login).
// A TOTP device's clock offset within the skew is remembered.
//
// An enrolment has Config.Devices.ConfirmAttempts tries: each well-formed code is
// counted (ReserveDeviceAttempt) before it is evaluated, the right one
// included, so a right code on try ConfirmAttempts or earlier confirms the
// device, and ConfirmAttempts wrong codes discard the enrolment. Counting
// first holds under concurrency: of any number of parallel submissions at
// most ConfirmAttempts are evaluated, and the rest report
// ErrEnrollmentExpired (or ErrAlreadyConfirmed, once one of them has
// confirmed the device). (A right code racing the last, wrong, try may find
// the enrolment discarded: ErrNotFound.) Malformed input is not counted.
//
// Errors: ErrInvalidAccount, ErrNotFound (also for a malformed id, see
// MaxIDLen: nothing is looked up), ErrAlreadyConfirmed, ErrEnrollmentExpired (also once the
// tries are used up, which discards the enrolment), ErrMalformedCode,
// ErrInvalidCode.
func (d *Devices) Confirm(ctx context.Context, account, id, code string) (Change, error) {
	if err := validAccount(account); err != nil {
		return Change{}, err
	}
	if err := validID("confirm", id); err != nil {
		return Change{}, err
	}
	dev, err := d.c.Store.Device(ctx, account, id)
	if err != nil {
		return Change{}, fmt.Errorf("twofa: confirm: %w", err)
	}
	if _, err := d.c.checkDevice(ctx, &dev); err != nil {
		return Change{}, fmt.Errorf("twofa: confirm: %w", err)
	}
	now := d.c.Clock.Now()
	switch {
	case dev.State == DeviceConfirmed:
		return Change{}, ErrAlreadyConfirmed
	case !now.Before(dev.ExpiresAt):
		return Change{}, ErrEnrollmentExpired
	case dev.Attempts >= d.c.Devices.ConfirmAttempts:
		return Change{}, ErrEnrollmentExpired
	}
	if !looksLikeCode(code, dev.Digits) {
		return Change{}, ErrMalformedCode
	}
	g, err := d.c.generator(dev)
	if err != nil {
		return Change{}, err
	}
	defer g.wipe()
	// Reserve the try before evaluating the code: the read above is stale
	// under concurrency, the reservation is not.
	dev, err = d.reserveAttempt(ctx, dev)
	if err != nil {
		return Change{}, err
	}
	n := dev.Attempts
	matched, drift, err := g.window(code, now, dev.Counter, d.c.Codes.Skew, d.c.Codes.LookAhead)
	if err != nil {
		if errors.Is(err, ErrInvalidCode) {
			d.c.Events.emit(ctx, Event{Type: EventEnrollmentFailed, Account: account, DeviceID: id, Time: now, Failures: n})
			if n >= d.c.Devices.ConfirmAttempts {
				// The last try was wrong: discard the enrolment, unless
				// a concurrent earlier try confirmed it.
				if _, derr := d.c.Store.DeletePendingDevice(ctx, account, id); derr != nil && !errors.Is(derr, ErrNotFound) {
					return Change{}, fmt.Errorf("twofa: confirm: %w", derr)
				}
				return Change{}, ErrEnrollmentExpired
			}
		}
		return Change{}, err
	}
	// The confirmation goes through the lifecycle: it may turn two-factor
	// authentication on.
	return d.c.change(ctx, account, func(ctx context.Context) (bool, error) {
		// A compare-and-set on the MAC: a concurrent reservation moves
		// it, and the device is read (and authenticated) again.
		for try := 0; ; try++ {
			next := dev
			next.State, next.Counter, next.Drift, next.ExpiresAt = DeviceConfirmed, matched+1, drift, time.Time{}
			mac, err := d.c.deviceMAC(&next)
			if err != nil {
				return false, fmt.Errorf("twofa: confirm: %w", err)
			}
			ok, err := d.c.Store.ConfirmDevice(ctx, account, id, matched+1, drift, now, d.c.Devices.ConfirmAttempts, dev.MAC, mac)
			if err != nil {
				return false, fmt.Errorf("twofa: confirm: %w", err)
			}
			if ok {
				break
			}
			// A concurrent Confirm won, the enrolment lapsed, or another
			// try was reserved meanwhile. (Not over the tries: this one
			// holds a reservation.)
			cur, err := d.c.Store.Device(ctx, account, id)
			if err != nil {
				return false, ErrEnrollmentExpired
			}
			if _, err := d.c.checkDevice(ctx, &cur); err != nil {
				return false, fmt.Errorf("twofa: confirm: %w", err)
			}
			switch {
			case cur.State == DeviceConfirmed:
				return false, ErrAlreadyConfirmed
			case !now.Before(cur.ExpiresAt), cur.Attempts > d.c.Devices.ConfirmAttempts, try > d.c.Devices.ConfirmAttempts:
				return false, ErrEnrollmentExpired
			}
			dev = cur
		}
		d.c.Events.emit(ctx, Event{Type: EventConfirmed, Account: account, DeviceID: id, Time: now})
		return false, nil
	})
}

// reserveAttempt counts one confirmation try against the pending device
// dev, whose MAC was verified (DeviceStore.ReserveDeviceAttempt), and
// returns the device as the reservation left it. The reservation is a
// compare-and-set on the MAC, so when a concurrent try moved it the
// device is read and authenticated again and the reservation retried:
// of any number of concurrent tries, at most ConfirmAttempts are counted,
// each exactly once. Errors: ErrAlreadyConfirmed, ErrEnrollmentExpired
// (every try taken), ErrTampered, a store error.
func (d *Devices) reserveAttempt(ctx context.Context, dev Device) (Device, error) {
	limit := d.c.Devices.ConfirmAttempts
	for try := 0; ; try++ {
		next := dev
		next.Attempts++
		mac, err := d.c.deviceMAC(&next)
		if err != nil {
			return Device{}, fmt.Errorf("twofa: confirm: %w", err)
		}
		_, ok, err := d.c.Store.ReserveDeviceAttempt(ctx, dev.Account, dev.ID, limit, dev.MAC, mac)
		if err != nil {
			return Device{}, fmt.Errorf("twofa: confirm: %w", err)
		}
		if ok {
			next.MAC = mac
			return next, nil
		}
		// Confirmed meanwhile, every try is taken, or a concurrent try
		// moved the MAC.
		cur, err := d.c.Store.Device(ctx, dev.Account, dev.ID)
		if err != nil {
			return Device{}, ErrEnrollmentExpired
		}
		if _, err := d.c.checkDevice(ctx, &cur); err != nil {
			return Device{}, fmt.Errorf("twofa: confirm: %w", err)
		}
		switch {
		case cur.State == DeviceConfirmed:
			return Device{}, ErrAlreadyConfirmed
		case cur.Attempts >= limit, try > limit:
			return Device{}, ErrEnrollmentExpired
		}
		dev = cur
	}
}

// List returns the account's devices, oldest first: confirmed ones and
// pending ones that have not lapsed.
func (d *Devices) List(ctx context.Context, account string) ([]DeviceInfo, error) {
	if err := validAccount(account); err != nil {
		return nil, err
	}
	devs, err := d.c.Store.Devices(ctx, account)
	if err != nil {
		return nil, fmt.Errorf("twofa: list devices: %w", err)
	}
	now := d.c.Clock.Now()
	out := make([]DeviceInfo, 0, len(devs))
	for _, dev := range devs {
		if dev.State == DevicePending && !now.Before(dev.ExpiresAt) {
			continue
		}
		out = append(out, dev.info())
	}
	return out, nil
}

// Rename sets a device's label. Errors: ErrInvalidAccount,
// ErrInvalidLabel, ErrNotFound (also for a malformed id, see MaxIDLen:
// nothing is looked up).
func (d *Devices) Rename(ctx context.Context, account, id, label string) error {
	if err := validAccount(account); err != nil {
		return err
	}
	if err := validID("rename device", id); err != nil {
		return err
	}
	label, err := normalizeLabel(label)
	if err != nil {
		return err
	}
	if err := d.c.Store.RenameDevice(ctx, account, id, label); err != nil {
		return fmt.Errorf("twofa: rename device: %w", err)
	}
	d.c.Events.emit(ctx, Event{Type: EventRenamed, Account: account, DeviceID: id, Time: d.c.Clock.Now()})
	return nil
}

// Revoke removes a device (pending or confirmed); its codes stop working at
// once. Revoking the account's last second factor (its last confirmed
// device, with no trusted record of an attached Factor left) turns
// two-factor authentication off: the account's recovery codes and
// app-specific passwords are voided too, then what every attached
// Dependent holds (trusted browsers, with package browser), and
// EventTwoFactorDisabled is reported (see the lifecycle table in
// lifecycle.go). Revoking a pending device (an abandoned enrolment) never
// does. The Change says which happened. Errors: ErrInvalidAccount,
// ErrNotFound (also for a malformed id, see MaxIDLen: nothing is looked
// up).
func (d *Devices) Revoke(ctx context.Context, account, id string) (Change, error) {
	if err := validAccount(account); err != nil {
		return Change{}, err
	}
	if err := validID("revoke device", id); err != nil {
		return Change{}, err
	}
	return d.c.change(ctx, account, func(ctx context.Context) (bool, error) {
		// The deleted device's state comes from the atomic delete: one
		// confirmed a moment before counts as confirmed.
		dev, _, err := d.c.Store.DeleteDevice(ctx, account, id)
		if err != nil {
			return false, fmt.Errorf("twofa: revoke device: %w", err)
		}
		d.c.Events.emit(ctx, Event{Type: EventRevoked, Account: account, DeviceID: id, Time: d.c.Clock.Now()})
		return dev.State == DeviceConfirmed, nil
	})
}

// discardPending removes the account's pending devices (abandoned
// enrolments). Each removal is conditional in the store, so a device
// confirmed meanwhile stays.
func (d *Devices) discardPending(ctx context.Context, account string, now time.Time) error {
	devs, err := d.c.Store.Devices(ctx, account)
	if err != nil {
		return fmt.Errorf("twofa: enrol: %w", err)
	}
	for _, dev := range devs {
		if dev.State != DevicePending {
			continue
		}
		removed, err := d.c.Store.DeletePendingDevice(ctx, account, dev.ID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("twofa: enrol: %w", err)
		}
		if removed {
			d.c.Events.emit(ctx, Event{Type: EventRevoked, Account: account, DeviceID: dev.ID, Time: now})
		}
	}
	return nil
}

// NewID returns a new random record id (128 bits, in lower-case base32),
// the form every manager gives its records and CheckID accepts.
func NewID() (string, error) { return newID() }

// newID returns a random 128-bit identifier in lower-case base32.
func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("twofa: reading random id: %w", err)
	}
	return idEncoding.EncodeToString(b[:]), nil
}
