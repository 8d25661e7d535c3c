package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
)

func TestURIBuild(t *testing.T) {
	const sec = "JBSWY3DPEHPK3PXP"
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"google example", sec, []string{"-issuer", "Example", "-account", "alice@google.com"},
			"otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example&algorithm=SHA1&digits=6&period=30"},
		{"no issuer, typed secret", "jbsw y3dp-ehpk 3pxp\n", []string{"-account", "alice"},
			"otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30"},
		{"parameters", sec, []string{"-issuer", "ACME Co", "-account", "john.doe@email.com", "-algo", "SHA512", "-digits", "8", "-period", "1m"},
			"otpauth://totp/ACME%20Co:john.doe@email.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co&algorithm=SHA512&digits=8&period=60"},
		{"hotp", sec, []string{"-account", "alice", "-hotp", "-counter", "7"},
			"otpauth://hotp/alice?secret=JBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&counter=7"},
		{"hex", "3132333435363738393031323334353637383930", []string{"-account", "alice", "-hex"},
			"otpauth://totp/alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA1&digits=6&period=30"},
		{"argument", "", []string{"-account", "alice", sec},
			"otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runT(t, tc.stdin, append([]string{"uri"}, tc.args...)...)
			requireOK(t, r)
			require.Equal(t, tc.want+"\n", r.stdout)
			_, err := twofa.ParseKeyURI(r.stdout)
			require.NoError(t, err)
		})
	}
	t.Setenv("TWOFA_TEST_SECRET", sec)
	r := runT(t, "", "uri", "-account", "alice", "-env", "TWOFA_TEST_SECRET")
	requireOK(t, r)
	require.Equal(t, "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30\n", r.stdout)
}

func TestURIGenerate(t *testing.T) {
	seen := map[string]bool{}
	for _, size := range []int{0, 16, 32, 128} {
		args := []string{"uri", "-issuer", "Example", "-account", "alice", "-generate", "-digits", "7"}
		want := twofa.DefaultSecretSize
		if size != 0 {
			args = append(args, "-bytes", itoa(size))
			want = size
		}
		r := runT(t, "", args...)
		requireOK(t, r)
		k, err := twofa.ParseKeyURI(r.stdout)
		require.NoError(t, err)
		require.Equal(t, want, k.Secret.Len())
		require.Equal(t, "Example", k.Issuer)
		require.Equal(t, "alice", k.Account)
		require.Equal(t, 7, k.Digits)
		require.False(t, seen[k.Secret.Base32()], "a secret generated twice")
		seen[k.Secret.Base32()] = true
		// What code computes from the URI is the key's code.
		g, err := k.TOTP()
		require.NoError(t, err)
		code, err := g.Code(testNow)
		require.NoError(t, err)
		c := runT(t, r.stdout, "code")
		requireOK(t, c)
		require.Equal(t, code+"\n", c.stdout)
	}
}

func TestURIBuildBadInput(t *testing.T) {
	const sec = "JBSWY3DPEHPK3PXPJBSWY3DP"
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"no account", sec, nil, "-account is required"},
		{"no secret", "", []string{"-account", "alice"}, "no secret on standard input"},
		{"bad secret", sec + "!", []string{"-account", "alice"}, "invalid secret: illegal base32 character at offset 24"},
		{"short secret", "JBSWY3DPEHPK3PX", []string{"-account", "alice"}, "invalid secret: secret too short"},
		{"a URI", "otpauth://totp/alice?secret=" + sec, []string{"-account", "alice"}, "did you mean 'twofa uri inspect'?"},
		{"colon in account", sec, []string{"-account", "a:b"}, "invalid otpauth URI: account: contains ':'"},
		{"colon in issuer", sec, []string{"-account", "alice", "-issuer", "a:b"}, "invalid otpauth URI: issuer: contains ':'"},
		{"space around account", sec, []string{"-account", " alice"}, "invalid otpauth URI: account: begins or ends with a space"},
		{"control in account", sec, []string{"-account", "al\x1bice"}, "invalid otpauth URI: account: "},
		{"bidi override in issuer", sec, []string{"-account", "alice", "-issuer", "Ex\u202eample"}, "invalid otpauth URI: issuer: "},
		{"long account", sec, []string{"-account", strings.Repeat("a", 257)}, "invalid otpauth URI: account: longer than 256 bytes"},
		{"period with hotp", sec, []string{"-account", "alice", "-hotp", "-period", "60"}, "-period applies to TOTP keys only"},
		{"counter without hotp", sec, []string{"-account", "alice", "-counter", "1"}, "-counter applies to HOTP keys only"},
		{"generate and argument", "", []string{"-account", "alice", "-generate", sec}, "-generate takes no SECRET argument"},
		{"generate and env", "", []string{"-account", "alice", "-generate", "-env", "X"}, "-env cannot be used with -generate"},
		{"generate and hex", "", []string{"-account", "alice", "-generate", "-hex"}, "-hex cannot be used with -generate"},
		{"generate short", "", []string{"-account", "alice", "-generate", "-bytes", "15"}, "-bytes 15 outside 16 to 128"},
		{"generate long", "", []string{"-account", "alice", "-generate", "-bytes", "129"}, "-bytes 129 outside 16 to 128"},
		{"bytes without generate", sec, []string{"-account", "alice", "-bytes", "20"}, "-bytes applies to -generate only"},
		{"digits", sec, []string{"-account", "alice", "-digits", "10"}, "invalid value for flag -digits"},
		{"secret as a flag value", "", []string{"-account", "alice", "-algo", sec}, "invalid value for flag -algo"},
		{"two arguments", "", []string{"-account", "alice", sec, sec}, "too many arguments (2); flags go before the secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runT(t, tc.stdin, append([]string{"uri"}, tc.args...)...)
			requireUsage(t, r, "uri", tc.want, sec, sec[:16], sec[8:])
			require.Contains(t, r.stderr, "run 'twofa uri -h' for usage")
		})
	}
}

func TestURIInspect(t *testing.T) {
	r := runT(t, "otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&algorithm=SHA512&digits=8&period=60\n",
		"uri", "inspect")
	require.Equal(t, exitOK, r.status, r.stderr)
	require.Equal(t, `type       totp
issuer     ACME Co
account    john.doe@email.com
secret     REDACTED (20 bytes)
algorithm  SHA512
digits     8
period     1m0s
`, r.stdout)
	require.Equal(t, "note: some authenticator apps ignore algorithm, digits and period, and compute SHA1, 6-digit, 30 s codes\n", r.stderr)
	requireNoSecret(t, r, "HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ", "HXDMVJECJJWSRB3H")

	r = runT(t, "", "uri", "inspect", "-show-secret", "otpauth://hotp/alice?secret=jbswy3dpehpk3pxp&counter=9")
	require.Equal(t, exitOK, r.status, r.stderr)
	require.Equal(t, `type       hotp
issuer     
account    alice
secret     JBSWY3DPEHPK3PXP
algorithm  SHA1
digits     6
counter    9
`, r.stdout)
	require.Equal(t, "note: the secret has 10 bytes, fewer than the 16 RFC 4226 requires of new secrets\nnote: no issuer: apps show the account alone\n", r.stderr)

	t.Setenv("TWOFA_TEST_URI", "otpauth://totp/Example:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Example")
	r = runT(t, "", "uri", "inspect", "-env", "TWOFA_TEST_URI")
	requireOK(t, r)
	require.Contains(t, r.stdout, "secret     REDACTED (20 bytes)\n")
	require.Contains(t, r.stdout, "period     30s\n")
	requireNoSecret(t, r, "GEZDGNBVGY3TQOJQ")
}

// TestURIInspectInvalid: every part ParseKeyURI names, reported with exit
// status 2 and never with the secret.
func TestURIInspectInvalid(t *testing.T) {
	const sec = "JBSWY3DPEHPK3PXPJBSWY3DP"
	ok := "otpauth://totp/Example:alice?secret=" + sec + "&issuer=Example"
	for _, tc := range []struct {
		name, uri, part, want string
	}{
		{"too long", ok + "&x=" + strings.Repeat("a", 4096), "uri", "longer than 4096 bytes"},
		{"control", "otpauth://totp/al\x01ice?secret=" + sec, "uri", "contains a control character at offset 17"},
		{"fragment", ok + "#" + sec, "uri", "has a fragment"},
		{"scheme", "https://totp/alice?secret=" + sec, "scheme", "not the otpauth scheme"},
		{"type", "otpauth://motp/alice?secret=" + sec, "type", "not totp or hotp"},
		{"label", "otpauth://totp?secret=" + sec, "label", "missing"},
		{"label escape", "otpauth://totp/al%zzice?secret=" + sec, "label", "invalid percent-encoding"},
		{"issuer", "otpauth://totp/Other:alice?secret=" + sec + "&issuer=Example", "issuer", "label prefix and issuer parameter differ"},
		{"account", "otpauth://totp/Example:?secret=" + sec, "account", "missing"},
		{"account bidi", "otpauth://totp/al%E2%80%AEice?secret=" + sec, "account", ""},
		{"secret missing", "otpauth://totp/alice?issuer=Example", "secret", "missing"},
		{"secret character", "otpauth://totp/alice?secret=" + sec[:20] + "1" + sec[21:], "secret", "invalid secret: illegal base32 character at offset 20"},
		{"secret short", "otpauth://totp/alice?secret=" + sec[:8], "secret", "invalid secret: secret too short"},
		{"secret twice", ok + "&secret=" + sec, "secret", "parameter given more than once"},
		{"algorithm", ok + "&algorithm=MD5", "algorithm", "unknown algorithm"},
		{"digits", ok + "&digits=5", "digits", "5 outside 6 to 8"},
		{"digits number", ok + "&digits=six", "digits", "not a decimal integer"},
		{"period", ok + "&period=0", "period", "0 s outside 1 to 86400 s"},
		{"counter", "otpauth://hotp/alice?secret=" + sec + "&counter=-1", "counter", "not a decimal integer"},
		{"encoder", ok + "&encoder=steam", "encoder", "non-standard code encoding"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := twofa.ParseKeyURI(tc.uri)
			var ue *twofa.URIError
			require.ErrorAs(t, err, &ue)
			require.Equal(t, tc.part, ue.Part, "the library's part")
			r := runT(t, tc.uri, "uri", "inspect")
			requireUsage(t, r, "uri inspect", "invalid otpauth URI: "+tc.part+": "+tc.want, sec, sec[:16], sec[8:])
			require.Contains(t, r.stderr, "run 'twofa uri inspect -h' for usage")
			// The same URI as an argument and in the environment.
			if !strings.ContainsRune(tc.uri, 0) {
				r = runT(t, "", "uri", "inspect", tc.uri)
				requireUsage(t, r, "uri inspect", "invalid otpauth URI: "+tc.part+": ", sec, sec[:16], sec[8:])
			}
		})
	}
	requireUsage(t, runT(t, "", "uri", "inspect"), "uri inspect", "no otpauth URI on standard input")
	requireUsage(t, runT(t, "", "uri", "inspect", ok, ok), "uri inspect", "too many arguments (2)")
	requireUsage(t, runT(t, ok, "uri", "inspect", "-show"), "uri inspect", `flag provided but not defined: "-show"`)
	requireUsage(t, runT(t, ok, "uri", "inspect", "-show-secret="+sec), "uri inspect", "invalid boolean value for -show-secret", sec)
}

// FuzzURIInspect: uri inspect never panics, exits 0 exactly when
// ParseKeyURI accepts the input, reports ParseKeyURI's error otherwise,
// and never prints the secret unless -show-secret asks for it.
func FuzzURIInspect(f *testing.F) {
	for _, s := range []string{
		"otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
		"otpauth://hotp/alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=42",
		"otpauth://totp/B%C3%BCcher:j%C3%BCrgen?secret=jbswy3dp-ehpk3pxp&issuer=B%C3%BCcher&algorithm=sha256&digits=8&period=60",
		"otpauth://totp/alice?secret=JBSWY3DPEHPK3PX!",
		"otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP#JBSWY3DPEHPK3PXP",
		"otpauth://totp/JBSWY3DPEHPK3PXP?secret=JBSWY3DPEHPK3PXP",
		"JBSWY3DPEHPK3PXP",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r := runT(t, in, "uri", "inspect")
		line, _, _ := strings.Cut(in, "\n")
		k, err := twofa.ParseKeyURI(line)
		switch {
		case len(line) <= maxInput && strings.TrimSpace(line) == "":
			require.Equal(t, exitUsage, r.status)
			require.Empty(t, r.stdout)
		case len(line) > maxInput:
			require.Equal(t, exitUsage, r.status)
			require.Empty(t, r.stdout)
			require.Contains(t, r.stderr, "longer than 65536 bytes")
		case err != nil:
			require.Equal(t, exitUsage, r.status)
			require.Empty(t, r.stdout)
			require.Equal(t, "twofa uri inspect: "+uriMessage(err)+"\nrun 'twofa uri inspect -h' for usage\n", r.stderr)
			// If the secret parameter is a valid secret, its canonical
			// form is in no message.
			if q := strings.IndexAny(line, "?"); q >= 0 {
				for field := range strings.SplitSeq(line[q+1:], "&") {
					name, val, _ := strings.Cut(field, "=")
					if !strings.EqualFold(name, "secret") {
						continue
					}
					if s, err := twofa.ParseSecret(val); err == nil {
						require.NotContains(t, r.stderr, s.Base32())
					}
				}
			}
		default:
			require.Equal(t, exitOK, r.status, r.stderr)
			require.Contains(t, r.stdout, "type       "+k.Type.String()+"\n")
			if b := k.Secret.Base32(); !strings.Contains(k.Issuer+k.Account, b) {
				require.NotContains(t, r.stdout, b)
				require.NotContains(t, r.stderr, b)
			}
			if k.Type == twofa.TypeTOTP {
				require.Contains(t, r.stdout, "period     "+k.Period.String()+"\n")
				require.LessOrEqual(t, k.Period, 24*time.Hour)
			}
		}
	})
}
