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

func (f failing) ChargeSignIn(ctx context.Context, account, id string, limit int, mac, next []byte) (int, bool, error) {
	if err := f.err("ChargeSignIn"); err != nil {
		return 0, false, err
	}
	return f.Store.ChargeSignIn(ctx, account, id, limit, mac, next)
}

func (f failing) RefundSignIn(ctx context.Context, account, id string, mac, next []byte) (bool, error) {
	if err := f.err("RefundSignIn"); err != nil {
		return false, err
	}
	return f.Store.RefundSignIn(ctx, account, id, mac, next)
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

// tampering hands Manager records changed by f, as someone who can write
// to the store but holds no key would leave them.
type tampering struct {
	signin.Store
	f func(*signin.Record)
}

func (s tampering) SignIn(ctx context.Context, digest []byte) (signin.Record, error) {
	r, err := s.Store.SignIn(ctx, digest)
	if err == nil {
		s.f(&r)
	}
	return r, err
}

func (s tampering) SignIns(ctx context.Context, account string) ([]signin.Record, error) {
	rs, err := s.Store.SignIns(ctx, account)
	for i := range rs {
		s.f(&rs[i])
	}
	return rs, err
}

// TestTamperedRecords: a record whose bound fields changed, or that has
// no MAC, is refused by Finish, Lookup and List - ErrNotFound and
// twofa.ErrTampered, a *twofa.TamperedError, an EventTampered - before
// any code is evaluated.
func TestTamperedRecords(t *testing.T) {
	edits := map[string]func(*signin.Record){
		"account":    func(r *signin.Record) { r.Account = "mallory" },
		"id":         func(r *signin.Record) { r.ID += "x" },
		"attempts":   func(r *signin.Record) { r.Attempts-- },
		"expires_at": func(r *signin.Record) { r.ExpiresAt = r.ExpiresAt.Add(time.Hour) },
		"created_at": func(r *signin.Record) { r.CreatedAt = r.CreatedAt.Add(-time.Nanosecond) },
		"label":      func(r *signin.Record) { r.Label = "Safari on macOS" },
		"ip":         func(r *signin.Record) { r.IP = "198.51.100.1" },
		"mac":        func(r *signin.Record) { r.MAC = r.MAC[:len(r.MAC)-1] },
		"no mac":     func(r *signin.Record) { r.MAC = nil },
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			e := twofatest.New(t)
			dev := e.EnrollTOTP("alice")
			e.EnrollTOTP("mallory")
			m, err := signin.New(e.TwoFA, signin.Config{})
			require.NoError(t, err)
			tok, _, err := m.Begin(t.Context(), "alice", req)
			require.NoError(t, err)
			_, err = m.Finish(t.Context(), tok, wrongCode(dev.Code())) // one attempt charged
			require.ErrorIs(t, err, twofa.ErrInvalidCode)

			bad, err := signin.New(e.TwoFA, signin.Config{Store: tampering{Store: e.Store, f: edit}})
			require.NoError(t, err)
			verified := e.Events.Count(twofa.EventVerified)
			e.Clock.Advance(30 * time.Second)
			_, err = bad.Finish(t.Context(), tok, dev.Code())
			require.ErrorIs(t, err, signin.ErrNotFound)
			require.ErrorIs(t, err, twofa.ErrTampered)
			var te *twofa.TamperedError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, twofa.RecordSignIn, te.Record)
			assert.Equal(t, name == "no mac", te.Missing)
			assert.NotContains(t, err.Error(), tok)
			_, err = bad.Lookup(t.Context(), tok)
			require.ErrorIs(t, err, twofa.ErrTampered)
			list, err := bad.List(t.Context(), "alice")
			require.NoError(t, err)
			assert.Empty(t, list)
			assert.Equal(t, 3, e.Events.Count(twofa.EventTampered))
			assert.Equal(t, verified, e.Events.Count(twofa.EventVerified), "a code was evaluated for a tampered sign-in")
			for _, ev := range e.Events.Events() {
				if ev.Type == twofa.EventTampered {
					assert.NotEmpty(t, ev.SignInID)
				}
			}

			// The untampered record is intact: one attempt charged, and
			// the code unspent.
			fin, err := m.Finish(t.Context(), tok, dev.Code())
			require.NoError(t, err)
			assert.Equal(t, 2, fin.Info.Attempts)
		})
	}
}

// churning is a store under which every charge and refund loses its
// compare-and-set, as if concurrent Finish calls always changed the
// record first; it counts the charges and refunds asked of it.
type churning struct {
	signin.Store
	charges, refunds *atomic.Int32
}

func (s churning) ChargeSignIn(_ context.Context, _, _ string, _ int, _, _ []byte) (int, bool, error) {
	s.charges.Add(1)
	return 0, false, nil
}

func (s churning) RefundSignIn(_ context.Context, _, _ string, _, _ []byte) (bool, error) {
	s.refunds.Add(1)
	return false, nil
}

// TestFinishContended: a Finish whose charge keeps losing to concurrent
// changes gives up after a bounded number of rounds, with an error and
// without evaluating the code; a refund that keeps losing leaves the try
// counted (the safe side) and returns Verify's error.
func TestFinishContended(t *testing.T) {
	e := twofatest.New(t)
	dev := e.EnrollTOTP("alice")
	var charges, refunds atomic.Int32
	m, err := signin.New(e.TwoFA, signin.Config{Store: churning{Store: e.Store, charges: &charges, refunds: &refunds}})
	require.NoError(t, err)
	tok, _, err := m.Begin(t.Context(), "alice", req)
	require.NoError(t, err)
	verified := e.Events.Count(twofa.EventVerified)
	_, err = m.Finish(t.Context(), tok, dev.Code())
	require.Error(t, err)
	assert.NotErrorIs(t, err, signin.ErrNotFound)
	assert.Equal(t, int32(4*signin.DefaultMaxAttempts+8), charges.Load(), "rounds")
	assert.Equal(t, verified, e.Events.Count(twofa.EventVerified), "the code was evaluated")

	// The refund: charge through the real store, refund through the
	// churning one.
	refunding := signin.Config{Store: refundChurn{Store: e.Store, refunds: &refunds}}
	m, err = signin.New(e.TwoFA, refunding)
	require.NoError(t, err)
	fin, err := m.Finish(t.Context(), tok, "12345") // malformed: not evaluated, so refunded
	require.ErrorIs(t, err, twofa.ErrMalformedCode)
	assert.Equal(t, 1, fin.Info.Attempts, "a refund that keeps losing leaves the try counted")
	assert.Equal(t, int32(4*signin.DefaultMaxAttempts+8), refunds.Load())
}

// refundChurn loses every refund's compare-and-set.
type refundChurn struct {
	signin.Store
	refunds *atomic.Int32
}

func (s refundChurn) RefundSignIn(_ context.Context, _, _ string, _, _ []byte) (bool, error) {
	s.refunds.Add(1)
	return false, nil
}

// vanishing loses the first charge's compare-and-set to a change that
// then ends the record (gone), or makes the read that follows fail
// (readErr).
type vanishing struct {
	signin.Store
	gone    bool
	readErr error
	lost    *atomic.Bool
}

func (s vanishing) ChargeSignIn(ctx context.Context, account, id string, limit int, mac, next []byte) (int, bool, error) {
	if s.lost.CompareAndSwap(false, true) {
		if s.gone {
			if err := s.Store.DeleteSignIn(ctx, account, id); err != nil {
				return 0, false, err
			}
		}
		return 0, false, nil
	}
	return s.Store.ChargeSignIn(ctx, account, id, limit, mac, next)
}

func (s vanishing) SignIn(ctx context.Context, digest []byte) (signin.Record, error) {
	if s.lost.Load() && s.readErr != nil {
		return signin.Record{}, s.readErr
	}
	return s.Store.SignIn(ctx, digest)
}

// TestFinishRereadAfterLostCharge: after a lost compare-and-set the
// record is read again: gone by then, the sign-in is ErrNotFound; a read
// that fails is Finish's error; a record still there is charged.
func TestFinishRereadAfterLostCharge(t *testing.T) {
	boom := errors.New("store down")
	for name, tc := range map[string]struct {
		gone    bool
		readErr error
		want    error
	}{
		"gone":        {gone: true, want: signin.ErrNotFound},
		"read fails":  {readErr: boom, want: boom},
		"still there": {},
	} {
		t.Run(name, func(t *testing.T) {
			e := twofatest.New(t)
			dev := e.EnrollTOTP("alice")
			var lost atomic.Bool
			m, err := signin.New(e.TwoFA, signin.Config{Store: vanishing{Store: e.Store, gone: tc.gone, readErr: tc.readErr, lost: &lost}})
			require.NoError(t, err)
			tok, _, err := m.Begin(t.Context(), "alice", req)
			require.NoError(t, err)
			fin, err := m.Finish(t.Context(), tok, dev.Code())
			require.True(t, lost.Load())
			if tc.want == nil {
				require.NoError(t, err)
				assert.Equal(t, 1, fin.Info.Attempts)
				return
			}
			require.ErrorIs(t, err, tc.want)
			_, err = e.TwoFA.Verify(t.Context(), "alice", dev.Code())
			require.NoError(t, err, "the code was spent by a Finish that failed")
		})
	}
}
