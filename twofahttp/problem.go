package twofahttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/signin"
)

// The problem types of ProblemFor, as RFC 9457 "type" URIs. Each but
// TypeInternal resolves to its own documentation here; TypeInternal is
// RFC 9457's "about:blank", a problem with nothing to add to its status.
const (
	// TypeInvalid (400): the request cannot be carried out as it stands -
	// an invalid account name, label, secret, URI, phone number or
	// option, a limit reached, a name in use, an expired enrolment. The
	// detail says which; none of them tells anything about another
	// account.
	TypeInvalid = "https://pkg.go.dev/github.com/twofa-go/twofa/twofahttp#TypeInvalid"
	// TypeNotAccepted (401): a code, password, token or record that was
	// not accepted, whatever the reason: wrong, malformed, used already,
	// expired, unknown, or no second factor at all. Every such error gets
	// the one detail NotAcceptedDetail, so that a response never tells
	// which factors an account has, nor whether a record exists. (A
	// settings page, whose user is signed in, may say more: test
	// errors.Is(err, twofa.ErrNotEnrolled) and the like before calling
	// WriteError. RFC 9110 asks a 401 for a WWW-Authenticate challenge:
	// BasicAuth sends one; a form-based sign-in has no scheme to name,
	// and browsers do without.)
	TypeNotAccepted = "https://pkg.go.dev/github.com/twofa-go/twofa/twofahttp#TypeNotAccepted"
	// TypeThrottled (429): too many failed attempts, or a code sent too
	// recently; Problem.RetryAfter (and the Retry-After header WriteError
	// sets) says how long to wait.
	TypeThrottled = "https://pkg.go.dev/github.com/twofa-go/twofa/twofahttp#TypeThrottled"
	// TypeCrossOrigin (403): a state-changing request from another
	// origin, which CrossOriginProtection refused.
	TypeCrossOrigin = "https://pkg.go.dev/github.com/twofa-go/twofa/twofahttp#TypeCrossOrigin"
	// TypeUnavailable (503): the request did not finish in time (its
	// context was cancelled or ran out) or a code could not be sent;
	// trying again later may succeed.
	TypeUnavailable = "https://pkg.go.dev/github.com/twofa-go/twofa/twofahttp#TypeUnavailable"
	// TypeInternal (500): anything else - a store, a keyring or a
	// configuration that failed, or an error ProblemFor does not know.
	// Its detail says nothing of the cause: log the error before writing
	// it.
	TypeInternal = "about:blank"
)

// NotAcceptedDetail is the detail of every 401 problem.
const NotAcceptedDetail = "The code or password was not accepted: it may be mistyped, used already or expired. Check it and try again, or start over."

// Problem is an RFC 9457 problem details object: what WriteError sends
// as application/problem+json, and what a server-rendered page shows
// (Title as a heading, Detail as the message; both are plain text for
// html/template to escape). It never holds a secret, a code, an account
// or the cause of a server failure.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// RetryAfter is how long to wait before trying again, for a 429
	// problem; zero otherwise. WriteError sends it as the Retry-After
	// header, in whole seconds rounded up.
	RetryAfter time.Duration `json:"-"`
}

// ProblemFor returns the problem that reports err to the client: 400,
// 401, 429, 503 or 500 as the Type constants describe, for twofa's errors
// and those of packages phone, browser and signin, bare or wrapped (fmt.Errorf
// with %w). An error it does not know, and a nil error (a handler that
// should not have called it), is a 500 that says nothing of it.
func ProblemFor(err error) Problem {
	var (
		thr *twofa.ThrottledError
		cd  *phone.CooldownError
		se  *twofa.SecretError
		ue  *twofa.URIError
	)
	switch {
	case err == nil:
		return internal()

	// Throttled first: an hourly cap's CooldownError matches
	// twofa.ErrLimitReached too.
	case errors.As(err, &thr) && thr != nil:
		what := "Too many failed attempts."
		if thr.BudgetSpent {
			what = "Too many failed attempts over time."
		}
		return throttled(what, thr.RetryAfter)
	case errors.As(err, &cd) && cd != nil:
		what := "A code was sent moments ago."
		if cd.Hourly {
			what = "Too many codes were sent in the last hour."
		}
		return throttled(what, cd.RetryAfter)
	case errors.Is(err, twofa.ErrThrottled), errors.Is(err, phone.ErrCooldown):
		return throttled("Too many attempts.", 0)

	// 401: one answer for every credential that did not pass. A
	// malformed code is one of them: whether a code of some length is
	// malformed depends on the account's devices. So is a factor whose
	// stored record failed authentication (twofa.ErrTampered): to the
	// client it is refused like any other; twofa.EventTampered tells the
	// operator.
	case errors.Is(err, twofa.ErrInvalidCode),
		errors.Is(err, twofa.ErrTampered),
		errors.Is(err, twofa.ErrMalformedCode),
		errors.Is(err, twofa.ErrReplayed),
		errors.Is(err, twofa.ErrNotEnrolled),
		errors.Is(err, twofa.ErrNotFound),
		errors.Is(err, signin.ErrNotFound), // expired, void (too many attempts), unknown: start over
		errors.Is(err, twofa.ErrInvalidAppPassword),
		errors.Is(err, twofa.ErrMalformedAppPassword),
		errors.Is(err, browser.ErrNotTrusted):
		return Problem{Type: TypeNotAccepted, Title: "Not accepted", Status: http.StatusUnauthorized, Detail: NotAcceptedDetail}

	// 503 before the 400s and 500s: a SendError, or a store's error, may
	// wrap a context error.
	case errors.Is(err, phone.ErrSendFailed):
		return unavailable("The code could not be sent. Try again in a moment.")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return unavailable("The request did not finish in time. Try again in a moment.")

	// 400.
	case errors.As(err, &se) && se != nil && knownReason(se.Reason):
		return invalid("The secret key is not valid: " + se.Reason.Error() + ".")
	case errors.As(err, &ue) && ue != nil && validPart(ue.Part):
		return invalid("The otpauth URI is not valid: its " + ue.Part + " is wrong.")
	}
	for _, c := range invalidErrors {
		if errors.Is(err, c.err) {
			return invalid(c.detail)
		}
	}
	// signin.ErrInvalidIP stays a 500: Request.IP is the backend's reading
	// of the connection or its proxy's header, never the user's input, so
	// an address that does not parse is the server's fault.
	return internal()
}

// knownReason reports whether reason is one SecretError documents, and so
// safe to show.
func knownReason(reason error) bool {
	switch reason {
	case twofa.ErrSecretChar, twofa.ErrSecretPadding, twofa.ErrSecretLength, twofa.ErrSecretTooShort, twofa.ErrSecretTooLong:
		return true
	}
	return false
}

// validPart reports whether part is one URIError documents, and so safe
// to show.
func validPart(part string) bool {
	switch part {
	case "uri", "scheme", "type", "label", "issuer", "account", "secret", "algorithm", "digits", "period", "counter", "encoder":
		return true
	}
	return false
}

// invalidErrors are the 400 errors and their details, the more specific
// before the more general (ErrTooManyDevices before ErrLimitReached).
var invalidErrors = [...]struct {
	err    error
	detail string
}{
	{twofa.ErrInvalidAccount, "The account name is not valid."},
	{twofa.ErrInvalidLabel, "The name is empty, too long, or holds characters that are not allowed."},
	{twofa.ErrInvalidSecret, "The secret key is not valid."},
	{twofa.ErrInvalidURI, "The otpauth URI is not valid."},
	{twofa.ErrInvalidOptions, "The options are not valid."},
	{twofa.ErrQRCode, "The QR code cannot be drawn at this size."},
	{twofa.ErrEnrollmentExpired, "The enrolment has expired. Start again."},
	{twofa.ErrAlreadyConfirmed, "The device is confirmed already."},
	{twofa.ErrTooManyDevices, "The account has as many authenticator devices as it may. Remove one first."},
	{twofa.ErrTooManyAppPasswords, "The account has as many app passwords as it may. Revoke one first."},
	{twofa.ErrDuplicateLabel, "This name is in use already. Choose another."},
	{phone.ErrInvalidNumber, "The phone number is not valid. Give it with + and the country code."},
	{phone.ErrInvalidChannel, "Choose text message or voice call."},
	{phone.ErrTooMany, "The account has as many phone numbers as it may. Remove one first."},
	{phone.ErrExists, "This phone number has been added already."},
	{phone.ErrConfirmed, "The phone number is confirmed already."},
	{phone.ErrCodeExpired, "The code has expired. Send a new one."},
	{phone.ErrOutOfBandDisabled, "Codes by text message or voice call are not enabled."},
	{twofa.ErrLimitReached, "A limit has been reached."},
	{twofa.ErrDuplicate, "This exists already."},
}

func invalid(detail string) Problem {
	return Problem{Type: TypeInvalid, Title: "Invalid request", Status: http.StatusBadRequest, Detail: detail}
}

func unavailable(detail string) Problem {
	return Problem{Type: TypeUnavailable, Title: "Try again later", Status: http.StatusServiceUnavailable, Detail: detail}
}

func internal() Problem {
	return Problem{Type: TypeInternal, Title: http.StatusText(http.StatusInternalServerError), Status: http.StatusInternalServerError,
		Detail: "Something went wrong on our side. Try again later."}
}

func throttled(what string, wait time.Duration) Problem {
	p := Problem{Type: TypeThrottled, Title: "Too many attempts", Status: http.StatusTooManyRequests, RetryAfter: max(wait, 0)}
	p.Detail = what + " Try again later."
	if p.RetryAfter > 0 {
		p.Detail = what + " Try again in " + humanWait(p.RetryAfter) + "."
	}
	return p
}

// retryAfterSeconds is d in whole seconds, rounded up: a client that
// waits that long is not refused again by the same throttle.
func retryAfterSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}

// humanWait spells d, rounded up, for a person: "45 seconds",
// "3 minutes", "2 hours", "3 days".
func humanWait(d time.Duration) string {
	name, unit := "day", 24*time.Hour
	switch {
	case d < 2*time.Minute:
		name, unit = "second", time.Second
	case d < 2*time.Hour:
		name, unit = "minute", time.Minute
	case d < 48*time.Hour:
		name, unit = "hour", time.Hour
	}
	n := (d + unit - 1) / unit
	if n == 1 {
		return "1 " + name
	}
	return fmt.Sprintf("%d %ss", n, name)
}

// WriteError writes err to w as ProblemFor describes: an RFC 9457
// application/problem+json body, the problem's status, and for a 429 a
// Retry-After header in whole seconds, rounded up. The response is not
// cached (Cache-Control: no-store). A HEAD request gets the headers only.
//
// WriteError writes nothing of a server failure's cause: log err before
// calling it. Call it before anything else is written to w.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	writeProblem(w, r, ProblemFor(err))
}

func writeProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	body, err := json.Marshal(p)
	if err != nil { // cannot happen: strings and an int
		body = []byte(`{"type":"about:blank","title":"Internal Server Error","status":500}`)
		p.Status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if p.Status == http.StatusTooManyRequests && p.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(retryAfterSeconds(p.RetryAfter), 10))
	}
	w.WriteHeader(p.Status)
	if r == nil || r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
