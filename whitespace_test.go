package twofa_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/twofatest"
)

// wsParser is one parser of typed or pasted input, reached through the
// public API. setup prepares a fresh installation and returns the value a
// person would copy, without separators, and a function that submits an
// input and returns the error (nil: accepted), and the error a malformed
// input gets.
type wsParser struct {
	name      string
	malformed error
	setup     func(t *testing.T) (flat string, try func(in string) error)
}

var wsParsers = []wsParser{
	{"TOTP.Verify", twofa.ErrMalformedCode, func(t *testing.T) (string, func(string) error) {
		tp := coreTOTP(t, twofa.Options{})
		at := time.Unix(1_111_111_111, 0)
		code, err := tp.Code(at)
		require.NoError(t, err)
		return code, func(in string) error { _, err := tp.Verify(in, at, 1); return err }
	}},
	{"HOTP.Verify", twofa.ErrMalformedCode, func(t *testing.T) (string, func(string) error) {
		h := coreHOTP(t, twofa.Options{Digits: 8})
		return h.Code(3), func(in string) error { _, err := h.Verify(in, 0, 5); return err }
	}},
	{"ParseSecret", twofa.ErrInvalidSecret, func(t *testing.T) (string, func(string) error) {
		const flat = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
		return flat, func(in string) error {
			s, err := twofa.ParseSecret(in)
			if err == nil {
				require.Equal(t, flat, s.Base32(), "%q", in)
			}
			return err
		}
	}},
	{"TwoFA.Verify device code", twofa.ErrMalformedCode, func(t *testing.T) (string, func(string) error) {
		env := twofatest.New(t)
		d := env.EnrollTOTP("alice")
		return d.Code(), func(in string) error { _, err := env.TwoFA.Verify(t.Context(), "alice", in); return err }
	}},
	{"Devices.Confirm", twofa.ErrMalformedCode, func(t *testing.T) (string, func(string) error) {
		env := twofatest.New(t)
		e, err := env.Devices.Enroll(t.Context(), "alice", "phone", twofa.EnrollOptions{})
		require.NoError(t, err)
		tp, err := e.Key.TOTP()
		require.NoError(t, err)
		code, err := tp.Code(env.Clock.Now())
		require.NoError(t, err)
		return code, func(in string) error { return errOf(env.Devices.Confirm(t.Context(), "alice", e.Device.ID, in)) }
	}},
	{"TwoFA.Verify recovery code", twofa.ErrMalformedCode, func(t *testing.T) (string, func(string) error) {
		env := twofatest.New(t)
		env.EnrollTOTP("alice")
		codes, err := env.Recovery.Generate(t.Context(), "alice")
		require.NoError(t, err)
		return strings.ReplaceAll(codes[0], "-", ""), func(in string) error {
			_, err := env.TwoFA.Verify(t.Context(), "alice", in)
			return err
		}
	}},
	{"AppPasswords.Verify", twofa.ErrMalformedAppPassword, func(t *testing.T) (string, func(string) error) {
		env := twofatest.New(t)
		env.EnrollTOTP("alice")
		ap, err := newAppPasswords(env.Config)
		require.NoError(t, err)
		pw, _, err := ap.Create(t.Context(), "alice", "Mail")
		require.NoError(t, err)
		return apFlat(pw), func(in string) error { _, err := ap.Verify(t.Context(), "alice", in); return err }
	}},
	{"Phones.Confirm", twofa.ErrMalformedCode, func(t *testing.T) (string, func(string) error) {
		env := twofatest.New(t)
		p, code := addPhone(t, env, "alice", phoneUS)
		return code, func(in string) error { return errOf(env.Phones.Confirm(t.Context(), "alice", p.ID, in)) }
	}},
	{"TwoFA.Verify out-of-band code", twofa.ErrMalformedCode, func(t *testing.T) (string, func(string) error) {
		env := oobEnv(t)
		p, code := addPhone(t, env, "alice", phoneUS)
		require.NoError(t, errOf(env.Phones.Confirm(t.Context(), "alice", p.ID, code)))
		env.Clock.Advance(phone.DefaultResendCooldown)
		_, err := env.Phones.SendCode(t.Context(), "alice", p.ID, phone.SMS)
		require.NoError(t, err)
		return env.Sender.Code(phoneUS.E164), func(in string) error {
			_, err := env.TwoFA.Verify(t.Context(), "alice", in)
			return err
		}
	}},
}

// wsCases are the same white-space cases for every parser: leading and
// trailing white space (unicode.IsSpace) is trimmed; inside, only spaces
// and hyphens separate; any other white space inside is refused, and so is
// an input over the parser's length bound, however much of it is white
// space.
var wsCases = []struct {
	name   string
	in     func(flat string) string
	accept bool
}{
	{"as shown", func(f string) string { return f }, true},
	{"space inside", func(f string) string { return wsInsert(f, " ") }, true},
	{"hyphen inside", func(f string) string { return wsInsert(f, "-") }, true},
	{"spaces and hyphens", func(f string) string { return "- " + wsInsert(f, " - ") + " -" }, true},
	{"trailing newline", func(f string) string { return f + "\n" }, true},
	{"trailing CRLF", func(f string) string { return f + "\r\n" }, true},
	{"leading tab", func(f string) string { return "\t" + f }, true},
	{"pasted with tabs and newlines around", func(f string) string { return "\t \n" + wsInsert(f, " ") + " \r\n\t" }, true},
	{"vertical tab and form feed around", func(f string) string { return "\v" + f + "\f" }, true},
	{"Unicode spaces around", func(f string) string { return "\u00a0\u2003" + f + "\u3000\u0085" }, true},

	{"tab inside", func(f string) string { return wsInsert(f, "\t") }, false},
	{"newline inside", func(f string) string { return wsInsert(f, "\n") }, false},
	{"CR inside", func(f string) string { return wsInsert(f, "\r") }, false},
	{"CRLF inside", func(f string) string { return wsInsert(f, "\r\n") }, false},
	{"vertical tab inside", func(f string) string { return wsInsert(f, "\v") }, false},
	{"tab between spaces inside", func(f string) string { return wsInsert(f, " \t ") }, false},
	{"no-break space inside", func(f string) string { return wsInsert(f, "\u00a0") }, false},
	{"ideographic space inside", func(f string) string { return wsInsert(f, "\u3000") }, false},
	{"en dash inside", func(f string) string { return wsInsert(f, "\u2013") }, false},
	{"underscore inside", func(f string) string { return wsInsert(f, "_") }, false},
	{"zero-width space before", func(f string) string { return "\u200b" + f }, false},
	{"byte-order mark after", func(f string) string { return f + "\ufeff" }, false},
	{"white space only", func(string) string { return " \t\r\n " }, false},
	{"spaces beyond the length bound", func(f string) string { return strings.Repeat(" ", 2000) + f }, false},
	{"newlines beyond the length bound", func(f string) string { return f + strings.Repeat("\n", 2000) }, false},
}

// wsInsert puts sep in the middle of s.
func wsInsert(s, sep string) string { return s[:len(s)/2] + sep + s[len(s)/2:] }

// TestTypedInputWhitespace runs the same white-space cases through every
// parser of typed input: one-time codes (TOTP, HOTP, a device at sign-in
// and at confirmation), out-of-band codes (confirming a phone, signing in),
// recovery codes, app passwords and secrets. They all agree.
func TestTypedInputWhitespace(t *testing.T) {
	t.Parallel()
	for _, p := range wsParsers {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range wsCases {
				flat, try := p.setup(t) // fresh: an accepted code is used up
				in := c.in(flat)
				err := try(in)
				if c.accept {
					require.NoError(t, err, "%s: %s: %.60q", p.name, c.name, in)
					continue
				}
				require.ErrorIs(t, err, p.malformed, "%s: %s: %.60q", p.name, c.name, in)
			}
		})
	}
}
