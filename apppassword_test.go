package twofa_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/internal/stats"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/twofatest"
)

// apFormat is the shape of an app password as Create returns it.
var apFormat = regexp.MustCompile(`^[a-z]{4}-[a-z]{4}-[a-z]{4}-[a-z]{4}$`)

// apWrong is a well-formed app password that no test creates (the chance
// that a random one equals it is 26^-16).
const apWrong = "zzzz-zzzz-zzzz-zzzz"

// apFixture is a twofatest environment whose managers use a faultStore,
// and an AppPasswords manager on the same Config.
type apFixture struct {
	env *twofatest.Env
	st  *faultStore
	ap  *twofa.AppPasswords
}

// apSetup returns a fixture with env.Config changed by change (if not
// nil). No account has a device yet.
func apSetup(t testing.TB, change func(*twofa.Config)) *apFixture {
	t.Helper()
	env := twofatest.New(t)
	st := newFaultStore(env.Store)
	devWithConfig(t, env, func(c *twofa.Config) {
		c.Store = st
		if change != nil {
			change(c)
		}
	})
	ap, err := newAppPasswords(env.Config)
	require.NoError(t, err)
	return &apFixture{env: env, st: st, ap: ap}
}

// apEnrolled returns a fixture where each of accounts has a confirmed
// TOTP device.
func apEnrolled(t testing.TB, accounts ...string) *apFixture {
	t.Helper()
	f := apSetup(t, nil)
	for _, a := range accounts {
		f.env.EnrollTOTP(a)
	}
	return f
}

func (f *apFixture) create(t testing.TB, account, label string) (string, twofa.AppPasswordInfo) {
	t.Helper()
	pw, info, err := f.ap.Create(t.Context(), account, label)
	require.NoError(t, err, "Create(%q, %q)", account, label)
	return pw, info
}

func (f *apFixture) verify(t testing.TB, account, pw string) (twofa.AppPasswordInfo, error) {
	t.Helper()
	return f.ap.Verify(t.Context(), account, pw)
}

func (f *apFixture) list(t testing.TB, account string) []twofa.AppPasswordInfo {
	t.Helper()
	l, err := f.ap.List(t.Context(), account)
	require.NoError(t, err)
	return l
}

func (f *apFixture) failures(t testing.TB, account string) int {
	t.Helper()
	st, err := f.env.Store.Throttle(t.Context(), account, twofa.ScopeAppPassword)
	require.NoError(t, err)
	return st.Failures
}

// eventsSince returns the events recorded after the first n.
func (f *apFixture) eventsSince(n int) []twofa.Event {
	return f.env.Events.Events()[n:]
}

func (f *apFixture) nEvents() int { return len(f.env.Events.Events()) }

func apFlat(pw string) string { return strings.ReplaceAll(pw, "-", "") }

func TestAppPasswordCreate(t *testing.T) {
	t.Parallel()
	f := apEnrolled(t, "alice")
	mark := f.nEvents()
	pw, info := f.create(t, "alice", "Mail on Alice's Mac")
	assert.Regexp(t, apFormat, pw)
	assert.Len(t, pw, 19)
	assert.NotEmpty(t, info.ID)
	assert.Equal(t, "Mail on Alice's Mac", info.Label)
	assert.Equal(t, twofatest.Start, info.CreatedAt)
	assert.True(t, info.LastUsedAt.IsZero(), "never used")
	assert.Equal(t, []twofa.Event{{Type: twofa.EventAppPasswordCreated, Account: "alice", AppPasswordID: info.ID, Time: twofatest.Start}},
		f.eventsSince(mark))
	assert.Equal(t, []twofa.AppPasswordInfo{info}, f.list(t, "alice"))

	got, err := f.verify(t, "alice", pw)
	require.NoError(t, err)
	assert.Equal(t, info.ID, got.ID)

	// A second password is another one, with another id.
	pw2, info2 := f.create(t, "alice", "Calendar")
	assert.NotEqual(t, pw, pw2)
	assert.NotEqual(t, info.ID, info2.ID)

	_, _, err = f.ap.Create(t.Context(), "", "Mail")
	require.ErrorIs(t, err, twofa.ErrInvalidAccount)
	_, _, err = f.ap.Create(t.Context(), "bad\naccount", "Mail")
	require.ErrorIs(t, err, twofa.ErrInvalidAccount)
}

func TestAppPasswordFormat(t *testing.T) {
	t.Parallel()
	f := apEnrolled(t, "alice")
	seen := map[string]bool{}
	for i := range 500 {
		if i%cfgDefaults(t).AppPasswords.Max == 0 {
			_, err := f.ap.RevokeAll(t.Context(), "alice")
			require.NoError(t, err)
		}
		pw, _ := f.create(t, "alice", fmt.Sprint("client ", i))
		require.Regexp(t, apFormat, pw)
		require.False(t, seen[pw], "%s issued twice", pw)
		seen[pw] = true
	}
}

// TestAppPasswordDistribution checks that every letter is equally likely
// at every position: a chi-square test of the letter counts of 20,000
// passwords (320,000 letters) against the uniform distribution, 25
// degrees of freedom, overall and per position.
func TestAppPasswordDistribution(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("creates 20,000 app passwords")
	}
	f := apSetup(t, func(c *twofa.Config) { c.Events = nil })
	f.env.EnrollTOTP("alice")
	const n = 20000
	const letters = 16
	var overall [26]int
	var byPosition [letters][26]int
	seen := make(map[string]bool, n)
	for i := range n {
		if i%cfgDefaults(t).AppPasswords.Max == 0 {
			_, err := f.ap.RevokeAll(t.Context(), "alice")
			require.NoError(t, err)
		}
		pw, _ := f.create(t, "alice", fmt.Sprint("client ", i))
		require.Regexp(t, apFormat, pw, "password %q is not abcd-efgh-ijkl-mnop", pw)
		require.False(t, seen[pw], "password %q issued twice", pw)
		seen[pw] = true
		flat := apFlat(pw)
		for j := range letters {
			k := flat[j] - 'a'
			overall[k]++
			byPosition[j][k]++
		}
	}
	// p > 1e-6: a correct generator fails once in a million runs per check.
	const threshold = 1e-6
	x := stats.ChiSquare(overall[:])
	p := stats.ChiSquareP(x, 25)
	assert.Greater(t, p, threshold, "overall: chi-square %.1f, counts %v", x, overall)
	for j := range byPosition {
		x := stats.ChiSquare(byPosition[j][:])
		p := stats.ChiSquareP(x, 25)
		assert.Greater(t, p, threshold, "position %d: chi-square %.1f, counts %v", j, x, byPosition[j])
	}
	for k, c := range overall {
		assert.NotZero(t, c, "letter %c never appears", 'a'+k)
	}
}

// TestAppPasswordChiSquareDetectsBias checks that the distribution test
// would catch the classic modulo bias: bytes taken mod 26 without
// rejecting 234 to 255 make a-v more likely than w-z.
func TestAppPasswordChiSquareDetectsBias(t *testing.T) {
	t.Parallel()
	var counts [26]int
	const letters = 20000 * 16
	for i := range letters {
		counts[(i%256)%26]++
	}
	assert.Less(t, stats.ChiSquareP(stats.ChiSquare(counts[:]), 25), 1e-6)
}

func TestAppPasswordNotEnrolled(t *testing.T) {
	t.Parallel()
	f := apSetup(t, nil)
	ctx := t.Context()
	_, _, err := f.ap.Create(ctx, "alice", "Mail")
	require.ErrorIs(t, err, twofa.ErrNotEnrolled, "no device")

	// A pending device does not turn two-factor authentication on.
	e := devEnroll(t, f.env, "alice", twofa.EnrollOptions{})
	mark := f.nEvents()
	_, _, err = f.ap.Create(ctx, "alice", "Mail")
	require.ErrorIs(t, err, twofa.ErrNotEnrolled, "pending device")
	assert.Empty(t, f.list(t, "alice"))
	assert.Empty(t, f.eventsSince(mark))
	assert.Zero(t, f.st.count("InsertAppPassword"))

	// Confirming it does.
	require.NoError(t, errOf(f.env.Devices.Confirm(ctx, "alice", e.Device.ID, devConfirmCode(t, f.env, e))))
	pw, _ := f.create(t, "alice", "Mail")
	_, err = f.verify(t, "alice", pw)
	require.NoError(t, err)

	// Another account's device does not count.
	_, _, err = f.ap.Create(ctx, "bob", "Mail")
	require.ErrorIs(t, err, twofa.ErrNotEnrolled)
}

func TestAppPasswordLabels(t *testing.T) {
	t.Parallel()
	f := apEnrolled(t, "alice")
	ctx := t.Context()
	mark := f.nEvents()
	for name, label := range map[string]string{
		"empty":             "",
		"spaces only":       "    ",
		"white space only":  " \t\n\r ",
		"65 characters":     strings.Repeat("x", 65),
		"65 two-byte chars": strings.Repeat("é", 65),
		"65 after trimming": "  " + strings.Repeat("x", 65) + "  ",
		"1 MB":              strings.Repeat("x", 1<<20),
		"NUL":               "Mail\x00",
		"newline":           "Mail\nAdmin",
		"escape":            "Mail\x1b[31m",
		"DEL":               "Mail\x7f",
		"C1 control":        "Mail\u0085x",
		"bidi override":     "Mail \u202egpj.exe",
		"bidi isolate":      "Mail \u2066x\u2069",
		"zero-width space":  "Mail\u200b",
		"invalid UTF-8":     "Mail\xff",
		"truncated UTF-8":   "Mail\xc3",
		"surrogate":         "Mail\xed\xa0\x80",
	} {
		_, _, err := f.ap.Create(ctx, "alice", label)
		require.ErrorIs(t, err, twofa.ErrInvalidLabel, name)
	}
	assert.Empty(t, f.list(t, "alice"), "nothing stored")
	assert.Empty(t, f.eventsSince(mark), "no events")
	assert.Zero(t, f.st.count("InsertAppPassword"))

	for label, want := range map[string]string{
		"  Mail on Mac \t\n":                "Mail on Mac",
		strings.Repeat("x", 64):             strings.Repeat("x", 64),
		strings.Repeat("é", 64):             strings.Repeat("é", 64),
		" " + strings.Repeat("ü", 64) + " ": strings.Repeat("ü", 64),
		"Thunderbird – ünïcode ✓":           "Thunderbird – ünïcode ✓",
		"日本語のラベル":                           "日本語のラベル",
	} {
		_, info := f.create(t, "alice", label)
		assert.Equal(t, want, info.Label)
	}
	labels := map[string]bool{}
	for _, p := range f.list(t, "alice") {
		labels[p.Label] = true
	}
	assert.True(t, labels["Mail on Mac"], "the list holds the trimmed label")
}

func TestAppPasswordDuplicateLabel(t *testing.T) {
	t.Parallel()
	f := apEnrolled(t, "alice", "bob")
	ctx := t.Context()
	_, first := f.create(t, "alice", "Mail")
	mark := f.nEvents()
	for _, label := range []string{"Mail", "  Mail ", "Mail\t"} {
		_, _, err := f.ap.Create(ctx, "alice", label)
		require.ErrorIs(t, err, twofa.ErrDuplicateLabel, "%q", label)
		require.ErrorIs(t, err, twofa.ErrDuplicate)
	}
	assert.Len(t, f.list(t, "alice"), 1)
	assert.Empty(t, f.eventsSince(mark))

	// Another account may use the label.
	f.create(t, "bob", "Mail")

	// A revoked password's label is free again.
	require.NoError(t, f.ap.Revoke(ctx, "alice", first.ID))
	_, again := f.create(t, "alice", "Mail")
	assert.NotEqual(t, first.ID, again.ID)
	// As after revoking them all.
	_, err := f.ap.RevokeAll(ctx, "alice")
	require.NoError(t, err)
	f.create(t, "alice", "Mail")
}

func TestAppPasswordLimit(t *testing.T) {
	t.Parallel()
	f := apEnrolled(t, "alice", "bob")
	ctx := t.Context()
	var pws []string
	var infos []twofa.AppPasswordInfo
	for i := range cfgDefaults(t).AppPasswords.Max {
		pw, info := f.create(t, "alice", fmt.Sprint("client ", i+1))
		pws = append(pws, pw)
		infos = append(infos, info)
	}
	assert.Equal(t, 25, cfgDefaults(t).AppPasswords.Max)
	mark := f.nEvents()
	_, _, err := f.ap.Create(ctx, "alice", "client 26")
	require.ErrorIs(t, err, twofa.ErrTooManyAppPasswords)
	require.ErrorIs(t, err, twofa.ErrLimitReached)
	assert.Empty(t, f.eventsSince(mark))
	assert.Len(t, f.list(t, "alice"), 25)
	for _, pw := range pws {
		_, err := f.verify(t, "alice", pw)
		require.NoError(t, err)
	}

	// The limit is per account.
	f.create(t, "bob", "client 1")

	// Revoking one makes room for one.
	require.NoError(t, f.ap.Revoke(ctx, "alice", infos[3].ID))
	f.create(t, "alice", "client 26")
	_, _, err = f.ap.Create(ctx, "alice", "client 27")
	require.ErrorIs(t, err, twofa.ErrTooManyAppPasswords)
}

func TestAppPasswordLimitConfig(t *testing.T) {
	t.Parallel()
	f := apSetup(t, func(c *twofa.Config) { c.AppPasswords.Max = 3 })
	f.env.EnrollTOTP("alice")
	for i := range 3 {
		f.create(t, "alice", fmt.Sprint("client ", i))
	}
	_, _, err := f.ap.Create(t.Context(), "alice", "client 3")
	require.ErrorIs(t, err, twofa.ErrTooManyAppPasswords)
	assert.Len(t, f.list(t, "alice"), 3)

	env := twofatest.New(t)
	for name, change := range map[string]func(*twofa.Config){
		"negative limit":     func(c *twofa.Config) { c.AppPasswords.Max = -1 },
		"throttle zero Base": func(c *twofa.Config) { c.Throttle.AppPasswords = twofa.ThrottlePolicy{Free: 3} },
		"throttle Max<Base": func(c *twofa.Config) {
			c.Throttle.AppPasswords = twofa.ThrottlePolicy{Base: time.Hour, Max: time.Second}
		},
		"throttle budget": func(c *twofa.Config) {
			c.Throttle.AppPasswords = twofa.ThrottlePolicy{Free: 3, Base: time.Second, Max: time.Hour, Budget: 5, Refill: time.Hour}
		},
		"throttle budget only": func(c *twofa.Config) { c.Throttle.AppPasswords = twofa.ThrottlePolicy{Budget: 5, Refill: time.Hour} },
		"no store":             func(c *twofa.Config) { c.Store = nil },
		"no keyring":           func(c *twofa.Config) { c.Keyring = nil },
	} {
		c := env.Config
		change(&c)
		ap, err := newAppPasswords(c)
		require.ErrorIs(t, err, twofa.ErrConfig, name)
		assert.Nil(t, ap, name)
	}
}

func TestAppPasswordConcurrentCreate(t *testing.T) {
	t.Parallel()
	f := apEnrolled(t, "alice", "bob")
	const n = 60
	run := func(account string, label func(i int) string) map[error]int {
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				_, _, errs[i] = f.ap.Create(context.Background(), account, label(i))
			})
		}
		close(start)
		wg.Wait()
		out := map[error]int{}
		for _, err := range errs {
			out[err]++
		}
		return out
	}
	got := run("alice", func(i int) string { return fmt.Sprint("client ", i) })
	assert.Equal(t, map[error]int{nil: 25, twofa.ErrTooManyAppPasswords: n - 25}, got)
	assert.Len(t, f.list(t, "alice"), 25)
	assert.Equal(t, 25, f.env.Events.Count(twofa.EventAppPasswordCreated))

	got = run("bob", func(int) string { return "same label" })
	assert.Equal(t, map[error]int{nil: 1, twofa.ErrDuplicateLabel: n - 1}, got)
	assert.Len(t, f.list(t, "bob"), 1)
}

func TestAppPasswordVerifyForms(t *testing.T) {
	t.Parallel()
	f := apEnrolled(t, "alice")
	pw, info := f.create(t, "alice", "Mail")
	flat := apFlat(pw)
	g := [4]string{pw[0:4], pw[5:9], pw[10:14], pw[15:19]}
	up := strings.ToUpper
	for name, typed := range map[string]string{
		"exact":             pw,
		"upper case":        up(pw),
		"no hyphens":        flat,
		"no hyphens, upper": up(flat),
		"spaces":            strings.ReplaceAll(pw, "-", " "),
		"padded":            "  " + pw + " ",
		"trailing newline":  pw + "\n",
		"pasted":            "\t" + pw + "\r\n",
		"mixed":             " " + up(g[0]) + " " + g[1] + "--" + up(g[2][:2]) + g[2][2:] + "- " + g[3] + " ",
		"letter by letter":  strings.Join(strings.Split(flat, ""), " "),
		"odd grouping":      flat[:3] + "-" + flat[3:9] + " " + flat[9:],
	} {
		mark := f.nEvents()
		got, err := f.verify(t, "alice", typed)
		require.NoError(t, err, "%s: %q", name, typed)
		assert.Equal(t, info.ID, got.ID, name)
		assert.Equal(t, "Mail", got.Label, name)
		assert.Equal(t, []twofa.Event{{Type: twofa.EventAppPasswordUsed, Account: "alice", AppPasswordID: info.ID, Time: twofatest.Start}},
			f.eventsSince(mark), name)
	}
	assert.Zero(t, f.failures(t, "alice"))
	assert.Zero(t, f.st.count("ReserveAttempt:app_password"), "successes count nothing")
}

func TestAppPasswordVerifyMalformed(t *testing.T) {
	t.Parallel()
	f := apEnrolled(t, "alice")
	pw, _ := f.create(t, "alice", "Mail")
	flat := apFlat(pw)
	mark := f.nEvents()
	for name, bad := range map[string]string{
		"15 letters":         pw[:len(pw)-1],
		"17 letters":         pw + "a",
		"32 letters":         flat + flat,
		"12 letters":         pw[:14],
		"digit":              pw[:5] + "1" + pw[6:],
		"digits only":        "1234-5678-9012-3456",
		"accented letter":    pw[:3] + "é" + pw[4:],
		"Cyrillic a":         pw[:3] + "а" + pw[4:],
		"full-width letter":  pw[:3] + "ａ" + pw[4:],
		"Turkish dotless i":  pw[:3] + "ı" + pw[4:],
		"Kelvin sign":        pw[:3] + "\u212a" + pw[4:],
		"underscore":         strings.ReplaceAll(pw, "-", "_"),
		"dot":                strings.ReplaceAll(pw, "-", "."),
		"tab":                strings.ReplaceAll(pw, "-", "\t"),
		"newline inside":     pw[:4] + "\n" + pw[5:],
		"CR inside":          flat[:8] + "\r" + flat[8:],
		"zero-width space":   "\u200b" + pw,
		"1 MB of newlines":   pw + strings.Repeat("\n", 1<<20),
		"NUL":                pw[:4] + "\x00" + pw[5:],
		"invalid UTF-8":      pw[:4] + "\xff" + pw[5:],
		"empty":              "",
		"hyphens only":       "-------------------",
		"spaces only":        strings.Repeat(" ", 19),
		"1 MB of letters":    strings.Repeat("a", 1<<20),
		"1 MB after it":      pw + strings.Repeat(" ", 1<<20),
		"1 MB of hyphens":    strings.Repeat("-", 1<<20),
		"password=":          "password=" + pw,
		"the primary option": "hunter2",
	} {
		_, err := f.verify(t, "alice", bad)
		require.ErrorIs(t, err, twofa.ErrMalformedAppPassword, name)
		require.NotErrorIs(t, err, twofa.ErrInvalidAppPassword, name)
		assert.NotContains(t, err.Error(), flat[:8], name)
	}
	assert.Zero(t, f.failures(t, "alice"), "malformed input is not counted")
	assert.Zero(t, f.st.count("ReserveAttempt:app_password"))
	assert.Zero(t, f.st.count("AppPasswordByDigest"), "nothing looked up")
	assert.Empty(t, f.eventsSince(mark))
	_, err := f.verify(t, "alice", pw)
	require.NoError(t, err)

	_, err = f.verify(t, "", pw)
	require.ErrorIs(t, err, twofa.ErrInvalidAccount)
	_, err = f.verify(t, strings.Repeat("a", twofa.MaxAccountIDLen+1), pw)
	require.ErrorIs(t, err, twofa.ErrInvalidAccount)
}

func TestAppPasswordVerifyInvalid(t *testing.T) {
	t.Parallel()
	f := apEnrolled(t, "alice", "bob")
	ctx := t.Context()
	alicePW, _ := f.create(t, "alice", "Mail")
	revokedPW, revoked := f.create(t, "alice", "Old laptop")
	bobPW, _ := f.create(t, "bob", "Mail")
	require.NoError(t, f.ap.Revoke(ctx, "alice", revoked.ID))

	mark := f.nEvents()
	_, err := f.verify(t, "alice", apWrong)
	require.ErrorIs(t, err, twofa.ErrInvalidAppPassword)
	assert.Equal(t, []twofa.Event{{Type: twofa.EventAppPasswordFailed, Account: "alice", Time: twofatest.Start, Failures: 1}},
		f.eventsSince(mark))

	for name, pw := range map[string]string{
		"revoked":            revokedPW,
		"bob's":              bobPW,
		"bob's, upper case":  strings.ToUpper(bobPW),
		"bob's, no hyphens":  apFlat(bobPW),
		"revoked, no hyphen": apFlat(revokedPW),
	} {
		_, err := f.verify(t, "alice", pw)
		require.ErrorIs(t, err, twofa.ErrInvalidAppPassword, name)
	}
	assert.Equal(t, 6, f.failures(t, "alice"), "each counted")
	_, err = f.verify(t, "bob", alicePW)
	require.ErrorIs(t, err, twofa.ErrInvalidAppPassword, "alice's for bob")
	assert.Equal(t, 1, f.failures(t, "bob"))

	// An account with no app passwords, or unknown: no match either.
	_, err = f.verify(t, "carol", alicePW)
	require.ErrorIs(t, err, twofa.ErrInvalidAppPassword)

	// Each still works for its own account, and success resets the count.
	_, err = f.verify(t, "alice", alicePW)
	require.NoError(t, err)
	_, err = f.verify(t, "bob", bobPW)
	require.NoError(t, err)
	assert.Zero(t, f.failures(t, "alice"))
	assert.Zero(t, f.failures(t, "bob"))
}

func TestAppPasswordThrottle(t *testing.T) {
	t.Parallel()
	f := apEnrolled(t, "alice")
	dev := f.env.EnrollTOTP("alice")
	ctx := t.Context()
	pw, _ := f.create(t, "alice", "Mail")
	free := f.env.TwoFA.Config().Throttle.AppPasswords.Free
	assert.Equal(t, 10, free)
	for i := range free + 1 {
		_, err := f.verify(t, "alice", apWrong)
		require.ErrorIs(t, err, twofa.ErrInvalidAppPassword, "guess %d", i+1)
		assert.Equal(t, twofa.Event{Type: twofa.EventAppPasswordFailed, Account: "alice", Time: twofatest.Start, Failures: i + 1},
			devLastEvent(t, f.env))
	}

	// The back-off is engaged: a wrong password is told to wait, and not
	// counted.
	_, err := f.verify(t, "alice", apWrong)
	var te *twofa.ThrottledError
	require.ErrorAs(t, err, &te)
	require.ErrorIs(t, err, twofa.ErrThrottled)
	require.NotErrorIs(t, err, twofa.ErrInvalidAppPassword)
	assert.Equal(t, f.env.TwoFA.Config().Throttle.AppPasswords.Base, te.RetryAfter)
	assert.Equal(t, twofatest.Start.Add(f.env.TwoFA.Config().Throttle.AppPasswords.Base), te.Until)
	assert.Equal(t, twofa.Event{Type: twofa.EventThrottled, Account: "alice", Time: twofatest.Start, Scope: twofa.ScopeAppPassword,
		RetryAfter: time.Second, Failures: free + 1}, devLastEvent(t, f.env))
	_, err = f.verify(t, "alice", "short")
	require.ErrorIs(t, err, twofa.ErrMalformedAppPassword, "malformed input is refused before anything")
	assert.Equal(t, free+1, f.failures(t, "alice"), "throttled attempts are not counted")

	// Codes have their own throttle: a stale mail client does not lock
	// its owner out of signing in.
	res, err := f.env.TwoFA.Verify(ctx, "alice", dev.Code())
	require.NoError(t, err)
	assert.Equal(t, twofa.FactorDevice, res.Factor)

	// After the wait, one more wrong guess doubles it.
	f.env.Clock.Advance(te.RetryAfter)
	_, err = f.verify(t, "alice", apWrong)
	require.ErrorIs(t, err, twofa.ErrInvalidAppPassword)
	_, err = f.verify(t, "alice", apWrong)
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 2*f.env.TwoFA.Config().Throttle.AppPasswords.Base, te.RetryAfter)

	// The right password is never held back - a stranger who knows the
	// account id cannot lock the owner's mail client out - and it resets
	// the count.
	_, err = f.verify(t, "alice", pw)
	require.NoError(t, err)
	assert.Zero(t, f.failures(t, "alice"))
	assert.Equal(t, 1, f.st.count("ResetThrottle:app_password"))
	_, err = f.verify(t, "alice", apWrong)
	require.ErrorIs(t, err, twofa.ErrInvalidAppPassword)
	assert.Equal(t, 1, f.failures(t, "alice"))

	// Guesses at an account without app passwords leave no throttle record.
	for range 3 {
		_, err = f.verify(t, "nobody", apWrong)
		require.ErrorIs(t, err, twofa.ErrInvalidAppPassword)
	}
	assert.Zero(t, f.failures(t, "nobody"))
}

func TestAppPasswordWhileCodeThrottled(t *testing.T) {
	t.Parallel()
	f := apEnrolled(t)
	dev := f.env.EnrollTOTP("alice")
	pw, _ := f.create(t, "alice", "Mail")
	wrong := devWrongCode(t, dev.Key, f.env.Clock.Now())
	for range cfgDefaults(t).Throttle.Codes.Free + 1 {
		_, err := f.env.TwoFA.Verify(t.Context(), "alice", wrong)
		require.ErrorIs(t, err, twofa.ErrInvalidCode)
	}
	_, err := f.env.TwoFA.Verify(t.Context(), "alice", dev.Code())
	require.ErrorIs(t, err, twofa.ErrThrottled)
	_, err = f.verify(t, "alice", pw)
	require.NoError(t, err, "the app-password throttle is its own")
}

func TestAppPasswordThrottleConfig(t *testing.T) {
	t.Parallel()
	p := twofa.ThrottlePolicy{Free: 2, Base: time.Minute, Max: time.Hour}
	f := apSetup(t, func(c *twofa.Config) { c.Throttle.AppPasswords = p })
	f.env.EnrollTOTP("alice")
	pw, _ := f.create(t, "alice", "Mail")
	for range 3 {
		_, err := f.verify(t, "alice", apWrong)
		require.ErrorIs(t, err, twofa.ErrInvalidAppPassword)
	}
	_, err := f.verify(t, "alice", apWrong)
	var te *twofa.ThrottledError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, time.Minute, te.RetryAfter)
	_, err = f.verify(t, "alice", pw)
	require.NoError(t, err, "the right password is never throttled")
}

func TestAppPasswordLastUsed(t *testing.T) {
	t.Parallel()
	f := apEnrolled(t, "alice")
	clock := f.env.Clock
	pw, info := f.create(t, "alice", "Mail")
	assert.True(t, info.LastUsedAt.IsZero())
	assert.True(t, f.list(t, "alice")[0].LastUsedAt.IsZero())
	assert.Equal(t, time.Hour, time.Hour)

	// First use: recorded.
	first := clock.Now()
	got, err := f.verify(t, "alice", pw)
	require.NoError(t, err)
	assert.Equal(t, first, got.LastUsedAt)
	assert.Equal(t, 1, f.st.count("TouchAppPassword"))
	assert.Equal(t, first, f.list(t, "alice")[0].LastUsedAt)

	// Uses within the hour write nothing: neither a touch nor a throttle
	// write.
	for range 59 {
		clock.Advance(time.Minute - time.Second)
		got, err := f.verify(t, "alice", pw)
		require.NoError(t, err)
		assert.Equal(t, first, got.LastUsedAt)
	}
	assert.Equal(t, 1, f.st.count("TouchAppPassword"))
	assert.Zero(t, f.st.count("ReserveAttempt:app_password"))
	assert.Zero(t, f.st.count("ResetThrottle:app_password"))
	assert.Equal(t, first, f.list(t, "alice")[0].LastUsedAt)

	// An hour after the recorded use: recorded again.
	clock.Set(first.Add(time.Hour))
	got, err = f.verify(t, "alice", strings.ToUpper(pw))
	require.NoError(t, err)
	assert.Equal(t, first.Add(time.Hour), got.LastUsedAt)
	assert.Equal(t, 2, f.st.count("TouchAppPassword"))
	assert.Equal(t, first.Add(time.Hour), f.list(t, "alice")[0].LastUsedAt)

	// A failure in between makes the next success reset the count (one
	// write), and the one after writes nothing again.
	_, err = f.verify(t, "alice", apWrong)
	require.ErrorIs(t, err, twofa.ErrInvalidAppPassword)
	_, err = f.verify(t, "alice", pw)
	require.NoError(t, err)
	_, err = f.verify(t, "alice", pw)
	require.NoError(t, err)
	assert.Equal(t, 1, f.st.count("ResetThrottle:app_password"))
	assert.Equal(t, 2, f.st.count("TouchAppPassword"))

	// A clock that steps back never moves LastUsedAt back.
	clock.Set(first.Add(-time.Hour))
	got, err = f.verify(t, "alice", pw)
	require.NoError(t, err)
	assert.Equal(t, first.Add(time.Hour), got.LastUsedAt)
}

// TestAppPasswordVerifyOneLookup: whatever the number of passwords, a
// verification reads the throttle and looks one digest up - it never
// lists the account's passwords or devices - and, once LastUsedAt is
// fresh, writes nothing.
func TestAppPasswordVerifyOneLookup(t *testing.T) {
	t.Parallel()
	f := apEnrolled(t, "alice")
	var pws []string
	for i := range cfgDefaults(t).AppPasswords.Max {
		pw, _ := f.create(t, "alice", fmt.Sprint("client ", i))
		pws = append(pws, pw)
	}
	for _, pw := range pws { // the first use of each touches it
		_, err := f.verify(t, "alice", pw)
		require.NoError(t, err)
	}
	names := []string{"Throttle:app_password", "AppPasswordByDigest", "AppPasswords", "Devices",
		"TouchAppPassword", "ReserveAttempt:app_password", "ResetThrottle:app_password", "InsertAppPassword"}
	before := map[string]int{}
	for _, n := range names {
		before[n] = f.st.count(n)
	}
	for _, pw := range pws {
		_, err := f.verify(t, "alice", pw)
		require.NoError(t, err)
	}
	want := map[string]int{"Throttle:app_password": 25, "AppPasswordByDigest": 25}
	for _, n := range names {
		assert.Equal(t, want[n], f.st.count(n)-before[n], "%s calls for 25 verifications", n)
	}
}

func TestAppPasswordList(t *testing.T) {
	t.Parallel()
	f := apEnrolled(t, "alice", "bob")
	ctx := t.Context()
	clock := f.env.Clock
	_, a := f.create(t, "alice", "Mail")
	clock.Advance(time.Minute)
	_, b := f.create(t, "alice", "Calendar")
	pwC, c := f.create(t, "alice", "Contacts") // same instant as b
	clock.Advance(time.Minute)
	_, d := f.create(t, "alice", "Backup")
	f.create(t, "bob", "Bob's mail")

	clock.Advance(time.Minute)
	used := clock.Now()
	_, err := f.verify(t, "alice", pwC)
	require.NoError(t, err)
	c.LastUsedAt = used

	list := f.list(t, "alice")
	assert.Equal(t, []twofa.AppPasswordInfo{a, b, c, d}, list, "oldest first, ties in creation order")
	assert.Equal(t, twofatest.Start, list[0].CreatedAt)
	assert.Equal(t, twofatest.Start.Add(time.Minute), list[1].CreatedAt)

	require.NoError(t, f.ap.Revoke(ctx, "alice", b.ID))
	assert.Equal(t, []twofa.AppPasswordInfo{a, c, d}, f.list(t, "alice"))
	assert.Len(t, f.list(t, "bob"), 1)
	assert.Empty(t, f.list(t, "carol"))
	_, err = f.ap.List(ctx, "")
	require.ErrorIs(t, err, twofa.ErrInvalidAccount)
}

// TestAppPasswordInfoHasNoPassword: what Create, Verify and List return,
// the events and the errors never show the password or its digest, in
// any fmt verb, in JSON or through slog.
func TestAppPasswordInfoHasNoPassword(t *testing.T) {
	t.Parallel()
	f := apEnrolled(t, "alice")
	ctx := t.Context()
	pw, created := f.create(t, "alice", "Mail")
	flat := apFlat(pw)
	digest, err := f.env.Keyring.Digest(twofa.PurposeAppPassword, "alice", []byte(flat))
	require.NoError(t, err)
	forbidden := []string{
		pw, flat, strings.ToUpper(pw), strings.ToUpper(flat), flat[:8], flat[8:],
		string(digest), hex.EncodeToString(digest), strings.ToUpper(hex.EncodeToString(digest)),
		base64.StdEncoding.EncodeToString(digest), base64.RawURLEncoding.EncodeToString(digest),
		fmt.Sprint(digest[:8]), fmt.Sprintf("%#v", digest[:8])[len("[]byte{"):],
	}

	used, err := f.verify(t, "alice", pw)
	require.NoError(t, err)
	_, errWrong := f.verify(t, "alice", apWrong)
	require.Error(t, errWrong)
	_, errMalformed := f.verify(t, "alice", pw+"x")
	require.Error(t, errMalformed)
	_, _, errDup := f.ap.Create(ctx, "alice", "Mail")
	require.Error(t, errDup)
	list := f.list(t, "alice")

	// AppPasswordInfo has no field that could hold either.
	var names []string
	typ := reflect.TypeFor[twofa.AppPasswordInfo]()
	for i := range typ.NumField() {
		names = append(names, typ.Field(i).Name)
	}
	assert.Equal(t, []string{"ID", "Label", "CreatedAt", "LastUsedAt"}, names)

	check := func(what string, v any) {
		t.Helper()
		var outs []string
		for _, verb := range evVerbs {
			outs = append(outs, fmt.Sprintf(verb, v))
		}
		j, err := json.Marshal(v)
		require.NoError(t, err, what)
		outs = append(outs, string(j))
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", v)
		slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "v", v)
		outs = append(outs, buf.String())
		for _, out := range outs {
			for _, bad := range forbidden {
				require.NotContains(t, out, bad, what)
			}
		}
	}
	check("created", created)
	check("used", used)
	check("list", list)
	check("events", f.env.Events.Events())
	for i, err := range []error{errWrong, errMalformed, errDup} {
		for _, bad := range forbidden {
			require.NotContains(t, err.Error(), bad, "error %d", i)
		}
	}

	// The check is sound: the password does print.
	assert.Contains(t, fmt.Sprintf("%v", struct{ P string }{pw}), pw)
}

func TestAppPasswordRevoke(t *testing.T) {
	t.Parallel()
	f := apEnrolled(t, "alice", "bob")
	ctx := t.Context()
	pwA, a := f.create(t, "alice", "Mail")
	pwB, b := f.create(t, "alice", "Calendar")
	pwBob, bob := f.create(t, "bob", "Mail")

	mark := f.nEvents()
	require.NoError(t, f.ap.Revoke(ctx, "alice", a.ID))
	assert.Equal(t, []twofa.Event{{Type: twofa.EventAppPasswordRevoked, Account: "alice", AppPasswordID: a.ID, Time: twofatest.Start}},
		f.eventsSince(mark))
	_, err := f.verify(t, "alice", pwA)
	require.ErrorIs(t, err, twofa.ErrInvalidAppPassword, "revoked at once")
	_, err = f.verify(t, "alice", pwB)
	require.NoError(t, err, "the other one still works")

	mark = f.nEvents()
	require.ErrorIs(t, f.ap.Revoke(ctx, "alice", a.ID), twofa.ErrNotFound, "twice")
	require.ErrorIs(t, f.ap.Revoke(ctx, "alice", "nosuchid"), twofa.ErrNotFound, "unknown")
	require.ErrorIs(t, f.ap.Revoke(ctx, "alice", ""), twofa.ErrNotFound, "empty id")
	require.ErrorIs(t, f.ap.Revoke(ctx, "alice", bob.ID), twofa.ErrNotFound, "bob's, as alice")
	require.ErrorIs(t, f.ap.Revoke(ctx, "bob", b.ID), twofa.ErrNotFound, "alice's, as bob")
	require.ErrorIs(t, f.ap.Revoke(ctx, "", b.ID), twofa.ErrInvalidAccount)
	assert.Empty(t, f.eventsSince(mark))
	_, err = f.verify(t, "bob", pwBob)
	require.NoError(t, err)
	_, err = f.verify(t, "alice", pwB)
	require.NoError(t, err)
}

func TestAppPasswordRevokeAll(t *testing.T) {
	t.Parallel()
	f := apEnrolled(t, "alice", "bob")
	ctx := t.Context()
	var pws []string
	for i := range 3 {
		pw, _ := f.create(t, "alice", fmt.Sprint("client ", i))
		pws = append(pws, pw)
	}
	pwBob, _ := f.create(t, "bob", "Mail")

	mark := f.nEvents()
	n, err := f.ap.RevokeAll(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, []twofa.Event{{Type: twofa.EventAppPasswordsRevoked, Account: "alice", Time: twofatest.Start, Count: 3}},
		f.eventsSince(mark))
	for _, pw := range pws {
		_, err := f.verify(t, "alice", pw)
		require.ErrorIs(t, err, twofa.ErrInvalidAppPassword)
	}
	assert.Empty(t, f.list(t, "alice"))
	_, err = f.verify(t, "bob", pwBob)
	require.NoError(t, err, "other accounts keep theirs")

	mark = f.nEvents()
	n, err = f.ap.RevokeAll(ctx, "alice")
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Empty(t, f.eventsSince(mark), "nothing revoked, nothing reported")

	_, err = f.ap.RevokeAll(ctx, "")
	require.ErrorIs(t, err, twofa.ErrInvalidAccount)

	// Two-factor authentication is still on: new ones can be made.
	f.create(t, "alice", "client 0")
}

func TestPasswordChanged(t *testing.T) {
	t.Parallel()
	f := apEnrolled(t, "alice", "bob")
	ctx := t.Context()
	pw1, _ := f.create(t, "alice", "Mail")
	pw2, _ := f.create(t, "alice", "Calendar")
	pwBob, _ := f.create(t, "bob", "Mail")

	mark := f.nEvents()
	require.NoError(t, f.env.TwoFA.PasswordChanged(ctx, "alice"))
	assert.Equal(t, []twofa.Event{{Type: twofa.EventAppPasswordsRevoked, Account: "alice", Time: twofatest.Start, Count: 2}},
		f.eventsSince(mark))
	for _, pw := range []string{pw1, pw2} {
		_, err := f.verify(t, "alice", pw)
		require.ErrorIs(t, err, twofa.ErrInvalidAppPassword)
	}
	assert.Empty(t, f.list(t, "alice"))
	_, err := f.verify(t, "bob", pwBob)
	require.NoError(t, err, "bob's password did not change")
	assert.Len(t, f.list(t, "bob"), 1)

	// Two-factor authentication stays on: the devices are untouched.
	on, err := f.env.TwoFA.Enabled(ctx, "alice")
	require.NoError(t, err)
	assert.True(t, on)
	f.create(t, "alice", "Mail")

	// Nothing to revoke: no error, no event.
	mark = f.nEvents()
	require.NoError(t, f.env.TwoFA.PasswordChanged(ctx, "carol"))
	assert.Empty(t, f.eventsSince(mark))

	require.ErrorIs(t, f.env.TwoFA.PasswordChanged(ctx, ""), twofa.ErrInvalidAccount)
}

func TestAppPasswordsRevokedWithSecondFactor(t *testing.T) {
	t.Parallel()
	f := apSetup(t, nil)
	ctx := t.Context()
	d1 := f.env.EnrollTOTP("alice")
	d2 := f.env.EnrollTOTP("alice")
	f.env.EnrollTOTP("bob")
	pw1, _ := f.create(t, "alice", "Mail")
	pw2, _ := f.create(t, "alice", "Calendar")
	pwBob, _ := f.create(t, "bob", "Mail")

	// A pending device revoked: nothing happens to the passwords.
	pending := devEnroll(t, f.env, "alice", twofa.EnrollOptions{})
	require.NoError(t, errOf(f.env.Devices.Revoke(ctx, "alice", pending.Device.ID)))
	// One of two confirmed devices revoked: two-factor stays on.
	require.NoError(t, errOf(f.env.Devices.Revoke(ctx, "alice", d1.ID)))
	assert.Zero(t, f.env.Events.Count(twofa.EventAppPasswordsRevoked))
	for _, pw := range []string{pw1, pw2} {
		_, err := f.verify(t, "alice", pw)
		require.NoError(t, err)
	}

	// The last one: two-factor is off, and the app passwords go with it.
	mark := f.nEvents()
	require.NoError(t, errOf(f.env.Devices.Revoke(ctx, "alice", d2.ID)))
	now := f.env.Clock.Now()
	assert.Equal(t, []twofa.Event{
		{Type: twofa.EventRevoked, Account: "alice", DeviceID: d2.ID, Time: now},
		{Type: twofa.EventAppPasswordsRevoked, Account: "alice", Time: now, Count: 2},
		{Type: twofa.EventTwoFactorDisabled, Account: "alice", Time: now},
	}, f.eventsSince(mark))
	for _, pw := range []string{pw1, pw2} {
		_, err := f.verify(t, "alice", pw)
		require.ErrorIs(t, err, twofa.ErrInvalidAppPassword)
	}
	assert.Empty(t, f.list(t, "alice"))
	_, _, err := f.ap.Create(ctx, "alice", "Mail")
	require.ErrorIs(t, err, twofa.ErrNotEnrolled)
	_, err = f.verify(t, "bob", pwBob)
	require.NoError(t, err, "bob keeps his")

	// Turned on again, new passwords work; the old stay dead.
	f.env.EnrollTOTP("alice")
	pw3, _ := f.create(t, "alice", "Mail")
	_, err = f.verify(t, "alice", pw3)
	require.NoError(t, err)
	_, err = f.verify(t, "alice", pw1)
	require.ErrorIs(t, err, twofa.ErrInvalidAppPassword)
}

// TestAppPasswordStoredAsDigests: the store sees keyed digests bound to
// the account, never a password in any form.
func TestAppPasswordStoredAsDigests(t *testing.T) {
	t.Parallel()
	f := apEnrolled(t, "alice", "bob")
	ctx := t.Context()
	pw1, info1 := f.create(t, "alice", "Mail")
	pw2, info2 := f.create(t, "alice", "Calendar")
	for _, typed := range []string{pw1, strings.ToUpper(pw1), strings.ReplaceAll(pw2, "-", " "), apFlat(pw2)} {
		_, err := f.verify(t, "alice", typed)
		require.NoError(t, err)
	}
	_, err := f.verify(t, "bob", pw1)
	require.ErrorIs(t, err, twofa.ErrInvalidAppPassword)
	require.NoError(t, f.ap.Revoke(ctx, "alice", info2.ID))

	seen := f.st.Seen()
	require.NotEmpty(t, seen)
	for _, pw := range []string{pw1, pw2} {
		flat := apFlat(pw)
		for _, form := range []string{pw, flat, strings.ToUpper(pw), strings.ToUpper(flat), strings.ReplaceAll(pw, "-", " "), flat[:8], flat[8:]} {
			for _, b := range seen {
				require.False(t, bytes.Contains(b, []byte(form)), "the store saw %q", form)
			}
		}
	}

	// What the store keeps is exactly the keyed digest of the normalised
	// password, bound to the account.
	want, err := f.env.Keyring.Digest(twofa.PurposeAppPassword, "alice", []byte(apFlat(pw1)))
	require.NoError(t, err)
	require.Len(t, want, keyring.DigestSize)
	recs, err := f.env.Store.AppPasswords(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, info1.ID, recs[0].ID)
	assert.Equal(t, "Mail", recs[0].Label)
	assert.Equal(t, want, recs[0].Digest)
	forBob, err := f.env.Keyring.Digest(twofa.PurposeAppPassword, "bob", []byte(apFlat(pw1)))
	require.NoError(t, err)
	assert.NotEqual(t, want, forBob)
	asRecovery, err := f.env.Keyring.Digest(twofa.PurposeRecoveryCode, "alice", []byte(apFlat(pw1)))
	require.NoError(t, err)
	assert.NotEqual(t, want, asRecovery, "each purpose has its own key")
}

var errAPFault = errors.New("disk on fire")

// TestAppPasswordStoreErrors: a failing store is reported wrapped, never
// as a verdict on the password, and nothing is reported as done.
func TestAppPasswordStoreErrors(t *testing.T) {
	t.Parallel()
	setup := func(t *testing.T) (*apFixture, string, twofa.AppPasswordInfo) {
		f := apEnrolled(t, "alice")
		pw, info := f.create(t, "alice", "Mail")
		return f, pw, info
	}
	notVerdict := []error{twofa.ErrInvalidAppPassword, twofa.ErrMalformedAppPassword, twofa.ErrNotEnrolled,
		twofa.ErrDuplicateLabel, twofa.ErrTooManyAppPasswords, twofa.ErrNotFound, twofa.ErrThrottled}
	check := func(t *testing.T, f *apFixture, mark int, err error) {
		t.Helper()
		require.ErrorIs(t, err, errAPFault)
		for _, v := range notVerdict {
			require.NotErrorIs(t, err, v)
		}
		assert.Empty(t, f.eventsSince(mark), "nothing reported")
	}
	t.Run("Create/Devices", func(t *testing.T) {
		f, _, _ := setup(t)
		f.st.fail("Devices", errAPFault)
		mark := f.nEvents()
		_, _, err := f.ap.Create(t.Context(), "alice", "Calendar")
		check(t, f, mark, err)
	})
	t.Run("Create/InsertAppPassword", func(t *testing.T) {
		f, _, _ := setup(t)
		f.st.fail("InsertAppPassword", errAPFault)
		mark := f.nEvents()
		pw, _, err := f.ap.Create(t.Context(), "alice", "Calendar")
		check(t, f, mark, err)
		assert.Empty(t, pw, "no password without a record")
	})
	t.Run("Verify/Throttle", func(t *testing.T) {
		f, pw, _ := setup(t)
		f.st.fail("Throttle", errAPFault)
		mark := f.nEvents()
		_, err := f.verify(t, "alice", pw)
		check(t, f, mark, err)
	})
	t.Run("Verify/AppPasswordByDigest", func(t *testing.T) {
		f, pw, _ := setup(t)
		f.st.fail("AppPasswordByDigest", errAPFault)
		mark := f.nEvents()
		_, err := f.verify(t, "alice", pw)
		check(t, f, mark, err)
		assert.Zero(t, f.failures(t, "alice"), "a store error is not a failure")
	})
	t.Run("Verify/ReserveAttempt", func(t *testing.T) {
		f, _, _ := setup(t)
		f.st.fail("ReserveAttempt", errAPFault)
		mark := f.nEvents()
		_, err := f.verify(t, "alice", apWrong)
		check(t, f, mark, err)
	})
	t.Run("Verify/TouchAppPassword", func(t *testing.T) {
		f, pw, _ := setup(t)
		f.st.fail("TouchAppPassword", errAPFault)
		mark := f.nEvents()
		_, err := f.verify(t, "alice", pw)
		check(t, f, mark, err)
	})
	t.Run("Verify/ResetThrottle", func(t *testing.T) {
		f, pw, _ := setup(t)
		_, err := f.verify(t, "alice", apWrong)
		require.ErrorIs(t, err, twofa.ErrInvalidAppPassword)
		f.st.fail("ResetThrottle", errAPFault)
		mark := f.nEvents()
		_, err = f.verify(t, "alice", pw)
		check(t, f, mark, err)
	})
	t.Run("List", func(t *testing.T) {
		f, _, _ := setup(t)
		f.st.fail("AppPasswords", errAPFault)
		mark := f.nEvents()
		l, err := f.ap.List(t.Context(), "alice")
		check(t, f, mark, err)
		assert.Nil(t, l)
	})
	t.Run("Revoke", func(t *testing.T) {
		f, pw, info := setup(t)
		f.st.fail("DeleteAppPassword", errAPFault)
		mark := f.nEvents()
		check(t, f, mark, f.ap.Revoke(t.Context(), "alice", info.ID))
		f.st.fail("DeleteAppPassword", nil)
		_, err := f.verify(t, "alice", pw)
		require.NoError(t, err)
	})
	t.Run("RevokeAll", func(t *testing.T) {
		f, _, _ := setup(t)
		f.st.fail("DeleteAppPasswords", errAPFault)
		mark := f.nEvents()
		n, err := f.ap.RevokeAll(t.Context(), "alice")
		check(t, f, mark, err)
		assert.Zero(t, n)
	})
	t.Run("PasswordChanged", func(t *testing.T) {
		f, _, _ := setup(t)
		f.st.fail("DeleteAppPasswords", errAPFault)
		mark := f.nEvents()
		check(t, f, mark, f.env.TwoFA.PasswordChanged(t.Context(), "alice"))
	})
	t.Run("Devices.Revoke", func(t *testing.T) {
		f, _, _ := setup(t)
		devs := devList(t, f.env, "alice")
		require.Len(t, devs, 1)
		f.st.fail("DeleteAppPasswords", errAPFault)
		_, err := f.env.Devices.Revoke(t.Context(), "alice", devs[0].ID)
		require.ErrorIs(t, err, errAPFault, "revoking the last device reports that app passwords could not be revoked")
		assert.Zero(t, f.env.Events.Count(twofa.EventAppPasswordsRevoked))
	})
}

func TestAppPasswordCancelledContext(t *testing.T) {
	t.Parallel()
	f := apEnrolled(t, "alice")
	pw, info := f.create(t, "alice", "Mail")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := f.ap.Verify(ctx, "alice", pw)
	require.ErrorIs(t, err, context.Canceled)
	_, err = f.ap.Verify(ctx, "alice", apWrong)
	require.ErrorIs(t, err, context.Canceled)
	_, _, err = f.ap.Create(ctx, "alice", "Calendar")
	require.ErrorIs(t, err, context.Canceled)
	_, err = f.ap.List(ctx, "alice")
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, f.ap.Revoke(ctx, "alice", info.ID), context.Canceled)
	_, err = f.ap.RevokeAll(ctx, "alice")
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, f.failures(t, "alice"))
	assert.Len(t, f.list(t, "alice"), 1)
	_, err = f.verify(t, "alice", pw)
	require.NoError(t, err)
}

func TestAppPasswordErrorsMatch(t *testing.T) {
	t.Parallel()
	assert.ErrorIs(t, twofa.ErrTooManyAppPasswords, twofa.ErrLimitReached)
	assert.ErrorIs(t, twofa.ErrDuplicateLabel, twofa.ErrDuplicate)
	assert.NotErrorIs(t, twofa.ErrInvalidAppPassword, twofa.ErrMalformedAppPassword)
	assert.NotErrorIs(t, twofa.ErrMalformedAppPassword, twofa.ErrInvalidAppPassword)
	for _, err := range []error{twofa.ErrMalformedAppPassword, twofa.ErrInvalidAppPassword, twofa.ErrTooManyAppPasswords, twofa.ErrDuplicateLabel} {
		assert.True(t, strings.HasPrefix(err.Error(), "twofa: "), err.Error())
	}
}
