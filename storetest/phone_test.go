package storetest_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/storetest"
)

func TestRunPhonesMemstore(t *testing.T) {
	storetest.RunPhones(t, func(t *testing.T) storetest.PhoneStore { return memstore.New() })
}

func TestNewPhone(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	a, b := storetest.NewPhone("alice", now), storetest.NewPhone("alice", now)
	if a.ID == b.ID || a.Number == b.Number {
		t.Error("two NewPhone calls share an ID or a number")
	}
	if err := a.Number.Validate(); err != nil {
		t.Errorf("NewPhone's number: %v", err)
	}
	c1, c2 := storetest.NewChallenge(a, now), storetest.NewChallenge(a, now)
	if c1.ID == c2.ID || bytes.Equal(c1.Digest, c2.Digest) || c1.PhoneID != a.ID || c1.State != phone.ChallengeOpen {
		t.Errorf("NewChallenge = %+v, %+v", c1, c2)
	}
	s := memstore.New()
	if err := s.InsertPhone(t.Context(), a, 1, now); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateChallenge(t.Context(), c1, now.Add(-time.Hour), func([]phone.Send) error { return nil }); err != nil {
		t.Error(err)
	}
}

// phoneMutants plant one bug each in a memstore, and name the subtest of
// RunPhones that must catch it.
var phoneMutants = map[string]phoneMutant{
	"CompareBeforeAttempts": {
		catch: "ChallengeStore/ConsumeChallenge/ExhaustedRefusesRightDigest",
		want:  "the right digest on try 6",
		store: func() storetest.PhoneStore { return compareFirst{memstore.New()} },
	},
	"SinceOffByOne": {
		catch: "ChallengeStore/CreateChallenge/Recent",
		want:  "missing [{",
		store: func() storetest.PhoneStore { return lateSince{memstore.New()} },
	},
	"DeleteForgetsHistory": {
		catch: "PhoneStore/DeletePhone/KeepsSendHistory",
		want:  "missing [{",
		store: func() storetest.PhoneStore { return forgetful{memstore.New()} },
	},
	"AllowOutsideStep": {
		catch: "ChallengeStore/CreateChallenge/ConcurrentCap",
		want:  "succeeded",
		store: func() storetest.PhoneStore { return allowOutside{memstore.New()} },
	},
	"StoresRefused": {
		catch: "ChallengeStore/CreateChallenge/Refused",
		want:  "refused challenge stored?",
		store: func() storetest.PhoneStore { return storesRefused{memstore.New()} },
	},
	"WrapsRefusal": {
		catch: "ChallengeStore/CreateChallenge/Refused",
		want:  "want allow's error as it is",
		store: func() storetest.PhoneStore { return wrapsRefusal{memstore.New()} },
	},
	"AllowBeforeNotFound": {
		catch: "ChallengeStore/CreateChallenge/NotFound",
		want:  "CreateChallenge for an unknown phone",
		store: func() storetest.PhoneStore { return allowFirst{memstore.New()} },
	},
	"ConfirmIgnoresContext": {
		catch: "PhoneStore/ConfirmPhone/Cancelled",
		want:  "wrapping context.Canceled",
		store: func() storetest.PhoneStore { return confirmIgnoresContext{memstore.New()} },
	},
	"CountsWrongThenCancels": {
		catch: "ChallengeStore/ConsumeChallenge/CancelledWrongDigest",
		want:  "after a cancelled ConsumeChallenge/WrongDigest: Challenge.Attempts = 1, want 0",
		store: func() storetest.PhoneStore { return countsWrongThenCancels{memstore.New()} },
	},
	"NonAtomicConsume": {
		catch: "ChallengeStore/ConsumeChallenge/Concurrent",
		want:  "want 1 and 99",
		store: func() storetest.PhoneStore { return readThenWrite{memstore.New()} },
	},
}

type phoneMutant struct {
	catch, want string
	store       func() storetest.PhoneStore
}

// TestPhoneMutant runs RunPhones against the mutant named by
// $STORETEST_PHONE_MUTANT; TestPhoneMutants starts it in a subprocess,
// where it must fail.
func TestPhoneMutant(t *testing.T) {
	name := os.Getenv("STORETEST_PHONE_MUTANT")
	if name == "" {
		t.Skip("run by TestPhoneMutants")
	}
	m := phoneMutants[name]
	storetest.RunPhones(t, func(t *testing.T) storetest.PhoneStore { return m.store() })
}

func TestPhoneMutants(t *testing.T) {
	runMutants(t, "STORETEST_PHONE_MUTANT", "TestPhoneMutant", phoneMutants,
		func(m phoneMutant) (string, string) { return m.catch, m.want })
}

// compareFirst accepts the right digest even after too many wrong ones.
type compareFirst struct{ *memstore.Store }

func (s compareFirst) ConsumeChallenge(ctx context.Context, account, id string, digest []byte, maxAttempts int, now time.Time, old, next []byte) (phone.ConsumeResult, int, error) {
	if c, err := s.Challenge(ctx, account, id); err == nil && bytes.Equal(c.Digest, digest) {
		maxAttempts = c.Attempts + 1
	}
	return s.Store.ConsumeChallenge(ctx, account, id, digest, maxAttempts, now, old, next)
}

// lateSince passes allow the challenges created after since + 1 ns.
type lateSince struct{ *memstore.Store }

func (s lateSince) CreateChallenge(ctx context.Context, c phone.Challenge, since time.Time, allow func([]phone.Send) error) error {
	return s.Store.CreateChallenge(ctx, c, since.Add(1), allow)
}

// allowOutside reads the recent sends in one step and stores in another.
type allowOutside struct{ *memstore.Store }

func (s allowOutside) CreateChallenge(ctx context.Context, c phone.Challenge, since time.Time, allow func([]phone.Send) error) error {
	var recent []phone.Send
	errProbe := errors.New("probe")
	if err := s.Store.CreateChallenge(ctx, c, since, func(r []phone.Send) error {
		recent = slices.Clone(r)
		return errProbe
	}); err != errProbe {
		return err
	}
	if err := allow(recent); err != nil {
		return err
	}
	time.Sleep(time.Millisecond)
	return s.Store.CreateChallenge(ctx, c, since, func([]phone.Send) error { return nil })
}

// storesRefused stores the challenge whatever allow says, and returns
// allow's error.
type storesRefused struct{ *memstore.Store }

func (s storesRefused) CreateChallenge(ctx context.Context, c phone.Challenge, since time.Time, allow func([]phone.Send) error) error {
	var refusal error
	err := s.Store.CreateChallenge(ctx, c, since, func(r []phone.Send) error {
		refusal = allow(r)
		return nil
	})
	return cmp.Or(refusal, err)
}

// wrapsRefusal wraps allow's error.
type wrapsRefusal struct{ *memstore.Store }

func (s wrapsRefusal) CreateChallenge(ctx context.Context, c phone.Challenge, since time.Time, allow func([]phone.Send) error) error {
	if err := s.Store.CreateChallenge(ctx, c, since, allow); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// allowFirst asks allow before it looks the phone up.
type allowFirst struct{ *memstore.Store }

func (s allowFirst) CreateChallenge(ctx context.Context, c phone.Challenge, since time.Time, allow func([]phone.Send) error) error {
	if err := allow(nil); err != nil {
		return err
	}
	return s.Store.CreateChallenge(ctx, c, since, allow)
}

// forgetful deletes the send history with the phone.
type forgetful struct{ *memstore.Store }

func (s forgetful) DeletePhone(ctx context.Context, account, id string) (phone.State, int, error) {
	state, n, err := s.Store.DeletePhone(ctx, account, id)
	if err == nil {
		_, err = s.DeleteStaleChallenges(ctx, time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC))
	}
	return state, n, err
}

// readThenWrite decides from a read, then writes: two callers can both
// see the challenge open.
type readThenWrite struct{ *memstore.Store }

func (s readThenWrite) ConsumeChallenge(ctx context.Context, account, id string, digest []byte, maxAttempts int, now time.Time, old, next []byte) (phone.ConsumeResult, int, error) {
	c, err := s.Challenge(ctx, account, id)
	if err != nil || c.State != phone.ChallengeOpen || !bytes.Equal(c.Digest, digest) {
		return s.Store.ConsumeChallenge(ctx, account, id, digest, maxAttempts, now, old, next)
	}
	time.Sleep(time.Millisecond)
	s.Store.ConsumeChallenge(ctx, account, id, digest, maxAttempts, now, old, next)
	return phone.ConsumeAccepted, c.Attempts, nil
}

type confirmIgnoresContext struct{ *memstore.Store }

func (s confirmIgnoresContext) ConfirmPhone(ctx context.Context, account, id string, at time.Time, old, mac []byte) (bool, error) {
	return s.Store.ConfirmPhone(context.WithoutCancel(ctx), account, id, at, old, mac)
}

// countsWrongThenCancels compares, then reports the cancellation.
type countsWrongThenCancels struct{ *memstore.Store }

func (s countsWrongThenCancels) ConsumeChallenge(ctx context.Context, account, id string, digest []byte, maxAttempts int, now time.Time, old, next []byte) (phone.ConsumeResult, int, error) {
	r, n, err := s.Store.ConsumeChallenge(context.WithoutCancel(ctx), account, id, digest, maxAttempts, now, old, next)
	if ctx.Err() != nil {
		return 0, 0, ctx.Err()
	}
	return r, n, err
}
