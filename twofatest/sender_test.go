package twofatest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/twofatest"
)

var testPhone = phone.Number{E164: "+14155550142", CountryCode: 1}

func TestSender(t *testing.T) {
	var s twofatest.Sender // the zero Sender works
	ctx := context.Background()
	other := phone.Number{E164: "+447911123456", CountryCode: 44}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			to := testPhone
			if i%2 == 1 {
				to = other
			}
			if err := s.Send(ctx, phone.Message{To: to, Code: fmt.Sprintf("%06d", i)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(s.Messages()); n != 50 {
		t.Fatalf("%d messages recorded, want 50", n)
	}
	if err := s.Send(ctx, phone.Message{To: testPhone, Code: "123456"}); err != nil {
		t.Fatal(err)
	}
	if m, ok := s.Last(testPhone.E164); !ok || m.Code != "123456" {
		t.Errorf("Last = %v, %v", m, ok)
	}
	if c := s.Code(testPhone.E164); c != "123456" {
		t.Errorf("Code = %q, want 123456", c)
	}
	if _, ok := s.Last("+10000000000"); ok || s.Code("+10000000000") != "" {
		t.Error("Last of a number never sent to reported a message")
	}
	down := errors.New("provider down")
	s.Fail(down)
	if err := s.Send(ctx, phone.Message{To: testPhone, Code: "654321"}); err != down {
		t.Errorf("Send while failing = %v, want %v", err, down)
	}
	if s.Code(testPhone.E164) != "123456" {
		t.Error("a failed send was recorded")
	}
	s.Fail(nil)
	if err := s.Send(ctx, phone.Message{To: testPhone, Code: "654321"}); err != nil || s.Code(testPhone.E164) != "654321" {
		t.Errorf("Send after Fail(nil) = %v", err)
	}
}

func TestEnvPhones(t *testing.T) {
	env := twofatest.New(t)
	ctx := context.Background()
	id := env.TrustPhone("alice", testPhone)
	list, err := env.Phones.List(ctx, "alice")
	if err != nil || len(list) != 1 || list[0].ID != id || list[0].State != phone.Trusted {
		t.Fatalf("List after TrustPhone = %+v, %v", list, err)
	}
	if _, err := env.TwoFA.Verify(ctx, "alice", "123456"); !errors.Is(err, twofa.ErrNotEnrolled) {
		t.Errorf("Verify without OutOfBand = %v, want ErrNotEnrolled", err)
	}
	env.EnableOutOfBand()
	if env.ResendCooldown() != phone.DefaultResendCooldown {
		t.Errorf("ResendCooldown = %v", env.ResendCooldown())
	}
	env.Clock.Advance(env.ResendCooldown())
	code := env.SignInCode("alice", id)
	res, err := env.TwoFA.Verify(ctx, "alice", code)
	if err != nil || res.Factor != phone.Kind || res.FactorID != id {
		t.Errorf("Verify(sign-in code) = %+v, %v", res, err)
	}
	env.ReconfigurePhones(func(c *phone.Config) { c.ResendCooldown = time.Second })
	if env.ResendCooldown() != time.Second {
		t.Errorf("ResendCooldown = %v, want the Config's", env.ResendCooldown())
	}
}
