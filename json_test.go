package twofa_test

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/twofatest"
)

var (
	jsonT0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	jsonT1 = jsonT0.Add(time.Minute)
	jsonT2 = jsonT0.Add(time.Hour)
)

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// TestInfoJSON pins the JSON a settings page sends to the browser:
// snake_case names, states and types as text, unset times left out, and
// a phone number masked.
func TestInfoJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v    any
		want string
	}{
		{twofa.DeviceInfo{ID: "d1", Label: "Alice's phone", Type: twofa.TypeTOTP, State: twofa.DeviceConfirmed, CreatedAt: jsonT0, ConfirmedAt: jsonT1, LastUsedAt: jsonT2},
			`{"id":"d1","label":"Alice's phone","type":"totp","state":"confirmed","created_at":"2026-01-02T03:04:05Z","confirmed_at":"2026-01-02T03:05:05Z","last_used_at":"2026-01-02T04:04:05Z"}`},
		{twofa.DeviceInfo{ID: "d2", Label: "YubiKey", Type: twofa.TypeHOTP, State: twofa.DevicePending, CreatedAt: jsonT0, ExpiresAt: jsonT2},
			`{"id":"d2","label":"YubiKey","type":"hotp","state":"pending","created_at":"2026-01-02T03:04:05Z","expires_at":"2026-01-02T04:04:05Z"}`},
		{twofa.AppPasswordInfo{ID: "a1", Label: "Mail <on> the Mac", CreatedAt: jsonT0},
			`{"id":"a1","label":"Mail \u003con\u003e the Mac","created_at":"2026-01-02T03:04:05Z"}`},
		{twofa.AppPasswordInfo{ID: "a1", Label: "Mail", CreatedAt: jsonT0, LastUsedAt: jsonT1},
			`{"id":"a1","label":"Mail","created_at":"2026-01-02T03:04:05Z","last_used_at":"2026-01-02T03:05:05Z"}`},
		{browser.Info{ID: "b1", Label: "Firefox on Linux", CreatedAt: jsonT0, ExpiresAt: jsonT2, LastUsedAt: jsonT1},
			`{"id":"b1","label":"Firefox on Linux","created_at":"2026-01-02T03:04:05Z","expires_at":"2026-01-02T04:04:05Z","last_used_at":"2026-01-02T03:05:05Z"}`},
		{browser.Info{ID: "b2", Label: "Safari on iPhone", CreatedAt: jsonT0, ExpiresAt: jsonT2, LastUsedAt: jsonT0, RevokedAt: jsonT1},
			`{"id":"b2","label":"Safari on iPhone","created_at":"2026-01-02T03:04:05Z","expires_at":"2026-01-02T04:04:05Z","last_used_at":"2026-01-02T03:04:05Z","revoked_at":"2026-01-02T03:05:05Z"}`},
		{phone.Info{ID: "p1", Number: phoneUS, State: phone.Trusted, CreatedAt: jsonT0, ConfirmedAt: jsonT1},
			`{"id":"p1","number":"+1 ••• ••• ••42","state":"trusted","created_at":"2026-01-02T03:04:05Z","confirmed_at":"2026-01-02T03:05:05Z"}`},
		{phone.Info{ID: "p2", Number: phoneUK, State: phone.Pending, CreatedAt: jsonT0, ExpiresAt: jsonT2, LastUsedAt: jsonT1},
			`{"id":"p2","number":"+44 ••• ••• ••23","state":"pending","created_at":"2026-01-02T03:04:05Z","expires_at":"2026-01-02T04:04:05Z","last_used_at":"2026-01-02T03:05:05Z"}`},
		{phone.Sent{ID: "c1", PhoneID: "p1", To: phoneUS, Purpose: phone.PurposeSignIn, Channel: phone.Voice, CreatedAt: jsonT0, ExpiresAt: jsonT2, ResendAt: jsonT1},
			`{"id":"c1","phone_id":"p1","to":"+1 ••• ••• ••42","purpose":"sign_in","channel":"voice","created_at":"2026-01-02T03:04:05Z","expires_at":"2026-01-02T04:04:05Z","resend_at":"2026-01-02T03:05:05Z"}`},
		{phone.Sent{ID: "c2", PhoneID: "p2", To: phoneUK, Purpose: phone.PurposeConfirm, Channel: phone.SMS, CreatedAt: jsonT0, ExpiresAt: jsonT2},
			`{"id":"c2","phone_id":"p2","to":"+44 ••• ••• ••23","purpose":"verify_phone","channel":"sms","created_at":"2026-01-02T03:04:05Z","expires_at":"2026-01-02T04:04:05Z"}`},
	} {
		assert.Equal(t, tc.want, jsonOf(t, tc.v), "%T", tc.v)
		// A pointer marshals the same.
		p := reflect.New(reflect.TypeOf(tc.v))
		p.Elem().Set(reflect.ValueOf(tc.v))
		assert.Equal(t, tc.want, jsonOf(t, p.Interface()), "*%T", tc.v)
	}
	// In a list, as a settings page sends them.
	assert.Equal(t, `[{"id":"p1","number":"+1 ••• ••• ••42","state":"trusted","created_at":"2026-01-02T03:04:05Z"}]`,
		jsonOf(t, []phone.Info{{ID: "p1", Number: phoneUS, State: phone.Trusted, CreatedAt: jsonT0}}))
}

// TestInfoJSONRoundTrip: JSON decodes back into the Info types (but for
// the masked number, which is for display only).
func TestInfoJSONRoundTrip(t *testing.T) {
	t.Parallel()
	d := twofa.DeviceInfo{ID: "d1", Label: "phone", Type: twofa.TypeHOTP, State: twofa.DevicePending, CreatedAt: jsonT0, ExpiresAt: jsonT1}
	var d2 twofa.DeviceInfo
	require.NoError(t, json.Unmarshal([]byte(jsonOf(t, d)), &d2))
	assert.Equal(t, d, d2)
	b := browser.Info{ID: "b1", Label: "Edge on Windows", CreatedAt: jsonT0, ExpiresAt: jsonT2, LastUsedAt: jsonT1}
	var b2 browser.Info
	require.NoError(t, json.Unmarshal([]byte(jsonOf(t, b)), &b2))
	assert.Equal(t, b, b2)
	a := twofa.AppPasswordInfo{ID: "a1", Label: "Mail", CreatedAt: jsonT0}
	var a2 twofa.AppPasswordInfo
	require.NoError(t, json.Unmarshal([]byte(jsonOf(t, a)), &a2))
	assert.Equal(t, a, a2)
	p := phone.Info{ID: "p1", Number: phoneUS, State: phone.Trusted, CreatedAt: jsonT0}
	var p2 phone.Info
	require.NoError(t, json.Unmarshal([]byte(jsonOf(t, p)), &p2))
	p.Number = phone.Number{}
	assert.Equal(t, p, p2)
	c := phone.Sent{ID: "c1", PhoneID: "p1", To: phoneUS, Purpose: phone.PurposeSignIn, Channel: phone.SMS, CreatedAt: jsonT0, ExpiresAt: jsonT1}
	var c2 phone.Sent
	require.NoError(t, json.Unmarshal([]byte(jsonOf(t, c)), &c2))
	c.To = phone.Number{}
	assert.Equal(t, c, c2)

	err := json.Unmarshal([]byte(`{"id":"d1","state":"deleted"}`), &d2)
	assert.ErrorContains(t, err, `unknown device state "deleted"`)
	err = json.Unmarshal([]byte(`{"id":"d1","state":1}`), &d2)
	assert.Error(t, err, "a state is text, not a number")
}

// TestInfoFieldsHoldNoSecret lists the fields of every Info type: none
// holds a secret, a sealed blob, a digest, a token or a code. A new field
// must be added here, after checking that.
func TestInfoFieldsHoldNoSecret(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v      any
		fields string
	}{
		{twofa.DeviceInfo{}, "ID Label Type State CreatedAt ExpiresAt ConfirmedAt LastUsedAt"},
		{twofa.AppPasswordInfo{}, "ID Label CreatedAt LastUsedAt"},
		{browser.Info{}, "ID Label CreatedAt ExpiresAt LastUsedAt RevokedAt"},
		{phone.Info{}, "ID Number State CreatedAt ExpiresAt ConfirmedAt LastUsedAt"},
		{phone.Sent{}, "ID PhoneID To Purpose Channel CreatedAt ExpiresAt ResendAt"},
	} {
		typ := reflect.TypeOf(tc.v)
		var names []string
		for i := range typ.NumField() {
			f := typ.Field(i)
			names = append(names, f.Name)
			assert.NotEqual(t, reflect.TypeFor[[]byte](), f.Type, "%s.%s is bytes", typ, f.Name)
			assert.NotEqual(t, reflect.TypeFor[twofa.Secret](), f.Type, "%s.%s is a secret", typ, f.Name)
		}
		assert.Equal(t, tc.fields, strings.Join(names, " "), "%s", typ)
	}
}

// textEnum is an enum a settings page shows, with its valid values and
// their text.
type textEnum struct {
	name   string
	values map[any]string // value → text
	zero   func() any     // a pointer to a new zero value, to unmarshal into
	bad    []any          // values that are none of the constants
}

var textEnums = []textEnum{
	{"DeviceState", map[any]string{twofa.DevicePending: "pending", twofa.DeviceConfirmed: "confirmed"},
		func() any { return new(twofa.DeviceState) }, []any{twofa.DeviceState(0), twofa.DeviceState(3), twofa.DeviceState(255)}},
	{"Type", map[any]string{twofa.TypeTOTP: "totp", twofa.TypeHOTP: "hotp"},
		func() any { return new(twofa.Type) }, []any{twofa.Type(2), twofa.Type(255)}},
	{"Algorithm", map[any]string{twofa.SHA1: "SHA1", twofa.SHA256: "SHA256", twofa.SHA512: "SHA512"},
		func() any { return new(twofa.Algorithm) }, []any{twofa.Algorithm(3), twofa.Algorithm(255)}},
	{"PhoneState", map[any]string{phone.Pending: "pending", phone.Trusted: "trusted"},
		func() any { return new(phone.State) }, []any{phone.State(0), phone.State(3)}},
	{"Channel", map[any]string{phone.SMS: "sms", phone.Voice: "voice"},
		func() any { return new(phone.Channel) }, []any{phone.Channel(0), phone.Channel(3)}},
	{"ChallengePurpose", map[any]string{phone.PurposeConfirm: "verify_phone", phone.PurposeSignIn: "sign_in"},
		func() any { return new(phone.Purpose) }, []any{phone.Purpose(0), phone.Purpose(3)}},
}

// TestEnumText: every enum a settings page shows marshals to its String
// text and back; values that are none of its constants do not marshal;
// text that names none is refused, and leaves the value as it was.
func TestEnumText(t *testing.T) {
	t.Parallel()
	for _, e := range textEnums {
		for v, text := range e.values {
			m, ok := v.(encoding.TextMarshaler)
			require.True(t, ok, "%s is not a TextMarshaler", e.name)
			got, err := m.MarshalText()
			require.NoError(t, err, "%s %v", e.name, v)
			assert.Equal(t, text, string(got), e.name)
			assert.Equal(t, text, v.(interface{ String() string }).String(), "%s: the text is String's", e.name)

			p := e.zero()
			require.NoError(t, p.(encoding.TextUnmarshaler).UnmarshalText(got), "%s %q", e.name, got)
			assert.Equal(t, v, reflect.ValueOf(p).Elem().Interface(), "%s round trip", e.name)

			// Through JSON, as a string.
			j := jsonOf(t, v)
			assert.Equal(t, `"`+text+`"`, j, e.name)
			p = e.zero()
			require.NoError(t, json.Unmarshal([]byte(j), p), "%s %s", e.name, j)
			assert.Equal(t, v, reflect.ValueOf(p).Elem().Interface(), "%s JSON round trip", e.name)
		}
		for _, v := range e.bad {
			_, err := v.(encoding.TextMarshaler).MarshalText()
			assert.Error(t, err, "%s %v marshalled", e.name, v)
			_, err = json.Marshal(v)
			assert.Error(t, err, "%s %v marshalled to JSON", e.name, v)
		}
		var some any
		for v := range e.values {
			some = v
			break
		}
		for _, text := range []string{"", "unknown", "Pending", "PENDING", " pending", "pending ", "totp\x00", "1", "sha1", "Type(2)", strings.Repeat("x", 1000), "\xff"} {
			p := e.zero()
			reflect.ValueOf(p).Elem().Set(reflect.ValueOf(some))
			err := p.(encoding.TextUnmarshaler).UnmarshalText([]byte(text))
			require.Error(t, err, "%s accepted %q", e.name, text)
			assert.Equal(t, some, reflect.ValueOf(p).Elem().Interface(), "%s changed on refusing %q", e.name, text)
			assert.LessOrEqual(t, len(err.Error()), 200, "%s: the error quotes all of a long input", e.name)
		}
	}
}

// TestInfoJSONFromManagers: the Info values the managers return marshal
// with no unset time, no secret and the number masked.
func TestInfoJSONFromManagers(t *testing.T) {
	t.Parallel()
	e := twofatest.New(t)
	ctx := t.Context()
	e.EnrollTOTP("alice")
	devices, err := newDevices(e.Config)
	require.NoError(t, err)
	enr, err := devices.Enroll(ctx, "alice", "tablet", twofa.EnrollOptions{})
	require.NoError(t, err)
	list, err := devices.List(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, list, 2)
	_, binfo, err := e.Browsers.Trust(ctx, "alice", "Firefox on Linux")
	require.NoError(t, err)
	apps, err := newAppPasswords(e.Config)
	require.NoError(t, err)
	pw, ainfo, err := apps.Create(ctx, "alice", "Mail")
	require.NoError(t, err)

	out := jsonOf(t, map[string]any{"devices": list, "browser": binfo, "app_password": ainfo})
	assert.NotContains(t, out, "0001-01-01", "an unset time")
	assert.NotContains(t, out, enr.Key.Secret.Base32())
	assert.NotContains(t, out, pw)
	assert.Contains(t, out, `"state":"pending"`)
	assert.Contains(t, out, `"state":"confirmed"`)
	assert.Contains(t, out, `"type":"totp"`)
}
