package main

// Cross-checks of twofa code against oathtool (OATH Toolkit), an
// independent C implementation of RFC 4226 and RFC 6238. They run when
// oathtool is installed and skip otherwise, except under CI: with
// TWOFA_CI set (as .ci/run sets it, after installing oathtool) a missing
// oathtool fails them, so that CI never passes without the cross-check.
//
// The random cases come from a seeded PCG: a failure prints its seed, and
//
//	go test ./cmd/twofa -run Oathtool -oathtool.seed=N
//
// replays it.

import (
	"bytes"
	"encoding/base32"
	"flag"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var oathSeed = flag.Uint64("oathtool.seed", 0, "seed of the random oathtool cross-checks (0: a new one each run)")

// oathtoolCases is the number of random cases of TestOathtoolRandom.
const oathtoolCases = 200

// oathtool returns the path of oathtool, skipping the test if it is not
// installed, or failing it when TWOFA_CI is set.
func oathtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("oathtool")
	if err == nil {
		return path
	}
	if os.Getenv("TWOFA_CI") != "" {
		t.Fatalf("oathtool is not installed, and TWOFA_CI is set: CI must run the oathtool cross-check (apt-get install oathtool): %v", err)
	}
	t.Skipf("oathtool is not installed (Debian and Ubuntu: apt-get install oathtool); skipping the cross-check of twofa code against it")
	return ""
}

// runOathtool runs oathtool with args and the base32 key on standard
// input (its "-" argument), and returns its output.
func runOathtool(t *testing.T, path, key string, args ...string) string {
	t.Helper()
	cmd := exec.Command(path, append(append([]string{"-b"}, args...), "-")...)
	cmd.Stdin = strings.NewReader(key + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "oathtool %v: %s", args, stderr.String())
	return string(out)
}

func TestOathtoolRFC6238(t *testing.T) {
	path := oathtool(t)
	v := loadRFC6238(t)
	for _, c := range v.Cases {
		sec := v.Secrets[c.Algorithm].Base32
		at := strconv.FormatInt(c.Time, 10)
		want := runOathtool(t, path, sec, "--totp="+c.Algorithm, "-d", "8", "-N", "@"+at)
		require.Equal(t, c.TOTP+"\n", want, "oathtool disagrees with RFC 6238 at %d, %s", c.Time, c.Algorithm)
		r := runT(t, sec, "code", "-time", at, "-digits", "8", "-algo", c.Algorithm)
		requireOK(t, r)
		require.Equal(t, want, r.stdout, "%d, %s", c.Time, c.Algorithm)
		// With a window, both print the same run of codes.
		want = runOathtool(t, path, sec, "--totp="+c.Algorithm, "-d", "8", "-N", "@"+at, "-w", "3")
		r = runT(t, sec, "code", "-time", at, "-digits", "8", "-algo", c.Algorithm, "-window", "3")
		requireOK(t, r)
		require.Equal(t, want, r.stdout, "%d, %s, window 3", c.Time, c.Algorithm)
	}
}

func TestOathtoolRFC4226(t *testing.T) {
	path := oathtool(t)
	v := loadRFC4226(t)
	want := runOathtool(t, path, v.SecretBase32, "-c", "0", "-w", "9")
	r := runT(t, v.SecretBase32, "code", "-hotp", "-counter", "0", "-window", "9")
	requireOK(t, r)
	require.Equal(t, want, r.stdout)
	var rfc []string
	for _, c := range v.Cases {
		rfc = append(rfc, c.HOTP)
	}
	require.Equal(t, strings.Join(rfc, "\n")+"\n", want, "oathtool disagrees with RFC 4226")
}

func TestOathtoolRandom(t *testing.T) {
	path := oathtool(t)
	seed := *oathSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay: go test ./cmd/twofa -run '^%s$' -oathtool.seed=%d)", seed, t.Name(), seed)
	r := rand.New(rand.NewPCG(seed, 0x6f617468)) // "oath"
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	algos := []string{"SHA1", "SHA256", "SHA512"}
	for i := range oathtoolCases {
		key := make([]byte, 10+r.IntN(119)) // MinSecretSize to MaxSecretSize
		for j := range key {
			key[j] = byte(r.Uint32())
		}
		sec := enc.EncodeToString(key)
		digits := strconv.Itoa(6 + r.IntN(3))
		window := strconv.Itoa(r.IntN(4))
		var oath, ours []string
		if i%4 == 3 { // HOTP, a quarter of the cases
			counter := r.Uint64() >> r.IntN(64)
			c := strconv.FormatUint(counter, 10)
			oath = []string{"-c", c, "-d", digits, "-w", window}
			ours = []string{"-hotp", "-counter", c, "-digits", digits, "-window", window}
		} else {
			algo := algos[r.IntN(len(algos))]
			period := 1 + r.IntN(120)
			if r.IntN(4) == 0 {
				period = 1 + r.IntN(86400)
			}
			p := strconv.Itoa(period)
			at := strconv.FormatInt(r.Int64N(253402300800), 10) // up to the end of year 9999
			oath = []string{"--totp=" + algo, "-s", p + "s", "-N", "@" + at, "-d", digits, "-w", window}
			ours = []string{"-algo", algo, "-period", p, "-time", at, "-digits", digits, "-window", window}
		}
		want := runOathtool(t, path, sec, oath...)
		got := runT(t, sec, append([]string{"code"}, ours...)...)
		requireOK(t, got)
		require.Equal(t, want, got.stdout, "case %d: %d-byte key, oathtool %v (seed %d)", i, len(key), oath, seed)
	}
	t.Logf("%d random cases agree", oathtoolCases)
}

func TestOathtoolMissing(t *testing.T) {
	// The skip and the failure without oathtool, run in a child test
	// process whose PATH holds no oathtool.
	if os.Getenv("TWOFA_TEST_OATHTOOL_CHILD") != "" {
		oathtool(t)
		t.Fatal("oathtool found on an empty PATH")
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	for _, ci := range []string{"", "1"} {
		cmd := exec.Command(exe, "-test.run", "^TestOathtoolMissing$", "-test.v")
		cmd.Env = append(os.Environ(), "PATH="+t.TempDir(), "TWOFA_TEST_OATHTOOL_CHILD=1", "TWOFA_CI="+ci)
		out, err := cmd.CombinedOutput()
		if ci == "" {
			require.NoError(t, err, "%s", out)
			require.Contains(t, string(out), "--- SKIP: TestOathtoolMissing")
			require.Contains(t, string(out), "oathtool is not installed")
		} else {
			require.Error(t, err, "%s", out)
			require.Contains(t, string(out), "--- FAIL: TestOathtoolMissing")
			require.Contains(t, string(out), "TWOFA_CI is set")
		}
	}
}
