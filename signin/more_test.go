package signin_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/signin"
	"github.com/twofa-go/twofa/twofatest"
)

func TestFinishOutOfBandCode(t *testing.T) {
	e := twofatest.New(t)
	e.EnableOutOfBand()
	pid := e.TrustPhone("alice", phone.Number{E164: "+14155550142", CountryCode: 1})
	m, err := signin.New(e.TwoFA, signin.Config{})
	require.NoError(t, err)
	tok, p, err := m.Begin(t.Context(), "alice", req)
	require.NoError(t, err)
	require.False(t, p.Done, "a trusted phone alone turns two-factor authentication on")
	e.Clock.Advance(e.ResendCooldown())
	fin, err := m.Finish(t.Context(), tok, e.SignInCode("alice", pid))
	require.NoError(t, err)
	assert.Equal(t, phone.Kind, fin.Result.Factor)
	assert.Equal(t, pid, fin.Result.FactorID)
}

// cancelOnVerified cancels a request's context once Verify has accepted
// its code: what a client hanging up at that moment does.
type cancelOnVerified struct {
	cancel atomic.Pointer[context.CancelFunc]
}

func (c *cancelOnVerified) hook(_ context.Context, ev twofa.Event) {
	if ev.Type == twofa.EventVerified {
		if f := c.cancel.Load(); f != nil {
			(*f)()
		}
	}
}

// TestFinishSurvivesCancelledRequest: once the factor is used up, the
// sign-in is finished even if the request's context ends meanwhile.
func TestFinishSurvivesCancelledRequest(t *testing.T) {
	e := twofatest.New(t)
	var c cancelOnVerified
	e.Reconfigure(func(cfg *twofa.Config) { cfg.Events = c.hook })
	m, err := signin.New(e.TwoFA, signin.Config{})
	require.NoError(t, err)
	dev := e.EnrollTOTP("alice")
	tok, _, err := m.Begin(t.Context(), "alice", req)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	c.cancel.Store(&cancel)
	fin, err := m.Finish(ctx, tok, dev.Code())
	require.NoError(t, err)
	assert.Equal(t, "alice", fin.Account)
	require.Error(t, ctx.Err())
	_, err = m.Finish(t.Context(), tok, dev.Code())
	assert.ErrorIs(t, err, signin.ErrNotFound)
}

// slowCreate widens the window between Begin's decision that
// two-factor authentication is on and its insert.
type slowCreate struct{ signin.Store }

func (s slowCreate) CreateSignIn(ctx context.Context, r signin.Record, limit int, now time.Time) ([]string, error) {
	time.Sleep(time.Millisecond)
	return s.Store.CreateSignIn(ctx, r, limit, now)
}

// TestBeginRacesDisable: Begin racing the removal of the last factor
// never leaves a pending sign-in behind (Begin stores through Issue).
func TestBeginRacesDisable(t *testing.T) {
	e := newEnv(t, nil)
	m, err := signin.New(e.TwoFA, signin.Config{Store: slowCreate{e.Store}})
	require.NoError(t, err)
	e.m = m
	for trial := range 100 {
		account := "race-" + twofatest.Start.Add(time.Duration(trial)).Format("150405.000000000")
		e.EnrollTOTP(account)
		var wg sync.WaitGroup
		var pending atomic.Bool
		wg.Go(func() {
			_, p, err := e.m.Begin(context.Background(), account, req)
			assert.NoError(t, err)
			pending.Store(!p.Done)
		})
		wg.Go(func() { assert.NoError(t, e.TwoFA.Disable(context.Background(), account)) })
		wg.Wait()
		l, err := e.m.List(t.Context(), account)
		require.NoError(t, err)
		require.Empty(t, l, "trial %d: a pending sign-in outlived two-factor authentication (Begin pending: %v)", trial, pending.Load())
	}
}

// failing is a signin.Store whose method fail names returns errBroken.
type failing struct {
	signin.Store
	fail string
}

var errBroken = errors.New("store broken")

func (f failing) err(m string) error {
	if f.fail == m {
		return errBroken
	}
	return nil
}

func (f failing) CreateSignIn(ctx context.Context, r signin.Record, limit int, now time.Time) ([]string, error) {
	if err := f.err("CreateSignIn"); err != nil {
		return nil, err
	}
	return f.Store.CreateSignIn(ctx, r, limit, now)
}

func (f failing) SignIn(ctx context.Context, d []byte) (signin.Record, error) {
	if err := f.err("SignIn"); err != nil {
		return signin.Record{}, err
	}
	return f.Store.SignIn(ctx, d)
}

func (f failing) SignIns(ctx context.Context, account string) ([]signin.Record, error) {
	if err := f.err("SignIns"); err != nil {
		return nil, err
	}
	return f.Store.SignIns(ctx, account)
}

func (f failing) ChargeSignIn(ctx context.Context, account, id string, limit int) (int, bool, error) {
	if err := f.err("ChargeSignIn"); err != nil {
		return 0, false, err
	}
	return f.Store.ChargeSignIn(ctx, account, id, limit)
}

func (f failing) RefundSignIn(ctx context.Context, account, id string) error {
	if err := f.err("RefundSignIn"); err != nil {
		return err
	}
	return f.Store.RefundSignIn(ctx, account, id)
}

func (f failing) DeleteSignIn(ctx context.Context, account, id string) error {
	if err := f.err("DeleteSignIn"); err != nil {
		return err
	}
	return f.Store.DeleteSignIn(ctx, account, id)
}

func (f failing) DeleteSignIns(ctx context.Context, account string) (int, error) {
	if err := f.err("DeleteSignIns"); err != nil {
		return 0, err
	}
	return f.Store.DeleteSignIns(ctx, account)
}

func (f failing) DeleteExpiredSignIns(ctx context.Context, now time.Time) (int, error) {
	if err := f.err("DeleteExpiredSignIns"); err != nil {
		return 0, err
	}
	return f.Store.DeleteExpiredSignIns(ctx, now)
}

// TestStoreErrors: every store failure comes back wrapped, as an error
// that is not a success, and is never mistaken for a missing sign-in.
func TestStoreErrors(t *testing.T) {
	ctx := t.Context()
	for _, method := range []string{"CreateSignIn", "SignIn", "SignIns", "ChargeSignIn", "RefundSignIn", "DeleteSignIn", "DeleteSignIns", "DeleteExpiredSignIns"} {
		t.Run(method, func(t *testing.T) {
			e := twofatest.New(t)
			m, err := signin.New(e.TwoFA, signin.Config{Store: failing{e.Store, method}})
			require.NoError(t, err)
			dev := e.EnrollTOTP("alice")
			tok, _, err := m.Begin(ctx, "alice", req)
			if method == "CreateSignIn" {
				assert.ErrorIs(t, err, errBroken)
				assert.Empty(t, tok)
				return
			}
			require.NoError(t, err)
			check := func(what string, err error) {
				t.Helper()
				assert.ErrorIs(t, err, errBroken, what)
				assert.NotErrorIs(t, err, signin.ErrNotFound, what)
			}
			switch method {
			case "SignIn":
				_, err := m.Finish(ctx, tok, dev.Code())
				check("Finish", err)
				check("Cancel", m.Cancel(ctx, tok))
			case "SignIns":
				_, err := m.List(ctx, "alice")
				check("List", err)
			case "ChargeSignIn":
				_, err := m.Finish(ctx, tok, dev.Code())
				check("Finish", err)
			case "RefundSignIn":
				_, err := m.Finish(ctx, tok, "12345") // malformed: given back
				assert.ErrorIs(t, err, twofa.ErrMalformedCode)
				check("Finish", err)
			case "DeleteSignIn":
				fin, err := m.Finish(ctx, tok, dev.Code())
				check("Finish", err)
				assert.Zero(t, fin.Result)
				check("Cancel", m.Cancel(ctx, tok))
			case "DeleteSignIns":
				_, err := m.RevokeAll(ctx, "alice")
				check("RevokeAll", err)
				assert.ErrorIs(t, e.TwoFA.PasswordChanged(ctx, "alice"), errBroken)
			case "DeleteExpiredSignIns":
				_, err := m.Purge(ctx)
				check("Purge", err)
				_, err = e.TwoFA.Purge(ctx)
				assert.ErrorIs(t, err, errBroken)
			}
		})
	}
}
