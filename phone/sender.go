package phone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Channel is how an out-of-band code reaches a phone.
type Channel uint8

// Channels.
const (
	SMS   Channel = iota + 1 // a text message
	Voice                    // an automated call that reads the code
)

// String returns "sms" or "voice".
func (c Channel) String() string {
	switch c {
	case SMS:
		return "sms"
	case Voice:
		return "voice"
	}
	return fmt.Sprintf("Channel(%d)", uint8(c))
}

func (c Channel) valid() bool { return c == SMS || c == Voice }

// Message is one out-of-band code to deliver. It carries the code - that
// is its purpose - so a Sender must hand it to the provider and never log
// it. String, GoString, every fmt verb and slog show the message without
// its code and with the number masked.
type Message struct {
	To        Number    // To.E164 is the number to send to, e.g. "+14155550142"
	Channel   Channel   // SMS or Voice
	Purpose   Purpose   // verifying a newly added number, or signing in
	Code      string    // the 6-digit code
	Issuer    string    // twofa.Config.Issuer, to name the service in the text; may be empty
	ExpiresAt time.Time // when the code stops working
}

// Text returns a ready-made text for the message, for a Sender that does
// not write its own: the code first (phones offer to fill it in), then
// what it is for; for Voice, the digits one by one, so that a
// text-to-speech engine reads them as digits. It contains the code: do
// not log it.
func (m Message) Text() string {
	code := m.Code
	if m.Channel == Voice {
		code = strings.Join(strings.Split(m.Code, ""), ", ")
	}
	what := "sign-in code"
	if m.Purpose == PurposeConfirm {
		what = "code to confirm this phone number"
	}
	if m.Issuer != "" {
		what = m.Issuer + " " + what
	}
	if m.Channel == Voice {
		return "Your " + what + " is " + code + ". Again: " + code + "."
	}
	return code + " is your " + what + ". Do not share it with anyone."
}

// String describes the message without its code and with the number
// masked.
func (m Message) String() string {
	return fmt.Sprintf("phone.Message{%s %s to %s, code REDACTED}", m.Channel, m.Purpose, m.To.Masked())
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
// from the provider's message, however it spells them (providers like to
// echo both, in any format: "+1 (415) 555-0142", "0, 1, 7, 0, 3, 6", the
// digits between SSML or TwiML tags, zero-width characters or escapes).
//
// The provider's error itself is not retained - neither in a field nor
// through Unwrap - because it may echo the code, and errors travel to
// logs and error trackers that must never see one. Only its scrubbed
// text is kept; errors.Is matches ErrSendFailed and, when the provider's
// error matched them, context.Canceled or context.DeadlineExceeded.
type SendError struct {
	Channel Channel
	To      Number // prints masked
	text    string // the Sender's error text, scrubbed
	ctxErr  error  // context.Canceled, context.DeadlineExceeded or nil
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
func (e *SendError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.ctxErr
}

// Is reports whether target is ErrSendFailed.
func (e *SendError) Is(target error) bool { return target == ErrSendFailed }

// scrubbed replaces what scrub removes.
const scrubbed = "[redacted]"

// Bounds of what scrub takes for the separators of a spelled code or
// number.
const (
	// maxDigitGap is how many bytes may stand between two digits of a
	// spelled code or number: room for any separator a provider puts
	// between spoken or displayed digits (`", "`, `"</Say><Pause
	// length="1"/><Say>"`, `"</prosody><break time="500ms"/><prosody
	// rate="slow">"`, a run of zero-width characters), and a bound on
	// what one match may redact of a message.
	maxDigitGap = 256
	// maxMarkupLen bounds one piece of markup in a gap (a tag, a character
	// reference, an escape), which may hold digits of its own.
	maxMarkupLen = 128
)

// scrub replaces in s every form of m's number and code that a
// provider's error message could hold: the code's digits in order with
// anything but other digits between them ("017036", "0, 1, 7, 0, 3, 6",
// `0<break time="500ms"/>1...`, "0&#8203;1...", "0%2C%201..."), and the
// number likewise, with its country code or without ("+14155550142",
// "(415) 555-0142", "+1 415.555.0142", "001 415 555 0142"). Between two
// digits may stand up to maxDigitGap bytes of anything but ASCII digits,
// and of markup that may hold digits: tags (<...>), character references
// (&#8203;, &nbsp;), \uXXXX and \xXX escapes, percent-encoded bytes.
//
// Every span is found in the original text and the spans merged, so
// that a match of one (say, the number) never hides part of another (the
// code) from its own search. Text between matches is kept: the rest of
// the provider's message still tells what went wrong.
func scrub(s string, m Message) string {
	var spans []span
	if m.Code != "" {
		spans = appendIndexes(spans, s, m.Text())
	}
	if e := m.To.E164; len(e) > 1 {
		spans = appendIndexes(spans, s, e)
		spans = appendSpelled(spans, s, e[1:]) // country code and national number
		if cc := strconv.Itoa(m.To.CountryCode); strings.HasPrefix(e[1:], cc) && len(e)-1-len(cc) >= 4 {
			spans = appendSpelled(spans, s, e[1+len(cc):]) // the national number alone
		}
	}
	spans = appendSpelled(spans, s, m.Code)
	return redact(s, spans)
}

// span is s[start:end].
type span struct{ start, end int }

// appendIndexes appends the spans of s equal to sub.
func appendIndexes(spans []span, s, sub string) []span {
	if sub == "" {
		return spans
	}
	for off := 0; ; {
		i := strings.Index(s[off:], sub)
		if i < 0 {
			return spans
		}
		spans = append(spans, span{off + i, off + i + len(sub)})
		off += i + len(sub)
	}
}

// redact replaces the spans of s, merged where they overlap or touch,
// with scrubbed.
func redact(s string, spans []span) string {
	if len(spans) == 0 {
		return s
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	var b strings.Builder
	last := 0 // s[last:] is not yet copied to b
	for i := 0; i < len(spans); {
		start, end := spans[i].start, spans[i].end
		for i++; i < len(spans) && spans[i].start <= end; i++ {
			end = max(end, spans[i].end)
		}
		b.WriteString(s[last:start])
		b.WriteString(scrubbed)
		last = end
	}
	b.WriteString(s[last:])
	return b.String()
}

// appendSpelled appends the spans of s that spell digits (ASCII digits
// only) as scrub describes: from each occurrence of the first digit, the
// longest span that spells them all. Spans may overlap.
func appendSpelled(spans []span, s, digits string) []span {
	if digits == "" {
		return spans
	}
	sp := speller{s: s, digits: digits, ends: map[[2]int]int{}, next: map[int][]int{}}
	for i := 0; i < len(s); i++ {
		if s[i] == digits[0] {
			if end := sp.from(i, 0); end > 0 {
				spans = append(spans, span{i, end})
			}
		}
	}
	return spans
}

// speller searches one text for spellings of one digit string. Between
// two digits a gap may be read more than one way (is "<" a tag's start
// or a character?), so it tries every reading, remembering results.
type speller struct {
	s, digits string
	ends      map[[2]int]int // (i, k) → from(i, k)
	next      map[int][]int  // p → candidates(p)
}

// from returns the end of the longest span that starts at s[i], spells
// digits[k:] and ends with its last digit, or -1.
func (sp *speller) from(i, k int) int {
	if sp.s[i] != sp.digits[k] {
		return -1
	}
	if k == len(sp.digits)-1 {
		return i + 1
	}
	key := [2]int{i, k}
	if end, ok := sp.ends[key]; ok {
		return end
	}
	end := -1
	for _, j := range sp.candidates(i + 1) {
		end = max(end, sp.from(j, k+1))
	}
	sp.ends[key] = end
	return end
}

// candidates returns the positions of the digits that can follow a digit
// ending at p: those reached from p through at most maxDigitGap bytes of
// non-digits and markup.
func (sp *speller) candidates(p int) []int {
	if c, ok := sp.next[p]; ok {
		return c
	}
	s := sp.s
	limit := min(len(s), p+maxDigitGap) // the next digit is at most at s[limit]
	var reach [maxDigitGap + 1]bool     // reach[j-p]: a gap can end at j
	reach[0] = true
	var out []int
	for j, furthest := p, p; j <= limit && j < len(s) && j <= furthest; j++ {
		if !reach[j-p] {
			continue
		}
		if isDigit(s[j]) {
			out = append(out, j)
			continue
		}
		if j+1 <= limit {
			reach[j+1-p] = true
			furthest = max(furthest, j+1)
		}
		if e := markupEnd(s, j); e > 0 && e <= limit {
			reach[e-p] = true
			furthest = max(furthest, e)
		}
	}
	sp.next[p] = out
	return out
}

// markupEnd returns the end of the piece of markup that starts at s[i] -
// a tag, a character reference, a \uXXXX or \xXX escape or a
// percent-encoded byte - or 0.
func markupEnd(s string, i int) int {
	rest := s[i:]
	switch rest[0] {
	case '<':
		if n := strings.IndexAny(rest[1:min(len(rest), maxMarkupLen)], "<>"); n >= 0 && rest[1+n] == '>' {
			return i + n + 2
		}
	case '&':
		n := 1
		if len(rest) > 1 && rest[1] == '#' {
			n++
		}
		for n < len(rest) && n < 34 && isAlnum(rest[n]) {
			n++
		}
		if n < len(rest) && rest[n] == ';' && isAlnum(rest[n-1]) {
			return i + n + 1
		}
	case '\\':
		if len(rest) >= 6 && rest[1] == 'u' && allHex(rest[2:6]) {
			return i + 6
		}
		if len(rest) >= 4 && rest[1] == 'x' && allHex(rest[2:4]) {
			return i + 4
		}
	case '%':
		if len(rest) >= 3 && allHex(rest[1:3]) {
			return i + 3
		}
	}
	return 0
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; !isDigit(s[i]) && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
