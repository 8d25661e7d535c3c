package twofa_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/twofatest"
)

// importKey imports a new TOTP key for account.
func importKey(t *testing.T, d *twofa.Devices, account, label string) (twofa.DeviceInfo, twofa.Change) {
	t.Helper()
	info, ch, err := d.Import(t.Context(), account, label, twofa.Key{Account: account, Secret: devSecret(t)})
	require.NoError(t, err)
	return info, ch
}

// TestConfirmReportsTurnedOn: the confirmation that turns two-factor
// authentication on says so, and only that one; the revocation of the last
// factor says it turned off.
func TestConfirmReportsTurnedOn(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	e := devEnroll(t, env, "alice", twofa.EnrollOptions{})
	ch, err := env.Devices.Confirm(ctx, "alice", e.Device.ID, devKeyCode(t, e.Key, env.Clock.Now()))
	require.NoError(t, err)
	assert.Equal(t, twofa.Change{TurnedOn: true}, ch)
	assert.Equal(t, 1, env.Events.Count(twofa.EventTwoFactorEnabled))

	second, ch := importKey(t, env.Devices, "alice", "second")
	assert.Equal(t, twofa.Change{}, ch, "two-factor was on already")
	e3 := devEnroll(t, env, "alice", twofa.EnrollOptions{})
	ch, err = env.Devices.Confirm(ctx, "alice", e3.Device.ID, devKeyCode(t, e3.Key, env.Clock.Now()))
	require.NoError(t, err)
	assert.Equal(t, twofa.Change{}, ch)

	ch, err = env.Devices.Revoke(ctx, "alice", second.ID)
	require.NoError(t, err)
	assert.Equal(t, twofa.Change{}, ch, "devices are left")
	ch, err = env.Devices.Revoke(ctx, "alice", e3.Device.ID)
	require.NoError(t, err)
	assert.Equal(t, twofa.Change{}, ch)
	ch, err = env.Devices.Revoke(ctx, "alice", e.Device.ID)
	require.NoError(t, err)
	assert.Equal(t, twofa.Change{TurnedOff: true}, ch)
	assert.Equal(t, 1, env.Events.Count(twofa.EventTwoFactorDisabled))
	assert.Equal(t, 1, env.Events.Count(twofa.EventTwoFactorEnabled))
}

// TestConcurrentFirstFactors: of concurrent first imports exactly one
// reports that it turned two-factor authentication on, within one
// installation and across installations (replicas) sharing a store; the
// first recovery codes issued on that report survive.
func TestConcurrentFirstFactors(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	replicas := []*twofa.TwoFA{env.TwoFA}
	for range 3 {
		tf, err := twofa.New(env.Config)
		require.NoError(t, err)
		replicas = append(replicas, tf)
	}
	for trial := range 20 {
		account := fmt.Sprint("acct", trial)
		const n = 8 // below Config.Devices.Max
		var on atomic.Int32
		var codes atomic.Pointer[[]string]
		var wg sync.WaitGroup
		for i := range n {
			tf := replicas[i%len(replicas)]
			wg.Go(func() {
				_, ch, err := tf.Devices.Import(context.Background(), account, fmt.Sprint("d", i), twofa.Key{Account: account, Secret: devSecret(t)})
				if !assert.NoError(t, err) || !ch.TurnedOn {
					return
				}
				on.Add(1)
				cs, err := tf.Recovery.Generate(context.Background(), account)
				if assert.NoError(t, err) {
					codes.Store(&cs)
				}
			})
		}
		wg.Wait()
		require.Equal(t, int32(1), on.Load(), "trial %d: exactly one import turned two-factor on", trial)
		require.NotNil(t, codes.Load())
		res, err := env.TwoFA.Verify(t.Context(), account, (*codes.Load())[0])
		require.NoError(t, err, "trial %d: the first set is live", trial)
		assert.Equal(t, twofa.FactorRecoveryCode, res.Factor)
	}
	assert.Equal(t, 20, env.Events.Count(twofa.EventTwoFactorEnabled))
}

// TestRevokePendingKeepsDependents: revoking a pending device (an
// abandoned enrolment) voids nothing and reports no change.
func TestRevokePendingKeepsDependents(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	env.EnrollTOTP("alice")
	codes, err := env.Recovery.Generate(ctx, "alice")
	require.NoError(t, err)
	pw, _, err := env.AppPasswords.Create(ctx, "alice", "Mail")
	require.NoError(t, err)
	e := devEnroll(t, env, "alice", twofa.EnrollOptions{})
	ch, err := env.Devices.Revoke(ctx, "alice", e.Device.ID)
	require.NoError(t, err)
	assert.Equal(t, twofa.Change{}, ch)
	assert.Equal(t, len(codes), rcRemaining(t, env, "alice"))
	_, err = env.AppPasswords.Verify(ctx, "alice", pw)
	assert.NoError(t, err)
	assert.Zero(t, env.Events.Count(twofa.EventTwoFactorDisabled))
}

// TestDisable: turning two-factor authentication off removes every
// factor, pending ones included, and voids what depended on it; the
// throttles stay. Disabling an account that has it off already reports
// nothing.
func TestDisable(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	env.EnrollTOTP("alice")
	env.EnrollTOTP("bob")
	importKey(t, env.Devices, "alice", "second")
	codes, err := env.Recovery.Generate(ctx, "alice")
	require.NoError(t, err)
	pw, _, err := env.AppPasswords.Create(ctx, "alice", "Mail")
	require.NoError(t, err)
	tok := env.TrustBrowser("alice", "Firefox")
	devEnroll(t, env, "alice", twofa.EnrollOptions{}) // pending
	_, err = env.TwoFA.Verify(ctx, "alice", "000000")
	require.Error(t, err)

	require.NoError(t, env.TwoFA.Disable(ctx, "alice"))
	on, err := env.TwoFA.Enabled(ctx, "alice")
	require.NoError(t, err)
	assert.False(t, on)
	assert.Empty(t, devList(t, env, "alice"), "every device removed, pending ones too")
	assert.Zero(t, rcRemaining(t, env, "alice"))
	_, err = env.AppPasswords.Verify(ctx, "alice", pw)
	assert.ErrorIs(t, err, twofa.ErrInvalidAppPassword)
	_, err = env.Browsers.Check(ctx, "alice", tok)
	assert.Error(t, err)
	_, err = env.TwoFA.Verify(ctx, "alice", codes[0])
	assert.ErrorIs(t, err, twofa.ErrNotEnrolled)
	assert.Equal(t, 1, env.Events.Count(twofa.EventTwoFactorDisabled))
	st, err := env.Store.Throttle(ctx, "alice", twofa.ScopeCode)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Failures, "Disable keeps the throttle")

	// Bob is untouched.
	on, err = env.TwoFA.Enabled(ctx, "bob")
	require.NoError(t, err)
	assert.True(t, on)

	require.NoError(t, env.TwoFA.Disable(ctx, "alice"))
	assert.Equal(t, 1, env.Events.Count(twofa.EventTwoFactorDisabled), "nothing was on")
	assert.ErrorIs(t, env.TwoFA.Disable(ctx, ""), twofa.ErrInvalidAccount)
}

// TestReset: an admin reset is Disable and a throttle reset.
func TestReset(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	ctx := t.Context()
	env.EnrollTOTP("alice")
	_, err := env.TwoFA.Verify(ctx, "alice", "000000")
	require.Error(t, err)
	require.NoError(t, env.TwoFA.Reset(ctx, "alice"))
	assert.Empty(t, devList(t, env, "alice"))
	for _, scope := range []string{twofa.ScopeCode, twofa.ScopeRecovery, twofa.ScopeAppPassword} {
		st, err := env.Store.Throttle(ctx, "alice", scope)
		require.NoError(t, err)
		assert.Zero(t, st, scope)
	}
	assert.Equal(t, 1, env.Events.Count(twofa.EventTwoFactorDisabled))
	assert.ErrorIs(t, env.TwoFA.Reset(ctx, "\x00"), twofa.ErrInvalidAccount)
}

// TestLifecycleLockWaitsForLease: a change waits while another replica
// holds the account's lease, and goes on once it is released.
func TestLifecycleLockWaitsForLease(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	d := env.EnrollTOTP("alice")
	now := time.Now()
	ok, err := env.Store.AcquireLock(t.Context(), "alice", "other replica", now, now.Add(time.Hour))
	require.NoError(t, err)
	require.True(t, ok)
	var done atomic.Bool
	result := make(chan error, 1)
	go func() {
		_, err := env.Devices.Revoke(context.Background(), "alice", d.ID)
		done.Store(true)
		result <- err
	}()
	time.Sleep(50 * time.Millisecond)
	assert.False(t, done.Load(), "the revocation waits for the other replica's lease")
	assert.Len(t, devList(t, env, "alice"), 1)
	require.NoError(t, env.Store.ReleaseLock(t.Context(), "alice", "other replica"))
	require.NoError(t, <-result)
	assert.Empty(t, devList(t, env, "alice"))
	// The revocation gave its lease back.
	ok, err = env.Store.AcquireLock(t.Context(), "alice", "other replica", time.Now(), time.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.True(t, ok)
}

// TestLifecycleLockContext: a change that cannot get the lock before its
// context ends fails with the context's error and changes nothing.
func TestLifecycleLockContext(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	d := env.EnrollTOTP("alice")
	now := time.Now()
	ok, err := env.Store.AcquireLock(t.Context(), "alice", "other replica", now, now.Add(time.Hour))
	require.NoError(t, err)
	require.True(t, ok)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	_, err = env.Devices.Revoke(ctx, "alice", d.ID)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	_, err = env.Recovery.Generate(ctx, "alice")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Len(t, devList(t, env, "alice"), 1)
	assert.Zero(t, rcRemaining(t, env, "alice"))
}

// TestLifecycleLockDeadHolder: the lease of a replica that died holding
// it lapses, and the next change goes on.
func TestLifecycleLockDeadHolder(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	d := env.EnrollTOTP("alice")
	now := time.Now()
	ok, err := env.Store.AcquireLock(t.Context(), "alice", "dead replica", now, now.Add(100*time.Millisecond))
	require.NoError(t, err)
	require.True(t, ok)
	ch, err := env.Devices.Revoke(t.Context(), "alice", d.ID)
	require.NoError(t, err)
	assert.True(t, ch.TurnedOff)
}

// releaseFails is a store whose ReleaseLock always fails.
type releaseFails struct{ *memstore.Store }

func (releaseFails) ReleaseLock(context.Context, string, string) error { return errBoom }

// TestLifecycleLockLeakedLease: a lease the installation could not give
// back does not block its own next change (the installation is the
// holder), and the change's result is not turned into an error.
func TestLifecycleLockLeakedLease(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	env.Reconfigure(func(c *twofa.Config) { c.Store = releaseFails{env.Store} })
	d := env.EnrollTOTP("alice")
	_, ch := importKey(t, env.Devices, "alice", "second")
	assert.Equal(t, twofa.Change{}, ch)
	ch, err := env.Devices.Revoke(t.Context(), "alice", d.ID)
	require.NoError(t, err)
	assert.Equal(t, twofa.Change{}, ch)
	// The lease is still in the store, the installation's: another
	// replica waits for it.
	ok, err := env.Store.AcquireLock(t.Context(), "alice", "other replica", time.Now(), time.Now().Add(time.Minute))
	require.NoError(t, err)
	assert.False(t, ok, "the leaked lease is held")
}

// acquireFails is a store whose AcquireLock always fails.
type acquireFails struct{ *memstore.Store }

func (acquireFails) AcquireLock(context.Context, string, string, time.Time, time.Time) (bool, error) {
	return false, errBoom
}

// TestLifecycleLockStoreError: a change whose lock the store cannot take
// fails with the store's error and changes nothing; Verify, which takes
// no lock, still works.
func TestLifecycleLockStoreError(t *testing.T) {
	t.Parallel()
	env := twofatest.New(t)
	d := env.EnrollTOTP("alice")
	env.Reconfigure(func(c *twofa.Config) { c.Store = acquireFails{env.Store} })
	ctx := t.Context()
	_, err := env.Devices.Revoke(ctx, "alice", d.ID)
	require.ErrorIs(t, err, errBoom)
	_, err = env.Recovery.Generate(ctx, "alice")
	require.ErrorIs(t, err, errBoom)
	_, _, err = env.AppPasswords.Create(ctx, "alice", "Mail")
	require.ErrorIs(t, err, errBoom)
	require.ErrorIs(t, env.TwoFA.Disable(ctx, "alice"), errBoom)
	require.ErrorIs(t, env.TwoFA.PasswordChanged(ctx, "alice"), errBoom)
	assert.Len(t, devList(t, env, "alice"), 1, "nothing changed")
	assert.Zero(t, rcRemaining(t, env, "alice"))
	env.Clock.Advance(time.Minute)
	_, err = env.TwoFA.Verify(ctx, "alice", d.Code())
	assert.NoError(t, err)
}
