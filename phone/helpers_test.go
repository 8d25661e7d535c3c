package phone_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/twofatest"
)

// errOf drops the twofa.Change of a factor change, for assertions on its
// error.
func errOf(_ twofa.Change, err error) error { return err }

// newInstall builds an installation from c with its phones from pc, as
// the Env does, for tests that build one from a changed Config.
func newInstall(c twofa.Config, pc phone.Config) (*twofa.TwoFA, *phone.Manager, error) {
	tf, err := twofa.New(c)
	if err != nil {
		return nil, nil, err
	}
	p, err := phone.New(tf, pc)
	if err != nil {
		return nil, nil, err
	}
	return tf, p, nil
}

// newPhones is newInstall's phones alone.
func newPhones(c twofa.Config, pc phone.Config) (*phone.Manager, error) {
	_, p, err := newInstall(c, pc)
	return p, err
}

// cfgDefaults returns the resolved default Config (TwoFA.Config), for
// tests that read a default.
func cfgDefaults(t testing.TB) twofa.Config {
	t.Helper()
	return twofatest.New(t).TwoFA.Config()
}

// mustInstall is newInstall, failing the test on error.
func mustInstall(t testing.TB, c twofa.Config, pc phone.Config) (*twofa.TwoFA, *phone.Manager) {
	t.Helper()
	tf, p, err := newInstall(c, pc)
	require.NoError(t, err)
	return tf, p
}
