package twofa

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Channel is how an out-of-band code reaches a phone.
type Channel uint8

// Channels.
const (
	ChannelSMS   Channel = iota + 1 // a text message
	ChannelVoice                    // an automated call that reads the code
)

// String returns "sms" or "voice".
func (c Channel) String() string {
	switch c {
	case ChannelSMS:
		return "sms"
	case ChannelVoice:
		return "voice"
	}
	return fmt.Sprintf("Channel(%d)", uint8(c))
}

func (c Channel) valid() bool { return c == ChannelSMS || c == ChannelVoice }

// Message is one out-of-band code to deliver. It carries the code - that
// is its purpose - so a Sender must hand it to the provider and never log
// it. String, GoString, every fmt verb and slog show the message without
// its code and with the number masked.
type Message struct {
	To        PhoneNumber      // To.E164 is the number to send to, e.g. "+14155550142"
	Channel   Channel          // ChannelSMS or ChannelVoice
	Purpose   ChallengePurpose // verifying a newly added number, or signing in
	Code      string           // the 6-digit code
	Issuer    string           // Config.Issuer, to name the service in the text; may be empty
	ExpiresAt time.Time        // when the code stops working
}

// Text returns a ready-made text for the message, for a Sender that does
// not write its own: the code first (phones offer to fill it in), then
// what it is for; for ChannelVoice, the digits one by one, so that a
// text-to-speech engine reads them as digits. It contains the code: do
// not log it.
func (m Message) Text() string {
	code := m.Code
	if m.Channel == ChannelVoice {
		code = strings.Join(strings.Split(m.Code, ""), ", ")
	}
	what := "sign-in code"
	if m.Purpose == ChallengeVerifyPhone {
		what = "code to confirm this phone number"
	}
	if m.Issuer != "" {
		what = m.Issuer + " " + what
	}
	if m.Channel == ChannelVoice {
		return "Your " + what + " is " + code + ". Again: " + code + "."
	}
	return code + " is your " + what + ". Do not share it with anyone."
}

// String describes the message without its code and with the number
// masked.
func (m Message) String() string {
	return fmt.Sprintf("twofa.Message{%s %s to %s, code REDACTED}", m.Channel, m.Purpose, m.To.Masked())
}

// GoString is String: a Message never prints its code.
func (m Message) GoString() string { return m.String() }

// Format writes String() for every verb, so that no fmt verb (%d and %x
// included) prints the code or the number.
func (m Message) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, m.String()) }

// LogValue describes the message for log/slog without its code.
func (m Message) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("to", m.To.Masked()),
		slog.String("channel", m.Channel.String()),
		slog.String("purpose", m.Purpose.String()),
	)
}

// Sender delivers out-of-band codes through the backend's SMS or voice
// provider. Send must be safe for concurrent use and return an error when
// the provider refused the message; it must not log the code.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, m Message) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, m Message) error { return f(ctx, m) }

// ErrSendFailed is matched by *SendError: the Sender reported an error.
var ErrSendFailed = errors.New("twofa: sending the code failed")

// SendError reports that the Sender failed to deliver a code. Its Error
// text names the number masked and has the number and the code scrubbed
// from the provider's message (providers like to echo both, in any
// format: "+1 (415) 555-0142", "0, 1, 7, 0, 3, 6").
//
// The provider's error itself is not retained - neither in a field nor
// through Unwrap - because it may echo the code, and errors travel to
// logs and error trackers that must never see one. Only its scrubbed
// text is kept; errors.Is matches ErrSendFailed and, when the provider's
// error matched them, context.Canceled or context.DeadlineExceeded.
type SendError struct {
	Channel Channel
	To      PhoneNumber // prints masked
	text    string      // the Sender's error text, scrubbed
	ctxErr  error       // context.Canceled, context.DeadlineExceeded or nil
}

func newSendError(m Message, err error) *SendError {
	e := &SendError{Channel: m.Channel, To: m.To, text: scrub(err.Error(), m)}
	switch {
	case errors.Is(err, context.Canceled):
		e.ctxErr = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		e.ctxErr = context.DeadlineExceeded
	}
	return e
}

// Error returns "twofa: sending the code by <channel> to <masked number>
// failed: " and the scrubbed text of the Sender's error.
func (e *SendError) Error() string {
	return fmt.Sprintf("twofa: sending the code by %s to %s failed: %s", e.Channel, e.To.Masked(), e.text)
}

// Unwrap returns context.Canceled or context.DeadlineExceeded when the
// Sender's error matched it, else nil: never the Sender's error itself.
func (e *SendError) Unwrap() error { return e.ctxErr }

// Is reports whether target is ErrSendFailed.
func (e *SendError) Is(target error) bool { return target == ErrSendFailed }

// scrubbed replaces what scrub removes.
const scrubbed = "[redacted]"

// maxDigitGap is how many non-digit bytes scrub lets stand between two
// digits of a code or a number: enough for ", ", ") ", "</Say><Say>".
const maxDigitGap = 12

// scrub replaces in s every form of m's number and code that a provider's
// error message could hold: the code's digits with anything short but
// digits between them ("017036", "0 1 7 0 3 6", "0, 1, 7, 0, 3, 6"), and
// the national number likewise ("4155550142", "(415) 555-0142",
// "+1 415.555.0142"), country code and all.
func scrub(s string, m Message) string {
	if m.Code != "" {
		s = strings.ReplaceAll(s, m.Text(), scrubbed)
	}
	if e := m.To.E164; len(e) > 1 {
		s = strings.ReplaceAll(s, e, scrubbed)
		s = scrubDigits(s, e[1:]) // country code and national number
		if cc := strconv.Itoa(m.To.CountryCode); strings.HasPrefix(e[1:], cc) && len(e)-1-len(cc) >= 4 {
			s = scrubDigits(s, e[1+len(cc):]) // the national number alone
		}
	}
	return scrubDigits(s, m.Code)
}

// scrubDigits replaces with scrubbed every span of s that spells digits
// (ASCII digits only) with at most maxDigitGap non-digit bytes between
// two of them.
func scrubDigits(s, digits string) string {
	if digits == "" {
		return s
	}
	var b strings.Builder
	last := 0 // s[last:] is not yet copied to b
	for i := 0; i < len(s); i++ {
		if s[i] != digits[0] {
			continue
		}
		end, ok := spells(s, i, digits)
		if !ok {
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(scrubbed)
		last, i = end, end-1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// spells reports whether s, from i (a digit equal to digits[0]), spells
// digits as scrubDigits describes, and where the span ends.
func spells(s string, i int, digits string) (end int, ok bool) {
	for k := 0; k < len(digits); k++ {
		if k > 0 {
			gap := 0
			for i < len(s) && !isDigit(s[i]) && gap <= maxDigitGap {
				i++
				gap++
			}
			if gap > maxDigitGap {
				return 0, false
			}
		}
		if i >= len(s) || s[i] != digits[k] {
			return 0, false
		}
		i++
	}
	return i, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
