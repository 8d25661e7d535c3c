package twofa_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/twofatest"
)

// validBadLabels are labels every method that takes one refuses with
// ErrInvalidLabel.
var validBadLabels = map[string]string{
	"empty":                 "",
	"spaces only":           "   ",
	"white space only":      " \t\n\r\v\f\u00a0\u2003",
	"65 characters":         strings.Repeat("a", twofa.MaxLabelLen+1),
	"65 multi-byte":         strings.Repeat("é", twofa.MaxLabelLen+1),
	"65 after trimming":     "  " + strings.Repeat("x", twofa.MaxLabelLen+1) + "  ",
	"newline":               "my\nphone",
	"carriage return":       "my\rphone",
	"tab inside":            "my\tphone",
	"NUL":                   "phone\x00",
	"escape":                "\x1b[31mphone",
	"DEL":                   "phone\x7f",
	"C1 control":            "phone\u0085x",
	"bidi override":         "phone\u202egnp.exe",
	"bidi isolate":          "phone\u2066",
	"zero-width joiner":     "pho\u200dne",
	"byte-order mark":       "\ufeffphone",
	"invalid UTF-8":         "phone\xff",
	"truncated UTF-8":       "phon\xc3",
	"surrogate half":        "ph\xed\xa0\x80one",
	"huge":                  strings.Repeat("a", 1<<20),
	"huge white space only": strings.Repeat(" ", 1<<20),
}

// validGoodLabels are accepted, trimmed to the value given.
var validGoodLabels = map[string]string{
	"phone":                             "phone",
	"  Alice's iPhone 15 Pro (work)  ":  "Alice's iPhone 15 Pro (work)",
	"\tYubiKey\n":                       "YubiKey",
	strings.Repeat("a", 64):             strings.Repeat("a", 64),
	strings.Repeat("日", 64):             strings.Repeat("日", 64),
	" " + strings.Repeat("😀", 64) + " ": strings.Repeat("😀", 64),
	"téléphone de Zoë":                  "téléphone de Zoë",
	"x":                                 "x",
	"a b":                               "a b",
}

func TestLabels(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	dev := env.EnrollTOTP("alice")
	key := twofa.Key{Secret: devSecret(t)}

	for name, label := range validBadLabels {
		_, err := env.Devices.Enroll(ctx, "alice", label, twofa.EnrollOptions{})
		assert.ErrorIs(t, err, twofa.ErrInvalidLabel, "Enroll: %s", name)
		_, _, err = env.Devices.Import(ctx, "alice", label, key)
		assert.ErrorIs(t, err, twofa.ErrInvalidLabel, "Import: %s", name)
		err = env.Devices.Rename(ctx, "alice", dev.ID, label)
		assert.ErrorIs(t, err, twofa.ErrInvalidLabel, "Rename: %s", name)
		if err != nil {
			assert.LessOrEqual(t, len(err.Error()), 100, "the error does not quote the label: %s", name)
		}
	}
	l := devList(t, env, "alice")
	require.Len(t, l, 1, "no bad label was stored")
	assert.Equal(t, "test device", l[0].Label)

	for label, want := range validGoodLabels {
		e, err := env.Devices.Enroll(ctx, "bob", label, twofa.EnrollOptions{})
		require.NoError(t, err, "%q", label)
		assert.Equal(t, want, e.Device.Label)
		require.NoError(t, errOf(env.Devices.Revoke(ctx, "bob", e.Device.ID)))

		d, _, err := env.Devices.Import(ctx, "bob", label, key)
		require.NoError(t, err, "%q", label)
		assert.Equal(t, want, d.Label)
		require.NoError(t, errOf(env.Devices.Revoke(ctx, "bob", d.ID)))

		require.NoError(t, env.Devices.Rename(ctx, "alice", dev.ID, label), "%q", label)
		assert.Equal(t, want, devList(t, env, "alice")[0].Label)
	}
}

// validBadAccounts are account identifiers every method refuses with
// ErrInvalidAccount.
var validBadAccounts = map[string]string{
	"empty":         "",
	"256 bytes":     strings.Repeat("a", twofa.MaxAccountIDLen+1),
	"huge":          strings.Repeat("a", 1<<20),
	"newline":       "alice\n",
	"NUL":           "alice\x00bob",
	"tab":           "alice\tbob",
	"escape":        "\x1b]0;alice",
	"DEL":           "alice\x7f",
	"C1 control":    "alice\u0085",
	"bidi override": "\u202ealice",
	"zero width":    "ali\u200bce",
	"invalid UTF-8": "alice\xff",
	"lone byte":     "\x80",
	"overlong NUL":  "alice\xc0\x80",
}

// validAccountMethods calls every method of Devices, TwoFA and
// RecoveryCodes that takes an account.
func validAccountMethods(env *twofatest.Env, deviceID string) map[string]func(ctx context.Context, account string) error {
	key := twofa.Key{Secret: mustSecret()}
	return map[string]func(context.Context, string) error{
		"Devices.Enroll": func(ctx context.Context, a string) error {
			_, err := env.Devices.Enroll(ctx, a, "phone", twofa.EnrollOptions{})
			return err
		},
		"Devices.Import": func(ctx context.Context, a string) error {
			_, _, err := env.Devices.Import(ctx, a, "phone", key)
			return err
		},
		"Devices.Confirm": func(ctx context.Context, a string) error {
			return errOf(env.Devices.Confirm(ctx, a, deviceID, "123456"))
		},
		"Devices.List": func(ctx context.Context, a string) error {
			_, err := env.Devices.List(ctx, a)
			return err
		},
		"TwoFA.Enabled": func(ctx context.Context, a string) error {
			_, err := env.TwoFA.Enabled(ctx, a)
			return err
		},
		"Devices.Rename": func(ctx context.Context, a string) error {
			return env.Devices.Rename(ctx, a, deviceID, "phone")
		},
		"Devices.Revoke": func(ctx context.Context, a string) error {
			return errOf(env.Devices.Revoke(ctx, a, deviceID))
		},
		"TwoFA.Verify code": func(ctx context.Context, a string) error {
			_, err := env.TwoFA.Verify(ctx, a, "123456")
			return err
		},
		"TwoFA.Verify recovery code": func(ctx context.Context, a string) error {
			_, err := env.TwoFA.Verify(ctx, a, "abcde-fghjk")
			return err
		},
		"TwoFA.Verify malformed": func(ctx context.Context, a string) error {
			_, err := env.TwoFA.Verify(ctx, a, "??")
			return err
		},
		"TwoFA.ResetThrottle": func(ctx context.Context, a string) error {
			return env.TwoFA.ResetThrottle(ctx, a)
		},
		"RecoveryCodes.Generate": func(ctx context.Context, a string) error {
			_, err := env.Recovery.Generate(ctx, a)
			return err
		},
		"RecoveryCodes.Remaining": func(ctx context.Context, a string) error {
			_, err := env.Recovery.Remaining(ctx, a)
			return err
		},
	}
}

func mustSecret() twofa.Secret {
	s, err := twofa.NewSecret()
	if err != nil {
		panic(err)
	}
	return s
}

func TestAccounts(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	dev := env.EnrollTOTP("alice")

	for method, call := range validAccountMethods(env, dev.ID) {
		for name, account := range validBadAccounts {
			err := call(ctx, account)
			require.ErrorIs(t, err, twofa.ErrInvalidAccount, "%s: %s", method, name)
			assert.Equal(t, twofa.ErrInvalidAccount.Error(), err.Error(), "%s: the error does not quote the account", method)
		}
	}
	assert.Len(t, env.Events.Events(), 3, "only the enrolment and confirmation of alice's device, which turned two-factor on")
	assert.Len(t, devList(t, env, "alice"), 1)

	// The longest account, and accounts with unusual but printable
	// characters, work everywhere.
	for _, account := range []string{
		strings.Repeat("a", twofa.MaxAccountIDLen),
		strings.Repeat("é", twofa.MaxAccountIDLen/2),
		"alice@example.com",
		"Ünïcödé 日本 😀",
		"a b",
		"0",
		"user/42?x=1&y=%20#frag",
	} {
		d := env.EnrollTOTP(account)
		_, err := env.TwoFA.Verify(ctx, account, d.Code())
		require.NoError(t, err, "%q", account)
		codes, err := env.Recovery.Generate(ctx, account)
		require.NoError(t, err)
		_, err = env.TwoFA.Verify(ctx, account, codes[0])
		require.NoError(t, err)
		_, err = env.TwoFA.Reseal(ctx)
		require.NoError(t, err)
		require.NoError(t, errOf(env.Devices.Revoke(ctx, account, d.ID)))
	}
}

// TestAccountsAreDistinct checks that accounts differing only in case,
// normalisation or white space are different accounts: twofa compares
// identifiers byte for byte and leaves normalising them to the caller.
func TestAccountsAreDistinct(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	env.EnrollTOTP("alice")
	for _, other := range []string{"Alice", "ALICE", "alice ", " alice", "alicé", "ali\u0301ce"} {
		enabled, err := env.TwoFA.Enabled(ctx, other)
		require.NoError(t, err)
		assert.False(t, enabled, "%q", other)
	}
}

// TestAccountNotShowable: an account identifier that the otpauth:// label
// cannot carry (a ':' separates issuer and account there; apps trim
// spaces) is a valid account, but Enroll needs an AccountName for it.
func TestAccountNotShowable(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	for _, account := range []string{"tenant:42", " padded ", "trailing "} {
		_, err := env.Devices.Enroll(ctx, account, "phone", twofa.EnrollOptions{})
		require.ErrorIs(t, err, twofa.ErrInvalidURI, "%q", account)
		enabled, err := env.TwoFA.Enabled(ctx, account)
		require.NoError(t, err)
		assert.False(t, enabled, "nothing stored")

		d := twofatest.EnrollDevice(t, env.Devices, env.Clock, account, twofa.EnrollOptions{AccountName: "alice@example.com"})
		assert.Equal(t, "alice@example.com", d.Key.Account)
		_, err = env.TwoFA.Verify(ctx, account, d.Code())
		require.NoError(t, err, "%q", account)
	}
}

// TestStoredIDsInErrors: an id read from the store goes into an error
// message as it is when well-formed, and escaped and cut short when not
// (a store may hold records twofa did not write).
func TestStoredIDsInErrors(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		id   string
		want string // in the error
	}{
		"huge, with controls": {id: "\x1b[31m" + strings.Repeat("x\x00", 1<<19), want: `"\x1b[31mx\x00x\x00x\x00x\x00x\x00x"...`},
		"invalid UTF-8":       {id: "dev\xff", want: `"dev\xff"`},
		"well-formed":         {id: "legacy-device_1.0", want: "legacy-device_1.0"},
	} {
		env := twofatest.New(t)
		ctx := t.Context()
		now := env.Clock.Now()
		d := twofa.Device{ID: tc.id, Account: "alice", Label: "legacy", Type: twofa.TypeTOTP,
			Algorithm: twofa.SHA1, Digits: 6, Period: 30 * time.Second, State: twofa.DeviceConfirmed,
			Sealed: []byte("not a sealed secret"), CreatedAt: now, ConfirmedAt: now}
		require.NoError(t, env.Store.InsertDevice(ctx, d, 10, now))

		_, err := env.TwoFA.Verify(ctx, "alice", "123456")
		require.Error(t, err, name)
		assert.Less(t, len(err.Error()), 200, "%s: Verify: %.200q", name, err)
		assert.Contains(t, err.Error(), tc.want, "%s: Verify", name)

		_, err = env.TwoFA.Reseal(ctx)
		require.Error(t, err, name)
		assert.Less(t, len(err.Error()), 200, "%s: Reseal: %.200q", name, err)
		assert.Contains(t, err.Error(), tc.want, "%s: Reseal", name)
	}
}

// validHiddenRunes are format characters (Unicode Cf) that make a name
// display as something other than what it is: bidi controls, zero-width
// characters, the byte-order mark, the soft hyphen.
var validHiddenRunes = map[string]rune{
	"right-to-left override":    '\u202e',
	"left-to-right override":    '\u202d',
	"left-to-right embedding":   '\u202a',
	"right-to-left embedding":   '\u202b',
	"pop directional format":    '\u202c',
	"left-to-right mark":        '\u200e',
	"right-to-left mark":        '\u200f',
	"arabic letter mark":        '\u061c',
	"left-to-right isolate":     '\u2066',
	"right-to-left isolate":     '\u2067',
	"first strong isolate":      '\u2068',
	"pop directional isolate":   '\u2069',
	"zero-width space":          '\u200b',
	"zero-width non-joiner":     '\u200c',
	"zero-width joiner":         '\u200d',
	"word joiner":               '\u2060',
	"byte-order mark":           '\ufeff',
	"soft hyphen":               '\u00ad',
	"mongolian vowel separator": '\u180e',
	"line separator":            '\u2028',
	"paragraph separator":       '\u2029',
}

// TestShownNamesRefuseFormatCharacters: an issuer or account name that an
// authenticator app or a text message shows is refused, wherever it
// enters, when it holds a format character - an issuer "Example" + U+202E
// + "elgoog" would show as "Examplegoogle". The errors are the usual
// typed ones and do not quote the name.
func TestShownNamesRefuseFormatCharacters(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	s := devSecret(t)
	const secret = "JBSWY3DPEHPK3PXP"
	for name, r := range validHiddenRunes {
		h := string(r)
		for _, bad := range []string{"Exam" + h + "ple", h + "Example", "Example" + h} {
			refused := func(what string, err error) {
				t.Helper()
				require.Error(t, err, "%s: %s in %q", what, name, bad)
				assert.NotContains(t, err.Error(), h, "%s: %s: the error quotes the name", what, name)
				assert.NotContains(t, err.Error(), "Exam", "%s: %s: the error quotes the name", what, name)
			}
			uriPart := func(what string, err error, part string) {
				t.Helper()
				refused(what, err)
				uriRequirePart(t, err, part)
			}

			// Building a key's URI and QR code.
			_, err := twofa.Key{Issuer: bad, Account: "user", Secret: s}.URI()
			uriPart("Key.URI issuer", err, "issuer")
			_, err = twofa.Key{Issuer: "Service", Account: bad, Secret: s}.URI()
			uriPart("Key.URI account", err, "account")
			_, err = twofa.Key{Type: twofa.TypeHOTP, Account: bad, Secret: s}.PNG(256)
			uriPart("Key.PNG account", err, "account")

			// Parsing a URI: raw and percent-encoded, in the label and the
			// issuer parameter.
			for what, uri := range map[string]string{
				"label issuer":         "otpauth://totp/" + bad + ":user?secret=" + secret,
				"escaped label issuer": "otpauth://totp/" + url.PathEscape(bad) + ":user?secret=" + secret,
				"issuer parameter":     "otpauth://totp/user?secret=" + secret + "&issuer=" + url.QueryEscape(bad),
				"both issuers":         "otpauth://totp/" + url.PathEscape(bad) + ":user?secret=" + secret + "&issuer=" + url.QueryEscape(bad),
			} {
				_, err := twofa.ParseKeyURI(uri)
				uriPart("ParseKeyURI "+what, err, "issuer")
			}
			for what, uri := range map[string]string{
				"account":         "otpauth://totp/Service:" + bad + "?secret=" + secret,
				"escaped account": "otpauth://totp/Service:" + url.PathEscape(bad) + "?secret=" + secret,
				"account alone":   "otpauth://hotp/" + url.PathEscape(bad) + "?secret=" + secret,
			} {
				_, err := twofa.ParseKeyURI(uri)
				uriPart("ParseKeyURI "+what, err, "account")
			}

			// The Config's issuer, which Devices puts in keys and package
			// phone in text messages.
			c := env.Config
			c.Issuer = bad
			_, err = newDevices(c)
			refused("NewDevices", err)
			require.ErrorIs(t, err, twofa.ErrConfig)

			// The account name Enroll and Import put in the key, the
			// account identifier, and the device label.
			_, err = env.Devices.Enroll(ctx, "user-42", "phone", twofa.EnrollOptions{AccountName: bad})
			refused("Enroll AccountName", err)
			require.ErrorIs(t, err, twofa.ErrInvalidURI)
			_, _, err = env.Devices.Import(ctx, "user-42", "phone", twofa.Key{Account: bad, Secret: s})
			refused("Import Key.Account", err)
			require.ErrorIs(t, err, twofa.ErrInvalidURI)
			_, err = env.Devices.Enroll(ctx, bad, "phone", twofa.EnrollOptions{})
			refused("Enroll account", err)
			require.ErrorIs(t, err, twofa.ErrInvalidAccount)
			if !unicode.IsSpace(r) || strings.TrimSpace(bad) == bad {
				// (A label's leading and trailing white space, the line
				// and paragraph separators among it, is trimmed.)
				_, err = env.Devices.Enroll(ctx, "user-42", bad, twofa.EnrollOptions{AccountName: "user"})
				refused("Enroll label", err)
				require.ErrorIs(t, err, twofa.ErrInvalidLabel)
			}
		}
	}
	assert.Empty(t, devList(t, env, "user-42"), "nothing was stored")
	assert.Empty(t, env.Events.Events())

	// The same names without the format character are fine everywhere.
	c := env.Config
	c.Issuer = "Example"
	_, err := newDevices(c)
	require.NoError(t, err)
	k, err := twofa.ParseKeyURI("otpauth://totp/Example:Example?secret=" + secret)
	require.NoError(t, err)
	assert.Equal(t, "Example", k.Issuer)
	e, err := env.Devices.Enroll(ctx, "user-42", "phone", twofa.EnrollOptions{AccountName: "Example"})
	require.NoError(t, err)
	assert.Equal(t, "Example", e.Key.Account)
}
