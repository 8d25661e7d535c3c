package twofa

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/boombuler/barcode/qr"
)

// Type says how the codes of a Key advance: with time or with a counter.
// The zero value is TypeTOTP.
type Type uint8

// The key types of the Key URI format.
const (
	// TypeTOTP is a time-based key (RFC 6238), the otpauth://totp/ form.
	TypeTOTP Type = iota
	// TypeHOTP is a counter-based key (RFC 4226), the otpauth://hotp/ form.
	TypeHOTP
)

// String returns the name used as the host of otpauth:// URIs: "totp" or
// "hotp".
func (t Type) String() string {
	switch t {
	case TypeTOTP:
		return "totp"
	case TypeHOTP:
		return "hotp"
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

func (t Type) goString() string {
	switch t {
	case TypeTOTP:
		return "twofa.TypeTOTP"
	case TypeHOTP:
		return "twofa.TypeHOTP"
	}
	return "twofa.Type(" + strconv.Itoa(int(t)) + ")"
}

// Limits of Key and ParseKeyURI.
const (
	// MaxURILength bounds the input of ParseKeyURI: 4096 bytes. The longest
	// URI Key.URI builds is about 2.6 KB (an issuer and an account of
	// MaxIssuerLength and MaxAccountLength bytes, every byte
	// percent-encoded, and a secret of MaxSecretSize), and the largest QR
	// code holds 2,953 bytes. Anything longer is not a provisioning URI and
	// is refused before it is scanned.
	MaxURILength = 4096
	// MaxIssuerLength bounds Key.Issuer, in bytes of UTF-8 after
	// unescaping. Authenticator apps show the issuer on one line; 256
	// bytes is far more than any service name and keeps every URI within
	// MaxURILength.
	MaxIssuerLength = 256
	// MaxAccountLength bounds Key.Account, in bytes of UTF-8 after
	// unescaping: 256, the longest e-mail address RFC 5321 Section
	// 4.5.3.1.3 allows (254) with room to spare, for the same reasons as
	// MaxIssuerLength.
	MaxAccountLength = 256
)

// Key is an authenticator's provisioning data, as carried by an otpauth://
// URI in Google's Key URI format
// (https://github.com/google/google-authenticator/wiki/Key-Uri-Format):
//
//	otpauth://totp/Example:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example&algorithm=SHA1&digits=6&period=30
//
// A Key is a plain value: copy it freely; it is safe for concurrent use as
// long as nobody writes its fields. Its zero values mean the defaults of
// Options (SHA-1, DefaultDigits, DefaultPeriod).
//
// A Key never reveals its secret by accident: String, every fmt verb and
// LogValue print "secret=REDACTED", and the marshalling methods refuse
// (see MarshalJSON; gob refuses the Secret field). The secret leaves only through URI, PNG and the
// Secret field itself.
type Key struct {
	Type      Type
	Issuer    string        // the service, shown by apps: label prefix and issuer= parameter; optional
	Account   string        // the user's account at the issuer, e.g. alice@example.com; required
	Secret    Secret        // the shared key; required
	Algorithm Algorithm     // SHA1 (the zero value), SHA256 or SHA512
	Digits    int           // 6 to 8; 0 means DefaultDigits
	Period    time.Duration // TOTP only: whole seconds up to MaxPeriod; 0 means DefaultPeriod
	Counter   uint64        // HOTP only: the counter of the first code
}

// Options returns the generator options of the key (T0 is the Unix epoch,
// which the Key URI format cannot change).
func (k Key) Options() Options {
	return Options{Algorithm: k.Algorithm, Digits: k.Digits, Period: k.Period}
}

// TOTP prepares the time-based generator the key describes. It fails if
// the key is not a TypeTOTP key, or as NewTOTP does. Issuer and Account
// are not checked.
func (k Key) TOTP() (*TOTP, error) {
	if k.Type != TypeTOTP {
		return nil, optionsError("key type %v is not totp", k.Type)
	}
	return NewTOTP(k.Secret, k.Options())
}

// HOTP prepares the counter-based generator the key describes. It fails if
// the key is not a TypeHOTP key, or as NewHOTP does (a non-zero Period, for
// example). Start verifying at k.Counter.
func (k Key) HOTP() (*HOTP, error) {
	if k.Type != TypeHOTP {
		return nil, optionsError("key type %v is not hotp", k.Type)
	}
	return NewHOTP(k.Secret, k.Options())
}

// Problems a *URIError carries in its Err field.
var (
	errURIMissing      = errors.New("missing")
	errURITooLong      = errors.New("longer than " + strconv.Itoa(MaxURILength) + " bytes")
	errURIControl      = errors.New("contains a control character")
	errURIFragment     = errors.New("has a fragment (#); a '#' in a label or parameter must be escaped as %23")
	errURIEscape       = errors.New("invalid percent-encoding")
	errURIDuplicate    = errors.New("parameter given more than once")
	errURIColon        = errors.New("contains ':', the separator of issuer and account")
	errURISpace        = errors.New("begins or ends with a space")
	errURIIssuerDiffer = errors.New("label prefix and issuer parameter differ")
	errURIAlgorithm    = errors.New("unknown algorithm; want SHA1, SHA256 or SHA512")
	errURINumber       = errors.New("not a decimal integer")
	errURIEncoder      = errors.New("non-standard code encoding (such as Steam's) is not supported")
)

func uriError(part string, err error) *URIError { return &URIError{Part: part, Err: err} }

// URI returns the otpauth:// URI of the key, which authenticator apps
// import (usually from the QR code of PNG):
//
//	otpauth://totp/Issuer:account?secret=BASE32&issuer=Issuer&algorithm=SHA1&digits=6&period=30
//
// The result contains the secret: show it only to the user who enrols the
// device, and never log or store it.
//
// The label is the issuer, a colon and the account, or the account alone
// when Issuer is empty. Label and parameters are percent-encoded (RFC 3986
// Section 2.1): every byte but letters, digits, "-._~" and "@" is escaped,
// so a space is "%20", never "+" (which Google Authenticator would show as
// a plus). Every parameter is written, defaults included; HOTP keys carry
// counter= (required by the format) instead of period=.
//
// URI validates the key first and fails with a *URIError, matching
// ErrInvalidURI, that names the part at fault:
//
//   - "type": not TypeTOTP or TypeHOTP.
//   - "issuer" and "account": the account is required. Each is at most
//     MaxIssuerLength or MaxAccountLength bytes, valid UTF-8, without
//     control, format or line-separator characters (Unicode Cc, Cf, Zl and Zp: apps show the names
//     on one line, and a bidi override such as U+202E or a zero-width
//     space would show an issuer as something it is not - the rule labels
//     and account identifiers follow), without ':' (the format's separator
//     of issuer and account, which neither may contain), and without a
//     leading or trailing space (the format lets spaces precede the
//     account, so parsers trim them).
//   - "secret": the zero Secret.
//   - "algorithm", "digits", "period": invalid Options (the error also
//     matches ErrInvalidOptions); "period" also when an HOTP key has one.
//   - "counter": a TOTP key with a non-zero Counter.
func (k Key) URI() (string, error) {
	o, err := k.validate()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(64 + 3*(len(k.Issuer)*2+len(k.Account)) + 2*k.Secret.Len())
	b.WriteString("otpauth://")
	b.WriteString(k.Type.String())
	b.WriteByte('/')
	if k.Issuer != "" {
		escapeTo(&b, k.Issuer)
		b.WriteByte(':')
	}
	escapeTo(&b, k.Account)
	b.WriteString("?secret=")
	b.WriteString(k.Secret.Base32())
	if k.Issuer != "" {
		b.WriteString("&issuer=")
		escapeTo(&b, k.Issuer)
	}
	b.WriteString("&algorithm=")
	b.WriteString(o.Algorithm.String())
	b.WriteString("&digits=")
	b.WriteString(strconv.Itoa(o.Digits))
	if k.Type == TypeTOTP {
		b.WriteString("&period=")
		b.WriteString(strconv.FormatInt(int64(o.Period/time.Second), 10))
	} else {
		b.WriteString("&counter=")
		b.WriteString(strconv.FormatUint(k.Counter, 10))
	}
	return b.String(), nil
}

// validate checks everything URI needs and returns the resolved options.
func (k Key) validate() (Options, error) {
	if k.Type != TypeTOTP && k.Type != TypeHOTP {
		return Options{}, uriError("type", fmt.Errorf("unknown key type %d", uint8(k.Type)))
	}
	if err := checkName(k.Issuer, MaxIssuerLength, false); err != nil {
		return Options{}, uriError("issuer", err)
	}
	if err := checkName(k.Account, MaxAccountLength, true); err != nil {
		return Options{}, uriError("account", err)
	}
	if k.Secret.IsZero() {
		return Options{}, uriError("secret", errURIMissing)
	}
	totp := k.Type == TypeTOTP
	if !totp && k.Period != 0 {
		return Options{}, uriError("period", optionsError("period applies to TOTP keys only"))
	}
	if totp && k.Counter != 0 {
		return Options{}, uriError("counter", optionsError("counter applies to HOTP keys only"))
	}
	o, err := k.Options().resolved(totp)
	if err != nil {
		part := "period"
		switch {
		case !k.Algorithm.valid():
			part = "algorithm"
		case k.Digits != 0 && (k.Digits < MinDigits || k.Digits > MaxDigits):
			part = "digits"
		}
		return Options{}, uriError(part, err)
	}
	return o, nil
}

// checkName checks an issuer or account. Its errors never quote s.
func checkName(s string, maxLen int, required bool) error {
	if s == "" {
		if required {
			return errURIMissing
		}
		return nil
	}
	if len(s) > maxLen {
		return fmt.Errorf("longer than %d bytes", maxLen)
	}
	if err := checkShown(s); err != nil {
		return err
	}
	if strings.IndexByte(s, ':') >= 0 {
		return errURIColon
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return errURISpace
	}
	return nil
}

const upperHex = "0123456789ABCDEF"

// escapeTo percent-encodes s: only RFC 3986 unreserved characters and '@'
// (legal in paths and queries, and kept by Google's own examples) stand
// for themselves. The result is plain ASCII.
func escapeTo(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '@':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		}
	}
}

// The parameters ParseKeyURI reads; any other is ignored.
var uriParams = [...]string{"secret", "issuer", "algorithm", "digits", "period", "counter", "encoder"}

const (
	pSecret = iota
	pIssuer
	pAlgorithm
	pDigits
	pPeriod
	pCounter
	pEncoder
)

// ParseKeyURI parses an otpauth:// URI in Google's Key URI format, as real
// services emit it:
//
//   - The scheme ("otpauth") and type ("totp" or "hotp") in any case of
//     their ASCII letters (no other character is case-folded: see
//     parameters). Leading and trailing white space is ignored.
//   - The label is percent-decoded as a URI path: "%20" is a space and "+"
//     is a literal plus (RFC 3986; Google Authenticator shows it as such).
//     The issuer prefix is separated from the account by ':' or "%3A";
//     spaces around either are trimmed. Both must pass the checks of URI.
//   - Parameters are decoded as a query string ("+" and "%20" are spaces),
//     their names and algorithm values in any case of their ASCII letters.
//     They are ASCII: no other character folds to one of them, so
//     "ſecret=" (U+017F, which Unicode case folding makes an s) is an
//     unknown parameter and "algorithm=ſha256" an unknown algorithm.
//     Unknown parameters are ignored, and so are period= on an HOTP key
//     and counter= on a TOTP key.
//   - The issuer comes from the issuer= parameter, or else from the label
//     prefix. If both are present they must be equal; a label prefix that
//     differs only by having "+" where the parameter has a space (a service
//     that form-encoded its label) is accepted.
//   - The secret is read by ParseSecret: any case, with or without padding
//     and separators.
//   - Missing algorithm, digits and period take their defaults (SHA1, 6,
//     30 s) and are set explicitly in the result. The format requires
//     counter= for HOTP keys, but some generators omit it; a missing one
//     means 0, the counter of a new key. (URI always writes it.)
//
// Every error is a *URIError, matching ErrInvalidURI, whose Part names what
// is wrong: "uri" (longer than MaxURILength, a control character, a
// fragment), "scheme", "type", "label" (missing, bad percent-encoding),
// "issuer", "account", "secret" (missing, or the *SecretError of
// ParseSecret), "algorithm", "digits" (not 6 to 8), "period" (not 1 to
// MaxPeriod seconds), "counter" (not a uint64), or "encoder" (a
// non-standard code encoding such as encoder=steam). A parameter that
// appears twice is an error naming it. No error quotes the input or the
// secret. ParseKeyURI never panics.
//
// A Key that ParseKeyURI returns always builds a URI again.
func ParseKeyURI(uri string) (Key, error) {
	if len(uri) > MaxURILength {
		return Key{}, uriError("uri", errURITooLong)
	}
	s := strings.TrimSpace(uri)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return Key{}, uriError("uri", fmt.Errorf("%w at offset %d", errURIControl, i))
		}
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || !asciiEqualFold(scheme, "otpauth") {
		return Key{}, uriError("scheme", errors.New("not the otpauth scheme"))
	}
	if strings.IndexByte(rest, '#') >= 0 {
		return Key{}, uriError("uri", errURIFragment)
	}
	var k Key
	i := strings.IndexAny(rest, "/?")
	host := rest
	if i >= 0 {
		host = rest[:i]
	}
	switch {
	case asciiEqualFold(host, "totp"):
		k.Type = TypeTOTP
	case asciiEqualFold(host, "hotp"):
		k.Type = TypeHOTP
	default:
		return Key{}, uriError("type", errors.New("not totp or hotp"))
	}
	if i < 0 || rest[i] != '/' {
		return Key{}, uriError("label", errURIMissing)
	}
	rawLabel, rawQuery, _ := strings.Cut(rest[i+1:], "?")

	var vals [len(uriParams)]string
	var seen [len(uriParams)]bool
	for field := range strings.SplitSeq(rawQuery, "&") {
		if field == "" {
			continue
		}
		rawName, rawVal, _ := strings.Cut(field, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			continue // not a parameter we know
		}
		p := -1
		for j, n := range uriParams {
			if asciiEqualFold(name, n) {
				p = j
				break
			}
		}
		if p < 0 {
			continue
		}
		if seen[p] {
			return Key{}, uriError(uriParams[p], errURIDuplicate)
		}
		seen[p] = true
		v, err := url.QueryUnescape(rawVal)
		if err != nil {
			return Key{}, uriError(uriParams[p], errURIEscape)
		}
		vals[p] = v
	}

	// Label and issuer.
	label, err := url.PathUnescape(rawLabel)
	if err != nil {
		return Key{}, uriError("label", errURIEscape)
	}
	if label == "" {
		return Key{}, uriError("label", errURIMissing)
	}
	prefix, account, hasPrefix := strings.Cut(label, ":")
	if !hasPrefix {
		prefix, account = "", label
	}
	prefix = strings.Trim(prefix, " ")
	k.Account = strings.Trim(account, " ")
	param := strings.Trim(vals[pIssuer], " ")
	switch {
	case param == "":
		k.Issuer = prefix
	case prefix == "" || prefix == param || strings.ReplaceAll(prefix, "+", " ") == param:
		k.Issuer = param
	default:
		return Key{}, uriError("issuer", errURIIssuerDiffer)
	}
	if err := checkName(k.Issuer, MaxIssuerLength, false); err != nil {
		return Key{}, uriError("issuer", err)
	}
	if err := checkName(k.Account, MaxAccountLength, true); err != nil {
		return Key{}, uriError("account", err)
	}

	// Secret.
	if vals[pSecret] == "" {
		return Key{}, uriError("secret", errURIMissing)
	}
	if k.Secret, err = ParseSecret(vals[pSecret]); err != nil {
		return Key{}, uriError("secret", err)
	}

	// Code parameters.
	if seen[pEncoder] && vals[pEncoder] != "" {
		return Key{}, uriError("encoder", errURIEncoder)
	}
	switch a := vals[pAlgorithm]; {
	case !seen[pAlgorithm], asciiEqualFold(a, "SHA1"):
		k.Algorithm = SHA1
	case asciiEqualFold(a, "SHA256"):
		k.Algorithm = SHA256
	case asciiEqualFold(a, "SHA512"):
		k.Algorithm = SHA512
	default:
		return Key{}, uriError("algorithm", errURIAlgorithm)
	}
	k.Digits = DefaultDigits
	if seen[pDigits] {
		n, ok := parseDecimal(vals[pDigits])
		if !ok {
			return Key{}, uriError("digits", errURINumber)
		}
		if n < MinDigits || n > MaxDigits {
			return Key{}, uriError("digits", fmt.Errorf("%d outside %d to %d", n, MinDigits, MaxDigits))
		}
		k.Digits = int(n)
	}
	switch k.Type {
	case TypeTOTP:
		k.Period = DefaultPeriod
		if seen[pPeriod] {
			n, ok := parseDecimal(vals[pPeriod])
			if !ok {
				return Key{}, uriError("period", errURINumber)
			}
			if n < 1 || n > uint64(MaxPeriod/time.Second) {
				return Key{}, uriError("period", fmt.Errorf("%d s outside 1 to %d s", n, MaxPeriod/time.Second))
			}
			k.Period = time.Duration(n) * time.Second
		}
	case TypeHOTP:
		if !seen[pCounter] {
			// The format requires counter=, but some generators
			// (pquerna/otp among them) omit it: a new key starts at 0.
			break
		}
		n, ok := parseDecimal(vals[pCounter])
		if !ok {
			return Key{}, uriError("counter", errors.New("not a decimal integer from 0 to 2^64-1"))
		}
		k.Counter = n
	}
	// Whatever was accepted above must build again.
	if _, err := k.validate(); err != nil {
		return Key{}, err
	}
	return k, nil
}

// asciiEqualFold reports whether s is the ASCII token t with ASCII letters
// in any case. Unlike strings.EqualFold it folds nothing else: the long s
// (U+017F) and the Kelvin sign (U+212A), which Unicode folds to s and k,
// match no ASCII letter.
func asciiEqualFold(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a, b := s[i], t[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// parseDecimal parses ASCII digits (no sign, no spaces, leading zeros
// allowed) into a uint64, reporting false on anything else or overflow.
func parseDecimal(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (^uint64(0)-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// Bounds of Key.PNG's size argument.
const (
	// MinPNGSize is the smallest image Key.PNG draws: 64 pixels, enough for
	// one pixel per module of a typical key's code (37 to 45 modules, plus
	// a quiet zone of 4 on each side). Phone cameras want 4 or more pixels
	// per module on screen: draw 256 or more.
	MinPNGSize = 64
	// MaxPNGSize is the largest image Key.PNG draws: 4096 pixels, ample for
	// print, and it bounds the memory of one call (a byte per pixel: 16 MB).
	MaxPNGSize = 4096
)

// qrQuietZone is the margin of light modules around a QR code that
// ISO/IEC 18004 requires (and scanners need to find the symbol).
const qrQuietZone = 4

// qrMaxModules is the width of the largest QR code, version 40.
const qrMaxModules = 177

// PNG returns a QR code of the key's URI as a PNG image of size x size
// pixels, black on white, for an authenticator app to scan. The symbol uses
// error-correction level M, is drawn with a whole number of pixels per
// module, and is centred with at least the 4-module quiet zone scanners
// need. Like URI, the image contains the secret.
//
// PNG fails with the *URIError of URI for an invalid key, and with an error
// matching ErrQRCode when size lies outside MinPNGSize to MaxPNGSize, when
// the code's modules and quiet zone do not fit in size pixels (a key with a
// long issuer or account needs a larger image), or when the URI is too long
// for a QR code.
func (k Key) PNG(size int) ([]byte, error) {
	if size < MinPNGSize || size > MaxPNGSize {
		return nil, fmt.Errorf("%w: size %d outside %d to %d pixels", ErrQRCode, size, MinPNGSize, MaxPNGSize)
	}
	uri, err := k.URI()
	if err != nil {
		return nil, err
	}
	dark, n, err := qrModules(uri)
	if err != nil {
		return nil, err
	}
	scale := size / (n + 2*qrQuietZone)
	if scale < 1 {
		return nil, fmt.Errorf("%w: %d pixels are too few for this key's code of %d modules and its quiet zone; use at least %d",
			ErrQRCode, size, n, n+2*qrQuietZone)
	}
	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{color.White, color.Black})
	off := (size - n*scale) / 2
	for my := range n {
		for mx := range n {
			if !dark[my*n+mx] {
				continue
			}
			for y := off + my*scale; y < off+(my+1)*scale; y++ {
				row := img.Pix[y*img.Stride:]
				for x := off + mx*scale; x < off+(mx+1)*scale; x++ {
					row[x] = 1
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("twofa: encoding PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// qrModules encodes uri as a QR code with boombuler/barcode, at
// error-correction level M, and returns its modules, row by row, and its
// width. The encoder's errors are not wrapped: they may quote the content,
// which holds the secret.
func qrModules(uri string) ([]bool, int, error) {
	code, err := qr.Encode(uri, qr.M, qr.Auto)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: the URI (%d bytes) does not fit in a QR code", ErrQRCode, len(uri))
	}
	bounds := code.Bounds()
	n := bounds.Dx()
	if n != bounds.Dy() || n < 21 || n > qrMaxModules {
		return nil, 0, fmt.Errorf("%w: unexpected QR encoder output", ErrQRCode)
	}
	dark := make([]bool, n*n)
	for y := range n {
		for x := range n {
			r, g, b, _ := code.At(bounds.Min.X+x, bounds.Min.Y+y).RGBA()
			dark[y*n+x] = r+g+b < 3*0x8000
		}
	}
	return dark, n, nil
}

const keyRedacted = "REDACTED"

// String describes the key without its secret, for logs and debugging:
//
//	twofa.Key{totp issuer="Example" account="alice@example.com" algorithm=SHA1 digits=6 period=30s secret=REDACTED}
//
// Zero Digits and Period show their defaults; issuer and account are
// quoted, so control characters cannot forge log lines.
func (k Key) String() string {
	var b strings.Builder
	b.WriteString("twofa.Key{")
	b.WriteString(k.Type.String())
	b.WriteString(" issuer=")
	b.WriteString(strconv.Quote(k.Issuer))
	b.WriteString(" account=")
	b.WriteString(strconv.Quote(k.Account))
	b.WriteString(" algorithm=")
	b.WriteString(k.Algorithm.String())
	b.WriteString(" digits=")
	b.WriteString(strconv.Itoa(k.digits()))
	if k.Type == TypeHOTP {
		b.WriteString(" counter=")
		b.WriteString(strconv.FormatUint(k.Counter, 10))
	} else {
		b.WriteString(" period=")
		b.WriteString(k.period().String())
	}
	b.WriteString(" secret=" + keyRedacted + "}")
	return b.String()
}

func (k Key) digits() int {
	if k.Digits == 0 {
		return DefaultDigits
	}
	return k.Digits
}

func (k Key) period() time.Duration {
	if k.Period == 0 && k.Type == TypeTOTP {
		return DefaultPeriod
	}
	return k.Period
}

// goString returns Go syntax for the key with the secret redacted, for %#v.
func (k Key) goString() string {
	return fmt.Sprintf("twofa.Key{Type:%s, Issuer:%q, Account:%q, Secret:%s, Algorithm:twofa.%s, Digits:%d, Period:%d, Counter:%d}",
		k.Type.goString(), k.Issuer, k.Account, redacted, k.Algorithm.String(), k.Digits, int64(k.Period), k.Counter)
}

// Format prints String for every verb and flag except %#v (Go syntax) and
// %q (String, quoted); no verb prints the secret.
func (k Key) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, k.goString())
	case verb == 'q':
		_, _ = io.WriteString(f, strconv.Quote(k.String()))
	default:
		_, _ = io.WriteString(f, k.String())
	}
}

// LogValue makes slog log the key as a group of its parameters, with
// secret=REDACTED.
func (k Key) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("type", k.Type.String()),
		slog.String("issuer", k.Issuer),
		slog.String("account", k.Account),
		slog.String("algorithm", k.Algorithm.String()),
		slog.Int("digits", k.digits()),
	}
	if k.Type == TypeHOTP {
		attrs = append(attrs, slog.Uint64("counter", k.Counter))
	} else {
		attrs = append(attrs, slog.Duration("period", k.period()))
	}
	attrs = append(attrs, slog.String("secret", keyRedacted))
	return slog.GroupValue(attrs...)
}

// errKeyMarshal is what Key's marshalling methods return. It matches
// ErrSecretMarshal.
var errKeyMarshal = fmt.Errorf("twofa: a Key holds a secret and is not marshalled implicitly; store its URI or its fields with the secret sealed by a Keyring: %w", ErrSecretMarshal)

// MarshalJSON refuses with an error matching ErrSecretMarshal, as Secret's
// does. A Key is marshalled neither with its secret (it would leak into
// logs and API responses) nor without it (a record meant to keep the key
// would silently lose it, and nothing could unmarshal it). Marshal the
// fields you need, or log the Key through slog (LogValue).
func (k Key) MarshalJSON() ([]byte, error) { return nil, errKeyMarshal }

// MarshalText refuses, as MarshalJSON does.
func (k Key) MarshalText() ([]byte, error) { return nil, errKeyMarshal }
