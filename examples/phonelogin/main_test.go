package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log"
	"regexp"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var out, logs bytes.Buffer
	if err := run(context.Background(), &out, nil, log.New(&logs, "", 0), "(415) 555-0142", "US"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Added +1 ••• ••• ••42 (pending).",
		"Confirmed: +1 ••• ••• ••42 is trusted.",
		"Sign-in code refused for now",
		"verify:        accepted (factor phone)",
		"same code:     refused: twofa: code already used",
		"malformed:     refused: twofa: malformed code",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "5550142") || strings.Contains(logs.String(), "5550142") {
		t.Error("the full number was printed")
	}
	if n := len(regexp.MustCompile(`DEV ONLY, NOT SENT: \w+ code for \+1 ••• ••• ••42 by sms: \d{6}`).FindAllString(logs.String(), -1)); n != 2 {
		t.Errorf("%d codes logged, want 2:\n%s", n, logs.String())
	}
}

// TestRunInteractive types the codes read from the log.
func TestRunInteractive(t *testing.T) {
	pr, pw := io.Pipe()
	var out bytes.Buffer
	logs := &codeLog{codes: make(chan string, 2)}
	done := make(chan error)
	go func() {
		done <- run(context.Background(), &out, bufio.NewReader(pr), log.New(logs, "", 0), "+44 7911 123456", "")
	}()
	for range 2 {
		select {
		case c := <-logs.codes:
			io.WriteString(pw, " "+c+" \n")
		case err := <-done:
			t.Fatalf("run ended early: %v", err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "accepted (factor phone)") {
		t.Errorf("not signed in:\n%s", out.String())
	}
}

// codeLog passes the codes the dev sender logs to the "user".
type codeLog struct{ codes chan string }

func (l *codeLog) Write(p []byte) (int, error) {
	if m := regexp.MustCompile(`: (\d{6})\n$`).FindSubmatch(p); m != nil {
		l.codes <- string(m[1])
	}
	return len(p), nil
}
