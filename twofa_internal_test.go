package twofa

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOneResolvedConfig: every part of an installation reads the same
// resolved Config, so none can disagree with another.
func TestOneResolvedConfig(t *testing.T) {
	t.Parallel()
	type stubStore struct{ Store }     // New calls no store method
	type stubKeyring struct{ Keyring } // nor a keyring method
	tf, err := New(Config{
		Store: stubStore{}, Keyring: stubKeyring{}, Issuer: "Example",
	})
	require.NoError(t, err)
	for name, c := range map[string]*Config{
		"Devices":      tf.Devices.c,
		"Recovery":     tf.Recovery.c,
		"AppPasswords": tf.AppPasswords.c,
	} {
		assert.Same(t, tf.c, c, "%s holds a Config of its own", name)
	}
}
