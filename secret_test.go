package twofa_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
)

// secretStdB32 is the reference canonical encoding, independent of the library.
var secretStdB32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func secretRandomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

func TestNewSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		s, err := twofa.NewSecret()
		require.NoError(t, err)
		require.False(t, s.IsZero())
		require.Equal(t, twofa.DefaultSecretSize, s.Len())
		require.Len(t, s.Bytes(), 20)
		b := s.Base32()
		require.Len(t, b, 32, "160 bits are 32 base32 symbols")
		require.False(t, seen[b], "NewSecret repeated a secret")
		seen[b] = true
	}
}

func TestNewSecretSize(t *testing.T) {
	for _, n := range []int{twofa.MinGeneratedSecretSize, 20, 32, 64, twofa.MaxSecretSize} {
		s, err := twofa.NewSecretSize(n)
		require.NoError(t, err, "size %d", n)
		require.Equal(t, n, s.Len())
		s2, err := twofa.NewSecretSize(n)
		require.NoError(t, err)
		require.False(t, s.Equal(s2), "two random secrets of %d bytes are equal", n)
	}
	for _, c := range []struct {
		n      int
		reason error
	}{
		{math.MinInt, twofa.ErrSecretTooShort},
		{-1, twofa.ErrSecretTooShort},
		{0, twofa.ErrSecretTooShort},
		{twofa.MinSecretSize, twofa.ErrSecretTooShort}, // enough to import, too little to generate
		{twofa.MinGeneratedSecretSize - 1, twofa.ErrSecretTooShort},
		{twofa.MaxSecretSize + 1, twofa.ErrSecretTooLong},
		{1 << 30, twofa.ErrSecretTooLong},
		{math.MaxInt, twofa.ErrSecretTooLong},
	} {
		s, err := twofa.NewSecretSize(c.n)
		requireSecretError(t, err, c.reason, -1, fmt.Sprintf("NewSecretSize(%d)", c.n))
		require.True(t, s.IsZero())
	}
}

func requireSecretError(t *testing.T, err, reason error, offset int, msg string) {
	t.Helper()
	require.Error(t, err, msg)
	require.ErrorIs(t, err, twofa.ErrInvalidSecret, msg)
	require.ErrorIs(t, err, reason, msg)
	var se *twofa.SecretError
	require.ErrorAs(t, err, &se, msg)
	require.Equal(t, reason, se.Reason, msg)
	require.Equal(t, offset, se.Offset, msg)
	require.True(t, strings.HasPrefix(err.Error(), "twofa: invalid secret: "), "%s: message %q", msg, err)
}

// tolerantForms are the ways people and services write the base32 secret
// whose canonical (upper case, unpadded) form is c.
func tolerantForms(c string) map[string]string {
	padded := c
	if n := len(c) % 8; n != 0 {
		padded += strings.Repeat("=", 8-n)
	}
	group := func(s, sep string, n int) string {
		var parts []string
		for len(s) > n {
			parts = append(parts, s[:n])
			s = s[n:]
		}
		return strings.Join(append(parts, s), sep)
	}
	return map[string]string{
		"canonical":         c,
		"lower":             strings.ToLower(c),
		"mixed":             mixCase(c),
		"padded":            padded,
		"padded lower":      strings.ToLower(padded),
		"spaces of 4":       group(c, " ", 4),
		"lower spaces of 4": strings.ToLower(group(c, " ", 4)),
		"hyphens of 4":      group(c, "-", 4),
		"spaces of 3":       group(c, " ", 3),
		"padded groups":     group(padded, " ", 4),
		"surrounding space": "  " + c + " \t",
		"trailing newline":  c + "\n",
		"pasted":            "\t" + group(c, " ", 4) + "\r\n",
		"no-break spaces":   "\u00a0" + c + "\u00a0",
		"double spaces":     group(c, "  ", 5),
		"hyphen and space":  group(c, " - ", 6),
	}
}

func mixCase(s string) string {
	b := []byte(s)
	for i := range b {
		if i%2 == 0 && b[i] >= 'A' && b[i] <= 'Z' {
			b[i] += 'a' - 'A'
		}
	}
	return string(b)
}

// TestParseSecretRoundTrip: every byte length from MinSecretSize to
// MaxSecretSize (10..40 are what services issue; all lengths that are not a
// multiple of 5 give a partial final group) parses in every tolerant form
// and round-trips through Base32.
func TestParseSecretRoundTrip(t *testing.T) {
	for n := twofa.MinSecretSize; n <= twofa.MaxSecretSize; n++ {
		raw := secretRandomBytes(t, n)
		canon := secretStdB32.EncodeToString(raw)
		for name, in := range tolerantForms(canon) {
			s, err := twofa.ParseSecret(in)
			require.NoError(t, err, "%d bytes, %s", n, name)
			require.Equal(t, n, s.Len())
			require.Equal(t, raw, s.Bytes(), "%d bytes, %s", n, name)
			require.Equal(t, canon, s.Base32(), "%d bytes, %s: Base32 is canonical", n, name)
			again, err := twofa.ParseSecret(s.Base32())
			require.NoError(t, err)
			require.True(t, s.Equal(again))
		}
		fb, err := twofa.SecretFromBytes(raw)
		require.NoError(t, err)
		require.Equal(t, canon, fb.Base32())
	}
}

func TestParseSecretKnown(t *testing.T) {
	// The RFC 4226 secret, and a base32 example
	// (test data only: never hard-code a real secret).
	s, err := twofa.ParseSecret("gezd gnbv gy3t qojq gezd gnbv gy3t qojq")
	require.NoError(t, err)
	require.Equal(t, []byte("12345678901234567890"), s.Bytes())
	s, err = twofa.ParseSecret("jbsw y3dp ehpk 3pxp")
	require.NoError(t, err)
	require.Equal(t, []byte("Hello!\xde\xad\xbe\xef"), s.Bytes())
	require.Equal(t, "JBSWY3DPEHPK3PXP", s.Base32())
}

func TestParseSecretRefused(t *testing.T) {
	const rfc = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // 20 bytes, 32 symbols
	const rfc32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA"
	long := secretStdB32.EncodeToString(bytes.Repeat([]byte{0xa5}, twofa.MaxSecretSize+1))
	cases := []struct {
		name   string
		in     string
		reason error
		offset int // -1: the input as a whole
	}{
		{"digit 1", "GEZDGNBVGY3TQOJ1", twofa.ErrSecretChar, 15},
		{"digit 0 first", "0EZDGNBVGY3TQOJQ", twofa.ErrSecretChar, 0},
		{"digit 8 after a space", "GEZDGNBV GY3TQOJ8", twofa.ErrSecretChar, 16},
		{"digit 9", rfc[:20] + "9" + rfc[21:], twofa.ErrSecretChar, 20},
		{"punctuation", rfc + "!", twofa.ErrSecretChar, 32},
		{"underscore", rfc[:8] + "_" + rfc[8:], twofa.ErrSecretChar, 8},
		{"dot", rfc[:8] + "." + rfc[8:], twofa.ErrSecretChar, 8},
		{"NUL", rfc + "\x00", twofa.ErrSecretChar, 32},
		{"newline inside", rfc[:16] + "\n" + rfc[16:], twofa.ErrSecretChar, 16},
		{"tab inside", rfc[:8] + "\t" + rfc[8:], twofa.ErrSecretChar, 8},
		{"tabs between groups", "GEZDGNBV\tGY3TQOJQ\tGEZDGNBV\tGY3TQOJQ", twofa.ErrSecretChar, 8},
		{"CR inside after white space", "\t " + rfc[:4] + "\r" + rfc[4:], twofa.ErrSecretChar, 6},
		{"zero-width space", "\u200b" + rfc, twofa.ErrSecretChar, 0},
		{"bad character after white space", " \n" + rfc[:3] + "1" + rfc[4:], twofa.ErrSecretChar, 5},
		{"padding inside after white space", "\t" + rfc[:8] + "=" + rfc[8:], twofa.ErrSecretPadding, 9},
		{"non-ASCII letter", rfc[:4] + "é" + rfc[4:], twofa.ErrSecretChar, 4},
		{"fullwidth A", "Ａ" + rfc, twofa.ErrSecretChar, 0},
		{"non-breaking space", rfc[:4] + "\u00a0" + rfc[4:], twofa.ErrSecretChar, 4},
		{"invalid UTF-8", rfc[:10] + "\xff" + rfc[10:], twofa.ErrSecretChar, 10},
		{"base64 plus", rfc[:5] + "+" + rfc[5:], twofa.ErrSecretChar, 5},
		{"otpauth URI", "otpauth://totp/x?secret=" + rfc, twofa.ErrSecretChar, 7},
		{"padding on a full group", rfc + "=", twofa.ErrSecretPadding, 32},
		{"padding inside", rfc[:8] + "=" + rfc[8:], twofa.ErrSecretPadding, 8},
		{"padding inside after spaces", rfc[:8] + " ==== " + rfc[8:], twofa.ErrSecretPadding, 9},
		{"too little padding", rfc32 + "===", twofa.ErrSecretPadding, 52},
		{"too much padding", rfc32 + "=====", twofa.ErrSecretPadding, 52},
		{"padding only", "========", twofa.ErrSecretPadding, 0},
		{"one symbol over", rfc + "A", twofa.ErrSecretLength, -1},
		{"three symbols over", rfc + "AAA", twofa.ErrSecretLength, -1},
		{"six symbols over", rfc + "AAAAAA", twofa.ErrSecretLength, -1},
		{"six symbols padded", rfc + "AAAAAA==", twofa.ErrSecretLength, -1},
		{"empty", "", twofa.ErrSecretTooShort, -1},
		{"blank", "  \t - ", twofa.ErrSecretTooShort, -1},
		{"white space only", " \t\r\n\u00a0", twofa.ErrSecretTooShort, -1},
		{"over MaxInput with newlines", rfc + strings.Repeat("\n", 1100), twofa.ErrSecretTooLong, -1},
		{"9 bytes", rfc[:15], twofa.ErrSecretTooShort, -1},
		{"5 bytes", "JBSWY3DP", twofa.ErrSecretTooShort, -1},
		{"129 bytes", long, twofa.ErrSecretTooLong, -1},
		{"over MaxInput", strings.Repeat(" ", 1100) + rfc, twofa.ErrSecretTooLong, -1},
		{"10 MB", strings.Repeat("A", 10<<20), twofa.ErrSecretTooLong, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s twofa.Secret
			var err error
			require.NotPanics(t, func() { s, err = twofa.ParseSecret(c.in) })
			requireSecretError(t, err, c.reason, c.offset, c.name)
			require.True(t, s.IsZero())
			if c.offset >= 0 {
				// The offset points at the offending byte.
				if c.reason == twofa.ErrSecretPadding {
					require.Equal(t, byte('='), c.in[c.offset])
				} else {
					require.NotContains(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz234567 -=", string(c.in[c.offset]))
				}
			}
			// The error never quotes the input.
			if len(c.in) >= 8 {
				require.NotContains(t, err.Error(), strings.TrimSpace(c.in)[:8])
			}
		})
	}
}

func TestSecretFromBytes(t *testing.T) {
	raw := []byte("12345678901234567890")
	s, err := twofa.SecretFromBytes(raw)
	require.NoError(t, err)
	raw[0] = 'X' // the Secret holds a copy
	require.Equal(t, []byte("12345678901234567890"), s.Bytes())
	b := s.Bytes()
	b[0] = 'Y' // and hands out copies
	require.Equal(t, []byte("12345678901234567890"), s.Bytes())

	for _, c := range []struct {
		n      int
		reason error
	}{{0, twofa.ErrSecretTooShort}, {9, twofa.ErrSecretTooShort}, {129, twofa.ErrSecretTooLong}, {4096, twofa.ErrSecretTooLong}} {
		_, err := twofa.SecretFromBytes(make([]byte, c.n))
		requireSecretError(t, err, c.reason, -1, fmt.Sprintf("%d bytes", c.n))
	}
	_, err = twofa.SecretFromBytes(nil)
	requireSecretError(t, err, twofa.ErrSecretTooShort, -1, "nil")
}

func TestSecretZero(t *testing.T) {
	var z twofa.Secret
	assert.True(t, z.IsZero())
	assert.Zero(t, z.Len())
	assert.Empty(t, z.Base32())
	assert.Nil(t, z.Bytes())
	assert.Equal(t, "twofa.Secret(REDACTED)", z.String())
}

func TestSecretEqual(t *testing.T) {
	raw := secretRandomBytes(t, 20)
	a, err := twofa.SecretFromBytes(raw)
	require.NoError(t, err)
	b, err := twofa.ParseSecret(strings.ToLower(secretStdB32.EncodeToString(raw)))
	require.NoError(t, err)
	assert.True(t, a.Equal(b))
	assert.True(t, b.Equal(a))
	assert.True(t, a.Equal(a))

	other := append([]byte(nil), raw...)
	other[19] ^= 1
	c, err := twofa.SecretFromBytes(other)
	require.NoError(t, err)
	assert.False(t, a.Equal(c), "last bit differs")

	longer, err := twofa.SecretFromBytes(append(append([]byte(nil), raw...), 0))
	require.NoError(t, err)
	assert.False(t, a.Equal(longer), "prefix of the other")
	assert.False(t, longer.Equal(a))

	var z twofa.Secret
	assert.False(t, a.Equal(z))
	assert.False(t, z.Equal(a))
	assert.True(t, z.Equal(twofa.Secret{}), "two zero secrets hold the same (no) key")
}

// secretForms are the encodings of s whose appearance in an output would
// leak it: base32 (upper, lower, padded), hex, base64, the raw bytes, fmt's
// byte-slice forms, and prefixes of each.
func secretForms(s twofa.Secret) []string {
	raw := s.Bytes()
	b32 := s.Base32()
	forms := []string{
		b32, strings.ToLower(b32), base32.StdEncoding.EncodeToString(raw),
		hex.EncodeToString(raw), strings.ToUpper(hex.EncodeToString(raw)),
		base64.StdEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw),
		string(raw), fmt.Sprint(raw), fmt.Sprintf("%q", raw), fmt.Sprintf("%#v", raw),
	}
	for _, f := range forms[:len(forms):len(forms)] {
		if len(f) > 12 {
			forms = append(forms, f[:12])
		}
	}
	return forms
}

func assertNoSecret(t *testing.T, s twofa.Secret, out string, msgAndArgs ...any) bool {
	t.Helper()
	ok := true
	for _, f := range secretForms(s) {
		if f != "" && strings.Contains(out, f) {
			ok = assert.Fail(t, fmt.Sprintf("output reveals the secret (%q) in %q", f, out), msgAndArgs...)
		}
	}
	return ok
}

type exportedHolder struct {
	Name   string
	Secret twofa.Secret
}

type unexportedHolder struct {
	name   string
	secret twofa.Secret
}

type nestedHolder struct {
	Inner  exportedHolder
	Ptr    *twofa.Secret
	List   []twofa.Secret
	Map    map[string]twofa.Secret
	Any    any
	hidden unexportedHolder
}

// printableSecrets: one whose raw bytes are ASCII (so a leak of the raw key
// would be readable) and a random one.
func printableSecrets(t *testing.T) []twofa.Secret {
	t.Helper()
	r, err := twofa.NewSecret()
	require.NoError(t, err)
	return []twofa.Secret{coreRFCSecret(t), r}
}

func TestSecretRedactionFmt(t *testing.T) {
	verbs := []string{
		"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "% x", "%#x", "%d", "%o", "%b",
		"%c", "%U", "%e", "%f", "%t", "%p", "%T", "%10v", "%-40s", "%.3s", "%08x", "%!", "%z",
	}
	for _, s := range printableSecrets(t) {
		sp := &s
		values := map[string]any{
			"value":              s,
			"pointer":            sp,
			"pointer to pointer": &sp,
			"exported field":     exportedHolder{"alice", s},
			"unexported field":   unexportedHolder{"alice", s},
			"pointer to struct":  &exportedHolder{"alice", s},
			"pointer to unexp":   &unexportedHolder{"alice", s},
			"slice":              []twofa.Secret{s, s},
			"array":              [2]twofa.Secret{s, s},
			"slice of pointers":  []*twofa.Secret{sp},
			"map value":          map[string]twofa.Secret{"k": s},
			"map key":            map[twofa.Secret]int{s: 1},
			"interface slice":    []any{s, sp},
			"nested": nestedHolder{
				Inner: exportedHolder{"a", s}, Ptr: sp, List: []twofa.Secret{s},
				Map: map[string]twofa.Secret{"k": s}, Any: s, hidden: unexportedHolder{"b", s},
			},
		}
		for name, v := range values {
			for _, verb := range verbs {
				out := fmt.Sprintf(verb, v)
				assertNoSecret(t, s, out, "%s with %s", name, verb)
			}
			assertNoSecret(t, s, fmt.Sprint(v), name)
			assertNoSecret(t, s, fmt.Sprintln(v, v), name)
			assertNoSecret(t, s, fmt.Errorf("wrapped: %v", v).Error(), name)
		}
		assert.Equal(t, "twofa.Secret(REDACTED)", s.String())
		assert.Equal(t, "twofa.Secret(REDACTED)", fmt.Sprintf("%v", s))
		assert.Equal(t, "twofa.Secret(REDACTED)", fmt.Sprintf("%#v", sp))
		assert.Equal(t, "twofa.Secret", fmt.Sprintf("%T", s))

		var lb bytes.Buffer
		l := log.New(&lb, "", 0)
		l.Printf("%v %+v %#v %x", s, exportedHolder{"a", s}, unexportedHolder{"b", s}, sp)
		l.Println(s, sp, []twofa.Secret{s})
		assertNoSecret(t, s, lb.String(), "log")
	}
}

func TestSecretRedactionSlog(t *testing.T) {
	for _, s := range printableSecrets(t) {
		sp := &s
		for name, newHandler := range map[string]func(*bytes.Buffer) slog.Handler{
			"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
			"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		} {
			var buf bytes.Buffer
			l := slog.New(newHandler(&buf))
			l.Info("enrol", "secret", s)
			l.Info("enrol", "secret", sp)
			l.Info("enrol", slog.Any("secret", s), slog.Any("ptr", sp))
			l.Info("enrol", "holder", exportedHolder{"alice", s})
			l.Info("enrol", "holder", &exportedHolder{"alice", s})
			l.Info("enrol", "holder", unexportedHolder{"alice", s})
			l.Info("enrol", "list", []twofa.Secret{s, s})
			l.Info("enrol", "nested", nestedHolder{Inner: exportedHolder{"a", s}, Ptr: sp, List: []twofa.Secret{s}, Any: s})
			l.Info("enrol", slog.Group("device", slog.Any("secret", s), slog.String("label", "phone")))
			l.With("secret", s).Info("with")
			l.WithGroup("g").Info("group", "secret", s)
			l.Info("fmt", "s", fmt.Sprint(s))
			out := buf.String()
			require.NotEmpty(t, out)
			assertNoSecret(t, s, out, "slog %s handler", name)
			assert.Contains(t, out, "REDACTED", "slog %s handler", name)
		}
		// The LogValuer resolves to the placeholder.
		v := slog.AnyValue(s).Resolve()
		assert.Equal(t, "REDACTED", v.String())
		v = slog.AnyValue(sp).Resolve()
		assert.Equal(t, "REDACTED", v.String())
	}
}

func TestSecretRedactionMarshal(t *testing.T) {
	for _, s := range printableSecrets(t) {
		sp := &s
		// Marshalling refuses (an error is fine) or writes nothing secret.
		for name, v := range map[string]any{
			"value":            s,
			"pointer":          sp,
			"exported field":   exportedHolder{"alice", s},
			"pointer struct":   &exportedHolder{"alice", s},
			"unexported field": unexportedHolder{"alice", s},
			"slice":            []twofa.Secret{s},
			"map":              map[string]twofa.Secret{"k": s},
			"nested":           nestedHolder{Inner: exportedHolder{"a", s}, Ptr: sp, List: []twofa.Secret{s}, Any: s},
		} {
			out, err := json.Marshal(v)
			assertNoSecret(t, s, string(out), "json %s", name)
			if err != nil {
				assertNoSecret(t, s, err.Error(), "json error %s", name)
				assert.ErrorIs(t, err, twofa.ErrSecretMarshal, "json %s", name)
			}
			out, _ = json.MarshalIndent(v, "", " ")
			assertNoSecret(t, s, string(out), "json indent %s", name)

			var buf bytes.Buffer
			err = json.NewEncoder(&buf).Encode(v)
			assertNoSecret(t, s, buf.String(), "json encoder %s", name)
			if err != nil {
				assertNoSecret(t, s, err.Error(), name)
			}

			buf.Reset()
			err = gob.NewEncoder(&buf).Encode(v)
			assertNoSecret(t, s, buf.String(), "gob %s", name)
			if err != nil {
				assertNoSecret(t, s, err.Error(), "gob error %s", name)
			}

			out, err = xml.Marshal(v)
			assertNoSecret(t, s, string(out), "xml %s", name)
			if err != nil {
				assertNoSecret(t, s, err.Error(), "xml error %s", name)
			}
		}
		// The unexported field is invisible to encoders; the exported one
		// refuses.
		out, err := json.Marshal(unexportedHolder{"alice", s}) //lint:ignore SA9005 the point: encoders cannot see the field
		require.NoError(t, err)
		assert.Equal(t, "{}", string(out))
		_, err = json.Marshal(exportedHolder{"alice", s})
		assert.ErrorIs(t, err, twofa.ErrSecretMarshal)

		text, err := s.MarshalText()
		assert.ErrorIs(t, err, twofa.ErrSecretMarshal)
		assert.Empty(t, text)
		js, err := s.MarshalJSON()
		assert.ErrorIs(t, err, twofa.ErrSecretMarshal)
		assert.Empty(t, js)
		var gb bytes.Buffer
		assert.Error(t, gob.NewEncoder(&gb).Encode(s), "gob sees no exported field")
		assertNoSecret(t, s, gb.String())
		assertNoSecret(t, s, twofa.ErrSecretMarshal.Error())
	}
}

// TestSecretErrorsDoNotLeak: no error about a secret quotes it.
func TestSecretErrorsDoNotLeak(t *testing.T) {
	s, err := twofa.NewSecret()
	require.NoError(t, err)
	b := s.Base32()
	for _, in := range []string{b + "1", b + "=", b + "A", b[:10] + "!" + b[10:], strings.ToLower(b) + "8"} {
		_, err := twofa.ParseSecret(in)
		require.Error(t, err)
		assertNoSecret(t, s, err.Error(), "%q", in)
		assertNoSecret(t, s, fmt.Sprintf("%+v %#v", err, err), "%q", in)
		var se *twofa.SecretError
		require.True(t, errors.As(err, &se))
	}
}
