package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/twofa-go/twofa"
)

const uriUsage = `Usage: twofa uri -account NAME [-issuer NAME] [flags] [SECRET | -]
       twofa uri -account NAME [-issuer NAME] -generate [flags]
       twofa uri inspect [-show-secret] [URI | -]

The first form prints the otpauth:// URI of a key (Google's Key URI
format) for a secret, which authenticator apps import; -generate makes a
new secret from crypto/rand instead. The URI holds the secret: pipe it to
'twofa qr' rather than leaving it on the screen or in a file.

With no SECRET, or SECRET -, the first line of standard input is read;
with -env NAME, the environment variable NAME. Prefer either to an
argument: a command line is visible to every user of the machine (ps,
/proc/PID/cmdline) and lands in the shell's history.

'twofa uri inspect' prints the fields of a URI, the secret redacted
unless -show-secret is given, and checks it as twofa.ParseKeyURI does;
an invalid URI is reported by the part at fault (scheme, type, label,
issuer, account, secret, algorithm, digits, period, counter, encoder) and
exits with status 2. Run 'twofa uri inspect -h' for its flags.

  twofa uri -issuer Example -account alice@example.com -generate | twofa qr
  twofa uri -issuer Example -account alice -hotp -counter 0 < secret.txt
  twofa uri inspect < uri.txt
`

// runURI builds a URI, or runs 'uri inspect'.
func runURI(e *env, args []string) error {
	if len(args) > 0 && args[0] == "inspect" {
		if err := runInspect(e, args[1:]); err != nil {
			return &subError{"uri inspect", err}
		}
		return nil
	}
	fs := newFlags("uri")
	var p params
	p.register(fs)
	issuer := fs.String("issuer", "", "the service `NAME`, shown by authenticator apps (optional)")
	account := fs.String("account", "", "the user's account `NAME` at the issuer, e.g. alice@example.com (required)")
	generate := fs.Bool("generate", false, "make a new random secret instead of reading one")
	size := fs.Int("bytes", twofa.DefaultSecretSize, fmt.Sprintf("-generate: the secret's length in bytes `N`, %d to %d", twofa.MinGeneratedSecretSize, twofa.MaxSecretSize))
	if err := parse(e, fs, uriUsage, args); err != nil {
		return err
	}
	set := setFlags(fs)
	if *account == "" {
		return usagef("-account is required")
	}
	if p.hotp {
		if set["period"] {
			return usagef("-period applies to TOTP keys only")
		}
	} else if set["counter"] {
		return usagef("-counter applies to HOTP keys only (add -hotp)")
	}
	k := twofa.Key{Issuer: *issuer, Account: *account, Algorithm: p.algo, Digits: p.digits, Period: p.period, Counter: p.counter}
	if p.hotp {
		k.Type = twofa.TypeHOTP
	}
	if *generate {
		for _, name := range []string{"hex", "env"} {
			if set[name] {
				return usagef("-%s cannot be used with -generate", name)
			}
		}
		if fs.NArg() > 0 {
			return usagef("-generate takes no SECRET argument")
		}
		if *size < twofa.MinGeneratedSecretSize || *size > twofa.MaxSecretSize {
			return usagef("-bytes %d outside %d to %d", *size, twofa.MinGeneratedSecretSize, twofa.MaxSecretSize)
		}
		s, err := twofa.NewSecretSize(*size)
		if err != nil {
			return err
		}
		k.Secret = s
	} else {
		if set["bytes"] {
			return usagef("-bytes applies to -generate only")
		}
		in, err := input(e, fs.Args(), p.env, "secret")
		if err != nil {
			return err
		}
		if isURI(in) {
			return usagef("the input is an otpauth URI, not a secret; did you mean 'twofa uri inspect'?")
		}
		if k.Secret, err = parseSecret(in, p.hex); err != nil {
			return err
		}
	}
	uri, err := k.URI()
	if err != nil {
		return &usageError{uriMessage(err)}
	}
	return write(e, uri+"\n")
}

const inspectUsage = `Usage: twofa uri inspect [-show-secret] [URI | -]

Prints the fields of an otpauth:// URI, one a line, and checks it as
twofa.ParseKeyURI does. The secret is shown as REDACTED with its length
unless -show-secret is given. An invalid URI is reported on standard
error by the part at fault, without quoting the URI, and exits with
status 2. Notes on standard error point out what is valid but may not
work everywhere (a short secret, parameters many apps ignore).

With no URI, or URI -, the first line of standard input is read; with
-env NAME, the environment variable NAME. Prefer either to an argument: a
command line is visible to every user of the machine (ps,
/proc/PID/cmdline) and lands in the shell's history.
`

// runInspect prints a URI's fields.
func runInspect(e *env, args []string) error {
	fs := newFlags("uri inspect")
	show := fs.Bool("show-secret", false, "print the secret (canonical base32) instead of REDACTED")
	envName := fs.String("env", "", "read the URI from environment variable `NAME`")
	if err := parse(e, fs, inspectUsage, args); err != nil {
		return err
	}
	in, err := input(e, fs.Args(), *envName, "otpauth URI")
	if err != nil {
		return err
	}
	k, err := parseURI(in)
	if err != nil {
		return err
	}
	secret := fmt.Sprintf("REDACTED (%d bytes)", k.Secret.Len())
	if *show {
		secret = k.Secret.Base32()
	}
	var b strings.Builder
	row := func(name, value string) { fmt.Fprintf(&b, "%-10s %s\n", name, value) }
	row("type", k.Type.String())
	row("issuer", k.Issuer)
	row("account", k.Account)
	row("secret", secret)
	row("algorithm", k.Algorithm.String())
	row("digits", fmt.Sprint(k.Digits))
	if k.Type == twofa.TypeTOTP {
		row("period", k.Period.String())
	} else {
		row("counter", fmt.Sprint(k.Counter))
	}
	if err := write(e, b.String()); err != nil {
		return err
	}
	for _, note := range notes(k) {
		fmt.Fprintln(e.stderr, "note:", note)
	}
	return nil
}

// notes returns what is valid in k but may cause trouble.
func notes(k twofa.Key) []string {
	var n []string
	if k.Secret.Len() < twofa.MinGeneratedSecretSize {
		n = append(n, fmt.Sprintf("the secret has %d bytes, fewer than the %d RFC 4226 requires of new secrets", k.Secret.Len(), twofa.MinGeneratedSecretSize))
	}
	if k.Issuer == "" {
		n = append(n, "no issuer: apps show the account alone")
	}
	if k.Algorithm != twofa.SHA1 || k.Digits != twofa.DefaultDigits || (k.Type == twofa.TypeTOTP && k.Period != 30*time.Second) {
		n = append(n, "some authenticator apps ignore algorithm, digits and period, and compute SHA1, 6-digit, 30 s codes")
	}
	return n
}
