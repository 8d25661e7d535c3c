package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/twofa-go/twofa"
)

// params are the code parameters that code and uri share.
type params struct {
	hotp    bool
	hex     bool
	algo    twofa.Algorithm
	digits  int
	period  time.Duration
	counter uint64
	env     string
}

// register defines the flags of p on fs.
func (p *params) register(fs *flag.FlagSet) {
	fs.BoolVar(&p.hotp, "hotp", false, "counter-based (HOTP, RFC 4226) instead of time-based (TOTP, RFC 6238)")
	fs.BoolVar(&p.hex, "hex", false, "the secret is hex (oathtool's default), not base32")
	fs.Func("algo", "the HMAC hash `ALG`: SHA1, SHA256 or SHA512 (default SHA1)", func(s string) error {
		a, err := parseAlgorithm(s)
		p.algo = a
		return err
	})
	fs.Func("digits", "the code length `N`: 6, 7 or 8 (default 6)", func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < twofa.MinDigits || n > twofa.MaxDigits {
			return fmt.Errorf("want %d to %d", twofa.MinDigits, twofa.MaxDigits)
		}
		p.digits = n
		return nil
	})
	fs.Func("period", "TOTP: the time step `P`, seconds or a duration such as 30s or 1m, up to 24h (default 30s)", func(s string) error {
		d, err := parsePeriod(s)
		p.period = d
		return err
	})
	fs.Func("counter", "HOTP: the counter `N`, 0 to 2^64-1 (default 0)", func(s string) error {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return errors.New("want a decimal integer from 0 to 2^64-1")
		}
		p.counter = n
		return nil
	})
	fs.StringVar(&p.env, "env", "", "read the input from environment variable `NAME` instead of standard input or an argument")
}

func parseAlgorithm(s string) (twofa.Algorithm, error) {
	switch strings.ToUpper(strings.ReplaceAll(s, "-", "")) {
	case "SHA1":
		return twofa.SHA1, nil
	case "SHA256":
		return twofa.SHA256, nil
	case "SHA512":
		return twofa.SHA512, nil
	}
	return twofa.SHA1, errors.New("want SHA1, SHA256 or SHA512")
}

// parsePeriod reads whole seconds ("30") or a Go duration ("30s", "1m")
// of 1 s to twofa.MaxPeriod.
func parsePeriod(s string) (time.Duration, error) {
	errPeriod := fmt.Errorf("want whole seconds from 1 to %d, or a duration such as 30s or 1m up to %v",
		int64(twofa.MaxPeriod/time.Second), twofa.MaxPeriod)
	var d time.Duration
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 1 || n > int64(twofa.MaxPeriod/time.Second) {
			return 0, errPeriod
		}
		d = time.Duration(n) * time.Second
	} else {
		d, err = time.ParseDuration(s)
		if err != nil || d < time.Second || d > twofa.MaxPeriod || d%time.Second != 0 {
			return 0, errPeriod
		}
	}
	return d, nil
}

// parseTime reads a time as RFC 3339 ("2009-02-13T23:31:30Z") or Unix
// seconds, bare or after an @ as oathtool's -N takes them ("1234567890",
// "@1234567890").
func parseTime(s string) (time.Time, error) {
	u := strings.TrimPrefix(s, "@")
	if n, err := strconv.ParseInt(u, 10, 64); err == nil {
		// time.Unix is exact for every int64 second, but times beyond
		// year 9999 have no RFC 3339 form; no code needs them.
		if n < -62135596800 || n > 253402300799 {
			return time.Time{}, errors.New("want a time from year 1 to 9999")
		}
		return time.Unix(n, 0), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errors.New("want RFC 3339 (2009-02-13T23:31:30Z) or Unix seconds (1234567890 or @1234567890)")
	}
	return t, nil
}

// parseSecret reads a base32 secret (or, with hex, a hex one) with the
// library's checks. Its errors never quote the input.
func parseSecret(s string, hex bool) (twofa.Secret, error) {
	if !hex {
		sec, err := twofa.ParseSecret(s)
		if err != nil {
			return twofa.Secret{}, &usageError{message(err)}
		}
		return sec, nil
	}
	s = strings.TrimSpace(s)
	if len(s)%2 != 0 {
		return twofa.Secret{}, usagef("invalid secret: odd number of hex digits")
	}
	if len(s)/2 < twofa.MinSecretSize || len(s)/2 > twofa.MaxSecretSize {
		return twofa.Secret{}, usagef("invalid secret: %d bytes; want %d to %d", len(s)/2, twofa.MinSecretSize, twofa.MaxSecretSize)
	}
	b := make([]byte, len(s)/2)
	defer clear(b)
	for i := range b {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			off := 2 * i
			if ok1 {
				off++
			}
			return twofa.Secret{}, usagef("invalid secret: not a hex digit at offset %d", off)
		}
		b[i] = hi<<4 | lo
	}
	sec, err := twofa.SecretFromBytes(b)
	if err != nil {
		return twofa.Secret{}, &usageError{message(err)}
	}
	return sec, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// isURI reports whether an input is an otpauth URI rather than a secret
// (a base32 or hex secret has no ':').
func isURI(s string) bool {
	return len(s) >= 8 && strings.EqualFold(s[:8], "otpauth:")
}

// parseURI is twofa.ParseKeyURI with its error as a usageError naming
// the part at fault.
func parseURI(s string) (twofa.Key, error) {
	k, err := twofa.ParseKeyURI(s)
	if err != nil {
		return twofa.Key{}, &usageError{uriMessage(err)}
	}
	return k, nil
}

// uriMessage describes a *twofa.URIError: "invalid otpauth URI: secret:
// invalid secret: ...". Like the error, it never quotes the URI.
func uriMessage(err error) string {
	var ue *twofa.URIError
	if errors.As(err, &ue) {
		return "invalid otpauth URI: " + ue.Part + ": " + message(ue.Err)
	}
	return message(err)
}

// setFlags returns the names of the flags given on the command line.
func setFlags(fs *flag.FlagSet) map[string]bool {
	m := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { m[f.Name] = true })
	return m
}

// maxCounter is the last HOTP counter.
const maxCounter = math.MaxUint64
