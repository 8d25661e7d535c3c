package twofahttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/signin"
	"github.com/twofa-go/twofa/twofahttp"
	"github.com/twofa-go/twofa/twofatest"
)

// problemResponse is a problem+json response as a client reads it.
type problemResponse struct {
	status     int
	retryAfter string
	body       map[string]any
	raw        string
}

func writeError(t *testing.T, method string, err error) problemResponse {
	t.Helper()
	rec := httptest.NewRecorder()
	twofahttp.WriteError(rec, httptest.NewRequest(method, "/", nil), err)
	res := rec.Result()
	assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
	p := problemResponse{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After"), raw: rec.Body.String()}
	if method != http.MethodHead {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p.body), "body %q", p.raw)
	}
	return p
}

func realSecretError(t *testing.T) error {
	_, err := twofa.ParseSecret("JBSWY3DP!HPK3PXP")
	require.Error(t, err)
	return err
}

func realURIError(t *testing.T) error {
	_, err := twofa.ParseKeyURI("otpauth://totp/Example:alice?issuer=Example")
	require.Error(t, err)
	return err
}

func TestWriteErrorTable(t *testing.T) {
	storeFailure := errors.New("dial tcp 10.1.2.3:5432: connection refused (user twofa_admin)")
	tests := []struct {
		name       string
		err        error
		status     int
		typ        string
		detail     string // the exact detail; "" to check only that there is one
		retryAfter string
	}{
		// 401: one detail for all.
		{"invalid code", twofa.ErrInvalidCode, 401, twofahttp.TypeNotAccepted, twofahttp.NotAcceptedDetail, ""},
		{"malformed code", twofa.ErrMalformedCode, 401, twofahttp.TypeNotAccepted, twofahttp.NotAcceptedDetail, ""},
		{"replayed", twofa.ErrReplayed, 401, twofahttp.TypeNotAccepted, twofahttp.NotAcceptedDetail, ""},
		{"not enrolled", twofa.ErrNotEnrolled, 401, twofahttp.TypeNotAccepted, twofahttp.NotAcceptedDetail, ""},
		{"not found", twofa.ErrNotFound, 401, twofahttp.TypeNotAccepted, twofahttp.NotAcceptedDetail, ""},
		{"invalid app password", twofa.ErrInvalidAppPassword, 401, twofahttp.TypeNotAccepted, twofahttp.NotAcceptedDetail, ""},
		{"malformed app password", twofa.ErrMalformedAppPassword, 401, twofahttp.TypeNotAccepted, twofahttp.NotAcceptedDetail, ""},
		{"browser not trusted", browser.ErrNotTrusted, 401, twofahttp.TypeNotAccepted, twofahttp.NotAcceptedDetail, ""},
		{"tampered", twofa.ErrTampered, 401, twofahttp.TypeNotAccepted, twofahttp.NotAcceptedDetail, ""},
		{"tampered record", fmt.Errorf("twofa: verify: %w", &twofa.TamperedError{Record: twofa.RecordDevice, Account: "alice", ID: "d1"}), 401, twofahttp.TypeNotAccepted, twofahttp.NotAcceptedDetail, ""},
		{"browser malformed token", browser.ErrMalformedToken, 401, twofahttp.TypeNotAccepted, twofahttp.NotAcceptedDetail, ""},
		{"browser unknown", browser.ErrUnknown, 401, twofahttp.TypeNotAccepted, twofahttp.NotAcceptedDetail, ""},
		{"browser expired", browser.ErrExpired, 401, twofahttp.TypeNotAccepted, twofahttp.NotAcceptedDetail, ""},
		{"browser revoked", browser.ErrRevoked, 401, twofahttp.TypeNotAccepted, twofahttp.NotAcceptedDetail, ""},

		// 429 with Retry-After in whole seconds, rounded up.
		{"throttled", &twofa.ThrottledError{RetryAfter: 1500 * time.Millisecond}, 429, twofahttp.TypeThrottled,
			"Too many failed attempts. Try again in 2 seconds.", "2"},
		{"throttled exactly", &twofa.ThrottledError{RetryAfter: time.Second}, 429, twofahttp.TypeThrottled,
			"Too many failed attempts. Try again in 1 second.", "1"},
		{"throttled a nanosecond", &twofa.ThrottledError{RetryAfter: time.Nanosecond}, 429, twofahttp.TypeThrottled,
			"Too many failed attempts. Try again in 1 second.", "1"},
		{"throttled minutes", &twofa.ThrottledError{RetryAfter: 14*time.Minute + time.Second}, 429, twofahttp.TypeThrottled,
			"Too many failed attempts. Try again in 15 minutes.", "841"},
		{"budget spent", &twofa.ThrottledError{RetryAfter: 35*time.Hour + time.Minute, BudgetSpent: true}, 429, twofahttp.TypeThrottled,
			"Too many failed attempts over time. Try again in 36 hours.", "126060"},
		{"throttled days", &twofa.ThrottledError{RetryAfter: 50 * time.Hour}, 429, twofahttp.TypeThrottled,
			"Too many failed attempts. Try again in 3 days.", "180000"},
		{"bare ErrThrottled", twofa.ErrThrottled, 429, twofahttp.TypeThrottled, "Too many attempts. Try again later.", ""},
		{"cooldown", &phone.CooldownError{RetryAfter: 30 * time.Second}, 429, twofahttp.TypeThrottled,
			"A code was sent moments ago. Try again in 30 seconds.", "30"},
		{"hourly cap", &phone.CooldownError{RetryAfter: 59 * time.Minute, Hourly: true}, 429, twofahttp.TypeThrottled,
			"Too many codes were sent in the last hour. Try again in 59 minutes.", "3540"},
		{"bare ErrCooldown", phone.ErrCooldown, 429, twofahttp.TypeThrottled, "Too many attempts. Try again later.", ""},

		// 400, each with its own detail.
		{"invalid account", twofa.ErrInvalidAccount, 400, twofahttp.TypeInvalid, "The account name is not valid.", ""},
		{"invalid label", twofa.ErrInvalidLabel, 400, twofahttp.TypeInvalid, "", ""},
		{"secret error", realSecretError(t), 400, twofahttp.TypeInvalid, "The secret key is not valid: illegal base32 character.", ""},
		{"bare invalid secret", twofa.ErrInvalidSecret, 400, twofahttp.TypeInvalid, "The secret key is not valid.", ""},
		{"uri error", realURIError(t), 400, twofahttp.TypeInvalid, "The otpauth URI is not valid: its secret is wrong.", ""},
		{"bare invalid uri", twofa.ErrInvalidURI, 400, twofahttp.TypeInvalid, "The otpauth URI is not valid.", ""},
		{"invalid options", twofa.ErrInvalidOptions, 400, twofahttp.TypeInvalid, "The options are not valid.", ""},
		{"qr code", twofa.ErrQRCode, 400, twofahttp.TypeInvalid, "The QR code cannot be drawn at this size.", ""},
		{"enrolment expired", twofa.ErrEnrollmentExpired, 400, twofahttp.TypeInvalid, "The enrolment has expired. Start again.", ""},
		{"already confirmed", twofa.ErrAlreadyConfirmed, 400, twofahttp.TypeInvalid, "The device is confirmed already.", ""},
		{"too many devices", twofa.ErrTooManyDevices, 400, twofahttp.TypeInvalid, "The account has as many authenticator devices as it may. Remove one first.", ""},
		{"too many app passwords", twofa.ErrTooManyAppPasswords, 400, twofahttp.TypeInvalid, "The account has as many app passwords as it may. Revoke one first.", ""},
		{"duplicate label", twofa.ErrDuplicateLabel, 400, twofahttp.TypeInvalid, "This name is in use already. Choose another.", ""},
		{"limit reached", twofa.ErrLimitReached, 400, twofahttp.TypeInvalid, "A limit has been reached.", ""},
		{"duplicate", twofa.ErrDuplicate, 400, twofahttp.TypeInvalid, "This exists already.", ""},
		{"invalid number", phone.ErrInvalidNumber, 400, twofahttp.TypeInvalid, "", ""},
		{"invalid channel", phone.ErrInvalidChannel, 400, twofahttp.TypeInvalid, "Choose text message or voice call.", ""},
		{"too many phones", phone.ErrTooMany, 400, twofahttp.TypeInvalid, "The account has as many phone numbers as it may. Remove one first.", ""},
		{"phone exists", phone.ErrExists, 400, twofahttp.TypeInvalid, "This phone number has been added already.", ""},
		{"phone confirmed", phone.ErrConfirmed, 400, twofahttp.TypeInvalid, "The phone number is confirmed already.", ""},
		{"phone code expired", phone.ErrCodeExpired, 400, twofahttp.TypeInvalid, "The code has expired. Send a new one.", ""},
		{"sign-in not found", signin.ErrNotFound, 401, twofahttp.TypeNotAccepted, twofahttp.NotAcceptedDetail, ""},
		{"sign-in expired", signin.ErrExpired, 401, twofahttp.TypeNotAccepted, twofahttp.NotAcceptedDetail, ""},
		{"sign-in void", signin.ErrTooManyAttempts, 401, twofahttp.TypeNotAccepted, twofahttp.NotAcceptedDetail, ""},
		{"sign-in voided by a wrong code", errors.Join(signin.ErrTooManyAttempts, twofa.ErrInvalidCode), 401, twofahttp.TypeNotAccepted, twofahttp.NotAcceptedDetail, ""},
		{"no sign-in cookie", twofahttp.ErrNoSignInCookie, 401, twofahttp.TypeNotAccepted, twofahttp.NotAcceptedDetail, ""},
		{"out of band disabled", phone.ErrOutOfBandDisabled, 400, twofahttp.TypeInvalid, "", ""},

		// 503: try again.
		{"send failed", &phone.SendError{Channel: phone.SMS}, 503, twofahttp.TypeUnavailable, "The code could not be sent. Try again in a moment.", ""},
		{"bare send failed", phone.ErrSendFailed, 503, twofahttp.TypeUnavailable, "The code could not be sent. Try again in a moment.", ""},
		{"deadline", context.DeadlineExceeded, 503, twofahttp.TypeUnavailable, "The request did not finish in time. Try again in a moment.", ""},
		{"cancelled", context.Canceled, 503, twofahttp.TypeUnavailable, "The request did not finish in time. Try again in a moment.", ""},
		{"store timeout", fmt.Errorf("twofa: verify: %w", fmt.Errorf("query devices: %w", context.DeadlineExceeded)), 503, twofahttp.TypeUnavailable, "", ""},

		// 500: nothing of the cause.
		{"store failure", fmt.Errorf("twofa: verify: %w", storeFailure), 500, twofahttp.TypeInternal, "", ""},
		{"invalid sealed", twofa.ErrInvalidSealed, 500, twofahttp.TypeInternal, "", ""},
		{"config", twofa.ErrConfig, 500, twofahttp.TypeInternal, "", ""},
		{"secret marshal", twofa.ErrSecretMarshal, 500, twofahttp.TypeInternal, "", ""},
		{"before T0", twofa.ErrBeforeT0, 500, twofahttp.TypeInternal, "", ""},
		{"window too large", twofa.ErrWindowTooLarge, 500, twofahttp.TypeInternal, "", ""},
		{"sign-in IP from the backend", signin.ErrInvalidIP, 500, twofahttp.TypeInternal, "", ""},
		{"unknown", errors.New("something else"), 500, twofahttp.TypeInternal, "", ""},
		{"nil", nil, 500, twofahttp.TypeInternal, "", ""},
	}
	notAccepted := ""
	for _, tc := range tests {
		for _, wrapped := range []bool{false, true} {
			err := tc.err
			name := tc.name
			if wrapped {
				if err == nil {
					continue
				}
				err = fmt.Errorf("handler: %w", fmt.Errorf("twofa: op: %w", err))
				name += "/wrapped"
			}
			t.Run(name, func(t *testing.T) {
				got := writeError(t, http.MethodPost, err)
				assert.Equal(t, tc.status, got.status)
				assert.Equal(t, tc.retryAfter, got.retryAfter)
				require.Len(t, got.body, 4, "type, title, status, detail: %s", got.raw)
				assert.Equal(t, tc.typ, got.body["type"])
				assert.EqualValues(t, tc.status, got.body["status"])
				assert.NotEmpty(t, got.body["title"])
				if tc.detail != "" {
					assert.Equal(t, tc.detail, got.body["detail"])
				} else {
					assert.NotEmpty(t, got.body["detail"])
				}
				if tc.status == 500 {
					assert.Equal(t, "Internal Server Error", got.body["title"])
				}
				if tc.status == 401 {
					// Every 401 is the same, byte for byte.
					if notAccepted == "" {
						notAccepted = got.raw
					}
					assert.Equal(t, notAccepted, got.raw)
				}
				if err != nil {
					// Nothing of the error's own text reaches the client.
					assert.NotContains(t, got.raw, err.Error())
					assert.NotContains(t, got.raw, "twofa:")
				}
				assert.NotContains(t, got.raw, "10.1.2.3")
				assert.NotContains(t, got.raw, "twofa_admin")

				p := twofahttp.ProblemFor(err)
				assert.Equal(t, tc.status, p.Status)
				assert.Equal(t, got.body["detail"], p.Detail)
			})
		}
	}
}

// Errors built by hand, even nonsensical ones, are answered, never a
// panic.
func TestProblemForOddErrors(t *testing.T) {
	var nilThrottled *twofa.ThrottledError
	for _, tc := range []struct {
		err    error
		status int
		detail string
	}{
		{nilThrottled, 429, "Too many attempts. Try again later."},
		{fmt.Errorf("x: %w", nilThrottled), 429, "Too many attempts. Try again later."},
		{&twofa.ThrottledError{RetryAfter: -time.Second}, 429, "Too many failed attempts. Try again later."},
		{&twofa.SecretError{}, 400, "The secret key is not valid."},
		{&twofa.SecretError{Reason: errors.New("secret JBSWY3DP")}, 400, "The secret key is not valid."},
		{&twofa.URIError{Part: "<script>"}, 400, "The otpauth URI is not valid."},
		{&twofa.URIError{}, 400, "The otpauth URI is not valid."},
	} {
		p := twofahttp.ProblemFor(tc.err)
		assert.Equal(t, tc.status, p.Status, "%#v", tc.err)
		assert.Equal(t, tc.detail, p.Detail, "%#v", tc.err)
		assert.Zero(t, p.RetryAfter)
	}
}

func TestWriteErrorHead(t *testing.T) {
	got := writeError(t, http.MethodHead, &twofa.ThrottledError{RetryAfter: 3 * time.Second})
	assert.Equal(t, http.StatusTooManyRequests, got.status)
	assert.Equal(t, "3", got.retryAfter)
	assert.Empty(t, got.raw)
}

// The errors of a real installation, as a sign-in handler gets them.
func TestWriteErrorFromInstallation(t *testing.T) {
	ctx := context.Background()
	env := twofatest.New(t)
	dev := env.EnrollTOTP("alice")

	// wrong returns a code that no step near now gives: a guess that
	// cannot match.
	wrong := func(i int) string {
		for ; ; i++ {
			c := fmt.Sprintf("%06d", i%1000000)
			near := false
			for d := -5; d <= 5; d++ {
				near = near || c == dev.CodeAt(env.Clock.Now().Add(time.Duration(d)*30*time.Second))
			}
			if !near {
				return c
			}
		}
	}
	_, err := env.TwoFA.Verify(ctx, "alice", wrong(0))
	require.ErrorIs(t, err, twofa.ErrInvalidCode)
	assert.Equal(t, http.StatusUnauthorized, writeError(t, http.MethodPost, err).status)

	code := dev.Code()
	_, err = env.TwoFA.Verify(ctx, "alice", code)
	require.NoError(t, err)
	_, err = env.TwoFA.Verify(ctx, "alice", code)
	require.ErrorIs(t, err, twofa.ErrReplayed)
	assert.Equal(t, http.StatusUnauthorized, writeError(t, http.MethodPost, err).status)

	_, err = env.TwoFA.Verify(ctx, "bob", code) // no second factor
	require.ErrorIs(t, err, twofa.ErrNotEnrolled)
	bob := writeError(t, http.MethodPost, err)
	assert.Equal(t, http.StatusUnauthorized, bob.status)

	// Throttled after the free failures; the fake clock does not move, so
	// the wait is the policy's first back-off exactly.
	var thr *twofa.ThrottledError
	for i := 0; i < 50 && !errors.As(err, &thr); i++ {
		_, err = env.TwoFA.Verify(ctx, "alice", wrong(i))
	}
	require.ErrorAs(t, err, &thr)
	got := writeError(t, http.MethodPost, err)
	assert.Equal(t, http.StatusTooManyRequests, got.status)
	assert.Equal(t, fmt.Sprint(int64((thr.RetryAfter+time.Second-1)/time.Second)), got.retryAfter)
}

func TestWriteErrorFromPhones(t *testing.T) {
	ctx := context.Background()
	env := twofatest.New(t)
	n := phone.Number{E164: "+14155550142", CountryCode: 1}
	info, err := env.Phones.Add(ctx, "alice", n)
	require.NoError(t, err)
	_, err = env.Phones.SendCode(ctx, "alice", info.ID, phone.SMS)
	require.NoError(t, err)

	_, err = env.Phones.SendCode(ctx, "alice", info.ID, phone.SMS)
	var cd *phone.CooldownError
	require.ErrorAs(t, err, &cd)
	got := writeError(t, http.MethodPost, err)
	assert.Equal(t, http.StatusTooManyRequests, got.status)
	assert.NotEmpty(t, got.retryAfter)
	assert.NotContains(t, got.raw, "4155550142")
	assert.NotContains(t, got.raw, "0142")

	env.Clock.Advance(env.ResendCooldown())
	env.Sender.Fail(fmt.Errorf("provider: number +14155550142: %w", context.DeadlineExceeded))
	_, err = env.Phones.SendCode(ctx, "alice", info.ID, phone.SMS)
	require.ErrorIs(t, err, phone.ErrSendFailed)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	got = writeError(t, http.MethodPost, err)
	assert.Equal(t, http.StatusServiceUnavailable, got.status)
	assert.Equal(t, "The code could not be sent. Try again in a moment.", got.body["detail"])
	assert.NotContains(t, got.raw, "0142")
}

func TestProblemForServerRenderedPage(t *testing.T) {
	p := twofahttp.ProblemFor(fmt.Errorf("sign in: %w", &twofa.ThrottledError{RetryAfter: 90 * time.Second}))
	assert.Equal(t, twofahttp.Problem{
		Type: twofahttp.TypeThrottled, Title: "Too many attempts", Status: http.StatusTooManyRequests,
		Detail: "Too many failed attempts. Try again in 90 seconds.", RetryAfter: 90 * time.Second,
	}, p)
	b, err := json.Marshal(p)
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"`+twofahttp.TypeThrottled+`","title":"Too many attempts","status":429,"detail":"Too many failed attempts. Try again in 90 seconds."}`, string(b))
	assert.False(t, strings.Contains(string(b), "RetryAfter"))
}
