package twofa_test

import (
	"bytes"
	"encoding/base64"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
)

// uriSecret parses a base32 test secret.
func uriSecret(t testing.TB, b32 string) twofa.Secret {
	t.Helper()
	s, err := twofa.ParseSecret(b32)
	require.NoError(t, err)
	return s
}

// The secrets of Google's Key URI format examples
// (https://github.com/google/google-authenticator/wiki/Key-Uri-Format).
const (
	uriGoogleSecret = "JBSWY3DPEHPK3PXP"                 // "Hello!\xde\xad\xbe\xef"
	uriACMESecret   = "HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ" // the "all optional parameters" example
	// uriErrSecret is the secret of the error cases: distinctive, so that
	// no error message can contain it by chance.
	uriErrSecret = "MZXW6YTBOI2DSNRXGEZTQMBVGI2DKNRQ"
)

func TestKeyURIBuild(t *testing.T) {
	google := uriSecret(t, uriGoogleSecret)
	acme := uriSecret(t, uriACMESecret)
	tests := []struct {
		name string
		key  twofa.Key
		want string
	}{
		{
			name: "google example, defaults written out",
			key:  twofa.Key{Issuer: "Example", Account: "alice@google.com", Secret: google},
			want: "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example&algorithm=SHA1&digits=6&period=30",
		},
		{
			// Byte for byte Google's example "with all optional parameters supplied".
			name: "google example with all parameters",
			key: twofa.Key{Issuer: "ACME Co", Account: "john.doe@email.com", Secret: acme,
				Algorithm: twofa.SHA1, Digits: 6, Period: 30 * time.Second},
			want: "otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30",
		},
		{
			name: "no issuer: the label is the account",
			key:  twofa.Key{Account: "alice", Secret: google},
			want: "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30",
		},
		{
			name: "sha512, 8 digits, 60 s",
			key: twofa.Key{Issuer: "Example", Account: "bob", Secret: google,
				Algorithm: twofa.SHA512, Digits: 8, Period: time.Minute},
			want: "otpauth://totp/Example:bob?secret=JBSWY3DPEHPK3PXP&issuer=Example&algorithm=SHA512&digits=8&period=60",
		},
		{
			name: "hotp carries counter, not period",
			key:  twofa.Key{Type: twofa.TypeHOTP, Issuer: "Example", Account: "bob", Secret: google, Algorithm: twofa.SHA256, Counter: 42},
			want: "otpauth://hotp/Example:bob?secret=JBSWY3DPEHPK3PXP&issuer=Example&algorithm=SHA256&digits=6&counter=42",
		},
		{
			name: "hotp counter zero is written (it is required)",
			key:  twofa.Key{Type: twofa.TypeHOTP, Account: "bob", Secret: google},
			want: "otpauth://hotp/bob?secret=JBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&counter=0",
		},
		{
			name: "hotp max counter",
			key:  twofa.Key{Type: twofa.TypeHOTP, Account: "bob", Secret: google, Counter: math.MaxUint64},
			want: "otpauth://hotp/bob?secret=JBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&counter=18446744073709551615",
		},
		{
			name: "reserved characters escaped, space as %20, plus as %2B",
			key:  twofa.Key{Issuer: "A&B ?#%/+=", Account: "x+y z@example.com;,!'", Secret: google},
			want: "otpauth://totp/A%26B%20%3F%23%25%2F%2B%3D:x%2By%20z@example.com%3B%2C%21%27?secret=JBSWY3DPEHPK3PXP&issuer=A%26B%20%3F%23%25%2F%2B%3D&algorithm=SHA1&digits=6&period=30",
		},
		{
			name: "unicode as percent-encoded UTF-8",
			key:  twofa.Key{Issuer: "Bücher", Account: "jürgen 日本", Secret: google},
			want: "otpauth://totp/B%C3%BCcher:j%C3%BCrgen%20%E6%97%A5%E6%9C%AC?secret=JBSWY3DPEHPK3PXP&issuer=B%C3%BCcher&algorithm=SHA1&digits=6&period=30",
		},
		{
			name: "unreserved characters kept",
			key:  twofa.Key{Issuer: "a-b.c_d~e", Account: "Z-9.x_y~@", Secret: google},
			want: "otpauth://totp/a-b.c_d~e:Z-9.x_y~@?secret=JBSWY3DPEHPK3PXP&issuer=a-b.c_d~e&algorithm=SHA1&digits=6&period=30",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.key.URI()
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestKeyURIBuildErrors(t *testing.T) {
	s := uriSecret(t, uriErrSecret)
	ok := twofa.Key{Issuer: "Example", Account: "alice", Secret: s}
	with := func(f func(*twofa.Key)) twofa.Key { k := ok; f(&k); return k }
	long := strings.Repeat("a", 257)
	tests := []struct {
		name    string
		key     twofa.Key
		part    string
		options bool // also matches ErrInvalidOptions
	}{
		{"unknown type", with(func(k *twofa.Key) { k.Type = 2 }), "type", false},
		{"no account", with(func(k *twofa.Key) { k.Account = "" }), "account", false},
		{"account too long", with(func(k *twofa.Key) { k.Account = long }), "account", false},
		{"account colon", with(func(k *twofa.Key) { k.Account = "a:b" }), "account", false},
		{"account colon without issuer", with(func(k *twofa.Key) { k.Issuer, k.Account = "", "Example:alice" }), "account", false},
		{"account newline", with(func(k *twofa.Key) { k.Account = "alice\nbob" }), "account", false},
		{"account DEL", with(func(k *twofa.Key) { k.Account = "alice\x7f" }), "account", false},
		{"account C1 control", with(func(k *twofa.Key) { k.Account = "alice\u0085" }), "account", false},
		{"account invalid utf-8", with(func(k *twofa.Key) { k.Account = "alice\xff" }), "account", false},
		{"account leading space", with(func(k *twofa.Key) { k.Account = " alice" }), "account", false},
		{"account trailing space", with(func(k *twofa.Key) { k.Account = "alice " }), "account", false},
		{"issuer too long", with(func(k *twofa.Key) { k.Issuer = long }), "issuer", false},
		{"issuer colon", with(func(k *twofa.Key) { k.Issuer = "Ex:ample" }), "issuer", false},
		{"issuer tab", with(func(k *twofa.Key) { k.Issuer = "Ex\tample" }), "issuer", false},
		{"issuer bidi override", with(func(k *twofa.Key) { k.Issuer = "Example\u202eelgoog" }), "issuer", false},
		{"issuer bidi isolate", with(func(k *twofa.Key) { k.Issuer = "\u2067Example" }), "issuer", false},
		{"issuer zero-width space", with(func(k *twofa.Key) { k.Issuer = "Exam\u200bple" }), "issuer", false},
		{"account right-to-left mark", with(func(k *twofa.Key) { k.Account = "alice\u200f" }), "account", false},
		{"account byte-order mark", with(func(k *twofa.Key) { k.Account = "\ufeffalice" }), "account", false},
		{"issuer trailing space", with(func(k *twofa.Key) { k.Issuer = "Example " }), "issuer", false},
		{"zero secret", with(func(k *twofa.Key) { k.Secret = twofa.Secret{} }), "secret", false},
		{"unknown algorithm", with(func(k *twofa.Key) { k.Algorithm = 3 }), "algorithm", true},
		{"5 digits", with(func(k *twofa.Key) { k.Digits = 5 }), "digits", true},
		{"9 digits", with(func(k *twofa.Key) { k.Digits = 9 }), "digits", true},
		{"negative digits", with(func(k *twofa.Key) { k.Digits = -6 }), "digits", true},
		{"fractional period", with(func(k *twofa.Key) { k.Period = 1500 * time.Millisecond }), "period", true},
		{"negative period", with(func(k *twofa.Key) { k.Period = -time.Second }), "period", true},
		{"period above max", with(func(k *twofa.Key) { k.Period = twofa.MaxPeriod + time.Second }), "period", true},
		{"hotp with period", with(func(k *twofa.Key) { k.Type, k.Period = twofa.TypeHOTP, time.Minute }), "period", true},
		{"totp with counter", with(func(k *twofa.Key) { k.Counter = 1 }), "counter", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			uri, err := tc.key.URI()
			require.Error(t, err)
			assert.Empty(t, uri)
			uriRequirePart(t, err, tc.part)
			assert.Equal(t, tc.options, errors.Is(err, twofa.ErrInvalidOptions), "matches ErrInvalidOptions")
			uriRequireNoSecret(t, err.Error(), s)
			// PNG validates the same way.
			_, err = tc.key.PNG(256)
			uriRequirePart(t, err, tc.part)
		})
	}
	// The limits themselves are accepted.
	k := with(func(k *twofa.Key) {
		k.Issuer, k.Account = long[:twofa.MaxIssuerLength], long[:twofa.MaxAccountLength]
		k.Digits, k.Period = twofa.MaxDigits, twofa.MaxPeriod
	})
	_, err := k.URI()
	require.NoError(t, err)
}

func uriRequirePart(t *testing.T, err error, part string) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, twofa.ErrInvalidURI)
	var ue *twofa.URIError
	require.ErrorAs(t, err, &ue)
	require.Equal(t, part, ue.Part, "error: %v", err)
	require.Contains(t, err.Error(), part)
}

func TestParseKeyURI(t *testing.T) {
	google := uriSecret(t, uriGoogleSecret)
	acme := uriSecret(t, uriACMESecret)
	padded := uriSecret(t, "AEBAGBAFAYDQQCIKBMGA") // 12 bytes
	totpKey := func(issuer, account string, s twofa.Secret) twofa.Key {
		return twofa.Key{Issuer: issuer, Account: account, Secret: s, Algorithm: twofa.SHA1, Digits: 6, Period: 30 * time.Second}
	}
	with := func(k twofa.Key, f func(*twofa.Key)) twofa.Key { f(&k); return k }
	tests := []struct {
		name string
		uri  string
		want twofa.Key
	}{
		// Google's examples (Key Uri Format wiki).
		{"google example", "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
			totpKey("Example", "alice@google.com", google)},
		{"google all parameters", "otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30",
			totpKey("ACME Co", "john.doe@email.com", acme)},
		{"google label Provider1:Alice%20Smith", "otpauth://totp/Provider1:Alice%20Smith?secret=JBSWY3DPEHPK3PXP",
			totpKey("Provider1", "Alice Smith", google)},
		{"google label with encoded colon, space and @", "otpauth://totp/Big%20Corporation%3A%20alice%40bigco.com?secret=JBSWY3DPEHPK3PXP",
			totpKey("Big Corporation", "alice@bigco.com", google)},
		// Where the issuer is.
		{"issuer only in label", "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP",
			totpKey("Example", "alice", google)},
		{"issuer only as parameter", "otpauth://totp/alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
			totpKey("Example", "alice@example.com", google)},
		{"issuer parameter with + for space", "otpauth://totp/ACME%20Co:alice?secret=JBSWY3DPEHPK3PXP&issuer=ACME+Co",
			totpKey("ACME Co", "alice", google)},
		{"form-encoded label and issuer", "otpauth://totp/ACME+Co:alice?secret=JBSWY3DPEHPK3PXP&issuer=ACME+Co",
			totpKey("ACME Co", "alice", google)},
		{"empty issuer parameter", "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=",
			totpKey("Example", "alice", google)},
		{"empty label prefix", "otpauth://totp/:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example",
			totpKey("Example", "alice", google)},
		{"no issuer at all", "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP",
			totpKey("", "alice", google)},
		// Labels.
		{"plus in label is literal", "otpauth://totp/alice+tag@example.com?secret=JBSWY3DPEHPK3PXP",
			totpKey("", "alice+tag@example.com", google)},
		{"lower-case escapes", "otpauth://totp/Example%3aalice%2fbob?secret=JBSWY3DPEHPK3PXP",
			totpKey("Example", "alice/bob", google)},
		{"spaces around the colon", "otpauth://totp/Example%20:%20%20alice?secret=JBSWY3DPEHPK3PXP&issuer=Example",
			totpKey("Example", "alice", google)},
		{"raw UTF-8 label", "otpauth://totp/Bücher:jürgen?secret=JBSWY3DPEHPK3PXP",
			totpKey("Bücher", "jürgen", google)},
		{"escaped UTF-8 label", "otpauth://totp/B%C3%BCcher:j%C3%BCrgen?secret=JBSWY3DPEHPK3PXP&issuer=B%C3%BCcher",
			totpKey("Bücher", "jürgen", google)},
		{"raw space in label", "otpauth://totp/ACME Co:alice smith?secret=JBSWY3DPEHPK3PXP",
			totpKey("ACME Co", "alice smith", google)},
		{"slash in label", "otpauth://totp/Org/Dept:alice?secret=JBSWY3DPEHPK3PXP",
			totpKey("Org/Dept", "alice", google)},
		// Case and parameters.
		{"upper-case scheme and type", "OTPAUTH://TOTP/Example:alice?secret=JBSWY3DPEHPK3PXP",
			totpKey("Example", "alice", google)},
		{"lower-case values", "otpauth://totp/Example:alice?secret=jbswy3dpehpk3pxp&algorithm=sha256&digits=8&period=60",
			with(totpKey("Example", "alice", google), func(k *twofa.Key) { k.Algorithm, k.Digits, k.Period = twofa.SHA256, 8, time.Minute })},
		{"upper-case parameter names", "otpauth://totp/Example:alice?SECRET=JBSWY3DPEHPK3PXP&Algorithm=SHA512",
			with(totpKey("Example", "alice", google), func(k *twofa.Key) { k.Algorithm = twofa.SHA512 })},
		{"unknown parameters ignored", "otpauth://totp/Example:alice?image=https%3A%2F%2Fexample.com%2Flogo.png&secret=JBSWY3DPEHPK3PXP&color=ff0000&lock=true&x&=y&%zz=1&image=again",
			totpKey("Example", "alice", google)},
		{"empty fields and trailing &", "otpauth://totp/Example:alice?&secret=JBSWY3DPEHPK3PXP&&",
			totpKey("Example", "alice", google)},
		{"empty encoder", "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&encoder=",
			totpKey("Example", "alice", google)},
		{"leading zeros", "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&digits=007&period=0030",
			with(totpKey("Example", "alice", google), func(k *twofa.Key) { k.Digits = 7 })},
		{"longest period", "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&period=86400",
			with(totpKey("Example", "alice", google), func(k *twofa.Key) { k.Period = twofa.MaxPeriod })},
		{"counter on totp ignored", "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&counter=5",
			totpKey("Example", "alice", google)},
		{"white space around the URI", " \totpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP\r\n",
			totpKey("Example", "alice", google)},
		// Only ASCII letters are case-folded: a name with U+017F (long s,
		// which Unicode folds to s) is an unknown parameter, ignored.
		{"long s in issuer name ignored", "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&i\u017f\u017fuer=Evil",
			totpKey("", "alice", google)},
		{"escaped long s in issuer name ignored", "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&i%C5%BF%C5%BFuer=Evil",
			totpKey("", "alice", google)},
		{"long s in secret name is no second secret", "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&\u017fecret=" + uriErrSecret,
			totpKey("Example", "alice", google)},
		{"long s in digits name ignored", "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&digit\u017f=8",
			totpKey("Example", "alice", google)},
		// Secrets.
		{"padded secret", "otpauth://totp/Example:alice?secret=AEBAGBAFAYDQQCIKBMGA====",
			totpKey("Example", "alice", padded)},
		{"lower-case padded secret", "otpauth://totp/Example:alice?secret=aebagbafaydqqcikbmga%3D%3D%3D%3D",
			totpKey("Example", "alice", padded)},
		{"secret in groups", "otpauth://totp/Example:alice?secret=jbsw%20y3dp+ehpk-3pxp",
			totpKey("Example", "alice", google)},
		// HOTP.
		{"hotp", "otpauth://hotp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example&counter=42",
			twofa.Key{Type: twofa.TypeHOTP, Issuer: "Example", Account: "alice", Secret: google, Algorithm: twofa.SHA1, Digits: 6, Counter: 42}},
		{"hotp without counter (as pquerna/otp writes it) starts at 0", "otpauth://hotp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example",
			twofa.Key{Type: twofa.TypeHOTP, Issuer: "Example", Account: "alice", Secret: google, Algorithm: twofa.SHA1, Digits: 6}},
		{"hotp max counter, period ignored", "otpauth://HOTP/alice?secret=JBSWY3DPEHPK3PXP&counter=18446744073709551615&period=30&digits=8",
			twofa.Key{Type: twofa.TypeHOTP, Account: "alice", Secret: google, Algorithm: twofa.SHA1, Digits: 8, Counter: math.MaxUint64}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := twofa.ParseKeyURI(tc.uri)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.True(t, tc.want.Secret.Equal(got.Secret), "secret")
			// Every parsed key builds again, to a URI that parses to the same key.
			uri, err := got.URI()
			require.NoError(t, err)
			again, err := twofa.ParseKeyURI(uri)
			require.NoError(t, err)
			assert.Equal(t, got, again)
		})
	}
}

func TestParseKeyURIErrors(t *testing.T) {
	s := uriSecret(t, uriErrSecret)
	const pre = "otpauth://totp/Example:alice?secret=" + uriErrSecret
	long := strings.Repeat("a", 257)
	tests := []struct {
		name   string
		uri    string
		part   string
		secret bool // also matches ErrInvalidSecret
	}{
		{"too long", pre + "&x=" + strings.Repeat("a", twofa.MaxURILength), "uri", false},
		{"NUL", pre + "&x=\x00", "uri", false},
		{"newline inside", "otpauth://totp/Example:al\nice?secret=" + uriErrSecret, "uri", false},
		{"fragment", pre + "#frag", "uri", false},
		{"fragment in label", "otpauth://totp/Example:a#b?secret=" + uriErrSecret, "uri", false},
		{"empty", "", "scheme", false},
		{"not a URI", uriErrSecret, "scheme", false},
		{"http", "https://totp/Example:alice?secret=" + uriErrSecret, "scheme", false},
		{"single slash", "otpauth:/totp/Example:alice?secret=" + uriErrSecret, "scheme", false},
		{"otpauth-migration", "otpauth-migration://offline?data=" + uriErrSecret, "scheme", false},
		{"unknown type", "otpauth://motp/Example:alice?secret=" + uriErrSecret, "type", false},
		{"empty type", "otpauth:///Example:alice?secret=" + uriErrSecret, "type", false},
		{"userinfo", "otpauth://user@totp/Example:alice?secret=" + uriErrSecret, "type", false},
		{"port", "otpauth://totp:80/Example:alice?secret=" + uriErrSecret, "type", false},
		{"no label", "otpauth://totp?secret=" + uriErrSecret, "label", false},
		{"no path", "otpauth://totp", "label", false},
		{"empty label", "otpauth://totp/?secret=" + uriErrSecret, "label", false},
		{"bad escape in label", "otpauth://totp/Example:al%zzice?secret=" + uriErrSecret, "label", false},
		{"truncated escape in label", "otpauth://totp/Example:alice%2?secret=" + uriErrSecret, "label", false},
		{"empty account", "otpauth://totp/Example:?secret=" + uriErrSecret, "account", false},
		{"blank account", "otpauth://totp/Example:%20%20?secret=" + uriErrSecret, "account", false},
		{"account with colon", "otpauth://totp/Example:alice:bob?secret=" + uriErrSecret, "account", false},
		{"account with escaped colon", "otpauth://totp/Example:alice%3Abob?secret=" + uriErrSecret, "account", false},
		{"account with control", "otpauth://totp/Example:alice%0Abob?secret=" + uriErrSecret, "account", false},
		{"account with bidi override", "otpauth://totp/Example:alice%E2%80%AEbob?secret=" + uriErrSecret, "account", false},
		{"account with raw zero-width space", "otpauth://totp/Example:alice\u200b?secret=" + uriErrSecret, "account", false},
		{"issuer with bidi override", "otpauth://totp/Example%E2%80%AE:alice?secret=" + uriErrSecret, "issuer", false},
		{"issuer with raw left-to-right mark", "otpauth://totp/\u200eExample:alice?secret=" + uriErrSecret, "issuer", false},
		{"issuer parameter with bidi isolate", "otpauth://totp/alice?secret=" + uriErrSecret + "&issuer=Ex%E2%81%A6ample", "issuer", false},
		{"issuer parameter with byte-order mark", "otpauth://totp/alice?secret=" + uriErrSecret + "&issuer=%EF%BB%BFExample", "issuer", false},
		{"account invalid UTF-8", "otpauth://totp/Example:alice%FF?secret=" + uriErrSecret, "account", false},
		{"account too long", "otpauth://totp/Example:" + long + "?secret=" + uriErrSecret, "account", false},
		{"issuer too long", "otpauth://totp/" + long + ":alice?secret=" + uriErrSecret, "issuer", false},
		{"issuer parameter too long", pre + "&issuer=" + long, "issuer", false},
		{"issuer mismatch", pre + "&issuer=Other", "issuer", false},
		{"issuer mismatch in case", pre + "&issuer=example", "issuer", false},
		{"issuer parameter with colon", "otpauth://totp/alice?secret=" + uriErrSecret + "&issuer=Ex%3Aample", "issuer", false},
		{"issuer parameter with control", "otpauth://totp/alice?secret=" + uriErrSecret + "&issuer=Ex%09ample", "issuer", false},
		{"duplicate issuer", pre + "&issuer=Example&issuer=Example", "issuer", false},
		{"missing secret", "otpauth://totp/Example:alice?issuer=Example", "secret", false},
		{"empty secret", "otpauth://totp/Example:alice?secret=&issuer=Example", "secret", false},
		{"secret bad character", "otpauth://totp/Example:alice?secret=" + uriErrSecret + "1", "secret", true},
		{"secret bad padding", "otpauth://totp/Example:alice?secret=" + uriErrSecret + "=", "secret", true},
		{"secret bad length", "otpauth://totp/Example:alice?secret=" + uriErrSecret + "A", "secret", true},
		{"secret too short", "otpauth://totp/Example:alice?secret=" + uriErrSecret[:8], "secret", true},
		{"secret too long", "otpauth://totp/Example:alice?secret=" + strings.Repeat(uriErrSecret, 9), "secret", true},
		{"secret bad escape", "otpauth://totp/Example:alice?secret=" + uriErrSecret + "%zz", "secret", false},
		{"duplicate secret", pre + "&secret=" + uriErrSecret, "secret", false},
		{"duplicate secret, other case", pre + "&Secret=" + uriErrSecret, "secret", false},
		{"unknown algorithm", pre + "&algorithm=MD5", "algorithm", false},
		{"algorithm with long s", pre + "&algorithm=\u017fha256", "algorithm", false},
		{"algorithm with escaped long s", pre + "&algorithm=%C5%BFHA512", "algorithm", false},
		{"algorithm with upper-case long s", pre + "&algorithm=\u017fHA1", "algorithm", false},
		{"secret name with long s", "otpauth://totp/Example:alice?\u017fecret=" + uriErrSecret, "secret", false},
		{"secret name with escaped long s", "otpauth://totp/Example:alice?%C5%BFECRET=" + uriErrSecret, "secret", false},
		{"algorithm with dash", pre + "&algorithm=SHA-256", "algorithm", false},
		{"empty algorithm", pre + "&algorithm=", "algorithm", false},
		{"duplicate algorithm", pre + "&algorithm=SHA1&algorithm=SHA256", "algorithm", false},
		{"5 digits", pre + "&digits=5", "digits", false},
		{"9 digits", pre + "&digits=9", "digits", false},
		{"digits word", pre + "&digits=six", "digits", false},
		{"digits sign", pre + "&digits=%2B6", "digits", false},
		{"digits negative", pre + "&digits=-6", "digits", false},
		{"digits empty", pre + "&digits=", "digits", false},
		{"digits overflow", pre + "&digits=18446744073709551622", "digits", false},
		{"period zero", pre + "&period=0", "period", false},
		{"period negative", pre + "&period=-30", "period", false},
		{"period with unit", pre + "&period=30s", "period", false},
		{"period fraction", pre + "&period=30.5", "period", false},
		{"period above max", pre + "&period=86401", "period", false},
		{"period huge", pre + "&period=99999999999999999999999", "period", false},
		{"period empty", pre + "&period=", "period", false},
		{"duplicate period", pre + "&period=30&period=30", "period", false},
		{"hotp empty counter", "otpauth://hotp/Example:alice?secret=" + uriErrSecret + "&counter=", "counter", false},
		{"hotp negative counter", "otpauth://hotp/Example:alice?secret=" + uriErrSecret + "&counter=-1", "counter", false},
		{"hotp counter overflow", "otpauth://hotp/Example:alice?secret=" + uriErrSecret + "&counter=18446744073709551616", "counter", false},
		{"hotp counter hex", "otpauth://hotp/Example:alice?secret=" + uriErrSecret + "&counter=0x10", "counter", false},
		{"hotp duplicate counter", "otpauth://hotp/Example:alice?secret=" + uriErrSecret + "&counter=1&counter=2", "counter", false},
		{"steam encoder", pre + "&encoder=steam", "encoder", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := twofa.ParseKeyURI(tc.uri)
			uriRequirePart(t, err, tc.part)
			assert.Equal(t, tc.secret, errors.Is(err, twofa.ErrInvalidSecret), "matches ErrInvalidSecret")
			assert.True(t, k.Secret.IsZero(), "no key on error")
			msg := err.Error()
			uriRequireNoSecret(t, msg, s)
			assert.NotContains(t, msg, uriErrSecret[:8], "error quotes the secret")
			assert.NotContains(t, msg, "otpauth://", "error echoes the URI")
			assert.NotContains(t, msg, "alice", "error echoes the label")
			assert.Less(t, len(msg), 160, "error too long: %s", msg)
		})
	}
}

// TestParseKeyURIFoldsASCIIOnly: every non-ASCII character that Unicode
// case folding equates with an ASCII letter (strings.EqualFold: the long s
// U+017F and the Kelvin sign U+212A), put in place of that letter in the
// scheme, the type, a parameter name or an algorithm value, makes it
// something ParseKeyURI does not know.
func TestParseKeyURIFoldsASCIIOnly(t *testing.T) {
	// The non-ASCII members of each ASCII letter's case-folding orbit.
	folds := map[byte][]rune{}
	for c := rune('a'); c <= 'z'; c++ {
		for r := unicode.SimpleFold(c); r != c; r = unicode.SimpleFold(r) {
			if r >= utf8.RuneSelf {
				folds[byte(c)] = append(folds[byte(c)], r)
				folds[byte(c-'a'+'A')] = append(folds[byte(c-'a'+'A')], r)
			}
		}
	}
	require.NotEmpty(t, folds['s'], "U+017F folds to s")
	require.NotEmpty(t, folds['k'], "U+212A folds to k")
	const base = "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&issuer=Example&algorithm=SHA256&digits=8&period=60"
	want, err := twofa.ParseKeyURI(base)
	require.NoError(t, err)
	// Each token of base that ParseKeyURI matches regardless of case.
	tokens := []string{"otpauth", "totp", "secret", "issuer", "algorithm", "SHA256", "digits", "period"}
	tried := 0
	for _, tok := range tokens {
		at := strings.Index(base, tok)
		require.GreaterOrEqual(t, at, 0, tok)
		for i := 0; i < len(tok); i++ {
			for _, r := range folds[tok[i]] {
				uri := base[:at] + tok[:i] + string(r) + tok[i+1:] + base[at+len(tok):]
				require.True(t, strings.EqualFold(uri, base), "%q folds to the original", uri)
				got, err := twofa.ParseKeyURI(uri)
				if err == nil {
					assert.NotEqual(t, want, got, "%q read as the original", uri)
				} else {
					assert.ErrorIs(t, err, twofa.ErrInvalidURI, uri)
				}
				tried++
			}
		}
	}
	assert.Positive(t, tried)

	// ASCII case still does not matter.
	got, err := twofa.ParseKeyURI(strings.ToUpper(base[:len("otpauth://totp/")]) + "alice?SECRET=JBSWY3DPEHPK3PXP&IsSuEr=Example&ALGORITHM=sha256&Digits=8&PERIOD=60")
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

// uriRequireNoSecret fails if out contains the secret in any usual
// encoding: base32 (either case), raw bytes, hex (either case), base64, or
// as fmt prints a byte slice.
func uriRequireNoSecret(t testing.TB, out string, s twofa.Secret) {
	t.Helper()
	raw := s.Bytes()
	b32 := s.Base32()
	forms := map[string]string{
		"base32":       b32,
		"base32 lower": strings.ToLower(b32),
		"raw":          string(raw),
		"hex":          hex.EncodeToString(raw),
		"HEX":          strings.ToUpper(hex.EncodeToString(raw)),
		"base64":       base64.StdEncoding.EncodeToString(raw),
		"%v bytes":     strings.Trim(fmt.Sprint(raw), "[]"),
		"%#v bytes":    strings.Trim(fmt.Sprintf("%#v", raw), "[]byte{}"),
	}
	for name, f := range forms {
		require.NotContains(t, out, f, "output contains the secret (%s)", name)
	}
}

// uriRand returns the random source of a property test, with its seed in
// the log so a failure can be replayed.
func uriRand(t *testing.T) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	return rand.New(rand.NewPCG(seed, 0x7572692e676f))
}

// uriNameRunes are the characters of random issuers and accounts: ASCII,
// every character with a meaning in URIs, and multi-byte UTF-8.
var uriNameRunes = []rune("abcXYZ019 @&?#%/+=;,!'\"()[]*$.-_~<>\\^`{|}éüß日本語😀\u00a0\u3000")

// uriRandName returns a name of at most maxBytes bytes that Key accepts
// (no colon, no control or format character, no leading or trailing
// space); empty when maxBytes is 0.
func uriRandName(r *rand.Rand, maxBytes int) string {
	var b strings.Builder
	for b.Len() < maxBytes {
		c := uriNameRunes[r.IntN(len(uriNameRunes))]
		if b.Len()+utf8.RuneLen(c) > maxBytes {
			break
		}
		b.WriteRune(c)
	}
	return strings.Trim(b.String(), " ")
}

func uriRandKey(t *testing.T, r *rand.Rand) twofa.Key {
	t.Helper()
	raw := make([]byte, 10+r.IntN(55)) // 10..64 bytes
	for i := range raw {
		raw[i] = byte(r.Uint32())
	}
	s, err := twofa.SecretFromBytes(raw)
	require.NoError(t, err)
	k := twofa.Key{
		Secret:    s,
		Algorithm: []twofa.Algorithm{twofa.SHA1, twofa.SHA256, twofa.SHA512}[r.IntN(3)],
		Digits:    twofa.MinDigits + r.IntN(twofa.MaxDigits-twofa.MinDigits+1),
	}
	for k.Account == "" {
		k.Account = uriRandName(r, 1+r.IntN(twofa.MaxAccountLength))
	}
	if r.IntN(4) > 0 {
		k.Issuer = uriRandName(r, r.IntN(twofa.MaxIssuerLength+1))
	}
	if r.IntN(2) == 0 {
		k.Type = twofa.TypeHOTP
		switch r.IntN(4) {
		case 0:
			k.Counter = 0
		case 1:
			k.Counter = math.MaxUint64 - uint64(r.IntN(3))
		default:
			k.Counter = r.Uint64() >> r.IntN(64)
		}
	} else {
		switch r.IntN(4) {
		case 0:
			k.Period = twofa.DefaultPeriod
		case 1:
			k.Period = twofa.MaxPeriod
		default:
			k.Period = time.Duration(1+r.IntN(int(twofa.MaxPeriod/time.Second))) * time.Second
		}
	}
	return k
}

func TestKeyURIRoundTrip(t *testing.T) {
	r := uriRand(t)
	n := 3000
	if testing.Short() {
		n = 300
	}
	for range n {
		k := uriRandKey(t, r)
		uri, err := k.URI()
		require.NoError(t, err, "%v", k)
		require.LessOrEqual(t, len(uri), twofa.MaxURILength)
		for i := 0; i < len(uri); i++ {
			if uri[i] <= 0x20 || uri[i] >= 0x7f {
				require.Failf(t, "URI is not printable ASCII", "byte %d is %#x", i, uri[i])
			}
		}
		got, err := twofa.ParseKeyURI(uri)
		require.NoError(t, err, "%v", k)
		require.Equal(t, k, got)
		require.True(t, k.Secret.Equal(got.Secret))
		again, err := got.URI()
		require.NoError(t, err)
		require.Equal(t, uri, again)
	}
}

// TestKeyURIPquerna checks that github.com/pquerna/otp, a widely used
// independent implementation, reads our URIs to the same key and computes
// the same codes from them.
func TestKeyURIPquerna(t *testing.T) {
	r := uriRand(t)
	algs := map[twofa.Algorithm]otp.Algorithm{twofa.SHA1: otp.AlgorithmSHA1, twofa.SHA256: otp.AlgorithmSHA256, twofa.SHA512: otp.AlgorithmSHA512}
	n := 1000
	if testing.Short() {
		n = 100
	}
	for range n {
		k := uriRandKey(t, r)
		uri, err := k.URI()
		require.NoError(t, err)
		pk, err := otp.NewKeyFromURL(uri)
		require.NoError(t, err)
		require.Equal(t, k.Type.String(), pk.Type(), "type of %v", k)
		require.Equal(t, k.Issuer, pk.Issuer(), "issuer of %v", k)
		require.Equal(t, k.Account, pk.AccountName(), "account of %v", k)
		require.Equal(t, k.Secret.Base32(), pk.Secret(), "secret of %v", k)
		require.Equal(t, algs[k.Algorithm], pk.Algorithm(), "algorithm of %v", k)
		require.Equal(t, k.Digits, pk.Digits().Length(), "digits of %v", k)
		opts := func(period uint) totp.ValidateOpts {
			return totp.ValidateOpts{Period: period, Digits: pk.Digits(), Algorithm: pk.Algorithm()}
		}
		if k.Type == twofa.TypeTOTP {
			require.Equal(t, uint64(k.Period/time.Second), pk.Period(), "period of %v", k)
			g, err := k.TOTP()
			require.NoError(t, err)
			at := time.Unix(r.Int64N(1<<33), 0)
			want, err := totp.GenerateCodeCustom(pk.Secret(), at, opts(uint(pk.Period())))
			require.NoError(t, err)
			got, err := g.Code(at)
			require.NoError(t, err)
			require.Equal(t, want, got, "code of %v at %v", k, at)
		} else {
			g, err := k.HOTP()
			require.NoError(t, err)
			want, err := hotp.GenerateCodeCustom(pk.Secret(), k.Counter, hotp.ValidateOpts{Digits: pk.Digits(), Algorithm: pk.Algorithm()})
			require.NoError(t, err)
			require.Equal(t, want, g.Code(k.Counter), "code of %v", k)
		}
	}
}

// uriDecodeQR decodes a PNG's QR code with gozxing, a port of ZXing, the
// decoder of many authenticator apps: first as a scanner does (finding the
// symbol by its finder patterns), then, if allowed and that failed, as a
// pure barcode (which still checks format, version and error correction).
// The fallback exists because gozxing's finder-pattern search misses about
// 1% of boombuler's valid symbols (zbarimg reads them); deterministic test
// keys must pass the scanner path.
func uriDecodeQR(t *testing.T, pngData []byte, allowPure bool) (string, image.Image) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(pngData))
	require.NoError(t, err)
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	require.NoError(t, err)
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil && allowPure {
		t.Logf("scanner-style decoding failed (%v); decoding as a pure barcode", err)
		res, err = qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	}
	require.NoError(t, err)
	return res.GetText(), img
}

func TestKeyPNG(t *testing.T) {
	r := uriRand(t)
	s := uriSecret(t, uriGoogleSecret)
	seq := make([]byte, twofa.MaxSecretSize)
	for i := range seq {
		seq[i] = byte(i * 37)
	}
	long, err := twofa.SecretFromBytes(seq)
	require.NoError(t, err)
	tests := []struct {
		name string
		key  twofa.Key
		size int
	}{
		{"short", twofa.Key{Account: "a", Secret: s}, twofa.MinPNGSize},
		{"google example", twofa.Key{Issuer: "Example", Account: "alice@google.com", Secret: s}, 256},
		{"long issuer", twofa.Key{Issuer: strings.TrimSpace(strings.Repeat("Long Issuer Name ", 15)), Account: "alice@example.com", Secret: s}, 512},
		{"sha512, 8 digits", twofa.Key{Issuer: "Example", Account: "alice", Secret: s, Algorithm: twofa.SHA512, Digits: 8, Period: time.Minute}, 300},
		{"hotp", twofa.Key{Type: twofa.TypeHOTP, Issuer: "Example", Account: "alice", Secret: s, Counter: math.MaxUint64}, 301},
		{"unicode", twofa.Key{Issuer: "Bücher 日本", Account: "jürgen", Secret: s}, 400},
		{"longest secret", twofa.Key{Issuer: "Example", Account: "alice", Secret: long}, 1000},
		{"random", uriRandKey(t, r), 1024},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, err := tc.key.URI()
			require.NoError(t, err)
			data, err := tc.key.PNG(tc.size)
			if tc.name == "random" && errors.Is(err, twofa.ErrQRCode) {
				t.Skipf("random key too long for a QR code: %v", err) // rare: 4 KB URIs of escaped UTF-8
			}
			require.NoError(t, err)
			require.True(t, bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")), "PNG magic")
			got, img := uriDecodeQR(t, data, tc.name == "random")
			require.Equal(t, want, got)
			require.Equal(t, image.Rect(0, 0, tc.size, tc.size), img.Bounds())
			uriRequireQuietZone(t, img)
			uriRequireNoSecret(t, fmt.Sprint(tc.key), tc.key.Secret)
		})
	}
}

// uriRequireQuietZone checks that the symbol is centred with at least the
// 4-module light margin of ISO/IEC 18004, and drawn with square modules of
// a whole number of pixels.
func uriRequireQuietZone(t *testing.T, img image.Image) {
	t.Helper()
	dark := func(x, y int) bool { r, _, _, _ := img.At(x, y).RGBA(); return r < 0x8000 }
	b := img.Bounds()
	box := image.Rectangle{Min: b.Max, Max: b.Min}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if dark(x, y) {
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	run := 0 // the top-left finder pattern's first row: 7 dark modules
	for x := box.Min.X; x < box.Max.X && dark(x, box.Min.Y); x++ {
		run++
	}
	require.Zero(t, run%7, "finder run %d", run)
	module := run / 7
	require.Equal(t, box.Dx(), box.Dy(), "square symbol")
	require.Zero(t, box.Dx()%module, "whole modules")
	for _, margin := range []int{box.Min.X, box.Min.Y, b.Max.X - box.Max.X, b.Max.Y - box.Max.Y} {
		require.GreaterOrEqual(t, margin, 4*module, "quiet zone of %v in %v", box, b)
	}
	require.InDelta(t, box.Min.X, b.Max.X-box.Max.X, 1, "centred")
}

func TestKeyPNGErrors(t *testing.T) {
	s := uriSecret(t, uriErrSecret)
	k := twofa.Key{Issuer: "Example", Account: "alice", Secret: s}
	for _, size := range []int{math.MinInt, -1, 0, 1, twofa.MinPNGSize - 1, twofa.MaxPNGSize + 1, math.MaxInt} {
		_, err := k.PNG(size)
		require.ErrorIs(t, err, twofa.ErrQRCode, "size %d", size)
		require.NotErrorIs(t, err, twofa.ErrInvalidURI)
	}
	// A long key's code does not fit in the smallest image, but does in a
	// larger one.
	big := twofa.Key{Issuer: strings.Repeat("I", 250), Account: strings.Repeat("a", 250), Secret: s}
	_, err := big.PNG(twofa.MinPNGSize)
	require.ErrorIs(t, err, twofa.ErrQRCode)
	uriRequireNoSecret(t, err.Error(), s)
	_, err = big.PNG(512)
	require.NoError(t, err)
	// The largest image.
	data, err := big.PNG(twofa.MaxPNGSize)
	require.NoError(t, err)
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	require.NoError(t, err)
	require.Equal(t, []int{twofa.MaxPNGSize, twofa.MaxPNGSize}, []int{cfg.Width, cfg.Height})
	// Longer than any QR code holds: 256 bytes of 4-byte runes are 768
	// bytes escaped, twice, and a 128-byte secret. The encoder's own error
	// quotes the content; ours must not.
	huge, err := twofa.NewSecretSize(twofa.MaxSecretSize)
	require.NoError(t, err)
	tooLong := twofa.Key{Issuer: strings.Repeat("😀", 64), Account: strings.Repeat("😀", 64), Secret: huge}
	uri, err := tooLong.URI()
	require.NoError(t, err)
	require.Greater(t, len(uri), 2331, "beyond version 40-M byte capacity")
	_, err = tooLong.PNG(twofa.MaxPNGSize)
	require.ErrorIs(t, err, twofa.ErrQRCode)
	require.NotContains(t, err.Error(), "otpauth")
	uriRequireNoSecret(t, err.Error(), huge)
}

func TestKeyGenerators(t *testing.T) {
	s := uriSecret(t, uriGoogleSecret)
	at := time.Unix(1_700_000_000, 0)

	k := twofa.Key{Issuer: "Example", Account: "alice", Secret: s, Algorithm: twofa.SHA256, Digits: 8, Period: time.Minute}
	require.Equal(t, twofa.Options{Algorithm: twofa.SHA256, Digits: 8, Period: time.Minute}, k.Options())
	g, err := k.TOTP()
	require.NoError(t, err)
	ref, err := twofa.NewTOTP(s, twofa.Options{Algorithm: twofa.SHA256, Digits: 8, Period: time.Minute})
	require.NoError(t, err)
	want, err := ref.Code(at)
	require.NoError(t, err)
	got, err := g.Code(at)
	require.NoError(t, err)
	require.Equal(t, want, got)
	_, err = k.HOTP()
	require.ErrorIs(t, err, twofa.ErrInvalidOptions)

	// Zero values: the defaults.
	g, err = twofa.Key{Account: "alice", Secret: s}.TOTP()
	require.NoError(t, err)
	require.Equal(t, twofa.DefaultDigits, g.Options().Digits)
	require.Equal(t, twofa.DefaultPeriod, g.Options().Period)

	h := twofa.Key{Type: twofa.TypeHOTP, Account: "alice", Secret: s, Counter: 7}
	hg, err := h.HOTP()
	require.NoError(t, err)
	href, err := twofa.NewHOTP(s, twofa.Options{})
	require.NoError(t, err)
	require.Equal(t, href.Code(7), hg.Code(h.Counter))
	_, err = h.TOTP()
	require.ErrorIs(t, err, twofa.ErrInvalidOptions)

	// The generators' own checks apply.
	_, err = twofa.Key{Type: twofa.TypeHOTP, Secret: s, Period: time.Minute}.HOTP()
	require.ErrorIs(t, err, twofa.ErrInvalidOptions)
	_, err = twofa.Key{Account: "alice"}.TOTP()
	require.ErrorIs(t, err, twofa.ErrInvalidSecret)
	_, err = twofa.Key{Type: 9, Secret: s}.TOTP()
	require.ErrorIs(t, err, twofa.ErrInvalidOptions)

	// A parsed key yields the same generator.
	pk, err := twofa.ParseKeyURI("otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&algorithm=SHA256&digits=8&period=60")
	require.NoError(t, err)
	pg, err := pk.TOTP()
	require.NoError(t, err)
	got, err = pg.Code(at)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func TestTypeString(t *testing.T) {
	assert.Equal(t, "totp", twofa.TypeTOTP.String())
	assert.Equal(t, "hotp", twofa.TypeHOTP.String())
	assert.Equal(t, "Type(7)", twofa.Type(7).String())
	assert.Equal(t, twofa.TypeTOTP, twofa.Type(0), "the zero Type is TOTP")
}

func TestKeyRedaction(t *testing.T) {
	s, err := twofa.NewSecret()
	require.NoError(t, err)
	keys := []twofa.Key{
		{Issuer: "Example", Account: "alice@example.com", Secret: s},
		{Type: twofa.TypeHOTP, Issuer: "Example", Account: "bob", Secret: s, Algorithm: twofa.SHA512, Digits: 8, Counter: 9},
	}
	for _, k := range keys {
		type exported struct{ K twofa.Key }
		type unexported struct{ k twofa.Key }
		type pointer struct{ K *twofa.Key }
		values := map[string]any{
			"Key":                k,
			"*Key":               &k,
			"struct":             exported{k},
			"unexported field":   unexported{k},
			"pointer field":      pointer{&k},
			"slice":              []twofa.Key{k},
			"map":                map[string]twofa.Key{"k": k},
			"interface in slice": []any{k, &k},
		}
		verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v", "%-8s", "%U"}
		for name, v := range values {
			for _, verb := range verbs {
				out := fmt.Sprintf(verb, v)
				uriRequireNoSecret(t, out, s)
				if name == "Key" || name == "*Key" {
					require.Contains(t, out, "REDACTED", "%s %s", name, verb)
				}
			}
		}

		str := k.String()
		uriRequireNoSecret(t, str, s)
		require.Contains(t, str, "secret=REDACTED")
		require.Contains(t, str, `issuer="Example"`)
		require.Contains(t, str, k.Type.String())
		require.Contains(t, str, k.Algorithm.String())
		gs := fmt.Sprintf("%#v", k)
		uriRequireNoSecret(t, gs, s)
		require.Contains(t, gs, "twofa.Secret(REDACTED)")
		require.Equal(t, str, fmt.Sprint(k))
		require.Equal(t, fmt.Sprintf("%q", str), fmt.Sprintf("%q", k))

		// slog, text and JSON, the key itself and inside a struct.
		for _, h := range []func(*bytes.Buffer) slog.Handler{
			func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
			func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		} {
			var buf bytes.Buffer
			log := slog.New(h(&buf))
			log.Info("enrol", "key", k, "ptr", &k, "wrapped", exported{k}, slog.Any("any", k))
			log.Info("group", slog.Group("g", "key", k))
			out := buf.String()
			uriRequireNoSecret(t, out, s)
			require.Contains(t, out, "REDACTED")
			require.Contains(t, out, k.Account)
		}

		// Marshalling refuses, alone and nested.
		for _, v := range []any{k, &k, exported{k}, []twofa.Key{k}} {
			out, err := json.Marshal(v)
			require.ErrorIs(t, err, twofa.ErrSecretMarshal)
			uriRequireNoSecret(t, string(out), s)
			uriRequireNoSecret(t, err.Error(), s)
		}
		_, err := k.MarshalText()
		require.ErrorIs(t, err, twofa.ErrSecretMarshal)
		var gb bytes.Buffer
		err = gob.NewEncoder(&gb).Encode(k)
		require.Error(t, err)
		uriRequireNoSecret(t, gb.String(), s)
	}
	// String shows the defaults of zero fields.
	assert.Equal(t, `twofa.Key{totp issuer="" account="a\n" algorithm=SHA1 digits=6 period=30s secret=REDACTED}`,
		twofa.Key{Account: "a\n", Secret: s}.String())
	assert.Equal(t, `twofa.Key{hotp issuer="I" account="a" algorithm=SHA256 digits=7 counter=3 secret=REDACTED}`,
		twofa.Key{Type: twofa.TypeHOTP, Issuer: "I", Account: "a", Algorithm: twofa.SHA256, Digits: 7, Counter: 3}.String())
	assert.Equal(t, `twofa.Key{Type:twofa.TypeTOTP, Issuer:"I", Account:"a", Secret:twofa.Secret(REDACTED), Algorithm:twofa.SHA1, Digits:0, Period:0, Counter:0}`,
		fmt.Sprintf("%#v", twofa.Key{Issuer: "I", Account: "a", Secret: s}))
}

// FuzzParseKeyURI checks that ParseKeyURI never panics, that its errors
// are *URIError values that do not echo the input, and that every key it
// accepts builds a URI that parses back to the same key and the same URI.
// The seed corpus is testdata/fuzz/FuzzParseKeyURI (read by go test).
func FuzzParseKeyURI(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParseKeyURI", "*"))
	require.NoError(f, err)
	require.GreaterOrEqual(f, len(seeds), 10, "seed corpus missing")
	f.Fuzz(func(t *testing.T, uri string) {
		k, err := twofa.ParseKeyURI(uri)
		if err != nil {
			require.ErrorIs(t, err, twofa.ErrInvalidURI)
			var ue *twofa.URIError
			require.ErrorAs(t, err, &ue)
			require.NotEmpty(t, ue.Part)
			// Messages are short and fixed: an echo of the input would
			// make them grow with it.
			require.Less(t, len(err.Error()), 160, "error: %v", err)
			return
		}
		// What a person sees is what the key holds: no control or format
		// character (such as a bidi override) in the names.
		for _, name := range []string{k.Issuer, k.Account} {
			for _, r := range name {
				require.False(t, unicode.IsControl(r) || unicode.Is(unicode.Cf, r), "accepted %U in %q", r, name)
			}
		}
		u, err := k.URI()
		require.NoError(t, err, "%#v", k)
		k2, err := twofa.ParseKeyURI(u)
		require.NoError(t, err, "%#v", k)
		require.Equal(t, k, k2)
		u2, err := k2.URI()
		require.NoError(t, err)
		require.Equal(t, u, u2)
	})
}
