package sqlstore_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/twofatest"
)

// idStore is a store the record-id tests run on.
type idStore struct {
	name string
	open func(tb testing.TB) twofa.Store
}

// idStores are memstore and every sqlstore backend: a malformed id must
// get the same answer from each.
func idStores() []idStore {
	out := []idStore{{name: "memstore", open: func(testing.TB) twofa.Store { return memstore.New() }}}
	for _, b := range backends() {
		out = append(out, idStore{name: b.name, open: func(tb testing.TB) twofa.Store { return b.open(tb) }})
	}
	return out
}

// idFixture is an account with one record of every kind, and the managers
// that take their ids.
type idFixture struct {
	env      *twofatest.Env
	store    twofa.Store
	devices  *twofa.Devices
	apps     *twofa.AppPasswords
	browsers *browser.Manager
	phones   *phone.Manager

	confirmedDevice, pendingDevice, appPassword, browser, pendingPhone, trustedPhone string
}

const idAccount = "alice"

func newIDFixture(t *testing.T, s twofa.Store) *idFixture {
	t.Helper()
	ctx := context.Background()
	env := twofatest.New(t)
	cfg := env.Config
	cfg.Store = s
	f := &idFixture{env: env, store: s}
	tf, err := twofa.New(cfg)
	must(t, err)
	f.browsers, err = browser.New(tf, browser.Config{Store: s.(browser.Store)})
	must(t, err)
	f.phones, err = phone.New(tf, phone.Config{Store: s.(phone.Store), Sender: env.Sender, OutOfBand: true})
	must(t, err)
	f.devices, f.apps = tf.Devices, tf.AppPasswords

	f.confirmedDevice = twofatest.EnrollDevice(t, f.devices, env.Clock, idAccount, twofa.EnrollOptions{}).ID
	e, err := f.devices.Enroll(ctx, idAccount, "pending", twofa.EnrollOptions{})
	must(t, err)
	f.pendingDevice = e.Device.ID
	_, ap, err := f.apps.Create(ctx, idAccount, "mail")
	must(t, err)
	f.appPassword = ap.ID
	_, br, err := f.browsers.Trust(ctx, idAccount, "Firefox")
	must(t, err)
	f.browser = br.ID

	trusted := phone.Number{E164: "+14155550142", CountryCode: 1}
	p, err := f.phones.Add(ctx, idAccount, trusted)
	must(t, err)
	f.trustedPhone = p.ID
	_, err = f.phones.SendCode(ctx, idAccount, p.ID, phone.SMS)
	must(t, err)
	must(t, errOf(f.phones.Confirm(ctx, idAccount, p.ID, env.Sender.Code(trusted.E164))))
	p, err = f.phones.Add(ctx, idAccount, phone.Number{E164: "+447700900123", CountryCode: 44})
	must(t, err)
	f.pendingPhone = p.ID
	_, err = f.phones.SendCode(ctx, idAccount, p.ID, phone.SMS)
	must(t, err)
	return f
}

// snapshot is everything the store holds for the account, as the store
// reports it, and the count of events reported so far.
func (f *idFixture) snapshot(t *testing.T) []any {
	t.Helper()
	ctx := context.Background()
	now := f.env.Clock.Now()
	devs, err := f.store.Devices(ctx, idAccount)
	must(t, err)
	apps, err := f.store.AppPasswords(ctx, idAccount)
	must(t, err)
	brs, err := f.store.(browser.Store).Browsers(ctx, idAccount)
	must(t, err)
	phs, err := f.store.(phone.Store).Phones(ctx, idAccount)
	must(t, err)
	verify, err := f.store.(phone.Store).LiveChallenges(ctx, idAccount, phone.PurposeConfirm, now)
	must(t, err)
	signIn, err := f.store.(phone.Store).LiveChallenges(ctx, idAccount, phone.PurposeSignIn, now)
	must(t, err)
	code, err := f.store.Throttle(ctx, idAccount, twofa.ScopeCode)
	must(t, err)
	return []any{devs, apps, brs, phs, verify, signIn, code, len(f.env.Events.Events()), len(f.env.Sender.Messages())}
}

// idMethods calls every exported method that takes a record id with id in
// place of the real one; the other arguments are valid.
func (f *idFixture) idMethods() map[string]func(ctx context.Context, id string) error {
	return map[string]func(context.Context, string) error{
		"Devices.Confirm": func(ctx context.Context, id string) error {
			return errOf(f.devices.Confirm(ctx, idAccount, id, "123456"))
		},
		"Devices.Rename": func(ctx context.Context, id string) error {
			return f.devices.Rename(ctx, idAccount, id, "renamed")
		},
		"Devices.Revoke": func(ctx context.Context, id string) error {
			return errOf(f.devices.Revoke(ctx, idAccount, id))
		},
		"AppPasswords.Revoke": func(ctx context.Context, id string) error {
			return f.apps.Revoke(ctx, idAccount, id)
		},
		"Browsers.Revoke": func(ctx context.Context, id string) error {
			return f.browsers.Revoke(ctx, idAccount, id)
		},
		"Phones.SendCode": func(ctx context.Context, id string) error {
			_, err := f.phones.SendCode(ctx, idAccount, id, phone.SMS)
			return err
		},
		"Phones.Confirm": func(ctx context.Context, id string) error {
			return errOf(f.phones.Confirm(ctx, idAccount, id, "123456"))
		},
		"Phones.Remove": func(ctx context.Context, id string) error {
			return errOf(f.phones.Remove(ctx, idAccount, id))
		},
	}
}

// realID returns the id of a record that method would act on.
func (f *idFixture) realID(method string) string {
	switch method {
	case "Devices.Confirm":
		return f.pendingDevice
	case "Devices.Rename", "Devices.Revoke":
		return f.confirmedDevice
	case "AppPasswords.Revoke":
		return f.appPassword
	case "Browsers.Revoke":
		return f.browser
	case "Phones.SendCode", "Phones.Remove":
		return f.trustedPhone
	case "Phones.Confirm":
		return f.pendingPhone
	}
	panic("no record for " + method)
}

// badIDs are ids no record can have; real is the id of a record, which
// some of them extend.
func badIDs(real string) map[string]string {
	return map[string]string{
		"empty":                  "",
		"1 MiB":                  strings.Repeat("a", 1<<20),
		"1 MiB after a real id":  real + strings.Repeat("a", 1<<20-len(real)),
		"MaxIDLen+1":             strings.Repeat("a", twofa.MaxIDLen+1),
		"NUL":                    "\x00",
		"real id and NUL":        real + "\x00",
		"NUL inside":             real[:4] + "\x00" + real[4:],
		"invalid UTF-8":          "\xff\xfe",
		"real id, invalid UTF-8": real + "\xc3",
		"overlong NUL":           real + "\xc0\x80",
		"newline":                real + "\n",
		"carriage return":        "\r" + real,
		"tab":                    real + "\t",
		"escape":                 "\x1b[31m" + real,
		"DEL":                    real + "\x7f",
		"C1 control":             real + "\u0085",
		"bidi override":          "\u202e" + real,
		"zero width":             real + "\u200b",
		"space":                  real + " ",
		"non-ASCII":              "é" + real,
	}
}

// TestMalformedIDs: every method that takes a record id answers an id that
// no issued id can be - empty, over MaxIDLen, non-UTF-8, with control or
// other characters outside the id alphabet - with ErrNotFound, on every
// store alike; the error is short and never quotes the id; and nothing
// is read or changed. The checks run with a live context (the account's
// records, events and sent messages are the same afterwards) and with a
// cancelled one (still ErrNotFound, not context.Canceled: the store was
// not reached).
func TestMalformedIDs(t *testing.T) {
	for _, st := range idStores() {
		t.Run(st.name, func(t *testing.T) {
			f := newIDFixture(t, st.open(t))
			before := f.snapshot(t)
			cancelled, cancel := context.WithCancel(context.Background())
			cancel()
			for method, call := range f.idMethods() {
				for name, id := range badIDs(f.realID(method)) {
					for _, ctx := range []context.Context{context.Background(), cancelled} {
						err := call(ctx, id)
						switch {
						case !errors.Is(err, twofa.ErrNotFound):
							t.Errorf("%s(id %s, cancelled %v) = %.200q, want ErrNotFound", method, name, ctx.Err() != nil, errText(err))
							continue
						case errors.Is(err, context.Canceled):
							t.Errorf("%s(id %s): %v: the store was reached", method, name, err)
						}
						if msg := err.Error(); len(msg) >= 200 || !utf8.ValidString(msg) || strings.IndexFunc(msg, unicode.IsControl) >= 0 {
							t.Errorf("%s(id %s): error of %d bytes: %.200q", method, name, len(msg), msg)
						} else if len(id) >= 4 && strings.Contains(msg, id) {
							t.Errorf("%s(id %s): the error quotes the id: %q", method, name, msg)
						}
					}
				}
			}
			if after := f.snapshot(t); !reflect.DeepEqual(before, after) {
				t.Errorf("malformed ids changed the store or reported events:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestWellFormedIDs: ids twofa never issues but a store may hold - written
// there directly, say by a migration from another system - still reach
// the store as long as they are well-formed: up to MaxIDLen bytes of
// ASCII letters, digits, '-', '_' and '.'. The records are found, changed
// and removed.
func TestWellFormedIDs(t *testing.T) {
	ids := []string{
		strings.Repeat("z", twofa.MaxIDLen),
		"0f8fad5b-d9cb-469f-a165-70867728950e",
		"01ARZ3NDEKTSV4RRFFQ69G5FAV",
		"dev_1.Legacy-ID",
		"7",
	}
	for _, st := range idStores() {
		t.Run(st.name, func(t *testing.T) {
			f := newIDFixture(t, st.open(t))
			ctx := context.Background()
			now := f.env.Clock.Now()
			for i, id := range ids {
				d := twofa.Device{ID: id, Account: idAccount, Label: "legacy", Type: twofa.TypeTOTP,
					Algorithm: twofa.SHA1, Digits: 6, Period: 30e9, State: twofa.DeviceConfirmed,
					Sealed: []byte{1}, CreatedAt: now, ConfirmedAt: now}
				mac, err := twofa.DeviceMAC(f.env.Config.Keyring, d)
				must(t, err)
				d.MAC = mac
				must(t, f.store.InsertDevice(ctx, d, 100, now))
				if err := f.devices.Rename(ctx, idAccount, id, "renamed"); err != nil {
					t.Errorf("Devices.Rename(%q): %v", id, err)
				}
				if _, err := f.devices.Confirm(ctx, idAccount, id, "123456"); !errors.Is(err, twofa.ErrAlreadyConfirmed) {
					t.Errorf("errOf(Devices.Confirm(%q)) = %v, want ErrAlreadyConfirmed", id, err)
				}
				if _, err := f.devices.Revoke(ctx, idAccount, id); err != nil {
					t.Errorf("errOf(Devices.Revoke(%q)): %v", id, err)
				}

				ap := twofa.AppPassword{ID: id, Account: idAccount, Label: "legacy " + id, Digest: []byte{byte(i), 1}, CreatedAt: now}
				must(t, f.store.InsertAppPassword(ctx, ap, 100))
				if err := f.apps.Revoke(ctx, idAccount, id); err != nil {
					t.Errorf("AppPasswords.Revoke(%q): %v", id, err)
				}

				br := browser.Record{ID: id, Account: idAccount, Label: "legacy", Digest: []byte{byte(i), 2},
					CreatedAt: now, ExpiresAt: now.Add(browser.DefaultTTL), LastUsedAt: now}
				_, err = f.store.(browser.Store).InsertBrowser(ctx, br, 100, now)
				must(t, err)
				if err := f.browsers.Revoke(ctx, idAccount, id); err != nil {
					t.Errorf("Browsers.Revoke(%q): %v", id, err)
				}

				ph := phone.Record{ID: id, Account: idAccount, Number: phone.Number{E164: "+1415555010" + string(rune('0'+i)), CountryCode: 1},
					State: phone.Pending, CreatedAt: now, ExpiresAt: now.Add(phone.PendingTTL)}
				must(t, f.store.(phone.Store).InsertPhone(ctx, ph, 100, now))
				// Stored as before the MACs: adopted by the upgrade step.
				if n, err := f.phones.UpgradeMACs(ctx); err != nil || n != 1 {
					t.Errorf("Phones.UpgradeMACs with %q = %d, %v; want 1, nil", id, n, err)
				}
				if _, err := f.phones.SendCode(ctx, idAccount, id, phone.SMS); err != nil {
					t.Errorf("Phones.SendCode(%q): %v", id, err)
				}
				if _, err := f.phones.Confirm(ctx, idAccount, id, f.env.Sender.Code(ph.Number.E164)); err != nil {
					t.Errorf("errOf(Phones.Confirm(%q)): %v", id, err)
				}
				if _, err := f.phones.Remove(ctx, idAccount, id); err != nil {
					t.Errorf("errOf(Phones.Remove(%q)): %v", id, err)
				}
			}
		})
	}
}
