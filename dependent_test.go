package twofa_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/twofatest"
)

// fakeDependent records the RevokeAll calls it gets, and what the account
// still had of its app passwords at each call.
type fakeDependent struct {
	name  string
	calls *[]string
	apps  *twofa.AppPasswords
	err   error
	mu    *sync.Mutex
	left  *[]int
}

func (d fakeDependent) RevokeAll(ctx context.Context, account string) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	*d.calls = append(*d.calls, d.name+":"+account)
	if d.apps != nil {
		list, err := d.apps.List(ctx, account)
		if err != nil {
			return 0, err
		}
		*d.left = append(*d.left, len(list))
	}
	return 1, d.err
}

type depRecorder struct {
	mu    sync.Mutex
	calls []string
	left  []int
}

func (r *depRecorder) dep(name string, tf *twofa.TwoFA, err error) fakeDependent {
	return fakeDependent{name: name, calls: &r.calls, apps: tf.AppPasswords, err: err, mu: &r.mu, left: &r.left}
}

// TestDependentPasswordChanged: PasswordChanged calls every attached
// Dependent, in attach order, after the app passwords are revoked, and
// joins their errors with the others.
func TestDependentPasswordChanged(t *testing.T) {
	env := twofatest.New(t)
	ctx := t.Context()
	tf, err := twofa.New(env.Config)
	require.NoError(t, err)
	env.EnrollTOTP("alice")
	_, _, err = tf.AppPasswords.Create(ctx, "alice", "mail")
	require.NoError(t, err)

	var r depRecorder
	boom1, boom2 := errors.New("boom 1"), errors.New("boom 2")
	tf.Attach(r.dep("a", tf, boom1))
	tf.Attach(r.dep("b", tf, boom2))
	err = tf.PasswordChanged(ctx, "alice")
	assert.ErrorIs(t, err, boom1)
	assert.ErrorIs(t, err, boom2, "every dependent runs, errors joined")
	assert.Equal(t, []string{"a:alice", "b:alice"}, r.calls)
	assert.Equal(t, []int{0, 0}, r.left, "app passwords are revoked first")

	// An invalid account reaches no dependent.
	r.calls = nil
	assert.ErrorIs(t, tf.PasswordChanged(ctx, ""), twofa.ErrInvalidAccount)
	assert.Empty(t, r.calls)
}

// TestDependentTwoFactorOff: the last device revoked calls the dependents
// after the recovery codes and app passwords are gone; the first error
// stops the rest and is returned. A pending device revoked, or a device
// revoked while another is left, calls none.
func TestDependentTwoFactorOff(t *testing.T) {
	env := twofatest.New(t)
	ctx := t.Context()
	tf, err := twofa.New(env.Config)
	require.NoError(t, err)
	var r depRecorder
	tf.Attach(r.dep("a", tf, nil))
	tf.Attach(r.dep("b", tf, nil))

	d1, d2 := env.EnrollTOTP("alice"), env.EnrollTOTP("alice")
	_, _, err = tf.AppPasswords.Create(ctx, "alice", "mail")
	require.NoError(t, err)
	e, err := tf.Devices.Enroll(ctx, "alice", "pending", twofa.EnrollOptions{})
	require.NoError(t, err)
	require.NoError(t, errOf(tf.Devices.Revoke(ctx, "alice", e.Device.ID)))
	require.NoError(t, errOf(tf.Devices.Revoke(ctx, "alice", d1.ID)))
	assert.Empty(t, r.calls, "two-factor is still on")
	require.NoError(t, errOf(tf.Devices.Revoke(ctx, "alice", d2.ID)))
	assert.Equal(t, []string{"a:alice", "b:alice"}, r.calls)
	assert.Equal(t, []int{0, 0}, r.left)

	// The first failing dependent stops the others.
	tf2, err := twofa.New(env.Config)
	require.NoError(t, err)
	var r2 depRecorder
	boom := errors.New("boom")
	tf2.Attach(r2.dep("a", tf2, boom))
	tf2.Attach(r2.dep("b", tf2, nil))
	d3 := env.EnrollTOTP("bob")
	assert.ErrorIs(t, errOf(tf2.Devices.Revoke(ctx, "bob", d3.ID)), boom)
	assert.Equal(t, []string{"a:bob"}, r2.calls)
}

// TestDependentPerInstallation: dependents attached to one installation
// are not another's, even one built from its Config.
func TestDependentPerInstallation(t *testing.T) {
	env := twofatest.New(t)
	tf, err := twofa.New(env.Config)
	require.NoError(t, err)
	var r depRecorder
	tf.Attach(r.dep("a", tf, nil))
	other, err := twofa.New(tf.Config())
	require.NoError(t, err)
	require.NoError(t, other.PasswordChanged(t.Context(), "alice"))
	assert.Empty(t, r.calls)
}

// TestAttachConcurrent attaches while PasswordChanged runs (run with
// -race): every call sees a consistent list, and the last one sees all.
func TestAttachConcurrent(t *testing.T) {
	env := twofatest.New(t)
	tf, err := twofa.New(env.Config)
	require.NoError(t, err)
	var r depRecorder
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(2)
		go func() { defer wg.Done(); tf.Attach(fakeDependent{name: "d", calls: &r.calls, mu: &r.mu}) }()
		go func() { defer wg.Done(); assert.NoError(t, tf.PasswordChanged(context.Background(), "alice")) }()
	}
	wg.Wait()
	r.calls = nil
	require.NoError(t, tf.PasswordChanged(context.Background(), "alice"))
	assert.Len(t, r.calls, 20)
}
