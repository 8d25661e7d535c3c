// Command twofa is the command-line companion of the twofa library: it
// makes an installation's keyring string, computes one-time codes, draws
// otpauth:// URIs as QR codes, and builds and checks those URIs.
//
//	go install github.com/twofa-go/twofa/cmd/twofa@latest
//
//	twofa keygen                    a new keyring string for keyring.Parse
//	twofa code [flags] [INPUT]      the current code of a secret or an otpauth URI
//	twofa qr [flags] [URI]          an otpauth URI as a terminal QR code or a PNG file
//	twofa uri [flags] [SECRET]      build an otpauth URI
//	twofa uri inspect [flags] [URI] print and validate an otpauth URI
//	twofa help [command]            this help, or a command's
//
// Secrets and URIs are read from standard input when no argument (or "-")
// is given, or from an environment variable with -env NAME. Prefer either
// to an argument: a command line is visible to every user of the machine
// (ps, /proc/PID/cmdline) and lands in the shell's history.
//
// Exit status: 0 on success, 1 when the command fails at run time (a file
// that cannot be written, a read error), 2 for bad usage or bad input (an
// unknown flag, an invalid secret or URI). Messages go to standard error
// and never quote a secret or a URI.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, time.Now))
}

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // a run-time failure: I/O, randomness
	exitUsage   = 2 // bad usage or bad input
)

// env is what a command runs with: its streams, its clock and its
// environment, so that tests run every command in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	now            func() time.Time
	lookupEnv      func(string) (string, bool)
}

// usageError is bad usage or bad input: exit status 2. Its message never
// holds a secret.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// errHelp reports that a command printed its help: exit status 0.
var errHelp = errors.New("help printed")

// run runs the command line args (without the program name) and returns
// the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, now func() time.Time) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, now: now, lookupEnv: os.LookupEnv}
	if len(args) == 0 {
		fmt.Fprint(stderr, mainUsage)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if name == "help" && len(args) == 3 && args[1] == "uri" && args[2] == "inspect" {
			return report(e, "uri", runURI(e, []string{"inspect", "-h"}))
		}
		if name == "help" && len(args) > 1 {
			if len(args) > 2 {
				fmt.Fprintln(stderr, "twofa help: too many arguments")
				return exitUsage
			}
			cmd, ok := lookup(args[1])
			if !ok {
				fmt.Fprintf(stderr, "twofa help: unknown command %s\n", shown(args[1]))
				return exitUsage
			}
			return report(e, args[1], cmd(e, []string{"-h"}))
		}
		fmt.Fprint(stdout, mainUsage)
		return exitOK
	}
	cmd, ok := lookup(name)
	if !ok {
		fmt.Fprintf(stderr, "twofa: unknown command %s; run 'twofa help' for usage\n", shown(name))
		return exitUsage
	}
	return report(e, name, cmd(e, args[1:]))
}

// lookup returns the subcommand called name.
func lookup(name string) (func(e *env, args []string) error, bool) {
	switch name {
	case "keygen":
		return runKeygen, true
	case "code":
		return runCode, true
	case "qr":
		return runQR, true
	case "uri":
		return runURI, true
	}
	return nil, false
}

// subError is the error of a subcommand's subcommand (uri inspect),
// which names it in messages.
type subError struct {
	name string
	err  error
}

func (e *subError) Error() string { return e.err.Error() }
func (e *subError) Unwrap() error { return e.err }

// report prints err, if any, and returns the exit status it means.
func report(e *env, name string, err error) int {
	if se, ok := err.(*subError); ok {
		name, err = se.name, se.err
	}
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "twofa %s: %s\n", name, ue.msg)
		fmt.Fprintf(e.stderr, "run 'twofa %s -h' for usage\n", name)
		return exitUsage
	default:
		fmt.Fprintf(e.stderr, "twofa %s: %s\n", name, message(err))
		return exitFailure
	}
}

// message returns err's text without the library's "twofa: " prefix,
// which the command's own prefix replaces.
func message(err error) string {
	return strings.TrimPrefix(err.Error(), "twofa: ")
}

const mainUsage = `Usage: twofa <command> [flags] [arguments]

Commands:
  keygen            print a new keyring string for keyring.Parse
  code              print the current code of a secret or an otpauth URI
  qr                draw an otpauth URI as a terminal QR code or a PNG file
  uri               build an otpauth URI
  uri inspect       print and validate an otpauth URI
  help [command]    this help, or a command's (also: twofa <command> -h)

Secrets and URIs are read from standard input when no argument (or "-")
is given, or from an environment variable with -env NAME. Prefer either
to an argument: a command line is visible to every user of the machine
(ps, /proc/PID/cmdline) and lands in the shell's history.

Flags come before arguments. Exit status: 0 success, 1 run-time failure,
2 bad usage or bad input.
`

// shortestSecret is the length of the shortest base32 secret the library
// accepts: MinSecretSize, 10 bytes, is 16 base32 characters (and 20 hex
// digits).
const shortestSecret = 16

// shown returns a word the user typed for a message, quoted so that
// control characters cannot reach the terminal, if it cannot be a secret
// or a URI typed in the wrong place: it is shorter than any secret, or it
// has a character that neither a base32 nor a hex secret has, and none of
// a URI's. Otherwise it returns a description of it, so that no message
// ever repeats a secret.
func shown(s string) string {
	if len(s) < shortestSecret ||
		!onlyOf(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz234567=- ") &&
			!onlyOf(s, "0123456789abcdefABCDEF- ") && !strings.ContainsAny(s, ":=?&%/") {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("(an argument of %d bytes, not repeated here)", len(s))
}

// onlyOf reports whether every byte of s is in set.
func onlyOf(s, set string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(set, s[i]) < 0 {
			return false
		}
	}
	return true
}

// newFlags returns a FlagSet for command name. It prints nothing itself:
// parse prints the help and turns its errors into messages that never
// quote a value.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("twofa "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parse parses args into fs. On -h it prints usage and the flags to
// standard output and returns errHelp. A flag error becomes a usageError
// whose message names the flag but not the value given.
func parse(e *env, fs *flag.FlagSet, usage string, args []string) error {
	err := fs.Parse(args)
	if err == nil {
		return nil
	}
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(e.stdout, usage)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(e.stdout, "\nFlags:")
			fs.SetOutput(e.stdout)
			fs.PrintDefaults()
			fs.SetOutput(io.Discard)
		}
		return errHelp
	}
	return &usageError{flagMessage(err.Error())}
}

// flagMessage rewrites an error of package flag so that it does not
// quote the value given, which could be a secret typed in the wrong
// place: `invalid value "x" for flag -digits: ...` becomes
// `invalid value for flag -digits: ...`. The name of an undefined flag is
// kept only when it is too short to be a secret.
func flagMessage(msg string) string {
	for _, p := range []string{"invalid value ", "invalid boolean value "} {
		if rest, ok := strings.CutPrefix(msg, p); ok {
			if q, err := strconv.QuotedPrefix(rest); err == nil {
				return strings.TrimSpace(p) + rest[len(q):]
			}
		}
	}
	for _, p := range []string{"flag provided but not defined: ", "bad flag syntax: ", "flag needs an argument: "} {
		if name, ok := strings.CutPrefix(msg, p); ok {
			return p + shown(name)
		}
	}
	return msg
}

// maxInput bounds what is read as one input line: 64 KiB, far above the
// library's own limits (twofa.MaxURILength, 4096 bytes, and ParseSecret's
// 1024), so that those report an over-long URI or secret with their typed
// errors, while a stray binary file on standard input is not read whole.
const maxInput = 64 << 10

// input returns the secret or URI a command works on: the one argument
// (or, if it is "-" or absent, the first line of standard input), or the
// environment variable named by envName. what names it in messages.
func input(e *env, args []string, envName, what string) (string, error) {
	if len(args) > 1 {
		return "", usagef("too many arguments (%d); flags go before the %s", len(args), what)
	}
	if envName != "" {
		if len(args) == 1 {
			return "", usagef("-env and a %s argument both given; give one", what)
		}
		v, ok := e.lookupEnv(envName)
		if !ok {
			return "", usagef("environment variable %s is not set", shown(envName))
		}
		v = strings.TrimSpace(v)
		if v == "" {
			return "", usagef("environment variable %s is empty", shown(envName))
		}
		return v, nil
	}
	if len(args) == 1 && args[0] != "-" {
		return strings.TrimSpace(args[0]), nil
	}
	if f, ok := e.stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprintf(e.stderr, "Enter the %s, then Enter: ", what)
		}
	}
	r := bufio.NewReaderSize(io.LimitReader(e.stdin, maxInput+1), 512)
	line, err := r.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading standard input: %w", err)
	}
	if len(line) > maxInput && !strings.HasSuffix(line, "\n") {
		return "", usagef("the %s on standard input is longer than %d bytes", what, maxInput)
	}
	line = strings.TrimSpace(line)
	if line == "" {
		return "", usagef("no %s on standard input", what)
	}
	return line, nil
}
