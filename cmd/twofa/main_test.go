package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testNow is the clock of every in-process run: RFC 6238's 1234567890.
var testNow = time.Unix(1234567890, 0)

type result struct {
	status         int
	stdout, stderr string
}

// runT runs the command in-process with stdin and the fixed clock.
func runT(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	status := run(args, strings.NewReader(stdin), &out, &errOut, func() time.Time { return testNow })
	return result{status, out.String(), errOut.String()}
}

// requireOK checks a successful run: status 0 and nothing on stderr.
func requireOK(t *testing.T, r result, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, exitOK, r.status, append([]any{"stderr: %s"}, r.stderr))
	require.Empty(t, r.stderr, msgAndArgs...)
}

// requireUsage checks a refused run: status 2, nothing on stdout, a
// message naming the command and containing want on stderr, and none of
// the secrets anywhere.
func requireUsage(t *testing.T, r result, command, want string, secrets ...string) {
	t.Helper()
	require.Equal(t, exitUsage, r.status, "stdout %q, stderr %q", r.stdout, r.stderr)
	require.Empty(t, r.stdout)
	require.True(t, strings.HasPrefix(r.stderr, "twofa "+command+": "), "stderr %q", r.stderr)
	require.Contains(t, r.stderr, want)
	requireNoSecret(t, r, secrets...)
}

// requireNoSecret checks that no secret, in any case, appears in stdout
// or stderr.
func requireNoSecret(t *testing.T, r result, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		for _, v := range []string{s, strings.ToLower(s), strings.ToUpper(s)} {
			require.NotContains(t, r.stdout, v, "the secret is on stdout")
			require.NotContains(t, r.stderr, v, "the secret is on stderr")
		}
	}
}

type rfc6238File struct {
	Source  string `json:"source"`
	Note    string `json:"note"`
	Digits  int    `json:"digits"`
	Period  int64  `json:"period_seconds"`
	T0      int64  `json:"t0"`
	Secrets map[string]struct {
		ASCII  string `json:"ascii"`
		Base32 string `json:"base32"`
	} `json:"secrets"`
	Cases []struct {
		Time      int64  `json:"time"`
		UTC       string `json:"utc"`
		Step      string `json:"step"`
		TOTP      string `json:"totp"`
		Algorithm string `json:"algorithm"`
	} `json:"cases"`
}

type rfc4226File struct {
	Source       string `json:"source"`
	Note         string `json:"note"`
	Algorithm    string `json:"algorithm"`
	Digits       int    `json:"digits"`
	SecretASCII  string `json:"secret_ascii"`
	SecretHex    string `json:"secret_hex"`
	SecretBase32 string `json:"secret_base32"`
	Cases        []struct {
		Count            uint64 `json:"count"`
		HMACSHA1         string `json:"hmac_sha1"`
		TruncatedHex     string `json:"truncated_hex"`
		TruncatedDecimal uint32 `json:"truncated_decimal"`
		HOTP             string `json:"hotp"`
	} `json:"cases"`
}

// loadJSON decodes one of the module's vector files strictly, as the root
// package's tests do.
func loadJSON(t *testing.T, name string, v any) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", name))
	require.NoError(t, err)
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(v), "decoding %s", name)
}

func loadRFC6238(t *testing.T) rfc6238File {
	t.Helper()
	var v rfc6238File
	loadJSON(t, "rfc6238.json", &v)
	require.Contains(t, v.Source, "RFC 6238")
	require.Equal(t, 8, v.Digits)
	require.EqualValues(t, 30, v.Period)
	require.Zero(t, v.T0)
	require.Len(t, v.Cases, 18)
	return v
}

func loadRFC4226(t *testing.T) rfc4226File {
	t.Helper()
	var v rfc4226File
	loadJSON(t, "rfc4226.json", &v)
	require.Contains(t, v.Source, "RFC 4226")
	require.Len(t, v.Cases, 10)
	return v
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		r := runT(t, "", args...)
		requireOK(t, r)
		require.Contains(t, r.stdout, "Usage: twofa <command>")
		for _, c := range []string{"keygen", "code", "qr", "uri", "uri inspect", "help"} {
			require.Contains(t, r.stdout, "\n  "+c+" ", "%v lists %s", args, c)
			if c != "uri inspect" && c != "help" {
				_, ok := lookup(c)
				require.True(t, ok, c)
			}
		}
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"help", "keygen"}, []string{"Usage: twofa keygen", "TwoFA.Reseal"}},
		{[]string{"keygen", "-h"}, []string{"Usage: twofa keygen"}},
		{[]string{"help", "code"}, []string{"Usage: twofa code", "-window N", "-algo ALG", "-hotp", "ps,"}},
		{[]string{"code", "-h"}, []string{"Usage: twofa code", "-time TIME", "-env NAME"}},
		{[]string{"code", "-help"}, []string{"Usage: twofa code"}},
		{[]string{"qr", "-h"}, []string{"Usage: twofa qr", "-png FILE", "-invert", "-size"}},
		{[]string{"help", "uri"}, []string{"Usage: twofa uri", "-generate", "-account", "twofa uri inspect"}},
		{[]string{"uri", "inspect", "-h"}, []string{"Usage: twofa uri inspect", "-show-secret"}},
		{[]string{"help", "uri", "inspect"}, []string{"Usage: twofa uri inspect", "-show-secret"}},
	} {
		r := runT(t, "", tc.args...)
		requireOK(t, r, "%v", tc.args)
		for _, w := range tc.want {
			require.Contains(t, r.stdout, w, "%v", tc.args)
		}
	}
}

func TestBadCommandLine(t *testing.T) {
	secret := "JBSWY3DPEHPK3PXPJBSWY3DP"
	r := runT(t, "")
	require.Equal(t, exitUsage, r.status)
	require.Empty(t, r.stdout)
	require.Contains(t, r.stderr, "Usage: twofa <command>")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"nope"}, `twofa: unknown command "nope"`},
		{[]string{secret}, "twofa: unknown command (an argument of 24 bytes, not repeated here)"},
		{[]string{"help", "nope"}, `twofa help: unknown command "nope"`},
		{[]string{"help", secret}, "twofa help: unknown command (an argument of"},
		{[]string{"help", "code", "qr"}, "twofa help: too many arguments"},
	} {
		r := runT(t, "", tc.args...)
		require.Equal(t, exitUsage, r.status, "%v", tc.args)
		require.Empty(t, r.stdout)
		require.Contains(t, r.stderr, tc.want, "%v", tc.args)
		requireNoSecret(t, r, secret)
	}
}

func TestFlagMessage(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`invalid value "JBSWY3DPEHPK3PXP" for flag -digits: want 6 to 8`, "invalid value for flag -digits: want 6 to 8"},
		{`invalid boolean value "JBSWY3DPEHPK3PXP" for -hotp: parse error`, "invalid boolean value for -hotp: parse error"},
		{`flag provided but not defined: -digit`, `flag provided but not defined: "-digit"`},
		{`flag provided but not defined: -JBSWY3DPEHPK3PXP`, "flag provided but not defined: (an argument of 17 bytes, not repeated here)"},
		{`bad flag syntax: ---x`, `bad flag syntax: "---x"`},
		{`flag needs an argument: -digits`, `flag needs an argument: "-digits"`},
		{`flag provided but not defined: -otpauth://totp/a?secret=x`, "flag provided but not defined: (an argument of 26 bytes, not repeated here)"},
		{`flag provided but not defined: -TWOFA_SECRET_NAME`, `flag provided but not defined: "-TWOFA_SECRET_NAME"`},
		{`flag provided but not defined: -31323334353637383930`, "flag provided but not defined: (an argument of 21 bytes, not repeated here)"},
		{`something else`, `something else`},
	} {
		assert.Equal(t, tc.want, flagMessage(tc.in), tc.in)
	}
}

// failWriter fails every write, as a closed pipe does.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestWriteFailure(t *testing.T) {
	for _, args := range [][]string{
		{"keygen"},
		{"code"},
		{"uri", "-account", "alice"},
		{"uri", "inspect"},
		{"qr"},
		{"qr", "-png", "-"},
	} {
		stdin := "JBSWY3DPEHPK3PXP"
		if args[0] == "qr" || len(args) > 1 && args[1] == "inspect" {
			stdin = "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP"
		}
		var errOut bytes.Buffer
		status := run(args, strings.NewReader(stdin), failWriter{}, &errOut, time.Now)
		require.Equal(t, exitFailure, status, "%v", args)
		require.Contains(t, errOut.String(), "broken pipe", "%v", args)
		require.NotContains(t, errOut.String(), "JBSWY3DPEHPK3PXP")
	}
}

// errReader fails, as a read from a closed terminal does.
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("input/output error") }

func TestReadFailure(t *testing.T) {
	var out, errOut bytes.Buffer
	status := run([]string{"code"}, errReader{}, &out, &errOut, time.Now)
	require.Equal(t, exitFailure, status)
	require.Empty(t, out.String())
	require.Equal(t, "twofa code: reading standard input: input/output error\n", errOut.String())
}
