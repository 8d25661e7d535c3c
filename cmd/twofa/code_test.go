package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
)

// TestCodeRFC6238 runs every RFC 6238 Appendix B vector through code, with
// the secret on standard input, in an environment variable, as an
// argument and inside an otpauth URI, and the time in each form -time
// takes.
func TestCodeRFC6238(t *testing.T) {
	v := loadRFC6238(t)
	for _, c := range v.Cases {
		sec := v.Secrets[c.Algorithm].Base32
		t.Run(fmt.Sprintf("%s/%d", c.Algorithm, c.Time), func(t *testing.T) {
			unix := strconv.FormatInt(c.Time, 10)
			rfc3339 := time.Unix(c.Time, 0).UTC().Format(time.RFC3339)
			want := c.TOTP + "\n"
			flags := []string{"-digits", "8", "-algo", c.Algorithm}
			for _, tm := range []string{unix, "@" + unix, rfc3339} {
				r := runT(t, sec+"\n", append([]string{"code", "-time", tm}, flags...)...)
				requireOK(t, r)
				require.Equal(t, want, r.stdout, "-time %s", tm)
			}
			// Standard input, explicitly.
			r := runT(t, sec, append(append([]string{"code", "-time", unix}, flags...), "-")...)
			requireOK(t, r)
			require.Equal(t, want, r.stdout)
			// Lower case, in groups, as people type it.
			typed := strings.ToLower(sec[:8]) + " " + sec[8:16] + "-" + sec[16:]
			r = runT(t, typed, append([]string{"code", "-time", unix}, flags...)...)
			requireOK(t, r)
			require.Equal(t, want, r.stdout)
			// An argument.
			r = runT(t, "", append(append([]string{"code", "-time", unix}, flags...), sec)...)
			requireOK(t, r)
			require.Equal(t, want, r.stdout)
			// An environment variable.
			t.Setenv("TWOFA_TEST_SECRET", sec)
			r = runT(t, "", append([]string{"code", "-time", unix, "-env", "TWOFA_TEST_SECRET"}, flags...)...)
			requireOK(t, r)
			require.Equal(t, want, r.stdout)
			// The ASCII seed in hex.
			r = runT(t, fmt.Sprintf("%x", v.Secrets[c.Algorithm].ASCII), append([]string{"code", "-hex", "-time", unix}, flags...)...)
			requireOK(t, r)
			require.Equal(t, want, r.stdout)
			// An otpauth URI carries the parameters.
			uri := "otpauth://totp/Example:alice?secret=" + sec + "&algorithm=" + c.Algorithm + "&digits=8&period=30"
			r = runT(t, uri+"\n", "code", "-time", unix)
			requireOK(t, r)
			require.Equal(t, want, r.stdout)
			// The clock gives the time when -time is absent.
			if c.Time == testNow.Unix() {
				r = runT(t, sec, append([]string{"code"}, flags...)...)
				requireOK(t, r)
				require.Equal(t, want, r.stdout)
			}
		})
	}
}

// TestCodeRFC4226 runs the RFC 4226 Appendix D vectors through code -hotp.
func TestCodeRFC4226(t *testing.T) {
	v := loadRFC4226(t)
	for _, c := range v.Cases {
		n := strconv.FormatUint(c.Count, 10)
		r := runT(t, v.SecretBase32, "code", "-hotp", "-counter", n)
		requireOK(t, r)
		require.Equal(t, c.HOTP+"\n", r.stdout, "count %d", c.Count)
		r = runT(t, v.SecretHex, "code", "-hotp", "-hex", "-counter", n)
		requireOK(t, r)
		require.Equal(t, c.HOTP+"\n", r.stdout, "count %d, hex", c.Count)
		// An HOTP URI; -counter moves it on from the URI's counter.
		r = runT(t, "otpauth://hotp/alice?secret="+v.SecretBase32+"&counter=0", "code", "-counter", n)
		requireOK(t, r)
		require.Equal(t, c.HOTP+"\n", r.stdout, "count %d, uri", c.Count)
		r = runT(t, "otpauth://hotp/alice?secret="+v.SecretBase32+"&counter="+n, "code")
		requireOK(t, r)
		require.Equal(t, c.HOTP+"\n", r.stdout, "count %d, uri counter", c.Count)
	}
	// -window prints the following counters' codes.
	r := runT(t, v.SecretBase32, "code", "-hotp", "-window", "9")
	requireOK(t, r)
	var all []string
	for _, c := range v.Cases {
		all = append(all, c.HOTP)
	}
	require.Equal(t, strings.Join(all, "\n")+"\n", r.stdout)
}

func TestCodeWindow(t *testing.T) {
	sec := "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	r := runT(t, sec, "code", "-window", "2", "-time", "1111111109", "-digits", "8")
	requireOK(t, r)
	var want strings.Builder
	for _, at := range []int64{1111111109, 1111111109 + 30, 1111111109 + 60} {
		one := runT(t, sec, "code", "-time", strconv.FormatInt(at, 10), "-digits", "8")
		requireOK(t, one)
		want.WriteString(one.stdout)
	}
	require.Equal(t, want.String(), r.stdout)
	require.True(t, strings.HasPrefix(r.stdout, "07081804\n14050471\n"), "RFC 6238's codes at 1111111109 and 1111111111 are consecutive steps")

	// The largest window, and the last HOTP counter, which never wraps.
	r = runT(t, sec, "code", "-window", "100")
	requireOK(t, r)
	require.Len(t, strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n"), 101)
	r = runT(t, sec, "code", "-hotp", "-counter", "18446744073709551614", "-window", "5")
	requireOK(t, r)
	require.Len(t, strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n"), 2)
}

func TestCodePeriodAndStart(t *testing.T) {
	sec := "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	s, err := twofa.ParseSecret(sec)
	require.NoError(t, err)
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	at := time.Date(2026, 12, 1, 15, 4, 5, 0, time.UTC)
	for _, p := range []struct {
		flag   string
		period time.Duration
	}{{"60", time.Minute}, {"1m", time.Minute}, {"1s", time.Second}, {"86400", 24 * time.Hour}, {"24h", 24 * time.Hour}} {
		g, err := twofa.NewTOTP(s, twofa.Options{Period: p.period, T0: start, Algorithm: twofa.SHA512, Digits: 7})
		require.NoError(t, err)
		want, err := g.Code(at)
		require.NoError(t, err)
		r := runT(t, sec, "code", "-period", p.flag, "-start", start.Format(time.RFC3339), "-time", at.Format(time.RFC3339),
			"-algo", "sha-512", "-digits", "7")
		requireOK(t, r)
		require.Equal(t, want+"\n", r.stdout, "-period %s", p.flag)
	}
}

// TestCodeBadInput: every bad input exits with status 2, prints nothing on
// standard output and a message on standard error that never holds the
// secret.
func TestCodeBadInput(t *testing.T) {
	const sec = "JBSWY3DPEHPK3PXPJBSWY3DP"
	uri := "otpauth://totp/Example:alice?secret=" + sec + "&issuer=Example"
	huri := "otpauth://hotp/Example:alice?secret=" + sec + "&issuer=Example&counter=3"
	for _, tc := range []struct {
		name  string
		stdin string
		env   string
		args  []string
		want  string
	}{
		{"empty stdin", "", "", nil, "no secret or otpauth URI on standard input"},
		{"blank stdin", " \n", "", nil, "no secret or otpauth URI on standard input"},
		{"stdin too long", strings.Repeat("A", 70000), "", nil, "the secret or otpauth URI on standard input is longer than 65536 bytes"},
		{"longest line", strings.Repeat("A", 65536) + "\n", "", nil, "invalid secret: secret too long"},
		{"secret too long for ParseSecret", strings.Repeat("A", 5000), "", nil, "invalid secret: secret too long"},
		{"bad character", "JBSWY3DP!HPK3PXPJBSWY3DP", "", nil, "invalid secret: illegal base32 character at offset 8"},
		{"bad padding", "JBSWY3DPEHPK3PXP=A", "", nil, "invalid secret: bad base32 padding"},
		{"too short", "JBSWY3DPEHPK3PX", "", nil, "invalid secret: secret too short"},
		{"impossible length", "JBSWY3DPEHPK3P", "", nil, "invalid secret: impossible base32 length"},
		{"too long", strings.Repeat("JBSWY3DP", 40), "", nil, "invalid secret: secret too long"},
		{"secret with a tab", "JBSWY3DP\tEHPK3PXP", "", nil, "illegal base32 character at offset 8"},
		{"hex odd", "3132333435363738393", "", []string{"-hex"}, "odd number of hex digits"},
		{"hex short", "31323334", "", []string{"-hex"}, "invalid secret: 4 bytes; want 10 to 128"},
		{"hex bad digit", "313233343536373839303g", "", []string{"-hex"}, "not a hex digit at offset 21"},
		{"base32 as hex", sec, "", []string{"-hex"}, "not a hex digit at offset 0"},
		{"two arguments", "", "", []string{sec, sec}, "too many arguments (2); flags go before the secret or otpauth URI"},
		{"flag after argument", "", "", []string{sec, "-digits", "8"}, "too many arguments (3)"},
		{"env unset", "", "", []string{"-env", "TWOFA_TEST_UNSET"}, `environment variable "TWOFA_TEST_UNSET" is not set`},
		{"env empty", "", "", []string{"-env", "TWOFA_TEST_EMPTY"}, `environment variable "TWOFA_TEST_EMPTY" is empty`},
		{"env and argument", "", "", []string{"-env", "TWOFA_TEST_EMPTY", sec}, "-env and a secret or otpauth URI argument both given"},
		{"digits 5", sec, "", []string{"-digits", "5"}, "invalid value for flag -digits: want 6 to 8"},
		{"digits 9", sec, "", []string{"-digits", "9"}, "invalid value for flag -digits: want 6 to 8"},
		{"digits secret", "", "", []string{"-digits", sec}, "invalid value for flag -digits: want 6 to 8"},
		{"algo", sec, "", []string{"-algo", "MD5"}, "invalid value for flag -algo: want SHA1, SHA256 or SHA512"},
		{"period 0", sec, "", []string{"-period", "0"}, "invalid value for flag -period: want whole seconds from 1 to 86400"},
		{"period fraction", sec, "", []string{"-period", "1.5s"}, "invalid value for flag -period"},
		{"period too long", sec, "", []string{"-period", "25h"}, "invalid value for flag -period"},
		{"counter negative", sec, "", []string{"-hotp", "-counter", "-1"}, "invalid value for flag -counter: want a decimal integer from 0 to 2^64-1"},
		{"counter overflow", sec, "", []string{"-hotp", "-counter", "18446744073709551616"}, "invalid value for flag -counter"},
		{"time", sec, "", []string{"-time", "yesterday"}, "invalid value for flag -time: want RFC 3339"},
		{"time year 10000", sec, "", []string{"-time", "253402300800"}, "invalid value for flag -time: want a time from year 1 to 9999"},
		{"time secret", "", "", []string{"-time", sec}, "invalid value for flag -time"},
		{"start", sec, "", []string{"-start", "2020-01-01"}, "invalid value for flag -start"},
		{"before start", sec, "", []string{"-start", "2020-01-01T00:00:00Z", "-time", "2019-12-31T23:59:59Z"}, "the time lies before the start time"},
		{"before epoch", sec, "", []string{"-time", "-1"}, "the time lies before the start time"},
		{"window", sec, "", []string{"-window", "101"}, "-window 101 exceeds 100"},
		{"window negative", sec, "", []string{"-window", "-1"}, "invalid value for flag -window"},
		{"hotp bool", sec, "", []string{"-hotp=maybe"}, "invalid boolean value for -hotp"},
		{"unknown flag", sec, "", []string{"-totp"}, `flag provided but not defined: "-totp"`},
		{"secret as a flag", "", "", []string{"-" + sec}, "flag provided but not defined: (an argument of 25 bytes, not repeated here)"},
		{"missing flag value", sec, "", []string{"-digits"}, `flag needs an argument: "-digits"`},
		{"counter without hotp", sec, "", []string{"-counter", "1"}, "-counter applies to HOTP keys only (add -hotp)"},
		{"time with hotp", sec, "", []string{"-hotp", "-time", "0"}, "-time applies to TOTP keys only"},
		{"period with hotp", sec, "", []string{"-hotp", "-period", "60"}, "-period applies to TOTP keys only"},
		{"start with hotp", sec, "", []string{"-hotp", "-start", "0"}, "-start applies to TOTP keys only"},
		{"uri with digits", uri, "", []string{"-digits", "8"}, "-digits cannot be used with an otpauth URI"},
		{"uri with algo", uri, "", []string{"-algo", "SHA256"}, "-algo cannot be used with an otpauth URI"},
		{"uri with period", uri, "", []string{"-period", "60"}, "-period cannot be used with an otpauth URI"},
		{"uri with hotp", uri, "", []string{"-hotp"}, "-hotp cannot be used with an otpauth URI"},
		{"uri with hex", uri, "", []string{"-hex"}, "-hex cannot be used with an otpauth URI"},
		{"uri with start", uri, "", []string{"-start", "0"}, "-start cannot be used with an otpauth URI"},
		{"totp uri with counter", uri, "", []string{"-counter", "4"}, "-counter applies to HOTP keys only"},
		{"hotp uri with time", huri, "", []string{"-time", "0"}, "-time applies to TOTP keys only"},
		{"uri bad secret", "otpauth://totp/alice?secret=" + sec + "1", "", nil, "invalid otpauth URI: secret: invalid secret: illegal base32 character at offset 24"},
		{"uri no secret", "otpauth://totp/alice?issuer=Example", "", nil, "invalid otpauth URI: secret: missing"},
		{"uri bad digits", uri + "&digits=9", "", nil, "invalid otpauth URI: digits: 9 outside 6 to 8"},
		{"uri steam", uri + "&encoder=steam", "", nil, "invalid otpauth URI: encoder"},
		{"uri bad type", "otpauth://motp/alice?secret=" + sec, "", nil, "invalid otpauth URI: type: not totp or hotp"},
		{"uri duplicate", uri + "&secret=" + sec, "", nil, "invalid otpauth URI: secret: parameter given more than once"},
		{"uri issuer differs", "otpauth://totp/Other:alice?secret=" + sec + "&issuer=Example", "", nil, "invalid otpauth URI: issuer: label prefix and issuer parameter differ"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("TWOFA_TEST_EMPTY", "  ")
			r := runT(t, tc.stdin, append([]string{"code"}, tc.args...)...)
			requireUsage(t, r, "code", tc.want, sec, sec[:16], sec[8:])
			require.Contains(t, r.stderr, "run 'twofa code -h' for usage")
		})
	}
}
