// Command phonelogin shows trusted phone numbers and sign-in codes sent by
// SMS: it parses a number, adds it to an account, confirms it with the
// code "sent" to it, then signs in with a second code, and shows that a
// too-early resend, a used code and a malformed one are refused.
//
//	go run ./examples/phonelogin
//	go run ./examples/phonelogin -number "+44 7911 123456" -interactive
//
// No text message is sent. The program's Sender, devLogSender, writes
// every code to the log instead - FOR LOCAL DEVELOPMENT ONLY: a server
// that logs its codes lets anyone who reads the logs sign in as anyone.
// Plug your SMS or voice provider into a phone.Sender in production.
//
// With -interactive you type the codes you read in the log, as a user
// would type them from the text; otherwise the program types them.
// Everything lives in memory.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/phone/phonenumber"
)

// devLogSender is a phone.Sender for LOCAL DEVELOPMENT ONLY. It sends
// nothing: it logs each code with the masked number, so a developer can
// sign in without an SMS provider. Never deploy it: the logs would hold
// every sign-in code.
type devLogSender struct {
	log *log.Logger

	mu   sync.Mutex
	last map[string]string // E.164 → last code, for the non-interactive demo
}

// Send logs m's code, marked as development-only.
func (s *devLogSender) Send(_ context.Context, m phone.Message) error {
	s.log.Printf("DEV ONLY, NOT SENT: %s code for %s by %s: %s", m.Purpose, m.To, m.Channel, m.Code)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.last = map[string]string{}
	}
	s.last[m.To.E164] = m.Code
	return nil
}

func (s *devLogSender) lastCode(n phone.Number) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last[n.E164]
}

func main() {
	number := flag.String("number", "(415) 555-0142", "the phone number, as a user would type it")
	region := flag.String("region", "US", "the region of numbers typed without +country code")
	interactive := flag.Bool("interactive", false, "type the codes yourself (read them in the log)")
	flag.Parse()
	var in *bufio.Reader
	if *interactive {
		in = bufio.NewReader(os.Stdin)
	}
	logger := log.New(os.Stderr, "phonelogin: ", log.Ltime)
	if err := run(context.Background(), os.Stdout, in, logger, *number, *region); err != nil {
		logger.Fatal(err)
	}
}

// run is the demo. in is nil unless the user types the codes.
func run(ctx context.Context, out io.Writer, in *bufio.Reader, logger *log.Logger, typed, region string) error {
	// In production, load the keyring from the environment:
	// keyring.Parse(os.Getenv("TWOFA_KEYS")).
	text, err := keyring.Generate()
	if err != nil {
		return err
	}
	keys, err := keyring.Parse(text)
	if err != nil {
		return err
	}
	sender := &devLogSender{log: logger}
	tf, err := twofa.New(twofa.Config{Store: memstore.New(), Keyring: keys, Issuer: "twofa phonelogin"})
	if err != nil {
		return err
	}
	// The trusted phone numbers, attached to the installation as a second
	// factor; they keep their records in its Store.
	phones, err := phone.New(tf, phone.Config{
		Sender: sender,
		// Accept codes sent to trusted numbers at sign-in. SMS is a
		// weaker second factor than an authenticator app (SIM swaps,
		// interception): opt in knowingly.
		OutOfBand: true,
		// The default wait between two codes to one number is 30 s;
		// 2 s keeps the demo short.
		ResendCooldown: 2 * time.Second,
	})
	if err != nil {
		return err
	}
	const account = "alice@example.com"
	code := func(n phone.Number) (string, error) {
		if in == nil {
			return sender.lastCode(n), nil
		}
		fmt.Fprint(out, "  type the code from the log: ")
		line, err := in.ReadString('\n')
		if err != nil && line == "" {
			return "", err
		}
		return strings.TrimSpace(line), nil
	}

	// 1. Parse and add the number: pending until proven.
	n, err := phonenumber.Parse(typed, region)
	if err != nil {
		return err // says why, without repeating the number
	}
	p, err := phones.Add(ctx, account, n)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Added %s (%s).\n", p.Number, p.State)

	// 2. Prove it: a code sent to it, typed back.
	if _, err := phones.SendCode(ctx, account, p.ID, phone.SMS); err != nil {
		return err
	}
	fmt.Fprintf(out, "Sent a code to %s to confirm it.\n", p.Number)
	c, err := code(n)
	if err != nil {
		return err
	}
	if _, err := phones.Confirm(ctx, account, p.ID, c); err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	fmt.Fprintf(out, "Confirmed: %s is trusted.\n\n", p.Number)

	// 3. Sign in: after the password, a code by text. Asking at once is
	// refused by the number's cool-down; the program waits it out.
	_, err = phones.SendCode(ctx, account, p.ID, phone.SMS)
	var wait *phone.CooldownError
	if errors.As(err, &wait) {
		fmt.Fprintf(out, "Sign-in code refused for now: %v\n", err)
		time.Sleep(wait.RetryAfter)
		_, err = phones.SendCode(ctx, account, p.ID, phone.SMS)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Sent a sign-in code to %s.\n", p.Number)
	c, err = code(n)
	if err != nil {
		return err
	}
	res, err := tf.Verify(ctx, account, c)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	fmt.Fprintf(out, "  verify:        accepted (factor %s)\n", res.Factor)
	for _, try := range []struct {
		what, code string
		want       error
	}{
		{"same code", c, twofa.ErrReplayed},
		{"malformed", "12345x", twofa.ErrMalformedCode},
	} {
		_, err = tf.Verify(ctx, account, try.code)
		if !errors.Is(err, try.want) {
			return fmt.Errorf("%s: got %v, want %v", try.what, err, try.want)
		}
		fmt.Fprintf(out, "  %-14s refused: %v\n", try.what+":", err)
	}
	return nil
}
