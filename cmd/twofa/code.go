package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twofa-go/twofa"
)

const codeUsage = `Usage: twofa code [flags] [INPUT | -]

Prints the one-time code of a secret or an otpauth:// URI, as
'oathtool --totp -b' (or 'oathtool -b -c N' with -hotp) does: TOTP (RFC
6238) by default, for the current time or -time; HOTP (RFC 4226) with
-hotp and -counter. With -window N it prints N more codes after it, one a
line, as oathtool -w does.

INPUT is a base32 secret (any case, spaces and hyphens allowed; hex with
-hex) or an otpauth:// URI, told apart by the otpauth: prefix. A URI sets
the type, algorithm, digits and period itself: -hotp, -hex, -algo,
-digits, -period and -start cannot be used with one, but -counter sets the
counter of an HOTP URI (whose own counter is only the first).

With no INPUT, or INPUT -, the first line of standard input is read; with
-env NAME, the environment variable NAME. Prefer either to an argument: a
command line is visible to every user of the machine (ps,
/proc/PID/cmdline) and lands in the shell's history.

  twofa code < secret.txt
  twofa code -env TOTP_SECRET
  echo 'otpauth://totp/Example:alice?secret=...' | twofa code
  twofa code -hotp -counter 5 -digits 8 < secret.txt
  twofa code -time 2009-02-13T23:31:30Z -algo SHA256 -digits 8 < secret.txt
`

// maxExtra is the largest -window: one code more than MaxWindow would
// compare in a verification is pointless to print.
const maxExtra = twofa.MaxWindow - 1

// runCode prints codes.
func runCode(e *env, args []string) error {
	fs := newFlags("code")
	var p params
	p.register(fs)
	var at, start time.Time
	fs.Func("time", "TOTP: the `TIME` of the code, RFC 3339 or Unix seconds (default now)", func(s string) error {
		t, err := parseTime(s)
		at = t
		return err
	})
	fs.Func("start", "TOTP: the `TIME` of step 0 (T0), RFC 3339 or Unix seconds (default the Unix epoch)", func(s string) error {
		t, err := parseTime(s)
		start = t
		return err
	})
	window := fs.Uint("window", 0, fmt.Sprintf("print `N` more codes after the first, 0 to %d", maxExtra))
	if err := parse(e, fs, codeUsage, args); err != nil {
		return err
	}
	set := setFlags(fs)
	if *window > maxExtra {
		return usagef("-window %d exceeds %d", *window, maxExtra)
	}
	in, err := input(e, fs.Args(), p.env, "secret or otpauth URI")
	if err != nil {
		return err
	}

	var k twofa.Key
	if isURI(in) {
		for _, name := range []string{"hotp", "hex", "algo", "digits", "period", "start"} {
			if set[name] {
				return usagef("-%s cannot be used with an otpauth URI, which sets the key's parameters itself", name)
			}
		}
		if k, err = parseURI(in); err != nil {
			return err
		}
		if set["counter"] {
			k.Counter = p.counter
		}
	} else {
		s, err := parseSecret(in, p.hex)
		if err != nil {
			return err
		}
		k = twofa.Key{Secret: s, Algorithm: p.algo, Digits: p.digits, Period: p.period, Counter: p.counter}
		if p.hotp {
			k.Type = twofa.TypeHOTP
		}
	}

	if k.Type == twofa.TypeHOTP {
		for _, name := range []string{"time", "start", "period"} {
			if set[name] {
				return usagef("-%s applies to TOTP keys only", name)
			}
		}
		return printHOTP(e, k, *window)
	}
	if set["counter"] {
		return usagef("-counter applies to HOTP keys only (add -hotp)")
	}
	if !set["time"] {
		at = e.now()
	}
	return printTOTP(e, k, at, start, *window)
}

func printTOTP(e *env, k twofa.Key, at, start time.Time, extra uint) error {
	o := k.Options()
	o.T0 = start
	if o.T0.Equal(time.Unix(0, 0)) {
		o.T0 = time.Time{}
	}
	g, err := twofa.NewTOTP(k.Secret, o)
	if err != nil {
		return &usageError{message(err)}
	}
	step, err := g.Step(at)
	if errors.Is(err, twofa.ErrBeforeT0) {
		return usagef("the time lies before the start time (-start), where no time step exists")
	}
	if err != nil {
		return &usageError{message(err)}
	}
	var b strings.Builder
	for i := range uint64(extra) + 1 {
		b.WriteString(g.CodeAt(step + i))
		b.WriteByte('\n')
	}
	return write(e, b.String())
}

func printHOTP(e *env, k twofa.Key, extra uint) error {
	g, err := k.HOTP()
	if err != nil {
		return &usageError{message(err)}
	}
	var b strings.Builder
	for c := k.Counter; ; c++ {
		b.WriteString(g.Code(c))
		b.WriteByte('\n')
		if c-k.Counter == uint64(extra) || c == maxCounter {
			break // the counter never wraps
		}
	}
	return write(e, b.String())
}

// write writes s to standard output; a failure is a run-time failure.
func write(e *env, s string) error {
	if _, err := fmt.Fprint(e.stdout, s); err != nil {
		return fmt.Errorf("writing standard output: %w", err)
	}
	return nil
}
