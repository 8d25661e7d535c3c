package phone

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scrubMsg is the message of the scrubbing tests: a US number and a code
// whose digits are all different, so that a case shows which it missed.
var scrubMsg = Message{
	To:      Number{E164: "+15551234567", CountryCode: 1},
	Channel: Voice,
	Purpose: PurposeSignIn,
	Code:    "345678",
}

// TestScrubSpellings: the code and the number are scrubbed however a
// provider spells them - with punctuation, white space, SSML, TwiML or
// HTML markup, zero-width characters, character references, JSON or
// percent escapes between the digits - and what is neither stays.
func TestScrubSpellings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		// The code.
		{"345678", "[redacted]"},
		{"code 3, 4, 5, 6, 7, 8.", "code [redacted]."},
		{"3-4-5-6-7-8", "[redacted]"},
		{"3 . 4 . 5 . 6 . 7 . 8", "[redacted]"},
		{"345 678", "[redacted]"},
		{"3\n4\n5\n6\n7\n8", "[redacted]"},
		{"3 then 4 then 5 then 6 then 7 then 8", "[redacted]"},
		{`<speak>3<break time="500ms"/>4<break time="500ms"/>5<break time="500ms"/>6<break time="500ms"/>7<break time="500ms"/>8</speak>`,
			"<speak>[redacted]</speak>"},
		{`<speak><say-as interpret-as="digits">345678</say-as></speak>`, `<speak><say-as interpret-as="digits">[redacted]</say-as></speak>`},
		{`<prosody rate="80%">3</prosody><break strength="strong"/><prosody rate="80%">4</prosody><break strength="strong"/><prosody rate="80%">5</prosody>` +
			`<break strength="strong"/><prosody rate="80%">6</prosody><break strength="strong"/><prosody rate="80%">7</prosody><break strength="strong"/><prosody rate="80%">8</prosody>`,
			`<prosody rate="80%">[redacted]</prosody>`},
		{`<Response><Say>3</Say><Pause length="1"/><Say>4</Say><Pause length="1"/><Say>5</Say><Pause length="1"/><Say>6</Say><Pause length="1"/><Say>7</Say><Pause length="1"/><Say>8</Say></Response>`,
			"<Response><Say>[redacted]</Say></Response>"},
		{`<p><span class="d1">3</span><span class="d2">4</span><span class="d3">5</span><span class="d4">6</span><span class="d5">7</span><span class="d6">8</span></p>`,
			`<p><span class="d1">[redacted]</span></p>`},
		{"3\u200b4\u200b5\u200b6\u200b7\u200b8", "[redacted]"},
		{"3\u200d4\u20605\ufeff6\u00ad7\u200e8", "[redacted]"},
		{`"text":"3\u200b4\u200b5\u200b6\u200b7\u200b8"`, `"text":"[redacted]"`},
		{`"text":"3\\u200b4\\u200b5\\u200b6\\u200b7\\u200b8"`, `"text":"[redacted]"`},
		{"3&#8203;4&#x200B;5&ZeroWidthSpace;6&nbsp;7&#44; 8", "[redacted]"},
		{"Body=3%2C%204%2C%205%2C%206%2C%207%2C%208&To=x", "Body=[redacted]&To=x"},
		{`3\x2c4\x2c5\x2c6\x2c7\x2c8`, "[redacted]"},
		{"3 < 4 > 5 6 7 8", "[redacted]"}, // a '<' that opens no tag
		{"９3456789", "９[redacted]9"},
		{"code 3 4 5 6 7 8 and again 345678", "code [redacted] and again [redacted]"},

		// The number.
		{"+15551234567", "[redacted]"},
		{"to (555) 123-4567", "to ([redacted]"},
		{"555.123.4567", "[redacted]"},
		{"555-123-4567", "[redacted]"},
		{"555 123 4567", "[redacted]"},
		{"5551234567", "[redacted]"},
		{"+1 (555) 123-4567", "+[redacted]"},
		{"+1.555.123.4567", "+[redacted]"},
		{"1-555-123-4567", "[redacted]"},
		{"+1 555 1234567", "+[redacted]"},
		{"001 555 123 4567", "00[redacted]"},
		{"tel:+1-555-123-4567", "tel:+[redacted]"},
		{"%2B15551234567", "%2B[redacted]"},
		{"+1&nbsp;555&#8209;123&#8209;4567", "+[redacted]"},
		{`<say-as interpret-as="telephone">+1 555 123 4567</say-as>`, `<say-as interpret-as="telephone">+[redacted]</say-as>`},
		{`5<break time="300ms"/>5<break time="300ms"/>5<break time="300ms"/>1<break time="300ms"/>2<break time="300ms"/>3<break time="300ms"/>4<break time="300ms"/>5<break time="300ms"/>6<break time="300ms"/>7`,
			"[redacted]"},

		// Both, and what is neither.
		{`400 {"to":"+1 (555) 123-4567","ssml":"3<break/>4<break/>5<break/>6<break/>7<break/>8"}`, `400 {"to":"+[redacted]","ssml":"[redacted]"}`},
		{"error 30001: queue overflow, retry in 5 minutes", "error 30001: queue overflow, retry in 5 minutes"},
		{"3, 4, 9, 5, 6, 7, 8", "3, 4, 9, 5, 6, 7, 8"},   // another digit between: not the code
		{"555 123 456", "555 123 456"},                   // a digit short of the number
		{"34567", "34567"},                               // a digit short of the code
		{"HTTP 503 at 12:34:56", "HTTP 503 at 12:34:56"}, // digits, but neither
	} {
		assert.Equal(t, tc.want, scrub(tc.in, scrubMsg), "scrub(%q)", tc.in)
	}
	// The message's own text, whole.
	text := scrubMsg.Text()
	assert.Equal(t, "rejected: [redacted]", scrub("rejected: "+text, scrubMsg), "scrub of the message's text")
	// And through SendError, which keeps only the scrubbed text.
	err := newSendError(scrubMsg, fmt.Errorf(`provider: <Say>3</Say><Pause length="1"/><Say>4</Say><Pause length="1"/><Say>5</Say><Pause length="1"/><Say>6</Say><Pause length="1"/><Say>7</Say><Pause length="1"/><Say>8</Say> to (555) 123-4567`))
	assert.Equal(t, "twofa: sending the code by voice to +1 ••• ••• ••67 failed: provider: <Say>[redacted]</Say> to ([redacted]", err.Error(), "SendError")
}

// markupRE matches what TestScrubProperty puts between digits that may
// hold digits of its own: tags, character references, escapes.
var markupRE = regexp.MustCompile(`<[^<>]*>|&#?[0-9A-Za-z]+;|\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2}|%[0-9A-Fa-f]{2}`)

// digitsOutsideMarkup is what a reader recovers of the digits of s: its
// ASCII digits, those inside markup aside.
func digitsOutsideMarkup(s string) string {
	return strings.Map(func(r rune) rune {
		if '0' <= r && r <= '9' {
			return r
		}
		return -1
	}, markupRE.ReplaceAllString(s, " "))
}

// scrubGen draws the random texts of TestScrubProperty.
type scrubGen struct{ r *rand.Rand }

// plain returns up to n runes of text without ASCII digits or the
// characters that open markup: letters, punctuation, white space, other
// scripts' digits, zero-width and bidi characters, emoji.
func (g scrubGen) plain(n int) string {
	pools := []string{
		" ,.-()/:;_+*'\"!?[]{}|=~\t\n",
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
		"\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u202a\u202e\u2066\u2069\u00a0\u3000",
		"٠١٢٣٤٥٦٧٨٩０１２３４５６７８９éßøжЖ中文한국어😀👍",
	}
	var b strings.Builder
	for range g.r.IntN(n + 1) {
		p := []rune(pools[g.r.IntN(len(pools))])
		b.WriteRune(p[g.r.IntN(len(p))])
	}
	return b.String()
}

// markup returns one piece of markup, possibly with digits inside.
func (g scrubGen) markup() string {
	n := g.r.IntN(1000)
	switch g.r.IntN(9) {
	case 0:
		return fmt.Sprintf(`<break time="%dms"/>`, n)
	case 1:
		return fmt.Sprintf(`<prosody rate="%d%%">`, n%200)
	case 2:
		return `</say-as><say-as interpret-as="digits">`
	case 3:
		return fmt.Sprintf(`</span><span class="digit d%d">`, n)
	case 4:
		return fmt.Sprintf("&#%d;", 0x2000+n%0x70)
	case 5:
		return "&nbsp;"
	case 6:
		return fmt.Sprintf(`\u%04x`, 0x2000+n%0x70)
	case 7:
		return fmt.Sprintf("%%%02X", 0x20+n%16)
	default:
		return fmt.Sprintf(`<Pause length="%d"/>`, n%10)
	}
}

// gap returns what may stand between two digits: nothing, plain text,
// markup, or a mix, at most maxDigitGap bytes.
func (g scrubGen) gap() string {
	for {
		var b strings.Builder
		for range g.r.IntN(4) {
			if g.r.IntN(2) == 0 {
				b.WriteString(g.plain(8))
			} else {
				b.WriteString(g.markup())
			}
		}
		if b.Len() <= maxDigitGap {
			return b.String()
		}
	}
}

func (g scrubGen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

func (g scrubGen) spell(digits string) string {
	var b strings.Builder
	for i := range len(digits) {
		if i > 0 {
			b.WriteString(g.gap())
		}
		b.WriteByte(digits[i])
	}
	return b.String()
}

// TestScrubProperty: for random codes and numbers, spelled with random
// separators - text, markup with digits of its own, zero-width and bidi
// characters - between random text without ASCII digits, scrubbing
// replaces exactly the spelled code or number: the text around it is
// kept whole, and the digits a reader can recover (markup aside) never
// hold the code or the number. The check of the input shows that each
// case does spell the code, so the property is not vacuous.
func TestScrubProperty(t *testing.T) {
	t.Parallel()
	g := scrubGen{rand.New(rand.NewPCG(1, 2))}
	ccs := []int{1, 7, 33, 44, 49, 86, 91, 352, 683, 880}
	for i := range 3000 {
		cc := ccs[g.r.IntN(len(ccs))]
		ccs := fmt.Sprint(cc)
		nsn := g.digits(max(4, 7+g.r.IntN(9)-len(ccs)))
		m := Message{To: Number{E164: "+" + ccs + nsn, CountryCode: cc}, Channel: SMS, Code: g.digits(4 + g.r.IntN(7))}
		require.NoError(t, m.To.Validate(), "generated an invalid number %s", m.To.E164)
		var secret, in string
		switch i % 3 {
		case 0:
			secret = m.Code
		case 1:
			secret = ccs + nsn
		default:
			secret = nsn
		}
		spelled := g.spell(secret)
		require.Contains(t, digitsOutsideMarkup(spelled), secret, "case %d does not spell %s: %q", i, secret, spelled)
		prefix, suffix := g.plain(20)+"«", "»"+g.plain(20)
		in = prefix + spelled + suffix
		out := scrub(in, m)
		require.Equal(t, prefix+scrubbed+suffix, out, "case %d: scrub(%q) (code %s, number %s)", i, in, m.Code, m.To.E164)
		require.NotContains(t, digitsOutsideMarkup(out), secret, "case %d: %q still spells %s", i, out, secret)
		require.True(t, utf8.ValidString(out), "case %d: %q is not UTF-8", i, out)
	}
}

// TestScrubPropertyNoise: with random digits in the text around the code,
// the digits a reader can recover of the scrubbed text still never hold
// the code (though the noise may stay).
func TestScrubPropertyNoise(t *testing.T) {
	t.Parallel()
	g := scrubGen{rand.New(rand.NewPCG(3, 4))}
	noise := func() string {
		var b strings.Builder
		for range g.r.IntN(6) {
			b.WriteString(g.plain(6))
			b.WriteString(g.digits(g.r.IntN(4)))
		}
		return b.String()
	}
	for i := range 3000 {
		m := Message{Channel: Voice, Code: g.digits(6)}
		in := noise() + g.spell(m.Code) + noise()
		out := scrub(in, m)
		require.NotContains(t, digitsOutsideMarkup(out), m.Code, "case %d: scrub(%q) = %q still spells %s", i, in, out, m.Code)
	}
}

// TestScrubHugeInput: scrubbing stays linear-ish on a long text full of
// the code's first digit and markup openers.
func TestScrubHugeInput(t *testing.T) {
	t.Parallel()
	s := strings.Repeat("3<3&3%3\\3 ", 20000)
	assert.True(t, scrub(s, scrubMsg) == s, "scrubbed a text that does not spell the code")
	err := errors.New(strings.Repeat("3 4 5 6 7 8 ", 10000))
	assert.NotContains(t, digitsOutsideMarkup(newSendError(scrubMsg, err).Error()), "345678", "a long run of codes is not scrubbed")
}
