package twofa_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/twofatest"
)

// evAllTypes lists every EventType with its String.
var evAllTypes = map[twofa.EventType]string{
	twofa.EventEnrolled:               "enrolled",
	twofa.EventConfirmed:              "confirmed",
	twofa.EventEnrollmentFailed:       "enrollment_failed",
	twofa.EventVerified:               "verified",
	twofa.EventFailed:                 "failed",
	twofa.EventReplayed:               "replayed",
	twofa.EventThrottled:              "throttled",
	twofa.EventRevoked:                "revoked",
	twofa.EventRenamed:                "renamed",
	twofa.EventImported:               "imported",
	twofa.EventRecoveryCodeUsed:       "recovery_code_used",
	twofa.EventRecoveryCodesGenerated: "recovery_codes_generated",
	twofa.EventDriftAdjusted:          "drift_adjusted",
	twofa.EventTwoFactorDisabled:      "two_factor_disabled",
	twofa.EventTwoFactorEnabled:       "two_factor_enabled",
	twofa.EventAppPasswordCreated:     "app_password_created",
	twofa.EventAppPasswordUsed:        "app_password_used",
	twofa.EventAppPasswordFailed:      "app_password_failed",
	twofa.EventAppPasswordRevoked:     "app_password_revoked",
	twofa.EventAppPasswordsRevoked:    "app_passwords_revoked",
}

func TestEventTypeString(t *testing.T) {
	t.Parallel()
	names := map[string]bool{}
	for typ, name := range evAllTypes {
		assert.Equal(t, name, string(typ))
		assert.Equal(t, name, fmt.Sprint(typ))
		names[name] = true
	}
	assert.Len(t, names, len(evAllTypes), "names are distinct")
}

// evScenario is everything one run through every event left behind.
type evScenario struct {
	env         *twofatest.Env
	events      []twofa.Event
	errs        []error
	secrets     []twofa.Secret
	codes       []string // every one-time code typed
	recovery    []string // every recovery code
	enrollments []*twofa.Enrollment
	infos       []twofa.DeviceInfo
	results     []twofa.Result
	// appPasswords and appInfos are every app-specific password created
	// and what the manager returned about them.
	appPasswords []string
	appInfos     []twofa.AppPasswordInfo
}

// evRun goes through the life of an account, checking that each call
// reports the events its documentation promises, in order, and nothing
// else.
func evRun(t *testing.T) *evScenario {
	t.Helper()
	env := twofatest.New(t)
	ctx := t.Context()
	s := &evScenario{env: env}
	mark := 0
	// expect checks the events since the last call.
	expect := func(want ...twofa.Event) {
		t.Helper()
		all := env.Events.Events()
		got := all[mark:]
		mark = len(all)
		if len(want) == 0 {
			assert.Empty(t, got)
			return
		}
		assert.Equal(t, want, got)
	}
	keep := func(err error) error {
		if err != nil {
			s.errs = append(s.errs, err)
		}
		return err
	}
	code := func(c string) string {
		s.codes = append(s.codes, c)
		return c
	}
	verify := func(c string) (twofa.Result, error) {
		res, err := env.TwoFA.Verify(ctx, "alice", c)
		s.results = append(s.results, res)
		return res, keep(err)
	}
	now := env.Clock.Now

	// Enrol, fail to confirm, confirm.
	e, err := env.Devices.Enroll(ctx, "alice", "phone", twofa.EnrollOptions{})
	require.NoError(t, err)
	s.enrollments = append(s.enrollments, e)
	s.secrets = append(s.secrets, e.Key.Secret)
	id := e.Device.ID
	expect(twofa.Event{Type: twofa.EventEnrolled, Account: "alice", DeviceID: id, Time: now()})

	require.ErrorIs(t, keep(errOf(env.Devices.Confirm(ctx, "alice", id, code(devWrongCode(t, e.Key, now()))))), twofa.ErrInvalidCode)
	expect(twofa.Event{Type: twofa.EventEnrollmentFailed, Account: "alice", DeviceID: id, Time: now(), Failures: 1})
	require.ErrorIs(t, keep(errOf(env.Devices.Confirm(ctx, "alice", id, code("12x456")))), twofa.ErrMalformedCode)
	expect()

	g, err := e.Key.TOTP()
	require.NoError(t, err)
	n, err := g.Step(now())
	require.NoError(t, err)
	ch, err := env.Devices.Confirm(ctx, "alice", id, code(g.CodeAt(n)))
	require.NoError(t, err)
	assert.Equal(t, twofa.Change{TurnedOn: true}, ch)
	expect(twofa.Event{Type: twofa.EventConfirmed, Account: "alice", DeviceID: id, Time: now()},
		twofa.Event{Type: twofa.EventTwoFactorEnabled, Account: "alice", Time: now()})
	require.ErrorIs(t, keep(errOf(env.Devices.Confirm(ctx, "alice", id, code(g.CodeAt(n))))), twofa.ErrAlreadyConfirmed)
	expect()

	// Sign in, replay, fail, get throttled.
	_, err = verify(code(g.CodeAt(n)))
	require.ErrorIs(t, err, twofa.ErrReplayed)
	expect(twofa.Event{Type: twofa.EventReplayed, Account: "alice", DeviceID: id, Time: now()})
	res, err := verify(code(g.CodeAt(n + 1)))
	require.NoError(t, err)
	assert.Equal(t, id, res.DeviceID)
	expect(twofa.Event{Type: twofa.EventVerified, Account: "alice", DeviceID: id, Time: now()})
	_, err = verify(code("12x456"))
	require.ErrorIs(t, err, twofa.ErrMalformedCode)
	expect()
	wrong := devWrongCode(t, e.Key, now())
	free := cfgDefaults(t).Throttle.Codes.Free
	for i := range free + 1 {
		_, err = verify(code(wrong))
		require.ErrorIs(t, err, twofa.ErrInvalidCode)
		expect(twofa.Event{Type: twofa.EventFailed, Account: "alice", Time: now(), Scope: twofa.ScopeCode, Failures: i + 1})
	}
	_, err = verify(code(g.CodeAt(n + 2)))
	require.ErrorIs(t, err, twofa.ErrThrottled)
	expect(twofa.Event{Type: twofa.EventThrottled, Account: "alice", Time: now(), Scope: twofa.ScopeCode, RetryAfter: time.Second, Failures: free + 1})

	// The clock of the phone runs 3 steps fast: refused once, then
	// adopted.
	env.Clock.Advance(time.Minute)
	_, err = verify(code(g.CodeAt(n + 2 + 3)))
	require.ErrorIs(t, err, twofa.ErrInvalidCode)
	expect(twofa.Event{Type: twofa.EventFailed, Account: "alice", Time: now(), Scope: twofa.ScopeCode, Failures: free + 2})
	env.Clock.Advance(twofa.DefaultPeriod)
	_, err = verify(code(g.CodeAt(n + 3 + 3)))
	require.NoError(t, err)
	expect(
		twofa.Event{Type: twofa.EventDriftAdjusted, Account: "alice", DeviceID: id, Time: now()},
		twofa.Event{Type: twofa.EventVerified, Account: "alice", DeviceID: id, Time: now()},
	)

	// Recovery codes.
	rc, err := env.Recovery.Generate(ctx, "alice")
	require.NoError(t, err)
	s.recovery = append(s.recovery, rc...)
	expect(twofa.Event{Type: twofa.EventRecoveryCodesGenerated, Account: "alice", Time: now(), Remaining: 10})
	res, err = verify(rc[0])
	require.NoError(t, err)
	assert.Equal(t, 9, res.RecoveryCodesLeft)
	expect(twofa.Event{Type: twofa.EventRecoveryCodeUsed, Account: "alice", Time: now(), Remaining: 9})
	_, err = verify(rc[0])
	require.ErrorIs(t, err, twofa.ErrInvalidCode)
	expect(twofa.Event{Type: twofa.EventFailed, Account: "alice", Time: now(), Scope: twofa.ScopeRecovery, Failures: 1})

	// App-specific passwords: create, use, fail, revoke one, revoke all
	// (before the last device goes, so that revoking it finds none).
	apps, err := newAppPasswords(env.Config)
	require.NoError(t, err)
	appPW, appInfo, err := apps.Create(ctx, "alice", "Mail")
	require.NoError(t, err)
	s.appPasswords, s.appInfos = append(s.appPasswords, appPW), append(s.appInfos, appInfo)
	expect(twofa.Event{Type: twofa.EventAppPasswordCreated, Account: "alice", AppPasswordID: appInfo.ID, Time: now()})
	appInfo, err = apps.Verify(ctx, "alice", strings.ToUpper(appPW))
	require.NoError(t, err)
	s.appInfos = append(s.appInfos, appInfo)
	expect(twofa.Event{Type: twofa.EventAppPasswordUsed, Account: "alice", AppPasswordID: appInfo.ID, Time: now()})
	_, err = apps.Verify(ctx, "alice", appPW[:len(appPW)-1])
	require.ErrorIs(t, keep(err), twofa.ErrMalformedAppPassword)
	expect()
	_, err = apps.Verify(ctx, "alice", "zzzz-zzzz-zzzz-zzzz")
	require.ErrorIs(t, keep(err), twofa.ErrInvalidAppPassword)
	expect(twofa.Event{Type: twofa.EventAppPasswordFailed, Account: "alice", Time: now(), Failures: 1})
	_, _, err = apps.Create(ctx, "alice", "Mail")
	require.ErrorIs(t, keep(err), twofa.ErrDuplicateLabel)
	expect()
	require.NoError(t, apps.Revoke(ctx, "alice", appInfo.ID))
	expect(twofa.Event{Type: twofa.EventAppPasswordRevoked, Account: "alice", AppPasswordID: appInfo.ID, Time: now()})
	appPW, appInfo, err = apps.Create(ctx, "alice", "Calendar")
	require.NoError(t, err)
	s.appPasswords, s.appInfos = append(s.appPasswords, appPW), append(s.appInfos, appInfo)
	expect(twofa.Event{Type: twofa.EventAppPasswordCreated, Account: "alice", AppPasswordID: appInfo.ID, Time: now()})
	revoked, err := apps.RevokeAll(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, 1, revoked)
	expect(twofa.Event{Type: twofa.EventAppPasswordsRevoked, Account: "alice", Time: now(), Count: 1})

	// Import, rename, list, revoke one, then the last.
	imported := twofa.Key{Type: twofa.TypeHOTP, Secret: devSecret(t), Counter: 3}
	s.secrets = append(s.secrets, imported.Secret)
	d, _, err := env.Devices.Import(ctx, "alice", "token", imported)
	require.NoError(t, err)
	s.infos = append(s.infos, d)
	expect(twofa.Event{Type: twofa.EventImported, Account: "alice", DeviceID: d.ID, Time: now()})
	_, err = verify(code(devHOTPCode(t, imported, 3)))
	require.NoError(t, err)
	expect(twofa.Event{Type: twofa.EventVerified, Account: "alice", DeviceID: d.ID, Time: now()})
	require.NoError(t, env.Devices.Rename(ctx, "alice", d.ID, "YubiKey"))
	expect(twofa.Event{Type: twofa.EventRenamed, Account: "alice", DeviceID: d.ID, Time: now()})
	require.ErrorIs(t, keep(env.Devices.Rename(ctx, "alice", "nosuch", "x")), twofa.ErrNotFound)
	expect()
	l, err := env.Devices.List(ctx, "alice")
	require.NoError(t, err)
	s.infos = append(s.infos, l...)
	expect()

	require.NoError(t, errOf(env.Devices.Revoke(ctx, "alice", id)))
	expect(twofa.Event{Type: twofa.EventRevoked, Account: "alice", DeviceID: id, Time: now()})
	require.ErrorIs(t, keep(errOf(env.Devices.Revoke(ctx, "alice", id))), twofa.ErrNotFound)
	expect()
	require.NoError(t, errOf(env.Devices.Revoke(ctx, "alice", d.ID)))
	expect(
		twofa.Event{Type: twofa.EventRevoked, Account: "alice", DeviceID: d.ID, Time: now()},
		twofa.Event{Type: twofa.EventTwoFactorDisabled, Account: "alice", Time: now()},
	)
	_, err = verify(rc[1])
	require.ErrorIs(t, err, twofa.ErrNotEnrolled)
	expect()

	// A pending enrolment that lapses, and errors that carry input.
	e2, err := env.Devices.Enroll(ctx, "alice", "lapsed", twofa.EnrollOptions{Type: twofa.TypeHOTP, Options: twofa.Options{Digits: 8}})
	require.NoError(t, err)
	s.enrollments = append(s.enrollments, e2)
	s.secrets = append(s.secrets, e2.Key.Secret)
	expect(twofa.Event{Type: twofa.EventEnrolled, Account: "alice", DeviceID: e2.Device.ID, Time: now()})
	env.Clock.Advance(time.Hour)
	require.ErrorIs(t, keep(errOf(env.Devices.Confirm(ctx, "alice", e2.Device.ID, code(devHOTPCode(t, e2.Key, 0))))), twofa.ErrEnrollmentExpired)
	expect()
	_, _, err = env.Devices.Import(ctx, "alice", "bad", twofa.Key{Secret: e2.Key.Secret, Digits: 9})
	require.ErrorIs(t, keep(err), twofa.ErrInvalidOptions)
	_, err = env.Devices.Enroll(ctx, "alice", "bad\n"+rc[2], twofa.EnrollOptions{})
	require.ErrorIs(t, keep(err), twofa.ErrInvalidLabel)
	_, err = env.Devices.Enroll(ctx, "alice:"+rc[2], "phone", twofa.EnrollOptions{})
	require.ErrorIs(t, keep(err), twofa.ErrInvalidURI)
	expect()

	s.events = env.Events.Events()
	return s
}

func TestEventsEmitted(t *testing.T) {
	t.Parallel()
	s := evRun(t)
	for typ, name := range evAllTypes {
		assert.NotZero(t, s.env.Events.Count(typ), "%s is emitted", name)
	}
	for _, e := range s.events {
		assert.Equal(t, "alice", e.Account)
		assert.False(t, e.Time.IsZero())
	}
}

// evForbidden returns every form in which the scenario's key material
// could leak: secrets (base32 either case, hex, raw bytes), one-time codes
// and recovery codes (as shown and canonical).
func evForbidden(s *evScenario) []string {
	var out []string
	for _, sec := range s.secrets {
		b32 := sec.Base32()
		out = append(out, b32, strings.ToLower(b32), b32[:16], hex.EncodeToString(sec.Bytes()), string(sec.Bytes()))
	}
	for _, c := range s.codes {
		if strings.Trim(c, "0123456789") == "" {
			out = append(out, c)
		}
	}
	for _, p := range s.appPasswords {
		flat := strings.ReplaceAll(p, "-", "")
		out = append(out, p, flat, strings.ToUpper(p), strings.ToUpper(flat))
	}
	for _, c := range s.recovery {
		out = append(out, c, strings.ReplaceAll(c, "-", ""), strings.ToUpper(c))
	}
	return out
}

func evRequireClean(t *testing.T, forbidden []string, what, out string) {
	t.Helper()
	for _, f := range forbidden {
		require.NotContains(t, out, f, "%s shows key material %q", what, f)
	}
}

var evVerbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"}

func TestNoKeyMaterialInOutput(t *testing.T) {
	t.Parallel()
	s := evRun(t)
	forbidden := evForbidden(s)
	require.NotEmpty(t, s.codes)
	require.Len(t, s.recovery, twofa.RecoveryCodeCount)

	check := func(what string, v any) {
		t.Helper()
		for _, verb := range evVerbs {
			evRequireClean(t, forbidden, what+" "+verb, fmt.Sprintf(verb, v))
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", v)
		slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "v", v)
		evRequireClean(t, forbidden, what+" slog", buf.String())
		if j, err := json.Marshal(v); err == nil {
			evRequireClean(t, forbidden, what+" JSON", string(j))
		}
	}
	for i, e := range s.events {
		check(fmt.Sprintf("event %d (%v)", i, e.Type), e)
	}
	check("events", s.events)
	for i, err := range s.errs {
		evRequireClean(t, forbidden, fmt.Sprintf("error %d", i), err.Error())
		check(fmt.Sprintf("error %d", i), err)
	}
	require.NotEmpty(t, s.errs)
	for i, e := range s.enrollments {
		check(fmt.Sprintf("enrollment %d", i), e)
		check(fmt.Sprintf("enrollment %d value", i), *e)
		check(fmt.Sprintf("enrollment %d device", i), e.Device)
		check(fmt.Sprintf("enrollment %d key", i), e.Key)
	}
	for i, d := range s.infos {
		check(fmt.Sprintf("device info %d", i), d)
	}
	check("device infos", s.infos)
	require.NotEmpty(t, s.appInfos)
	check("app password infos", s.appInfos)
	for i, r := range s.results {
		check(fmt.Sprintf("result %d", i), r)
	}

	// The check itself is sound: the URI does hold the secret.
	uri, err := s.enrollments[0].Key.URI()
	require.NoError(t, err)
	assert.Contains(t, uri, s.secrets[0].Base32())
}

// TestEnrollmentFormat pins what printing an Enrollment shows: the device
// and the key's parameters, with the secret redacted.
func TestEnrollmentFormat(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	e := devEnroll(t, env, "alice", twofa.EnrollOptions{})
	out := fmt.Sprintf("%+v", e)
	assert.Contains(t, out, e.Device.ID)
	assert.Contains(t, out, "secret=REDACTED")
	assert.NotContains(t, out, e.Key.Secret.Base32())
	out = fmt.Sprintf("%#v", *e)
	assert.Contains(t, out, "twofa.Secret(REDACTED)")
	assert.NotContains(t, out, e.Key.Secret.Base32())
	_, err := json.Marshal(e)
	assert.ErrorIs(t, err, twofa.ErrSecretMarshal, "an Enrollment is not marshalled with its secret")
}
